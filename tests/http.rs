//! The HTTP side through a real socket: upload, duplicate, refusal, batch status, reject report
//! (whole for the sender, masked for an auditor), OpenAPI document, sign-in and its limits; and
//! the hardening a hostile client meets: sizes refused before the body is read, bodies that must
//! keep a pace, headers on personal data, another sender's file not described.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token, TestApp};
use common::{id18, line, TestDb, HEADER};
use gradhub::distribution::AutoCut;
use gradhub::domain::organisation::Role;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn upload_stores_a_batch_and_serves_its_report(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let auditor = token(db, "000000", Some(Role::Auditor));
    let index: serde_json::Value = app
        .client
        .get(format!("{}/api", app.base))
        .send()
        .expect("index")
        .json()
        .expect("json");
    assert_eq!(index["openapi"], "/api-docs/openapi.json");
    let health = app.ok("/health", "");
    assert_eq!(health["status"], "ok");

    let body = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", "37010220020316124", "370102", "")
    );
    let (status, summary) = app.upload("file_name=2026.csv", &sender, body.clone().into_bytes());
    assert_eq!(status, 201, "{summary}");
    assert_eq!(summary["source"], "edu-370000", "the sender is the caller");
    assert_eq!(
        (summary["accepted"].as_u64(), summary["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    let id = summary["batch_id"].as_i64().expect("id");

    let (status, again) = app.upload("file_name=2026.csv", &sender, body.into_bytes());
    assert_eq!(status, 200);
    assert_eq!(again["duplicate_of"].as_i64(), Some(id));

    let batch = app.ok(&format!("/api/v1/batches/{id}"), &sender);
    assert_eq!(batch["file_name"], "2026.csv");
    let (status, err) = app.get("/api/v1/batches/999999", &sender);
    assert_eq!(status, 404);
    assert_eq!(err["code"], "NOT_FOUND");

    let report = |who: &str, format: &str| {
        app.client
            .get(format!(
                "{}/api/v1/batches/{id}/rejects?format={format}",
                app.base
            ))
            .bearer_auth(who)
            .send()
            .expect("report")
    };
    let own = report(&sender, "csv");
    assert_eq!(own.status().as_u16(), 200);
    let bytes = own.bytes().expect("bytes");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("ID_LENGTH") && text.contains("37010220020316124"),
        "the sender sees its own file whole: {text}"
    );
    let audited =
        String::from_utf8_lossy(&report(&auditor, "csv").bytes().expect("bytes")).to_string();
    assert!(
        audited.contains("3***************4") && !audited.contains("37010220020316124"),
        "an auditor sees ID numbers masked: {audited}"
    );
    assert!(report(&sender, "xlsx")
        .bytes()
        .expect("bytes")
        .starts_with(b"PK"));
}

fn refused_and_oversized_uploads_store_nothing(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let ministry = token(db, "000000", Some(Role::Ministry));
    let (status, err) = app.upload("", &sender, format!("{HEADER}\n").into_bytes());
    assert_eq!(status, 422);
    assert_eq!(err["code"], "NO_DATA_ROWS");
    assert!(err["message"].as_str().unwrap_or("").contains("表头"));
    let big = app
        .client
        .post(format!("{}/api/v1/batches", app.base))
        .bearer_auth(&sender)
        .body(vec![b'a'; 2 << 20])
        .send();
    // The server may answer 413 or close the connection mid-body; either way nothing is stored.
    if let Ok(r) = big {
        assert_eq!(r.status().as_u16(), 413);
    }
    let (status, _) = app.upload("source=bad%20code", &ministry, b"x".to_vec());
    assert_eq!(status, 400);
    let (status, err) = app.upload("source=edu-110000", &sender, b"x".to_vec());
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "not in another sender's name"
    );
    let (status, _) = app.upload("", "", b"x".to_vec());
    assert_eq!(status, 401);
    let list = app.ok("/api/v1/batches", &ministry);
    assert_eq!(list.as_array().map(Vec::len), Some(0));
}

