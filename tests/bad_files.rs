//! The corpus of bad input from quality.md: each file answered with its message, nothing stored.

#[macro_use]
mod common;

use common::{expect_exit, gradhub_command, id18, line, write_file, TestDb, HEADER};
use gradhub::db::{batches, records};
use gradhub::export::{self, TableFormat};
use gradhub::ingest::{self, Channel, IngestError, IngestRequest, Outcome, Silent};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let zipped = common::zip_bomb();
    refused(db, "bomb.xlsx", &zipped, "FILE_TOO_LARGE");
    // One shared string of 200,000 short rich-text runs: no text is long, the cell (3 MB) is.
    let rich = db.path("rich.xlsx");
    write_xlsx(&rich, |w| {
        w.write_all(b"<si>").expect("zip");
        for _ in 0..200_000 {
            w.write_all(b"<r><t>ab</t></r>").expect("zip");
        }
        w.write_all(b"</si>").expect("zip");
    });
    let bytes = std::fs::read(&rich).expect("read");
    refused(db, "rich.xlsx", &bytes, "CELL_TOO_LONG");
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

/// Five people; a quote opened in the fourth one's 生源地地址 (line 5) is never closed. Before, the
/// fifth person vanished into the fourth's address and the file was accepted with 4 rows.
fn quote_left_open_before_the_last_row_refuses_the_file(db: &TestDb) {
    let mut lines: Vec<String> = (1..=5u32)
        .map(|seq| line("张三", &id18("370102", "20020315", seq), "", "济南市历下区"))
        .collect();
    lines[3] = lines[3].replace("济南市历下区", "\"济南市历下区");
    let text = format!("{HEADER}\n{}\n", lines.join("\n"));
    let path = write_file(db, "quote-end.csv", text.as_bytes());
    let out = gradhub_command(db)
        .args(["ingest", path.to_str().expect("path"), "--source", "370000"])
        .output()
        .expect("run gradhub");
    expect_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("QUOTE_UNCLOSED") && err.contains("第 5 行") && err.contains("Line 5"),
        "{err}"
    );
    nothing_stored(db);
    // The same through the ingest entry the upload and the drop folder use, without a final
    // line break too.
    refused(
        db,
        "quote-end-no-break.csv",
        text.trim_end().as_bytes(),
        "QUOTE_UNCLOSED",
    );
}

/// The upload takes the same reader: a quote left open is refused over HTTP, naming its line, and
/// an old-Mac file is read.
fn upload_refuses_an_open_quote_and_reads_cr_line_ends(db: &TestDb) {
    use common::app::{add_sender, spawn_app, test_config, token};
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let text = format!(
        "{HEADER}\n{}\n\"{}\n",
        valid_line(1),
        valid_line(2).replace("张三", "李四")
    );
    let (status, err) = app.upload("file_name=q.csv", &sender, text.into_bytes());
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["code"], "QUOTE_UNCLOSED");
    assert!(
        err["message"].as_str().unwrap_or("").contains("第 3 行"),
        "{err}"
    );
    nothing_stored(db);
    let text = format!(
        "{HEADER}\r{}\r{}\r",
        valid_line(1),
        valid_line(2).replace("张三", "李四")
    );
    let (status, summary) = app.upload("file_name=mac.csv", &sender, text.into_bytes());
    assert_eq!(status, 201, "{summary}");
    assert_eq!(
        (summary["rows"].as_u64(), summary["accepted"].as_u64()),
        (Some(2), Some(2))
    );
}

/// A cell or a line past the reader's limits is refused while it is read, naming its line.
fn overlong_cell_and_line_are_refused(db: &TestDb) {
    let cell = "长".repeat(1 << 19); // 1.5 MB of text in one cell
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        valid_line(1),
        line(&cell, &id18("370102", "20020315", 2), "370102", "")
    );
    match run(db, "cell.csv", text.as_bytes()) {
        Err(IngestError::Refused(r)) => {
            assert_eq!(r.code, "CELL_TOO_LONG", "{r}");
            assert!(
                r.message.contains("第 3 行") && r.message_en.contains("line 3"),
                "{r}"
            );
        }
        other => panic!("expected CELL_TOO_LONG, got {:?}", other.map(|o| o.summary)),
    }
    nothing_stored(db);
    // 5 MB of short cells on one line: no cell is long, the line is.
    let wide = "甲,".repeat(5 << 20 >> 2);
    let text = format!("{HEADER}\n{}\n{wide}\n", valid_line(1));
    refused(db, "line.csv", text.as_bytes(), "LINE_TOO_LONG");
}

