//! Mail as an operator and a receiver meet it, on both backends, through a real SMTP server: a
//! contact the mailer cannot use is refused at `gradhub orgs add-contact`; one undeliverable
//! message among good ones does not hold them up and is not retried forever; the escalation says
//! truly whether a reminder could be sent; `gradhub outbox list` shows every state.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, TestApp};
use common::smtp::SmtpSink;
use common::{expect_exit, gradhub_command, id18, line, TestDb, HEADER};
use gradhub::db::outbox::{self, OutboxRow, State};
use gradhub::distribution::AutoCut;
use gradhub::jobs::Worker;
use gradhub::notify::{MailConfig, Mailer};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

/// A worker sending through `sink`, retrying after 1 s, run pass by pass by the test.
fn worker(app: &TestApp, db: &TestDb, sink: &SmtpSink) -> Worker {
    let mail = MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: sink.port(),
        smtp_timeout_secs: 5,
        ..MailConfig::default()
    };
    Worker {
        dist: app.dist.clone(),
        unemployment: app.unemployment.clone(),
        router: Arc::new(db.router()),
        mailer: Mailer::new(&mail).expect("mailer"),
        retry_secs: 1,
        auto_cut: AutoCut::Ministry,
        drop: None,
        node: "test-node".into(),
    }
}

/// Adds contacts in this order (their mails are queued, and taken, in this order). The storage
/// call, not the command: it stands for contacts stored before the command checked addresses.
fn add_contacts(db: &TestDb, org: &str, contacts: &[(&str, &str)]) {
    let mut conn = db.db.conn().expect("conn");
    let row = gradhub::db::orgs::find_by_code(&mut conn, org)
        .expect("query")
        .expect("org");
    for (name, email) in contacts {
        gradhub::db::orgs::add_contact(&mut conn, row.id, name, email, None).expect("contact");
    }
}

/// Graduates from these (hukou region, birth date, sequence), one per line, delivered by the hub
/// on `day`: one package per province.
fn deliver(app: &TestApp, db: &TestDb, day: &str, graduates: &[(&str, &str, u32)]) {
    add_sender(db, "edu-test", "000000");
    let mut text = format!("{HEADER}\n");
    for (region, birth, seq) in graduates {
        text.push_str(&line("张三", &id18(region, birth, *seq), region, ""));
        text.push('\n');
    }
    ingest_text(db, "edu-test", &text);
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, date(day))
        .expect("cut");
}

/// Two graduates for 山东 (济南) and one for 北京, delivered by the hub on `day`.
fn deliver_three(app: &TestApp, db: &TestDb, day: &str) {
    deliver(
        app,
        db,
        day,
        &[
            ("370102", "20020315", 123),
            ("370112", "20010610", 456),
            ("110101", "20000101", 789),
        ],
    );
}

fn outbox_rows(db: &TestDb) -> Vec<OutboxRow> {
    let mut conn = db.db.conn().expect("conn");
    let mut rows = outbox::list(&mut conn, None, 100).expect("outbox");
    rows.reverse();
    rows
}

fn row_to<'a>(rows: &'a [OutboxRow], to: &str) -> &'a OutboxRow {
    rows.iter()
        .find(|r| r.to_addr == to)
        .unwrap_or_else(|| panic!("no outbox row to {to}: {rows:?}"))
}

fn recipients(mails: &[common::smtp::ReceivedMail]) -> Vec<String> {
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

fn a_contact_the_mailer_cannot_use_is_refused_and_nothing_stored(db: &TestDb) {
    // Each of these passed the old check (lettre::Address::new on the parts around one `@`) and
    // then failed in the mailer on every try.
    for email in [
        "\"zhao qian\"@hrss.shandong.example",
        "zhao@[127.0.0.1]",
        "\"a,b\"@hrss.shandong.example",
        "zhao@hrss_shandong.example",
        "zhao@@hrss.shandong.example",
        "zhao@hrss.shandong.example, qian@hrss.shandong.example",
    ] {
        let out = gradhub_command(db)
            .args([
                "orgs",
                "add-contact",
                "370000",
                "--name",
                "赵科长",
                "--email",
                email,
            ])
            .output()
            .expect("run gradhub");
        expect_exit(&out, 2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("联系人未添加") && err.contains("contact not added"),
            "{email}: {err}"
        );
        assert!(
            err.contains("无效") && err.contains("not a usable e-mail address"),
            "{email}: {err}"
        );
    }
    let mut conn = db.db.conn().expect("conn");
    let shandong = gradhub::db::orgs::find_by_code(&mut conn, "370000")
        .expect("query")
        .expect("org");
    assert!(
        gradhub::db::orgs::contacts(&mut conn, shandong.id)
            .expect("contacts")
            .is_empty(),
        "nothing stored"
    );

    let out = gradhub_command(db)
        .args([
            "orgs",
            "add-contact",
            "370000",
            "--name",
            "赵科长",
            "--email",
            " zhao@hrss.shandong.example ",
        ])
        .output()
        .expect("run gradhub");
    expect_exit(&out, 0);
    let stored = gradhub::db::orgs::contacts(&mut conn, shandong.id).expect("contacts");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].email, "zhao@hrss.shandong.example", "trimmed");
}

