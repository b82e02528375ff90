//! Follow-up after 签收 (111号 sets 1–3, LD/T 6009-2024 §4.3): the kinds of follow-up event, the
//! rules one event must meet, and the milestones the summary counts (first contact, first
//! service of each type, the "1131" services, first policy of each type) with the dated
//! employment-state history. The code tables are in [`codes`]; no I/O here.

pub mod codes;

pub use codes::{FollowupCodes, FollowupTable};

use crate::domain::catalogue::ErrorCode;
use crate::domain::dates::parse_date;
use crate::domain::graduate::{is_fixed_line, mobile_number};
use crate::domain::text::clean;
use chrono::{Months, NaiveDate};
use std::collections::BTreeMap;

/// What a follow-up event records.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 首次联系 (and later contacts): channel, reached or not.
    Contact,
    /// 接受就业服务 (set 2): one service given.
    Service,
    /// 享受就业政策 (set 3): one policy granted.
    Policy,
    /// 就业状态: the employment state from that day on.
    State,
    /// 个人基本情况更新 (set 1): current address, phone, job-seeking intention.
    Update,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Contact,
        EventKind::Service,
        EventKind::Policy,
        EventKind::State,
        EventKind::Update,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Contact => "contact",
            EventKind::Service => "service",
            EventKind::Policy => "policy",
            EventKind::State => "state",
            EventKind::Update => "update",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            EventKind::Contact => "联系",
            EventKind::Service => "就业服务",
            EventKind::Policy => "就业政策",
            EventKind::State => "就业状态",
            EventKind::Update => "信息更新",
        }
    }

    /// The kind a word names: the stored word or a Chinese name clerks write.
    pub fn parse(raw: &str) -> Option<EventKind> {
        let s = clean(raw)?;
        let lower = s.to_ascii_lowercase();
        EventKind::ALL.into_iter().find(|k| {
            k.as_str() == lower
                || k.label_zh() == s
                || match k {
                    EventKind::Contact => matches!(s.as_str(), "首次联系" | "联系情况"),
                    EventKind::Service => matches!(s.as_str(), "服务" | "接受就业服务"),
                    EventKind::Policy => matches!(s.as_str(), "政策" | "享受政策" | "就业政策享受"),
                    EventKind::State => matches!(s.as_str(), "状态" | "就业情况"),
                    EventKind::Update => matches!(s.as_str(), "更新" | "基本情况更新"),
                }
        })
    }
}

/// A field of a follow-up event, as the API names it and a file's column header says it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ClientKey,
    RecordId,
    IdType,
    IdNumber,
    GraduationYear,
    Kind,
    Date,
    Channel,
    Reached,
    ServiceType,
    Organisation,
    Employer,
    Post,
    Note,
    PolicyType,
    Amount,
    State,
    Address,
    Phone,
    Occupation,
    Region,
}

impl Field {
    pub const ALL: [Field; 21] = [
        Field::ClientKey,
        Field::RecordId,
        Field::IdType,
        Field::IdNumber,
        Field::GraduationYear,
        Field::Kind,
        Field::Date,
        Field::Channel,
        Field::Reached,
        Field::ServiceType,
        Field::Organisation,
        Field::Employer,
        Field::Post,
        Field::Note,
        Field::PolicyType,
        Field::Amount,
        Field::State,
        Field::Address,
        Field::Phone,
        Field::Occupation,
        Field::Region,
    ];

