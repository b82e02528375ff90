//! Registration of one graduate a county or grassroots office found itself (LD/T 6009-2024 §4.2
//! 其他渠道: at registration, 报到 or 档案托管 — `walk_in` — or by a household visit — `visit`):
//! the transfer file's own rules judge the values, the router says where the person's household
//! registration routes, and the record is stored as a one-row batch placed directly at the
//! office, in one transaction with its hop and audit event. One person, one record: a person
//! already stored is updated where the office may do so, or refused without saying where.

use crate::authz::{Caller, OrgTree, Permission};
use crate::db::batches::{self, BatchCounts, BatchRow, NewBatch, ProblemRow};
use crate::db::packages::{self as store, PlacementRow, PlacementState};
use crate::db::records::{self, RecordRow};
use crate::db::{self, audit, bulk, AnyConnection, DbError};
use crate::distribution::{Distribution, RecordId};
use crate::domain::catalogue::ErrorCode;
use crate::domain::graduate::{self, Column, GraduateRecord, Problem, RawRow, Severity};
use crate::domain::organisation::OrgLevel;
use crate::domain::routing::{Route, RouteMethod, Router};
use crate::ingest::{self, china_today, Channel};
use chrono::{NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The line a registration's values stand on in its one-row batch (and its problem lines).
const LINE: u64 = 1;

/// The channels an office registers through; education files and self-applications come
/// other ways.
pub const CHANNELS: [Channel; 2] = [Channel::WalkIn, Channel::Visit];

/// What a registration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationOutcome {
    /// A person not stored before: a new record held by the office.
    Registered,
    /// The person was held in the office's jurisdiction: a new version of that record, its
    /// placement unchanged.
    Updated,
    /// The person waited above the office, in no package: a new version, now held by the office.
    Taken,
    /// The same values from the same office and channel were registered before: nothing stored
    /// again, the record of that registration answered.
    Duplicate,
}

/// One problem of the values, as the reject report of a file would show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub code: ErrorCode,
    /// The column key (`id_number`).
    pub column: String,
    /// The column's Chinese header (`证件号码`).
    pub column_zh: String,
    /// `reject` (nothing stored) or `warning` (stored; the value dropped or kept as sent).
    pub severity: String,
    pub message: String,
    pub message_en: String,
}

impl From<&Problem> for FieldProblem {
    fn from(p: &Problem) -> FieldProblem {
        FieldProblem {
            code: p.code,
            column: p.column.key().to_string(),
            column_zh: p.column.header_zh().to_string(),
            severity: severity_word(p.severity).to_string(),
            message: p.message.clone(),
            message_en: p.message_en.clone(),
        }
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Reject => "reject",
        Severity::Warning => "warning",
    }
}

/// Where the household registration routes: for information, the record stays at the office.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RouteView {
    pub province: Option<String>,
    pub prefecture: Option<String>,
    pub county: Option<String>,
    #[schema(value_type = String)]
    pub method: RouteMethod,
    /// 路由方式 as exports name it.
    pub method_zh: String,
    pub note: Option<String>,
    pub division_edition: String,
}

impl RouteView {
    fn of(route: &Route, edition: &str) -> RouteView {
        RouteView {
            province: route.province.map(|c| c.to_string()),
            prefecture: route.prefecture.map(|c| c.to_string()),
            county: route.county.map(|c| c.to_string()),
            method: route.method,
            method_zh: route.method.label_zh().to_string(),
            note: route.note.clone(),
            division_edition: edition.to_string(),
        }
    }
}

/// The answer of a registration.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Registered {
    #[schema(value_type = i64)]
    pub record_id: RecordId,
    /// The person (ID number and graduation year) was stored before this registration.
    pub matched: bool,
    pub outcome: RegistrationOutcome,
    pub channel: Channel,
    /// The one-row batch that stored it (`GET /api/v1/batches/{id}`).
    pub batch_id: i64,
    pub route: RouteView,
    /// Problems that did not stop the registration (`HUKOU_MISSING`, `PHONE_FORMAT`, …).
    pub warnings: Vec<FieldProblem>,
}