/// 70 KB of blank lines (Excel's "empty" rows saved as CSV) stand above the header.
fn blank_lines_before_the_header_are_skipped(db: &TestDb) {
    let text = format!("{}{HEADER}\r\n{}\r\n", "\r\n".repeat(36_000), valid_line(1));
    assert!(text.len() > 70_000);
    let outcome = run(db, "blank-top.csv", text.as_bytes()).expect("processed");
    assert_eq!((outcome.summary.rows, outcome.summary.accepted), (1, 1));
    let mut conn = db.db.conn().expect("conn");
    let stored = records::find_person(&mut conn, &id18("370102", "20020315", 1), 2025)
        .expect("query")
        .expect("stored");
    assert_eq!(stored.source_line, 36_002, "the line a text editor shows");
}

/// Old Mac line ends (CR only) are line ends; problems name the right line.
fn cr_only_line_ends_are_read(db: &TestDb) {
    let lines = [
        valid_line(1),
        line("李 四", &id18("370102", "20020315", 2), "370102", ""),
        valid_line(3),
    ];
    let text = format!("{HEADER}\r{}\r", lines.join("\r"));
    let outcome = run(db, "mac.csv", text.as_bytes()).expect("processed");
    let s = &outcome.summary;
    assert_eq!((s.rows, s.accepted, s.rejected), (3, 2, 1), "{s:?}");
    let problems = batches::problems_page(
        &mut db.db.conn().expect("conn"),
        s.batch_id.expect("id"),
        0,
        10,
    )
    .expect("problems");
    assert!(problems
        .iter()
        .any(|(_, p)| p.line == 3 && p.code == "NAME_SPACE"));
}

/// A warning on a row that another problem rejected must not tell the clerk it was accepted.
fn warnings_on_rejected_rows_do_not_claim_acceptance(db: &TestDb) {
    let lines = [
        // line 2: accepted, with a bad phone (warning)
        valid_line(1).replace("13812345678", "12345"),
        // line 3: bad phone (warning) and a bad check digit (reject)
        line("李四", "37010220020315123X", "370102", "").replace("13812345678", "12345"),
    ];
    let text = format!("{HEADER}\n{}\n", lines.join("\n"));
    let outcome = run(db, "warn.csv", text.as_bytes()).expect("processed");
    assert_eq!((outcome.summary.accepted, outcome.summary.rejected), (1, 1));
    let mut out = Vec::new();
    export::write_rejects(
        &mut db.db.conn().expect("conn"),
        outcome.summary.batch_id.expect("id"),
        TableFormat::Csv,
        false,
        &mut out,
    )
    .expect("report");
    let report = String::from_utf8(out).expect("utf8");
    let phone_line = |n: &str| {
        report
            .lines()
            .find(|l| l.starts_with(&format!("{n},")) && l.contains("PHONE_FORMAT"))
            .unwrap_or_else(|| panic!("phone warning of line {n} in {report}"))
            .to_string()
    };
    assert!(phone_line("2").contains("（警告：该行已接收）"));
    let rejected_row = phone_line("3");
    assert!(!rejected_row.contains("已接收"), "{rejected_row}");
    assert!(rejected_row.contains("未接收"), "{rejected_row}");
}

