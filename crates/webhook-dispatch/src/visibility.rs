//! Changing a message's visibility: how the queue carries the retry schedule.

use std::time::Duration;

use domain::retry::MAX_VISIBILITY_DELAY;
use futures::future::BoxFuture;

/// Makes a received message visible again after a delay.
pub trait Visibility: Send + Sync {
    /// Sets the visibility timeout of the message behind `receipt_handle` to `delay`.
    fn change(&self, receipt_handle: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>>;
}

/// SQS `ChangeMessageVisibility` on one queue.
#[derive(Debug, Clone)]
pub struct SqsVisibility {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsVisibility {
    /// Visibility control for `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> Self {
        Self { client, queue_url }
    }
}

impl Visibility for SqsVisibility {
    fn change(&self, receipt_handle: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        let receipt_handle = receipt_handle.to_owned();
        Box::pin(async move {
            self.client
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt_handle)
                .visibility_timeout(visibility_timeout(delay))
                .send()
                .await?;
            Ok(())
        })
    }
}

/// The visibility timeout, in seconds, that makes a message return after `delay`.
fn visibility_timeout(delay: Duration) -> i32 {
    // Whole seconds, rounded up: a message must not return before its delivery is due.
    let seconds = delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0));
    // Capped as every delay is (an earlier return is only a NotDue).
    i32::try_from(seconds.min(MAX_VISIBILITY_DELAY.as_secs())).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_rounds_up_to_whole_seconds() {
        let cases = [
            (Duration::ZERO, 0),
            (Duration::from_nanos(1), 1),
            (Duration::from_millis(999), 1),
            (Duration::from_secs(1), 1),
            (Duration::from_millis(1_001), 2),
            (Duration::from_secs(300), 300),
            (Duration::from_secs_f64(299.2), 300),
        ];
        for (delay, expected) in cases {
            assert_eq!(visibility_timeout(delay), expected, "{delay:?}");
        }
    }

    #[test]
    fn visibility_is_capped_an_hour_below_the_sqs_ceiling() {
        let cap = i32::try_from(MAX_VISIBILITY_DELAY.as_secs()).expect("fits");
        assert_eq!(cap, 43_200 - 3_600);
        assert_eq!(visibility_timeout(Duration::from_secs(39_600)), cap);
        assert_eq!(visibility_timeout(Duration::from_millis(39_599_001)), cap);
        // Every delay the retry policy can produce, and anything longer, is capped.
        for seconds in [39_601, 43_000, 43_200, 86_400, u64::MAX] {
            assert_eq!(visibility_timeout(Duration::from_secs(seconds)), cap);
        }
        assert_eq!(visibility_timeout(Duration::MAX), cap);
    }
}
