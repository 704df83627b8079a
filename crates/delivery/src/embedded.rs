//! The dispatcher inside the orders API in memory-queue mode.
//!
//! The delivery table is the queue: due rows are claimed straight from the database, and the
//! in-process signal only wakes the loop early. Killing the process loses nothing; a lease
//! left behind by a crash expires and the row is claimed again.
//!
//! Up to [`CONCURRENCY`] requests are in flight at once, each on its own, and the free slots
//! are refilled from the due rows as requests are answered ([`InFlight`]): a slow endpoint
//! holds one slot for as long as it takes, never a whole batch of others. A slot is freed when
//! the receiver answers, not when the attempt's record commits: answered attempts wait for the
//! recorder's group commit beside the next requests (at most [`MAX_UNRECORDED`] attempts
//! between claim and record), so the database's commit latency never throttles the sending.
//! While deliveries are backed up, a claim waits until [`REFILL`] slots are free, so that each
//! claim statement takes many rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::dispatcher::{Dispatcher, Outcome};
#[cfg(doc)]
use crate::outbox::Handoff;
use crate::outbox::{self, Handed};
use crate::store::Claimed;
use platform::{database, pacing};

use crate::store;

/// The most requests in flight at once.
pub const CONCURRENCY: usize = 32;
/// The most attempts between their claim and their committed record (give or take one event's
/// hand-off): sending, or answered and waiting for the recorder (whose batches take up to [`crate::recorder::MAX_BATCH`]).
pub const MAX_UNRECORDED: usize = 4 * CONCURRENCY;
/// Under a backlog, the free slots a claim waits for.
pub const REFILL: usize = CONCURRENCY / 2;
/// The least lease a handed-over delivery must have left beyond the request timeout to be
/// started.
const LEASE_MARGIN: Duration = Duration::from_secs(2);
/// The longest the loop sleeps without a wake-up.
const MAX_IDLE: Duration = Duration::from_millis(500);

/// The attempts in flight of one embedded dispatcher.
pub struct InFlight {
    dispatcher: Arc<Dispatcher>,
    /// One permit per request slot; an attempt holds one until its request is answered.
    sending: Arc<Semaphore>,
    attempts: JoinSet<()>,
    /// The last claim filled every free slot: more deliveries may be due.
    backlog: bool,
    /// Rouses the loop when a delivery put back to wait for its rate limit is due again.
    wake: Option<Arc<Notify>>,
}

impl InFlight {
    /// No attempt in flight yet.
    pub fn new(dispatcher: Dispatcher) -> Self {
        Self {
            dispatcher: Arc::new(dispatcher),
            sending: Arc::new(Semaphore::new(CONCURRENCY)),
            attempts: JoinSet::new(),
            backlog: false,
            wake: None,
        }
    }

    /// No attempt in flight yet; a delivery put back to wait for its endpoint's rate limit
    /// wakes `wake` when it is due again, as the loop does not otherwise look before its next
    /// pass.
    pub fn waking(dispatcher: Dispatcher, wake: Arc<Notify>) -> Self {
        Self {
            wake: Some(wake),
            ..Self::new(dispatcher)
        }
    }

    /// How many more attempts may start now.
    pub fn room(&self) -> usize {
        self.sending
            .available_permits()
            .min(MAX_UNRECORDED.saturating_sub(self.attempts.len()))
    }

    fn reap(&mut self) {
        while let Some(finished) = self.attempts.try_join_next() {
            report_panic(finished);
        }
    }

    /// Claims due deliveries into the free slots and starts their attempts; returns how many
    /// it claimed. Under a backlog it claims nothing until [`REFILL`] slots are free.
    pub async fn refill(&mut self) -> Result<usize, sqlx::Error> {
        self.reap();
        let free = self.room();
        if free == 0 || (self.backlog && free < REFILL) {
            return Ok(0);
        }
        let limit = u32::try_from(free).unwrap_or(u32::MAX);
        let dispatcher = &self.dispatcher;
        let claims = database::retry_lock_conflicts(|| {
            store::claim_due(dispatcher.pool(), limit, dispatcher.lease())
        })
        .await?;
        let claimed = claims.len();
        self.backlog = claimed == free;
        for claim in claims {
            self.start(claim, None);
        }
        Ok(claimed)
    }

