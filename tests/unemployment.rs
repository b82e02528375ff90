//! Cross-region unemployment registration end to end, on both backends: applications from the
//! national entry, clerks and the public, routing, the download cursor, review with forbidden
//! reasons, deadlines across holidays with their e-mails (over SMTP to a server on loopback),
//! contact and services, exit with every AJC00A reason, the 79号 deregistration file and the
//! upload of local deregistrations rule by rule, the monthly statistics' period boundaries, the
//! public progress query, and who may call what.

#[macro_use]
mod common;

use chrono::NaiveDate;
use common::app::{add_user, spawn_app, test_config, token, TestApp};
use common::smtp::SmtpSink;
use common::{count, expect_exit, gradhub_command, id18, TestDb};
use gradhub::authz::{Actor, Caller};
use gradhub::domain::organisation::Role;
use gradhub::domain::unemployment::ApplicationInput;
use gradhub::unemployment::{Channel, EventInput, ExitInput, ReviewInput};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn today() -> String {
    gradhub::ingest::china_today().to_string()
}

/// A complete 失业人员登记表 of a man born in 1990 registering at his 户籍地 `hukou`.
fn form(name: &str, id: &str, hukou: &str) -> Value {
    json!({
        "name": name, "sex": "男", "ethnicity": "汉族", "political_status": "群众",
        "education": "大学本科", "health": "健康", "unemployed_since": "2026-01-02",
        "id_type": "居民身份证", "id_number": id,
        "hukou_address": {"code": hukou, "detail": "文化东路 1 号"},
        "residence_address": {"code": hukou, "detail": "和平路 2 号"},
        "qualifications": ["电工 四级"], "mobile": "13800138000",
        "registration_place": "户籍地", "unemployment_reason": "5", "claims_benefit": "否",
        "job_intentions": ["电工"], "promise_signed": true, "promise_signer": name,
        "promise_date": "2026-01-05",
    })
}

fn input(v: &Value) -> ApplicationInput {
    serde_json::from_value(v.clone()).expect("form")
}

fn man(seq: u32) -> String {
    id18("370102", "19900101", seq * 2 + 1)
}

/// A caller of an organisation, as the service sees one (for the tests that set the day).
fn caller(app: &TestApp, code: &str, role: Role) -> Caller {
    let tree = app.dist.tree().expect("tree");
    let node = tree.by_code(code).expect("org");
    Caller {
        actor: Actor {
            name: format!("user:clerk{code}"),
            org_id: Some(node.id),
        },
        role,
        org_id: node.id,
        org_code: code.into(),
        org_level: node.level,
        scope: tree.scope_of(node.id),
    }
}

fn review(passed: bool, reason: Option<&str>) -> ReviewInput {
    ReviewInput {
        result: if passed { "passed" } else { "refused" }.into(),
        reason: reason.map(String::from),
        urban: passed.then_some(true),
        skill_type: None,
    }
}

