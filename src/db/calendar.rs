//! The working-day calendar in the database: the listed days and the covered years, seeded from
//! the shipped fixture on first start, replaced year by year by `gradhub calendar import`.

use super::audit;
use super::schema::{calendar_days, calendar_years};
use super::{AnyConnection, DbError};
use crate::authz::Actor;
use crate::domain::calendar::{self, Calendar, CalendarDay, DayKind};
use chrono::{Datelike, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// Where the seed rows say they came from.
pub const FIXTURE_SOURCE: &str = "fixture:holidays-cn-2020-2026.csv";

/// One covered year as stored.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = calendar_years)]
pub struct CoveredYear {
    pub year: i32,
    pub source: String,
    pub loaded_at: NaiveDateTime,
}

/// What an import changed, per year: the rows it had before and has now.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct YearReplaced {
    pub year: i32,
    pub rows_before: i64,
    pub rows_after: i64,
}

/// Loads the shipped fixture when no year is covered yet (a new database). Returns whether it did.
pub fn seed_if_empty(conn: &mut AnyConnection) -> Result<bool, DbError> {
    let years: i64 = calendar_years::table.count().get_result(conn)?;
    if years > 0 {
        return Ok(false);
    }
    let rows = match calendar::parse_csv(calendar::FIXTURE_CSV) {
        Ok(rows) => rows,
        // The fixture is compiled in and checked by the domain tests.
        Err(e) => {
            return Err(DbError::Migrate(format!(
                "the shipped calendar fixture does not load: {e}"
            )))
        }
    };
    conn.transaction(|conn| store_years(conn, &rows, FIXTURE_SOURCE))?;
    Ok(true)
}

/// The calendar as stored: its rows and its covered years.
pub fn load(conn: &mut AnyConnection) -> Result<Calendar, DbError> {
    let years: Vec<i32> = calendar_years::table
        .select(calendar_years::year)
        .load(conn)?;
    let rows: Vec<(NaiveDate, String)> = calendar_days::table
        .select((calendar_days::day, calendar_days::kind))
        .load(conn)?;
    let mut days = Vec::with_capacity(rows.len());
    for (day, kind) in rows {
        let kind = DayKind::parse(&kind)
            .ok_or_else(|| corrupt(&format!("calendar kind {kind:?} of {day}")))?;
        days.push((day, kind));
    }
    Ok(Calendar::from_parts(days, years))
}

/// The covered years with where each came from, oldest first.
pub fn covered_years(conn: &mut AnyConnection) -> QueryResult<Vec<(CoveredYear, i64)>> {
    let years: Vec<CoveredYear> = calendar_years::table
        .order(calendar_years::year)
        .select(CoveredYear::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(years.len());
    for y in years {
        let rows = calendar_days::table
            .filter(calendar_days::year.eq(y.year))
            .count()
            .get_result(conn)?;
        out.push((y, rows));
    }
    Ok(out)
}

/// Replaces the rows of every year in `rows` (checked whole beforehand by
/// [`calendar::parse_csv`]) and marks those years covered, in one transaction with its audit
/// event: a failure stores nothing.
pub fn import(
    conn: &mut AnyConnection,
    rows: &[CalendarDay],
    source: &str,
    actor: &Actor,
) -> Result<Vec<YearReplaced>, DbError> {
    let replaced = super::write_transaction(conn, |conn| -> QueryResult<Vec<YearReplaced>> {
        let replaced = store_years(conn, rows, source)?;
        audit::record(
            conn,
            actor,
            "calendar.imported",
            "calendar",
            Some(&json!(replaced
                .iter()
                .map(|r| json!({"year": r.year, "rows": r.rows_before}))
                .collect::<Vec<_>>())),
            Some(&json!({
                "source": source,
                "years": replaced
                    .iter()
                    .map(|r| json!({"year": r.year, "rows": r.rows_after}))
                    .collect::<Vec<_>>(),
            })),
        )?;
        Ok(replaced)
    })?;
    Ok(replaced)
}

fn store_years(
    conn: &mut AnyConnection,
    rows: &[CalendarDay],
    source: &str,
) -> QueryResult<Vec<YearReplaced>> {
    let mut by_year: BTreeMap<i32, Vec<&CalendarDay>> = BTreeMap::new();
    for r in rows {
        by_year.entry(r.day.year()).or_default().push(r);
    }
    let now = Utc::now().naive_utc();
    let mut replaced = Vec::with_capacity(by_year.len());
    for (year, days) in by_year {
        let rows_before = diesel::delete(calendar_days::table.filter(calendar_days::year.eq(year)))
            .execute(conn)? as i64;
        let values: Vec<_> = days
            .iter()
            .map(|d| {
                (
                    calendar_days::day.eq(d.day),
                    calendar_days::year.eq(year),
                    calendar_days::kind.eq(d.kind.as_str()),
                    calendar_days::festival.eq(d.festival.as_str()),
                )
            })
            .collect();
        for chunk in values.chunks(200) {
            on_backend!(&mut *conn, |c| diesel::insert_into(calendar_days::table)
                .values(chunk)
                .execute(c))?;
        }
        diesel::delete(calendar_years::table.filter(calendar_years::year.eq(year)))
            .execute(conn)?;
        diesel::insert_into(calendar_years::table)
            .values((
                calendar_years::year.eq(year),
                calendar_years::source.eq(source),
                calendar_years::loaded_at.eq(now),
            ))
            .execute(conn)?;
        replaced.push(YearReplaced {
            year,
            rows_before,
            rows_after: days.len() as i64,
        });
    }
    Ok(replaced)
}

fn corrupt(what: &str) -> DbError {
    DbError::Query(diesel::result::Error::DeserializationError(
        format!("stored {what} is not valid").into(),
    ))
}
