//! Applying the migrations to a real MariaDB (`TEST_DATABASE_SERVER`, default
//! `mysql://root@127.0.0.1:3306`), each test on its own uniquely named database.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::{ConnectOptions, Connection, Executor};

fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

fn server() -> MySqlConnectOptions {
    MySqlConnectOptions::from_str(&server_url()).expect("TEST_DATABASE_SERVER is a mysql:// URL")
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

async fn root() -> MySqlConnection {
    server()
        .connect()
        .await
        .expect("connect to the test server")
}

async fn execute(connection: &mut MySqlConnection, statement: String) {
    connection
        .execute(sqlx::AssertSqlSafe(statement.clone()))
        .await
        .unwrap_or_else(|error| panic!("{statement}: {error}"));
}

async fn database_exists(name: &str) -> bool {
    let mut root = root().await;
    let found: Option<String> = sqlx::query_scalar(
        "select schema_name from information_schema.schemata where schema_name = ?",
    )
    .bind(name)
    .fetch_optional(&mut root)
    .await
    .expect("query schemata");
    found.is_some()
}

async fn applied_migrations(options: &MySqlConnectOptions) -> i64 {
    let mut connection = options.connect().await.expect("connect");
    sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(&mut connection)
        .await
        .expect("count migrations")
}

async fn drop_database(name: &str) {
    execute(
        &mut root().await,
        format!("drop database if exists `{name}`"),
    )
    .await;
}

#[tokio::test]
async fn a_missing_database_is_created_and_migrating_twice_is_a_no_op() {
    let name = unique_name("migrate_missing");
    let options = server().database(&name);
    assert!(!database_exists(&name).await);

    schema::create_and_migrate(&options)
        .await
        .expect("create and migrate");
    schema::create_and_migrate(&options)
        .await
        .expect("migrate again");

    let expected = i64::try_from(schema::MIGRATOR.iter().count()).unwrap_or(i64::MAX);
    assert!(expected > 0);
    assert_eq!(applied_migrations(&options).await, expected);
    drop_database(&name).await;
}

#[tokio::test]
async fn an_existing_database_is_migrated_without_create_database() {
    // PlanetScale refuses CREATE DATABASE, even IF NOT EXISTS on a database that exists. Here a
    // user who may use only the `_sqlx_migrations` table (table-level grants, so no database-level
    // CREATE) stands in for it: it is refused CREATE DATABASE, yet migrating an up-to-date
    // database as that user works, so nothing issued CREATE DATABASE.
    let name = unique_name("migrate_existing");
    schema::create_and_migrate(&server().database(&name))
        .await
        .expect("migrate as root");
    let user = unique_name("mig");
    let hosts = ["%", "localhost", "127.0.0.1"];
    let mut root = root().await;
    for host in hosts {
        execute(
            &mut root,
            format!("create user '{user}'@'{host}' identified by 'pw-{user}'"),
        )
        .await;
        execute(
            &mut root,
            format!(
                "grant create, select, insert, update, delete on `{name}`.`_sqlx_migrations` to '{user}'@'{host}'"
            ),
        )
        .await;
    }
    let limited = server()
        .username(&user)
        .password(&format!("pw-{user}"))
        .database(&name);

    // The control: this user is refused CREATE DATABASE.
    let mut connection = limited
        .connect()
        .await
        .expect("connect as the limited user");
    let refused = connection
        .execute(sqlx::AssertSqlSafe(format!(
            "create database if not exists `{name}`"
        )))
        .await;
    connection.close().await.expect("close");

    let result = schema::create_and_migrate(&limited).await;

    for host in hosts {
        execute(&mut root, format!("drop user '{user}'@'{host}'")).await;
    }
    drop_database(&name).await;
    assert!(refused.is_err(), "the limited user may create databases");
    result.expect("migrate an existing database as a user who may not create databases");
}

#[tokio::test]
async fn unknown_database_is_told_apart_from_other_errors() {
    let missing = server().database(&unique_name("migrate_absent"));
    let error = missing.connect().await.expect_err("unknown database");
    assert!(schema::is_unknown_database(&error), "{error}");

    let wrong_password = server()
        .username("root")
        .password("certainly-wrong-password");
    if let Err(error) = wrong_password.connect().await {
        assert!(!schema::is_unknown_database(&error), "{error}");
    }
}

/// `root@127.0.0.1:3306` from `mysql://root@127.0.0.1:3306`.
fn server_authority() -> String {
    let url = server_url();
    url.trim_start_matches("mysql://")
        .trim_end_matches('/')
        .to_owned()
}

#[tokio::test]
async fn the_binary_migrates_the_go_driver_dsn_and_prints_nothing() {
    let name = unique_name("migrate_dsn");
    let (credentials, address) = server_authority()
        .rsplit_once('@')
        .map(|(c, a)| (c.to_owned(), a.to_owned()))
        .expect("TEST_DATABASE_SERVER has user@host");
    let dsn = format!("{credentials}@tcp({address})/{name}");

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
        .env_remove("DATABASE_URL")
        .env("DSN", &dsn)
        .output()
        .await
        .expect("run migrate");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    assert!(applied_migrations(&server().database(&name)).await > 0);
    drop_database(&name).await;
}

#[tokio::test]
async fn the_binary_without_a_database_says_which_variables_to_set() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
        .env_remove("DATABASE_URL")
        .env_remove("DSN")
        .output()
        .await
        .expect("run migrate");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("DSN"),
        "{stderr}"
    );
}
