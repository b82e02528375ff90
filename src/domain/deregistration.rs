//! The 失业登记退出 (deregistration) record of the 人社厅发〔2020〕79号 annex: its eleven fields, the
//! exit-reason codes (AJC00A), every check the annex lists, and the record's CSV file.
//!
//! The annex (《失业登记退出数据上报对接方案》, 二、数据指标要求) is the contract of the ministry
//! platform's upload interface: the hub checks every record it writes and every record a local
//! system sends against it, and lists all the breaches of a record at once so that a clerk fixes
//! them in one pass. Lengths count characters, not bytes: the annex counts a Chinese name of
//! 50 characters as 50, whatever its UTF-8 size.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;

use crate::domain::codes::CodeTable;
use crate::domain::division::{DivisionCode, DivisionTable};
use crate::domain::id_number::check_char;

/// The annex's fields in the annex's order; also the header of the file, exactly.
pub const FIELDS: [&str; 11] = [
    "AAB301", "AAZ341", "AAC003", "AAC002", "AAC058", "AAC044", "ADC210", "AJC00A", "AAE011",
    "AAE036", "AAE013",
];

/// 性别: not one of the annex's fields (see [`DeregistrationRecord::aac004`]).
pub const SEX_FIELD: &str = "AAC004";

/// The one field the annex marks as optional (备注).
const OPTIONAL_FIELD: &str = "AAE013";

/// The three situations code 24 groups together; only 移居境外 is exempt from the notice.
pub const REASON_24_DETAILS: [&str; 3] = ["入学", "应征服兵役", "移居境外"];

/// The annex's 指标名称 of a field code (and 性别 for `AAC004`); `""` for any other code.
pub fn field_name_zh(code: &str) -> &'static str {
    match code {
        "AAB301" => "失业登记注销地行政区划代码",
        "AAZ341" => "系统流水号",
        "AAC003" => "姓名",
        "AAC002" => "社会保障号码",
        "AAC058" => "证件类型",
        "AAC044" => "证件号码",
        "ADC210" => "注销失业登记时间",
        "AJC00A" => "注销失业登记原因",
        "AAE011" => "经办人",
        "AAE036" => "经办日期",
        "AAE013" => "备注",
        "AAC004" => "性别",
        _ => "",
    }
}

/// The field's name in English messages.
fn field_name_en(code: &str) -> &'static str {
    match code {
        "AAB301" => "deregistering area code",
        "AAZ341" => "system serial number",
        "AAC003" => "name",
        "AAC002" => "social security number",
        "AAC058" => "certificate type",
        "AAC044" => "certificate number",
        "ADC210" => "deregistration date",
        "AJC00A" => "deregistration reason",
        "AAE011" => "handled by",
        "AAE036" => "handling date",
        "AAE013" => "remarks",
        "AAC004" => "sex",
        _ => "field",
    }
}

/// The annex's 指标长度 in characters. The two dates (type D) are checked by their format,
/// `YYYYMMDD`, which fixes their length; the annex gives ADC210 a length of 8 and AAE036 none.
fn max_chars(code: &str) -> Option<usize> {
    match code {
        "AAB301" => Some(6),
        "AAZ341" => Some(18),
        "AAC003" => Some(50),
        "AAC002" => Some(18),
        "AAC058" => Some(2),
        "AAC044" => Some(22),
        "AJC00A" => Some(2),
        "AAE011" => Some(20),
        "AAE013" => Some(100),
        _ => None,
    }
}

/// One deregistration as the annex defines it, named by the annex's codes in JSON.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct DeregistrationRecord {
    /// 失业登记注销地行政区划代码: the six-digit division of the deregistering area.
    #[serde(rename = "AAB301")]
    pub aab301: String,
    /// 系统流水号: the local system's id of the deregistration, unique with AAB301.
    #[serde(rename = "AAZ341")]
    pub aaz341: String,
    /// 姓名.
    #[serde(rename = "AAC003")]
    pub aac003: String,
    /// 社会保障号码: the citizen ID number, or a number starting with letters for foreigners.
    #[serde(rename = "AAC002")]
    pub aac002: String,
    /// 证件类型 (code table AAC058, e.g. `01` 居民身份证).
    #[serde(rename = "AAC058")]
    pub aac058: String,
    /// 证件号码.
    #[serde(rename = "AAC044")]
    pub aac044: String,
    /// 注销失业登记时间, `YYYYMMDD`.
    #[serde(rename = "ADC210")]
    pub adc210: String,
    /// 注销失业登记原因 (code table AJC00A).
    #[serde(rename = "AJC00A")]
    pub ajc00a: String,
    /// 经办人.
    #[serde(rename = "AAE011")]
    pub aae011: String,
    /// 经办日期, `YYYYMMDD`.
    #[serde(rename = "AAE036")]
    pub aae036: String,
    /// 备注; may be empty.
    #[serde(rename = "AAE013", default)]
    pub aae013: String,
    /// 性别 (`1` male, `2` female). Not a field of the annex, whose record has no sex field, so
    /// never written to the file: accepted on received records only, so that the annex's rule
    /// 公民身份号码与性别相符 can be checked.
    #[serde(rename = "AAC004", default, skip_serializing_if = "Option::is_none")]
    pub aac004: Option<String>,
}

impl DeregistrationRecord {
    /// The value of one of the annex's fields (or `AAC004`, empty when not given).
    pub fn field(&self, code: &str) -> Option<&str> {
        Some(match code {
            "AAB301" => &self.aab301,
            "AAZ341" => &self.aaz341,
            "AAC003" => &self.aac003,
            "AAC002" => &self.aac002,
            "AAC058" => &self.aac058,
            "AAC044" => &self.aac044,
            "ADC210" => &self.adc210,
            "AJC00A" => &self.ajc00a,
            "AAE011" => &self.aae011,
            "AAE036" => &self.aae036,
            "AAE013" => &self.aae013,
            "AAC004" => self.aac004.as_deref().unwrap_or_default(),
            _ => return None,
        })
    }