    /// The JSON key (and the English column header a file may use).
    pub fn key(self) -> &'static str {
        match self {
            Field::ClientKey => "client_key",
            Field::RecordId => "record_id",
            Field::IdType => "id_type",
            Field::IdNumber => "id_number",
            Field::GraduationYear => "graduation_year",
            Field::Kind => "kind",
            Field::Date => "date",
            Field::Channel => "channel",
            Field::Reached => "reached",
            Field::ServiceType => "service_type",
            Field::Organisation => "organisation",
            Field::Employer => "employer",
            Field::Post => "post",
            Field::Note => "note",
            Field::PolicyType => "policy_type",
            Field::Amount => "amount",
            Field::State => "state",
            Field::Address => "address",
            Field::Phone => "phone",
            Field::Occupation => "occupation",
            Field::Region => "region",
        }
    }

    /// The Chinese column header, as the sample files and the reject report write it.
    pub fn header_zh(self) -> &'static str {
        match self {
            Field::ClientKey => "事件编号",
            Field::RecordId => "记录号",
            Field::IdType => "证件类型",
            Field::IdNumber => "证件号码",
            Field::GraduationYear => "毕业年份",
            Field::Kind => "事件类型",
            Field::Date => "日期",
            Field::Channel => "联系方式",
            Field::Reached => "是否联系上",
            Field::ServiceType => "服务类型",
            Field::Organisation => "机构",
            Field::Employer => "用人单位",
            Field::Post => "岗位",
            Field::Note => "备注",
            Field::PolicyType => "政策类型",
            Field::Amount => "金额(元)",
            Field::State => "就业状态",
            Field::Address => "现居住地",
            Field::Phone => "联系电话",
            Field::Occupation => "求职意向职业",
            Field::Region => "求职意向地区",
        }
    }

    /// The field a column header names (Chinese or English, with a few common variants).
    pub fn from_header(raw: &str) -> Option<Field> {
        let s = clean(raw)?;
        let s = s.trim_start_matches('*').trim();
        let lower = s.to_ascii_lowercase();
        if let Some(f) = Field::ALL
            .into_iter()
            .find(|f| f.key() == lower || f.header_zh() == s)
        {
            return Some(f);
        }
        Some(match s {
            "身份证号" | "身份证号码" | "公民身份号码" => Field::IdNumber,
            "毕业年度" | "届别" => Field::GraduationYear,
            "类型" => Field::Kind,
            "联系日期" | "服务日期" | "享受日期" | "发放日期" | "状态日期" | "变更日期" => {
                Field::Date
            }
            "联系渠道" => Field::Channel,
            "联系结果" | "是否联系成功" => Field::Reached,
            "服务机构" | "发放机构" | "经办机构" => Field::Organisation,
            "推荐单位" | "单位名称" => Field::Employer,
            "推荐岗位" | "岗位名称" => Field::Post,
            "服务结果" | "说明" => Field::Note,
            "金额" | "补贴金额" | "金额（元）" => Field::Amount,
            "当前就业状态" => Field::State,
            "现居住地址" | "居住地址" => Field::Address,
            "手机号码" | "电话" => Field::Phone,
            "意向职业" => Field::Occupation,
            "意向地区" | "求职地区" => Field::Region,
            _ => return None,
        })
    }
}

/// One follow-up event as sent: every field as text (a file's cells; the API's JSON values).
#[derive(Clone, Debug, Default)]
pub struct RawEvent {
    pub fields: BTreeMap<Field, String>,
}

impl RawEvent {
    pub fn set(&mut self, field: Field, value: impl Into<String>) {
        self.fields.insert(field, value.into());
    }

    /// The cleaned value of a field; `None` when empty.
    pub fn get(&self, field: Field) -> Option<String> {
        self.fields.get(&field).and_then(|v| clean(v))
    }
}

/// What is wrong with one field of one event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub field: Field,
    /// The value as sent, cut to 100 characters.
    pub value: String,
    pub code: ErrorCode,
    pub message: String,
    pub message_en: String,
}

impl Problem {
    pub fn new(
        field: Field,
        value: &str,
        code: ErrorCode,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Problem {
        let mut value: String = value.chars().take(100).collect();
        if value.chars().count() == 100 {
            value.push('…');
        }
        Problem {
            field,
            value,
            code,
            message: zh.into(),
            message_en: en.into(),
        }
    }
}

/// What a valid event says, by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventBody {
    Contact {
        channel: String,
        reached: bool,
        note: Option<String>,
    },
    Service {
        service_type: String,
        organisation: Option<String>,
        employer: Option<String>,
        post: Option<String>,
        note: Option<String>,
    },
    Policy {
        policy_type: String,
        /// In fen (分): yuan with at most two decimals, kept exact.
        amount_fen: Option<i64>,
        organisation: Option<String>,
        note: Option<String>,
    },
    State {
        state: String,
        note: Option<String>,
    },
    Update {
        address: Option<String>,
        phone: Option<String>,
        occupation: Option<String>,
        region: Option<String>,
    },
}

