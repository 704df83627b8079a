//! Signs and delivers webhook deliveries.
//!
//! The database is the source of truth: a delivery row carries its status, attempt count, next
//! attempt time and a lease. A queue message only says "look at delivery X now". The
//! [`dispatcher::Dispatcher`] claims the row, signs the stored payload bytes with every active
//! secret of the endpoint (Standard Webhooks), POSTs them through an SSRF-safe client, records
//! the attempt and decides what happens next.
//!
//! It runs three ways, all through the same code:
//! - [`handler`]: the AWS Lambda handler for an SQS event source mapping (`bootstrap`);
//! - [`worker`]: a long-polling SQS consumer calling that same handler
//!   (`webhook-dispatch-worker`);
//! - [`embedded`]: inside the orders API in memory-queue mode, where the delivery table is the
//!   queue.

pub mod client;
pub mod config;
pub mod database;
pub mod dispatcher;
pub mod embedded;
pub mod handler;
pub mod pacing;
pub mod recorder;
pub mod store;
pub mod tls;
pub mod visibility;
pub mod worker;

/// The `user-agent` of every webhook request.
pub const USER_AGENT: &str = concat!("Mechanica-Webhooks/", env!("CARGO_PKG_VERSION"));
pub mod telemetry;

use std::sync::Arc;

use config::{CommonArgs, DeliveryArgs};

/// Builds a dispatcher from configuration, with a pool of at most `max_connections`.
pub fn build_dispatcher(
    common: &CommonArgs,
    delivery: &DeliveryArgs,
    max_connections: u32,
) -> anyhow::Result<dispatcher::Dispatcher> {
    let options = database::connect_options(&common.database_url()?)?;
    let pool = database::pool(options, max_connections);
    build_dispatcher_with_pool(pool, Arc::new(common.keyring()?), delivery)
}

/// Builds a dispatcher on an existing pool and keyring.
pub fn build_dispatcher_with_pool(
    pool: sqlx::MySqlPool,
    keyring: Arc<domain::secret_box::SecretKeyring>,
    delivery: &DeliveryArgs,
) -> anyhow::Result<dispatcher::Dispatcher> {
    let guard = client::TargetGuard::system(delivery.webhook_allow_loopback);
    let client = client::WebhookClient::new(guard, delivery.timeout(), delivery.connect_timeout())?;
    Ok(dispatcher::Dispatcher::new(
        pool,
        keyring,
        client,
        delivery.webhook_retry_schedule.clone(),
        delivery.timeout(),
        delivery.auto_disable_after(),
    ))
}

/// An SQS client from the environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials chain).
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(tls::aws_http_client())
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
