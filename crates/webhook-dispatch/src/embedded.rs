//! The dispatcher inside the orders API in memory-queue mode.
//!
//! The delivery table is the queue: due rows are claimed straight from the database, and the
//! in-process signal only wakes the loop early. Killing the process loses nothing; a lease
//! left behind by a crash expires and the row is claimed again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::dispatcher::Dispatcher;
use crate::{pacing, store};

/// How many due deliveries one pass claims and attempts at once: all of them start right away,
/// so none waits behind another while its lease runs.
pub const BATCH: u32 = 32;
const CONCURRENCY: usize = BATCH as usize;
/// The longest the loop sleeps without a wake-up.
const MAX_IDLE: Duration = Duration::from_millis(500);

/// Claims and attempts every delivery due now; returns how many were attempted.
pub async fn dispatch_due_once(dispatcher: &Dispatcher) -> Result<usize, sqlx::Error> {
    let claims = store::claim_due(dispatcher.pool(), BATCH, dispatcher.lease()).await?;
    let count = claims.len();
    futures::stream::iter(claims)
        .for_each_concurrent(CONCURRENCY, |claimed| async move {
            if let Err(error) = dispatcher.attempt(claimed).await {
                // The lease expires and the row is claimed again.
                tracing::error!(error = %format!("{:#}", anyhow::Error::from(error)), "delivery not attempted");
            }
        })
        .await;
    Ok(count)
}

/// Runs until `shutdown`: dispatches due deliveries, sleeping until woken or the next is due.
pub async fn run(dispatcher: Dispatcher, wake: Arc<Notify>, shutdown: CancellationToken) {
    while !shutdown.is_cancelled() {
        let pass = Instant::now();
        let idle = match dispatch_due_once(&dispatcher).await {
            Ok(n) if n as u32 >= BATCH => continue,
            Ok(_) => store::next_due_in(dispatcher.pool())
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
}
