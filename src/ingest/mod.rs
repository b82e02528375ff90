//! The ingest pipeline: one entry, [`ingest`], used by every channel (command line, HTTP upload,
//! drop folder). A file on disk goes in; a batch summary comes out; the batch is stored whole or
//! not at all, and a file already ingested (same SHA-256) answers with its first batch.

pub mod header;
pub mod readers;
mod refusal;
pub mod sniff;

pub use refusal::Refusal;

use crate::db::batches::{self, BatchCounts, BatchRow, NewBatch, ProblemRow};
use crate::db::bulk::{self, NewRecord};
use crate::db::{AnyConnection, DbError};
use crate::domain::graduate::{self, Column, GraduateRecord, Problem, RawRow, Severity};
use crate::domain::routing::{Route, RouteMethod, Router};
use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::Connection;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Rows staged per flush: bounds memory (flat in the file's size) while keeping merges large.
const FLUSH_ROWS: usize = 8_000;
const FLUSH_PROBLEMS: usize = 5_000;

/// How a person came to the hub (LD/T 6009-2024 §4.1 and §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 教育部门集中移交
    Education,
    /// 办理登记、报到、档案托管时获取
    WalkIn,
    /// 入户走访摸排
    Visit,
    /// 本人主动申请
    #[serde(rename = "self")]
    SelfApplied,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Education => "education",
            Channel::WalkIn => "walk_in",
            Channel::Visit => "visit",
            Channel::SelfApplied => "self",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "education" => Some(Channel::Education),
            "walk_in" => Some(Channel::WalkIn),
            "visit" => Some(Channel::Visit),
            "self" => Some(Channel::SelfApplied),
            _ => None,
        }
    }
}

/// What to ingest and as whom.
pub struct IngestRequest<'a> {
    pub path: &'a Path,
    pub file_name: &'a str,
    pub source: &'a str,
    pub channel: Channel,
    pub dry_run: bool,
}

/// Reports progress of long work (a terminal bar, or nothing). Called from the reading thread.
pub trait Progress: Sync {
    fn start(&self, _total_bytes: u64) {}
    fn update(&self, _bytes_read: u64, _rows: u64) {}
    fn finish(&self) {}
}

/// No progress display.
pub struct Silent;
impl Progress for Silent {}

/// The answer of every ingest.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct BatchSummary {
    /// The stored batch (for a re-sent file: the first batch); null for a dry run.
    pub batch_id: Option<i64>,
    pub source: String,
    pub channel: String,
    pub file_name: String,
    pub sha256: String,
    pub format: String,
    pub encoding: String,
    /// Data rows read (non-empty rows after the header).
    pub rows: u64,
    /// New people stored.
    pub accepted: u64,
    /// People already known (same ID number and graduation year) whose record this batch replaced.
    pub updated: u64,
    pub rejected: u64,
    /// Problem lines that did not stop a row.
    pub warnings: u64,
    /// Stored rows no route could be found for, kept at the hub (method `unresolved`).
    pub quarantined: u64,
    /// Stored rows per routing method; every method is present.
    pub routed: BTreeMap<String, u64>,
    pub unknown_columns: Vec<String>,
    /// The earlier batch when this file was already ingested, else null.
    pub duplicate_of: Option<i64>,
    pub dry_run: bool,
    pub division_edition: String,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
}

