//! Test harness for the end-to-end suite: real MariaDB databases, real HTTP receivers on
//! `127.0.0.1:0`, moto's SQS, the real binaries as child processes, and polling with deadlines.
//!
//! Every item is at the crate's root (`e2e::TestDb`, `e2e::eventually`, …), where the suite and
//! the benchmarks (`crates/bench`) use them; the modules only sort them by concern.

mod app;
mod client;
mod db;
mod faulty;
mod poll;
mod process;
mod receiver;
mod sqs;

pub use app::{
    ApiProcess, FAST_SCHEDULE, TestApp, api_env, common_args, delivery_args, wait_ready,
};
pub use client::{Api, LIFECYCLE, http_client, metric, order_body, str_field};
pub use db::{
    STALE_AFTER, TEST_DB_PREFIX, TestDb, delivery_statuses, drop_stale_databases, server_url,
    test_db_created_at,
};
pub use faulty::{Fault, FaultyReceiver, Rng};
pub use poll::{POLL_INTERVAL, eventually, eventually_every};
pub use process::{Process, binary, free_port};
pub use receiver::{Received, Receiver, Reply};
pub use sqs::{
    Moto, SendCounter, SqsStack, TestQueue, aws_env, create_queue, moto_endpoint, sqs,
    visible_messages,
};
