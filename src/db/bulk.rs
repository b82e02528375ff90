//! The bulk writers: how a batch's validated records reach the `records` table on each backend.
//!
//! SQLite: multi-row `INSERT OR IGNORE` of new people straight into `records` (a statement
//! prepared once), then an upsert of the people already stored.
//! PostgreSQL: `COPY` into a per-transaction staging table, then one set-based upsert.
//! Never one round trip per row. A person already stored (same ID number and graduation year) is
//! updated; the trigger `records_keep_history` keeps the version it replaces.

use super::schema::{records, staging_records};
use super::AnyConnection;
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

/// Declares the row a batch writes once, as two insertable forms: [`NewRecord`] for the
/// PostgreSQL staging table and `RecordInsert` for SQLite's direct insert into `records`.
macro_rules! record_values {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// One validated, routed record as the batch writes it.
        #[derive(Clone, Debug, Insertable)]
        #[diesel(table_name = staging_records)]
        // Without this SQLite falls back to one INSERT per row and `copy_from` does not compile.
        #[diesel(treat_none_as_default_value = false)]
        pub struct NewRecord {
            $(pub $field: $ty,)*
        }

        /// A [`NewRecord`] with the bookkeeping columns, as inserted into `records`.
        #[derive(Insertable)]
        #[diesel(table_name = records)]
        #[diesel(treat_none_as_default_value = false)]
        struct RecordInsert<'a> {
            $($field: &'a $ty,)*
            first_batch_id: i64,
            version: i32,
            created_at: NaiveDateTime,
            updated_at: NaiveDateTime,
        }

        /// [`RecordInsert`] owning its values: diesel caches a statement only for values of a
        /// `'static` type, so the fixed-size SQLite insert takes copies.
        #[derive(Insertable)]
        #[diesel(table_name = records)]
        #[diesel(treat_none_as_default_value = false)]
        struct OwnedRecordInsert {
            $($field: $ty,)*
            first_batch_id: i64,
            version: i32,
            created_at: NaiveDateTime,
            updated_at: NaiveDateTime,
        }

        impl OwnedRecordInsert {
            fn new(r: &NewRecord, now: NaiveDateTime) -> OwnedRecordInsert {
                OwnedRecordInsert {
                    $($field: r.$field.clone(),)*
                    first_batch_id: r.batch_id,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                }
            }
        }

        /// The columns `records`, `record_history` and `staging_records` share, taken from the
        /// same field list so the PostgreSQL merge cannot drift from the row it writes.
        const SHARED_COLUMNS: &[&str] = &[$(stringify!($field)),*];

        impl<'a> RecordInsert<'a> {
            fn new(r: &'a NewRecord, now: NaiveDateTime) -> RecordInsert<'a> {
                RecordInsert {
                    $($field: &r.$field,)*
                    first_batch_id: r.batch_id,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                }
            }
        }
    };
}

record_values!(
    person_key: String,
    graduation_year: i32,
    name: String,
    sex: String,
    ethnicity: Option<String>,
    id_type: String,
    id_number: String,
    birth_date: Option<chrono::NaiveDate>,
    political_status: Option<String>,
    education_level: String,
    school_code: String,
    school_name: String,
    major_code: Option<String>,
    major_name: String,
    graduation_date: chrono::NaiveDate,
    hukou_code: Option<String>,
    hukou_address: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    hardship: Option<String>,
    intention: String,
    route_province: Option<String>,
    route_prefecture: Option<String>,
    route_county: Option<String>,
    route_method: String,
    route_note: Option<String>,
    division_edition: String,
    source: String,
    channel: String,
    batch_id: i64,
    source_line: i64,
);

/// Rows a SQLite upsert carries: 35 bound values each, under the 32,766 limit.
const SQLITE_CHUNK: usize = 900;
/// Rows of the SQLite insert of new people, a fixed size so its statement is prepared once.
const SQLITE_ROWS: usize = 256;

/// Prepares the transaction's bulk path (call inside the ingest transaction).
pub fn begin(conn: &mut AnyConnection) -> QueryResult<()> {
    match conn {
        // The temporary table shadows the empty template of the same name for this session and
        // disappears with the transaction.
        AnyConnection::Postgresql(c) => c.batch_execute(
            "CREATE TEMP TABLE staging_records (LIKE public.staging_records) ON COMMIT DROP",
        ),
        AnyConnection::Sqlite(_) => Ok(()),
    }
}

/// How a batch changed `records`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub inserted: u64,
    pub updated: u64,
}

/// Writes `rows` (all of one batch, each person at most once) into `records`.
pub fn write(conn: &mut AnyConnection, rows: &[NewRecord], now: NaiveDateTime) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgresql(c) => {
            diesel::copy_from(staging_records::table)
                .from_insertable(rows)
                .execute(c)?;
            merge_staged(conn, now)
        }
        AnyConnection::Sqlite(c) => {
            let mut stored_before = Vec::new();
            for chunk in rows.chunks(SQLITE_ROWS) {
                let inserted = insert_new(c, chunk, now)?;
                if inserted < chunk.len() {
                    stored_before.extend(already_stored(c, chunk)?);
                }
            }
            for chunk in stored_before.chunks(SQLITE_CHUNK) {
                upsert_sqlite(c, chunk, now)?;
            }
            Ok(())
        }
    }
}

