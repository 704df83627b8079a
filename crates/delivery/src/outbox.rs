//! The transactional outbox: events and their deliveries are written in the transaction of the
//! change that caused them; the relay publishes them outside any transaction and marks what
//! the queue accepted. New deliveries are written already claimed by this process's relay and
//! handed to it after the commit ([`Handoff::publisher`]); the relay claims from the table
//! whatever was not handed over (its room was full, or the process died after the commit and
//! the claim expired) and whatever is published again.
//!
//! In memory mode the delivery table is itself the queue and no relay runs: deliveries are
//! written already published and, with a direct hand-off, leased to the embedded dispatcher,
//! which is handed them in memory after the commit; otherwise it claims them when due
//! ([`Handoff`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::event::Event;
use domain::ids::{DeliveryId, EndpointId, token};
use domain::state::DeliveryStatus;
use domain::time::micros;
use sqlx::{MySqlConnection, MySqlPool, QueryBuilder};
use tokio::sync::{Notify, mpsc};

use platform::database::bad_column;

use crate::store::{self, Claim, Claimed, Target, Work};

/// Where committed deliveries go next, and whom a commit wakes.
#[derive(Debug, Clone)]
pub struct Handoff {
    wake: Arc<Notify>,
    route: Route,
}

#[derive(Debug, Clone)]
enum Route {
    /// SQS mode: through the relay, which claims unpublished rows.
    Relay,
    /// SQS mode: new deliveries are written claimed by the relay that reads the outgoing
    /// queue and handed to it after the commit.
    Publish(Outgoing),
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

