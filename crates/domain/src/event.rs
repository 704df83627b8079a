//! Webhook events and the exact bytes customers receive.
//!
//! The payload is serialized once, when the event is created; those bytes are stored, signed and
//! sent unchanged on every attempt. Field order is part of the contract:
//!
//! ```json
//! {"type":"order.status_changed","timestamp":"2026-11-22T10:00:00.000Z",
//!  "data":{"order":{"id":"ord_…","reference":"PO-1234","status":"in_transit",
//!  "previous_status":"picked_up","sequence":4,"status_changed_at":"…","detail":null,
//!  "location":null,"origin":{…},"destination":{…}}}}
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, EndpointId, EventId, OrderId};
use crate::order::{Address, OrderStatus, StatusChange};

/// The kinds of event a webhook endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// An order was placed (`previous_status: null`, `sequence: 1`).
    #[serde(rename = "order.created")]
    OrderCreated,
    /// An order moved to another status.
    #[serde(rename = "order.status_changed")]
    OrderStatusChanged,
    /// A test event sent on request to one endpoint.
    #[serde(rename = "webhook.test")]
    WebhookTest,
}

impl EventType {
    /// Every event type.
    pub const ALL: [Self; 3] = [
        Self::OrderCreated,
        Self::OrderStatusChanged,
        Self::WebhookTest,
    ];

    /// The wire name (`order.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderCreated => "order.created",
            Self::OrderStatusChanged => "order.status_changed",
            Self::WebhookTest => "webhook.test",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an endpoint subscribed to `event_types` (`None` = every type) receives `event_type`.
pub fn subscribes(event_types: Option<&[EventType]>, event_type: EventType) -> bool {
    event_types.is_none_or(|types| types.contains(&event_type))
}

/// An event with its serialized payload, ready to be stored and fanned out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its id, sent as `webhook-id`.
    pub id: EventId,
    /// Its type.
    pub event_type: EventType,
    /// The customer whose endpoints receive it.
    pub customer_id: CustomerId,
    /// The order it is about, if any.
    pub order_id: Option<OrderId>,
    /// The exact bytes that are signed and sent.
    pub payload: Vec<u8>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct Envelope<D> {
    #[serde(rename = "type")]
    event_type: EventType,
    #[serde(with = "crate::time::millis")]
    timestamp: DateTime<Utc>,
    data: D,
}

#[derive(Serialize)]
struct OrderData<'a> {
    order: OrderSnapshot<'a>,
}

#[derive(Serialize)]
struct OrderSnapshot<'a> {
    id: &'a OrderId,
    reference: &'a str,
    status: OrderStatus,
    previous_status: Option<OrderStatus>,
    sequence: u32,
    #[serde(with = "crate::time::millis")]
    status_changed_at: DateTime<Utc>,
    detail: Option<&'a str>,
    location: Option<&'a str>,
    origin: &'a Address,
    destination: &'a Address,
}

#[derive(Serialize)]
struct TestData<'a> {
    endpoint_id: &'a EndpointId,
}

fn to_bytes<D: Serialize>(envelope: &Envelope<D>) -> Vec<u8> {
    serde_json::to_vec(envelope)
        .expect("payloads are plain structs of strings, numbers and enums, which always serialize")
}

impl Event {
    /// The `order.created` or `order.status_changed` event of a status change.
    pub fn for_status_change(change: &StatusChange) -> Self {
        let order = &change.order;
        let event_type = match change.previous_status {
            None => EventType::OrderCreated,
            Some(_) => EventType::OrderStatusChanged,
        };
        let payload = to_bytes(&Envelope {
            event_type,
            timestamp: order.status_changed_at,
            data: OrderData {
                order: OrderSnapshot {
                    id: &order.id,
                    reference: &order.reference,
                    status: order.status,
                    previous_status: change.previous_status,
                    sequence: order.sequence,
                    status_changed_at: order.status_changed_at,
                    detail: change.detail.as_deref(),
                    location: change.location.as_deref(),
                    origin: &order.origin,
                    destination: &order.destination,
                },
            },
        });
        Self {
            id: EventId::new(),
            event_type,
            customer_id: order.customer_id.clone(),
            order_id: Some(order.id.clone()),
            payload,
            created_at: order.status_changed_at,
        }
    }

