//! The schema of Mechanica order webhooks, embedded from `migrations/` at the workspace root,
//! and applying it: what `orders-api` links to migrate its database in development, and what
//! the `migrate` tool applies.
//!
//! Migrations are forward-only and expand/contract: blue and green run against one schema
//! during a deploy, so no release needs a column the previous release cannot tolerate. The
//! `migrate` tool (the `migrations` crate) adds the safety lint and the PlanetScale flows.

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPool, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

/// Every migration of the workspace.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// MySQL's `ER_BAD_DB_ERROR`: "Unknown database".
const ER_BAD_DB_ERROR: u16 = 1049;

/// Applies every pending migration to the database named in `options`, creating the database
/// first only if the server reports it unknown. Running it again is a no-op.
///
/// The database is connected to first and `CREATE DATABASE` is issued only on MySQL error 1049
/// (unknown database): PlanetScale refuses `CREATE DATABASE` even with `IF NOT EXISTS`, and a
/// user whose grants cover just its own database may not create one either.
pub async fn create_and_migrate(options: &MySqlConnectOptions) -> Result<(), sqlx::Error> {
    let pool = connect_or_create(options).await?;
    let result = MIGRATOR.run(&pool).await;
    pool.close().await;
    result?;
    Ok(())
}

/// A one-connection pool on the database named in `options`, creating the database if (and only
/// if) the server says it does not exist.
pub async fn connect_or_create(options: &MySqlConnectOptions) -> Result<MySqlPool, sqlx::Error> {
    match connect(options).await {
        Err(error) if is_unknown_database(&error) => {
            tracing::info!(
                database = options.get_database().unwrap_or_default(),
                "database does not exist yet: creating it"
            );
            create_database(options).await?;
            connect(options).await
        }
        other => other,
    }
}

async fn connect(options: &MySqlConnectOptions) -> Result<MySqlPool, sqlx::Error> {
    MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
}

/// Whether `error` is MySQL's "Unknown database" (1049).
pub fn is_unknown_database(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.try_downcast_ref::<MySqlDatabaseError>())
        .is_some_and(|error| error.number() == ER_BAD_DB_ERROR)
}

/// Creates the database named in `options` if it does not exist yet (connecting to the server
/// without a default database). Prefer [`connect_or_create`], which only gets here when the
/// database is missing.
pub async fn create_database(options: &MySqlConnectOptions) -> Result<(), sqlx::Error> {
    let Some(database) = options.get_database() else {
        return Ok(());
    };
    let database = database.to_owned();
    let mut server = options.clone().database("").connect().await?;
    let statement = format!(
        "create database if not exists `{}` character set utf8mb4 collate utf8mb4_bin",
        database.replace('`', "``")
    );
    server.execute(sqlx::AssertSqlSafe(statement)).await?;
    server.close().await?;
    Ok(())
}
