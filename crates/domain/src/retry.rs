//! Retry schedule and delay policy for webhook deliveries.
//!
//! Pure functions: the caller supplies the clock and the randomness, so every rule is testable.
//!
//! - [`classify_status`] turns an attempt's HTTP status into an [`AttemptClass`]: 2xx
//!   delivered, 410 disables the endpoint, 429/502/503/504 (and timeouts, DNS failures and
//!   blocked targets, which the caller classifies) are throttling, anything else (including 1xx and 3xx: redirects are never
//!   followed) is a failure.
//! - [`RetrySchedule`] says how long to wait before the next attempt after `n` attempts, and
//!   when there is no next attempt (the delivery fails). The default is: immediately, 5 s,
//!   5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
//! - [`jittered`] spreads a scheduled delay by ±20 %; [`throttled_delay`] honours a receiver's
//!   `Retry-After` (parsed by [`parse_retry_after`]) within `[max(60 s, scheduled),
//!   max(60 s, 2 × scheduled)]`.
//!
//! Every delay this module returns is at most [`MAX_VISIBILITY_DELAY`], so a message's
//! visibility timeout stays under SQS's 12 h ceiling.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Longest delay ever returned, and the longest visibility timeout ever set: SQS's 43 200 s
/// ceiling less an hour. SQS counts that ceiling from when it handed the message out, so the
/// hour leaves room for a batching window and the batch itself.
pub const MAX_VISIBILITY_DELAY: Duration = Duration::from_secs(39_600);

/// Shortest delay after a throttled attempt (429/502/503/504 or a timeout).
const MIN_THROTTLED_DELAY: Duration = Duration::from_secs(60);

/// The default schedule, in seconds.
const DEFAULT_SCHEDULE_SECS: [u64; 8] = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// Delays before each attempt: entry `n` is the delay before attempt `n + 1`, given `n`
/// attempts made (entry 0, normally zero, delays the first attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

/// Why a retry schedule string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleParseError {
    /// The schedule has no entries.
    #[error("retry schedule is empty")]
    Empty,
    /// An entry is not a non-negative whole number of seconds.
    #[error("retry schedule entry {entry:?} is not a whole number of seconds")]
    InvalidEntry {
        /// The offending entry, trimmed.
        entry: String,
    },
    /// An entry exceeds [`MAX_VISIBILITY_DELAY`].
    #[error(
        "retry schedule entry {seconds} s exceeds the maximum of {} s",
        MAX_VISIBILITY_DELAY.as_secs()
    )]
    TooLong {
        /// The offending entry in seconds.
        seconds: u64,
    },
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            delays: DEFAULT_SCHEDULE_SECS
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        }
    }
}

impl RetrySchedule {
    /// Parses comma-separated whole seconds, e.g. `"0, 5, 300"`; whitespace is ignored.
    ///
    /// # Errors
    ///
    /// An empty schedule, an entry that is not a non-negative integer, or an entry above
    /// [`MAX_VISIBILITY_DELAY`].
    pub fn parse(s: &str) -> Result<Self, ScheduleParseError> {
        if s.trim().is_empty() {
            return Err(ScheduleParseError::Empty);
        }
        let delays = s
            .split(',')
            .map(|entry| {
                let entry = entry.trim();
                let seconds =
                    parse_whole_seconds(entry).ok_or_else(|| ScheduleParseError::InvalidEntry {
                        entry: entry.to_owned(),
                    })?;
                let delay = Duration::from_secs(seconds);
                if delay > MAX_VISIBILITY_DELAY {
                    return Err(ScheduleParseError::TooLong { seconds });
                }
                Ok(delay)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { delays })
    }

    /// The number of attempts a delivery gets before it fails.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX)
    }

    /// The delay before the next attempt once `attempts_made` attempts have been made, or
    /// `None` when none is left and the delivery fails.
    #[must_use]
    pub fn scheduled_delay(&self, attempts_made: u32) -> Option<Duration> {
        let index = usize::try_from(attempts_made).ok()?;
        self.delays
            .get(index)
            .map(|delay| (*delay).min(MAX_VISIBILITY_DELAY))
    }
}

