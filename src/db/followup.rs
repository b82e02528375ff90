//! Follow-up events as stored, and what is derived from them per record (milestones, the
//! employment-state spans), rebuilt in the transaction that adds an event. The summary's counting
//! queries are in `db::summary`.

use super::schema::{followup_events, followup_milestones, followup_states, placements};
use super::AnyConnection;
use crate::domain::followup::{self, DatedEvent, EventBody, EventKind, StateSpan};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// A stored follow-up event.
#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = followup_events)]
pub struct EventRow {
    pub id: i64,
    pub record_id: i64,
    pub kind: String,
    #[schema(value_type = String)]
    pub occurred_on: NaiveDate,
    pub code: Option<String>,
    pub reached: Option<bool>,
    pub amount_fen: Option<i64>,
    pub organisation: Option<String>,
    pub employer: Option<String>,
    pub post: Option<String>,
    pub note: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub occupation: Option<String>,
    pub region: Option<String>,
    pub org_id: i64,
    pub actor: String,
    pub client_key: Option<String>,
    #[serde(skip)]
    pub content_hash: String,
    pub channel: String,
    #[schema(value_type = String)]
    pub recorded_at: NaiveDateTime,
}

impl EventRow {
    /// What the event says, or `None` for a row whose kind or code is missing (written by hand).
    pub fn body(&self) -> Option<EventBody> {
        let code = || self.code.clone();
        Some(match EventKind::parse(&self.kind)? {
            EventKind::Contact => EventBody::Contact {
                channel: code()?,
                reached: self.reached?,
                note: self.note.clone(),
            },
            EventKind::Service => EventBody::Service {
                service_type: code()?,
                organisation: self.organisation.clone(),
                employer: self.employer.clone(),
                post: self.post.clone(),
                note: self.note.clone(),
            },
            EventKind::Policy => EventBody::Policy {
                policy_type: code()?,
                amount_fen: self.amount_fen,
                organisation: self.organisation.clone(),
                note: self.note.clone(),
            },
            EventKind::State => EventBody::State {
                state: code()?,
                note: self.note.clone(),
            },
            EventKind::Update => EventBody::Update {
                address: self.address.clone(),
                phone: self.phone.clone(),
                occupation: self.occupation.clone(),
                region: self.region.clone(),
            },
        })
    }
}

/// An event about to be stored.
#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = followup_events)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewEvent {
    pub record_id: i64,
    pub kind: String,
    pub occurred_on: NaiveDate,
    pub code: Option<String>,
    pub reached: Option<bool>,
    pub amount_fen: Option<i64>,
    pub organisation: Option<String>,
    pub employer: Option<String>,
    pub post: Option<String>,
    pub note: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub occupation: Option<String>,
    pub region: Option<String>,
    pub org_id: i64,
    pub actor: String,
    pub client_key: Option<String>,
    pub content_hash: String,
    pub channel: String,
    pub recorded_at: NaiveDateTime,
    pub holder_org_id: i64,
    pub graduation_year: i32,
    pub stored_at: NaiveDateTime,
}

/// What every follow-up row copies of its record for the summary: who holds it, its graduation
/// year, when it was stored.
#[derive(Clone, Copy, Debug)]
pub struct Copies {
    pub holder_org_id: i64,
    pub graduation_year: i32,
    pub stored_at: NaiveDateTime,
    pub graduation_date: NaiveDate,
}

impl NewEvent {
    /// The row for `body` on `on` about `record_id`; who sent it is filled in by the caller.
    pub fn from_body(record_id: i64, on: NaiveDate, body: &EventBody, copies: Copies) -> NewEvent {
        let mut e = NewEvent {
            record_id,
            kind: body.kind().as_str().to_string(),
            occurred_on: on,
            code: None,
            reached: None,
            amount_fen: None,
            organisation: None,
            employer: None,
            post: None,
            note: None,
            address: None,
            phone: None,
            occupation: None,
            region: None,
            org_id: 0,
            actor: String::new(),
            client_key: None,
            content_hash: String::new(),
            channel: String::new(),
            recorded_at: NaiveDateTime::default(),
            holder_org_id: copies.holder_org_id,
            graduation_year: copies.graduation_year,
            stored_at: copies.stored_at,
        };
        match body {
            EventBody::Contact {
                channel,
                reached,
                note,
            } => {
                e.code = Some(channel.clone());
                e.reached = Some(*reached);
                e.note.clone_from(note);
            }
            EventBody::Service {
                service_type,
                organisation,
                employer,
                post,
                note,
            } => {
                e.code = Some(service_type.clone());
                e.organisation.clone_from(organisation);
                e.employer.clone_from(employer);
                e.post.clone_from(post);
                e.note.clone_from(note);
            }
            EventBody::Policy {
                policy_type,
                amount_fen,
                organisation,
                note,
            } => {
                e.code = Some(policy_type.clone());
                e.amount_fen = *amount_fen;
                e.organisation.clone_from(organisation);
                e.note.clone_from(note);
            }
            EventBody::State { state, note } => {
                e.code = Some(state.clone());
                e.note.clone_from(note);
            }
            EventBody::Update {
                address,
                phone,
                occupation,
                region,
            } => {
                e.address.clone_from(address);
                e.phone.clone_from(phone);
                e.occupation.clone_from(occupation);
                e.region.clone_from(region);
            }
        }
        e
    }
}

