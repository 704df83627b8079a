//! The workflows of the pipeline on top of [`Client`]: open and deploy a deploy request and wait
//! for it, revert or keep it within the revert window, create a branch (restored from a backup of
//! its parent, if asked) with a password.
//!
//! Every wait polls with its own deadline and a capped exponential backoff ([`Poll`]); the
//! interval starts again from the initial one whenever the state changes. Reads that fail
//! transiently (no response, 429, 5xx) are retried until the deadline; writes are not retried.

use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};

use super::{Backup, Client, DeployRequest, Error, NewBranch, NewDeployRequest, Password};

/// How long and how often to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Poll {
    /// Give up after this long.
    pub timeout: Duration,
    /// The first interval between two reads.
    pub interval: Duration,
    /// The interval doubles up to this.
    pub max_interval: Duration,
}

impl Poll {
    /// `timeout`, starting at `interval` and doubling up to `max_interval`.
    pub fn new(timeout: Duration, interval: Duration, max_interval: Duration) -> Self {
        Self {
            timeout,
            interval,
            max_interval: max_interval.max(interval),
        }
    }
}

/// A deadline and the current backoff.
struct Waiter {
    poll: Poll,
    started: Instant,
    interval: Duration,
}

impl Waiter {
    fn new(poll: Poll) -> Self {
        Self {
            poll,
            started: Instant::now(),
            interval: poll.interval,
        }
    }

    fn expired(&self) -> bool {
        self.started.elapsed() >= self.poll.timeout
    }

    fn waited(&self) -> Duration {
        self.started.elapsed()
    }

    /// Sleeps for the current interval (never past the deadline), then backs off; a state
    /// change starts the backoff again.
    async fn sleep(&mut self, progressed: bool) {
        if progressed {
            self.interval = self.poll.interval;
        }
        let left = self.poll.timeout.saturating_sub(self.started.elapsed());
        tokio::time::sleep(self.interval.min(left)).await;
        self.interval = (self.interval * 2).min(self.poll.max_interval);
    }
}

/// How a deploy request ended for this tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployOutcome {
    /// The branch has no schema changes: the request was closed.
    NoChanges {
        /// Deploy request number.
        number: u64,
    },
    /// PlanetScale checked the request and it has changes to deploy; not deployed here
    /// (`--no-deploy`), or already being deployed by someone else.
    Deployable {
        /// Deploy request number.
        number: u64,
    },
    /// The changes are live: `complete`, or `complete_pending_revert` (the revert window is
    /// open).
    Deployed {
        /// Deploy request number.
        number: u64,
        /// The final deployment state.
        state: String,
    },
}

/// What a deployment state means to the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// PlanetScale is still checking the changes.
    Checking,
    /// Checked, deployable.
    Ready,
    /// Nothing to deploy.
    NoChanges,
    /// Queued or running (including a cancel or revert in progress, which end in a state below).
    Running,
    /// Waiting for someone to cut over ("apply").
    PendingCutover,
    /// Live.
    Succeeded,
    /// Ended without the changes.
    Failed,
    /// A state this tool does not know: keep waiting, the deadline still holds.
    Unknown,
}

fn phase(state: &str) -> Phase {
    match state {
        "pending" => Phase::Checking,
        "ready" => Phase::Ready,
        "no_changes" => Phase::NoChanges,
        "queued"
        | "submitting"
        | "in_progress"
        | "in_progress_vschema"
        | "in_progress_cutover"
        | "in_progress_cancel"
        | "in_progress_revert"
        | "in_progress_revert_vschema" => Phase::Running,
        "pending_cutover" => Phase::PendingCutover,
        "complete" | "complete_pending_revert" => Phase::Succeeded,
        "error"
        | "failed"
        | "complete_error"
        | "cancelled"
        | "complete_cancel"
        | "complete_revert"
        | "complete_revert_error" => Phase::Failed,
        _ => Phase::Unknown,
    }
}

