//! The cross-region unemployment-registration service (LD/T 6009-2024 §5, 人社厅发〔2020〕79号):
//! applications from the national entry, clerks and the public, routed to the county office of
//! the chosen registration place; the download cursor of local systems; review within the
//! province's two deadlines; contact, services, the 四级三类 classification; exit with its
//! deregistration record; the public progress query. The lists are in `lists`, the monthly
//! statistics in `stats`, the deregistration files in `deregistrations`.

pub mod deregistrations;
pub mod lists;
pub mod stats;

use crate::authz::{Caller, OrgTree, Permission};
use crate::db::unemployment::{self as store, ApplicationRow, EventRow, NewApplication, NewEvent};
use crate::db::{self, audit, Db};
use crate::distribution::{DistError, Distribution};
use crate::domain::calendar::Calendar;
use crate::domain::catalogue::ErrorCode;
use crate::domain::deregistration as annex;
use crate::domain::masking;
use crate::domain::routing::Router;
use crate::domain::unemployment::{
    self as rules, Application, ApplicationInput, Level, ReviewLimits, ServiceKind, SkillType,
};
use crate::ingest::china_today;
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// How an application came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Forwarded by the ministry's national platform (全国统一服务入口), keyed by its 申请编号.
    National,
    /// Entered by a clerk at an office (现场办理).
    OnSite,
    /// The hub's public application page.
    Public,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::National => "national",
            Channel::OnSite => "on_site",
            Channel::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "national" => Some(Channel::National),
            "on_site" => Some(Channel::OnSite),
            "public" => Some(Channel::Public),
            _ => None,
        }
    }

    pub fn label_zh(s: &str) -> &'static str {
        match s {
            "national" => "全国平台",
            "on_site" => "现场办理",
            "public" => "网上申请",
            _ => "其他",
        }
    }
}

/// The states of an application.
pub fn status_label(s: &str) -> &'static str {
    match s {
        "pending" => "待审核",
        "registered" => "审核通过（已登记失业）",
        "refused" => "审核不通过",
        "exited" => "已注销失业登记",
        _ => "未知",
    }
}

/// What the service refuses with.
#[derive(Debug, thiserror::Error)]
pub enum UnemploymentError {
    #[error(transparent)]
    Dist(#[from] DistError),
    /// The form's values break its rules: every problem, nothing stored.
    #[error("the application breaks the form's rules")]
    Form(Vec<rules::FieldProblem>),
}

impl From<db::DbError> for UnemploymentError {
    fn from(e: db::DbError) -> Self {
        UnemploymentError::Dist(DistError::Db(e))
    }
}

impl From<diesel::result::Error> for UnemploymentError {
    fn from(e: diesel::result::Error) -> Self {
        UnemploymentError::Dist(e.into())
    }
}

impl From<crate::authz::Denied> for UnemploymentError {
    fn from(d: crate::authz::Denied) -> Self {
        UnemploymentError::Dist(d.into())
    }
}

pub type Result<T> = std::result::Result<T, UnemploymentError>;

fn invalid(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> UnemploymentError {
    UnemploymentError::Dist(DistError::Invalid {
        code,
        zh: zh.into(),
        en: en.into(),
    })
}

/// The service; one per process, shared by the API, the pages, the CLI and the jobs.
pub struct Unemployment {
    pub db: Db,
    pub dist: Arc<Distribution>,
    pub router: Arc<Router>,
    /// Per-province review deadlines replacing the defaults (`unemployment_review_overrides`).
    pub overrides: Vec<(String, u32, u32)>,
    pub hub_url: String,
}

/// An application as a caller sees it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationView {
    /// 申请编号.
    pub application_no: String,
    /// `national`, `on_site` or `public`.
    pub channel: String,
    /// `pending`, `registered`, `refused` or `exited`.
    pub status: String,
    pub status_label: String,
    pub name: String,
    pub sex: String,
    pub id_type: String,
    pub id_number: String,
    pub mobile: String,
    /// The registration place chosen (`hukou`, `residence`, `employment`, `insurance`).
    pub place_kind: String,
    /// The division the place was routed to, and how (`code`, `address`, …).
    pub place_code: String,
    pub route_method: String,
    /// The county (or deepest) office the application was routed to.
    pub office_code: String,
    pub office_name: String,
    #[schema(value_type = String)]
    pub received_on: NaiveDate,
    /// The province's review target (late after it) and limit (breaching the standard after it).
    #[schema(value_type = String)]
    pub review_target: NaiveDate,
    #[schema(value_type = String)]
    pub review_limit: NaiveDate,
    /// Counted over a year whose holidays are not loaded (weekends only): may move.
    pub deadlines_provisional: bool,
    /// `on_time`, `late` (past the target) or `breached` (past the limit), reviewed or not.
    pub timeliness: String,
    #[schema(value_type = Option<String>)]
    pub reviewed_on: Option<NaiveDate>,
    pub reviewer: Option<String>,
    pub refusal_reason: Option<String>,
    /// 城镇区域 (counted in the urban registered-unemployed statistics).
    pub urban: Option<bool>,
    /// 具备技能 / 缺乏技能 / 就业困难 (`skilled`, `unskilled`, `hardship`).
    pub skill_type: Option<String>,
    /// 短期 / 中短期 / 中长期 / 长期 while registered.
    pub level: Option<String>,
    /// The services still owed at the level (黑人社函〔2020〕87号 §二(三)).
    pub owed: Vec<OwedView>,
    #[schema(value_type = Option<String>)]
    pub contact_due: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub contacted_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub last_contact_on: Option<NaiveDate>,
    pub exit_reason: Option<String>,
    pub exit_reason_name: Option<String>,
    pub exit_detail: Option<String>,
    #[schema(value_type = Option<String>)]
    pub exit_on: Option<NaiveDate>,
    pub exit_clerk: Option<String>,
    pub exit_verification: Option<String>,
    /// `not_required`, `mailed` or `phone` (the office tells the person by phone or SMS).
    pub exit_notice: Option<String>,
    /// Every field of the 失业人员登记表 as normalized; absent for a masked view.
    #[schema(value_type = Option<Object>)]
    pub form: Option<serde_json::Value>,
    pub events: Vec<EventRow>,
    pub masked: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OwedView {
    pub service: String,
    pub label: String,
    pub needed: u32,
    pub given: u32,
}

/// What a submission stored.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Applied {
    pub application_no: String,
    /// `created`, or `duplicate` (the national entry sent the same application again).
    pub outcome: String,
    pub office_code: String,
    pub office_name: String,
    #[schema(value_type = String)]
    pub review_target: NaiveDate,
    #[schema(value_type = String)]
    pub review_limit: NaiveDate,
}

/// A review as an office records it.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `passed` (审核通过) or `refused` (审核不通过).
    pub result: String,
    /// Required for `refused`. Reasons forbidden by 79号 §二 are refused.
    pub reason: Option<String>,
    /// Whether the registration is in an urban area (城镇区域), for the urban registered-
    /// unemployment statistics; `false` for a rural one. Absent: counted as urban.
    pub urban: Option<bool>,
    /// 具备技能 / 缺乏技能 / 就业困难 (or `skilled`, `unskilled`, `hardship`), optional.
    pub skill_type: Option<String>,
}

