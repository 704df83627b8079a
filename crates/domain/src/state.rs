//! Persisted state: every value a delivery, an attempt, an endpoint or an API key stores as a
//! state, with its one spelling. The database and the JSON of the API use the same name (`as_str`, and serde in
//! `snake_case`); no other module spells these names.
//!
//! Order statuses live with their lifecycle in [`crate::order`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A stored name that is not one of a state's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a known {state}")]
pub struct UnknownState {
    /// Which state was being read.
    pub state: &'static str,
    /// The name found.
    pub value: String,
}

/// The values of a state as a sentence names them: `pending, delivered or failed`.
pub fn choices<T: fmt::Display>(all: &[T]) -> String {
    let names: Vec<String> = all.iter().map(ToString::to_string).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Declares a state enum with its stored names.
macro_rules! persisted_state {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $stored:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $stored, )+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| UnknownState { state: $what, value: s.to_owned() })
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownState;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

persisted_state! {
    /// Where a delivery is: `pending` until it is delivered or fails for good.
    DeliveryStatus, "delivery status" {
        /// Waiting for its next attempt.
        Pending => "pending",
        /// A receiver answered 2xx.
        Delivered => "delivered",
        /// No further attempt will be made unless the customer retries or recovers it.
        Failed => "failed",
    }
}

persisted_state! {
    /// Why a delivery failed.
    FailureReason, "failure reason" {
        /// Every scheduled attempt failed.
        AttemptsExhausted => "attempts_exhausted",
        /// The endpoint answered 410 Gone.
        EndpointGone => "endpoint_gone",
        /// The endpoint was disabled (410, auto-disable, by its customer) or deleted.
        EndpointDisabled => "endpoint_disabled",
    }
}

persisted_state! {
    /// Why an endpoint stopped receiving deliveries.
    DisabledReason, "disabled reason" {
        /// The receiver answered 410 Gone.
        Gone => "gone",
        /// Every attempt failed for the auto-disable period.
        AutoDisabled => "auto_disabled",
        /// Its customer disabled it.
        DisabledByCustomer => "disabled_by_customer",
        /// Its customer deleted it.
        Deleted => "deleted",
    }
}

persisted_state! {
    /// The class of a failed attempt, as the delivery log shows it.
    ErrorClass, "error class" {
        /// No complete response within the time limit.
        Timeout => "timeout",
        /// The connection could not be made or broke.
        Connection => "connection",
        /// The host name did not resolve.
        Dns => "dns",
        /// A response with a non-2xx status.
        Http => "http",
        /// The target resolves to an address that may not be contacted.
        BlockedTarget => "blocked_target",
    }
}

persisted_state! {
    /// What an API key may do: an operator's key reaches every customer, a customer's key only
    /// its own customer.
    KeyRole, "key role" {
        /// Staff.
        Operator => "operator",
        /// One customer.
        Customer => "customer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy + PartialEq + fmt::Debug + fmt::Display + FromStr + Serialize,
        <T as FromStr>::Err: fmt::Debug,
    {
        for value in all {
            let name = value.to_string();
            assert_eq!(name.parse::<T>().ok(), Some(*value), "{name}");
            assert_eq!(
                serde_json::to_value(value).ok(),
                Some(serde_json::Value::String(name.clone())),
                "the JSON name of {value:?} is its stored name"
            );
        }
    }

    #[test]
    fn stored_names_round_trip_and_match_json() {
        round_trips(DeliveryStatus::ALL);
        round_trips(FailureReason::ALL);
        round_trips(DisabledReason::ALL);
        round_trips(ErrorClass::ALL);
        round_trips(KeyRole::ALL);
    }

    #[test]
    fn stored_names_are_the_schemas() {
        assert_eq!(DeliveryStatus::Pending.as_str(), "pending");
        assert_eq!(
            FailureReason::EndpointDisabled.as_str(),
            "endpoint_disabled"
        );
        assert_eq!(
            DisabledReason::DisabledByCustomer.as_str(),
            "disabled_by_customer"
        );
        assert_eq!(ErrorClass::BlockedTarget.as_str(), "blocked_target");
    }

    #[test]
    fn choices_read_as_a_sentence() {
        assert_eq!(choices(DeliveryStatus::ALL), "pending, delivered or failed");
        assert_eq!(choices(&[DeliveryStatus::Failed]), "failed");
        assert_eq!(choices::<DeliveryStatus>(&[]), "");
    }

    #[test]
    fn an_unknown_name_is_an_error_naming_the_state() {
        let error = "sent".parse::<DeliveryStatus>().expect_err("unknown");
        assert_eq!(error.to_string(), "\"sent\" is not a known delivery status");
    }
}
