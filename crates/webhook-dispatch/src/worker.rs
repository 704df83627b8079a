//! The long-polling SQS consumer: receives batches and runs the Lambda's own handler on them.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use tokio_util::sync::CancellationToken;

use crate::handler::{Deps, handle_records};

/// Time given to one batch, like a Lambda invocation's timeout.
pub const BATCH_BUDGET: Duration = Duration::from_secs(60);

/// Receives, handles and deletes one batch; returns how many messages it received.
/// `shutdown` interrupts only the wait for messages, never a batch in hand.
pub async fn poll_once(
    deps: &Deps,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait_seconds: i32,
    shutdown: &CancellationToken,
) -> anyhow::Result<usize> {
    let receive = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait_seconds)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
        .send();
    let received = tokio::select! {
        received = receive => received?,
        () = shutdown.cancelled() => return Ok(0),
    };
    let messages = received.messages.unwrap_or_default();
    let count = messages.len();
    if count == 0 {
        return Ok(0);
    }
    let records: Vec<SqsMessage> = messages
        .into_iter()
        .map(|m| {
            let mut record = SqsMessage::default();
            record.message_id = m.message_id;
            record.receipt_handle = m.receipt_handle;
            record.body = m.body;
            record.attributes = m
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            record
        })
        .collect();
    let handles: Vec<(String, String)> = records
        .iter()
        .filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?)))
        .collect();
    let response = handle_records(deps, records, SystemTime::now() + BATCH_BUDGET).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    let entries: Vec<DeleteMessageBatchRequestEntry> = handles
        .iter()
        .filter(|(id, _)| !failed.contains(&id.as_str()))
        .enumerate()
        .map(|(i, (_, receipt))| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(receipt)
                .build()
        })
        .collect::<Result<_, _>>()?;
    if !entries.is_empty() {
        let deleted = sqs
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await?;
        for failure in deleted.failed {
            // The message returns and loses its claim (the delivery is finished): harmless.
            tracing::warn!(id = failure.id, code = failure.code, "message not deleted");
        }
    }
    Ok(count)
}

/// Runs `pollers` concurrent poll loops until `shutdown`, each finishing the batch in hand,
/// much as a Lambda event source mapping runs concurrent invocations.
pub async fn run(
    deps: Arc<Deps>,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    pollers: usize,
    shutdown: CancellationToken,
) {
    let loops = (0..pollers.max(1)).map(|_| poll_loop(&deps, &sqs, &queue_url, &shutdown));
    futures::future::join_all(loops).await;
}

async fn poll_loop(
    deps: &Deps,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    shutdown: &CancellationToken,
) {
    while !shutdown.is_cancelled() {
        if let Err(error) = poll_once(deps, sqs, queue_url, 20, shutdown).await {
            tracing::error!(error = %error, "polling the queue failed");
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                () = shutdown.cancelled() => break,
            }
        }
    }
}
