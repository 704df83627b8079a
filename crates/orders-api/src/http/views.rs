//! Response bodies.

use chrono::{DateTime, Utc};
use domain::headers::CustomHeaders;
use domain::order::{Address, Metadata, Order, OrderStatus, Parcel};
use domain::state::{DeliveryStatus, DisabledReason, ErrorClass, FailureReason};
use serde::Serialize;

use crate::db::endpoints::Endpoint;
use crate::db::orders::HistoryRow;

/// An order as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    /// `ord_…`
    pub id: String,
    /// Owner.
    pub customer_id: String,
    /// The customer's reference.
    pub reference: String,
    /// Current status.
    pub status: OrderStatus,
    /// 1 at creation, +1 per status change or update; receivers drop stale events by it.
    pub sequence: u32,
    /// Pick-up address.
    pub origin: Address,
    /// Delivery address.
    pub destination: Address,
    /// Parcels.
    pub parcels: Vec<Parcel>,
    /// The carrier handling it.
    pub carrier: Option<String>,
    /// The carrier's tracking number.
    pub tracking_number: Option<String>,
    /// When it is expected at the destination.
    #[serde(with = "domain::time::millis::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// The customer's own key/value pairs.
    pub metadata: Metadata,
    /// Placed at.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Last status change at.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub status_changed_at: DateTime<Utc>,
    /// Related resources.
    pub links: OrderLinks,
}

/// Links of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderLinks {
    /// Its status history.
    pub history: String,
}

impl From<Order> for OrderView {
    fn from(order: Order) -> Self {
        Self {
            links: OrderLinks {
                history: format!("/v1/orders/{}/history", order.id),
            },
            id: order.id.to_string(),
            customer_id: order.customer_id.to_string(),
            reference: order.reference,
            status: order.status,
            sequence: order.sequence,
            origin: order.origin,
            destination: order.destination,
            parcels: order.parcels,
            carrier: order.shipping.carrier,
            tracking_number: order.shipping.tracking_number,
            estimated_delivery_at: order.shipping.estimated_delivery_at,
            metadata: order.shipping.metadata,
            created_at: order.created_at,
            status_changed_at: order.status_changed_at,
        }
    }
}

/// One status change of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    /// The order's sequence after it.
    pub sequence: u32,
    /// New status.
    #[schema(value_type = OrderStatus)]
    pub status: String,
    /// Previous status (`null` at creation).
    #[schema(value_type = Option<OrderStatus>)]
    pub previous_status: Option<String>,
    /// Operator's detail.
    pub detail: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// When.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub changed_at: DateTime<Utc>,
}

impl From<HistoryRow> for HistoryView {
    fn from(row: HistoryRow) -> Self {
        Self {
            sequence: row.sequence,
            status: row.status,
            previous_status: row.previous_status,
            detail: row.detail,
            location: row.location,
            changed_at: row.changed_at,
        }
    }
}

/// A webhook endpoint as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    /// `ep_…`
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The customer's note.
    pub description: Option<String>,
    /// Subscribed types; `null` means every type.
    #[schema(value_type = Option<Vec<domain::event::EventType>>)]
    pub event_types: Option<Vec<&'static str>>,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// Why it was disabled: the receiver answered 410, every attempt failed for
    /// `ENDPOINT_AUTO_DISABLE_AFTER_SECONDS`, or its customer disabled it.
    pub disabled_reason: Option<DisabledReason>,
    /// Since when every attempt has failed (the first failure since the last success); `null`
    /// while healthy.
    #[serde(with = "domain::time::millis::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failing_since: Option<DateTime<Utc>>,
    /// The most deliveries a second it receives, enforced across every dispatcher (a burst of
    /// a tenth of it, at least 1, may go at once); `null`: unlimited.
    pub rate_limit_per_second: Option<u32>,
    /// Created at.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    /// The custom headers sent with every attempt, names in lowercase; each value masked
    /// (`****`, followed by its last four characters when it has 16 or more).
    pub headers: CustomHeaders,
    /// The signing secret: present only in the response that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// What the request that created or changed it was accepted despite: its URL's host does
    /// not resolve yet. Present only in that response, and only when there is something.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl EndpointView {
    /// The view of `endpoint`, with its custom headers as they are shown (masked).
    pub fn new(endpoint: Endpoint, headers: CustomHeaders) -> Self {
        Self {
            id: endpoint.id.to_string(),
            url: endpoint.url.as_str().to_owned(),
            description: endpoint.description,
            event_types: endpoint
                .event_types
                .map(|types| types.iter().map(|t| t.as_str()).collect()),
            enabled: endpoint.enabled,
            disabled_reason: endpoint.disabled_reason,
            failing_since: endpoint.failing_since,
            rate_limit_per_second: endpoint.rate_limit.map(|limit| limit.per_second()),
            created_at: endpoint.created_at,
            updated_at: endpoint.updated_at,
            headers,
            secret: None,
            warnings: Vec::new(),
        }
    }
}

/// A delivery in the log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// `dlv_…`
    pub id: String,
    /// The event; the `webhook-id` of every attempt.
    pub event_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The event's type.
    #[schema(value_type = domain::event::EventType)]
    pub event_type: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempt_count: u32,
    /// When the next attempt is due; `null` unless pending.
    #[serde(with = "domain::time::millis::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Status code of the last response.
    pub last_status_code: Option<u16>,
    /// When the last attempt started.
    #[serde(with = "domain::time::millis::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub failure_reason: Option<FailureReason>,
    /// Created at.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// The payload, byte for byte as sent (single delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Box<serde_json::value::RawValue>>,
    /// Every attempt (single delivery only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<AttemptView>>,
}

impl From<delivery::log::DeliveryRow> for DeliveryView {
    fn from(row: delivery::log::DeliveryRow) -> Self {
        let pending = row.status == DeliveryStatus::Pending;
        Self {
            id: row.id,
            event_id: row.event_id,
            endpoint_id: row.endpoint_id,
            event_type: row.event_type,
            status: row.status,
            attempt_count: row.attempt_count,
            next_attempt_at: pending.then_some(row.next_attempt_at),
            last_status_code: row.last_status_code,
            last_attempt_at: row.last_attempt_at,
            failure_reason: row.failure_reason,
            created_at: row.created_at,
            payload: None,
            attempts: None,
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// 1-based attempt number.
    pub attempt: u32,
    /// When it started.
    #[serde(with = "domain::time::millis")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: u32,
    /// Response status, if a response arrived.
    pub status_code: Option<u16>,
    /// Why it failed; `null` on success.
    pub error_class: Option<ErrorClass>,
    /// The failure, explained.
    pub error_message: Option<String>,
    /// Response headers, sensitive ones redacted.
    #[schema(value_type = Option<Object>)]
    pub response_headers: Option<serde_json::Value>,
    /// The first 20 KB of the response body (UTF-8, lossy).
    pub response_body: Option<String>,
}

impl From<delivery::log::AttemptRow> for AttemptView {
    fn from(row: delivery::log::AttemptRow) -> Self {
        Self {
            attempt: row.attempt,
            started_at: row.started_at,
            duration_ms: row.duration_ms,
            status_code: row.status_code,
            error_class: row.error_class,
            error_message: row.error_message,
            response_headers: row
                .response_headers
                .and_then(|h| serde_json::from_str(&h).ok()),
            response_body: row
                .response_excerpt
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        }
    }
}
