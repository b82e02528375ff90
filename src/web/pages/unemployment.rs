//! Unemployment-registration pages: the office's queue of applications with their deadlines and
//! the other work lists, the application page with the review, contact, service and exit forms,
//! the clerk's on-site application, the monthly statistics; and the two public pages (the
//! application, the progress query), tied to a pre-session like the self-registration form.

use super::format::{day, query};
use super::layout::{csrf, flash, page};
use super::public::presession;
use super::{blocking, html, ok, see_other, FormPairs, PageError, PageResult, PageSession};
use crate::authz::Permission;
use crate::domain::codes::CodeTable;
use crate::domain::deregistration as annex;
use crate::domain::unemployment::{AddressInput, ApplicationInput, FieldProblem};
use crate::ingest::china_today;
use crate::unemployment::lists::ListKind;
use crate::unemployment::stats::Period;
use crate::unemployment::{
    ApplicationView, Channel, EventInput, ExitInput, ReviewInput, UnemploymentError,
    CONTACT_CHANNELS,
};
use crate::web::error::ApiError;
use crate::web::session::{self, PRESESSION_COOKIE};
use crate::web::unemployment::{progress_not_found, public_allowance, refusal};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html as markup, Markup};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/unemployment", web::get().to(queue))
        .route("/unemployment/new", web::get().to(new_form))
        .route("/unemployment/new", web::post().to(new_submit))
        .route("/unemployment/statistics", web::get().to(statistics))
        .route(
            "/unemployment/statistics/records",
            web::get().to(statistics_records),
        )
        .route(
            "/unemployment/applications/{no}",
            web::get().to(application),
        )
        .route(
            "/unemployment/applications/{no}/review",
            web::post().to(review),
        )
        .route(
            "/unemployment/applications/{no}/events",
            web::post().to(event),
        )
        .route("/unemployment/applications/{no}/exit", web::post().to(exit))
        .route("/unemployment/apply", web::get().to(public_form))
        .route("/unemployment/apply", web::post().to(public_submit))
        .route("/unemployment/progress", web::get().to(progress_form))
        .route("/unemployment/progress", web::post().to(progress_submit));
}

fn service_error(e: UnemploymentError) -> PageError {
    PageError::Api(refusal(e))
}

#[derive(Deserialize)]
struct QueueQuery {
    list: Option<String>,
}

fn timeliness_label(t: &str) -> &'static str {
    match t {
        "late" => "超过目标时限",
        "breached" => "超过最长时限",
        _ => "未超时",
    }
}

async fn queue(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<QueueQuery>,
) -> PageResult {
    let kind = q
        .list
        .as_deref()
        .and_then(ListKind::parse)
        .unwrap_or(ListKind::Pending);
    let caller = session.caller.clone();
    let list = blocking(&state, move |s| {
        s.unemployment
            .work_list(&caller, kind, china_today())
            .map_err(service_error)
    })
    .await?;
    let may_act = session.caller.may(Permission::Unemployment);
    let content = markup! {
        p.muted { "本辖区的失业登记申请：审核目标时限（默认 3 个工作日，人社厅发〔2020〕79号）与最长时限（默认 10 个工作日，LD/T 6009-2024；甘肃、黑龙江 7 个工作日），登记后 5 个工作日内联系，每月至少跟踪联系一次。" }
        @if may_act {
            p.row { a.button href="/unemployment/new" { "现场办理：录入申请" } " " a.button.secondary href="/unemployment/statistics" { "月度统计" } }
        }
        nav.tabs {
            @for (key, n) in &list.counts {
                @let k = ListKind::parse(key).unwrap_or(ListKind::Pending);
                a href=(format!("/unemployment?list={key}")) class=(if k == kind { "current" } else { "" }) {
                    (k.label_zh()) " (" (n) ")"
                }
            }
        }
        @if list.lines.is_empty() {
            p #empty { "没有符合条件的申请。" }
        } @else {
            table #applications {
                thead { tr {
                    th { "申请编号" } th { "姓名" } th { "证件号码" } th { "经办机构" } th { "收到" }
                    th { "目标时限" } th { "最长时限" } th { "状态" } th { "级别 / 待提供服务" }
                } }
                tbody {
                    @for l in &list.lines {
                        tr class=(l.timeliness) {
                            td { a href=(format!("/unemployment/applications/{}", l.application_no)) { (l.application_no) } }
                            td { (l.name) }
                            td { (l.id_number) }
                            td { (l.office_name) }
                            td { (day(l.received_on)) }
                            td { (day(l.review_target)) }
                            td { (day(l.review_limit)) }
                            td { (l.status_label) @if l.status == "pending" { "，" (timeliness_label(&l.timeliness)) }
                                 @if l.working_days_over > 0 { "（超 " (l.working_days_over) " 个工作日）" } }
                            td { (l.level.clone().unwrap_or_default()) " " (l.owed.join("，")) }
                        }
                    }
                }
            }
        }
    };
    ok(page("失业登记", Some(&session), content))
}