fn one_bad_message_does_not_hold_up_the_others(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let sink = SmtpSink::start();
    sink.refuse(
        "gone@hrss.shandong.example",
        "550 5.1.1 <gone@hrss.shandong.example>: no such user",
    );
    sink.refuse(
        "busy@hrss.shandong.example",
        "450 4.2.1 mailbox busy, try later",
    );
    // The three that cannot go now come first: before the fix the first of them stopped the pass.
    add_contacts(
        db,
        "370000",
        &[
            ("旧联系人", "\"old contact\"@hrss.shandong.example"),
            ("已离职", "gone@hrss.shandong.example"),
            ("忙碌", "busy@hrss.shandong.example"),
            ("赵科长", "zhao@hrss.shandong.example"),
            ("钱干事", "qian@hrss.shandong.example"),
        ],
    );
    add_contacts(db, "110000", &[("周科长", "zhou@hrss.beijing.example")]);
    deliver_three(&app, db, "2026-09-29");
    let mut worker = worker(&app, db, &sink);

    let started = Instant::now();
    let pass = worker.pass(date("2026-10-13"), SystemTime::now());
    assert_eq!(pass.reminded, 2);
    assert_eq!(
        (pass.mails_sent, pass.mails_dead, pass.mails_failed),
        (3, 2, 1),
        "three good ones sent, two failed for good, one deferred: {pass:?}"
    );
    let mails = sink.wait_for(3, Duration::from_secs(5));
    assert_eq!(
        recipients(&mails),
        [
            "qian@hrss.shandong.example",
            "zhao@hrss.shandong.example",
            "zhou@hrss.beijing.example"
        ],
        "the good ones arrive in the same pass"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "at once");

    let rows = outbox_rows(db);
    let unparsable = row_to(&rows, "\"old contact\"@hrss.shandong.example");
    assert_eq!(unparsable.state(), State::Failed);
    assert!(
        unparsable
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("invalid e-mail address")),
        "{unparsable:?}"
    );
    let refused = row_to(&rows, "gone@hrss.shandong.example");
    assert_eq!(refused.state(), State::Failed);
    assert!(
        refused
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("550") && e.contains("no such user")),
        "{refused:?}"
    );
    let busy = row_to(&rows, "busy@hrss.shandong.example");
    assert_eq!(busy.state(), State::Pending);
    assert_eq!(busy.attempts, 1);
    assert!(
        busy.last_error
            .as_deref()
            .is_some_and(|e| e.contains("450")),
        "{busy:?}"
    );

    // The deferred one backs off on its own and goes once the mailbox takes it; the failed
    // ones are never taken again.
    let again = worker.pass(date("2026-10-13"), SystemTime::now());
    assert_eq!((again.mails_sent, again.mails_dead), (0, 0), "{again:?}");
    sink.accept("busy@hrss.shandong.example");
    let deadline = Instant::now() + Duration::from_secs(15);
    while sink.received().len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        let later = worker.pass(date("2026-10-14"), SystemTime::now());
        assert_eq!(later.mails_dead, 0, "{later:?}");
    }
    assert!(recipients(&sink.received()).contains(&"busy@hrss.shandong.example".to_string()));
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(400));
        worker.pass(date("2026-10-15"), SystemTime::now());
    }
    let rows = outbox_rows(db);
    for dead in [
        "\"old contact\"@hrss.shandong.example",
        "gone@hrss.shandong.example",
    ] {
        let row = row_to(&rows, dead);
        assert_eq!((row.state(), row.attempts), (State::Failed, 1), "{row:?}");
    }
    assert_eq!(sink.received().len(), 4, "nothing sent twice");
    sink.stop();
}

