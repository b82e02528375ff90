//! The stylesheet and the script, compiled into the binary and served with the release's version
//! in their address, so a browser may keep them a day and a new release is fetched at once.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{web, HttpResponse};

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");
/// Bumped with the assets' contents (the version in the address is what a cache keys on).
pub const CSS_PATH: &str = concat!("/assets/app.css?v=", env!("CARGO_PKG_VERSION"), "-4");
pub const JS_PATH: &str = concat!("/assets/app.js?v=", env!("CARGO_PKG_VERSION"), "-3");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/app.css", web::get().to(css))
        .route("/assets/app.js", web::get().to(js));
}

async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(body)
}
