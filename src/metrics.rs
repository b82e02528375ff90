//! The operator's figures for `/metrics`, in the Prometheus text format: batches and rows
//! ingested, the mail outbox's backlog, overdue packages, the unassigned (待分配) queue and how far
//! the working-day calendar reaches. Every figure is read from the database, so all nodes on one
//! PostgreSQL answer the same; none holds personal data.

use crate::db::packages::{DELIVERED, UNASSIGNED};
use crate::db::AnyConnection;
use crate::domain::calendar::Calendar;
use chrono::{Datelike, NaiveDate};
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
    pub outbox_failed: i64,
    /// Delivered packages not acknowledged by their deadline.
    pub packages_overdue: i64,
    /// Records waiting for a person to assign them (待分配).
    pub records_unassigned: i64,
    /// The last year the working-day calendar covers.
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

/// The years the working-day calendar covers. The one place that says where they come from
/// (today the calendar compiled into the binary), so that a calendar kept in the database only
/// changes this function.
pub fn calendar_covered_years() -> (i32, i32) {
    Calendar::embedded().covered_years()
}

/// Whether the year after `last_year` should be loaded by now: from 1 November of `last_year`
/// on (the State Council publishes the next year's holidays around then), until it is.
pub fn next_year_missing(last_year: i32, today: NaiveDate) -> bool {
    NaiveDate::from_ymd_opt(last_year, 11, 1).is_some_and(|warn_from| today >= warn_from)
        || today.year() > last_year
}

/// Reads every figure as of `today` (the Beijing date deadlines are counted in).
pub fn collect(conn: &mut AnyConnection, today: NaiveDate) -> QueryResult<Snapshot> {
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
        "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND attempts = 0",
    )?;
    let outbox_failed = count(
        conn,
        "SELECT COUNT(*) AS n FROM outbox WHERE sent_at IS NULL AND attempts > 0",
    )?;
    // The same rule as the reminders: delivered, and the deadline day itself has passed.
    let packages_overdue = {
        use crate::db::schema::packages;
        packages::table
            .filter(packages::state.eq(DELIVERED))
            .filter(packages::deadline.lt(today))
            .count()
            .get_result(conn)?
    };
    let records_unassigned = {
        use crate::db::schema::placements;
        placements::table
            .filter(placements::state.eq(UNASSIGNED))
            .count()
            .get_result(conn)?
    };
    let (_, last_year) = calendar_covered_years();
    Ok(Snapshot {
        batches: totals.batches,
        rows_read: totals.rows_read,
        rows_accepted: totals.accepted,
        rows_updated: totals.updated,
        rows_rejected: totals.rejected,
        rows_quarantined: totals.quarantined,
        outbox_pending,
        outbox_failed,
        packages_overdue,
        records_unassigned,
        calendar_last_year: last_year,
        calendar_next_year_missing: next_year_missing(last_year, today),
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
            "Mail not yet sent: pending (not tried yet) or failed (waiting for a retry).",
            &[
                ("{state=\"pending\"}", self.outbox_pending),
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn next_year_is_missing_from_the_first_of_november() {
        assert!(!next_year_missing(2026, day(2026, 10, 31)));
        assert!(next_year_missing(2026, day(2026, 11, 1)));
        assert!(next_year_missing(2026, day(2027, 3, 1)));
        assert!(!next_year_missing(2027, day(2026, 12, 31)));
    }

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
