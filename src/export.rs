//! Tables for people: reject reports and record exports, as CSV (UTF-8 with BOM, so Excel opens
//! it) or XLSX, with cells that would run as formulas escaped.

use crate::db::batches::{self, ProblemRow};
use crate::db::packages;
use crate::db::records::{self, RecordFilter, RecordRow};
use crate::db::AnyConnection;
use crate::domain::graduate::Column;
use crate::domain::masking;
use crate::ingest::column_header;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use std::io::Write;

/// A table output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    Csv,
    Xlsx,
}

impl TableFormat {
    pub fn parse(s: &str) -> Option<TableFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(TableFormat::Csv),
            "xlsx" => Some(TableFormat::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            TableFormat::Csv => "text/csv; charset=utf-8",
            TableFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Xlsx => "xlsx",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A cell Excel would run as a formula (`=`, `+`, `-`, `@`, and tab/CR which some versions
/// strip first) gets a leading apostrophe, so an export can never execute anything.
pub fn escape_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// Writes rows to CSV or XLSX; XLSX keeps every cell as text so ID numbers keep their digits.
pub struct TableWriter<W: Write + Send> {
    inner: Inner<W>,
}

enum Inner<W: Write + Send> {
    Csv(csv::Writer<W>),
    Xlsx {
        out: W,
        book: Box<Workbook>,
        row: u32,
        text: Format,
    },
}

impl<W: Write + Send> TableWriter<W> {
    pub fn new(format: TableFormat, mut out: W, header: &[&str]) -> Result<Self, ExportError> {
        let mut writer = match format {
            TableFormat::Csv => {
                out.write_all(b"\xEF\xBB\xBF")?;
                TableWriter {
                    inner: Inner::Csv(csv::Writer::from_writer(out)),
                }
            }
            TableFormat::Xlsx => {
                let mut book = Box::new(Workbook::new());
                // Streams rows to a temporary file instead of holding the sheet in memory.
                book.add_worksheet_with_constant_memory()?;
                TableWriter {
                    inner: Inner::Xlsx {
                        out,
                        book,
                        row: 0,
                        text: Format::new().set_num_format("@"),
                    },
                }
            }
        };
        writer.row(header.iter().copied())?;
        Ok(writer)
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), ExportError> {
        match &mut self.inner {
            Inner::Csv(w) => {
                w.write_record(cells.into_iter().map(|c| escape_cell(c).into_owned()))?;
            }
            Inner::Xlsx {
                book, row, text, ..
            } => {
                let sheet: &mut Worksheet = book.worksheet_from_index(0)?;
                for (col, cell) in cells.into_iter().enumerate() {
                    let col = u16::try_from(col).unwrap_or(u16::MAX);
                    sheet.write_string_with_format(*row, col, escape_cell(cell), text)?;
                }
                *row += 1;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<(), ExportError> {
        match self.inner {
            Inner::Csv(mut w) => w.flush()?,
            Inner::Xlsx {
                mut out, mut book, ..
            } => {
                book.save_to_writer(&mut out)?;
                out.flush()?;
            }
        }
        Ok(())
    }
}

pub const REJECT_HEADER: [&str; 5] = ["行号", "列", "值", "原因代码", "说明"];

/// Writes a batch's reject report (every problem line, warnings marked), in file order.
/// `mask` hides ID numbers for anyone but the sender.
pub fn write_rejects<W: Write + Send>(
    conn: &mut AnyConnection,
    batch_id: i64,
    format: TableFormat,
    mask: bool,
    out: W,
) -> Result<u64, ExportError> {
    let mut writer = TableWriter::new(format, out, &REJECT_HEADER)?;
    let mut after = 0i64;
    let mut lines = 0u64;
    let mut row = RowProblems::default();
    loop {
        let page = batches::problems_page(conn, batch_id, after, 5_000)?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, p) in page {
            row.push(&mut writer, p, mask)?;
            lines += 1;
        }
    }
    row.flush(&mut writer, mask)?;
    writer.finish()?;
    Ok(lines)
}

/// The problem lines of one file row, held until the row's last one: a warning says "the row was
/// accepted" only when no problem of the same row rejected it. A row's lines are stored
/// together, in file order, so the group is small whatever the batch's size.
#[derive(Default)]
struct RowProblems {
    lines: Vec<ProblemRow>,
}

impl RowProblems {
    fn push<W: Write + Send>(
        &mut self,
        writer: &mut TableWriter<W>,
        p: ProblemRow,
        mask: bool,
    ) -> Result<(), ExportError> {
        if self.lines.first().is_some_and(|first| first.line != p.line) {
            self.flush(writer, mask)?;
        }
        self.lines.push(p);
        Ok(())
    }

    fn flush<W: Write + Send>(
        &mut self,
        writer: &mut TableWriter<W>,
        mask: bool,
    ) -> Result<(), ExportError> {
        let rejected = self.lines.iter().any(|p| p.severity == "reject");
        for p in self.lines.drain(..) {
            write_problem(writer, &p, mask, rejected)?;
        }
        Ok(())
    }
}

/// Writes problem lines held in memory (a dry run's).
pub fn write_problem_list<W: Write + Send>(
    problems: &[ProblemRow],
    format: TableFormat,
    mask: bool,
    out: W,
) -> Result<(), ExportError> {
    let mut writer = TableWriter::new(format, out, &REJECT_HEADER)?;
    let mut row = RowProblems::default();
    for p in problems {
        row.push(&mut writer, p.clone(), mask)?;
    }
    row.flush(&mut writer, mask)?;
    writer.finish()
}

/// A problem line's value and Chinese message as a report shows them: for a masked reader, the
/// value masked and, for codes that quote personal values, the catalogue's general text.
pub fn shown_problem(p: &ProblemRow, mask: bool) -> (String, &str) {
    if mask {
        let text = masking::problem_message(&p.column_key, &p.code)
            .map_or(p.message.as_str(), |(zh, _)| zh);
        (masking::problem_value(&p.column_key, &p.value), text)
    } else {
        (p.value.clone(), p.message.as_str())
    }
}

/// One line of the report; `row_rejected` tells a warning whether its row was stored.
fn write_problem<W: Write + Send>(
    writer: &mut TableWriter<W>,
    p: &ProblemRow,
    mask: bool,
    row_rejected: bool,
) -> Result<(), ExportError> {
    let (value, text) = shown_problem(p, mask);
    let mut message = format!("第 {} 行 {}", p.line, text);
    if p.severity == "warning" {
        message.push_str(if row_rejected {
            "（警告；该行因其他问题未接收）"
        } else {
            "（警告：该行已接收）"
        });
    }
    writer.row([
        p.line.to_string().as_str(),
        column_header(&p.column_key),
        value.as_str(),
        p.code.as_str(),
        message.as_str(),
    ])
}

/// The route columns that follow the transfer-file columns in every export.
pub const ROUTE_HEADER: [&str; 4] = ["路由省代码", "路由市代码", "路由县代码", "路由方式"];

/// Exports records: the 19 transfer-file columns with their Chinese headers, then the route.
/// `mask` hides ID and phone numbers for roles that may not see them.
pub fn write_records<W: Write + Send>(
    conn: &mut AnyConnection,
    filter: &RecordFilter,
    format: TableFormat,
    mask: bool,
    out: W,
) -> Result<u64, ExportError> {
    write_pages(format, out, mask, &[], |after| {
        Ok(records::page(conn, filter, after, 5_000)?
            .into_iter()
            .map(|r| (r, Vec::new()))
            .collect())
    })
}

/// The columns a package file adds after the route: the hub's record number (to return a record
/// by) and the record's outcome in the package.
pub const PACKAGE_EXTRA_HEADER: [&str; 2] = ["记录号", "签收状态"];

/// Exports one package: transfer-file columns, route columns, record number and outcome.
pub fn write_package<W: Write + Send>(
    conn: &mut AnyConnection,
    package_id: i64,
    format: TableFormat,
    mask: bool,
    out: W,
) -> Result<u64, ExportError> {
    write_pages(format, out, mask, &PACKAGE_EXTRA_HEADER, |after| {
        Ok(packages::package_records(conn, package_id, after, 5_000)?
            .into_iter()
            .map(|(r, outcome, _)| {
                let extra = vec![r.id.to_string(), outcome_label(outcome).to_string()];
                (r, extra)
            })
            .collect())
    })
}

/// Writes records a page at a time (keyset paging on the record id, so memory stays flat): the
/// transfer-file and route columns, then the `extra` columns each page row brings.
pub fn write_pages<W: Write + Send>(
    format: TableFormat,
    out: W,
    mask: bool,
    extra_header: &[&str],
    mut next_page: impl FnMut(i64) -> Result<Vec<(RecordRow, Vec<String>)>, ExportError>,
) -> Result<u64, ExportError> {
    let header: Vec<&str> = Column::ALL
        .iter()
        .map(|c| c.header_zh())
        .chain(ROUTE_HEADER)
        .chain(extra_header.iter().copied())
        .collect();
    let mut writer = TableWriter::new(format, out, &header)?;
    let mut after = 0i64;
    let mut count = 0u64;
    loop {
        let page = next_page(after)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = last.id;
        for (r, extra) in page {
            let mut cells = record_cells(&r, mask);
            cells.extend(extra);
            writer.row(cells.iter().map(String::as_str))?;
            count += 1;
        }
    }
    writer.finish()?;
    Ok(count)
}

fn outcome_label(outcome: Option<packages::HopOutcome>) -> &'static str {
    match outcome {
        Some(packages::HopOutcome::Acknowledged) => "已签收",
        Some(packages::HopOutcome::Returned) => "已退回",
        Some(packages::HopOutcome::Pending) | None => "待签收",
    }
}

fn record_cells(r: &RecordRow, mask: bool) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    vec![
        r.name.clone(),
        r.sex.clone(),
        opt(&r.ethnicity),
        r.id_type.clone(),
        if mask {
            masking::id_number(&r.id_number)
        } else {
            r.id_number.clone()
        },
        match (r.birth_date, mask) {
            (Some(d), true) => masking::birth_year(d).to_string(),
            (d, _) => date(d),
        },
        opt(&r.political_status),
        r.education_level.clone(),
        r.school_code.clone(),
        r.school_name.clone(),
        opt(&r.major_code),
        r.major_name.clone(),
        r.graduation_date.to_string(),
        opt(&r.hukou_code),
        opt(&r.hukou_address),
        match (&r.phone, mask) {
            (Some(p), true) => masking::phone(p),
            (p, _) => opt(p),
        },
        match (&r.email, mask) {
            (Some(e), true) => masking::email(e),
            (e, _) => opt(e),
        },
        opt(&r.hardship),
        r.intention.clone(),
        opt(&r.route_province),
        opt(&r.route_prefecture),
        opt(&r.route_county),
        r.route_method.as_str().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_escaped() {
        assert_eq!(escape_cell("=1+1"), "'=1+1");
        assert_eq!(escape_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(escape_cell("张三"), "张三");
    }
}
