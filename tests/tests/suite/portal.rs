//! Portal sessions, the event catalog, and the portal's static files.

use e2e::{TestApp, TestDb, str_field};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The token of a portal session link (`…/portal/#token=mps_…`).
fn token_of(url: &str) -> String {
    let (_, token) = url.split_once("#token=").expect("a token in the fragment");
    assert!(token.starts_with("mps_"), "{url}");
    token.to_owned()
}

fn problem_slug(problem: &Value) -> String {
    let kind = str_field(problem, "type");
    kind.rsplit('/').next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_portal_session_acts_as_its_customer_but_cannot_create_credentials() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (customer, key) = app.customer("Acme").await;
    let order = app.order(&key, "PO-1").await;

    let (status, session) = app
        .call("POST", "/v1/portal-sessions", Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert_eq!(session["customer_id"], customer.as_str());
    let url = str_field(&session, "url");
    assert!(
        url.starts_with(&format!("{}/portal/#token=", app.base)),
        "the link points at this process's portal: {url}"
    );
    let token = token_of(&url);
    assert_eq!(
        db.number(&format!(
            "select count(*) from portal_sessions where token_hash = unhex(sha2('{token}', 256))"
        ))
        .await,
        1,
        "the session is stored by its token's SHA-256"
    );

    let (status, current) = app
        .call("GET", "/v1/portal-sessions/current", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{current}");
    assert_eq!(current["id"], session["id"]);
    assert_eq!(current["customer_name"], "Acme");
    assert_eq!(current["expires_at"], session["expires_at"]);

    let (status, orders) = app.call("GET", "/v1/orders", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(orders["data"][0]["id"], order.as_str());
    let (status, _) = app.call("GET", "/v1/api-keys", Some(&token), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a session lists its customer's keys"
    );

    for path in ["/v1/api-keys", "/v1/portal-sessions"] {
        let (status, problem) = app.call("POST", path, Some(&token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {problem}");
        assert!(
            str_field(&problem, "detail").contains("portal session"),
            "{problem}"
        );
    }
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/orders/{order}/status"),
            Some(&token),
            Some(json!({"status": "confirmed"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a session is no operator");
    let (status, _) = app
        .call("GET", "/v1/portal-sessions/current", Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an API key has no session");

    // Sign out: the session revokes itself, and its link stops working at once.
    let id = str_field(&session, "id");
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/v1/portal-sessions/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = app.call("GET", "/v1/orders", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem_slug(&problem), "portal-session-expired");
    let (status, problem) = app
        .call("GET", "/v1/orders", Some("mps_never-issued"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem_slug(&problem), "unauthorized");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn operators_open_sessions_for_a_customer_within_the_allowed_lifetimes() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (customer, key) = app.customer("Acme").await;
    let (other, _) = app.customer("Globex").await;
    let operator = app.operator_key.clone();

    let (status, problem) = app
        .call("POST", "/v1/portal-sessions", Some(&operator), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "customer_id");
    for lifetime in [299, 86_401] {
        let (status, problem) = app
            .call(
                "POST",
                "/v1/portal-sessions",
                Some(&operator),
                Some(json!({"customer_id": customer, "lifetime_seconds": lifetime})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["errors"][0]["field"], "lifetime_seconds");
    }
    let unknown = domain::ids::CustomerId::new();
    let (status, _) = app
        .call(
            "POST",
            "/v1/portal-sessions",
            Some(&operator),
            Some(json!({"customer_id": unknown})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .call(
            "POST",
            "/v1/portal-sessions",
            Some(&key),
            Some(json!({"customer_id": other})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not for another customer");
    assert_eq!(
        db.count("portal_sessions").await,
        0,
        "refusals change nothing"
    );

    let (status, session) = app
        .call(
            "POST",
            "/v1/portal-sessions",
            Some(&operator),
            Some(json!({"customer_id": customer, "lifetime_seconds": 300})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let id = str_field(&session, "id");
    assert_eq!(
        db.number(&format!(
            "select timestampdiff(second, created_at, expires_at) from portal_sessions where id = '{id}'"
        ))
        .await,
        300
    );
    let token = token_of(&str_field(&session, "url"));
    let (status, _) = app.call("GET", "/v1/orders", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);

    // Another customer cannot revoke it; once expired it answers the expired problem.
    let (_, other_key) = app.customer("Initech").await;
    let (status, _) = app
        .call(
            "DELETE",
            &format!("/v1/portal-sessions/{id}"),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    sqlx::query(
        "update portal_sessions set expires_at = utc_timestamp(6) - interval 1 second where id = ?",
    )
    .bind(&id)
    .execute(&db.pool)
    .await
    .expect("expire");
    let (status, problem) = app.call("GET", "/v1/orders", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem_slug(&problem), "portal-session-expired");
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_event_catalog_describes_every_type_with_an_example_it_would_send() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let (status, _) = app.call("GET", "/v1/event-types", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, catalog) = app.call("GET", "/v1/event-types", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{catalog}");
    let entries = catalog["data"].as_array().expect("a list");
    let types: Vec<&str> = entries.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "order.created",
            "order.status_changed",
            "order.updated",
            "webhook.test",
            "endpoint.failing",
            "endpoint.disabled",
            "endpoint.recovered",
            "delivery.exhausted"
        ]
    );
    for entry in entries {
        let schema = &entry["schema"];
        let example = &entry["example"];
        assert_eq!(schema["properties"]["type"]["const"], entry["type"]);
        assert_eq!(example["type"], entry["type"]);
        assert!(!str_field(entry, "description").is_empty());
        // Every property the example carries is described, and every required one is there.
        let properties = schema["properties"].as_object().expect("properties");
        for field in example.as_object().expect("an object").keys() {
            assert!(properties.contains_key(field), "{field} undescribed");
        }
        for required in schema["required"].as_array().expect("required") {
            let required = required.as_str().expect("a name");
            assert!(example.get(required).is_some(), "{required} missing");
        }
    }
    let order = &entries[1]["schema"]["properties"]["data"]["properties"]["order"];
    assert!(
        order["properties"]["sequence"].is_object() && order["properties"]["origin"].is_object(),
        "the order snapshot is described inline: {order}"
    );
    // An update's previous values are described, and none is required: only changed ones appear.
    let previous = &entries[2]["schema"]["properties"]["data"]["properties"]["previous_attributes"];
    for field in [
        "carrier",
        "tracking_number",
        "estimated_delivery_at",
        "metadata",
    ] {
        assert!(
            previous["properties"][field].is_object(),
            "{field} undescribed: {previous}"
        );
    }
    assert!(
        previous["required"].as_array().is_none_or(Vec::is_empty),
        "{previous}"
    );
    // An operational event names the endpoint it is about, described inline.
    for entry in &entries[4..] {
        let endpoint = &entry["schema"]["properties"]["data"]["properties"]["endpoint"];
        assert!(
            endpoint["properties"]["id"].is_object() && endpoint["properties"]["url"].is_object(),
            "{endpoint}"
        );
        assert!(
            str_field(entry, "description").starts_with("Operational: "),
            "{entry}"
        );
    }
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_portal_is_served_with_its_caching_and_security_headers() {
    let dir = std::env::temp_dir().join(format!("portal-{}", domain::ids::OrderId::new()));
    std::fs::create_dir_all(dir.join("assets")).expect("dir");
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><title>portal</title>",
    )
    .expect("index");
    std::fs::write(dir.join("assets/app-1a2b3c.js"), "export {}").expect("asset");
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| {
        config.portal.portal_dir = Some(dir.clone());
        config.portal.portal_frame_ancestors = "https://ops.example.com".into();
    })
    .await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.base)).send();

    for deep_link in [
        "/portal/",
        "/portal/webhooks/ep_123/deliveries?status=failed",
    ] {
        let response = get(deep_link).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{deep_link}");
        let headers = response.headers().clone();
        assert_eq!(headers["cache-control"], "no-cache");
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(
            csp.ends_with("frame-ancestors https://ops.example.com"),
            "{csp}"
        );
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert!(
            response
                .text()
                .await
                .expect("body")
                .contains("<title>portal</title>")
        );
    }
    let asset = get("/portal/assets/app-1a2b3c.js").await.expect("response");
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let missing = get("/portal/assets/gone-000000.js")
        .await
        .expect("response");
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "a missing asset is no page"
    );
    let api = get("/v1/nothing-here").await.expect("response");
    assert_eq!(
        api.status(),
        StatusCode::NOT_FOUND,
        "API paths are not the portal's"
    );
    assert!(api.headers().get("content-security-policy").is_none());
    std::fs::remove_dir_all(&dir).ok();
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn an_ended_session_gets_no_idempotent_replay() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let (_, key) = app.customer("Acme").await;
    let (_, session) = app
        .call("POST", "/v1/portal-sessions", Some(&key), None)
        .await;
    let token = token_of(&str_field(&session, "url"));
    let create = || {
        app.http
            .post(format!("{}/v1/webhook-endpoints", app.base))
            .bearer_auth(&token)
            .header("idempotency-key", "endpoint-1")
            .json(&json!({"url": "http://127.0.0.1:9/hooks"}))
            .send()
    };
    let first = create().await.expect("response");
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.expect("json");
    let replay = create().await.expect("response");
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(
        replay.json::<Value>().await.expect("json")["secret"],
        first["secret"]
    );

    let (status, _) = app
        .call("DELETE", "/v1/portal-sessions/current", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let refused = create().await.expect("response");
    assert_eq!(
        refused.status(),
        StatusCode::UNAUTHORIZED,
        "the stored secret is not replayed"
    );
    assert!(refused.headers().get("idempotent-replayed").is_none());
    let problem: Value = refused.json().await.expect("json");
    assert_eq!(problem_slug(&problem), "portal-session-expired");
    assert!(problem.get("secret").is_none());
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_customers_portal_sessions_share_one_rate_limit() {
    let db = TestDb::new().await;
    // One request a second, bursts of two.
    let app = TestApp::spawn_with(&db, |config| config.rate_limit_per_second = 1).await;
    let (_, key) = app.customer("Acme").await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (status, session) = app
            .call("POST", "/v1/portal-sessions", Some(&key), None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        tokens.push(token_of(&str_field(&session, "url")));
    }
    let mut statuses = Vec::new();
    for token in tokens.iter().chain(&tokens) {
        let (status, _) = app.call("GET", "/v1/orders", Some(token), None).await;
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        2,
        "two sessions get one bucket between them, not one each: {statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS));
    app.stop().await;
    db.drop_database().await;
}

#[tokio::test]
async fn the_portal_serves_nothing_outside_its_folder() {
    let root = std::env::temp_dir().join(format!("portal-root-{}", domain::ids::OrderId::new()));
    let dir = root.join("dist");
    std::fs::create_dir_all(dir.join("assets")).expect("dir");
    std::fs::write(dir.join("index.html"), "<title>portal</title>").expect("index");
    std::fs::write(root.join("secret.txt"), "not for the web").expect("secret");
    let db = TestDb::new().await;
    let app = TestApp::spawn_with(&db, |config| config.portal.portal_dir = Some(dir.clone())).await;
    for path in [
        "/portal/../secret.txt",
        "/portal/%2e%2e/secret.txt",
        "/portal/..%2fsecret.txt",
        "/portal/assets/%2e%2e/%2e%2e/secret.txt",
        "/portal//etc/passwd",
    ] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("response");
        let body = response.text().await.expect("body");
        assert!(
            !body.contains("not for the web"),
            "{path} served a file outside the portal"
        );
        assert!(!body.contains("root:"), "{path} served a system file");
    }
    let bare = app
        .http
        .get(format!("{}/portal", app.base))
        .send()
        .await
        .expect("response");
    assert_eq!(
        bare.status(),
        StatusCode::OK,
        "reqwest follows the redirect to /portal/"
    );
    assert!(
        bare.text()
            .await
            .expect("body")
            .contains("<title>portal</title>")
    );
    std::fs::remove_dir_all(&root).ok();
    app.stop().await;
    db.drop_database().await;
}
