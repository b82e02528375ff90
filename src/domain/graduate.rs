//! One row of the education department's transfer file: its columns, the raw row as read, and
//! `validate`, which turns it into a [`GraduateRecord`] or the list of its problems.
//!
//! The rules are those of the spec's column table. Reading files, mapping headers of a real file
//! and storing records are `ingest`'s business; this module only judges one row at a time.

use crate::domain::catalogue::ErrorCode;
use crate::domain::codes::{hardship_lookup, hardship_names, CodeTable};
use crate::domain::dates::parse_date;
use crate::domain::id_number::{age_on, is_province_code, IdNumber};
use crate::domain::text::{clean, half_width_char};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use std::borrow::Cow;

/// Reason codes of the reject report, one per rule: names for their lines of the catalogue
/// ([`ErrorCode`]). `ID_*` codes come from [`crate::domain::id_number::IdError::code`].
pub mod reason {
    use crate::domain::catalogue::ErrorCode;

    pub const REQUIRED: ErrorCode = ErrorCode::Required;
    pub const TOO_LONG: ErrorCode = ErrorCode::TooLong;
    pub const NAME_SPACE: ErrorCode = ErrorCode::NameSpace;
    pub const CODE_UNKNOWN: ErrorCode = ErrorCode::CodeUnknown;
    pub const SEX_MISMATCH: ErrorCode = ErrorCode::SexMismatch;
    pub const ID_LENGTH: ErrorCode = ErrorCode::IdLength;
    pub const ID_CHARS: ErrorCode = ErrorCode::IdChars;
    pub const ID_BIRTHDATE: ErrorCode = ErrorCode::IdBirthdate;
    pub const DATE_INVALID: ErrorCode = ErrorCode::DateInvalid;
    pub const BIRTH_MISMATCH: ErrorCode = ErrorCode::BirthMismatch;
    pub const SCHOOL_CODE_FORMAT: ErrorCode = ErrorCode::SchoolCodeFormat;
    pub const MAJOR_CODE_FORMAT: ErrorCode = ErrorCode::MajorCodeFormat;
    pub const DATE_FUTURE: ErrorCode = ErrorCode::DateFuture;
    pub const HUKOU_CODE_FORMAT: ErrorCode = ErrorCode::HukouCodeFormat;
    pub const HUKOU_MISSING: ErrorCode = ErrorCode::HukouMissing;
    pub const PHONE_FORMAT: ErrorCode = ErrorCode::PhoneFormat;
    pub const EMAIL_FORMAT: ErrorCode = ErrorCode::EmailFormat;
    pub const HARDSHIP_UNKNOWN: ErrorCode = ErrorCode::HardshipUnknown;
    pub const DUPLICATE_IN_FILE: ErrorCode = ErrorCode::DuplicateInFile;
}

/// Longest cell read at all; anything longer is garbage (a pasted document, a broken file).
pub const MAX_CELL_CHARS: usize = 1000;
/// Longest value copied into a problem; the report must stay readable.
const MAX_PROBLEM_VALUE_CHARS: usize = 100;
const MAX_NAME_CHARS: usize = 50;
const MAX_SCHOOL_MAJOR_CHARS: usize = 100;
const MAX_ADDRESS_CHARS: usize = 200;
const MAX_OTHER_ID_CHARS: usize = 22;
const MIN_AGE: i32 = 14;
const MAX_AGE: i32 = 80;

/// A column of the transfer file, in the spec's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Name,
    Sex,
    Ethnicity,
    IdType,
    IdNumber,
    BirthDate,
    PoliticalStatus,
    EducationLevel,
    SchoolCode,
    SchoolName,
    MajorCode,
    MajorName,
    GraduationDate,
    HukouCode,
    HukouAddress,
    Phone,
    Email,
    Hardship,
    Intention,
}

impl Column {
    pub const ALL: [Column; 19] = [
        Column::Name,
        Column::Sex,
        Column::Ethnicity,
        Column::IdType,
        Column::IdNumber,
        Column::BirthDate,
        Column::PoliticalStatus,
        Column::EducationLevel,
        Column::SchoolCode,
        Column::SchoolName,
        Column::MajorCode,
        Column::MajorName,
        Column::GraduationDate,
        Column::HukouCode,
        Column::HukouAddress,
        Column::Phone,
        Column::Email,
        Column::Hardship,
        Column::Intention,
    ];

    /// Position in [`Column::ALL`] and in [`RawRow::cells`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn header_zh(self) -> &'static str {
        match self {
            Column::Name => "姓名",
            Column::Sex => "性别",
            Column::Ethnicity => "民族",
            Column::IdType => "证件类型",
            Column::IdNumber => "证件号码",
            Column::BirthDate => "出生日期",
            Column::PoliticalStatus => "政治面貌",
            Column::EducationLevel => "学历",
            Column::SchoolCode => "院校代码",
            Column::SchoolName => "院校名称",
            Column::MajorCode => "专业代码",
            Column::MajorName => "专业名称",
            Column::GraduationDate => "毕业时间",
            Column::HukouCode => "生源地代码",
            Column::HukouAddress => "生源地地址",
            Column::Phone => "联系电话",
            Column::Email => "电子邮箱",
            Column::Hardship => "困难类别",
            Column::Intention => "就业意愿",
        }
    }

    /// The English key of the spec (header alternative, JSON field name).
    pub fn key(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Sex => "sex",
            Column::Ethnicity => "ethnicity",
            Column::IdType => "id_type",
            Column::IdNumber => "id_number",
            Column::BirthDate => "birth_date",
            Column::PoliticalStatus => "political_status",
            Column::EducationLevel => "education_level",
            Column::SchoolCode => "school_code",
            Column::SchoolName => "school_name",
            Column::MajorCode => "major_code",
            Column::MajorName => "major_name",
            Column::GraduationDate => "graduation_date",
            Column::HukouCode => "hukou_code",
            Column::HukouAddress => "hukou_address",
            Column::Phone => "phone",
            Column::Email => "email",
            Column::Hardship => "hardship",
            Column::Intention => "intention",
        }
    }

    /// The column's name in English messages.
    pub fn label_en(self) -> &'static str {
        match self {
            Column::Name => "Name",
            Column::Sex => "Sex",
            Column::Ethnicity => "Ethnicity",
            Column::IdType => "ID type",
            Column::IdNumber => "ID number",
            Column::BirthDate => "Birth date",
            Column::PoliticalStatus => "Political status",
            Column::EducationLevel => "Education level",
            Column::SchoolCode => "School code",
            Column::SchoolName => "School name",
            Column::MajorCode => "Major code",
            Column::MajorName => "Major name",
            Column::GraduationDate => "Graduation date",
            Column::HukouCode => "Household registration code",
            Column::HukouAddress => "Household registration address",
            Column::Phone => "Phone",
            Column::Email => "E-mail",
            Column::Hardship => "Hardship category",
            Column::Intention => "Employment intention",
        }
    }

    /// A file without this column is refused whole. The two hukou columns are each optional:
    /// the rule that one of them is filled applies per row (`HUKOU_MISSING`).
    pub fn required(self) -> bool {
        matches!(
            self,
            Column::Name
                | Column::Sex
                | Column::IdNumber
                | Column::EducationLevel
                | Column::SchoolCode
                | Column::SchoolName
                | Column::MajorName
                | Column::GraduationDate
        )
    }

    /// The column a header names: the Chinese header, the English key (any case) or a common
    /// synonym; surrounding and inner spaces, full-width forms and a `*` or `（必填）` mark are
    /// ignored.
    pub fn from_header(h: &str) -> Option<Column> {
        let mut s: String = h
            .chars()
            .map(half_width_char)
            .filter(|c| !c.is_whitespace() && *c != '\u{FEFF}')
            .collect();
        loop {
            let before = s.len();
            for mark in ["*", "(必填)", "(选填)", "(非必填)", ":"] {
                if let Some(rest) = s.strip_suffix(mark) {
                    s.truncate(rest.len());
                }
            }
            if let Some(rest) = s.strip_prefix('*') {
                s = rest.to_string();
            }
            if s.len() == before {
                break;
            }
        }
        if let Some(c) = Column::ALL.into_iter().find(|c| c.header_zh() == s) {
            return Some(c);
        }
        let c = match s.as_str() {
            "学生姓名" | "毕业生姓名" => Column::Name,
            "身份证件类型" => Column::IdType,
            "身份证号" | "身份证号码" | "公民身份号码" | "身份证件号码" | "身份证" => {
                Column::IdNumber
            }
            "学历层次" => Column::EducationLevel,
            "学校代码" => Column::SchoolCode,
            "毕业院校" | "学校名称" | "院校" => Column::SchoolName,
            "专业" => Column::MajorName,
            "毕业日期" => Column::GraduationDate,
            "生源地行政区划代码" | "户籍地行政区划代码" | "生源地区划代码" => {
                Column::HukouCode
            }
            "生源地" | "户籍地址" | "户籍所在地" | "入学前户籍所在地" | "户籍地" => {
                Column::HukouAddress
            }
            "手机号码" | "手机号" | "手机" | "电话" | "联系方式" => Column::Phone,
            "邮箱" | "电子邮件" | "e-mail" | "E-mail" | "E-MAIL" => Column::Email,
            "困难类型" => Column::Hardship,
            "就业意向" => Column::Intention,
            _ => {
                let key = s.to_ascii_lowercase().replace('-', "_");
                return Column::ALL.into_iter().find(|c| c.key() == key);
            }
        };
        Some(c)
    }
}

