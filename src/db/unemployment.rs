//! Unemployment-registration applications, the office's events about them, the downloads local
//! systems made, and deregistrations in the fields of the 79号 annex, as stored. The rules are in
//! `domain::unemployment` and `domain::deregistration`, the service in `unemployment`.

use super::schema::{
    deregistrations, unemployment_applications as apps, unemployment_downloads, unemployment_events,
};
use super::AnyConnection;
use crate::authz::Scope;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// One application and the registration it became, as stored.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = apps)]
pub struct ApplicationRow {
    pub id: i64,
    pub application_no: String,
    pub channel: String,
    pub id_type: String,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub mobile: String,
    pub email: Option<String>,
    pub form: String,
    pub place_kind: String,
    pub place_code: String,
    pub route_method: String,
    pub org_id: i64,
    pub received_at: NaiveDateTime,
    pub received_on: NaiveDate,
    pub target_due: NaiveDate,
    pub limit_due: NaiveDate,
    pub due_provisional: bool,
    pub status: String,
    pub reviewed_at: Option<NaiveDateTime>,
    pub reviewed_on: Option<NaiveDate>,
    pub reviewer: Option<String>,
    pub refusal_reason: Option<String>,
    pub urban: Option<bool>,
    pub skill_type: Option<String>,
    pub contact_due: Option<NaiveDate>,
    pub contacted_on: Option<NaiveDate>,
    pub last_contact_on: Option<NaiveDate>,
    pub exit_reason: Option<String>,
    pub exit_detail: Option<String>,
    pub exit_on: Option<NaiveDate>,
    pub exit_clerk: Option<String>,
    pub exit_verification: Option<String>,
    pub exit_note: Option<String>,
    pub exit_notice: Option<String>,
    pub late_mailed_at: Option<NaiveDateTime>,
    pub breach_mailed_at: Option<NaiveDateTime>,
    pub active_key: Option<String>,
    pub actor: String,
}

/// An application about to be stored.
#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = apps)]
pub struct NewApplication {
    pub application_no: String,
    pub channel: String,
    pub id_type: String,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub mobile: String,
    pub email: Option<String>,
    pub form: String,
    pub place_kind: String,
    pub place_code: String,
    pub route_method: String,
    pub org_id: i64,
    pub received_at: NaiveDateTime,
    pub received_on: NaiveDate,
    pub target_due: NaiveDate,
    pub limit_due: NaiveDate,
    pub due_provisional: bool,
    pub status: String,
    pub active_key: Option<String>,
    pub actor: String,
}

pub fn insert_application(conn: &mut AnyConnection, new: &NewApplication) -> QueryResult<i64> {
    on_backend!(conn, |c| diesel::insert_into(apps::table)
        .values(new)
        .returning(apps::id)
        .get_result(c))
}

pub fn by_no(conn: &mut AnyConnection, no: &str) -> QueryResult<Option<ApplicationRow>> {
    apps::table
        .filter(apps::application_no.eq(no))
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()
}

/// The pending or registered application of an ID number, if any (at most one: `active_key`).
pub fn active_of(conn: &mut AnyConnection, id_number: &str) -> QueryResult<Option<ApplicationRow>> {
    apps::table
        .filter(apps::active_key.eq(id_number))
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()
}

