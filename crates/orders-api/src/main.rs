//! `orders-api`: serves the API (default) or runs an admin command.

use anyhow::Context;
use clap::{Parser, Subcommand};
use delivery::retention;
use domain::ids::CustomerId;
use orders_api::Application;
use orders_api::config::Config;
use orders_api::db::api_keys::{self, Role};
use orders_api::db::{customers, portal_sessions as sessions};
use orders_api::http::portal_sessions;
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
    /// Prints the OpenAPI document (what `GET /openapi.json` serves) on stdout.
    Openapi,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Creates an operator API key and prints it on stdout (and nothing else).
    CreateOperatorKey {
        /// A name to recognise the key by.
        #[arg(long)]
        name: Option<String>,
    },
    /// Opens a portal session for a customer and prints its link on stdout (and nothing else).
    PortalLink {
        /// The customer (`cus_…`).
        #[arg(
            long,
            required_unless_present = "new_customer",
            conflicts_with = "new_customer"
        )]
        customer: Option<CustomerId>,
        /// Creates a customer of this name first (a local demonstration, as `scripts/run` does).
        #[arg(long, value_name = "NAME")]
        new_customer: Option<String>,
        /// Seconds until the link stops working, 300–86400.
        #[arg(long, default_value_t = portal_sessions::DEFAULT_LIFETIME_SECONDS,
              value_parser = clap::value_parser!(u32).range(
                  i64::from(*portal_sessions::LIFETIME_SECONDS.start())
                      ..=i64::from(*portal_sessions::LIFETIME_SECONDS.end())))]
        lifetime_seconds: u32,
    },
    /// Deletes now what is final and older than `RETENTION_DAYS` (deliveries, their attempts,
    /// their events), as the API does hourly, and prints how many of each.
    Prune {
        /// Only counts what would be deleted; deletes nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    platform::telemetry::init(cli.config.common.app_env);
    match cli.command {
        None => {
            let app = Application::build(cli.config).await?;
            let shutdown = CancellationToken::new();
            tokio::spawn({
                let shutdown = shutdown.clone();
                async move {
                    platform::shutdown_signal().await;
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
        Some(Command::Admin {
            command:
                AdminCommand::PortalLink {
                    customer,
                    new_customer,
                    lifetime_seconds,
                },
        }) => {
            let pool = orders_api::connect(&cli.config).await?;
            let mut conn = pool.acquire().await?;
            let customer = match (customer, new_customer) {
                (Some(customer), _) => {
                    anyhow::ensure!(
                        customers::exists(&mut conn, &customer).await?,
                        "no customer {customer}"
                    );
                    customer
                }
                (None, Some(name)) => {
                    let mut errors = domain::validation::FieldErrors::new();
                    domain::validation::text(&mut errors, "--new-customer", &name, 200);
                    if let Some(error) = errors.into_vec().first() {
                        anyhow::bail!("{} {}", error.field, error.message);
                    }
                    let customer = CustomerId::new();
                    customers::insert(&mut conn, &customer, &name, domain::time::now()).await?;
                    customer
                }
                (None, None) => anyhow::bail!("--customer or --new-customer is required"),
            };
            let session = sessions::create(&mut conn, &customer, lifetime_seconds).await?;
            drop(conn);
            pool.close().await;
            let url = cli.config.portal.url(cli.config.listen_addr()?);
            println!(
                "{}",
                portal_sessions::link(&url, session.token.expose_secret())
            );
            Ok(())
        }
        Some(Command::Admin {
            command: AdminCommand::Prune { dry_run },
        }) => {
            let policy = cli
                .config
                .retention()
                .context("RETENTION_DAYS is 0: nothing is ever deleted")?;
            let pool = orders_api::connect(&cli.config).await?;
            let pruned = if dry_run {
                retention::plan(&pool, policy.cutoff(domain::time::now())).await?
            } else {
                let holder = domain::ids::token();
                retention::prune_once(&pool, &policy, &holder, &CancellationToken::new())
                    .await?
                    .context("another instance is pruning now; try again once it is done")?
            };
            pool.close().await;
            let verb = if dry_run { "would delete" } else { "pruned" };
            println!(
                "{verb} {} deliveries, {} attempts and {} events final and older than {} days, \
                 and {} statistics buckets past their retention",
                pruned.deliveries,
                pruned.attempts,
                pruned.events,
                cli.config.retention_days,
                pruned.stats
            );
            Ok(())
        }
        Some(Command::Openapi) => {
            let document = serde_json::to_string_pretty(&orders_api::http::openapi::document())
                .context("serializing the OpenAPI document")?;
            println!("{document}");
            Ok(())
        }
    }
}
