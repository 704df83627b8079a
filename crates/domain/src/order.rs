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

use std::collections::BTreeMap;
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
    pub(crate) order: Order,
    pub(crate) previous_status: Option<OrderStatus>,
    pub(crate) detail: Option<String>,
    pub(crate) location: Option<String>,
}

impl StatusChange {
    /// The order after the change.
    pub fn order(&self) -> &Order {
        &self.order
    }

    /// The order after the change, taken out of it.
    pub fn into_order(self) -> Order {
        self.order
    }

    /// The status before the change; `None` for the creation.
    pub fn previous_status(&self) -> Option<OrderStatus> {
        self.previous_status
    }

    /// Free-text detail given by the operator.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// Where the order was when it changed.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
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

/// A change to an order's shipping details with the semantics of a JSON merge patch (RFC 7396):
/// a field left out (`None`) stays as it is and `Some(None)` clears it; metadata merges key by
/// key, a `None` value removing its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShippingPatch {
    /// The carrier handling it.
    pub carrier: Option<Option<String>>,
    /// The carrier's tracking number.
    pub tracking_number: Option<Option<String>>,
    /// When it is expected at the destination.
    pub estimated_delivery_at: Option<Option<DateTime<Utc>>>,
    /// Metadata keys to set (`Some`) or remove (`None`).
    pub metadata: Option<BTreeMap<String, Option<String>>>,
}

impl ShippingPatch {
    /// Whether it changes the shipment itself (carrier, tracking, estimate), which only the
    /// operator does, rather than only the customer's metadata.
    pub fn touches_shipment(&self) -> bool {
        self.carrier.is_some()
            || self.tracking_number.is_some()
            || self.estimated_delivery_at.is_some()
    }
}

/// The values an update replaced, for the fields it changed (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreviousShipping {
    /// The carrier before.
    pub carrier: Option<Option<String>>,
    /// The tracking number before.
    pub tracking_number: Option<Option<String>>,
    /// The estimate before.
    pub estimated_delivery_at: Option<Option<DateTime<Utc>>>,
    /// The whole metadata before.
    pub metadata: Option<Metadata>,
}

/// An update of an order's shipping details that changed something: the `order.updated` event
/// comes from it. It takes the next sequence number, like a status change, so receivers order
/// both kinds of event by one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingUpdate {
    pub(crate) order: Order,
    pub(crate) previous: PreviousShipping,
    pub(crate) updated_at: DateTime<Utc>,
}

impl ShippingUpdate {
    /// The order after the update.
    pub fn order(&self) -> &Order {
        &self.order
    }

    /// The order after the update, taken out of it.
    pub fn into_order(self) -> Order {
        self.order
    }

    /// What the changed fields held before.
    pub fn previous(&self) -> &PreviousShipping {
        &self.previous
    }

    /// When it was made.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }
}

/// Replaces `current` by `next` when they differ, returning what it held.
fn replace_if_changed<T: PartialEq>(current: &mut T, next: Option<T>) -> Option<T> {
    match next {
        Some(next) if next != *current => Some(std::mem::replace(current, next)),
        _ => None,
    }
}

