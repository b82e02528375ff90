//! Distribution packages, record placements and hops as stored: the set-based statements the
//! distribution service runs (never one round trip per record), and the scoped reads.

use super::records::RecordRow;
use super::schema::{batch_placements, batches, packages, placements, record_hops, records};
use super::words::text_enum;
use super::AnyConnection;
use crate::authz::Scope;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

text_enum! {
    /// Where a record stands at its holder.
    pub enum PlacementState {
        /// Waiting for a person to choose where it goes (待分配).
        Unassigned = "unassigned",
        /// Waiting to be cut downward.
        Queued = "queued",
        /// Delivered in a package and awaiting acknowledgement.
        Pending = "pending",
        /// Arrived where it belongs (a county or grassroots point).
        Settled = "settled",
    }
}

text_enum! {
    /// Where a package stands.
    pub enum PackageState {
        /// Delivered to the receiver's inbox, not acknowledged yet.
        Delivered = "delivered",
        /// Acknowledged (签收) by the receiver.
        Acknowledged = "acknowledged",
    }
}

text_enum! {
    /// What became of a record in one package.
    pub enum HopOutcome {
        Pending = "pending",
        Acknowledged = "acknowledged",
        Returned = "returned",
    }
}

text_enum! {
    /// How a record moved: placed at the hub, delivered in a package, assigned by hand, or
    /// registered by the county or grassroots office that found the graduate itself (LD/T
    /// 6009-2024 §4.2 其他渠道), which then holds it.
    pub enum HopKind {
        Placed = "placed",
        Delivered = "delivered",
        Assigned = "assigned",
        Registered = "registered",
    }
}

/// Rows per IN list: well under SQLite's bound-parameter limit.
const IN_CHUNK: usize = 500;

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = packages)]
pub struct PackageRow {
    pub id: i64,
    pub sender_org_id: i64,
    pub receiver_org_id: i64,
    pub receiver_seq: i64,
    pub state: PackageState,
    pub records: i64,
    pub returned: i64,
    pub delivered_at: NaiveDateTime,
    pub delivered_on: NaiveDate,
    pub deadline: NaiveDate,
    pub escalation_deadline: NaiveDate,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub acknowledged_by: Option<String>,
    pub reminded_at: Option<NaiveDateTime>,
    pub escalated_at: Option<NaiveDateTime>,
    pub created_by: String,
    /// The deadlines were counted over a year whose holiday schedule was not loaded (暂定).
    pub deadline_provisional: bool,
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = placements)]
pub struct PlacementRow {
    pub record_id: i64,
    pub holder_org_id: i64,
    pub target_org_id: i64,
    pub state: PlacementState,
    pub package_id: Option<i64>,
    pub returns: i32,
    pub reason: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, serde::Serialize, utoipa::ToSchema)]
#[diesel(table_name = record_hops)]
pub struct HopRow {
    /// The hop's row; 0 for a placing at the hub kept on the placement (see [`record_path_in_scope`]).
    pub id: i64,
    pub record_id: i64,
    pub package_id: Option<i64>,
    pub kind: HopKind,
    pub from_org_id: Option<i64>,
    pub to_org_id: i64,
    pub actor: String,
    pub at: NaiveDateTime,
    pub outcome: Option<HopOutcome>,
    pub reason: Option<String>,
    pub outcome_by: Option<String>,
    pub outcome_at: Option<NaiveDateTime>,
}

/// A package about to be delivered.
#[derive(Insertable)]
#[diesel(table_name = packages)]
pub struct NewPackage<'a> {
    pub sender_org_id: i64,
    pub receiver_org_id: i64,
    pub receiver_seq: i64,
    pub state: PackageState,
    pub records: i64,
    pub returned: i64,
    pub delivered_at: NaiveDateTime,
    pub delivered_on: NaiveDate,
    pub deadline: NaiveDate,
    pub escalation_deadline: NaiveDate,
    pub deadline_provisional: bool,
    pub created_by: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Placing new records

/// Batches whose records have not been placed yet, oldest first.
pub fn unplaced_batches(conn: &mut AnyConnection) -> QueryResult<Vec<i64>> {
    batches::table
        .left_join(batch_placements::table.on(batch_placements::batch_id.eq(batches::id)))
        .filter(batch_placements::batch_id.is_null())
        .select(batches::id)
        .order(batches::id)
        .load(conn)
}

