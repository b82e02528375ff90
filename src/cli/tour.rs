//! The demo as a tour: after the generated file is ingested, the hub is walked through a few
//! days of work by the services themselves — packages cut to the provinces, one province and one
//! of its prefectures signing and passing theirs down, a county signing and recording follow-up —
//! and a user for every role is opened, so that every page has something on it.

use super::admin::refused;
use super::Failure;
use crate::access;
use crate::authz::{Caller, Identity};
use crate::db::orgs;
use crate::distribution::reads::Holders;
use crate::domain::followup::{Field, RawEvent};
use crate::domain::organisation::{OrgLevel, Role};
use crate::followup::Source;
use crate::ingest::china_today;
use crate::startup::Hub;
use chrono::Duration;

/// The demo users' password (printed; the demo database is thrown away with the demo).
pub const DEMO_PASSWORD: &str = "gradhub-demo-2026";
/// The sender organisation the demo's file comes from.
pub const DEMO_SENDER: &str = "edu-demo";
const TOUR_PROVINCE: &str = "370000";

/// Opens the demo's sender organisation (before its file is ingested).
pub fn add_sender(hub: &Hub) -> Result<(), Failure> {
    let mut conn = hub.db.conn()?;
    let ministry = orgs::find_by_code(&mut conn, crate::domain::organisation::MINISTRY_CODE)?
        .ok_or_else(|| Failure::Internal("no ministry organisation".into()))?;
    orgs::add(
        &mut conn,
        DEMO_SENDER,
        "示范教育厅（演示）",
        OrgLevel::Sender,
        &ministry,
    )?;
    Ok(())
}

fn caller(hub: &Hub, code: &str, role: Role) -> Result<Caller, Failure> {
    let tree = hub.dist.refresh_tree()?;
    let node = tree
        .by_code(code)
        .ok_or_else(|| Failure::Internal(format!("no organisation {code}")))?;
    Caller::of(
        &Identity {
            actor: format!("user:demo-{code}"),
            role: role.as_str().into(),
            org_id: node.id,
        },
        &tree,
    )
    .ok_or_else(|| Failure::Internal(format!("no caller for {code}")))
}

/// The busiest organisation directly below `code` by records waiting or delivered there.
fn busiest_child(hub: &Hub, parent: &Caller) -> Result<Option<String>, Failure> {
    let inbox = hub.dist.sent(parent, None, Some(500))?;
    Ok(inbox
        .iter()
        .max_by_key(|p| p.records)
        .map(|p| p.receiver.code.clone()))
}

