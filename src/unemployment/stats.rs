//! The monthly registered-unemployment statistics of 人社厅发〔2020〕79号 §九–十一: the period
//! 21st of the previous month to the 20th, per area below the chosen organisation, with a total
//! that is the sum of its rows; national-platform and local registrations are one set (one
//! person, one registration: persons counted once by ID number); the records behind every
//! count; CSV (UTF-8 with BOM), XLSX and JSON.

use super::{Result, Unemployment};
use crate::authz::{Caller, OrgTree, Permission};
use crate::db::unemployment::{self as store, ApplicationRow};
use crate::distribution::DistError;
use crate::domain::catalogue::ErrorCode;
use crate::domain::deregistration as annex;
use crate::domain::masking;
use crate::domain::unemployment::{self as rules, Level};
use crate::export::{escape_cell, ExportError};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// A reporting period (统计报表期).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    /// `2026-11`: the month the period ends in.
    pub month: String,
    #[schema(value_type = String)]
    pub from: NaiveDate,
    #[schema(value_type = String)]
    pub to: NaiveDate,
    /// The last day of the 3 days at the start of the next month the report is due in.
    #[schema(value_type = String)]
    pub due: NaiveDate,
}

impl Period {
    /// The period ending on the 20th of `year`-`month`.
    pub fn of(year: i32, month: u32) -> Option<Period> {
        let to = NaiveDate::from_ymd_opt(year, month, 20)?;
        let (py, pm) = if month == 1 {
            (year - 1, 12)
        } else {
            (year, month - 1)
        };
        let from = NaiveDate::from_ymd_opt(py, pm, 21)?;
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let due = NaiveDate::from_ymd_opt(ny, nm, 3)?;
        Some(Period {
            month: format!("{year:04}-{month:02}"),
            from,
            to,
            due,
        })
    }

    /// `2026-11` → the period 2026-10-21 … 2026-11-20.
    pub fn parse(s: &str) -> Option<Period> {
        let (y, m) = s.trim().split_once('-')?;
        Period::of(
            y.parse().ok()?,
            m.parse().ok().filter(|m| (1..=12).contains(m))?,
        )
    }

    /// The period a day falls in: the 21st and later belong to the next month's period.
    pub fn containing(day: NaiveDate) -> Period {
        let (y, m) = if day.day() >= 21 {
            if day.month() == 12 {
                (day.year() + 1, 1)
            } else {
                (day.year(), day.month() + 1)
            }
        } else {
            (day.year(), day.month())
        };
        // The 20th of a real month always exists.
        Period::of(y, m).unwrap_or(Period {
            month: String::new(),
            from: day,
            to: day,
            due: day,
        })
    }

    fn holds(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }
}

/// A column of the statistics.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatColumn {
    pub id: String,
    pub header_zh: String,
    /// How it is counted, in Chinese (the XLSX's 说明 sheet says the same).
    pub definition_zh: String,
}

/// The columns: new registrations, exits by each AJC00A reason and in all, registered at the
/// period's end (urban), of them 就业困难 and 长期失业.
pub fn columns() -> Vec<StatColumn> {
    let mut c = vec![
        col(
            "new_registrations",
            "本期新增登记失业人数",
            "审核通过（登记失业）日期在报表期内的人数，按证件号码计一人",
        ),
        col(
            "exits",
            "本期注销登记人数",
            "注销失业登记时间在报表期内的人数",
        ),
    ];
    for (code, name) in annex::exit_reasons() {
        c.push(col(
            &format!("exit_{code}"),
            &format!("注销：{code} {name}"),
            &format!("注销原因为 {code}（{name}）的人数"),
        ));
    }
    c.extend([
        col(
            "registered_at_end",
            "期末城镇登记失业人数",
            "期末仍处于登记失业状态、且在城镇区域办理登记的人数（人社厅发〔2020〕79号 第十条；审核时未标明农村的按城镇计）",
        ),
        col(
            "hardship_at_end",
            "其中：就业困难人员",
            "期末城镇登记失业人员中类型为就业困难的人数",
        ),
        col(
            "long_term_at_end",
            "其中：长期失业人员",
            "期末城镇登记失业人员中登记失业 6 个月以上的人数（黑人社函〔2020〕87号 四级三类）",
        ),
        col(
            "registered_all_at_end",
            "期末登记失业人数（含农村）",
            "期末仍处于登记失业状态的全部人数，城镇与否均计",
        ),
    ]);
    c
}

