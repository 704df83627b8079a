//! The order model and its lifecycle.
//!
//! ```text
//! pending -> confirmed -> picked_up -> in_transit -> out_for_delivery -> delivered
//! pending|confirmed -> cancelled
//! picked_up|in_transit|out_for_delivery -> exception
//! exception -> in_transit | out_for_delivery | returned
//! ```
//!
//! [`Order::transition`] is the only way to obtain a [`StatusChange`], and the repository
//! function that writes a change takes one, so a status cannot change without its event.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, OrderId};
use crate::validation::{self, FieldErrors};

/// Where an order is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed by the customer, not yet accepted.
    Pending,
    /// Accepted by the company.
    Confirmed,
    /// Collected from the origin.
    PickedUp,
    /// On its way.
    InTransit,
    /// With the courier for the last mile.
    OutForDelivery,
    /// Handed over at the destination (terminal).
    Delivered,
    /// Cancelled before pick-up (terminal).
    Cancelled,
    /// Something went wrong in transit; resolved by resuming or returning.
    Exception,
    /// Sent back to the origin (terminal).
    Returned,
}

impl OrderStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 9] = [
        Self::Pending,
        Self::Confirmed,
        Self::PickedUp,
        Self::InTransit,
        Self::OutForDelivery,
        Self::Delivered,
        Self::Cancelled,
        Self::Exception,
        Self::Returned,
    ];

    /// The wire and database name (`picked_up`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::PickedUp => "picked_up",
            Self::InTransit => "in_transit",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Exception => "exception",
            Self::Returned => "returned",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// Whether no further change is possible.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled | Self::Returned)
    }

    /// Whether the lifecycle allows moving from `self` to `to`.
    pub fn can_transition_to(self, to: Self) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Pending, Confirmed)
                | (Confirmed, PickedUp)
                | (PickedUp, InTransit)
                | (InTransit, OutForDelivery)
                | (OutForDelivery, Delivered)
                | (Pending | Confirmed, Cancelled)
                | (PickedUp | InTransit | OutForDelivery, Exception)
                | (Exception, InTransit | OutForDelivery | Returned)
        )
    }

    /// Whether a customer may cancel an order in this status.
    pub fn is_cancellable(self) -> bool {
        self.can_transition_to(Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A postal address: `{name, line1, line2?, city, region?, postal_code, country}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    /// Recipient or sender name.
    pub name: String,
    /// First address line.
    pub line1: String,
    /// Second address line.
    pub line2: Option<String>,
    /// City or town.
    pub city: String,
    /// State, province or region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub country: String,
}

impl Address {
    /// Records every problem with this address under `path` (`origin`, `destination`).
    pub fn validate(&self, path: &str, errors: &mut FieldErrors) {
        let field = |name| validation::join(path, name);
        validation::text(errors, &field("name"), &self.name, 200);
        validation::text(errors, &field("line1"), &self.line1, 200);
        validation::optional_text(errors, &field("line2"), self.line2.as_deref(), 200);
        validation::text(errors, &field("city"), &self.city, 100);
        validation::optional_text(errors, &field("region"), self.region.as_deref(), 100);
        validation::text(errors, &field("postal_code"), &self.postal_code, 20);
        if !is_country_code(&self.country) {
            errors.add(
                field("country"),
                "must be an ISO 3166-1 alpha-2 country code such as \"NL\"",
            );
        }
    }
}

/// Assigned ISO 3166-1 alpha-2 codes, space-separated.
pub const COUNTRY_CODES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// Whether `code` is an assigned ISO 3166-1 alpha-2 code (uppercase).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && COUNTRY_CODES.split(' ').any(|c| c == code)
}

/// One parcel of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Parcel {
    /// Weight in grams.
    pub weight_grams: u32,
    /// Length in millimetres.
    pub length_mm: u32,
    /// Width in millimetres.
    pub width_mm: u32,
    /// Height in millimetres.
    pub height_mm: u32,
}

/// The most parcels one order may carry.
pub const MAX_PARCELS: usize = 50;
/// The heaviest parcel, in grams.
pub const MAX_WEIGHT_GRAMS: u32 = 1_000_000;
/// The longest side of a parcel, in millimetres.
pub const MAX_DIMENSION_MM: u32 = 10_000;

impl Parcel {
    /// Records every problem with this parcel under `path` (`parcels[0]`).
    pub fn validate(&self, path: &str, errors: &mut FieldErrors) {
        let checks = [
            ("weight_grams", self.weight_grams, MAX_WEIGHT_GRAMS),
            ("length_mm", self.length_mm, MAX_DIMENSION_MM),
            ("width_mm", self.width_mm, MAX_DIMENSION_MM),
            ("height_mm", self.height_mm, MAX_DIMENSION_MM),
        ];
        for (name, value, max) in checks {
            if value == 0 || value > max {
                errors.add(
                    validation::join(path, name),
                    format!("must be between 1 and {max}"),
                );
            }
        }
    }
}

/// Validates an order's customer reference (`PO-1234`): 1–64 printable characters.
pub fn validate_reference(field: &str, reference: &str, errors: &mut FieldErrors) {
    validation::text(errors, field, reference, 64);
    if reference.trim() != reference {
        errors.add(field, "must not start or end with whitespace");
    }
}

/// The customer's own key/value pairs on an order.
pub type Metadata = std::collections::BTreeMap<String, String>;

/// The most metadata keys an order may carry.
pub const MAX_METADATA_KEYS: usize = 20;

/// Validates order metadata: at most 20 keys of 1–40 characters, values of at most 500.
pub fn validate_metadata(field: &str, metadata: &Metadata, errors: &mut FieldErrors) {
    if metadata.len() > MAX_METADATA_KEYS {
        errors.add(field, format!("must have at most {MAX_METADATA_KEYS} keys"));
    }
    for (key, value) in metadata {
        let path = validation::join(field, key);
        if key.is_empty() || key.chars().count() > 40 || key.chars().any(char::is_control) {
            errors.add(
                &path,
                "keys must be 1 to 40 characters without control characters",
            );
        }
        if value.chars().count() > 500 {
            errors.add(&path, "must be at most 500 characters");
        }
    }
}

/// Shipping details an order may carry besides its addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shipping {
    /// The carrier handling it.
    pub carrier: Option<String>,
    /// The carrier's tracking number.
    pub tracking_number: Option<String>,
    /// When it is expected at the destination.
    pub estimated_delivery_at: Option<DateTime<Utc>>,
    /// The customer's own key/value pairs.
    pub metadata: Metadata,
}

/// A validated request to place an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// The customer's own reference, unique per customer.
    pub reference: String,
    /// Pick-up address.
    pub origin: Address,
    /// Delivery address.
    pub destination: Address,
    /// Parcels, possibly none.
    pub parcels: Vec<Parcel>,
    /// Carrier, tracking and metadata.
    pub shipping: Shipping,
}

/// A shipping order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Its id.
    pub id: OrderId,
    /// The customer who placed it.
    pub customer_id: CustomerId,
    /// The customer's reference.
    pub reference: String,
    /// Current status.
    pub status: OrderStatus,
    /// 1 at creation, incremented by every status change.
    pub sequence: u32,
    /// Pick-up address.
    pub origin: Address,
    /// Delivery address.
    pub destination: Address,
    /// Parcels.
    pub parcels: Vec<Parcel>,
    /// Carrier, tracking and metadata.
    pub shipping: Shipping,
    /// When it was placed.
    pub created_at: DateTime<Utc>,
    /// When its status last changed (its creation for a new order).
    pub status_changed_at: DateTime<Utc>,
}

/// A status change that the lifecycle allowed: the history row and the event come from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// The order after the change.
    pub order: Order,
    /// The status before the change; `None` for the creation.
    pub previous_status: Option<OrderStatus>,
    /// Free-text detail given by the operator.
    pub detail: Option<String>,
    /// Where the order was when it changed.
    pub location: Option<String>,
}

/// The lifecycle does not allow this change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an order cannot move from {from} to {to}")]
pub struct InvalidTransition {
    /// Current status.
    pub from: OrderStatus,
    /// Requested status.
    pub to: OrderStatus,
}

impl Order {
    /// Places a new order: status `pending`, sequence 1, and its `order.created` change.
    pub fn place(customer_id: CustomerId, new: NewOrder, now: DateTime<Utc>) -> StatusChange {
        StatusChange {
            order: Order {
                id: OrderId::new(),
                customer_id,
                reference: new.reference,
                status: OrderStatus::Pending,
                sequence: 1,
                origin: new.origin,
                destination: new.destination,
                parcels: new.parcels,
                shipping: new.shipping,
                created_at: now,
                status_changed_at: now,
            },
            previous_status: None,
            detail: None,
            location: None,
        }
    }

    /// Moves the order to `to` if the lifecycle allows it.
    pub fn transition(
        &self,
        to: OrderStatus,
        detail: Option<String>,
        location: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<StatusChange, InvalidTransition> {
        if !self.status.can_transition_to(to) {
            return Err(InvalidTransition {
                from: self.status,
                to,
            });
        }
        let order = Order {
            status: to,
            sequence: self.sequence + 1,
            status_changed_at: now,
            ..self.clone()
        };
        Ok(StatusChange {
            order,
            previous_status: Some(self.status),
            detail,
            location,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use OrderStatus::*;

    /// The lifecycle (README, "Order lifecycle"), written out as data independently of the
    /// `matches!`.
    const ALLOWED: &[(OrderStatus, OrderStatus)] = &[
        (Pending, Confirmed),
        (Confirmed, PickedUp),
        (PickedUp, InTransit),
        (InTransit, OutForDelivery),
        (OutForDelivery, Delivered),
        (Pending, Cancelled),
        (Confirmed, Cancelled),
        (PickedUp, Exception),
        (InTransit, Exception),
        (OutForDelivery, Exception),
        (Exception, InTransit),
        (Exception, OutForDelivery),
        (Exception, Returned),
    ];

    fn any_status() -> impl Strategy<Value = OrderStatus> {
        prop::sample::select(OrderStatus::ALL.to_vec())
    }

    pub(crate) fn address() -> Address {
        Address {
            name: "Warehouse 7".into(),
            line1: "Kade 1".into(),
            line2: None,
            city: "Rotterdam".into(),
            region: None,
            postal_code: "3011 AA".into(),
            country: "NL".into(),
        }
    }

    fn order() -> Order {
        Order::place(
            CustomerId::new(),
            NewOrder {
                reference: "PO-1".into(),
                origin: address(),
                destination: address(),
                parcels: vec![],
                shipping: Shipping::default(),
            },
            crate::time::now(),
        )
        .order
    }

    proptest! {
        #[test]
        fn transition_table_matches_the_lifecycle(from in any_status(), to in any_status()) {
            prop_assert_eq!(from.can_transition_to(to), ALLOWED.contains(&(from, to)));
        }

        #[test]
        fn transition_increments_sequence_or_changes_nothing(to in any_status(), path in prop::collection::vec(any_status(), 0..6)) {
            let mut current = order();
            for step in path {
                if let Ok(change) = current.transition(step, None, None, crate::time::now()) {
                    current = change.order;
                }
            }
            let before = current.clone();
            match current.transition(to, None, None, crate::time::now()) {
                Ok(change) => {
                    prop_assert_eq!(change.order.sequence, before.sequence + 1);
                    prop_assert_eq!(change.order.status, to);
                    prop_assert_eq!(change.previous_status, Some(before.status));
                }
                Err(e) => prop_assert_eq!(e, InvalidTransition { from: before.status, to }),
            }
        }
    }

    #[test]
    fn terminal_statuses_allow_nothing() {
        for from in OrderStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in OrderStatus::ALL {
                assert!(!from.can_transition_to(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).expect("serialize");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(OrderStatus::parse("shipped"), None);
    }

    #[test]
    fn new_orders_are_pending_with_sequence_one() {
        let o = order();
        assert_eq!((o.status, o.sequence), (Pending, 1));
    }

    #[test]
    fn address_validation_names_fields() {
        let mut bad = address();
        bad.city = " ".into();
        bad.country = "nl".into();
        bad.postal_code = "x".repeat(21);
        let mut errors = FieldErrors::new();
        bad.validate("origin", &mut errors);
        let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["origin.city", "origin.postal_code", "origin.country"]
        );
        let mut errors = FieldErrors::new();
        address().validate("origin", &mut errors);
        assert!(errors.is_empty());
    }

    #[test]
    fn country_codes() {
        for ok in ["NL", "US", "DE", "GB"] {
            assert!(is_country_code(ok));
        }
        for bad in ["", "N", "nl", "XX", "UK", "NLD", "N1"] {
            assert!(!is_country_code(bad), "{bad}");
        }
    }

    #[test]
    fn parcel_bounds() {
        let mut errors = FieldErrors::new();
        Parcel {
            weight_grams: 0,
            length_mm: 1,
            width_mm: 10_001,
            height_mm: 5,
        }
        .validate("parcels[3]", &mut errors);
        let fields: Vec<_> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["parcels[3].weight_grams", "parcels[3].width_mm"]);
    }
}
