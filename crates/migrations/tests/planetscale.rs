//! The PlanetScale automation against a local mock of the API (wiremock): every path of the
//! deploy-request state machine, branches (and restoring one from a backup), and the `migrate`
//! binary's stdout contract.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use migrations::planetscale::{
    self, BackupChoice, Client, DeployOutcome, Error, NewDeployRequest, Poll, Restore,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const ORG: &str = "acme";
const DB: &str = "mechanica";
const TOKEN_ID: &str = "pscale_tkn_id";
const TOKEN: &str = "pscale_tkn_secret";
const AUTHORIZATION: &str = "pscale_tkn_id:pscale_tkn_secret";
const DR_PATH: &str = "/v1/organizations/acme/databases/mechanica/deploy-requests";

fn client(server: &MockServer) -> Client {
    Client::new(
        &format!("{}/v1", server.uri()),
        TOKEN_ID,
        &SecretString::from(TOKEN.to_owned()),
    )
    .expect("client")
}

fn fast() -> Poll {
    Poll::new(
        Duration::from_secs(10),
        Duration::from_millis(1),
        Duration::from_millis(5),
    )
}

fn deploy_request(number: u64, deployment_state: &str) -> Value {
    json!({
        "id": format!("dr{number}"),
        "number": number,
        "state": "open",
        "deployment_state": deployment_state,
        "branch": "dev",
        "into_branch": "main",
        "approved": false,
        "html_url": format!("https://app.planetscale.com/acme/mechanica/deploy-requests/{number}"),
        "deployment": {
            "id": "d1",
            "state": deployment_state,
            "auto_cutover": false,
            "deployable": true,
            "deploy_check_errors": null
        }
    })
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

/// Answers with each response in turn, then repeats the last one.
struct Sequence {
    responses: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Sequence {
    fn new(responses: Vec<ResponseTemplate>) -> Self {
        assert!(!responses.is_empty());
        Self {
            responses,
            next: AtomicUsize::new(0),
        }
    }

    fn states(number: u64, states: &[&str]) -> Self {
        Self::new(
            states
                .iter()
                .map(|state| ok(deploy_request(number, state)))
                .collect(),
        )
    }
}

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        self.responses[index.min(self.responses.len() - 1)].clone()
    }
}

/// `GET …/deploy-requests/{number}` answers `states` in turn. Every mock also requires the
/// service token's Authorization header: a request without it gets wiremock's 404.
async fn mount_states(server: &MockServer, number: u64, states: &[&str]) {
    Mock::given(method("GET"))
        .and(path(format!("{DR_PATH}/{number}")))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(Sequence::states(number, states))
        .mount(server)
        .await;
}

/// `POST …/deploy-requests/{number}/{action}`, expected `times` times.
async fn mount_action(server: &MockServer, number: u64, action: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path(format!("{DR_PATH}/{number}/{action}")))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(ok(deploy_request(number, "queued")))
        .expect(times)
        .named(format!("POST {action}"))
        .mount(server)
        .await;
}

/// `PATCH …/deploy-requests/{number}` with `{"state": "closed"}`, expected `times` times.
async fn mount_close(server: &MockServer, number: u64, times: u64) {
    Mock::given(method("PATCH"))
        .and(path(format!("{DR_PATH}/{number}")))
        .and(header("authorization", AUTHORIZATION))
        .and(body_json(json!({ "state": "closed" })))
        .respond_with(ok(deploy_request(number, "no_changes")))
        .expect(times)
        .named("PATCH close")
        .mount(server)
        .await;
}

/// No open request from dev into main; `POST …/deploy-requests` opens #`number`.
async fn mount_create(server: &MockServer, number: u64) {
    Mock::given(method("GET"))
        .and(path(DR_PATH))
        .and(query_param("state", "open"))
        .and(query_param("branch", "dev"))
        .and(query_param("into_branch", "main"))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(ok(json!({ "data": [] })))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(DR_PATH))
        .and(header("authorization", AUTHORIZATION))
        .and(body_partial_json(
            json!({ "branch": "dev", "into_branch": "main" }),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(deploy_request(number, "pending")))
        .expect(1)
        .named("POST create")
        .mount(server)
        .await;
}

