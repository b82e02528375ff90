//! The corpus of bad input from quality.md: each file answered with its message, nothing stored.

#[macro_use]
mod common;

use common::{id18, line, write_file, TestDb, HEADER};
use gradhub::db::{batches, records};
use gradhub::ingest::{self, Channel, IngestError, IngestRequest, Outcome, Silent};
use std::io::Write;

fn run(db: &TestDb, name: &str, bytes: &[u8]) -> Result<Outcome, IngestError> {
    let path = write_file(db, name, bytes);
    let router = db.router();
    let mut conn = db.db.conn().expect("conn");
    ingest::ingest(
        &mut conn,
        &router,
        &IngestRequest {
            path: &path,
            file_name: name,
            source: "370000",
            channel: Channel::Education,
            dry_run: false,
        },
        &Silent,
    )
}

use common::nothing_stored;

/// Expects the file refused with `code`, a Chinese and an English message, and nothing stored.
fn refused(db: &TestDb, name: &str, bytes: &[u8], code: &str) {
    match run(db, name, bytes) {
        Err(IngestError::Refused(r)) => {
            assert_eq!(r.code, code, "{name}: {r}");
            assert!(
                r.message
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "Chinese message"
            );
            assert!(!r.message_en.is_empty());
        }
        Ok(o) => panic!("{name}: expected refusal {code}, got {:?}", o.summary),
        Err(e) => panic!("{name}: expected refusal {code}, got {e}"),
    }
    nothing_stored(db);
}

fn valid_line(seq: u32) -> String {
    line("张三", &id18("370102", "20020315", seq), "370102", "")
}

fn empty_and_header_only_files_are_refused(db: &TestDb) {
    refused(db, "empty.csv", b"", "FILE_EMPTY");
    refused(db, "blank.csv", b"\r\n \r\n", "FILE_EMPTY");
    refused(
        db,
        "header.csv",
        format!("{HEADER}\r\n").as_bytes(),
        "NO_DATA_ROWS",
    );
}

fn missing_required_column_is_named(db: &TestDb) {
    let header = HEADER.replace("证件号码", "备注");
    let text = format!("{header}\n{}\n", valid_line(1));
    match run(db, "cols.csv", text.as_bytes()) {
        Err(IngestError::Refused(r)) => {
            assert_eq!(r.code, "COLUMNS_MISSING");
            assert!(
                r.message.contains("证件号码") && r.message_en.contains("id_number"),
                "{r}"
            );
        }
        other => panic!("expected refusal, got {:?}", other.map(|o| o.summary)),
    }
    nothing_stored(db);
    refused(
        db,
        "garbage-header.csv",
        "甲,乙,丙\n1,2,3\n".as_bytes(),
        "HEADER_NOT_FOUND",
    );
}

fn binary_garbage_and_nul_bytes_are_refused(db: &TestDb) {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    refused(db, "garbage.csv", &garbage, "FILE_BINARY");
    let mut with_nul = format!("{HEADER}\n{}\n", valid_line(1)).into_bytes();
    with_nul.insert(HEADER.len() + 5, 0);
    refused(db, "nul.csv", &with_nul, "FILE_BINARY");
}

fn broken_xlsx_files_are_refused(db: &TestDb) {
    // Truncated: the first half of a real XLSX.
    let path = common::demo_file(db, "real.xlsx", &common::demo_options(50, 1, 0.0));
    let bytes = std::fs::read(&path).expect("read");
    refused(
        db,
        "truncated.xlsx",
        &bytes[..bytes.len() / 2],
        "FILE_DAMAGED",
    );
    // Password-protected: an OLE compound file holding an EncryptedPackage stream.
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend(vec![0u8; 504]);
    ole.extend(
        "EncryptedPackage"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes()),
    );
    ole.extend(vec![0u8; 1024]);
    refused(db, "secret.xlsx", &ole, "FILE_ENCRYPTED");
    // A zip bomb: one member that expands a thousandfold and more.
    let mut zipped = Vec::new();
    {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zipped));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("xl/worksheets/sheet1.xml", options)
            .expect("zip");
        let zeros = vec![b'0'; 1 << 20];
        for _ in 0..64 {
            w.write_all(&zeros).expect("zip");
        }
        w.finish().expect("zip");
    }
    refused(db, "bomb.xlsx", &zipped, "FILE_TOO_LARGE");
}

fn mixed_encodings_are_refused(db: &TestDb) {
    let mut bytes = format!("{HEADER}\n{}\n", valid_line(1)).into_bytes();
    let second = valid_line(2).replace("张三", "李四");
    let (gbk, _, _) = encoding_rs::GBK.encode(&second);
    bytes.extend_from_slice(&gbk);
    bytes.push(b'\n');
    refused(db, "mixed.csv", &bytes, "FILE_ENCODING_MIXED");
}

fn open_quote_and_too_many_columns_are_refused(db: &TestDb) {
    let mut text = format!("{HEADER}\n\"{}\n", valid_line(1));
    for seq in 2..10 {
        text.push_str(&valid_line(seq));
        text.push('\n');
    }
    refused(db, "quote.csv", text.as_bytes(), "QUOTE_UNCLOSED");
    let wide: Vec<String> = (0..10_000).map(|i| format!("列{i}")).collect();
    let text = format!("{HEADER},{}\n{}\n", wide.join(","), valid_line(1));
    refused(db, "wide.csv", text.as_bytes(), "TOO_MANY_COLUMNS");
}

