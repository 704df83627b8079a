//! The Lambda handler in-process, fed real `SqsEvent` JSON, against real receivers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use delivery::outbox::Handoff;
use domain::ids::DeliveryId;
use e2e::{Receiver, Reply, TestDb, delivery_args};
use futures::future::BoxFuture;
use webhook_dispatch::handler::{Deps, handle_records};
use webhook_dispatch::visibility::Visibility;

use crate::support::{delivery_state, dev_keyring, seed};

/// Records visibility changes instead of talking to a queue.
#[derive(Default)]
struct Visibilities(Mutex<Vec<(String, Duration)>>);

impl Visibility for Visibilities {
    fn change(&self, receipt_handle: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        self.0
            .lock()
            .expect("lock")
            .push((receipt_handle.to_owned(), delay));
        Box::pin(async { Ok(()) })
    }

    fn requeue(&self, body: &str, delay: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        self.0
            .lock()
            .expect("lock")
            .push((format!("requeue {body}"), delay));
        Box::pin(async { Ok(()) })
    }
}

fn deps(db: &TestDb, visibility: Arc<Visibilities>) -> Deps {
    let delivery = delivery_args("0,1,1,2");
    Deps {
        dispatcher: delivery::build_dispatcher_with_pool(
            db.pool.clone(),
            dev_keyring(),
            &delivery,
            Handoff::relay(Arc::default()),
        )
        .expect("dispatcher"),
        visibility,
        concurrency: 4,
        deadline_margin: Duration::from_secs(1),
        fallback_budget: Duration::from_secs(60),
    }
}

/// Records built from the fixture, one per body.
fn records(bodies: &[String]) -> Vec<SqsMessage> {
    let fixture: SqsEvent = serde_json::from_str(include_str!("../../fixtures/sqs-event.json"))
        .expect("fixture parses");
    bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let mut record = fixture.records[0].clone();
            record.message_id = Some(format!("msg-{i}"));
            record.receipt_handle = Some(format!("receipt-{i}"));
            record.body = Some(body.clone());
            record
        })
        .collect()
}

fn body(id: &DeliveryId) -> String {
    domain::message::DeliveryMessage::new(id.clone()).to_body()
}

fn failures(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    ids.sort();
    ids
}

fn soon() -> SystemTime {
    SystemTime::now() + Duration::from_secs(60)
}

#[tokio::test]
async fn a_delivery_is_signed_sent_and_recorded() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let seeded = seed(&db, &format!("{}/hooks", receiver.url), 1).await;
    let deps = deps(&db, Arc::default());
    let id = &seeded.deliveries[0];

    let response = handle_records(&deps, records(&[body(id)]), soon()).await;
    assert!(failures(&response).is_empty());
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    request
        .verify(&seeded.secret)
        .expect("the receiver verifies the signature");
    let event_id: String =
        sqlx::query_scalar("select event_id from webhook_deliveries where id = ?")
            .bind(id.as_str())
            .fetch_one(&db.pool)
            .await
            .expect("event id");
    assert_eq!(request.header("webhook-id"), event_id);
    assert_eq!(request.header("content-type"), "application/json");
    assert!(
        request
            .header("user-agent")
            .starts_with("Mechanica-Webhooks/")
    );
    let timestamp: i64 = request
        .header("webhook-timestamp")
        .parse()
        .expect("unix seconds");
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 10);
    let stored: Vec<u8> = sqlx::query_scalar("select payload from webhook_events where id = ?")
        .bind(&event_id)
        .fetch_one(&db.pool)
        .await
        .expect("payload");
    assert_eq!(
        request.body.as_ref(),
        stored.as_slice(),
        "the stored bytes are what is sent"
    );
    assert_eq!(request.json()["type"], "order.created");
    assert_eq!(delivery_state(&db, id).await, ("delivered".into(), 1));

    // The same message again (an SQS redelivery): acknowledged without sending.
    let response = handle_records(&deps, records(&[body(id)]), soon()).await;
    assert!(failures(&response).is_empty());
    assert_eq!(receiver.received().len(), 1);
    db.drop_database().await;
}

