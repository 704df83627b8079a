//! The HTTP API: one router per resource, merged here under the tower-http layers.

pub mod api_keys;
pub mod auth;
pub mod customers;
pub mod deliveries;
pub mod endpoints;
pub mod error;
pub mod event_types;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod orders;
pub mod pagination;
pub mod portal;
pub mod portal_sessions;
pub mod views;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use delivery::client::TargetGuard;
use domain::secret_box::SecretKeyring;
use sqlx::MySqlPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use error::{Error, REQUEST_ID};

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The longest a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

/// What [`AppState`] holds.
pub struct StateInner {
    /// The database.
    pub pool: MySqlPool,
    /// Seals signing secrets.
    pub keyring: Arc<SecretKeyring>,
    /// Vets webhook targets at registration.
    pub guard: TargetGuard,
    /// Wakes the relay after a commit that wrote deliveries.
    pub outbox: Arc<Notify>,
    /// Cancelled when the process starts draining (readiness turns 503).
    pub draining: CancellationToken,
    /// Requests per API key, when limited.
    pub rate_limiter: Option<RateLimiter>,
    /// Keys that authenticated recently.
    pub keys: auth::KeyCache,
    /// Where the customer portal is served; portal session links point there.
    pub portal_url: String,
}

/// A token bucket per API key, and one for all the portal sessions of a customer.
pub type RateLimiter = Arc<governor::DefaultKeyedRateLimiter<auth::RateKey>>;

/// A limiter allowing `per_second` requests per key (bursts of twice that), or none for 0.
pub fn rate_limiter(per_second: u32) -> Option<RateLimiter> {
    let rate = std::num::NonZeroU32::new(per_second)?;
    let burst = rate.saturating_mul(std::num::NonZeroU32::MIN.saturating_add(1));
    let quota = governor::Quota::per_second(rate).allow_burst(burst);
    Some(Arc::new(governor::RateLimiter::keyed(quota)))
}

impl AppState {
    /// Wraps the state.
    pub fn new(inner: StateInner) -> Self {
        Self(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = StateInner;
    fn deref(&self) -> &StateInner {
        &self.0
    }
}

const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: `req_` + a ULID, unless the client sent a usable one.
#[derive(Debug, Clone, Copy)]
struct MakeUlidRequestId;

impl MakeRequestId for MakeUlidRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = format!("req_{}", domain::ids::token());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Makes the request id available to problem documents.
async fn scope_request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    REQUEST_ID.scope(id, next.run(request)).await
}

async fn not_found() -> Error {
    Error::NotFound
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// The whole API, and the portal's routes when it is served.
pub fn router(state: AppState, portal: Option<Router<AppState>>) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request| {
        let request_id = request
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id,
            customer_id = tracing::field::Empty,
            order_id = tracing::field::Empty,
        )
    });
    Router::new()
        .merge(health::router())
        .merge(customers::router())
        .merge(orders::router())
        .merge(endpoints::router())
        .merge(deliveries::router())
        .merge(api_keys::router())
        .merge(portal_sessions::router())
        .merge(event_types::router())
        .route("/metrics", axum::routing::get(metrics::render))
        .route("/openapi.json", axum::routing::get(openapi::openapi_json))
        .merge(portal.unwrap_or_default())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency,
        ))
        .layer(middleware::from_fn(scope_request_id))
        .route_layer(middleware::from_fn(metrics::track))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeUlidRequestId))
        .with_state(state)
}
