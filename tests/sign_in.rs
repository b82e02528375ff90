//! Sign-in limits under attack: parallel wrong passwords check no more than the allowed five,
//! the account locks, and every failure and the lock are audit events.

#[macro_use]
mod common;

use common::app::{add_user, spawn_app, test_config};
use common::TestDb;
use diesel::prelude::*;
use gradhub::db::schema::audit_events;
use gradhub::domain::organisation::Role;
use serde_json::json;

fn parallel_wrong_passwords_check_at_most_five_and_lock(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_user(db, "zhao", Role::Province, "370000", "right-password-1");
    // 60 sign-ins at once, all wrong: the attempt is taken before the password is checked.
    let statuses: Vec<(u16, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..60)
            .map(|i| {
                let app = &app;
                s.spawn(move || {
                    let (status, body) = app.post(
                        "/api/v1/session",
                        "",
                        &json!({"username": "zhao", "password": format!("wrong-{i}")}),
                    );
                    (status, body["code"].as_str().unwrap_or("").to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let checked = statuses
        .iter()
        .filter(|(_, code)| code == "BAD_CREDENTIALS")
        .count();
    let locked = statuses
        .iter()
        .filter(|(status, code)| *status == 429 && code == "ACCOUNT_LOCKED")
        .count();
    assert!(checked <= 5, "{checked} passwords checked: {statuses:?}");
    assert_eq!(checked + locked, 60, "{statuses:?}");

    // The right password is refused now: the account is locked.
    let (status, body) = app.post(
        "/api/v1/session",
        "",
        &json!({"username": "zhao", "password": "right-password-1"}),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("ACCOUNT_LOCKED"))
    );

    let mut conn = db.db.conn().expect("conn");
    let count = |conn: &mut gradhub::db::AnyConnection, action: &str| -> i64 {
        audit_events::table
            .filter(audit_events::action.eq(action))
            .count()
            .get_result(conn)
            .expect("count")
    };
    assert_eq!(count(&mut conn, "sign_in.failed"), checked as i64);
    assert_eq!(count(&mut conn, "user.locked"), 1);
    assert_eq!(count(&mut conn, "sign_in.refused"), locked as i64 + 1);
}

fn a_right_password_after_a_few_failures_signs_in_and_starts_the_count_again(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_user(db, "qian", Role::Province, "370000", "right-password-2");
    let attempt = |password: &str| {
        app.post(
            "/api/v1/session",
            "",
            &json!({"username": "qian", "password": password}),
        )
        .0
    };
    for _ in 0..4 {
        assert_eq!(attempt("wrong"), 401);
    }
    assert_eq!(attempt("right-password-2"), 200);
    for _ in 0..4 {
        assert_eq!(attempt("wrong"), 401, "the count started again");
    }
    assert_eq!(
        attempt("wrong"),
        401,
        "the fifth failure is checked and locks"
    );
    assert_eq!(attempt("right-password-2"), 429);
}

on_both_backends!(
    parallel_wrong_passwords_check_at_most_five_and_lock,
    a_right_password_after_a_few_failures_signs_in_and_starts_the_count_again,
);
