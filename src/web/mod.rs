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
}

/// Builds the server on an already bound listener (tests bind port 0 and read the port back).
pub fn server(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    std::fs::create_dir_all(&state.config.upload_dir)?;
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(tracing_actix())
            .configure(api::routes)
            .configure(exchange::routes)
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// Request logging through tracing (method, path, status, time).
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %Dms")
}
