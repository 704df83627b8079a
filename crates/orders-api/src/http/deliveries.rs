//! The delivery log, and re-sending a delivery.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use domain::event::EventType;
use domain::ids::{DeliveryId, EndpointId};
use domain::state::{self, DeliveryStatus};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Customer;
use super::error::{Error, Result};
use super::extract::Query;
use super::pagination::{self, Page};
use super::views::{AttemptView, DeliveryView};
use crate::service::DeliveryDetail;
use delivery::log::ListFilter;

/// The delivery routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook-endpoints/{id}/deliveries", get(list))
        .route("/v1/webhook-deliveries/{id}", get(fetch))
        .route("/v1/webhook-deliveries/{id}/retry", post(retry))
}

/// Parses an RFC 3339 query parameter.
pub fn timestamp(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Error::field(
                        field,
                        "must be an RFC 3339 timestamp such as 2026-11-22T10:00:00Z",
                    )
                })
        })
        .transpose()
}

/// Filters and paging of the delivery log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Only deliveries in this state.
    #[param(value_type = Option<DeliveryStatus>)]
    status: Option<String>,
    /// Only deliveries of this event type.
    #[param(value_type = Option<EventType>)]
    event_type: Option<String>,
    /// Only deliveries created at or after this time.
    #[param(value_type = Option<String>, format = DateTime)]
    created_after: Option<String>,
    /// Only deliveries created before this time.
    #[param(value_type = Option<String>, format = DateTime)]
    created_before: Option<String>,
    /// Page size, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^dlv_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    cursor: Option<String>,
}

/// The delivery log of an endpoint, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints/{id}/deliveries",
    operation_id = "listDeliveries", tag = "webhooks",
    params(("id" = String, Path, description = "`ep_…`"), ListQuery),
    responses((status = 200, description = "A page of deliveries", body = Page<DeliveryView>),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<DeliveryView>>> {
    let endpoint_id = EndpointId::parse(&id).map_err(|_| Error::NotFound)?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            s.parse::<DeliveryStatus>().map_err(|_| {
                Error::field(
                    "status",
                    format!("must be {}", state::choices(DeliveryStatus::ALL)),
                )
            })
        })
        .transpose()?;
    let event_type = query
        .event_type
        .as_deref()
        .map(|t| {
            EventType::parse(t).ok_or_else(|| Error::field("event_type", "is not an event type"))
        })
        .transpose()?;
    let from = timestamp("created_after", query.created_after.as_deref())?.map(DeliveryId::floor);
    let before =
        timestamp("created_before", query.created_before.as_deref())?.map(DeliveryId::floor);
    let cursor = pagination::decode(query.cursor.as_deref(), |id| DeliveryId::parse(id).ok())?;
    let below = pagination::lowest(before, cursor);
    let limit = pagination::limit(query.limit)?;
    let filter = ListFilter {
        endpoint_id,
        status,
        event_type,
        from,
        below,
        limit: limit + 1,
    };
    let rows = state
        .service
        .list_deliveries(&customer.customer_id, &filter)
        .await?;
    Ok(axum::Json(pagination::page(
        rows,
        limit,
        |d| d.id.as_str(),
        DeliveryView::from,
    )))
}

/// One delivery with its payload and every attempt.
#[utoipa::path(
    get,
    path = "/v1/webhook-deliveries/{id}",
    operation_id = "getDelivery", tag = "webhooks", params(("id" = String, Path, description = "`dlv_…`")),
    responses((status = 200, description = "The delivery", body = DeliveryView),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn fetch(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
) -> Result<axum::Json<DeliveryView>> {
    let id = DeliveryId::parse(&id).map_err(|_| Error::NotFound)?;
    let DeliveryDetail {
        delivery,
        attempts,
        payload,
    } = state.service.delivery(&customer.customer_id, &id).await?;
    let mut view = DeliveryView::from(delivery);
    view.payload = String::from_utf8(payload)
        .ok()
        .and_then(|payload| serde_json::value::RawValue::from_string(payload).ok());
    view.attempts = Some(attempts.into_iter().map(AttemptView::from).collect());
    Ok(axum::Json(view))
}

/// The answer to a retry: the delivery is queued again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Queued {
    #[schema(value_type = String)]
    delivery_id: DeliveryId,
    status: DeliveryStatus,
}

/// Re-opens a delivery for one immediate attempt with the same `webhook-id`.
#[utoipa::path(
    post,
    path = "/v1/webhook-deliveries/{id}/retry",
    operation_id = "retryDelivery", tag = "webhooks", params(("id" = String, Path, description = "`dlv_…`")),
    responses((status = 202, description = "Queued", body = Queued),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Conflict, super::openapi::PayloadTooLarge, super::openapi::TooManyRequests))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
) -> Result<(StatusCode, axum::Json<Queued>)> {
    let id = DeliveryId::parse(&id).map_err(|_| Error::NotFound)?;
    state
        .service
        .retry_delivery(&customer.customer_id, &id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Queued {
            delivery_id: id,
            status: DeliveryStatus::Pending,
        }),
    ))
}
