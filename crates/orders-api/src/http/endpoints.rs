//! Webhook endpoints: create (the secret is shown once), list, get, update, delete.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use domain::event::Event;
use domain::event::EventType;
use domain::ids::{DeliveryId, EndpointId};
use domain::signing::SigningSecret;
use domain::target::WebhookUrl;
use domain::validation::{self, FieldErrors};
use serde::Serialize;
use serde::{Deserialize, Deserializer};

use super::AppState;
use super::auth::Customer;
use super::error::{Error, Result};
use super::extract::{Json, OptionalJson, Query};
use super::pagination::{self, Page};
use super::views::EndpointView;
use crate::db::endpoints::{self, Endpoint, Patch};
use domain::state::DisabledReason;

/// The endpoint routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook-endpoints", get(list).post(create))
        .route(
            "/v1/webhook-endpoints/{id}",
            get(fetch).patch(update).delete(remove),
        )
        .route("/v1/webhook-endpoints/{id}/test", post(send_test))
        .route(
            "/v1/webhook-endpoints/{id}/rotate-secret",
            post(rotate_secret),
        )
        .route("/v1/webhook-endpoints/{id}/recover", post(recover))
}

/// The longest grace period of a rotated secret (7 days).
pub const MAX_GRACE_SECONDS: u64 = 604_800;
/// The grace period when none is given (24 h).
pub const DEFAULT_GRACE_SECONDS: u64 = 86_400;
/// The most deliveries one recover call re-opens; call again for more.
pub const RECOVER_LIMIT: u32 = 10_000;

fn endpoint_id(raw: &str) -> Result<EndpointId> {
    EndpointId::parse(raw).map_err(|_| Error::NotFound)
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A new webhook endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hooks.example.com/mechanica",
    "description": "Order updates for the ERP",
    "event_types": ["order.created", "order.status_changed"]
}))]
pub(crate) struct CreateEndpoint {
    /// An `http(s)` URL whose host resolves only to public addresses.
    #[schema(schema_with = super::openapi::webhook_url, required = true)]
    url: Option<String>,
    #[schema(schema_with = super::openapi::optional_text::<500>)]
    description: Option<String>,
    #[schema(schema_with = super::openapi::event_types_schema)]
    event_types: Option<Vec<String>>,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateEndpoint {
    #[schema(schema_with = super::openapi::optional_webhook_url)]
    url: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = super::openapi::optional_text::<500>)]
    description: Option<Option<String>>,
    /// `null` subscribes to every type.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = super::openapi::event_types_schema)]
    event_types: Option<Option<Vec<String>>>,
    /// `false` disables it (its pending deliveries fail); `true` enables it again.
    #[schema(value_type = Option<bool>)]
    enabled: Option<bool>,
}

