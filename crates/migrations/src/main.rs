//! `migrate`: applies every migration to `DATABASE_URL` or `DSN` (creating the database only if
//! it does not exist), automates PlanetScale deploy requests and branches for the pipeline, and
//! lints migrations. Logs go to stderr; stdout carries only what a script captures (a deploy
//! request number, a branch DSN).

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use migrations::planetscale::{
    self, BackupChoice, Client, DeployOutcome, NewDeployRequest, Poll, Restore,
};
use secrecy::{ExposeSecret, SecretString};
use sqlx::mysql::MySqlConnectOptions;

/// Applies the schema of Mechanica order webhooks (with no subcommand), and manages its
/// PlanetScale deploy requests and branches.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    /// Database to migrate: `mysql://user:pass@host:port/db` (or the Go-driver form).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<SecretString>,

    /// PlanetScale's Go-driver form `user:pass@tcp(host:port)/db?tls=true`, used when
    /// DATABASE_URL is unset.
    #[arg(long, env = "DSN", hide_env_values = true)]
    dsn: Option<SecretString>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Opens a deploy request and deploys it, or deploys an open one (`--number`), waiting until
    /// the changes are live; `revert` and `skip-revert` act on the 30-minute revert window.
    DeployRequest(DeployRequestArgs),
    /// Creates (`create`, optionally restored from a backup) or deletes (`delete`) a PlanetScale
    /// branch.
    Branch {
        #[command(subcommand)]
        command: BranchCommand,
    },
    /// Lints migrations (and the SQL in Rust sources) for changes that break the running release
    /// during blue/green, that PlanetScale refuses, or that MySQL 8.0 and MariaDB disagree on.
    Lint(LintArgs),
}

/// Which PlanetScale database, as whom.
#[derive(Debug, Args)]
struct Target {
    /// PlanetScale organization.
    #[arg(long, env = "PLANETSCALE_ORG")]
    org: Option<String>,

    /// PlanetScale database.
    #[arg(long, env = "PLANETSCALE_DATABASE")]
    database: Option<String>,

    /// Service token id (the part before the colon of the Authorization header).
    #[arg(long, env = "PLANETSCALE_SERVICE_TOKEN_ID", hide_env_values = true)]
    service_token_id: Option<String>,

    /// Service token.
    #[arg(long, env = "PLANETSCALE_SERVICE_TOKEN", hide_env_values = true)]
    service_token: Option<SecretString>,

    /// PlanetScale API base URL.
    #[arg(long, env = "PLANETSCALE_API_URL", default_value = planetscale::DEFAULT_API_URL)]
    api_url: String,
}

impl Target {
    /// The API client, the organization and the database.
    fn resolve(&self) -> anyhow::Result<(Client, &str, &str)> {
        let org = required(self.org.as_deref(), "--org or PLANETSCALE_ORG")?;
        let database = required(
            self.database.as_deref(),
            "--database or PLANETSCALE_DATABASE",
        )?;
        let token_id = required(
            self.service_token_id.as_deref(),
            "PLANETSCALE_SERVICE_TOKEN_ID",
        )?;
        let token = self
            .service_token
            .as_ref()
            .filter(|token| !token.expose_secret().is_empty())
            .context("PLANETSCALE_SERVICE_TOKEN is required")?;
        let client = Client::new(&self.api_url, token_id, token)?;
        Ok((client, org, database))
    }
}

fn required<'a>(value: Option<&'a str>, name: &str) -> anyhow::Result<&'a str> {
    match value.map(str::trim) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => bail!("{name} is required"),
    }
}

/// How long and how often to poll PlanetScale.
#[derive(Debug, Args)]
struct Wait {
    /// Give up waiting after this many seconds [default: 1800 for deploy requests, 600 for a new
    /// branch, 3600 for a branch restored from a backup].
    #[arg(long)]
    timeout_seconds: Option<u64>,

    /// First interval between two polls, in milliseconds; it doubles up to
    /// --max-poll-interval-ms and starts again when the state changes.
    #[arg(long, default_value_t = 2000)]
    poll_interval_ms: u64,

    /// Longest interval between two polls, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    max_poll_interval_ms: u64,
}

impl Wait {
    fn poll(&self, default_timeout: Duration) -> Poll {
        Poll::new(
            self.timeout_seconds
                .map_or(default_timeout, Duration::from_secs),
            Duration::from_millis(self.poll_interval_ms.max(1)),
            Duration::from_millis(self.max_poll_interval_ms.max(1)),
        )
    }
}

