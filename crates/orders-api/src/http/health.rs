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

async fn greeting() -> &'static str {
    "Mechanica orders API\n"
}

async fn livez() -> &'static str {
    "ok\n"
}

/// Ready while not draining and the database answers.
async fn readyz(State(state): State<AppState>) -> Result<&'static str> {
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
