//! Claims on work shared by several nodes (a dropped file, a periodic pass): one row per piece
//! of work, taken with a lease so that a node that dies mid-work frees it after the lease.

use super::schema::job_claims;
use super::AnyConnection;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

/// Takes `key` for `owner` until `now + lease` unless another owner holds a live lease or the
/// work is done. Returns whether this owner now holds it. One statement: two nodes racing for
/// the same key cannot both win.
pub fn try_claim(
    conn: &mut AnyConnection,
    key: &str,
    owner: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> QueryResult<bool> {
    let until = now + lease;
    // Written out because diesel's DSL has no portable `DO UPDATE … WHERE`; the same text runs
    // on both backends.
    let n = diesel::sql_query(
        "INSERT INTO job_claims (key, owner, claimed_until, done, updated_at) \
         VALUES ($1, $2, $3, FALSE, $4) \
         ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, \
             claimed_until = excluded.claimed_until, updated_at = excluded.updated_at \
         WHERE job_claims.done = FALSE \
           AND (job_claims.claimed_until < excluded.updated_at OR job_claims.owner = excluded.owner)",
    )
    .bind::<Text, _>(key)
    .bind::<Text, _>(owner)
    .bind::<Timestamp, _>(until)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks the work done; a later claim of the same key fails.
pub fn finish(conn: &mut AnyConnection, key: &str, owner: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        job_claims::table
            .filter(job_claims::key.eq(key))
            .filter(job_claims::owner.eq(owner)),
    )
    .set((job_claims::done.eq(true), job_claims::updated_at.eq(now)))
    .execute(conn)
}

/// Gives the work back before the lease ends (it failed in a way worth retrying).
pub fn release(conn: &mut AnyConnection, key: &str, owner: &str) -> QueryResult<usize> {
    diesel::delete(
        job_claims::table
            .filter(job_claims::key.eq(key))
            .filter(job_claims::owner.eq(owner))
            .filter(job_claims::done.eq(false)),
    )
    .execute(conn)
}
