// migrate-lint: skip-file
//! The migration lint over the repository itself, and the `migrate lint` binary's output. (The
//! line above keeps `migrate lint crates` from reporting the bad SQL written below on purpose.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_repositorys_migrations_and_crates_have_no_findings() {
    let root = workspace();
    let report = migrations::lint::lint_paths(&[root.join("migrations"), root.join("crates")])
        .expect("lint the repository");
    let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert!(findings.is_empty(), "{}", findings.join("\n"));
    // It read the migrations and the crates' sources, not an empty directory.
    assert!(report.files > 10, "only {} files", report.files);
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("migrate-lint-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn migrate_lint(paths: &[&Path]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .arg("lint")
        .args(paths)
        .env("RUST_LOG", "info")
        .output()
        .expect("run migrate lint")
}

#[test]
fn the_binary_reports_each_finding_on_stderr_and_fails() {
    let scratch = Scratch::new("bad");
    let sql = scratch.write(
        "20270101000000_bad.sql",
        "create table t (id int primary key);\n\nalter table t rename column a to b;\n",
    );
    let rust = scratch.write(
        "repo.rs",
        "fn f() {\n    let q = \"insert into t (a) values (?) returning id\";\n}\n",
    );

    let output = migrate_lint(&[&scratch.0]);

    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("{}:3: rename: RENAME COLUMN", sql.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}:2: portability: MariaDB-only syntax: RETURNING",
            rust.display()
        )),
        "{stderr}"
    );
}

#[test]
fn the_binary_passes_clean_sql_and_fails_on_a_missing_path() {
    let scratch = Scratch::new("good");
    scratch.write(
        "20270101000000_good.sql",
        "-- expand: a nullable column and an index\nalter table t add column c int null;\ncreate index t_c on t (c);\n",
    );
    let output = migrate_lint(&[&scratch.0]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());

    let output = migrate_lint(&[&scratch.0.join("does-not-exist")]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does-not-exist"));
}
