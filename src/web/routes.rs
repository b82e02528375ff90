//! The route book: every endpoint is registered at the method and path its `#[utoipa::path]`
//! annotation documents, so the router cannot answer at an address the OpenAPI document does not
//! name (or the other way round).

use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder};
use utoipa::openapi::path::HttpMethod;

/// One registered endpoint: its method and path, and the actix route that serves it.
struct Entry {
    method: Method,
    path: String,
    route: actix_web::Route,
}

/// The endpoints of the app, gathered before they are mounted.
#[derive(Default)]
pub struct RouteBook {
    entries: Vec<Entry>,
}

impl RouteBook {
    /// Registers `handler` where its annotation (`P`, the `__path_<handler>` type utoipa
    /// generates) says it is served.
    pub fn add<P, F, Args>(&mut self, handler: F) -> &mut Self
    where
        P: utoipa::Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        for method in P::methods() {
            let method = actix_method(&method);
            self.entries.push(Entry {
                route: web::method(method.clone()).to(handler.clone()),
                method,
                path: P::path(),
            });
        }
        self
    }

    /// Every endpoint as (method, path), e.g. `("GET", "/api/v1/inbox")`.
    pub fn list(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|e| (e.method.to_string(), e.path.clone()))
            .collect()
    }

    /// Hands the routes to actix.
    pub fn mount(self, cfg: &mut web::ServiceConfig) {
        for entry in self.entries {
            cfg.route(&entry.path, entry.route);
        }
    }
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}