/// A row as read from the file: the cells in [`Column::ALL`] order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawRow {
    /// Row number in the original file (the header is line 1 of a CSV), for the reject report.
    pub line: u64,
    /// `None` when the column is absent from the file or the cell is empty.
    pub cells: [Option<String>; 19],
}

impl RawRow {
    pub fn new(line: u64) -> RawRow {
        RawRow {
            line,
            cells: Default::default(),
        }
    }

    pub fn set(&mut self, column: Column, value: impl Into<String>) {
        self.cells[column.index()] = Some(value.into());
    }

    pub fn get(&self, column: Column) -> Option<&str> {
        self.cells[column.index()].as_deref()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The row is not stored.
    Reject,
    /// The row is stored; the value was dropped or kept as sent.
    Warning,
}

/// One finding on one cell of a row.
#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub column: Column,
    /// The value as sent (cleaned), cut to 100 characters.
    pub value: String,
    pub code: ErrorCode,
    /// Chinese, naming the column, without the row prefix: `证件号码：校验位应为 X，实为 3`.
    pub message: String,
    pub message_en: String,
    pub severity: Severity,
}

impl Problem {
    /// `value` is cut to 100 characters with `…`.
    pub fn new(
        column: Column,
        value: &str,
        code: ErrorCode,
        message: String,
        message_en: String,
        severity: Severity,
    ) -> Problem {
        Problem {
            column,
            value: excerpt(value, MAX_PROBLEM_VALUE_CHARS),
            code,
            message,
            message_en,
            severity,
        }
    }

    /// A second row of the same file with the ID number of row `first_line`.
    pub fn duplicate_in_file(value: &str, first_line: u64) -> Problem {
        Problem::new(
            Column::IdNumber,
            value,
            reason::DUPLICATE_IN_FILE,
            format!("证件号码：与第 {first_line} 行重复"),
            format!("ID number: repeats row {first_line}"),
            Severity::Reject,
        )
    }
}

/// A row that passed every reject rule, with its values in canonical form.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GraduateRecord {
    pub name: String,
    /// GB/T 2261.1 code, `1` or `2`.
    pub sex: String,
    /// GB/T 3304 code.
    pub ethnicity: Option<String>,
    /// AAC058 code, `01` when the file leaves it empty.
    pub id_type: String,
    /// As given, normalised (half-width, upper case; a 15-digit ID stays 15 digits).
    pub id_number: String,
    /// The identity used for matching across batches: the 18-character ID for `01`, otherwise
    /// `{id_type}:{id_number}`.
    pub person_key: String,
    /// The birth-date column, else the date inside the ID number.
    pub birth_date: Option<NaiveDate>,
    /// GB/T 4762 code.
    pub political_status: Option<String>,
    /// GB/T 4658 code: 11, 14, 21 or 31.
    pub education_level: String,
    pub school_code: String,
    pub school_name: String,
    pub major_code: Option<String>,
    pub major_name: String,
    pub graduation_date: NaiveDate,
    /// Exactly six ASCII digits when present.
    pub hukou_code: Option<String>,
    pub hukou_address: Option<String>,
    /// An 11-digit mobile number when recognised; otherwise as sent.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Canonical names joined by `;`, in the order of the spec.
    pub hardship: Option<String>,
    /// `1` when the file leaves it empty.
    pub intention: String,
}

impl GraduateRecord {
    pub fn graduation_year(&self) -> i32 {
        self.graduation_date.year()
    }

    /// The 18-character ID number, for ID type `01`.
    pub fn id18(&self) -> Option<&str> {
        (self.id_type == "01").then_some(self.person_key.as_str())
    }
}

/// The outcome of [`validate`]: a record unless some problem is a reject, and every problem.
#[derive(Clone, Debug)]
pub struct Validated {
    pub record: Option<GraduateRecord>,
    pub problems: Vec<Problem>,
}

impl Validated {
    pub fn is_rejected(&self) -> bool {
        self.record.is_none()
    }
}

