//! The 111号 summary's counting queries, per holding organisation, and the drill-down page of
//! the records behind one count. Both are written from one list of predicates ([`Measure`]), so
//! the count of a cell and the length of its list are the same rule, written as a `CASE` in the
//! one and a `WHERE` in the other.
//!
//! Every value placed in the SQL text is typed (years, ids, dates, code-table codes checked to be
//! plain words), so the text is built, not bound: the statements differ in their lists of holders
//! and predicates, and the same text runs on both backends.

use super::schema::{placements, records};
use super::AnyConnection;
use crate::db::packages::PlacementRow;
use crate::db::records::RecordRow;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use std::collections::HashMap;

/// The cut-off of one summary: the data as it stood at the end of `day` (China time).
#[derive(Clone, Debug)]
pub struct Cutoff {
    pub year: i32,
    /// The cut-off day: events dated on or before it count.
    pub day: NaiveDate,
    /// The end of `day` in China, in UTC: records, 签收 stored before it count.
    pub end: NaiveDateTime,
    /// Records that reached their county before this (UTC) are past the first-contact deadline
    /// by `day`.
    pub contact_due_before: NaiveDateTime,
    /// Graduates of before this day are past the six months of the 1131 services.
    pub graduated_before: NaiveDate,
}

/// One count of the summary, as a rule on one record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Measure {
    Received,
    Education(String),
    Sex(String),
    Hardship,
    Acknowledged,
    Returned,
    Unassigned,
    IntentionWork,
    IntentionNotNow,
    /// A milestone reached by the cut-off (`contacted`, `service:03`, `policy:01`, `1131`).
    Milestone(String),
    /// The employment state on the cut-off day.
    State(String),
    /// In one of these states on the cut-off day (已就业 = 21, 22, 23).
    StateIn(Vec<String>),
    /// At a county or grassroots office, past the first-contact deadline, not contacted.
    OverdueContact,
    /// With the intention to work, six months after graduation, 1131 not reached in them.
    Overdue1131,
}

/// `'word'`, for the codes and names the SQL text carries; `None` for anything but a plain word.
fn word(s: &str) -> Option<String> {
    (!s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-')))
    .then(|| format!("'{s}'"))
}

fn day(d: NaiveDate) -> String {
    format!("'{}'", d.format("%Y-%m-%d"))
}

fn instant(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

impl Measure {
    /// The rule as SQL over `r` (records), `p` (placements), `o` (the holder's orgs row); `None`
    /// when a code in it is not a plain word (it then matches nothing anyone could ask for).
    fn predicate(&self, c: &Cutoff) -> Option<String> {
        let d = day(c.day);
        Some(match self {
            Measure::Received => "1 = 1".into(),
            Measure::Education(code) => format!("r.education_level = {}", word(code)?),
            Measure::Sex(code) => format!("r.sex = {}", word(code)?),
            Measure::Hardship => "(r.hardship IS NOT NULL AND r.hardship <> '')".into(),
            Measure::Acknowledged => format!(
                "(p.state = 'settled' AND p.updated_at < {})",
                instant(c.end)
            ),
            Measure::Returned => "p.returns > 0".into(),
            Measure::Unassigned => "p.state = 'unassigned'".into(),
            Measure::IntentionWork => "r.intention = '1'".into(),
            Measure::IntentionNotNow => "r.intention <> '1'".into(),
            Measure::Milestone(name) => format!(
                "EXISTS (SELECT 1 FROM followup_milestones m WHERE m.record_id = r.id \
                 AND m.name = {} AND m.reached_on <= {d})",
                word(name)?
            ),
            Measure::State(code) => state_exists(&word(code)?, &d),
            Measure::StateIn(codes) => {
                let list: Option<Vec<String>> = codes.iter().map(|c| word(c)).collect();
                state_exists_in(&list?.join(", "), &d)
            }
            Measure::OverdueContact => format!(
                "(o.level IN ('county', 'grassroots') AND p.updated_at < {} AND NOT EXISTS \
                 (SELECT 1 FROM followup_milestones m WHERE m.record_id = r.id \
                  AND m.name = 'contacted' AND m.reached_on <= {d}))",
                instant(c.contact_due_before)
            ),
            Measure::Overdue1131 => format!(
                "(r.intention = '1' AND r.graduation_date < {} AND NOT EXISTS \
                 (SELECT 1 FROM followup_milestones m WHERE m.record_id = r.id \
                  AND m.name = '1131_in_time' AND m.reached_on <= {d}))",
                day(c.graduated_before)
            ),
        })
    }
}

fn state_exists(code: &str, d: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM followup_states s WHERE s.record_id = r.id AND s.state = {code} \
         AND s.from_on <= {d} AND (s.until_on IS NULL OR s.until_on > {d}))"
    )
}