fn col(id: &str, zh: &str, def: &str) -> StatColumn {
    StatColumn {
        id: id.into(),
        header_zh: zh.into(),
        definition_zh: def.into(),
    }
}

/// One area's counts.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatRow {
    pub org_code: String,
    pub org_name: String,
    /// `本级` for what the organisation holds itself.
    pub scope: String,
    pub cells: BTreeMap<String, i64>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MonthlyStats {
    pub period: Period,
    pub org_code: String,
    pub org_name: String,
    pub columns: Vec<StatColumn>,
    pub rows: Vec<StatRow>,
    /// The sum of the rows, column by column.
    pub total: StatRow,
}

/// Which column counts an application, for the drill-down and the counts alike.
fn counted_in(r: &ApplicationRow, column: &str, p: &Period) -> bool {
    let passed = matches!(r.status.as_str(), "registered" | "exited");
    let registered_at_end =
        passed && r.reviewed_on.is_some_and(|d| d <= p.to) && r.exit_on.is_none_or(|d| d > p.to);
    match column {
        "new_registrations" => passed && r.reviewed_on.is_some_and(|d| p.holds(d)),
        "exits" => r.exit_on.is_some_and(|d| p.holds(d)),
        // Urban unless the office recorded 农村 at review.
        "registered_at_end" => registered_at_end && r.urban != Some(false),
        "hardship_at_end" => {
            registered_at_end
                && r.urban != Some(false)
                && r.skill_type.as_deref() == Some("hardship")
        }
        "long_term_at_end" => {
            registered_at_end
                && r.urban != Some(false)
                && r.reviewed_on
                    .is_some_and(|d| rules::level_on(d, p.to) == Level::Long)
        }
        "registered_all_at_end" => registered_at_end,
        other => match other.strip_prefix("exit_") {
            Some(code) => {
                r.exit_on.is_some_and(|d| p.holds(d)) && r.exit_reason.as_deref() == Some(code)
            }
            None => false,
        },
    }
}

/// The area row an organisation's applications count in: the child of `top` it lies under, or
/// `top` itself.
fn area_of(tree: &OrgTree, top: i64, org: i64) -> i64 {
    let mut cur = org;
    while let Some(node) = tree.get(cur) {
        match node.parent {
            Some(p) if p == top => return cur,
            Some(p) => cur = p,
            None => return top,
        }
    }
    top
}

fn bad_query(zh: &str, en: &str) -> super::UnemploymentError {
    DistError::Invalid {
        code: ErrorCode::QueryInvalid,
        zh: zh.into(),
        en: en.into(),
    }
    .into()
}

impl Unemployment {
    fn top_org(&self, tree: &OrgTree, caller: &Caller, org: Option<&str>) -> Result<i64> {
        match org.map(str::trim).filter(|o| !o.is_empty()) {
            None => Ok(caller.org_id),
            Some(code) => match tree.by_code(code) {
                Some(n) if caller.scope.contains(n.id) => Ok(n.id),
                _ => Err(DistError::NotFound.into()),
            },
        }
    }