impl FromStr for RetrySchedule {
    type Err = ScheduleParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Spreads `delay` by ±20 %: `delay × (0.8 + 0.4 × unit)`, capped at [`MAX_VISIBILITY_DELAY`].
///
/// `unit` is a uniform random number in `[0, 1)` supplied by the caller; values outside
/// `[0, 1]` are clamped and NaN counts as 0.5 (no jitter). Zero stays zero.
#[must_use]
pub fn jittered(delay: Duration, unit: f64) -> Duration {
    let unit = if unit.is_nan() {
        0.5
    } else {
        unit.clamp(0.0, 1.0)
    };
    let seconds = delay.as_secs_f64() * (0.8 + 0.4 * unit);
    // Only a delay near `Duration::MAX` can fail to convert, and that is over the cap anyway.
    Duration::try_from_secs_f64(seconds).map_or(MAX_VISIBILITY_DELAY, |jittered| {
        jittered.min(MAX_VISIBILITY_DELAY)
    })
}

/// The delay after a throttled attempt (429/502/503/504 or a timeout):
/// `clamp(retry_after or scheduled, max(60 s, scheduled), max(60 s, 2 × scheduled))`, capped at
/// [`MAX_VISIBILITY_DELAY`].
///
/// A receiver's `Retry-After` is honoured, but cannot make us retry sooner than the schedule
/// (or a minute) nor push the retry beyond twice the scheduled delay.
#[must_use]
pub fn throttled_delay(scheduled: Duration, retry_after: Option<Duration>) -> Duration {
    let floor = scheduled.max(MIN_THROTTLED_DELAY);
    let ceiling = scheduled.saturating_mul(2).max(MIN_THROTTLED_DELAY);
    retry_after
        .unwrap_or(scheduled)
        .clamp(floor, ceiling)
        .min(MAX_VISIBILITY_DELAY)
}

/// Parses a `Retry-After` header value: delta-seconds (a non-negative integer) or an HTTP-date
/// (IMF-fixdate such as `Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past gives zero; anything
/// unparseable gives `None`. The result is capped at [`MAX_VISIBILITY_DELAY`].
#[must_use]
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let delay = match parse_whole_seconds(value) {
        Some(seconds) => Duration::from_secs(seconds),
        None => {
            let at = DateTime::parse_from_rfc2822(value).ok()?;
            // `to_std` fails for a negative delta: the date has passed.
            (at.with_timezone(&Utc) - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(delay.min(MAX_VISIBILITY_DELAY))
}

/// Parses ASCII digits only (`u64::from_str` would also accept a leading `+`).
fn parse_whole_seconds(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// What one delivery attempt's outcome means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptClass {
    /// 2xx: delivered.
    Success,
    /// 410: the receiver is gone; disable the endpoint.
    Gone,
    /// 429, 502, 503, 504, a timeout, a DNS failure or a blocked target: retry after
    /// [`throttled_delay`].
    Throttled,
    /// Anything else, including 1xx and 3xx: retry on the schedule.
    Failed,
}

/// Classifies an HTTP response status. Timeouts, DNS failures and blocked targets have no
/// status: the caller classifies them as [`AttemptClass::Throttled`].
#[must_use]
pub fn classify_status(status: u16) -> AttemptClass {
    match status {
        200..=299 => AttemptClass::Success,
        410 => AttemptClass::Gone,
        429 | 502 | 503 | 504 => AttemptClass::Throttled,
        _ => AttemptClass::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn default_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.max_attempts(), 8);
        let delays: Vec<_> = (0..8)
            .map(|n| schedule.scheduled_delay(n).expect("within schedule"))
            .collect();
        let expected = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 36_000].map(secs);
        assert_eq!(delays, expected);
        assert_eq!(schedule.scheduled_delay(8), None);
        assert_eq!(schedule.scheduled_delay(u32::MAX), None);
    }

    #[test]
    fn parse_schedule() {
        let schedule: RetrySchedule = " 0, 1,2 ".parse().expect("valid");
        assert_eq!(schedule.max_attempts(), 3);
        assert_eq!(schedule.scheduled_delay(2), Some(secs(2)));
        assert_eq!(schedule.scheduled_delay(3), None);
        assert_eq!(
            RetrySchedule::parse("39600").map(|s| s.max_attempts()),
            Ok(1)
        );

        let invalid = |entry: &str| ScheduleParseError::InvalidEntry {
            entry: entry.to_owned(),
        };
        let cases = [
            ("", ScheduleParseError::Empty),
            ("   ", ScheduleParseError::Empty),
            ("a", invalid("a")),
            ("-1", invalid("-1")),
            ("+1", invalid("+1")),
            ("1.5", invalid("1.5")),
            ("1,,2", invalid("")),
            ("0,", invalid("")),
            ("50000", ScheduleParseError::TooLong { seconds: 50_000 }),
            ("39601", ScheduleParseError::TooLong { seconds: 39_601 }),
        ];
        for (input, expected) in cases {
            assert_eq!(RetrySchedule::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn jitter_bounds() {
        let d = secs(100);
        assert_eq!(jittered(d, 0.0), secs(80));
        assert_eq!(jittered(d, 0.5), secs(100));
        let high = jittered(d, 0.999);
        assert!(high > secs(119) && high < secs(120), "{high:?}");
        assert!(jittered(d, 1.0 - f64::EPSILON) <= secs(120));
        assert_eq!(jittered(Duration::ZERO, 0.7), Duration::ZERO);
        assert_eq!(jittered(secs(40_000), 0.99), MAX_VISIBILITY_DELAY);
        assert_eq!(jittered(Duration::MAX, 0.0), MAX_VISIBILITY_DELAY);
        assert_eq!(jittered(d, f64::NAN), d);
        assert_eq!(jittered(d, -3.0), secs(80));
    }

    proptest! {
        #[test]
        fn jitter_stays_within_20_percent(nanos in 0u64..50_000_000_000_000, unit in 0.0f64..1.0) {
            let d = Duration::from_nanos(nanos);
            let j = jittered(d, unit);
            prop_assert!(j >= d.mul_f64(0.8).min(MAX_VISIBILITY_DELAY));
            prop_assert!(j <= d.mul_f64(1.2).min(MAX_VISIBILITY_DELAY));
        }
    }

    #[test]
    fn throttled_delay_table() {
        let cases = [
            (5, None, 60),
            (5, Some(10), 60),
            (5, Some(3_600), 60),
            (300, None, 300),
            (300, Some(30), 300),
            (300, Some(500), 500),
            (300, Some(9_000), 600),
            (0, None, 60),
            (36_000, Some(90_000), 39_600),
            (36_000, None, 36_000),
        ];
        for (scheduled, retry_after, expected) in cases {
            assert_eq!(
                throttled_delay(secs(scheduled), retry_after.map(secs)),
                secs(expected),
                "scheduled {scheduled}, retry-after {retry_after:?}"
            );
        }
    }

    #[test]
    fn parse_retry_after_values() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:26:30Z")
            .expect("valid date")
            .with_timezone(&Utc);
        let cases = [
            ("120", Some(secs(120))),
            ("  7 ", Some(secs(7))),
            ("0", Some(Duration::ZERO)),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(secs(90))),
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(Duration::ZERO)),
            ("Thu, 22 Oct 2015 07:28:00 GMT", Some(MAX_VISIBILITY_DELAY)),
            ("soon", None),
            ("", None),
            ("-5", None),
            ("+5", None),
            ("1.5", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    #[test]
    fn classify_status_table() {
        use AttemptClass::*;
        let cases = [
            (100, Failed),
            (200, Success),
            (201, Success),
            (204, Success),
            (299, Success),
            (301, Failed),
            (302, Failed),
            (304, Failed),
            (400, Failed),
            (401, Failed),
            (404, Failed),
            (409, Failed),
            (410, Gone),
            (429, Throttled),
            (500, Failed),
            (501, Failed),
            (502, Throttled),
            (503, Throttled),
            (504, Throttled),
            (505, Failed),
        ];
        for (status, expected) in cases {
            assert_eq!(classify_status(status), expected, "{status}");
        }
    }
}
