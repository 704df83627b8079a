//! Webhook events and the exact bytes customers receive.
//!
//! The payload is serialized once, when the event is created; those bytes are stored, signed and
//! sent unchanged on every attempt. Field order is part of the contract:
//!
//! ```json
//! {"type":"order.status_changed","timestamp":"2026-11-22T10:00:00.000Z",
//!  "data":{"order":{"id":"ord_…","reference":"PO-1234","status":"in_transit",
//!  "previous_status":"picked_up","sequence":4,"status_changed_at":"…","detail":null,
//!  "location":null,"origin":{…},"destination":{…},"carrier":"DHL","tracking_number":null,
//!  "estimated_delivery_at":null,"metadata":{}}}}
//! ```
//!
//! Every event about an order carries its whole state after the change (besides a status
//! change's own `previous_status`, `detail` and `location`), so the event with the highest
//! `sequence` is all a receiver needs, whichever kind it is and whatever arrived out of order.
//!
//! `order.updated` carries the order's shipping details after the update and, in
//! `previous_attributes`, what each changed field held before (the fields that did not change
//! are left out):
//!
//! ```json
//! {"type":"order.updated","timestamp":"…","data":{"order":{"id":"ord_…","reference":"PO-1234",
//!  "status":"picked_up","sequence":4,"updated_at":"…","carrier":"DHL",
//!  "tracking_number":"JJD0001","estimated_delivery_at":null,"metadata":{}},
//!  "previous_attributes":{"tracking_number":null}}}
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::health::Notice;
use crate::ids::{CustomerId, DeliveryId, EndpointId, EventId, OrderId};
use crate::order::{Address, Metadata, OrderStatus, ShippingUpdate, StatusChange};
use crate::state::{DisabledReason, FailureReason};

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
    /// An order's carrier, tracking number, delivery estimate or metadata changed.
    #[serde(rename = "order.updated")]
    OrderUpdated,
    /// A test event sent on request to one endpoint.
    #[serde(rename = "webhook.test")]
    WebhookTest,
    /// One of the customer's endpoints keeps failing (operational).
    #[serde(rename = "endpoint.failing")]
    EndpointFailing,
    /// One of the customer's endpoints was disabled by the platform (operational).
    #[serde(rename = "endpoint.disabled")]
    EndpointDisabled,
    /// One of the customer's endpoints succeeded after failing (operational).
    #[serde(rename = "endpoint.recovered")]
    EndpointRecovered,
    /// A delivery failed its last attempt (operational).
    #[serde(rename = "delivery.exhausted")]
    DeliveryExhausted,
}

impl EventType {
    /// Every event type.
    pub const ALL: [Self; 8] = [
        Self::OrderCreated,
        Self::OrderStatusChanged,
        Self::OrderUpdated,
        Self::WebhookTest,
        Self::EndpointFailing,
        Self::EndpointDisabled,
        Self::EndpointRecovered,
        Self::DeliveryExhausted,
    ];

