//! Bytes to rows: the CSV/TSV reader (any detected encoding) and the XLSX reader (the first
//! worksheet for transfer files, every worksheet for follow-up files), both streaming, both
//! handing each non-empty row to the pipeline as strings.

use super::sniff::{Encoding, Format, Sniffed};
use super::{IngestError, Refusal};
use calamine::{DataRef, Reader, SheetType, Xlsx};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A field with more line breaks than this is a quote left open, not an address typed with
/// Alt+Enter: everything after it would silently become one cell.
const MAX_BREAKS_IN_FIELD: usize = 2;
/// Longest CSV/TSV row read at all (every cell, line breaks inside quotes included): a line this
/// long is no transfer-file row, and reading on would make memory follow the input.
pub const MAX_RECORD_BYTES: usize = 4 << 20;
/// Longest single cell read at all, CSV or XLSX. A cell over 1,000 characters but under this is
/// a row problem (`TOO_LONG`); past this the file is refused while it is being read.
pub const MAX_CELL_BYTES: usize = 1 << 20;
/// Past this an XLSX part is a "zip bomb", not a transfer file.
const MAX_XLSX_RATIO: u64 = 100;
const MAX_XLSX_UNPACKED: u64 = 4 << 30;
/// A worksheet is streamed row by row, so it may be large (a million rows unpack to about 1 GB).
const MAX_XLSX_SHEET_PART: u64 = 2 << 30;
/// Every other part (the shared strings above all) is held whole by calamine: this bounds memory.
/// 96 MB of the shortest shared strings (5 million of them) peak at about 270 MB; a workbook with
/// more unique text than that (over half a million rows of it) is to be sent as CSV.
const MAX_XLSX_HELD_PART: u64 = 96 << 20;

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

/// One table of a file: a worksheet of a workbook, or the one table of a CSV/TSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sheet {
    /// The worksheet's position in the workbook, from 1; 0 for a CSV/TSV file.
    pub number: usize,
    /// The worksheet's name; `None` for a CSV/TSV file.
    pub name: Option<String>,
}

/// What receives each row of [`read_sheets`]: its table, its line number and its cells.
pub type OnSheetRow<'a> = dyn FnMut(&Sheet, u64, &mut [String]) -> Result<(), IngestError> + 'a;

/// Like [`read_rows`], but every worksheet of a workbook in workbook order (a follow-up file
/// has one sheet per set), each streamed as the first one is, under the same limits: the parts
/// are checked once for the whole archive, and calamine holds only the shared strings whole.
pub fn read_sheets(
    path: &Path,
    sniffed: &Sniffed,
    bytes_read: Arc<AtomicU64>,
    on_row: &mut OnSheetRow<'_>,
) -> Result<(), IngestError> {
    if sniffed.format != Format::Xlsx {
        let table = Sheet {
            number: 0,
            name: None,
        };
        return read_rows(path, sniffed, bytes_read, &mut |line, cells| {
            on_row(&table, line, cells)
        });
    }
    let mut book = open_xlsx(path)?;
    let names: Vec<String> = book
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    if names.is_empty() {
        return Err(IngestError::Refused(Refusal::empty()));
    }
    for (i, name) in names.into_iter().enumerate() {
        let sheet = Sheet {
            number: i + 1,
            name: Some(name),
        };
        let name = sheet.name.as_deref().unwrap_or_default();
        read_worksheet(&mut book, name, &mut |line, cells| {
            on_row(&sheet, line, cells)
        })?;
    }
    Ok(())
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
    let mut source = BufReader::with_capacity(1 << 20, source);
    let mut splitter = TextSplitter::new(delimiter);
    loop {
        let piece = source.fill_buf()?;
        if piece.is_empty() {
            break;
        }
        let n = piece.len();
        splitter.feed(piece, on_row)?;
        source.consume(n);
    }
    splitter.finish(on_row)
}

/// Where the text splitter stands inside the current cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CellState {
    /// Nothing of the cell read yet: a `"` here opens a quoted cell.
    Start,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted cell: a second `"` is a literal quote, anything else closes it.
    QuoteInQuoted,
}