fn openapi_document_lists_the_endpoints(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let doc = app.ok("/api-docs/openapi.json", "");
    for path in [
        "/health",
        "/api/v1/batches",
        "/api/v1/batches/{id}",
        "/api/v1/batches/{id}/rejects",
        "/api/v1/route/explain",
        "/api/v1/session",
        "/api/v1/inbox",
        "/api/v1/packages/{id}",
        "/api/v1/packages/{id}/records",
        "/api/v1/packages/{id}/download",
        "/api/v1/packages/{id}/acknowledge",
        "/api/v1/packages/{id}/returns",
        "/api/v1/packages",
        "/api/v1/packages/cut",
        "/api/v1/queue",
        "/api/v1/queue/assign",
        "/api/v1/records",
        "/api/v1/records/{id}",
        "/api/v1/figures",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let ministry = token(db, "000000", None);
    let explain = app.ok("/api/v1/route/explain?value=371202", &ministry);
    assert_eq!(explain["route"]["method"], "successor");
}

fn sign_in_opens_a_session_and_locks_after_five_failures(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    {
        let mut conn = db.db.conn().expect("conn");
        gradhub::access::create_user(
            &mut conn,
            &gradhub::access::operator(),
            "wang",
            "王科员",
            Role::Province,
            "370000",
            "mima-12345678",
        )
        .expect("user");
        let err = gradhub::access::create_user(
            &mut conn,
            &gradhub::access::operator(),
            "li",
            "李",
            Role::Province,
            "370100",
            "mima-12345678",
        )
        .expect_err("a province role at a prefecture");
        assert!(err.to_string().contains("省级"), "{err}");
    }
    let session = app.ok_post(
        "/api/v1/session",
        "",
        &json!({"username": "wang", "password": "mima-12345678"}),
    );
    let secret = session["token"].as_str().expect("token").to_string();
    assert_eq!(session["organisation"]["code"], "370000");
    let me = app.ok("/api/v1/me", &secret);
    assert_eq!(
        (me["role"].as_str(), me["actor"].as_str()),
        (Some("province"), Some("user:wang"))
    );
    for _ in 0..5 {
        let (status, err) = app.post(
            "/api/v1/session",
            "",
            &json!({"username": "wang", "password": "wrong-password"}),
        );
        assert_eq!(
            (status, err["code"].as_str()),
            (401, Some("BAD_CREDENTIALS"))
        );
    }
    let (status, err) = app.post(
        "/api/v1/session",
        "",
        &json!({"username": "wang", "password": "mima-12345678"}),
    );
    assert_eq!(
        (status, err["code"].as_str()),
        (429, Some("ACCOUNT_LOCKED")),
        "locked even with the right password"
    );
    assert!(err["message"].as_str().unwrap_or("").contains("锁定"));
    let (status, _) = app.post(
        "/api/v1/session",
        "",
        &json!({"username": "nobody", "password": "x"}),
    );
    assert_eq!(status, 401);
    let signed_out = app
        .client
        .delete(format!("{}/api/v1/session", app.base))
        .bearer_auth(&secret)
        .send()
        .expect("sign out");
    assert_eq!(signed_out.status().as_u16(), 204);
    assert_eq!(app.get("/api/v1/me", &secret).0, 401, "the session is gone");
}

/// What the server answered on a raw socket: the status (None if it closed without answering),
/// the body, and how long after the request head was sent.
struct RawAnswer {
    status: Option<u16>,
    body: String,
    after: Duration,
}

impl RawAnswer {
    fn json(&self) -> Value {
        let body = serde_json::from_str(&self.body).unwrap_or(Value::Null);
        if let Some(status) = self.status {
            common::app::assert_catalogued(status, &body);
        }
        body
    }
}

/// Sends `head` (request line and headers, no blank line) on a raw socket, then `body` in
/// `chunk`-byte pieces `pause` apart (from another thread, stopping when the server hangs up),
/// and reads the answer the server gives meanwhile.
fn raw(app: &TestApp, head: &str, body: Vec<u8>, chunk: usize, pause: Duration) -> RawAnswer {
    trickle(app, Some(head), body, chunk, pause)
}

/// [`raw`], or with `head: None` `body` trickled as a request head that never ends.
fn trickle(
    app: &TestApp,
    head: Option<&str>,
    body: Vec<u8>,
    chunk: usize,
    pause: Duration,
) -> RawAnswer {
    let address = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut writer = stream.try_clone().expect("clone");
    if let Some(head) = head {
        let head = format!("{head}\r\nConnection: close\r\n\r\n");
        writer.write_all(head.as_bytes()).expect("head");
    }
    let started = Instant::now();
    std::thread::spawn(move || {
        for piece in body.chunks(chunk.max(1)) {
            if writer.write_all(piece).is_err() {
                return;
            }
            std::thread::sleep(pause);
        }
    });
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
        if answer_complete(&received) {
            break;
        }
    }
    let after = started.elapsed();
    let text = String::from_utf8_lossy(&received).to_string();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|s| s.parse().ok());
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    RawAnswer {
        status,
        body,
        after,
    }
}