async fn application(
    state: web::Data<AppState>,
    session: PageSession,
    no: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> PageResult {
    let caller = session.caller.clone();
    let no = no.into_inner();
    let view = blocking(&state, move |s| {
        s.unemployment.get(&caller, &no).map_err(service_error)
    })
    .await?;
    let may_act = session.caller.may(Permission::Unemployment);
    ok(page(
        &format!("失业登记申请 {}", view.application_no),
        Some(&session),
        application_page(&view, &session, may_act, q.done.as_deref()),
    ))
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

fn application_page(
    v: &ApplicationView,
    s: &PageSession,
    may_act: bool,
    done: Option<&str>,
) -> Markup {
    let base = format!("/unemployment/applications/{}", v.application_no);
    markup! {
        (flash(done))
        dl.facts #facts {
            dt { "状态" } dd #status { (v.status_label) }
            dt { "姓名" } dd { (v.name) }
            dt { "证件号码" } dd { (v.id_number) }
            dt { "手机" } dd { (v.mobile) }
            dt { "渠道" } dd { (Channel::label_zh(&v.channel)) }
            dt { "经办机构" } dd { (v.office_name) " (" (v.office_code) ")" }
            dt { "收到" } dd { (day(v.received_on)) }
            dt { "审核时限" } dd #deadlines { "目标 " (day(v.review_target)) "，最长 " (day(v.review_limit))
                @if v.deadlines_provisional { "（暂定：节假日安排未导入）" }
                " — " (timeliness_label(&v.timeliness)) }
            @if let Some(r) = v.reviewed_on { dt { "审核" } dd { (day(r)) " " (v.reviewer.clone().unwrap_or_default()) } }
            @if let Some(reason) = &v.refusal_reason { dt { "不通过原因" } dd { (reason) } }
            @if let Some(l) = &v.level { dt { "四级三类" } dd #level { (l) " · " (skill_label(v.skill_type.as_deref())) } }
            @if let Some(d) = v.contact_due { dt { "联系时限" } dd { (day(d)) @if let Some(c) = v.contacted_on { "，已于 " (day(c)) " 联系" } @else { "，尚未联系" } } }
            @if let Some(code) = &v.exit_reason {
                dt { "注销" } dd #exit { (code) " " (v.exit_reason_name.clone().unwrap_or_default())
                    @if let Some(d) = v.exit_on { "，" (day(d)) } "，经办人 " (v.exit_clerk.clone().unwrap_or_default())
                    "，告知：" (notice_label(v.exit_notice.as_deref())) }
            }
        }
        @if !v.owed.is_empty() {
            div.warn #owed { p { strong { "本级别尚需提供的服务（黑人社函〔2020〕87号）：" } }
                ul { @for o in &v.owed { li { (o.label) "：已提供 " (o.given) " 次，至少 " (o.needed) " 次" } } } }
        }
        @if let Some(form) = &v.form {
            details { summary { "失业人员登记表" }
                pre.form { (serde_json::to_string_pretty(form).unwrap_or_default()) }
            }
        }
        @if !v.events.is_empty() {
            h2 { "联系与服务" }
            table #events { thead { tr { th { "日期" } th { "类别" } th { "内容" } th { "说明" } th { "经办" } } }
                tbody { @for e in &v.events { tr {
                    td { (day(e.occurred_on)) } td { (event_kind_label(&e.kind)) }
                    td { (event_code_label(&e.kind, &e.code)) @if e.reached == Some(false) { "（未联系上）" } }
                    td { (e.note.clone().unwrap_or_default()) } td { (e.actor) }
                } } }
            }
        }
        @if may_act && v.status == "pending" {
            h2 { "审核" }
            form.stack #review method="post" action=(format!("{base}/review")) {
                (csrf(s))
                label { input type="radio" name="result" value="passed" checked; " 审核通过" }
                label { input type="radio" name="result" value="refused"; " 审核不通过" }
                label for="urban" { "登记地是否城镇区域（用于城镇登记失业统计；不选按城镇计）" }
                select #urban name="urban" { option value="" { "（请选择）" } option value="true" { "城镇" } option value="false" { "农村" } }
                label for="skill_type" { "人员类型" }
                select #skill_type name="skill_type" { option value="" { "（暂不分类）" } option value="具备技能" { "具备技能" } option value="缺乏技能" { "缺乏技能" } option value="就业困难" { "就业困难" } }
                label for="reason" { "不通过原因（不得以材料不全、未参保、不符合领金条件、户籍不在本地等为由，人社厅发〔2020〕79号）" }
                input #reason type="text" name="reason" maxlength="200";
                p { button type="submit" { "提交审核结果" } }
            }
        }
        @if may_act && v.status == "registered" {
            h2 { "记录联系或服务" }
            form.stack #event method="post" action=(format!("{base}/events")) {
                (csrf(s))
                label for="kind" { "类别" }
                select #kind name="kind" { option value="contact" { "联系" } option value="service" { "服务" } option value="classify" { "人员类型" } }
                label for="date" { "日期" } input #date type="date" name="date" value=(china_today().to_string());
                label for="channel" { "联系方式" }
                select #channel name="channel" { @for c in CONTACT_CHANNELS { option value=(c) { (c) } } }
                label for="reached" { "是否联系上" }
                select #reached name="reached" { option value="true" { "联系上" } option value="false" { "未联系上" } }
                label for="service" { "服务项目" }
                select #service name="service" { @for (v, l) in SERVICES { option value=(v) { (l) } } }
                label for="ev_skill" { "人员类型" }
                select #ev_skill name="skill_type" { option value="具备技能" { "具备技能" } option value="缺乏技能" { "缺乏技能" } option value="就业困难" { "就业困难" } }
                label for="note" { "说明" } input #note type="text" name="note" maxlength="200";
                p { button type="submit" { "记录" } }
            }
            h2 { "注销失业登记" }
            form.stack #exit_form method="post" action=(format!("{base}/exit")) {
                (csrf(s))
                label for="reason_code" { "注销原因（AJC00A）" }
                select #reason_code name="reason" { @for (c, n) in annex::exit_reasons() { option value=(c) { (c) " " (n) } } }
                label for="detail" { "原因 24 须注明" }
                select #detail name="detail" { option value="" { "—" } @for d in annex::REASON_24_DETAILS { option value=(d) { (d) } } }
                label for="exit_date" { "注销日期" } input #exit_date type="date" name="date" value=(china_today().to_string());
                label for="clerk" { "经办人（不含空格）" } input #clerk type="text" name="clerk" maxlength="20";
                label for="verification_note" { "核实情况（原因 31、32 必填：不能以此为唯一依据，人社厅发〔2020〕79号）" }
                input #verification_note type="text" name="verification_note" maxlength="200";
                label for="exit_note" { "备注" } input #exit_note type="text" name="note" maxlength="100";
                label for="social_security_number" { "社会保障号码（持通行证者填写；默认为证件号码）" }
                input #social_security_number type="text" name="social_security_number" maxlength="18";
                p { button type="submit" { "注销" } }
            }
        }
    }
}