/// Marks a batch placed; `false` when another node got there first (then do nothing more).
pub fn mark_batch_placed(
    conn: &mut AnyConnection,
    batch_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let values = (
        batch_placements::batch_id.eq(batch_id),
        batch_placements::records.eq(0i64),
        batch_placements::placed_at.eq(now),
    );
    let n = on_backend!(conn, |c| diesel::insert_into(batch_placements::table)
        .values(values)
        .on_conflict(batch_placements::batch_id)
        .do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// The organisation a record placed at the hub is meant for: that of its deepest routed
/// division (`NULL` when no division of its route is an organisation).
const PLACE_TARGET: &str = "COALESCE(oc.id, op.id, opr.id)";
/// The records of batch `$3` without a placement, joined to the organisations of their route.
const UNPLACED_OF_BATCH: &str = "FROM records r \
     LEFT JOIN orgs oc ON oc.division_code = r.route_county \
     LEFT JOIN orgs op ON op.division_code = r.route_prefecture \
     LEFT JOIN orgs opr ON opr.division_code = r.route_province";
/// The condition that keeps the records of batch `batch_id` without a placement.
fn unplaced_of(batch_id: i64) -> String {
    format!("r.batch_id = {batch_id} AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.record_id = r.id)")
}

#[derive(QueryableByName)]
struct TargetCount {
    #[diesel(sql_type = Nullable<BigInt>)]
    target: Option<i64>,
    #[diesel(sql_type = BigInt)]
    records: i64,
}

/// The targets (see [`place_batch`]) of the batch's records not placed yet, with how many
/// records each; `None` for the records no organisation matches.
pub fn unplaced_targets(
    conn: &mut AnyConnection,
    batch_id: i64,
) -> QueryResult<Vec<(Option<i64>, i64)>> {
    let rows: Vec<TargetCount> = diesel::sql_query(format!(
        "SELECT {PLACE_TARGET} AS target, COUNT(*) AS records {UNPLACED_OF_BATCH} \
         WHERE {} GROUP BY {PLACE_TARGET}",
        unplaced_of(batch_id)
    ))
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.target, r.records)).collect())
}

/// Where records placed at the hub go at once: into package `package_id` for `receiver`, by
/// their target organisation (the ministry's packages, cut in the same step as the placing).
pub struct Delivery {
    pub target: i64,
    pub package_id: i64,
    pub receiver: i64,
}

/// Fills the connection's temporary delivery map that [`place_batch`] joins (made on first use;
/// on PostgreSQL its rows go at commit).
fn set_delivery_map(conn: &mut AnyConnection, map: &[Delivery]) -> QueryResult<()> {
    let create = match conn {
        AnyConnection::Postgresql(_) => {
            "CREATE TEMP TABLE IF NOT EXISTS delivery_map (target_org_id BIGINT PRIMARY KEY, \
             package_id BIGINT NOT NULL, receiver_org_id BIGINT NOT NULL) ON COMMIT DELETE ROWS"
        }
        AnyConnection::Sqlite(_) => {
            "CREATE TEMP TABLE IF NOT EXISTS delivery_map (target_org_id INTEGER PRIMARY KEY, \
             package_id INTEGER NOT NULL, receiver_org_id INTEGER NOT NULL)"
        }
    };
    diesel::sql_query(create).execute(conn)?;
    diesel::sql_query("DELETE FROM delivery_map").execute(conn)?;
    for chunk in map.chunks(IN_CHUNK) {
        // Ids the database gave: numbers only, so they are written into the statement.
        let values: Vec<String> = chunk
            .iter()
            .map(|d| format!("({}, {}, {})", d.target, d.package_id, d.receiver))
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO delivery_map (target_org_id, package_id, receiver_org_id) VALUES {}",
            values.join(", ")
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// Places the batch's records that have no placement yet at the hub (`root`): each gets as target
/// the organisation of its deepest routed division; records with no route wait unassigned at the
/// hub with their routing note. The placing hop (by `placer`) is kept on the placement itself
/// (see [`record_path_in_scope`]). Records whose target is in `deliver` go straight into that package, pending
/// at its receiver, with a hop for the delivery (by `cutter`): what cutting the hub's packages
/// would do, without writing each placement twice. Returns how many were placed.
pub fn place_batch(
    conn: &mut AnyConnection,
    batch_id: i64,
    root: i64,
    deliver: &[Delivery],
    (placer, cutter): (&str, &str),
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = PLACE_TARGET;
    let (unassigned, queued, pending) = (
        PlacementState::Unassigned,
        PlacementState::Queued,
        PlacementState::Pending,
    );
    let delivering = !deliver.is_empty();
    let (map_join, holder, state, package) = if delivering {
        set_delivery_map(conn, deliver)?;
        (
            format!("LEFT JOIN delivery_map m ON m.target_org_id = {target}"),
            "COALESCE(m.receiver_org_id, $1)",
            format!("WHEN m.package_id IS NOT NULL THEN '{pending}' "),
            "m.package_id",
        )
    } else {
        (String::new(), "$1", String::new(), "null")
    };
    // Placeholders are numbered in the order they appear: SQLite binds `$n` by first appearance.
    let placed = diesel::sql_query(format!(
        "INSERT INTO placements (record_id, holder_org_id, target_org_id, state, package_id, returns, reason, updated_at, \
                                 placed_at, placed_by, {RECORD_COPIES}) \
         SELECT r.id, {holder}, COALESCE({target}, $1), \
                CASE {state}WHEN {target} IS NULL THEN '{unassigned}' ELSE '{queued}' END, \
                {package}, 0, \
                CASE WHEN {target} IS NULL THEN COALESCE(r.route_note, r.route_method) ELSE NULL END, $2, \
                $2, $3, {RECORD_COPY_VALUES} \
         {UNPLACED_OF_BATCH} {map_join} \
         WHERE {}",
        unplaced_of(batch_id)
    ))
    .bind::<BigInt, _>(root)
    .bind::<Timestamp, _>(now)
    .bind::<Text, _>(placer)
    .execute(conn)?;
    if delivering {
        let (delivered, outcome) = (HopKind::Delivered, HopOutcome::Pending);
        diesel::sql_query(format!(
            "INSERT INTO record_hops (record_id, package_id, kind, from_org_id, to_org_id, actor, at, outcome) \
             SELECT p.record_id, p.package_id, '{delivered}', $1, p.holder_org_id, $2, $3, '{outcome}' \
             FROM placements p WHERE p.package_id IN (SELECT package_id FROM delivery_map) \
             ORDER BY p.package_id, p.record_id"
        ))
        .bind::<BigInt, _>(root)
        .bind::<Text, _>(cutter)
        .bind::<Timestamp, _>(now)
        .execute(conn)?;
    }
    diesel::update(batch_placements::table.filter(batch_placements::batch_id.eq(batch_id)))
        .set(batch_placements::records.eq(placed as i64))
        .execute(conn)?;
    // People the batch replaced were placed before: their copies follow the new version. Only
    // those (first stored by an earlier batch): the rows placed just now copied theirs already,
    // and rewriting them would double the cost of placing a new batch.
    copy_record_attributes(
        conn,
        &format!("r.batch_id = {batch_id} AND r.first_batch_id <> {batch_id}"),
    )?;
    Ok(placed)
}

/// The placement columns that copy the record (see the `summary_copies` migration).
const RECORD_COPIES: &str =
    "graduation_year, stored_at, education_level, sex, hardship, intention, graduation_date";
/// Their values from the record `r`.
const RECORD_COPY_VALUES: &str = "r.graduation_year, r.created_at, r.education_level, r.sex, \
     (r.hardship IS NOT NULL AND r.hardship <> ''), r.intention, r.graduation_date";

/// Writes the record copies of the placements of the records `r` matching `which` (an SQL
/// condition the program builds from ids).
pub fn copy_record_attributes(conn: &mut AnyConnection, which: &str) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "UPDATE placements SET graduation_year = r.graduation_year, stored_at = r.created_at, \
         education_level = r.education_level, sex = r.sex, \
         hardship = (r.hardship IS NOT NULL AND r.hardship <> ''), intention = r.intention, \
         graduation_date = r.graduation_date \
         FROM records r WHERE r.id = placements.record_id AND {which}"
    ))
    .execute(conn)
}

