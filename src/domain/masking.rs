//! The one masking rule for views that may not see personal numbers whole (quality.md): what a
//! masked ID number, phone number, birth date and problem line show. API, exports, reject
//! reports, messages and pages all mask through these functions, so no channel shows more.
//!
//! Why so much is hidden: an 18-digit ID number is region (6) + birth date (8) + sequence (3) +
//! check. The route already tells the region and the record tells sex and year, so keeping the
//! first six digits and the birth date leaves a few hundred candidates. Keeping only the first
//! and the last character, and the birth year at most, leaves 365 × 500 / 11 ≈ 16,000 numbers
//! for a known region, sex and year: more than the 10,000 the rule asks for.

use crate::domain::catalogue::ErrorCode;
use chrono::{Datelike, NaiveDate};

/// Digits a masked phone number hides at least.
const PHONE_HIDDEN_MIN: usize = 4;

/// An ID number as a masked view shows it: first and last character, the rest `*`
/// (`3****************5`). Anything of two characters or fewer is hidden whole.
pub fn id_number(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    match chars.as_slice() {
        [first, middle @ .., last] if !middle.is_empty() => {
            format!("{first}{}{last}", "*".repeat(middle.len()))
        }
        _ => "*".repeat(chars.len()),
    }
}

/// A phone number as a masked view shows it: at least 4 digits hidden, at most the first 3 and
/// the last 4 kept (`138****5678`).
pub fn phone(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let hidden = chars.len().saturating_sub(7).max(PHONE_HIDDEN_MIN);
    if hidden >= chars.len() {
        return "*".repeat(chars.len());
    }
    let shown = chars.len() - hidden;
    let head = shown.min(3);
    let tail = shown - head;
    let start: String = chars[..head].iter().collect();
    let end: String = chars[chars.len() - tail..].iter().collect();
    format!("{start}{}{end}", "*".repeat(hidden))
}

/// An e-mail address as a masked view shows it: the first character of the mailbox and the
/// domain (`z***@qq.com`). Mailboxes are often a QQ number, a phone number or a name with a
/// birth date, so the rest of the mailbox is hidden too.
pub fn email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((mailbox, domain)) => {
            let first: String = mailbox.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "*".repeat(value.chars().count()),
    }
}

/// A birth date as a masked view shows it: the year only.
pub fn birth_year(date: NaiveDate) -> i32 {
    date.year()
}

/// A value quoted by a problem line, as a masked view shows it. `column_key` is the transfer-file
/// column's key (`id_number`, `phone`, `birth_date`, ...).
pub fn problem_value(column_key: &str, value: &str) -> String {
    match column_key {
        "id_number" => id_number(value),
        "phone" => phone(value),
        "email" => email(value),
        // A birth date as written ("2003-06-15", "20030615", "2003年6月15日"): its first four
        // characters are the year when it starts with one; otherwise nothing of it is shown.
        "birth_date" => {
            let year: String = value.chars().take(4).collect();
            if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) {
                format!(
                    "{year}{}",
                    "*".repeat(value.chars().count().saturating_sub(4))
                )
            } else {
                "*".repeat(value.chars().count())
            }
        }
        _ => value.to_string(),
    }
}

/// The problem text a masked view shows in place of the stored one, or `None` to show the
/// stored one. Texts about the ID number, birth date or phone column, and texts of codes that
/// quote such a value (a birth date, an age, a check digit, another row's line), are replaced
/// by the code's general text from the catalogue, in Chinese and English.
pub fn problem_message(column_key: &str, code: &str) -> Option<(&'static str, &'static str)> {
    match ErrorCode::parse(code) {
        Some(code) if code.quotes_personal_value() => Some((code.general_zh(), code.general_en())),
        _ => match column_key {
            "id_number" => Some(("证件号码：不符合要求", "ID number: not valid")),
            "birth_date" => Some(("出生日期：不符合要求", "Birth date: not valid")),
            "phone" => Some(("联系电话：不符合要求", "Phone: not valid")),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_id_keeps_only_its_first_and_last_character() {
        assert_eq!(id_number("370102200306156015"), "3****************5");
        assert_eq!(id_number("11010519491231002X"), "1****************X");
        assert_eq!(id_number("370102030615601"), "3*************1");
        assert_eq!(id_number("ab"), "**");
        assert_eq!(id_number(""), "");
    }

    #[test]
    fn a_masked_id_hides_the_birth_date_and_the_region() {
        let id = "370102200306156015";
        let masked = id_number(id);
        assert!(!masked.contains("20030615") && !masked.contains("0615"));
        assert!(!masked.contains("370102"));
        assert_eq!(masked.chars().filter(|c| *c == '*').count(), 16);
    }

    #[test]
    fn a_masked_phone_hides_at_least_four_digits() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("053188886666"), "053*****6666");
        assert_eq!(phone("88886666"), "888****6");
        assert_eq!(phone("12345"), "1****");
        assert_eq!(phone("1234"), "****");
        for p in ["13812345678", "88886666", "053188886666", "123456", "1"] {
            assert!(phone(p).chars().filter(|c| *c == '*').count() >= 4.min(p.len()));
        }
    }

    #[test]
    fn a_masked_email_keeps_the_first_character_and_the_domain() {
        assert_eq!(email("zhangsan20030615@qq.com"), "z***@qq.com");
        assert_eq!(email("13957246810@163.com"), "1***@163.com");
        assert_eq!(email("no-at-sign"), "**********");
    }

    #[test]
    fn problem_values_hide_what_the_column_hides() {
        assert_eq!(
            problem_value("id_number", "370102200306156015"),
            "3****************5"
        );
        assert_eq!(problem_value("birth_date", "2003-06-15"), "2003******");
        assert_eq!(problem_value("birth_date", "6/15/2003"), "*********");
        assert_eq!(problem_value("phone", "13812345678"), "138****5678");
        assert_eq!(problem_value("name", "张三"), "张三");
    }

    #[test]
    fn messages_that_quote_personal_values_have_a_general_form() {
        for (column, code) in [
            ("id_number", "ID_BIRTHDATE"),
            ("birth_date", "ID_BIRTHDATE"),
            ("birth_date", "BIRTH_MISMATCH"),
            ("id_number", "ID_CHECKSUM"),
            ("phone", "PHONE_FORMAT"),
            ("birth_date", "DATE_INVALID"),
        ] {
            let (zh, en) = problem_message(column, code).expect(code);
            assert!(!zh.chars().any(|c| c.is_ascii_digit()), "{zh}");
            assert!(!en.chars().any(|c| c.is_ascii_digit()), "{en}");
        }
        assert!(problem_message("school_code", "SCHOOL_CODE_FORMAT").is_none());
    }
}
