//! Test harness for the end-to-end suite: real MariaDB databases, real HTTP receivers on
//! `127.0.0.1:0`, moto's SQS, the real binaries as child processes, and polling with deadlines.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use delivery::config::DeliveryArgs;
use domain::signing::{self, SigningSecret};
use platform::config::{AppEnv, CommonArgs};
use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection, MySqlPool};
use tokio_util::sync::CancellationToken;

/// The MariaDB/MySQL server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// A fresh, migrated database, dropped when the test passes.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Its name.
    pub name: String,
    /// A pool on it.
    pub pool: MySqlPool,
}

impl TestDb {
    /// Creates and migrates a database with a unique name.
    pub async fn new() -> Self {
        let name = format!(
            "test_{}",
            ulid::Ulid::generate().to_string().to_ascii_lowercase()
        );
        let url = format!("{}/{name}", server_url());
        let options = MySqlConnectOptions::from_str(&url).expect("test database URL");
        schema::create_and_migrate(&options)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database on {} ({e}); the README's test command starts MariaDB", server_url()));
        let pool = platform::database::pool(options, 8);
        Self { url, name, pool }
    }

    /// Counts rows of `table` (a trusted test literal).
    pub async fn count(&self, table: &str) -> i64 {
        self.number(&format!("select count(*) from {table}")).await
    }

    /// The one number `sql` selects (a count, a sum).
    pub async fn number(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Drops the database.
    pub async fn drop_database(self) {
        self.pool.close().await;
        let options = MySqlConnectOptions::from_str(&server_url()).expect("server URL");
        if let Ok(mut conn) = options.connect().await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "drop database if exists `{}`",
                self.name
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

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
    }
}

/// A client of a running orders API.
pub struct Api {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// An operator key.
    pub operator_key: String,
    /// HTTP client.
    pub http: reqwest::Client,
}

/// An orders API running in this process (memory queue unless configured otherwise).
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
            rate_limit_per_second: 0,
            api_key_cache_seconds: 5,
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
        use secrecy::ExposeSecret;
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

impl Api {
    /// A client of the API at `base` with a fresh operator key written to `db`.
    pub async fn for_operator(db: &TestDb, base: String) -> Self {
        let mut conn = db.pool.acquire().await.expect("connection");
        let key = orders_api::db::api_keys::create(
            &mut conn,
            &orders_api::db::api_keys::Role::Operator,
            None,
        )
        .await
        .expect("operator key");
        use secrecy::ExposeSecret;
        Self {
            base,
            operator_key: key.secret.expose_secret().to_owned(),
            http: http_client(),
        }
    }

