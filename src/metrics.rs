//! The operator's figures for `/metrics`, in the Prometheus text format: batches and rows
//! ingested, the mail outbox's backlog, overdue packages, the unassigned (待分配) queue and how far
//! the working-day calendar reaches. Every figure is read from the database, so all nodes on one
//! PostgreSQL answer the same; none holds personal data.

use crate::db::packages::{PackageState, PlacementState};
use crate::db::AnyConnection;
use crate::domain::calendar::CalendarCoverage;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::fmt::Write as _;

/// One reading of every figure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub batches: i64,
    pub rows_read: i64,
    pub rows_accepted: i64,
    pub rows_updated: i64,
    pub rows_rejected: i64,
    pub rows_quarantined: i64,
    /// Unsent mail never tried yet.
    pub outbox_pending: i64,
    /// Unsent mail that failed at least once and waits for its retry.
    pub outbox_retrying: i64,
    /// Mail that can never be sent as it is (an unusable address, a 5xx refusal): kept with its
    /// reason, never tried again (`gradhub outbox list --state failed`).
    pub outbox_failed: i64,
    /// Delivered packages not acknowledged by their deadline.
    pub packages_overdue: i64,
    /// Records waiting for a person to assign them (待分配).
    pub records_unassigned: i64,
    /// The last year the working-day calendar covers (0 when none is loaded).
    pub calendar_last_year: i32,
    /// 1 November of that year has come and the next year is not loaded.
    pub calendar_next_year_missing: bool,
}

#[derive(QueryableByName)]
struct BatchTotals {
    #[diesel(sql_type = BigInt)]
    batches: i64,
    #[diesel(sql_type = BigInt)]
    rows_read: i64,
    #[diesel(sql_type = BigInt)]
    accepted: i64,
    #[diesel(sql_type = BigInt)]
    updated: i64,
    #[diesel(sql_type = BigInt)]
    rejected: i64,
    #[diesel(sql_type = BigInt)]
    quarantined: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut AnyConnection, sql: &str) -> QueryResult<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// Reads every figure as of `today` (the Beijing date deadlines are counted in); `calendar` is
/// the coverage of the calendar the hub loaded from the database
/// (`Distribution::calendar_coverage`).
pub fn collect(
    conn: &mut AnyConnection,
    today: NaiveDate,
    calendar: CalendarCoverage,
) -> QueryResult<Snapshot> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both backends read an i64.
    let totals: BatchTotals = diesel::sql_query(
        "SELECT COUNT(*) AS batches, \
         CAST(COALESCE(SUM(rows_read), 0) AS BIGINT) AS rows_read, \
         CAST(COALESCE(SUM(accepted), 0) AS BIGINT) AS accepted, \
         CAST(COALESCE(SUM(updated), 0) AS BIGINT) AS updated, \
         CAST(COALESCE(SUM(rejected), 0) AS BIGINT) AS rejected, \
         CAST(COALESCE(SUM(quarantined), 0) AS BIGINT) AS quarantined \
         FROM batches",
    )
    .get_result(conn)?;
    let outbox_pending = count(
        conn,
        "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND attempts = 0",
    )?;
    let outbox_retrying = count(
        conn,
        "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND attempts > 0",
    )?;
    let outbox_failed = count(
        conn,
        "SELECT COUNT(*) AS n FROM outbox WHERE failed_at IS NOT NULL",
    )?;
    // The same rule as the reminders: delivered, and the deadline day itself has passed.
    let packages_overdue = {
        use crate::db::schema::packages;
        packages::table
            .filter(packages::state.eq(PackageState::Delivered))
            .filter(packages::deadline.lt(today))
            .count()
            .get_result(conn)?
    };
    // The word is written into the statement, not bound, so both backends can use the partial
    // index `placements_unassigned` (a bound value cannot be matched against its WHERE).
    let records_unassigned = count(
        conn,
        &format!(
            "SELECT COUNT(*) AS n FROM placements WHERE state = '{}'",
            PlacementState::Unassigned.as_str()
        ),
    )?;
    Ok(Snapshot {
        batches: totals.batches,
        rows_read: totals.rows_read,
        rows_accepted: totals.accepted,
        rows_updated: totals.updated,
        rows_rejected: totals.rejected,
        rows_quarantined: totals.quarantined,
        outbox_pending,
        outbox_retrying,
        outbox_failed,
        packages_overdue,
        records_unassigned,
        calendar_last_year: calendar.covered_until_year.unwrap_or(0),
        calendar_next_year_missing: calendar.next_year_missing || calendar.current_year_missing,
    })
}

impl Snapshot {
    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, i64)]| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        family(
            "gradhub_batches_total",
            "counter",
            "Batches stored (transfer files ingested), all channels, all nodes.",
            &[("", self.batches)],
        );
        family(
            "gradhub_batch_rows_total",
            "counter",
            "Rows of the stored batches, by outcome.",
            &[
                ("{outcome=\"read\"}", self.rows_read),
                ("{outcome=\"accepted\"}", self.rows_accepted),
                ("{outcome=\"updated\"}", self.rows_updated),
                ("{outcome=\"rejected\"}", self.rows_rejected),
                ("{outcome=\"quarantined\"}", self.rows_quarantined),
            ],
        );
        family(
            "gradhub_outbox_messages",
            "gauge",
            "Mail not sent: pending (not tried yet), retrying (failed, waiting for a retry) or failed (never to be sent as it is).",
            &[
                ("{state=\"pending\"}", self.outbox_pending),
                ("{state=\"retrying\"}", self.outbox_retrying),
                ("{state=\"failed\"}", self.outbox_failed),
            ],
        );
        family(
            "gradhub_packages_overdue",
            "gauge",
            "Delivered packages not acknowledged by their deadline.",
            &[("", self.packages_overdue)],
        );
        family(
            "gradhub_records_unassigned",
            "gauge",
            "Records waiting for a person to assign them (待分配), all organisations.",
            &[("", self.records_unassigned)],
        );
        family(
            "gradhub_calendar_last_year",
            "gauge",
            "The last year the working-day calendar covers.",
            &[("", i64::from(self.calendar_last_year))],
        );
        family(
            "gradhub_calendar_next_year_missing",
            "gauge",
            "1 from 1 November of the calendar's last year until the next year is loaded.",
            &[("", i64::from(self.calendar_next_year_missing))],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_is_prometheus_text() {
        let text = Snapshot {
            batches: 2,
            rows_read: 10,
            calendar_last_year: 2026,
            calendar_next_year_missing: true,
            ..Snapshot::default()
        }
        .render();
        assert!(text.contains("# TYPE gradhub_batches_total counter\ngradhub_batches_total 2\n"));
        assert!(text.contains("gradhub_batch_rows_total{outcome=\"read\"} 10\n"));
        assert!(text.contains("gradhub_calendar_next_year_missing 1\n"));
        assert!(text.ends_with('\n'));
    }
}