/// Whether `bytes` hold a whole answer (head and the body its Content-Length announces).
fn answer_complete(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    body.len() >= length
}

/// A package of two Shandong graduates delivered to the province; the province's token and the
/// package id.
fn delivered_package(app: &TestApp, db: &TestDb) -> (String, i64) {
    add_sender(db, "edu-test", "000000");
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", &id18("370112", "20010610", 456), "370112", ""),
    );
    ingest_text(db, "edu-test", &text);
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, gradhub::ingest::china_today())
        .expect("cut");
    let province = token(db, "370000", None);
    let inbox = app.ok("/api/v1/inbox", &province);
    let id = inbox["packages"][0]["id"].as_i64().expect("a package");
    (province, id)
}

/// `{"returns": [...]}` of about `bytes` bytes (records that are not in the package).
fn returns_body(bytes: usize) -> Vec<u8> {
    let item = |i: usize| {
        format!(
            "{{\"record_id\":{},\"reason\":\"duplicate\"}}",
            9_000_000 + i
        )
    };
    let mut items = Vec::new();
    let mut size = 20;
    while size < bytes {
        let next = item(items.len());
        size += next.len() + 1;
        items.push(next);
    }
    format!("{{\"returns\":[{}]}}", items.join(",")).into_bytes()
}

