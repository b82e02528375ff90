//! Signing in and out: `/` is the sign-in page; a session cookie on success, the API's lockout
//! on failure; the sign-in form is tied to a pre-session cookie so it cannot be posted from
//! another site (login CSRF).

use super::layout;
use super::{html, see_other, FormPairs, PageResult, PageSession};
use crate::web::session::{self, PRESESSION_COOKIE, SESSION_COOKIE};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html as markup, Markup};
use serde::Deserialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page))
        .route("/sign-in", web::post().to(sign_in))
        .route("/sign-out", web::post().to(sign_out));
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The sign-in page, or the home page for a browser already signed in.
async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> PageResult {
    if let Some(secret) = session::cookie_secret(&req) {
        if crate::web::auth::caller_of_secret(&state, secret)
            .await?
            .is_some()
        {
            return see_other("/home");
        }
    }
    let (pre, cookie) = match req.cookie(PRESESSION_COOKIE) {
        Some(c) if c.value().len() == 48 => (c.value().to_string(), None),
        _ => {
            let c = session::presession_cookie(&state);
            (c.value().to_string(), Some(c))
        }
    };
    let next = query.next.clone().unwrap_or_default();
    let mut answer = html(StatusCode::OK, sign_in_page(&pre, &next, None));
    if let Some(c) = cookie {
        answer
            .add_cookie(&c)
            .map_err(crate::web::error::ApiError::internal)?;
    }
    Ok(answer)
}

fn sign_in_page(pre: &str, next: &str, problem: Option<(&str, &str)>) -> Markup {
    layout::page(
        "登录",
        None,
        markup! {
            div.signin {
                @if let Some((code, message)) = problem {
                    p.warn role="alert" { (message) " " span.muted { "(" (code) ")" } }
                }
                form.stack method="post" action="/sign-in" {
                    input type="hidden" name="csrf" value=(session::csrf_token(pre));
                    input type="hidden" name="next" value=(next);
                    label for="username" { "用户名" }
                    input #username type="text" name="username" autocomplete="username" required autofocus;
                    label for="password" { "密码" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    p { button type="submit" { "登录" } }
                }
                p.muted { "连续输错密码 5 次，账户将锁定 15 分钟。工作人员账户由本机构管理员开设。" }
                p.muted { a href="/register" { "毕业生本人登记（无需登录）" } }
            }
        },
    )
}

async fn sign_in(req: HttpRequest, state: web::Data<AppState>, form: FormPairs) -> PageResult {
    let pre = req
        .cookie(PRESESSION_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if pre.is_empty() || !session::csrf_matches(&pre, form.get("csrf")) {
        return Err(session::csrf_refused().into());
    }
    let next = form.get("next").to_string();
    let (username, password) = (
        form.get("username").to_string(),
        form.get("password").to_string(),
    );
    let opened =
        super::blocking(&state, move |s| Ok(session::open(s, &username, &password))).await?;
    match opened {
        Ok((_, secret)) => {
            let to = super::format::local_path(&next).unwrap_or("/home");
            let mut answer = HttpResponse::SeeOther()
                .insert_header(("Location", to.to_string()))
                .finish();
            let add = |a: &mut HttpResponse, c| {
                a.add_cookie(&c)
                    .map_err(crate::web::error::ApiError::internal)
            };
            add(&mut answer, session::session_cookie(&secret, &state))?;
            add(&mut answer, session::removal(PRESESSION_COOKIE, &state))?;
            Ok(answer)
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            Ok(html(
                status,
                sign_in_page(&pre, &next, Some((e.code.as_str(), &e.message))),
            ))
        }
    }
}

async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    session_now: PageSession,
    form: FormPairs,
) -> PageResult {
    session_now.check(form.get("csrf"))?;
    if let Some(secret) = session::cookie_secret(&req) {
        super::blocking(&state, move |s| Ok(session::close(s, &secret)?)).await?;
    }
    let mut answer = see_other("/")?;
    answer
        .add_cookie(&session::removal(SESSION_COOKIE, &state))
        .map_err(crate::web::error::ApiError::internal)?;
    Ok(answer)
}
