//! Distribution as its users meet it, on both backends: a file dropped by an education bureau
//! travels ministry → province → prefecture → county through the exchange API; returns and
//! re-assignment; deadlines across National Day; reminders through a real SMTP server that goes
//! down for a while.

#[macro_use]
mod common;

use common::app::{
    add_sender, ingest_graduate, ingest_text, spawn_app, test_config, token, TestApp,
};
use common::smtp::SmtpSink;
use common::{count, id18, line, TestDb, HEADER};
use gradhub::distribution::AutoCut;
use gradhub::jobs::drop_folder::DropFolder;
use gradhub::jobs::Worker;
use gradhub::notify::{MailConfig, Mailer};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn date(s: &str) -> chrono::NaiveDate {
    s.parse().expect("date")
}

/// A worker for the app's database, run pass by pass by the test.
fn worker(
    app: &TestApp,
    db: &TestDb,
    drop: Option<&std::path::Path>,
    mailer: Option<Mailer>,
) -> Worker {
    Worker {
        dist: app.dist.clone(),
        unemployment: app.unemployment.clone(),
        router: Arc::new(db.router()),
        mailer,
        retry_secs: 1,
        auto_cut: AutoCut::Ministry,
        drop: drop.map(|d| DropFolder::open(d, Duration::ZERO).expect("drop folder")),
        node: "test-node".into(),
    }
}

/// Three graduates: two from 济南 (历下区, 历城区), one from 北京东城区.
fn three_graduates() -> String {
    format!(
        "{HEADER}\n{}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", &id18("370112", "20010610", 456), "370112", ""),
        line("王五", &id18("110101", "20000101", 789), "110101", ""),
    )
}

/// Adds a contact (who receives reminders) to an organisation.
fn add_contact(db: &TestDb, org: &str, name: &str, email: &str) {
    let mut conn = db.db.conn().expect("conn");
    let row = gradhub::db::orgs::find_by_code(&mut conn, org)
        .expect("query")
        .expect("org");
    gradhub::db::orgs::add_contact(&mut conn, row.id, name, email, None).expect("contact");
}

