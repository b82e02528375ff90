//! Follow-up files from local offices: CSV/TSV or XLSX with one sheet or file per set, read by the
//! transfer-file sniffer and reader, every row judged and stored by [`Followup::submit`] exactly as
//! an event of the API is, and answered with an import summary and a reject report.
//!
//! A file is read twice. The first pass finds each table's header, maps its columns and settles
//! the kind of its rows, and counts the rows: whatever makes the file unusable (unreadable, no
//! recognisable header, a required column missing, a table whose kind nothing tells) refuses it
//! before anything is stored. The second pass submits the rows in chunks of [`MAX_EVENTS`], each
//! chunk one transaction. Rows without an 事件编号 get the client key `row:<first 16 hex of the
//! SHA-256 of what the row says>`, so a file sent again, an import cut off half-way and sent
//! again, or a corrected file sent whole again stores each event once (only the corrected lines
//! are new).

use super::{EventStatus, Followup, Source, SubmitAnswer, MAX_EVENTS};
use crate::authz::{Caller, Permission};
use crate::db::audit;
use crate::distribution::DistError;
use crate::domain::catalogue::ErrorCode;
use crate::domain::followup::{EventKind, Field, RawEvent};
use crate::export::{ExportError, TableFormat, TableWriter};
use crate::ingest::header::{HEADER_SEARCH_ROWS, MAX_COLUMNS};
use crate::ingest::readers::{self, Sheet};
use crate::ingest::sniff::{self, Format, SniffError, Sniffed};
use crate::ingest::{IngestError, Progress, Refusal};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What to import and how.
pub struct ImportRequest<'a> {
    pub path: &'a Path,
    /// The name the file was sent under: `.tsv`/`.txt` hint a tab-separated file, and the name
    /// of a CSV can give the kind of its rows (`就业服务.csv`, `service.csv`).
    pub file_name: &'a str,
    /// The kind given with the file (`--kind`, `kind=`), for tables nothing else gives one.
    pub kind: Option<EventKind>,
    /// Judge every row, store nothing.
    pub dry_run: bool,
}

/// Why an import stopped. `Refused` is the sender's to fix (nothing of the file was stored).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Refused(Refusal),
    #[error(transparent)]
    Service(#[from] DistError),
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
}

impl From<IngestError> for ImportError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Refused(r) => ImportError::Refused(r),
            IngestError::Io(e) => ImportError::Io(e),
            IngestError::Storage(e) => ImportError::Service(DistError::Db(e)),
            IngestError::WriterStopped => {
                ImportError::Io(std::io::Error::other("the import stopped while reading"))
            }
        }
    }
}

/// The answer of an import: what was read, what became of it, and every problem of every
/// rejected line.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub file_name: String,
    pub sha256: String,
    /// `csv`, `tsv` or `xlsx`.
    pub format: String,
    /// The text encoding detected (`UTF-8`, `UTF-8-BOM`, `GB18030`, `UTF-16LE`, …; `xlsx`).
    pub encoding: String,
    pub dry_run: bool,
    /// Data rows read (non-empty rows below a header).
    pub rows: u64,
    /// Events stored now (for a dry run: that would be stored).
    pub accepted: u64,
    /// Events stored before under the same client key with the same content (the same file sent
    /// again): nothing stored twice.
    pub duplicates: u64,
    /// Lines not stored; `problems` says why.
    pub rejected: u64,
    /// Each table read: the CSV/TSV file, or each worksheet with a header.
    pub sheets: Vec<SheetSummary>,
    /// Worksheets that name no follow-up column at all (an instructions sheet, a code list),
    /// not read.
    pub skipped_sheets: Vec<String>,
    /// Columns no follow-up field is known by, ignored (`sheet：column` in a workbook).
    pub unknown_columns: Vec<String>,
    /// One entry per problem of a rejected line, in file order.
    pub problems: Vec<LineProblem>,
}

/// One table of an import.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SheetSummary {
    /// The worksheet's position in the workbook, from 1; 0 for a CSV/TSV file.
    pub number: usize,
    /// The worksheet's name; null for a CSV/TSV file.
    pub name: Option<String>,
    /// The kind its rows have unless their 事件类型 cell says otherwise; null when every row's
    /// kind comes from the 事件类型 column.
    pub kind: Option<EventKind>,
    pub rows: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

