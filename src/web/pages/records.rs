//! Records: the 待分配 queue with assignment, the search within the caller's scope, and the record
//! page (transfer data, route and why, every hop, the follow-up timeline with forms to add to it).

use super::format::{count, day, query, time};
use super::layout::{csrf, flash, page, pager};
use super::{blocking, ok, see_other, FormPairs, PageResult, PageSession};
use crate::authz::Permission;
use crate::db::packages::PlacementState;
use crate::distribution::reads::{HeldRecord, Holders};
use crate::distribution::RecordId;
use crate::domain::catalogue::ErrorCode;
use crate::domain::followup::FollowupTable;
use crate::domain::followup::{EventKind, Field, RawEvent};
use crate::followup::{EventStatus, Source};
use crate::ingest::china_today;
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_web::web;
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/queue", web::get().to(queue))
        .route("/queue/assign", web::post().to(assign))
        .route("/records", web::get().to(search))
        .route("/records/{id}", web::get().to(record))
        .route("/records/{id}/followup", web::post().to(add_followup));
}

const PAGE: i64 = 50;

#[derive(Deserialize)]
struct QueueQuery {
    after: Option<i64>,
    state: Option<String>,
    done: Option<String>,
}

async fn queue(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<QueueQuery>,
) -> PageResult {
    let caller = session.caller.clone();
    let wanted = q
        .state
        .as_deref()
        .and_then(PlacementState::parse)
        .unwrap_or(PlacementState::Unassigned);
    let after = q.after;
    let (records, children) = blocking(&state, move |s| {
        let page = s
            .dist
            .held_records(&caller, Holders::Own, Some(wanted), after, Some(PAGE))?;
        let tree = s.dist.tree()?;
        let children: Vec<(String, String)> = tree
            .children(caller.org_id)
            .iter()
            .filter_map(|c| tree.get(*c))
            .filter(|n| n.level.receives())
            .map(|n| (n.code.clone(), n.name.clone()))
            .collect();
        Ok((page, children))
    })
    .await?;
    let may_assign = session.caller.may(Permission::Distribute) && !children.is_empty();
    let base = format!("/queue{}", query(&[("state", q.state.clone())]));
    let content = html! {
        (flash(q.done.as_deref()))
        p.muted { "本机构持有、等待人工选择下级机构的记录（被退回、无法路由，或已落地区县待分到基层服务点）。" }
        form.row method="get" action="/queue" {
            label { "状态"
                select name="state" {
                    @for (v, l) in [("unassigned", "待分配"), ("queued", "待下发"), ("settled", "已落地")] {
                        option value=(v) selected[wanted.as_str() == v] { (l) }
                    }
                }
            }
            button.secondary type="submit" { "查看" }
        }
        form method="post" action="/queue/assign" {
            (csrf(&session))
            (record_table(&records.records, may_assign))
            (pager(&base, records.records.len(), PAGE as usize, records.next_cursor))
            @if may_assign && !records.records.is_empty() {
                div.panel {
                    h2 { "分配勾选的记录" }
                    div.row {
                        label { "分配给 "
                            select name="to" required {
                                @for (code, name) in &children { option value=(code) { (name) "（" (code) "）" } }
                            }
                        }
                        " "
                        button #assign type="submit" { "分配" }
                    }
                }
            }
        }
    };
    ok(page("待分配", Some(&session), content))
}

