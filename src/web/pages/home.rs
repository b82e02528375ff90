//! Each role's home page: the figures of its subtree with the pictures (签收 progress per child
//! organisation, employment states, weekly trend), every figure linking to what is behind it;
//! the sender's batches; the administrator's and the auditor's starting points.

use super::format::{count, hours, query};
use super::layout::page;
use super::svg::{self, Bar, Part, Series};
use super::{blocking, ok, PageError, PageResult, PageSession};
use crate::authz::{Caller, Permission};
use crate::db::activity;
use crate::distribution::figures::Figures;
use crate::distribution::reads::Holders;
use crate::domain::organisation::Role;
use crate::ingest::china_today;
use crate::report::Summary;
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_web::web;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use maud::{html, Markup};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/home", web::get().to(home));
}

/// How long a home page's figures are reused: counting a whole country's follow-up takes
/// seconds, and a dashboard a minute old is what people expect of one.
const HOME_TTL: std::time::Duration = std::time::Duration::from_secs(60);
const TREND_WEEKS: i64 = 12;

/// One organisation's and year's figures with when they were computed, and the lock whoever
/// computes them holds: many requests for one home page compute it once; while it is being
/// recomputed the others are answered the figures of a minute ago (or, the first time, wait).
#[derive(Default)]
struct HomeSlot {
    data: std::sync::RwLock<Option<(Instant, Arc<HomeData>)>>,
    computing: Mutex<()>,
}

/// The home figures computed lately.
#[derive(Default)]
pub struct HomeCache {
    slots: Mutex<HashMap<(i64, i32), Arc<HomeSlot>>>,
}

impl HomeCache {
    fn slot(&self, key: (i64, i32)) -> Arc<HomeSlot> {
        let Ok(mut slots) = self.slots.lock() else {
            return Arc::default();
        };
        if slots.len() > 10_000 {
            slots.clear();
        }
        slots.entry(key).or_default().clone()
    }
}

impl HomeSlot {
    /// The figures, with whether they are younger than `HOME_TTL`.
    fn read(&self) -> Option<(bool, Arc<HomeData>)> {
        let data = self.data.read().ok()?;
        data.as_ref()
            .map(|(at, d)| (at.elapsed() < HOME_TTL, d.clone()))
    }
}

/// What a staff home page shows.
pub struct HomeData {
    pub figures: Figures,
    pub summary: Summary,
    pub weeks: Vec<NaiveDate>,
    pub received: Vec<i64>,
    pub acknowledged: Vec<i64>,
    pub contacted: Vec<i64>,
    pub computed_at: NaiveDateTime,
}

#[derive(serde::Deserialize)]
struct HomeQuery {
    year: Option<i32>,
}

async fn home(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<HomeQuery>,
) -> PageResult {
    match session.caller.role {
        Role::Sender => return super::batches::sender_home(state, session).await,
        Role::Admin => return super::admin::admin_home(state, session).await,
        Role::Auditor => return super::see_other("/audit"),
        _ => {}
    }
    let today = china_today();
    let year = q.year.unwrap_or(today.year());
    let caller = session.caller.clone();
    let data = blocking(&state, move |s| load(s, &caller, year, today)).await?;
    let mut content = staff_home(&session, &data, year, today);
    if session.caller.org_level == crate::domain::organisation::OrgLevel::Grassroots {
        // A grassroots point works its graduates one by one: they are its home page.
        let caller = session.caller.clone();
        let held = blocking(&state, move |s| {
            Ok(s.dist
                .held_records(&caller, Holders::Own, None, None, Some(50))?)
        })
        .await?;
        content = html! {
            (content)
            div.panel {
                h2 { "本服务点的毕业生" }
                (super::records::record_table(&held.records, false))
                @if held.records.len() >= 50 { p { a href="/queue?state=settled" { "全部 →" } } }
            }
        };
    }
    ok(page("首页", Some(&session), content))
}

/// The cached figures of the caller's organisation, or fresh ones.
fn load(
    state: &AppState,
    caller: &Caller,
    year: i32,
    today: NaiveDate,
) -> Result<Arc<HomeData>, PageError> {
    let slot = state.pages.home.slot((caller.org_id, year));
    match slot.read() {
        Some((true, data)) => return Ok(data),
        // Someone is recomputing them: the figures of a minute ago will do.
        Some((false, stale)) if slot.computing.try_lock().is_err() => return Ok(stale),
        _ => {}
    }
    let _computing = slot
        .computing
        .lock()
        .map_err(|_| ApiError::internal("home cache poisoned"))?;
    // Computed by another request while this one waited.
    if let Some((true, data)) = slot.read() {
        return Ok(data);
    }
    let figures = state.dist.figures(caller, today)?;
    let summary = state.reports.summary(caller, year, today, None)?;
    let (weeks, received, acknowledged, contacted) = trend(state, caller, today)?;
    let data = Arc::new(HomeData {
        figures,
        summary,
        weeks,
        received,
        acknowledged,
        contacted,
        computed_at: chrono::Utc::now().naive_utc(),
    });
    if let Ok(mut slot_data) = slot.data.write() {
        *slot_data = Some((Instant::now(), data.clone()));
    }
    Ok(data)
}