const SERVICES: [(&str, &str); 9] = [
    ("job_referral", "职业介绍（岗位推荐）"),
    ("career_guidance", "职业指导"),
    ("job_fair", "招聘会"),
    ("training", "职业培训"),
    ("startup", "创业服务"),
    ("lists", "政策清单、服务清单"),
    ("hardship_recognition", "就业困难人员认定"),
    ("policy_advice", "政策咨询"),
    ("other", "其他"),
];

fn skill_label(s: Option<&str>) -> &'static str {
    match s {
        Some("skilled") => "具备技能",
        Some("unskilled") => "缺乏技能",
        Some("hardship") => "就业困难",
        _ => "未分类",
    }
}

fn notice_label(s: Option<&str>) -> &'static str {
    match s {
        Some("not_required") => "无需告知",
        Some("mailed") => "已发邮件",
        Some("phone") => "由经办机构电话或短信告知",
        _ => "",
    }
}

fn event_kind_label(k: &str) -> &'static str {
    match k {
        "contact" => "联系",
        "service" => "服务",
        "classify" => "人员类型",
        _ => "",
    }
}

fn event_code_label(kind: &str, code: &str) -> String {
    match kind {
        "service" => SERVICES
            .iter()
            .find(|(v, _)| *v == code)
            .map_or(code.to_string(), |(_, l)| l.to_string()),
        "classify" => skill_label(Some(code)).to_string(),
        _ => code.to_string(),
    }
}

