//! `gradhub report`: the 111号 summary of an organisation as CSV, XLSX or JSON, and the lists of
//! records behind a count (the overdue lists among them), written from the console.

use super::{console_caller, open_db, table_format, with_output, Failure};
use crate::config::Config;
use crate::distribution::DistError;
use crate::report::write::{self, SummaryFormat};
use crate::report::DrillQuery;
use crate::startup::Hub;
use chrono::NaiveDate;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ReportAction {
    /// The 111号 summary: one row per organisation below, the 本级 row, the total row.
    Summary {
        #[arg(long)]
        year: i32,
        /// Cut-off day (the data as it stood at the end of it, China time).
        #[arg(long)]
        as_of: NaiveDate,
        /// The organisation (default: the ministry, the whole country).
        #[arg(long)]
        org: Option<String>,
        /// csv (UTF-8 with BOM), xlsx or json.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// The records behind one count of the summary (a column id such as contacted, service:03,
    /// overdue_contact, overdue_1131), masked unless --unmasked; an audit event.
    Records {
        #[arg(long)]
        year: i32,
        #[arg(long)]
        as_of: NaiveDate,
        #[arg(long)]
        column: String,
        #[arg(long)]
        org: Option<String>,
        /// Only what the organisation holds itself (the 本级 row).
        #[arg(long)]
        own: bool,
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        #[arg(long)]
        unmasked: bool,
    },
}

fn refused(e: DistError) -> Failure {
    match e {
        DistError::NotFound => Failure::Refused("机构不存在 / no such organisation".into()),
        DistError::Invalid { zh, en, .. } | DistError::Forbidden { zh, en } => {
            Failure::Refused(format!("{zh} / {en}"))
        }
        other => Failure::Internal(other.to_string()),
    }
}

pub fn report(config: Config, action: ReportAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let hub = Hub::with_db(config, db)?;
    let tree = hub.dist.tree()?;
    match action {
        ReportAction::Summary {
            year,
            as_of,
            org,
            format,
            output,
        } => {
            let format = SummaryFormat::parse(&format).ok_or_else(|| {
                Failure::Refused(format!(
                    "格式应为 csv、xlsx 或 json / format must be csv, xlsx or json: {format}"
                ))
            })?;
            let caller = console_caller(&tree, None, "cli:report", true)?;
            let summary = hub
                .reports
                .summary(&caller, year, as_of, org.as_deref())
                .map_err(refused)?;
            with_output(output.as_deref(), |out| {
                write::write(&summary, format, out)?;
                Ok(())
            })?;
            let total = summary.total.count("received");
            eprintln!(
                "{} {} 届 截至 {}：{} 行，移交 {} 人 / {} rows, {} records",
                summary.org_name,
                year,
                as_of,
                summary.rows.len(),
                total,
                summary.rows.len(),
                total
            );
            Ok(())
        }
        ReportAction::Records {
            year,
            as_of,
            column,
            org,
            own,
            format,
            output,
            unmasked,
        } => {
            let format = table_format(&format)?;
            let caller = console_caller(&tree, None, "cli:report", unmasked)?;
            let q = DrillQuery {
                year,
                as_of,
                org,
                own,
                column,
            };
            let n = with_output(output.as_deref(), |out| {
                hub.reports
                    .drill_download(&caller, &q, format, out)
                    .map_err(refused)
            })?;
            eprintln!("{n} 条记录 / {n} records");
            Ok(())
        }
    }
}
