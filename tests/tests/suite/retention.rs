//! Retention: deliveries that are final and older than the retention period go with their
//! attempts, then the old events no delivery is left for, in chunks while status changes go on;
//! nothing that is not final, nor anything recent, is touched; one instance prunes at a time.

use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use delivery::retention::{self, Policy, Pruned};
use domain::state::DeliveryStatus;
use e2e::{LIFECYCLE, Receiver, TestApp, TestDb, api_env, binary, eventually, free_port};
use sqlx::{MySql, QueryBuilder};
use tokio_util::sync::CancellationToken;

/// Old events, each with one final delivery of two attempts: 50 000 rows in all.
const OLD_EVENTS: usize = 12_500;
const BATCH: usize = 500;

/// An id of kind `prefix` created at `millis` (ms since the epoch), unique by `n`.
fn old_id(prefix: &str, millis: u64, n: u128) -> String {
    let ulid = ulid::Ulid::from_parts(millis, n);
    format!("{prefix}_{}", ulid.to_string().to_ascii_lowercase())
}

/// Writes old events (60 days old), each with one delivery per `(status, attempts)`, the
/// `k`-th to `endpoints[k]`, and those attempts.
async fn insert_old(
    db: &TestDb,
    customer: &str,
    endpoints: &[&str],
    events: &[(u128, Vec<(DeliveryStatus, u32)>)],
) {
    let at = Utc::now() - TimeDelta::days(60);
    let millis = u64::try_from(at.timestamp_millis()).expect("after 1970");
    let mut rows_events = Vec::new();
    let mut rows_deliveries = Vec::new();
    let mut rows_attempts = Vec::new();
    for (n, deliveries) in events {
        let event = old_id("evt", millis, *n);
        rows_events.push(event.clone());
        for (k, (status, attempts)) in deliveries.iter().enumerate() {
            let delivery = old_id("dlv", millis, *n * 4 + k as u128);
            for attempt in 1..=*attempts {
                rows_attempts.push((delivery.clone(), attempt));
            }
            rows_deliveries.push((delivery, event.clone(), endpoints[k], *status, *attempts));
        }
    }
    for chunk in rows_events.chunks(BATCH) {
        let mut query = QueryBuilder::<MySql>::new(
            "insert into webhook_events (id, customer_id, event_type, order_id, payload, created_at) ",
        );
        query.push_values(chunk, |mut row, id| {
            row.push_bind(id)
                .push_bind(customer)
                .push_bind("order.created")
                .push_bind(None::<String>)
                .push_bind(&b"{}"[..])
                .push_bind(at);
        });
        query.build().execute(&db.pool).await.expect("old events");
    }
    for chunk in rows_deliveries.chunks(BATCH) {
        let mut query = QueryBuilder::<MySql>::new(
            "insert into webhook_deliveries (id, event_id, endpoint_id, customer_id, event_type, \
             status, attempt_count, next_attempt_at, publish_pending, created_at, updated_at) ",
        );
        query.push_values(chunk, |mut row, (id, event, endpoint, status, attempts)| {
            row.push_bind(id)
                .push_bind(event)
                .push_bind(*endpoint)
                .push_bind(customer)
                .push_bind("order.created")
                .push_bind(status.as_str())
                .push_bind(*attempts)
                .push_bind(at + TimeDelta::days(3650))
                .push_bind(false)
                .push_bind(at)
                .push_bind(at);
        });
        query
            .build()
            .execute(&db.pool)
            .await
            .expect("old deliveries");
    }
    for chunk in rows_attempts.chunks(BATCH) {
        let mut query = QueryBuilder::<MySql>::new(
            "insert into webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code) ",
        );
        query.push_values(chunk, |mut row, (delivery, attempt)| {
            row.push_bind(delivery)
                .push_bind(*attempt)
                .push_bind(at)
                .push_bind(12)
                .push_bind(500);
        });
        query.build().execute(&db.pool).await.expect("old attempts");
    }
}

