//! The harness itself: the sweep that drops the databases failed runs left behind.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e::{
    STALE_AFTER, TEST_DB_PREFIX, TestDb, drop_stale_databases, server_url, test_db_created_at,
};
use sqlx::ConnectOptions;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};

async fn server() -> MySqlConnection {
    MySqlConnectOptions::from_str(&server_url())
        .expect("server URL")
        .connect()
        .await
        .expect("connect to the test server")
}

async fn exists(name: &str) -> bool {
    let found: Option<String> = sqlx::query_scalar(
        "select schema_name from information_schema.schemata where schema_name = ?",
    )
    .bind(name)
    .fetch_optional(&mut server().await)
    .await
    .expect("schemata");
    found.is_some()
}

async fn execute(sql: String) {
    sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .execute(&mut server().await)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A test database's name at `created` (as `TestDb::new` names one then).
fn test_db_name(created: SystemTime) -> String {
    let ms = created
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    let id = ulid::Ulid::from_parts(
        u64::try_from(ms).expect("ms"),
        ulid::Ulid::generate().random(),
    );
    format!("{TEST_DB_PREFIX}{}", id.to_string().to_ascii_lowercase())
}

/// The sweep drops a test database older than `STALE_AFTER`, and keeps a younger one (the
/// running tests' own, in this process or another) and any database the harness did not name.
#[tokio::test]
async fn stale_test_databases_are_dropped_and_the_others_kept() {
    let db = TestDb::new().await;
    let created = test_db_created_at(&db.name).expect("a test database's name has its time");
    let age = SystemTime::now()
        .duration_since(created)
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "{} is {age:?} old", db.name);

    let now = SystemTime::now();
    let stale = test_db_name(now - STALE_AFTER - Duration::from_secs(60));
    let young = test_db_name(now - STALE_AFTER + Duration::from_secs(600));
    let foreign = format!("{TEST_DB_PREFIX}kept_{}", std::process::id());
    for name in [&stale, &young, &foreign] {
        execute(format!("create database `{name}`")).await;
    }
    let dropped = drop_stale_databases(STALE_AFTER)
        .await
        .expect("the sweep runs");

    // Another test process may sweep the stale one first: what counts is that it is gone.
    assert!(!exists(&stale).await, "{stale} is stale");
    for kept in [&db.name, &young, &foreign] {
        assert!(!dropped.contains(kept), "{kept} dropped");
        assert!(exists(kept).await, "{kept} is gone");
    }
    for name in [&young, &foreign] {
        execute(format!("drop database `{name}`")).await;
    }
    db.drop_database().await;
}