    fn set(&mut self, code: &str, value: String) {
        match code {
            "AAB301" => self.aab301 = value,
            "AAZ341" => self.aaz341 = value,
            "AAC003" => self.aac003 = value,
            "AAC002" => self.aac002 = value,
            "AAC058" => self.aac058 = value,
            "AAC044" => self.aac044 = value,
            "ADC210" => self.adc210 = value,
            "AJC00A" => self.ajc00a = value,
            "AAE011" => self.aae011 = value,
            "AAE036" => self.aae036 = value,
            "AAE013" => self.aae013 = value,
            "AAC004" => self.aac004 = (!value.is_empty()).then_some(value),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The exit-reason code table (AJC00A)
// ---------------------------------------------------------------------------------------------

const EXIT_REASON_CSV: &str = include_str!("../../fixtures/codes/unemployment/exit_reason.csv");

// Compiled in and checked by `exit_reason_table_is_the_annex`; a failure here is a build defect,
// never a property of user input.
static EXIT_REASONS: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| match parse_code_name(EXIT_REASON_CSV) {
        Ok(rows) => rows,
        Err(e) => panic!("embedded code table fixtures/codes/unemployment/exit_reason.csv: {e}"),
    });

/// `code,name` rows after a header line; the error names the line.
fn parse_code_name(csv: &'static str) -> Result<Vec<(&'static str, &'static str)>, String> {
    let mut rows: Vec<(&'static str, &'static str)> = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((code, name)) = line.split_once(',') else {
            return Err(format!("line {}: expected code,name", i + 1));
        };
        let (code, name) = (code.trim(), name.trim());
        if code.is_empty() || name.is_empty() || name.contains(',') {
            return Err(format!("line {}: expected code,name", i + 1));
        }
        if rows.iter().any(|(c, _)| *c == code) {
            return Err(format!("line {}: code {code} listed twice", i + 1));
        }
        rows.push((code, name));
    }
    if rows.is_empty() {
        return Err("no rows".to_string());
    }
    Ok(rows)
}

/// Every (code, name) of AJC00A in the annex's order.
pub fn exit_reasons() -> &'static [(&'static str, &'static str)] {
    &EXIT_REASONS
}

/// The annex's name of an exit-reason code (exact code, e.g. `24`); `None` if not in the table.
pub fn exit_reason_name(code: &str) -> Option<&'static str> {
    exit_reasons()
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// Whether the reason may not by itself justify a deregistration: 79号 §一(四) says a
/// registration must not be cancelled simply because the person refused public employment
/// services three times running (31) or could not be reached for six months (32), so such a
/// record needs the office to have verified the person's situation first.
pub fn needs_verification(code: &str) -> bool {
    matches!(code, "31" | "32")
}

/// Whether the person need not be told of the deregistration: LD/T 6009-2024 §5.4 (and the
/// 黑龙江 notice, 黑人社函) exempt 移居境外, 被判刑收监执行 (25), 死亡 (26) and 无法取得联系 (32).
/// Code 24 groups 入学、应征服兵役、移居境外, so it is exempt only when `detail` (one of
/// [`REASON_24_DETAILS`]) says 移居境外.
pub fn notice_exempt(code: &str, detail: Option<&str>) -> bool {
    match code {
        "25" | "26" | "32" => true,
        "24" => detail.map(str::trim) == Some("移居境外"),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// One rule of the annex one record breaks. `rule` is a stable id: `required`, `too_long`,
/// `spaces`, `division`, `id_length`, `id_digits`, `id_check`, `id_sex`, `code_table`,
/// `date_format`, `future_date`, `duplicate_key`. Messages name the field, and the value only
/// for codes and dates: never a name or an identifying number (a reject list travels further
/// than the record).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RuleBreach {
    /// The annex's field code, e.g. `AAC002`.
    pub field: &'static str,
    pub rule: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

fn breach(field: &'static str, rule: &'static str, zh: String, en: String) -> RuleBreach {
    RuleBreach {
        field,
        rule,
        message_zh: format!("{}（{field}）：{zh}", field_name_zh(field)),
        message_en: format!("{field} {}: {en}", field_name_en(field)),
    }
}

/// Every breach of the annex's rules by one record, in field order; empty when it may be sent.
///
/// `sex_code` (`1` male, `2` female, or 男/女) is the person's sex from the caller's own records;
/// without it the record's `AAC004` is used, and without either the ID number is not compared
/// with a sex. A record's empty or blank required field is reported as `required` and not checked
/// further. The ID rules follow the annex's list only: the birth date inside the number is not
/// one of them.
pub fn check(
    r: &DeregistrationRecord,
    today: NaiveDate,
    divisions: &DivisionTable,
    sex_code: Option<&str>,
) -> Vec<RuleBreach> {
    let mut out = Vec::new();
    let sex = resolve_sex(sex_code.or(r.aac004.as_deref()), &mut out);
    for code in FIELDS {
        let value = r.field(code).unwrap_or_default();
        if value.trim().is_empty() {
            if code != OPTIONAL_FIELD {
                out.push(breach(
                    code,
                    "required",
                    "必填，不能为空".into(),
                    "is required".into(),
                ));
            }
            continue;
        }
        if let Some(max) = max_chars(code) {
            let len = value.chars().count();
            if len > max {
                out.push(breach(
                    code,
                    "too_long",
                    format!("最多 {max} 个字符，实为 {len} 个"),
                    format!("at most {max} characters, found {len}"),
                ));
            }
        }
        match code {
            "AAB301" => check_division(value, divisions, &mut out),
            "AAC003" | "AAE011" => check_no_spaces(code, value, &mut out),
            "AAC002" => check_social_security_number(value, sex, &mut out),
            "AAC058" if CodeTable::IdType.name_of(value).is_none() => {
                out.push(not_in_table(code, value));
            }
            "ADC210" | "AAE036" => check_date(code, value, today, &mut out),
            "AJC00A" if exit_reason_name(value).is_none() => {
                out.push(not_in_table(code, value));
            }
            _ => {}
        }
    }
    // The sex breach was found first but belongs after the annex's fields.
    out.sort_by_key(|b| b.field == SEX_FIELD);
    out
}

/// [`check`] for every record of a batch (without a sex from elsewhere: each record's `AAC004`),
/// one list per record in the same order, plus `duplicate_key` on AAZ341 for a record whose
/// business key AAB301 + AAZ341 repeats an earlier record of the batch.
pub fn check_batch(
    records: &[DeregistrationRecord],
    today: NaiveDate,
    divisions: &DivisionTable,
) -> Vec<Vec<RuleBreach>> {
    let mut first_seen: HashMap<(&str, &str), usize> = HashMap::new();
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut breaches = check(r, today, divisions, None);
            // Blank keys are already `required`; they identify nothing to repeat.
            if !r.aab301.trim().is_empty() && !r.aaz341.trim().is_empty() {
                let key = (r.aab301.as_str(), r.aaz341.as_str());
                match first_seen.get(&key) {
                    Some(&first) => breaches.push(breach(
                        "AAZ341",
                        "duplicate_key",
                        format!(
                            "与本批第 {} 条记录的业务唯一标识（AAB301+AAZ341）重复",
                            first + 1
                        ),
                        format!(
                            "the key AAB301+AAZ341 repeats record {} of this batch",
                            first + 1
                        ),
                    )),
                    None => {
                        first_seen.insert(key, i);
                    }
                }
            }
            breaches
        })
        .collect()
}

