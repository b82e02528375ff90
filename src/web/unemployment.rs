//! The unemployment-registration endpoints (LD/T 6009-2024 §5.5, 人社厅发〔2020〕79号): applications
//! from the national platform and clerks, the download cursor of local systems, review, contact
//! and services, exit, the work lists, the daily deregistration file and the upload of local
//! deregistrations, the monthly statistics with their drill-down, and the two public endpoints
//! (application, progress query). The handlers only translate to the `unemployment` service.

use super::auth::Authenticated;
use super::error::ApiError;
use super::exchange::blocking;
use super::routes::RouteBook;
use super::AppState;
use crate::domain::catalogue::ErrorCode;
use crate::domain::deregistration::{self as annex, DeregistrationRecord};
use crate::domain::unemployment::ApplicationInput;
use crate::ingest::china_today;
use crate::registration::FieldProblem;
use crate::report::write::SummaryFormat;
use crate::unemployment::deregistrations::{DayFile, Received, MAX_RECORDS};
use crate::unemployment::lists::{ListKind, WorkList};
use crate::unemployment::stats::{self, MonthlyStats, Period, StatRecord};
use crate::unemployment::{
    parse_day, ApplicationView, Applied, Channel, Download, EventInput, ExitInput, Progress,
    ReviewInput, UnemploymentError,
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn routes(book: &mut RouteBook) {
    book.add::<__path_unemployment_apply, _, _>(unemployment_apply)
        .add::<__path_unemployment_download, _, _>(unemployment_download)
        .add::<__path_unemployment_application, _, _>(unemployment_application)
        .add::<__path_unemployment_review, _, _>(unemployment_review)
        .add::<__path_unemployment_event, _, _>(unemployment_event)
        .add::<__path_unemployment_exit, _, _>(unemployment_exit)
        .add::<__path_unemployment_lists, _, _>(unemployment_lists)
        .add::<__path_unemployment_deregistrations, _, _>(unemployment_deregistrations)
        .add::<__path_unemployment_receive, _, _>(unemployment_receive)
        .add::<__path_unemployment_statistics, _, _>(unemployment_statistics)
        .add::<__path_unemployment_statistics_records, _, _>(unemployment_statistics_records)
        .add::<__path_public_unemployment_apply, _, _>(public_unemployment_apply)
        .add::<__path_public_unemployment_progress, _, _>(public_unemployment_progress);
}

/// The service's refusal as the API answers it: the form's problems one by one.
pub fn refusal(e: UnemploymentError) -> ApiError {
    match e {
        UnemploymentError::Dist(d) => d.into(),
        UnemploymentError::Form(problems) => {
            let n = problems.len();
            ApiError::with_problems(
                ErrorCode::ApplicationInvalid,
                &format!("失业登记申请未保存：{n} 处填写不符合《失业人员登记表》的规则，见 problems。"),
                &format!("The application was not stored: {n} values break the form's rules (see problems)."),
                problems
                    .into_iter()
                    .map(|p| FieldProblem {
                        code: ErrorCode::ApplicationInvalid,
                        column: p.field.to_string(),
                        column_zh: field_label(p.field).to_string(),
                        severity: "reject".into(),
                        message: p.message_zh,
                        message_en: p.message_en,
                    })
                    .collect(),
            )
        }
    }
}

/// The form's Chinese label of an input field (`id_number` → 证件号码).
pub fn field_label(field: &str) -> &'static str {
    match field.split('.').next().unwrap_or(field) {
        "name" => "姓名",
        "sex" => "性别",
        "ethnicity" => "民族",
        "political_status" => "政治面貌",
        "education" => "学历",
        "health" => "健康状况",
        "disability_grade" => "伤残等级",
        "unemployed_since" => "失业时间",
        "id_type" => "证件类型",
        "id_number" => "证件号码",
        "birth_date" => "出生日期",
        "hukou_address" => "户籍地址",
        "residence_address" => "常住地址",
        "qualifications" => "职业资格",
        "mobile" => "手机",
        "landline" => "固定电话",
        "email" => "电子邮件",
        "other_contact" => "其他联系方式",
        "registration_place" => "登记失业地",
        "registration_place_address" => "登记失业地地址",
        "unemployment_reason" => "失业原因",
        "unemployment_reason_other" => "其他失业原因",
        "claims_benefit" => "是否申领失业保险金",
        "job_intentions" => "求职意向",
        "remarks" => "其他需说明的事项",
        "promise_signed" | "promise_signer" | "promise_date" => "承诺",
        _ => "",
    }
}

