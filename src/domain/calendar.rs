//! Working days (工作日) of mainland China: weekends, statutory holidays and the adjusted
//! weekend working days (调休), built from rows (the database's `calendar_days`, or a CSV file
//! being imported) and the years those rows cover.
//!
//! Deadlines in the notices ("5 个工作日内") are counted here; what a deadline applies to is
//! decided elsewhere. A year not covered counts Monday–Friday only: a deadline that reaches into
//! it is provisional (暂定) until the State Council's schedule for that year is loaded.

use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;

/// The fixture shipped with the program (2020–2026): it seeds an empty database and serves the
/// tests; at run time the calendar comes from the database.
pub const FIXTURE_CSV: &str = include_str!("../../fixtures/calendar/holidays-cn-2020-2026.csv");

/// Whether a listed day is off or worked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off (every day of a break, weekend days inside it included).
    Holiday,
    /// A Saturday or Sunday worked to make up for a break (调休).
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s {
            "holiday" => Some(DayKind::Holiday),
            "workday" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

/// One row of the calendar: a day that differs from the plain Monday–Friday rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub kind: DayKind,
    /// The break it belongs to (春节, 国庆节 …); informative only.
    pub festival: String,
}

/// Why a calendar file was refused: the line (0 when the file as a whole is wrong) and the
/// reason in Chinese and English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarFileError {
    pub line: usize,
    pub zh: String,
    pub en: String,
}

impl fmt::Display for CalendarFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{} / {}", self.zh, self.en)
        } else {
            write!(
                f,
                "第 {} 行：{} / line {}: {}",
                self.line, self.zh, self.line, self.en
            )
        }
    }
}

impl std::error::Error for CalendarFileError {}

/// Reads a whole `date,kind,festival` file (header row optional, BOM and CRLF accepted) and
/// checks every line before anything is used: a date is `YYYY-MM-DD`, listed once; `kind` is
/// `holiday` or `workday`; a `workday` is a Saturday or Sunday (a weekday is worked anyway, so
/// a weekday `workday` is a typo). The first bad line refuses the file.
pub fn parse_csv(text: &str) -> Result<Vec<CalendarDay>, CalendarFileError> {
    let mut days: BTreeMap<NaiveDate, CalendarDay> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        if trimmed.is_empty() || (line == 1 && trimmed.starts_with("date")) {
            continue;
        }
        let bad = |zh: String, en: String| CalendarFileError { line, zh, en };
        let fields: Vec<&str> = trimmed.split(',').map(str::trim).collect();
        if fields.len() < 2 || fields.len() > 3 {
            return Err(bad(
                format!("应为“日期,类型,节日”三列，实为 {} 列", fields.len()),
                format!("expected date,kind,festival, found {} fields", fields.len()),
            ));
        }
        let date_text = fields[0];
        let day = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| {
            bad(
                format!("日期“{date_text}”不是 YYYY-MM-DD 格式的有效日期"),
                format!("date {date_text:?} is not a YYYY-MM-DD date"),
            )
        })?;
        let kind = DayKind::parse(fields[1]).ok_or_else(|| {
            bad(
                format!(
                    "类型应为 holiday（放假）或 workday（调休上班），实为“{}”",
                    fields[1]
                ),
                format!("kind must be holiday or workday, found {:?}", fields[1]),
            )
        })?;
        if kind == DayKind::Workday && is_weekday(day) {
            return Err(bad(
                format!("{day} 是周一至周五，不能列为调休上班日（workday 只用于周六、周日）"),
                format!(
                    "{day} is a Monday–Friday: workday rows are for Saturdays and Sundays only"
                ),
            ));
        }
        if days.contains_key(&day) {
            return Err(bad(
                format!("日期 {day} 重复列出"),
                format!("{day} is listed twice"),
            ));
        }
        let festival = fields.get(2).copied().unwrap_or_default().to_string();
        days.insert(
            day,
            CalendarDay {
                day,
                kind,
                festival,
            },
        );
    }
    if days.is_empty() {
        return Err(CalendarFileError {
            line: 0,
            zh: "文件中没有日期行".to_string(),
            en: "the file has no day rows".to_string(),
        });
    }
    Ok(days.into_values().collect())
}

