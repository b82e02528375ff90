//! Ingest, validation and routing end to end on both backends: what a clerk's file becomes.

#[macro_use]
mod common;

use common::{id18, line, write_file, TestDb, HEADER};
use gradhub::db::{batches, records};
use gradhub::demo::{Fault, Generator};
use gradhub::export::{self, TableFormat};
use gradhub::ingest::{self, Channel, IngestError, IngestRequest, Outcome, Silent};
use std::path::Path;

fn run(db: &TestDb, path: &Path, dry_run: bool) -> Result<Outcome, IngestError> {
    let router = db.router();
    let mut conn = db.db.conn().expect("conn");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ingest::ingest(
        &mut conn,
        &router,
        &IngestRequest {
            path,
            file_name: &name,
            source: "370000",
            channel: Channel::Education,
            dry_run,
        },
        &Silent,
    )
}

fn record_count(db: &TestDb) -> i64 {
    records::count(&mut db.db.conn().expect("conn")).expect("count")
}

fn batch_count(db: &TestDb) -> usize {
    batches::list(&mut db.db.conn().expect("conn"), 1_000)
        .expect("list")
        .len()
}

fn csv(lines: &[String]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    for l in lines {
        text.push('\n');
        text.push_str(l);
    }
    text.push('\n');
    text.into_bytes()
}

/// A generated file with every kind of fault: each faulty row rejected with its code at its line,
/// every other row stored once.
fn generated_file_is_stored_and_faults_rejected(db: &TestDb) {
    let table = common::table();
    let mut generator = Generator::new(&table, 7, 0.15);
    let mut text = Generator::header().join(",");
    let mut expected_faults = Vec::new();
    let rows = 1_500;
    for i in 0..rows {
        let row = generator.next_row();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&row.cells).expect("csv");
        let bytes = w.into_inner().expect("csv");
        text.push('\n');
        text.push_str(String::from_utf8(bytes).expect("utf8").trim_end());
        if let Some(f) = row.fault {
            expected_faults.push((i as i64 + 2, f));
        }
    }
    let path = write_file(db, "generated.csv", text.as_bytes());
    let outcome = run(db, &path, false).expect("ingest");
    let s = outcome.summary;
    assert_eq!(s.rows, rows as u64);
    assert_eq!(
        s.rejected,
        expected_faults.len() as u64,
        "one reject per planted fault"
    );
    assert_eq!(s.accepted + s.updated + s.rejected, s.rows);
    assert_eq!(record_count(db), s.accepted as i64);
    let all_kinds: std::collections::HashSet<_> = expected_faults.iter().map(|(_, f)| *f).collect();
    assert_eq!(
        all_kinds.len(),
        Fault::ALL.len(),
        "the sample plants every kind of fault"
    );
    let batch_id = s.batch_id.expect("stored");
    let problems = batches::problems_page(&mut db.db.conn().expect("conn"), batch_id, 0, 100_000)
        .expect("problems");
    for (line_no, fault) in &expected_faults {
        assert!(
            problems.iter().any(|(_, p)| p.line == *line_no
                && p.code == fault.code()
                && p.severity == "reject"),
            "line {line_no}: expected {} among {:?}",
            fault.code(),
            problems
                .iter()
                .filter(|(_, p)| p.line == *line_no)
                .map(|(_, p)| &p.code)
                .collect::<Vec<_>>()
        );
    }
    let routed: u64 = s.routed.values().sum();
    assert_eq!(routed, s.accepted + s.updated);
    assert!(s.routed["direct"] > 0 && s.routed["address"] > 0 && s.routed["prefecture_only"] > 0);
}

/// Sending the same bytes again answers with the first batch and stores nothing twice.
fn resent_file_answers_with_first_batch(db: &TestDb) {
    let lines = vec![line("张三", &id18("370102", "20020315", 123), "370102", "")];
    let path = write_file(db, "a.csv", &csv(&lines));
    let first = run(db, &path, false).expect("first").summary;
    let again = run(db, &path, false).expect("again").summary;
    assert_eq!(first.duplicate_of, None);
    assert_eq!(again.duplicate_of, first.batch_id);
    assert_eq!(again.batch_id, first.batch_id);
    assert_eq!(batch_count(db), 1);
    assert_eq!(record_count(db), 1);
}

