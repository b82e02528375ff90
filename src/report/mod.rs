//! Reports: the 111号 ministry summary (部级汇总) for a graduation year and a cut-off day, one row
//! per child organisation of the caller plus a total row with rates recomputed, the drill-down
//! from any count to the records behind it, and its downloads (the overdue lists among them).
//! Counting is in `db::summary`; the columns are in [`columns`]; files in [`write`].

pub mod columns;
pub mod write;

use crate::authz::{Caller, OrgTree, Permission};
use crate::db::audit;
use crate::db::packages::PlacementRow;
use crate::db::summary::{self as store, Cutoff, Measure};
use crate::distribution::{DistError, Distribution};
use crate::domain::catalogue::ErrorCode;
use crate::domain::followup::{self as rules, FollowupCodes, FollowupTable};
use crate::domain::organisation::OrgLevel;
use crate::export::TableFormat;
use crate::views::RecordView;
use chrono::{Days, Months, NaiveDate, NaiveTime};
use columns::{Column, ColumnKind};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::Arc;

/// The largest drill-down page.
pub const MAX_DRILL_PAGE: i64 = 500;

/// One row of the summary: an organisation (with all below it), the caller's own holdings
/// (`own`), or the total.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SummaryRow {
    pub org_code: String,
    pub org_name: String,
    pub level: String,
    /// The records held by the organisation itself, not below it (本级).
    pub own: bool,
    /// Column id → value: persons (integer), rates (0–1, null when the denominator is 0),
    /// amounts (yuan, a string with two decimals).
    #[schema(value_type = Object)]
    pub cells: BTreeMap<String, serde_json::Value>,
    #[serde(skip)]
    counts: HashMap<String, i64>,
}

impl SummaryRow {
    /// A count (or an amount in fen) of the row.
    pub fn count(&self, id: &str) -> i64 {
        self.counts.get(id).copied().unwrap_or(0)
    }
}

/// The deadlines a summary counted with.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeadlineBasis {
    pub contact_working_days: u32,
    /// Records that reached their county on or before this day were past the first-contact
    /// deadline on the cut-off day.
    #[schema(value_type = String)]
    pub contact_arrived_by: NaiveDate,
    /// Graduates of before this day were past the six months of the 1131 services.
    #[schema(value_type = String)]
    pub graduated_before: NaiveDate,
    /// The working-day calendar did not cover the span: weekends only were counted (暂定).
    pub provisional: bool,
}

/// A code table's edition, for the 说明 sheet.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Edition {
    pub table: String,
    pub edition: String,
}

/// The summary for one organisation's subtree.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub graduation_year: i32,
    #[schema(value_type = String)]
    pub as_of: NaiveDate,
    pub org_code: String,
    pub org_name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<SummaryRow>,
    pub total: SummaryRow,
    pub deadlines: DeadlineBasis,
    pub editions: Vec<Edition>,
}

/// Which records a drill-down lists.
#[derive(Clone, Debug)]
pub struct DrillQuery {
    pub year: i32,
    pub as_of: NaiveDate,
    /// The row's organisation (default: the caller's).
    pub org: Option<String>,
    /// Only the records held by `org` itself (the 本级 row).
    pub own: bool,
    /// A column id of the summary.
    pub column: String,
}

/// One record behind a count.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DrillRecord {
    pub record: RecordView,
    pub placement: PlacementRow,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DrillPage {
    pub column: String,
    pub records: Vec<DrillRecord>,
    /// Pass as `after` for the next page; the list is complete when a page comes back empty.
    pub next_cursor: i64,
}

/// What a drill-down lists: the cut-off, the holders, the rule and the column asked for.
struct DrillTarget {
    cutoff: Cutoff,
    holders: Option<Vec<i64>>,
    measure: Measure,
    column: String,
}

/// The report service.
pub struct Reports {
    pub dist: Arc<Distribution>,
    pub codes: Arc<FollowupCodes>,
    /// First contact within this many working days of arrival at the county.
    pub contact_days: u32,
}

