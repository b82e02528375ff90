//! The national code tables of the transfer file (sex, ethnicity, political status, education
//! level, ID type, employment intention, hardship), loaded once from the CSVs embedded from
//! `fixtures/codes/` (see its README for the source of each table).
//!
//! A lookup accepts a code or any accepted name and answers the canonical code. It runs for every
//! row of every file, so it does not allocate unless the value needs normalising.

use rustc_hash::FxHashMap;
use std::sync::LazyLock;

/// One of the coded columns of the transfer file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeTable {
    Sex,
    Ethnicity,
    PoliticalStatus,
    EducationLevel,
    IdType,
    Intention,
}

/// A loaded table: every accepted spelling → canonical code, and the codes in file order.
struct Table {
    by_key: FxHashMap<Box<str>, &'static str>,
    entries: Vec<(&'static str, &'static str)>,
}

/// What a fixture file can get wrong; a test loads every table so that a bad edit fails the build.
#[derive(Debug)]
struct LoadError {
    file: &'static str,
    line: usize,
    reason: String,
}

impl CodeTable {
    pub const ALL: [CodeTable; 6] = [
        CodeTable::Sex,
        CodeTable::Ethnicity,
        CodeTable::PoliticalStatus,
        CodeTable::EducationLevel,
        CodeTable::IdType,
        CodeTable::Intention,
    ];

    /// The canonical code for a code (`1`, `01`) or an accepted name (`男`, `汉族`, `汉`, `本科`);
    /// `None` if the value is not in the table.
    pub fn lookup(self, raw: &str) -> Option<&'static str> {
        let table = self.table();
        if let Some(code) = table.by_key.get(raw) {
            return Some(code);
        }
        let key = normalise_key(raw)?;
        table.by_key.get(key.as_str()).copied()
    }

    /// The canonical Chinese name of a canonical code.
    pub fn name_of(self, code: &str) -> Option<&'static str> {
        self.table()
            .entries
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, name)| *name)
    }

    /// The transfer-file column this table codes.
    pub fn header_zh(self) -> &'static str {
        match self {
            CodeTable::Sex => "性别",
            CodeTable::Ethnicity => "民族",
            CodeTable::PoliticalStatus => "政治面貌",
            CodeTable::EducationLevel => "学历",
            CodeTable::IdType => "证件类型",
            CodeTable::Intention => "就业意愿",
        }
    }

    /// Every (code, canonical name) of the table, in the order of the standard; for pick lists
    /// and documentation.
    pub fn entries(self) -> &'static [(&'static str, &'static str)] {
        &self.table().entries
    }

    fn table(self) -> &'static Table {
        match self {
            CodeTable::Sex => &SEX,
            CodeTable::Ethnicity => &ETHNICITY,
            CodeTable::PoliticalStatus => &POLITICAL_STATUS,
            CodeTable::EducationLevel => &EDUCATION_LEVEL,
            CodeTable::IdType => &ID_TYPE,
            CodeTable::Intention => &INTENTION,
        }
    }
}

/// The canonical hardship category (低保家庭, 零就业家庭, 残疾, 脱贫家庭, 特困人员) for one item.
pub fn hardship_lookup(raw: &str) -> Option<&'static str> {
    if let Some(name) = HARDSHIP.by_key.get(raw) {
        return Some(name);
    }
    let key = normalise_key(raw)?;
    HARDSHIP.by_key.get(key.as_str()).copied()
}

/// The canonical hardship categories in the order of the spec.
pub fn hardship_names() -> impl Iterator<Item = &'static str> {
    HARDSHIP.entries.iter().map(|(name, _)| *name)
}

const SEX_CSV: &str = include_str!("../../fixtures/codes/sex.csv");
const ETHNICITY_CSV: &str = include_str!("../../fixtures/codes/ethnicity.csv");
const POLITICAL_STATUS_CSV: &str = include_str!("../../fixtures/codes/political_status.csv");
const EDUCATION_LEVEL_CSV: &str = include_str!("../../fixtures/codes/education_level.csv");
const ID_TYPE_CSV: &str = include_str!("../../fixtures/codes/id_type.csv");
const INTENTION_CSV: &str = include_str!("../../fixtures/codes/intention.csv");
const HARDSHIP_CSV: &str = include_str!("../../fixtures/codes/hardship.csv");

