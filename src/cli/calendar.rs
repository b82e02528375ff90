//! `gradhub calendar show | import FILE`: the working-day calendar in the database — which years
//! are covered, and loading a year's official holiday schedule once the State Council publishes it.

use super::{open_db, read_text, Failure};
use crate::config::Config;
use crate::db;
use crate::domain::calendar;
use chrono::NaiveDate;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CalendarAction {
    /// The covered years (rows, source, when loaded) and whether a year's schedule is missing.
    Show {
        /// Judge coverage as of another day (Beijing date), e.g. for a drill.
        #[arg(long)]
        today: Option<NaiveDate>,
        #[arg(long)]
        json: bool,
    },
    /// Load a schedule (CSV `date,kind,festival`, UTF-8). The whole file is checked first: a bad
    /// line refuses it and nothing is stored. Each year in the file replaces that year's rows.
    Import { file: PathBuf },
}

pub fn calendar(config: Config, action: CalendarAction) -> Result<(), Failure> {
    match action {
        CalendarAction::Show { today, json } => {
            let db = open_db(&config)?;
            let mut conn = db.conn()?;
            let today = today.unwrap_or_else(crate::ingest::china_today);
            let years = db::calendar::covered_years(&mut conn)?;
            let coverage = db::calendar::load(&mut conn)?.coverage(today);
            let warning = coverage.warning(today);
            if json {
                let years: Vec<_> = years
                    .iter()
                    .map(|(y, rows)| {
                        serde_json::json!({
                            "year": y.year, "rows": rows, "source": y.source, "loaded_at": y.loaded_at,
                        })
                    })
                    .collect();
                say!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "today": today, "years": years, "coverage": coverage, "warning": warning,
                    }))?
                );
                return Ok(());
            }
            let list: Vec<String> = years.iter().map(|(y, _)| y.year.to_string()).collect();
            say!(
                "已覆盖年份 / years covered: {}",
                if list.is_empty() {
                    "无 / none".to_string()
                } else {
                    list.join(", ")
                }
            );
            for (y, rows) in &years {
                say!(
                    "  {}\t{} 行 rows\t{}\t{}",
                    y.year,
                    rows,
                    y.source,
                    y.loaded_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
            if let Some(w) = warning {
                say!("警告 / warning: {w}");
            }
            Ok(())
        }
        CalendarAction::Import { file } => {
            if !file.is_file() {
                return Err(Failure::Refused(format!(
                    "找不到文件，未导入 / file not found, nothing imported: {}",
                    file.display()
                )));
            }
            let text = read_text(&file)?;
            let rows = calendar::parse_csv(&text).map_err(|e| {
                Failure::Refused(format!(
                    "日历文件未导入，未存储任何数据 / calendar file refused, nothing stored\n{}: {e}",
                    file.display()
                ))
            })?;
            let source = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let db = open_db(&config)?;
            let mut conn = db.conn()?;
            let replaced =
                db::calendar::import(&mut conn, &rows, &source, &crate::access::operator())?;
            for r in &replaced {
                say!(
                    "已导入 / imported {}: {} 行 rows (之前 before: {})",
                    r.year,
                    r.rows_after,
                    r.rows_before
                );
            }
            // Packages whose deadlines were provisional get the real ones now (unless their
            // receiver was already reminded). Stored after the calendar: should this fail, they
            // stay marked provisional, which is still true.
            let hub = crate::startup::Hub::with_db(config.clone(), db.clone())?;
            let recounted = hub
                .dist
                .recount_provisional_deadlines(&crate::access::operator())
                .map_err(|e| Failure::Internal(e.to_string()))?;
            if !recounted.is_empty() {
                say!(
                    "已按新日历重算 {} 个分发包的暂定期限 / recounted the provisional deadlines of {} packages",
                    recounted.len(),
                    recounted.len()
                );
            }
            let applications = hub
                .unemployment
                .recount_provisional(&crate::access::operator())
                .map_err(|e| Failure::Internal(e.to_string()))?;
            if applications > 0 {
                say!(
                    "已按新日历重算 {applications} 份失业登记申请的暂定审核时限 / recounted the provisional review deadlines of {applications} unemployment applications"
                );
            }
            let today = crate::ingest::china_today();
            if let Some(w) = db::calendar::load(&mut conn)?
                .coverage(today)
                .warning(today)
            {
                say!("警告 / warning: {w}");
            }
            Ok(())
        }
    }
}
