//! `POST /v1/customers` (operators).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use domain::ids::CustomerId;
use domain::validation::{self, FieldErrors};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Operator;
use super::error::Result;
use super::extract::Json;
use crate::db::api_keys::{self, Role};
use crate::db::customers;

/// The customer routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/customers", post(create))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateCustomer {
    name: Option<String>,
}

#[derive(Debug, Serialize)]
struct CreatedCustomer {
    id: CustomerId,
    name: String,
    /// Shown once.
    api_key: String,
    #[serde(with = "domain::time::millis")]
    created_at: chrono::DateTime<chrono::Utc>,
}

async fn create(
    State(state): State<AppState>,
    _operator: Operator,
    Json(body): Json<CreateCustomer>,
) -> Result<(StatusCode, axum::Json<CreatedCustomer>)> {
    let mut errors = FieldErrors::new();
    match &body.name {
        Some(name) => validation::text(&mut errors, "name", name, 200),
        None => errors.missing("name"),
    }
    let name = errors
        .finish(body.name.unwrap_or_default())
        .map_err(super::error::Error::Validation)?;
    let id = CustomerId::new();
    let created_at = domain::time::now();
    let mut tx = state.pool.begin().await?;
    customers::insert(&mut tx, &id, &name, created_at).await?;
    let key = api_keys::create(&mut tx, &Role::Customer(id.clone()), Some("default")).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedCustomer {
            id,
            name,
            api_key: key.secret.expose_secret().to_owned(),
            created_at,
        }),
    ))
}
