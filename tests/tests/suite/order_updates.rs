//! Order updates: `PATCH /v1/orders/{id}` changes an order's carrier, tracking number, delivery
//! estimate (operators) or metadata (customers too) and sends `order.updated` with what changed,
//! written in the change's transaction and numbered on the order's sequence between its status
//! changes.

use e2e::{Receiver, TestApp, TestDb, order_body, str_field};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn an_update_is_an_event_on_the_orders_sequence_carrying_what_changed() {
    let db = TestDb::new().await;
    let app = TestApp::spawn(&db).await;
    let receiver = Receiver::start().await;
    let (_, key) = app.customer("Acme").await;
    let (_, other_key) = app.customer("Other").await;
    let (_, secret) = app.endpoint(&key, &receiver.url, None).await;
    let mut body = order_body("PO-1");
    body["metadata"] = json!({"warehouse": "R7"});
    let (status, placed) = app.call("POST", "/v1/orders", Some(&key), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = str_field(&placed, "id");
    let path = format!("/v1/orders/{order}");
    app.advance(&order, "confirmed").await;

    let (status, updated) = app
        .call(
            "PATCH",
            &path,
            Some(&app.operator_key),
            Some(json!({
                "carrier": "DHL",
                "tracking_number": "JJD0001",
                "estimated_delivery_at": "2026-11-24T16:00:00Z",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["sequence"], 3);
    assert_eq!(updated["status"], "confirmed");
    assert_eq!(updated["carrier"], "DHL");
    assert_eq!(updated["tracking_number"], "JJD0001");
    assert_eq!(updated["estimated_delivery_at"], "2026-11-24T16:00:00.000Z");
    app.advance(&order, "picked_up").await;

    // The customer changes its own metadata: one key set, one removed.
    let metadata_patch = json!({"metadata": {"dock": "4", "warehouse": null}});
    let (status, updated) = app
        .call("PATCH", &path, Some(&key), Some(metadata_patch.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["sequence"], 5);
    assert_eq!(updated["metadata"], json!({"dock": "4"}));
    assert_eq!(updated["carrier"], "DHL");

    // Nothing below writes anything: the same patch again changes nothing; a customer may not
    // change the shipment, nor touch another customer's order; invalid patches are refused.
    let (status, same) = app
        .call("PATCH", &path, Some(&key), Some(metadata_patch))
        .await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["sequence"], 5);
    let refused = [
        (Some(&key), json!({"carrier": "UPS"}), StatusCode::FORBIDDEN),
        (
            Some(&other_key),
            json!({"metadata": {"dock": "5"}}),
            StatusCode::NOT_FOUND,
        ),
        (
            None,
            json!({"metadata": {"dock": "5"}}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            Some(&app.operator_key),
            json!({"tracking_number": "x".repeat(65)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&app.operator_key),
            json!({"estimated_delivery_at": "tomorrow"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&key),
            json!({"metadata": null}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&key),
            json!({"metadata": (0..20).map(|n| (format!("k{n}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some(&key),
            json!({"status": "delivered"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (caller, patch, expected) in refused {
        let (status, problem) = app
            .call(
                "PATCH",
                &path,
                caller.map(String::as_str),
                Some(patch.clone()),
            )
            .await;
        assert_eq!(status, expected, "{patch}: {problem}");
        assert!(
            problem["type"].is_string(),
            "{patch}: a problem document: {problem}"
        );
    }
    let (_, fetched) = app.call("GET", &path, Some(&key), None).await;
    assert_eq!(fetched["sequence"], 5);
    assert_eq!(fetched["carrier"], "DHL");
    assert_eq!(fetched["metadata"], json!({"dock": "4"}));
    assert_eq!(db.count("webhook_events").await, 5, "one event per change");

    // Every change arrived, verified, and the sequence orders status changes and updates alike.
    receiver.wait_for(5, "five events").await;
    let mut events: Vec<Value> = receiver
        .received()
        .iter()
        .map(|request| {
            request.verify(&secret).expect("the body verifies");
            request.json()
        })
        .collect();
    events.sort_by_key(|event| event["data"]["order"]["sequence"].as_u64());
    let types: Vec<&str> = events
        .iter()
        .map(|event| event["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "order.created",
            "order.status_changed",
            "order.updated",
            "order.status_changed",
            "order.updated",
        ]
    );
    let shipment = &events[2]["data"];
    assert_eq!(shipment["order"]["sequence"], 3);
    assert_eq!(shipment["order"]["tracking_number"], "JJD0001");
    assert_eq!(
        shipment["previous_attributes"],
        json!({"carrier": null, "tracking_number": null, "estimated_delivery_at": null})
    );
    // Every event carries the whole state: the status change after the update, its shipment.
    assert_eq!(events[3]["data"]["order"]["tracking_number"], "JJD0001");
    assert_eq!(
        events[3]["data"]["order"]["metadata"],
        json!({"warehouse": "R7"})
    );
    let metadata = &events[4]["data"];
    assert_eq!(metadata["order"]["metadata"], json!({"dock": "4"}));
    assert_eq!(metadata["order"]["status"], "picked_up");
    assert_eq!(
        metadata["previous_attributes"],
        json!({"metadata": {"warehouse": "R7"}})
    );

    // The status history lists the status changes only, with their own sequence numbers.
    let (_, history) = app
        .call("GET", &format!("{path}/history"), Some(&key), None)
        .await;
    let sequences: Vec<u64> = history["data"]
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|row| row["sequence"].as_u64())
        .collect();
    assert_eq!(sequences, [1, 2, 4]);

    // A time finer than the millisecond is kept to the millisecond, as it is shown: sending it
    // again, or sending back what was read, changes nothing.
    let precise = json!({"estimated_delivery_at": "2026-11-25T09:30:00.1234567Z"});
    let read_back = json!({"estimated_delivery_at": "2026-11-25T09:30:00.123Z"});
    for (patch, sequence) in [(&precise, 6), (&precise, 6), (&read_back, 6)] {
        let (status, updated) = app
            .call("PATCH", &path, Some(&app.operator_key), Some(patch.clone()))
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["sequence"], sequence, "{patch}");
        assert_eq!(updated["estimated_delivery_at"], "2026-11-25T09:30:00.123Z");
    }
    assert_eq!(db.count("webhook_events").await, 6);
    app.stop().await;
    db.drop_database().await;
}
