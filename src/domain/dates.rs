//! Dates as clerks and spreadsheets write them: `20240630`, `2024-06-30`, `2024/6/30`,
//! `2024.6.30`, `2024年6月30日`, ISO date-times, and Excel serial numbers.
//!
//! Only the reading of a date lives here; whether a date is plausible for a column (not in the
//! future, an age in range) is decided in `graduate`.

use chrono::{Days, NaiveDate};
use std::borrow::Cow;

/// Largest Excel serial (1900 system): 9999-12-31.
pub const EXCEL_SERIAL_MAX: i64 = 2_958_465;

/// Longer input is never a date; the bound keeps arbitrary cells cheap to reject.
const MAX_LEN: usize = 64;

/// Reads a date in any of the accepted forms; `None` when it is not one. Never panics.
///
/// A bare number of up to 7 digits is an Excel serial (`45473`, `45473.0`, `45473.5` for a
/// date-time), except a four-digit number between 1900 and 2100, which is a year without month
/// and day (clerks write `2024` or `2024.06` for a graduation), not a day of 1905.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    if raw.len() > MAX_LEN * 4 {
        return None;
    }
    let half: Cow<str> = if raw.chars().any(needs_half_width) {
        Cow::Owned(crate::domain::text::to_half_width(raw))
    } else {
        Cow::Borrowed(raw)
    };
    let s = half.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if s.is_empty() || s.len() > MAX_LEN {
        return None;
    }
    if s.contains('年') {
        return parse_chinese(s);
    }
    if let Some(d) = parse_date_part(s) {
        return Some(d);
    }
    if let Some(serial) = excel_serial(s) {
        return from_excel_serial(serial);
    }
    // ISO or Excel-exported date-time: the date part decides, the time must merely look like one.
    let (date, time) = s.split_once([' ', 'T'])?;
    let time = time.trim();
    if time.is_empty()
        || !time
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | '+' | '-' | 'Z' | ' '))
    {
        return None;
    }
    parse_date_part(date)
}

/// Excel serial of the 1900 date system to a date. Serial 1 is 1900-01-01; serial 60 is Excel's
/// fictitious 1900-02-29 (kept for Lotus 1-2-3 compatibility) and has no date; from 61 on the
/// serials are one ahead of a real day count.
pub fn from_excel_serial(serial: i64) -> Option<NaiveDate> {
    if !(1..=EXCEL_SERIAL_MAX).contains(&serial) || serial == 60 {
        return None;
    }
    let offset = if serial < 60 { serial } else { serial - 1 };
    NaiveDate::from_ymd_opt(1899, 12, 31)?.checked_add_days(Days::new(u64::try_from(offset).ok()?))
}

fn needs_half_width(c: char) -> bool {
    matches!(c, '\u{3000}' | '\u{FF01}'..='\u{FF5E}')
}

/// `YYYYMMDD`, or `YYYY-M-D` with one of `-`, `/`, `.` used for both separators.
fn parse_date_part(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return ymd(&s[0..4], &s[4..6], &s[6..8]);
    }
    let sep = *b.get(4)?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let mut parts = s.split(char::from(sep));
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    ymd(y, m, d)
}

/// `2024年6月30日` (also `日` written `号`, or left out).
fn parse_chinese(s: &str) -> Option<NaiveDate> {
    let (y, rest) = s.split_once('年')?;
    let (m, rest) = rest.split_once('月')?;
    let d = rest
        .strip_suffix('日')
        .or_else(|| rest.strip_suffix('号'))
        .unwrap_or(rest);
    let (y, m, d) = (y.trim(), m.trim(), d.trim());
    if m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    ymd(y, m, d)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    if y.len() != 4 {
        return None;
    }
    let year = i32::try_from(digits(y)?).ok()?;
    if year < 1000 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, digits(m)?, digits(d)?)
}

