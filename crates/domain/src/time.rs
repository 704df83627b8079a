//! Timestamps as the API and the webhooks show them: RFC 3339, UTC, millisecond precision.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// The current time, truncated to milliseconds so that what is stored, signed and shown agree.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// A duration in whole microseconds, as SQL intervals take it; saturates at `i64::MAX`.
pub fn micros(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Formats a time as `2026-11-22T10:00:00.000Z`.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Serde helpers for `DateTime<Utc>` fields in the `2026-11-22T10:00:00.000Z` form.
pub mod millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes with millisecond precision and a `Z` suffix.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    /// Deserializes any RFC 3339 timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    /// The same for optional fields (`null` when absent).
    pub mod option {
        use chrono::{DateTime, Utc};
        use serde::Serializer;

        /// Serializes `Some` like [`super::serialize`] and `None` as `null`.
        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn formats_with_millis_and_z() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("valid date");
        assert_eq!(format(&t), "2026-11-22T10:00:00.000Z");
    }

    #[test]
    fn now_has_no_sub_millisecond_part() {
        assert_eq!(now().timestamp_subsec_nanos() % 1_000_000, 0);
    }
}
