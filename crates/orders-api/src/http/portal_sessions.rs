//! Portal sessions: short-lived links that open the customer portal without an API key.
//!
//! A customer key opens one for its own customer, an operator key for any customer. The token
//! travels in the link's fragment, which browsers never send to a server (so it reaches no
//! access log); the portal moves it to `sessionStorage`, strips it from the address bar and
//! sends it as the bearer token. A session acts with its customer's rights, except that it
//! cannot create API keys or portal sessions; it ends when it expires or is revoked.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use domain::ids::PortalSessionId;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Caller, Credential, requested_customer};
use super::error::{Error, Result};
use super::extract::OptionalJson;
use crate::service::ServiceError;

/// Lifetimes a session may be given, in seconds: 5 minutes to 24 hours.
pub const LIFETIME_SECONDS: std::ops::RangeInclusive<u32> = 300..=86_400;
/// A session's lifetime when the request names none: one hour.
pub const DEFAULT_LIFETIME_SECONDS: u32 = 3_600;

/// The portal session routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/portal-sessions", post(create))
        .route("/v1/portal-sessions/current", get(current).delete(sign_out))
        .route("/v1/portal-sessions/{id}", delete(revoke))
}

/// The link that opens the portal at `portal_url` with `token`, carried in the fragment.
pub fn link(portal_url: &str, token: &str) -> String {
    format!("{portal_url}#token={token}")
}

/// A new portal session.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreatePortalSession {
    /// Operators: the customer the session acts as (required). Customers: their own, or absent.
    #[schema(value_type = Option<String>, pattern = r"^cus_[0-7][0-9a-hjkmnp-tv-z]{25}$")]
    customer_id: Option<String>,
    /// Seconds until the link stops working, 300–86400 (default 3600).
    #[schema(value_type = Option<u32>, minimum = 300, maximum = 86_400)]
    #[serde(default, deserialize_with = "super::extract::whole_number")]
    lifetime_seconds: Option<u32>,
}

/// A created portal session: `url` carries the token and is shown only in this response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PortalSessionCreated {
    /// `ps_…`
    id: String,
    /// The customer it acts as.
    customer_id: String,
    /// The link that opens the portal; the token is in its fragment.
    url: String,
    /// When the link stops working.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: DateTime<Utc>,
}

/// The session a request is made with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PortalSessionView {
    /// `ps_…`
    id: String,
    /// The customer it acts as.
    customer_id: String,
    /// That customer's name.
    customer_name: String,
    /// When it stops working.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    expires_at: DateTime<Utc>,
}

/// Opens a portal session: a link into the customer portal, valid for `lifetime_seconds`.
#[utoipa::path(
    post,
    path = "/v1/portal-sessions",
    operation_id = "createPortalSession", tag = "customers",
    request_body(content = Option<CreatePortalSession>, description = "Optional for a customer key", content_type = "application/json"),
    responses((status = 201, description = "The session with its link, shown once", body = PortalSessionCreated),
        super::openapi::BadRequest, super::openapi::Unauthorized,
        super::openapi::Forbidden, super::openapi::NotFound, super::openapi::PayloadTooLarge, super::openapi::UnsupportedMediaType,
        super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    OptionalJson(body): OptionalJson<CreatePortalSession>,
) -> Result<(StatusCode, axum::Json<PortalSessionCreated>)> {
    caller.not_in_portal()?;
    let body = body.unwrap_or_default();
    let lifetime = body.lifetime_seconds.unwrap_or(DEFAULT_LIFETIME_SECONDS);
    if !LIFETIME_SECONDS.contains(&lifetime) {
        return Err(Error::field(
            "lifetime_seconds",
            format!(
                "must be between {} and {}",
                LIFETIME_SECONDS.start(),
                LIFETIME_SECONDS.end()
            ),
        ));
    }
    let customer = requested_customer(&state, &caller, body.customer_id.as_deref())
        .await?
        .ok_or_else(|| Error::field("customer_id", "is required with an operator key"))?;
    let session = state
        .service
        .open_portal_session(&customer, lifetime)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(PortalSessionCreated {
            url: link(&state.portal_url, session.token.expose_secret()),
            id: session.id.to_string(),
            customer_id: customer.to_string(),
            expires_at: session.expires_at,
        }),
    ))
}

/// The portal session this request is made with (404 for an API key).
#[utoipa::path(
    get,
    path = "/v1/portal-sessions/current",
    operation_id = "currentPortalSession", tag = "customers",
    responses((status = 200, description = "The session", body = PortalSessionView),
        super::openapi::Unauthorized, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn current(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<PortalSessionView>> {
    let Credential::PortalSession(id) = &caller.credential else {
        return Err(Error::NotFound);
    };
    let row = match state.service.portal_session(None, id).await {
        Err(ServiceError::NotFound) => return Err(Error::SessionEnded),
        found => found?,
    };
    Ok(axum::Json(PortalSessionView {
        id: row.id,
        customer_id: row.customer_id,
        customer_name: row.customer_name,
        expires_at: row.expires_at,
    }))
}

/// Revokes the portal session this request is made with: the portal's "Sign out" (404 for an
/// API key).
#[utoipa::path(
    delete,
    path = "/v1/portal-sessions/current",
    operation_id = "signOutPortalSession", tag = "customers",
    responses((status = 204, description = "Revoked: its link stops working at once"),
        super::openapi::Unauthorized, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn sign_out(State(state): State<AppState>, caller: Caller) -> Result<StatusCode> {
    let Credential::PortalSession(id) = &caller.credential else {
        return Err(Error::NotFound);
    };
    match state.service.revoke_portal_session(None, id).await {
        // Ended while this request was on its way: signed out all the same.
        Ok(()) | Err(ServiceError::NotFound) => Ok(StatusCode::NO_CONTENT),
        Err(error) => Err(error.into()),
    }
}

/// Revokes a portal session: its link stops working at once.
#[utoipa::path(
    delete,
    path = "/v1/portal-sessions/{id}",
    operation_id = "revokePortalSession", tag = "customers", params(("id" = String, Path, description = "`ps_…`")),
    responses((status = 204, description = "Revoked"), super::openapi::Unauthorized, super::openapi::NotFound, super::openapi::TooManyRequests))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = PortalSessionId::parse(&id).map_err(|_| Error::NotFound)?;
    let owner = caller.scope();
    state
        .service
        .revoke_portal_session(owner.customer(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