fn the_loop_runs_from_the_national_entry_to_the_deregistration_file(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let national = token(db, "000000", None);
    let county = token(db, "370102", None);
    let province = token(db, "370000", None);
    let beijing = token(db, "110000", None);
    let id = man(1);
    let body = json!({"channel": "national", "application_no": "QG-2026-0001", "form": form("张三", &id, "370102")});
    let applied = app.ok_post("/api/v1/unemployment/applications", &national, &body);
    assert_eq!(applied["outcome"], "created");
    assert_eq!(applied["office_code"], "370102", "{applied}");
    // The platform retries: nothing stored twice.
    let (status, again) = app.post("/api/v1/unemployment/applications", &national, &body);
    assert_eq!(
        (status, again["outcome"].as_str()),
        (200, Some("duplicate"))
    );
    // The same number for another form, and another application of the same person.
    let (status, e) = app.post(
        "/api/v1/unemployment/applications",
        &national,
        &json!({"channel": "national", "application_no": "QG-2026-0001", "form": form("张三", &man(2), "370102")}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("APPLICATION_NO_TAKEN"))
    );
    let (status, e) = app.post(
        "/api/v1/unemployment/applications",
        &national,
        &json!({"channel": "national", "application_no": "QG-2026-0002", "form": form("张三", &id, "370102")}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("APPLICATION_EXISTS"))
    );

    // The county downloads what is new, once; the province sees it too; 北京 nothing.
    let page = app.ok("/api/v1/unemployment/applications?after=0", &county);
    assert_eq!(
        page["applications"].as_array().map(Vec::len),
        Some(1),
        "{page}"
    );
    assert_eq!(page["applications"][0]["form"]["name"], "张三");
    assert_eq!(page["applications"][0]["status"], "pending");
    let next = page["next_after"].as_i64().expect("cursor");
    let page = app.ok(
        &format!("/api/v1/unemployment/applications?after={next}"),
        &county,
    );
    assert_eq!(page["applications"].as_array().map(Vec::len), Some(0));
    let page = app.ok("/api/v1/unemployment/applications", &province);
    assert_eq!(page["applications"].as_array().map(Vec::len), Some(1));
    let page = app.ok("/api/v1/unemployment/applications", &beijing);
    assert_eq!(page["applications"].as_array().map(Vec::len), Some(0));
    let (status, _) = app.get("/api/v1/unemployment/applications/QG-2026-0001", &beijing);
    assert_eq!(status, 404);
    let downloads: i64 = count(db, "unemployment_downloads");
    assert_eq!(downloads, 4, "every download is recorded");

    // Review: a forbidden reason is refused citing 79号; a pass needs `urban`.
    let path = "/api/v1/unemployment/applications/QG-2026-0001";
    let (status, e) = app.post(
        &format!("{path}/review"),
        &county,
        &json!({"result": "refused", "reason": "户籍不在本地"}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("REVIEW_REASON_FORBIDDEN"))
    );
    assert!(e["message"].as_str().unwrap_or("").contains("79号"), "{e}");
    let (status, e) = app.post(
        &format!("{path}/review"),
        &county,
        &json!({"result": "maybe"}),
    );
    assert_eq!((status, e["code"].as_str()), (422, Some("REVIEW_INVALID")));
    // The national entry is the ministry level's: a county may not claim it.
    let (status, _) = app.post(
        "/api/v1/unemployment/applications",
        &county,
        &json!({"channel": "national", "application_no": "QG-2026-0003", "form": form("李四", &man(3), "370102")}),
    );
    assert_eq!(status, 403);
    let view = app.ok_post(
        &format!("{path}/review"),
        &county,
        &json!({"result": "passed", "urban": true, "skill_type": "具备技能"}),
    );
    assert_eq!(view["status"], "registered");
    assert_eq!(view["level"], "短期");
    // Visible at once above.
    assert_eq!(app.ok(path, &province)["status"], "registered");
    assert_eq!(app.ok(path, &national)["reviewed_on"], today());
    let (status, e) = app.post(
        &format!("{path}/review"),
        &county,
        &json!({"result": "passed", "urban": true}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("APPLICATION_CLOSED"))
    );

    // Contact and services; what is owed at 短期: 3 job referrals.
    let view = app.ok_post(
        &format!("{path}/events"),
        &county,
        &json!({"kind": "contact", "channel": "电话"}),
    );
    assert_eq!(view["contacted_on"], today());
    let view = app.ok_post(
        &format!("{path}/events"),
        &county,
        &json!({"kind": "service", "service": "职业介绍"}),
    );
    let owed = &view["owed"][0];
    assert_eq!(
        (owed["needed"].as_u64(), owed["given"].as_u64()),
        (Some(3), Some(1)),
        "{view}"
    );
    let (status, e) = app.post(
        &format!("{path}/events"),
        &county,
        &json!({"kind": "service", "service": "发红包"}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("UNEMPLOYMENT_EVENT_INVALID"))
    );

    // Exit: 31 needs its verification note, 24 its detail; 11 ends it.
    let (status, e) = app.post(&format!("{path}/exit"), &county, &json!({"reason": "31"}));
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("EXIT_NEEDS_VERIFICATION"))
    );
    let (status, e) = app.post(&format!("{path}/exit"), &county, &json!({"reason": "24"}));
    assert_eq!((status, e["code"].as_str()), (422, Some("EXIT_INVALID")));
    let (status, e) = app.post(&format!("{path}/exit"), &county, &json!({"reason": "77"}));
    assert_eq!((status, e["code"].as_str()), (422, Some("EXIT_INVALID")));
    let view = app.ok_post(
        &format!("{path}/exit"),
        &county,
        &json!({"reason": "11", "clerk": "李经办", "note": "入职某公司"}),
    );
    assert_eq!(view["status"], "exited");
    assert_eq!(
        view["exit_notice"], "phone",
        "no e-mail: the office tells the person"
    );

    // The day's file, field by field.
    let compact = today().replace('-', "");
    let file = app.ok(
        &format!("/api/v1/unemployment/deregistrations?date={}", today()),
        &county,
    );
    let r = &file["records"][0];
    assert_eq!(file["records"].as_array().map(Vec::len), Some(1), "{file}");
    assert_eq!(r["AAB301"], "370102");
    assert_eq!(r["AAZ341"].as_str().map(str::len), Some(18));
    assert_eq!(r["AAC003"], "张三");
    assert_eq!(r["AAC002"], id.as_str());
    assert_eq!(r["AAC058"], "01");
    assert_eq!(r["AAC044"], id.as_str());
    assert_eq!(r["ADC210"], compact.as_str());
    assert_eq!(r["AJC00A"], "11");
    assert_eq!(r["AAE011"], "李经办");
    assert_eq!(r["AAE036"], compact.as_str());
    assert_eq!(r["AAE013"], "入职某公司");
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/unemployment/deregistrations?date={}&format=csv",
            app.base,
            today()
        ))
        .bearer_auth(&county)
        .send()
        .expect("csv")
        .bytes()
        .expect("bytes")
        .to_vec();
    let text = String::from_utf8(csv.clone()).expect("utf-8");
    assert!(
        text.starts_with(
            "\u{feff}AAB301,AAZ341,AAC003,AAC002,AAC058,AAC044,ADC210,AJC00A,AAE011,AAE036,AAE013"
        ),
        "{text}"
    );
    assert!(text.contains(&id));
    // The command writes the same file.
    let out_path = db.path("dereg.csv");
    let out = gradhub_command(db)
        .args(["unemployment", "deregistrations", "--date", &today(), "-o"])
        .arg(&out_path)
        .output()
        .expect("run");
    expect_exit(&out, 0);
    assert_eq!(std::fs::read(&out_path).expect("file"), csv);

    // The public progress query: status and result only; a wrong ID number is answered as a
    // number that does not exist.
    let (status, p) = app.post(
        "/api/v1/public/unemployment/progress",
        "",
        &json!({"application_no": "QG-2026-0001", "id_number": id}),
    );
    assert_eq!(status, 200);
    let keys: Vec<&str> = p
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["result", "status", "status_label"], "{p}");
    assert_eq!(p["result"], "审核通过");
    let (s1, wrong_id) = app.post(
        "/api/v1/public/unemployment/progress",
        "",
        &json!({"application_no": "QG-2026-0001", "id_number": man(9)}),
    );
    let (s2, no_such) = app.post(
        "/api/v1/public/unemployment/progress",
        "",
        &json!({"application_no": "QG-2026-9999", "id_number": id}),
    );
    assert_eq!((s1, s2), (404, 404));
    assert_eq!(wrong_id, no_such);
    // Per application number: 20 an hour, then refused, even with the right ID number.
    for _ in 0..20 {
        app.post(
            "/api/v1/public/unemployment/progress",
            "",
            &json!({"application_no": "QG-2026-0001", "id_number": man(9)}),
        );
    }
    let (status, e) = app.post(
        "/api/v1/public/unemployment/progress",
        "",
        &json!({"application_no": "QG-2026-0001", "id_number": id}),
    );
    assert_eq!((status, e["code"].as_str()), (429, Some("RATE_LIMITED")));
}

