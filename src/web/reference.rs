//! The API reference page at `/api-docs/`: RapiDoc reading `/api-docs/openapi.json`, its script
//! shipped inside the binary (`assets/vendor/rapidoc/`), so the page works on a network without
//! Internet access and loads nothing from elsewhere.

use actix_web::HttpResponse;

/// RapiDoc 9.3.8, minified, as published on npm (see `assets/vendor/rapidoc/README.md`).
const RAPIDOC_JS: &[u8] = include_bytes!("../../assets/vendor/rapidoc/rapidoc-min.js");

/// The page. System fonts are named so RapiDoc never fetches its default web font; the
/// Content-Security-Policy forbids anything not served by the hub itself.
const PAGE: &str = r#"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>gradhub API 参考 / API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script type="module" src="/api-docs/rapidoc-min.js"></script>
</head>
<body>
<rapi-doc spec-url="/api-docs/openapi.json" render-style="read" show-header="false"
  allow-spec-url-load="false" allow-spec-file-load="false" allow-server-selection="false"
  regular-font="system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif"
  mono-font="ui-monospace, Menlo, Consolas, monospace">
</rapi-doc>
</body>
</html>
"#;

/// What the page may load: only from the hub (RapiDoc sets inline styles).
const PAGE_POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'";

/// The API reference page (HTML).
#[utoipa::path(get, path = "/api-docs/",
    responses((status = 200, description = "The API reference page", content_type = "text/html")))]
pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_POLICY))
        .body(PAGE)
}

/// The script of the API reference page (RapiDoc).
#[utoipa::path(get, path = "/api-docs/rapidoc-min.js",
    responses((status = 200, description = "RapiDoc", content_type = "text/javascript")))]
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        // The file changes only with a new build of the hub.
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(RAPIDOC_JS)
}
