//! Authentication on the HTTP side: the [`Caller`] extractor (an API token or a sign-in session
//! as `Authorization: Bearer …`, or a page's session cookie for reads), and the role checks
//! handlers use before touching data.

use super::error::ApiError;
use super::AppState;
use crate::access;
use crate::authz::Scope;
use crate::authz::{Caller, Denied, Identity, Permission};
use crate::distribution::DistError;
use crate::domain::catalogue::ErrorCode;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a looked-up token or session is trusted without asking the database again: a busy
/// client costs one lookup per interval, and a revoked token stops working within it.
const IDENTITY_TTL: Duration = Duration::from_secs(10);
const IDENTITY_CACHE_MAX: usize = 10_000;

/// Recently seen secrets (by hash) and whose they are.
#[derive(Default)]
pub struct IdentityCache {
    entries: Mutex<HashMap<String, (Instant, Identity)>>,
}

impl IdentityCache {
    fn get(&self, hash: &str) -> Option<Identity> {
        let entries = self.entries.lock().ok()?;
        let (at, identity) = entries.get(hash)?;
        (at.elapsed() < IDENTITY_TTL).then(|| identity.clone())
    }

    fn put(&self, hash: String, identity: Identity) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= IDENTITY_CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (Instant::now(), identity));
        }
    }

    /// Forgets a secret at once (its session was closed here).
    pub fn forget(&self, secret: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&access::secret_hash(secret));
        }
    }
}

/// The caller of a request that must be signed in.
pub struct Authenticated(pub Caller);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bearer = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string());
        // A page's session cookie opens the API's reads too (the pages link to downloads and
        // reports there), never its writes: a cross-site form could send the cookie, and API
        // writes carry no CSRF token.
        let safe = matches!(*req.method(), Method::GET | Method::HEAD);
        let secret = bearer.or_else(|| safe.then(|| super::session::cookie_secret(req)).flatten());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let (Some(secret), Some(state)) = (secret, state) else {
                return Err(unauthenticated());
            };
            caller_of_secret(&state, secret)
                .await?
                .map(Authenticated)
                .ok_or_else(unauthenticated)
        })
    }
}

/// The caller a bearer secret (API token or session) stands for, if it stands for anyone.
pub async fn caller_of_secret(
    state: &web::Data<AppState>,
    secret: String,
) -> Result<Option<Caller>, ApiError> {
    // Plausible secrets only: a 68-character hex token or session; nothing else reaches the
    // database.
    if secret.len() != 68 || !secret.is_ascii() {
        return Ok(None);
    }
    let hash = access::secret_hash(&secret);
    if let Some(identity) = state.identities.get(&hash) {
        if let Some(caller) = state
            .dist
            .tree()
            .ok()
            .and_then(|t| Caller::of(&identity, &t))
        {
            return Ok(Some(caller));
        }
    }
    let state = state.clone();
    super::block(move || -> Result<Option<Caller>, ApiError> {
        let mut conn = state.db.conn()?;
        let limits = access::SessionLimits::of(&state.config);
        let Some(identity) = access::identify(&mut conn, &secret, limits)? else {
            return Ok(None);
        };
        drop(conn);
        state.identities.put(hash, identity.clone());
        let mut tree = state.dist.tree()?;
        if tree.get(identity.org_id).is_none() {
            // An organisation added since the tree was read (by another process).
            tree = state.dist.refresh_tree()?;
        }
        Ok(Caller::of(&identity, &tree))
    })
    .await?
}

fn unauthenticated() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "未登录或令牌无效，请在 Authorization 头中提供有效的 Bearer 令牌。",
        "Not signed in, or the token is not valid: send a valid Bearer token in the Authorization header.",
    )
}

/// 403 with the role named.
pub fn forbidden(caller: &Caller, what_zh: &str, what_en: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        &format!("角色 {} 无权{what_zh}。", caller.role.as_str()),
        &format!("The {} role may not {what_en}.", caller.role.as_str()),
    )
}

/// Callers who may read records, packages and figures.
pub fn require_reader(caller: &Caller) -> Result<(), ApiError> {
    Ok(caller.require(Permission::ReadRecords)?)
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        ApiError::new(ErrorCode::Forbidden, &d.message_zh(), &d.message_en())
    }
}

/// The sender codes whose batches a caller may see (`None`: all).
pub fn batch_sources(caller: &Caller, state: &AppState) -> Result<Option<Vec<String>>, ApiError> {
    if caller.may(Permission::Administer) {
        return Err(forbidden(caller, "查看批次", "see batches"));
    }
    match &caller.scope {
        Scope::All => Ok(None),
        Scope::Orgs(ids) => {
            let tree = state.dist.tree()?;
            Ok(Some(
                ids.iter()
                    .filter_map(|id| tree.get(*id).map(|n| n.code.clone()))
                    .collect(),
            ))
        }
    }
}

impl From<DistError> for ApiError {
    fn from(e: DistError) -> Self {
        match e {
            DistError::NotFound => ApiError::not_found("对象", "Object"),
            DistError::Forbidden { zh, en } => ApiError::new(ErrorCode::Forbidden, &zh, &en),
            DistError::Invalid { code, zh, en } => ApiError::new(code, &zh, &en),
            DistError::Db(e) => ApiError::internal(e),
            DistError::Export(e) => ApiError::internal(e),
        }
    }
}
