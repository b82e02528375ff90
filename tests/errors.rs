//! The catalogue of error codes against everything that shows it: docs/errors.md, the OpenAPI
//! document, the source (no code outside the catalogue), and real HTTP answers (the catalogued
//! status, the catalogue's general text in a masked reject report).

mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token};
use common::{id18, line, TestDb, HEADER};
use gradhub::domain::catalogue::{markdown_table, ErrorCode};
use gradhub::domain::organisation::Role;
use std::path::{Path, PathBuf};

const TABLE_START: &str = "<!-- catalogue:start -->\n";
const TABLE_END: &str = "<!-- catalogue:end -->";

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// docs/errors.md carries the catalogue's table as generated; `GRADHUB_BLESS=1` rewrites it.
#[test]
fn docs_list_the_catalogue_as_it_is() {
    let path = repo_file("docs/errors.md");
    let doc = std::fs::read_to_string(&path).expect("docs/errors.md");
    let start = doc.find(TABLE_START).expect("start marker") + TABLE_START.len();
    let end = doc.find(TABLE_END).expect("end marker");
    let table = markdown_table();
    if doc[start..end] == table {
        return;
    }
    if std::env::var("GRADHUB_BLESS").as_deref() == Ok("1") {
        let updated = format!("{}{table}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated).expect("write docs/errors.md");
        return;
    }
    panic!(
        "docs/errors.md does not list the catalogue of src/domain/catalogue.rs; \
         run `GRADHUB_BLESS=1 cargo test --test errors` and commit the file.\n\nexpected:\n{table}"
    );
}

/// Every string in src/ that looks like an error code (`"SOME_CODE"`) is a catalogued code.
/// Errors are built from `ErrorCode`, so this catches a code kept as a string beside them (a
/// constant, a JSON summary, a comparison) that the catalogue would not list.
#[test]
fn every_code_written_in_the_source_is_catalogued() {
    // Upper-case strings that are not error codes: environment variables, protocol words, names.
    let not_codes = [
        "USER",
        "DATABASE_URL",
        "CARGO_MANIFEST_DIR",
        "README",
        "STARTTLS",
        "GB18030",
        // The crate's version in the assets' addresses; an HTTP header's value.
        "CARGO_PKG_VERSION",
        "DENY",
        // The field codes of the 79号 deregistration interface (AAB301 … AAE013, AAC004).
        "AAB301",
        "AAZ341",
        "AAC003",
        "AAC002",
        "AAC058",
        "AAC044",
        "ADC210",
        "AJC00A",
        "AAE011",
        "AAE036",
        "AAE013",
        "AAC004",
    ];
    let mut unknown = Vec::new();
    let mut files = vec![repo_file("src")];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read src") {
                files.push(entry.expect("entry").path());
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("catalogue.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        // Every `"…"` span of upper-case letters, digits and `_` between two quotes, whatever
        // the quotes close or open: a code literal is always one.
        for literal in text.split('"').skip(1) {
            let looks_like_code = literal.len() >= 4
                && literal.starts_with(|c: char| c.is_ascii_uppercase())
                && literal
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && literal.chars().filter(|c| c.is_ascii_digit()).count() < 4;
            if looks_like_code
                && !literal.starts_with("GRADHUB_")
                && !not_codes.contains(&literal)
                && ErrorCode::parse(literal).is_none()
            {
                unknown.push(format!("{}: {literal}", path.display()));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "codes not in the catalogue: {unknown:#?}"
    );
}

/// The OpenAPI document names every code as the `ErrorCode` enum, and `ApiError.code` is one.
fn openapi_lists_the_catalogue(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let doc = app.ok("/api-docs/openapi.json", "");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ApiError"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    assert_eq!(
        schemas["Refusal"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let listed: Vec<&str> = schemas["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let catalogue: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, catalogue);
}

/// A file refused whole is answered with the status its code has in the catalogue: a zip bomb
/// is `FILE_TOO_LARGE`, `413` like an upload over the size limit, where it used to be `422`.
fn a_refusal_answers_its_catalogued_status(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let bomb = common::zip_bomb();
    let (status, answer) = app.upload("file_name=bomb.xlsx", &sender, bomb);
    assert_eq!(
        (status, answer["code"].as_str()),
        (413, Some("FILE_TOO_LARGE"))
    );
    let (status, answer) = app.upload("", &sender, format!("{HEADER}\n").into_bytes());
    assert_eq!(
        (status, answer["code"].as_str()),
        (422, Some("NO_DATA_ROWS"))
    );
    let ministry = token(db, "000000", Some(Role::Ministry));
    let batches = app.ok("/api/v1/batches", &ministry);
    assert_eq!(batches.as_array().map(Vec::len), Some(0), "{batches}");
}

/// A masked reject report shows the catalogue's general text for a code that quotes personal
/// values, and the row's own text for one that does not.
fn the_masked_reject_report_reads_the_catalogue(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let good = id18("370102", "20030615", 601);
    let wrong_check = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &good, "370102", ""),
        line("李四", &wrong_check, "370102", "")
    );
    let batch = ingest_text(db, "edu-370000", &text);
    let auditor = token(db, "000000", Some(Role::Auditor));
    let report = app
        .client
        .get(format!(
            "{}/api/v1/batches/{batch}/rejects?format=csv",
            app.base
        ))
        .bearer_auth(&auditor)
        .send()
        .expect("report")
        .text()
        .expect("text");
    assert!(
        report.contains("ID_CHECKSUM") && report.contains(ErrorCode::IdChecksum.general_zh()),
        "{report}"
    );
    assert!(!report.contains(&wrong_check), "{report}");
}

on_both_backends!(
    openapi_lists_the_catalogue,
    a_refusal_answers_its_catalogued_status,
    the_masked_reject_report_reads_the_catalogue,
);
