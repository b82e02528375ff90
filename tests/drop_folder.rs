//! The drop folder as a bureau, or someone with write access to a bureau's folder, meets it, on
//! both backends: links, pipes and folders are never read and never block the worker, names a
//! Windows share wrote in GBK are taken, control characters in names cannot forge log lines, and a
//! node killed while filing a file away never leaves a filed file without its summary.

#[macro_use]
mod common;

use common::app::{add_sender, spawn_app, test_config, TestApp};
use common::{id18, line, TestDb, HEADER};
use gradhub::distribution::AutoCut;
use gradhub::jobs::drop_folder::DropFolder;
use gradhub::jobs::{PassReport, Worker};
use serde_json::Value;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, SystemTime};

const SENDER: &str = "edu-370000";
/// Long enough for a debug build on a busy machine; a worker blocked on a FIFO never ends.
const PASS_LIMIT: Duration = Duration::from_secs(60);

fn today() -> chrono::NaiveDate {
    "2026-11-23".parse().expect("date")
}

fn worker(app: &TestApp, db: &TestDb, drop: &Path) -> Worker {
    Worker {
        dist: app.dist.clone(),
        unemployment: app.unemployment.clone(),
        router: Arc::new(db.router()),
        mailer: None,
        retry_secs: 1,
        auto_cut: AutoCut::None,
        drop: Some(DropFolder::open(drop, Duration::ZERO).expect("drop folder")),
        node: "test-node".into(),
    }
}

/// A transfer file of `count` graduates of 济南历下区, numbered from `first`.
fn graduates(first: u32, count: u32) -> String {
    let mut text = format!("{HEADER}\n");
    for seq in first..first + count {
        text.push_str(&line(
            &format!("学生{seq}"),
            &id18("370102", "20020315", seq),
            "370102",
            "",
        ));
        text.push('\n');
    }
    text
}

/// Runs `work` on its own thread and fails the test if it does not end in time: a worker that
/// opened a FIFO for reading would wait forever.
fn within<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(PASS_LIMIT)
        .unwrap_or_else(|_| panic!("the worker was blocked: not done within {PASS_LIMIT:?}"))
}

fn pass_within(mut worker: Worker) -> (Worker, PassReport) {
    within(move || {
        let report = worker.pass(today(), SystemTime::now());
        (worker, report)
    })
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn records(db: &TestDb) -> i64 {
    let mut conn = db.db.conn().expect("conn");
    gradhub::db::records::count(&mut conn).expect("count")
}

fn batch_names(db: &TestDb) -> Vec<String> {
    let mut conn = db.db.conn().expect("conn");
    let mut names: Vec<String> = gradhub::db::batches::list(&mut conn, 100)
        .expect("batches")
        .into_iter()
        .map(|b| b.file_name)
        .collect();
    names.sort();
    names
}

/// The entry of `dir` whose (raw) name ends with `suffix`.
fn entry_ending(dir: &Path, suffix: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.as_os_str().as_bytes().ends_with(suffix.as_bytes()))
}

fn summary_of(data_file: &Path) -> Value {
    let mut name = data_file.as_os_str().to_owned();
    name.push(".summary.json");
    let text = std::fs::read_to_string(&name)
        .unwrap_or_else(|e| panic!("summary of {}: {e}", data_file.display()));
    serde_json::from_str(&text).expect("summary json")
}

/// Asserts that `name` was moved to failed/ as itself (still a link or a pipe, never read) with a
/// summary saying why in Chinese and English.
fn set_aside(sender_dir: &Path, name: &str, is_kind: fn(&std::fs::FileType) -> bool, zh: &str) {
    let moved = entry_ending(&sender_dir.join("failed"), &format!("-{name}"))
        .unwrap_or_else(|| panic!("{name} moved to failed/"));
    let file_type = std::fs::symlink_metadata(&moved).expect("meta").file_type();
    assert!(is_kind(&file_type), "{name} moved as itself: {file_type:?}");
    let summary = summary_of(&moved);
    assert_eq!(
        summary["refused"]["code"], "NOT_A_REGULAR_FILE",
        "{summary}"
    );
    assert_eq!(summary["file_name"], name);
    let message = summary["refused"]["message"].as_str().unwrap_or("");
    let message_en = summary["refused"]["message_en"].as_str().unwrap_or("");
    assert!(message.contains(zh), "{summary}");
    assert!(
        message_en.contains("not") || message_en.contains("never"),
        "{summary}"
    );
    assert!(!sender_dir.join(name).exists(), "{name} no longer pending");
}

