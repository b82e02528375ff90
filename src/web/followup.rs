//! The follow-up and report endpoints: batches of follow-up events from local systems, follow-up
//! files (CSV/XLSX, one sheet or file per set) with their reject report, a record's follow-up
//! timeline, the 111号 summary (JSON, CSV, XLSX), its drill-down to the
//! records behind each count, and the overdue lists.

use super::auth::Authenticated;
use super::error::ApiError;
use super::exchange::{blocking, parse_format};
use super::routes::RouteBook;
use super::AppState;
use crate::distribution::DistError;
use crate::domain::catalogue::ErrorCode;
use crate::domain::followup::EventKind;
use crate::domain::followup::{Field, RawEvent};
use crate::followup::import::{self, ImportError, ImportRequest, ImportSummary};
use crate::followup::{Source, SubmitAnswer, Timeline, MAX_EVENTS};
use crate::ingest::Silent;
use crate::report::write::{self, SummaryFormat};
use crate::report::{DrillPage, DrillQuery, Summary};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes(book: &mut RouteBook) {
    book.add::<__path_submit_events, _, _>(submit_events)
        .add::<__path_import_file, _, _>(import_file)
        .add::<__path_timeline, _, _>(timeline)
        .add::<__path_summary, _, _>(summary)
        .add::<__path_summary_records, _, _>(summary_records)
        .add::<__path_overdue, _, _>(overdue);
}

/// One follow-up event as a local system sends it. Values may be strings or numbers (`reached`
/// also `true`/`false`); which fields apply depends on `kind` (see docs/followup.md).
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// The sending system's own key for the event, unique per organisation: a retried request
    /// with the same key and content stores nothing twice.
    pub client_key: Option<String>,
    /// The hub's record number; or give `id_number` and `graduation_year`.
    #[schema(value_type = Option<i64>)]
    pub record_id: Option<serde_json::Value>,
    /// 证件类型 (default `01` 居民身份证).
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    #[schema(value_type = Option<i32>)]
    pub graduation_year: Option<serde_json::Value>,
    /// `contact`, `service`, `policy`, `state` or `update`.
    pub kind: Option<String>,
    /// The day of the event (`2026-08-03`).
    pub date: Option<String>,
    /// contact: 联系方式 code or name (电话, 短信, 微信, 上门, 来访).
    pub channel: Option<String>,
    /// contact: reached (联系上) or not.
    #[schema(value_type = Option<bool>)]
    pub reached: Option<serde_json::Value>,
    /// service: 服务类型 code (`01`–`08`, `99`) or name.
    pub service_type: Option<String>,
    /// service / policy: the organisation that gave or granted it.
    pub organisation: Option<String>,
    /// service 03: the employer and post referred to.
    pub employer: Option<String>,
    pub post: Option<String>,
    pub note: Option<String>,
    /// policy: 政策类型 code (`01`–`07`, `99`) or name.
    pub policy_type: Option<String>,
    /// policy: yuan, at most two decimals (`3000`, `"1500.50"`).
    #[schema(value_type = Option<String>)]
    pub amount: Option<serde_json::Value>,
    /// state: 就业状态 code (`10`, `21`, `22`, `23`, `31`, `32`, `40`, `90`) or name.
    pub state: Option<String>,
    /// update: 现居住地, 联系电话, 求职意向 (occupation, region).
    pub address: Option<String>,
    pub phone: Option<String>,
    pub occupation: Option<String>,
    pub region: Option<String>,
}

