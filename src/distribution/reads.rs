//! The distribution service's reads: the inbox, packages sent, one package, a package's records,
//! its download, the records held in a jurisdiction and one record's path, with the views they
//! answer. Each one checks the permission, stays in the caller's scope, masks through
//! [`RecordView::for_caller`] and writes its own audit event, so the API, the command line and
//! the pages to come cannot disagree on what a caller sees.

use super::{DistError, Distribution, PackageId, RecordId};
use crate::authz::{Caller, OrgTree, Permission};
use crate::db::packages::{
    self as store, HopOutcome, HopRow, PackageRow, PackageState, PlacementRow, PlacementState,
};
use crate::db::records::RecordRow;
use crate::db::{audit, AnyConnection};
use crate::export::{self, TableFormat};
use crate::ingest::china_today;
use crate::views::RecordView;
use serde::Serialize;
use serde_json::json;

/// Largest inbox or sent page; a bigger request gets this many.
pub const MAX_PACKAGE_PAGE: i64 = 500;
/// Largest page of records; a bigger request gets this many.
pub const MAX_RECORD_PAGE: i64 = 1_000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: i64 = 50;

/// An organisation as the API names it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub code: String,
    pub name: String,
    pub level: String,
}

/// The organisation `id` named from the tree; empty names when the tree does not know it (an
/// organisation added since the tree was read is named on the next read).
pub fn org_ref(tree: &OrgTree, id: i64) -> OrgRef {
    match tree.get(id) {
        Some(n) => OrgRef {
            code: n.code.clone(),
            name: n.name.clone(),
            level: n.level.as_str().into(),
        },
        None => OrgRef {
            code: String::new(),
            name: String::new(),
            level: String::new(),
        },
    }
}

/// A package with its sender and receiver named.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PackageView {
    pub id: i64,
    /// The package's position in the receiver's inbox: the cursor for `GET /api/v1/inbox?after=`.
    pub inbox_seq: i64,
    pub sender: OrgRef,
    pub receiver: OrgRef,
    pub state: PackageState,
    pub records: i64,
    pub returned: i64,
    #[schema(value_type = String)]
    pub delivered_at: chrono::NaiveDateTime,
    /// Last working day to acknowledge.
    #[schema(value_type = String)]
    pub deadline: chrono::NaiveDate,
    /// 暂定: the deadlines were counted over a year whose holiday schedule was not loaded
    /// (weekends only), so the real deadline may be later.
    pub deadline_provisional: bool,
    /// After this working day the parent organisation is told.
    #[schema(value_type = String)]
    pub escalation_deadline: chrono::NaiveDate,
    pub overdue: bool,
    #[schema(value_type = Option<String>)]
    pub acknowledged_at: Option<chrono::NaiveDateTime>,
    pub acknowledged_by: Option<String>,
}

