//! The office's work lists: applications late or past the limit, registered people not
//! contacted within 5 working days, people without a contact in the last month (定期联系), and
//! what is still owed at each person's 四级三类 level; and the e-mail escalation of late reviews.

use super::{status_label, timeliness, Result, Unemployment};
use crate::authz::Caller;
use crate::authz::Permission;
use crate::db::unemployment::{self as store, ApplicationRow};
use crate::db::{self, orgs, outbox};
use crate::domain::masking;
use crate::domain::unemployment::{self as rules, ServiceKind, SkillType};
use chrono::{Months, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// Which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// Pending applications, all of them, the oldest first.
    Pending,
    /// Past the target (late) — pending now, or reviewed after it; those past the limit too.
    Late,
    /// Past the limit (breaching the standard) — pending now, or reviewed after it.
    Breached,
    /// Registered, not contacted, past the 5 working days.
    Uncontacted,
    /// Registered, last contact (or the registration) more than a month ago.
    MonthlyContact,
    /// Registered with services still owed at their level.
    Owed,
}

impl ListKind {
    pub fn parse(s: &str) -> Option<ListKind> {
        Some(match s {
            "pending" => ListKind::Pending,
            "late" => ListKind::Late,
            "breached" => ListKind::Breached,
            "uncontacted" => ListKind::Uncontacted,
            "monthly_contact" => ListKind::MonthlyContact,
            "owed" => ListKind::Owed,
            _ => return None,
        })
    }

    pub const ALL: [ListKind; 6] = [
        ListKind::Pending,
        ListKind::Late,
        ListKind::Breached,
        ListKind::Uncontacted,
        ListKind::MonthlyContact,
        ListKind::Owed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ListKind::Pending => "pending",
            ListKind::Late => "late",
            ListKind::Breached => "breached",
            ListKind::Uncontacted => "uncontacted",
            ListKind::MonthlyContact => "monthly_contact",
            ListKind::Owed => "owed",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ListKind::Pending => "待审核",
            ListKind::Late => "超过审核目标时限",
            ListKind::Breached => "超过审核最长时限",
            ListKind::Uncontacted => "登记后 5 个工作日未联系",
            ListKind::MonthlyContact => "超过一个月未跟踪联系",
            ListKind::Owed => "分级分类服务未提供",
        }
    }
}

/// One line of a list.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ListLine {
    pub application_no: String,
    pub name: String,
    pub id_number: String,
    pub status: String,
    pub status_label: String,
    pub office_code: String,
    pub office_name: String,
    #[schema(value_type = String)]
    pub received_on: NaiveDate,
    #[schema(value_type = String)]
    pub review_target: NaiveDate,
    #[schema(value_type = String)]
    pub review_limit: NaiveDate,
    pub timeliness: String,
    /// Working days past the relevant deadline (0 when none is passed).
    pub working_days_over: i64,
    #[schema(value_type = Option<String>)]
    pub registered_on: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub contact_due: Option<NaiveDate>,
    #[schema(value_type = Option<String>)]
    pub last_contact_on: Option<NaiveDate>,
    pub level: Option<String>,
    pub skill_type: Option<String>,
    /// What is owed, in words (`岗位推荐 1/3`).
    pub owed: Vec<String>,
}

/// A list with the counts of every list (the queue's tabs).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WorkList {
    pub list: String,
    pub label: String,
    pub counts: Vec<(String, usize)>,
    pub lines: Vec<ListLine>,
    pub masked: bool,
}

