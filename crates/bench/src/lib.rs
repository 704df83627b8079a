//! The performance benchmark suite of Mechanica order webhooks.
//!
//! Every figure is measured beside its ceiling in the same run (`BENCHMARKS.md`):
//! P1 lives in `benches/sign.rs` (criterion); the others are driven by the `bench` binary
//! against the release binaries, MariaDB and moto, as `scripts/bench` sets them up.

pub mod dispatch;
pub mod http_load;
pub mod lambda;
pub mod latency;
pub mod machine;
pub mod receiver;
pub mod report;
pub mod saturation;
pub mod signing;
pub mod sqs;
pub mod stats;
pub mod throttling;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use e2e::{Api, Process, TestDb};

/// Where the release binaries are, and how long each timed run lasts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The directory holding `orders-api`, `bootstrap`, `webhook-dispatch-worker`.
    pub bin_dir: PathBuf,
    /// The criterion bench executable of P1.
    pub sign_bench: Option<PathBuf>,
    /// Repetitions of each timed run.
    pub runs: usize,
    /// Length of one throughput run.
    pub run_length: Duration,
    /// Pending deliveries each P3 run drains.
    pub deliveries: usize,
}

impl Settings {
    /// The path of release binary `name`.
    pub fn binary(&self, name: &str) -> anyhow::Result<PathBuf> {
        let path = self.bin_dir.join(name);
        anyhow::ensure!(
            path.exists(),
            "{} is missing: build the release binaries first (scripts/bench does)",
            path.display()
        );
        Ok(path)
    }
}

/// Starts release binary `name` with `env` on top of a clean environment (PATH kept).
pub fn start(settings: &Settings, name: &str, env: &[(&str, String)]) -> anyhow::Result<Process> {
    let mut command = Command::new(settings.binary(name)?);
    command.env_clear();
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    command.env("RUST_LOG", "error");
    command.stderr(std::process::Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    Process::spawn(command, name)
}

/// An orders API child process on its own database, with an operator key.
pub struct ApiUnderTest {
    /// The database.
    pub db: TestDb,
    /// A client with the operator key.
    pub api: Api,
    /// The process.
    pub process: Process,
}

impl ApiUnderTest {
    /// Starts `orders-api` (memory queue unless `extra` says otherwise) on a fresh database.
    pub async fn start(
        settings: &Settings,
        extra: &[(&'static str, String)],
    ) -> anyhow::Result<Self> {
        let db = TestDb::new().await;
        let port = e2e::free_port();
        let mut env = e2e::api_env(&db, port);
        env.extend(extra.iter().cloned());
        let process = start(settings, "orders-api", &env)?;
        let base = format!("http://127.0.0.1:{port}");
        e2e::wait_ready(&base).await;
        let mut conn = db.pool.acquire().await.context("connection")?;
        let key = orders_api::db::api_keys::create(
            &mut conn,
            &orders_api::db::api_keys::Role::Operator,
            Some("bench"),
        )
        .await
        .context("operator key")?;
        drop(conn);
        use secrecy::ExposeSecret;
        let api = Api {
            base,
            operator_key: key.secret.expose_secret().to_owned(),
            http: http_client(),
        };
        Ok(Self { db, api, process })
    }

    /// Stops the process and drops the database.
    pub async fn finish(mut self) {
        self.process.kill();
        self.db.drop_database().await;
    }
}

/// A dispatcher in this process on `pool`, configured as the API under test on `db` configures
/// its embedded one (development secrets key, loopback targets allowed).
pub fn dispatcher(
    db: &TestDb,
    pool: sqlx::MySqlPool,
) -> anyhow::Result<delivery::dispatcher::Dispatcher> {
    Ok(delivery::build_dispatcher_with_pool(
        pool,
        std::sync::Arc::new(e2e::common_args(db).keyring()?),
        &e2e::delivery_args(e2e::FAST_SCHEDULE),
        delivery::outbox::Handoff::dispatcher(std::sync::Arc::default()),
    )?
    .with_record_linger(delivery::recorder::EMBEDDED_LINGER))
}

/// The API's operations in this process on `pool`, configured as the API under test on `db`
/// (development secrets key, loopback targets allowed), handing deliveries over through
/// `handoff`.
pub fn service(
    db: &TestDb,
    pool: sqlx::MySqlPool,
    handoff: delivery::outbox::Handoff,
) -> anyhow::Result<orders_api::service::Service> {
    Ok(orders_api::service::Service::new(
        pool,
        std::sync::Arc::new(e2e::common_args(db).keyring()?),
        delivery::client::TargetGuard::system(true),
        handoff,
    ))
}

/// The load generator's HTTP client: one connection pool shared by every simulated client.
pub fn http_client() -> reqwest::Client {
    platform::tls::install_crypto_provider();
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap_or_default()
}

/// Resident set size (`VmRSS`) of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS line")
}

/// Size of `path` in bytes.
pub fn file_size(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path)?.len())
}

/// CPU time (user + system) of process `pid` so far, in seconds (`/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The MariaDB server's process id, if it runs on this machine.
pub fn mariadb_pid() -> Option<u32> {
    let output = Command::new("pidof").arg("mariadbd").output().ok()?;
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The process id of the `moto_server` listening on the port of `endpoint`, if it runs here.
pub fn moto_pid(endpoint: &str) -> Option<u32> {
    let port = endpoint
        .trim_end_matches('/')
        .rsplit(':')
        .next()?
        .as_bytes()
        .to_vec();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let mut args = cmdline.split(|b| *b == 0);
            let is_moto = args.clone().any(|a| a.ends_with(b"moto_server"));
            (is_moto && args.any(|a| a == port.as_slice())).then_some(pid)
        })
}

/// Statements the MariaDB server has executed so far (`Questions`, all clients together).
pub async fn statements(pool: &sqlx::MySqlPool) -> anyhow::Result<u64> {
    let (_, value): (String, String) = sqlx::query_as("show global status like 'Questions'")
        .fetch_one(pool)
        .await?;
    Ok(value.parse()?)
}

/// Waits until every delivery is settled (none pending or unpublished), so that one timed run
/// never pays for the dispatching left over from the previous one.
pub async fn drain(pool: &sqlx::MySqlPool) {
    e2e::eventually(
        Duration::from_secs(120),
        "every delivery to be settled",
        || async {
            let busy = delivery::outbox::unsettled(pool).await.ok()?;
            (busy == 0).then_some(())
        },
    )
    .await;
}

/// CPU seconds used by the API (if any), MariaDB and this process between two points.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuSplit {
    /// The API process.
    pub api: f64,
    /// MariaDB.
    pub db: f64,
    /// This process (load generator, receiver, in-process dispatcher).
    pub bench: f64,
}

impl CpuSplit {
    /// A snapshot now.
    pub fn now(api: Option<u32>) -> Self {
        Self {
            api: api.map_or(0.0, cpu_seconds),
            db: mariadb_pid().map_or(0.0, cpu_seconds),
            bench: cpu_seconds(std::process::id()),
        }
    }

    /// CPU milliseconds per operation since `earlier`, as `api/db/bench` text.
    pub fn per_op_since(&self, earlier: &Self, ops: f64) -> String {
        let ms = |a: f64, b: f64| (a - b) * 1e3 / ops;
        format!(
            "api {:.2} / db {:.2} / bench {:.2}",
            ms(self.api, earlier.api),
            ms(self.db, earlier.db),
            ms(self.bench, earlier.bench)
        )
    }
}