const DEPLOY_TIMEOUT: Duration = Duration::from_secs(1800);
const BRANCH_TIMEOUT: Duration = Duration::from_secs(600);
/// Restoring copies the backup's data: it takes longer than an empty branch.
const RESTORE_TIMEOUT: Duration = Duration::from_secs(3600);

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct DeployRequestArgs {
    #[command(subcommand)]
    action: Option<DeployRequestAction>,

    #[command(flatten)]
    target: Target,

    /// Open a deploy request from this branch (or take the open one from it into --into).
    #[arg(long, required_unless_present = "number", conflicts_with = "number")]
    branch: Option<String>,

    /// The branch to deploy into.
    #[arg(long, default_value = "main", conflicts_with = "number")]
    into: String,

    /// Deploy this open deploy request instead of opening one.
    #[arg(long)]
    number: Option<u64>,

    /// Do not deploy: wait for PlanetScale's check and print the request number on stdout when
    /// it has changes (nothing when it has none; it is closed then).
    #[arg(long)]
    no_deploy: bool,

    /// Notes on a new deploy request.
    #[arg(long, conflicts_with = "number")]
    notes: Option<String>,

    #[command(flatten)]
    wait: Wait,
}

#[derive(Debug, Subcommand)]
enum DeployRequestAction {
    /// Reverts deploy request --number within PlanetScale's 30-minute revert window and waits
    /// until the revert is complete.
    Revert(RevertArgs),
    /// Ends the revert window of deploy request --number early, keeping its changes.
    SkipRevert(RevertArgs),
}

#[derive(Debug, Args)]
struct RevertArgs {
    #[command(flatten)]
    target: Target,

    /// The deploy request.
    #[arg(long)]
    number: u64,

    #[command(flatten)]
    wait: Wait,
}

#[derive(Debug, Subcommand)]
enum BranchCommand {
    /// Creates --branch from --from (with --from-backup, restored from a backup of --from),
    /// waits until it is ready, creates a password for it and prints its connection string
    /// (`user:pass@tcp(host:3306)/db?tls=true`) as the only line on stdout.
    Create(BranchCreateArgs),
    /// Deletes --branch; succeeds when it does not exist.
    Delete(BranchDeleteArgs),
}

#[derive(Debug, Args)]
struct BranchCreateArgs {
    #[command(flatten)]
    target: Target,

    /// The new branch.
    #[arg(long)]
    branch: String,

    /// Its parent branch.
    #[arg(long, default_value = "main")]
    from: String,

    /// Restore the new branch's schema and data from a backup of --from: `latest` (its newest
    /// backup that succeeded) or a backup id. No branch is created when there is no such backup.
    #[arg(long, value_name = "latest|ID", requires = "cluster_size")]
    from_backup: Option<BackupChoice>,

    /// The restored branch's cluster size, e.g. `PS_10` (PlanetScale requires one to restore a
    /// backup).
    #[arg(long, requires = "from_backup")]
    cluster_size: Option<String>,

    #[command(flatten)]
    wait: Wait,
}

#[derive(Debug, Args)]
struct BranchDeleteArgs {
    #[command(flatten)]
    target: Target,

    /// The branch to delete.
    #[arg(long)]
    branch: String,
}

