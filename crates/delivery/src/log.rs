//! The delivery log: deliveries with their attempts, and re-opening failed ones.
//!
//! Re-opened deliveries go back through the outbox (`publish_pending`, when the mode has a
//! relay), so a crash after the request commits loses nothing.

use chrono::{DateTime, Utc};
use domain::event::EventType;
use domain::ids::{CustomerId, DeliveryId, EndpointId};
use domain::state::{DeliveryStatus, ErrorClass, FailureReason};
use platform::database::bad_column;

use crate::outbox::Handoff;
use sqlx::mysql::MySqlRow;
use sqlx::{FromRow, MySqlConnection, QueryBuilder, Row};

/// A delivery as stored.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// `dlv_…`
    pub id: String,
    /// The event (`webhook-id`).
    pub event_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event's type.
    pub event_type: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempt_count: u32,
    /// When the next attempt is due (meaningful while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// Status code of the last response.
    pub last_status_code: Option<u16>,
    /// When the last attempt started.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub failure_reason: Option<FailureReason>,
    /// Created at.
    pub created_at: DateTime<Utc>,
}

impl FromRow<'_, MySqlRow> for DeliveryRow {
    fn from_row(row: &MySqlRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: row.try_get("id")?,
            event_id: row.try_get("event_id")?,
            endpoint_id: row.try_get("endpoint_id")?,
            event_type: row.try_get("event_type")?,
            status: row
                .try_get::<&str, _>("status")?
                .parse()
                .map_err(bad_column)?,
            attempt_count: row.try_get("attempt_count")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            last_status_code: row.try_get("last_status_code")?,
            last_attempt_at: row.try_get("last_attempt_at")?,
            failure_reason: state(row, "failure_reason")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// A nullable state column read into its type.
fn state<T>(row: &MySqlRow, column: &str) -> sqlx::Result<Option<T>>
where
    T: std::str::FromStr<Err = domain::state::UnknownState>,
{
    row.try_get::<Option<&str>, _>(column)?
        .map(str::parse)
        .transpose()
        .map_err(bad_column)
}

const COLUMNS: &str = "id, event_id, endpoint_id, event_type, status, attempt_count, \
    next_attempt_at, last_status_code, last_attempt_at, failure_reason, created_at";

/// One attempt of a delivery.
#[derive(Debug, Clone)]
pub struct AttemptRow {
    /// 1-based attempt number.
    pub attempt: u32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: u32,
    /// Response status, if a response arrived.
    pub status_code: Option<u16>,
    /// Why it failed; `None` on success.
    pub error_class: Option<ErrorClass>,
    /// The failure, explained.
    pub error_message: Option<String>,
    /// Response headers (JSON object, sensitive ones redacted).
    pub response_headers: Option<String>,
    /// The first 20 KB of the response body.
    pub response_excerpt: Option<Vec<u8>>,
}

impl FromRow<'_, MySqlRow> for AttemptRow {
    fn from_row(row: &MySqlRow) -> sqlx::Result<Self> {
        Ok(Self {
            attempt: row.try_get("attempt")?,
            started_at: row.try_get("started_at")?,
            duration_ms: row.try_get("duration_ms")?,
            status_code: row.try_get("status_code")?,
            error_class: state(row, "error_class")?,
            error_message: row.try_get("error_message")?,
            response_headers: row.try_get("response_headers")?,
            response_excerpt: row.try_get("response_excerpt")?,
        })
    }
}

/// Filters of the delivery log of one endpoint.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// The endpoint.
    pub endpoint_id: EndpointId,
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Only this event type.
    pub event_type: Option<EventType>,
    /// Only ids at or above (created at or after a time).
    pub from: Option<DeliveryId>,
    /// Only ids below (the cursor, or created before a time).
    pub below: Option<DeliveryId>,
    /// Page size.
    pub limit: u32,
}

