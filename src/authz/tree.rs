//! The organisation tree in memory: parents, depths, subtrees and the next hop from a holder
//! toward a record's target. Built from the stored rows; a few thousand nodes.

use super::scope::Scope;
use crate::domain::organisation::{OrgLevel, MINISTRY_CODE};
use std::collections::HashMap;

/// One organisation as the services need it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OrgNode {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub level: OrgLevel,
    pub parent: Option<i64>,
    pub division_code: Option<String>,
    pub depth: usize,
}

#[derive(Clone, Debug, Default)]
pub struct OrgTree {
    nodes: HashMap<i64, OrgNode>,
    by_code: HashMap<String, i64>,
    by_division: HashMap<String, i64>,
    children: HashMap<i64, Vec<i64>>,
    root: Option<i64>,
}

impl OrgTree {
    /// Builds the tree from its organisations (`db::orgs::load_tree` reads them).
    pub fn from_nodes(nodes: impl IntoIterator<Item = OrgNode>) -> OrgTree {
        let mut tree = OrgTree::default();
        for node in nodes {
            if node.code == MINISTRY_CODE {
                tree.root = Some(node.id);
            }
            if let Some(p) = node.parent {
                tree.children.entry(p).or_default().push(node.id);
            }
            tree.by_code.insert(node.code.clone(), node.id);
            if let Some(d) = &node.division_code {
                tree.by_division.insert(d.clone(), node.id);
            }
            tree.nodes.insert(node.id, node);
        }
        for list in tree.children.values_mut() {
            list.sort_unstable();
        }
        tree
    }

    pub fn get(&self, id: i64) -> Option<&OrgNode> {
        self.nodes.get(&id)
    }

    pub fn by_code(&self, code: &str) -> Option<&OrgNode> {
        self.by_code.get(code).and_then(|id| self.nodes.get(id))
    }

    /// The organisation that receives for a division code.
    pub fn by_division(&self, code: &str) -> Option<&OrgNode> {
        self.by_division.get(code).and_then(|id| self.nodes.get(id))
    }

    /// The ministry (the hub); `None` only in an empty database.
    pub fn root(&self) -> Option<&OrgNode> {
        self.root.and_then(|id| self.nodes.get(&id))
    }

    pub fn children(&self, id: i64) -> &[i64] {
        self.children.get(&id).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The organisation and all below it, own id first.
    pub fn subtree(&self, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            out.extend_from_slice(self.children(out[i]));
            i += 1;
        }
        out
    }

    /// The scope of a caller at `id`: everything for the ministry, else its subtree.
    pub fn scope_of(&self, id: i64) -> Scope {
        if Some(id) == self.root {
            Scope::All
        } else {
            Scope::Orgs(self.subtree(id))
        }
    }

    /// Whether `id` is `ancestor` or lies below it.
    pub fn is_within(&self, id: i64, ancestor: i64) -> bool {
        let mut cur = Some(id);
        // Depth is at most five; the bound keeps a corrupt parent loop from spinning.
        for _ in 0..16 {
            match cur {
                Some(c) if c == ancestor => return true,
                Some(c) => cur = self.nodes.get(&c).and_then(|n| n.parent),
                None => return false,
            }
        }
        false
    }

    /// The child of `holder` on the way to `target`; `None` when the target is the holder itself
    /// or not below it.
    pub fn next_hop(&self, holder: i64, target: i64) -> Option<i64> {
        let mut cur = target;
        for _ in 0..16 {
            let parent = self.nodes.get(&cur)?.parent?;
            if parent == holder {
                return Some(cur);
            }
            cur = parent;
        }
        None
    }

    /// Ancestors from the root down to the parent of `id`.
    pub fn ancestors(&self, id: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut cur = self.nodes.get(&id).and_then(|n| n.parent);
        while let Some(c) = cur {
            if out.len() > 16 {
                break;
            }
            out.push(c);
            cur = self.nodes.get(&c).and_then(|n| n.parent);
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::organisation::OrgLevel;

    fn node(id: i64, code: &str, level: OrgLevel, parent: Option<i64>, depth: usize) -> OrgNode {
        OrgNode {
            id,
            code: code.into(),
            name: code.into(),
            level,
            parent,
            division_code: Some(code.into()),
            depth,
        }
    }

    fn tree() -> OrgTree {
        OrgTree::from_nodes(vec![
            node(1, "000000", OrgLevel::Ministry, None, 0),
            node(2, "370000", OrgLevel::Province, Some(1), 1),
            node(3, "370100", OrgLevel::Prefecture, Some(2), 2),
            node(4, "370116", OrgLevel::County, Some(3), 3),
            node(5, "110000", OrgLevel::Province, Some(1), 1),
        ])
    }

    #[test]
    fn next_hop_walks_one_level_down_toward_the_target() {
        let t = tree();
        assert_eq!(t.next_hop(1, 4), Some(2));
        assert_eq!(t.next_hop(2, 4), Some(3));
        assert_eq!(t.next_hop(3, 4), Some(4));
        assert_eq!(t.next_hop(4, 4), None);
        assert_eq!(t.next_hop(5, 4), None, "not below the holder");
    }

    #[test]
    fn subtrees_and_scopes_stay_inside_one_province() {
        let t = tree();
        assert_eq!(t.subtree(2), vec![2, 3, 4]);
        assert_eq!(t.scope_of(1), Scope::All);
        assert!(!t.scope_of(5).contains(4));
        assert!(t.is_within(4, 2) && !t.is_within(4, 5));
        assert_eq!(t.get(4).map(|n| n.depth), Some(3));
        assert_eq!(t.ancestors(4), vec![1, 2, 3]);
    }
}
