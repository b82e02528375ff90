//! Claims on work several nodes could pick up (a dropped file): one row per piece of work, marked
//! done when finished. On PostgreSQL the claim is also a session advisory lock, so that a node
//! that dies mid-work frees its claim the moment its connection drops; SQLite has one node.
//!
//! The same connection must make the claim and then `finish` or `release` it.

use super::schema::job_claims;
use super::AnyConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamp};

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes `key` for `owner` unless (PostgreSQL) another live session holds it, or the work is done
/// and `retake_done` is false.
pub fn try_claim(
    conn: &mut AnyConnection,
    key: &str,
    owner: &str,
    now: NaiveDateTime,
    retake_done: bool,
) -> QueryResult<bool> {
    if let AnyConnection::Postgresql(c) = conn {
        let got: Locked =
            diesel::sql_query("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked")
                .bind::<Text, _>(key)
                .get_result(c)?;
        if !got.locked {
            return Ok(false);
        }
    }
    let done: Option<bool> = job_claims::table
        .filter(job_claims::key.eq(key))
        .select(job_claims::done)
        .first(conn)
        .optional()?;
    if done == Some(true) {
        if !retake_done {
            unlock(conn, key)?;
            return Ok(false);
        }
        diesel::update(job_claims::table.filter(job_claims::key.eq(key)))
            .set(job_claims::done.eq(false))
            .execute(conn)?;
    }
    // The row says who works on it, for an operator looking at a stuck file.
    let n = diesel::sql_query(
        "INSERT INTO job_claims (key, owner, claimed_until, done, updated_at) VALUES ($1, $2, $3, FALSE, $3) \
         ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, updated_at = excluded.updated_at \
         WHERE job_claims.done = FALSE",
    )
    .bind::<Text, _>(key)
    .bind::<Text, _>(owner)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    if n == 0 {
        unlock(conn, key)?;
    }
    Ok(n == 1)
}

/// Marks the work done (a later claim of the same key fails) and lets go of it.
pub fn finish(conn: &mut AnyConnection, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(job_claims::table.filter(job_claims::key.eq(key)))
        .set((job_claims::done.eq(true), job_claims::updated_at.eq(now)))
        .execute(conn)?;
    unlock(conn, key)
}

/// Lets go of unfinished work so that it can be taken again.
pub fn release(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    diesel::delete(
        job_claims::table
            .filter(job_claims::key.eq(key))
            .filter(job_claims::done.eq(false)),
    )
    .execute(conn)?;
    unlock(conn, key)
}

fn unlock(conn: &mut AnyConnection, key: &str) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query("SELECT pg_advisory_unlock(hashtextextended($1, 0)) AS locked")
            .bind::<Text, _>(key)
            .get_result::<Locked>(c)?;
    }
    Ok(())
}