#[tokio::test]
async fn server_errors_and_timeouts_are_batch_item_failures() {
    let db = TestDb::new().await;
    let failing = Receiver::start_with(|_| Reply::status(500)).await;
    let hanging = Receiver::start_with(|_| Reply {
        delay: Duration::from_secs(5),
        ..Reply::status(200)
    })
    .await;
    let fine = Receiver::start().await;
    let a = seed(&db, &failing.url, 1).await;
    let b = seed(&db, &hanging.url, 1).await;
    let c = seed(&db, &fine.url, 1).await;
    let visibilities = Arc::new(Visibilities::default());
    let deps = deps(&db, visibilities.clone());

    let batch = [
        body(&a.deliveries[0]),
        body(&b.deliveries[0]),
        body(&c.deliveries[0]),
    ];
    let response = handle_records(&deps, records(&batch), soon()).await;
    assert_eq!(failures(&response), ["msg-0", "msg-1"]);
    assert_eq!(
        delivery_state(&db, &a.deliveries[0]).await,
        ("pending".into(), 1)
    );
    assert_eq!(
        delivery_state(&db, &b.deliveries[0]).await,
        ("pending".into(), 1)
    );
    assert_eq!(
        delivery_state(&db, &c.deliveries[0]).await,
        ("delivered".into(), 1)
    );
    let classes: Vec<(Option<u16>, Option<String>)> = sqlx::query_as(
        "select status_code, error_class from webhook_attempts where delivery_id in (?, ?) order by delivery_id",
    )
    .bind(a.deliveries[0].as_str())
    .bind(b.deliveries[0].as_str())
    .fetch_all(&db.pool)
    .await
    .expect("attempts");
    assert!(
        classes.contains(&(Some(500), Some("http".into()))),
        "{classes:?}"
    );
    assert!(
        classes.contains(&(None, Some("timeout".into()))),
        "{classes:?}"
    );
    // Both failures set the message's visibility to the next delay before being reported.
    let changed = visibilities.0.lock().expect("lock").clone();
    assert_eq!(changed.len(), 2, "{changed:?}");
    db.drop_database().await;
}

#[tokio::test]
async fn a_rate_limited_delivery_waits_in_a_new_message_not_as_a_failure() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let seeded = seed(&db, &receiver.url, 3).await;
    sqlx::query("update webhook_endpoints set rate_limit_per_second = 1")
        .execute(&db.pool)
        .await
        .expect("a limit of one a second");
    let visibilities = Arc::new(Visibilities::default());
    let deps = deps(&db, visibilities.clone());
    let batch: Vec<String> = seeded.deliveries.iter().map(body).collect();

    let response = handle_records(&deps, records(&batch), soon()).await;
    // One goes now; the other two hold the next two slots, a second apart, and travel to them
    // in new messages: no failure, no visibility change, no attempt.
    assert!(failures(&response).is_empty(), "{response:?}");
    assert_eq!(receiver.received().len(), 1);
    let mut requeued = visibilities.0.lock().expect("lock").clone();
    requeued.sort_by_key(|(_, delay)| *delay);
    assert_eq!(requeued.len(), 2, "{requeued:?}");
    for ((what, delay), slot) in requeued.iter().zip([1, 2]) {
        assert!(what.starts_with("requeue "), "{what}");
        let early = Duration::from_secs(slot).saturating_sub(*delay);
        assert!(
            early >= delivery::throttle::EARLY && early < Duration::from_millis(500),
            "slot {slot} s away, due again after {delay:?}"
        );
    }
    let states: Vec<(String, u32, bool)> = sqlx::query_as(
        "select status, attempt_count, throttled_until is not null from webhook_deliveries
          order by status, id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("deliveries");
    assert_eq!(
        states,
        [
            ("delivered".into(), 1, false),
            ("pending".into(), 0, true),
            ("pending".into(), 0, true)
        ]
    );
    db.drop_database().await;
}

#[tokio::test]
async fn an_unparseable_message_fails_alone() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let seeded = seed(&db, &receiver.url, 2).await;
    let deps = deps(&db, Arc::default());
    let batch = [
        body(&seeded.deliveries[0]),
        "not json at all".to_owned(),
        r#"{"v":99,"delivery_id":"dlv_01jd0000000000000000000000"}"#.to_owned(),
        body(&seeded.deliveries[1]),
    ];
    let response = handle_records(&deps, records(&batch), soon()).await;
    assert_eq!(failures(&response), ["msg-1", "msg-2"]);
    assert_eq!(receiver.received().len(), 2);
    db.drop_database().await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let db = TestDb::new().await;
    let target = Receiver::start().await;
    let location = format!("{}/stolen", target.url);
    let redirecting = Receiver::start_with(move |_| Reply {
        headers: vec![("location", location.clone())],
        ..Reply::status(307)
    })
    .await;
    let seeded = seed(&db, &redirecting.url, 1).await;
    let deps = deps(&db, Arc::default());
    let response = handle_records(&deps, records(&[body(&seeded.deliveries[0])]), soon()).await;
    assert_eq!(failures(&response), ["msg-0"]);
    assert_eq!(redirecting.received().len(), 1);
    assert!(target.received().is_empty(), "the redirect was followed");
    assert_eq!(
        delivery_state(&db, &seeded.deliveries[0]).await,
        ("pending".into(), 1)
    );
    db.drop_database().await;
}

