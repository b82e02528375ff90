//! What an operator relies on, exercised as one would: the request id of an answer found in the
//! JSON log of a real `gradhub serve`, `/metrics` scraped and checked against what the test did,
//! liveness and readiness when the database goes away or lags behind, and the worker owned by
//! the one composition root.

#[macro_use]
mod common;

use common::app::{add_sender, spawn_app, test_config, token, TestApp};
use common::{expect_exit, gradhub_command, id18, line, TestDb, HEADER};
use gradhub::distribution::AutoCut;
use gradhub::startup::Hub;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

on_both_backends!(
    request_id_header_appears_in_the_json_log_of_gradhub_serve,
    metrics_count_what_the_hub_did,
    readiness_turns_503_when_migrations_are_behind,
    the_application_runs_its_own_worker,
);

/// Two rows for 山东, and one with a malformed ID number (rejected).
fn transfer_file() -> String {
    format!(
        "{HEADER}\n{}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", &id18("370112", "20010610", 456), "370112", ""),
        line("赵六", "37010219990101001", "370102", ""),
    )
}

/// A `gradhub serve` process, killed when dropped, whose standard error is collected line by line.
struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(db: &TestDb) -> Served {
        let mut child = gradhub_command(db)
            .arg("serve")
            .env("GRADHUB_BIND", "127.0.0.1:0")
            .env("GRADHUB_LOG_FORMAT", "json")
            .env("GRADHUB_LOG", "info")
            .env("GRADHUB_JOBS_INTERVAL_SECS", "0")
            .env("GRADHUB_UPLOAD_DIR", db.path("uploads"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gradhub serve");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().expect("lines").push(line);
            }
        });
        let mut served = Served {
            child,
            lines,
            base: String::new(),
        };
        // Port 0 asked for a free port: the one chosen is in the start-up line.
        let started = Instant::now();
        while served.base.is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no start-up line: {:?}",
                served.lines.lock().expect("lines")
            );
            if let Some(status) = served.child.try_wait().expect("wait") {
                panic!("gradhub serve ended: {status}");
            }
            served.base = served
                .lines
                .lock()
                .expect("lines")
                .iter()
                .find_map(|l| l.split("listening on ").nth(1))
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_default()
                .to_string();
            std::thread::sleep(Duration::from_millis(50));
        }
        served
    }

    /// The JSON log lines whose spans carry `request_id`, waiting a little for them to arrive.
    fn lines_of(&self, request_id: &str, wanted: &str) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let found: Vec<Value> = self
                .lines
                .lock()
                .expect("lines")
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v["span"]["request_id"] == request_id)
                .collect();
            if found.iter().any(|v| v["fields"]["message"] == wanted)
                || started.elapsed() > Duration::from_secs(10)
            {
                return found;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn request_id_header_appears_in_the_json_log_of_gradhub_serve(db: &TestDb) {
    add_sender(db, "edu-ops", "000000");
    let sender = token(db, "edu-ops", None);
    let served = Served::start(db);
    let client = reqwest::blocking::Client::new();
    let answer = client
        .post(format!("{}/api/v1/batches?file_name=ops.csv", served.base))
        .bearer_auth(&sender)
        .body(transfer_file())
        .send()
        .expect("upload");
    assert_eq!(answer.status().as_u16(), 201);
    let request_id = answer
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an X-Request-Id header")
        .to_string();
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");

    // The ingest runs on the blocking pool; its line belongs to the request all the same. The
    // answer's line is written after the answer reached the client: wait for it, the last one.
    let lines = served.lines_of(&request_id, "request answered");
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|v| v["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"batch stored"), "{messages:?}");
    assert!(messages.contains(&"request answered"), "{messages:?}");
    let answered = lines
        .iter()
        .find(|v| v["fields"]["message"] == "request answered")
        .expect("answered line");
    assert_eq!(answered["fields"]["status"], 201);
    assert_eq!(answered["span"]["http.method"], "POST");

    // Another request has another id, and its lines are its own.
    let health = client
        .get(format!("{}/health/live", served.base))
        .send()
        .expect("live");
    let other = health
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("id")
        .to_string();
    assert_ne!(other, request_id);
    let lines = served.lines_of(&other, "request answered");
    assert!(lines
        .iter()
        .all(|v| v["fields"]["message"] != "batch stored"));
    assert_eq!(lines.len(), 1, "{lines:?}");
}

/// `/metrics` as Prometheus reads it: `name{labels} value` lines, comments skipped.
fn scrape(app: &TestApp) -> BTreeMap<String, i64> {
    let answer = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .expect("scrape");
    assert_eq!(answer.status().as_u16(), 200);
    let kind = answer
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = answer.text().expect("text");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').expect("name value");
            (name.to_string(), value.parse().expect("an integer"))
        })
        .collect()
}

