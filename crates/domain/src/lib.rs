//! Pure types and rules of Mechanica order webhooks. Nothing in this crate performs IO.
//!
//! - [`dsn`]: database URLs in the mysql:// and Go-driver forms.
//! - [`ids`]: prefixed, time-ordered identifiers (`ord_01j…`).
//! - [`headers`]: the custom headers an endpoint sends, their rules and their masking.
//! - [`order`]: the order model and its status machine, the only way to obtain a status change.
//! - [`event`]: webhook event types and the exact payload bytes customers receive.
//! - [`message`]: the queue message contract between the relay and the dispatcher.
//! - [`signing`]: Standard Webhooks signatures.
//! - [`secret_box`]: the at-rest envelope of signing secrets.
//! - [`retry`]: the retry schedule and delay policy.
//! - [`state`]: the persisted states of deliveries, attempts and endpoints, each spelled once.
//! - [`target`]: which webhook targets may be contacted (SSRF policy).
//! - [`time`]: timestamps as the API and the webhooks show them, and durations as SQL takes them.
//! - [`validation`]: field errors reported to API clients.

pub mod dsn;
pub mod event;
pub mod headers;
pub mod health;
pub mod ids;
pub mod message;
pub mod order;
pub mod retry;
pub mod secret_box;
pub mod signing;
pub mod state;
pub mod stats;
pub mod target;
pub mod throttle;
pub mod time;
pub mod validation;