/// All the write endpoints of deploy request `number`, each expected the given number of times.
async fn mount_writes(server: &MockServer, number: u64, deploy: u64, apply: u64, close: u64) {
    mount_action(server, number, "deploy", deploy).await;
    mount_action(server, number, "apply-deploy", apply).await;
    mount_close(server, number, close).await;
}

fn request() -> NewDeployRequest {
    NewDeployRequest {
        branch: "dev".into(),
        into_branch: "main".into(),
        notes: "from the tests".into(),
    }
}

#[tokio::test]
async fn no_changes_closes_the_request_and_deploys_nothing() {
    let server = MockServer::start().await;
    mount_create(&server, 7).await;
    mount_states(&server, 7, &["pending", "pending", "no_changes"]).await;
    mount_writes(&server, 7, 0, 0, 1).await;

    let outcome =
        planetscale::open_deploy_request(&client(&server), ORG, DB, &request(), true, fast())
            .await
            .expect("outcome");
    assert_eq!(outcome, DeployOutcome::NoChanges { number: 7 });
}

#[tokio::test]
async fn ready_is_deployed_and_waited_through_queued_and_in_progress_to_complete() {
    let server = MockServer::start().await;
    mount_create(&server, 7).await;
    mount_states(
        &server,
        7,
        &[
            "pending",
            "ready",
            "ready",
            "queued",
            "submitting",
            "in_progress",
            "complete",
        ],
    )
    .await;
    mount_writes(&server, 7, 1, 0, 0).await;

    let outcome =
        planetscale::open_deploy_request(&client(&server), ORG, DB, &request(), true, fast())
            .await
            .expect("outcome");
    assert_eq!(
        outcome,
        DeployOutcome::Deployed {
            number: 7,
            state: "complete".into()
        }
    );
}

#[tokio::test]
async fn pending_cutover_is_applied_once_when_auto_apply_is_off() {
    let server = MockServer::start().await;
    mount_states(
        &server,
        9,
        &[
            "ready",
            "in_progress",
            "pending_cutover",
            "pending_cutover",
            "in_progress_cutover",
            "complete_pending_revert",
        ],
    )
    .await;
    mount_writes(&server, 9, 1, 1, 0).await;

    let outcome = planetscale::deploy_existing(&client(&server), ORG, DB, 9, true, fast())
        .await
        .expect("outcome");
    assert_eq!(
        outcome,
        DeployOutcome::Deployed {
            number: 9,
            state: "complete_pending_revert".into()
        }
    );
}

#[tokio::test]
async fn pending_cutover_is_left_to_planetscale_when_auto_apply_is_on() {
    let server = MockServer::start().await;
    let mut cutover = deploy_request(9, "pending_cutover");
    cutover["deployment"]["auto_cutover"] = json!(true);
    Mock::given(method("GET"))
        .and(path(format!("{DR_PATH}/9")))
        .respond_with(Sequence::new(vec![
            ok(deploy_request(9, "in_progress")),
            ok(cutover),
            ok(deploy_request(9, "complete")),
        ]))
        .mount(&server)
        .await;
    mount_writes(&server, 9, 0, 0, 0).await;

    let outcome = planetscale::deploy_existing(&client(&server), ORG, DB, 9, true, fast())
        .await
        .expect("outcome");
    assert!(matches!(outcome, DeployOutcome::Deployed { number: 9, .. }));
}

