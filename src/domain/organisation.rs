//! Organisations and roles: the receiving tree seeded from the division table (with the 兵团
//! carved out of 新疆), organisation levels, and what each role may do. No storage here.

use super::division::{DivisionTable, Level};

/// The hub itself: the ministry (人力资源和社会保障部), root of the tree.
pub const MINISTRY_CODE: &str = "000000";
pub const MINISTRY_NAME: &str = "人力资源社会保障部";
/// 新疆生产建设兵团 has no GB/T 2260 code of its own; 660000 is the code national 人社 systems
/// use for it. Its jurisdiction is the `6590xx` county-level cities, carved out of 新疆 (650000).
pub const XPCC_CODE: &str = "660000";
pub const XPCC_NAME: &str = "新疆生产建设兵团";
/// County-level codes under the 兵团 rather than 新疆.
pub const XPCC_COUNTY_PREFIX: &str = "6590";

/// Where an organisation sits. Receiving levels nest; senders (education departments) hang under
/// the organisation whose staff may see their batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgLevel {
    Ministry,
    Province,
    Prefecture,
    County,
    Grassroots,
    Sender,
}

impl OrgLevel {
    pub const ALL: [OrgLevel; 6] = [
        OrgLevel::Ministry,
        OrgLevel::Province,
        OrgLevel::Prefecture,
        OrgLevel::County,
        OrgLevel::Grassroots,
        OrgLevel::Sender,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgLevel::Ministry => "ministry",
            OrgLevel::Province => "province",
            OrgLevel::Prefecture => "prefecture",
            OrgLevel::County => "county",
            OrgLevel::Grassroots => "grassroots",
            OrgLevel::Sender => "sender",
        }
    }

    pub fn parse(s: &str) -> Option<OrgLevel> {
        OrgLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            OrgLevel::Ministry => "部级",
            OrgLevel::Province => "省级",
            OrgLevel::Prefecture => "地市级",
            OrgLevel::County => "区县级",
            OrgLevel::Grassroots => "基层服务平台",
            OrgLevel::Sender => "移交部门",
        }
    }

    /// Whether records are delivered to organisations of this level.
    pub fn receives(self) -> bool {
        !matches!(self, OrgLevel::Sender)
    }

    /// The level a new organisation under a parent of this level may have when added by hand.
    pub fn may_be_child_of(self, parent: OrgLevel) -> bool {
        match self {
            OrgLevel::Grassroots => parent == OrgLevel::County,
            OrgLevel::Sender => parent != OrgLevel::Sender && parent != OrgLevel::Grassroots,
            _ => false,
        }
    }
}

/// What a caller is allowed to do; bound to one organisation (users and API tokens alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Staff of a receiving organisation at that organisation's level.
    Ministry,
    Province,
    Prefecture,
    County,
    Grassroots,
    /// An education department or office: uploads, and its own batches and reject reports.
    Sender,
    /// Read-only over its organisation's subtree; sees ID and phone numbers masked.
    Auditor,
    /// Users and organisations; no record contents.
    Admin,
    /// A provincial (or lower) system exchanging packages through the API with a token.
    System,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::Ministry,
        Role::Province,
        Role::Prefecture,
        Role::County,
        Role::Grassroots,
        Role::Sender,
        Role::Auditor,
        Role::Admin,
        Role::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ministry => "ministry",
            Role::Province => "province",
            Role::Prefecture => "prefecture",
            Role::County => "county",
            Role::Grassroots => "grassroots",
            Role::Sender => "sender",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Staff roles must sit at an organisation of their own level; the rest go anywhere that
    /// makes sense for them. `Err` says why not, in Chinese and English.
    pub fn fits(self, level: OrgLevel) -> Result<(), String> {
        if self == Role::System && level == OrgLevel::Sender {
            return Err(
                "移交部门的令牌只能是 sender 角色 / a sender organisation's token has the sender role"
                    .into(),
            );
        }
        let staff_level = match self {
            Role::Ministry => Some(OrgLevel::Ministry),
            Role::Province => Some(OrgLevel::Province),
            Role::Prefecture => Some(OrgLevel::Prefecture),
            Role::County => Some(OrgLevel::County),
            Role::Grassroots => Some(OrgLevel::Grassroots),
            Role::Sender => Some(OrgLevel::Sender),
            Role::Auditor | Role::Admin | Role::System => None,
        };
        match staff_level {
            Some(l) if l != level => Err(format!(
                "角色 {} 只能属于{}机构，而该机构是{} / role {} belongs to a {} organisation, not a {} one",
                self.as_str(),
                l.label_zh(),
                level.label_zh(),
                self.as_str(),
                l.as_str(),
                level.as_str()
            )),
            _ => Ok(()),
        }
    }

    /// The default role of a token for an organisation of this level.
    pub fn for_token(level: OrgLevel) -> Role {
        match level {
            OrgLevel::Sender => Role::Sender,
            _ => Role::System,
        }
    }
}

