//! The dashboard's pages over plain HTTP, as an attacker or a careless client would use them:
//! the session cookie's attributes, idle and absolute ends, sign-out, the lockout, CSRF on every
//! form, the cookie never opening API writes, foreign objects answered as 404 pages, each role
//! kept to its pages, the public self-registration's rate limit and its silence about others.

mod common;

use common::app::{add_sender, add_user, spawn_app, test_config, token, TestApp};
use common::{id18, line, TestDb, HEADER};
use gradhub::config::Config;
use gradhub::domain::organisation::Role;
use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;
use serde_json::json;
use std::collections::HashMap;

const PASSWORD: &str = "pages-test-password";

/// A browser without a browser: cookies kept by name, redirects not followed.
struct Visitor {
    base: String,
    http: Client,
    cookies: HashMap<String, String>,
}

impl Visitor {
    fn new(app: &TestApp) -> Visitor {
        Visitor {
            base: app.base.clone(),
            http: Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, r: &Response) {
        for v in r.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if v.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
    }

    fn get(&mut self, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .send()
            .expect("GET");
        self.keep_cookies(&r);
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.text().unwrap_or_default(), headers)
    }

    fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .form(form)
            .send()
            .expect("POST");
        self.keep_cookies(&r);
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.text().unwrap_or_default(), headers)
    }

    /// The value of the first `name="csrf"` field of a page.
    fn token_of(page: &str) -> String {
        let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field");
        let rest = &page[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').expect("end")].to_string()
    }

    /// Signs in through the sign-in page; answers the sign-in's status and headers.
    fn sign_in(&mut self, user: &str, password: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let (status, page, _) = self.get("/");
        assert_eq!(status, 200);
        let csrf = Visitor::token_of(&page);
        self.post(
            "/sign-in",
            &[("username", user), ("password", password), ("csrf", &csrf)],
        )
    }

    /// A signed-in page's form token.
    fn csrf(&mut self) -> String {
        let (status, page, _) = self.get("/inbox");
        if status == 200 {
            return Visitor::token_of(&page);
        }
        let (_, page, _) = self.get("/home");
        Visitor::token_of(&page)
    }
}

/// Shandong's and Guangdong's graduates, placed and cut into the provinces' packages.
fn hub_with_packages(db: &TestDb, config: Config) -> TestApp {
    let app = spawn_app(db, config);
    add_sender(db, "edu-sd", "370000");
    for (user, role, org) in [
        ("jiaoyu", Role::Sender, "edu-sd"),
        ("shandong", Role::Province, "370000"),
        ("guangdong", Role::Province, "440000"),
        ("shenji", Role::Auditor, "370000"),
        ("admin", Role::Admin, "000000"),
        ("lixia", Role::County, "370102"),
    ] {
        add_user(db, user, role, org, PASSWORD);
    }
    let mut text = format!("{HEADER}\n");
    for i in 0..3 {
        text.push_str(&line(
            &format!("历下{i}"),
            &id18("370102", "20040101", 100 + i),
            "370102",
            "",
        ));
        text.push('\n');
        text.push_str(&line(
            &format!("广州{i}"),
            &id18("440106", "20040303", 300 + i),
            "440106",
            "",
        ));
        text.push('\n');
    }
    common::app::ingest_text(db, "edu-sd", &text);
    app.dist.place_new().expect("place");
    let ministry = token(db, "000000", Some(Role::Ministry));
    app.ok_post("/api/v1/packages/cut", &ministry, &json!({}));
    app
}

fn sign_in_sets_a_safe_cookie_and_sign_out_ends_it(db: &TestDb) {
    let app = hub_with_packages(
        db,
        Config {
            cookie_secure: true,
            ..test_config(db)
        },
    );
    let mut v = Visitor::new(&app);
    let (status, _, headers) = v.sign_in("shandong", PASSWORD);
    assert_eq!(status, 303);
    assert_eq!(
        headers.get("location").and_then(|l| l.to_str().ok()),
        Some("/home")
    );
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("gh_session="))
        .expect("a session cookie")
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let (status, page, headers) = v.get("/home");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("签收进度"));
    assert_eq!(
        headers.get("cache-control").and_then(|h| h.to_str().ok()),
        Some("no-store")
    );
    assert!(headers.get("content-security-policy").is_some());
    assert_eq!(
        headers.get("x-frame-options").and_then(|h| h.to_str().ok()),
        Some("DENY")
    );
    let old = v.cookies.clone();
    let csrf = v.csrf();
    let (status, _, _) = v.post("/sign-out", &[("csrf", &csrf)]);
    assert_eq!(status, 303);
    // The old cookie, replayed, opens nothing.
    v.cookies = old;
    let (status, _, headers) = v.get("/home");
    assert_eq!(status, 303);
    assert!(headers
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.starts_with("/?next=")));
}

