//! SQS mode end to end against moto: API + relay → SQS → `webhook-dispatch-worker` → receiver.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use e2e::{
    Process, Receiver, Reply, SqsStack, TestDb, api_env, aws_env, create_queue, eventually,
    free_port, sqs, visible_messages,
};
use serde_json::json;

async fn attempt_times(db: &TestDb) -> Vec<(DateTime<Utc>, Option<u16>)> {
    sqlx::query_as("select started_at, status_code from webhook_attempts order by started_at")
        .fetch_all(&db.pool)
        .await
        .expect("attempts")
}

async fn wait_for_queue_to_drain(stack: &SqsStack) {
    eventually(Duration::from_secs(30), "the queue to drain", || async {
        (visible_messages(&stack.sqs, &stack.queue.url).await.ok()? == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn deliveries_flow_through_sqs_and_survive_a_receiver_outage() {
    let stack = SqsStack::start(e2e::FAST_SCHEDULE, 5, &[]).await;
    let (api, db) = (&stack.api, &stack.db);
    let receiver = Receiver::start().await;
    let (_, customer_key) = api.customer("Acme").await;
    let (_, secret) = api
        .endpoint(&customer_key, &format!("{}/hooks", receiver.url), None)
        .await;

    let order = api.order(&customer_key, "PO-1").await;
    api.advance(&order, "confirmed").await;
    receiver.wait_for(2, "two deliveries through SQS").await;

    // The receiver goes down: the message comes back after the scheduled delay, and the
    // delivery succeeds once the receiver recovers.
    receiver.set_behaviour(|_| Reply::status(500));
    api.advance(&order, "picked_up").await;
    eventually(Duration::from_secs(30), "a failed attempt", || async {
        let failed: i64 =
            sqlx::query_scalar("select count(*) from webhook_attempts where status_code = 500")
                .fetch_one(&db.pool)
                .await
                .ok()?;
        (failed >= 1).then_some(())
    })
    .await;
    receiver.set_behaviour(|_| Reply::status(200));
    eventually(
        Duration::from_secs(60),
        "every delivery delivered",
        || async {
            let statuses = e2e::delivery_statuses(db).await;
            (statuses.get("delivered") == Some(&3) && statuses.len() == 1).then_some(())
        },
    )
    .await;

    let mut sequences = BTreeSet::new();
    for request in receiver
        .received()
        .iter()
        .filter(|r| r.json()["data"]["order"]["id"] == json!(order))
    {
        request.verify(&secret).expect("every body verifies");
        sequences.insert(
            request.json()["data"]["order"]["sequence"]
                .as_u64()
                .expect("sequence"),
        );
    }
    assert_eq!(sequences, BTreeSet::from([1, 2, 3]));
    // The relay published each of the three (a sweep may have published one again).
    let metrics = api.metrics().await;
    let published = e2e::metric(&metrics, "relay_published_total");
    assert!(
        published >= Some(3.0),
        "relay_published_total in:\n{metrics}"
    );
    assert!(
        e2e::metric(&metrics, "relay_batch_size_count") >= Some(1.0),
        "relay_batch_size_count in:\n{metrics}"
    );
    wait_for_queue_to_drain(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn a_receiver_failing_n_times_is_delivered_once_after_growing_delays() {
    let stack = SqsStack::start("0,1,3,6", 5, &[]).await;
    let receiver = Receiver::start_with(|n| {
        if n < 3 {
            Reply::status(500)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let (_, key) = stack.api.customer("Acme").await;
    let (endpoint, secret) = stack
        .api
        .endpoint(&key, &receiver.url, Some(&["order.created"]))
        .await;
    // Custom headers reach the worker through the same read as the URL and the secrets.
    let (status, body) = stack
        .api
        .call(
            "PATCH",
            &format!("/v1/webhook-endpoints/{endpoint}"),
            Some(&key),
            Some(json!({"headers": {"X-Api-Key": "worker-key"}})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    stack.api.order(&key, "PO-1").await;
    eventually(
        Duration::from_secs(60),
        "the delivery delivered",
        || async {
            (e2e::delivery_statuses(&stack.db).await.get("delivered") == Some(&1)).then_some(())
        },
    )
    .await;
    let attempts = attempt_times(&stack.db).await;
    let codes: Vec<Option<u16>> = attempts.iter().map(|(_, code)| *code).collect();
    assert_eq!(
        codes,
        [Some(500), Some(500), Some(500), Some(200)],
        "N + 1 attempts, one success"
    );
    let gaps: Vec<f64> = attempts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).as_seconds_f64())
        .collect();
    assert!(
        gaps.windows(2).all(|g| g[0] < g[1]),
        "delays grow: {gaps:?}"
    );
    assert!(
        gaps[0] >= 0.8,
        "the first retry waits for the schedule: {gaps:?}"
    );
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    assert!(
        received
            .iter()
            .all(|r| r.header("webhook-id") == received[0].header("webhook-id"))
    );
    for request in &received {
        request.verify(&secret).expect("verifies");
        assert_eq!(request.header("x-api-key"), "worker-key");
    }
    wait_for_queue_to_drain(&stack).await;
    stack.stop().await;
}

#[tokio::test]
async fn a_receiver_that_always_fails_ends_failed_and_the_message_leaves_the_queue() {
    let stack = SqsStack::start("0,1,1", 5, &[]).await;
    let receiver = Receiver::start_with(|_| Reply::status(500)).await;
    let watcher = Receiver::start().await;
    let (_, key) = stack.api.customer("Acme").await;
    let (endpoint, _) = stack
        .api
        .endpoint(&key, &receiver.url, Some(&["order.created"]))
        .await;
    let (_, watcher_secret) = stack
        .api
        .endpoint(&key, &watcher.url, Some(&["delivery.exhausted"]))
        .await;
    stack.api.order(&key, "PO-1").await;
    eventually(Duration::from_secs(60), "the delivery failed", || async {
        (e2e::delivery_statuses(&stack.db).await.get("failed") == Some(&1)).then_some(())
    })
    .await;
    let (_, page) = stack
        .api
        .call(
            "GET",
            &format!("/v1/webhook-endpoints/{endpoint}/deliveries"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(page["data"][0]["failure_reason"], "attempts_exhausted");
    assert_eq!(page["data"][0]["attempt_count"], 3);
    assert_eq!(receiver.received().len(), 3);
    // The worker that recorded the last attempt wrote `delivery.exhausted` in that transaction;
    // the API's relay published it and a worker delivered it to the endpoint subscribed to it.
    watcher
        .wait_for(1, "delivery.exhausted at the watcher")
        .await;
    let report = &watcher.received()[0];
    report.verify(&watcher_secret).expect("the report verifies");
    let report = report.json();
    assert_eq!(report["type"], "delivery.exhausted");
    assert_eq!(report["data"]["endpoint"]["id"], endpoint.as_str());
    assert_eq!(report["data"]["delivery"]["id"], page["data"][0]["id"]);
    assert_eq!(report["data"]["delivery"]["attempts"], 3);
    wait_for_queue_to_drain(&stack).await;
    assert_eq!(
        visible_messages(&stack.sqs, &stack.queue.dlq_url)
            .await
            .expect("dlq"),
        0
    );
    stack.stop().await;
}

#[tokio::test]
async fn an_unparseable_message_is_dead_lettered() {
    let sqs = sqs().await;
    let queue = create_queue(&sqs, 1, 2).await.expect("queue on moto");
    let db = TestDb::new().await;
    let mut env = api_env(&db, free_port());
    env.extend(aws_env());
    env.push(("SQS_QUEUE_URL", queue.url.clone()));
    let _worker = Process::start("webhook-dispatch-worker", &[], &env).expect("worker starts");
    sqs.send_message()
        .queue_url(&queue.url)
        .message_body("this is not a delivery message")
        .send()
        .await
        .expect("sent");
    eventually(
        Duration::from_secs(60),
        "the message in the DLQ",
        || async { (visible_messages(&sqs, &queue.dlq_url).await.ok()? == 1).then_some(()) },
    )
    .await;
    assert_eq!(
        visible_messages(&sqs, &queue.url)
            .await
            .expect("attributes"),
        0
    );
    db.drop_database().await;
}

#[tokio::test]
async fn a_lost_message_is_republished_by_the_sweeper_within_two_windows() {
    let mut stack = SqsStack::start_without_worker(
        e2e::FAST_SCHEDULE,
        30,
        &[("REPUBLISH_OVERDUE_SECONDS", "5")],
    )
    .await;
    let receiver = Receiver::start().await;
    let (_, key) = stack.api.customer("Acme").await;
    let (_, secret) = stack.api.endpoint(&key, &receiver.url, None).await;
    stack.api.order(&key, "PO-1").await;
    eventually(
        Duration::from_secs(30),
        "the delivery published",
        || async {
            let published: i64 = sqlx::query_scalar(
                "select count(*) from webhook_deliveries where published_at is not null",
            )
            .fetch_one(&stack.db.pool)
            .await
            .ok()?;
            (published == 1).then_some(())
        },
    )
    .await;
    // The message is lost before anyone receives it, and the queue is left empty.
    stack
        .sqs
        .purge_queue()
        .queue_url(&stack.queue.url)
        .send()
        .await
        .expect("purged");
    assert_eq!(
        visible_messages(&stack.sqs, &stack.queue.url)
            .await
            .expect("attributes"),
        0
    );
    stack.restart_worker();
    eventually(
        // Two windows from the loss.
        Duration::from_secs(10),
        "the swept delivery delivered within two windows",
        || async {
            (e2e::delivery_statuses(&stack.db).await.get("delivered") == Some(&1)).then_some(())
        },
    )
    .await;
    receiver.received()[0].verify(&secret).expect("verifies");
    stack.stop().await;
}
