//! Partitioning `records` by graduation year on PostgreSQL: the operator's step for a hub whose
//! one table has grown past what a single set of indexes carries well (docs/operations.md).
//!
//! `records` becomes a table partitioned by `LIST (graduation_year)`, one partition a year
//! (`records_2025`) plus a default one (`records_other`) that takes any year without its own, so
//! an ingest never fails for want of a partition. Its columns, defaults, id sequence, indexes and
//! history trigger are carried over as they are; only the primary key widens to
//! `(id, graduation_year)`, because PostgreSQL requires a partitioned table's unique keys to hold
//! the partition key. No table refers to `records(id)` with a foreign key, so nothing else moves.
//! Run again on a partitioned hub, it adds the years asked for, moving their rows out of the
//! default partition. Everything happens in one transaction: a failure leaves `records` as it was.

use super::AnyConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use std::collections::BTreeSet;

/// The partition that takes the years without their own.
pub const DEFAULT_PARTITION: &str = "records_other";
/// The years a partition may be made for (the graduation years the validator accepts lie inside).
pub const YEARS: std::ops::RangeInclusive<i32> = 1950..=2100;

/// One partition of `records` and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Partition {
    pub name: String,
    /// The graduation year it holds; `None` for the default partition.
    pub year: Option<i32>,
    pub records: i64,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// `records` was a plain table and is now partitioned.
    pub converted: bool,
    /// Partitions this run made, by name.
    pub created: Vec<String>,
    /// Every partition afterwards, years first in order, the default last.
    pub partitions: Vec<Partition>,
}

#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    #[error("SQLite 没有表分区，按毕业年度分区只适用于 PostgreSQL / SQLite has no table partitioning: partitioning by graduation year needs PostgreSQL")]
    NotPostgres,
    #[error("年度 {0} 超出 1950–2100 / year {0} is outside 1950–2100")]
    YearOutOfRange(i32),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Year {
    #[diesel(sql_type = Integer)]
    year: i32,
}

#[derive(QueryableByName)]
struct Bound {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    bound: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    records: i64,
}

/// Partitions `records` by graduation year with a partition for each of `years` and for each
/// year already stored, or, when it is partitioned already, adds the partitions `years` lack.
pub fn partition_records(
    conn: &mut AnyConnection,
    years: &[i32],
) -> Result<Outcome, PartitionError> {
    if let Some(&y) = years.iter().find(|y| !YEARS.contains(y)) {
        return Err(PartitionError::YearOutOfRange(y));
    }
    let AnyConnection::Postgresql(pg) = conn else {
        return Err(PartitionError::NotPostgres);
    };
    pg.transaction(|c| {
        c.batch_execute("LOCK TABLE records IN ACCESS EXCLUSIVE MODE")?;
        let kind: Vec<Text1> = diesel::sql_query(
            "SELECT relkind::text AS value FROM pg_class WHERE oid = 'records'::regclass",
        )
        .load(c)?;
        let partitioned = kind.first().is_some_and(|k| k.value == "p");
        let created = if partitioned {
            add_years(c, years)?
        } else {
            convert(c, years)?
        };
        Ok(Outcome {
            converted: !partitioned,
            created,
            partitions: partitions(c)?,
        })
    })
}

/// The partitions of `records` with their counts; empty when `records` is a plain table.
pub fn partitions(c: &mut PgConnection) -> QueryResult<Vec<Partition>> {
    let bounds = bounds(c)?;
    let counts: Vec<Count> = diesel::sql_query(
        "SELECT tableoid::regclass::text AS name, count(*) AS records FROM records GROUP BY 1",
    )
    .load(c)?;
    let mut out: Vec<Partition> = bounds
        .into_iter()
        .map(|(name, year)| Partition {
            records: counts
                .iter()
                .find(|n| n.name == name)
                .map_or(0, |n| n.records),
            name,
            year,
        })
        .collect();
    out.sort_by_key(|p| (p.year.is_none(), p.year));
    Ok(out)
}

/// Each partition's name and year (`None` for the default), from the catalogue.
fn bounds(c: &mut PgConnection) -> QueryResult<Vec<(String, Option<i32>)>> {
    let rows: Vec<Bound> = diesel::sql_query(
        "SELECT p.relname::text AS name, pg_get_expr(p.relpartbound, p.oid) AS bound \
         FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid \
         WHERE i.inhparent = 'records'::regclass",
    )
    .load(c)?;
    // The bound reads `FOR VALUES IN (2025)` or `DEFAULT`; this module only makes those.
    Ok(rows
        .into_iter()
        .map(|b| {
            let year = b
                .bound
                .trim_start_matches("FOR VALUES IN (")
                .trim_end_matches(')')
                .trim()
                .parse()
                .ok();
            (b.name, year)
        })
        .collect())
}