/// Why a registration stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// The role or the organisation may not register.
    #[error("{en}")]
    Forbidden { zh: String, en: String },
    /// Not `walk_in` or `visit`.
    #[error("channel {0:?} is not walk_in or visit")]
    Channel(String),
    /// A field that is no transfer-file column, or one given twice.
    #[error("{en}")]
    Fields { zh: String, en: String },
    /// The values fail the transfer-file rules: every problem, rejects and warnings.
    #[error("the values fail the transfer-file rules")]
    Invalid(Vec<Problem>),
    /// The person is held outside the office's reach (another jurisdiction, or in a package).
    #[error("already registered by another organisation for this year")]
    Elsewhere,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RegistrationError {
    fn from(e: diesel::result::Error) -> Self {
        RegistrationError::Db(DbError::Query(e))
    }
}

impl RegistrationError {
    /// The catalogue code the refusal is answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            RegistrationError::Forbidden { .. } => ErrorCode::Forbidden,
            RegistrationError::Channel(_) => ErrorCode::ChannelInvalid,
            RegistrationError::Fields { .. } => ErrorCode::BodyInvalid,
            RegistrationError::Invalid(_) => ErrorCode::RegistrationInvalid,
            RegistrationError::Elsewhere => ErrorCode::RegisteredElsewhere,
            RegistrationError::Db(_) => ErrorCode::Internal,
        }
    }

    /// The message in Chinese and in English (the problems of `Invalid` are listed apart).
    pub fn messages(&self) -> (String, String) {
        match self {
            RegistrationError::Forbidden { zh, en } => (zh.clone(), en.clone()),
            RegistrationError::Fields { zh, en } => (
                format!("{zh}未保存任何内容。"),
                format!("{en} Nothing was stored."),
            ),
            RegistrationError::Channel(given) => (
                format!("来源渠道无效：“{given}”（登记应为 walk_in 或 visit）。"),
                format!("Invalid channel {given:?}: a registration is walk_in or visit."),
            ),
            RegistrationError::Invalid(problems) => {
                let rejects = problems
                    .iter()
                    .filter(|p| p.severity == Severity::Reject)
                    .count();
                (
                    format!("登记信息有 {rejects} 处不符合移交文件的校验规则，未保存任何内容。"),
                    format!("{rejects} value(s) fail the transfer-file rules; nothing was stored."),
                )
            }
            // Nothing about where, by whom or since when: that is another office's business.
            RegistrationError::Elsewhere => (
                "该毕业生本年度已由其他机构登记，未保存任何内容。".to_string(),
                "Already registered by another organisation for this year; nothing was stored."
                    .to_string(),
            ),
            RegistrationError::Db(e) => (format!("存储错误：{e}"), format!("storage: {e}")),
        }
    }

    /// Every problem of the values (empty for the other refusals).
    pub fn problems(&self) -> Vec<FieldProblem> {
        match self {
            RegistrationError::Invalid(problems) => problems.iter().map(Into::into).collect(),
            _ => Vec::new(),
        }
    }
}

/// Whether the caller may register at all: a role that distributes, at a county or grassroots
/// office (the offices that serve graduates in person; LD/T 6009-2024 §4.2).
pub fn may_register(caller: &Caller) -> Result<(), RegistrationError> {
    if !caller.may(Permission::Distribute) {
        return Err(RegistrationError::Forbidden {
            zh: format!(
                "角色 {} 无权登记毕业生；登记由区县或基层服务机构的工作人员或系统办理。",
                caller.role.as_str()
            ),
            en: format!(
                "The {} role may not register graduates; staff or systems of a county or grassroots office do.",
                caller.role.as_str()
            ),
        });
    }
    if !matches!(caller.org_level, OrgLevel::County | OrgLevel::Grassroots) {
        return Err(RegistrationError::Forbidden {
            zh: format!(
                "只有区县或基层服务机构可以登记毕业生，本机构是{}机构。",
                caller.org_level.label_zh()
            ),
            en: format!(
                "Only a county or grassroots office may register graduates, not a {} organisation.",
                caller.org_level.as_str()
            ),
        });
    }
    Ok(())
}

