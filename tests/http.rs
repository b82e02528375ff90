//! The HTTP side through a real socket: upload, duplicate, refusal, batch status, reject report
//! (whole for the sender, masked for an auditor), OpenAPI document, sign-in and its limits.

#[macro_use]
mod common;

use common::app::{add_sender, spawn_app, test_config, token};
use common::{id18, line, TestDb, HEADER};
use gradhub::domain::organisation::Role;
use serde_json::json;

fn upload_stores_a_batch_and_serves_its_report(db: &TestDb) {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let auditor = token(db, "000000", Some(Role::Auditor));
    let index: serde_json::Value = app
        .client
        .get(format!("{}/", app.base))
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
            "wang",
            "王科员",
            Role::Province,
            "370000",
            "mima-12345678",
        )
        .expect("user");
        let err = gradhub::access::create_user(
            &mut conn,
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

on_both_backends!(
    upload_stores_a_batch_and_serves_its_report,
    refused_and_oversized_uploads_store_nothing,
    openapi_document_lists_the_endpoints,
    sign_in_opens_a_session_and_locks_after_five_failures,
);
