//! The dashboard's journeys walked in headless Chromium over WebDriver (Debian's `chromium` and
//! `chromium-driver`), on a hub started by the test, on both backends: a clerk uploads a file and
//! downloads its reject report; a province signs for a package and returns a record; a
//! prefecture assigns its queue; a county records a first contact and a service; the ministry
//! opens the summary and drills into a count; an auditor sees masked data; a user of another
//! province typing a foreign record's URL gets a 404 page; a form posted without its CSRF token
//! is refused. Each journey's end is kept as a screenshot in `target/screenshots/<backend>/`.
//! Without chromedriver the tests say SKIPPED, unless `GRADHUB_REQUIRE_BROWSER=1` (CI).

mod common;

use common::app::{add_sender, add_user, spawn_app, test_config, token, TestApp};
use common::{id18, line, TestDb, HEADER};
use fantoccini::{Client, ClientBuilder, Locator};
use gradhub::domain::organisation::Role;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "browser-test-password";

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Option<Driver> {
    let exe = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(exe) = exe else {
        if std::env::var("GRADHUB_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("chromedriver is not installed (apt-get install chromium chromium-driver)");
        }
        eprintln!("SKIPPED (browser): chromedriver is not installed");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1366,900", "--lang=zh-CN"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Where a journey's end is kept.
fn screenshot_dir(db: &TestDb) -> PathBuf {
    let backend = db.db.backend().as_str();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/screenshots")
        .join(backend);
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

async fn keep(c: &Client, db: &TestDb, name: &str) {
    // The whole page, not only the first screen.
    let height = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .ok()
        .and_then(|v| v.as_u64())
        .unwrap_or(900)
        .clamp(600, 4000);
    let _ = c.set_window_size(1366, height as u32 + 120).await;
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir(db).join(format!("{name}.png")), png).expect("write png");
    let _ = c.set_window_size(1366, 900).await;
}

/// The page's text. A page that replaces itself while it is read (a refresh, a script writing
/// the answer it was given) is read again.
async fn text(c: &Client) -> String {
    let mut last = String::new();
    for _ in 0..20 {
        match c.find(Locator::Css("body")).await {
            Ok(body) => match body.text().await {
                Ok(t) => return t,
                Err(e) => last = e.to_string(),
            },
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page could not be read: {last}");
}

async fn sign_in(c: &Client, app: &TestApp, user: &str) {
    // A fresh browser state for each person.
    let _ = c.delete_all_cookies().await;
    open(c, app, "/").await;
    type_into(c, "username", user).await;
    type_into(c, "password", PASSWORD).await;
    c.find(Locator::Css("form[action='/sign-in'] button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    c.wait()
        .for_element(Locator::Css("header .who"))
        .await
        .expect("signed in");
}

/// Opens a page of the hub.
async fn open(c: &Client, app: &TestApp, path: &str) {
    c.goto(&format!("{}{path}", app.base))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

/// Fills the named fields of the form at `css` and sends it.
async fn fill_and_send(c: &Client, css: &str, fields: &[(&str, &str)]) {
    let form = c
        .form(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    for (name, value) in fields {
        form.set_by_name(name, value)
            .await
            .unwrap_or_else(|e| panic!("{css} {name}: {e}"));
    }
    form.submit()
        .await
        .unwrap_or_else(|e| panic!("send {css}: {e}"));
}

/// Types `text` into the field with id `id` (a file input takes a path).
async fn type_into(c: &Client, id: &str, text: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id}: {e}"))
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("typing into #{id}: {e}"));
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Asks the public progress page about an application; waits for its answer.
async fn ask_progress(c: &Client, app: &TestApp, number: &str, id: &str) {
    open(c, app, "/unemployment/progress").await;
    fill_and_send(
        c,
        "#progress",
        &[("application_no", number), ("id_number", id)],
    )
    .await;
    c.wait()
        .for_element(Locator::Id("result"))
        .await
        .expect("the answer");
}

/// Chooses `value` in the select at `css`.
async fn choose(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("{css}={value}: {e}"));
}

/// Waits (up to a minute) until the browser is on a page under `prefix`: the upload's progress
/// page refreshes itself until the batch is stored.
async fn wait_for_path(c: &Client, prefix: &str) {
    for _ in 0..600 {
        if let Ok(url) = c.current_url().await {
            if url.path().starts_with(prefix) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let at = c
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    panic!("never reached {prefix}; at {at}: {}", text(c).await);
}

/// Fetches the download the link at `css` points to, with the browser's own session cookie.
async fn download(c: &Client, app: &TestApp, css: &str) -> (u16, Vec<u8>) {
    let href = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr("href")
        .await
        .expect("href")
        .unwrap_or_else(|| panic!("{css} is no link"));
    let cookie = c
        .get_named_cookie("gh_session")
        .await
        .expect("session cookie");
    let url = format!("{}{href}", app.base);
    let value = cookie.value().to_string();
    tokio::task::spawn_blocking(move || {
        let r = reqwest::blocking::Client::new()
            .get(url)
            .header("Cookie", format!("gh_session={value}"))
            .send()
            .expect("download");
        let status = r.status().as_u16();
        (status, r.bytes().expect("bytes").to_vec())
    })
    .await
    .expect("download thread")
}

/// Twelve graduates of 济南 (370102 历下区, 370112 历城区), two of 济南市 with no county, two of
/// 广东, and one bad row.
fn transfer_file() -> String {
    let mut text = format!("{HEADER}\n");
    // (county, birth day, first sequence number, names, how many); 370100 names only the
    // prefecture: those wait in 济南市's 待分配 queue for a person.
    for (hukou, birth, seq, name, n) in [
        ("370102", "20040101", 100, "历下", 8),
        ("370112", "20040202", 200, "历城", 4),
        ("370100", "20040505", 500, "济南", 2),
        ("440106", "20040303", 300, "广州", 2),
    ] {
        for i in 0..n {
            let id = id18(hukou, birth, seq + i);
            text.push_str(&line(&format!("{name}{i}"), &id, hukou, ""));
            text.push('\n');
        }
    }
    // A check digit that does not check: a reject.
    let good = id18("370102", "20040404", 400);
    let wrong_check = format!(
        "{}{}",
        &good[..17],
        if good.ends_with('0') { '1' } else { '0' }
    );
    text.push_str(&line("校验错", &wrong_check, "370102", ""));
    text.push('\n');
    text
}

fn dashboard_journeys(db: &TestDb) {
    let Some(driver) = driver() else { return };
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-sd", "370000");
    for (user, role, org) in [
        ("jiaoyu", Role::Sender, "edu-sd"),
        ("bu", Role::Ministry, "000000"),
        ("shandong", Role::Province, "370000"),
        ("jinan", Role::Prefecture, "370100"),
        ("lixia", Role::County, "370102"),
        ("shenji", Role::Auditor, "370000"),
        ("guangdong", Role::Province, "440000"),
        ("admin", Role::Admin, "000000"),
    ] {
        add_user(db, user, role, org, PASSWORD);
    }
    let ministry = token(db, "000000", Some(Role::Ministry));
    let file = db.path("2026届.csv");
    std::fs::write(&file, transfer_file()).expect("file");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let c = browser(&driver).await;

        // 1. A clerk uploads a file and downloads its reject report.
        // 0. The sign-in page, and the public self-registration page.
        open(&c, &app, "/").await;
        keep(&c, db, "0-sign-in").await;
        open(&c, &app, "/register").await;
        keep(&c, db, "0a-self-registration").await;

        sign_in(&c, &app, "jiaoyu").await;
        open(&c, &app, "/upload").await;
        keep(&c, db, "1a-upload-form").await;
        // A file with a header and no rows is refused whole: an error page with its code.
        let empty = db.path("空表.csv");
        std::fs::write(&empty, format!("{HEADER}\n")).expect("file");
        type_into(&c, "file", empty.to_str().expect("path")).await;
        click(&c, "#upload-form button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css(".error"))
            .await
            .expect("the refusal");
        let page = text(&c).await;
        assert!(page.contains("NO_DATA_ROWS"), "{page}");
        keep(&c, db, "1b-upload-refused").await;
        open(&c, &app, "/upload").await;
        type_into(&c, "file", file.to_str().expect("path")).await;
        click(&c, "#upload-form button[type=submit]").await;
        wait_for_path(&c, "/batches/").await;
        let page = text(&c).await;
        assert!(page.contains("拒收"), "{page}");
        assert!(page.contains("ID_CHECKSUM"), "the reject is listed: {page}");
        let (status, bytes) = download(&c, &app, "#rejects-xlsx").await;
        assert_eq!(status, 200);
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an XLSX");
        let sheet = calamine::Reader::worksheet_range_at(&mut book, 0)
            .expect("a sheet")
            .expect("readable");
        let cells: Vec<String> = sheet.rows().flatten().map(|c| c.to_string()).collect();
        assert!(cells.iter().any(|c| c == "ID_CHECKSUM"), "{cells:?}");
        keep(&c, db, "1-clerk-batch").await;

        // The hub places the rows and cuts the provinces' packages (the job's work).
        tokio::task::block_in_place(|| {
            app.dist.place_new().expect("place");
            app.ok_post("/api/v1/packages/cut", &ministry, &json!({}));
        });

        // 2. A province signs for its package and returns a record.
        sign_in(&c, &app, "shandong").await;
        open(&c, &app, "/inbox").await;
        keep(&c, db, "2a-province-inbox").await;
        click(&c, "table tbody tr td a").await;
        // The package's file as the province's system would take it.
        let (status, bytes) = download(&c, &app, "a[href$='download?format=xlsx']").await;
        assert_eq!(status, 200);
        assert!(bytes.starts_with(b"PK"), "an XLSX");
        c.wait()
            .for_element(Locator::Id("return"))
            .await
            .expect("package page");
        click(&c, "input[name=record]").await;
        click(&c, "#return").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("returned");
        assert!(text(&c).await.contains("已退回 1 条记录"));
        click(&c, "#acknowledge").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("acknowledged");
        let page = text(&c).await;
        assert!(page.contains("已签收。"), "{page}");
        keep(&c, db, "2-province-package").await;
        // It cuts the prefectures' packages from its inbox.
        open(&c, &app, "/inbox").await;
        click(&c, "form[action='/packages/cut'] button").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("cut");
        assert!(text(&c).await.contains("已切成"));

        // 3. A prefecture assigns its queue: it signs, then the records that name no county
        // wait for a person to choose one.
        sign_in(&c, &app, "jinan").await;
        open(&c, &app, "/inbox").await;
        click(&c, "table tbody tr td a").await;
        click(&c, "#acknowledge").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("acknowledged");
        open(&c, &app, "/queue").await;
        click(&c, "input[data-select-all]").await;
        choose(&c, "select[name=to]", "370102").await;
        keep(&c, db, "3a-prefecture-queue-ticked").await;
        click(&c, "#assign").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("assigned");
        assert!(text(&c).await.contains("已分配"));
        keep(&c, db, "3-prefecture-queue").await;
        open(&c, &app, "/inbox").await;
        click(&c, "form[action='/packages/cut'] button").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("cut");

        // 4. A county records a first contact and a service.
        sign_in(&c, &app, "lixia").await;
        open(&c, &app, "/inbox").await;
        click(&c, "table tbody tr td a").await;
        click(&c, "#acknowledge").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("acknowledged");
        click(&c, "table tbody tr td a[href^='/records/']").await;
        c.wait()
            .for_element(Locator::Id("form-contact"))
            .await
            .expect("record page");
        click(&c, "#form-contact button").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("contact stored");
        choose(&c, "#form-service select[name=service_type]", "02").await;
        click(&c, "#form-service button").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("service stored");
        let page = text(&c).await;
        assert!(page.contains("首次联系") || page.contains("联系"), "{page}");
        assert!(page.contains("职业指导"), "{page}");
        let record_url = c.current_url().await.expect("url").path().to_string();
        keep(&c, db, "4-county-record").await;

        // 5. The ministry opens the summary and drills into a count.
        sign_in(&c, &app, "bu").await;
        keep(&c, db, "5a-ministry-home").await;
        open(&c, &app, "/summary?year=2025").await;
        keep(&c, db, "5b-ministry-summary").await;
        click(&c, "#summary tr.total a[data-column=contacted]").await;
        c.wait()
            .for_element(Locator::Id("drill"))
            .await
            .expect("drill-down");
        let rows = c
            .find_all(Locator::Css("#drill tbody tr"))
            .await
            .expect("rows");
        assert_eq!(rows.len(), 1, "one graduate was contacted");
        keep(&c, db, "5-ministry-drill").await;

        // 6. An auditor sees masked data.
        sign_in(&c, &app, "shenji").await;
        open(&c, &app, &record_url).await;
        let page = text(&c).await;
        assert!(page.contains("已脱敏"), "{page}");
        assert!(
            page.contains("3****************"),
            "the ID number is masked: {page}"
        );
        assert!(!page.contains("20040101"), "no birth date digits: {page}");
        keep(&c, db, "6-auditor-masked").await;
        open(&c, &app, "/audit?action=record.viewed").await;
        let page = text(&c).await;
        assert!(
            page.contains("user:shenji"),
            "the auditor's own view is logged: {page}"
        );
        keep(&c, db, "6a-audit-log").await;

        // 7. A user of another province typing a foreign record's URL gets a 404 page.
        sign_in(&c, &app, "guangdong").await;
        open(&c, &app, &record_url).await;
        let page = text(&c).await;
        assert!(
            page.contains("未找到") && page.contains("NOT_FOUND"),
            "{page}"
        );
        assert!(!page.contains("历下"), "nothing of the record: {page}");
        keep(&c, db, "7-foreign-404").await;

        // 8. A form posted without its CSRF token is refused, and changes nothing.
        open(&c, &app, "/inbox").await;
        c.execute(
            "document.querySelector(\"form[action='/packages/cut'] input[name=csrf]\").remove();",
            vec![],
        )
        .await
        .expect("drop the token");
        click(&c, "form[action='/packages/cut'] button").await;
        c.wait()
            .for_element(Locator::Css(".error"))
            .await
            .expect("refused");
        let page = text(&c).await;
        assert!(page.contains("CSRF_INVALID"), "{page}");
        keep(&c, db, "8-csrf-refused").await;
        let sent = tokio::task::block_in_place(|| {
            app.ok("/api/v1/packages/sent", &token(db, "440000", None))
        });
        assert_eq!(sent, json!([]), "nothing was cut");

        // 9. An administrator creates a token (shown once) and opens a user.
        sign_in(&c, &app, "admin").await;
        open(&c, &app, "/admin/tokens").await;
        fill_and_send(
            &c,
            "form[action='/admin/tokens']",
            &[("name", "shandong-sync"), ("org", "370000")],
        )
        .await;
        let secret = c
            .wait()
            .for_element(Locator::Id("new-token"))
            .await
            .expect("the new token")
            .text()
            .await
            .expect("text");
        assert!(secret.starts_with("ghk_") && secret.len() == 68, "{secret}");
        keep(&c, db, "9-admin-token").await;
        let inbox = tokio::task::block_in_place(|| app.get("/api/v1/inbox", &secret));
        assert_eq!(inbox.0, 200, "the new token works");
        open(&c, &app, "/admin/tokens").await;
        assert!(!text(&c).await.contains(&secret), "shown once only");
        open(&c, &app, "/admin/users").await;
        choose(&c, "select[name=role]", "county").await;
        fill_and_send(
            &c,
            "form[action='/admin/users']",
            &[
                ("username", "lixia2"),
                ("org", "370102"),
                ("password", "a-long-password"),
            ],
        )
        .await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("saved");
        assert!(text(&c).await.contains("lixia2"));
        keep(&c, db, "9a-admin-users").await;

        c.close().await.expect("close");
    });
}

/// The unemployment-registration journeys: an applicant applies on the public page and checks
/// the progress; the county clerk finds the application in the queue with its deadlines, refuses
/// a forbidden reason (the page cites 79号), passes it, records a contact and a job referral,
/// and ends the registration; the applicant sees the result; the province reads the statistics.
fn unemployment_journeys(db: &TestDb) {
    let Some(driver) = driver() else { return };
    let app = spawn_app(db, test_config(db));
    for (user, role, org) in [
        ("lixia", Role::County, "370102"),
        ("shandong", Role::Province, "370000"),
    ] {
        add_user(db, user, role, org, PASSWORD);
    }
    let id = id18("370102", "19880808", 135);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let c = browser(&driver).await;
        // The applicant: the form refuses what is missing, then takes the application.
        open(&c, &app, "/unemployment/apply").await;
        keep(&c, db, "u0-apply-form").await;
        type_into(&c, "name", "刘洋").await;
        type_into(&c, "id_number", &id).await;
        // The browser's own checks stop a form with empty required fields; the hub's answer to
        // one that gets past them (an old browser, a script) is what is tested here.
        c.execute("document.getElementById('application').submit();", vec![])
            .await
            .expect("submit");
        c.wait()
            .for_element(Locator::Css("#problems"))
            .await
            .expect("the problems");
        let page = text(&c).await;
        assert!(page.contains("手机") && page.contains("承诺"), "{page}");
        keep(&c, db, "u0a-apply-refused").await;
        for (select, value) in [
            ("sex", "男"),
            ("ethnicity", "汉族"),
            ("education", "大学专科教育"),
            ("health", "健康或良好"),
            ("id_type", "居民身份证"),
            ("registration_place", "户籍地"),
            ("claims_benefit", "否"),
            ("unemployment_reason", "2"),
        ] {
            choose(&c, &format!("#{select}"), value).await;
        }
        for (field, value) in [
            ("unemployed_since", "2026-03-01"),
            ("mobile", "13900139000"),
            ("hukou_code", "370102"),
            ("hukou_detail", "山东省济南市历下区文化东路1号"),
            ("residence_detail", "山东省济南市历下区和平路2号"),
        ] {
            let el = c.find(Locator::Id(field)).await.expect(field);
            let _ = el.clear().await;
            if field == "unemployed_since" {
                // A date input takes the digits in the browser's own order.
                c.execute(
                    "document.getElementById('unemployed_since').value = arguments[0];",
                    vec![serde_json::json!(value)],
                )
                .await
                .expect("date");
            } else {
                el.send_keys(value).await.expect("type");
            }
        }
        click(&c, "#promise_signed").await;
        click(&c, "#application button[type=submit]").await;
        c.wait()
            .for_element(Locator::Id("application_no"))
            .await
            .unwrap_or_else(|_| panic!("the number"));
        let number = c
            .find(Locator::Id("application_no"))
            .await
            .expect("number")
            .text()
            .await
            .expect("text");
        assert!(number.starts_with("SY"), "{number}");
        keep(&c, db, "u1-applied").await;
        ask_progress(&c, &app, &number, &id).await;
        assert!(text(&c).await.contains("待审核"));
        // A wrong ID number says only that nothing matches.
        ask_progress(&c, &app, &number, &id18("370102", "19880808", 137)).await;
        let page = text(&c).await;
        assert!(page.contains("未找到") && !page.contains("刘洋"), "{page}");

        // The county clerk: the queue, the application, a forbidden reason, the pass.
        sign_in(&c, &app, "lixia").await;
        open(&c, &app, "/unemployment").await;
        let page = text(&c).await;
        assert!(
            page.contains(&number) && page.contains("目标时限"),
            "{page}"
        );
        keep(&c, db, "u2-queue").await;
        click(
            &c,
            &format!("a[href='/unemployment/applications/{number}']"),
        )
        .await;
        c.wait()
            .for_element(Locator::Id("review"))
            .await
            .expect("review form");
        click(&c, "#review input[value=refused]").await;
        type_into(&c, "reason", "户籍不在本地").await;
        click(&c, "#review button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css(".error"))
            .await
            .expect("refused");
        let page = text(&c).await;
        assert!(
            page.contains("REVIEW_REASON_FORBIDDEN") && page.contains("79号"),
            "{page}"
        );
        keep(&c, db, "u3-forbidden-reason").await;
        open(&c, &app, &format!("/unemployment/applications/{number}")).await;
        choose(&c, "#urban", "true").await;
        click(&c, "#review button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("recorded");
        assert!(text(&c).await.contains("审核通过"));
        // A contact, then a job referral.
        click(&c, "#event button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css("p.flash"))
            .await
            .expect("contact");
        choose(&c, "#kind", "service").await;
        click(&c, "#event button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css("#events"))
            .await
            .expect("events");
        let page = text(&c).await;
        assert!(page.contains("职业介绍") && page.contains("1 次"), "{page}");
        keep(&c, db, "u4-application").await;
        // Exit 32 without a verification note is refused; 11 ends it.
        choose(&c, "#reason_code", "32").await;
        click(&c, "#exit_form button[type=submit]").await;
        c.wait()
            .for_element(Locator::Css(".error"))
            .await
            .expect("refused");
        assert!(text(&c).await.contains("EXIT_NEEDS_VERIFICATION"));
        open(&c, &app, &format!("/unemployment/applications/{number}")).await;
        choose(&c, "#reason_code", "11").await;
        type_into(&c, "clerk", "王经办").await;
        click(&c, "#exit_form button[type=submit]").await;
        c.wait()
            .for_element(Locator::Id("exit"))
            .await
            .expect("exited");
        assert!(text(&c).await.contains("已注销"));
        keep(&c, db, "u5-exited").await;

        // The province's statistics, and the applicant's result.
        sign_in(&c, &app, "shandong").await;
        open(&c, &app, "/unemployment/statistics").await;
        c.wait()
            .for_element(Locator::Id("monthly"))
            .await
            .expect("table");
        assert!(text(&c).await.contains("期末城镇登记失业人数"));
        keep(&c, db, "u6-statistics").await;
        // The count leads to the person behind it.
        click(&c, "table#monthly a[href*='column=new_registrations']").await;
        c.wait()
            .for_element(Locator::Id("records"))
            .await
            .expect("records");
        let page = text(&c).await;
        assert!(page.contains(&number) && page.contains("刘洋"), "{page}");
        let _ = c.delete_all_cookies().await;
        ask_progress(&c, &app, &number, &id).await;
        let page = text(&c).await;
        assert!(
            page.contains("审核通过") && page.contains("已注销"),
            "{page}"
        );
        c.close().await.expect("close");
    });
}

on_both_backends!(dashboard_journeys, unemployment_journeys);
