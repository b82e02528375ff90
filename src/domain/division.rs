//! Administrative divisions (GB/T 2260): the code newtype, the current division table with its
//! edition date, and the table of abolished codes and their successors.
//!
//! What lives here: parsing and validating the two CSV tables, lookups by code, parents,
//! successor chains. What does not: matching free-text addresses (`address`) and the routing
//! order (`routing`). No I/O: the shipped tables are embedded at compile time and newer editions
//! arrive as text from whoever reads the file.

use std::fmt;

use chrono::NaiveDate;
use rustc_hash::FxHashMap;

use crate::domain::text::half_width_char;

/// The edition date of the embedded division table.
pub const EMBEDDED_EDITION: &str = "2025-12-31";

const EMBEDDED_DIVISIONS: &str = include_str!("../../fixtures/divisions/divisions-2025-12-31.csv");
const EMBEDDED_SUCCESSORS: &str = include_str!("../../fixtures/divisions/successors.csv");

/// A six-digit GB/T 2260 division code. Holding one says nothing about whether the code is in
/// the current table; ask [`DivisionTable::get`] for that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode(u32);

/// Serialised as the six-digit text people read and type (`"370116"`), as in every export.
impl serde::Serialize for DivisionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl DivisionCode {
    /// Exactly six ASCII digits once full-width forms are folded and surrounding whitespace is
    /// trimmed (the same normalisation as [`crate::domain::text::clean`]). Done without
    /// allocating because the router calls it for every record.
    pub fn parse(raw: &str) -> Option<DivisionCode> {
        let trimmed = raw.trim_matches(|c: char| {
            let h = half_width_char(c);
            h.is_whitespace() || h == '\u{FEFF}'
        });
        let mut value = 0u32;
        let mut digits = 0usize;
        for c in trimmed.chars() {
            let h = half_width_char(c);
            if !h.is_ascii_digit() {
                return None;
            }
            digits += 1;
            if digits > 6 {
                return None;
            }
            value = value * 10 + (h as u32 - '0' as u32);
        }
        (digits == 6).then_some(DivisionCode(value))
    }

    /// Builds a code from its numeric value; `None` above 999999.
    pub fn from_value(value: u32) -> Option<DivisionCode> {
        (value <= 999_999).then_some(DivisionCode(value))
    }

    pub fn value(self) -> u32 {
        self.0
    }

    /// The province-level code `xx0000`.
    pub fn province_code(self) -> DivisionCode {
        DivisionCode(self.0 / 10_000 * 10_000)
    }

    /// The prefecture-level code `xxxx00`.
    pub fn prefecture_code(self) -> DivisionCode {
        DivisionCode(self.0 / 100 * 100)
    }

    /// The first two digits, e.g. 37 for Shandong.
    pub fn province_digits(self) -> u32 {
        self.0 / 10_000
    }

    /// Shape only: `xx0000`.
    pub fn is_province_shaped(self) -> bool {
        self.0.is_multiple_of(10_000)
    }

    /// Shape only: `xxxx00` but not `xx0000`.
    pub fn is_prefecture_shaped(self) -> bool {
        self.0.is_multiple_of(100) && !self.0.is_multiple_of(10_000)
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

/// The three levels the hub routes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    Prefecture,
    County,
}

impl Level {
    /// The word used in the CSV tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Prefecture => "prefecture",
            Level::County => "county",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "province" => Some(Level::Province),
            "prefecture" => Some(Level::Prefecture),
            "county" => Some(Level::County),
            _ => None,
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Province => "省级",
            Level::Prefecture => "地级",
            Level::County => "县级",
        }
    }

    /// 0 for province, 2 for county: deeper is larger.
    pub fn depth(self) -> u8 {
        match self {
            Level::Province => 0,
            Level::Prefecture => 1,
            Level::County => 2,
        }
    }
}

/// One row of the current division table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Division {
    pub code: DivisionCode,
    pub name: String,
    pub level: Level,
    /// `None` for provinces. A county governed directly by its province (`xx90xx`) has the
    /// province as parent.
    pub parent: Option<DivisionCode>,
}

/// One abolished code and the current code that took over its area.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Successor {
    pub old_code: DivisionCode,
    pub old_name: String,
    pub old_level: Level,
    pub old_parent: Option<DivisionCode>,
    /// Either a current code or another row's `old_code` (a chain).
    pub new_code: DivisionCode,
    /// The date of the approval or of its first official announcement (see the fixture README).
    pub effective: NaiveDate,
    pub note: String,
}

/// A problem in a division or successor table. `line` is the 1-based line of the CSV text, or 0
/// when the problem is not tied to one line (tables given as parts, a missing header).
#[derive(Clone, Debug)]
pub struct TableError {
    pub line: usize,
    pub message: String,
}

