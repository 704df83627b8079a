//! P11: an endpoint limited to 50 deliveries a second with a backlog of 1 000, drained by two
//! embedded dispatchers at once (the limiter is shared through the database), and an unlimited
//! endpoint's backlog of 1 000 falling due in the middle of it, whose drain must not slow down
//! for it: its rate is compared with the same backlog drained with nothing limited around.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use domain::ids::CustomerId;
use domain::throttle::RateLimit;
use sqlx::mysql::MySqlConnectOptions;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::receiver::Receiver;
use crate::report::{Figure, series};
use crate::stats::Summary;
use crate::{ApiUnderTest, Settings};

/// The limited endpoint's rate.
pub const LIMIT: u32 = 50;
/// Its backlog per run.
pub const BACKLOG: usize = 1_000;
/// Dispatchers draining the table at once.
const DISPATCHERS: usize = 2;

/// What one drain measured.
struct Drain {
    /// Deliveries a second the limited endpoint received, first arrival to last.
    limited_rate: f64,
    /// The most it received within one second.
    busiest_second: usize,
    /// Deliveries a second the unlimited endpoint received, from when its backlog fell due to its
    /// last arrival.
    unlimited_rate: f64,
}

/// Sorted arrival times at `receiver`, taken.
fn arrivals(receiver: &Receiver) -> Vec<Instant> {
    let mut times: Vec<Instant> = receiver.take_arrivals().into_values().collect();
    times.sort();
    times
}

