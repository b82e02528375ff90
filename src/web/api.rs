//! The JSON API, version 1: health, transfer-file upload, batch status, reject reports, routing
//! explanations, and the OpenAPI document that describes them (`/api-docs/openapi.json`).

use super::auth::{batch_sources, Authenticated};
use super::body::{declared_length, timed_out, too_slow};
use super::error::ApiError;
use super::exchange::{self, parse_format, require_uploader};
use super::reference;
use super::routes::RouteBook;
use super::AppState;
use crate::authz::{Caller, Permission};
use crate::db::batches;
use crate::domain::catalogue::ErrorCode;
use crate::export;
use crate::ingest::{self, BatchSummary, Channel, IngestRequest, Refusal, Silent};
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::io::Write;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gradhub API",
        description = "离校未就业高校毕业生实名登记分发中心 — distribution hub for the real-name registration of unemployed graduates."
    ),
    paths(index, health, super::ops::live, super::ops::ready, super::ops::metrics, openapi, reference::page, reference::script, upload, list_batches, get_batch, batch_rejects, explain_route,
        exchange::sign_in, exchange::sign_out, exchange::me, exchange::inbox, exchange::sent,
        exchange::package, exchange::package_records, exchange::download, exchange::acknowledge,
        exchange::return_records, exchange::cut, exchange::push, exchange::queue,
        exchange::records, exchange::record, exchange::assign, exchange::figures, exchange::orgs,
        super::followup::submit_events, super::followup::import_file, super::followup::timeline,
        super::followup::summary, super::followup::summary_records, super::followup::overdue,
        super::registration::register,
        super::unemployment::unemployment_apply, super::unemployment::unemployment_download, super::unemployment::unemployment_application,
        super::unemployment::unemployment_review, super::unemployment::unemployment_event, super::unemployment::unemployment_exit,
        super::unemployment::unemployment_lists, super::unemployment::unemployment_deregistrations, super::unemployment::unemployment_receive,
        super::unemployment::unemployment_statistics, super::unemployment::unemployment_statistics_records,
        super::unemployment::public_unemployment_apply, super::unemployment::public_unemployment_progress),
    components(schemas(BatchSummary, Refusal, ApiError, ErrorCode, Health, Channel)),
    modifiers(&BearerAuth, &CommonAnswers)
)]
pub struct ApiDoc;

/// Declares the bearer scheme (API token or session token) the exchange endpoints use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`gradhub tokens create`) or a session token (`POST /api/v1/session`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Answers every endpoint may give that follow from its shape, added where they apply so no
/// annotation can forget them: `401` where a bearer secret is required; `400` where it reads a
/// query or a body (`QUERY_INVALID`, `BODY_INVALID`); `404` where the path holds an id (a
/// non-numeric one too); `408` and `413` where it reads a body.
struct CommonAnswers;

impl utoipa::Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{Ref, ResponseBuilder};
        let error = |text: &str| {
            ResponseBuilder::new()
                .description(text)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for (_, item) in openapi.paths.paths.iter_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let params = operation.parameters.as_deref().unwrap_or_default();
                let in_path = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let in_query = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let body = operation.request_body.is_some();
                let mut add = |status: &str, text: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(text).into());
                };
                if secured {
                    add("401", "No, or no valid, bearer secret (UNAUTHENTICATED)");
                }
                if in_query || body {
                    add(
                        "400",
                        "A query parameter or the body is not valid; nothing changed",
                    );
                }
                if in_path {
                    add(
                        "404",
                        "Not found, outside the caller's jurisdiction, or not a number",
                    );
                }
                if body {
                    add(
                        "408",
                        "The body arrived too slowly (BODY_TIMEOUT); nothing changed",
                    );
                    add("413", "The body is too large; nothing changed");
                }
            }
        }
    }
}

pub fn routes(book: &mut RouteBook) {
    book.add::<__path_index, _, _>(index)
        .add::<__path_health, _, _>(health)
        .add::<__path_openapi, _, _>(openapi)
        .add::<reference::__path_page, _, _>(reference::page)
        .add::<reference::__path_script, _, _>(reference::script)
        .add::<__path_upload, _, _>(upload)
        .add::<__path_list_batches, _, _>(list_batches)
        .add::<__path_get_batch, _, _>(get_batch)
        .add::<__path_batch_rejects, _, _>(batch_rejects)
        .add::<__path_explain_route, _, _>(explain_route);
}

