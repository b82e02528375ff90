//! The follow-up service: one rule set and one store for every way follow-up arrives (the API's
//! event batches, follow-up files, the pages). Each event is judged alone and answered accepted,
//! duplicate or rejected with its reasons; the accepted ones, their derived milestones and their
//! audit events are stored in one transaction. Also the follow-up timeline of one record.

pub mod import;

use crate::authz::{Caller, Permission};
use crate::db::followup::{self as store, Copies, EventRow, NewEvent};
use crate::db::packages as placements;
use crate::db::records::RecordRow;
use crate::db::{self, audit, AnyConnection};
use crate::distribution::{DistError, Distribution};
use crate::domain::catalogue::ErrorCode;
use crate::domain::followup::{
    self as rules, DatedEvent, EventKind, Field, FollowupCodes, FollowupTable, Problem, Profile,
    RawEvent,
};
use crate::domain::id_number::IdNumber;
use crate::domain::masking;
use crate::ingest::china_today;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The most events one API request may carry (files are taken in chunks of this size).
pub const MAX_EVENTS: usize = 1000;

/// How the events came (stored with each event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Api,
    File,
    Page,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::File => "file",
            Source::Page => "page",
        }
    }
}

/// What became of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Stored now.
    Accepted,
    /// Stored before under the same client key with the same content: nothing stored again.
    Duplicate,
    /// Not stored; `problems` says why.
    Rejected,
}

/// The answer for one event, in the order sent.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EventOutcome {
    /// Position in the request (0-based) or the file's line.
    pub index: usize,
    pub client_key: Option<String>,
    pub status: EventStatus,
    pub event_id: Option<i64>,
    pub record_id: Option<i64>,
    pub problems: Vec<Problem>,
}

/// The answer for a batch of events.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SubmitAnswer {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    pub dry_run: bool,
    pub events: Vec<EventOutcome>,
}

/// One event of a record as a caller sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[serde(flatten)]
    pub event: EventRow,
    pub kind_label: String,
    /// The name of `code` in its code table.
    pub code_name: Option<String>,
    /// `amount_fen` in yuan with two decimals.
    pub amount_yuan: Option<String>,
    /// The organisation that recorded it.
    pub recorded_by: String,
}