#[tokio::test]
async fn failure_states_fail_with_the_state_in_the_message() {
    for state in [
        "error",
        "complete_error",
        "cancelled",
        "complete_cancel",
        "complete_revert",
        "complete_revert_error",
    ] {
        let server = MockServer::start().await;
        mount_states(&server, 7, &["ready", "queued", "in_progress", state]).await;
        mount_writes(&server, 7, 1, 0, 0).await;

        let error = planetscale::deploy_existing(&client(&server), ORG, DB, 7, true, fast())
            .await
            .expect_err(state);
        assert!(
            matches!(error, Error::DeployFailed { number: 7, state: ref s, .. } if s == state),
            "{state}: {error:?}"
        );
        assert!(
            error.to_string().contains(&format!("`{state}`")),
            "{state}: {error}"
        );
        server.verify().await;
    }
}

#[tokio::test]
async fn deploy_check_errors_are_reported() {
    let server = MockServer::start().await;
    let mut failed = deploy_request(7, "error");
    failed["deployment"]["deploy_check_errors"] = json!("table `orders` has no primary key");
    Mock::given(method("GET"))
        .and(path(format!("{DR_PATH}/7")))
        .respond_with(ok(failed))
        .mount(&server)
        .await;

    let error = planetscale::deploy_existing(&client(&server), ORG, DB, 7, true, fast())
        .await
        .expect_err("error state");
    let message = error.to_string();
    assert!(message.contains("`error`"), "{message}");
    assert!(message.contains("has no primary key"), "{message}");
}

#[tokio::test]
async fn waiting_times_out_with_the_last_state() {
    let server = MockServer::start().await;
    mount_states(&server, 7, &["pending"]).await;
    mount_writes(&server, 7, 0, 0, 0).await;
    let poll = Poll::new(
        Duration::from_millis(200),
        Duration::from_millis(5),
        Duration::from_millis(20),
    );

    let started = Instant::now();
    let error = planetscale::deploy_existing(&client(&server), ORG, DB, 7, true, poll)
        .await
        .expect_err("timeout");
    assert!(
        matches!(error, Error::Timeout { ref state, .. } if state == "pending"),
        "{error:?}"
    );
    assert!(error.to_string().contains("pending"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // It polled more than once, and backed off (not one request per 5 ms for 200 ms).
    let reads = server.received_requests().await.unwrap_or_default().len();
    assert!((2..=30).contains(&reads), "{reads} reads");
}

#[tokio::test]
async fn no_deploy_waits_for_the_check_and_returns_the_number() {
    let server = MockServer::start().await;
    mount_create(&server, 12).await;
    mount_states(&server, 12, &["pending", "pending", "ready"]).await;
    mount_writes(&server, 12, 0, 0, 0).await;

    let outcome =
        planetscale::open_deploy_request(&client(&server), ORG, DB, &request(), false, fast())
            .await
            .expect("outcome");
    assert_eq!(outcome, DeployOutcome::Deployable { number: 12 });
}

#[tokio::test]
async fn an_open_request_for_the_same_branches_is_reused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(DR_PATH))
        .respond_with(ok(json!({ "data": [deploy_request(5, "ready")] })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(DR_PATH))
        .respond_with(ResponseTemplate::new(201).set_body_json(deploy_request(6, "pending")))
        .expect(0)
        .mount(&server)
        .await;
    mount_states(&server, 5, &["ready"]).await;

    let outcome =
        planetscale::open_deploy_request(&client(&server), ORG, DB, &request(), false, fast())
            .await
            .expect("outcome");
    assert_eq!(outcome, DeployOutcome::Deployable { number: 5 });
}

#[tokio::test]
async fn transient_read_failures_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DR_PATH}/7")))
        .respond_with(Sequence::new(vec![
            ok(deploy_request(7, "in_progress")),
            ResponseTemplate::new(503).set_body_string("upstream unavailable"),
            ResponseTemplate::new(429),
            ok(deploy_request(7, "complete")),
        ]))
        .mount(&server)
        .await;

    let outcome = planetscale::deploy_existing(&client(&server), ORG, DB, 7, true, fast())
        .await
        .expect("outcome");
    assert!(matches!(outcome, DeployOutcome::Deployed { .. }));
}