/// The values as the transfer file's row: each key a column key (`name`, `id_number`, …), an
/// empty value an empty cell. Unknown and repeated keys are refused, not ignored: a mistyped
/// key would otherwise drop its value without a word.
pub fn raw_row(fields: &[(String, String)]) -> Result<RawRow, RegistrationError> {
    let mut row = RawRow::new(LINE);
    let mut seen = [false; 19];
    let mut unknown = Vec::new();
    for (key, value) in fields {
        let Some(column) = Column::ALL.into_iter().find(|c| c.key() == key.trim()) else {
            unknown.push(key.chars().take(50).collect::<String>());
            continue;
        };
        if std::mem::replace(&mut seen[column.index()], true) {
            return Err(RegistrationError::Fields {
                zh: format!("字段 {} 出现了两次。", column.key()),
                en: format!("The field {} is given twice.", column.key()),
            });
        }
        if !value.trim().is_empty() {
            row.set(column, value.clone());
        }
    }
    if !unknown.is_empty() {
        let keys: Vec<&str> = Column::ALL.iter().map(|c| c.key()).collect();
        return Err(RegistrationError::Fields {
            zh: format!(
                "未知字段：{}。字段应为移交文件的列名：{}。",
                unknown.join("、"),
                keys.join("、")
            ),
            en: format!(
                "Unknown field(s): {}. Fields are the transfer-file column keys: {}.",
                unknown.join(", "),
                keys.join(", ")
            ),
        });
    }
    Ok(row)
}

/// The values of a JSON object as text, as a file's cells are: a number as written, null as an
/// empty cell; anything else is refused (a list or an object has no cell to go in).
pub fn fields_of_json(
    record: serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<(String, String)>, RegistrationError> {
    use serde_json::Value;
    let mut fields = Vec::with_capacity(record.len());
    for (key, value) in record {
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Null => String::new(),
            Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
                let key: String = key.chars().take(50).collect();
                return Err(RegistrationError::Fields {
                    zh: format!("字段 {key} 应为文本或数字。"),
                    en: format!("The field {key} must be text or a number."),
                });
            }
        };
        fields.push((key, text));
    }
    Ok(fields)
}

/// How the person already stored stands toward the office.
enum Standing {
    /// Not stored: a new record.
    New,
    /// Stored by a batch the hub has not placed yet: it would be placed at the hub, above every
    /// office, so the office takes it (the placer then finds it placed and leaves it).
    Unplaced,
    /// Held in the office's jurisdiction: a new version, the placement unchanged.
    Held(PlacementRow),
    /// Waiting above the office, in no package: the office takes it.
    Above(PlacementRow),
}

/// Where the person stands, or `Elsewhere`: held in another jurisdiction, pending in a package
/// (awaiting 签收 somewhere above), or settled at an office above.
fn standing(
    tree: &OrgTree,
    caller: &Caller,
    existing: Option<&RecordRow>,
    placement: Option<PlacementRow>,
) -> Result<Standing, RegistrationError> {
    if existing.is_none() {
        return Ok(Standing::New);
    }
    let Some(p) = placement else {
        return Ok(Standing::Unplaced);
    };
    if caller.scope.contains(p.holder_org_id) {
        return Ok(Standing::Held(p));
    }
    let waiting = matches!(p.state, PlacementState::Queued | PlacementState::Unassigned)
        && p.package_id.is_none();
    if waiting && tree.is_within(caller.org_id, p.holder_org_id) {
        return Ok(Standing::Above(p));
    }
    Err(RegistrationError::Elsewhere)
}

/// The batch key of a registration: the normalised values (so spacing and full-width forms do
/// not make a different registration), the office and the channel. Tagged, so it can never
/// equal the SHA-256 of a file's bytes, which share the column.
fn fingerprint(org_code: &str, channel: Channel, record: &GraduateRecord) -> String {
    let mut h = Sha256::new();
    h.update(b"gradhub registration v1\n");
    h.update(org_code.as_bytes());
    h.update(b"\n");
    h.update(channel.as_str().as_bytes());
    h.update(b"\n");
    h.update(serde_json::to_vec(record).unwrap_or_default());
    hex::encode(h.finalize())
}

/// Registers one graduate for `caller`'s office. `fields` are the values keyed by the
/// transfer-file column keys. Nothing is stored on any error.
pub fn register(
    dist: &Distribution,
    router: &Router,
    caller: &Caller,
    channel: Channel,
    fields: &[(String, String)],
) -> Result<Registered, RegistrationError> {
    may_register(caller)?;
    if !CHANNELS.contains(&channel) {
        return Err(RegistrationError::Channel(channel.as_str().to_string()));
    }
    let row = raw_row(fields)?;
    let validated = graduate::validate(&row, china_today());
    let Some(record) = validated.record else {
        return Err(RegistrationError::Invalid(validated.problems));
    };
    let warnings = validated.problems;
    let route = router.route(
        record.hukou_code.as_deref(),
        record.hukou_address.as_deref(),
        record.id18(),
    );
    let edition = router.table().edition().to_string();
    let tree = dist.tree()?;
    let work = Work {
        caller,
        tree: &tree,
        channel,
        sha256: fingerprint(&caller.org_code, channel, &record),
        record,
        route,
        edition,
        warnings,
    };
    let mut conn = dist.db.conn()?;
    // A simultaneous writer may place the same person between our look and our write (another
    // office's registration, the placer): the placement's key refuses ours, and a second pass
    // judges the person as it now stands.
    match work.attempt(&mut conn) {
        Err(RegistrationError::Db(DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )))) => work.attempt(&mut conn),
        other => other,
    }
}