/// A record's follow-up: every event, the milestones, the current state and set-1 values.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub record_id: i64,
    pub current_state: Option<CurrentState>,
    pub profile: Profile,
    pub milestones: Vec<MilestoneView>,
    pub events: Vec<EventView>,
    pub masked: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentState {
    pub code: String,
    pub name: String,
    #[schema(value_type = String)]
    pub since: NaiveDate,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MilestoneView {
    pub name: String,
    pub label: String,
    #[schema(value_type = String)]
    pub reached_on: NaiveDate,
}

/// The follow-up service.
pub struct Followup {
    pub dist: Arc<Distribution>,
    pub codes: Arc<FollowupCodes>,
}

/// An event that passed every check and waits to be written.
struct Ready {
    index: usize,
    record_id: i64,
    copies: Copies,
    event: NewEvent,
}

impl Followup {
    pub fn new(dist: Arc<Distribution>, codes: Arc<FollowupCodes>) -> Followup {
        Followup { dist, codes }
    }

    /// Judges and stores a batch of events sent by `caller` (each `RawEvent` with its index).
    /// Rejected events store nothing; the accepted ones are stored together, or, if storage
    /// fails, none of them.
    pub fn submit(
        &self,
        caller: &Caller,
        events: Vec<(usize, RawEvent)>,
        source: Source,
        dry_run: bool,
    ) -> Result<SubmitAnswer, DistError> {
        caller.require(Permission::FollowUp)?;
        let mut conn = self.dist.db.conn()?;
        // A concurrent request may store the same client key between our look and our write: the
        // unique index refuses it, and the second pass finds the key as a duplicate.
        match self.submit_once(&mut conn, caller, &events, source, dry_run) {
            Err(DistError::Db(db::DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )))) => self.submit_once(&mut conn, caller, &events, source, dry_run),
            other => other,
        }
    }

    fn submit_once(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        events: &[(usize, RawEvent)],
        source: Source,
        dry_run: bool,
    ) -> Result<SubmitAnswer, DistError> {
        let today = china_today();
        let now = Utc::now().naive_utc();
        let mut outcomes: Vec<EventOutcome> = Vec::with_capacity(events.len());
        let mut ready: Vec<Ready> = Vec::new();
        // Client keys of this request already taken: key → (outcome index, content hash).
        let mut keys_here: HashMap<String, (usize, String)> = HashMap::new();
        let mut people: HashMap<(String, i32), Option<(RecordRow, i64)>> = HashMap::new();
        for (index, raw) in events {
            let client_key = raw.get(Field::ClientKey);
            let mut outcome = EventOutcome {
                index: *index,
                client_key: client_key.clone(),
                status: EventStatus::Rejected,
                event_id: None,
                record_id: None,
                problems: Vec::new(),
            };
            let key_problem = client_key.as_ref().and_then(|k| {
                (k.chars().count() > 100).then(|| {
                    Problem::new(
                        Field::ClientKey,
                        k,
                        ErrorCode::TooLong,
                        "事件编号：超过 100 个字符",
                        "client_key: longer than 100 characters",
                    )
                })
            });
            let valid = rules::validate(raw, &self.codes, today);
            let record = self.resolve(conn, caller, raw, today, &mut people)?;
            if let Err(p) = &valid {
                outcome.problems.extend(p.iter().cloned());
            }
            if let Err(p) = &record {
                outcome.problems.push(p.clone());
            }
            outcome.problems.extend(key_problem);
            let (Ok(valid), Ok(record)) = (valid, record) else {
                outcomes.push(outcome);
                continue;
            };
            if !outcome.problems.is_empty() {
                outcomes.push(outcome);
                continue;
            }
            outcome.record_id = Some(record.0.id);
            let first_day = NaiveDate::from_ymd_opt(record.0.graduation_year, 1, 1);
            if first_day.is_some_and(|d| valid.on < d) {
                outcome.problems.push(Problem::new(
                    Field::Date,
                    &valid.on.to_string(),
                    ErrorCode::DateBeforeGraduation,
                    format!(
                        "日期：{} 早于毕业年份 {}",
                        valid.on, record.0.graduation_year
                    ),
                    format!(
                        "Date: {} is before the graduation year {}",
                        valid.on, record.0.graduation_year
                    ),
                ));
                outcomes.push(outcome);
                continue;
            }
            let (record, holder) = record;
            let copies = Copies {
                holder_org_id: holder,
                graduation_year: record.graduation_year,
                stored_at: record.created_at,
                graduation_date: record.graduation_date,
            };
            let mut event = NewEvent::from_body(record.id, valid.on, &valid.body, copies);
            event.org_id = caller.org_id;
            event.actor = caller.actor.name.clone();
            event.client_key = client_key.clone();
            event.channel = source.as_str().to_string();
            event.recorded_at = now;
            event.content_hash = content_hash(&event);
            if let Some(key) = &client_key {
                let earlier = match keys_here.get(key) {
                    Some((i, hash)) => Some((outcomes[*i].event_id, hash.clone(), Some(*i))),
                    None => store::by_client_key(conn, caller.org_id, key)?
                        .map(|(id, _, hash)| (Some(id), hash, None)),
                };
                if let Some((id, hash, _)) = earlier {
                    if hash == event.content_hash {
                        outcome.status = EventStatus::Duplicate;
                        outcome.event_id = id;
                    } else {
                        outcome.problems.push(Problem::new(
                            Field::ClientKey,
                            key,
                            ErrorCode::ClientKeyReused,
                            "事件编号：已用于另一内容不同的事件",
                            "client_key: already used for a different event",
                        ));
                    }
                    outcomes.push(outcome);
                    continue;
                }
                keys_here.insert(key.clone(), (outcomes.len(), event.content_hash.clone()));
            }
            outcome.status = EventStatus::Accepted;
            ready.push(Ready {
                index: outcomes.len(),
                record_id: record.id,
                copies,
                event,
            });
            outcomes.push(outcome);
        }
        if !dry_run && !ready.is_empty() {
            let ids = db::write_transaction(conn, |conn| store_ready(conn, caller, &ready))?;
            for (r, id) in ready.iter().zip(ids) {
                outcomes[r.index].event_id = Some(id);
            }
            // A duplicate of an event accepted earlier in this request answers its id.
            for i in 0..outcomes.len() {
                if outcomes[i].status == EventStatus::Duplicate && outcomes[i].event_id.is_none() {
                    if let Some(key) = outcomes[i].client_key.clone() {
                        if let Some((first, _)) = keys_here.get(&key) {
                            outcomes[i].event_id = outcomes[*first].event_id;
                        }
                    }
                }
            }
        }
        let count = |s| outcomes.iter().filter(|o| o.status == s).count();
        Ok(SubmitAnswer {
            accepted: count(EventStatus::Accepted),
            duplicates: count(EventStatus::Duplicate),
            rejected: count(EventStatus::Rejected),
            dry_run,
            events: outcomes,
        })
    }

    /// The record an event is about, if it is held in the caller's jurisdiction. A record that
    /// does not exist and one outside the jurisdiction get the same answer.
    fn resolve(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        raw: &RawEvent,
        today: NaiveDate,
        people: &mut HashMap<(String, i32), Option<(RecordRow, i64)>>,
    ) -> Result<Result<(RecordRow, i64), Problem>, DistError> {
        let unknown = |value: &str| {
            Problem::new(
                Field::IdNumber,
                value,
                ErrorCode::RecordUnknown,
                "记录不存在，或不在本机构辖区内",
                "No such record in your jurisdiction",
            )
        };
        if let Some(raw_id) = raw.get(Field::RecordId) {
            let Ok(id) = raw_id.parse::<i64>() else {
                return Ok(Err(unknown(&raw_id)));
            };
            return Ok(placements::record_in_scope(conn, &caller.scope, id)?
                .map(|(r, p)| (r, p.holder_org_id))
                .ok_or_else(|| unknown(&raw_id)));
        }
        let Some(number) = raw.get(Field::IdNumber) else {
            return Ok(Err(Problem::new(
                Field::IdNumber,
                "",
                ErrorCode::Required,
                "证件号码：必填（或给出记录号）",
                "id_number: required (or give record_id)",
            )));
        };
        let year = raw.get(Field::GraduationYear);
        let Some(year) = year.as_deref().and_then(parse_year) else {
            return Ok(Err(Problem::new(
                Field::GraduationYear,
                year.as_deref().unwrap_or(""),
                if year.is_none() {
                    ErrorCode::Required
                } else {
                    ErrorCode::DateInvalid
                },
                "毕业年份：必填，四位年份",
                "graduation_year: required, a four-digit year",
            )));
        };
        let id_type = raw
            .get(Field::IdType)
            .and_then(|t| crate::domain::codes::CodeTable::IdType.lookup(&t))
            .unwrap_or("01");
        let person_key = if id_type == "01" {
            match IdNumber::parse_on(&number, today) {
                Ok(id) => id.id18().to_string(),
                Err(_) => return Ok(Err(unknown(&masking::id_number(&number)))),
            }
        } else {
            format!("{id_type}:{number}")
        };
        let key = (person_key, year);
        if !people.contains_key(&key) {
            let found = crate::db::records::find_person(conn, &key.0, key.1)?;
            let in_scope = match found {
                Some(r) => placements::record_in_scope(conn, &caller.scope, r.id)?
                    .map(|(r, p)| (r, p.holder_org_id)),
                None => None,
            };
            people.insert(key.clone(), in_scope);
        }
        Ok(people
            .get(&key)
            .cloned()
            .flatten()
            .ok_or_else(|| unknown(&masking::id_number(&number))))
    }

    /// The follow-up of one record held in the caller's jurisdiction; a view of personal data,
    /// so an audit event.
    pub fn timeline(&self, caller: &Caller, record_id: i64) -> Result<Timeline, DistError> {
        let mut conn = self.dist.db.conn()?;
        self.read_timeline(&mut conn, caller, record_id, true)
    }

    /// The follow-up shown on the record's page, for a record `Distribution::record` has just
    /// found in the caller's scope and whose `record.viewed` event already records the view;
    /// on the connection the record was read on.
    pub fn timeline_beside_record(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        record_id: i64,
    ) -> Result<Timeline, DistError> {
        self.read_timeline(conn, caller, record_id, false)
    }

    fn read_timeline(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        record_id: i64,
        audited: bool,
    ) -> Result<Timeline, DistError> {
        caller.require(Permission::ReadRecords)?;
        let tree = self.dist.tree()?;
        // Beside the record's page the record was found in the caller's scope a moment ago.
        if audited {
            placements::record_in_scope(conn, &caller.scope, record_id)?
                .ok_or(DistError::NotFound)?;
        }
        let rows = store::events_of(conn, record_id)?;
        let milestones = store::milestones_of(conn, record_id)?;
        let masked = caller.sees_masked();
        if audited {
            self.dist.db.read_log().record(
                conn,
                &caller.actor,
                "record.followup_viewed",
                &format!("record:{record_id}"),
                Some(&json!({ "events": rows.len(), "masked": masked })),
            )?;
        }
        let bodies: Vec<_> = rows.iter().filter_map(|r| Some((r, r.body()?))).collect();
        let dated: Vec<DatedEvent<'_>> = bodies
            .iter()
            .map(|(r, b)| DatedEvent {
                on: r.occurred_on,
                seq: r.id,
                body: b,
            })
            .collect();
        let mut profile = rules::current_profile(&dated);
        let current_state = rules::state_history(&dated).pop().map(|s| CurrentState {
            name: self.name(FollowupTable::EmploymentState, &s.state),
            code: s.state,
            since: s.from,
        });
        if masked {
            profile.phone = profile.phone.as_deref().map(masking::phone);
        }
        let events = rows
            .into_iter()
            .map(|mut e| {
                if masked {
                    e.phone = e.phone.as_deref().map(masking::phone);
                }
                let kind = EventKind::parse(&e.kind);
                let table = kind.and_then(table_of);
                EventView {
                    kind_label: kind.map(|k| k.label_zh().to_string()).unwrap_or_default(),
                    code_name: table.zip(e.code.as_deref()).map(|(t, c)| self.name(t, c)),
                    amount_yuan: e.amount_fen.map(rules::yuan),
                    recorded_by: tree
                        .get(e.org_id)
                        .map(|o| o.name.clone())
                        .unwrap_or_default(),
                    event: e,
                }
            })
            .collect();
        Ok(Timeline {
            record_id,
            current_state,
            profile,
            milestones: milestones
                .into_iter()
                .map(|(name, reached_on)| MilestoneView {
                    label: self.milestone_label(&name),
                    name,
                    reached_on,
                })
                .collect(),
            events,
            masked,
        })
    }

    fn name(&self, table: FollowupTable, code: &str) -> String {
        self.codes.name_of(table, code).unwrap_or(code).to_string()
    }

    /// The Chinese label of a milestone name (`service:03` → `首次职业介绍/岗位推荐`).
    pub fn milestone_label(&self, name: &str) -> String {
        if let Some(code) = name.strip_prefix("service:") {
            return format!("首次{}", self.name(FollowupTable::ServiceType, code));
        }
        if let Some(code) = name.strip_prefix("policy:") {
            return format!("首次享受{}", self.name(FollowupTable::PolicyType, code));
        }
        match name {
            rules::CONTACTED => "首次联系上".into(),
            rules::S1131 => "1131 服务达标".into(),
            rules::S1131_IN_TIME => "1131 服务半年内达标".into(),
            other => other.into(),
        }
    }
}

