//! Bytes to rows: the CSV/TSV reader (any detected encoding) and the XLSX reader (first
//! worksheet), both streaming, both handing each non-empty row to the pipeline as strings.

use super::sniff::{Encoding, Format, Sniffed};
use super::{IngestError, Refusal};
use calamine::{DataRef, Reader, SheetType, Xlsx};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A field with more line breaks than this is a quote left open, not an address typed with
/// Alt+Enter: everything after it would silently become one cell.
const MAX_BREAKS_IN_FIELD: usize = 2;
/// Past this an XLSX part is a "zip bomb", not a transfer file.
const MAX_XLSX_RATIO: u64 = 100;
const MAX_XLSX_UNPACKED: u64 = 4 << 30;

/// What receives each row: its line number and its cells (which it may take out of the slice).
pub type OnRow<'a> = dyn FnMut(u64, &mut [String]) -> Result<(), IngestError> + 'a;

/// Counts the bytes read from the file, for the progress bar.
pub struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Calls `on_row(line, cells)` for every row that has any content, in file order. `line` is the
/// row's number as a clerk sees it (the CSV line where it starts; the Excel row number).
pub fn read_rows(
    path: &Path,
    sniffed: &Sniffed,
    bytes_read: Arc<AtomicU64>,
    on_row: &mut OnRow<'_>,
) -> Result<(), IngestError> {
    let file = Counting {
        inner: File::open(path)?,
        read: bytes_read,
    };
    match sniffed.format {
        Format::Xlsx => read_xlsx(path, on_row),
        Format::Csv => read_text(file, sniffed.encoding, b',', on_row),
        Format::Tsv => read_text(file, sniffed.encoding, b'\t', on_row),
    }
}

fn read_text<R: Read>(
    file: R,
    encoding: Encoding,
    delimiter: u8,
    on_row: &mut OnRow<'_>,
) -> Result<(), IngestError> {
    let source: Box<dyn Read> = match encoding {
        Encoding::Gb18030 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding_rs::GB18030))
                .build(file),
        ),
        // UTF-16 (Excel's "Unicode text") and UTF-8 with BOM are recognised by their BOM.
        Encoding::Utf16Le | Encoding::Utf16Be | Encoding::Utf8Bom => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .bom_sniffing(true)
                .strip_bom(true)
                .build(file),
        ),
        Encoding::Utf8 | Encoding::Binary => Box::new(file),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        // Records end at LF only (a CR before it is trimmed with the cell): with CRLF as one
        // terminator the csv crate numbers every CRLF line after the first one line too low,
        // and a clerk must find the line the report names.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 20)
        .from_reader(BufReader::with_capacity(1 << 20, source));
    let mut record = csv::ByteRecord::new();
    let mut cells: Vec<String> = Vec::new();
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| IngestError::Refused(Refusal::unreadable(&format!("CSV: {e}"))))?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        cells.clear();
        let mut any = false;
        for field in record.iter() {
            if field.iter().filter(|b| **b == b'\n').count() > MAX_BREAKS_IN_FIELD {
                return Err(IngestError::Refused(Refusal::quote_unclosed(line)));
            }
            let text = match std::str::from_utf8(field) {
                Ok(s) => s.to_owned(),
                Err(_) => String::from_utf8_lossy(field).into_owned(),
            };
            any |= !text.trim().is_empty();
            cells.push(text);
        }
        if any {
            on_row(line, &mut cells)?;
        }
    }
    Ok(())
}

fn check_zip(path: &Path) -> Result<(), IngestError> {
    let damaged =
        |e: &dyn std::fmt::Display| IngestError::Refused(Refusal::damaged(&e.to_string()));
    let mut archive =
        zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(|e| damaged(&e))?;
    let mut total = 0u64;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| damaged(&e))?;
        let size = entry.size();
        total = total.saturating_add(size);
        let ratio = size / entry.compressed_size().max(1);
        if (ratio > MAX_XLSX_RATIO && size > (16 << 20)) || total > MAX_XLSX_UNPACKED {
            return Err(IngestError::Refused(Refusal::zip_bomb()));
        }
    }
    Ok(())
}

