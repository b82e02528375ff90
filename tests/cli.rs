//! The command line as an operator uses it: exit codes, `--json`, reports, exports, routing,
//! division imports, the progress bar, and the README's demo command.

#[macro_use]
mod common;

use common::{expect_exit, gradhub_command, id18, line, write_file, TestDb, HEADER};
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

/// Asserts a refusal (exit 2); its standard error, where the message is.
fn refused(out: &Output) -> String {
    expect_exit(out, 2);
    String::from_utf8_lossy(&out.stderr).to_string()
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
    let text = ok(
        db,
        &["records", "export", "--province", "370000", "--unmasked"],
    );
    assert_eq!(text.lines().count(), 2, "header and one row: {text}");
    assert!(text.contains("张三") && !text.contains("李四"));
    let text = ok(db, &["records", "export"]);
    assert!(
        text.contains("3****************"),
        "masked by default: {text}"
    );
    assert!(!text.contains(&id18("370102", "20020315", 123)));
    let text = ok(db, &["records", "export", "--unmasked"]);
    assert!(text.contains(&id18("370102", "20020315", 123)), "{text}");
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

/// An operator sets up organisations, contacts, users and tokens, then runs the jobs once on a
/// dropped file.
fn operators_manage_orgs_users_tokens_and_run_jobs(db: &TestDb) {
    ok(
        db,
        &[
            "orgs",
            "add",
            "--code",
            "370102-001",
            "--name",
            "文化东路街道",
            "--level",
            "grassroots",
            "--parent",
            "370102",
        ],
    );
    let under_province = gradhub(
        db,
        &[
            "orgs",
            "add",
            "--code",
            "x-1",
            "--name",
            "某街道",
            "--level",
            "grassroots",
            "--parent",
            "370000",
        ],
    );
    assert!(
        refused(&under_province).contains("基层服务平台"),
        "grassroots only under a county"
    );
    ok(
        db,
        &[
            "orgs",
            "add",
            "--code",
            "edu-370000",
            "--name",
            "山东省教育厅",
            "--level",
            "sender",
            "--parent",
            "370000",
        ],
    );
    ok(
        db,
        &[
            "orgs",
            "add-contact",
            "370000",
            "--name",
            "赵科长",
            "--email",
            "zhao@example.org",
        ],
    );
    let bad_mail = gradhub(
        db,
        &[
            "orgs",
            "add-contact",
            "370000",
            "--name",
            "x",
            "--email",
            "not-an-address",
        ],
    );
    expect_exit(&bad_mail, 2);
    let shown = ok(db, &["orgs", "show", "370102"]);
    assert!(shown.contains("370102-001 文化东路街道"), "{shown}");
    assert!(ok(db, &["orgs", "show", "370000"]).contains("zhao@example.org"));

    let add_user = |args: &[&str], password: &str| {
        let mut child = common::gradhub_command(db)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, format!("{password}\n").as_bytes())
                .expect("stdin");
        }
        child.wait_with_output().expect("wait")
    };
    expect_exit(
        &add_user(
            &[
                "users", "add", "wang", "--role", "province", "--org", "370000",
            ],
            "long-enough-pw",
        ),
        0,
    );
    let short = add_user(
        &[
            "users", "add", "li", "--role", "province", "--org", "370000",
        ],
        "short",
    );
    assert!(refused(&short).contains("10"));
    let misplaced = add_user(
        &[
            "users", "add", "zhou", "--role", "county", "--org", "370000",
        ],
        "long-enough-pw",
    );
    assert!(refused(&misplaced).contains("区县级"));
    assert!(ok(db, &["users", "list"]).contains("wang\tprovince\t370000\t"));

    let secret = ok(
        db,
        &["tokens", "create", "--org", "370000", "--name", "sd-sync"],
    )
    .trim()
    .to_string();
    assert!(secret.starts_with("ghk_") && secret.len() == 68, "{secret}");
    let mut conn = db.db.conn().expect("conn");
    let who = gradhub::access::identify(
        &mut conn,
        &secret,
        gradhub::access::SessionLimits::of(&gradhub::config::Config::default()),
    )
    .expect("query")
    .expect("known");
    assert_eq!(
        (who.role.as_str(), who.actor.as_str()),
        ("system", "token:1:sd-sync")
    );
    let listed = ok(db, &["tokens", "list"]);
    assert!(
        listed.contains("sd-sync\tsystem\t370000\t") && !listed.contains(&secret),
        "only a prefix is shown: {listed}"
    );
    ok(db, &["tokens", "revoke", "1"]);
    assert!(
        gradhub::access::identify(
            &mut conn,
            &secret,
            gradhub::access::SessionLimits::of(&gradhub::config::Config::default())
        )
        .expect("query")
        .is_none(),
        "revoked"
    );
    expect_exit(&gradhub(db, &["tokens", "revoke", "1"]), 2);

    // One pass of the jobs picks up a dropped file and delivers its graduates.
    let drop = db.path("drop");
    let folder = drop.join("edu-370000");
    std::fs::create_dir_all(&folder).expect("folder");
    std::fs::write(
        folder.join("2026.csv"),
        format!(
            "{HEADER}\n{}\n",
            line("张三", &id18("370102", "20020315", 123), "370102", "")
        ),
    )
    .expect("drop");
    let out = common::gradhub_command(db)
        .args(["jobs", "run", "--today", "2026-11-23"])
        .env("GRADHUB_DROP_DIR", &drop)
        .env("GRADHUB_DROP_SETTLE_SECS", "0")
        .output()
        .expect("run");
    let report: Value = serde_json::from_str(&expect_exit(&out, 0)).expect("json report");
    assert_eq!(
        (
            report["files_ingested"].as_u64(),
            report["packages_cut"].as_u64()
        ),
        (Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(
        std::fs::read_dir(folder.join("processed"))
            .expect("processed")
            .count(),
        3
    );
    let inbox: Value =
        serde_json::from_str(&ok(db, &["packages", "inbox", "--org", "370000", "--json"]))
            .expect("json");
    assert_eq!(inbox[0]["records"], 1);
    let cut = ok(db, &["packages", "cut", "--org", "370000"]);
    assert!(
        cut.contains("0 packages"),
        "nothing acknowledged yet, nothing to cut: {cut}"
    );
}

/// `gradhub ingest --json | head -c 300`: the reader goes away before the summary is printed.
fn a_closed_pipe_ends_the_output_without_a_panic(db: &TestDb) {
    let text = format!(
        "{HEADER}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", "")
    );
    let file = write_file(db, "pipe.csv", text.as_bytes());
    for args in [
        vec![
            "ingest",
            file.to_str().expect("path"),
            "--source",
            "370000",
            "--json",
        ],
        vec!["records", "export"],
        vec!["batches"],
    ] {
        let mut child = gradhub_command(db)
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take()); // the pipe's reader is gone, as after `head` has its bytes
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
    let mut conn = db.db.conn().expect("conn");
    assert_eq!(
        gradhub::db::records::count(&mut conn).expect("count"),
        1,
        "the work was done"
    );
}

