//! Acknowledgement figures per organisation and per level of the caller's subtree: received,
//! distributed onward, acknowledged, returned, waiting unassigned, overdue packages, and the
//! median and 90th percentile time from delivery to acknowledgement.

use super::{DistError, Distribution};
use crate::authz::Caller;
use crate::authz::OrgTree;
use crate::authz::Scope;
use crate::db::packages as store;
use crate::domain::organisation::OrgLevel;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// The figures of one organisation (or one level, with `org_code` empty).
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct OrgFigures {
    pub org_code: String,
    pub org_name: String,
    pub level: String,
    /// Records delivered to it.
    pub received: i64,
    /// Records it sent onward in packages.
    pub distributed: i64,
    /// Records of its acknowledged packages, less those returned.
    pub acknowledged: i64,
    /// Records it returned.
    pub returned: i64,
    /// Records waiting at it for a person to choose where they go.
    pub unassigned: i64,
    /// Packages delivered to it and not acknowledged.
    pub open_packages: i64,
    /// Of those, the ones past their deadline.
    pub overdue_packages: i64,
    /// Hours from delivery to acknowledgement over its acknowledged packages.
    pub median_ack_hours: Option<f64>,
    pub p90_ack_hours: Option<f64>,
    #[serde(skip)]
    ack_hours: Vec<f64>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Figures {
    #[schema(value_type = String)]
    pub as_of: NaiveDate,
    /// The caller's own organisation.
    pub organisation: OrgFigures,
    /// Every organisation of the subtree with any activity, by code.
    pub organisations: Vec<OrgFigures>,
    /// Totals per level of the subtree.
    pub levels: Vec<OrgFigures>,
}

impl Distribution {
    /// The figures of the caller's subtree as of `today` (for overdue).
    pub fn figures(&self, caller: &Caller, today: NaiveDate) -> Result<Figures, DistError> {
        super::reads::require_reader(caller)?;
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        let packages = store::all_in_scope(&mut conn, &caller.scope)?;
        let unassigned = store::unassigned_counts(&mut conn, &caller.scope)?;
        let mut per_org: BTreeMap<i64, OrgFigures> = BTreeMap::new();
        for p in &packages {
            if let Some(f) = entry(&mut per_org, &tree, &caller.scope, p.receiver_org_id) {
                f.received += p.records;
                f.returned += p.returned;
                if p.state == store::PackageState::Acknowledged {
                    f.acknowledged += p.records - p.returned;
                    if let Some(at) = p.acknowledged_at {
                        f.ack_hours
                            .push((at - p.delivered_at).num_seconds() as f64 / 3600.0);
                    }
                } else {
                    f.open_packages += 1;
                    if p.deadline < today {
                        f.overdue_packages += 1;
                    }
                }
            }
            if let Some(f) = entry(&mut per_org, &tree, &caller.scope, p.sender_org_id) {
                f.distributed += p.records;
            }
        }
        for (holder, n) in unassigned {
            if let Some(f) = entry(&mut per_org, &tree, &caller.scope, holder) {
                f.unassigned += n;
            }
        }
        let mut levels: BTreeMap<usize, OrgFigures> = BTreeMap::new();
        for f in per_org.values() {
            let Some(level) = OrgLevel::parse(&f.level) else {
                continue;
            };
            let order = OrgLevel::ALL.iter().position(|l| *l == level).unwrap_or(0);
            let t = levels.entry(order).or_insert_with(|| OrgFigures {
                level: f.level.clone(),
                org_name: level.label_zh().into(),
                ..OrgFigures::default()
            });
            t.received += f.received;
            t.distributed += f.distributed;
            t.acknowledged += f.acknowledged;
            t.returned += f.returned;
            t.unassigned += f.unassigned;
            t.open_packages += f.open_packages;
            t.overdue_packages += f.overdue_packages;
            t.ack_hours.extend_from_slice(&f.ack_hours);
        }
        let finish = |mut f: OrgFigures| {
            f.ack_hours.sort_by(f64::total_cmp);
            f.median_ack_hours = percentile(&f.ack_hours, 0.5);
            f.p90_ack_hours = percentile(&f.ack_hours, 0.9);
            f
        };
        let own = per_org.get(&caller.org_id).cloned().unwrap_or_else(|| {
            let node = tree.get(caller.org_id);
            OrgFigures {
                org_code: caller.org_code.clone(),
                org_name: node.map(|n| n.name.clone()).unwrap_or_default(),
                level: caller.org_level.as_str().into(),
                ..OrgFigures::default()
            }
        });
        Ok(Figures {
            as_of: today,
            organisation: finish(own),
            organisations: per_org.into_values().map(finish).collect(),
            levels: levels.into_values().map(finish).collect(),
        })
    }
}

/// The figures row of an organisation of the scope, created on first use.
fn entry<'a>(
    per_org: &'a mut BTreeMap<i64, OrgFigures>,
    tree: &OrgTree,
    scope: &Scope,
    id: i64,
) -> Option<&'a mut OrgFigures> {
    if !scope.contains(id) {
        return None;
    }
    let node = tree.get(id)?;
    Some(per_org.entry(id).or_insert_with(|| OrgFigures {
        org_code: node.code.clone(),
        org_name: node.name.clone(),
        level: node.level.as_str().into(),
        ..OrgFigures::default()
    }))
}

/// Nearest-rank percentile of sorted values, rounded to a tenth of an hour.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some((sorted[rank - 1] * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(5.0));
        assert_eq!(percentile(&v, 0.9), Some(9.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[2.25], 0.9), Some(2.3));
    }
}