fn escalation_says_whether_a_reminder_could_be_sent(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let sink = SmtpSink::start();
    sink.refuse("gone@hrss.shanghai.example", "550 5.1.1 no such user");
    // 山东 has a contact, 北京 has none, 上海's only contact is refused by its server; the
    // ministry is the parent of all three.
    add_contacts(db, "370000", &[("赵科长", "zhao@hrss.shandong.example")]);
    add_contacts(db, "310000", &[("已离职", "gone@hrss.shanghai.example")]);
    add_contacts(db, "000000", &[("孙处长", "sun@mohrss.example")]);
    deliver(
        &app,
        db,
        "2026-09-29",
        &[
            ("370102", "20020315", 123),
            ("110101", "20000101", 789),
            ("310101", "20010203", 456),
        ],
    );
    let mut worker = worker(&app, db, &sink);
    // After the first deadline (2026-10-12): 山东's reminder goes, 上海's is refused for good.
    let first = worker.pass(date("2026-10-13"), SystemTime::now());
    assert_eq!(
        (first.reminded, first.mails_sent, first.mails_dead),
        (2, 1, 1)
    );
    // After the second (2026-10-19): the escalations; 北京 is reminded never.
    let pass = worker.pass(date("2026-10-20"), SystemTime::now());
    assert_eq!((pass.reminded, pass.escalated, pass.mails_sent), (0, 3, 3));
    let mails = sink.wait_for(4, Duration::from_secs(5));
    let escalation_about = |receiver: &str| -> String {
        mails
            .iter()
            .find(|m| {
                m.to == ["sun@mohrss.example"]
                    && m.subject_decoded()
                        .contains(&format!("下级机构 {receiver} "))
            })
            .unwrap_or_else(|| panic!("no escalation about {receiver}"))
            .body_decoded()
    };

    let beijing = escalation_about("北京市");
    assert!(
        beijing.contains("该单位未登记联系人，未能发送催办提醒"),
        "{beijing}"
    );
    assert!(
        beijing.contains("no reminder could be sent: the organisation has no contact"),
        "{beijing}"
    );
    assert!(!beijing.contains("已收到催办邮件"), "{beijing}");
    assert!(!beijing.contains("发送催办邮件"), "{beijing}");

    let shanghai = escalation_about("上海市");
    assert!(shanghai.contains("催办邮件未能送达"), "{shanghai}");
    assert!(shanghai.contains("could not be delivered"), "{shanghai}");
    assert!(!shanghai.contains("已向该机构的联系人发送"), "{shanghai}");

    let shandong = escalation_about("山东省");
    assert!(
        shandong.contains("已向该机构的联系人发送催办邮件"),
        "{shandong}"
    );
    assert!(
        shandong.contains("its contacts were sent a reminder"),
        "{shandong}"
    );
    assert!(!shandong.contains("未登记联系人"), "{shandong}");
    sink.stop();
}

fn outbox_list_shows_pending_sent_and_failed(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let sink = SmtpSink::start();
    sink.refuse("gone@hrss.shandong.example", "550 5.1.1 no such user");
    sink.refuse("busy@hrss.shandong.example", "450 4.2.1 mailbox busy");
    add_contacts(
        db,
        "370000",
        &[
            ("已离职", "gone@hrss.shandong.example"),
            ("忙碌", "busy@hrss.shandong.example"),
            ("赵科长", "zhao@hrss.shandong.example"),
        ],
    );
    deliver_three(&app, db, "2026-09-29");
    worker(&app, db, &sink).pass(date("2026-10-13"), SystemTime::now());
    sink.stop();

    let list = |args: &[&str]| -> Vec<Value> {
        let out = gradhub_command(db)
            .args(["outbox", "list", "--json"])
            .args(args)
            .output()
            .expect("run gradhub");
        let stdout = expect_exit(&out, 0);
        serde_json::from_str::<Vec<Value>>(&stdout).expect("JSON list")
    };
    let all = list(&[]);
    assert_eq!(all.len(), 3, "{all:?}");
    let by_state = |state: &str| -> Vec<Value> {
        let listed = list(&["--state", state]);
        assert!(listed.iter().all(|m| m["state"] == state), "{listed:?}");
        listed
    };
    let sent = by_state("sent");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["to"], "zhao@hrss.shandong.example");
    assert!(sent[0]["subject"]
        .as_str()
        .is_some_and(|s| s.contains("逾期未签收")));
    assert_eq!(sent[0]["attempts"], 1);
    assert!(sent[0]["next_attempt_at"].is_null());
    let failed = by_state("failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["to"], "gone@hrss.shandong.example");
    assert!(failed[0]["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("550")));
    let pending = by_state("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["to"], "busy@hrss.shandong.example");
    assert_eq!(pending[0]["attempts"], 1);
    assert!(pending[0]["next_attempt_at"].is_string(), "{pending:?}");
    assert!(pending[0]["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("450")));

    // The table an operator reads: one line per message with every column.
    let out = gradhub_command(db)
        .args(["outbox", "list", "--state", "failed"])
        .output()
        .expect("run gradhub");
    let table = expect_exit(&out, 0);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].contains("状态 state") && lines[0].contains("最后错误 last error"));
    let cells: Vec<&str> = lines[1].split('\t').collect();
    assert_eq!(cells.len(), 7, "{}", lines[1]);
    assert_eq!(
        (cells[1], cells[2], cells[4], cells[5]),
        ("failed", "gone@hrss.shandong.example", "1", "-")
    );
    assert!(cells[6].contains("550"), "{}", lines[1]);

    let out = gradhub_command(db)
        .args(["outbox", "list", "--state", "dead"])
        .output()
        .expect("run gradhub");
    expect_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("状态无效") && err.contains("invalid state"),
        "{err}"
    );

    // Listing staff addresses is on record.
    let mut conn = db.db.conn().expect("conn");
    let events =
        gradhub::db::audit::list(&mut conn, &gradhub::authz::Scope::All, Some("outbox"), 10)
            .expect("audit");
    assert!(events.iter().all(|e| e.action == "outbox.listed"));
    assert_eq!(events.len(), 5, "one event per listing that ran");
}

on_both_backends!(
    a_contact_the_mailer_cannot_use_is_refused_and_nothing_stored,
    one_bad_message_does_not_hold_up_the_others,
    escalation_says_whether_a_reminder_could_be_sent,
    outbox_list_shows_pending_sent_and_failed,
);