impl BatchSummary {
    /// The summary of a stored batch.
    pub fn from_row(row: &BatchRow) -> BatchSummary {
        let mut routed: BTreeMap<String, u64> =
            serde_json::from_str(&row.routed).unwrap_or_default();
        for m in RouteMethod::ALL {
            routed.entry(m.as_str().to_string()).or_insert(0);
        }
        BatchSummary {
            batch_id: Some(row.id),
            source: row.source.clone(),
            channel: row.channel.clone(),
            file_name: row.file_name.clone(),
            sha256: row.sha256.clone(),
            format: row.format.clone(),
            encoding: row.encoding.clone(),
            rows: to_u64(row.rows_read),
            accepted: to_u64(row.accepted),
            updated: to_u64(row.updated),
            rejected: to_u64(row.rejected),
            warnings: to_u64(row.warnings),
            quarantined: to_u64(row.quarantined),
            routed,
            unknown_columns: serde_json::from_str(&row.unknown_columns).unwrap_or_default(),
            duplicate_of: None,
            dry_run: false,
            division_edition: row.division_edition.clone(),
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// What an ingest returns: the summary, and for a dry run the problem lines it would have stored.
pub struct Outcome {
    pub summary: BatchSummary,
    pub problems: Vec<ProblemRow>,
}

/// Why an ingest stopped. `Refused` is the sender's to fix; the others are ours.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("storage: {0}")]
    Storage(#[from] DbError),
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    /// The writer stopped (its own error says why); the reader ends with this.
    #[error("the storing side stopped")]
    WriterStopped,
}

impl From<diesel::result::Error> for IngestError {
    fn from(e: diesel::result::Error) -> Self {
        IngestError::Storage(DbError::Query(e))
    }
}

/// A sender code: letters, digits, `-`, `_`, 1–50 of them (a division code qualifies).
pub fn valid_source(source: &str) -> bool {
    !source.is_empty()
        && source.len() <= 50
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Today in China (UTC+8, no daylight saving): the day "not in the future" is measured against.
pub fn china_today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Ingests one file. `conn` is used for the duplicate check and, unless dry run, for the one
/// transaction that stores the batch.
pub fn ingest(
    conn: &mut AnyConnection,
    router: &Router,
    request: &IngestRequest<'_>,
    progress: &dyn Progress,
) -> Result<Outcome, IngestError> {
    if !valid_source(request.source) {
        return Err(IngestError::Refused(Refusal::bad_source(request.source)));
    }
    let started_at = Utc::now().naive_utc();
    let sniffed = match sniff::sniff(request.path, request.file_name) {
        Ok(s) => s,
        Err(sniff::SniffError::Refused(r)) => return Err(IngestError::Refused(r)),
        Err(sniff::SniffError::Io(e)) => return Err(IngestError::Io(e)),
    };
    let earlier = batches::find_by_sha(conn, &sniffed.sha256)?;
    if let (Some(row), false) = (&earlier, request.dry_run) {
        return Ok(duplicate(row));
    }
    // File names come from clerks and shares: escaped, so a name cannot forge a log line.
    tracing::info!(
        source = request.source,
        channel = ?request.channel,
        file = %request.file_name.escape_debug(),
        size = sniffed.size,
        sha256 = %&sniffed.sha256[..sniffed.sha256.len().min(12)],
        dry_run = request.dry_run,
        "ingest starts"
    );
    progress.start(sniffed.size);
    let mut pipeline = Pipeline::new(router, request, china_today());
    let bytes_read = Arc::new(AtomicU64::new(0));
    let edition = router.table().edition().to_string();

    if request.dry_run {
        readers::read_rows(
            request.path,
            &sniffed,
            bytes_read.clone(),
            &mut |line, cells| {
                pipeline.on_row(line, cells)?;
                pipeline.tick(progress, &bytes_read);
                Ok(())
            },
        )?;
        pipeline.check_complete()?;
        progress.finish();
        let mut summary = pipeline.summary(&sniffed, &edition, started_at);
        summary.duplicate_of = earlier.map(|r| r.id);
        return Ok(Outcome {
            summary,
            problems: pipeline.problems,
        });
    }

    let stored = conn.transaction(|conn| -> Result<Option<i64>, IngestError> {
        let zero_routed = "{}";
        let new_batch = NewBatch {
            source: request.source,
            channel: request.channel.as_str(),
            file_name: request.file_name,
            sha256: &sniffed.sha256,
            format: sniffed.format.as_str(),
            encoding: sniffed.encoding.as_str(),
            rows_read: 0,
            accepted: 0,
            updated: 0,
            rejected: 0,
            warnings: 0,
            quarantined: 0,
            routed: zero_routed,
            unknown_columns: "[]",
            division_edition: &edition,
            started_at,
            finished_at: started_at,
        };
        let Some(batch_id) = batches::open(conn, &new_batch)? else {
            // The same file was stored by a simultaneous send that committed first.
            return Ok(None);
        };
        pipeline.batch_id = batch_id;
        let mut writer = bulk::BatchWriter::begin(conn)?;
        let reading = &mut pipeline;
        let sniffed = &sniffed;
        // Reading and checking rows (one core) overlaps with storing them (the other core, or
        // the database server): a bounded channel of chunks keeps memory flat.
        let (chunks, arrivals) = std::sync::mpsc::sync_channel::<Chunk>(1);
        let (read, written) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || -> Result<(), IngestError> {
                let bytes = bytes_read.clone();
                readers::read_rows(
                    request.path,
                    sniffed,
                    bytes_read.clone(),
                    &mut |line, cells| {
                        reading.on_row(line, cells)?;
                        reading.tick(progress, &bytes);
                        if reading.chunk_ready() {
                            chunks
                                .send(reading.take_chunk())
                                .map_err(|_| IngestError::WriterStopped)?;
                        }
                        Ok(())
                    },
                )?;
                reading.check_complete()?;
                chunks
                    .send(reading.take_chunk())
                    .map_err(|_| IngestError::WriterStopped)?;
                Ok(())
            });
            let written = (|| -> Result<(), IngestError> {
                for chunk in arrivals.iter() {
                    writer.write(conn, &chunk.records, Utc::now().naive_utc())?;
                    batches::insert_problems(conn, &chunk.problems)?;
                }
                Ok(())
            })();
            // A failed write drops the receiver, which stops the reader at its next chunk.
            drop(arrivals);
            let read = reader.join().unwrap_or_else(|_| {
                Err(IngestError::Io(std::io::Error::other(
                    "the reading thread stopped unexpectedly",
                )))
            });
            (read, written)
        });
        // The reader's refusal explains more than the writer's stop, and the other way round.
        match (read, written) {
            (Err(IngestError::WriterStopped), Err(e)) | (Err(e), _) | (Ok(()), Err(e)) => {
                return Err(e)
            }
            (Ok(()), Ok(())) => {}
        }
        let written = writer.written();
        pipeline.counts.accepted = written.inserted;
        pipeline.counts.updated = written.updated;
        let routed = serde_json::to_string(&pipeline.routed_map()).unwrap_or_default();
        let unknown = serde_json::to_string(&pipeline.unknown_columns).unwrap_or_default();
        let c = &pipeline.counts;
        batches::finish(
            conn,
            batch_id,
            &BatchCounts {
                rows_read: c.rows as i64,
                accepted: c.accepted as i64,
                updated: c.updated as i64,
                rejected: c.rejected as i64,
                warnings: c.warnings as i64,
                quarantined: c.quarantined as i64,
                routed: &routed,
                unknown_columns: &unknown,
                finished_at: Utc::now().naive_utc(),
            },
        )?;
        Ok(Some(batch_id))
    })?;
    progress.finish();
    match stored {
        Some(id) => {
            let row =
                batches::get(conn, id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))?;
            tracing::info!(batch_id = id, rows = pipeline.counts.rows, "batch stored");
            Ok(Outcome {
                summary: BatchSummary::from_row(&row),
                problems: Vec::new(),
            })
        }
        None => {
            let row = batches::find_by_sha(conn, &sniffed.sha256)?
                .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
            Ok(duplicate(&row))
        }
    }
}