/// A package as the API shows it, overdue as of today in China.
pub fn package_view(tree: &OrgTree, p: &PackageRow) -> PackageView {
    PackageView {
        id: p.id,
        inbox_seq: p.receiver_seq,
        sender: org_ref(tree, p.sender_org_id),
        receiver: org_ref(tree, p.receiver_org_id),
        state: p.state,
        records: p.records,
        returned: p.returned,
        delivered_at: p.delivered_at,
        deadline: p.deadline,
        deadline_provisional: p.deadline_provisional,
        escalation_deadline: p.escalation_deadline,
        overdue: p.state == PackageState::Delivered && p.deadline < china_today(),
        acknowledged_at: p.acknowledged_at,
        acknowledged_by: p.acknowledged_by.clone(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    pub packages: Vec<PackageView>,
    /// Pass as `after` for the next page (the last package's `inbox_seq`); equal to `after` when
    /// nothing newer has arrived.
    pub next_cursor: i64,
}

/// One record of a package, with its outcome in that package.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PackageRecord {
    pub record: RecordView,
    /// `pending`, `acknowledged` or `returned`.
    pub outcome: Option<HopOutcome>,
    pub return_reason: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PackageRecordsPage {
    pub records: Vec<PackageRecord>,
    /// Pass as `after` for the next page; equal to `after` when the package is exhausted.
    pub next_cursor: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeldRecord {
    pub record: RecordView,
    pub placement: PlacementRow,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeldRecordsPage {
    pub records: Vec<HeldRecord>,
    pub next_cursor: i64,
}

impl HeldRecordsPage {
    /// A page of records read after `after`, each shown as the caller may see it.
    fn of(rows: Vec<(RecordRow, PlacementRow)>, after: i64, caller: &Caller) -> HeldRecordsPage {
        HeldRecordsPage {
            next_cursor: rows.last().map(|(r, _)| r.id).unwrap_or(after),
            records: rows
                .into_iter()
                .map(|(r, p)| HeldRecord {
                    record: RecordView::for_caller(r, caller),
                    placement: p,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RecordDetail {
    pub record: RecordView,
    pub placement: PlacementRow,
    /// Every hop of the record, oldest first.
    pub hops: Vec<HopView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HopView {
    #[serde(flatten)]
    pub hop: HopRow,
    pub from: Option<OrgRef>,
    pub to: OrgRef,
}

/// Which held records a list covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holders {
    /// Only those the caller's own organisation holds (its queue).
    Own,
    /// Those held anywhere in the caller's jurisdiction.
    Jurisdiction,
}

/// A cursor below zero starts from the beginning.
fn cursor(after: Option<i64>) -> i64 {
    after.unwrap_or(0).max(0)
}

/// A page size within `1..=max`, the default when none is asked for.
fn page_size(limit: Option<i64>, max: i64) -> i64 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, max)
}

/// The read permission, refused with the permission table's own message.
pub(super) fn require_reader(caller: &Caller) -> Result<(), DistError> {
    caller
        .require(Permission::ReadRecords)
        .map_err(DistError::from)
}

impl Distribution {
    /// A package as the API shows it (sender and receiver named from the current tree).
    pub fn package_view(&self, p: &PackageRow) -> Result<PackageView, DistError> {
        let tree = self.tree()?;
        Ok(package_view(&tree, p))
    }

    /// Packages delivered to the caller's organisation after inbox position `after`, in delivery
    /// order, optionally in one state. Reading changes nothing and is not audited: the packages
    /// name no person.
    pub fn inbox(
        &self,
        caller: &Caller,
        after: Option<i64>,
        limit: Option<i64>,
        state: Option<PackageState>,
    ) -> Result<InboxPage, DistError> {
        require_reader(caller)?;
        let after = cursor(after);
        let limit = page_size(limit, MAX_PACKAGE_PAGE);
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        let rows = store::inbox(&mut conn, caller.org_id, after, state, limit)?;
        Ok(InboxPage {
            next_cursor: rows.last().map(|p| p.receiver_seq).unwrap_or(after),
            packages: rows.iter().map(|p| package_view(&tree, p)).collect(),
        })
    }

    /// Packages the caller's organisation sent with ids below `before`, newest first.
    pub fn sent(
        &self,
        caller: &Caller,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<PackageView>, DistError> {
        require_reader(caller)?;
        let limit = page_size(limit, MAX_PACKAGE_PAGE);
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        let rows = store::outbox_of(&mut conn, caller.org_id, before, limit)?;
        Ok(rows.iter().map(|p| package_view(&tree, p)).collect())
    }

    /// One package sent or received within the caller's jurisdiction.
    pub fn package(
        &self,
        caller: &Caller,
        package_id: PackageId,
    ) -> Result<PackageView, DistError> {
        require_reader(caller)?;
        let package_id = package_id.0;
        let tree = self.tree()?;
        let mut conn = self.db.conn()?;
        let p =
            store::get_scoped(&mut conn, &caller.scope, package_id)?.ok_or(DistError::NotFound)?;
        Ok(package_view(&tree, &p))
    }

    /// A page of a package's records in record-id order with each one's outcome; every page
    /// read is a `package.records_read` audit event (personal data).
    pub fn package_records(
        &self,
        caller: &Caller,
        package_id: PackageId,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<PackageRecordsPage, DistError> {
        Ok(self
            .scoped_package_records(caller, package_id, after, limit)?
            .1)
    }

    /// The package and a page of its records, as [`Distribution::package`] and
    /// [`Distribution::package_records`] answer them, on one connection with one scope check
    /// (the package's page shows both).
    pub fn package_with_records(
        &self,
        caller: &Caller,
        package_id: PackageId,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<(PackageView, PackageRecordsPage), DistError> {
        let tree = self.tree()?;
        let (package, page) = self.scoped_package_records(caller, package_id, after, limit)?;
        Ok((package_view(&tree, &package), page))
    }

    /// The package's row, found in the caller's scope, and a page of its records (audited).
    fn scoped_package_records(
        &self,
        caller: &Caller,
        package_id: PackageId,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<(PackageRow, PackageRecordsPage), DistError> {
        require_reader(caller)?;
        let package_id = package_id.0;
        let after = cursor(after);
        let limit = page_size(limit, MAX_RECORD_PAGE);
        let mut conn = self.db.conn()?;
        let package =
            store::get_scoped(&mut conn, &caller.scope, package_id)?.ok_or(DistError::NotFound)?;
        let rows = store::package_records(&mut conn, package_id, after, limit)?;
        self.db.read_log().record(
            &mut conn,
            &caller.actor,
            "package.records_read",
            &format!("package:{package_id}"),
            Some(&json!({ "after": after, "records": rows.len(), "masked": caller.sees_masked() })),
        )?;
        let page = PackageRecordsPage {
            next_cursor: rows.last().map(|(r, _, _)| r.id).unwrap_or(after),
            records: rows
                .into_iter()
                .map(|(r, outcome, reason)| PackageRecord {
                    record: RecordView::for_caller(r, caller),
                    outcome,
                    return_reason: reason,
                })
                .collect(),
        };
        Ok((package, page))
    }

    /// Writes the whole package to `out` as CSV or XLSX, masked unless the caller may see
    /// personal numbers; a `package.exported` audit event. Returns the records written.
    pub fn download(
        &self,
        caller: &Caller,
        package_id: PackageId,
        format: TableFormat,
        out: &mut Vec<u8>,
    ) -> Result<u64, DistError> {
        require_reader(caller)?;
        let package_id = package_id.0;
        let mut conn = self.db.conn()?;
        store::get_scoped(&mut conn, &caller.scope, package_id)?.ok_or(DistError::NotFound)?;
        let mask = caller.sees_masked();
        let n = export::write_package(&mut conn, package_id, format, mask, &mut *out)?;
        audit::record(
            &mut conn,
            &caller.actor,
            "package.exported",
            &format!("package:{package_id}"),
            None,
            Some(&json!({ "format": format.extension(), "records": n, "masked": mask })),
        )?;
        Ok(n)
    }

    /// Records held by the caller's organisation or anywhere in its jurisdiction, in id order,
    /// optionally in one placement state; a non-empty page is a `records.listed` audit event.
    pub fn held_records(
        &self,
        caller: &Caller,
        holders: Holders,
        state: Option<PlacementState>,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<HeldRecordsPage, DistError> {
        require_reader(caller)?;
        let after = cursor(after);
        let limit = page_size(limit, MAX_RECORD_PAGE);
        let mut conn = self.db.conn()?;
        let holder = (holders == Holders::Own).then_some(caller.org_id);
        let rows = store::held_records(&mut conn, &caller.scope, holder, state, after, limit)?;
        if !rows.is_empty() {
            self.db.read_log().record(
                &mut conn,
                &caller.actor,
                "records.listed",
                &format!("org:{}", caller.org_code),
                Some(&json!({
                    "after": after, "records": rows.len(), "state": state,
                    "masked": caller.sees_masked(),
                })),
            )?;
        }
        Ok(HeldRecordsPage::of(rows, after, caller))
    }

    /// Records held in the caller's jurisdiction whose ID number, name or school name is `text`
    /// (exactly; an ID number in any case), in id order; a non-empty page is a
    /// `records.searched` audit event.
    pub fn search_records(
        &self,
        caller: &Caller,
        text: &str,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<HeldRecordsPage, DistError> {
        require_reader(caller)?;
        let text: String = text.trim().chars().take(100).collect();
        let after = cursor(after);
        let limit = page_size(limit, MAX_RECORD_PAGE);
        if text.is_empty() {
            return Ok(HeldRecordsPage {
                records: Vec::new(),
                next_cursor: after,
            });
        }
        let id_like = text.len() >= 15
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || c == 'x' || c == 'X');
        let upper = text.to_ascii_uppercase();
        let key = if id_like {
            store::SearchKey::Person(&upper)
        } else {
            store::SearchKey::NameOrSchool(&text)
        };
        let mut conn = self.db.conn()?;
        let rows = store::search_held(&mut conn, &caller.scope, key, after, limit)?;
        if !rows.is_empty() {
            // What was searched for is personal data itself: the audit names its kind only.
            self.db.read_log().record(
                &mut conn,
                &caller.actor,
                "records.searched",
                &format!("org:{}", caller.org_code),
                Some(&json!({
                    "by": if id_like { "id_number" } else { "name_or_school" },
                    "after": after, "records": rows.len(), "masked": caller.sees_masked(),
                })),
            )?;
        }
        Ok(HeldRecordsPage::of(rows, after, caller))
    }

    /// One record held in the caller's jurisdiction with every hop of its path; a full view of
    /// personal data, so a `record.viewed` audit event.
    pub fn record(&self, caller: &Caller, record_id: RecordId) -> Result<RecordDetail, DistError> {
        let mut conn = self.db.conn()?;
        self.record_on(&mut conn, caller, record_id)
    }

    /// [`Distribution::record`] on the caller's connection (a page that reads more beside the
    /// record takes one connection for all of it).
    pub fn record_on(
        &self,
        conn: &mut AnyConnection,
        caller: &Caller,
        record_id: RecordId,
    ) -> Result<RecordDetail, DistError> {
        require_reader(caller)?;
        let record_id = record_id.0;
        let tree = self.tree()?;
        let root = tree.root().map_or(0, |o| o.id);
        let (r, placement, hops) =
            store::record_path_in_scope(conn, &caller.scope, record_id, root)?
                .ok_or(DistError::NotFound)?;
        self.db.read_log().record(
            conn,
            &caller.actor,
            "record.viewed",
            &format!("record:{record_id}"),
            Some(&json!({ "masked": caller.sees_masked() })),
        )?;
        Ok(RecordDetail {
            record: RecordView::for_caller(r, caller),
            placement,
            hops: hops
                .into_iter()
                .map(|h| HopView {
                    from: h.from_org_id.map(|o| org_ref(&tree, o)),
                    to: org_ref(&tree, h.to_org_id),
                    hop: h,
                })
                .collect(),
        })
    }
}
