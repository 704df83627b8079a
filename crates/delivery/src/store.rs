//! The dispatcher's SQL: claiming a delivery row, loading what to send, recording the attempt.
//!
//! A consumer sends only after winning a conditional claim on the row (status `pending`, due,
//! lease free). The claim is a compare-and-set by id, so a duplicate or stale message loses it,
//! and it locks only the rows it takes. The claimed rows are loaded by their lease token in the
//! same pass (two queries however many rows one pass takes). The attempt and the row's next
//! state are written together, and only while the lease is still ours, many attempts per
//! transaction ([`crate::recorder`]).

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::event::{EventType, subscribes};
use domain::health::Observed;
use domain::ids::{CustomerId, DeliveryId, EndpointId, EventId, token};
use domain::state::{DeliveryStatus, DisabledReason, FailureReason};
use domain::target::{TargetError, WebhookUrl};
use domain::throttle::RateLimit;
use domain::time::micros;
use platform::database::bad_column;
use sqlx::mysql::MySqlRow;
use sqlx::types::Json;
use sqlx::{MySqlConnection, MySqlPool, Row};

use crate::client::AttemptResult;
use crate::health::{self, Tracking};
use crate::outbox::Inserted;
use crate::stats;

/// A won claim: the lease token proves it when the attempt is recorded.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The delivery.
    pub delivery_id: DeliveryId,
    /// Lease token written by the claim.
    pub token: String,
    /// Attempts made before this one.
    pub attempt_count: u32,
    /// The send slot the delivery holds from its endpoint's rate limiter, if it waited for one
    /// ([`crate::throttle`]).
    pub slot: Option<DateTime<Utc>>,
}

/// A won claim with everything its attempt needs, read in the same pass.
#[derive(Debug)]
pub struct Claimed {
    /// The claim.
    pub claim: Claim,
    /// What to send, and where.
    pub work: Work,
}

/// What a claim attempt found.
#[derive(Debug)]
pub enum ClaimOutcome {
    /// The row is ours until the lease expires.
    Claimed(Box<Claimed>),
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

/// `?, ?, …` for `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    let mut list = "?, ".repeat(n);
    list.truncate(list.len().saturating_sub(2));
    list
}