/// Splits decoded text into rows and cells, RFC 4180 style as Excel writes it, with bounded
/// memory: a cell over [`MAX_CELL_BYTES`] or a row over [`MAX_RECORD_BYTES`] refuses the file
/// while it is being read, and a quote still open at the end of the file refuses it too (its
/// rows would otherwise vanish into one cell). Rows end at LF, CRLF or a lone CR (old Mac); the
/// line numbers count those the way a text editor does, so the clerk finds the line named.
struct TextSplitter {
    delimiter: u8,
    state: CellState,
    /// The physical line being read, from 1.
    line: u64,
    /// The last byte was a CR: an LF right after it ends nothing more.
    after_cr: bool,
    /// The line where the current row started, and where the open quote (if any) opened.
    row_line: u64,
    quote_line: u64,
    /// Line breaks inside the current quoted cell.
    breaks_in_cell: usize,
    row_bytes: usize,
    cell: Vec<u8>,
    cells: Vec<String>,
    /// The row has a non-blank cell (blank rows are skipped).
    any: bool,
    /// The row has started (a byte other than a line end was read).
    started: bool,
}

impl TextSplitter {
    fn new(delimiter: u8) -> TextSplitter {
        TextSplitter {
            delimiter,
            state: CellState::Start,
            line: 1,
            after_cr: false,
            row_line: 1,
            quote_line: 1,
            breaks_in_cell: 0,
            row_bytes: 0,
            cell: Vec::new(),
            cells: Vec::new(),
            any: false,
            started: false,
        }
    }

    fn feed(&mut self, piece: &[u8], on_row: &mut OnRow<'_>) -> Result<(), IngestError> {
        let mut i = 0;
        while i < piece.len() {
            // Plain cell bytes are copied in runs; only structural bytes go one at a time.
            if matches!(self.state, CellState::Unquoted | CellState::Quoted) {
                let quoted = self.state == CellState::Quoted;
                let run = piece[i..]
                    .iter()
                    .position(|&b| {
                        b == b'"' || b == b'\n' || b == b'\r' || (!quoted && b == self.delimiter)
                    })
                    .unwrap_or(piece.len() - i);
                if run > 0 {
                    self.take(&piece[i..i + run])?;
                    self.after_cr = false;
                    i += run;
                    continue;
                }
            }
            self.byte(piece[i], on_row)?;
            i += 1;
        }
        Ok(())
    }

    /// Counts bytes of the current row; a row past the limit refuses the file.
    fn count(&mut self, n: usize) -> Result<(), IngestError> {
        self.row_bytes += n;
        if self.row_bytes > MAX_RECORD_BYTES {
            return Err(IngestError::Refused(Refusal::line_too_long(
                self.row_line,
                MAX_RECORD_BYTES,
            )));
        }
        Ok(())
    }

    /// Appends bytes to the current cell, within the limits.
    fn take(&mut self, bytes: &[u8]) -> Result<(), IngestError> {
        if self.cell.len() + bytes.len() > MAX_CELL_BYTES {
            return Err(IngestError::Refused(Refusal::cell_too_long(
                self.row_line,
                MAX_CELL_BYTES,
            )));
        }
        self.count(bytes.len())?;
        self.cell.extend_from_slice(bytes);
        Ok(())
    }

    /// A line break inside a quoted cell: kept in the cell, counted as a line.
    fn break_in_quotes(&mut self, b: u8) -> Result<(), IngestError> {
        let lf_after_cr = b == b'\n' && self.after_cr;
        self.take(&[b])?;
        if !lf_after_cr {
            self.line += 1;
            self.breaks_in_cell += 1;
            if self.breaks_in_cell > MAX_BREAKS_IN_FIELD {
                return Err(IngestError::Refused(Refusal::quote_unclosed(
                    self.quote_line,
                )));
            }
        }
        self.after_cr = b == b'\r';
        Ok(())
    }

    fn byte(&mut self, b: u8, on_row: &mut OnRow<'_>) -> Result<(), IngestError> {
        if self.state == CellState::Quoted {
            return match b {
                b'"' => {
                    self.after_cr = false;
                    self.state = CellState::QuoteInQuoted;
                    self.count(1)
                }
                _ => self.break_in_quotes(b),
            };
        }
        if self.state == CellState::QuoteInQuoted {
            if b == b'"' {
                self.after_cr = false;
                self.state = CellState::Quoted;
                return self.take(b"\"");
            }
            // The quote closed; what follows it is read as plain text (as Excel does).
            self.state = CellState::Unquoted;
        }
        match b {
            b'\n' if self.after_cr => {
                // The LF of a CRLF: the CR already ended the line.
                self.after_cr = false;
                Ok(())
            }
            b'\n' | b'\r' => {
                self.after_cr = b == b'\r';
                self.end_row(on_row)?;
                self.line += 1;
                self.row_line = self.line;
                Ok(())
            }
            _ => {
                self.after_cr = false;
                self.started = true;
                if b == self.delimiter {
                    self.count(1)?;
                    self.end_cell();
                } else if b == b'"' && self.state == CellState::Start {
                    self.count(1)?;
                    self.state = CellState::Quoted;
                    self.quote_line = self.line;
                    self.breaks_in_cell = 0;
                } else {
                    self.state = CellState::Unquoted;
                    self.take(&[b])?;
                }
                Ok(())
            }
        }
    }