fn oversized_bodies_are_refused_before_they_are_read(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let (province, package) = delivered_package(&app, db);
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let ministry = token(db, "000000", Some(Role::Ministry));

    // A declared 5 GB upload: refused at once, not after the limit's worth has been received.
    let answer = raw(
        &app,
        &format!(
            "POST /api/v1/batches HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {sender}\r\nContent-Length: 5000000000"
        ),
        b"a,b,c\n1,2,3\n".to_vec(),
        16,
        Duration::ZERO,
    );
    assert_eq!(answer.status, Some(413), "{}", answer.body);
    assert_eq!(answer.json()["code"], "FILE_TOO_LARGE");
    assert!(answer.after < Duration::from_secs(3), "{:?}", answer.after);
    let batches = app.ok("/api/v1/batches", &ministry);
    assert_eq!(
        batches.as_array().map(Vec::len),
        Some(1),
        "only the set-up batch"
    );

    // A declared 22 MB JSON body: 413 with the JSON error, at once.
    let answer = raw(
        &app,
        &format!(
            "POST /api/v1/packages/{package}/returns HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {province}\r\nContent-Type: application/json\r\nContent-Length: 22000000"
        ),
        b"{\"returns\": [".to_vec(),
        16,
        Duration::ZERO,
    );
    assert_eq!(answer.status, Some(413), "{}", answer.body);
    let error = answer.json();
    assert_eq!(error["code"], "BODY_TOO_LARGE");
    assert!(error["message"]
        .as_str()
        .unwrap_or("")
        .contains("请求体过大"));
    assert!(error["message_en"]
        .as_str()
        .unwrap_or("")
        .contains("too large"));
    assert!(answer.after < Duration::from_secs(3), "{:?}", answer.after);

    // Return lists up to 2 MiB are read (these records are not in the package: 422); larger 413.
    let post_returns = |body: Vec<u8>| {
        raw(
            &app,
            &format!(
                "POST /api/v1/packages/{package}/returns HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {province}\r\nContent-Type: application/json\r\nContent-Length: {}",
                body.len()
            ),
            body,
            64 << 10,
            Duration::ZERO,
        )
    };
    let answer = post_returns(returns_body(1_500_000));
    assert_eq!(
        (answer.status, answer.json()["code"].as_str()),
        (Some(422), Some("RECORD_NOT_IN_PACKAGE")),
        "a 1.5 MB return list is read"
    );
    let answer = post_returns(returns_body(2_200_000));
    assert_eq!(
        (answer.status, answer.json()["code"].as_str()),
        (Some(413), Some("BODY_TOO_LARGE")),
        "over 2 MiB"
    );

    // A 378 KB acknowledgement: over the documented 256 KiB, refused whole, the package untouched
    // whether the length is declared or the body comes in chunks.
    let body = returns_body(378_000);
    let answer = raw(
        &app,
        &format!(
            "POST /api/v1/packages/{package}/acknowledge HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {province}\r\nContent-Length: {}",
            body.len()
        ),
        body.clone(),
        64 << 10,
        Duration::ZERO,
    );
    assert_eq!(answer.status, Some(413), "{}", answer.body);
    assert_eq!(answer.json()["code"], "BODY_TOO_LARGE");
    let mut chunked = Vec::new();
    for piece in body.chunks(32 << 10) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(
        &app,
        &format!(
            "POST /api/v1/packages/{package}/acknowledge HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {province}\r\nTransfer-Encoding: chunked"
        ),
        chunked,
        64 << 10,
        Duration::ZERO,
    );
    assert_eq!(answer.status, Some(413), "chunked: {}", answer.body);
    assert_eq!(answer.json()["code"], "BODY_TOO_LARGE");
    // A misspelt field is refused, not taken for a plain acknowledgement (exchange-api.md).
    let (status, error) = app.post(
        &format!("/api/v1/packages/{package}/acknowledge"),
        &province,
        &json!({"return": [{"record_id": 1, "reason": "duplicate"}]}),
    );
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("BODY_INVALID")),
        "{error}"
    );
    let view = app.ok(&format!("/api/v1/packages/{package}"), &province);
    assert_eq!(
        (view["state"].as_str(), view["returned"].as_i64()),
        (Some("delivered"), Some(0)),
        "nothing changed"
    );
}

