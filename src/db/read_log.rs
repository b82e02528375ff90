//! The audit events of reads, written by group commit: every page of personal data waits until its
//! event is stored, but the events of pages read at the same moment share one transaction.
//!
//! Why: a read event written in a transaction of its own costs four round trips to the database
//! (`BEGIN`, `SET LOCAL`, `INSERT`, `COMMIT`) and on SQLite a turn of the single writer. Under
//! load that was a third of a record page's round trips. Here the first reader whose event is
//! queued while no one is writing becomes the writer: it takes every queued event, inserts them
//! with one multi-row `INSERT` in one transaction on its own connection, and wakes the readers
//! whose events that was; meanwhile new events queue for the next writer. No reader is answered
//! before its event is committed, and a failed write fails every read whose event it held. There
//! is no background thread: nothing is left half-written when a command exits.

use super::schema::audit_events;
use super::AnyConnection;
use crate::authz::Actor;
use chrono::{NaiveDateTime, Utc};
use diesel::connection::{Connection, TransactionManager};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Most events one writer inserts in one statement (7 values each: far below either backend's
/// limit of bound parameters).
const MOST_IN_ONE_WRITE: usize = 500;

/// One read event waiting for its write.
struct Pending {
    seq: u64,
    at: NaiveDateTime,
    actor: String,
    actor_org_id: Option<i64>,
    action: String,
    subject: String,
    after: Option<String>,
}

#[derive(Default)]
struct State {
    /// Events not yet taken by a writer, in sequence order.
    queue: Vec<Pending>,
    /// The sequence number the next event gets.
    next: u64,
    /// Every event up to this number has been written or has failed.
    done_upto: u64,
    /// A writer holds a batch now.
    writing: bool,
    /// The error of each failed event, until its reader takes it.
    failed: HashMap<u64, String>,
}

/// The queue of read events of one database, shared by its connections.
#[derive(Default)]
pub struct ReadLog {
    state: Mutex<State>,
    written: Condvar,
}

impl ReadLog {
    /// Stores the event of a read and returns once it is committed, on `conn` or on another
    /// reader's connection together with other events. Inside a transaction of the caller's the
    /// event is written in that transaction, alone (its fate is the caller's).
    pub fn record(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        action: &str,
        subject: &str,
        after: Option<&serde_json::Value>,
    ) -> QueryResult<()> {
        let event = |seq| Pending {
            seq,
            at: Utc::now().naive_utc(),
            actor: actor.name.clone(),
            actor_org_id: actor.org_id,
            action: action.to_string(),
            subject: subject.to_string(),
            after: after.map(|v| v.to_string()),
        };
        let depth =
            <AnyConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
                .transaction_depth()?;
        if depth.is_some() {
            return super::audit::record(conn, actor, action, subject, None, after);
        }
        let mut state = self.lock();
        state.next += 1;
        let seq = state.next;
        state.queue.push(event(seq));
        loop {
            if seq <= state.done_upto {
                return match state.failed.remove(&seq) {
                    None => Ok(()),
                    Some(message) => Err(DieselError::DatabaseError(
                        DatabaseErrorKind::Unknown,
                        Box::new(message),
                    )),
                };
            }
            if state.writing {
                state = self
                    .written
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            // No one is writing and this event is still queued: write the queue.
            let take = state.queue.len().min(MOST_IN_ONE_WRITE);
            let batch: Vec<Pending> = state.queue.drain(..take).collect();
            state.writing = true;
            drop(state);
            let mut turn = WriterTurn {
                log: self,
                last: batch.last().map_or(seq, |p| p.seq),
                outcome: Err("the writer of read events stopped".into()),
                batch: &batch,
            };
            turn.outcome = write(conn, &batch).map_err(|e| e.to_string());
            drop(turn);
            state = self.lock();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the queue consistent (every change
        // to it is one step), so a poisoned lock is taken as it is.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A writer's hold on its batch: when dropped — after the write, or in a panic during it — it
/// records the outcome for every event of the batch and hands the turn on.
struct WriterTurn<'a> {
    log: &'a ReadLog,
    batch: &'a [Pending],
    last: u64,
    outcome: Result<(), String>,
}

impl Drop for WriterTurn<'_> {
    fn drop(&mut self) {
        let mut state = self.log.lock();
        if let Err(message) = &self.outcome {
            for p in self.batch {
                state.failed.insert(p.seq, message.clone());
            }
        }
        state.done_upto = state.done_upto.max(self.last);
        state.writing = false;
        drop(state);
        self.log.written.notify_all();
    }
}

/// One transaction holding the batch; on PostgreSQL without waiting for the WAL flush (a read
/// event is durable once the WAL writer flushes it, within about 0.6 s: a crash of the hub
/// loses nothing, only a crash of the database's machine in that window could).
fn write(conn: &mut AnyConnection, batch: &[Pending]) -> QueryResult<()> {
    conn.transaction(|c| {
        if let AnyConnection::Postgresql(_) = c {
            diesel::sql_query("SET LOCAL synchronous_commit TO OFF").execute(c)?;
        }
        insert(c, batch)
    })
}

fn insert(conn: &mut AnyConnection, batch: &[Pending]) -> QueryResult<()> {
    let rows: Vec<_> = batch
        .iter()
        .map(|p| {
            (
                audit_events::at.eq(p.at),
                audit_events::actor.eq(&p.actor),
                audit_events::actor_org_id.eq(p.actor_org_id),
                audit_events::action.eq(&p.action),
                audit_events::subject.eq(&p.subject),
                audit_events::before.eq(None::<String>),
                audit_events::after.eq(p.after.as_deref()),
            )
        })
        .collect();
    on_backend!(conn, |c| diesel::insert_into(audit_events::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}