fn read_xlsx(path: &Path, on_row: &mut OnRow<'_>) -> Result<(), IngestError> {
    check_zip(path)?;
    let damaged =
        |e: &dyn std::fmt::Display| IngestError::Refused(Refusal::damaged(&e.to_string()));
    let mut book: Xlsx<_> =
        Xlsx::new(BufReader::new(File::open(path)?)).map_err(|e| damaged(&e))?;
    let sheet = book
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or_else(|| IngestError::Refused(Refusal::empty()))?;
    let mut cells_reader = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| damaged(&e))?;
    let mut row: Vec<String> = Vec::new();
    let mut current: Option<u32> = None;
    let mut any = false;
    while let Some(cell) = cells_reader.next_cell().map_err(|e| damaged(&e))? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if let (Some(done), true) = (current, any) {
                on_row(u64::from(done) + 1, &mut row)?;
            }
            row.clear();
            any = false;
            current = Some(r);
        }
        let c = c as usize;
        if c >= super::header::MAX_COLUMNS {
            // Cells far to the right are never a transfer-file column; keep memory bounded.
            if !matches!(cell.get_value(), DataRef::Empty) && row.len() <= c {
                row.resize(super::header::MAX_COLUMNS + 1, String::new());
            }
            continue;
        }
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        let text = cell_text(cell.get_value());
        any |= !text.trim().is_empty();
        row[c] = text;
    }
    if let (Some(done), true) = (current, any) {
        on_row(u64::from(done) + 1, &mut row)?;
    }
    Ok(())
}

/// An XLSX cell as the text a clerk saw. Numbers that lost digits keep Excel's scientific form so
/// the validator can say so; dates become ISO dates.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => match d.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.date().to_string(),
            Some(dt) => dt.to_string(),
            None => float_text(d.as_f64()),
        },
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// Integers that a double holds exactly (up to 15 digits) print as integers; larger ones print as
/// Excel shows them (`1.10105194912312E+17`), because their last digits are already gone.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else if f.abs() >= 1e15 {
        let s = format!("{f:E}");
        s.replacen('E', "E+", 1).replace("E+-", "E-")
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(bytes: &[u8], encoding: Encoding) -> Vec<u64> {
        let mut lines = Vec::new();
        read_text(bytes, encoding, b',', &mut |line, _| {
            lines.push(line);
            Ok(())
        })
        .expect("readable");
        lines
    }

    #[test]
    fn line_numbers_count_crlf_lines_in_every_encoding() {
        let text = "名单（标题）,,\r\n姓名,性别,证件号码\r\n张三,男,1\r\n\r\n李四,女,2\r\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        assert_eq!(lines_of(text.as_bytes(), Encoding::Utf8), vec![1, 2, 3, 5]);
        assert_eq!(lines_of(&gbk, Encoding::Gb18030), vec![1, 2, 3, 5]);
        let quoted = "a,\"b\"\r\n\"c,d\",\"e\"\r\n";
        let mut cells = Vec::new();
        read_text(quoted.as_bytes(), Encoding::Utf8, b',', &mut |line, row| {
            cells.push((
                line,
                row.iter().map(|c| c.trim().to_string()).collect::<Vec<_>>(),
            ));
            Ok(())
        })
        .expect("readable");
        assert_eq!(cells[1], (2, vec!["c,d".to_string(), "e".to_string()]));
    }

    #[test]
    fn large_numbers_keep_excel_scientific_form() {
        assert_eq!(float_text(110105194912310000.0), "1.1010519491231E+17");
        assert_eq!(float_text(110105491231002.0), "110105491231002");
        assert_eq!(float_text(45474.0), "45474");
    }
}