/// A later batch with the same person (ID number + graduation year) updates the record and keeps
/// the earlier version.
fn later_batch_updates_person_and_keeps_history(db: &TestDb) {
    let id = id18("370102", "20020315", 123);
    let first = csv(&[line("张三", &id, "370102", "")]);
    let path = write_file(db, "first.csv", &first);
    let s1 = run(db, &path, false).expect("first").summary;
    assert_eq!((s1.accepted, s1.updated), (1, 0));
    let changed = csv(&[
        line("张三", &id, "370103", ""),
        line("李四", &id18("110105", "20010101", 11), "110105", ""),
    ]);
    let path = write_file(db, "second.csv", &changed);
    let s2 = run(db, &path, false).expect("second").summary;
    assert_eq!((s2.accepted, s2.updated), (1, 1));
    let mut conn = db.db.conn().expect("conn");
    let rec = records::find_person(&mut conn, &id, 2025)
        .expect("query")
        .expect("stored");
    assert_eq!(rec.version, 2);
    assert_eq!(rec.route_county.as_deref(), Some("370103"));
    assert_eq!(rec.first_batch_id, s1.batch_id.expect("id"));
    assert_eq!(
        records::history_count(&mut conn, rec.id).expect("history"),
        1
    );
    assert_eq!(record_count(db), 2);
}

/// The `i`-th person of a large generated file: distinct ID numbers born in 2002.
fn nth_person(i: usize, county: &str) -> String {
    let birth = format!("2002{:02}{:02}", 1 + (i / 28) % 12, 1 + i % 28);
    let id = id18("370102", &birth, 100 + (i / 336) as u32);
    line(&format!("学生{i}"), &id, county, "")
}

/// A second batch far larger than one write chunk, its known people spread among new ones,
/// updates exactly the known ones (each with its history) and inserts the rest.
fn known_people_spread_over_chunks_are_updated(db: &TestDb) {
    let first: Vec<String> = (0..700).map(|i| nth_person(i, "370102")).collect();
    let path = write_file(db, "first.csv", &csv(&first));
    let s1 = run(db, &path, false).expect("first").summary;
    assert_eq!((s1.accepted, s1.updated, s1.rejected), (700, 0, 0));
    // Every third known person (moved to another county), then 400 new people, interleaved.
    let mut second = Vec::new();
    for i in 0..700 {
        if i % 3 == 0 {
            second.push(nth_person(i, "370103"));
        }
        if i < 400 {
            second.push(nth_person(1000 + i, "370102"));
        }
    }
    let path = write_file(db, "second.csv", &csv(&second));
    let s2 = run(db, &path, false).expect("second").summary;
    assert_eq!((s2.accepted, s2.updated, s2.rejected), (400, 234, 0));
    assert_eq!(record_count(db), 1100);
    let mut conn = db.db.conn().expect("conn");
    for i in [0, 3, 255, 699] {
        let key = nth_person(i, "370102");
        let id = key.split(',').nth(4).expect("id column");
        let rec = records::find_person(&mut conn, id, 2025)
            .expect("query")
            .expect("stored");
        let moved = i % 3 == 0;
        assert_eq!(rec.version, if moved { 2 } else { 1 }, "person {i}");
        let county = if moved { "370103" } else { "370102" };
        assert_eq!(rec.route_county.as_deref(), Some(county), "person {i}");
        let history = records::history_count(&mut conn, rec.id).expect("history");
        assert_eq!(history, i64::from(moved), "person {i}");
    }
}

/// A file whose first write chunk holds only new people and whose later chunks name known ones
/// among new ones: every known person is updated once with its history and every new one
/// inserted once, whichever way each chunk is written (on PostgreSQL: the first copied straight
/// into `records`, the second upserted whole after its copy stopped at a known person, the third
/// upserted without a try).
fn known_people_after_a_chunk_of_new_ones_are_updated(db: &TestDb) {
    let known: Vec<String> = (0..120).map(|i| nth_person(i, "370102")).collect();
    let path = write_file(db, "known.csv", &csv(&known));
    assert_eq!(run(db, &path, false).expect("first").summary.accepted, 120);
    // Write chunks are 8,000 rows: [8,000 new] [60 known moved, 7,940 new] [60 known moved,
    // 160 new].
    let moved = |r: std::ops::Range<usize>| r.map(|i| nth_person(i, "370103"));
    let new = |r: std::ops::Range<usize>| r.map(|i| nth_person(i, "370102"));
    let second: Vec<String> = new(1000..9000)
        .chain(moved(0..60))
        .chain(new(9000..16940))
        .chain(moved(60..120))
        .chain(new(16940..17100))
        .collect();
    let path = write_file(db, "second.csv", &csv(&second));
    let s2 = run(db, &path, false).expect("second").summary;
    assert_eq!((s2.accepted, s2.updated, s2.rejected), (16_100, 120, 0));
    assert_eq!(record_count(db), 16_220);
    let mut conn = db.db.conn().expect("conn");
    for i in [0, 59, 60, 119, 1000, 9000, 16939, 17099] {
        let key = nth_person(i, "370102");
        let id = key.split(',').nth(4).expect("id column");
        let rec = records::find_person(&mut conn, id, 2025)
            .expect("query")
            .expect("stored");
        let moved = i < 120;
        assert_eq!(rec.version, if moved { 2 } else { 1 }, "person {i}");
        let county = if moved { "370103" } else { "370102" };
        assert_eq!(rec.route_county.as_deref(), Some(county), "person {i}");
        let history = records::history_count(&mut conn, rec.id).expect("history");
        assert_eq!(history, i64::from(moved), "person {i}");
    }
}

