//! The migration safety lint (`migrate lint`): refuses schema changes that break the release
//! still running during a blue/green deploy, that PlanetScale (Vitess, MySQL 8.0) refuses, or
//! that only one of MySQL 8.0 (production) and MariaDB (the tests) accepts.
//!
//! Rules, each reported as `path:line: rule: message`:
//!
//! | rule | what it refuses |
//! |---|---|
//! | `drop-without-contract` | `DROP TABLE`, and `ALTER TABLE … DROP [COLUMN]`, without a contract marker |
//! | `rename` | `RENAME COLUMN`, `CHANGE [COLUMN] old new` with a new name, table renames |
//! | `not-null-without-default` | `ALTER TABLE … ADD [COLUMN] … NOT NULL` without `DEFAULT` (nor generated, nor `AUTO_INCREMENT`) |
//! | `foreign-key` | `REFERENCES`, `FOREIGN KEY` (dropping one is fine) |
//! | `stored-routine` | `CREATE TRIGGER`, `PROCEDURE`, `FUNCTION`, `EVENT` |
//! | `missing-primary-key` | `CREATE TABLE` without a `PRIMARY KEY` (except `CREATE TEMPORARY TABLE` and `CREATE TABLE … LIKE`) |
//! | `portability` | MariaDB-only SQL MySQL 8.0 rejects: `RETURNING`, `CREATE OR REPLACE TABLE`, `IF [NOT] EXISTS` on `ALTER TABLE` clauses and on `CREATE`/`DROP INDEX`, sequences (`CREATE SEQUENCE`, `NEXTVAL()`, `NEXT VALUE FOR`, …); and MySQL-only SQL MariaDB rejects: the `->`/`->>` JSON operators |
//!
//! **Contract marker.** A column or table may be dropped only in a *contract* migration, once no
//! running release uses it. Say so with a comment whose text starts with `contract:` and gives a
//! reason, above the statement (after the previous statement) or inside it before the `DROP`:
//!
//! ```sql
//! -- contract: orders.legacy_ref unused since release 2026-11 (expanded in 20261001000000)
//! alter table orders drop column legacy_ref;
//! ```
//!
//! **How it reads SQL.** Comments, string literals and `` `quoted` `` identifiers are lexed
//! first, so nothing inside them matches; keywords match in any case; rules work per statement
//! (split at `;`) and per `ALTER TABLE` clause (split at commas outside parentheses).
//!
//! **Rust sources.** SQL in the crates lives in string literals. In a `.rs` file the lint reads
//! every string literal of more than one word whose first word is an SQL verb (`select`,
//! `insert`, `update`, `delete`, `replace`, `with`, `create`, `alter`, `drop`, `rename`) or
//! `returning` (a query-builder fragment), and applies the `portability` rule to it. A Rust file that holds deliberately bad
//! SQL (the lint's own tests) opts out with a line consisting of the comment
//! `// migrate-lint: skip-file`.

mod rust;
mod sql;

use std::fmt;
use std::path::{Path, PathBuf};

use sql::{Comment, Kind, Statement, Token};

