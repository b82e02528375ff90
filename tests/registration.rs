//! Registration of graduates an office found itself (LD/T 6009-2024 §4.2 其他渠道), on both
//! backends: through the API and the command line, held at the office with its channel and
//! hop; refused with the transfer file's own codes; one person, one record (matched, taken from
//! above, or refused without saying where); and a later education file that updates the record
//! instead of doubling it.

#[macro_use]
mod common;

use common::app::{
    add_sender, add_user, ingest_graduate, ingest_text, spawn_app, test_config, token, TestApp,
};
use common::{count, expect_exit, gradhub_command, id18, line, TestDb, HEADER};
use gradhub::authz::Scope;
use gradhub::db::packages::{self as placements, HopKind, PlacementState};
use gradhub::db::records;
use gradhub::distribution::AutoCut;
use gradhub::domain::organisation::{OrgLevel, Role};
use gradhub::ingest::{self, china_today};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const REGISTER: &str = "/api/v1/registrations";

/// The sex code the ID number's 17th digit gives.
fn sex_of(id: &str) -> &'static str {
    match id.as_bytes().get(16).map(|b| (b - b'0') % 2) {
        Some(0) => "2",
        _ => "1",
    }
}

/// A graduate's values by column key, with the household registration `hukou`.
fn person(name: &str, id: &str, hukou: &str) -> Value {
    json!({
        "name": name,
        "sex": sex_of(id),
        "id_number": id,
        "education_level": "21",
        "school_code": "10422",
        "school_name": "山东大学",
        "major_code": "080901",
        "major_name": "计算机科学与技术",
        "graduation_date": "2025-06-30",
        "hukou_code": hukou,
        "phone": "13812345678",
    })
}

fn walk_in(record: &Value) -> Value {
    json!({ "channel": "walk_in", "record": record })
}

fn org_id(db: &TestDb, code: &str) -> i64 {
    let mut conn = db.db.conn().expect("conn");
    gradhub::db::orgs::find_by_code(&mut conn, code)
        .expect("query")
        .expect("org")
        .id
}

/// A grassroots service point under county 370102, with a staff user; its session token.
fn grassroots(app: &TestApp, db: &TestDb) -> String {
    {
        let mut conn = db.db.conn().expect("conn");
        let county = gradhub::db::orgs::find_by_code(&mut conn, "370102")
            .expect("query")
            .expect("county");
        gradhub::db::orgs::add(
            &mut conn,
            "370102-001",
            "文化东路街道服务平台",
            OrgLevel::Grassroots,
            &county,
        )
        .expect("grassroots point");
    }
    app.dist.refresh_tree().expect("tree");
    add_user(
        db,
        "wenhua",
        Role::Grassroots,
        "370102-001",
        "grassroots-pass-1",
    );
    let s = app.ok_post(
        "/api/v1/session",
        "",
        &json!({"username": "wenhua", "password": "grassroots-pass-1"}),
    );
    s["token"].as_str().expect("session").to_string()
}

/// Acknowledges every delivered package in the inbox of `who`.
fn acknowledge(app: &TestApp, who: &str) {
    let inbox = app.ok("/api/v1/inbox?state=delivered", who);
    for p in inbox["packages"].as_array().expect("packages") {
        let id = p["id"].as_i64().expect("id");
        app.ok_post(
            &format!("/api/v1/packages/{id}/acknowledge"),
            who,
            &json!({}),
        );
    }
}

/// Acknowledges what `who` received, then cuts what waits there for the level below.
fn acknowledge_and_cut(app: &TestApp, who: &str) {
    acknowledge(app, who);
    app.ok_post("/api/v1/packages/cut", who, &json!({}));
}

/// An education file with these lines, placed and cut at the hub.
fn education_file(app: &TestApp, db: &TestDb, lines: &[String]) -> i64 {
    let batch = ingest_text(db, "edu-test", &format!("{HEADER}\n{}\n", lines.join("\n")));
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, china_today())
        .expect("cut");
    batch
}

fn detail(app: &TestApp, who: &str, record: i64) -> Value {
    app.ok(&format!("/api/v1/records/{record}"), who)
}