impl EventBody {
    pub fn kind(&self) -> EventKind {
        match self {
            EventBody::Contact { .. } => EventKind::Contact,
            EventBody::Service { .. } => EventKind::Service,
            EventBody::Policy { .. } => EventKind::Policy,
            EventBody::State { .. } => EventKind::State,
            EventBody::Update { .. } => EventKind::Update,
        }
    }
}

/// A follow-up event that meets every rule that does not need the record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidEvent {
    pub on: NaiveDate,
    pub body: EventBody,
}

/// The longest free text kept (notes); names, addresses and posts are shorter.
pub const MAX_NOTE: usize = 500;
pub const MAX_TEXT: usize = 200;
/// The largest amount one policy event may carry, in yuan (a typo guard: 创业担保贷款 reach
/// hundreds of thousands, never ten million).
pub const MAX_AMOUNT_YUAN: i64 = 10_000_000;

/// Judges one event against every rule that does not need its record, reporting all problems.
/// `today` is the day in China (an event may not be dated later).
pub fn validate(
    raw: &RawEvent,
    codes: &FollowupCodes,
    today: NaiveDate,
) -> Result<ValidEvent, Vec<Problem>> {
    let mut problems = Vec::new();
    let kind = match raw.get(Field::Kind) {
        None => {
            problems.push(required(Field::Kind));
            None
        }
        Some(s) => match EventKind::parse(&s) {
            Some(k) => Some(k),
            None => {
                problems.push(Problem::new(
                    Field::Kind,
                    &s,
                    ErrorCode::CodeUnknown,
                    "事件类型：应为 contact/service/policy/state/update（联系、就业服务、就业政策、就业状态、信息更新）",
                    "Event kind: must be contact, service, policy, state or update",
                ));
                None
            }
        },
    };
    let on = event_date(raw, today, &mut problems);
    let mut text = |field: Field, max: usize| -> Option<String> {
        let s = raw.get(field)?;
        if s.chars().count() > max {
            problems.push(Problem::new(
                field,
                &s,
                ErrorCode::TooLong,
                format!("{}：超过 {max} 个字符", field.header_zh()),
                format!("{}: longer than {max} characters", field.key()),
            ));
            return None;
        }
        Some(s)
    };
    let note = text(Field::Note, MAX_NOTE);
    let organisation = text(Field::Organisation, MAX_TEXT);
    let employer = text(Field::Employer, MAX_TEXT);
    let post = text(Field::Post, MAX_TEXT);
    let address = text(Field::Address, MAX_TEXT);
    let occupation = text(Field::Occupation, MAX_TEXT);
    let region = text(Field::Region, MAX_TEXT);
    let body = match kind {
        None => None,
        Some(EventKind::Contact) => {
            let channel = coded(
                raw,
                Field::Channel,
                FollowupTable::ContactChannel,
                codes,
                &mut problems,
            );
            let reached = reached(raw, &mut problems);
            match (channel, reached) {
                (Some(channel), Some(reached)) => Some(EventBody::Contact {
                    channel,
                    reached,
                    note,
                }),
                _ => None,
            }
        }
        Some(EventKind::Service) => coded(
            raw,
            Field::ServiceType,
            FollowupTable::ServiceType,
            codes,
            &mut problems,
        )
        .map(|service_type| EventBody::Service {
            service_type,
            organisation,
            employer,
            post,
            note,
        }),
        Some(EventKind::Policy) => {
            let policy_type = coded(
                raw,
                Field::PolicyType,
                FollowupTable::PolicyType,
                codes,
                &mut problems,
            );
            let amount = amount(raw, &mut problems);
            match (policy_type, amount) {
                (Some(policy_type), Ok(amount_fen)) => Some(EventBody::Policy {
                    policy_type,
                    amount_fen,
                    organisation,
                    note,
                }),
                _ => None,
            }
        }
        Some(EventKind::State) => coded(
            raw,
            Field::State,
            FollowupTable::EmploymentState,
            codes,
            &mut problems,
        )
        .map(|state| EventBody::State { state, note }),
        Some(EventKind::Update) => {
            let phone = raw.get(Field::Phone).and_then(|s| match mobile_number(&s) {
                Some(m) => Some(m),
                None if is_fixed_line(&s) => Some(s),
                None => {
                    problems.push(Problem::new(
                        Field::Phone,
                        &s,
                        ErrorCode::PhoneFormat,
                        "联系电话：不是有效的手机号码（1 开头 11 位）或固定电话（如 0531-88888888）",
                        "Phone: not a mobile number (11 digits starting with 1) or a fixed line (e.g. 0531-88888888)",
                    ));
                    None
                }
            });
            if address.is_none() && phone.is_none() && occupation.is_none() && region.is_none() {
                if problems.iter().all(|p| {
                    !matches!(
                        p.field,
                        Field::Phone | Field::Address | Field::Occupation | Field::Region
                    )
                }) {
                    problems.push(Problem::new(
                        Field::Address,
                        "",
                        ErrorCode::Required,
                        "信息更新：现居住地、联系电话、求职意向职业、求职意向地区至少填写一项",
                        "Update: give at least one of address, phone, occupation, region",
                    ));
                }
                None
            } else {
                Some(EventBody::Update {
                    address,
                    phone,
                    occupation,
                    region,
                })
            }
        }
    };
    match (on, body) {
        (Some(on), Some(body)) if problems.is_empty() => Ok(ValidEvent { on, body }),
        _ => Err(problems),
    }
}