/// Where things are, for a program (a person opening the hub's address gets the sign-in page).
#[utoipa::path(get, path = "/api", responses((status = 200, description = "Where things are", body = Object)))]
async fn index() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "name": "gradhub 离校未就业高校毕业生实名登记分发中心",
        "health": "/health",
        "openapi": "/api-docs/openapi.json",
        "api_reference": "/api-docs/",
        "batches": "/api/v1/batches",
        "inbox": "/api/v1/inbox",
        "sign_in": "/api/v1/session",
        "route_explain": "/api/v1/route/explain?value=山东省莱芜市莱城区",
        "dashboard": "/",
    }))
}

/// This document.
#[utoipa::path(get, path = "/api-docs/openapi.json",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
async fn openapi() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    status: &'static str,
    backend: &'static str,
    division_edition: String,
}

/// Readiness (as `/health/ready`) and the database backend in use.
#[utoipa::path(get, path = "/health", responses(
    (status = 200, body = Health),
    (status = 503, description = "Not ready; the reason", body = ApiError)))]
pub(super) async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // A query proves the database answers, not only that the process runs.
    super::ops::check_ready(&state).await?;
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        backend: state.db.backend().as_str(),
        division_edition: state.router.table().edition().to_string(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Sender code: the caller's own organisation code (the default). Only the ministry may
    /// upload in another sender's name.
    source: Option<String>,
    /// `education` (default), `walk_in`, `visit` or `self`.
    channel: Option<String>,
    /// The original file name (shown in summaries; `.tsv`/`.txt` hints a tab-separated file).
    file_name: Option<String>,
    /// Validate only: answer the summary, store nothing.
    #[serde(default)]
    dry_run: bool,
}

/// Upload a transfer file (CSV, TSV or XLSX) as the request body. The body is streamed to disk,
/// then ingested by the same pipeline as the command line.
#[utoipa::path(
    post,
    path = "/api/v1/batches",
    params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Batch stored", body = BatchSummary),
        (status = 200, description = "Dry run, or the file was already ingested from this sender (duplicate_of set)", body = BatchSummary),
        (status = 403, description = "The role may not upload, or not in this sender's name", body = ApiError),
        (status = 409, description = "ALREADY_RECEIVED: the same file (same SHA-256) came from another sender; nothing stored, nothing about that batch told", body = ApiError),
        (status = 413, description = "FILE_TOO_LARGE: over the size limit (answered before the body is read when Content-Length says so), or an XLSX that unpacks to an abnormal size; nothing stored", body = ApiError),
        (status = 422, description = "File refused whole; nothing stored", body = ApiError)
    ),
    security(("bearer" = []))
)]
async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<UploadQuery>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    require_uploader(&caller)?;
    refuse_declared_too_big(&req, &state)?;
    let sender = UploadSender::of(&caller, &state, query.source.clone())?;
    let channel = match query.channel.as_deref() {
        None => Channel::Education,
        Some(c) => Channel::parse(c).ok_or_else(|| {
            ApiError::new(
                ErrorCode::ChannelInvalid,
                &format!("来源渠道无效：“{c}”（应为 education、walk_in、visit 或 self）。"),
                &format!("Invalid channel {c:?} (education, walk_in, visit or self)."),
            )
        })?,
    };
    let spool = spool_upload(&state, body).await?;
    let file_name = query
        .file_name
        .clone()
        .unwrap_or_else(|| "upload.csv".to_string());
    let dry_run = query.dry_run;
    let state = state.clone();
    let summary = super::block(move || {
        sender.ingest(&state, spool.path(), &file_name, channel, dry_run, &Silent)
    })
    .await??;
    if summary.duplicate_of.is_some() || summary.dry_run {
        Ok(HttpResponse::Ok().json(summary))
    } else {
        Ok(HttpResponse::Created().json(summary))
    }
}

/// In whose name an upload is made, checked before a byte of the file is read, and which
/// senders' batches the uploader may see (to tell a duplicate of its own from another's).
pub struct UploadSender {
    pub source: String,
    visible_sources: Option<Vec<String>>,
}