fn hop_kinds(detail: &Value) -> Vec<String> {
    detail["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| h["kind"].as_str().expect("kind").to_string())
        .collect()
}

/// The graduation year of a record as the API shows it.
fn d_year(app: &common::app::TestApp, auth: &str, record: i64) -> i64 {
    detail(app, auth, record)["record"]["graduation_year"]
        .as_i64()
        .expect("year")
}

fn a_walk_in_is_held_at_the_office_with_its_channel_and_hop(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let county = token(db, "370102", None);
    let id = id18("370102", "20020315", 123);
    let (status, answer) = app.post(REGISTER, &county, &walk_in(&person("张三", &id, "370102")));
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["matched"], false);
    assert_eq!(answer["outcome"], "registered");
    assert_eq!(answer["channel"], "walk_in");
    assert_eq!(
        (
            answer["route"]["province"].as_str(),
            answer["route"]["county"].as_str(),
            answer["route"]["method"].as_str()
        ),
        (Some("370000"), Some("370102"), Some("direct"))
    );
    assert_eq!(answer["warnings"], json!([]));
    let record = answer["record_id"].as_i64().expect("record id");

    // The county's 111号 summary counts the person at once, and its drill-down lists them.
    let year = d_year(&app, &county, record);
    let summary = app.ok(
        &format!("/api/v1/reports/summary?year={year}&as_of=2099-12-31"),
        &county,
    );
    assert_eq!(summary["total"]["cells"]["received"], 1, "{summary}");
    assert_eq!(summary["total"]["cells"]["acknowledged"], 1);
    let listed = app.ok(
        &format!("/api/v1/reports/summary/records?year={year}&as_of=2099-12-31&column=received"),
        &county,
    );
    assert_eq!(listed["records"][0]["record"]["id"].as_i64(), Some(record));

    let d = detail(&app, &county, record);
    assert_eq!(d["record"]["channel"], "walk_in");
    assert_eq!(d["record"]["source"], "370102");
    assert_eq!(d["record"]["name"], "张三");
    let county_id = org_id(db, "370102");
    assert_eq!(
        (
            d["placement"]["holder_org_id"].as_i64(),
            d["placement"]["target_org_id"].as_i64(),
            d["placement"]["state"].as_str()
        ),
        (Some(county_id), Some(county_id), Some("settled"))
    );
    assert_eq!(hop_kinds(&d), ["registered"]);
    assert_eq!(d["hops"][0]["to"]["code"], "370102");
    assert!(d["hops"][0]["from"].is_null());
    assert!(d["hops"][0]["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("token:")));

    // The one-row batch is the office's own, marked placed with the record: the placer and the
    // cutter leave it where it is.
    let batch = answer["batch_id"].as_i64().expect("batch");
    let b = app.ok(&format!("/api/v1/batches/{batch}"), &county);
    assert_eq!(
        (
            b["source"].as_str(),
            b["channel"].as_str(),
            b["rows"].as_u64(),
            b["accepted"].as_u64()
        ),
        (Some("370102"), Some("walk_in"), Some(1), Some(1))
    );
    assert!(b["file_name"]
        .as_str()
        .is_some_and(|n| n.starts_with("登记 token:")));
    {
        let mut conn = db.db.conn().expect("conn");
        assert!(placements::unplaced_batches(&mut conn)
            .expect("unplaced")
            .is_empty());
    }
    assert_eq!(app.dist.place_new().expect("place"), 0);
    assert!(app
        .dist
        .cut_auto(AutoCut::All, china_today())
        .expect("cut")
        .is_empty());
    assert_eq!(
        detail(&app, &county, record)["placement"]["state"],
        "settled"
    );
    let events = {
        let mut conn = db.db.conn().expect("conn");
        gradhub::db::audit::list(
            &mut conn,
            &gradhub::authz::Scope::All,
            Some(&format!("record:{record}")),
            10,
        )
        .expect("audit")
    };
    let registered: Vec<_> = events
        .iter()
        .filter(|e| e.action == "record.registered")
        .collect();
    assert_eq!(registered.len(), 1, "one audit event");
    assert!(registered[0]
        .after
        .as_deref()
        .is_some_and(|a| a.contains("walk_in") && !a.contains(&id)));

    // A visit by a grassroots point, without household registration: kept, with the file's
    // warning, routed by the ID number for information, held at the point all the same.
    let point = grassroots(&app, db);
    let mut values = person("李四", &id18("370112", "20010610", 456), "");
    values["hukou_code"] = Value::Null;
    let answer = app.ok_post(
        REGISTER,
        &point,
        &json!({ "channel": "visit", "record": values }),
    );
    assert_eq!(answer["channel"], "visit");
    assert_eq!(answer["route"]["method"], "id_prefix");
    assert_eq!(answer["route"]["county"], "370112");
    let codes: Vec<&str> = answer["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert_eq!(codes, ["HUKOU_MISSING"]);
    let d = detail(&app, &point, answer["record_id"].as_i64().expect("id"));
    assert_eq!(d["record"]["channel"], "visit");
    assert_eq!(
        d["placement"]["holder_org_id"].as_i64(),
        Some(org_id(db, "370102-001"))
    );
    assert_eq!(d["placement"]["state"], "settled");
    // The county above sees it in its jurisdiction.
    detail(&app, &county, answer["record_id"].as_i64().expect("id"));
}

fn bad_values_get_the_transfer_file_codes_and_store_nothing(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let county = token(db, "370102", None);
    let good = id18("370102", "20020315", 123);
    // The check character changed: 0 → 1, anything → 0.
    let bad_id = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    let values = json!({
        "name": "李 四",
        "sex": "1",
        "id_number": bad_id,
        "education_level": "21",
        "school_code": "1042",
        "school_name": "山东大学",
        "graduation_date": "2099-06-30",
        "hukou_code": "370102",
        "phone": "12345",
    });
    let (status, answer) = app.post(REGISTER, &county, &walk_in(&values));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "REGISTRATION_INVALID");
    let registered: BTreeSet<(String, String)> = answer["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()));
            assert!(p["message_en"].as_str().is_some_and(|m| !m.is_empty()));
            (
                p["code"].as_str().expect("code").to_string(),
                p["column"].as_str().expect("column").to_string(),
            )
        })
        .collect();
    for expected in [
        ("NAME_SPACE", "name"),
        ("ID_CHECKSUM", "id_number"),
        ("SCHOOL_CODE_FORMAT", "school_code"),
        ("DATE_FUTURE", "graduation_date"),
        ("REQUIRED", "major_name"),
        ("PHONE_FORMAT", "phone"),
    ] {
        assert!(
            registered.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {registered:?}"
        );
    }

    // The same values as a row of a transfer file get the same codes on the same columns.
    let row = format!("李 四,1,,,{bad_id},,,21,1042,山东大学,,,2099-06-30,370102,,12345,,,");
    let path = db.path("same.csv");
    std::fs::write(&path, format!("{HEADER}\n{row}\n")).expect("write");
    let mut conn = db.db.conn().expect("conn");
    let request = ingest::IngestRequest {
        path: &path,
        file_name: "same.csv",
        source: "edu-test",
        channel: ingest::Channel::Education,
        dry_run: true,
    };
    let outcome =
        ingest::ingest(&mut conn, &db.router(), &request, &ingest::Silent).expect("dry run");
    drop(conn);
    let in_file: BTreeSet<(String, String)> = outcome
        .problems
        .iter()
        .map(|p| (p.code.clone(), p.column_key.clone()))
        .collect();
    assert_eq!(registered, in_file, "the transfer file's rules, exactly");

    // Shape errors of the request: an unknown key, a value that is no cell, a channel that is
    // not an office's, a body that is not JSON.
    let mut typo = person("王五", &good, "370102");
    typo["idnumber"] = json!("1");
    let (status, answer) = app.post(REGISTER, &county, &walk_in(&typo));
    assert_eq!(
        (status, answer["code"].as_str()),
        (400, Some("BODY_INVALID")),
        "{answer}"
    );
    assert!(answer["message_en"]
        .as_str()
        .is_some_and(|m| m.contains("idnumber")));
    let mut listed = person("王五", &good, "370102");
    listed["phone"] = json!(["1", "2"]);
    let (status, _) = app.post(REGISTER, &county, &walk_in(&listed));
    assert_eq!(status, 400);
    for channel in ["education", "self", "door"] {
        let (status, answer) = app.post(
            REGISTER,
            &county,
            &json!({"channel": channel, "record": person("王五", &good, "370102")}),
        );
        assert_eq!(
            (status, answer["code"].as_str()),
            (400, Some("CHANNEL_INVALID")),
            "{channel}"
        );
    }
    let (status, _) = app.post(REGISTER, &county, &json!({"record": {}}));
    assert_eq!(status, 400, "the channel is required");
    common::nothing_stored(db);
    assert_eq!(count(db, "placements"), 0);
    assert_eq!(count(db, "record_hops"), 0);
}

fn the_same_registration_twice_is_stored_once(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let county = token(db, "370102", None);
    let id = id18("370102", "20020315", 123);
    let first = app.post(REGISTER, &county, &walk_in(&person("张三", &id, "370102")));
    assert_eq!(first.0, 201, "{}", first.1);
    // The same values as a clerk may type them again: spaces around, full-width digits.
    let full_width: String = id
        .chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32('０' as u32 + d).unwrap_or(c),
            None => c,
        })
        .collect();
    let mut again = person(" 张三 ", &full_width, "370102");
    again["sex"] = json!(sex_of(&id));
    for body in [walk_in(&person("张三", &id, "370102")), walk_in(&again)] {
        let (status, answer) = app.post(REGISTER, &county, &body);
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["outcome"], "duplicate");
        assert_eq!(answer["record_id"], first.1["record_id"]);
        assert_eq!(answer["batch_id"], first.1["batch_id"]);
        assert_eq!(answer["matched"], false, "as the first registration was");
    }
    assert_eq!(count(db, "records"), 1);
    assert_eq!(count(db, "batches"), 1);
    assert_eq!(count(db, "record_history"), 0);
    assert_eq!(count(db, "placements"), 1);
    assert_eq!(count(db, "record_hops"), 1);
    assert_eq!(count(db, "batch_placements"), 1);

    // The same values by visit are another registration of a person the office holds.
    let (status, answer) = app.post(
        REGISTER,
        &county,
        &json!({"channel": "visit", "record": person("张三", &id, "370102")}),
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        (answer["matched"].as_bool(), answer["outcome"].as_str()),
        (Some(true), Some("updated"))
    );
    assert_eq!(count(db, "records"), 1);
}

