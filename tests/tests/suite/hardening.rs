//! The hardened API: validation tables, pagination, idempotency, the tenant matrix, API keys,
//! limits, metrics and the blue/green drain.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::{
    Api, ApiProcess, Process, TestApp, TestDb, api_env, eventually, eventually_every, free_port,
    metric, order_body, str_field, wait_ready,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends `body` and expects 422 naming exactly `fields`, or success when `fields` is empty.
async fn expect_fields(
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    body: Value,
    fields: &[&str],
) {
    let (status, response) = app.call(method, path, Some(key), Some(body.clone())).await;
    if fields.is_empty() {
        assert!(status.is_success(), "{path} {body}: {status} {response}");
        return;
    }
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{path} {body}: {response}"
    );
    let reported: Vec<&str> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(reported, fields, "{path} {body}");
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').expect("pointer");
    let target = body.pointer_mut(parent).expect("parent exists");
    match target {
        Value::Object(map) => {
            if value.is_null() && key.starts_with('-') {
                map.remove(&key[1..]);
            } else {
                map.insert(key.to_owned(), value);
            }
        }
        Value::Array(items) => items[key.parse::<usize>().expect("index")] = value,
        _ => panic!("{pointer}"),
    }
    body
}

#[tokio::test]
async fn every_order_field_is_validated_and_rejections_write_nothing() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let long = |n: usize| json!("x".repeat(n));
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("/reference", json!(""), vec!["reference"]),
        ("/reference", json!(" PO-1"), vec!["reference"]),
        ("/reference", long(65), vec!["reference"]),
        ("/reference", json!(42), vec!["reference"]),
        ("/reference", json!("PO\u{7}1"), vec!["reference"]),
        ("/origin/name", json!("  "), vec!["origin.name"]),
        ("/origin/line1", long(201), vec!["origin.line1"]),
        ("/origin/line2", long(201), vec!["origin.line2"]),
        ("/origin/city", json!(""), vec!["origin.city"]),
        ("/origin/region", long(101), vec!["origin.region"]),
        ("/origin/postal_code", long(21), vec!["origin.postal_code"]),
        ("/origin/country", json!("XX"), vec!["origin.country"]),
        (
            "/destination/country",
            json!("de"),
            vec!["destination.country"],
        ),
        ("/destination/-city", Value::Null, vec!["destination.city"]),
        ("/destination/extra", json!(1), vec!["destination.extra"]),
        (
            "/parcels/0/weight_grams",
            json!(0),
            vec!["parcels[0].weight_grams"],
        ),
        (
            "/parcels/0/length_mm",
            json!(10_001),
            vec!["parcels[0].length_mm"],
        ),
        (
            "/parcels/0/width_mm",
            json!(-1),
            vec!["parcels[0].width_mm"],
        ),
        (
            "/parcels/0/height_mm",
            json!(1.5),
            vec!["parcels[0].height_mm"],
        ),
        ("/parcels", json!([]), vec!["parcels"]),
        (
            "/parcels",
            json!(vec![
                json!({"weight_grams": 1, "length_mm": 1, "width_mm": 1, "height_mm": 1});
                51
            ]),
            vec!["parcels"],
        ),
        ("/carrier", long(65), vec!["carrier"]),
        ("/tracking_number", json!(""), vec!["tracking_number"]),
        (
            "/estimated_delivery_at",
            json!("tomorrow"),
            vec!["estimated_delivery_at"],
        ),
        ("/metadata", json!({"": "x"}), vec!["metadata."]),
        (
            "/metadata",
            json!({"k": "x".repeat(501)}),
            vec!["metadata.k"],
        ),
        ("/metadata", json!({"k": 1}), vec!["metadata.k"]),
    ];
    for (pointer, value, fields) in cases {
        let body = with(order_body("PO-V"), pointer, value);
        expect_fields(&app, "POST", "/v1/orders", &key, body, &fields).await;
    }
    for table in ["orders", "order_status_history", "webhook_events"] {
        assert_eq!(
            db.count(table).await,
            0,
            "{table} written by a rejected request"
        );
    }
    let accepted = [
        ("/reference", json!("x".repeat(64))),
        ("/origin/country", json!("JP")),
        (
            "/parcels",
            json!(vec![
                json!({"weight_grams": 1, "length_mm": 1, "width_mm": 1, "height_mm": 1});
                50
            ]),
        ),
        ("/carrier", json!("DHL")),
        ("/tracking_number", json!("JJD0099999999")),
        ("/estimated_delivery_at", json!("2026-12-01T12:00:00+01:00")),
        ("/metadata", json!({"warehouse": "R7", "priority": "high"})),
        ("/-parcels", Value::Null),
    ];
    for (n, (pointer, value)) in accepted.into_iter().enumerate() {
        let body = with(order_body(&format!("PO-OK-{n}")), pointer, value);
        expect_fields(&app, "POST", "/v1/orders", &key, body, &[]).await;
    }
    let (_, listed) = app
        .call("GET", "/v1/orders?limit=100", Some(&key), None)
        .await;
    let shipped = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|o| o["carrier"] == "DHL")
        .expect("carrier stored");
    assert_eq!(shipped["metadata"], json!({}));
    let dated = listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|o| !o["estimated_delivery_at"].is_null())
        .expect("date stored");
    assert_eq!(dated["estimated_delivery_at"], "2026-12-01T11:00:00.000Z");

    let order = app.order(&key, "PO-S").await;
    let status_path = format!("/v1/orders/{order}/status");
    for (body, fields) in [
        (json!({}), vec!["status"]),
        (json!({"status": "shipped"}), vec!["status"]),
        (
            json!({"status": "confirmed", "detail": "x".repeat(501)}),
            vec!["detail"],
        ),
        (
            json!({"status": "confirmed", "location": ""}),
            vec!["location"],
        ),
        (
            json!({"status": "confirmed", "colour": "red"}),
            vec!["colour"],
        ),
    ] {
        expect_fields(&app, "POST", &status_path, &app.operator_key, body, &fields).await;
    }
    for (body, fields) in [
        (json!({}), vec!["url"]),
        (
            json!({"url": "http://127.0.0.1:9/x", "description": "x".repeat(501)}),
            vec!["description"],
        ),
        (
            json!({"url": "http://127.0.0.1:9/x", "event_types": ["order.created", "order.created"]}),
            vec!["event_types[1]"],
        ),
        (
            json!({"url": "http://127.0.0.1:9/x", "event_types": ["order.lost"]}),
            vec!["event_types[0]"],
        ),
        (json!({"url": "http://169.254.169.254/"}), vec!["url"]),
    ] {
        expect_fields(&app, "POST", "/v1/webhook-endpoints", &key, body, &fields).await;
    }
    expect_fields(
        &app,
        "POST",
        "/v1/customers",
        &app.operator_key,
        json!({"name": ""}),
        &["name"],
    )
    .await;
    expect_fields(
        &app,
        "POST",
        "/v1/api-keys",
        &key,
        json!({"name": "x".repeat(201)}),
        &["name"],
    )
    .await;
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn pages_never_skip_or_repeat_while_orders_arrive() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let mut expected = HashSet::new();
    for n in 0..25 {
        expected.insert(app.order(&key, &format!("PO-{n}")).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut n = 100;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/orders?limit=7&cursor={cursor}"),
            None => "/v1/orders?limit=7".to_owned(),
        };
        let (status, page) = app.call("GET", &path, Some(&key), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|o| str_field(o, "id")),
        );
        // Orders keep arriving between pages; they belong before the first page.
        app.order(&key, &format!("PO-{n}")).await;
        n += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "an order was repeated");
    assert_eq!(unique, expected, "an order was skipped");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, stable");

    let (_, none) = app
        .call(
            "GET",
            "/v1/orders?created_after=2999-01-01T00:00:00Z",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(none["data"], json!([]));
    let (_, all) = app
        .call(
            "GET",
            "/v1/orders?created_before=2999-01-01T00:00:00Z&limit=100",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        all["data"].as_array().map(Vec::len),
        Some(25 + seen.len().div_ceil(7))
    );
    for bad in [
        "?limit=0",
        "?limit=101",
        "?cursor=abc",
        "?status=lost",
        "?created_after=soon",
        "?unknown=1",
    ] {
        let (status, _) = app
            .call("GET", &format!("/v1/orders{bad}"), Some(&key), None)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    app.stop().await;
    db.drop_database().await;
}

async fn post_with_key(
    app: &TestApp,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> (StatusCode, Value, bool) {
    let response = app
        .http
        .post(format!("{}/v1/orders", app.base))
        .bearer_auth(key)
        .header("idempotency-key", idempotency_key)
        .json(body)
        .send()
        .await
        .expect("sent");
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
    (status, response.json().await.expect("json"), replayed)
}

#[tokio::test]
async fn idempotency_keys_replay_refuse_mismatches_and_serialize_races() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let (_, other) = app.customer("Other").await;
    let body = order_body("PO-IDEM");

    let (first_status, first, replayed) = post_with_key(&app, &key, "k-1", &body).await;
    assert_eq!(
        (first_status, replayed),
        (StatusCode::CREATED, false),
        "{first}"
    );
    let (again_status, again, replayed) = post_with_key(&app, &key, "k-1", &body).await;
    assert_eq!((again_status, replayed), (StatusCode::CREATED, true));
    assert_eq!(again, first, "the stored response is replayed");
    assert_eq!(db.count("orders").await, 1);

    let (status, problem, _) = post_with_key(&app, &key, "k-1", &order_body("PO-OTHER")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    // Keys are scoped to the caller: another customer's k-1 is its own.
    let (status, _, replayed) = post_with_key(&app, &other, "k-1", &body).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false));
    // A rejected request is replayed as rejected too.
    let (status, _, _) = post_with_key(&app, &key, "k-bad", &json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, replayed) = post_with_key(&app, &key, "k-bad", &json!({})).await;
    assert_eq!((status, replayed), (StatusCode::UNPROCESSABLE_ENTITY, true));

    // Concurrent duplicates create exactly one order.
    let race = order_body("PO-RACE");
    let attempts = (0..8).map(|_| post_with_key(&app, &key, "k-race", &race));
    let results = futures::future::join_all(attempts).await;
    let created = results
        .iter()
        .filter(|(s, _, replayed)| *s == StatusCode::CREATED && !replayed)
        .count();
    assert_eq!(
        created,
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert!(
        results
            .iter()
            .all(|(s, _, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT)
    );
    let orders: i64 = sqlx::query_scalar("select count(*) from orders where reference = 'PO-RACE'")
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(orders, 1);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_tenant_matrix_holds_on_every_route() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, alice) = app.customer("Alice").await;
    let (_, bob) = app.customer("Bob").await;
    let order = app.order(&alice, "A-1").await;
    let (endpoint, _) = app.endpoint(&alice, "http://127.0.0.1:9/a", None).await;
    let (_, created) = app
        .call(
            "POST",
            &format!("/v1/webhook-endpoints/{endpoint}/test"),
            Some(&alice),
            None,
        )
        .await;
    let delivery = str_field(&created, "delivery_id");
    let (_, key) = app
        .call(
            "POST",
            "/v1/api-keys",
            Some(&alice),
            Some(json!({"name": "ci"})),
        )
        .await;
    let alice_key_id = str_field(&key, "id");

    let alices: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/v1/orders/{order}"), None),
        ("GET", format!("/v1/orders/{order}/history"), None),
        ("POST", format!("/v1/orders/{order}/cancel"), None),
        ("GET", format!("/v1/webhook-endpoints/{endpoint}"), None),
        (
            "PATCH",
            format!("/v1/webhook-endpoints/{endpoint}"),
            Some(json!({"description": "x"})),
        ),
        ("DELETE", format!("/v1/webhook-endpoints/{endpoint}"), None),
        (
            "POST",
            format!("/v1/webhook-endpoints/{endpoint}/test"),
            None,
        ),
        (
            "POST",
            format!("/v1/webhook-endpoints/{endpoint}/rotate-secret"),
            None,
        ),
        (
            "POST",
            format!("/v1/webhook-endpoints/{endpoint}/recover"),
            Some(json!({"since": "2000-01-01T00:00:00Z"})),
        ),
        (
            "GET",
            format!("/v1/webhook-endpoints/{endpoint}/deliveries"),
            None,
        ),
        ("GET", format!("/v1/webhook-deliveries/{delivery}"), None),
        (
            "POST",
            format!("/v1/webhook-deliveries/{delivery}/retry"),
            None,
        ),
        ("DELETE", format!("/v1/api-keys/{alice_key_id}"), None),
    ];
    for (method, path, body) in &alices {
        let (status, _) = app.call(method, path, Some(&bob), body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "bob: {method} {path}");
        let (status, _) = app.call(method, path, None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "no key: {method} {path}");
    }
    let operator_only: Vec<(&str, String, Value)> = vec![
        ("POST", "/v1/customers".into(), json!({"name": "x"})),
        (
            "POST",
            format!("/v1/orders/{order}/status"),
            json!({"status": "confirmed"}),
        ),
    ];
    for (method, path, body) in &operator_only {
        let (status, _) = app
            .call(method, path, Some(&alice), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "customer: {method} {path}");
    }
    let customer_only: Vec<(&str, String)> = vec![
        ("POST", "/v1/orders".into()),
        ("POST", format!("/v1/orders/{order}/cancel")),
        ("GET", "/v1/webhook-endpoints".into()),
        ("POST", "/v1/webhook-endpoints".into()),
        ("GET", format!("/v1/webhook-endpoints/{endpoint}")),
        ("GET", format!("/v1/webhook-deliveries/{delivery}")),
    ];
    for (method, path) in &customer_only {
        let (status, _) = app
            .call(method, path, Some(&app.operator_key), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "operator: {method} {path}");
    }
    for path in ["/v1/orders", "/v1/api-keys", "/v1/webhook-endpoints"] {
        let (status, _) = app.call("GET", path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // Nothing of alice's changed.
    let (_, still) = app
        .call("GET", &format!("/v1/orders/{order}"), Some(&alice), None)
        .await;
    assert_eq!(still["status"], "pending");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn api_keys_are_listed_created_and_revoked() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (customer, key) = app.customer("Acme").await;
    let (status, created) = app
        .call(
            "POST",
            "/v1/api-keys",
            Some(&key),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let new_key = str_field(&created, "api_key");
    assert!(new_key.starts_with(&str_field(&created, "prefix")));
    let (_, listed) = app.call("GET", "/v1/api-keys", Some(&new_key), None).await;
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(2));
    // Both keys have authenticated a request by now (the first created the second).
    for listed_key in listed["data"].as_array().expect("data") {
        let used = listed_key["last_used_at"].as_str().expect("last_used_at");
        let used = chrono::DateTime::parse_from_rfc3339(used).expect("a timestamp");
        let created = listed_key["created_at"].as_str().expect("created_at");
        let created = chrono::DateTime::parse_from_rfc3339(created).expect("a timestamp");
        assert!(used >= created, "{listed_key}");
    }
    assert!(
        listed["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|k| k.get("api_key").is_none()),
        "keys are never listed"
    );
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select key_hash from api_keys")
        .fetch_all(&db.pool)
        .await
        .expect("hashes");
    assert!(stored.iter().all(|h| {
        h.len() == 32
            && !h
                .windows(new_key.len().min(32))
                .any(|w| w == &new_key.as_bytes()[..w.len()])
    }));

    let (status, for_customer) = app
        .call(
            "POST",
            "/v1/api-keys",
            Some(&app.operator_key),
            Some(json!({"customer_id": customer})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{for_customer}");
    assert_eq!(for_customer["customer_id"], customer.as_str());
    let (_, operator_listed) = app
        .call(
            "GET",
            &format!("/v1/api-keys?customer_id={customer}"),
            Some(&app.operator_key),
            None,
        )
        .await;
    assert_eq!(operator_listed["data"].as_array().map(Vec::len), Some(3));
    let (status, _) = app
        .call(
            "GET",
            "/v1/api-keys?customer_id=cus_01jd0000000000000000000000",
            Some(&app.operator_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown customer");
    let (status, _) = app
        .call(
            "GET",
            "/v1/api-keys?customer_id=cus_01jd0000000000000000000000",
            Some(&key),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "customers cannot name another customer"
    );

    let id = str_field(&created, "id");
    let (status, _) = app
        .call("DELETE", &format!("/v1/api-keys/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call("GET", "/v1/orders", Some(&new_key), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked key stops working at once"
    );
    let (status, _) = app
        .call("DELETE", &format!("/v1/api-keys/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
    db.drop_database().await;
}

/// Revokes every key of `customer` behind the API's back, as another instance would.
async fn revoke_elsewhere(db: &TestDb, customer: &str) {
    let revoked =
        sqlx::query("update api_keys set revoked_at = utc_timestamp(6) where customer_id = ?")
            .bind(customer)
            .execute(&db.pool)
            .await
            .expect("revoked")
            .rows_affected();
    assert_eq!(revoked, 1);
}

/// What `GET /v1/orders` answers `key`.
async fn orders_status(app: &TestApp, key: &str) -> StatusCode {
    app.call("GET", "/v1/orders", Some(key), None).await.0
}

#[tokio::test]
async fn a_key_revoked_by_another_instance_stops_working_within_the_cache_time() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| config.api_key_cache_seconds = 2).await;
    let (customer, key) = app.customer("Acme").await;
    assert_eq!(orders_status(&app, &key).await, StatusCode::OK);
    revoke_elsewhere(&db, &customer).await;
    assert_eq!(
        orders_status(&app, &key).await,
        StatusCode::OK,
        "remembered for 2 s after its lookup"
    );
    // Refused before the 5 s default would be over.
    eventually(
        Duration::from_secs(4),
        "the revoked key to be refused",
        || async { (orders_status(&app, &key).await == StatusCode::UNAUTHORIZED).then_some(()) },
    )
    .await;
    app.stop().await;

    // Without the cache, at once.
    let app = TestApp::spawn_with(&db, |config| config.api_key_cache_seconds = 0).await;
    let (customer, key) = app.customer("Globex").await;
    assert_eq!(orders_status(&app, &key).await, StatusCode::OK);
    revoke_elsewhere(&db, &customer).await;
    assert_eq!(
        orders_status(&app, &key).await,
        StatusCode::UNAUTHORIZED,
        "API_KEY_CACHE_SECONDS=0 looks every key up"
    );
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn limits_rate_and_size() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| config.rate_limit_per_second = 2).await;
    let (_, key) = app.customer("Acme").await;
    let mut limited = None;
    for _ in 0..20 {
        let response = app
            .http
            .get(format!("{}/v1/orders", app.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("sent");
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("the limit applies within 20 requests");
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let problem: Value = response.json().await.expect("json");
    assert!(
        problem["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/rate-limited")
    );

    let huge = "x".repeat(1024 * 1024 + 1);
    let (_, other) = app.customer("Big").await;
    let response = app
        .http
        .post(format!("{}/v1/orders", app.base))
        .bearer_auth(&other)
        .header("content-type", "application/json")
        .body(format!("{{\"reference\":\"{huge}\"}}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app.stop().await;
    db.drop_database().await;
}

/// The named series after one order delivered once. The API runs as a child process: the
/// metrics recorder is process-global, so in this test's own process (shared with every other
/// test under `cargo test`) a series could be there for another test's traffic. In a process of
/// its own every value counts this test's requests alone, and is asserted exactly.
#[tokio::test]
async fn metrics_expose_the_named_series_after_traffic() {
    let db = TestDb::new().await;
    let app = ApiProcess::start(&db, &[]).await;
    let receiver = e2e::Receiver::start().await;
    let (_, key) = app.customer("Acme").await;
    app.endpoint(&key, &receiver.url, None).await;
    app.order(&key, "PO-1").await;
    receiver.wait_for(1, "the order.created delivery").await;
    // The dispatcher counts an attempt after the receiver answered: wait until it has.
    let body = eventually(Duration::from_secs(10), "delivery metrics", || async {
        let body = app.metrics().await;
        metric(&body, "webhook_attempts_total{outcome=\"delivered\"}")
            .is_some()
            .then_some(body)
    })
    .await;
    for (series, expected) in [
        (
            "http_requests_total{method=\"POST\",route=\"/v1/orders\",status=\"201\"}",
            1.0,
        ),
        (
            "http_requests_total{method=\"POST\",route=\"/v1/customers\",status=\"201\"}",
            1.0,
        ),
        (
            "http_request_duration_seconds_count{method=\"POST\",route=\"/v1/orders\"}",
            1.0,
        ),
        (
            "http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/orders\",le=\"+Inf\"}",
            1.0,
        ),
        ("webhook_attempts_total{outcome=\"delivered\"}", 1.0),
        ("webhook_attempt_duration_seconds_count", 1.0),
    ] {
        assert_eq!(
            metric(&body, series),
            Some(expected),
            "{series} in:\n{body}"
        );
    }
    // Memory mode runs no relay: the dispatcher claims deliveries from the table.
    for series in ["relay_published_total", "relay_batch_size_count"] {
        assert_eq!(metric(&body, series), None, "{series} in:\n{body}");
    }
    assert!(
        metric(&body, "db_pool_connections{state=\"idle\"}").is_some(),
        "db_pool_connections{{state=\"idle\"}} missing from:\n{body}"
    );
    app.stop();
    db.drop_database().await;
}

/// A client hammers the API while it receives SIGTERM: every request sent before readiness
/// turned 503 succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_drains_without_failing_accepted_requests() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut env = api_env(&db, port);
    env.push(("SHUTDOWN_DRAIN_SECONDS", "2".into()));
    let mut process = Process::start("orders-api", &[], &env).expect("orders-api starts");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let api = Api::for_operator(&db, base.clone()).await;
    let (_, customer) = api.customer("Acme").await;

    let started = Instant::now();
    // When readiness turned 503 (`None` if the process stopped answering first), noticed
    // within 5 ms of the flip.
    let watcher = {
        let base = base.clone();
        tokio::spawn(async move {
            let http = e2e::http_client();
            eventually_every(
                Duration::from_secs(30),
                Duration::from_millis(5),
                "readiness to turn 503",
                || {
                    let (http, base) = (http.clone(), base.clone());
                    async move {
                        let at = started.elapsed();
                        match http.get(format!("{base}/readyz")).send().await {
                            Ok(r) if r.status() == 503 => Some(Some(at)),
                            Ok(_) => None,
                            Err(_) => Some(None),
                        }
                    }
                },
            )
            .await
        })
    };
    let answered = std::sync::Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (base, customer) = (base.clone(), customer.clone());
            let answered = std::sync::Arc::clone(&answered);
            tokio::spawn(async move {
                let http = e2e::http_client();
                let mut results = Vec::new();
                // Until the process stops listening once the drain is over (30 s at most).
                while started.elapsed() < Duration::from_secs(30) {
                    let at = started.elapsed();
                    let status = http
                        .get(format!("{base}/v1/orders"))
                        .bearer_auth(&customer)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .ok();
                    results.push((at, status));
                    match status {
                        Some(200) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                        }
                        // Refused: the process is gone, and answers nothing after this.
                        None => break,
                        Some(_) => {}
                    }
                }
                results
            })
        })
        .collect();
    // SIGTERM once the clients are busy: well over the 20 requests asserted below, since the
    // flip's time is when the check that saw it was sent, which can be a few milliseconds
    // before the signal.
    eventually(
        Duration::from_secs(10),
        "the clients to be busy",
        || async { (answered.load(Ordering::Relaxed) >= 100).then_some(()) },
    )
    .await;
    let signal = std::process::Command::new("kill")
        .args(["-TERM", &process_id(&process)])
        .status()
        .expect("kill");
    assert!(signal.success());
    let results: Vec<(Duration, Option<u16>)> = futures::future::join_all(clients)
        .await
        .into_iter()
        .flat_map(|r| r.expect("client"))
        .collect();
    let flipped = watcher
        .await
        .expect("watcher")
        .expect("readiness turned 503 during the drain");
    let before: Vec<_> = results.iter().filter(|(at, _)| *at < flipped).collect();
    assert!(
        before.len() > 20,
        "the client was busy before the flip ({})",
        before.len()
    );
    let failed: Vec<_> = before
        .iter()
        .filter(|(_, status)| *status != Some(200))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests accepted before readiness flipped failed: {failed:?}",
        failed.len(),
        before.len()
    );
    let served_during_drain = results
        .iter()
        .filter(|(at, s)| *at >= flipped && *s == Some(200))
        .count();
    assert!(
        served_during_drain > 0,
        "requests are still served while draining"
    );
    process
        .wait_success()
        .expect("exits cleanly after the drain");
    db.drop_database().await;
}

fn process_id(process: &Process) -> String {
    process.id().to_string()
}

/// Stored responses can carry a signing secret or an API key: they rest sealed. Answers that
/// say "try again" are not remembered.
#[tokio::test]
async fn idempotent_responses_rest_sealed_and_retryable_answers_are_not_kept() {
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| config.rate_limit_per_second = 1).await;
    let (_, key) = app.customer("Acme").await;
    let create = || {
        app.http
            .post(format!("{}/v1/webhook-endpoints", app.base))
            .bearer_auth(&key)
            .header("idempotency-key", "endpoint-1")
            .json(&json!({"url": "http://127.0.0.1:9/hooks"}))
            .send()
    };
    // Empty the bucket (burst of 2) so the keyed request is refused with 429.
    let mut empty = false;
    for _ in 0..10 {
        let response = app
            .http
            .get(format!("{}/v1/orders", app.base))
            .bearer_auth(&key)
            .send()
            .await
            .expect("sent");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            empty = true;
            break;
        }
    }
    assert!(empty, "the rate limit applies");
    let refused = create().await.expect("sent");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        db.count("idempotency_keys").await,
        0,
        "a 429 is not remembered"
    );
    let first = eventually(Duration::from_secs(10), "the limit to pass", || async {
        let response = create().await.ok()?;
        (response.status() == StatusCode::CREATED
            || response.headers().contains_key("idempotent-replayed"))
        .then_some(response)
    })
    .await;
    let first: Value = first.json().await.expect("json");
    let secret = str_field(&first, "secret");
    // The same request again once the rate limit lets the key through (the refusals on the way
    // are not remembered either): it is answered from the stored response.
    let again = eventually(
        Duration::from_secs(10),
        "the limit to pass again",
        || async {
            let response = create().await.ok()?;
            (response.status() != StatusCode::TOO_MANY_REQUESTS).then_some(response)
        },
    )
    .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.expect("json");
    assert_eq!(
        str_field(&again, "secret"),
        secret,
        "the replay shows the same secret"
    );
    let bodies: Vec<Vec<u8>> = sqlx::query_scalar(
        "select response_body from idempotency_keys where status_code is not null",
    )
    .fetch_all(&db.pool)
    .await
    .expect("bodies");
    assert!(!bodies.is_empty());
    for body in bodies {
        assert!(
            !body.windows(6).any(|w| w == b"whsec_"),
            "a stored response holds a secret in clear"
        );
        assert!(
            !body.windows(3).any(|w| w == b"mk_"),
            "a stored response holds an API key in clear"
        );
    }
    app.stop().await;
    db.drop_database().await;
}
