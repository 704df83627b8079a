//! `webhook-dispatch-worker`: long-polls `SQS_QUEUE_URL` and runs the Lambda's handler.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use delivery::config::DeliveryArgs;
use platform::config::CommonArgs;
use tokio_util::sync::CancellationToken;
use webhook_dispatch::handler::Deps;
use webhook_dispatch::metrics::MetricsArgs;
use webhook_dispatch::visibility::SqsVisibility;

/// Configuration of the worker, from its environment.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Config {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    delivery: DeliveryArgs,
    #[command(flatten)]
    metrics: MetricsArgs,
    /// The queue to consume.
    #[arg(long, env = "SQS_QUEUE_URL")]
    sqs_queue_url: String,
    /// Records of one batch handled at once.
    #[arg(long, env = "DISPATCH_CONCURRENCY", default_value_t = 10)]
    concurrency: usize,
    /// Batches received and handled at once.
    #[arg(long, env = "WORKER_POLLERS", default_value_t = 4)]
    pollers: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    platform::telemetry::init(config.common.app_env);
    webhook_dispatch::metrics::install(&config.metrics)?;
    let dispatcher = delivery::build_dispatcher(&config.common, &config.delivery, 8)?;
    let sqs = platform::sqs::client().await;
    let deps = Arc::new(Deps {
        dispatcher,
        visibility: Arc::new(SqsVisibility::new(
            sqs.clone(),
            config.sqs_queue_url.clone(),
        )),
        concurrency: config.concurrency,
        deadline_margin: Duration::from_secs(3),
        fallback_budget: webhook_dispatch::worker::BATCH_BUDGET,
    });
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            platform::shutdown_signal().await;
            tracing::info!("shutting down after the batch in hand");
            shutdown.cancel();
        }
    });
    tracing::info!(queue_url = %config.sqs_queue_url, "polling");
    webhook_dispatch::worker::run(deps, sqs, config.sqs_queue_url, config.pollers, shutdown).await;
    Ok(())
}