    /// The wire name (`order.created`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderCreated => "order.created",
            Self::OrderStatusChanged => "order.status_changed",
            Self::OrderUpdated => "order.updated",
            Self::WebhookTest => "webhook.test",
            Self::EndpointFailing => "endpoint.failing",
            Self::EndpointDisabled => "endpoint.disabled",
            Self::EndpointRecovered => "endpoint.recovered",
            Self::DeliveryExhausted => "delivery.exhausted",
        }
    }

    /// Whether it is about the webhooks themselves rather than an order: sent only to the
    /// endpoints that name it in their subscription, never to the endpoint it is about, and
    /// never itself the cause of another (a `delivery.exhausted` of one raises nothing).
    pub fn is_operational(self) -> bool {
        matches!(
            self,
            Self::EndpointFailing
                | Self::EndpointDisabled
                | Self::EndpointRecovered
                | Self::DeliveryExhausted
        )
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// What the event means, as the event catalog tells customers.
    pub fn description(self) -> &'static str {
        match self {
            Self::OrderCreated => {
                "An order was placed. `previous_status` is null and `sequence` is 1."
            }
            Self::OrderStatusChanged => {
                "An order moved to another status; `sequence` grows by one with every change, \
                 so drop an update whose sequence is not higher than the last one you applied."
            }
            Self::OrderUpdated => {
                "An order's carrier, tracking number, delivery estimate or metadata changed. \
                 `previous_attributes` holds what each changed field was before. It takes the \
                 next `sequence` like a status change: the same rule orders both."
            }
            Self::WebhookTest => {
                "A test event, sent on request to one endpoint only; it carries that endpoint's id."
            }
            Self::EndpointFailing => {
                "Operational: one of your endpoints has failed `consecutive_failures` attempts in \
                 a row since `failing_since`. Sent once when the run of failures reaches the \
                 threshold and once more, with `last_warning: true`, at 90 % of the window after \
                 which a still failing endpoint is disabled (`auto_disable_at`)."
            }
            Self::EndpointDisabled => {
                "Operational: one of your endpoints was disabled because it answered 410 Gone \
                 (`reason: gone`) or failed every attempt for the whole auto-disable window \
                 (`auto_disabled`). Its pending deliveries failed; re-enable it to receive again."
            }
            Self::EndpointRecovered => {
                "Operational: an endpoint that `endpoint.failing` was sent about accepted an \
                 attempt again, ending a run of `consecutive_failures` failures."
            }
            Self::DeliveryExhausted => {
                "Operational: a delivery of an order event failed its last attempt and will not \
                 be attempted again unless retried by hand."
            }
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an endpoint subscribed to `event_types` receives `event_type`. `None` is every type
/// but the operational ones, which an endpoint receives only if it names them.
pub fn subscribes(event_types: Option<&[EventType]>, event_type: EventType) -> bool {
    event_types.map_or(!event_type.is_operational(), |types| {
        types.contains(&event_type)
    })
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

// The payload types below are the only description of what customers receive: the bytes are
// serialized from them, and with the `openapi` feature the event catalog's JSON Schemas are
// derived from them (see [`catalog`]).

/// Every payload: `{"type", "timestamp", "data"}`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Envelope<D> {
    /// The event type.
    #[serde(rename = "type")]
    event_type: EventType,
    /// When it happened (RFC 3339, milliseconds, UTC).
    #[serde(with = "crate::time::millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    timestamp: DateTime<Utc>,
    /// What happened.
    #[cfg_attr(feature = "openapi", schema(inline))]
    data: D,
}

/// `data` of `order.created` and `order.status_changed`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct OrderData<'a> {
    /// The order as it is after the change.
    #[cfg_attr(feature = "openapi", schema(inline))]
    order: OrderSnapshot<'a>,
}

/// An order at one status change: its whole state, so that the event with the highest sequence
/// is all a receiver needs.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct OrderSnapshot<'a> {
    /// `ord_…`
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    id: &'a OrderId,
    /// The customer's reference.
    reference: &'a str,
    /// The status after the change.
    #[cfg_attr(feature = "openapi", schema(inline))]
    status: OrderStatus,
    /// The status before it; `null` when the order was placed.
    #[cfg_attr(feature = "openapi", schema(inline))]
    previous_status: Option<OrderStatus>,
    /// 1 at creation, +1 per change: drop an update whose sequence is not higher than the last
    /// one applied for the order.
    sequence: u32,
    /// When the status changed (RFC 3339, milliseconds, UTC).
    #[serde(with = "crate::time::millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    status_changed_at: DateTime<Utc>,
    /// The operator's detail.
    detail: Option<&'a str>,
    /// Where the order was.
    location: Option<&'a str>,
    /// Pick-up address.
    #[cfg_attr(feature = "openapi", schema(inline))]
    origin: &'a Address,
    /// Delivery address.
    #[cfg_attr(feature = "openapi", schema(inline))]
    destination: &'a Address,
    /// The carrier handling it.
    carrier: Option<&'a str>,
    /// The carrier's tracking number.
    tracking_number: Option<&'a str>,
    /// When it is expected at the destination.
    #[serde(with = "crate::time::millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    estimated_delivery_at: Option<DateTime<Utc>>,
    /// The customer's own key/value pairs.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = std::collections::HashMap<String, String>)
    )]
    metadata: &'a Metadata,
}

