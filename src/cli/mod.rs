//! The command line: clap definitions and what each subcommand does. Exit codes: 0 when the work
//! was done (a transfer file processed, even with rejects), 2 when the input was refused and
//! nothing stored, 1 for an internal error, and for `followup import` when some rows were
//! rejected (a local office's clerk fixes those lines and sends them again).

/// Prints a line on standard output through [`Stdout`], so `gradhub … | head` never panics; any
/// other write failure is the command's failure.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::cli::Stdout, $($arg)*)?;
    }};
}

mod admin;
mod calendar;
mod followup;
mod outbox;
mod partition;
mod register;
mod report;
mod tour;
mod unemployment;

use crate::access;
use crate::config::Config;
use crate::db::{self, batches, Db};
use crate::domain::division::DivisionTable;
use crate::domain::routing::Router;
use crate::export::{self, TableFormat};
use crate::ingest::{self, BatchSummary, Channel, IngestError, IngestRequest, Progress, Refusal};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "gradhub",
    version,
    about = "离校未就业高校毕业生实名登记分发中心 / graduate registration hub"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (API, OpenAPI document at /api-docs/openapi.json).
    Serve,
    /// Start on a demo database with generated records: the quickest way to look around.
    Demo {
        /// Demo database file (recreated).
        #[arg(long, default_value = "gradhub-demo.db")]
        db: PathBuf,
        /// Rows of generated demo data.
        #[arg(long, default_value_t = 5_000)]
        rows: usize,
    },
    /// Apply pending database migrations and load reference data on first start.
    Migrate,
    /// PostgreSQL: partition `records` by graduation year (one partition a year and a default
    /// one), or add years to a partitioned hub. One transaction; run it while the hub is stopped.
    PartitionRecords {
        /// Years to give a partition, e.g. `2024-2027` or `2025,2026` (default: this year and
        /// the next); every year already stored gets one too.
        #[arg(long)]
        years: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Ingest a transfer file (CSV/TSV in UTF-8, UTF-8-BOM, GBK/GB18030; or XLSX).
    Ingest {
        file: PathBuf,
        /// Sender code (education department or office), e.g. 370000.
        #[arg(long)]
        source: String,
        /// education | walk_in | visit | self
        #[arg(long, default_value = "education")]
        channel: String,
        /// Validate only: report, store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Register one graduate an office found itself (walk-in or visit, LD/T 6009 §4.2), held
    /// at that office; the values are judged by the transfer file's rules.
    Register {
        /// The registering county or grassroots office (its code, e.g. 370102).
        #[arg(long)]
        org: String,
        /// walk_in (办理登记、报到、档案托管时获取) | visit (入户走访摸排)
        #[arg(long)]
        channel: String,
        /// A value by its transfer-file column key, e.g. `--field name=张三`; repeat for each.
        #[arg(long = "field", value_name = "KEY=VALUE")]
        fields: Vec<String>,
        /// A JSON object of values by column key (the API's `record`), with or instead of
        /// `--field`.
        #[arg(long)]
        record: Option<PathBuf>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List recent batches.
    Batches {
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One batch: its summary or its reject report.
    Batch {
        #[command(subcommand)]
        action: BatchAction,
    },
    /// Stored records.
    Records {
        #[command(subcommand)]
        action: RecordsAction,
    },
    /// Explain where a division code or an address routes.
    Route {
        #[arg(long)]
        explain: String,
        #[arg(long)]
        json: bool,
    },
    /// The division table (GB/T 2260) and its successor table.
    Divisions {
        #[command(subcommand)]
        action: DivisionsAction,
    },
    /// Organisations: the receiving tree, grassroots points, senders, contacts.
    Orgs {
        #[command(subcommand)]
        action: admin::OrgsAction,
    },
    /// Users who sign in (password hashed with argon2id).
    Users {
        #[command(subcommand)]
        action: admin::UsersAction,
    },
    /// API tokens for systems (stored hashed; shown once).
    Tokens {
        #[command(subcommand)]
        action: admin::TokensAction,
    },
    /// Distribution packages: cut them, and list an organisation's inbox.
    Packages {
        #[command(subcommand)]
        action: admin::PackagesAction,
    },
    /// The mail outbox: pending, sent and failed messages.
    Outbox {
        #[command(subcommand)]
        action: outbox::OutboxAction,
    },
    /// The working-day calendar (holidays and 调休): covered years, importing a new year.
    Calendar {
        #[command(subcommand)]
        action: calendar::CalendarAction,
    },
    /// The 111号 summary and the records behind its counts (overdue lists).
    Report {
        #[command(subcommand)]
        action: report::ReportAction,
    },
    /// Cross-region unemployment registration: the daily deregistration file, the monthly
    /// statistics.
    Unemployment {
        #[command(subcommand)]
        action: unemployment::UnemploymentAction,
    },
    /// Follow-up files from local offices: contacts, services, policies, employment states.
    Followup {
        #[command(subcommand)]
        action: followup::FollowupAction,
    },
    /// Background work: run one pass now (drop folder, placing, cutting, reminders, outbox).
    Jobs {
        #[command(subcommand)]
        action: admin::JobsAction,
    },
    /// Generate a realistic synthetic transfer file (with a few percent of faults).
    DemoData {
        #[arg(long, default_value_t = 1_000)]
        rows: usize,
        #[arg(short = 'o', long)]
        output: PathBuf,
        /// Write GBK/GB18030 instead of UTF-8.
        #[arg(long)]
        gbk: bool,
        /// Write XLSX instead of CSV.
        #[arg(long)]
        xlsx: bool,
        /// Random seed (the same seed gives the same file).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Share of faulty rows, in percent.
        #[arg(long, default_value_t = 4.0)]
        fault_percent: f64,
    },
}

#[derive(Subcommand)]
enum BatchAction {
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// The reject report: 行号, 列, 值, 原因代码, 说明.
    Rejects {
        id: i64,
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum RecordsAction {
    /// Transfer-file columns with Chinese headers, then 路由省代码, 路由市代码, 路由县代码, 路由方式.
    Export {
        /// Only records routed to this province (e.g. 370000).
        #[arg(long)]
        province: Option<String>,
        #[arg(long, default_value = "csv")]
        format: String,
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Write ID numbers, phone numbers and birth dates whole. Without it they are masked, as
        /// for any view that may not see them; either way the export is an audit event.
        #[arg(long)]
        unmasked: bool,
    },
}

#[derive(Subcommand)]
enum DivisionsAction {
    /// Edition and size of the table in use.
    Show,
    /// Replace the division table with a newer edition (CSV: code,name,level,parent).
    Import {
        file: PathBuf,
        /// Edition date of the file, e.g. 2026-06-30.
        #[arg(long)]
        edition: String,
    },
    /// Add successor rows (CSV: old_code,old_name,old_level,old_parent,new_code,effective,note).
    ImportSuccessors { file: PathBuf },
}

/// A command's failure: refused input (exit 2), an internal error (exit 1), or work done with
/// rows rejected (exit 1, the message says where the rejects are).
pub(crate) enum Failure {
    Refused(String),
    Internal(String),
    Rejected(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Internal(e.to_string())
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("配置错误 / configuration error: {e}");
            return 1;
        }
    };
    crate::telemetry::init(&config.log_format, &config.log);
    match run(cli.command, config) {
        Ok(()) => 0,
        Err(Failure::Refused(message)) => {
            eprintln!("{message}");
            2
        }
        Err(Failure::Internal(message)) => {
            eprintln!("错误 / error: {message}");
            1
        }
        Err(Failure::Rejected(message)) => {
            eprintln!("{message}");
            1
        }
    }
}

/// Ends the process with `code` at once, without the C library's exit handlers.
///
/// Why: r2d2 opens connections in its own threads, so a command that took several connections
/// at once (the summary's four counts) can end while one of them is still being opened inside
/// libpq; `exit()` then ran OpenSSL's cleanup beneath it and the process crashed (SIGSEGV, about
/// one run in 150 on a loaded machine, PostgreSQL only). Everything a command writes is written,
/// flushed and closed before it returns; only the pool's threads are cut off here.
pub fn exit(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process without touching any state of this one.
    unsafe { libc::_exit(code) }
}

pub(crate) fn open_db(config: &Config) -> Result<Db, Failure> {
    Ok(Db::open(
        config.database_url.expose(),
        config.pool_size,
        config.busy_timeout(),
    )?)
}

/// The console operator acting for organisation `org` (default the ministry), with its scope;
/// `unmasked` for work that shows personal numbers whole (an audited choice of the operator),
/// else masked like an auditor's view.
pub(crate) fn console_caller(
    tree: &crate::authz::OrgTree,
    org: Option<&str>,
    actor: &str,
    unmasked: bool,
) -> Result<crate::authz::Caller, Failure> {
    let mut caller = crate::authz::Caller::job("cli", tree)
        .ok_or_else(|| Failure::Internal("no ministry organisation".into()))?;
    if let Some(code) = org {
        let node = tree.by_code(code).ok_or_else(|| {
            Failure::Refused(format!("机构 {code} 不存在 / no organisation {code}"))
        })?;
        caller.org_id = node.id;
        caller.org_code = node.code.clone();
        caller.org_level = node.level;
        caller.scope = tree.scope_of(node.id);
        caller.actor.org_id = Some(node.id);
    }
    caller.actor.name = actor.to_string();
    if !unmasked {
        caller.role = crate::domain::organisation::Role::Auditor;
    }
    Ok(caller)
}

pub(crate) fn load_router(db: &Db) -> Result<Router, Failure> {
    let mut conn = db.conn()?;
    Ok(Router::new(db::reference::load_table(&mut conn)?))
}

fn run(command: Command, config: Config) -> Result<(), Failure> {
    match command {
        Command::Serve => serve(config),
        Command::Orgs { action } => admin::orgs(config, action),
        Command::Users { action } => admin::users(config, action),
        Command::Tokens { action } => admin::tokens(config, action),
        Command::Packages { action } => admin::packages(config, action),
        Command::Jobs { action } => admin::jobs(config, action),
        Command::Outbox { action } => outbox::outbox(config, action),
        Command::Calendar { action } => calendar::calendar(config, action),
        Command::Report { action } => report::report(config, action),
        Command::Unemployment { action } => unemployment::unemployment(config, action),
        Command::Followup { action } => followup::followup(config, action),
        Command::Demo { db, rows } => demo(config, &db, rows),
        Command::Migrate => {
            let db = open_db(&config)?;
            say!(
                "数据库已是最新 / database is up to date ({})",
                db.backend().as_str()
            );
            Ok(())
        }
        Command::PartitionRecords { years, json } => {
            partition::partition_records(&config, years, json)
        }
        Command::Ingest {
            file,
            source,
            channel,
            dry_run,
            json,
        } => {
            let channel = Channel::parse(&channel).ok_or_else(|| {
                Failure::Refused(format!(
                    "来源渠道无效：“{channel}”（应为 education、walk_in、visit 或 self）/ invalid channel"
                ))
            })?;
            let db = open_db(&config)?;
            let router = load_router(&db)?;
            ingest_file(&db, &router, &file, &source, channel, dry_run, json)
        }
        Command::Register {
            org,
            channel,
            fields,
            record,
            json,
        } => register::register(config, &org, &channel, &fields, record.as_deref(), json),
        Command::Batches { json, limit } => {
            let db = open_db(&config)?;
            let mut conn = db.conn()?;
            let rows = batches::list(&mut conn, limit)?;
            let summaries: Vec<BatchSummary> = rows.iter().map(BatchSummary::from_row).collect();
            if json {
                say!("{}", serde_json::to_string_pretty(&summaries)?);
            } else {
                say!("批次\t来源\t文件\t行数\t新增\t更新\t拒收\t待处理\t时间");
                for s in &summaries {
                    say!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        s.batch_id.unwrap_or(0),
                        s.source,
                        s.file_name,
                        s.rows,
                        s.accepted,
                        s.updated,
                        s.rejected,
                        s.quarantined,
                        s.finished_at.format("%Y-%m-%d %H:%M")
                    );
                }
            }
            Ok(())
        }
        Command::Batch { action } => batch(config, action),
        Command::Records { action } => match action {
            RecordsAction::Export {
                province,
                format,
                output,
                unmasked,
            } => {
                let format = table_format(&format)?;
                let db = open_db(&config)?;
                let filter = db::records::RecordFilter {
                    province: province.clone(),
                    batch_id: None,
                };
                let mut conn = db.conn()?;
                let written = with_output(output.as_deref(), |out| {
                    Ok(export::write_records(
                        &mut conn, &filter, format, !unmasked, out,
                    )?)
                });
                // The command line is a channel like any other: its exports of personal data
                // are audited, whole or masked, and even when writing failed half-way.
                db::audit::record(
                    &mut conn,
                    &access::operator(),
                    "records.exported",
                    "records",
                    None,
                    Some(&serde_json::json!({
                        "channel": "cli",
                        "province": province,
                        "format": format.extension(),
                        "masked": !unmasked,
                        "records": written.as_ref().ok(),
                        "output": output.as_ref().map(|p| p.display().to_string()),
                    })),
                )?;
                let count = written?;
                eprintln!("已导出 {count} 条记录 / exported {count} records");
                Ok(())
            }
        },
        Command::Route { explain, json } => {
            let db = open_db(&config)?;
            let router = load_router(&db)?;
            let explanation = router.explain(&explain);
            if json {
                say!("{}", serde_json::to_string_pretty(&explanation)?);
            } else {
                say!("{explanation}");
            }
            Ok(())
        }
        Command::Divisions { action } => divisions(config, action),
        Command::DemoData {
            rows,
            output,
            gbk,
            xlsx,
            seed,
            fault_percent,
        } => {
            let options = crate::demo::Options {
                rows,
                seed,
                fault_rate: fault_percent / 100.0,
                encoding: if gbk {
                    crate::demo::TextEncoding::Gbk
                } else {
                    crate::demo::TextEncoding::Utf8
                },
            };
            let table = DivisionTable::embedded();
            if xlsx {
                crate::demo::write_xlsx(&table, &options, &output)?;
            } else {
                crate::demo::write_csv(&table, &options, &output)?;
            }
            eprintln!(
                "已生成 {rows} 行 / wrote {rows} rows to {}",
                output.display()
            );
            Ok(())
        }
    }
}

/// A file refused whole: printed as JSON when asked, and the failure (exit 2) that says so.
pub(crate) fn file_refused(r: &Refusal, json: bool) -> Result<Failure, Failure> {
    if json {
        say!(
            "{}",
            serde_json::json!({"refused": true, "code": r.code, "message": r.message, "message_en": r.message_en})
        );
    }
    Ok(Failure::Refused(format!(
        "文件未接收，未存储任何数据 / file refused, nothing stored\n{}（{}）\n{}",
        r.message, r.code, r.message_en
    )))
}

pub(crate) fn table_format(s: &str) -> Result<TableFormat, Failure> {
    TableFormat::parse(s).ok_or_else(|| {
        Failure::Refused(format!(
            "格式应为 csv 或 xlsx / format must be csv or xlsx: {s}"
        ))
    })
}

/// Runs `write` against the file named by `output`, or standard output.
pub(crate) fn with_output<T>(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn WriteSend) -> Result<T, Failure>,
) -> Result<T, Failure> {
    match output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            let value = write(&mut file)?;
            file.flush()?;
            Ok(value)
        }
        None => {
            let mut stdout = Stdout;
            let value = write(&mut stdout)?;
            stdout.flush()?;
            Ok(value)
        }
    }
}

