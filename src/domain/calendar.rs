//! Working days (工作日) of mainland China: weekends, statutory holidays and the adjusted
//! weekend working days (调休), from the table embedded from `fixtures/calendar/`.
//!
//! Deadlines in the notices ("5 个工作日内") are counted here; what a deadline applies to is
//! decided elsewhere.

use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::LazyLock;

const EMBEDDED_CSV: &str = include_str!("../../fixtures/calendar/holidays-cn-2020-2026.csv");

// The fixture is compiled in and checked by `embedded_fixture_loads`; failing here is a build
// defect, not a property of any input.
static EMBEDDED: LazyLock<Calendar> = LazyLock::new(|| match Calendar::from_csv(EMBEDDED_CSV) {
    Ok(c) => c,
    Err(e) => panic!("embedded fixtures/calendar/holidays-cn-2020-2026.csv: {e}"),
});

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DayKind {
    Holiday,
    Workday,
}

/// Holidays and adjusted working days. Outside the covered years every Monday–Friday is a
/// working day, which is the best guess until the State Council publishes the year.
#[derive(Clone, Debug)]
pub struct Calendar {
    days: BTreeMap<NaiveDate, DayKind>,
    years: (i32, i32),
}

impl Calendar {
    /// The calendar compiled into the binary (2020–2026).
    pub fn embedded() -> Calendar {
        EMBEDDED.clone()
    }

    /// Reads `date,kind,festival` rows (`kind` is `holiday` or `workday`; the header row and the
    /// festival are optional). Errors name the line.
    pub fn from_csv(csv: &str) -> Result<Calendar, String> {
        let mut days = BTreeMap::new();
        for (i, line) in csv.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
            if line.is_empty() || (line_no == 1 && line.starts_with("date")) {
                continue;
            }
            let mut fields = line.split(',').map(str::trim);
            let date_text = fields.next().unwrap_or_default();
            let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").map_err(|_| {
                format!("line {line_no}: date {date_text:?} is not a YYYY-MM-DD date")
            })?;
            let kind = match fields.next() {
                Some("holiday") => DayKind::Holiday,
                Some("workday") => DayKind::Workday,
                other => {
                    return Err(format!(
                        "line {line_no}: kind must be holiday or workday, found {:?}",
                        other.unwrap_or_default()
                    ))
                }
            };
            if let Some(previous) = days.insert(date, kind) {
                if previous != kind {
                    return Err(format!(
                        "line {line_no}: {date} is listed both as holiday and as workday"
                    ));
                }
            }
        }
        let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
            return Err("calendar has no rows".to_string());
        };
        let years = (first.year(), last.year());
        Ok(Calendar { days, years })
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

    /// First and last year with rows.
    pub fn covered_years(&self) -> (i32, i32) {
        self.years
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
        let c = Calendar::from_csv(EMBEDDED_CSV).expect("fixture");
        assert_eq!(c.covered_years(), (2020, 2026));
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
        assert!(e.starts_with("line 3:"), "{e}");
        let e = Calendar::from_csv("date,kind,festival\n2026-10-01,vacation,国庆节\n")
            .expect_err("bad kind");
        assert!(e.starts_with("line 2:") && e.contains("vacation"), "{e}");
        let e = Calendar::from_csv("2026-10-01,holiday\n2026-10-01,workday\n").expect_err("clash");
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(Calendar::from_csv("date,kind,festival\n").is_err());
    }

    #[test]
    fn from_csv_accepts_bom_crlf_and_no_header() {
        let c = Calendar::from_csv("\u{FEFF}2027-01-01,holiday,元旦\r\n2027-01-02,holiday\r\n")
            .expect("loads");
        assert_eq!(c.covered_years(), (2027, 2027));
        assert!(!c.is_working_day(day(2027, 1, 1)));
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