/// Walks the hub through the tour and prints the accounts.
pub fn walk(hub: &Hub) -> Result<(), Failure> {
    let today = china_today();
    hub.dist.place_new()?;
    let ministry = caller(
        hub,
        crate::domain::organisation::MINISTRY_CODE,
        Role::Ministry,
    )?;
    hub.dist.cut(&ministry, None, today)?;
    // 山东省 signs for its package and cuts one for each prefecture.
    let province = caller(hub, TOUR_PROVINCE, Role::Province)?;
    let inbox = hub.dist.inbox(&province, None, Some(50), None)?;
    for p in &inbox.packages {
        hub.dist
            .acknowledge(&province, crate::distribution::PackageId(p.id), &[])?;
    }
    hub.dist.cut(&province, None, today)?;
    // Its busiest prefecture signs too and passes its records to the counties.
    let prefecture_code = busiest_child(hub, &province)?
        .ok_or_else(|| Failure::Internal("the tour's province received nothing".into()))?;
    let prefecture = caller(hub, &prefecture_code, Role::Prefecture)?;
    for p in &hub.dist.inbox(&prefecture, None, Some(50), None)?.packages {
        hub.dist
            .acknowledge(&prefecture, crate::distribution::PackageId(p.id), &[])?;
    }
    hub.dist.cut(&prefecture, None, today)?;
    let county_code = busiest_child(hub, &prefecture)?
        .ok_or_else(|| Failure::Internal("the tour's prefecture sent nothing".into()))?;
    let county = caller(hub, &county_code, Role::County)?;
    for p in &hub.dist.inbox(&county, None, Some(50), None)?.packages {
        hub.dist
            .acknowledge(&county, crate::distribution::PackageId(p.id), &[])?;
    }
    // A grassroots point under the county, and follow-up for the county's graduates: every
    // second one contacted, a service and a state for some.
    let grassroots_code = format!("{county_code}-01");
    {
        let mut conn = hub.db.conn()?;
        access::add_org(
            &mut conn,
            &access::operator(),
            &grassroots_code,
            "示范街道就业服务站（演示）",
            OrgLevel::Grassroots,
            &county_code,
        )
        .map_err(refused)?;
    }
    hub.dist.refresh_tree()?;
    let held = hub
        .dist
        .held_records(&county, Holders::Own, None, None, Some(200))?;
    let mut events = Vec::new();
    for (i, r) in held.records.iter().enumerate() {
        let id = r.record.record.id.to_string();
        let day = |back: i64| (today - Duration::days(back)).to_string();
        let event = |kind: &str, back: i64, extra: &[(Field, &str)]| {
            let mut e = RawEvent::default();
            e.set(Field::RecordId, id.clone());
            e.set(Field::Kind, kind);
            e.set(Field::Date, day(back));
            for (f, v) in extra {
                e.set(*f, *v);
            }
            e
        };
        if i % 2 == 0 {
            events.push(event(
                "contact",
                3,
                &[(Field::Channel, "1"), (Field::Reached, "1")],
            ));
        }
        if i % 4 == 0 {
            events.push(event("service", 2, &[(Field::ServiceType, "01")]));
            events.push(event("state", 1, &[(Field::State, "21")]));
        }
    }
    let events = events.into_iter().enumerate().collect();
    hub.followup.submit(&county, events, Source::Api, false)?;
    unemployment_tour(hub, &ministry, &county, &county_code, today)?;
    // Everyone's account.
    let mut conn = hub.db.conn()?;
    let accounts = [
        (
            "bu",
            Role::Ministry,
            crate::domain::organisation::MINISTRY_CODE.to_string(),
            "部级工作人员",
        ),
        (
            "shandong",
            Role::Province,
            TOUR_PROVINCE.to_string(),
            "省级工作人员",
        ),
        (
            "shi",
            Role::Prefecture,
            prefecture_code.clone(),
            "市级工作人员",
        ),
        ("xian", Role::County, county_code.clone(), "县级工作人员"),
        (
            "jiceng",
            Role::Grassroots,
            grassroots_code.clone(),
            "基层工作人员",
        ),
        (
            "jiaoyu",
            Role::Sender,
            DEMO_SENDER.to_string(),
            "教育厅经办人",
        ),
        (
            "shenji",
            Role::Auditor,
            TOUR_PROVINCE.to_string(),
            "审计人员",
        ),
        (
            "admin",
            Role::Admin,
            crate::domain::organisation::MINISTRY_CODE.to_string(),
            "系统管理员",
        ),
    ];
    eprintln!("示范用户（密码均为 {DEMO_PASSWORD}）/ demo users, password {DEMO_PASSWORD}:");
    for (username, role, org, name) in &accounts {
        access::create_user(
            &mut conn,
            &access::operator(),
            username,
            name,
            *role,
            org,
            DEMO_PASSWORD,
        )
        .map_err(refused)?;
        eprintln!("  {username:<9} {:<11} {org}", role.as_str());
    }
    let (_, ministry_token) = access::create_token(
        &mut conn,
        &access::operator(),
        "demo-ministry",
        crate::domain::organisation::MINISTRY_CODE,
        None,
    )
    .map_err(refused)?;
    let (_, province_token) = access::create_token(
        &mut conn,
        &access::operator(),
        "demo-shandong",
        TOUR_PROVINCE,
        None,
    )
    .map_err(refused)?;
    eprintln!("示范令牌 / demo tokens (Authorization: Bearer …):");
    eprintln!("  部 ministry 000000:      {ministry_token}");
    eprintln!("  山东省 province 370000:  {province_token}");
    Ok(())
}