/// What the operator must be told about the calendar on a given day.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CalendarCoverage {
    /// The last year with a loaded schedule; `None` when none is loaded.
    pub covered_until_year: Option<i32>,
    /// Today's own year is not loaded: deadlines counted now are provisional.
    pub current_year_missing: bool,
    /// From 1 November on, next year's schedule is not loaded yet.
    pub next_year_missing: bool,
}

impl CalendarCoverage {
    /// The warning for the operator, in Chinese and English, when a schedule is missing.
    pub fn warning(&self, today: NaiveDate) -> Option<String> {
        let year = today.year();
        let missing = if self.current_year_missing {
            year
        } else if self.next_year_missing {
            year + 1
        } else {
            return None;
        };
        Some(format!(
            "工作日历缺少 {missing} 年的节假日安排，涉及该年的期限仅按周末计算（暂定）；\
             国务院办公厅公布后请用 gradhub calendar import 载入 / \
             the working-day calendar has no {missing} schedule: deadlines in {missing} count \
             weekends only (provisional); load it with `gradhub calendar import` once published"
        ))
    }
}

/// Holidays and adjusted working days of the covered years. Outside them every Monday–Friday is
/// a working day, which is the best guess until the State Council publishes the year.
#[derive(Clone, Debug)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayKind>,
    years: BTreeSet<i32>,
}

impl Calendar {
    /// The calendar of the shipped fixture alone (2020–2026), for tests and tools; the running
    /// hub counts with the calendar in the database (`db::calendar::load`).
    pub fn embedded() -> Calendar {
        match parse_csv(FIXTURE_CSV) {
            Ok(rows) => Calendar::from_rows(&rows),
            // Checked by `embedded_fixture_loads`; failing here is a build defect.
            Err(e) => panic!("fixtures/calendar/holidays-cn-2020-2026.csv: {e}"),
        }
    }

    /// The calendar of `rows`, covering exactly the years they fall in.
    pub fn from_rows(rows: &[CalendarDay]) -> Calendar {
        let years = rows.iter().map(|r| r.day.year()).collect::<Vec<_>>();
        Calendar::from_parts(rows.iter().map(|r| (r.day, r.kind)), years)
    }

    /// The calendar of listed days and of the years declared covered (as stored: a covered year
    /// is one whose schedule was loaded, which its rows alone cannot say).
    pub fn from_parts(
        days: impl IntoIterator<Item = (NaiveDate, DayKind)>,
        covered_years: impl IntoIterator<Item = i32>,
    ) -> Calendar {
        let years: BTreeSet<i32> = covered_years.into_iter().collect();
        // A row outside the covered years would make an uncovered year half-known; it is left
        // out so that such a year counts weekends only, as documented.
        let days = days
            .into_iter()
            .filter(|(d, _)| years.contains(&d.year()))
            .collect();
        Calendar { days, years }
    }

    /// Reads a calendar file (see [`parse_csv`]).
    pub fn from_csv(csv: &str) -> Result<Calendar, CalendarFileError> {
        parse_csv(csv).map(|rows| Calendar::from_rows(&rows))
    }

