//! The follow-up code tables (service types, policy types, employment states, contact channels):
//! built in from `fixtures/codes/followup/`, and replaceable at start from the operator's own
//! files (`followup_codes_dir`) when the official 111号 lists differ, without a new release.

use crate::domain::text::to_half_width;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// One of the follow-up code tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FollowupTable {
    ServiceType,
    PolicyType,
    EmploymentState,
    ContactChannel,
}

impl FollowupTable {
    pub const ALL: [FollowupTable; 4] = [
        FollowupTable::ServiceType,
        FollowupTable::PolicyType,
        FollowupTable::EmploymentState,
        FollowupTable::ContactChannel,
    ];

    /// The file that holds the table, built in and in a replacement folder.
    pub fn file_name(self) -> &'static str {
        match self {
            FollowupTable::ServiceType => "service_type.csv",
            FollowupTable::PolicyType => "policy_type.csv",
            FollowupTable::EmploymentState => "employment_state.csv",
            FollowupTable::ContactChannel => "contact_channel.csv",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            FollowupTable::ServiceType => "服务类型",
            FollowupTable::PolicyType => "政策类型",
            FollowupTable::EmploymentState => "就业状态",
            FollowupTable::ContactChannel => "联系方式",
        }
    }

    fn builtin_csv(self) -> &'static str {
        match self {
            FollowupTable::ServiceType => {
                include_str!("../../../fixtures/codes/followup/service_type.csv")
            }
            FollowupTable::PolicyType => {
                include_str!("../../../fixtures/codes/followup/policy_type.csv")
            }
            FollowupTable::EmploymentState => {
                include_str!("../../../fixtures/codes/followup/employment_state.csv")
            }
            FollowupTable::ContactChannel => {
                include_str!("../../../fixtures/codes/followup/contact_channel.csv")
            }
        }
    }
}

/// One loaded table.
#[derive(Clone, Debug)]
pub struct CodeList {
    /// (code, name) in file order.
    entries: Vec<(String, String)>,
    /// Every accepted spelling → code.
    keys: HashMap<String, String>,
    /// Where it came from and its content hash, for the summary's 说明 sheet.
    edition: String,
}

/// The four follow-up tables in force.
#[derive(Clone, Debug)]
pub struct FollowupCodes {
    tables: HashMap<FollowupTable, CodeList>,
}

impl FollowupCodes {
    /// The tables of `fixtures/codes/followup/`, compiled in.
    pub fn builtin() -> FollowupCodes {
        let mut tables = HashMap::new();
        for t in FollowupTable::ALL {
            // Compiled in and loaded by a unit test, so a bad edit fails the build's tests.
            let list = parse_table(
                t.builtin_csv(),
                &format!("内置 fixtures/codes/followup/{}", t.file_name()),
            )
            .unwrap_or_else(|e| panic!("built-in code table {}: {e}", t.file_name()));
            tables.insert(t, list);
        }
        FollowupCodes { tables }
    }

    /// These tables with `table` replaced by the CSV `text` (from `source`, a path).
    pub fn replace(
        mut self,
        table: FollowupTable,
        text: &str,
        source: &str,
    ) -> Result<FollowupCodes, String> {
        let list = parse_table(text, source)?;
        self.tables.insert(table, list);
        Ok(self)
    }

    fn list(&self, table: FollowupTable) -> &CodeList {
        // Every table is present: `builtin` fills all four and `replace` only swaps one.
        &self.tables[&table]
    }

    /// The code for a code or an accepted name (full-width digits, `1.0`, a dropped leading zero
    /// all accepted); `None` when the table does not have it.
    pub fn lookup(&self, table: FollowupTable, raw: &str) -> Option<&str> {
        let list = self.list(table);
        list.keys.get(&key(raw)).map(String::as_str)
    }

    pub fn name_of(&self, table: FollowupTable, code: &str) -> Option<&str> {
        self.list(table)
            .entries
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.as_str())
    }

    /// (code, name) in the table's order.
    pub fn entries(&self, table: FollowupTable) -> &[(String, String)] {
        &self.list(table).entries
    }

    /// Where the table in force came from, with the first 12 hex digits of its SHA-256.
    pub fn edition(&self, table: FollowupTable) -> &str {
        &self.list(table).edition
    }
}

