//! The dispatcher's metrics (`webhook_attempts_total`, `webhook_attempt_duration_seconds`, …),
//! pushed over DogStatsD: on Lambda to the Datadog Lambda extension, which listens on
//! `127.0.0.1:8125` in the function's environment and forwards what it receives at the end of
//! each invocation; elsewhere to a Datadog agent. Without an address nothing is exported.
//!
//! Names carry the prefix `mechanica.`, as the API's do once the agent's OpenMetrics check reads
//! them. A counter keeps its name (`mechanica.webhook_attempts_total`, where the check names the
//! API's `mechanica.webhook_attempts.count`); a histogram is a distribution under its own name
//! (`mechanica.webhook_attempt_duration_seconds`, as the check makes the API's), so one
//! percentile query covers every dispatcher.

use std::time::Duration;

use metrics_exporter_dogstatsd::DogStatsDBuilder;

/// The prefix of every metric name, the one the dashboards query.
pub const PREFIX: &str = "mechanica";

/// How often aggregated metrics are sent. A Lambda environment frozen between invocations sends
/// what its last invocation recorded once it is thawed.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Where the dispatcher's metrics go.
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsArgs {
    /// Push the dispatcher's metrics over DogStatsD (UDP) to this `host:port`: the Datadog
    /// Lambda extension's `127.0.0.1:8125` on Lambda, an agent's elsewhere. Unset: none are
    /// exported.
    #[arg(long, env = "DOGSTATSD_ADDR")]
    pub dogstatsd_addr: Option<String>,
}

/// Installs the DogStatsD exporter as the process's metrics recorder when `args` names an
/// address; does nothing otherwise.
///
/// # Errors
/// The address does not parse, or a recorder is installed already.
pub fn install(args: &MetricsArgs) -> anyhow::Result<()> {
    let Some(address) = &args.dogstatsd_addr else {
        return Ok(());
    };
    DogStatsDBuilder::default()
        .with_remote_address(address)?
        .with_flush_interval(FLUSH_INTERVAL)
        .set_global_prefix(PREFIX)
        .send_histograms_as_distributions(true)
        .with_telemetry(false)
        .install()?;
    tracing::info!(%address, "metrics pushed over DogStatsD");
    Ok(())
}
