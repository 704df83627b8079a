//! How the in-process loops (the outbox relay, the embedded dispatcher) wait for work.
//!
//! They are woken after every commit. Serving each wake-up with its own pass would cost a few
//! statements per commit under load, so a wake-up that arrives soon after the previous pass
//! began waits out the rest of [`MIN_PASS_INTERVAL`]: one pass then takes every commit of that
//! interval. An idle loop still answers a wake-up at once.

use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The shortest time between the starts of two passes that a wake-up triggers.
pub const MIN_PASS_INTERVAL: Duration = Duration::from_millis(5);

/// Waits until `wake` is notified (paced as above), `idle` has passed, or `shutdown`.
pub async fn wait_for_work(
    wake: &Notify,
    idle: Duration,
    last_pass: Instant,
    shutdown: &CancellationToken,
) {
    tokio::select! {
        () = wake.notified() => {}
        () = tokio::time::sleep(idle) => return,
        () = shutdown.cancelled() => return,
    }
    let rest = MIN_PASS_INTERVAL.saturating_sub(last_pass.elapsed());
    if !rest.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(rest) => {}
            () = shutdown.cancelled() => {}
        }
    }
}