/// Inserts the people of `chunk` not stored yet and skips the others (SQLite); returns how many
/// were inserted. A plain `INSERT OR IGNORE` needs no statement journal (an upsert or a possible
/// abort makes SQLite copy every page the statement touches, which dominated the ingest), and a
/// full chunk is a fixed-size array, so diesel prepares its statement once per connection
/// instead of parsing 9,000 placeholders for every chunk.
fn insert_new(
    c: &mut diesel::SqliteConnection,
    chunk: &[NewRecord],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    match <&[NewRecord; SQLITE_ROWS]>::try_from(chunk) {
        Ok(full) => {
            let values: Box<[OwnedRecordInsert; SQLITE_ROWS]> =
                Box::new(std::array::from_fn(|i| {
                    OwnedRecordInsert::new(&full[i], now)
                }));
            diesel::insert_or_ignore_into(records::table)
                .values(values)
                .execute(c)
        }
        Err(_) => {
            let values: Vec<RecordInsert<'_>> =
                chunk.iter().map(|r| RecordInsert::new(r, now)).collect();
            diesel::insert_or_ignore_into(records::table)
                .values(values)
                .execute(c)
        }
    }
}

/// The rows of `chunk` whose person an earlier batch stored (their insert was skipped). A batch
/// holds each person once, so a matching record of another batch is the one to update.
fn already_stored(
    c: &mut diesel::SqliteConnection,
    chunk: &[NewRecord],
) -> QueryResult<Vec<NewRecord>> {
    let Some(batch) = chunk.first().map(|r| r.batch_id) else {
        return Ok(Vec::new());
    };
    let keys: Vec<&str> = chunk.iter().map(|r| r.person_key.as_str()).collect();
    let stored: std::collections::HashSet<(String, i32)> = records::table
        .filter(records::batch_id.ne(batch))
        .filter(records::person_key.eq_any(keys))
        .select((records::person_key, records::graduation_year))
        .load(c)?
        .into_iter()
        .collect();
    Ok(chunk
        .iter()
        .filter(|r| stored.contains(&(r.person_key.clone(), r.graduation_year)))
        .cloned()
        .collect())
}

/// Updates people already stored with this batch's version (SQLite): the upsert, whose update
/// fires `records_keep_history`.
fn upsert_sqlite(
    c: &mut diesel::SqliteConnection,
    chunk: &[NewRecord],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use diesel::upsert::excluded;
    use records::*;
    let values: Vec<RecordInsert<'_>> = chunk.iter().map(|r| RecordInsert::new(r, now)).collect();
    diesel::insert_into(table)
        .values(values)
        .on_conflict((person_key, graduation_year))
        .do_update()
        .set((
            (
                name.eq(excluded(name)),
                sex.eq(excluded(sex)),
                ethnicity.eq(excluded(ethnicity)),
                id_type.eq(excluded(id_type)),
                id_number.eq(excluded(id_number)),
                birth_date.eq(excluded(birth_date)),
                political_status.eq(excluded(political_status)),
                education_level.eq(excluded(education_level)),
                school_code.eq(excluded(school_code)),
                school_name.eq(excluded(school_name)),
                major_code.eq(excluded(major_code)),
                major_name.eq(excluded(major_name)),
                graduation_date.eq(excluded(graduation_date)),
                hukou_code.eq(excluded(hukou_code)),
                hukou_address.eq(excluded(hukou_address)),
            ),
            (
                phone.eq(excluded(phone)),
                email.eq(excluded(email)),
                hardship.eq(excluded(hardship)),
                intention.eq(excluded(intention)),
                route_province.eq(excluded(route_province)),
                route_prefecture.eq(excluded(route_prefecture)),
                route_county.eq(excluded(route_county)),
                route_method.eq(excluded(route_method)),
                route_note.eq(excluded(route_note)),
                division_edition.eq(excluded(division_edition)),
                source.eq(excluded(source)),
                channel.eq(excluded(channel)),
                batch_id.eq(excluded(batch_id)),
                source_line.eq(excluded(source_line)),
                version.eq(version + 1),
                updated_at.eq(excluded(updated_at)),
            ),
        ))
        .execute(c)
}

/// Upserts the staged rows into `records` and empties the staging table (PostgreSQL).
fn merge_staged(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<()> {
    // Only a timestamp the program made is inlined, so no placeholder syntax is needed.
    let now = now.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let cols = SHARED_COLUMNS.join(", ");
    let set = SHARED_COLUMNS
        .iter()
        .filter(|c| !matches!(**c, "person_key" | "graduation_year"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let upsert = format!(
        "INSERT INTO records ({cols}, first_batch_id, version, created_at, updated_at) \
         SELECT {cols}, batch_id, 1, '{now}', '{now}' FROM staging_records \
         ON CONFLICT (person_key, graduation_year) DO UPDATE SET {set}, \
         version = records.version + 1, updated_at = excluded.updated_at"
    );
    diesel::sql_query(upsert).execute(conn)?;
    diesel::sql_query("TRUNCATE staging_records").execute(conn)?;
    Ok(())
}

/// What the batch did to `records`: people new with it, and people it updated (their record now
/// carries the batch, but an earlier batch created it).
pub fn written(conn: &mut AnyConnection, batch: i64) -> QueryResult<Written> {
    use super::schema::records::dsl::{batch_id, first_batch_id, records as all_records};
    let inserted: i64 = all_records
        .filter(batch_id.eq(batch))
        .filter(first_batch_id.eq(batch))
        .count()
        .get_result(conn)?;
    let updated: i64 = all_records
        .filter(batch_id.eq(batch))
        .filter(first_batch_id.ne(batch))
        .count()
        .get_result(conn)?;
    Ok(Written {
        inserted: u64::try_from(inserted).unwrap_or(0),
        updated: u64::try_from(updated).unwrap_or(0),
    })
}