impl Unemployment {
    /// The list `kind` of the caller's jurisdiction on `today`, with every list's count.
    pub fn work_list(&self, caller: &Caller, kind: ListKind, today: NaiveDate) -> Result<WorkList> {
        caller.require(Permission::ReadRecords)?;
        let mut conn = self.db.conn()?;
        let rows = store::in_scope(&mut conn, &caller.scope, &[])?;
        let registered: Vec<i64> = rows
            .iter()
            .filter(|r| r.status == "registered")
            .map(|r| r.id)
            .collect();
        let mut services: HashMap<i64, HashMap<ServiceKind, u32>> = HashMap::new();
        for (id, code) in store::services_of(&mut conn, &registered)? {
            if let Some(k) = ServiceKind::parse(&code) {
                *services.entry(id).or_default().entry(k).or_default() += 1;
            }
        }
        let tree = self.tree()?;
        let calendar = self.calendar();
        let masked = caller.sees_masked();
        let mut counts: HashMap<ListKind, usize> = HashMap::new();
        let mut lines = Vec::new();
        for r in &rows {
            let owed = owed_of(r, services.get(&r.id), today);
            for k in ListKind::ALL {
                if belongs(r, k, today, &owed) {
                    *counts.entry(k).or_default() += 1;
                    if k == kind {
                        let over_from = match k {
                            ListKind::Late => Some(r.target_due),
                            ListKind::Breached => Some(r.limit_due),
                            ListKind::Uncontacted => r.contact_due,
                            _ => None,
                        };
                        // Late by the review day once reviewed, by today while pending.
                        let until = r
                            .reviewed_on
                            .filter(|_| k != ListKind::Uncontacted)
                            .unwrap_or(today);
                        let office = tree.get(r.org_id);
                        lines.push(ListLine {
                            application_no: r.application_no.clone(),
                            name: r.name.clone(),
                            id_number: if masked {
                                masking::id_number(&r.id_number)
                            } else {
                                r.id_number.clone()
                            },
                            status: r.status.clone(),
                            status_label: status_label(&r.status).into(),
                            office_code: office.map(|n| n.code.clone()).unwrap_or_default(),
                            office_name: office.map(|n| n.name.clone()).unwrap_or_default(),
                            received_on: r.received_on,
                            review_target: r.target_due,
                            review_limit: r.limit_due,
                            timeliness: timeliness(r, today).into(),
                            working_days_over: over_from
                                .map_or(0, |d| calendar.working_days_between(d, until).max(0)),
                            registered_on: r.reviewed_on,
                            contact_due: r.contact_due,
                            last_contact_on: r.last_contact_on,
                            level: r
                                .reviewed_on
                                .filter(|_| r.status == "registered")
                                .map(|on| rules::level_on(on, today).label_zh().to_string()),
                            skill_type: r.skill_type.clone(),
                            owed: owed
                                .iter()
                                .map(|o| format!("{} {}/{}", o.kind.label_zh(), o.given, o.needed))
                                .collect(),
                        });
                    }
                }
            }
        }
        Ok(WorkList {
            list: kind.as_str().into(),
            label: kind.label_zh().into(),
            counts: ListKind::ALL
                .iter()
                .map(|k| (k.as_str().to_string(), counts.get(k).copied().unwrap_or(0)))
                .collect(),
            lines,
            masked,
        })
    }

    /// Counts again, with the calendar as stored now (after `gradhub calendar import`), the
    /// deadlines of pending applications that were provisional. One whose office was already
    /// mailed keeps its deadlines: the office was told them. Returns how many changed.
    pub fn recount_provisional(&self, actor: &crate::authz::Actor) -> Result<usize> {
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        let calendar = crate::db::calendar::load(&mut conn)?;
        let rows = store::in_scope(&mut conn, &crate::authz::Scope::All, &["pending"])?;
        let mut changed = 0;
        for r in rows
            .iter()
            .filter(|r| r.due_provisional && r.late_mailed_at.is_none())
        {
            let limits = self.limits_for(&tree, r.org_id);
            let target = calendar.add_working_days(r.received_on, limits.target_days);
            let limit = calendar.add_working_days(r.received_on, limits.limit_days);
            let provisional = !calendar.covers_span(r.received_on, limit);
            if (target, limit, provisional) == (r.target_due, r.limit_due, r.due_provisional) {
                continue;
            }
            db::write_transaction(&mut conn, |conn| -> Result<()> {
                if store::set_deadlines(conn, r.id, target, limit, provisional)? {
                    crate::db::audit::record(
                        conn,
                        actor,
                        "unemployment.deadlines_recounted",
                        &format!("unemployment:{}", r.application_no),
                        Some(
                            &serde_json::json!({"target": r.target_due.to_string(), "limit": r.limit_due.to_string()}),
                        ),
                        Some(
                            &serde_json::json!({"target": target.to_string(), "limit": limit.to_string(), "provisional": provisional}),
                        ),
                    )?;
                    changed += 1;
                }
                Ok(())
            })?;
        }
        Ok(changed)
    }