    /// A `webhook.test` event for one endpoint.
    pub fn test(customer_id: CustomerId, endpoint_id: &EndpointId, now: DateTime<Utc>) -> Self {
        let payload = to_bytes(&Envelope {
            event_type: EventType::WebhookTest,
            timestamp: now,
            data: TestData { endpoint_id },
        });
        Self {
            id: EventId::new(),
            event_type: EventType::WebhookTest,
            customer_id,
            order_id: None,
            payload,
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::order::{NewOrder, Order};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0)
            .single()
            .expect("valid")
    }

    fn placed() -> StatusChange {
        let address = Address {
            name: "Acme".into(),
            line1: "Kade 1".into(),
            line2: None,
            city: "Rotterdam".into(),
            region: Some("ZH".into()),
            postal_code: "3011AA".into(),
            country: "NL".into(),
        };
        let customer = CustomerId::parse("cus_01jd0000000000000000000000").expect("id");
        let mut change = Order::place(
            customer,
            NewOrder {
                reference: "PO-1234".into(),
                origin: address.clone(),
                destination: address,
                parcels: vec![],
                shipping: crate::order::Shipping::default(),
            },
            at(9, 0),
        );
        change.order.id = OrderId::parse("ord_01jd0000000000000000000001").expect("id");
        change
    }

    const ADDRESS: &str = r#"{"name":"Acme","line1":"Kade 1","line2":null,"city":"Rotterdam","region":"ZH","postal_code":"3011AA","country":"NL"}"#;

    #[test]
    fn created_payload_is_byte_exact() {
        let event = Event::for_status_change(&placed());
        assert_eq!(event.event_type, EventType::OrderCreated);
        let expected = format!(
            r#"{{"type":"order.created","timestamp":"2026-11-22T09:00:00.000Z","data":{{"order":{{"id":"ord_01jd0000000000000000000001","reference":"PO-1234","status":"pending","previous_status":null,"sequence":1,"status_changed_at":"2026-11-22T09:00:00.000Z","detail":null,"location":null,"origin":{ADDRESS},"destination":{ADDRESS}}}}}}}"#
        );
        assert_eq!(String::from_utf8(event.payload).expect("utf8"), expected);
    }

    #[test]
    fn status_changed_payload_is_byte_exact() {
        let change = placed()
            .order
            .transition(
                OrderStatus::Confirmed,
                Some("accepted".into()),
                Some("Rotterdam hub".into()),
                at(10, 0),
            )
            .expect("allowed");
        let event = Event::for_status_change(&change);
        assert_eq!(event.event_type, EventType::OrderStatusChanged);
        let expected = format!(
            r#"{{"type":"order.status_changed","timestamp":"2026-11-22T10:00:00.000Z","data":{{"order":{{"id":"ord_01jd0000000000000000000001","reference":"PO-1234","status":"confirmed","previous_status":"pending","sequence":2,"status_changed_at":"2026-11-22T10:00:00.000Z","detail":"accepted","location":"Rotterdam hub","origin":{ADDRESS},"destination":{ADDRESS}}}}}}}"#
        );
        assert_eq!(String::from_utf8(event.payload).expect("utf8"), expected);
    }

    #[test]
    fn test_payload_is_byte_exact() {
        let endpoint = EndpointId::parse("ep_01jd0000000000000000000002").expect("id");
        let event = Event::test(CustomerId::new(), &endpoint, at(10, 0));
        assert_eq!(
            String::from_utf8(event.payload).expect("utf8"),
            r#"{"type":"webhook.test","timestamp":"2026-11-22T10:00:00.000Z","data":{"endpoint_id":"ep_01jd0000000000000000000002"}}"#
        );
    }

    #[test]
    fn subscription_filter() {
        assert!(subscribes(None, EventType::OrderCreated));
        assert!(subscribes(
            Some(&[EventType::OrderCreated]),
            EventType::OrderCreated
        ));
        assert!(!subscribes(
            Some(&[EventType::OrderCreated]),
            EventType::OrderStatusChanged
        ));
    }

    #[test]
    fn event_type_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_string(&t).expect("json"), format!("\"{t}\""));
        }
    }
}