fn an_idle_session_ends(db: &TestDb) {
    let app = hub_with_packages(
        db,
        Config {
            session_idle_minutes: 5,
            ..test_config(db)
        },
    );
    let mut v = Visitor::new(&app);
    v.sign_in("shandong", PASSWORD);
    assert_eq!(v.get("/home").0, 200);
    // Ten minutes without a request. (The hub trusts a looked-up session for 10 s; a second hub
    // on the same database asks the database at once.)
    let mut conn = db.db.conn().expect("conn");
    let past = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(10);
    {
        use diesel::RunQueryDsl;
        diesel::sql_query(format!(
            "UPDATE sessions SET last_seen_at = '{}'",
            past.format("%Y-%m-%d %H:%M:%S")
        ))
        .execute(&mut conn)
        .expect("backdate");
    }
    drop(conn);
    let second = spawn_app(
        db,
        Config {
            session_idle_minutes: 5,
            ..test_config(db)
        },
    );
    let mut w = Visitor::new(&second);
    w.cookies = v.cookies.clone();
    assert_eq!(w.get("/home").0, 303, "an idle session is over");
}

fn the_sign_in_page_locks_after_five_failures(db: &TestDb) {
    let app = hub_with_packages(db, test_config(db));
    let mut v = Visitor::new(&app);
    for _ in 0..5 {
        let (status, page, _) = v.sign_in("shandong", "wrong-password!");
        assert_eq!(status, 401);
        assert!(page.contains("用户名或密码错误"), "{page}");
    }
    let (status, page, _) = v.sign_in("shandong", PASSWORD);
    assert_eq!(status, 429, "locked even for the right password");
    assert!(page.contains("ACCOUNT_LOCKED"), "{page}");
}

fn every_form_needs_its_token(db: &TestDb) {
    let app = hub_with_packages(db, test_config(db));
    // The sign-in form without the browser's pre-session: refused before any password check.
    let mut stranger = Visitor::new(&app);
    let (status, page, _) = stranger.post(
        "/sign-in",
        &[
            ("username", "shandong"),
            ("password", PASSWORD),
            ("csrf", "x"),
        ],
    );
    assert_eq!(status, 403);
    assert!(page.contains("CSRF_INVALID"));
    let mut v = Visitor::new(&app);
    v.sign_in("shandong", PASSWORD);
    let (_, inbox, _) = v.get("/inbox");
    let package: String = inbox
        .split("href=\"/packages/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a package link")
        .to_string();
    let mut admin = Visitor::new(&app);
    admin.sign_in("admin", PASSWORD);
    let record = "1".to_string();
    for (who, path, fields) in [
        ("shandong", "/packages/cut".to_string(), vec![]),
        (
            "shandong",
            format!("/packages/{package}/acknowledge"),
            vec![],
        ),
        (
            "shandong",
            format!("/packages/{package}/returns"),
            vec![("record", record.as_str()), ("reason", "duplicate")],
        ),
        (
            "shandong",
            "/queue/assign".to_string(),
            vec![("record", record.as_str()), ("to", "370100")],
        ),
        (
            "shandong",
            format!("/records/{record}/followup"),
            vec![("kind", "contact"), ("date", "2026-01-05")],
        ),
        ("shandong", "/sign-out".to_string(), vec![]),
        (
            "admin",
            "/admin/users".to_string(),
            vec![
                ("username", "intruder"),
                ("role", "ministry"),
                ("org", "000000"),
                ("password", "0123456789ab"),
            ],
        ),
        (
            "admin",
            "/admin/tokens".to_string(),
            vec![("name", "intruder"), ("org", "000000")],
        ),
        (
            "admin",
            "/admin/orgs".to_string(),
            vec![
                ("code", "x-1"),
                ("name", "x"),
                ("level", "sender"),
                ("parent", "000000"),
            ],
        ),
        (
            "admin",
            "/admin/contacts".to_string(),
            vec![("org", "370000"), ("name", "x"), ("email", "x@example.org")],
        ),
        (
            "admin",
            "/admin/users/disabled".to_string(),
            vec![("username", "shandong"), ("disable", "1")],
        ),
    ] {
        let visitor = if who == "admin" { &mut admin } else { &mut v };
        let mut with_wrong = fields.clone();
        with_wrong.push(("csrf", "0123456789abcdef0123456789abcdef"));
        for form in [fields.clone(), with_wrong] {
            let (status, page, _) = visitor.post(&path, &form);
            assert_eq!(status, 403, "{path} without its token: {page}");
            assert!(page.contains("CSRF_INVALID"), "{path}: {page}");
        }
    }
    // Nothing happened: no package cut or acknowledged, no user, still signed in.
    let sd = token(db, "370000", None);
    assert_eq!(app.ok("/api/v1/packages/sent", &sd), json!([]));
    let inbox = app.ok("/api/v1/inbox", &sd);
    assert_eq!(inbox["packages"][0]["state"], "delivered");
    let mut conn = db.db.conn().expect("conn");
    assert!(gradhub::db::users::find_user(&mut conn, "intruder")
        .expect("query")
        .is_none());
    assert_eq!(v.get("/home").0, 200, "still signed in");
    // The upload form's token too (a multipart form).
    let mut clerk = Visitor::new(&app);
    clerk.sign_in("jiaoyu", PASSWORD);
    let part = reqwest::blocking::multipart::Form::new()
        .text("csrf", "forged")
        .part(
            "file",
            reqwest::blocking::multipart::Part::bytes(HEADER.as_bytes().to_vec())
                .file_name("a.csv"),
        );
    let r = clerk
        .http
        .post(format!("{}/upload", app.base))
        .header("Cookie", clerk.cookie_header())
        .multipart(part)
        .send()
        .expect("upload");
    assert_eq!(r.status().as_u16(), 403);
}

