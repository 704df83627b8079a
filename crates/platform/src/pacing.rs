//! How the in-process loops (the outbox relay, the embedded dispatcher) wait for work.
//!
//! They are woken after every commit whose deliveries were not handed to them. Serving each
//! wake-up with its own pass would cost a few statements per commit under load, so a wake-up
//! that arrives soon after the previous pass began waits out the rest of
//! [`MIN_PASS_INTERVAL`]: one pass then takes every commit of that interval. An idle loop still
//! answers a wake-up at once.

use std::time::Duration;

/// The shortest time between the starts of two passes that a wake-up triggers.
pub const MIN_PASS_INTERVAL: Duration = Duration::from_millis(5);
