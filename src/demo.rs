//! Synthetic transfer files for demos, tests and benchmarks: Chinese names, valid check digits,
//! real division codes, and a few percent of each kind of fault a real file has.

use crate::domain::catalogue::ErrorCode;
use crate::domain::division::{DivisionTable, Level};
use crate::domain::graduate::Column;
use crate::domain::id_number::check_char;
use chrono::{Datelike, Duration, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rustc_hash::FxHashSet;
use std::io::Write;
use std::path::Path;

/// Text encoding of a generated CSV.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Gbk,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub rows: usize,
    pub seed: u64,
    /// Share of rows that carry one fault (0.0–1.0), spread evenly over the fault kinds.
    pub fault_rate: f64,
    pub encoding: TextEncoding,
}

/// The kinds of fault the generator plants, each with the reject code the hub must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    CheckDigit,
    IdLength,
    IdChars,
    SexMismatch,
    NameSpace,
    FutureGraduation,
    DuplicateInFile,
    UnknownEducation,
    MissingSchoolName,
    SchoolCodeFormat,
    BirthMismatch,
    ExcelNumber,
}

impl Fault {
    pub const ALL: [Fault; 12] = [
        Fault::CheckDigit,
        Fault::IdLength,
        Fault::IdChars,
        Fault::SexMismatch,
        Fault::NameSpace,
        Fault::FutureGraduation,
        Fault::DuplicateInFile,
        Fault::UnknownEducation,
        Fault::MissingSchoolName,
        Fault::SchoolCodeFormat,
        Fault::BirthMismatch,
        Fault::ExcelNumber,
    ];

    /// The reject code the hub answers this fault with.
    pub fn code(self) -> &'static str {
        match self {
            Fault::CheckDigit => ErrorCode::IdChecksum.as_str(),
            Fault::IdLength => ErrorCode::IdLength.as_str(),
            Fault::IdChars => ErrorCode::IdChars.as_str(),
            Fault::SexMismatch => ErrorCode::SexMismatch.as_str(),
            Fault::NameSpace => ErrorCode::NameSpace.as_str(),
            Fault::FutureGraduation => ErrorCode::DateFuture.as_str(),
            Fault::DuplicateInFile => ErrorCode::DuplicateInFile.as_str(),
            Fault::UnknownEducation => ErrorCode::CodeUnknown.as_str(),
            Fault::MissingSchoolName => ErrorCode::Required.as_str(),
            Fault::SchoolCodeFormat => ErrorCode::SchoolCodeFormat.as_str(),
            Fault::BirthMismatch => ErrorCode::BirthMismatch.as_str(),
            Fault::ExcelNumber => ErrorCode::IdExcelNumber.as_str(),
        }
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "欧阳", "司马", "诸葛",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "萍", "红", "鹏", "辉", "宇", "浩", "欣",
    "怡", "佳", "子", "涵", "梓", "晨", "雨", "思", "嘉", "博", "文", "轩", "睿", "诗", "琪", "一",
];
const MINORITY_NAMES: &[&str] = &[
    "买买提·艾力",
    "古丽娜尔·吐尔逊",
    "阿依古丽·买买提",
    "次仁·多吉",
    "巴特尔",
];
const SCHOOLS: &[(&str, &str)] = &[
    ("10001", "北京大学"),
    ("10003", "清华大学"),
    ("10056", "天津大学"),
    ("10141", "大连理工大学"),
    ("10183", "吉林大学"),
    ("10213", "哈尔滨工业大学"),
    ("10246", "复旦大学"),
    ("10247", "同济大学"),
    ("10248", "上海交通大学"),
    ("10284", "南京大学"),
    ("10286", "东南大学"),
    ("10335", "浙江大学"),
    ("10384", "厦门大学"),
    ("10422", "山东大学"),
    ("10459", "郑州大学"),
    ("10486", "武汉大学"),
    ("10487", "华中科技大学"),
    ("10533", "中南大学"),
    ("10558", "中山大学"),
    ("10610", "四川大学"),
    ("10611", "重庆大学"),
    ("10614", "电子科技大学"),
    ("10698", "西安交通大学"),
    ("10730", "兰州大学"),
];
const MAJORS: &[(&str, &str)] = &[
    ("080901", "计算机科学与技术"),
    ("080902", "软件工程"),
    ("020101", "经济学"),
    ("030101K", "法学"),
    ("050101", "汉语言文学"),
    ("050201", "英语"),
    ("070101", "数学与应用数学"),
    ("080701", "电子信息工程"),
    ("120203K", "会计学"),
    ("120201K", "工商管理"),
    ("081001", "土木工程"),
    ("071001", "生物科学"),
    ("120402", "行政管理"),
];
const ETHNICITY: &[&str] = &[
    "01", "01", "01", "01", "01", "01", "01", "01", "03", "08", "05", "04", "06",
];
const POLITICAL: &[&str] = &["13", "13", "03", "03", "03", "01", "02"];