/// `data` of `order.updated`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct UpdateData<'a> {
    /// The order after the update.
    #[cfg_attr(feature = "openapi", schema(inline))]
    order: UpdatedOrder<'a>,
    /// What each changed field held before the update; unchanged fields are left out.
    #[cfg_attr(feature = "openapi", schema(inline))]
    previous_attributes: PreviousAttributes<'a>,
}

/// An order's shipping details after an update.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct UpdatedOrder<'a> {
    /// `ord_…`
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    id: &'a OrderId,
    /// The customer's reference.
    reference: &'a str,
    /// Its status, which the update did not change.
    #[cfg_attr(feature = "openapi", schema(inline))]
    status: OrderStatus,
    /// The next after the order's last event, status change or update alike: drop an update
    /// whose sequence is not higher than the last one applied for the order.
    sequence: u32,
    /// When it was updated (RFC 3339, milliseconds, UTC).
    #[serde(with = "crate::time::millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    updated_at: DateTime<Utc>,
    /// The carrier handling it.
    carrier: Option<&'a str>,
    /// The carrier's tracking number.
    tracking_number: Option<&'a str>,
    /// When it is expected at the destination.
    #[serde(with = "crate::time::millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    estimated_delivery_at: Option<DateTime<Utc>>,
    /// The customer's own key/value pairs.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = std::collections::HashMap<String, String>)
    )]
    metadata: &'a Metadata,
}

/// The previous values of the fields an update changed; `null` means the field was empty.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct PreviousAttributes<'a> {
    /// The carrier before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    carrier: Option<Option<&'a str>>,
    /// The tracking number before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    tracking_number: Option<Option<&'a str>>,
    /// The delivery estimate before.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "previous_time"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    estimated_delivery_at: Option<Option<DateTime<Utc>>>,
    /// The whole metadata before.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<std::collections::HashMap<String, String>>)
    )]
    metadata: Option<&'a Metadata>,
}

fn previous_time<S: Serializer>(
    t: &Option<Option<DateTime<Utc>>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    crate::time::millis::option::serialize(&t.flatten(), s)
}

/// `data` of `webhook.test`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct TestData<'a> {
    /// The endpoint the test was sent to (`ep_…`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    endpoint_id: &'a EndpointId,
}

/// The endpoint an operational event is about.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AboutEndpoint<'a> {
    /// `ep_…`
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: &'a EndpointId,
    /// Its URL.
    pub url: &'a str,
}

/// `data` of `endpoint.failing`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct FailingData<'a> {
    /// The failing endpoint.
    #[cfg_attr(feature = "openapi", schema(inline))]
    endpoint: AboutEndpoint<'a>,
    /// When its run of failures began (RFC 3339, milliseconds, UTC).
    #[serde(with = "crate::time::millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    failing_since: DateTime<Utc>,
    /// Attempts failed in a row so far.
    consecutive_failures: u32,
    /// Whether this is the last warning: the endpoint is disabled at its first failure after
    /// `auto_disable_at`.
    last_warning: bool,
    /// From when a failure disables the endpoint, unless an attempt succeeds before.
    #[serde(with = "crate::time::millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    auto_disable_at: DateTime<Utc>,
}