/// A lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// `DROP TABLE` / `DROP COLUMN` without a contract marker.
    DropWithoutContract,
    /// Renaming a column or a table.
    Rename,
    /// Adding a `NOT NULL` column without a default to an existing table.
    NotNullWithoutDefault,
    /// Foreign keys.
    ForeignKey,
    /// Triggers, stored procedures and functions, events.
    StoredRoutine,
    /// A table without a primary key.
    MissingPrimaryKey,
    /// SQL that only one of MySQL 8.0 and MariaDB accepts.
    Portability,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 7] = [
        Rule::DropWithoutContract,
        Rule::Rename,
        Rule::NotNullWithoutDefault,
        Rule::ForeignKey,
        Rule::StoredRoutine,
        Rule::MissingPrimaryKey,
        Rule::Portability,
    ];

    /// The rule's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::DropWithoutContract => "drop-without-contract",
            Rule::Rename => "rename",
            Rule::NotNullWithoutDefault => "not-null-without-default",
            Rule::ForeignKey => "foreign-key",
            Rule::StoredRoutine => "stored-routine",
            Rule::MissingPrimaryKey => "missing-primary-key",
            Rule::Portability => "portability",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding: `path:line: rule: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The rule.
    pub rule: Rule,
    /// What is wrong and what to do instead.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.path.display(),
            self.line,
            self.rule,
            self.message
        )
    }
}

/// A path that could not be linted.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct LintError {
    /// The path.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// The result of linting some paths.
#[derive(Debug, Default)]
pub struct Report {
    /// Files read (`.sql` and `.rs`, less those that opt out).
    pub files: usize,
    /// Everything found, in path and line order.
    pub findings: Vec<Finding>,
}

/// Lints every `.sql` and `.rs` file under `paths` (files are taken as given: `.rs` as Rust,
/// anything else as SQL; directories are walked, skipping hidden ones and `target`).
pub fn lint_paths<P: AsRef<Path>>(paths: &[P]) -> Result<Report, LintError> {
    let mut files = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let metadata = std::fs::metadata(path).map_err(|source| LintError {
            path: path.to_owned(),
            source,
        })?;
        if metadata.is_dir() {
            collect(path, &mut files)?;
        } else {
            files.push(path.to_owned());
        }
    }
    files.sort();
    files.dedup();
    let mut report = Report::default();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| LintError {
            path: path.clone(),
            source,
        })?;
        let findings = if is_rust(&path) {
            if skips_itself(&text) {
                tracing::debug!(path = %path.display(), "skipped: migrate-lint: skip-file");
                continue;
            }
            lint_rust(&path, &text)
        } else {
            lint_sql(&path, &text)
        };
        report.files += 1;
        report.findings.extend(findings);
    }
    Ok(report)
}

fn is_rust(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "rs")
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), LintError> {
    let error = |source| LintError {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(error)? {
        let entry = entry.map_err(error)?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type().map_err(error)?;
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect(&path, files)?;
            }
        } else if path
            .extension()
            .is_some_and(|extension| extension == "sql" || extension == "rs")
        {
            files.push(path);
        }
    }
    Ok(())
}

fn skips_itself(text: &str) -> bool {
    text.lines()
        .any(|line| line.trim() == "// migrate-lint: skip-file")
}

/// Lints one SQL script with every rule.
pub fn lint_sql(path: &Path, text: &str) -> Vec<Finding> {
    let lexed = sql::lex(text);
    let mut raw = Vec::new();
    for statement in sql::statements(&lexed.tokens) {
        check_statement(&statement, &lexed.comments, &mut raw);
    }
    into_findings(path, text, 0, raw)
}

/// Lints the SQL in the string literals of one Rust source file with the `portability` rule.
pub fn lint_rust(path: &Path, text: &str) -> Vec<Finding> {
    let mut findings = Vec::new();
    for literal in rust::string_literals(text) {
        let lexed = sql::lex(&literal.content);
        // An SQL verb first, and something after it (a lone word is not a statement).
        let looks_like_sql = lexed.tokens.len() > 1
            && lexed
                .tokens
                .iter()
                .find(|token| token.kind == Kind::Word)
                .is_some_and(|token| {
                    token.is_any(&[
                        "select",
                        "insert",
                        "update",
                        "delete",
                        "replace",
                        "with",
                        "create",
                        "alter",
                        "drop",
                        "rename",
                        "returning",
                    ])
                });
        if !looks_like_sql {
            continue;
        }
        let mut raw = Vec::new();
        for statement in sql::statements(&lexed.tokens) {
            check_statement(&statement, &lexed.comments, &mut raw);
        }
        raw.retain(|(_, rule, _)| *rule == Rule::Portability);
        findings.extend(into_findings(path, text, literal.offset, raw));
    }
    findings
}

type Raw = (usize, Rule, String);

fn into_findings(path: &Path, text: &str, base: usize, mut raw: Vec<Raw>) -> Vec<Finding> {
    raw.sort_by_key(|(offset, rule, _)| (*offset, *rule));
    raw.into_iter()
        .map(|(offset, rule, message)| Finding {
            path: path.to_owned(),
            line: line_of(text, base + offset),
            rule,
            message,
        })
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `tokens[i]` is the keyword `keyword`.
fn kw(tokens: &[Token<'_>], i: usize, keyword: &str) -> bool {
    tokens.get(i).is_some_and(|token| token.is(keyword))
}

/// `tokens[i..]` starts with the keywords `keywords`.
fn kws(tokens: &[Token<'_>], i: usize, keywords: &[&str]) -> bool {
    keywords
        .iter()
        .enumerate()
        .all(|(k, keyword)| kw(tokens, i + k, keyword))
}

fn name_at(tokens: &[Token<'_>], i: usize) -> String {
    match tokens.get(i) {
        Some(token) if matches!(token.kind, Kind::Word | Kind::Quoted) => {
            format!("`{}`", token.identifier())
        }
        _ => "?".to_owned(),
    }
}

const PORTABILITY_IF_EXISTS: &str = "MariaDB-only syntax: IF [NOT] EXISTS on an ALTER TABLE clause or on CREATE/DROP INDEX; MySQL 8.0 (PlanetScale) rejects it (migrations run once: leave it out)";

fn check_statement(statement: &Statement<'_, '_>, comments: &[Comment<'_>], out: &mut Vec<Raw>) {
    let tokens = statement.tokens;
    check_everywhere(tokens, out);
    if kw(tokens, 0, "create") {
        check_create(tokens, out);
    } else if kw(tokens, 0, "alter") {
        check_alter(statement, comments, out);
    } else if kw(tokens, 0, "drop") {
        check_drop(statement, comments, out);
    } else if kws(tokens, 0, &["rename", "table"]) {
        out.push((
            tokens[0].offset,
            Rule::Rename,
            "RENAME TABLE breaks the release still running during blue/green: create the new table, copy, and drop the old one in a later contract migration".to_owned(),
        ));
    }
}

/// Rules that hold anywhere in a statement.
fn check_everywhere(tokens: &[Token<'_>], out: &mut Vec<Raw>) {
    for (i, token) in tokens.iter().enumerate() {
        if token.is("references") {
            out.push((token.offset, Rule::ForeignKey, "REFERENCES declares a foreign key: PlanetScale (Vitess) does not support them; enforce integrity in the application and with unique keys".to_owned()));
        } else if token.is("foreign")
            && kw(tokens, i + 1, "key")
            && !(i > 0 && kw(tokens, i - 1, "drop"))
        {
            out.push((token.offset, Rule::ForeignKey, "FOREIGN KEY: PlanetScale (Vitess) does not support foreign keys; enforce integrity in the application and with unique keys".to_owned()));
        } else if token.is("returning") {
            out.push((token.offset, Rule::Portability, "MariaDB-only syntax: RETURNING; MySQL 8.0 (PlanetScale) rejects it (read the row back in the same transaction)".to_owned()));
        } else if token.kind == Kind::Arrow {
            out.push((token.offset, Rule::Portability, format!("MySQL-only syntax: the `{}` JSON operator; MariaDB (the tests' database) rejects it (use json_extract()/json_unquote())", token.text)));
        } else if (token.is_any(&["nextval", "lastval", "setval"])
            && tokens.get(i + 1).is_some_and(|next| next.is_punct('(')))
            || (token.is_any(&["next", "previous"]) && kws(tokens, i + 1, &["value", "for"]))
        {
            out.push((token.offset, Rule::Portability, "MariaDB-only syntax: sequences; MySQL 8.0 (PlanetScale) has none (use AUTO_INCREMENT or ids made by the application)".to_owned()));
        } else if token.is("create") {
            check_routine(tokens, i, out);
        }
    }
}

/// The object a `CREATE` at `tokens[at]` creates, skipping `OR REPLACE`, `DEFINER = …`,
/// `SQL SECURITY …`, `ALGORITHM = …` and the like; with its index.
fn created_object(tokens: &[Token<'_>], at: usize) -> Option<(usize, String)> {
    const OBJECTS: [&str; 17] = [
        "table",
        "temporary",
        "trigger",
        "procedure",
        "function",
        "event",
        "index",
        "unique",
        "fulltext",
        "spatial",
        "view",
        "sequence",
        "database",
        "schema",
        "user",
        "role",
        "tablespace",
    ];
    tokens
        .iter()
        .enumerate()
        .skip(at + 1)
        .take(12)
        .take_while(|(_, token)| !token.is_punct('('))
        .find(|(_, token)| token.is_any(&OBJECTS))
        .map(|(i, token)| (i, token.text.to_ascii_lowercase()))
}

fn check_routine(tokens: &[Token<'_>], at: usize, out: &mut Vec<Raw>) {
    if let Some((_, object)) = created_object(tokens, at)
        && matches!(
            object.as_str(),
            "trigger" | "procedure" | "function" | "event"
        )
    {
        out.push((
            tokens[at].offset,
            Rule::StoredRoutine,
            format!(
                "CREATE {}: triggers, stored procedures, functions and events are not allowed (PlanetScale/Vitess); keep the logic in the application",
                object.to_uppercase()
            ),
        ));
    }
}

fn check_create(tokens: &[Token<'_>], out: &mut Vec<Raw>) {
    let Some((at, object)) = created_object(tokens, 0) else {
        return;
    };
    let or_replace = tokens[..at]
        .windows(2)
        .any(|pair| pair[0].is("or") && pair[1].is("replace"));
    match object.as_str() {
        "table" | "temporary" => {
            let temporary = object == "temporary";
            let table_at = if temporary { at + 1 } else { at };
            if or_replace {
                out.push((tokens[0].offset, Rule::Portability, "MariaDB-only syntax: CREATE OR REPLACE TABLE; MySQL 8.0 (PlanetScale) rejects it (use CREATE TABLE)".to_owned()));
            }
            let mut name_at = table_at + 1;
            if kws(tokens, name_at, &["if", "not", "exists"]) {
                name_at += 3;
            }
            let name = name_at_qualified(tokens, name_at);
            let after_name = skip_qualified_name(tokens, name_at);
            let like = kw(tokens, after_name, "like")
                || (tokens.get(after_name).is_some_and(|t| t.is_punct('('))
                    && kw(tokens, after_name + 1, "like"));
            let has_primary_key = tokens
                .windows(2)
                .any(|pair| pair[0].is("primary") && pair[1].is("key"));
            if !temporary && !like && !has_primary_key {
                out.push((
                    tokens[0].offset,
                    Rule::MissingPrimaryKey,
                    format!("CREATE TABLE {name} has no PRIMARY KEY: PlanetScale requires one on every table (online schema changes need it)"),
                ));
            }
        }
        "unique" | "fulltext" | "spatial" | "index" => {
            let index_at = if object == "index" { at } else { at + 1 };
            if kw(tokens, index_at, "index") && kws(tokens, index_at + 1, &["if", "not", "exists"]) {
                out.push((tokens[0].offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
            }
        }
        "sequence" => out.push((tokens[0].offset, Rule::Portability, "MariaDB-only syntax: CREATE SEQUENCE; MySQL 8.0 (PlanetScale) has no sequences (use AUTO_INCREMENT or ids made by the application)".to_owned())),
        _ => {}
    }
}

/// The index after a possibly qualified name (`db`.`table`) starting at `i`.
fn skip_qualified_name(tokens: &[Token<'_>], i: usize) -> usize {
    let mut j = i + 1;
    while tokens.get(j).is_some_and(|t| t.is_punct('.'))
        && tokens
            .get(j + 1)
            .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
    {
        j += 2;
    }
    j
}

fn name_at_qualified(tokens: &[Token<'_>], i: usize) -> String {
    let end = skip_qualified_name(tokens, i);
    name_at(tokens, end.saturating_sub(1).max(i))
}

fn check_drop(statement: &Statement<'_, '_>, comments: &[Comment<'_>], out: &mut Vec<Raw>) {
    let tokens = statement.tokens;
    let mut at = 1;
    if kw(tokens, at, "temporary") {
        // Temporary tables belong to a session, not to the schema.
        return;
    }
    if kw(tokens, at, "table") {
        at += 1;
        if kws(tokens, at, &["if", "exists"]) {
            at += 2;
        }
        if !has_contract(comments, statement.start, tokens[0].offset) {
            out.push((
                tokens[0].offset,
                Rule::DropWithoutContract,
                format!(
                    "DROP TABLE {} without a `-- contract: <reason>` comment: the release still running during blue/green may use it; drop it only in a contract migration once no release does",
                    name_at_qualified(tokens, at)
                ),
            ));
        }
    } else if kw(tokens, at, "index") && kws(tokens, at + 1, &["if", "exists"]) {
        out.push((
            tokens[0].offset,
            Rule::Portability,
            PORTABILITY_IF_EXISTS.to_owned(),
        ));
    } else if kw(tokens, at, "sequence") {
        out.push((
            tokens[0].offset,
            Rule::Portability,
            "MariaDB-only syntax: DROP SEQUENCE; MySQL 8.0 (PlanetScale) has no sequences"
                .to_owned(),
        ));
    }
}

fn has_contract(comments: &[Comment<'_>], from: usize, to: usize) -> bool {
    comments
        .iter()
        .filter(|comment| comment.offset >= from && comment.offset < to)
        .any(|comment| {
            let text = comment.text.trim();
            text.get(..9)
                .is_some_and(|head| head.eq_ignore_ascii_case("contract:"))
                && !text[9..].trim().is_empty()
        })
}

fn check_alter(statement: &Statement<'_, '_>, comments: &[Comment<'_>], out: &mut Vec<Raw>) {
    let tokens = statement.tokens;
    // ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] name clause, clause, …
    let Some(table_at) = (1..=3).find(|&i| kw(tokens, i, "table")) else {
        return;
    };
    let mut name_at = table_at + 1;
    if kws(tokens, name_at, &["if", "exists"]) {
        out.push((
            tokens[0].offset,
            Rule::Portability,
            "MariaDB-only syntax: ALTER TABLE IF EXISTS; MySQL 8.0 (PlanetScale) rejects it"
                .to_owned(),
        ));
        name_at += 2;
    }
    let table = name_at_qualified(tokens, name_at);
    let clauses_at = skip_qualified_name(tokens, name_at);
    let Some(rest) = tokens.get(clauses_at..) else {
        return;
    };
    for clause in sql::split_top_level_commas(rest) {
        check_alter_clause(&table, clause, statement.start, comments, out);
    }
}

fn check_alter_clause(
    table: &str,
    clause: &[Token<'_>],
    statement_start: usize,
    comments: &[Comment<'_>],
    out: &mut Vec<Raw>,
) {
    let offset = clause[0].offset;
    if clause[0].is("add") {
        if clause
            .get(1)
            .is_some_and(|t| t.is_any(&["constraint", "foreign", "check", "primary", "partition"]))
        {
            return;
        }
        if clause
            .get(1)
            .is_some_and(|t| t.is_any(&["index", "key", "unique", "fulltext", "spatial"]))
        {
            let if_not_exists = (2..=3).any(|i| kws(clause, i, &["if", "not", "exists"]));
            if if_not_exists {
                out.push((offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
            }
            return;
        }
        let mut at = 1;
        if kw(clause, at, "column") {
            at += 1;
        }
        if kws(clause, at, &["if", "not", "exists"]) {
            out.push((offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
            at += 3;
        }
        let Some(columns) = clause.get(at..) else {
            return;
        };
        let definitions = match sql::parenthesised(columns) {
            Some(inner) => sql::split_top_level_commas(inner),
            None => vec![columns],
        };
        for definition in definitions {
            check_added_column(table, definition, out);
        }
    } else if clause[0].is("drop") {
        let Some(next) = clause.get(1) else {
            return;
        };
        if next.is_any(&["index", "key"]) {
            if kws(clause, 2, &["if", "exists"]) {
                out.push((offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
            }
            return;
        }
        if next.is_any(&[
            "primary",
            "foreign",
            "constraint",
            "check",
            "partition",
            "default",
        ]) {
            return;
        }
        let mut at = 1;
        if kw(clause, at, "column") {
            at += 1;
        }
        if kws(clause, at, &["if", "exists"]) {
            out.push((offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
            at += 2;
        }
        if !has_contract(comments, statement_start, offset) {
            out.push((
                offset,
                Rule::DropWithoutContract,
                format!(
                    "DROP COLUMN {} on {table} without a `-- contract: <reason>` comment: the release still running during blue/green may read it; drop it only in a contract migration once no release does",
                    name_at(clause, at)
                ),
            ));
        }
    } else if clause[0].is("rename") {
        if kw(clause, 1, "column") {
            out.push((
                offset,
                Rule::Rename,
                format!(
                    "RENAME COLUMN {} on {table} breaks the release still running during blue/green: add the new column, write both, backfill, and drop the old one in a later contract migration",
                    name_at(clause, 2)
                ),
            ));
        } else if !clause.get(1).is_some_and(|t| t.is_any(&["index", "key"])) {
            out.push((
                offset,
                Rule::Rename,
                format!("renaming table {table} breaks the release still running during blue/green: create the new table, copy, and drop the old one in a later contract migration"),
            ));
        }
    } else if clause[0].is("change") {
        let mut at = 1;
        if kw(clause, at, "column") {
            at += 1;
        }
        if kws(clause, at, &["if", "exists"]) {
            out.push((offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
            at += 2;
        }
        if let (Some(old), Some(new)) = (clause.get(at), clause.get(at + 1))
            && old.identifier() != new.identifier()
        {
            out.push((
                offset,
                Rule::Rename,
                format!(
                    "CHANGE COLUMN renames {} to {} on {table}: that breaks the release still running during blue/green; add the new column and drop the old one in a later contract migration (use MODIFY to change only the type)",
                    name_at(clause, at),
                    name_at(clause, at + 1)
                ),
            ));
        }
    } else if clause[0].is("modify") {
        let at = if kw(clause, 1, "column") { 2 } else { 1 };
        if kws(clause, at, &["if", "exists"]) {
            out.push((offset, Rule::Portability, PORTABILITY_IF_EXISTS.to_owned()));
        }
    }
}

/// `definition` is `name type attributes…` of a column added to an existing table.
fn check_added_column(table: &str, definition: &[Token<'_>], out: &mut Vec<Raw>) {
    let mut depth = 0usize;
    let mut not_null = None;
    let mut exempt = false;
    for (i, token) in definition.iter().enumerate() {
        if token.is_punct('(') {
            depth += 1;
            continue;
        }
        if token.is_punct(')') {
            depth = depth.saturating_sub(1);
            continue;
        }
        if depth > 0 {
            continue;
        }
        if token.is("not") && kw(definition, i + 1, "null") {
            not_null = Some(token.offset);
        } else if token.is_any(&["default", "generated", "auto_increment"])
            || (token.is("as") && definition.get(i + 1).is_some_and(|t| t.is_punct('(')))
        {
            exempt = true;
        }
    }
    if let Some(offset) = not_null
        && !exempt
    {
        out.push((
            offset,
            Rule::NotNullWithoutDefault,
            format!(
                "ADD COLUMN {} NOT NULL on existing table {table} without a DEFAULT: inserts by the release still running during blue/green fail; give it a DEFAULT, or add it nullable and tighten it in a later migration",
                name_at(definition, 0)
            ),
        ));
    }
}

#[cfg(test)]
mod tests;
