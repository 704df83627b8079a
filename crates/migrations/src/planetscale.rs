//! A small client for the PlanetScale REST API (v1): deploy requests, branches, branch
//! passwords and backups, authenticated with a service token (`Authorization: <id>:<token>`).
//!
//! The endpoints and field names follow PlanetScale's API reference and its Go client
//! (`planetscale-go`): deploy requests under
//! `/organizations/{org}/databases/{db}/deploy-requests[/{number}[/deploy|apply-deploy|revert|skip-revert]]`,
//! branches under `/organizations/{org}/databases/{db}/branches[/{name}[/passwords]]`, a
//! branch's backups under `…/branches/{name}/backups[/{id}]`. The workflows built on it (waiting
//! for a deploy request, creating a branch, restoring one from a backup) are in [`flows`].

pub mod flows;

pub use flows::{
    BackupChoice, DeployOutcome, Poll, Restore, create_branch_dsn, deploy_existing, go_dsn,
    latest_backup, open_deploy_request, revert, skip_revert,
};

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::DeserializeOwned;
// chrono as sqlx re-exports it: this crate links sqlx already.
use sqlx::types::chrono::{DateTime, Utc};
use url::Url;

/// The PlanetScale API's base URL.
pub const DEFAULT_API_URL: &str = "https://api.planetscale.com/v1";

/// Everything that can go wrong talking to PlanetScale.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configured API URL cannot be used as a base URL.
    #[error("the PlanetScale API URL {0:?} is not an http(s) URL")]
    InvalidApiUrl(String),
    /// The service token contains bytes an HTTP header cannot carry.
    #[error(
        "the PlanetScale service token id or token contains characters not allowed in a header"
    )]
    InvalidToken,
    /// The HTTP client could not be built (TLS set-up).
    #[error("building the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The request did not get a response (connection, TLS, timeout).
    #[error("{method} {path}: {source}")]
    Transport {
        /// HTTP method.
        method: Method,
        /// Path below the base URL.
        path: String,
        /// What reqwest reported.
        #[source]
        source: reqwest::Error,
    },
    /// PlanetScale answered with an error status.
    #[error("{method} {path}: PlanetScale answered {status}: {message}")]
    Api {
        /// HTTP method.
        method: Method,
        /// Path below the base URL.
        path: String,
        /// The response status.
        status: StatusCode,
        /// PlanetScale's `code` (`not_found`, `unauthorized`, …) when it sent one.
        code: Option<String>,
        /// PlanetScale's `message`, or the start of the body.
        message: String,
    },
    /// A success response whose body is not what the API reference describes.
    #[error("{method} {path}: unexpected response body: {source}")]
    Decode {
        /// HTTP method.
        method: Method,
        /// Path below the base URL.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The deploy request reached a state it cannot be deployed from.
    #[error("deploy request #{number} failed: deployment state is `{state}`{detail}")]
    DeployFailed {
        /// Deploy request number.
        number: u64,
        /// The final `deployment_state`.
        state: String,
        /// PlanetScale's deploy check errors, prefixed with ": ", or empty.
        detail: String,
    },
    /// PlanetScale's checks ran and the request cannot be deployed.
    #[error("deploy request #{number} is not deployable: {reason}")]
    NotDeployable {
        /// Deploy request number.
        number: u64,
        /// PlanetScale's deploy check errors.
        reason: String,
    },
    /// The deploy request was closed before it was deployed.
    #[error("deploy request #{number} is closed (deployment state `{state}`); open a new one")]
    Closed {
        /// Deploy request number.
        number: u64,
        /// Its `deployment_state`.
        state: String,
    },
    /// A revert or skip-revert outside PlanetScale's revert window.
    #[error(
        "deploy request #{number} cannot be {action}: its deployment state is `{state}`, not \
         `complete_pending_revert` (the 30-minute revert window is over or never opened)"
    )]
    NotInRevertWindow {
        /// Deploy request number.
        number: u64,
        /// `reverted` or `skip-reverted`.
        action: &'static str,
        /// Its `deployment_state`.
        state: String,
    },
    /// A wait ran out of time.
    #[error("timed out after {waited:?} waiting for {what} (last state: {state})")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The last state seen.
        state: String,
        /// How long it waited.
        waited: Duration,
    },
    /// A branch was to be restored from its parent's latest backup, and the parent has none
    /// that succeeded.
    #[error("branch {branch} has no successful backup to restore from")]
    NoBackup {
        /// The branch whose backups were listed.
        branch: String,
    },
    /// The backup to restore from is not one of the parent branch's.
    #[error("branch {branch} has no backup {id}")]
    BackupNotFound {
        /// The parent branch.
        branch: String,
        /// The backup id asked for.
        id: String,
    },
    /// The backup to restore from did not complete successfully (yet).
    #[error("backup {id} of branch {branch} is `{state}`, not `success`: it cannot be restored")]
    BackupNotRestorable {
        /// The parent branch.
        branch: String,
        /// The backup id.
        id: String,
        /// Its state.
        state: String,
    },
    /// PlanetScale created a password but did not return its plain text.
    #[error("PlanetScale created a password for branch {branch} but returned no plain text")]
    MissingPassword {
        /// The branch.
        branch: String,
    },
}