pub fn insert(conn: &mut AnyConnection, event: &NewEvent) -> QueryResult<i64> {
    on_backend!(conn, |c| diesel::insert_into(followup_events::table)
        .values(event)
        .returning(followup_events::id)
        .get_result(c))
}

/// The event an organisation stored under its client key: (id, record, content hash).
pub fn by_client_key(
    conn: &mut AnyConnection,
    org_id: i64,
    key: &str,
) -> QueryResult<Option<(i64, i64, String)>> {
    followup_events::table
        .filter(followup_events::org_id.eq(org_id))
        .filter(followup_events::client_key.eq(key))
        .select((
            followup_events::id,
            followup_events::record_id,
            followup_events::content_hash,
        ))
        .first(conn)
        .optional()
}

/// Every event of a record in the order it was stored.
pub fn events_of(conn: &mut AnyConnection, record_id: i64) -> QueryResult<Vec<EventRow>> {
    followup_events::table
        .filter(followup_events::record_id.eq(record_id))
        .order(followup_events::id)
        .select(EventRow::as_select())
        .load(conn)
}

/// Rewrites the milestones and state spans of a record from all its events, and the milestones
/// its placement carries for the overdue counts.
pub fn rebuild_derived(
    conn: &mut AnyConnection,
    record_id: i64,
    copies: Copies,
) -> QueryResult<()> {
    let rows = events_of(conn, record_id)?;
    let bodies: Vec<(NaiveDate, i64, EventBody)> = rows
        .iter()
        .filter_map(|r| r.body().map(|b| (r.occurred_on, r.id, b)))
        .collect();
    let dated: Vec<DatedEvent<'_>> = bodies
        .iter()
        .map(|(on, seq, body)| DatedEvent {
            on: *on,
            seq: *seq,
            body,
        })
        .collect();
    let milestones = followup::milestones(&dated, copies.graduation_date);
    let spans = followup::state_history(&dated);
    diesel::delete(followup_milestones::table.filter(followup_milestones::record_id.eq(record_id)))
        .execute(conn)?;
    diesel::delete(followup_states::table.filter(followup_states::record_id.eq(record_id)))
        .execute(conn)?;
    let m: Vec<_> = milestones
        .iter()
        .map(|(name, on)| {
            (
                followup_milestones::record_id.eq(record_id),
                followup_milestones::name.eq(name),
                followup_milestones::reached_on.eq(*on),
                followup_milestones::holder_org_id.eq(copies.holder_org_id),
                followup_milestones::graduation_year.eq(copies.graduation_year),
                followup_milestones::stored_at.eq(copies.stored_at),
            )
        })
        .collect();
    if !m.is_empty() {
        on_backend!(&mut *conn, |c| diesel::insert_into(
            followup_milestones::table
        )
        .values(&m)
        .execute(c))?;
    }
    let s: Vec<_> = spans
        .iter()
        .map(|StateSpan { state, from, until }| {
            (
                followup_states::record_id.eq(record_id),
                followup_states::from_on.eq(*from),
                followup_states::until_on.eq(*until),
                followup_states::state.eq(state),
                followup_states::holder_org_id.eq(copies.holder_org_id),
                followup_states::graduation_year.eq(copies.graduation_year),
                followup_states::stored_at.eq(copies.stored_at),
            )
        })
        .collect();
    if !s.is_empty() {
        on_backend!(&mut *conn, |c| diesel::insert_into(followup_states::table)
            .values(&s)
            .execute(c))?;
    }
    diesel::update(placements::table.filter(placements::record_id.eq(record_id)))
        .set((
            placements::has_followup.eq(true),
            placements::contacted_on.eq(milestones.get(followup::CONTACTED).copied()),
            placements::s1131_in_time_on.eq(milestones.get(followup::S1131_IN_TIME).copied()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The milestones of a record (name, day), for the record page.
pub fn milestones_of(
    conn: &mut AnyConnection,
    record_id: i64,
) -> QueryResult<Vec<(String, NaiveDate)>> {
    followup_milestones::table
        .filter(followup_milestones::record_id.eq(record_id))
        .order(followup_milestones::reached_on)
        .select((followup_milestones::name, followup_milestones::reached_on))
        .load(conn)
}