/// Generates rows of the 19 transfer-file columns (Chinese header first), one call per row.
pub struct Generator {
    rng: StdRng,
    counties: Vec<(String, String)>,
    abolished: Vec<String>,
    used: FxHashSet<String>,
    earlier_ids: Vec<String>,
    fault_rate: f64,
    row: usize,
    today: NaiveDate,
}

/// One generated row and the fault it carries, if any.
pub struct Row {
    pub cells: Vec<String>,
    pub fault: Option<Fault>,
}

impl Generator {
    pub fn new(table: &DivisionTable, seed: u64, fault_rate: f64) -> Generator {
        let mut counties: Vec<(String, String)> = table
            .divisions()
            .filter(|d| d.level == Level::County)
            // HK/Macao/Taiwan have no receiving organisation: not a place a demo person comes from.
            .filter(|d| !matches!(d.code.value() / 10_000, 71 | 81 | 82))
            .map(|d| (d.code.to_string(), table.name_path(d.code).replace(' ', "")))
            .collect();
        counties.sort();
        let mut abolished: Vec<String> = table
            .successors()
            .filter(|s| s.old_level == Level::County)
            .map(|s| s.old_code.to_string())
            .collect();
        abolished.sort();
        Generator {
            rng: StdRng::seed_from_u64(seed),
            counties,
            abolished,
            used: FxHashSet::default(),
            earlier_ids: Vec::new(),
            fault_rate,
            row: 0,
            today: crate::ingest::china_today(),
        }
    }

    pub fn header() -> Vec<&'static str> {
        Column::ALL.iter().map(|c| c.header_zh()).collect()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn name(&mut self) -> String {
        if self.rng.random_bool(0.01) {
            return (*self.pick(MINORITY_NAMES)).to_string();
        }
        let mut name = (*self.pick(SURNAMES)).to_string();
        name.push_str(self.pick::<&str>(GIVEN));
        if self.rng.random_bool(0.6) {
            name.push_str(self.pick::<&str>(GIVEN));
        }
        name
    }