/// Applications routed into `scope` with an id above `after`, oldest first (the download cursor).
pub fn after(
    conn: &mut AnyConnection,
    scope: &Scope,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<ApplicationRow>> {
    let mut q = apps::table
        .filter(apps::id.gt(after))
        .select(ApplicationRow::as_select())
        .order(apps::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(ids) = scope.ids() {
        q = q.filter(apps::org_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}

/// Every application in `scope` whose status is one of `statuses` (all when empty), oldest
/// first. The lists and the monthly figures are cut from this in the service.
pub fn in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    statuses: &[&str],
) -> QueryResult<Vec<ApplicationRow>> {
    let mut q = apps::table
        .select(ApplicationRow::as_select())
        .order(apps::id.asc())
        .into_boxed();
    if let Some(ids) = scope.ids() {
        q = q.filter(apps::org_id.eq_any(ids.to_vec()));
    }
    if !statuses.is_empty() {
        q = q.filter(apps::status.eq_any(statuses.iter().map(|s| s.to_string())));
    }
    q.load(conn)
}

/// Pending applications past their target or limit on `today` whose mail for it is not yet
/// queued (the escalation pass runs every few seconds: it reads only these).
pub fn due_for_mail(
    conn: &mut AnyConnection,
    today: NaiveDate,
) -> QueryResult<Vec<ApplicationRow>> {
    apps::table
        .filter(apps::status.eq("pending"))
        .filter(
            apps::late_mailed_at
                .is_null()
                .and(apps::target_due.lt(today))
                .or(apps::breach_mailed_at
                    .is_null()
                    .and(apps::limit_due.lt(today))),
        )
        .select(ApplicationRow::as_select())
        .order(apps::id.asc())
        .load(conn)
}

/// Records the review; only a pending application changes (false: someone was first).
#[allow(clippy::too_many_arguments)]
pub fn set_review(
    conn: &mut AnyConnection,
    id: i64,
    id_number: &str,
    passed: bool,
    reason: Option<&str>,
    urban: Option<bool>,
    skill_type: Option<&str>,
    reviewer: &str,
    at: NaiveDateTime,
    on: NaiveDate,
    contact_due: Option<NaiveDate>,
) -> QueryResult<bool> {
    let status = if passed { "registered" } else { "refused" };
    let active: Option<String> = None;
    let target = apps::table
        .filter(apps::id.eq(id))
        .filter(apps::status.eq("pending"));
    let n = if passed {
        diesel::update(target)
            .set((
                apps::status.eq(status),
                apps::reviewed_at.eq(at),
                apps::reviewed_on.eq(on),
                apps::reviewer.eq(reviewer),
                apps::urban.eq(urban),
                apps::skill_type.eq(skill_type),
                apps::contact_due.eq(contact_due),
                apps::active_key.eq(Some(id_number)),
            ))
            .execute(conn)?
    } else {
        diesel::update(target)
            .set((
                apps::status.eq(status),
                apps::reviewed_at.eq(at),
                apps::reviewed_on.eq(on),
                apps::reviewer.eq(reviewer),
                apps::refusal_reason.eq(reason),
                apps::active_key.eq(active),
            ))
            .execute(conn)?
    };
    Ok(n == 1)
}

/// Notes a contact: the first one after registration, and the latest.
pub fn set_contacted(conn: &mut AnyConnection, id: i64, on: NaiveDate) -> QueryResult<()> {
    diesel::update(
        apps::table
            .filter(apps::id.eq(id))
            .filter(apps::contacted_on.is_null()),
    )
    .set(apps::contacted_on.eq(on))
    .execute(conn)?;
    diesel::update(
        apps::table.filter(apps::id.eq(id)).filter(
            apps::last_contact_on
                .is_null()
                .or(apps::last_contact_on.lt(on)),
        ),
    )
    .set(apps::last_contact_on.eq(on))
    .execute(conn)?;
    Ok(())
}

pub fn set_skill_type(conn: &mut AnyConnection, id: i64, skill: &str) -> QueryResult<()> {
    diesel::update(apps::table.filter(apps::id.eq(id)))
        .set(apps::skill_type.eq(skill))
        .execute(conn)?;
    Ok(())
}

/// The exit as recorded; only a registered application changes.
#[derive(Clone, Debug)]
pub struct ExitValues<'a> {
    pub reason: &'a str,
    pub detail: Option<&'a str>,
    pub on: NaiveDate,
    pub clerk: &'a str,
    pub verification: Option<&'a str>,
    pub note: Option<&'a str>,
    pub notice: &'a str,
}

pub fn set_exit(conn: &mut AnyConnection, id: i64, e: &ExitValues) -> QueryResult<bool> {
    let none: Option<String> = None;
    let n = diesel::update(
        apps::table
            .filter(apps::id.eq(id))
            .filter(apps::status.eq("registered")),
    )
    .set((
        apps::status.eq("exited"),
        apps::exit_reason.eq(e.reason),
        apps::exit_detail.eq(e.detail),
        apps::exit_on.eq(e.on),
        apps::exit_clerk.eq(e.clerk),
        apps::exit_verification.eq(e.verification),
        apps::exit_note.eq(e.note),
        apps::exit_notice.eq(e.notice),
        apps::active_key.eq(none),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Marks the late or breach mail as queued; false when another pass was first.
pub fn mark_mailed(
    conn: &mut AnyConnection,
    id: i64,
    breach: bool,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let target = apps::table.filter(apps::id.eq(id));
    let n = if breach {
        diesel::update(target.filter(apps::breach_mailed_at.is_null()))
            .set(apps::breach_mailed_at.eq(at))
            .execute(conn)?
    } else {
        diesel::update(target.filter(apps::late_mailed_at.is_null()))
            .set(apps::late_mailed_at.eq(at))
            .execute(conn)?
    };
    Ok(n == 1)
}

/// A stored event of the office about a registered person.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = unemployment_events)]
pub struct EventRow {
    pub id: i64,
    pub application_id: i64,
    /// `contact`, `service` or `classify`.
    pub kind: String,
    pub code: String,
    #[schema(value_type = String)]
    pub occurred_on: NaiveDate,
    pub reached: Option<bool>,
    pub note: Option<String>,
    pub org_id: i64,
    pub actor: String,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = unemployment_events)]
pub struct NewEvent {
    pub application_id: i64,
    pub kind: String,
    pub code: String,
    pub occurred_on: NaiveDate,
    pub reached: Option<bool>,
    pub note: Option<String>,
    pub org_id: i64,
    pub actor: String,
    pub recorded_at: NaiveDateTime,
}

pub fn insert_event(conn: &mut AnyConnection, e: &NewEvent) -> QueryResult<i64> {
    on_backend!(conn, |c| diesel::insert_into(unemployment_events::table)
        .values(e)
        .returning(unemployment_events::id)
        .get_result(c))
}

pub fn events_of(conn: &mut AnyConnection, application_id: i64) -> QueryResult<Vec<EventRow>> {
    unemployment_events::table
        .filter(unemployment_events::application_id.eq(application_id))
        .select(EventRow::as_select())
        .order((
            unemployment_events::occurred_on.asc(),
            unemployment_events::id.asc(),
        ))
        .load(conn)
}

/// The service events of many applications at once, for the lists (`(application_id, code)`).
pub fn services_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    let mut out = Vec::new();
    // Chunked: SQLite limits the parameters of one statement.
    for chunk in ids.chunks(5_000) {
        out.extend(
            unemployment_events::table
                .filter(unemployment_events::application_id.eq_any(chunk.to_vec()))
                .filter(unemployment_events::kind.eq("service"))
                .select((
                    unemployment_events::application_id,
                    unemployment_events::code,
                ))
                .load::<(i64, String)>(conn)?,
        );
    }
    Ok(out)
}

pub fn record_download(
    conn: &mut AnyConnection,
    org_id: i64,
    actor: &str,
    at: NaiveDateTime,
    after_id: i64,
    last_id: i64,
    count: i32,
) -> QueryResult<()> {
    diesel::insert_into(unemployment_downloads::table)
        .values((
            unemployment_downloads::org_id.eq(org_id),
            unemployment_downloads::actor.eq(actor),
            unemployment_downloads::downloaded_at.eq(at),
            unemployment_downloads::after_id.eq(after_id),
            unemployment_downloads::last_id.eq(last_id),
            unemployment_downloads::applications.eq(count),
        ))
        .execute(conn)?;
    Ok(())
}

/// A deregistration as stored: the annex's eleven fields and where it came from.
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = deregistrations)]
pub struct DeregistrationRow {
    pub id: i64,
    pub aab301: String,
    pub aaz341: String,
    pub aac003: String,
    pub aac002: String,
    pub aac058: String,
    pub aac044: String,
    pub adc210: String,
    pub ajc00a: String,
    pub aae011: String,
    pub aae036: String,
    pub aae013: String,
    /// `hub` (an exit recorded here) or `local` (received from a local system).
    pub source: String,
    pub org_id: i64,
    pub application_id: Option<i64>,
    pub received_at: NaiveDateTime,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = deregistrations)]
