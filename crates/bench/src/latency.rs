//! P4 and P10: latency from a status change to its webhook in the embedded mode at a steady
//! rate: P4 at 100 changes/s, P10 at 250 (with the CPU each change costs).
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
use crate::{ApiUnderTest, CpuSplit, Settings};

/// P4's status changes per second.
pub const RATE: u64 = 100;
/// P4's orders per run; each goes through the 5 steps of the lifecycle, one per second.
pub const ORDERS: usize = 100;
/// P10's status changes per second.
pub const FIXED_RATE: u64 = 250;

/// What the runs at one rate measured.
struct Measured {
    /// API response → arrival, ms, every change.
    after_response: Vec<f64>,
    /// Request sent → arrival, ms, every change.
    after_request: Vec<f64>,
    /// HTTP response time, ms, every change.
    responses: Vec<f64>,
    /// Per-run p50 and p99 of `after_response`.
    run_p50: Vec<f64>,
    run_p99: Vec<f64>,
    /// CPU ms per change of the API and MariaDB together, per run.
    cpu_per_change: Vec<f64>,
    /// The same, split, per run.
    cpu: Vec<String>,
}

/// Signed milliseconds from `from` to `to`: a webhook may arrive before the client has read
/// the response.
pub fn ms_between(from: Instant, to: Instant) -> f64 {
    if to >= from {
        to.duration_since(from).as_secs_f64() * 1e3
    } else {
        -(from.duration_since(to).as_secs_f64() * 1e3)
    }
}

/// `settings.runs` runs of `orders` orders each walked through the lifecycle at `rate`
/// changes/s in an open loop (a change is sent on its tick whether or not earlier ones have
/// been answered).
async fn measure(
    settings: &Settings,
    rate: u64,
    orders_per_run: usize,
) -> anyhow::Result<Measured> {
    let receiver = Receiver::start().await?;
    let under_test = ApiUnderTest::start(settings, &[]).await?;
    let api = &under_test.api;
    let (_, key) = api.customer("bench").await;
    api.endpoint(&key, &receiver.url, None).await;

    let mut measured = Measured {
        after_response: Vec::new(),
        after_request: Vec::new(),
        responses: Vec::new(),
        run_p50: Vec::new(),
        run_p99: Vec::new(),
        cpu_per_change: Vec::new(),
        cpu: Vec::new(),
    };
    for _ in 0..settings.runs {
        let mut orders = Vec::with_capacity(orders_per_run);
        for _ in 0..orders_per_run {
            orders.push(create_order(api, &key, "p4").await?);
        }
        // Let the order.created deliveries drain before recording.
        let target = receiver.count() + orders_per_run as u64;
        let deadline = Instant::now() + Duration::from_secs(10);
        while receiver.count() < target && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        receiver.take_arrivals();
        receiver.record(true);

        let cpu_before = CpuSplit::now(Some(under_test.process.id()));
        let mut ticker = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut tasks = Vec::new();
        for k in 0..orders_per_run * LIFECYCLE.len() {
            ticker.tick().await;
            let (order, status) = (
                orders[k % orders_per_run].clone(),
                LIFECYCLE[k / orders_per_run],
            );
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
        let cpu_after = CpuSplit::now(Some(under_test.process.id()));
        #[expect(
            clippy::cast_precision_loss,
            reason = "change counts are far below 2^52"
        )]
        let count = changes.len() as f64;
        measured.cpu_per_change.push(
            ((cpu_after.api - cpu_before.api) + (cpu_after.db - cpu_before.db)) * 1e3 / count,
        );
        measured
            .cpu
            .push(cpu_after.per_op_since(&cpu_before, count));
        let arrivals = receiver.take_arrivals();
        let mut run = Vec::new();
        for (order, sequence, sent, answered) in changes {
            measured.responses.push(ms_between(sent, answered));
            let arrived = *arrivals
                .get(&(order, sequence))
                .ok_or_else(|| anyhow::anyhow!("a delivery did not arrive within 15 s"))?;
            measured.after_request.push(ms_between(sent, arrived));
            run.push(ms_between(answered, arrived));
        }
        measured.run_p50.push(median(&run));
        measured.run_p99.push(percentile(&run, 99.0));
        measured.after_response.extend(run);
    }
    under_test.finish().await;
    Ok(measured)
}

/// Runs P4.
pub async fn run(settings: &Settings) -> anyhow::Result<Figure> {
    let measured = measure(settings, RATE, ORDERS).await?;
    let value = Summary::of(&measured.after_response);
    Ok(Figure {
        id: "P4",
        what: format!("commit → receiver latency at {RATE} changes/s (embedded), ms"),
        value,
        ceiling: Some((
            "for comparison: HTTP response time of the change, ms".into(),
            Summary::of(&measured.responses),
        )),
        ratio: None,
        budget: "p50 ≤ 10 ms, p99 ≤ 50 ms",
        met: value.median <= 10.0 && value.p99 <= 50.0,
        notes: format!(
            "{} changes per run, measured from the client receiving the 200 (the commit precedes it) to the receiver's arrival; per-run p50 {}; per-run p99 {}",
            ORDERS * LIFECYCLE.len(),
            series(&measured.run_p50),
            series(&measured.run_p99)
        ),
    })
}

/// Runs P10: [`FIXED_RATE`] changes/s in an open loop, one second per lifecycle step.
pub async fn run_fixed(settings: &Settings) -> anyhow::Result<Vec<Figure>> {
    let orders = usize::try_from(FIXED_RATE).unwrap_or(usize::MAX);
    let measured = measure(settings, FIXED_RATE, orders).await?;
    let sent = Summary::of(&measured.after_request);
    let answered = Summary::of(&measured.after_response);
    let cpu = Summary::of(&measured.cpu_per_change);
    let per_run = format!(
        "{} changes per run in an open loop; per-run p50 after the response {}; per-run p99 {}; CPU per change (orders-api / mariadbd / bench, which is the load generator and the receiver) per run: {}",
        orders * LIFECYCLE.len(),
        series(&measured.run_p50),
        series(&measured.run_p99),
        measured.cpu.join("; ")
    );
    Ok(vec![
        Figure {
            id: "P10",
            what: format!("request sent → webhook arrival at {FIXED_RATE} changes/s, ms"),
            value: sent,
            ceiling: Some((
                "for comparison: HTTP response time of the change, ms".into(),
                Summary::of(&measured.responses),
            )),
            ratio: None,
            budget: "p50 ≤ 2 ms, p99 ≤ 6 ms",
            met: sent.median <= 2.0 && sent.p99 <= 6.0,
            notes: per_run,
        },
        Figure {
            id: "P10",
            what: format!("API response → webhook arrival at {FIXED_RATE} changes/s, ms"),
            value: answered,
            ceiling: None,
            ratio: None,
            budget: "p50 ≤ 0.5 ms",
            met: answered.median <= 0.5,
            notes: "the same changes, from the client receiving the response".into(),
        },
        Figure {
            id: "P10",
            what: format!("CPU per change at {FIXED_RATE} changes/s, orders-api + mariadbd, ms"),
            value: cpu,
            ceiling: None,
            ratio: None,
            budget: "≤ 2.5 ms",
            met: cpu.median <= 2.5,
            notes: "the same runs (each split by process in the first P10 line)".into(),
        },
    ])
}
