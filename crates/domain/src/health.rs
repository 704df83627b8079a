//! An endpoint's health: its run of failed attempts, and the operational events that run
//! raises.
//!
//! Attempts are observed one by one, in the order they started. A failure lengthens the
//! endpoint's streak (and starts it: `failing_since`); a success ends it. The streak raises:
//!
//! - `endpoint.failing` once, when it reaches [`HealthPolicy::failing_after`] failed attempts,
//!   and once more, as the last warning, at 90 % of the auto-disable window;
//! - `endpoint.disabled` when a failure comes [`HealthPolicy::auto_disable_after`] or more into
//!   it (the failure that starts a streak only starts it), or when the receiver answers 410 Gone
//!   (whatever the streak);
//! - `endpoint.recovered` at the success that ends it, if it raised `endpoint.failing`: a short
//!   run of failures that nobody was told of ends silently.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::state::DisabledReason;

/// When a streak of failures is worth telling the customer of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthPolicy {
    /// Failed attempts in a row that raise the first `endpoint.failing`.
    pub failing_after: u32,
    /// How long an endpoint may fail without a single success before it is disabled.
    pub auto_disable_after: Duration,
}

impl HealthPolicy {
    /// How far into a streak its last warning comes: 90 % of the auto-disable window.
    pub fn last_warning_after(&self) -> Duration {
        self.auto_disable_after.mul_f64(0.9)
    }
}

/// Which `endpoint.failing` notices the current streak has raised (stored as 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Notified {
    /// None yet.
    #[default]
    Nothing,
    /// The first, at the threshold.
    Failing,
    /// The last warning, at 90 % of the auto-disable window.
    LastWarning,
}

impl Notified {
    /// The stored number.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Nothing => 0,
            Self::Failing => 1,
            Self::LastWarning => 2,
        }
    }

    /// From the stored number (anything above 2 reads as the last warning).
    pub const fn from_u8(stored: u8) -> Self {
        match stored {
            0 => Self::Nothing,
            1 => Self::Failing,
            _ => Self::LastWarning,
        }
    }
}

/// An endpoint's stored health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Health {
    /// When the current streak began; `None` while healthy.
    pub failing_since: Option<DateTime<Utc>>,
    /// Failed attempts in a row.
    pub failure_streak: u32,
    /// What the streak has raised so far.
    pub notified: Notified,
}

/// An attempt, as far as its endpoint's health goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Whether the receiver accepted it.
    pub success: bool,
    /// The status the receiver answered, if it answered.
    pub status: Option<u16>,
}

/// An operational event an attempt raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `endpoint.failing`: the streak reached its threshold, or (`last_warning`) 90 % of the
    /// auto-disable window.
    Failing {
        /// When the streak began.
        since: DateTime<Utc>,
        /// Failed attempts in it so far.
        failures: u32,
        /// Whether this is the last warning before the endpoint is disabled.
        last_warning: bool,
    },
    /// `endpoint.disabled`: the endpoint will receive nothing more until re-enabled.
    Disabled {
        /// Why.
        reason: DisabledReason,
        /// When the streak began, if one was running.
        since: Option<DateTime<Utc>>,
    },
    /// `endpoint.recovered`: a success ended a streak that raised `endpoint.failing`.
    Recovered {
        /// When the streak began.
        since: DateTime<Utc>,
        /// How many attempts it failed.
        failures: u32,
    },
}