fn key(raw: &str) -> String {
    let mut k: String = to_half_width(raw)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{FEFF}')
        .collect();
    if let Some(int) = k.strip_suffix(".0") {
        if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) {
            k.truncate(int.len());
        }
    }
    k
}

/// Reads `code,name,synonyms` (header row, `|` between synonyms). A spelling two codes claim is
/// accepted for neither.
fn parse_table(text: &str, source: &str) -> Result<CodeList, String> {
    let text = text.trim_start_matches('\u{FEFF}');
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut claims: HashMap<String, Option<String>> = HashMap::new();
    let mut claim = |spelling: &str, code: &str| {
        let k = key(spelling);
        if k.is_empty() {
            return;
        }
        claims
            .entry(k)
            .and_modify(|c| {
                if c.as_deref() != Some(code) {
                    *c = None;
                }
            })
            .or_insert_with(|| Some(code.to_string()));
    };
    for (i, line) in text.lines().enumerate().skip(1) {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let (code, name, synonyms) = match fields.as_slice() {
            [c, n] => (*c, *n, ""),
            [c, n, s] => (*c, *n, *s),
            _ => return Err(format!("line {}: expected code,name,synonyms", i + 1)),
        };
        if code.is_empty() || name.is_empty() {
            return Err(format!("line {}: empty code or name", i + 1));
        }
        if entries.iter().any(|(c, _)| c == code) {
            return Err(format!("line {}: code {code} listed twice", i + 1));
        }
        entries.push((code.to_string(), name.to_string()));
        claim(code, code);
        claim(name, code);
        for s in synonyms.split('|') {
            claim(s, code);
        }
        // Excel drops the leading zero of a number cell: 3 for 03.
        if let Some(short) = code.strip_prefix('0') {
            if !short.is_empty() {
                claim(short, code);
            }
        }
    }
    if entries.is_empty() {
        return Err("no codes".into());
    }
    let keys = claims
        .into_iter()
        .filter_map(|(k, c)| c.map(|c| (k, c)))
        .collect();
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    Ok(CodeList {
        entries,
        keys,
        edition: format!("{source} sha256:{hex}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_table_loads_with_the_spec_codes() {
        let codes = FollowupCodes::builtin();
        assert_eq!(codes.entries(FollowupTable::ServiceType).len(), 9);
        assert_eq!(codes.entries(FollowupTable::PolicyType).len(), 8);
        assert_eq!(codes.entries(FollowupTable::EmploymentState).len(), 8);
        assert_eq!(codes.entries(FollowupTable::ContactChannel).len(), 5);
        assert_eq!(codes.lookup(FollowupTable::ServiceType, "3"), Some("03"));
        assert_eq!(codes.lookup(FollowupTable::ServiceType, "０３"), Some("03"));
        assert_eq!(
            codes.lookup(FollowupTable::PolicyType, "社保补贴"),
            Some("02")
        );
        assert_eq!(
            codes.lookup(FollowupTable::EmploymentState, "灵活就业"),
            Some("22")
        );
        assert_eq!(
            codes.lookup(FollowupTable::ContactChannel, "微信"),
            Some("3")
        );
        assert!(codes
            .edition(FollowupTable::ServiceType)
            .starts_with("内置"));
    }

    #[test]
    fn a_replacement_table_takes_over() {
        let codes = FollowupCodes::builtin()
            .replace(
                FollowupTable::PolicyType,
                "code,name,synonyms\n01,求职创业补贴,\n08,新政策,\n",
                "/etc/gradhub/codes/policy_type.csv",
            )
            .expect("loads");
        assert_eq!(
            codes.lookup(FollowupTable::PolicyType, "新政策"),
            Some("08")
        );
        assert_eq!(codes.lookup(FollowupTable::PolicyType, "02"), None);
        assert!(codes
            .edition(FollowupTable::PolicyType)
            .starts_with("/etc/gradhub/codes/policy_type.csv sha256:"));
        assert!(FollowupCodes::builtin()
            .replace(FollowupTable::PolicyType, "code,name\n01,a\n01,b\n", "x")
            .is_err());
    }
}