/// A file that interleaves provinces (as a school's list does) is stored grouped by route:
/// record ids run through one county's people before the next county's, in file order within
/// a county, so a province's pages read neighbouring rows.
fn records_are_stored_grouped_by_route_in_file_order_within_one(db: &TestDb) {
    let counties = ["370103", "110101", "370102"];
    let lines: Vec<String> = (0..12).map(|i| nth_person(i, counties[i % 3])).collect();
    let path = write_file(db, "mixed.csv", &csv(&lines));
    assert_eq!(run(db, &path, false).expect("ingest").summary.accepted, 12);
    let mut conn = db.db.conn().expect("conn");
    let mut stored: Vec<(i64, String, i64)> = (0..12)
        .map(|i| {
            let key = nth_person(i, counties[i % 3]);
            let id = key.split(',').nth(4).expect("id column");
            let rec = records::find_person(&mut conn, id, 2025)
                .expect("query")
                .expect("stored");
            (
                rec.id,
                rec.route_county.unwrap_or_default(),
                rec.source_line,
            )
        })
        .collect();
    stored.sort();
    let order: Vec<(&str, i64)> = stored.iter().map(|(_, c, l)| (c.as_str(), *l)).collect();
    // Line 2 is the file's first person (line 1 the header).
    let expected: Vec<(&str, i64)> = ["110101", "370102", "370103"]
        .iter()
        .flat_map(|c| {
            let first = counties.iter().position(|x| x == c).expect("county") as i64;
            (0..4).map(move |k| (*c, 2 + first + 3 * k))
        })
        .collect();
    assert_eq!(order, expected);
}

/// A dry run answers the summary and the problems, and stores nothing.
fn dry_run_stores_nothing(db: &TestDb) {
    let lines = vec![
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李 四", &id18("370102", "20020316", 124), "370102", ""),
    ];
    let path = write_file(db, "dry.csv", &csv(&lines));
    let outcome = run(db, &path, true).expect("dry run");
    assert!(outcome.summary.dry_run);
    assert_eq!(outcome.summary.file_name, "dry.csv");
    assert_eq!(outcome.summary.batch_id, None);
    assert_eq!((outcome.summary.accepted, outcome.summary.rejected), (1, 1));
    assert!(outcome
        .problems
        .iter()
        .any(|p| p.code == "NAME_SPACE" && p.line == 3));
    assert_eq!(batch_count(db), 0);
    assert_eq!(record_count(db), 0);
}

/// Within one file a repeated ID number is rejected and names the row it repeats.
fn duplicate_row_in_file_names_the_first(db: &TestDb) {
    let id = id18("440305", "20010704", 88);
    let lines = vec![
        line("王五", &id, "440305", ""),
        line("王五", &id, "440305", ""),
    ];
    let path = write_file(db, "dup.csv", &csv(&lines));
    let outcome = run(db, &path, false).expect("ingest");
    assert_eq!((outcome.summary.accepted, outcome.summary.rejected), (1, 1));
    let problems = batches::problems_page(
        &mut db.db.conn().expect("conn"),
        outcome.summary.batch_id.expect("id"),
        0,
        10,
    )
    .expect("problems");
    let (_, p) = problems.first().expect("one problem");
    assert_eq!(
        (p.code.as_str(), p.line, p.column_key.as_str()),
        ("DUPLICATE_IN_FILE", 3, "id_number")
    );
    assert!(p.message.contains("第 2 行"), "{}", p.message);
}

