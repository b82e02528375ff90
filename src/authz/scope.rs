//! The jurisdiction every staff query is limited to: all organisations, or the ids of one
//! organisation's subtree. Repositories take a `&Scope` and have no unscoped path for staff.

/// Which organisations' records, packages and figures a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The ministry's view (and its auditors'): the whole tree.
    All,
    /// One organisation and everything below it, as organisation ids (own id first).
    Orgs(Vec<i64>),
}

impl Scope {
    pub fn contains(&self, org_id: i64) -> bool {
        match self {
            Scope::All => true,
            Scope::Orgs(ids) => ids.contains(&org_id),
        }
    }

    /// The ids to filter on, or `None` for no filter.
    pub fn ids(&self) -> Option<&[i64]> {
        match self {
            Scope::All => None,
            Scope::Orgs(ids) => Some(ids),
        }
    }
}
