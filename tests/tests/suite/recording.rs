//! Claiming and recording in batches: what one pass loads, and what a batch of attempt
//! records writes when some leases are no longer held.

use std::time::Duration;

use delivery::client::AttemptResult;
use delivery::recorder::Recorder;
use delivery::store::{self, AttemptRecord, Next};
use domain::signing::SigningSecret;
use e2e::TestDb;

use crate::support::{dev_keyring, seed, tracking};

const LEASE: Duration = Duration::from_secs(60);

fn answered(status: u16) -> AttemptResult {
    let success = (200..300).contains(&status);
    AttemptResult {
        status: Some(status),
        error_class: (!success).then_some(domain::state::ErrorClass::Http),
        error_message: (!success).then(|| format!("HTTP {status}")),
        response_headers: Some("{}".into()),
        response_excerpt: format!("answer {status}").into_bytes(),
        retry_after: None,
        duration: Duration::from_millis(3),
    }
}

/// `(status, attempt_count, lease_token, failure_reason, last_status_code, due in ≥ 5 s)`.
type Row = (
    String,
    u32,
    Option<String>,
    Option<String>,
    Option<u16>,
    i64,
);

async fn row(db: &TestDb, id: &domain::ids::DeliveryId) -> Row {
    sqlx::query_as(
        r"select status, attempt_count, lease_token, failure_reason, last_status_code,
                 next_attempt_at >= utc_timestamp(6) + interval 5 second
          from webhook_deliveries where id = ?",
    )
    .bind(id.as_str())
    .fetch_one(&db.pool)
    .await
    .expect("delivery row")
}

#[tokio::test]
async fn one_claim_loads_every_delivery_with_its_own_endpoints_secrets() {
    let db = TestDb::new().await;
    let first = seed(&db, "http://127.0.0.1:9/a", 2).await;
    let second = seed(&db, "http://127.0.0.1:9/b", 1).await;

    let claimed = store::claim_due(&db.pool, 10, LEASE).await.expect("claim");
    assert_eq!(claimed.len(), 3);
    assert!(
        store::claim_due(&db.pool, 10, LEASE)
            .await
            .expect("second claim")
            .is_empty(),
        "claimed rows are leased"
    );
    let keyring = dev_keyring();
    for c in &claimed {
        let expected = if first.deliveries.contains(&c.claim.delivery_id) {
            &first.secret
        } else {
            assert!(second.deliveries.contains(&c.claim.delivery_id));
            &second.secret
        };
        assert_eq!(c.claim.attempt_count, 0);
        assert!(c.work.endpoint_active);
        assert_eq!(c.work.sealed_secrets.len(), 1);
        let opened = keyring
            .open(c.work.endpoint_id.as_str(), &c.work.sealed_secrets[0])
            .expect("the secret opens under its own endpoint id");
        let opened = SigningSecret::from_bytes(opened).expect("secret");
        assert_eq!(opened.as_bytes(), expected.as_bytes());
        let payload: Vec<u8> =
            sqlx::query_scalar("select payload from webhook_events where id = ?")
                .bind(c.work.event_id.as_str())
                .fetch_one(&db.pool)
                .await
                .expect("event");
        assert_eq!(c.work.payload, payload);
    }
    db.drop_database().await;
}

