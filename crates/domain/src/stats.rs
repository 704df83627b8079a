//! Endpoint statistics: attempts counted by outcome, and answered ones by response time, per
//! time bucket.
//!
//! The recorder adds each batch of attempts to a minute bucket and a day bucket of its endpoint
//! ([`Tally`]), so that statistics are read from a few rows, never by scanning the attempts.
//! Hours are summed from minutes; latency percentiles are estimated from the histogram by
//! linear interpolation within the bucket that holds them, as Prometheus does: exact to the
//! bucket's bounds, which are [`LATENCY_BOUNDS_MS`].

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::state::ErrorClass;

/// Upper bounds of the latency histogram's buckets, in milliseconds; a last bucket holds what
/// took longer.
pub const LATENCY_BOUNDS_MS: [u32; 9] = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/// How many latency buckets a tally has.
pub const LATENCY_BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// The two granularities that are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Span {
    /// Minute buckets, kept as long as deliveries.
    Minute,
    /// Day buckets, kept for [`DAY_BUCKETS_KEPT_DAYS`] days.
    Day,
}

/// How long day buckets are kept.
pub const DAY_BUCKETS_KEPT_DAYS: u32 = 400;

impl Span {
    /// Both, in storage order.
    pub const ALL: [Self; 2] = [Self::Minute, Self::Day];

    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Day => "day",
        }
    }

    /// The start of the bucket holding `at`.
    pub fn bucket_start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        let width = match self {
            Self::Minute => TimeDelta::minutes(1),
            Self::Day => TimeDelta::days(1),
        };
        at.duration_trunc(width).unwrap_or(at)
    }
}

/// The bucket sizes statistics are read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One minute.
    Minute,
    /// One hour (summed from minutes).
    Hour,
    /// One day.
    Day,
}

impl Bucket {
    /// Its width.
    pub fn width(self) -> TimeDelta {
        match self {
            Self::Minute => TimeDelta::minutes(1),
            Self::Hour => TimeDelta::hours(1),
            Self::Day => TimeDelta::days(1),
        }
    }

    /// The stored span it is summed from.
    pub fn source(self) -> Span {
        match self {
            Self::Minute | Self::Hour => Span::Minute,
            Self::Day => Span::Day,
        }
    }

    /// The start of the bucket holding `at`.
    pub fn start(self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.duration_trunc(self.width()).unwrap_or(at)
    }
}

/// Attempts of one endpoint in one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// Answered 2xx.
    pub succeeded: u32,
    /// Answered with another status.
    pub http_errors: u32,
    /// No complete answer in time.
    pub timeouts: u32,
    /// The connection failed.
    pub connection_errors: u32,
    /// The host name did not resolve.
    pub dns_errors: u32,
    /// The address was refused by the SSRF guard.
    pub blocked: u32,
    /// Answered attempts by response time ([`LATENCY_BOUNDS_MS`]).
    pub latency: [u32; LATENCY_BUCKETS],
}

impl Tally {
    /// Counts one attempt: its error class (`None` for a 2xx) and, if it was answered, how long
    /// the answer took.
    pub fn add(&mut self, error: Option<ErrorClass>, answered_in: Option<Duration>) {
        let count = match error {
            None => &mut self.succeeded,
            Some(ErrorClass::Http) => &mut self.http_errors,
            Some(ErrorClass::Timeout) => &mut self.timeouts,
            Some(ErrorClass::Connection) => &mut self.connection_errors,
            Some(ErrorClass::Dns) => &mut self.dns_errors,
            Some(ErrorClass::BlockedTarget) => &mut self.blocked,
        };
        *count = count.saturating_add(1);
        if let Some(took) = answered_in {
            let ms = took.as_millis();
            let bucket = LATENCY_BOUNDS_MS
                .iter()
                .position(|bound| ms <= u128::from(*bound))
                .unwrap_or(LATENCY_BOUNDS_MS.len());
            self.latency[bucket] = self.latency[bucket].saturating_add(1);
        }
    }

