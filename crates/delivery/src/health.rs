//! Endpoint health and operational events, written in the transaction that records the attempts
//! causing them ([`crate::store::record_attempts`]).
//!
//! The endpoints of a batch's failures (and of its successes whose claim saw the endpoint
//! failing) are locked, their streaks advanced attempt by attempt ([`Health::observe`]), and the
//! operational events raised are written with their deliveries in the same transaction: the
//! outbox, so that a crash loses neither the change nor its event. A success to an endpoint
//! whose claim saw it healthy reads and writes nothing more, which keeps the common case at the
//! recorder's five statements.
//!
//! An operational event goes to the customer's live, enabled endpoints that name its type in
//! their subscription, never to the endpoint it is about. Only the delivery of an order event
//! raises `delivery.exhausted`: two failing endpoints subscribed to it would otherwise tell each
//! other of each other's failures forever.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use domain::event::{AboutEndpoint, Event, EventType, ExhaustedDelivery};
use domain::health::{Health, HealthPolicy, Notice, Notified, Observed};
use domain::ids::{CustomerId, DeliveryId, EndpointId, EventId};
use domain::state::FailureReason;
use platform::database::bad_column;
use sqlx::{MySqlConnection, Row};

use crate::outbox::{self, Admission, Handoff, Inserted, Recipients};
use crate::store::{self, placeholders};

/// How attempts bear on their endpoints' health, and where the events they raise go.
#[derive(Debug, Clone)]
pub struct Tracking {
    /// When a streak of failures is worth an event.
    pub policy: HealthPolicy,
    /// Where the deliveries of operational events go: to the relay (SQS mode) or the embedded
    /// dispatcher (memory mode).
    pub handoff: Handoff,
}

/// One recorded attempt, as its endpoint's health sees it.
#[derive(Debug)]
pub(crate) struct Attempt<'a> {
    /// The delivery.
    pub delivery_id: &'a DeliveryId,
    /// Its endpoint.
    pub endpoint_id: &'a str,
    /// The event it carried, and that event's type (`None`: one a later release added).
    pub event: (&'a str, Option<EventType>),
    /// Attempts made, this one included.
    pub attempts: u32,
    /// What the attempt observed.
    pub observed: Observed,
    /// Whether the claim saw the endpoint failing: a success then ends a streak.
    pub endpoint_failing: bool,
    /// Why the delivery failed for good with this attempt, if it did.
    pub failed: Option<FailureReason>,
}

impl Attempt<'_> {
    /// Whether the attempt can change its endpoint's health.
    fn bears_on_health(&self) -> bool {
        !self.observed.success || self.endpoint_failing
    }
}

/// An endpoint row, locked.
struct Locked {
    customer_id: CustomerId,
    url: String,
    health: Health,
    active: bool,
}

