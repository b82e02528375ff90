//! The HTTP side: actix-web server start-up, shared state, authentication, and the JSON API with
//! its OpenAPI document. Handlers call the services (`ingest`, `distribution`, `export`); storage
//! runs on the blocking pool.

pub mod api;
pub mod auth;
pub mod error;
pub mod exchange;

use crate::config::Config;
use crate::db::Db;
use crate::distribution::Distribution;
use crate::domain::routing::Router;
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub router: Arc<Router>,
    pub config: Config,
    pub dist: Arc<Distribution>,
    /// Tokens and sessions looked up lately (see `auth`).
    pub identities: auth::IdentityCache,
}

/// Builds the server on an already bound listener (tests bind port 0 and read the port back).
pub fn server(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    std::fs::create_dir_all(&state.config.upload_dir)?;
    // Storage work runs on each worker's blocking threads, and each of those holds a database
    // connection while it works: more threads than connections only queue on the pool and switch
    // contexts, so there are about as many as connections (an upload uses one for its ingest).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let blocking = (state.config.pool_size as usize / workers).max(2);
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            // Room for long return lists (100,000 records at most, see `distribution`).
            .app_data(web::PayloadConfig::new(16 << 20))
            .app_data(
                web::JsonConfig::default()
                    .limit(16 << 20)
                    .error_handler(|e, _| {
                        error::ApiError::bad_request(
                            "BODY_INVALID",
                            &format!("请求体无效：{e}"),
                            &format!("The request body is not valid: {e}"),
                        )
                        .into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|e, _| {
                error::ApiError::bad_request(
                    "QUERY_INVALID",
                    &format!("查询参数无效：{e}"),
                    &format!("A query parameter is not valid: {e}"),
                )
                .into()
            }))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|_, _| error::ApiError::not_found("对象", "Object").into()),
            )
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(error::ApiError::not_found("接口", "Endpoint"))
            }))
            .wrap(tracing_actix())
            .configure(api::routes)
            .configure(exchange::routes)
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Request logging through tracing (method, path, status, time).
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %Dms")
}
