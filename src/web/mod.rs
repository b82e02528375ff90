//! The HTTP side: actix-web server start-up, shared state, authentication, and the JSON API with
//! its OpenAPI document. Handlers call the services (`ingest`, `distribution`, `export`); storage
//! runs on the blocking pool.

pub mod api;
pub mod auth;
pub mod body;
pub mod error;
pub mod exchange;
pub mod followup;
pub mod ops;
pub mod pages;
pub mod reference;
pub mod registration;
pub mod routes;
pub mod session;
pub mod unemployment;

use crate::config::Config;
use crate::db::Db;
use crate::distribution::Distribution;
use crate::domain::catalogue::ErrorCode;
use crate::domain::routing::Router;
use actix_web::dev::{Server, Service};
use actix_web::http::header::{HeaderName, HeaderValue, CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use actix_web::{web, App, HttpMessage, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_actix_web::{RequestId, TracingLogger};

/// The response header that carries the request's id, the `request_id` of its log lines.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// `web::block` that carries the request's span (and so its `request_id`) into the blocking
/// thread: the storage work's log lines, an ingest's among them, belong to their request too.
pub async fn block<F, R>(work: F) -> Result<R, actix_web::error::BlockingError>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let span = tracing::Span::current();
    web::block(move || span.in_scope(work)).await
}

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub router: Arc<Router>,
    pub config: Config,
    pub dist: Arc<Distribution>,
    pub followup: Arc<crate::followup::Followup>,
    pub reports: Arc<crate::report::Reports>,
    pub unemployment: Arc<crate::unemployment::Unemployment>,
    /// Tokens and sessions looked up lately (see `auth`).
    pub identities: auth::IdentityCache,
    /// What the pages keep between requests.
    pub pages: pages::PageCaches,
}

/// Builds the server on an already bound listener (tests bind port 0 and read the port back).
pub fn server(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    std::fs::create_dir_all(&state.config.upload_dir)?;
    // Storage work runs on each worker's blocking threads, and each of those holds a database
    // connection while it works: more threads than connections only queue on the pool and switch
    // contexts, so there are about as many as connections (an upload uses one for its ingest).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let blocking = (state.config.pool_size as usize / workers).max(2);
    let pace = body::BodyPace {
        grace: Duration::from_secs(state.config.body_timeout_secs),
        min_bytes_per_sec: state.config.min_body_bytes_per_sec,
    };
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            // A net for any extractor that reads a whole body; the JSON and small-body
            // extractors answer their own limits in the JSON error contract.
            .app_data(web::PayloadConfig::new(body::JSON_BODY_LIMIT))
            .app_data(
                web::JsonConfig::default()
                    .limit(body::JSON_BODY_LIMIT)
                    .error_handler(|e, _| body::json_error(&e).into()),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, req| {
                for_the_caller(
                    req,
                    error::ApiError::new(
                        ErrorCode::QueryInvalid,
                        &format!("查询参数无效：{e}"),
                        &format!("A query parameter is not valid: {e}"),
                    ),
                )
            }))
            .app_data(web::PathConfig::default().error_handler(|_, req| {
                for_the_caller(req, error::ApiError::not_found("对象", "Object"))
            }))
            // An unknown address: a JSON error for programs, a page for people.
            .default_service(web::to(|req: actix_web::HttpRequest| async move {
                if req.path().starts_with("/api") || req.path().starts_with("/health") {
                    Err::<actix_web::HttpResponse, _>(error::ApiError::not_found(
                        "接口", "Endpoint",
                    ))
                } else {
                    let e = error::ApiError::not_found("页面", "Page");
                    Ok(pages::html(
                        actix_web::http::StatusCode::NOT_FOUND,
                        pages::layout::error_page(&e),
                    ))
                }
            }))
            .configure(|cfg| routes().mount(cfg))
            .configure(pages::routes)
            .wrap_fn(move |mut req, service| {
                // Every body keeps a pace, so a client trickling bytes cannot hold a worker's
                // connection open for hours.
                let payload = req.take_payload();
                req.set_payload(actix_web::dev::Payload::Stream {
                    payload: Box::pin(body::PacedPayload::new(payload, pace)),
                });
                // API answers carry personal data (records, reject reports, downloads): no cache
                // on the way, nor the browser's, may keep a copy.
                let api = req.path().starts_with("/api/");
                let request_id = req.extensions().get::<RequestId>().copied();
                let started = Instant::now();
                let answer = service.call(req);
                async move {
                    let mut response = answer.await?;
                    // One line per request, inside its span (method, path, id come from there).
                    tracing::info!(
                        status = response.status().as_u16(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "request answered"
                    );
                    let headers = response.headers_mut();
                    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
                    if api {
                        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    }
                    // The id a clerk or a client quotes to the operator, who finds the request's
                    // log lines by it.
                    if let Some(id) = request_id {
                        if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
                            headers.insert(REQUEST_ID_HEADER, value);
                        }
                    }
                    Ok(response)
                }
            })
            // Outermost, so every line of a request, the body-pace and error answers too, is
            // inside its span with its `request_id`.
            .wrap(TracingLogger::default())
    })
    // The request head must arrive within the same grace as a body's first bytes.
    .client_request_timeout(pace.grace)
    .workers(workers)
    .worker_max_blocking_threads(blocking)
    .listen(listener)?
    .run();
    Ok(server)
}

/// An extractor's refusal as its caller reads it: the API's JSON, or a page for the pages.
fn for_the_caller(req: &actix_web::HttpRequest, e: error::ApiError) -> actix_web::Error {
    if req.path().starts_with("/api") || req.path().starts_with("/health") {
        e.into()
    } else {
        pages::PageError::Api(e).into()
    }
}

/// Every endpoint of the app, registered from its OpenAPI annotation.
pub fn routes() -> routes::RouteBook {
    let mut book = routes::RouteBook::default();
    api::routes(&mut book);
    exchange::routes(&mut book);
    followup::routes(&mut book);
    registration::routes(&mut book);
    unemployment::routes(&mut book);
    ops::routes(&mut book);
    book
}
