//! Webhook endpoints: create (the secret is shown once), list, get, update, delete.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use std::collections::BTreeMap;
use std::time::Duration;

use domain::headers::HeadersPatch;
use domain::ids::{DeliveryId, EndpointId};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Customer;
use super::error::{Error, Result};
use super::extract::{Json, OptionalJson, Query};
use super::pagination::{self, Page};
use super::views::EndpointView;
use crate::db::endpoints::Endpoint;
use crate::service::{EndpointInput, EndpointPatchInput};

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

/// The grace period when none is given (24 h).
pub const DEFAULT_GRACE_SECONDS: u64 = 86_400;

fn endpoint_id(raw: &str) -> Result<EndpointId> {
    EndpointId::parse(raw).map_err(|_| Error::NotFound)
}

/// How `endpoint` is shown, its custom headers masked.
fn view(state: &AppState, endpoint: Endpoint) -> Result<EndpointView> {
    let headers = state.service.masked_headers(&endpoint)?;
    Ok(EndpointView::new(endpoint, headers))
}

/// A new webhook endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hooks.example.com/mechanica",
    "description": "Order updates for the ERP",
    "event_types": ["order.created", "order.status_changed"],
    "headers": {"X-Api-Key": "erp-4f9c2b7d1e8a6c30"},
    "rate_limit_per_second": 50
}))]
pub(crate) struct CreateEndpoint {
    /// An `http(s)` URL whose host is not, and does not resolve to, a non-public address (a
    /// host that does not resolve yet is accepted with a warning).
    #[schema(schema_with = super::openapi::webhook_url, required = true)]
    url: Option<String>,
    #[schema(schema_with = super::openapi::optional_text::<500>)]
    description: Option<String>,
    #[schema(schema_with = super::openapi::event_types_schema)]
    event_types: Option<Vec<String>>,
    /// Headers sent with every attempt (a receiver's API key, a routing tag); their values are
    /// stored sealed and shown masked.
    #[schema(schema_with = super::openapi::custom_headers_schema)]
    headers: Option<BTreeMap<String, String>>,
    /// The most deliveries a second the endpoint receives (1–10 000), enforced across every
    /// dispatcher; absent or `null`: unlimited.
    #[schema(minimum = 1, maximum = 10_000)]
    rate_limit_per_second: Option<i64>,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateEndpoint {
    #[schema(schema_with = super::openapi::optional_webhook_url)]
    url: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(schema_with = super::openapi::optional_text::<500>)]
    description: Option<Option<String>>,
    /// `null` subscribes to every type.
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(schema_with = super::openapi::event_types_schema)]
    event_types: Option<Option<Vec<String>>>,
    /// `false` disables it (its pending deliveries fail); `true` enables it again.
    #[schema(value_type = Option<bool>)]
    enabled: Option<bool>,
    /// Custom headers to set, or to remove with `null`; the others stay as they are.
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(schema_with = super::openapi::custom_headers_patch_schema)]
    headers: Option<Option<HeadersPatch>>,
    /// A new rate limit (1–10 000 deliveries a second); `null` removes it.
    #[serde(default, deserialize_with = "super::extract::nullable")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10_000)]
    rate_limit_per_second: Option<Option<i64>>,
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
    let (endpoint, secret, warnings) = state
        .service
        .create_endpoint(
            customer.customer_id,
            EndpointInput {
                url: body.url,
                description: body.description,
                event_types: body.event_types,
                headers: body.headers,
                rate_limit_per_second: body.rate_limit_per_second,
            },
        )
        .await?;
    let mut view = view(&state, endpoint)?;
    view.secret = Some(secret.to_whsec());
    view.warnings = warnings;
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
    let items = state
        .service
        .list_endpoints(&customer.customer_id, before.as_ref(), limit + 1)
        .await?
        .into_iter()
        .map(|endpoint| view(&state, endpoint))
        .collect::<Result<Vec<_>>>()?;
    Ok(axum::Json(pagination::page(
        items,
        limit,
        |e| e.id.as_str(),
        |e| e,
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
    let endpoint = state.service.endpoint(&customer.customer_id, &id).await?;
    Ok(axum::Json(view(&state, endpoint)?))
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
    let patch = EndpointPatchInput {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        enabled: body.enabled,
        headers: match body.headers {
            Some(None) => {
                return Err(Error::field(
                    "headers",
                    "must be an object: set a header to null to remove it",
                ));
            }
            headers => headers.flatten(),
        },
        rate_limit_per_second: body.rate_limit_per_second,
    };
    let (endpoint, warnings) = state
        .service
        .update_endpoint(&customer.customer_id, &id, patch)
        .await?;
    let mut view = view(&state, endpoint)?;
    view.warnings = warnings;
    Ok(axum::Json(view))
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
    state
        .service
        .delete_endpoint(&customer.customer_id, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A queued test event.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TestQueued {
    event_id: String,
    #[schema(value_type = String)]
    delivery_id: DeliveryId,
}

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
    let queued = state
        .service
        .send_test_event(&customer.customer_id, &id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(TestQueued {
            event_id: queued.event_id.to_string(),
            delivery_id: queued.delivery_id,
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

/// Issues a new signing secret; both sign until the grace period ends.
///
/// Every delivery in between carries both signatures, so receivers can switch without
/// downtime.
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
    let rotated = state
        .service
        .rotate_secret(&customer.customer_id, &id, Duration::from_secs(grace))
        .await?;
    Ok(axum::Json(Rotated {
        secret: rotated.secret.to_whsec(),
        previous_secret_expires_at: rotated.previous_secret_expires_at,
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

/// Re-opens every failed delivery of the endpoint since a time (10 000 per call).
///
/// They go back through the outbox with their original `webhook-id`; call again for more.
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
    let queued = state
        .service
        .recover_endpoint(&customer.customer_id, &id, since)
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(Recovered { queued })))
}
