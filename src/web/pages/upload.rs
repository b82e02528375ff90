//! Uploading a transfer file from the browser: the form (drag and drop, a progress bar while the
//! file travels), then the file ingested in the background by the command line's pipeline while
//! its progress page refreshes itself, ending on the batch page.

use super::format::count;
use super::layout::{csrf, page};
use super::{html, ok, see_other, PageError, PageResult, PageSession};
use crate::domain::catalogue::ErrorCode;
use crate::ingest::{BatchSummary, Channel, Progress, Refusal};
use crate::web::api::UploadSender;
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::web;
use futures_util::StreamExt;
use maud::{html as markup, Markup, PreEscaped};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/upload", web::get().to(form))
        .route("/upload", web::post().to(upload))
        .route("/uploads/{job}", web::get().to(progress));
}

/// Uploads being ingested, by a random id only their uploader's page knows.
#[derive(Default)]
pub struct UploadJobs {
    jobs: Mutex<HashMap<String, Arc<UploadJob>>>,
}

/// One upload on its way through the pipeline.
pub struct UploadJob {
    owner: String,
    file_name: String,
    started: Instant,
    total_bytes: AtomicU64,
    bytes_read: AtomicU64,
    rows: AtomicU64,
    outcome: Mutex<Option<Result<BatchSummary, ApiError>>>,
}

impl Progress for UploadJob {
    fn start(&self, total_bytes: u64) {
        self.total_bytes.store(total_bytes, Ordering::Relaxed);
    }

    fn update(&self, bytes_read: u64, rows: u64) {
        self.bytes_read.store(bytes_read, Ordering::Relaxed);
        self.rows.store(rows, Ordering::Relaxed);
    }
}

impl UploadJobs {
    fn add(&self, id: String, job: Arc<UploadJob>) {
        if let Ok(mut jobs) = self.jobs.lock() {
            // Finished jobs are kept an hour for their pages, then forgotten.
            jobs.retain(|_, j| j.started.elapsed().as_secs() < 3600 || j.running());
            jobs.insert(id, job);
        }
    }

    fn get(&self, id: &str, owner: &str) -> Option<Arc<UploadJob>> {
        let jobs = self.jobs.lock().ok()?;
        jobs.get(id).filter(|j| j.owner == owner).cloned()
    }
}

impl UploadJob {
    fn running(&self) -> bool {
        self.outcome.lock().map(|o| o.is_none()).unwrap_or(false)
    }
}

async fn form(state: web::Data<AppState>, session: PageSession) -> PageResult {
    session
        .caller
        .require(crate::authz::Permission::Upload)
        .map_err(ApiError::from)?;
    let ministry = session.caller.scope == crate::authz::Scope::All;
    let content = markup! {
        form.stack #upload-form method="post" action="/upload" enctype="multipart/form-data" {
            (csrf(&session))
            div.drop #drop-zone {
                p { "把移交文件（CSV、TSV 或 XLSX）拖到这里，或" }
                input #file type="file" name="file" accept=".csv,.tsv,.txt,.xlsx" required;
                p #upload-status.muted { "单个文件最大 " (limit_text(state.config.max_upload_bytes)) "；编码可为 UTF-8 或 GBK。" }
                progress #upload-progress hidden value="0" max="100" {}
            }
            @if ministry {
                label for="source" { "以哪个教育部门的名义（发送机构代码，默认本机构）" }
                input #source type="text" name="source" maxlength="50";
            }
            label { input type="checkbox" name="dry_run" value="1"; " 仅校验（不入库）" }
            p { button type="submit" { "上传" } }
        }
        p.muted { "上传后文件在后台校验入库，页面自动刷新显示进度；完成后显示批次结果和问题清单。同一文件重复上传只入库一次。" }
    };
    ok(page("上传移交文件", Some(&session), content))
}