#[tokio::test]
async fn api_errors_carry_planetscales_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{DR_PATH}/7")))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({ "code": "forbidden", "message": "service token lacks read_deploy_request" }),
        ))
        .mount(&server)
        .await;

    let error = planetscale::deploy_existing(&client(&server), ORG, DB, 7, true, fast())
        .await
        .expect_err("forbidden");
    assert!(
        matches!(error, Error::Api { status, ref code, .. } if status == 403 && code.as_deref() == Some("forbidden")),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("lacks read_deploy_request"),
        "{error}"
    );
}

#[tokio::test]
async fn the_service_token_is_sent_as_id_colon_token() {
    let server = MockServer::start().await;
    mount_states(&server, 7, &["complete"]).await;

    planetscale::deploy_existing(&client(&server), ORG, DB, 7, true, fast())
        .await
        .expect("outcome");
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0]
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok()),
        Some(AUTHORIZATION)
    );
}

#[tokio::test]
async fn revert_within_the_window_waits_until_reverted() {
    let server = MockServer::start().await;
    mount_states(
        &server,
        7,
        &[
            "complete_pending_revert",
            "in_progress_revert",
            "complete_revert",
        ],
    )
    .await;
    mount_action(&server, 7, "revert", 1).await;

    planetscale::revert(&client(&server), ORG, DB, 7, fast())
        .await
        .expect("reverted");
}

#[tokio::test]
async fn revert_outside_the_window_is_refused() {
    let server = MockServer::start().await;
    mount_states(&server, 7, &["complete"]).await;
    mount_action(&server, 7, "revert", 0).await;

    let error = planetscale::revert(&client(&server), ORG, DB, 7, fast())
        .await
        .expect_err("outside the window");
    assert!(
        matches!(error, Error::NotInRevertWindow { ref state, .. } if state == "complete"),
        "{error:?}"
    );
}

#[tokio::test]
async fn skip_revert_closes_the_window() {
    let server = MockServer::start().await;
    mount_states(
        &server,
        7,
        &[
            "complete_pending_revert",
            "complete_pending_revert",
            "complete",
        ],
    )
    .await;
    mount_action(&server, 7, "skip-revert", 1).await;

    planetscale::skip_revert(&client(&server), ORG, DB, 7, fast())
        .await
        .expect("skipped");
}

const BRANCHES: &str = "/v1/organizations/acme/databases/mechanica/branches";

async fn mount_branch(server: &MockServer) {
    mount_branch_created_with(
        server,
        "test",
        json!({ "name": "test", "parent_branch": "main" }),
    )
    .await;
}

/// `POST …/branches` with exactly `body`, expected once; the new branch is not visible at
/// first, then pending, then ready; then its password.
async fn mount_branch_created_with(server: &MockServer, name: &str, body: Value) {
    Mock::given(method("POST"))
        .and(path(BRANCHES))
        .and(header("authorization", AUTHORIZATION))
        .and(body_json(body))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({ "name": name, "ready": false, "state": "pending" })),
        )
        .expect(1)
        .named("POST branch")
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BRANCHES}/{name}")))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(404)
                .set_body_json(json!({ "code": "not_found", "message": "Not Found" })),
            ok(json!({ "name": name, "ready": false, "state": "pending" })),
            ok(json!({ "name": name, "ready": true, "state": "ready" })),
        ]))
        .expect(3)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BRANCHES}/{name}/passwords")))
        .and(header("authorization", AUTHORIZATION))
        .and(body_partial_json(json!({ "role": "admin" })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "id": "pw1",
            "name": "migrate-test",
            "role": "admin",
            "username": "u5er7",
            "plain_text": "pscale_pw_abc123",
            "access_host_url": "aws.connect.psdb.cloud",
            "database_branch": { "name": name }
        })))
        .expect(1)
        .mount(server)
        .await;
}

