//! Where the relay publishes delivery messages.

pub mod sqs;

use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;
use futures::future::BoxFuture;

/// Publishes delivery messages. Returns the deliveries the queue accepted; a batch may be
/// accepted in part (`SendMessageBatch`), and whatever is missing is retried by the relay.
pub trait EventPublisher: Send + Sync {
    /// Publishes `messages`, answering which were accepted.
    fn publish<'a>(
        &'a self,
        messages: &'a [DeliveryMessage],
    ) -> BoxFuture<'a, anyhow::Result<Vec<DeliveryId>>>;

    /// How many messages the queue holds (waiting to be received, delayed, or received and not
    /// yet deleted), if it says; the overdue sweep takes an empty queue's overdue deliveries for
    /// lost. `None`: unknown.
    fn held(&self) -> BoxFuture<'_, anyhow::Result<Option<u64>>> {
        Box::pin(async { Ok(None) })
    }
}