fn not_in_table(field: &'static str, value: &str) -> RuleBreach {
    breach(
        field,
        "code_table",
        format!("代码 {value} 不在代码表中"),
        format!("code {value} is not in the code table"),
    )
}

/// `1` or `2`; a sex given in another spelling the hub accepts (男, 女) is read as its code, and
/// an unusable one is reported instead of silently skipping the comparison.
fn resolve_sex(given: Option<&str>, out: &mut Vec<RuleBreach>) -> Option<&'static str> {
    let given = given.map(str::trim).filter(|s| !s.is_empty())?;
    let code = CodeTable::Sex.lookup(given);
    if code.is_none() {
        out.push(breach(
            SEX_FIELD,
            "code_table",
            "应为 1（男）或 2（女）".into(),
            "should be 1 (male) or 2 (female)".into(),
        ));
    }
    code
}

/// Exactly six ASCII digits, a division of the current table; the table's `99xxxx` rows are its
/// placeholders (苏鲁交界, 海域), not areas where anyone is deregistered.
fn check_division(value: &str, divisions: &DivisionTable, out: &mut Vec<RuleBreach>) {
    let shaped = value.len() == 6 && value.bytes().all(|b| b.is_ascii_digit());
    let current = shaped
        && DivisionCode::parse(value)
            .is_some_and(|code| code.province_digits() != 99 && divisions.is_current(code));
    if !shaped {
        out.push(breach(
            "AAB301",
            "division",
            "应为 6 位数字的行政区划代码".into(),
            "should be a six-digit division code".into(),
        ));
    } else if !current {
        out.push(breach(
            "AAB301",
            "division",
            format!(
                "{value} 不是现行行政区划代码（区划表 {}）",
                divisions.edition()
            ),
            format!(
                "{value} is not a current division code (division table {})",
                divisions.edition()
            ),
        ));
    }
}

/// 不能含有半角或全角空格: every Unicode space counts (U+0020, U+3000, tabs, no-break spaces),
/// since each looks like a space to the clerk who typed it.
fn check_no_spaces(field: &'static str, value: &str, out: &mut Vec<RuleBreach>) {
    if value.chars().any(char::is_whitespace) {
        out.push(breach(
            field,
            "spaces",
            "不能含有半角或全角空格".into(),
            "must not contain half-width or full-width spaces".into(),
        ));
    }
}

/// The annex's five rules for 社会保障号码 whose first character is not a letter (a citizen ID
/// number); numbers that start with a letter (foreigners') are checked for length only.
fn check_social_security_number(value: &str, sex: Option<&str>, out: &mut Vec<RuleBreach>) {
    if value.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return;
    }
    let chars: Vec<char> = value.chars().collect();
    let digits_up_to = |n: usize| chars[..n].iter().all(char::is_ascii_digit);
    let sex_digit = match chars.len() {
        15 => {
            if !digits_up_to(15) {
                out.push(breach(
                    "AAC002",
                    "id_digits",
                    "15 位公民身份号码不能含有非数字字符".into(),
                    "a 15-character citizen ID number must be all digits".into(),
                ));
                return;
            }
            chars[14]
        }
        18 => {
            if !digits_up_to(17) {
                out.push(breach(
                    "AAC002",
                    "id_digits",
                    "18 位公民身份号码前 17 位不能含有非数字字符".into(),
                    "the first 17 characters of an 18-character citizen ID number must be digits"
                        .into(),
                ));
                return;
            }
            let first17: String = chars[..17].iter().collect();
            let found = chars[17];
            // GB 11643 writes the check character 10 as upper-case X; the platform compares
            // characters, so a lower-case x is refused here rather than there.
            if let Some(expected) = check_char(&first17).filter(|e| *e != found) {
                out.push(breach(
                    "AAC002",
                    "id_check",
                    format!("第 18 位校验码应为 {expected}，实为 {found}"),
                    format!("the check character (18th) should be {expected}, found {found}"),
                ));
            }
            chars[16]
        }
        len => {
            out.push(breach(
                "AAC002",
                "id_length",
                format!("首位不是字母的，长度应为 15 或 18 位，实为 {len} 位"),
                format!(
                    "a number not starting with a letter must have 15 or 18 characters, found {len}"
                ),
            ));
            return;
        }
    };
    let Some(sex) = sex else { return };
    let odd = sex_digit.to_digit(10).is_some_and(|d| d % 2 == 1);
    let id_sex = if odd { "1" } else { "2" };
    if id_sex != sex {
        let (zh, en) = if odd {
            ("男", "male")
        } else {
            ("女", "female")
        };
        out.push(breach(
            "AAC002",
            "id_sex",
            format!("公民身份号码的性别（{zh}）与性别不符"),
            format!("the citizen ID number says {en}, which disagrees with the sex given"),
        ));
    }
}