/// Judges one row against every rule of the spec and reports all its problems, not only the
/// first. `today` is the day of ingest (graduation and birth dates may not be later).
pub fn validate(row: &RawRow, today: NaiveDate) -> Validated {
    let mut v = Validator::new(row);

    let name = v.required(Column::Name).and_then(|s| v.name(s));

    let id_type = match v.get(Column::IdType) {
        None => Some("01"),
        Some(s) => v.code(Column::IdType, CodeTable::IdType, &s),
    };

    let id_raw = v.required(Column::IdNumber);
    let mut id: Option<IdNumber> = None;
    let id_number: Option<String> = match (&id_raw, id_type) {
        (None, _) => None,
        (Some(raw), Some("01")) => match IdNumber::parse_on(raw, today) {
            Ok(parsed) => {
                let given = parsed.given().to_string();
                id = Some(parsed);
                Some(given)
            }
            Err(e) => {
                v.reject_with(
                    Column::IdNumber,
                    raw,
                    e.code(),
                    e.message_zh(),
                    e.message_en(),
                );
                None
            }
        },
        (Some(raw), _) => v.other_id(raw),
    };

    let sex = v.required(Column::Sex).and_then(|s| {
        let code = v.code(Column::Sex, CodeTable::Sex, &s)?;
        if let Some(id) = &id {
            if id.sex_code() != code {
                let (id_zh, id_en) = if id.sex_code() == "1" {
                    ("男", "male")
                } else {
                    ("女", "female")
                };
                v.reject_with(
                    Column::Sex,
                    &s,
                    reason::SEX_MISMATCH,
                    format!("性别：与证件号码不符（证件号码为{id_zh}性）"),
                    format!("Sex: does not agree with the ID number ({id_en})"),
                );
                return None;
            }
        }
        Some(code)
    });

    let ethnicity = v
        .get(Column::Ethnicity)
        .and_then(|s| v.code(Column::Ethnicity, CodeTable::Ethnicity, &s));

    let birth_column = v.get(Column::BirthDate).and_then(|s| {
        let d = v.date(Column::BirthDate, &s)?;
        if let Some(id) = &id {
            if id.birth_date() != d {
                v.reject_with(
                    Column::BirthDate,
                    &s,
                    reason::BIRTH_MISMATCH,
                    format!(
                        "出生日期：{d} 与证件号码中的出生日期 {} 不一致",
                        id.birth_date()
                    ),
                    format!(
                        "Birth date: {d} differs from the birth date in the ID number, {}",
                        id.birth_date()
                    ),
                );
            }
        }
        Some(d)
    });

    let political_status = v
        .get(Column::PoliticalStatus)
        .and_then(|s| v.code(Column::PoliticalStatus, CodeTable::PoliticalStatus, &s));

    let education_level = v
        .required(Column::EducationLevel)
        .and_then(|s| v.code(Column::EducationLevel, CodeTable::EducationLevel, &s));

    let school_code = v.required(Column::SchoolCode).and_then(|s| {
        let code = excel_integer(&s);
        if code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit()) {
            Some(code.to_string())
        } else {
            v.reject_with(
                Column::SchoolCode,
                &s,
                reason::SCHOOL_CODE_FORMAT,
                "院校代码：应为 5 位数字（国标院校代码）".to_string(),
                "School code: should be 5 digits (national school code)".to_string(),
            );
            None
        }
    });

    let school_name = v
        .required(Column::SchoolName)
        .and_then(|s| v.max_chars(Column::SchoolName, s, MAX_SCHOOL_MAJOR_CHARS));

    let major_code = v.get(Column::MajorCode).and_then(|s| {
        let code = s.to_ascii_uppercase();
        if is_major_code(&code) {
            Some(code)
        } else {
            v.reject_with(
                Column::MajorCode,
                &s,
                reason::MAJOR_CODE_FORMAT,
                "专业代码：应为 6 位数字，可带字母后缀（如 080901、120203K）；若开头的 0 丢失，请将该列设置为“文本”格式"
                    .to_string(),
                "Major code: should be 6 digits with an optional letter suffix (e.g. 080901, 120203K); if a leading 0 was lost, format the column as text"
                    .to_string(),
            );
            None
        }
    });

    let major_name = v
        .required(Column::MajorName)
        .and_then(|s| v.max_chars(Column::MajorName, s, MAX_SCHOOL_MAJOR_CHARS));

    let graduation_date = v.required(Column::GraduationDate).and_then(|s| {
        let d = v.date(Column::GraduationDate, &s)?;
        if d > today {
            v.reject_with(
                Column::GraduationDate,
                &s,
                reason::DATE_FUTURE,
                format!("毕业时间：{d} 晚于今天（{today}）"),
                format!("Graduation date: {d} is after today ({today})"),
            );
            return None;
        }
        Some(d)
    });

    // The age rule needs a trustworthy birth date; the ID's own wins over the column.
    let birth_for_age = match (&id, birth_column) {
        (Some(id), _) => Some((id.birth_date(), Column::IdNumber)),
        (None, Some(d)) => Some((d, Column::BirthDate)),
        (None, None) => None,
    };
    if let (Some((birth, column)), Some(grad)) = (birth_for_age, graduation_date) {
        let age = age_on(birth, grad);
        if !(MIN_AGE..=MAX_AGE).contains(&age) {
            let value = match column {
                Column::IdNumber => id_raw.as_deref().unwrap_or_default().to_string(),
                _ => birth.to_string(),
            };
            v.reject_with(
                column,
                &value,
                reason::ID_BIRTHDATE,
                format!(
                    "{}：出生日期 {birth} 在毕业时间 {grad} 时年龄为 {age} 岁，应在 {MIN_AGE} 至 {MAX_AGE} 岁之间",
                    column.header_zh()
                ),
                format!(
                    "{}: born {birth}, aged {age} on the graduation date {grad}; should be {MIN_AGE} to {MAX_AGE}",
                    column.label_en()
                ),
            );
        }
    }

    let (hukou_code, hukou_address) = v.hukou();
    let phone = v.get(Column::Phone).map(|s| v.phone(s));
    let email = v.get(Column::Email).map(|s| v.email(s));
    let hardship = v.get(Column::Hardship).and_then(|s| v.hardship(&s));

    let intention = match v.get(Column::Intention) {
        None => Some("1"),
        Some(s) => v.code(Column::Intention, CodeTable::Intention, &s),
    };

    let mut problems = v.problems;
    let rejected = problems.iter().any(|p| p.severity == Severity::Reject);
    let record = if rejected {
        None
    } else {
        (|| {
            let id_type = id_type?;
            let id_number = id_number?;
            let person_key = match &id {
                Some(id) => id.id18().to_string(),
                None => format!("{id_type}:{id_number}"),
            };
            Some(GraduateRecord {
                name: name?,
                sex: sex?.to_string(),
                ethnicity: ethnicity.map(str::to_string),
                id_type: id_type.to_string(),
                id_number,
                person_key,
                birth_date: birth_column.or(id.as_ref().map(IdNumber::birth_date)),
                political_status: political_status.map(str::to_string),
                education_level: education_level?.to_string(),
                school_code: school_code?,
                school_name: school_name?,
                major_code,
                major_name: major_name?,
                graduation_date: graduation_date?,
                hukou_code,
                hukou_address,
                phone,
                email,
                hardship,
                intention: intention?.to_string(),
            })
        })()
    };
    // Every missing value above has pushed a reject; this keeps "no record iff rejected" even if
    // a future rule forgets to.
    if record.is_none() && !rejected {
        problems.push(Problem::new(
            Column::Name,
            "",
            reason::REQUIRED,
            "整行：无法生成记录".to_string(),
            "Row: no record could be built".to_string(),
            Severity::Reject,
        ));
    }
    Validated { record, problems }
}

/// The per-row state of [`validate`]: cleaned cells and the problems found so far.
struct Validator<'a> {
    cells: [Option<Cow<'a, str>>; 19],
    /// Cells already reported as too long, so no second problem is stacked on them.
    too_long: [bool; 19],
    problems: Vec<Problem>,
}

impl<'a> Validator<'a> {
    fn new(row: &'a RawRow) -> Validator<'a> {
        let mut v = Validator {
            cells: Default::default(),
            too_long: [false; 19],
            problems: Vec::new(),
        };
        for column in Column::ALL {
            let Some(raw) = row.cells[column.index()].as_deref() else {
                continue;
            };
            // Byte length bounds char count from above: most cells skip the count entirely.
            if raw.len() > MAX_CELL_CHARS && raw.chars().count() > MAX_CELL_CHARS {
                let n = raw.chars().count();
                v.too_long[column.index()] = true;
                v.reject_with(
                    column,
                    raw,
                    reason::TOO_LONG,
                    format!(
                        "{}：长度不能超过 {MAX_CELL_CHARS} 个字符，实为 {n} 个",
                        column.header_zh()
                    ),
                    format!(
                        "{}: at most {MAX_CELL_CHARS} characters, found {n}",
                        column.label_en()
                    ),
                );
                continue;
            }
            v.cells[column.index()] = clean_cell(raw);
        }
        v
    }

    /// The cleaned cell, `None` when empty or already reported too long.
    fn get(&self, column: Column) -> Option<Cow<'a, str>> {
        self.cells[column.index()].clone()
    }