    /// Adds `other` to this one.
    pub fn merge(&mut self, other: &Self) {
        self.succeeded = self.succeeded.saturating_add(other.succeeded);
        self.http_errors = self.http_errors.saturating_add(other.http_errors);
        self.timeouts = self.timeouts.saturating_add(other.timeouts);
        self.connection_errors = self
            .connection_errors
            .saturating_add(other.connection_errors);
        self.dns_errors = self.dns_errors.saturating_add(other.dns_errors);
        self.blocked = self.blocked.saturating_add(other.blocked);
        for (mine, theirs) in self.latency.iter_mut().zip(other.latency) {
            *mine = mine.saturating_add(theirs);
        }
    }

    /// Every attempt counted.
    pub fn total(&self) -> u64 {
        [
            self.succeeded,
            self.http_errors,
            self.timeouts,
            self.connection_errors,
            self.dns_errors,
            self.blocked,
        ]
        .into_iter()
        .map(u64::from)
        .sum()
    }

    /// The share of attempts that succeeded, in `[0, 1]`; `None` without attempts.
    pub fn success_rate(&self) -> Option<f64> {
        let total = self.total();
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        (total > 0).then(|| f64::from(self.succeeded) / total as f64)
    }

    /// The `q`-quantile (`0 < q ≤ 1`) of the answered attempts' response times, in
    /// milliseconds, interpolated within its histogram bucket; `None` without answers. One in
    /// the last bucket (over 10 s) is reported as its lower bound.
    pub fn latency_quantile(&self, q: f64) -> Option<f64> {
        let answered: u64 = self.latency.iter().copied().map(u64::from).sum();
        if answered == 0 {
            return None;
        }
        #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let rank = q.clamp(0.0, 1.0) * answered as f64;
        let mut below = 0_u64;
        for (bucket, count) in self.latency.iter().copied().map(u64::from).enumerate() {
            #[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
            let (seen, within) = (below as f64, count as f64);
            if count > 0 && seen + within >= rank {
                let lower = bucket
                    .checked_sub(1)
                    .map_or(0.0, |b| f64::from(LATENCY_BOUNDS_MS[b]));
                let Some(upper) = LATENCY_BOUNDS_MS.get(bucket) else {
                    return Some(lower);
                };
                let fraction = ((rank - seen) / within).clamp(0.0, 1.0);
                return Some(lower + (f64::from(*upper) - lower) * fraction);
            }
            below += count;
        }
        LATENCY_BOUNDS_MS.last().map(|last| f64::from(*last))
    }
}

/// The most buckets one read returns: a day of minutes, with room for a range that does not
/// start or end on a minute.
pub const MAX_BUCKETS: i64 = 1_500;

/// The series of `bucket`-sized buckets from the one holding `since` up to `until` (exclusive),
/// each the sum of the `stored` buckets (of [`Bucket::source`], oldest first) that start in it;
/// a bucket without attempts is an empty tally.
pub fn series(
    bucket: Bucket,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    stored: &[(DateTime<Utc>, Tally)],
) -> Vec<(DateTime<Utc>, Tally)> {
    let mut series = Vec::new();
    let mut start = bucket.start(since);
    let mut stored = stored.iter().peekable();
    while start < until {
        let end = start + bucket.width();
        let mut tally = Tally::default();
        while let Some((at, _)) = stored.peek()
            && *at < end
        {
            if let Some((at, found)) = stored.next()
                && *at >= start
            {
                tally.merge(found);
            }
        }
        series.push((start, tally));
        start = end;
    }
    series
}