/// Whether to deploy or only wait for PlanetScale's check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Check,
    Deploy,
}

/// Opens a deploy request from `request.branch` into `request.into_branch` (or takes the open
/// one there already is), waits for PlanetScale's check and then: closes it on `no_changes`;
/// returns [`DeployOutcome::Deployable`] when `deploy` is false; otherwise deploys it and waits
/// until it is live (see [`deploy_existing`]).
pub async fn open_deploy_request(
    client: &Client,
    org: &str,
    database: &str,
    request: &NewDeployRequest,
    deploy: bool,
    poll: Poll,
) -> Result<DeployOutcome, Error> {
    let open = client
        .open_deploy_requests(org, database, &request.branch, &request.into_branch)
        .await?;
    let existing = open
        .into_iter()
        .filter(|dr| {
            !dr.is_closed()
                && dr.branch.as_deref() == Some(request.branch.as_str())
                && dr.into_branch.as_deref() == Some(request.into_branch.as_str())
        })
        .max_by_key(|dr| dr.number);
    let number = match existing {
        Some(dr) => {
            tracing::info!(
                number = dr.number,
                url = dr.html_url.as_deref().unwrap_or_default(),
                "an open deploy request {} -> {} exists: using it",
                request.branch,
                request.into_branch
            );
            dr.number
        }
        None => {
            let dr = client.create_deploy_request(org, database, request).await?;
            tracing::info!(
                number = dr.number,
                url = dr.html_url.as_deref().unwrap_or_default(),
                "opened deploy request {} -> {}",
                request.branch,
                request.into_branch
            );
            dr.number
        }
    };
    let goal = if deploy { Goal::Deploy } else { Goal::Check };
    drive(client, org, database, number, goal, poll).await
}

/// Deploys the open deploy request `number` and waits until it is live: waits for the check
/// (`pending`), deploys on `ready`, waits through `queued` / `submitting` / `in_progress*`,
/// applies at `pending_cutover` when auto-apply is off, and succeeds on `complete` or
/// `complete_pending_revert`. Closes it on `no_changes`. Fails on `error`, `complete_error`,
/// `cancelled`, `complete_cancel`, `complete_revert`, `complete_revert_error`, and when
/// `poll.timeout` runs out. With `deploy` false it only waits for the check.
pub async fn deploy_existing(
    client: &Client,
    org: &str,
    database: &str,
    number: u64,
    deploy: bool,
    poll: Poll,
) -> Result<DeployOutcome, Error> {
    let goal = if deploy { Goal::Deploy } else { Goal::Check };
    drive(client, org, database, number, goal, poll).await
}