/// All ASCII digits (no sign, no spaces) as a number.
fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `45473`, `45473.0`, `45473.75`: the whole days of an Excel serial.
fn excel_serial(s: &str) -> Option<i64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || int.len() > 7 {
        return None;
    }
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let n = i64::from(digits(int)?);
    if int.len() == 4 && (1900..=2100).contains(&n) {
        return None;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn reads_compact_and_separated_forms() {
        for raw in [
            "20240630",
            "2024-06-30",
            "2024/6/30",
            "2024/06/30",
            "2024.6.30",
            "2024-6-30",
            " 2024-06-30 ",
        ] {
            assert_eq!(parse_date(raw), day(2024, 6, 30), "{raw}");
        }
    }

    #[test]
    fn reads_chinese_form() {
        assert_eq!(parse_date("2024年6月30日"), day(2024, 6, 30));
        assert_eq!(parse_date("2024年06月30号"), day(2024, 6, 30));
        assert_eq!(parse_date("２０２４年６月３０日"), day(2024, 6, 30));
        assert_eq!(parse_date("2024年6月"), None);
    }

    #[test]
    fn reads_full_width_digits() {
        assert_eq!(parse_date("２０２４－０６－３０"), day(2024, 6, 30));
        assert_eq!(parse_date("２０２４０６３０"), day(2024, 6, 30));
    }

    #[test]
    fn reads_iso_datetimes_by_their_date() {
        assert_eq!(parse_date("2024-06-30 00:00:00"), day(2024, 6, 30));
        assert_eq!(parse_date("2024-06-30T12:34:56"), day(2024, 6, 30));
        assert_eq!(parse_date("2024/6/30 0:00"), day(2024, 6, 30));
        assert_eq!(
            parse_date("2024-06-30T12:34:56.000+08:00"),
            day(2024, 6, 30)
        );
        assert_eq!(parse_date("2024-06-30 noon"), None);
    }

    #[test]
    fn converts_excel_serial() {
        assert_eq!(parse_date("45473"), day(2024, 6, 30));
        assert_eq!(parse_date("45473.0"), day(2024, 6, 30));
        assert_eq!(parse_date("45473.75"), day(2024, 6, 30));
        assert_eq!(parse_date("1"), day(1900, 1, 1));
        assert_eq!(parse_date("59"), day(1900, 2, 28));
        assert_eq!(parse_date("61"), day(1900, 3, 1));
        assert_eq!(parse_date("2958465"), day(9999, 12, 31));
    }

    #[test]
    fn excel_fake_leap_day_is_not_a_date() {
        assert_eq!(parse_date("60"), None);
        assert_eq!(from_excel_serial(60), None);
    }

    #[test]
    fn rejects_serials_out_of_range() {
        assert_eq!(parse_date("0"), None);
        assert_eq!(parse_date("2958466"), None);
        assert_eq!(parse_date("-5"), None);
    }

    #[test]
    fn a_bare_year_is_not_a_serial() {
        assert_eq!(parse_date("2024"), None);
        assert_eq!(parse_date("2024.06"), None);
        assert_eq!(parse_date("2024.6"), None);
        // Other four-digit numbers remain serials.
        assert_eq!(parse_date("1000"), day(1902, 9, 26));
    }

    #[test]
    fn rejects_impossible_dates() {
        for raw in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-06-31",
            "20240631",
            "2024-6",
            "2024-06-30-01",
            "2024-06/30",
            "24-06-30",
            "0999-01-01",
            "",
            "   ",
            "abc",
            "2024-06-３0x",
        ] {
            assert_eq!(parse_date(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn accepts_leap_day() {
        assert_eq!(parse_date("2024-02-29"), day(2024, 2, 29));
    }

    proptest! {
        #[test]
        fn parse_date_never_panics(raw in "\\PC{0,80}") {
            let _ = parse_date(&raw);
        }

        #[test]
        fn parse_date_never_panics_on_date_like_input(raw in "[0-9年月日号 T:./\\-\u{FF10}-\u{FF19}]{0,30}") {
            let _ = parse_date(&raw);
        }

        #[test]
        fn every_serial_in_range_but_60_converts(serial in 1i64..=EXCEL_SERIAL_MAX) {
            prop_assert_eq!(from_excel_serial(serial).is_some(), serial != 60);
        }

        #[test]
        fn formats_round_trip(days in 0u64..(365 * 200)) {
            let d = NaiveDate::from_ymd_opt(1900, 1, 1).and_then(|b| b.checked_add_days(Days::new(days)));
            let d = d.expect("in range");
            for f in ["%Y%m%d", "%Y-%m-%d", "%Y/%-m/%-d", "%Y.%m.%d", "%Y年%-m月%-d日", "%Y-%m-%dT%H:%M:%S"] {
                let text = d.and_hms_opt(0, 0, 0).expect("midnight").format(f).to_string();
                prop_assert_eq!(parse_date(&text), Some(d), "{}", text);
            }
        }
    }
}