    fn end_cell(&mut self) {
        let text = match String::from_utf8(std::mem::take(&mut self.cell)) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let blank = text.trim().is_empty();
        self.any |= !blank;
        if self.cells.len() <= super::header::MAX_COLUMNS {
            self.cells.push(text);
        } else if !blank && self.cells[super::header::MAX_COLUMNS].trim().is_empty() {
            // Cells past the limit are never a transfer-file column: one stands for them all, so
            // the header still shows too many columns while memory stays bounded.
            self.cells[super::header::MAX_COLUMNS] = text;
        }
        self.state = CellState::Start;
    }

    fn end_row(&mut self, on_row: &mut OnRow<'_>) -> Result<(), IngestError> {
        if self.started {
            self.end_cell();
            if self.any {
                on_row(self.row_line, &mut self.cells)?;
            }
        }
        self.cells.clear();
        self.any = false;
        self.started = false;
        self.row_bytes = 0;
        self.state = CellState::Start;
        Ok(())
    }

    fn finish(mut self, on_row: &mut OnRow<'_>) -> Result<(), IngestError> {
        if self.state == CellState::Quoted {
            return Err(IngestError::Refused(Refusal::quote_unclosed(
                self.quote_line,
            )));
        }
        self.end_row(on_row)
    }
}

/// Reads every part of the XLSX once, unpacking it in pieces, before calamine sees it: a part
/// that unpacks past its limit (counted byte by byte, whatever its header claims) or a cell text
/// past [`MAX_CELL_BYTES`] refuses the file while it is being unpacked. calamine holds the
/// shared strings and every part but the worksheets whole, so those have the lower limit.
fn check_zip(path: &Path) -> Result<(), IngestError> {
    let mut archive =
        zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(|e| damaged(&e))?;
    // What the headers claim first: a bomb is refused before a byte of it is unpacked.
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
    // Then what the parts really hold.
    let mut total = 0u64;
    let mut piece = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| damaged(&e))?;
        let name = entry.name().map_err(|e| damaged(&e))?.to_string();
        let lower = name.to_ascii_lowercase();
        let limit = if lower.starts_with("xl/worksheets/") {
            MAX_XLSX_SHEET_PART
        } else {
            MAX_XLSX_HELD_PART
        };
        let is_xml = lower.ends_with(".xml") || lower.ends_with(".rels");
        let mut part = 0u64;
        // Bytes since the last `<`: the longest text (a cell's value) in the part.
        let mut text_run = 0usize;
        let mut cell_span = CellSpan::default();
        loop {
            let n = entry.read(&mut piece).map_err(|e| damaged(&e))?;
            if n == 0 {
                break;
            }
            part += n as u64;
            total += n as u64;
            if part > limit {
                return Err(IngestError::Refused(Refusal::xlsx_part_too_large(
                    &name, limit,
                )));
            }
            if total > MAX_XLSX_UNPACKED {
                return Err(IngestError::Refused(Refusal::zip_bomb()));
            }
            if is_xml {
                if cell_span.feed(&piece[..n]) {
                    return Err(IngestError::Refused(Refusal::xlsx_cell_too_long(
                        &name,
                        MAX_CELL_BYTES,
                    )));
                }
                for chunk in piece[..n].split_inclusive(|b| *b == b'<') {
                    text_run += chunk.len();
                    if text_run > MAX_CELL_BYTES {
                        return Err(IngestError::Refused(Refusal::xlsx_cell_too_long(
                            &name,
                            MAX_CELL_BYTES,
                        )));
                    }
                    if chunk.last() == Some(&b'<') {
                        text_run = 0;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Longest XML of one cell (`<c>…</c>` in a worksheet, `<si>…</si>` in the shared strings):
/// the cell's text with its markup, rich-text runs included (calamine joins them into one string,
/// so many short runs are as long a cell as one long text).
const MAX_CELL_XML_BYTES: usize = 2 * MAX_CELL_BYTES;

/// Follows cell elements through an XML part as it streams by, one byte at a time (tags may be
/// cut by the end of a piece), and tells when one grows past [`MAX_CELL_XML_BYTES`].
#[derive(Default)]
struct CellSpan {
    /// How much of a cell's opening or closing tag has been seen.
    tag: TagState,
    previous: u8,
    inside: bool,
    bytes: usize,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum TagState {
    #[default]
    None,
    /// `<`
    Open,
    /// `<c`
    C,
    /// `<s`, `<si`
    S,
    Si,
    /// Inside a cell's opening tag: `/>` ends an empty cell there.
    StartTag,
    /// `</`, `</c`, `</s`, `</si`
    Close,
    CloseC,
    CloseS,
    CloseSi,
}

impl CellSpan {
    /// Reads more of the part; true when a cell is past the limit.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        let mut i = 0;
        while i < bytes.len() {
            // Text and attributes are skipped in runs up to the next byte that can matter.
            let stop = match self.tag {
                TagState::None => Some(b'<'),
                TagState::StartTag => Some(b'>'),
                _ => None,
            };
            if let Some(stop) = stop {
                let run = bytes[i..]
                    .iter()
                    .position(|b| *b == stop)
                    .unwrap_or(bytes.len() - i);
                if run > 0 {
                    self.previous = bytes[i + run - 1];
                    if self.inside {
                        self.bytes += run;
                        if self.bytes > MAX_CELL_XML_BYTES {
                            return true;
                        }
                    }
                    i += run;
                    continue;
                }
            }
            let b = bytes[i];
            i += 1;
            self.tag = match (self.tag, b) {
                (TagState::StartTag, b'>') => {
                    if self.previous == b'/' {
                        self.inside = false;
                    }
                    TagState::None
                }
                (TagState::StartTag, _) => TagState::StartTag,
                (_, b'<') => TagState::Open,
                (TagState::Open, b'c') => TagState::C,
                (TagState::Open, b's') => TagState::S,
                (TagState::Open, b'/') => TagState::Close,
                (TagState::S, b'i') => TagState::Si,
                (TagState::C | TagState::Si, b' ' | b'>' | b'/' | b'\t' | b'\r' | b'\n') => {
                    self.inside = true;
                    self.bytes = 0;
                    if b == b'>' {
                        TagState::None
                    } else {
                        TagState::StartTag
                    }
                }
                (TagState::Close, b'c') => TagState::CloseC,
                (TagState::Close, b's') => TagState::CloseS,
                (TagState::CloseS, b'i') => TagState::CloseSi,
                (TagState::CloseC | TagState::CloseSi, b'>') => {
                    self.inside = false;
                    TagState::None
                }
                _ => TagState::None,
            };
            self.previous = b;
            if self.inside {
                self.bytes += 1;
                if self.bytes > MAX_CELL_XML_BYTES {
                    return true;
                }
            }
        }
        false
    }
}

fn damaged(e: &dyn std::fmt::Display) -> IngestError {
    IngestError::Refused(Refusal::damaged(&e.to_string()))
}

/// The workbook, once every part of it passed [`check_zip`].
fn open_xlsx(path: &Path) -> Result<Xlsx<BufReader<File>>, IngestError> {
    check_zip(path)?;
    Xlsx::new(BufReader::new(File::open(path)?)).map_err(|e| damaged(&e))
}

/// The first worksheet (a transfer file has one table).
fn read_xlsx(path: &Path, on_row: &mut OnRow<'_>) -> Result<(), IngestError> {
    let mut book = open_xlsx(path)?;
    let sheet = book
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or_else(|| IngestError::Refused(Refusal::empty()))?;
    read_worksheet(&mut book, &sheet, on_row)
}

/// One worksheet, streamed cell by cell.
fn read_worksheet(
    book: &mut Xlsx<BufReader<File>>,
    sheet: &str,
    on_row: &mut OnRow<'_>,
) -> Result<(), IngestError> {
    let mut cells_reader = book
        .worksheet_cells_reader(sheet)
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
            // Cells far to the right are never a transfer-file column: one stands for them all,
            // so the header still shows too many columns while memory stays bounded.
            let text = cell_text(cell.get_value());
            if !text.trim().is_empty() {
                if row.len() <= super::header::MAX_COLUMNS {
                    row.resize(super::header::MAX_COLUMNS + 1, String::new());
                }
                let overflow = &mut row[super::header::MAX_COLUMNS];
                if overflow.trim().is_empty() {
                    *overflow = text;
                }
                any = true;
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

    fn rows_of(text: &str) -> Result<Vec<(u64, Vec<String>)>, IngestError> {
        let mut rows = Vec::new();
        read_text(text.as_bytes(), Encoding::Utf8, b',', &mut |line, cells| {
            rows.push((line, cells.to_vec()));
            Ok(())
        })?;
        Ok(rows)
    }

    fn refusal_code(result: Result<Vec<(u64, Vec<String>)>, IngestError>) -> (String, String) {
        match result {
            Err(IngestError::Refused(r)) => (r.code.to_string(), r.message),
            other => panic!("expected a refusal, got {:?}", other.map(|r| r.len())),
        }
    }

    #[test]
    fn quotes_escapes_and_every_kind_of_line_end() {
        let rows = rows_of("a,\"b \"\"x\"\" c\"\r\n\"d\ne\",f\rg,h\n\n\ri,j").expect("readable");
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![1, 2, 4, 7]);
        assert_eq!(rows[0].1, vec!["a", "b \"x\" c"]);
        assert_eq!(rows[1].1, vec!["d\ne", "f"]);
        assert_eq!(rows[2].1, vec!["g", "h"]);
    }

    #[test]
    fn a_quote_open_at_the_end_names_the_line_it_opened() {
        let (code, message) = refusal_code(rows_of("a,b\nc,\"d\ne,f\n"));
        assert_eq!(code, "QUOTE_UNCLOSED");
        assert!(message.contains("第 2 行"), "{message}");
        let (code, _) = refusal_code(rows_of("a,b\nc,\"d"));
        assert_eq!(code, "QUOTE_UNCLOSED");
    }

    #[test]
    fn cells_and_rows_past_the_limits_are_refused() {
        let cell = format!("a\n{}\n", "x".repeat(MAX_CELL_BYTES + 1));
        let (code, message) = refusal_code(rows_of(&cell));
        assert_eq!(code, "CELL_TOO_LONG");
        assert!(message.contains("第 2 行"), "{message}");
        let row = ",x".repeat(MAX_RECORD_BYTES / 2 + 1);
        assert_eq!(refusal_code(rows_of(&row)).0, "LINE_TOO_LONG");
    }

    #[test]
    fn cells_past_the_column_limit_keep_one_stand_in() {
        let wide: Vec<String> = (0..1_000).map(|i| format!("c{i}")).collect();
        let rows = rows_of(&wide.join(",")).expect("readable");
        let cells = &rows[0].1;
        assert_eq!(cells.len(), super::super::header::MAX_COLUMNS + 1);
        assert_eq!(cells[super::super::header::MAX_COLUMNS], "c200");
    }

    #[test]
    fn cell_span_follows_cells_and_ignores_other_elements() {
        let mut span = CellSpan::default();
        let run = "<r><t>ab</t></r>".repeat(MAX_CELL_XML_BYTES / 16 + 1);
        // Many short rich-text runs in one shared string make one long cell ...
        assert!(span.feed(format!("<sst><si>{run}</si></sst>").as_bytes()));
        // ... in pieces cut anywhere too.
        let mut span = CellSpan::default();
        let text = format!("<row><c r=\"A1\" t=\"inlineStr\"><is>{run}</is></c></row>");
        assert!(text.as_bytes().chunks(7).any(|piece| span.feed(piece)));
        // Empty cells, many small cells and long non-cell elements are not.
        let mut span = CellSpan::default();
        let cells = "<c r=\"A1\"/><c r=\"B1\"><v>1</v></c>".repeat(200_000);
        let merges = "<mergeCell ref=\"A1:B2\"/>".repeat(200_000);
        let sheet = format!("<sheetData><row>{cells}</row></sheetData><cols/>{merges}");
        assert!(!span.feed(sheet.as_bytes()));
    }

    #[test]
    fn every_worksheet_is_read_in_workbook_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("book.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        for (name, text) in [("就业服务", "a"), ("空表", ""), ("就业状态", "b")] {
            let sheet = book.add_worksheet();
            sheet.set_name(name).expect("name");
            if !text.is_empty() {
                sheet.write_string(2, 1, text).expect("cell");
            }
        }
        book.save(&path).expect("save");
        let sniffed = super::super::sniff::sniff(&path, "book.xlsx").expect("sniff");
        let mut seen = Vec::new();
        read_sheets(
            &path,
            &sniffed,
            Arc::default(),
            &mut |sheet, line, cells| {
                seen.push((sheet.number, sheet.name.clone(), line, cells.to_vec()));
                Ok(())
            },
        )
        .expect("readable");
        let cells = |t: &str| vec![String::new(), t.to_string()];
        assert_eq!(
            seen,
            vec![
                (1, Some("就业服务".to_string()), 3, cells("a")),
                (3, Some("就业状态".to_string()), 3, cells("b")),
            ]
        );
    }

    #[test]
    fn large_numbers_keep_excel_scientific_form() {
        assert_eq!(float_text(110105194912310000.0), "1.1010519491231E+17");
        assert_eq!(float_text(110105491231002.0), "110105491231002");
        assert_eq!(float_text(45474.0), "45474");
    }
}
