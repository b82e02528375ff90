//! The mail outbox: messages written in the transaction of the change they report, sent later by
//! the outbox job. A unique key per message makes enqueueing the same notice twice a no-op.

use super::schema::outbox;
use super::AnyConnection;
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub dedupe_key: String,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

/// Queues a message unless one with the same key exists; returns whether it was queued.
pub fn enqueue(
    conn: &mut AnyConnection,
    dedupe_key: &str,
    to: &str,
    subject: &str,
    body: &str,
) -> QueryResult<bool> {
    let now = Utc::now().naive_utc();
    let values = (
        outbox::dedupe_key.eq(dedupe_key),
        outbox::to_addr.eq(to),
        outbox::subject.eq(subject),
        outbox::body.eq(body),
        outbox::created_at.eq(now),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(now),
    );
    let n = on_backend!(conn, |c| diesel::insert_into(outbox::table)
        .values(values)
        .on_conflict(outbox::dedupe_key)
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// Messages due now, oldest first. On PostgreSQL the rows stay locked (`FOR UPDATE SKIP LOCKED`)
/// until the caller's transaction ends, so another node sending at the same time takes others.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    macro_rules! due {
        () => {
            outbox::table
                .filter(outbox::sent_at.is_null())
                .filter(outbox::next_attempt_at.le(now))
                .order(outbox::id)
                .limit(limit)
                .select(OutboxRow::as_select())
        };
    }
    match conn {
        AnyConnection::Postgresql(c) => due!().for_update().skip_locked().load(c),
        AnyConnection::Sqlite(c) => due!().load(c),
    }
}

pub fn mark_sent(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.filter(outbox::id.eq(id)))
        .set((
            outbox::sent_at.eq(now),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
}

pub fn mark_failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    retry_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(outbox::table.filter(outbox::id.eq(id)))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(retry_at),
        ))
        .execute(conn)
}

/// Counts of waiting and sent messages.
pub fn counts(conn: &mut AnyConnection) -> QueryResult<(i64, i64)> {
    let waiting = outbox::table
        .filter(outbox::sent_at.is_null())
        .count()
        .get_result(conn)?;
    let sent = outbox::table
        .filter(outbox::sent_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok((waiting, sent))
}

pub fn list(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}
