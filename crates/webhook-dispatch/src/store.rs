//! The dispatcher's SQL: claiming a delivery row, loading what to send, recording the attempt.
//!
//! A consumer sends only after winning a conditional claim on the row (status `pending`, due,
//! lease free). The claim is a single-row compare-and-set, so a duplicate or stale message loses
//! it. The attempt and the row's next state are written together, and only while the lease is
//! still ours.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::ids::{DeliveryId, EndpointId, EventId};
use sqlx::{MySqlConnection, MySqlPool, Row};

use crate::client::AttemptResult;

/// Delivery statuses as stored.
pub mod status {
    /// Waiting for its next attempt.
    pub const PENDING: &str = "pending";
    /// A receiver answered 2xx.
    pub const DELIVERED: &str = "delivered";
    /// No further attempt will be made unless the customer retries or recovers it.
    pub const FAILED: &str = "failed";
}

/// Failure reasons recorded on a `failed` delivery.
pub mod reason {
    /// The endpoint was disabled (410, auto-disable, PATCH) or deleted.
    pub const ENDPOINT_DISABLED: &str = "endpoint_disabled";
    /// The endpoint answered 410 Gone.
    pub const ENDPOINT_GONE: &str = "endpoint_gone";
    /// Why an endpoint was disabled: every attempt failed for too long.
    pub const AUTO_DISABLED: &str = "auto_disabled";
    /// Every scheduled attempt failed.
    pub const ATTEMPTS_EXHAUSTED: &str = "attempts_exhausted";
}

/// A won claim: the lease token proves it when the attempt is recorded.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// Lease token written by the claim.
    pub token: String,
    /// Attempts made before this one.
    pub attempt_count: u32,
}

/// What a claim attempt found.
#[derive(Debug)]
pub enum ClaimOutcome {
    /// The row is ours until the lease expires.
    Claimed(Claim),
    /// The delivery is pending but not due for this long.
    NotDue(Duration),
    /// Delivered or failed: nothing to do.
    Finished,
    /// Another consumer holds a lease on it for this much longer. If that consumer died, the
    /// message must come back once the lease expires, so it is not acknowledged.
    Leased(Duration),
    /// No such delivery.
    Missing,
}

fn token() -> String {
    ulid::Ulid::generate().to_string().to_ascii_lowercase()
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Tries to claim one delivery for `lease`.
pub async fn claim(
    pool: &MySqlPool,
    id: &DeliveryId,
    lease: Duration,
) -> sqlx::Result<ClaimOutcome> {
    let token = token();
    let claimed = sqlx::query(
        r"update webhook_deliveries
          set lease_token = ?, lease_until = utc_timestamp(6) + interval ? microsecond,
              updated_at = utc_timestamp(6)
          where id = ? and status = 'pending'
            and next_attempt_at <= utc_timestamp(6) + interval 1 second
            and (lease_until is null or lease_until < utc_timestamp(6))",
    )
    .bind(&token)
    .bind(micros(lease))
    .bind(id.as_str())
    .execute(pool)
    .await?
    .rows_affected();
    if claimed == 1 {
        let attempt_count: u32 = sqlx::query_scalar(
            "select attempt_count from webhook_deliveries where id = ? and lease_token = ?",
        )
        .bind(id.as_str())
        .bind(&token)
        .fetch_one(pool)
        .await?;
        return Ok(ClaimOutcome::Claimed(Claim {
            delivery_id: id.clone(),
            token,
            attempt_count,
        }));
    }
    let row = sqlx::query(
        r"select status,
                 greatest(timestampdiff(microsecond, utc_timestamp(6), next_attempt_at), 0) as wait_us,
                 greatest(coalesce(timestampdiff(microsecond, utc_timestamp(6), lease_until), 0), 0)
                   as lease_us
          from webhook_deliveries where id = ?",
    )
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(ClaimOutcome::Missing);
    };
    let status: String = row.try_get("status")?;
    let micros = |column: &str| -> sqlx::Result<Duration> {
        let us: i64 = row.try_get(column)?;
        Ok(Duration::from_micros(u64::try_from(us).unwrap_or(0)))
    };
    let (wait, lease) = (micros("wait_us")?, micros("lease_us")?);
    Ok(if status != status::PENDING {
        ClaimOutcome::Finished
    } else if !lease.is_zero() {
        ClaimOutcome::Leased(lease)
    } else {
        ClaimOutcome::NotDue(wait)
    })
}