/// Any channel's ingest says in the log that it starts, with the file's name escaped.
fn the_log_says_an_ingest_starts_and_escapes_the_file_name(db: &TestDb) {
    let text = format!(
        "{HEADER}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", "")
    );
    let file = write_file(db, "x\u{1b}[31m\nFORGED line.csv", text.as_bytes());
    let out = gradhub_command(db)
        .env("GRADHUB_LOG", "info")
        .args(["ingest", file.to_str().expect("path"), "--source", "370000"])
        .output()
        .expect("run");
    expect_exit(&out, 0);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("ingest starts"), "{log}");
    assert!(!log.contains('\u{1b}'), "no raw escape in the log: {log}");
    assert!(
        !log.lines().any(|l| l.starts_with("FORGED")),
        "no forged line: {log}"
    );
    assert!(log.contains("\\u{1b}[31m\\nFORGED"), "{log}");
}

on_both_backends!(
    the_log_says_an_ingest_starts_and_escapes_the_file_name,
    a_closed_pipe_ends_the_output_without_a_panic,
    operators_manage_orgs_users_tokens_and_run_jobs,
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

/// The README's first command: `gradhub demo` makes its database, loads demo graduates, prints
/// demo tokens, delivers the graduates to the provinces, and serves them.
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
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn demo");
    // The tokens are printed on standard error before the server starts.
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(token) = line.split_whitespace().find(|w| w.starts_with("ghk_")) {
                let _ = tx.send(token.to_string());
            }
        }
    });
    let ministry = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("ministry token printed");
    let shandong = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("province token printed");
    let client = reqwest::blocking::Client::new();
    let get = |path: &str, token: &str| -> Option<Value> {
        client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .bearer_auth(token)
            .send()
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.json::<Value>().ok())
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (batches, inbox) = loop {
        let batches = get("/api/v1/batches", &ministry);
        let inbox = get("/api/v1/inbox", &shandong);
        if let (Some(b), Some(i)) = (batches, inbox) {
            if i["packages"].as_array().is_some_and(|p| !p.is_empty()) {
                break (b, i);
            }
        }
        assert!(
            Instant::now() < deadline,
            "demo never served 山东's package"
        );
        assert!(child.try_wait().expect("wait").is_none(), "demo exited");
        std::thread::sleep(Duration::from_millis(200));
    };
    // The tour's unemployment registrations at its county, in every state.
    let applications =
        get("/api/v1/unemployment/applications?limit=50", &shandong).expect("applications");
    let statuses: Vec<&str> = applications["applications"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["status"].as_str())
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(statuses.len(), 10, "{applications}");
    for s in ["pending", "registered", "refused", "exited"] {
        assert!(statuses.contains(&s), "{s} in {statuses:?}");
    }
    let first = &batches[0];
    assert_eq!(
        (first["source"].as_str(), first["rows"].as_u64()),
        (Some("edu-demo"), Some(300))
    );
    assert!(first["accepted"].as_u64().unwrap_or(0) > 250, "{first}");
    assert_eq!(inbox["packages"][0]["receiver"]["code"], "370000");
    assert!(inbox["packages"][0]["records"].as_i64().unwrap_or(0) > 0);
}

#[test]
fn packages_help_lists_only_what_exists() {
    let out = Command::new(env!("CARGO_BIN_EXE_gradhub"))
        .args(["packages", "--help"])
        .output()
        .expect("run");
    let help = expect_exit(&out, 0);
    assert!(help.contains("cut") && help.contains("inbox"), "{help}");
    assert!(!help.contains("acknowledge"), "{help}");
}
