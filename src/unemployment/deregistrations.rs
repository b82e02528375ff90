//! The daily deregistration file of the 79号 annex (失业登记退出信息上传), written from the
//! deregistrations stored on a day and checked field by field before it leaves; and the
//! deregistrations local systems send, each checked by the same rules, the broken ones answered
//! with their key, field and rule, the rest kept.

use super::{Result, Unemployment};
use crate::authz::{Caller, Permission};
use crate::db::unemployment::{self as store, DeregistrationRow, NewDeregistration};
use crate::db::{self, audit};
use crate::domain::deregistration::{self as annex, DeregistrationRecord, RuleBreach};
use crate::domain::division::DivisionCode;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::json;

/// The most records one upload may carry.
pub const MAX_RECORDS: usize = 5_000;

/// The day's file: the records that pass every rule, and any stored one that does not (kept
/// out of the file and reported, never sent broken).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DayFile {
    /// `YYYYMMDD`: the day the records were stored in the hub (China time): the hub's own exits
    /// of that day and the records local systems sent that day.
    pub date: String,
    pub records: Vec<DeregistrationRecord>,
    pub held_back: Vec<Broken>,
}

/// A record that breaks a rule, by its key.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Broken {
    /// Position in the request (0-based).
    pub index: usize,
    pub aab301: String,
    pub aaz341: String,
    pub breaches: Vec<RuleBreach>,
}

/// What an upload did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Received {
    pub stored: usize,
    /// Records whose key was stored before: nothing stored again.
    pub duplicates: usize,
    pub rejected: usize,
    pub broken: Vec<Broken>,
}

/// A checked record as a row to store.
pub fn stored(
    r: &DeregistrationRecord,
    source: &str,
    org_id: i64,
    application_id: Option<i64>,
    now: NaiveDateTime,
) -> NewDeregistration {
    NewDeregistration {
        aab301: r.aab301.clone(),
        aaz341: r.aaz341.clone(),
        aac003: r.aac003.clone(),
        aac002: r.aac002.clone(),
        aac058: r.aac058.clone(),
        aac044: r.aac044.clone(),
        adc210: r.adc210.clone(),
        ajc00a: r.ajc00a.clone(),
        aae011: r.aae011.clone(),
        aae036: r.aae036.clone(),
        aae013: r.aae013.clone(),
        source: source.into(),
        org_id,
        application_id,
        received_at: now,
    }
}

fn record_of(row: DeregistrationRow) -> DeregistrationRecord {
    DeregistrationRecord {
        aab301: row.aab301,
        aaz341: row.aaz341,
        aac003: row.aac003,
        aac002: row.aac002,
        aac058: row.aac058,
        aac044: row.aac044,
        adc210: row.adc210,
        ajc00a: row.ajc00a,
        aae011: row.aae011,
        aae036: row.aae036,
        aae013: row.aae013,
        aac004: None,
    }
}

/// A received record without what is not stored (AAC004).
fn stripped(r: &DeregistrationRecord) -> DeregistrationRecord {
    DeregistrationRecord {
        aac004: None,
        ..r.clone()
    }
}

impl Unemployment {
    /// The deregistrations handled on `day` in the caller's jurisdiction, checked against every
    /// rule of the annex on `today`.
    pub fn day_file(&self, caller: &Caller, day: NaiveDate, today: NaiveDate) -> Result<DayFile> {
        caller.require(Permission::ReadRecords)?;
        caller.require(Permission::SeePersonalNumbers)?;
        let date = day.format("%Y%m%d").to_string();
        let mut conn = self.db.conn()?;
        let rows = store::deregistrations_on(&mut conn, &caller.scope, day)?;
        self.db.read_log().record(
            &mut conn,
            &caller.actor,
            "unemployment.deregistrations.read",
            &format!("deregistrations:{date}"),
            Some(&json!({"records": rows.len()})),
        )?;
        let records: Vec<DeregistrationRecord> = rows.into_iter().map(record_of).collect();
        let checks = annex::check_batch(&records, today, self.router.table());
        let mut file = DayFile {
            date,
            records: Vec::new(),
            held_back: Vec::new(),
        };
        for (index, (r, breaches)) in records.into_iter().zip(checks).enumerate() {
            if breaches.is_empty() {
                file.records.push(r);
            } else {
                file.held_back.push(Broken {
                    index,
                    aab301: r.aab301,
                    aaz341: r.aaz341,
                    breaches,
                });
            }
        }
        Ok(file)
    }

