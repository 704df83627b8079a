//! P2 (status changes/s through HTTP vs the same transactions through sqlx) and P7 (the API's
//! resident memory idle and under that load).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use delivery::outbox::{Handoff, Inbox};
use domain::ids::{CustomerId, OrderId};
use domain::order::{NewOrder, OrderStatus};
use e2e::{Api, LIFECYCLE, order_body, str_field};
use orders_api::db::Scope;
use orders_api::service::{ChangeRequest, Service};
use sqlx::MySqlPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::receiver::Receiver;
use crate::report::{Figure, series};
use crate::stats::{Summary, median};
use crate::{ApiUnderTest, CpuSplit, Settings, drain, rss_kib, statements};

/// Concurrent clients of P2.
pub const CLIENTS: usize = 16;

/// A unique order reference.
pub fn reference(tag: &str) -> String {
    format!(
        "{tag}-{}",
        ulid::Ulid::generate().to_string().to_ascii_lowercase()
    )
}

/// Places an order over HTTP with `key`; returns its id.
pub async fn create_order(api: &Api, key: &str, tag: &str) -> anyhow::Result<String> {
    Ok(str_field(&place(api, key, tag).await?, "id"))
}

/// Places an order over HTTP with `key`; returns the order as the API answered it.
pub async fn place(api: &Api, key: &str, tag: &str) -> anyhow::Result<serde_json::Value> {
    let response = api
        .http
        .post(format!("{}/v1/orders", api.base))
        .bearer_auth(key)
        .json(&order_body(&reference(tag)))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().as_u16() == 201,
        "order creation answered {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// Moves an order to `status` over HTTP; returns the response body.
pub async fn change(api: &Api, order_id: &str, status: &str) -> anyhow::Result<serde_json::Value> {
    let response = api
        .http
        .post(format!("{}/v1/orders/{order_id}/status", api.base))
        .bearer_auth(&api.operator_key)
        .header("content-type", "application/json")
        .body(format!(r#"{{"status":"{status}"}}"#))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().as_u16() == 200,
        "status change answered {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// Status changes per second of `CLIENTS` HTTP clients for `length`.
pub async fn http_rate(api: &Api, key: &str, length: Duration) -> anyhow::Result<f64> {
    let start = Instant::now();
    let deadline = start + length;
    let clients = (0..CLIENTS).map(|_| {
        let (api, key) = (api.clone_client(), key.to_owned());
        tokio::spawn(async move {
            let mut changes = 0u64;
            while Instant::now() < deadline {
                let id = create_order(&api, &key, "p2").await?;
                for status in LIFECYCLE {
                    if Instant::now() >= deadline {
                        break;
                    }
                    change(&api, &id, status).await?;
                    changes += 1;
                }
            }
            anyhow::Ok(changes)
        })
    });
    let mut total = 0;
    for result in futures::future::join_all(clients).await {
        total += result??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Status changes per second of `CLIENTS` tasks calling the service layer directly, which hands
/// each commit's deliveries to the embedded dispatcher as it does for the API's handlers.
pub async fn direct_rate(
    service: &Service,
    customer: &CustomerId,
    length: Duration,
) -> anyhow::Result<f64> {
    let body = order_body("template");
    let template = NewOrder {
        reference: String::new(),
        origin: serde_json::from_value(body["origin"].clone())?,
        destination: serde_json::from_value(body["destination"].clone())?,
        parcels: serde_json::from_value(body["parcels"].clone())?,
        shipping: Default::default(),
    };
    let statuses: Vec<OrderStatus> = LIFECYCLE
        .iter()
        .map(|s| serde_json::from_value(serde_json::Value::String((*s).into())))
        .collect::<Result<_, _>>()?;
    let start = Instant::now();
    let deadline = start + length;
    let clients = (0..CLIENTS).map(|_| {
        let (service, customer, statuses) = (service.clone(), customer.clone(), statuses.clone());
        let mut new = template.clone();
        tokio::spawn(async move {
            let mut changes = 0u64;
            while Instant::now() < deadline {
                new.reference = reference("p2d");
                let order = service
                    .place_order(customer.clone(), new.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("place_order: {e:?}"))?;
                let id: OrderId = order.id;
                for to in &statuses {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let request = ChangeRequest {
                        to: *to,
                        detail: None,
                        location: None,
                    };
                    service
                        .change_status(&Scope::All, &id, request)
                        .await
                        .map_err(|e| anyhow::anyhow!("change_status: {e:?}"))?;
                    changes += 1;
                }
            }
            anyhow::Ok(changes)
        })
    });
    let mut total = 0;
    for result in futures::future::join_all(clients).await {
        total += result??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// What the API runs beside its handlers in the memory-queue mode, run in this process for the
/// direct runs: the embedded dispatcher, handed each commit's deliveries as the API's is. With it the direct runs write
/// and deliver exactly what the HTTP runs do, at the same moments, and differ from them only by
/// the HTTP layer.
struct Pipeline {
    service: Service,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Pipeline {
    fn start(db: &e2e::TestDb, pool: &MySqlPool) -> anyhow::Result<Self> {
        let (wake, stop) = (Arc::new(Notify::new()), CancellationToken::new());
        let dispatcher = crate::dispatcher(db, pool.clone())?;
        let (inbox, handed) = Inbox::new(
            delivery::embedded::CONCURRENCY,
            dispatcher.lease(),
            Duration::from_millis(orders_api::config::DEFAULT_INTAKE_WAIT_MS),
        );
        let service = crate::service(db, pool.clone(), Handoff::direct(Arc::clone(&wake), inbox))?;
        let tasks = vec![tokio::spawn(delivery::embedded::run(
            dispatcher,
            wake,
            handed,
            stop.clone(),
        ))];
        Ok(Self {
            service,
            stop,
            tasks,
        })
    }

    async fn stop(self) {
        self.stop.cancel();
        futures::future::join_all(self.tasks).await;
    }
}

/// Samples the RSS of `pid` every 50 ms until `stop`; returns the largest, in MiB.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<f64> {
    tokio::spawn(async move {
        let mut peak = 0u64;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(rss_kib(pid).unwrap_or(0));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak as f64 / 1024.0
    })
}

trait CloneClient {
    fn clone_client(&self) -> Api;
}

impl CloneClient for Api {
    fn clone_client(&self) -> Api {
        Api {
            base: self.base.clone(),
            operator_key: self.operator_key.clone(),
            http: self.http.clone(),
        }
    }
}

/// Runs P2 and P7; returns their figures.
pub async fn run(settings: &Settings) -> anyhow::Result<(Figure, Figure, Figure)> {
    let receiver = Receiver::start().await?;
    let under_test = ApiUnderTest::start(settings, &[]).await?;
    let api = &under_test.api;
    let pid = under_test.process.id();
    let (customer_id, key) = api.customer("bench").await;
    api.endpoint(&key, &receiver.url, None).await;
    let customer = CustomerId::parse(&customer_id).context("customer id")?;
    let direct_pool = platform::database::pool(
        <sqlx::mysql::MySqlConnectOptions as std::str::FromStr>::from_str(&under_test.db.url)?,
        CLIENTS as u32,
    );
    let pipeline = Pipeline::start(&under_test.db, &direct_pool)?;

    // Idle: after start-up and the first requests, before any load.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut idle = Vec::new();
    for _ in 0..10 {
        idle.push(rss_kib(pid)? as f64 / 1024.0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Warm-up of both paths (connections, caches), not counted.
    http_rate(api, &key, Duration::from_millis(500)).await?;
    direct_rate(&pipeline.service, &customer, Duration::from_millis(500)).await?;

    let (mut http, mut direct, mut ratios, mut peaks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut cpu = Vec::new();
    for _ in 0..settings.runs {
        let secs = settings.run_length.as_secs_f64();
        drain(&direct_pool).await;
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = sample_rss(pid, Arc::clone(&stop));
        let (c0, q0) = (CpuSplit::now(Some(pid)), statements(&direct_pool).await?);
        let h = http_rate(api, &key, settings.run_length).await?;
        let (c1, q1) = (CpuSplit::now(Some(pid)), statements(&direct_pool).await?);
        stop.store(true, Ordering::Relaxed);
        peaks.push(sampler.await?);
        drain(&direct_pool).await;
        let (c2, q2) = (CpuSplit::now(Some(pid)), statements(&direct_pool).await?);
        let d = direct_rate(&pipeline.service, &customer, settings.run_length).await?;
        let (c3, q3) = (CpuSplit::now(Some(pid)), statements(&direct_pool).await?);
        let per_change = |q: u64, rate: f64| q as f64 / (rate * secs);
        cpu.push(format!(
            "HTTP {}, {:.1} statements · direct {}, {:.1} statements",
            c1.per_op_since(&c0, h * secs),
            per_change(q1 - q0, h),
            c3.per_op_since(&c2, d * secs),
            per_change(q3 - q2, d),
        ));
        http.push(h);
        direct.push(d);
        ratios.push(h / d);
    }
    pipeline.stop().await;
    direct_pool.close().await;
    under_test.finish().await;

    let ratio = Summary::of(&ratios);
    let p2 = Figure {
        id: "P2",
        what: format!("status changes/s through HTTP, {CLIENTS} clients"),
        value: Summary::of(&http),
        ceiling: Some((
            "same transactions via sqlx, /s".into(),
            Summary::of(&direct),
        )),
        ratio: Some(ratio),
        budget: "≥ 0.7×",
        met: ratio.median >= 0.7,
        notes: format!(
            "{} s runs, HTTP and direct alternating; HTTP {}; direct {}; ratios {}. One endpoint subscribed, so every change also writes a delivery, sent to a local receiver as soon as it commits: by the API's embedded dispatcher in HTTP runs, by the same dispatcher code in the bench process in direct runs (handed each commit's deliveries, as the API's handlers hand theirs), so both sides do the same database and delivery work; every run starts after the previous one's deliveries are all sent. CPU ms and MariaDB statements (`Questions`, every client) per status change (orders-api / mariadbd / bench process, which is the load generator in HTTP runs and the service calls and dispatcher in direct runs), per run: {}",
            settings.run_length.as_secs_f64(),
            series(&http),
            series(&direct),
            series(&ratios),
            cpu.join("; ")
        ),
    };
    let idle_summary = Summary::of(&idle);
    let p7_idle = Figure {
        id: "P7",
        what: "orders-api RSS idle, MiB".into(),
        value: idle_summary,
        ceiling: None,
        ratio: None,
        budget: "≤ 30 MB",
        met: idle_summary.p99 <= 30.0,
        notes: format!("idle samples (MiB): {}", series(&idle)),
    };
    let peak_summary = Summary::of(&peaks);
    let p7_load = Figure {
        id: "P7",
        what: "orders-api RSS under the P2 load (peak per run), MiB".into(),
        value: peak_summary,
        ceiling: None,
        ratio: None,
        budget: "≤ 100 MB",
        met: peak_summary.p99 <= 100.0,
        notes: format!(
            "peak VmRSS per P2 HTTP run (MiB, sampled every 50 ms): {}; median {:.1}",
            series(&peaks),
            median(&peaks)
        ),
    };
    Ok((p2, p7_idle, p7_load))
}