/// Standard output that a closed pipe (`gradhub ingest --json | head -c 300`) silences: what is
/// left unprinted is dropped and the command ends with the exit code of its work, not a panic.
pub(crate) struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::io::stdout().write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match std::io::stdout().flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// A writer that can cross into the XLSX writer (which needs `Send`).
pub trait WriteSend: Write + Send {}
impl<W: Write + Send> WriteSend for W {}

fn ingest_file(
    db: &Db,
    router: &Router,
    file: &Path,
    source: &str,
    channel: Channel,
    dry_run: bool,
    json: bool,
) -> Result<(), Failure> {
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !file.is_file() {
        return Err(Failure::Refused(format!(
            "找不到文件 / file not found: {}",
            file.display()
        )));
    }
    let request = IngestRequest {
        path: file,
        file_name: &file_name,
        source,
        channel,
        dry_run,
    };
    let bar = TerminalProgress::new(!json);
    let mut conn = db.conn()?;
    let outcome = match ingest::ingest(&mut conn, router, &request, &bar) {
        Ok(o) => o,
        Err(IngestError::Refused(r)) => {
            bar.finish();
            return Err(file_refused(&r, json)?);
        }
        Err(e) => return Err(e.into()),
    };
    let summary = outcome.summary;
    if json {
        let mut value = serde_json::to_value(&summary)?;
        if dry_run {
            value["problems"] = serde_json::to_value(&outcome.problems)?;
        }
        say!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_summary(&summary)?;
        if dry_run {
            for p in outcome.problems.iter().take(50) {
                say!(
                    "第 {} 行 {}：{}（{}）",
                    p.line,
                    ingest::column_header(&p.column_key),
                    p.message,
                    p.code
                );
            }
            if outcome.problems.len() > 50 {
                say!(
                    "……共 {} 条问题 / {} problems in all",
                    outcome.problems.len(),
                    outcome.problems.len()
                );
            }
        }
    }
    Ok(())
}