type Trend = (Vec<NaiveDate>, Vec<i64>, Vec<i64>, Vec<i64>);

/// Twelve weeks (Monday to Sunday, the last one this week) of records received by the caller's
/// organisation (for the ministry: stored from files), records of its packages acknowledged
/// (for the ministry: of the packages it sent), and first contacts in its subtree.
fn trend(state: &AppState, caller: &Caller, today: NaiveDate) -> Result<Trend, PageError> {
    let this_monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let first = this_monday - Duration::weeks(TREND_WEEKS - 1);
    let weeks: Vec<NaiveDate> = (0..TREND_WEEKS)
        .map(|i| first + Duration::weeks(i))
        .collect();
    // Stored times are UTC; weeks are China's.
    let since = first.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8);
    let week_of = |d: NaiveDate| -> Option<usize> {
        let i = (d - first).num_days().div_euclid(7);
        (0..TREND_WEEKS).contains(&i).then_some(i as usize)
    };
    let day_of = |t: NaiveDateTime| (t + Duration::hours(8)).date();
    let n = TREND_WEEKS as usize;
    let (mut received, mut acknowledged, mut contacted) = (vec![0; n], vec![0; n], vec![0; n]);
    let mut conn = state.db.conn()?;
    let ministry = caller.org_level == crate::domain::organisation::OrgLevel::Ministry;
    let packages = if ministry {
        for (at, n) in activity::stored_since(&mut conn, since)? {
            if let Some(w) = week_of(day_of(at)) {
                received[w] += n;
            }
        }
        activity::packages_since(&mut conn, None, Some(caller.org_id), since)?
    } else {
        activity::packages_since(&mut conn, Some(caller.org_id), None, since)?
    };
    for p in packages {
        if !ministry {
            if let Some(w) = week_of(day_of(p.delivered_at)) {
                received[w] += p.records;
            }
        }
        if let Some(w) = p.acknowledged_at.and_then(|a| week_of(day_of(a))) {
            acknowledged[w] += p.records - p.returned;
        }
    }
    for (day, n) in activity::contacts_per_day(&mut conn, caller.scope.ids(), first)? {
        if let Some(w) = week_of(day) {
            contacted[w] += n;
        }
    }
    Ok((weeks, received, acknowledged, contacted))
}