/// Tries to claim one delivery for `lease` and, if won, loads it.
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
          where id = ? and status = ?
            and next_attempt_at <= utc_timestamp(6) + interval 1 second
            and (lease_until is null or lease_until < utc_timestamp(6))",
    )
    .bind(&token)
    .bind(micros(lease))
    .bind(id.as_str())
    .bind(DeliveryStatus::Pending.as_str())
    .execute(pool)
    .await?
    .rows_affected();
    if claimed == 1 {
        // Only a vanished event or endpoint row leaves nothing to load, and nothing deletes
        // those (endpoints are soft-deleted); the lease would then simply expire.
        return Ok(load_claimed(pool, &token)
            .await?
            .pop()
            .map_or(ClaimOutcome::Missing, |c| {
                ClaimOutcome::Claimed(Box::new(c))
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
    let status: DeliveryStatus = row
        .try_get::<&str, _>("status")?
        .parse()
        .map_err(bad_column)?;
    let micros = |column: &str| -> sqlx::Result<Duration> {
        let us: i64 = row.try_get(column)?;
        Ok(Duration::from_micros(u64::try_from(us).unwrap_or(0)))
    };
    let (wait, lease) = (micros("wait_us")?, micros("lease_us")?);
    Ok(if status != DeliveryStatus::Pending {
        ClaimOutcome::Finished
    } else if !lease.is_zero() {
        ClaimOutcome::Leased(lease)
    } else {
        ClaimOutcome::NotDue(wait)
    })
}

/// Claims up to `limit` due deliveries at once and loads them (the embedded dispatcher's
/// queue). The candidates are read without locks, then claimed by id with the same conditions
/// as a compare-and-set: a claim locks only the rows it takes. (An `update … order by … limit`
/// would lock every row its index scan passes, leased ones and the gaps between them included,
/// and deadlock with the attempt records moving rows through that index.)
pub async fn claim_due(
    pool: &MySqlPool,
    limit: u32,
    lease: Duration,
) -> sqlx::Result<Vec<Claimed>> {
    let candidates: Vec<String> = sqlx::query_scalar(
        r"select id from webhook_deliveries
          where status = ? and next_attempt_at <= utc_timestamp(6)
            and (lease_until is null or lease_until < utc_timestamp(6))
          order by next_attempt_at
          limit ?",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let token = token();
    let mut claim = sqlx::query(sqlx::AssertSqlSafe(format!(
        "update webhook_deliveries
         set lease_token = ?, lease_until = utc_timestamp(6) + interval ? microsecond,
             updated_at = utc_timestamp(6)
         where id in ({}) and status = ? and next_attempt_at <= utc_timestamp(6)
           and (lease_until is null or lease_until < utc_timestamp(6))",
        placeholders(candidates.len())
    )))
    .bind(&token)
    .bind(micros(lease));
    for id in &candidates {
        claim = claim.bind(id);
    }
    claim = claim.bind(DeliveryStatus::Pending.as_str());
    if claim.execute(pool).await?.rows_affected() == 0 {
        return Ok(Vec::new());
    }
    load_claimed(pool, &token).await
}

/// The seconds until the earliest pending delivery is due, if any is pending.
pub async fn next_due_in(pool: &MySqlPool) -> sqlx::Result<Option<Duration>> {
    let wait_us: Option<i64> = sqlx::query_scalar(
        r"select greatest(timestampdiff(microsecond, utc_timestamp(6), min(next_attempt_at)), 0)
          from webhook_deliveries
          where status = ? and (lease_until is null or lease_until < utc_timestamp(6))",
    )
    .bind(DeliveryStatus::Pending.as_str())
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
    /// Where to send, parsed once here; or why the stored URL is no longer a valid target (an
    /// endpoint stored before a stricter rule), in which case the attempt is refused and
    /// recorded like any other.
    pub url: Result<WebhookUrl, TargetError>,
    /// Whether the endpoint may still receive deliveries.
    pub endpoint_active: bool,
    /// When the endpoint's current run of failures began (`None` while healthy).
    pub failing_since: Option<DateTime<Utc>>,
    /// The endpoint's rate limit, if it has one.
    pub rate_limit: Option<RateLimit>,
    /// Sealed signing secrets that are still active, newest first (shared by every delivery
    /// of the endpoint in one claim).
    pub sealed_secrets: Arc<[Vec<u8>]>,
    /// The endpoint's custom headers, sealed (`domain::headers`); `None` when it has none.
    pub sealed_headers: Option<Arc<[u8]>>,
}

/// Where and how one endpoint is sent to, as an attempt reads it.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where to send (see [`Work::url`]).
    pub url: Result<WebhookUrl, TargetError>,
    /// Whether the endpoint may still receive deliveries.
    pub active: bool,
    /// When the endpoint's current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// The endpoint's rate limit, if it has one.
    pub rate_limit: Option<RateLimit>,
    /// Sealed signing secrets that are still active, newest first.
    pub sealed_secrets: Arc<[Vec<u8>]>,
    /// The endpoint's custom headers, sealed; `None` when it has none.
    pub sealed_headers: Option<Arc<[u8]>>,
}

/// Endpoints with their custom headers and active secrets, one row per secret (see
/// [`fold_targets`]).
macro_rules! targets {
    () => {
        "select ep.id, ep.event_types, ep.url, ep.failing_since, ep.headers, ep.rate_limit_per_second,
                (ep.enabled and ep.deleted_at is null) as active, s.ciphertext,
                s.created_at as secret_created_at
           from webhook_endpoints ep
           left join webhook_endpoint_secrets s
             on s.endpoint_id = ep.id
            and (s.expires_at is null or s.expires_at > utc_timestamp(6))"
    };
}

/// The fan-out's lookup, with what the direct hand-off needs: the live, enabled endpoints of one
/// customer, each with its subscription, target and active secrets (bind: customer id).
pub const SUBSCRIBED_SQL: &str = concat!(
    targets!(),
    " where ep.customer_id = ? and ep.deleted_at is null and ep.enabled = true"
);

/// The fan-out's lookup when the deliveries go to a queue: the live, enabled endpoints of one
/// customer with their subscriptions (bind: customer id).
pub const SUBSCRIBED_IDS_SQL: &str = "select id, event_types from webhook_endpoints
    where customer_id = ? and deleted_at is null and enabled = true";

/// The targets of `endpoints` (each once, however often it is named; fewer if some do not
/// exist), in one statement: each endpoint with its active secrets.
pub async fn load_targets<'a>(
    conn: &mut MySqlConnection,
    endpoints: impl IntoIterator<Item = &'a str>,
) -> sqlx::Result<HashMap<String, Target>> {
    let mut endpoints: Vec<&str> = endpoints.into_iter().collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    if endpoints.is_empty() {
        return Ok(HashMap::new());
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{} where ep.id in ({})",
        targets!(),
        placeholders(endpoints.len())
    )));
    for id in &endpoints {
        query = query.bind(*id);
    }
    Ok(fold_targets(query.fetch_all(conn).await?)?
        .into_iter()
        .map(|endpoint| (endpoint.id, endpoint.target))
        .collect())
}

