//! Follow-up and the 111号 summary as county systems and the ministry meet them, on both
//! backends: events through the API with retries, faults and foreign records; the record's
//! timeline; the summary reconciling at every level with every count equal to its drill-down
//! list, for random data; a cut-off that excludes later events; the files of the summary.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token, TestApp};
use common::{id18, line, TestDb, HEADER};
use gradhub::distribution::AutoCut;
use gradhub::domain::organisation::Role;
use serde_json::{json, Value};

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

const TODAY: &str = "2026-12-01";

/// Counties the generated graduates come from: two in 济南, one in 烟台, one in 北京, one in 广州.
const COUNTIES: [&str; 5] = ["370102", "370112", "370602", "110101", "440106"];

/// A small deterministic generator, so a failing seed can be run again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `n` graduates of 2025 spread over the counties; some with hardship, some not seeking work.
fn graduates(n: usize, rng: &mut Rng) -> (String, Vec<String>) {
    let mut text = format!("{HEADER}\n");
    let mut ids = Vec::new();
    for i in 0..n {
        let county = COUNTIES[rng.below(COUNTIES.len() as u64) as usize];
        let id = id18(county, "20030101", i as u32 + 100);
        let mut l = line(&format!("学生{i}"), &id, county, "");
        if rng.chance(20) {
            l = l.replacen(",,,1", ",,低保家庭,1", 1);
        }
        if rng.chance(15) {
            l = format!("{},2", l.trim_end_matches(",1"));
        }
        let level = ["11", "14", "21", "21", "31"][rng.below(5) as usize];
        l = l.replacen(",13,21,", &format!(",13,{level},"), 1);
        text.push_str(&l);
        text.push('\n');
        ids.push(id);
    }
    (text, ids)
}

/// Ingests, places and cuts all the way down; see [`rounds`].
fn distribute(app: &TestApp, db: &TestDb, text: &str, odds: (u64, u64), rng: &mut Rng) {
    add_sender(db, "edu-test", "000000");
    ingest_text(db, "edu-test", text);
    app.dist.place_new().expect("place");
    rounds(app, db, 4, odds, rng);
}

/// `n` rounds of cutting everywhere, then each organisation acknowledging its packages with
/// `ack_percent` chance, returning one record of a package with `return_percent` chance.
fn rounds(
    app: &TestApp,
    db: &TestDb,
    n: usize,
    (ack_percent, return_percent): (u64, u64),
    rng: &mut Rng,
) {
    let mut orgs: Vec<String> = Vec::new();
    for c in COUNTIES {
        for code in [
            format!("{}0000", &c[..2]),
            format!("{}00", &c[..4]),
            c.to_string(),
        ] {
            if !orgs.contains(&code) {
                orgs.push(code);
            }
        }
    }
    let tokens: Vec<(String, String)> = orgs
        .iter()
        .map(|o| (o.clone(), token(db, o, None)))
        .collect();
    for _ in 0..n {
        app.dist.cut_auto(AutoCut::All, date(TODAY)).expect("cut");
        for (_, t) in &tokens {
            let inbox = app.ok("/api/v1/inbox?after=0", t);
            for p in inbox["packages"].as_array().into_iter().flatten() {
                if p["state"] != "delivered" || !rng.chance(ack_percent) {
                    continue;
                }
                let id = p["id"].as_i64().expect("id");
                let body = if rng.chance(return_percent) {
                    let recs = app.ok(&format!("/api/v1/packages/{id}/records?limit=1"), t);
                    let rid = recs["records"][0]["record"]["id"].as_i64().expect("record");
                    json!({"returns": [{"record_id": rid, "reason": "wrong_information"}]})
                } else {
                    json!({})
                };
                app.ok_post(&format!("/api/v1/packages/{id}/acknowledge"), t, &body);
            }
        }
    }
}

/// Moves every record's arrival back to `day` (as if the files had come then), so that
/// cut-off days before today can be tested: the hub itself never writes the past.
fn backdate(db: &TestDb, created: &str, placed: &str) {
    use diesel::RunQueryDsl;
    let mut conn = db.db.conn().expect("conn");
    diesel::sql_query(format!(
        "UPDATE records SET created_at = '{created} 00:00:00'"
    ))
    .execute(&mut conn)
    .expect("backdate records");
    // The placements' copy of the record's storing time follows, as the hub keeps it.
    diesel::sql_query(format!(
        "UPDATE placements SET updated_at = '{placed} 00:00:00', stored_at = '{created} 00:00:00'"
    ))
    .execute(&mut conn)
    .expect("backdate placements");
}