fn a_person_held_in_the_office_jurisdiction_gets_a_new_version(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let id = id18("370102", "20020315", 123);
    education_file(&app, db, &[line("张三", &id, "370102", "")]);
    for org in ["370000", "370100", "370102"] {
        acknowledge_and_cut(&app, &token(db, org, None));
    }
    let county = token(db, "370102", None);
    let held = app.ok("/api/v1/records?state=settled", &county);
    let record = held["records"][0]["record"]["id"]
        .as_i64()
        .expect("settled");
    let before = detail(&app, &county, record);
    assert_eq!(before["record"]["channel"], "education");

    let mut values = person("张三", &id, "370102");
    values["phone"] = json!("13900001111");
    let (status, answer) = app.post(
        REGISTER,
        &county,
        &json!({"channel": "visit", "record": values}),
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["record_id"], record, "the same record");
    assert_eq!(
        (answer["matched"].as_bool(), answer["outcome"].as_str()),
        (Some(true), Some("updated"))
    );
    let after = detail(&app, &county, record);
    assert_eq!(after["record"]["phone"], "13900001111");
    assert_eq!(after["record"]["channel"], "visit");
    assert_eq!(after["record"]["version"], 2);
    assert_eq!(
        after["placement"], before["placement"],
        "placement unchanged"
    );
    assert_eq!(
        hop_kinds(&after),
        hop_kinds(&before),
        "no hop: it did not move"
    );
    let mut conn = db.db.conn().expect("conn");
    assert_eq!(
        records::history_count(&mut conn, record).expect("history"),
        1
    );
    drop(conn);
    assert_eq!(count(db, "records"), 1);

    // Held below the county, at its grassroots point, it is still the county's to update.
    let point = grassroots(&app, db);
    app.ok_post(
        "/api/v1/queue/assign",
        &county,
        &json!({"record_ids": [record], "to": "370102-001"}),
    );
    acknowledge_and_cut(&app, &county);
    acknowledge_and_cut(&app, &point);
    assert_eq!(
        detail(&app, &county, record)["placement"]["holder_org_id"].as_i64(),
        Some(org_id(db, "370102-001"))
    );
    let mut values = person("张三", &id, "370102");
    values["phone"] = json!("13900002222");
    let answer = app.ok_post(REGISTER, &county, &walk_in(&values));
    assert_eq!(answer["outcome"], "updated");
    assert_eq!(
        detail(&app, &county, record)["placement"]["holder_org_id"].as_i64(),
        Some(org_id(db, "370102-001")),
        "still at the point"
    );
    // The point holds it itself now: its registration updates it too.
    let answer = app.ok_post(REGISTER, &point, &walk_in(&person("张三", &id, "370102")));
    assert_eq!(answer["outcome"], "updated");
}