/// Runs one of the office's actions on an application, then goes back to its page.
async fn act(
    state: &web::Data<AppState>,
    session: &PageSession,
    no: String,
    action: impl FnOnce(
            &crate::unemployment::Unemployment,
            &crate::authz::Caller,
            &str,
        ) -> Result<ApplicationView, UnemploymentError>
        + Send
        + 'static,
) -> PageResult {
    let caller = session.caller.clone();
    let target = no.clone();
    blocking(state, move |s| {
        action(&s.unemployment, &caller, &target)
            .map(|_| ())
            .map_err(service_error)
    })
    .await?;
    see_other(&format!("/unemployment/applications/{no}?done=recorded"))
}

fn optional(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|v| !v.is_empty())
}

async fn review(
    state: web::Data<AppState>,
    session: PageSession,
    no: web::Path<String>,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let input = ReviewInput {
        result: form.get("result").to_string(),
        reason: optional(form.get("reason")),
        urban: match form.get("urban") {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        skill_type: optional(form.get("skill_type")),
    };
    act(&state, &session, no.into_inner(), move |u, caller, no| {
        u.review(caller, no, &input, china_today())
    })
    .await
}

async fn event(
    state: web::Data<AppState>,
    session: PageSession,
    no: web::Path<String>,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let kind = form.get("kind").to_string();
    let input = EventInput {
        date: optional(form.get("date")),
        channel: (kind == "contact").then(|| form.get("channel").to_string()),
        reached: (kind == "contact").then(|| form.get("reached") != "false"),
        service: (kind == "service").then(|| form.get("service").to_string()),
        skill_type: (kind == "classify").then(|| form.get("skill_type").to_string()),
        note: optional(form.get("note")),
        kind,
    };
    act(&state, &session, no.into_inner(), move |u, caller, no| {
        u.record_event(caller, no, &input, china_today())
    })
    .await
}

async fn exit(
    state: web::Data<AppState>,
    session: PageSession,
    no: web::Path<String>,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let input = ExitInput {
        reason: form.get("reason").to_string(),
        detail: optional(form.get("detail")),
        date: optional(form.get("date")),
        clerk: optional(form.get("clerk")),
        verification_note: optional(form.get("verification_note")),
        note: optional(form.get("note")),
        social_security_number: optional(form.get("social_security_number")),
    };
    act(&state, &session, no.into_inner(), move |u, caller, no| {
        u.exit(caller, no, &input, china_today())
    })
    .await
}

/// The fields of the application form: (name, label, required).
const TEXT_FIELDS: [(&str, &str, bool); 6] = [
    ("name", "姓名", true),
    ("id_number", "证件号码", true),
    ("birth_date", "出生日期（通行证必填）", false),
    ("unemployed_since", "失业时间", true),
    ("mobile", "手机", true),
    ("email", "电子邮件", false),
];

/// The form's values back into the application as the API takes it.
fn input_of(form: &FormPairs) -> ApplicationInput {
    let address = |prefix: &str| -> Option<AddressInput> {
        let code = optional(form.get(&format!("{prefix}_code")));
        let detail = optional(form.get(&format!("{prefix}_detail")));
        (code.is_some() || detail.is_some()).then(|| AddressInput {
            code,
            detail,
            ..Default::default()
        })
    };
    let list = |name: &str| -> Option<Vec<String>> {
        let v: Vec<String> = form
            .get(name)
            .split(['，', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        (!v.is_empty()).then_some(v)
    };
    ApplicationInput {
        name: optional(form.get("name")),
        sex: optional(form.get("sex")),
        ethnicity: optional(form.get("ethnicity")),
        political_status: optional(form.get("political_status")),
        education: optional(form.get("education")),
        health: optional(form.get("health")),
        disability_grade: optional(form.get("disability_grade")),
        unemployed_since: optional(form.get("unemployed_since")),
        id_type: optional(form.get("id_type")),
        id_number: optional(form.get("id_number")),
        birth_date: optional(form.get("birth_date")),
        hukou_address: address("hukou"),
        residence_address: address("residence"),
        qualifications: list("qualifications"),
        mobile: optional(form.get("mobile")),
        landline: optional(form.get("landline")),
        email: optional(form.get("email")),
        other_contact: optional(form.get("other_contact")),
        registration_place: optional(form.get("registration_place")),
        registration_place_address: address("place"),
        unemployment_reason: optional(form.get("unemployment_reason")),
        unemployment_reason_other: optional(form.get("unemployment_reason_other")),
        claims_benefit: optional(form.get("claims_benefit")).map(serde_json::Value::String),
        job_intentions: list("job_intentions"),
        remarks: optional(form.get("remarks")),
        promise_signed: Some(serde_json::Value::Bool(form.get("promise_signed") == "on")),
        promise_signer: optional(form.get("name")),
        promise_date: Some(china_today().to_string()),
    }
}

fn choice(
    name: &str,
    label: &str,
    required: bool,
    options: &[(String, String)],
    value: &str,
) -> Markup {
    markup! {
        label for=(name) { (label) @if required { " *" } }
        select id=(name) name=(name) required[required] {
            option value="" { "（请选择）" }
            @for (v, l) in options { option value=(v) selected[value == v] { (l) } }
        }
    }
}

fn table_options(t: CodeTable) -> Vec<(String, String)> {
    t.entries()
        .iter()
        .map(|(_, n)| (n.to_string(), n.to_string()))
        .collect()
}

fn words(list: &[&str]) -> Vec<(String, String)> {
    list.iter()
        .map(|w| (w.to_string(), w.to_string()))
        .collect()
}

/// The 失业人员登记表 as a form (for the clerk and the public alike), with the problems of the
/// last try and its values.
fn application_form(
    action: &str,
    token: &str,
    form: Option<&FormPairs>,
    problems: &[FieldProblem],
) -> Markup {
    let v = |k: &str| form.map(|f| f.get(k).to_string()).unwrap_or_default();
    markup! {
        @if !problems.is_empty() {
            div.warn role="alert" #problems {
                p { strong { "申请未提交，请改正以下问题：" } }
                ul { @for p in problems { li { (p.message_zh) " " span.muted { (p.message_en) } } } }
            }
        }
        p.muted { "带 * 的为必填项。除本人身份证件外，不需要提供其他证明材料（人社厅发〔2020〕79号）。" }
        form.stack #application method="post" action=(action) {
            input type="hidden" name="csrf" value=(token);
            @for (k, l, r) in TEXT_FIELDS {
                label for=(k) { (l) @if r { " *" } }
                input id=(k) type=(if k.ends_with("date") || k == "unemployed_since" { "date" } else { "text" }) name=(k) value=(v(k)) maxlength="100" required[r];
            }
            (choice("sex", "性别", true, &words(&["男", "女"]), &v("sex")))
            (choice("ethnicity", "民族", true, &table_options(CodeTable::Ethnicity), &v("ethnicity")))
            (choice("political_status", "政治面貌", false, &table_options(CodeTable::PoliticalStatus), &v("political_status")))
            (choice("education", "学历", true, &words(&["研究生教育", "大学本科教育", "大学专科教育", "中等职业教育", "普通高级中学教育", "初级中学教育", "小学教育", "其他"]), &v("education")))
            (choice("health", "健康状况", true, &words(&["健康或良好", "一般或较弱", "有慢性病", "残疾"]), &v("health")))
            label for="disability_grade" { "伤残等级（残疾时必填）" }
            input #disability_grade type="text" name="disability_grade" value=(v("disability_grade")) maxlength="20";
            (choice("id_type", "证件类型", true, &words(&["居民身份证", "社会保障卡", "港澳台居民居住证", "港澳居民来往内地通行证", "台湾居民来往大陆通行证"]), &v("id_type")))
            label for="hukou_code" { "户籍地址：县级区划代码" } input #hukou_code type="text" name="hukou_code" value=(v("hukou_code")) maxlength="6";
            label for="hukou_detail" { "户籍地址：省、市、县及详细地址 *" } input #hukou_detail type="text" name="hukou_detail" value=(v("hukou_detail")) maxlength="200";
            label for="residence_code" { "常住地址：县级区划代码" } input #residence_code type="text" name="residence_code" value=(v("residence_code")) maxlength="6";
            label for="residence_detail" { "常住地址：省、市、县及详细地址 *" } input #residence_detail type="text" name="residence_detail" value=(v("residence_detail")) maxlength="200";
            (choice("registration_place", "登记失业地", true, &words(&["户籍地", "常住地", "就业地", "参保地"]), &v("registration_place")))
            label for="place_code" { "就业地或参保地：县级区划代码" } input #place_code type="text" name="place_code" value=(v("place_code")) maxlength="6";
            label for="place_detail" { "就业地或参保地：地址" } input #place_detail type="text" name="place_detail" value=(v("place_detail")) maxlength="200";
            label for="unemployment_reason" { "失业原因" }
            select #unemployment_reason name="unemployment_reason" {
                option value="" { "（请选择）" }
                @for (i, r) in REASONS.iter().enumerate() { option value=((i + 1).to_string()) selected[v("unemployment_reason") == (i + 1).to_string()] { (r) } }
            }
            label for="unemployment_reason_other" { "其他失业原因（选“其他”时填写）" }
            input #unemployment_reason_other type="text" name="unemployment_reason_other" value=(v("unemployment_reason_other")) maxlength="100";
            (choice("claims_benefit", "是否申领失业保险金", true, &words(&["是", "否"]), &v("claims_benefit")))
            label for="qualifications" { "职业资格（至多 3 项，用逗号分隔）" } input #qualifications type="text" name="qualifications" value=(v("qualifications")) maxlength="160";
            label for="job_intentions" { "求职意向（至多 3 项，用逗号分隔）" } input #job_intentions type="text" name="job_intentions" value=(v("job_intentions")) maxlength="160";
            label for="landline" { "固定电话" } input #landline type="text" name="landline" value=(v("landline")) maxlength="30";
            label for="other_contact" { "其他联系方式" } input #other_contact type="text" name="other_contact" value=(v("other_contact")) maxlength="22";
            label for="remarks" { "其他需说明的事项" } input #remarks type="text" name="remarks" value=(v("remarks")) maxlength="200";
            label { input #promise_signed type="checkbox" name="promise_signed"; " 本人承诺填报的以上内容均真实、准确、有效，如与实际情况不一致，本人愿意承担相应责任，同时纳入人社信用记录。 *" }
            p { button type="submit" { "提交申请" } }
        }
    }
}

/// The reasons of the form, in its order (the numbers the form's code table uses).
const REASONS: [&str; 13] = [
    "年满16周岁，从各类学校毕业、肄业",
    "被企业解除或终止劳动关系",
    "企业破产倒闭终止劳动关系",
    "从机关事业单位被辞退解聘",
    "从各类单位辞职",
    "私营企业、民办非企业业主停业、破产",
    "终止从事个体工商户",
    "承包土地被征用等情况",
    "从事一定收入的劳动，但月收入低于当地最低生活保障标准",
    "退出公益性岗位",
    "军人退出现役且未纳入国家统一安置",
    "刑满释放、假释、监外执行",
    "其他",
];

async fn new_form(session: PageSession) -> PageResult {
    if !session.caller.may(Permission::Unemployment) {
        return Err(PageError::Api(
            crate::distribution::DistError::from(crate::authz::Denied {
                role: session.caller.role,
                permission: Permission::Unemployment,
            })
            .into(),
        ));
    }
    let content = application_form("/unemployment/new", &session.csrf, None, &[]);
    ok(page("现场办理失业登记", Some(&session), content))
}

async fn new_submit(
    state: web::Data<AppState>,
    session: PageSession,
    form: FormPairs,
) -> PageResult {
    session.check(form.get("csrf"))?;
    let input = input_of(&form);
    let caller = session.caller.clone();
    let answer = blocking(&state, move |s| {
        let applied =
            s.unemployment
                .apply(Some(&caller), Channel::OnSite, None, &input, china_today());
        // Routed to an office outside the clerk's jurisdiction (another county's 就业地 …):
        // the clerk cannot open it, so the answer says where it went instead.
        let tree = s.dist.tree()?;
        let visible = applied.as_ref().is_ok_and(|a| {
            tree.by_code(&a.office_code)
                .is_some_and(|n| caller.scope.contains(n.id))
        });
        Ok((applied, visible))
    })
    .await?;
    match answer {
        (Ok(applied), true) => see_other(&format!(
            "/unemployment/applications/{}?done=saved",
            applied.application_no
        )),
        (Ok(applied), false) => ok(page(
            "失业登记申请已提交",
            Some(&session),
            markup! {
                div.panel {
                    p { "申请已保存。申请编号：" strong #application_no { (applied.application_no) } }
                    p { "按登记失业地转至 " (applied.office_name) "（" (applied.office_code) "）办理，不在本机构辖区内。审核目标时限 " (day(applied.review_target)) "。" }
                }
            },
        )),
        (Err(UnemploymentError::Form(problems)), _) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "现场办理失业登记",
                Some(&session),
                application_form("/unemployment/new", &session.csrf, Some(&form), &problems),
            ),
        )),
        (Err(e), _) => Err(service_error(e)),
    }
}

