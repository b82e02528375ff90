//! Follow-up files as local offices send them, on both backends: the samples of
//! `fixtures/samples/followup/` (one CSV per set, a GBK CSV with a 事件类型 column, a workbook with
//! one sheet per set) imported through the real `gradhub` binary and through
//! `POST /api/v1/followup/files`; a file with faults answered line by line in its reject report
//! while the rest is stored; the same file twice; dry runs; files refused whole storing nothing.
//! What was stored is read back through `GET /api/v1/records/{id}/followup`.

#[macro_use]
mod common;

use common::app::{add_sender, ingest_text, spawn_app, test_config, token, TestApp};
use common::{expect_exit, gradhub_command, id18, write_file, zip_bomb, TestDb, HEADER};
use diesel::prelude::*;
use gradhub::distribution::AutoCut;
use serde_json::Value;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// The samples: generated here, committed under fixtures/samples/followup/.

/// The graduates the samples follow up: seven of 山东 (370000 holds them after the cut), one of
/// 北京 (a record of another province for 370000).
const PEOPLE: [(&str, &str, &str, u32); 8] = [
    ("张伟", "370102", "20030512", 11),
    ("王芳", "370112", "20040220", 22),
    ("李强", "370202", "20030818", 31),
    ("刘洋", "370302", "20021109", 45),
    ("陈静", "370602", "20040101", 62),
    ("杨帆", "370782", "20030606", 73),
    ("赵敏", "371002", "20040315", 84),
    ("孙磊", "110101", "20030303", 91),
];

/// The one of 北京.
const BEIJING: usize = 7;

fn id(person: usize) -> String {
    let (_, region, birth, seq) = PEOPLE[person];
    id18(region, birth, seq)
}

/// The transfer file that brings the graduates to the hub (graduated 2026-06-30).
fn graduates_csv() -> String {
    let mut text = format!("{HEADER}\r\n");
    for (i, (name, region, _, seq)) in PEOPLE.iter().enumerate() {
        let sex = if seq % 2 == 1 { "1" } else { "2" };
        text.push_str(&format!(
            "{name},{sex},01,01,{},,13,21,10422,山东大学,080901,计算机科学与技术,2026-06-30,{region},,138000000{:02},,,1\r\n",
            id(i),
            i + 10
        ));
    }
    text
}

/// A table: its header and rows, every cell as text.
type Rows = Vec<Vec<String>>;

fn table(header: &[&str], rows: &[Vec<String>]) -> Rows {
    let mut all = vec![header.iter().map(|h| h.to_string()).collect()];
    all.extend(rows.iter().cloned());
    all
}

/// A row: `@N` stands for person N's ID number.
fn r(cells: &[&str]) -> Vec<String> {
    cells
        .iter()
        .map(|c| match c.strip_prefix('@') {
            Some(n) => id(n.parse().expect("person")),
            None => c.to_string(),
        })
        .collect()
}