/// `data` of `endpoint.disabled`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct DisabledData<'a> {
    /// The disabled endpoint.
    #[cfg_attr(feature = "openapi", schema(inline))]
    endpoint: AboutEndpoint<'a>,
    /// `gone` (it answered 410) or `auto_disabled` (it failed for the whole window).
    #[cfg_attr(feature = "openapi", schema(inline))]
    reason: DisabledReason,
    /// When its run of failures began; `null` if a 410 came without one.
    #[serde(with = "crate::time::millis::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    failing_since: Option<DateTime<Utc>>,
}

/// `data` of `endpoint.recovered`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct RecoveredData<'a> {
    /// The recovered endpoint.
    #[cfg_attr(feature = "openapi", schema(inline))]
    endpoint: AboutEndpoint<'a>,
    /// When the run of failures it ended began (RFC 3339, milliseconds, UTC).
    #[serde(with = "crate::time::millis")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    failing_since: DateTime<Utc>,
    /// How many attempts that run failed.
    consecutive_failures: u32,
}

/// A delivery that failed its last attempt.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExhaustedDelivery<'a> {
    /// `dlv_…`
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: &'a DeliveryId,
    /// The event it carried (`evt_…`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub event_id: &'a EventId,
    /// That event's type.
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub event_type: EventType,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed: `attempts_exhausted` (every scheduled attempt failed) or `endpoint_gone`.
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub failure_reason: FailureReason,
    /// The status of the last answer; `null` if the last attempt got none.
    pub last_status_code: Option<u16>,
}

/// `data` of `delivery.exhausted`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct ExhaustedData<'a> {
    /// The endpoint it was for.
    #[cfg_attr(feature = "openapi", schema(inline))]
    endpoint: AboutEndpoint<'a>,
    /// The delivery.
    #[cfg_attr(feature = "openapi", schema(inline))]
    delivery: ExhaustedDelivery<'a>,
}

fn to_bytes<D: Serialize>(envelope: &Envelope<D>) -> Vec<u8> {
    serde_json::to_vec(envelope)
        .expect("payloads are plain structs of strings, numbers and enums, which always serialize")
}

