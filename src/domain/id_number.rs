//! The citizen ID number (公民身份号码, GB 11643; AAC002 in the 人社部 information structures):
//! parsing, the ISO 7064 MOD 11-2 check character, the birth date and sex digit inside it.
//!
//! Only the number itself lives here. Rules that need the rest of the row (the age on the
//! graduation date, agreement with the sex column) are in `graduate`.

use crate::domain::catalogue::ErrorCode;
use chrono::{Datelike, NaiveDate};
use std::fmt;

/// Weights of ISO 7064 MOD 11-2 for the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder 0..=10.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Longer inputs cannot be an ID number or an Excel rendering of one; the buffer only needs to
/// hold enough to tell an Excel number (`1.10105194912310E+17`, 20 chars) from a length error.
const BUF: usize = 32;

/// A valid citizen ID number. Holding one means every rule of GB 11643 that can be checked
/// from the number alone has passed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    given: [u8; 18],
    given_len: u8,
    id18: [u8; 18],
    birth: NaiveDate,
    male: bool,
}

/// Why a string is not a valid ID number. `code()` is the reason code of the reject report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    /// Neither 15 nor 18 characters.
    Length { len: usize },
    /// A non-digit where a digit belongs (only the 18th character may be `X`).
    Chars,
    /// The 18th character disagrees with the first 17.
    Checksum { expected: char, found: char },
    /// The embedded birth date is not a calendar date or lies in the future.
    BirthDate,
    /// The first two digits are not a province-level code.
    Region,
    /// Excel turned the number into a floating-point value; trailing digits are gone.
    ExcelNumber,
}

impl IdError {
    pub fn code(&self) -> ErrorCode {
        match self {
            IdError::Length { .. } => ErrorCode::IdLength,
            IdError::Chars => ErrorCode::IdChars,
            IdError::Checksum { .. } => ErrorCode::IdChecksum,
            IdError::BirthDate => ErrorCode::IdBirthdate,
            IdError::Region => ErrorCode::IdRegion,
            IdError::ExcelNumber => ErrorCode::IdExcelNumber,
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            IdError::Length { len } => {
                format!("证件号码：长度应为 18 位（旧证 15 位），实为 {len} 位")
            }
            IdError::Chars => "证件号码：只能是数字，仅 18 位号码的最后一位可以是 X".to_string(),
            IdError::Checksum { expected, found } => {
                format!("证件号码：校验位应为 {expected}，实为 {found}")
            }
            IdError::BirthDate => {
                "证件号码：其中的出生日期（18 位号码第 7–14 位，15 位号码第 7–12 位）不是有效日期或晚于今天"
                    .to_string()
            }
            IdError::Region => "证件号码：前两位不是有效的省级行政区划代码".to_string(),
            IdError::ExcelNumber => {
                "证件号码：已被 Excel 转成数字（科学计数法），后几位已丢失；请将该列设置为“文本”格式后按原始证件重新录入"
                    .to_string()
            }
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            IdError::Length { len } => format!(
                "ID number: should be 18 characters (15 on first-generation cards), found {len}"
            ),
            IdError::Chars => {
                "ID number: digits only; only the last character of an 18-character number may be X"
                    .to_string()
            }
            IdError::Checksum { expected, found } => {
                format!("ID number: check character should be {expected}, found {found}")
            }
            IdError::BirthDate => {
                "ID number: the birth date inside it (characters 7-14, or 7-12 on 15-character numbers) is not a valid date or lies in the future"
                    .to_string()
            }
            IdError::Region => {
                "ID number: the first two digits are not a province-level region code".to_string()
            }
            IdError::ExcelNumber => {
                "ID number: Excel turned it into a number (scientific notation) and its last digits are lost; format the column as text and re-enter the numbers from the documents"
                    .to_string()
            }
        }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_en())
    }
}

impl std::error::Error for IdError {}