    /// Sends a request; `body` is sent as JSON when present.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Creates a customer; returns `(customer_id, api_key)`.
    pub async fn customer(&self, name: &str) -> (String, String) {
        let (status, body) = self
            .call(
                "POST",
                "/v1/customers",
                Some(&self.operator_key),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (str_field(&body, "id"), str_field(&body, "api_key"))
    }

    /// Registers an endpoint; returns `(endpoint_id, secret)`.
    pub async fn endpoint(
        &self,
        key: &str,
        url: &str,
        event_types: Option<&[&str]>,
    ) -> (String, SigningSecret) {
        let mut body = json!({ "url": url });
        if let Some(types) = event_types {
            body["event_types"] = json!(types);
        }
        let (status, body) = self
            .call("POST", "/v1/webhook-endpoints", Some(key), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let secret = SigningSecret::parse(&str_field(&body, "secret")).expect("whsec_ secret");
        (str_field(&body, "id"), secret)
    }

    /// Places an order; returns its id.
    pub async fn order(&self, key: &str, reference: &str) -> String {
        let (status, body) = self
            .call("POST", "/v1/orders", Some(key), Some(order_body(reference)))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        str_field(&body, "id")
    }

    /// Moves an order to `status` as an operator, expecting success.
    pub async fn advance(&self, order_id: &str, status: &str) {
        let (code, body) = self
            .call(
                "POST",
                &format!("/v1/orders/{order_id}/status"),
                Some(&self.operator_key),
                Some(json!({ "status": status })),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
}

/// A string field of a JSON object.
pub fn str_field(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {value}"))
        .to_owned()
}

/// A valid order creation body.
pub fn order_body(reference: &str) -> Value {
    json!({
        "reference": reference,
        "origin": {"name": "Acme Warehouse", "line1": "Kade 1", "city": "Rotterdam", "postal_code": "3011 AA", "country": "NL"},
        "destination": {"name": "Buyer GmbH", "line1": "Hauptstr. 2", "line2": "3. OG", "city": "Berlin", "region": "BE", "postal_code": "10115", "country": "DE"},
        "parcels": [{"weight_grams": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100}]
    })
}

/// The full happy lifecycle after `pending`.
pub const LIFECYCLE: [&str; 5] = [
    "confirmed",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
];

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

impl Received {
    /// A header as a string.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Verifies the Standard Webhooks signature with `secret`.
    pub fn verify(&self, secret: &SigningSecret) -> Result<(), signing::VerifyError> {
        signing::verify(
            secret,
            self.header("webhook-id"),
            self.header("webhook-timestamp"),
            self.header("webhook-signature"),
            &self.body,
            chrono::Utc::now().timestamp(),
        )
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// How a receiver answers its n-th request (0-based).
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Delay before answering.
    pub delay: Duration,
    /// Extra response headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// Answer `status` at once.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }
}

type Behaviour = Arc<dyn Fn(usize) -> Reply + Send + Sync>;

/// A customer's webhook receiver: a real HTTP server on `127.0.0.1:0`.
#[derive(Clone)]
pub struct Receiver {
    /// Its base URL.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

impl Receiver {
    /// A receiver answering 200 to everything.
    pub async fn start() -> Self {
        Self::start_with(|_| Reply::status(200)).await
    }

    /// A receiver answering each request as `behaviour` says.
    pub async fn start_with(behaviour: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour: Arc<Mutex<Behaviour>> = Arc::new(Mutex::new(Arc::new(behaviour)));
        let app = axum::Router::new().fallback({
            let received = Arc::clone(&received);
            let behaviour = Arc::clone(&behaviour);
            move |headers: HeaderMap, body: Bytes| {
                let received = Arc::clone(&received);
                let behaviour = Arc::clone(&behaviour);
                async move {
                    let n = {
                        let mut all = received.lock().expect("lock");
                        all.push(Received { headers, body });
                        all.len() - 1
                    };
                    let behave = Arc::clone(&behaviour.lock().expect("lock"));
                    let reply = behave(n);
                    tokio::time::sleep(reply.delay).await;
                    let mut response = axum::response::Response::new(axum::body::Body::from("ok"));
                    *response.status_mut() = StatusCode::from_u16(reply.status).expect("status");
                    for (name, value) in reply.headers {
                        response
                            .headers_mut()
                            .insert(name, value.parse().expect("header value"));
                    }
                    response
                }
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}"),
            received,
            behaviour,
        }
    }

    /// Changes how later requests are answered.
    pub fn set_behaviour(&self, behaviour: impl Fn(usize) -> Reply + Send + Sync + 'static) {
        *self.behaviour.lock().expect("lock") = Arc::new(behaviour);
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits (30 s at most) until at least `count` requests have arrived.
    pub async fn wait_for(&self, count: usize, what: &str) {
        eventually(Duration::from_secs(30), what, || async {
            (self.received.lock().expect("lock").len() >= count).then_some(())
        })
        .await;
    }
}

/// Polls `check` until it returns `Some`, failing the test after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// moto's SQS endpoint (`MOTO_ENDPOINT`, started by the README's test command).
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("MOTO_ENDPOINT is not set: run the suite through the README's test command (scripts/test), which starts moto_server")
    })
}

/// Environment of a process talking to moto.
pub fn aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", moto_endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// An SQS client on moto.
pub async fn sqs() -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(platform::tls::aws_http_client())
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

/// A queue with its dead-letter queue, named uniquely (moto keeps state in memory).
pub struct TestQueue {
    /// Main queue URL.
    pub url: String,
    /// Dead-letter queue URL.
    pub dlq_url: String,
}

/// Creates a queue whose messages move to a DLQ after `max_receive_count` receives.
pub async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    visibility_seconds: u32,
    max_receive_count: u32,
) -> anyhow::Result<TestQueue> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let name = format!(
        "deliveries-{}",
        ulid::Ulid::generate().to_string().to_ascii_lowercase()
    );
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await?
        .queue_url
        .context("dlq url")?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .context("dlq arn")?;
    let redrive =
        json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count }).to_string();
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_seconds.to_string(),
        )
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await?
        .queue_url
        .context("queue url")?;
    Ok(TestQueue { url, dlq_url })
}

/// Approximate number of visible messages in a queue.
pub async fn visible_messages(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<u64> {
    use aws_sdk_sqs::types::QueueAttributeName;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await?
        .attributes
        .unwrap_or_default();
    let get = |name| {
        attributes
            .get(&name)
            .and_then(|v: &String| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(get(QueueAttributeName::ApproximateNumberOfMessages)
        + get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
}

/// A workspace binary, built by `cargo build --workspace --bins` (the test command does).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (`cargo build --workspace --bins`; the README's test command does)",
        path.display()
    );
    path
}

/// A child process killed when dropped.
pub struct Process {
    child: Child,
}

impl Process {
    /// Starts binary `name` with `env` on top of a clean environment.
    pub fn start(name: &str, args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Self> {
        let mut command = Command::new(binary(name));
        command.args(args).env_clear();
        if let Ok(path) = std::env::var("PATH") {
            command.env("PATH", path);
        }
        command.env(
            "RUST_LOG",
            std::env::var("TEST_CHILD_LOG").unwrap_or_else(|_| "warn".into()),
        );
        for (key, value) in env {
            command.env(key, value);
        }
        Self::spawn(command, name)
    }

    /// Spawns `command` in a process group of its own, so that killing it kills whatever it
    /// started too.
    pub fn spawn(mut command: Command, name: &str) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0);
        Ok(Self {
            child: command
                .spawn()
                .with_context(|| format!("starting {name}"))?,
        })
    }

    /// Kills the process and its group at once (SIGKILL): no cleanup of any kind runs.
    pub fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit on its own; fails unless it exits with success.
    pub fn wait_success(&mut self) -> anyhow::Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("process exited with {status}");
        }
        Ok(())
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!("process exited with {status}");
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
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

/// A plain HTTP client for talking to the API under test (on rustls with ring, as every client
/// of the workspace).
pub fn http_client() -> reqwest::Client {
    platform::tls::install_crypto_provider();
    reqwest::Client::new()
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

/// Deliveries grouped by status.
pub async fn delivery_statuses(db: &TestDb) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "select status, count(*) from webhook_deliveries group by status",
    )
    .fetch_all(&db.pool)
    .await
    .expect("statuses")
    .into_iter()
    .collect()
}

/// What a [`FaultyReceiver`] does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status.
    Status(u16),
    /// Say nothing for this long, then close.
    Hang(Duration),
    /// Reset the connection (RST) after reading the request.
    Reset,
}

