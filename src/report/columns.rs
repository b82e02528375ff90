//! The columns of the 111号 summary: their ids (the drill-down filter), Chinese and English
//! headers, definitions for the 说明 sheet, and the rule each count stands for.

use crate::db::summary::Measure;
use crate::domain::codes::CodeTable;
use crate::domain::followup::{FollowupCodes, FollowupTable, CONTACTED, S1131};

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Persons; drills down to them.
    Count,
    /// A ratio of two counts of the same row, recomputed for the total (never averaged).
    Rate,
    /// Yuan; drills down to the persons granted the policy.
    Amount,
}

/// One column of the summary.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Column {
    pub id: String,
    pub header_zh: String,
    pub header_en: String,
    pub kind: ColumnKind,
    /// For a rate: the ids of its numerator and denominator.
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    /// What it counts, in Chinese (the 说明 sheet).
    pub definition: String,
    /// The column whose persons a drill-down of this one lists (itself for counts).
    pub drill: Option<String>,
}

/// The states that make up 已就业.
pub const EMPLOYED_STATES: [&str; 3] = ["21", "22", "23"];

fn count(
    id: impl Into<String>,
    zh: impl Into<String>,
    en: impl Into<String>,
    def: impl Into<String>,
) -> Column {
    let id = id.into();
    Column {
        drill: Some(id.clone()),
        id,
        header_zh: zh.into(),
        header_en: en.into(),
        kind: ColumnKind::Count,
        numerator: None,
        denominator: None,
        definition: def.into(),
    }
}

fn rate(id: &str, zh: &str, en: &str, num: &str, den: &str, def: &str) -> Column {
    Column {
        id: id.into(),
        header_zh: zh.into(),
        header_en: en.into(),
        kind: ColumnKind::Rate,
        numerator: Some(num.into()),
        denominator: Some(den.into()),
        definition: def.into(),
        drill: None,
    }
}

/// Every column, in report order, for the code tables in force.
pub fn columns(codes: &FollowupCodes) -> Vec<Column> {
    let mut c = vec![count(
        "received",
        "移交人数",
        "Records received",
        "截至统计日已入库、当前由本行机构（含下级）持有的本届毕业生记录数",
    )];
    for (code, name) in CodeTable::EducationLevel.entries() {
        let short = name.trim_end_matches("研究生").trim_start_matches("大学");
        c.push(count(
            format!("edu:{code}"),
            short,
            format!("Education {code}"),
            format!("学历为 {code} {name} 的人数"),
        ));
    }
    for (code, name) in CodeTable::Sex.entries() {
        c.push(count(
            format!("sex:{code}"),
            *name,
            format!("Sex {code}"),
            format!("性别为{name}的人数"),
        ));
    }
    c.push(count(
        "hardship",
        "困难毕业生",
        "Hardship graduates",
        "困难类别不为空的人数",
    ));
    c.push(count(
        "acknowledged",
        "已签收",
        "Acknowledged",
        "已到达县级或基层并于统计日结束前签收（分发状态为已落地）的人数",
    ));
    c.push(rate(
        "ack_rate",
        "签收率",
        "Acknowledgement rate",
        "acknowledged",
        "received",
        "已签收 ÷ 移交人数",
    ));
    c.push(count(
        "returned",
        "退回",
        "Returned",
        "曾被退回过至少一次的人数",
    ));
    c.push(count(
        "unassigned",
        "待分配",
        "Unassigned",
        "当前在待分配队列中、等待人工指定去向的人数",
    ));
    c.push(count(
        "contacted",
        "已联系",
        "Contacted",
        "统计日及以前至少有一次联系且联系上的人数",
    ));
    c.push(rate(
        "contact_rate",
        "联系率",
        "Contact rate",
        "contacted",
        "received",
        "已联系 ÷ 移交人数",
    ));
    c.push(count(
        "intention_work",
        "有就业意愿",
        "Intending to work",
        "就业意愿为 1 有就业意愿 的人数",
    ));
    c.push(count(
        "intention_not_now",
        "暂不就业",
        "Not seeking work now",
        "就业意愿为 2 暂不就业·拟升学 或 3 暂不就业·其他 的人数",
    ));
    for (code, name) in codes.entries(FollowupTable::EmploymentState) {
        c.push(count(
            format!("state:{code}"),
            name.as_str(),
            format!("State {code}"),
            format!("统计日当天就业状态为 {code} {name} 的人数（当天及以前最后一次登记的状态）"),
        ));
    }
    c.push(count(
        "employed",
        "已就业",
        "Employed",
        "统计日当天就业状态为 21 单位就业、22 灵活就业 或 23 自主创业 的人数",
    ));
    c.push(rate(
        "employment_rate",
        "就业率",
        "Employment rate",
        "employed",
        "received",
        "已就业 ÷ 移交人数",
    ));
    for (code, name) in codes.entries(FollowupTable::ServiceType) {
        c.push(count(
            format!("service:{code}"),
            format!("{name}人数"),
            format!("Served {code}"),
            format!("统计日及以前至少接受过一次 {code} {name} 的人数（按人计，不按次）"),
        ));
    }
    c.push(count(
        S1131,
        "1131达标人数",
        "1131 reached",
        "统计日及以前已接受至少 1 次职业指导、3 次职业介绍/岗位推荐、1 次职业培训或就业见习的人数",
    ));
    c.push(rate(
        "1131_rate",
        "1131达标率",
        "1131 rate",
        S1131,
        "intention_work",
        "1131达标人数 ÷ 有就业意愿人数",
    ));
    for (code, name) in codes.entries(FollowupTable::PolicyType) {
        c.push(count(
            format!("policy:{code}"),
            format!("{name}人数"),
            format!("Granted {code}"),
            format!("统计日及以前至少享受过一次 {code} {name} 的人数（按人计）"),
        ));
        c.push(Column {
            id: format!("amount:{code}"),
            header_zh: format!("{name}金额(元)"),
            header_en: format!("Amount {code} (yuan)"),
            kind: ColumnKind::Amount,
            numerator: None,
            denominator: None,
            definition: format!("统计日及以前发放的 {code} {name} 金额合计（元）"),
            drill: Some(format!("policy:{code}")),
        });
    }
    c.push(count(
        "overdue_contact",
        "超期未联系",
        "Not contacted in time",
        "在县级或基层机构、到达（送达、签收或分配，取最后一次）后已超过首次联系期限（工作日）而统计日仍未联系上的人数",
    ));
    c.push(count(
        "overdue_1131",
        "半年内1131未达标",
        "1131 not reached in six months",
        "有就业意愿、毕业日期早于统计日前六个月、且毕业后六个月内未达到 1131 服务的人数",
    ));
    c
}

