//! The orders API against a fresh MariaDB database per test.

use domain::order::OrderStatus;
use e2e::{Api, ApiProcess, TestApp, TestDb, metric, order_body, str_field};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{deadlock_a_status_change, settled_order};

#[tokio::test]
async fn orders_are_created_read_listed_and_cancelled() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (customer, key) = app.customer("Acme").await;

    let (status, order) = app
        .call("POST", "/v1/orders", Some(&key), Some(order_body("PO-1")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["status"], "pending");
    assert_eq!(order["sequence"], 1);
    assert_eq!(order["customer_id"], customer.as_str());
    assert_eq!(order["destination"]["line2"], "3. OG");
    assert_eq!(order["parcels"][0]["weight_grams"], 1200);
    let id = str_field(&order, "id");
    assert!(id.starts_with("ord_") && id.len() == 30, "{id}");

    let (status, fetched) = app
        .call("GET", &format!("/v1/orders/{id}"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, order);
    let (status, _) = app
        .call(
            "GET",
            &format!("/v1/orders/{id}"),
            Some(&app.operator_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "operators see every order");

    let second = app.order(&key, "PO-2").await;
    let (status, page) = app
        .call("GET", "/v1/orders?limit=1", Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"][0]["id"], second.as_str(), "newest first");
    let cursor = str_field(&page, "next_cursor");
    let (_, page) = app
        .call(
            "GET",
            &format!("/v1/orders?limit=1&cursor={cursor}"),
            Some(&key),
            None,
        )
        .await;
    assert_eq!(page["data"][0]["id"], id.as_str());
    assert_eq!(page["next_cursor"], serde_json::Value::Null);

    let (status, cancelled) = app
        .call("POST", &format!("/v1/orders/{id}/cancel"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["sequence"], 2);
    let (status, again) = app
        .call("POST", &format!("/v1/orders/{id}/cancel"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert!(
        again["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/invalid-transition")
    );

    let (_, filtered) = app
        .call("GET", "/v1/orders?status=cancelled", Some(&key), None)
        .await;
    assert_eq!(filtered["data"].as_array().map(Vec::len), Some(1));

    let (status, history) = app
        .call("GET", &format!("/v1/orders/{id}/history"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["data"][0]["status"], "pending");
    assert_eq!(history["data"][1]["status"], "cancelled");
    assert_eq!(history["data"][1]["previous_status"], "pending");

    let (status, duplicate) = app
        .call("POST", "/v1/orders", Some(&key), Some(order_body("PO-1")))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{duplicate}");
    assert!(
        duplicate["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/duplicate-reference")
    );

    app.stop().await;
    db.drop_database().await;
}

/// Walks an order through every status and tries every target from each: forbidden targets
/// answer 409 and write nothing; allowed ones write one history row and one event.
#[tokio::test]
async fn every_invalid_transition_is_409_and_writes_no_event() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let paths: [&[OrderStatus]; 3] = [
        &[
            OrderStatus::Confirmed,
            OrderStatus::PickedUp,
            OrderStatus::InTransit,
            OrderStatus::OutForDelivery,
            OrderStatus::Delivered,
        ],
        &[OrderStatus::Cancelled],
        &[
            OrderStatus::Confirmed,
            OrderStatus::PickedUp,
            OrderStatus::Exception,
            OrderStatus::OutForDelivery,
            OrderStatus::Exception,
            OrderStatus::InTransit,
            OrderStatus::Exception,
            OrderStatus::Returned,
        ],
    ];
    for (n, path) in paths.iter().enumerate() {
        let id = app.order(&key, &format!("PO-{n}")).await;
        let mut current = OrderStatus::Pending;
        for &next in path.iter() {
            for target in OrderStatus::ALL {
                if current.can_transition_to(target) {
                    continue;
                }
                let events = db.count("webhook_events").await;
                let history = db.count("order_status_history").await;
                let (status, body) = app
                    .call(
                        "POST",
                        &format!("/v1/orders/{id}/status"),
                        Some(&app.operator_key),
                        Some(json!({"status": target.as_str()})),
                    )
                    .await;
                assert_eq!(
                    status,
                    StatusCode::CONFLICT,
                    "{current} -> {target}: {body}"
                );
                assert_eq!(body["status"], 409);
                assert_eq!(
                    db.count("webhook_events").await,
                    events,
                    "{current} -> {target} wrote an event"
                );
                assert_eq!(db.count("order_status_history").await, history);
            }
            let events = db.count("webhook_events").await;
            app.advance(&id, next.as_str()).await;
            assert_eq!(
                db.count("webhook_events").await,
                events + 1,
                "{current} -> {next}"
            );
            current = next;
        }
        assert!(current.is_terminal());
    }
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn customers_cannot_see_or_touch_each_others_resources() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, alice) = app.customer("Alice").await;
    let (_, bob) = app.customer("Bob").await;
    let order = app.order(&alice, "A-1").await;
    let (endpoint, _) = app.endpoint(&alice, "http://127.0.0.1:9/hooks", None).await;

    for (method, path) in [
        ("GET", format!("/v1/orders/{order}")),
        ("GET", format!("/v1/orders/{order}/history")),
        ("POST", format!("/v1/orders/{order}/cancel")),
        ("GET", format!("/v1/webhook-endpoints/{endpoint}")),
        ("PATCH", format!("/v1/webhook-endpoints/{endpoint}")),
        ("DELETE", format!("/v1/webhook-endpoints/{endpoint}")),
    ] {
        let body = (method == "PATCH").then(|| json!({"description": "mine now"}));
        let (status, problem) = app.call(method, &path, Some(&bob), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {problem}");
        assert_eq!(problem["status"], 404);
    }
    // A malformed id is a 404 too, exactly like a missing one.
    for path in [
        "/v1/orders/ord_nope",
        "/v1/orders/42",
        "/v1/webhook-endpoints/ep_x",
    ] {
        let (status, _) = app.call("GET", path, Some(&alice), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (_, listed) = app.call("GET", "/v1/orders", Some(&bob), None).await;
    assert_eq!(listed["data"], json!([]));
    let (_, listed) = app
        .call("GET", "/v1/webhook-endpoints", Some(&bob), None)
        .await;
    assert_eq!(listed["data"], json!([]));
    let (_, own) = app
        .call("GET", &format!("/v1/orders/{order}"), Some(&alice), None)
        .await;
    assert_eq!(own["status"], "pending", "bob's attempts changed nothing");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn keys_and_roles_are_enforced() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let order = app.order(&key, "PO-1").await;

    for auth in [None, Some("mk_not-a-real-key"), Some("garbage")] {
        let (status, problem) = app.call("GET", "/v1/orders", auth, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert!(
            problem["type"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/unauthorized")
        );
    }
    let customer_on_operator_routes = [
        ("POST", "/v1/customers".to_owned(), json!({"name": "x"})),
        (
            "POST",
            format!("/v1/orders/{order}/status"),
            json!({"status": "confirmed"}),
        ),
    ];
    for (method, path, body) in customer_on_operator_routes {
        let (status, _) = app.call(method, &path, Some(&key), Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    let (status, _) = app
        .call(
            "POST",
            "/v1/orders",
            Some(&app.operator_key),
            Some(order_body("OP-1")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .call(
            "GET",
            "/v1/webhook-endpoints",
            Some(&app.operator_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn bad_input_is_a_problem_document_and_writes_nothing() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let url = format!("{}/v1/orders", app.base);

    let response = app
        .http
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"reference\":")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.expect("json");
    assert!(
        problem["type"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/malformed-json")
    );
    assert!(
        problem["request_id"]
            .as_str()
            .unwrap_or_default()
            .starts_with("req_")
    );

    let cases = [
        (json!({}), vec!["reference", "origin", "destination"]),
        (
            json!({"reference": "PO-1", "origin": {"name": "A"}, "destination": null}),
            vec![
                "origin.line1",
                "origin.city",
                "origin.postal_code",
                "origin.country",
                "destination",
            ],
        ),
        (
            {
                let mut body = order_body("PO-1");
                body["origin"]["country"] = json!("Netherlands");
                body["parcels"] =
                    json!([{"weight_grams": 0, "length_mm": 1, "width_mm": 1, "height_mm": 1}]);
                body
            },
            vec!["origin.country", "parcels[0].weight_grams"],
        ),
        (
            {
                let mut body = order_body("PO-1");
                body["parcels"] = json!([]);
                body
            },
            vec!["parcels"],
        ),
        (
            {
                let mut body = order_body("PO-1");
                body["parcels"][0]["weight_grams"] = json!("heavy");
                body
            },
            vec!["parcels[0].weight_grams"],
        ),
        (
            {
                let mut body = order_body("PO-1");
                body["colour"] = json!("red");
                body
            },
            vec!["colour"],
        ),
    ];
    for (body, fields) in cases {
        let (status, problem) = app
            .call("POST", "/v1/orders", Some(&key), Some(body.clone()))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert!(
            problem["type"]
                .as_str()
                .unwrap_or_default()
                .ends_with("/validation")
        );
        let reported: Vec<&str> = problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(reported, fields, "{body}");
    }
    let response = app
        .http
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, problem) = app
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(json!({"url": "ftp://example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "url");
    let (status, problem) = app
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(json!({"url": "http://127.0.0.1:9/x", "event_types": []})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = app
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(json!({"url": "http://10.0.0.1/x"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "private targets are refused: {problem}"
    );

    for table in [
        "orders",
        "order_status_history",
        "webhook_events",
        "webhook_deliveries",
        "webhook_endpoints",
    ] {
        assert_eq!(db.count(table).await, 0, "{table} was written");
    }
    let (status, problem) = app.call("GET", "/v1/nothing-here", Some(&key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(problem["status"], 404);
    let (status, problem) = app.call("PUT", "/v1/orders", Some(&key), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{problem}");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn each_change_writes_one_event_and_one_delivery_per_subscribed_endpoint() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let (_, other_key) = app.customer("Other").await;
    let (all, _) = app.endpoint(&key, "http://127.0.0.1:9/all", None).await;
    let (created_only, _) = app
        .endpoint(&key, "http://127.0.0.1:9/created", Some(&["order.created"]))
        .await;
    let (disabled, _) = app
        .endpoint(&key, "http://127.0.0.1:9/disabled", None)
        .await;
    let (_, _) = app
        .endpoint(&other_key, "http://127.0.0.1:9/other", None)
        .await;
    let (status, patched) = app
        .call(
            "PATCH",
            &format!("/v1/webhook-endpoints/{disabled}"),
            Some(&key),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["enabled"], false);

    let order = app.order(&key, "PO-1").await;
    app.advance(&order, "confirmed").await;

    let rows: Vec<(String, String)> = sqlx::query_as(
        "select e.event_type, d.endpoint_id from webhook_deliveries d join webhook_events e on e.id = d.event_id order by e.created_at, d.endpoint_id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("deliveries");
    let mut expected = vec![
        ("order.created".to_owned(), all.clone()),
        ("order.created".to_owned(), created_only.clone()),
        ("order.status_changed".to_owned(), all.clone()),
    ];
    expected.sort();
    let mut rows = rows;
    rows.sort();
    assert_eq!(rows, expected);
    assert_eq!(db.count("webhook_events").await, 2);
    app.stop().await;
    db.drop_database().await;
}

/// The endpoint lookup by customer must never scan the table.
#[tokio::test]
async fn endpoint_lookups_by_customer_use_the_index() {
    let db = TestDb::new().await;
    for customer in 0..60 {
        for endpoint in 0..5 {
            sqlx::query(
                "insert into webhook_endpoints (id, customer_id, url, enabled, created_at, updated_at) values (?, ?, 'http://127.0.0.1:9/x', true, utc_timestamp(6), utc_timestamp(6))",
            )
            .bind(format!("ep_{customer:02}{endpoint:024}"))
            .bind(format!("cus_{customer:026}"))
            .execute(&db.pool)
            .await
            .expect("seed");
            sqlx::query(
                "insert into webhook_endpoint_secrets (id, endpoint_id, ciphertext, created_at) values (?, ?, x'00', utc_timestamp(6))",
            )
            .bind(format!("whs_{customer:02}{endpoint:024}"))
            .bind(format!("ep_{customer:02}{endpoint:024}"))
            .execute(&db.pool)
            .await
            .expect("seed secret");
        }
    }
    sqlx::query("analyze table webhook_endpoints, webhook_endpoint_secrets")
        .execute(&db.pool)
        .await
        .expect("analyze");
    let lookups = [
        format!("explain {}", delivery::store::SUBSCRIBED_SQL),
        format!("explain {}", delivery::store::SUBSCRIBED_IDS_SQL),
        "explain select id from webhook_endpoints where customer_id = ? and deleted_at is null order by id desc limit 21".to_owned(),
    ];
    for lookup in lookups {
        let plan: Vec<sqlx::mysql::MySqlRow> = sqlx::query(sqlx::AssertSqlSafe(lookup.clone()))
            .bind("cus_00000000000000000000000007")
            .fetch_all(&db.pool)
            .await
            .expect("explain");
        use sqlx::Row;
        let key: Option<String> = plan[0].try_get("key").expect("key column");
        assert_eq!(
            key.as_deref(),
            Some(orders_api::db::endpoints::CUSTOMER_INDEX),
            "{lookup}"
        );
        // Every table of the plan is read through an index, the secrets joined in by theirs.
        let tables: Vec<String> = plan
            .iter()
            .map(|row| row.try_get("table").expect("table column"))
            .collect();
        if lookup.contains("webhook_endpoint_secrets") {
            assert_eq!(tables, ["ep", "s"], "{lookup}");
        }
        for row in &plan {
            let table: String = row.try_get("table").expect("table column");
            let access: String = row.try_get("type").expect("type column");
            assert_ne!(access, "ALL", "{lookup} scans {table}");
            if table == "s" {
                let key: Option<String> = row.try_get("key").expect("key column");
                assert_eq!(
                    key.as_deref(),
                    Some("webhook_endpoint_secrets_endpoint"),
                    "{lookup}"
                );
            }
        }
    }
    db.drop_database().await;
}

/// `database_lock_conflicts_total` as `/metrics` reports it (0 before the first).
async fn lock_conflicts(api: &Api) -> f64 {
    metric(&api.metrics().await, "database_lock_conflicts_total").unwrap_or(0.0)
}

/// A status change the server picks as a deadlock's victim runs again and succeeds; the client
/// sees one change, not a 500.
///
/// The API runs as a child process so that `database_lock_conflicts_total` (a process-global
/// counter) counts this test's conflicts alone: the deadlock is the one conflict between the two
/// readings, whatever other tests do at the same time.
#[tokio::test]
async fn a_status_change_rolled_back_for_a_deadlock_runs_again() {
    let db = TestDb::new().await;
    let app = ApiProcess::start(&db, &[]).await;
    let (_receiver, order) = settled_order(&app, &db).await;
    let conflicts_before = lock_conflicts(&app).await;
    let (status, body) = deadlock_a_status_change(&app, &db, &order).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "confirmed");
    assert_eq!(body["sequence"], 2);
    assert_eq!(db.count("order_status_history").await, 2);
    assert_eq!(db.count("webhook_events").await, 2);
    assert_eq!(db.count("webhook_deliveries").await, 2);
    assert_eq!(
        lock_conflicts(&app).await - conflicts_before,
        1.0,
        "the one retry is counted in database_lock_conflicts_total"
    );
    app.stop();
    db.drop_database().await;
}