    /// As [`Validator::get`], reporting `REQUIRED` when empty.
    fn required(&mut self, column: Column) -> Option<Cow<'a, str>> {
        let cell = self.get(column);
        if cell.is_none() && !self.too_long[column.index()] {
            self.reject_with(
                column,
                "",
                reason::REQUIRED,
                format!("{}：必填，不能为空", column.header_zh()),
                format!("{}: required, must not be empty", column.label_en()),
            );
        }
        cell
    }

    fn push(
        &mut self,
        column: Column,
        value: &str,
        code: ErrorCode,
        zh: String,
        en: String,
        severity: Severity,
    ) {
        self.problems
            .push(Problem::new(column, value, code, zh, en, severity));
    }

    fn reject_with(
        &mut self,
        column: Column,
        value: &str,
        code: ErrorCode,
        zh: String,
        en: String,
    ) {
        self.push(column, value, code, zh, en, Severity::Reject);
    }

    fn warn_with(&mut self, column: Column, value: &str, code: ErrorCode, zh: String, en: String) {
        self.push(column, value, code, zh, en, Severity::Warning);
    }

    fn max_chars(&mut self, column: Column, s: Cow<'a, str>, max: usize) -> Option<String> {
        let n = s.chars().count();
        if n > max {
            self.reject_with(
                column,
                &s,
                reason::TOO_LONG,
                format!(
                    "{}：长度不能超过 {max} 个字符，实为 {n} 个",
                    column.header_zh()
                ),
                format!("{}: at most {max} characters, found {n}", column.label_en()),
            );
            return None;
        }
        Some(s.into_owned())
    }

    fn name(&mut self, s: Cow<'a, str>) -> Option<String> {
        let mut ok = true;
        if s.chars().any(char::is_whitespace) {
            self.reject_with(
                Column::Name,
                &s,
                reason::NAME_SPACE,
                "姓名：不能含有半角或全角空格".to_string(),
                "Name: must not contain spaces (half- or full-width)".to_string(),
            );
            ok = false;
        }
        let n = s.chars().count();
        if n > MAX_NAME_CHARS {
            self.reject_with(
                Column::Name,
                &s,
                reason::TOO_LONG,
                format!("姓名：长度不能超过 {MAX_NAME_CHARS} 个字符，实为 {n} 个"),
                format!("Name: at most {MAX_NAME_CHARS} characters, found {n}"),
            );
            ok = false;
        }
        ok.then(|| normalise_name_dots(&s))
    }

    fn code(&mut self, column: Column, table: CodeTable, s: &str) -> Option<&'static str> {
        let code = table.lookup(s);
        if code.is_none() {
            let (hint_zh, hint_en) = code_hint(table);
            let shown = excerpt(s, 20);
            self.reject_with(
                column,
                s,
                reason::CODE_UNKNOWN,
                format!("{}：“{shown}”不在代码表中（{hint_zh}）", column.header_zh()),
                format!(
                    "{}: \"{shown}\" is not in the code table ({hint_en})",
                    column.label_en()
                ),
            );
        }
        code
    }

    fn date(&mut self, column: Column, s: &str) -> Option<NaiveDate> {
        let d = parse_date(s);
        if d.is_none() {
            let shown = excerpt(s, 20);
            self.reject_with(
                column,
                s,
                reason::DATE_INVALID,
                format!(
                    "{}：“{shown}”不是有效日期（应为 YYYYMMDD、YYYY-MM-DD 或 YYYY/M/D，且须有年月日）",
                    column.header_zh()
                ),
                format!(
                    "{}: \"{shown}\" is not a valid date (use YYYYMMDD, YYYY-MM-DD or YYYY/M/D, with year, month and day)",
                    column.label_en()
                ),
            );
        }
        d
    }

    /// Passports and permits have no checksum; only length and spaces are checked.
    fn other_id(&mut self, s: &str) -> Option<String> {
        let id = s.to_ascii_uppercase();
        let n = id.chars().count();
        let mut ok = true;
        if n > MAX_OTHER_ID_CHARS {
            self.reject_with(
                Column::IdNumber,
                s,
                reason::ID_LENGTH,
                format!("证件号码：长度应为 1 至 {MAX_OTHER_ID_CHARS} 个字符，实为 {n} 个"),
                format!("ID number: should be 1 to {MAX_OTHER_ID_CHARS} characters, found {n}"),
            );
            ok = false;
        }
        if id.chars().any(char::is_whitespace) {
            self.reject_with(
                Column::IdNumber,
                s,
                reason::ID_CHARS,
                "证件号码：不能含有空格".to_string(),
                "ID number: must not contain spaces".to_string(),
            );
            ok = false;
        }
        ok.then_some(id)
    }

    /// The pair of routing columns: a malformed code is only fatal when no address can stand in.
    fn hukou(&mut self) -> (Option<String>, Option<String>) {
        let code_cell = self.get(Column::HukouCode);
        let address = self
            .get(Column::HukouAddress)
            .and_then(|s| self.max_chars(Column::HukouAddress, s, MAX_ADDRESS_CHARS));
        let address_present = self.cells[Column::HukouAddress.index()].is_some();
        let code = code_cell.and_then(|s| {
            if let Some(code) = normalise_division_code(&s) {
                return Some(code);
            }
            let zh = "生源地代码：应为 6 位行政区划代码（前两位为省级代码）";
            let en = "Household registration code: should be a 6-digit division code starting with a province code";
            // No person is dropped for an unusable household registration (transfer-file
            // spec): the code is ignored and the address, else the ID number, routes the row.
            if address_present {
                self.warn_with(
                    Column::HukouCode,
                    &s,
                    reason::HUKOU_CODE_FORMAT,
                    format!("{zh}；已忽略，按生源地地址确定去向"),
                    format!("{en}; ignored, the address is used for routing"),
                );
            } else {
                self.warn_with(
                    Column::HukouCode,
                    &s,
                    reason::HUKOU_CODE_FORMAT,
                    format!("{zh}；已忽略，按身份证号前六位推断去向（无法推断时留在中心待处理）"),
                    format!("{en}; ignored, routed by the ID number's first six digits (kept at the hub when they do not resolve)"),
                );
            }
            None
        });
        let code_present = self.cells[Column::HukouCode.index()].is_some();
        let any_too_long =
            self.too_long[Column::HukouCode.index()] || self.too_long[Column::HukouAddress.index()];
        if !code_present && !address_present && !any_too_long {
            // Still a person to serve (transfer-file spec): accepted, routed by the ID number's
            // first six digits (`id_prefix`) or kept `unresolved` at the hub.
            self.warn_with(
                Column::HukouCode,
                "",
                reason::HUKOU_MISSING,
                "生源地代码：生源地代码和生源地地址均未填写，已按身份证号前六位推断去向（无法推断时留在中心待处理），请补报生源地"
                    .to_string(),
                "Household registration code: neither the code nor the address is filled in; routed by the ID number's first six digits (kept at the hub when they do not resolve); please send the household registration"
                    .to_string(),
            );
        }
        (code, address)
    }

    fn phone(&mut self, s: Cow<'a, str>) -> String {
        if let Some(mobile) = mobile_number(&s) {
            return mobile;
        }
        if !is_fixed_line(&s) {
            self.warn_with(
                Column::Phone,
                &s,
                reason::PHONE_FORMAT,
                "联系电话：不是有效的手机号码（1 开头 11 位）或固定电话（如 0531-88888888），已按原样保存"
                    .to_string(),
                "Phone: not a mobile number (11 digits starting with 1) or a fixed line (e.g. 0531-88888888); kept as sent"
                    .to_string(),
            );
        }
        s.into_owned()
    }

    fn email(&mut self, s: Cow<'a, str>) -> String {
        if !is_plausible_email(&s) {
            self.warn_with(
                Column::Email,
                &s,
                reason::EMAIL_FORMAT,
                "电子邮箱：不是有效的电子邮箱地址，已按原样保存".to_string(),
                "E-mail: not a valid e-mail address; kept as sent".to_string(),
            );
        }
        s.into_owned()
    }

    fn hardship(&mut self, s: &str) -> Option<String> {
        let mut found = [false; 8];
        for item in s.split(is_hardship_separator).map(str::trim) {
            if item.is_empty() || NO_HARDSHIP.contains(&item) {
                continue;
            }
            match hardship_lookup(item).and_then(|n| hardship_names().position(|c| c == n)) {
                Some(i) if i < found.len() => found[i] = true,
                _ => {
                    let shown = excerpt(item, 20);
                    self.warn_with(
                        Column::Hardship,
                        item,
                        reason::HARDSHIP_UNKNOWN,
                        format!("困难类别：“{shown}”不是可识别的困难类别（低保家庭、零就业家庭、残疾、脱贫家庭、特困人员），已忽略"),
                        format!("Hardship category: \"{shown}\" is not a known category (低保家庭, 零就业家庭, 残疾, 脱贫家庭, 特困人员); dropped"),
                    );
                }
            }
        }
        // Spec order, so that the same categories in another order store the same value.
        let joined = hardship_names()
            .zip(found)
            .filter(|(_, f)| *f)
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
            .join(";");
        (!joined.is_empty()).then_some(joined)
    }
}

