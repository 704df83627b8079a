//! Webhook deliveries: the one owner of the delivery tables, the SSRF-safe client and the
//! dispatcher.
//!
//! The database is the source of truth: a delivery row carries its status, attempt count, next
//! attempt time and a lease. A queue message only says "look at delivery X now".
//!
//! - [`outbox`]: events and their deliveries, written in the transaction of the change that
//!   caused them; the relay's publish claims; the overdue sweep.
//! - [`store`]: the dispatcher's side: claims, attempt records, failing and disabling endpoints.
//! - [`log`]: the delivery log customers read, and re-opening failed deliveries.
//! - [`retention`]: deleting what is final and older than the retention period.
//! - [`client`]: the [`client::TargetGuard`] every target passes, and the HTTP client that
//!   POSTs through it.
//! - [`dispatcher`]: claims a row, signs the stored payload bytes with every active secret of
//!   the endpoint (Standard Webhooks), POSTs them, records the attempt and decides what happens
//!   next; [`embedded`] runs it in-process where the delivery table is the queue.
//!
//! No statement on `webhook_events`, `webhook_deliveries` or `webhook_attempts` lives outside
//! this crate.

pub mod client;
pub mod config;
pub mod dispatcher;
pub mod embedded;
pub mod health;
pub mod log;
pub mod outbox;
pub mod recorder;
pub mod retention;
pub mod stats;
pub mod store;
pub mod throttle;

use std::sync::Arc;

use config::DeliveryArgs;
use platform::config::CommonArgs;

/// The `user-agent` of every webhook request.
pub const USER_AGENT: &str = concat!("Mechanica-Webhooks/", env!("CARGO_PKG_VERSION"));

/// Builds a queue consumer's dispatcher from configuration, with a pool of at most
/// `max_connections`. The operational events it raises wait in the outbox for the API's relay.
pub fn build_dispatcher(
    common: &CommonArgs,
    delivery: &DeliveryArgs,
    max_connections: u32,
) -> anyhow::Result<dispatcher::Dispatcher> {
    let options = platform::database::connect_options(&common.database_url()?)?;
    let pool = platform::database::pool(options, max_connections);
    let relay = outbox::Handoff::relay(Arc::default());
    build_dispatcher_with_pool(pool, Arc::new(common.keyring()?), delivery, relay)
}

/// Builds a dispatcher on an existing pool and keyring; the deliveries of the operational
/// events it raises go by `handoff`.
pub fn build_dispatcher_with_pool(
    pool: sqlx::MySqlPool,
    keyring: Arc<domain::secret_box::SecretKeyring>,
    delivery: &DeliveryArgs,
    handoff: outbox::Handoff,
) -> anyhow::Result<dispatcher::Dispatcher> {
    let guard = client::TargetGuard::system(delivery.webhook_allow_loopback);
    let client = client::WebhookClient::new(guard, delivery.timeout(), delivery.connect_timeout())?;
    Ok(dispatcher::Dispatcher::new(
        pool,
        keyring,
        client,
        delivery.webhook_retry_schedule.clone(),
        delivery.timeout(),
        health::Tracking {
            policy: delivery.health_policy(),
            handoff,
        },
    ))
}