    /// Takes a batch of deregistrations from a local system: each checked by the annex's rules
    /// and for an area (AAB301) in the caller's jurisdiction; the good ones stored in one
    /// transaction, the broken ones answered.
    pub fn receive(&self, caller: &Caller, records: &[DeregistrationRecord]) -> Result<Received> {
        caller.require(Permission::Unemployment)?;
        let today = crate::ingest::china_today();
        let tree = self.tree()?;
        let mut checks = annex::check_batch(records, today, self.router.table());
        for (r, breaches) in records.iter().zip(checks.iter_mut()) {
            if r.aaz341.starts_with(super::HUB_SERIAL_PREFIX) {
                breaches.push(RuleBreach {
                    field: "AAZ341",
                    rule: "reserved",
                    message_zh: format!("以 {} 开头的系统流水号由本中心自己的注销记录使用，请使用本地系统的流水号。", super::HUB_SERIAL_PREFIX),
                    message_en: format!("Serials beginning {} are the hub's own; use the local system's serial.", super::HUB_SERIAL_PREFIX),
                });
            }
            if breaches.iter().any(|b| b.field == "AAB301") {
                continue;
            }
            let inside = DivisionCode::parse(&r.aab301)
                .and_then(|code| tree.by_division(&code.to_string()))
                .is_some_and(|node| caller.scope.contains(node.id));
            if !inside {
                breaches.push(RuleBreach {
                    field: "AAB301",
                    rule: "jurisdiction",
                    message_zh: format!("注销地 {} 不在本机构的辖区内。", r.aab301),
                    message_en: format!("Area {} is outside your jurisdiction.", r.aab301),
                });
            }
        }
        let mut answer = Received {
            stored: 0,
            duplicates: 0,
            rejected: 0,
            broken: Vec::new(),
        };
        let mut conn = self.db.conn()?;
        db::write_transaction(&mut conn, |conn| -> Result<()> {
            let now = Utc::now().naive_utc();
            for (index, (r, breaches)) in records.iter().zip(checks).enumerate() {
                if !breaches.is_empty() {
                    answer.rejected += 1;
                    answer.broken.push(Broken {
                        index,
                        aab301: r.aab301.clone(),
                        aaz341: r.aaz341.clone(),
                        breaches,
                    });
                    continue;
                }
                if let Some(before) = store::deregistration_by_key(conn, &r.aab301, &r.aaz341)? {
                    // The same record sent again is a retry; another under the same key breaks
                    // the annex's rule that AAZ341 is not repeated.
                    if record_of(before) == stripped(r) {
                        answer.duplicates += 1;
                    } else {
                        answer.rejected += 1;
                        answer.broken.push(Broken {
                            index,
                            aab301: r.aab301.clone(),
                            aaz341: r.aaz341.clone(),
                            breaches: vec![RuleBreach {
                                field: "AAZ341",
                                rule: "duplicate_key",
                                message_zh: "系统流水号不可重复：该注销地与流水号此前已上传了另一条记录。".into(),
                                message_en: "AAZ341 may not repeat: another record was stored under this area and serial before.".into(),
                            }],
                        });
                    }
                    continue;
                }
                // Sent twice at once: the second finds the key taken and counts as a duplicate.
                if store::insert_deregistration(
                    conn,
                    &stored(r, "local", caller.org_id, None, now),
                )? {
                    answer.stored += 1;
                } else {
                    answer.duplicates += 1;
                }
            }
            audit::record(
                conn,
                &caller.actor,
                "unemployment.deregistrations.receive",
                "deregistrations",
                None,
                Some(
                    &json!({"stored": answer.stored, "duplicates": answer.duplicates,
                    "rejected": answer.rejected}),
                ),
            )?;
            Ok(())
        })?;
        Ok(answer)
    }
}
