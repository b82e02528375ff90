//! The 111号 summary for a graduation year and a cut-off day: one row per child organisation, the
//! 本级 row and the total, each count linking to the records behind it; CSV and XLSX downloads.

use super::format::{count, query};
use super::layout::{page, pager};
use super::records::placement_label;
use super::{blocking, ok, PageResult, PageSession};
use crate::ingest::china_today;
use crate::report::columns::ColumnKind;
use crate::report::{DrillQuery, Summary, SummaryRow};
use crate::web::AppState;
use actix_web::web;
use chrono::{Datelike, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/summary", web::get().to(summary))
        .route("/summary/records", web::get().to(drill));
}

const PAGE: i64 = 50;

#[derive(Deserialize)]
struct SummaryQuery {
    year: Option<i32>,
    as_of: Option<NaiveDate>,
    org: Option<String>,
}

async fn summary(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<SummaryQuery>,
) -> PageResult {
    let today = china_today();
    let year = q.year.unwrap_or(today.year());
    let as_of = q.as_of.unwrap_or(today);
    let org = q.org.clone().filter(|o| !o.is_empty());
    let caller = session.caller.clone();
    let wanted = org.clone();
    let report = blocking(&state, move |s| {
        Ok(s.reports.summary(&caller, year, as_of, wanted.as_deref())?)
    })
    .await?;
    let params = |format: &str| {
        query(&[
            ("year", Some(year.to_string())),
            ("as_of", Some(as_of.to_string())),
            ("org", org.clone()),
            ("format", Some(format.to_string())),
        ])
    };
    let content = html! {
        form.row method="get" action="/summary" {
            label { "毕业年份" input type="number" name="year" value=(year) min="2000" max="2100"; }
            label { "统计截止日" input type="date" name="as_of" value=(as_of.to_string()); }
            label { "机构代码（默认本机构）" input type="text" name="org" value=(org.clone().unwrap_or_default()) size="10"; }
            button.secondary type="submit" { "统计" }
        }
        p {
            a.button.secondary #summary-xlsx href=(format!("/api/v1/reports/summary{}", params("xlsx"))) { "下载 XLSX" }
            " "
            a.button.secondary href=(format!("/api/v1/reports/summary{}", params("csv"))) { "下载 CSV" }
        }
        p.muted {
            (report.org_name) "（" (report.org_code) "）· " (year) " 届 · 截至 " (as_of) " 日终 · 首次联系期限 "
            (report.deadlines.contact_working_days) " 个工作日"
            @if report.deadlines.provisional { " " span.badge.amber { "暂定" } }
            " · 点击数字查看对应记录"
        }
        div style="overflow-x:auto" { (table(&report, year, as_of)) }
    };
    ok(page("111号汇总表", Some(&session), content))
}

fn table(report: &Summary, year: i32, as_of: NaiveDate) -> Markup {
    let link = |row: &SummaryRow, column: &str| {
        format!(
            "/summary/records{}",
            query(&[
                ("year", Some(year.to_string())),
                ("as_of", Some(as_of.to_string())),
                ("column", Some(column.to_string())),
                (
                    "org",
                    Some(if row.org_code.is_empty() {
                        report.org_code.clone()
                    } else {
                        row.org_code.clone()
                    }),
                ),
                ("own", row.own.then(|| "true".to_string())),
            ])
        )
    };
    let cell = |row: &SummaryRow, c: &crate::report::columns::Column, total: bool| -> Markup {
        let value = row.cells.get(&c.id);
        html! {
            @match c.kind {
                ColumnKind::Rate => td.num { (rate_text(value)) },
                ColumnKind::Amount => td.num { (value.and_then(|v| v.as_str()).unwrap_or("0.00")) },
                ColumnKind::Count => {
                    @let n = row.count(&c.id);
                    td.num {
                        @if n > 0 && c.drill.is_some() {
                            a href=(link(row, c.drill.as_deref().unwrap_or(&c.id))) data-column=(c.id) data-total=[total.then_some("1")] { (count(n)) }
                        } @else { (count(n)) }
                    }
                }
            }
        }
    };
    html! {
        table #summary {
            thead { tr {
                th { "机构" }
                @for c in &report.columns { th.num title=(c.definition) { (c.header_zh) } }
            } }
            tbody {
                @for row in &report.rows {
                    tr {
                        td {
                            @if row.own { (row.org_name) }
                            @else { a href=(format!("/summary{}", query(&[("year", Some(year.to_string())), ("as_of", Some(as_of.to_string())), ("org", Some(row.org_code.clone()))]))) { (row.org_name) } }
                        }
                        @for c in &report.columns { (cell(row, c, false)) }
                    }
                }
                tr.total {
                    td { "合计" }
                    @for c in &report.columns { (cell(&report.total, c, true)) }
                }
            }
        }
    }
}

