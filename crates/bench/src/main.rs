//! `bench`: runs P2–P11 (and P1's criterion executable) and writes the generated section of
//! `BENCHMARKS.md`. `scripts/bench` builds the release binaries and starts MariaDB and moto
//! first; run that rather than this binary directly.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bench::report::{self, Figure};
use bench::{
    Settings, dispatch, http_load, lambda, latency, machine, saturation, signing, sqs, throttling,
};
use clap::Parser;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(about = "Mechanica's benchmark suite (see BENCHMARKS.md)")]
struct Args {
    /// Directory holding the release binaries.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// The criterion executable built from `benches/sign.rs` (P1 is skipped without it).
    #[arg(long)]
    sign_bench: Option<PathBuf>,
    /// The markdown file whose generated section is rewritten.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
    /// Scratch directory (criterion output, the zip).
    #[arg(long, default_value = "target/bench")]
    work: PathBuf,
    /// Repetitions of each timed run.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Seconds of each throughput run.
    #[arg(long, default_value_t = 4)]
    run_seconds: u64,
    /// Pending deliveries each P3 run drains (raise it to profile the dispatcher: the run
    /// announces on stderr when draining starts and ends).
    #[arg(long, default_value_t = bench::dispatch::DELIVERIES)]
    deliveries: usize,
    /// Only these figures (comma-separated, e.g. `P2,P6`); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.work)?;
    let settings = Settings {
        bin_dir: args.bin_dir.clone(),
        sign_bench: args.sign_bench.clone(),
        runs: args.runs.max(1),
        run_length: Duration::from_secs(args.run_seconds.max(1)),
        deliveries: args.deliveries.max(1),
    };
    let wanted =
        |id: &str| args.only.is_empty() || args.only.iter().any(|o| o.eq_ignore_ascii_case(id));
    let began = Instant::now();
    let mut figures: Vec<Figure> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut note = |id: &str, error: anyhow::Error| {
        eprintln!("bench: {id} failed: {error:#}");
        failures.push(format!("- **{id}** not measured: {error:#}"));
    };

    if wanted("P1") {
        eprintln!("bench: P1 (criterion, sign vs HMAC)");
        match &settings.sign_bench {
            Some(exe) => match signing::run(exe, &args.work, settings.runs) {
                Ok(f) => figures.push(f),
                Err(e) => note("P1", e),
            },
            None => note("P1", anyhow::anyhow!("no --sign-bench executable given")),
        }
    }
    if wanted("P2") || wanted("P7") {
        eprintln!("bench: P2 + P7 (HTTP vs direct, RSS)");
        match http_load::run(&settings).await {
            Ok((p2, idle, load)) => figures.extend([p2, idle, load]),
            Err(e) => note("P2/P7", e),
        }
    }
    if wanted("P3") {
        eprintln!("bench: P3 (dispatcher vs wrk)");
        match dispatch::run(&settings).await {
            Ok(f) => figures.push(f),
            Err(e) => note("P3", e),
        }
    }
    if wanted("P4") {
        eprintln!("bench: P4 (latency at 100 changes/s)");
        match latency::run(&settings).await {
            Ok(f) => figures.push(f),
            Err(e) => note("P4", e),
        }
    }
    if wanted("P10") {
        eprintln!("bench: P10 (latency and CPU at 250 changes/s)");
        match latency::run_fixed(&settings).await {
            Ok(fixed) => figures.extend(fixed),
            Err(e) => note("P10", e),
        }
    }
    if wanted("P11") {
        eprintln!("bench: P11 (a rate-limited endpoint, two dispatchers)");
        match throttling::run(&settings).await {
            Ok(f) => figures.push(f),
            Err(e) => note("P11", e),
        }
    }
    if wanted("P8") || wanted("P9") {
        eprintln!("bench: P8 + P9 (delivery under saturation)");
        match saturation::run(&settings).await {
            Ok((rate, latency)) => figures.extend([rate, latency]),
            Err(e) => note("P8/P9", e),
        }
    }
    if wanted("P5") {
        eprintln!("bench: P5 (SQS mode vs moto)");
        match sqs::run(&settings).await {
            Ok(f) => figures.push(f),
            Err(e) => note("P5", e),
        }
    }
    if wanted("P6") {
        eprintln!("bench: P6 (bootstrap cold start, zip)");
        match lambda::run(&settings, &args.work).await {
            Ok((start, size)) => figures.extend([start, size]),
            Err(e) => note("P6", e),
        }
    }
    figures.sort_by_key(|f| f.id[1..].parse::<u32>().unwrap_or(u32::MAX));

    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let mut generated = report::markdown(
        &machine::describe(),
        &date,
        began.elapsed().as_secs_f64(),
        &figures,
    );
    if !failures.is_empty() {
        generated.push_str("\nNot measured in this run:\n\n");
        generated.push_str(&failures.join("\n"));
        generated.push('\n');
    }
    let existing = std::fs::read_to_string(&args.out).unwrap_or_default();
    std::fs::write(&args.out, report::splice(&existing, &generated))?;
    println!("{generated}");
    anyhow::ensure!(
        failures.is_empty(),
        "{} figure(s) not measured",
        failures.len()
    );
    Ok(())
}
