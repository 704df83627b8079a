//! The Datadog dashboard and monitors (`infra/modules/datadog`) query only metrics the code
//! emits: every `mechanica.*` name in the module's Terraform is either, mapped back to its
//! Prometheus family by the OpenMetrics check's naming, read from the `/metrics` of running
//! APIs, one in memory mode (the embedded dispatcher's metrics share its recorder) and one in
//! SQS mode (the relay's), or pushed over DogStatsD by `webhook-dispatch-worker` (the Lambda's
//! code, `webhook_dispatch::metrics`), each after traffic that registers the lazily created
//! series.
//!
//! The check's naming (latest mode, namespace `mechanica`, histograms as distributions, as
//! `infra/modules/api_bluegreen/files/datadog/conf.d/openmetrics.d/conf.yaml` configures it):
//!
//! | Datadog | Prometheus family |
//! |---|---|
//! | `mechanica.foo.count` | counter `foo_total`, or histogram `foo` (its `_count`) |
//! | `mechanica.foo.sum` | histogram `foo` |
//! | `mechanica.foo` | gauge `foo`, or histogram `foo` (the distribution of its buckets) |
//!
//! The `aws.*`, `system.*` and `planetscale.*` metrics the module also queries come from the
//! Datadog AWS integration, the agent and PlanetScale's integration, not from this code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e::{ApiProcess, FAST_SCHEDULE, Receiver, SqsStack, TestDb, eventually, metric};
use reqwest::StatusCode;

use crate::support::{deadlock_a_status_change, settled_order};

const NAMESPACE: &str = "mechanica";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

/// Every `mechanica.<name>` the `.tf` files of `dir` mention outside comment lines, with the
/// tag keys its queries filter or group it by.
fn queried_names(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the Datadog module")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .tf files in {}", dir.display());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a .tf file");
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for (name, tags) in names_in(line) {
                names.entry(name).or_default().extend(tags);
            }
        }
    }
    names
}

/// The `mechanica.<name>[.<suffix>]` metric names in `text` (lowercase letters, digits, `_`
/// and `.`), each starting at a word boundary, with the tag keys of the filter that follows
/// (`{k:v,…}`, Terraform interpolations skipped) and of a `by {…}` after it.
fn names_in(text: &str) -> Vec<(String, Vec<String>)> {
    let prefix = format!("{NAMESPACE}.");
    let is_name = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.';
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(&prefix).map(|i| from + i) {
        let start = at + prefix.len();
        let end = text[start..]
            .find(|c: char| !is_name(c))
            .map_or(text.len(), |i| start + i);
        let bounded = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        let name = text[start..end].trim_end_matches('.');
        if bounded && !name.is_empty() {
            let mut tags = Vec::new();
            let mut rest = &text[end..];
            if let Some((filter, after)) = braced(rest) {
                tags.extend(
                    filter
                        .split(',')
                        .filter(|part| !part.contains("${"))
                        .filter_map(|part| part.split_once(':'))
                        .map(|(key, _)| key.trim().trim_start_matches('!').to_owned()),
                );
                rest = after;
                if let Some((by, _)) = rest.trim_start().strip_prefix("by").and_then(braced) {
                    tags.extend(by.split(',').map(|key| key.trim().to_owned()));
                }
            }
            found.push((format!("{prefix}{name}"), tags));
        }
        from = end.max(start);
    }
    found
}

