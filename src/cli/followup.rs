//! `gradhub followup import FILE --org CODE`: a local office's follow-up file (CSV/XLSX, one sheet
//! or file per set) imported as that organisation, through the same reader and rule set as the
//! upload `POST /api/v1/followup/files`. Exit codes: 0 when every row was stored (or had been),
//! 1 when some rows were rejected (the reject report written), 2 when the file was refused and
//! nothing stored.

use super::{Failure, TerminalProgress};
use crate::access;
use crate::authz::{Actor, Caller};
use crate::config::Config;
use crate::db::users;
use crate::domain::followup::EventKind;
use crate::domain::organisation::{OrgLevel, Role};
use crate::export::TableFormat;
use crate::followup::import::{self, ImportError, ImportRequest, ImportSummary};
use crate::ingest::Progress;
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum FollowupAction {
    /// Import a follow-up file: contacts, services, policies, employment states, updates.
    Import {
        file: PathBuf,
        /// The organisation the follow-up is recorded by (its code, e.g. 370102); only records it
        /// holds (or holds below it) can be followed up.
        #[arg(long)]
        org: String,
        /// Act as this user of the organisation (its role and its name in the audit trail);
        /// without it, as the organisation's staff, audited as the operator.
        #[arg(long = "as")]
        username: Option<String>,
        /// Judge every row, store nothing.
        #[arg(long)]
        dry_run: bool,
        /// The kind of rows nothing else gives one: contact | service | policy | state | update
        /// (or 首次联系, 就业服务, 就业政策, 就业状态, 信息更新).
        #[arg(long)]
        kind: Option<String>,
        /// Write the reject report here (`.csv`, UTF-8 with BOM, or `.xlsx`).
        #[arg(long, value_name = "OUT")]
        rejects: Option<PathBuf>,
        /// Print the import summary as one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn followup(config: Config, action: FollowupAction) -> Result<(), Failure> {
    let FollowupAction::Import {
        file,
        org,
        username,
        dry_run,
        kind,
        rejects,
        json,
    } = action;
    let kind = kind
        .as_deref()
        .map(|k| {
            EventKind::parse(k).ok_or_else(|| {
                Failure::Refused(format!(
                    "事件类型无效：“{k}”（应为 contact、service、policy、state、update，或 首次联系、就业服务、就业政策、就业状态、信息更新）/ invalid kind"
                ))
            })
        })
        .transpose()?;
    let report_format = rejects.as_deref().map(report_format).transpose()?;
    if !file.is_file() {
        return Err(Failure::Refused(format!(
            "找不到文件 / file not found: {}",
            file.display()
        )));
    }
    let hub = crate::startup::Hub::open(config)?;
    let caller = caller_for(&hub, &org, username.as_deref())?;
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let request = ImportRequest {
        path: &file,
        file_name: &file_name,
        kind,
        dry_run,
    };
    let bar = TerminalProgress::new(!json);
    let summary = match hub.followup.import_file(&caller, &request, &bar) {
        Ok(s) => s,
        Err(ImportError::Refused(r)) => {
            bar.finish();
            return Err(super::file_refused(&r, json)?);
        }
        Err(ImportError::Service(crate::distribution::DistError::Forbidden { zh, en })) => {
            return Err(Failure::Refused(format!("{zh} / {en}")));
        }
        Err(e) => return Err(e.into()),
    };
    if let (Some(path), Some(format)) = (rejects.as_deref(), report_format) {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        import::write_rejects(&summary, format, &mut out)?;
        out.flush()?;
    }
    if json {
        say!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary, rejects.as_deref())?;
    }
    if summary.rejected > 0 {
        let whereto = match &rejects {
            Some(p) => format!("拒收明细见 {} / see the reject report", p.display()),
            None => "可用 --rejects OUT.csv 写出拒收明细 / write the report with --rejects".into(),
        };
        return Err(Failure::Rejected(format!(
            "{} 行未接收 / {} rows rejected; {whereto}",
            summary.rejected, summary.rejected
        )));
    }
    Ok(())
}

fn report_format(path: &Path) -> Result<TableFormat, Failure> {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(TableFormat::parse)
        .ok_or_else(|| {
            Failure::Refused(format!(
                "拒收明细文件应以 .csv 或 .xlsx 结尾 / the reject report must end in .csv or .xlsx: {}",
                path.display()
            ))
        })
}

