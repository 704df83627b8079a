//! The delivery platform through the API: delivery log, retry, recover, test events, secret
//! rotation, endpoint health, and secrets at rest.

use std::time::Duration;

use e2e::{Receiver, Reply, TestApp, TestDb, eventually, str_field};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn deliveries(app: &TestApp, key: &str, endpoint: &str, query: &str) -> Value {
    let (status, page) = app
        .call(
            "GET",
            &format!("/v1/webhook-endpoints/{endpoint}/deliveries{query}"),
            Some(key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| str_field(d, "id"))
        .collect()
}

async fn wait_for_status(db: &TestDb, status: &str, count: i64) {
    eventually(
        Duration::from_secs(30),
        &format!("{count} {status} deliveries"),
        || async {
            let statuses = e2e::delivery_statuses(db).await;
            (statuses.get(status) == Some(&count)).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_delivery_log_lists_filters_and_shows_attempts() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let receiver = Receiver::start_with(|n| {
        if n < 2 {
            Reply::status(500)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let (_, key) = app.customer("Acme").await;
    let (_, other_key) = app.customer("Other").await;
    let (endpoint, _) = app.endpoint(&key, &receiver.url, None).await;
    let order = app.order(&key, "PO-1").await;
    wait_for_status(&db, "delivered", 1).await;
    app.advance(&order, "confirmed").await;
    wait_for_status(&db, "delivered", 2).await;

    let all = deliveries(&app, &key, &endpoint, "").await;
    assert_eq!(ids(&all).len(), 2);
    let created = deliveries(&app, &key, &endpoint, "?event_type=order.created").await;
    assert_eq!(created["data"][0]["event_type"], "order.created");
    assert_eq!(ids(&created).len(), 1);
    assert_eq!(
        ids(&deliveries(&app, &key, &endpoint, "?status=delivered").await).len(),
        2
    );
    assert!(ids(&deliveries(&app, &key, &endpoint, "?status=failed").await).is_empty());
    assert!(
        ids(&deliveries(&app, &key, &endpoint, "?created_after=2999-01-01T00:00:00Z").await)
            .is_empty()
    );
    assert!(
        ids(&deliveries(
            &app,
            &key,
            &endpoint,
            "?created_before=2000-01-01T00:00:00Z"
        )
        .await)
        .is_empty()
    );
    assert_eq!(
        ids(&deliveries(&app, &key, &endpoint, "?created_after=2000-01-01T00:00:00Z").await).len(),
        2
    );
    let first = deliveries(&app, &key, &endpoint, "?limit=1").await;
    let cursor = str_field(&first, "next_cursor");
    let second = deliveries(&app, &key, &endpoint, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!([ids(&first), ids(&second)].concat(), ids(&all));
    for bad in [
        "?status=lost",
        "?event_type=order.lost",
        "?created_after=yesterday",
        "?limit=0",
        "?cursor=zzz",
    ] {
        let (status, _) = app
            .call(
                "GET",
                &format!("/v1/webhook-endpoints/{endpoint}/deliveries{bad}"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/webhook-endpoints/{endpoint}/deliveries"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The delivery that failed twice before succeeding shows all three attempts.
    let first_delivered = all["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|d| d["attempt_count"] == 3);
    let id = str_field(
        first_delivered.expect("a delivery with three attempts"),
        "id",
    );
    let (status, delivery) = app
        .call(
            "GET",
            &format!("/v1/webhook-deliveries/{id}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{delivery}");
    assert_eq!(delivery["status"], "delivered");
    assert_eq!(delivery["next_attempt_at"], Value::Null);
    let attempts = delivery["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[0]["error_class"], "http");
    assert_eq!(attempts[0]["response_body"], "ok");
    assert!(
        attempts[0]["response_headers"]["content-length"].is_string(),
        "{delivery}"
    );
    assert_eq!(attempts[2]["status_code"], 200);
    assert_eq!(attempts[2]["error_class"], Value::Null);
    assert!(delivery["payload"]["data"]["order"]["id"].is_string());
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/webhook-deliveries/{id}"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_slow_endpoint_does_not_hold_back_deliveries_to_others() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| config.delivery.webhook_timeout_ms = 60_000).await;
    let slow = Receiver::start_with(|_| Reply {
        delay: Duration::from_secs(20),
        ..Reply::status(200)
    })
    .await;
    let fast = Receiver::start().await;
    let (_, slow_key) = app.customer("Slow").await;
    let (_, fast_key) = app.customer("Fast").await;
    let (slow_endpoint, _) = app.endpoint(&slow_key, &slow.url, None).await;
    app.endpoint(&fast_key, &fast.url, None).await;

    app.order(&slow_key, "PO-slow").await;
    slow.wait_for(1, "the slow endpoint's request").await;
    // The slow endpoint now holds its request for 20 s; an order placed meanwhile reaches
    // the other endpoint without waiting for that attempt to end.
    app.order(&fast_key, "PO-fast").await;
    fast.wait_for(1, "the fast endpoint's request").await;
    let slow_attempts: i64 = sqlx::query_scalar(
        "select count(*) from webhook_attempts a
         join webhook_deliveries d on d.id = a.delivery_id where d.endpoint_id = ?",
    )
    .bind(&slow_endpoint)
    .fetch_one(&db.pool)
    .await
    .expect("attempts");
    assert_eq!(
        slow_attempts, 0,
        "the other delivery was sent only after the slow attempt ended"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn failed_deliveries_can_be_retried_and_recovered_with_the_same_webhook_id() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| {
        config.delivery.webhook_retry_schedule = "0,1".parse().expect("schedule");
    })
    .await;
    let receiver = Receiver::start_with(|_| Reply::status(500)).await;
    let (_, key) = app.customer("Acme").await;
    let (_, other_key) = app.customer("Other").await;
    let (endpoint, secret) = app.endpoint(&key, &receiver.url, None).await;
    let order = app.order(&key, "PO-1").await;
    app.advance(&order, "confirmed").await;
    wait_for_status(&db, "failed", 2).await;
    let failed = deliveries(&app, &key, &endpoint, "?status=failed").await;
    assert_eq!(failed["data"][0]["failure_reason"], "attempts_exhausted");
    assert_eq!(failed["data"][0]["attempt_count"], 2);
    let [newest, oldest] = [0, 1].map(|i| str_field(&failed["data"][i], "id"));

    receiver.set_behaviour(|_| Reply::status(200));
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/webhook-deliveries/{newest}/retry"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, queued) = app
        .call(
            "POST",
            &format!("/v1/webhook-deliveries/{newest}/retry"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    wait_for_status(&db, "delivered", 1).await;
    let (_, delivery) = app
        .call(
            "GET",
            &format!("/v1/webhook-deliveries/{newest}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(delivery["attempt_count"], 3, "one more attempt");

    let (status, problem) = app
        .call(
            "POST",
            &format!("/v1/webhook-endpoints/{endpoint}/recover"),
            Some(&key),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, recovered) = app
        .call(
            "POST",
            &format!("/v1/webhook-endpoints/{endpoint}/recover"),
            Some(&key),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{recovered}");
    assert_eq!(recovered["queued"], 1);
    wait_for_status(&db, "delivered", 2).await;

    // Every request for one delivery carried the same webhook-id, and every one verifies.
    let event_of = |id: &str| {
        let id = id.to_owned();
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("select event_id from webhook_deliveries where id = ?")
                .bind(id)
                .fetch_one(&pool)
                .await
                .expect("event")
        }
    };
    for delivery in [&newest, &oldest] {
        let event = event_of(delivery).await;
        let requests: Vec<_> = receiver
            .received()
            .into_iter()
            .filter(|r| r.header("webhook-id") == event)
            .collect();
        assert_eq!(
            requests.len(),
            3,
            "two scheduled attempts and one manual for {delivery}"
        );
        for request in requests {
            request.verify(&secret).expect("verifies");
        }
    }
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn test_events_and_secret_rotation() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let receiver = Receiver::start().await;
    let (_, key) = app.customer("Acme").await;
    let (endpoint, old) = app
        .endpoint(&key, &receiver.url, Some(&["order.created"]))
        .await;
    let send_test = || async {
        let (status, queued) = app
            .call(
                "POST",
                &format!("/v1/webhook-endpoints/{endpoint}/test"),
                Some(&key),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        let event = str_field(&queued, "event_id");
        eventually(Duration::from_secs(10), "the test event", || async {
            receiver
                .received()
                .into_iter()
                .find(|r| r.header("webhook-id") == event)
        })
        .await
    };
    let first = send_test().await;
    assert_eq!(first.json()["type"], "webhook.test");
    assert_eq!(first.json()["data"]["endpoint_id"], endpoint.as_str());
    first.verify(&old).expect("verifies");

    let (status, problem) = app
        .call(
            "POST",
            &format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            Some(&key),
            Some(json!({"grace_period_seconds": 604_801})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, rotated) = app
        .call(
            "POST",
            &format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            Some(&key),
            Some(json!({"grace_period_seconds": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new =
        domain::signing::SigningSecret::parse(&str_field(&rotated, "secret")).expect("secret");
    let expires: chrono::DateTime<chrono::Utc> = str_field(&rotated, "previous_secret_expires_at")
        .parse()
        .expect("time");

    let during = send_test().await;
    assert_eq!(
        during.header("webhook-signature").split(' ').count(),
        2,
        "both secrets sign"
    );
    during
        .verify(&old)
        .expect("the old secret verifies during the grace period");
    during
        .verify(&new)
        .expect("the new secret verifies during the grace period");

    eventually(
        Duration::from_secs(10),
        "the grace period to end",
        || async { (chrono::Utc::now() > expires).then_some(()) },
    )
    .await;
    let after = send_test().await;
    after.verify(&new).expect("the new secret verifies");
    assert!(
        after.verify(&old).is_err(),
        "the old secret no longer verifies"
    );
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);

    // Without a body the default grace period applies.
    let (status, rotated) = app
        .call(
            "POST",
            &format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");

    // Secrets at rest are sealed: neither the key bytes nor the whsec_ form are stored.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("select ciphertext from webhook_endpoint_secrets")
            .fetch_all(&db.pool)
            .await
            .expect("secrets");
    assert_eq!(stored.len(), 3);
    for sealed in stored {
        for secret in [&old, &new] {
            assert!(
                !sealed
                    .windows(secret.as_bytes().len())
                    .any(|w| w == secret.as_bytes())
            );
            let whsec = secret.to_whsec();
            assert!(!sealed.windows(whsec.len()).any(|w| w == whsec.as_bytes()));
        }
    }
    let (_, shown) = app
        .call(
            "GET",
            &format!("/v1/webhook-endpoints/{endpoint}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        shown.get("secret"),
        None,
        "the secret is shown only on creation and rotation"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn gone_endpoints_are_disabled_and_failing_ones_auto_disabled() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| {
        config.delivery.endpoint_auto_disable_after_seconds = 1;
        config.delivery.webhook_retry_schedule = "0,1,1,1,1".parse().expect("schedule");
    })
    .await;
    let gone = Receiver::start_with(|_| Reply::status(410)).await;
    let failing = Receiver::start_with(|_| Reply::status(500)).await;
    let (_, key) = app.customer("Acme").await;
    let (gone_endpoint, _) = app.endpoint(&key, &gone.url, None).await;
    let (failing_endpoint, _) = app.endpoint(&key, &failing.url, None).await;
    let order = app.order(&key, "PO-1").await;

    let endpoint = |id: String| {
        let app = &app;
        let key = key.clone();
        async move {
            app.call(
                "GET",
                &format!("/v1/webhook-endpoints/{id}"),
                Some(&key),
                None,
            )
            .await
            .1
        }
    };
    eventually(
        Duration::from_secs(20),
        "the 410 endpoint disabled",
        || async {
            (endpoint(gone_endpoint.clone()).await["disabled_reason"] == "gone").then_some(())
        },
    )
    .await;
    assert_eq!(gone.received().len(), 1, "no attempt after 410");
    eventually(
        Duration::from_secs(30),
        "the failing endpoint auto-disabled",
        || async {
            (endpoint(failing_endpoint.clone()).await["disabled_reason"] == "auto_disabled")
                .then_some(())
        },
    )
    .await;
    let disabled = endpoint(failing_endpoint.clone()).await;
    assert_eq!(disabled["enabled"], false);
    let reasons: Vec<(String, Option<String>)> = sqlx::query_as(
        "select status, failure_reason from webhook_deliveries order by endpoint_id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("deliveries");
    assert!(
        reasons.iter().all(|(status, _)| status == "failed"),
        "{reasons:?}"
    );

    // Disabled endpoints get no new deliveries.
    let before = db.count("webhook_deliveries").await;
    app.advance(&order, "confirmed").await;
    assert_eq!(db.count("webhook_deliveries").await, before);

    // Re-enabling resets the clock.
    let (status, enabled) = app
        .call(
            "PATCH",
            &format!("/v1/webhook-endpoints/{failing_endpoint}"),
            Some(&key),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(
        (
            enabled["enabled"].clone(),
            enabled["disabled_reason"].clone()
        ),
        (json!(true), Value::Null)
    );
    let failing_since: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select failing_since from webhook_endpoints where id = ?")
            .bind(&failing_endpoint)
            .fetch_one(&db.pool)
            .await
            .expect("endpoint");
    assert_eq!(failing_since, None);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_a_secrets_key() {
    for (env, expected) in [
        (
            vec![
                ("APP_ENV", "prod"),
                (
                    "DATABASE_URL",
                    "mysql://u:p@127.0.0.1:3306/x?ssl-mode=VERIFY_IDENTITY",
                ),
            ],
            "SECRETS_KEY",
        ),
        (vec![("APP_ENV", "prod")], "DATABASE_URL or DSN"),
        (
            vec![
                ("APP_ENV", "prod"),
                ("DATABASE_URL", "mysql://u:p@127.0.0.1:3306/x"),
                ("SECRETS_KEY", domain::secret_box::DEV_SECRETS_KEY_BASE64),
            ],
            "ssl-mode=VERIFY_IDENTITY",
        ),
    ] {
        let output = std::process::Command::new(e2e::binary("orders-api"))
            .env_clear()
            .envs(env.clone())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{env:?} started");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
    }
}

#[tokio::test]
async fn a_host_that_does_not_resolve_yet_is_registered_with_a_warning_and_vetted_at_every_send() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let register = |url: &str| {
        app.call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(json!({ "url": url })),
        )
    };
    // `.invalid` never resolves (RFC 6761): a host whose DNS is not live yet.
    let (status, created) = register("https://hooks.mechanica.invalid/orders").await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let warnings = created["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "{created}");
    assert!(
        warnings[0]
            .as_str()
            .is_some_and(|w| w.contains("hooks.mechanica.invalid")),
        "{created}"
    );
    let endpoint = str_field(&created, "id");
    let path = format!("/v1/webhook-endpoints/{endpoint}");
    let (_, read) = app.call("GET", &path, Some(&key), None).await;
    assert!(
        read.get("warnings").is_none(),
        "only the answer warns: {read}"
    );

    // Every send vets the host again: the attempt fails as a DNS failure.
    app.order(&key, "PO-1").await;
    let dns = domain::state::ErrorClass::Dns.as_str();
    eventually(Duration::from_secs(30), "a failed DNS attempt", || async {
        let failed: i64 =
            sqlx::query_scalar("select count(*) from webhook_attempts where error_class = ?")
                .bind(dns)
                .fetch_one(&db.pool)
                .await
                .ok()?;
        (failed >= 1).then_some(())
    })
    .await;

    // Re-pointing it to another such host warns too; a host that resolves says nothing.
    let (status, updated) = app
        .call(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({ "url": "https://next.mechanica.invalid/orders" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["warnings"].as_array().map(Vec::len), Some(1));
    let (status, updated) = app
        .call(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({ "url": "http://127.0.0.1:9/orders" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert!(updated.get("warnings").is_none(), "{updated}");

    // What is unsafe whatever DNS answers later is still refused, and writes nothing.
    for url in [
        "http://10.0.0.1/orders",
        "http://169.254.169.254/latest/meta-data/",
        "https://user:secret@hooks.mechanica.invalid/orders",
        "ftp://hooks.mechanica.invalid/orders",
    ] {
        let (status, problem) = register(url).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
    }
    assert_eq!(db.count("webhook_endpoints").await, 1);
    db.drop_database().await;
}
