//! Prometheus metrics: `GET /metrics`, and the HTTP middleware that records every request.
//!
//! Series: `http_requests_total{method,route,status}`,
//! `http_request_duration_seconds{method,route}`, `relay_published_total`,
//! `relay_batch_size`, `relay_lag_seconds`, `webhook_attempts_total{outcome}`,
//! `webhook_attempt_duration_seconds`, `db_pool_connections{state}`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

use super::AppState;

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder, installed on first use.
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let installed = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("relay_batch_size".into()),
                        &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0],
                    )
                })
                .and_then(PrometheusBuilder::install_recorder);
            match installed {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::error!(%error, "metrics are unavailable");
                    None
                }
            }
        })
        .as_ref()
}

/// How often [`upkeep`] folds recorded samples into the histograms.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Folds the histograms' recorded samples into their buckets every [`UPKEEP_INTERVAL`] until
/// `stop`. The recorder keeps every sample until then: without this, a process nobody scrapes
/// would hold every request's latency in memory (`install_recorder` leaves upkeep to its caller).
pub async fn upkeep(stop: CancellationToken) {
    let Some(handle) = handle() else { return };
    let mut ticks = tokio::time::interval(UPKEEP_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while stop.run_until_cancelled(ticks.tick()).await.is_some() {
        handle.run_upkeep();
    }
}

/// Records the route, status and latency of every request.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus metrics", content_type = "text/plain", body = String)))]
pub async fn render(State(state): State<AppState>) -> Response {
    let size = state.pool.size();
    let idle = u32::try_from(state.pool.num_idle()).unwrap_or(u32::MAX);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    let body = handle().map(PrometheusHandle::render).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
