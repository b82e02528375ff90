//! The exchange API (v1): sign-in, the inbox with its cursor, packages (view, records, download,
//! acknowledge, return, cut, push), the unassigned queue, scoped records, and the
//! acknowledgement figures. Every handler takes the authenticated caller; data stays in scope.

use super::auth::Authenticated;
use super::body::SmallBody;
use super::error::ApiError;
use super::routes::RouteBook;
use super::AppState;
use crate::authz::{Caller, Permission};
use crate::db::packages::{PackageState, PlacementState};
use crate::distribution::figures::Figures;
use crate::distribution::reads::{org_ref, package_view, Holders};
use crate::distribution::{DistError, PackageId, RecordId, ReturnItem};
use crate::domain::catalogue::ErrorCode;
use crate::export::TableFormat;
use crate::ingest::china_today;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

pub fn routes(book: &mut RouteBook) {
    book.add::<__path_sign_in, _, _>(sign_in)
        .add::<__path_sign_out, _, _>(sign_out)
        .add::<__path_me, _, _>(me)
        .add::<__path_inbox, _, _>(inbox)
        .add::<__path_sent, _, _>(sent)
        .add::<__path_cut, _, _>(cut)
        .add::<__path_push, _, _>(push)
        .add::<__path_package, _, _>(package)
        .add::<__path_package_records, _, _>(package_records)
        .add::<__path_download, _, _>(download)
        .add::<__path_acknowledge, _, _>(acknowledge)
        .add::<__path_return_records, _, _>(return_records)
        .add::<__path_queue, _, _>(queue)
        .add::<__path_assign, _, _>(assign)
        .add::<__path_records, _, _>(records)
        .add::<__path_record, _, _>(record)
        .add::<__path_figures, _, _>(figures)
        .add::<__path_orgs, _, _>(orgs);
}

/// Runs storage work on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    super::block(move || f(&state)).await?
}

/// A body that may be empty (the defaults) but, when given, must be valid: a mistyped return
/// must not turn into a plain acknowledgement.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::BodyInvalid,
            &format!("请求体不是有效的 JSON，未做任何更改：{e}"),
            &format!("The request body is not valid JSON; nothing was changed: {e}"),
        )
    })
}

/// The state a query names, parsed once here; 400 listing the accepted words otherwise.
fn parse_state<T>(
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Result<Option<T>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| {
            ApiError::new(
                ErrorCode::StateInvalid,
                &format!("状态应为 {}。", allowed.join("、")),
                &format!("State must be one of {}.", allowed.join(", ")),
            )
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Views: the distribution service answers them; the handlers only translate HTTP to its calls.

pub use crate::distribution::reads::{
    HeldRecord, HeldRecordsPage, HopView, InboxPage, OrgRef, PackageRecord, PackageRecordsPage,
    PackageView, RecordDetail,
};

/// `NotFound` from the service named as the thing the path asked for.
fn not_found_as(what_zh: &'static str, what_en: &'static str) -> impl Fn(DistError) -> ApiError {
    move |e| match e {
        DistError::NotFound => ApiError::not_found(what_zh, what_en),
        other => other.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-in

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Send as `Authorization: Bearer <token>`; valid for `session_hours` (12 by default), and
    /// ended after `session_idle_minutes` (30) unused.
    pub token: String,
    pub username: String,
    pub role: String,
    pub organisation: OrgRef,
}

/// Signs a user in: answers a session token. Five wrong passwords lock the account 15 minutes.
#[utoipa::path(post, path = "/api/v1/session", request_body = SignIn,
    responses((status = 200, body = SessionView), (status = 401, body = ApiError), (status = 429, body = ApiError)))]
async fn sign_in(
    state: web::Data<AppState>,
    body: web::Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let view = blocking(&state, move |s| {
        let (user, token) = super::session::open(s, &body.username, &body.password)?;
        let tree = s.dist.tree()?;
        Ok(SessionView {
            token,
            username: user.username,
            role: user.role,
            organisation: org_ref(&tree, user.org_id),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Ends the session whose token is sent.
#[utoipa::path(delete, path = "/api/v1/session", responses((status = 204)))]
async fn sign_out(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|s| s.trim().to_string());
    if let Some(token) = token {
        blocking(&state, move |s| super::session::close(s, &token)).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub actor: String,
    pub role: String,
    pub organisation: OrgRef,
}

/// Who the token or session stands for.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = MeView), (status = 401, body = ApiError)),
    security(("bearer" = [])))]
async fn me(state: web::Data<AppState>, caller: Authenticated) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let tree = state.dist.tree()?;
    Ok(HttpResponse::Ok().json(MeView {
        actor: caller.actor.name.clone(),
        role: caller.role.as_str().into(),
        organisation: org_ref(&tree, caller.org_id),
    }))
}

// ---------------------------------------------------------------------------------------------
// Inbox and packages

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// The last `inbox_seq` already processed (0 to start).
    after: Option<i64>,
    /// Page size, default 50, at most 500.
    limit: Option<i64>,
    /// `delivered` or `acknowledged`.
    state: Option<String>,
}

/// Packages delivered to the caller's organisation after the cursor, in delivery order. Reading
/// changes nothing: a repeated pull with the same cursor answers the same packages.
#[utoipa::path(get, path = "/api/v1/inbox", params(InboxQuery),
    responses((status = 200, body = InboxPage), (status = 401, body = ApiError), (status = 403, body = ApiError)),
    security(("bearer" = [])))]