/// The rule a count column's id stands for; `None` for an id no column has.
pub fn measure(id: &str) -> Option<Measure> {
    let word = |s: &str| s.to_string();
    Some(match id {
        "received" => Measure::Received,
        "hardship" => Measure::Hardship,
        "acknowledged" => Measure::Acknowledged,
        "returned" => Measure::Returned,
        "unassigned" => Measure::Unassigned,
        "intention_work" => Measure::IntentionWork,
        "intention_not_now" => Measure::IntentionNotNow,
        CONTACTED => Measure::Milestone(CONTACTED.into()),
        S1131 => Measure::Milestone(S1131.into()),
        "employed" => Measure::StateIn(EMPLOYED_STATES.iter().map(|s| word(s)).collect()),
        "overdue_contact" => Measure::OverdueContact,
        "overdue_1131" => Measure::Overdue1131,
        _ => {
            let (prefix, code) = id.split_once(':')?;
            match prefix {
                "edu" => Measure::Education(word(code)),
                "sex" => Measure::Sex(word(code)),
                "state" => Measure::State(word(code)),
                "service" | "policy" => Measure::Milestone(id.to_string()),
                _ => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_is_defined_in_the_docs_and_drills_into_a_rule() {
        let docs = include_str!("../../docs/followup.md");
        for c in columns(&FollowupCodes::builtin()) {
            let family = c.id.split_once(':').map(|(p, _)| format!("`{p}:"));
            assert!(
                docs.contains(&format!("`{}`", c.id)) || family.is_some_and(|f| docs.contains(&f)),
                "docs/followup.md does not define column {}",
                c.id
            );
            match c.kind {
                ColumnKind::Rate => assert!(c.drill.is_none() && c.numerator.is_some()),
                _ => assert!(
                    c.drill.as_deref().and_then(measure).is_some(),
                    "{} drills into no rule",
                    c.id
                ),
            }
        }
    }
}