fn duplicate(row: &BatchRow) -> Outcome {
    let mut summary = BatchSummary::from_row(row);
    summary.duplicate_of = Some(row.id);
    Outcome {
        summary,
        problems: Vec::new(),
    }
}

/// Rows and problem lines on their way from the reader to the writer.
struct Chunk {
    records: Vec<NewRecord>,
    problems: Vec<ProblemRow>,
}

#[derive(Default)]
struct Counts {
    rows: u64,
    accepted: u64,
    updated: u64,
    rejected: u64,
    warnings: u64,
    quarantined: u64,
    routed: [u64; 7],
}

/// The state of one ingest while rows stream through it.
struct Pipeline<'r> {
    router: &'r Router,
    file_name: String,
    source: String,
    channel: &'static str,
    edition: String,
    today: NaiveDate,
    dry_run: bool,
    batch_id: i64,
    header: Option<header::HeaderMap>,
    /// Rows seen before the header was found (title rows), kept to pick the best candidate.
    leading: Vec<Vec<String>>,
    unknown_columns: Vec<String>,
    /// Person key -> first line, to name the row a duplicate repeats. ID numbers of type 01 are
    /// kept as a number (17 digits fit a u64) to keep a million of them small.
    seen_ids: FxHashMap<u64, u64>,
    seen_other: FxHashMap<String, u64>,
    records: Vec<NewRecord>,
    problems: Vec<ProblemRow>,
    counts: Counts,
}