fn event(kind: &str, id: &str, on: &str, extra: Value) -> Value {
    let mut e = json!({"kind": kind, "id_number": id, "graduation_year": 2025, "date": on});
    if let (Some(e), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            e.insert(k.clone(), v.clone());
        }
    }
    e
}

fn cells_of(row: &Value) -> &serde_json::Map<String, Value> {
    row["cells"].as_object().expect("cells")
}

fn events_are_judged_one_by_one_and_stored_once(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let mut rng = Rng(7);
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20030101", 11), "370102", ""),
        line("王五", &id18("110101", "20030101", 12), "110101", ""),
    );
    distribute(&app, db, &text, (100, 0), &mut rng);
    let zhang = id18("370102", "20030101", 11);
    let wang = id18("110101", "20030101", 12);
    let county = token(db, "370102", None);
    let batch = json!({"events": [
        event("contact", &zhang, "2026-07-20", json!({"client_key": "c-1", "channel": "电话", "reached": true})),
        event("service", &zhang, "2026-08-01", json!({"client_key": "c-2", "service_type": "03", "employer": "济南某公司", "post": "测试工程师"})),
        event("policy", &zhang, "2026-08-05", json!({"client_key": "c-3", "policy_type": "求职创业补贴", "amount": "1500.50"})),
        event("state", &zhang, "2026-09-01", json!({"client_key": "c-4", "state": "21"})),
        event("update", &zhang, "2026-09-02", json!({"client_key": "c-5", "phone": "13900001111", "address": "济南市历下区某路 1 号"})),
        // Faults, each alone: another province's graduate, an unknown code, a future date,
        // a bad amount, no kind.
        event("contact", &wang, "2026-07-20", json!({"client_key": "c-6", "channel": "电话", "reached": true})),
        event("service", &zhang, "2026-08-01", json!({"client_key": "c-7", "service_type": "55"})),
        event("state", &zhang, "2027-01-01", json!({"client_key": "c-8", "state": "21"})),
        event("policy", &zhang, "2026-08-05", json!({"client_key": "c-9", "policy_type": "01", "amount": "-3"})),
        json!({"client_key": "c-10", "id_number": zhang, "graduation_year": 2025, "date": "2026-08-01"}),
    ]});
    let answer = app.ok_post("/api/v1/followup/events", &county, &batch);
    assert_eq!(
        (answer["accepted"].as_u64(), answer["rejected"].as_u64()),
        (Some(5), Some(5)),
        "{answer}"
    );
    let code_of = |i: usize| {
        answer["events"][i]["problems"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(code_of(5), "RECORD_UNKNOWN", "another province's record");
    assert_eq!(code_of(6), "CODE_UNKNOWN");
    assert_eq!(code_of(7), "DATE_FUTURE");
    assert_eq!(code_of(8), "AMOUNT_INVALID");
    assert_eq!(code_of(9), "REQUIRED");
    assert!(answer["events"][5]["problems"][0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("辖区")));

    // The retry of the whole request stores nothing again; a key reused for other content is
    // refused.
    let again = app.ok_post("/api/v1/followup/events", &county, &batch);
    assert_eq!(
        (again["accepted"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(5)),
        "{again}"
    );
    assert_eq!(
        again["events"][0]["event_id"],
        answer["events"][0]["event_id"]
    );
    let reused = app.ok_post(
        "/api/v1/followup/events",
        &county,
        &json!({"events": [event("state", &zhang, "2026-10-01", json!({"client_key": "c-4", "state": "22"}))]}),
    );
    assert_eq!(
        reused["events"][0]["problems"][0]["code"],
        "CLIENT_KEY_REUSED"
    );
    // A dry run answers as if storing and stores nothing.
    let dry = app.ok_post(
        "/api/v1/followup/events",
        &county,
        &json!({"dry_run": true, "events": [event("state", &zhang, "2026-10-01", json!({"state": "22"}))]}),
    );
    assert_eq!(
        (dry["accepted"].as_u64(), dry["dry_run"].as_bool()),
        (Some(1), Some(true))
    );

    // An empty list, a list too long and an unknown field are refused whole.
    let (status, body) = app.post("/api/v1/followup/events", &county, &json!({"events": []}));
    assert_eq!((status, body["code"].as_str()), (422, Some("EVENT_LIST")));
    let (status, _) = app.post(
        "/api/v1/followup/events",
        &county,
        &json!({"events": [{"kind": "state", "stat": "21"}]}),
    );
    assert_eq!(status, 400);

    // The timeline: every stored event, the milestones, the current state and set-1 values.
    let rid = answer["events"][0]["record_id"].as_i64().expect("record");
    let t = app.ok(&format!("/api/v1/records/{rid}/followup"), &county);
    assert_eq!(t["events"].as_array().map(Vec::len), Some(5), "{t}");
    assert_eq!(t["current_state"]["code"], "21");
    assert_eq!(t["current_state"]["name"], "单位就业");
    assert_eq!(t["profile"]["phone"], "13900001111");
    assert_eq!(t["events"][2]["amount_yuan"], "1500.50");
    let names: Vec<&str> = t["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.contains(&"contacted")
            && names.contains(&"service:03")
            && names.contains(&"policy:01")
    );
    // An auditor sees the phone masked; another province does not see the record at all.
    let auditor = token(db, "370000", Some(Role::Auditor));
    let masked = app.ok(&format!("/api/v1/records/{rid}/followup"), &auditor);
    assert_eq!(masked["profile"]["phone"], "139****1111");
    let beijing = token(db, "110000", None);
    let (status, _) = app.get(&format!("/api/v1/records/{rid}/followup"), &beijing);
    assert_eq!(status, 404);
    // The province above may record too; an auditor may not.
    let province = token(db, "370000", None);
    let by_province = app.ok_post(
        "/api/v1/followup/events",
        &province,
        &json!({"events": [event("service", &zhang, "2026-08-10", json!({"service_type": "职业指导"}))]}),
    );
    assert_eq!(by_province["accepted"], 1);
    let (status, body) = app.post(
        "/api/v1/followup/events",
        &auditor,
        &json!({"events": [event("service", &zhang, "2026-08-10", json!({"service_type": "02"}))]}),
    );
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));
    // Every stored event wrote its audit event.
    use diesel::prelude::*;
    let mut conn = db.db.conn().expect("conn");
    let audited: i64 = gradhub::db::schema::audit_events::table
        .filter(gradhub::db::schema::audit_events::action.eq("followup.recorded"))
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(audited, 6);
}

