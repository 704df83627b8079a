//! API keys: customers manage their own; operators any customer's (and operator keys).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use domain::ids::ApiKeyId;
use domain::state::KeyRole;
use domain::validation::{self, FieldErrors};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Caller, requested_customer};
use super::error::{Error, Result};
use super::extract::{OptionalJson, Query};
use super::pagination::Page;
use crate::db::api_keys::{KeyRow, Role};

/// The API key routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/api-keys", get(list).post(create))
        .route("/v1/api-keys/{id}", delete(revoke))
}

/// An API key as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyView {
    id: String,
    role: KeyRole,
    customer_id: Option<String>,
    name: Option<String>,
    /// The first characters of the key, to recognise it.
    prefix: String,
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    created_at: chrono::DateTime<chrono::Utc>,
    /// When it last authenticated a request, to within a minute; `null` if never.
    #[serde(with = "domain::time::millis::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The key itself: only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
}

impl From<KeyRow> for ApiKeyView {
    fn from(row: KeyRow) -> Self {
        Self {
            id: row.id,
            role: row.role,
            customer_id: row.customer_id,
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            api_key: None,
        }
    }
}

/// Whose keys.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Operators only: one customer's keys (without it, the operator keys).
    #[param(pattern = r"^cus_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    customer_id: Option<String>,
}

/// Lists live API keys (never the keys themselves).
#[utoipa::path(
    get,
    path = "/v1/api-keys",
    operation_id = "listApiKeys", tag = "customers", params(ListQuery),
    responses((status = 200, description = "The keys", body = Page<ApiKeyView>),
        super::openapi::Unauthorized,
        super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<Page<ApiKeyView>>> {
    let owner = requested_customer(&state, &caller, query.customer_id.as_deref()).await?;
    let keys = state.service.list_api_keys(owner.as_ref()).await?;
    Ok(axum::Json(Page {
        data: keys.into_iter().map(ApiKeyView::from).collect(),
        next_cursor: None,
    }))
}

/// A new key.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKey {
    #[schema(schema_with = super::openapi::optional_text::<200>)]
    name: Option<String>,
    /// Operators only: the customer the key is for (without it, an operator key).
    #[schema(value_type = Option<String>, pattern = r"^cus_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    customer_id: Option<String>,
}

/// Creates an API key; the key itself is shown only in this response.
#[utoipa::path(
    post,
    path = "/v1/api-keys",
    operation_id = "createApiKey", tag = "customers",
    request_body(content = Option<CreateKey>, description = "Optional", content_type = "application/json"),
    responses((status = 201, description = "The key with `api_key`", body = ApiKeyView),
        super::openapi::BadRequest, super::openapi::Unauthorized,
        super::openapi::Forbidden, super::openapi::NotFound, super::openapi::PayloadTooLarge, super::openapi::UnsupportedMediaType,
        super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    OptionalJson(body): OptionalJson<CreateKey>,
) -> Result<(StatusCode, axum::Json<ApiKeyView>)> {
    caller.not_in_portal()?;
    let body = body.unwrap_or_default();
    let mut errors = FieldErrors::new();
    validation::optional_text(&mut errors, "name", body.name.as_deref(), 200);
    errors.finish(()).map_err(Error::Validation)?;
    let role = match requested_customer(&state, &caller, body.customer_id.as_deref()).await? {
        Some(customer) => Role::Customer(customer),
        None => Role::Operator,
    };
    let key = state
        .service
        .create_api_key(&role, body.name.as_deref())
        .await?;
    let mut view = ApiKeyView::from(key.row);
    view.api_key = Some(key.secret.expose_secret().to_owned());
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// Revokes an API key: the instance serving the request refuses it at once, the others within
/// `API_KEY_CACHE_SECONDS` (5 s unless configured).
#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    operation_id = "revokeApiKey", tag = "customers", params(("id" = String, Path, description = "`key_…`")),
    responses((status = 204, description = "Revoked"), super::openapi::Unauthorized, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = ApiKeyId::parse(&id).map_err(|_| Error::NotFound)?;
    let owner = match &caller.role {
        Role::Customer(own) => Some(own.clone()),
        Role::Operator => None,
    };
    // The cache's guard is held across the revocation, so that this instance refuses the key
    // at once.
    state
        .service
        .revoke_api_key(owner.as_ref(), &id, || state.keys.revoking())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