/// One thing the office did for a registered person.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// `contact`, `service` or `classify`.
    pub kind: String,
    /// The day (`2026-11-30`); today when absent.
    pub date: Option<String>,
    /// contact: 电话, 短信, 微信, 上门 or 来访.
    pub channel: Option<String>,
    /// contact: whether the person was reached (default true).
    pub reached: Option<bool>,
    /// service: the service (职业介绍, 职业指导, 招聘会, 职业培训, 创业服务, 政策清单, 就业困难人员认定 …).
    pub service: Option<String>,
    /// classify: 具备技能, 缺乏技能 or 就业困难.
    pub skill_type: Option<String>,
    pub note: Option<String>,
}

/// The contact channels of 79号 §一(三) (电话、短信等) and the offices' usual ways.
pub const CONTACT_CHANNELS: [&str; 5] = ["电话", "短信", "微信", "上门", "来访"];

/// An exit as an office records it.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExitInput {
    /// AJC00A code (`11` … `90`).
    pub reason: String,
    /// For `24`: 入学, 应征服兵役 or 移居境外.
    pub detail: Option<String>,
    /// 注销失业登记时间 (`2026-11-30`); today when absent.
    pub date: Option<String>,
    /// 经办人 (no spaces, ≤ 20 characters); the caller's user name when absent.
    pub clerk: Option<String>,
    /// Required for `31` and `32` (79号 §一(四)): how the office verified it.
    pub verification_note: Option<String>,
    /// 备注 (≤ 100 characters).
    pub note: Option<String>,
    /// 社会保障号码 (AAC002) when it is not the document number: a 通行证 holder's number
    /// does not pass the annex's rules for AAC002. Default: the document number.
    pub social_security_number: Option<String>,
}

/// The answer of the public progress query: status and result only.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub status: String,
    pub status_label: String,
    /// `审核通过`, `审核不通过`, or absent while pending.
    pub result: Option<String>,
}

/// The minimum length of the verification note for exits 31 and 32: a sentence, not a tick.
const MIN_VERIFICATION_CHARS: usize = 10;

impl Unemployment {
    pub fn tree(&self) -> Result<Arc<OrgTree>> {
        Ok(self.dist.tree()?)
    }

    pub fn calendar(&self) -> Arc<Calendar> {
        self.dist.calendar()
    }

    /// The review deadlines of the province `org_id` lies in.
    pub fn limits_for(&self, tree: &OrgTree, org_id: i64) -> ReviewLimits {
        let province = tree
            .ancestors(org_id)
            .into_iter()
            .chain(std::iter::once(org_id))
            .filter_map(|id| tree.get(id))
            .find(|n| n.level == crate::domain::organisation::OrgLevel::Province)
            .and_then(|n| n.division_code.clone())
            .unwrap_or_default();
        rules::review_limits_for(&province, &self.overrides)
    }

