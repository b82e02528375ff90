//! The command line as an operator uses it: exit codes, `--json`, reports, exports, routing,
//! division imports, the progress bar, and the README's demo command.

#[macro_use]
mod common;

use common::{expect_exit, id18, line, write_file, TestDb, HEADER};
use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn gradhub(db: &TestDb, args: &[&str]) -> Output {
    common::gradhub_command(db)
        .args(args)
        .output()
        .expect("run gradhub")
}

/// Runs a command that must succeed; its standard output.
fn ok(db: &TestDb, args: &[&str]) -> String {
    expect_exit(&gradhub(db, args), 0)
}

/// Runs a command that must succeed and print one JSON value.
fn json(db: &TestDb, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).expect("one JSON value")
}

fn explain(db: &TestDb, value: &str) -> Value {
    json(db, &["route", "--explain", value, "--json"])
}

fn ingest_json_reports_counts_and_exit_codes(db: &TestDb) {
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李 四", &id18("370102", "20020316", 124), "370102", "")
    );
    let file = write_file(db, "t.csv", text.as_bytes());
    let file = file.to_str().expect("path");
    let v = json(db, &["ingest", file, "--source", "370000", "--json"]);
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
    let counts = (
        v["rows"].as_u64(),
        v["accepted"].as_u64(),
        v["rejected"].as_u64(),
    );
    assert_eq!(counts, (Some(2), Some(1), Some(1)));
    assert_eq!(v["routed"]["direct"].as_u64(), Some(1));
    assert!(v["duplicate_of"].is_null());
    let batch = v["batch_id"].as_i64().expect("id").to_string();

    let again = json(db, &["ingest", file, "--source", "370000", "--json"]);
    assert_eq!(again["duplicate_of"].as_i64(), v["batch_id"].as_i64());

    let refused = write_file(db, "empty.csv", b"");
    let out = gradhub(
        db,
        &["ingest", refused.to_str().expect("p"), "--source", "370000"],
    );
    expect_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("FILE_EMPTY") && err.contains("文件"), "{err}");

    let rejects = db.path("rejects.csv");
    ok(
        db,
        &[
            "batch",
            "rejects",
            &batch,
            "-o",
            rejects.to_str().expect("p"),
        ],
    );
    let report = std::fs::read_to_string(&rejects).expect("report");
    assert!(
        report.contains("行号,列,值,原因代码,说明") && report.contains("NAME_SPACE"),
        "{report}"
    );
    let xlsx = db.path("rejects.xlsx");
    let xlsx_arg = xlsx.to_str().expect("p");
    ok(
        db,
        &[
            "batch", "rejects", &batch, "--format", "xlsx", "-o", xlsx_arg,
        ],
    );
    assert!(std::fs::read(&xlsx).expect("xlsx").starts_with(b"PK"));

    assert_eq!(json(db, &["batch", "show", &batch, "--json"])["rows"], 2);
    let list = json(db, &["batches", "--json"]);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

fn export_filters_by_province(db: &TestDb) {
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", &id18("110105", "20020316", 124), "110105", "")
    );
    let file = write_file(db, "p.csv", text.as_bytes());
    ok(
        db,
        &["ingest", file.to_str().expect("p"), "--source", "EDU-1"],
    );
    let text = ok(db, &["records", "export", "--province", "370000"]);
    assert_eq!(text.lines().count(), 2, "header and one row: {text}");
    assert!(text.contains("张三") && !text.contains("李四"));
    let text = ok(db, &["records", "export", "--mask"]);
    assert!(text.contains("370102********"), "{text}");
    assert!(!text.contains(&id18("370102", "20020315", 123)));
}

fn route_explain_names_the_method(db: &TestDb) {
    let v = explain(db, "371202");
    assert_eq!(v["route"]["method"], "successor");
    assert_eq!(v["route"]["county"], "370116");
    assert!(ok(db, &["route", "--explain", "山东省莱芜市莱城区"]).contains("370116"));
}