const TEST_DSN: &str = "u5er7:pscale_pw_abc123@tcp(aws.connect.psdb.cloud:3306)/mechanica?tls=true";

#[tokio::test]
async fn branch_create_waits_until_ready_and_returns_a_dsn() {
    let server = MockServer::start().await;
    mount_branch(&server).await;

    let dsn =
        planetscale::create_branch_dsn(&client(&server), ORG, DB, "test", "main", None, fast())
            .await
            .expect("dsn");
    assert_eq!(dsn.expose_secret(), TEST_DSN);
}

#[tokio::test]
async fn branch_create_times_out_when_never_ready() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(BRANCHES))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({ "name": "test", "ready": false })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BRANCHES}/test")))
        .respond_with(ok(
            json!({ "name": "test", "ready": false, "state": "pending" }),
        ))
        .mount(&server)
        .await;
    let poll = Poll::new(
        Duration::from_millis(100),
        Duration::from_millis(5),
        Duration::from_millis(20),
    );

    let error =
        planetscale::create_branch_dsn(&client(&server), ORG, DB, "test", "main", None, poll)
            .await
            .expect_err("timeout");
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
}

const BACKUPS: &str = "/v1/organizations/acme/databases/mechanica/branches/main/backups";

fn backup(id: &str, state: &str, created_at: &str) -> Value {
    json!({
        "id": id,
        "name": format!("backup {id}"),
        "state": state,
        "size": 1024,
        "created_at": created_at,
        "updated_at": created_at,
        "started_at": created_at,
        "completed_at": if state == "success" { json!(created_at) } else { Value::Null },
        "expires_at": null,
        "deleted_at": null,
        "actor": null
    })
}

fn backups_page(page: u64, next_page: Option<u64>, data: Vec<Value>) -> Value {
    json!({
        "type": "list",
        "current_page": page,
        "next_page": next_page,
        "next_page_url": next_page.map(|next| format!("{BACKUPS}?page={next}")),
        "prev_page": page.checked_sub(1).filter(|prev| *prev > 0),
        "prev_page_url": null,
        "data": data
    })
}

/// `GET …/branches/main/backups?state=success&page=N` answers `pages[N - 1]`, each expected
/// once. The pages hold what a server ignoring the state filter would send.
async fn mount_backup_pages(server: &MockServer, pages: Vec<Value>) {
    for (index, page) in pages.into_iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(BACKUPS))
            .and(query_param("page", (index + 1).to_string()))
            .and(query_param("state", "success"))
            .and(header("authorization", AUTHORIZATION))
            .respond_with(ok(page))
            .expect(1)
            .named(format!("GET backups page {}", index + 1))
            .mount(server)
            .await;
    }
}

/// `POST …/branches` must not be called.
async fn mount_no_branch_create(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(BRANCHES))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "name": "dev" })))
        .expect(0)
        .named("POST branch")
        .mount(server)
        .await;
}

/// `dev` created from `main` restored from `backup` (cluster size `PS_10`), as the sprint
/// automation creates it.
async fn restore_dev(server: &MockServer, backup: BackupChoice) -> Result<SecretString, Error> {
    let restore = Restore {
        backup,
        cluster_size: "PS_10".into(),
    };
    planetscale::create_branch_dsn(
        &client(server),
        ORG,
        DB,
        "dev",
        "main",
        Some(&restore),
        fast(),
    )
    .await
}

/// Expects `dev` to be created from `main` restored from the backup `backup_id`.
async fn mount_dev_restored_from(server: &MockServer, backup_id: &str) {
    mount_branch_created_with(
        server,
        "dev",
        json!({
            "name": "dev",
            "parent_branch": "main",
            "backup_id": backup_id,
            "cluster_size": "PS_10"
        }),
    )
    .await;
}

const DEV_DSN: &str = "u5er7:pscale_pw_abc123@tcp(aws.connect.psdb.cloud:3306)/mechanica?tls=true";