fn state_exists_in(codes: &str, d: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM followup_states s WHERE s.record_id = r.id AND s.state IN ({codes}) \
         AND s.from_on <= {d} AND (s.until_on IS NULL OR s.until_on > {d}))"
    )
}

/// Which holders a query covers (`t` the table holding `holder_org_id`): all, or a list of
/// organisation ids.
fn holders_clause(t: &str, holders: Option<&[i64]>) -> String {
    match holders {
        None => String::new(),
        Some([]) => " AND 1 = 0".into(),
        Some(ids) => {
            let list: Vec<String> = ids.iter().map(i64::to_string).collect();
            format!(" AND {t}.holder_org_id IN ({})", list.join(", "))
        }
    }
}

/// The records of the cut-off, on the records themselves (the drill-down).
fn base_where(c: &Cutoff, holders: Option<&[i64]>) -> String {
    format!(
        "r.graduation_year = {} AND r.created_at < {}{}",
        c.year,
        instant(c.end),
        holders_clause("p", holders)
    )
}

/// The same records, on the copies a table `t` carries (the summary's counts).
fn copies_where(t: &str, c: &Cutoff, holders: Option<&[i64]>) -> String {
    format!(
        "{t}.graduation_year = {} AND {t}.stored_at < {}{}",
        c.year,
        instant(c.end),
        holders_clause(t, holders)
    )
}

/// The counts of the record-level measures, per holder.
#[derive(QueryableByName, Clone, Debug, Default)]
pub struct BaseCounts {
    #[diesel(sql_type = BigInt)]
    pub holder: i64,
    #[diesel(sql_type = BigInt)]
    pub received: i64,
    #[diesel(sql_type = BigInt)]
    pub edu_11: i64,
    #[diesel(sql_type = BigInt)]
    pub edu_14: i64,
    #[diesel(sql_type = BigInt)]
    pub edu_21: i64,
    #[diesel(sql_type = BigInt)]
    pub edu_31: i64,
    #[diesel(sql_type = BigInt)]
    pub male: i64,
    #[diesel(sql_type = BigInt)]
    pub female: i64,
    #[diesel(sql_type = BigInt)]
    pub hardship: i64,
    #[diesel(sql_type = BigInt)]
    pub acknowledged: i64,
    #[diesel(sql_type = BigInt)]
    pub returned: i64,
    #[diesel(sql_type = BigInt)]
    pub unassigned: i64,
    #[diesel(sql_type = BigInt)]
    pub intention_work: i64,
    #[diesel(sql_type = BigInt)]
    pub intention_not_now: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue_contact: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue_1131: i64,
}

/// Counts of the record-level measures per holder, from the placements and the record
/// attributes they copy: one narrow table, no join but the organisations' levels.
pub fn base_counts(
    conn: &mut AnyConnection,
    c: &Cutoff,
    holders: Option<&[i64]>,
) -> QueryResult<Vec<BaseCounts>> {
    let d = day(c.day);
    let end = instant(c.end);
    let mut sums = String::new();
    for (name, pred) in [
        ("edu_11", "p.education_level = '11'".to_string()),
        ("edu_14", "p.education_level = '14'".into()),
        ("edu_21", "p.education_level = '21'".into()),
        ("edu_31", "p.education_level = '31'".into()),
        ("male", "p.sex = '1'".into()),
        ("female", "p.sex = '2'".into()),
        ("hardship", "p.hardship".into()),
        (
            "acknowledged",
            format!("p.state = 'settled' AND p.updated_at < {end}"),
        ),
        ("returned", "p.returns > 0".into()),
        ("unassigned", "p.state = 'unassigned'".into()),
        ("intention_work", "p.intention = '1'".into()),
        ("intention_not_now", "p.intention <> '1'".into()),
        (
            "overdue_contact",
            format!(
                "o.level IN ('county', 'grassroots') AND p.updated_at < {} \
                 AND (p.contacted_on IS NULL OR p.contacted_on > {d})",
                instant(c.contact_due_before)
            ),
        ),
        (
            "overdue_1131",
            format!(
                "p.intention = '1' AND p.graduation_date < {} \
                 AND (p.s1131_in_time_on IS NULL OR p.s1131_in_time_on > {d})",
                day(c.graduated_before)
            ),
        ),
    ] {
        sums.push_str(&format!(
            ", SUM(CASE WHEN {pred} THEN 1 ELSE 0 END) AS {name}"
        ));
    }
    let sql = format!(
        "SELECT p.holder_org_id AS holder, COUNT(*) AS received{sums} \
         FROM placements p JOIN orgs o ON o.id = p.holder_org_id \
         WHERE {} GROUP BY p.holder_org_id",
        copies_where("p", c, holders),
    );
    diesel::sql_query(sql).load(conn)
}