/// One organisation to create from the division table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgSeed {
    pub code: String,
    pub name: String,
    pub level: OrgLevel,
    /// The parent's code; `None` only for the ministry.
    pub parent_code: Option<String>,
    /// The division the organisation receives for; `None` for the ministry and the 兵团.
    pub division_code: Option<String>,
}

/// The receiving tree for a division table, parents before children: the ministry, every
/// province, the 兵团, every prefecture, every county. Organisation codes are division codes.
pub fn seed_orgs(table: &DivisionTable) -> Vec<OrgSeed> {
    let mut out = vec![OrgSeed {
        code: MINISTRY_CODE.into(),
        name: MINISTRY_NAME.into(),
        level: OrgLevel::Ministry,
        parent_code: None,
        division_code: None,
    }];
    for level in [Level::Province, Level::Prefecture, Level::County] {
        // 99xxxx rows (苏鲁交界, 海域) are placeholders of the table, not areas anyone receives for.
        let mut rows: Vec<_> = table
            .divisions()
            .filter(|d| d.level == level && d.code.province_digits() != 99)
            .collect();
        rows.sort_by_key(|d| d.code);
        for d in rows {
            let code = d.code.to_string();
            let parent_code = if level == Level::Province {
                MINISTRY_CODE.to_string()
            } else if code.starts_with(XPCC_COUNTY_PREFIX) {
                XPCC_CODE.to_string()
            } else {
                match d.parent {
                    Some(p) => p.to_string(),
                    None => d.code.province_code().to_string(),
                }
            };
            out.push(OrgSeed {
                name: d.name.clone(),
                level: match level {
                    Level::Province => OrgLevel::Province,
                    Level::Prefecture => OrgLevel::Prefecture,
                    Level::County => OrgLevel::County,
                },
                parent_code: Some(parent_code),
                division_code: Some(code.clone()),
                code,
            });
        }
        if level == Level::Province {
            out.push(OrgSeed {
                code: XPCC_CODE.into(),
                name: XPCC_NAME.into(),
                level: OrgLevel::Province,
                parent_code: Some(MINISTRY_CODE.into()),
                division_code: None,
            });
        }
    }
    out
}

/// Whether an organisation code typed by an operator is acceptable: ASCII letters, digits, `-`
/// and `_`, 1 to 40 characters (it also names the sender's drop sub-folder).
pub fn valid_org_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 40
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> Vec<OrgSeed> {
        seed_orgs(&DivisionTable::embedded())
    }

    fn find<'a>(s: &'a [OrgSeed], code: &str) -> &'a OrgSeed {
        s.iter().find(|o| o.code == code).expect(code)
    }

    #[test]
    fn every_division_has_an_organisation_and_parents_come_first() {
        let s = seeds();
        let table = DivisionTable::embedded();
        let placeholders = table
            .divisions()
            .filter(|d| d.code.province_digits() == 99)
            .count();
        assert_eq!(placeholders, 2, "苏鲁交界 and 海域");
        assert_eq!(s.len(), table.len() - placeholders + 2);
        assert!(!s.iter().any(|o| o.code.starts_with("99")));
        let mut seen = std::collections::HashSet::new();
        for o in &s {
            if let Some(p) = &o.parent_code {
                assert!(seen.contains(p), "{} before its parent {}", o.code, p);
            }
            assert!(seen.insert(o.code.clone()), "{} twice", o.code);
        }
    }

    #[test]
    fn xpcc_cities_hang_under_the_bingtuan_not_xinjiang() {
        let s = seeds();
        let shihezi = find(&s, "659001");
        assert_eq!(shihezi.parent_code.as_deref(), Some(XPCC_CODE));
        assert_eq!(find(&s, XPCC_CODE).level, OrgLevel::Province);
        assert_eq!(find(&s, "650100").parent_code.as_deref(), Some("650000"));
    }

    #[test]
    fn province_governed_cities_and_municipal_districts_keep_their_division_parents() {
        let s = seeds();
        assert_eq!(find(&s, "429004").parent_code.as_deref(), Some("420000"));
        assert_eq!(find(&s, "110101").parent_code.as_deref(), Some("110100"));
        assert_eq!(
            find(&s, "110000").parent_code.as_deref(),
            Some(MINISTRY_CODE)
        );
    }

    #[test]
    fn staff_roles_sit_at_their_own_level() {
        assert!(Role::Province.fits(OrgLevel::Province).is_ok());
        let err = Role::Province.fits(OrgLevel::County).unwrap_err();
        assert!(err.contains("省级") && err.contains("province"));
        assert!(Role::Auditor.fits(OrgLevel::County).is_ok());
        assert!(Role::System.fits(OrgLevel::Province).is_ok());
        assert!(Role::System.fits(OrgLevel::Sender).is_err());
    }

    #[test]
    fn org_codes_are_plain_folder_names() {
        assert!(valid_org_code("edu-110000"));
        assert!(!valid_org_code("../x"));
        assert!(!valid_org_code(""));
        assert!(!valid_org_code("教育厅"));
    }
}