#[tokio::test]
async fn latest_restores_the_newest_successful_backup_across_pages() {
    let server = MockServer::start().await;
    mount_backup_pages(
        &server,
        vec![
            backups_page(
                1,
                Some(2),
                vec![
                    backup("bk_running", "running", "2026-03-06T00:00:05.000Z"),
                    backup("bk_pending", "pending", "2026-03-05T00:00:00.000Z"),
                    backup("bk_failed", "failed", "2026-03-04T00:00:00.000Z"),
                    backup("bk_old", "success", "2026-03-01T00:00:00.000Z"),
                ],
            ),
            backups_page(
                2,
                None,
                vec![
                    backup("bk_older", "success", "2026-02-20T00:00:00.000Z"),
                    // 07:30 UTC: later as text, earlier in time than the newest.
                    backup("bk_offset", "success", "2026-03-03T09:30:00+02:00"),
                    // The newest that succeeded, on the last page.
                    backup("bk_newest", "success", "2026-03-03T08:00:00.000Z"),
                    backup("bk_canceled", "canceled", "2026-03-03T12:00:00.000Z"),
                ],
            ),
        ],
    )
    .await;
    mount_dev_restored_from(&server, "bk_newest").await;

    let dsn = restore_dev(&server, BackupChoice::Latest)
        .await
        .expect("dsn");
    assert_eq!(dsn.expose_secret(), DEV_DSN);
}

#[tokio::test]
async fn latest_backup_reads_every_page_until_next_page_is_null() {
    let server = MockServer::start().await;
    mount_backup_pages(
        &server,
        vec![
            backups_page(
                1,
                Some(2),
                vec![backup("bk_a", "success", "2026-03-01T00:00:00.000Z")],
            ),
            backups_page(
                2,
                Some(3),
                vec![backup("bk_b", "success", "2026-02-01T00:00:00.000Z")],
            ),
            backups_page(
                3,
                None,
                vec![backup("bk_c", "success", "2026-03-02T00:00:00.000Z")],
            ),
        ],
    )
    .await;

    let latest = planetscale::latest_backup(&client(&server), ORG, DB, "main")
        .await
        .expect("latest");
    assert_eq!(latest.id, "bk_c");
}

#[tokio::test]
async fn an_explicit_backup_id_is_checked_on_the_parent_and_sent_as_backup_id() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BACKUPS}/bk_123")))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(ok(backup("bk_123", "success", "2026-01-10T00:00:00.000Z")))
        .expect(1)
        .mount(&server)
        .await;
    // An explicit id is restored as it is, not replaced by the newest backup.
    Mock::given(method("GET"))
        .and(path(BACKUPS))
        .respond_with(ok(backups_page(1, None, Vec::new())))
        .expect(0)
        .mount(&server)
        .await;
    mount_dev_restored_from(&server, "bk_123").await;

    let dsn = restore_dev(&server, BackupChoice::Id("bk_123".into()))
        .await
        .expect("dsn");
    assert_eq!(dsn.expose_secret(), DEV_DSN);
}

#[tokio::test]
async fn an_explicit_backup_that_is_missing_or_unfinished_creates_no_branch() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{BACKUPS}/bk_gone")))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({ "code": "not_found", "message": "Not Found" })),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BACKUPS}/bk_running")))
        .respond_with(ok(backup(
            "bk_running",
            "running",
            "2026-03-06T00:00:00.000Z",
        )))
        .mount(&server)
        .await;
    mount_no_branch_create(&server).await;

    let error = restore_dev(&server, BackupChoice::Id("bk_gone".into()))
        .await
        .expect_err("missing backup");
    assert!(
        matches!(error, Error::BackupNotFound { ref branch, ref id } if branch == "main" && id == "bk_gone"),
        "{error:?}"
    );
    let error = restore_dev(&server, BackupChoice::Id("bk_running".into()))
        .await
        .expect_err("unfinished backup");
    assert!(
        matches!(error, Error::BackupNotRestorable { ref state, .. } if state == "running"),
        "{error:?}"
    );
    assert!(error.to_string().contains("`running`"), "{error}");
}

