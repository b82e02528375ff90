//! The HTTP side through a real socket: upload, duplicate, refusal, batch status, reject report,
//! OpenAPI document.

#[macro_use]
mod common;

use common::{id18, line, TestDb, HEADER};
use gradhub::config::Config;
use gradhub::web::{server, AppState};
use std::net::TcpListener;
use std::sync::Arc;

/// Starts the app on port 0 in a background thread; returns its base URL.
fn spawn_app(db: &TestDb) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let config = Config {
        database_url: db.url.clone(),
        upload_dir: db.path("uploads"),
        max_upload_bytes: 1 << 20,
        ..Config::default()
    };
    let state = AppState {
        db: db.db.clone(),
        router: Arc::new(db.router()),
        config,
    };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let _ = server(listener, state).expect("server").await;
        });
    });
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::blocking::get(format!("{base}/health")).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    base
}

fn upload_stores_a_batch_and_serves_its_report(db: &TestDb) {
    let base = spawn_app(db);
    let client = reqwest::blocking::Client::new();
    let index: serde_json::Value = client
        .get(format!("{base}/"))
        .send()
        .expect("index")
        .json()
        .expect("json");
    assert_eq!(index["openapi"], "/api-docs/openapi.json");
    let health: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .expect("health")
        .json()
        .expect("json");
    assert_eq!(health["status"], "ok");

    let body = format!(
        "{HEADER}\n{}\n{}\n",
        line("张三", &id18("370102", "20020315", 123), "370102", ""),
        line("李四", "37010220020316124", "370102", "")
    );
    let url = format!("{base}/api/v1/batches?source=370000&file_name=2026.csv");
    let resp = client.post(&url).body(body.clone()).send().expect("upload");
    assert_eq!(resp.status().as_u16(), 201);
    let summary: serde_json::Value = resp.json().expect("json");
    assert_eq!(
        (summary["accepted"].as_u64(), summary["rejected"].as_u64()),
        (Some(1), Some(1))
    );
    let id = summary["batch_id"].as_i64().expect("id");

    let again = client.post(&url).body(body).send().expect("again");
    assert_eq!(again.status().as_u16(), 200);
    let again: serde_json::Value = again.json().expect("json");
    assert_eq!(again["duplicate_of"].as_i64(), Some(id));

    let batch: serde_json::Value = client
        .get(format!("{base}/api/v1/batches/{id}"))
        .send()
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(batch["file_name"], "2026.csv");
    let missing = client
        .get(format!("{base}/api/v1/batches/999999"))
        .send()
        .expect("get");
    assert_eq!(missing.status().as_u16(), 404);
    let err: serde_json::Value = missing.json().expect("json error");
    assert_eq!(err["code"], "NOT_FOUND");

    let report = client
        .get(format!("{base}/api/v1/batches/{id}/rejects"))
        .send()
        .expect("report");
    assert_eq!(report.status().as_u16(), 200);
    let bytes = report.bytes().expect("bytes");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("ID_LENGTH") && text.contains("370102*******6124"),
        "masked: {text}"
    );
    let xlsx = client
        .get(format!("{base}/api/v1/batches/{id}/rejects?format=xlsx"))
        .send()
        .expect("xlsx");
    assert!(xlsx.bytes().expect("bytes").starts_with(b"PK"));
}

fn refused_and_oversized_uploads_store_nothing(db: &TestDb) {
    let base = spawn_app(db);
    let client = reqwest::blocking::Client::new();
    let resp = client
        .post(format!("{base}/api/v1/batches?source=370000"))
        .body(format!("{HEADER}\n"))
        .send()
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 422);
    let err: serde_json::Value = resp.json().expect("json");
    assert_eq!(err["code"], "NO_DATA_ROWS");
    assert!(err["message"].as_str().unwrap_or("").contains("表头"));
    let big = vec![b'a'; 2 << 20];
    let resp = client
        .post(format!("{base}/api/v1/batches?source=370000"))
        .body(big)
        .send();
    // The server may answer 413 or close the connection mid-body; either way nothing is stored.
    if let Ok(r) = resp {
        assert_eq!(r.status().as_u16(), 413);
    }
    let bad = client
        .post(format!("{base}/api/v1/batches?source=bad%20code"))
        .body("x")
        .send()
        .expect("bad");
    assert_eq!(bad.status().as_u16(), 400);
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/batches"))
        .send()
        .expect("list")
        .json()
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(0));
}

fn openapi_document_lists_the_endpoints(db: &TestDb) {
    let base = spawn_app(db);
    let doc: serde_json::Value = reqwest::blocking::get(format!("{base}/api-docs/openapi.json"))
        .expect("doc")
        .json()
        .expect("json");
    for path in [
        "/health",
        "/api/v1/batches",
        "/api/v1/batches/{id}",
        "/api/v1/batches/{id}/rejects",
        "/api/v1/route/explain",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    let explain: serde_json::Value =
        reqwest::blocking::get(format!("{base}/api/v1/route/explain?value=371202"))
            .expect("explain")
            .json()
            .expect("json");
    assert_eq!(explain["route"]["method"], "successor");
}

on_both_backends!(
    upload_stores_a_batch_and_serves_its_report,
    refused_and_oversized_uploads_store_nothing,
    openapi_document_lists_the_endpoints,
);