fn busiest_second(times: &[Instant]) -> usize {
    times
        .iter()
        .enumerate()
        .map(|(i, first)| {
            times[i..]
                .iter()
                .take_while(|t| t.duration_since(*first) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Makes the unlimited endpoint's pending deliveries due [`UNLIMITED_DUE_AFTER`] from now;
/// returns when.
async fn due_later(pool: &sqlx::MySqlPool, endpoint: &str) -> anyhow::Result<Instant> {
    sqlx::query(
        "update webhook_deliveries
            set next_attempt_at = utc_timestamp(6) + interval ? microsecond
          where endpoint_id = ? and status = 'pending'",
    )
    .bind(i64::try_from(UNLIMITED_DUE_AFTER.as_micros())?)
    .bind(endpoint)
    .execute(pool)
    .await?;
    Ok(Instant::now() + UNLIMITED_DUE_AFTER)
}

/// When the unlimited backlog falls due after the dispatchers start: well into the limited
/// endpoint's drain, its slots handed out.
const UNLIMITED_DUE_AFTER: Duration = Duration::from_secs(5);

/// Runs [`DISPATCHERS`] embedded dispatcher loops until `limited` and `unlimited` have received
/// what they are owed, the unlimited backlog falling due at `unlimited_due`.
async fn drain(
    under_test: &ApiUnderTest,
    (limited, owed_limited): (&Receiver, usize),
    (unlimited, owed_unlimited, unlimited_due): (&Receiver, usize, Instant),
) -> anyhow::Result<Drain> {
    let shutdown = CancellationToken::new();
    let start = Instant::now();
    let mut loops = Vec::new();
    for _ in 0..DISPATCHERS {
        let pool = platform::database::pool(MySqlConnectOptions::from_str(&under_test.db.url)?, 8);
        let dispatcher = crate::dispatcher(&under_test.db, pool)?;
        let (_, inbox) = tokio::sync::mpsc::channel(1);
        let wake = Arc::new(Notify::new());
        wake.notify_one();
        loops.push(tokio::spawn(delivery::embedded::run(
            dispatcher,
            wake,
            inbox,
            shutdown.clone(),
        )));
    }
    let deadline = start + Duration::from_secs(120);
    while limited.arrivals_len() < owed_limited || unlimited.arrivals_len() < owed_unlimited {
        anyhow::ensure!(
            Instant::now() < deadline,
            "not drained within 2 minutes: {} of {owed_limited} limited, {} of {owed_unlimited} unlimited",
            limited.arrivals_len(),
            unlimited.arrivals_len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    for handle in loops {
        handle.await?;
    }
    let (limited, unlimited) = (arrivals(limited), arrivals(unlimited));
    let rate = |times: &[Instant], from: Instant| {
        let last = times.last().copied().unwrap_or(from);
        times.len() as f64 / last.saturating_duration_since(from).as_secs_f64().max(1e-6)
    };
    let limited_rate = match (limited.first(), limited.last()) {
        (Some(first), Some(last)) if limited.len() > 1 => {
            (limited.len() - 1) as f64 / last.duration_since(*first).as_secs_f64()
        }
        _ => f64::NAN,
    };
    Ok(Drain {
        limited_rate,
        busiest_second: busiest_second(&limited),
        unlimited_rate: rate(&unlimited, unlimited_due),
    })
}

/// Runs P11.
pub async fn run(settings: &Settings) -> anyhow::Result<Figure> {
    let limited = Receiver::start().await?;
    let unlimited = Receiver::start().await?;
    limited.record(true);
    unlimited.record(true);
    let mut under_test = ApiUnderTest::start(settings, &[]).await?;
    // Two customers, so that each backlog is seeded alone.
    let (customer_id, key) = under_test.api.customer("bench-limited").await;
    let (other_id, other_key) = under_test.api.customer("bench-unlimited").await;
    let (status, body) = under_test
        .api
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(serde_json::json!({
                "url": limited.url,
                "event_types": ["order.created"],
                "rate_limit_per_second": LIMIT,
            })),
        )
        .await;
    anyhow::ensure!(status.is_success(), "creating the limited endpoint: {body}");
    let (unlimited_id, _) = under_test
        .api
        .endpoint(&other_key, &unlimited.url, Some(&["order.created"]))
        .await;
    under_test.process.kill();
    let customer = CustomerId::parse(&customer_id).context("customer id")?;
    let other = CustomerId::parse(&other_id).context("customer id")?;
    let pool = platform::database::pool(MySqlConnectOptions::from_str(&under_test.db.url)?, 16);
    let handoff = delivery::outbox::Handoff::dispatcher(Arc::default());
    let service = crate::service(&under_test.db, pool.clone(), handoff)?;
    let burst = RateLimit::new(LIMIT).map_or(1, RateLimit::burst) as usize;

    let (mut rates, mut busiest, mut alone, mut alongside) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..settings.runs {
        // The unlimited backlog alone: its rate with nothing limited in the table.
        crate::dispatch::seed(&service, &other, BACKLOG).await?;
        let due = due_later(&pool, &unlimited_id).await?;
        let solo = drain(&under_test, (&limited, 0), (&unlimited, BACKLOG, due)).await?;
        alone.push(solo.unlimited_rate);
        // Then both: the limited backlog drained at its rate, the unlimited one falling due in
        // the middle of it.
        crate::dispatch::seed(&service, &customer, BACKLOG).await?;
        crate::dispatch::seed(&service, &other, BACKLOG).await?;
        let due = due_later(&pool, &unlimited_id).await?;
        eprintln!("bench: P11 draining {BACKLOG} deliveries limited to {LIMIT}/s");
        let both = drain(&under_test, (&limited, BACKLOG), (&unlimited, BACKLOG, due)).await?;
        rates.push(both.limited_rate);
        busiest.push(both.busiest_second as f64);
        alongside.push(both.unlimited_rate);
    }
    pool.close().await;
    under_test.finish().await;

    let limit = f64::from(LIMIT);
    let ratios: Vec<f64> = rates.iter().map(|r| r / limit).collect();
    let unlimited_ratios: Vec<f64> = alongside.iter().zip(&alone).map(|(b, a)| b / a).collect();
    let within_limit = ratios.iter().all(|r| (0.9..=1.1).contains(r));
    let no_burst_over = busiest
        .iter()
        .all(|b| *b <= (LIMIT as usize + burst) as f64);
    let unlimited_kept = Summary::of(&unlimited_ratios).median >= 0.9;
    Ok(Figure {
        id: "P11",
        what: format!(
            "deliveries/s of an endpoint limited to {LIMIT}/s, {BACKLOG} backlogged, {DISPATCHERS} dispatchers"
        ),
        value: Summary::of(&rates),
        ceiling: Some((
            format!("its limit, {LIMIT}/s"),
            Summary::of(&vec![limit; rates.len()]),
        )),
        ratio: Some(Summary::of(&ratios)),
        budget: "±10 %; no second over limit + burst; unlimited within 10 %",
        met: within_limit && no_burst_over && unlimited_kept,
        notes: format!(
            "{DISPATCHERS} embedded dispatcher loops, each with its own pool, drain one table; the limiter (GCRA, burst {burst}) is one row in MariaDB. Limited rate (first arrival to last) {}; busiest second {} (allowed {}); another customer's unlimited endpoint, {BACKLOG} deliveries falling due {} s into the drain, delivered/s from then to its last arrival: alone {} and beside the limited backlog {} (ratios {})",
            series(&rates),
            series(&busiest),
            LIMIT as usize + burst,
            UNLIMITED_DUE_AFTER.as_secs(),
            series(&alone),
            series(&alongside),
            series(&unlimited_ratios),
        ),
    })
}