    /// Takes one application from any channel: judged by the form's rules, routed to the office
    /// of the chosen registration place, stored with its deadlines, in one transaction.
    pub fn apply(
        &self,
        caller: Option<&Caller>,
        channel: Channel,
        application_no: Option<&str>,
        input: &ApplicationInput,
        today: NaiveDate,
    ) -> Result<Applied> {
        let actor = match caller {
            Some(c) => {
                c.require(Permission::Unemployment)?;
                c.actor.name.clone()
            }
            None => "public".to_string(),
        };
        if channel != Channel::Public && caller.is_none() {
            return Err(DistError::Forbidden {
                zh: "需要登录".into(),
                en: "sign-in required".into(),
            }
            .into());
        }
        if channel == Channel::National
            && caller
                .is_some_and(|c| c.org_level != crate::domain::organisation::OrgLevel::Ministry)
        {
            return Err(DistError::Forbidden {
                zh: "只有部级（全国平台）可以提交全国平台转来的申请（channel national）。".into(),
                en: "Only the ministry level (the national platform) may send national applications.".into(),
            }
            .into());
        }
        let form = rules::validate(input, today).map_err(UnemploymentError::Form)?;
        let given_number = match (channel, application_no.map(str::trim)) {
            (Channel::National, Some(no)) if valid_number(no) => Some(no.to_string()),
            (Channel::National, _) => {
                return Err(invalid(
                    ErrorCode::ApplicationInvalid,
                    "全国平台转来的申请必须带申请编号（application_no，1–40 位字母、数字或 -）。",
                    "An application from the national platform needs its application_no (1–40 letters, digits or -).",
                ))
            }
            (_, _) => None,
        };
        let tree = self.tree()?;
        let (office, place_code, method) = self.route(&tree, &form)?;
        let limits = self.limits_for(&tree, office);
        let calendar = self.calendar();
        let target_due = calendar.add_working_days(today, limits.target_days);
        let limit_due = calendar.add_working_days(today, limits.limit_days);
        let provisional = !calendar.covers_span(today, limit_due);
        let form_json = serde_json::to_string(&form).map_err(|e| {
            DistError::Db(db::DbError::Query(
                diesel::result::Error::SerializationError(Box::new(e)),
            ))
        })?;
        let (office_code, office_name) = tree
            .get(office)
            .map(|n| (n.code.clone(), n.name.clone()))
            .unwrap_or_default();
        let who = caller
            .map(|c| c.actor.clone())
            .unwrap_or(crate::authz::Actor {
                name: "public".into(),
                org_id: None,
            });
        // A public application does not hold the person's registration until an office passes
        // it: anyone may type anyone's ID number into a public form, and that must neither tell
        // them whether the person is registered nor block the person's own application.
        let holds_key = channel != Channel::Public;
        let attempt = |conn: &mut db::AnyConnection| -> Result<Applied> {
            db::write_transaction(conn, |conn| -> Result<Applied> {
                serialize_applications(conn)?;
                let mut number = given_number.clone().unwrap_or_else(|| new_number(today));
                while let Some(existing) = store::by_no(conn, &number)? {
                    if given_number.is_none() {
                        // A drawn number that is taken: draw again.
                        number = new_number(today);
                        continue;
                    }
                    // The national platform retries: the same application again stores nothing.
                    if existing.form == form_json && existing.channel == channel.as_str() {
                        return Ok(Applied {
                            application_no: existing.application_no,
                            outcome: "duplicate".into(),
                            office_code: office_code.clone(),
                            office_name: office_name.clone(),
                            review_target: existing.target_due,
                            review_limit: existing.limit_due,
                        });
                    }
                    return Err(invalid(
                        ErrorCode::ApplicationNoTaken,
                        format!("申请编号 {number} 已用于另一份申请，未保存。"),
                        format!("Application number {number} is taken by another application; nothing stored."),
                    ));
                }
                if holds_key && store::active_of(conn, &form.id_number)?.is_some() {
                    return Err(exists());
                }
                let now = Utc::now().naive_utc();
                let new = NewApplication {
                    application_no: number.clone(),
                    channel: channel.as_str().into(),
                    id_type: form.id_type.clone(),
                    id_number: form.id_number.clone(),
                    name: form.name.clone(),
                    sex: form.sex.clone(),
                    birth_date: form.birth_date,
                    mobile: form.mobile.clone(),
                    email: form.email.clone(),
                    form: form_json.clone(),
                    place_kind: form.registration_place.as_str().into(),
                    place_code: place_code.clone(),
                    route_method: method.clone(),
                    org_id: office,
                    received_at: now,
                    received_on: today,
                    target_due,
                    limit_due,
                    due_provisional: provisional,
                    status: "pending".into(),
                    active_key: holds_key.then(|| form.id_number.clone()),
                    actor: actor.clone(),
                };
                let id = store::insert_application(conn, &new)?;
                audit::record(
                    conn,
                    &who,
                    "unemployment.apply",
                    &format!("unemployment:{number}"),
                    None,
                    Some(
                        &json!({"id": id, "channel": channel.as_str(), "office": office_code,
                        "place": place_code, "method": method}),
                    ),
                )?;
                Ok(Applied {
                    application_no: number,
                    outcome: "created".into(),
                    office_code: office_code.clone(),
                    office_name: office_name.clone(),
                    review_target: target_due,
                    review_limit: limit_due,
                })
            })
        };
        let mut conn = self.db.conn()?;
        match attempt(&mut conn) {
            // Two at once on PostgreSQL despite the lock (another node on an older release):
            // the second is judged again as the data now stands.
            Err(e) if is_unique_violation(&e) => attempt(&mut conn),
            other => other,
        }
    }