/// One problem of one rejected line.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct LineProblem {
    /// The worksheet's name; null for a CSV/TSV file.
    pub sheet: Option<String>,
    /// The line (CSV) or Excel row number.
    pub line: u64,
    pub field: Field,
    /// The column's Chinese header (证件号码, 服务类型, …).
    pub column: String,
    /// The value as sent (ID numbers of unknown records masked), cut to 100 characters.
    pub value: String,
    pub code: ErrorCode,
    pub message: String,
    pub message_en: String,
}

/// Where each follow-up field sits in a table's rows.
#[derive(Clone, Debug, Default)]
struct ColumnMap {
    positions: Vec<(Field, usize)>,
    unknown: Vec<String>,
}

impl ColumnMap {
    fn map(cells: &[String], place: &Place) -> Result<ColumnMap, Refusal> {
        let width = cells
            .iter()
            .rposition(|c| !c.trim().is_empty())
            .map_or(0, |p| p + 1);
        if width > MAX_COLUMNS {
            return Err(Refusal {
                code: ErrorCode::TooManyColumns,
                message: format!(
                    "{}的表头超过 {MAX_COLUMNS} 列，不是跟踪记录文件格式。整个文件未接收。",
                    place.zh
                ),
                message_en: format!(
                    "The header of {} has more than {MAX_COLUMNS} columns; this is not a follow-up file. Nothing was stored.",
                    place.en
                ),
            });
        }
        let mut map = ColumnMap::default();
        for (i, cell) in cells.iter().take(width).enumerate() {
            let name = cell.trim();
            match Field::from_header(name) {
                Some(f) if !map.has(f) => map.positions.push((f, i)),
                Some(_) => map
                    .unknown
                    .push(format!("{name}（重复列，已忽略 / duplicate, ignored）")),
                None if name.is_empty() => {}
                None => map.unknown.push(name.to_string()),
            }
        }
        Ok(map)
    }

    fn has(&self, field: Field) -> bool {
        self.positions.iter().any(|(f, _)| *f == field)
    }
}

