//! Changing a message's visibility: how the queue carries the retry schedule.

use std::time::Duration;

use futures::future::BoxFuture;

/// The longest visibility set: SQS's 43 200 s ceiling less an hour.
const MAX_VISIBILITY_SECONDS: u64 = 39_600;

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
            // Whole seconds, rounded up: a message must not return before its delivery is due.
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            // SQS counts its 12 h ceiling from when it handed the message out, so leave room
            // for a batching window and the batch itself; an earlier return is only a NotDue.
            let seconds = i32::try_from(seconds.min(MAX_VISIBILITY_SECONDS)).unwrap_or(0);
            self.client
                .change_message_visibility()
                .queue_url(&self.queue_url)
                .receipt_handle(receipt_handle)
                .visibility_timeout(seconds)
                .send()
                .await?;
            Ok(())
        })
    }
}

/// For hosts without a queue to steer (tests of the handler alone): does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVisibility;

impl Visibility for NoVisibility {
    fn change(&self, _: &str, _: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
}