fn print_summary(s: &BatchSummary) -> Result<(), Failure> {
    if let Some(first) = s.duplicate_of {
        say!("该文件已接收过（批次 {first}），未重复存储 / already ingested as batch {first}; nothing stored twice");
    }
    if s.dry_run {
        say!("试运行：仅校验，未存储 / dry run: validated only, nothing stored");
    }
    say!(
        "批次 / batch: {}",
        s.batch_id.map_or("-".to_string(), |b| b.to_string())
    );
    say!(
        "文件 / file: {} ({} {}, sha256 {})",
        s.file_name,
        s.format,
        s.encoding,
        s.sha256
    );
    say!(
        "行数 {} ｜ 新增 {} ｜ 更新 {} ｜ 拒收 {} ｜ 警告 {} ｜ 待人工处理 {}",
        s.rows,
        s.accepted,
        s.updated,
        s.rejected,
        s.warnings,
        s.quarantined
    );
    let routed: Vec<String> = s.routed.iter().map(|(k, v)| format!("{k} {v}")).collect();
    say!("路由 / routed: {}", routed.join(", "));
    if !s.unknown_columns.is_empty() {
        say!(
            "未识别的列（已忽略）/ unknown columns ignored: {}",
            s.unknown_columns.join("、")
        );
    }
    Ok(())
}