    /// Starts the attempt of a won claim in a slot of its own. A claim that finds no free
    /// slot waits for one; if it must start by `latest_start` (a handed-over lease) and cannot,
    /// it is left to its lease, so that it is never sent by two holders.
    fn start(&mut self, claimed: Claimed, latest_start: Option<Instant>) {
        let dispatcher = Arc::clone(&self.dispatcher);
        let sending = Arc::clone(&self.sending);
        let wake = self.wake.clone();
        // Taken here, not in the task, so that the next `room` counts it.
        let slot = Arc::clone(&sending).try_acquire_owned().ok();
        self.attempts.spawn(async move {
            let slot = match slot {
                Some(slot) => slot,
                None => match sending.acquire_owned().await {
                    Ok(slot) => slot,
                    Err(_) => return,
                },
            };
            if latest_start.is_some_and(|latest| Instant::now() > latest) {
                expired_hand_off(1);
                return;
            }
            match dispatcher.attempt_in_slot(claimed, slot).await {
                Ok(Outcome::Throttled(due_in)) => {
                    if let Some(wake) = wake {
                        // Apart from the attempts, whose room it would hold.
                        tokio::spawn(async move {
                            tokio::time::sleep(due_in).await;
                            wake.notify_one();
                        });
                    }
                }
                Ok(_) => {}
                Err(error) => {
                    // The lease expires and the row is claimed again.
                    tracing::error!(error = %format!("{:#}", anyhow::Error::from(error)), "delivery not attempted");
                }
            }
        });
    }

    /// Starts the attempts of deliveries leased to this dispatcher when they were written, as
    /// long as their lease leaves room for a whole request: one that cannot start in time
    /// (it waited in the inbox, or for a slot) is left to expire and is claimed from the table
    /// like any other.
    pub fn take(&mut self, handed: Handed) {
        let latest_start = handed
            .leased_at
            .checked_add(handed.lease)
            .and_then(|end| end.checked_sub(self.dispatcher.timeout() + LEASE_MARGIN))
            .unwrap_or(handed.leased_at);
        if Instant::now() > latest_start {
            expired_hand_off(handed.claims.len());
            return;
        }
        for claimed in handed.claims {
            self.start(claimed, Some(latest_start));
        }
    }

    /// Takes the hand-offs waiting in `inbox` while there is room for them.
    fn take_waiting(&mut self, inbox: &mut Option<mpsc::Receiver<Handed>>) {
        while self.room() > 0
            && let Some(handed) = inbox.as_mut().and_then(|inbox| inbox.try_recv().ok())
        {
            self.take(handed);
        }
    }

    /// Waits until `wanted` request slots are free or an attempt finishes (which may return a
    /// place between claim and record); call it only while [`InFlight::room`] is below
    /// `wanted`.
    async fn room_freed(&mut self, wanted: usize) {
        let sending = Arc::clone(&self.sending);
        let places_left = self.attempts.len() + wanted <= MAX_UNRECORDED;
        let wanted = u32::try_from(wanted).unwrap_or(u32::MAX);
        tokio::select! {
            finished = self.attempts.join_next() => {
                if let Some(finished) = finished {
                    report_panic(finished);
                }
            }
            freed = sending.acquire_many(wanted), if places_left => drop(freed),
        }
    }

    /// Whether the last claim found more due deliveries than it had room for.
    pub fn backlog(&self) -> bool {
        self.backlog
    }

    /// Waits until one attempt finishes; `false` at once if none is in flight.
    pub async fn finish_one(&mut self) -> bool {
        match self.attempts.join_next().await {
            Some(finished) => {
                report_panic(finished);
                true
            }
            None => false,
        }
    }

