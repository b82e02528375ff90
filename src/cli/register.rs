//! `gradhub register`: the operator registers one graduate for a county or grassroots office,
//! acting as that office, through the same service as `POST /api/v1/registrations`.

use super::{load_router, open_db, Failure};
use crate::access;
use crate::authz::Caller;
use crate::config::Config;
use crate::distribution::Distribution;
use crate::domain::organisation::{OrgLevel, Role};
use crate::ingest::Channel;
use crate::registration::{self, Registered, RegistrationError, RegistrationOutcome};
use std::path::Path;

pub fn register(
    config: Config,
    org: &str,
    channel: &str,
    fields: &[String],
    record: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let channel = Channel::parse(channel)
        .filter(|c| registration::CHANNELS.contains(c))
        .ok_or_else(|| {
            Failure::Refused(format!(
                "来源渠道无效：“{channel}”（登记应为 walk_in 或 visit）/ invalid channel: a registration is walk_in or visit"
            ))
        })?;
    let mut values = match record {
        Some(path) => read_record(path)?,
        None => Vec::new(),
    };
    for field in fields {
        let (key, value) = field.split_once('=').ok_or_else(|| {
            Failure::Refused(format!(
                "--field 应写成 列名=值，如 name=张三 / --field takes KEY=VALUE: {field}"
            ))
        })?;
        values.push((key.trim().to_string(), value.to_string()));
    }
    if values.is_empty() {
        return Err(Failure::Refused(
            "没有给出任何登记信息 / no values: give --field KEY=VALUE or --record FILE".into(),
        ));
    }
    let db = open_db(&config)?;
    let router = load_router(&db)?;
    let dist = Distribution::new(db, &config)?;
    let tree = dist.tree_knowing(org)?;
    let node = tree
        .by_code(org)
        .ok_or_else(|| Failure::Refused(format!("机构 {org} 不存在 / no organisation {org}")))?;
    // The operator acts as the office's staff: the role of its level, its jurisdiction, and the
    // `cli:<user>` actor in the audit event.
    let mut actor = access::operator();
    actor.org_id = Some(node.id);
    let caller = Caller {
        actor,
        role: staff_role(node.level),
        org_id: node.id,
        org_code: node.code.clone(),
        org_level: node.level,
        scope: tree.scope_of(node.id),
    };
    match registration::register(&dist, &router, &caller, channel, &values) {
        Ok(answer) => print_answer(&answer, json),
        Err(RegistrationError::Db(e)) => Err(e.into()),
        Err(refused) => {
            let (zh, en) = refused.messages();
            let problems = refused.problems();
            if json {
                say!(
                    "{}",
                    serde_json::json!({
                        "refused": true, "code": refused.code(), "message": zh,
                        "message_en": en, "problems": problems,
                    })
                );
            }
            let mut text = format!(
                "登记未保存 / registration not stored\n{zh}（{}）\n{en}",
                refused.code()
            );
            for p in &problems {
                text.push_str(&format!(
                    "\n  {}（{}）/ {}",
                    p.message, p.code, p.message_en
                ));
            }
            Err(Failure::Refused(text))
        }
    }
}

/// A JSON object of values by column key, as the API's `record`.
fn read_record(path: &Path) -> Result<Vec<(String, String)>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::Refused(format!("无法读取 / cannot read {}: {e}", path.display())))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::Refused(format!(
            "{} 不是有效的 JSON / is not valid JSON: {e}",
            path.display()
        ))
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Failure::Refused(format!(
            "{} 应为一个 JSON 对象（列名: 值）/ must be one JSON object of column keys",
            path.display()
        )));
    };
    registration::fields_of_json(map).map_err(|e| {
        let (zh, en) = e.messages();
        Failure::Refused(format!("{zh}\n{en}"))
    })
}

/// The staff role of an organisation's level (a level that may not register is refused by the
/// service with its own message).
fn staff_role(level: OrgLevel) -> Role {
    match level {
        OrgLevel::Ministry => Role::Ministry,
        OrgLevel::Province => Role::Province,
        OrgLevel::Prefecture => Role::Prefecture,
        OrgLevel::County => Role::County,
        OrgLevel::Grassroots => Role::Grassroots,
        OrgLevel::Sender => Role::Sender,
    }
}

fn print_answer(a: &Registered, json: bool) -> Result<(), Failure> {
    if json {
        say!("{}", serde_json::to_string_pretty(a)?);
        return Ok(());
    }
    let outcome = match a.outcome {
        RegistrationOutcome::Registered => "新登记 / new record",
        RegistrationOutcome::Updated => "已有记录，已更新 / already held here, updated",
        RegistrationOutcome::Taken => "已有记录，转由本机构办理 / taken over from above",
        RegistrationOutcome::Duplicate => {
            "相同登记此前已保存，未重复存储 / registered before; nothing stored twice"
        }
    };
    say!(
        "已登记 / registered: 记录 / record {}（{outcome}）",
        a.record_id
    );
    say!(
        "渠道 / channel: {} ｜ 批次 / batch: {}",
        a.channel.as_str(),
        a.batch_id
    );
    let codes: Vec<&str> = [&a.route.province, &a.route.prefecture, &a.route.county]
        .into_iter()
        .filter_map(|c| c.as_deref())
        .collect();
    say!(
        "路由 / route: {}（{} {}）",
        if codes.is_empty() {
            "-".to_string()
        } else {
            codes.join(" / ")
        },
        a.route.method_zh,
        a.route.method
    );
    for w in &a.warnings {
        say!("警告 / warning: {}（{}）", w.message, w.code);
    }
    Ok(())
}