/// Every count of a summary equals the length of its drill-down list, the total row equals the
/// sum of the rows, and each child row equals the total of that child's own summary.
fn check_summary(
    app: &TestApp,
    auth: &str,
    year: i32,
    as_of: &str,
    org: Option<&str>,
    depth: usize,
) {
    let org_q = org.map(|o| format!("&org={o}")).unwrap_or_default();
    let s = app.ok(
        &format!("/api/v1/reports/summary?year={year}&as_of={as_of}{org_q}"),
        auth,
    );
    let columns: Vec<(String, String)> = s["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("").to_string(),
                c["kind"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let rows = s["rows"].as_array().expect("rows");
    let total = cells_of(&s["total"]);
    for (id, kind) in &columns {
        if kind == "rate" {
            continue;
        }
        if kind == "count" {
            let sum: i64 = rows
                .iter()
                .map(|r| cells_of(r)[id].as_i64().unwrap_or(0))
                .sum();
            assert_eq!(
                total[id].as_i64(),
                Some(sum),
                "{org:?} {as_of} total of {id}"
            );
        } else {
            let sum: f64 = rows
                .iter()
                .map(|r| {
                    cells_of(r)[id]
                        .as_str()
                        .unwrap_or("0")
                        .parse::<f64>()
                        .unwrap_or(0.0)
                })
                .sum();
            let t: f64 = total[id].as_str().unwrap_or("0").parse().unwrap_or(-1.0);
            assert!(
                (t - sum).abs() < 0.001,
                "{org:?} total of {id}: {t} vs {sum}"
            );
        }
    }
    // Rates are recomputed from the row's counts.
    let received = total["received"].as_i64().unwrap_or(0);
    if received > 0 {
        let ack = total["acknowledged"].as_i64().unwrap_or(0) as f64 / received as f64;
        assert!((total["ack_rate"].as_f64().unwrap_or(-1.0) - ack).abs() < 0.0001);
    }
    let drill_len = |row_org: &str, own: bool, column: &str| -> usize {
        let mut after = 0;
        let mut n = 0;
        loop {
            let page = app.ok(
                &format!(
                    "/api/v1/reports/summary/records?year={year}&as_of={as_of}&org={row_org}&own={own}&column={column}&after={after}&limit=7"
                ),
                auth,
            );
            let got = page["records"].as_array().map(Vec::len).unwrap_or(0);
            if got == 0 {
                return n;
            }
            n += got;
            after = page["next_cursor"].as_i64().expect("cursor");
        }
    };
    for row in rows.iter().chain(std::iter::once(&s["total"])) {
        let code = row["org_code"].as_str().expect("code");
        let own = row["own"].as_bool().unwrap_or(false);
        for (id, kind) in &columns {
            if kind != "count" {
                continue;
            }
            let want = cells_of(row)[id].as_i64().unwrap_or(0) as usize;
            if want == 0 && !matches!(id.as_str(), "received" | "contacted" | "employed") {
                continue;
            }
            assert_eq!(
                drill_len(code, own, id),
                want,
                "{code} own={own} {id} as of {as_of}"
            );
        }
    }
    if depth > 0 {
        for row in rows.iter().filter(|r| !r["own"].as_bool().unwrap_or(false)) {
            if cells_of(row)["received"].as_i64().unwrap_or(0) == 0 {
                continue;
            }
            let code = row["org_code"].as_str().expect("code");
            let sub = app.ok(
                &format!("/api/v1/reports/summary?year={year}&as_of={as_of}&org={code}"),
                auth,
            );
            assert_eq!(
                cells_of(&sub["total"]),
                cells_of(row),
                "{code}'s total is its row above"
            );
            check_summary(app, auth, year, as_of, Some(code), depth - 1);
        }
    }
}

/// The cut-off days the random data is summarised at; events fall on them and around them, so
/// an off-by-one in any comparison shows.
const CUT_OFFS: [&str; 3] = ["2026-03-31", "2026-08-15", TODAY];

fn random_day(rng: &mut Rng) -> String {
    if rng.chance(30) {
        let day = date(CUT_OFFS[rng.below(3) as usize]);
        let shifted = match rng.below(3) {
            0 => day.pred_opt(),
            1 => Some(day),
            _ => day.succ_opt(),
        };
        let d = shifted.unwrap_or(day).min(date(TODAY));
        return d.to_string();
    }
    format!("2026-{:02}-{:02}", 1 + rng.below(11), 1 + rng.below(28))
}

fn random_follow_up(app: &TestApp, db: &TestDb, ids: &[String], rng: &mut Rng) {
    let ministry = token(db, "000000", None);
    let kinds = ["contact", "service", "policy", "state"];
    let mut events = Vec::new();
    for id in ids {
        // A quarter get the whole 1131 set on random days (some within six months, most not).
        if rng.chance(25) {
            for t in ["02", "03", "03", "03", "05"] {
                let on = random_day(rng);
                events.push(event("service", id, &on, json!({"service_type": t})));
            }
        }
        for _ in 0..rng.below(9) {
            let kind = kinds[rng.below(4) as usize];
            let on = random_day(rng);
            let extra = match kind {
                "contact" => {
                    json!({"channel": (1 + rng.below(5)).to_string(), "reached": rng.chance(80)})
                }
                "service" => {
                    let t = ["01", "02", "03", "03", "03", "04", "05", "99"][rng.below(8) as usize];
                    json!({"service_type": t})
                }
                "policy" => {
                    let t = ["01", "02", "06"][rng.below(3) as usize];
                    json!({"policy_type": t, "amount": rng.below(500000) as f64 / 100.0})
                }
                _ => {
                    let t = ["10", "21", "22", "23", "31", "90"][rng.below(6) as usize];
                    json!({"state": t})
                }
            };
            events.push(event(kind, id, &on, extra));
        }
    }
    for chunk in events.chunks(200) {
        let a = app.ok_post(
            "/api/v1/followup/events",
            &ministry,
            &json!({"events": chunk}),
        );
        assert_eq!(a["rejected"], 0, "{a}");
    }
}

fn the_summary_reconciles_with_its_drill_downs_for_random_data(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (text, ids) = graduates(60, &mut rng);
    distribute(&app, db, &text, (60, 10), &mut rng);
    backdate(db, "2025-07-01", "2025-12-01");
    random_follow_up(&app, db, &ids, &mut rng);
    // Records move on after their follow-up began: delivered further down, some returned; the
    // summary must follow them to where they are now.
    rounds(&app, db, 2, (70, 30), &mut rng);
    let ministry = token(db, "000000", None);
    for as_of in CUT_OFFS {
        check_summary(&app, &ministry, 2025, as_of, None, 2);
    }
    // A province's staff see their province's rows, masked or not, with the same counts.
    let auditor = token(db, "370000", Some(Role::Auditor));
    check_summary(&app, &auditor, 2025, TODAY, None, 1);
    let page = app.ok(
        "/api/v1/reports/summary/records?year=2025&as_of=2026-12-01&column=received",
        &auditor,
    );
    let first = &page["records"][0]["record"];
    assert_eq!(first["masked"], true);
    assert!(first["id_number"]
        .as_str()
        .is_some_and(|s| s.contains("****")));
}

fn the_cut_off_excludes_what_came_later(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let mut rng = Rng(3);
    let zhang = id18("370102", "20030101", 11);
    let text = format!("{HEADER}\n{}\n", line("张三", &zhang, "370102", ""));
    distribute(&app, db, &text, (100, 0), &mut rng);
    backdate(db, "2025-07-01", "2025-07-10");
    let county = token(db, "370102", None);
    let events = json!({"events": [
        event("contact", &zhang, "2025-07-15", json!({"channel": "1", "reached": false})),
        event("contact", &zhang, "2025-08-20", json!({"channel": "3", "reached": true})),
        event("state", &zhang, "2025-09-01", json!({"state": "10"})),
        event("state", &zhang, "2026-03-01", json!({"state": "22"})),
        event("service", &zhang, "2025-08-01", json!({"service_type": "02"})),
        event("service", &zhang, "2025-08-02", json!({"service_type": "03"})),
        event("service", &zhang, "2025-09-02", json!({"service_type": "03"})),
        event("service", &zhang, "2025-10-02", json!({"service_type": "05"})),
        event("service", &zhang, "2026-02-02", json!({"service_type": "03"})),
        event("policy", &zhang, "2026-04-01", json!({"policy_type": "02", "amount": 800})),
    ]});
    assert_eq!(
        app.ok_post("/api/v1/followup/events", &county, &events)["accepted"],
        10
    );
    let ministry = token(db, "000000", None);
    let at = |day: &str| -> serde_json::Map<String, Value> {
        let s = app.ok(
            &format!("/api/v1/reports/summary?year=2025&as_of={day}&org=370102"),
            &ministry,
        );
        cells_of(&s["total"]).clone()
    };
    // Before the record arrived: nothing.
    assert_eq!(at("2025-06-30")["received"], 0);
    // 2025-08-01: arrived, signed, tried once but not reached, and past the ten working days.
    let a = at("2025-08-01");
    assert_eq!(
        (a["received"].as_i64(), a["acknowledged"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (a["contacted"].as_i64(), a["overdue_contact"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(a["service:02"], 1);
    // 2025-12-31: reached, 未就业, two referrals only, six months after graduation not yet up.
    let b = at("2025-12-31");
    assert_eq!(
        (b["contacted"].as_i64(), b["overdue_contact"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (b["state:10"].as_i64(), b["employed"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        (b["1131"].as_i64(), b["overdue_1131"].as_i64()),
        (Some(0), Some(0))
    );
    // 2026-03-31: the third referral came on 2026-02-02, after the six months (2025-12-30): 1131
    // reached but late; 灵活就业 since 2026-03-01; no policy yet.
    let c = at("2026-03-31");
    assert_eq!(
        (c["1131"].as_i64(), c["overdue_1131"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        (
            c["state:22"].as_i64(),
            c["employed"].as_i64(),
            c["state:10"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    assert_eq!(
        (c["policy:02"].as_i64(), c["amount:02"].as_str()),
        (Some(0), Some("0.00"))
    );
    let d = at(TODAY);
    assert_eq!(
        (d["policy:02"].as_i64(), d["amount:02"].as_str()),
        (Some(1), Some("800.00"))
    );
    assert_eq!(d["employment_rate"].as_f64(), Some(1.0));
}

fn the_summary_files_open_in_excel(db: &TestDb) {
    // The records are stored now: the cut-off is today in China, whatever the day.
    let today = gradhub::ingest::china_today().to_string();
    let app = spawn_app(db, test_config(db));
    let mut rng = Rng(11);
    let (text, ids) = graduates(20, &mut rng);
    distribute(&app, db, &text, (100, 0), &mut rng);
    random_follow_up(&app, db, &ids, &mut rng);
    let ministry = token(db, "000000", None);
    let get = |q: &str| {
        app.client
            .get(format!(
                "{}/api/v1/reports/summary?year=2025&as_of={today}{q}",
                app.base
            ))
            .bearer_auth(&ministry)
            .send()
            .expect("request")
    };
    let csv = get("&format=csv");
    assert_eq!(csv.status().as_u16(), 200);
    let bytes = csv.bytes().expect("body");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV has a BOM for Excel"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(
        header.starts_with("机构代码,机构名称,层级,移交人数") && header.contains("签收率"),
        "{header}"
    );
    assert!(text.lines().any(|l| l.starts_with("370000,山东省")));
    let last = text.lines().last().expect("total");
    assert!(last.contains("合计") && last.contains('%'), "{last}");

    let xlsx = get("&format=xlsx").bytes().expect("xlsx");
    let path = db.path("summary.xlsx");
    std::fs::write(&path, &xlsx).expect("write");
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&path).expect("opens");
    assert_eq!(
        book.sheet_names(),
        vec!["汇总".to_string(), "说明".to_string()]
    );
    let sheet = book.worksheet_range("汇总").expect("sheet");
    assert_eq!(
        sheet.get((0, 3)).map(|c| c.to_string()),
        Some("移交人数".into())
    );
    let notes = book.worksheet_range("说明").expect("notes");
    let all: Vec<String> = notes
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(all.iter().any(|c| c.contains(&today)), "cut-off stated");
    assert!(
        all.iter().any(|c| c.contains("sha256:")),
        "code-table editions stated"
    );
    assert!(
        all.iter().any(|c| c == "overdue_contact"),
        "every column defined"
    );

    // The command line writes the same summary.
    let out = db.path("cli-summary.csv");
    let run = common::gradhub_command(db)
        .args([
            "report", "summary", "--year", "2025", "--as-of", &today, "--format", "csv", "-o",
        ])
        .arg(&out)
        .output()
        .expect("run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cli = std::fs::read(&out).expect("file");
    assert_eq!(cli, bytes.to_vec(), "CLI and API write the same file");
    let list = db.path("overdue.csv");
    let run = common::gradhub_command(db)
        .args([
            "report",
            "records",
            "--year",
            "2025",
            "--as-of",
            "2026-12-31",
            "--column",
            "overdue_contact",
            "-o",
        ])
        .arg(&list)
        .output()
        .expect("run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let listed = std::fs::read_to_string(&list).expect("list");
    assert!(
        listed.contains("记录号") && listed.contains("****"),
        "masked by default"
    );
    let s = app.ok(
        "/api/v1/reports/summary?year=2025&as_of=2026-12-31",
        &ministry,
    );
    assert_eq!(
        listed.lines().count() - 1,
        cells_of(&s["total"])["overdue_contact"]
            .as_i64()
            .unwrap_or(-1) as usize
    );
}

fn bad_report_requests_are_refused_clearly(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let province = token(db, "370000", None);
    for (q, status) in [
        ("year=2025&as_of=2026-13-01", 400),
        ("year=1800&as_of=2026-12-01", 400),
        ("year=2025&as_of=2026-12-01&org=110000", 404),
        ("year=2025&as_of=2026-12-01&org=nope", 404),
        ("year=2025&as_of=2026-12-01&format=pdf", 400),
    ] {
        let (got, body) = app.get(&format!("/api/v1/reports/summary?{q}"), &province);
        assert_eq!(got, status, "{q}: {body}");
    }
    for q in ["column=nope", "column=ack_rate", "column=state:x'y"] {
        let (got, body) = app.get(
            &format!("/api/v1/reports/summary/records?year=2025&as_of=2026-12-01&{q}"),
            &province,
        );
        assert_eq!(got, 400, "{q}: {body}");
    }
}

on_both_backends!(
    events_are_judged_one_by_one_and_stored_once,
    the_summary_reconciles_with_its_drill_downs_for_random_data,
    the_cut_off_excludes_what_came_later,
    the_summary_files_open_in_excel,
    bad_report_requests_are_refused_clearly,
);
