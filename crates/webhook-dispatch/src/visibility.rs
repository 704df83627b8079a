//! Changing a message's visibility: how the queue carries the retry schedule.

use std::time::Duration;

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
            // Whole seconds, rounded up: a message must not return before its delivery is due.
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            let seconds = i32::try_from(seconds.min(43_200)).unwrap_or(43_200);
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
