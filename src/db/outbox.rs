//! The mail outbox: messages written in the transaction of the change they report, sent later by
//! the outbox job. A unique key per message makes enqueueing the same notice twice a no-op. A
//! message is pending, sent, or failed (it can never be delivered: it is kept, not retried).

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
    pub failed_at: Option<NaiveDateTime>,
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not sent yet: due at `next_attempt_at`.
    Pending,
    Sent,
    /// Never to be sent (bad address, or refused for good); `last_error` says why.
    Failed,
}

impl State {
    pub fn parse(s: &str) -> Option<State> {
        match s {
            "pending" => Some(State::Pending),
            "sent" => Some(State::Sent),
            "failed" => Some(State::Failed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sent => "sent",
            State::Failed => "failed",
        }
    }
}

impl OutboxRow {
    pub fn state(&self) -> State {
        if self.sent_at.is_some() {
            State::Sent
        } else if self.failed_at.is_some() {
            State::Failed
        } else {
            State::Pending
        }
    }
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
/// Messages taken per round on SQLite. On PostgreSQL each message is its own transaction, so it
/// is marked sent the moment it is: a node killed mid-pass sends again at most the one in flight.
const SQLITE_ROUND: i64 = 20;

/// Runs one sending round: `send(conn, limit)` claims up to `limit` due messages and sends them.
/// On PostgreSQL the round is one transaction holding its one row locked while it is sent:
/// another node skips it, and if this one dies it is free again, not lost. On SQLite there is one
/// worker, and holding the write lock during SMTP would stall ingests, so no transaction.
/// Returns the limit used with what `send` returned.
pub fn send_round<T, E: From<diesel::result::Error>>(
    conn: &mut AnyConnection,
    send: impl FnOnce(&mut AnyConnection, i64) -> Result<T, E>,
) -> Result<(i64, T), E> {
    match conn {
        AnyConnection::Postgresql(_) => Ok((1, conn.transaction(|c| send(c, 1))?)),
        AnyConnection::Sqlite(_) => Ok((SQLITE_ROUND, send(conn, SQLITE_ROUND)?)),
    }
}

pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    macro_rules! due {
        () => {
            outbox::table
                .filter(outbox::sent_at.is_null())
                .filter(outbox::failed_at.is_null())
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

/// A failed attempt that may succeed later: tried again at `retry_at`.
pub fn mark_retry(
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

/// A message that can never be sent as it is: kept with its reason, never taken again.
pub fn mark_dead(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(outbox::table.filter(outbox::id.eq(id)))
        .set((
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::failed_at.eq(now),
        ))
        .execute(conn)
}

/// Counts of waiting (pending) and sent messages; failed ones are in neither.
pub fn counts(conn: &mut AnyConnection) -> QueryResult<(i64, i64)> {
    let waiting = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .count()
        .get_result(conn)?;
    let sent = outbox::table
        .filter(outbox::sent_at.is_not_null())
        .count()
        .get_result(conn)?;
    Ok((waiting, sent))
}

/// The states of the messages whose key starts with `prefix` (e.g. `reminded:40:`, the
/// reminders of package 40).
pub fn states_by_key_prefix(conn: &mut AnyConnection, prefix: &str) -> QueryResult<Vec<State>> {
    // Keys are built by the hub (`kind:package:address`); `%` and `_` would only widen the match.
    let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
    let rows: Vec<(Option<NaiveDateTime>, Option<NaiveDateTime>)> = outbox::table
        .filter(outbox::dedupe_key.like(pattern))
        .select((outbox::sent_at, outbox::failed_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(sent, failed)| match (sent, failed) {
            (Some(_), _) => State::Sent,
            (None, Some(_)) => State::Failed,
            (None, None) => State::Pending,
        })
        .collect())
}

/// Messages that failed for good.
pub fn count_failed(conn: &mut AnyConnection) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::failed_at.is_not_null())
        .count()
        .get_result(conn)
}

/// The newest `limit` messages, in `state` if one is given.
pub fn list(
    conn: &mut AnyConnection,
    state: Option<State>,
    limit: i64,
) -> QueryResult<Vec<OutboxRow>> {
    let mut query = outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxRow::as_select())
        .into_boxed();
    query = match state {
        None => query,
        Some(State::Pending) => query
            .filter(outbox::sent_at.is_null())
            .filter(outbox::failed_at.is_null()),
        Some(State::Sent) => query.filter(outbox::sent_at.is_not_null()),
        Some(State::Failed) => query
            .filter(outbox::sent_at.is_null())
            .filter(outbox::failed_at.is_not_null()),
    };
    query.load(conn)
}
