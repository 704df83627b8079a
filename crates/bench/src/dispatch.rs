//! P3: deliveries/s of one embedded dispatcher (delivery table as the queue, attempts logged
//! to MariaDB) to a local receiver answering 200, beside `wrk` POSTing an equally sized body to
//! the same receiver.

use std::str::FromStr;
use std::time::Instant;

use anyhow::Context;
use domain::ids::CustomerId;
use domain::order::NewOrder;
use e2e::order_body;
use orders_api::service::Service;
use sqlx::mysql::MySqlConnectOptions;

use crate::http_load::{CLIENTS, reference};
use crate::receiver::Receiver;
use crate::report::{Figure, series};
use crate::stats::Summary;
use crate::{ApiUnderTest, CpuSplit, Settings, statements};

/// Deliveries made pending before each timed dispatch run, unless `--deliveries` says otherwise.
pub const DELIVERIES: usize = 2_000;
/// Connections `wrk` keeps open: the embedded dispatcher's concurrency.
pub const WRK_CONNECTIONS: usize = delivery::embedded::CONCURRENCY;

/// Places `count` orders directly, each making one pending delivery.
pub(crate) async fn seed(
    service: &Service,
    customer: &CustomerId,
    count: usize,
) -> anyhow::Result<()> {
    let body = order_body("template");
    let template = NewOrder {
        reference: String::new(),
        origin: serde_json::from_value(body["origin"].clone())?,
        destination: serde_json::from_value(body["destination"].clone())?,
        parcels: serde_json::from_value(body["parcels"].clone())?,
        shipping: Default::default(),
    };
    let tasks = (0..CLIENTS).map(|client| {
        let (service, customer, mut new) = (service.clone(), customer.clone(), template.clone());
        tokio::spawn(async move {
            for _ in (client..count).step_by(CLIENTS) {
                new.reference = reference("p3");
                service
                    .place_order(customer.clone(), new.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("place_order: {e:?}"))?;
            }
            anyhow::Ok(())
        })
    });
    for result in futures::future::join_all(tasks).await {
        result??;
    }
    Ok(())
}

/// `wrk`'s requests/s POSTing `body_len` bytes to `url` for `seconds`.
pub async fn wrk_rate(url: &str, body_len: u64, seconds: u64) -> anyhow::Result<f64> {
    let script = std::env::temp_dir().join(format!("bench-post-{body_len}.lua"));
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = string.rep(\"x\", {body_len})\n"
        ),
    )?;
    let output = tokio::process::Command::new("wrk")
        .args([
            "-t1",
            &format!("-c{WRK_CONNECTIONS}"),
            &format!("-d{seconds}s"),
        ])
        .arg("-s")
        .arg(&script)
        .arg(url)
        .output()
        .await
        .context("running wrk (scripts/bench installs it)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output: {text}"))
}

/// Runs P3.
pub async fn run(settings: &Settings) -> anyhow::Result<Figure> {
    let receiver = Receiver::start().await?;
    // The API only registers the customer and its endpoint (sealing the secret), then stops:
    // the dispatcher under test is the only consumer of the delivery table.
    let mut under_test = ApiUnderTest::start(settings, &[]).await?;
    let (customer_id, key) = under_test.api.customer("bench").await;
    under_test.api.endpoint(&key, &receiver.url, None).await;
    under_test.process.kill();
    let customer = CustomerId::parse(&customer_id).context("customer id")?;
    let pool = platform::database::pool(MySqlConnectOptions::from_str(&under_test.db.url)?, 16);
    let dispatcher = crate::dispatcher(&under_test.db, pool.clone())?;
    // Deliveries written as in memory mode; nothing listens to the wake-ups, since the
    // dispatcher below claims due rows itself.
    let handoff = delivery::outbox::Handoff::dispatcher(std::sync::Arc::default());
    let service = crate::service(&under_test.db, pool.clone(), handoff)?;

    let (mut rates, mut ceilings, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut cpu = Vec::new();
    for _ in 0..settings.runs {
        seed(&service, &customer, settings.deliveries).await?;
        eprintln!("bench: P3 draining {} deliveries", settings.deliveries);
        let before = receiver.count();
        let (c0, q0) = (CpuSplit::now(None), statements(&pool).await?);
        let start = Instant::now();
        while delivery::embedded::dispatch_due_once(&dispatcher).await? > 0 {}
        let rate = (receiver.count() - before) as f64 / start.elapsed().as_secs_f64();
        let (c1, q1) = (CpuSplit::now(None), statements(&pool).await?);
        eprintln!("bench: P3 drained");
        let delivered = (receiver.count() - before) as f64;
        cpu.push(format!(
            "{}, {:.2} statements",
            c1.per_op_since(&c0, delivered).replace("api 0.00 / ", ""),
            (q1 - q0) as f64 / delivered
        ));
        anyhow::ensure!(
            receiver.count() - before >= settings.deliveries as u64,
            "not every delivery arrived"
        );
        let ceiling = wrk_rate(
            &receiver.url,
            receiver.last_body_len(),
            settings.run_length.as_secs().max(1),
        )
        .await?;
        rates.push(rate);
        ceilings.push(ceiling);
        ratios.push(rate / ceiling);
    }
    let body_len = receiver.last_body_len();
    pool.close().await;
    under_test.finish().await;
    let ratio = Summary::of(&ratios);
    Ok(Figure {
        id: "P3",
        what: "deliveries/s of one embedded dispatcher".into(),
        value: Summary::of(&rates),
        ceiling: Some((
            format!("wrk POSTs/s ({body_len} B body, {WRK_CONNECTIONS} connections)"),
            Summary::of(&ceilings),
        )),
        ratio: Some(ratio),
        budget: "≥ 0.5×",
        met: ratio.median >= 0.5,
        notes: format!(
            "{} pending deliveries drained per run by `dispatch_due_once` (the embedded loop's window: up to {} attempts in flight, refilled {} at a time while deliveries are backed up; every attempt recorded in MariaDB); dispatcher {}; wrk {}; ratios {}. CPU ms and MariaDB statements per delivery (mariadbd / bench process = dispatcher + receiver), per run: {}",
            settings.deliveries,
            delivery::embedded::CONCURRENCY,
            delivery::embedded::REFILL,
            series(&rates),
            series(&ceilings),
            series(&ratios),
            cpu.join("; ")
        ),
    })
}