#[tokio::test]
async fn no_successful_backup_is_an_error_naming_the_branch_and_creates_nothing() {
    let server = MockServer::start().await;
    mount_backup_pages(
        &server,
        vec![backups_page(
            1,
            None,
            vec![
                backup("bk_pending", "pending", "2026-03-05T00:00:00.000Z"),
                backup("bk_failed", "failed", "2026-03-04T00:00:00.000Z"),
            ],
        )],
    )
    .await;
    mount_no_branch_create(&server).await;

    let error = restore_dev(&server, BackupChoice::Latest)
        .await
        .expect_err("no backup");
    assert!(
        matches!(error, Error::NoBackup { ref branch } if branch == "main"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "branch main has no successful backup to restore from"
    );
}

#[tokio::test]
async fn branch_delete_succeeds_whether_or_not_the_branch_exists() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{BRANCHES}/test")))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(Sequence::new(vec![
            ResponseTemplate::new(204),
            ResponseTemplate::new(404)
                .set_body_json(json!({ "code": "not_found", "message": "Not Found" })),
        ]))
        .expect(2)
        .mount(&server)
        .await;

    let client = client(&server);
    assert!(
        client
            .delete_branch(ORG, DB, "test")
            .await
            .expect("deleted")
    );
    assert!(
        !client
            .delete_branch(ORG, DB, "test")
            .await
            .expect("already gone")
    );
}

#[tokio::test]
async fn branch_delete_fails_on_other_errors() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{BRANCHES}/test")))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({ "code": "unauthorized", "message": "invalid service token" }),
            ),
        )
        .mount(&server)
        .await;

    let error = client(&server)
        .delete_branch(ORG, DB, "test")
        .await
        .expect_err("unauthorized");
    assert!(
        error.to_string().contains("invalid service token"),
        "{error}"
    );
}

// The binary, as the pipelines run it.

struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

