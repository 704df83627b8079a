//! The `bootstrap` binary end to end under `cargo lambda watch` (PyPI `cargo-lambda`), invoked
//! with an SQS event fixture through `cargo lambda invoke`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use e2e::{Process, Receiver, Reply, TestDb, eventually, free_port, moto_endpoint};

use crate::support::seed;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn bootstrap_under_cargo_lambda_watch_reports_exactly_the_failed_messages() {
    let db = TestDb::new().await;
    let ok = Receiver::start().await;
    let failing = Receiver::start_with(|_| Reply::status(500)).await;
    let good = seed(&db, &ok.url, 1).await;
    let bad = seed(&db, &failing.url, 1).await;

    let port = free_port();
    let env = [
        "APP_ENV=dev".to_owned(),
        format!("DATABASE_URL={}", db.url),
        "WEBHOOK_ALLOW_LOOPBACK=true".to_owned(),
        "WEBHOOK_RETRY_SCHEDULE=0,1".to_owned(),
        format!("SQS_QUEUE_URL={}/123456789012/unused", moto_endpoint()),
        format!("AWS_ENDPOINT_URL={}", moto_endpoint()),
        "AWS_REGION=us-east-1".to_owned(),
        "AWS_ACCESS_KEY_ID=test".to_owned(),
        "AWS_SECRET_ACCESS_KEY=test".to_owned(),
    ];
    // An env file, since `--env-var` splits values on commas.
    let env_file = std::env::temp_dir().join(format!("bootstrap-{port}.env"));
    std::fs::write(&env_file, env.join("\n")).expect("env file");
    let mut watch = Command::new("cargo");
    watch
        .current_dir(workspace_root())
        .args([
            "lambda",
            "watch",
            "-p",
            "webhook-dispatch",
            "--bin",
            "bootstrap",
            "--ignore-changes",
        ])
        .args(["-A", "127.0.0.1", "-P", &port.to_string()])
        // The function's timeout, as the deployed Lambda's; the default 3 s is within the
        // handler's deadline margin, where it rightly starts nothing.
        .args(["--timeout", "60"])
        .arg("--env-file")
        .arg(&env_file);
    let _watch = Process::spawn(
        watch,
        "cargo lambda watch (install cargo-lambda: the README's test command does)",
    )
    .expect("cargo lambda watch starts");

    let mut event: SqsEvent =
        serde_json::from_str(include_str!("../../fixtures/sqs-event.json")).expect("fixture");
    let template = event.records[0].clone();
    event.records = [
        ("good", good.deliveries[0].to_string()),
        ("bad", bad.deliveries[0].to_string()),
        ("garbage", String::new()),
    ]
    .into_iter()
    .map(|(id, delivery)| {
        let mut record = template.clone();
        record.message_id = Some(id.to_owned());
        record.body = Some(if delivery.is_empty() {
            "not a delivery message".to_owned()
        } else {
            format!(r#"{{"v":1,"delivery_id":"{delivery}"}}"#)
        });
        record
    })
    .collect();
    let file = std::env::temp_dir().join(format!("sqs-event-{port}.json"));
    std::fs::write(&file, serde_json::to_vec(&event).expect("json")).expect("event file");

    // Invoked off the runtime thread: the receivers answer on this test's runtime.
    let invoke = |data: PathBuf| {
        let mut command = tokio::process::Command::new("cargo");
        command
            .current_dir(workspace_root())
            .args([
                "lambda",
                "invoke",
                "bootstrap",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .arg("--data-file")
            .arg(data);
        async move { command.output().await }
    };
    // cargo lambda builds and starts the function on the first invocation; an empty batch
    // tells when it answers. Invocations that time out stay queued in the emulator, so the
    // real event is sent only once the function is up.
    let empty = std::env::temp_dir().join(format!("sqs-empty-{port}.json"));
    std::fs::write(&empty, r#"{"Records":[]}"#).expect("empty event file");
    eventually(Duration::from_secs(240), "the function to answer", || {
        let output = invoke(empty.clone());
        async move { output.await.ok().filter(|o| o.status.success()).map(|_| ()) }
    })
    .await;
    let output = invoke(file.clone())
        .await
        .expect("cargo lambda invoke runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: SqsBatchResponse =
        serde_json::from_slice(&output.stdout).expect("a batch response");
    let mut failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failed.sort();
    assert_eq!(failed, ["bad", "garbage"]);
    assert_eq!(ok.received().len(), 1);
    assert_eq!(failing.received().len(), 1);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&empty);
    let _ = std::fs::remove_file(&env_file);
    db.drop_database().await;
}
