//! A webhook receiver that verifies every delivery, as a customer's endpoint would.
//!
//! ```sh
//! cargo run -p webhook-dispatch --example receiver -- --listen 127.0.0.1:9000 --secret whsec_…
//! ```
//!
//! It answers 204 to a delivery whose Standard Webhooks signature verifies and 400 otherwise,
//! and prints one line per delivery. Receivers deduplicate on `webhook-id` and drop stale
//! updates by the order's `sequence`, since deliveries may arrive more than once and out of
//! order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clap::Parser;
use domain::signing::{self, SigningSecret};

#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
    /// The endpoint's signing secret (`whsec_…`).
    #[arg(long, env = "WEBHOOK_SECRET")]
    secret: String,
}

#[derive(Clone)]
struct Receiver {
    secret: Arc<SigningSecret>,
    /// Highest sequence seen per order, to drop stale updates.
    latest: Arc<Mutex<HashMap<String, u64>>>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let id = header(&headers, signing::HEADER_ID);
    let verified = signing::verify(
        &receiver.secret,
        id,
        header(&headers, signing::HEADER_TIMESTAMP),
        header(&headers, signing::HEADER_SIGNATURE),
        &body,
        chrono::Utc::now().timestamp(),
    );
    if let Err(error) = verified {
        println!("REJECTED {id}: {error}");
        return StatusCode::BAD_REQUEST;
    }
    let payload: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let event_type = payload["type"].as_str().unwrap_or("?");
    let order = &payload["data"]["order"];
    match (order["id"].as_str(), order["sequence"].as_u64()) {
        (Some(order_id), Some(sequence)) => {
            let mut latest = receiver
                .latest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let newest = latest.entry(order_id.to_owned()).or_default();
            let stale = sequence <= *newest;
            *newest = (*newest).max(sequence);
            println!(
                "verified {id} {event_type} {order_id} sequence={sequence} status={}{}",
                order["status"].as_str().unwrap_or("?"),
                if stale {
                    " (stale or duplicate: ignored)"
                } else {
                    ""
                }
            );
        }
        _ => println!("verified {id} {event_type}"),
    }
    StatusCode::NO_CONTENT
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let receiver = Receiver {
        secret: Arc::new(SigningSecret::parse(&args.secret)?),
        latest: Arc::default(),
    };
    let app = axum::Router::new().fallback(receive).with_state(receiver);
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