/// The CSV samples (UTF-8 with BOM), one per set, about persons 0–3.
fn csv_samples() -> Vec<(&'static str, Rows)> {
    vec![
        (
            "首次联系.csv",
            table(
                &[
                    "证件号码",
                    "毕业年份",
                    "日期",
                    "联系方式",
                    "是否联系上",
                    "备注",
                ],
                &[
                    r(&["@0", "2026", "2026-07-06", "电话", "是", "本人接听"]),
                    r(&["@1", "2026", "2026-07-06", "电话", "否", "无人接听"]),
                    r(&["@1", "2026", "2026-07-08", "微信", "是", ""]),
                    r(&["@2", "2026", "2026/7/9", "上门", "是", "入户走访"]),
                    r(&["@3", "2026", "20260710", "短信", "是", ""]),
                ],
            ),
        ),
        (
            "就业服务.csv",
            table(
                &[
                    "证件号码",
                    "毕业年份",
                    "日期",
                    "服务类型",
                    "机构",
                    "用人单位",
                    "岗位",
                    "备注",
                ],
                &[
                    r(&[
                        "@0",
                        "2026",
                        "2026-07-15",
                        "02",
                        "历下区就业服务中心",
                        "",
                        "",
                        "职业生涯规划指导",
                    ]),
                    r(&[
                        "@0",
                        "2026",
                        "2026-07-20",
                        "03",
                        "历下区就业服务中心",
                        "济南某软件公司",
                        "测试工程师",
                        "",
                    ]),
                    r(&[
                        "@0",
                        "2026",
                        "2026-08-03",
                        "职业介绍/岗位推荐",
                        "历下区就业服务中心",
                        "山东某制造公司",
                        "质量管理员",
                        "",
                    ]),
                    r(&[
                        "@0",
                        "2026",
                        "2026-08-20",
                        "岗位推荐",
                        "历下区就业服务中心",
                        "济南某物流公司",
                        "调度员",
                        "",
                    ]),
                    r(&[
                        "@0",
                        "2026",
                        "2026-09-01",
                        "就业见习",
                        "历下区就业服务中心",
                        "",
                        "",
                        "见习三个月",
                    ]),
                    r(&[
                        "@1",
                        "2026",
                        "2026-07-25",
                        "08",
                        "历城区人才市场",
                        "",
                        "",
                        "秋季双选会",
                    ]),
                    r(&[
                        "@2",
                        "2026",
                        "2026-08-10",
                        "04",
                        "青岛市职业技能公共实训基地",
                        "",
                        "",
                        "电工培训",
                    ]),
                ],
            ),
        ),
        (
            "就业政策.csv",
            table(
                &[
                    "证件号码",
                    "毕业年份",
                    "日期",
                    "政策类型",
                    "金额(元)",
                    "机构",
                    "备注",
                ],
                &[
                    r(&[
                        "@0",
                        "2026",
                        "2026-09-01",
                        "03",
                        "1800",
                        "历下区人社局",
                        "见习补贴三个月",
                    ]),
                    r(&[
                        "@2",
                        "2026",
                        "2026-09-15",
                        "职业培训补贴",
                        "1200.50",
                        "青岛市人社局",
                        "",
                    ]),
                    r(&["@3", "2026", "2026-08-01", "01", "1000", "淄川区人社局", ""]),
                ],
            ),
        ),
        (
            "就业状态.csv",
            table(
                &["证件号码", "毕业年份", "日期", "就业状态", "备注"],
                &[
                    r(&["@0", "2026", "2026-07-06", "10", ""]),
                    r(&["@0", "2026", "2026-10-08", "21", "济南某软件公司"]),
                    r(&["@1", "2026", "2026-07-08", "40", "准备考研"]),
                    r(&["@2", "2026", "2026-09-30", "灵活就业", ""]),
                    r(&["@3", "2026", "2026-08-15", "23", "开设网店"]),
                ],
            ),
        ),
        (
            "信息更新.csv",
            table(
                &[
                    "证件号码",
                    "毕业年份",
                    "日期",
                    "现居住地",
                    "联系电话",
                    "求职意向职业",
                    "求职意向地区",
                ],
                &[
                    r(&[
                        "@0",
                        "2026",
                        "2026-07-06",
                        "山东省济南市历下区泉城路1号",
                        "13912345678",
                        "软件测试",
                        "济南",
                    ]),
                    r(&["@1", "2026", "2026-07-08", "", "", "", "青岛"]),
                    r(&[
                        "@2",
                        "2026",
                        "2026-07-09",
                        "山东省青岛市市南区香港中路10号",
                        "",
                        "电工",
                        "青岛",
                    ]),
                ],
            ),
        ),
    ]
}

/// The GBK sample: kinds from its 事件类型 column, the file's name names none.
const GBK_SAMPLE: &str = "跟踪记录-GBK.csv";

fn gbk_sample() -> Rows {
    table(
        &[
            "事件类型",
            "证件号码",
            "毕业年份",
            "日期",
            "服务类型",
            "就业状态",
            "备注",
        ],
        &[
            r(&[
                "就业服务",
                "@1",
                "2026",
                "2026-09-05",
                "02",
                "",
                "就业指导讲座",
            ]),
            r(&[
                "就业服务",
                "@1",
                "2026",
                "2026-09-12",
                "03",
                "",
                "推荐到青岛某公司",
            ]),
            r(&["就业状态", "@1", "2026", "2026-11-02", "", "21", ""]),
            r(&["service", "@3", "2026", "2026-08-05", "06", "", "创业培训"]),
        ],
    )
}

/// The workbook sample: an instructions sheet first (set aside), then one sheet per set, about
/// persons 4–6.
const XLSX_SAMPLE: &str = "跟踪情况.xlsx";