fn event_types(types: Vec<String>, errors: &mut FieldErrors) -> Option<Vec<EventType>> {
    if types.is_empty() {
        errors.add(
            "event_types",
            "must list at least one event type, or be omitted for all",
        );
        return None;
    }
    let mut parsed = Vec::new();
    for (i, name) in types.iter().enumerate() {
        match EventType::parse(name) {
            Some(t) if !parsed.contains(&t) => parsed.push(t),
            Some(_) => errors.add(format!("event_types[{i}]"), "is listed twice"),
            None => errors.add(
                format!("event_types[{i}]"),
                format!(
                    "is not an event type; expected one of {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                ),
            ),
        }
    }
    Some(parsed)
}

/// Parses and vets a target URL: the SSRF policy applies at registration too.
async fn url(state: &AppState, raw: &str, errors: &mut FieldErrors) -> Option<WebhookUrl> {
    let url = match WebhookUrl::parse(raw) {
        Ok(url) => url,
        Err(e) => {
            errors.add("url", e.to_string());
            return None;
        }
    };
    if let Err(refused) = state.guard.vet(&url).await {
        errors.add(
            "url",
            format!("cannot be used as a webhook target: {refused}"),
        );
        return None;
    }
    Some(url)
}

/// Registers a webhook endpoint; the signing secret is shown only in this response.
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints",
    operation_id = "createWebhookEndpoint", tag = "webhooks", request_body = CreateEndpoint,
    responses((status = 201, description = "The endpoint with its `secret`", body = EndpointView),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::PayloadTooLarge, super::openapi::UnsupportedMediaType,
        super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    customer: Customer,
    Json(body): Json<CreateEndpoint>,
) -> Result<(StatusCode, axum::Json<EndpointView>)> {
    let mut errors = FieldErrors::new();
    let url = match body.url.as_deref() {
        Some(raw) => url(&state, raw, &mut errors).await,
        None => {
            errors.missing("url");
            None
        }
    };
    validation::optional_text(&mut errors, "description", body.description.as_deref(), 500);
    let types = body
        .event_types
        .map(|types| event_types(types, &mut errors));
    let (Some(url), true) = (url, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let now = domain::time::now();
    let endpoint = Endpoint {
        id: EndpointId::new(),
        customer_id: customer.customer_id,
        url: url.to_string(),
        description: body.description,
        event_types: types.flatten(),
        enabled: true,
        disabled_reason: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    let secret = SigningSecret::generate();
    let sealed = state
        .keyring
        .seal(endpoint.id.as_str(), secret.as_bytes())
        .map_err(|e| Error::Internal(e.into()))?;
    let mut tx = state.pool.begin().await?;
    endpoints::insert(&mut tx, &endpoint).await?;
    endpoints::insert_secret(&mut tx, &endpoint.id, &sealed).await?;
    tx.commit().await?;
    let mut view = EndpointView::from(endpoint);
    view.secret = Some(secret.to_whsec());
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Paging of the endpoint list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^ep_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
}

/// Lists your endpoints, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints",
    operation_id = "listWebhookEndpoints", tag = "webhooks", params(ListQuery),
    responses((status = 200, description = "A page of endpoints", body = super::pagination::Page<EndpointView>),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    customer: Customer,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<EndpointView>>> {
    let limit = pagination::limit(query.limit)?;
    let before = pagination::decode(query.cursor.as_deref(), |id| EndpointId::parse(id).ok())?;
    let mut conn = state.pool.acquire().await?;
    let items =
        endpoints::list(&mut conn, &customer.customer_id, before.as_ref(), limit + 1).await?;
    Ok(axum::Json(pagination::page(
        items,
        limit,
        |e| e.id.as_str(),
        EndpointView::from,
    )))
}

/// One endpoint.
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints/{id}",
    operation_id = "getWebhookEndpoint", tag = "webhooks", params(("id" = String, Path, description = "`ep_…`")),
    responses((status = 200, description = "The endpoint", body = EndpointView),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn fetch(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
) -> Result<axum::Json<EndpointView>> {
    let id = endpoint_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    let endpoint = endpoints::find(&mut conn, &customer.customer_id, &id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(axum::Json(endpoint.into()))
}

/// Updates an endpoint.
#[utoipa::path(
    patch,
    path = "/v1/webhook-endpoints/{id}",
    operation_id = "updateWebhookEndpoint", tag = "webhooks", params(("id" = String, Path, description = "`ep_…`")), request_body = UpdateEndpoint,
    responses((status = 200, description = "The endpoint", body = EndpointView),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::PayloadTooLarge,
        super::openapi::UnsupportedMediaType, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn update(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
    Json(body): Json<UpdateEndpoint>,
) -> Result<axum::Json<EndpointView>> {
    let id = endpoint_id(&id)?;
    let mut errors = FieldErrors::new();
    let url = match body.url.as_deref() {
        Some(raw) => url(&state, raw, &mut errors).await.map(|u| u.to_string()),
        None => None,
    };
    if let Some(Some(description)) = &body.description {
        validation::text(&mut errors, "description", description, 500);
    }
    let event_types = body
        .event_types
        .map(|types| types.and_then(|types| event_types(types, &mut errors)));
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let patch = Patch {
        url,
        description: body.description,
        event_types,
        enable: body.enabled == Some(true),
    };
    let mut tx = state.pool.begin().await?;
    endpoints::find(&mut tx, &customer.customer_id, &id)
        .await?
        .ok_or(Error::NotFound)?;
    endpoints::update(&mut tx, &customer.customer_id, &id, &patch).await?;
    if body.enabled == Some(false) {
        delivery::store::disable_endpoint(&mut tx, &id, DisabledReason::DisabledByCustomer).await?;
    }
    let endpoint = endpoints::find(&mut tx, &customer.customer_id, &id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(axum::Json(endpoint.into()))
}

/// Deletes an endpoint; its pending deliveries fail with `endpoint_disabled`.
#[utoipa::path(
    delete,
    path = "/v1/webhook-endpoints/{id}",
    operation_id = "deleteWebhookEndpoint", tag = "webhooks", params(("id" = String, Path, description = "`ep_…`")),
    responses((status = 204, description = "Deleted"),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = endpoint_id(&id)?;
    let mut tx = state.pool.begin().await?;
    if !endpoints::delete(&mut tx, &customer.customer_id, &id).await? {
        return Err(Error::NotFound);
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A live, enabled endpoint of the caller, or the reason it cannot be used.
async fn usable_endpoint(
    conn: &mut sqlx::MySqlConnection,
    customer: &Customer,
    id: &EndpointId,
) -> Result<Endpoint> {
    let endpoint = endpoints::find(conn, &customer.customer_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !endpoint.enabled {
        return Err(Error::Conflict {
            slug: "endpoint-disabled",
            detail: "the endpoint is disabled; enable it first".into(),
        });
    }
    Ok(endpoint)
}

/// A queued test event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TestQueued {
    event_id: String,
    #[schema(value_type = String)]
    delivery_id: DeliveryId,
}

/// Sends a `webhook.test` event to one endpoint, through the real pipeline.
/// Sends a `webhook.test` event to the endpoint through the real pipeline.
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints/{id}/test",
    operation_id = "sendTestEvent", tag = "webhooks", params(("id" = String, Path, description = "`ep_…`")),
    responses((status = 202, description = "Queued", body = TestQueued),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::PayloadTooLarge, super::openapi::TooManyRequests))]
pub(crate) async fn send_test(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<TestQueued>)> {
    let id = endpoint_id(&id)?;
    let mut tx = state.pool.begin().await?;
    usable_endpoint(&mut tx, &customer, &id).await?;
    let event = Event::test(customer.customer_id.clone(), &id, domain::time::now());
    delivery::outbox::insert_event(&mut tx, &event).await?;
    let delivery_id =
        delivery::outbox::insert_deliveries(&mut tx, &event, std::slice::from_ref(&id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no delivery was written")))?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(TestQueued {
            event_id: event.id.to_string(),
            delivery_id,
        }),
    ))
}

/// How long the previous secret keeps signing.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSecret {
    /// Seconds, 0–604800 (default 86400).
    #[schema(value_type = Option<u64>, minimum = 0, maximum = 604_800)]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    grace_period_seconds: Option<u64>,
}

/// A rotated secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Rotated {
    /// The new secret, shown once.
    secret: String,
    /// Until when the previous secrets keep signing.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    previous_secret_expires_at: chrono::DateTime<chrono::Utc>,
}

/// Issues a new signing secret; the old ones keep signing during the grace period, so every
/// delivery in between carries both signatures and receivers can switch without downtime.
/// Issues a new signing secret; both sign until the grace period ends.
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints/{id}/rotate-secret",
    operation_id = "rotateWebhookSecret", tag = "webhooks", params(("id" = String, Path, description = "`ep_…`")),
    request_body(content = Option<RotateSecret>, description = "Optional", content_type = "application/json"),
    responses((status = 200, description = "The new secret", body = Rotated),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::PayloadTooLarge,
        super::openapi::UnsupportedMediaType, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn rotate_secret(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RotateSecret>,
) -> Result<axum::Json<Rotated>> {
    let id = endpoint_id(&id)?;
    let grace = body
        .and_then(|b| b.grace_period_seconds)
        .unwrap_or(DEFAULT_GRACE_SECONDS);
    if grace > MAX_GRACE_SECONDS {
        return Err(Error::field(
            "grace_period_seconds",
            format!("must be between 0 and {MAX_GRACE_SECONDS}"),
        ));
    }
    let secret = SigningSecret::generate();
    let sealed = state
        .keyring
        .seal(id.as_str(), secret.as_bytes())
        .map_err(|e| Error::Internal(e.into()))?;
    let mut tx = state.pool.begin().await?;
    endpoints::find(&mut tx, &customer.customer_id, &id)
        .await?
        .ok_or(Error::NotFound)?;
    let expires_at =
        endpoints::rotate_secret(&mut tx, &id, &sealed, std::time::Duration::from_secs(grace))
            .await?;
    tx.commit().await?;
    Ok(axum::Json(Rotated {
        secret: secret.to_whsec(),
        previous_secret_expires_at: expires_at,
    }))
}

/// Which failed deliveries to re-open.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Recover {
    /// Deliveries created at or after this time.
    #[schema(schema_with = super::openapi::date_time, required = true)]
    since: Option<String>,
}

/// How many deliveries were re-opened.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Recovered {
    /// How many failed deliveries were re-opened.
    queued: u64,
}

/// Re-opens every failed delivery of the endpoint created since `since` (at most
/// [`RECOVER_LIMIT`] per call), through the outbox.
/// Re-opens every failed delivery of the endpoint since a time (10 000 per call).
#[utoipa::path(
    post,
    path = "/v1/webhook-endpoints/{id}/recover",
    operation_id = "recoverDeliveries", tag = "webhooks", params(("id" = String, Path, description = "`ep_…`")), request_body = Recover,
    responses((status = 202, description = "Queued", body = Recovered),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::PayloadTooLarge,
        super::openapi::UnsupportedMediaType, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn recover(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
    Json(body): Json<Recover>,
) -> Result<(StatusCode, axum::Json<Recovered>)> {
    let id = endpoint_id(&id)?;
    let Some(since) = body.since else {
        return Err(Error::field("since", "is required"));
    };
    let since = super::deliveries::timestamp("since", Some(&since))?
        .ok_or_else(|| Error::field("since", "is required"))?;
    let mut tx = state.pool.begin().await?;
    usable_endpoint(&mut tx, &customer, &id).await?;
    let queued =
        delivery::log::recover(&mut tx, &id, &DeliveryId::floor(since), RECOVER_LIMIT).await?;
    tx.commit().await?;
    state.outbox.notify_one();
    Ok((StatusCode::ACCEPTED, axum::Json(Recovered { queued })))
}