    /// A fresh, valid 18-character ID number for a county, birth date and sex.
    fn id_number(&mut self, region: &str, birth: NaiveDate, male: bool) -> String {
        loop {
            let seq = self.rng.random_range(0..500u32) * 2 + u32::from(male);
            let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
            let Some(check) = check_char(&first17) else {
                continue;
            };
            let id = format!("{first17}{check}");
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }

    /// The next row.
    pub fn next_row(&mut self) -> Row {
        self.row += 1;
        let county = self.rng.random_range(0..self.counties.len());
        let (region, path) = self.counties[county].clone();
        let level_roll: f64 = self.rng.random();
        let (education, age) = match level_roll {
            r if r < 0.02 => ("11", 28),
            r if r < 0.10 => ("14", 25),
            r if r < 0.30 => ("31", 21),
            _ => ("21", 22),
        };
        let graduation_year = if self.rng.random_bool(0.8) {
            2026
        } else {
            2025
        };
        let graduation = NaiveDate::from_ymd_opt(graduation_year, 6, 30).unwrap_or(self.today);
        let graduation = graduation.min(self.today);
        let birth = NaiveDate::from_ymd_opt(graduation.year() - age, 1, 1).unwrap_or(graduation)
            + Duration::days(self.rng.random_range(0..730));
        let male = self.rng.random_bool(0.52);
        let id = self.id_number(&region, birth, male);
        let (school_code, school_name) = *self.pick(SCHOOLS);
        let (major_code, major_name) = *self.pick(MAJORS);
        let hukou_roll: f64 = self.rng.random();
        let (hukou_code, hukou_address) = if hukou_roll < 0.85 {
            (region.clone(), String::new())
        } else if hukou_roll < 0.93 {
            (
                String::new(),
                format!(
                    "{path}{}路{}号",
                    self.pick(GIVEN),
                    self.rng.random_range(1..300)
                ),
            )
        } else if hukou_roll < 0.96 && !self.abolished.is_empty() {
            let i = self.rng.random_range(0..self.abolished.len());
            (self.abolished[i].clone(), String::new())
        } else if hukou_roll < 0.98 {
            (format!("{}99", &region[..4]), String::new())
        } else {
            (region.clone(), path.clone())
        };
        let mut cells: Vec<String> = vec![
            self.name(),
            if self.rng.random_bool(0.5) {
                if male { "1" } else { "2" }.to_string()
            } else if male {
                "男".to_string()
            } else {
                "女".to_string()
            },
            (*self.pick(ETHNICITY)).to_string(),
            "01".to_string(),
            id.clone(),
            if self.rng.random_bool(0.5) {
                birth.format("%Y-%m-%d").to_string()
            } else {
                String::new()
            },
            (*self.pick(POLITICAL)).to_string(),
            education.to_string(),
            school_code.to_string(),
            school_name.to_string(),
            major_code.to_string(),
            major_name.to_string(),
            if self.rng.random_bool(0.5) {
                graduation.format("%Y%m%d").to_string()
            } else {
                graduation.format("%Y-%m-%d").to_string()
            },
            hukou_code,
            hukou_address,
            format!(
                "1{}{:09}",
                self.rng.random_range(3..10),
                self.rng.random_range(0..1_000_000_000u32)
            ),
            if self.rng.random_bool(0.3) {
                format!("stu{}@example.edu.cn", self.row)
            } else {
                String::new()
            },
            if self.rng.random_bool(0.05) {
                "低保家庭".to_string()
            } else {
                String::new()
            },
            if self.rng.random_bool(0.9) { "1" } else { "2" }.to_string(),
        ];
        let fault = if self.rng.random_bool(self.fault_rate.clamp(0.0, 1.0)) {
            let fault = Fault::ALL[self.rng.random_range(0..Fault::ALL.len())];
            self.plant(fault, &mut cells, male).then_some(fault)
        } else {
            None
        };
        if fault.is_none() && self.earlier_ids.len() < 10_000 {
            self.earlier_ids.push(id);
        }
        Row { cells, fault }
    }

    /// Puts one fault into a valid row; false when it cannot (no earlier row to repeat yet).
    fn plant(&mut self, fault: Fault, cells: &mut [String], male: bool) -> bool {
        let col = |c: Column| c.index();
        let id = cells[col(Column::IdNumber)].clone();
        match fault {
            Fault::CheckDigit => {
                let check = id.chars().last().unwrap_or('0');
                let wrong = if check == '1' { '2' } else { '1' };
                cells[col(Column::IdNumber)] = format!("{}{wrong}", &id[..17]);
            }
            Fault::IdLength => cells[col(Column::IdNumber)] = id[..16].to_string(),
            Fault::IdChars => cells[col(Column::IdNumber)] = format!("{}A{}", &id[..10], &id[11..]),
            Fault::SexMismatch => {
                cells[col(Column::Sex)] = if male { "2" } else { "1" }.to_string()
            }
            Fault::NameSpace => {
                let name = cells[col(Column::Name)].clone();
                let first = name.chars().next().unwrap_or('王');
                let rest: String = name.chars().skip(1).collect();
                cells[col(Column::Name)] = format!("{first} {rest}");
            }
            Fault::FutureGraduation => {
                cells[col(Column::GraduationDate)] = (self.today + Duration::days(400))
                    .format("%Y-%m-%d")
                    .to_string();
            }
            Fault::DuplicateInFile => {
                if self.earlier_ids.is_empty() {
                    return false;
                }
                let i = self.rng.random_range(0..self.earlier_ids.len());
                cells[col(Column::IdNumber)] = self.earlier_ids[i].clone();
                // Keep sex and birth date consistent with the repeated ID so only the repeat shows.
                cells[col(Column::Sex)] = String::new();
                cells[col(Column::BirthDate)] = String::new();
                let repeated = &cells[col(Column::IdNumber)];
                let odd = repeated
                    .as_bytes()
                    .get(16)
                    .map(|b| (b - b'0') % 2 == 1)
                    .unwrap_or(true);
                cells[col(Column::Sex)] = if odd { "1" } else { "2" }.to_string();
            }
            Fault::UnknownEducation => cells[col(Column::EducationLevel)] = "99".to_string(),
            Fault::MissingSchoolName => cells[col(Column::SchoolName)] = String::new(),
            Fault::SchoolCodeFormat => cells[col(Column::SchoolCode)] = "1042".to_string(),
            Fault::BirthMismatch => cells[col(Column::BirthDate)] = "1990-01-01".to_string(),
            Fault::ExcelNumber => {
                let digits = id.get(..6).unwrap_or("110105");
                cells[col(Column::IdNumber)] = format!("{}.{}E+17", &digits[..1], &digits[1..]);
            }
        }
        true
    }
}

/// Writes a CSV transfer file (UTF-8 or GBK).
pub fn write_csv(table: &DivisionTable, options: &Options, path: &Path) -> std::io::Result<()> {
    let file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let sink: Box<dyn Write> = match options.encoding {
        TextEncoding::Utf8 => Box::new(file),
        TextEncoding::Gbk => Box::new(GbkWriter {
            inner: file,
            pending: Vec::new(),
        }),
    };
    let mut out = csv::Writer::from_writer(sink);
    let mut generator = Generator::new(table, options.seed, options.fault_rate);
    out.write_record(Generator::header())?;
    for _ in 0..options.rows {
        out.write_record(&generator.next_row().cells)?;
    }
    out.flush()?;
    Ok(())
}

/// Re-encodes UTF-8 text to GB18030 a line at a time (a line end is always a character boundary).
struct GbkWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> GbkWriter<W> {
    fn encode_through(&mut self, end: usize) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..end]);
        let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
        self.inner.write_all(&bytes)?;
        self.pending.drain(..end);
        Ok(())
    }
}