fn required(field: Field) -> Problem {
    Problem::new(
        field,
        "",
        ErrorCode::Required,
        format!("{}：必填", field.header_zh()),
        format!("{}: required", field.key()),
    )
}

fn event_date(raw: &RawEvent, today: NaiveDate, problems: &mut Vec<Problem>) -> Option<NaiveDate> {
    let Some(s) = raw.get(Field::Date) else {
        problems.push(required(Field::Date));
        return None;
    };
    let invalid = |problems: &mut Vec<Problem>| {
        problems.push(Problem::new(
            Field::Date,
            &s,
            ErrorCode::DateInvalid,
            "日期：不是有效的日期（应为 2026-07-15 这样的年月日）",
            "Date: not a valid date (a day such as 2026-07-15)",
        ));
    };
    // A year or a month alone is not the day of an event.
    if !names_a_day(&s) {
        invalid(problems);
        return None;
    }
    let Some(day) = parse_date(&s) else {
        invalid(problems);
        return None;
    };
    if day > today {
        problems.push(Problem::new(
            Field::Date,
            &s,
            ErrorCode::DateFuture,
            format!("日期：{day} 晚于今天 {today}"),
            format!("Date: {day} is later than today ({today})"),
        ));
        return None;
    }
    if day < EARLIEST {
        problems.push(Problem::new(
            Field::Date,
            &s,
            ErrorCode::DateInvalid,
            format!("日期：{day} 早于 {EARLIEST}"),
            format!("Date: {day} is before {EARLIEST}"),
        ));
        return None;
    }
    Some(day)
}

/// No follow-up event is older than this (the real-name registration began in the 2010s).
const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("a valid constant date"),
};

/// Whether a date text carries a day: three groups of digits, or an Excel day serial (5 digits).
fn names_a_day(s: &str) -> bool {
    let groups = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .count();
    groups >= 3 || (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit())) || {
        let int = s.split('.').next().unwrap_or("");
        int.len() == 5 && int.bytes().all(|b| b.is_ascii_digit())
    }
}

fn coded(
    raw: &RawEvent,
    field: Field,
    table: FollowupTable,
    codes: &FollowupCodes,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let Some(s) = raw.get(field) else {
        problems.push(required(field));
        return None;
    };
    match codes.lookup(table, &s) {
        Some(code) => Some(code.to_string()),
        None => {
            let known: Vec<String> = codes
                .entries(table)
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect();
            problems.push(Problem::new(
                field,
                &s,
                ErrorCode::CodeUnknown,
                format!(
                    "{}：不在代码表中（{}）",
                    field.header_zh(),
                    known.join("、")
                ),
                format!(
                    "{}: not in the code table ({})",
                    field.key(),
                    known.join(", ")
                ),
            ));
            None
        }
    }
}

