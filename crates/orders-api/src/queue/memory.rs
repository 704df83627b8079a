//! The in-process queue. The delivery table is the real queue in this mode (the embedded
//! dispatcher claims due rows from the database), so publishing only wakes the dispatcher.

use std::sync::Arc;

use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;
use tokio::sync::Notify;

use super::EventPublisher;

/// Wakes the embedded dispatcher.
#[derive(Debug, Clone, Default)]
pub struct MemoryPublisher {
    wake: Arc<Notify>,
}

impl MemoryPublisher {
    /// A publisher waking whoever waits on `wake`.
    pub fn new(wake: Arc<Notify>) -> Self {
        Self { wake }
    }
}

#[async_trait::async_trait]
impl EventPublisher for MemoryPublisher {
    async fn publish(&self, messages: &[DeliveryMessage]) -> anyhow::Result<Vec<DeliveryId>> {
        self.wake.notify_one();
        Ok(messages.iter().map(|m| m.delivery_id.clone()).collect())
    }
}