    /// The office of the chosen registration place: its division code, or its address through
    /// the hub's resolver; the county's office, or the deepest office reached.
    fn route(&self, tree: &OrgTree, form: &Application) -> Result<(i64, String, String)> {
        let place = form.place_address();
        let route = self.router.route(
            place.code.as_deref(),
            Some(place.text.as_str()).filter(|t| !t.is_empty()),
            None,
        );
        let unroutable = || {
            invalid(
                ErrorCode::PlaceUnroutable,
                format!(
                    "无法确定登记失业地（{}）对应的公共就业服务机构：请填写该地的县级行政区划代码或完整地址。",
                    form.registration_place.label_zh()
                ),
                "The registration place cannot be routed to an office: give its county division code or a full address.",
            )
        };
        let code = route.deepest().ok_or_else(unroutable)?;
        let node = tree.by_division(&code.to_string()).ok_or_else(unroutable)?;
        Ok((node.id, code.to_string(), route.method.as_str().to_string()))
    }

    /// One application, if the caller's scope holds it (else `NotFound`, the same for one that
    /// does not exist). Reading it is audited.
    pub fn get(&self, caller: &Caller, no: &str) -> Result<ApplicationView> {
        self.get_on(caller, no, china_today())
    }

    /// One application as of `today` (its level and owed services).
    pub fn get_on(&self, caller: &Caller, no: &str, today: NaiveDate) -> Result<ApplicationView> {
        caller.require(Permission::ReadRecords)?;
        let mut conn = self.db.conn()?;
        let row = self.scoped(&mut conn, caller, no)?;
        let events = store::events_of(&mut conn, row.id)?;
        self.db.read_log().record(
            &mut conn,
            &caller.actor,
            "unemployment.read",
            &format!("unemployment:{no}"),
            None,
        )?;
        let tree = self.tree()?;
        Ok(self.view(&tree, row, events, caller.sees_masked(), today))
    }

    fn scoped(
        &self,
        conn: &mut db::AnyConnection,
        caller: &Caller,
        no: &str,
    ) -> Result<ApplicationRow> {
        match store::by_no(conn, no)? {
            Some(row) if caller.scope.contains(row.org_id) => Ok(row),
            _ => Err(DistError::NotFound.into()),
        }
    }

    /// Applications for the caller's jurisdiction after the cursor `after` (an application's
    /// `cursor`), oldest first; the download is recorded (who, when, which).
    pub fn download(&self, caller: &Caller, after: i64, limit: i64) -> Result<Download> {
        caller.require(Permission::Unemployment)?;
        let limit = limit.clamp(1, 500);
        let mut conn = self.db.conn()?;
        let rows = store::after(&mut conn, &caller.scope, after, limit)?;
        let last = rows.last().map_or(after, |r| r.id);
        let mut events = HashMap::new();
        for r in &rows {
            events.insert(r.id, store::events_of(&mut conn, r.id)?);
        }
        audit::record(
            &mut conn,
            &caller.actor,
            "unemployment.download",
            "unemployment:applications",
            None,
            Some(&json!({"after": after, "last": last, "applications": rows.len()})),
        )?;
        store::record_download(
            &mut conn,
            caller.org_id,
            &caller.actor.name,
            Utc::now().naive_utc(),
            after,
            last,
            rows.len() as i32,
        )?;
        let tree = self.tree()?;
        let today = china_today();
        let more = rows.len() as i64 == limit;
        let applications = rows
            .into_iter()
            .map(|r| {
                let cursor = r.id;
                let ev = events.remove(&r.id).unwrap_or_default();
                DownloadedApplication {
                    cursor,
                    application: self.view(&tree, r, ev, false, today),
                }
            })
            .collect();
        Ok(Download {
            applications,
            next_after: last,
            more,
        })
    }

