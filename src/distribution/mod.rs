//! Distribution: placing routed records at the hub, cutting packages down the tree, the
//! acknowledge / return / assign state machine with its audit events, deadlines in working days,
//! and the acknowledgement figures. Every operation takes the [`Caller`] and stays in its scope.

pub mod figures;
pub mod ids;
pub mod reads;
pub mod refreshed;
pub mod reminders;

pub use ids::{PackageId, RecordId};

use crate::authz::Actor;
use crate::authz::Caller;
use crate::authz::{OrgTree, Permission};
use crate::config::Config;
use crate::db::audit;
use crate::db::packages::{
    self as store, NewPackage, PackageRow, PackageState, PlacementState, Selection,
};
use crate::db::{self, orgs, AnyConnection, Db, DbError};
use crate::domain::calendar::{Calendar, CalendarCoverage};
use crate::domain::catalogue::ErrorCode;
use crate::domain::organisation::OrgLevel;
use chrono::{NaiveDate, Utc};
use refreshed::Refreshed;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How long the in-memory organisation tree is trusted before it is read again (another node or
/// an operator's command may have added an organisation).
const TREE_TTL: Duration = Duration::from_secs(30);

/// Reasons a receiver may give when returning a record (LD/T 6009-2024 §4.2: 非本辖区户籍,
/// 信息有误, 重复).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReturnReason {
    /// 非本辖区户籍
    NotOurJurisdiction,
    /// 信息有误
    WrongInformation,
    /// 重复
    Duplicate,
}

impl ReturnReason {
    pub fn label(self) -> &'static str {
        match self {
            ReturnReason::NotOurJurisdiction => "非本辖区户籍",
            ReturnReason::WrongInformation => "信息有误",
            ReturnReason::Duplicate => "重复",
        }
    }
}

/// One record a receiver sends back.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct ReturnItem {
    #[schema(value_type = i64)]
    pub record_id: RecordId,
    pub reason: ReturnReason,
    /// Free text the sender will read.
    #[serde(default)]
    pub note: Option<String>,
}

/// Why a distribution request failed.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// Not in the caller's scope, or does not exist: the same answer, so nothing leaks.
    #[error("not found")]
    NotFound,
    #[error("{en}")]
    Forbidden { zh: String, en: String },
    #[error("{en}")]
    Invalid {
        code: ErrorCode,
        zh: String,
        en: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    /// A download could not be written.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
}

/// A permission the caller's role lacks: forbidden, with the table's words for what it may not do.
impl From<crate::authz::Denied> for DistError {
    fn from(d: crate::authz::Denied) -> Self {
        DistError::forbidden(d.message_zh(), d.message_en())
    }
}

impl From<diesel::result::Error> for DistError {
    fn from(e: diesel::result::Error) -> Self {
        DistError::Db(DbError::Query(e))
    }
}