async fn public_form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    let (pre, cookie) = presession(&req, &state);
    let content = markup! {
        p { "城乡劳动者可在户籍地、常住地、就业地或参保地申请失业登记（人社厅发〔2020〕79号）。提交后请保存申请编号，凭申请编号和证件号码查询办理进度。" }
        (application_form("/unemployment/apply", &session::csrf_token(&pre), None, &[]))
    };
    let mut answer = html(StatusCode::OK, page("失业登记网上申请", None, content));
    if let Some(c) = cookie {
        answer.add_cookie(&c).map_err(ApiError::internal)?;
    }
    Ok(answer)
}

fn public_refused() -> PageError {
    PageError::Api(ApiError::new(
        crate::domain::catalogue::ErrorCode::RateLimited,
        "提交过于频繁，请稍后再试。",
        "Too many requests; try again later.",
    ))
}

async fn public_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormPairs,
) -> PageResult {
    let (pre, _) = presession(&req, &state);
    if req.cookie(PRESESSION_COOKIE).is_none() || !session::csrf_matches(&pre, form.get("csrf")) {
        return Err(session::csrf_refused().into());
    }
    if !public_allowance(&state, &req, "apply", None) {
        return Err(public_refused());
    }
    let input = input_of(&form);
    let answer = blocking(&state, move |s| {
        Ok(s.unemployment
            .apply(None, Channel::Public, None, &input, china_today()))
    })
    .await?;
    match answer {
        Ok(applied) => ok(page(
            "失业登记申请已提交",
            None,
            markup! {
                div.panel {
                    p { "申请已收到。申请编号：" strong #application_no { (applied.application_no) } }
                    p { "经办机构：" (applied.office_name) "。将在 " (day(applied.review_target)) " 前办结，并通过电话或短信联系你。" }
                    p { a href="/unemployment/progress" { "查询办理进度" } }
                }
            },
        )),
        Err(UnemploymentError::Form(problems)) => Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                "失业登记网上申请",
                None,
                application_form(
                    "/unemployment/apply",
                    &session::csrf_token(&pre),
                    Some(&form),
                    &problems,
                ),
            ),
        )),
        Err(e) => Err(service_error(e)),
    }
}