fn operational<D: Serialize>(
    event_type: EventType,
    timestamp: DateTime<Utc>,
    data: D,
) -> (EventType, Vec<u8>) {
    let payload = to_bytes(&Envelope {
        event_type,
        timestamp,
        data,
    });
    (event_type, payload)
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
                    carrier: order.shipping.carrier.as_deref(),
                    tracking_number: order.shipping.tracking_number.as_deref(),
                    estimated_delivery_at: order.shipping.estimated_delivery_at,
                    metadata: &order.shipping.metadata,
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

    /// The `order.updated` event of an update of an order's shipping details.
    pub fn for_update(update: &ShippingUpdate) -> Self {
        let order = update.order();
        let previous = update.previous();
        let shipping = &order.shipping;
        let payload = to_bytes(&Envelope {
            event_type: EventType::OrderUpdated,
            timestamp: update.updated_at(),
            data: UpdateData {
                order: UpdatedOrder {
                    id: &order.id,
                    reference: &order.reference,
                    status: order.status,
                    sequence: order.sequence,
                    updated_at: update.updated_at(),
                    carrier: shipping.carrier.as_deref(),
                    tracking_number: shipping.tracking_number.as_deref(),
                    estimated_delivery_at: shipping.estimated_delivery_at,
                    metadata: &shipping.metadata,
                },
                previous_attributes: PreviousAttributes {
                    carrier: previous.carrier.as_ref().map(Option::as_deref),
                    tracking_number: previous.tracking_number.as_ref().map(Option::as_deref),
                    estimated_delivery_at: previous.estimated_delivery_at,
                    metadata: previous.metadata.as_ref(),
                },
            },
        });
        Self {
            id: EventId::new(),
            event_type: EventType::OrderUpdated,
            customer_id: order.customer_id.clone(),
            order_id: Some(order.id.clone()),
            payload,
            created_at: update.updated_at(),
        }
    }

    /// The operational event `notice` raises about `endpoint` of `customer_id`, at `at` (when
    /// the attempt that raised it started); `auto_disable_after` dates a warning's deadline.
    pub fn for_notice(
        customer_id: CustomerId,
        endpoint: AboutEndpoint<'_>,
        notice: &Notice,
        auto_disable_after: std::time::Duration,
        at: DateTime<Utc>,
    ) -> Self {
        let (event_type, payload) = match *notice {
            Notice::Failing {
                since,
                failures,
                last_warning,
            } => {
                let auto_disable_at = chrono::TimeDelta::from_std(auto_disable_after)
                    .ok()
                    .and_then(|window| since.checked_add_signed(window))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                let data = FailingData {
                    endpoint,
                    failing_since: since,
                    consecutive_failures: failures,
                    last_warning,
                    auto_disable_at,
                };
                operational(EventType::EndpointFailing, at, data)
            }
            Notice::Disabled { reason, since } => {
                let data = DisabledData {
                    endpoint,
                    reason,
                    failing_since: since,
                };
                operational(EventType::EndpointDisabled, at, data)
            }
            Notice::Recovered { since, failures } => {
                let data = RecoveredData {
                    endpoint,
                    failing_since: since,
                    consecutive_failures: failures,
                };
                operational(EventType::EndpointRecovered, at, data)
            }
        };
        Self::about_webhooks(customer_id, event_type, payload, at)
    }

    /// The `delivery.exhausted` event of `delivery` to `endpoint`, at `at` (when its last
    /// attempt started).
    pub fn exhausted(
        customer_id: CustomerId,
        endpoint: AboutEndpoint<'_>,
        delivery: ExhaustedDelivery<'_>,
        at: DateTime<Utc>,
    ) -> Self {
        let data = ExhaustedData { endpoint, delivery };
        let (event_type, payload) = operational(EventType::DeliveryExhausted, at, data);
        Self::about_webhooks(customer_id, event_type, payload, at)
    }

    fn about_webhooks(
        customer_id: CustomerId,
        event_type: EventType,
        payload: Vec<u8>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: EventId::new(),
            event_type,
            customer_id,
            order_id: None,
            payload,
            created_at: at,
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

/// The event catalog: each type's JSON Schema, derived from the payload types above, and an
/// example built by the same constructors that build real events.
#[cfg(feature = "openapi")]
pub mod catalog {
    use chrono::TimeDelta;
    use utoipa::PartialSchema;

    use super::*;
    use crate::order::{InvalidTransition, NewOrder, Order, Shipping, ShippingPatch};
    use crate::validation::FieldErrors;

    /// One event type as the catalog describes it.
    #[derive(Debug, Clone)]
    pub struct Entry {
        /// The type.
        pub event_type: EventType,
        /// What it means.
        pub description: &'static str,
        /// The JSON Schema (2020-12) of its payload.
        pub schema: serde_json::Value,
        /// An example payload: the exact bytes an event of this type would carry.
        pub example: Box<serde_json::value::RawValue>,
    }

    /// The catalog could not be built: a defect, since its types and examples are fixed.
    #[derive(Debug, thiserror::Error)]
    pub enum CatalogError {
        /// A schema or an example did not serialize.
        #[error("the event catalog does not serialize: {0}")]
        Json(#[from] serde_json::Error),
        /// The example status change is not one the lifecycle allows.
        #[error("the event catalog's example: {0}")]
        Transition(#[from] InvalidTransition),
        /// The example update is not valid, or changes nothing.
        #[error("the event catalog's example update is not a valid change")]
        Update,
    }

    impl From<FieldErrors> for CatalogError {
        fn from(_: FieldErrors) -> Self {
            Self::Update
        }
    }

    /// Every event type, in [`EventType::ALL`]'s order.
    pub fn entries() -> Result<Vec<Entry>, CatalogError> {
        EventType::ALL
            .into_iter()
            .map(|event_type| {
                Ok(Entry {
                    event_type,
                    description: event_type.description(),
                    schema: schema(event_type)?,
                    example: example(event_type)?,
                })
            })
            .collect()
    }

    /// The payload schema of one type, its `type` narrowed to that one value.
    fn schema(event_type: EventType) -> serde_json::Result<serde_json::Value> {
        let schema = match event_type {
            EventType::OrderCreated | EventType::OrderStatusChanged => {
                Envelope::<OrderData<'static>>::schema()
            }
            EventType::OrderUpdated => Envelope::<UpdateData<'static>>::schema(),
            EventType::WebhookTest => Envelope::<TestData<'static>>::schema(),
            EventType::EndpointFailing => Envelope::<FailingData<'static>>::schema(),
            EventType::EndpointDisabled => Envelope::<DisabledData<'static>>::schema(),
            EventType::EndpointRecovered => Envelope::<RecoveredData<'static>>::schema(),
            EventType::DeliveryExhausted => Envelope::<ExhaustedData<'static>>::schema(),
        };
        let mut schema = serde_json::to_value(schema)?;
        flatten_single_one_of(&mut schema);
        if let Some(object) = schema.as_object_mut() {
            if let Some(serde_json::Value::Object(properties)) = object.get_mut("properties") {
                properties.insert(
                    "type".into(),
                    serde_json::json!({
                        "type": "string",
                        "const": event_type.as_str(),
                        "description": "The event type.",
                    }),
                );
            }
            object.insert(
                "$schema".into(),
                "https://json-schema.org/draft/2020-12/schema".into(),
            );
            object.insert("title".into(), event_type.as_str().into());
        }
        Ok(schema)
    }

    /// Replaces each `{"oneOf": [S], …}` (how an inlined, described field comes out) by `S` with
    /// the field's own keywords, so the schema reads as plainly as the payload.
    fn flatten_single_one_of(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(object) => {
                if let Some(serde_json::Value::Array(variants)) = object.get("oneOf")
                    && let [serde_json::Value::Object(only)] = variants.as_slice()
                {
                    let only = only.clone();
                    object.remove("oneOf");
                    for (key, keyword) in only {
                        object.entry(key).or_insert(keyword);
                    }
                }
                object.values_mut().for_each(flatten_single_one_of);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(flatten_single_one_of),
            _ => {}
        }
    }

    /// A payload of one type, byte for byte as a real event of it would carry.
    fn example(event_type: EventType) -> Result<Box<serde_json::value::RawValue>, CatalogError> {
        // 2026-11-22T08:00:00Z and the hours after it.
        let at = |hour: i64| {
            DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(1_795_334_400 + 3_600 * hour)
        };
        let address =
            |name: &str, line1: &str, city: &str, postal_code: &str, country: &str| Address {
                name: name.into(),
                line1: line1.into(),
                line2: None,
                city: city.into(),
                region: None,
                postal_code: postal_code.into(),
                country: country.into(),
            };
        let customer = CustomerId::floor(at(0));
        let mut placed = Order::place(
            customer.clone(),
            NewOrder {
                reference: "PO-1234".into(),
                origin: address("Acme DC", "Kade 1", "Rotterdam", "3011 AA", "NL"),
                destination: address("J. Jansen", "Hauptstr. 2", "Berlin", "10115", "DE"),
                parcels: Vec::new(),
                shipping: Shipping::default(),
            },
            at(1),
        );
        placed.order.id = OrderId::floor(at(1));
        let endpoint_id = EndpointId::floor(at(0));
        let endpoint = AboutEndpoint {
            id: &endpoint_id,
            url: "https://hooks.example.com/mechanica",
        };
        // The default auto-disable window: five days.
        let window = std::time::Duration::from_secs(5 * 86_400);
        let event = match event_type {
            EventType::OrderCreated => Event::for_status_change(&placed),
            EventType::OrderStatusChanged => Event::for_status_change(&placed.order.transition(
                OrderStatus::Confirmed,
                Some("Accepted by the carrier".into()),
                Some("Rotterdam hub".into()),
                at(2),
            )?),
            EventType::OrderUpdated => {
                let patch = ShippingPatch {
                    carrier: Some(Some("DHL".into())),
                    tracking_number: Some(Some("JJD000390007827".into())),
                    estimated_delivery_at: Some(Some(at(30))),
                    metadata: None,
                };
                let update = placed.order.update(patch, at(2))?;
                Event::for_update(&update.ok_or(CatalogError::Update)?)
            }
            EventType::WebhookTest => Event::test(customer, &endpoint_id, at(2)),
            EventType::EndpointFailing => Event::for_notice(
                customer,
                endpoint,
                &Notice::Failing {
                    since: at(2),
                    failures: 5,
                    last_warning: false,
                },
                window,
                at(5),
            ),
            EventType::EndpointDisabled => Event::for_notice(
                customer,
                endpoint,
                &Notice::Disabled {
                    reason: DisabledReason::AutoDisabled,
                    since: Some(at(2)),
                },
                window,
                at(122),
            ),
            EventType::EndpointRecovered => Event::for_notice(
                customer,
                endpoint,
                &Notice::Recovered {
                    since: at(2),
                    failures: 7,
                },
                window,
                at(9),
            ),
            EventType::DeliveryExhausted => {
                let delivery = ExhaustedDelivery {
                    id: &DeliveryId::floor(at(2)),
                    event_id: &EventId::floor(at(2)),
                    event_type: EventType::OrderStatusChanged,
                    attempts: 8,
                    failure_reason: FailureReason::AttemptsExhausted,
                    last_status_code: Some(503),
                };
                Event::exhausted(customer, endpoint, delivery, at(40))
            }
        };
        let payload = String::from_utf8(event.payload).map_err(|e| {
            serde_json::Error::io(std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        })?;
        Ok(serde_json::value::RawValue::from_string(payload)?)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_type_has_a_schema_and_an_example_of_its_own_type() {
            let entries = entries().expect("the catalog builds");
            assert_eq!(entries.len(), EventType::ALL.len());
            for entry in entries {
                let example: serde_json::Value =
                    serde_json::from_str(entry.example.get()).expect("JSON");
                assert_eq!(example["type"], entry.event_type.as_str());
                assert_eq!(
                    entry.schema["properties"]["type"]["const"],
                    entry.event_type.as_str()
                );
                assert_eq!(
                    entry.schema["required"],
                    serde_json::json!(["type", "timestamp", "data"])
                );
                // A catalog schema stands alone: it has no components to refer to.
                let text = entry.schema.to_string();
                assert!(!text.contains("$ref"), "{}: {text}", entry.event_type);
            }
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
            r#"{{"type":"order.created","timestamp":"2026-11-22T09:00:00.000Z","data":{{"order":{{"id":"ord_01jd0000000000000000000001","reference":"PO-1234","status":"pending","previous_status":null,"sequence":1,"status_changed_at":"2026-11-22T09:00:00.000Z","detail":null,"location":null,"origin":{ADDRESS},"destination":{ADDRESS},"carrier":null,"tracking_number":null,"estimated_delivery_at":null,"metadata":{{}}}}}}}}"#
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
            r#"{{"type":"order.status_changed","timestamp":"2026-11-22T10:00:00.000Z","data":{{"order":{{"id":"ord_01jd0000000000000000000001","reference":"PO-1234","status":"confirmed","previous_status":"pending","sequence":2,"status_changed_at":"2026-11-22T10:00:00.000Z","detail":"accepted","location":"Rotterdam hub","origin":{ADDRESS},"destination":{ADDRESS},"carrier":null,"tracking_number":null,"estimated_delivery_at":null,"metadata":{{}}}}}}}}"#
        );
        assert_eq!(String::from_utf8(event.payload).expect("utf8"), expected);
    }

    #[test]
    fn updated_payload_is_byte_exact_and_lists_only_what_changed() {
        let update = placed()
            .order
            .update(
                crate::order::ShippingPatch {
                    tracking_number: Some(Some("JJD0001".into())),
                    estimated_delivery_at: Some(Some(at(18, 0))),
                    carrier: Some(None),
                    metadata: Some([("dock".to_owned(), Some("4".to_owned()))].into()),
                },
                at(11, 0),
            )
            .expect("valid")
            .expect("a change");
        let event = Event::for_update(&update);
        assert_eq!(event.event_type, EventType::OrderUpdated);
        assert_eq!(event.created_at, at(11, 0));
        assert_eq!(
            String::from_utf8(event.payload).expect("utf8"),
            r#"{"type":"order.updated","timestamp":"2026-11-22T11:00:00.000Z","data":{"order":{"id":"ord_01jd0000000000000000000001","reference":"PO-1234","status":"pending","sequence":2,"updated_at":"2026-11-22T11:00:00.000Z","carrier":null,"tracking_number":"JJD0001","estimated_delivery_at":"2026-11-22T18:00:00.000Z","metadata":{"dock":"4"}},"previous_attributes":{"tracking_number":null,"estimated_delivery_at":null,"metadata":{}}}}"#
        );
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
    fn failing_payload_is_byte_exact() {
        let endpoint_id = EndpointId::parse("ep_01jd0000000000000000000002").expect("id");
        let endpoint = AboutEndpoint {
            id: &endpoint_id,
            url: "https://hooks.example.com/in",
        };
        let notice = Notice::Failing {
            since: at(9, 0),
            failures: 5,
            last_warning: false,
        };
        let window = std::time::Duration::from_secs(86_400);
        let event = Event::for_notice(CustomerId::new(), endpoint, &notice, window, at(10, 0));
        assert_eq!(event.event_type, EventType::EndpointFailing);
        assert_eq!(event.order_id, None);
        assert_eq!(
            String::from_utf8(event.payload).expect("utf8"),
            r#"{"type":"endpoint.failing","timestamp":"2026-11-22T10:00:00.000Z","data":{"endpoint":{"id":"ep_01jd0000000000000000000002","url":"https://hooks.example.com/in"},"failing_since":"2026-11-22T09:00:00.000Z","consecutive_failures":5,"last_warning":false,"auto_disable_at":"2026-11-23T09:00:00.000Z"}}"#
        );
    }

    #[test]
    fn exhausted_payload_is_byte_exact() {
        let endpoint_id = EndpointId::parse("ep_01jd0000000000000000000002").expect("id");
        let delivery_id = DeliveryId::parse("dlv_01jd0000000000000000000003").expect("id");
        let event_id = EventId::parse("evt_01jd0000000000000000000004").expect("id");
        let endpoint = AboutEndpoint {
            id: &endpoint_id,
            url: "https://hooks.example.com/in",
        };
        let delivery = ExhaustedDelivery {
            id: &delivery_id,
            event_id: &event_id,
            event_type: EventType::OrderCreated,
            attempts: 3,
            failure_reason: FailureReason::AttemptsExhausted,
            last_status_code: None,
        };
        let event = Event::exhausted(CustomerId::new(), endpoint, delivery, at(10, 0));
        assert_eq!(
            String::from_utf8(event.payload).expect("utf8"),
            r#"{"type":"delivery.exhausted","timestamp":"2026-11-22T10:00:00.000Z","data":{"endpoint":{"id":"ep_01jd0000000000000000000002","url":"https://hooks.example.com/in"},"delivery":{"id":"dlv_01jd0000000000000000000003","event_id":"evt_01jd0000000000000000000004","event_type":"order.created","attempts":3,"failure_reason":"attempts_exhausted","last_status_code":null}}}"#
        );
    }

    #[test]
    fn operational_types_go_only_where_they_are_named() {
        for operational in EventType::ALL.into_iter().filter(|t| t.is_operational()) {
            assert!(!subscribes(None, operational), "{operational}");
            assert!(subscribes(Some(&[operational]), operational));
        }
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