/// The caller the import acts as: the organisation's staff (the role of its level), or one of its
/// users. Either way the audit trail names the operator at the console.
fn caller_for(
    hub: &crate::startup::Hub,
    code: &str,
    as_user: Option<&str>,
) -> Result<Caller, Failure> {
    let tree = hub
        .dist
        .tree()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    let node = tree
        .by_code(code)
        .ok_or_else(|| Failure::Refused(format!("机构 {code} 不存在 / no organisation {code}")))?;
    let operator = access::operator();
    let (role, actor) = match as_user {
        None => (staff_role(node.level), operator.name),
        Some(username) => {
            let mut conn = hub.db.conn()?;
            let user = users::find_user(&mut conn, username)?
                .filter(|u| !u.disabled)
                .ok_or_else(|| {
                    Failure::Refused(format!(
                        "用户 {username} 不存在或已停用 / no active user {username}"
                    ))
                })?;
            if user.org_id != node.id {
                return Err(Failure::Refused(format!(
                    "用户 {username} 不属于机构 {code} / user {username} is not of organisation {code}"
                )));
            }
            let role = Role::parse(&user.role)
                .ok_or_else(|| Failure::Internal(format!("user {username} has an unknown role")))?;
            (role, format!("{} as user:{username}", operator.name))
        }
    };
    Ok(Caller {
        actor: Actor {
            name: actor,
            org_id: Some(node.id),
        },
        role,
        org_id: node.id,
        org_code: node.code.clone(),
        org_level: node.level,
        scope: tree.scope_of(node.id),
    })
}

/// The staff role that sits at an organisation of this level.
fn staff_role(level: OrgLevel) -> Role {
    match level {
        OrgLevel::Ministry => Role::Ministry,
        OrgLevel::Province => Role::Province,
        OrgLevel::Prefecture => Role::Prefecture,
        OrgLevel::County => Role::County,
        OrgLevel::Grassroots => Role::Grassroots,
        OrgLevel::Sender => Role::Sender,
    }
}

fn print_summary(s: &ImportSummary, rejects: Option<&Path>) -> Result<(), Failure> {
    if s.dry_run {
        say!("试运行：仅校验，未存储 / dry run: validated only, nothing stored");
    }
    say!(
        "文件 / file: {} ({} {}, sha256 {})",
        s.file_name,
        s.format,
        s.encoding,
        s.sha256
    );
    for sheet in &s.sheets {
        let kind = sheet
            .kind
            .map_or("按事件类型列", |k| k.label_zh())
            .to_string();
        say!(
            "  {}（{kind}）：{} 行，新增 {}，已导入过 {}，拒收 {}",
            sheet.name.as_deref().unwrap_or("表格"),
            sheet.rows,
            sheet.accepted,
            sheet.duplicates,
            sheet.rejected
        );
    }
    say!(
        "行数 {} ｜ 新增 {} ｜ 已导入过（未重复存储）{} ｜ 拒收 {}",
        s.rows,
        s.accepted,
        s.duplicates,
        s.rejected
    );
    if !s.skipped_sheets.is_empty() {
        say!(
            "未读取的工作表（没有跟踪记录列）/ sheets skipped: {}",
            s.skipped_sheets.join("、")
        );
    }
    if !s.unknown_columns.is_empty() {
        say!(
            "未识别的列（已忽略）/ unknown columns ignored: {}",
            s.unknown_columns.join("、")
        );
    }
    match rejects {
        Some(path) => say!(
            "拒收明细 / reject report: {}（{} 条）",
            path.display(),
            s.problems.len()
        ),
        None => {
            for p in s.problems.iter().take(50) {
                let sheet = p
                    .sheet
                    .as_deref()
                    .map(|n| format!("{n} "))
                    .unwrap_or_default();
                // Most messages begin with their column already (日期：…); the others get it.
                let text = if p.message.starts_with(p.column.as_str()) {
                    p.message.clone()
                } else {
                    format!("{}：{}", p.column, p.message)
                };
                say!("{sheet}第 {} 行 {text}（{}）", p.line, p.code);
            }
            if s.problems.len() > 50 {
                say!(
                    "……共 {} 条问题 / {} problems in all",
                    s.problems.len(),
                    s.problems.len()
                );
            }
        }
    }
    Ok(())
}
