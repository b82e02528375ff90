//! Masked views hold against everything else the same role sees: an auditor's package records,
//! record list, record page, package file, reject report and the command line's default export
//! show the ID number as its first and last character, the birth date as a year at most, phone
//! numbers with four digits hidden, and quote no hidden digit in any message.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token};
use common::{expect_exit, gradhub_command, id18, TestDb, HEADER};
use diesel::prelude::*;
use gradhub::db::schema::audit_events;
use gradhub::distribution::AutoCut;
use gradhub::domain::organisation::Role;
use gradhub::ingest;

/// A CSV line with a birth date column and a phone number.
fn person(name: &str, id: &str, birth: &str, phone: &str) -> String {
    let sex = if (id.as_bytes()[16] - b'0') % 2 == 1 {
        "1"
    } else {
        "2"
    };
    // The mailbox quotes the birth date and the phone: a masked view must hide it too.
    let email = format!("zs{}{}@qq.com", &id[6..14], &phone[3..7]);
    format!("{name},{sex},01,01,{id},{birth},13,21,10422,山东大学,080901,计算机科学与技术,2025-06-30,370102,,{phone},{email},,1")
}

/// What a masked text must not contain of a person: the birth date in any spelling, the hidden
/// digits of the ID number, the hidden digits of the phone.
fn assert_nothing_rebuildable(what: &str, text: &str, id: &str, phone: &str) {
    let birth = &id[6..14];
    let dashed = format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]);
    for needle in [
        id,
        &id[6..14],
        &id[10..17],
        dashed.as_str(),
        &dashed[4..],
        phone,
        &phone[3..7],
    ] {
        assert!(!text.contains(needle), "{what} shows {needle}: {text}");
    }
}

fn an_auditor_sees_nothing_that_rebuilds_an_id_number(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let id = id18("370102", "20030615", 601);
    let bad_birth = id18("370102", "20030714", 602);
    let too_old = id18("370102", "19300101", 603);
    let phone = "13957246810";
    let batch = ingest_text(
        db,
        "edu-370000",
        &format!(
            "{HEADER}\n{}\n{}\n{}\n",
            person("张三", &id, "2003-06-15", phone),
            person("李四", &bad_birth, "2003-07-15", "13987654321"),
            person("王五", &too_old, "", "13911112222"),
        ),
    );
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, ingest::china_today())
        .expect("cut");
    let auditor = token(db, "000000", Some(Role::Auditor));
    let staff = token(db, "370000", None);

    let package = app.ok("/api/v1/inbox", &staff)["packages"][0]["id"]
        .as_i64()
        .expect("package");
    let records = app.ok(&format!("/api/v1/packages/{package}/records"), &auditor);
    let first = &records["records"][0]["record"];
    let masked_id = first["id_number"].as_str().expect("id");
    assert_eq!(masked_id, format!("3{}{}", "*".repeat(16), &id[17..]));
    assert!(first["birth_date"].is_null(), "{first}");
    assert_eq!(first["birth_year"], 2003);
    assert_eq!(first["phone"], "139****6810");
    assert_eq!(first["email"], "z***@qq.com", "{first}");
    assert_eq!(first["masked"], true);
    assert_nothing_rebuildable("package records", &records.to_string(), &id, phone);

    let record_id = first["id"].as_i64().expect("record id");
    let list = app.ok("/api/v1/records?limit=100", &auditor).to_string();
    assert_nothing_rebuildable("record list", &list, &id, phone);
    let page = app
        .ok(&format!("/api/v1/records/{record_id}"), &auditor)
        .to_string();
    assert_nothing_rebuildable("record page", &page, &id, phone);

    let file = app
        .client
        .get(format!(
            "{}/api/v1/packages/{package}/download?format=csv",
            app.base
        ))
        .bearer_auth(&auditor)
        .send()
        .expect("download")
        .text()
        .expect("text");
    assert!(
        file.contains("139****6810") && file.contains(",2003,"),
        "{file}"
    );
    assert_nothing_rebuildable("package file", &file, &id, phone);

    // The same record whole for staff, who may see it.
    let whole = app.ok(&format!("/api/v1/records/{record_id}"), &staff);
    assert_eq!(whole["record"]["id_number"], id.as_str());
    assert_eq!(whole["record"]["birth_date"], "2003-06-15");

    // The reject report: BIRTH_MISMATCH and ID_BIRTHDATE quote dates and ages for the sender;
    // the auditor's report quotes none of them.
    let sender = token(db, "edu-370000", None);
    let get_report = |who: &str| {
        app.client
            .get(format!(
                "{}/api/v1/batches/{batch}/rejects?format=csv",
                app.base
            ))
            .bearer_auth(who)
            .send()
            .expect("report")
            .text()
            .expect("text")
    };
    let own = get_report(&sender);
    assert!(
        own.contains("BIRTH_MISMATCH") && own.contains("ID_BIRTHDATE"),
        "{own}"
    );
    assert!(
        own.contains("2003-07-14"),
        "the sender sees its own values: {own}"
    );
    let audited = get_report(&auditor);
    assert!(
        audited.contains("BIRTH_MISMATCH") && audited.contains("ID_BIRTHDATE"),
        "{audited}"
    );
    assert_nothing_rebuildable("reject report (李四)", &audited, &bad_birth, "13987654321");
    assert_nothing_rebuildable("reject report (王五)", &audited, &too_old, "13911112222");
    assert!(
        !audited.contains("07-15") && !audited.contains("岁"),
        "{audited}"
    );
}

fn the_command_line_export_is_masked_unless_asked_and_audited_either_way(db: &TestDb) {
    add_sender(db, "edu-370000", "370000");
    let id = id18("370102", "20030615", 611);
    let phone = "13957246810";
    ingest_text(
        db,
        "edu-370000",
        &format!("{HEADER}\n{}\n", person("张三", &id, "2003-06-15", phone)),
    );
    let masked = expect_exit(
        &gradhub_command(db)
            .args(["records", "export"])
            .output()
            .expect("run"),
        0,
    );
    assert!(masked.contains(&format!("3{}", "*".repeat(16))), "{masked}");
    assert_nothing_rebuildable("masked export", &masked, &id, phone);
    let whole = expect_exit(
        &gradhub_command(db)
            .args(["records", "export", "--unmasked"])
            .output()
            .expect("run"),
        0,
    );
    assert!(
        whole.contains(&id) && whole.contains("2003-06-15"),
        "{whole}"
    );

    let mut conn = db.db.conn().expect("conn");
    let events: Vec<Option<String>> = audit_events::table
        .filter(audit_events::action.eq("records.exported"))
        .order(audit_events::id)
        .select(audit_events::after)
        .load(&mut conn)
        .expect("events");
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0]
        .as_deref()
        .unwrap_or("")
        .contains("\"masked\":true"));
    assert!(events[1]
        .as_deref()
        .unwrap_or("")
        .contains("\"masked\":false"));
}

on_both_backends!(
    an_auditor_sees_nothing_that_rebuilds_an_id_number,
    the_command_line_export_is_masked_unless_asked_and_audited_either_way,
);
