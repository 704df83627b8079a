//! Publishing to SQS with `SendMessageBatch` (10 entries a call, several calls at once).

use anyhow::Context;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;
use futures::future::{BoxFuture, join_all};

use super::EventPublisher;

/// SQS's limit on entries per `SendMessageBatch`.
const SQS_BATCH: usize = 10;

/// Publishes to one SQS queue.
#[derive(Debug, Clone)]
pub struct SqsPublisher {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsPublisher {
    /// A publisher to `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> Self {
        Self { client, queue_url }
    }

    async fn publish_chunk(&self, chunk: &[DeliveryMessage]) -> anyhow::Result<Vec<DeliveryId>> {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, message)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(message.to_body())
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .context("SendMessageBatch failed")?;
        for failed in &output.failed {
            tracing::warn!(
                entry = failed.id,
                code = failed.code,
                "SQS refused a message; it will be retried"
            );
        }
        Ok(output
            .successful
            .iter()
            .filter_map(|ok| chunk.get(ok.id.parse::<usize>().ok()?))
            .map(|m| m.delivery_id.clone())
            .collect())
    }
}

impl EventPublisher for SqsPublisher {
    fn publish<'a>(
        &'a self,
        messages: &'a [DeliveryMessage],
    ) -> BoxFuture<'a, anyhow::Result<Vec<DeliveryId>>> {
        Box::pin(async move {
            let chunks = messages.chunks(SQS_BATCH).map(|chunk| async move {
                // A failed call leaves its chunk unaccepted; the other chunks still count.
                self.publish_chunk(chunk).await.unwrap_or_else(|error| {
                    tracing::warn!(error = %format!("{error:#}"), "publishing a batch failed; it will be retried");
                    Vec::new()
                })
            });
            Ok(join_all(chunks).await.into_iter().flatten().collect())
        })
    }

    fn held(&self) -> BoxFuture<'_, anyhow::Result<Option<u64>>> {
        Box::pin(async move {
            let output = self
                .client
                .get_queue_attributes()
                .queue_url(&self.queue_url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
                .context("GetQueueAttributes failed")?;
            let Some(attributes) = output.attributes else {
                return Ok(None);
            };
            let mut held = 0u64;
            for name in [
                QueueAttributeName::ApproximateNumberOfMessages,
                QueueAttributeName::ApproximateNumberOfMessagesDelayed,
                QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            ] {
                let Some(count) = attributes.get(&name) else {
                    return Ok(None);
                };
                held += count
                    .parse::<u64>()
                    .with_context(|| format!("{name} is not a count: {count:?}"))?;
            }
            Ok(Some(held))
        })
    }
}
