// migrate-lint: skip-file
//! Every rule with SQL it refuses and SQL it lets through. (The line above keeps `migrate lint
//! crates` from reporting the deliberately bad SQL in this file.)

use super::*;

fn rules(sql: &str) -> Vec<(usize, Rule)> {
    lint_sql(Path::new("m.sql"), sql)
        .into_iter()
        .map(|finding| (finding.line, finding.rule))
        .collect()
}

fn only(sql: &str) -> Vec<Rule> {
    rules(sql).into_iter().map(|(_, rule)| rule).collect()
}

#[track_caller]
fn clean(sql: &str) {
    let findings = lint_sql(Path::new("m.sql"), sql);
    assert!(findings.is_empty(), "{sql}\n=> {findings:#?}");
}

// drop-without-contract

#[test]
fn drop_column_without_contract_fails() {
    assert_eq!(
        rules("create table t (id int primary key);\n\nalter table t drop column legacy;"),
        vec![(3, Rule::DropWithoutContract)]
    );
    assert_eq!(
        only("ALTER TABLE t DROP legacy"),
        vec![Rule::DropWithoutContract]
    );
    assert_eq!(
        only("alter table t add column x int null, drop column `legacy`"),
        vec![Rule::DropWithoutContract]
    );
}

#[test]
fn drop_table_without_contract_fails() {
    assert_eq!(
        only("drop table if exists old_orders"),
        vec![Rule::DropWithoutContract]
    );
    // A marker belongs to the statement after it, not to the next one.
    assert_eq!(
        rules("-- contract: a gone\nalter table a drop column x;\ndrop table b;"),
        vec![(3, Rule::DropWithoutContract)]
    );
    // A marker needs a reason.
    assert_eq!(
        only("-- contract:\ndrop table b"),
        vec![Rule::DropWithoutContract]
    );
}

#[test]
fn drops_with_a_contract_marker_pass() {
    clean("-- contract: unused since release 2026-11\nalter table t drop column legacy;");
    clean(
        "-- Contract: replaced by orders_v2 in 20261101\n-- (more words)\ndrop table old_orders;",
    );
    clean(
        "alter table t\n  add column y int null,\n  -- contract: x unused since 2026-11\n  drop column x;",
    );
    clean("/* contract: no reader left */ drop table old_orders;");
}

#[test]
fn dropping_indexes_keys_and_defaults_passes() {
    clean("alter table t drop index t_x, drop key t_y, drop primary key, add primary key (id)");
    clean("alter table t alter column c drop default");
    clean("drop index t_x on t");
    clean("drop temporary table scratch");
}

// rename

#[test]
fn renames_fail() {
    assert_eq!(
        only("alter table t rename column a to b"),
        vec![Rule::Rename]
    );
    assert_eq!(
        only("alter table t change column a b int not null default 0"),
        vec![Rule::Rename]
    );
    assert_eq!(
        only("alter table t change `a` `b` int null"),
        vec![Rule::Rename]
    );
    assert_eq!(only("rename table a to b"), vec![Rule::Rename]);
    assert_eq!(only("alter table a rename to b"), vec![Rule::Rename]);
}

#[test]
fn changes_that_keep_the_name_pass() {
    clean("alter table t change column a a bigint null");
    clean("alter table t change `A` a bigint null");
    clean("alter table t modify column a bigint null");
    clean("alter table t rename index t_a to t_b, rename key t_c to t_d");
}

// not-null-without-default

#[test]
fn adding_a_not_null_column_without_default_fails() {
    assert_eq!(
        rules("alter table t\n  add column c int not null"),
        vec![(2, Rule::NotNullWithoutDefault)]
    );
    assert_eq!(
        only("alter table t add c varchar(10) NOT NULL, add d int null"),
        vec![Rule::NotNullWithoutDefault]
    );
    assert_eq!(
        only("alter table t add (c int null, d int not null)"),
        vec![Rule::NotNullWithoutDefault]
    );
    // A NOT NULL inside a CHECK does not count, but the column's own does.
    assert_eq!(
        only("alter table t add c int not null check (c is not null)"),
        vec![Rule::NotNullWithoutDefault]
    );
}

#[test]
fn nullable_defaulted_and_generated_columns_pass() {
    clean("alter table t add column c int null");
    clean("alter table t add column c int");
    clean("alter table t add column c int not null default 0");
    clean("alter table t add column c boolean default true not null");
    clean("alter table t add column c int as (a + 1) stored not null");
    clean("alter table t add column c int generated always as (a + 1) virtual not null");
    clean("alter table t add column c int check (c is not null)");
    // New tables have no old rows and no old release writing them.
    clean("create table t (id int not null, c int not null, primary key (id))");
}

// foreign-key

#[test]
fn foreign_keys_fail() {
    assert_eq!(
        only("create table c (id int primary key, o int references orders (id))"),
        vec![Rule::ForeignKey]
    );
    assert_eq!(
        only("alter table c add constraint c_o foreign key (o) references orders (id)"),
        vec![Rule::ForeignKey, Rule::ForeignKey]
    );
}

#[test]
fn dropping_a_foreign_key_and_quoted_names_pass() {
    clean("alter table c drop foreign key c_o");
    clean(
        "create table c (id int primary key, `references` int, note varchar(9) default 'references')",
    );
}