/// Lambda's entry point with a real context: a live deadline is honoured, an impossible one
/// (already past on arrival, as local emulators send) falls back to the configured budget.
#[tokio::test]
async fn the_lambda_entry_point_reads_the_context_deadline() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let seeded = seed(&db, &receiver.url, 2).await;
    let deps = Arc::new(deps(&db, Arc::default()));
    let invoke = |id: &DeliveryId, deadline: SystemTime| {
        let mut context = lambda_runtime::Context::default();
        context.deadline = u64::try_from(
            deadline
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("after epoch")
                .as_millis(),
        )
        .expect("ms");
        let mut event = SqsEvent::default();
        event.records = records(&[body(id)]);
        webhook_dispatch::handler::handle(
            Arc::clone(&deps),
            lambda_runtime::LambdaEvent::new(event, context),
        )
    };
    let near = invoke(
        &seeded.deliveries[0],
        SystemTime::now() + Duration::from_millis(200),
    )
    .await
    .expect("handled");
    assert_eq!(
        failures(&near),
        ["msg-0"],
        "too close to the deadline to start"
    );
    let emulated = invoke(
        &seeded.deliveries[1],
        SystemTime::UNIX_EPOCH + Duration::from_millis(600_000),
    )
    .await
    .expect("handled");
    assert!(failures(&emulated).is_empty());
    assert_eq!(receiver.received().len(), 1);
    db.drop_database().await;
}

#[tokio::test]
async fn messages_are_not_started_past_the_deadline() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let seeded = seed(&db, &receiver.url, 2).await;
    let deps = deps(&db, Arc::default());
    let batch: Vec<String> = seeded.deliveries.iter().map(body).collect();
    // The deadline is closer than the margin: nothing may start, everything is reported.
    let response = handle_records(
        &deps,
        records(&batch),
        SystemTime::now() + Duration::from_millis(500),
    )
    .await;
    assert_eq!(failures(&response), ["msg-0", "msg-1"]);
    assert!(receiver.received().is_empty());
    db.drop_database().await;
}

/// The receive watermark as the batch left it.
async fn watermark(db: &TestDb) -> Option<chrono::DateTime<chrono::Utc>> {
    sqlx::query_scalar("select received_available_at from webhook_queue_watermark where id = 1")
        .fetch_optional(&db.pool)
        .await
        .expect("watermark")
}

#[tokio::test]
async fn only_a_first_receive_moves_the_watermark_to_when_its_message_was_sent() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let seeded = seed(&db, &receiver.url, 2).await;
    let deps = deps(&db, Arc::default());
    let sent_at = |record: &mut SqsMessage, receives: &str, millis: i64| {
        record
            .attributes
            .insert("ApproximateReceiveCount".into(), receives.into());
        record
            .attributes
            .insert("SentTimestamp".into(), millis.to_string());
    };
    let earlier = chrono::Utc::now().timestamp_millis() - 60_000;

    // A message returning (its second receive, sent later than anything yet) moves nothing but
    // its delivery's receipt.
    let mut returning = records(&[body(&seeded.deliveries[0])]);
    sent_at(&mut returning[0], "2", earlier + 30_000);
    handle_records(&deps, returning, soon()).await;
    assert_eq!(watermark(&db).await, None);
    assert_eq!(
        delivery_state(&db, &seeded.deliveries[0]).await.0,
        "delivered"
    );
    let received: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select received_at from webhook_deliveries where id = ?")
            .bind(seeded.deliveries[0].as_str())
            .fetch_one(&db.pool)
            .await
            .expect("received_at");
    assert!(received.is_some(), "the receipt is noted");

    // A first receive moves it to when its message was sent, and never back.
    let mut first = records(&[body(&seeded.deliveries[1])]);
    sent_at(&mut first[0], "1", earlier);
    handle_records(&deps, first.clone(), soon()).await;
    assert_eq!(
        watermark(&db).await.map(|at| at.timestamp_millis()),
        Some(earlier)
    );
    sent_at(&mut first[0], "1", earlier - 1_000);
    handle_records(&deps, first, soon()).await;
    assert_eq!(
        watermark(&db).await.map(|at| at.timestamp_millis()),
        Some(earlier)
    );
    db.drop_database().await;
}
