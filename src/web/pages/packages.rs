//! The inbox, the packages sent, and a package's page: its records a page at a time, 签收 in one
//! click, 退回 of the records ticked with a reason, downloads; cutting packages for the level
//! below.

use super::format::{count, day, query, time};
use super::layout::{csrf, flash, page, pager};
use super::{blocking, ok, see_other, FormPairs, PageResult, PageSession};
use crate::authz::Permission;
use crate::db::packages::{HopOutcome, PackageState};
use crate::distribution::reads::PackageView;
use crate::distribution::{PackageId, RecordId, ReturnItem, ReturnReason};
use crate::domain::catalogue::ErrorCode;
use crate::ingest::china_today;
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_web::web;
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/inbox", web::get().to(inbox))
        .route("/packages/sent", web::get().to(sent))
        .route("/packages/cut", web::post().to(cut))
        .route("/packages/{id}", web::get().to(package))
        .route("/packages/{id}/acknowledge", web::post().to(acknowledge))
        .route("/packages/{id}/returns", web::post().to(returns));
}

const PAGE: i64 = 50;

#[derive(Deserialize)]
struct InboxQuery {
    after: Option<i64>,
    state: Option<String>,
    overdue: Option<u8>,
    done: Option<String>,
}

async fn inbox(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<InboxQuery>,
) -> PageResult {
    let caller = session.caller.clone();
    let wanted = q.state.as_deref().and_then(PackageState::parse);
    let after = q.after;
    let page_data = blocking(&state, move |s| {
        Ok(s.dist.inbox(&caller, after, Some(PAGE), wanted)?)
    })
    .await?;
    let only_overdue = q.overdue == Some(1);
    let packages: Vec<&PackageView> = page_data
        .packages
        .iter()
        .filter(|p| !only_overdue || p.overdue)
        .collect();
    let base = format!(
        "/inbox{}",
        query(&[
            ("state", q.state.clone()),
            ("overdue", only_overdue.then(|| "1".to_string())),
        ])
    );
    let may_cut = session.caller.may(Permission::Distribute);
    let content = html! {
        (flash(q.done.as_deref()))
        form.row method="get" action="/inbox" {
            label { "状态"
                select name="state" {
                    option value="" { "全部" }
                    option value="delivered" selected[q.state.as_deref() == Some("delivered")] { "待签收" }
                    option value="acknowledged" selected[q.state.as_deref() == Some("acknowledged")] { "已签收" }
                }
            }
            label { "只看超期" input type="checkbox" name="overdue" value="1" checked[only_overdue]; }
            button.secondary type="submit" { "筛选" }
        }
        (package_table(&packages, true))
        (pager(&base, page_data.packages.len(), PAGE as usize, page_data.next_cursor))
        @if may_cut {
            div.panel {
                h2 { "向下级分发" }
                p.muted { "把本机构待下发的记录按下级机构各切成一个分发包，立即送达。" }
                form.inline method="post" action="/packages/cut" {
                    (csrf(&session))
                    button type="submit" { "切包下发" }
                }
                " " a href="/packages/sent" { "已下发的包 →" }
            }
        }
    };
    ok(page("收件箱", Some(&session), content))
}

fn state_badge(p: &PackageView) -> Markup {
    html! {
        @match p.state {
            PackageState::Acknowledged => span.badge.green { "已签收" },
            PackageState::Delivered if p.overdue => span.badge.red { "超期未签收" },
            PackageState::Delivered => span.badge.amber { "待签收" },
        }
    }
}