#[tokio::test]
async fn final_rows_past_retention_are_pruned_in_chunks_while_changes_go_on() {
    let db = TestDb::new().await;
    // This test prunes by itself, so the API's own hourly retention stays off.
    let app = TestApp::spawn_with(&db, |config| config.retention_days = 0).await;
    let receiver = Receiver::start().await;
    let (customer, key) = app.customer("Acme").await;
    let (endpoint, _) = app.endpoint(&key, &receiver.url, None).await;
    // Receives none of the new events: only the second delivery of an old one.
    let (other, _) = app
        .endpoint(&key, &receiver.url, Some(&["webhook.test"]))
        .await;

    let mut old: Vec<(u128, Vec<(DeliveryStatus, u32)>)> = (0..OLD_EVENTS)
        .map(|n| {
            let status = if n % 2 == 0 {
                DeliveryStatus::Delivered
            } else {
                DeliveryStatus::Failed
            };
            (n as u128, vec![(status, 2)])
        })
        .collect();
    // Kept: an old delivery still pending with its event; an old event one of whose two
    // deliveries is still pending (its final one goes); and an old delivery failed again today
    // after a manual re-send.
    let kept = OLD_EVENTS as u128;
    old.push((kept, vec![(DeliveryStatus::Pending, 1)]));
    old.push((
        kept + 1,
        vec![(DeliveryStatus::Delivered, 1), (DeliveryStatus::Pending, 3)],
    ));
    old.push((kept + 2, vec![(DeliveryStatus::Failed, 1)]));
    insert_old(&db, &customer, &[&endpoint, &other], &old).await;
    sqlx::query(
        "update webhook_deliveries set updated_at = utc_timestamp(6)
         where event_id = (select max(id) from webhook_events)",
    )
    .execute(&db.pool)
    .await
    .expect("re-sent today");
    // Statistics: minute buckets 31 days and more back (pruned, in several chunks) and one 29
    // days back (kept); day buckets 401 days back (pruned) and 399 (kept).
    const OLD_MINUTES: i64 = 2_500;
    let now = Utc::now();
    let mut buckets: Vec<(&str, DateTime<Utc>)> = (0..OLD_MINUTES)
        .map(|m| ("minute", now - TimeDelta::days(31) - TimeDelta::minutes(m)))
        .collect();
    buckets.push(("minute", now - TimeDelta::days(29)));
    buckets.push(("day", now - TimeDelta::days(401)));
    buckets.push(("day", now - TimeDelta::days(399)));
    for chunk in buckets.chunks(BATCH) {
        let mut query = QueryBuilder::<MySql>::new(
            "insert into endpoint_stats (endpoint_id, span, bucket_start, succeeded) ",
        );
        query.push_values(chunk, |mut row, (span, at)| {
            row.push_bind(&endpoint)
                .push_bind(*span)
                .push_bind(at.naive_utc())
                .push_bind(1);
        });
        query.build().execute(&db.pool).await.expect("old buckets");
    }
    let expected = Pruned {
        deliveries: OLD_EVENTS as u64 + 1,
        attempts: 2 * OLD_EVENTS as u64 + 1,
        events: OLD_EVENTS as u64,
        stats: OLD_MINUTES as u64 + 1,
    };

    // `orders-api admin prune --dry-run` counts it all and deletes nothing.
    let env = api_env(&db, free_port());
    let output = Command::new(binary("orders-api"))
        .args(["admin", "prune", "--dry-run"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("admin prune runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!(
            "would delete {} deliveries, {} attempts and {} events final and older than 30 days, \
             and {} statistics buckets past their retention",
            expected.deliveries, expected.attempts, expected.events, expected.stats
        )
    );
    assert_eq!(
        db.count("webhook_attempts").await,
        2 * OLD_EVENTS as i64 + 6
    );

    // Prune while orders are placed and moved along.
    let policy = Policy {
        keep: Duration::from_secs(30 * 86_400),
        pause: Duration::from_millis(5),
        every: Duration::from_secs(3_600),
    };
    let pruning = tokio::spawn({
        let pool = db.pool.clone();
        async move {
            retention::prune_once(&pool, &policy, "test-holder", &CancellationToken::new()).await
        }
    });
    const ORDERS: usize = 20;
    for n in 0..ORDERS {
        let order = app.order(&key, &format!("PO-{n}")).await;
        for status in &LIFECYCLE[..2] {
            app.advance(&order, status).await;
        }
    }
    let pruned = pruning
        .await
        .expect("the prune task")
        .expect("no database error, no lock wait")
        .expect("the lease was free");
    assert_eq!(pruned, expected);

    // Every new delivery is delivered; what was kept is exactly what had to be.
    let new = (ORDERS * 3) as i64;
    eventually(
        Duration::from_secs(60),
        "every new delivery delivered",
        || async {
            let statuses = e2e::delivery_statuses(&db).await;
            (statuses.get("delivered") == Some(&new)).then_some(())
        },
    )
    .await;
    receiver.wait_for(ORDERS * 3, "every new webhook").await;
    assert_eq!(db.count("webhook_events").await, 3 + new);
    assert_eq!(db.count("webhook_deliveries").await, 3 + new);
    let statuses = e2e::delivery_statuses(&db).await;
    assert_eq!(statuses.get("pending"), Some(&2), "{statuses:?}");
    assert_eq!(statuses.get("failed"), Some(&1), "{statuses:?}");
    assert_eq!(
        db.number("select count(*) from webhook_attempts where started_at < utc_timestamp() - interval 1 day")
            .await,
        1 + 3 + 1,
        "the kept deliveries' attempts stay"
    );
    assert_eq!(
        db.number(
            "select count(*) from endpoint_stats
              where bucket_start < utc_timestamp() - interval 1 day"
        )
        .await,
        2,
        "the minute bucket within 30 days and the day bucket within 400 stay"
    );
    assert_eq!(
        retention::plan(&db.pool, Utc::now() - TimeDelta::days(30))
            .await
            .expect("plan"),
        Pruned::default()
    );

    // One instance at a time: the lease is held until released, or until it expires.
    assert!(retention::hold_lease(&db.pool, "a").await.expect("lease"));
    assert!(!retention::hold_lease(&db.pool, "b").await.expect("lease"));
    assert!(retention::hold_lease(&db.pool, "a").await.expect("renewed"));
    retention::release_lease(&db.pool, "a")
        .await
        .expect("released");
    assert!(
        retention::hold_lease(&db.pool, "b")
            .await
            .expect("taken over")
    );
    app.stop().await;
    db.drop_database().await;
}
