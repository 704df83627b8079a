//! Changing a message's visibility: how the queue carries the retry schedule; and sending a
//! message again, delayed, for a delivery that waits for its endpoint's rate limit (which is not
//! an attempt, so must not count as a receive toward the dead-letter queue).

use std::time::Duration;

use domain::retry::MAX_VISIBILITY_DELAY;
use futures::future::BoxFuture;

/// The longest an SQS message can be delayed (`DelaySeconds`).
pub const MAX_MESSAGE_DELAY: Duration = Duration::from_secs(900);

/// Makes a received message visible again after a delay, or sends it again.
pub trait Visibility: Send + Sync {
    /// Sets the visibility timeout of the message behind `receipt_handle` to `delay`.
    fn change(&self, receipt_handle: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>>;

    /// Sends `body` as a new message, delivered after `delay` in whole seconds rounded down (up
    /// to a second early, which a claim accepts; at most [`MAX_MESSAGE_DELAY`]): its receive count
    /// starts afresh.
    fn requeue(&self, body: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>>;
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

    fn requeue(&self, body: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        let body = body.to_owned();
        Box::pin(async move {
            self.client
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(body)
                .delay_seconds(message_delay(delay))
                .send()
                .await?;
            Ok(())
        })
    }
}

/// The `DelaySeconds` that delivers a message after `delay`: whole seconds rounded down (a claim
/// takes a delivery due within a second, and a rate-limited one waits out the rest of its slot
/// in place, so that the queue's rounding never makes it late), capped at [`MAX_MESSAGE_DELAY`]
/// (a message that comes back long before its delivery is due finds it not due, and waits by its
/// visibility).
fn message_delay(delay: Duration) -> i32 {
    i32::try_from(delay.as_secs().min(MAX_MESSAGE_DELAY.as_secs())).unwrap_or(0)
}

/// `delay` in whole seconds, rounded up.
fn whole_seconds(delay: Duration) -> u64 {
    delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0))
}

/// The visibility timeout, in seconds, that makes a message return after `delay`.
fn visibility_timeout(delay: Duration) -> i32 {
    // Whole seconds, rounded up: a message must not return before its delivery is due.
    let seconds = whole_seconds(delay);
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
    fn a_message_is_delayed_by_whole_seconds_rounded_down_up_to_fifteen_minutes() {
        assert_eq!(message_delay(Duration::ZERO), 0);
        assert_eq!(message_delay(Duration::from_millis(1_999)), 1);
        assert_eq!(message_delay(Duration::from_secs(900)), 900);
        assert_eq!(message_delay(Duration::from_secs(3_600)), 900);
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