/// The bytes of "2026届毕业生.csv" in GBK, as a Windows share that is not told otherwise writes it.
fn gbk_name() -> &'static OsStr {
    const GBK: &[u8] = b"2026\xbd\xec\xb1\xcf\xd2\xb5\xc9\xfa.csv";
    OsStr::from_bytes(GBK)
}

/// A link swapped in between the two looks, a FIFO, a folder and a GBK-named file in one folder:
/// the link's target (outside the folder) is not read, the pipe does not block the pass, both are
/// moved aside with the reason, the folder is left alone, and the ordinary and GBK files are
/// ingested in the same pass.
fn links_pipes_and_folders_are_set_aside_and_gbk_names_taken(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, SENDER, "370000");
    let drop = db.path("drop");
    let sender_dir = drop.join(SENDER);
    std::fs::create_dir_all(&sender_dir).expect("folder");
    let outside = db.path("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    let secret = outside.join("secret.csv");
    std::fs::write(&secret, graduates(100, 4)).expect("secret");

    std::fs::write(sender_dir.join("good.csv"), graduates(1, 1)).expect("good");
    std::fs::write(sender_dir.join(gbk_name()), graduates(2, 2)).expect("gbk");
    std::fs::write(sender_dir.join("swap.csv"), graduates(10, 1)).expect("swap");
    mkfifo(&sender_dir.join("pipe.csv"));
    std::fs::create_dir(sender_dir.join("sub")).expect("sub");
    std::fs::write(sender_dir.join("sub").join("inner.csv"), graduates(20, 8)).expect("inner");

    let worker = worker(&app, db, &drop);
    let (worker, first) = pass_within(worker);
    assert_eq!(first.files_ingested, 0, "not taken at first sight");
    // Between the two looks the pending file becomes a link to a file outside the folder.
    std::fs::remove_file(sender_dir.join("swap.csv")).expect("remove");
    symlink(&secret, sender_dir.join("swap.csv")).expect("symlink");
    let (worker, second) = pass_within(worker);
    assert_eq!(second.files_ingested, 2, "{second:?}");

    assert_eq!(records(db), 3, "good.csv and the GBK file only");
    assert_eq!(batch_names(db), ["2026届毕业生.csv", "good.csv"]);
    let gbk = entry_ending(&sender_dir.join("processed"), "-2026届毕业生.csv")
        .expect("the GBK file filed under its decoded name");
    assert_eq!(summary_of(&gbk)["accepted"], 2);
    assert!(!sender_dir.join(gbk_name()).exists(), "taken");

    set_aside(
        &sender_dir,
        "swap.csv",
        std::fs::FileType::is_symlink,
        "符号链接",
    );
    set_aside(&sender_dir, "pipe.csv", FileTypeExt::is_fifo, "命名管道");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        graduates(100, 4),
        "the link's target is untouched"
    );
    assert!(sender_dir.join("sub").join("inner.csv").exists());

    // Later looks find nothing new: the folder stays where it is, nothing is taken twice.
    let (_, third) = pass_within(worker);
    assert_eq!((third.files_ingested, third.files_failed), (0, 0));
    assert_eq!(records(db), 3);
}