fn reached(raw: &RawEvent, problems: &mut Vec<Problem>) -> Option<bool> {
    let Some(s) = raw.get(Field::Reached) else {
        problems.push(required(Field::Reached));
        return None;
    };
    match s.to_ascii_lowercase().as_str() {
        "是" | "1" | "true" | "yes" | "y" | "联系上" | "已联系上" | "成功" => Some(true),
        "否" | "0" | "false" | "no" | "n" | "未联系上" | "联系不上" | "失败" => {
            Some(false)
        }
        _ => {
            problems.push(Problem::new(
                Field::Reached,
                &s,
                ErrorCode::CodeUnknown,
                "是否联系上：应为 是 或 否",
                "Reached: must be yes (是) or no (否)",
            ));
            None
        }
    }
}

/// The amount in fen; `Ok(None)` when empty, `Err(())` after reporting a problem.
fn amount(raw: &RawEvent, problems: &mut Vec<Problem>) -> Result<Option<i64>, ()> {
    let Some(s) = raw.get(Field::Amount) else {
        return Ok(None);
    };
    let plain: String = s.chars().filter(|c| *c != ',' && *c != '元').collect();
    match parse_fen(plain.trim()) {
        Some(fen) if fen <= MAX_AMOUNT_YUAN * 100 => Ok(Some(fen)),
        _ => {
            problems.push(Problem::new(
                Field::Amount,
                &s,
                ErrorCode::AmountInvalid,
                format!("金额(元)：应为 0 到 {MAX_AMOUNT_YUAN} 之间、至多两位小数的数"),
                format!("Amount: a number of yuan from 0 to {MAX_AMOUNT_YUAN} with at most two decimals"),
            ));
            Err(())
        }
    }
}

/// `1234.5` → 123450 fen; `None` for anything but a non-negative decimal with ≤ 2 decimals.
pub fn parse_fen(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() > 12 || frac.len() > 2 {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yuan: i64 = int.parse().ok()?;
    let mut fen: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if frac.len() == 1 {
        fen *= 10;
    }
    yuan.checked_mul(100)?.checked_add(fen)
}

/// Fen as yuan with two decimals (`123450` → `1234.50`).
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

// ---------------------------------------------------------------------------------------------
// Milestones: what the summary counts, derived from one record's events.

/// The service types of the "1131" rule (就业促进计划): at least one career guidance, three job
/// referrals, and one training or internship offer.
pub const CAREER_GUIDANCE: &str = "02";
pub const JOB_REFERRAL: &str = "03";
pub const TRAINING_OR_INTERNSHIP: [&str; 2] = ["04", "05"];
pub const REFERRALS_NEEDED: usize = 3;

/// The milestone names stored per record: `contacted` (first contact that reached the person),
/// `service:XX` and `policy:XX` (first of each type), `1131` (the day the 1131 services were
/// complete) and `1131_in_time` (the same day, when it fell within six months of graduation).
pub const CONTACTED: &str = "contacted";
pub const S1131: &str = "1131";
pub const S1131_IN_TIME: &str = "1131_in_time";

pub fn service_milestone(code: &str) -> String {
    format!("service:{code}")
}

pub fn policy_milestone(code: &str) -> String {
    format!("policy:{code}")
}

/// One dated event of a record, in the order it was stored (`seq`).
pub struct DatedEvent<'a> {
    pub on: NaiveDate,
    pub seq: i64,
    pub body: &'a EventBody,
}

/// Six months after `day` (the same day of the month, or the month's last day).
pub fn six_months_after(day: NaiveDate) -> NaiveDate {
    day.checked_add_months(Months::new(6)).unwrap_or(day)
}