fn batch(config: Config, action: BatchAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let mut conn = db.conn()?;
    match action {
        BatchAction::Show { id, json } => {
            let row = batches::get(&mut conn, id)?.ok_or_else(|| {
                Failure::Refused(format!("批次 {id} 不存在 / batch {id} not found"))
            })?;
            let summary = BatchSummary::from_row(&row);
            if json {
                say!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print_summary(&summary)?;
            }
            Ok(())
        }
        BatchAction::Rejects { id, format, output } => {
            let format = table_format(&format)?;
            if batches::get(&mut conn, id)?.is_none() {
                return Err(Failure::Refused(format!(
                    "批次 {id} 不存在 / batch {id} not found"
                )));
            }
            let lines = with_output(output.as_deref(), |out| {
                // The operator on the hub's own machine sees what the sender sent.
                Ok(export::write_rejects(&mut conn, id, format, false, out)?)
            })?;
            eprintln!("{lines} 条问题 / {lines} problem lines");
            Ok(())
        }
    }
}

fn divisions(config: Config, action: DivisionsAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let mut conn = db.conn()?;
    let current = db::reference::load_table(&mut conn)?;
    match action {
        DivisionsAction::Show => {
            say!(
                "版本 / edition {}: {} divisions, {} successor rows",
                current.edition(),
                current.divisions().count(),
                current.successors().count()
            );
            Ok(())
        }
        DivisionsAction::Import { file, edition } => {
            let text = read_text(&file)?;
            let list = DivisionTable::parse_divisions_csv(&text)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let table =
                DivisionTable::from_parts(edition, list, current.successors().cloned().collect())
                    .map_err(|e| Failure::Refused(e.to_string()))?;
            db::reference::replace_table(&mut conn, &table)?;
            print_table_warnings(&table);
            say!(
                "已导入 / imported edition {}: {} divisions (restart `gradhub serve` to use it)",
                table.edition(),
                table.divisions().count()
            );
            Ok(())
        }
        DivisionsAction::ImportSuccessors { file } => {
            let text = read_text(&file)?;
            let added = DivisionTable::parse_successors_csv(&text)
                .map_err(|e| Failure::Refused(e.to_string()))?;
            let mut successors: Vec<_> = current.successors().cloned().collect();
            let count = added.len();
            successors.retain(|s| !added.iter().any(|a| a.old_code == s.old_code));
            successors.extend(added);
            let table = DivisionTable::from_parts(
                current.edition().to_string(),
                current.divisions().cloned().collect(),
                successors,
            )
            .map_err(|e| Failure::Refused(e.to_string()))?;
            if !table.warnings().is_empty() {
                print_table_warnings(&table);
                return Err(Failure::Refused(
                    "沿革表有与现行区划不符的行，未导入 / successor rows disagree with the current edition; nothing imported".into(),
                ));
            }
            db::reference::replace_table(&mut conn, &table)?;
            say!("已导入 {count} 条沿革 / imported {count} successor rows");
            Ok(())
        }
    }
}