    /// The statistics of `period` for the areas under `org` (the caller's own by default).
    pub fn monthly(
        &self,
        caller: &Caller,
        period: &Period,
        org: Option<&str>,
    ) -> Result<MonthlyStats> {
        caller.require(Permission::ReadRecords)?;
        let tree = self.tree()?;
        let top = self.top_org(&tree, caller, org)?;
        let scope = tree.scope_of(top);
        let rows = store::in_scope(&mut *self.db.conn()?, &scope, &[])?;
        let columns = columns();
        // Persons per (area, column): a set of ID numbers, so a person counts once per area.
        let mut persons: BTreeMap<(i64, String), BTreeSet<String>> = BTreeMap::new();
        for r in &rows {
            let area = area_of(&tree, top, r.org_id);
            for c in &columns {
                if counted_in(r, &c.id, period) {
                    persons
                        .entry((area, c.id.clone()))
                        .or_default()
                        .insert(r.id_number.clone());
                }
            }
        }
        // The receiving organisations below, by code, then what the organisation holds itself.
        let mut areas: Vec<i64> = tree
            .children(top)
            .iter()
            .copied()
            .filter(|id| tree.get(*id).is_some_and(|n| n.level.receives()))
            .collect();
        areas.sort_by_key(|id| tree.get(*id).map(|n| n.code.clone()).unwrap_or_default());
        areas.push(top);
        let mut out_rows = Vec::new();
        let mut total = BTreeMap::new();
        for area in areas {
            let Some(node) = tree.get(area) else { continue };
            let mut cells = BTreeMap::new();
            for c in &columns {
                let n = persons
                    .get(&(area, c.id.clone()))
                    .map_or(0, |s| s.len() as i64);
                *total.entry(c.id.clone()).or_insert(0) += n;
                cells.insert(c.id.clone(), n);
            }
            out_rows.push(StatRow {
                org_code: node.code.clone(),
                org_name: node.name.clone(),
                scope: if area == top {
                    "本级".into()
                } else {
                    "辖区".into()
                },
                cells,
            });
        }
        let node = tree.get(top);
        Ok(MonthlyStats {
            period: period.clone(),
            org_code: node.map(|n| n.code.clone()).unwrap_or_default(),
            org_name: node.map(|n| n.name.clone()).unwrap_or_default(),
            columns,
            rows: out_rows,
            total: StatRow {
                org_code: node.map(|n| n.code.clone()).unwrap_or_default(),
                org_name: "合计".into(),
                scope: "合计".into(),
                cells: total,
            },
        })
    }

    /// The applications behind one count: `column` of the area `org` (with its subtree).
    pub fn monthly_records(
        &self,
        caller: &Caller,
        period: &Period,
        org: Option<&str>,
        column: &str,
    ) -> Result<Vec<StatRecord>> {
        caller.require(Permission::ReadRecords)?;
        if !columns().iter().any(|c| c.id == column) {
            return Err(bad_query("统计列不存在。", "No such column."));
        }
        let tree = self.tree()?;
        let top = self.top_org(&tree, caller, org)?;
        let mut conn = self.db.conn()?;
        let rows = store::in_scope(&mut conn, &tree.scope_of(top), &[])?;
        self.db.read_log().record(
            &mut conn,
            &caller.actor,
            "unemployment.statistics.records",
            &format!("unemployment-statistics:{}:{column}", period.month),
            Some(&serde_json::json!({"org": tree.get(top).map(|n| n.code.clone())})),
        )?;
        let masked = caller.sees_masked();
        // One line per person and area, as the count counts them.
        let mut seen = BTreeSet::new();
        Ok(rows
            .into_iter()
            .filter(|r| counted_in(r, column, period))
            .filter(|r| seen.insert((area_of(&tree, top, r.org_id), r.id_number.clone())))
            .map(|r| StatRecord {
                office: tree
                    .get(r.org_id)
                    .map(|n| n.name.clone())
                    .unwrap_or_default(),
                id_number: if masked {
                    masking::id_number(&r.id_number)
                } else {
                    r.id_number
                },
                application_no: r.application_no,
                name: r.name,
                status: r.status,
                registered_on: r.reviewed_on,
                exit_on: r.exit_on,
                exit_reason: r.exit_reason,
            })
            .collect())
    }
}