/// The enabled, live endpoints of `customer` subscribed to `event_type`, each with its target,
/// in one statement ([`SUBSCRIBED_SQL`]): the fan-out of a new event whose deliveries the direct
/// hand-off then gives the dispatcher without reading anything more.
pub async fn subscribed_targets(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    event_type: EventType,
) -> sqlx::Result<Vec<(EndpointId, Target)>> {
    let rows = sqlx::query(SUBSCRIBED_SQL)
        .bind(customer.as_str())
        .fetch_all(conn)
        .await?;
    fold_targets(rows)?
        .into_iter()
        .filter(|endpoint| subscribed(endpoint.event_types.as_ref(), event_type))
        .map(|endpoint| {
            let id = EndpointId::parse(&endpoint.id).map_err(bad_column)?;
            Ok((id, endpoint.target))
        })
        .collect()
}

/// The enabled, live endpoints of `customer` subscribed to `event_type` ([`SUBSCRIBED_IDS_SQL`]):
/// the fan-out of a new event whose deliveries go to a queue.
pub async fn subscribed_endpoints(
    conn: &mut MySqlConnection,
    customer: &CustomerId,
    event_type: EventType,
) -> sqlx::Result<Vec<EndpointId>> {
    let rows: Vec<(String, Option<Json<Vec<String>>>)> = sqlx::query_as(SUBSCRIBED_IDS_SQL)
        .bind(customer.as_str())
        .fetch_all(conn)
        .await?;
    rows.into_iter()
        .filter(|(_, types)| subscribed(types.as_ref(), event_type))
        .map(|(id, _)| EndpointId::parse(&id).map_err(bad_column))
        .collect()
}

/// Whether a stored subscription includes `event_type`.
fn subscribed(stored: Option<&Json<Vec<String>>>, event_type: EventType) -> bool {
    subscribes(stored_event_types(stored).as_deref(), event_type)
}

/// An endpoint's stored subscription (`event_types`) as types: `None` is every type. Names a
/// later release may add are skipped rather than failing the read.
pub fn stored_event_types(stored: Option<&Json<Vec<String>>>) -> Option<Vec<EventType>> {
    stored.map(|types| types.0.iter().filter_map(|t| EventType::parse(t)).collect())
}

/// An endpoint as `targets!()` reads it.
struct EndpointTarget {
    id: String,
    /// Its stored subscription (`None`: every type).
    event_types: Option<Json<Vec<String>>>,
    target: Target,
}

