//! A running hub for HTTP tests: the app on a real socket (port 0), tokens for any organisation,
//! and request helpers that answer (status, JSON).
#![allow(dead_code)]

use super::TestDb;
use gradhub::access;
use gradhub::config::Config;
use gradhub::distribution::Distribution;
use gradhub::domain::catalogue::ErrorCode;
use gradhub::domain::organisation::Role;
use gradhub::startup::{Application, Hub};
use reqwest::blocking::Client;
use serde_json::Value;
use std::sync::Arc;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub dist: Arc<Distribution>,
    pub unemployment: Arc<gradhub::unemployment::Unemployment>,
    pub config: Config,
}

/// The configuration tests run with: the test's database, uploads in its folder, no jobs
/// thread (tests run passes themselves, so they know when work happened).
pub fn test_config(db: &TestDb) -> Config {
    Config {
        database_url: db.url.clone().into(),
        upload_dir: db.path("uploads"),
        max_upload_bytes: 1 << 20,
        jobs_interval_secs: 0,
        ..Config::default()
    }
}

/// Starts the app through the same composition root as `gradhub serve` (on the test's own
/// database, on a free port) in a background thread; returns when it answers.
pub fn spawn_app(db: &TestDb, mut config: Config) -> TestApp {
    config.bind = "127.0.0.1:0".into();
    let hub = Hub::with_db(config.clone(), db.db.clone()).expect("hub");
    let app = Application::from_hub(hub).expect("application");
    let port = app.port();
    let dist = app.dist();
    let unemployment = app.unemployment();
    std::thread::spawn(move || {
        let _ = app.run_until_stopped();
    });
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::blocking::get(format!("{base}/health/live")).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    TestApp {
        base,
        client: Client::new(),
        dist,
        unemployment,
        config,
    }
}

/// A new API token for an organisation (role by default: system, or sender for senders).
pub fn token(db: &TestDb, org: &str, role: Option<Role>) -> String {
    let mut conn = db.db.conn().expect("conn");
    access::create_token(
        &mut conn,
        &gradhub::access::operator(),
        &format!("test-{org}"),
        org,
        role,
    )
    .unwrap_or_else(|e| panic!("token for {org}: {e}"))
    .1
}

/// Adds a sender organisation (an education department) under `parent`.
/// A staff user who signs in with `password`.
pub fn add_user(db: &TestDb, username: &str, role: Role, org: &str, password: &str) {
    let mut conn = db.db.conn().expect("conn");
    gradhub::access::create_user(
        &mut conn,
        &gradhub::access::operator(),
        username,
        username,
        role,
        org,
        password,
    )
    .expect("user");
}

pub fn add_sender(db: &TestDb, code: &str, parent: &str) {
    let mut conn = db.db.conn().expect("conn");
    let parent = gradhub::db::orgs::find_by_code(&mut conn, parent)
        .expect("query")
        .expect("parent");
    gradhub::db::orgs::add(
        &mut conn,
        code,
        "测试教育厅",
        gradhub::domain::organisation::OrgLevel::Sender,
        &parent,
    )
    .expect("add sender");
}

/// Ingests `text` as the (existing) sender `source` through the one pipeline; the batch id.
pub fn ingest_text(db: &TestDb, source: &str, text: &str) -> i64 {
    let path = db.path(&format!("{source}-{}.csv", text.len()));
    std::fs::write(&path, text).expect("write");
    let mut conn = db.db.conn().expect("conn");
    let request = gradhub::ingest::IngestRequest {
        path: &path,
        file_name: "batch.csv",
        source,
        channel: gradhub::ingest::Channel::Education,
        dry_run: false,
    };
    gradhub::ingest::ingest(&mut conn, &db.router(), &request, &gradhub::ingest::Silent)
        .expect("ingest")
        .summary
        .batch_id
        .expect("batch")
}

/// Ingests one valid graduate of 历下区 (`name`, ID number `id`) as the sender `source`.
pub fn ingest_graduate(db: &TestDb, source: &str, name: &str, id: &str) -> i64 {
    let text = format!(
        "{}\n{}\n",
        crate::common::HEADER,
        crate::common::line(name, id, "370102", "")
    );
    ingest_text(db, source, &text)
}

/// Every error answer any test observes is in the error contract: a code of the catalogue,
/// answered with the catalogue's status, and a message in Chinese and English.
pub fn assert_catalogued(status: u16, body: &Value) {
    if status < 400 {
        return;
    }
    let code = body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{status} without a code: {body}"));
    let listed = ErrorCode::parse(code).unwrap_or_else(|| panic!("{code} is not in the catalogue"));
    assert_eq!(
        listed.http_status(),
        Some(status),
        "{code} answered {status}, the catalogue says {:?}",
        listed.http_status()
    );
    for key in ["message", "message_en"] {
        assert!(
            body[key].as_str().is_some_and(|m| !m.is_empty()),
            "{status} {code} without {key}: {body}"
        );
    }
}

impl TestApp {
    fn finish(response: reqwest::Result<reqwest::blocking::Response>) -> (u16, Value) {
        let response = response.expect("request");
        let status = response.status().as_u16();
        let text = response.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        assert_catalogued(status, &body);
        (status, body)
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        Self::finish(
            self.client
                .get(format!("{}{path}", self.base))
                .bearer_auth(token)
                .send(),
        )
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        Self::finish(
            self.client
                .post(format!("{}{path}", self.base))
                .bearer_auth(token)
                .json(body)
                .send(),
        )
    }

    pub fn upload(&self, query: &str, token: &str, bytes: Vec<u8>) -> (u16, Value) {
        Self::finish(
            self.client
                .post(format!("{}/api/v1/batches?{query}", self.base))
                .bearer_auth(token)
                .body(bytes)
                .send(),
        )
    }

    /// GET that must answer 200; the JSON.
    pub fn ok(&self, path: &str, token: &str) -> Value {
        let (status, body) = self.get(path, token);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// POST that must answer 200 or 201; the JSON.
    pub fn ok_post(&self, path: &str, token: &str, body: &Value) -> Value {
        let (status, answer) = self.post(path, token, body);
        assert!(
            status == 200 || status == 201,
            "POST {path} {body}: {status} {answer}"
        );
        answer
    }
}