/// A 10,000-character cell rejects its row, with a short value in the report.
fn huge_cell_rejects_only_its_row(db: &TestDb) {
    let long = "长".repeat(10_000);
    let text = format!(
        "{HEADER}\n{}\n",
        line(&long, &id18("370102", "20020315", 1), "370102", "")
    );
    let outcome = run(db, "long.csv", text.as_bytes()).expect("processed");
    assert_eq!((outcome.summary.accepted, outcome.summary.rejected), (0, 1));
    let problems = batches::problems_page(
        &mut db.db.conn().expect("conn"),
        outcome.summary.batch_id.expect("id"),
        0,
        10,
    )
    .expect("problems");
    let (_, p) = problems.first().expect("problem");
    assert_eq!(p.code, "TOO_LONG");
    assert!(
        p.value.chars().count() <= 101,
        "value truncated in the report"
    );
}

/// Excel's damage: an ID turned into 1.10105E+17 is rejected with its reason; a date serial,
/// full-width digits and a lower-case x are repaired.
fn excel_damage_is_rejected_or_repaired(db: &TestDb) {
    let good = id18("110105", "20020315", 12);
    let full_width: String = good
        .chars()
        .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap_or(c))
        .collect();
    let lower_x = {
        // find a sequence whose check character is X
        (0..1000)
            .map(|s| id18("110105", "20010101", s))
            .find(|i| i.ends_with('X'))
            .expect("an X id")
    };
    let lines = [
        line("甲", "1.10105E+17", "110105", ""),
        line("乙", &full_width, "110105", "").replace("2025-06-30", "45838"),
        line("丙", &lower_x.to_lowercase(), "110105", ""),
    ];
    let text = format!("{HEADER}\n{}\n", lines.join("\n"));
    let outcome = run(db, "excel.csv", text.as_bytes()).expect("processed");
    assert_eq!(
        (outcome.summary.accepted, outcome.summary.rejected),
        (2, 1),
        "{:?}",
        outcome.summary
    );
    let mut conn = db.db.conn().expect("conn");
    let problems = batches::problems_page(&mut conn, outcome.summary.batch_id.expect("id"), 0, 10)
        .expect("problems");
    assert!(problems
        .iter()
        .any(|(_, p)| p.line == 2 && p.code == "ID_EXCEL_NUMBER"));
    let b = records::find_person(&mut conn, &good, 2025)
        .expect("q")
        .expect("full-width stored");
    assert_eq!(
        b.graduation_date.to_string(),
        "2025-06-30",
        "serial 45838 is 2025-06-30"
    );
    assert!(records::find_person(&mut conn, &lower_x, 2025)
        .expect("q")
        .is_some());
}

on_both_backends!(
    empty_and_header_only_files_are_refused,
    missing_required_column_is_named,
    binary_garbage_and_nul_bytes_are_refused,
    broken_xlsx_files_are_refused,
    mixed_encodings_are_refused,
    open_quote_and_too_many_columns_are_refused,
    huge_cell_rejects_only_its_row,
    excel_damage_is_rejected_or_repaired,
);

mod fuzz {
    //! The readers and the pipeline never panic, whatever the bytes.
    use super::common::{TestDb, HEADER};
    use gradhub::db::Backend;
    use gradhub::ingest::{self, Channel, IngestRequest, Silent};
    use proptest::prelude::*;

    /// One database for every case: dry runs store nothing, and a fresh one per case is slow.
    fn shared() -> &'static (TestDb, gradhub::domain::routing::Router) {
        static SHARED: std::sync::OnceLock<(TestDb, gradhub::domain::routing::Router)> =
            std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            let db = TestDb::new(Backend::Sqlite).expect("sqlite");
            let router = db.router();
            (db, router)
        })
    }

    fn dry_run(db: &TestDb, router: &gradhub::domain::routing::Router, name: &str, bytes: &[u8]) {
        let path = db.path(name);
        std::fs::write(&path, bytes).expect("write");
        let mut conn = db.db.conn().expect("conn");
        // Any answer is fine: a summary or a refusal. A panic fails the property.
        let _ = ingest::ingest(
            &mut conn,
            router,
            &IngestRequest {
                path: &path,
                file_name: name,
                source: "FUZZ",
                channel: Channel::Education,
                dry_run: true,
            },
            &Silent,
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let (db, router) = shared();
            dry_run(db, router, "f.csv", &bytes);
            dry_run(db, router, "f.xlsx", &[b"PK\x03\x04".as_slice(), &bytes].concat());
        }

        #[test]
        fn arbitrary_rows_under_a_real_header_never_panic(
            rows in proptest::collection::vec("[0-9A-Za-z,\"\\t\\r\\n 一二三省市区县·Ｘ１-]{0,120}", 0..20)
        ) {
            let (db, router) = shared();
            let text = format!("{HEADER}\n{}", rows.join("\n"));
            dry_run(db, router, "rows.csv", text.as_bytes());
        }
    }
}