// The CSVs are compiled in and checked by `every_table_loads`; a failure here is a build defect,
// never a property of user input.
static SEX: LazyLock<Table> = LazyLock::new(|| load("sex.csv", SEX_CSV, Shape::Coded));
static ETHNICITY: LazyLock<Table> =
    LazyLock::new(|| load("ethnicity.csv", ETHNICITY_CSV, Shape::Coded));
static POLITICAL_STATUS: LazyLock<Table> =
    LazyLock::new(|| load("political_status.csv", POLITICAL_STATUS_CSV, Shape::Coded));
static EDUCATION_LEVEL: LazyLock<Table> =
    LazyLock::new(|| load("education_level.csv", EDUCATION_LEVEL_CSV, Shape::Coded));
static ID_TYPE: LazyLock<Table> = LazyLock::new(|| load("id_type.csv", ID_TYPE_CSV, Shape::Coded));
static INTENTION: LazyLock<Table> =
    LazyLock::new(|| load("intention.csv", INTENTION_CSV, Shape::Coded));
static HARDSHIP: LazyLock<Table> =
    LazyLock::new(|| load("hardship.csv", HARDSHIP_CSV, Shape::NamesOnly));

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `code,name,synonyms`
    Coded,
    /// `name,synonyms`: the name is the stored value.
    NamesOnly,
}

fn load(file: &'static str, csv: &'static str, shape: Shape) -> Table {
    match try_load(file, csv, shape) {
        Ok(table) => table,
        Err(e) => panic!(
            "embedded code table fixtures/codes/{} line {}: {}",
            e.file, e.line, e.reason
        ),
    }
}

fn try_load(file: &'static str, csv: &'static str, shape: Shape) -> Result<Table, LoadError> {
    let err = |line: usize, reason: String| LoadError { file, line, reason };
    let mut entries = Vec::new();
    // Spelling → code; `None` marks a spelling claimed by two codes, which is then not accepted.
    let mut keys: FxHashMap<Box<str>, Option<&'static str>> = FxHashMap::default();

    for (i, line) in csv.lines().enumerate().skip(1) {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&'static str> = line.split(',').map(str::trim).collect();
        let (code, name, synonyms) = match (shape, fields.as_slice()) {
            (Shape::Coded, [code, name, synonyms]) => (*code, *name, *synonyms),
            (Shape::Coded, [code, name]) => (*code, *name, ""),
            (Shape::NamesOnly, [name, synonyms]) => (*name, *name, *synonyms),
            (Shape::NamesOnly, [name]) => (*name, *name, ""),
            _ => return Err(err(line_no, format!("unexpected number of fields: {line}"))),
        };
        if code.is_empty() || name.is_empty() {
            return Err(err(line_no, "empty code or name".to_string()));
        }
        if entries.iter().any(|(c, _)| *c == code) {
            return Err(err(line_no, format!("code {code} listed twice")));
        }
        entries.push((code, name));
        for spelling in [code, name].into_iter().chain(synonyms.split('|')) {
            claim(&mut keys, spelling, code);
            // Lookups normalise input to half-width, so full-width spellings need a twin.
            claim(
                &mut keys,
                &crate::domain::text::to_half_width(spelling),
                code,
            );
        }
        // 汉 for 汉族: the short form is how most forms and people write it.
        if file == "ethnicity.csv" {
            if let Some(short) = name.strip_suffix('族') {
                claim(&mut keys, short, code);
            }
        }
    }
    if entries.is_empty() {
        return Err(err(1, "no rows".to_string()));
    }

    // Codes given without their leading zero (Excel drops it from number cells), or padded to two
    // digits when the table's codes have one, only where no other code is spelled that way.
    for (code, _) in &entries {
        let variant = match code.strip_prefix('0') {
            Some(short) if !short.is_empty() => short.to_string(),
            _ if code.len() == 1 => format!("0{code}"),
            _ => continue,
        };
        if !keys.contains_key(variant.as_str()) {
            keys.insert(variant.into_boxed_str(), Some(code));
        }
    }

    let by_key = keys
        .into_iter()
        .filter_map(|(k, c)| Some((k, c?)))
        .collect();
    Ok(Table { by_key, entries })
}

fn claim(keys: &mut FxHashMap<Box<str>, Option<&'static str>>, key: &str, code: &'static str) {
    let key = key.trim();
    if key.is_empty() {
        return;
    }
    keys.entry(Box::from(key))
        .and_modify(|c| {
            if *c != Some(code) {
                *c = None;
            }
        })
        .or_insert(Some(code));
}