fn staff_home(session: &PageSession, data: &HomeData, year: i32, today: NaiveDate) -> Markup {
    let caller = &session.caller;
    let own = &data.figures.organisation;
    let total = &data.summary.total;
    let as_of = today.to_string();
    let drill = |column: &str, org: Option<&str>| {
        format!(
            "/summary/records{}",
            query(&[
                ("year", Some(year.to_string())),
                ("as_of", Some(as_of.clone())),
                ("column", Some(column.to_string())),
                ("org", org.map(str::to_string)),
            ])
        )
    };
    let tree_children: Vec<&crate::distribution::figures::OrgFigures> = {
        let codes: Vec<&str> = data
            .summary
            .rows
            .iter()
            .filter(|r| !r.own)
            .map(|r| r.org_code.as_str())
            .collect();
        data.figures
            .organisations
            .iter()
            .filter(|f| codes.contains(&f.org_code.as_str()))
            .collect()
    };
    let mut bars: Vec<Bar> = tree_children
        .iter()
        .map(|f| Bar {
            label: f.org_name.clone(),
            value: f.acknowledged,
            of: f.received,
            href: drill("acknowledged", Some(&f.org_code)),
            alarm: f.overdue_packages > 0,
        })
        .collect();
    bars.sort_by(|a, b| {
        let share = |x: &Bar| {
            if x.of > 0 {
                x.value as f64 / x.of as f64
            } else {
                0.0
            }
        };
        share(a).total_cmp(&share(b))
    });
    let states: Vec<Part> = data
        .summary
        .columns
        .iter()
        .filter(|c| c.id.starts_with("state:"))
        .map(|c| Part {
            label: c.header_zh.clone(),
            value: total.count(&c.id),
            href: drill(&c.id, None),
        })
        .collect();
    let week_labels: Vec<String> = data
        .weeks
        .iter()
        .map(|d| d.format("%m-%d").to_string())
        .collect();
    let series = [
        Series {
            label: "接收".into(),
            values: data.received.clone(),
        },
        Series {
            label: "签收".into(),
            values: data.acknowledged.clone(),
        },
        Series {
            label: "首次联系".into(),
            values: data.contacted.clone(),
        },
    ];
    let card = |n: String, label: &str, href: String| {
        html! { a.card href=(href) { div.n { (n) } div.l { (label) } } }
    };
    let overdue_href = "/inbox?overdue=1".to_string();
    // The child organisations ranked by 签收率 (lowest first: where to look), with their 联系率
    // and 就业率; the rates are the summary's definitions.
    let mut ranking: Vec<&crate::report::SummaryRow> = data
        .summary
        .rows
        .iter()
        .filter(|r| !r.own && r.count("received") > 0)
        .collect();
    let share = |r: &crate::report::SummaryRow| {
        r.count("acknowledged") as f64 / r.count("received").max(1) as f64
    };
    ranking.sort_by(|a, b| share(a).total_cmp(&share(b)));
    html! {
        form.row method="get" action="/home" {
            label { "毕业年份" input type="number" name="year" value=(year) min="2000" max="2100"; }
            button.secondary type="submit" { "切换" }
        }
        p.muted {
            (own.org_name) "（" (own.org_code) "）· " (year) " 届 · 统计至 " (as_of)
            " · 数据更新于 " (super::format::time(data.computed_at)) "（每分钟更新）"
        }
        @if data.summary.deadlines.provisional {
            p.warn { "工作日日历未覆盖统计期间，期限按仅扣除周末计算（暂定）。" }
        }
        div.cards {
            (card(count(own.received), "已接收记录", "/inbox".into()))
            (card(count(own.distributed), "已下发记录", "/packages/sent".into()))
            (card(count(own.acknowledged), "已签收记录", "/inbox?state=acknowledged".into()))
            (card(count(own.returned), "已退回记录", drill("returned", None)))
            (card(count(own.unassigned), "待分配", "/queue".into()))
            (card(count(own.overdue_packages), "超期未签收包", overdue_href))
            (card(hours(own.median_ack_hours), "签收用时中位数", "/inbox?state=acknowledged".into()))
            (card(hours(own.p90_ack_hours), "签收用时90分位", "/inbox?state=acknowledged".into()))
            (card(count(total.count("received")), "辖区移交人数", drill("received", None)))
            (card(count(total.count("contacted")), "已联系", drill("contacted", None)))
            (card(count(total.count("employed")), "已就业", drill("employed", None)))
            (card(count(total.count("overdue_contact")), "超期未联系", drill("overdue_contact", None)))
        }
        div.cols {
            div.panel {
                h2 { "下级机构签收进度" }
                @if bars.is_empty() {
                    p.muted { "下级机构尚未收到分发包。" }
                } @else {
                    (svg::share_bars(&bars, "下级机构签收进度（红色为有超期未签收包）"))
                    p.muted { "按签收率由低到高排列；红色表示有超期未签收的包。点击查看记录。" }
                }
            }
            div.panel {
                h2 { "就业状态" }
                (svg::stacked_bar(&states, "统计日就业状态"))
                h2 { "近 12 周趋势" }
                (svg::weekly_lines(&week_labels, &series, "每周接收、签收、首次联系人数"))
            }
        }
        @if !ranking.is_empty() {
            div.panel {
                h2 { "下级机构排名（按签收率）" }
                table #ranking {
                    thead { tr { th { "机构" } th.num { "移交人数" } th.num { "签收率" } th.num { "联系率" } th.num { "就业率" } } }
                    tbody {
                        @for r in &ranking {
                            tr {
                                td { a href=(format!("/summary{}", query(&[("year", Some(year.to_string())), ("org", Some(r.org_code.clone()))]))) { (r.org_name) } }
                                td.num { a href=(drill("received", Some(&r.org_code))) { (count(r.count("received"))) } }
                                td.num { (super::format::rate(r.count("acknowledged"), r.count("received"))) }
                                td.num { (super::format::rate(r.count("contacted"), r.count("received"))) }
                                td.num { (super::format::rate(r.count("employed"), r.count("received"))) }
                            }
                        }
                    }
                }
            }
        }
        @if caller.may(Permission::ReadRecords) {
            p {
                a href=(format!("/summary{}", query(&[("year", Some(year.to_string()))]))) { "查看111号汇总表 →" }
                @if caller.role == Role::Auditor {
                    " · " a href="/audit" { "审计日志 →" }
                }
            }
        }
    }
}