    /// Waits until there is room for a claim ([`REFILL`] slots under a backlog, else one);
    /// `false` at once if no attempt is in flight.
    pub async fn wait_for_room(&mut self) -> bool {
        let wanted = if self.backlog { REFILL } else { 1 };
        loop {
            self.reap();
            if self.attempts.is_empty() {
                return false;
            }
            if self.room() >= wanted {
                return true;
            }
            self.room_freed(wanted).await;
        }
    }

    /// Attempts every delivery that is due, or falls due meanwhile, until none is due and none
    /// is in flight; returns how many it claimed.
    pub async fn run_until_idle(&mut self) -> Result<usize, sqlx::Error> {
        let mut attempted = 0;
        loop {
            let claimed = self.refill().await?;
            attempted += claimed;
            if self.backlog {
                self.wait_for_room().await;
            } else if !self.finish_one().await && claimed == 0 {
                return Ok(attempted);
            }
        }
    }
}

/// Notes hand-offs left to their lease because they could not start in time.
fn expired_hand_off(deliveries: usize) {
    tracing::warn!(
        deliveries,
        "a hand-off could not start in time; its deliveries are claimed when their lease expires"
    );
    metrics::counter!("dispatch_handoffs_expired_total").increment(deliveries as u64);
}

fn report_panic(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished {
        tracing::error!(%error, "a delivery attempt panicked");
    }
}

/// Attempts every due delivery with the loop's own window of attempts in flight, until none is
/// due and none is in flight; returns how many were attempted (the step a test or the
/// benchmark drives instead of the loop).
pub async fn dispatch_due_once(dispatcher: &Dispatcher) -> Result<usize, sqlx::Error> {
    InFlight::new(dispatcher.clone()).run_until_idle().await
}

/// Runs until `shutdown`, then lets the attempts in flight finish.
///
/// Deliveries handed over through `inbox` ([`Handoff::direct`]) start as they come, while
/// there is room, without a claim or a read. Due rows are claimed from the table in passes:
/// while deliveries are backed up, as slots free up; otherwise when woken (at most one pass
/// per [`pacing::MIN_PASS_INTERVAL`]) or when the next delivery is due (a retry an attempt
/// schedules is found then, within half a second).
pub async fn run(
    dispatcher: Dispatcher,
    wake: Arc<Notify>,
    inbox: mpsc::Receiver<Handed>,
    shutdown: CancellationToken,
) {
    let pool = dispatcher.pool().clone();
    let mut inbox = Some(inbox);
    let mut in_flight = InFlight::waking(dispatcher, Arc::clone(&wake));
    while !shutdown.is_cancelled() {
        // Hand-offs first: their leases are already running.
        in_flight.take_waiting(&mut inbox);
        let pass = Instant::now();
        let idle = match in_flight.refill().await {
            Ok(_) if in_flight.backlog() => {
                // More is due: go on as soon as slots free up.
                in_flight.wait_for_room().await;
                continue;
            }
            Ok(_) => store::next_due_in(&pool)
                .await
                .ok()
                .flatten()
                .map_or(MAX_IDLE, |wait| wait.min(MAX_IDLE)),
            Err(error) => {
                tracing::error!(%error, "claiming due deliveries failed");
                Duration::from_secs(1)
            }
        };
        let mut next_pass = Instant::now() + idle;
        let mut woken = false;
        loop {
            let room = in_flight.room() > 0;
            let handed = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                // A claim pass when due, however busy the inbox.
                () = tokio::time::sleep_until(next_pass.into()) => break,
                handed = outbox::receive(&mut inbox), if room => handed,
                () = wake.notified(), if !woken => {
                    // A wake-up soon after a pass began waits for the rest of the interval.
                    woken = true;
                    next_pass = next_pass.min(pass + pacing::MIN_PASS_INTERVAL);
                    continue;
                }
                // Room comes back as requests are answered.
                () = in_flight.room_freed(1), if !room => continue,
            };
            match handed {
                Some(handed) => in_flight.take(handed),
                // Every sender is gone: the API is shutting down.
                None => inbox = None,
            }
        }
    }
    while in_flight.finish_one().await {}
}
