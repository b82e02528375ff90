//! The staff dashboard (工作台): server-rendered pages in Chinese over the same services as the
//! API, signed in with a session cookie, every form guarded by a CSRF token. Assets are compiled
//! into the binary; nothing is fetched from elsewhere.

pub mod admin;
pub mod assets;
pub mod audit;
pub mod batches;
pub mod format;
pub mod home;
pub mod layout;
pub mod packages;
pub mod public;
pub mod records;
pub mod sign_in;
pub mod summary;
pub mod svg;
pub mod unemployment;
pub mod upload;

use super::error::ApiError;
use super::session;
use super::AppState;
use crate::authz::Caller;
use crate::distribution::DistError;
use actix_web::dev::Payload;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, LOCATION};
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use maud::Markup;
use std::future::Future;
use std::pin::Pin;

/// Mounts every page.
pub fn routes(cfg: &mut web::ServiceConfig) {
    sign_in::routes(cfg);
    assets::routes(cfg);
    home::routes(cfg);
    packages::routes(cfg);
    records::routes(cfg);
    upload::routes(cfg);
    batches::routes(cfg);
    summary::routes(cfg);
    admin::routes(cfg);
    audit::routes(cfg);
    public::routes(cfg);
    unemployment::routes(cfg);
}

/// A signed-in person on a page: the caller the services take, and the token its forms carry.
pub struct PageSession {
    pub caller: Caller,
    pub csrf: String,
    /// Who is signed in, for the page header: `user:zhang`.
    pub actor: String,
}

impl PageSession {
    /// Refuses a form whose token is not this session's.
    pub fn check(&self, sent: &str) -> Result<(), PageError> {
        if session::csrf_matches_token(&self.csrf, sent) {
            Ok(())
        } else {
            Err(session::csrf_refused().into())
        }
    }
}

impl FromRequest for PageSession {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let secret = session::cookie_secret(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        Box::pin(async move {
            let sign_in = PageError::SignIn { next: path };
            let (Some(secret), Some(state)) = (secret, state) else {
                return Err(sign_in);
            };
            let csrf = session::csrf_token(&secret);
            match super::auth::caller_of_secret(&state, secret).await? {
                Some(caller) => Ok(PageSession {
                    actor: caller.actor.name.clone(),
                    caller,
                    csrf,
                }),
                None => Err(sign_in),
            }
        })
    }
}

/// Why a page could not be shown: not signed in (to the sign-in page), or an error of the API's
/// catalogue, shown as a page in Chinese with its code.
#[derive(Debug)]
pub enum PageError {
    SignIn { next: String },
    Api(ApiError),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn { .. } => write!(f, "not signed in"),
            PageError::Api(e) => write!(f, "{}: {}", e.code.as_str(), e.message_en),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

impl From<DistError> for PageError {
    fn from(e: DistError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<crate::db::DbError> for PageError {
    fn from(e: crate::db::DbError) -> Self {
        PageError::Api(e.into())
    }
}

impl From<diesel::result::Error> for PageError {
    fn from(e: diesel::result::Error) -> Self {
        PageError::Api(crate::db::DbError::Query(e).into())
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        PageError::Api(ApiError::internal(e))
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::Api(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn { next } => {
                let target = if next.is_empty() || next == "/" {
                    "/".to_string()
                } else {
                    format!("/?next={}", format::url_encode(next))
                };
                HttpResponse::SeeOther()
                    .insert_header((LOCATION, target))
                    .finish()
            }
            PageError::Api(e) => {
                // The cause of a server error is logged by ApiError::internal, never shown.
                html(self.status_code(), layout::error_page(e))
            }
        }
    }
}

/// A page's answer.
pub type PageResult = Result<HttpResponse, PageError>;

/// An HTML answer: never cached (pages carry personal data), scripts and styles from this
/// origin only.
pub fn html(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((
            CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(markup.into_string())
}

/// 200 with a page.
pub fn ok(markup: Markup) -> PageResult {
    Ok(html(StatusCode::OK, markup))
}

/// 303 to `to` (after a form post: reloading the answer does not post again).
pub fn see_other(to: &str) -> PageResult {
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, to.to_string()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish())
}

/// Runs storage work on the blocking pool (as the API's handlers do).
pub async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&AppState) -> Result<T, PageError> + Send + 'static,
) -> Result<T, PageError> {
    let state = state.clone();
    super::block(move || f(&state)).await?
}

/// A posted form as its pairs in order (checkbox lists repeat a name, which a struct cannot
/// hold), at most 1 MiB.
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// The first value of `name`, trimmed; `""` when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

impl FromRequest for FormPairs {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| {
                PageError::Api(ApiError::new(
                    crate::domain::catalogue::ErrorCode::BodyInvalid,
                    "表单内容无法读取（过大或中断）。",
                    &format!("The form could not be read: {e}"),
                ))
            })?;
            Ok(FormPairs(
                form_urlencoded::parse(&bytes)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ))
        })
    }
}

/// What the pages keep between requests: the home figures lately computed, uploads being
/// processed, the public form's rate limits.
#[derive(Default)]
pub struct PageCaches {
    pub home: home::HomeCache,
    pub uploads: upload::UploadJobs,
    pub limits: public::RateLimits,
}