impl TableError {
    fn new(line: usize, message: impl Into<String>) -> TableError {
        TableError {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "第 {} 行 / line {}: {}",
                self.line, self.line, self.message
            )
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for TableError {}

/// The current division table of one edition plus the successor table, indexed for lookups.
/// Built once (at start or on import) and shared read-only.
#[derive(Clone)]
pub struct DivisionTable {
    edition: String,
    /// Sorted by code.
    divisions: Vec<Division>,
    index: FxHashMap<DivisionCode, usize>,
    children: FxHashMap<DivisionCode, Vec<DivisionCode>>,
    /// In the order given.
    successors: Vec<Successor>,
    successor_index: FxHashMap<DivisionCode, usize>,
    /// Old code -> current code at the end of its chain, resolved once when the table is built.
    resolved: FxHashMap<DivisionCode, DivisionCode>,
    /// Successor rows left out because they disagree with this edition.
    warnings: Vec<TableError>,
}

impl DivisionTable {
    /// The tables shipped with the program (edition [`EMBEDDED_EDITION`]). They are compiled in;
    /// a test proves they load, so a failure here is a build defect, not bad input.
    pub fn embedded() -> DivisionTable {
        match DivisionTable::from_csv(EMBEDDED_EDITION, EMBEDDED_DIVISIONS, EMBEDDED_SUCCESSORS) {
            Ok(table) => table,
            Err(e) => panic!("embedded division fixtures are invalid: {e}"),
        }
    }

    /// Parses and validates both tables. Errors name the CSV line.
    pub fn from_csv(
        edition: &str,
        divisions_csv: &str,
        successors_csv: &str,
    ) -> Result<DivisionTable, TableError> {
        let divisions = parse_divisions_with_lines(divisions_csv)?;
        let successors = parse_successors_with_lines(successors_csv)?;
        build(edition, divisions, successors)
    }

    /// Validates tables that were assembled elsewhere (for instance read back from storage).
    /// Errors carry line 0 and name the code instead.
    pub fn from_parts(
        edition: String,
        divisions: Vec<Division>,
        successors: Vec<Successor>,
    ) -> Result<DivisionTable, TableError> {
        let divisions = divisions.into_iter().map(|d| (0, d)).collect();
        let successors = successors.into_iter().map(|s| (0, s)).collect();
        build(&edition, divisions, successors)
    }

    /// Columns `code,name,level,parent` (order free, extra columns ignored); `parent` is
    /// `000000` or empty for provinces. Row-level checks only; the cross-row checks happen when
    /// the table is built.
    pub fn parse_divisions_csv(csv: &str) -> Result<Vec<Division>, TableError> {
        Ok(parse_divisions_with_lines(csv)?
            .into_iter()
            .map(|(_, d)| d)
            .collect())
    }

    /// Columns `old_code,old_name,old_level,old_parent,new_code,effective,note`; `effective` is
    /// `YYYY-MM-DD`. Commas inside the last column (`note`) are kept.
    pub fn parse_successors_csv(csv: &str) -> Result<Vec<Successor>, TableError> {
        Ok(parse_successors_with_lines(csv)?
            .into_iter()
            .map(|(_, s)| s)
            .collect())
    }

    pub fn edition(&self) -> &str {
        &self.edition
    }

    /// The current division with this code, if the code is current.
    pub fn get(&self, code: DivisionCode) -> Option<&Division> {
        self.index.get(&code).map(|&i| &self.divisions[i])
    }

    pub fn is_current(&self, code: DivisionCode) -> bool {
        self.index.contains_key(&code)
    }

    /// All current divisions, sorted by code.
    pub fn divisions(&self) -> impl Iterator<Item = &Division> {
        self.divisions.iter()
    }

    /// Number of current divisions.
    pub fn len(&self) -> usize {
        self.divisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.divisions.is_empty()
    }

    /// Successor rows that were left out because they disagree with this edition: the old code
    /// is current again, or the chain ends in a code that is neither current nor abolished with
    /// a successor. Empty for the embedded tables (a test checks it); an import should show them.
    pub fn warnings(&self) -> &[TableError] {
        &self.warnings
    }

    /// All successor rows in effect, in the order given.
    pub fn successors(&self) -> impl Iterator<Item = &Successor> {
        self.successors.iter()
    }

    /// The successor row whose `old_code` is this code.
    pub fn successor_row(&self, old: DivisionCode) -> Option<&Successor> {
        self.successor_index.get(&old).map(|&i| &self.successors[i])
    }

    /// The rows followed from `old` to its current code, in order (empty when `old` is not an
    /// abolished code of the table).
    pub fn successor_chain(&self, old: DivisionCode) -> Vec<&Successor> {
        let mut chain = Vec::new();
        let mut code = old;
        // Chains were checked for cycles when the table was built; the bound is belt and braces.
        while chain.len() <= self.successors.len() {
            match self.successor_row(code) {
                Some(row) => {
                    chain.push(row);
                    code = row.new_code;
                }
                None => break,
            }
        }
        chain
    }

    /// The current code that took over an abolished code, following chains. `None` when the code
    /// is current, unknown, or not in the successor table.
    pub fn current_successor(&self, old: DivisionCode) -> Option<DivisionCode> {
        self.resolved.get(&old).copied()
    }

    /// Current county-level (or prefecture-level) codes directly below a code.
    pub fn children(&self, code: DivisionCode) -> &[DivisionCode] {
        self.children.get(&code).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The province of a current code, through its parents.
    pub fn province_of(&self, code: DivisionCode) -> Option<DivisionCode> {
        let mut d = self.get(code)?;
        // Three levels at most; the bound keeps a malformed parent loop from spinning.
        for _ in 0..3 {
            if d.level == Level::Province {
                return Some(d.code);
            }
            d = self.get(d.parent?)?;
        }
        None
    }

    /// The prefecture of a current code: itself for a prefecture, the parent for a county whose
    /// parent is a prefecture, `None` for provinces and for counties governed directly by their
    /// province (`xx90xx`).
    pub fn prefecture_of(&self, code: DivisionCode) -> Option<DivisionCode> {
        let d = self.get(code)?;
        match d.level {
            Level::Province => None,
            Level::Prefecture => Some(d.code),
            Level::County => {
                let parent = self.get(d.parent?)?;
                (parent.level == Level::Prefecture).then_some(parent.code)
            }
        }
    }

    /// Names from the province down, separated by spaces: "山东省 济南市 莱芜区". A name equal to
    /// the one before it (municipalities: 北京市 北京市) is written once. Empty for a code that
    /// is not current.
    pub fn name_path(&self, code: DivisionCode) -> String {
        let mut names: Vec<&str> = Vec::with_capacity(3);
        let mut next = Some(code);
        while let Some(c) = next {
            let Some(d) = self.get(c) else { break };
            if names.last() != Some(&d.name.as_str()) {
                names.push(&d.name);
            }
            if names.len() > 3 {
                break;
            }
            next = d.parent;
        }
        names.reverse();
        names.join(" ")
    }
}

impl fmt::Debug for DivisionTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Three thousand rows are no help in a log line.
        f.debug_struct("DivisionTable")
            .field("edition", &self.edition)
            .field("divisions", &self.divisions.len())
            .field("successors", &self.successors.len())
            .field("warnings", &self.warnings.len())
            .finish()
    }
}

fn build(
    edition: &str,
    mut divisions: Vec<(usize, Division)>,
    successors: Vec<(usize, Successor)>,
) -> Result<DivisionTable, TableError> {
    let edition = edition.trim();
    if edition.is_empty() {
        return Err(TableError::new(
            0,
            "区划表版本为空 / the table edition is empty",
        ));
    }
    if divisions.is_empty() {
        return Err(TableError::new(
            0,
            "区划表没有任何区划 / the division table has no rows",
        ));
    }
    divisions.sort_by_key(|(_, d)| d.code);

    let mut index = FxHashMap::default();
    for (i, (line, d)) in divisions.iter().enumerate() {
        if index.insert(d.code, i).is_some() {
            return Err(TableError::new(
                *line,
                format!(
                    "区划代码 {} 重复 / duplicate division code {}",
                    d.code, d.code
                ),
            ));
        }
    }

    let mut children: FxHashMap<DivisionCode, Vec<DivisionCode>> = FxHashMap::default();
    for (line, d) in &divisions {
        check_division_shape(*line, d, |c| index.get(&c).map(|&i| divisions[i].1.level))?;
        if let Some(p) = d.parent {
            children.entry(p).or_default().push(d.code);
        }
    }

    // Problems of the successor table itself are errors.
    let mut seen = FxHashMap::default();
    for (line, s) in &successors {
        if s.old_code == s.new_code {
            return Err(TableError::new(
                *line,
                format!(
                    "旧代码 {} 指向自身 / old code {} points to itself",
                    s.old_code, s.old_code
                ),
            ));
        }
        if seen.insert(s.old_code, ()).is_some() {
            return Err(TableError::new(
                *line,
                format!(
                    "旧代码 {} 重复 / duplicate old code {}",
                    s.old_code, s.old_code
                ),
            ));
        }
    }

    // Rows that disagree with this edition are left out with a warning rather than refused, so
    // that a newer edition can be imported before the successor table has caught up with it
    // (a reused code, a successor abolished in turn).
    let mut warnings = Vec::new();
    let mut kept: Vec<(usize, Successor)> = Vec::with_capacity(successors.len());
    for (line, s) in successors {
        if index.contains_key(&s.old_code) {
            warnings.push(TableError::new(
                line,
                format!(
                    "旧代码 {} 仍在现行区划表中，该沿革行不生效 / old code {} is current in this edition; row ignored",
                    s.old_code, s.old_code
                ),
            ));
            continue;
        }
        kept.push((line, s));
    }
    let kept_index: FxHashMap<DivisionCode, usize> = kept
        .iter()
        .enumerate()
        .map(|(i, (_, s))| (s.old_code, i))
        .collect();

    let mut resolved = FxHashMap::default();
    for (line, s) in &kept {
        let mut code = s.new_code;
        let mut steps = 0usize;
        loop {
            if index.contains_key(&code) {
                resolved.insert(s.old_code, code);
                break;
            }
            let Some(&next) = kept_index.get(&code) else {
                warnings.push(TableError::new(
                    *line,
                    format!(
                        "{} 的后继代码 {} 不在现行区划表中，也不是其他行的旧代码，该沿革行不生效 / successor {} of {} is neither current nor another row's old code; row ignored",
                        s.old_code, code, code, s.old_code
                    ),
                ));
                break;
            };
            steps += 1;
            if steps > kept.len() {
                return Err(TableError::new(
                    *line,
                    format!(
                        "{} 的后继链成环 / the successor chain of {} is a cycle",
                        s.old_code, s.old_code
                    ),
                ));
            }
            code = kept[next].1.new_code;
        }
    }
    // A row resolves only if every row along its chain does, so dropping the others keeps
    // every chain of the table complete.
    let successors: Vec<Successor> = kept
        .into_iter()
        .filter(|(_, s)| resolved.contains_key(&s.old_code))
        .map(|(_, s)| s)
        .collect();
    let successor_index = successors
        .iter()
        .enumerate()
        .map(|(i, s)| (s.old_code, i))
        .collect();

    Ok(DivisionTable {
        edition: edition.to_string(),
        divisions: divisions.into_iter().map(|(_, d)| d).collect(),
        index,
        children,
        successors,
        successor_index,
        resolved,
        warnings,
    })
}

/// The tree rules the router relies on: a province is `xx0000` without parent; a prefecture is
/// `xxxx00` under its own province; a county is not `xxxx00` and sits under its own prefecture
/// or, for `xx90xx`-style units, directly under its province.
fn check_division_shape(
    line: usize,
    d: &Division,
    level_of: impl Fn(DivisionCode) -> Option<Level>,
) -> Result<(), TableError> {
    let code = d.code;
    let problem = match d.level {
        Level::Province => {
            if !code.is_province_shaped() {
                Some(format!(
                    "省级代码 {code} 应为 xx0000 / province code {code} must end in 0000"
                ))
            } else if d.parent.is_some() {
                Some(format!(
                    "省级区划 {code} 不应有上级 / province {code} must have parent 000000"
                ))
            } else {
                None
            }
        }
        Level::Prefecture => {
            if !code.is_prefecture_shaped() {
                Some(format!(
                    "地级代码 {code} 应为 xxxx00 / prefecture code {code} must end in 00 (not 0000)"
                ))
            } else if d.parent != Some(code.province_code())
                || level_of(code.province_code()) != Some(Level::Province)
            {
                Some(format!(
                    "地级区划 {code} 的上级应为省级区划 {} / the parent of prefecture {code} must be province {}",
                    code.province_code(),
                    code.province_code()
                ))
            } else {
                None
            }
        }
        Level::County => {
            let ok_parent = match d.parent {
                Some(p) if p == code.prefecture_code() => level_of(p) == Some(Level::Prefecture),
                Some(p) if p == code.province_code() => level_of(p) == Some(Level::Province),
                _ => false,
            };
            if code.value().is_multiple_of(100) {
                Some(format!(
                    "县级代码 {code} 不应以 00 结尾 / county code {code} must not end in 00"
                ))
            } else if !ok_parent {
                Some(format!(
                    "县级区划 {code} 的上级应为 {} 或 {}（且须在表中） / the parent of county {code} must be {} or {} and present",
                    code.prefecture_code(),
                    code.province_code(),
                    code.prefecture_code(),
                    code.province_code()
                ))
            } else {
                None
            }
        }
    };
    match problem {
        Some(message) => Err(TableError::new(line, message)),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV. The tables are simple (no quoted separators), so a line splitter is enough and keeps the
// domain free of I/O-oriented crates. It accepts what spreadsheet tools produce: a UTF-8 BOM,
// CRLF, blank lines, fields wrapped in double quotes, full-width digits.

struct CsvRow<'a> {
    line: usize,
    raw: &'a str,
    fields: Vec<&'a str>,
}

/// Header columns mapped to their positions; the data rows after it.
struct Csv<'a> {
    header_line: usize,
    columns: Vec<&'a str>,
    rows: Vec<CsvRow<'a>>,
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    if f.len() >= 2 && f.starts_with('"') && f.ends_with('"') {
        f[1..f.len() - 1].trim()
    } else {
        f
    }
}

fn read_csv(text: &str) -> Option<Csv<'_>> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut header: Option<(usize, Vec<&str>)> = None;
    let mut rows = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(unquote).collect();
        if header.is_none() {
            header = Some((i + 1, fields));
        } else {
            rows.push(CsvRow {
                line: i + 1,
                raw: line,
                fields,
            });
        }
    }
    let (header_line, columns) = header?;
    Some(Csv {
        header_line,
        columns,
        rows,
    })
}

