//! `gradhub outbox list`: the mail outbox for the operator — pending, sent and failed messages
//! with their recipients (staff e-mail addresses: the listing is an audit event).

use super::{open_db, Failure};
use crate::config::Config;
use crate::db::outbox::{self, OutboxRow, State};
use chrono::NaiveDateTime;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum OutboxAction {
    /// Messages, newest first: id, state, recipient, subject, attempts, next try, last error.
    List {
        /// pending | sent | failed (default: all)
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// One message as listed.
#[derive(serde::Serialize)]
struct Listed<'a> {
    id: i64,
    state: State,
    to: &'a str,
    subject: &'a str,
    attempts: i32,
    /// UTC; only for a pending message.
    next_attempt_at: Option<NaiveDateTime>,
    sent_at: Option<NaiveDateTime>,
    failed_at: Option<NaiveDateTime>,
    last_error: Option<&'a str>,
}

impl<'a> Listed<'a> {
    fn of(m: &'a OutboxRow) -> Listed<'a> {
        let state = m.state();
        Listed {
            id: m.id,
            state,
            to: &m.to_addr,
            subject: &m.subject,
            attempts: m.attempts,
            next_attempt_at: (state == State::Pending).then_some(m.next_attempt_at),
            sent_at: m.sent_at,
            failed_at: m.failed_at,
            last_error: m.last_error.as_deref(),
        }
    }
}

pub fn outbox(config: Config, action: OutboxAction) -> Result<(), Failure> {
    let OutboxAction::List { state, limit, json } = action;
    let state = match state.as_deref() {
        None => None,
        Some(s) => Some(State::parse(s.trim()).ok_or_else(|| {
            Failure::Refused(format!(
                "状态无效：“{s}”（应为 pending、sent 或 failed）/ invalid state {s:?}: pending, sent or failed"
            ))
        })?),
    };
    if !(1..=100_000).contains(&limit) {
        return Err(Failure::Refused(
            "--limit 应为 1 到 100000 / --limit must be 1 to 100000".into(),
        ));
    }
    let db = open_db(&config)?;
    let mut conn = db.conn()?;
    let rows = outbox::list(&mut conn, state, limit)?;
    // The recipients are staff's personal data: who listed them is on record.
    crate::db::audit::record(
        &mut conn,
        &crate::access::operator(),
        "outbox.listed",
        "outbox",
        None,
        Some(&serde_json::json!({
            "state": state.map(State::as_str),
            "messages": rows.len(),
        })),
    )?;
    let listed: Vec<Listed> = rows.iter().map(Listed::of).collect();
    if json {
        say!("{}", serde_json::to_string_pretty(&listed)?);
        return Ok(());
    }
    say!("编号 id\t状态 state\t收件人 to\t主题 subject\t尝试 attempts\t下次尝试 next try (UTC)\t最后错误 last error");
    for m in &listed {
        say!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            m.id,
            m.state.as_str(),
            m.to,
            m.subject,
            m.attempts,
            m.next_attempt_at.map_or("-".to_string(), |t| t
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()),
            // One line per message, whatever the server said.
            m.last_error
                .map_or("-".to_string(), |e| e.replace(['\r', '\n'], " ")),
        );
    }
    eprintln!("共 {} 条 / {} messages", listed.len(), listed.len());
    Ok(())
}