/// ISO 7064 MOD 11-2 check character of the first 17 digits; `None` unless exactly 17 ASCII digits.
pub fn check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(check_char_of(bytes))
}

/// Caller guarantees 17 ASCII digits.
fn check_char_of(digits: &[u8]) -> char {
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

/// First two digits of a GB/T 2260 province-level unit, plus 83 (Taiwan residents' residence
/// permits, GB 11643 numbers issued since 2018).
pub fn is_province_code(two: &[u8]) -> bool {
    if two.len() < 2 || !two[0].is_ascii_digit() || !two[1].is_ascii_digit() {
        return false;
    }
    let n = (two[0] - b'0') * 10 + (two[1] - b'0');
    matches!(
        n,
        11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82 | 83
    )
}

impl IdNumber {
    /// Parses against today's local date (a birth date may not lie in the future).
    pub fn parse(raw: &str) -> Result<IdNumber, IdError> {
        IdNumber::parse_on(raw, chrono::Local::now().date_naive())
    }

    /// As [`IdNumber::parse`], with the reference date given: ingest passes its own "today" so
    /// that one batch is judged against one date, and tests are reproducible.
    pub fn parse_on(raw: &str, today: NaiveDate) -> Result<IdNumber, IdError> {
        let mut buf = [0u8; BUF];
        let mut len = 0usize;
        let mut ascii = true;
        for c in unwrap_excel_text(raw).chars() {
            let c = crate::domain::text::half_width_char(c);
            // Clerks group the digits for readability (`110105 19491231 002X`).
            if c.is_whitespace() || c == '\u{FEFF}' {
                continue;
            }
            if len < BUF {
                if c.is_ascii() {
                    buf[len] = (c as u8).to_ascii_uppercase();
                } else {
                    ascii = false;
                }
            }
            len += 1;
        }
        let mut s = &buf[..len.min(BUF)];

        if ascii && len <= BUF {
            if let Some(int) = intact_excel_integer(s) {
                s = int;
                len = int.len();
            } else if looks_like_excel_number(s) {
                return Err(IdError::ExcelNumber);
            }
        }
        if len != 15 && len != 18 {
            return Err(IdError::Length { len });
        }
        if !ascii {
            return Err(IdError::Chars);
        }

        let mut id18 = [0u8; 18];
        if len == 18 {
            if !s[..17].iter().all(u8::is_ascii_digit) || !(s[17].is_ascii_digit() || s[17] == b'X')
            {
                return Err(IdError::Chars);
            }
            let expected = check_char_of(&s[..17]);
            let found = char::from(s[17]);
            if expected != found {
                return Err(IdError::Checksum { expected, found });
            }
            id18.copy_from_slice(s);
        } else {
            if !s.iter().all(u8::is_ascii_digit) {
                return Err(IdError::Chars);
            }
            // First-generation cards carry a two-digit year, always 19YY.
            id18[..6].copy_from_slice(&s[..6]);
            id18[6..8].copy_from_slice(b"19");
            id18[8..17].copy_from_slice(&s[6..15]);
            id18[17] = check_char_of(&id18[..17]) as u8;
        }

        let birth = date_of(&id18[6..14]).ok_or(IdError::BirthDate)?;
        if birth > today {
            return Err(IdError::BirthDate);
        }
        if !is_province_code(&id18[..2]) {
            return Err(IdError::Region);
        }

        let mut given = [0u8; 18];
        given[..len].copy_from_slice(s);
        Ok(IdNumber {
            given,
            given_len: len as u8,
            id18,
            birth,
            male: (id18[16] - b'0') % 2 == 1,
        })
    }

    /// As given, normalised: half-width, no spaces, upper-case `X`.
    pub fn given(&self) -> &str {
        ascii_str(&self.given[..usize::from(self.given_len)])
    }

    /// The 18-character form; a 15-character number is upgraded (`19` inserted, check computed).
    pub fn id18(&self) -> &str {
        ascii_str(&self.id18)
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// GB/T 2261.1 code: `1` male (odd sex digit), `2` female (even).
    pub fn sex_code(&self) -> &'static str {
        if self.male {
            "1"
        } else {
            "2"
        }
    }

    /// The six-digit administrative division of issue (it may since have been abolished).
    pub fn region_prefix(&self) -> &str {
        ascii_str(&self.id18[..6])
    }

    /// Whether the number was given in the 15-character first-generation form.
    pub fn is_15(&self) -> bool {
        self.given_len == 15
    }

    /// Age in whole years on `on` (negative if `on` precedes the birth date).
    pub fn age_on(&self, on: NaiveDate) -> i32 {
        age_on(self.birth, on)
    }
}

impl fmt::Debug for IdNumber {
    // Full ID numbers are personal data; logs and panics must not spill them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.id18();
        let head = id.get(..6).unwrap_or_default();
        let tail = id.get(14..).unwrap_or_default();
        write!(f, "IdNumber({head}********{tail})")
    }
}