fn invalid(zh: String, en: String) -> DistError {
    DistError::Invalid {
        code: ErrorCode::QueryInvalid,
        zh,
        en,
    }
}

/// Checks the graduation year of a report request.
pub fn check_year(year: i32) -> Result<i32, DistError> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(invalid(
            format!("毕业年份 {year} 无效，应为 2000 到 2100 之间的四位年份"),
            format!("graduation year {year} is not a year from 2000 to 2100"),
        ))
    }
}

impl Reports {
    pub fn new(dist: Arc<Distribution>, codes: Arc<FollowupCodes>, contact_days: u32) -> Reports {
        Reports {
            dist,
            codes,
            contact_days,
        }
    }

    fn cutoff(&self, year: i32, day: NaiveDate) -> Result<(Cutoff, DeadlineBasis), DistError> {
        let year = check_year(year)?;
        let calendar = self.dist.calendar();
        // The end of a day in China (UTC+8) is 16:00 of that day in UTC.
        let china_end =
            |d: NaiveDate| d.and_time(NaiveTime::from_hms_opt(16, 0, 0).unwrap_or_default());
        // The latest arrival day whose deadline had passed on `day`: the deadline is the
        // `contact_days`-th working day after arrival, so walk back until it falls before `day`.
        let mut arrived_by = day;
        // 365 working days (the most `contact_deadline_days` allows) span well under 800 days.
        for _ in 0..800 {
            if calendar.add_working_days(arrived_by, self.contact_days) < day {
                break;
            }
            arrived_by = arrived_by - Days::new(1);
        }
        let graduated_before = day.checked_sub_months(Months::new(6)).unwrap_or(day);
        let cutoff = Cutoff {
            year,
            day,
            end: china_end(day),
            contact_due_before: china_end(arrived_by),
            graduated_before,
        };
        let basis = DeadlineBasis {
            contact_working_days: self.contact_days,
            contact_arrived_by: arrived_by,
            graduated_before,
            provisional: !calendar.covers_span(arrived_by, day),
        };
        Ok((cutoff, basis))
    }

    /// The organisation a report is for: `code` when it is in the caller's jurisdiction (else
    /// not found), or the caller's own; and the holders to count (`None`: all).
    fn subject(
        &self,
        tree: &OrgTree,
        caller: &Caller,
        code: Option<&str>,
    ) -> Result<(i64, Option<Vec<i64>>), DistError> {
        caller.require(Permission::ReadRecords)?;
        let id = match code {
            None => caller.org_id,
            Some(code) => {
                let node = tree.by_code(code).ok_or(DistError::NotFound)?;
                if !caller.scope.contains(node.id) || !node.level.receives() {
                    return Err(DistError::NotFound);
                }
                node.id
            }
        };
        let holders = match tree.scope_of(id) {
            crate::authz::Scope::All => None,
            crate::authz::Scope::Orgs(ids) => Some(ids),
        };
        Ok((id, holders))
    }

