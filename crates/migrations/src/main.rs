//! `migrate`: applies every migration to `DATABASE_URL`, creating the database if it is absent.

use std::str::FromStr;

use anyhow::Context;
use clap::Parser;
use sqlx::mysql::MySqlConnectOptions;

/// Applies the schema of Mechanica order webhooks.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Config {
    /// `mysql://user:pass@host:port/database` of the database to migrate.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::parse();
    let options = MySqlConnectOptions::from_str(&config.database_url)
        .context("DATABASE_URL is not a valid mysql:// URL")?;
    migrations::create_and_migrate(&options)
        .await
        .context("applying migrations")?;
    tracing::info!("database is up to date");
    Ok(())
}
