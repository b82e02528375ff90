//! Unemployment registration (失业登记): the 失业人员登记表 and its rules, the review reasons that
//! may not be given, the review deadlines, and the 黑龙江 "四级三类" classification with the
//! services still owed.
//!
//! Pure rules like the rest of `domain`: no storage, no web. The sources are LD/T 6009-2024 §5,
//! 人社厅发〔2020〕79号, 甘人社通〔2020〕111号 and 黑人社函〔2020〕87号 with its annex 1 (the form);
//! `/work/shared/spec/unemployment-registration.md` is the project's reading of them.
//!
//! - `form.rs` — the application as sent ([`ApplicationInput`]), [`validate`] and the normalised
//!   [`Application`]; [`normalize_id_number`] for looking an application up by the number as
//!   typed; the statutory retirement age that ends the working age.
//! - `review.rs` — [`forbidden_refusal`] and the review deadlines ([`review_limits_for`]).
//! - `classify.rs` — [`Level`], [`SkillType`], [`ServiceKind`] and [`owed`].

mod classify;
mod form;
mod review;

pub use classify::{level_on, owed, Level, Owed, ServiceKind, SkillType};
pub use form::{
    normalize_id_number, statutory_retirement_date, validate, Address, AddressInput, Application,
    ApplicationInput, FieldProblem, PlaceKind,
};
pub use review::{
    forbidden_refusal, review_limits_for, ForbiddenReason, ReviewLimits, CONTACT_WORKING_DAYS,
};

use std::sync::LazyLock;

/// The code tables of the form that the transfer file does not have (`fixtures/codes/unemployment/`,
/// sources in `fixtures/codes/README.md`). The tables it shares with the transfer file (sex,
/// ethnicity, political status, ID type) are `crate::domain::codes::CodeTable`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormTable {
    /// 失业原因, numbered in the form's order.
    UnemploymentReason,
    /// 学历, GB/T 4658-2006 top-level categories.
    Education,
    /// 健康状况, GB/T 2261.3-2003.
    Health,
}

/// One row of a table: the stored code, the canonical name, and every accepted spelling
/// normalised by [`lookup_key`].
struct Row {
    code: &'static str,
    name: &'static str,
    keys: Vec<String>,
}

const REASON_CSV: &str =
    include_str!("../../../fixtures/codes/unemployment/unemployment_reason.csv");
const EDUCATION_CSV: &str = include_str!("../../../fixtures/codes/unemployment/education.csv");
const HEALTH_CSV: &str = include_str!("../../../fixtures/codes/unemployment/health.csv");

// The CSVs are compiled in and checked by `every_form_table_loads`; a malformed line is a build
// defect, never a property of user input, so it is skipped here rather than answered.
static REASONS: LazyLock<Vec<Row>> = LazyLock::new(|| load(REASON_CSV));
static EDUCATION: LazyLock<Vec<Row>> = LazyLock::new(|| load(EDUCATION_CSV));
static HEALTH: LazyLock<Vec<Row>> = LazyLock::new(|| load(HEALTH_CSV));

impl FormTable {
    /// The canonical code for a code (`1`, `01`) or an accepted name; `None` if not in the table.
    pub fn lookup(self, raw: &str) -> Option<&'static str> {
        let key = lookup_key(raw);
        if key.is_empty() {
            return None;
        }
        let rows = self.rows();
        // Codes first, so that a number is never read as somebody's synonym.
        let unpadded = key.trim_start_matches('0');
        rows.iter()
            .find(|r| r.code == key || (!unpadded.is_empty() && r.code == unpadded))
            .or_else(|| rows.iter().find(|r| r.keys.contains(&key)))
            .map(|r| r.code)
    }

    /// The canonical Chinese name of a canonical code.
    pub fn name_of(self, code: &str) -> Option<&'static str> {
        self.rows().iter().find(|r| r.code == code).map(|r| r.name)
    }

    /// Every (code, name) in file order: for pick lists and messages.
    pub fn entries(self) -> Vec<(&'static str, &'static str)> {
        self.rows().iter().map(|r| (r.code, r.name)).collect()
    }

    fn rows(self) -> &'static [Row] {
        match self {
            FormTable::UnemploymentReason => &REASONS,
            FormTable::Education => &EDUCATION,
            FormTable::Health => &HEALTH,
        }
    }
}