    /// Records 审核通过 or 审核不通过 (with an allowed reason), visible at once to every level above.
    pub fn review(
        &self,
        caller: &Caller,
        no: &str,
        input: &ReviewInput,
        today: NaiveDate,
    ) -> Result<ApplicationView> {
        caller.require(Permission::Unemployment)?;
        let passed = match input.result.trim() {
            "passed" | "审核通过" | "通过" => true,
            "refused" | "审核不通过" | "不通过" => false,
            other => {
                return Err(invalid(
                    ErrorCode::ReviewInvalid,
                    format!(
                        "审核结果“{other}”无效：应为 passed（审核通过）或 refused（审核不通过）。"
                    ),
                    format!("Review result '{other}' is not valid: passed or refused."),
                ))
            }
        };
        let reason = input
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let skill = match input
            .skill_type
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(SkillType::parse(s).ok_or_else(|| {
                invalid(
                    ErrorCode::ReviewInvalid,
                    format!("人员类型“{s}”无效：应为具备技能、缺乏技能或就业困难。"),
                    format!("Type '{s}' is not valid: 具备技能, 缺乏技能 or 就业困难."),
                )
            })?),
            None => None,
        };
        if !passed {
            let Some(reason) = reason else {
                return Err(invalid(
                    ErrorCode::ReviewInvalid,
                    "审核不通过时必须填写不通过原因（LD/T 6009-2024 5.2.2）。",
                    "A refusal needs its reason (LD/T 6009-2024 §5.2.2).",
                ));
            };
            if reason.chars().count() > 200 {
                return Err(invalid(
                    ErrorCode::ReviewInvalid,
                    "不通过原因不能超过 200 字。",
                    "The reason may not exceed 200 characters.",
                ));
            }
            if let Some(forbidden) = rules::forbidden_refusal(reason) {
                return Err(invalid(
                    ErrorCode::ReviewReasonForbidden,
                    forbidden.message_zh(),
                    forbidden.message_en(),
                ));
            }
        }
        let mut conn = self.db.conn()?;
        let row = self.scoped(&mut conn, caller, no)?;
        let contact_due = passed.then(|| {
            self.calendar()
                .add_working_days(today, rules::CONTACT_WORKING_DAYS)
        });
        db::write_transaction(&mut conn, |conn| -> Result<()> {
            if passed {
                serialize_applications(conn)?;
                // A public application takes the person's registration only now.
                if store::active_of(conn, &row.id_number)?.is_some_and(|a| a.id != row.id) {
                    return Err(exists());
                }
            }
            let done = store::set_review(
                conn,
                row.id,
                &row.id_number,
                passed,
                reason,
                input.urban,
                skill.map(|s| s.as_str()),
                &caller.actor.name,
                Utc::now().naive_utc(),
                today,
                contact_due,
            )?;
            if !done {
                return Err(closed(&row.status));
            }
            audit::record(
                conn,
                &caller.actor,
                "unemployment.review",
                &format!("unemployment:{no}"),
                Some(&json!({"status": row.status})),
                Some(
                    &json!({"result": if passed { "passed" } else { "refused" }, "reason": reason,
                    "urban": input.urban, "skill_type": skill.map(|s| s.as_str())}),
                ),
            )?;
            Ok(())
        })?;
        self.get_on(caller, no, today)
    }

    /// Records a contact, a service or a classification for a registered person.
    pub fn record_event(
        &self,
        caller: &Caller,
        no: &str,
        input: &EventInput,
        today: NaiveDate,
    ) -> Result<ApplicationView> {
        caller.require(Permission::Unemployment)?;
        let bad = |zh: String, en: String| invalid(ErrorCode::UnemploymentEventInvalid, zh, en);
        let on = day_given(
            input.date.as_deref(),
            today,
            ErrorCode::UnemploymentEventInvalid,
        )?;
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 200) {
            return Err(bad(
                "说明不能超过 200 字。".into(),
                "The note may not exceed 200 characters.".into(),
            ));
        }
        let (kind, code, reached) = match input.kind.trim() {
            "contact" => {
                let channel = input.channel.as_deref().map(str::trim).unwrap_or("电话");
                if !CONTACT_CHANNELS.contains(&channel) {
                    return Err(bad(
                        format!(
                            "联系方式“{channel}”无效：应为 {}。",
                            CONTACT_CHANNELS.join("、")
                        ),
                        format!(
                            "Contact channel '{channel}' is not valid: {}.",
                            CONTACT_CHANNELS.join(", ")
                        ),
                    ));
                }
                (
                    "contact",
                    channel.to_string(),
                    Some(input.reached.unwrap_or(true)),
                )
            }
            "service" => {
                let raw = input.service.as_deref().map(str::trim).unwrap_or("");
                let kind = ServiceKind::parse(raw).ok_or_else(|| {
                    bad(
                        format!("服务项目“{raw}”无效：应为职业介绍、职业指导、招聘会、职业培训、创业服务、政策清单、就业困难人员认定、政策咨询或其他。"),
                        format!("Service '{raw}' is not one of the listed services."),
                    )
                })?;
                ("service", kind.as_str().to_string(), None)
            }
            "classify" => {
                let raw = input.skill_type.as_deref().map(str::trim).unwrap_or("");
                let skill = SkillType::parse(raw).ok_or_else(|| {
                    bad(
                        format!("人员类型“{raw}”无效：应为具备技能、缺乏技能或就业困难。"),
                        format!("Type '{raw}' is not valid: 具备技能, 缺乏技能 or 就业困难."),
                    )
                })?;
                ("classify", skill.as_str().to_string(), None)
            }
            other => {
                return Err(bad(
                    format!("记录类型“{other}”无效：应为 contact、service 或 classify。"),
                    format!("Kind '{other}' is not valid: contact, service or classify."),
                ))
            }
        };
        let mut conn = self.db.conn()?;
        let row = self.scoped(&mut conn, caller, no)?;
        if row.status != "registered" {
            return Err(closed(&row.status));
        }
        if row.reviewed_on.is_some_and(|r| on < r) {
            return Err(bad(
                "日期不能早于登记失业（审核通过）的日期。".into(),
                "The date may not be before the registration.".into(),
            ));
        }
        db::write_transaction(&mut conn, |conn| -> Result<()> {
            // Judged again inside the transaction: an exit may have come in between.
            if store::by_no(conn, no)?.is_none_or(|r| r.status != "registered") {
                return Err(closed("exited"));
            }
            store::insert_event(
                conn,
                &NewEvent {
                    application_id: row.id,
                    kind: kind.into(),
                    code: code.clone(),
                    occurred_on: on,
                    reached,
                    note: note.map(String::from),
                    org_id: caller.org_id,
                    actor: caller.actor.name.clone(),
                    recorded_at: Utc::now().naive_utc(),
                },
            )?;
            if kind == "contact" && reached == Some(true) {
                store::set_contacted(conn, row.id, on)?;
            }
            if kind == "classify" {
                store::set_skill_type(conn, row.id, &code)?;
            }
            audit::record(
                conn,
                &caller.actor,
                &format!("unemployment.{kind}"),
                &format!("unemployment:{no}"),
                None,
                Some(&json!({"code": code, "date": on.to_string(), "reached": reached})),
            )?;
            Ok(())
        })?;
        self.get_on(caller, no, today)
    }

    /// Ends a registration with an AJC00A reason: the exit, its deregistration record (checked
    /// against the 79号 annex before it is stored) and the notice to the person, in one
    /// transaction.
    pub fn exit(
        &self,
        caller: &Caller,
        no: &str,
        input: &ExitInput,
        today: NaiveDate,
    ) -> Result<ApplicationView> {
        caller.require(Permission::Unemployment)?;
        let bad = |zh: String, en: String| invalid(ErrorCode::ExitInvalid, zh, en);
        let reason = input.reason.trim();
        let Some(reason_name) = annex::exit_reason_name(reason) else {
            return Err(bad(
                format!("注销原因“{reason}”不在 AJC00A 代码表中（11、12、13、14、21、23、24、25、26、31、32、90）。"),
                format!("Exit reason '{reason}' is not in the AJC00A table."),
            ));
        };
        let detail = input
            .detail
            .as_deref()
            .map(str::trim)
            // Only reason 24 has a detail (which of 入学、应征服兵役、移居境外).
            .filter(|d| !d.is_empty() && reason == "24");
        if reason == "24" && !detail.is_some_and(|d| annex::REASON_24_DETAILS.contains(&d)) {
            return Err(bad(
                "原因 24 须注明是入学、应征服兵役还是移居境外（detail）：移居境外无需告知本人。"
                    .into(),
                "Reason 24 needs its detail: 入学, 应征服兵役 or 移居境外.".into(),
            ));
        }
        let verification = input
            .verification_note
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if verification.is_some_and(|v| v.chars().count() > 200) {
            return Err(bad(
                "核实情况不能超过 200 字。".into(),
                "The verification note may not exceed 200 characters.".into(),
            ));
        }
        if annex::needs_verification(reason)
            && verification.is_none_or(|v| v.chars().count() < MIN_VERIFICATION_CHARS)
        {
            return Err(invalid(
                ErrorCode::ExitNeedsVerification,
                format!("原因 {reason}（{reason_name}）不能作为注销失业登记的唯一依据（人社厅发〔2020〕79号 第（四）项）：须先核实并填写核实情况（verification_note，至少 {MIN_VERIFICATION_CHARS} 字）。"),
                format!("Reason {reason} may not be the sole basis for deregistration (79号 item (四)): record how it was verified (verification_note, at least {MIN_VERIFICATION_CHARS} characters)."),
            ));
        }
        let on = day_given(input.date.as_deref(), today, ErrorCode::ExitInvalid)?;
        let clerk = input
            .clerk
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .unwrap_or_else(|| clerk_of(&caller.actor.name));
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .to_string();
        let mut conn = self.db.conn()?;
        let row = self.scoped(&mut conn, caller, no)?;
        if row.status != "registered" {
            return Err(closed(&row.status));
        }
        if row.reviewed_on.is_some_and(|r| on < r) {
            return Err(bad(
                "注销日期不能早于登记失业的日期。".into(),
                "The exit date may not be before the registration.".into(),
            ));
        }
        let tree = self.tree()?;
        let area = tree
            .get(row.org_id)
            .and_then(|n| n.division_code.clone())
            .unwrap_or_default();
        let record = annex::DeregistrationRecord {
            aab301: area,
            aaz341: serial_of(row.id),
            // The annex allows no spaces in 姓名 (a Latin name's spaces are dropped).
            aac003: row.name.chars().filter(|c| !c.is_whitespace()).collect(),
            aac002: input
                .social_security_number
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_uppercase)
                .unwrap_or_else(|| row.id_number.clone()),
            aac058: row.id_type.clone(),
            aac044: row.id_number.clone(),
            adc210: on.format("%Y%m%d").to_string(),
            ajc00a: reason.to_string(),
            aae011: clerk.clone(),
            aae036: today.format("%Y%m%d").to_string(),
            aae013: note.clone(),
            aac004: None,
        };
        let breaches = annex::check(&record, today, self.router.table(), Some(&row.sex));
        if !breaches.is_empty() {
            let zh: Vec<String> = breaches
                .iter()
                .map(|b| format!("{}：{}", b.field, b.message_zh))
                .collect();
            let en: Vec<String> = breaches
                .iter()
                .map(|b| format!("{}: {}", b.field, b.message_en))
                .collect();
            return Err(bad(
                format!("注销记录不符合失业登记退出数据上报规则（人社厅发〔2020〕79号 附件），未保存：{}", zh.join("；")),
                format!("The deregistration record breaks the rules of the 79号 annex; nothing stored: {}", en.join("; ")),
            ));
        }
        let notice = if annex::notice_exempt(reason, detail) {
            "not_required"
        } else if row.email.is_some() {
            "mailed"
        } else {
            "phone"
        };
        db::write_transaction(&mut conn, |conn| -> Result<()> {
            let done = store::set_exit(
                conn,
                row.id,
                &store::ExitValues {
                    reason,
                    detail,
                    on,
                    clerk: &clerk,
                    verification,
                    note: Some(note.as_str()).filter(|n| !n.is_empty()),
                    notice,
                },
            )?;
            if !done {
                return Err(closed(&row.status));
            }
            let now = Utc::now().naive_utc();
            if !store::insert_deregistration(
                conn,
                &deregistrations::stored(&record, "hub", row.org_id, Some(row.id), now),
            )? {
                return Err(invalid(
                    ErrorCode::ExitInvalid,
                    format!(
                        "注销记录的业务标识 {}+{} 已被占用，未保存。",
                        record.aab301, record.aaz341
                    ),
                    format!(
                        "The deregistration key {}+{} is taken; nothing stored.",
                        record.aab301, record.aaz341
                    ),
                ));
            }
            if notice == "mailed" {
                if let Some(to) = row.email.as_deref() {
                    let (subject, body) = exit_notice_mail(&row, reason_name, on);
                    crate::db::outbox::enqueue(
                        conn,
                        &format!("unemployment-exit:{}", row.id),
                        to,
                        &subject,
                        &body,
                    )?;
                }
            }
            audit::record(
                conn,
                &caller.actor,
                "unemployment.exit",
                &format!("unemployment:{no}"),
                Some(&json!({"status": "registered"})),
                Some(
                    &json!({"reason": reason, "detail": detail, "date": on.to_string(),
                    "clerk": clerk, "notice": notice, "aaz341": record.aaz341}),
                ),
            )?;
            Ok(())
        })?;
        self.get_on(caller, no, today)
    }

    /// The public progress query: the status and result of the application with this number
    /// and ID number, or `None` — the same for a wrong ID number as for no such application.
    pub fn progress(&self, no: &str, id_number: &str) -> Result<Option<Progress>> {
        let mut conn = self.db.conn()?;
        let row = store::by_no(&mut conn, no.trim())?;
        let given = rules::normalize_id_number(id_number);
        Ok(row
            .filter(|r| constant_time_eq(r.id_number.as_bytes(), given.as_bytes()))
            .map(|r| Progress {
                result: match r.status.as_str() {
                    "pending" => None,
                    "refused" => Some("审核不通过".into()),
                    _ => Some("审核通过".into()),
                },
                status_label: status_label(&r.status).into(),
                status: r.status,
            }))
    }

    /// A row as a caller sees it, with its level and owed services on `today`.
    pub fn view(
        &self,
        tree: &OrgTree,
        r: ApplicationRow,
        events: Vec<EventRow>,
        masked: bool,
        today: NaiveDate,
    ) -> ApplicationView {
        let office = tree.get(r.org_id);
        let (level, owed) = if r.status == "registered" {
            let level = r.reviewed_on.map(|on| rules::level_on(on, today));
            let mut given: HashMap<ServiceKind, u32> = HashMap::new();
            for e in events.iter().filter(|e| e.kind == "service") {
                if let Some(k) = ServiceKind::parse(&e.code) {
                    *given.entry(k).or_default() += 1;
                }
            }
            let skill = r.skill_type.as_deref().and_then(SkillType::parse);
            let owed = level
                .map(|l| rules::owed(l, skill, &given))
                .unwrap_or_default()
                .into_iter()
                .map(|o| OwedView {
                    service: o.kind.as_str().into(),
                    label: o.kind.label_zh().into(),
                    needed: o.needed,
                    given: o.given,
                })
                .collect();
            (level.map(|l: Level| l.label_zh().to_string()), owed)
        } else {
            (None, Vec::new())
        };
        let timeliness = timeliness(&r, today).to_string();
        ApplicationView {
            channel: r.channel.clone(),
            status_label: status_label(&r.status).into(),
            name: r.name.clone(),
            sex: r.sex.clone(),
            id_type: r.id_type.clone(),
            id_number: if masked {
                masking::id_number(&r.id_number)
            } else {
                r.id_number.clone()
            },
            mobile: if masked {
                masking::phone(&r.mobile)
            } else {
                r.mobile.clone()
            },
            place_kind: r.place_kind.clone(),
            place_code: r.place_code.clone(),
            route_method: r.route_method.clone(),
            office_code: office.map(|n| n.code.clone()).unwrap_or_default(),
            office_name: office.map(|n| n.name.clone()).unwrap_or_default(),
            received_on: r.received_on,
            review_target: r.target_due,
            review_limit: r.limit_due,
            deadlines_provisional: r.due_provisional,
            timeliness,
            reviewed_on: r.reviewed_on,
            reviewer: r.reviewer.clone(),
            refusal_reason: r.refusal_reason.clone(),
            urban: r.urban,
            skill_type: r.skill_type.clone(),
            level,
            owed,
            contact_due: r.contact_due,
            contacted_on: r.contacted_on,
            last_contact_on: r.last_contact_on,
            exit_reason_name: r
                .exit_reason
                .as_deref()
                .and_then(annex::exit_reason_name)
                .map(String::from),
            exit_reason: r.exit_reason.clone(),
            exit_detail: r.exit_detail.clone(),
            exit_on: r.exit_on,
            exit_clerk: r.exit_clerk.clone(),
            exit_verification: r.exit_verification.clone(),
            exit_notice: r.exit_notice.clone(),
            form: if masked {
                None
            } else {
                serde_json::from_str(&r.form).ok()
            },
            events,
            masked,
            status: r.status,
            application_no: r.application_no,
        }
    }
}