#[tokio::test]
async fn a_batch_writes_only_the_records_whose_lease_is_still_held() {
    let db = TestDb::new().await;
    let seeded = seed(&db, "http://127.0.0.1:9/hook", 4).await;
    let mut claimed = store::claim_due(&db.pool, 10, LEASE).await.expect("claim");
    claimed.sort_by(|a, b| a.claim.delivery_id.cmp(&b.claim.delivery_id));
    let ids = &seeded.deliveries;
    assert_eq!(
        claimed
            .iter()
            .map(|c| &c.claim.delivery_id)
            .collect::<Vec<_>>(),
        ids.iter().collect::<Vec<_>>()
    );
    // The second lease expired and another consumer took the row; the third delivery was
    // failed while its attempt was in flight (its endpoint was disabled).
    sqlx::query("update webhook_deliveries set lease_token = 'someone-else' where id = ?")
        .bind(ids[1].as_str())
        .execute(&db.pool)
        .await
        .expect("steal the lease");
    sqlx::query(
        "update webhook_deliveries set status = 'failed', failure_reason = 'endpoint_disabled' where id = ?",
    )
    .bind(ids[2].as_str())
    .execute(&db.pool)
    .await
    .expect("fail mid-attempt");

    let outcomes = [
        (200, Next::Delivered),
        (200, Next::Delivered),
        (500, Next::Retry(Duration::from_secs(30))),
        (503, Next::Retry(Duration::from_secs(30))),
    ];
    let started_at = domain::time::now();
    let records: Vec<AttemptRecord> = claimed
        .into_iter()
        .zip(outcomes)
        .map(|(c, (status, next))| AttemptRecord {
            claim: c.claim,
            started_at,
            result: answered(status),
            next,
            endpoint_failing: false,
        })
        .collect();
    let recorded = store::record_attempts(&db.pool, &records, &tracking())
        .await
        .expect("record");
    assert_eq!(recorded.written, [true, false, true, true]);

    assert_eq!(
        row(&db, &ids[0]).await,
        ("delivered".into(), 1, None, None, Some(200), 0)
    );
    assert_eq!(
        row(&db, &ids[1]).await,
        (
            "pending".into(),
            0,
            Some("someone-else".into()),
            None,
            None,
            0
        ),
        "a lost lease writes nothing"
    );
    assert_eq!(
        row(&db, &ids[2]).await,
        (
            "failed".into(),
            1,
            None,
            Some("endpoint_disabled".into()),
            Some(500),
            1
        ),
        "failed mid-attempt stays failed, with its reason"
    );
    assert_eq!(
        row(&db, &ids[3]).await,
        ("pending".into(), 1, None, None, Some(503), 1)
    );
    let attempts: Vec<(String, u32, Option<u16>, Vec<u8>)> = sqlx::query_as(
        "select delivery_id, attempt, status_code, response_excerpt from webhook_attempts order by delivery_id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("attempts");
    assert_eq!(
        attempts,
        [
            (ids[0].to_string(), 1, Some(200), b"answer 200".to_vec()),
            (ids[2].to_string(), 1, Some(500), b"answer 500".to_vec()),
            (ids[3].to_string(), 1, Some(503), b"answer 503".to_vec()),
        ]
    );
    db.drop_database().await;
}

#[tokio::test]
async fn concurrent_records_are_all_written_through_the_recorder() {
    let db = TestDb::new().await;
    seed(&db, "http://127.0.0.1:9/hook", 40).await;
    let claimed = store::claim_due(&db.pool, 40, LEASE).await.expect("claim");
    assert_eq!(claimed.len(), 40);
    let recorder = Recorder::new(db.pool.clone(), tracking());
    let started_at = domain::time::now();
    let written = futures::future::join_all(claimed.into_iter().map(|c| {
        let recorder = recorder.clone();
        async move {
            recorder
                .record(AttemptRecord {
                    claim: c.claim,
                    started_at,
                    result: answered(204),
                    next: Next::Delivered,
                    endpoint_failing: false,
                })
                .await
                .expect("recorded")
        }
    }))
    .await;
    assert!(written.iter().all(|w| *w));
    let (delivered, attempts): (i64, i64) = sqlx::query_as(
        r"select (select count(*) from webhook_deliveries where status = 'delivered' and lease_token is null),
                 (select count(*) from webhook_attempts where status_code = 204)",
    )
    .fetch_one(&db.pool)
    .await
    .expect("counts");
    assert_eq!((delivered, attempts), (40, 40));
    db.drop_database().await;
}