/// Records as a table, each linking to its page; with tick boxes when `selectable`.
pub fn record_table(records: &[HeldRecord], selectable: bool) -> Markup {
    html! {
        @if records.is_empty() {
            p.muted { "没有记录。" }
        } @else {
            table {
                thead { tr {
                    @if selectable { th { input type="checkbox" data-select-all="record" title="全选"; } }
                    th { "记录号" } th { "姓名" } th { "证件号码" } th { "毕业年份" } th { "学校" } th { "户籍地" } th { "状态" } th { "原因" }
                } }
                tbody {
                    @for r in records {
                        @let rec = &r.record.record;
                        tr {
                            @if selectable { td { input type="checkbox" name="record" value=(rec.id); } }
                            td { a href=(format!("/records/{}", rec.id)) { (rec.id) } }
                            td { (rec.name) }
                            td { code { (rec.id_number) } }
                            td { (rec.graduation_year) }
                            td { (rec.school_name) }
                            td { (rec.hukou_address.as_deref().or(rec.hukou_code.as_deref()).unwrap_or("")) }
                            td { (placement_label(r.placement.state)) }
                            td { (r.placement.reason.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// A placement state in Chinese.
pub fn placement_label(s: PlacementState) -> &'static str {
    match s {
        PlacementState::Unassigned => "待分配",
        PlacementState::Queued => "待下发",
        PlacementState::Pending => "待签收",
        PlacementState::Settled => "已落地",
    }
}

async fn assign(state: web::Data<AppState>, session: PageSession, form: FormPairs) -> PageResult {
    session.check(form.get("csrf"))?;
    let ids = record_ids(&form)?;
    let to = form.get("to").to_string();
    let caller = session.caller.clone();
    let n = blocking(&state, move |s| Ok(s.dist.assign(&caller, &ids, &to)?)).await?;
    see_other(&format!("/queue?done=assigned:{n}"))
}

/// The ticked `record` boxes of a form.
fn record_ids(form: &FormPairs) -> Result<Vec<RecordId>, ApiError> {
    let ids = form
        .all("record")
        .into_iter()
        .map(|v| v.trim().parse::<i64>().map(RecordId))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            ApiError::new(
                ErrorCode::BodyInvalid,
                "记录号无效。",
                "A record id is not a number.",
            )
        })?;
    if ids.is_empty() {
        return Err(ApiError::new(
            ErrorCode::BodyInvalid,
            "请先勾选记录。",
            "Tick the records first.",
        ));
    }
    Ok(ids)
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
    after: Option<i64>,
}

async fn search(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<SearchQuery>,
) -> PageResult {
    let text = q.q.clone().unwrap_or_default();
    let caller = session.caller.clone();
    let after = q.after;
    let wanted = text.clone();
    let found = blocking(&state, move |s| {
        Ok(s.dist.search_records(&caller, &wanted, after, Some(PAGE))?)
    })
    .await?;
    let base = format!("/records{}", query(&[("q", Some(text.clone()))]));
    let content = html! {
        form.row method="get" action="/records" {
            label { "证件号码、姓名或学校名称"
                input type="text" name="q" value=(text) size="30" autofocus;
            }
            button type="submit" { "查询" }
        }
        p.muted { "在本机构辖区内精确查询。证件号码不区分大小写；姓名、学校名称需完整。" }
        @if !text.trim().is_empty() {
            (record_table(&found.records, false))
            (pager(&base, found.records.len(), PAGE as usize, found.next_cursor))
        }
    };
    ok(page("记录查询", Some(&session), content))
}

#[derive(Deserialize)]
struct RecordQuery {
    done: Option<String>,
}

async fn record(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<i64>,
    q: web::Query<RecordQuery>,
) -> PageResult {
    let id = id.into_inner();
    let caller = session.caller.clone();
    let (detail, timeline, explanation, codes) = blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        let detail = s
            .dist
            .record_on(&mut conn, &caller, RecordId(id))
            .map_err(|e| match e {
                crate::distribution::DistError::NotFound => ApiError::not_found("记录", "Record"),
                other => other.into(),
            })?;
        let timeline = s.followup.timeline_beside_record(&mut conn, &caller, id)?;
        let r = &detail.record.record;
        // A masked caller's explanation leaves the ID number out: its steps would quote digits.
        let id18 = (!detail.record.masked && r.id_type == "01").then_some(r.id_number.as_str());
        let explanation =
            s.router
                .explain_record(r.hukou_code.as_deref(), r.hukou_address.as_deref(), id18);
        let codes = s.followup.codes.clone();
        Ok((detail, timeline, explanation, codes))
    })
    .await?;
    let r = &detail.record.record;
    let may_follow = session.caller.may(Permission::FollowUp);
    let options = |t: FollowupTable| -> Markup {
        html! { @for (code, name) in codes.entries(t) { option value=(code) { (code) " " (name) } } }
    };
    let today = china_today().to_string();
    let action = format!("/records/{id}/followup");
    let content = html! {
        (flash(q.done.as_deref()))
        div.cols {
            div.panel {
                h2 { "移交信息" }
                dl.facts {
                    dt { "姓名" } dd { (r.name) }
                    dt { "性别" } dd { (r.sex) }
                    dt { "证件号码" } dd { code { (r.id_number) } @if detail.record.masked { " " span.badge { "已脱敏" } } }
                    dt { "出生" } dd { @if let Some(b) = r.birth_date { (day(b)) } @else if let Some(y) = detail.record.birth_year { (y) " 年" } }
                    dt { "学历" } dd { (r.education_level) }
                    dt { "学校" } dd { (r.school_name) " " span.muted { (r.school_code) } }
                    dt { "专业" } dd { (r.major_name) }
                    dt { "毕业时间" } dd { (day(r.graduation_date)) }
                    dt { "户籍地" } dd { (r.hukou_address.as_deref().unwrap_or("")) " " span.muted { (r.hukou_code.as_deref().unwrap_or("")) } }
                    dt { "联系电话" } dd { (r.phone.as_deref().unwrap_or("")) }
                    dt { "电子邮箱" } dd { (r.email.as_deref().unwrap_or("")) }
                    dt { "困难群体" } dd { (r.hardship.as_deref().unwrap_or("")) }
                    dt { "就业意愿" } dd { (r.intention) }
                    dt { "来源" } dd { (r.source) " · " (r.channel.as_str()) " · 批次 " a href=(format!("/batches/{}", r.batch_id)) { (r.batch_id) } " 第 " (r.source_line) " 行" }
                    dt { "当前状态" } dd { (placement_label(detail.placement.state)) @if let Some(reason) = &detail.placement.reason { "（" (reason) "）" } }
                }
            }
            div.panel {
                h2 { "路由及原因" }
                p { "路由至 "
                    strong { (r.route_province.as_deref().unwrap_or("—")) " / " (r.route_prefecture.as_deref().unwrap_or("—")) " / " (r.route_county.as_deref().unwrap_or("—")) }
                    " · " (r.route_method.label_zh())
                }
                @if let Some(note) = &r.route_note { p.muted { (note) } }
                ol { @for step in &explanation.steps { li { (step) } } }
                p.muted { "区划表版本：" (r.division_edition) }
                h2 { "流转经过" }
                table {
                    thead { tr { th { "时间" } th { "方式" } th { "从" } th { "到" } th { "结果" } th { "经办" } } }
                    tbody {
                        @for h in &detail.hops {
                            tr {
                                td { (time(h.hop.at)) }
                                td { (h.hop.kind.as_str()) @if let Some(p) = h.hop.package_id { " " a href=(format!("/packages/{p}")) { "#" (p) } } }
                                td { @if let Some(f) = &h.from { (f.name) } }
                                td { (h.to.name) }
                                td { @if let Some(o) = h.hop.outcome { (o.as_str()) } @if let Some(reason) = &h.hop.reason { "：" (reason) } }
                                td.muted { (h.hop.actor) }
                            }
                        }
                    }
                }
            }
        }
        div.panel {
            h2 { "就业服务跟踪" }
            p {
                "当前就业状态："
                @if let Some(s) = &timeline.current_state { strong { (s.code) " " (s.name) } " （自 " (day(s.since)) "）" } @else { "未登记" }
            }
            @if !timeline.milestones.is_empty() {
                p.muted { @for m in &timeline.milestones { (m.label) " " (day(m.reached_on)) "　" } }
            }
            @if timeline.events.is_empty() {
                p.muted { "尚无跟踪记录。" }
            } @else {
                ul.timeline {
                    @for e in &timeline.events {
                        li class=(e.event.kind.as_str()) {
                            strong { (day(e.event.occurred_on)) " " (e.kind_label) }
                            @if let Some(name) = &e.code_name { " · " (name) }
                            @if let Some(reached) = e.event.reached { " · " (if reached { "已联系上" } else { "未联系上" }) }
                            @if let Some(y) = &e.amount_yuan { " · " (y) " 元" }
                            @if let Some(o) = &e.event.organisation { " · " (o) }
                            @if let Some(o) = &e.event.employer { " · " (o) }
                            @if let Some(n) = &e.event.note { " · " (n) }
                            span.muted { " — " (e.recorded_by) "，" (time(e.event.recorded_at)) }
                        }
                    }
                }
            }
        }
        @if may_follow {
            div.cols {
                @for (kind, title, date_label, fields, button) in [
                    ("contact", "首次联系 / 联系", "日期", html! {
                        label { "方式" } select name="channel" { (options(FollowupTable::ContactChannel)) }
                        label { "是否联系上" } select name="reached" { option value="1" { "是" } option value="0" { "否" } }
                        label { "备注" } input type="text" name="note" maxlength="500";
                    }, "记录联系"),
                    ("service", "就业服务", "日期", html! {
                        label { "服务类型" } select name="service_type" { (options(FollowupTable::ServiceType)) }
                        label { "服务机构" } input type="text" name="organisation" maxlength="200";
                        label { "用人单位（岗位推荐）" } input type="text" name="employer" maxlength="200";
                        label { "岗位" } input type="text" name="post" maxlength="200";
                    }, "记录服务"),
                    ("policy", "就业政策", "日期", html! {
                        label { "政策类型" } select name="policy_type" { (options(FollowupTable::PolicyType)) }
                        label { "金额（元）" } input type="text" name="amount" inputmode="decimal" placeholder="如 1500.00";
                        label { "发放机构" } input type="text" name="organisation" maxlength="200";
                    }, "记录政策"),
                    ("state", "就业状态", "自何日起", html! {
                        label { "状态" } select name="state" { (options(FollowupTable::EmploymentState)) }
                        label { "用人单位" } input type="text" name="employer" maxlength="200";
                    }, "记录状态"),
                ] {
                    div.panel {
                        h2 { (title) }
                        form.stack id=(format!("form-{kind}")) method="post" action=(action) {
                            (csrf(&session)) input type="hidden" name="kind" value=(kind);
                            label { (date_label) } input type="date" name="date" value=(today) required;
                            (fields)
                            p { button type="submit" { (button) } }
                        }
                    }
                }
            }
        }
        p.muted { "记录号 " (r.id) " · 版本 " (r.version) " · 入库 " (time(r.created_at)) " · 跟踪事件 " (count(timeline.events.len() as i64)) }
    };
    ok(page(&format!("{} 的记录", r.name), Some(&session), content))
}

/// The form fields a follow-up form may send, by the event field they fill.
const FORM_FIELDS: [(&str, Field); 11] = [
    ("kind", Field::Kind),
    ("date", Field::Date),
    ("channel", Field::Channel),
    ("reached", Field::Reached),
    ("service_type", Field::ServiceType),
    ("organisation", Field::Organisation),
    ("employer", Field::Employer),
    ("post", Field::Post),
    ("note", Field::Note),
    ("policy_type", Field::PolicyType),
    ("amount", Field::Amount),
];

async fn add_followup(
    state: web::Data<AppState>,
    session: PageSession,
    id: web::Path<i64>,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let id = id.into_inner();
    let mut raw = RawEvent::default();
    raw.set(Field::RecordId, id.to_string());
    for (name, field) in FORM_FIELDS {
        let v = form.get(name);
        if !v.is_empty() {
            raw.set(field, v);
        }
    }
    let v = form.get("state");
    if !v.is_empty() {
        raw.set(Field::State, v);
    }
    if EventKind::parse(form.get("kind")).is_none() {
        return Err(ApiError::new(
            ErrorCode::BodyInvalid,
            "事件类型无效。",
            "Invalid event kind.",
        )
        .into());
    }
    // The form's content and its token name the event: a form sent twice (a double click, a
    // reload) is one event.
    raw.set(
        Field::ClientKey,
        format!(
            "page:{}",
            &crate::access::secret_hash(&format!("{}|{:?}", session.csrf, raw.fields))[..32]
        ),
    );
    let caller = session.caller.clone();
    let answer = blocking(&state, move |s| {
        Ok(s.followup
            .submit(&caller, vec![(0, raw)], Source::Page, false)?)
    })
    .await?;
    let Some(outcome) = answer.events.first() else {
        return Err(ApiError::internal("no outcome").into());
    };
    match outcome.status {
        EventStatus::Accepted => see_other(&format!("/records/{id}?done=recorded")),
        EventStatus::Duplicate => see_other(&format!("/records/{id}?done=duplicate")),
        EventStatus::Rejected => {
            // The record is outside the caller's reach, or the values are wrong: every problem.
            if outcome
                .problems
                .iter()
                .any(|p| p.code == ErrorCode::RecordUnknown)
            {
                return Err(ApiError::not_found("记录", "Record").into());
            }
            let problems = outcome
                .problems
                .iter()
                .map(|p| crate::registration::FieldProblem {
                    code: p.code,
                    column: p.field.key().to_string(),
                    column_zh: p.field.header_zh().to_string(),
                    severity: "reject".into(),
                    message: p.message.clone(),
                    message_en: p.message_en.clone(),
                })
                .collect();
            Err(ApiError::with_problems(
                ErrorCode::FollowupRejected,
                "跟踪记录未保存：请按下列说明改正后重新提交。",
                "The follow-up was not stored: correct the values below and send again.",
                problems,
            )
            .into())
        }
    }
}