    /// The summary of `org` (default the caller's) for `year` as the data stood at the end of
    /// `as_of`.
    pub fn summary(
        &self,
        caller: &Caller,
        year: i32,
        as_of: NaiveDate,
        org: Option<&str>,
    ) -> Result<Summary, DistError> {
        let tree = self.dist.tree()?;
        let (subject, holders) = self.subject(&tree, caller, org)?;
        let (cutoff, deadlines) = self.cutoff(year, as_of)?;
        let holders = holders.as_deref();
        // The four counts read four different tables: each on its own connection at once, so
        // the summary takes the time of the longest, not of all four.
        let db = &self.dist.db;
        let cutoff_ref = &cutoff;
        let (base, milestones, states, amounts) = std::thread::scope(|scope| {
            let milestones = scope.spawn(move || -> Result<_, DistError> {
                Ok(store::milestone_counts(
                    &mut *db.conn()?,
                    cutoff_ref,
                    holders,
                )?)
            });
            let states = scope.spawn(move || -> Result<_, DistError> {
                Ok(store::state_counts(&mut *db.conn()?, cutoff_ref, holders)?)
            });
            let amounts = scope.spawn(move || -> Result<_, DistError> {
                Ok(store::policy_amounts(
                    &mut *db.conn()?,
                    cutoff_ref,
                    holders,
                )?)
            });
            let base =
                store::base_counts(&mut *db.conn()?, cutoff_ref, holders).map_err(DistError::from);
            Ok::<_, DistError>((
                base?,
                joined(milestones)?,
                joined(states)?,
                joined(amounts)?,
            ))
        })?;
        let mut conn = self.dist.db.conn()?;

        // Counts per holder, then per row.
        let mut per_holder: HashMap<i64, HashMap<String, i64>> = HashMap::new();
        for b in &base {
            let m = per_holder.entry(b.holder).or_default();
            for (id, v) in [
                ("received", b.received),
                ("edu:11", b.edu_11),
                ("edu:14", b.edu_14),
                ("edu:21", b.edu_21),
                ("edu:31", b.edu_31),
                ("sex:1", b.male),
                ("sex:2", b.female),
                ("hardship", b.hardship),
                ("acknowledged", b.acknowledged),
                ("returned", b.returned),
                ("unassigned", b.unassigned),
                ("intention_work", b.intention_work),
                ("intention_not_now", b.intention_not_now),
                ("overdue_contact", b.overdue_contact),
                ("overdue_1131", b.overdue_1131),
            ] {
                *m.entry(id.to_string()).or_default() += v;
            }
        }
        for k in &milestones {
            *per_holder
                .entry(k.holder)
                .or_default()
                .entry(k.key.clone())
                .or_default() += k.n;
        }
        for k in &states {
            let m = per_holder.entry(k.holder).or_default();
            *m.entry(format!("state:{}", k.key)).or_default() += k.n;
            if columns::EMPLOYED_STATES.contains(&k.key.as_str()) {
                *m.entry("employed".into()).or_default() += k.n;
            }
        }
        for a in &amounts {
            *per_holder
                .entry(a.holder)
                .or_default()
                .entry(format!("amount:{}", a.key))
                .or_default() += a.fen.unwrap_or(0);
        }

        let columns = columns::columns(&self.codes);
        let node = |id: i64| tree.get(id);
        let subject_node = node(subject).ok_or(DistError::NotFound)?;
        // One row per receiving child, in code order, then the organisation's own holdings.
        let mut children: Vec<i64> = tree
            .children(subject)
            .iter()
            .copied()
            .filter(|c| node(*c).is_some_and(|n| n.level.receives()))
            .collect();
        children.sort_by_key(|c| node(*c).map(|n| n.code.clone()));
        let mut row_counts: HashMap<Option<i64>, HashMap<String, i64>> = HashMap::new();
        let mut total: HashMap<String, i64> = HashMap::new();
        for (holder, counts) in per_holder {
            let row = if holder == subject {
                None
            } else {
                tree.next_hop(subject, holder)
            };
            let r = row_counts.entry(row).or_default();
            for (k, v) in counts {
                *r.entry(k.clone()).or_default() += v;
                *total.entry(k).or_default() += v;
            }
        }
        let make_row = |code: &str, name: String, level: OrgLevel, own: bool, counts| {
            let cells = cells(&columns, &counts);
            SummaryRow {
                org_code: code.to_string(),
                org_name: name,
                level: level.as_str().to_string(),
                own,
                cells,
                counts,
            }
        };
        let mut rows: Vec<SummaryRow> = children
            .iter()
            .filter_map(|c| {
                let n = node(*c)?;
                let counts = row_counts.remove(&Some(*c)).unwrap_or_default();
                Some(make_row(&n.code, n.name.clone(), n.level, false, counts))
            })
            .collect();
        if let Some(own) = row_counts.remove(&None) {
            rows.push(make_row(
                &subject_node.code,
                format!("{}（本级）", subject_node.name),
                subject_node.level,
                true,
                own,
            ));
        }
        let total = make_row(
            &subject_node.code,
            "合计".to_string(),
            subject_node.level,
            false,
            total,
        );
        audit::record(
            &mut conn,
            &caller.actor,
            "report.summary",
            &format!("org:{}", subject_node.code),
            None,
            Some(&json!({ "year": year, "as_of": as_of.to_string() })),
        )?;
        Ok(Summary {
            graduation_year: year,
            as_of,
            org_code: subject_node.code.clone(),
            org_name: subject_node.name.clone(),
            columns,
            rows,
            total,
            deadlines,
            editions: self.editions(),
        })
    }