impl Error {
    /// Whether retrying the same read later may succeed (no response, 429 or 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Api { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            _ => false,
        }
    }

    /// Whether PlanetScale answered 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// A deploy request as the API returns it (the fields this tool reads).
#[derive(Debug, Clone, Deserialize)]
pub struct DeployRequest {
    /// Number of the request within its database.
    pub number: u64,
    /// `open` or `closed`.
    #[serde(default)]
    pub state: Option<String>,
    /// `pending`, `ready`, `no_changes`, `queued`, …, `complete`, `complete_pending_revert`, …
    #[serde(default)]
    pub deployment_state: Option<String>,
    /// The branch the request deploys.
    #[serde(default)]
    pub branch: Option<String>,
    /// The branch it deploys into.
    #[serde(default)]
    pub into_branch: Option<String>,
    /// The web page of the request.
    #[serde(default)]
    pub html_url: Option<String>,
    /// The deployment, once PlanetScale has planned one.
    #[serde(default)]
    pub deployment: Option<Deployment>,
}

impl DeployRequest {
    /// The deployment state, `unknown` when PlanetScale sent none.
    pub fn deployment_state(&self) -> &str {
        self.deployment_state.as_deref().unwrap_or("unknown")
    }

    /// Whether the request itself is closed.
    pub fn is_closed(&self) -> bool {
        self.state.as_deref() == Some("closed")
    }
}

/// The deployment of a deploy request (the fields this tool reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Deployment {
    /// Whether PlanetScale cuts over by itself once the changes are ready ("auto-apply").
    #[serde(default)]
    pub auto_cutover: Option<bool>,
    /// Whether the deployment can be deployed.
    #[serde(default)]
    pub deployable: Option<bool>,
    /// Why it cannot.
    #[serde(default)]
    pub deploy_check_errors: Option<String>,
}

/// What to open a deploy request with.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewDeployRequest {
    /// The branch with the changes (`dev`).
    pub branch: String,
    /// The branch to deploy into (`main`).
    pub into_branch: String,
    /// Notes shown on the request.
    pub notes: String,
}

/// What to create a branch with (`POST …/branches`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewBranch {
    /// The new branch.
    pub name: String,
    /// The branch it is created from.
    pub parent_branch: String,
    /// A backup (of `parent_branch`) whose schema and data the new branch is restored from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<String>,
    /// The cluster size, e.g. `PS_10`; PlanetScale requires one with `backup_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<String>,
}

