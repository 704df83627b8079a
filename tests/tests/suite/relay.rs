//! The outbox relay: exactly-once publishing in a quiet run, retries after failures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;
use e2e::TestDb;
use futures::future::BoxFuture;
use orders_api::queue::EventPublisher;
use orders_api::relay::Relay;
use tokio::sync::Notify;

use crate::support::seed;

/// Records what it publishes; accepts every `accept_every`-th message, or fails outright.
#[derive(Default)]
struct Recorder {
    published: Mutex<Vec<DeliveryId>>,
    fail: bool,
    accept_every: usize,
}

impl EventPublisher for Recorder {
    fn publish<'a>(
        &'a self,
        messages: &'a [DeliveryMessage],
    ) -> BoxFuture<'a, anyhow::Result<Vec<DeliveryId>>> {
        Box::pin(async move {
            if self.fail {
                anyhow::bail!("the queue is down");
            }
            let accepted: Vec<DeliveryId> = messages
                .iter()
                .enumerate()
                .filter(|(i, _)| i % self.accept_every.max(1) == 0)
                .map(|(_, m)| m.delivery_id.clone())
                .collect();
            self.published
                .lock()
                .expect("lock")
                .extend(accepted.iter().cloned());
            Ok(accepted)
        })
    }
}

async fn unpublished(db: &TestDb) -> i64 {
    sqlx::query_scalar("select count(*) from webhook_deliveries where publish_pending = true")
        .fetch_one(&db.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn two_relays_publish_every_delivery_exactly_once() {
    let db = TestDb::new().await;
    let seeded = seed(&db, "http://127.0.0.1:9/x", 250).await;
    let recorder = Arc::new(Recorder::default());
    let relays: Vec<Relay> = (0..2)
        .map(|_| {
            Relay::new(
                db.pool.clone(),
                recorder.clone(),
                Arc::new(Notify::new()),
                None,
            )
        })
        .collect();
    let runs = relays
        .iter()
        .map(|relay| async move { while relay.relay_once().await.expect("relay pass") > 0 {} });
    futures::future::join_all(runs).await;
    // A relay that found nothing while the other held a claim stops early; finish the tail.
    while relays[0].relay_once().await.expect("relay pass") > 0 {}

    let published = recorder.published.lock().expect("lock").clone();
    let mut counts: HashMap<&DeliveryId, usize> = HashMap::new();
    for id in &published {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(seeded.deliveries.len(), 250);
    for id in &seeded.deliveries {
        assert_eq!(
            counts.get(id),
            Some(&1),
            "{id} published {:?} times",
            counts.get(id)
        );
    }
    assert_eq!(published.len(), 250);
    assert_eq!(unpublished(&db).await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn a_failed_or_partial_publish_leaves_the_rest_for_the_next_pass() {
    let db = TestDb::new().await;
    seed(&db, "http://127.0.0.1:9/x", 10).await;

    let down = Arc::new(Recorder {
        fail: true,
        ..Recorder::default()
    });
    let relay = Relay::new(db.pool.clone(), down, Arc::new(Notify::new()), None);
    assert_eq!(relay.relay_once().await.expect("pass"), 0);
    assert_eq!(unpublished(&db).await, 10);
    let claimed: i64 = sqlx::query_scalar(
        "select count(*) from webhook_deliveries where publish_token is not null",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count");
    assert_eq!(claimed, 0, "a failed publish releases its claim at once");

    let partial = Arc::new(Recorder {
        accept_every: 2,
        ..Recorder::default()
    });
    let relay = Relay::new(
        db.pool.clone(),
        partial.clone(),
        Arc::new(Notify::new()),
        None,
    );
    assert_eq!(relay.relay_once().await.expect("pass"), 5);
    assert_eq!(
        unpublished(&db).await,
        5,
        "what the queue did not accept stays in the outbox"
    );
    while relay.relay_once().await.expect("pass") > 0 {}
    assert_eq!(unpublished(&db).await, 0);
    let published = partial.published.lock().expect("lock").clone();
    let mut unique = published.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((published.len(), unique.len()), (10, 10));
    db.drop_database().await;
}
