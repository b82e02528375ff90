//! Two `gradhub serve` processes on one PostgreSQL sharing a drop folder, one of them killed
//! mid-work: every file ingested exactly once, every record delivered once, every reminder
//! mailed once. PostgreSQL only: SQLite runs a single node by design.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text};
use common::smtp::SmtpSink;
use common::{count, demo_file, demo_options, gradhub_command, TestDb};
use gradhub::config::Config;
use gradhub::db::Backend;
use gradhub::distribution::{AutoCut, Distribution};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn start_node(db: &TestDb, name: &str, drop: &Path, smtp_port: u16) -> Child {
    gradhub_command(db)
        .arg("serve")
        .env("GRADHUB_BIND", "127.0.0.1:0")
        .env("GRADHUB_DROP_DIR", drop)
        .env("GRADHUB_DROP_SETTLE_SECS", "1")
        .env("GRADHUB_JOBS_INTERVAL_SECS", "1")
        .env("GRADHUB_NODE_NAME", name)
        .env("GRADHUB_SMTP_HOST", "127.0.0.1")
        .env("GRADHUB_SMTP_PORT", smtp_port.to_string())
        .env("GRADHUB_MAIL_RETRY_SECS", "1")
        .env("GRADHUB_UPLOAD_DIR", db.path(&format!("uploads-{name}")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gradhub serve")
}

/// Data files (not summaries, reject reports, or the hidden temporary file of a summary that a
/// killed node was writing — the drop folder ignores hidden names) in a folder.
fn data_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| {
                    !n.starts_with('.')
                        && !n.ends_with(".summary.json")
                        && !n.ends_with(".rejects.csv")
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn two_nodes_share_the_drop_folder_and_the_outbox(db: &TestDb) {
    add_sender(db, "edu-370000", "000000");
    {
        let mut conn = db.db.conn().expect("conn");
        for (org, email) in [
            ("370000", "sd@example.org"),
            ("110000", "bj@example.org"),
            ("000000", "mohrss@example.org"),
        ] {
            let row = gradhub::db::orgs::find_by_code(&mut conn, org)
                .expect("query")
                .expect("org");
            gradhub::db::orgs::add_contact(&mut conn, row.id, "联系人", email, None)
                .expect("contact");
        }
        // Packages delivered on 1 September and never acknowledged: overdue, and past the
        // second deadline, when the nodes start.
        ingest_text(
            db,
            "edu-370000",
            &format!(
                "{}\n{}\n{}\n",
                common::HEADER,
                common::line(
                    "张三",
                    &common::id18("370102", "20020315", 123),
                    "370102",
                    ""
                ),
                common::line(
                    "王五",
                    &common::id18("110101", "20000101", 789),
                    "110101",
                    ""
                ),
            ),
        );
        let dist = Distribution::new(db.db.clone(), &Config::default()).expect("dist");
        dist.place_new().expect("place");
        let made = dist
            .cut_auto(AutoCut::Ministry, "2026-09-01".parse().expect("date"))
            .expect("cut");
        assert_eq!(made.len(), 2);
    }
    let sink = SmtpSink::start();
    let drop = db.path("drop");
    let inbox = drop.join("edu-370000");
    std::fs::create_dir_all(&inbox).expect("drop folder");
    let mut a = start_node(db, "node-a", &drop, sink.port());
    let mut b = start_node(db, "node-b", &drop, sink.port());

    // Eight files, big enough that ingesting one takes a moment; one arrives slowly, in two
    // writes, as a copy over a network share would.
    let files = 8;
    for i in 0..files {
        let source = demo_file(
            db,
            &format!("f{i}.csv"),
            &demo_options(20_000, 100 + i, 0.02),
        );
        let target = inbox.join(format!("2026届-{i}.csv"));
        if i == 3 {
            let bytes = std::fs::read(&source).expect("read");
            let half = bytes.len() / 2;
            std::fs::write(&target, &bytes[..half]).expect("first half");
            std::thread::sleep(Duration::from_millis(600));
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&target)
                .expect("open");
            std::io::Write::write_all(&mut f, &bytes[half..]).expect("second half");
        } else {
            std::fs::rename(&source, &target).expect("drop");
        }
    }

    // Kill node A as soon as work is under way (SIGKILL: no goodbye).
    let processed = inbox.join("processed");
    let started = Instant::now();
    while data_files(&processed).is_empty() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    a.kill().expect("kill node a");
    let _ = a.wait();

    while data_files(&processed).len() < files as usize
        && started.elapsed() < Duration::from_secs(180)
    {
        std::thread::sleep(Duration::from_millis(250));
    }
    let mails = sink.wait_for(4, Duration::from_secs(30));
    // The last file's records are placed in the pass after its ingest: wait for that (a loaded
    // machine may take a while), then a few more passes, to see that nothing is done twice late.
    let placing = Instant::now();
    while count(db, "placements") < count(db, "records")
        && placing.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(4));
    let _ = b.kill();
    let _ = b.wait();

    let done = data_files(&processed);
    assert_eq!(
        done.len(),
        files as usize,
        "every file filed as processed: {done:?}"
    );
    assert!(data_files(&inbox.join("failed")).is_empty(), "none failed");
    assert!(
        data_files(&inbox)
            .iter()
            .all(|n| n == "processed" || n == "failed"),
        "nothing left behind: {:?}",
        data_files(&inbox)
    );
    for i in 0..files {
        let n = done
            .iter()
            .filter(|f| f.ends_with(&format!("2026届-{i}.csv")))
            .count();
        assert_eq!(n, 1, "file {i} filed once: {done:?}");
    }
    assert_eq!(count(db, "batches"), 1 + files as i64, "one batch per file");
    assert_eq!(
        count(db, "batches WHERE source = 'edu-370000'"),
        1 + files as i64
    );
    let records = count(db, "records");
    assert_eq!(count(db, "placements"), records, "every record placed once");
    assert_eq!(
        count(
            db,
            "(SELECT record_id FROM record_hops WHERE kind = 'delivered' \
             GROUP BY record_id HAVING COUNT(*) > 1) twice"
        ),
        0,
        "no record delivered twice"
    );
    assert_eq!(
        count(db, "(SELECT receiver_org_id FROM packages GROUP BY receiver_org_id, receiver_seq HAVING COUNT(*) > 1) d"),
        0
    );

    // Two reminders (山东, 北京) and two notices to the ministry, each once.
    let mails_now = sink.received();
    assert_eq!(
        mails.len(),
        4,
        "{:?}",
        mails.iter().map(|m| m.to.clone()).collect::<Vec<_>>()
    );
    assert_eq!(mails_now.len(), 4, "nothing sent twice later");
    let mut keys: Vec<(Vec<String>, String)> = mails_now
        .iter()
        .map(|m| (m.to.clone(), m.subject_decoded()))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 4, "four different mails");
    assert_eq!(count(db, "outbox WHERE sent_at IS NULL"), 0);
    sink.stop();
}

mod postgres {
    use super::*;

    #[test]
    fn two_serve_processes_share_the_drop_folder_and_the_outbox() {
        if let Some(db) = TestDb::new(Backend::Postgres) {
            two_nodes_share_the_drop_folder_and_the_outbox(&db);
        }
    }
}