/// The text between a leading `{` (after blanks) and its matching `}`, and what follows.
fn braced(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start().strip_prefix('{')?;
    let mut depth = 1;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[..i], &text[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// The label names of each metric family of a Prometheus text exposition (a histogram's
/// `le` included).
fn labels(
    exposition: &str,
    families: &BTreeMap<String, String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in exposition.lines().filter(|l| !l.starts_with('#')) {
        let Some((sample, rest)) = line.split_once('{') else {
            continue;
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|suffix| sample.strip_suffix(suffix))
            .find(|base| families.get(*base).map(String::as_str) == Some("histogram"))
            .unwrap_or(sample);
        let keys = labels.entry(family.to_owned()).or_default();
        // `k="v",…}`: values may hold braces and commas, never an unescaped quote.
        let (mut key, mut quoted, mut escaped) = (String::new(), false, false);
        for c in rest.chars() {
            match (quoted, c) {
                (true, '\\') if !escaped => escaped = true,
                (true, '"') if !escaped => quoted = false,
                (true, _) => escaped = false,
                (false, '"') => {
                    quoted = true;
                    keys.insert(std::mem::take(&mut key).trim_end_matches('=').to_owned());
                }
                (false, '}') => break,
                (false, ',') => key.clear(),
                (false, c) => key.push(c),
            }
        }
    }
    labels
}

/// The metric families of a Prometheus text exposition: name → type, from its `# TYPE` lines.
fn families(exposition: &str) -> BTreeMap<String, String> {
    exposition
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("# TYPE ")?.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect()
}

/// The Prometheus family behind the Datadog name `name`, if `families` has it.
fn family_of(name: &str, families: &BTreeMap<String, String>) -> Option<String> {
    let bare = name.strip_prefix(&format!("{NAMESPACE}."))?;
    let has = |family: &str, kind: &str| {
        (families.get(family).map(String::as_str) == Some(kind)).then(|| family.to_owned())
    };
    match bare.rsplit_once('.') {
        Some((base, "count")) => {
            has(&format!("{base}_total"), "counter").or_else(|| has(base, "histogram"))
        }
        // Buckets arrive as the distribution itself: no `.bucket` name is ever sent.
        Some((base, "sum")) => has(base, "histogram"),
        Some(_) => None,
        None => has(bare, "gauge").or_else(|| has(bare, "histogram")),
    }
}

/// `/metrics` of an API in memory mode after an order placed, delivered, changed through a
/// deadlock and delivered again.
async fn memory_mode_metrics() -> String {
    let db = TestDb::new().await;
    let app = ApiProcess::start(&db, &[]).await;
    let (receiver, order) = settled_order(&app, &db).await;
    let (status, body) = deadlock_a_status_change(&app, &db, &order).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    receiver
        .wait_for(2, "the order.status_changed delivery")
        .await;
    let body = eventually(Duration::from_secs(10), "both attempts counted", || async {
        let body = app.metrics().await;
        (metric(&body, "webhook_attempts_total{outcome=\"delivered\"}") == Some(2.0))
            .then_some(body)
    })
    .await;
    app.stop();
    db.drop_database().await;
    body
}

/// What an SQS-mode deployment (on moto) reports after one order's delivery: the API's
/// `/metrics` once the relay has published it, and the names the worker pushed over DogStatsD
/// (to a socket of this test's, standing for the agent or the Lambda extension) once it has
/// delivered it.
async fn sqs_mode_metrics() -> (String, BTreeMap<String, BTreeSet<String>>) {
    let statsd = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("a DogStatsD socket");
    let address = statsd.local_addr().expect("its address").to_string();
    let mut stack =
        SqsStack::start_without_worker(FAST_SCHEDULE, 30, &[("DOGSTATSD_ADDR", &address)]).await;
    let receiver = Receiver::start().await;
    let (_, key) = stack.api.customer("Acme").await;
    stack.api.endpoint(&key, &receiver.url, None).await;
    stack.api.order(&key, "PO-1").await;
    let body = eventually(Duration::from_secs(10), "the relay to publish", || async {
        let body = stack.api.metrics().await;
        (metric(&body, "relay_published_total") >= Some(1.0)).then_some(body)
    })
    .await;
    stack.restart_worker();
    receiver.wait_for(1, "the worker's delivery").await;
    let attempts = format!("{NAMESPACE}.webhook_attempts_total");
    let mut pushed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut datagram = vec![0; 65_536];
    tokio::time::timeout(Duration::from_secs(15), async {
        while !pushed.contains_key(&attempts) {
            let read = statsd.recv(&mut datagram).await.expect("a datagram");
            let text = String::from_utf8_lossy(&datagram[..read]);
            // `name:value[:value…]|type[|@rate][|#k:v,…]`, one metric per line.
            for line in text.lines() {
                let Some((name, rest)) = line.split_once(':') else {
                    continue;
                };
                let tags = pushed.entry(name.to_owned()).or_default();
                for part in rest.split('|').filter_map(|part| part.strip_prefix('#')) {
                    tags.extend(
                        part.split(',')
                            .map(|tag| tag.split_once(':').map_or(tag, |(key, _)| key).to_owned()),
                    );
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the worker pushed no {attempts}; it pushed {pushed:?}"));
    stack.stop().await;
    (body, pushed)
}

#[tokio::test]
async fn datadog_queries_only_metrics_the_code_emits() {
    let root = repository();
    let check = std::fs::read_to_string(
        root.join("infra/modules/api_bluegreen/files/datadog/conf.d/openmetrics.d/conf.yaml"),
    )
    .expect("the agent's OpenMetrics check");
    assert!(
        check
            .lines()
            .any(|l| l.trim() == format!("namespace: {NAMESPACE}")),
        "the OpenMetrics check's namespace is not {NAMESPACE}:\n{check}"
    );
    let queried = queried_names(&root.join("infra/modules/datadog"));
    assert!(
        queried.len() >= 5,
        "too few {NAMESPACE}.* names found in infra/modules/datadog (the extraction broke?): {queried:?}"
    );

    let (memory, (sqs, pushed)) = tokio::join!(memory_mode_metrics(), sqs_mode_metrics());
    let mut emitted = families(&memory);
    emitted.extend(families(&sqs));
    let mut labelled = labels(&memory, &emitted);
    for (family, keys) in labels(&sqs, &emitted) {
        labelled.entry(family).or_default().extend(keys);
    }

    // A name is either the agent's reading of an API's family or one a dispatcher pushes
    // under its own name; every tag a query filters or groups it by is one of its labels, or
    // one the agent or the Lambda extension adds to everything.
    const ADDED: [&str; 4] = ["env", "host", "role", "colour"];
    let mut missing = Vec::new();
    let mut unlabelled = Vec::new();
    for (name, tags) in &queried {
        let family = family_of(name, &emitted);
        if family.is_none() && !pushed.contains_key(name) {
            missing.push(name);
            continue;
        }
        let mut known: BTreeSet<&str> = ADDED.into_iter().collect();
        if let Some(keys) = family.as_ref().and_then(|family| labelled.get(family)) {
            known.extend(keys.iter().map(String::as_str));
        }
        if let Some(keys) = pushed.get(name) {
            known.extend(keys.iter().map(String::as_str));
        }
        for tag in tags.iter().filter(|tag| !known.contains(tag.as_str())) {
            unlabelled.push(format!("{name} by {tag}"));
        }
    }
    assert!(
        missing.is_empty(),
        "infra/modules/datadog queries metrics no process emits: {missing:?}\n\
         emitted families: {emitted:?}\npushed over DogStatsD: {pushed:?}"
    );
    assert!(
        unlabelled.is_empty(),
        "infra/modules/datadog filters or groups metrics by tags they do not carry: {unlabelled:?}\n\
         labels: {labelled:?}\npushed over DogStatsD: {pushed:?}"
    );
    // The dispatchers' attempts are on the dashboard from both routes, by outcome.
    for name in [
        format!("{NAMESPACE}.webhook_attempts.count"),
        format!("{NAMESPACE}.webhook_attempts_total"),
    ] {
        let tags = queried.get(&name);
        assert!(
            tags.is_some_and(|tags| tags.contains("outcome")),
            "the dashboard does not query {name} by outcome"
        );
    }
}

#[test]
fn names_are_read_at_word_boundaries_and_mapped_by_type() {
    let named = |text: &str| -> Vec<(String, Vec<String>)> { names_in(text) };
    assert_eq!(
        named(
            "q = \"sum:mechanica.http_requests.count{env:prod,status:5*}.as_rate() / p95:mechanica.x_seconds{*}\""
        ),
        [
            (
                "mechanica.http_requests.count".to_owned(),
                vec!["env".to_owned(), "status".to_owned()]
            ),
            ("mechanica.x_seconds".to_owned(), vec![]),
        ]
    );
    assert_eq!(
        named("avg:mechanica.pool{${local.env},state:in_use} by {role,state}.as_count()"),
        [(
            "mechanica.pool".to_owned(),
            vec!["state".to_owned(), "role".to_owned(), "state".to_owned()]
        )]
    );
    assert!(names_in("notmechanica.x mechanica.* mechanica-prod").is_empty());
    let families = families(
        "# TYPE a_total counter\na_total 1\n# TYPE h histogram\nh_count 1\n# TYPE g gauge\ng 1\n",
    );
    assert_eq!(
        family_of("mechanica.a.count", &families).as_deref(),
        Some("a_total")
    );
    assert_eq!(
        family_of("mechanica.h.count", &families).as_deref(),
        Some("h")
    );
    assert_eq!(
        family_of("mechanica.h.sum", &families).as_deref(),
        Some("h")
    );
    assert_eq!(family_of("mechanica.h", &families).as_deref(), Some("h"));
    assert_eq!(family_of("mechanica.g", &families).as_deref(), Some("g"));
    assert_eq!(family_of("mechanica.a_total", &families), None);
    assert_eq!(family_of("mechanica.g.count", &families), None);
    assert_eq!(family_of("mechanica.a.total", &families), None);
    assert_eq!(family_of("mechanica.h.bucket", &families), None);
    let exposition = "# TYPE h histogram\nh_bucket{route=\"/v1/{id},x\",le=\"0.5\"} 1\nh_sum{route=\"/a\"} 1\n# TYPE g gauge\ng{state=\"idle\"} 1\n";
    let labelled = labels(exposition, &super::datadog::families(exposition));
    assert_eq!(
        labelled
            .get("h")
            .map(|keys| keys.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["le", "route"])
    );
    assert_eq!(
        labelled
            .get("g")
            .map(|keys| keys.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["state"])
    );
}
