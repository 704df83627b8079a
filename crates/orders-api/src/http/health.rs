//! `GET /`, `/livez` and `/readyz`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use super::AppState;
use super::error::{Error, Result};

/// The health routes (no authentication).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(greeting))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
}

/// A greeting (the load balancer's health path).
#[utoipa::path(
    get,
    path = "/",
    operation_id = "greeting", tag = "operations", security(()),
    responses((status = 200, description = "Greeting", content_type = "text/plain", body = String)))]
pub(crate) async fn greeting() -> &'static str {
    "Mechanica orders API\n"
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/livez",
    operation_id = "livez", tag = "operations", security(()),
    responses((status = 200, description = "Alive", content_type = "text/plain", body = String)))]
pub(crate) async fn livez() -> &'static str {
    "ok\n"
}

/// Ready while not draining and the database answers.
/// Readiness: not draining, and the database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz", tag = "operations", security(()),
    responses((status = 200, description = "Ready", content_type = "text/plain", body = String),
        super::openapi::Unavailable))]
pub(crate) async fn readyz(State(state): State<AppState>) -> Result<&'static str> {
    if state.draining.is_cancelled() {
        return Err(Error::Unavailable);
    }
    sqlx::query("select 1")
        .execute(&state.pool)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "readiness: database unreachable");
            Error::Unavailable
        })?;
    Ok("ready\n")
}