impl<'a> Csv<'a> {
    /// Positions of the required columns, in the order asked.
    fn positions(&self, required: &[&str]) -> Result<Vec<usize>, TableError> {
        required
            .iter()
            .map(|name| {
                self.columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        TableError::new(
                            self.header_line,
                            format!(
                                "表头缺少列 {name}（需要 {}） / header lacks column {name} (needs {})",
                                required.join(","),
                                required.join(",")
                            ),
                        )
                    })
            })
            .collect()
    }
}

impl<'a> CsvRow<'a> {
    fn field(&self, pos: usize, name: &str) -> Result<&'a str, TableError> {
        self.fields.get(pos).copied().ok_or_else(|| {
            TableError::new(
                self.line,
                format!("缺少 {name} 列的值 / missing value for column {name}"),
            )
        })
    }

    /// The last column keeps everything after its separator, so a note may contain commas.
    fn rest_from(&self, pos: usize) -> String {
        self.raw
            .splitn(pos + 1, ',')
            .nth(pos)
            .map(|rest| unquote(rest).to_string())
            .unwrap_or_default()
    }
}

fn code_field(row: &CsvRow<'_>, pos: usize, name: &str) -> Result<DivisionCode, TableError> {
    let raw = row.field(pos, name)?;
    DivisionCode::parse(raw).ok_or_else(|| {
        TableError::new(
            row.line,
            format!("{name} 应为 6 位数字，实为“{raw}” / {name} must be 6 digits, got \"{raw}\""),
        )
    })
}