/// A backup of a branch (the fields this tool reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Backup {
    /// The backup's id: what a new branch is restored from.
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// `pending`, `running`, `success`, `failed`, `canceled` or `ignored`.
    pub state: String,
    /// When it was taken.
    #[serde(deserialize_with = "domain::time::millis::deserialize")]
    pub created_at: DateTime<Utc>,
}

impl Backup {
    /// The state of a backup that completed and can be restored.
    pub const SUCCESS: &str = "success";

    /// Whether it completed successfully, so that a branch can be restored from it.
    pub fn is_restorable(&self) -> bool {
        self.state == Self::SUCCESS
    }
}

/// One page of a paginated list: `next_page` is `null` on the last one.
#[derive(Deserialize)]
struct PageBody<T> {
    data: Vec<T>,
    #[serde(default)]
    next_page: Option<u64>,
}

/// A database branch (the fields this tool reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Branch {
    /// Branch name.
    pub name: String,
    /// Whether it serves queries yet.
    #[serde(default)]
    pub ready: bool,
    /// `pending`, `ready`, `sleeping`, … (newer API versions).
    #[serde(default)]
    pub state: Option<String>,
}

/// A branch password, with its plain text (returned only by the create call).
pub struct Password {
    /// The MySQL user name.
    pub username: String,
    /// The MySQL password.
    pub plain_text: SecretString,
    /// The host to connect to, e.g. `aws.connect.psdb.cloud`.
    pub access_host_url: String,
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Password")
            .field("username", &self.username)
            .field("plain_text", &"[redacted]")
            .field("access_host_url", &self.access_host_url)
            .finish()
    }
}

#[derive(Deserialize)]
struct PasswordBody {
    username: String,
    #[serde(default)]
    plain_text: Option<String>,
    access_host_url: String,
}

#[derive(Deserialize)]
struct DataBody<T> {
    data: Vec<T>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// A PlanetScale API client for one service token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `api_url` (normally [`DEFAULT_API_URL`]) authenticating as the service token
    /// `token_id` / `token`.
    pub fn new(api_url: &str, token_id: &str, token: &SecretString) -> Result<Self, Error> {
        let base = Url::parse(api_url).map_err(|_| Error::InvalidApiUrl(api_url.to_owned()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::InvalidApiUrl(api_url.to_owned()));
        }
        let mut authorization =
            HeaderValue::from_str(&format!("{token_id}:{}", token.expose_secret()))
                .map_err(|_| Error::InvalidToken)?;
        authorization.set_sensitive(true);
        // reqwest is built without a crypto provider of its own (see the workspace manifest):
        // make ring the process's default, unless one is installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("mechanica-migrate/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(Error::HttpClient)?;
        Ok(Self {
            http,
            base,
            authorization,
        })
    }