fn loose(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl EventInput {
    fn into_raw(self) -> RawEvent {
        let mut raw = RawEvent::default();
        let text = [
            (Field::ClientKey, self.client_key),
            (Field::IdType, self.id_type),
            (Field::IdNumber, self.id_number),
            (Field::Kind, self.kind),
            (Field::Date, self.date),
            (Field::Channel, self.channel),
            (Field::ServiceType, self.service_type),
            (Field::Organisation, self.organisation),
            (Field::Employer, self.employer),
            (Field::Post, self.post),
            (Field::Note, self.note),
            (Field::PolicyType, self.policy_type),
            (Field::State, self.state),
            (Field::Address, self.address),
            (Field::Phone, self.phone),
            (Field::Occupation, self.occupation),
            (Field::Region, self.region),
        ];
        for (f, v) in text {
            if let Some(v) = v {
                raw.set(f, v);
            }
        }
        for (f, v) in [
            (Field::RecordId, self.record_id),
            (Field::GraduationYear, self.graduation_year),
            (Field::Reached, self.reached),
            (Field::Amount, self.amount),
        ] {
            if let Some(v) = v {
                raw.set(f, loose(&v));
            }
        }
        raw
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsBody {
    /// 1 to 1000 events, each answered in order.
    pub events: Vec<EventInput>,
    /// Judge every event and answer as if storing, but store nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Stores a batch of follow-up events (first contacts, services, policies, employment states,
/// updates of address, phone and intention) for records held in the caller's jurisdiction. Each
/// event is answered `accepted`, `duplicate` (its client key was stored before with the same
/// content) or `rejected` with every reason; a rejected event stores nothing.
#[utoipa::path(post, path = "/api/v1/followup/events", request_body = EventsBody,
    responses((status = 200, body = SubmitAnswer), (status = 403, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn submit_events(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<EventsBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let body = body.into_inner();
    if body.events.is_empty() || body.events.len() > MAX_EVENTS {
        return Err(ApiError::new(
            ErrorCode::EventList,
            &format!(
                "事件清单有 {} 条，应为 1 到 {MAX_EVENTS} 条，未保存任何事件。",
                body.events.len()
            ),
            &format!(
                "The list has {} events; send 1 to {MAX_EVENTS}. Nothing was stored.",
                body.events.len()
            ),
        ));
    }
    let dry_run = body.dry_run;
    let events: Vec<(usize, RawEvent)> = body
        .events
        .into_iter()
        .map(EventInput::into_raw)
        .enumerate()
        .collect();
    let answer = blocking(&state, move |s| {
        Ok(s.followup.submit(&caller, events, Source::Api, dry_run)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// The file's name (`就业服务.csv`, `跟踪情况.xlsx`): `.tsv`/`.txt` hint a tab-separated file,
    /// and a CSV named after a set gives the kind of its rows.
    name: Option<String>,
    /// Judge every row and answer as if storing, but store nothing.
    #[serde(default)]
    dry_run: bool,
    /// The kind of rows nothing else gives one (no 事件类型 column, a sheet or file name that is
    /// no kind): `contact`, `service`, `policy`, `state`, `update` or their Chinese names.
    kind: Option<String>,
    /// `csv` or `xlsx`: answer the reject report file instead of the JSON summary.
    report: Option<String>,
}

/// Imports a follow-up file (CSV/TSV in UTF-8, UTF-8-BOM, GBK/GB18030 or UTF-16; or XLSX with one
/// sheet per set) as the request body, for records held in the caller's jurisdiction. Streamed to
/// disk like a transfer upload, then read by the same reader and every row judged by the same
/// rules as `POST /api/v1/followup/events`. A file refused whole stores nothing; otherwise each
/// row is accepted, a duplicate (the same file sent again) or rejected, and the answer is the
/// import summary, or with `report` the reject report: 工作表, 行号, 列, 值, 原因代码, 说明, Message.
#[utoipa::path(
    post,
    path = "/api/v1/followup/files",
    params(FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The import summary (also for a dry run), or with `report` the reject report as CSV or XLSX", body = ImportSummary),
        (status = 403, description = "The role may not record follow-up", body = ApiError),
        (status = 413, description = "FILE_TOO_LARGE: over the size limit, or an XLSX that unpacks to an abnormal size; nothing stored", body = ApiError),
        (status = 422, description = "File refused whole (unreadable, no header, a required column missing, KIND_MISSING); nothing stored", body = ApiError)
    ),
    security(("bearer" = []))
)]
async fn import_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<FileQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    // Refused before a byte of the body is read: the role, a declared size, the parameters.
    caller.require(crate::authz::Permission::FollowUp)?;
    super::api::refuse_declared_too_big(&req, &state)?;
    let q = query.into_inner();
    let kind = q.kind.as_deref().map(parse_kind).transpose()?;
    let report = match q.report.as_deref() {
        Some(f) => Some(parse_format(Some(f))?),
        None => None,
    };
    let spool = super::api::spool_upload(&state, body).await?;
    let file_name = q.name.unwrap_or_else(|| "upload.csv".to_string());
    let dry_run = q.dry_run;
    let (summary, bytes) = blocking(&state, move |s| {
        let request = ImportRequest {
            path: spool.path(),
            file_name: &file_name,
            kind,
            dry_run,
        };
        let summary = s
            .followup
            .import_file(&caller, &request, &Silent)
            .map_err(|e| match e {
                ImportError::Refused(r) => ApiError::new(r.code, &r.message, &r.message_en),
                ImportError::Service(e) => e.into(),
                ImportError::Io(e) => ApiError::internal(e),
            })?;
        let bytes = match report {
            Some(format) => {
                let mut out = Vec::new();
                import::write_rejects(&summary, format, &mut out).map_err(ApiError::internal)?;
                Some(out)
            }
            None => None,
        };
        Ok((summary, bytes))
    })
    .await?;
    match (report, bytes) {
        (Some(format), Some(bytes)) => Ok(HttpResponse::Ok()
            .content_type(format.content_type())
            .insert_header((
                "Content-Disposition",
                // The hash, not the sent name: a name from a client never reaches a header.
                format!(
                    "attachment; filename=\"followup-rejects-{}.{}\"",
                    &summary.sha256[..summary.sha256.len().min(16)],
                    format.extension()
                ),
            ))
            .body(bytes)),
        _ => Ok(HttpResponse::Ok().json(summary)),
    }
}

fn parse_kind(raw: &str) -> Result<EventKind, ApiError> {
    EventKind::parse(raw).ok_or_else(|| {
        ApiError::new(
            ErrorCode::KindInvalid,
            &format!("事件类型 kind={raw:?} 无效，应为 contact、service、policy、state、update（联系、就业服务、就业政策、就业状态、信息更新）。"),
            &format!("kind={raw:?} is not contact, service, policy, state or update."),
        )
    })
}

/// A record's follow-up: every event, the milestones reached, the current employment state and
/// the current address, phone and intention. A view of personal data: an audit event.
#[utoipa::path(get, path = "/api/v1/records/{id}/followup", params(("id" = i64, Path, description = "Record id")),
    responses((status = 200, body = Timeline), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn timeline(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let id = id.into_inner();
    let t = blocking(&state, move |s| {
        s.followup.timeline(&caller, id).map_err(|e| match e {
            DistError::NotFound => ApiError::not_found("记录", "Record"),
            other => other.into(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(t))
}

fn parse_day(raw: Option<&str>) -> Result<NaiveDate, ApiError> {
    let raw = raw.unwrap_or_default();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::new(
            ErrorCode::QueryInvalid,
            &format!("统计截止日 as_of={raw:?} 无效，应为 2026-12-31 这样的日期"),
            &format!("as_of={raw:?} is not a date such as 2026-12-31"),
        )
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// Graduation year (届别), e.g. 2026.
    #[param(example = 2026)]
    year: i32,
    /// Cut-off day: the data as it stood at the end of this day (China time).
    #[param(example = "2026-12-31")]
    as_of: String,
    /// An organisation in your jurisdiction (code); default your own.
    org: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    format: Option<String>,
}

/// The 111号 summary: one row per organisation directly below (with everything below it), a
/// row for what the organisation holds itself when it holds any (本级), and the total row with
/// its rates recomputed. Every count can be drilled into with `/api/v1/reports/summary/records`.
#[utoipa::path(get, path = "/api/v1/reports/summary", params(SummaryQuery),
    responses((status = 200, body = Summary, description = "JSON, or the CSV / XLSX file"), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn summary(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SummaryQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let q = query.into_inner();
    let day = parse_day(Some(&q.as_of))?;
    let format = report_format(q.format.as_deref())?;
    let year = q.year;
    let org = q.org;
    let (bytes, code) = blocking(&state, move |s| {
        let summary = s
            .reports
            .summary(&caller, year, day, org.as_deref())
            .map_err(org_not_found)?;
        let mut out = Vec::new();
        write::write(&summary, format, &mut out).map_err(ApiError::internal)?;
        Ok((out, summary.org_code))
    })
    .await?;
    let mut answer = HttpResponse::Ok();
    answer.content_type(format.content_type());
    if format != SummaryFormat::Json {
        answer.insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"summary-{code}-{year}-{day}.{}\"",
                format.extension()
            ),
        ));
    }
    Ok(answer.body(bytes))
}

/// The format of a report download: JSON when none is asked for, else json, csv or xlsx.
pub(super) fn report_format(f: Option<&str>) -> Result<SummaryFormat, ApiError> {
    match f {
        None => Ok(SummaryFormat::Json),
        Some(f) => SummaryFormat::parse(f).ok_or_else(|| {
            ApiError::new(
                ErrorCode::FormatInvalid,
                &format!("格式 {f:?} 无效，应为 json、csv 或 xlsx"),
                &format!("format {f:?} is not json, csv or xlsx"),
            )
        }),
    }
}

fn org_not_found(e: DistError) -> ApiError {
    match e {
        DistError::NotFound => ApiError::not_found("机构", "Organisation"),
        other => other.into(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DrillParams {
    /// Graduation year (届别).
    #[param(example = 2026)]
    year: i32,
    /// Cut-off day, as for the summary.
    #[param(example = "2026-12-31")]
    as_of: String,
    /// The column id of the count (`received`, `contacted`, `service:03`, `state:21`, …).
    #[param(example = "received")]
    column: String,
    /// The row's organisation (code); default your own (the total row).
    org: Option<String>,
    /// `true` for the 本级 row: only what `org` holds itself.
    own: Option<bool>,
    after: Option<i64>,
    /// At most 500; default 50.
    limit: Option<i64>,
    /// `csv` or `xlsx` for the whole list as a file; omit for a JSON page.
    format: Option<String>,
}

/// The records behind one count of the summary, scoped and masked for the caller, a page at a
/// time in record order (the length of the whole list is the count), or the whole list as a file.
#[utoipa::path(get, path = "/api/v1/reports/summary/records", params(DrillParams),
    responses((status = 200, body = DrillPage, description = "A JSON page, or the CSV / XLSX file"), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn summary_records(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<DrillParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let drill = DrillQuery {
        year: q.year,
        as_of: parse_day(Some(&q.as_of))?,
        org: q.org,
        own: q.own.unwrap_or(false),
        column: q.column,
    };
    drill_answer(state, caller, drill, q.format, q.after, q.limit).await
}

async fn drill_answer(
    state: web::Data<AppState>,
    caller: Authenticated,
    drill: DrillQuery,
    format: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    match format {
        None => {
            let page: DrillPage = blocking(&state, move |s| {
                s.reports
                    .drill(&caller, &drill, after, limit)
                    .map_err(org_not_found)
            })
            .await?;
            Ok(HttpResponse::Ok().json(page))
        }
        Some(f) => {
            let format = parse_format(Some(&f))?;
            let name = format!(
                "{}-{}-{}.{}",
                drill.column.replace(':', "_"),
                drill.org.clone().unwrap_or_default(),
                drill.as_of,
                format.extension()
            );
            let bytes = blocking(&state, move |s| {
                let mut out = Vec::new();
                s.reports
                    .drill_download(&caller, &drill, format, &mut out)
                    .map_err(org_not_found)?;
                Ok(out)
            })
            .await?;
            Ok(HttpResponse::Ok()
                .content_type(format.content_type())
                .insert_header((
                    "Content-Disposition",
                    format!("attachment; filename=\"{name}\""),
                ))
                .body(bytes))
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OverdueParams {
    /// `contact` (not contacted within the deadline) or `1131` (1131 not reached within six
    /// months of graduation).
    #[param(example = "contact")]
    kind: String,
    /// Graduation year (届别).
    #[param(example = 2026)]
    year: i32,
    /// Default today (China).
    #[param(example = "2026-12-31")]
    as_of: Option<String>,
    /// An organisation in your jurisdiction; default your own.
    org: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
    /// `csv` or `xlsx` for the whole list as a file.
    format: Option<String>,
}

/// Who is past a follow-up deadline: the drill-down of `overdue_contact` or `overdue_1131`.
#[utoipa::path(get, path = "/api/v1/reports/overdue", params(OverdueParams),
    responses((status = 200, body = DrillPage, description = "A JSON page, or the CSV / XLSX file"), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn overdue(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<OverdueParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let column = match q.kind.as_str() {
        "contact" => "overdue_contact",
        "1131" => "overdue_1131",
        other => {
            return Err(ApiError::new(
                ErrorCode::QueryInvalid,
                &format!("kind={other:?} 无效，应为 contact 或 1131"),
                &format!("kind={other:?} is not contact or 1131"),
            ))
        }
    };
    let as_of = match q.as_of.as_deref() {
        None => crate::ingest::china_today(),
        Some(d) => parse_day(Some(d))?,
    };
    let drill = DrillQuery {
        year: q.year,
        as_of,
        org: q.org,
        own: false,
        column: column.to_string(),
    };
    drill_answer(state, caller, drill, q.format, q.after, q.limit).await
}