fn the_form_rules_list_every_problem_and_store_nothing(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let clerk = token(db, "370102", None);
    let mut bad = form("张 三", "370102199001011235", "370102");
    bad["mobile"] = json!("12345");
    bad["id_type"] = json!("外国人护照");
    bad["promise_signed"] = json!(false);
    let (status, e) = app.post(
        "/api/v1/unemployment/applications",
        &clerk,
        &json!({"channel": "on_site", "form": bad}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("APPLICATION_INVALID")),
        "{e}"
    );
    let fields: Vec<&str> = e["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter_map(|p| p["column"].as_str())
        .collect();
    for f in ["mobile", "id_type", "promise_signed"] {
        assert!(fields.iter().any(|x| x.starts_with(f)), "{f} in {fields:?}");
    }
    // Too young (15), and a place the hub cannot route.
    let young = id18("370102", "20110301", 13);
    let (status, e) = app.post(
        "/api/v1/unemployment/applications",
        &clerk,
        &json!({"channel": "on_site", "form": form("小明", &young, "370102")}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("APPLICATION_INVALID")),
        "{e}"
    );
    let mut nowhere = form("王五", &man(3), "370102");
    nowhere["registration_place"] = json!("就业地");
    nowhere["registration_place_address"] = json!({"detail": "火星基地"});
    let (status, e) = app.post(
        "/api/v1/unemployment/applications",
        &clerk,
        &json!({"channel": "on_site", "form": nowhere}),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("PLACE_UNROUTABLE")),
        "{e}"
    );
    assert_eq!(count(db, "unemployment_applications"), 0);
    // 就业地 routes by its own address to another county: the clerk's office is not the office.
    let mut elsewhere = form("王五", &man(3), "370102");
    elsewhere["registration_place"] = json!("就业地");
    elsewhere["registration_place_address"] =
        json!({"province": "北京市", "county": "海淀区", "detail": "中关村大街1号"});
    let applied = app.ok_post(
        "/api/v1/unemployment/applications",
        &clerk,
        &json!({"channel": "on_site", "form": elsewhere}),
    );
    assert_eq!(applied["office_code"], "110108", "{applied}");
    assert!(applied["application_no"]
        .as_str()
        .unwrap_or("")
        .starts_with("SY"));
}

fn forbidden_reasons_are_refused_and_allowed_ones_stored(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let county = caller(&app, "370102", Role::County);
    let today = gradhub::ingest::china_today();
    let u = &app.unemployment;
    for (i, reason) in [
        "材料不全",
        "资料不全，请补充解除劳动关系证明",
        "未在本地参保",
        "不符合领取失业保险金条件",
        "人户分离",
        "户籍不在本地",
        "非本地户籍",
    ]
    .iter()
    .enumerate()
    {
        let id = man(10 + i as u32);
        let applied = u
            .apply(
                Some(&county),
                Channel::OnSite,
                None,
                &input(&form("赵六", &id, "370102")),
                today,
            )
            .expect("apply");
        let e = u
            .review(
                &county,
                &applied.application_no,
                &review(false, Some(reason)),
                today,
            )
            .expect_err(reason);
        let answer = gradhub::web::unemployment::refusal(e);
        assert_eq!(answer.code.as_str(), "REVIEW_REASON_FORBIDDEN", "{reason}");
        assert!(
            answer.message.contains("79号"),
            "{reason}: {}",
            answer.message
        );
        // Still pending: nothing stored.
        let view = u.get(&county, &applied.application_no).expect("get");
        assert_eq!(view.status, "pending");
        // An allowed reason is stored.
        let view = u
            .review(
                &county,
                &applied.application_no,
                &review(false, Some("经核实处于就业状态")),
                today,
            )
            .expect("allowed reason");
        assert_eq!(view.status, "refused");
        assert_eq!(view.refusal_reason.as_deref(), Some("经核实处于就业状态"));
    }
    // 不通过 without a reason.
    let applied = u
        .apply(
            Some(&county),
            Channel::OnSite,
            None,
            &input(&form("赵六", &man(30), "370102")),
            today,
        )
        .expect("apply");
    let e = u
        .review(
            &county,
            &applied.application_no,
            &review(false, None),
            today,
        )
        .expect_err("no reason");
    assert_eq!(
        gradhub::web::unemployment::refusal(e).code.as_str(),
        "REVIEW_INVALID"
    );
}

