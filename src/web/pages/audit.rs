//! The audit log for auditors: events of actors within the auditor's scope, filtered by who,
//! what, when and organisation, paged backwards by a cursor, exportable as CSV or XLSX.

use super::format::{query, time};
use super::layout::page;
use super::{blocking, ok, PageError, PageResult, PageSession};
use crate::db::audit::{self, AuditFilter, AuditRow};
use crate::domain::catalogue::ErrorCode;
use crate::domain::organisation::Role;
use crate::export::{TableFormat, TableWriter};
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate};
use maud::html;
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(log))
        .route("/audit/export", web::get().to(export));
}

const PAGE: i64 = 100;
/// At most this many events in one export (narrow the filter for more).
const EXPORT_MAX: i64 = 100_000;

#[derive(Deserialize, Clone)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    org: Option<String>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    before: Option<i64>,
    format: Option<String>,
}

fn require_auditor(session: &PageSession) -> Result<(), PageError> {
    if session.caller.role == Role::Auditor {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "只有审计人员可以查看审计日志。",
            "Only auditors may read the audit log.",
        )
        .into())
    }
}

/// The filter of a query: days are China's, stored times UTC; an organisation is taken with
/// everything below it, and only within the auditor's scope.
fn filter_of(
    state: &AppState,
    session: &PageSession,
    q: &AuditQuery,
) -> Result<AuditFilter, PageError> {
    let some = |s: &Option<String>| {
        s.clone()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let orgs = match some(&q.org) {
        None => None,
        Some(code) => {
            let tree = state.dist.tree()?;
            let node = tree
                .by_code(&code)
                .filter(|n| session.caller.scope.contains(n.id))
                .ok_or_else(|| ApiError::not_found("机构", "Organisation"))?;
            Some(tree.subtree(node.id))
        }
    };
    let utc = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8);
    Ok(AuditFilter {
        actor: some(&q.actor),
        action: some(&q.action),
        subject: None,
        orgs,
        from: q.from.map(utc),
        until: q.until.map(|d| utc(d) + Duration::days(1)),
    })
}

async fn log(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<AuditQuery>,
) -> PageResult {
    require_auditor(&session)?;
    let q = q.into_inner();
    let filter = filter_of(&state, &session, &q)?;
    let scope = session.caller.scope.clone();
    let before = q.before;
    let rows = blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        Ok(audit::search(&mut conn, &scope, &filter, before, PAGE)?)
    })
    .await?;
    let params = |extra: (&str, Option<String>)| {
        query(&[
            ("actor", q.actor.clone()),
            ("action", q.action.clone()),
            ("org", q.org.clone()),
            ("from", q.from.map(|d| d.to_string())),
            ("until", q.until.map(|d| d.to_string())),
            extra,
        ])
    };
    let value = |s: &Option<String>| s.clone().unwrap_or_default();
    let content = html! {
        form.row method="get" action="/audit" {
            label { "操作人" input type="text" name="actor" value=(value(&q.actor)) placeholder="user:zhang"; }
            label { "操作" input type="text" name="action" value=(value(&q.action)) placeholder="record.viewed"; }
            label { "机构代码（含下级）" input type="text" name="org" value=(value(&q.org)) size="10"; }
            label { "自" input type="date" name="from" value=(q.from.map(|d| d.to_string()).unwrap_or_default()); }
            label { "至" input type="date" name="until" value=(q.until.map(|d| d.to_string()).unwrap_or_default()); }
            button.secondary type="submit" { "筛选" }
        }
        p {
            a.button.secondary href=(format!("/audit/export{}", params(("format", Some("xlsx".into()))))) { "导出 XLSX" }
            " "
            a.button.secondary href=(format!("/audit/export{}", params(("format", Some("csv".into()))))) { "导出 CSV" }
        }
        (table(&rows))
        nav.pager {
            @if rows.len() as i64 >= PAGE {
                @if let Some(last) = rows.last() { a href=(format!("/audit{}", params(("before", Some(last.id.to_string()))))) { "更早 →" } }
            } @else { span.muted { "已到最早" } }
        }
    };
    ok(page("审计日志", Some(&session), content))
}

fn table(rows: &[AuditRow]) -> maud::Markup {
    html! {
        @if rows.is_empty() { p.muted { "没有符合条件的事件。" } }
        @else {
            table #audit {
                thead { tr { th { "#" } th { "时间" } th { "操作人" } th { "操作" } th { "对象" } th { "内容" } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (r.id) } td { (time(r.at)) } td { (r.actor) } td { code { (r.action) } } td { (r.subject) }
                            td.muted { (r.after.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

async fn export(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<AuditQuery>,
) -> PageResult {
    require_auditor(&session)?;
    let q = q.into_inner();
    let format = match q.format.as_deref() {
        None | Some("csv") => TableFormat::Csv,
        Some("xlsx") => TableFormat::Xlsx,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::FormatInvalid,
                "格式应为 csv 或 xlsx。",
                "Format must be csv or xlsx.",
            )
            .into())
        }
    };
    let filter = filter_of(&state, &session, &q)?;
    let caller = session.caller.clone();
    let bytes = blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        let mut out = Vec::new();
        let mut writer = TableWriter::new(
            format,
            &mut out,
            &[
                "编号",
                "时间（北京）",
                "操作人",
                "操作",
                "对象",
                "修改前",
                "内容",
            ],
        )
        .map_err(ApiError::internal)?;
        let (mut before, mut written) = (None, 0i64);
        while written < EXPORT_MAX {
            let rows = audit::search(&mut conn, &caller.scope, &filter, before, 5_000)?;
            let Some(last) = rows.last() else { break };
            before = Some(last.id);
            for r in &rows {
                let (id, at) = (r.id.to_string(), time(r.at));
                writer
                    .row([
                        id.as_str(),
                        at.as_str(),
                        r.actor.as_str(),
                        r.action.as_str(),
                        r.subject.as_str(),
                        r.before.as_deref().unwrap_or(""),
                        r.after.as_deref().unwrap_or(""),
                    ])
                    .map_err(ApiError::internal)?;
            }
            written += rows.len() as i64;
        }
        writer.finish().map_err(ApiError::internal)?;
        audit::record(
            &mut conn,
            &caller.actor,
            "audit.exported",
            &format!("org:{}", caller.org_code),
            None,
            Some(&serde_json::json!({ "events": written })),
        )?;
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"audit.{}\"", format.extension()),
        ))
        .body(bytes))
}
