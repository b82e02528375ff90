//! `gradhub partition-records`: the operator's command that partitions `records` by graduation
//! year on PostgreSQL (the work is `db::partition`'s).

use super::{open_db, Failure};
use crate::db::partition::{self, PartitionError};
use chrono::Datelike;

pub(super) fn partition_records(
    config: &crate::config::Config,
    years: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let years = match years {
        Some(text) => parse_years(&text)?,
        None => {
            let this = chrono::Utc::now().year();
            vec![this, this + 1]
        }
    };
    let db = open_db(config)?;
    let mut conn = db.conn()?;
    let outcome = partition::partition_records(&mut conn, &years).map_err(|e| match e {
        PartitionError::Db(e) => Failure::Internal(e.to_string()),
        refused => Failure::Refused(refused.to_string()),
    })?;
    if json {
        say!("{}", serde_json::to_string_pretty(&outcome)?);
        return Ok(());
    }
    if outcome.converted {
        say!("records 已按毕业年度分区 / records is now partitioned by graduation year");
    } else if outcome.created.is_empty() {
        say!("所需年度分区均已存在 / every year asked for has its partition already");
    }
    for name in &outcome.created {
        say!("新建分区 / partition made: {name}");
    }
    for p in &outcome.partitions {
        let year = p.year.map_or("其他 / other".to_string(), |y| y.to_string());
        say!("{:<16} {:>12} {:>12}", p.name, year, p.records);
    }
    Ok(())
}

/// `2024-2027`, `2025,2026` or a mix (`2020,2024-2026`), as a list of years.
fn parse_years(text: &str) -> Result<Vec<i32>, Failure> {
    let bad = || {
        Failure::Refused(format!(
            "年度无效：“{text}”（应如 2024-2027 或 2025,2026）/ invalid years: write 2024-2027 or 2025,2026"
        ))
    };
    let mut years = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (part, part),
        };
        let from: i32 = from.parse().map_err(|_| bad())?;
        let to: i32 = to.parse().map_err(|_| bad())?;
        if from > to || !partition::YEARS.contains(&from) || !partition::YEARS.contains(&to) {
            return Err(bad());
        }
        years.extend(from..=to);
    }
    if years.is_empty() {
        return Err(bad());
    }
    Ok(years)
}

#[cfg(test)]
mod tests {
    use super::parse_years;

    #[test]
    fn years_are_ranges_and_lists() {
        assert_eq!(parse_years("2024-2026").ok(), Some(vec![2024, 2025, 2026]));
        assert_eq!(
            parse_years("2020, 2024-2025").ok(),
            Some(vec![2020, 2024, 2025])
        );
        for bad in ["", "2026-2024", "20x5", "1800", "2024-", ","] {
            assert!(parse_years(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