fn progress_page(token: &str, answer: Option<Markup>) -> Markup {
    page(
        "失业登记进度查询",
        None,
        markup! {
            p { "凭申请编号和证件号码查询办理进度、审核状态及结果。" }
            form.stack #progress method="post" action="/unemployment/progress" {
                input type="hidden" name="csrf" value=(token);
                label for="application_no" { "申请编号" } input #application_no type="text" name="application_no" maxlength="40" required;
                label for="id_number" { "证件号码" } input #id_number type="text" name="id_number" maxlength="22" required;
                p { button type="submit" { "查询" } }
            }
            @if let Some(a) = answer { (a) }
        },
    )
}

async fn progress_form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    let (pre, cookie) = presession(&req, &state);
    let mut answer = html(
        StatusCode::OK,
        progress_page(&session::csrf_token(&pre), None),
    );
    if let Some(c) = cookie {
        answer.add_cookie(&c).map_err(ApiError::internal)?;
    }
    Ok(answer)
}

async fn progress_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: FormPairs,
) -> PageResult {
    let (pre, _) = presession(&req, &state);
    if req.cookie(PRESESSION_COOKIE).is_none() || !session::csrf_matches(&pre, form.get("csrf")) {
        return Err(session::csrf_refused().into());
    }
    let no = form.get("application_no").to_string();
    let id = form.get("id_number").to_string();
    if !public_allowance(&state, &req, "progress", Some(&no)) {
        return Err(public_refused());
    }
    let found = blocking(&state, move |s| {
        s.unemployment.progress(&no, &id).map_err(service_error)
    })
    .await?;
    let token = session::csrf_token(&pre);
    match found {
        Some(p) => ok(progress_page(
            &token,
            Some(markup! {
                div.panel #result {
                    p { "办理状态：" strong { (p.status_label) } }
                    @if let Some(r) = &p.result { p { "审核结果：" strong { (r) } } }
                }
            }),
        )),
        None => {
            let e = progress_not_found();
            Ok(html(
                StatusCode::NOT_FOUND,
                progress_page(
                    &token,
                    Some(markup! { div.warn #result role="alert" { p { (e.message) } } }),
                ),
            ))
        }
    }
}

/// A column's header on the page: the exit columns by their code (the full name is the cell's
/// title, and the files' header).
fn short_header(id: &str, header: &str) -> String {
    match id.strip_prefix("exit_") {
        Some(code) => format!("注销 {code}"),
        None => header.to_string(),
    }
}

#[derive(Deserialize)]
struct StatsQuery {
    month: Option<String>,
    org: Option<String>,
}

async fn statistics(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<StatsQuery>,
) -> PageResult {
    let period = q
        .month
        .as_deref()
        .and_then(Period::parse)
        .unwrap_or_else(|| Period::containing(china_today()));
    let caller = session.caller.clone();
    let org = q.org.clone();
    let p = period.clone();
    let figures = blocking(&state, move |s| {
        s.unemployment
            .monthly(&caller, &p, org.as_deref())
            .map_err(service_error)
    })
    .await?;
    let file = |format: &str| {
        format!(
            "/api/v1/unemployment/statistics{}",
            query(&[
                ("month", Some(period.month.clone())),
                ("org", q.org.clone()),
                ("format", Some(format.to_string())),
            ])
        )
    };
    let content = markup! {
        form.row method="get" action="/unemployment/statistics" {
            label { "月份" input type="month" name="month" value=(period.month); }
            button.secondary type="submit" { "查看" }
        }
        p #period { "报表期 " (day(figures.period.from)) " 至 " (day(figures.period.to)) "，报送截止 " (day(figures.period.due)) "。"
            a href=(file("csv")) { "下载 CSV" } " " a href=(file("xlsx")) { "下载 XLSX" } }
        div.scroll { table #monthly {
            thead { tr { th { "机构" } @for c in &figures.columns { th title=(c.definition_zh) { (short_header(&c.id, &c.header_zh)) } } } }
            tbody {
                @for r in figures.rows.iter().chain(std::iter::once(&figures.total)) {
                    tr {
                        td { @if r.scope == "辖区" { a href=(format!("/unemployment/statistics{}", query(&[("month", Some(period.month.clone())), ("org", Some(r.org_code.clone()))]))) { (r.org_name) } } @else { (r.org_name) @if r.scope == "本级" { " 本级" } } }
                        @for c in &figures.columns {
                            @let n = r.cells.get(&c.id).copied().unwrap_or(0);
                            td.num { @if n > 0 && r.scope != "本级" {
                                a href=(format!("/unemployment/statistics/records{}", query(&[("month", Some(period.month.clone())), ("org", Some(r.org_code.clone())), ("column", Some(c.id.clone()))]))) { (n) }
                            } @else { (n) } }
                        }
                    }
                }
            }
        } }
        p.muted { "全国平台与本地办理的登记合并统计，按证件号码一人计一次；合计为各行之和（人社厅发〔2020〕79号 第九至十一条）。" }
    };
    ok(page("失业登记月度统计", Some(&session), content))
}

