//! Role × jurisdiction over every endpoint, on both backends: another province's package,
//! record, batch or figure is never shown or changed (404 or 403, never data), and roles that
//! may not see personal numbers see them masked.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token};
use common::{id18, line, TestDb, HEADER};
use gradhub::distribution::AutoCut;
use gradhub::domain::organisation::Role;
use gradhub::ingest;
use serde_json::{json, Value};

/// A walk-in registration body with a graduate's values (the sex from the ID number).
fn registration(name: &str, id: &str, hukou: &str) -> Value {
    let odd = id.as_bytes().get(16).is_some_and(|b| (b - b'0') % 2 == 1);
    json!({"channel": "walk_in", "record": {
        "name": name, "sex": if odd { "1" } else { "2" }, "id_number": id,
        "education_level": "21", "school_code": "10422", "school_name": "山东大学",
        "major_name": "计算机科学与技术", "graduation_date": "2025-06-30", "hukou_code": hukou,
    }})
}

fn no_one_sees_or_changes_another_jurisdiction(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let batch = ingest_text(
        db,
        "edu-test",
        &format!(
            "{HEADER}\n{}\n{}\n{}\n",
            line("张三", &id18("370102", "20020315", 123), "370102", ""),
            line("李四", "37011220010610", "370112", ""),
            line("王五", &id18("110101", "20000101", 789), "110101", ""),
        ),
    );
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, ingest::china_today())
        .expect("cut");

    let sd = token(db, "370000", None);
    let bj = token(db, "110000", None);
    let jn = token(db, "370100", None);
    let county = token(db, "370102", None);
    let auditor = token(db, "370000", Some(Role::Auditor));
    let sender = token(db, "edu-test", None);
    let admin = {
        let mut conn = db.db.conn().expect("conn");
        gradhub::access::create_user(
            &mut conn,
            &gradhub::access::operator(),
            "admin",
            "管理员",
            Role::Admin,
            "000000",
            "admin-password-1",
        )
        .expect("admin");
        let s = app.ok_post(
            "/api/v1/session",
            "",
            &json!({"username": "admin", "password": "admin-password-1"}),
        );
        s["token"].as_str().expect("token").to_string()
    };
    let callers: [(&str, &str); 8] = [
        ("山东 system", &sd),
        ("北京 system", &bj),
        ("济南 system", &jn),
        ("历下 system", &county),
        ("山东 auditor", &auditor),
        ("sender", &sender),
        ("admin", &admin),
        ("nobody", ""),
    ];

    let inbox_id = |who: &str| -> i64 {
        app.ok("/api/v1/inbox", who)["packages"][0]["id"]
            .as_i64()
            .expect("package")
    };
    let p_sd = inbox_id(&sd);
    let p_bj = inbox_id(&bj);
    let r_bj = app.ok(&format!("/api/v1/packages/{p_bj}/records"), &bj)["records"][0]["record"]
        ["id"]
        .as_i64()
        .expect("record");
    let r_sd = app.ok(&format!("/api/v1/packages/{p_sd}/records"), &sd)["records"][0]["record"]
        ["id"]
        .as_i64()
        .expect("record");
    app.ok_post(
        &format!("/api/v1/packages/{p_sd}/acknowledge"),
        &sd,
        &json!({}),
    );
    let p_jn = app.ok_post("/api/v1/packages/cut", &sd, &json!({}))[0]["id"]
        .as_i64()
        .expect("package");

    // (what, method, path, body, expected status per caller in the order above)
    type Case<'a> = (&'a str, &'a str, String, Value, [u16; 8]);
    let cases: Vec<Case> = vec![
        (
            "北京's package",
            "GET",
            format!("/api/v1/packages/{p_bj}"),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "北京's package records",
            "GET",
            format!("/api/v1/packages/{p_bj}/records"),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "北京's package file",
            "GET",
            format!("/api/v1/packages/{p_bj}/download"),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "北京's record",
            "GET",
            format!("/api/v1/records/{r_bj}"),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "济南's package",
            "GET",
            format!("/api/v1/packages/{p_jn}"),
            Value::Null,
            [200, 404, 200, 404, 200, 403, 403, 401],
        ),
        (
            "the batch",
            "GET",
            format!("/api/v1/batches/{batch}"),
            Value::Null,
            [404, 404, 404, 404, 404, 200, 403, 401],
        ),
        (
            "the batch's rejects",
            "GET",
            format!("/api/v1/batches/{batch}/rejects"),
            Value::Null,
            [404, 404, 404, 404, 404, 200, 403, 401],
        ),
        (
            "figures",
            "GET",
            "/api/v1/figures".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 403, 403, 401],
        ),
        (
            "inbox",
            "GET",
            "/api/v1/inbox".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 403, 403, 401],
        ),
        (
            "records",
            "GET",
            "/api/v1/records".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 403, 403, 401],
        ),
        (
            "acknowledge 北京's package",
            "POST",
            format!("/api/v1/packages/{p_bj}/acknowledge"),
            json!({}),
            [404, 0, 404, 404, 403, 403, 403, 401],
        ),
        (
            "return from 北京's package",
            "POST",
            format!("/api/v1/packages/{p_bj}/returns"),
            json!({"returns": [{"record_id": r_bj, "reason": "duplicate"}]}),
            [404, 0, 404, 404, 403, 403, 403, 401],
        ),
        (
            "acknowledge 济南's package as its sender",
            "POST",
            format!("/api/v1/packages/{p_jn}/acknowledge"),
            json!({}),
            [403, 404, 0, 404, 403, 403, 403, 401],
        ),
        (
            "assign 北京's record",
            "POST",
            "/api/v1/queue/assign".into(),
            json!({"record_ids": [r_bj], "to": "370102"}),
            [422, 422, 422, 422, 403, 403, 403, 401],
        ),
        (
            "push 北京's record",
            "POST",
            "/api/v1/packages".into(),
            json!({"receiver": "370100", "record_ids": [r_bj]}),
            [422, 422, 422, 422, 403, 403, 403, 401],
        ),
        (
            "北京's record follow-up",
            "GET",
            format!("/api/v1/records/{r_bj}/followup"),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "follow-up for 北京's record (answered per event: RECORD_UNKNOWN)",
            "POST",
            "/api/v1/followup/events".into(),
            json!({"events": [{"record_id": r_bj, "kind": "state", "date": "2026-11-02", "state": "21"}]}),
            [200, 0, 200, 200, 403, 403, 403, 401],
        ),
        (
            "北京's summary",
            "GET",
            "/api/v1/reports/summary?year=2025&as_of=2026-12-31&org=110000".into(),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "北京's summary as a file",
            "GET",
            "/api/v1/reports/summary?year=2025&as_of=2026-12-31&org=110000&format=csv".into(),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "the records behind 北京's count",
            "GET",
            "/api/v1/reports/summary/records?year=2025&as_of=2026-12-31&org=110000&column=received"
                .into(),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "北京's overdue list",
            "GET",
            "/api/v1/reports/overdue?kind=contact&year=2025&org=110000&format=xlsx".into(),
            Value::Null,
            [404, 200, 404, 404, 404, 403, 403, 401],
        ),
        (
            "own summary",
            "GET",
            "/api/v1/reports/summary?year=2025&as_of=2026-12-31".into(),
            Value::Null,
            [200, 200, 200, 200, 200, 403, 403, 401],
        ),
        (
            "upload",
            "POST",
            "/api/v1/batches".into(),
            Value::Null,
            [403, 403, 403, 403, 403, 422, 403, 401],
        ),
        (
            "register a graduate who walked in",
            "POST",
            "/api/v1/registrations".into(),
            registration("赵六", &id18("370102", "19991010", 555), "370102"),
            [403, 403, 403, 201, 403, 403, 403, 401],
        ),
        (
            "register 北京's graduate (awaiting 签收 in 北京's package)",
            "POST",
            "/api/v1/registrations".into(),
            registration("王五", &id18("110101", "20000101", 789), "110101"),
            [403, 403, 403, 409, 403, 403, 403, 401],
        ),
    ];
    let mut failures = Vec::new();
    for (what, method, path, body, expected) in &cases {
        for ((who, secret), want) in callers.iter().zip(expected) {
            if *want == 0 {
                continue; // the owner's success would change state; covered by other suites
            }
            let (status, answer) = match *method {
                "GET" => app.get(path, secret),
                _ if path == "/api/v1/batches" => {
                    app.upload("", secret, format!("{HEADER}\n").into_bytes())
                }
                _ => app.post(path, secret, body),
            };
            if status != *want {
                failures.push(format!(
                    "{who} {method} {path} ({what}): {status}, wanted {want}: {answer}"
                ));
            }
            if status >= 400 {
                let text = answer.to_string();
                assert!(
                    answer["code"].is_string(),
                    "errors are JSON with a code: {text}"
                );
                assert!(
                    !text.contains("王五") && !text.contains("110101200001"),
                    "no data in an error: {text}"
                );
                assert!(
                    !text.contains("110000") && !text.contains("北京"),
                    "nothing about who holds it: {text}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "matrix:\n{}", failures.join("\n"));

    // Staff of other jurisdictions get every foreign event refused, and nothing is stored.
    for secret in [&sd, &jn, &county] {
        let answer = app.ok_post(
            "/api/v1/followup/events",
            secret,
            &json!({"events": [{"record_id": r_bj, "kind": "state", "date": "2026-11-02", "state": "21"}]}),
        );
        assert_eq!(
            answer["events"][0]["problems"][0]["code"], "RECORD_UNKNOWN",
            "{answer}"
        );
    }
    let bj_follow = app.ok(&format!("/api/v1/records/{r_bj}/followup"), &bj);
    assert_eq!(bj_follow["events"].as_array().map(Vec::len), Some(0));

    // Lists only ever hold the caller's own jurisdiction.
    for (who, secret, province) in [
        ("山东", &sd, "370000"),
        ("济南", &jn, "370000"),
        ("北京", &bj, "110000"),
    ] {
        let list = app.ok("/api/v1/records?limit=1000", secret);
        for r in list["records"].as_array().expect("records") {
            assert_eq!(
                r["record"]["route_province"], province,
                "{who} sees only its own"
            );
        }
        let figures = app.ok("/api/v1/figures", secret).to_string();
        let other = if province == "370000" {
            "\"110000\""
        } else {
            "\"370000\""
        };
        assert!(
            !figures.contains(other),
            "{who}'s figures hold no other province: {figures}"
        );
    }
    let jn_inbox = app.ok("/api/v1/inbox", &jn);
    assert_eq!(jn_inbox["packages"].as_array().map(Vec::len), Some(1));
    assert_eq!(jn_inbox["packages"][0]["id"], p_jn);

    // Nothing of 北京's changed.
    let p = app.ok(&format!("/api/v1/packages/{p_bj}"), &bj);
    assert_eq!(
        (p["state"].as_str(), p["returned"].as_i64()),
        (Some("delivered"), Some(0))
    );
    let r = app.ok(&format!("/api/v1/records/{r_bj}"), &bj);
    assert_eq!(
        (
            r["placement"]["state"].as_str(),
            r["placement"]["returns"].as_i64()
        ),
        (Some("pending"), Some(0))
    );

    // The auditor reads 山东's records with ID and phone numbers masked; staff see them whole.
    let audited = app.ok(&format!("/api/v1/records/{r_sd}"), &auditor);
    let masked = audited["record"]["id_number"].as_str().expect("id");
    assert!(masked.contains('*'), "masked for the auditor: {masked}");
    let whole = app.ok(&format!("/api/v1/records/{r_sd}"), &sd);
    assert!(!whole["record"]["id_number"]
        .as_str()
        .expect("id")
        .contains('*'));
}

/// A complete 失业人员登记表 registering at 历下区.
fn unemployment_form(name: &str, id: &str) -> Value {
    json!({
        "name": name, "sex": "男", "ethnicity": "汉族", "education": "大学本科", "health": "健康",
        "unemployed_since": "2026-01-02", "id_type": "居民身份证", "id_number": id,
        "hukou_address": {"code": "370102"}, "residence_address": {"code": "370102"},
        "mobile": "13800138000", "registration_place": "户籍地", "claims_benefit": "否",
        "promise_signed": true, "promise_signer": name, "promise_date": "2026-01-05",
    })
}

/// Every unemployment-registration endpoint × every caller: outside the jurisdiction 404 (never
/// data), roles without the permission 403, nobody 401; and none of them changes anything.
fn unemployment_endpoints_by_role_and_jurisdiction(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    let ministry = token(db, "000000", None);
    let sd = token(db, "370000", None);
    let bj = token(db, "110000", None);
    let county = token(db, "370102", None);
    let auditor = token(db, "370000", Some(Role::Auditor));
    let sender = token(db, "edu-test", None);
    let id = id18("370102", "19900101", 121);
    app.ok_post(
        "/api/v1/unemployment/applications",
        &ministry,
        &json!({"channel": "national", "application_no": "QG-AM-1", "form": unemployment_form("张三", &id)}),
    );
    let no = "/api/v1/unemployment/applications/QG-AM-1";
    let today = ingest::china_today().to_string();
    let review = json!({"result": "refused", "reason": "经核实处于就业状态"});
    let exit = json!({"reason": "11"});
    let event = json!({"kind": "contact"});
    let upload = json!({"records": []});
    let apply = json!({"channel": "on_site", "form": unemployment_form("李四", &id18("370102", "19900101", 123))});
    // (caller, token, expected status per request below)
    let get_paths = [
        no.to_string(),
        "/api/v1/unemployment/applications".to_string(),
        "/api/v1/unemployment/lists?list=pending".to_string(),
        format!("/api/v1/unemployment/deregistrations?date={today}"),
        "/api/v1/unemployment/statistics?month=2026-11".to_string(),
        "/api/v1/unemployment/statistics/records?month=2026-11&column=new_registrations"
            .to_string(),
    ];
    let posts: [(String, &Value); 5] = [
        (format!("{no}/review"), &review),
        (format!("{no}/events"), &event),
        (format!("{no}/exit"), &exit),
        ("/api/v1/unemployment/deregistrations".to_string(), &upload),
        ("/api/v1/unemployment/applications".to_string(), &apply),
    ];
    type Row<'a> = (&'a str, &'a str, [u16; 6], [u16; 5]);
    let rows: [Row; 5] = [
        // 北京: the application is not there; its own lists, files and figures are empty.
        (
            "北京 system",
            &bj,
            [404, 200, 200, 200, 200, 200],
            [404, 404, 404, 200, 201],
        ),
        // The auditor reads (masked) but may not download applications, take the day's file
        // (whole personal numbers) or act.
        (
            "山东 auditor",
            &auditor,
            [200, 403, 200, 403, 200, 200],
            [403, 403, 403, 403, 403],
        ),
        (
            "sender",
            &sender,
            [403, 403, 403, 403, 403, 403],
            [403, 403, 403, 403, 403],
        ),
        (
            "nobody",
            "",
            [401, 401, 401, 401, 401, 401],
            [401, 401, 401, 401, 401],
        ),
        (
            "山东 system",
            &sd,
            [200, 200, 200, 200, 200, 200],
            [200, 200, 200, 200, 409],
        ),
    ];
    for (who, t, gets, post_statuses) in rows {
        for (path, want) in get_paths.iter().zip(gets) {
            let (status, body) = app.get(path, t);
            assert_eq!(status, want, "{who} GET {path}: {body}");
            if who == "北京 system" && status == 200 {
                assert!(
                    !body.to_string().contains(&id),
                    "{who} sees nothing of 山东: {body}"
                );
            }
        }
        for ((path, body), want) in posts.iter().zip(post_statuses) {
            if who == "山东 system" && path.ends_with("/events") {
                // Refused by then (the review above refused it): not registered.
                let (status, _) = app.post(path, t, body);
                assert_eq!(status, 409, "{who} POST {path}");
                continue;
            }
            if who == "山东 system" && path.ends_with("/exit") {
                let (status, _) = app.post(path, t, body);
                assert_eq!(status, 409, "{who} POST {path}");
                continue;
            }
            let (status, answer) = app.post(path, t, body);
            assert_eq!(status, want, "{who} POST {path}: {answer}");
        }
        if who != "山东 system" {
            assert_eq!(
                app.ok(no, &county)["status"],
                "pending",
                "{who} changed nothing"
            );
        }
    }
    assert_eq!(app.ok(no, &county)["status"], "refused");
}

on_both_backends!(
    no_one_sees_or_changes_another_jurisdiction,
    unemployment_endpoints_by_role_and_jurisdiction,
);
