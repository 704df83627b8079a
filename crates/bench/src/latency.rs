//! P4: commit → receiver latency in the embedded mode at a steady 100 status changes/s.
//!
//! The receiver runs in this process and records when each `(order, sequence)` arrives; the
//! load generator records when the status change's HTTP response came back (the commit
//! happened before it). Both use this process's monotonic clock.

use std::time::{Duration, Instant};

use e2e::LIFECYCLE;
use tokio::time::MissedTickBehavior;

use crate::http_load::{change, create_order};
use crate::receiver::Receiver;
use crate::report::{Figure, series};
use crate::stats::{Summary, median, percentile};
use crate::{ApiUnderTest, Settings};

/// Status changes per second.
pub const RATE: u64 = 100;
/// Orders per run; each goes through the 5 steps of the lifecycle, one per second.
pub const ORDERS: usize = 100;

/// Runs P4.
pub async fn run(settings: &Settings) -> anyhow::Result<Figure> {
    let receiver = Receiver::start().await?;
    let under_test = ApiUnderTest::start(settings, &[]).await?;
    let api = &under_test.api;
    let (_, key) = api.customer("bench").await;
    api.endpoint(&key, &receiver.url, None).await;

    let (mut latencies, mut responses) = (Vec::new(), Vec::new());
    let (mut run_p50, mut run_p99) = (Vec::new(), Vec::new());
    for _ in 0..settings.runs {
        let mut orders = Vec::with_capacity(ORDERS);
        for _ in 0..ORDERS {
            orders.push(create_order(api, &key, "p4").await?);
        }
        // Let the order.created deliveries drain before recording.
        let target = receiver.count() + ORDERS as u64;
        let deadline = Instant::now() + Duration::from_secs(10);
        while receiver.count() < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        receiver.take_arrivals();
        receiver.record(true);

        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut tasks = Vec::new();
        for k in 0..ORDERS * LIFECYCLE.len() {
            ticker.tick().await;
            let (order, status) = (orders[k % ORDERS].clone(), LIFECYCLE[k / ORDERS]);
            let api = e2e::Api {
                base: api.base.clone(),
                operator_key: api.operator_key.clone(),
                http: api.http.clone(),
            };
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let body = change(&api, &order, status).await?;
                let answered = Instant::now();
                let sequence = body["sequence"].as_u64().unwrap_or_default();
                anyhow::Ok((order, sequence, sent, answered))
            }));
        }
        let mut changes = Vec::new();
        for task in tasks {
            changes.push(task.await??);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        while receiver.arrivals_len() < changes.len() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        receiver.record(false);
        let arrivals = receiver.take_arrivals();
        let mut run = Vec::new();
        for (order, sequence, sent, answered) in changes {
            responses.push(answered.duration_since(sent).as_secs_f64() * 1e3);
            let arrived = arrivals
                .get(&(order, sequence))
                .ok_or_else(|| anyhow::anyhow!("a delivery did not arrive within 15 s"))?;
            // Signed: a delivery may arrive before the client has read the response.
            let ms = if *arrived >= answered {
                arrived.duration_since(answered).as_secs_f64() * 1e3
            } else {
                -(answered.duration_since(*arrived).as_secs_f64() * 1e3)
            };
            run.push(ms);
        }
        run_p50.push(median(&run));
        run_p99.push(percentile(&run, 99.0));
        latencies.extend(run);
    }
    under_test.finish().await;
    let value = Summary::of(&latencies);
    Ok(Figure {
        id: "P4",
        what: format!("commit → receiver latency at {RATE} changes/s (embedded), ms"),
        value,
        ceiling: Some((
            "for comparison: HTTP response time of the change, ms".into(),
            Summary::of(&responses),
        )),
        ratio: None,
        budget: "p50 ≤ 10 ms, p99 ≤ 50 ms",
        met: value.median <= 10.0 && value.p99 <= 50.0,
        notes: format!(
            "{} changes per run, measured from the client receiving the 200 (the commit precedes it) to the receiver's arrival; per-run p50 {}; per-run p99 {}",
            ORDERS * LIFECYCLE.len(),
            series(&run_p50),
            series(&run_p99)
        ),
    })
}
