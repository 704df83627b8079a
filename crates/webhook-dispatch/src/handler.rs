//! The SQS batch handler: `LambdaEvent<SqsEvent>` → `SqsBatchResponse`.
//!
//! Each record is handled on its own: a bad body, a database hiccup or a failing endpoint
//! fails that record alone, reported as a batch item failure, never as a failed invocation.
//! Records are processed with bounded concurrency, and none is started once the deadline is
//! near: those are reported failed so the queue offers them again.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use domain::message::DeliveryMessage;
use futures::StreamExt;
use lambda_runtime::LambdaEvent;
use tracing::{Instrument, info_span};

use crate::visibility::Visibility;
use delivery::dispatcher::{Dispatcher, Outcome};

/// Everything the handler needs, built once per process.
pub struct Deps {
    /// Attempts deliveries.
    pub dispatcher: Dispatcher,
    /// Steers the retry schedule through message visibility.
    pub visibility: Arc<dyn Visibility>,
    /// Records handled at once.
    pub concurrency: usize,
    /// No record is started later than this before the deadline.
    pub deadline_margin: Duration,
    /// The time a batch gets when the invocation carries no usable deadline.
    pub fallback_budget: Duration,
}

/// The Lambda entry point.
pub async fn handle(
    deps: Arc<Deps>,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let now = SystemTime::now();
    let mut deadline = event.context.deadline();
    if deadline <= now {
        // Lambda never hands out an invocation whose deadline has passed; local emulators do
        // (cargo-lambda's sends a fixed 600000 ms since the epoch). Treat it as unknown.
        tracing::warn!(
            deadline_ms = event.context.deadline,
            "the invocation's deadline has already passed; assuming the fallback budget"
        );
        deadline = now + deps.fallback_budget;
    }
    Ok(handle_records(&deps, event.payload.records, deadline).await)
}

/// Handles a batch of records and lists exactly the ones to be offered again.
pub async fn handle_records(
    deps: &Deps,
    records: Vec<SqsMessage>,
    deadline: SystemTime,
) -> SqsBatchResponse {
    let stop_at = deadline
        .checked_sub(deps.deadline_margin)
        .unwrap_or(deadline);
    note_received(deps, &records).await;
    let failures: Vec<String> = futures::stream::iter(records)
        .map(|record| async move {
            let message_id = record.message_id.clone().unwrap_or_default();
            let now = SystemTime::now();
            let keep = if now >= stop_at {
                let remaining_ms = deadline.duration_since(now).map_or(0, |d| d.as_millis());
                tracing::warn!(%message_id, remaining_ms, "deadline near: not started");
                true
            } else {
                let span = info_span!("message", %message_id, delivery_id = tracing::field::Empty);
                handle_record(deps, &record).instrument(span).await
            };
            // A record without an id cannot be reported; the queue offers it again after its
            // visibility timeout anyway, and an empty id would fail the whole batch.
            (keep && !message_id.is_empty()).then_some(message_id)
        })
        .buffer_unordered(deps.concurrency.max(1))
        .filter_map(|failed| async move { failed })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    for message_id in failures {
        response.add_failure(message_id);
    }
    response
}

/// Notes the batch's receipt ([`delivery::outbox::note_received`]: the deliveries'
/// `received_at`, and the receive watermark, which the relay's overdue sweep reads to tell a lost
/// message from a waiting one, moved up to the latest `SentTimestamp` among the messages received
/// for the first time). Best-effort: a note left unwritten only delays the recovery of a lost
/// message, or lets a held one be published once more.
async fn note_received(deps: &Deps, records: &[SqsMessage]) {
    let ids: Vec<_> = records
        .iter()
        .filter_map(|record| DeliveryMessage::parse(record.body.as_deref()?).ok())
        .map(|message| message.delivery_id)
        .collect();
    let first_sent = records.iter().filter_map(first_sent).max();
    let pool = deps.dispatcher.pool();
    if let Err(error) = platform::database::retry_lock_conflicts(|| {
        delivery::outbox::note_received(pool, &ids, first_sent)
    })
    .await
    {
        tracing::warn!(%error, "could not note the batch's receipt");
    }
}

/// When the queue took `record`, if this is its first receive (the system attributes
/// `ApproximateReceiveCount` and `SentTimestamp`, milliseconds since the epoch).
fn first_sent(record: &SqsMessage) -> Option<DateTime<Utc>> {
    let attribute = |name: &str| record.attributes.get(name)?.parse::<i64>().ok();
    if attribute("ApproximateReceiveCount")? != 1 {
        return None;
    }
    DateTime::from_timestamp_millis(attribute("SentTimestamp")?)
}

/// Handles one record; `true` when the message must stay in the queue.
async fn handle_record(deps: &Deps, record: &SqsMessage) -> bool {
    let message = match DeliveryMessage::parse(record.body.as_deref().unwrap_or_default()) {
        Ok(message) => message,
        Err(error) => {
            // Left unchanged, it returns until maxReceiveCount moves it to the DLQ.
            tracing::error!(%error, "unparseable message");
            return true;
        }
    };
    tracing::Span::current().record("delivery_id", tracing::field::display(&message.delivery_id));
    let delay = match deps.dispatcher.deliver(&message.delivery_id).await {
        Ok(Outcome::Delivered | Outcome::Failed | Outcome::Skipped) => return false,
        Ok(Outcome::RetryScheduled(delay) | Outcome::NotDue(delay)) => delay,
        Ok(Outcome::Throttled(delay)) => {
            // Waiting for a rate limit's slot is not an attempt: a new message carries the
            // delivery to its slot, so that this one's receive count does not grow toward the
            // dead-letter queue.
            match deps
                .visibility
                .requeue(record.body.as_deref().unwrap_or_default(), delay)
                .await
            {
                Ok(()) => return false,
                Err(error) => {
                    tracing::warn!(error = %error, "could not send the message again; keeping it");
                    delay
                }
            }
        }
        Err(error) => {
            tracing::error!(error = %format!("{:#}", anyhow::Error::from(error)), "delivery not attempted");
            return true;
        }
    };
    if let Some(receipt_handle) = record.receipt_handle.as_deref()
        && let Err(error) = deps.visibility.change(receipt_handle, delay).await
    {
        // The message returns after the queue's own visibility timeout; the claim then finds
        // the delivery not yet due and sets the delay again.
        tracing::warn!(error = %error, "could not change the message's visibility");
    }
    true
}