/// A receiver speaking raw HTTP/1.1 over TCP, so it can misbehave in ways a framework would
/// not: hang past the client's timeout, or reset the connection.
#[derive(Clone)]
pub struct FaultyReceiver {
    /// Its base URL.
    pub url: String,
    received: Arc<Mutex<Vec<(Received, Fault)>>>,
}

impl FaultyReceiver {
    /// Starts a receiver answering the n-th request (0-based) as `behaviour` says.
    pub async fn start(behaviour: impl Fn(usize) -> Fault + Send + Sync + 'static) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let received: Arc<Mutex<Vec<(Received, Fault)>>> = Arc::default();
        let behaviour = Arc::new(behaviour);
        let log = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                let behaviour = Arc::clone(&behaviour);
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let (head_end, content_length) = loop {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
                            let length = head
                                .lines()
                                .filter_map(|l| l.split_once(':'))
                                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while buffer.len() < head_end + content_length {
                        let Ok(n) = stream.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                    let mut headers = HeaderMap::new();
                    for (name, value) in head.lines().skip(1).filter_map(|l| l.split_once(':')) {
                        if let (Ok(name), Ok(value)) = (
                            axum::http::HeaderName::from_bytes(name.trim().as_bytes()),
                            axum::http::HeaderValue::from_str(value.trim()),
                        ) {
                            headers.append(name, value);
                        }
                    }
                    let body = Bytes::copy_from_slice(&buffer[head_end..head_end + content_length]);
                    let fault = {
                        let mut log = log.lock().expect("lock");
                        let fault = behaviour(log.len());
                        log.push((Received { headers, body }, fault));
                        fault
                    };
                    match fault {
                        Fault::Status(status) => {
                            let response = format!(
                                "HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                            );
                            let _ = stream.write_all(response.as_bytes()).await;
                            let _ = stream.shutdown().await;
                        }
                        Fault::Hang(duration) => tokio::time::sleep(duration).await,
                        Fault::Reset => {
                            #[expect(
                                deprecated,
                                reason = "SO_LINGER 0 is how a test forces a reset"
                            )]
                            let _ = stream.set_linger(Some(Duration::ZERO));
                            drop(stream);
                        }
                    }
                });
            }
        });
        Self { url, received }
    }

    /// Every request received, with what it was answered.
    pub fn received(&self) -> Vec<(Received, Fault)> {
        self.received.lock().expect("lock").clone()
    }
}