impl<'r> Pipeline<'r> {
    fn new(router: &'r Router, request: &IngestRequest<'_>, today: NaiveDate) -> Pipeline<'r> {
        Pipeline {
            router,
            file_name: request.file_name.to_string(),
            source: request.source.to_string(),
            channel: request.channel.as_str(),
            edition: router.table().edition().to_string(),
            today,
            dry_run: request.dry_run,
            batch_id: 0,
            header: None,
            leading: Vec::new(),
            unknown_columns: Vec::new(),
            seen_ids: FxHashMap::default(),
            seen_other: FxHashMap::default(),
            records: Vec::with_capacity(FLUSH_ROWS),
            problems: Vec::new(),
            counts: Counts::default(),
        }
    }

    fn tick(&self, progress: &dyn Progress, bytes_read: &AtomicU64) {
        if self.counts.rows.is_multiple_of(10_000) {
            progress.update(bytes_read.load(Ordering::Relaxed), self.counts.rows);
        }
    }

    fn on_row(&mut self, line: u64, cells: &mut [String]) -> Result<(), IngestError> {
        let Some(map) = &self.header else {
            return self.find_header(cells);
        };
        let mut raw = RawRow {
            line,
            cells: Default::default(),
        };
        for (slot, pos) in raw.cells.iter_mut().zip(map.positions.iter()) {
            if let Some(cell) = pos.and_then(|p| cells.get_mut(p)) {
                if !cell.trim().is_empty() {
                    *slot = Some(std::mem::take(cell));
                }
            }
        }
        self.counts.rows += 1;
        let validated = graduate::validate(&raw, self.today);
        let mut rejected = validated.record.is_none();
        for p in &validated.problems {
            if p.severity == Severity::Warning {
                self.counts.warnings += 1;
            }
            self.push_problem(line, p);
        }
        if let Some(record) = validated.record {
            if let Some(first) = self.first_sighting(&record, line) {
                let id_value = record.id_number.clone();
                self.push_problem(line, &Problem::duplicate_in_file(&id_value, first));
                rejected = true;
            } else {
                self.stage(record, line);
            }
        }
        if rejected {
            self.counts.rejected += 1;
        }
        Ok(())
    }

    /// Title rows may stand above the header; the first row naming enough columns is it.
    fn find_header(&mut self, cells: &[String]) -> Result<(), IngestError> {
        if header::is_header(cells) {
            return self.take_header(cells);
        }
        self.leading.push(cells.to_vec());
        if self.leading.len() >= header::HEADER_SEARCH_ROWS {
            return self.settle_header();
        }
        Ok(())
    }

    fn take_header(&mut self, cells: &[String]) -> Result<(), IngestError> {
        let map = header::map(cells).map_err(IngestError::Refused)?;
        self.unknown_columns = map.unknown.clone();
        self.header = Some(map);
        self.leading.clear();
        Ok(())
    }

    /// No row named enough columns: map the best candidate so the refusal names what is missing.
    fn settle_header(&mut self) -> Result<(), IngestError> {
        let best = self
            .leading
            .iter()
            .max_by_key(|row| header::known_columns(row))
            .filter(|row| header::known_columns(row) > 0)
            .cloned();
        match best {
            Some(row) => self.take_header(&row),
            None => Err(IngestError::Refused(Refusal::header_not_found())),
        }
    }

    /// After the last row: a file must have had a header and at least one data row.
    fn check_complete(&mut self) -> Result<(), IngestError> {
        if self.header.is_none() {
            if self.leading.is_empty() {
                return Err(IngestError::Refused(Refusal::empty()));
            }
            self.settle_header()?;
        }
        if self.counts.rows == 0 {
            return Err(IngestError::Refused(Refusal::no_data_rows()));
        }
        Ok(())
    }

    /// The line this person was first seen on in this file, if any; records the sighting.
    fn first_sighting(&mut self, record: &GraduateRecord, line: u64) -> Option<u64> {
        let numeric = record
            .id18()
            .and_then(|id| id.get(..17))
            .and_then(|digits| digits.parse::<u64>().ok());
        match numeric {
            Some(n) => match self.seen_ids.entry(n) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(line);
                    None
                }
            },
            None => match self.seen_other.entry(record.person_key.clone()) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(line);
                    None
                }
            },
        }
    }

    fn stage(&mut self, record: GraduateRecord, line: u64) {
        let route = self.router.route(
            record.hukou_code.as_deref(),
            record.hukou_address.as_deref(),
            record.id18(),
        );
        let method_index = RouteMethod::ALL
            .iter()
            .position(|m| *m == route.method)
            .unwrap_or(0);
        self.counts.routed[method_index] += 1;
        if route.method == RouteMethod::Unresolved {
            self.counts.quarantined += 1;
        }
        if self.dry_run {
            self.counts.accepted += 1;
            return;
        }
        self.records.push(stored_record(
            record,
            route,
            &self.edition,
            &self.source,
            self.channel,
            self.batch_id,
            line,
        ));
    }

    fn push_problem(&mut self, line: u64, p: &Problem) {
        self.problems.push(ProblemRow {
            batch_id: self.batch_id,
            line: line as i64,
            column_key: p.column.key().to_string(),
            value: p.value.clone(),
            code: p.code.to_string(),
            message: p.message.clone(),
            message_en: p.message_en.clone(),
            severity: match p.severity {
                Severity::Reject => "reject",
                Severity::Warning => "warning",
            }
            .to_string(),
        });
    }

    /// Whether enough has gathered to hand a chunk to the writer (keeps memory flat).
    fn chunk_ready(&self) -> bool {
        self.records.len() >= FLUSH_ROWS || self.problems.len() >= FLUSH_PROBLEMS
    }

    /// The gathered rows, in the order they are stored: by route (province, prefecture, county),
    /// then as in the file. Why: record ids follow this order, so the records one jurisdiction
    /// works through — a province's package, the records it holds — sit side by side on disk and
    /// in the indexes, a handful of pages read instead of one for each record (education
    /// bureaus' files come sorted by school, each school's graduates from every province).
    fn take_chunk(&mut self) -> Chunk {
        let mut records = std::mem::replace(&mut self.records, Vec::with_capacity(FLUSH_ROWS));
        fn route(r: &NewRecord) -> (Option<&str>, Option<&str>, Option<&str>) {
            (
                r.route_province.as_deref(),
                r.route_prefecture.as_deref(),
                r.route_county.as_deref(),
            )
        }
        records.sort_by(|a, b| route(a).cmp(&route(b)));
        Chunk {
            records,
            problems: std::mem::take(&mut self.problems),
        }
    }

    fn routed_map(&self) -> BTreeMap<String, u64> {
        RouteMethod::ALL
            .iter()
            .zip(self.counts.routed.iter())
            .map(|(m, n)| (m.as_str().to_string(), *n))
            .collect()
    }

    fn summary(
        &self,
        sniffed: &sniff::Sniffed,
        edition: &str,
        started_at: NaiveDateTime,
    ) -> BatchSummary {
        let c = &self.counts;
        BatchSummary {
            batch_id: None,
            source: self.source.clone(),
            channel: self.channel.to_string(),
            file_name: self.file_name.clone(),
            sha256: sniffed.sha256.clone(),
            format: sniffed.format.as_str().to_string(),
            encoding: sniffed.encoding.as_str().to_string(),
            rows: c.rows,
            accepted: c.accepted,
            updated: c.updated,
            rejected: c.rejected,
            warnings: c.warnings,
            quarantined: c.quarantined,
            routed: self.routed_map(),
            unknown_columns: self.unknown_columns.clone(),
            duplicate_of: None,
            dry_run: true,
            division_edition: edition.to_string(),
            started_at,
            finished_at: Utc::now().naive_utc(),
        }
    }
}

