//! The transactional outbox: events and their deliveries are written in the transaction of the
//! change that caused them; the relay later claims unpublished deliveries, publishes them
//! outside any transaction and marks what the queue accepted.
//!
//! In memory mode the delivery table is itself the queue and no relay runs: deliveries are
//! written already published and, with a direct hand-off, leased to the embedded dispatcher,
//! which is handed them in memory after the commit; otherwise it claims them when due
//! ([`Handoff`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::event::Event;
use domain::ids::{DeliveryId, EndpointId, token};
use domain::state::DeliveryStatus;
use domain::time::micros;
use sqlx::{MySqlConnection, MySqlPool, QueryBuilder};
use tokio::sync::{Notify, mpsc};

use platform::database::bad_column;

use crate::store::{self, Claim, Claimed, Work};

/// Where committed deliveries go next, and whom a commit wakes.
#[derive(Debug, Clone)]
pub struct Handoff {
    wake: Arc<Notify>,
    route: Route,
}

#[derive(Debug, Clone)]
enum Route {
    /// SQS mode: through the relay.
    Relay,
    /// Memory mode: the embedded dispatcher claims due rows.
    Table,
    /// Memory mode: new deliveries are leased to the embedded dispatcher when written and
    /// handed to it in memory after the commit.
    Direct(Inbox),
}

impl Handoff {
    /// SQS mode: deliveries wait in the outbox (`publish_pending`) until the relay, woken by
    /// `wake`, publishes them.
    pub fn relay(wake: Arc<Notify>) -> Self {
        Self {
            wake,
            route: Route::Relay,
        }
    }

    /// Memory mode: the table is the queue, so there is nothing to publish; `wake` rouses the
    /// embedded dispatcher, which claims due rows itself.
    pub fn dispatcher(wake: Arc<Notify>) -> Self {
        Self {
            wake,
            route: Route::Table,
        }
    }

    /// Memory mode with a direct hand-off: a new event's deliveries are written leased to the
    /// embedded dispatcher that reads `inbox`, with everything their attempts need, and are
    /// handed to it after the commit, so it sends them without claiming or reading them. When
    /// the inbox is full they are written unleased and `wake` rouses the dispatcher as in
    /// [`Handoff::dispatcher`]. A hand-off lost with the process (a crash after the commit)
    /// leaves its rows leased; the lease expires and any instance claims them.
    pub fn direct(wake: Arc<Notify>, inbox: Inbox) -> Self {
        Self {
            wake,
            route: Route::Direct(inbox),
        }
    }

    /// Whether new and re-opened deliveries wait for the relay.
    pub fn publish_pending(&self) -> bool {
        matches!(self.route, Route::Relay)
    }

    /// Tells whoever takes deliveries next that some were committed.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// After the commit of a transaction that inserted `inserted`: hands its deliveries to the
    /// dispatcher if they were leased to it, else wakes whoever takes them.
    pub fn committed(&self, inserted: Inserted) {
        match inserted.handed {
            Some((permit, handed)) => {
                permit.send(handed);
            }
            None if inserted.ids.is_empty() => {}
            None => self.notify(),
        }
    }
}

/// The embedded dispatcher's end of a direct hand-off: deliveries leased to it at insert.
#[derive(Debug, Clone)]
pub struct Inbox {
    sender: mpsc::Sender<Handed>,
    lease: Duration,
}

impl Inbox {
    /// An inbox of at most `capacity` events' deliveries, leased for `lease` (the
    /// dispatcher's lease), and the dispatcher's receiver.
    pub fn new(capacity: usize, lease: Duration) -> (Self, mpsc::Receiver<Handed>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (Self { sender, lease }, receiver)
    }
}

/// Deliveries written leased to the embedded dispatcher, with what their attempts need.
#[derive(Debug)]
pub struct Handed {
    /// The claims, as a claim of the rows would have loaded them.
    pub claims: Vec<Claimed>,
    /// When the lease was taken (no later than the statement that wrote it).
    pub leased_at: Instant,
    /// How long it was taken for.
    pub lease: Duration,
}

/// What [`insert_deliveries`] wrote, to be passed to [`Handoff::committed`] after the commit.
#[derive(Debug, Default)]
#[must_use = "pass it to Handoff::committed after the commit"]
pub struct Inserted {
    /// The deliveries.
    pub ids: Vec<DeliveryId>,
    handed: Option<(mpsc::OwnedPermit<Handed>, Handed)>,
}