    /// The Chinese header of a summary column, if it is one.
    pub fn column_header(&self, id: &str) -> Option<String> {
        columns::columns(&self.codes)
            .into_iter()
            .find(|c| c.id == id)
            .map(|c| c.header_zh)
    }

    /// The code tables the summary was counted with.
    pub fn editions(&self) -> Vec<Edition> {
        let mut out: Vec<Edition> = FollowupTable::ALL
            .into_iter()
            .map(|t| Edition {
                table: t.label_zh().to_string(),
                edition: self.codes.edition(t).to_string(),
            })
            .collect();
        out.push(Edition {
            table: "学历、性别、就业意愿".into(),
            edition: "内置 fixtures/codes（GB/T 4658-2006、GB/T 2261.1-2003、移交文件规范）".into(),
        });
        out
    }

    fn drill_target(&self, caller: &Caller, q: &DrillQuery) -> Result<DrillTarget, DistError> {
        let tree = self.dist.tree()?;
        let (subject, holders) = self.subject(&tree, caller, q.org.as_deref())?;
        let (cutoff, _) = self.cutoff(q.year, q.as_of)?;
        let column = columns::columns(&self.codes)
            .into_iter()
            .find(|c| c.id == q.column)
            .ok_or_else(|| {
                invalid(
                    format!("没有名为 {} 的汇总列", q.column),
                    format!("the summary has no column {}", q.column),
                )
            })?;
        let drill = column.drill.clone().ok_or_else(|| {
            invalid(
                format!("{} 是比率，不能下钻；请下钻其分子或分母", column.header_zh),
                format!(
                    "{} is a rate; drill into its numerator or denominator",
                    column.id
                ),
            )
        })?;
        let measure = columns::measure(&drill).ok_or_else(|| {
            invalid(
                format!("汇总列 {drill} 不能下钻"),
                format!("column {drill} cannot be drilled into"),
            )
        })?;
        let holders = if q.own { Some(vec![subject]) } else { holders };
        Ok(DrillTarget {
            cutoff,
            holders,
            measure,
            column: column.id,
        })
    }