/// How many buckets [`series`] would return.
pub fn bucket_count(bucket: Bucket, since: DateTime<Utc>, until: DateTime<Utc>) -> i64 {
    let span = (until - bucket.start(since))
        .num_microseconds()
        .unwrap_or(i64::MAX);
    let width = bucket.width().num_microseconds().unwrap_or(i64::MAX);
    // Both are positive: a bucket is at least a minute wide.
    let span = u64::try_from(span).unwrap_or(0);
    let width = u64::try_from(width).unwrap_or(u64::MAX).max(1);
    i64::try_from(span.div_ceil(width)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Option<Duration> {
        Some(Duration::from_millis(n))
    }

    #[test]
    fn attempts_are_counted_by_outcome_and_answers_by_time() {
        let mut tally = Tally::default();
        tally.add(None, ms(3));
        tally.add(None, ms(25));
        tally.add(Some(ErrorClass::Http), ms(26));
        tally.add(Some(ErrorClass::Timeout), None);
        tally.add(Some(ErrorClass::Connection), None);
        tally.add(Some(ErrorClass::Dns), None);
        tally.add(Some(ErrorClass::BlockedTarget), None);
        tally.add(None, ms(60_000));
        assert_eq!(tally.total(), 8);
        assert_eq!(tally.succeeded, 3);
        assert_eq!(
            (
                tally.http_errors,
                tally.timeouts,
                tally.connection_errors,
                tally.dns_errors,
                tally.blocked
            ),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(tally.latency, [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(tally.success_rate(), Some(3.0 / 8.0));

        let mut sum = Tally::default();
        sum.merge(&tally);
        sum.merge(&tally);
        assert_eq!(sum.total(), 16);
        assert_eq!(sum.latency[0], 4);
    }

    #[test]
    fn quantiles_interpolate_within_their_bucket() {
        let mut tally = Tally::default();
        assert_eq!(tally.latency_quantile(0.5), None);
        assert_eq!(tally.success_rate(), None);
        // 10 answers in (25, 50], 10 in (100, 250].
        for _ in 0..10 {
            tally.add(None, ms(40));
            tally.add(None, ms(200));
        }
        assert_eq!(tally.latency_quantile(0.5), Some(50.0));
        assert_eq!(tally.latency_quantile(0.25), Some(37.5));
        assert_eq!(tally.latency_quantile(0.95), Some(100.0 + 150.0 * 0.9));
        assert_eq!(tally.latency_quantile(1.0), Some(250.0));
        // Over the last bound: its lower bound.
        let mut slow = Tally::default();
        slow.add(None, ms(20_000));
        assert_eq!(slow.latency_quantile(0.5), Some(10_000.0));
    }

    #[test]
    fn a_series_sums_minutes_into_hours_and_fills_the_gaps() {
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        let one = |error| {
            let mut tally = Tally::default();
            tally.add(error, ms(10));
            tally
        };
        let stored = [
            (at("2026-11-22T09:59:00Z"), one(None)),
            (at("2026-11-22T10:00:00Z"), one(None)),
            (at("2026-11-22T10:59:00Z"), one(Some(ErrorClass::Http))),
            (at("2026-11-22T12:30:00Z"), one(None)),
        ];
        let series = series(
            Bucket::Hour,
            at("2026-11-22T10:15:00Z"),
            at("2026-11-22T13:00:00Z"),
            &stored,
        );
        let totals: Vec<(DateTime<Utc>, u64, u32)> = series
            .iter()
            .map(|(start, tally)| (*start, tally.total(), tally.succeeded))
            .collect();
        assert_eq!(
            totals,
            [
                (at("2026-11-22T10:00:00Z"), 2, 1),
                (at("2026-11-22T11:00:00Z"), 0, 0),
                (at("2026-11-22T12:00:00Z"), 1, 1),
            ]
        );
        assert_eq!(
            bucket_count(
                Bucket::Hour,
                at("2026-11-22T10:15:00Z"),
                at("2026-11-22T13:00:00Z")
            ),
            3
        );
        assert_eq!(
            bucket_count(
                Bucket::Minute,
                at("2026-11-22T10:00:00Z"),
                at("2026-11-23T10:00:00Z")
            ),
            1_440
        );
        // A day of minutes up to a time within a minute: the partial one counts, exactly as
        // many as the series has.
        let (since, until) = (at("2026-11-22T10:00:30Z"), at("2026-11-23T10:00:00.5Z"));
        assert_eq!(bucket_count(Bucket::Minute, since, until), 1_441);
        assert_eq!(
            super::series(Bucket::Minute, since, until, &[]).len(),
            1_441
        );
    }

    #[test]
    fn buckets_start_on_their_boundaries() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T10:37:42.5Z")
            .expect("time")
            .with_timezone(&Utc);
        let start = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("time")
                .with_timezone(&Utc)
        };
        assert_eq!(Span::Minute.bucket_start(at), start("2026-11-22T10:37:00Z"));
        assert_eq!(Span::Day.bucket_start(at), start("2026-11-22T00:00:00Z"));
        assert_eq!(Bucket::Hour.start(at), start("2026-11-22T10:00:00Z"));
        assert_eq!(Bucket::Hour.source(), Span::Minute);
        assert_eq!(Bucket::Day.source(), Span::Day);
    }
}
