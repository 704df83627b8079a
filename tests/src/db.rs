//! Test databases: one fresh, migrated MariaDB database per test ([`TestDb`]), queries the
//! tests read it with, and the sweep that drops what failed runs left behind
//! ([`drop_stale_databases`]).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection, MySqlPool};
use tokio::sync::OnceCell;

/// The MariaDB/MySQL server tests create their databases on.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into())
}

/// What the name of every database [`TestDb::new`] creates starts with; a lowercase ULID follows.
pub const TEST_DB_PREFIX: &str = "test_";

/// How old a test database must be before [`drop_stale_databases`] may drop it. No test runs for
/// this long, so a database this old belongs to no test still running, in this process or in any
/// other (nextest runs each test in a process of its own, several at once).
pub const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// A fresh, migrated database, dropped when the test passes.
///
/// A test drops its database as its last step ([`TestDb::drop_database`]), so the database of a
/// test that failed stays for a look at what it held. It is not kept forever: the first
/// [`TestDb::new`] of every later test process drops the ones older than [`STALE_AFTER`].
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// Its name.
    pub name: String,
    /// A pool on it.
    pub pool: MySqlPool,
}

impl TestDb {
    /// Creates and migrates a database with a unique name (after, once per process, dropping
    /// the stale ones of earlier runs: see [`drop_stale_databases`]).
    pub async fn new() -> Self {
        sweep_once().await;
        let name = format!(
            "{TEST_DB_PREFIX}{}",
            ulid::Ulid::generate().to_string().to_ascii_lowercase()
        );
        let url = format!("{}/{name}", server_url());
        let options = MySqlConnectOptions::from_str(&url).expect("test database URL");
        schema::create_and_migrate(&options)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database on {} ({e}); the README's test command starts MariaDB", server_url()));
        let pool = platform::database::pool(options, 8);
        Self { url, name, pool }
    }

    /// Counts rows of `table` (a trusted test literal).
    pub async fn count(&self, table: &str) -> i64 {
        self.number(&format!("select count(*) from {table}")).await
    }

    /// The one number `sql` selects (a count, a sum).
    pub async fn number(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Drops the database.
    pub async fn drop_database(self) {
        self.pool.close().await;
        let options = MySqlConnectOptions::from_str(&server_url()).expect("server URL");
        if let Ok(mut conn) = options.connect().await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "drop database if exists `{}`",
                self.name
            )))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// When the test database `name` was created: the timestamp of the ULID after
/// [`TEST_DB_PREFIX`]. `None` for a name [`TestDb::new`] did not make.
pub fn test_db_created_at(name: &str) -> Option<SystemTime> {
    let id = name.strip_prefix(TEST_DB_PREFIX)?;
    if id.len() != ulid::ULID_LEN || id.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let id = ulid::Ulid::from_string(&id.to_ascii_uppercase()).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(id.timestamp_ms()))
}

/// Drops the test databases created more than `older_than` ago; returns their names.
///
/// The rule: a database is dropped when its name is [`TEST_DB_PREFIX`] and a lowercase ULID (as
/// [`TestDb::new`] names them) whose timestamp is more than `older_than` before now. Any other
/// database on the server is left alone (the migration tests' `migrate_*`, the scripts'
/// `schemathesis_*`, a developer's own), and so is every younger test database: with
/// `older_than` at [`STALE_AFTER`], longer than any test runs, the tests running at the same time
/// (other threads, other nextest processes, another checkout's run) keep theirs. A database
/// another process dropped first is no error.
pub async fn drop_stale_databases(older_than: Duration) -> anyhow::Result<Vec<String>> {
    let options = MySqlConnectOptions::from_str(&server_url()).context("server URL")?;
    let mut conn = options
        .connect()
        .await
        .context("connecting to the server")?;
    let names: Vec<String> = sqlx::query_scalar(
        "select schema_name from information_schema.schemata where schema_name like ?",
    )
    .bind(format!("{}%", TEST_DB_PREFIX.replace('_', "\\_")))
    .fetch_all(&mut conn)
    .await
    .context("listing the test databases")?;
    let now = SystemTime::now();
    let mut dropped = Vec::new();
    for name in names {
        let Some(created) = test_db_created_at(&name) else {
            continue;
        };
        if now.duration_since(created).unwrap_or_default() <= older_than {
            continue;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop database if exists `{name}`"
        )))
        .execute(&mut conn)
        .await
        .with_context(|| format!("dropping {name}"))?;
        dropped.push(name);
    }
    let _ = conn.close().await;
    Ok(dropped)
}

/// Runs [`drop_stale_databases`] with [`STALE_AFTER`] the first time a test of this process asks
/// for a database; the others wait for it. A failed sweep is reported, not fatal: the tests do
/// not need it, and [`TestDb::new`] says what is wrong with the server if that is the cause.
async fn sweep_once() {
    static SWEPT: OnceCell<()> = OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            match drop_stale_databases(STALE_AFTER).await {
                Ok(dropped) if !dropped.is_empty() => eprintln!(
                    "dropped {} test database(s) older than {STALE_AFTER:?} left by earlier runs",
                    dropped.len()
                ),
                Ok(_) => {}
                Err(error) => eprintln!("sweeping stale test databases failed: {error:#}"),
            }
        })
        .await;
}

/// Deliveries grouped by status.
pub async fn delivery_statuses(db: &TestDb) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "select status, count(*) from webhook_deliveries group by status",
    )
    .fetch_all(&db.pool)
    .await
    .expect("statuses")
    .into_iter()
    .collect()
}