/// How many distinct follow-up fields a row names.
fn known_fields(cells: &[String]) -> usize {
    let mut seen: Vec<Field> = cells
        .iter()
        .take(MAX_COLUMNS)
        .filter_map(|c| Field::from_header(c))
        .collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

/// A row naming at least this many fields is a header (证件号码 and 日期, say); data rows name none.
const HEADER_MIN_FIELDS: usize = 2;

/// A table as the refusals name it.
struct Place {
    zh: String,
    en: String,
}

impl Place {
    fn of(sheet: &Sheet) -> Place {
        match &sheet.name {
            Some(name) => Place {
                zh: format!("工作表“{name}”"),
                en: format!("sheet {name:?}"),
            },
            None => Place {
                zh: "文件".into(),
                en: "the file".into(),
            },
        }
    }
}

/// One table while the first pass reads it.
struct Scan {
    sheet: Sheet,
    /// Rows above the header (a title, a date line), until the header is found.
    leading: Vec<(u64, Vec<String>)>,
    header: Option<(u64, Vec<String>)>,
    /// No row of the first [`HEADER_SEARCH_ROWS`] names any follow-up field.
    unrecognised: bool,
    rows: u64,
}

impl Scan {
    fn new(sheet: Sheet) -> Scan {
        Scan {
            sheet,
            leading: Vec::new(),
            header: None,
            unrecognised: false,
            rows: 0,
        }
    }

    fn on_row(&mut self, line: u64, cells: &[String]) {
        if self.header.is_some() {
            self.rows += 1;
            return;
        }
        if self.unrecognised {
            return;
        }
        if known_fields(cells) >= HEADER_MIN_FIELDS {
            self.header = Some((line, cells.to_vec()));
            self.leading.clear();
            return;
        }
        self.leading.push((line, cells.to_vec()));
        if self.leading.len() >= HEADER_SEARCH_ROWS {
            self.settle_header();
        }
    }

    /// No row named enough fields: the best candidate is the header (so the refusal names what
    /// it lacks), or, when no row names any, the table is not a follow-up table.
    fn settle_header(&mut self) {
        if self.header.is_some() {
            return;
        }
        let best = self
            .leading
            .iter()
            .max_by_key(|(_, row)| known_fields(row))
            .filter(|(_, row)| known_fields(row) > 0)
            .cloned();
        match best {
            Some((line, row)) => {
                // The rows below the chosen one were taken as leading rows: they are data.
                self.rows = self.leading.iter().filter(|(l, _)| *l > line).count() as u64;
                self.header = Some((line, row));
            }
            None => self.unrecognised = true,
        }
        self.leading.clear();
    }
}

/// A table as the second pass reads it.
struct Table {
    sheet: Sheet,
    header_line: u64,
    columns: ColumnMap,
    /// The kind of rows whose 事件类型 cell is empty (or that have none).
    kind: Option<EventKind>,
    rows: u64,
}

impl Table {
    fn event(&self, cells: &mut [String]) -> RawEvent {
        let mut raw = RawEvent::default();
        for (field, pos) in &self.columns.positions {
            if let Some(cell) = cells.get_mut(*pos) {
                if !cell.trim().is_empty() {
                    raw.set(*field, std::mem::take(cell));
                }
            }
        }
        if raw.get(Field::Kind).is_none() {
            if let Some(kind) = self.kind {
                raw.set(Field::Kind, kind.as_str());
            }
        }
        if raw.get(Field::ClientKey).is_none() {
            // What the row says decides its key, not where it stands: a row kept as it was in a
            // corrected file is the event already stored.
            let mut hasher = Sha256::new();
            for (field, value) in &raw.fields {
                hasher.update(field.key().as_bytes());
                hasher.update([0x1f]);
                hasher.update(value.trim().as_bytes());
                hasher.update([0x1e]);
            }
            let hex: String = hasher.finalize()[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            raw.set(Field::ClientKey, format!("row:{hex}"));
        }
        raw
    }
}

/// What the first pass found: the tables to read, and what it set aside.
struct Plan {
    tables: Vec<Table>,
    skipped: Vec<String>,
    unknown_columns: Vec<String>,
}

impl Followup {
    /// Imports a follow-up file as `caller`: refused whole (nothing stored), or every row
    /// answered accepted, duplicate or rejected through the one rule set.
    pub fn import_file(
        &self,
        caller: &Caller,
        request: &ImportRequest<'_>,
        progress: &dyn Progress,
    ) -> Result<ImportSummary, ImportError> {
        caller
            .require(Permission::FollowUp)
            .map_err(DistError::from)?;
        let sniffed = match sniff::sniff(request.path, request.file_name) {
            Ok(s) => s,
            Err(SniffError::Refused(r)) => return Err(ImportError::Refused(r)),
            Err(SniffError::Io(e)) => return Err(ImportError::Io(e)),
        };
        // File names come from clerks and shares: escaped, so a name cannot forge a log line.
        tracing::info!(
            org = %caller.org_code,
            file = %request.file_name.escape_debug(),
            size = sniffed.size,
            sha256 = %&sniffed.sha256[..sniffed.sha256.len().min(12)],
            dry_run = request.dry_run,
            "follow-up import starts"
        );
        let plan = plan(request, &sniffed)?;
        let summary = self.submit_rows(caller, request, &sniffed, &plan, progress)?;
        if !request.dry_run {
            let mut conn = self.dist.db.conn().map_err(DistError::from)?;
            audit::record(
                &mut conn,
                &caller.actor,
                "followup.file_imported",
                &format!("file:{}", key_hex(&sniffed)),
                None,
                Some(&serde_json::json!({
                    "file_name": request.file_name,
                    "rows": summary.rows,
                    "accepted": summary.accepted,
                    "duplicates": summary.duplicates,
                    "rejected": summary.rejected,
                })),
            )
            .map_err(DistError::from)?;
        }
        tracing::info!(
            rows = summary.rows,
            accepted = summary.accepted,
            duplicates = summary.duplicates,
            rejected = summary.rejected,
            "follow-up import done"
        );
        Ok(summary)
    }

    /// The second pass: every row of every planned table through [`Followup::submit`], a chunk
    /// of one table's rows at a time (so the echoed index is the line).
    fn submit_rows(
        &self,
        caller: &Caller,
        request: &ImportRequest<'_>,
        sniffed: &Sniffed,
        plan: &Plan,
        progress: &dyn Progress,
    ) -> Result<ImportSummary, ImportError> {
        let mut summary = ImportSummary {
            file_name: request.file_name.to_string(),
            sha256: sniffed.sha256.clone(),
            format: sniffed.format.as_str().to_string(),
            encoding: sniffed.encoding.as_str().to_string(),
            dry_run: request.dry_run,
            rows: 0,
            accepted: 0,
            duplicates: 0,
            rejected: 0,
            sheets: plan
                .tables
                .iter()
                .map(|t| SheetSummary {
                    number: t.sheet.number,
                    name: t.sheet.name.clone(),
                    kind: t.kind,
                    rows: 0,
                    accepted: 0,
                    duplicates: 0,
                    rejected: 0,
                })
                .collect(),
            skipped_sheets: plan.skipped.clone(),
            unknown_columns: plan.unknown_columns.clone(),
            problems: Vec::new(),
        };
        progress.start(sniffed.size);
        let bytes_read = Arc::new(AtomicU64::new(0));
        let mut chunk: Vec<(usize, RawEvent)> = Vec::with_capacity(MAX_EVENTS);
        let mut current: Option<usize> = None;
        // The service's error cannot cross the reader's callback: it waits here, and the reader
        // is stopped with `WriterStopped`.
        let mut failed: Option<ImportError> = None;
        let flush = |table: usize,
                     chunk: &mut Vec<(usize, RawEvent)>,
                     summary: &mut ImportSummary|
         -> Result<(), ImportError> {
            if chunk.is_empty() {
                return Ok(());
            }
            let events = std::mem::replace(chunk, Vec::with_capacity(MAX_EVENTS));
            let answer = self.submit(caller, events, Source::File, request.dry_run)?;
            tally(summary, table, &plan.tables[table], answer);
            progress.update(bytes_read.load(Ordering::Relaxed), summary.rows);
            Ok(())
        };
        let read = readers::read_sheets(
            request.path,
            sniffed,
            bytes_read.clone(),
            &mut |sheet, line, cells| {
                let Some(index) = plan
                    .tables
                    .iter()
                    .position(|t| t.sheet.number == sheet.number)
                else {
                    return Ok(());
                };
                let table = &plan.tables[index];
                if line <= table.header_line {
                    return Ok(());
                }
                if let Some(previous) = current.filter(|p| *p != index) {
                    if let Err(e) = flush(previous, &mut chunk, &mut summary) {
                        failed = Some(e);
                        return Err(IngestError::WriterStopped);
                    }
                }
                current = Some(index);
                let at = usize::try_from(line).unwrap_or(usize::MAX);
                chunk.push((at, table.event(cells)));
                if chunk.len() >= MAX_EVENTS {
                    if let Err(e) = flush(index, &mut chunk, &mut summary) {
                        failed = Some(e);
                        return Err(IngestError::WriterStopped);
                    }
                }
                Ok(())
            },
        );
        if let Some(e) = failed {
            progress.finish();
            return Err(e);
        }
        if let Err(e) = read {
            progress.finish();
            return Err(e.into());
        }
        if let Some(last) = current {
            let done = flush(last, &mut chunk, &mut summary);
            if let Err(e) = done {
                progress.finish();
                return Err(e);
            }
        }
        progress.finish();
        Ok(summary)
    }
}

/// Adds one chunk's answer to the summary.
fn tally(summary: &mut ImportSummary, index: usize, table: &Table, answer: SubmitAnswer) {
    let rows = answer.events.len() as u64;
    let (accepted, duplicates, rejected) = (
        answer.accepted as u64,
        answer.duplicates as u64,
        answer.rejected as u64,
    );
    summary.rows += rows;
    summary.accepted += accepted;
    summary.duplicates += duplicates;
    summary.rejected += rejected;
    if let Some(sheet) = summary.sheets.get_mut(index) {
        sheet.rows += rows;
        sheet.accepted += accepted;
        sheet.duplicates += duplicates;
        sheet.rejected += rejected;
    }
    for outcome in answer.events {
        if outcome.status != EventStatus::Rejected {
            continue;
        }
        for p in outcome.problems {
            summary.problems.push(LineProblem {
                sheet: table.sheet.name.clone(),
                line: outcome.index as u64,
                field: p.field,
                column: p.field.header_zh().to_string(),
                value: p.value,
                code: p.code,
                message: p.message,
                message_en: p.message_en,
            });
        }
    }
}

/// The first 16 hex digits of the file's SHA-256: the file's part of its rows' client keys.
fn key_hex(sniffed: &Sniffed) -> &str {
    &sniffed.sha256[..sniffed.sha256.len().min(16)]
}

/// The first pass: each table's header, columns and kind, or the refusal of the whole file.
fn plan(request: &ImportRequest<'_>, sniffed: &Sniffed) -> Result<Plan, ImportError> {
    let mut scans: Vec<Scan> = Vec::new();
    readers::read_sheets(
        request.path,
        sniffed,
        Arc::default(),
        &mut |sheet, line, cells| {
            if scans.last().is_none_or(|s| s.sheet.number != sheet.number) {
                scans.push(Scan::new(sheet.clone()));
            }
            if let Some(scan) = scans.last_mut() {
                scan.on_row(line, cells);
            }
            Ok(())
        },
    )?;
    let refuse = |r: Refusal| Err(ImportError::Refused(r));
    if scans.is_empty() {
        return refuse(Refusal::empty());
    }
    let mut plan = Plan {
        tables: Vec::new(),
        skipped: Vec::new(),
        unknown_columns: Vec::new(),
    };
    let file_kind = match sniffed.format {
        Format::Csv | Format::Tsv => kind_of_file_name(request.file_name),
        Format::Xlsx => None,
    };
    for mut scan in scans {
        scan.settle_header();
        let place = Place::of(&scan.sheet);
        let sheet_kind = scan.sheet.name.as_deref().and_then(EventKind::parse);
        let Some((header_line, header)) = scan.header.take() else {
            // A worksheet beside the sets (instructions, a code list) is set aside and listed;
            // a CSV, or a sheet named after a set, was meant to be read.
            if scan.sheet.name.is_some() && sheet_kind.is_none() {
                plan.skipped.extend(scan.sheet.name.clone());
                continue;
            }
            return refuse(header_not_found(&place));
        };
        let columns = ColumnMap::map(&header, &place).map_err(ImportError::Refused)?;
        let kind = sheet_kind.or(file_kind).or(request.kind);
        if kind.is_none() && !columns.has(Field::Kind) {
            return refuse(kind_missing(&place, &scan.sheet, request.file_name));
        }
        let missing = missing_columns(&columns, kind);
        if !missing.is_empty() {
            return refuse(columns_missing(&place, &missing));
        }
        plan.unknown_columns
            .extend(columns.unknown.iter().map(|c| match &scan.sheet.name {
                Some(sheet) => format!("{sheet}：{c}"),
                None => c.clone(),
            }));
        plan.tables.push(Table {
            sheet: scan.sheet,
            header_line,
            columns,
            kind,
            rows: scan.rows,
        });
    }
    if plan.tables.is_empty() {
        return refuse(header_not_found(&Place {
            zh: "文件的各工作表中都".into(),
            en: "any sheet of the file".into(),
        }));
    }
    if plan.tables.iter().all(|t| t.rows == 0) {
        return refuse(Refusal::no_data_rows());
    }
    Ok(plan)
}

/// The columns a table must have, by the Chinese header (alternatives joined with 或).
fn missing_columns(columns: &ColumnMap, kind: Option<EventKind>) -> Vec<(String, String)> {
    let mut missing: Vec<(String, String)> = Vec::new();
    let mut need = |fields: &[Field]| {
        if !fields.iter().any(|f| columns.has(*f)) {
            let zh: Vec<&str> = fields.iter().map(|f| f.header_zh()).collect();
            let en: Vec<&str> = fields.iter().map(|f| f.key()).collect();
            missing.push((zh.join(" 或 "), en.join(" or ")));
        }
    };
    need(&[Field::IdNumber, Field::RecordId]);
    if columns.has(Field::IdNumber) && !columns.has(Field::RecordId) {
        need(&[Field::GraduationYear]);
    }
    need(&[Field::Date]);
    // Columns of the kind are required of a table of one kind; where a 事件类型 column mixes
    // kinds, a row that lacks its kind's value is rejected on its own.
    if !columns.has(Field::Kind) {
        match kind {
            Some(EventKind::Contact) => {
                need(&[Field::Channel]);
                need(&[Field::Reached]);
            }
            Some(EventKind::Service) => need(&[Field::ServiceType]),
            Some(EventKind::Policy) => need(&[Field::PolicyType]),
            Some(EventKind::State) => need(&[Field::State]),
            Some(EventKind::Update) => need(&[
                Field::Address,
                Field::Phone,
                Field::Occupation,
                Field::Region,
            ]),
            None => {}
        }
    }
    missing
}

/// The kind a CSV's name gives: its whole stem (`就业服务.csv`, `service.csv`), or the one kind
/// its parts between separators name (`2026-就业服务.csv`, `370102_首次联系.csv`).
pub fn kind_of_file_name(file_name: &str) -> Option<EventKind> {
    let stem = Path::new(file_name).file_stem()?.to_str()?;
    if let Some(kind) = EventKind::parse(stem) {
        return Some(kind);
    }
    let mut kinds: Vec<EventKind> = stem
        .split(|c: char| {
            matches!(
                c,
                '-' | '_'
                    | ' '
                    | '.'
                    | ','
                    | '，'
                    | '、'
                    | '('
                    | ')'
                    | '（'
                    | '）'
                    | '['
                    | ']'
                    | '【'
                    | '】'
                    | '—'
                    | '·'
            )
        })
        .filter_map(EventKind::parse)
        .collect();
    kinds.dedup();
    match kinds.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn header_not_found(place: &Place) -> Refusal {
    Refusal {
        code: ErrorCode::HeaderNotFound,
        message: format!(
            "{}找不到表头行：前 {HEADER_SEARCH_ROWS} 行中应有一行列名，如 证件号码、毕业年份、日期（或 记录号、日期）和该类事件的列（如 服务类型）。整个文件未接收。",
            place.zh
        ),
        message_en: format!(
            "No header row found in {}: one of the first {HEADER_SEARCH_ROWS} rows must name the columns, such as 证件号码, 毕业年份, 日期 (or 记录号, 日期) and those of the event kind (such as 服务类型). Nothing was stored.",
            place.en
        ),
    }
}

fn kind_missing(place: &Place, sheet: &Sheet, file_name: &str) -> Refusal {
    let (named_zh, named_en) = match &sheet.name {
        Some(name) => (
            format!("工作表名“{name}”"),
            format!("the sheet name {name:?}"),
        ),
        None => (
            format!("文件名“{}”", file_name.escape_debug()),
            format!("the file name {file_name:?}"),
        ),
    };
    Refusal {
        code: ErrorCode::KindMissing,
        message: format!(
            "{}无法确定事件类型：没有“事件类型”列，{named_zh}也不是事件类型（首次联系、就业服务、就业政策、就业状态、信息更新），且未指定事件类型。请加一列事件类型、按事件类型命名工作表或文件，或指定 kind。整个文件未接收。",
            place.zh
        ),
        message_en: format!(
            "The event kind of {} cannot be told: there is no 事件类型 (kind) column, {named_en} is not a kind (首次联系, 就业服务, 就业政策, 就业状态, 信息更新 or contact, service, policy, state, update), and no kind was given. Add a kind column, name the sheet or file after the kind, or give kind. Nothing was stored.",
            place.en
        ),
    }
}

fn columns_missing(place: &Place, missing: &[(String, String)]) -> Refusal {
    let zh: Vec<&str> = missing.iter().map(|(zh, _)| zh.as_str()).collect();
    let en: Vec<&str> = missing.iter().map(|(_, en)| en.as_str()).collect();
    Refusal {
        code: ErrorCode::ColumnsMissing,
        message: format!(
            "{}缺少必填列：{}。整个文件未接收，请补齐该列后重新提交。",
            place.zh,
            zh.join("、")
        ),
        message_en: format!(
            "Required column missing in {}: {}. Nothing was stored; add the column and send the file again.",
            place.en,
            en.join(", ")
        ),
    }
}

/// The header of a follow-up reject report.
pub const REJECT_HEADER: [&str; 7] = ["工作表", "行号", "列", "值", "原因代码", "说明", "Message"];

/// Writes the reject report of an import: one line per problem of a rejected line, in file
/// order, as CSV (UTF-8 with BOM) or XLSX. Returns the lines written.
pub fn write_rejects<W: Write + Send>(
    summary: &ImportSummary,
    format: TableFormat,
    out: W,
) -> Result<u64, ExportError> {
    let mut writer = TableWriter::new(format, out, &REJECT_HEADER)?;
    for p in &summary.problems {
        let line = p.line.to_string();
        let message = format!("第 {} 行 {}", p.line, p.message);
        writer.row([
            p.sheet.as_deref().unwrap_or(""),
            line.as_str(),
            p.column.as_str(),
            p.value.as_str(),
            p.code.as_str(),
            message.as_str(),
            p.message_en.as_str(),
        ])?;
    }
    writer.finish()?;
    Ok(summary.problems.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_csv_name_gives_the_kind_when_it_names_one() {
        assert_eq!(kind_of_file_name("就业服务.csv"), Some(EventKind::Service));
        assert_eq!(kind_of_file_name("service.csv"), Some(EventKind::Service));
        assert_eq!(kind_of_file_name("首次联系.csv"), Some(EventKind::Contact));
        assert_eq!(
            kind_of_file_name("2026-370102_就业政策.csv"),
            Some(EventKind::Policy)
        );
        assert_eq!(
            kind_of_file_name("就业状态（GBK）.csv"),
            Some(EventKind::State)
        );
        assert_eq!(kind_of_file_name("跟踪记录.csv"), None);
        assert_eq!(kind_of_file_name("就业服务-就业状态.csv"), None);
    }

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn the_header_is_found_below_title_rows_and_columns_map_in_any_order() {
        let sheet = Sheet {
            number: 0,
            name: None,
        };
        let mut scan = Scan::new(sheet.clone());
        scan.on_row(1, &row(&["2026 年就业服务台账"]));
        scan.on_row(
            2,
            &row(&["服务日期", "身份证号", "毕业年度", "服务类型", "经办人"]),
        );
        scan.on_row(3, &row(&["2026-08-03", "x", "2026", "02", "张"]));
        let (line, header) = scan.header.clone().expect("header");
        assert_eq!((line, scan.rows), (2, 1));
        let columns = ColumnMap::map(&header, &Place::of(&sheet)).expect("mapped");
        assert_eq!(
            columns.positions,
            vec![
                (Field::Date, 0),
                (Field::IdNumber, 1),
                (Field::GraduationYear, 2),
                (Field::ServiceType, 3)
            ]
        );
        assert_eq!(columns.unknown, vec!["经办人".to_string()]);
        assert!(missing_columns(&columns, Some(EventKind::Service)).is_empty());
        let missing = missing_columns(&columns, Some(EventKind::Contact));
        assert_eq!(missing[0].0, "联系方式");
    }

    #[test]
    fn a_row_of_one_known_column_is_taken_after_the_search_so_the_refusal_names_the_rest() {
        let mut scan = Scan::new(Sheet {
            number: 1,
            name: Some("就业服务".into()),
        });
        scan.on_row(1, &row(&["证件号码", "服务"]));
        scan.on_row(2, &row(&["370102200203151234", "x"]));
        scan.settle_header();
        let (line, header) = scan.header.clone().expect("best candidate");
        assert_eq!((line, scan.rows), (1, 1));
        let place = Place::of(&scan.sheet);
        let columns = ColumnMap::map(&header, &place).expect("mapped");
        let missing = missing_columns(&columns, Some(EventKind::Service));
        let names: Vec<&str> = missing.iter().map(|(zh, _)| zh.as_str()).collect();
        assert_eq!(names, vec!["毕业年份", "日期", "服务类型"]);
        let refusal = columns_missing(&place, &missing);
        assert!(refusal
            .message
            .contains("工作表“就业服务”缺少必填列：毕业年份、日期、服务类型"));
    }
}
