//! Test harness: a fresh database per test on either backend (SQLite file in a temp dir, or a
//! uniquely named PostgreSQL database dropped afterwards), plus helpers to make files.
#![allow(dead_code)]

pub mod app;
pub mod smtp;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use gradhub::db::{Backend, Db};
use gradhub::domain::division::DivisionTable;
use gradhub::domain::routing::Router;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The PostgreSQL server tests create their databases on: `GRADHUB_TEST_POSTGRES_URL`, else a
/// `DATABASE_URL` that names PostgreSQL, else the local server.
pub fn postgres_admin_url() -> String {
    if let Ok(url) = std::env::var("GRADHUB_TEST_POSTGRES_URL") {
        return url;
    }
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => "postgres://postgres@127.0.0.1:5432/postgres".to_string(),
    }
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub url: String,
    pub db: Db,
    pub dir: tempfile::TempDir,
    admin_url: Option<String>,
    pg_name: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A fresh database, or `None` (with a loud message) when PostgreSQL is not reachable and
    /// `GRADHUB_REQUIRE_POSTGRES` is not set. CI sets it, so there a missing server fails.
    pub fn new(backend: Backend) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = dir.path().join("test.db").display().to_string();
                let db = Db::open(&url, 4, Duration::from_secs(60)).expect("open sqlite");
                Some(TestDb {
                    url,
                    db,
                    dir,
                    admin_url: None,
                    pg_name: None,
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let mut admin = match PgConnection::establish(&admin_url) {
                    Ok(c) => c,
                    Err(e) => {
                        if std::env::var_os("GRADHUB_REQUIRE_POSTGRES").is_some() {
                            panic!("PostgreSQL required but not reachable at {admin_url}: {e}");
                        }
                        // Straight to the stream: libtest hides eprintln! of passing tests.
                        use std::io::Write;
                        let _ = writeln!(
                            std::io::stderr(),
                            "SKIPPED (PostgreSQL not reachable at {admin_url}: {e}); set GRADHUB_TEST_POSTGRES_URL"
                        );
                        return None;
                    }
                };
                let name = format!(
                    "gradhub_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand_suffix()
                );
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                let url = replace_db_name(&admin_url, &name);
                let db = Db::open(&url, 4, Duration::from_secs(60)).expect("open postgres");
                Some(TestDb {
                    url,
                    db,
                    dir,
                    admin_url: Some(admin_url),
                    pg_name: Some(name),
                })
            }
        }
    }

    pub fn router(&self) -> Router {
        let mut conn = self.db.conn().expect("conn");
        Router::new(gradhub::db::reference::load_table(&mut conn).expect("table"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let (Some(admin_url), Some(name)) = (&self.admin_url, &self.pg_name) {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let new_base = match base[scheme_end..].rfind('/') {
        Some(i) => format!("{}/{name}", &base[..scheme_end + i]),
        None => format!("{base}/{name}"),
    };
    match query {
        Some(q) => format!("{new_base}?{q}"),
        None => new_base,
    }
}

/// Makes each listed test run on both backends, as `sqlite::NAME` and `postgres::NAME`; the body
/// is a function `fn(&TestDb)` in the test file. A PostgreSQL test without a server says so
/// (or fails, under `GRADHUB_REQUIRE_POSTGRES`).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let db = $crate::common::TestDb::new(gradhub::db::Backend::Sqlite).expect("sqlite");
                    super::$name(&db);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::common::TestDb::new(gradhub::db::Backend::Postgres) {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}

/// The `gradhub` binary, pointed at the test's database.
pub fn gradhub_command(db: &TestDb) -> std::process::Command {
    with_db(
        db,
        std::process::Command::new(env!("CARGO_BIN_EXE_gradhub")),
    )
}

/// Points a command (gradhub, or something that runs it) at the test's database.
pub fn with_db(db: &TestDb, mut command: std::process::Command) -> std::process::Command {
    command
        .env("GRADHUB_DATABASE_URL", &db.url)
        .env_remove("DATABASE_URL")
        .env("GRADHUB_LOG", "warn");
    command
}

/// Asserts that the database holds no record and no batch: what a refused or killed ingest leaves.
pub fn nothing_stored(db: &TestDb) {
    let mut conn = db.db.conn().expect("conn");
    let records = gradhub::db::records::count(&mut conn).expect("count");
    assert_eq!(records, 0, "no record stored");
    let batches = gradhub::db::batches::list(&mut conn, 10).expect("list");
    assert!(batches.is_empty(), "no batch stored");
}

/// How many rows `SELECT COUNT(*) AS n FROM {from}` counts (`from`: a table, with any clause).
pub fn count(db: &TestDb, from: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.db.conn().expect("conn");
    let sql = format!("SELECT COUNT(*) AS n FROM {from}");
    diesel::RunQueryDsl::get_result::<N>(diesel::sql_query(&sql), &mut conn)
        .expect(&sql)
        .n
}

/// Generator options for a UTF-8 file of `rows` rows, `fault_rate` of them faulty.
pub fn demo_options(rows: usize, seed: u64, fault_rate: f64) -> gradhub::demo::Options {
    gradhub::demo::Options {
        rows,
        seed,
        fault_rate,
        encoding: gradhub::demo::TextEncoding::Utf8,
    }
}

/// A generated transfer file in the test's directory; a name ending in `.xlsx` makes XLSX.
pub fn demo_file(db: &TestDb, name: &str, options: &gradhub::demo::Options) -> PathBuf {
    let path = db.path(name);
    let written = if name.ends_with(".xlsx") {
        gradhub::demo::write_xlsx(&table(), options, &path)
    } else {
        gradhub::demo::write_csv(&table(), options, &path)
    };
    written.expect("generated file");
    path
}

/// Asserts how a command ended (its standard error in the failure message); returns its output.
pub fn expect_exit(out: &std::process::Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A zip bomb dressed as a workbook: one worksheet of 64 MB of zeros, deflated to a few KB.
pub fn zip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut bytes = Vec::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut bytes));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("xl/worksheets/sheet1.xml", options)
        .expect("zip");
    let zeros = vec![b'0'; 1 << 20];
    for _ in 0..64 {
        w.write_all(&zeros).expect("zip");
    }
    w.finish().expect("zip");
    bytes
}

/// Writes `text` to a file in the test's directory.
pub fn write_file(db: &TestDb, name: &str, bytes: &[u8]) -> PathBuf {
    let path = db.path(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

/// A valid 18-digit ID number for a region, birth date (YYYYMMDD) and sequence.
pub fn id18(region: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{region}{birth}{seq:03}");
    let check = gradhub::domain::id_number::check_char(&first17).expect("17 digits");
    format!("{first17}{check}")
}

pub const HEADER: &str = "姓名,性别,民族,证件类型,证件号码,出生日期,政治面貌,学历,院校代码,院校名称,专业代码,专业名称,毕业时间,生源地代码,生源地地址,联系电话,电子邮箱,困难类别,就业意愿";

/// One CSV line of a valid graduate; `hukou` and `address` as given.
pub fn line(name: &str, id: &str, hukou: &str, address: &str) -> String {
    let odd = id
        .as_bytes()
        .get(16)
        .map(|b| (b - b'0') % 2 == 1)
        .unwrap_or(true);
    let sex = if odd { "1" } else { "2" };
    format!("{name},{sex},01,01,{id},,13,21,10422,山东大学,080901,计算机科学与技术,2025-06-30,{hukou},{address},13812345678,,,1")
}

pub fn table() -> DivisionTable {
    DivisionTable::embedded()
}

pub fn exists(path: &Path) -> bool {
    path.exists()
}