    /// Mails the office's contacts about each application past its review target, and the
    /// parent office's about each past its limit, once each (marked in the same transaction).
    pub fn run_reminders(&self, today: NaiveDate) -> Result<(usize, usize)> {
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        let rows = store::due_for_mail(&mut conn, today)?;
        let (mut late, mut breached) = (0, 0);
        for r in rows {
            for breach in [false, true] {
                let (due, done) = if breach {
                    (r.limit_due, r.breach_mailed_at.is_some())
                } else {
                    (r.target_due, r.late_mailed_at.is_some())
                };
                if done || today <= due {
                    continue;
                }
                let office = tree.get(r.org_id);
                let to_org = if breach {
                    office.and_then(|n| n.parent).unwrap_or(r.org_id)
                } else {
                    r.org_id
                };
                let office_name = office.map(|n| n.name.as_str()).unwrap_or("");
                let queued = db::write_transaction(&mut conn, |conn| -> Result<bool> {
                    let contacts = orgs::contacts(conn, to_org)?;
                    if contacts.is_empty() {
                        return Ok(false);
                    }
                    if !store::mark_mailed(conn, r.id, breach, Utc::now().naive_utc())? {
                        return Ok(false);
                    }
                    let (subject, body) = review_mail(&r, office_name, breach, &self.hub_url);
                    for c in contacts {
                        outbox::enqueue(
                            conn,
                            &format!(
                                "unemployment-{}:{}:{}",
                                if breach { "breach" } else { "late" },
                                r.id,
                                c.email
                            ),
                            &c.email,
                            &subject,
                            &body,
                        )?;
                    }
                    Ok(true)
                })?;
                if queued {
                    if breach {
                        breached += 1;
                    } else {
                        late += 1;
                    }
                }
            }
        }
        Ok((late, breached))
    }
}

fn owed_of(
    r: &ApplicationRow,
    given: Option<&HashMap<ServiceKind, u32>>,
    today: NaiveDate,
) -> Vec<rules::Owed> {
    match (r.status.as_str(), r.reviewed_on) {
        ("registered", Some(on)) => {
            let empty = HashMap::new();
            rules::owed(
                rules::level_on(on, today),
                r.skill_type.as_deref().and_then(SkillType::parse),
                given.unwrap_or(&empty),
            )
        }
        _ => Vec::new(),
    }
}

fn belongs(r: &ApplicationRow, k: ListKind, today: NaiveDate, owed: &[rules::Owed]) -> bool {
    let pending = r.status == "pending";
    let registered = r.status == "registered";
    match k {
        ListKind::Pending => pending,
        ListKind::Late => matches!(timeliness(r, today), "late" | "breached"),
        ListKind::Breached => timeliness(r, today) == "breached",
        ListKind::Uncontacted => {
            registered && r.contacted_on.is_none() && r.contact_due.is_some_and(|d| today > d)
        }
        ListKind::MonthlyContact => {
            registered
                && r.last_contact_on
                    .or(r.reviewed_on)
                    .and_then(|d| d.checked_add_months(Months::new(1)))
                    .is_some_and(|due| today > due)
        }
        ListKind::Owed => registered && !owed.is_empty(),
    }
}

fn review_mail(r: &ApplicationRow, office: &str, breach: bool, hub_url: &str) -> (String, String) {
    let (what_zh, due) = if breach {
        ("已超过审核最长时限", r.limit_due)
    } else {
        ("已超过审核目标时限", r.target_due)
    };
    (
        format!("失业登记申请{what_zh}：{} {}", office, r.application_no),
        format!(
            "{office}：\n\n失业登记申请 {} 于 {} 收到，{}（{}）仍未审核。请尽快办结。\n\n{}/unemployment/applications/{}\n\nUnemployment-registration application {} received {} is past its review {} ({}) and not yet reviewed.\n",
            r.application_no,
            r.received_on,
            what_zh,
            due,
            hub_url.trim_end_matches('/'),
            r.application_no,
            r.application_no,
            r.received_on,
            if breach { "limit" } else { "target" },
            due,
        ),
    )
}