/// A page of the download.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Download {
    pub applications: Vec<DownloadedApplication>,
    /// Give as `after` next time.
    pub next_after: i64,
    /// Whether more may follow at once.
    pub more: bool,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DownloadedApplication {
    pub cursor: i64,
    #[serde(flatten)]
    pub application: ApplicationView,
}

/// Whether a pending application is past its target or limit on `today`; a reviewed one by its
/// review day.
pub fn timeliness(r: &ApplicationRow, today: NaiveDate) -> &'static str {
    let day = r.reviewed_on.unwrap_or(today);
    if day > r.limit_due {
        "breached"
    } else if day > r.target_due {
        "late"
    } else {
        "on_time"
    }
}

/// On PostgreSQL, takes the applications' transaction lock: applications are stored one at a
/// time, so their ids commit in order (the download cursor never passes over one still being
/// written) and the one-person check cannot race. SQLite's write lock does the same already.
fn serialize_applications(conn: &mut db::AnyConnection) -> Result<()> {
    use diesel::RunQueryDsl;
    if let db::AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(6009520079)").execute(pg)?;
    }
    Ok(())
}

fn is_unique_violation(e: &UnemploymentError) -> bool {
    matches!(
        e,
        UnemploymentError::Dist(DistError::Db(db::DbError::Query(
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            )
        )))
    )
}

