//! One figure beside its ceiling, and the markdown tables of `BENCHMARKS.md`.

use crate::stats::Summary;

/// One measured figure.
#[derive(Debug, Clone)]
pub struct Figure {
    /// `P1` … `P7`.
    pub id: &'static str,
    /// What was measured, with its unit.
    pub what: String,
    /// Its value over the runs.
    pub value: Summary,
    /// The ceiling measured alongside, if it has one.
    pub ceiling: Option<(String, Summary)>,
    /// Ratio figure/ceiling, per run.
    pub ratio: Option<Summary>,
    /// The budget, as written in the issue.
    pub budget: &'static str,
    /// Whether the budget is met.
    pub met: bool,
    /// Per-run values and remarks.
    pub notes: String,
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Formats values of one run series.
pub fn series(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| num(*v))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The generated section: machine, summary table and per-figure details.
pub fn markdown(machine: &str, date: &str, elapsed_s: f64, figures: &[Figure]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Measured {date} on: {machine}. Whole suite: {elapsed_s:.0} s.\n\n"
    ));
    out.push_str("| id | figure | median | p99 | ceiling (median / p99) | ratio (median / p99) | budget | met |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for f in figures {
        let ceiling = f.ceiling.as_ref().map_or_else(
            || "—".into(),
            |(what, s)| format!("{what}: {} / {}", num(s.median), num(s.p99)),
        );
        let ratio = f.ratio.map_or_else(
            || "—".into(),
            |r| format!("{} / {}", num(r.median), num(r.p99)),
        );
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            f.id,
            f.what,
            num(f.value.median),
            num(f.value.p99),
            ceiling,
            ratio,
            f.budget,
            if f.met { "yes" } else { "**no**" }
        ));
    }
    out.push_str("\nPer run (n = number of values each median/p99 is taken over):\n\n");
    for f in figures {
        out.push_str(&format!(
            "- **{}** (n = {}): {}\n",
            f.id, f.value.n, f.notes
        ));
    }
    out
}

/// Replaces the generated section of `existing` (between the markers) with `generated`.
pub fn splice(existing: &str, generated: &str) -> String {
    const START: &str = "<!-- generated:start -->";
    const END: &str = "<!-- generated:end -->";
    let section = format!("{START}\n{generated}{END}\n");
    match (existing.find(START), existing.find(END)) {
        (Some(a), Some(b)) if a < b => {
            format!(
                "{}{}{}",
                &existing[..a],
                section,
                existing[b + END.len()..].trim_start_matches('\n')
            )
        }
        _ => format!("{existing}\n## Results\n\n{section}"),
    }
}