/// 格式为 YYYYMMDD 的有效日期, 早于或等于系统当前日期.
fn check_date(field: &'static str, value: &str, today: NaiveDate, out: &mut Vec<RuleBreach>) {
    match yyyymmdd(value) {
        None => out.push(breach(
            field,
            "date_format",
            format!("{value} 不是格式为 YYYYMMDD 的有效日期"),
            format!("{value} is not a valid date in the form YYYYMMDD"),
        )),
        Some(date) if date > today => out.push(breach(
            field,
            "future_date",
            format!("{value} 晚于当前日期 {}", today.format("%Y%m%d")),
            format!("{value} is after today ({})", today.format("%Y%m%d")),
        )),
        Some(_) => {}
    }
}

/// Exactly eight ASCII digits that make a calendar date; nothing else (no separators, no Excel
/// serials): the annex fixes the form.
fn yyyymmdd(value: &str) -> Option<NaiveDate> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = value[..4].parse().ok()?;
    let month = value[4..6].parse().ok()?;
    let day = value[6..].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

// ---------------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------------

/// The upload file: UTF-8 with a BOM (so that Excel shows the Chinese text), the annex's eleven
/// codes as the header in the annex's order, one line per record ending in CRLF, quoted where the
/// `csv` crate must. Values are written as they are: this is an interface file, so nothing is
/// escaped for spreadsheets, and `AAC004` (not an annex field) is left out.
pub fn write_csv(records: &[DeregistrationRecord]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(&mut out);
    let written = (|| -> csv::Result<()> {
        writer.write_record(FIELDS)?;
        for r in records {
            writer.write_record(FIELDS.map(|code| r.field(code).unwrap_or_default()))?;
        }
        writer.flush()?;
        Ok(())
    })();
    drop(writer);
    if let Err(e) = written {
        // The writer writes into memory and every row has the header's eleven fields: the csv
        // crate has no other way to fail.
        unreachable!("writing CSV into memory failed: {e}");
    }
    out
}

/// Reads an upload file: a header of the annex's codes (any order, any case, the BOM optional,
/// `AAE013` and `AAC004` columns optional) and one record per line. Files in UTF-8, or in
/// GB18030 (GBK) as Chinese Excel saves CSV, are read by the same rule as the transfer-file
/// sniffer (`ingest::sniff`): valid UTF-8 is UTF-8, a file without BOM that is not is GB18030, a
/// file mixing the two is refused. An unknown, repeated or missing column refuses the file; the
/// values are checked by [`check`], not here.
pub fn read_csv(bytes: &[u8]) -> Result<Vec<DeregistrationRecord>, String> {
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = reader.records();
    let header = match rows.next() {
        None => {
            return Err(
                "文件是空的，没有表头。/ The file is empty: it has no header row.".to_string(),
            )
        }
        Some(row) => row.map_err(|e| csv_error(&text, &e))?,
    };
    let columns = map_header(&header)?;
    let mut records = Vec::new();
    for row in rows {
        let row = row.map_err(|e| csv_error(&text, &e))?;
        if row.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if row.len() != columns.len() {
            let line = line_of(&text, row.position());
            return Err(format!(
                "第 {line} 行有 {} 列，表头有 {} 列。/ Line {line} has {} fields, the header has {}.",
                row.len(),
                columns.len(),
                row.len(),
                columns.len()
            ));
        }
        let mut record = DeregistrationRecord::default();
        for (code, cell) in columns.iter().zip(row.iter()) {
            record.set(code, cell.to_string());
        }
        records.push(record);
    }
    Ok(records)
}

/// The field code of each column, or why the header is refused.
fn map_header(header: &csv::StringRecord) -> Result<Vec<&'static str>, String> {
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    for cell in header.iter() {
        let name = cell
            .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
            .to_ascii_uppercase();
        match FIELDS
            .iter()
            .chain([SEX_FIELD].iter())
            .find(|code| **code == name)
        {
            Some(code) if columns.contains(code) => {
                return Err(format!(
                    "表头中 {code} 列出现了两次。/ The header names column {code} twice."
                ))
            }
            Some(code) => columns.push(*code),
            None => unknown.push(cell.trim().to_string()),
        }
    }
    if !unknown.is_empty() {
        let list = unknown.join("、");
        return Err(format!(
            "表头中有不认识的列：{list}。只接受附件规定的指标编码（{}）及 AAC004。/ Unknown columns in the header: {}. Only the annex's field codes ({}) and AAC004 are accepted.",
            FIELDS.join(","),
            unknown.join(", "),
            FIELDS.join(",")
        ));
    }
    let missing: Vec<&str> = FIELDS
        .iter()
        .filter(|code| **code != OPTIONAL_FIELD && !columns.contains(code))
        .copied()
        .collect();
    if !missing.is_empty() {
        let zh: Vec<String> = missing
            .iter()
            .map(|code| format!("{code}（{}）", field_name_zh(code)))
            .collect();
        return Err(format!(
            "缺少必填列：{}。/ Required columns missing: {}.",
            zh.join("、"),
            missing.join(", ")
        ));
    }
    Ok(columns)
}

fn csv_error(text: &str, e: &csv::Error) -> String {
    let line = line_of(text, e.position());
    format!("第 {line} 行无法按 CSV 读取。/ Line {line} cannot be read as CSV: {e}")
}

/// The line of the file a record starts on, as an editor numbers it. The `csv` crate's own line
/// count lags by one after CRLF line ends (the LF is read as the start of the next record), so
/// it is counted here from the byte offset, past any line ends the offset still points at.
fn line_of(text: &str, position: Option<&csv::Position>) -> usize {
    let Some(position) = position else { return 0 };
    let bytes = text.as_bytes();
    let mut start = usize::try_from(position.byte())
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        start += 1;
    }
    1 + bytes[..start].iter().filter(|b| **b == b'\n').count()
}

