//! Endpoint statistics: kept by the attempt recorder, read per bucket through the API.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use e2e::{Receiver, Reply, TestApp, TestDb, eventually};
use reqwest::StatusCode;
use serde_json::Value;

/// The sum of one outcome over every bucket of `stats`.
fn sum(stats: &Value, outcome: &str) -> u64 {
    stats["data"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["attempts"][outcome].as_u64().expect("a count"))
        .sum()
}

#[tokio::test]
async fn statistics_count_every_attempt_by_outcome_and_time_without_reading_the_log() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let fast = Receiver::start_with(|_| Reply {
        delay: Duration::from_millis(60),
        ..Reply::status(200)
    })
    .await;
    let failing = Receiver::start_with(|_| Reply::status(500)).await;
    let (_, key) = app.customer("Acme").await;
    let (ok_endpoint, _) = app.endpoint(&key, &fast.url, None).await;
    let (bad_endpoint, _) = app.endpoint(&key, &failing.url, None).await;
    const ORDERS: usize = 6;
    for n in 0..ORDERS {
        app.order(&key, &format!("PO-STATS-{n}")).await;
    }
    eventually(Duration::from_secs(60), "every delivery final", || async {
        let statuses = e2e::delivery_statuses(&db).await;
        (!statuses.contains_key("pending") && statuses.values().sum::<i64>() == 2 * ORDERS as i64)
            .then_some(())
    })
    .await;
    let attempts = |endpoint: &str| {
        let sql = format!(
            "select count(*) from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id
              where d.endpoint_id = '{endpoint}'"
        );
        let db = &db;
        async move { db.number(&sql).await as u64 }
    };
    let stats = |endpoint: String, query: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let (status, body) = app
                .call(
                    "GET",
                    &format!("/v1/webhook-endpoints/{endpoint}/stats{query}"),
                    Some(&key),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };

    // Hours of the last day (the default): every attempt once, by outcome.
    let ok = stats(ok_endpoint.clone(), "").await;
    assert_eq!(ok["bucket"], "hour");
    let buckets = ok["data"].as_array().expect("buckets");
    assert!((24..=25).contains(&buckets.len()), "{}", buckets.len());
    assert_eq!(sum(&ok, "total"), attempts(&ok_endpoint).await);
    assert_eq!(sum(&ok, "succeeded"), ORDERS as u64);
    let now = buckets.last().expect("the current hour");
    assert_eq!(now["success_rate"], 1.0);
    let p50 = now["latency_ms"]["p50"].as_f64().expect("a median");
    assert!((50.0..=100.0).contains(&p50), "60 ms answers: p50 {p50}");
    let earlier = &buckets[0];
    assert_eq!(earlier["attempts"]["total"], 0);
    assert_eq!(earlier["success_rate"], Value::Null);
    assert_eq!(earlier["latency_ms"]["p50"], Value::Null);

    // The failing endpoint: four attempts per delivery (the schedule), every one a 500.
    let since =
        (Utc::now() - TimeDelta::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, bad) = app
        .call(
            "GET",
            &format!("/v1/webhook-endpoints/{bad_endpoint}/stats?bucket=minute&since={since}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bad}");
    // From the minute holding `since` to the one holding now.
    let minutes = bad["data"].as_array().map_or(0, Vec::len);
    assert!((60..=61).contains(&minutes), "{minutes}");
    assert_eq!(sum(&bad, "total"), 4 * ORDERS as u64);
    assert_eq!(sum(&bad, "total"), attempts(&bad_endpoint).await);
    assert_eq!(sum(&bad, "http"), 4 * ORDERS as u64);
    assert_eq!(sum(&bad, "succeeded"), 0);
    let day = stats(bad_endpoint.clone(), "?bucket=day").await;
    assert_eq!(sum(&day, "total"), 4 * ORDERS as u64);

    // Bad reads change nothing and say why.
    for (query, field) in [
        ("?bucket=week", "bucket"),
        (
            "?since=2026-11-22T10:00:00Z&until=2026-11-22T09:00:00Z",
            "since",
        ),
        (
            "?bucket=minute&since=2026-11-20T00:00:00Z&until=2026-11-22T00:00:00Z",
            "bucket",
        ),
        ("?since=yesterday", "since"),
    ] {
        let (status, problem) = app
            .call(
                "GET",
                &format!("/v1/webhook-endpoints/{ok_endpoint}/stats{query}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {problem}"
        );
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
    let (_, other) = app.customer("Globex").await;
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/webhook-endpoints/{ok_endpoint}/stats"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another customer's endpoint");
    app.stop().await;
    db.drop_database().await;
}