/// Ingests a file as a sender, places and cuts at the hub as of `day`.
fn ingest_and_cut(app: &TestApp, db: &TestDb, text: &str, day: &str) {
    add_sender(db, "edu-test", "000000");
    ingest_text(db, "edu-test", text);
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, date(day))
        .expect("cut");
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["record"]["id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

fn only_package(inbox: &Value) -> Value {
    let packages = inbox["packages"].as_array().expect("packages");
    assert_eq!(packages.len(), 1, "one package: {inbox}");
    packages[0].clone()
}

fn dropped_file_travels_to_a_county_acknowledgement(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let drop = db.path("drop");
    let mut worker = worker(&app, db, Some(&drop), None);
    worker.pass(date("2026-11-23"), SystemTime::now());
    let sender_dir = drop.join("edu-370000");
    std::fs::create_dir_all(&sender_dir).expect("sender folder");
    std::fs::write(sender_dir.join("2026届.csv"), three_graduates()).expect("drop");
    // The first look sees the file, the second sees it unchanged: complete.
    let first = worker.pass(date("2026-11-23"), SystemTime::now());
    assert_eq!(first.files_ingested, 0, "not taken at first sight");
    let second = worker.pass(date("2026-11-23"), SystemTime::now());
    assert_eq!(second.files_ingested, 1);
    assert_eq!(second.records_placed, 3);
    assert_eq!(second.packages_cut, 2, "one package each for 山东 and 北京");
    let processed: Vec<String> = std::fs::read_dir(sender_dir.join("processed"))
        .expect("processed")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .collect();
    assert_eq!(
        processed.len(),
        3,
        "file, summary, reject report: {processed:?}"
    );
    let summary_name = processed
        .iter()
        .find(|n| n.ends_with(".summary.json"))
        .expect("summary");
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(sender_dir.join("processed").join(summary_name)).expect("read"),
    )
    .expect("json");
    assert_eq!(
        (summary["accepted"].as_u64(), summary["source"].as_str()),
        (Some(3), Some("edu-370000"))
    );
    assert!(
        !sender_dir.join("2026届.csv").exists(),
        "moved out of the drop folder"
    );

    // The same file dropped again with its time kept (a Windows copy: same name, size and time,
    // so the same claim, already done) is filed as a duplicate of its batch; a folder that is not
    // a registered sender gets its file back in failed/ with the reason.
    let first_copy = processed
        .iter()
        .find(|n| n.ends_with("2026届.csv"))
        .expect("data file");
    let mtime = std::fs::metadata(sender_dir.join("processed").join(first_copy))
        .and_then(|m| m.modified())
        .expect("mtime");
    std::fs::write(sender_dir.join("2026届.csv"), three_graduates()).expect("drop again");
    std::fs::File::options()
        .write(true)
        .open(sender_dir.join("2026届.csv"))
        .and_then(|f| f.set_modified(mtime))
        .expect("keep the time");
    let stranger = drop.join("edu-nobody");
    std::fs::create_dir_all(&stranger).expect("folder");
    std::fs::write(stranger.join("x.csv"), three_graduates()).expect("drop");
    worker.pass(date("2026-11-23"), SystemTime::now());
    let again = worker.pass(date("2026-11-23"), SystemTime::now());
    assert_eq!(
        (
            again.files_ingested,
            again.files_failed,
            again.records_placed
        ),
        (1, 1, 0)
    );
    let summaries: Vec<Value> = std::fs::read_dir(sender_dir.join("processed"))
        .expect("processed")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".summary.json"))
        .map(|e| {
            serde_json::from_str(&std::fs::read_to_string(e.path()).expect("read")).expect("json")
        })
        .collect();
    assert_eq!(summaries.len(), 2);
    assert!(
        summaries
            .iter()
            .any(|s| s["duplicate_of"] == summary["batch_id"]),
        "{summaries:?}"
    );
    let refused: Vec<String> = std::fs::read_dir(stranger.join("failed"))
        .expect("failed")
        .filter_map(|e| e.ok().map(|e| e.path().to_string_lossy().to_string()))
        .filter(|p| p.ends_with(".summary.json"))
        .collect();
    let why = std::fs::read_to_string(&refused[0]).expect("summary");
    assert!(
        why.contains("SENDER_UNKNOWN") && why.contains("edu-nobody"),
        "{why}"
    );

    // 山东省's system pulls its inbox with a cursor; a repeated pull answers the same.
    let province = token(db, "370000", None);
    let inbox = app.ok("/api/v1/inbox?after=0", &province);
    let package = only_package(&inbox);
    assert_eq!(
        app.ok("/api/v1/inbox?after=0", &province),
        inbox,
        "pulling again changes nothing"
    );
    let cursor = inbox["next_cursor"].as_i64().expect("cursor");
    let later = app.ok(&format!("/api/v1/inbox?after={cursor}"), &province);
    assert_eq!(later["packages"].as_array().map(Vec::len), Some(0));
    assert_eq!(later["next_cursor"].as_i64(), Some(cursor));
    let id = package["id"].as_i64().expect("id");
    assert_eq!(
        (package["records"].as_i64(), package["state"].as_str()),
        (Some(2), Some("delivered"))
    );
    assert_eq!(package["sender"]["code"], "000000");

    // Records a page at a time; the cursor moves on and ends.
    let page1 = app.ok(&format!("/api/v1/packages/{id}/records?limit=1"), &province);
    let next = page1["next_cursor"].as_i64().expect("cursor");
    let page2 = app.ok(
        &format!("/api/v1/packages/{id}/records?limit=1&after={next}"),
        &province,
    );
    let end = page2["next_cursor"].as_i64().expect("cursor");
    let page3 = app.ok(
        &format!("/api/v1/packages/{id}/records?limit=1&after={end}"),
        &province,
    );
    assert_eq!(ids_of(&page3).len(), 0);
    let mut ids = ids_of(&page1);
    ids.extend(ids_of(&page2));
    assert_eq!(ids.len(), 2);
    assert_eq!(page1["records"][0]["record"]["route_province"], "370000");
    assert_eq!(page1["records"][0]["outcome"], "pending");

    let csv = app
        .client
        .get(format!(
            "{}/api/v1/packages/{id}/download?format=csv",
            app.base
        ))
        .bearer_auth(&province)
        .send()
        .expect("download")
        .text()
        .expect("text");
    assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
    assert!(
        csv.contains("路由县代码")
            && csv.contains("记录号")
            && csv.contains("张三")
            && csv.contains("李四")
    );
    assert!(
        !csv.contains("王五"),
        "北京's graduate is not in 山东's package"
    );
    let xlsx = app
        .client
        .get(format!(
            "{}/api/v1/packages/{id}/download?format=xlsx",
            app.base
        ))
        .bearer_auth(&province)
        .send()
        .expect("xlsx")
        .bytes()
        .expect("bytes");
    assert!(xlsx.starts_with(b"PK"));

    // A mistyped return reason is refused whole, not taken as a plain acknowledgement.
    let (status, err) = app.post(
        &format!("/api/v1/packages/{id}/acknowledge"),
        &province,
        &json!({"returns": [{"record_id": ids[0], "reason": "wrong_province"}]}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (400, Some("BODY_INVALID")),
        "{err}"
    );
    assert_eq!(
        app.ok(&format!("/api/v1/packages/{id}"), &province)["state"],
        "delivered"
    );
    let (status, err) = app.get("/api/v1/inbox?state=bogus", &province);
    assert_eq!((status, err["code"].as_str()), (400, Some("STATE_INVALID")));
    let (status, err) = app.get("/api/v1/packages/abc", &province);
    assert_eq!((status, err["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, err) = app.get("/api/v1/no-such-thing", &province);
    assert_eq!((status, err["code"].as_str()), (404, Some("NOT_FOUND")));

    // 签收, then redistribute to the prefectures.
    let acked = app.ok_post(
        &format!("/api/v1/packages/{id}/acknowledge"),
        &province,
        &json!({}),
    );
    assert_eq!(acked["state"], "acknowledged");
    let again = app.ok_post(
        &format!("/api/v1/packages/{id}/acknowledge"),
        &province,
        &json!({}),
    );
    assert_eq!(
        again["acknowledged_at"], acked["acknowledged_at"],
        "acknowledging twice is harmless"
    );
    let cut = app.ok_post("/api/v1/packages/cut", &province, &json!({}));
    assert_eq!(cut.as_array().map(Vec::len), Some(1));
    assert_eq!(cut[0]["receiver"]["code"], "370100");

    let prefecture = token(db, "370100", None);
    let pkg = only_package(&app.ok("/api/v1/inbox", &prefecture));
    let pid = pkg["id"].as_i64().expect("id");
    app.ok_post(
        &format!("/api/v1/packages/{pid}/acknowledge"),
        &prefecture,
        &json!({}),
    );
    // 济南's system pushes the 历下区 graduate itself, then lets the hub cut the rest by route.
    let records = app.ok(&format!("/api/v1/packages/{pid}/records"), &prefecture);
    let lixia = records["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["record"]["route_county"] == "370102")
        .and_then(|r| r["record"]["id"].as_i64())
        .expect("历下区 graduate");
    let (status, err) = app.post(
        "/api/v1/packages",
        &prefecture,
        &json!({"receiver": "370000", "record_ids": [lixia]}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("NOT_A_CHILD")),
        "only directly below"
    );
    let pushed = app.ok_post(
        "/api/v1/packages",
        &prefecture,
        &json!({"receiver": "370102", "record_ids": [lixia]}),
    );
    assert_eq!(
        (
            pushed["receiver"]["code"].as_str(),
            pushed["records"].as_i64()
        ),
        (Some("370102"), Some(1))
    );
    let cut = app.ok_post("/api/v1/packages/cut", &prefecture, &json!({}));
    let receivers: Vec<&str> = cut
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["receiver"]["code"].as_str())
        .collect();
    assert_eq!(receivers, ["370112"], "the pushed record is not cut again");

    let county = token(db, "370102", None);
    let pkg = only_package(&app.ok("/api/v1/inbox", &county));
    let cid = pkg["id"].as_i64().expect("id");
    let acked = app.ok_post(
        &format!("/api/v1/packages/{cid}/acknowledge"),
        &county,
        &json!({}),
    );
    assert_eq!(acked["state"], "acknowledged");
    let held = app.ok("/api/v1/queue?state=settled", &county);
    let settled = ids_of(&held);
    assert_eq!(settled.len(), 1, "the graduate has arrived at 历下区");

    // The record's whole path: placed at the hub, then three deliveries, each acknowledged.
    let detail = app.ok(&format!("/api/v1/records/{}", settled[0]), &county);
    let hops = detail["hops"].as_array().expect("hops");
    let path: Vec<(&str, &str, &str)> = hops
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap_or(""),
                h["to"]["code"].as_str().unwrap_or(""),
                h["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        path,
        [
            ("placed", "000000", ""),
            ("delivered", "370000", "acknowledged"),
            ("delivered", "370100", "acknowledged"),
            ("delivered", "370102", "acknowledged"),
        ]
    );
    assert!(
        hops[3]["outcome_by"]
            .as_str()
            .unwrap_or("")
            .starts_with("token:"),
        "who signed"
    );

    let figures = app.ok("/api/v1/figures", &province);
    assert_eq!(figures["organisation"]["received"], 2);
    assert_eq!(figures["organisation"]["distributed"], 2);
    assert_eq!(figures["organisation"]["acknowledged"], 2);
    assert!(figures["organisation"]["median_ack_hours"].is_number());
    let levels: Vec<&str> = figures["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .filter_map(|l| l["level"].as_str())
        .collect();
    assert_eq!(levels, ["province", "prefecture", "county"]);
    let codes = serde_json::to_string(&figures["organisations"]).expect("json");
    assert!(
        !codes.contains("110000"),
        "no other province in 山东's figures"
    );

    // The county hands the graduate on to a grassroots service point (街道平台) it set up.
    {
        let mut conn = db.db.conn().expect("conn");
        let county_row = gradhub::db::orgs::find_by_code(&mut conn, "370102")
            .expect("query")
            .expect("county");
        gradhub::db::orgs::add(
            &mut conn,
            "370102-001",
            "文化东路街道服务平台",
            gradhub::domain::organisation::OrgLevel::Grassroots,
            &county_row,
        )
        .expect("grassroots point");
    }
    app.dist.refresh_tree().expect("tree");
    let (status, err) = app.post(
        "/api/v1/queue/assign",
        &county,
        &json!({"record_ids": [settled[0]], "to": "370100"}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("NOT_BELOW_YOU")),
        "not upward"
    );
    let assigned = app.ok_post(
        "/api/v1/queue/assign",
        &county,
        &json!({"record_ids": [settled[0]], "to": "370102-001"}),
    );
    assert_eq!(assigned["assigned"], 1);
    let cut = app.ok_post("/api/v1/packages/cut", &county, &json!({}));
    assert_eq!(cut[0]["receiver"]["code"], "370102-001");
    let point = token(db, "370102-001", None);
    let gid = only_package(&app.ok("/api/v1/inbox", &point))["id"]
        .as_i64()
        .expect("id");
    app.ok_post(
        &format!("/api/v1/packages/{gid}/acknowledge"),
        &point,
        &json!({}),
    );
    assert_eq!(
        ids_of(&app.ok("/api/v1/queue?state=settled", &point)),
        [settled[0]]
    );
    let detail = app.ok(&format!("/api/v1/records/{}", settled[0]), &county);
    let last = detail["hops"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .expect("hop");
    assert_eq!(
        (last["to"]["code"].as_str(), last["outcome"].as_str()),
        (Some("370102-001"), Some("acknowledged")),
        "the county still sees it, one level down"
    );

    let mut conn = db.db.conn().expect("conn");
    let events = gradhub::db::audit::list(
        &mut conn,
        &gradhub::authz::Scope::All,
        Some(&format!("package:{id}")),
        50,
    )
    .expect("audit");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    for wanted in [
        "package.delivered",
        "package.records_read",
        "package.exported",
        "package.acknowledged",
    ] {
        assert!(actions.contains(&wanted), "{wanted} audited: {actions:?}");
    }
}

fn a_returned_record_is_reassigned_by_hand(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    ingest_and_cut(&app, db, &three_graduates(), "2026-11-23");
    let shandong = token(db, "370000", None);
    let beijing = token(db, "110000", None);
    let hub = token(db, "000000", None);
    let package = only_package(&app.ok("/api/v1/inbox", &shandong));
    let id = package["id"].as_i64().expect("id");
    let records = ids_of(&app.ok(&format!("/api/v1/packages/{id}/records"), &shandong));
    let (wrong, right) = (records[0], records[1]);

    // A record that is not in the package: nothing is returned.
    let (status, err) = app.post(
        &format!("/api/v1/packages/{id}/returns"),
        &shandong,
        &json!({"returns": [{"record_id": wrong, "reason": "not_our_jurisdiction"}, {"record_id": 999999, "reason": "duplicate"}]}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("RECORD_NOT_IN_PACKAGE")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap_or("").contains("999999"));
    assert_eq!(
        app.ok(&format!("/api/v1/packages/{id}"), &shandong)["returned"],
        0,
        "all or nothing"
    );

    let returned = app.ok_post(
        &format!("/api/v1/packages/{id}/returns"),
        &shandong,
        &json!({"returns": [{"record_id": wrong, "reason": "not_our_jurisdiction", "note": "户籍在北京"}]}),
    );
    assert_eq!(returned["returned"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/records/{wrong}"), &shandong).0,
        404,
        "no longer 山东's"
    );

    // The hub's unassigned queue holds it, with the reason.
    let queue = app.ok("/api/v1/queue", &hub);
    let waiting = queue["records"].as_array().expect("records");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["record"]["id"], wrong);
    assert!(waiting[0]["placement"]["reason"]
        .as_str()
        .unwrap_or("")
        .contains("非本辖区户籍：户籍在北京"));
    assert_eq!(waiting[0]["placement"]["returns"], 1);

    let acked = app.ok_post(
        &format!("/api/v1/packages/{id}/acknowledge"),
        &shandong,
        &json!({}),
    );
    assert_eq!(
        (acked["state"].as_str(), acked["returned"].as_i64()),
        (Some("acknowledged"), Some(1))
    );
    let (status, err) = app.post(
        &format!("/api/v1/packages/{id}/returns"),
        &shandong,
        &json!({"returns": [{"record_id": right, "reason": "duplicate"}]}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("ALREADY_ACKNOWLEDGED"))
    );

    // Assigned by hand to 北京东城区 and cut again: 北京 receives a second package.
    let (status, err) = app.post(
        "/api/v1/queue/assign",
        &hub,
        &json!({"record_ids": [right], "to": "110101"}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("RECORDS_NOT_HELD")),
        "held by 山东, not the hub"
    );
    let assigned = app.ok_post(
        "/api/v1/queue/assign",
        &hub,
        &json!({"record_ids": [wrong], "to": "110101"}),
    );
    assert_eq!(assigned["assigned"], 1);
    let cut = app.ok_post("/api/v1/packages/cut", &hub, &json!({}));
    assert_eq!(cut.as_array().map(Vec::len), Some(1));
    assert_eq!(cut[0]["receiver"]["code"], "110000");
    let inbox = app.ok("/api/v1/inbox", &beijing);
    assert_eq!(inbox["packages"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        inbox["packages"][1]["inbox_seq"], 2,
        "inbox numbers follow delivery order"
    );

    let detail = app.ok(&format!("/api/v1/records/{wrong}"), &beijing);
    let kinds: Vec<(&str, &str)> = detail["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap_or(""),
                h["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("placed", ""),
            ("delivered", "returned"),
            ("assigned", ""),
            ("delivered", "pending")
        ]
    );
    assert_eq!(detail["hops"][1]["reason"], "非本辖区户籍：户籍在北京");

    let figures = app.ok("/api/v1/figures", &hub);
    let shandong_figures = figures["organisations"]
        .as_array()
        .expect("orgs")
        .iter()
        .find(|o| o["org_code"] == "370000")
        .cloned()
        .expect("山东");
    assert_eq!(
        (
            shandong_figures["returned"].as_i64(),
            shandong_figures["acknowledged"].as_i64()
        ),
        (Some(1), Some(1))
    );
}

fn deadlines_count_working_days_across_national_day(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    for (org, email) in [
        ("370000", "sd@example.org"),
        ("110000", "bj@example.org"),
        ("000000", "hub@example.org"),
    ] {
        add_contact(db, org, "联系人", email);
    }
    // Tuesday 29 September 2026: 30 Sep is a working day, 1–7 Oct are holidays, Saturday 10 Oct
    // is a working day (调休).
    ingest_and_cut(&app, db, &three_graduates(), "2026-09-29");
    let hub = token(db, "000000", None);
    let sent = app.ok("/api/v1/packages/sent", &hub);
    for p in sent.as_array().expect("packages") {
        assert_eq!(
            p["deadline"], "2026-10-12",
            "5 working days: 30/9, 8/10, 9/10, 10/10, 12/10"
        );
        assert_eq!(p["escalation_deadline"], "2026-10-19");
    }
    assert_eq!(
        app.dist
            .run_reminders(date("2026-10-12"))
            .expect("pass")
            .reminded,
        0,
        "not overdue on its last day"
    );
    let pass = app.dist.run_reminders(date("2026-10-13")).expect("pass");
    assert_eq!((pass.reminded, pass.escalated), (2, 0));
    assert_eq!(
        app.dist
            .run_reminders(date("2026-10-14"))
            .expect("pass")
            .reminded,
        0,
        "once only"
    );
    assert_eq!(
        app.dist
            .run_reminders(date("2026-10-19"))
            .expect("pass")
            .escalated,
        0
    );
    assert_eq!(
        app.dist
            .run_reminders(date("2026-10-20"))
            .expect("pass")
            .escalated,
        2
    );
    let overdue = app.ok("/api/v1/inbox", &token(db, "370000", None));
    assert_eq!(overdue["packages"][0]["overdue"], true);
}

fn reminders_reach_smtp_once_even_when_it_is_down_for_a_while(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    {
        let mut conn = db.db.conn().expect("conn");
        for (org, name, email) in [
            ("370000", "赵科长", "zhao@hrss.shandong.example"),
            ("370000", "钱干事", "qian@hrss.shandong.example"),
            ("000000", "孙处长", "sun@mohrss.example"),
        ] {
            let row = gradhub::db::orgs::find_by_code(&mut conn, org)
                .expect("query")
                .expect("org");
            gradhub::db::orgs::add_contact(&mut conn, row.id, name, email, None).expect("contact");
        }
    }
    ingest_and_cut(&app, db, &three_graduates(), "2026-09-29");
    let sink = SmtpSink::start();
    let port = sink.port();
    let mail = MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_timeout_secs: 2,
        ..MailConfig::default()
    };
    let mailer = Mailer::new(&mail).expect("mailer").expect("configured");
    let mut worker = worker(&app, db, None, Some(mailer));

    // The SMTP server goes down before the reminders are due.
    sink.stop();
    let down = worker.pass(date("2026-10-13"), SystemTime::now());
    assert_eq!(
        (down.reminded, down.mails_sent),
        (1, 0),
        "北京 has no contact yet: not marked"
    );
    assert_eq!(down.mails_failed, 1, "the first failure stops the pass");
    let mut conn = db.db.conn().expect("conn");
    assert_eq!(
        gradhub::db::outbox::counts(&mut conn).expect("counts"),
        (2, 0),
        "both reminders wait"
    );

    // Back on the same port: after the retry wait, each goes out once.
    let sink = SmtpSink::start_on(port);
    std::thread::sleep(Duration::from_millis(2_100));
    let up = worker.pass(date("2026-10-14"), SystemTime::now());
    assert_eq!((up.reminded, up.mails_sent), (0, 2));
    let mails = sink.wait_for(2, Duration::from_secs(5));
    assert_eq!(mails.len(), 2);
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        ["qian@hrss.shandong.example", "zhao@hrss.shandong.example"]
    );
    let subject = mails[0].subject_decoded();
    let body = mails[0].body_decoded();
    assert!(subject.contains("逾期未签收"), "{subject}");
    assert!(
        body.contains("2026年10月12日") && body.contains("山东省"),
        "{body}"
    );
    assert_eq!(
        worker
            .pass(date("2026-10-15"), SystemTime::now())
            .mails_sent,
        0,
        "nothing twice"
    );

    // After the second deadline the ministry (parent of 山东) is told.
    let escalated = worker.pass(date("2026-10-20"), SystemTime::now());
    assert_eq!(
        (escalated.escalated, escalated.mails_sent),
        (2, 2),
        "the ministry is the parent of both provinces"
    );
    let mails = sink.wait_for(4, Duration::from_secs(5));
    assert_eq!(mails.len(), 4);
    for m in &mails[2..] {
        assert_eq!(m.to, ["sun@mohrss.example"]);
        assert!(m.subject_decoded().contains("第二期限"));
    }
    assert_ne!(
        mails[2].subject_decoded(),
        mails[3].subject_decoded(),
        "one notice per package"
    );
    assert_eq!(
        gradhub::db::outbox::counts(&mut conn).expect("counts"),
        (0, 4)
    );

    // 北京 registers a contact late: its reminder goes out at the next pass, once.
    add_contact(db, "110000", "周科长", "zhou@hrss.beijing.example");
    let late = worker.pass(date("2026-10-21"), SystemTime::now());
    assert_eq!((late.reminded, late.mails_sent), (1, 1));
    let mails = sink.wait_for(5, Duration::from_secs(5));
    assert_eq!(mails[4].to, ["zhou@hrss.beijing.example"]);
    assert_eq!(
        worker
            .pass(date("2026-10-22"), SystemTime::now())
            .mails_sent,
        0
    );
    sink.stop();
}

/// `gradhub packages inbox --org CODE` for the operator's console.
fn cli_inbox(db: &TestDb, org: &str, json: bool) -> std::process::Output {
    let mut command = common::gradhub_command(db);
    command.args(["packages", "inbox", "--org", org]);
    if json {
        command.arg("--json");
    }
    command.output().expect("run gradhub")
}

fn cli_and_api_inbox_answer_the_same_packages(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    // Two packages for 山东 (the second from a later file), one for 北京; 山东 acknowledges
    // its first, so the inbox holds both states.
    ingest_and_cut(&app, db, &three_graduates(), "2026-11-23");
    let later = format!(
        "{HEADER}\n{}\n",
        line("赵六", &id18("370102", "20030101", 321), "370102", "")
    );
    ingest_text(db, "edu-test", &later);
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, date("2026-11-24"))
        .expect("cut");
    let shandong = token(db, "370000", None);
    let first = app.ok("/api/v1/inbox", &shandong)["packages"][0]["id"].clone();
    app.ok_post(
        &format!("/api/v1/packages/{first}/acknowledge"),
        &shandong,
        &json!({}),
    );

    for org in ["370000", "110000", "370100"] {
        let api = app.ok("/api/v1/inbox", &token(db, org, None))["packages"].clone();
        let out = cli_inbox(db, org, true);
        let cli: Value =
            serde_json::from_str(&common::expect_exit(&out, 0)).expect("CLI prints JSON");
        assert_eq!(cli, api, "{org}: the console and the API answer the same");
        let text = common::expect_exit(&cli_inbox(db, org, false), 0);
        let listed: Vec<String> = text
            .lines()
            .filter_map(|l| l.split('\t').next().map(str::to_string))
            .collect();
        let expected: Vec<String> = api
            .as_array()
            .expect("packages")
            .iter()
            .map(|p| format!("#{}", p["id"]))
            .collect();
        assert_eq!(listed, expected, "{org}: {text}");
    }
    let shandong_api = app.ok("/api/v1/inbox", &shandong)["packages"].clone();
    assert_eq!(
        shandong_api
            .as_array()
            .map(|a| a.iter().map(|p| p["state"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("acknowledged"), json!("delivered")]),
        "{shandong_api}"
    );

    // An organisation that does not exist is refused in both languages, with nothing printed.
    let out = cli_inbox(db, "999999", true);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("机构 999999 不存在") && stderr.contains("no organisation 999999"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// Runs one SQL statement on the test's database (to write what the hub itself never would).
fn execute(db: &TestDb, sql: &str) {
    let mut conn = db.db.conn().expect("conn");
    diesel::RunQueryDsl::execute(diesel::sql_query(sql), &mut conn).expect("statement");
}

fn stored_states_are_words_of_their_vocabulary(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    ingest_and_cut(&app, db, &three_graduates(), "2026-11-23");
    let province = token(db, "370000", None);

    // The typed states filter in storage and come out as the same words as before.
    let delivered = app.ok("/api/v1/inbox?state=delivered", &province);
    let package = only_package(&delivered);
    assert_eq!(package["state"], "delivered");
    let none = app.ok("/api/v1/inbox?state=acknowledged", &province);
    assert_eq!(none["packages"].as_array().map(Vec::len), Some(0));
    let id = package["id"].as_i64().expect("id");
    let records = app.ok(&format!("/api/v1/packages/{id}/records"), &province);
    let first = &records["records"][0];
    assert_eq!(first["outcome"], "pending");
    let record_id = first["record"]["id"].as_i64().expect("record id");
    let detail = app.ok(&format!("/api/v1/records/{record_id}"), &province);
    assert_eq!(detail["placement"]["state"], "pending");
    let kinds: Vec<&str> = detail["hops"]
        .as_array()
        .expect("hops")
        .iter()
        .filter_map(|h| h["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["placed", "delivered"]);
    // The placing is kept on the placement, not as a stored hop: it comes first, with id 0.
    assert_eq!(
        (&detail["hops"][0]["id"], &detail["hops"][0]["actor"]),
        (&json!(0), &json!("job:placer"))
    );
    assert_eq!(detail["hops"][0]["to"]["code"], "000000");
    assert_eq!(count(db, "record_hops WHERE kind = 'placed'"), 0);
    assert_eq!(
        (
            &detail["record"]["channel"],
            &detail["record"]["route_method"]
        ),
        (&json!("education"), &json!("direct"))
    );
    assert_eq!(detail["hops"][1]["outcome"], "pending");
    let pending = app.ok("/api/v1/records?state=pending", &province);
    assert_eq!(ids_of(&pending).len(), 2, "{pending}");

    // A state outside the vocabulary is refused at the edge, listing the words in both languages.
    let (status, err) = app.get("/api/v1/records?state=waiting", &province);
    assert_eq!((status, err["code"].as_str()), (400, Some("STATE_INVALID")));
    assert!(
        err["message"]
            .as_str()
            .is_some_and(|m| m.contains("unassigned、queued、pending、settled")),
        "{err}"
    );
    assert!(
        err["message_en"]
            .as_str()
            .is_some_and(|m| m.contains("unassigned, queued, pending, settled")),
        "{err}"
    );

    // A stored word the hub does not know (written by hand) is a typed error at the storage
    // edge, named in the log-side error, never read as some default state.
    execute(
        db,
        &format!("UPDATE packages SET state = 'lost' WHERE id = {id}"),
    );
    let (status, err) = app.get("/api/v1/inbox", &province);
    assert_eq!(
        (status, err["code"].as_str()),
        (500, Some("INTERNAL")),
        "{err}"
    );
    let tree = app.dist.tree().expect("tree");
    let org = tree.by_code("370000").expect("province");
    let caller = gradhub::authz::Caller {
        actor: gradhub::authz::Actor {
            name: "test:reader".into(),
            org_id: Some(org.id),
        },
        role: gradhub::domain::organisation::Role::Province,
        org_id: org.id,
        org_code: org.code.clone(),
        org_level: org.level,
        scope: tree.scope_of(org.id),
    };
    // Every message of the error's chain (diesel names the field, the cause names the word).
    let mut refused = String::new();
    let failure = app.dist.inbox(&caller, None, None, None).err();
    let mut cause: Option<&dyn std::error::Error> = failure.as_ref().map(|e| e as _);
    while let Some(e) = cause {
        refused.push_str(&format!("{e} / "));
        cause = e.source();
    }
    assert!(
        refused.contains("PackageState") && refused.contains("\"lost\""),
        "{refused}"
    );
    let (status, _) = app.post(
        &format!("/api/v1/packages/{id}/acknowledge"),
        &province,
        &json!({}),
    );
    assert_eq!(status, 500, "an unknown state is not acknowledged over");
    execute(
        db,
        &format!("UPDATE packages SET state = 'delivered' WHERE id = {id}"),
    );
    execute(
        db,
        &format!("UPDATE placements SET state = 'lost' WHERE record_id = {record_id}"),
    );
    let (status, _) = app.get("/api/v1/records", &province);
    assert_eq!(status, 500);
    execute(
        db,
        &format!("UPDATE placements SET state = 'pending' WHERE record_id = {record_id}"),
    );
    for (column, word) in [("channel", "education"), ("route_method", "direct")] {
        execute(
            db,
            &format!("UPDATE records SET {column} = 'by_pigeon' WHERE id = {record_id}"),
        );
        let (status, _) = app.get(&format!("/api/v1/records/{record_id}"), &province);
        assert_eq!(status, 500, "unknown {column}");
        execute(
            db,
            &format!("UPDATE records SET {column} = '{word}' WHERE id = {record_id}"),
        );
    }
    assert_eq!(
        app.ok(&format!("/api/v1/records/{record_id}"), &province)["record"]["channel"],
        "education"
    );
    let acknowledged = app.ok_post(
        &format!("/api/v1/packages/{id}/acknowledge"),
        &province,
        &json!({}),
    );
    assert_eq!(acknowledged["state"], "acknowledged");
}

/// What a record's placement and hops say, without ids and times: (state, holder, target) and
/// each hop's (kind, from, to, actor, outcome).
type Trail = (
    (String, i64, i64),
    Vec<(String, Option<i64>, i64, String, Option<String>)>,
);

fn trail(db: &TestDb, record_id: i64) -> Trail {
    let mut conn = db.db.conn().expect("conn");
    let p = gradhub::db::packages::placement_of(&mut conn, record_id)
        .expect("query")
        .expect("placed");
    let hub = gradhub::db::orgs::find_by_code(&mut conn, "000000")
        .expect("query")
        .expect("hub")
        .id;
    let all = gradhub::authz::Scope::All;
    let (_, _, hops) = gradhub::db::packages::record_path_in_scope(&mut conn, &all, record_id, hub)
        .expect("hops")
        .expect("in scope");
    let hops = hops
        .into_iter()
        .map(|h| {
            (
                h.kind.to_string(),
                h.from_org_id,
                h.to_org_id,
                h.actor,
                h.outcome.map(|o| o.to_string()),
            )
        })
        .collect();
    (
        (p.state.to_string(), p.holder_org_id, p.target_org_id),
        hops,
    )
}

fn record_of(db: &TestDb, id_number: &str) -> i64 {
    let mut conn = db.db.conn().expect("conn");
    gradhub::db::records::find_person(&mut conn, id_number, 2025)
        .expect("query")
        .expect("stored")
        .id
}

/// With the ministry's cut on, placing puts each new record straight into its province's
/// package: the same packages, states and hops as placing and then cutting, the receiver's
/// inbox numbered on, and nothing left over for the cut.
fn placing_delivers_the_ministry_packages_at_once(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let org = |code: &str| {
        let mut conn = db.db.conn().expect("conn");
        gradhub::db::orgs::find_by_code(&mut conn, code)
            .expect("query")
            .expect("org")
            .id
    };
    let day = date("2026-11-23");
    ingest_text(db, "edu-test", &three_graduates());
    let (placed, packages) = app.dist.place_and_deliver(day).expect("place");
    assert_eq!(placed, 3);
    let mut got: Vec<(i64, i64, i64)> = packages
        .iter()
        .map(|p| (p.receiver_org_id, p.records, p.receiver_seq))
        .collect();
    got.sort();
    let mut want = vec![(org("370000"), 2, 1), (org("110000"), 1, 1)];
    want.sort();
    assert_eq!(got, want);
    let deadline = app.dist.deadlines(day).deadline;
    assert!(packages.iter().all(|p| p.deadline == deadline));
    assert!(app
        .dist
        .cut_auto(AutoCut::Ministry, day)
        .expect("cut")
        .is_empty());

    // A second file: delivered the same way, numbered 2 in 山东's inbox.
    let next = id18("370102", "20020401", 321);
    ingest_graduate(db, "edu-test", "赵六", &next);
    let (_, second) = app.dist.place_and_deliver(day).expect("place");
    assert_eq!(
        second
            .iter()
            .map(|p| (p.receiver_seq, p.records))
            .collect::<Vec<_>>(),
        [(2, 1)]
    );
    // A third, placed and then cut: its record's trail is the delivered one's, id for id.
    let cut_one = id18("370102", "20020402", 654);
    ingest_graduate(db, "edu-test", "孙七", &cut_one);
    app.dist.place_new().expect("place");
    let third = app.dist.cut_auto(AutoCut::Ministry, day).expect("cut");
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].receiver_seq, 3);
    let delivered = trail(db, record_of(db, &next));
    assert_eq!(delivered, trail(db, record_of(db, &cut_one)));
    let ((state, holder, _), hops) = delivered;
    assert_eq!((state.as_str(), holder), ("pending", org("370000")));
    let kinds: Vec<&str> = hops.iter().map(|h| h.0.as_str()).collect();
    assert_eq!(kinds, ["placed", "delivered"]);

    // 山东 sees both packages in its inbox, with their records.
    let shandong = token(db, "370000", None);
    let inbox = app.ok("/api/v1/inbox", &shandong);
    let records: Vec<i64> = inbox["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["records"].as_i64())
        .collect();
    assert_eq!(records.iter().sum::<i64>(), 4, "{inbox}");
}

/// Reads answered at the same moment each store their audit event before they answer (the events
/// of simultaneous reads share one write): none is lost or doubled. A read whose event cannot be
/// stored answers an error, not the data, and the next read after the fault is audited again.
fn every_simultaneous_read_is_audited_before_it_answers(db: &TestDb) {
    use std::sync::atomic::{AtomicI64, Ordering};
    let app = spawn_app(db, test_config(db));
    ingest_and_cut(&app, db, &three_graduates(), "2026-11-23");
    let shandong = token(db, "370000", None);
    let held = app.ok("/api/v1/records?limit=10", &shandong);
    let ids: Vec<i64> = held["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["placement"]["record_id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 2, "{held}");
    let viewed = || count(db, "audit_events WHERE action = 'record.viewed'");
    let before = viewed();
    const READERS: usize = 12;
    const EACH: usize = 15;
    let answered = AtomicI64::new(0);
    std::thread::scope(|s| {
        for reader in 0..READERS {
            let (app, ids, answered, shandong) = (&app, &ids, &answered, &shandong);
            s.spawn(move || {
                for k in 0..EACH {
                    let id = ids[(reader + k) % ids.len()];
                    let page = app.ok(&format!("/api/v1/records/{id}"), shandong);
                    assert_eq!(page["record"]["id"].as_i64(), Some(id));
                    // Every read answered so far has its event stored already.
                    let so_far = answered.fetch_add(1, Ordering::SeqCst) + 1;
                    let stored = viewed() - before;
                    assert!(
                        stored >= so_far,
                        "{so_far} reads answered, {stored} events stored"
                    );
                }
            });
        }
    });
    assert_eq!(viewed() - before, (READERS * EACH) as i64);

    // The database refuses the event: the read fails and shows nothing of the person.
    let (refuse, allow) = match db.db.backend() {
        gradhub::db::Backend::Sqlite => (
            vec![
                "CREATE TRIGGER refuse_views BEFORE INSERT ON audit_events \
             WHEN NEW.action = 'record.viewed' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            ],
            "DROP TRIGGER refuse_views",
        ),
        gradhub::db::Backend::Postgres => (
            vec![
                "CREATE FUNCTION refuse_views() RETURNS trigger LANGUAGE plpgsql \
             AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
                "CREATE TRIGGER refuse_views BEFORE INSERT ON audit_events FOR EACH ROW \
             WHEN (NEW.action = 'record.viewed') EXECUTE FUNCTION refuse_views()",
            ],
            "DROP TRIGGER refuse_views ON audit_events",
        ),
    };
    for sql in refuse {
        execute(db, sql);
    }
    let path = format!("/api/v1/records/{}", ids[0]);
    let (status, body) = app.get(&path, &shandong);
    assert_eq!(status, 500, "{body}");
    for name in ["张三", "李四"] {
        assert!(!body.to_string().contains(name), "{body}");
    }
    execute(db, allow);
    let stored = viewed();
    app.ok(&path, &shandong);
    assert_eq!(viewed(), stored + 1);
}

on_both_backends!(
    dropped_file_travels_to_a_county_acknowledgement,
    a_returned_record_is_reassigned_by_hand,
    deadlines_count_working_days_across_national_day,
    reminders_reach_smtp_once_even_when_it_is_down_for_a_while,
    cli_and_api_inbox_answer_the_same_packages,
    stored_states_are_words_of_their_vocabulary,
    placing_delivers_the_ministry_packages_at_once,
    every_simultaneous_read_is_audited_before_it_answers,
);
