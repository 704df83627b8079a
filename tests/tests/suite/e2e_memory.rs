//! Memory mode end to end: the real `orders-api` binary, killed and restarted mid-run.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use e2e::{
    Api, LIFECYCLE, Process, Receiver, Reply, TestDb, api_env, binary, eventually, free_port,
    wait_ready,
};

/// `orders-api admin create-operator-key` prints the key and nothing else on stdout.
fn operator_key(env: &[(&str, String)]) -> String {
    let output = Command::new(binary("orders-api"))
        .args(["admin", "create-operator-key", "--name", "e2e"])
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("admin command runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf8");
    let key = stdout.trim_end_matches('\n');
    assert!(
        key.starts_with("mk_") && !key.contains(char::is_whitespace),
        "stdout was {stdout:?}"
    );
    key.to_owned()
}

async fn place_and_walk(api: &Api, key: &str, prefix: &str, orders: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..orders {
        let id = api.order(key, &format!("{prefix}-{n}")).await;
        for status in LIFECYCLE {
            api.advance(&id, status).await;
        }
        ids.push(id);
    }
    ids
}

#[tokio::test]
async fn every_change_arrives_verified_even_across_a_kill() {
    let db = TestDb::new().await;
    // Slow enough that deliveries are still in flight when the process dies.
    let receiver = Receiver::start_with(|_| Reply {
        delay: Duration::from_millis(150),
        ..Reply::status(200)
    })
    .await;
    let port = free_port();
    let env = api_env(&db, port);
    let base = format!("http://127.0.0.1:{port}");
    let mut process = Process::start("orders-api", &[], &env).expect("orders-api starts");
    wait_ready(&base).await;
    let api = Api {
        base: base.clone(),
        operator_key: operator_key(&env),
        http: e2e::http_client(),
    };
    let (_, key) = api.customer("Acme").await;
    let (_, secret) = api
        .endpoint(&key, &format!("{}/hooks", receiver.url), None)
        .await;

    let mut orders = place_and_walk(&api, &key, "before", 8).await;
    process.kill();
    let delivered_at_kill = receiver.received().len();
    let mut process = Process::start("orders-api", &[], &env).expect("orders-api restarts");
    wait_ready(&base).await;
    orders.extend(place_and_walk(&api, &key, "after", 4).await);

    let expected_events = orders.len() * (LIFECYCLE.len() + 1);
    let event_ids: BTreeSet<String> = sqlx::query_scalar("select id from webhook_events")
        .fetch_all(&db.pool)
        .await
        .expect("events")
        .into_iter()
        .collect();
    assert_eq!(event_ids.len(), expected_events);
    // Attempts cut short by the kill leave a lease behind; once it expires they are sent again,
    // so every delivery ends `delivered` and a few events arrive twice (at-least-once).
    eventually(
        Duration::from_secs(90),
        "every delivery recorded as delivered",
        || async {
            let statuses = e2e::delivery_statuses(&db).await;
            (statuses.get("delivered") == Some(&(expected_events as i64)) && statuses.len() == 1)
                .then_some(())
        },
    )
    .await;
    let received = receiver.received();
    let ids: BTreeSet<String> = received
        .iter()
        .map(|r| r.header("webhook-id").to_owned())
        .collect();
    assert_eq!(ids, event_ids, "every event reached the receiver");

    let mut sequences: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for request in &received {
        request.verify(&secret).expect("every body verifies");
        let order = &request.json()["data"]["order"];
        let id = order["id"].as_str().expect("order id").to_owned();
        sequences
            .entry(id)
            .or_default()
            .insert(order["sequence"].as_u64().expect("sequence"));
    }
    let all: BTreeSet<u64> = (1..=(LIFECYCLE.len() as u64 + 1)).collect();
    assert_eq!(sequences.len(), orders.len());
    for (order, seen) in &sequences {
        assert_eq!(seen, &all, "{order} is missing a sequence");
    }
    println!(
        "memory mode: {} events, {} requests received ({} before the kill), {} duplicates",
        expected_events,
        received.len(),
        delivered_at_kill,
        received.len() - expected_events
    );
    process.terminate().expect("clean shutdown on SIGTERM");
    db.drop_database().await;
}