/// Advances the health of the endpoints of `attempts` and writes what that raises, in the
/// caller's transaction. Returns the deliveries of the events written, for
/// [`Handoff::committed`] after the commit.
pub(crate) async fn track(
    conn: &mut MySqlConnection,
    attempts: &[Attempt<'_>],
    tracking: &Tracking,
) -> sqlx::Result<Vec<Inserted>> {
    let mut by_endpoint: BTreeMap<&str, Vec<&Attempt<'_>>> = BTreeMap::new();
    for attempt in attempts.iter().filter(|a| a.bears_on_health()) {
        by_endpoint
            .entry(attempt.endpoint_id)
            .or_default()
            .push(attempt);
    }
    if by_endpoint.is_empty() {
        return Ok(Vec::new());
    }
    let mut endpoints = lock_endpoints(conn, by_endpoint.keys().copied()).await?;

    // Each raised event with the endpoint it is about.
    let mut raised: Vec<(Event, EndpointId)> = Vec::new();
    for (endpoint_id, mut attempts) in by_endpoint {
        let Some(endpoint) = endpoints.get_mut(endpoint_id) else {
            continue;
        };
        let id = EndpointId::parse(endpoint_id).map_err(bad_column)?;
        let about = AboutEndpoint {
            id: &id,
            url: &endpoint.url,
        };
        attempts.sort_by_key(|a| a.observed.started_at);
        for attempt in &attempts {
            // Only an order event's delivery raises `delivery.exhausted`: not a test's, which
            // its sender watches, nor an operational event's.
            let order_event = matches!(
                attempt.event.1,
                Some(
                    EventType::OrderCreated
                        | EventType::OrderStatusChanged
                        | EventType::OrderUpdated
                )
            );
            if let (Some(reason), Some(event_type), true) =
                (attempt.failed, attempt.event.1, order_event)
            {
                let event_id = EventId::parse(attempt.event.0).map_err(bad_column)?;
                let delivery = ExhaustedDelivery {
                    id: attempt.delivery_id,
                    event_id: &event_id,
                    event_type,
                    attempts: attempt.attempts,
                    failure_reason: reason,
                    last_status_code: attempt.observed.status,
                };
                let at = attempt.observed.started_at;
                let event = Event::exhausted(endpoint.customer_id.clone(), about, delivery, at);
                raised.push((event, id.clone()));
            }
        }
        // A disabled or deleted endpoint keeps the health it stopped with.
        if !endpoint.active {
            continue;
        }
        let before = endpoint.health;
        let mut disabled = None;
        for attempt in &attempts {
            let Some(notice) = endpoint.health.observe(attempt.observed, &tracking.policy) else {
                continue;
            };
            let event = Event::for_notice(
                endpoint.customer_id.clone(),
                about,
                &notice,
                tracking.policy.auto_disable_after,
                attempt.observed.started_at,
            );
            raised.push((event, id.clone()));
            if let Notice::Disabled { reason, .. } = notice {
                disabled = Some(reason);
                break;
            }
        }
        if endpoint.health != before {
            save_health(conn, &id, &endpoint.health).await?;
        }
        if let Some(reason) = disabled {
            store::disable_endpoint(conn, &id, reason).await?;
            tracing::warn!(endpoint_id = %id, %reason, "endpoint disabled");
        }
    }

    let mut inserted = Vec::new();
    let mut subscribers: HashMap<(String, EventType), Vec<EndpointId>> = HashMap::new();
    for (event, about) in &raised {
        let key = (event.customer_id.as_str().to_owned(), event.event_type);
        let all = match subscribers.get(&key) {
            Some(all) => all,
            None => {
                let found =
                    store::subscribed_endpoints(conn, &event.customer_id, event.event_type).await?;
                subscribers.entry(key).or_insert(found)
            }
        };
        let recipients: Vec<EndpointId> = all.iter().filter(|id| *id != about).cloned().collect();
        if recipients.is_empty() {
            continue;
        }
        outbox::insert_event(conn, event).await?;
        inserted.push(
            outbox::insert_deliveries(
                conn,
                &tracking.handoff,
                &Admission::default(),
                event,
                Recipients::Endpoints(&recipients),
            )
            .await?,
        );
        metrics::counter!("operational_events_total", "type" => event.event_type.as_str())
            .increment(1);
    }
    Ok(inserted)
}

/// Locks the rows of `ids`, in id order, and reads their health.
async fn lock_endpoints<'a>(
    conn: &mut MySqlConnection,
    ids: impl ExactSizeIterator<Item = &'a str>,
) -> sqlx::Result<HashMap<String, Locked>> {
    let sql = format!(
        "select id, customer_id, url, (enabled and deleted_at is null) as active, failing_since,
                failure_streak, failing_notified
           from webhook_endpoints where id in ({}) order by id for update",
        placeholders(ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id);
    }
    query
        .fetch_all(conn)
        .await?
        .into_iter()
        .map(|row| {
            let failing_since: Option<DateTime<Utc>> = row.try_get("failing_since")?;
            let locked = Locked {
                customer_id: CustomerId::parse(row.try_get("customer_id")?).map_err(bad_column)?,
                url: row.try_get("url")?,
                active: row.try_get::<i64, _>("active")? != 0,
                health: Health {
                    failing_since,
                    failure_streak: row.try_get("failure_streak")?,
                    notified: Notified::from_u8(row.try_get("failing_notified")?),
                },
            };
            Ok((row.try_get("id")?, locked))
        })
        .collect()
}

async fn save_health(
    conn: &mut MySqlConnection,
    id: &EndpointId,
    health: &Health,
) -> sqlx::Result<()> {
    sqlx::query(
        "update webhook_endpoints set failing_since = ?, failure_streak = ?, failing_notified = ?
          where id = ?",
    )
    .bind(health.failing_since)
    .bind(health.failure_streak)
    .bind(health.notified.as_u8())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
