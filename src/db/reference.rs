//! Reference data in the database: the division table and its successors, seeded from the
//! shipped fixtures on first start and replaceable by a newer edition without a release.

use super::schema::{division_successors, divisions, settings};
use super::{AnyConnection, DbError};
use crate::domain::division::{Division, DivisionCode, DivisionTable, Level, Successor};
use diesel::prelude::*;

const EDITION_KEY: &str = "division_edition";

#[derive(Queryable, Insertable)]
#[diesel(table_name = divisions)]
struct DivisionRow {
    code: String,
    name: String,
    level: String,
    parent: Option<String>,
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = division_successors)]
struct SuccessorRow {
    old_code: String,
    old_name: String,
    old_level: String,
    old_parent: Option<String>,
    new_code: String,
    effective: chrono::NaiveDate,
    note: String,
}

fn level_str(level: Level) -> &'static str {
    match level {
        Level::Province => "province",
        Level::Prefecture => "prefecture",
        Level::County => "county",
    }
}

fn parse_level(s: &str) -> Option<Level> {
    match s {
        "province" => Some(Level::Province),
        "prefecture" => Some(Level::Prefecture),
        "county" => Some(Level::County),
        _ => None,
    }
}

fn corrupt(what: &str, value: &str) -> DbError {
    DbError::Query(diesel::result::Error::DeserializationError(
        format!("stored {what} is not valid: {value:?}").into(),
    ))
}

/// Loads the shipped division table when the database has none yet.
pub fn seed_if_empty(conn: &mut AnyConnection) -> Result<bool, DbError> {
    let count: i64 = divisions::table.count().get_result(conn)?;
    if count > 0 {
        return Ok(false);
    }
    replace_table(conn, &DivisionTable::embedded())?;
    Ok(true)
}

/// Replaces the stored division table and successors with `table`, in one transaction.
pub fn replace_table(conn: &mut AnyConnection, table: &DivisionTable) -> Result<(), DbError> {
    let division_rows: Vec<DivisionRow> = table
        .divisions()
        .map(|d| DivisionRow {
            code: d.code.to_string(),
            name: d.name.clone(),
            level: level_str(d.level).to_string(),
            parent: d.parent.map(|p| p.to_string()),
        })
        .collect();
    let successor_rows: Vec<SuccessorRow> = table
        .successors()
        .map(|s| SuccessorRow {
            old_code: s.old_code.to_string(),
            old_name: s.old_name.clone(),
            old_level: level_str(s.old_level).to_string(),
            old_parent: s.old_parent.map(|p| p.to_string()),
            new_code: s.new_code.to_string(),
            effective: s.effective,
            note: s.note.clone(),
        })
        .collect();
    let edition = table.edition().to_string();
    conn.transaction(|conn| {
        diesel::delete(divisions::table).execute(conn)?;
        diesel::delete(division_successors::table).execute(conn)?;
        for chunk in division_rows.chunks(500) {
            on_backend!(&mut *conn, |c| diesel::insert_into(divisions::table)
                .values(chunk)
                .execute(c))?;
        }
        for chunk in successor_rows.chunks(500) {
            on_backend!(&mut *conn, |c| diesel::insert_into(
                division_successors::table
            )
            .values(chunk)
            .execute(c))?;
        }
        diesel::delete(settings::table.filter(settings::key.eq(EDITION_KEY))).execute(conn)?;
        diesel::insert_into(settings::table)
            .values((settings::key.eq(EDITION_KEY), settings::value.eq(&edition)))
            .execute(conn)?;
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(())
}

/// The division table as stored (the edition an operator imported last, or the shipped one).
pub fn load_table(conn: &mut AnyConnection) -> Result<DivisionTable, DbError> {
    let edition: Option<String> = settings::table
        .filter(settings::key.eq(EDITION_KEY))
        .select(settings::value)
        .first(conn)
        .optional()?;
    let rows: Vec<DivisionRow> = divisions::table.load(conn)?;
    let successor_rows: Vec<SuccessorRow> = division_successors::table.load(conn)?;
    let code = |s: &str| DivisionCode::parse(s).ok_or_else(|| corrupt("division code", s));
    let level = |s: &str| parse_level(s).ok_or_else(|| corrupt("division level", s));
    let mut list = Vec::with_capacity(rows.len());
    for r in rows {
        list.push(Division {
            code: code(&r.code)?,
            name: r.name,
            level: level(&r.level)?,
            parent: r.parent.as_deref().map(code).transpose()?,
        });
    }
    let mut successors = Vec::with_capacity(successor_rows.len());
    for r in successor_rows {
        successors.push(Successor {
            old_code: code(&r.old_code)?,
            old_name: r.old_name,
            old_level: level(&r.old_level)?,
            old_parent: r.old_parent.as_deref().map(code).transpose()?,
            new_code: code(&r.new_code)?,
            effective: r.effective,
            note: r.note,
        });
    }
    DivisionTable::from_parts(edition.unwrap_or_default(), list, successors)
        .map_err(|e| corrupt("division table", &e.to_string()))
}