/// The slow path of a lookup: half-width, no spaces inside, Excel's `1.0` read as `1`. `None`
/// when normalising changes nothing, so a miss costs one allocation at most.
fn normalise_key(raw: &str) -> Option<String> {
    let mut key: String = raw
        .chars()
        .map(crate::domain::text::half_width_char)
        .filter(|c| !c.is_whitespace() && *c != '\u{FEFF}')
        .collect();
    if let Some(int) = key.strip_suffix(".0") {
        if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) {
            key.truncate(int.len());
        }
    }
    (key != raw).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_table_loads() {
        for (file, csv, shape) in [
            ("sex.csv", SEX_CSV, Shape::Coded),
            ("ethnicity.csv", ETHNICITY_CSV, Shape::Coded),
            ("political_status.csv", POLITICAL_STATUS_CSV, Shape::Coded),
            ("education_level.csv", EDUCATION_LEVEL_CSV, Shape::Coded),
            ("id_type.csv", ID_TYPE_CSV, Shape::Coded),
            ("intention.csv", INTENTION_CSV, Shape::Coded),
            ("hardship.csv", HARDSHIP_CSV, Shape::NamesOnly),
        ] {
            let table = try_load(file, csv, shape).expect(file);
            // Every code and canonical name must be accepted as itself, never lost to a clash.
            for (code, name) in &table.entries {
                assert_eq!(table.by_key.get(*code), Some(code), "{file} {code}");
                assert_eq!(table.by_key.get(*name), Some(code), "{file} {name}");
            }
        }
    }

    #[test]
    fn load_reports_the_bad_line() {
        let e = try_load("t.csv", "code,name,synonyms\n1,男,\n1,女,\n", Shape::Coded)
            .err()
            .expect("duplicate code");
        assert_eq!(e.line, 3);
        let e = try_load("t.csv", "code,name,synonyms\n1,男,a,b\n", Shape::Coded)
            .err()
            .expect("too many fields");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn spelling_claimed_by_two_codes_is_not_accepted() {
        let t = try_load(
            "t.csv",
            "code,name,synonyms\n1,甲,同\n2,乙,同\n",
            Shape::Coded,
        )
        .expect("loads");
        assert_eq!(t.by_key.get("同"), None);
        assert_eq!(t.by_key.get("甲"), Some(&"1"));
    }

    #[test]
    fn sex_accepts_codes_and_words_only_1_and_2() {
        assert_eq!(CodeTable::Sex.lookup("1"), Some("1"));
        assert_eq!(CodeTable::Sex.lookup("男"), Some("1"));
        assert_eq!(CodeTable::Sex.lookup("女"), Some("2"));
        assert_eq!(CodeTable::Sex.lookup("女性"), Some("2"));
        assert_eq!(CodeTable::Sex.lookup("１"), Some("1"));
        assert_eq!(CodeTable::Sex.lookup("1.0"), Some("1"));
        assert_eq!(CodeTable::Sex.lookup("02"), Some("2"));
        assert_eq!(CodeTable::Sex.lookup("0"), None);
        assert_eq!(CodeTable::Sex.lookup("9"), None);
        assert_eq!(CodeTable::Sex.name_of("2"), Some("女"));
    }

    #[test]
    fn ethnicity_has_all_56_in_standard_order() {
        let entries = CodeTable::Ethnicity.entries();
        assert_eq!(entries.len(), 58);
        assert_eq!(entries[0], ("01", "汉族"));
        assert_eq!(entries[9], ("10", "朝鲜族"));
        assert_eq!(entries[55], ("56", "基诺族"));
        for (i, (code, _)) in entries.iter().take(56).enumerate() {
            assert_eq!(*code, format!("{:02}", i + 1));
        }
        assert_eq!(
            CodeTable::Ethnicity.name_of("98"),
            Some("外国血统中国籍人士")
        );
    }

    #[test]
    fn ethnicity_accepts_name_short_name_and_unpadded_code() {
        let e = CodeTable::Ethnicity;
        assert_eq!(e.lookup("汉族"), Some("01"));
        assert_eq!(e.lookup("汉"), Some("01"));
        assert_eq!(e.lookup("01"), Some("01"));
        assert_eq!(e.lookup("1"), Some("01"));
        assert_eq!(e.lookup("维吾尔"), Some("05"));
        assert_eq!(e.lookup("土家族"), Some("15"));
        assert_eq!(e.lookup("土族"), Some("30"));
        assert_eq!(e.lookup("土"), Some("30"));
        assert_eq!(e.lookup("崩龙族"), Some("46"));
        assert_eq!(e.lookup("97"), Some("97"));
        assert_eq!(e.lookup("57"), None);
        assert_eq!(e.lookup("火星族"), None);
    }

    #[test]
    fn education_level_accepts_short_words_but_not_ambiguous_ones() {
        let e = CodeTable::EducationLevel;
        assert_eq!(e.lookup("本科"), Some("21"));
        assert_eq!(e.lookup("大学本科"), Some("21"));
        assert_eq!(e.lookup("硕士"), Some("14"));
        assert_eq!(e.lookup("博士"), Some("11"));
        assert_eq!(e.lookup("大专"), Some("31"));
        assert_eq!(e.lookup("高职（专科）"), Some("31"));
        assert_eq!(e.lookup("31"), Some("31"));
        assert_eq!(e.lookup("研究生"), None);
        assert_eq!(e.lookup("1"), None);
        assert_eq!(e.name_of("14"), Some("硕士研究生"));
    }

    #[test]
    fn political_status_accepts_common_short_forms() {
        let p = CodeTable::PoliticalStatus;
        assert_eq!(p.lookup("中共党员"), Some("01"));
        assert_eq!(p.lookup("预备党员"), Some("02"));
        assert_eq!(p.lookup("共青团员"), Some("03"));
        assert_eq!(p.lookup("团员"), Some("03"));
        assert_eq!(p.lookup("群众"), Some("13"));
        assert_eq!(p.lookup("13"), Some("13"));
        assert_eq!(p.lookup("3"), Some("03"));
        assert_eq!(p.name_of("01"), Some("中国共产党党员"));
    }

    #[test]
    fn id_type_defaults_and_ambiguous_names() {
        let t = CodeTable::IdType;
        assert_eq!(t.lookup("01"), Some("01"));
        assert_eq!(t.lookup("1"), Some("01"));
        assert_eq!(t.lookup("身份证"), Some("01"));
        assert_eq!(t.lookup("居民身份证（户口簿）"), Some("01"));
        assert_eq!(t.lookup("回国（来华）定居专家证"), Some("15"));
        assert_eq!(t.lookup("回国(来华)定居专家证"), Some("15"));
        assert_eq!(t.lookup("99"), Some("99"));
        assert_eq!(t.lookup("护照"), None);
        assert_eq!(t.lookup("港澳居民来往内地通行证"), None);
    }

    #[test]
    fn intention_accepts_codes_and_words() {
        let t = CodeTable::Intention;
        assert_eq!(t.lookup("1"), Some("1"));
        assert_eq!(t.lookup("有就业意愿"), Some("1"));
        assert_eq!(t.lookup("暂不就业·拟升学"), Some("2"));
        assert_eq!(t.lookup("拟升学"), Some("2"));
        assert_eq!(t.lookup("暂不就业（其他）"), Some("3"));
        assert_eq!(t.lookup("4"), None);
        assert_eq!(t.lookup("暂不就业"), None);
    }

    #[test]
    fn hardship_maps_synonyms_to_canonical_names() {
        assert_eq!(hardship_lookup("低保家庭"), Some("低保家庭"));
        assert_eq!(hardship_lookup("低保"), Some("低保家庭"));
        assert_eq!(hardship_lookup("残疾人"), Some("残疾"));
        assert_eq!(hardship_lookup("建档立卡"), Some("脱贫家庭"));
        assert_eq!(hardship_lookup("脱贫户"), Some("脱贫家庭"));
        assert_eq!(hardship_lookup(" 特困 "), Some("特困人员"));
        assert_eq!(hardship_lookup("富裕家庭"), None);
        assert_eq!(
            hardship_names().collect::<Vec<_>>(),
            ["低保家庭", "零就业家庭", "残疾", "脱贫家庭", "特困人员"]
        );
    }

    #[test]
    fn header_names_match_the_spec() {
        assert_eq!(CodeTable::EducationLevel.header_zh(), "学历");
        assert_eq!(CodeTable::IdType.header_zh(), "证件类型");
    }

    proptest! {
        #[test]
        fn lookup_never_panics(raw in "\\PC{0,30}") {
            for t in CodeTable::ALL {
                if let Some(code) = t.lookup(&raw) {
                    prop_assert!(t.name_of(code).is_some());
                }
            }
            let _ = hardship_lookup(&raw);
        }
    }
}