/// Claims up to `limit` due deliveries at once (the embedded dispatcher's queue).
pub async fn claim_due(pool: &MySqlPool, limit: u32, lease: Duration) -> sqlx::Result<Vec<Claim>> {
    let token = token();
    let claimed = sqlx::query(
        r"update webhook_deliveries
          set lease_token = ?, lease_until = utc_timestamp(6) + interval ? microsecond,
              updated_at = utc_timestamp(6)
          where status = 'pending' and next_attempt_at <= utc_timestamp(6)
            and (lease_until is null or lease_until < utc_timestamp(6))
          order by next_attempt_at
          limit ?",
    )
    .bind(&token)
    .bind(micros(lease))
    .bind(limit)
    .execute(pool)
    .await?
    .rows_affected();
    if claimed == 0 {
        return Ok(Vec::new());
    }
    let rows =
        sqlx::query("select id, attempt_count from webhook_deliveries where lease_token = ?")
            .bind(&token)
            .fetch_all(pool)
            .await?;
    rows.into_iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            Ok(Claim {
                delivery_id: DeliveryId::parse(&id)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                token: token.clone(),
                attempt_count: row.try_get("attempt_count")?,
            })
        })
        .collect()
}

/// The seconds until the earliest pending delivery is due, if any is pending.
pub async fn next_due_in(pool: &MySqlPool) -> sqlx::Result<Option<Duration>> {
    let wait_us: Option<i64> = sqlx::query_scalar(
        r"select greatest(timestampdiff(microsecond, utc_timestamp(6), min(next_attempt_at)), 0)
          from webhook_deliveries
          where status = 'pending' and (lease_until is null or lease_until < utc_timestamp(6))",
    )
    .fetch_one(pool)
    .await?;
    Ok(wait_us.map(|us| Duration::from_micros(u64::try_from(us).unwrap_or(0))))
}

/// Everything one attempt needs, read at send time.
#[derive(Debug)]
pub struct Work {
    /// The event, whose id is the `webhook-id`.
    pub event_id: EventId,
    /// The exact payload bytes.
    pub payload: Vec<u8>,
    /// The endpoint.
    pub endpoint_id: EndpointId,
    /// Where to send.
    pub url: String,
    /// Whether the endpoint may still receive deliveries.
    pub endpoint_active: bool,
    /// When the endpoint's current run of failures began (`None` while healthy).
    pub failing_since: Option<DateTime<Utc>>,
    /// Sealed signing secrets that are still active, newest first.
    pub sealed_secrets: Vec<Vec<u8>>,
}

/// Loads the event, endpoint and active secrets of a claimed delivery.
pub async fn load(pool: &MySqlPool, id: &DeliveryId) -> sqlx::Result<Option<Work>> {
    let row = sqlx::query(
        r"select d.event_id, d.endpoint_id, e.payload, ep.url, ep.failing_since,
                 (ep.enabled and ep.deleted_at is null) as active
          from webhook_deliveries d
          join webhook_events e on e.id = d.event_id
          join webhook_endpoints ep on ep.id = d.endpoint_id
          where d.id = ?",
    )
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let decode = |e: domain::ids::IdParseError| sqlx::Error::Decode(Box::new(e));
    let endpoint_id = EndpointId::parse(row.try_get("endpoint_id")?).map_err(decode)?;
    let sealed_secrets = sqlx::query_scalar(
        r"select ciphertext from webhook_endpoint_secrets
          where endpoint_id = ? and (expires_at is null or expires_at > utc_timestamp(6))
          order by created_at desc",
    )
    .bind(endpoint_id.as_str())
    .fetch_all(pool)
    .await?;
    Ok(Some(Work {
        event_id: EventId::parse(row.try_get("event_id")?).map_err(decode)?,
        payload: row.try_get("payload")?,
        endpoint_id,
        url: row.try_get("url")?,
        endpoint_active: row.try_get::<i64, _>("active")? != 0,
        failing_since: row.try_get("failing_since")?,
        sealed_secrets,
    }))
}

