//! The summary as files: CSV (UTF-8 with BOM, for Excel), XLSX (Chinese headers, frozen header
//! row, number formats for rates and amounts, and a 说明 sheet with the cut-off, the code-table
//! editions and the definition of every column), and JSON.

use super::columns::ColumnKind;
use super::{Summary, SummaryRow};
use crate::export::{escape_cell, ExportError};
use rust_xlsxwriter::{Format, Workbook};
use std::io::Write;

/// The file formats of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    Csv,
    Xlsx,
    Json,
}

impl SummaryFormat {
    pub fn parse(s: &str) -> Option<SummaryFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(SummaryFormat::Csv),
            "xlsx" => Some(SummaryFormat::Xlsx),
            "json" => Some(SummaryFormat::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            SummaryFormat::Csv => "text/csv; charset=utf-8",
            SummaryFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            SummaryFormat::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            SummaryFormat::Csv => "csv",
            SummaryFormat::Xlsx => "xlsx",
            SummaryFormat::Json => "json",
        }
    }
}

const LEAD: [&str; 3] = ["机构代码", "机构名称", "层级"];

fn all_rows(s: &Summary) -> impl Iterator<Item = &SummaryRow> {
    s.rows.iter().chain(std::iter::once(&s.total))
}

/// A cell as text: counts as integers, rates as percentages with two decimals, amounts in yuan.
fn text_cell(s: &Summary, row: &SummaryRow, i: usize) -> String {
    let c = &s.columns[i];
    match (c.kind, row.cells.get(&c.id)) {
        (ColumnKind::Rate, Some(serde_json::Value::Number(n))) => {
            format!("{:.2}%", n.as_f64().unwrap_or(0.0) * 100.0)
        }
        (ColumnKind::Rate, _) => String::new(),
        (_, Some(serde_json::Value::String(v))) => v.clone(),
        (_, Some(v)) => v.to_string(),
        (_, None) => String::new(),
    }
}

pub fn write<W: Write>(s: &Summary, format: SummaryFormat, mut out: W) -> Result<(), ExportError> {
    match format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut out, s).map_err(std::io::Error::from)?;
        }
        SummaryFormat::Csv => {
            out.write_all(b"\xEF\xBB\xBF")?;
            let mut w = csv::Writer::from_writer(&mut out);
            let header: Vec<&str> = LEAD
                .into_iter()
                .chain(s.columns.iter().map(|c| c.header_zh.as_str()))
                .collect();
            w.write_record(&header)?;
            for row in all_rows(s) {
                let mut cells = vec![
                    escape_cell(&row.org_code).into_owned(),
                    escape_cell(&row.org_name).into_owned(),
                    row.level.clone(),
                ];
                cells.extend((0..s.columns.len()).map(|i| text_cell(s, row, i)));
                w.write_record(&cells)?;
            }
            w.flush()?;
        }
        SummaryFormat::Xlsx => write_xlsx(s, &mut out)?,
    }
    out.flush()?;
    Ok(())
}

fn write_xlsx<W: Write>(s: &Summary, out: &mut W) -> Result<(), ExportError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_text_wrap();
    let percent = Format::new().set_num_format("0.00%");
    let yuan = Format::new().set_num_format("#,##0.00");
    let count = Format::new().set_num_format("0");
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name("汇总")?;
    for (i, h) in LEAD
        .into_iter()
        .chain(s.columns.iter().map(|c| c.header_zh.as_str()))
        .enumerate()
    {
        let col = u16::try_from(i).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, h, &bold)?;
        sheet.set_column_width(col, if i < 2 { 18.0 } else { 11.0 })?;
    }
    sheet.set_freeze_panes(1, 2)?;
    for (r, row) in all_rows(s).enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        sheet.write_string_with_format(r, 0, &row.org_code, &text)?;
        sheet.write_string(r, 1, escape_cell(&row.org_name))?;
        sheet.write_string(r, 2, &row.level)?;
        for (i, c) in s.columns.iter().enumerate() {
            let col = u16::try_from(i + LEAD.len()).unwrap_or(u16::MAX);
            match (c.kind, row.cells.get(&c.id)) {
                (ColumnKind::Rate, Some(serde_json::Value::Number(n))) => {
                    sheet.write_number_with_format(r, col, n.as_f64().unwrap_or(0.0), &percent)?;
                }
                (ColumnKind::Rate, _) => {}
                (ColumnKind::Amount, _) => {
                    sheet.write_number_with_format(
                        r,
                        col,
                        row.count(&c.id) as f64 / 100.0,
                        &yuan,
                    )?;
                }
                (ColumnKind::Count, _) => {
                    sheet.write_number_with_format(r, col, row.count(&c.id) as f64, &count)?;
                }
            }
        }
    }

    let notes = book.add_worksheet();
    notes.set_name("说明")?;
    notes.set_column_width(0, 22.0)?;
    notes.set_column_width(1, 30.0)?;
    notes.set_column_width(2, 90.0)?;
    let d = &s.deadlines;
    let mut lines: Vec<(String, String)> = vec![
        ("统计机构".into(), format!("{} {}", s.org_code, s.org_name)),
        ("毕业年份".into(), s.graduation_year.to_string()),
        (
            "统计截止日".into(),
            format!(
                "{}（按北京时间当日 24:00 前入库、签收的数据和当日及以前日期的服务事件统计）",
                s.as_of
            ),
        ),
        (
            "首次联系期限".into(),
            format!(
                "到达县级或基层后 {} 个工作日；{} 及以前到达者于截止日已超期{}",
                d.contact_working_days,
                d.contact_arrived_by,
                if d.provisional {
                    "（工作日历未覆盖，按周末计算，暂定）"
                } else {
                    ""
                }
            ),
        ),
        (
            "1131 服务期限".into(),
            format!(
                "毕业后六个月内；{} 以前毕业者于截止日已超过六个月",
                d.graduated_before
            ),
        ),
        (
            "比率".into(),
            "合计行的比率由合计数重新计算，不取各行比率的平均值".into(),
        ),
    ];
    for e in &s.editions {
        lines.push((format!("代码表：{}", e.table), e.edition.clone()));
    }
    let mut r = 0u32;
    for (k, v) in &lines {
        notes.write_string_with_format(r, 0, k, &bold)?;
        notes.write_string(r, 1, v)?;
        r += 1;
    }
    r += 1;
    for (i, h) in ["列", "列代码", "定义"].into_iter().enumerate() {
        notes.write_string_with_format(r, u16::try_from(i).unwrap_or(0), h, &bold)?;
    }
    for c in &s.columns {
        r += 1;
        notes.write_string(r, 0, &c.header_zh)?;
        notes.write_string(r, 1, &c.id)?;
        notes.write_string(r, 2, &c.definition)?;
    }
    let bytes = book.save_to_buffer()?;
    out.write_all(&bytes)?;
    Ok(())
}