impl UploadSender {
    /// The caller's own organisation, or (for the ministry only) `requested`.
    pub fn of(
        caller: &Caller,
        state: &AppState,
        requested: Option<String>,
    ) -> Result<UploadSender, ApiError> {
        require_uploader(caller)?;
        let visible_sources = batch_sources(caller, state)?;
        let source = match requested {
            None => caller.org_code.clone(),
            Some(s) if s == caller.org_code || caller.scope == crate::authz::Scope::All => s,
            Some(s) => {
                return Err(ApiError::new(
                    ErrorCode::Forbidden,
                    &format!(
                        "只能以本机构（{}）名义上传，不能以 {s} 名义上传。",
                        caller.org_code
                    ),
                    &format!(
                        "You may upload only as your own organisation ({}), not as {s}.",
                        caller.org_code
                    ),
                ))
            }
        };
        if !ingest::valid_source(&source) {
            let r = Refusal::bad_source(&source);
            return Err(ApiError::new(r.code, &r.message, &r.message_en));
        }
        Ok(UploadSender {
            source,
            visible_sources,
        })
    }

    /// Ingests a spooled upload by the pipeline of the command line (on a blocking thread).
    pub fn ingest(
        &self,
        state: &AppState,
        path: &std::path::Path,
        file_name: &str,
        channel: Channel,
        dry_run: bool,
        progress: &dyn crate::ingest::Progress,
    ) -> Result<BatchSummary, ApiError> {
        let mut conn = state.db.conn()?;
        let request = IngestRequest {
            path,
            file_name,
            source: &self.source,
            channel,
            dry_run,
        };
        let outcome = ingest::ingest(&mut conn, &state.router, &request, progress)?;
        let earlier_source = match outcome.summary.duplicate_of {
            Some(id) => batches::get(&mut conn, id)?.map(|b| b.source),
            None => None,
        };
        // The same file from another sender: say it is known, but nothing of the other
        // sender's batch (its id, file name, counts), unless the caller may see that batch anyway.
        if let Some(earlier) = earlier_source {
            if earlier != self.source && !visible_batch(&self.visible_sources, &earlier) {
                return Err(already_received());
            }
        }
        Ok(outcome.summary)
    }
}

/// Refuses an upload whose declared length is over the limit, before a byte of it is read.
pub(super) fn refuse_declared_too_big(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let limit = state.config.max_upload_bytes;
    if declared_length(req).is_some_and(|n| n > limit) {
        let r = Refusal::too_big(limit);
        return Err(ApiError::new(r.code, &r.message, &r.message_en));
    }
    Ok(())
}

/// Streams an uploaded file to a temporary file in `upload_dir` (removed when dropped), refused
/// as soon as it passes the size limit; the body keeps the pace every body must keep.
pub(super) async fn spool_upload(
    state: &AppState,
    mut body: web::Payload,
) -> Result<tempfile::NamedTempFile, ApiError> {
    let limit = state.config.max_upload_bytes;
    let mut spool =
        tempfile::NamedTempFile::new_in(&state.config.upload_dir).map_err(ApiError::internal)?;
    let mut received = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            if timed_out(&e) {
                return too_slow();
            }
            ApiError::new(
                ErrorCode::UploadInterrupted,
                "上传中断，文件未完整接收，请重新上传。",
                &format!("The upload was interrupted ({e}); send the file again."),
            )
        })?;
        received += chunk.len() as u64;
        if received > limit {
            let r = Refusal::too_big(limit);
            return Err(ApiError::new(r.code, &r.message, &r.message_en));
        }
        // Small synchronous writes to a local file; the kernel buffers them.
        spool.write_all(&chunk).map_err(ApiError::internal)?;
    }
    spool.flush().map_err(ApiError::internal)?;
    Ok(spool)
}

fn already_received() -> ApiError {
    ApiError::new(
        ErrorCode::AlreadyReceived,
        "文件已接收：内容相同（SHA-256 相同）的文件此前已收到，本次未重复存储。",
        "Already received: a file with the same content (same SHA-256) was received before; nothing was stored again.",
    )
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many, newest first (default 100, at most 1,000).
    limit: Option<i64>,
}

