//! P8 and P9: delivery under saturation in the embedded mode.
//!
//! [`CLIENTS`] clients in a closed loop (each sends its next request as soon as the last one
//! answered) each place an order and walk it through the lifecycle, until [`EVENTS`] status
//! changes have been accepted; one endpoint is subscribed, so every change is one webhook to a
//! receiver in this process. P8 compares the rate the webhooks arrive at with the rate the API
//! accepted the changes at; P9 is the latency from each change's HTTP response to its
//! webhook's arrival. Both clocks are this process's monotonic clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::LIFECYCLE;

use crate::http_load::{change, place};
use crate::latency::ms_between;
use crate::receiver::Receiver;
use crate::report::{Figure, series};
use crate::stats::{Summary, median, percentile};
use crate::{ApiUnderTest, CpuSplit, Settings};

/// Concurrent clients.
pub const CLIENTS: usize = 32;
/// Status changes accepted per run (order creations included).
pub const EVENTS: usize = 5_000;
/// The longest a run waits for its last webhook after the last change was accepted.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);

/// One accepted change: the order, the change's sequence and when the API answered.
type Accepted = (String, u64, Instant);

/// One client: orders walked through the lifecycle until `budget` changes have been claimed.
async fn client(
    api: e2e::Api,
    key: String,
    budget: Arc<AtomicUsize>,
) -> anyhow::Result<Vec<Accepted>> {
    let steps = LIFECYCLE.len() + 1;
    let mut accepted = Vec::with_capacity(EVENTS / CLIENTS + steps);
    while budget.fetch_add(steps, Ordering::Relaxed) < EVENTS {
        let order = place(&api, &key, "p8").await?;
        let id = order["id"].as_str().unwrap_or_default().to_owned();
        accepted.push((
            id.clone(),
            order["sequence"].as_u64().unwrap_or_default(),
            Instant::now(),
        ));
        for status in LIFECYCLE {
            let body = change(&api, &id, status).await?;
            accepted.push((
                id.clone(),
                body["sequence"].as_u64().unwrap_or_default(),
                Instant::now(),
            ));
        }
    }
    Ok(accepted)
}

/// One run's measurements.
struct Run {
    accepted_per_s: f64,
    delivered_per_s: f64,
    latencies_ms: Vec<f64>,
    cpu: String,
}

async fn one_run(under_test: &ApiUnderTest, key: &str, receiver: &Receiver) -> anyhow::Result<Run> {
    receiver.take_arrivals();
    receiver.record(true);
    let budget = Arc::new(AtomicUsize::new(0));
    let cpu_before = CpuSplit::now(Some(under_test.process.id()));
    let start = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let api = e2e::Api {
                base: under_test.api.base.clone(),
                operator_key: under_test.api.operator_key.clone(),
                http: under_test.api.http.clone(),
            };
            tokio::spawn(client(api, key.to_owned(), Arc::clone(&budget)))
        })
        .collect();
    let mut accepted = Vec::new();
    for result in futures::future::join_all(clients).await {
        accepted.extend(result??);
    }
    let last_accepted = accepted.iter().map(|(.., at)| *at).max().unwrap_or(start);
    let deadline = Instant::now() + DRAIN_LIMIT;
    while receiver.arrivals_len() < accepted.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    receiver.record(false);
    let arrivals = receiver.take_arrivals();
    anyhow::ensure!(
        arrivals.len() >= accepted.len(),
        "{} of {} webhooks arrived within {DRAIN_LIMIT:?} of the last change",
        arrivals.len(),
        accepted.len()
    );
    let cpu = CpuSplit::now(Some(under_test.process.id()));
    let first_arrival = arrivals.values().min().copied().unwrap_or(start);
    let last_arrival = arrivals.values().max().copied().unwrap_or(start);
    let mut latencies_ms = Vec::with_capacity(accepted.len());
    for (order, sequence, answered) in &accepted {
        let arrived = arrivals
            .get(&(order.clone(), *sequence))
            .ok_or_else(|| anyhow::anyhow!("no webhook for {order} #{sequence}"))?;
        latencies_ms.push(ms_between(*answered, *arrived));
    }
    #[expect(
        clippy::cast_precision_loss,
        reason = "event counts are far below 2^52"
    )]
    let events = accepted.len() as f64;
    Ok(Run {
        accepted_per_s: events / last_accepted.duration_since(start).as_secs_f64(),
        delivered_per_s: events / last_arrival.duration_since(first_arrival).as_secs_f64(),
        latencies_ms,
        cpu: format!("{} ms CPU per event", cpu.per_op_since(&cpu_before, events)),
    })
}

/// Runs P8 and P9.
pub async fn run(settings: &Settings) -> anyhow::Result<(Figure, Figure)> {
    let receiver = Receiver::start().await?;
    let under_test = ApiUnderTest::start(settings, &[]).await?;
    let (_, key) = under_test.api.customer("bench").await;
    under_test.api.endpoint(&key, &receiver.url, None).await;
    let mut runs = Vec::with_capacity(settings.runs);
    for _ in 0..settings.runs {
        runs.push(one_run(&under_test, &key, &receiver).await?);
        crate::drain(&under_test.db.pool).await;
    }
    under_test.finish().await;

    let accepted: Vec<f64> = runs.iter().map(|r| r.accepted_per_s).collect();
    let delivered: Vec<f64> = runs.iter().map(|r| r.delivered_per_s).collect();
    let ratios: Vec<f64> = runs
        .iter()
        .map(|r| r.delivered_per_s / r.accepted_per_s)
        .collect();
    let ratio = Summary::of(&ratios);
    let cpu: Vec<&str> = runs.iter().map(|r| r.cpu.as_str()).collect();
    let p8 = Figure {
        id: "P8",
        what: format!(
            "webhooks delivered/s under saturation ({CLIENTS} clients, closed loop, embedded)"
        ),
        value: Summary::of(&delivered),
        ceiling: Some((
            "status changes accepted/s in the same run".into(),
            Summary::of(&accepted),
        )),
        ratio: Some(ratio),
        budget: "≥ 0.95×",
        met: ratio.median >= 0.95,
        notes: format!(
            "{EVENTS} changes per run (each client places an order and walks it through the lifecycle); accepted/s from the first request to the last response, delivered/s from the first arrival to the last; accepted {}; delivered {}; ratios {}; per run (orders-api / mariadbd / bench, which is the load generator and the receiver): {}",
            series(&accepted),
            series(&delivered),
            series(&ratios),
            cpu.join("; ")
        ),
    };
    let latencies: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.latencies_ms.iter().copied())
        .collect();
    let run_p50: Vec<f64> = runs.iter().map(|r| median(&r.latencies_ms)).collect();
    let run_p99: Vec<f64> = runs
        .iter()
        .map(|r| percentile(&r.latencies_ms, 99.0))
        .collect();
    let value = Summary::of(&latencies);
    let p9 = Figure {
        id: "P9",
        what: "API response → webhook arrival under P8's saturation, ms".into(),
        value,
        ceiling: None,
        ratio: None,
        budget: "p99 ≤ 50 ms",
        met: value.p99 <= 50.0,
        notes: format!(
            "every change of P8's runs, from the client receiving the response to the receiver's arrival; per-run p50 {}; per-run p99 {}",
            series(&run_p50),
            series(&run_p99)
        ),
    };
    Ok((p8, p9))
}