fn the_cookie_opens_api_reads_never_writes(db: &TestDb) {
    let app = hub_with_packages(db, test_config(db));
    let mut v = Visitor::new(&app);
    v.sign_in("shandong", PASSWORD);
    let r = v
        .http
        .get(format!("{}/api/v1/inbox", app.base))
        .header("Cookie", v.cookie_header())
        .send()
        .expect("read");
    assert_eq!(
        r.status().as_u16(),
        200,
        "reads: the pages link to downloads"
    );
    let r = v
        .http
        .post(format!("{}/api/v1/packages/cut", app.base))
        .header("Cookie", v.cookie_header())
        .send()
        .expect("write");
    assert_eq!(
        r.status().as_u16(),
        401,
        "a cross-site form must not cut packages"
    );
}

fn foreign_objects_are_404_pages_and_roles_keep_to_theirs(db: &TestDb) {
    let app = hub_with_packages(db, test_config(db));
    let sd = token(db, "370000", None);
    let package = app.ok("/api/v1/inbox", &sd)["packages"][0]["id"]
        .as_i64()
        .expect("id");
    let record = app.ok(&format!("/api/v1/packages/{package}/records"), &sd)["records"][0]
        ["record"]["id"]
        .as_i64()
        .expect("record");
    let mut gd = Visitor::new(&app);
    gd.sign_in("guangdong", PASSWORD);
    for path in [
        format!("/packages/{package}"),
        format!("/records/{record}"),
        "/batches/1".to_string(),
        "/no/such/page".to_string(),
    ] {
        let (status, page, _) = gd.get(&path);
        assert_eq!(status, 404, "{path}: {page}");
        assert!(
            page.contains("NOT_FOUND") && page.contains("未找到"),
            "{path}: {page}"
        );
        assert!(!page.contains("历下"), "nothing of the record on {path}");
    }
    // Each role only its own pages: 403 pages, in Chinese, with the code.
    for (user, path) in [
        ("jiaoyu", "/inbox".to_string()),
        ("jiaoyu", format!("/records/{record}")),
        ("admin", format!("/records/{record}")),
        ("admin", "/summary".to_string()),
        ("shenji", "/admin/users".to_string()),
        ("shandong", "/audit".to_string()),
        ("shandong", "/admin/tokens".to_string()),
        ("lixia", "/upload".to_string()),
    ] {
        let mut v = Visitor::new(&app);
        v.sign_in(user, PASSWORD);
        let (status, page, _) = v.get(&path);
        assert_eq!(status, 403, "{user} {path}: {page}");
        assert!(
            page.contains("FORBIDDEN") && page.contains("无权"),
            "{user} {path}: {page}"
        );
    }
    // The auditor sees the record, masked, and lands on the audit log.
    let mut auditor = Visitor::new(&app);
    auditor.sign_in("shenji", PASSWORD);
    let (status, _, headers) = auditor.get("/home");
    assert_eq!(status, 303);
    assert_eq!(
        headers.get("location").and_then(|l| l.to_str().ok()),
        Some("/audit")
    );
    let (status, page, _) = auditor.get("/audit");
    assert_eq!(status, 200);
    assert!(page.contains("session.opened"), "{page}");
}

