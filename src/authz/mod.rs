//! Who the caller is and what it may do: the [`Caller`] every service takes, its [`Scope`]
//! (jurisdiction), the audit [`Actor`] it acts as, the organisation tree scopes are cut from, and
//! the [`Permission`] table. Below every service and above `domain` only: `db` takes a `&Scope`
//! from here, and nothing here reads storage (accounts and sign-in are `access`).

pub mod scope;
pub mod tree;

pub use scope::Scope;
pub use tree::{OrgNode, OrgTree};

use crate::domain::organisation::{OrgLevel, Role};

/// Who acts, as audit events name it: a user, an API token, or the hub's own jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// `user:zhang`, `token:7:jiangsu-sync`, `job:cutter`, `cli:root`.
    pub name: String,
    pub org_id: Option<i64>,
}

impl Actor {
    pub fn job(name: &str) -> Actor {
        Actor {
            name: format!("job:{name}"),
            org_id: None,
        }
    }
}

/// What a role may do; [`Caller::require`] checks one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Read record contents, packages and figures of its subtree.
    ReadRecords,
    /// See ID and phone numbers and birth dates whole (staff doing the work, systems taking the
    /// records); everyone else sees them masked (`domain::masking`).
    SeePersonalNumbers,
    /// Acknowledge, return, assign and cut packages for its own organisation.
    Distribute,
    /// Upload transfer files.
    Upload,
    /// Record follow-up (contacts, services, policies, states, updates) for records held in its
    /// jurisdiction. (Registering a graduate found through other channels is `Distribute`.)
    FollowUp,
    /// Take, download, review and end unemployment registrations (LD/T 6009-2024 §5) in its
    /// jurisdiction, and send or fetch their deregistration records.
    Unemployment,
    /// Manage users, tokens and organisations (and see no record contents).
    Administer,
}

impl Permission {
    /// The permission table: which roles hold this permission.
    pub fn granted_to(self, role: Role) -> bool {
        let staff_or_system = matches!(
            role,
            Role::Ministry
                | Role::Province
                | Role::Prefecture
                | Role::County
                | Role::Grassroots
                | Role::System
        );
        match self {
            Permission::ReadRecords => !matches!(role, Role::Admin | Role::Sender),
            Permission::SeePersonalNumbers
            | Permission::Distribute
            | Permission::FollowUp
            | Permission::Unemployment => staff_or_system,
            Permission::Upload => matches!(role, Role::Sender | Role::Ministry),
            Permission::Administer => role == Role::Admin,
        }
    }

    /// What the permission lets one do, for the refusal message (Chinese, English).
    pub fn action(self) -> (&'static str, &'static str) {
        match self {
            Permission::ReadRecords => ("查看记录和分发包", "read records and packages"),
            Permission::SeePersonalNumbers => {
                ("查看完整的证件号码和电话", "see whole ID and phone numbers")
            }
            Permission::Distribute => ("分发、签收或退回", "distribute, acknowledge or return"),
            Permission::Upload => ("上传移交文件", "upload transfer files"),
            Permission::FollowUp => ("记录就业服务跟踪情况", "record follow-up"),
            Permission::Unemployment => ("办理失业登记", "handle unemployment registrations"),
            Permission::Administer => (
                "管理用户、令牌和机构",
                "manage users, tokens and organisations",
            ),
        }
    }
}

/// A permission the caller's role does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("角色 {} 无权{} / the {} role may not {}", role.as_str(), permission.action().0, role.as_str(), permission.action().1)]
pub struct Denied {
    pub role: Role,
    pub permission: Permission,
}

impl Denied {
    pub fn message_zh(&self) -> String {
        format!(
            "角色 {} 无权{}。",
            self.role.as_str(),
            self.permission.action().0
        )
    }

    pub fn message_en(&self) -> String {
        format!(
            "The {} role may not {}.",
            self.role.as_str(),
            self.permission.action().1
        )
    }
}

/// The authenticated caller: a user or a token, its role, its organisation and its scope.
#[derive(Clone, Debug)]
pub struct Caller {
    pub actor: Actor,
    pub role: Role,
    pub org_id: i64,
    pub org_code: String,
    pub org_level: OrgLevel,
    pub scope: Scope,
}

impl Caller {
    /// Whether the caller's role holds `permission`.
    pub fn may(&self, permission: Permission) -> bool {
        permission.granted_to(self.role)
    }

    /// `Err(Denied)` unless the caller's role holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), Denied> {
        if self.may(permission) {
            Ok(())
        } else {
            Err(Denied {
                role: self.role,
                permission,
            })
        }
    }

    /// Whether what this caller is shown of a record is masked (`views`, exports, reports).
    pub fn sees_masked(&self) -> bool {
        !self.may(Permission::SeePersonalNumbers)
    }

    /// The hub's own jobs: the ministry's scope, acting as the system.
    pub fn job(name: &str, tree: &OrgTree) -> Option<Caller> {
        let root = tree.root()?;
        Some(Caller {
            actor: Actor {
                name: format!("job:{name}"),
                org_id: Some(root.id),
            },
            role: Role::Ministry,
            org_id: root.id,
            org_code: root.code.clone(),
            org_level: OrgLevel::Ministry,
            scope: Scope::All,
        })
    }

    /// The caller an identity stands for in this tree; `None` if its organisation is not in it.
    pub fn of(identity: &Identity, tree: &OrgTree) -> Option<Caller> {
        let role = Role::parse(&identity.role)?;
        let org = tree.get(identity.org_id)?;
        Some(Caller {
            actor: Actor {
                name: identity.actor.clone(),
                org_id: Some(identity.org_id),
            },
            role,
            org_id: identity.org_id,
            org_code: org.code.clone(),
            org_level: org.level,
            scope: tree.scope_of(identity.org_id),
        })
    }
}

/// Who a bearer secret belongs to, before the organisation tree is consulted.
#[derive(Clone, Debug)]
pub struct Identity {
    pub actor: String,
    pub role: String,
    pub org_id: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table_keeps_record_contents_from_admins_and_senders() {
        for role in [Role::Admin, Role::Sender] {
            assert!(!Permission::ReadRecords.granted_to(role));
            assert!(!Permission::SeePersonalNumbers.granted_to(role));
        }
        assert!(Permission::ReadRecords.granted_to(Role::Auditor));
        assert!(!Permission::SeePersonalNumbers.granted_to(Role::Auditor));
        assert!(!Permission::Distribute.granted_to(Role::Auditor));
        assert!(Permission::Upload.granted_to(Role::Sender));
        assert!(!Permission::Upload.granted_to(Role::Province));
        assert!(Permission::Administer.granted_to(Role::Admin));
        let denied = Denied {
            role: Role::Auditor,
            permission: Permission::Distribute,
        };
        assert!(denied.message_zh().contains("auditor") && denied.message_en().contains("may not"));
    }
}