impl<W: Write> Write for GbkWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() > 1 << 16 {
            if let Some(last) = self.pending.iter().rposition(|b| *b == b'\n') {
                self.encode_through(last + 1)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let all = self.pending.len();
        self.encode_through(all)?;
        self.inner.flush()
    }
}

/// Writes an XLSX transfer file; ID numbers as text, as a careful clerk would, except the
/// Excel-mangled fault, which is a real number cell.
pub fn write_xlsx(table: &DivisionTable, options: &Options, path: &Path) -> std::io::Result<()> {
    let to_io = |e: rust_xlsxwriter::XlsxError| std::io::Error::other(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().map_err(to_io)?;
    for (c, h) in Generator::header().iter().enumerate() {
        sheet.write_string(0, c as u16, *h).map_err(to_io)?;
    }
    let mut generator = Generator::new(table, options.seed, options.fault_rate);
    for r in 0..options.rows {
        let row = generator.next_row();
        let excel_row = r as u32 + 1;
        for (c, cell) in row.cells.iter().enumerate() {
            let number = (row.fault == Some(Fault::ExcelNumber) && c == Column::IdNumber.index())
                .then(|| cell.parse::<f64>().ok())
                .flatten();
            match number {
                Some(n) => sheet.write_number(excel_row, c as u16, n).map_err(to_io)?,
                None => sheet
                    .write_string(excel_row, c as u16, cell)
                    .map_err(to_io)?,
            };
        }
    }
    book.save(path).map_err(to_io)
}