fn print_table_warnings(table: &DivisionTable) {
    for warning in table.warnings() {
        eprintln!("警告 / warning: {warning}");
    }
}

fn read_text(path: &Path) -> Result<String, Failure> {
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes).map_err(|_| {
        Failure::Refused(format!(
            "{} 不是 UTF-8 文本 / is not UTF-8 text",
            path.display()
        ))
    })
}

fn serve(config: Config) -> Result<(), Failure> {
    run_app(crate::startup::Application::build(config)?)
}

/// Serves until stopped, after telling the operator where (the port chosen when `bind` asked for
/// port 0).
fn run_app(app: crate::startup::Application) -> Result<(), Failure> {
    eprintln!(
        "gradhub 已启动 / listening on http://{}  (API: /api-docs/openapi.json)",
        app.address()
    );
    app.run_until_stopped()?;
    Ok(())
}

fn demo(mut config: Config, path: &Path, rows: usize) -> Result<(), Failure> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    config.database_url = path.display().to_string().into();
    let hub = crate::startup::Hub::open(config)?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("demo-2026.csv");
    let options = crate::demo::Options {
        rows,
        seed: 2026,
        fault_rate: 0.04,
        encoding: crate::demo::TextEncoding::Utf8,
    };
    crate::demo::write_csv(hub.router.table(), &options, &file)?;
    tour::add_sender(&hub)?;
    ingest_file(
        &hub.db,
        &hub.router,
        &file,
        tour::DEMO_SENDER,
        Channel::Education,
        false,
        false,
    )?;
    tour::walk(&hub)?;
    eprintln!(
        "工作台 / dashboard: http://{}/  (sign in as one of the users above)",
        hub.config.bind
    );
    run_app(crate::startup::Application::from_hub(hub)?)
}

/// A progress bar on a terminal (indicatif draws nothing when standard error is not one).
struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl TerminalProgress {
    fn new(enabled: bool) -> TerminalProgress {
        TerminalProgress {
            bar: enabled.then(|| {
                indicatif::ProgressBar::with_draw_target(
                    None,
                    indicatif::ProgressDrawTarget::stderr(),
                )
            }),
        }
    }
}

impl Progress for TerminalProgress {
    fn start(&self, total_bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total_bytes);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:40} {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
        }
    }

    fn update(&self, bytes_read: u64, rows: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(bytes_read);
            bar.set_message(format!("{rows} 行"));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
