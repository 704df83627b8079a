//! `orders-api`: serves the API (default) or runs an admin command.

use clap::{Parser, Subcommand};
use orders_api::Application;
use orders_api::config::Config;
use orders_api::db::api_keys::{self, Role};
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

/// The Mechanica orders API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Creates an operator API key and prints it on stdout (and nothing else).
    CreateOperatorKey {
        /// A name to recognise the key by.
        #[arg(long)]
        name: Option<String>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    webhook_dispatch::telemetry::init(cli.config.common.app_env);
    match cli.command {
        None => {
            let app = Application::build(cli.config).await?;
            let shutdown = CancellationToken::new();
            tokio::spawn({
                let shutdown = shutdown.clone();
                async move {
                    webhook_dispatch::shutdown_signal().await;
                    shutdown.cancel();
                }
            });
            app.run_until_stopped(shutdown).await
        }
        Some(Command::Admin {
            command: AdminCommand::CreateOperatorKey { name },
        }) => {
            let pool = orders_api::connect(&cli.config).await?;
            let mut conn = pool.acquire().await?;
            let key = api_keys::create(&mut conn, &Role::Operator, name.as_deref()).await?;
            drop(conn);
            pool.close().await;
            println!("{}", key.secret.expose_secret());
            Ok(())
        }
    }
}