fn rate_text(v: Option<&serde_json::Value>) -> String {
    match v.and_then(|v| v.as_f64()) {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".into(),
    }
}

#[derive(Deserialize)]
struct DrillParams {
    year: Option<i32>,
    as_of: Option<NaiveDate>,
    column: String,
    org: Option<String>,
    own: Option<bool>,
    after: Option<i64>,
}

async fn drill(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<DrillParams>,
) -> PageResult {
    let today = china_today();
    let dq = DrillQuery {
        year: q.year.unwrap_or(today.year()),
        as_of: q.as_of.unwrap_or(today),
        org: q.org.clone().filter(|o| !o.is_empty()),
        own: q.own.unwrap_or(false),
        column: q.column.clone(),
    };
    let caller = session.caller.clone();
    let after = q.after;
    let wanted = dq.clone();
    let (records, header) = blocking(&state, move |s| {
        let page = s.reports.drill(&caller, &wanted, after, Some(PAGE))?;
        let header = s
            .reports
            .column_header(&wanted.column)
            .unwrap_or_else(|| wanted.column.clone());
        Ok((page, header))
    })
    .await?;
    let params = |extra: (&str, Option<String>)| {
        query(&[
            ("year", Some(dq.year.to_string())),
            ("as_of", Some(dq.as_of.to_string())),
            ("column", Some(dq.column.clone())),
            ("org", dq.org.clone()),
            ("own", dq.own.then(|| "true".to_string())),
            extra,
        ])
    };
    let content = html! {
        p.muted {
            (dq.org.clone().unwrap_or_else(|| session.caller.org_code.clone())) @if dq.own { "（本级）" }
            " · " (dq.year) " 届 · 截至 " (dq.as_of) " · "
            a href=(format!("/summary{}", query(&[("year", Some(dq.year.to_string())), ("as_of", Some(dq.as_of.to_string())), ("org", dq.org.clone())]))) { "返回汇总表" }
        }
        p {
            a.button.secondary href=(format!("/api/v1/reports/summary/records{}", params(("format", Some("xlsx".into()))))) { "下载全部 XLSX" }
            " "
            a.button.secondary href=(format!("/api/v1/reports/summary/records{}", params(("format", Some("csv".into()))))) { "下载全部 CSV" }
        }
        @if records.records.is_empty() {
            p.muted { "没有记录。" }
        } @else {
            table #drill {
                thead { tr { th { "记录号" } th { "姓名" } th { "证件号码" } th { "学校" } th { "户籍地" } th { "状态" } } }
                tbody {
                    @for r in &records.records {
                        @let rec = &r.record.record;
                        tr {
                            td { a href=(format!("/records/{}", rec.id)) { (rec.id) } }
                            td { (rec.name) }
                            td { code { (rec.id_number) } }
                            td { (rec.school_name) }
                            td { (rec.hukou_address.as_deref().or(rec.hukou_code.as_deref()).unwrap_or("")) }
                            td { (placement_label(r.placement.state)) }
                        }
                    }
                }
            }
        }
        (pager(&format!("/summary/records{}", params(("x", None)).trim_end_matches('&')), records.records.len(), PAGE as usize, records.next_cursor))
    };
    ok(page(&format!("{header} · 记录"), Some(&session), content))
}
