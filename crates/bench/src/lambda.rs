//! P6: the release `bootstrap` (Lambda) from exec to its first
//! `GET /2018-06-01/runtime/invocation/next` against a Runtime API stub in this process, and
//! the size of its deployment zip.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use crate::report::{Figure, series};
use crate::stats::Summary;
use crate::{Settings, file_size};

/// Cold starts measured.
pub const STARTS: usize = 10;

/// Accepts connections until one sends the `invocation/next` request; returns when it arrived.
async fn first_next(listener: &TcpListener) -> anyhow::Result<Instant> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&chunk[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let arrived = Instant::now();
        let line = String::from_utf8_lossy(&head);
        if line.starts_with("GET /2018-06-01/runtime/invocation/next") {
            return Ok(arrived);
        }
    }
}

/// Zips `bootstrap` the way a Lambda deployment package is made (Python's `zipfile`,
/// deflate level 9); returns the zip's size in bytes.
pub fn zip_size(bootstrap: &Path, work: &Path) -> anyhow::Result<u64> {
    let zip = work.join("bootstrap.zip");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n    z.write(sys.argv[2], 'bootstrap')",
        ])
        .arg(&zip)
        .arg(bootstrap)
        .status()
        .context("running python3 to zip bootstrap")?;
    anyhow::ensure!(status.success(), "zipping bootstrap failed");
    file_size(&zip)
}

/// System CA bundles, Debian's first.
const CA_BUNDLES: [&str; 2] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// Runs P6; returns the start-up and zip-size figures.
pub async fn run(settings: &Settings, work: &Path) -> anyhow::Result<(Figure, Figure)> {
    let bootstrap = settings.binary("bootstrap")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let api = listener.local_addr()?.to_string();
    let env = [
        ("APP_ENV", "dev".to_owned()),
        (
            "DATABASE_URL",
            format!("{}/bench_lambda_unused", e2e::server_url()),
        ),
        (
            "SQS_QUEUE_URL",
            "http://127.0.0.1:9/000000000000/unused".into(),
        ),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:9".into()),
        ("AWS_LAMBDA_RUNTIME_API", api),
        ("AWS_LAMBDA_FUNCTION_NAME", "webhook-dispatch".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/webhook-dispatch".into(),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("RUST_LOG", "error".into()),
    ];
    // Lambda's provided.al2023 keeps its roots in a few bundle files; Debian's /etc/ssl/certs
    // holds ~280 entries, which the TLS stacks (reqwest's and the AWS SDK's) each walk when no
    // bundle is named: ≈ 10 ms of every start here that Lambda does not pay. Name the bundle.
    let bundle = CA_BUNDLES
        .iter()
        .find(|path| Path::new(path).is_file())
        .map(|path| ("SSL_CERT_FILE", (*path).to_owned()));
    let env: Vec<(&str, String)> = env.into_iter().chain(bundle).collect();
    let mut starts = Vec::new();
    for _ in 0..STARTS {
        let mut command = Command::new(&bootstrap);
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        command.stderr(std::process::Stdio::null());
        let exec = Instant::now();
        let mut process = e2e::Process::spawn(command, "bootstrap")?;
        let arrived = tokio::time::timeout(Duration::from_secs(10), first_next(&listener))
            .await
            .context("bootstrap did not ask for an invocation within 10 s")??;
        starts.push(arrived.duration_since(exec).as_secs_f64() * 1e3);
        process.kill();
    }
    let zip = zip_size(&bootstrap, work)? as f64 / 1_048_576.0;
    let binary = file_size(&bootstrap)? as f64 / 1_048_576.0;
    let value = Summary::of(&starts);
    let start = Figure {
        id: "P6",
        what: "release `bootstrap`: exec → first `invocation/next`, ms".into(),
        value,
        ceiling: None,
        ratio: None,
        budget: "≤ 30 ms",
        met: value.p99 <= 30.0,
        notes: format!(
            "{STARTS} cold starts against the in-process Runtime API stub, `SSL_CERT_FILE` naming the system CA bundle as on Lambda: {}",
            series(&starts)
        ),
    };
    let size = Figure {
        id: "P6",
        what: "release zip size (Python zipfile, deflate 9), MiB".into(),
        value: Summary::of(&[zip]),
        ceiling: None,
        ratio: None,
        budget: "≤ 10 MB",
        met: zip * 1_048_576.0 <= 10_000_000.0,
        notes: format!(
            "zip {zip:.2} MiB of a {binary:.2} MiB stripped binary (`cargo lambda build` not used: the release profile's binary zipped with Python's zipfile)"
        ),
    };
    Ok((start, size))
}
