//! Endpoint statistics: attempts by outcome, success rate and latency per time bucket, read
//! from the rollups the attempt recorder keeps (`domain::stats`).

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::{DateTime, TimeDelta, Utc};
use domain::ids::EndpointId;
use domain::stats::{self, Bucket, MAX_BUCKETS, Tally};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Customer;
use super::deliveries::timestamp;
use super::error::{Error, Result};
use super::extract::Query;

/// The statistics route.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/webhook-endpoints/{id}/stats", get(fetch))
}

/// The range and bucket size of a statistics read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsQuery {
    /// Start of the range (default: 24 hours before `until`); the first bucket is the one
    /// holding it.
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// End of the range, exclusive (default: now).
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
    /// Bucket size (default `hour`). Minutes are kept as long as deliveries
    /// (`RETENTION_DAYS`), days for 400 days; one read returns at most 1 500 buckets (a day of minutes, and some).
    #[param(value_type = Option<Bucket>)]
    bucket: Option<String>,
}

/// Attempts in one bucket, by outcome.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AttemptCounts {
    /// Every attempt.
    total: u64,
    /// Answered 2xx.
    succeeded: u32,
    /// Answered with another status.
    http: u32,
    /// No complete answer in time.
    timeout: u32,
    /// The connection failed.
    connection: u32,
    /// The host name did not resolve.
    dns: u32,
    /// Refused by the SSRF guard.
    blocked_target: u32,
}

/// Response times of the answered attempts in one bucket, in milliseconds, estimated from a
/// histogram (bounds 25, 50, 100, 250, 500, 1 000, 2 500, 5 000 and 10 000 ms); `null` without
/// answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Latency {
    /// Median.
    p50: Option<f64>,
    /// 95th percentile.
    p95: Option<f64>,
}

/// One bucket.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct StatsBucket {
    /// When it starts (UTC).
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    start: DateTime<Utc>,
    /// Its attempts.
    attempts: AttemptCounts,
    /// `succeeded / total`, in [0, 1]; `null` without attempts.
    success_rate: Option<f64>,
    /// Its response times.
    latency_ms: Latency,
}

impl From<(DateTime<Utc>, Tally)> for StatsBucket {
    fn from((start, tally): (DateTime<Utc>, Tally)) -> Self {
        let round = |v: f64| (v * 10.0).round() / 10.0;
        Self {
            start,
            attempts: AttemptCounts {
                total: tally.total(),
                succeeded: tally.succeeded,
                http: tally.http_errors,
                timeout: tally.timeouts,
                connection: tally.connection_errors,
                dns: tally.dns_errors,
                blocked_target: tally.blocked,
            },
            success_rate: tally
                .success_rate()
                .map(|r| (r * 10_000.0).round() / 10_000.0),
            latency_ms: Latency {
                p50: tally.latency_quantile(0.5).map(round),
                p95: tally.latency_quantile(0.95).map(round),
            },
        }
    }
}

/// An endpoint's statistics over a range.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct EndpointStats {
    /// The endpoint (`ep_…`).
    #[schema(value_type = String)]
    endpoint_id: EndpointId,
    /// The bucket size.
    bucket: Bucket,
    /// The range's start, as given or defaulted.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    since: DateTime<Utc>,
    /// The range's end, exclusive.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    until: DateTime<Utc>,
    /// Every bucket of the range, oldest first, those without attempts included.
    data: Vec<StatsBucket>,
}

/// An endpoint's attempts by outcome, success rate and latency percentiles per bucket.
#[utoipa::path(
    get,
    path = "/v1/webhook-endpoints/{id}/stats",
    operation_id = "getEndpointStats", tag = "webhooks",
    params(("id" = String, Path, description = "`ep_…`"), StatsQuery),
    responses((status = 200, description = "The endpoint's statistics", body = EndpointStats),
        super::openapi::Unauthorized, super::openapi::Forbidden, super::openapi::NotFound, super::openapi::Unprocessable, super::openapi::TooManyRequests))]
pub(crate) async fn fetch(
    State(state): State<AppState>,
    customer: Customer,
    Path(id): Path<String>,
    Query(query): Query<StatsQuery>,
) -> Result<axum::Json<EndpointStats>> {
    let endpoint_id = EndpointId::parse(&id).map_err(|_| Error::NotFound)?;
    let bucket = match query.bucket.as_deref() {
        None | Some("hour") => Bucket::Hour,
        Some("minute") => Bucket::Minute,
        Some("day") => Bucket::Day,
        Some(_) => return Err(Error::field("bucket", "must be minute, hour or day")),
    };
    let until = timestamp("until", query.until.as_deref())?.unwrap_or_else(domain::time::now);
    let since =
        timestamp("since", query.since.as_deref())?.unwrap_or_else(|| until - TimeDelta::hours(24));
    if since >= until {
        return Err(Error::field("since", "must be before until"));
    }
    if stats::bucket_count(bucket, since, until) > MAX_BUCKETS {
        return Err(Error::field(
            "bucket",
            format!(
                "a read returns at most {MAX_BUCKETS} buckets: choose a larger bucket or a shorter range"
            ),
        ));
    }
    let series = state
        .service
        .endpoint_stats(&customer.customer_id, &endpoint_id, bucket, (since, until))
        .await?;
    Ok(axum::Json(EndpointStats {
        endpoint_id,
        bucket,
        since,
        until,
        data: series.into_iter().map(StatsBucket::from).collect(),
    }))
}
