//! The queue message contract: the queue only says "look at delivery X now".
//!
//! A message carries ids and a version, never a secret or a payload; everything else is read at
//! send time, so a disabled endpoint or a rotated secret takes effect immediately.

use serde::{Deserialize, Serialize};

use crate::ids::DeliveryId;

/// The only message version this release writes. Readers accept unknown extra fields.
pub const MESSAGE_VERSION: u32 = 1;

/// The body of one queue message: `{"v":1,"delivery_id":"dlv_…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryMessage {
    /// Contract version.
    pub v: u32,
    /// The delivery to look at.
    pub delivery_id: DeliveryId,
}

/// Why a queue message body was rejected.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not JSON, or not the expected shape.
    #[error("message body is not a delivery message: {0}")]
    Malformed(#[from] serde_json::Error),
    /// A version this release does not understand.
    #[error("unsupported message version {0}")]
    UnsupportedVersion(u32),
}

impl DeliveryMessage {
    /// A message for `delivery_id` in the current version.
    pub fn new(delivery_id: DeliveryId) -> Self {
        Self {
            v: MESSAGE_VERSION,
            delivery_id,
        }
    }

    /// The JSON body to publish.
    pub fn to_body(&self) -> String {
        format!(r#"{{"v":{},"delivery_id":"{}"}}"#, self.v, self.delivery_id)
    }

    /// Parses a message body, rejecting unknown versions.
    pub fn parse(body: &str) -> Result<Self, MessageError> {
        let message: Self = serde_json::from_str(body)?;
        if message.v != MESSAGE_VERSION {
            return Err(MessageError::UnsupportedVersion(message.v));
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_exact_shape() {
        let id = DeliveryId::new();
        let body = DeliveryMessage::new(id.clone()).to_body();
        assert_eq!(body, format!(r#"{{"v":1,"delivery_id":"{id}"}}"#));
        assert_eq!(
            DeliveryMessage::parse(&body).expect("parses").delivery_id,
            id
        );
    }

    #[test]
    fn extra_fields_are_tolerated() {
        let id = DeliveryId::new();
        let body = format!(r#"{{"v":1,"delivery_id":"{id}","trace":"x"}}"#);
        assert!(DeliveryMessage::parse(&body).is_ok());
    }

    #[test]
    fn garbage_and_unknown_versions_are_rejected() {
        assert!(DeliveryMessage::parse("not json").is_err());
        assert!(DeliveryMessage::parse(r#"{"v":1}"#).is_err());
        assert!(DeliveryMessage::parse(r#"{"v":1,"delivery_id":"ord_x"}"#).is_err());
        let id = DeliveryId::new();
        assert!(matches!(
            DeliveryMessage::parse(&format!(r#"{{"v":2,"delivery_id":"{id}"}}"#)),
            Err(MessageError::UnsupportedVersion(2))
        ));
    }
}
