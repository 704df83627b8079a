//! The schema of Mechanica order webhooks, embedded from `migrations/` at the workspace root.
//!
//! Migrations are forward-only and expand/contract: blue and green run against one schema
//! during a deploy, so no release needs a column the previous release cannot tolerate.

use sqlx::migrate::Migrator;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

/// Every migration of the workspace.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Creates the database named in `options` if it is absent, then applies every pending
/// migration. Running it again is a no-op.
pub async fn create_and_migrate(options: &MySqlConnectOptions) -> Result<(), sqlx::Error> {
    create_database(options).await?;
    let pool = MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await?;
    MIGRATOR.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Creates the database named in `options` if it does not exist yet.
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