/// The file's text: UTF-8 (BOM optional) or, without a BOM, GB18030 when no line is UTF-8 text.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) || bytes.contains(&0) {
        return Err(
            "文件不是 UTF-8 或 GB18030 编码的 CSV 文本（可能是 UTF-16 或二进制文件），请另存为 CSV UTF-8 后重新提交。/ The file is not CSV text in UTF-8 or GB18030 (perhaps UTF-16 or binary); save it as CSV UTF-8 and send it again."
                .to_string(),
        );
    }
    let (body, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(body) => (body, true),
        None => (bytes, false),
    };
    if let Ok(text) = std::str::from_utf8(body) {
        return Ok(Cow::Borrowed(text));
    }
    // Judged line by line as the sniffer does, so that a file half UTF-8 and half GBK is refused
    // instead of half of it turning into mojibake.
    let mut utf8_text_line = false;
    let mut first_invalid = 0;
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(_) if !line.is_ascii() => utf8_text_line = true,
            Ok(_) => {}
            Err(_) if first_invalid == 0 => first_invalid = i + 1,
            Err(_) => {}
        }
    }
    if bom || utf8_text_line {
        return Err(format!(
            "文件第 {first_invalid} 行不是 UTF-8 编码，与其他行编码不一致，请统一另存为 CSV UTF-8 后重新提交。/ Line {first_invalid} is not UTF-8 while the rest of the file is; save the whole file as CSV UTF-8 and send it again."
        ));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
    if had_errors {
        return Err(
            "文件既不是 UTF-8 也不是 GB18030 编码。/ The file is neither UTF-8 nor GB18030."
                .to_string(),
        );
    }
    Ok(text)
}