/// The worst moment: the names are swapped after the last look, just before the file is opened.
/// The link is not followed, the FIFO is not waited on, a folder is not read, and the ordinary
/// file in the same batch of work is still ingested.
fn files_swapped_after_the_last_look_are_not_read(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, SENDER, "370000");
    let drop = db.path("drop");
    let sender_dir = drop.join(SENDER);
    std::fs::create_dir_all(&sender_dir).expect("folder");
    let secret = db.path("secret.csv");
    std::fs::write(&secret, graduates(100, 4)).expect("secret");
    for (name, first) in [
        ("a.csv", 1),
        ("link.csv", 10),
        ("pipe.csv", 20),
        ("dir.csv", 30),
    ] {
        std::fs::write(sender_dir.join(name), graduates(first, 1)).expect("file");
    }

    let mut worker = worker(&app, db, &drop);
    let folder = worker.drop.as_mut().expect("folder");
    folder.scan(SystemTime::now()).expect("first look");
    let files = folder.scan(SystemTime::now()).expect("second look");
    assert_eq!(files.len(), 4, "all four complete");

    std::fs::remove_file(sender_dir.join("link.csv")).expect("remove");
    symlink(&secret, sender_dir.join("link.csv")).expect("symlink");
    std::fs::remove_file(sender_dir.join("pipe.csv")).expect("remove");
    mkfifo(&sender_dir.join("pipe.csv"));
    std::fs::remove_file(sender_dir.join("dir.csv")).expect("remove");
    std::fs::create_dir(sender_dir.join("dir.csv")).expect("dir");

    let (_worker, report) = within(move || {
        let mut report = PassReport::default();
        worker.take_files(files, &mut report).expect("take");
        (worker, report)
    });
    assert_eq!((report.files_ingested, report.files_failed), (1, 3));
    assert_eq!(records(db), 1, "only a.csv; not the link's target");
    assert_eq!(batch_names(db), ["a.csv"]);
    set_aside(
        &sender_dir,
        "link.csv",
        std::fs::FileType::is_symlink,
        "符号链接",
    );
    set_aside(&sender_dir, "pipe.csv", FileTypeExt::is_fifo, "命名管道");
    assert!(
        sender_dir.join("dir.csv").is_dir(),
        "a folder is left alone"
    );
    assert_eq!(
        std::fs::read_to_string(&secret).expect("secret"),
        graduates(100, 4)
    );
}

/// A file name carrying a newline, a forged log line and a terminal escape, run through the real
/// `gradhub jobs run`: the log shows it escaped on the operator's lines (taken, ingest started
/// with size and SHA-256), and the summary keeps the real name.
fn control_characters_in_names_do_not_forge_log_lines(db: &TestDb) {
    add_sender(db, SENDER, "370000");
    let drop = db.path("drop");
    let sender_dir = drop.join(SENDER);
    std::fs::create_dir_all(&sender_dir).expect("folder");
    let name = "名单\n1999-01-01T00:00:00.000000Z  INFO gradhub: all clear\u{1b}[2K.csv";
    let content = graduates(1, 2);
    std::fs::write(sender_dir.join(name), &content).expect("drop");

    let out = common::gradhub_command(db)
        .args(["jobs", "run", "--today", "2026-11-23"])
        .env("GRADHUB_DROP_DIR", &drop)
        .env("GRADHUB_DROP_SETTLE_SECS", "0")
        .env("GRADHUB_LOG", "info")
        .env("GRADHUB_LOG_FORMAT", "human")
        // Colours off, so that any ESC in the log can only have come from the name.
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    let report: Value = serde_json::from_str(&common::expect_exit(&out, 0)).expect("report");
    assert_eq!(report["files_ingested"], 1, "{report}");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(!log.contains('\u{1b}'), "no raw escape in the log:\n{log}");
    assert!(
        !log.lines().any(|l| l.starts_with("1999-01-01")),
        "no forged line:\n{log}"
    );
    let escaped = r"名单\n1999-01-01T00:00:00.000000Z  INFO gradhub: all clear\u{1b}[2K.csv";
    let taken = log
        .lines()
        .find(|l| l.contains("dropped file taken"))
        .unwrap_or_else(|| panic!("a line for the taken file:\n{log}"));
    assert!(taken.contains(escaped), "{taken}");
    assert!(taken.contains(&format!("sender={SENDER}")), "{taken}");
    assert!(
        taken.contains(&format!("size={}", content.len())),
        "{taken}"
    );
    let started = log
        .lines()
        .find(|l| l.contains("ingest of dropped file starts"))
        .unwrap_or_else(|| panic!("a line for the ingest:\n{log}"));
    let sha256 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(content.as_bytes()))
    };
    assert!(
        started.contains(&format!("sha256={}", &sha256[..12])),
        "{started}"
    );
    assert!(started.contains(escaped), "{started}");
    // Not its `.rejects.csv`, which ends in `.csv` too.
    let filed = entry_ending(&sender_dir.join("processed"), "\u{1b}[2K.csv").expect("filed");
    let summary = summary_of(&filed);
    assert_eq!(
        summary["file_name"], name,
        "the summary keeps the real name"
    );
    assert_eq!(summary["sha256"], sha256.as_str());
}

