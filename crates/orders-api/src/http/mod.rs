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
pub mod stats;
pub mod views;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use domain::secret_box::SecretKeyring;
use sqlx::MySqlPool;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use error::{Error, REQUEST_ID};

use crate::service::Service;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The longest a request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState(Arc<StateInner>);

/// What [`AppState`] holds.
pub struct StateInner {
    /// What every resource handler calls.
    pub service: Service,
    /// The database, for authentication, idempotency and health.
    pub pool: MySqlPool,
    /// Seals stored idempotent responses.
    pub keyring: Arc<SecretKeyring>,
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

/// A handler that panicked answers a 500 problem document like any other internal error; the
/// panic is logged, never returned.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    axum::response::IntoResponse::into_response(Error::Internal(anyhow::anyhow!(
        "handler panicked: {message}"
    )))
}

/// The whole API, and the portal's routes when it is served.
pub fn router(state: AppState, portal: Option<Router<AppState>>) -> Router {
    let routes = Router::new()
        .merge(health::router())
        .merge(customers::router())
        .merge(orders::router())
        .merge(endpoints::router())
        .merge(deliveries::router())
        .merge(stats::router())
        .merge(api_keys::router())
        .merge(portal_sessions::router())
        .merge(event_types::router())
        .route("/metrics", axum::routing::get(metrics::render))
        .route("/openapi.json", axum::routing::get(openapi::openapi_json))
        .merge(portal.unwrap_or_default());
    layered(routes, state)
}

/// `routes` under the layers every route of the API is served with.
fn layered(routes: Router<AppState>, state: AppState) -> Router {
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
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Inside the idempotency layer: a panic becomes a 500 there, which releases the key
        // for a retry instead of leaving it in progress.
        .layer(CatchPanicLayer::custom(panicked))
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use domain::secret_box::{DEV_SECRETS_KEY_BASE64, SecretsKey};
    use tower::ServiceExt;

    use super::*;

    /// State whose pool never connects: the route under test touches no database.
    fn state() -> AppState {
        let pool =
            sqlx::MySqlPool::connect_lazy("mysql://nobody@127.0.0.1:1/none").expect("a lazy pool");
        let keyring = Arc::new(SecretKeyring::new(
            SecretsKey::from_base64(DEV_SECRETS_KEY_BASE64).expect("the development key"),
        ));
        AppState::new(StateInner {
            service: Service::new(
                pool.clone(),
                Arc::clone(&keyring),
                delivery::client::TargetGuard::system(false),
                delivery::outbox::Handoff::relay(Arc::default()),
            ),
            pool,
            keyring,
            draining: CancellationToken::new(),
            rate_limiter: None,
            keys: auth::KeyCache::new(Duration::from_secs(5)),
            portal_url: String::new(),
        })
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_500_problem_document() {
        let routes = Router::new().route(
            "/panic",
            axum::routing::get(|| async {
                if true {
                    panic!("the handler broke");
                }
                "unreachable"
            }),
        );
        let response = layered(routes, state())
            .oneshot(
                Request::get("/panic")
                    .header("x-request-id", "req_panic")
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("a response");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE),
            Some(&HeaderValue::from_static("application/problem+json"))
        );
        assert_eq!(
            response.headers().get("x-request-id"),
            Some(&HeaderValue::from_static("req_panic"))
        );
        let body = axum::body::to_bytes(response.into_body(), BODY_LIMIT)
            .await
            .expect("a body");
        let problem: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(problem["type"], format!("{}internal", error::PROBLEM_BASE));
        assert_eq!(problem["status"], 500);
        assert_eq!(problem["detail"], "internal error");
        assert_eq!(problem["request_id"], "req_panic");
        assert!(
            !body.windows(9).any(|w| w == b"the handl"),
            "the panic message is not returned"
        );
    }
}