async fn drive(
    client: &Client,
    org: &str,
    database: &str,
    number: u64,
    goal: Goal,
    poll: Poll,
) -> Result<DeployOutcome, Error> {
    let mut waiter = Waiter::new(poll);
    let mut last_state: Option<String> = None;
    let mut deploy_sent = false;
    let mut apply_sent = false;
    loop {
        let Some(dr) = read(&mut waiter, || {
            client.get_deploy_request(org, database, number)
        })
        .await?
        else {
            continue;
        };
        let state = dr.deployment_state().to_owned();
        let progressed = last_state.as_deref() != Some(state.as_str());
        if progressed {
            tracing::info!(number, state = %state, "deploy request state");
        }
        last_state = Some(state.clone());
        match phase(&state) {
            Phase::Checking => {
                if dr.is_closed() {
                    return Err(closed(&dr));
                }
            }
            // A state this tool does not know yet: keep waiting, the deadline still holds.
            Phase::Unknown => {}
            Phase::NoChanges => {
                if !dr.is_closed() {
                    client.close_deploy_request(org, database, number).await?;
                    tracing::info!(number, "no schema changes: closed the deploy request");
                }
                return Ok(DeployOutcome::NoChanges { number });
            }
            Phase::Ready => {
                if dr.is_closed() {
                    return Err(closed(&dr));
                }
                if let Some(reason) = check_errors(&dr) {
                    return Err(Error::NotDeployable { number, reason });
                }
                match goal {
                    Goal::Check => return Ok(DeployOutcome::Deployable { number }),
                    Goal::Deploy if !deploy_sent => {
                        client.deploy(org, database, number).await?;
                        deploy_sent = true;
                        tracing::info!(number, "deploying");
                    }
                    Goal::Deploy => {}
                }
            }
            // Someone else deployed it already: it has changes, and a later `--number` run
            // waits for it.
            Phase::Running | Phase::PendingCutover if goal == Goal::Check => {
                return Ok(DeployOutcome::Deployable { number });
            }
            Phase::Running => {}
            Phase::PendingCutover => {
                let auto_apply = dr
                    .deployment
                    .as_ref()
                    .and_then(|deployment| deployment.auto_cutover)
                    .unwrap_or(false);
                if !auto_apply && !apply_sent {
                    client.apply_deploy(org, database, number).await?;
                    apply_sent = true;
                    tracing::info!(number, "changes are ready: applied (cut over)");
                }
            }
            Phase::Succeeded => {
                tracing::info!(number, state = %state, "deploy request is deployed");
                return Ok(DeployOutcome::Deployed { number, state });
            }
            Phase::Failed => {
                let detail = check_errors(&dr)
                    .map(|errors| format!(": {errors}"))
                    .unwrap_or_default();
                return Err(Error::DeployFailed {
                    number,
                    state,
                    detail,
                });
            }
        }
        if waiter.expired() {
            return Err(Error::Timeout {
                what: format!("deploy request #{number}"),
                state,
                waited: waiter.waited(),
            });
        }
        waiter.sleep(progressed).await;
    }
}

fn closed(dr: &DeployRequest) -> Error {
    Error::Closed {
        number: dr.number,
        state: dr.deployment_state().to_owned(),
    }
}

fn check_errors(dr: &DeployRequest) -> Option<String> {
    dr.deployment
        .as_ref()
        .and_then(|deployment| deployment.deploy_check_errors.as_deref())
        .map(str::trim)
        .filter(|errors| !errors.is_empty())
        .map(str::to_owned)
}

