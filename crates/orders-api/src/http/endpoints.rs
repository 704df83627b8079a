//! Webhook endpoints: create (the secret is shown once), list, get, update, delete.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use domain::event::EventType;
use domain::ids::EndpointId;
use domain::signing::SigningSecret;
use domain::target::WebhookUrl;
use domain::validation::{self, FieldErrors};
use serde::{Deserialize, Deserializer};

use super::AppState;
use super::auth::Customer;
use super::error::{Error, Result};
use super::extract::{Json, Query};
use super::pagination::{self, Page};
use super::views::EndpointView;
use crate::db::endpoints::{self, Endpoint, Patch};

/// The endpoint routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook-endpoints", get(list).post(create))
        .route(
            "/v1/webhook-endpoints/{id}",
            get(fetch).patch(update).delete(remove),
        )
}

fn endpoint_id(raw: &str) -> Result<EndpointId> {
    EndpointId::parse(raw).map_err(|_| Error::NotFound)
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateEndpoint {
    url: Option<String>,
    description: Option<String>,
    event_types: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateEndpoint {
    url: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    event_types: Option<Option<Vec<String>>>,
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

async fn create(
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
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

async fn fetch(
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

async fn update(
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
        webhook_dispatch::store::disable_endpoint(&mut tx, &id, "disabled_by_customer").await?;
    }
    let endpoint = endpoints::find(&mut tx, &customer.customer_id, &id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(axum::Json(endpoint.into()))
}

async fn remove(
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