/// The follow-up code tables in force: the built-in ones, each replaced by the file of the same
/// name in `dir` when there is one (`followup_codes_dir`).
pub fn load_codes(dir: &str) -> anyhow::Result<FollowupCodes> {
    let mut codes = FollowupCodes::builtin();
    if dir.is_empty() {
        return Ok(codes);
    }
    for table in FollowupTable::ALL {
        let path = std::path::Path::new(dir).join(table.file_name());
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| {
            anyhow::anyhow!(
                "无法读取代码表 {0} / cannot read code table {0}: {e}",
                path.display()
            )
        })?;
        codes = codes
            .replace(table, &text, &path.display().to_string())
            .map_err(|e| {
                anyhow::anyhow!(
                    "代码表 {0} 无效 / code table {0} is not valid: {e}",
                    path.display()
                )
            })?;
        tracing::info!(table = table.file_name(), path = %path.display(), "follow-up code table replaced");
    }
    Ok(codes)
}

/// The code table of an event kind's `code`.
pub fn table_of(kind: EventKind) -> Option<FollowupTable> {
    match kind {
        EventKind::Contact => Some(FollowupTable::ContactChannel),
        EventKind::Service => Some(FollowupTable::ServiceType),
        EventKind::Policy => Some(FollowupTable::PolicyType),
        EventKind::State => Some(FollowupTable::EmploymentState),
        EventKind::Update => None,
    }
}