    /// One page of the records behind a count, scoped and masked for the caller; a non-empty
    /// page is a `report.drilled` audit event.
    pub fn drill(
        &self,
        caller: &Caller,
        q: &DrillQuery,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<DrillPage, DistError> {
        let DrillTarget {
            cutoff,
            holders,
            measure,
            column,
        } = self.drill_target(caller, q)?;
        let after = after.unwrap_or(0).max(0);
        let limit = limit.unwrap_or(50).clamp(1, MAX_DRILL_PAGE);
        let mut conn = self.dist.db.conn()?;
        let rows = store::drill_page(
            &mut conn,
            &cutoff,
            holders.as_deref(),
            &measure,
            after,
            limit,
        )?
        .ok_or_else(|| invalid("汇总列代码无效".into(), "invalid column code".into()))?;
        if !rows.is_empty() {
            self.dist.db.read_log().record(
                &mut conn,
                &caller.actor,
                "report.drilled",
                &format!("org:{}", q.org.as_deref().unwrap_or(&caller.org_code)),
                Some(&json!({
                    "column": column, "year": q.year, "as_of": q.as_of.to_string(),
                    "after": after, "records": rows.len(), "masked": caller.sees_masked(),
                })),
            )?;
        }
        Ok(DrillPage {
            column,
            next_cursor: rows.last().map(|(r, _)| r.id).unwrap_or(after),
            records: rows
                .into_iter()
                .map(|(r, p)| DrillRecord {
                    record: RecordView::for_caller(r, caller),
                    placement: p,
                })
                .collect(),
        })
    }

    /// Every record behind a count as a CSV or XLSX file (the overdue lists are the drill-downs
    /// of `overdue_contact` and `overdue_1131`); audited as an export, whatever happens.
    pub fn drill_download<W: Write + Send>(
        &self,
        caller: &Caller,
        q: &DrillQuery,
        format: TableFormat,
        out: W,
    ) -> Result<u64, DistError> {
        let DrillTarget {
            cutoff,
            holders,
            measure,
            column,
        } = self.drill_target(caller, q)?;
        let mask = caller.sees_masked();
        let mut conn = self.dist.db.conn()?;
        let tree = self.dist.tree()?;
        let result = crate::export::write_pages(format, out, mask, &DRILL_EXTRA_HEADER, |after| {
            let page = store::drill_page(
                &mut conn,
                &cutoff,
                holders.as_deref(),
                &measure,
                after,
                2_000,
            )?
            .unwrap_or_default();
            Ok(page
                .into_iter()
                .map(|(r, p)| {
                    let holder = tree.get(p.holder_org_id);
                    let extra = vec![
                        r.id.to_string(),
                        holder.map(|h| h.code.clone()).unwrap_or_default(),
                        holder.map(|h| h.name.clone()).unwrap_or_default(),
                    ];
                    (r, extra)
                })
                .collect())
        });
        let mut conn = self.dist.db.conn()?;
        audit::record(
            &mut conn,
            &caller.actor,
            "report.exported",
            &format!("org:{}", q.org.as_deref().unwrap_or(&caller.org_code)),
            None,
            Some(&json!({
                "column": column, "year": q.year, "as_of": q.as_of.to_string(),
                "format": format.extension(), "masked": mask,
                "records": result.as_ref().ok(), "complete": result.is_ok(),
            })),
        )?;
        Ok(result?)
    }
}

/// The columns a drill-down file adds after the route.
pub const DRILL_EXTRA_HEADER: [&str; 3] = ["记录号", "持有机构代码", "持有机构"];

/// The cells of a row from its counts: rates recomputed from the row's own counts.
fn cells(columns: &[Column], counts: &HashMap<String, i64>) -> BTreeMap<String, serde_json::Value> {
    let get = |id: &str| counts.get(id).copied().unwrap_or(0);
    columns
        .iter()
        .map(|c| {
            let v = match c.kind {
                ColumnKind::Count => json!(get(&c.id)),
                ColumnKind::Amount => json!(rules::yuan(get(&c.id))),
                ColumnKind::Rate => {
                    let num = get(c.numerator.as_deref().unwrap_or(""));
                    let den = get(c.denominator.as_deref().unwrap_or(""));
                    if den == 0 {
                        serde_json::Value::Null
                    } else {
                        json!(ratio(num, den))
                    }
                }
            };
            (c.id.clone(), v)
        })
        .collect()
}

/// The answer of a counting thread; one that panicked is an internal error, not a crash.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, DistError>>) -> Result<T, DistError> {
    h.join().unwrap_or_else(|_| {
        Err(DistError::Db(crate::db::DbError::Pool(
            "a summary query thread stopped".into(),
        )))
    })
}

/// `num / den` rounded to four decimals (a rate shown as a percentage with two).
pub fn ratio(num: i64, den: i64) -> f64 {
    ((num as f64 / den as f64) * 10_000.0).round() / 10_000.0
}