fn xlsx_sheets() -> Vec<(&'static str, Rows)> {
    vec![
        (
            "填表说明",
            vec![
                r(&["离校未就业高校毕业生跟踪服务情况（示例）"]),
                r(&["每个工作表一类事件；表头为第一行；日期可写 2026-07-06，也可用 Excel 日期。"]),
            ],
        ),
        (
            "首次联系",
            table(
                &["身份证号", "毕业年份", "联系日期", "联系方式", "是否联系上"],
                &[
                    r(&["@4", "2026", "2026-07-07", "电话", "是"]),
                    r(&["@5", "2026", "2026-07-07", "来访", "是"]),
                    r(&["@6", "2026", "2026-07-08", "电话", "否"]),
                ],
            ),
        ),
        (
            "就业服务",
            table(
                &[
                    "身份证号",
                    "毕业年份",
                    "服务日期",
                    "服务类型",
                    "服务机构",
                    "推荐单位",
                    "推荐岗位",
                ],
                &[
                    r(&[
                        "@4",
                        "2026",
                        "2026-07-21",
                        "02",
                        "芝罘区公共就业服务中心",
                        "",
                        "",
                    ]),
                    r(&[
                        "@4",
                        "2026",
                        "2026-08-11",
                        "03",
                        "芝罘区公共就业服务中心",
                        "烟台某食品公司",
                        "品控员",
                    ]),
                    r(&[
                        "@5",
                        "2026",
                        "2026-08-18",
                        "07",
                        "诸城市就业服务中心",
                        "",
                        "",
                    ]),
                ],
            ),
        ),
        (
            "就业政策",
            table(
                &[
                    "身份证号",
                    "毕业年份",
                    "发放日期",
                    "政策类型",
                    "补贴金额",
                    "发放机构",
                ],
                &[
                    r(&["@5", "2026", "2026-09-10", "07", "", "诸城市人社局"]),
                    r(&["@4", "2026", "2026-09-20", "02", "2400", "芝罘区人社局"]),
                ],
            ),
        ),
        (
            "就业状态",
            table(
                &["身份证号", "毕业年份", "状态日期", "就业状态"],
                &[
                    r(&["@4", "2026", "2026-09-01", "21"]),
                    r(&["@5", "2026", "2026-09-10", "22"]),
                    r(&["@6", "2026", "2026-10-15", "90"]),
                ],
            ),
        ),
        (
            "信息更新",
            table(
                &["身份证号", "毕业年份", "变更日期", "手机号码", "意向职业"],
                &[r(&["@6", "2026", "2026-07-20", "13712345678", "行政文员"])],
            ),
        ),
    ]
}

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/samples/followup")
}

fn sample(name: &str) -> PathBuf {
    samples_dir().join(name)
}

fn csv_text(rows: &Rows) -> String {
    let mut text = String::new();
    for row in rows {
        assert!(
            row.iter().all(|c| !c.contains([',', '"', '\n'])),
            "sample cells need no quoting: {row:?}"
        );
        text.push_str(&row.join(","));
        text.push_str("\r\n");
    }
    text
}

/// The sample files by name, as they are generated.
fn generated_samples() -> Vec<(String, Vec<u8>)> {
    let mut files = vec![("graduates.csv".to_string(), graduates_csv().into_bytes())];
    for (name, rows) in csv_samples() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(csv_text(&rows).as_bytes());
        files.push((name.to_string(), bytes));
    }
    let text = csv_text(&gbk_sample());
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable, "GBK holds every character of the sample");
    files.push((GBK_SAMPLE.to_string(), gbk.into_owned()));
    files.push((XLSX_SAMPLE.to_string(), xlsx_bytes()));
    files
}

/// The workbook: 毕业年份 and 金额 as numbers, the 就业状态 dates as Excel dates (as clerks'
/// workbooks have them), ID numbers as text.
fn xlsx_bytes() -> Vec<u8> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    // A fixed creation time, so the generated bytes are the same at every run.
    let created = ExcelDateTime::from_ymd(2026, 12, 1).expect("date");
    book.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (name, rows) in xlsx_sheets() {
        let sheet = book.add_worksheet();
        sheet.set_name(name).expect("sheet name");
        let header: Vec<String> = rows[0].clone();
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                if cell.is_empty() {
                    continue;
                }
                let column = header.get(c as usize).map(String::as_str).unwrap_or("");
                if r > 0 && matches!(column, "毕业年份" | "补贴金额") {
                    let n: f64 = cell.parse().expect("a number");
                    sheet.write_number(r, c, n).expect("number");
                } else if r > 0 && column == "状态日期" {
                    let (y, m, d) = (&cell[0..4], &cell[5..7], &cell[8..10]);
                    let day = ExcelDateTime::from_ymd(
                        y.parse().expect("y"),
                        m.parse().expect("m"),
                        d.parse().expect("d"),
                    )
                    .expect("date");
                    sheet
                        .write_datetime_with_format(r, c, &day, &date_format)
                        .expect("date cell");
                } else {
                    sheet.write_string(r, c, cell).expect("text");
                }
            }
        }
    }
    book.save_to_buffer().expect("workbook")
}

