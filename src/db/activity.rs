//! The dashboard's weekly trend, read set-based: records arriving at an organisation, records
//! acknowledged, and first contacts, each summed per day over a window (a few hundred rows).

use super::schema::{batches, followup_milestones, packages};
use super::AnyConnection;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

/// One package's part in the trend: when it was delivered and acknowledged, and its records.
pub struct PackageActivity {
    pub delivered_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub records: i64,
    pub returned: i64,
}

/// Packages delivered to `receiver` (or sent by `sender`) since `since`, or acknowledged since.
pub fn packages_since(
    conn: &mut AnyConnection,
    receiver: Option<i64>,
    sender: Option<i64>,
    since: NaiveDateTime,
) -> QueryResult<Vec<PackageActivity>> {
    let mut q = packages::table
        .filter(
            packages::delivered_at
                .ge(since)
                .or(packages::acknowledged_at.ge(since)),
        )
        .select((
            packages::delivered_at,
            packages::acknowledged_at,
            packages::records,
            packages::returned,
        ))
        .into_boxed();
    if let Some(r) = receiver {
        q = q.filter(packages::receiver_org_id.eq(r));
    }
    if let Some(s) = sender {
        q = q.filter(packages::sender_org_id.eq(s));
    }
    Ok(
        q.load::<(NaiveDateTime, Option<NaiveDateTime>, i64, i64)>(conn)?
            .into_iter()
            .map(
                |(delivered_at, acknowledged_at, records, returned)| PackageActivity {
                    delivered_at,
                    acknowledged_at,
                    records,
                    returned,
                },
            )
            .collect(),
    )
}

/// Records stored by batches finished since `since`: (finished, accepted + updated).
pub fn stored_since(
    conn: &mut AnyConnection,
    since: NaiveDateTime,
) -> QueryResult<Vec<(NaiveDateTime, i64)>> {
    Ok(batches::table
        .filter(batches::finished_at.ge(since))
        .select((batches::finished_at, batches::accepted, batches::updated))
        .load::<(NaiveDateTime, i64, i64)>(conn)?
        .into_iter()
        .map(|(at, a, u)| (at, a + u))
        .collect())
}

/// First contacts per day since `since`, of records held by `holders` (all when `None`).
pub fn contacts_per_day(
    conn: &mut AnyConnection,
    holders: Option<&[i64]>,
    since: NaiveDate,
) -> QueryResult<Vec<(NaiveDate, i64)>> {
    let mut q = followup_milestones::table
        .filter(followup_milestones::name.eq("contacted"))
        .filter(followup_milestones::reached_on.ge(since))
        .group_by(followup_milestones::reached_on)
        .select((followup_milestones::reached_on, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(ids) = holders {
        q = q.filter(followup_milestones::holder_org_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}