/// A small deterministic random generator (xorshift64*), so fault runs can be replayed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (never zero).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A uniform number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1u64 << 53) as f64
    }
}

/// The SQS deployment on this machine: moto's queue (with DLQ), the API with `QUEUE=sqs`, and
/// `webhook-dispatch-worker`, as child processes on one test database.
pub struct SqsStack {
    /// The test database.
    pub db: TestDb,
    /// A client of the API.
    pub api: Api,
    /// The queue.
    pub queue: TestQueue,
    /// An SQS client on moto.
    pub sqs: aws_sdk_sqs::Client,
    /// The API process.
    pub api_process: Process,
    /// The worker process.
    pub worker: Process,
    /// The worker's environment, to restart it.
    pub worker_env: Vec<(&'static str, String)>,
}

impl SqsStack {
    /// Starts everything with `schedule`, extra environment for both processes, and a queue
    /// visibility timeout of `visibility_seconds`.
    pub async fn start(
        schedule: &str,
        visibility_seconds: u32,
        extra: &[(&'static str, &str)],
    ) -> Self {
        let sqs = sqs().await;
        let queue = create_queue(&sqs, visibility_seconds, 20)
            .await
            .expect("queue on moto");
        let db = TestDb::new().await;
        let port = free_port();
        let mut env = api_env(&db, port);
        env.retain(|(k, _)| *k != "WEBHOOK_RETRY_SCHEDULE");
        env.push(("WEBHOOK_RETRY_SCHEDULE", schedule.to_owned()));
        env.extend(aws_env());
        env.push(("SQS_QUEUE_URL", queue.url.clone()));
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let mut api_process_env = env.clone();
        api_process_env.push(("QUEUE", "sqs".into()));
        let base = format!("http://127.0.0.1:{port}");
        let api_process =
            Process::start("orders-api", &[], &api_process_env).expect("orders-api starts");
        let worker = Process::start("webhook-dispatch-worker", &[], &env).expect("worker starts");
        wait_ready(&base).await;
        let api = Api::for_operator(&db, base).await;
        Self {
            db,
            api,
            queue,
            sqs,
            api_process,
            worker,
            worker_env: env,
        }
    }

    /// Kills the worker (SIGKILL) and starts a new one.
    pub fn restart_worker(&mut self) {
        self.worker.kill();
        self.worker = Process::start("webhook-dispatch-worker", &[], &self.worker_env)
            .expect("worker restarts");
    }
}