/// One application behind a count.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StatRecord {
    pub application_no: String,
    pub name: String,
    pub id_number: String,
    pub office: String,
    pub status: String,
    #[schema(value_type = Option<String>)]
    pub registered_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub exit_on: Option<NaiveDate>,
    pub exit_reason: Option<String>,
}

const LEAD: [&str; 3] = ["机构代码", "机构名称", "范围"];

/// The statistics as CSV (UTF-8 with BOM), XLSX (with a 说明 sheet) or JSON.
pub fn write<W: Write>(
    s: &MonthlyStats,
    format: crate::report::write::SummaryFormat,
    mut out: W,
) -> std::result::Result<(), ExportError> {
    use crate::report::write::SummaryFormat;
    let rows = || s.rows.iter().chain(std::iter::once(&s.total));
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
            for row in rows() {
                let mut cells = vec![
                    escape_cell(&row.org_code).into_owned(),
                    escape_cell(&row.org_name).into_owned(),
                    row.scope.clone(),
                ];
                cells.extend(
                    s.columns
                        .iter()
                        .map(|c| row.cells.get(&c.id).copied().unwrap_or(0).to_string()),
                );
                w.write_record(&cells)?;
            }
            w.flush()?;
        }
        SummaryFormat::Xlsx => {
            let mut book = Workbook::new();
            let bold = Format::new().set_bold().set_text_wrap();
            let text = Format::new().set_num_format("@");
            let sheet = book.add_worksheet();
            sheet.set_name("月度统计")?;
            for (i, h) in LEAD
                .into_iter()
                .chain(s.columns.iter().map(|c| c.header_zh.as_str()))
                .enumerate()
            {
                let col = u16::try_from(i).unwrap_or(u16::MAX);
                sheet.write_string_with_format(0, col, h, &bold)?;
                sheet.set_column_width(col, if i < 2 { 18.0 } else { 12.0 })?;
            }
            sheet.set_freeze_panes(1, 2)?;
            for (r, row) in rows().enumerate() {
                let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
                sheet.write_string_with_format(r, 0, &row.org_code, &text)?;
                sheet.write_string(r, 1, escape_cell(&row.org_name))?;
                sheet.write_string(r, 2, &row.scope)?;
                for (i, c) in s.columns.iter().enumerate() {
                    let col = u16::try_from(i + LEAD.len()).unwrap_or(u16::MAX);
                    sheet.write_number(
                        r,
                        col,
                        row.cells.get(&c.id).copied().unwrap_or(0) as f64,
                    )?;
                }
            }
            let notes = book.add_worksheet();
            notes.set_name("说明")?;
            notes.write_string_with_format(0, 0, "项目", &bold)?;
            notes.write_string_with_format(0, 1, "说明", &bold)?;
            notes.set_column_width(0, 28.0)?;
            notes.set_column_width(1, 90.0)?;
            let lines = [
                ("统计报表期".to_string(), format!("{} 至 {}（上月21日至本月20日，人社厅发〔2020〕79号 第九条）", s.period.from, s.period.to)),
                ("报送时间".to_string(), format!("{} 前（每月月初3日内）", s.period.due)),
                ("统计机构".to_string(), format!("{} {}", s.org_code, s.org_name)),
                ("口径".to_string(), "全国平台与本地办理的失业登记合并统计，按证件号码一人计一次（第十一条）；合计为各行之和。".to_string()),
            ];
            let mut r = 1u32;
            for (k, v) in lines {
                notes.write_string(r, 0, &k)?;
                notes.write_string(r, 1, &v)?;
                r += 1;
            }
            for c in &s.columns {
                notes.write_string(r, 0, &c.header_zh)?;
                notes.write_string(r, 1, &c.definition_zh)?;
                r += 1;
            }
            let bytes = book.save_to_buffer()?;
            out.write_all(&bytes)?;
        }
    }
    out.flush()?;
    Ok(())
}
