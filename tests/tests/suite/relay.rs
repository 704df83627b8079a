//! The outbox relay: exactly-once publishing in a quiet run, retries after failures, and the
//! direct hand-off of SQS mode (deliveries written claimed by the relay and published after the
//! commit without a claim; a hand-off lost with the process is claimed once its claim expires).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use delivery::outbox::{Handoff, Outgoing};

use domain::ids::DeliveryId;
use domain::message::DeliveryMessage;
use e2e::TestDb;
use futures::future::BoxFuture;
use orders_api::queue::EventPublisher;
use orders_api::relay::Relay;
use tokio::sync::Notify;

use crate::support::{seed, seed_with};

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

async fn claimed(db: &TestDb) -> i64 {
    sqlx::query_scalar(
        "select count(*) from webhook_deliveries \
         where publish_pending = true and publish_claimed_until > utc_timestamp(6)",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count")
}

#[tokio::test]
async fn a_handed_over_delivery_is_published_without_a_claim() {
    let db = TestDb::new().await;
    let (outgoing, mut handed) = Outgoing::new(8, Duration::from_secs(30));
    let seeded = seed_with(
        &db,
        "http://127.0.0.1:9/x",
        3,
        Handoff::publisher(Arc::default(), outgoing),
    )
    .await;
    assert_eq!(claimed(&db).await, 3, "written claimed by the relay");

    let recorder = Arc::new(Recorder::default());
    let relay = Relay::new(db.pool.clone(), recorder.clone(), Arc::default(), None);
    assert_eq!(
        relay.relay_once().await.expect("pass"),
        0,
        "a pass claims nothing handed over"
    );
    let first = handed.recv().await.expect("a hand-off");
    // The first hand-off and the two waiting behind it make one batch.
    assert_eq!(
        relay
            .publish_handed(first, &mut handed)
            .await
            .expect("published"),
        3
    );
    let mut published = recorder.published.lock().expect("lock").clone();
    published.sort();
    assert_eq!(published, seeded.deliveries);
    assert_eq!(unpublished(&db).await, 0);
    db.drop_database().await;
}

#[tokio::test]
async fn a_hand_off_lost_after_the_commit_is_published_once_its_claim_expires() {
    let db = TestDb::new().await;
    // The receiving end stands for a process that died after the commit: what was handed to it
    // is never read.
    let (outgoing, _lost) = Outgoing::new(8, Duration::from_secs(3));
    let seeded = seed_with(
        &db,
        "http://127.0.0.1:9/x",
        2,
        Handoff::publisher(Arc::default(), outgoing),
    )
    .await;
    let recorder = Arc::new(Recorder::default());
    // Another instance's relay: nothing to claim while the claim holds, everything once it
    // has expired.
    let relay = Relay::new(db.pool.clone(), recorder.clone(), Arc::default(), None);
    assert_eq!(relay.relay_once().await.expect("pass"), 0);
    let published = e2e::eventually(
        Duration::from_secs(15),
        "the deliveries claimed after their claim expired",
        || async {
            relay.relay_once().await.expect("pass");
            let published = recorder.published.lock().expect("lock").clone();
            (published.len() == 2).then_some(published)
        },
    )
    .await;
    let mut published = published;
    published.sort();
    assert_eq!(published, seeded.deliveries, "each published once");
    assert_eq!(unpublished(&db).await, 0);
    db.drop_database().await;
}
