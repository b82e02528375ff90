//! The working-day calendar as data, on both backends: seeded from the fixture, imported with
//! `gradhub calendar import` (a bad line refuses the whole file), a deadline over a year not
//! covered counted on weekends only and shown as provisional (暂定) in the API, the command line
//! and the reminder mail, and the operator warned from 1 November until next year is loaded.
//!
//! The 2027 rows below are made up for the tests (marked 虚构); the real schedule is not shipped.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token, TestApp};
use common::smtp::SmtpSink;
use common::{expect_exit, gradhub_command, id18, line, write_file, TestDb, HEADER};
use gradhub::distribution::{AutoCut, Distribution};
use gradhub::jobs::Worker;
use gradhub::notify::{MailConfig, Mailer};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

/// `gradhub calendar show --json` as of `today`.
fn show(db: &TestDb, today: &str) -> Value {
    let out = gradhub_command(db)
        .args(["calendar", "show", "--json", "--today", today])
        .output()
        .expect("run gradhub");
    serde_json::from_str(&expect_exit(&out, 0)).expect("JSON")
}

fn year(shown: &Value, y: i64) -> Option<&Value> {
    shown["years"]
        .as_array()
        .and_then(|years| years.iter().find(|v| v["year"] == y))
}

fn import(db: &TestDb, name: &str, text: &str) -> std::process::Output {
    let file = write_file(db, name, text.as_bytes());
    gradhub_command(db)
        .args(["calendar", "import"])
        .arg(&file)
        .output()
        .expect("run gradhub")
}

fn imports_recorded(db: &TestDb) -> usize {
    let mut conn = db.db.conn().expect("conn");
    gradhub::db::audit::list(
        &mut conn,
        &gradhub::authz::Scope::All,
        Some("calendar"),
        100,
    )
    .expect("audit")
    .iter()
    .filter(|e| e.action == "calendar.imported")
    .count()
}

/// A made-up 2027 (one day off) for the tests.
const FICTIONAL_2027: &str = "2027-01-01,holiday,虚构（测试）\n";

fn a_calendar_file_is_imported_whole_or_not_at_all(db: &TestDb) {
    let seeded = show(db, "2026-06-01");
    let seeded_years: Vec<i64> = seeded["years"]
        .as_array()
        .expect("years")
        .iter()
        .filter_map(|y| y["year"].as_i64())
        .collect();
    assert_eq!(seeded_years, (2020..=2026).collect::<Vec<_>>(), "seeded");
    assert_eq!(year(&seeded, 2026).expect("2026")["rows"], 39);

    // Bad files, each with good lines before the bad one: refused, naming the line, nothing stored.
    for (text, line_no, what) in [
        (
            format!("date,kind,festival\n{FICTIONAL_2027}2027-02-30,holiday,虚构\n"),
            3,
            "YYYY-MM-DD",
        ),
        (
            format!(
                "date,kind,festival\n{FICTIONAL_2027}2027-01-02,holiday\n2027-01-08,workday,虚构\n"
            ),
            4,
            "Saturdays and Sundays",
        ),
        (
            format!("date,kind,festival\n{FICTIONAL_2027}2027-01-02,vacation,虚构\n"),
            3,
            "holiday or workday",
        ),
        (
            format!("{FICTIONAL_2027}2026-10-01,holiday,国庆节\n2027-01-01,holiday,虚构\n"),
            3,
            "listed twice",
        ),
    ] {
        let out = import(db, "bad.csv", &text);
        expect_exit(&out, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("未存储任何数据") && err.contains("nothing stored"),
            "{err}"
        );
        assert!(
            err.contains(&format!("第 {line_no} 行")) && err.contains(&format!("line {line_no}:")),
            "{err}"
        );
        assert!(err.contains(what), "{err}");
    }
    let out = gradhub_command(db)
        .args(["calendar", "import"])
        .arg(db.path("no-such-file.csv"))
        .output()
        .expect("run gradhub");
    expect_exit(&out, 2);
    // GBK bytes of 元旦: the file must be UTF-8.
    let gbk = write_file(db, "gbk.csv", b"2027-01-01,holiday,\xd4\xaa\xb5\xa9\n");
    let out = gradhub_command(db)
        .args(["calendar", "import"])
        .arg(&gbk)
        .output()
        .expect("run gradhub");
    expect_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("UTF-8"));
    let unchanged = show(db, "2026-06-01");
    assert_eq!(unchanged["years"], seeded["years"], "nothing stored");
    assert_eq!(imports_recorded(db), 0);

    // A good file: 2026 replaced by its rows (here National Day only), 2027 added; 2025 untouched.
    let out = import(
        db,
        "holidays-2026-2027.csv",
        &format!(
            "\u{FEFF}date,kind,festival\r\n2026-10-01,holiday,国庆节\r\n2026-10-02,holiday,国庆节\r\n\
             2026-10-10,workday,国庆节\r\n{FICTIONAL_2027}"
        ),
    );
    let stdout = expect_exit(&out, 0);
    assert!(
        stdout.contains("2026: 3 行") && stdout.contains("before: 39"),
        "{stdout}"
    );
    assert!(stdout.contains("2027: 1 行"), "{stdout}");
    let after = show(db, "2026-06-01");
    let y2026 = year(&after, 2026).expect("2026");
    assert_eq!(
        (&y2026["rows"], &y2026["source"]),
        (&Value::from(3), &Value::from("holidays-2026-2027.csv"))
    );
    assert_eq!(year(&after, 2027).expect("2027")["rows"], 1);
    assert_eq!(
        year(&after, 2025),
        year(&seeded, 2025),
        "other years untouched"
    );
    assert_eq!(imports_recorded(db), 1, "audited");

    // What a hub starting now counts with: the stored rows, not the fixture.
    let dist = Distribution::new(db.db.clone(), &test_config(db)).expect("distribution");
    let calendar = dist.calendar();
    assert!(
        !calendar.is_working_day(date("2026-09-20")),
        "the fixture's 调休 Sunday is gone with the replaced 2026"
    );
    assert!(calendar.is_working_day(date("2026-10-10")));
    assert!(!calendar.is_working_day(date("2027-01-01")));
    assert!(calendar.covers(2027));
}

