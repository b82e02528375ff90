//! The public self-registration page (LD/T 6009-2024 §4.2 a-3, no sign-in): a graduate registers
//! himself or herself with the fields and rules of a transfer row, routed the same way, stored as
//! a one-row batch with channel `self`, answered with a reference number; rate-limited per
//! address; a person already held is never overwritten; the answer says nothing about anyone.

use super::layout::page;
use super::{html, ok, PageError, PageResult};
use crate::domain::catalogue::ErrorCode;
use crate::domain::codes::CodeTable;
use crate::domain::graduate::{self, Column};
use crate::ingest::{self, china_today, Channel, IngestRequest, Silent};
use crate::registration::{raw_row, FieldProblem};
use crate::web::error::ApiError;
use crate::web::session::{self, PRESESSION_COOKIE};
use crate::web::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::{html as markup, Markup};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::get().to(form))
        .route("/register", web::post().to(submit));
}

/// The sender code self-registrations are stored under.
pub const SELF_SOURCE: &str = "self-registration";
const WINDOW: Duration = Duration::from_secs(3600);

/// Recent submissions per client address.
#[derive(Default)]
pub struct RateLimits {
    seen: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimits {
    /// Takes one submission from `who`'s allowance; `false` when it is spent. Taken before the
    /// values are judged, so a failing form costs as much as a good one.
    pub fn take(&self, who: &str, per_hour: u32) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, times| times.iter().any(|t| t.elapsed() < WINDOW));
        }
        let times = seen.entry(who.to_string()).or_default();
        times.retain(|t| t.elapsed() < WINDOW);
        if times.len() >= per_hour as usize {
            return false;
        }
        times.push(Instant::now());
        true
    }
}

/// Who is sending: the peer address; behind a reverse proxy on this machine, the address it
/// forwards (a remote client cannot claim an address of its own choosing).
pub fn client_address(req: &HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    match peer {
        Some(ip) if ip.is_loopback() => req
            .connection_info()
            .realip_remote_addr()
            .unwrap_or("local")
            .to_string(),
        Some(ip) => ip.to_string(),
        None => "unknown".into(),
    }
}

/// The code table a column's values come from, for a choice instead of a text field.
fn code_table(c: Column) -> Option<CodeTable> {
    Some(match c {
        Column::Sex => CodeTable::Sex,
        Column::Ethnicity => CodeTable::Ethnicity,
        Column::PoliticalStatus => CodeTable::PoliticalStatus,
        Column::EducationLevel => CodeTable::EducationLevel,
        Column::IdType => CodeTable::IdType,
        Column::Intention => CodeTable::Intention,
        _ => return None,
    })
}

/// The fields of the form, in the transfer file's order.
const FIELDS: [Column; 19] = Column::ALL;

fn form_page(pre: &str, values: &HashMap<String, String>, problems: &[FieldProblem]) -> Markup {
    let value = |c: Column| values.get(c.key()).cloned().unwrap_or_default();
    page(
        "毕业生本人登记",
        None,
        markup! {
            p { "离校未就业的高校毕业生可在此登记，登记后由户籍所在地的公共就业人才服务机构联系你，提供就业服务。带 * 的为必填项。" }
            @if !problems.is_empty() {
                div.warn role="alert" {
                    p { strong { "登记未提交，请改正以下问题：" } }
                    ul { @for p in problems { li { (p.column_zh) "：" (p.message) " " span.muted { "(" (p.code.as_str()) ")" } } } }
                }
            }
            form.stack method="post" action="/register" {
                input type="hidden" name="csrf" value=(session::csrf_token(pre));
                @for c in FIELDS {
                    label for=(c.key()) { (c.header_zh()) @if c.required() { " *" } }
                    @if let Some(table) = code_table(c) {
                        // A coded column is a choice of the code table's names, not a code to know.
                        select id=(c.key()) name=(c.key()) required[c.required()] {
                            option value="" { "（请选择）" }
                            @for (code, name) in table.entries() {
                                option value=(code) selected[value(c) == *code] { (name) }
                            }
                        }
                    } @else {
                        input id=(c.key()) type=(if c == Column::GraduationDate || c == Column::BirthDate { "date" } else { "text" })
                            name=(c.key()) value=(value(c)) maxlength="200" required[c.required()];
                    }
                }
                p.muted { "生源地填入学前户籍所在地：区划代码（如 370102）或详细地址，至少填一项。" }
                p { button type="submit" { "提交登记" } }
            }
        },
    )
}

async fn form(req: HttpRequest, state: web::Data<AppState>) -> PageResult {
    let (pre, cookie) = presession(&req, &state);
    let mut answer = html(StatusCode::OK, form_page(&pre, &HashMap::new(), &[]));
    if let Some(c) = cookie {
        answer.add_cookie(&c).map_err(ApiError::internal)?;
    }
    Ok(answer)
}

