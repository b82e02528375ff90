//! Organisations and their contacts: seeding the tree from the division table, adding grassroots
//! points and senders by hand, and loading the whole tree (a few thousand rows) for the services.

use super::schema::{org_contacts, orgs};
use super::{AnyConnection, DbError};
use crate::authz::tree::{OrgNode, OrgTree};
use crate::domain::division::DivisionTable;
use crate::domain::organisation::{seed_orgs, OrgLevel, OrgSeed};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use std::collections::HashMap;

/// One stored organisation.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = orgs)]
pub struct OrgRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_id: Option<i64>,
    pub division_code: Option<String>,
    pub path: String,
    pub inbox_seq: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = orgs)]
struct NewOrg<'a> {
    code: &'a str,
    name: &'a str,
    level: &'a str,
    parent_id: Option<i64>,
    division_code: Option<&'a str>,
    path: &'a str,
    created_at: NaiveDateTime,
}

/// A contact person of an organisation: who gets the reminders.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = org_contacts)]
pub struct ContactRow {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
}

pub fn load_all(conn: &mut AnyConnection) -> QueryResult<Vec<OrgRow>> {
    orgs::table.order(orgs::id).load(conn)
}

/// The whole organisation tree; rows with an unknown level are skipped (they cannot come from
/// the hub). A node's depth is read off its stored path (`/1/2/3/` is depth 2).
pub fn load_tree(conn: &mut AnyConnection) -> QueryResult<OrgTree> {
    let nodes = load_all(conn)?.into_iter().filter_map(|r| {
        let level = OrgLevel::parse(&r.level)?;
        Some(OrgNode {
            depth: r.path.matches('/').count().saturating_sub(2),
            id: r.id,
            code: r.code,
            name: r.name,
            level,
            parent: r.parent_id,
            division_code: r.division_code,
        })
    });
    Ok(OrgTree::from_nodes(nodes))
}

pub fn find_by_code(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<OrgRow>> {
    orgs::table
        .filter(orgs::code.eq(code))
        .first(conn)
        .optional()
}

/// Adds every organisation the division table implies and the database lacks (all of them on
/// first start; the new divisions of a newer edition later). Abolished divisions keep their
/// organisations: records and packages still point at them. Returns how many were added.
pub fn sync_with_divisions(
    conn: &mut AnyConnection,
    table: &DivisionTable,
) -> Result<usize, DbError> {
    let seeds = seed_orgs(table);
    let added = conn.transaction(|conn| -> QueryResult<usize> {
        let existing: HashMap<String, (i64, String)> = orgs::table
            .select((orgs::code, orgs::id, orgs::path))
            .load::<(String, i64, String)>(conn)?
            .into_iter()
            .map(|(code, id, path)| (code, (id, path)))
            .collect();
        let missing: Vec<&OrgSeed> = seeds
            .iter()
            .filter(|s| !existing.contains_key(&s.code))
            .collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut known = existing;
        // Parents come before children in the seeds, so inserting one depth at a time always
        // finds the parent's id; each depth is a few multi-row INSERTs, not one per row.
        let depth = |s: &OrgSeed| match s.level {
            OrgLevel::Ministry => 0,
            OrgLevel::Province => 1,
            OrgLevel::Prefecture => 2,
            _ => 3,
        };
        let now = Utc::now().naive_utc();
        for d in 0..=3 {
            let level_seeds: Vec<&&OrgSeed> = missing.iter().filter(|s| depth(s) == d).collect();
            if level_seeds.is_empty() {
                continue;
            }
            let mut rows = Vec::with_capacity(level_seeds.len());
            for s in &level_seeds {
                let parent_id = match &s.parent_code {
                    Some(p) => Some(known.get(p).map(|(id, _)| *id).ok_or_else(|| {
                        diesel::result::Error::QueryBuilderError(
                            format!("parent {p} of organisation {} is missing", s.code).into(),
                        )
                    })?),
                    None => None,
                };
                rows.push(NewOrg {
                    code: &s.code,
                    name: &s.name,
                    level: s.level.as_str(),
                    parent_id,
                    division_code: s.division_code.as_deref(),
                    // Filled in below, once the row has its id.
                    path: "",
                    created_at: now,
                });
            }
            for chunk in rows.chunks(500) {
                on_backend!(&mut *conn, |c| diesel::insert_into(orgs::table)
                    .values(chunk)
                    .execute(c))?;
            }
            fill_paths(conn)?;
            for (code, id, path) in orgs::table
                .select((orgs::code, orgs::id, orgs::path))
                .load::<(String, i64, String)>(conn)?
            {
                known.insert(code, (id, path));
            }
        }
        Ok(missing.len())
    })?;
    Ok(added)
}

/// Sets `path` of the rows that have none from their parent's path (one statement).
fn fill_paths(conn: &mut AnyConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE orgs SET path = COALESCE((SELECT p.path FROM orgs p WHERE p.id = orgs.parent_id), '/') \
         || CAST(id AS TEXT) || '/' WHERE path = ''",
    )
    .execute(conn)
}

/// Adds one organisation by hand (a grassroots point under a county, or a sender).
pub fn add(
    conn: &mut AnyConnection,
    code: &str,
    name: &str,
    level: OrgLevel,
    parent: &OrgRow,
) -> QueryResult<OrgRow> {
    conn.transaction(|conn| {
        let now = Utc::now().naive_utc();
        on_backend!(&mut *conn, |c| diesel::insert_into(orgs::table)
            .values(&NewOrg {
                code,
                name,
                level: level.as_str(),
                parent_id: Some(parent.id),
                division_code: None,
                path: "",
                created_at: now,
            })
            .execute(c))?;
        fill_paths(conn)?;
        orgs::table.filter(orgs::code.eq(code)).first(conn)
    })
}

pub fn add_contact(
    conn: &mut AnyConnection,
    org_id: i64,
    name: &str,
    email: &str,
    phone: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(org_contacts::table)
        .values((
            org_contacts::org_id.eq(org_id),
            org_contacts::name.eq(name),
            org_contacts::email.eq(email),
            org_contacts::phone.eq(phone),
            org_contacts::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn contacts(conn: &mut AnyConnection, org_id: i64) -> QueryResult<Vec<ContactRow>> {
    org_contacts::table
        .filter(org_contacts::org_id.eq(org_id))
        .order(org_contacts::id)
        .select(ContactRow::as_select())
        .load(conn)
}

/// Takes the next number of a receiver's inbox. The row lock this UPDATE holds until commit
/// makes concurrent deliveries to one receiver commit in number order, so an inbox cursor never
/// skips a package that commits late.
pub fn next_inbox_seq(conn: &mut AnyConnection, org_id: i64) -> QueryResult<i64> {
    diesel::update(orgs::table.filter(orgs::id.eq(org_id)))
        .set(orgs::inbox_seq.eq(orgs::inbox_seq + 1))
        .execute(conn)?;
    orgs::table
        .filter(orgs::id.eq(org_id))
        .select(orgs::inbox_seq)
        .first(conn)
}
