//! Talking to the API under test over HTTP: the [`Api`] client and its shortcuts (customers,
//! endpoints, orders, status changes), request bodies and JSON fields, and reading `/metrics`.

use axum::http::StatusCode;
use domain::signing::SigningSecret;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::db::TestDb;

/// A client of a running orders API.
pub struct Api {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// An operator key.
    pub operator_key: String,
    /// HTTP client.
    pub http: reqwest::Client,
}

impl Api {
    /// A client of the API at `base` with a fresh operator key written to `db`.
    pub async fn for_operator(db: &TestDb, base: String) -> Self {
        let mut conn = db.pool.acquire().await.expect("connection");
        let key = orders_api::db::api_keys::create(
            &mut conn,
            &orders_api::db::api_keys::Role::Operator,
            None,
        )
        .await
        .expect("operator key");
        Self {
            base,
            operator_key: key.secret.expose_secret().to_owned(),
            http: http_client(),
        }
    }

    /// Sends a request; `body` is sent as JSON when present.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Creates a customer; returns `(customer_id, api_key)`.
    pub async fn customer(&self, name: &str) -> (String, String) {
        let (status, body) = self
            .call(
                "POST",
                "/v1/customers",
                Some(&self.operator_key),
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (str_field(&body, "id"), str_field(&body, "api_key"))
    }

    /// Registers an endpoint; returns `(endpoint_id, secret)`.
    pub async fn endpoint(
        &self,
        key: &str,
        url: &str,
        event_types: Option<&[&str]>,
    ) -> (String, SigningSecret) {
        let mut body = json!({ "url": url });
        if let Some(types) = event_types {
            body["event_types"] = json!(types);
        }
        let (status, body) = self
            .call("POST", "/v1/webhook-endpoints", Some(key), Some(body))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let secret = SigningSecret::parse(&str_field(&body, "secret")).expect("whsec_ secret");
        (str_field(&body, "id"), secret)
    }

    /// Places an order; returns its id.
    pub async fn order(&self, key: &str, reference: &str) -> String {
        let (status, body) = self
            .call("POST", "/v1/orders", Some(key), Some(order_body(reference)))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        str_field(&body, "id")
    }

    /// Moves an order to `status` as an operator, expecting success.
    pub async fn advance(&self, order_id: &str, status: &str) {
        let (code, body) = self
            .call(
                "POST",
                &format!("/v1/orders/{order_id}/status"),
                Some(&self.operator_key),
                Some(json!({ "status": status })),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }

    /// `GET /metrics`: the Prometheus text of the API's process (see [`metric`]).
    pub async fn metrics(&self) -> String {
        let response = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("GET /metrics sent");
        assert_eq!(response.status().as_u16(), 200, "GET /metrics");
        response.text().await.expect("the metrics")
    }
}

/// The value of `series` (a name with its labels as rendered, e.g.
/// `webhook_attempts_total{outcome="delivered"}`) in the Prometheus text `metrics`; `None`
/// while nothing has recorded it.
pub fn metric(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(value.trim().parse().expect("a metric's value is a number"))
    })
}

/// A string field of a JSON object.
pub fn str_field(value: &Value, field: &str) -> String {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {value}"))
        .to_owned()
}

/// A valid order creation body.
pub fn order_body(reference: &str) -> Value {
    json!({
        "reference": reference,
        "origin": {"name": "Acme Warehouse", "line1": "Kade 1", "city": "Rotterdam", "postal_code": "3011 AA", "country": "NL"},
        "destination": {"name": "Buyer GmbH", "line1": "Hauptstr. 2", "line2": "3. OG", "city": "Berlin", "region": "BE", "postal_code": "10115", "country": "DE"},
        "parcels": [{"weight_grams": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100}]
    })
}

/// The full happy lifecycle after `pending`.
pub const LIFECYCLE: [&str; 5] = [
    "confirmed",
    "picked_up",
    "in_transit",
    "out_for_delivery",
    "delivered",
];

/// A plain HTTP client for talking to the API under test (on rustls with ring, as every client
/// of the workspace).
pub fn http_client() -> reqwest::Client {
    platform::tls::install_crypto_provider();
    reqwest::Client::new()
}