/// One target per endpoint from rows of `targets!()`, in any order (sorting them in the
/// statement cost the database a temporary table), each endpoint's secrets newest first.
fn fold_targets(rows: Vec<MySqlRow>) -> sqlx::Result<Vec<EndpointTarget>> {
    type Secrets = Vec<(DateTime<Utc>, Vec<u8>)>;
    let mut found: BTreeMap<String, (EndpointTarget, Secrets)> = BTreeMap::new();
    for row in rows {
        let id: String = row.try_get("id")?;
        let secret: Option<Vec<u8>> = row.try_get("ciphertext")?;
        let created_at: Option<DateTime<Utc>> = row.try_get("secret_created_at")?;
        let (_, secrets) = match found.entry(id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let target = Target {
                    url: WebhookUrl::parse(row.try_get("url")?),
                    active: row.try_get::<i64, _>("active")? != 0,
                    failing_since: row.try_get("failing_since")?,
                    rate_limit: row
                        .try_get::<Option<u32>, _>("rate_limit_per_second")?
                        .and_then(RateLimit::new),
                    sealed_secrets: Arc::from(Vec::new()),
                    sealed_headers: row.try_get::<Option<Vec<u8>>, _>("headers")?.map(Arc::from),
                };
                let endpoint = EndpointTarget {
                    id: entry.key().clone(),
                    event_types: row.try_get("event_types")?,
                    target,
                };
                entry.insert((endpoint, Vec::new()))
            }
        };
        if let (Some(secret), Some(created_at)) = (secret, created_at) {
            secrets.push((created_at, secret));
        }
    }
    Ok(found
        .into_values()
        .map(|(mut endpoint, mut secrets)| {
            secrets.sort_by_key(|(created_at, _)| std::cmp::Reverse(*created_at));
            let sealed: Vec<Vec<u8>> = secrets.into_iter().map(|(_, secret)| secret).collect();
            endpoint.target.sealed_secrets = sealed.into();
            endpoint
        })
        .collect())
}

impl Work {
    /// The work of sending `payload` of event `event_id` to `endpoint_id` at `target`.
    pub fn new(
        event_id: EventId,
        payload: Vec<u8>,
        endpoint_id: EndpointId,
        target: &Target,
    ) -> Self {
        Self {
            event_id,
            payload,
            endpoint_id,
            url: target.url.clone(),
            endpoint_active: target.active,
            failing_since: target.failing_since,
            rate_limit: target.rate_limit,
            sealed_secrets: Arc::clone(&target.sealed_secrets),
            sealed_headers: target.sealed_headers.clone(),
        }
    }
}

/// Loads the event and the target of every delivery leased with `token`: one join for the
/// deliveries and their events, one statement for their endpoints and secrets
/// ([`load_targets`]).
async fn load_claimed(pool: &MySqlPool, token: &str) -> sqlx::Result<Vec<Claimed>> {
    let mut conn = pool.acquire().await?;
    type Row = (String, u32, Option<DateTime<Utc>>, String, String, Vec<u8>);
    let rows: Vec<Row> = sqlx::query_as(
        r"select d.id, d.attempt_count, d.throttled_until, d.event_id, d.endpoint_id, e.payload
          from webhook_deliveries d
          join webhook_events e on e.id = d.event_id
          where d.lease_token = ?
          order by d.next_attempt_at",
    )
    .bind(token)
    .fetch_all(&mut *conn)
    .await?;
    let endpoints = rows.iter().map(|(.., endpoint, _)| endpoint.as_str());
    let targets = load_targets(&mut conn, endpoints).await?;
    let decode = |e: domain::ids::IdParseError| sqlx::Error::Decode(Box::new(e));
    let mut claimed = Vec::with_capacity(rows.len());
    for (id, attempt_count, slot, event_id, endpoint_id, payload) in rows {
        // Nothing deletes endpoint rows (they are soft-deleted), so one is always found; if
        // not, the lease simply expires.
        let Some(target) = targets.get(&endpoint_id) else {
            continue;
        };
        claimed.push(Claimed {
            claim: Claim {
                delivery_id: DeliveryId::parse(&id).map_err(decode)?,
                token: token.to_owned(),
                attempt_count,
                slot,
            },
            work: Work::new(
                EventId::parse(&event_id).map_err(decode)?,
                payload,
                EndpointId::parse(&endpoint_id).map_err(decode)?,
                target,
            ),
        });
    }
    Ok(claimed)
}

/// The row's state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Delivered.
    Delivered,
    /// Pending again, due after this delay.
    Retry(Duration),
    /// Failed for good, with a reason.
    Failed(FailureReason),
}

