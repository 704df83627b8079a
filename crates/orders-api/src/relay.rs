//! The outbox relay: moves committed deliveries to the queue.
//!
//! It claims unpublished deliveries in one short statement (a claim token with an expiry, so
//! two API instances never publish the same row in a quiet run and no lock is held across a
//! network call), publishes outside any transaction, then marks exactly what the queue
//! accepted. A crash between publish and mark only republishes: the dispatcher's claim makes
//! the duplicate harmless. It is woken right after each commit (paced by
//! [`platform::pacing`]) and polls as a fallback.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::message::DeliveryMessage;
use sqlx::MySqlPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use platform::database::retry_lock_conflicts;

use crate::queue::EventPublisher;
use delivery::outbox;

/// How many deliveries one pass claims.
const BATCH: u32 = 100;
/// How long a claim lasts if its relay dies before settling it.
const CLAIM_TTL: Duration = Duration::from_secs(30);
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

    /// Publishes one batch; returns how many deliveries the queue accepted.
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        let (token, ids) =
            retry_lock_conflicts(|| outbox::claim_unpublished(&self.pool, BATCH, CLAIM_TTL))
                .await?;
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
        retry_lock_conflicts(|| outbox::settle_claim(&self.pool, &token, &accepted)).await?;
        #[expect(clippy::cast_precision_loss, reason = "batches are at most 100")]
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

    /// Runs until `shutdown`, stopping between batches.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut last_sweep = Instant::now();
        while !shutdown.is_cancelled() {
            let pass = Instant::now();
            let more = match self.relay_once().await {
                Ok(n) => n >= BATCH as usize,
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "relay pass failed");
                    false
                }
            };
            if let Some(overdue) = self.sweep_overdue
                && last_sweep.elapsed() >= (overdue / 2).min(MAX_SWEEP_INTERVAL)
            {
                last_sweep = Instant::now();
                match outbox::sweep_overdue(&self.pool, overdue).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(deliveries = n, "republishing overdue deliveries"),
                    Err(error) => tracing::error!(%error, "sweeping overdue deliveries failed"),
                }
            }
            if more {
                continue;
            }
            platform::pacing::wait_for_work(&self.wake, POLL, pass, &shutdown).await;
        }
    }
}
