//! Batches: the sender's home (its own batches), the list in the caller's scope, and a batch's
//! page with its summary, what became of its rows, and its reject report (first lines shown,
//! whole as CSV or XLSX).

use super::format::{count, time};
use super::layout::page;
use super::{blocking, ok, PageResult, PageSession};
use crate::authz::Permission;
use crate::db::batches;
use crate::export::shown_problem;
use crate::ingest::{column_header, BatchSummary};
use crate::web::auth::batch_sources;
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_web::web;
use maud::{html, Markup};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/batches", web::get().to(list))
        .route("/batches/{id}", web::get().to(batch));
}

/// Problem lines shown on the batch page; the whole report is a download.
const SHOWN_PROBLEMS: i64 = 200;

/// A sender's home page: its batches.
pub async fn sender_home(state: web::Data<AppState>, session: PageSession) -> PageResult {
    let content = batch_list(&state, &session).await?;
    ok(page(
        "首页",
        Some(&session),
        html! {
            p { a.button href="/upload" { "上传移交文件" } }
            h2 { "本机构的批次" }
            (content)
        },
    ))
}

async fn list(state: web::Data<AppState>, session: PageSession) -> PageResult {
    let content = batch_list(&state, &session).await?;
    ok(page("批次", Some(&session), content))
}

async fn batch_list(
    state: &web::Data<AppState>,
    session: &PageSession,
) -> Result<Markup, super::PageError> {
    let sources = batch_sources(&session.caller, state)?;
    let rows = blocking(state, move |s| {
        let mut conn = s.db.conn()?;
        Ok(batches::list_scoped(&mut conn, sources.as_deref(), 200)?)
    })
    .await?;
    Ok(html! {
        @if rows.is_empty() {
            p.muted { "还没有批次。" }
        } @else {
            table {
                thead { tr {
                    th { "批次" } th { "文件" } th { "发送机构" } th { "渠道" } th.num { "行数" } th.num { "新增" } th.num { "更新" }
                    th.num { "拒收" } th.num { "警告" } th.num { "无法路由" } th { "完成时间" }
                } }
                tbody {
                    @for b in &rows {
                        tr {
                            td { a href=(format!("/batches/{}", b.id)) { "#" (b.id) } }
                            td { (b.file_name) }
                            td { (b.source) }
                            td { (b.channel) }
                            td.num { (count(b.rows_read)) }
                            td.num { (count(b.accepted)) }
                            td.num { (count(b.updated)) }
                            td.num { @if b.rejected > 0 { span.badge.red { (count(b.rejected)) } } @else { "0" } }
                            td.num { (count(b.warnings)) }
                            td.num { (count(b.quarantined)) }
                            td { (time(b.finished_at)) }
                        }
                    }
                }
            }
            p.muted { "显示最近 200 个批次。同一文件（内容相同）再次上传或投放时不会新建批次，而是指向最早的批次。" }
        }
    })
}

/// The figures of a batch summary.
pub fn summary_facts(s: &BatchSummary) -> Markup {
    html! {
        dl.facts {
            dt { "文件" } dd { (s.file_name) " " span.muted { (s.format) " · " (s.encoding) } }
            dt { "发送机构" } dd { (s.source) " · " (s.channel) }
            dt { "读取行数" } dd { (count(s.rows as i64)) }
            dt { "新增" } dd { (count(s.accepted as i64)) }
            dt { "更新" } dd { (count(s.updated as i64)) }
            dt { "拒收" } dd { (count(s.rejected as i64)) }
            dt { "警告" } dd { (count(s.warnings as i64)) }
            dt { "无法路由（留在分发中心待分配）" } dd { (count(s.quarantined as i64)) }
            dt { "路由方式" } dd {
                @for (m, n) in &s.routed { @if *n > 0 { (m) " " (count(*n as i64)) "　" } }
            }
            @if !s.unknown_columns.is_empty() {
                dt { "未识别的列（已忽略）" } dd { (s.unknown_columns.join("、")) }
            }
            @if let Some(d) = s.duplicate_of {
                dt { "重复文件" } dd { "此文件此前已收到，见 " a href=(format!("/batches/{d}")) { "批次 #" (d) } }
            }
            dt { "区划表版本" } dd { (s.division_edition) }
            dt { "用时" } dd { (time(s.started_at)) " — " (time(s.finished_at)) }
        }
    }
}

#[derive(serde::Deserialize)]
struct BatchQuery {
    done: Option<String>,
}

async fn batch(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<i64>,
    q: web::Query<BatchQuery>,
) -> PageResult {
    let id = id.into_inner();
    let sources = batch_sources(&session.caller, &state)?;
    let caller = session.caller.clone();
    let (row, problems, mask) = blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        let row = batches::get(&mut conn, id)?
            .filter(|b| sources.as_ref().is_none_or(|l| l.contains(&b.source)))
            .ok_or_else(|| ApiError::not_found("批次", "Batch"))?;
        // As the reject report's download: the sender sees its own file whole, staff who work
        // the records too, everyone else masked.
        let mask = !(row.source == caller.org_code || caller.may(Permission::SeePersonalNumbers));
        let problems = batches::problems_page(&mut conn, id, 0, SHOWN_PROBLEMS)?;
        Ok((row, problems, mask))
    })
    .await?;
    let summary = BatchSummary::from_row(&row);
    let content = html! {
        (super::layout::flash(q.done.as_deref()))
        div.panel { (summary_facts(&summary)) }
        h2 { "问题清单" }
        @if problems.is_empty() {
            p { "没有问题行。" }
        } @else {
            p {
                a.button.secondary #rejects-xlsx href=(format!("/api/v1/batches/{id}/rejects?format=xlsx")) { "下载问题清单 XLSX" }
                " "
                a.button.secondary href=(format!("/api/v1/batches/{id}/rejects?format=csv")) { "下载问题清单 CSV" }
            }
            table {
                thead { tr { th.num { "行号" } th { "列" } th { "值" } th { "代码" } th { "说明" } th { "" } } }
                tbody {
                    @for (_, p) in &problems {
                        @let (value, message) = shown_problem(p, mask);
                        tr {
                            td.num { (p.line) }
                            td { (column_header(&p.column_key)) }
                            td { code { (value) } }
                            td { code { (p.code) } }
                            td { (message) }
                            td { @if p.severity == "warning" { span.badge.amber { "警告" } } @else { span.badge.red { "拒收" } } }
                        }
                    }
                }
            }
            @if problems.len() as i64 >= SHOWN_PROBLEMS {
                p.muted { "仅显示前 " (SHOWN_PROBLEMS) " 条，完整清单请下载。" }
            }
        }
    };
    ok(page(&format!("批次 #{id}"), Some(&session), content))
}
