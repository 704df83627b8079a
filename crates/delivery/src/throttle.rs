//! Per-endpoint rate limits across every dispatcher at once: the limiter's state is one row per
//! endpoint in the database (`endpoint_throttles`), taken forward under the row's lock by
//! whichever dispatcher asks for a slot, with the database's clock (`domain::throttle`).
//!
//! A claimed delivery of a rate-limited endpoint asks for a slot before it is sent. A slot that is
//! due (within [`HOLD`]) is waited for in place; a later one is kept in the delivery's row
//! (`throttled_until`) and the lease released, the delivery due again [`EARLY`] before its slot,
//! so that it comes back in time, waits out the rest in place and is sent in its slot without
//! asking again: it keeps its place, and a late claim pass or queue cannot bunch sends up (a slot
//! missed by more than one interval is given up for a new one). Waiting is not an attempt:
//! nothing is recorded and the attempt count stays. The slots are handed out by one
//! [`Limiter`] per process, which serves the requests that wait together in one transaction per
//! endpoint.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::ids::EndpointId;
use domain::throttle::{self, RateLimit, Reservation};
use domain::time::micros;
use sqlx::MySqlPool;
use tokio::sync::{mpsc, oneshot};

use crate::dispatcher::random_unit;
use crate::store::Claim;

/// A slot at most this far away is waited for in place, holding the claim; a later one is
/// waited for in the table (or the queue).
pub const HOLD: Duration = Duration::from_millis(100);

/// How long before its slot a waiting delivery is due again. It comes back this much early (in
/// SQS mode up to a second more: a message's delay is in whole seconds, rounded down, and a claim
/// takes a delivery due within a second) and waits out the rest in place.
pub const EARLY: Duration = Duration::from_millis(100);

/// Slots are handed out at most this far ahead; a delivery finding them all taken comes back when
/// one is within reach. It bounds how far ahead the limiter runs of what is being sent (a backlog
/// of one endpoint takes slots no further than this ahead, then waits its turn).
pub const HORIZON: Duration = Duration::from_secs(600);

/// How long a delivery that waited for its slot in place waits for a request slot again before
/// it gives the slot up and asks for a new one. Long enough that a busy window never costs a
/// slot; short enough that the wait, the slot's and the request's together stay within the
/// claim's lease.
pub const REQUEST_SLOT_PATIENCE: Duration = Duration::from_secs(1);

/// A delivery turned away with every slot within the horizon taken comes back no sooner than
/// this, and up to [`FULL_SPREAD`] later, so that a backlog beyond the horizon does not return
/// all at once to ask again for the one slot that came free.
pub const FULL_RETRY: Duration = Duration::from_secs(5);

/// See [`FULL_RETRY`].
pub const FULL_SPREAD: Duration = Duration::from_secs(60);

/// What a claimed delivery of a rate-limited endpoint should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Send after this wait (zero: now), holding the claim.
    SendAfter(Duration),
    /// Its slot is at this time, this far away: kept in the row, to be sent then.
    SlotAt(DateTime<Utc>, Duration),
    /// No slot within the horizon: ask again after this long.
    Full(Duration),
}

/// What a delivery put back waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deferral {
    /// Its slot at this time (due again [`EARLY`] before it), this far away.
    Slot(DateTime<Utc>, Duration),
    /// Another request for a slot after this long.
    Retry(Duration),
}