fn parse_year(s: &str) -> Option<i32> {
    let s = s.strip_suffix(".0").unwrap_or(s);
    let s = s
        .strip_suffix('届')
        .or_else(|| s.strip_suffix('年'))
        .unwrap_or(s);
    let y: i32 = s.trim().parse().ok()?;
    (2000..=2100).contains(&y).then_some(y)
}

/// What an event says, hashed: a retry under the same client key must say the same.
fn content_hash(e: &NewEvent) -> String {
    let text = json!([
        e.record_id,
        e.kind,
        e.occurred_on.to_string(),
        e.code,
        e.reached,
        e.amount_fen,
        e.organisation,
        e.employer,
        e.post,
        e.note,
        e.address,
        e.phone,
        e.occupation,
        e.region
    ])
    .to_string();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes the accepted events, rebuilds what derives from them and audits each; returns the ids.
fn store_ready(
    conn: &mut AnyConnection,
    caller: &Caller,
    ready: &[Ready],
) -> Result<Vec<i64>, DistError> {
    let mut ids = Vec::with_capacity(ready.len());
    for r in ready {
        let id = store::insert(conn, &r.event)?;
        audit::record(
            conn,
            &caller.actor,
            "followup.recorded",
            &format!("record:{}", r.record_id),
            None,
            Some(&json!({
                "event_id": id, "kind": r.event.kind, "date": r.event.occurred_on.to_string(),
                "code": r.event.code, "channel": r.event.channel,
            })),
        )?;
        ids.push(id);
    }
    let mut done: BTreeSet<i64> = BTreeSet::new();
    for r in ready {
        if done.insert(r.record_id) {
            store::rebuild_derived(conn, r.record_id, r.copies)?;
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_in_the_codes_folder_replaces_the_built_in_one() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join("policy_type.csv"),
            "code,name,synonyms\n01,求职创业补贴,\n08,稳岗补贴,稳就业补贴\n",
        )
        .expect("write");
        let codes = load_codes(&dir.path().display().to_string()).expect("loads");
        assert_eq!(
            codes.lookup(FollowupTable::PolicyType, "稳就业补贴"),
            Some("08")
        );
        assert_eq!(codes.lookup(FollowupTable::PolicyType, "02"), None);
        assert_eq!(
            codes.lookup(FollowupTable::ServiceType, "02"),
            Some("02"),
            "others built in"
        );
        assert!(codes
            .edition(FollowupTable::PolicyType)
            .contains("policy_type.csv sha256:"));
        std::fs::write(dir.path().join("service_type.csv"), "code,name\n").expect("write");
        let err = load_codes(&dir.path().display().to_string()).expect_err("an empty table");
        assert!(err.to_string().contains("service_type.csv"), "{err}");
        assert!(load_codes("").is_ok());
    }
}
