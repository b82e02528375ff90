//! Ingest batches and their problem lines (the reject report's source), on either backend.

use super::schema::{batch_problems, batches};
use super::AnyConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored batch, as the summary, the API and the command line show it.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = batches)]
pub struct BatchRow {
    pub id: i64,
    pub source: String,
    pub channel: String,
    pub file_name: String,
    pub sha256: String,
    pub format: String,
    pub encoding: String,
    pub rows_read: i64,
    pub accepted: i64,
    pub updated: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub quarantined: i64,
    pub routed: String,
    pub unknown_columns: String,
    pub division_edition: String,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
}

/// What a batch is opened with; counts are filled in by [`finish`] in the same transaction.
#[derive(Insertable)]
#[diesel(table_name = batches)]
pub struct NewBatch<'a> {
    pub source: &'a str,
    pub channel: &'a str,
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub format: &'a str,
    pub encoding: &'a str,
    pub rows_read: i64,
    pub accepted: i64,
    pub updated: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub quarantined: i64,
    pub routed: &'a str,
    pub unknown_columns: &'a str,
    pub division_edition: &'a str,
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
}

/// The final counts of a batch.
#[derive(AsChangeset)]
#[diesel(table_name = batches)]
pub struct BatchCounts<'a> {
    pub rows_read: i64,
    pub accepted: i64,
    pub updated: i64,
    pub rejected: i64,
    pub warnings: i64,
    pub quarantined: i64,
    pub routed: &'a str,
    pub unknown_columns: &'a str,
    pub finished_at: NaiveDateTime,
}

/// One problem line of a batch.
#[derive(Clone, Debug, Insertable, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = batch_problems)]
pub struct ProblemRow {
    pub batch_id: i64,
    pub line: i64,
    pub column_key: String,
    pub value: String,
    pub code: String,
    pub message: String,
    pub message_en: String,
    pub severity: String,
}

/// Claims the file's SHA-256 for a new batch. `None` means another batch already holds it
/// (the unique index decides, so two simultaneous sends of one file make one batch).
/// Must be the first statement of the ingest transaction: on SQLite it takes the write lock.
pub fn open(conn: &mut AnyConnection, batch: &NewBatch<'_>) -> QueryResult<Option<i64>> {
    let inserted = on_backend!(&mut *conn, |c| diesel::insert_into(batches::table)
        .values(batch)
        .on_conflict(batches::sha256)
        .do_nothing()
        .execute(c))?;
    if inserted == 0 {
        return Ok(None);
    }
    batches::table
        .filter(batches::sha256.eq(batch.sha256))
        .select(batches::id)
        .first(conn)
        .map(Some)
}

pub fn finish(conn: &mut AnyConnection, id: i64, counts: &BatchCounts<'_>) -> QueryResult<()> {
    diesel::update(batches::table.find(id))
        .set(counts)
        .execute(conn)?;
    Ok(())
}

pub fn find_by_sha(conn: &mut AnyConnection, sha256: &str) -> QueryResult<Option<BatchRow>> {
    batches::table
        .filter(batches::sha256.eq(sha256))
        .select(BatchRow::as_select())
        .first(conn)
        .optional()
}

pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<BatchRow>> {
    batches::table
        .find(id)
        .select(BatchRow::as_select())
        .first(conn)
        .optional()
}

/// Newest first, only batches sent by one of `sources` (`None`: every batch).
pub fn list_scoped(
    conn: &mut AnyConnection,
    sources: Option<&[String]>,
    limit: i64,
) -> QueryResult<Vec<BatchRow>> {
    let mut q = batches::table
        .order(batches::id.desc())
        .limit(limit)
        .select(BatchRow::as_select())
        .into_boxed();
    if let Some(s) = sources {
        q = q.filter(batches::source.eq_any(s.to_vec()));
    }
    q.load(conn)
}

/// Newest first.
pub fn list(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<BatchRow>> {
    batches::table
        .order(batches::id.desc())
        .limit(limit)
        .select(BatchRow::as_select())
        .load(conn)
}

/// Writes problem lines in multi-row statements (never one round trip per line).
pub fn insert_problems(conn: &mut AnyConnection, rows: &[ProblemRow]) -> QueryResult<()> {
    // 8 bound values a row; 2,000 rows stay under SQLite's 32,766-variable limit.
    for chunk in rows.chunks(2_000) {
        on_backend!(&mut *conn, |c| diesel::insert_into(batch_problems::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// Problem lines of a batch in file order, a page at a time (`after_id` is the keyset cursor).
pub fn problems_page(
    conn: &mut AnyConnection,
    batch_id: i64,
    after_id: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, ProblemRow)>> {
    batch_problems::table
        .filter(batch_problems::batch_id.eq(batch_id))
        .filter(batch_problems::id.gt(after_id))
        .order(batch_problems::id.asc())
        .limit(limit)
        .select((batch_problems::id, ProblemRow::as_select()))
        .load(conn)
}