#[derive(Deserialize)]
struct StatsRecordsQuery {
    month: String,
    org: Option<String>,
    column: String,
}

/// The persons behind one count of the statistics.
async fn statistics_records(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<StatsRecordsQuery>,
) -> PageResult {
    let period = Period::parse(&q.month).ok_or_else(|| {
        PageError::Api(ApiError::new(
            crate::domain::catalogue::ErrorCode::QueryInvalid,
            "月份应为 YYYY-MM。",
            "month must be YYYY-MM.",
        ))
    })?;
    let caller = session.caller.clone();
    let (org, column) = (q.org.clone(), q.column.clone());
    let p = period.clone();
    let records = blocking(&state, move |s| {
        s.unemployment
            .monthly_records(&caller, &p, org.as_deref(), &column)
            .map_err(service_error)
    })
    .await?;
    let label = crate::unemployment::stats::columns()
        .into_iter()
        .find(|c| c.id == q.column)
        .map(|c| c.header_zh)
        .unwrap_or_default();
    let content = markup! {
        p #period { (label) "，报表期 " (day(period.from)) " 至 " (day(period.to)) "：" (records.len()) " 人。" }
        table #records {
            thead { tr { th { "申请编号" } th { "姓名" } th { "证件号码" } th { "经办机构" } th { "登记" } th { "注销" } } }
            tbody { @for r in &records { tr {
                td { a href=(format!("/unemployment/applications/{}", r.application_no)) { (r.application_no) } }
                td { (r.name) } td { (r.id_number) } td { (r.office) }
                td { (r.registered_on.map(day).unwrap_or_default()) }
                td { (r.exit_on.map(day).unwrap_or_default()) " " (r.exit_reason.clone().unwrap_or_default()) }
            } } }
        }
    };
    ok(page("月度统计明细", Some(&session), content))
}