/// Graduates for 山东 and 北京, delivered by the hub on `day`.
fn deliver(app: &TestApp, db: &TestDb, seq: u32, day: &str) {
    add_sender(db, &format!("edu-{seq}"), "000000");
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", seq), "370102", ""),
        line("王五", &id18("110101", "20000101", seq), "110101", ""),
    );
    ingest_text(db, &format!("edu-{seq}"), &text);
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, date(day))
        .expect("cut");
}

fn a_deadline_in_a_year_not_covered_counts_weekends_only_and_is_provisional(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    {
        let mut conn = db.db.conn().expect("conn");
        let shandong = gradhub::db::orgs::find_by_code(&mut conn, "370000")
            .expect("query")
            .expect("org");
        gradhub::db::orgs::add_contact(
            &mut conn,
            shandong.id,
            "赵科长",
            "zhao@hrss.shandong.example",
            None,
        )
        .expect("contact");
    }
    let hub = token(db, "000000", None);
    deliver(&app, db, 101, "2026-09-29");
    let sent = app.ok("/api/v1/packages/sent", &hub);
    for p in sent.as_array().expect("packages") {
        assert_eq!(p["deadline"], "2026-10-12", "{p}");
        assert_eq!(p["deadline_provisional"], false, "2026 is covered: {p}");
    }

    // Monday 28 December 2026; 2027 is not loaded, so Friday 1 January counts as a working day:
    // 29, 30, 31 Dec, 1 Jan, Mon 4 Jan. Escalation (10): 5, 6, 7, 8, Mon 11 Jan.
    deliver(&app, db, 202, "2026-12-28");
    let sent = app.ok("/api/v1/packages/sent", &hub);
    let late: Vec<&Value> = sent
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["deadline"] != "2026-10-12")
        .collect();
    assert_eq!(late.len(), 2, "{sent}");
    for p in &late {
        assert_eq!(p["deadline"], "2027-01-04", "{p}");
        assert_eq!(p["escalation_deadline"], "2027-01-11", "{p}");
        assert_eq!(p["deadline_provisional"], true, "{p}");
    }
    let shandong_inbox = app.ok("/api/v1/inbox", &token(db, "370000", None));
    let provisional: Vec<&Value> = shandong_inbox["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["deadline_provisional"] == true)
        .collect();
    assert_eq!(provisional.len(), 1, "{shandong_inbox}");

    // The command line marks it too.
    let out = gradhub_command(db)
        .args(["packages", "inbox", "--org", "370000"])
        .output()
        .expect("run gradhub");
    let inbox = expect_exit(&out, 0);
    assert!(
        inbox
            .lines()
            .any(|l| l.contains("期限 2027-01-04（暂定 / provisional）")),
        "{inbox}"
    );
    assert!(
        inbox
            .lines()
            .any(|l| l.contains("期限 2026-10-12") && !l.contains("暂定")),
        "{inbox}"
    );

    // And the reminder mail, as the contact reads it (the October package is overdue as well).
    let sink = SmtpSink::start();
    let mail = MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: sink.port(),
        smtp_timeout_secs: 5,
        ..MailConfig::default()
    };
    let mut worker = Worker {
        dist: app.dist.clone(),
        unemployment: app.unemployment.clone(),
        router: Arc::new(db.router()),
        mailer: Mailer::new(&mail).expect("mailer"),
        retry_secs: 1,
        auto_cut: AutoCut::Ministry,
        drop: None,
        node: "test-node".into(),
    };
    let pass = worker.pass(date("2027-01-05"), SystemTime::now());
    assert_eq!(pass.mails_sent, 2, "{pass:?}");
    let mails = sink.wait_for(2, Duration::from_secs(5));
    let body_with = |deadline: &str| -> String {
        mails
            .iter()
            .map(|m| m.body_decoded())
            .find(|b| b.contains(deadline))
            .unwrap_or_else(|| panic!("no mail with {deadline}"))
    };
    let provisional_mail = body_with("签收期限为2027年1月4日");
    assert!(
        provisional_mail.contains("上述期限为暂定"),
        "{provisional_mail}"
    );
    assert!(
        provisional_mail.contains("2027-01-04 (provisional"),
        "{provisional_mail}"
    );
    let firm_mail = body_with("签收期限为2026年10月12日");
    assert!(!firm_mail.contains("暂定"), "{firm_mail}");
    assert!(!firm_mail.contains("provisional"), "{firm_mail}");
    sink.stop();

    // 2027 is loaded (made up: 1 January off). 北京's package, not reminded (no contact), gets
    // its real deadlines: 29, 30, 31 Dec, Mon 4, Tue 5 Jan; 山东's keeps the ones it was told.
    let out = import(db, "2027.csv", FICTIONAL_2027);
    let stdout = expect_exit(&out, 0);
    assert!(
        stdout.contains("recounted the provisional deadlines of 1 packages"),
        "{stdout}"
    );
    let sent = app.ok("/api/v1/packages/sent", &hub);
    let of = |receiver: &str| -> Value {
        sent.as_array()
            .expect("packages")
            .iter()
            .find(|p| p["receiver"]["code"] == receiver && p["deadline"] != "2026-10-12")
            .cloned()
            .unwrap_or_else(|| panic!("no December package for {receiver}: {sent}"))
    };
    let beijing = of("110000");
    assert_eq!(
        (
            &beijing["deadline"],
            &beijing["escalation_deadline"],
            &beijing["deadline_provisional"]
        ),
        (
            &Value::from("2027-01-05"),
            &Value::from("2027-01-12"),
            &Value::from(false)
        ),
        "{beijing}"
    );
    let shandong = of("370000");
    assert_eq!(
        (&shandong["deadline"], &shandong["deadline_provisional"]),
        (&Value::from("2027-01-04"), &Value::from(true)),
        "{shandong}"
    );
}