fn load(csv: &'static str) -> Vec<Row> {
    csv.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',').map(str::trim);
            let code = fields.next().filter(|c| !c.is_empty())?;
            let name = fields.next().filter(|n| !n.is_empty())?;
            let synonyms = fields.next().unwrap_or("");
            let keys = std::iter::once(name)
                .chain(synonyms.split('|'))
                .map(lookup_key)
                .filter(|k| !k.is_empty())
                .collect();
            Some(Row { code, name, keys })
        })
        .collect()
}

/// Half-width, no whitespace, Excel's `1.0` read as `1`: how a form's value is compared with a
/// table's spellings (full-width commas in the printed reasons match half-width ones typed).
fn lookup_key(raw: &str) -> String {
    let key: String = raw
        .chars()
        .map(crate::domain::text::half_width_char)
        .filter(|c| !c.is_whitespace() && *c != '\u{FEFF}')
        .collect();
    match key.strip_suffix(".0") {
        Some(int) if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) => int.to_string(),
        _ => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_table_loads() {
        for (csv, rows) in [(REASON_CSV, 13), (EDUCATION_CSV, 8), (HEALTH_CSV, 4)] {
            let data_lines = csv.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
            assert_eq!(data_lines, rows);
            let loaded = load(csv);
            assert_eq!(loaded.len(), rows, "a line failed to load");
            for (i, a) in loaded.iter().enumerate() {
                assert!(
                    loaded[i + 1..].iter().all(|b| b.code != a.code),
                    "{}",
                    a.code
                );
                // No spelling may name two rows: a lookup would silently pick the first.
                for b in &loaded[i + 1..] {
                    for k in &a.keys {
                        assert!(!b.keys.contains(k), "{k} names {} and {}", a.code, b.code);
                    }
                }
            }
        }
    }

    #[test]
    fn reasons_are_the_twelve_printed_ones_and_other() {
        let reasons = FormTable::UnemploymentReason.entries();
        assert_eq!(reasons.len(), 13);
        assert_eq!(reasons[0], ("1", "年满16周岁，从各类学校毕业、肄业"));
        assert_eq!(reasons[11], ("12", "刑满释放、假释、监外执行"));
        assert_eq!(reasons[12], ("13", "其他"));
        let r = FormTable::UnemploymentReason;
        assert_eq!(r.lookup("年满16周岁,从各类学校毕业、肄业"), Some("1"));
        assert_eq!(r.lookup("辞职"), Some("5"));
        assert_eq!(r.lookup("05"), Some("5"));
        assert_eq!(r.lookup("14"), None);
    }

    #[test]
    fn education_and_health_accept_codes_and_common_words() {
        let e = FormTable::Education;
        assert_eq!(e.lookup("本科"), Some("20"));
        assert_eq!(e.lookup("大专"), Some("30"));
        assert_eq!(e.lookup("中专"), Some("40"));
        assert_eq!(e.lookup("高中"), Some("60"));
        assert_eq!(e.lookup("初中"), Some("70"));
        assert_eq!(e.lookup("60"), Some("60"));
        assert_eq!(e.lookup("50"), None);
        assert_eq!(e.name_of("10"), Some("研究生教育"));
        let h = FormTable::Health;
        assert_eq!(h.lookup("健康"), Some("1"));
        assert_eq!(h.lookup("残疾"), Some("6"));
        assert_eq!(h.lookup("６"), Some("6"));
        assert_eq!(h.lookup("4"), None);
    }
}
