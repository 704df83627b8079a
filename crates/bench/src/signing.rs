//! P1: runs the criterion executable of `benches/sign.rs` and reads its samples.

use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::report::{Figure, series};
use crate::stats::{Summary, median};

/// Nanoseconds per iteration of every sample criterion kept for `p1/<name>`.
fn samples(home: &Path, name: &str) -> anyhow::Result<Vec<f64>> {
    let path = home.join("p1").join(name).join("new").join("sample.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    let list = |key: &str| -> anyhow::Result<Vec<f64>> {
        json[key]
            .as_array()
            .with_context(|| format!("{key} in {}", path.display()))?
            .iter()
            .map(|v| v.as_f64().context("a number"))
            .collect()
    };
    let (iters, times) = (list("iters")?, list("times")?);
    Ok(times.iter().zip(&iters).map(|(t, i)| t / i).collect())
}

/// Runs the sign bench `runs` times (criterion output under `work`) and summarises it.
pub fn run(exe: &Path, work: &Path, runs: usize) -> anyhow::Result<Figure> {
    let (mut sign, mut hmac, mut ratios, mut sign_medians, mut hmac_medians) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let home = work.join(format!("criterion-{run}"));
        let _ = std::fs::remove_dir_all(&home);
        let status = Command::new(exe)
            .args([
                "--bench",
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "1.5",
                "--noplot",
            ])
            .env("CRITERION_HOME", &home)
            .stdout(std::process::Stdio::null())
            .status()
            .with_context(|| format!("running {}", exe.display()))?;
        anyhow::ensure!(status.success(), "the sign bench failed: {status}");
        let s = samples(&home, "sign")?;
        let h = samples(&home, "hmac")?;
        let (ms, mh) = (median(&s), median(&h));
        sign_medians.push(ms);
        hmac_medians.push(mh);
        ratios.push(ms / mh);
        sign.extend(s);
        hmac.extend(h);
    }
    let ratio = Summary::of(&ratios);
    Ok(Figure {
        id: "P1",
        what: "`sign` of a 1 KiB body, ns per call".into(),
        value: Summary::of(&sign),
        ceiling: Some(("raw HMAC-SHA256, ns".into(), Summary::of(&hmac))),
        ratio: Some(ratio),
        budget: "≤ 1.2× its time",
        met: ratio.median <= 1.2,
        notes: format!(
            "criterion samples pooled over {runs} runs (ns/iteration of each sample); per-run medians: sign {}; HMAC {}; ratios {}",
            series(&sign_medians),
            series(&hmac_medians),
            series(&ratios)
        ),
    })
}
