//! Fault injection: a few hundred status changes across several endpoints whose receivers
//! randomly fail, hang past the timeout, reset the connection or answer 410, while the process
//! that dispatches is killed and restarted mid-run. Nothing may be lost: afterwards every
//! delivery is `delivered` or `failed` with its attempts recorded, every received body verifies,
//! and every event reached every endpoint that was subscribed when it happened.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::retry::{self, RetrySchedule};
use domain::signing::SigningSecret;
use e2e::{
    Api, Fault, FaultyReceiver, LIFECYCLE, Process, Rng, SqsStack, TestDb, api_env, eventually,
    free_port, wait_ready,
};

const ORDERS: usize = 40;
const SCHEDULE: &str = "0,1,1,1,2,2";
/// `WEBHOOK_TIMEOUT_MS` of [`api_env`].
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest a delivery may take from its first attempt to its last under [`SCHEDULE`]: every
/// attempt running into the timeout, and every retry throttled (a 502 or a hang) and waiting
/// as long as a throttled retry may. That is over five minutes, since a throttled retry waits
/// at least one, and runs do come near it: with one answer in ten throttled, about two of the
/// 720 deliveries to the flaky receivers wait out three throttled retries in a run, and in one
/// run in six a delivery waits out four.
fn longest_delivery() -> Duration {
    let schedule = RetrySchedule::parse(SCHEDULE).expect("the schedule parses");
    let retries: Duration = (1..schedule.max_attempts())
        .filter_map(|made| schedule.scheduled_delay(made))
        .map(|scheduled| {
            retry::throttled_delay(scheduled, Some(retry::MAX_VISIBILITY_DELAY))
                .max(retry::jittered(scheduled, 1.0))
        })
        .sum();
    retries + ATTEMPT_TIMEOUT * schedule.max_attempts()
}

/// Three flaky receivers and one that disappears (410) after a while.
async fn receivers(seed: u64) -> (Vec<FaultyReceiver>, FaultyReceiver) {
    let mut flaky = Vec::new();
    for n in 0..3u64 {
        let rng = Arc::new(Mutex::new(Rng::new(seed.wrapping_add(n * 7919))));
        flaky.push(
            FaultyReceiver::start(move |_| {
                let roll = rng.lock().expect("lock").unit();
                match roll {
                    r if r < 0.60 => Fault::Status(200),
                    r if r < 0.80 => Fault::Status(500),
                    r if r < 0.90 => Fault::Reset,
                    r if r < 0.93 => Fault::Hang(Duration::from_secs(3)),
                    _ => Fault::Status(502),
                }
            })
            .await,
        );
    }
    let gone = FaultyReceiver::start(|n| {
        if n < 15 {
            Fault::Status(200)
        } else {
            Fault::Status(410)
        }
    })
    .await;
    (flaky, gone)
}

struct Endpoints {
    flaky: Vec<(String, SigningSecret, FaultyReceiver)>,
    gone: (String, SigningSecret, FaultyReceiver),
}

async fn register(api: &Api, key: &str, seed: u64) -> Endpoints {
    let (flaky, gone) = receivers(seed).await;
    let mut registered = Vec::new();
    for receiver in flaky {
        let (id, secret) = api.endpoint(key, &receiver.url, None).await;
        registered.push((id, secret, receiver));
    }
    let (id, secret) = api.endpoint(key, &gone.url, None).await;
    Endpoints {
        flaky: registered,
        gone: (id, secret, gone),
    }
}

async fn place_orders(api: &Api, key: &str, prefix: &str, count: usize) {
    for n in 0..count {
        let id = api.order(key, &format!("{prefix}-{n}")).await;
        for status in LIFECYCLE {
            api.advance(&id, status).await;
        }
    }
}