#[derive(Debug, Args)]
struct LintArgs {
    /// Files or directories (walked for `.sql` and `.rs` files).
    #[arg(default_value = "migrations")]
    paths: Vec<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        None => migrate(cli.database_url.as_ref(), cli.dsn.as_ref()).await?,
        Some(Command::Lint(args)) => return lint(&args),
        Some(Command::DeployRequest(args)) => deploy_request(args).await?,
        Some(Command::Branch { command }) => branch(command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn migrate(
    database_url: Option<&SecretString>,
    dsn: Option<&SecretString>,
) -> anyhow::Result<()> {
    let url = migrations::config::database_url(database_url, dsn)?;
    let options = MySqlConnectOptions::from_str(url.expose_secret())
        .context("the database URL is not valid")?;
    schema::create_and_migrate(&options)
        .await
        .context("applying migrations")?;
    tracing::info!("database is up to date");
    Ok(())
}

fn lint(args: &LintArgs) -> anyhow::Result<ExitCode> {
    let report = migrations::lint::lint_paths(&args.paths)?;
    for finding in &report.findings {
        eprintln!("{finding}");
    }
    if report.findings.is_empty() {
        tracing::info!(files = report.files, "migration lint: no findings");
        Ok(ExitCode::SUCCESS)
    } else {
        tracing::error!(
            files = report.files,
            findings = report.findings.len(),
            "migration lint failed"
        );
        Ok(ExitCode::FAILURE)
    }
}

async fn deploy_request(args: DeployRequestArgs) -> anyhow::Result<()> {
    match args.action {
        Some(DeployRequestAction::Revert(args)) => {
            let (client, org, database) = args.target.resolve()?;
            let poll = args.wait.poll(DEPLOY_TIMEOUT);
            planetscale::revert(&client, org, database, args.number, poll).await?;
            return Ok(());
        }
        Some(DeployRequestAction::SkipRevert(args)) => {
            let (client, org, database) = args.target.resolve()?;
            let poll = args.wait.poll(DEPLOY_TIMEOUT);
            planetscale::skip_revert(&client, org, database, args.number, poll).await?;
            return Ok(());
        }
        None => {}
    }
    let (client, org, database) = args.target.resolve()?;
    let poll = args.wait.poll(DEPLOY_TIMEOUT);
    let deploy = !args.no_deploy;
    let outcome = match (args.number, args.branch) {
        (Some(number), _) => {
            planetscale::deploy_existing(&client, org, database, number, deploy, poll).await?
        }
        (None, Some(branch)) => {
            let request = NewDeployRequest {
                notes: args.notes.unwrap_or_else(|| {
                    format!("Schema changes of {branch}, opened by migrate deploy-request.")
                }),
                branch,
                into_branch: args.into,
            };
            planetscale::open_deploy_request(&client, org, database, &request, deploy, poll).await?
        }
        (None, None) => bail!("--branch or --number is required"),
    };
    match outcome {
        DeployOutcome::Deployable { number } => println!("{number}"),
        DeployOutcome::NoChanges { .. } | DeployOutcome::Deployed { .. } => {}
    }
    Ok(())
}

async fn branch(command: BranchCommand) -> anyhow::Result<()> {
    match command {
        BranchCommand::Create(args) => {
            let (client, org, database) = args.target.resolve()?;
            let restore = match (args.from_backup, args.cluster_size) {
                (Some(backup), Some(cluster_size)) => Some(Restore {
                    backup,
                    cluster_size,
                }),
                (Some(_), None) => bail!("--cluster-size is required with --from-backup"),
                (None, _) => None,
            };
            let poll = args.wait.poll(if restore.is_some() {
                RESTORE_TIMEOUT
            } else {
                BRANCH_TIMEOUT
            });
            let dsn = planetscale::create_branch_dsn(
                &client,
                org,
                database,
                &args.branch,
                &args.from,
                restore.as_ref(),
                poll,
            )
            .await?;
            println!("{}", dsn.expose_secret());
        }
        BranchCommand::Delete(args) => {
            let (client, org, database) = args.target.resolve()?;
            if client.delete_branch(org, database, &args.branch).await? {
                tracing::info!(branch = %args.branch, "deleted branch");
            } else {
                tracing::info!(branch = %args.branch, "branch does not exist: nothing to delete");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(line: &str) -> Cli {
        Cli::try_parse_from(line.split_whitespace())
            .unwrap_or_else(|error| panic!("{line}: {error}"))
    }

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_pipelines_command_lines_parse() {
        // infra/pipeline/Jenkinsfile and buildspec-prod.yml.
        let cli =
            parse("migrate branch create --org O --database mechanica --branch test --from main");
        assert!(matches!(
            cli.command,
            Some(Command::Branch { command: BranchCommand::Create(ref a) }) if a.branch == "test" && a.from == "main"
        ));
        assert!(matches!(
            cli.command,
            Some(Command::Branch { command: BranchCommand::Create(ref a) })
                if a.from_backup.is_none() && a.cluster_size.is_none()
        ));
        let cli = parse("migrate branch delete --org O --database mechanica --branch test");
        assert!(matches!(
            cli.command,
            Some(Command::Branch { command: BranchCommand::Delete(ref a) }) if a.branch == "test"
        ));
        let cli = parse(
            "migrate deploy-request --org O --database mechanica --branch dev --into main --no-deploy",
        );
        assert!(matches!(
            cli.command,
            Some(Command::DeployRequest(ref a))
                if a.branch.as_deref() == Some("dev") && a.into == "main" && a.no_deploy && a.action.is_none()
        ));
        let cli = parse("migrate deploy-request --org O --database mechanica --number 42");
        assert!(matches!(
            cli.command,
            Some(Command::DeployRequest(ref a)) if a.number == Some(42) && !a.no_deploy
        ));
        let cli =
            parse("migrate deploy-request --org O --database mechanica --branch dev --into main");
        assert!(matches!(cli.command, Some(Command::DeployRequest(ref a)) if !a.no_deploy));
        let cli = parse("migrate deploy-request revert --org O --database mechanica --number 42");
        assert!(matches!(
            cli.command,
            Some(Command::DeployRequest(DeployRequestArgs {
                action: Some(DeployRequestAction::Revert(RevertArgs { number: 42, .. })),
                ..
            }))
        ));
        let cli = parse("migrate deploy-request skip-revert --number 42");
        assert!(matches!(
            cli.command,
            Some(Command::DeployRequest(DeployRequestArgs {
                action: Some(DeployRequestAction::SkipRevert(RevertArgs {
                    number: 42,
                    ..
                })),
                ..
            }))
        ));
        let cli = parse("migrate lint migrations crates");
        assert!(matches!(
            cli.command,
            Some(Command::Lint(ref a)) if a.paths == [PathBuf::from("migrations"), PathBuf::from("crates")]
        ));
        assert!(parse("migrate").command.is_none());
    }

    #[test]
    fn the_sprint_automations_command_line_parses() {
        // README.md, "Deploying": a fresh `dev` seeded from the newest backup of `main`.
        let cli = parse(
            "migrate branch create --org O --database mechanica --branch dev --from main \
             --from-backup latest --cluster-size PS_10",
        );
        assert!(matches!(
            cli.command,
            Some(Command::Branch { command: BranchCommand::Create(ref a) })
                if a.branch == "dev"
                    && a.from == "main"
                    && a.from_backup == Some(BackupChoice::Latest)
                    && a.cluster_size.as_deref() == Some("PS_10")
        ));
        let cli = parse(
            "migrate branch create --branch dev --from-backup k20nb1b7ut18 --cluster-size PS_10 \
             --timeout-seconds 7200",
        );
        assert!(matches!(
            cli.command,
            Some(Command::Branch { command: BranchCommand::Create(ref a) })
                if a.from == "main"
                    && a.from_backup == Some(BackupChoice::Id("k20nb1b7ut18".into()))
                    && a.wait.timeout_seconds == Some(7200)
        ));
    }

    #[test]
    fn restoring_needs_a_backup_and_a_cluster_size() {
        use clap::error::ErrorKind;

        let create = ["migrate", "branch", "create", "--branch", "dev"];
        for (extra, kind) in [
            (
                &["--from-backup", "latest"][..],
                ErrorKind::MissingRequiredArgument,
            ),
            (
                &["--cluster-size", "PS_10"],
                ErrorKind::MissingRequiredArgument,
            ),
            (
                &["--from-backup", "", "--cluster-size", "PS_10"],
                ErrorKind::ValueValidation,
            ),
        ] {
            let args = create.iter().chain(extra);
            match Cli::try_parse_from(args) {
                Ok(cli) => panic!("{extra:?} parsed: {cli:?}"),
                Err(error) => assert_eq!(error.kind(), kind, "{extra:?}: {error}"),
            }
        }
    }

    #[test]
    fn dsn_is_a_flag_of_plain_migrate() {
        let cli = parse("migrate --dsn root@tcp(127.0.0.1:3306)/mechanica");
        assert!(cli.command.is_none());
        assert_eq!(
            cli.dsn
                .as_ref()
                .map(|dsn| dsn.expose_secret().to_owned())
                .as_deref(),
            Some("root@tcp(127.0.0.1:3306)/mechanica")
        );
    }

    #[test]
    fn contradictory_deploy_request_flags_are_refused() {
        for line in [
            "migrate deploy-request --org O --database D",
            "migrate deploy-request --org O --database D --branch dev --number 1",
            "migrate deploy-request --org O --database D --number 1 revert --number 1",
            "migrate deploy-request revert --org O --database D",
        ] {
            assert!(
                Cli::try_parse_from(line.split_whitespace()).is_err(),
                "{line}"
            );
        }
    }

    #[test]
    fn lint_defaults_to_the_migrations_directory() {
        assert!(matches!(
            parse("migrate lint").command,
            Some(Command::Lint(ref a)) if a.paths == [PathBuf::from("migrations")]
        ));
    }
}