fn a_person_waiting_above_is_taken_by_the_office(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let queued = id18("370102", "20020315", 123);
    let unplaced = id18("370102", "20010610", 456);
    // Queued at the hub: ingested and placed, the cut not run.
    ingest_graduate(db, "edu-test", "张三", &queued);
    app.dist.place_new().expect("place");
    let county = token(db, "370102", None);
    let hub = org_id(db, "000000");
    let county_id = org_id(db, "370102");

    let answer = app.ok_post(
        REGISTER,
        &county,
        &walk_in(&person("张三", &queued, "370102")),
    );
    assert_eq!(
        (answer["matched"].as_bool(), answer["outcome"].as_str()),
        (Some(true), Some("taken"))
    );
    let record = answer["record_id"].as_i64().expect("id");
    let d = detail(&app, &county, record);
    assert_eq!(
        (
            d["placement"]["holder_org_id"].as_i64(),
            d["placement"]["target_org_id"].as_i64(),
            d["placement"]["state"].as_str()
        ),
        (Some(county_id), Some(county_id), Some("settled"))
    );
    assert_eq!(hop_kinds(&d), ["placed", "registered"]);
    assert_eq!(d["hops"][1]["from_org_id"].as_i64(), Some(hub));
    assert_eq!(d["record"]["channel"], "walk_in");
    let mut conn = db.db.conn().expect("conn");
    assert_eq!(
        records::history_count(&mut conn, record).expect("history"),
        1
    );
    drop(conn);
    // The hub's cut has nothing left to send.
    assert!(app
        .dist
        .cut_auto(AutoCut::Ministry, china_today())
        .expect("cut")
        .is_empty());

    // Stored by a batch the hub has not placed yet: taken too, and the placer leaves it.
    ingest_graduate(db, "edu-test", "李四", &unplaced);
    let answer = app.ok_post(
        REGISTER,
        &county,
        &walk_in(&person("李四", &unplaced, "370102")),
    );
    assert_eq!(answer["outcome"], "taken");
    let record = answer["record_id"].as_i64().expect("id");
    assert_eq!(app.dist.place_new().expect("place"), 0);
    let d = detail(&app, &county, record);
    assert_eq!(hop_kinds(&d), ["registered"]);
    assert_eq!(d["placement"]["state"], "settled");
    assert_eq!(count(db, "placements"), 2);

    // Unassigned above the county (returned to the prefecture): taken.
    let third = id18("370102", "20000101", 789);
    education_file(&app, db, &[line("王五", &third, "370102", "")]);
    acknowledge_and_cut(&app, &token(db, "370000", None));
    let prefecture = token(db, "370100", None);
    acknowledge_and_cut(&app, &prefecture);
    let inbox = app.ok("/api/v1/inbox?state=delivered", &county);
    let package = inbox["packages"][0]["id"].as_i64().expect("package");
    let records_page = app.ok(&format!("/api/v1/packages/{package}/records"), &county);
    let third_id = records_page["records"][0]["record"]["id"]
        .as_i64()
        .expect("record");
    // Pending in the county's own inbox: held in its jurisdiction, updated where it is.
    let answer = app.ok_post(
        REGISTER,
        &county,
        &walk_in(&person("王五", &third, "370102")),
    );
    assert_eq!(answer["outcome"], "updated");
    assert_eq!(
        detail(&app, &county, third_id)["placement"]["state"],
        "pending"
    );
    app.ok_post(
        &format!("/api/v1/packages/{package}/returns"),
        &county,
        &json!({"returns": [{"record_id": third_id, "reason": "wrong_information"}]}),
    );
    let point = grassroots(&app, db);
    let answer = app.ok_post(
        REGISTER,
        &point,
        &walk_in(&person("王五", &third, "370102")),
    );
    assert_eq!(
        answer["outcome"], "taken",
        "unassigned at the prefecture, above"
    );
    let d = detail(&app, &point, third_id);
    assert_eq!(
        d["placement"]["holder_org_id"].as_i64(),
        Some(org_id(db, "370102-001"))
    );
    assert_eq!(d["placement"]["state"], "settled");
}