/// The browser's pre-session value (a new one when it has none), which the form's token is tied to.
pub fn presession(
    req: &HttpRequest,
    state: &AppState,
) -> (String, Option<actix_web::cookie::Cookie<'static>>) {
    match req.cookie(PRESESSION_COOKIE) {
        Some(c) if c.value().len() == 48 => (c.value().to_string(), None),
        _ => {
            let c = session::presession_cookie(state);
            (c.value().to_string(), Some(c))
        }
    }
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: super::FormPairs,
) -> PageResult {
    let (pre, _) = presession(&req, &state);
    if req.cookie(PRESESSION_COOKIE).is_none() || !session::csrf_matches(&pre, form.get("csrf")) {
        return Err(session::csrf_refused().into());
    }
    if !state.pages.limits.take(
        &client_address(&req),
        state.config.self_registrations_per_hour,
    ) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "提交过于频繁：同一网络地址每小时只能提交有限次数，请稍后再试。",
            "Too many registrations from this address this hour; try again later.",
        )
        .into());
    }
    let values: HashMap<String, String> = FIELDS
        .iter()
        .map(|c| (c.key().to_string(), form.get(c.key()).to_string()))
        .collect();
    let fields: Vec<(String, String)> = FIELDS
        .iter()
        .map(|c| (c.key().to_string(), values[c.key()].clone()))
        .collect();
    let row = raw_row(&fields).map_err(|e| {
        let (zh, en) = e.messages();
        PageError::Api(ApiError::new(e.code(), &zh, &en))
    })?;
    let validated = graduate::validate(&row, china_today());
    let Some(record) = validated.record.as_ref() else {
        let problems: Vec<FieldProblem> = validated
            .problems
            .iter()
            .filter(|p| p.severity == graduate::Severity::Reject)
            .map(FieldProblem::from)
            .collect();
        return Ok(html(
            StatusCode::UNPROCESSABLE_ENTITY,
            form_page(&pre, &values, &problems),
        ));
    };
    let person = (record.person_key.clone(), record.graduation_year());
    let who = client_address(&req);
    let reference = super::blocking(&state, move |s| store(s, &fields, &person, &who)).await?;
    ok(page(
        "登记已提交",
        None,
        markup! {
            div.panel {
                p { "你的登记已收到。参考编号：" strong #reference { (reference) } }
                p { "请保存参考编号。户籍所在地的公共就业人才服务机构将通过你留下的电话或邮箱联系你。" }
                p.muted { "如需更正，请再次提交完整、正确的信息。" }
            }
        },
    ))
}

/// The reference number of a registration: `ZC` and ten hexadecimal digits of its values' hash,
/// so the same registration sent again is answered the same number, and the number tells
/// nothing (not whether the person was known, not how many registered before).
fn reference_of(fields: &[(String, String)]) -> String {
    let text: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let hash = crate::access::secret_hash(&text.join("\n"));
    format!("ZC{}", hash[..10].to_ascii_uppercase())
}

/// Stores a new person's registration as a one-row file of the transfer format through the
/// ingest pipeline (validated, routed and distributed exactly as a row of an education file; the
/// batch's file name carries the reference number). A person the hub already holds for that
/// graduation year is not changed: anyone can type another person's ID number, and a form on
/// the internet must not overwrite what an education department handed over. That registration
/// is kept as a `self_registration.known` audit event on the record, for the office to see.
fn store(
    state: &AppState,
    fields: &[(String, String)],
    (person_key, year): &(String, i32),
    who: &str,
) -> Result<String, PageError> {
    let reference = reference_of(fields);
    let mut conn = state.db.conn()?;
    if let Some(known) = crate::db::records::find_person(&mut conn, person_key, *year)? {
        // Filed under the organisation holding the record, so its auditors see it.
        let holder =
            crate::db::packages::record_in_scope(&mut conn, &crate::authz::Scope::All, known.id)?
                .map(|(_, p)| p.holder_org_id);
        crate::db::audit::record(
            &mut conn,
            &crate::authz::Actor {
                name: format!("public:{who}"),
                org_id: holder,
            },
            "self_registration.known",
            &format!("record:{}", known.id),
            None,
            Some(&serde_json::json!({ "reference": reference })),
        )?;
        return Ok(reference);
    }
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile_in(&state.config.upload_dir)
        .map_err(ApiError::internal)?;
    {
        let mut w = csv::Writer::from_writer(file.as_file_mut());
        w.write_record(FIELDS.iter().map(|c| c.header_zh()))
            .map_err(ApiError::internal)?;
        w.write_record(fields.iter().map(|(_, v)| v.as_str()))
            .map_err(ApiError::internal)?;
        w.flush().map_err(ApiError::internal)?;
    }
    let file_name = format!("本人登记-{reference}.csv");
    let request = IngestRequest {
        path: file.path(),
        file_name: &file_name,
        source: SELF_SOURCE,
        channel: Channel::SelfApplied,
        dry_run: false,
    };
    ingest::ingest(&mut conn, &state.router, &request, &Silent).map_err(ApiError::from)?;
    Ok(reference)
}
