//! `gradhub unemployment`: the day's deregistration file of the 79号 annex and the monthly
//! registered-unemployment statistics, written from the console.

use super::{console_caller, open_db, with_output, Failure};
use crate::config::Config;
use crate::distribution::DistError;
use crate::domain::deregistration as annex;
use crate::report::write::SummaryFormat;
use crate::startup::Hub;
use crate::unemployment::stats::{self, Period};
use crate::unemployment::UnemploymentError;
use chrono::NaiveDate;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum UnemploymentAction {
    /// The deregistrations handled on a day (AAE036), in the annex's eleven fields, each checked
    /// before it is written; records that break a rule are held back and listed on stderr.
    Deregistrations {
        /// The day (`2026-11-30`).
        #[arg(long)]
        date: NaiveDate,
        /// The organisation (default: the whole country).
        #[arg(long)]
        org: Option<String>,
        /// csv (UTF-8 with BOM, header AAB301 … AAE013) or json.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// The monthly statistics of the period ending on the 20th of a month (21st–20th).
    Statistics {
        /// `2026-11` for 2026-10-21 … 2026-11-20.
        #[arg(long)]
        month: String,
        #[arg(long)]
        org: Option<String>,
        /// csv, xlsx or json.
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

fn refused(e: UnemploymentError) -> Failure {
    match e {
        UnemploymentError::Dist(DistError::NotFound) => {
            Failure::Refused("机构不存在 / no such organisation".into())
        }
        UnemploymentError::Dist(DistError::Invalid { zh, en, .. })
        | UnemploymentError::Dist(DistError::Forbidden { zh, en }) => {
            Failure::Refused(format!("{zh} / {en}"))
        }
        other => Failure::Internal(other.to_string()),
    }
}

pub fn unemployment(config: Config, action: UnemploymentAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let hub = Hub::with_db(config, db)?;
    let tree = hub.dist.tree()?;
    match action {
        UnemploymentAction::Deregistrations {
            date,
            org,
            format,
            output,
        } => {
            let json = match format.as_str() {
                "csv" => false,
                "json" => true,
                other => {
                    return Err(Failure::Refused(format!(
                        "格式应为 csv 或 json / format must be csv or json: {other}"
                    )))
                }
            };
            let caller = console_caller(&tree, org.as_deref(), "cli:unemployment", true)?;
            let file = hub
                .unemployment
                .day_file(&caller, date, crate::ingest::china_today())
                .map_err(refused)?;
            with_output(output.as_deref(), |out| {
                if json {
                    serde_json::to_writer_pretty(&mut *out, &file)
                        .map_err(|e| Failure::Internal(e.to_string()))?;
                } else {
                    out.write_all(&annex::write_csv(&file.records))?;
                }
                Ok(())
            })?;
            for b in &file.held_back {
                for r in &b.breaches {
                    eprintln!(
                        "未写入 / held back: {}+{} {} {}: {} / {}",
                        b.aab301, b.aaz341, r.field, r.rule, r.message_zh, r.message_en
                    );
                }
            }
            eprintln!(
                "{}：{} 条注销记录，{} 条未通过校验 / {} records, {} held back",
                file.date,
                file.records.len(),
                file.held_back.len(),
                file.records.len(),
                file.held_back.len()
            );
            if file.held_back.is_empty() {
                Ok(())
            } else {
                Err(Failure::Refused(
                    "有记录未通过 79号附件校验，未写入文件 / some records break the annex's rules and were held back".into(),
                ))
            }
        }
        UnemploymentAction::Statistics {
            month,
            org,
            format,
            output,
        } => {
            let period = Period::parse(&month).ok_or_else(|| {
                Failure::Refused(format!("月份应为 YYYY-MM / month must be YYYY-MM: {month}"))
            })?;
            let format = SummaryFormat::parse(&format).ok_or_else(|| {
                Failure::Refused(format!(
                    "格式应为 csv、xlsx 或 json / format must be csv, xlsx or json: {format}"
                ))
            })?;
            let caller = console_caller(&tree, None, "cli:unemployment", true)?;
            let figures = hub
                .unemployment
                .monthly(&caller, &period, org.as_deref())
                .map_err(refused)?;
            with_output(output.as_deref(), |out| {
                stats::write(&figures, format, out)?;
                Ok(())
            })?;
            eprintln!(
                "{} {}（{} 至 {}）：{} 行 / {} rows",
                figures.org_name,
                figures.period.month,
                figures.period.from,
                figures.period.to,
                figures.rows.len(),
                figures.rows.len()
            );
            Ok(())
        }
    }
}
