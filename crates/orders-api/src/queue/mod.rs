//! Where the relay publishes delivery messages: SQS, or the in-process dispatcher.

pub mod memory;
pub mod sqs;

use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;

/// Publishes delivery messages. Returns the deliveries the queue accepted; a batch may be
/// accepted in part (`SendMessageBatch`), and whatever is missing is retried by the relay.
#[async_trait::async_trait]
pub trait EventPublisher: Send + Sync {
    /// Publishes `messages`, answering which were accepted.
    async fn publish(&self, messages: &[DeliveryMessage]) -> anyhow::Result<Vec<DeliveryId>>;
}
