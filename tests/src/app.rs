//! Booting the orders API under test: its configuration for tests, the API in this process
//! ([`TestApp`]) or as the real binary in a child process ([`ApiProcess`]), and waiting for it
//! to be ready.

use std::time::Duration;

use delivery::config::DeliveryArgs;
use platform::config::{AppEnv, CommonArgs};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use crate::client::{Api, http_client};
use crate::db::TestDb;
use crate::poll::eventually;
use crate::process::{Process, free_port};

/// A short retry schedule for tests (seconds).
pub const FAST_SCHEDULE: &str = "0,1,1,2";

/// Common settings of the processes under test.
pub fn common_args(db: &TestDb) -> CommonArgs {
    CommonArgs {
        app_env: AppEnv::Dev,
        database_url: Some(SecretString::from(db.url.clone())),
        dsn: None,
        secrets_key: None,
    }
}

/// Delivery settings for tests: loopback allowed, short schedule and timeout.
pub fn delivery_args(schedule: &str) -> DeliveryArgs {
    DeliveryArgs {
        webhook_allow_loopback: true,
        webhook_retry_schedule: schedule.parse().expect("schedule"),
        webhook_timeout_ms: 2_000,
        webhook_connect_timeout_ms: 1_000,
        endpoint_auto_disable_after_seconds: 432_000,
        endpoint_failing_after_attempts: 10,
    }
}

/// An orders API running in this process (memory queue unless configured otherwise).
///
/// Its metrics go to the recorder of the test process, which every test of the process shares
/// (`cargo test` runs a binary's tests as threads of one process): a test that reads
/// `/metrics` runs an [`ApiProcess`] instead.
pub struct TestApp {
    api: Api,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl std::ops::Deref for TestApp {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl TestApp {
    /// Boots the API in memory mode on `db`.
    pub async fn spawn(db: &TestDb) -> Self {
        Self::spawn_with(db, |_| {}).await
    }

    /// Boots the API on `db` after `configure` adjusts its configuration.
    pub async fn spawn_with(
        db: &TestDb,
        configure: impl FnOnce(&mut orders_api::config::Config),
    ) -> Self {
        let mut config = orders_api::config::Config {
            common: common_args(db),
            delivery: delivery_args(FAST_SCHEDULE),
            listen: "127.0.0.1:0".into(),
            queue: orders_api::config::QueueKind::Memory,
            sqs_queue_url: None,
            shutdown_drain_seconds: 0,
            shutdown_timeout_seconds: 30,
            database_max_connections: 8,
            republish_overdue_seconds: 900,
            intake_wait_ms: orders_api::config::DEFAULT_INTAKE_WAIT_MS,
            rate_limit_per_second: 0,
            api_key_cache_seconds: 5,
            retention_days: 30,
            portal: orders_api::config::PortalArgs::default(),
        };
        configure(&mut config);
        if std::env::var_os("TEST_LOG").is_some() {
            platform::telemetry::init(AppEnv::Dev);
        }
        let app = orders_api::Application::build(config)
            .await
            .expect("the API builds");
        let base = format!("http://127.0.0.1:{}", app.port());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let mut conn = db.pool.acquire().await.expect("connection");
        let key = orders_api::db::api_keys::create(
            &mut conn,
            &orders_api::db::api_keys::Role::Operator,
            Some("tests"),
        )
        .await
        .expect("operator key");
        Self {
            api: Api {
                base,
                operator_key: key.secret.expose_secret().to_owned(),
                http: http_client(),
            },
            shutdown,
            task,
        }
    }

    /// Stops the API gracefully.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("API task")
            .expect("API stopped cleanly");
    }
}

/// Environment for an `orders-api` child process on `db`.
pub fn api_env(db: &TestDb, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("APP_ENV", "dev".into()),
        ("DATABASE_URL", db.url.clone()),
        ("LISTEN", format!("127.0.0.1:{port}")),
        ("WEBHOOK_ALLOW_LOOPBACK", "true".into()),
        ("WEBHOOK_RETRY_SCHEDULE", FAST_SCHEDULE.into()),
        ("WEBHOOK_TIMEOUT_MS", "2000".into()),
        ("RATE_LIMIT_PER_SECOND", "0".into()),
    ]
}

/// Waits until `GET base/readyz` answers 200.
pub async fn wait_ready(base: &str) {
    let http = http_client();
    eventually(Duration::from_secs(30), "the API to become ready", || {
        let http = http.clone();
        async move {
            let response = http.get(format!("{base}/readyz")).send().await.ok()?;
            response.status().is_success().then_some(())
        }
    })
    .await;
}

/// The `orders-api` binary in a child process of its own (memory queue, [`api_env`]), ready,
/// with a client holding a fresh operator key.
///
/// The metrics recorder is process-global, so the `/metrics` of this process counts the traffic
/// of the one test that started it, and nothing else: a test can assert exact values.
pub struct ApiProcess {
    /// A client of it.
    pub api: Api,
    /// The process.
    pub process: Process,
}

impl std::ops::Deref for ApiProcess {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl ApiProcess {
    /// Starts the API on `db` with `extra` on top of [`api_env`], and waits until it is ready.
    pub async fn start(db: &TestDb, extra: &[(&'static str, &str)]) -> Self {
        let port = free_port();
        let mut env = api_env(db, port);
        env.retain(|(key, _)| extra.iter().all(|(k, _)| k != key));
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let process = Process::start("orders-api", &[], &env).expect("orders-api starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&base).await;
        let api = Api::for_operator(db, base).await;
        Self { api, process }
    }

    /// Stops the API with SIGTERM; fails unless it exits cleanly.
    pub fn stop(mut self) {
        self.process
            .terminate()
            .expect("orders-api stops cleanly on SIGTERM");
    }
}
