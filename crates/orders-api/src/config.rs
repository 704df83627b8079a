//! The orders API's configuration, from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use delivery::config::DeliveryArgs;
use platform::config::CommonArgs;

/// `INTAKE_WAIT_MS` unless set.
pub const DEFAULT_INTAKE_WAIT_MS: u64 = 250;

/// Which queue carries deliveries to the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueueKind {
    /// The delivery table is the queue; the dispatcher runs in this process.
    Memory,
    /// SQS (`SQS_QUEUE_URL`); the Lambda or the worker delivers.
    Sqs,
}

/// Configuration of the API process.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Database, secrets and environment.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Delivery settings (used by the in-process dispatcher in memory mode).
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Bind address; empty means `127.0.0.1:8080`, `:PORT` means every interface.
    #[arg(long, env = "LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// `memory` or `sqs`.
    #[arg(long, env = "QUEUE", value_enum, default_value = "memory")]
    pub queue: QueueKind,
    /// The SQS queue (with `QUEUE=sqs`).
    #[arg(long, env = "SQS_QUEUE_URL")]
    pub sqs_queue_url: Option<String>,
    /// Seconds readiness reports 503 before the server stops accepting requests.
    #[arg(long, env = "SHUTDOWN_DRAIN_SECONDS", default_value_t = 0)]
    pub shutdown_drain_seconds: u64,
    /// Once the listener closes, the most seconds in-flight requests get to finish.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECONDS", default_value_t = 30)]
    pub shutdown_timeout_seconds: u64,
    /// Largest number of database connections.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,
    /// Requests per second per API key (bursts of twice that); 0 turns the limit off.
    #[arg(long, env = "RATE_LIMIT_PER_SECOND", default_value_t = 50)]
    pub rate_limit_per_second: u32,
    /// Seconds an API key that authenticated is remembered, not looked up again; a key revoked
    /// elsewhere (another instance) keeps working here for at most that long; 0: not at all.
    #[arg(long, env = "API_KEY_CACHE_SECONDS", default_value_t = 5)]
    pub api_key_cache_seconds: u64,
    /// In memory mode, the most milliseconds a change (an order placed, a status change, a
    /// test event) waits for the embedded dispatcher to have room for its deliveries before its
    /// transaction (backpressure: intake is held to the pace of delivery); one that waited in
    /// vain goes on. 0: never waits.
    #[arg(long, env = "INTAKE_WAIT_MS", default_value_t = DEFAULT_INTAKE_WAIT_MS)]
    pub intake_wait_ms: u64,
    /// In SQS mode, pending deliveries overdue by this many seconds are published again.
    #[arg(long, env = "REPUBLISH_OVERDUE_SECONDS", default_value_t = 900)]
    pub republish_overdue_seconds: u64,
    /// Days final deliveries, their attempts and their events are kept before they are
    /// deleted (on one instance at a time, hourly); 0 keeps them forever.
    #[arg(long, env = "RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u32,
    /// The customer portal.
    #[command(flatten)]
    pub portal: PortalArgs,
}

/// Where the customer portal is, and who may frame it.
#[derive(Debug, Clone, clap::Args)]
pub struct PortalArgs {
    /// The portal's build (`web/dist`) to serve at `/portal/`; unset, this process serves none.
    #[arg(long, env = "PORTAL_DIR")]
    pub portal_dir: Option<PathBuf>,
    /// The portal's address that portal session links point to (default: this process's
    /// `/portal/`).
    #[arg(long, env = "PORTAL_URL")]
    pub portal_url: Option<String>,
    /// Who may embed the portal in a frame: a CSP `frame-ancestors` source list.
    #[arg(long, env = "PORTAL_FRAME_ANCESTORS", default_value = "'none'")]
    pub portal_frame_ancestors: String,
}

impl Default for PortalArgs {
    fn default() -> Self {
        Self {
            portal_dir: None,
            portal_url: None,
            portal_frame_ancestors: "'none'".into(),
        }
    }
}

impl PortalArgs {
    /// The portal's address: `PORTAL_URL`, or `/portal/` on `addr` (loopback for a wildcard).
    pub fn url(&self, addr: SocketAddr) -> String {
        match &self.portal_url {
            Some(url) if url.ends_with('/') => url.clone(),
            Some(url) => format!("{url}/"),
            None => {
                let mut addr = addr;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}/portal/")
            }
        }
    }
}

impl Config {
    /// The address to bind.
    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        parse_listen(&self.listen)
    }

    /// How retention runs; `None` when `RETENTION_DAYS` is 0 (nothing is deleted).
    pub fn retention(&self) -> Option<delivery::retention::Policy> {
        (self.retention_days > 0).then(|| delivery::retention::Policy {
            keep: Duration::from_secs(u64::from(self.retention_days) * 86_400),
            pause: Duration::from_millis(100),
            every: Duration::from_secs(3_600),
        })
    }

    /// How long readiness stays 503 before the listener closes.
    pub fn drain(&self) -> Duration {
        Duration::from_secs(self.shutdown_drain_seconds)
    }
}

/// Parses `LISTEN`: empty → `127.0.0.1:8080`, `:PORT` → `0.0.0.0:PORT`, else `HOST:PORT`.
pub fn parse_listen(listen: &str) -> anyhow::Result<SocketAddr> {
    let listen = listen.trim();
    let addr = if listen.is_empty() {
        "127.0.0.1:8080".to_owned()
    } else if let Some(port) = listen.strip_prefix(':') {
        format!("0.0.0.0:{port}")
    } else {
        listen.to_owned()
    };
    addr.parse()
        .with_context(|| format!("LISTEN={listen:?} is not HOST:PORT or :PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_forms() {
        let parse = |s| parse_listen(s).expect("valid").to_string();
        assert_eq!(parse(""), "127.0.0.1:8080");
        assert_eq!(parse(":9000"), "0.0.0.0:9000");
        assert_eq!(parse("127.0.0.1:0"), "127.0.0.1:0");
        assert!(parse_listen("nope").is_err());
    }

    #[test]
    fn portal_url_defaults_to_this_process() {
        let portal = PortalArgs::default();
        let at = |s: &str| s.parse::<SocketAddr>().expect("addr");
        assert_eq!(
            portal.url(at("127.0.0.1:8080")),
            "http://127.0.0.1:8080/portal/"
        );
        assert_eq!(
            portal.url(at("0.0.0.0:9000")),
            "http://127.0.0.1:9000/portal/"
        );
        let configured = PortalArgs {
            portal_url: Some("https://portal.example.com/portal".into()),
            ..PortalArgs::default()
        };
        assert_eq!(
            configured.url(at("0.0.0.0:9000")),
            "https://portal.example.com/portal/"
        );
    }
}