/// Age in whole years on `on`; the birthday counts from its own day (29 February birthdays count
/// from 1 March in common years).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Stored bytes are ASCII by construction.
fn ascii_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Eight ASCII digits YYYYMMDD as a calendar date.
fn date_of(d: &[u8]) -> Option<NaiveDate> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        d.get(r)?.iter().try_fold(0u32, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(4..6)?, num(6..8)?)
}

/// CSV files from old systems wrap numbers as `="110105…"` or prefix `'` so that Excel keeps them
/// as text; both are packaging, not part of the number.
fn unwrap_excel_text(raw: &str) -> &str {
    let s = raw.trim();
    let s = s.strip_prefix('\'').unwrap_or(s);
    match s.strip_prefix("=\"").and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner,
        None => s,
    }
}

/// `110105491231002.0`: a number cell read back as a float, but a double holds 15 digits exactly,
/// so a first-generation number survives; only the tail is packaging.
fn intact_excel_integer(s: &[u8]) -> Option<&[u8]> {
    let dot = s.iter().position(|&b| b == b'.')?;
    let (int, frac) = (&s[..dot], &s[dot + 1..]);
    (!int.is_empty()
        && int.len() <= 15
        && int.iter().all(u8::is_ascii_digit)
        && frac.iter().all(|&b| b == b'0'))
    .then_some(int)
}

