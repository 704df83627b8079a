//! Custom headers per endpoint: validated when registered or changed, sealed at rest, masked when
//! read back, and sent with every attempt.

use e2e::{Receiver, Reply, TestApp, TestDb, str_field};
use reqwest::StatusCode;
use serde_json::json;

const API_KEY: &str = "erp-4f9c2b7d1e8a6c30";

#[tokio::test]
async fn custom_headers_are_sealed_masked_and_sent_with_every_attempt() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    // The first attempt fails, so the retry shows the headers go with every attempt.
    let receiver = Receiver::start_with(|n| Reply::status(if n == 0 { 500 } else { 200 })).await;
    let (_, key) = app.customer("Acme").await;

    let (status, created) = app
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(json!({
                "url": receiver.url,
                "headers": {"X-Api-Key": API_KEY, "X-Tenant": "acme"},
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let masked = json!({"x-api-key": "****6c30", "x-tenant": "****"});
    assert_eq!(created["headers"], masked);
    let id = str_field(&created, "id");
    let path = format!("/v1/webhook-endpoints/{id}");
    let (_, fetched) = app.call("GET", &path, Some(&key), None).await;
    assert_eq!(fetched["headers"], masked);
    let (_, listed) = app
        .call("GET", "/v1/webhook-endpoints", Some(&key), None)
        .await;
    assert_eq!(listed["data"][0]["headers"], masked);
    let stored: Vec<u8> = sqlx::query_scalar("select headers from webhook_endpoints where id = ?")
        .bind(&id)
        .fetch_one(&db.pool)
        .await
        .expect("stored headers");
    assert!(
        !stored
            .windows(API_KEY.len())
            .any(|w| w == API_KEY.as_bytes()),
        "the value is stored in clear"
    );

    app.order(&key, "PO-1").await;
    receiver
        .wait_for(2, "the failed attempt and its retry")
        .await;
    for request in receiver.received() {
        assert_eq!(request.header("x-api-key"), API_KEY);
        assert_eq!(request.header("x-tenant"), "acme");
        assert_eq!(request.header("content-type"), "application/json");
        assert!(request.header("webhook-signature").starts_with("v1,"));
    }

    // A change merges: one header replaced, one removed, one added; the others stay.
    let (status, changed) = app
        .call(
            "PATCH",
            &path,
            Some(&key),
            Some(json!({"headers": {"x-tenant": null, "X-Route": "eu-west", "x-api-key": "k2"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["headers"],
        json!({"x-api-key": "****", "x-route": "****"})
    );

    // Refused, and nothing changes: reserved or malformed names, bad values, too many.
    let too_many: serde_json::Map<String, serde_json::Value> = (0..19)
        .map(|n| (format!("x-extra-{n}"), json!("v")))
        .collect();
    for headers in [
        json!({"Content-Type": "text/plain"}),
        json!({"Webhook-Signature": "v1,forged"}),
        json!({"Host": "internal"}),
        json!({"Transfer-Encoding": "chunked"}),
        json!({"x bad": "v"}),
        json!({"": "v"}),
        json!({"x-a": "line\r\nx-injected: 1"}),
        json!({"x-a": ""}),
        json!({"x-a": "v", "X-A": "w"}),
        json!(too_many),
        json!(null),
    ] {
        let (status, problem) = app
            .call(
                "PATCH",
                &path,
                Some(&key),
                Some(json!({"headers": headers})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{headers}: {problem}"
        );
        assert!(
            problem["errors"].is_array() || problem["errors"].is_object(),
            "{problem}"
        );
    }
    let (status, _) = app
        .call(
            "POST",
            "/v1/webhook-endpoints",
            Some(&key),
            Some(json!({"url": receiver.url, "headers": {"User-Agent": "mine"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, unchanged) = app.call("GET", &path, Some(&key), None).await;
    assert_eq!(unchanged["headers"], changed["headers"]);
    assert_eq!(db.count("webhook_endpoints").await, 1);

    // The next delivery carries the headers as they are now.
    app.order(&key, "PO-2").await;
    receiver.wait_for(3, "the second order's delivery").await;
    let last = receiver.received().pop().expect("a request");
    assert_eq!(last.header("x-api-key"), "k2");
    assert_eq!(last.header("x-route"), "eu-west");
    assert_eq!(last.header("x-tenant"), "");
    app.stop().await;
    db.drop_database().await;
}
