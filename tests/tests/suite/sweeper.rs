//! The SQS mode's overdue sweep republishes a delivery only when its message is lost, not when
//! it is merely waiting: a backlog older than the window drains without a message published
//! twice, while a message deleted without being processed comes back within two windows,
//! whether the queue has gone quiet or other messages keep flowing.

use std::time::Duration;

use e2e::{Api, Fault, FaultyReceiver, Receiver, SqsStack, eventually, metric};

/// What the API's relay counted: `(published, republished for `reason`, sweeps)`.
async fn relay_counts(api: &Api, reason: &str) -> (f64, f64, f64) {
    let metrics = api.metrics().await;
    (
        metric(&metrics, "relay_published_total").unwrap_or(0.0),
        metric(
            &metrics,
            &format!("relay_republished_total{{reason=\"{reason}\"}}"),
        )
        .unwrap_or(0.0),
        metric(&metrics, "relay_sweeps_total").unwrap_or(0.0),
    )
}

async fn count(stack: &SqsStack, condition: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "select count(*) from webhook_deliveries where {condition}"
    )))
    .fetch_one(&stack.db.pool)
    .await
    .expect("count")
}

#[tokio::test]
async fn a_backlog_older_than_the_window_is_not_republished() {
    const ORDERS: i64 = 16;
    // A window of 2 s; one consumer handling one message at a time, each answered in 250 ms:
    // the backlog takes twice the window to drain.
    let mut stack = SqsStack::start_without_worker(
        e2e::FAST_SCHEDULE,
        30,
        &[
            ("REPUBLISH_OVERDUE_SECONDS", "2"),
            ("WORKER_POLLERS", "1"),
            ("DISPATCH_CONCURRENCY", "1"),
        ],
    )
    .await;
    let receiver = FaultyReceiver::start(|_| Fault::Slow(Duration::from_millis(250))).await;
    let (_, key) = stack.api.customer("Acme").await;
    stack.api.endpoint(&key, &receiver.url, None).await;
    for n in 0..ORDERS {
        stack.api.order(&key, &format!("PO-{n}")).await;
    }
    // The backlog ages past two windows with nobody consuming it, and the sweep looks at it.
    eventually(
        Duration::from_secs(30),
        "the backlog two windows old",
        || async {
            let aged = count(
                &stack,
                "published_at < utc_timestamp(6) - interval 4 second and publish_pending = false",
            )
            .await;
            (aged == ORDERS).then_some(())
        },
    )
    .await;
    let sweeps = relay_counts(&stack.api, "overtaken").await.2;
    eventually(Duration::from_secs(30), "two more sweeps", || async {
        (relay_counts(&stack.api, "overtaken").await.2 >= sweeps + 2.0).then_some(())
    })
    .await;

    stack.restart_worker();
    eventually(Duration::from_secs(60), "the backlog delivered", || async {
        (count(&stack, "status = 'delivered'").await == ORDERS).then_some(())
    })
    .await;
    let (published, overtaken, _) = relay_counts(&stack.api, "overtaken").await;
    let empty = relay_counts(&stack.api, "queue_empty").await.1;
    assert_eq!(
        (published, overtaken, empty),
        (16.0, 0.0, 0.0),
        "each delivery published once, none again"
    );
    assert_eq!(receiver.received().len(), 16, "each sent once");
    stack.stop().await;
}

/// Takes the message of delivery `id` from the queue and deletes it unprocessed.
async fn lose_the_message(stack: &SqsStack, id: &str) {
    let receipt = eventually(Duration::from_secs(30), "the message", || async {
        let output = stack
            .sqs
            .receive_message()
            .queue_url(&stack.queue.url)
            .max_number_of_messages(10)
            .send()
            .await
            .ok()?;
        output
            .messages?
            .into_iter()
            .find(|message| message.body().is_some_and(|body| body.contains(id)))?
            .receipt_handle
    })
    .await;
    stack
        .sqs
        .delete_message()
        .queue_url(&stack.queue.url)
        .receipt_handle(receipt)
        .send()
        .await
        .expect("deleted");
}

#[tokio::test]
async fn a_message_lost_while_others_flow_is_republished_once_a_later_one_is_received() {
    let mut stack = SqsStack::start_without_worker(
        e2e::FAST_SCHEDULE,
        30,
        &[("REPUBLISH_OVERDUE_SECONDS", "3")],
    )
    .await;
    // A message delayed past the test keeps the queue from looking empty, so only the receive
    // watermark can tell the loss.
    stack
        .sqs
        .send_message()
        .queue_url(&stack.queue.url)
        .message_body("{}")
        .delay_seconds(900)
        .send()
        .await
        .expect("a delayed message");
    let receiver = Receiver::start().await;
    let (_, key) = stack.api.customer("Acme").await;
    let (_, secret) = stack.api.endpoint(&key, &receiver.url, None).await;
    stack.api.order(&key, "PO-lost").await;
    let lost: String = sqlx::query_scalar("select id from webhook_deliveries")
        .fetch_one(&stack.db.pool)
        .await
        .expect("the delivery");
    lose_the_message(&stack, &lost).await;
    // The next change is published more than a window after the lost one.
    eventually(
        Duration::from_secs(30),
        "a window after the loss",
        || async {
            (count(
                &stack,
                "published_at < utc_timestamp(6) - interval 4 second",
            )
            .await
                == 1)
                .then_some(())
        },
    )
    .await;
    stack.api.order(&key, "PO-next").await;

    stack.restart_worker();
    eventually(Duration::from_secs(30), "both delivered", || async {
        (count(&stack, "status = 'delivered'").await == 2).then_some(())
    })
    .await;
    for request in receiver.received() {
        request.verify(&secret).expect("verifies");
    }
    assert_eq!(receiver.received().len(), 2);
    let (published, overtaken, _) = relay_counts(&stack.api, "overtaken").await;
    assert_eq!(
        (published, overtaken),
        (3.0, 1.0),
        "the lost one published again, once"
    );
    stack.stop().await;
}