/// Big inputs in the test's own directory (removed with it): a sparse 2 GB file, a 1 GB line
/// without a line break, a ~36 MB XLSX whose one shared string unpacks to 2 GB, and an XLSX whose
/// shared strings (10 million short ones) unpack past the part limit.
fn big_inputs(db: &TestDb) -> [(PathBuf, &'static str); 4] {
    let sparse = db.path("sparse.csv");
    std::fs::File::create(&sparse)
        .expect("create")
        .set_len(2 << 30)
        .expect("sparse 2 GB");
    let long_line = db.path("line.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&long_line).expect("create"));
        writeln!(f, "{HEADER}").expect("write");
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..1024 {
            f.write_all(&chunk).expect("write 1 GB line");
        }
        f.flush().expect("flush");
    }
    let xlsx = db.path("cell.xlsx");
    write_xlsx_with_huge_shared_string(&xlsx, 2 << 30);
    // 10 million short strings: 229 MB unpacked, 574 MB peak before the part limit.
    let shared = db.path("shared.xlsx");
    write_xlsx_with_many_shared_strings(&shared, 10_000_000);
    [
        (sparse, "FILE_BINARY"),
        (long_line, "LINE_TOO_LONG"),
        (xlsx, "CELL_TOO_LONG"),
        (shared, "FILE_TOO_LARGE"),
    ]
}

/// A real workbook (header row, one data row) whose data row's name is shared string 0, `len`
/// bytes long. Its text is mostly one letter with a few others sprinkled in: it deflates about
/// 60:1, below the ratio that marks a zip bomb, as a real pasted document would.
fn write_xlsx_with_huge_shared_string(path: &Path, len: usize) {
    let mut chunk = vec![b'A'; 4 << 20];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for b in chunk.iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        if seed % 1000 < 3 {
            *b = b'B' + (seed >> 32) as u8 % 24;
        }
    }
    write_xlsx(path, |w| {
        w.write_all(b"<si><t>").expect("zip");
        for _ in 0..len / chunk.len() {
            w.write_all(&chunk).expect("zip");
        }
        w.write_all(b"</t></si>").expect("zip");
    });
}

/// A real workbook whose shared strings are `count` short distinct strings: no cell is long, the
/// part is (calamine holds it whole).
fn write_xlsx_with_many_shared_strings(path: &Path, count: u32) {
    write_xlsx(path, |w| {
        for i in 0..count {
            write!(w, "<si><t>{i}</t></si>").expect("zip");
        }
    });
}

/// A workbook: a header row of inline strings, one data row naming shared string 0, and the
/// shared strings `write_strings` writes.
fn write_xlsx(path: &Path, write_strings: impl FnOnce(&mut dyn Write)) {
    let columns: Vec<&str> = HEADER.split(',').collect();
    let header_cells: String = columns
        .iter()
        .enumerate()
        .map(|(i, h)| {
            format!(
                "<c r=\"{}1\" t=\"inlineStr\"><is><t>{h}</t></is></c>",
                (b'A' + i as u8) as char
            )
        })
        .collect();
    let sheet = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData><row r=\"1\">{header_cells}</row><row r=\"2\"><c r=\"A2\" t=\"s\"><v>0</v></c></row></sheetData></worksheet>");
    let parts = [
        ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/></Types>".to_string()),
        ("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".to_string()),
        ("xl/workbook.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>".to_string()),
        ("xl/_rels/workbook.xml.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>".to_string()),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let file = std::fs::File::create(path).expect("create xlsx");
    let mut w = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1))
        .large_file(true);
    for (name, text) in &parts {
        w.start_file(*name, options).expect("zip");
        w.write_all(text.as_bytes()).expect("zip");
    }
    w.start_file("xl/sharedStrings.xml", options).expect("zip");
    w.write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">").expect("zip");
    write_strings(&mut w);
    w.write_all(b"</sst>").expect("zip");
    w.finish().expect("zip");
}