/// The milestones of one record (name → day), from all its events.
pub fn milestones(
    events: &[DatedEvent<'_>],
    graduation_date: NaiveDate,
) -> BTreeMap<String, NaiveDate> {
    let mut sorted: Vec<&DatedEvent<'_>> = events.iter().collect();
    sorted.sort_by_key(|e| (e.on, e.seq));
    let mut out: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut first = |name: String, on: NaiveDate| {
        out.entry(name).or_insert(on);
    };
    let mut referrals: Vec<NaiveDate> = Vec::new();
    let (mut guidance, mut training): (Option<NaiveDate>, Option<NaiveDate>) = (None, None);
    for e in &sorted {
        match e.body {
            EventBody::Contact { reached: true, .. } => first(CONTACTED.into(), e.on),
            EventBody::Service { service_type, .. } => {
                first(service_milestone(service_type), e.on);
                if service_type == CAREER_GUIDANCE {
                    guidance.get_or_insert(e.on);
                }
                if service_type == JOB_REFERRAL {
                    referrals.push(e.on);
                }
                if TRAINING_OR_INTERNSHIP.contains(&service_type.as_str()) {
                    training.get_or_insert(e.on);
                }
            }
            EventBody::Policy { policy_type, .. } => first(policy_milestone(policy_type), e.on),
            _ => {}
        }
    }
    if let (Some(g), Some(r), Some(t)) = (guidance, referrals.get(REFERRALS_NEEDED - 1), training) {
        let done = g.max(*r).max(t);
        out.insert(S1131.into(), done);
        if done <= six_months_after(graduation_date) {
            out.insert(S1131_IN_TIME.into(), done);
        }
    }
    out
}

/// One span of the employment-state history: `state` from `from` until the day before `until`
/// (open when `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateSpan {
    pub state: String,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// The employment-state history of one record from its state events: the latest event of a day
/// decides that day; a state repeated on a later day continues the span.
pub fn state_history(events: &[DatedEvent<'_>]) -> Vec<StateSpan> {
    let mut states: Vec<(NaiveDate, i64, &str)> = events
        .iter()
        .filter_map(|e| match e.body {
            EventBody::State { state, .. } => Some((e.on, e.seq, state.as_str())),
            _ => None,
        })
        .collect();
    states.sort();
    let mut by_day: Vec<(NaiveDate, &str)> = Vec::new();
    for (on, _, state) in states {
        match by_day.last_mut() {
            Some(last) if last.0 == on => last.1 = state,
            _ => by_day.push((on, state)),
        }
    }
    let mut spans: Vec<StateSpan> = Vec::new();
    for (on, state) in by_day {
        if let Some(last) = spans.last_mut() {
            if last.state == state {
                continue;
            }
            last.until = Some(on);
        }
        spans.push(StateSpan {
            state: state.to_string(),
            from: on,
            until: None,
        });
    }
    spans
}

/// The current values of set 1 (address, phone, intention): the latest update of each field.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub address: Option<String>,
    pub phone: Option<String>,
    pub occupation: Option<String>,
    pub region: Option<String>,
}

pub fn current_profile(events: &[DatedEvent<'_>]) -> Profile {
    let mut sorted: Vec<&DatedEvent<'_>> = events.iter().collect();
    sorted.sort_by_key(|e| (e.on, e.seq));
    let mut p = Profile::default();
    for e in sorted {
        if let EventBody::Update {
            address,
            phone,
            occupation,
            region,
        } = e.body
        {
            for (slot, value) in [
                (&mut p.address, address),
                (&mut p.phone, phone),
                (&mut p.occupation, occupation),
                (&mut p.region, region),
            ] {
                if value.is_some() {
                    slot.clone_from(value);
                }
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
    }

    fn raw(pairs: &[(Field, &str)]) -> RawEvent {
        let mut r = RawEvent::default();
        for (f, v) in pairs {
            r.set(*f, *v);
        }
        r
    }

    #[test]
    fn a_service_event_with_a_chinese_type_name_is_valid() {
        let codes = FollowupCodes::builtin();
        let e = validate(
            &raw(&[
                (Field::Kind, "就业服务"),
                (Field::Date, "2026年8月3日"),
                (Field::ServiceType, "岗位推荐"),
                (Field::Employer, "济南某公司"),
            ]),
            &codes,
            day("2026-12-01"),
        )
        .expect("valid");
        assert_eq!(e.on, day("2026-08-03"));
        assert!(
            matches!(e.body, EventBody::Service { ref service_type, .. } if service_type == "03")
        );
    }

    #[test]
    fn every_problem_of_an_event_is_reported() {
        let codes = FollowupCodes::builtin();
        let problems = validate(
            &raw(&[
                (Field::Kind, "policy"),
                (Field::Date, "2027-01-05"),
                (Field::PolicyType, "88"),
                (Field::Amount, "12.345"),
            ]),
            &codes,
            day("2026-12-01"),
        )
        .expect_err("invalid");
        let codes: Vec<ErrorCode> = problems.iter().map(|p| p.code).collect();
        assert!(codes.contains(&ErrorCode::DateFuture), "{problems:?}");
        assert!(codes.contains(&ErrorCode::CodeUnknown));
        assert!(codes.contains(&ErrorCode::AmountInvalid));
    }

    #[test]
    fn a_year_alone_is_not_an_event_date() {
        let codes = FollowupCodes::builtin();
        let p = validate(
            &raw(&[
                (Field::Kind, "state"),
                (Field::Date, "2026"),
                (Field::State, "21"),
            ]),
            &codes,
            day("2026-12-01"),
        )
        .expect_err("a year is not a day");
        assert_eq!(p[0].code, ErrorCode::DateInvalid);
        assert!(names_a_day("20260801") && names_a_day("46000") && names_a_day("2026/8/1"));
    }

    #[test]
    fn amounts_are_exact_in_fen() {
        assert_eq!(parse_fen("1234.5"), Some(123_450));
        assert_eq!(parse_fen("0.05"), Some(5));
        assert_eq!(parse_fen("-1"), None);
        assert_eq!(parse_fen("1e3"), None);
        assert_eq!(yuan(123_450), "1234.50");
    }

    #[test]
    fn the_1131_day_is_when_the_last_required_service_was_given() {
        let svc = |t: &str| EventBody::Service {
            service_type: t.into(),
            organisation: None,
            employer: None,
            post: None,
            note: None,
        };
        let (g, r, t) = (svc("02"), svc("03"), svc("05"));
        let ev = |on: &str, seq, body| DatedEvent {
            on: day(on),
            seq,
            body,
        };
        let events = vec![
            ev("2026-08-01", 1, &r),
            ev("2026-07-10", 2, &g),
            ev("2026-09-01", 3, &r),
            ev("2026-10-01", 4, &t),
        ];
        let m = milestones(&events, day("2026-06-30"));
        assert!(!m.contains_key(S1131), "two referrals are not three");
        let mut events = events;
        events.push(ev("2027-02-01", 5, &r));
        let m = milestones(&events, day("2026-06-30"));
        assert_eq!(m.get(S1131), Some(&day("2027-02-01")));
        assert!(!m.contains_key(S1131_IN_TIME), "after 2026-12-30");
        assert_eq!(m.get("service:03"), Some(&day("2026-08-01")));
    }

    #[test]
    fn the_state_history_keeps_the_latest_state_of_a_day() {
        let st = |s: &str| EventBody::State {
            state: s.into(),
            note: None,
        };
        let (a, b, c) = (st("10"), st("21"), st("22"));
        let ev = |on: &str, seq, body| DatedEvent {
            on: day(on),
            seq,
            body,
        };
        let spans = state_history(&[
            ev("2026-08-01", 1, &a),
            ev("2026-09-01", 2, &b),
            ev("2026-09-01", 3, &c),
            ev("2026-10-01", 4, &c),
        ]);
        assert_eq!(
            spans,
            vec![
                StateSpan {
                    state: "10".into(),
                    from: day("2026-08-01"),
                    until: Some(day("2026-09-01"))
                },
                StateSpan {
                    state: "22".into(),
                    from: day("2026-09-01"),
                    until: None
                },
            ]
        );
    }
}
