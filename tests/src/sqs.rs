//! moto's SQS for the tests that run the SQS deployment: the endpoint and a client, uniquely
//! named queues with their dead-letter queues, [`SqsStack`], the API and the worker as child
//! processes on one queue, and [`SendCounter`], which counts the messages sent to the queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use crate::app::{api_env, wait_ready};
use crate::client::Api;
use crate::db::TestDb;
use crate::poll::eventually;
use crate::process::{Process, free_port};

/// moto's SQS endpoint (`MOTO_ENDPOINT`, started by the README's test command).
pub fn moto_endpoint() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("MOTO_ENDPOINT is not set: run the suite through the README's test command (scripts/test), which starts moto_server")
    })
}

/// Environment of a process talking to moto.
pub fn aws_env() -> Vec<(&'static str, String)> {
    aws_env_at(&moto_endpoint())
}

/// Environment of a process talking to the SQS endpoint `endpoint`.
fn aws_env_at(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

/// An SQS client on moto.
pub async fn sqs() -> aws_sdk_sqs::Client {
    sqs_at(&moto_endpoint()).await
}

/// An SQS client on the endpoint `endpoint`.
async fn sqs_at(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(platform::tls::aws_http_client())
        .endpoint_url(endpoint)
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
    /// The worker process, unless the test starts it later.
    pub worker: Option<Process>,
    /// The worker's environment, to restart it.
    pub worker_env: Vec<(&'static str, String)>,
    /// The API's environment, to restart it.
    pub api_env: Vec<(&'static str, String)>,
}

impl SqsStack {
    /// Starts everything with `schedule`, extra environment for both processes, and a queue
    /// visibility timeout of `visibility_seconds`.
    pub async fn start(
        schedule: &str,
        visibility_seconds: u32,
        extra: &[(&'static str, &str)],
    ) -> Self {
        let mut stack = Self::start_without_worker(schedule, visibility_seconds, extra).await;
        stack.restart_worker();
        stack
    }

    /// [`SqsStack::start`] without the worker, for a test that lets messages wait in the queue
    /// first ([`SqsStack::restart_worker`] starts it). A worker killed instead would leave its
    /// long polls open in the queue, and they would take the next messages with them.
    pub async fn start_without_worker(
        schedule: &str,
        visibility_seconds: u32,
        extra: &[(&'static str, &str)],
    ) -> Self {
        Self::start_on(&moto_endpoint(), schedule, visibility_seconds, extra).await
    }

    /// [`SqsStack::start_without_worker`] on the SQS endpoint `endpoint` (a [`Moto`] of the
    /// test's own).
    pub async fn start_on(
        endpoint: &str,
        schedule: &str,
        visibility_seconds: u32,
        extra: &[(&'static str, &str)],
    ) -> Self {
        let sqs = sqs_at(endpoint).await;
        let queue = create_queue(&sqs, visibility_seconds, 20)
            .await
            .expect("queue on moto");
        let db = TestDb::new().await;
        let port = free_port();
        let mut env = api_env(&db, port);
        env.retain(|(k, _)| *k != "WEBHOOK_RETRY_SCHEDULE");
        env.push(("WEBHOOK_RETRY_SCHEDULE", schedule.to_owned()));
        env.extend(aws_env_at(endpoint));
        env.push(("SQS_QUEUE_URL", queue.url.clone()));
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let mut api_process_env = env.clone();
        api_process_env.push(("QUEUE", "sqs".into()));
        let base = format!("http://127.0.0.1:{port}");
        let api_process =
            Process::start("orders-api", &[], &api_process_env).expect("orders-api starts");
        wait_ready(&base).await;
        let api = Api::for_operator(&db, base).await;
        Self {
            db,
            api,
            queue,
            sqs,
            api_process,
            worker: None,
            worker_env: env,
            api_env: api_process_env,
        }
    }

    /// Ends a test that passed: kills both processes, then drops the database.
    pub async fn stop(self) {
        let Self {
            db,
            mut api_process,
            worker,
            ..
        } = self;
        if let Some(mut worker) = worker {
            worker.kill();
        }
        api_process.kill();
        db.drop_database().await;
    }

    /// Kills the API (SIGKILL) and starts a new one on the same address.
    pub async fn restart_api(&mut self) {
        self.api_process.kill();
        self.api_process =
            Process::start("orders-api", &[], &self.api_env).expect("orders-api restarts");
        wait_ready(&self.api.base).await;
    }

    /// Kills the worker, if one runs (SIGKILL), and starts a new one.
    pub fn restart_worker(&mut self) {
        if let Some(worker) = self.worker.as_mut() {
            worker.kill();
        }
        self.worker = Some(
            Process::start("webhook-dispatch-worker", &[], &self.worker_env)
                .expect("worker starts"),
        );
    }
}

/// A transparent proxy in front of moto that counts the messages sent to SQS through it:
/// `SendMessage`, and each entry `SendMessageBatch` reports successful. SQS publishes that figure
/// as CloudWatch's `NumberOfMessagesSent`; moto keeps no such count, and a process's own
/// counters die with it when a test kills it.
pub struct SendCounter {
    /// The endpoint to give a process instead of moto's (`AWS_ENDPOINT_URL`).
    pub url: String,
    sent: Arc<AtomicU64>,
}

impl SendCounter {
    /// Starts the proxy on `127.0.0.1:0`, in front of the SQS endpoint `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SQS proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let sent = Arc::new(AtomicU64::new(0));
        let state = Proxy {
            upstream: upstream.to_owned(),
            client: crate::client::http_client(),
            sent: Arc::clone(&sent),
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, sent }
    }

    /// Messages sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    client: reqwest::Client,
    sent: Arc<AtomicU64>,
}

async fn forward(
    State(proxy): State<Proxy>,
    request: axum::extract::Request,
) -> Result<axum::response::Response, StatusCode> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|_| StatusCode::BAD_REQUEST)?;
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    headers.remove(axum::http::header::HOST);
    let upstream = proxy
        .client
        .request(parts.method, format!("{}{path}", proxy.upstream))
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let bytes = upstream
        .bytes()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    if status.is_success() {
        let sent = match target.as_str() {
            "AmazonSQS.SendMessage" => 1,
            "AmazonSQS.SendMessageBatch" => serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|reply| Some(reply.get("Successful")?.as_array()?.len() as u64))
                .unwrap_or(0),
            _ => 0,
        };
        proxy.sent.fetch_add(sent, Ordering::SeqCst);
    }
    let mut response = axum::response::Response::new(axum::body::Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// A moto server of the test's own (`moto_server` from `PATH`, where the README's test command
/// installs it), for a test whose load would slow every other test sharing the suite's; killed
/// when dropped.
pub struct Moto {
    /// Its endpoint.
    pub endpoint: String,
    /// Killed when dropped.
    _process: Process,
}

impl Moto {
    /// Starts it on a free port and waits until it answers.
    pub async fn start() -> Self {
        let port = free_port();
        let mut command = std::process::Command::new("moto_server");
        command
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stderr(std::process::Stdio::null());
        let process = Process::spawn(command, "moto_server").expect("moto_server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let client = crate::client::http_client();
        eventually(Duration::from_secs(30), "moto_server answers", || async {
            let response = client.get(format!("{endpoint}/moto-api/")).send().await;
            response.ok()?.status().is_success().then_some(())
        })
        .await;
        Self {
            endpoint,
            _process: process,
        }
    }
}