/// Unemployment registrations at the tour's county: applications from the national platform
/// received over the last fortnight, some still waiting (late ones among them), some registered
/// with a contact and services, one refused, one ended.
fn unemployment_tour(
    hub: &Hub,
    ministry: &Caller,
    county: &Caller,
    county_code: &str,
    today: chrono::NaiveDate,
) -> Result<(), Failure> {
    use crate::unemployment::{Channel, EventInput, ExitInput, ReviewInput};
    let names = [
        "李明", "王芳", "张伟", "刘娜", "陈杰", "杨静", "赵磊", "黄丽", "周强", "吴敏",
    ];
    let refused = |e: crate::unemployment::UnemploymentError| Failure::Internal(e.to_string());
    for (i, name) in names.iter().enumerate() {
        let male = i % 2 == 0;
        let first17 = format!(
            "{county_code}1988{:02}15{:03}",
            i % 12 + 1,
            100 + i * 2 + usize::from(male)
        );
        let Some(check) = crate::domain::id_number::check_char(&first17) else {
            continue;
        };
        let received = today - Duration::days(14 - i as i64);
        let form = serde_json::json!({
            "name": name, "sex": if male { "1" } else { "2" }, "ethnicity": "01",
            "education": "30", "health": "1", "unemployed_since": (received - Duration::days(20)).to_string(),
            "id_type": "01", "id_number": format!("{first17}{check}"),
            "hukou_address": {"code": county_code, "detail": "示范路 1 号"},
            "residence_address": {"code": county_code, "detail": "示范小区"},
            "mobile": format!("1390000{:04}", 1000 + i), "registration_place": "户籍地",
            "unemployment_reason": "2", "claims_benefit": "否", "promise_signed": true,
            "promise_signer": name, "promise_date": received.to_string(),
        });
        let input = serde_json::from_value(form).map_err(|e| Failure::Internal(e.to_string()))?;
        let number = format!("QG-DEMO-{:04}", i + 1);
        hub.unemployment
            .apply(
                Some(ministry),
                Channel::National,
                Some(&number),
                &input,
                received,
            )
            .map_err(refused)?;
        if i < 6 {
            let reviewed = received + Duration::days(1);
            let review = ReviewInput {
                result: if i == 5 { "refused" } else { "passed" }.into(),
                reason: (i == 5).then(|| "经核实已处于就业状态".into()),
                urban: (i != 5).then_some(true),
                skill_type: Some(
                    if i == 2 {
                        "就业困难"
                    } else {
                        "具备技能"
                    }
                    .into(),
                ),
            };
            hub.unemployment
                .review(county, &number, &review, reviewed)
                .map_err(refused)?;
            if i < 4 {
                let contact = EventInput {
                    kind: "contact".into(),
                    date: Some((reviewed + Duration::days(1)).to_string()),
                    ..Default::default()
                };
                hub.unemployment
                    .record_event(county, &number, &contact, today)
                    .map_err(refused)?;
                let service = EventInput {
                    kind: "service".into(),
                    service: Some("职业介绍".into()),
                    ..Default::default()
                };
                hub.unemployment
                    .record_event(county, &number, &service, today)
                    .map_err(refused)?;
            }
            if i == 0 {
                let exit = ExitInput {
                    reason: "11".into(),
                    clerk: Some("示范经办".into()),
                    ..Default::default()
                };
                hub.unemployment
                    .exit(county, &number, &exit, today)
                    .map_err(refused)?;
            }
        }
    }
    Ok(())
}
