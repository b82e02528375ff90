//! Audit events: who did what to which subject, with the state before and after. Written by the
//! services inside the transaction of the change they describe.

use super::schema::audit_events;
use super::AnyConnection;
use crate::authz::{Actor, Scope};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_events)]
pub struct AuditRow {
    pub id: i64,
    #[schema(value_type = String)]
    pub at: NaiveDateTime,
    pub actor: String,
    pub actor_org_id: Option<i64>,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Writes one event. `before` / `after` are JSON texts (or `None` where there is no state).
pub fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    subject: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(Utc::now().naive_utc()),
            audit_events::actor.eq(&actor.name),
            audit_events::actor_org_id.eq(actor.org_id),
            audit_events::action.eq(action),
            audit_events::subject.eq(subject),
            audit_events::before.eq(before.map(|v| v.to_string())),
            audit_events::after.eq(after.map(|v| v.to_string())),
        ))
        .execute(conn)?;
    Ok(())
}

/// The latest events about a subject, or of actors within the scope, newest first.
pub fn list(
    conn: &mut AnyConnection,
    scope: &Scope,
    subject: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let filter = AuditFilter {
        subject: subject.map(str::to_string),
        ..AuditFilter::default()
    };
    search(conn, scope, &filter, None, limit)
}

/// What the audit log page filters by; every part optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// The actor exactly (`user:zhang`, `token:7:jiangsu-sync`).
    pub actor: Option<String>,
    /// The action exactly (`record.viewed`).
    pub action: Option<String>,
    /// The subject exactly (`package:12`).
    pub subject: Option<String>,
    /// Events of actors of these organisations.
    pub orgs: Option<Vec<i64>>,
    /// From this time (UTC), inclusive.
    pub from: Option<NaiveDateTime>,
    /// Before this time (UTC).
    pub until: Option<NaiveDateTime>,
}

/// Events of actors within the scope that pass the filter, newest first, with ids below
/// `before` (a cursor paging backwards).
pub fn search(
    conn: &mut AnyConnection,
    scope: &Scope,
    filter: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut q = audit_events::table
        .select(AuditRow::as_select())
        .order(audit_events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(audit_events::id.lt(b));
    }
    if let Some(a) = &filter.actor {
        q = q.filter(audit_events::actor.eq(a.clone()));
    }
    if let Some(a) = &filter.action {
        q = q.filter(audit_events::action.eq(a.clone()));
    }
    if let Some(s) = &filter.subject {
        q = q.filter(audit_events::subject.eq(s.clone()));
    }
    if let Some(ids) = &filter.orgs {
        q = q.filter(audit_events::actor_org_id.eq_any(ids.clone()));
    }
    if let Some(f) = filter.from {
        q = q.filter(audit_events::at.ge(f));
    }
    if let Some(u) = filter.until {
        q = q.filter(audit_events::at.lt(u));
    }
    if let Some(ids) = scope.ids() {
        q = q.filter(audit_events::actor_org_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}
