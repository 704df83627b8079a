//! The end-to-end suite: one test binary, so the workspace links it once.

mod api;
mod custom_headers;
mod datadog;
mod delivery;
mod dispatch;
mod e2e_memory;
mod e2e_sqs;
mod faults;
mod handoff;
mod hardening;
mod harness;
mod lambda;
mod operational;
mod order_updates;
mod portal;
mod recording;
mod relay;
mod retention;
mod ssrf;
mod stats;
mod support;
mod sweeper;
mod throttling;