fn deadlines_count_working_days_across_national_day_and_are_escalated(db: &TestDb) {
    let sink = SmtpSink::start();
    let app = spawn_app(db, test_config(db));
    let ministry = caller(&app, "000000", Role::System);
    let u = &app.unemployment;
    // Received Tuesday 2026-09-29: 09-30 is one working day, 10-01…10-07 National Day, 10-10 a
    // working Saturday. Target 3 → 10-09, limit 10 → 10-19.
    let received = day("2026-09-29");
    let a = u
        .apply(
            Some(&ministry),
            Channel::National,
            Some("QG-DL-1"),
            &input(&form("钱七", &man(40), "370102")),
            received,
        )
        .expect("apply");
    assert_eq!(
        (a.review_target, a.review_limit),
        (day("2026-10-09"), day("2026-10-19"))
    );
    // 甘肃 兰州 城关区: limit 7 (甘人社通〔2020〕111号) → 10-14.
    let mut gansu = form("孙八", &id18("620102", "19900101", 41), "620102");
    gansu["hukou_address"] = json!({"code": "620102"});
    gansu["residence_address"] = json!({"code": "620102"});
    let g = u
        .apply(
            Some(&ministry),
            Channel::National,
            Some("QG-DL-2"),
            &input(&gansu),
            received,
        )
        .expect("apply gansu");
    assert_eq!(
        (g.review_target, g.review_limit),
        (day("2026-10-09"), day("2026-10-14"))
    );

    let county = caller(&app, "370102", Role::County);
    use gradhub::unemployment::lists::ListKind;
    let on = |d: &str, k: ListKind| {
        u.work_list(&county, k, day(d))
            .expect("list")
            .lines
            .iter()
            .map(|l| l.application_no.clone())
            .collect::<Vec<_>>()
    };
    assert!(
        on("2026-10-09", ListKind::Late).is_empty(),
        "on the target day: on time"
    );
    assert_eq!(on("2026-10-12", ListKind::Late), ["QG-DL-1"]);
    assert!(on("2026-10-19", ListKind::Breached).is_empty());
    assert_eq!(on("2026-10-20", ListKind::Breached), ["QG-DL-1"]);

    // Escalation by e-mail: the office past the target, its parent past the limit, once each.
    add_contact(db, "370102", "lixia@example.org");
    add_contact(db, "370100", "jinan@example.org");
    let mut worker = worker(&app, db, &sink);
    let pass = worker.pass(day("2026-10-20"), SystemTime::now());
    assert_eq!(
        (pass.reviews_late, pass.reviews_breached),
        (1, 1),
        "{pass:?}"
    );
    let mails = sink.wait_for(2, Duration::from_secs(10));
    let to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    assert!(
        to.iter().any(|t| t.contains("lixia@")) && to.iter().any(|t| t.contains("jinan@")),
        "{to:?}"
    );
    assert!(mails
        .iter()
        .any(|m| m.subject_decoded().contains("QG-DL-1")));
    let pass = worker.pass(day("2026-10-21"), SystemTime::now());
    assert_eq!((pass.reviews_late, pass.reviews_breached), (0, 0));

    // Reviewed 2026-09-30: contact due 5 working days later, 10-13; not contacted → listed.
    let b = u
        .apply(
            Some(&ministry),
            Channel::National,
            Some("QG-DL-3"),
            &input(&form("周九", &man(42), "370102")),
            received,
        )
        .expect("apply");
    let view = u
        .review(
            &county,
            &b.application_no,
            &review(true, None),
            day("2026-09-30"),
        )
        .expect("review");
    assert_eq!(view.contact_due, Some(day("2026-10-13")));
    assert_eq!(view.timeliness, "on_time");
    assert!(on("2026-10-13", ListKind::Uncontacted).is_empty());
    assert_eq!(on("2026-10-14", ListKind::Uncontacted), ["QG-DL-3"]);
    // Monthly contact: a month after the last contact.
    u.record_event(
        &county,
        &b.application_no,
        &EventInput {
            kind: "contact".into(),
            date: Some("2026-10-14".into()),
            ..Default::default()
        },
        day("2026-10-14"),
    )
    .expect("contact");
    assert!(on("2026-10-15", ListKind::Uncontacted).is_empty());
    assert!(on("2026-11-14", ListKind::MonthlyContact).is_empty());
    assert_eq!(on("2026-11-15", ListKind::MonthlyContact), ["QG-DL-3"]);
    // A review after the limit counts as breaching the standard.
    let view = u
        .review(
            &county,
            &a.application_no,
            &review(true, None),
            day("2026-10-20"),
        )
        .expect("late review");
    assert_eq!(view.timeliness, "breached");
}

fn worker(app: &TestApp, db: &TestDb, sink: &SmtpSink) -> gradhub::jobs::Worker {
    let mail = gradhub::notify::MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: sink.port(),
        smtp_timeout_secs: 5,
        ..gradhub::notify::MailConfig::default()
    };
    gradhub::jobs::Worker {
        dist: app.dist.clone(),
        unemployment: app.unemployment.clone(),
        router: std::sync::Arc::new(db.router()),
        mailer: gradhub::notify::Mailer::new(&mail).expect("mailer"),
        retry_secs: 1,
        auto_cut: gradhub::distribution::AutoCut::None,
        drop: None,
        node: "test-node".into(),
    }
}

fn add_contact(db: &TestDb, org: &str, email: &str) {
    let mut conn = db.db.conn().expect("conn");
    let row = gradhub::db::orgs::find_by_code(&mut conn, org)
        .expect("query")
        .expect("org");
    gradhub::db::orgs::add_contact(&mut conn, row.id, "联系人", email, None).expect("contact");
}

