//! Command-line administration: organisations and contacts, users, API tokens, packages, and
//! one pass of the background jobs on demand; plus the demo's accounts.

use super::{open_db, Failure};
use crate::access::{self, AccessError};
use crate::authz::Caller;
use crate::config::Config;
use crate::db::{orgs, users};
use crate::distribution::reads::MAX_PACKAGE_PAGE;
use crate::distribution::Distribution;
use crate::domain::organisation::{OrgLevel, Role};
use crate::jobs::drop_folder::DropFolder;
use chrono::NaiveDate;
use clap::Subcommand;
use std::io::BufRead;
use std::time::{Duration, SystemTime};

/// The sender the demo's generated file comes from.

#[derive(Subcommand)]
pub enum OrgsAction {
    /// One organisation with its contacts and the organisations directly below (default: the ministry).
    Show { code: Option<String> },
    /// Add a grassroots point under a county, or a sender (education department) anywhere.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        /// grassroots | sender
        #[arg(long)]
        level: String,
        /// Code of the parent organisation.
        #[arg(long)]
        parent: String,
    },
    /// Add a contact who receives the organisation's reminders.
    AddContact {
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        phone: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum UsersAction {
    /// Add a user. The password is read from standard input (one line) or GRADHUB_NEW_PASSWORD.
    Add {
        username: String,
        /// ministry | province | prefecture | county | grassroots | sender | auditor | admin
        #[arg(long)]
        role: String,
        /// Code of the user's organisation.
        #[arg(long)]
        org: String,
        /// Display name (default: the user name).
        #[arg(long)]
        name: Option<String>,
    },
    List,
    /// Set a new password (standard input or GRADHUB_NEW_PASSWORD); also unlocks.
    Password {
        username: String,
    },
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
}

#[derive(Subcommand)]
pub enum TokensAction {
    /// Create a token for an organisation; the secret is printed once.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        /// Default: system (sender for a sender organisation); auditor for read-only access.
        #[arg(long)]
        role: Option<String>,
    },
    List,
    Revoke {
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum PackagesAction {
    /// Cut the records waiting at an organisation into packages for the organisations below.
    Cut {
        /// The holder (default: the ministry).
        #[arg(long)]
        org: Option<String>,
        /// Only for this organisation directly below.
        #[arg(long)]
        to: Option<String>,
    },
    /// Packages delivered to an organisation.
    Inbox {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum JobsAction {
    /// One pass of every job now. `--today` computes overdue packages as of another day.
    Run {
        #[arg(long)]
        today: Option<NaiveDate>,
    },
}

/// An audit event of the operator at the console.
fn audit(conn: &mut crate::db::AnyConnection, action: &str, subject: &str) -> Result<(), Failure> {
    crate::db::audit::record(conn, &access::operator(), action, subject, None, None)?;
    Ok(())
}

fn password_input() -> Result<String, Failure> {
    if let Ok(p) = std::env::var("GRADHUB_NEW_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let p = line.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        return Err(Failure::Refused(
            "请在标准输入或 GRADHUB_NEW_PASSWORD 中提供密码 / give the password on standard input or in GRADHUB_NEW_PASSWORD".into(),
        ));
    }
    Ok(p)
}

pub(super) fn refused(e: AccessError) -> Failure {
    match e {
        AccessError::Db(e) => Failure::Internal(e.to_string()),
        other => Failure::Refused(other.to_string()),
    }
}

fn parse_role(s: &str) -> Result<Role, Failure> {
    Role::parse(s).ok_or_else(|| {
        Failure::Refused(format!(
            "未知角色 {s} / unknown role {s} (ministry, province, prefecture, county, grassroots, sender, auditor, admin, system)"
        ))
    })
}

pub fn orgs(config: Config, action: OrgsAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let mut conn = db.conn()?;
    match action {
        OrgsAction::Show { code } => {
            let code = code.unwrap_or_else(|| crate::domain::organisation::MINISTRY_CODE.into());
            let org = orgs::find_by_code(&mut conn, &code)?.ok_or_else(|| {
                Failure::Refused(format!("机构 {code} 不存在 / no organisation {code}"))
            })?;
            say!("{} {} ({})", org.code, org.name, org.level);
            for c in orgs::contacts(&mut conn, org.id)? {
                say!(
                    "  联系人 / contact: {} <{}> {}",
                    c.name,
                    c.email,
                    c.phone.unwrap_or_default()
                );
            }
            let tree = orgs::load_tree(&mut conn)?;
            for child in tree.children(org.id) {
                if let Some(n) = tree.get(*child) {
                    say!("  {} {} ({})", n.code, n.name, n.level.as_str());
                }
            }
            Ok(())
        }
        OrgsAction::Add {
            code,
            name,
            level,
            parent,
        } => {
            let level = OrgLevel::parse(&level).ok_or_else(|| {
                Failure::Refused(
                    "层级只能是 grassroots 或 sender / level must be grassroots or sender".into(),
                )
            })?;
            let row = access::add_org(&mut conn, &access::operator(), &code, &name, level, &parent)
                .map_err(refused)?;
            let parent_row = orgs::find_by_code(&mut conn, &parent)?
                .ok_or_else(|| Failure::Internal("the parent vanished".into()))?;
            if level == OrgLevel::Sender && !config.drop_dir.is_empty() {
                DropFolder::open(&config.drop_dir, Duration::ZERO)?.ensure_sender(&row.code)?;
            }
            say!(
                "已添加 / added {} {} under {}",
                row.code,
                row.name,
                parent_row.code
            );
            Ok(())
        }
        OrgsAction::AddContact {
            code,
            name,
            email,
            phone,
        } => {
            access::add_contact(
                &mut conn,
                &access::operator(),
                &code,
                &name,
                &email,
                phone.as_deref(),
            )
            .map_err(refused)?;
            say!("已添加联系人 / contact added to {code}");
            Ok(())
        }
    }
}

/// Organisation codes by id, for lists that name an account's organisation.
fn org_codes(
    conn: &mut crate::db::AnyConnection,
) -> Result<std::collections::HashMap<i64, String>, Failure> {
    Ok(orgs::load_all(conn)?
        .into_iter()
        .map(|o| (o.id, o.code))
        .collect())
}

fn org_code(codes: &std::collections::HashMap<i64, String>, id: i64) -> &str {
    codes.get(&id).map_or("?", String::as_str)
}

pub fn users(config: Config, action: UsersAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let mut conn = db.conn()?;
    match action {
        UsersAction::Add {
            username,
            role,
            org,
            name,
        } => {
            let role = parse_role(&role)?;
            if role == Role::System {
                return Err(Failure::Refused(
                    "system 角色用于令牌，请用 gradhub tokens create / the system role is for tokens: use gradhub tokens create".into(),
                ));
            }
            let password = password_input()?;
            let display = name.unwrap_or_else(|| username.clone());
            let user = access::create_user(
                &mut conn,
                &access::operator(),
                &username,
                &display,
                role,
                &org,
                &password,
            )
            .map_err(refused)?;
            say!(
                "已添加用户 / user added: {} ({}, {})",
                user.username,
                user.role,
                org
            );
            Ok(())
        }
        UsersAction::List => {
            let codes = org_codes(&mut conn)?;
            for u in users::list_users(&mut conn)? {
                say!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.username,
                    u.role,
                    org_code(&codes, u.org_id),
                    if u.disabled { "disabled" } else { "active" }
                );
            }
            Ok(())
        }
        UsersAction::Password { username } => {
            let user = users::find_user(&mut conn, &username)?.ok_or_else(|| {
                Failure::Refused(format!("用户 {username} 不存在 / no user {username}"))
            })?;
            let password = password_input()?;
            if password.chars().count() < 10 {
                return Err(Failure::Refused(
                    "密码至少 10 个字符 / at least 10 characters".into(),
                ));
            }
            let hash = access::hash_password(&password).map_err(refused)?;
            users::set_password(&mut conn, user.id, &hash)?;
            audit(&mut conn, "user.password_set", &format!("user:{}", user.id))?;
            say!("密码已更新 / password changed for {username}");
            Ok(())
        }
        UsersAction::Disable { username } => set_disabled(&mut conn, &username, true),
        UsersAction::Enable { username } => set_disabled(&mut conn, &username, false),
    }
}

fn set_disabled(
    conn: &mut crate::db::AnyConnection,
    username: &str,
    disable: bool,
) -> Result<(), Failure> {
    access::set_user_disabled(conn, &access::operator(), username, disable).map_err(refused)?;
    say!(
        "{username}: {}",
        if disable { "disabled" } else { "enabled" }
    );
    Ok(())
}

pub fn tokens(config: Config, action: TokensAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let mut conn = db.conn()?;
    match action {
        TokensAction::Create { org, name, role } => {
            let role = role.as_deref().map(parse_role).transpose()?;
            let (row, secret) =
                access::create_token(&mut conn, &access::operator(), &name, &org, role)
                    .map_err(refused)?;
            eprintln!(
                "令牌 #{} ({}, {}) 只显示这一次，请妥善保存 / token #{} is shown only once:",
                row.id, row.role, org, row.id
            );
            say!("{secret}");
            Ok(())
        }
        TokensAction::List => {
            let codes = org_codes(&mut conn)?;
            for t in users::list_tokens(&mut conn)? {
                say!(
                    "{}\t{}\t{}\t{}\t{}…\t{}",
                    t.id,
                    t.name,
                    t.role,
                    org_code(&codes, t.org_id),
                    t.prefix,
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                );
            }
            Ok(())
        }
        TokensAction::Revoke { id } => {
            access::revoke_token(&mut conn, &access::operator(), id).map_err(refused)?;
            say!("令牌 #{id} 已吊销 / token #{id} revoked");
            Ok(())
        }
    }
}

pub fn packages(config: Config, action: PackagesAction) -> Result<(), Failure> {
    let db = open_db(&config)?;
    let dist = Distribution::new(db, &config)?;
    let tree = dist.tree()?;
    match action {
        PackagesAction::Cut { org, to } => {
            dist.place_new()
                .map_err(|e| Failure::Internal(e.to_string()))?;
            let caller = super::console_caller(&tree, org.as_deref(), "cli:packages-cut", true)?;
            let made = dist
                .cut(&caller, to.as_deref(), crate::ingest::china_today())
                .map_err(|e| Failure::Refused(e.to_string()))?;
            for p in &made {
                let to = tree
                    .get(p.receiver_org_id)
                    .map(|n| n.code.as_str())
                    .unwrap_or("");
                say!(
                    "分发包 / package #{} → {} ({} 条, 期限 deadline {}{})",
                    p.id,
                    to,
                    p.records,
                    p.deadline,
                    provisional_mark(p.deadline_provisional)
                );
            }
            say!("共 {} 个分发包 / {} packages", made.len(), made.len());
            Ok(())
        }
        PackagesAction::Inbox { org, json } => {
            let node = tree.by_code(&org).ok_or_else(|| {
                Failure::Refused(format!("机构 {org} 不存在 / no organisation {org}"))
            })?;
            // The operator reads the organisation's inbox as that organisation would, through
            // the same service call as `GET /api/v1/inbox`, a page at a time to the end.
            let mut caller = Caller::job("cli", &tree)
                .ok_or_else(|| Failure::Internal("no ministry organisation".into()))?;
            caller.org_id = node.id;
            caller.org_code = node.code.clone();
            caller.org_level = node.level;
            caller.scope = tree.scope_of(node.id);
            caller.actor = access::operator();
            let mut packages = Vec::new();
            let mut after = 0;
            loop {
                let page = dist
                    .inbox(&caller, Some(after), Some(MAX_PACKAGE_PAGE), None)
                    .map_err(|e| Failure::Refused(e.to_string()))?;
                if page.packages.is_empty() {
                    break;
                }
                after = page.next_cursor;
                packages.extend(page.packages);
            }
            if json {
                say!("{}", serde_json::to_string_pretty(&packages)?);
            } else {
                for p in packages {
                    say!(
                        "#{}\t{}\t{} 条\t期限 {}{}",
                        p.id,
                        p.state,
                        p.records,
                        p.deadline,
                        provisional_mark(p.deadline_provisional)
                    );
                }
            }
            Ok(())
        }
    }
}

/// What follows a deadline counted over a year the calendar does not cover.
fn provisional_mark(provisional: bool) -> &'static str {
    if provisional {
        "（暂定 / provisional）"
    } else {
        ""
    }
}

pub fn jobs(config: Config, action: JobsAction) -> Result<(), Failure> {
    let JobsAction::Run { today } = action;
    let drop_settle_secs = config.drop_settle_secs;
    let mut worker = crate::startup::Hub::open(config)?.worker()?;
    // A drop folder needs two looks to see a file is complete; a one-off run looks twice.
    let today = today.unwrap_or_else(crate::ingest::china_today);
    if worker.drop.is_some() {
        worker.pass(today, SystemTime::now());
        std::thread::sleep(
            Duration::from_millis(1_100).max(Duration::from_secs(drop_settle_secs.min(5))),
        );
    }
    let report = worker.pass(today, SystemTime::now());
    say!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
