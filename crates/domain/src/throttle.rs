//! Per-endpoint rate limits: the generic cell rate algorithm (GCRA) with reservations.
//!
//! An endpoint limited to `r` deliveries a second is sent one every `T = 1 s / r`, after a burst
//! of [`RateLimit::burst`]: its state is one time, the theoretical arrival time (TAT). A sender
//! asks for a slot; the slot is `max(TAT − τ, now)` (τ = (burst − 1) · T, the burst tolerance) and
//! the TAT moves to `max(TAT, now) + T`. Slots are handed out in the order they are asked for,
//! so a delivery that waits keeps its place. Any window of one second then holds at most
//! `r + burst − 1` slots. A slot further away than the caller's horizon is not handed out: the
//! caller comes back when one is near ([`Reservation::Full`]).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// The most deliveries a second an endpoint may be limited to.
pub const MAX_PER_SECOND: u32 = 10_000;

/// A rate limit of 1 to [`MAX_PER_SECOND`] deliveries a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit(u32);

impl RateLimit {
    /// `per_second` deliveries a second; `None` outside 1 to [`MAX_PER_SECOND`].
    pub fn new(per_second: u32) -> Option<Self> {
        (1..=MAX_PER_SECOND)
            .contains(&per_second)
            .then_some(Self(per_second))
    }

    /// Deliveries a second.
    pub fn per_second(self) -> u32 {
        self.0
    }

    /// The time between two slots once the burst is spent, rounded up to the microsecond (so
    /// that `rate` of them never take less than a second).
    pub fn interval(self) -> TimeDelta {
        let rate = i64::from(self.0);
        TimeDelta::microseconds((1_000_000 + rate - 1) / rate)
    }

    /// How many slots may follow each other at once: a tenth of the rate, at least one.
    pub fn burst(self) -> u32 {
        (self.0 / 10).max(1)
    }

    /// How far ahead of the TAT a slot may be: `(burst − 1) · interval`.
    fn tolerance(self) -> TimeDelta {
        self.interval() * (i32::try_from(self.burst()).unwrap_or(i32::MAX) - 1)
    }
}

/// What a request for a slot got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// A slot, this far from now (zero: now), and the limiter's new TAT to store.
    Granted {
        /// When the slot is.
        slot: DateTime<Utc>,
        /// How long until the slot.
        wait: Duration,
        /// The TAT to store.
        tat: DateTime<Utc>,
    },
    /// Every slot within the horizon is taken: ask again after this long (nothing to store).
    Full {
        /// When a slot will be within the horizon.
        retry_in: Duration,
    },
}

/// Asks for a slot at `now` from a limiter whose TAT is `tat` (`None`: never used), taking one
/// only if it is at most `horizon` away.
pub fn reserve(
    tat: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit: RateLimit,
    horizon: Duration,
) -> Reservation {
    let tat = tat.unwrap_or(now).max(now);
    let slot = (tat - limit.tolerance()).max(now);
    let wait = (slot - now).to_std().unwrap_or_default();
    if wait > horizon {
        return Reservation::Full {
            retry_in: wait - horizon,
        };
    }
    Reservation::Granted {
        slot,
        wait,
        tat: tat + limit.interval(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
            + TimeDelta::seconds(1_800_000_000)
            + TimeDelta::milliseconds(ms)
    }

    /// The slots `n` requests made at `now` get, one after the other.
    fn slots(limit: RateLimit, now: i64, n: usize) -> Vec<i64> {
        let mut tat = None;
        (0..n)
            .map(
                |_| match reserve(tat, at(now), limit, Duration::from_secs(3_600)) {
                    Reservation::Granted {
                        wait, tat: next, ..
                    } => {
                        tat = Some(next);
                        now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)
                    }
                    Reservation::Full { .. } => panic!("the horizon is an hour"),
                },
            )
            .collect()
    }

    #[test]
    fn limits_are_one_to_ten_thousand_a_second_with_a_tenth_as_burst() {
        assert_eq!(RateLimit::new(0), None);
        assert_eq!(RateLimit::new(10_001), None);
        let limit = RateLimit::new(50).expect("valid");
        assert_eq!(limit.interval(), TimeDelta::milliseconds(20));
        assert_eq!(limit.burst(), 5);
        assert_eq!(RateLimit::new(3).map(RateLimit::burst), Some(1));
    }

    #[test]
    fn a_backlog_gets_its_burst_at_once_then_one_slot_per_interval_in_order() {
        let limit = RateLimit::new(50).expect("valid");
        let got = slots(limit, 0, 9);
        assert_eq!(got, [0, 0, 0, 0, 0, 20, 40, 60, 80]);
    }

    #[test]
    fn no_second_holds_more_than_the_rate_and_its_burst() {
        let limit = RateLimit::new(50).expect("valid");
        let got = slots(limit, 0, 500);
        for start in 0..10_000 {
            let within = got
                .iter()
                .filter(|s| (start..start + 1_000).contains(*s))
                .count();
            assert!(
                within < 50 + 5, // at most the rate and its burst, less one
                "{within} slots in [{start}, {start} + 1000) ms"
            );
        }
        // 500 slots take 10 s less the burst.
        assert_eq!(got.last(), Some(&((500 - 5) * 20)));
    }

    #[test]
    fn a_rate_that_does_not_divide_a_second_still_holds_in_every_second() {
        for rate in [3, 7, 30, 333] {
            let limit = RateLimit::new(rate).expect("valid");
            let mut tat = None;
            let mut slots = Vec::new();
            for _ in 0..3 * rate {
                if let Reservation::Granted {
                    wait, tat: next, ..
                } = reserve(tat, at(0), limit, Duration::from_secs(3_600))
                {
                    tat = Some(next);
                    slots.push(wait);
                }
            }
            let bound = (rate + limit.burst() - 1) as usize;
            for (i, first) in slots.iter().enumerate() {
                let within = slots[i..]
                    .iter()
                    .take_while(|s| **s - *first < Duration::from_secs(1))
                    .count();
                assert!(within <= bound, "{within} slots in a second at {rate}/s");
            }
        }
    }

    #[test]
    fn an_idle_limiter_starts_afresh_and_a_far_slot_is_not_handed_out() {
        let limit = RateLimit::new(10).expect("valid");
        let stale = at(-60_000);
        assert!(matches!(
            reserve(Some(stale), at(0), limit, Duration::ZERO),
            Reservation::Granted { wait, tat, .. } if wait.is_zero() && tat == at(100)
        ));
        // A TAT 5 s ahead: the slot is 5 s away, beyond a 2 s horizon by 3 s.
        assert_eq!(
            reserve(Some(at(5_000)), at(0), limit, Duration::from_secs(2)),
            Reservation::Full {
                retry_in: Duration::from_secs(3)
            }
        );
    }
}