    /// Opens a deploy request (`POST …/deploy-requests`).
    pub async fn create_deploy_request(
        &self,
        org: &str,
        database: &str,
        request: &NewDeployRequest,
    ) -> Result<DeployRequest, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "deploy-requests",
        ];
        self.send(Method::POST, &path, &[], Some(request)).await
    }

    /// The open deploy requests from `branch` into `into_branch`.
    pub async fn open_deploy_requests(
        &self,
        org: &str,
        database: &str,
        branch: &str,
        into_branch: &str,
    ) -> Result<Vec<DeployRequest>, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "deploy-requests",
        ];
        let query = [
            ("state", "open"),
            ("branch", branch),
            ("into_branch", into_branch),
        ];
        let body: DataBody<DeployRequest> =
            self.send(Method::GET, &path, &query, None::<&()>).await?;
        Ok(body.data)
    }

    /// One deploy request (`GET …/deploy-requests/{number}`).
    pub async fn get_deploy_request(
        &self,
        org: &str,
        database: &str,
        number: u64,
    ) -> Result<DeployRequest, Error> {
        let number = number.to_string();
        let path = deploy_request_path(org, database, &number, None);
        self.send(Method::GET, &path, &[], None::<&()>).await
    }

    /// Queues the deployment (`POST …/{number}/deploy`).
    pub async fn deploy(
        &self,
        org: &str,
        database: &str,
        number: u64,
    ) -> Result<DeployRequest, Error> {
        self.deploy_request_action(org, database, number, "deploy")
            .await
    }

    /// Cuts over a gated deployment (`POST …/{number}/apply-deploy`).
    pub async fn apply_deploy(
        &self,
        org: &str,
        database: &str,
        number: u64,
    ) -> Result<DeployRequest, Error> {
        self.deploy_request_action(org, database, number, "apply-deploy")
            .await
    }

    /// Reverts a deployment within the revert window (`POST …/{number}/revert`).
    pub async fn revert(
        &self,
        org: &str,
        database: &str,
        number: u64,
    ) -> Result<DeployRequest, Error> {
        self.deploy_request_action(org, database, number, "revert")
            .await
    }

    /// Ends the revert window, keeping the changes (`POST …/{number}/skip-revert`).
    pub async fn skip_revert(
        &self,
        org: &str,
        database: &str,
        number: u64,
    ) -> Result<DeployRequest, Error> {
        self.deploy_request_action(org, database, number, "skip-revert")
            .await
    }

    /// Closes a deploy request (`PATCH …/{number}` with `{"state": "closed"}`).
    pub async fn close_deploy_request(
        &self,
        org: &str,
        database: &str,
        number: u64,
    ) -> Result<DeployRequest, Error> {
        let number = number.to_string();
        let path = deploy_request_path(org, database, &number, None);
        let body = serde_json::json!({ "state": "closed" });
        self.send(Method::PATCH, &path, &[], Some(&body)).await
    }

    async fn deploy_request_action(
        &self,
        org: &str,
        database: &str,
        number: u64,
        action: &str,
    ) -> Result<DeployRequest, Error> {
        let number = number.to_string();
        let path = deploy_request_path(org, database, &number, Some(action));
        self.send(Method::POST, &path, &[], Some(&serde_json::json!({})))
            .await
    }

    /// Creates a branch (`POST …/branches`), restored from a backup when `branch.backup_id` is
    /// set.
    pub async fn create_branch(
        &self,
        org: &str,
        database: &str,
        branch: &NewBranch,
    ) -> Result<Branch, Error> {
        let path = ["organizations", org, "databases", database, "branches"];
        self.send(Method::POST, &path, &[], Some(branch)).await
    }

    /// Every backup of `branch` (`GET …/branches/{branch}/backups`), only those in `state` when
    /// given, following the pages until `next_page` is `null`.
    pub async fn list_backups(
        &self,
        org: &str,
        database: &str,
        branch: &str,
        state: Option<&str>,
    ) -> Result<Vec<Backup>, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "branches",
            branch,
            "backups",
        ];
        let mut backups = Vec::new();
        let mut page: u64 = 1;
        loop {
            let number = page.to_string();
            let mut query = vec![("page", number.as_str())];
            query.extend(state.map(|state| ("state", state)));
            let body: PageBody<Backup> = self.send(Method::GET, &path, &query, None::<&()>).await?;
            let last = body.data.is_empty();
            backups.extend(body.data);
            match body.next_page {
                // Only forward, and never past an empty page: a listing cannot loop.
                Some(next) if next > page && !last => page = next,
                _ => return Ok(backups),
            }
        }
    }

    /// One backup of `branch` (`GET …/branches/{branch}/backups/{id}`).
    pub async fn get_backup(
        &self,
        org: &str,
        database: &str,
        branch: &str,
        id: &str,
    ) -> Result<Backup, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "branches",
            branch,
            "backups",
            id,
        ];
        self.send(Method::GET, &path, &[], None::<&()>).await
    }

    /// One branch (`GET …/branches/{name}`).
    pub async fn get_branch(&self, org: &str, database: &str, name: &str) -> Result<Branch, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "branches",
            name,
        ];
        self.send(Method::GET, &path, &[], None::<&()>).await
    }

    /// Deletes a branch (`DELETE …/branches/{name}`). Returns `false` when it did not exist.
    pub async fn delete_branch(
        &self,
        org: &str,
        database: &str,
        name: &str,
    ) -> Result<bool, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "branches",
            name,
        ];
        match self.send_raw(Method::DELETE, &path, &[], None::<&()>).await {
            Ok(_) => Ok(true),
            Err(error) if error.is_not_found() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Creates a password on a branch (`POST …/branches/{name}/passwords`).
    pub async fn create_password(
        &self,
        org: &str,
        database: &str,
        branch: &str,
        name: &str,
        role: &str,
    ) -> Result<Password, Error> {
        let path = [
            "organizations",
            org,
            "databases",
            database,
            "branches",
            branch,
            "passwords",
        ];
        let body = serde_json::json!({ "name": name, "role": role });
        let password: PasswordBody = self.send(Method::POST, &path, &[], Some(&body)).await?;
        let plain_text = password
            .plain_text
            .filter(|text| !text.is_empty())
            .ok_or_else(|| Error::MissingPassword {
                branch: branch.to_owned(),
            })?;
        Ok(Password {
            username: password.username,
            plain_text: SecretString::from(plain_text),
            access_host_url: password.access_host_url,
        })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&impl serde::Serialize>,
    ) -> Result<T, Error> {
        let bytes = self.send_raw(method.clone(), path, query, body).await?;
        serde_json::from_slice(&bytes).map_err(|source| Error::Decode {
            method,
            path: path.join("/"),
            source,
        })
    }

    async fn send_raw(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&impl serde::Serialize>,
    ) -> Result<Vec<u8>, Error> {
        let display_path = format!("/{}", path.join("/"));
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::InvalidApiUrl(self.base.to_string()))?
            .pop_if_empty()
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        tracing::debug!(%method, path = %display_path, "PlanetScale API request");
        let transport = |source| Error::Transport {
            method: method.clone(),
            path: display_path.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(ErrorBody { code, message }) => (code, message.unwrap_or_else(|| excerpt(&bytes))),
            Err(_) => (None, excerpt(&bytes)),
        };
        Err(Error::Api {
            method,
            path: display_path,
            status,
            code,
            message,
        })
    }
}