/// Routing as the spec orders it: direct, successor, prefecture only, address, id prefix,
/// unresolved — each stored with its method and codes.
fn routes_each_method(db: &TestDb) {
    let lines = vec![
        line("甲", &id18("370102", "20020101", 1), "370102", ""),
        line("乙", &id18("370102", "20020101", 3), "371202", ""),
        line("丙", &id18("370102", "20020101", 5), "370199", ""),
        line(
            "丁",
            &id18("370102", "20020101", 7),
            "",
            "山东省莱芜市莱城区凤城街道",
        ),
        line("戊", &id18("110105", "20020101", 9), "", "火星基地"),
        line("己", &id18("810000", "20020101", 11), "", "火星基地"),
    ];
    let path = write_file(db, "route.csv", &csv(&lines));
    let s = run(db, &path, false).expect("ingest").summary;
    assert_eq!(s.accepted, 6, "{s:?}");
    let mut conn = db.db.conn().expect("conn");
    let rows = records::page(&mut conn, &Default::default(), 0, 100).expect("page");
    let by_name = |n: &str| rows.iter().find(|r| r.name == n).expect("row");
    let route = |n: &str| {
        let r = by_name(n);
        (
            r.route_method.as_str().to_string(),
            r.route_province.clone().unwrap_or_default(),
            r.route_prefecture.clone().unwrap_or_default(),
            r.route_county.clone().unwrap_or_default(),
        )
    };
    let s = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_string(), b.to_string(), c.to_string(), d.to_string())
    };
    assert_eq!(route("甲"), s("direct", "370000", "370100", "370102"));
    assert_eq!(route("乙"), s("successor", "370000", "370100", "370116"));
    assert_eq!(route("丙"), s("prefecture_only", "370000", "370100", ""));
    assert_eq!(route("丁"), s("address", "370000", "370100", "370116"));
    assert_eq!(route("戊"), s("id_prefix", "110000", "110100", "110105"));
    assert_eq!(route("己").0, "unresolved");
    assert_eq!(s_quarantined(db), 1);
}

/// A row with neither 生源地代码 nor 生源地地址 (or only an unusable code) is a person to serve:
/// accepted with the warning `HUKOU_MISSING` (`HUKOU_CODE_FORMAT`), routed by the ID number's first
/// six digits or kept `unresolved`; a later row with the same ID number is the duplicate, naming
/// the accepted first row.
fn row_without_hukou_is_accepted_and_routed_by_id_prefix(db: &TestDb) {
    let first = id18("110105", "20020101", 9);
    let lines = vec![
        line("甲", &first, "", ""),
        line("乙", &id18("810000", "20020101", 11), "", ""),
        line("丙", &id18("370102", "20020101", 13), "99", ""),
        line("甲", &first, "370102", ""),
    ];
    let path = write_file(db, "no-hukou.csv", &csv(&lines));
    let s = run(db, &path, false).expect("ingest").summary;
    assert_eq!(
        (s.rows, s.accepted, s.rejected, s.warnings, s.quarantined),
        (4, 3, 1, 3, 1),
        "{s:?}"
    );
    assert_eq!((s.routed["id_prefix"], s.routed["unresolved"]), (2, 1));
    let mut conn = db.db.conn().expect("conn");
    let stored = records::find_person(&mut conn, &first, 2025)
        .expect("query")
        .expect("the first row is stored");
    assert_eq!(stored.source_line, 2);
    assert_eq!(
        (
            stored.route_method.as_str(),
            stored.route_county.as_deref(),
            stored.hukou_code.as_deref(),
        ),
        ("id_prefix", Some("110105"), None)
    );
    let problems =
        batches::problems_page(&mut conn, s.batch_id.expect("id"), 0, 10).expect("problems");
    let found = |line: i64, code: &str, severity: &str| {
        problems
            .iter()
            .any(|(_, p)| p.line == line && p.code == code && p.severity == severity)
    };
    assert!(found(2, "HUKOU_MISSING", "warning"), "{problems:?}");
    assert!(found(3, "HUKOU_MISSING", "warning"), "{problems:?}");
    // An unusable code without an address does not drop the person either.
    assert!(found(4, "HUKOU_CODE_FORMAT", "warning"), "{problems:?}");
    let third = records::find_person(&mut conn, &id18("370102", "20020101", 13), 2025)
        .expect("query")
        .expect("stored");
    assert_eq!(
        (third.route_method.as_str(), third.route_county.as_deref()),
        ("id_prefix", Some("370102"))
    );
    let duplicate = problems
        .iter()
        .find(|(_, p)| p.code == "DUPLICATE_IN_FILE")
        .map(|(_, p)| p)
        .expect("the repeat is the duplicate");
    assert_eq!((duplicate.line, duplicate.severity.as_str()), (5, "reject"));
    assert!(
        duplicate.message.contains("第 2 行"),
        "{}",
        duplicate.message
    );
}