fn exists() -> UnemploymentError {
    invalid(
        ErrorCode::ApplicationExists,
        "该证件号码已有待审核或有效的失业登记（一人一登记），未保存。请先注销原登记或等待审核结果。",
        "This ID number already has a pending or current unemployment registration (one person, one registration); nothing stored.",
    )
}

fn closed(status: &str) -> UnemploymentError {
    invalid(
        ErrorCode::ApplicationClosed,
        format!(
            "该申请当前状态为“{}”，不能办理此操作。",
            status_label(status)
        ),
        format!("The application is '{status}'; this action does not apply."),
    )
}

/// The prefix of the hub's own 系统流水号; refused on records from local systems.
pub const HUB_SERIAL_PREFIX: &str = "GH";

/// The 系统流水号 (AAZ341) of the hub's own deregistration of application `id`: 18 characters.
pub fn serial_of(id: i64) -> String {
    format!("{HUB_SERIAL_PREFIX}{id:016}")
}

/// 经办人 from an actor name (`user:zhang` → `zhang`), without spaces and at most 20 characters.
fn clerk_of(actor: &str) -> String {
    // `user:zhang`, `token:7:jiangsu-sync`: the last part is the person or system.
    let name = actor.rsplit(':').next().unwrap_or(actor);
    name.chars()
        .filter(|c| !c.is_whitespace())
        .take(20)
        .collect()
}