    /// A `workday` row, or a Monday–Friday that is not a `holiday` row.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        match self.days.get(&d) {
            Some(DayKind::Workday) => true,
            Some(DayKind::Holiday) => false,
            None => is_weekday(d),
        }
    }

    /// The `n`-th working day after `start` (`start` itself is not counted; `n = 0` is `start`).
    /// Saturates at the last representable date.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`; negative (the count in `(to, from]`) when `to` precedes `from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut count = weekdays_through(to) - weekdays_through(from);
        // Only listed days differ from the plain Monday–Friday rule; there are a few dozen a year.
        for (d, kind) in self
            .days
            .range((Bound::Excluded(from), Bound::Included(to)))
        {
            match (kind, is_weekday(*d)) {
                (DayKind::Holiday, true) => count -= 1,
                (DayKind::Workday, false) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// Whether the schedule of `year` is loaded.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// Whether every year from `from` to `to` (inclusive) is covered: if not, a count over that
    /// span used weekends only somewhere and is provisional.
    pub fn covers_span(&self, from: NaiveDate, to: NaiveDate) -> bool {
        let (a, b) = if from <= to { (from, to) } else { (to, from) };
        (a.year()..=b.year()).all(|y| self.covers(y))
    }

    /// The covered years, in order.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// What to tell the operator on `today`: warned from 1 November of the year before until a
    /// year's schedule is loaded.
    pub fn coverage(&self, today: NaiveDate) -> CalendarCoverage {
        let year = today.year();
        CalendarCoverage {
            covered_until_year: self.years.iter().next_back().copied(),
            current_year_missing: !self.covers(year),
            next_year_missing: today.month() >= 11 && !self.covers(year + 1),
        }
    }
}

/// 1970-01-04 was a Sunday: day k after it is a weekday iff k mod 7 is 1..=5.
const EPOCH_SUNDAY: NaiveDate = match NaiveDate::from_ymd_opt(1970, 1, 4) {
    Some(d) => d,
    None => panic!("1970-01-04 is a date"),
};

fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Monday–Friday days in `(EPOCH, d]` (negative before the epoch), so that the difference of two
/// counts is the number of weekdays between them, without walking the days.
fn weekdays_through(d: NaiveDate) -> i64 {
    let days = (d - EPOCH_SUNDAY).num_days();
    days.div_euclid(7) * 5 + days.rem_euclid(7).min(5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    #[test]
    fn embedded_fixture_loads() {
        let c = Calendar::from_csv(FIXTURE_CSV).expect("fixture");
        assert_eq!(
            c.years().collect::<Vec<_>>(),
            (2020..=2026).collect::<Vec<_>>()
        );
    }

    #[test]
    fn five_working_days_after_30_september_2026_cross_national_day() {
        // Fixture: 10-01..10-07 holiday, Saturday 10-10 workday. 2026-09-30 is a Wednesday:
        // 10-08 Thu (1), 10-09 Fri (2), 10-10 Sat worked (3), 10-12 Mon (4), 10-13 Tue (5).
        let c = Calendar::embedded();
        assert_eq!(c.add_working_days(day(2026, 9, 30), 5), day(2026, 10, 13));
        assert_eq!(
            c.working_days_between(day(2026, 9, 30), day(2026, 10, 13)),
            5
        );
    }

    #[test]
    fn adjusted_weekend_is_a_working_day() {
        let c = Calendar::embedded();
        assert!(c.is_working_day(day(2026, 10, 10))); // Saturday, 国庆节 调休
        assert!(c.is_working_day(day(2026, 9, 20))); // Sunday
        assert!(!c.is_working_day(day(2026, 10, 1))); // Thursday, holiday
        assert!(!c.is_working_day(day(2026, 10, 11))); // plain Sunday
        assert!(c.is_working_day(day(2026, 9, 30))); // plain Wednesday
    }

    #[test]
    fn spring_festival_2026_counts_as_listed() {
        let c = Calendar::embedded();
        // Fixture: Sat 02-14 workday, 02-15..02-23 holiday, Sat 02-28 workday.
        // After Fri 02-13: 02-14 (1), 02-24 Tue (2), 02-25 (3), 02-26 (4), 02-27 (5).
        assert_eq!(c.add_working_days(day(2026, 2, 13), 5), day(2026, 2, 27));
        assert_eq!(c.add_working_days(day(2026, 2, 27), 1), day(2026, 2, 28));
    }

    #[test]
    fn zero_working_days_is_the_start() {
        let c = Calendar::embedded();
        assert_eq!(c.add_working_days(day(2026, 10, 3), 0), day(2026, 10, 3));
        assert_eq!(
            c.working_days_between(day(2026, 10, 3), day(2026, 10, 3)),
            0
        );
    }

    #[test]
    fn counting_backwards_is_negative() {
        let c = Calendar::embedded();
        assert_eq!(
            c.working_days_between(day(2026, 10, 13), day(2026, 9, 30)),
            -5
        );
    }

    #[test]
    fn outside_covered_years_weekdays_work() {
        let c = Calendar::embedded();
        // 2030-01-04 is a Friday.
        assert_eq!(c.add_working_days(day(2030, 1, 4), 1), day(2030, 1, 7));
        assert_eq!(c.working_days_between(day(2030, 1, 6), day(2030, 1, 13)), 5);
    }

    #[test]
    fn from_csv_names_the_bad_line() {
        let e = Calendar::from_csv(
            "date,kind,festival\n2026-10-01,holiday,国庆节\n2026-13-01,holiday,x\n",
        )
        .expect_err("bad date");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.to_string().starts_with("第 3 行："), "{e}");
        let e = Calendar::from_csv("date,kind,festival\n2026-10-01,vacation,国庆节\n")
            .expect_err("bad kind");
        assert!(e.line == 2 && e.en.contains("vacation"), "{e}");
        let e = Calendar::from_csv("2026-10-01,holiday\n2026-10-01,holiday\n").expect_err("twice");
        assert_eq!(e.line, 2, "{e}");
        // 2026-10-09 is a Friday: a weekday is worked anyway, so a workday row is a typo.
        let e = Calendar::from_csv("2026-10-09,workday,国庆节\n").expect_err("weekday workday");
        assert!(e.line == 1 && e.zh.contains("周一至周五"), "{e}");
        let e = Calendar::from_csv("2026-10-01,holiday,国庆节,extra\n").expect_err("fields");
        assert_eq!(e.line, 1, "{e}");
        let e = Calendar::from_csv("date,kind,festival\n").expect_err("empty");
        assert_eq!(e.line, 0, "{e}");
    }

    #[test]
    fn from_csv_accepts_bom_crlf_and_no_header() {
        let c = Calendar::from_csv("\u{FEFF}2027-01-01,holiday,元旦\r\n2027-01-02,holiday\r\n")
            .expect("loads");
        assert_eq!(c.years().collect::<Vec<_>>(), [2027]);
        assert!(!c.is_working_day(day(2027, 1, 1)));
    }

    #[test]
    fn uncovered_years_are_provisional_and_warned_from_november() {
        let c = Calendar::embedded();
        assert!(c.covers_span(day(2026, 9, 30), day(2026, 10, 13)));
        assert!(!c.covers_span(day(2026, 12, 28), day(2027, 1, 4)));
        let october = c.coverage(day(2026, 10, 31));
        assert_eq!(october.covered_until_year, Some(2026));
        assert!(!october.next_year_missing && october.warning(day(2026, 10, 31)).is_none());
        let november = c.coverage(day(2026, 11, 1));
        assert!(november.next_year_missing && !november.current_year_missing);
        let warning = november.warning(day(2026, 11, 1)).expect("warned");
        assert!(
            warning.contains("2027") && warning.contains("暂定"),
            "{warning}"
        );
        let january = c.coverage(day(2027, 1, 2));
        assert!(january.current_year_missing);
        assert!(january
            .warning(day(2027, 1, 2))
            .is_some_and(|w| w.contains("2027")));
    }

    #[test]
    fn rows_outside_the_covered_years_are_ignored() {
        let c = Calendar::from_parts([(day(2027, 1, 1), DayKind::Holiday)], [2026]);
        assert!(
            c.is_working_day(day(2027, 1, 1)),
            "2027 not covered: a plain Friday"
        );
        assert!(!c.covers(2027));
    }

    proptest! {
        #[test]
        fn between_agrees_with_add(start in 0u64..3000, n in 0u32..400) {
            let c = Calendar::embedded();
            let s = day(2019, 1, 1) + chrono::Days::new(start);
            let end = c.add_working_days(s, n);
            prop_assert_eq!(c.working_days_between(s, end), i64::from(n));
            prop_assert!(n == 0 || c.is_working_day(end));
        }

        #[test]
        fn between_counts_day_by_day(start in 0u64..3000, len in 0u64..200) {
            let c = Calendar::embedded();
            let from = day(2019, 1, 1) + chrono::Days::new(start);
            let to = from + chrono::Days::new(len);
            let walked = from.iter_days().skip(1).take_while(|d| *d <= to)
                .filter(|d| c.is_working_day(*d)).count() as i64;
            prop_assert_eq!(c.working_days_between(from, to), walked);
        }
    }
}