fn partition_name(year: i32) -> String {
    format!("records_{year}")
}

/// Rebuilds the plain `records` as a partitioned table under the same name.
fn convert(c: &mut PgConnection, years: &[i32]) -> QueryResult<Vec<String>> {
    let stored: Vec<Year> =
        diesel::sql_query("SELECT DISTINCT graduation_year AS year FROM records").load(c)?;
    let all: BTreeSet<i32> = stored
        .iter()
        .map(|y| y.year)
        .chain(years.iter().copied())
        .collect();
    // The secondary indexes and triggers as the catalogue defines them, to make again on the new
    // table once it carries the name (their definitions name `records`).
    let indexes: Vec<Text1> = diesel::sql_query(
        "SELECT indexdef AS value FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename = 'records' AND indexname <> 'records_pkey' \
         ORDER BY indexname",
    )
    .load(c)?;
    let triggers: Vec<Text1> = diesel::sql_query(
        "SELECT pg_get_triggerdef(oid) AS value FROM pg_trigger \
         WHERE tgrelid = 'records'::regclass AND NOT tgisinternal ORDER BY tgname",
    )
    .load(c)?;
    let sequence: Vec<Text1> =
        diesel::sql_query("SELECT pg_get_serial_sequence('records', 'id') AS value").load(c)?;
    let sequence = sequence
        .into_iter()
        .next()
        .map(|s| s.value)
        .ok_or(diesel::result::Error::NotFound)?;

    let mut sql = String::from(
        "CREATE TABLE records_by_year (LIKE records INCLUDING DEFAULTS INCLUDING CONSTRAINTS \
         INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY LIST (graduation_year);\n\
         ALTER TABLE records_by_year ADD CONSTRAINT records_by_year_pkey PRIMARY KEY (id, graduation_year);\n",
    );
    for year in &all {
        sql += &format!(
            "CREATE TABLE {} PARTITION OF records_by_year FOR VALUES IN ({year});\n",
            partition_name(*year)
        );
    }
    sql += &format!("CREATE TABLE {DEFAULT_PARTITION} PARTITION OF records_by_year DEFAULT;\n");
    // Rows first, secondary indexes after: building an index once is cheaper than keeping it
    // up to date row by row.
    sql += "INSERT INTO records_by_year SELECT * FROM records;\n";
    sql += &format!("ALTER SEQUENCE {sequence} OWNED BY NONE;\n");
    sql += "DROP TABLE records;\n\
            ALTER TABLE records_by_year RENAME TO records;\n\
            ALTER TABLE records RENAME CONSTRAINT records_by_year_pkey TO records_pkey;\n";
    sql += &format!("ALTER SEQUENCE {sequence} OWNED BY records.id;\n");
    for def in indexes.iter().chain(&triggers) {
        sql += &def.value;
        sql += ";\n";
    }
    sql += "ANALYZE records;\n";
    c.batch_execute(&sql)?;
    Ok(all
        .iter()
        .map(|y| partition_name(*y))
        .chain([DEFAULT_PARTITION.to_string()])
        .collect())
}

/// Adds a partition for each of `years` that has none, taking that year's rows out of the
/// default partition (PostgreSQL refuses to attach a year the default still holds).
fn add_years(c: &mut PgConnection, years: &[i32]) -> QueryResult<Vec<String>> {
    let existing = bounds(c)?;
    let default = existing
        .iter()
        .find(|(_, y)| y.is_none())
        .map(|(n, _)| n.clone());
    let have: BTreeSet<i32> = existing.iter().filter_map(|(_, y)| *y).collect();
    let mut created = Vec::new();
    for &year in years.iter().collect::<BTreeSet<_>>() {
        if have.contains(&year) {
            continue;
        }
        let name = partition_name(year);
        let mut sql = format!(
            "CREATE TABLE {name} (LIKE records INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE);\n"
        );
        if let Some(default) = &default {
            sql += &format!(
                "INSERT INTO {name} SELECT * FROM {default} WHERE graduation_year = {year};\n\
                 DELETE FROM {default} WHERE graduation_year = {year};\n"
            );
        }
        // Attaching makes the partition's indexes from the parent's and checks its rows.
        sql += &format!("ALTER TABLE records ATTACH PARTITION {name} FOR VALUES IN ({year});\n");
        c.batch_execute(&sql)?;
        created.push(name);
    }
    if !created.is_empty() {
        c.batch_execute("ANALYZE records")?;
    }
    Ok(created)
}