/// One registration, validated and routed, on its way to storage.
struct Work<'a> {
    caller: &'a Caller,
    tree: &'a OrgTree,
    channel: Channel,
    sha256: String,
    record: GraduateRecord,
    route: Route,
    edition: String,
    warnings: Vec<Problem>,
}

impl Work<'_> {
    fn answer(
        &self,
        record_id: i64,
        matched: bool,
        outcome: RegistrationOutcome,
        batch_id: i64,
    ) -> Registered {
        Registered {
            record_id: RecordId(record_id),
            matched,
            outcome,
            channel: self.channel,
            batch_id,
            route: RouteView::of(&self.route, &self.edition),
            warnings: self.warnings.iter().map(Into::into).collect(),
        }
    }

    fn attempt(&self, conn: &mut AnyConnection) -> Result<Registered, RegistrationError> {
        if let Some(earlier) = batches::find_by_sha(conn, &self.sha256)? {
            return self.duplicate(conn, &earlier);
        }
        let stored = db::write_transaction(conn, |conn| self.store(conn))?;
        match stored {
            Some(answer) => Ok(answer),
            // The same registration committed first by a simultaneous request.
            None => {
                let earlier = batches::find_by_sha(conn, &self.sha256)?
                    .ok_or(DbError::Query(diesel::result::Error::NotFound))?;
                self.duplicate(conn, &earlier)
            }
        }
    }

    /// The record of an identical earlier registration, while the office still holds it.
    fn duplicate(
        &self,
        conn: &mut AnyConnection,
        earlier: &BatchRow,
    ) -> Result<Registered, RegistrationError> {
        let year = self.record.graduation_year();
        let row = records::find_person(conn, &self.record.person_key, year)?
            .ok_or(RegistrationError::Elsewhere)?;
        let held = store::placement_of(conn, row.id)?
            .is_some_and(|p| self.caller.scope.contains(p.holder_org_id));
        if !held {
            return Err(RegistrationError::Elsewhere);
        }
        Ok(self.answer(
            row.id,
            earlier.updated > 0,
            RegistrationOutcome::Duplicate,
            earlier.id,
        ))
    }

    /// Inside the write transaction: `None` when the batch key was taken meanwhile.
    fn store(&self, conn: &mut AnyConnection) -> Result<Option<Registered>, RegistrationError> {
        let caller = self.caller;
        let now = Utc::now().naive_utc();
        let file_name = format!("登记 {}", caller.actor.name);
        let Some(batch_id) = batches::open(conn, &self.new_batch(&file_name, now))? else {
            return Ok(None);
        };
        let year = self.record.graduation_year();
        let existing = records::find_person(conn, &self.record.person_key, year)?;
        let placement = match &existing {
            Some(r) => store::placement_of(conn, r.id)?,
            None => None,
        };
        let standing = standing(self.tree, caller, existing.as_ref(), placement)?;

        // The new version goes through the batch writer, as a re-sent file's row does: the
        // person's record is updated in place and its earlier version kept in record_history.
        let mut writer = bulk::BatchWriter::begin(conn)?;
        let stored = ingest::stored_record(
            self.record.clone(),
            self.route.clone(),
            &self.edition,
            &caller.org_code,
            self.channel.as_str(),
            batch_id,
            LINE,
        );
        writer.write(conn, &[stored], now)?;
        let row = records::find_person(conn, &self.record.person_key, year)?
            .ok_or(DbError::Query(diesel::result::Error::NotFound))?;

        let actor = caller.actor.name.as_str();
        let (outcome, before, placed) = match &standing {
            Standing::New | Standing::Unplaced => {
                store::place_registered(conn, row.id, caller.org_id, None, actor, now)?;
                let outcome = if matches!(standing, Standing::New) {
                    RegistrationOutcome::Registered
                } else {
                    RegistrationOutcome::Taken
                };
                (outcome, None, 1)
            }
            Standing::Held(p) => (RegistrationOutcome::Updated, Some(placement_state(p)), 0),
            Standing::Above(p) => {
                if !store::place_registered(conn, row.id, caller.org_id, Some(p), actor, now)? {
                    // Cut into a package since it was read: no longer the office's to take.
                    return Err(RegistrationError::Elsewhere);
                }
                (RegistrationOutcome::Taken, Some(placement_state(p)), 1)
            }
        };
        // The placement's copies of the record follow its new version, whatever the outcome.
        store::copy_record_attributes(conn, &format!("r.id = {}", row.id))?;
        let matched = existing.is_some();

        let problems: Vec<ProblemRow> = self
            .warnings
            .iter()
            .map(|p| ProblemRow {
                batch_id,
                line: LINE as i64,
                column_key: p.column.key().to_string(),
                value: p.value.clone(),
                code: p.code.to_string(),
                message: p.message.clone(),
                message_en: p.message_en.clone(),
                severity: severity_word(p.severity).to_string(),
            })
            .collect();
        batches::insert_problems(conn, &problems)?;
        let routed = json!(std::collections::BTreeMap::from([(
            self.route.method.as_str(),
            1
        )]))
        .to_string();
        batches::finish(
            conn,
            batch_id,
            &BatchCounts {
                rows_read: 1,
                accepted: i64::from(!matched),
                updated: i64::from(matched),
                rejected: 0,
                warnings: problems.len() as i64,
                // Nothing waits at the hub: the office holds the record whatever its route.
                quarantined: 0,
                routed: &routed,
                unknown_columns: "[]",
                finished_at: now,
            },
        )?;
        // Placed in this transaction, so the placer never places the batch at the hub.
        store::mark_batch_placed(conn, batch_id, now)?;
        store::set_batch_placed_records(conn, batch_id, placed)?;

        let after = store::placement_of(conn, row.id)?;
        audit::record(
            conn,
            &caller.actor,
            "record.registered",
            &format!("record:{}", row.id),
            before.as_ref(),
            Some(&json!({
                "outcome": outcome,
                "channel": self.channel,
                "batch_id": batch_id,
                "version": row.version,
                "holder_org_id": after.as_ref().map(|p| p.holder_org_id),
                "state": after.as_ref().map(|p| p.state),
            })),
        )?;
        Ok(Some(self.answer(row.id, matched, outcome, batch_id)))
    }

    fn new_batch<'b>(&'b self, file_name: &'b str, now: NaiveDateTime) -> NewBatch<'b> {
        NewBatch {
            source: &self.caller.org_code,
            channel: self.channel.as_str(),
            file_name,
            sha256: &self.sha256,
            format: "json",
            encoding: "UTF-8",
            rows_read: 0,
            accepted: 0,
            updated: 0,
            rejected: 0,
            warnings: 0,
            quarantined: 0,
            routed: "{}",
            unknown_columns: "[]",
            division_edition: &self.edition,
            started_at: now,
            finished_at: now,
        }
    }
}