fn package_table(packages: &[&PackageView], received: bool) -> Markup {
    html! {
        @if packages.is_empty() {
            p.muted { "没有分发包。" }
        } @else {
            table {
                thead { tr {
                    th { "包号" } th { (if received { "发送机构" } else { "接收机构" }) } th.num { "记录数" } th.num { "退回" }
                    th { "送达时间" } th { "签收期限" } th { "状态" } th { "签收时间" }
                } }
                tbody {
                    @for p in packages {
                        tr.overdue[p.overdue] {
                            td { a href=(format!("/packages/{}", p.id)) { "#" (p.id) } }
                            td { @let o = if received { &p.sender } else { &p.receiver }; (o.name) " " span.muted { (o.code) } }
                            td.num { (count(p.records)) }
                            td.num { (count(p.returned)) }
                            td { (time(p.delivered_at)) }
                            td { (day(p.deadline)) @if p.deadline_provisional { " " span.badge.amber title="工作日日历未覆盖该年份，仅扣除周末" { "暂定" } } }
                            td { (state_badge(p)) }
                            td { @if let Some(at) = p.acknowledged_at { (time(at)) } }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct SentQuery {
    before: Option<i64>,
}

async fn sent(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<SentQuery>,
) -> PageResult {
    let caller = session.caller.clone();
    let before = q.before;
    let views = blocking(&state, move |s| {
        Ok(s.dist.sent(&caller, before, Some(PAGE))?)
    })
    .await?;
    let refs: Vec<&PackageView> = views.iter().collect();
    let content = html! {
        (package_table(&refs, false))
        nav.pager {
            @if views.len() as i64 >= PAGE {
                @if let Some(last) = views.last() {
                    a href=(format!("/packages/sent?before={}", last.id)) { "下一页 →" }
                }
            } @else { span.muted { "已到末页" } }
        }
    };
    ok(page("已下发的包", Some(&session), content))
}

#[derive(Deserialize)]
struct PackageQuery {
    after: Option<i64>,
    done: Option<String>,
}

async fn package(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<i64>,
    q: web::Query<PackageQuery>,
) -> PageResult {
    let id = id.into_inner();
    let caller = session.caller.clone();
    let after = q.after;
    let (view, records) = blocking(&state, move |s| {
        Ok(s.dist
            .package_with_records(&caller, PackageId(id), after, Some(PAGE))
            .map_err(not_found)?)
    })
    .await?;
    let mine = view.receiver.code == session.caller.org_code;
    let may_act =
        mine && session.caller.may(Permission::Distribute) && view.state == PackageState::Delivered;
    let content = html! {
        (flash(q.done.as_deref()))
        div.panel {
            dl.facts {
                dt { "发送机构" } dd { (view.sender.name) " " span.muted { (view.sender.code) } }
                dt { "接收机构" } dd { (view.receiver.name) " " span.muted { (view.receiver.code) } }
                dt { "记录数" } dd { (count(view.records)) "（已退回 " (count(view.returned)) "）" }
                dt { "送达时间" } dd { (time(view.delivered_at)) }
                dt { "签收期限" } dd { (day(view.deadline)) @if view.deadline_provisional { " " span.badge.amber { "暂定" } } }
                dt { "状态" } dd { (state_badge(&view)) @if let Some(at) = view.acknowledged_at { " " (time(at)) " " (view.acknowledged_by.as_deref().unwrap_or("")) } }
            }
            p {
                a.button.secondary href=(format!("/api/v1/packages/{id}/download?format=xlsx")) { "下载 XLSX" }
                " "
                a.button.secondary href=(format!("/api/v1/packages/{id}/download?format=csv")) { "下载 CSV" }
                @if may_act {
                    " "
                    form.inline method="post" action=(format!("/packages/{id}/acknowledge")) {
                        (csrf(&session))
                        button #acknowledge type="submit" { "签收本包" }
                    }
                }
            }
        }
        form method="post" action=(format!("/packages/{id}/returns")) {
            (csrf(&session))
            table {
                thead { tr {
                    @if may_act { th { input type="checkbox" data-select-all="record" title="全选"; } }
                    th { "记录号" } th { "姓名" } th { "证件号码" } th { "学校" } th { "户籍地" } th { "状态" }
                } }
                tbody {
                    @for r in &records.records {
                        tr {
                            @if may_act { td { input type="checkbox" name="record" value=(r.record.record.id); } }
                            td { a href=(format!("/records/{}", r.record.record.id)) { (r.record.record.id) } }
                            td { (r.record.record.name) }
                            td { code { (r.record.record.id_number) } }
                            td { (r.record.record.school_name) }
                            td { (r.record.record.hukou_address.as_deref().or(r.record.record.hukou_code.as_deref()).unwrap_or("")) }
                            td {
                                @match r.outcome {
                                    Some(HopOutcome::Returned) => { span.badge.red { "已退回" } " " (r.return_reason.as_deref().unwrap_or("")) }
                                    Some(HopOutcome::Acknowledged) => span.badge.green { "已签收" },
                                    _ => span.badge.amber { "待签收" },
                                }
                            }
                        }
                    }
                }
            }
            (pager(&format!("/packages/{id}"), records.records.len(), PAGE as usize, records.next_cursor))
            @if may_act {
                div.panel {
                    h2 { "退回勾选的记录" }
                    div.row {
                        label { "原因 "
                            select name="reason" required {
                                option value="not_our_jurisdiction" { (ReturnReason::NotOurJurisdiction.label()) }
                                option value="wrong_information" { (ReturnReason::WrongInformation.label()) }
                                option value="duplicate" { (ReturnReason::Duplicate.label()) }
                            }
                        }
                        " "
                        label { "说明 " input type="text" name="note" maxlength="500" placeholder="发送方将看到此说明"; }
                        " "
                        button.danger #return type="submit" { "退回" }
                    }
                }
            }
        }
    };
    ok(page(&format!("分发包 #{id}"), Some(&session), content))
}

fn not_found(e: crate::distribution::DistError) -> ApiError {
    match e {
        crate::distribution::DistError::NotFound => ApiError::not_found("分发包", "Package"),
        other => other.into(),
    }
}

async fn acknowledge(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<i64>,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let id = id.into_inner();
    let caller = session.caller.clone();
    blocking(&state, move |s| {
        s.dist
            .acknowledge(&caller, PackageId(id), &[])
            .map_err(not_found)?;
        Ok(())
    })
    .await?;
    see_other(&format!("/packages/{id}?done=acknowledged"))
}

async fn returns(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<i64>,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let id = id.into_inner();
    let reason = match form.get("reason") {
        "not_our_jurisdiction" => ReturnReason::NotOurJurisdiction,
        "wrong_information" => ReturnReason::WrongInformation,
        "duplicate" => ReturnReason::Duplicate,
        other => {
            return Err(ApiError::new(
                ErrorCode::BodyInvalid,
                &format!("退回原因无效：“{other}”。"),
                &format!("Invalid return reason {other:?}."),
            )
            .into())
        }
    };
    let note = Some(form.get("note").to_string()).filter(|n| !n.is_empty());
    let mut items = Vec::new();
    for raw in form.all("record") {
        let record_id: i64 = raw.trim().parse().map_err(|_| {
            ApiError::new(
                ErrorCode::BodyInvalid,
                "记录号无效。",
                "A record id is not a number.",
            )
        })?;
        items.push(ReturnItem {
            record_id: RecordId(record_id),
            reason,
            note: note.clone(),
        });
    }
    if items.is_empty() {
        return Err(ApiError::new(
            ErrorCode::BodyInvalid,
            "请先勾选要退回的记录。",
            "Tick the records to return first.",
        )
        .into());
    }
    let n = items.len();
    let caller = session.caller.clone();
    blocking(&state, move |s| {
        s.dist
            .return_records(&caller, PackageId(id), &items)
            .map_err(not_found)?;
        Ok(())
    })
    .await?;
    see_other(&format!("/packages/{id}?done=returned:{n}"))
}

async fn cut(state: web::Data<AppState>, session: PageSession, form: FormPairs) -> PageResult {
    session.check(form.get("csrf"))?;
    let caller = session.caller.clone();
    let to = Some(form.get("to").to_string()).filter(|t| !t.is_empty());
    let made = blocking(&state, move |s| {
        Ok(s.dist.cut(&caller, to.as_deref(), china_today())?)
    })
    .await?;
    let records: i64 = made.iter().map(|p| p.records).sum();
    if made.is_empty() {
        see_other("/inbox?done=nothing")
    } else {
        see_other(&format!("/inbox?done=cut:{}:{records}", made.len()))
    }
}