fn one_person_one_registration_across_channels(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let ministry = caller(&app, "000000", Role::System);
    let county = caller(&app, "370102", Role::County);
    let u = &app.unemployment;
    let today = gradhub::ingest::china_today();
    let id = man(50);
    let f = input(&form("吴十", &id, "370102"));
    let first = u
        .apply(
            Some(&ministry),
            Channel::National,
            Some("QG-P-1"),
            &f,
            today,
        )
        .expect("national");
    let code = |e: gradhub::unemployment::UnemploymentError| {
        gradhub::web::unemployment::refusal(e).code.as_str()
    };
    assert_eq!(
        code(
            u.apply(Some(&county), Channel::OnSite, None, &f, today)
                .expect_err("twice")
        ),
        "APPLICATION_EXISTS"
    );
    // A public application never says whether the person is registered, and holds nothing
    // until an office passes it: passing it while another registration is open is refused.
    let public = u
        .apply(None, Channel::Public, None, &f, today)
        .expect("a public application is taken");
    assert_eq!(
        code(
            u.review(&county, &public.application_no, &review(true, None), today)
                .expect_err("the person has an open application")
        ),
        "APPLICATION_EXISTS"
    );
    u.review(
        &county,
        &public.application_no,
        &review(false, Some("重复申请，已有在办申请")),
        today,
    )
    .expect("refuse the copy");
    u.review(
        &county,
        &first.application_no,
        &review(false, Some("身份信息核验不符")),
        today,
    )
    .expect("refuse");
    let second = u
        .apply(Some(&county), Channel::OnSite, None, &f, today)
        .expect("after a refusal");
    u.review(&county, &second.application_no, &review(true, None), today)
        .expect("pass");
    assert_eq!(
        code(
            u.apply(Some(&county), Channel::OnSite, None, &f, today)
                .expect_err("registered")
        ),
        "APPLICATION_EXISTS"
    );
    // The same person by the 15-digit number of the same ID is the same person.
    let fifteen = format!("{}{}", &id[..6], &id[8..17]);
    let mut f15 = form("吴十", &fifteen, "370102");
    f15["id_number"] = json!(fifteen);
    assert_eq!(
        code(
            u.apply(Some(&county), Channel::OnSite, None, &input(&f15), today)
                .expect_err("15 digits")
        ),
        "APPLICATION_EXISTS"
    );
    u.exit(
        &county,
        &second.application_no,
        &ExitInput {
            reason: "12".into(),
            ..Default::default()
        },
        today,
    )
    .expect("exit");
    u.apply(None, Channel::Public, None, &f, today)
        .expect("after the exit");
}