/// Inserts an event with its exact payload bytes.
pub async fn insert_event(conn: &mut MySqlConnection, event: &Event) -> sqlx::Result<()> {
    sqlx::query(
        r"insert into webhook_events (id, customer_id, event_type, order_id, payload, created_at)
          values (?, ?, ?, ?, ?, ?)",
    )
    .bind(event.id.as_str())
    .bind(event.customer_id.as_str())
    .bind(event.event_type.as_str())
    .bind(event.order_id.as_ref().map(|id| id.as_str()))
    .bind(&event.payload)
    .bind(event.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts one pending delivery of `event` per endpoint, due now: waiting for the relay if
/// `handoff` has one, leased to the embedded dispatcher if it takes them directly and its inbox
/// has room (then with their targets read in the same transaction, so that the dispatcher
/// reads nothing).
pub async fn insert_deliveries(
    conn: &mut MySqlConnection,
    handoff: &Handoff,
    event: &Event,
    endpoints: &[EndpointId],
) -> sqlx::Result<Inserted> {
    if endpoints.is_empty() {
        return Ok(Inserted::default());
    }
    let leasing = match &handoff.route {
        Route::Direct(inbox) => inbox
            .sender
            .clone()
            .try_reserve_owned()
            .ok()
            .map(|permit| (permit, inbox.lease, Instant::now(), token())),
        Route::Relay | Route::Table => None,
    };
    let deliveries: Vec<(DeliveryId, &EndpointId)> = endpoints
        .iter()
        .map(|endpoint| (DeliveryId::new(), endpoint))
        .collect();
    let mut query = QueryBuilder::new(
        "insert into webhook_deliveries (id, event_id, endpoint_id, customer_id, event_type, \
         status, attempt_count, next_attempt_at, publish_pending, lease_token, lease_until, \
         created_at, updated_at) ",
    );
    query.push_values(&deliveries, |mut row, (id, endpoint)| {
        row.push_bind(id.as_str().to_owned())
            .push_bind(event.id.as_str().to_owned())
            .push_bind(endpoint.as_str().to_owned())
            .push_bind(event.customer_id.as_str().to_owned())
            .push_bind(event.event_type.as_str())
            .push_bind(DeliveryStatus::Pending.as_str())
            .push("0, utc_timestamp(6)")
            .push_bind(handoff.publish_pending());
        match &leasing {
            Some((_, lease, _, token)) => row
                .push_bind(token.clone())
                .push_unseparated(", utc_timestamp(6) + interval ")
                .push_bind_unseparated(micros(*lease))
                .push_unseparated(" microsecond"),
            None => row.push("null, null"),
        };
        row.push("utc_timestamp(6), utc_timestamp(6)");
    });
    query.build().execute(&mut *conn).await?;
    let Some((permit, lease, leased_at, token)) = leasing else {
        return Ok(Inserted {
            ids: deliveries.into_iter().map(|(id, _)| id).collect(),
            handed: None,
        });
    };
    let targets = store::load_targets(conn, endpoints.iter().map(EndpointId::as_str)).await?;
    let mut claims = Vec::with_capacity(deliveries.len());
    for (id, endpoint) in &deliveries {
        // Every endpoint given exists (they were just read in this transaction); one that did
        // not would leave its row leased until the lease expires, then claimed as usual.
        if let Some(target) = targets.get(endpoint.as_str()) {
            claims.push(Claimed {
                claim: Claim {
                    delivery_id: id.clone(),
                    token: token.clone(),
                    attempt_count: 0,
                },
                work: Work::new(
                    event.id.clone(),
                    event.payload.clone(),
                    (*endpoint).clone(),
                    target,
                ),
            });
        }
    }
    Ok(Inserted {
        ids: deliveries.into_iter().map(|(id, _)| id).collect(),
        handed: Some((
            permit,
            Handed {
                claims,
                leased_at,
                lease,
            },
        )),
    })
}

/// Claims up to `limit` unpublished deliveries for `ttl`; returns the claim token and ids.
/// The candidates are read without locks, then claimed by id with the same conditions as a
/// compare-and-set, so that a claim locks only the rows it takes (an `update … order by …
/// limit` locks every row its index scan passes, and deadlocked with the transactions writing
/// deliveries). No lock is held while publishing.
pub async fn claim_unpublished(
    pool: &MySqlPool,
    limit: u32,
    ttl: Duration,
) -> sqlx::Result<(String, Vec<DeliveryId>)> {
    let token = domain::ids::token();
    let candidates: Vec<String> = sqlx::query_scalar(
        r"select id from webhook_deliveries
          where publish_pending = true
            and (publish_claimed_until is null or publish_claimed_until < utc_timestamp(6))
          order by publish_pending, publish_claimed_until
          limit ?",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    if candidates.is_empty() {
        return Ok((token, Vec::new()));
    }
    let mut claim = QueryBuilder::new("update webhook_deliveries set publish_token = ");
    claim
        .push_bind(token.clone())
        .push(", publish_claimed_until = utc_timestamp(6) + interval ")
        .push_bind(micros(ttl))
        .push(
            " microsecond where publish_pending = true \
             and (publish_claimed_until is null or publish_claimed_until < utc_timestamp(6)) \
             and id in (",
        );
    let mut ids = claim.separated(", ");
    for id in &candidates {
        ids.push_bind(id.clone());
    }
    ids.push_unseparated(")");
    if claim.build().execute(pool).await?.rows_affected() == 0 {
        return Ok((token, Vec::new()));
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        r"select id, timestampdiff(microsecond, created_at, utc_timestamp(6))
          from webhook_deliveries where publish_token = ? order by id",
    )
    .bind(&token)
    .fetch_all(pool)
    .await?;
    if let Some(oldest_us) = rows.iter().map(|(_, age)| *age).max() {
        #[expect(clippy::cast_precision_loss, reason = "a lag in seconds needs no more")]
        metrics::histogram!("relay_lag_seconds").record(oldest_us as f64 / 1e6);
    }
    let ids = rows
        .iter()
        .map(|(id, _)| DeliveryId::parse(id).map_err(bad_column))
        .collect::<sqlx::Result<_>>()?;
    Ok((token, ids))
}

/// Marks the deliveries the queue accepted as published, and releases the rest of the claim
/// so the next round retries them.
pub async fn settle_claim(
    pool: &MySqlPool,
    token: &str,
    accepted: &[DeliveryId],
) -> sqlx::Result<()> {
    if !accepted.is_empty() {
        let mut query = QueryBuilder::new(
            "update webhook_deliveries set publish_pending = false, publish_token = null, \
             publish_claimed_until = null, published_at = utc_timestamp(6) where publish_token = ",
        );
        query.push_bind(token.to_owned()).push(" and id in (");
        let mut ids = query.separated(", ");
        for id in accepted {
            ids.push_bind(id.as_str().to_owned());
        }
        ids.push_unseparated(")");
        query.build().execute(pool).await?;
    }
    sqlx::query(
        r"update webhook_deliveries set publish_token = null, publish_claimed_until = null
          where publish_token = ?",
    )
    .bind(token)
    .execute(pool)
    .await?;
    Ok(())
}

/// Marks pending deliveries for publishing again when they are overdue by more than `overdue`
/// and no message was published for them for as long: their message was lost, dead-lettered,
/// or dropped by a crash. A queue that is merely behind is left alone, since republishing
/// would only add to its backlog.
pub async fn sweep_overdue(pool: &MySqlPool, overdue: Duration) -> sqlx::Result<u64> {
    let overdue_us = micros(overdue);
    let swept = sqlx::query(
        r"update webhook_deliveries set publish_pending = true, updated_at = utc_timestamp(6)
          where status = ? and publish_pending = false
            and next_attempt_at < utc_timestamp(6) - interval ? microsecond
            and (published_at is null or published_at < utc_timestamp(6) - interval ? microsecond)
            and (lease_until is null or lease_until < utc_timestamp(6))",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .bind(overdue_us)
    .bind(overdue_us)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(swept)
}

/// How many deliveries are not settled yet: pending, or waiting to be published.
pub async fn unsettled(pool: &MySqlPool) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from webhook_deliveries where status = ? or publish_pending",
    )
    .bind(DeliveryStatus::Pending.as_str())
    .fetch_one(pool)
    .await
}