fn parent_field(
    row: &CsvRow<'_>,
    pos: usize,
    name: &str,
) -> Result<Option<DivisionCode>, TableError> {
    let raw = row.field(pos, name)?;
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let code = code_field(row, pos, name)?;
    Ok((code.value() != 0).then_some(code))
}

fn level_field(row: &CsvRow<'_>, pos: usize, name: &str) -> Result<Level, TableError> {
    let raw = row.field(pos, name)?;
    Level::parse(raw).ok_or_else(|| {
        TableError::new(
            row.line,
            format!(
                "{name} 应为 province、prefecture 或 county，实为“{raw}” / {name} must be province, prefecture or county, got \"{raw}\""
            ),
        )
    })
}

fn name_field(row: &CsvRow<'_>, pos: usize, name: &str) -> Result<String, TableError> {
    let raw = row.field(pos, name)?;
    let cleaned: String = raw
        .chars()
        .map(half_width_char)
        .filter(|c| !c.is_whitespace())
        .collect();
    if cleaned.is_empty() {
        return Err(TableError::new(
            row.line,
            format!("{name} 为空 / {name} is empty"),
        ));
    }
    Ok(cleaned)
}

fn parse_divisions_with_lines(csv: &str) -> Result<Vec<(usize, Division)>, TableError> {
    let Some(csv) = read_csv(csv) else {
        return Err(TableError::new(
            0,
            "区划表为空（缺少表头 code,name,level,parent） / the division table is empty (header code,name,level,parent expected)",
        ));
    };
    let pos = csv.positions(&["code", "name", "level", "parent"])?;
    let mut out = Vec::with_capacity(csv.rows.len());
    for row in &csv.rows {
        let code = code_field(row, pos[0], "code")?;
        let name = name_field(row, pos[1], "name")?;
        let level = level_field(row, pos[2], "level")?;
        let parent = parent_field(row, pos[3], "parent")?;
        out.push((
            row.line,
            Division {
                code,
                name,
                level,
                parent,
            },
        ));
    }
    Ok(out)
}