fn a_person_held_elsewhere_is_refused_without_saying_where(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let beijing = id18("110101", "20000101", 789);
    let pending = id18("370102", "20020315", 123);
    education_file(
        &app,
        db,
        &[
            line("王五", &beijing, "110101", ""),
            line("张三", &pending, "370102", ""),
        ],
    );
    // 北京 acknowledges: queued at 北京市 for its district. 山东's package waits for 签收.
    acknowledge(&app, &token(db, "110000", None));
    let county = token(db, "370102", None);
    let records_before = count(db, "records");
    let batches_before = count(db, "batches");
    let history_before = count(db, "record_history");
    for (who, values) in [
        (
            "held in another province",
            person("王五", &beijing, "110101"),
        ),
        ("pending in a package", person("张三", &pending, "370102")),
    ] {
        let (status, answer) = app.post(REGISTER, &county, &walk_in(&values));
        assert_eq!(
            (status, answer["code"].as_str()),
            (409, Some("REGISTERED_ELSEWHERE")),
            "{who}: {answer}"
        );
        let text = answer.to_string();
        for leak in ["110", "370000", "北京", "山东", "package", "分发包"] {
            assert!(!text.contains(leak), "{who}: nothing about where: {text}");
        }
    }
    // Registered by another county: refused as well.
    let other = id18("370112", "20010610", 456);
    let licheng = token(db, "370112", None);
    app.ok_post(
        REGISTER,
        &licheng,
        &walk_in(&person("李四", &other, "370112")),
    );
    let (status, answer) = app.post(
        REGISTER,
        &county,
        &walk_in(&person("李四", &other, "370112")),
    );
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("REGISTERED_ELSEWHERE"))
    );
    // A grassroots point cannot take what its county holds settled: the county registered it.
    let point = grassroots(&app, db);
    let mine = id18("370102", "19990909", 321);
    app.ok_post(
        REGISTER,
        &county,
        &walk_in(&person("赵六", &mine, "370102")),
    );
    let (status, _) = app.post(REGISTER, &point, &walk_in(&person("赵六", &mine, "370102")));
    assert_eq!(status, 409);
    assert_eq!(count(db, "records"), records_before + 2);
    assert_eq!(count(db, "batches"), batches_before + 2);
    assert_eq!(count(db, "record_history"), history_before);
}