async fn settle_and_check(db: &TestDb, endpoints: &Endpoints, mode: &str) {
    // The backlog of first attempts takes about a minute to work through; the last of them may
    // take as long as any delivery can.
    eventually(
        longest_delivery() + Duration::from_secs(120),
        "every delivery settled",
        || async { (!e2e::delivery_statuses(db).await.contains_key("pending")).then_some(()) },
    )
    .await;

    let events: i64 = db.count("webhook_events").await;
    assert_eq!(
        events as usize,
        ORDERS * (LIFECYCLE.len() + 1),
        "every status change wrote its event"
    );
    let rows: Vec<(String, String, String, u32, Option<String>, String)> = sqlx::query_as(
        "select endpoint_id, event_id, status, attempt_count, failure_reason, id from webhook_deliveries",
    )
    .fetch_all(&db.pool)
    .await
    .expect("deliveries");
    let attempt_rows: Vec<(String, u32)> =
        sqlx::query_as("select delivery_id, attempt from webhook_attempts")
            .fetch_all(&db.pool)
            .await
            .expect("attempt rows");
    let attempts_by_delivery: HashMap<String, usize> =
        attempt_rows.iter().fold(HashMap::new(), |mut m, (id, _)| {
            *m.entry(id.clone()).or_default() += 1;
            m
        });
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (endpoint, event, status, attempt_count, reason, id) in &rows {
        assert!(
            status == "delivered" || status == "failed",
            "{endpoint} {event}: {status}"
        );
        let key = format!(
            "{status}{}",
            reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        *outcomes.entry(key).or_default() += 1;
        if reason.as_deref() != Some("endpoint_disabled") {
            assert!(*attempt_count >= 1, "{endpoint} {event} has no attempt");
        }
        let recorded = attempts_by_delivery.get(id.as_str()).copied().unwrap_or(0);
        assert_eq!(
            recorded, *attempt_count as usize,
            "{id}: every attempt is recorded"
        );
    }

    // Every event reached every flaky endpoint (they are never disabled) at least once with a
    // 2xx, unless every attempt failed; and every body any receiver got verifies.
    let all_events: HashSet<String> = sqlx::query_scalar("select id from webhook_events")
        .fetch_all(&db.pool)
        .await
        .expect("events")
        .into_iter()
        .collect();
    let mut requests = 0;
    let mut duplicates = 0;
    let mut faults: BTreeMap<String, usize> = BTreeMap::new();
    for (endpoint, secret, receiver) in endpoints
        .flaky
        .iter()
        .chain(std::iter::once(&endpoints.gone))
    {
        let delivered: HashSet<&str> = rows
            .iter()
            .filter(|r| &r.0 == endpoint && r.2 == "delivered")
            .map(|r| r.1.as_str())
            .collect();
        let mut acknowledged: HashMap<String, usize> = HashMap::new();
        for (request, fault) in receiver.received() {
            request
                .verify(secret)
                .expect("every received body verifies");
            requests += 1;
            *faults.entry(format!("{fault:?}")).or_default() += 1;
            if matches!(fault, Fault::Status(200)) {
                *acknowledged
                    .entry(request.header("webhook-id").to_owned())
                    .or_default() += 1;
            }
        }
        duplicates += acknowledged.values().map(|n| n - 1).sum::<usize>();
        for event in &delivered {
            assert!(
                acknowledged.contains_key(*event),
                "{endpoint}: {event} marked delivered without a 2xx"
            );
        }
        if endpoints.flaky.iter().any(|(id, _, _)| id == endpoint) {
            let subscribed: HashSet<&str> = rows
                .iter()
                .filter(|r| &r.0 == endpoint)
                .map(|r| r.1.as_str())
                .collect();
            assert_eq!(
                subscribed.len(),
                all_events.len(),
                "{endpoint}: an event is missing"
            );
        }
    }
    println!(
        "fault injection ({mode}): {} events, {} deliveries {outcomes:?}, {} attempts, {requests} requests received {faults:?}, {duplicates} duplicate acknowledgements",
        all_events.len(),
        rows.len(),
        attempt_rows.len()
    );
}

#[tokio::test]
async fn memory_mode_survives_faults_and_a_killed_api() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut env = api_env(&db, port);
    env.retain(|(k, _)| *k != "WEBHOOK_RETRY_SCHEDULE");
    env.push(("WEBHOOK_RETRY_SCHEDULE", SCHEDULE.into()));
    let base = format!("http://127.0.0.1:{port}");
    let mut process = Process::start("orders-api", &[], &env).expect("orders-api starts");
    wait_ready(&base).await;
    let api = Api::for_operator(&db, base.clone()).await;
    let (_, customer) = api.customer("Acme").await;
    let endpoints = register(&api, &customer, 0x5eed_0001).await;

    place_orders(&api, &customer, "first", ORDERS / 2).await;
    process.kill();
    let _process = Process::start("orders-api", &[], &env).expect("orders-api restarts");
    wait_ready(&base).await;
    place_orders(&api, &customer, "second", ORDERS / 2).await;
    settle_and_check(&db, &endpoints, "memory mode, API killed").await;
    db.drop_database().await;
}

#[tokio::test]
async fn sqs_mode_survives_faults_and_a_killed_worker() {
    let mut stack = SqsStack::start(SCHEDULE, 30, &[]).await;
    let (_, customer) = stack.api.customer("Acme").await;
    let endpoints = register(&stack.api, &customer, 0x5eed_0002).await;

    place_orders(&stack.api, &customer, "first", ORDERS / 2).await;
    stack.restart_worker();
    place_orders(&stack.api, &customer, "second", ORDERS / 2).await;
    settle_and_check(&stack.db, &endpoints, "SQS mode, worker killed").await;
    stack.stop().await;
}
