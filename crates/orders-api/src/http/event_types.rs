//! The event catalog: every event type with its description, the JSON Schema of its payload
//! and an example, all derived from the types and constructors that build real payloads
//! (`domain::event::catalog`), so the catalog cannot drift from what is sent.

use std::sync::LazyLock;

use axum::Router;
use axum::routing::get;
use domain::event::{EventType, catalog};
use serde::Serialize;

use super::AppState;
use super::auth::Caller;
use super::error::{Error, Result};
use super::pagination::Page;

/// The event catalog route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/event-types", get(list))
}

/// One event type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct EventTypeView {
    /// The type, as endpoints subscribe to it and payloads carry it.
    #[serde(rename = "type")]
    event_type: EventType,
    /// What it means.
    description: &'static str,
    /// The JSON Schema (2020-12) of its payload.
    #[schema(value_type = Object)]
    schema: serde_json::Value,
    /// An example payload, byte for byte as an event of this type is sent.
    #[schema(value_type = Object)]
    example: Box<serde_json::value::RawValue>,
}

/// Built once; an error here is a defect, answered as a 500 and logged with its cause.
static CATALOG: LazyLock<Result<Vec<EventTypeView>, String>> = LazyLock::new(|| {
    let entries = catalog::entries().map_err(|error| error.to_string())?;
    Ok(entries
        .into_iter()
        .map(|entry| EventTypeView {
            event_type: entry.event_type,
            description: entry.description,
            schema: entry.schema,
            example: entry.example,
        })
        .collect())
});

/// Lists every event type an endpoint can subscribe to.
#[utoipa::path(
    get,
    path = "/v1/event-types",
    operation_id = "listEventTypes", tag = "webhooks",
    responses((status = 200, description = "The catalog", body = Page<EventTypeView>),
        super::openapi::Unauthorized, super::openapi::TooManyRequests))]
pub(crate) async fn list(_caller: Caller) -> Result<axum::Json<Page<EventTypeView>>> {
    let data = CATALOG
        .as_ref()
        .map_err(|error| Error::Internal(anyhow::anyhow!("{error}")))?
        .clone();
    Ok(axum::Json(Page {
        data,
        next_cursor: None,
    }))
}