/// Words clerks put in the hardship column to say "none".
const NO_HARDSHIP: [&str; 9] = [
    "无",
    "否",
    "没有",
    "无困难",
    "非困难",
    "不是",
    "-",
    "--",
    "—",
];

fn is_hardship_separator(c: char) -> bool {
    matches!(c, ';' | '；' | '、' | ',' | '，' | '/' | '|')
}

fn code_hint(table: CodeTable) -> (&'static str, &'static str) {
    match table {
        CodeTable::Sex => ("应为 1 男 或 2 女", "1 male or 2 female"),
        CodeTable::Ethnicity => (
            "应为 GB/T 3304 代码 01–56 或民族名称，如 01 汉族",
            "a GB/T 3304 code 01-56 or the name, e.g. 01 汉族",
        ),
        CodeTable::PoliticalStatus => (
            "应为 GB/T 4762 代码 01–13 或名称，如 01 中共党员、13 群众",
            "a GB/T 4762 code 01-13 or the name, e.g. 01 中共党员, 13 群众",
        ),
        CodeTable::EducationLevel => (
            "应为 11 博士研究生、14 硕士研究生、21 大学本科 或 31 大学专科",
            "11 doctorate, 14 master, 21 bachelor or 31 junior college",
        ),
        CodeTable::IdType => (
            "应为 AAC058 证件类型代码，如 01 居民身份证",
            "an AAC058 code, e.g. 01 resident identity card",
        ),
        CodeTable::Intention => (
            "应为 1 有就业意愿、2 暂不就业·拟升学 或 3 暂不就业·其他",
            "1 wants a job, 2 not now: further study, 3 not now: other",
        ),
    }
}

/// Trims and, only where needed, converts full-width forms: most cells need no new string.
fn clean_cell(raw: &str) -> Option<Cow<'_, str>> {
    if raw
        .chars()
        .any(|c| matches!(c, '\u{3000}' | '\u{FF01}'..='\u{FF5E}'))
    {
        return clean(raw).map(Cow::Owned);
    }
    let t = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    (!t.is_empty()).then_some(Cow::Borrowed(t))
}

/// Minority names are joined with `·`; input methods and fonts offer several look-alikes.
fn normalise_name_dots(s: &str) -> String {
    let is_dot = |c: char| matches!(c, '•' | '・' | '‧' | '∙' | '⋅' | '･' | '.' | '．' | '●');
    if !s.contains(is_dot) {
        return s.to_string();
    }
    s.chars().map(|c| if is_dot(c) { '·' } else { c }).collect()
}

/// `10001.0` → `10001`: a number cell read back as a float.
fn excel_integer(s: &str) -> &str {
    match s.split_once('.') {
        Some((int, frac))
            if !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b == b'0') =>
        {
            int
        }
        _ => s,
    }
}

/// Six digits, then nothing, `K`, `T` or `TK` (教育部专业目录: 国家控制布点 / 特设专业).
fn is_major_code(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 6
        && b[..6].iter().all(u8::is_ascii_digit)
        && matches!(&b[6..], b"" | b"K" | b"T" | b"TK")
}

/// A GB/T 2260 code as six digits. Nine- (township) and twelve-digit (statistical) codes are cut
/// to their county part; the first two digits must be a province.
fn normalise_division_code(s: &str) -> Option<String> {
    let s = excel_integer(s);
    if !s.bytes().all(|b| b.is_ascii_digit()) || !matches!(s.len(), 6 | 9 | 12) {
        return None;
    }
    let code = &s[..6];
    is_province_code(code.as_bytes()).then(|| code.to_string())
}

/// The 11-digit mobile number, with `+86`/`86`/`0086` prefixes, spaces and dashes removed.
pub fn mobile_number(s: &str) -> Option<String> {
    if is_mobile(s) {
        return Some(s.to_string());
    }
    let compact: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = compact
        .strip_prefix("+86")
        .or_else(|| compact.strip_prefix("0086"))
        .or_else(|| compact.strip_prefix("86").filter(|r| r.len() == 11))
        .unwrap_or(&compact);
    is_mobile(digits).then(|| digits.to_string())
}

/// `1[3-9]` and nine more digits.
fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

/// `0531-88888888`, `(010)12345678`, `010-12345678-123`, `0531 8888 8888`, `053188888888`:
/// a 3–4 digit area code starting with 0, a 7–8 digit local number, an optional extension.
pub fn is_fixed_line(s: &str) -> bool {
    let s: String = s.chars().filter(|c| *c != ' ').collect();
    let s = s
        .strip_prefix("+86")
        .or_else(|| s.strip_prefix("0086"))
        .map(|r| r.strip_prefix('-').unwrap_or(r))
        .unwrap_or(&s);
    let s = s.replace('转', "-").replace(['(', ')'], "-");
    let s = s.trim_start_matches('-');
    let all_digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let area_ok = |a: &str| {
        all_digits(a) && (3..=4).contains(&a.len()) && a.starts_with('0') && !a.starts_with("00")
    };
    let local_ok = |l: &str| all_digits(l) && (7..=8).contains(&l.len()) && !l.starts_with('0');
    let parts: Vec<&str> = s.split('-').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [area, local] => area_ok(area) && local_ok(local),
        [area, local, ext] => area_ok(area) && local_ok(local) && all_digits(ext) && ext.len() <= 6,
        // Written without separators: the area code is 3 digits for 010/02x, else 4.
        [whole] if all_digits(whole) && whole.starts_with('0') => {
            let split = if whole.starts_with("01") || whole.starts_with("02") {
                3
            } else {
                4
            };
            whole.len() > split && area_ok(&whole[..split]) && local_ok(&whole[split..])
        }
        _ => false,
    }
}

