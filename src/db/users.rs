//! Users, API tokens and sign-in sessions as stored. Secrets are only ever stored hashed; the
//! hashing and checking live in `access`.

use super::schema::{api_tokens, sessions, users};
use super::AnyConnection;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub org_id: i64,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = api_tokens)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub role: String,
    #[serde(skip)]
    pub token_hash: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_user(
    conn: &mut AnyConnection,
    username: &str,
    display_name: &str,
    role: &str,
    org_id: i64,
    password_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values((
            users::username.eq(username),
            users::display_name.eq(display_name),
            users::role.eq(role),
            users::org_id.eq(org_id),
            users::password_hash.eq(password_hash),
            users::disabled.eq(false),
            users::failed_logins.eq(0),
            users::created_at.eq(now),
        ))
        .execute(conn)?;
    find_user(conn, username)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_user(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_users(conn: &mut AnyConnection) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::id)
        .select(UserRow::as_select())
        .load(conn)
}

pub fn set_password(conn: &mut AnyConnection, user_id: i64, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(user_id)))
        .set((
            users::password_hash.eq(hash),
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

pub fn set_disabled(conn: &mut AnyConnection, user_id: i64, disabled: bool) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(user_id)))
        .set(users::disabled.eq(disabled))
        .execute(conn)
}

/// Takes one of the account's sign-in attempts before its password is checked, in one
/// statement: the count goes up only while it is below `max` and the account is not locked, so
/// parallel sign-ins can never check more than `max` passwords. Returns the attempt's number
/// (1..=max), or `None` when no attempt is left (locked, or `max` checks already under way).
pub fn take_login_attempt(
    conn: &mut AnyConnection,
    user_id: i64,
    max: i32,
    now: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    on_backend!(conn, |c| diesel::update(
        users::table
            .filter(users::id.eq(user_id))
            .filter(users::failed_logins.lt(max))
            .filter(
                users::locked_until
                    .is_null()
                    .or(users::locked_until.le(now))
            )
    )
    .set(users::failed_logins.eq(users::failed_logins + 1))
    .returning(users::failed_logins)
    .get_result::<i32>(c)
    .optional())
}

/// Locks the account until `until` after its last allowed attempt failed; the count starts
/// again from zero once the lock has run out.
pub fn lock_account(
    conn: &mut AnyConnection,
    user_id: i64,
    until: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(user_id)))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(Some(until)),
        ))
        .execute(conn)
}

pub fn reset_failed_logins(conn: &mut AnyConnection, user_id: i64) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(user_id)))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

pub fn insert_token(
    conn: &mut AnyConnection,
    name: &str,
    org_id: i64,
    role: &str,
    token_hash: &str,
    prefix: &str,
    now: NaiveDateTime,
) -> QueryResult<TokenRow> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(name),
            api_tokens::org_id.eq(org_id),
            api_tokens::role.eq(role),
            api_tokens::token_hash.eq(token_hash),
            api_tokens::prefix.eq(prefix),
            api_tokens::created_at.eq(now),
        ))
        .execute(conn)?;
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .select(TokenRow::as_select())
        .first(conn)
}

pub fn find_token(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<TokenRow>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(TokenRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_tokens(conn: &mut AnyConnection) -> QueryResult<Vec<TokenRow>> {
    api_tokens::table
        .order(api_tokens::id)
        .select(TokenRow::as_select())
        .load(conn)
}

pub fn revoke_token(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
}

pub fn insert_session(
    conn: &mut AnyConnection,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::token_hash.eq(token_hash),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(expires_at),
            sessions::last_seen_at.eq(now),
        ))
        .execute(conn)
}

/// The user of a live session: not past its absolute end, and used since `idle_since`.
pub fn session_user(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> QueryResult<Option<UserRow>> {
    sessions::table
        .inner_join(users::table.on(users::id.eq(sessions::user_id)))
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .filter(sessions::last_seen_at.gt(idle_since))
        .filter(users::disabled.eq(false))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Marks a session used now, at most once a minute (a write per request would cost more than
/// the idle timeout is worth).
pub fn touch_session(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash))
            .filter(sessions::last_seen_at.lt(now - chrono::Duration::minutes(1))),
    )
    .set(sessions::last_seen_at.eq(now))
    .execute(conn)
}

pub fn delete_session(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn)
}
