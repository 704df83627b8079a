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

/// The customer routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/customers", post(create))
}

/// A new customer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Retail"}))]
pub(crate) struct CreateCustomer {
    #[schema(schema_with = super::openapi::text::<200>, required = true)]
    name: Option<String>,
}

/// A created customer with its first API key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedCustomer {
    #[schema(value_type = String)]
    id: CustomerId,
    name: String,
    /// The customer's API key, shown only here.
    api_key: String,
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    created_at: chrono::DateTime<chrono::Utc>,
}

/// Creates a customer and its first API key (operator keys).
#[utoipa::path(
    post,
    path = "/v1/customers",
    operation_id = "createCustomer", tag = "customers", request_body = CreateCustomer,
    responses((status = 201, description = "The customer, with its API key (shown once)", body = CreatedCustomer),
        super::openapi::BadRequest, super::openapi::Unauthorized, super::openapi::Forbidden,
        super::openapi::PayloadTooLarge, super::openapi::UnsupportedMediaType, super::openapi::Unprocessable,
        super::openapi::TooManyRequests))]
pub(crate) async fn create(
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
    let created = state.service.create_customer(&name).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedCustomer {
            id: created.id,
            name,
            api_key: created.api_key.expose_secret().to_owned(),
            created_at: created.created_at,
        }),
    ))
}