impl Order {
    /// Applies `patch` to the shipping details. `Ok(None)` when it changes nothing (no event is
    /// due); an error when the merged metadata is not valid (too many keys).
    pub fn update(
        &self,
        patch: ShippingPatch,
        now: DateTime<Utc>,
    ) -> Result<Option<ShippingUpdate>, FieldErrors> {
        let mut shipping = self.shipping.clone();
        let metadata = patch.metadata.map(|changes| {
            let mut merged = shipping.metadata.clone();
            for (key, value) in changes {
                match value {
                    Some(value) => merged.insert(key, value),
                    None => merged.remove(&key),
                };
            }
            merged
        });
        if let Some(merged) = &metadata {
            let mut errors = FieldErrors::new();
            validate_metadata("metadata", merged, &mut errors);
            if !errors.is_empty() {
                return Err(errors);
            }
        }
        let previous = PreviousShipping {
            carrier: replace_if_changed(&mut shipping.carrier, patch.carrier),
            tracking_number: replace_if_changed(
                &mut shipping.tracking_number,
                patch.tracking_number,
            ),
            estimated_delivery_at: replace_if_changed(
                &mut shipping.estimated_delivery_at,
                patch.estimated_delivery_at,
            ),
            metadata: replace_if_changed(&mut shipping.metadata, metadata),
        };
        if previous == PreviousShipping::default() {
            return Ok(None);
        }
        Ok(Some(ShippingUpdate {
            order: Order {
                sequence: self.sequence + 1,
                shipping,
                ..self.clone()
            },
            previous,
            updated_at: now,
        }))
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

    /// `(field, message)` of every recorded error, in order.
    fn recorded(errors: &FieldErrors) -> Vec<(&str, &str)> {
        errors
            .as_slice()
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect()
    }

    #[test]
    fn status_names_are_exact() {
        for status in OrderStatus::ALL {
            assert_eq!(status.to_string(), status.as_str());
            let json = format!("\"{}\"", status.as_str());
            assert_eq!(
                serde_json::from_str::<OrderStatus>(&json).ok(),
                Some(status),
                "{json}"
            );
        }
        let names: std::collections::HashSet<_> =
            OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), OrderStatus::ALL.len(), "names are distinct");
        for unknown in [
            "",
            "Pending",
            "PENDING",
            " pending",
            "pending ",
            "picked-up",
            "pickedup",
            "PickedUp",
            "canceled",
            "shipped",
        ] {
            assert_eq!(OrderStatus::parse(unknown), None, "{unknown:?}");
            let json = serde_json::to_string(unknown).expect("a JSON string");
            assert!(
                serde_json::from_str::<OrderStatus>(&json).is_err(),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn reference_validation() {
        let check = |reference: &str| {
            let mut errors = FieldErrors::new();
            validate_reference("reference", reference, &mut errors);
            errors
        };
        for ok in [
            "PO-1234",
            "x",
            "Ordre n° 7",
            &"r".repeat(64),
            &"é".repeat(64),
        ] {
            assert!(check(ok).is_empty(), "{ok:?}");
        }
        let cases: [(&str, &[&str]); 6] = [
            ("", &["must not be empty"]),
            (
                "   ",
                &["must not be empty", "must not start or end with whitespace"],
            ),
            (" PO-1", &["must not start or end with whitespace"]),
            (
                "PO-1\n",
                &[
                    "must not contain control characters",
                    "must not start or end with whitespace",
                ],
            ),
            ("PO\u{7}1", &["must not contain control characters"]),
            (&"r".repeat(65), &["must be at most 64 characters"]),
        ];
        for (reference, expected) in cases {
            let errors = check(reference);
            let messages: Vec<_> = recorded(&errors)
                .into_iter()
                .map(|(f, m)| {
                    assert_eq!(f, "reference");
                    m
                })
                .collect();
            assert_eq!(messages, expected, "{reference:?}");
        }
    }

    #[test]
    fn metadata_validation() {
        let check = |metadata: &Metadata| {
            let mut errors = FieldErrors::new();
            validate_metadata("metadata", metadata, &mut errors);
            errors
        };
        let metadata = |pairs: &[(&str, &str)]| -> Metadata {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        assert!(check(&Metadata::new()).is_empty());
        let long_key = "k".repeat(40);
        let wide_key = "ü".repeat(40);
        let long_value = "v".repeat(500);
        let wide_value = "€".repeat(500);
        assert!(
            check(&metadata(&[
                (&long_key, ""),
                (&wide_key, &long_value),
                ("note", &wide_value),
            ]))
            .is_empty()
        );

        let at_most: Metadata = (0..MAX_METADATA_KEYS)
            .map(|i| (format!("k{i:02}"), "v".to_owned()))
            .collect();
        assert!(check(&at_most).is_empty());
        let mut too_many = at_most;
        too_many.insert("one-more".into(), "v".into());
        assert_eq!(
            recorded(&check(&too_many)),
            [("metadata", "must have at most 20 keys")]
        );

        let key_error = "keys must be 1 to 40 characters without control characters";
        let too_long_key = "k".repeat(41);
        let too_long_key_path = format!("metadata.{too_long_key}");
        let too_long_value = "v".repeat(501);
        let cases: [(&str, &str, (&str, &str)); 4] = [
            ("", "v", ("metadata.", key_error)),
            (&too_long_key, "v", (&too_long_key_path, key_error)),
            ("tab\tkey", "v", ("metadata.tab\tkey", key_error)),
            (
                "note",
                &too_long_value,
                ("metadata.note", "must be at most 500 characters"),
            ),
        ];
        for (key, value, expected) in cases {
            assert_eq!(
                recorded(&check(&metadata(&[(key, value)]))),
                [expected],
                "{key:?}"
            );
        }
        // A bad key with a bad value reports both, under the same path.
        assert_eq!(
            recorded(&check(&metadata(&[("", &too_long_value)]))),
            [
                ("metadata.", key_error),
                ("metadata.", "must be at most 500 characters")
            ]
        );
    }

    #[test]
    fn address_optional_fields_and_limits() {
        let mut ok = address();
        ok.name = "n".repeat(200);
        ok.line1 = "l".repeat(200);
        ok.line2 = Some("l".repeat(200));
        ok.city = "c".repeat(100);
        ok.region = Some("r".repeat(100));
        ok.postal_code = "p".repeat(20);
        let mut errors = FieldErrors::new();
        ok.validate("destination", &mut errors);
        assert!(errors.is_empty(), "{errors:?}");

        let mut bad = address();
        bad.name = "n".repeat(201);
        bad.line1 = "Kade\u{0}1".into();
        // Present but blank optional fields are errors, not absent values.
        bad.line2 = Some(String::new());
        bad.region = Some(" ".into());
        bad.country = "XX".into();
        let mut errors = FieldErrors::new();
        bad.validate("", &mut errors);
        assert_eq!(
            recorded(&errors),
            [
                ("name", "must be at most 200 characters"),
                ("line1", "must not contain control characters"),
                ("line2", "must not be empty"),
                ("region", "must not be empty"),
                (
                    "country",
                    "must be an ISO 3166-1 alpha-2 country code such as \"NL\""
                ),
            ]
        );
    }

    #[test]
    fn every_listed_country_code_is_accepted() {
        let codes: Vec<&str> = COUNTRY_CODES.split(' ').collect();
        assert!(codes.len() >= 249, "{}", codes.len());
        for code in codes {
            assert!(is_country_code(code), "{code}");
            assert!(!is_country_code(&code.to_ascii_lowercase()), "{code}");
        }
    }

    #[test]
    fn parcel_limits_are_inclusive() {
        let max = Parcel {
            weight_grams: MAX_WEIGHT_GRAMS,
            length_mm: MAX_DIMENSION_MM,
            width_mm: MAX_DIMENSION_MM,
            height_mm: MAX_DIMENSION_MM,
        };
        let min = Parcel {
            weight_grams: 1,
            length_mm: 1,
            width_mm: 1,
            height_mm: 1,
        };
        for parcel in [max, min] {
            let mut errors = FieldErrors::new();
            parcel.validate("parcels[0]", &mut errors);
            assert!(errors.is_empty(), "{parcel:?}");
        }
        let mut errors = FieldErrors::new();
        Parcel {
            weight_grams: MAX_WEIGHT_GRAMS + 1,
            length_mm: 0,
            width_mm: 1,
            height_mm: MAX_DIMENSION_MM + 1,
        }
        .validate("parcels[1]", &mut errors);
        assert_eq!(
            recorded(&errors),
            [
                ("parcels[1].weight_grams", "must be between 1 and 1000000"),
                ("parcels[1].length_mm", "must be between 1 and 10000"),
                ("parcels[1].height_mm", "must be between 1 and 10000"),
            ]
        );
    }

    fn placed_with_metadata() -> Order {
        let mut order = order();
        order.shipping = Shipping {
            carrier: Some("DHL".into()),
            metadata: [("warehouse".to_owned(), "R7".to_owned())].into(),
            ..Shipping::default()
        };
        order.sequence = 3;
        order
    }

    #[test]
    fn an_update_merges_like_a_json_merge_patch_and_takes_the_next_sequence() {
        let order = placed_with_metadata();
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::hours(1);
        let update = order
            .update(
                ShippingPatch {
                    carrier: Some(None),
                    tracking_number: Some(Some("JJD0001".into())),
                    estimated_delivery_at: None,
                    metadata: Some(
                        [
                            ("warehouse".to_owned(), None),
                            ("dock".to_owned(), Some("4".to_owned())),
                        ]
                        .into(),
                    ),
                },
                now,
            )
            .expect("valid")
            .expect("a change");
        let updated = update.order();
        assert_eq!(updated.sequence, 4);
        assert_eq!(updated.status, order.status);
        assert_eq!(updated.status_changed_at, order.status_changed_at);
        assert_eq!(updated.shipping.carrier, None);
        assert_eq!(updated.shipping.tracking_number.as_deref(), Some("JJD0001"));
        assert_eq!(
            updated.shipping.metadata,
            Metadata::from([("dock".to_owned(), "4".to_owned())])
        );
        assert_eq!(
            update.previous(),
            &PreviousShipping {
                carrier: Some(Some("DHL".into())),
                tracking_number: Some(None),
                estimated_delivery_at: None,
                metadata: Some(order.shipping.metadata.clone()),
            }
        );
        assert_eq!(update.updated_at(), now);
    }

    #[test]
    fn an_update_that_changes_nothing_is_no_change() {
        let order = placed_with_metadata();
        let same = ShippingPatch {
            carrier: Some(Some("DHL".into())),
            tracking_number: Some(None),
            estimated_delivery_at: None,
            metadata: Some([("warehouse".to_owned(), Some("R7".to_owned()))].into()),
        };
        assert_eq!(order.update(same, order.created_at), Ok(None));
        assert_eq!(
            order.update(ShippingPatch::default(), order.created_at),
            Ok(None)
        );
    }

    #[test]
    fn an_update_may_not_leave_too_many_metadata_keys() {
        let order = placed_with_metadata();
        let keys = (0..MAX_METADATA_KEYS)
            .map(|n| (format!("k{n}"), Some("v".to_owned())))
            .collect();
        let errors = order
            .update(
                ShippingPatch {
                    metadata: Some(keys),
                    ..ShippingPatch::default()
                },
                order.created_at,
            )
            .expect_err("21 keys");
        assert!(!errors.is_empty());
    }
}
