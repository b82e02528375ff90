//! Who is calling and what they may see: password hashing (argon2id), API tokens and sign-in
//! sessions (stored as SHA-256), sign-in limits: the accounts service. Who a caller is and what
//! it may do once signed in is `authz`.

use crate::authz::{Actor, Identity};
use crate::db::audit;
use crate::db::orgs::{self, OrgRow};
use crate::db::users::{self, TokenRow, UserRow};
use crate::db::{AnyConnection, DbError};
use crate::domain::organisation::{valid_org_code, OrgLevel, Role};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Failed sign-ins before an account is locked, and for how long.
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// How long sign-in sessions last (config `session_hours`, `session_idle_minutes`).
#[derive(Clone, Copy, Debug)]
pub struct SessionLimits {
    pub absolute: Duration,
    pub idle: Duration,
}

impl SessionLimits {
    pub fn of(config: &crate::config::Config) -> SessionLimits {
        SessionLimits {
            absolute: Duration::hours(i64::from(config.session_hours)),
            idle: Duration::minutes(i64::from(config.session_idle_minutes)),
        }
    }
}

/// Why a sign-in or an account change failed, with a message for the person.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("用户名或密码错误 / wrong user name or password")]
    BadCredentials,
    #[error("登录失败次数过多，账户已锁定至 {0} / too many failed sign-ins: locked until {0}")]
    Locked(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for AccessError {
    fn from(e: diesel::result::Error) -> Self {
        AccessError::Db(DbError::Query(e))
    }
}

/// SHA-256 of a secret, hex: what is stored for tokens and sessions.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

pub fn hash_password(password: &str) -> Result<String, AccessError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccessError::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Invalid(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn org_or_invalid(conn: &mut AnyConnection, code: &str) -> Result<OrgRow, AccessError> {
    orgs::find_by_code(conn, code)?.ok_or_else(|| {
        AccessError::Invalid(format!(
            "机构代码 {code} 不存在 / no organisation with code {code}"
        ))
    })
}

/// Creates a user bound to an organisation; the role must fit the organisation's level.
pub fn create_user(
    conn: &mut AnyConnection,
    actor: &Actor,
    username: &str,
    display_name: &str,
    role: Role,
    org_code: &str,
    password: &str,
) -> Result<UserRow, AccessError> {
    if password.chars().count() < 10 {
        return Err(AccessError::Invalid(
            "密码至少 10 个字符 / the password needs at least 10 characters".into(),
        ));
    }
    if username.is_empty() || username.len() > 64 || username.contains(char::is_whitespace) {
        return Err(AccessError::Invalid(
            "用户名不能为空、不能含空格、最长 64 字节 / the user name must be 1-64 bytes without spaces"
                .into(),
        ));
    }
    let org = org_or_invalid(conn, org_code)?;
    let level = OrgLevel::parse(&org.level)
        .ok_or_else(|| AccessError::Invalid(format!("bad level {}", org.level)))?;
    role.fits(level).map_err(AccessError::Invalid)?;
    if users::find_user(conn, username)?.is_some() {
        return Err(AccessError::Invalid(format!(
            "用户名 {username} 已存在 / user {username} already exists"
        )));
    }
    let hash = hash_password(password)?;
    let user = users::insert_user(
        conn,
        username,
        display_name,
        role.as_str(),
        org.id,
        &hash,
        Utc::now().naive_utc(),
    )?;
    audit::record(
        conn,
        actor,
        "user.created",
        &format!("user:{}", user.id),
        None,
        Some(&serde_json::json!({ "username": user.username, "role": user.role, "org": org.code })),
    )?;
    Ok(user)
}

/// The operator running an administrative command (the OS user at the console).
pub fn operator() -> Actor {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor {
        name: format!("cli:{who}"),
        org_id: None,
    }
}

/// Creates an API token for an organisation; returns the row and the secret, shown once.
pub fn create_token(
    conn: &mut AnyConnection,
    actor: &Actor,
    name: &str,
    org_code: &str,
    role: Option<Role>,
) -> Result<(TokenRow, String), AccessError> {
    let org = org_or_invalid(conn, org_code)?;
    let level = OrgLevel::parse(&org.level)
        .ok_or_else(|| AccessError::Invalid(format!("bad level {}", org.level)))?;
    let role = role.unwrap_or(Role::for_token(level));
    role.fits(level).map_err(AccessError::Invalid)?;
    let secret = random_secret("ghk_");
    let row = users::insert_token(
        conn,
        name,
        org.id,
        role.as_str(),
        &secret_hash(&secret),
        &secret[..12],
        Utc::now().naive_utc(),
    )?;
    audit::record(
        conn,
        actor,
        "token.created",
        &format!("token:{}", row.id),
        None,
        Some(
            &serde_json::json!({ "name": row.name, "role": row.role, "org": org.code, "prefix": row.prefix }),
        ),
    )?;
    Ok((row, secret))
}

/// Adds an organisation by hand (a grassroots point under a county, or a sender): an `org.added`
/// audit event.
pub fn add_org(
    conn: &mut AnyConnection,
    actor: &Actor,
    code: &str,
    name: &str,
    level: OrgLevel,
    parent: &str,
) -> Result<OrgRow, AccessError> {
    if !matches!(level, OrgLevel::Grassroots | OrgLevel::Sender) {
        return Err(AccessError::Invalid(
            "层级只能是 grassroots 或 sender / level must be grassroots or sender".into(),
        ));
    }
    let name = name.trim();
    if !valid_org_code(code) || name.is_empty() {
        return Err(AccessError::Invalid(
            "机构代码只能含字母、数字、- 和 _（最长 40），名称不能为空 / the code may hold letters, digits, - and _ (40 at most); the name may not be empty".into(),
        ));
    }
    if orgs::find_by_code(conn, code)?.is_some() {
        return Err(AccessError::Invalid(format!(
            "机构代码 {code} 已存在 / organisation {code} exists"
        )));
    }
    let parent_row = org_or_invalid(conn, parent)?;
    let parent_level = OrgLevel::parse(&parent_row.level).unwrap_or(OrgLevel::Sender);
    if !level.may_be_child_of(parent_level) {
        return Err(AccessError::Invalid(format!(
            "{} 不能设在{}机构之下 / a {} cannot sit under a {} organisation",
            level.label_zh(),
            parent_level.label_zh(),
            level.as_str(),
            parent_level.as_str()
        )));
    }
    let row = orgs::add(conn, code, name, level, &parent_row)?;
    audit::record(
        conn,
        actor,
        "org.added",
        &format!("org:{}", row.code),
        None,
        Some(
            &serde_json::json!({ "name": row.name, "level": row.level, "parent": parent_row.code }),
        ),
    )?;
    Ok(row)
}

/// Adds a contact (who is reminded of overdue packages) to an organisation, with an address
/// the mailer can send to: a `contact.added` audit event.
pub fn add_contact(
    conn: &mut AnyConnection,
    actor: &Actor,
    org_code: &str,
    name: &str,
    email: &str,
    phone: Option<&str>,
) -> Result<(), AccessError> {
    let org = org_or_invalid(conn, org_code)?;
    let email = email.trim();
    crate::notify::check_recipient(email)
        .map_err(|why| AccessError::Invalid(format!("联系人未添加 / contact not added\n{why}")))?;
    if name.trim().is_empty() {
        return Err(AccessError::Invalid(
            "联系人未添加：姓名不能为空 / contact not added: the name may not be empty".into(),
        ));
    }
    let phone = phone.map(str::trim).filter(|p| !p.is_empty());
    orgs::add_contact(conn, org.id, name.trim(), email, phone)?;
    audit::record(
        conn,
        actor,
        "contact.added",
        &format!("org:{}", org.code),
        None,
        None,
    )?;
    Ok(())
}

/// Disables (or enables again) a user: a `user.disabled` / `user.enabled` audit event. A disabled
/// user's sessions stop working at once.
pub fn set_user_disabled(
    conn: &mut AnyConnection,
    actor: &Actor,
    username: &str,
    disable: bool,
) -> Result<UserRow, AccessError> {
    let user = users::find_user(conn, username)?.ok_or_else(|| {
        AccessError::Invalid(format!("用户 {username} 不存在 / no user {username}"))
    })?;
    users::set_disabled(conn, user.id, disable)?;
    let action = if disable {
        "user.disabled"
    } else {
        "user.enabled"
    };
    audit::record(
        conn,
        actor,
        action,
        &format!("user:{}", user.id),
        None,
        None,
    )?;
    Ok(user)
}

/// Revokes an API token: a `token.revoked` audit event.
pub fn revoke_token(conn: &mut AnyConnection, actor: &Actor, id: i64) -> Result<(), AccessError> {
    let n = users::revoke_token(conn, id, Utc::now().naive_utc())?;
    if n == 0 {
        return Err(AccessError::Invalid(format!(
            "没有有效的令牌 #{id} / no active token #{id}"
        )));
    }
    audit::record(
        conn,
        actor,
        "token.revoked",
        &format!("token:{id}"),
        None,
        None,
    )?;
    Ok(())
}

/// Checks a user name and password, counting failures and locking after too many; on success
/// opens a session and returns its secret. An attempt is taken from the account (atomically)
/// before the password is checked, so parallel sign-ins check at most [`MAX_FAILED_LOGINS`]
/// passwords; failed sign-ins and lockouts are audit events.
pub fn sign_in(
    conn: &mut AnyConnection,
    username: &str,
    password: &str,
    limits: SessionLimits,
) -> Result<(UserRow, String), AccessError> {
    let now = Utc::now().naive_utc();
    let Some(user) = users::find_user(conn, username)? else {
        // Spend the same time as a real check so that timing does not tell which names exist.
        let _ = verify_password(password, DUMMY_HASH);
        audit_sign_in(conn, username, None, "sign_in.failed", "unknown_user")?;
        return Err(AccessError::BadCredentials);
    };
    let Some(attempt) = users::take_login_attempt(conn, user.id, MAX_FAILED_LOGINS, now)? else {
        audit_sign_in(conn, username, Some(&user), "sign_in.refused", "locked")?;
        // Either locked, or the last allowed attempts are being checked right now.
        let until = users::find_user(conn, username)?
            .and_then(|u| u.locked_until)
            .filter(|until| *until > now)
            .unwrap_or(now + Duration::minutes(LOCK_MINUTES));
        return Err(AccessError::Locked(
            (until + Duration::hours(8)).format("%H:%M").to_string(),
        ));
    };
    if user.disabled || !verify_password(password, &user.password_hash) {
        let why = if user.disabled {
            "disabled"
        } else {
            "wrong_password"
        };
        audit_sign_in(conn, username, Some(&user), "sign_in.failed", why)?;
        if attempt >= MAX_FAILED_LOGINS {
            let until = now + Duration::minutes(LOCK_MINUTES);
            users::lock_account(conn, user.id, until)?;
            audit_sign_in(
                conn,
                username,
                Some(&user),
                "user.locked",
                "too_many_failures",
            )?;
        }
        return Err(AccessError::BadCredentials);
    }
    users::reset_failed_logins(conn, user.id)?;
    let secret = random_secret("ghs_");
    users::insert_session(
        conn,
        user.id,
        &secret_hash(&secret),
        now,
        now + limits.absolute,
    )?;
    Ok((user, secret))
}

/// The audit event of a sign-in that did not open a session.
fn audit_sign_in(
    conn: &mut AnyConnection,
    username: &str,
    user: Option<&UserRow>,
    action: &str,
    why: &str,
) -> Result<(), AccessError> {
    // A name nobody has is quoted cut short and escaped: it is whatever the client sent.
    let name: String = username
        .chars()
        .take(64)
        .collect::<String>()
        .escape_debug()
        .to_string();
    let subject = match user {
        Some(u) => format!("user:{}", u.id),
        None => format!("username:{name}"),
    };
    audit::record(
        conn,
        &Actor {
            name: format!("user:{name}"),
            org_id: user.map(|u| u.org_id),
        },
        action,
        &subject,
        None,
        Some(&serde_json::json!({ "username": name, "reason": why })),
    )?;
    Ok(())
}

/// An argon2id hash of a random password, checked against when the user name is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1k3bCGzYqHcyk3cj1Ym2Vh0jVCdcuBCgwSMhGpY5Ijo";

/// Whose a bearer secret (API token or session) is, if anyone's.
pub fn identify(
    conn: &mut AnyConnection,
    secret: &str,
    limits: SessionLimits,
) -> Result<Option<Identity>, DbError> {
    let hash = secret_hash(secret);
    if secret.starts_with("ghs_") {
        let now = Utc::now().naive_utc();
        let user = users::session_user(conn, &hash, now, now - limits.idle)?;
        if user.is_some() {
            users::touch_session(conn, &hash, now)?;
        }
        return Ok(user.map(|u| Identity {
            actor: format!("user:{}", u.username),
            role: u.role,
            org_id: u.org_id,
        }));
    }
    let token = users::find_token(conn, &hash)?;
    Ok(token.map(|t| Identity {
        actor: format!("token:{}:{}", t.id, t.name),
        role: t.role,
        org_id: t.org_id,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_dummy_hash_parses_so_unknown_names_cost_a_real_check() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn secrets_are_random_and_stored_only_as_hashes() {
        let a = random_secret("ghk_");
        let b = random_secret("ghk_");
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), a);
    }
}