/// A received record from JSON read field by field: a string as it is, a number as its digits,
/// a missing field or `null` as empty (the `required` rule then answers it), anything else (an
/// object, a list, true/false) as its JSON text, which the field's rules refuse.
pub fn lenient_record(value: &serde_json::Value) -> DeregistrationRecord {
    let text = |code: &str| -> String {
        match value.get(code) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(other) => other.to_string(),
        }
    };
    let sex = text(SEX_FIELD);
    DeregistrationRecord {
        aab301: text("AAB301"),
        aaz341: text("AAZ341"),
        aac003: text("AAC003"),
        aac002: text("AAC002"),
        aac058: text("AAC058"),
        aac044: text("AAC044"),
        adc210: text("ADC210"),
        ajc00a: text("AJC00A"),
        aae011: text("AAE011"),
        aae036: text("AAE036"),
        aae013: text("AAE013"),
        aac004: Some(sex).filter(|s| !s.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static DIVISIONS: LazyLock<DivisionTable> = LazyLock::new(DivisionTable::embedded);

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 7, 1).expect("test date")
    }

    /// A record that breaks no rule: a man (odd 17th digit) deregistered in 济南市历下区.
    fn valid() -> DeregistrationRecord {
        DeregistrationRecord {
            aab301: "370102".into(),
            aaz341: "370102202607010001".into(),
            aac003: "张三".into(),
            aac002: "370102199906151239".into(),
            aac058: "01".into(),
            aac044: "370102199906151239".into(),
            adc210: "20260630".into(),
            ajc00a: "11".into(),
            aae011: "李四".into(),
            aae036: "20260701".into(),
            aae013: String::new(),
            aac004: None,
        }
    }

    fn breaches(r: &DeregistrationRecord) -> Vec<RuleBreach> {
        check(r, today(), &DIVISIONS, None)
    }

    /// The (field, rule) pairs of a record's breaches.
    fn rules(r: &DeregistrationRecord) -> Vec<(&'static str, &'static str)> {
        breaches(r).iter().map(|b| (b.field, b.rule)).collect()
    }

    fn with(change: impl FnOnce(&mut DeregistrationRecord)) -> DeregistrationRecord {
        let mut r = valid();
        change(&mut r);
        r
    }

    /// An 18-digit number with a correct check character.
    fn id18(first17: &str) -> String {
        format!("{first17}{}", check_char(first17).expect("17 digits"))
    }

    #[test]
    fn a_valid_record_passes() {
        assert_eq!(breaches(&valid()), vec![]);
        let noted = with(|r| r.aae013 = "备".repeat(100));
        assert_eq!(breaches(&noted), vec![]);
    }

    #[test]
    fn every_required_field_is_required_but_remarks() {
        for code in FIELDS {
            let mut r = valid();
            r.set(code, String::new());
            let found = rules(&r);
            if code == "AAE013" {
                assert_eq!(found, vec![], "{code}");
            } else {
                assert_eq!(found, vec![(code, "required")], "{code}");
            }
        }
        let blank = with(|r| r.aac003 = " \u{3000}".into());
        assert_eq!(rules(&blank), vec![("AAC003", "required")]);
    }

    #[test]
    fn all_breaches_are_listed_not_just_the_first() {
        let r = DeregistrationRecord::default();
        assert_eq!(breaches(&r).len(), 10);
        let r = with(|r| {
            r.aac003 = "张 三".into();
            r.ajc00a = "22".into();
            r.aae036 = "20260230".into();
        });
        assert_eq!(
            rules(&r),
            vec![
                ("AAC003", "spaces"),
                ("AJC00A", "code_table"),
                ("AAE036", "date_format"),
            ]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let fifty = with(|r| r.aac003 = "张".repeat(50));
        assert_eq!(rules(&fifty), vec![]);
        let long = with(|r| r.aac003 = "张".repeat(51));
        assert_eq!(rules(&long), vec![("AAC003", "too_long")]);
        let b = &breaches(&long)[0];
        assert_eq!(b.message_zh, "姓名（AAC003）：最多 50 个字符，实为 51 个");
        assert_eq!(b.message_en, "AAC003 name: at most 50 characters, found 51");
    }

    #[test]
    fn each_length_of_the_annex() {
        for (code, max) in [
            ("AAZ341", 18),
            ("AAC044", 22),
            ("AAE011", 20),
            ("AAE013", 100),
        ] {
            let mut r = valid();
            r.set(code, "9".repeat(max));
            assert_eq!(rules(&r), vec![], "{code} at {max}");
            r.set(code, "9".repeat(max + 1));
            assert_eq!(rules(&r), vec![(code, "too_long")], "{code} past {max}");
        }
        let r = with(|r| r.aac058 = "011".into());
        assert_eq!(
            rules(&r),
            vec![("AAC058", "too_long"), ("AAC058", "code_table")]
        );
        let r = with(|r| r.ajc00a = "111".into());
        assert_eq!(
            rules(&r),
            vec![("AJC00A", "too_long"), ("AJC00A", "code_table")]
        );
        let r = with(|r| r.aac002 = format!("A{}", "1".repeat(18)));
        assert_eq!(rules(&r), vec![("AAC002", "too_long")]);
    }

    #[test]
    fn division_must_be_six_digits_and_current() {
        let r = with(|r| r.aab301 = "37010".into());
        assert_eq!(rules(&r), vec![("AAB301", "division")]);
        let r = with(|r| r.aab301 = "３７０１０２".into());
        assert_eq!(rules(&r), vec![("AAB301", "division")]);
        let r = with(|r| r.aab301 = "3701020".into());
        assert_eq!(
            rules(&r),
            vec![("AAB301", "too_long"), ("AAB301", "division")]
        );
        // 371202 莱城区 was abolished in 2019: not a current code.
        let r = with(|r| r.aab301 = "371202".into());
        assert_eq!(rules(&r), vec![("AAB301", "division")]);
        assert!(breaches(&r)[0].message_zh.contains("不是现行行政区划代码"));
        let r = with(|r| r.aab301 = "990000".into());
        assert_eq!(rules(&r), vec![("AAB301", "division")]);
        // A province or prefecture office deregisters too.
        let r = with(|r| r.aab301 = "370000".into());
        assert_eq!(rules(&r), vec![]);
    }

    #[test]
    fn name_and_clerk_have_no_spaces_of_any_width() {
        for bad in ["张 三", "张\u{3000}三", "张\t三", "张三 "] {
            let r = with(|r| r.aac003 = bad.into());
            assert_eq!(rules(&r), vec![("AAC003", "spaces")], "{bad:?}");
            let r = with(|r| r.aae011 = bad.into());
            assert_eq!(rules(&r), vec![("AAE011", "spaces")], "{bad:?}");
        }
        // Other fields have no such rule.
        let r = with(|r| r.aae013 = "已 核实".into());
        assert_eq!(rules(&r), vec![]);
    }

    #[test]
    fn id_length_must_be_15_or_18() {
        let r = with(|r| r.aac002 = "37010219990615123".into());
        assert_eq!(rules(&r), vec![("AAC002", "id_length")]);
        let r = with(|r| r.aac002 = "1234567890123456".into());
        assert_eq!(rules(&r), vec![("AAC002", "id_length")]);
    }

    #[test]
    fn id_18_first_17_must_be_digits() {
        let r = with(|r| r.aac002 = "3701021999061512X9".into());
        assert_eq!(rules(&r), vec![("AAC002", "id_digits")]);
        let r = with(|r| r.aac002 = "３70102199906151239".into());
        assert_eq!(rules(&r), vec![("AAC002", "id_digits")]);
    }

    #[test]
    fn id_18_check_character() {
        let r = with(|r| r.aac002 = "370102199906151238".into());
        assert_eq!(rules(&r), vec![("AAC002", "id_check")]);
        assert_eq!(
            breaches(&r)[0].message_zh,
            "社会保障号码（AAC002）：第 18 位校验码应为 9，实为 8"
        );
        // The check character 10 is written X; upper case only.
        let female = "11010519491231002X";
        let r = with(|r| {
            r.aac002 = female.into();
            r.aac004 = Some("2".into());
        });
        assert_eq!(rules(&r), vec![]);
        let r = with(|r| r.aac002 = female.to_lowercase());
        assert_eq!(rules(&r), vec![("AAC002", "id_check")]);
    }

    #[test]
    fn id_15_digits_only_and_sex_from_the_15th() {
        // 110105491231002: 15th digit 2, a woman.
        let r = with(|r| r.aac002 = "110105491231002".into());
        assert_eq!(rules(&r), vec![]);
        let r = with(|r| r.aac002 = "11010549123100X".into());
        assert_eq!(rules(&r), vec![("AAC002", "id_digits")]);
        let woman = with(|r| {
            r.aac002 = "110105491231002".into();
            r.aac004 = Some("2".into());
        });
        assert_eq!(rules(&woman), vec![]);
        let man = with(|r| {
            r.aac002 = "110105491231002".into();
            r.aac004 = Some("1".into());
        });
        assert_eq!(rules(&man), vec![("AAC002", "id_sex")]);
        let man = with(|r| r.aac002 = "110105491231003".into());
        assert_eq!(check(&man, today(), &DIVISIONS, Some("1")), vec![]);
    }

    #[test]
    fn sex_must_agree_with_the_id_number() {
        // valid() is a man: 17th digit 3.
        let r = with(|r| r.aac004 = Some("2".into()));
        assert_eq!(rules(&r), vec![("AAC002", "id_sex")]);
        assert_eq!(
            breaches(&r)[0].message_en,
            "AAC002 social security number: the citizen ID number says male, which disagrees with the sex given"
        );
        assert_eq!(check(&valid(), today(), &DIVISIONS, Some("2")).len(), 1);
        assert_eq!(check(&valid(), today(), &DIVISIONS, Some("1")), vec![]);
        assert_eq!(check(&valid(), today(), &DIVISIONS, Some("男")), vec![]);
        // The caller's sex wins over the record's.
        let r = with(|r| r.aac004 = Some("2".into()));
        assert_eq!(check(&r, today(), &DIVISIONS, Some("1")), vec![]);
        let woman = with(|r| r.aac002 = id18("37010219990615124"));
        assert_eq!(check(&woman, today(), &DIVISIONS, Some("1")).len(), 1);
        assert_eq!(check(&woman, today(), &DIVISIONS, Some("2")), vec![]);
        // Without a sex there is nothing to compare.
        assert_eq!(rules(&woman), vec![]);
    }

    #[test]
    fn an_unusable_sex_is_reported() {
        let r = with(|r| r.aac004 = Some("9".into()));
        assert_eq!(rules(&r), vec![("AAC004", "code_table")]);
        let r = with(|r| {
            r.aac004 = Some("9".into());
            r.aac003 = String::new();
        });
        assert_eq!(
            rules(&r),
            vec![("AAC003", "required"), ("AAC004", "code_table")]
        );
    }

    #[test]
    fn a_number_starting_with_a_letter_skips_the_id_rules() {
        for foreign in ["Usa123", "GBR9876543210XYZ", "a1"] {
            let r = with(|r| {
                r.aac002 = foreign.into();
                r.aac058 = "07".into();
                r.aac004 = Some("2".into());
            });
            assert_eq!(rules(&r), vec![], "{foreign}");
        }
    }

    #[test]
    fn certificate_type_in_the_table_exactly() {
        for ok in ["01", "07", "90", "99"] {
            let r = with(|r| r.aac058 = ok.into());
            assert_eq!(rules(&r), vec![], "{ok}");
        }
        // 1 for 01 is a spelling the transfer file forgives; the annex's table is exact.
        for bad in ["1", "身份证", "00", "98"] {
            let r = with(|r| r.aac058 = bad.into());
            let found = rules(&r);
            assert!(
                found.contains(&("AAC058", "code_table")),
                "{bad}: {found:?}"
            );
        }
    }

    #[test]
    fn exit_reason_in_the_table() {
        for (code, _) in exit_reasons() {
            let r = with(|r| r.ajc00a = (*code).into());
            assert_eq!(rules(&r), vec![], "{code}");
        }
        for bad in ["22", "1", "99", "0"] {
            let r = with(|r| r.ajc00a = bad.into());
            assert_eq!(rules(&r), vec![("AJC00A", "code_table")], "{bad}");
        }
    }

    #[test]
    fn dates_real_and_not_after_today() {
        for field in ["ADC210", "AAE036"] {
            let check_one = |value: &str| {
                let mut r = valid();
                r.set(field, value.into());
                rules(&r)
            };
            assert_eq!(check_one("20260230"), vec![(field, "date_format")]);
            assert_eq!(check_one("2026-06-30"), vec![(field, "date_format")]);
            assert_eq!(check_one("2026630"), vec![(field, "date_format")]);
            assert_eq!(check_one("202606301"), vec![(field, "date_format")]);
            assert_eq!(check_one("20260702"), vec![(field, "future_date")]);
            assert_eq!(check_one("20260701"), vec![]);
            assert_eq!(check_one("20240229"), vec![]);
        }
    }

    #[test]
    fn duplicate_key_in_a_batch() {
        let first = valid();
        let other = with(|r| r.aaz341 = "370102202607010002".into());
        let same_serial_elsewhere = with(|r| r.aab301 = "370103".into());
        let repeat = with(|r| r.aac003 = "王五".into());
        let result = check_batch(
            &[first, other, same_serial_elsewhere, repeat],
            today(),
            &DIVISIONS,
        );
        assert_eq!(result.len(), 4);
        assert_eq!(result[0], vec![]);
        assert_eq!(result[1], vec![]);
        assert_eq!(result[2], vec![]);
        let found: Vec<_> = result[3].iter().map(|b| (b.field, b.rule)).collect();
        assert_eq!(found, vec![("AAZ341", "duplicate_key")]);
        assert!(result[3][0].message_zh.contains("第 1 条"));
    }

    #[test]
    fn batch_checks_each_record_with_its_own_sex() {
        let woman = with(|r| r.aac004 = Some("2".into()));
        let result = check_batch(&[valid(), woman], today(), &DIVISIONS);
        assert_eq!(result[0], vec![]);
        assert_eq!(result[1][0].rule, "id_sex");
    }

    #[test]
    fn exit_reason_table_is_the_annex() {
        let rows = parse_code_name(EXIT_REASON_CSV).expect("fixture loads");
        let codes: Vec<&str> = rows.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            codes,
            ["11", "12", "13", "14", "21", "23", "24", "25", "26", "31", "32", "90"]
        );
        assert_eq!(exit_reasons().len(), 12);
        assert_eq!(exit_reason_name("11"), Some("被各类用人单位录用或招聘"));
        assert_eq!(
            exit_reason_name("13"),
            Some("已从事有稳定收入的劳动，并且月收入不低于当地最低生活保障标准")
        );
        assert_eq!(exit_reason_name("24"), Some("入学、应征服兵役、移居境外"));
        assert_eq!(exit_reason_name("32"), Some("连续6个月无法取得联系"));
        assert_eq!(exit_reason_name("90"), Some("其他"));
        assert_eq!(exit_reason_name("22"), None);
        assert_eq!(exit_reason_name(" 11"), None);
    }

    #[test]
    fn code_name_loader_reports_the_bad_line() {
        assert!(parse_code_name("code,name\n11,甲\n11,乙\n")
            .expect_err("duplicate")
            .contains("line 3"));
        assert!(parse_code_name("code,name\n11\n")
            .expect_err("no name")
            .contains("line 2"));
        assert!(parse_code_name("code,name\n").is_err());
    }

    #[test]
    fn verification_and_notice() {
        assert!(needs_verification("31"));
        assert!(needs_verification("32"));
        for (code, _) in exit_reasons() {
            if !["31", "32"].contains(code) {
                assert!(!needs_verification(code), "{code}");
            }
        }
        assert!(notice_exempt("25", None));
        assert!(notice_exempt("26", None));
        assert!(notice_exempt("32", None));
        assert!(!notice_exempt("31", None));
        assert!(!notice_exempt("11", None));
        assert!(!notice_exempt("24", None));
        assert!(!notice_exempt("24", Some("入学")));
        assert!(!notice_exempt("24", Some("应征服兵役")));
        assert!(notice_exempt("24", Some("移居境外")));
        assert!(!notice_exempt("90", Some("移居境外")));
        assert_eq!(
            REASON_24_DETAILS.join("、"),
            exit_reason_name("24").expect("24")
        );
    }

    #[test]
    fn field_names() {
        assert_eq!(field_name_zh("AAB301"), "失业登记注销地行政区划代码");
        assert_eq!(field_name_zh("AJC00A"), "注销失业登记原因");
        assert_eq!(field_name_zh("AAC004"), "性别");
        assert_eq!(field_name_zh("XXX"), "");
        for code in FIELDS {
            assert!(!field_name_zh(code).is_empty(), "{code}");
            assert_ne!(field_name_en(code), "field", "{code}");
        }
    }

    #[test]
    fn json_uses_the_annex_codes() {
        let json = serde_json::to_value(valid()).expect("serialises");
        let keys: Vec<&String> = json.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 11);
        assert_eq!(json["AJC00A"], "11");
        assert!(json.get("AAC004").is_none());
        let received: DeregistrationRecord = serde_json::from_value(serde_json::json!({
            "AAB301": "370102", "AAZ341": "1", "AAC003": "张三",
            "AAC002": "370102199906151239", "AAC058": "01", "AAC044": "370102199906151239",
            "ADC210": "20260630", "AJC00A": "11", "AAE011": "李四", "AAE036": "20260701",
            "AAC004": "1"
        }))
        .expect("deserialises without AAE013");
        assert_eq!(received.aae013, "");
        assert_eq!(received.aac004.as_deref(), Some("1"));
    }

    #[test]
    fn csv_header_is_exact() {
        let bytes = write_csv(&[]);
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(
            text,
            "\u{feff}AAB301,AAZ341,AAC003,AAC002,AAC058,AAC044,ADC210,AJC00A,AAE011,AAE036,AAE013\r\n"
        );
        let text = String::from_utf8(write_csv(&[valid()])).expect("utf-8");
        let first = text.split("\r\n").next().expect("a line");
        assert_eq!(
            first,
            "\u{feff}AAB301,AAZ341,AAC003,AAC002,AAC058,AAC044,ADC210,AJC00A,AAE011,AAE036,AAE013"
        );
        assert!(text.ends_with("\r\n"));
        assert!(!text.contains("AAC004"));
    }

    #[test]
    fn csv_round_trip() {
        let records = vec![
            valid(),
            with(|r| {
                r.aaz341 = "2".into();
                r.aae013 = "含,逗号 和 \"引号\"\n及换行".into();
            }),
        ];
        let bytes = write_csv(&records);
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        assert!(
            text.contains("\"含,逗号 和 \"\"引号\"\"\n及换行\""),
            "{text}"
        );
        assert_eq!(read_csv(&bytes).expect("reads back"), records);
    }

    #[test]
    fn csv_read_accepts_any_order_case_and_sex() {
        let text = "aac004,AAE036,AAE011,AJC00A,ADC210,AAC044,AAC058,AAC002,AAC003,AAZ341,aab301\n\
                    1,20260701,李四,11,20260630,370102199906151239,01,370102199906151239,张三,370102202607010001,370102\n\
                    \n";
        let records = read_csv(text.as_bytes()).expect("reads");
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0],
            with(|r| r.aac004 = Some("1".into())),
            "AAE013 column absent: empty"
        );
    }

    #[test]
    fn csv_read_refuses_bad_headers() {
        let unknown =
            "AAB301,AAZ341,AAC003,AAC002,AAC058,AAC044,ADC210,AJC00A,AAE011,AAE036,AAE013,XM\n";
        let e = read_csv(unknown.as_bytes()).expect_err("unknown column");
        assert!(
            e.contains("不认识的列：XM") && e.contains("Unknown columns"),
            "{e}"
        );
        let missing = "AAB301,AAZ341,AAC003\n";
        let e = read_csv(missing.as_bytes()).expect_err("missing columns");
        assert!(
            e.contains("AAC002（社会保障号码）") && e.contains("missing"),
            "{e}"
        );
        let twice = "AAB301,AAB301\n";
        let e = read_csv(twice.as_bytes()).expect_err("repeated column");
        assert!(e.contains("两次") && e.contains("twice"), "{e}");
        let e = read_csv(b"").expect_err("empty");
        assert!(e.contains("空") && e.contains("empty"), "{e}");
    }

    #[test]
    fn csv_read_refuses_a_short_row() {
        let mut bytes = write_csv(&[valid()]);
        bytes.extend_from_slice("370102,3\r\n".as_bytes());
        let e = read_csv(&bytes).expect_err("short row");
        assert!(e.contains("第 3 行") && e.contains("Line 3"), "{e}");
        // LF line ends, a blank line and a value over two lines before the short row.
        let text = "AAB301,AAZ341,AAC003,AAC002,AAC058,AAC044,ADC210,AJC00A,AAE011,AAE036,AAE013\n\
                    370102,1,张三,370102199906151239,01,370102199906151239,20260630,11,李四,20260701,\"两\n行\"\n\
                    \n\
                    370102,2\n";
        let e = read_csv(text.as_bytes()).expect_err("short row");
        assert!(e.contains("第 5 行"), "{e}");
    }

    #[test]
    fn csv_read_accepts_gb18030_and_refuses_mixed() {
        let text = String::from_utf8(write_csv(&[valid()])).expect("utf-8");
        let plain = text.trim_start_matches('\u{feff}');
        let (gbk, _, had_errors) = encoding_rs::GB18030.encode(plain);
        assert!(!had_errors);
        assert_eq!(read_csv(&gbk).expect("GB18030 file"), vec![valid()]);

        let mut mixed = text.into_bytes();
        let (row, _, _) = encoding_rs::GB18030.encode("370102,9,王五,,,,,,,,\r\n");
        mixed.extend_from_slice(&row);
        let e = read_csv(&mixed).expect_err("mixed encodings");
        assert!(e.contains("第 3 行"), "{e}");

        let utf16 = [0xFF, 0xFE, b'A', 0];
        assert!(read_csv(&utf16).expect_err("utf-16").contains("UTF-16"));
    }
}