impl Health {
    /// Applies one attempt; returns the operational event it raises, if any. After
    /// [`Notice::Disabled`] the endpoint receives nothing more, so nothing more is observed.
    pub fn observe(&mut self, attempt: Observed, policy: &HealthPolicy) -> Option<Notice> {
        if attempt.success {
            let ended = std::mem::take(self);
            return match (ended.failing_since, ended.notified) {
                (Some(since), Notified::Failing | Notified::LastWarning) => {
                    Some(Notice::Recovered {
                        since,
                        failures: ended.failure_streak,
                    })
                }
                _ => None,
            };
        }
        if self.failing_since.is_none() {
            // A new streak: whatever a release that kept only `failing_since` left behind of the
            // last one counts for nothing.
            self.failure_streak = 0;
            self.notified = Notified::Nothing;
        }
        self.failure_streak = self.failure_streak.saturating_add(1);
        if attempt.status == Some(410) {
            return Some(Notice::Disabled {
                reason: DisabledReason::Gone,
                since: self.failing_since,
            });
        }
        let started = self.failing_since.is_none();
        let since = *self.failing_since.get_or_insert(attempt.started_at);
        // A streak said to begin after the attempt (clock skew) counts as no time at all.
        let failing_for = (attempt.started_at - since).to_std().unwrap_or_default();
        if !started && failing_for >= policy.auto_disable_after {
            return Some(Notice::Disabled {
                reason: DisabledReason::AutoDisabled,
                since: Some(since),
            });
        }
        let due = if failing_for >= policy.last_warning_after() {
            Notified::LastWarning
        } else if self.failure_streak >= policy.failing_after {
            Notified::Failing
        } else {
            Notified::Nothing
        };
        (due > self.notified).then(|| {
            self.notified = due;
            Notice::Failing {
                since,
                failures: self.failure_streak,
                last_warning: due == Notified::LastWarning,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    const POLICY: HealthPolicy = HealthPolicy {
        failing_after: 3,
        auto_disable_after: Duration::from_secs(100),
    };

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::seconds(1_800_000_000 + seconds)
    }

    fn failure(seconds: i64) -> Observed {
        Observed {
            started_at: at(seconds),
            success: false,
            status: Some(500),
        }
    }

    fn success(seconds: i64) -> Observed {
        Observed {
            started_at: at(seconds),
            success: true,
            status: Some(200),
        }
    }

    fn run(health: &mut Health, attempts: &[Observed]) -> Vec<Option<Notice>> {
        attempts
            .iter()
            .map(|attempt| health.observe(*attempt, &POLICY))
            .collect()
    }

    #[test]
    fn a_streak_raises_failing_once_at_its_threshold_and_again_at_ninety_percent() {
        let mut health = Health::default();
        let notices = run(
            &mut health,
            &[
                failure(0),
                failure(1),
                failure(2),
                failure(3),
                failure(89),
                failure(90),
                failure(95),
            ],
        );
        let failing = |failures, last_warning| {
            Some(Notice::Failing {
                since: at(0),
                failures,
                last_warning,
            })
        };
        assert_eq!(
            notices,
            [
                None,
                None,
                failing(3, false),
                None,
                None,
                failing(6, true),
                None
            ]
        );
        assert_eq!(health.failure_streak, 7);
        assert_eq!(health.failing_since, Some(at(0)));
        assert_eq!(health.notified, Notified::LastWarning);
    }

    #[test]
    fn a_streak_that_raised_failing_ends_in_recovered_and_a_silent_one_in_nothing() {
        let mut health = Health::default();
        let notices = run(&mut health, &[failure(0), failure(1), success(2)]);
        assert_eq!(notices, [None, None, None]);
        assert_eq!(health, Health::default());

        let notices = run(
            &mut health,
            &[
                failure(10),
                failure(11),
                failure(12),
                success(13),
                success(14),
            ],
        );
        assert_eq!(
            notices,
            [
                None,
                None,
                Some(Notice::Failing {
                    since: at(10),
                    failures: 3,
                    last_warning: false
                }),
                Some(Notice::Recovered {
                    since: at(10),
                    failures: 3
                }),
                None,
            ]
        );
        assert_eq!(health, Health::default());
    }

    #[test]
    fn failing_for_the_whole_window_disables_and_gone_disables_at_once() {
        let mut health = Health::default();
        let notices = run(&mut health, &[failure(0), failure(100)]);
        assert_eq!(
            notices[1],
            Some(Notice::Disabled {
                reason: DisabledReason::AutoDisabled,
                since: Some(at(0)),
            })
        );

        let mut health = Health::default();
        let gone = Observed {
            status: Some(410),
            ..failure(5)
        };
        assert_eq!(
            health.observe(gone, &POLICY),
            Some(Notice::Disabled {
                reason: DisabledReason::Gone,
                since: None,
            })
        );
    }

    #[test]
    fn disabling_table() {
        let day = 86_400;
        let policy = HealthPolicy {
            failing_after: u32::MAX,
            auto_disable_after: Duration::from_secs(5 * 86_400),
        };
        let attempt = |success, status| Observed {
            started_at: at(10 * day),
            success,
            status,
        };
        let auto = |since| {
            Some(Notice::Disabled {
                reason: DisabledReason::AutoDisabled,
                since: Some(since),
            })
        };
        let cases = [
            // (failing since, success, status, disables)
            (None, true, Some(200), None),
            (
                None,
                false,
                Some(410),
                Some(Notice::Disabled {
                    reason: DisabledReason::Gone,
                    since: None,
                }),
            ),
            (
                Some(at(9 * day)),
                false,
                Some(410),
                Some(Notice::Disabled {
                    reason: DisabledReason::Gone,
                    since: Some(at(9 * day)),
                }),
            ),
            (None, false, Some(500), None),
            (None, false, None, None),
            // Failing for 1 day: within the window.
            (Some(at(9 * day)), false, Some(500), None),
            // Failing for 5 days less a second, exactly 5 days, 10 days.
            (Some(at(5 * day + 1)), false, Some(503), None),
            (Some(at(5 * day)), false, Some(503), auto(at(5 * day))),
            (Some(at(0)), false, None, auto(at(0))),
            // A streak said to begin after the attempt (clock skew) counts as no time at all.
            (Some(at(11 * day)), false, Some(500), None),
        ];
        for (failing_since, success, status, expected) in cases {
            let mut health = Health {
                failing_since,
                failure_streak: u32::from(failing_since.is_some()),
                notified: Notified::LastWarning,
            };
            let notice = health.observe(attempt(success, status), &policy);
            let disabled = notice.filter(|n| matches!(n, Notice::Disabled { .. }));
            assert_eq!(
                disabled, expected,
                "failing since {failing_since:?}, success {success}, status {status:?}"
            );
        }
        // With no window, any failure in a streak disables, but the first only starts it (and,
        // the window being all but over, warns for the last time).
        let policy = HealthPolicy {
            auto_disable_after: Duration::ZERO,
            ..policy
        };
        let mut health = Health::default();
        assert_eq!(
            health.observe(attempt(false, Some(500)), &policy),
            Some(Notice::Failing {
                since: at(10 * day),
                failures: 1,
                last_warning: true
            })
        );
        assert_eq!(
            health.observe(attempt(false, Some(500)), &policy),
            auto(at(10 * day))
        );
    }

    #[test]
    fn a_streak_starts_counting_afresh_whatever_an_ended_one_left_behind() {
        let mut health = Health {
            failing_since: None,
            failure_streak: 7,
            notified: Notified::LastWarning,
        };
        let notices = run(&mut health, &[failure(0), failure(1), failure(2)]);
        assert_eq!(
            notices,
            [
                None,
                None,
                Some(Notice::Failing {
                    since: at(0),
                    failures: 3,
                    last_warning: false
                })
            ]
        );
    }

    #[test]
    fn a_slow_streak_below_the_threshold_still_gets_its_last_warning() {
        let mut health = Health::default();
        let notices = run(&mut health, &[failure(0), failure(91)]);
        assert_eq!(
            notices,
            [
                None,
                Some(Notice::Failing {
                    since: at(0),
                    failures: 2,
                    last_warning: true
                })
            ]
        );
    }

    #[test]
    fn notices_round_trip_through_their_stored_numbers() {
        for notified in [Notified::Nothing, Notified::Failing, Notified::LastWarning] {
            assert_eq!(Notified::from_u8(notified.as_u8()), notified);
        }
    }
}