/// The delivery log of an endpoint (already checked to belong to the caller), newest first.
pub async fn list(
    conn: &mut MySqlConnection,
    filter: &ListFilter,
) -> sqlx::Result<Vec<DeliveryRow>> {
    let mut query = QueryBuilder::new(format!(
        "select {COLUMNS} from webhook_deliveries where endpoint_id = "
    ));
    query.push_bind(filter.endpoint_id.as_str().to_owned());
    if let Some(status) = filter.status {
        query.push(" and status = ").push_bind(status.as_str());
    }
    if let Some(event_type) = filter.event_type {
        query
            .push(" and event_type = ")
            .push_bind(event_type.as_str());
    }
    if let Some(from) = &filter.from {
        query
            .push(" and id >= ")
            .push_bind(from.as_str().to_owned());
    }
    if let Some(below) = &filter.below {
        query
            .push(" and id < ")
            .push_bind(below.as_str().to_owned());
    }
    query
        .push(" order by id desc limit ")
        .push_bind(filter.limit);
    query.build_query_as().fetch_all(conn).await
}

/// One delivery of `customer`.
pub async fn find(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    id: &DeliveryId,
) -> sqlx::Result<Option<DeliveryRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from webhook_deliveries where id = ? and customer_id = ?"
    )))
    .bind(id.as_str())
    .bind(customer.as_str())
    .fetch_optional(conn)
    .await
}

/// The attempts of a delivery, in order.
pub async fn attempts(
    conn: &mut MySqlConnection,
    id: &DeliveryId,
) -> sqlx::Result<Vec<AttemptRow>> {
    sqlx::query_as(
        r"select attempt, started_at, duration_ms, status_code, error_class, error_message,
                 response_headers, response_excerpt
          from webhook_attempts where delivery_id = ? order by attempt",
    )
    .bind(id.as_str())
    .fetch_all(conn)
    .await
}

/// The exact payload bytes of an event.
pub async fn payload(conn: &mut MySqlConnection, event_id: &str) -> sqlx::Result<Vec<u8>> {
    sqlx::query_scalar("select payload from webhook_events where id = ?")
        .bind(event_id)
        .fetch_one(conn)
        .await
}

/// What re-opening a delivery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reopen {
    /// Pending again, due now, queued through the outbox.
    Reopened,
    /// No such delivery for this customer.
    NotFound,
    /// An attempt is in flight right now.
    InFlight,
    /// Its endpoint is disabled or deleted.
    EndpointDisabled,
}

/// Pending, due now, and back in the outbox; a relay's claim on an earlier message is dropped so
/// its settlement cannot mark this re-opening as published.
/// Its placeholders take [`DeliveryStatus::Pending`] and [`Handoff::publish_pending`].
const REOPEN: &str = "status = ?, next_attempt_at = utc_timestamp(6), failure_reason = null, \
    throttled_until = null, publish_pending = ?, publish_token = null, \
    publish_claimed_until = null, updated_at = utc_timestamp(6)";

/// Re-opens one delivery for an immediate attempt with the same `webhook-id`.
pub async fn reopen(
    conn: &mut MySqlConnection,
    handoff: &Handoff,
    customer: &CustomerId,
    id: &DeliveryId,
) -> sqlx::Result<Reopen> {
    let row = sqlx::query(
        r"select (d.lease_until is not null and d.lease_until >= utc_timestamp(6)) as in_flight,
                 (ep.enabled and ep.deleted_at is null) as active
          from webhook_deliveries d join webhook_endpoints ep on ep.id = d.endpoint_id
          where d.id = ? and d.customer_id = ?
          for update",
    )
    .bind(id.as_str())
    .bind(customer.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Reopen::NotFound);
    };
    if row.try_get::<i64, _>("active")? == 0 {
        return Ok(Reopen::EndpointDisabled);
    }
    if row.try_get::<i64, _>("in_flight")? != 0 {
        return Ok(Reopen::InFlight);
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "update webhook_deliveries set {REOPEN} where id = ?"
    )))
    .bind(DeliveryStatus::Pending.as_str())
    .bind(handoff.publish_pending())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(Reopen::Reopened)
}

/// Re-opens up to `limit` failed deliveries of an endpoint created at or after `from`.
pub async fn recover(
    conn: &mut MySqlConnection,
    handoff: &Handoff,
    endpoint_id: &EndpointId,
    from: &DeliveryId,
    limit: u32,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "update webhook_deliveries set {REOPEN}
         where endpoint_id = ? and status = ? and id >= ? order by id limit ?"
    )))
    .bind(DeliveryStatus::Pending.as_str())
    .bind(handoff.publish_pending())
    .bind(endpoint_id.as_str())
    .bind(DeliveryStatus::Failed.as_str())
    .bind(from.as_str())
    .bind(limit)
    .execute(conn)
    .await?
    .rows_affected())
}
