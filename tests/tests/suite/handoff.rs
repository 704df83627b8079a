//! The direct hand-off of the memory mode: a delivery written leased to the embedded
//! dispatcher is sent from memory after the commit, and one whose hand-off is lost (the process
//! died between the commit and the hand-off) is claimed once its lease expires. A change waits
//! for room in the dispatcher's inbox before its transaction, for a bounded time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use delivery::outbox::{Handoff, Inbox};
use e2e::{Receiver, TestDb, delivery_args};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::support::{delivery_state, dev_keyring, seed_with};

fn dispatcher(db: &TestDb) -> delivery::dispatcher::Dispatcher {
    delivery::build_dispatcher_with_pool(
        db.pool.clone(),
        dev_keyring(),
        &delivery_args("0,1"),
        Handoff::dispatcher(Arc::default()),
    )
    .expect("dispatcher")
}

/// Whether the delivery's row carries a lease now.
async fn leased(db: &TestDb, id: &domain::ids::DeliveryId) -> bool {
    sqlx::query_scalar::<_, i64>(
        "select count(*) from webhook_deliveries where id = ? and lease_until > utc_timestamp(6)",
    )
    .bind(id.as_str())
    .fetch_one(&db.pool)
    .await
    .expect("lease")
        == 1
}

#[tokio::test]
async fn a_handed_over_delivery_is_sent_without_a_claim() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    let dispatcher = dispatcher(&db);
    let (inbox, handed) = Inbox::new(4, dispatcher.lease(), Duration::ZERO);
    let url = format!("{}/hooks", receiver.url);
    let wake = Arc::new(Notify::new());
    let seeded = seed_with(&db, &url, 3, Handoff::direct(Arc::clone(&wake), inbox)).await;
    for id in &seeded.deliveries {
        assert!(leased(&db, id).await, "every row was written leased");
    }

    let stop = CancellationToken::new();
    let running = tokio::spawn(delivery::embedded::run(
        dispatcher,
        wake,
        handed,
        stop.clone(),
    ));
    // The rows are leased for the dispatcher's 12 s lease, so no claim pass could take one
    // before it expires: arriving sooner means arriving through the hand-off.
    let received = e2e::eventually(Duration::from_secs(5), "three webhooks", || async {
        let received = receiver.received();
        (received.len() == 3).then_some(received)
    })
    .await;
    for request in &received {
        request.verify(&seeded.secret).expect("a verified webhook");
    }
    for id in &seeded.deliveries {
        let state = e2e::eventually(Duration::from_secs(5), "the attempt recorded", || async {
            let state = delivery_state(&db, id).await;
            (state.0 == "delivered").then_some(state)
        })
        .await;
        assert_eq!(state, ("delivered".into(), 1));
    }
    stop.cancel();
    running.await.expect("the dispatcher stops");
    db.drop_database().await;
}

#[tokio::test]
async fn a_hand_off_lost_after_the_commit_is_delivered_once_its_lease_expires() {
    let db = TestDb::new().await;
    let receiver = Receiver::start().await;
    // The inbox's receiving end stands for a process that died after the commit: what was
    // handed to it is never read.
    let lease = Duration::from_secs(2);
    let (inbox, mut lost) = Inbox::new(4, lease, Duration::ZERO);
    let url = format!("{}/hooks", receiver.url);
    let seeded = seed_with(&db, &url, 1, Handoff::direct(Arc::default(), inbox)).await;
    let id = &seeded.deliveries[0];
    let handed = lost.try_recv().expect("the delivery was handed over");
    assert_eq!(handed.claims.len(), 1);
    assert_eq!(&handed.claims[0].claim.delivery_id, id);
    assert!(leased(&db, id).await, "the row was written leased");

    // Another instance's dispatcher: nothing to claim while the lease holds, the delivery once
    // it has expired.
    let other = dispatcher(&db);
    assert_eq!(
        delivery::embedded::dispatch_due_once(&other)
            .await
            .expect("a pass"),
        0,
        "a leased delivery is not claimed"
    );
    e2e::eventually(
        Duration::from_secs(15),
        "the delivery claimed after its lease",
        || async {
            delivery::embedded::dispatch_due_once(&other)
                .await
                .expect("a pass");
            (delivery_state(&db, id).await.0 == "delivered").then_some(())
        },
    )
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), 1, "sent once");
    received[0]
        .verify(&seeded.secret)
        .expect("a verified webhook");
    assert_eq!(delivery_state(&db, id).await, ("delivered".into(), 1));
    db.drop_database().await;
}

#[tokio::test]
async fn a_change_waits_for_room_in_the_inbox_then_leaves_its_delivery_to_the_table() {
    let db = TestDb::new().await;
    let wait = Duration::from_millis(300);
    // One event's room, taken by the seeded order and never read: the dispatcher is behind.
    let (inbox, _unread) = Inbox::new(1, Duration::from_secs(60), wait);
    let seeded = seed_with(
        &db,
        "http://127.0.0.1:9/hooks",
        1,
        Handoff::direct(Arc::default(), inbox),
    )
    .await;
    assert!(leased(&db, &seeded.deliveries[0]).await);

    let started = Instant::now();
    let late = seeded.place_order(&db.pool, "PO-late").await;
    assert!(started.elapsed() >= wait, "the change waited for room");
    assert!(
        !leased(&db, &late).await,
        "without room its delivery waits in the table, unleased, for a claim"
    );
    assert_eq!(delivery_state(&db, &late).await, ("pending".into(), 0));
    db.drop_database().await;
}

#[tokio::test]
async fn a_change_that_waited_is_handed_over_once_the_dispatcher_takes_what_was_before_it() {
    let db = TestDb::new().await;
    // A wait no test run reaches: the change goes on only when room is made.
    let (inbox, mut handed) = Inbox::new(1, Duration::from_secs(60), Duration::from_secs(600));
    let seeded = seed_with(
        &db,
        "http://127.0.0.1:9/hooks",
        1,
        Handoff::direct(Arc::default(), inbox),
    )
    .await;

    let seeded = Arc::new(seeded);
    let waiting = {
        let (pool, seeded) = (db.pool.clone(), Arc::clone(&seeded));
        tokio::spawn(async move { seeded.place_order(&pool, "PO-next").await })
    };
    // On this single-threaded runtime the change runs up to its first wait, which is for room
    // (nothing comes before it), before the first hand-off is taken.
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    let first = handed.recv().await.expect("the first hand-off");
    assert_eq!(first.claims[0].claim.delivery_id, seeded.deliveries[0]);
    let next = waiting.await.expect("the change goes on");
    assert!(leased(&db, &next).await, "written leased to the dispatcher");
    let second = handed.recv().await.expect("the second hand-off");
    assert_eq!(second.claims[0].claim.delivery_id, next);
    db.drop_database().await;
}