/// Runs the real `gradhub ingest` on a file; returns its exit code, standard error and its peak
/// resident memory in MB: `ru_maxrss` of exactly that child (from wait4), which Linux carries
/// over from the forking test process, so it is an upper bound; and the child's own `VmHWM`,
/// read from /proc every few milliseconds until it exits, for the report.
// The child is reaped by wait4 below (std's wait cannot report its resource usage).
#[allow(clippy::zombie_processes)]
fn ingest_peak_mb(db: &TestDb, path: &Path) -> (i32, String, u64, u64) {
    let err_path = db.path("ingest-stderr.txt");
    let child = gradhub_command(db)
        .args(["ingest", path.to_str().expect("path"), "--source", "370000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run gradhub");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we just spawned, which
    // nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut own_peak_kb = 0u64;
    loop {
        let waited = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if waited == pid {
            break;
        }
        assert_eq!(waited, 0, "wait4");
        let status_text =
            std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if let Some(kb) = status_text
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            own_peak_kb = own_peak_kb.max(kb);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let stderr = std::fs::read_to_string(&err_path).expect("stderr");
    (
        code,
        stderr,
        usage.ru_maxrss as u64 / 1024,
        own_peak_kb / 1024,
    )
}

/// quality.md: a 2 GB cell inside a small XLSX, a 1 GB line without a line break and a sparse
/// 2 GB file are refused while being read, with peak memory under 300 MB.
fn huge_inputs_are_refused_in_bounded_memory(db: &TestDb) {
    for (path, code) in big_inputs(db) {
        let (exit, stderr, peak, own) = ingest_peak_mb(db, &path);
        assert_eq!(exit, 2, "{}: {stderr}", path.display());
        assert!(stderr.contains(code), "{}: {stderr}", path.display());
        assert!(peak < 300, "{}: peak RSS {peak} MB", path.display());
        let _ = writeln!(
            std::io::stderr(),
            "{}: {code}, peak RSS {own} MB (VmHWM), at most {peak} MB (ru_maxrss)",
            path.display()
        );
        nothing_stored(db);
    }
}

/// The same inputs uploaded to a real `gradhub serve`: the server refuses each with its code and
/// its own peak memory (`VmHWM`, the high-water mark of the whole process) stays under 300 MB.
fn the_server_refuses_huge_uploads_in_bounded_memory(db: &TestDb) {
    use std::io::BufRead;
    expect_exit(
        &gradhub_command(db)
            .args([
                "orgs",
                "add",
                "--code",
                "edu-big",
                "--name",
                "大文件测试",
                "--level",
            ])
            .args(["sender", "--parent", "000000"])
            .output()
            .expect("orgs add"),
        0,
    );
    let token = expect_exit(
        &gradhub_command(db)
            .args(["tokens", "create", "--org", "edu-big", "--name", "big"])
            .output()
            .expect("tokens create"),
        0,
    )
    .trim()
    .to_string();
    let mut server = gradhub_command(db)
        .arg("serve")
        .env("GRADHUB_BIND", "127.0.0.1:0")
        .env("GRADHUB_JOBS_INTERVAL_SECS", "0")
        .env("GRADHUB_UPLOAD_DIR", db.path("uploads"))
        .env("GRADHUB_MAX_UPLOAD_BYTES", (8u64 << 30).to_string())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve");
    let mut lines = std::io::BufReader::new(server.stderr.take().expect("stderr")).lines();
    let base = loop {
        let line = lines.next().expect("serve said nothing").expect("line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("address").to_string();
        }
    };
    // Keep reading what the server logs, so a full pipe never blocks it.
    std::thread::spawn(move || lines.for_each(drop));
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .expect("client");
    let peak_mb = || {
        std::fs::read_to_string(format!("/proc/{}/status", server.id()))
            .expect("status")
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmHWM")
            / 1024
    };
    for (path, code) in big_inputs(db) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        let answer: serde_json::Value = client
            .post(format!("{base}/api/v1/batches?file_name={name}"))
            .bearer_auth(&token)
            .body(std::fs::File::open(&path).expect("open"))
            .send()
            .expect("upload")
            .json()
            .expect("json");
        assert_eq!(answer["code"], code, "{name}: {answer}");
        let peak = peak_mb();
        let _ = writeln!(std::io::stderr(), "server, {name}: {code}, VmHWM {peak} MB");
        assert!(peak < 300, "{name}: server peak {peak} MB");
        nothing_stored(db);
    }
    let _ = server.kill();
    let _ = server.wait();
}

on_both_backends!(
    the_server_refuses_huge_uploads_in_bounded_memory,
    empty_and_header_only_files_are_refused,
    missing_required_column_is_named,
    binary_garbage_and_nul_bytes_are_refused,
    broken_xlsx_files_are_refused,
    mixed_encodings_are_refused,
    open_quote_and_too_many_columns_are_refused,
    huge_cell_rejects_only_its_row,
    excel_damage_is_rejected_or_repaired,
    quote_left_open_before_the_last_row_refuses_the_file,
    upload_refuses_an_open_quote_and_reads_cr_line_ends,
    overlong_cell_and_line_are_refused,
    blank_lines_before_the_header_are_skipped,
    cr_only_line_ends_are_read,
    warnings_on_rejected_rows_do_not_claim_acceptance,
    huge_inputs_are_refused_in_bounded_memory,
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
