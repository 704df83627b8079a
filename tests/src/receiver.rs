//! A customer's webhook receiver for the tests: a real HTTP server on `127.0.0.1:0` that records
//! every request ([`Received`]) and answers as the test says ([`Reply`]).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use domain::signing::{self, SigningSecret};
use serde_json::Value;

use crate::poll::eventually;

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
                    // A slow receiver is what the test asked for (`Reply::delay`, zero unless
                    // set): the fixed time is the behaviour under test, e.g. past a timeout.
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