/// One read inside a wait: `Ok(None)` after a transient failure (logged, slept on) while the
/// deadline has not passed.
async fn read<T, F, Fut>(waiter: &mut Waiter, read: F) -> Result<Option<T>, Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    match read().await {
        Ok(value) => Ok(Some(value)),
        Err(error) if error.is_transient() && !waiter.expired() => {
            tracing::warn!(error = %error, "PlanetScale API read failed; retrying");
            waiter.sleep(false).await;
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Reverts deploy request `number` within PlanetScale's 30-minute revert window and waits until
/// the revert is complete. Succeeds at once when it is already reverted.
pub async fn revert(
    client: &Client,
    org: &str,
    database: &str,
    number: u64,
    poll: Poll,
) -> Result<(), Error> {
    let dr = client.get_deploy_request(org, database, number).await?;
    match dr.deployment_state() {
        "complete_revert" => {
            tracing::info!(number, "already reverted");
            return Ok(());
        }
        "in_progress_revert" | "in_progress_revert_vschema" => {}
        "complete_pending_revert" => {
            client.revert(org, database, number).await?;
            tracing::info!(number, "reverting");
        }
        state => {
            return Err(Error::NotInRevertWindow {
                number,
                action: "reverted",
                state: state.to_owned(),
            });
        }
    }
    wait_for(client, org, database, number, poll, |state| match state {
        "complete_revert" => Verdict::Done,
        "complete_revert_error" | "error" => Verdict::Fail,
        _ => Verdict::Wait,
    })
    .await?;
    tracing::info!(number, "reverted");
    Ok(())
}

/// Ends the revert window of deploy request `number`, keeping its changes, and waits until it is
/// `complete`. Succeeds at once when it already is.
pub async fn skip_revert(
    client: &Client,
    org: &str,
    database: &str,
    number: u64,
    poll: Poll,
) -> Result<(), Error> {
    let dr = client.get_deploy_request(org, database, number).await?;
    match dr.deployment_state() {
        "complete" => {
            tracing::info!(number, "the revert window is already closed");
            return Ok(());
        }
        "complete_pending_revert" => {
            client.skip_revert(org, database, number).await?;
            tracing::info!(number, "skipping the revert window");
        }
        state => {
            return Err(Error::NotInRevertWindow {
                number,
                action: "skip-reverted",
                state: state.to_owned(),
            });
        }
    }
    wait_for(client, org, database, number, poll, |state| match state {
        "complete" => Verdict::Done,
        "complete_pending_revert" => Verdict::Wait,
        state if phase(state) == Phase::Failed => Verdict::Fail,
        _ => Verdict::Wait,
    })
    .await?;
    tracing::info!(number, "changes kept; the revert window is closed");
    Ok(())
}

enum Verdict {
    Done,
    Wait,
    Fail,
}

async fn wait_for(
    client: &Client,
    org: &str,
    database: &str,
    number: u64,
    poll: Poll,
    verdict: impl Fn(&str) -> Verdict,
) -> Result<String, Error> {
    let mut waiter = Waiter::new(poll);
    let mut last_state: Option<String> = None;
    loop {
        let Some(dr) = read(&mut waiter, || {
            client.get_deploy_request(org, database, number)
        })
        .await?
        else {
            continue;
        };
        let state = dr.deployment_state().to_owned();
        let progressed = last_state.as_deref() != Some(state.as_str());
        if progressed {
            tracing::info!(number, state = %state, "deploy request state");
        }
        match verdict(&state) {
            Verdict::Done => return Ok(state),
            Verdict::Fail => {
                return Err(Error::DeployFailed {
                    number,
                    state,
                    detail: String::new(),
                });
            }
            Verdict::Wait => {}
        }
        if waiter.expired() {
            return Err(Error::Timeout {
                what: format!("deploy request #{number}"),
                state,
                waited: waiter.waited(),
            });
        }
        last_state = Some(state);
        waiter.sleep(progressed).await;
    }
}

/// Which backup of the parent branch a new branch is restored from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupChoice {
    /// The parent's newest successful backup (`latest`).
    Latest,
    /// This backup id.
    Id(String),
}

/// A `--from-backup` value that names no backup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected `latest` or a backup id")]
pub struct NoBackupChoice;

impl FromStr for BackupChoice {
    type Err = NoBackupChoice;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "" => Err(NoBackupChoice),
            "latest" => Ok(Self::Latest),
            id => Ok(Self::Id(id.to_owned())),
        }
    }
}

/// Restoring a new branch from a backup of its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    /// Which backup.
    pub backup: BackupChoice,
    /// The new branch's cluster size (PlanetScale requires one to restore), e.g. `PS_10`.
    pub cluster_size: String,
}

/// The newest (by `created_at`) backup of `branch` whose state is `success`, across every page
/// of the listing; pending, running and failed backups are passed over, however new.
/// [`Error::NoBackup`] when there is none.
pub async fn latest_backup(
    client: &Client,
    org: &str,
    database: &str,
    branch: &str,
) -> Result<Backup, Error> {
    // The listing is asked for successful backups only, and filtered again here.
    client
        .list_backups(org, database, branch, Some(Backup::SUCCESS))
        .await?
        .into_iter()
        .filter(Backup::is_restorable)
        .max_by_key(|backup| backup.created_at)
        .ok_or_else(|| Error::NoBackup {
            branch: branch.to_owned(),
        })
}