fn self_registration_answers_a_reference_and_is_rate_limited(db: &TestDb) {
    let app = hub_with_packages(
        db,
        Config {
            self_registrations_per_hour: 4,
            ..test_config(db)
        },
    );
    let mut v = Visitor::new(&app);
    let (status, page, _) = v.get("/register");
    assert_eq!(status, 200);
    let csrf = Visitor::token_of(&page);
    let id = id18("370102", "20030606", 700);
    let fields = |id: &str| -> Vec<(String, String)> {
        let values = line("张自登", id, "370102", "");
        let keys = [
            "name",
            "sex",
            "ethnicity",
            "id_type",
            "id_number",
            "birth_date",
            "political_status",
            "education_level",
            "school_code",
            "school_name",
            "major_code",
            "major_name",
            "graduation_date",
            "hukou_code",
            "hukou_address",
            "phone",
            "email",
            "hardship",
            "intention",
        ];
        keys.iter()
            .zip(values.split(','))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let send = |v: &mut Visitor, fields: &[(String, String)], csrf: &str| {
        let mut form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        form.push(("csrf", csrf));
        v.post("/register", &form)
    };
    let good = fields(&id);
    let (status, page, _) = send(&mut v, &good, &csrf);
    assert_eq!(status, 200, "{page}");
    let reference = page
        .split("id=\"reference\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("a reference")
        .to_string();
    assert!(
        reference.starts_with("ZC") && reference.len() == 12,
        "{reference}"
    );
    // Stored as a self-registration, routed as a transfer row, its file named by the number.
    let mut conn = db.db.conn().expect("conn");
    let batches = gradhub::db::batches::list(&mut conn, 100).expect("batches");
    let b = batches
        .iter()
        .find(|b| b.file_name.contains(&reference))
        .expect("the registration's batch");
    assert_eq!((b.channel.as_str(), b.accepted), ("self", 1));
    drop(conn);
    // The same registration again: the same number, nothing stored twice.
    let (status, page, _) = send(&mut v, &good, &csrf);
    assert_eq!(status, 200);
    assert!(page.contains(&reference));
    // Somebody else's ID number (a graduate the education department handed over) with other
    // values: answered like any registration, and the record is not changed.
    let known = id18("370102", "20040101", 100);
    let mut other = fields(&known);
    other[15].1 = "13900000000".into();
    let (status, page, _) = send(&mut v, &other, &csrf);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("参考编号") && !page.contains("历下"),
        "{page}"
    );
    let mut conn = db.db.conn().expect("conn");
    let held = gradhub::db::records::find_person(&mut conn, &known, 2025)
        .expect("query")
        .expect("held");
    assert_eq!(
        held.phone.as_deref(),
        Some("13812345678"),
        "not overwritten"
    );
    assert_eq!(held.name, "历下0");
    drop(conn);
    // Wrong values: every problem named, nothing stored, nothing about anyone else.
    let bad = fields(&format!("{}0", &id[..17]));
    let (status, page, _) = send(&mut v, &bad, &csrf);
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("ID_CHECKSUM") || page.contains("证件号码"),
        "{page}"
    );
    assert!(!page.contains("历下"), "no other person's data");
    // The fifth within the hour from one address is refused.
    let (status, page, _) = send(&mut v, &good, &csrf);
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("RATE_LIMITED"));
    // Without the form's token, refused.
    let mut bot = Visitor::new(&app);
    let (status, _, _) = send(&mut bot, &good, &csrf);
    assert_eq!(status, 403);
}

on_both_backends!(
    sign_in_sets_a_safe_cookie_and_sign_out_ends_it,
    an_idle_session_ends,
    the_sign_in_page_locks_after_five_failures,
    every_form_needs_its_token,
    the_cookie_opens_api_reads_never_writes,
    foreign_objects_are_404_pages_and_roles_keep_to_theirs,
    self_registration_answers_a_reference_and_is_rate_limited,
);
