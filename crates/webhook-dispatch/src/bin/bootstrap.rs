//! The webhook-dispatch AWS Lambda: an SQS event source mapping with ReportBatchItemFailures.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use delivery::config::DeliveryArgs;
use lambda_runtime::{LambdaEvent, service_fn};
use platform::config::CommonArgs;
use webhook_dispatch::handler::{self, Deps};
use webhook_dispatch::metrics::MetricsArgs;
use webhook_dispatch::visibility::SqsVisibility;

/// Configuration of the Lambda, from its environment.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Config {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    delivery: DeliveryArgs,
    #[command(flatten)]
    metrics: MetricsArgs,
    /// The queue the event source mapping reads (for visibility changes).
    #[arg(long, env = "SQS_QUEUE_URL")]
    sqs_queue_url: String,
    /// Records of one batch handled at once.
    #[arg(long, env = "DISPATCH_CONCURRENCY", default_value_t = 10)]
    concurrency: usize,
    /// Stop starting deliveries this many milliseconds before the invocation deadline: at
    /// least one attempt (`WEBHOOK_TIMEOUT_MS`) plus recording it.
    #[arg(long, env = "DEADLINE_MARGIN_MS", default_value_t = 20_000)]
    deadline_margin_ms: u64,
    /// The time a batch gets when an invocation carries no usable deadline (local emulators).
    #[arg(long, env = "FALLBACK_BUDGET_MS", default_value_t = 60_000)]
    fallback_budget_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = Config::parse();
    platform::telemetry::init(config.common.app_env);
    webhook_dispatch::metrics::install(&config.metrics)?;
    // One or two connections per instance: Lambda concurrency multiplies them.
    let dispatcher = delivery::build_dispatcher(&config.common, &config.delivery, 2)?;
    let sqs = platform::sqs::client().await;
    let deps = Arc::new(Deps {
        dispatcher,
        visibility: Arc::new(SqsVisibility::new(sqs, config.sqs_queue_url)),
        concurrency: config.concurrency,
        deadline_margin: Duration::from_millis(config.deadline_margin_ms),
        fallback_budget: Duration::from_millis(config.fallback_budget_ms),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| {
        handler::handle(Arc::clone(&deps), event)
    }))
    .await
}
