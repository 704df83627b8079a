//! A webhook receiver that answers 200 at once, counting requests and, when asked, recording
//! the arrival time of each `(order id, sequence)` it is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;

/// Arrival times keyed by `(order id, sequence)`.
pub type Arrivals = HashMap<(String, u64), Instant>;

#[derive(Default)]
struct Inner {
    count: AtomicU64,
    record: AtomicBool,
    last: Mutex<Option<Instant>>,
    arrivals: Mutex<Arrivals>,
    body_len: AtomicU64,
}

/// A running receiver on `127.0.0.1:0`.
#[derive(Clone)]
pub struct Receiver {
    /// Its URL.
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts the receiver in this process.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let inner = Arc::new(Inner::default());
        let state = Arc::clone(&inner);
        let app = axum::Router::new().fallback(move |body: Bytes| {
            let state = Arc::clone(&state);
            async move {
                let now = Instant::now();
                state.count.fetch_add(1, Ordering::Relaxed);
                state.body_len.store(body.len() as u64, Ordering::Relaxed);
                if state.record.load(Ordering::Relaxed) {
                    if let Ok(mut last) = state.last.lock() {
                        *last = Some(now);
                    }
                    if let Some(key) = order_key(&body)
                        && let Ok(mut arrivals) = state.arrivals.lock()
                    {
                        arrivals.entry(key).or_insert(now);
                    }
                }
                "ok"
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { url, inner })
    }

    /// Requests received so far.
    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::Relaxed)
    }

    /// Length of the last body received.
    pub fn last_body_len(&self) -> u64 {
        self.inner.body_len.load(Ordering::Relaxed)
    }

    /// Starts or stops recording arrivals (off by default: counting only).
    pub fn record(&self, on: bool) {
        self.inner.record.store(on, Ordering::Relaxed);
    }

    /// When the last recorded request arrived.
    pub fn last_arrival(&self) -> Option<Instant> {
        self.inner.last.lock().ok().and_then(|l| *l)
    }

    /// Takes the arrivals recorded so far.
    pub fn take_arrivals(&self) -> Arrivals {
        self.inner
            .arrivals
            .lock()
            .map(|mut a| std::mem::take(&mut *a))
            .unwrap_or_default()
    }

    /// How many arrivals are recorded.
    pub fn arrivals_len(&self) -> usize {
        self.inner.arrivals.lock().map(|a| a.len()).unwrap_or(0)
    }
}

/// `(data.order.id, data.order.sequence)` of a webhook body.
fn order_key(body: &[u8]) -> Option<(String, u64)> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let order = value.get("data")?.get("order")?;
    Some((
        order.get("id")?.as_str()?.to_owned(),
        order.get("sequence")?.as_u64()?,
    ))
}