/// The backup `choice` names on `parent`; an explicit id must be one of `parent`'s backups and
/// must have succeeded.
async fn choose_backup(
    client: &Client,
    org: &str,
    database: &str,
    parent: &str,
    choice: &BackupChoice,
) -> Result<Backup, Error> {
    let id = match choice {
        BackupChoice::Latest => return latest_backup(client, org, database, parent).await,
        BackupChoice::Id(id) => id,
    };
    match client.get_backup(org, database, parent, id).await {
        Ok(backup) if backup.is_restorable() => Ok(backup),
        Ok(backup) => Err(Error::BackupNotRestorable {
            branch: parent.to_owned(),
            id: backup.id,
            state: backup.state,
        }),
        Err(error) if error.is_not_found() => Err(Error::BackupNotFound {
            branch: parent.to_owned(),
            id: id.clone(),
        }),
        Err(error) => Err(error),
    }
}

/// Creates branch `branch` of `database` from `parent` (with `restore`, restored from that
/// backup of `parent`, chosen before anything is created), waits until it is ready, creates an
/// `admin` password on it and returns that password's connection string in the Go-driver form
/// PlanetScale hands out: `user:pass@tcp(host:3306)/database?tls=true`.
pub async fn create_branch_dsn(
    client: &Client,
    org: &str,
    database: &str,
    branch: &str,
    parent: &str,
    restore: Option<&Restore>,
    poll: Poll,
) -> Result<SecretString, Error> {
    let mut new = NewBranch {
        name: branch.to_owned(),
        parent_branch: parent.to_owned(),
        backup_id: None,
        cluster_size: None,
    };
    if let Some(restore) = restore {
        let backup = choose_backup(client, org, database, parent, &restore.backup).await?;
        tracing::info!(
            backup = %backup.id,
            name = %backup.name,
            taken = %domain::time::format(&backup.created_at),
            "restoring the new branch from a backup of {parent}"
        );
        new.backup_id = Some(backup.id);
        new.cluster_size = Some(restore.cluster_size.clone());
    }
    client.create_branch(org, database, &new).await?;
    tracing::info!(branch, parent, "created branch; waiting until it is ready");
    let mut waiter = Waiter::new(poll);
    let mut last_state: Option<String> = None;
    loop {
        let found = read(&mut waiter, || client.get_branch(org, database, branch)).await;
        let state = match found {
            Ok(Some(found)) if found.ready => break,
            Ok(Some(found)) => found.state.unwrap_or_else(|| "not ready".to_owned()),
            Ok(None) => continue,
            // Just after the create call the branch may not be visible yet.
            Err(error) if error.is_not_found() => "not found".to_owned(),
            Err(error) => return Err(error),
        };
        let progressed = last_state.as_deref() != Some(state.as_str());
        if waiter.expired() {
            return Err(Error::Timeout {
                what: format!("branch {branch} to be ready"),
                state,
                waited: waiter.waited(),
            });
        }
        last_state = Some(state);
        waiter.sleep(progressed).await;
    }
    tracing::info!(branch, "branch is ready; creating a password");
    let name = password_name(branch);
    let password = client
        .create_password(org, database, branch, &name, "admin")
        .await?;
    tracing::info!(branch, password = %name, "created password");
    Ok(go_dsn(&password, database))
}

fn password_name(branch: &str) -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
    format!("migrate-{branch}-{seconds}")
}