fn s_quarantined(db: &TestDb) -> u64 {
    let rows = batches::list(&mut db.db.conn().expect("conn"), 1).expect("list");
    rows.first().map_or(0, |r| r.quarantined as u64)
}

/// GBK and XLSX files from the generator are read like UTF-8 CSV: same counts.
fn gbk_and_xlsx_read_like_utf8(db: &TestDb) {
    let gbk_options = gradhub::demo::Options {
        encoding: gradhub::demo::TextEncoding::Gbk,
        ..common::demo_options(300, 11, 0.0)
    };
    let gbk = common::demo_file(db, "gbk.csv", &gbk_options);
    let s = run(db, &gbk, true).expect("gbk").summary;
    assert_eq!(
        (s.encoding.as_str(), s.rows, s.rejected),
        ("GB18030", 300, 0),
        "{s:?}"
    );
    let xlsx = common::demo_file(db, "f.xlsx", &common::demo_options(300, 11, 0.0));
    let s = run(db, &xlsx, false).expect("xlsx").summary;
    assert_eq!(
        (s.format.as_str(), s.rows, s.accepted),
        ("xlsx", 300, 300),
        "{s:?}"
    );
}

/// Two sends of one file at the same moment make one batch.
fn simultaneous_sends_make_one_batch(db: &TestDb) {
    let path = common::demo_file(db, "same.csv", &common::demo_options(3_000, 5, 0.02));
    let summaries: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| run(db, &path, false)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread").expect("ingest").summary)
            .collect()
    });
    assert_eq!(batch_count(db), 1);
    assert_eq!(summaries[0].batch_id, summaries[1].batch_id);
    assert_eq!(
        summaries
            .iter()
            .filter(|s| s.duplicate_of.is_some())
            .count(),
        1
    );
    assert_eq!(record_count(db) as u64, summaries[0].accepted);
}

/// Exports carry the transfer-file columns, then the route; reject reports the five columns.
fn exports_have_the_documented_columns(db: &TestDb) {
    let lines = vec![
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", "37010220020315123X", "370102", ""),
    ];
    let path = write_file(db, "exp.csv", &csv(&lines));
    let s = run(db, &path, false).expect("ingest").summary;
    let mut conn = db.db.conn().expect("conn");
    let mut out = Vec::new();
    export::write_records(
        &mut conn,
        &Default::default(),
        TableFormat::Csv,
        false,
        &mut out,
    )
    .expect("export");
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("姓名,性别,民族,证件类型,证件号码"));
    assert!(header.ends_with("路由省代码,路由市代码,路由县代码,路由方式"));
    let row = lines.next().expect("row");
    assert!(
        row.contains(&id18("370102", "20020315", 123))
            && row.ends_with("370000,370100,370102,direct"),
        "{row}"
    );
    let mut out = Vec::new();
    export::write_rejects(
        &mut conn,
        s.batch_id.expect("id"),
        TableFormat::Csv,
        false,
        &mut out,
    )
    .expect("rejects");
    let text = String::from_utf8(out).expect("utf8");
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("行号,列,值,原因代码,说明"));
    let reject = lines.next().expect("one reject");
    assert!(
        reject.starts_with("3,证件号码,37010220020315123X,ID_CHECKSUM,第 3 行 证件号码"),
        "{reject}"
    );
}

on_both_backends!(
    generated_file_is_stored_and_faults_rejected,
    resent_file_answers_with_first_batch,
    later_batch_updates_person_and_keeps_history,
    known_people_spread_over_chunks_are_updated,
    known_people_after_a_chunk_of_new_ones_are_updated,
    records_are_stored_grouped_by_route_in_file_order_within_one,
    dry_run_stores_nothing,
    duplicate_row_in_file_names_the_first,
    routes_each_method,
    row_without_hukou_is_accepted_and_routed_by_id_prefix,
    gbk_and_xlsx_read_like_utf8,
    simultaneous_sends_make_one_batch,
    exports_have_the_documented_columns,
);
