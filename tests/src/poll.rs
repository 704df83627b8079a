//! Waiting for something to happen without a fixed sleep: [`eventually`] polls a check until it
//! passes, and fails the test at a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long [`eventually`] waits between two checks.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Some`, failing the test after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    eventually_every(timeout, POLL_INTERVAL, what, check).await
}

/// [`eventually`] checking every `interval`: for a test that needs to notice a change sooner
/// than [`POLL_INTERVAL`] after it happens.
pub async fn eventually_every<T, F, Fut>(
    timeout: Duration,
    interval: Duration,
    what: &str,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        // The pause between two checks of a poll that has a deadline (above): not a wait for
        // anything in particular, it only keeps the poll from spinning.
        tokio::time::sleep(interval).await;
    }
}