/// An operator loads a newer division edition: a new county becomes a direct route, and the
/// shipped successors still apply; a bad table is refused and the one in use stays.
fn newer_division_edition_is_imported(db: &TestDb) {
    ok(db, &["migrate"]);
    assert_eq!(explain(db, "370199")["route"]["method"], "prefecture_only");

    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/divisions/divisions-2025-12-31.csv"
    ))
    .expect("fixture");
    let newer = format!("{shipped}370199,新设区,county,370100\n");
    let newer = write_file(db, "divisions-2026.csv", newer.as_bytes());
    let newer = newer.to_str().expect("p");
    ok(
        db,
        &["divisions", "import", newer, "--edition", "2026-06-30"],
    );
    assert!(ok(db, &["divisions", "show"]).contains("2026-06-30"));
    let v = explain(db, "370199");
    let got = (v["route"]["method"].as_str(), v["edition"].as_str());
    assert_eq!(got, (Some("direct"), Some("2026-06-30")));
    assert_eq!(explain(db, "371202")["route"]["method"], "successor");

    let broken = "code,name,level,parent\n37019X,坏,county,370100\n";
    let broken = write_file(db, "broken.csv", broken.as_bytes());
    let broken = broken.to_str().expect("p");
    let out = gradhub(
        db,
        &["divisions", "import", broken, "--edition", "2026-07-01"],
    );
    expect_exit(&out, 2);
    assert!(
        ok(db, &["divisions", "show"]).contains("2026-06-30"),
        "the table in use stays"
    );
}

/// On a terminal `gradhub ingest` draws a progress bar (run under `script`, which gives it one);
/// with `--json` or output to a file, nothing but the summary.
fn ingest_shows_progress_on_a_terminal(db: &TestDb) {
    let file = common::demo_file(db, "progress.csv", &common::demo_options(30_000, 8, 0.0));
    let command = format!(
        "{} ingest {} --source 370000",
        env!("CARGO_BIN_EXE_gradhub"),
        file.display()
    );
    // `script` (util-linux) runs the command on a pseudo-terminal and copies the screen out.
    let out = common::with_db(db, Command::new("script"))
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    let screen = expect_exit(&out, 0);
    assert!(
        screen.contains("MiB") && screen.contains('█'),
        "a bar: {screen}"
    );
    assert!(screen.contains("新增 30000"), "then the summary: {screen}");
}

on_both_backends!(
    newer_division_edition_is_imported,
    ingest_json_reports_counts_and_exit_codes,
    export_filters_by_province,
    route_explain_names_the_method,
    ingest_shows_progress_on_a_terminal,
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
        expect_exit(&out, 0);
        assert!(std::fs::metadata(&path).expect("file").len() > 1000);
    }
    let text = std::fs::read_to_string(dir.path().join("d.csv")).expect("utf8 csv");
    assert_eq!(text.lines().count(), 201);
    let gbk = std::fs::read(dir.path().join("g.csv")).expect("gbk");
    assert!(std::str::from_utf8(&gbk).is_err(), "GBK is not UTF-8");
}

/// The README's first command: `gradhub demo` makes its database, loads demo graduates and
/// serves them.
#[test]
fn demo_command_serves_generated_graduates() {
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let db = dir.path().join("demo.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gradhub"))
        .args(["demo", "--rows", "300", "--db", db.to_str().expect("p")])
        .env("GRADHUB_BIND", format!("127.0.0.1:{port}"))
        .env("GRADHUB_UPLOAD_DIR", dir.path().join("up"))
        .env("GRADHUB_LOG", "warn")
        .env_remove("DATABASE_URL")
        .env_remove("GRADHUB_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn demo");
    let url = format!("http://127.0.0.1:{port}/api/v1/batches");
    let deadline = Instant::now() + Duration::from_secs(60);
    let batches = loop {
        if let Ok(resp) = reqwest::blocking::get(&url) {
            break resp.json::<Value>().expect("json");
        }
        assert!(Instant::now() < deadline, "demo never served");
        assert!(child.try_wait().expect("wait").is_none(), "demo exited");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    let first = &batches[0];
    assert_eq!(
        (first["source"].as_str(), first["rows"].as_u64()),
        (Some("DEMO-EDU"), Some(300))
    );
    assert!(first["accepted"].as_u64().unwrap_or(0) > 250, "{first}");
}