async fn inbox(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let wanted = parse_state(
        query.state.as_deref(),
        PackageState::parse,
        &PackageState::words(),
    )?;
    let (after, limit) = (query.after, query.limit);
    let page = blocking(&state, move |s| {
        Ok(s.dist.inbox(&caller, after, limit, wanted)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SentQuery {
    /// Packages with ids below this (paging backwards); omit for the newest.
    before: Option<i64>,
    limit: Option<i64>,
}

/// Packages the caller's organisation sent, newest first.
#[utoipa::path(get, path = "/api/v1/packages/sent", params(SentQuery),
    responses((status = 200, body = Vec<PackageView>), (status = 403, body = ApiError)), security(("bearer" = [])))]
async fn sent(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<SentQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let (before, limit) = (query.before, query.limit);
    let views = blocking(&state, move |s| Ok(s.dist.sent(&caller, before, limit)?)).await?;
    Ok(HttpResponse::Ok().json(views))
}

/// One package sent or received within the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/packages/{id}", params(("id" = i64, Path, description = "Package id")),
    responses((status = 200, body = PackageView), (status = 403, body = ApiError), (status = 404, body = ApiError)), security(("bearer" = [])))]
async fn package(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let id = id.into_inner();
    let view = blocking(&state, move |s| {
        s.dist
            .package(&caller, PackageId(id))
            .map_err(package_not_found)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

fn package_not_found(e: DistError) -> ApiError {
    not_found_as("分发包", "Package")(e)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The last record id already taken (0 to start).
    after: Option<i64>,
    /// Page size, default 50, at most 1,000.
    limit: Option<i64>,
}

/// The records of a package a page at a time, in record-id order, with each one's outcome.
/// Each page read is an audit event (personal data).
#[utoipa::path(get, path = "/api/v1/packages/{id}/records", params(("id" = i64, Path, description = "Package id"), PageQuery),
    responses((status = 200, body = PackageRecordsPage), (status = 403, body = ApiError), (status = 404, body = ApiError)), security(("bearer" = [])))]
async fn package_records(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let id = id.into_inner();
    let (after, limit) = (query.after, query.limit);
    let page = blocking(&state, move |s| {
        s.dist
            .package_records(&caller, PackageId(id), after, limit)
            .map_err(package_not_found)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    /// `csv` (default, UTF-8 with BOM) or `xlsx`.
    format: Option<String>,
}

pub fn parse_format(f: Option<&str>) -> Result<TableFormat, ApiError> {
    match f {
        None => Ok(TableFormat::Csv),
        Some(f) => TableFormat::parse(f).ok_or_else(|| {
            ApiError::new(
                ErrorCode::FormatInvalid,
                "格式应为 csv 或 xlsx。",
                "Format must be csv or xlsx.",
            )
        }),
    }
}

/// The whole package as a file: the transfer-file columns, the route columns (路由省代码,
/// 路由市代码, 路由县代码, 路由方式), then 记录号 and 签收状态. An audit event.
#[utoipa::path(get, path = "/api/v1/packages/{id}/download", params(("id" = i64, Path, description = "Package id"), FormatQuery),
    responses((status = 200, description = "CSV or XLSX file", content_type = "text/csv"), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn download(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
    query: web::Query<FormatQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let format = parse_format(query.format.as_deref())?;
    let id = id.into_inner();
    let bytes = blocking(&state, move |s| {
        let mut out = Vec::new();
        s.dist
            .download(&caller, PackageId(id), format, &mut out)
            .map_err(package_not_found)?;
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"package-{id}.{}\"",
                format.extension()
            ),
        ))
        .body(bytes))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeBody {
    /// Records to return before acknowledging the rest (optional).
    #[serde(default)]
    pub returns: Vec<ReturnItem>,
}

/// Acknowledges (签收) a package delivered to the caller's organisation, optionally returning
/// some of its records first. Acknowledging twice is harmless.
#[utoipa::path(post, path = "/api/v1/packages/{id}/acknowledge", params(("id" = i64, Path, description = "Package id")),
    request_body(content = Option<AcknowledgeBody>, description = "Optional: no body, `{}`, or returns to make first (at most 256 KiB)"),
    responses((status = 200, body = PackageView), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn acknowledge(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
    body: SmallBody,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let id = id.into_inner();
    let returns = optional_json::<AcknowledgeBody>(&body.0)?.returns;
    let view = blocking(&state, move |s| {
        let p = s.dist.acknowledge(&caller, PackageId(id), &returns)?;
        Ok(s.dist.package_view(&p)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReturnBody {
    pub returns: Vec<ReturnItem>,
}

/// Returns (退回) records of a package not yet acknowledged to the sender's unassigned queue,
/// each with a reason. All or nothing.
#[utoipa::path(post, path = "/api/v1/packages/{id}/returns", params(("id" = i64, Path, description = "Package id")),
    request_body = ReturnBody,
    responses((status = 200, body = PackageView), (status = 403, body = ApiError), (status = 404, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn return_records(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
    body: web::Json<ReturnBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let id = id.into_inner();
    let returns = body.into_inner().returns;
    let view = blocking(&state, move |s| {
        let p = s.dist.return_records(&caller, PackageId(id), &returns)?;
        Ok(s.dist.package_view(&p)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CutBody {
    /// Only for this organisation directly below (its code); omit for all.
    #[serde(default)]
    pub to: Option<String>,
}

/// Cuts the records waiting at the caller's organisation into one package per organisation
/// directly below, delivered at once.
#[utoipa::path(post, path = "/api/v1/packages/cut",
    request_body(content = Option<CutBody>, description = "Optional: no body, `{}` or `{\"to\": CODE}` (at most 256 KiB)"),
    responses((status = 200, body = Vec<PackageView>), (status = 403, body = ApiError), (status = 422, body = ApiError)), security(("bearer" = [])))]
async fn cut(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: SmallBody,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let to = optional_json::<CutBody>(&body.0)?.to;
    let views = blocking(&state, move |s| {
        let made = s.dist.cut(&caller, to.as_deref(), china_today())?;
        let tree = s.dist.tree()?;
        Ok(made
            .iter()
            .map(|p| package_view(&tree, p))
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PushBody {
    /// Code of an organisation directly below the caller's.
    pub receiver: String,
    /// Records waiting at the caller's organisation.
    #[schema(value_type = Vec<i64>)]
    pub record_ids: Vec<RecordId>,
}

/// Sends chosen records down as one package (a provincial system redistributing to its
/// prefectures). All or nothing.
#[utoipa::path(post, path = "/api/v1/packages", request_body = PushBody,
    responses((status = 201, body = PackageView), (status = 403, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn push(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<PushBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let body = body.into_inner();
    let view = blocking(&state, move |s| {
        let made = s
            .dist
            .push(&caller, &body.receiver, &body.record_ids, china_today())?;
        let p = made.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NothingToSend,
                "没有可分发的记录。",
                "Nothing to send.",
            )
        })?;
        Ok(s.dist.package_view(&p)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

// ---------------------------------------------------------------------------------------------
// Queue and records

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `unassigned` (default), `queued`, `pending` or `settled`.
    state: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

/// Records held by the caller's own organisation in one state (by default the unassigned queue
/// 待分配: returned and unroutable records waiting for a person).
#[utoipa::path(get, path = "/api/v1/queue", params(QueueQuery),
    responses((status = 200, body = HeldRecordsPage), (status = 403, body = ApiError)), security(("bearer" = [])))]
async fn queue(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let wanted = parse_state(
        query.state.as_deref(),
        PlacementState::parse,
        &PlacementState::words(),
    )?
    .unwrap_or(PlacementState::Unassigned);
    held_page(
        state,
        caller,
        Holders::Own,
        Some(wanted),
        query.after,
        query.limit,
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// Search: an ID number, a name or a school name, exactly (with `q`, `state` is not
    /// allowed).
    q: Option<String>,
    /// Only records in this placement state.
    state: Option<String>,
    after: Option<i64>,
    /// Page size, default 50, at most 1,000.
    limit: Option<i64>,
}

/// Records held anywhere in the caller's jurisdiction, in id order (ID and phone numbers masked
/// for roles that may not see them); with `q`, those whose ID number, name or school name it is.
#[utoipa::path(get, path = "/api/v1/records", params(RecordsQuery),
    responses((status = 200, body = HeldRecordsPage), (status = 403, body = ApiError)), security(("bearer" = [])))]
async fn records(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<RecordsQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let wanted = parse_state(
        query.state.as_deref(),
        PlacementState::parse,
        &PlacementState::words(),
    )?;
    if let Some(text) = query.q.clone() {
        if wanted.is_some() {
            return Err(ApiError::new(
                ErrorCode::QueryInvalid,
                "查询（q）与状态（state）不能同时使用。",
                "q and state cannot be used together.",
            ));
        }
        let (after, limit) = (query.after, query.limit);
        let page = blocking(&state, move |s| {
            Ok(s.dist.search_records(&caller, &text, after, limit)?)
        })
        .await?;
        return Ok(HttpResponse::Ok().json(page));
    }
    held_page(
        state,
        caller,
        Holders::Jurisdiction,
        wanted,
        query.after,
        query.limit,
    )
    .await
}

async fn held_page(
    state: web::Data<AppState>,
    caller: Caller,
    holders: Holders,
    wanted: Option<PlacementState>,
    after: Option<i64>,
    limit: Option<i64>,
) -> Result<HttpResponse, ApiError> {
    let page = blocking(&state, move |s| {
        Ok(s.dist
            .held_records(&caller, holders, wanted, after, limit)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One record held in the caller's jurisdiction with its whole path (every hop, who, when).
/// A full view of personal data: an audit event.
#[utoipa::path(get, path = "/api/v1/records/{id}", params(("id" = i64, Path, description = "Record id")),
    responses((status = 200, body = RecordDetail), (status = 403, body = ApiError), (status = 404, body = ApiError)), security(("bearer" = [])))]
async fn record(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let id = id.into_inner();
    let detail = blocking(&state, move |s| {
        s.dist
            .record(&caller, RecordId(id))
            .map_err(not_found_as("记录", "Record"))
    })
    .await?;
    Ok(HttpResponse::Ok().json(detail))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AssignBody {
    #[schema(value_type = Vec<i64>)]
    pub record_ids: Vec<RecordId>,
    /// Code of an organisation below the caller's.
    pub to: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssignResult {
    pub assigned: usize,
}

/// Assigns records waiting at the caller's organisation (returned, unroutable, or settled at a
/// county for a grassroots point) to an organisation below; the next cut sends them. All or
/// nothing.
#[utoipa::path(post, path = "/api/v1/queue/assign", request_body = AssignBody,
    responses((status = 200, body = AssignResult), (status = 403, body = ApiError), (status = 422, body = ApiError)),
    security(("bearer" = [])))]
async fn assign(
    state: web::Data<AppState>,
    caller: Authenticated,
    body: web::Json<AssignBody>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let body = body.into_inner();
    let assigned = blocking(&state, move |s| {
        Ok(s.dist.assign(&caller, &body.record_ids, &body.to)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AssignResult { assigned }))
}

/// Acknowledgement figures of the caller's subtree, per organisation and per level.
#[utoipa::path(get, path = "/api/v1/figures",
    responses((status = 200, body = Figures), (status = 403, body = ApiError)), security(("bearer" = [])))]
async fn figures(
    state: web::Data<AppState>,
    caller: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let f = blocking(&state, move |s| {
        Ok(s.dist.figures(&caller, china_today())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(f))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrgsView {
    pub organisation: OrgRef,
    pub parent: Option<OrgRef>,
    /// Receiving organisations directly below (senders are not listed).
    pub children: Vec<OrgRef>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrgsQuery {
    /// An organisation within the caller's jurisdiction (default: the caller's own).
    code: Option<String>,
}

/// An organisation of the caller's jurisdiction with its parent and the organisations directly
/// below it (the codes to cut, push and assign to).
#[utoipa::path(get, path = "/api/v1/orgs", params(OrgsQuery),
    responses((status = 200, body = OrgsView), (status = 404, body = ApiError)), security(("bearer" = [])))]
async fn orgs(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<OrgsQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let tree = blocking(&state, |s| Ok(s.dist.tree()?)).await?;
    let node = match &query.code {
        Some(code) => tree
            .by_code(code)
            .filter(|n| caller.scope.contains(n.id) || caller.may(Permission::Administer)),
        None => tree.get(caller.org_id),
    }
    .ok_or_else(|| ApiError::not_found("机构", "Organisation"))?;
    Ok(HttpResponse::Ok().json(OrgsView {
        organisation: org_ref(&tree, node.id),
        parent: node.parent.map(|p| org_ref(&tree, p)),
        children: tree
            .children(node.id)
            .iter()
            .filter(|c| tree.get(**c).is_some_and(|n| n.level.receives()))
            .map(|c| org_ref(&tree, *c))
            .collect(),
    }))
}

/// 403 unless the caller may upload.
pub fn require_uploader(caller: &Caller) -> Result<(), ApiError> {
    Ok(caller.require(Permission::Upload)?)
}
