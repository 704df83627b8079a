//! Endpoint statistics in the database: the recorder adds each batch's attempts to their
//! endpoints' minute and day buckets in the transaction that records them ([`add`]); the API
//! reads the buckets of a range ([`read`]). See `domain::stats`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::ids::EndpointId;
use domain::state::ErrorClass;
use domain::stats::{LATENCY_BUCKETS, Span, Tally};
use sqlx::{MySqlConnection, MySqlPool, QueryBuilder, Row};

/// The counter columns, in [`Tally`]'s order: outcomes, then the latency histogram.
const COUNTERS: [&str; 6 + LATENCY_BUCKETS] = [
    "succeeded",
    "http_errors",
    "timeouts",
    "connection_errors",
    "dns_errors",
    "blocked",
    "latency_le_25",
    "latency_le_50",
    "latency_le_100",
    "latency_le_250",
    "latency_le_500",
    "latency_le_1000",
    "latency_le_2500",
    "latency_le_5000",
    "latency_le_10000",
    "latency_over",
];

fn counters(tally: &Tally) -> impl Iterator<Item = u32> + '_ {
    [
        tally.succeeded,
        tally.http_errors,
        tally.timeouts,
        tally.connection_errors,
        tally.dns_errors,
        tally.blocked,
    ]
    .into_iter()
    .chain(tally.latency)
}

/// The buckets a batch adds to, always in the same order (endpoint, span, start), so that
/// concurrent recorders lock them alike.
#[derive(Debug, Default)]
pub struct Additions(BTreeMap<(String, Span, DateTime<Utc>), Tally>);

impl Additions {
    /// Counts one attempt to `endpoint_id` started at `started_at`.
    pub fn add(
        &mut self,
        endpoint_id: &str,
        started_at: DateTime<Utc>,
        error: Option<ErrorClass>,
        answered_in: Option<Duration>,
    ) {
        for span in Span::ALL {
            let key = (endpoint_id.to_owned(), span, span.bucket_start(started_at));
            self.0.entry(key).or_default().add(error, answered_in);
        }
    }
}

/// Adds `additions` to the stored buckets, in one statement.
pub async fn add(conn: &mut MySqlConnection, additions: &Additions) -> sqlx::Result<()> {
    if additions.0.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::new(format!(
        "insert into endpoint_stats (endpoint_id, span, bucket_start, {}) ",
        COUNTERS.join(", ")
    ));
    query.push_values(&additions.0, |mut row, ((endpoint, span, start), tally)| {
        row.push_bind(endpoint.clone())
            .push_bind(span.as_str())
            .push_bind(start.naive_utc());
        for count in counters(tally) {
            row.push_bind(count);
        }
    });
    let updates: Vec<String> = COUNTERS
        .iter()
        .map(|c| format!("{c} = {c} + values({c})"))
        .collect();
    query.push(" on duplicate key update ");
    query.push(updates.join(", "));
    query.build().execute(conn).await?;
    Ok(())
}

/// The stored buckets of `endpoint` in `span` that start in `[since, until)`, oldest first.
pub async fn read(
    pool: &MySqlPool,
    endpoint: &EndpointId,
    span: Span,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<(DateTime<Utc>, Tally)>> {
    let sql = format!(
        "select bucket_start, {} from endpoint_stats
          where endpoint_id = ? and span = ? and bucket_start >= ? and bucket_start < ?
          order by bucket_start",
        COUNTERS.join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(endpoint.as_str())
        .bind(span.as_str())
        .bind(since.naive_utc())
        .bind(until.naive_utc())
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            let start: chrono::NaiveDateTime = row.try_get("bucket_start")?;
            let count = |column: &str| row.try_get::<u32, _>(column);
            let mut latency = [0; LATENCY_BUCKETS];
            for (slot, column) in latency.iter_mut().zip(&COUNTERS[6..]) {
                *slot = count(column)?;
            }
            let tally = Tally {
                succeeded: count("succeeded")?,
                http_errors: count("http_errors")?,
                timeouts: count("timeouts")?,
                connection_errors: count("connection_errors")?,
                dns_errors: count("dns_errors")?,
                blocked: count("blocked")?,
                latency,
            };
            Ok((start.and_utc(), tally))
        })
        .collect()
}