/// Plausible, not RFC-complete: one `@`, a dot-atom local part, a domain of at least two labels
/// ending in letters.
fn is_plausible_email(s: &str) -> bool {
    if s.len() > 254 || !s.is_ascii() {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

/// At most `max` characters, `…` marking a cut.
fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    fn today() -> NaiveDate {
        day(2026, 7, 15)
    }

    /// A complete valid row: a man born 1999-06-15 graduating 2026-06-30.
    fn good_row() -> RawRow {
        let mut r = RawRow::new(2);
        r.set(Column::Name, "张三");
        r.set(Column::Sex, "1");
        r.set(Column::Ethnicity, "01");
        r.set(Column::IdNumber, "370102199906151239");
        r.set(Column::BirthDate, "1999-06-15");
        r.set(Column::PoliticalStatus, "13");
        r.set(Column::EducationLevel, "21");
        r.set(Column::SchoolCode, "10422");
        r.set(Column::SchoolName, "山东大学");
        r.set(Column::MajorCode, "080901");
        r.set(Column::MajorName, "计算机科学与技术");
        r.set(Column::GraduationDate, "2026-06-30");
        r.set(Column::HukouCode, "370102");
        r.set(Column::HukouAddress, "山东省济南市历下区");
        r.set(Column::Phone, "13812345678");
        r.set(Column::Email, "zhangsan@example.com");
        r.set(Column::Intention, "1");
        r
    }

    fn check(row: &RawRow) -> Validated {
        validate(row, today())
    }

    fn codes(v: &Validated) -> Vec<(Column, ErrorCode, Severity)> {
        v.problems
            .iter()
            .map(|p| (p.column, p.code, p.severity))
            .collect()
    }

    fn with(column: Column, value: &str) -> Validated {
        let mut r = good_row();
        r.set(column, value);
        check(&r)
    }

    fn without(column: Column) -> Validated {
        let mut r = good_row();
        r.cells[column.index()] = None;
        check(&r)
    }

    fn rejected_with(v: &Validated, column: Column, code: ErrorCode) -> bool {
        v.record.is_none()
            && v.problems
                .iter()
                .any(|p| p.column == column && p.code == code && p.severity == Severity::Reject)
    }

    fn warned_with(v: &Validated, column: Column, code: ErrorCode) -> bool {
        v.record.is_some()
            && v.problems
                .iter()
                .any(|p| p.column == column && p.code == code && p.severity == Severity::Warning)
    }

    #[test]
    fn accepts_a_complete_row() {
        let v = check(&good_row());
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        let r = v.record.expect("record");
        assert_eq!(r.name, "张三");
        assert_eq!(r.sex, "1");
        assert_eq!(r.ethnicity.as_deref(), Some("01"));
        assert_eq!(r.id_type, "01");
        assert_eq!(r.id_number, "370102199906151239");
        assert_eq!(r.person_key, "370102199906151239");
        assert_eq!(r.id18(), Some("370102199906151239"));
        assert_eq!(r.birth_date, Some(day(1999, 6, 15)));
        assert_eq!(r.education_level, "21");
        assert_eq!(r.graduation_date, day(2026, 6, 30));
        assert_eq!(r.graduation_year(), 2026);
        assert_eq!(r.hukou_code.as_deref(), Some("370102"));
        assert_eq!(r.intention, "1");
        assert_eq!(r.hardship, None);
    }

    #[test]
    fn accepts_names_instead_of_codes() {
        let mut r = good_row();
        r.set(Column::Sex, "男");
        r.set(Column::Ethnicity, "汉");
        r.set(Column::PoliticalStatus, "共青团员");
        r.set(Column::EducationLevel, "本科");
        r.set(Column::IdType, "身份证");
        r.set(Column::Intention, "暂不就业·拟升学");
        let rec = check(&r).record.expect("record");
        assert_eq!(
            (
                rec.sex.as_str(),
                rec.ethnicity.as_deref(),
                rec.political_status.as_deref(),
                rec.education_level.as_str(),
                rec.id_type.as_str(),
                rec.intention.as_str()
            ),
            ("1", Some("01"), Some("03"), "21", "01", "2")
        );
    }

    #[test]
    fn defaults_id_type_and_intention() {
        let mut r = good_row();
        r.cells[Column::IdType.index()] = None;
        r.cells[Column::Intention.index()] = None;
        let rec = check(&r).record.expect("record");
        assert_eq!(rec.id_type, "01");
        assert_eq!(rec.intention, "1");
    }

    #[test]
    fn cleans_full_width_and_spaces() {
        let mut r = good_row();
        r.set(Column::IdNumber, " ３７０１０２１９９９０６１５１２３９ ");
        r.set(Column::SchoolCode, "１０４２２");
        r.set(Column::Name, "\u{3000}张三\u{3000}");
        let rec = check(&r).record.expect("record");
        assert_eq!(rec.id_number, "370102199906151239");
        assert_eq!(rec.school_code, "10422");
        assert_eq!(rec.name, "张三");
    }

    #[test]
    fn keeps_15_digit_id_as_given_and_matches_on_18() {
        let mut r = good_row();
        r.set(Column::IdNumber, "370102760615123");
        r.set(Column::BirthDate, "19760615");
        let rec = check(&r).record.expect("record");
        assert_eq!(rec.id_number, "370102760615123");
        assert_eq!(rec.person_key, "370102197606151238");
    }

    #[test]
    fn birth_date_comes_from_the_id_when_column_empty() {
        let rec = without(Column::BirthDate).record.expect("record");
        assert_eq!(rec.birth_date, Some(day(1999, 6, 15)));
    }

    #[test]
    fn rejects_missing_required_columns() {
        for column in Column::ALL.into_iter().filter(|c| c.required()) {
            let v = without(column);
            assert!(rejected_with(&v, column, reason::REQUIRED), "{column:?}");
        }
    }

    #[test]
    fn optional_columns_may_be_empty() {
        for column in [
            Column::Ethnicity,
            Column::IdType,
            Column::BirthDate,
            Column::PoliticalStatus,
            Column::MajorCode,
            Column::HukouCode,
            Column::HukouAddress,
            Column::Phone,
            Column::Email,
            Column::Hardship,
            Column::Intention,
        ] {
            let v = without(column);
            assert!(v.record.is_some(), "{column:?}: {:?}", v.problems);
            assert!(!column.required());
        }
    }

    #[test]
    fn rejects_id_with_wrong_check_digit() {
        let v = with(Column::IdNumber, "110105194912310023");
        assert!(rejected_with(&v, Column::IdNumber, ErrorCode::IdChecksum));
        let p = &v.problems[0];
        assert_eq!(p.message, "证件号码：校验位应为 X，实为 3");
        assert_eq!(
            p.message_en,
            "ID number: check character should be X, found 3"
        );
        assert_eq!(p.value, "110105194912310023");
    }

    #[test]
    fn rejects_excel_number_id() {
        let v = with(Column::IdNumber, "1.10105E+17");
        assert!(rejected_with(
            &v,
            Column::IdNumber,
            ErrorCode::IdExcelNumber
        ));
    }

    #[test]
    fn rejects_sex_disagreeing_with_id() {
        let v = with(Column::Sex, "女");
        assert!(rejected_with(&v, Column::Sex, reason::SEX_MISMATCH));
        assert!(v.problems[0].message.contains("男"));
    }

    #[test]
    fn rejects_unknown_sex_code() {
        for value in ["0", "9", "M", "未知"] {
            let v = with(Column::Sex, value);
            assert!(
                rejected_with(&v, Column::Sex, reason::CODE_UNKNOWN),
                "{value}"
            );
        }
    }

    #[test]
    fn rejects_unknown_codes_in_code_columns() {
        for (column, value) in [
            (Column::Ethnicity, "99"),
            (Column::IdType, "77"),
            (Column::PoliticalStatus, "14"),
            (Column::EducationLevel, "研究生"),
            (Column::Intention, "4"),
        ] {
            let v = with(column, value);
            assert!(
                rejected_with(&v, column, reason::CODE_UNKNOWN),
                "{column:?}"
            );
        }
    }

    #[test]
    fn rejects_name_with_space() {
        for value in ["张 三", "张\u{3000}三"] {
            let v = with(Column::Name, value);
            assert!(
                rejected_with(&v, Column::Name, reason::NAME_SPACE),
                "{value}"
            );
        }
    }

    #[test]
    fn rejects_too_long_name() {
        let v = with(Column::Name, &"张".repeat(51));
        assert!(rejected_with(&v, Column::Name, reason::TOO_LONG));
        assert!(with(Column::Name, &"张".repeat(50)).record.is_some());
    }

    #[test]
    fn normalises_dots_in_minority_names() {
        for value in ["买买提·艾力", "买买提•艾力", "买买提．艾力", "买买提・艾力"]
        {
            let rec = with(Column::Name, value).record.expect(value);
            assert_eq!(rec.name, "买买提·艾力");
        }
    }

    #[test]
    fn other_id_types_skip_the_checksum() {
        let mut r = good_row();
        r.set(Column::IdType, "08");
        r.set(Column::IdNumber, "e12345678");
        r.set(Column::Sex, "2");
        let v = check(&r);
        let rec = v.record.expect("record");
        assert_eq!(rec.id_number, "E12345678");
        assert_eq!(rec.person_key, "08:E12345678");
        assert_eq!(rec.id18(), None);
        assert_eq!(rec.birth_date, Some(day(1999, 6, 15)));
    }

    #[test]
    fn other_id_types_check_age_from_the_birth_date_column() {
        let mut r = good_row();
        r.set(Column::IdType, "08");
        r.set(Column::IdNumber, "E12345678");
        r.set(Column::BirthDate, "1940-01-01");
        assert!(rejected_with(
            &check(&r),
            Column::BirthDate,
            reason::ID_BIRTHDATE
        ));
    }

    #[test]
    fn unknown_id_type_rejects_but_still_checks_the_number() {
        let mut r = good_row();
        r.set(Column::IdType, "护照");
        r.set(Column::IdNumber, "E123 4567");
        let v = check(&r);
        assert!(rejected_with(&v, Column::IdType, reason::CODE_UNKNOWN));
        assert!(rejected_with(&v, Column::IdNumber, reason::ID_CHARS));
    }

    #[test]
    fn other_id_types_are_bounded() {
        let mut r = good_row();
        r.set(Column::IdType, "16");
        r.set(Column::IdNumber, "E1234567890123456789012");
        assert!(rejected_with(
            &check(&r),
            Column::IdNumber,
            reason::ID_LENGTH
        ));
        r.set(Column::IdNumber, "E123 4567");
        assert!(rejected_with(
            &check(&r),
            Column::IdNumber,
            reason::ID_CHARS
        ));
    }

    #[test]
    fn rejects_invalid_birth_date_column() {
        let v = with(Column::BirthDate, "1999-02-30");
        assert!(rejected_with(&v, Column::BirthDate, reason::DATE_INVALID));
    }

    #[test]
    fn rejects_birth_date_disagreeing_with_id() {
        let v = with(Column::BirthDate, "1999-06-16");
        assert!(rejected_with(&v, Column::BirthDate, reason::BIRTH_MISMATCH));
    }

    #[test]
    fn birth_date_column_accepts_other_forms() {
        for value in ["19990615", "1999/6/15", "1999年6月15日", "36326"] {
            assert!(with(Column::BirthDate, value).record.is_some(), "{value}");
        }
    }

    #[test]
    fn rejects_age_outside_14_to_80_on_graduation() {
        // Born 2013-01-01: 13 on 2026-06-30.
        let first17 = "37010220130101123";
        let id = format!(
            "{first17}{}",
            crate::domain::id_number::check_char(first17).expect("digits")
        );
        let mut r = good_row();
        r.set(Column::IdNumber, &id);
        r.cells[Column::BirthDate.index()] = None;
        let v = check(&r);
        assert!(rejected_with(&v, Column::IdNumber, reason::ID_BIRTHDATE));
        // Born 1945: 81 on graduation.
        let first17 = "37010219450101123";
        let id = format!(
            "{first17}{}",
            crate::domain::id_number::check_char(first17).expect("digits")
        );
        r.set(Column::IdNumber, &id);
        assert!(rejected_with(
            &check(&r),
            Column::IdNumber,
            reason::ID_BIRTHDATE
        ));
    }

    #[test]
    fn rejects_bad_school_code() {
        for value in ["1042", "104220", "1042A"] {
            let v = with(Column::SchoolCode, value);
            assert!(
                rejected_with(&v, Column::SchoolCode, reason::SCHOOL_CODE_FORMAT),
                "{value}"
            );
        }
        assert_eq!(
            with(Column::SchoolCode, "10422.0")
                .record
                .expect("record")
                .school_code,
            "10422"
        );
    }

    #[test]
    fn major_code_allows_letter_suffix() {
        for value in ["080901", "120203K", "080910T", "101101TK", "120203k"] {
            let rec = with(Column::MajorCode, value).record.expect(value);
            assert_eq!(
                rec.major_code.as_deref(),
                Some(value.to_uppercase().as_str())
            );
        }
        for value in ["80901", "0809", "080901X", "08090A"] {
            let v = with(Column::MajorCode, value);
            assert!(
                rejected_with(&v, Column::MajorCode, reason::MAJOR_CODE_FORMAT),
                "{value}"
            );
        }
    }

    #[test]
    fn rejects_too_long_school_and_major_names() {
        let long = "学".repeat(101);
        assert!(rejected_with(
            &with(Column::SchoolName, &long),
            Column::SchoolName,
            reason::TOO_LONG
        ));
        assert!(rejected_with(
            &with(Column::MajorName, &long),
            Column::MajorName,
            reason::TOO_LONG
        ));
    }

    #[test]
    fn rejects_graduation_in_the_future() {
        let v = with(Column::GraduationDate, "2026-07-16");
        assert!(rejected_with(
            &v,
            Column::GraduationDate,
            reason::DATE_FUTURE
        ));
        assert!(with(Column::GraduationDate, "2026-07-15").record.is_some());
    }

    #[test]
    fn rejects_invalid_graduation_date() {
        for value in ["2026-06", "2026", "明年", "2026-02-30"] {
            let v = with(Column::GraduationDate, value);
            assert!(
                rejected_with(&v, Column::GraduationDate, reason::DATE_INVALID),
                "{value}"
            );
        }
    }

    #[test]
    fn converts_excel_serial_graduation_date() {
        let rec = with(Column::GraduationDate, "46203")
            .record
            .expect("record");
        assert_eq!(rec.graduation_date, day(2026, 6, 30));
    }

    #[test]
    fn hukou_code_is_normalised_to_six_digits() {
        for value in [
            "370102",
            "370102.0",
            "370102000000",
            "370102001",
            "３７０１０２",
        ] {
            let rec = with(Column::HukouCode, value).record.expect(value);
            assert_eq!(rec.hukou_code.as_deref(), Some("370102"), "{value}");
        }
    }

    #[test]
    fn malformed_hukou_code_with_address_is_a_warning() {
        let v = with(Column::HukouCode, "3701");
        assert!(warned_with(
            &v,
            Column::HukouCode,
            reason::HUKOU_CODE_FORMAT
        ));
        assert_eq!(v.record.expect("record").hukou_code, None);
    }

    #[test]
    fn malformed_hukou_code_without_address_is_a_warning_too() {
        let mut r = good_row();
        r.set(Column::HukouCode, "990102");
        r.cells[Column::HukouAddress.index()] = None;
        let v = check(&r);
        assert!(warned_with(
            &v,
            Column::HukouCode,
            reason::HUKOU_CODE_FORMAT
        ));
        let rec = v.record.expect("accepted");
        assert_eq!((rec.hukou_code, rec.hukou_address), (None, None));
    }

    #[test]
    fn row_without_any_hukou_is_accepted_with_a_warning() {
        let mut r = good_row();
        r.cells[Column::HukouCode.index()] = None;
        r.cells[Column::HukouAddress.index()] = None;
        let v = check(&r);
        assert!(warned_with(&v, Column::HukouCode, reason::HUKOU_MISSING));
        let rec = v.record.expect("accepted");
        assert_eq!((rec.hukou_code, rec.hukou_address), (None, None));
    }

    #[test]
    fn rejects_too_long_hukou_address() {
        let v = with(Column::HukouAddress, &"路".repeat(201));
        assert!(rejected_with(&v, Column::HukouAddress, reason::TOO_LONG));
    }

    #[test]
    fn accepts_mobile_and_fixed_phones() {
        for (value, stored) in [
            ("13812345678", "13812345678"),
            ("+86 138 1234 5678", "13812345678"),
            ("86-138-1234-5678", "13812345678"),
            ("0531-88888888", "0531-88888888"),
            ("010-12345678-123", "010-12345678-123"),
            ("(010)12345678", "(010)12345678"),
            ("053188888888", "053188888888"),
        ] {
            let v = with(Column::Phone, value);
            assert!(v.problems.is_empty(), "{value}: {:?}", v.problems);
            assert_eq!(v.record.expect(value).phone.as_deref(), Some(stored));
        }
    }

    #[test]
    fn bad_phone_is_a_warning_and_kept() {
        for value in ["12345678901", "1381234567", "88888888", "电话"] {
            let v = with(Column::Phone, value);
            assert!(
                warned_with(&v, Column::Phone, reason::PHONE_FORMAT),
                "{value}"
            );
            assert_eq!(v.record.expect(value).phone.as_deref(), Some(value));
        }
    }

    #[test]
    fn bad_email_is_a_warning_and_kept() {
        for value in [
            "zhangsan",
            "zhang@qq",
            "zhang@qq。com",
            "a@@b.cn",
            "a b@c.cn",
        ] {
            let v = with(Column::Email, value);
            assert!(
                warned_with(&v, Column::Email, reason::EMAIL_FORMAT),
                "{value}"
            );
        }
        for value in ["a.b+c@mail.sdu.edu.cn", "12345@qq.com"] {
            assert!(with(Column::Email, value).problems.is_empty(), "{value}");
        }
    }

    #[test]
    fn hardship_is_split_and_canonicalised() {
        let v = with(Column::Hardship, "残疾人、低保；建档立卡,低保家庭");
        assert!(v.problems.is_empty(), "{:?}", v.problems);
        assert_eq!(
            v.record.expect("record").hardship.as_deref(),
            Some("低保家庭;残疾;脱贫家庭")
        );
        assert_eq!(
            with(Column::Hardship, "无")
                .record
                .expect("record")
                .hardship,
            None
        );
    }

    #[test]
    fn unknown_hardship_item_is_dropped_with_warning() {
        let v = with(Column::Hardship, "低保家庭;单亲家庭");
        assert!(warned_with(&v, Column::Hardship, reason::HARDSHIP_UNKNOWN));
        assert_eq!(v.problems[0].value, "单亲家庭");
        assert_eq!(
            v.record.expect("record").hardship.as_deref(),
            Some("低保家庭")
        );
    }

    #[test]
    fn over_long_cell_is_rejected_and_truncated_in_report() {
        let huge = "x".repeat(10_000);
        let v = with(Column::Email, &huge);
        assert!(rejected_with(&v, Column::Email, reason::TOO_LONG));
        let p = &v.problems[0];
        assert_eq!(p.value.chars().count(), 101);
        assert!(p.value.ends_with('…'));
        // A too-long required cell is not also reported as empty.
        let v = with(Column::Name, &huge);
        assert_eq!(
            codes(&v),
            [(Column::Name, reason::TOO_LONG, Severity::Reject)]
        );
    }

    #[test]
    fn reports_every_problem_of_a_row() {
        let mut r = good_row();
        r.set(Column::Name, "张 三");
        r.set(Column::IdNumber, "110105194912310023");
        r.set(Column::EducationLevel, "研究生");
        r.set(Column::SchoolCode, "123");
        r.set(Column::GraduationDate, "2030-01-01");
        r.set(Column::Phone, "123");
        r.cells[Column::MajorName.index()] = None;
        let v = check(&r);
        assert!(v.record.is_none());
        assert_eq!(
            codes(&v),
            [
                (Column::Name, reason::NAME_SPACE, Severity::Reject),
                (Column::IdNumber, ErrorCode::IdChecksum, Severity::Reject),
                (
                    Column::EducationLevel,
                    reason::CODE_UNKNOWN,
                    Severity::Reject
                ),
                (
                    Column::SchoolCode,
                    reason::SCHOOL_CODE_FORMAT,
                    Severity::Reject
                ),
                (Column::MajorName, reason::REQUIRED, Severity::Reject),
                (
                    Column::GraduationDate,
                    reason::DATE_FUTURE,
                    Severity::Reject
                ),
                (Column::Phone, reason::PHONE_FORMAT, Severity::Warning),
            ]
        );
    }

    #[test]
    fn duplicate_in_file_names_the_earlier_row() {
        let p = Problem::duplicate_in_file("370102199906151239", 12);
        assert_eq!(p.code, "DUPLICATE_IN_FILE");
        assert_eq!(p.column, Column::IdNumber);
        assert_eq!(p.message, "证件号码：与第 12 行重复");
        assert_eq!(p.severity, Severity::Reject);
    }

    #[test]
    fn column_table_matches_the_spec() {
        assert_eq!(Column::ALL.len(), 19);
        for (i, c) in Column::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(Column::from_header(c.header_zh()), Some(c));
            assert_eq!(Column::from_header(c.key()), Some(c));
            assert_eq!(Column::from_header(&c.key().to_uppercase()), Some(c));
        }
        assert_eq!(Column::IdNumber.key(), "id_number");
        assert_eq!(Column::HukouCode.header_zh(), "生源地代码");
        assert!(!Column::HukouCode.required() && !Column::HukouAddress.required());
    }

    #[test]
    fn maps_header_variants() {
        for (h, c) in [
            (" 姓名* ", Column::Name),
            ("*姓名", Column::Name),
            ("姓　名", Column::Name),
            ("证件号码（必填）", Column::IdNumber),
            ("身份证号", Column::IdNumber),
            ("身份证号码", Column::IdNumber),
            ("毕业院校", Column::SchoolName),
            ("户籍地址", Column::HukouAddress),
            ("手机号码", Column::Phone),
            ("生源地", Column::HukouAddress),
            ("生源地行政区划代码", Column::HukouCode),
            ("ID_Number", Column::IdNumber),
            ("ｈｕｋｏｕ＿ｃｏｄｅ", Column::HukouCode),
        ] {
            assert_eq!(Column::from_header(h), Some(c), "{h}");
        }
        assert_eq!(Column::from_header("备注"), None);
        assert_eq!(Column::from_header(""), None);
    }

    proptest! {
        #[test]
        fn validate_never_panics_and_rejects_iff_no_record(
            cells in prop::collection::vec(prop::option::of("\\PC{0,30}"), 19),
        ) {
            let mut r = RawRow::new(2);
            for (i, c) in cells.into_iter().enumerate() {
                r.cells[i] = c;
            }
            let v = check(&r);
            let rejected = v.problems.iter().any(|p| p.severity == Severity::Reject);
            prop_assert_eq!(v.record.is_none(), rejected);
            for p in &v.problems {
                prop_assert!(p.value.chars().count() <= MAX_PROBLEM_VALUE_CHARS + 1);
            }
        }

        #[test]
        fn single_garbled_cell_never_panics(i in 0usize..19, value in "\\PC{0,40}") {
            let mut r = good_row();
            r.cells[i] = Some(value);
            let v = check(&r);
            let rejected = v.problems.iter().any(|p| p.severity == Severity::Reject);
            prop_assert_eq!(v.record.is_none(), rejected);
            if let Some(rec) = v.record {
                if let Some(code) = rec.hukou_code {
                    prop_assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
                }
            }
        }

        #[test]
        fn from_header_never_panics(h in "\\PC{0,30}") {
            let _ = Column::from_header(&h);
        }
    }
}
