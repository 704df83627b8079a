//! How deliveries are attempted: the settings of every process that runs the dispatcher.

use std::time::Duration;

use clap::builder::BoolishValueParser;
use domain::health::HealthPolicy;
use domain::retry::RetrySchedule;

/// How deliveries are attempted (`WEBHOOK_*`).
#[derive(Debug, Clone, clap::Args)]
pub struct DeliveryArgs {
    /// Permit loopback targets (127.0.0.0/8, ::1). Development and tests only.
    #[arg(long, env = "WEBHOOK_ALLOW_LOOPBACK", value_parser = BoolishValueParser::new(), default_value = "false", action = clap::ArgAction::Set)]
    pub webhook_allow_loopback: bool,

    /// Seconds before each attempt, comma-separated.
    #[arg(
        long,
        env = "WEBHOOK_RETRY_SCHEDULE",
        default_value = "0,5,300,1800,7200,18000,36000,36000"
    )]
    pub webhook_retry_schedule: RetrySchedule,

    /// Total time one attempt may take, in milliseconds.
    #[arg(long, env = "WEBHOOK_TIMEOUT_MS", default_value_t = 15_000)]
    pub webhook_timeout_ms: u64,

    /// Time to establish a connection, in milliseconds.
    #[arg(long, env = "WEBHOOK_CONNECT_TIMEOUT_MS", default_value_t = 5_000)]
    pub webhook_connect_timeout_ms: u64,

    /// An endpoint whose every attempt has failed for this long is disabled (seconds).
    #[arg(
        long,
        env = "ENDPOINT_AUTO_DISABLE_AFTER_SECONDS",
        default_value_t = 432_000
    )]
    pub endpoint_auto_disable_after_seconds: u64,

    /// Failed attempts in a row after which `endpoint.failing` tells the endpoint's customer.
    #[arg(long, env = "ENDPOINT_FAILING_AFTER_ATTEMPTS", default_value_t = 10)]
    pub endpoint_failing_after_attempts: u32,
}

impl DeliveryArgs {
    /// Total time one attempt may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_timeout_ms)
    }

    /// Time to establish a connection.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.webhook_connect_timeout_ms)
    }

    /// How long an endpoint may fail without a single success before it is disabled.
    pub fn auto_disable_after(&self) -> Duration {
        Duration::from_secs(self.endpoint_auto_disable_after_seconds)
    }

    /// When a streak of failures raises operational events.
    pub fn health_policy(&self) -> HealthPolicy {
        HealthPolicy {
            failing_after: self.endpoint_failing_after_attempts.max(1),
            auto_disable_after: self.auto_disable_after(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Test {
        #[command(flatten)]
        delivery: DeliveryArgs,
    }

    #[test]
    fn defaults_refuse_loopback_and_retry_eight_times() {
        let t = Test::try_parse_from(["test"]).expect("arguments parse");
        assert!(!t.delivery.webhook_allow_loopback);
        assert_eq!(t.delivery.webhook_retry_schedule.max_attempts(), 8);
        assert_eq!(t.delivery.timeout(), Duration::from_secs(15));
        assert_eq!(t.delivery.connect_timeout(), Duration::from_secs(5));
        assert_eq!(
            t.delivery.auto_disable_after(),
            Duration::from_secs(5 * 86_400)
        );
        assert_eq!(t.delivery.health_policy().failing_after, 10);
    }
}