/// A data file in processed/ or failed/ without its summary beside it.
fn filed_without_summary(sender_dir: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    for sub in ["processed", "failed"] {
        let Ok(entries) = std::fs::read_dir(sender_dir.join(sub)) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().to_string();
            let sidecar = name.ends_with(".summary.json") || name.ends_with(".rejects.csv");
            if !sidecar && !name.starts_with('.') {
                let mut summary = entry.path().into_os_string();
                summary.push(".summary.json");
                if !Path::new(&summary).exists() {
                    missing.push(entry.path());
                }
            }
        }
    }
    missing
}

/// A summary in processed/ or failed/ without its data file beside it.
fn summaries_without_file(sender_dir: &Path) -> Vec<PathBuf> {
    let mut orphans = Vec::new();
    for sub in ["processed", "failed"] {
        let Ok(entries) = std::fs::read_dir(sender_dir.join(sub)) else {
            continue;
        };
        for entry in entries.filter_map(|e| e.ok()) {
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(data) = name.strip_suffix(".summary.json") {
                if !sender_dir.join(sub).join(data).exists() {
                    orphans.push(entry.path());
                }
            }
        }
    }
    orphans
}

/// `gradhub jobs run` killed (SIGKILL) the moment anything lands in processed/: a file there has
/// its summary already, and a second run takes what is still pending, storing nothing twice and
/// replacing a summary the killed node left for it.
fn a_node_killed_while_filing_leaves_no_file_without_its_summary(db: &TestDb) {
    add_sender(db, SENDER, "370000");
    let drop = db.path("drop");
    let sender_dir = drop.join(SENDER);
    std::fs::create_dir_all(sender_dir.join("processed")).expect("folder");
    std::fs::write(sender_dir.join("2026届.csv"), graduates(1, 3)).expect("drop");
    let run = || {
        let mut command = common::gradhub_command(db);
        command
            .args(["jobs", "run", "--today", "2026-11-23"])
            .env("GRADHUB_DROP_DIR", &drop)
            .env("GRADHUB_DROP_SETTLE_SECS", "0")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };
    let mut child = run().spawn().expect("spawn");
    let deadline = std::time::Instant::now() + PASS_LIMIT;
    let mut killed = false;
    while std::time::Instant::now() < deadline {
        let landed = std::fs::read_dir(sender_dir.join("processed"))
            .expect("list")
            .filter_map(|e| e.ok())
            .any(|e| !e.file_name().to_string_lossy().starts_with('.'));
        if landed {
            child.kill().expect("kill");
            killed = true;
            break;
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::yield_now();
    }
    let _ = child.wait();
    assert!(killed, "something landed in processed/ while the node ran");
    assert_eq!(
        filed_without_summary(&sender_dir),
        Vec::<PathBuf>::new(),
        "a killed node leaves no filed file without its summary"
    );

    // What is still pending is taken by the next run; the content answers as its first batch.
    let status = run().status().expect("second run");
    assert!(status.success());
    assert!(
        !sender_dir.join("2026届.csv").exists(),
        "nothing left pending"
    );
    assert_eq!(filed_without_summary(&sender_dir), Vec::<PathBuf>::new());
    assert_eq!(
        summaries_without_file(&sender_dir),
        Vec::<PathBuf>::new(),
        "a summary left by the killed node is replaced by the new one"
    );
    assert_eq!(records(db), 3, "stored once");
    assert_eq!(batch_names(db), ["2026届.csv"]);
}

on_both_backends!(
    links_pipes_and_folders_are_set_aside_and_gbk_names_taken,
    files_swapped_after_the_last_look_are_not_read,
    control_characters_in_names_do_not_forge_log_lines,
    a_node_killed_while_filing_leaves_no_file_without_its_summary,
);
