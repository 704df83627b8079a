//! The orders API of Mechanica order webhooks.
//!
//! Customers place shipping orders and register webhook endpoints; operators move orders
//! through their lifecycle. Every status change commits, in one transaction, the order, its
//! history row, its event and one delivery per subscribed endpoint (the transactional
//! outbox). In SQS mode the [`relay`] then publishes deliveries to the queue; in memory mode
//! the delivery table itself is the queue, drained by an in-process dispatcher, and no relay
//! runs.

pub mod config;
pub mod db;
pub mod http;
pub mod queue;
pub mod relay;
pub mod service;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use delivery::client::TargetGuard;
use delivery::dispatcher::Dispatcher;
use delivery::outbox::{Handed, Handoff, Inbox, Unpublished};
use platform::config::AppEnv;
use platform::database;
use sqlx::MySqlPool;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, QueueKind};
use crate::http::{AppState, StateInner};
use crate::queue::sqs::SqsPublisher;
use crate::relay::Relay;
use crate::service::Service;

/// The API with its relay (SQS mode) or its dispatcher (memory mode), bound and ready to run.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    portal: Option<axum::Router<AppState>>,
    relay: Option<(Relay, mpsc::Receiver<Unpublished>)>,
    /// Memory mode: the embedded dispatcher, its wake-up and the inbox of deliveries handed
    /// to it at their commit.
    dispatcher: Option<(Dispatcher, Arc<Notify>, mpsc::Receiver<Handed>)>,
    drain: Duration,
    in_flight_deadline: Duration,
    /// Retention, unless `RETENTION_DAYS` is 0.
    retention: Option<delivery::retention::Policy>,
}

/// Connects to the configured database; in dev, creates and migrates it first.
pub async fn connect(config: &Config) -> anyhow::Result<MySqlPool> {
    let options = database::connect_options(&config.common.database_url()?)
        .context("the database URL is invalid")?;
    if config.common.app_env == AppEnv::Dev {
        schema::create_and_migrate(&options)
            .await
            .context("applying migrations (APP_ENV=dev)")?;
    }
    Ok(database::pool(options, config.database_max_connections))
}

impl Application {
    /// Builds everything once and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        http::metrics::handle();
        let pool = connect(&config).await?;
        let keyring = Arc::new(config.common.keyring()?);
        let wake = Arc::new(Notify::new());
        let (handoff, relay, dispatcher) = match config.queue {
            QueueKind::Memory => {
                let dispatcher = delivery::build_dispatcher_with_pool(
                    pool.clone(),
                    Arc::clone(&keyring),
                    &config.delivery,
                    Handoff::dispatcher(Arc::clone(&wake)),
                )?
                .with_record_linger(delivery::recorder::EMBEDDED_LINGER);
                let (inbox, handed) = Inbox::new(
                    delivery::embedded::CONCURRENCY,
                    dispatcher.lease(),
                    Duration::from_millis(config.intake_wait_ms),
                );
                (
                    Handoff::direct(Arc::clone(&wake), inbox),
                    None,
                    Some((dispatcher, wake, handed)),
                )
            }
            QueueKind::Sqs => {
                let queue_url = config
                    .sqs_queue_url
                    .clone()
                    .context("SQS_QUEUE_URL is required with QUEUE=sqs")?;
                let client = platform::sqs::client().await;
                let relay = Relay::new(
                    pool.clone(),
                    Arc::new(SqsPublisher::new(client, queue_url)),
                    Arc::clone(&wake),
                    Some(Duration::from_secs(config.republish_overdue_seconds)),
                );
                let (outgoing, handed) = Relay::outgoing();
                (
                    Handoff::publisher(wake, outgoing),
                    Some((relay, handed)),
                    None,
                )
            }
        };
        let addr = config.listen_addr()?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let portal = match &config.portal.portal_dir {
            Some(dir) => {
                let frame_ancestors =
                    http::portal::parse_frame_ancestors(&config.portal.portal_frame_ancestors)?;
                Some(http::portal::router(dir, &frame_ancestors)?)
            }
            None => None,
        };
        let portal_url = config.portal.url(listener.local_addr()?);
        let service = Service::new(
            pool.clone(),
            Arc::clone(&keyring),
            TargetGuard::system(config.delivery.webhook_allow_loopback),
            handoff,
        );
        let state = AppState::new(StateInner {
            service,
            pool,
            keyring,
            draining: CancellationToken::new(),
            rate_limiter: http::rate_limiter(config.rate_limit_per_second),
            keys: http::auth::KeyCache::new(Duration::from_secs(config.api_key_cache_seconds)),
            portal_url,
        });
        Ok(Self {
            listener,
            state,
            portal,
            relay,
            dispatcher,
            drain: config.drain(),
            retention: config.retention(),
            in_flight_deadline: Duration::from_secs(config.shutdown_timeout_seconds),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Serves until `shutdown` is cancelled, then drains: readiness turns 503 at once, requests
    /// keep being served for the drain period, in-flight requests finish, the relay and the
    /// dispatcher stop between batches, and the pool closes.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let background = CancellationToken::new();
        let relay = self
            .relay
            .map(|(relay, handed)| tokio::spawn(relay.run(handed, background.clone())));
        let upkeep = tokio::spawn(http::metrics::upkeep(background.clone()));
        let retention = self.retention.map(|policy| {
            tokio::spawn(delivery::retention::run(
                self.state.pool.clone(),
                policy,
                background.clone(),
            ))
        });
        let dispatcher = self.dispatcher.map(|(dispatcher, wake, handed)| {
            tokio::spawn(delivery::embedded::run(
                dispatcher,
                wake,
                handed,
                background.clone(),
            ))
        });
        let draining = self.state.draining.clone();
        let drain = self.drain;
        let pool = self.state.pool.clone();
        tracing::info!(addr = %self.listener.local_addr()?, "listening");
        let closed = CancellationToken::new();
        let serve = axum::serve(self.listener, http::router(self.state, self.portal))
            .with_graceful_shutdown({
                let closed = closed.clone();
                async move {
                    shutdown.cancelled().await;
                    draining.cancel();
                    tracing::info!(drain_seconds = drain.as_secs(), "draining");
                    tokio::time::sleep(drain).await;
                    closed.cancel();
                }
            });
        // Once the listener closes, in-flight requests get `in_flight_deadline` to finish.
        let in_flight_deadline = self.in_flight_deadline;
        let served = tokio::select! {
            served = serve.into_future() => served,
            () = async {
                closed.cancelled().await;
                tokio::time::sleep(in_flight_deadline).await;
            } => {
                tracing::warn!("in-flight requests did not finish before the deadline");
                Ok(())
            }
        };
        background.cancel();
        if let Some(relay) = relay
            && let Err(error) = relay.await
        {
            tracing::error!(%error, "relay task failed");
        }
        if let Err(error) = upkeep.await {
            tracing::error!(%error, "metrics upkeep task failed");
        }
        if let Some(retention) = retention
            && let Err(error) = retention.await
        {
            tracing::error!(%error, "retention task failed");
        }
        if let Some(dispatcher) = dispatcher
            && let Err(error) = dispatcher.await
        {
            tracing::error!(%error, "dispatcher task failed");
        }
        pool.close().await;
        tracing::info!("stopped");
        served.context("serving HTTP")
    }
}