fn metrics_count_what_the_hub_did(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let before = scrape(&app);
    assert_eq!(before["gradhub_batches_total"], 0);
    assert_eq!(before["gradhub_outbox_messages{state=\"pending\"}"], 0);
    // The seeded calendar ends with 2026, and today (from 1 November 2026) 2027 is missing.
    let coverage = app.dist.calendar_coverage(gradhub::ingest::china_today());
    assert_eq!(
        before["gradhub_calendar_last_year"],
        i64::from(coverage.covered_until_year.unwrap_or(0)),
        "the calendar's last year"
    );
    assert_eq!(
        before["gradhub_calendar_next_year_missing"],
        i64::from(coverage.next_year_missing || coverage.current_year_missing)
    );

    // A sender uploads one file.
    add_sender(db, "edu-ops", "000000");
    let sender = token(db, "edu-ops", None);
    let (status, summary) = app.upload("file_name=ops.csv", &sender, transfer_file().into_bytes());
    assert_eq!(status, 201, "{summary}");
    // The hub places it and cuts, on a day long past: 山东's package is overdue today.
    app.dist.place_new().expect("place");
    let long_ago = chrono::NaiveDate::from_ymd_opt(2021, 3, 1).expect("date");
    let cut = app.dist.cut_auto(AutoCut::Ministry, long_ago).expect("cut");
    assert_eq!(cut.len(), 1, "one package, for 山东");

    let after = scrape(&app);
    assert_eq!(after["gradhub_batches_total"], 1);
    assert_eq!(after["gradhub_batch_rows_total{outcome=\"read\"}"], 3);
    assert_eq!(
        after["gradhub_batch_rows_total{outcome=\"accepted\"}"],
        summary["accepted"].as_i64().expect("accepted")
    );
    assert_eq!(
        after["gradhub_batch_rows_total{outcome=\"accepted\"}"], 2,
        "{summary}"
    );
    assert_eq!(after["gradhub_batch_rows_total{outcome=\"rejected\"}"], 1);
    assert_eq!(after["gradhub_packages_overdue"], 1);
    assert_eq!(after["gradhub_records_unassigned"], 0);

    // 山东 sends one record back: it waits at the hub for a person to assign it (待分配).
    let shandong = token(db, "370000", None);
    let package = cut[0].id;
    let records = app.ok(&format!("/api/v1/packages/{package}/records"), &shandong);
    let record = records["records"][0]["record"]["id"]
        .as_i64()
        .expect("a record");
    app.ok_post(
        &format!("/api/v1/packages/{package}/returns"),
        &shandong,
        &serde_json::json!({"returns": [{"record_id": record, "reason": "not_our_jurisdiction"}]}),
    );
    let returned = scrape(&app);
    assert_eq!(returned["gradhub_records_unassigned"], 1);
    assert_eq!(
        returned["gradhub_packages_overdue"], 1,
        "still not acknowledged"
    );

    // 山东 has a contact: the worker's pass writes its reminder to the outbox, with no SMTP
    // server configured, so it waits there.
    expect_exit(
        &gradhub_command(db)
            .args(["orgs", "add-contact", "370000", "--name", "王科长"])
            .args(["--email", "wang@sd.example.cn"])
            .output()
            .expect("add contact"),
        0,
    );
    let today = gradhub::ingest::china_today();
    let quiet = Hub::with_db(test_config(db), db.db.clone()).expect("hub");
    let report = quiet
        .worker()
        .expect("worker")
        .pass(today, SystemTime::now());
    assert_eq!(report.reminded, 1, "{report:?}");
    let queued = scrape(&app);
    assert_eq!(queued["gradhub_outbox_messages{state=\"pending\"}"], 1);
    assert_eq!(queued["gradhub_outbox_messages{state=\"failed\"}"], 0);

    // With an SMTP server that is not there, sending fails: the message waits for its retry.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut config = test_config(db);
    config.mail.smtp_host = "127.0.0.1".into();
    config.mail.smtp_port = port;
    config.mail.smtp_timeout_secs = 2;
    let failing = Hub::with_db(config, db.db.clone()).expect("hub");
    let report = failing
        .worker()
        .expect("worker")
        .pass(today, SystemTime::now());
    assert_eq!(report.mails_failed, 1, "{report:?}");
    let failed = scrape(&app);
    assert_eq!(failed["gradhub_outbox_messages{state=\"pending\"}"], 0);
    assert_eq!(failed["gradhub_outbox_messages{state=\"retrying\"}"], 1);
    assert_eq!(failed["gradhub_outbox_messages{state=\"failed\"}"], 0);
    // Still overdue: a reminder does not acknowledge anything.
    assert_eq!(failed["gradhub_packages_overdue"], 1);
}