/// The follow-up rows of the records of `which` (an SQL condition on `placements`) move with
/// them to `holder`: only records with follow-up (`has_followup`) have any.
fn move_followup(conn: &mut AnyConnection, which: &str, holder: i64) -> QueryResult<()> {
    for table in ["followup_events", "followup_milestones", "followup_states"] {
        diesel::sql_query(format!(
            "UPDATE {table} SET holder_org_id = {holder} WHERE record_id IN \
             (SELECT record_id FROM placements WHERE has_followup AND {which})"
        ))
        .execute(conn)?;
    }
    Ok(())
}

/// Sets how many records a placed batch placed.
pub fn set_batch_placed_records(
    conn: &mut AnyConnection,
    batch_id: i64,
    records: i64,
) -> QueryResult<usize> {
    diesel::update(batch_placements::table.filter(batch_placements::batch_id.eq(batch_id)))
        .set(batch_placements::records.eq(records))
        .execute(conn)
}

/// A record's placement, if it has one yet (the records of a batch not placed yet have none).
pub fn placement_of(conn: &mut AnyConnection, record_id: i64) -> QueryResult<Option<PlacementRow>> {
    placements::table
        .filter(placements::record_id.eq(record_id))
        .select(PlacementRow::as_select())
        .first(conn)
        .optional()
}