fn roles_that_may_not_register_are_refused(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "370000");
    add_user(db, "boss", Role::Admin, "000000", "admin-password-1");
    let admin = app.ok_post(
        "/api/v1/session",
        "",
        &json!({"username": "boss", "password": "admin-password-1"}),
    )["token"]
        .as_str()
        .expect("token")
        .to_string();
    let callers = [
        ("ministry", token(db, "000000", Some(Role::Ministry))),
        ("province system", token(db, "370000", None)),
        ("prefecture system", token(db, "370100", None)),
        ("county auditor", token(db, "370102", Some(Role::Auditor))),
        ("sender", token(db, "edu-test", None)),
        ("admin", admin),
    ];
    let values = walk_in(&person("张三", &id18("370102", "20020315", 123), "370102"));
    for (who, secret) in &callers {
        let (status, answer) = app.post(REGISTER, secret, &values);
        assert_eq!(
            (status, answer["code"].as_str()),
            (403, Some("FORBIDDEN")),
            "{who}: {answer}"
        );
        assert!(answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("登记")));
        assert!(answer["message_en"]
            .as_str()
            .is_some_and(|m| m.contains("register")));
    }
    // Bad values from a role that may not register: still 403, nothing judged.
    let (status, _) = app.post(
        REGISTER,
        &callers[1].1,
        &json!({"channel": "walk_in", "record": {"name": "李 四"}}),
    );
    assert_eq!(status, 403);
    let (status, _) = app.post(REGISTER, "", &values);
    assert_eq!(status, 401);
    common::nothing_stored(db);
    // County staff (a user, not a token) may.
    add_user(db, "lixia", Role::County, "370102", "county-pass-1");
    let staff = app.ok_post(
        "/api/v1/session",
        "",
        &json!({"username": "lixia", "password": "county-pass-1"}),
    )["token"]
        .as_str()
        .expect("token")
        .to_string();
    let answer = app.ok_post(REGISTER, &staff, &values);
    assert_eq!(answer["outcome"], "registered");
}