/// The row's state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered.
    Delivered,
    /// Pending again, due after this delay.
    Retry(Duration),
    /// Failed for good, with a reason.
    Failed(&'static str),
}

/// Records an attempt and moves the row to `next`, if the lease is still ours.
/// Returns `false` (and writes nothing) when the lease was lost.
pub async fn record_attempt(
    pool: &MySqlPool,
    claim: &Claim,
    started_at: DateTime<Utc>,
    result: &AttemptResult,
    next: Next,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let (status, delay, reason) = match next {
        Next::Delivered => (status::DELIVERED, Duration::ZERO, None),
        Next::Retry(delay) => (status::PENDING, delay, None),
        Next::Failed(reason) => (status::FAILED, Duration::ZERO, Some(reason)),
    };
    let updated = sqlx::query(
        r"update webhook_deliveries
          set status = if(status = 'failed' and ? = 'pending', 'failed', ?),
              attempt_count = attempt_count + 1,
              next_attempt_at = utc_timestamp(6) + interval ? microsecond,
              lease_token = null, lease_until = null,
              last_status_code = ?, last_attempt_at = ?, failure_reason = ?,
              updated_at = utc_timestamp(6)
          where id = ? and lease_token = ?",
    )
    .bind(status)
    .bind(status)
    .bind(micros(delay))
    .bind(result.status)
    .bind(started_at)
    .bind(reason)
    .bind(claim.delivery_id.as_str())
    .bind(&claim.token)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query(
        r"insert into webhook_attempts
            (delivery_id, attempt, started_at, duration_ms, status_code, error_class,
             error_message, response_headers, response_excerpt)
          values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(claim.delivery_id.as_str())
    .bind(claim.attempt_count + 1)
    .bind(started_at)
    .bind(u32::try_from(result.duration.as_millis()).unwrap_or(u32::MAX))
    .bind(result.status)
    .bind(result.error_class.map(|c| c.as_str()))
    .bind(result.error_message.as_deref().map(|m| truncate(m, 1000)))
    .bind(result.response_headers.as_deref())
    .bind(&result.response_excerpt)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Marks a claimed delivery failed without an attempt (its endpoint is gone or disabled).
pub async fn fail_claimed(pool: &MySqlPool, claim: &Claim, reason: &str) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        r"update webhook_deliveries
          set status = 'failed', failure_reason = ?, lease_token = null, lease_until = null,
              updated_at = utc_timestamp(6)
          where id = ? and lease_token = ?",
    )
    .bind(reason)
    .bind(claim.delivery_id.as_str())
    .bind(&claim.token)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Records the start of an endpoint's run of failures (once), or its end.
pub async fn set_failing_since(
    pool: &MySqlPool,
    endpoint_id: &EndpointId,
    since: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query("update webhook_endpoints set failing_since = ? where id = ?")
        .bind(since)
        .bind(endpoint_id.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

/// Disables an endpoint and fails its pending deliveries with `endpoint_disabled`.
/// Used by the dispatcher on 410 and by the API when a customer disables or deletes one.
pub async fn disable_endpoint(
    conn: &mut MySqlConnection,
    endpoint_id: &EndpointId,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        r"update webhook_endpoints
          set enabled = false, disabled_reason = ?, updated_at = utc_timestamp(6)
          where id = ?",
    )
    .bind(reason)
    .bind(endpoint_id.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r"update webhook_deliveries
          set status = 'failed', failure_reason = 'endpoint_disabled', updated_at = utc_timestamp(6)
          where endpoint_id = ? and status = 'pending'",
    )
    .bind(endpoint_id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> &str {
    s.char_indices().nth(max_chars).map_or(s, |(i, _)| &s[..i])
}