fn valid_number(no: &str) -> bool {
    (1..=40).contains(&no.len()) && no.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A new application number: `SY`, the day, and 8 random digits (not guessable, so a number
/// alone says nothing; the progress query needs the ID number too).
fn new_number(today: NaiveDate) -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random_range(0..100_000_000);
    format!("SY{}{n:08}", today.format("%Y%m%d"))
}

/// The day an action gives (today when it gives none), refused with `code` when it is no date
/// or after today.
fn day_given(raw: Option<&str>, today: NaiveDate, code: ErrorCode) -> Result<NaiveDate> {
    let Some(d) = raw.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(today);
    };
    match parse_day(d) {
        Some(on) if on <= today => Ok(on),
        Some(_) => Err(invalid(
            code,
            "日期不能晚于今天。",
            "The date may not be after today.",
        )),
        None => Err(invalid(
            code,
            format!("日期“{d}”无效，应为 YYYY-MM-DD。"),
            format!("Date '{d}' is not valid; use YYYY-MM-DD."),
        )),
    }
}

pub fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn exit_notice_mail(row: &ApplicationRow, reason: &str, on: NaiveDate) -> (String, String) {
    (
        format!("失业登记注销告知（申请编号 {}）", row.application_no),
        format!(
            "{}：\n\n您的失业登记已于 {} 注销，原因：{}。\n如有疑问，请与登记地公共就业服务机构联系。\n\nYour unemployment registration (application {}) was ended on {} (reason: {}).\n",
            row.name, on, reason, row.application_no, on, reason
        ),
    )
}
