//! The bulk writers: how a batch's validated records reach the `records` table on each backend.
//!
//! Rows go into a per-transaction staging table (SQLite: multi-row INSERTs in fixed chunks;
//! PostgreSQL: `COPY`), then one set-based merge keeps the previous version of every person the
//! batch updates in `record_history` and upserts `records`. Never one round trip per row.

use super::schema::staging_records;
use super::AnyConnection;
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

/// One validated, routed record as the batch writes it.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = staging_records)]
// Without this SQLite falls back to one INSERT per row and `copy_from` does not compile.
#[diesel(treat_none_as_default_value = false)]
pub struct NewRecord {
    pub person_key: String,
    pub graduation_year: i32,
    pub name: String,
    pub sex: String,
    pub ethnicity: Option<String>,
    pub id_type: String,
    pub id_number: String,
    pub birth_date: Option<chrono::NaiveDate>,
    pub political_status: Option<String>,
    pub education_level: String,
    pub school_code: String,
    pub school_name: String,
    pub major_code: Option<String>,
    pub major_name: String,
    pub graduation_date: chrono::NaiveDate,
    pub hukou_code: Option<String>,
    pub hukou_address: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub hardship: Option<String>,
    pub intention: String,
    pub route_province: Option<String>,
    pub route_prefecture: Option<String>,
    pub route_county: Option<String>,
    pub route_method: String,
    pub route_note: Option<String>,
    pub division_edition: String,
    pub source: String,
    pub channel: String,
    pub batch_id: i64,
    pub source_line: i64,
}

/// The columns `records`, `record_history` and `staging_records` share, in one place so the merge
/// statements cannot drift from each other.
const SHARED_COLUMNS: &[&str] = &[
    "person_key",
    "graduation_year",
    "name",
    "sex",
    "ethnicity",
    "id_type",
    "id_number",
    "birth_date",
    "political_status",
    "education_level",
    "school_code",
    "school_name",
    "major_code",
    "major_name",
    "graduation_date",
    "hukou_code",
    "hukou_address",
    "phone",
    "email",
    "hardship",
    "intention",
    "route_province",
    "route_prefecture",
    "route_county",
    "route_method",
    "route_note",
    "division_edition",
    "source",
    "channel",
    "batch_id",
    "source_line",
];

/// Rows a SQLite multi-row INSERT carries: 31 bound values each, under the 32,766 limit.
const SQLITE_CHUNK: usize = 1_000;

/// Creates the transaction's private staging table (call inside the ingest transaction).
pub fn begin(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        // The temporary table shadows the empty template of the same name for this session.
        AnyConnection::Postgresql(c) => c.batch_execute(
            "CREATE TEMP TABLE staging_records (LIKE public.staging_records) ON COMMIT DROP",
        ),
        AnyConnection::Sqlite(c) => c.batch_execute(
            "CREATE TEMP TABLE staging_records AS SELECT * FROM main.staging_records WHERE 0",
        ),
    }
}

/// Drops the staging table before commit (PostgreSQL drops it on commit by itself).
pub fn end(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        AnyConnection::Postgresql(_) => Ok(()),
        AnyConnection::Sqlite(c) => c.batch_execute("DROP TABLE temp.staging_records"),
    }
}

/// How a flush changed `records`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub inserted: usize,
    pub updated: usize,
}

/// Stages `rows` and merges them into `records`; returns how many were new and how many replaced
/// an earlier version of the same person (18-character ID number + graduation year).
pub fn write(
    conn: &mut AnyConnection,
    rows: &[NewRecord],
    batch_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Written> {
    if rows.is_empty() {
        return Ok(Written::default());
    }
    match conn {
        AnyConnection::Postgresql(c) => {
            diesel::copy_from(staging_records::table)
                .from_insertable(rows)
                .execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            for chunk in rows.chunks(SQLITE_CHUNK) {
                diesel::insert_into(staging_records::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
    }
    let updated = merge(conn, batch_id, now)?;
    Ok(Written {
        inserted: rows.len() - updated,
        updated,
    })
}

/// Keeps the versions being replaced, upserts the staged rows, empties the staging table.
fn merge(conn: &mut AnyConnection, batch_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    // Only values the program made are inlined (an integer id and a formatted timestamp), so the
    // same text runs on both backends without their different placeholder syntax.
    let now = now.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let cols = SHARED_COLUMNS.join(", ");
    let r_cols = SHARED_COLUMNS
        .iter()
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let keep_history = format!(
        "INSERT INTO record_history (record_id, replaced_by_batch, replaced_at, version, {cols}) \
         SELECT r.id, {batch_id}, '{now}', r.version, {r_cols} \
         FROM staging_records s JOIN records r \
         ON r.person_key = s.person_key AND r.graduation_year = s.graduation_year"
    );
    let updated = diesel::sql_query(keep_history).execute(conn)?;
    let set = SHARED_COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "person_key" | "graduation_year"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    // `WHERE true` keeps SQLite from reading ON CONFLICT as part of a join.
    let upsert = format!(
        "INSERT INTO records ({cols}, first_batch_id, version, created_at, updated_at) \
         SELECT {cols}, batch_id, 1, '{now}', '{now}' FROM staging_records WHERE true \
         ON CONFLICT (person_key, graduation_year) DO UPDATE SET {set}, \
         version = records.version + 1, updated_at = excluded.updated_at"
    );
    diesel::sql_query(upsert).execute(conn)?;
    diesel::sql_query("DELETE FROM staging_records").execute(conn)?;
    Ok(updated)
}