fn deploy_request_path<'a>(
    org: &'a str,
    database: &'a str,
    number: &'a str,
    action: Option<&'a str>,
) -> Vec<&'a str> {
    let mut path = vec![
        "organizations",
        org,
        "databases",
        database,
        "deploy-requests",
        number,
    ];
    path.extend(action);
    path
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_must_be_http() {
        let token = SecretString::from("t".to_owned());
        assert!(Client::new("https://api.planetscale.com/v1", "id", &token).is_ok());
        assert!(Client::new("http://127.0.0.1:1/v1/", "id", &token).is_ok());
        assert!(matches!(
            Client::new("ftp://x", "id", &token),
            Err(Error::InvalidApiUrl(_))
        ));
        assert!(matches!(
            Client::new("not a url", "id", &token),
            Err(Error::InvalidApiUrl(_))
        ));
    }

    #[test]
    fn tokens_that_cannot_be_a_header_are_rejected() {
        let token = SecretString::from("line\nbreak".to_owned());
        assert!(matches!(
            Client::new(DEFAULT_API_URL, "id", &token),
            Err(Error::InvalidToken)
        ));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let token = SecretString::from("pscale_tkn_secret".to_owned());
        let client = Client::new(DEFAULT_API_URL, "id", &token).expect("client");
        assert!(!format!("{client:?}").contains("pscale_tkn_secret"));
        let password = Password {
            username: "u".into(),
            plain_text: SecretString::from("pscale_pw_secret".to_owned()),
            access_host_url: "h".into(),
        };
        assert!(!format!("{password:?}").contains("pscale_pw_secret"));
    }
}