fn every_exit_reason_is_taken_with_its_notice_rule(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let county = caller(&app, "370102", Role::County);
    let u = &app.unemployment;
    let today = gradhub::ingest::china_today();
    let reasons = [
        "11", "12", "13", "14", "21", "23", "24", "25", "26", "31", "32", "90",
    ];
    for (i, reason) in reasons.iter().enumerate() {
        let mut f = form("郑一", &man(60 + i as u32), "370102");
        f["email"] = json!(format!("p{i}@example.org"));
        let a = u
            .apply(Some(&county), Channel::OnSite, None, &input(&f), today)
            .expect("apply");
        u.review(&county, &a.application_no, &review(true, None), today)
            .expect("review");
        let exit = ExitInput {
            reason: reason.to_string(),
            detail: (*reason == "24").then(|| "移居境外".into()),
            verification_note: matches!(*reason, "31" | "32")
                .then(|| "经电话三次联系并上门核实，本人确认拒绝服务".into()),
            ..Default::default()
        };
        let view = u
            .exit(&county, &a.application_no, &exit, today)
            .expect(reason);
        let expected = if matches!(*reason, "24" | "25" | "26" | "32") {
            "not_required"
        } else {
            "mailed"
        };
        assert_eq!(
            view.exit_notice.as_deref(),
            Some(expected),
            "reason {reason}"
        );
        assert_eq!(view.exit_reason.as_deref(), Some(*reason));
    }
    // The notices are in the outbox; the day's file holds all twelve, each passing the annex.
    assert_eq!(count(db, "outbox"), 8);
    // The worker sends them over SMTP: one per person told, to the address they gave.
    let sink = SmtpSink::start();
    let pass = worker(&app, db, &sink).pass(today, SystemTime::now());
    assert_eq!(pass.mails_sent, 8, "{pass:?}");
    let mails = sink.wait_for(8, Duration::from_secs(10));
    assert!(mails
        .iter()
        .all(|m| m.subject_decoded().contains("失业登记注销告知")));
    let told: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    assert!(
        told.iter().any(|t| t.contains("p0@example.org")),
        "{told:?}"
    );
    assert!(
        !told.iter().any(|t| t.contains("p6@example.org")),
        "24 移居境外 is not told: {told:?}"
    );
    let file = u.day_file(&county, today, today).expect("file");
    assert_eq!(file.records.len(), 12);
    assert!(file.held_back.is_empty());
    let mut codes: Vec<&str> = file.records.iter().map(|r| r.ajc00a.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(codes, reasons);
    // A clerk name with a space breaks the annex's rule: nothing is stored.
    let a = u
        .apply(
            Some(&county),
            Channel::OnSite,
            None,
            &input(&form("郑二", &man(80), "370102")),
            today,
        )
        .expect("apply");
    u.review(&county, &a.application_no, &review(true, None), today)
        .expect("review");
    let e = u
        .exit(
            &county,
            &a.application_no,
            &ExitInput {
                reason: "11".into(),
                clerk: Some("李 四".into()),
                ..Default::default()
            },
            today,
        )
        .expect_err("space");
    assert_eq!(
        gradhub::web::unemployment::refusal(e).code.as_str(),
        "EXIT_INVALID"
    );
    assert_eq!(
        u.get(&county, &a.application_no).expect("get").status,
        "registered"
    );
}

/// A valid received record.
fn received(serial: &str, id: &str) -> Value {
    let yesterday = (gradhub::ingest::china_today() - chrono::Duration::days(1))
        .format("%Y%m%d")
        .to_string();
    json!({"AAB301": "370102", "AAZ341": serial, "AAC003": "王小二", "AAC002": id, "AAC058": "01",
        "AAC044": id, "ADC210": yesterday, "AJC00A": "11", "AAE011": "经办员", "AAE036": yesterday, "AAE013": ""})
}

fn received_deregistrations_are_checked_record_by_record(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let county = token(db, "370102", None);
    let id = man(90);
    let tomorrow = (gradhub::ingest::china_today() + chrono::Duration::days(1))
        .format("%Y%m%d")
        .to_string();
    let mut broken: Vec<(Value, &str, &str)> = Vec::new();
    let mut with = |serial: &str, field: &str, value: Value, rule: &'static str| {
        let mut r = received(serial, &id);
        r[field] = value;
        broken.push((r, field_static(field), rule));
    };
    with("B01", "AAC003", json!("王 小二"), "spaces");
    with("B02", "AAC003", json!("王\u{3000}小二"), "spaces");
    with("B03", "AAC002", json!("3701021990010112"), "id_length");
    with("B04", "AAC002", json!("37010219900101123X"), "id_check");
    with("B05", "AAC002", json!("37010A900101123"), "id_digits");
    with("B06", "AAC058", json!("55"), "code_table");
    with("B07", "ADC210", json!("20260230"), "date_format");
    with("B08", "ADC210", json!(tomorrow), "future_date");
    with("B09", "AJC00A", json!("15"), "code_table");
    with("B10", "AAE011", json!("经办 员"), "spaces");
    with("B11", "AAE036", json!("2026-11-01"), "date_format");
    with("B12", "AAB301", json!("999999"), "division");
    with("B13", "AAZ341", json!("1234567890123456789"), "too_long");
    with("B14", "AAC003", json!(""), "required");
    with("B15", "AAB301", json!("110108"), "jurisdiction");
    let mut records = vec![received("G01", &id), received("G02", &man(91))];
    records.extend(broken.iter().map(|(r, _, _)| r.clone()));
    let answer = app.ok_post(
        "/api/v1/unemployment/deregistrations",
        &county,
        &json!({"records": records}),
    );
    assert_eq!(answer["stored"], 2, "{answer}");
    assert_eq!(
        answer["rejected"].as_u64(),
        Some(broken.len() as u64),
        "{answer}"
    );
    for (i, (r, field, rule)) in broken.iter().enumerate() {
        let b = answer["broken"]
            .as_array()
            .expect("broken")
            .iter()
            .find(|b| b["aaz341"] == r["AAZ341"])
            .unwrap_or_else(|| panic!("record {i} answered"));
        assert_eq!(b["aab301"], r["AAB301"]);
        assert!(
            b["breaches"]
                .as_array()
                .expect("breaches")
                .iter()
                .any(|x| x["field"] == *field && x["rule"] == *rule),
            "{field} {rule}: {b}"
        );
    }
    // Sent again: duplicates, nothing stored twice; the same key with other values is refused.
    let again = app.ok_post(
        "/api/v1/unemployment/deregistrations",
        &county,
        &json!({"records": [received("G01", &id)]}),
    );
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    let mut other = received("G01", &id);
    other["AJC00A"] = json!("12");
    let clash = app.ok_post(
        "/api/v1/unemployment/deregistrations",
        &county,
        &json!({"records": [other]}),
    );
    assert_eq!(
        clash["broken"][0]["breaches"][0]["rule"], "duplicate_key",
        "{clash}"
    );
    // A CSV upload goes through the same rules.
    let yesterday = (gradhub::ingest::china_today() - chrono::Duration::days(1))
        .format("%Y%m%d")
        .to_string();
    let csv = format!(
        "AAB301,AAZ341,AAC003,AAC002,AAC058,AAC044,ADC210,AJC00A,AAE011,AAE036,AAE013\r\n370102,C01,李四,{id2},01,{id2},{y},13,经办员,{y},\r\n370102,C02,李 四,{id2},01,{id2},{y},13,经办员,{y},\r\n",
        id2 = man(92),
        y = yesterday
    );
    let answer: Value = app
        .client
        .post(format!("{}/api/v1/unemployment/deregistrations", app.base))
        .bearer_auth(&county)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .expect("csv")
        .json()
        .expect("json");
    assert_eq!(
        (answer["stored"].as_u64(), answer["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{answer}"
    );
    // Today's file holds the three good ones received today, whatever their 经办日期.
    let file = app.ok(
        &format!("/api/v1/unemployment/deregistrations?date={}", today()),
        &county,
    );
    assert_eq!(file["records"].as_array().map(Vec::len), Some(3), "{file}");
    // A record missing fields, a number for a string, a null: answered one by one, the rest kept.
    let mut sparse = received("J01", &id);
    sparse.as_object_mut().expect("object").remove("AAC003");
    let mut numeric = received("J02", &man(93));
    numeric["AAB301"] = json!(370102);
    let mut null = received("J03", &man(94));
    null["AJC00A"] = Value::Null;
    let reserved = received("GH0000000000000001", &man(95));
    let answer = app.ok_post(
        "/api/v1/unemployment/deregistrations",
        &county,
        &json!({"records": [sparse, numeric, null, reserved]}),
    );
    assert_eq!(
        (answer["stored"].as_u64(), answer["rejected"].as_u64()),
        (Some(1), Some(3)),
        "{answer}"
    );
    let rules: Vec<(String, String)> = answer["broken"]
        .as_array()
        .expect("broken")
        .iter()
        .flat_map(|b| b["breaches"].as_array().cloned().unwrap_or_default())
        .map(|x| {
            (
                x["field"].as_str().unwrap_or("").to_string(),
                x["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for want in [
        ("AAC003", "required"),
        ("AJC00A", "required"),
        ("AAZ341", "reserved"),
    ] {
        assert!(
            rules.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {rules:?}"
        );
    }
}

fn field_static(f: &str) -> &'static str {
    gradhub::domain::deregistration::FIELDS
        .iter()
        .find(|x| **x == f)
        .copied()
        .expect("field")
}

fn the_monthly_period_runs_from_the_21st_to_the_20th(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let ministry = caller(&app, "000000", Role::System);
    let county = caller(&app, "370102", Role::County);
    let u = &app.unemployment;
    let register = |seq: u32, on: &str, urban: bool, hardship: bool| -> String {
        let d = day(on);
        let a = u
            .apply(
                Some(&ministry),
                Channel::National,
                Some(&format!("QG-M-{seq}")),
                &input(&form("冯某", &man(100 + seq), "370102")),
                d,
            )
            .expect("apply");
        let r = ReviewInput {
            result: "passed".into(),
            urban: Some(urban),
            skill_type: hardship.then(|| "就业困难".into()),
            reason: None,
        };
        u.review(&county, &a.application_no, &r, d).expect("review");
        a.application_no
    };
    register(1, "2026-10-20", true, false); // October's period
    register(2, "2026-10-21", true, true); // November's
    register(3, "2026-11-20", false, false); // November's, rural
    let long = register(4, "2026-04-01", true, false); // long-term by 2026-11-20
    let gone = register(5, "2026-09-01", true, false);
    u.exit(
        &county,
        &gone,
        &ExitInput {
            reason: "11".into(),
            date: Some("2026-11-20".into()),
            ..Default::default()
        },
        day("2026-11-20"),
    )
    .expect("exit on the 20th");
    let _ = long;
    let oct = u
        .monthly(
            &ministry,
            &gradhub::unemployment::stats::Period::parse("2026-10").expect("p"),
            None,
        )
        .expect("oct");
    let nov = u
        .monthly(
            &ministry,
            &gradhub::unemployment::stats::Period::parse("2026-11").expect("p"),
            None,
        )
        .expect("nov");
    assert_eq!(
        (oct.period.from, oct.period.to),
        (day("2026-09-21"), day("2026-10-20"))
    );
    assert_eq!(nov.period.due, day("2026-12-03"));
    let t = |s: &gradhub::unemployment::stats::MonthlyStats, c: &str| s.total.cells[c];
    assert_eq!(t(&oct, "new_registrations"), 1);
    assert_eq!(t(&nov, "new_registrations"), 2);
    assert_eq!(t(&nov, "exits"), 1);
    assert_eq!(t(&nov, "exit_11"), 1);
    assert_eq!(t(&oct, "exits"), 0);
    // At the end of November's period: 1, 2, 4 urban and registered (5 left on the 20th).
    assert_eq!(t(&nov, "registered_at_end"), 3);
    assert_eq!(t(&nov, "registered_all_at_end"), 4);
    assert_eq!(t(&nov, "hardship_at_end"), 1);
    assert_eq!(t(&nov, "long_term_at_end"), 1);
    // At the end of October's: 1, 4, 5.
    assert_eq!(t(&oct, "registered_at_end"), 3);
    // The total is the sum of the rows; the 山东 row holds them all.
    for c in &nov.columns {
        let sum: i64 = nov.rows.iter().map(|r| r.cells[&c.id]).sum();
        assert_eq!(sum, nov.total.cells[&c.id], "{}", c.id);
    }
    let shandong = nov
        .rows
        .iter()
        .find(|r| r.org_code == "370000")
        .expect("row");
    assert_eq!(shandong.cells["registered_at_end"], 3);
    // The drill-down lists exactly the persons counted.
    let p = gradhub::unemployment::stats::Period::parse("2026-11").expect("p");
    let records = u
        .monthly_records(&ministry, &p, Some("370000"), "registered_at_end")
        .expect("drill");
    assert_eq!(records.len(), 3);
    // Files over HTTP: CSV with BOM and XLSX.
    let token = token(db, "370000", None);
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/unemployment/statistics?month=2026-11&format=csv",
            app.base
        ))
        .bearer_auth(&token)
        .send()
        .expect("csv")
        .text()
        .expect("text");
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("期末城镇登记失业人数"),
        "{csv}"
    );
    let xlsx = app
        .client
        .get(format!(
            "{}/api/v1/unemployment/statistics?month=2026-11&format=xlsx",
            app.base
        ))
        .bearer_auth(&token)
        .send()
        .expect("xlsx")
        .bytes()
        .expect("bytes");
    assert!(xlsx.starts_with(b"PK"));
    // The command writes the same CSV.
    let out_path = db.path("monthly.csv");
    let out = gradhub_command(db)
        .args([
            "unemployment",
            "statistics",
            "--month",
            "2026-11",
            "--org",
            "370000",
            "-o",
        ])
        .arg(&out_path)
        .output()
        .expect("run");
    expect_exit(&out, 0);
    assert_eq!(std::fs::read_to_string(&out_path).expect("file"), csv);
    let (status, e) = app.get("/api/v1/unemployment/statistics?month=2026-13", &token);
    assert_eq!((status, e["code"].as_str()), (400, Some("QUERY_INVALID")));
}

fn who_may_call_what(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let national = token(db, "000000", None);
    let id = man(120);
    app.ok_post(
        "/api/v1/unemployment/applications",
        &national,
        &json!({"channel": "national", "application_no": "QG-A-1", "form": form("陈某", &id, "370102")}),
    );
    let auditor = token(db, "370000", Some(Role::Auditor));
    let sender = {
        common::app::add_sender(db, "edu-u", "000000");
        token(db, "edu-u", None)
    };
    add_user(db, "admin-u", Role::Admin, "000000", "admin-password-1");
    let admin = app.ok_post(
        "/api/v1/session",
        "",
        &json!({"username": "admin-u", "password": "admin-password-1"}),
    )["token"]
        .as_str()
        .expect("token")
        .to_string();
    let other = token(db, "110000", None);
    let path = "/api/v1/unemployment/applications/QG-A-1";
    // The auditor reads, masked, and may not act.
    let view = app.ok(path, &auditor);
    assert_eq!(view["masked"], true);
    assert_ne!(view["id_number"], id.as_str());
    assert!(view["form"].is_null());
    let (status, _) = app.post(
        &format!("{path}/review"),
        &auditor,
        &json!({"result": "passed", "urban": true}),
    );
    assert_eq!(status, 403);
    let (status, _) = app.get(
        "/api/v1/unemployment/deregistrations?date=2026-11-30",
        &auditor,
    );
    assert_eq!(status, 403);
    for t in [&sender, &admin] {
        assert_eq!(app.get(path, t).0, 403);
        assert_eq!(app.get("/api/v1/unemployment/applications", t).0, 403);
        assert_eq!(app.get("/api/v1/unemployment/lists?list=late", t).0, 403);
        assert_eq!(
            app.get("/api/v1/unemployment/statistics?month=2026-11", t)
                .0,
            403
        );
        assert_eq!(
            app.post(
                "/api/v1/unemployment/deregistrations",
                t,
                &json!({"records": []})
            )
            .0,
            403
        );
    }
    // Another province: not found, never data; its review changes nothing.
    assert_eq!(app.get(path, &other).0, 404);
    assert_eq!(
        app.post(
            &format!("{path}/review"),
            &other,
            &json!({"result": "passed", "urban": true})
        )
        .0,
        404
    );
    assert_eq!(
        app.post(&format!("{path}/exit"), &other, &json!({"reason": "11"}))
            .0,
        404
    );
    let (status, e) = app.get(
        "/api/v1/unemployment/statistics?month=2026-11&org=370000",
        &other,
    );
    assert_eq!((status, e["code"].as_str()), (404, Some("NOT_FOUND")));
    // Nobody: 401 everywhere but the public two.
    for p in [
        path,
        "/api/v1/unemployment/applications",
        "/api/v1/unemployment/lists?list=late",
    ] {
        assert_eq!(app.get(p, "").0, 401, "{p}");
    }
    assert_eq!(app.ok(path, &national)["status"], "pending");
}

fn provisional_deadlines_are_recounted_after_a_calendar_import(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let ministry = caller(&app, "000000", Role::System);
    let u = &app.unemployment;
    // Received Monday 2026-12-28; the limit falls in 2027, whose holidays are not loaded:
    // counted over weekends only, and marked provisional.
    let a = u
        .apply(
            Some(&ministry),
            Channel::National,
            Some("QG-CAL-1"),
            &input(&form("卫某", &man(130), "370102")),
            day("2026-12-28"),
        )
        .expect("apply");
    assert_eq!(
        (a.review_target, a.review_limit),
        (day("2026-12-31"), day("2027-01-11"))
    );
    let county = caller(&app, "370102", Role::County);
    let view = u.get(&county, "QG-CAL-1").expect("get");
    assert!(view.deadlines_provisional);
    // A made-up 2027 (two days off, for the test only) imported with the command.
    let file = db.path("2027.csv");
    std::fs::write(
        &file,
        "date,kind,festival\n2027-01-01,holiday,虚构（测试）\n2027-01-04,holiday,虚构（测试）\n",
    )
    .expect("file");
    let out = gradhub_command(db)
        .args(["calendar", "import"])
        .arg(&file)
        .output()
        .expect("run");
    let stdout = expect_exit(&out, 0);
    assert!(stdout.contains("失业登记申请"), "{stdout}");
    let view = u.get(&county, "QG-CAL-1").expect("get");
    assert_eq!(
        (view.review_target, view.review_limit),
        (day("2026-12-31"), day("2027-01-13"))
    );
    assert!(!view.deadlines_provisional);
}

/// Sends the applications all at once (one thread each); their statuses.
fn post_at_once(app: &TestApp, token: &str, bodies: Vec<Value>) -> Vec<u16> {
    let threads: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (url, token) = (
                format!("{}/api/v1/unemployment/applications", app.base),
                token.to_string(),
            );
            std::thread::spawn(move || {
                reqwest::blocking::Client::new()
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .expect("send")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

fn applications_sent_at_once_store_one_registration(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let national = token(db, "000000", None);
    let count_of = |statuses: &[u16], want: u16| statuses.iter().filter(|s| **s == want).count();
    // The same person under eight numbers at once: one registration, seven refusals, no 500.
    let id = man(140);
    let statuses = post_at_once(
        &app,
        &national,
        (0..8)
            .map(|i| json!({"channel": "national", "application_no": format!("QG-RACE-{i}"), "form": form("蒋某", &id, "370102")}))
            .collect(),
    );
    assert_eq!(
        (count_of(&statuses, 201), count_of(&statuses, 409)),
        (1, 7),
        "{statuses:?}"
    );
    // The platform's retry of one number, eight times at once: one stored, seven duplicates.
    let body = json!({"channel": "national", "application_no": "QG-RETRY", "form": form("韩某", &man(141), "370102")});
    let statuses = post_at_once(&app, &national, vec![body; 8]);
    assert_eq!(
        (count_of(&statuses, 201), count_of(&statuses, 200)),
        (1, 7),
        "{statuses:?}"
    );
    assert_eq!(count(db, "unemployment_applications"), 2);
}

on_both_backends!(
    the_loop_runs_from_the_national_entry_to_the_deregistration_file,
    the_form_rules_list_every_problem_and_store_nothing,
    forbidden_reasons_are_refused_and_allowed_ones_stored,
    deadlines_count_working_days_across_national_day_and_are_escalated,
    one_person_one_registration_across_channels,
    every_exit_reason_is_taken_with_its_notice_rule,
    received_deregistrations_are_checked_record_by_record,
    the_monthly_period_runs_from_the_21st_to_the_20th,
    who_may_call_what,
    provisional_deadlines_are_recounted_after_a_calendar_import,
    applications_sent_at_once_store_one_registration,
);