pub struct NewDeregistration {
    pub aab301: String,
    pub aaz341: String,
    pub aac003: String,
    pub aac002: String,
    pub aac058: String,
    pub aac044: String,
    pub adc210: String,
    pub ajc00a: String,
    pub aae011: String,
    pub aae036: String,
    pub aae013: String,
    pub source: String,
    pub org_id: i64,
    pub application_id: Option<i64>,
    pub received_at: NaiveDateTime,
}

/// Stores a deregistration unless its key (AAB301 + AAZ341) is taken; whether it was stored.
pub fn insert_deregistration(conn: &mut AnyConnection, d: &NewDeregistration) -> QueryResult<bool> {
    let n = on_backend!(conn, |c| diesel::insert_into(deregistrations::table)
        .values(d)
        .on_conflict((deregistrations::aab301, deregistrations::aaz341))
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// The deregistrations stored on `day` (China time, UTC+8) by organisations in `scope`: the
/// day's new records, whatever their 经办日期 (a local record sent late still leaves once).
pub fn deregistrations_on(
    conn: &mut AnyConnection,
    scope: &Scope,
    day: NaiveDate,
) -> QueryResult<Vec<DeregistrationRow>> {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::hours(8);
    let end = start + chrono::Duration::days(1);
    let mut q = deregistrations::table
        .filter(deregistrations::received_at.ge(start))
        .filter(deregistrations::received_at.lt(end))
        .select(DeregistrationRow::as_select())
        .order(deregistrations::id.asc())
        .into_boxed();
    if let Some(ids) = scope.ids() {
        q = q.filter(deregistrations::org_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}

/// The deregistration stored under a key, if any.
pub fn deregistration_by_key(
    conn: &mut AnyConnection,
    aab301: &str,
    aaz341: &str,
) -> QueryResult<Option<DeregistrationRow>> {
    deregistrations::table
        .filter(deregistrations::aab301.eq(aab301))
        .filter(deregistrations::aaz341.eq(aaz341))
        .select(DeregistrationRow::as_select())
        .first(conn)
        .optional()
}

/// New review deadlines for a pending application (after a calendar import).
pub fn set_deadlines(
    conn: &mut AnyConnection,
    id: i64,
    target: NaiveDate,
    limit: NaiveDate,
    provisional: bool,
) -> QueryResult<bool> {
    let n = diesel::update(
        apps::table
            .filter(apps::id.eq(id))
            .filter(apps::status.eq("pending")),
    )
    .set((
        apps::target_due.eq(target),
        apps::limit_due.eq(limit),
        apps::due_provisional.eq(provisional),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
