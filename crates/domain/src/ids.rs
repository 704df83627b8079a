//! Prefixed identifiers: `prefix_` + a 26-character lowercase ULID.
//!
//! Ids are opaque to clients and time-ordered, so sorting by id sorts by creation time and a
//! cursor can be the last id of a page. A malformed id never parses, which lets the API answer
//! 404 for it exactly as for a missing resource.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An id string did not have the expected `prefix_<ulid>` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {expected_prefix}_ id")]
pub struct IdParseError {
    /// The prefix the id should have carried.
    pub expected_prefix: &'static str,
}

const ULID_LEN: usize = 26;

/// Generates ULIDs that increase strictly within this process, even within one millisecond.
static GENERATOR: std::sync::Mutex<ulid::Generator> = std::sync::Mutex::new(ulid::Generator::new());

/// A fresh lowercase ULID: unique, time-ordered, unguessable enough for a claim or lease token
/// or a request id (not for a secret).
pub fn token() -> String {
    next_ulid()
}

fn next_ulid() -> String {
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Overflow needs 2^80 ids in one millisecond; a fresh random ULID is then still unique.
    let ulid = generator
        .generate()
        .unwrap_or_else(|_| ulid::Ulid::generate());
    ulid.to_string().to_ascii_lowercase()
}

fn well_formed(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|ulid| {
            ulid.len() == ULID_LEN
                // 26 base-32 digits hold 130 bits; a ULID has 128, so the first digit is 0-7.
                && ulid.as_bytes()[0] <= b'7'
                && ulid.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
                && ulid::Ulid::from_string(ulid).is_ok()
        })
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with (without the underscore).
            pub const PREFIX: &'static str = $prefix;

            /// A new id, ordered after every id generated earlier in the same process.
            pub fn new() -> Self {
                Self(format!("{}_{}", $prefix, next_ulid()))
            }

            /// Parses an id, accepting only the canonical lowercase form.
            pub fn parse(s: &str) -> Result<Self, IdParseError> {
                if well_formed($prefix, s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdParseError { expected_prefix: $prefix })
                }
            }

            /// The id as stored and shown.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The smallest id that could have been generated at `at`: ids are time-ordered,
            /// so `id >= floor(t)` selects what was created at or after `t`, on the id index.
            pub fn floor(at: chrono::DateTime<chrono::Utc>) -> Self {
                let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
                let ulid = ulid::Ulid::from_parts(millis, 0);
                Self(format!("{}_{}", $prefix, ulid.to_string().to_ascii_lowercase()))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(
    /// A customer (tenant) of the orders API.
    CustomerId,
    "cus"
);
define_id!(
    /// A shipping order.
    OrderId,
    "ord"
);
define_id!(
    /// A customer's webhook endpoint.
    EndpointId,
    "ep"
);
define_id!(
    /// A webhook event; also the `webhook-id` header, identical on every retry.
    EventId,
    "evt"
);
define_id!(
    /// One (event, endpoint) delivery obligation.
    DeliveryId,
    "dlv"
);
define_id!(
    /// An API key (the id, never the key itself).
    ApiKeyId,
    "key"
);
define_id!(
    /// A signing secret of a webhook endpoint (the row, never the secret).
    SecretId,
    "whs"
);
define_id!(
    /// A portal session: a short-lived link into the customer portal (the id, never the token).
    PortalSessionId,
    "ps"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_have_prefix_and_lowercase_ulid() {
        let id = OrderId::new();
        let s = id.as_str();
        assert!(s.starts_with("ord_"), "{s}");
        assert_eq!(s.len(), 4 + 26);
        assert!(
            s[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_eq!(OrderId::parse(s), Ok(id.clone()));
    }

    #[test]
    fn ids_are_time_ordered() {
        let ids: Vec<EventId> = (0..1000).map(|_| EventId::new()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        let good = CustomerId::new().to_string();
        for bad in [
            "",
            "cus_",
            "ord_01j9z3x8y7w6v5t4s3r2q1p0nm",
            &good.to_uppercase(),
            &format!("{good}0"),
            &good[..good.len() - 1],
            "cus_01j9z3x8y7w6v5t4s3r2q1p0n!",
            "cus_81j9z3x8y7w6v5t4s3r2q1p0nm",
            "1",
        ] {
            assert!(CustomerId::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn floor_orders_by_time() {
        let before = crate::time::now();
        let id = OrderId::new();
        let floor = OrderId::floor(before);
        assert!(OrderId::parse(floor.as_str()).is_ok());
        assert!(floor <= id);
        assert!(id < OrderId::floor(before + chrono::Duration::seconds(1)));
    }

    #[test]
    fn serde_round_trip_validates() {
        let id = DeliveryId::new();
        let json = serde_json::to_string(&id).expect("serialize");
        let back: DeliveryId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<DeliveryId>("\"evt_01j9z3x8y7w6v5t4s3r2q1p0nm\"").is_err());
    }
}