    /// SQS mode with a direct hand-off: a new event's deliveries are written claimed (as
    /// [`claim_unpublished`] would claim them) by the relay that reads `outgoing`, and are
    /// handed to it after the commit, so it publishes them without claiming them. When its
    /// room is full they are written unclaimed and `wake` rouses the relay as in
    /// [`Handoff::relay`]; a hand-off lost with the process leaves its rows claimed until the
    /// claim expires, and any relay then claims them.
    pub fn publisher(wake: Arc<Notify>, outgoing: Outgoing) -> Self {
        Self {
            wake,
            route: Route::Publish(outgoing),
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

    /// Waits, with a direct hand-off, until the dispatcher's inbox has room for one more
    /// event, for at most the inbox's wait; at once otherwise. This is the API's backpressure:
    /// while the dispatcher is behind, changes are accepted only as fast as it takes them, so
    /// that a webhook arrives within a bounded time of the response however hard the API is
    /// driven. A change that waited in vain goes on and its deliveries wait in the table (a
    /// stuck or slow receiver holds intake back by at most the wait). Call it before the
    /// transaction, which must not hold its locks while waiting.
    pub async fn admit(&self) -> Admission {
        let Route::Direct(inbox) = &self.route else {
            return Admission::default();
        };
        let permit = match inbox.sender.clone().try_reserve_owned() {
            Ok(permit) => Some(permit),
            Err(mpsc::error::TrySendError::Closed(_)) => None,
            Err(mpsc::error::TrySendError::Full(_)) if inbox.wait.is_zero() => None,
            Err(mpsc::error::TrySendError::Full(sender)) => {
                metrics::counter!("intake_backpressure_waits_total").increment(1);
                match tokio::time::timeout(inbox.wait, sender.reserve_owned()).await {
                    Ok(reserved) => reserved.ok(),
                    Err(_) => {
                        metrics::counter!("intake_backpressure_timeouts_total").increment(1);
                        None
                    }
                }
            }
        };
        Admission(std::sync::Mutex::new(permit))
    }

    /// Whether new and re-opened deliveries wait for the relay.
    pub fn publish_pending(&self) -> bool {
        matches!(self.route, Route::Relay | Route::Publish(_))
    }

    /// Whether new deliveries may go straight to the dispatcher, which then needs their targets
    /// ([`Recipients::Targets`]).
    pub fn takes_targets(&self) -> bool {
        matches!(self.route, Route::Direct(_))
    }

    /// Tells whoever takes deliveries next that some were committed.
    pub fn notify(&self) {
        self.wake.notify_one();
    }

    /// After the commit of a transaction that inserted `inserted`: hands its deliveries to the
    /// dispatcher if they were leased to it, else wakes whoever takes them.
    pub fn committed(&self, inserted: Inserted) {
        match inserted.handed {
            Some(HandedOver::Dispatcher(permit, handed)) => {
                permit.send(handed);
            }
            Some(HandedOver::Relay(permit, claimed)) => {
                permit.send(claimed);
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
    wait: Duration,
}

impl Inbox {
    /// An inbox of at most `capacity` events' deliveries, leased for `lease` (the
    /// dispatcher's lease), and the dispatcher's receiver. A change that would write deliveries
    /// waits up to `wait` for room before its transaction ([`Handoff::admit`]).
    pub fn new(capacity: usize, lease: Duration, wait: Duration) -> (Self, mpsc::Receiver<Handed>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (
            Self {
                sender,
                lease,
                wait,
            },
            receiver,
        )
    }
}

/// The relay's end of a direct hand-off in SQS mode: deliveries claimed for it at insert.
#[derive(Debug, Clone)]
pub struct Outgoing {
    sender: mpsc::Sender<Unpublished>,
    claim: Duration,
}

impl Outgoing {
    /// Room for at most `capacity` events' deliveries, claimed for `claim` (the relay's claim),
    /// and the relay's receiver.
    pub fn new(capacity: usize, claim: Duration) -> (Self, mpsc::Receiver<Unpublished>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        (Self { sender, claim }, receiver)
    }
}

/// Deliveries written claimed by the relay, to publish.
#[derive(Debug)]
pub struct Unpublished {
    /// The claim token, as [`claim_unpublished`] would have returned it.
    pub token: String,
    /// The deliveries.
    pub ids: Vec<DeliveryId>,
    /// When the claim was taken (no later than the statement that wrote it).
    pub claimed_at: Instant,
    /// How long it was taken for.
    pub claim: Duration,
}

/// The next hand-off from `receiver` (an [`Inbox`]'s or an [`Outgoing`]'s); never once the
/// receiver is gone (`None`: every sender was dropped, and its loop set it aside).
pub async fn receive<T>(receiver: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// Room in the embedded dispatcher's inbox for one event's deliveries, taken before the
/// transaction that writes them ([`Handoff::admit`]) and used by [`insert_deliveries`]; given
/// back if unused (no endpoint is subscribed, or the transaction rolled back).
#[derive(Debug, Default)]
pub struct Admission(std::sync::Mutex<Option<mpsc::OwnedPermit<Handed>>>);

impl Admission {
    fn take(&self) -> Option<mpsc::OwnedPermit<Handed>> {
        self.0.lock().ok().and_then(|mut permit| permit.take())
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
    handed: Option<HandedOver>,
}

/// What a commit hands over, in the room reserved for it.
#[derive(Debug)]
enum HandedOver {
    Dispatcher(mpsc::OwnedPermit<Handed>, Handed),
    Relay(mpsc::OwnedPermit<Unpublished>, Unpublished),
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

/// Who a new event's deliveries go to.
#[derive(Debug)]
pub enum Recipients<'a> {
    /// These endpoints; their targets are read in the transaction if the hand-off needs them.
    Endpoints(&'a [EndpointId]),
    /// Endpoints read with their targets ([`store::subscribed_targets`]).
    Targets(Vec<(EndpointId, Target)>),
}

/// Inserts one pending delivery of `event` per recipient, due now: waiting for the relay if
/// `handoff` has one (claimed by it if it takes them directly and has room), leased to the
/// embedded dispatcher if it takes them directly and its inbox has room, `admission`'s or any
/// left (then with their targets, read in the same transaction unless `recipients` carries
/// them, so that the dispatcher reads nothing).
pub async fn insert_deliveries(
    conn: &mut MySqlConnection,
    handoff: &Handoff,
    admission: &Admission,
    event: &Event,
    recipients: Recipients<'_>,
) -> sqlx::Result<Inserted> {
    let (endpoints, known): (Cow<'_, [EndpointId]>, _) = match recipients {
        Recipients::Endpoints(endpoints) => (Cow::Borrowed(endpoints), None),
        Recipients::Targets(targets) => {
            let endpoints = targets.iter().map(|(id, _)| id.clone()).collect();
            let known: HashMap<String, Target> = targets
                .into_iter()
                .map(|(id, target)| (id.as_str().to_owned(), target))
                .collect();
            (Cow::Owned(endpoints), Some(known))
        }
    };
    if endpoints.is_empty() {
        return Ok(Inserted::default());
    }
    let leasing = match &handoff.route {
        Route::Direct(inbox) => taken_for(
            admission
                .take()
                .or_else(|| inbox.sender.clone().try_reserve_owned().ok()),
            inbox.lease,
        ),
        Route::Relay | Route::Table | Route::Publish(_) => None,
    };
    let publishing = match &handoff.route {
        Route::Publish(outgoing) => taken_for(
            outgoing.sender.clone().try_reserve_owned().ok(),
            outgoing.claim,
        ),
        Route::Relay | Route::Table | Route::Direct(_) => None,
    };
    let deliveries: Vec<(DeliveryId, &EndpointId)> = endpoints
        .iter()
        .map(|endpoint| (DeliveryId::new(), endpoint))
        .collect();
    let mut query = QueryBuilder::new(
        "insert into webhook_deliveries (id, event_id, endpoint_id, customer_id, event_type, \
         status, attempt_count, next_attempt_at, publish_pending, publish_token, \
         publish_claimed_until, lease_token, lease_until, created_at, updated_at) ",
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
        for taken in [
            publishing
                .as_ref()
                .map(|(_, claim, _, token)| (token, claim)),
            leasing.as_ref().map(|(_, lease, _, token)| (token, lease)),
        ] {
            match taken {
                Some((token, until)) => row
                    .push_bind(token.clone())
                    .push_unseparated(", utc_timestamp(6) + interval ")
                    .push_bind_unseparated(micros(*until))
                    .push_unseparated(" microsecond"),
                None => row.push("null, null"),
            };
        }
        row.push("utc_timestamp(6), utc_timestamp(6)");
    });
    query.build().execute(&mut *conn).await?;
    let ids = || {
        deliveries
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<Vec<_>>()
    };
    if let Some((permit, claim, claimed_at, token)) = publishing {
        return Ok(Inserted {
            ids: ids(),
            handed: Some(HandedOver::Relay(
                permit,
                Unpublished {
                    token,
                    ids: ids(),
                    claimed_at,
                    claim,
                },
            )),
        });
    }
    let Some((permit, lease, leased_at, token)) = leasing else {
        return Ok(Inserted {
            ids: ids(),
            handed: None,
        });
    };
    let targets = match known {
        Some(known) => known,
        None => store::load_targets(conn, endpoints.iter().map(EndpointId::as_str)).await?,
    };
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
                    slot: None,
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
        ids: ids(),
        handed: Some(HandedOver::Dispatcher(
            permit,
            Handed {
                claims,
                leased_at,
                lease,
            },
        )),
    })
}

/// With room to hand them over: rows to write taken for `term` from now, under a new token.
fn taken_for<T>(
    room: Option<mpsc::OwnedPermit<T>>,
    term: Duration,
) -> Option<(mpsc::OwnedPermit<T>, Duration, Instant, String)> {
    room.map(|permit| (permit, term, Instant::now(), token()))
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
    push_list(&mut claim, &candidates);
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

/// Marks the deliveries the queue accepted as published, and releases the rest of the claims
/// under `tokens` so the next round retries them (nothing is left when `all_accepted`).
pub async fn settle_claims(
    pool: &MySqlPool,
    tokens: &[String],
    accepted: &[DeliveryId],
    all_accepted: bool,
) -> sqlx::Result<()> {
    if tokens.is_empty() {
        return Ok(());
    }
    if !accepted.is_empty() {
        let mut query = QueryBuilder::new(
            "update webhook_deliveries set publish_pending = false, publish_token = null, \
             publish_claimed_until = null, published_at = utc_timestamp(6) where id in (",
        );
        push_list(&mut query, accepted.iter().map(DeliveryId::as_str));
        query.push(" and publish_token in (");
        push_list(&mut query, tokens);
        query.build().execute(pool).await?;
    }
    if !all_accepted {
        let mut query = QueryBuilder::new(
            "update webhook_deliveries set publish_token = null, publish_claimed_until = null \
             where publish_token in (",
        );
        push_list(&mut query, tokens);
        query.build().execute(pool).await?;
    }
    Ok(())
}

/// Binds `values` as the list of an `in (` the query ends with, and closes it.
fn push_list<'a>(
    query: &mut QueryBuilder<sqlx::MySql>,
    values: impl IntoIterator<Item = &'a (impl AsRef<str> + ?Sized + 'a)>,
) {
    let mut separated = query.separated(", ");
    for value in values {
        separated.push_bind(value.as_ref().to_owned());
    }
    separated.push_unseparated(")");
}

/// Notes that consumers received the messages of `ids`: each delivery's `received_at`, and,
/// when some of them were received for the first time, the receive watermark ([`sweep_overdue`]),
/// which moves up to `first_sent`, the latest time at which one of those was sent (the queue's
/// own `SentTimestamp`). Only first receives move it: a queue may hand a returning message (a
/// retry whose delay ran out, one whose consumer died) out ahead of the backlog, so a receive of
/// one says nothing of the messages sent before it.
pub async fn note_received(
    pool: &MySqlPool,
    ids: &[DeliveryId],
    first_sent: Option<chrono::DateTime<chrono::Utc>>,
) -> sqlx::Result<()> {
    if !ids.is_empty() {
        let mut received = QueryBuilder::new(
            "update webhook_deliveries set received_at = utc_timestamp(6) where id in (",
        );
        push_list(&mut received, ids.iter().map(DeliveryId::as_str));
        received.build().execute(pool).await?;
    }
    let Some(first_sent) = first_sent else {
        return Ok(());
    };
    sqlx::query(
        r"insert into webhook_queue_watermark (id, received_available_at, updated_at)
          values (1, ?, utc_timestamp(6))
          on duplicate key update
            updated_at = if(values(received_available_at) > received_available_at,
                            values(updated_at), updated_at),
            received_available_at = greatest(received_available_at, values(received_available_at))",
    )
    .bind(first_sent)
    .execute(pool)
    .await?;
    Ok(())
}

/// When a delivery's message became available to receive: when it was published or, for a
/// retry (whose message the consumer hid for the retry's delay), when it fell due again.
const AVAILABLE_AT: &str = "greatest(published_at, next_attempt_at)";

/// What one sweep marked for publishing again, by why its message was taken for lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Consumers have since received, for the first time, a message sent a whole window after
    /// their own became available.
    pub overtaken: u64,
    /// The queue holds no message at all (none waiting, delayed or being handled).
    pub queue_empty: u64,
    /// Never published (written while the deployment ran in memory mode).
    pub unpublished: u64,
}

impl Swept {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.overtaken + self.queue_empty + self.unpublished
    }
}

/// Marks for publishing again the pending deliveries whose message is lost, not merely
/// waiting: overdue by more than `overdue`, no message published for them for as long, not
/// leased, and either consumers have since received for the first time a message sent `overdue`
/// after theirs became available (the receive watermark, [`note_received`]: a queue hands new
/// messages out roughly in the order they were sent, and one returning after a retry's delay no
/// later than those sent after it returned, so theirs would have been received first) while no
/// consumer received theirs in the last window since it became available (one a consumer holds
/// is not lost: it is handled, or returns to the queue when its visibility times out), or
/// `queue_empty` (the queue holds no message at all, neither waiting nor being handled, so
/// theirs is not in it). A queue that is merely behind, however long, is left alone: the
/// watermark passes a waiting message only once it has been received, and republishing would
/// only multiply the backlog. A republished delivery's publish time moves on, so it is
/// republished at most once per window while it stays lost.
pub async fn sweep_overdue(
    pool: &MySqlPool,
    overdue: Duration,
    queue_empty: bool,
) -> sqlx::Result<Swept> {
    const CANDIDATES: &str = "update webhook_deliveries set publish_pending = true, \
        updated_at = utc_timestamp(6) \
        where status = ? and publish_pending = false \
          and next_attempt_at < utc_timestamp(6) - interval ? microsecond \
          and (lease_until is null or lease_until < utc_timestamp(6)) ";
    const PUBLISHED_BEFORE: &str = "and published_at < utc_timestamp(6) - interval ? microsecond ";
    let overdue_us = micros(overdue);
    // `condition` binds the window `windows` times.
    let sweep = |condition: &str, windows: usize| {
        let sql = format!("{CANDIDATES}{condition}");
        async move {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(DeliveryStatus::Pending.as_str())
                .bind(overdue_us);
            for _ in 0..windows {
                query = query.bind(overdue_us);
            }
            Ok::<_, sqlx::Error>(query.execute(pool).await?.rows_affected())
        }
    };
    let mut swept = Swept {
        unpublished: sweep("and published_at is null", 0).await?,
        overtaken: sweep(
            &format!(
                "{PUBLISHED_BEFORE}and {AVAILABLE_AT} < (select received_available_at \
                 from webhook_queue_watermark where id = 1) - interval ? microsecond \
                 and (received_at is null or received_at < {AVAILABLE_AT} \
                      or received_at < utc_timestamp(6) - interval ? microsecond)"
            ),
            3,
        )
        .await?,
        queue_empty: 0,
    };
    if queue_empty {
        swept.queue_empty = sweep(PUBLISHED_BEFORE, 1).await?;
    }
    for (reason, count) in [
        ("overtaken", swept.overtaken),
        ("queue_empty", swept.queue_empty),
        ("unpublished", swept.unpublished),
    ] {
        if count > 0 {
            metrics::counter!("relay_republished_total", "reason" => reason).increment(count);
        }
    }
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
