//! Per-endpoint rate limits: held across dispatchers (the limiter lives in the database), a
//! wait that is not an attempt, and no holding back of other endpoints.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use e2e::{Api, Process, Receiver, SqsStack, TestApp, TestDb, eventually, visible_messages};
use reqwest::StatusCode;
use serde_json::json;

/// Registers an endpoint limited to `per_second`, subscribed to `order.created`; returns its id.
async fn limited_endpoint(api: &Api, key: &str, url: &str, per_second: u32) -> String {
    let (status, body) = api
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(key),
            Some(json!({
                "url": url,
                "event_types": ["order.created"],
                "rate_limit_per_second": per_second,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["rate_limit_per_second"], per_second);
    e2e::str_field(&body, "id")
}

/// When each attempt to `endpoint` started, oldest first.
async fn starts(db: &TestDb, endpoint: &str) -> Vec<DateTime<Utc>> {
    sqlx::query_scalar(
        "select a.started_at from webhook_attempts a
           join webhook_deliveries d on d.id = a.delivery_id
          where d.endpoint_id = ? order by a.started_at",
    )
    .bind(endpoint)
    .fetch_all(&db.pool)
    .await
    .expect("attempts")
}

/// The most of `starts` (sorted) within any one second.
fn busiest_second(starts: &[DateTime<Utc>]) -> usize {
    starts
        .iter()
        .enumerate()
        .map(|(i, first)| {
            starts[i..]
                .iter()
                .take_while(|t| (**t - *first) < chrono::TimeDelta::seconds(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Every delivery to `endpoint` was attempted exactly once: waiting for a slot is not an attempt.
async fn assert_one_attempt_each(db: &TestDb, endpoint: &str, deliveries: i64) {
    let sql = format!(
        "select count(*) from webhook_deliveries
          where endpoint_id = '{endpoint}' and status = 'delivered' and attempt_count = 1"
    );
    assert_eq!(db.number(&sql).await, deliveries, "{endpoint}");
}

#[tokio::test]
async fn a_limited_endpoint_is_paced_without_holding_back_the_others() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let limited = Receiver::start().await;
    let free = Receiver::start().await;
    let (_, key) = app.customer("Acme").await;
    // 5 a second: a slot every 200 ms, a burst of 1.
    let limited_id = limited_endpoint(&app, &key, &limited.url, 5).await;
    let (free_id, _) = app
        .endpoint(&key, &free.url, Some(&["order.created"]))
        .await;
    const ORDERS: usize = 20;
    for n in 0..ORDERS {
        app.order(&key, &format!("PO-RATE-{n}")).await;
    }
    free.wait_for(ORDERS, "every webhook at the unlimited endpoint")
        .await;
    // 20 slots 200 ms apart take 3.8 s; the unlimited endpoint had every one of its webhooks
    // before the limited one had them all.
    let behind = limited.received().len();
    assert!(
        behind < ORDERS,
        "the unlimited endpoint waited for the limited one ({behind} of {ORDERS} there)"
    );
    limited
        .wait_for(ORDERS, "every webhook at the limited endpoint")
        .await;
    eventually(
        Duration::from_secs(30),
        "every delivery recorded",
        || async {
            (e2e::delivery_statuses(&db).await.get("delivered") == Some(&(2 * ORDERS as i64)))
                .then_some(())
        },
    )
    .await;
    let started = starts(&db, &limited_id).await;
    assert_eq!(started.len(), ORDERS);
    let busiest = busiest_second(&started);
    assert!(
        busiest <= 5 + 1,
        "{busiest} attempts within one second: {started:?}"
    );
    assert_one_attempt_each(&db, &limited_id, ORDERS as i64).await;
    assert_one_attempt_each(&db, &free_id, ORDERS as i64).await;

    // The limit is read back, changed, and removed; an invalid one changes nothing.
    let path = format!("/v1/webhook-endpoints/{limited_id}");
    for (body, field) in [
        (json!({"rate_limit_per_second": 0}), "rate_limit_per_second"),
        (
            json!({"rate_limit_per_second": 10_001}),
            "rate_limit_per_second",
        ),
    ] {
        let (status, problem) = app.call("PATCH", &path, Some(&key), Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let (_, endpoint) = app.call("GET", &path, Some(&key), None).await;
    assert_eq!(endpoint["rate_limit_per_second"], 5);
    let (status, endpoint) = app
        .call(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({"rate_limit_per_second": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{endpoint}");
    assert_eq!(endpoint["rate_limit_per_second"], serde_json::Value::Null);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_rate_limit_holds_across_two_workers_and_a_killed_one_and_loses_nothing() {
    let mut stack = SqsStack::start("0,1,1,2", 10, &[]).await;
    let mut second =
        Process::start("webhook-dispatch-worker", &[], &stack.worker_env).expect("second worker");
    let receiver = Receiver::start().await;
    let (_, key) = stack.api.customer("Acme").await;
    let endpoint = limited_endpoint(&stack.api, &key, &receiver.url, 5).await;
    const ORDERS: usize = 30;
    for n in 0..ORDERS {
        stack.api.order(&key, &format!("PO-RATE-{n}")).await;
    }
    // A third of the way through, one worker dies (SIGKILL), holding whatever it had received,
    // and another takes its place.
    receiver
        .wait_for(ORDERS / 3, "a third of the webhooks")
        .await;
    stack.restart_worker();

    eventually(
        Duration::from_secs(120),
        "every delivery delivered",
        || async {
            (e2e::delivery_statuses(&stack.db).await.get("delivered") == Some(&(ORDERS as i64)))
                .then_some(())
        },
    )
    .await;
    let ids: BTreeSet<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(ids.len(), ORDERS, "every webhook arrived");
    let started = starts(&stack.db, &endpoint).await;
    let busiest = busiest_second(&started);
    assert!(
        busiest <= 5 + 1,
        "{busiest} attempts within one second across two workers"
    );
    // Waiting for a slot sent the message again rather than letting it be received again: no
    // attempt but the one that delivered, and nothing in the dead-letter queue.
    assert_one_attempt_each(&stack.db, &endpoint, ORDERS as i64).await;
    assert_eq!(
        visible_messages(&stack.sqs, &stack.queue.dlq_url)
            .await
            .expect("dlq"),
        0
    );
    second.kill();
    stack.stop().await;
}