/// The committed samples are what this file generates; `GRADHUB_BLESS=1` writes them.
#[test]
fn samples_are_as_generated() {
    let bless = std::env::var("GRADHUB_BLESS").as_deref() == Ok("1");
    for (name, bytes) in generated_samples() {
        let path = sample(&name);
        if bless {
            std::fs::create_dir_all(samples_dir()).expect("samples folder");
            std::fs::write(&path, &bytes).expect("write sample");
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} differs from what tests/followup_files.rs generates; run \
             `GRADHUB_BLESS=1 cargo test --test followup_files samples_are_as_generated`",
            path.display()
        );
    }
}

/// Every sample file with its data rows (what an import of it reads).
fn sample_files() -> Vec<(String, Vec<Vec<String>>)> {
    let mut files: Vec<(String, Vec<Vec<String>>)> = csv_samples()
        .into_iter()
        .map(|(n, rows)| (n.to_string(), rows[1..].to_vec()))
        .collect();
    files.push((GBK_SAMPLE.to_string(), gbk_sample()[1..].to_vec()));
    let workbook: Vec<Vec<String>> = xlsx_sheets()
        .into_iter()
        .skip(1)
        .flat_map(|(_, rows)| rows[1..].to_vec())
        .collect();
    files.push((XLSX_SAMPLE.to_string(), workbook));
    files
}

/// How many sample events name a person.
fn sample_events_of(person: usize) -> usize {
    let wanted = id(person);
    sample_files()
        .iter()
        .flat_map(|(_, rows)| rows.iter())
        .filter(|row| row.contains(&wanted))
        .count()
}

// ---------------------------------------------------------------------------------------------
// Helpers.

/// The app, with the samples' graduates ingested and cut to their provinces (山东 holds seven).
fn hub_with_graduates(db: &TestDb) -> TestApp {
    let app = spawn_app(db, test_config(db));
    add_sender(db, "edu-test", "000000");
    ingest_text(db, "edu-test", &graduates_csv());
    app.dist.place_new().expect("place");
    app.dist
        .cut_auto(AutoCut::Ministry, gradhub::ingest::china_today())
        .expect("cut");
    app
}

fn record_id(db: &TestDb, person: usize) -> i64 {
    let mut conn = db.db.conn().expect("conn");
    gradhub::db::records::find_person(&mut conn, &id(person), 2026)
        .expect("query")
        .expect("record")
        .id
}

/// A person's follow-up as the province's system reads it.
fn timeline(app: &TestApp, db: &TestDb, token: &str, person: usize) -> Value {
    app.ok(
        &format!("/api/v1/records/{}/followup", record_id(db, person)),
        token,
    )
}

fn events_of(app: &TestApp, db: &TestDb, token: &str, person: usize) -> usize {
    timeline(app, db, token, person)["events"]
        .as_array()
        .map_or(0, Vec::len)
}

/// Every follow-up event stored, whoever it is about.
fn stored_events(db: &TestDb) -> i64 {
    use gradhub::db::schema::followup_events;
    let mut conn = db.db.conn().expect("conn");
    followup_events::table
        .count()
        .get_result(&mut conn)
        .expect("count")
}