fn slow_requests_time_out(db: &TestDb) {
    let config = gradhub::config::Config {
        body_timeout_secs: 1,
        min_body_bytes_per_sec: 1_000,
        ..test_config(db)
    };
    let app = spawn_app(db, config);
    let (province, package) = delivered_package(&app, db);
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);

    // One byte every 60 ms: far below 1,000 bytes a second, so cut off after the 1 s grace.
    let file = format!(
        "{HEADER}\n{}\n",
        line("张三", &id18("370102", "20020315", 321), "370102", "")
    )
    .into_bytes();
    let answer = raw(
        &app,
        &format!(
            "POST /api/v1/batches?file_name=slow.csv HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {sender}\r\nContent-Length: {}",
            file.len()
        ),
        file.clone(),
        1,
        Duration::from_millis(60),
    );
    assert!(
        answer.status.is_none_or(|s| s == 408),
        "{:?} {}",
        answer.status,
        answer.body
    );
    if answer.status.is_some() {
        assert_eq!(answer.json()["code"], "BODY_TIMEOUT");
    }
    assert!(answer.after < Duration::from_secs(4), "{:?}", answer.after);

    let answer = raw(
        &app,
        &format!(
            "POST /api/v1/packages/{package}/acknowledge HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {province}\r\nContent-Length: 100"
        ),
        vec![b' '; 100],
        1,
        Duration::from_millis(60),
    );
    assert_eq!(answer.status, Some(408), "{}", answer.body);
    assert_eq!(answer.json()["code"], "BODY_TIMEOUT");
    assert!(answer.after < Duration::from_secs(4), "{:?}", answer.after);
    let view = app.ok(&format!("/api/v1/packages/{package}"), &province);
    assert_eq!(view["state"], "delivered", "not acknowledged");

    // A request head that never ends: dropped after the grace too.
    let answer = trickle(
        &app,
        None,
        b"GET /health HTTP/1.1\r\nHost: hub\r\nX-Slow: 1\r\n".to_vec(),
        1,
        Duration::from_millis(300),
    );
    assert!(
        answer.status.is_none_or(|s| s == 408),
        "{:?} {}",
        answer.status,
        answer.body
    );
    assert!(answer.after < Duration::from_secs(4), "{:?}", answer.after);

    // The same file at an ordinary pace is stored.
    let (status, summary) = app.upload("file_name=fast.csv", &sender, file);
    assert_eq!(status, 201, "{summary}");
}

fn personal_data_is_neither_cached_nor_sniffed(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    let (province, package) = delivered_package(&app, db);
    for path in [
        format!("/api/v1/packages/{package}/records"),
        format!("/api/v1/packages/{package}/download"),
        format!("/api/v1/packages/{package}/download?format=xlsx"),
        "/api/v1/records".to_string(),
        "/api/v1/records/999999".to_string(),
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .bearer_auth(&province)
            .send()
            .expect("get");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        assert_eq!(
            header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header("cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .expect("health");
    assert_eq!(
        health
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
}

fn another_senders_file_is_only_said_to_be_received(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    add_sender(db, "edu-110000", "110000");
    let shandong = token(db, "edu-370000", None);
    let beijing = token(db, "edu-110000", None);
    let body = format!(
        "{HEADER}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", "")
    )
    .into_bytes();
    let (status, first) = app.upload("file_name=山东2026届.csv", &shandong, body.clone());
    assert_eq!(status, 201, "{first}");
    let id = first["batch_id"].as_i64().expect("id");

    for query in ["file_name=copy.csv", "file_name=copy.csv&dry_run=true"] {
        let (status, answer) = app.upload(query, &beijing, body.clone());
        assert_eq!(
            (status, answer["code"].as_str()),
            (409, Some("ALREADY_RECEIVED")),
            "{query}: {answer}"
        );
        assert!(answer["message"]
            .as_str()
            .unwrap_or("")
            .contains("文件已接收"));
        assert!(answer["message_en"]
            .as_str()
            .unwrap_or("")
            .contains("Already received"));
        let text = answer.to_string();
        for secret in [
            &id.to_string(),
            "山东2026届",
            "edu-370000",
            "accepted",
            "batch_id",
        ] {
            assert!(!text.contains(secret), "{query} discloses {secret}: {text}");
        }
    }
    // The sender that sent it still hears about its own batch.
    let (status, again) = app.upload("file_name=again.csv", &shandong, body);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate_of"].as_i64(), Some(id));
    assert_eq!(again["file_name"], "山东2026届.csv");
    let ministry = token(db, "000000", Some(Role::Ministry));
    let batches = app.ok("/api/v1/batches", &ministry);
    assert_eq!(batches.as_array().map(Vec::len), Some(1), "stored once");
}

on_both_backends!(
    oversized_bodies_are_refused_before_they_are_read,
    slow_requests_time_out,
    personal_data_is_neither_cached_nor_sniffed,
    another_senders_file_is_only_said_to_be_received,
    upload_stores_a_batch_and_serves_its_report,
    refused_and_oversized_uploads_store_nothing,
    openapi_document_lists_the_endpoints,
    sign_in_opens_a_session_and_locks_after_five_failures,
);
