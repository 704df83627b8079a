//! The soak an operator runs against the SQS mode, in a test binary of its own: it loads a queue
//! for minutes and compares how fast two runs drain, so it runs alone (Cargo runs one test
//! binary at a time), where no other test competes with it for the machine and none is slowed
//! by it.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use e2e::{
    Fault, FaultyReceiver, LIFECYCLE, Moto, Process, Rng, SendCounter, SqsStack, eventually,
};

/// What one soak run measured.
struct Soak {
    deliveries: i64,
    sent: u64,
    drain: Duration,
}

/// The soak an operator runs: the API and two workers on one queue, 150 orders of four events
/// each to two endpoints whose receiver fails three requests in ten, one worker and the API
/// killed halfway, with a republish window of `window` seconds. Every webhook must arrive and
/// verify; returns how many messages the queue was sent and how long the run took from the first
/// order to the last delivery.
async fn soak(window: &str, seed: u64) -> Soak {
    const ORDERS: usize = 150;
    const CHANGES: usize = 3;
    // moto's cost per call grows with the queue's depth: a queue of its own keeps the soak from
    // slowing every other test on the suite's.
    let moto = Moto::start().await;
    let counter = SendCounter::start(&moto.endpoint).await;
    let mut stack = SqsStack::start_on(
        &moto.endpoint,
        // Twenty attempts: at a three-in-ten failure rate, a delivery of the 1 200 fails for good
        // once in about 24 million runs; twelve would leave one once in about 1 600, and the soak
        // needs every webhook to arrive.
        "0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1",
        30,
        &[
            ("REPUBLISH_OVERDUE_SECONDS", window),
            ("AWS_ENDPOINT_URL", &counter.url),
        ],
    )
    .await;
    let (_, key) = stack.api.customer("Acme").await;
    let mut endpoints = Vec::new();
    for n in 0..2 {
        let rng = Mutex::new(Rng::new(seed + n));
        let receiver = FaultyReceiver::start(move |_| {
            if rng.lock().expect("lock").unit() < 0.3 {
                Fault::Status(500)
            } else {
                Fault::Status(200)
            }
        })
        .await;
        let (_, secret) = stack.api.endpoint(&key, &receiver.url, None).await;
        endpoints.push((receiver, secret));
    }
    stack.restart_worker();
    let mut second = Process::start("webhook-dispatch-worker", &[], &stack.worker_env)
        .expect("the second worker starts");

    let started = Instant::now();
    for n in 0..ORDERS {
        if n == ORDERS / 2 {
            stack.restart_worker();
            stack.restart_api().await;
        }
        let id = stack.api.order(&key, &format!("PO-{n}")).await;
        for status in &LIFECYCLE[..CHANGES] {
            stack.api.advance(&id, status).await;
        }
    }
    let deliveries = (ORDERS * (CHANGES + 1) * endpoints.len()) as i64;
    eventually(
        Duration::from_secs(600),
        "every delivery delivered",
        || async {
            let statuses = e2e::delivery_statuses(&stack.db).await;
            (statuses.get("delivered") == Some(&deliveries)).then_some(())
        },
    )
    .await;
    let drain = started.elapsed();

    for (receiver, secret) in &endpoints {
        let mut acknowledged = HashSet::new();
        for (request, fault) in receiver.received() {
            request
                .verify(secret)
                .expect("every received body verifies");
            if fault == Fault::Status(200) {
                acknowledged.insert(request.header("webhook-id").to_owned());
            }
        }
        assert_eq!(
            acknowledged.len(),
            ORDERS * (CHANGES + 1),
            "every event acknowledged by the endpoint"
        );
    }
    let sent = counter.sent();
    println!("soak, window {window} s: {deliveries} deliveries in {drain:?}, {sent} messages sent");
    second.kill();
    stack.stop().await;
    Soak {
        deliveries,
        sent,
        drain,
    }
}

#[tokio::test]
async fn a_soak_with_a_short_window_sends_each_message_about_once_and_drains_as_fast() {
    let default = soak("900", 0x50a1).await;
    let short = soak("5", 0x50a1).await;
    println!(
        "soak: default window {:?} and {} messages, 5 s window {:?} and {} messages, for {} deliveries",
        default.drain, default.sent, short.drain, short.sent, short.deliveries
    );
    for run in [&default, &short] {
        assert!(
            run.sent >= run.deliveries as u64,
            "every delivery needs a message: {} counted",
            run.sent
        );
        assert!(
            run.sent as f64 <= 1.1 * run.deliveries as f64,
            "{} messages sent for {} deliveries",
            run.sent,
            run.deliveries
        );
    }
    // No slower, within the quarter by which two runs of the same soak differ on a busy machine.
    assert!(
        short.drain <= default.drain.mul_f64(1.25),
        "the 5 s window drained in {:?}, the default in {:?}",
        short.drain,
        default.drain
    );
}