/// `gradhub followup import FILE --org 370000 --json ARGS…`: exit code and the JSON printed.
fn cli_import(db: &TestDb, file: &Path, args: &[&str]) -> (i32, Value) {
    let out = gradhub_command(db)
        .args(["followup", "import"])
        .arg(file)
        .args(["--org", "370000", "--json"])
        .args(args)
        .output()
        .expect("gradhub runs");
    let code = out.status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&text).unwrap_or_else(|_| {
        panic!(
            "JSON on stdout (exit {code}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

fn upload(app: &TestApp, token: &str, query: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/api/v1/followup/files?{query}", app.base))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .expect("upload");
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    common::app::assert_catalogued(status, &body);
    (status, body)
}

fn counts(summary: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| summary[k].as_u64().unwrap_or(u64::MAX);
    (n("rows"), n("accepted"), n("duplicates"), n("rejected"))
}

/// `name=…` for a query string.
fn name_query(name: &str) -> String {
    let mut q = String::from("name=");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            q.push(b as char);
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    q
}

/// What every person's timeline must show once all samples are in.
fn assert_samples_stored(app: &TestApp, db: &TestDb, province: &str) {
    for person in 0..BEIJING {
        assert_eq!(
            events_of(app, db, province, person),
            sample_events_of(person),
            "events of person {person}"
        );
    }
    let first = timeline(app, db, province, 0);
    assert_eq!(first["current_state"]["code"], "21", "{first}");
    let milestones: Vec<&str> = first["milestones"]
        .as_array()
        .expect("milestones")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for m in ["contacted", "service:02", "service:03", "policy:03", "1131"] {
        assert!(milestones.contains(&m), "{m} in {milestones:?}");
    }
    assert_eq!(first["profile"]["phone"], "13912345678");
    // The GBK file's state event made person 1 employed on 2026-11-02.
    let second = timeline(app, db, province, 1);
    assert_eq!(second["current_state"]["code"], "21");
    assert_eq!(second["current_state"]["since"], "2026-11-02");
    // The workbook's Excel dates and numbers arrived as dates and amounts.
    let fifth = timeline(app, db, province, 4);
    assert_eq!(fifth["current_state"]["since"], "2026-09-01", "{fifth}");
    let amounts: Vec<&str> = fifth["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["amount_yuan"].as_str())
        .collect();
    assert_eq!(amounts, vec!["2400.00"]);
    let events = timeline(app, db, province, 6)["events"].clone();
    assert!(
        events
            .as_array()
            .expect("events")
            .iter()
            .all(|e| e["channel"] == "file"),
        "stored as coming from a file: {events}"
    );
}

// ---------------------------------------------------------------------------------------------
// The tests.

fn samples_import_through_the_cli(db: &TestDb) {
    let app = hub_with_graduates(db);
    let province = token(db, "370000", None);
    for (name, rows) in sample_files() {
        let (code, summary) = cli_import(db, &sample(&name), &[]);
        assert_eq!(code, 0, "{name}: {summary}");
        let n = rows.len() as u64;
        assert_eq!(counts(&summary), (n, n, 0, 0), "{name}: {summary}");
        if name == GBK_SAMPLE {
            assert_eq!(summary["encoding"], "GB18030");
            assert_eq!(
                summary["sheets"][0]["kind"],
                Value::Null,
                "kinds from the column"
            );
        }
        if name == XLSX_SAMPLE {
            assert_eq!(summary["skipped_sheets"][0], "填表说明");
            assert_eq!(summary["sheets"].as_array().map(Vec::len), Some(5));
            assert_eq!(summary["sheets"][0]["name"], "首次联系");
            assert_eq!(summary["sheets"][0]["kind"], "contact");
        }
    }
    assert_samples_stored(&app, db, &province);
    let stored = stored_events(db);
    // The same files again: every row a duplicate, nothing stored twice.
    for (name, rows) in sample_files() {
        let (code, summary) = cli_import(db, &sample(&name), &[]);
        assert_eq!(code, 0, "{name} again: {summary}");
        let n = rows.len() as u64;
        assert_eq!(counts(&summary), (n, 0, n, 0), "{name} again: {summary}");
    }
    assert_eq!(stored_events(db), stored);
    assert_samples_stored(&app, db, &province);
    // The text summary is Chinese.
    let out = gradhub_command(db)
        .args(["followup", "import"])
        .arg(sample("就业服务.csv"))
        .args(["--org", "370000"])
        .output()
        .expect("gradhub runs");
    let text = expect_exit(&out, 0);
    assert!(
        text.contains("行数 7 ｜ 新增 0 ｜ 已导入过（未重复存储）7 ｜ 拒收 0"),
        "{text}"
    );
}

fn samples_import_through_an_upload(db: &TestDb) {
    let app = hub_with_graduates(db);
    let province = token(db, "370000", None);
    for (name, rows) in sample_files() {
        let bytes = std::fs::read(sample(&name)).expect("sample");
        let (status, summary) = upload(&app, &province, &name_query(&name), bytes);
        assert_eq!(status, 200, "{name}: {summary}");
        let n = rows.len() as u64;
        assert_eq!(counts(&summary), (n, n, 0, 0), "{name}: {summary}");
        assert_eq!(summary["file_name"], name.as_str());
    }
    assert_samples_stored(&app, db, &province);
    let stored = stored_events(db);
    for (name, rows) in sample_files() {
        let bytes = std::fs::read(sample(&name)).expect("sample");
        let (status, summary) = upload(&app, &province, &name_query(&name), bytes);
        assert_eq!(status, 200);
        let n = rows.len() as u64;
        assert_eq!(counts(&summary), (n, 0, n, 0), "{name} again: {summary}");
    }
    assert_eq!(stored_events(db), stored, "nothing stored twice");
    // The kind from the query: a CSV sent without a telling name.
    let bytes = std::fs::read(sample("就业状态.csv")).expect("sample");
    let (status, refused) = upload(&app, &province, "name=upload.csv", bytes.clone());
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("KIND_MISSING"))
    );
    let (status, summary) = upload(&app, &province, "name=upload.csv&kind=state", bytes);
    assert_eq!(status, 200, "{summary}");
    // The same bytes under another name: the same client keys, nothing stored twice.
    assert_eq!(counts(&summary), (5, 0, 5, 0), "{summary}");
    // A clean file's report has the header only.
    let bytes = std::fs::read(sample("就业政策.csv")).expect("sample");
    let report = app
        .client
        .post(format!(
            "{}/api/v1/followup/files?{}&report=csv",
            app.base,
            name_query("就业政策.csv")
        ))
        .bearer_auth(&province)
        .body(bytes)
        .send()
        .expect("report");
    assert_eq!(report.status().as_u16(), 200);
    let text = report.text().expect("text");
    assert_eq!(
        text.trim_end(),
        "\u{FEFF}工作表,行号,列,值,原因代码,说明,Message"
    );
    // A sender (an education department) records no follow-up.
    add_sender(db, "edu-370000", "370000");
    let sender = token(db, "edu-370000", None);
    let (status, err) = upload(&app, &sender, "name=就业政策.csv", b"x".to_vec());
    assert_eq!((status, err["code"].as_str()), (403, Some("FORBIDDEN")));
}

/// A 就业政策 file with one fault on each of lines 3–7 and good lines 2 and 8.
fn faulty_policies() -> String {
    let rows = table(
        &[
            "证件号码",
            "毕业年份",
            "日期",
            "政策类型",
            "金额(元)",
            "机构",
        ],
        &[
            r(&["@0", "2026", "2026-09-01", "01", "1000", "历下区人社局"]),
            r(&["@1", "2026", "2026-09-02", "88", "500", ""]),
            r(&["@2", "2026", "2099-01-01", "02", "800", ""]),
            r(&[
                &format!("@{BEIJING}"),
                "2026",
                "2026-09-03",
                "01",
                "1000",
                "",
            ]),
            r(&["@3", "2026", "2026-09-04", "04", "12.345", ""]),
            r(&["", "2026", "2026-09-05", "01", "100", ""]),
            r(&["@4", "2026", "2026-09-06", "05", "50000", "芝罘区人社局"]),
        ],
    );
    csv_text(&rows)
}

/// The faults as the report must list them: (line, column, code).
const FAULTS: [(&str, &str, &str); 5] = [
    ("3", "政策类型", "CODE_UNKNOWN"),
    ("4", "日期", "DATE_FUTURE"),
    ("5", "证件号码", "RECORD_UNKNOWN"),
    ("6", "金额(元)", "AMOUNT_INVALID"),
    ("7", "证件号码", "REQUIRED"),
];

fn report_lines(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{FEFF}').as_bytes());
    reader
        .records()
        .map(|r| r.expect("report line").iter().map(str::to_string).collect())
        .collect()
}

fn faults_are_reported_line_by_line_and_the_rest_stored(db: &TestDb) {
    let app = hub_with_graduates(db);
    let province = token(db, "370000", None);
    let file = write_file(db, "就业政策.csv", faulty_policies().as_bytes());
    let report = db.path("rejects.csv");
    let report_arg = report.display().to_string();
    let (code, summary) = cli_import(db, &file, &["--rejects", &report_arg]);
    assert_eq!(code, 1, "some rows rejected: {summary}");
    assert_eq!(counts(&summary), (7, 2, 0, 5), "{summary}");
    let bytes = std::fs::read(&report).expect("report written");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let lines = report_lines(&String::from_utf8(bytes).expect("UTF-8"));
    let found: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l[1].as_str(), l[2].as_str(), l[4].as_str()))
        .collect();
    assert_eq!(
        found,
        FAULTS.to_vec(),
        "exactly the faulty lines: {lines:?}"
    );
    for l in &lines {
        assert_eq!(l[0], "", "a CSV has no sheet");
        assert!(l[5].starts_with(&format!("第 {} 行 ", l[1])), "{l:?}");
        assert!(!l[6].is_empty(), "English too: {l:?}");
    }
    assert_eq!(lines[1][3], "2099-01-01", "the value as sent");
    assert!(
        !lines[2].iter().any(|c| c.contains(&id(BEIJING))),
        "another province's ID number is not repeated whole: {:?}",
        lines[2]
    );
    // The good lines are stored, the faulty ones not.
    assert_eq!(events_of(&app, db, &province, 0), 1);
    assert_eq!(events_of(&app, db, &province, 4), 1);
    for person in [1, 2, 3] {
        assert_eq!(events_of(&app, db, &province, person), 0, "person {person}");
    }
    let granted = timeline(&app, db, &province, 4);
    assert_eq!(granted["events"][0]["code"], "05");
    assert_eq!(granted["events"][0]["amount_yuan"], "50000.00");
    // 北京's record stays untouched (and unseen by 山东).
    let beijing = token(db, "110000", None);
    assert_eq!(events_of(&app, db, &beijing, BEIJING), 0);
    let (status, _) = app.get(
        &format!("/api/v1/records/{}/followup", record_id(db, BEIJING)),
        &province,
    );
    assert_eq!(status, 404);

    // The same file again, with the report as XLSX: nothing doubled, the same five rejects.
    let xlsx = db.path("rejects.xlsx");
    let xlsx_arg = xlsx.display().to_string();
    let (code, again) = cli_import(db, &file, &["--rejects", &xlsx_arg]);
    assert_eq!(code, 1);
    assert_eq!(counts(&again), (7, 0, 2, 5), "{again}");
    assert_eq!(stored_events(db), 2);
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx).expect("an XLSX report");
    let range = book.worksheet_range_at(0).expect("a sheet").expect("range");
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(
        rows[0][..6],
        ["工作表", "行号", "列", "值", "原因代码", "说明"]
    );
    let codes: Vec<&str> = rows[1..].iter().map(|r| r[4].as_str()).collect();
    assert_eq!(codes, FAULTS.iter().map(|f| f.2).collect::<Vec<_>>());

    // The upload answers the same report.
    let report = app
        .client
        .post(format!(
            "{}/api/v1/followup/files?{}&report=csv",
            app.base,
            name_query("就业政策.csv")
        ))
        .bearer_auth(&province)
        .body(faulty_policies())
        .send()
        .expect("report");
    assert_eq!(report.status().as_u16(), 200);
    let text = report.text().expect("text");
    let found: Vec<(String, String)> = report_lines(&text)
        .into_iter()
        .map(|l| (l[1].clone(), l[4].clone()))
        .collect();
    let expected: Vec<(String, String)> = FAULTS
        .iter()
        .map(|f| (f.0.to_string(), f.2.to_string()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!(stored_events(db), 2, "still nothing doubled");

    // The clerk fixes two lines and sends the whole file again: only those two are new.
    let corrected = faulty_policies()
        .replacen(",88,500,", ",02,500,", 1)
        .replacen("12.345", "12.34", 1);
    let file = write_file(db, "就业政策-改.csv", corrected.as_bytes());
    let (code, fixed) = cli_import(db, &file, &[]);
    assert_eq!(code, 1, "three lines still rejected: {fixed}");
    assert_eq!(counts(&fixed), (7, 2, 2, 3), "{fixed}");
    assert_eq!(stored_events(db), 4);
    assert_eq!(events_of(&app, db, &province, 1), 1);
    assert_eq!(events_of(&app, db, &province, 3), 1);
}

fn a_dry_run_stores_nothing(db: &TestDb) {
    let app = hub_with_graduates(db);
    let province = token(db, "370000", None);
    let (code, summary) = cli_import(db, &sample(XLSX_SAMPLE), &["--dry-run"]);
    assert_eq!(code, 0, "{summary}");
    assert_eq!(summary["dry_run"], true);
    let n = sample_files()
        .into_iter()
        .find(|(name, _)| name == XLSX_SAMPLE)
        .map_or(0, |(_, rows)| rows.len() as u64);
    assert_eq!(counts(&summary), (n, n, 0, 0), "judged as if stored");
    let file = write_file(db, "就业政策.csv", faulty_policies().as_bytes());
    let (code, summary) = cli_import(db, &file, &["--dry-run"]);
    assert_eq!(code, 1, "a dry run tells the rejects too: {summary}");
    assert_eq!(counts(&summary), (7, 2, 0, 5));
    let bytes = std::fs::read(sample("首次联系.csv")).expect("sample");
    let (status, summary) = upload(
        &app,
        &province,
        &format!("{}&dry_run=true", name_query("首次联系.csv")),
        bytes,
    );
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (summary["dry_run"].as_bool(), summary["accepted"].as_u64()),
        (Some(true), Some(5))
    );
    assert_eq!(stored_events(db), 0, "nothing stored");
    for person in 0..BEIJING {
        assert_eq!(events_of(&app, db, &province, person), 0);
    }
}