fn a_later_education_file_updates_the_record_and_doubles_nothing(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let county = token(db, "370102", None);
    let id = id18("370102", "20020315", 123);
    let other = id18("370112", "20010610", 456);
    let answer = app.ok_post(REGISTER, &county, &walk_in(&person("张三", &id, "370102")));
    let record = answer["record_id"].as_i64().expect("id");

    // Education's transfer file arrives later with the same person and another one.
    let batch = education_file(
        &app,
        db,
        &[
            line("张三", &id, "370102", ""),
            line("李四", &other, "370112", ""),
        ],
    );
    let mut conn = db.db.conn().expect("conn");
    let summary = gradhub::db::batches::get(&mut conn, batch)
        .expect("batch")
        .expect("stored");
    assert_eq!(
        (summary.accepted, summary.updated),
        (1, 1),
        "updated, not accepted"
    );
    let year = 2025;
    let row = records::find_person(&mut conn, &id, year)
        .expect("query")
        .expect("person");
    assert_eq!(row.id, record, "the same record");
    assert_eq!(row.version, 2);
    assert_eq!(
        records::history_count(&mut conn, record).expect("history"),
        1
    );
    let placement = placements::placement_of(&mut conn, record)
        .expect("query")
        .expect("placed");
    assert_eq!(placement.holder_org_id, org_id(db, "370102"));
    assert_eq!(placement.state, PlacementState::Settled);
    let (_, _, hops) =
        placements::record_path_in_scope(&mut conn, &Scope::All, record, org_id(db, "000000"))
            .expect("hops")
            .expect("in scope");
    assert_eq!(
        hops.iter().map(|h| h.kind).collect::<Vec<_>>(),
        [HopKind::Registered],
        "no second placement, no hop at the hub"
    );
    drop(conn);
    assert_eq!(count(db, "records"), 2);
    assert_eq!(count(db, "placements"), 2);
    // The other person went the ordinary way, in 山东's package; 张三 in none.
    let sd = token(db, "370000", None);
    let inbox = app.ok("/api/v1/inbox", &sd);
    assert_eq!(inbox["packages"][0]["records"], 1);
    let d = detail(&app, &county, record);
    assert_eq!(d["placement"]["state"], "settled");
    assert_eq!(
        d["record"]["channel"], "education",
        "its latest version came by file"
    );
    assert_eq!(d["record"]["first_batch_id"], answer["batch_id"]);

    // The office registers again after the file: matched, the file's version kept in history.
    let mut values = person("张三", &id, "370102");
    values["phone"] = json!("13900003333");
    let again = app.ok_post(REGISTER, &county, &walk_in(&values));
    assert_eq!(
        (again["record_id"].as_i64(), again["outcome"].as_str()),
        (Some(record), Some("updated"))
    );
    let mut conn = db.db.conn().expect("conn");
    assert_eq!(
        records::history_count(&mut conn, record).expect("history"),
        2
    );
}

