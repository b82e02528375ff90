//! The command line as an operator uses it: exit codes, `--json`, reports, exports, routing.

#[macro_use]
mod common;

use common::{id18, line, write_file, TestDb, HEADER};
use std::process::{Command, Output};

fn gradhub(db: &TestDb, args: &[&str]) -> Output {
    common::gradhub_command(db)
        .args(args)
        .output()
        .expect("run gradhub")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ingest_json_reports_counts_and_exit_codes(db: &TestDb) {
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李 四", &id18("370102", "20020316", 124), "370102", "")
    );
    let file = write_file(db, "t.csv", text.as_bytes());
    let file = file.to_str().expect("path");
    let out = gradhub(db, &["ingest", file, "--source", "370000", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    for key in [
        "batch_id",
        "sha256",
        "format",
        "encoding",
        "rows",
        "accepted",
        "updated",
        "rejected",
        "warnings",
        "quarantined",
        "routed",
        "duplicate_of",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        (
            v["rows"].as_u64(),
            v["accepted"].as_u64(),
            v["rejected"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(v["routed"]["direct"].as_u64(), Some(1));
    assert!(v["duplicate_of"].is_null());
    let batch = v["batch_id"].as_i64().expect("id");

    let again = gradhub(db, &["ingest", file, "--source", "370000", "--json"]);
    assert_eq!(again.status.code(), Some(0));
    let v2: serde_json::Value = serde_json::from_str(&stdout(&again)).expect("json");
    assert_eq!(v2["duplicate_of"].as_i64(), Some(batch));

    let refused = write_file(db, "empty.csv", b"");
    let out = gradhub(
        db,
        &[
            "ingest",
            refused.to_str().expect("path"),
            "--source",
            "370000",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FILE_EMPTY") && err.contains("文件"), "{err}");

    let rejects = db.path("rejects.csv");
    let out = gradhub(
        db,
        &[
            "batch",
            "rejects",
            &batch.to_string(),
            "-o",
            rejects.to_str().expect("p"),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let report = std::fs::read_to_string(&rejects).expect("report");
    assert!(
        report.contains("行号,列,值,原因代码,说明") && report.contains("NAME_SPACE"),
        "{report}"
    );

    let xlsx = db.path("rejects.xlsx");
    let out = gradhub(
        db,
        &[
            "batch",
            "rejects",
            &batch.to_string(),
            "--format",
            "xlsx",
            "-o",
            xlsx.to_str().expect("p"),
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read(&xlsx).expect("xlsx").starts_with(b"PK"));

    let out = gradhub(db, &["batch", "show", &batch.to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let out = gradhub(db, &["batches", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

fn export_filters_by_province(db: &TestDb) {
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", &id18("110105", "20020316", 124), "110105", "")
    );
    let file = write_file(db, "p.csv", text.as_bytes());
    let out = gradhub(
        db,
        &["ingest", file.to_str().expect("p"), "--source", "EDU-1"],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = gradhub(db, &["records", "export", "--province", "370000"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2, "header and one row: {text}");
    assert!(text.contains("张三") && !text.contains("李四"));
    let out = gradhub(db, &["records", "export", "--mask"]);
    let text = stdout(&out);
    assert!(
        text.contains("370102**********3") || text.contains("370102********"),
        "{text}"
    );
    assert!(!text.contains(&id18("370102", "20020315", 123)));
}

fn route_explain_names_the_method(db: &TestDb) {
    let out = gradhub(db, &["route", "--explain", "371202", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["route"]["method"], "successor");
    assert_eq!(v["route"]["county"], "370116");
    let out = gradhub(db, &["route", "--explain", "山东省莱芜市莱城区"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("370116"));
}

/// An operator loads a newer division edition: a new county becomes a direct route, and the
/// shipped successors still apply.
fn newer_division_edition_is_imported(db: &TestDb) {
    let out = gradhub(db, &["migrate"]);
    assert_eq!(out.status.code(), Some(0));
    let before = gradhub(db, &["route", "--explain", "370199", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&before)).expect("json");
    assert_eq!(v["route"]["method"], "prefecture_only");

    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/divisions/divisions-2025-12-31.csv"
    ))
    .expect("fixture");
    let newer = write_file(
        db,
        "divisions-2026.csv",
        format!("{shipped}370199,新设区,county,370100\n").as_bytes(),
    );
    let out = gradhub(
        db,
        &[
            "divisions",
            "import",
            newer.to_str().expect("p"),
            "--edition",
            "2026-06-30",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = gradhub(db, &["divisions", "show"]);
    assert!(stdout(&shown).contains("2026-06-30"), "{}", stdout(&shown));

    let after = gradhub(db, &["route", "--explain", "370199", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&after)).expect("json");
    assert_eq!(
        (v["route"]["method"].as_str(), v["edition"].as_str()),
        (Some("direct"), Some("2026-06-30"))
    );
    let laiwu = gradhub(db, &["route", "--explain", "371202", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&laiwu)).expect("json");
    assert_eq!(v["route"]["method"], "successor");

    let broken = write_file(
        db,
        "broken.csv",
        "code,name,level,parent\n37019X,坏,county,370100\n".as_bytes(),
    );
    let out = gradhub(
        db,
        &[
            "divisions",
            "import",
            broken.to_str().expect("p"),
            "--edition",
            "2026-07-01",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "a bad table is refused");
    let shown = gradhub(db, &["divisions", "show"]);
    assert!(
        stdout(&shown).contains("2026-06-30"),
        "the table in use is unchanged"
    );
}

on_both_backends!(
    newer_division_edition_is_imported,
    ingest_json_reports_counts_and_exit_codes,
    export_filters_by_province,
    route_explain_names_the_method,
);

#[test]
fn demo_data_writes_the_requested_rows() {
    let dir = tempfile::tempdir().expect("dir");
    for (args, name) in [
        (vec![], "d.csv"),
        (vec!["--gbk"], "g.csv"),
        (vec!["--xlsx"], "x.xlsx"),
    ] {
        let path = dir.path().join(name);
        let mut all = vec![
            "demo-data",
            "--rows",
            "200",
            "-o",
            path.to_str().expect("p"),
        ];
        all.extend(args);
        let out = Command::new(env!("CARGO_BIN_EXE_gradhub"))
            .args(&all)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::metadata(&path).expect("file").len() > 1000);
    }
    let text = std::fs::read_to_string(dir.path().join("d.csv")).expect("utf8 csv");
    assert_eq!(text.lines().count(), 201);
    assert!(
        std::str::from_utf8(&std::fs::read(dir.path().join("g.csv")).expect("gbk")).is_err(),
        "GBK is not UTF-8"
    );
}