fn refused_files_store_nothing(db: &TestDb) {
    let app = hub_with_graduates(db);
    let province = token(db, "370000", None);
    let refused = |file: &Path, args: &[&str], code: &str| {
        let (exit, answer) = cli_import(db, file, args);
        assert_eq!(exit, 2, "{}: {answer}", file.display());
        assert_eq!(answer["refused"], true);
        assert_eq!(answer["code"], code, "{answer}");
        answer
    };
    // Binary data dressed as a CSV, and a zip bomb dressed as a workbook.
    let mut binary = "证件号码,毕业年份,日期,就业状态\r\n".as_bytes().to_vec();
    binary.extend_from_slice(&[0u8, 159, 146, 150, 0, 1, 2]);
    refused(&write_file(db, "就业状态.csv", &binary), &[], "FILE_BINARY");
    refused(
        &write_file(db, "跟踪.xlsx", &zip_bomb()),
        &[],
        "FILE_TOO_LARGE",
    );
    let (status, err) = upload(&app, &province, "name=bomb.xlsx", zip_bomb());
    assert_eq!(
        (status, err["code"].as_str()),
        (413, Some("FILE_TOO_LARGE"))
    );
    // Over the upload limit (1 MB in tests): refused by its declared length, unread.
    let big = app
        .client
        .post(format!("{}/api/v1/followup/files?name=x.csv", app.base))
        .bearer_auth(&province)
        .body(vec![b'a'; 2 << 20])
        .send();
    // The server may answer 413 or close the connection mid-body; either way nothing is stored.
    if let Ok(answer) = big {
        assert_eq!(answer.status().as_u16(), 413);
    }
    // A workbook whose second sheet says no kind: the good first sheet is not stored either.
    let mut book = rust_xlsxwriter::Workbook::new();
    let rows = [
        vec![
            "证件号码".to_string(),
            "毕业年份".into(),
            "日期".into(),
            "就业状态".into(),
        ],
        r(&["@0", "2026", "2026-09-01", "21"]),
    ];
    for name in ["就业状态", "Sheet2"] {
        let sheet = book.add_worksheet();
        sheet.set_name(name).expect("name");
        for (i, row) in rows.iter().enumerate() {
            for (j, cell) in row.iter().enumerate() {
                sheet.write_string(i as u32, j as u16, cell).expect("cell");
            }
        }
    }
    let workbook = book.save_to_buffer().expect("workbook");
    let no_kind = write_file(db, "跟踪情况.xlsx", &workbook);
    let answer = refused(&no_kind, &[], "KIND_MISSING");
    let message = answer["message"].as_str().unwrap_or("");
    assert!(
        message.contains("工作表“Sheet2”"),
        "names the sheet: {message}"
    );
    let (status, err) = upload(&app, &province, "name=book.xlsx", workbook.clone());
    assert_eq!((status, err["code"].as_str()), (422, Some("KIND_MISSING")));
    // … and a kind given with the file settles it.
    let (exit, summary) = cli_import(db, &no_kind, &["--kind", "就业状态", "--dry-run"]);
    assert_eq!(exit, 0, "{summary}");
    assert_eq!(summary["sheets"][1]["kind"], "state");
    // No header; a set's column missing; an unknown kind asked for.
    let no_header = write_file(db, "就业服务.csv", "张三,2026,2026-08-01\r\n".as_bytes());
    refused(&no_header, &[], "HEADER_NOT_FOUND");
    let no_type = write_file(
        db,
        "service.csv",
        format!(
            "证件号码,毕业年份,日期,备注\r\n{},2026,2026-08-01,x\r\n",
            id(0)
        )
        .as_bytes(),
    );
    let answer = refused(&no_type, &[], "COLUMNS_MISSING");
    assert!(answer["message"]
        .as_str()
        .unwrap_or("")
        .contains("服务类型"));
    let out = gradhub_command(db)
        .args(["followup", "import"])
        .arg(&no_type)
        .args(["--org", "370000", "--kind", "nonsense"])
        .output()
        .expect("gradhub runs");
    expect_exit(&out, 2);
    let (status, err) = upload(&app, &province, "name=x.csv&kind=nonsense", b"x".to_vec());
    assert_eq!((status, err["code"].as_str()), (400, Some("KIND_INVALID")));
    assert_eq!(stored_events(db), 0, "nothing of any refused file stored");
    assert_eq!(events_of(&app, db, &province, 0), 0);
}

on_both_backends!(
    samples_import_through_the_cli,
    samples_import_through_an_upload,
    faults_are_reported_line_by_line_and_the_rest_stored,
    a_dry_run_stores_nothing,
    refused_files_store_nothing,
);