/// Places a record an office registered itself at that office (holder and target), settled
/// there, and writes its `registered` hop. `from` is the placement it is taken from, or `None`
/// for a record that has none yet. A record taken from a holder above moves only if it is still
/// where it was read, waiting there (queued or unassigned, in no package): `false` when it has
/// moved since (a cut put it in a package), so the caller refuses instead of taking it out of
/// a package. Inserting where another writer placed the record first is a unique violation.
pub fn place_registered(
    conn: &mut AnyConnection,
    record_id: i64,
    org: i64,
    from: Option<&PlacementRow>,
    actor: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    match from {
        None => {
            diesel::insert_into(placements::table)
                .values((
                    placements::record_id.eq(record_id),
                    placements::holder_org_id.eq(org),
                    placements::target_org_id.eq(org),
                    placements::state.eq(PlacementState::Settled),
                    placements::package_id.eq(None::<i64>),
                    placements::returns.eq(0),
                    placements::reason.eq(None::<String>),
                    placements::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Some(was) => {
            let moved = diesel::update(
                placements::table
                    .filter(placements::record_id.eq(record_id))
                    .filter(placements::holder_org_id.eq(was.holder_org_id))
                    .filter(placements::package_id.is_null())
                    .filter(
                        placements::state
                            .eq_any([PlacementState::Queued, PlacementState::Unassigned]),
                    ),
            )
            .set((
                placements::holder_org_id.eq(org),
                placements::target_org_id.eq(org),
                placements::state.eq(PlacementState::Settled),
                placements::reason.eq(None::<String>),
                placements::updated_at.eq(now),
            ))
            .execute(conn)?;
            if moved == 0 {
                return Ok(false);
            }
            move_followup(conn, &format!("record_id = {record_id}"), org)?;
        }
    }
    diesel::insert_into(record_hops::table)
        .values((
            record_hops::record_id.eq(record_id),
            record_hops::package_id.eq(None::<i64>),
            record_hops::kind.eq(HopKind::Registered),
            record_hops::from_org_id.eq(from.map(|p| p.holder_org_id)),
            record_hops::to_org_id.eq(org),
            record_hops::actor.eq(actor),
            record_hops::at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

// ---------------------------------------------------------------------------------------------
// Cutting and delivering

/// Holders with records waiting to be cut.
pub fn holders_with_queued(conn: &mut AnyConnection) -> QueryResult<Vec<i64>> {
    placements::table
        .filter(placements::state.eq(PlacementState::Queued))
        .select(placements::holder_org_id)
        .distinct()
        .load(conn)
}

/// Waiting records of one holder, counted per target organisation.
pub fn queued_targets(conn: &mut AnyConnection, holder: i64) -> QueryResult<Vec<(i64, i64)>> {
    placements::table
        .filter(placements::holder_org_id.eq(holder))
        .filter(placements::state.eq(PlacementState::Queued))
        .group_by(placements::target_org_id)
        .select((placements::target_org_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Locks the holder's row for the rest of the transaction (PostgreSQL), so two nodes cutting
/// for the same holder take turns; SQLite's write lock already does.
pub fn lock_org(conn: &mut AnyConnection, org_id: i64) -> QueryResult<()> {
    if let AnyConnection::Postgresql(c) = conn {
        use super::schema::orgs;
        orgs::table
            .filter(orgs::id.eq(org_id))
            .select(orgs::id)
            .for_update()
            .load::<i64>(c)?;
    }
    Ok(())
}

/// Queued records of `holder` whose target is in `targets` become unassigned at the holder
/// (nobody below to send them to without a person's choice).
pub fn hold_unassigned(
    conn: &mut AnyConnection,
    holder: i64,
    targets: &[i64],
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in targets.chunks(IN_CHUNK) {
        n += diesel::update(
            placements::table
                .filter(placements::holder_org_id.eq(holder))
                .filter(placements::state.eq(PlacementState::Queued))
                .filter(placements::target_org_id.eq_any(chunk)),
        )
        .set((
            placements::state.eq(PlacementState::Unassigned),
            placements::reason.eq(reason),
            placements::updated_at.eq(now),
        ))
        .execute(conn)?;
    }
    Ok(n)
}

pub fn insert_package(conn: &mut AnyConnection, p: &NewPackage<'_>) -> QueryResult<i64> {
    on_backend!(conn, |c| diesel::insert_into(packages::table)
        .values(p)
        .returning(packages::id)
        .get_result(c))
}

/// Which records go into a package being delivered.
pub enum Selection<'a> {
    /// Queued records of the holder whose targets are these.
    Targets(&'a [i64]),
    /// These records of the holder, if queued, unassigned or settled there.
    Records(&'a [i64]),
}

/// Moves the selected records of `holder` into package `package_id` for `receiver`, writes one
/// hop each, and returns how many moved.
pub fn fill_package(
    conn: &mut AnyConnection,
    holder: i64,
    receiver: i64,
    package_id: i64,
    selection: Selection<'_>,
    actor: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut moved = 0;
    let set = (
        placements::holder_org_id.eq(receiver),
        placements::state.eq(PlacementState::Pending),
        placements::package_id.eq(Some(package_id)),
        placements::reason.eq(None::<String>),
        placements::updated_at.eq(now),
    );
    match selection {
        Selection::Targets(targets) => {
            for chunk in targets.chunks(IN_CHUNK) {
                moved += diesel::update(
                    placements::table
                        .filter(placements::holder_org_id.eq(holder))
                        .filter(placements::state.eq(PlacementState::Queued))
                        .filter(placements::target_org_id.eq_any(chunk)),
                )
                .set(set.clone())
                .execute(conn)?;
            }
        }
        Selection::Records(ids) => {
            for chunk in ids.chunks(IN_CHUNK) {
                moved += diesel::update(
                    placements::table
                        .filter(placements::holder_org_id.eq(holder))
                        .filter(placements::state.eq_any([
                            PlacementState::Queued,
                            PlacementState::Unassigned,
                            PlacementState::Settled,
                        ]))
                        .filter(placements::record_id.eq_any(chunk)),
                )
                .set(set.clone())
                .execute(conn)?;
            }
        }
    }
    move_followup(conn, &format!("package_id = {package_id}"), receiver)?;
    let (delivered, pending) = (HopKind::Delivered, HopOutcome::Pending);
    diesel::sql_query(format!(
        "INSERT INTO record_hops (record_id, package_id, kind, from_org_id, to_org_id, actor, at, outcome) \
         SELECT record_id, $1, '{delivered}', $2, $3, $4, $5, '{pending}' FROM placements WHERE package_id = $1"
    ))
    .bind::<BigInt, _>(package_id)
    .bind::<BigInt, _>(holder)
    .bind::<BigInt, _>(receiver)
    .bind::<Text, _>(actor)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(moved)
}

pub fn set_package_records(conn: &mut AnyConnection, id: i64, n: i64) -> QueryResult<usize> {
    diesel::update(packages::table.filter(packages::id.eq(id)))
        .set(packages::records.eq(n))
        .execute(conn)
}

pub fn delete_package(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(packages::table.filter(packages::id.eq(id))).execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Acknowledging and returning

pub fn get(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<PackageRow>> {
    packages::table
        .filter(packages::id.eq(id))
        .select(PackageRow::as_select())
        .first(conn)
        .optional()
}

/// A package the scope may see: it was sent or received by an organisation of the scope.
pub fn get_scoped(
    conn: &mut AnyConnection,
    scope: &Scope,
    id: i64,
) -> QueryResult<Option<PackageRow>> {
    let row = get(conn, id)?;
    Ok(row.filter(|p| scope.contains(p.receiver_org_id) || scope.contains(p.sender_org_id)))
}

/// Records of a package still awaiting acknowledgement that are among `ids`.
pub fn pending_in_package(
    conn: &mut AnyConnection,
    package_id: i64,
    ids: &[i64],
) -> QueryResult<Vec<i64>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        out.extend(
            record_hops::table
                .filter(record_hops::package_id.eq(package_id))
                .filter(record_hops::outcome.eq(HopOutcome::Pending))
                .filter(record_hops::record_id.eq_any(chunk))
                .select(record_hops::record_id)
                .load::<i64>(conn)?,
        );
    }
    Ok(out)
}

/// Returns one record of a package to the package's sender, unassigned there.
pub fn return_record(
    conn: &mut AnyConnection,
    package: &PackageRow,
    record_id: i64,
    reason: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        record_hops::table
            .filter(record_hops::package_id.eq(package.id))
            .filter(record_hops::record_id.eq(record_id))
            .filter(record_hops::outcome.eq(HopOutcome::Pending)),
    )
    .set((
        record_hops::outcome.eq(HopOutcome::Returned),
        record_hops::reason.eq(reason),
        record_hops::outcome_by.eq(by),
        record_hops::outcome_at.eq(now),
    ))
    .execute(conn)?;
    let n = diesel::update(
        placements::table
            .filter(placements::record_id.eq(record_id))
            .filter(placements::package_id.eq(package.id)),
    )
    .set((
        placements::holder_org_id.eq(package.sender_org_id),
        placements::state.eq(PlacementState::Unassigned),
        placements::package_id.eq(None::<i64>),
        placements::returns.eq(placements::returns + 1),
        placements::reason.eq(format!("退回 returned: {reason}")),
        placements::updated_at.eq(now),
    ))
    .execute(conn)?;
    move_followup(
        conn,
        &format!("record_id = {record_id}"),
        package.sender_org_id,
    )?;
    Ok(n)
}

pub fn add_returned(conn: &mut AnyConnection, id: i64, n: i64) -> QueryResult<usize> {
    diesel::update(packages::table.filter(packages::id.eq(id)))
        .set(packages::returned.eq(packages::returned + n))
        .execute(conn)
}

/// Marks the package acknowledged and its pending records arrived: queued again where their
/// target lies further down, else settled (a county or grassroots point) or unassigned (a
/// higher level that must choose the county by hand).
pub fn acknowledge(
    conn: &mut AnyConnection,
    package: &PackageRow,
    final_level: bool,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let n = diesel::update(
        packages::table
            .filter(packages::id.eq(package.id))
            .filter(packages::state.eq(PackageState::Delivered)),
    )
    .set((
        packages::state.eq(PackageState::Acknowledged),
        packages::acknowledged_at.eq(now),
        packages::acknowledged_by.eq(by),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(0);
    }
    diesel::update(
        record_hops::table
            .filter(record_hops::package_id.eq(package.id))
            .filter(record_hops::outcome.eq(HopOutcome::Pending)),
    )
    .set((
        record_hops::outcome.eq(HopOutcome::Acknowledged),
        record_hops::outcome_by.eq(by),
        record_hops::outcome_at.eq(now),
    ))
    .execute(conn)?;
    let (queued, pending, settled) = (
        PlacementState::Queued,
        PlacementState::Pending,
        PlacementState::Settled,
    );
    let arrived = if final_level {
        settled
    } else {
        PlacementState::Unassigned
    };
    diesel::sql_query(format!(
        "UPDATE placements SET state = CASE WHEN target_org_id <> holder_org_id THEN '{queued}' ELSE '{arrived}' END, \
         reason = CASE WHEN target_org_id <> holder_org_id OR '{arrived}' = '{settled}' THEN NULL \
                  ELSE '路由只到本级，需人工分配到下级 / routed only to this level: choose the level below' END, \
         updated_at = $1 WHERE package_id = $2 AND state = '{pending}'"
    ))
    .bind::<Timestamp, _>(now)
    .bind::<BigInt, _>(package.id)
    .execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Assigning by hand

/// Gives records held by `holder` (unassigned or settled there) a new target and queues them.
/// Returns the ids that were changed.
pub fn assign(
    conn: &mut AnyConnection,
    holder: i64,
    record_ids: &[i64],
    target: i64,
    actor: &str,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let mut changed = Vec::new();
    for chunk in record_ids.chunks(IN_CHUNK) {
        let ids: Vec<i64> = placements::table
            .filter(placements::holder_org_id.eq(holder))
            .filter(placements::state.eq_any([
                PlacementState::Unassigned,
                PlacementState::Settled,
                PlacementState::Queued,
            ]))
            .filter(placements::record_id.eq_any(chunk))
            .select(placements::record_id)
            .load(conn)?;
        if ids.is_empty() {
            continue;
        }
        diesel::update(placements::table.filter(placements::record_id.eq_any(&ids)))
            .set((
                placements::target_org_id.eq(target),
                placements::state.eq(PlacementState::Queued),
                placements::reason.eq(None::<String>),
                placements::updated_at.eq(now),
            ))
            .execute(conn)?;
        let hops: Vec<_> = ids
            .iter()
            .map(|id| {
                (
                    record_hops::record_id.eq(*id),
                    record_hops::kind.eq(HopKind::Assigned),
                    record_hops::from_org_id.eq(Some(holder)),
                    record_hops::to_org_id.eq(target),
                    record_hops::actor.eq(actor),
                    record_hops::at.eq(now),
                )
            })
            .collect();
        on_backend!(&mut *conn, |c| diesel::insert_into(record_hops::table)
            .values(&hops)
            .execute(c))?;
        changed.extend(ids);
    }
    Ok(changed)
}

/// (record, target) of those of `ids` the holder has waiting, unassigned or settled.
pub fn held_targets(
    conn: &mut AnyConnection,
    holder: i64,
    ids: &[i64],
) -> QueryResult<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        out.extend(
            placements::table
                .filter(placements::holder_org_id.eq(holder))
                .filter(placements::state.eq_any([
                    PlacementState::Queued,
                    PlacementState::Unassigned,
                    PlacementState::Settled,
                ]))
                .filter(placements::record_id.eq_any(chunk))
                .select((placements::record_id, placements::target_org_id))
                .load::<(i64, i64)>(conn)?,
        );
    }
    Ok(out)
}

/// Points records at a new target (their state is left alone).
pub fn retarget(
    conn: &mut AnyConnection,
    ids: &[i64],
    target: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut n = 0;
    for chunk in ids.chunks(IN_CHUNK) {
        n += diesel::update(placements::table.filter(placements::record_id.eq_any(chunk)))
            .set((
                placements::target_org_id.eq(target),
                placements::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// Scoped reads

/// A receiver's packages after an inbox position, in delivery order (the exchange cursor).
pub fn inbox(
    conn: &mut AnyConnection,
    receiver: i64,
    after_seq: i64,
    state: Option<PackageState>,
    limit: i64,
) -> QueryResult<Vec<PackageRow>> {
    let mut q = packages::table
        .filter(packages::receiver_org_id.eq(receiver))
        .filter(packages::receiver_seq.gt(after_seq))
        .order(packages::receiver_seq)
        .limit(limit)
        .select(PackageRow::as_select())
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(packages::state.eq(s));
    }
    q.load(conn)
}

/// Packages an organisation sent, newest first.
pub fn outbox_of(
    conn: &mut AnyConnection,
    sender: i64,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<PackageRow>> {
    let mut q = packages::table
        .filter(packages::sender_org_id.eq(sender))
        .order(packages::id.desc())
        .limit(limit)
        .select(PackageRow::as_select())
        .into_boxed();
    if let Some(b) = before_id {
        q = q.filter(packages::id.lt(b));
    }
    q.load(conn)
}

/// Every package sent or received inside the scope (for the figures; a few thousand a year).
pub fn all_in_scope(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<PackageRow>> {
    let mut q = packages::table.select(PackageRow::as_select()).into_boxed();
    if let Some(ids) = scope.ids() {
        q = q.filter(
            packages::receiver_org_id
                .eq_any(ids.to_vec())
                .or(packages::sender_org_id.eq_any(ids.to_vec())),
        );
    }
    q.load(conn)
}

/// A record of a package with its outcome there and the reason it was returned, if it was.
pub type PackageRecordRow = (RecordRow, Option<HopOutcome>, Option<String>);

/// A package's records after a record id, in id order, with each one's hop outcome.
pub fn package_records(
    conn: &mut AnyConnection,
    package_id: i64,
    after_record: i64,
    limit: i64,
) -> QueryResult<Vec<PackageRecordRow>> {
    // Two steps: the page of ids from the package's index, then those records by key. One join
    // lets the planner walk `records` from its first row, which is slow with millions stored.
    let hops: Vec<(i64, Option<HopOutcome>, Option<String>)> = record_hops::table
        .filter(record_hops::package_id.eq(package_id))
        .filter(record_hops::record_id.gt(after_record))
        .order(record_hops::record_id)
        .limit(limit)
        .select((
            record_hops::record_id,
            record_hops::outcome,
            record_hops::reason,
        ))
        .load(conn)?;
    let ids: Vec<i64> = hops.iter().map(|h| h.0).collect();
    let mut by_id = records_by_id(conn, &ids)?;
    Ok(hops
        .into_iter()
        .filter_map(|(id, outcome, reason)| by_id.remove(&id).map(|r| (r, outcome, reason)))
        .collect())
}

fn records_by_id(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, RecordRow>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(records::table
        .filter(records::id.eq_any(ids))
        .select(RecordRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect())
}

/// Records held in the scope, in id order after `after`, optionally in one state or held by one
/// organisation.
pub fn held_records(
    conn: &mut AnyConnection,
    scope: &Scope,
    holder: Option<i64>,
    state: Option<PlacementState>,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<(RecordRow, PlacementRow)>> {
    // The page's ids first, from the primary key alone: on PostgreSQL it carries the holder and
    // the state (`INCLUDE`), so finding 50 records of a province among millions reads index
    // pages only, not one table page for each placement passed over. Then those records and
    // their placements by key.
    let mut page = placements::table
        .filter(placements::record_id.gt(after))
        .order(placements::record_id)
        .limit(limit)
        .select(placements::record_id)
        .into_boxed();
    if let Some(ids) = scope.ids() {
        page = page.filter(placements::holder_org_id.eq_any(ids.to_vec()));
    }
    if let Some(h) = holder {
        page = page.filter(placements::holder_org_id.eq(h));
    }
    if let Some(s) = state {
        page = page.filter(placements::state.eq(s));
    }
    let ids: Vec<i64> = page.load(conn)?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(RecordRow, PlacementRow)> = records::table
        .inner_join(placements::table)
        .filter(records::id.eq_any(ids))
        .order(records::id)
        .select((RecordRow::as_select(), PlacementRow::as_select()))
        .load(conn)?;
    // A record sent on between the two reads is left out, as the first read would have.
    Ok(rows
        .into_iter()
        .filter(|(_, p)| {
            scope.contains(p.holder_org_id)
                && holder.is_none_or(|h| p.holder_org_id == h)
                && state.is_none_or(|s| p.state == s)
        })
        .collect())
}

/// What a record search looks for.
pub enum SearchKey<'a> {
    /// A person's ID number (the `person_key` of an 18-character resident ID).
    Person(&'a str),
    /// A name or a school name, exactly.
    NameOrSchool(&'a str),
}

/// Records held in the scope that match `key`, in id order after `after`.
pub fn search_held(
    conn: &mut AnyConnection,
    scope: &Scope,
    key: SearchKey<'_>,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<(RecordRow, PlacementRow)>> {
    let mut q = records::table
        .inner_join(placements::table)
        .filter(records::id.gt(after))
        .order(records::id)
        .limit(limit)
        .select((RecordRow::as_select(), PlacementRow::as_select()))
        .into_boxed();
    q = match key {
        SearchKey::Person(k) => q.filter(
            records::person_key
                .eq(k.to_string())
                .or(records::id_number.eq(k.to_string())),
        ),
        SearchKey::NameOrSchool(v) => q.filter(
            records::name
                .eq(v.to_string())
                .or(records::school_name.eq(v.to_string())),
        ),
    };
    if let Some(ids) = scope.ids() {
        q = q.filter(placements::holder_org_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}

/// One record with its placement, if held in the scope.
pub fn record_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    record_id: i64,
) -> QueryResult<Option<(RecordRow, PlacementRow)>> {
    let row: Option<(RecordRow, PlacementRow)> = placements::table
        .inner_join(records::table)
        .filter(placements::record_id.eq(record_id))
        .select((RecordRow::as_select(), PlacementRow::as_select()))
        .first(conn)
        .optional()?;
    Ok(row.filter(|(_, p)| scope.contains(p.holder_org_id)))
}

/// A record in the scope with its placement and every hop of its path, in order, read in one
/// statement. Its placing at the hub (`root`) comes first: kept on the placement since the
/// `placed_on_placement` migration, it is returned as a hop with id 0; placings written before
/// that are rows of `record_hops` like the other hops.
pub fn record_path_in_scope(
    conn: &mut AnyConnection,
    scope: &Scope,
    record_id: i64,
    root: i64,
) -> QueryResult<Option<(RecordRow, PlacementRow, Vec<HopRow>)>> {
    type Placing = (Option<NaiveDateTime>, Option<String>);
    // One round trip: the record and its placement repeated beside each stored hop (a record
    // has a handful), or once with no hop.
    let rows: Vec<(RecordRow, PlacementRow, Placing, Option<HopRow>)> = placements::table
        .inner_join(records::table)
        .left_join(record_hops::table.on(record_hops::record_id.eq(placements::record_id)))
        .filter(placements::record_id.eq(record_id))
        .order(record_hops::id)
        .select((
            RecordRow::as_select(),
            PlacementRow::as_select(),
            (placements::placed_at, placements::placed_by),
            Option::<HopRow>::as_select(),
        ))
        .load(conn)?;
    let mut rows = rows.into_iter();
    let Some((record, placement, placing, first_hop)) = rows
        .next()
        .filter(|(_, p, _, _)| scope.contains(p.holder_org_id))
    else {
        return Ok(None);
    };
    let stored: Vec<HopRow> = first_hop
        .into_iter()
        .chain(rows.filter_map(|(_, _, _, hop)| hop))
        .collect();
    let hops = match placing {
        (Some(at), Some(actor)) => {
            let placed = HopRow {
                id: 0,
                record_id,
                package_id: None,
                kind: HopKind::Placed,
                from_org_id: None,
                to_org_id: root,
                actor,
                at,
                outcome: None,
                reason: None,
                outcome_by: None,
                outcome_at: None,
            };
            std::iter::once(placed).chain(stored).collect()
        }
        _ => stored,
    };
    Ok(Some((record, placement, hops)))
}

/// Unassigned records per holder within the scope.
pub fn unassigned_counts(conn: &mut AnyConnection, scope: &Scope) -> QueryResult<Vec<(i64, i64)>> {
    let mut q = placements::table
        .filter(placements::state.eq(PlacementState::Unassigned))
        .group_by(placements::holder_org_id)
        .select((placements::holder_org_id, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(ids) = scope.ids() {
        q = q.filter(placements::holder_org_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}

/// Open packages past a date (for reminders and escalations).
pub fn open_past(conn: &mut AnyConnection, today: NaiveDate) -> QueryResult<Vec<PackageRow>> {
    packages::table
        .filter(packages::state.eq(PackageState::Delivered))
        .filter(packages::deadline.lt(today))
        .order(packages::id)
        .select(PackageRow::as_select())
        .load(conn)
}

/// Sets `reminded_at` if not yet set; `false` when another pass already did.
pub fn mark_reminded(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        packages::table
            .filter(packages::id.eq(id))
            .filter(packages::reminded_at.is_null()),
    )
    .set(packages::reminded_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Sets `escalated_at` if not yet set; `false` when another pass already did.
pub fn mark_escalated(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        packages::table
            .filter(packages::id.eq(id))
            .filter(packages::escalated_at.is_null()),
    )
    .set(packages::escalated_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Open packages not reminded yet whose deadlines were counted over a year the calendar did not
/// cover (to count them again once it does).
pub fn open_provisional(conn: &mut AnyConnection) -> QueryResult<Vec<PackageRow>> {
    packages::table
        .filter(packages::state.eq(PackageState::Delivered))
        .filter(packages::deadline_provisional.eq(true))
        .filter(packages::reminded_at.is_null())
        .order(packages::id)
        .select(PackageRow::as_select())
        .load(conn)
}

/// Replaces a package's deadlines (counted again with a newly loaded calendar year).
pub fn set_deadlines(
    conn: &mut AnyConnection,
    id: i64,
    deadline: NaiveDate,
    escalation_deadline: NaiveDate,
    provisional: bool,
) -> QueryResult<usize> {
    diesel::update(packages::table.filter(packages::id.eq(id)))
        .set((
            packages::deadline.eq(deadline),
            packages::escalation_deadline.eq(escalation_deadline),
            packages::deadline_provisional.eq(provisional),
        ))
        .execute(conn)
}
