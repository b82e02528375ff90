//! Overdue packages: a reminder to the receiver's contacts after the first deadline, a notice to
//! the parent organisation after the second. Each is marked on the package and its mails queued
//! in the outbox in one transaction, so a pass run twice (or on two nodes) sends nothing twice.

use super::{DistError, Distribution};
use crate::authz::Actor;
use crate::db::audit;
use crate::db::packages::{self as store, PackageRow};
use crate::db::{self, orgs, outbox, AnyConnection};
use crate::notify::messages::{self, PackageNotice, ReminderOutcome};
use chrono::{NaiveDate, Utc};
use serde_json::json;

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReminderPass {
    pub reminded: usize,
    pub escalated: usize,
    pub mails_queued: usize,
}

impl Distribution {
    /// Reminds and escalates every package overdue on `today`.
    pub fn run_reminders(&self, today: NaiveDate) -> Result<ReminderPass, DistError> {
        let tree = self.tree()?;
        let calendar = self.calendar();
        let mut conn = self.db.conn()?;
        let mut pass = ReminderPass::default();
        for p in store::open_past(&mut conn, today)? {
            let receiver = tree.get(p.receiver_org_id);
            let sender = tree.get(p.sender_org_id);
            let receiver_name = receiver.map(|n| n.name.as_str()).unwrap_or("");
            let notice = PackageNotice {
                package_id: p.id,
                receiver_name,
                receiver_code: receiver.map(|n| n.code.as_str()).unwrap_or(""),
                sender_name: sender.map(|n| n.name.as_str()).unwrap_or(""),
                records: p.records - p.returned,
                delivered_on: p.delivered_on,
                deadline: p.deadline,
                deadline_provisional: p.deadline_provisional,
                working_days_overdue: calendar.working_days_between(p.deadline, today),
                hub_url: &self.hub_url,
            };
            // Whether the receiver's contacts were reminded (earlier, or just now): the
            // escalation must not claim a reminder that nobody could be sent.
            let mut reminded = p.reminded_at.is_some();
            if !reminded {
                let (subject, body) = messages::reminder(&notice);
                if self.mark_and_mail(
                    &mut conn,
                    &p,
                    Kind::Reminder,
                    p.receiver_org_id,
                    &subject,
                    &body,
                    &mut pass,
                )? {
                    pass.reminded += 1;
                    reminded = true;
                }
            }
            if p.escalated_at.is_none() && p.escalation_deadline < today {
                let parent = receiver.and_then(|n| n.parent).unwrap_or(p.sender_org_id);
                let parent_name = tree.get(parent).map(|n| n.name.as_str()).unwrap_or("");
                let reminder = if !reminded {
                    ReminderOutcome::NoContact
                } else {
                    let states =
                        outbox::states_by_key_prefix(&mut conn, &reminder_key_prefix(p.id))?;
                    if !states.is_empty() && states.iter().all(|s| *s == outbox::State::Failed) {
                        ReminderOutcome::Undeliverable
                    } else {
                        ReminderOutcome::Sent
                    }
                };
                let (subject, body) = messages::escalation(&notice, parent_name, reminder);
                if self.mark_and_mail(
                    &mut conn,
                    &p,
                    Kind::Escalation,
                    parent,
                    &subject,
                    &body,
                    &mut pass,
                )? {
                    pass.escalated += 1;
                }
            }
        }
        Ok(pass)
    }

    #[allow(clippy::too_many_arguments)]
    fn mark_and_mail(
        &self,
        conn: &mut AnyConnection,
        p: &PackageRow,
        kind: Kind,
        to_org: i64,
        subject: &str,
        body: &str,
        pass: &mut ReminderPass,
    ) -> Result<bool, DistError> {
        db::write_transaction(conn, |conn| {
            let now = Utc::now().naive_utc();
            let contacts = orgs::contacts(conn, to_org)?;
            if contacts.is_empty() {
                // Nobody to tell yet: leave the package unmarked, so that a contact added later
                // still gets the notice at the next pass.
                tracing::debug!(
                    package = p.id,
                    org = to_org,
                    "overdue, but no contact to tell"
                );
                return Ok(false);
            }
            let won = match kind {
                Kind::Reminder => store::mark_reminded(conn, p.id, now)?,
                Kind::Escalation => store::mark_escalated(conn, p.id, now)?,
            };
            if !won {
                return Ok(false);
            }
            let mut queued = 0;
            for c in &contacts {
                let key = format!("{}{}", key_prefix(kind, p.id), c.email);
                if outbox::enqueue(conn, &key, &c.email, subject, body)? {
                    queued += 1;
                }
            }
            audit::record(
                conn,
                &Actor::job("reminders"),
                &format!("package.{}", kind.as_str()),
                &format!("package:{}", p.id),
                None,
                Some(&json!({ "to_org_id": to_org, "mails": queued, "contacts": contacts.len() })),
            )?;
            pass.mails_queued += queued;
            Ok(true)
        })
    }
}

/// The start of the outbox keys of one package's mails of one kind: `reminded:40:`.
fn key_prefix(kind: Kind, package_id: i64) -> String {
    format!("{}:{package_id}:", kind.as_str())
}

fn reminder_key_prefix(package_id: i64) -> String {
    key_prefix(Kind::Reminder, package_id)
}

#[derive(Clone, Copy)]
enum Kind {
    Reminder,
    Escalation,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Reminder => "reminded",
            Kind::Escalation => "escalated",
        }
    }
}