/// Recent batches, newest first.
#[utoipa::path(get, path = "/api/v1/batches", params(ListQuery),
    responses((status = 200, body = Vec<BatchSummary>), (status = 403, description = "The admin role sees no batches", body = ApiError)),
    security(("bearer" = [])))]
async fn list_batches(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let sources = batch_sources(&caller.0, &state)?;
    let db = state.db.clone();
    let limit = query.limit.unwrap_or(100).clamp(1, 1_000);
    let rows = super::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        Ok(batches::list_scoped(&mut conn, sources.as_deref(), limit)?)
    })
    .await??;
    let summaries: Vec<BatchSummary> = rows.iter().map(BatchSummary::from_row).collect();
    Ok(HttpResponse::Ok().json(summaries))
}

/// The summary of one batch.
#[utoipa::path(get, path = "/api/v1/batches/{id}", params(("id" = i64, Path, description = "Batch id")),
    responses((status = 200, body = BatchSummary), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn get_batch(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let sources = batch_sources(&caller.0, &state)?;
    let db = state.db.clone();
    let id = id.into_inner();
    let row = super::block(move || -> Result<_, ApiError> {
        let mut conn = db.conn()?;
        Ok(batches::get(&mut conn, id)?)
    })
    .await??
    .filter(|b| visible_batch(&sources, &b.source))
    .ok_or_else(|| ApiError::not_found("批次", "Batch"))?;
    Ok(HttpResponse::Ok().json(BatchSummary::from_row(&row)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `csv` (default, UTF-8 with BOM) or `xlsx`.
    format: Option<String>,
}

/// The reject report of a batch: 行号, 列, 值, 原因代码, 说明 (ID numbers masked).
#[utoipa::path(get, path = "/api/v1/batches/{id}/rejects",
    params(("id" = i64, Path, description = "Batch id"), ReportQuery),
    responses((status = 200, description = "CSV or XLSX file", content_type = "text/csv"), (status = 403, body = ApiError), (status = 404, body = ApiError)),
    security(("bearer" = [])))]
async fn batch_rejects(
    state: web::Data<AppState>,
    caller: Authenticated,
    id: web::Path<i64>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = caller.0;
    let format = parse_format(query.format.as_deref())?;
    let sources = batch_sources(&caller, &state)?;
    let db = state.db.clone();
    let id = id.into_inner();
    let bytes = super::block(move || -> Result<Option<Vec<u8>>, ApiError> {
        let mut conn = db.conn()?;
        let Some(batch) =
            batches::get(&mut conn, id)?.filter(|b| visible_batch(&sources, &b.source))
        else {
            return Ok(None);
        };
        // The sender sees its own file's ID numbers; staff who work the records see them whole;
        // everyone else masked.
        let own = batch.source == caller.org_code;
        let mask = !(own || caller.may(Permission::SeePersonalNumbers));
        let mut out = Vec::new();
        export::write_rejects(&mut conn, id, format, mask, &mut out).map_err(ApiError::internal)?;
        crate::db::audit::record(
            &mut conn,
            &caller.actor,
            "batch.rejects_exported",
            &format!("batch:{id}"),
            None,
            Some(&serde_json::json!({ "masked": mask })),
        )?;
        Ok(Some(out))
    })
    .await??
    .ok_or_else(|| ApiError::not_found("批次", "Batch"))?;
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"batch-{id}-rejects.{}\"",
                format.extension()
            ),
        ))
        .body(bytes))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    /// A division code (`371202`) or an address (`山东省莱芜市莱城区`).
    value: String,
}

/// Why a code or an address routes where it does.
#[utoipa::path(get, path = "/api/v1/route/explain", params(ExplainQuery),
    responses((status = 200, description = "The steps tried and the route", body = Object)), security(("bearer" = [])))]
async fn explain_route(
    state: web::Data<AppState>,
    _caller: Authenticated,
    query: web::Query<ExplainQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(state.router.explain(&query.value)))
}

/// Whether a batch from `source` is among the sender codes a caller may see.
fn visible_batch(sources: &Option<Vec<String>>, source: &str) -> bool {
    sources
        .as_ref()
        .is_none_or(|list| list.iter().any(|s| s == source))
}
