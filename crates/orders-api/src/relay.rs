//! The outbox relay: moves committed deliveries to the queue.
//!
//! New deliveries come to it claimed, handed over right after their commit
//! ([`outbox::Handoff::publisher`]), and are published at once. Whatever was not handed over
//! it claims from the table in one short statement (a claim token with an expiry, so two API
//! instances never publish the same row in a quiet run and no lock is held across a network
//! call): rows written while its room was full (their commit wakes it, paced by
//! [`platform::pacing`]), claims a crash left behind once they expire, and rows marked for
//! publishing again; it polls for them as a fallback. Either way it publishes outside any
//! transaction, then marks exactly what the queue accepted. A crash between publish and mark
//! only republishes: the dispatcher's claim makes the duplicate harmless.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;
use sqlx::MySqlPool;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use platform::database::retry_lock_conflicts;

use crate::queue::EventPublisher;
use delivery::outbox::{self, Outgoing, Unpublished};

/// How many deliveries one pass claims.
const BATCH: u32 = 100;
/// How long a claim lasts if its relay dies before settling it.
pub const CLAIM_TTL: Duration = Duration::from_secs(30);
/// How many events' deliveries may wait to be published after their commit; more are left to
/// a claim.
pub const OUTGOING: usize = 256;
/// Polling interval when nothing wakes the relay.
const POLL: Duration = Duration::from_secs(1);
/// The longest time between two sweeps of overdue pending deliveries.
const MAX_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// The relay.
#[derive(Clone)]
pub struct Relay {
    pool: MySqlPool,
    publisher: Arc<dyn EventPublisher>,
    wake: Arc<Notify>,
    /// Republish pending deliveries overdue by this much (SQS mode); `None` disables the sweep.
    sweep_overdue: Option<Duration>,
}

impl Relay {
    /// A relay publishing through `publisher`, woken by `wake`.
    pub fn new(
        pool: MySqlPool,
        publisher: Arc<dyn EventPublisher>,
        wake: Arc<Notify>,
        sweep_overdue: Option<Duration>,
    ) -> Self {
        Self {
            pool,
            publisher,
            wake,
            sweep_overdue,
        }
    }

    /// The room for deliveries handed to this relay after their commit, claimed for
    /// [`CLAIM_TTL`], and the receiver [`Relay::run`] reads.
    pub fn outgoing() -> (Outgoing, mpsc::Receiver<Unpublished>) {
        Outgoing::new(OUTGOING, CLAIM_TTL)
    }