/// An application as the national platform or a clerk's system sends it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationBody {
    /// `national` (forwarded by the national platform, with its `application_no`) or `on_site`
    /// (entered by a clerk; the hub numbers it).
    pub channel: String,
    /// The national platform's 申请编号 (1–40 letters, digits or `-`); a retry with the same
    /// number and form stores nothing again.
    pub application_no: Option<String>,
    /// Every field of the 失业人员登记表 (docs/unemployment.md).
    pub form: ApplicationInput,
}

/// Takes an application: judged by the 失业人员登记表's rules (every problem listed), routed to
/// the county office of the chosen registration place, stored with its review deadlines.
#[utoipa::path(post, path = "/api/v1/unemployment/applications", request_body = ApplicationBody,
    responses(
        (status = 201, description = "Stored and routed", body = Applied),
        (status = 200, description = "The national platform sent the same application again (`outcome: duplicate`)", body = Applied),
        (status = 400, description = "CHANNEL_INVALID or BODY_INVALID", body = ApiError),
        (status = 403, body = ApiError),
        (status = 409, description = "APPLICATION_EXISTS (one person, one registration) or APPLICATION_NO_TAKEN", body = ApiError),
        (status = 422, description = "APPLICATION_INVALID with `problems`, or PLACE_UNROUTABLE", body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_apply(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<ApplicationBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let body = body.into_inner();
    let channel = match Channel::parse(body.channel.trim()) {
        Some(c @ (Channel::National | Channel::OnSite)) => c,
        _ => {
            return Err(ApiError::new(
                ErrorCode::ChannelInvalid,
                "申请渠道无效：应为 national（全国平台）或 on_site（现场办理）。",
                "Channel must be national or on_site.",
            ))
        }
    };
    let applied = blocking(&state, move |s| {
        s.unemployment
            .apply(
                Some(&caller),
                channel,
                body.application_no.as_deref(),
                &body.form,
                china_today(),
            )
            .map_err(refusal)
    })
    .await?;
    Ok(if applied.outcome == "duplicate" {
        HttpResponse::Ok().json(applied)
    } else {
        HttpResponse::Created().json(applied)
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// The `next_after` of the last download (0 or absent for the first).
    after: Option<i64>,
    /// At most 500; default 100.
    limit: Option<i64>,
}

/// Downloads applications routed into the caller's jurisdiction after a cursor, oldest first,
/// with their current state (a local system repeats with `next_after` until `more` is false).
/// Every download is recorded.
#[utoipa::path(get, path = "/api/v1/unemployment/applications", params(DownloadQuery),
    responses((status = 200, body = Download), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_download(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let q = query.into_inner();
    let page = blocking(&state, move |s| {
        s.unemployment
            .download(&caller, q.after.unwrap_or(0).max(0), q.limit.unwrap_or(100))
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One application: its form, status, deadlines, result, contacts and services, its 四级三类
/// level and what is still owed; masked for roles that may not see personal numbers.
#[utoipa::path(get, path = "/api/v1/unemployment/applications/{no}",
    params(("no" = String, Path, description = "申请编号")),
    responses((status = 200, body = ApplicationView), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_application(
    state: web::Data<AppState>,
    caller: Authenticated,
    no: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let no = no.into_inner();
    let view = blocking(&state, move |s| {
        s.unemployment.get(&caller, &no).map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Records the review: `passed` (with `urban`) or `refused` with a reason. A reason forbidden by
/// 79号 §二 (materials incomplete, not insured locally, no benefit entitlement, household
/// registration elsewhere) is refused. Visible to every level above at once.
#[utoipa::path(post, path = "/api/v1/unemployment/applications/{no}/review",
    params(("no" = String, Path, description = "申请编号")), request_body = ReviewInput,
    responses((status = 200, body = ApplicationView), (status = 404, body = ApiError),
        (status = 409, description = "APPLICATION_CLOSED: reviewed before", body = ApiError),
        (status = 422, description = "REVIEW_INVALID or REVIEW_REASON_FORBIDDEN", body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_review(
    state: web::Data<AppState>,
    caller: Authenticated,
    no: web::Path<String>,
    body: web::Json<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let no = no.into_inner();
    let body = body.into_inner();
    let view = blocking(&state, move |s| {
        s.unemployment
            .review(&caller, &no, &body, china_today())
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Records a contact (the one within 5 working days of registration, and the monthly ones), a
/// service, or the person's type (classify) for a registered person.
#[utoipa::path(post, path = "/api/v1/unemployment/applications/{no}/events",
    params(("no" = String, Path, description = "申请编号")), request_body = EventInput,
    responses((status = 200, body = ApplicationView), (status = 404, body = ApiError),
        (status = 409, description = "APPLICATION_CLOSED: not registered", body = ApiError),
        (status = 422, description = "UNEMPLOYMENT_EVENT_INVALID", body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_event(
    state: web::Data<AppState>,
    caller: Authenticated,
    no: web::Path<String>,
    body: web::Json<EventInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let no = no.into_inner();
    let body = body.into_inner();
    let view = blocking(&state, move |s| {
        s.unemployment
            .record_event(&caller, &no, &body, china_today())
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Ends a registration with an AJC00A reason, date and clerk; writes its deregistration record
/// (checked against the 79号 annex) and the notice to the person (none for 移居境外, 25, 26, 32).
#[utoipa::path(post, path = "/api/v1/unemployment/applications/{no}/exit",
    params(("no" = String, Path, description = "申请编号")), request_body = ExitInput,
    responses((status = 200, body = ApplicationView), (status = 404, body = ApiError),
        (status = 409, description = "APPLICATION_CLOSED: not registered", body = ApiError),
        (status = 422, description = "EXIT_INVALID or EXIT_NEEDS_VERIFICATION", body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_exit(
    state: web::Data<AppState>,
    caller: Authenticated,
    no: web::Path<String>,
    body: web::Json<ExitInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let no = no.into_inner();
    let body = body.into_inner();
    let view = blocking(&state, move |s| {
        s.unemployment
            .exit(&caller, &no, &body, china_today())
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `pending`, `late`, `breached`, `uncontacted`, `monthly_contact` or `owed`.
    #[param(example = "pending")]
    list: String,
}

/// A work list of the caller's jurisdiction with the counts of all of them.
#[utoipa::path(get, path = "/api/v1/unemployment/lists", params(ListQuery),
    responses((status = 200, body = WorkList), (status = 400, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_lists(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let kind = ListKind::parse(query.list.trim()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::QueryInvalid,
            "list 应为 pending、late、breached、uncontacted、monthly_contact 或 owed。",
            "list must be pending, late, breached, uncontacted, monthly_contact or owed.",
        )
    })?;
    let list = blocking(&state, move |s| {
        s.unemployment
            .work_list(&caller, kind, china_today())
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DayQuery {
    /// The day (`2026-11-30` or `20261130`).
    #[param(example = "2026-11-30")]
    date: String,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

/// The day's deregistration file of the 79号 annex (AAB301 … AAE013), every record checked
/// before it leaves; a stored record that breaks a rule is held back and listed in `held_back`
/// (the CSV carries only the good records, its header the eleven codes).
#[utoipa::path(get, path = "/api/v1/unemployment/deregistrations", params(DayQuery),
    responses((status = 200, body = DayFile, description = "JSON, or the CSV file"), (status = 400, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_deregistrations(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<DayQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let q = query.into_inner();
    let day = parse_day(q.date.trim()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::QueryInvalid,
            "date 应为 YYYY-MM-DD 或 YYYYMMDD。",
            "date must be YYYY-MM-DD or YYYYMMDD.",
        )
    })?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::FormatInvalid,
                "格式应为 json 或 csv。",
                "Format must be json or csv.",
            ))
        }
    };
    let file = blocking(&state, move |s| {
        s.unemployment
            .day_file(&caller, day, china_today())
            .map_err(refusal)
    })
    .await?;
    if csv {
        Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"deregistrations-{}.csv\"", file.date),
            ))
            .body(annex::write_csv(&file.records)))
    } else {
        Ok(HttpResponse::Ok().json(file))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBody {
    /// Up to 5,000 records in the annex's fields (`AAB301` … `AAE013`; `AAC004` optional).
    pub records: Vec<DeregistrationRecord>,
}

/// Takes deregistrations from a local system, as JSON (`{"records": [...]}`) or as a CSV file
/// (`Content-Type: text/csv`, header the annex's codes). Each is checked by the annex's rules
/// and for an area in the caller's jurisdiction; a broken record is answered with its key
/// (AAB301 + AAZ341), the field and the rule, and the rest of the batch is kept.
#[utoipa::path(post, path = "/api/v1/unemployment/deregistrations", request_body = ReceiveBody,
    responses((status = 200, body = Received), (status = 400, body = ApiError), (status = 403, body = ApiError), (status = 413, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_receive(
    state: web::Data<AppState>,
    caller: Authenticated,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let is_csv = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let records = if is_csv {
        annex::read_csv(&body).map_err(|e| {
            ApiError::new(
                ErrorCode::BodyInvalid,
                &format!("CSV 文件无法读取：{e}"),
                &format!("The CSV file cannot be read: {e}"),
            )
        })?
    } else {
        let bad = |e: String| {
            ApiError::new(
                ErrorCode::BodyInvalid,
                &format!("请求体不是有效的 JSON（{{\"records\": [...]}}）：{e}"),
                &format!("The body is not valid JSON ({{\"records\": [...]}}): {e}"),
            )
        };
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| bad(e.to_string()))?;
        let list = value
            .get("records")
            .and_then(|r| r.as_array())
            .ok_or_else(|| bad("records 应为数组 / records must be an array".into()))?;
        // Each record is read on its own: a missing field, a null or a number is a rule the
        // record breaks (answered with its key), not a reason to refuse the whole batch.
        list.iter().map(annex::lenient_record).collect()
    };
    if records.len() > MAX_RECORDS {
        return Err(ApiError::new(
            ErrorCode::BodyTooLarge,
            &format!("一次最多上传 {MAX_RECORDS} 条记录。"),
            &format!("At most {MAX_RECORDS} records per request."),
        ));
    }
    let answer = blocking(&state, move |s| {
        s.unemployment.receive(&caller, &records).map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// The month the period ends in (`2026-11`: 2026-10-21 to 2026-11-20).
    #[param(example = "2026-11")]
    month: String,
    /// An organisation in your jurisdiction (code); default your own.
    org: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    format: Option<String>,
}

fn period_of(month: &str) -> Result<Period, ApiError> {
    Period::parse(month).ok_or_else(|| {
        ApiError::new(
            ErrorCode::QueryInvalid,
            "month 应为 YYYY-MM（报表期为上月21日至本月20日）。",
            "month must be YYYY-MM (the period runs from the 21st of the month before to the 20th).",
        )
    })
}

/// The monthly statistics (79号 §九–十一) per area below the organisation, the total the sum of
/// its rows; every count can be drilled into with `/api/v1/unemployment/statistics/records`.
#[utoipa::path(get, path = "/api/v1/unemployment/statistics", params(StatsQuery),
    responses((status = 200, body = MonthlyStats, description = "JSON, or the CSV / XLSX file"), (status = 400, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_statistics(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<StatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let q = query.into_inner();
    let period = period_of(&q.month)?;
    let format = super::followup::report_format(q.format.as_deref())?;
    let (bytes, code) = blocking(&state, move |s| {
        let figures: MonthlyStats = s
            .unemployment
            .monthly(&caller, &period, q.org.as_deref())
            .map_err(refusal)?;
        let mut out = Vec::new();
        stats::write(&figures, format, &mut out).map_err(ApiError::internal)?;
        Ok((
            out,
            format!("{}-{}", figures.org_code, figures.period.month),
        ))
    })
    .await?;
    let mut answer = HttpResponse::Ok();
    answer.content_type(format.content_type());
    if format != SummaryFormat::Json {
        answer.insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"unemployment-{code}.{}\"",
                format.extension()
            ),
        ));
    }
    Ok(answer.body(bytes))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsRecordsQuery {
    /// The month the period ends in (`2026-11`).
    #[param(example = "2026-11")]
    month: String,
    /// The row's organisation (code); default your own (the total row).
    org: Option<String>,
    /// The column id (`new_registrations`, `exit_11`, `registered_at_end`, …).
    #[param(example = "new_registrations")]
    column: String,
}

/// The applications behind one count of the monthly statistics.
#[utoipa::path(get, path = "/api/v1/unemployment/statistics/records", params(StatsRecordsQuery),
    responses((status = 200, body = [StatRecord]), (status = 400, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn unemployment_statistics_records(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<StatsRecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let q = query.into_inner();
    let period = period_of(&q.month)?;
    let records = blocking(&state, move |s| {
        s.unemployment
            .monthly_records(&caller, &period, q.org.as_deref(), &q.column)
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Ok().json(records))
}

fn rate_limited() -> ApiError {
    ApiError::new(
        ErrorCode::RateLimited,
        "提交过于频繁，请稍后再试。",
        "Too many requests; try again later.",
    )
}

/// Whether one more public request from this address (and about this application) is allowed.
pub fn public_allowance(
    state: &AppState,
    req: &HttpRequest,
    what: &str,
    number: Option<&str>,
) -> bool {
    let per_hour = state.config.progress_queries_per_hour;
    let address = super::pages::public::client_address(req);
    let by_address = state
        .pages
        .limits
        .take(&format!("{what}:{address}"), per_hour);
    let by_number = number.is_none_or(|n| {
        state
            .pages
            .limits
            .take(&format!("{what}-no:{}", n.trim()), per_hour)
    });
    by_address && by_number
}

/// The public application (网上申请): the same form and rules as the national entry, without an
/// account; rate-limited per address. The answer is the application number for the progress
/// query.
#[utoipa::path(post, path = "/api/v1/public/unemployment/applications", request_body = ApplicationInput,
    responses((status = 201, body = Applied), (status = 422, description = "APPLICATION_INVALID with `problems`, or PLACE_UNROUTABLE", body = ApiError), (status = 429, body = ApiError)))]
async fn public_unemployment_apply(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ApplicationInput>,
) -> Result<HttpResponse, ApiError> {
    if !public_allowance(&state, &req, "apply", None) {
        return Err(rate_limited());
    }
    let form = body.into_inner();
    let applied = blocking(&state, move |s| {
        s.unemployment
            .apply(None, Channel::Public, None, &form, china_today())
            .map_err(refusal)
    })
    .await?;
    Ok(HttpResponse::Created().json(applied))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressBody {
    pub application_no: String,
    pub id_number: String,
}

/// The public progress query (LD/T 6009-2024 §5.2.4): status and result only, for the
/// application number with the ID number it was made with. A wrong ID number is answered
/// exactly as a number that does not exist. Rate-limited per address and per application.
#[utoipa::path(post, path = "/api/v1/public/unemployment/progress", request_body = ProgressBody,
    responses((status = 200, body = Progress), (status = 404, body = ApiError), (status = 429, body = ApiError)))]
async fn public_unemployment_progress(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ProgressBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if !public_allowance(&state, &req, "progress", Some(&body.application_no)) {
        return Err(rate_limited());
    }
    let found = blocking(&state, move |s| {
        s.unemployment
            .progress(&body.application_no, &body.id_number)
            .map_err(refusal)
    })
    .await?;
    match found {
        Some(p) => Ok(HttpResponse::Ok().json(p)),
        None => Err(progress_not_found()),
    }
}

/// The one answer for a wrong number and a wrong ID number alike.
pub fn progress_not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "未找到与该申请编号和证件号码相符的申请。",
        "No application matches this application number and ID number.",
    )
}
