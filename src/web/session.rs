//! Sign-in sessions for people: opening and closing one (shared by the API and the pages), the
//! session cookie, and the CSRF tokens of the pages' forms.

use super::error::ApiError;
use super::AppState;
use crate::access::{self, AccessError};
use crate::authz::Actor;
use crate::db::audit;
use crate::db::users::UserRow;
use crate::domain::catalogue::ErrorCode;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

/// The cookie that carries a page session's secret (the same secret the API answers as a token).
pub const SESSION_COOKIE: &str = "gh_session";
/// The cookie of a browser not yet signed in: the sign-in form's CSRF token is tied to it.
pub const PRESESSION_COOKIE: &str = "gh_pre";

/// The session secret a request's cookie carries, if any.
pub fn cookie_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_string())
}

/// Checks a user name and password (the lockout of `access::sign_in`) and opens a session: a
/// `session.opened` audit event. Answers the user and the session's secret.
pub fn open(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(UserRow, String), ApiError> {
    let mut conn = state.db.conn()?;
    let limits = access::SessionLimits::of(&state.config);
    match access::sign_in(&mut conn, username, password, limits) {
        Ok((user, secret)) => {
            let actor = Actor {
                name: format!("user:{}", user.username),
                org_id: Some(user.org_id),
            };
            audit::record(
                &mut conn,
                &actor,
                "session.opened",
                &format!("user:{}", user.id),
                None,
                None,
            )?;
            Ok((user, secret))
        }
        Err(AccessError::BadCredentials) => Err(ApiError::new(
            ErrorCode::BadCredentials,
            "用户名或密码错误。",
            "Wrong user name or password.",
        )),
        Err(AccessError::Locked(until)) => Err(ApiError::new(
            ErrorCode::AccountLocked,
            &format!("登录失败次数过多，账户已锁定至北京时间 {until}。"),
            &format!("Too many failed sign-ins: the account is locked until {until} Beijing time."),
        )),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// Ends a session: forgotten by this process at once, deleted from the database.
pub fn close(state: &AppState, secret: &str) -> Result<(), ApiError> {
    state.identities.forget(secret);
    let mut conn = state.db.conn()?;
    crate::db::users::delete_session(&mut conn, &access::secret_hash(secret))?;
    Ok(())
}

/// The session cookie: `HttpOnly` (no script reads it), `SameSite=Lax` (no cross-site post
/// carries it), `Secure` when the pages are served over TLS, ending with the session.
pub fn session_cookie(secret: &str, state: &AppState) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, secret.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(actix_web::cookie::time::Duration::hours(i64::from(
            state.config.session_hours,
        )))
        .finish()
}

/// A cookie that removes `name` from the browser.
pub fn removal(name: &'static str, state: &AppState) -> Cookie<'static> {
    let mut c = Cookie::build(name, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .finish();
    c.make_removal();
    c
}

/// The pre-session cookie with a fresh random value.
pub fn presession_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build(PRESESSION_COOKIE, random_hex())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .finish()
}

fn random_hex() -> String {
    let bytes: [u8; 24] = rand::random();
    hex::encode(bytes)
}

/// The CSRF token of the forms of one session (or pre-session): derived from its secret, so it
/// needs no storage, and a page of another browser cannot know it.
pub fn csrf_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"gradhub csrf\0");
    h.update(secret.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Whether `sent` is the token of `secret`.
pub fn csrf_matches(secret: &str, sent: &str) -> bool {
    csrf_matches_token(&csrf_token(secret), sent)
}

/// Whether `sent` is the token `want`, compared in constant time.
pub fn csrf_matches_token(want: &str, sent: &str) -> bool {
    want.len() == sent.len()
        && want
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The refusal of a form posted without its session's token.
pub fn csrf_refused() -> ApiError {
    ApiError::new(
        ErrorCode::CsrfInvalid,
        "表单已失效或来源不明（缺少有效的 CSRF 令牌），未做任何更改。请返回页面刷新后重新提交。",
        "The form has expired or did not come from this site (no valid CSRF token); nothing was changed. Reload the page and send it again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_matches_its_own_secret_only() {
        let t = csrf_token("ghs_a");
        assert!(csrf_matches("ghs_a", &t));
        assert!(!csrf_matches("ghs_b", &t));
        assert!(!csrf_matches("ghs_a", ""));
        assert!(!csrf_matches("ghs_a", &t[..10]));
    }
}
