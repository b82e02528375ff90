//! Nothing lost, nothing doubled: an ingest killed with SIGKILL in the middle leaves no trace of
//! its batch, and sending the file again completes it exactly once.

#[macro_use]
mod common;

use common::TestDb;
use gradhub::db::{batches, records};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::gradhub_command as gradhub;

/// Bytes the process has read so far (from /proc), to kill it while it writes, not before.
fn bytes_read(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|io| {
            io.lines().find_map(|l| {
                l.strip_prefix("rchar: ")
                    .and_then(|v| v.trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

fn killed_ingest_leaves_no_trace_and_resend_completes_once(db: &TestDb) {
    let file = common::demo_file(db, "big.csv", &common::demo_options(120_000, 42, 0.03));
    let size = std::fs::metadata(&file).expect("size").len();
    let file_arg = file.to_str().expect("path");

    let mut child = gradhub(db)
        .args(["ingest", file_arg, "--source", "370000", "--json"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // The first pass (hash, encoding) reads the whole file; past 1.5 sizes it is storing rows.
    let deadline = Instant::now() + Duration::from_secs(120);
    while bytes_read(child.id()) < size + size / 2 {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "ingest finished before it could be killed; make the file larger"
        );
        assert!(Instant::now() < deadline, "ingest never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    common::nothing_stored(db);

    let resend = || -> serde_json::Value {
        let out = gradhub(db)
            .args(["ingest", file_arg, "--source", "370000", "--json"])
            .output()
            .expect("run");
        serde_json::from_str(&common::expect_exit(&out, 0)).expect("json")
    };
    let v = resend();
    let accepted = v["accepted"].as_i64().expect("accepted");
    assert!(accepted > 100_000);
    assert!(v["duplicate_of"].is_null());
    assert_eq!(
        resend()["duplicate_of"],
        v["batch_id"],
        "a third send changes nothing"
    );
    let mut conn = db.db.conn().expect("conn");
    assert_eq!(records::count(&mut conn).expect("count"), accepted);
    assert_eq!(batches::list(&mut conn, 10).expect("list").len(), 1);
}

on_both_backends!(killed_ingest_leaves_no_trace_and_resend_completes_once);