async fn migrate(server: &MockServer, args: &[&str]) -> Output {
    let api_url = format!("{}/v1", server.uri());
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .env("PLANETSCALE_API_URL", api_url)
        .env("PLANETSCALE_SERVICE_TOKEN_ID", TOKEN_ID)
        .env("PLANETSCALE_SERVICE_TOKEN", TOKEN)
        .env_remove("PLANETSCALE_ORG")
        .env_remove("PLANETSCALE_DATABASE")
        .env("RUST_LOG", "info")
        .output()
        .await
        .expect("run migrate");
    Output {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const PROPOSE: [&str; 14] = [
    "deploy-request",
    "--org",
    ORG,
    "--database",
    DB,
    "--branch",
    "dev",
    "--into",
    "main",
    "--no-deploy",
    "--poll-interval-ms",
    "1",
    "--max-poll-interval-ms",
    "5",
];

#[tokio::test]
async fn the_binary_prints_only_the_number_of_a_deployable_request() {
    let server = MockServer::start().await;
    mount_create(&server, 42).await;
    mount_states(&server, 42, &["pending", "ready"]).await;
    mount_writes(&server, 42, 0, 0, 0).await;

    let output = migrate(&server, &PROPOSE).await;
    assert!(output.success, "{}", output.stderr);
    assert_eq!(output.stdout, "42\n");
    assert!(
        output.stderr.contains("opened deploy request"),
        "{}",
        output.stderr
    );
}

#[tokio::test]
async fn the_binary_prints_nothing_when_there_are_no_changes() {
    let server = MockServer::start().await;
    mount_create(&server, 42).await;
    mount_states(&server, 42, &["pending", "no_changes"]).await;
    mount_writes(&server, 42, 0, 0, 1).await;

    let output = migrate(&server, &PROPOSE).await;
    assert!(output.success, "{}", output.stderr);
    assert_eq!(output.stdout, "");
}

#[tokio::test]
async fn the_binary_fails_naming_the_state_and_prints_nothing() {
    let server = MockServer::start().await;
    mount_states(&server, 42, &["ready", "in_progress", "complete_error"]).await;
    mount_writes(&server, 42, 1, 0, 0).await;

    let output = migrate(
        &server,
        &[
            "deploy-request",
            "--org",
            ORG,
            "--database",
            DB,
            "--number",
            "42",
            "--poll-interval-ms",
            "1",
        ],
    )
    .await;
    assert!(!output.success);
    assert_eq!(output.stdout, "");
    assert!(
        output.stderr.contains("`complete_error`"),
        "{}",
        output.stderr
    );
}

#[tokio::test]
async fn the_binary_prints_only_the_branch_dsn() {
    let server = MockServer::start().await;
    mount_branch(&server).await;

    let output = migrate(
        &server,
        &[
            "branch",
            "create",
            "--org",
            ORG,
            "--database",
            DB,
            "--branch",
            "test",
            "--from",
            "main",
            "--poll-interval-ms",
            "1",
        ],
    )
    .await;
    assert!(output.success, "{}", output.stderr);
    assert_eq!(output.stdout, format!("{TEST_DSN}\n"));
    assert!(
        !output.stderr.contains("pscale_pw_abc123"),
        "{}",
        output.stderr
    );
}

#[tokio::test]
async fn the_binary_deletes_a_missing_branch_successfully() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{BRANCHES}/test")))
        .and(header("authorization", AUTHORIZATION))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({ "code": "not_found", "message": "Not Found" })),
        )
        .expect(1)
        .mount(&server)
        .await;

    let output = migrate(
        &server,
        &[
            "branch",
            "delete",
            "--org",
            ORG,
            "--database",
            DB,
            "--branch",
            "test",
        ],
    )
    .await;
    assert!(output.success, "{}", output.stderr);
    assert_eq!(output.stdout, "");
    assert!(
        output.stderr.contains("does not exist"),
        "{}",
        output.stderr
    );
}

const SPRINT: [&str; 15] = [
    "branch",
    "create",
    "--org",
    ORG,
    "--database",
    DB,
    "--branch",
    "dev",
    "--from",
    "main",
    "--from-backup",
    "latest",
    "--cluster-size",
    "PS_10",
    "--poll-interval-ms=1",
];

#[tokio::test]
async fn the_binary_seeds_a_branch_from_the_latest_backup_and_prints_only_its_dsn() {
    let server = MockServer::start().await;
    mount_backup_pages(
        &server,
        vec![backups_page(
            1,
            None,
            vec![
                backup("bk_pending", "pending", "2026-03-05T00:00:00.000Z"),
                backup("bk_nightly", "success", "2026-03-04T00:00:00.000Z"),
            ],
        )],
    )
    .await;
    mount_dev_restored_from(&server, "bk_nightly").await;

    let output = migrate(&server, &SPRINT).await;
    assert!(output.success, "{}", output.stderr);
    assert_eq!(output.stdout, format!("{DEV_DSN}\n"));
    assert!(output.stderr.contains("bk_nightly"), "{}", output.stderr);
    assert!(
        !output.stderr.contains("pscale_pw_abc123"),
        "{}",
        output.stderr
    );
}

#[tokio::test]
async fn the_binary_fails_naming_the_branch_when_it_has_no_backup() {
    let server = MockServer::start().await;
    mount_backup_pages(&server, vec![backups_page(1, None, Vec::new())]).await;
    mount_no_branch_create(&server).await;

    let output = migrate(&server, &SPRINT).await;
    assert!(!output.success);
    assert_eq!(output.stdout, "");
    assert!(
        output
            .stderr
            .contains("branch main has no successful backup to restore from"),
        "{}",
        output.stderr
    );
}
