//! Operational events: written with the state change that raises them, so that a killed API
//! loses none, and delivered only where they are subscribed to, never to the endpoint they are
//! about.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use e2e::{Api, Process, Receiver, Reply, TestDb, api_env, eventually, free_port, wait_ready};
use serde_json::Value;

const OPERATIONAL: [&str; 4] = [
    "endpoint.failing",
    "endpoint.disabled",
    "endpoint.recovered",
    "delivery.exhausted",
];

/// The operational events written so far: id → (type, the endpoint it is about).
async fn operational_events(db: &TestDb) -> BTreeMap<String, (String, String)> {
    let rows: Vec<(String, String, Vec<u8>)> =
        sqlx::query_as("select id, event_type, payload from webhook_events where order_id is null")
            .fetch_all(&db.pool)
            .await
            .expect("events");
    rows.into_iter()
        .map(|(id, event_type, payload)| {
            let payload: Value = serde_json::from_slice(&payload).expect("JSON payload");
            let about = payload["data"]["endpoint"]["id"]
                .as_str()
                .expect("about an endpoint")
                .to_owned();
            (id, (event_type, about))
        })
        .collect()
}

/// `(type, endpoint it is about)` of every operational event `receiver` got, checked against
/// `secret`, by event id.
fn received_operational(
    receiver: &Receiver,
    secret: &domain::signing::SigningSecret,
) -> BTreeMap<String, (String, Value)> {
    receiver
        .received()
        .iter()
        .filter_map(|request| {
            let body = request.json();
            let event_type = body["type"].as_str()?.to_owned();
            OPERATIONAL.contains(&event_type.as_str()).then(|| {
                request.verify(secret).expect("every body verifies");
                (
                    request.header("webhook-id").to_owned(),
                    (event_type, body["data"].clone()),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn operational_events_reach_their_subscribers_across_a_kill_and_never_their_subject() {
    let db = TestDb::new().await;
    // The watcher takes a second per answer, so that some of its deliveries are still to be
    // made, or in flight, when the API is killed.
    let watcher = Receiver::start_with(|_| Reply {
        delay: Duration::from_secs(1),
        ..Reply::status(200)
    })
    .await;
    let flaky = Receiver::start_with(|_| Reply::status(500)).await;
    let gone = Receiver::start_with(|_| Reply::status(410)).await;

    let port = free_port();
    let mut env = api_env(&db, port);
    env.retain(|(key, _)| *key != "WEBHOOK_RETRY_SCHEDULE");
    env.extend([
        ("WEBHOOK_RETRY_SCHEDULE", "0,1,1".to_owned()),
        ("ENDPOINT_FAILING_AFTER_ATTEMPTS", "2".to_owned()),
    ]);
    let base = format!("http://127.0.0.1:{port}");
    let mut process = Process::start("orders-api", &[], &env).expect("orders-api starts");
    wait_ready(&base).await;
    let api = Api::for_operator(&db, base.clone()).await;
    let (_, key) = api.customer("Acme").await;
    let (watcher_id, watcher_secret) = api
        .endpoint(&key, &format!("{}/ops", watcher.url), Some(&OPERATIONAL))
        .await;
    // Subscribed to order events and operational ones alike.
    let mut everything = vec!["order.created", "order.status_changed"];
    everything.extend(OPERATIONAL);
    let (flaky_id, flaky_secret) = api
        .endpoint(&key, &format!("{}/in", flaky.url), Some(&everything))
        .await;
    // Subscribed to every order event (no list): no operational one.
    let (gone_id, _) = api.endpoint(&key, &format!("{}/in", gone.url), None).await;

    api.order(&key, "PO-OPS-1").await;
    // The flaky endpoint fails all three attempts (endpoint.failing at the second, then
    // delivery.exhausted); the gone one answers 410 (endpoint.disabled, delivery.exhausted).
    let raised = eventually(
        Duration::from_secs(60),
        "the failing, exhausted and disabled events written",
        || async {
            let events = operational_events(&db).await;
            let kinds: BTreeSet<(String, String)> = events.values().cloned().collect();
            let expected = [
                ("endpoint.failing", &flaky_id),
                ("delivery.exhausted", &flaky_id),
                ("endpoint.disabled", &gone_id),
                ("delivery.exhausted", &gone_id),
            ];
            expected
                .iter()
                .all(|(t, about)| kinds.contains(&((*t).to_owned(), (*about).clone())))
                .then_some(events)
        },
    )
    .await;
    process.kill();
    let delivered_at_kill = db
        .number(
            "select count(*) from webhook_deliveries d join webhook_events e on e.id = d.event_id
              where e.order_id is null and d.status = 'delivered'",
        )
        .await;
    let total_at_kill = db
        .number(
            "select count(*) from webhook_deliveries d join webhook_events e on e.id = d.event_id
              where e.order_id is null",
        )
        .await;
    assert!(
        delivered_at_kill < total_at_kill,
        "the kill came before every operational delivery was made \
         ({delivered_at_kill} of {total_at_kill})"
    );

    flaky.set_behaviour(|_| Reply::status(200));
    let mut process = Process::start("orders-api", &[], &env).expect("orders-api restarts");
    wait_ready(&base).await;
    // The flaky endpoint's next success ends its streak: endpoint.recovered.
    api.order(&key, "PO-OPS-2").await;

    let watched = eventually(
        Duration::from_secs(90),
        "every operational event at the watcher, the recovery included",
        || async {
            let events = operational_events(&db).await;
            let received = received_operational(&watcher, &watcher_secret);
            let recovered = events
                .values()
                .any(|(t, about)| t == "endpoint.recovered" && *about == flaky_id);
            // Everything not about the watcher itself (it could time out once, on a slow
            // machine, and be the subject of an event of its own).
            let expected: BTreeSet<&String> = events
                .iter()
                .filter(|(_, (_, about))| *about != watcher_id)
                .map(|(id, _)| id)
                .collect();
            let ids: BTreeSet<&String> = received.keys().collect();
            (recovered && ids == expected).then_some((events, received))
        },
    )
    .await;
    let (events, received) = watched;
    for id in raised.keys() {
        assert!(received.contains_key(id), "{id} survived the kill");
    }
    let data = |kind: &str, about: &str| -> Value {
        received
            .values()
            .find(|(t, data)| t == kind && data["endpoint"]["id"] == about)
            .map(|(_, data)| data.clone())
            .unwrap_or_else(|| panic!("{kind} about {about}"))
    };
    let failing = data("endpoint.failing", &flaky_id);
    assert_eq!(failing["consecutive_failures"], 2);
    assert_eq!(failing["last_warning"], false);
    assert_eq!(failing["endpoint"]["url"], format!("{}/in", flaky.url));
    let exhausted = data("delivery.exhausted", &flaky_id);
    assert_eq!(exhausted["delivery"]["event_type"], "order.created");
    assert_eq!(exhausted["delivery"]["attempts"], 3);
    assert_eq!(
        exhausted["delivery"]["failure_reason"],
        "attempts_exhausted"
    );
    assert_eq!(exhausted["delivery"]["last_status_code"], 500);
    let disabled = data("endpoint.disabled", &gone_id);
    assert_eq!(disabled["reason"], "gone");
    let exhausted = data("delivery.exhausted", &gone_id);
    assert_eq!(exhausted["delivery"]["failure_reason"], "endpoint_gone");
    assert_eq!(exhausted["delivery"]["last_status_code"], 410);
    let recovered = data("endpoint.recovered", &flaky_id);
    assert!(recovered["consecutive_failures"].as_u64() >= Some(3));
    assert_eq!(recovered["failing_since"], failing["failing_since"]);

    // The flaky endpoint, subscribed to operational events too, was sent those about the gone
    // one (failing them while it failed) and none about itself; the gone one got none at all.
    let own = received_operational(&flaky, &flaky_secret);
    assert!(
        own.values()
            .all(|(_, data)| data["endpoint"]["id"] != flaky_id.as_str()),
        "{own:?}"
    );
    let about_gone: BTreeSet<&String> = events
        .iter()
        .filter(|(_, (_, about))| *about == gone_id)
        .map(|(id, _)| id)
        .collect();
    eventually(
        Duration::from_secs(30),
        "the events about the gone endpoint at the flaky one",
        || async {
            let own = received_operational(&flaky, &flaky_secret);
            about_gone
                .iter()
                .all(|id| own.contains_key(*id))
                .then_some(())
        },
    )
    .await;
    assert!(
        gone.received()
            .iter()
            .all(|r| !OPERATIONAL.contains(&r.json()["type"].as_str().unwrap_or_default())),
        "an endpoint subscribed to every type by default gets no operational event"
    );
    // Exactly one of each notice: a streak raises endpoint.failing once, and the recovery
    // once.
    let count = |kind: &str, about: &str| {
        events
            .values()
            .filter(|(t, a)| t == kind && a == about)
            .count()
    };
    assert_eq!(count("endpoint.failing", &flaky_id), 1);
    assert_eq!(count("endpoint.recovered", &flaky_id), 1);
    assert_eq!(count("endpoint.disabled", &gone_id), 1);
    println!(
        "operational: {} events, {delivered_at_kill} of {total_at_kill} deliveries made before \
         the kill",
        events.len()
    );
    process.terminate().expect("clean shutdown on SIGTERM");
    db.drop_database().await;
}
