//! The outbox sender: takes due messages (on PostgreSQL locked with SKIP LOCKED, so two nodes
//! take different ones), sends each over SMTP, marks it sent, or schedules a retry with backoff.

use crate::db::{outbox, AnyConnection, Db, DbError};
use crate::notify::{Mailer, OutgoingMail};
use chrono::{Duration, NaiveDateTime, Utc};
use diesel::Connection;

/// Messages taken per round on SQLite. On PostgreSQL each message is its own transaction, so it
/// is marked sent the moment it is: a node killed mid-pass sends again at most the one in flight.
const SQLITE_BATCH: i64 = 20;

/// Sends what is due; returns (sent, failed).
pub fn send_due(db: &Db, mailer: &Mailer, retry_secs: u64) -> Result<(usize, usize), DbError> {
    let mut conn = db.conn()?;
    let (mut sent, mut failed) = (0, 0);
    loop {
        // On PostgreSQL the transaction keeps the taken row locked while it is sent: another node
        // skips it, and if this one dies it is free again, not lost. On SQLite there is one
        // worker, and holding its write lock during SMTP would stall ingests, so no transaction.
        let (batch, (s, f, taken)) = match &mut conn as &mut AnyConnection {
            AnyConnection::Postgresql(_) => (
                1,
                conn.transaction(|c| send_batch(c, mailer, retry_secs, 1))?,
            ),
            AnyConnection::Sqlite(_) => (
                SQLITE_BATCH,
                send_batch(&mut conn, mailer, retry_secs, SQLITE_BATCH)?,
            ),
        };
        sent += s;
        failed += f;
        // Stop after a failure too: the server is probably down; the next pass tries again.
        if taken < batch as usize || f > 0 {
            return Ok((sent, failed));
        }
    }
}

fn send_batch(
    conn: &mut AnyConnection,
    mailer: &Mailer,
    retry_secs: u64,
    limit: i64,
) -> Result<(usize, usize, usize), diesel::result::Error> {
    let now = Utc::now().naive_utc();
    let due = outbox::claim_due(conn, now, limit)?;
    let (mut sent, mut failed) = (0, 0);
    for m in &due {
        let mail = OutgoingMail {
            to: m.to_addr.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
        };
        match mailer.send(&mail) {
            Ok(()) => {
                outbox::mark_sent(conn, m.id, Utc::now().naive_utc())?;
                sent += 1;
            }
            Err(e) => {
                let retry = retry_at(now, m.attempts, retry_secs);
                tracing::warn!(id = m.id, to = %m.to_addr, error = %e, retry = %retry, "mail not sent; will retry");
                outbox::mark_failed(conn, m.id, &e.to_string(), retry)?;
                failed += 1;
                // The rest would fail the same way; they stay due for the next pass.
                break;
            }
        }
    }
    Ok((sent, failed, due.len()))
}

/// Doubling waits from `retry_secs`, capped at an hour.
fn retry_at(now: NaiveDateTime, attempts: i32, retry_secs: u64) -> NaiveDateTime {
    let base = retry_secs.max(1) as i64;
    let factor = 1i64 << attempts.clamp(0, 12);
    now + Duration::seconds((base * factor).min(3600))
}

#[cfg(test)]
mod tests {
    use super::retry_at;
    use chrono::{Duration, NaiveDate};

    #[test]
    fn retries_back_off_and_cap_at_an_hour() {
        let now = NaiveDate::from_ymd_opt(2026, 10, 9)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .expect("date");
        assert_eq!(retry_at(now, 0, 30) - now, Duration::seconds(30));
        assert_eq!(retry_at(now, 2, 30) - now, Duration::seconds(120));
        assert_eq!(retry_at(now, 20, 30) - now, Duration::seconds(3600));
    }
}
