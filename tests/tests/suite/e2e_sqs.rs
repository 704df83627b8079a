//! SQS mode end to end against moto: API + relay → SQS → `webhook-dispatch-worker` → receiver.

use std::collections::BTreeSet;
use std::time::Duration;

use e2e::{
    Api, Process, Receiver, Reply, TestDb, api_env, aws_env, create_queue, eventually, free_port,
    sqs, visible_messages, wait_ready,
};
use serde_json::json;

#[tokio::test]
async fn deliveries_flow_through_sqs_and_survive_a_receiver_outage() {
    let sqs = sqs().await;
    let queue = create_queue(&sqs, 5, 20).await.expect("queue on moto");
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let port = free_port();
    let mut env = api_env(&db, port);
    env.extend(aws_env());
    env.push(("SQS_QUEUE_URL", queue.url.clone()));
    let mut api_env = env.clone();
    api_env.push(("QUEUE", "sqs".into()));
    let base = format!("http://127.0.0.1:{port}");
    let _api_process = Process::start("orders-api", &[], &api_env).expect("orders-api starts");
    let _worker = Process::start("webhook-dispatch-worker", &[], &env).expect("worker starts");
    wait_ready(&base).await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let key = orders_api::db::api_keys::create(
        &mut conn,
        &orders_api::db::api_keys::Role::Operator,
        None,
    )
    .await
    .expect("operator key");
    drop(conn);
    use secrecy::ExposeSecret;
    let api = Api {
        base,
        operator_key: key.secret.expose_secret().to_owned(),
        http: reqwest::Client::new(),
    };
    let (_, customer_key) = api.customer("Acme").await;
    let (_, secret) = api
        .endpoint(&customer_key, &format!("{}/hooks", receiver.url), None)
        .await;

    let order = api.order(&customer_key, "PO-1").await;
    api.advance(&order, "confirmed").await;
    eventually(
        Duration::from_secs(30),
        "two deliveries through SQS",
        || async { (receiver.received().len() >= 2).then_some(()) },
    )
    .await;

    // The receiver goes down: the message comes back after the scheduled delay, and the
    // delivery succeeds once the receiver recovers.
    receiver.set_behaviour(|_| Reply::status(503));
    api.advance(&order, "picked_up").await;
    eventually(Duration::from_secs(30), "a failed attempt", || async {
        let failed: i64 =
            sqlx::query_scalar("select count(*) from webhook_attempts where status_code = 503")
                .fetch_one(&db.pool)
                .await
                .ok()?;
        (failed >= 1).then_some(())
    })
    .await;
    receiver.set_behaviour(|_| Reply::status(200));
    eventually(
        Duration::from_secs(90),
        "every delivery delivered",
        || async {
            let statuses = e2e::delivery_statuses(&db).await;
            (statuses.get("delivered") == Some(&3) && statuses.len() == 1).then_some(())
        },
    )
    .await;

    let received = receiver.received();
    let mut sequences = BTreeSet::new();
    for request in received
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
    eventually(Duration::from_secs(30), "the queue to drain", || async {
        (visible_messages(&sqs, &queue.url).await.ok()? == 0).then_some(())
    })
    .await;
    db.drop_database().await;
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