async fn upload(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    session: PageSession,
    payload: web::Payload,
) -> PageResult {
    // Read here rather than by the extractor, so a body that is no form gets this page's answer.
    let mut parts = Multipart::new(req.headers(), payload);
    let limit = state.config.max_upload_bytes;
    let mut token = String::new();
    let mut dry_run = false;
    let mut source: Option<String> = None;
    let mut spooled: Option<(tempfile::NamedTempFile, String)> = None;
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(interrupted)?;
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            // The token comes before the file in the form: nothing of a forged form is spooled.
            session.check(&token)?;
            let file_name = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .map(sanitize_file_name)
                .unwrap_or_else(|| "upload.csv".into());
            let mut spool = tempfile::NamedTempFile::new_in(&state.config.upload_dir)
                .map_err(ApiError::internal)?;
            let mut received = 0u64;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(interrupted)?;
                received += chunk.len() as u64;
                if received > limit {
                    let r = Refusal::too_big(limit);
                    return Err(ApiError::new(r.code, &r.message, &r.message_en).into());
                }
                spool.write_all(&chunk).map_err(ApiError::internal)?;
            }
            spool.flush().map_err(ApiError::internal)?;
            spooled = Some((spool, file_name));
        } else {
            // A small text field: at most 200 bytes are kept.
            let mut value = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(interrupted)?;
                if value.len() < 200 {
                    value.extend_from_slice(&chunk[..chunk.len().min(200 - value.len())]);
                }
            }
            let value = String::from_utf8_lossy(&value).trim().to_string();
            match name.as_str() {
                "csrf" => token = value,
                "dry_run" => dry_run = !value.is_empty(),
                "source" if !value.is_empty() => source = Some(value),
                _ => {}
            }
        }
    }
    session.check(&token)?;
    let Some((spool, file_name)) = spooled else {
        return Err(ApiError::new(
            ErrorCode::FileEmpty,
            "请选择要上传的文件。",
            "Choose a file to upload.",
        )
        .into());
    };
    let sender = UploadSender::of(&session.caller, &state, source)?;
    let id = hex::encode(rand::random::<[u8; 16]>());
    let job = Arc::new(UploadJob {
        owner: session.actor.clone(),
        file_name: file_name.clone(),
        started: Instant::now(),
        total_bytes: AtomicU64::new(0),
        bytes_read: AtomicU64::new(0),
        rows: AtomicU64::new(0),
        outcome: Mutex::new(None),
    });
    state.pages.uploads.add(id.clone(), job.clone());
    let state = state.clone();
    let span = tracing::Span::current();
    std::thread::spawn(move || {
        let _entered = span.enter();
        let result = sender.ingest(
            &state,
            spool.path(),
            &file_name,
            Channel::Education,
            dry_run,
            job.as_ref(),
        );
        drop(spool);
        if let Ok(mut outcome) = job.outcome.lock() {
            *outcome = Some(result);
        }
    });
    see_other(&format!("/uploads/{id}"))
}

fn interrupted(e: actix_multipart::MultipartError) -> PageError {
    ApiError::new(
        ErrorCode::UploadInterrupted,
        "上传中断或表单无法读取，文件未完整接收，请重新上传。",
        &format!("The upload was interrupted or is no form ({e}); send the file again."),
    )
    .into()
}

/// The upload limit as a clerk reads it: `1 GB`, `200 MB`, `512 KB`.
fn limit_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GB", b >> 30),
        b if b >= 1 << 20 => format!("{} MB", b >> 20),
        b => format!("{} KB", (b >> 10).max(1)),
    }
}

/// The file's own name, without any folder a browser may send.
fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.is_empty() {
        "upload.csv".into()
    } else {
        clean
    }
}

async fn progress(
    state: web::Data<AppState>,
    session: PageSession,
    job: web::Path<String>,
) -> PageResult {
    let Some(job) = state.pages.uploads.get(&job, &session.actor) else {
        return Err(ApiError::not_found("上传任务", "Upload").into());
    };
    let outcome = job.outcome.lock().ok().and_then(|o| o.clone());
    match outcome {
        None => {
            let total = job.total_bytes.load(Ordering::Relaxed).max(1);
            let read = job.bytes_read.load(Ordering::Relaxed);
            let content = markup! {
                // Refreshes itself every second until the batch is done (no script needed).
                (PreEscaped("<meta http-equiv=\"refresh\" content=\"1\">"))
                p { "正在校验并入库：" strong { (job.file_name) } }
                progress #ingest-progress value=(read) max=(total) {}
                p.muted { "已读取 " (count((read * 100 / total) as i64)) "% · " (count(job.rows.load(Ordering::Relaxed) as i64)) " 行 · 已用 " (job.started.elapsed().as_secs()) " 秒。本页每秒自动刷新。" }
            };
            ok(page("正在处理", Some(&session), content))
        }
        Some(Err(e)) => Ok(html(
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
            super::layout::error_page(&e),
        )),
        Some(Ok(summary)) => match summary.batch_id {
            Some(id) if summary.duplicate_of.is_some() => {
                see_other(&format!("/batches/{id}?done=duplicate_file"))
            }
            Some(id) if !summary.dry_run => see_other(&format!("/batches/{id}")),
            _ => ok(page(
                "校验结果（未入库）",
                Some(&session),
                dry_run_result(&summary),
            )),
        },
    }
}

fn dry_run_result(s: &BatchSummary) -> Markup {
    markup! {
        p.warn { "这是仅校验：没有任何记录入库。改正问题后请正式上传。" }
        (super::batches::summary_facts(s))
    }
}