// stored-routine

#[test]
fn triggers_procedures_functions_and_events_fail() {
    for sql in [
        "create trigger t_ai after insert on t for each row set @x = 1",
        "create definer = 'admin'@'%' procedure p() begin select 1; end",
        "CREATE OR REPLACE FUNCTION f() RETURNS int DETERMINISTIC RETURN 1",
        "create event e on schedule every 1 hour do delete from t",
        "delimiter //\ncreate trigger t_bi before insert on t for each row begin end //",
    ] {
        assert!(only(sql).contains(&Rule::StoredRoutine), "{sql}");
    }
}

#[test]
fn tables_and_columns_named_like_routines_pass() {
    clean(
        "create table events (id int primary key, `trigger` int, event varchar(9), function_name varchar(9))",
    );
    clean("create index events_trigger on events (event)");
}

// missing-primary-key

#[test]
fn tables_without_a_primary_key_fail() {
    assert_eq!(
        rules(
            "create table a (id int primary key);\n\ncreate table if not exists `b` (id int not null, unique key b_id (id));"
        ),
        vec![(3, Rule::MissingPrimaryKey)]
    );
}

#[test]
fn tables_with_a_primary_key_or_copied_pass() {
    clean("create table a (id int not null, primary key (id))");
    clean("create table a (id int not null primary key)");
    clean("create table a (id int, b int, primary key (id, b)) engine = InnoDB");
    clean("create table a like b");
    clean("create temporary table scratch (x int)");
}

// portability

#[test]
fn mariadb_only_sql_fails() {
    for sql in [
        "insert into t (a) values (1) returning id",
        "delete from t where id = 1 RETURNING *",
        "create or replace table t (id int primary key)",
        "alter table t add column if not exists c int null",
        "alter table t add index if not exists t_c (c)",
        "alter table t drop column if exists c",
        "alter table t drop index if exists t_c",
        "create index if not exists t_c on t (c)",
        "create sequence s start with 1",
        "insert into t (id) values (nextval(s))",
        "insert into t (id) values (next value for s)",
    ] {
        assert!(only(sql).contains(&Rule::Portability), "{sql}");
    }
}

#[test]
fn mysql_only_json_operators_fail() {
    assert_eq!(
        rules("select\n  payload->'$.a', payload->>'$.b' from t"),
        vec![(2, Rule::Portability), (2, Rule::Portability)]
    );
}

#[test]
fn portable_sql_and_lookalikes_in_strings_and_comments_pass() {
    clean("insert into t (a, note) values (1, 'returning -> soon') -- returning nothing\n");
    clean("select json_unquote(json_extract(payload, '$.a')), a - 1, b > 2 from t /* a->b */");
    clean(
        "create table if not exists t (id int primary key); -- contract: scratch table\ndrop table if exists t2;",
    );
    clean("create or replace view v as select 1");
    clean("select `returning` from t");
}

// Rust sources

fn rust_rules(source: &str) -> Vec<(usize, Rule)> {
    lint_rust(Path::new("x.rs"), source)
        .into_iter()
        .map(|finding| (finding.line, finding.rule))
        .collect()
}

#[test]
fn returning_in_rust_sql_fails_with_the_right_line() {
    let source = "fn f() {\n    sqlx::query(\n        r\"insert into t (a)\n          values (?) returning id\",\n    );\n}\n";
    assert_eq!(rust_rules(source), vec![(4, Rule::Portability)]);
    let builder = "q.push(\" returning id\");\nlet s = \"select payload->>'$.a' from t\";";
    assert_eq!(
        rust_rules(builder),
        vec![(1, Rule::Portability), (2, Rule::Portability)]
    );
}

#[test]
fn rust_prose_comments_and_other_rules_pass() {
    let source = "/// resolved by resuming or returning\nconst VERBS: [&str; 2] = [\"select\", \"returning\"];\n// insert ... returning\nfn f() -> Result<(), E> {\n    let m = \"customers returning wait -> longer\";\n    let n = \"the order is returning\";\n    sqlx::query(\"alter table t drop column c\");\n    sqlx::query(\"create table x (a int)\");\n}\n";
    assert_eq!(rust_rules(source), vec![]);
}

// Reports

#[test]
fn findings_print_as_path_line_rule_message() {
    let findings = lint_sql(
        Path::new("migrations/1.sql"),
        "\nalter table t rename column a to b;",
    );
    assert_eq!(findings.len(), 1);
    let line = findings[0].to_string();
    assert!(
        line.starts_with("migrations/1.sql:2: rename: RENAME COLUMN `a` on `t` breaks"),
        "{line}"
    );
}

#[test]
fn every_rule_has_a_distinct_name() {
    let mut names: Vec<&str> = Rule::ALL.iter().map(|rule| rule.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Rule::ALL.len());
}

#[test]
fn skip_file_marker_must_be_a_whole_line_comment() {
    assert!(skips_itself("// migrate-lint: skip-file\nfn f() {}"));
    assert!(!skips_itself(
        "//! `// migrate-lint: skip-file` opts out\nfn f() {}"
    ));
    assert!(!skips_itself("let s = \"// migrate-lint: skip-file\";"));
}
