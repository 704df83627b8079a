//! The dispatcher inside the orders API in memory-queue mode.
//!
//! The delivery table is the queue: due rows are claimed straight from the database, and the
//! in-process signal only wakes the loop early. Killing the process loses nothing; a lease
//! left behind by a crash expires and the row is claimed again.
//!
//! Up to [`CONCURRENCY`] attempts are in flight at once, each on its own, and the free slots
//! are refilled from the due rows as attempts finish ([`InFlight`]): a slow endpoint holds one
//! slot for as long as it takes, never a whole batch of others. While deliveries are backed
//! up, a claim waits until [`REFILL`] slots are free, so that each claim statement takes many
//! rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::dispatcher::Dispatcher;
use platform::{database, pacing};

use crate::store;

/// The most attempts in flight at once.
pub const CONCURRENCY: usize = 32;
/// Under a backlog, the free slots a claim waits for.
pub const REFILL: usize = CONCURRENCY / 2;
/// The longest the loop sleeps without a wake-up.
const MAX_IDLE: Duration = Duration::from_millis(500);

/// The attempts in flight of one embedded dispatcher.
pub struct InFlight {
    dispatcher: Arc<Dispatcher>,
    attempts: JoinSet<()>,
    /// The last claim filled every free slot: more deliveries may be due.
    backlog: bool,
}

impl InFlight {
    /// No attempt in flight yet.
    pub fn new(dispatcher: Dispatcher) -> Self {
        Self {
            dispatcher: Arc::new(dispatcher),
            attempts: JoinSet::new(),
            backlog: false,
        }
    }

    /// Claims due deliveries into the free slots and starts their attempts; returns how many
    /// it claimed. Under a backlog it claims nothing until [`REFILL`] slots are free.
    pub async fn refill(&mut self) -> Result<usize, sqlx::Error> {
        while let Some(finished) = self.attempts.try_join_next() {
            report_panic(finished);
        }
        let free = CONCURRENCY - self.attempts.len().min(CONCURRENCY);
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
            let dispatcher = Arc::clone(&self.dispatcher);
            self.attempts.spawn(async move {
                if let Err(error) = dispatcher.attempt(claim).await {
                    // The lease expires and the row is claimed again.
                    tracing::error!(error = %format!("{:#}", anyhow::Error::from(error)), "delivery not attempted");
                }
            });
        }
        Ok(claimed)
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

    /// Attempts every delivery that is due, or falls due meanwhile, until none is due and none
    /// is in flight; returns how many it claimed.
    pub async fn run_until_idle(&mut self) -> Result<usize, sqlx::Error> {
        let mut attempted = 0;
        loop {
            let claimed = self.refill().await?;
            attempted += claimed;
            if !self.finish_one().await && claimed == 0 {
                return Ok(attempted);
            }
        }
    }
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

/// Runs until `shutdown`, then lets the attempts in flight finish. While deliveries are backed
/// up it claims as slots free up; otherwise it sleeps until woken or until the next delivery is
/// due (a retry an attempt schedules is found then, within half a second).
pub async fn run(dispatcher: Dispatcher, wake: Arc<Notify>, shutdown: CancellationToken) {
    let pool = dispatcher.pool().clone();
    let mut in_flight = InFlight::new(dispatcher);
    while !shutdown.is_cancelled() {
        let pass = Instant::now();
        let idle = match in_flight.refill().await {
            Ok(_) if in_flight.backlog() => {
                // More is due: go on as soon as slots free up.
                in_flight.finish_one().await;
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
        pacing::wait_for_work(&wake, idle, pass, &shutdown).await;
    }
    while in_flight.finish_one().await {}
}