fn status_and_body(app: &TestApp, path: &str) -> (u16, Value) {
    app.get(path, "")
}

fn readiness_turns_503_when_migrations_are_behind(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    assert_eq!(status_and_body(&app, "/health/ready").0, 200);
    let (status, health) = status_and_body(&app, "/health");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    // As if this binary were newer than the database: its last migration is not applied.
    {
        let mut conn = db.db.conn().expect("conn");
        diesel::RunQueryDsl::execute(
            diesel::sql_query(
                "DELETE FROM __diesel_schema_migrations WHERE version = \
                 (SELECT MAX(version) FROM __diesel_schema_migrations)",
            ),
            &mut conn,
        )
        .expect("forget the last migration");
    }
    for path in ["/health/ready", "/health"] {
        let (status, reason) = status_and_body(&app, path);
        assert_eq!(status, 503, "{path}: {reason}");
        assert_eq!(reason["code"], "MIGRATIONS_PENDING", "{path}: {reason}");
        assert!(reason["message"].as_str().unwrap_or("").contains("数据库"));
        assert!(reason["message_en"]
            .as_str()
            .unwrap_or("")
            .contains("migrate"));
    }
    let (status, live) = status_and_body(&app, "/health/live");
    assert_eq!((status, live["status"].as_str()), (200, Some("live")));
}

/// PostgreSQL only: the database is dropped under a running hub (SQLite keeps an open file
/// readable whatever happens to its name, and the tests run as root).
#[test]
fn readiness_turns_503_when_the_postgres_database_goes_away() {
    let Some(db) = TestDb::new(gradhub::db::Backend::Postgres) else {
        return;
    };
    let app = spawn_app(&db, test_config(&db));
    assert_eq!(status_and_body(&app, "/health/ready").0, 200);
    assert_eq!(status_and_body(&app, "/health/live").0, 200);

    let name = db
        .url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_string();
    let mut admin =
        <diesel::PgConnection as diesel::Connection>::establish(&common::postgres_admin_url())
            .expect("admin connection");
    diesel::connection::SimpleConnection::batch_execute(
        &mut admin,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .expect("drop the database");

    let asked = Instant::now();
    let (status, reason) = status_and_body(&app, "/health/ready");
    assert_eq!(status, 503, "{reason}");
    assert_eq!(reason["code"], "DATABASE_UNAVAILABLE", "{reason}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "answered before a probe gives up: {:?}",
        asked.elapsed()
    );
    assert_eq!(status_and_body(&app, "/health").0, 503);
    let (status, live) = status_and_body(&app, "/health/live");
    assert_eq!((status, live["status"].as_str()), (200, Some("live")));
}

fn the_application_runs_its_own_worker(db: &TestDb) {
    // The worker is started by `Application`, as in `gradhub serve`: an uploaded batch reaches
    // 山东's inbox without the test running a pass.
    let config = gradhub::config::Config {
        jobs_interval_secs: 1,
        ..test_config(db)
    };
    let app = spawn_app(db, config);
    add_sender(db, "edu-ops", "000000");
    let sender = token(db, "edu-ops", None);
    let (status, _) = app.upload("file_name=ops.csv", &sender, transfer_file().into_bytes());
    assert_eq!(status, 201);
    let shandong = token(db, "370000", None);
    let started = Instant::now();
    loop {
        let inbox = app.ok("/api/v1/inbox", &shandong);
        if inbox["packages"].as_array().is_some_and(|p| !p.is_empty()) {
            assert_eq!(inbox["packages"][0]["records"], 2);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no package from the worker: {inbox}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
