//! The outbox sender: takes due messages (on PostgreSQL locked with SKIP LOCKED, so two nodes
//! take different ones), sends each over SMTP, and marks it sent, failed for good (an address
//! that cannot be used, a 5xx refusal), or due again later with backoff (a 4xx, a server down).

use crate::db::{outbox, AnyConnection, Db, DbError};
use crate::notify::{Mailer, OutgoingMail};
use chrono::{Duration, NaiveDateTime, Utc};

/// What one outbox pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    /// Failed for good: kept with the reason, never tried again.
    pub failed: usize,
    /// Failed this time: due again after the backoff.
    pub deferred: usize,
}

/// One round: what it did, how many it took, and whether the server itself failed.
struct Round {
    report: SendReport,
    taken: usize,
    server_down: bool,
}

/// Sends what is due. A message that fails on its own (bad address, refused recipient, a 4xx)
/// does not hold up the others: they are sent in the same pass. Only a fault of the server
/// (cannot connect, TLS, authentication) ends the pass, as the rest would fail the same way.
pub fn send_due(db: &Db, mailer: &Mailer, retry_secs: u64) -> Result<SendReport, DbError> {
    let mut conn = db.conn()?;
    let mut total = SendReport::default();
    loop {
        // How a round holds what it takes is the backend's business (`outbox::send_round`).
        let (batch, round) = outbox::send_round(&mut conn, |c, limit| {
            send_batch(c, mailer, retry_secs, limit)
        })?;
        total.sent += round.report.sent;
        total.failed += round.report.failed;
        total.deferred += round.report.deferred;
        // Every message taken was sent, failed or rescheduled into the future, so the next round
        // takes others; the loop ends when none are due.
        if round.taken < batch as usize || round.server_down {
            return Ok(total);
        }
    }
}

fn send_batch(
    conn: &mut AnyConnection,
    mailer: &Mailer,
    retry_secs: u64,
    limit: i64,
) -> Result<Round, diesel::result::Error> {
    let now = Utc::now().naive_utc();
    let due = outbox::claim_due(conn, now, limit)?;
    let mut report = SendReport::default();
    let mut server_down = false;
    for m in &due {
        let mail = OutgoingMail {
            to: m.to_addr.clone(),
            subject: m.subject.clone(),
            body: m.body.clone(),
        };
        match mailer.send(&mail) {
            Ok(()) => {
                outbox::mark_sent(conn, m.id, Utc::now().naive_utc())?;
                report.sent += 1;
            }
            Err(e) if e.is_permanent() => {
                tracing::error!(id = m.id, to = %m.to_addr, error = %e, "mail cannot be delivered; marked failed");
                outbox::mark_dead(conn, m.id, &e.to_string(), Utc::now().naive_utc())?;
                report.failed += 1;
            }
            Err(e) => {
                let retry = retry_at(now, m.attempts, retry_secs);
                tracing::warn!(id = m.id, to = %m.to_addr, error = %e, retry = %retry, "mail not sent; will retry");
                outbox::mark_retry(conn, m.id, &e.to_string(), retry)?;
                report.deferred += 1;
                if e.is_server_fault() {
                    // The rest would fail the same way; they stay due for the next pass.
                    server_down = true;
                    break;
                }
            }
        }
    }
    Ok(Round {
        report,
        taken: due.len(),
        server_down,
    })
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
