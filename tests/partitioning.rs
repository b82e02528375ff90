//! Partitioning `records` by graduation year, as an operator does it on a working PostgreSQL hub
//! (`gradhub partition-records`): rows, ids, indexes and the history trigger carried over, and
//! the hub's flows (ingest, re-send, placing, cutting, the exchange API) working on the
//! partitioned table afterwards. On SQLite the command refuses with a clear message.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token};
use common::{expect_exit, gradhub_command, id18, line, TestDb, HEADER};
use gradhub::db::partition::{self, Partition};
use gradhub::db::{records, AnyConnection, Backend};
use gradhub::distribution::AutoCut;
use serde_json::Value;

/// Graduate `seq` of `year`, from 历下区 or another county; the same person for the same seq.
fn graduate(seq: u32, year: i32, county: &str) -> String {
    line("测试", &id18("370102", "20020315", seq), county, "")
        .replace("2025-06-30", &format!("{year}-06-30"))
}

fn file(lines: &[String]) -> String {
    format!("{HEADER}\n{}\n", lines.join("\n"))
}

fn id_of(seq: u32) -> String {
    id18("370102", "20020315", seq)
}

fn partitions(db: &TestDb) -> Vec<(String, Option<i32>, i64)> {
    let mut conn = db.db.conn().expect("conn");
    let AnyConnection::Postgresql(pg) = &mut *conn else {
        panic!("PostgreSQL expected");
    };
    partition::partitions(pg)
        .expect("partitions")
        .into_iter()
        .map(
            |Partition {
                 name,
                 year,
                 records,
             }| (name, year, records),
        )
        .collect()
}

fn partition_command(db: &TestDb, years: &str) -> Value {
    let out = gradhub_command(db)
        .args(["partition-records", "--years", years, "--json"])
        .output()
        .expect("run gradhub");
    serde_json::from_str(&expect_exit(&out, 0)).expect("json")
}

fn record_id(db: &TestDb, seq: u32, year: i32) -> i64 {
    let mut conn = db.db.conn().expect("conn");
    records::find_person(&mut conn, &id_of(seq), year)
        .expect("query")
        .expect("stored")
        .id
}

fn records_partitioned_by_graduation_year(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let first: Vec<String> = (1..=3)
        .map(|s| graduate(s, 2024, "370102"))
        .chain((4..=6).map(|s| graduate(s, 2025, "370102")))
        .collect();
    ingest_text(db, "edu-test", &file(&first));
    app.dist.place_new().expect("place");
    let day = "2026-11-23".parse().expect("date");
    app.dist.cut_auto(AutoCut::Ministry, day).expect("cut");
    let ids_before: Vec<i64> = (1..=6)
        .map(|s| record_id(db, s, if s <= 3 { 2024 } else { 2025 }))
        .collect();
    assert!(partitions(db).is_empty(), "a plain table before");

    // The stored years and the years asked for get a partition each, plus the default one.
    let outcome = partition_command(db, "2025-2026");
    assert_eq!(outcome["converted"], true);
    assert_eq!(
        partitions(db),
        [
            ("records_2024".to_string(), Some(2024), 3),
            ("records_2025".to_string(), Some(2025), 3),
            ("records_2026".to_string(), Some(2026), 0),
            ("records_other".to_string(), None, 0),
        ]
    );
    let ids_after: Vec<i64> = (1..=6)
        .map(|s| record_id(db, s, if s <= 3 { 2024 } else { 2025 }))
        .collect();
    assert_eq!(ids_before, ids_after, "every record keeps its id");

    // A re-sent person who moved, a new 2026 graduate and one of a year without a partition.
    let second = [
        graduate(5, 2025, "370103"),
        graduate(7, 2026, "370102"),
        graduate(8, 2023, "370102"),
    ];
    add_sender(db, "edu-two", "000000");
    ingest_text(db, "edu-two", &file(&second));
    let mut conn = db.db.conn().expect("conn");
    let moved = records::find_person(&mut conn, &id_of(5), 2025)
        .expect("query")
        .expect("stored");
    assert_eq!((moved.id, moved.version), (ids_before[4], 2));
    assert_eq!(moved.route_county.as_deref(), Some("370103"));
    assert_eq!(
        records::history_count(&mut conn, moved.id).expect("history"),
        1,
        "the history trigger fires on the partitioned table"
    );
    drop(conn);
    let newest = record_id(db, 7, 2026);
    assert!(
        newest > *ids_before.iter().max().expect("ids"),
        "the id sequence goes on"
    );
    let counts = partitions(db);
    assert!(counts.contains(&("records_2026".to_string(), Some(2026), 1)));
    assert!(counts.contains(&("records_other".to_string(), None, 1)));

    // Placing and cutting, and the exchange API, on the partitioned table.
    app.dist.place_new().expect("place");
    app.dist.cut_auto(AutoCut::Ministry, day).expect("cut");
    let shandong = token(db, "370000", None);
    let inbox = app.ok("/api/v1/inbox", &shandong);
    let packages = inbox["packages"].as_array().expect("packages");
    let in_packages: i64 = packages.iter().filter_map(|p| p["records"].as_i64()).sum();
    assert_eq!(in_packages, 8, "every record reached 山东: {inbox}");
    let list = app.ok("/api/v1/records?limit=50", &shandong);
    assert_eq!(list["records"].as_array().map(Vec::len), Some(8), "{list}");
    let detail = app.ok(&format!("/api/v1/records/{newest}"), &shandong);
    assert_eq!(detail["record"]["graduation_year"], 2026, "{detail}");
    assert_eq!(detail["hops"].as_array().map(Vec::len), Some(2), "{detail}");

    // Adding a year later moves its rows out of the default partition; asking again is a no-op.
    let outcome = partition_command(db, "2023");
    assert_eq!(outcome["converted"], false);
    assert_eq!(outcome["created"], serde_json::json!(["records_2023"]));
    let counts = partitions(db);
    assert_eq!(counts[0], ("records_2023".to_string(), Some(2023), 1));
    assert!(counts.contains(&("records_other".to_string(), None, 0)));
    let again = partition_command(db, "2023-2026");
    assert_eq!(again["created"], serde_json::json!([]));
    let moved_year = record_id(db, 8, 2023);
    let detail = app.ok(&format!("/api/v1/records/{moved_year}"), &shandong);
    assert_eq!(detail["record"]["graduation_year"], 2023, "{detail}");
    let listed = app.ok("/api/v1/records?limit=50", &shandong);
    let listed: Vec<i64> = listed["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["record"]["id"].as_i64())
        .collect();
    assert!(listed.contains(&moved_year), "{listed:?}");
}

mod postgres {
    #[test]
    fn records_partitioned_by_graduation_year() {
        if let Some(db) = crate::common::TestDb::new(gradhub::db::Backend::Postgres) {
            super::records_partitioned_by_graduation_year(&db);
        }
    }
}

mod sqlite {
    /// SQLite has no partitioning: the command says so, in both languages, and changes nothing.
    #[test]
    fn partition_records_needs_postgres() {
        let db = crate::common::TestDb::new(super::Backend::Sqlite).expect("sqlite");
        let out = super::gradhub_command(&db)
            .args(["partition-records", "--years", "2025"])
            .output()
            .expect("run gradhub");
        super::expect_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("SQLite 没有表分区") && stderr.contains("needs PostgreSQL"),
            "{stderr}"
        );
        let bad = super::gradhub_command(&db)
            .args(["partition-records", "--years", "2026-2024"])
            .output()
            .expect("run gradhub");
        super::expect_exit(&bad, 2);
    }
}
