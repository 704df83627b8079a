//! The target policy at send time: none of these targets is ever contacted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use delivery::client::{HostLookup, StaticLookup, TargetGuard, TargetRefused, WebhookClient};
use domain::headers::CustomHeaders;
use domain::state::ErrorClass;
use domain::target::{AddressPolicy, WebhookUrl};
use e2e::Receiver;
use futures::future::BoxFuture;

fn lookup(entries: &[(&str, &[&str])]) -> Arc<StaticLookup> {
    let table: HashMap<String, Vec<IpAddr>> = entries
        .iter()
        .map(|(host, ips)| {
            (
                (*host).to_owned(),
                ips.iter().map(|ip| ip.parse().expect("ip")).collect(),
            )
        })
        .collect();
    Arc::new(StaticLookup(table))
}

#[tokio::test]
async fn blocked_targets_are_never_contacted() {
    // A live receiver on loopback: several targets below are different spellings of it.
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().expect("port").to_owned();
    let names = lookup(&[
        ("localhost", &["127.0.0.1"]),
        ("metadata.test", &["169.254.169.254"]),
        ("internal.test", &["10.0.0.5"]),
        ("mixed.test", &["93.184.216.34", "192.168.1.10"]),
        ("rebind.test", &["127.0.0.1"]),
        ("v6-internal.test", &["fd12:3456::1"]),
        ("mapped.test", &["::ffff:172.16.0.1"]),
        ("cgnat.test", &["100.100.100.100"]),
    ]);
    let guard = TargetGuard::new(
        AddressPolicy {
            allow_loopback: false,
        },
        names,
    );
    let client =
        WebhookClient::new(guard, Duration::from_secs(2), Duration::from_secs(1)).expect("client");
    let targets = [
        format!("http://127.0.0.1:{port}/"),
        format!("http://127.1.2.3:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::ffff:7f00:1]:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f000001:{port}/"),
        format!("http://0177.0.0.1:{port}/"),
        format!("http://127.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://rebind.test:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("http://[::]:{port}/"),
        format!("http://[64:ff9b::7f00:1]:{port}/"),
        format!("http://[2002:7f00:1::]:{port}/"),
        "http://10.0.0.1/".to_owned(),
        "http://172.16.0.1/".to_owned(),
        "http://172.31.255.254/".to_owned(),
        "http://192.168.1.1/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_owned(),
        "http://100.64.0.1/".to_owned(),
        "http://[fc00::1]/".to_owned(),
        "http://[fe80::1]/".to_owned(),
        "http://224.0.0.1/".to_owned(),
        "http://[ff02::1]/".to_owned(),
        "http://255.255.255.255/".to_owned(),
        "http://240.0.0.1/".to_owned(),
        "http://192.0.2.1/".to_owned(),
        "http://198.51.100.7/".to_owned(),
        "http://203.0.113.9/".to_owned(),
        "http://[2001:db8::1]/".to_owned(),
        "http://[64:ff9b::a9fe:a9fe]/".to_owned(),
        "http://[2002:a9fe:a9fe::]/".to_owned(),
        "http://[::ffff:169.254.169.254]/".to_owned(),
        "http://[::ffff:10.0.0.1]/".to_owned(),
        "http://[2001:0::1]/".to_owned(),
        "http://metadata.test/latest/meta-data/".to_owned(),
        "http://internal.test/".to_owned(),
        "http://mixed.test/".to_owned(),
        "http://v6-internal.test/".to_owned(),
        "http://mapped.test/".to_owned(),
        "http://cgnat.test/".to_owned(),
        "https://user:secret@example.com/".to_owned(),
        "ftp://example.com/".to_owned(),
    ];
    assert!(targets.len() >= 30);
    let mut not_urls = Vec::new();
    for target in &targets {
        // Refused as a URL (credentials, another scheme), or at the connection.
        let Ok(url) = WebhookUrl::parse(target) else {
            not_urls.push(target.as_str());
            continue;
        };
        let result = client
            .post(&url, &CustomHeaders::new(), vec![], b"{}".to_vec())
            .await;
        assert_eq!(
            result.error_class,
            Some(ErrorClass::BlockedTarget),
            "{target}: {result:?}"
        );
        assert_eq!(result.status, None, "{target}");
    }
    assert_eq!(
        not_urls,
        ["https://user:secret@example.com/", "ftp://example.com/"]
    );
    assert!(
        receiver.received().is_empty(),
        "a blocked target was contacted"
    );

    // The same receiver is reachable once loopback is allowed, so the table above proves the
    // policy, not an unreachable port.
    let allowed = TargetGuard::new(
        AddressPolicy {
            allow_loopback: true,
        },
        lookup(&[]),
    );
    let client = WebhookClient::new(allowed, Duration::from_secs(2), Duration::from_secs(1))
        .expect("client");
    let url = WebhookUrl::parse(&format!("http://127.0.0.1:{port}/")).expect("a URL");
    let result = client
        .post(&url, &CustomHeaders::new(), vec![], b"{}".to_vec())
        .await;
    assert_eq!(result.status, Some(200), "{result:?}");
    // Even then, only loopback: a mapped loopback address or anything private stays blocked.
    for target in [
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        "http://10.0.0.1/".to_owned(),
    ] {
        let url = WebhookUrl::parse(&target).expect("a URL");
        let result = client
            .post(&url, &CustomHeaders::new(), vec![], b"{}".to_vec())
            .await;
        assert_eq!(
            result.error_class,
            Some(ErrorClass::BlockedTarget),
            "{target}"
        );
    }
    assert_eq!(receiver.received().len(), 1);
}

/// A resolver that never answers.
struct Silent;

impl HostLookup for Silent {
    fn lookup(&self, _host: String) -> BoxFuture<'static, std::io::Result<Vec<IpAddr>>> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test]
async fn a_resolver_that_does_not_answer_counts_as_a_name_that_does_not_resolve() {
    let guard = TargetGuard::new(
        AddressPolicy {
            allow_loopback: false,
        },
        Arc::new(Silent),
    )
    .with_lookup_timeout(Duration::from_millis(200));
    // The outer deadline only keeps a regression from hanging the suite.
    let vetted = tokio::time::timeout(Duration::from_secs(30), guard.vet_host("hooks.example.com"))
        .await
        .expect("the lookup gave up");
    assert!(
        matches!(&vetted, Err(TargetRefused::Dns(reason)) if reason.contains("no answer")),
        "{vetted:?}"
    );
    // An attempt to such a host fails as a DNS failure, and is retried like one.
    let client = WebhookClient::new(guard, Duration::from_secs(30), Duration::from_secs(30))
        .expect("client");
    let url = WebhookUrl::parse("https://hooks.example.com/mechanica").expect("a URL");
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        client.post(&url, &CustomHeaders::new(), vec![], b"{}".to_vec()),
    )
    .await
    .expect("the attempt gave up");
    assert_eq!(result.error_class, Some(ErrorClass::Dns), "{result:?}");
}