impl DistError {
    fn invalid(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> DistError {
        DistError::Invalid {
            code,
            zh: zh.into(),
            en: en.into(),
        }
    }

    fn forbidden(zh: impl Into<String>, en: impl Into<String>) -> DistError {
        DistError::Forbidden {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Which holders the background job cuts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoCut {
    Ministry,
    All,
    None,
}

impl AutoCut {
    pub fn parse(s: &str) -> AutoCut {
        match s {
            "all" => AutoCut::All,
            "none" => AutoCut::None,
            _ => AutoCut::Ministry,
        }
    }
}

/// The distribution service: storage, the organisation tree, the calendar and the deadlines.
pub struct Distribution {
    pub db: Db,
    pub ack_days: u32,
    pub escalation_days: u32,
    pub hub_url: String,
    tree: Refreshed<OrgTree>,
    /// The working-day calendar as stored, re-read like the tree (an operator may import a year).
    calendar: Refreshed<Calendar>,
    /// The Beijing day the operator was last warned of a missing calendar year (once a day).
    calendar_warned_on: std::sync::Mutex<Option<NaiveDate>>,
}

/// The two deadlines of a package and whether they are provisional (暂定): counted over a year
/// whose holiday schedule is not loaded, weekends only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadlines {
    pub deadline: NaiveDate,
    pub escalation_deadline: NaiveDate,
    pub provisional: bool,
}

impl Distribution {
    pub fn new(db: Db, config: &Config) -> Result<Distribution, DbError> {
        let tree = load_tree(&db)?;
        let calendar = db::calendar::load(&mut *db.conn()?)?;
        Ok(Distribution {
            db,
            ack_days: config.ack_deadline_days,
            escalation_days: config
                .escalation_deadline_days
                .max(config.ack_deadline_days),
            hub_url: config.hub_url.clone(),
            tree: Refreshed::new(tree, TREE_TTL),
            calendar: Refreshed::new(calendar, TREE_TTL),
            calendar_warned_on: std::sync::Mutex::new(None),
        })
    }

    /// The working-day calendar, re-read from the database when older than 30 seconds. A
    /// failed read keeps the one in hand (and says so): deadlines never stop for it.
    pub fn calendar(&self) -> Arc<Calendar> {
        if let Some(calendar) = self.calendar.fresh() {
            return calendar;
        }
        let fresh = self
            .db
            .conn()
            .and_then(|mut conn| db::calendar::load(&mut conn));
        match fresh {
            Ok(calendar) => self.calendar.store(calendar),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the working-day calendar; using the one in hand");
                self.calendar.keep()
            }
        }
    }

    /// Whether the calendar covers `today`'s year and, from 1 November, the next: what the log,
    /// and later the metrics and the dashboard, warn about.
    pub fn calendar_coverage(&self, today: NaiveDate) -> CalendarCoverage {
        self.calendar().coverage(today)
    }

    /// Logs the calendar warning, at most once per Beijing day (the worker calls this each pass).
    /// Returns the warning when one was logged.
    pub fn warn_calendar_coverage(&self, today: NaiveDate) -> Option<String> {
        let mut warned = self
            .calendar_warned_on
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if *warned == Some(today) {
            return None;
        }
        *warned = Some(today);
        let coverage = self.calendar_coverage(today);
        let warning = coverage.warning(today)?;
        tracing::warn!(
            covered_until_year = ?coverage.covered_until_year,
            next_year_missing = coverage.next_year_missing,
            current_year_missing = coverage.current_year_missing,
            "{warning}"
        );
        Some(warning)
    }

    /// The organisation tree, re-read when older than a few seconds.
    pub fn tree(&self) -> Result<Arc<OrgTree>, DbError> {
        match self.tree.fresh() {
            Some(tree) => Ok(tree),
            None => self.refresh_tree(),
        }
    }

    /// Reads the tree again now (after this process added an organisation).
    pub fn refresh_tree(&self) -> Result<Arc<OrgTree>, DbError> {
        Ok(self.tree.store(load_tree(&self.db)?))
    }

    /// The tree, read again first if it lacks organisation `code` (added by another process
    /// since it was read).
    pub fn tree_knowing(&self, code: &str) -> Result<Arc<OrgTree>, DbError> {
        let tree = self.tree()?;
        if tree.by_code(code).is_some() {
            return Ok(tree);
        }
        self.refresh_tree()
    }

    /// The two deadlines of a package delivered on `day`.
    pub fn deadlines(&self, day: NaiveDate) -> Deadlines {
        self.deadlines_by(&self.calendar(), day)
    }

    fn deadlines_by(&self, calendar: &Calendar, day: NaiveDate) -> Deadlines {
        let escalation_deadline = calendar.add_working_days(day, self.escalation_days);
        Deadlines {
            deadline: calendar.add_working_days(day, self.ack_days),
            escalation_deadline,
            // The escalation deadline is the later one: if its span is covered, both are.
            provisional: !calendar.covers_span(day, escalation_deadline),
        }
    }

    /// Counts again, with the calendar as stored now (after `gradhub calendar import`), the
    /// deadlines of open packages that were provisional. A package already reminded keeps its
    /// deadlines: its receiver was told them. Each change is an audit event; returns the ids.
    pub fn recount_provisional_deadlines(&self, actor: &Actor) -> Result<Vec<i64>, DistError> {
        let calendar = db::calendar::load(&mut *self.db.conn()?)?;
        let mut conn = self.db.conn()?;
        db::write_transaction(&mut conn, |conn| -> Result<Vec<i64>, DistError> {
            let mut changed = Vec::new();
            for p in store::open_provisional(conn)? {
                let d = self.deadlines_by(&calendar, p.delivered_on);
                if (d.deadline, d.escalation_deadline, d.provisional)
                    == (p.deadline, p.escalation_deadline, p.deadline_provisional)
                {
                    continue;
                }
                store::set_deadlines(conn, p.id, d.deadline, d.escalation_deadline, d.provisional)?;
                audit::record(
                    conn,
                    actor,
                    "package.deadline_recounted",
                    &format!("package:{}", p.id),
                    Some(&json!({
                        "deadline": p.deadline, "escalation_deadline": p.escalation_deadline,
                        "deadline_provisional": p.deadline_provisional,
                    })),
                    Some(&json!({
                        "deadline": d.deadline, "escalation_deadline": d.escalation_deadline,
                        "deadline_provisional": d.provisional,
                    })),
                )?;
                changed.push(p.id);
            }
            Ok(changed)
        })
    }

    /// Places the records of every batch not placed yet at the hub. Returns records placed.
    pub fn place_new(&self) -> Result<usize, DistError> {
        Ok(self.place_batches(None)?.0)
    }

    /// Places the records of every batch not placed yet and delivers them at once into one
    /// package per organisation below the hub, as of `day`: the ministry's cut made in the same
    /// step (the background job does this when auto-cut covers the ministry). Records the cut
    /// would not send on stay queued at the hub for [`Distribution::cut_auto`]. Returns records
    /// placed and packages delivered.
    pub fn place_and_deliver(&self, day: NaiveDate) -> Result<(usize, Vec<PackageRow>), DistError> {
        self.place_batches(Some(day))
    }

    fn place_batches(
        &self,
        deliver_on: Option<NaiveDate>,
    ) -> Result<(usize, Vec<PackageRow>), DistError> {
        let tree = self.tree()?;
        let Some(root) = tree.root() else {
            return Ok((0, Vec::new()));
        };
        let mut conn = self.db.conn()?;
        let (mut total, mut delivered) = (0, Vec::new());
        for batch in store::unplaced_batches(&mut conn)? {
            let (n, packages) = db::write_transaction(&mut conn, |conn| {
                self.place_one(conn, &tree, root.id, batch, deliver_on)
            })?;
            total += n;
            delivered.extend(packages);
        }
        Ok((total, delivered))
    }

    /// Places one batch inside the caller's transaction (see [`Distribution::place_and_deliver`]).
    fn place_one(
        &self,
        conn: &mut AnyConnection,
        tree: &OrgTree,
        root: i64,
        batch: i64,
        deliver_on: Option<NaiveDate>,
    ) -> Result<(usize, Vec<PackageRow>), DistError> {
        let now = Utc::now().naive_utc();
        if !store::mark_batch_placed(conn, batch, now)? {
            return Ok((0, Vec::new()));
        }
        let (placer, cutter) = (Actor::job("placer"), Actor::job("cutter"));
        // One package per organisation below the hub that the batch's targets lie under.
        let mut opened = Vec::new();
        let mut map = Vec::new();
        if let Some(day) = deliver_on {
            store::lock_org(conn, root)?;
            let mut by_child: std::collections::BTreeMap<i64, (Vec<i64>, i64)> = Default::default();
            for (target, n) in store::unplaced_targets(conn, batch)? {
                if let Some(child) = target.and_then(|t| tree.next_hop(root, t)) {
                    let entry = by_child.entry(child).or_default();
                    entry.0.extend(target);
                    entry.1 += n;
                }
            }
            for (child, (targets, n)) in by_child {
                let (package_id, deadlines) = self.open_package(conn, root, child, &cutter, day)?;
                map.extend(targets.into_iter().map(|target| store::Delivery {
                    target,
                    package_id,
                    receiver: child,
                }));
                opened.push((package_id, child, n, deadlines));
            }
        }
        let actors = (placer.name.as_str(), cutter.name.as_str());
        let n = store::place_batch(conn, batch, root, &map, actors, now)?;
        audit::record(
            conn,
            &placer,
            "batch.placed",
            &format!("batch:{batch}"),
            None,
            Some(&json!({ "records": n })),
        )?;
        let mut delivered = Vec::new();
        for (id, child, records, deadlines) in opened {
            delivered
                .push(self.close_package(conn, id, root, child, records, &deadlines, &cutter)?);
        }
        Ok((n, delivered))
    }

    /// Cuts the caller's waiting records into one package per organisation below it (or only for
    /// `only_to`), delivered at once. Records whose target is the caller itself wait unassigned.
    pub fn cut(
        &self,
        caller: &Caller,
        only_to: Option<&str>,
        day: NaiveDate,
    ) -> Result<Vec<PackageRow>, DistError> {
        require_distributor(caller)?;
        let tree = self.tree()?;
        let only_to = match only_to {
            Some(code) => Some(self.child_of(&tree, caller, code)?),
            None => None,
        };
        let mut conn = self.db.conn()?;
        self.cut_for(&mut conn, &tree, caller.org_id, &caller.actor, only_to, day)
    }

    /// Cuts for every holder the auto-cut setting covers (the background job).
    pub fn cut_auto(&self, mode: AutoCut, day: NaiveDate) -> Result<Vec<PackageRow>, DistError> {
        let tree = self.tree()?;
        let Some(root) = tree.root() else {
            return Ok(Vec::new());
        };
        let mut conn = self.db.conn()?;
        let holders = match mode {
            AutoCut::None => return Ok(Vec::new()),
            AutoCut::Ministry => vec![root.id],
            AutoCut::All => store::holders_with_queued(&mut conn)?,
        };
        let actor = Actor::job("cutter");
        let mut out = Vec::new();
        for h in holders {
            out.extend(self.cut_for(&mut conn, &tree, h, &actor, None, day)?);
        }
        Ok(out)
    }

    fn cut_for(
        &self,
        conn: &mut AnyConnection,
        tree: &OrgTree,
        holder: i64,
        actor: &Actor,
        only_to: Option<i64>,
        day: NaiveDate,
    ) -> Result<Vec<PackageRow>, DistError> {
        db::write_transaction(conn, |conn| {
            store::lock_org(conn, holder)?;
            let now = Utc::now().naive_utc();
            let mut by_child: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
            let mut stuck = Vec::new();
            for (target, _) in store::queued_targets(conn, holder)? {
                match tree.next_hop(holder, target) {
                    Some(child) => by_child.entry(child).or_default().push(target),
                    None => stuck.push(target),
                }
            }
            if only_to.is_none() && !stuck.is_empty() {
                store::hold_unassigned(
                    conn,
                    holder,
                    &stuck,
                    "路由只到本级，需人工分配到下级 / routed only to this level: choose the level below",
                    now,
                )?;
            }
            let mut made = Vec::new();
            for (child, targets) in by_child {
                if only_to.is_some_and(|o| o != child) {
                    continue;
                }
                let id = self.deliver(
                    conn,
                    holder,
                    child,
                    Selection::Targets(&targets),
                    actor,
                    day,
                )?;
                if let Some(p) = id {
                    made.push(p);
                }
            }
            Ok(made)
        })
    }

    /// Creates one package from `holder` to `child` with the selected records; `None` when the
    /// selection is empty. Runs inside the caller's transaction.
    fn deliver(
        &self,
        conn: &mut AnyConnection,
        holder: i64,
        child: i64,
        selection: Selection<'_>,
        actor: &Actor,
        day: NaiveDate,
    ) -> Result<Option<PackageRow>, DistError> {
        let now = Utc::now().naive_utc();
        let (id, deadlines) = self.open_package(conn, holder, child, actor, day)?;
        let n = store::fill_package(conn, holder, child, id, selection, &actor.name, now)?;
        if n == 0 {
            // Nothing matched: drop the empty package and its inbox number, so the receiver's
            // numbering stays without gaps.
            store::delete_package(conn, id)?;
            diesel::RunQueryDsl::execute(
                diesel::sql_query("UPDATE orgs SET inbox_seq = inbox_seq - 1 WHERE id = $1")
                    .bind::<diesel::sql_types::BigInt, _>(child),
                conn,
            )?;
            return Ok(None);
        }
        let row = self.close_package(conn, id, holder, child, n as i64, &deadlines, actor)?;
        Ok(Some(row))
    }

    /// A new, still empty package from `holder` to `child` delivered on `day`, with the next
    /// number of the receiver's inbox and the deadlines `day` gives.
    fn open_package(
        &self,
        conn: &mut AnyConnection,
        holder: i64,
        child: i64,
        actor: &Actor,
        day: NaiveDate,
    ) -> Result<(i64, Deadlines), DistError> {
        let deadlines = self.deadlines(day);
        let seq = orgs::next_inbox_seq(conn, child)?;
        let id = store::insert_package(
            conn,
            &NewPackage {
                sender_org_id: holder,
                receiver_org_id: child,
                receiver_seq: seq,
                state: PackageState::Delivered,
                records: 0,
                returned: 0,
                delivered_at: Utc::now().naive_utc(),
                delivered_on: day,
                deadline: deadlines.deadline,
                escalation_deadline: deadlines.escalation_deadline,
                deadline_provisional: deadlines.provisional,
                created_by: &actor.name,
            },
        )?;
        Ok((id, deadlines))
    }

    /// Records how many records the opened package `id` holds and audits its delivery.
    #[allow(clippy::too_many_arguments)]
    fn close_package(
        &self,
        conn: &mut AnyConnection,
        id: i64,
        holder: i64,
        child: i64,
        records: i64,
        deadlines: &Deadlines,
        actor: &Actor,
    ) -> Result<PackageRow, DistError> {
        store::set_package_records(conn, id, records)?;
        let row = store::get(conn, id)?.ok_or(DistError::NotFound)?;
        audit::record(
            conn,
            actor,
            "package.delivered",
            &format!("package:{id}"),
            None,
            Some(&json!({
                "sender_org_id": holder, "receiver_org_id": child, "records": records,
                "deadline": deadlines.deadline, "escalation_deadline": deadlines.escalation_deadline,
                "deadline_provisional": deadlines.provisional,
            })),
        )?;
        Ok(row)
    }

    /// Sends chosen records the caller holds to one organisation directly below it, as one
    /// package (a provincial system redistributing to its prefectures).
    pub fn push(
        &self,
        caller: &Caller,
        receiver_code: &str,
        record_ids: &[RecordId],
        day: NaiveDate,
    ) -> Result<Option<PackageRow>, DistError> {
        require_distributor(caller)?;
        let record_ids = &ids::raw(record_ids);
        check_ids(record_ids)?;
        let tree = self.tree()?;
        let child = self.child_of(&tree, caller, receiver_code)?;
        let mut conn = self.db.conn()?;
        db::write_transaction(&mut conn, |conn| {
            store::lock_org(conn, caller.org_id)?;
            let now = Utc::now().naive_utc();
            let held = store::held_targets(conn, caller.org_id, record_ids)?;
            if held.len() != record_ids.len() {
                return Err(not_held(record_ids.len() - held.len(), "分发", "sent"));
            }
            // A record whose target does not lie below the receiver now targets the receiver.
            let retarget: Vec<i64> = held
                .iter()
                .filter(|(_, target)| !tree.is_within(*target, child))
                .map(|(id, _)| *id)
                .collect();
            store::retarget(conn, &retarget, child, now)?;
            self.deliver(
                conn,
                caller.org_id,
                child,
                Selection::Records(record_ids),
                &caller.actor,
                day,
            )
        })
    }

    /// Acknowledges (签收) a package received by the caller's organisation, returning the listed
    /// records first. Acknowledging again is harmless and changes nothing.
    pub fn acknowledge(
        &self,
        caller: &Caller,
        package_id: PackageId,
        returns: &[ReturnItem],
    ) -> Result<PackageRow, DistError> {
        require_distributor(caller)?;
        let package_id = package_id.0;
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        db::write_transaction(&mut conn, |conn| {
            let package = self.own_received(conn, caller, package_id)?;
            if package.state == PackageState::Acknowledged {
                if returns.is_empty() {
                    return Ok(package);
                }
                return Err(already_acknowledged(package_id));
            }
            let now = Utc::now().naive_utc();
            self.apply_returns(conn, caller, &package, returns, now)?;
            let level = tree.get(package.receiver_org_id).map(|n| n.level);
            let final_level = matches!(level, Some(OrgLevel::County | OrgLevel::Grassroots));
            store::acknowledge(conn, &package, final_level, &caller.actor.name, now)?;
            let after = store::get(conn, package_id)?.ok_or(DistError::NotFound)?;
            audit::record(
                conn,
                &caller.actor,
                "package.acknowledged",
                &format!("package:{package_id}"),
                Some(&json!({ "state": package.state, "returned": package.returned })),
                Some(&json!({ "state": after.state, "returned": after.returned })),
            )?;
            Ok(after)
        })
    }

    /// Returns (退回) records of a package not yet acknowledged to its sender's unassigned queue.
    pub fn return_records(
        &self,
        caller: &Caller,
        package_id: PackageId,
        returns: &[ReturnItem],
    ) -> Result<PackageRow, DistError> {
        require_distributor(caller)?;
        let package_id = package_id.0;
        if returns.is_empty() {
            return Err(DistError::invalid(
                ErrorCode::NothingToReturn,
                "未列出要退回的记录",
                "no records listed to return",
            ));
        }
        let mut conn = self.db.conn()?;
        db::write_transaction(&mut conn, |conn| {
            let package = self.own_received(conn, caller, package_id)?;
            if package.state == PackageState::Acknowledged {
                return Err(already_acknowledged(package_id));
            }
            let now = Utc::now().naive_utc();
            self.apply_returns(conn, caller, &package, returns, now)?;
            store::get(conn, package_id)?.ok_or(DistError::NotFound)
        })
    }

    fn apply_returns(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        package: &PackageRow,
        returns: &[ReturnItem],
        now: chrono::NaiveDateTime,
    ) -> Result<(), DistError> {
        if returns.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = returns.iter().map(|r| r.record_id.0).collect();
        check_ids(&ids)?;
        let pending = store::pending_in_package(conn, package.id, &ids)?;
        if pending.len() != ids.len() {
            let missing: Vec<String> = ids
                .iter()
                .filter(|i| !pending.contains(i))
                .take(5)
                .map(i64::to_string)
                .collect();
            return Err(DistError::invalid(
                ErrorCode::RecordNotInPackage,
                format!(
                    "记录 {} 不在分发包 #{} 的待签收记录中，未退回任何记录",
                    missing.join("、"),
                    package.id
                ),
                format!(
                    "record(s) {} are not awaiting acknowledgement in package {}; nothing was returned",
                    missing.join(", "),
                    package.id
                ),
            ));
        }
        for r in returns {
            let reason = match r.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(note) => format!("{}：{}", r.reason.label(), truncate(note, 200)),
                None => r.reason.label().to_string(),
            };
            store::return_record(
                conn,
                package,
                r.record_id.0,
                &reason,
                &caller.actor.name,
                now,
            )?;
            audit::record(
                conn,
                &caller.actor,
                "record.returned",
                &format!("record:{}", r.record_id),
                Some(
                    &json!({ "holder_org_id": package.receiver_org_id, "package_id": package.id }),
                ),
                Some(
                    &json!({ "holder_org_id": package.sender_org_id, "state": PlacementState::Unassigned, "reason": reason }),
                ),
            )?;
        }
        store::add_returned(conn, package.id, returns.len() as i64)?;
        Ok(())
    }

    /// Assigns records waiting at the caller's organisation to an organisation below it; they
    /// are queued for the next cut.
    pub fn assign(
        &self,
        caller: &Caller,
        record_ids: &[RecordId],
        to_code: &str,
    ) -> Result<usize, DistError> {
        require_distributor(caller)?;
        let record_ids = &ids::raw(record_ids);
        check_ids(record_ids)?;
        let tree = self.tree()?;
        let target = tree
            .by_code(to_code)
            .filter(|n| n.id != caller.org_id && tree.is_within(n.id, caller.org_id))
            .filter(|n| n.level.receives())
            .ok_or_else(|| {
                DistError::invalid(
                    ErrorCode::NotBelowYou,
                    format!("机构 {to_code} 不在本机构下级，不能分配"),
                    format!("organisation {to_code} is not below yours"),
                )
            })?;
        let mut conn = self.db.conn()?;
        db::write_transaction(&mut conn, |conn| {
            let now = Utc::now().naive_utc();
            let changed = store::assign(
                conn,
                caller.org_id,
                record_ids,
                target.id,
                &caller.actor.name,
                now,
            )?;
            if changed.len() != record_ids.len() {
                return Err(not_held(
                    record_ids.len() - changed.len(),
                    "分配",
                    "assigned",
                ));
            }
            for id in &changed {
                audit::record(
                    conn,
                    &caller.actor,
                    "record.assigned",
                    &format!("record:{id}"),
                    None,
                    Some(&json!({ "target_org_id": target.id, "target": target.code })),
                )?;
            }
            Ok(changed.len())
        })
    }

    /// A package received by the caller's own organisation; one seen but not received (sent by
    /// the caller, or below it) is forbidden to act on; anything else is not found.
    fn own_received(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        package_id: i64,
    ) -> Result<PackageRow, DistError> {
        let package =
            store::get_scoped(conn, &caller.scope, package_id)?.ok_or(DistError::NotFound)?;
        if package.receiver_org_id != caller.org_id {
            return Err(DistError::forbidden(
                "只有接收机构可以签收或退回该分发包",
                "only the receiving organisation may acknowledge or return this package",
            ));
        }
        Ok(package)
    }

    fn child_of(&self, tree: &OrgTree, caller: &Caller, code: &str) -> Result<i64, DistError> {
        tree.by_code(code)
            .filter(|n| n.parent == Some(caller.org_id) && n.level.receives())
            .map(|n| n.id)
            .ok_or_else(|| {
                DistError::invalid(
                    ErrorCode::NotAChild,
                    format!("机构 {code} 不是本机构的直接下级"),
                    format!("organisation {code} is not directly below yours"),
                )
            })
    }
}

fn load_tree(db: &Db) -> Result<OrgTree, DbError> {
    let mut conn = db.conn()?;
    Ok(orgs::load_tree(&mut conn)?)
}

fn require_distributor(caller: &Caller) -> Result<(), DistError> {
    caller
        .require(Permission::Distribute)
        .map_err(DistError::from)
}

/// Lists of record ids in one request: present, and not absurdly long.
fn check_ids(ids: &[i64]) -> Result<(), DistError> {
    if ids.is_empty() || ids.len() > 100_000 {
        return Err(DistError::invalid(
            ErrorCode::RecordList,
            "记录清单为空或超过 100000 条",
            "the record list is empty or longer than 100,000",
        ));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != ids.len() {
        return Err(DistError::invalid(
            ErrorCode::RecordList,
            "记录清单中有重复的记录号",
            "the record list names a record twice",
        ));
    }
    Ok(())
}

/// Some of the listed records are not waiting at the caller's organisation: nothing was done.
fn not_held(missing: usize, done_zh: &str, done_en: &str) -> DistError {
    DistError::invalid(
        ErrorCode::RecordsNotHeld,
        format!("有 {missing} 条记录不在本机构的待处理记录中，未{done_zh}任何记录"),
        format!(
            "{missing} of the records are not waiting at your organisation; nothing was {done_en}"
        ),
    )
}

fn already_acknowledged(id: i64) -> DistError {
    DistError::invalid(
        ErrorCode::AlreadyAcknowledged,
        format!("分发包 #{id} 已签收，不能再退回记录"),
        format!("package {id} is already acknowledged; records can no longer be returned"),
    )
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