/// A count per holder and key (a milestone name, a state, a policy type).
#[derive(QueryableByName, Clone, Debug)]
pub struct KeyedCount {
    #[diesel(sql_type = BigInt)]
    pub holder: i64,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Persons per holder and milestone reached by the cut-off.
pub fn milestone_counts(
    conn: &mut AnyConnection,
    c: &Cutoff,
    holders: Option<&[i64]>,
) -> QueryResult<Vec<KeyedCount>> {
    let sql = format!(
        "SELECT m.holder_org_id AS holder, m.name AS key, COUNT(*) AS n \
         FROM followup_milestones m \
         WHERE m.reached_on <= {} AND {} GROUP BY m.holder_org_id, m.name",
        day(c.day),
        copies_where("m", c, holders)
    );
    diesel::sql_query(sql).load(conn)
}

/// Persons per holder and employment state on the cut-off day.
pub fn state_counts(
    conn: &mut AnyConnection,
    c: &Cutoff,
    holders: Option<&[i64]>,
) -> QueryResult<Vec<KeyedCount>> {
    let d = day(c.day);
    let sql = format!(
        "SELECT s.holder_org_id AS holder, s.state AS key, COUNT(*) AS n \
         FROM followup_states s \
         WHERE s.from_on <= {d} AND (s.until_on IS NULL OR s.until_on > {d}) AND {} \
         GROUP BY s.holder_org_id, s.state",
        copies_where("s", c, holders)
    );
    diesel::sql_query(sql).load(conn)
}

/// Fen granted per holder and policy type by the cut-off.
#[derive(QueryableByName, Clone, Debug)]
pub struct AmountSum {
    #[diesel(sql_type = BigInt)]
    pub holder: i64,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub fen: Option<i64>,
}

pub fn policy_amounts(
    conn: &mut AnyConnection,
    c: &Cutoff,
    holders: Option<&[i64]>,
) -> QueryResult<Vec<AmountSum>> {
    let sql = format!(
        "SELECT e.holder_org_id AS holder, e.code AS key, CAST(SUM(e.amount_fen) AS BIGINT) AS fen \
         FROM followup_events e \
         WHERE e.kind = 'policy' AND e.code IS NOT NULL AND e.amount_fen IS NOT NULL \
           AND e.occurred_on <= {} AND {} \
         GROUP BY e.holder_org_id, e.code",
        day(c.day),
        copies_where("e", c, holders)
    );
    diesel::sql_query(sql).load(conn)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// One page of the records behind a count: those held by `holders` that meet `measure`, in id
/// order after `after`. `None` when the measure names a code that is not a plain word.
pub fn drill_page(
    conn: &mut AnyConnection,
    c: &Cutoff,
    holders: Option<&[i64]>,
    measure: &Measure,
    after: i64,
    limit: i64,
) -> QueryResult<Option<Vec<(RecordRow, PlacementRow)>>> {
    let Some(pred) = measure.predicate(c) else {
        return Ok(None);
    };
    let sql = format!(
        "SELECT r.id AS id FROM records r \
         JOIN placements p ON p.record_id = r.id \
         JOIN orgs o ON o.id = p.holder_org_id \
         WHERE {} AND r.id > {after} AND {pred} ORDER BY r.id LIMIT {limit}",
        base_where(c, holders)
    );
    let ids: Vec<i64> = diesel::sql_query(sql)
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect();
    if ids.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut by_id: HashMap<i64, (RecordRow, PlacementRow)> = placements::table
        .inner_join(records::table)
        .filter(placements::record_id.eq_any(&ids))
        .select((RecordRow::as_select(), PlacementRow::as_select()))
        .load::<(RecordRow, PlacementRow)>(conn)?
        .into_iter()
        .map(|(r, p)| (r.id, (r, p)))
        .collect();
    Ok(Some(ids.iter().filter_map(|id| by_id.remove(id)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_words_reach_the_sql_text() {
        assert_eq!(word("service:03").as_deref(), Some("'service:03'"));
        assert_eq!(word("1' OR '1'='1"), None);
        assert_eq!(word(""), None);
        let c = Cutoff {
            year: 2026,
            day: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap_or_default(),
            end: NaiveDateTime::default(),
            contact_due_before: NaiveDateTime::default(),
            graduated_before: NaiveDate::default(),
        };
        assert!(Measure::State("x'y".into()).predicate(&c).is_none());
        assert!(Measure::Milestone("contacted".into())
            .predicate(&c)
            .is_some());
    }
}