/// A validated, routed record as a batch stores it: the one mapping every channel writes
/// through (a file's row, an office's registration).
pub fn stored_record(
    record: GraduateRecord,
    route: Route,
    edition: &str,
    source: &str,
    channel: &str,
    batch_id: i64,
    line: u64,
) -> NewRecord {
    let graduation_year = record.graduation_year();
    NewRecord {
        person_key: record.person_key,
        graduation_year,
        name: record.name,
        sex: record.sex,
        ethnicity: record.ethnicity,
        id_type: record.id_type,
        id_number: record.id_number,
        birth_date: record.birth_date,
        political_status: record.political_status,
        education_level: record.education_level,
        school_code: record.school_code,
        school_name: record.school_name,
        major_code: record.major_code,
        major_name: record.major_name,
        graduation_date: record.graduation_date,
        hukou_code: record.hukou_code,
        hukou_address: record.hukou_address,
        phone: record.phone,
        email: record.email,
        hardship: record.hardship,
        intention: record.intention,
        route_province: route.province.map(|c| c.to_string()),
        route_prefecture: route.prefecture.map(|c| c.to_string()),
        route_county: route.county.map(|c| c.to_string()),
        route_method: route.method.as_str().to_string(),
        route_note: route.note,
        division_edition: edition.to_string(),
        source: source.to_string(),
        channel: channel.to_string(),
        batch_id,
        source_line: line as i64,
    }
}

/// The column a stored problem line names, for reports (`column_key` -> 证件号码).
pub fn column_header(key: &str) -> &str {
    Column::ALL
        .iter()
        .find(|c| c.key() == key)
        .map_or(key, |c| c.header_zh())
}