fn the_operator_is_warned_from_november_until_next_year_is_loaded(db: &TestDb) {
    let jobs_run = |today: &str| -> String {
        let out = gradhub_command(db)
            .args(["jobs", "run", "--today", today])
            .output()
            .expect("run gradhub");
        expect_exit(&out, 0);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The log of the worker's pass, which warns once a day.
    let october = jobs_run("2026-10-31");
    assert!(!october.contains("2027"), "{october}");
    let november = jobs_run("2026-11-01");
    assert!(
        november.contains("WARN")
            && november.contains("工作日历缺少 2027 年的节假日安排")
            && november.contains("no 2027 schedule"),
        "{november}"
    );

    // `calendar show`, and the function the metrics and the dashboard will call.
    assert!(show(db, "2026-10-31")["warning"].is_null());
    let shown = show(db, "2026-11-01");
    assert!(
        shown["warning"]
            .as_str()
            .is_some_and(|w| w.contains("2027") && w.contains("暂定")),
        "{shown}"
    );
    assert_eq!(shown["coverage"]["covered_until_year"], 2026);
    assert_eq!(shown["coverage"]["next_year_missing"], true);
    let dist = Distribution::new(db.db.clone(), &test_config(db)).expect("distribution");
    let before = dist.calendar_coverage(date("2026-12-01"));
    assert!(before.next_year_missing && !before.current_year_missing);
    assert!(!dist.calendar_coverage(date("2026-10-31")).next_year_missing);
    assert!(
        dist.calendar_coverage(date("2027-01-04"))
            .current_year_missing,
        "still missing once the year has begun"
    );
    assert!(dist.warn_calendar_coverage(date("2026-12-01")).is_some());
    assert!(
        dist.warn_calendar_coverage(date("2026-12-01")).is_none(),
        "once a day"
    );
    assert!(dist.warn_calendar_coverage(date("2026-12-02")).is_some());

    // Loaded: the warning stops.
    expect_exit(&import(db, "2027.csv", FICTIONAL_2027), 0);
    let loaded = jobs_run("2026-11-02");
    assert!(!loaded.contains("工作日历缺少"), "{loaded}");
    assert!(show(db, "2026-12-01")["warning"].is_null());
    let dist = Distribution::new(db.db.clone(), &test_config(db)).expect("distribution");
    let after = dist.calendar_coverage(date("2026-12-01"));
    assert_eq!(after.covered_until_year, Some(2027));
    assert!(!after.next_year_missing && !after.current_year_missing);
}

on_both_backends!(
    a_calendar_file_is_imported_whole_or_not_at_all,
    a_deadline_in_a_year_not_covered_counts_weekends_only_and_is_provisional,
    the_operator_is_warned_from_november_until_next_year_is_loaded,
);