const SUCCESSOR_COLUMNS: [&str; 7] = [
    "old_code",
    "old_name",
    "old_level",
    "old_parent",
    "new_code",
    "effective",
    "note",
];

fn parse_successors_with_lines(csv: &str) -> Result<Vec<(usize, Successor)>, TableError> {
    // An empty successor file is legitimate: a fresh install may not have one.
    let Some(csv) = read_csv(csv) else {
        return Ok(Vec::new());
    };
    let pos = csv.positions(&SUCCESSOR_COLUMNS)?;
    let note_is_last = pos[6] + 1 == csv.columns.len();
    let mut out = Vec::with_capacity(csv.rows.len());
    for row in &csv.rows {
        let old_code = code_field(row, pos[0], "old_code")?;
        let old_name = name_field(row, pos[1], "old_name")?;
        let old_level = level_field(row, pos[2], "old_level")?;
        let old_parent = parent_field(row, pos[3], "old_parent")?;
        let new_code = code_field(row, pos[4], "new_code")?;
        let raw_date = row.field(pos[5], "effective")?;
        let effective = NaiveDate::parse_from_str(raw_date.trim(), "%Y-%m-%d").map_err(|_| {
            TableError::new(
                row.line,
                format!(
                    "effective 应为 YYYY-MM-DD 日期，实为“{raw_date}” / effective must be a YYYY-MM-DD date, got \"{raw_date}\""
                ),
            )
        })?;
        let note = if note_is_last {
            row.rest_from(pos[6])
        } else {
            row.field(pos[6], "note")?.to_string()
        };
        out.push((
            row.line,
            Successor {
                old_code,
                old_name,
                old_level,
                old_parent,
                new_code,
                effective,
                note,
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("test code")
    }

    #[test]
    fn parses_six_digit_codes_including_full_width_and_spaces() {
        assert_eq!(code("110105").value(), 110105);
        assert_eq!(code("　１１０１０５ ").value(), 110105);
        assert_eq!(code("\u{FEFF}370116").value(), 370116);
        assert_eq!(DivisionCode::parse("11010"), None);
        assert_eq!(DivisionCode::parse("1101050"), None);
        assert_eq!(DivisionCode::parse("11 0105"), None);
        assert_eq!(DivisionCode::parse("11010x"), None);
        assert_eq!(DivisionCode::parse("١١٠١٠٥"), None);
        assert_eq!(DivisionCode::parse(""), None);
    }

    #[test]
    fn displays_zero_padded_and_derives_parents_by_shape() {
        let c = code("371202");
        assert_eq!(c.to_string(), "371202");
        assert_eq!(c.province_code().to_string(), "370000");
        assert_eq!(c.prefecture_code().to_string(), "371200");
        assert_eq!(
            DivisionCode::from_value(5)
                .map(|c| c.to_string())
                .as_deref(),
            Some("000005")
        );
        assert!(code("370000").is_province_shaped());
        assert!(code("370100").is_prefecture_shaped());
        assert!(!code("370000").is_prefecture_shaped());
    }

    #[test]
    fn embedded_fixtures_load() {
        let t = DivisionTable::embedded();
        assert_eq!(t.edition(), "2025-12-31");
        assert!(t.len() > 3_000, "only {} divisions", t.len());
        assert!(t.successors().count() >= 100);
        assert!(t.warnings().is_empty(), "{:?}", t.warnings());
        let haidian = t.get(code("110108")).expect("海淀区");
        assert_eq!(haidian.name, "海淀区");
        assert_eq!(haidian.level, Level::County);
        assert_eq!(haidian.parent, Some(code("110100")));
    }

    #[test]
    fn every_successor_target_exists_and_every_chain_ends_in_a_current_code() {
        let t = DivisionTable::embedded();
        let olds: std::collections::HashSet<_> = t.successors().map(|s| s.old_code).collect();
        for s in t.successors() {
            assert!(
                t.get(s.new_code).is_some() || olds.contains(&s.new_code),
                "{} -> {} points nowhere",
                s.old_code,
                s.new_code
            );
            assert!(
                t.get(s.old_code).is_none(),
                "{} is still current",
                s.old_code
            );
            let end = t
                .current_successor(s.old_code)
                .unwrap_or_else(|| panic!("chain of {} does not terminate", s.old_code));
            assert!(t.get(end).is_some());
            let chain = t.successor_chain(s.old_code);
            assert!(!chain.is_empty() && chain.len() <= 3);
            assert_eq!(chain.last().map(|r| r.new_code), Some(end));
            assert!(!s.note.is_empty(), "{} has no note", s.old_code);
        }
    }

    #[test]
    fn fixture_successor_names_match_current_names_unless_renamed() {
        // Guards against an off-by-one in code lists: an unchanged county keeps its name.
        let t = DivisionTable::embedded();
        for s in t.successors() {
            let end = t.current_successor(s.old_code).expect("terminates");
            let current = t.get(end).expect("current");
            if s.old_level == Level::County && current.level == Level::County {
                let stem = |n: &str| n.trim_end_matches(['县', '区', '市']).to_string();
                let same = stem(&s.old_name) == stem(&current.name);
                let renamed = s.note.contains(current.name.as_str());
                assert!(
                    same || renamed,
                    "{} {} -> {} {}",
                    s.old_code,
                    s.old_name,
                    end,
                    current.name
                );
            }
        }
    }

    #[test]
    fn follows_successor_chains() {
        let t = DivisionTable::embedded();
        assert_eq!(t.current_successor(code("371202")), Some(code("370116")));
        assert_eq!(t.current_successor(code("371200")), Some(code("370100")));
        // 无为县: 巢湖 341422 -> 芜湖 340225 (2011) -> 无为市 340281 (2019).
        assert_eq!(t.current_successor(code("341422")), Some(code("340281")));
        assert_eq!(t.successor_chain(code("341422")).len(), 2);
        // 米林县: 林芝地区 542623 -> 540422 (2015) -> 米林市 540481 (2023).
        assert_eq!(t.current_successor(code("542623")), Some(code("540481")));
        assert_eq!(t.current_successor(code("110105")), None);
        assert_eq!(t.current_successor(code("999999")), None);
    }

    #[test]
    fn parents_give_province_and_prefecture() {
        let t = DivisionTable::embedded();
        assert_eq!(t.province_of(code("370116")), Some(code("370000")));
        assert_eq!(t.prefecture_of(code("370116")), Some(code("370100")));
        assert_eq!(t.prefecture_of(code("370100")), Some(code("370100")));
        assert_eq!(t.prefecture_of(code("370000")), None);
        assert_eq!(t.province_of(code("370000")), Some(code("370000")));
        // Province-governed county-level city: no prefecture step.
        assert_eq!(t.prefecture_of(code("429004")), None);
        assert_eq!(t.province_of(code("429004")), Some(code("420000")));
        assert_eq!(t.prefecture_of(code("659001")), None);
        assert_eq!(t.province_of(code("659001")), Some(code("650000")));
        // Municipality: districts under xx0100.
        assert_eq!(t.prefecture_of(code("110105")), Some(code("110100")));
        assert_eq!(t.province_of(code("371202")), None);
    }

    #[test]
    fn name_path_writes_each_level_once() {
        let t = DivisionTable::embedded();
        assert_eq!(t.name_path(code("370116")), "山东省 济南市 莱芜区");
        assert_eq!(t.name_path(code("110105")), "北京市 朝阳区");
        assert_eq!(t.name_path(code("429004")), "湖北省 仙桃市");
        assert_eq!(t.name_path(code("371202")), "");
    }

    #[test]
    fn children_list_the_level_below() {
        let t = DivisionTable::embedded();
        assert!(t.children(code("370100")).contains(&code("370116")));
        assert!(t.children(code("441900")).is_empty());
        assert!(t.children(code("420000")).contains(&code("429004")));
    }

    const HEADER: &str = "code,name,level,parent\n";
    const MINI: &str = "\u{FEFF}code,name,level,parent\r\n\r\n370000,山东省,province,000000\r\n370100,济南市,prefecture,370000\r\n370116,莱芜区,county,370100\r\n";

    #[test]
    fn csv_handles_bom_crlf_blank_lines_and_quotes() {
        let rows = DivisionTable::parse_divisions_csv(MINI).expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].parent, None);
        let quoted = format!("{HEADER}\"370000\",\"山东省\",province,\n");
        let rows = DivisionTable::parse_divisions_csv(&quoted).expect("parses");
        assert_eq!(rows[0].name, "山东省");
        assert_eq!(rows[0].parent, None);
        let reordered = "level,code,parent,name,extra\nprovince,370000,000000,山东省,x\n";
        let rows = DivisionTable::parse_divisions_csv(reordered).expect("parses");
        assert_eq!(rows[0].code, code("370000"));
    }

    #[test]
    fn csv_errors_name_the_line() {
        let bad =
            format!("{HEADER}370000,山东省,province,000000\n\n37010,济南市,prefecture,370000\n");
        let e = DivisionTable::parse_divisions_csv(&bad).expect_err("bad code");
        assert_eq!(e.line, 4);
        assert!(e.to_string().contains("第 4 行"), "{e}");
        assert!(e.to_string().contains("line 4"), "{e}");
        let e = DivisionTable::parse_divisions_csv("code,name,parent\n").expect_err("no level");
        assert!(e.message.contains("level"));
        let e = DivisionTable::parse_divisions_csv("").expect_err("empty");
        assert_eq!(e.line, 0);
    }

    #[test]
    fn successor_notes_may_contain_commas() {
        let csv = "old_code,old_name,old_level,old_parent,new_code,effective,note\n371202,莱城区,county,371200,370116,2019-01-09,a, b\n";
        let rows = DivisionTable::parse_successors_csv(csv).expect("parses");
        assert_eq!(rows[0].note, "a, b");
        assert_eq!(
            rows[0].effective,
            NaiveDate::from_ymd_opt(2019, 1, 9).expect("date")
        );
        let bad = csv.replace("2019-01-09", "2019/1/9");
        let e = DivisionTable::parse_successors_csv(&bad).expect_err("bad date");
        assert_eq!(e.line, 2);
    }

    fn succ(old: &str, new: &str) -> String {
        format!("old_code,old_name,old_level,old_parent,new_code,effective,note\n{old},旧,county,371200,{new},2019-01-09,x\n")
    }

    #[test]
    fn successors_that_disagree_with_the_edition_are_left_out_with_a_warning() {
        let t = DivisionTable::from_csv("e", MINI, &succ("371202", "370199")).expect("loads");
        assert_eq!(t.current_successor(code("371202")), None);
        assert_eq!(t.successors().count(), 0);
        assert_eq!(t.warnings().len(), 1);
        assert_eq!(t.warnings()[0].line, 2);
        assert!(t.warnings()[0].message.contains("370199"));
        let t = DivisionTable::from_csv("e", MINI, &succ("370116", "370100")).expect("loads");
        assert_eq!(t.current_successor(code("370116")), None);
        assert!(t.warnings()[0].message.contains("370116"));
        // A chain through a dangling row dangles too.
        let chain = "old_code,old_name,old_level,old_parent,new_code,effective,note\n\
                     371201,a,county,371200,371202,2019-01-09,x\n\
                     371202,b,county,371200,370199,2019-01-09,x\n";
        let t = DivisionTable::from_csv("e", MINI, chain).expect("loads");
        assert_eq!(t.successors().count(), 0);
        assert_eq!(t.warnings().len(), 2);
        let t = DivisionTable::from_csv("e", MINI, &succ("371202", "370116")).expect("loads");
        assert!(t.warnings().is_empty());
        assert!(DivisionTable::from_csv("e", MINI, "").is_ok());
    }

    #[test]
    fn rejects_duplicate_and_self_pointing_successors() {
        let dup = format!(
            "{}371202,旧,county,371200,370116,2019-01-09,x\n",
            succ("371202", "370116")
        );
        assert!(DivisionTable::from_csv("e", MINI, &dup).is_err());
        assert!(DivisionTable::from_csv("e", MINI, &succ("371202", "371202")).is_err());
    }

    #[test]
    fn rejects_successor_cycles() {
        let csv = "old_code,old_name,old_level,old_parent,new_code,effective,note\n\
                   371202,a,county,371200,371203,2019-01-09,x\n\
                   371203,b,county,371200,371202,2019-01-09,x\n";
        let e = DivisionTable::from_csv("e", MINI, csv).expect_err("cycle");
        assert!(
            e.message.contains("成环") || e.message.contains("cycle"),
            "{e}"
        );
    }

    #[test]
    fn rejects_broken_trees() {
        let dup = format!("{MINI}370116,莱芜区,county,370100\n");
        assert!(DivisionTable::from_csv("e", &dup, "").is_err());
        let orphan = format!("{HEADER}370116,莱芜区,county,370100\n");
        assert!(DivisionTable::from_csv("e", &orphan, "").is_err());
        let shape = format!("{HEADER}370100,济南市,province,000000\n");
        assert!(DivisionTable::from_csv("e", &shape, "").is_err());
        assert!(DivisionTable::from_csv(" ", MINI, "").is_err());
    }

    #[test]
    fn from_parts_validates_like_from_csv() {
        let divisions = DivisionTable::parse_divisions_csv(MINI).expect("parses");
        let successors =
            DivisionTable::parse_successors_csv(&succ("371202", "370116")).expect("parses");
        let t = DivisionTable::from_parts("2026-01-01".into(), divisions.clone(), successors)
            .expect("valid");
        assert_eq!(t.current_successor(code("371202")), Some(code("370116")));
        let bad = DivisionTable::parse_successors_csv(&succ("371202", "379999")).expect("parses");
        let t = DivisionTable::from_parts("2026-01-01".into(), divisions.clone(), bad)
            .expect("loads with a warning");
        assert_eq!(t.warnings()[0].line, 0);
        let e = DivisionTable::from_parts(String::new(), divisions, Vec::new())
            .expect_err("no edition");
        assert_eq!(e.line, 0);
    }
}
