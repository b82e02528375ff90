//! How the pages write numbers, rates, dates and links (`zh-CN`: `12,345`, `93.4%`,
//! `2026-12-01 14:05`).

use chrono::{NaiveDate, NaiveDateTime};

/// `1234567` → `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a rate with one decimal: `93.4%`; `—` when there is nothing to divide by.
pub fn rate(num: i64, den: i64) -> String {
    if den <= 0 {
        return "—".into();
    }
    format!("{:.1}%", num as f64 * 100.0 / den as f64)
}

/// A stored UTC time as Beijing time, to the minute.
pub fn time(at: NaiveDateTime) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Hours as `3.5 小时` or `2.1 天`.
pub fn hours(h: Option<f64>) -> String {
    match h {
        None => "—".into(),
        Some(h) if h < 48.0 => format!("{h:.1} 小时"),
        Some(h) => format!("{:.1} 天", h / 24.0),
    }
}

/// Percent-encodes a value for a query string.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A query string of the pairs with a value: `?year=2026&org=370000`.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", url_encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A redirect target taken from the sign-in form: a path of this site only (`/…`, not `//…`).
pub fn local_path(next: &str) -> Option<&str> {
    (next.starts_with('/') && !next.starts_with("//") && !next.contains('\\')).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(-12345), "-12,345");
    }

    #[test]
    fn rates_have_one_decimal() {
        assert_eq!(rate(934, 1000), "93.4%");
        assert_eq!(rate(1, 0), "—");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path("/inbox"), Some("/inbox"));
        assert_eq!(local_path("//evil.example/"), None);
        assert_eq!(local_path("https://evil.example/"), None);
        assert_eq!(local_path("/\\evil"), None);
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            query(&[("q", Some("张 三&".into())), ("x", None)]),
            "?q=%E5%BC%A0%20%E4%B8%89%26"
        );
    }
}