/// Where a record stood, for the audit event (no personal values).
fn placement_state(p: &PlacementRow) -> serde_json::Value {
    json!({ "holder_org_id": p.holder_org_id, "state": p.state, "package_id": p.package_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_the_column_keys_and_nothing_else() {
        let row = raw_row(&[
            ("name".into(), "张三".into()),
            ("phone".into(), "  ".into()),
        ])
        .expect("row");
        assert_eq!(row.get(Column::Name), Some("张三"));
        assert_eq!(
            row.get(Column::Phone),
            None,
            "an empty value is an empty cell"
        );
        let unknown = raw_row(&[("idnumber".into(), "1".into())]).expect_err("unknown");
        assert!(
            matches!(unknown, RegistrationError::Fields { ref en, .. } if en.contains("idnumber"))
        );
        let twice = raw_row(&[("name".into(), "a".into()), ("name".into(), "b".into())]);
        assert!(matches!(twice, Err(RegistrationError::Fields { .. })));
    }

    #[test]
    fn the_refusal_of_another_office_names_nothing() {
        let (zh, en) = RegistrationError::Elsewhere.messages();
        assert!(!zh.chars().any(|c| c.is_ascii_digit()) && !en.chars().any(|c| c.is_ascii_digit()));
        assert_eq!(RegistrationError::Elsewhere.code().http_status(), Some(409));
    }
}