/// One finished attempt, to be written with the row's next state.
#[derive(Debug)]
pub struct AttemptRecord {
    /// The claim it was made under.
    pub claim: Claim,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// What it observed.
    pub result: AttemptResult,
    /// The row's next state.
    pub next: Next,
    /// Whether the claim saw the endpoint failing ([`Work::failing_since`]): a success then
    /// ends its streak ([`crate::health`]).
    pub endpoint_failing: bool,
}

/// What [`record_attempts`] wrote.
#[derive(Debug, Default)]
#[must_use = "pass `inserted` to Handoff::committed"]
pub struct Recorded {
    /// Per record, whether it was written (`false`: the lease was lost and nothing was
    /// written).
    pub written: Vec<bool>,
    /// The deliveries of the operational events the attempts raised.
    pub inserted: Vec<Inserted>,
}

/// A delivery row as [`record_attempts`] locks it.
struct Current {
    token: Option<String>,
    stored: Stored,
    endpoint_id: String,
    event_id: String,
    event_type: Option<EventType>,
}

/// Records attempts and moves their rows to their next state, each only if its lease is still
/// held, in one transaction of five statements however many records there are: the fifth adds
/// them to their endpoints' statistics ([`crate::stats`]). In the same transaction it advances
/// the health of their endpoints and writes the operational events that raises
/// ([`crate::health`]).
pub async fn record_attempts(
    pool: &MySqlPool,
    records: &[AttemptRecord],
    tracking: &Tracking,
) -> sqlx::Result<Recorded> {
    if records.is_empty() {
        return Ok(Recorded::default());
    }
    let mut tx = pool.begin().await?;
    let mut locking = sqlx::query(sqlx::AssertSqlSafe(format!(
        "select id, lease_token, status, failure_reason, endpoint_id, event_id, event_type
           from webhook_deliveries where id in ({}) order by id for update",
        placeholders(records.len())
    )));
    for record in records {
        locking = locking.bind(record.claim.delivery_id.as_str());
    }
    let current: HashMap<String, Current> = locking
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|row| {
            let current = Current {
                token: row.try_get("lease_token")?,
                stored: Stored {
                    status: row
                        .try_get::<&str, _>("status")?
                        .parse()
                        .map_err(bad_column)?,
                    reason: row
                        .try_get::<Option<&str>, _>("failure_reason")?
                        .map(str::parse)
                        .transpose()
                        .map_err(bad_column)?,
                },
                endpoint_id: row.try_get("endpoint_id")?,
                event_id: row.try_get("event_id")?,
                event_type: EventType::parse(row.try_get("event_type")?),
            };
            Ok((row.try_get("id")?, current))
        })
        .collect::<sqlx::Result<_>>()?;
    let written: Vec<bool> = records
        .iter()
        .map(|record| {
            current
                .get(record.claim.delivery_id.as_str())
                .is_some_and(|row| row.token.as_deref() == Some(record.claim.token.as_str()))
        })
        .collect();
    // (record, its row's next status and failure reason) for every lease still held.
    let held: Vec<(&AttemptRecord, Stored)> = records
        .iter()
        .zip(&written)
        .filter(|(_, held)| **held)
        .filter_map(|(record, _)| {
            let row = current.get(record.claim.delivery_id.as_str())?;
            Some((record, next_columns(record.next, row.stored)))
        })
        .collect();
    if held.is_empty() {
        tx.rollback().await?;
        return Ok(Recorded {
            written,
            inserted: Vec::new(),
        });
    }

    // One `case id when ? then ? … end` per column: a single statement updates every row.
    let case = format!("case id{} end", " when ? then ?".repeat(held.len()));
    let update = format!(
        "update webhook_deliveries
         set status = {case}, attempt_count = attempt_count + 1,
             next_attempt_at = utc_timestamp(6) + interval ({case}) microsecond,
             lease_token = null, lease_until = null, throttled_until = null,
             last_status_code = {case}, last_attempt_at = {case}, failure_reason = {case},
             updated_at = utc_timestamp(6)
         where id in ({})",
        placeholders(held.len()),
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(update));
    for (record, next) in &held {
        query = query
            .bind(record.claim.delivery_id.as_str())
            .bind(next.status.as_str());
    }
    for (record, ..) in &held {
        let delay = match record.next {
            Next::Retry(delay) => delay,
            Next::Delivered | Next::Failed(_) => Duration::ZERO,
        };
        query = query
            .bind(record.claim.delivery_id.as_str())
            .bind(micros(delay));
    }
    for (record, ..) in &held {
        query = query
            .bind(record.claim.delivery_id.as_str())
            .bind(record.result.status);
    }
    for (record, ..) in &held {
        query = query
            .bind(record.claim.delivery_id.as_str())
            .bind(record.started_at);
    }
    for (record, next) in &held {
        query = query
            .bind(record.claim.delivery_id.as_str())
            .bind(next.reason.map(FailureReason::as_str));
    }
    for (record, ..) in &held {
        query = query.bind(record.claim.delivery_id.as_str());
    }
    query.execute(&mut *tx).await?;

    let insert = format!(
        "insert into webhook_attempts
           (delivery_id, attempt, started_at, duration_ms, status_code, error_class,
            error_message, response_headers, response_excerpt)
         values {}",
        vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; held.len()].join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(insert));
    for (record, ..) in &held {
        let result = &record.result;
        query = query
            .bind(record.claim.delivery_id.as_str())
            .bind(record.claim.attempt_count + 1)
            .bind(record.started_at)
            .bind(u32::try_from(result.duration.as_millis()).unwrap_or(u32::MAX))
            .bind(result.status)
            .bind(result.error_class.map(|c| c.as_str()))
            .bind(result.error_message.as_deref().map(|m| truncate(m, 1000)))
            .bind(result.response_headers.as_deref())
            .bind(&result.response_excerpt);
    }
    query.execute(&mut *tx).await?;

    // Each attempt as its endpoint's health sees it, and added to its statistics.
    let mut additions = stats::Additions::default();
    let attempts: Vec<health::Attempt<'_>> = held
        .iter()
        .filter_map(|(record, _)| {
            let row = current.get(record.claim.delivery_id.as_str())?;
            let result = &record.result;
            let answered_in = result.status.map(|_| result.duration);
            additions.add(
                &row.endpoint_id,
                record.started_at,
                result.error_class,
                answered_in,
            );
            Some(health::Attempt {
                delivery_id: &record.claim.delivery_id,
                endpoint_id: &row.endpoint_id,
                event: (&row.event_id, row.event_type),
                attempts: record.claim.attempt_count + 1,
                observed: Observed {
                    started_at: record.started_at,
                    success: result.is_success(),
                    status: result.status,
                },
                endpoint_failing: record.endpoint_failing,
                failed: match record.next {
                    Next::Failed(reason) => Some(reason),
                    Next::Delivered | Next::Retry(_) => None,
                },
            })
        })
        .collect();
    let inserted = health::track(&mut tx, &attempts, tracking).await?;
    // Last: the statistics rows are the batch's most contended (every recorder sending to the
    // endpoint adds to them), so they are held for the shortest time.
    stats::add(&mut tx, &additions).await?;
    tx.commit().await?;
    Ok(Recorded { written, inserted })
}