/// The Go-driver DSN of `password` on `database`, port 3306 unless the host names one.
pub fn go_dsn(password: &Password, database: &str) -> SecretString {
    let host = password.access_host_url.trim();
    let host = host
        .strip_prefix("https://")
        .or_else(|| host.strip_prefix("mysql://"))
        .unwrap_or(host)
        .trim_end_matches('/');
    let has_port = host.rsplit_once(':').is_some_and(|(name, port)| {
        !name.is_empty() && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
    });
    let address = if has_port {
        host.to_owned()
    } else {
        format!("{host}:3306")
    };
    SecretString::from(format!(
        "{}:{}@tcp({address})/{database}?tls=true",
        password.username,
        password.plain_text.expose_secret()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(host: &str) -> Password {
        Password {
            username: "u5er".into(),
            plain_text: SecretString::from("pscale_pw_x".to_owned()),
            access_host_url: host.into(),
        }
    }

    #[test]
    fn dsn_adds_the_mysql_port() {
        assert_eq!(
            go_dsn(&password("aws.connect.psdb.cloud"), "mechanica").expose_secret(),
            "u5er:pscale_pw_x@tcp(aws.connect.psdb.cloud:3306)/mechanica?tls=true"
        );
        assert_eq!(
            go_dsn(&password("127.0.0.1:13306"), "db").expose_secret(),
            "u5er:pscale_pw_x@tcp(127.0.0.1:13306)/db?tls=true"
        );
        assert_eq!(
            go_dsn(&password("https://eu-west.connect.psdb.cloud/"), "db").expose_secret(),
            "u5er:pscale_pw_x@tcp(eu-west.connect.psdb.cloud:3306)/db?tls=true"
        );
    }

    #[test]
    fn the_dsn_is_one_that_migrate_accepts() {
        let dsn = go_dsn(&password("aws.connect.psdb.cloud"), "mechanica");
        assert_eq!(
            domain::dsn::to_mysql_url(dsn.expose_secret()).as_deref(),
            Ok(
                "mysql://u5er:pscale_pw_x@aws.connect.psdb.cloud:3306/mechanica?ssl-mode=VERIFY_IDENTITY"
            )
        );
    }

    #[test]
    fn a_backup_choice_is_latest_or_an_id() {
        assert_eq!("latest".parse(), Ok(BackupChoice::Latest));
        assert_eq!(
            " k20nb1b7ut18 ".parse(),
            Ok(BackupChoice::Id("k20nb1b7ut18".into()))
        );
        assert_eq!("".parse::<BackupChoice>(), Err(NoBackupChoice));
        assert_eq!("  ".parse::<BackupChoice>(), Err(NoBackupChoice));
    }

    #[test]
    fn every_documented_deployment_state_has_a_phase() {
        // The states of the API reference's `deployment_state` enum.
        let documented = [
            ("pending", Phase::Checking),
            ("ready", Phase::Ready),
            ("no_changes", Phase::NoChanges),
            ("queued", Phase::Running),
            ("submitting", Phase::Running),
            ("in_progress", Phase::Running),
            ("pending_cutover", Phase::PendingCutover),
            ("in_progress_vschema", Phase::Running),
            ("in_progress_cancel", Phase::Running),
            ("in_progress_cutover", Phase::Running),
            ("complete", Phase::Succeeded),
            ("complete_cancel", Phase::Failed),
            ("complete_error", Phase::Failed),
            ("complete_pending_revert", Phase::Succeeded),
            ("in_progress_revert", Phase::Running),
            ("in_progress_revert_vschema", Phase::Running),
            ("complete_revert", Phase::Failed),
            ("complete_revert_error", Phase::Failed),
            ("cancelled", Phase::Failed),
            ("error", Phase::Failed),
        ];
        for (state, expected) in documented {
            assert_eq!(phase(state), expected, "{state}");
        }
        assert_eq!(phase("something_new"), Phase::Unknown);
    }

    #[tokio::test]
    async fn backoff_doubles_up_to_the_cap_and_resets_on_progress() {
        let poll = Poll::new(
            Duration::from_secs(10),
            Duration::from_millis(1),
            Duration::from_millis(4),
        );
        let mut waiter = Waiter::new(poll);
        waiter.sleep(false).await;
        assert_eq!(waiter.interval, Duration::from_millis(2));
        waiter.sleep(false).await;
        waiter.sleep(false).await;
        assert_eq!(waiter.interval, Duration::from_millis(4));
        waiter.sleep(true).await;
        assert_eq!(waiter.interval, Duration::from_millis(2));
        assert!(!waiter.expired());
    }
}