fn the_command_line_registers_and_refuses_with_exit_2(db: &TestDb) {
    let id = id18("370102", "20020315", 123);
    let run = |args: &[&str]| {
        gradhub_command(db)
            .arg("register")
            .args(args)
            .output()
            .expect("run gradhub")
    };
    let sex = format!("sex={}", sex_of(&id));
    let id_field = format!("id_number={id}");
    let values = [
        "--field",
        "name=张三",
        "--field",
        &sex,
        "--field",
        &id_field,
        "--field",
        "education_level=21",
        "--field",
        "school_code=10422",
        "--field",
        "school_name=山东大学",
        "--field",
        "major_name=计算机科学与技术",
        "--field",
        "graduation_date=2025-06-30",
    ];
    let mut args = vec!["--org", "370102", "--channel", "walk_in"];
    args.extend(values);
    let out = run(&args);
    let text = expect_exit(&out, 0);
    assert!(text.contains("已登记") && text.contains("新登记"), "{text}");
    assert!(
        text.contains("HUKOU_MISSING"),
        "the warning is printed: {text}"
    );

    // Again with --json: the same record, nothing stored twice.
    args.push("--json");
    let answer: Value = serde_json::from_str(&expect_exit(&run(&args), 0)).expect("json");
    assert_eq!(answer["outcome"], "duplicate");
    let record = answer["record_id"].as_i64().expect("id");
    let mut conn = db.db.conn().expect("conn");
    let row = records::find_person(&mut conn, &id, 2025)
        .expect("query")
        .expect("stored");
    assert_eq!(row.id, record);
    assert_eq!(row.channel, ingest::Channel::WalkIn);
    assert!(row.source == "370102");
    let (_, _, hops) =
        placements::record_path_in_scope(&mut conn, &Scope::All, record, org_id(db, "000000"))
            .expect("hops")
            .expect("in scope");
    assert!(
        hops[0].actor.starts_with("cli:"),
        "the operator acts: {}",
        hops[0].actor
    );
    drop(conn);

    // A record file, by visit, with a bad value: exit 2, the codes on standard error.
    let file = db.path("record.json");
    std::fs::write(
        &file,
        json!({"name": "李 四", "sex": 2, "id_number": id18("370112", "20010610", 456),
               "education_level": 21, "school_code": 10422, "school_name": "山东大学",
               "major_name": "软件工程", "graduation_date": 20250630, "hukou_code": 370112})
        .to_string(),
    )
    .expect("write");
    let file = file.to_str().expect("path");
    let out = run(&["--org", "370102", "--channel", "visit", "--record", file]);
    expect_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("REGISTRATION_INVALID") && err.contains("NAME_SPACE") && err.contains("姓名"),
        "{err}"
    );
    let out = run(&[
        "--org",
        "370102",
        "--channel",
        "visit",
        "--record",
        file,
        "--json",
    ]);
    let refused: Value = serde_json::from_str(&expect_exit(&out, 2)).expect("json");
    assert_eq!(refused["problems"][0]["code"], "NAME_SPACE");

    // Not an office that registers, not a channel of one, not a field: exit 2 with the reason.
    let mut province = vec!["--org", "370000", "--channel", "walk_in"];
    province.extend(values);
    let out = run(&province);
    expect_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("FORBIDDEN"));
    let out = run(&[
        "--org",
        "370102",
        "--channel",
        "education",
        "--field",
        "name=x",
    ]);
    expect_exit(&out, 2);
    let out = run(&[
        "--org",
        "370102",
        "--channel",
        "walk_in",
        "--field",
        "nam=x",
    ]);
    expect_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nam"));
    assert_eq!(count(db, "records"), 1);
    assert_eq!(count(db, "batches"), 1);
}

on_both_backends!(
    a_walk_in_is_held_at_the_office_with_its_channel_and_hop,
    bad_values_get_the_transfer_file_codes_and_store_nothing,
    the_same_registration_twice_is_stored_once,
    a_person_held_in_the_office_jurisdiction_gets_a_new_version,
    a_person_waiting_above_is_taken_by_the_office,
    a_person_held_elsewhere_is_refused_without_saying_where,
    roles_that_may_not_register_are_refused,
    a_later_education_file_updates_the_record_and_doubles_nothing,
    the_command_line_registers_and_refuses_with_exit_2,
);