/// A row's status and failure reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stored {
    status: DeliveryStatus,
    reason: Option<FailureReason>,
}

/// The status and failure reason a row moves to after an attempt whose outcome is `next`,
/// given what is stored now. A delivery failed while its attempt was in flight (its endpoint
/// was disabled) stays failed, with its reason, rather than being scheduled again.
fn next_columns(next: Next, stored: Stored) -> Stored {
    let (status, reason) = match next {
        Next::Retry(_) if stored.status == DeliveryStatus::Failed => {
            (DeliveryStatus::Failed, stored.reason)
        }
        Next::Retry(_) => (DeliveryStatus::Pending, None),
        Next::Delivered => (DeliveryStatus::Delivered, None),
        Next::Failed(reason) => (DeliveryStatus::Failed, Some(reason)),
    };
    Stored { status, reason }
}

/// Marks a claimed delivery failed without an attempt (its endpoint is gone or disabled).
pub async fn fail_claimed(
    pool: &MySqlPool,
    claim: &Claim,
    reason: FailureReason,
) -> sqlx::Result<bool> {
    let updated = sqlx::query(
        r"update webhook_deliveries
          set status = ?, failure_reason = ?, lease_token = null, lease_until = null,
              throttled_until = null,
              updated_at = utc_timestamp(6)
          where id = ? and lease_token = ?",
    )
    .bind(DeliveryStatus::Failed.as_str())
    .bind(reason.as_str())
    .bind(claim.delivery_id.as_str())
    .bind(&claim.token)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Disables an endpoint and fails its pending deliveries with
/// [`FailureReason::EndpointDisabled`]. Used by the dispatcher on 410 and after failing for too
/// long, and by the API when a customer disables or deletes one.
pub async fn disable_endpoint(
    conn: &mut MySqlConnection,
    endpoint_id: &EndpointId,
    reason: DisabledReason,
) -> sqlx::Result<()> {
    sqlx::query(
        r"update webhook_endpoints
          set enabled = false, disabled_reason = ?, updated_at = utc_timestamp(6)
          where id = ?",
    )
    .bind(reason.as_str())
    .bind(endpoint_id.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        r"update webhook_deliveries
          set status = ?, failure_reason = ?, throttled_until = null,
              updated_at = utc_timestamp(6)
          where endpoint_id = ? and status = ?",
    )
    .bind(DeliveryStatus::Failed.as_str())
    .bind(FailureReason::EndpointDisabled.as_str())
    .bind(endpoint_id.as_str())
    .bind(DeliveryStatus::Pending.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> &str {
    s.char_indices().nth(max_chars).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn stored(status: DeliveryStatus, reason: Option<FailureReason>) -> Stored {
        Stored { status, reason }
    }

    #[test]
    fn next_columns_table() {
        use DeliveryStatus::{Delivered, Failed, Pending};
        use FailureReason::{AttemptsExhausted, EndpointDisabled, EndpointGone};
        let retry = Next::Retry(Duration::from_secs(5));
        let cases = [
            // A retry of a row still pending (the normal case): pending again, no reason.
            (retry, stored(Pending, None), stored(Pending, None)),
            // A row failed while its attempt was in flight stays failed, with its reason.
            (
                retry,
                stored(Failed, Some(EndpointDisabled)),
                stored(Failed, Some(EndpointDisabled)),
            ),
            (
                retry,
                stored(Failed, Some(EndpointGone)),
                stored(Failed, Some(EndpointGone)),
            ),
            (retry, stored(Failed, None), stored(Failed, None)),
            // Any other stored status is rescheduled, clearing a stale reason.
            (retry, stored(Delivered, None), stored(Pending, None)),
            (
                retry,
                stored(Pending, Some(AttemptsExhausted)),
                stored(Pending, None),
            ),
            // Delivered and Failed win over what is stored.
            (
                Next::Delivered,
                stored(Pending, None),
                stored(Delivered, None),
            ),
            (
                Next::Delivered,
                stored(Failed, Some(EndpointDisabled)),
                stored(Delivered, None),
            ),
            (
                Next::Failed(EndpointGone),
                stored(Pending, None),
                stored(Failed, Some(EndpointGone)),
            ),
            (
                Next::Failed(AttemptsExhausted),
                stored(Failed, Some(EndpointDisabled)),
                stored(Failed, Some(AttemptsExhausted)),
            ),
        ];
        for (next, now, expected) in cases {
            assert_eq!(next_columns(next, now), expected, "{next:?} on {now:?}");
        }
    }

    #[test]
    fn placeholders_lists_n_markers() {
        assert_eq!(placeholders(0), "");
        assert_eq!(placeholders(1), "?");
        assert_eq!(placeholders(3), "?, ?, ?");
        assert_eq!(placeholders(100).matches('?').count(), 100);
    }

    #[test]
    fn truncate_counts_characters_not_bytes() {
        assert_eq!(truncate("", 3), "");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abc", 1_000), "abc");
        // Two-, three- and four-byte characters are never split.
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("日本語テキスト", 3), "日本語");
        assert_eq!(truncate("🦀🦀🦀", 2), "🦀🦀");
        assert_eq!(truncate("a🦀b", 2), "a🦀");
        // A combining mark is a character of its own.
        assert_eq!(truncate("e\u{301}x", 1), "e");
    }
}