/// Asks `endpoint`'s limiter for `count` slots at once, in a transaction of its own (the
/// limiter's row locked for its duration), handed out in order: each is what [`throttle::reserve`]
/// gives the next request.
pub async fn reserve(
    pool: &MySqlPool,
    endpoint: &EndpointId,
    limit: RateLimit,
    count: usize,
) -> sqlx::Result<Vec<Reservation>> {
    let mut tx = pool.begin().await?;
    let (mut tat, now): (Option<DateTime<Utc>>, DateTime<Utc>) = loop {
        let row: Option<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "select tat, utc_timestamp(6) from endpoint_throttles where endpoint_id = ? for update",
        )
        .bind(endpoint.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            Some((tat, now)) => break (Some(tat), now),
            None => {
                // First use: write the row (another dispatcher may be writing it too), then lock
                // it like any other.
                sqlx::query(
                    "insert into endpoint_throttles (endpoint_id, tat) values (?, utc_timestamp(6))
                     on duplicate key update endpoint_id = endpoint_id",
                )
                .bind(endpoint.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
    };
    let stored = tat;
    let reservations: Vec<Reservation> = (0..count)
        .map(|_| {
            let reservation = throttle::reserve(tat, now, limit, HORIZON);
            if let Reservation::Granted { tat: next, .. } = reservation {
                tat = Some(next);
            }
            reservation
        })
        .collect();
    if tat != stored {
        sqlx::query("update endpoint_throttles set tat = ? where endpoint_id = ?")
            .bind(tat)
            .bind(endpoint.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(reservations)
}

/// One waiting request for a slot.
struct Request {
    endpoint: EndpointId,
    limit: RateLimit,
    reply: oneshot::Sender<sqlx::Result<Reservation>>,
}

/// Hands slots out to the attempts of one process: the requests that wait together are served
/// together, one transaction per endpoint however many ask, so that a backlog of one endpoint
/// costs the limiter's row a lock per batch rather than per delivery. A writer task, started on
/// first use on the caller's runtime, serves them; it ends when the last clone is dropped.
#[derive(Clone)]
pub struct Limiter {
    pool: MySqlPool,
    sender: Arc<OnceLock<mpsc::Sender<Request>>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("started", &self.sender.get().is_some())
            .finish_non_exhaustive()
    }
}

/// The most requests served in one pass.
const BATCH: usize = 256;

impl Limiter {
    /// A limiter keeping its state through `pool`.
    pub fn new(pool: MySqlPool) -> Self {
        Self {
            pool,
            sender: Arc::new(OnceLock::new()),
        }
    }

    /// A slot of `endpoint`, limited to `limit`, served with whatever else is waiting.
    async fn reserve(&self, endpoint: &EndpointId, limit: RateLimit) -> sqlx::Result<Reservation> {
        let sender = self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(BATCH);
            tokio::spawn(serve(self.pool.clone(), receiver));
            sender
        });
        let (reply, answer) = oneshot::channel();
        let request = Request {
            endpoint: endpoint.clone(),
            limit,
            reply,
        };
        if let Err(mpsc::error::SendError(request)) = sender.send(request).await {
            // The writer has gone with its runtime: ask here.
            let mut reservations = platform::database::retry_lock_conflicts(|| {
                reserve(&self.pool, &request.endpoint, request.limit, 1)
            })
            .await?;
            return reservations.pop().ok_or(sqlx::Error::RowNotFound);
        }
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }

    /// How a claimed delivery of `endpoint`, limited to `limit`, is paced: by the slot it
    /// already holds, or by a new one. A held slot missed by more than one interval (its claim
    /// came late, or its holder died after sending unrecorded) is not used: sending in it now
    /// would bunch sends together, so the delivery asks again.
    pub async fn pace(
        &self,
        claim: &Claim,
        endpoint: &EndpointId,
        limit: RateLimit,
    ) -> sqlx::Result<Pace> {
        if let Some(slot) = claim.slot {
            let now = domain::time::now();
            if now - slot <= limit.interval() {
                let wait = (slot - now).to_std().unwrap_or_default();
                // Claimed early (the queue's whole seconds, a claim's second of tolerance) it
                // waits in place; claimed earlier than that (re-opened by hand while it waited)
                // it is put back for its slot rather than held for long.
                return Ok(if wait <= HOLD + EARLY + Duration::from_secs(1) {
                    Pace::SendAfter(wait)
                } else {
                    Pace::SlotAt(slot, wait)
                });
            }
            metrics::counter!("webhook_throttle_slots_missed_total").increment(1);
        }
        Ok(match self.reserve(endpoint, limit).await? {
            Reservation::Granted { wait, .. } if wait <= HOLD => Pace::SendAfter(wait),
            Reservation::Granted { slot, wait, .. } => Pace::SlotAt(slot, wait),
            Reservation::Full { retry_in } => {
                let spread = FULL_SPREAD.mul_f64(random_unit());
                Pace::Full(retry_in.max(FULL_RETRY) + spread)
            }
        })
    }
}

/// The writer: serves whatever requests wait, one transaction per endpoint.
async fn serve(pool: MySqlPool, mut receiver: mpsc::Receiver<Request>) {
    let mut requests = Vec::with_capacity(BATCH);
    while receiver.recv_many(&mut requests, BATCH).await > 0 {
        let mut by_endpoint: HashMap<String, Vec<Request>> = HashMap::new();
        for request in requests.drain(..) {
            by_endpoint
                .entry(request.endpoint.as_str().to_owned())
                .or_default()
                .push(request);
        }
        for (_, waiting) in by_endpoint {
            let Some(first) = waiting.first() else {
                continue;
            };
            let (endpoint, limit) = (first.endpoint.clone(), first.limit);
            let result = platform::database::retry_lock_conflicts(|| {
                reserve(&pool, &endpoint, limit, waiting.len())
            })
            .await;
            match result {
                Ok(reservations) => {
                    for (request, reservation) in waiting.into_iter().zip(reservations) {
                        // A caller that gave up waiting no longer needs the answer.
                        let _ = request.reply.send(Ok(reservation));
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    for request in waiting {
                        let _ = request
                            .reply
                            .send(Err(sqlx::Error::Protocol(message.clone())));
                    }
                }
            }
        }
    }
}

/// Puts a claimed delivery back without an attempt, its lease released: for its slot (kept in the
/// row as the limiter handed it out, on the database's clock, and due again [`EARLY`] before
/// it), or for another request after a while. Returns about when it is due again, or `None` if
/// the lease was lost meanwhile.
pub async fn defer(
    pool: &MySqlPool,
    claim: &Claim,
    deferral: Deferral,
) -> sqlx::Result<Option<Duration>> {
    let updated = platform::database::retry_lock_conflicts(|| {
        let query = match deferral {
            Deferral::Slot(slot, _) => sqlx::query(
                r"update webhook_deliveries
                  set next_attempt_at = ? - interval ? microsecond, throttled_until = ?,
                      lease_token = null, lease_until = null, updated_at = utc_timestamp(6)
                  where id = ? and lease_token = ?",
            )
            .bind(slot)
            .bind(micros(EARLY))
            .bind(slot),
            Deferral::Retry(wait) => sqlx::query(
                r"update webhook_deliveries
                  set next_attempt_at = utc_timestamp(6) + interval ? microsecond,
                      throttled_until = null,
                      lease_token = null, lease_until = null, updated_at = utc_timestamp(6)
                  where id = ? and lease_token = ?",
            )
            .bind(micros(wait)),
        };
        query
            .bind(claim.delivery_id.as_str())
            .bind(&claim.token)
            .execute(pool)
    })
    .await?
    .rows_affected();
    let due_in = match deferral {
        Deferral::Slot(_, wait) => wait.saturating_sub(EARLY),
        Deferral::Retry(wait) => wait,
    };
    Ok((updated == 1).then_some(due_in))
}