    /// Claims and publishes one batch; returns how many deliveries the queue accepted.
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        let (token, ids) =
            retry_lock_conflicts(|| outbox::claim_unpublished(&self.pool, BATCH, CLAIM_TTL))
                .await?;
        self.publish(&[token], ids).await
    }

    /// Publishes deliveries handed over after their commit: `first` and whatever else is
    /// waiting, until the batch holds [`BATCH`] or more; returns how many the queue accepted.
    /// Those whose claim has run down to half its time are left to it, so that a claim seldom
    /// runs out while its rows are published (if one does, another relay may publish them
    /// again: a duplicate message, which the consumer's claim makes harmless).
    pub async fn publish_handed(
        &self,
        first: Unpublished,
        outgoing: &mut mpsc::Receiver<Unpublished>,
    ) -> anyhow::Result<usize> {
        let (mut tokens, mut ids) = (Vec::new(), Vec::new());
        let mut next = Some(first);
        while let Some(handed) = next.take() {
            let age = handed.claimed_at.elapsed();
            if age < handed.claim / 2 {
                metrics::histogram!("relay_lag_seconds").record(age.as_secs_f64());
                tokens.push(handed.token);
                ids.extend(handed.ids);
            } else {
                tracing::warn!(
                    deliveries = handed.ids.len(),
                    "deliveries handed over too late to publish; they are claimed when their claim expires"
                );
            }
            if ids.len() < BATCH as usize {
                next = outgoing.try_recv().ok();
            }
        }
        self.publish(&tokens, ids).await
    }

    /// Publishes the deliveries claimed under `tokens`, then marks what the queue accepted and
    /// releases the rest; returns how many were accepted.
    async fn publish(&self, tokens: &[String], ids: Vec<DeliveryId>) -> anyhow::Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let messages: Vec<DeliveryMessage> = ids.into_iter().map(DeliveryMessage::new).collect();
        let accepted = match self.publisher.publish(&messages).await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "publishing failed; the batch will be retried");
                Vec::new()
            }
        };
        // A claim left unsettled holds its rows until it expires: run it again on a deadlock.
        let settled = accepted.len() == messages.len();
        retry_lock_conflicts(|| outbox::settle_claims(&self.pool, tokens, &accepted, settled))
            .await?;
        #[expect(
            clippy::cast_precision_loss,
            reason = "batches are at most a few hundred"
        )]
        metrics::histogram!("relay_batch_size").record(messages.len() as f64);
        metrics::counter!("relay_published_total").increment(accepted.len() as u64);
        if accepted.len() < messages.len() {
            tracing::warn!(
                claimed = messages.len(),
                accepted = accepted.len(),
                "part of the batch was not accepted"
            );
        }
        Ok(accepted.len())
    }

    /// Runs until `shutdown`, stopping between batches: publishes what is handed over through
    /// `outgoing` as it comes, and claims from the table when woken or polling.
    pub async fn run(self, outgoing: mpsc::Receiver<Unpublished>, shutdown: CancellationToken) {
        let mut outgoing = Some(outgoing);
        let mut last_sweep = Instant::now();
        while !shutdown.is_cancelled() {
            // A batch of hand-offs first, however busy the table: their claims are running.
            self.publish_waiting(&mut outgoing, 1).await;
            let pass = Instant::now();
            let more = match self.relay_once().await {
                Ok(n) => n >= BATCH as usize,
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "relay pass failed");
                    false
                }
            };
            if let Some(overdue) = self.sweep_overdue
                && last_sweep.elapsed() >= (overdue / 4).min(MAX_SWEEP_INTERVAL)
            {
                last_sweep = Instant::now();
                if self.sweep(overdue).await > 0 {
                    // Publish what it marked now, not at the next poll.
                    continue;
                }
            }
            if more {
                continue;
            }
            // Hand-offs are published as they come until a pass is due: at the poll, or soon
            // after a commit whose deliveries were not handed over wakes the relay.
            let mut next_pass = pass + POLL;
            let mut woken = false;
            loop {
                let handed = tokio::select! {
                    biased;
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep_until(next_pass.into()) => break,
                    () = self.wake.notified(), if !woken => {
                        woken = true;
                        next_pass = next_pass.min(pass + platform::pacing::MIN_PASS_INTERVAL);
                        continue;
                    }
                    handed = outbox::receive(&mut outgoing) => handed,
                };
                match (handed, outgoing.as_mut()) {
                    (Some(handed), Some(receiver)) => self.publish_logged(handed, receiver).await,
                    // Every sender is gone: the API is shutting down.
                    _ => outgoing = None,
                }
            }
        }
        // What was handed over before the shutdown is published now rather than after its
        // claim expires.
        self.publish_waiting(&mut outgoing, usize::MAX).await;
    }

    /// Marks for publishing again the overdue deliveries whose message is lost
    /// ([`outbox::sweep_overdue`]), asking the queue first whether it holds any message;
    /// returns how many it marked.
    async fn sweep(&self, overdue: Duration) -> u64 {
        metrics::counter!("relay_sweeps_total").increment(1);
        let queue_empty = match self.publisher.held().await {
            Ok(held) => held == Some(0),
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "could not ask the queue how many messages it holds");
                false
            }
        };
        match outbox::sweep_overdue(&self.pool, overdue, queue_empty).await {
            Ok(swept) if swept.total() == 0 => 0,
            Ok(swept) => {
                tracing::warn!(
                    overtaken = swept.overtaken,
                    queue_empty = swept.queue_empty,
                    unpublished = swept.unpublished,
                    "republishing deliveries whose message was lost"
                );
                swept.total()
            }
            Err(error) => {
                tracing::error!(%error, "sweeping overdue deliveries failed");
                0
            }
        }
    }

    /// Publishes up to `batches` batches of the hand-offs waiting in `outgoing`.
    async fn publish_waiting(
        &self,
        outgoing: &mut Option<mpsc::Receiver<Unpublished>>,
        batches: usize,
    ) {
        for _ in 0..batches {
            let Some(receiver) = outgoing.as_mut() else {
                return;
            };
            let Ok(handed) = receiver.try_recv() else {
                return;
            };
            self.publish_logged(handed, receiver).await;
        }
    }

    async fn publish_logged(&self, first: Unpublished, outgoing: &mut mpsc::Receiver<Unpublished>) {
        if let Err(error) = self.publish_handed(first, outgoing).await {
            // Their claims expire and a pass claims them.
            tracing::error!(error = %format!("{error:#}"), "publishing handed-over deliveries failed");
        }
    }
}