/// `1.10105E+17`, `1.1010519491231E17`, or a decimal like `110105194912310000.0`: Excel stored the
/// ID as a double, which keeps only 15 significant digits, so the rest of the number is gone.
fn looks_like_excel_number(s: &[u8]) -> bool {
    let (mantissa, exponent) = match s.iter().position(|&b| b == b'E') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = {
        let mut parts = mantissa.splitn(2, |&b| b == b'.');
        let int = parts.next().unwrap_or_default();
        let frac = parts.next();
        !int.is_empty()
            && int.iter().all(u8::is_ascii_digit)
            && frac.is_none_or(|f| f.iter().all(u8::is_ascii_digit))
            && (frac.is_some() || exponent.is_some())
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(b"+").unwrap_or(e);
            !e.is_empty() && e.iter().all(u8::is_ascii_digit)
        }
    };
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    fn today() -> NaiveDate {
        day(2026, 7, 1)
    }

    fn parse(raw: &str) -> Result<IdNumber, IdError> {
        IdNumber::parse_on(raw, today())
    }

    #[test]
    fn computes_check_char_of_the_standard_example() {
        // The worked example of GB 11643-1999.
        assert_eq!(check_char("11010519491231002"), Some('X'));
        assert_eq!(check_char("37010219990615123"), Some('9'));
        assert_eq!(check_char("1101051949123100"), None);
        assert_eq!(check_char("1101051949123100A"), None);
    }

    #[test]
    fn accepts_valid_18_digit_id() {
        let id = parse("370102199906151239").expect("valid");
        assert_eq!(id.given(), "370102199906151239");
        assert_eq!(id.id18(), "370102199906151239");
        assert_eq!(id.birth_date(), day(1999, 6, 15));
        assert_eq!(id.sex_code(), "1");
        assert_eq!(id.region_prefix(), "370102");
        assert!(!id.is_15());
    }

    #[test]
    fn even_sex_digit_is_female() {
        assert_eq!(parse("370102199906151247").expect("valid").sex_code(), "2");
    }

    #[test]
    fn accepts_lower_case_x() {
        let id = parse("11010519491231002x").expect("valid");
        assert_eq!(id.given(), "11010519491231002X");
        assert_eq!(id.sex_code(), "2");
    }

    #[test]
    fn accepts_full_width_digits_and_spaces() {
        let id = parse(" １１０１０５ １９４９１２３１ ００２Ｘ\u{3000}").expect("valid");
        assert_eq!(id.given(), "11010519491231002X");
    }

    #[test]
    fn accepts_excel_text_wrappers() {
        assert!(parse("'370102199906151239").is_ok());
        assert!(parse("=\"370102199906151239\"").is_ok());
    }

    #[test]
    fn upgrades_15_digit_id() {
        let id = parse("110105491231002").expect("valid");
        assert_eq!(id.given(), "110105491231002");
        assert_eq!(id.id18(), "11010519491231002X");
        assert_eq!(id.birth_date(), day(1949, 12, 31));
        assert_eq!(id.sex_code(), "2");
        assert!(id.is_15());
    }

    #[test]
    fn rejects_id_with_wrong_check_digit() {
        assert_eq!(
            parse("110105194912310023"),
            Err(IdError::Checksum {
                expected: 'X',
                found: '3'
            })
        );
        let err = parse("110105194912310023").expect_err("bad checksum");
        assert_eq!(err.code(), "ID_CHECKSUM");
        assert_eq!(err.message_zh(), "证件号码：校验位应为 X，实为 3");
        assert_eq!(
            err.message_en(),
            "ID number: check character should be X, found 3"
        );
    }

    #[test]
    fn rejects_wrong_length() {
        assert_eq!(parse("37010219990615123"), Err(IdError::Length { len: 17 }));
        assert_eq!(parse(""), Err(IdError::Length { len: 0 }));
        let long = "1".repeat(100);
        assert_eq!(parse(&long), Err(IdError::Length { len: 100 }));
        assert_eq!(IdError::Length { len: 17 }.code(), "ID_LENGTH");
    }

    #[test]
    fn rejects_letters_inside() {
        assert_eq!(parse("3701021999061512X9"), Err(IdError::Chars));
        assert_eq!(parse("11010549123100X"), Err(IdError::Chars));
        assert_eq!(parse("37010219990615123张"), Err(IdError::Chars));
    }

    #[test]
    fn rejects_excel_scientific_notation() {
        for raw in [
            "1.10105E+17",
            "1.1010519491231E+17",
            "1.10105e17",
            "110105194912310000.0",
        ] {
            let err = parse(raw).expect_err(raw);
            assert_eq!(err, IdError::ExcelNumber, "{raw}");
            assert_eq!(err.code(), "ID_EXCEL_NUMBER");
            assert!(err.message_zh().contains("文本"));
        }
    }

    #[test]
    fn accepts_15_digit_number_read_back_as_float() {
        let id = parse("110105491231002.0").expect("15 digits survive a double");
        assert_eq!(id.given(), "110105491231002");
    }

    #[test]
    fn rejects_impossible_birth_date() {
        // 1999-02-30, check char computed so that only the date is wrong.
        let first17 = "37010219990230123";
        let id = format!("{first17}{}", check_char(first17).expect("digits"));
        assert_eq!(parse(&id), Err(IdError::BirthDate));
    }

    #[test]
    fn rejects_birth_date_in_the_future() {
        let first17 = "37010220300101123";
        let id = format!("{first17}{}", check_char(first17).expect("digits"));
        assert_eq!(parse(&id), Err(IdError::BirthDate));
        assert!(IdNumber::parse_on(&id, day(2030, 1, 1)).is_ok());
    }

    #[test]
    fn accepts_29_february_in_leap_year() {
        let id = parse("440306200002290017").expect("valid");
        assert_eq!(id.birth_date(), day(2000, 2, 29));
    }

    #[test]
    fn rejects_unknown_province() {
        let first17 = "99010219990615123";
        let id = format!("{first17}{}", check_char(first17).expect("digits"));
        assert_eq!(parse(&id), Err(IdError::Region));
        assert_eq!(IdError::Region.code(), "ID_REGION");
    }

    #[test]
    fn accepts_abolished_county_and_hong_kong_permit() {
        // 371202 was 莱芜市莱城区 until 2019; old cards keep it forever.
        assert!(parse("371202199803032110").is_ok());
        assert!(parse("810000199808080018").is_ok());
    }

    #[test]
    fn age_counts_whole_years() {
        let birth = day(2002, 7, 2);
        assert_eq!(age_on(birth, day(2026, 7, 1)), 23);
        assert_eq!(age_on(birth, day(2026, 7, 2)), 24);
        assert_eq!(age_on(day(2000, 2, 29), day(2021, 2, 28)), 20);
        assert_eq!(age_on(day(2000, 2, 29), day(2021, 3, 1)), 21);
    }

    #[test]
    fn debug_masks_the_number() {
        let id = parse("370102199906151239").expect("valid");
        assert_eq!(format!("{id:?}"), "IdNumber(370102********1239)");
    }

    const PROVINCES: [u32; 34] = [
        11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
        52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
    ];

    proptest! {
        #[test]
        fn parse_never_panics(raw in ".{0,40}") {
            let _ = parse(&raw);
        }

        #[test]
        fn parse_never_panics_on_id_like_input(raw in "[0-9xX. E+\u{FF10}-\u{FF19}]{0,25}") {
            let _ = parse(&raw);
        }

        #[test]
        fn generated_valid_ids_round_trip(
            p in prop::sample::select(PROVINCES.to_vec()),
            rest in 0u32..10_000,
            days in 0i64..(365 * 80),
            seq in 0u32..1000,
        ) {
            let birth = day(1946, 1, 1) + chrono::Days::new(days as u64);
            let first17 = format!("{p:02}{rest:04}{}{seq:03}", birth.format("%Y%m%d"));
            let id = format!("{first17}{}", check_char(&first17).expect("17 digits"));
            let parsed = parse(&id).expect("generated id is valid");
            prop_assert_eq!(parsed.id18(), id.as_str());
            prop_assert_eq!(parsed.birth_date(), birth);
            prop_assert_eq!(parsed.sex_code(), if seq % 2 == 1 { "1" } else { "2" });
            prop_assert_eq!(parsed.region_prefix(), &id[..6]);
            // The same number typed with a lower-case x and spaces is the same person.
            let typed = format!(" {} ", id.to_lowercase());
            prop_assert_eq!(parse(&typed).expect("still valid"), parsed);
        }

        #[test]
        fn generated_15_digit_ids_upgrade(
            p in prop::sample::select(PROVINCES.to_vec()),
            rest in 0u32..10_000,
            days in 0i64..(365 * 99),
            seq in 0u32..1000,
        ) {
            let birth = day(1900, 1, 1) + chrono::Days::new(days as u64);
            let old = format!("{p:02}{rest:04}{}{seq:03}", birth.format("%y%m%d"));
            let parsed = parse(&old).expect("generated 15-digit id is valid");
            prop_assert_eq!(parsed.given(), old.as_str());
            prop_assert_eq!(parsed.birth_date(), birth);
            let id18 = parsed.id18();
            prop_assert_eq!(check_char(&id18[..17]), id18.chars().last());
        }
    }
}
