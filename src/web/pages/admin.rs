//! Administration for the admin role: organisations (with their grassroots points and contacts),
//! users and API tokens (shown once at creation). No record contents here.

use super::format::time;
use super::layout::{csrf, flash, page, role_label};
use super::{blocking, ok, see_other, FormPairs, PageError, PageResult, PageSession};
use crate::access::{self, AccessError};
use crate::authz::Permission;
use crate::db::{orgs, users};
use crate::domain::catalogue::ErrorCode;
use crate::domain::organisation::{OrgLevel, Role};
use crate::web::error::ApiError;
use crate::web::AppState;
use actix_web::web;
use maud::html;
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs", web::get().to(orgs_page))
        .route("/admin/orgs", web::post().to(add_org))
        .route("/admin/contacts", web::post().to(add_contact))
        .route("/admin/users", web::get().to(users_page))
        .route("/admin/users", web::post().to(add_user))
        .route("/admin/users/disabled", web::post().to(set_disabled))
        .route("/admin/tokens", web::get().to(tokens_page))
        .route("/admin/tokens", web::post().to(create_token))
        .route("/admin/tokens/revoked", web::post().to(revoke_token));
}

fn require_admin(session: &PageSession) -> Result<(), PageError> {
    Ok(session
        .caller
        .require(Permission::Administer)
        .map_err(ApiError::from)?)
}

/// An administrator's form with its token.
fn admin_form(session: &PageSession, form: &FormPairs) -> Result<(), PageError> {
    require_admin(session)?;
    session.check(form.get("csrf"))
}

/// A refusal of the accounts service as the API words it.
fn refused(e: AccessError) -> PageError {
    match e {
        AccessError::Invalid(m) => {
            let (zh, en) = m.split_once(" / ").unwrap_or((m.as_str(), m.as_str()));
            ApiError::new(ErrorCode::BodyInvalid, zh, en).into()
        }
        AccessError::Db(e) => ApiError::internal(e).into(),
        other => ApiError::internal(other).into(),
    }
}

/// The administrator's home: where the work is.
pub async fn admin_home(state: web::Data<AppState>, session: PageSession) -> PageResult {
    require_admin(&session)?;
    let (orgs_n, users_n, tokens_n) = blocking(&state, |s| {
        let mut conn = s.db.conn()?;
        let orgs_n = orgs::load_all(&mut conn)?.len();
        let users_n = users::list_users(&mut conn)?.len();
        let tokens_n = users::list_tokens(&mut conn)?
            .iter()
            .filter(|t| t.revoked_at.is_none())
            .count();
        Ok((orgs_n, users_n, tokens_n))
    })
    .await?;
    let content = html! {
        div.cards {
            a.card href="/admin/orgs" { div.n { (orgs_n) } div.l { "机构" } }
            a.card href="/admin/users" { div.n { (users_n) } div.l { "用户" } }
            a.card href="/admin/tokens" { div.n { (tokens_n) } div.l { "有效接口令牌" } }
        }
        p.muted { "管理员只管理机构、用户和令牌，看不到毕业生记录。" }
    };
    ok(page("首页", Some(&session), content))
}

#[derive(Deserialize)]
struct OrgQuery {
    code: Option<String>,
    done: Option<String>,
}

async fn orgs_page(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<OrgQuery>,
) -> PageResult {
    require_admin(&session)?;
    let code = q
        .code
        .clone()
        .unwrap_or_else(|| crate::domain::organisation::MINISTRY_CODE.to_string());
    let (node, parent, children, contacts) = blocking(&state, move |s| {
        let tree = s.dist.refresh_tree()?;
        let node = tree
            .by_code(&code)
            .cloned()
            .ok_or_else(|| ApiError::not_found("机构", "Organisation"))?;
        let parent = node.parent.and_then(|p| tree.get(p)).cloned();
        let children: Vec<_> = tree
            .children(node.id)
            .iter()
            .filter_map(|c| tree.get(*c).cloned())
            .collect();
        let mut conn = s.db.conn()?;
        let contacts = orgs::contacts(&mut conn, node.id)?;
        Ok((node, parent, children, contacts))
    })
    .await?;
    let content = html! {
        (flash(q.done.as_deref()))
        form.row method="get" action="/admin/orgs" {
            label { "机构代码" input type="text" name="code" value=(node.code) size="12"; }
            button.secondary type="submit" { "查看" }
        }
        div.panel {
            dl.facts {
                dt { "机构" } dd { (node.name) " " span.muted { (node.code) " · " (node.level.label_zh()) } }
                dt { "上级" } dd { @if let Some(p) = &parent { a href=(format!("/admin/orgs?code={}", p.code)) { (p.name) } } @else { "—" } }
            }
        }
        div.cols {
            div.panel {
                h2 { "下级机构（含基层服务点、教育部门）" }
                @if children.is_empty() { p.muted { "无" } }
                ul { @for c in &children { li { a href=(format!("/admin/orgs?code={}", c.code)) { (c.name) } " " span.muted { (c.code) " · " (c.level.label_zh()) } } } }
                h2 { "添加下级机构" }
                form.stack method="post" action="/admin/orgs" {
                    (csrf(&session))
                    input type="hidden" name="parent" value=(node.code);
                    label { "代码（字母、数字、- 和 _）" } input type="text" name="code" required maxlength="40";
                    label { "名称" } input type="text" name="name" required maxlength="100";
                    label { "层级" } select name="level" { option value="grassroots" { "基层服务点" } option value="sender" { "教育部门（移交方）" } }
                    p { button type="submit" { "添加" } }
                }
            }
            div.panel {
                h2 { "联系人（接收超期提醒）" }
                @if contacts.is_empty() { p.muted { "尚无联系人：超期提醒无人可发。" } }
                ul { @for c in &contacts { li { (c.name) " · " (c.email) @if let Some(p) = &c.phone { " · " (p) } } } }
                form.stack method="post" action="/admin/contacts" {
                    (csrf(&session))
                    input type="hidden" name="org" value=(node.code);
                    label { "姓名" } input type="text" name="name" required maxlength="100";
                    label { "电子邮箱" } input type="text" name="email" required maxlength="200";
                    label { "电话" } input type="text" name="phone" maxlength="40";
                    p { button type="submit" { "添加联系人" } }
                }
            }
        }
    };
    ok(page("机构", Some(&session), content))
}

async fn add_org(state: web::Data<AppState>, session: PageSession, form: FormPairs) -> PageResult {
    admin_form(&session, &form)?;
    let level = OrgLevel::parse(form.get("level"))
        .ok_or_else(|| ApiError::new(ErrorCode::BodyInvalid, "层级无效。", "Invalid level."))?;
    let (code, name, parent) = (
        form.get("code").to_string(),
        form.get("name").to_string(),
        form.get("parent").to_string(),
    );
    let actor = session.caller.actor.clone();
    let row = blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        let row =
            access::add_org(&mut conn, &actor, &code, &name, level, &parent).map_err(refused)?;
        s.dist.refresh_tree()?;
        Ok(row)
    })
    .await?;
    see_other(&format!("/admin/orgs?code={}&done=saved", row.code))
}

async fn add_contact(
    state: web::Data<AppState>,
    session: PageSession,
    form: FormPairs,
) -> PageResult {
    admin_form(&session, &form)?;
    let (org, name, email, phone) = (
        form.get("org").to_string(),
        form.get("name").to_string(),
        form.get("email").to_string(),
        form.get("phone").to_string(),
    );
    let actor = session.caller.actor.clone();
    let back = org.clone();
    blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        access::add_contact(&mut conn, &actor, &org, &name, &email, Some(&phone)).map_err(refused)
    })
    .await?;
    see_other(&format!(
        "/admin/orgs?code={}&done=saved",
        super::format::url_encode(&back)
    ))
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// Organisation codes by id, for the lists.
fn codes(conn: &mut crate::db::AnyConnection) -> Result<HashMap<i64, String>, PageError> {
    Ok(orgs::load_all(conn)?
        .into_iter()
        .map(|o| (o.id, o.code))
        .collect())
}

async fn users_page(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<DoneQuery>,
) -> PageResult {
    require_admin(&session)?;
    let (list, codes) = blocking(&state, |s| {
        let mut conn = s.db.conn()?;
        Ok((users::list_users(&mut conn)?, codes(&mut conn)?))
    })
    .await?;
    let content = html! {
        (flash(q.done.as_deref()))
        table {
            thead { tr { th { "用户名" } th { "姓名" } th { "角色" } th { "机构" } th { "状态" } th { "" } } }
            tbody {
                @for u in &list {
                    tr {
                        td { (u.username) } td { (u.display_name) }
                        td { (Role::parse(&u.role).map(role_label).unwrap_or(&u.role)) }
                        td { (codes.get(&u.org_id).map(String::as_str).unwrap_or("?")) }
                        td { @if u.disabled { span.badge.red { "已停用" } } @else if u.locked_until.is_some_and(|t| t > chrono::Utc::now().naive_utc()) { span.badge.amber { "锁定中" } } @else { span.badge.green { "正常" } } }
                        td {
                            form.inline method="post" action="/admin/users/disabled" {
                                (csrf(&session))
                                input type="hidden" name="username" value=(u.username);
                                input type="hidden" name="disable" value=(if u.disabled { "0" } else { "1" });
                                button.secondary type="submit" { (if u.disabled { "启用" } else { "停用" }) }
                            }
                        }
                    }
                }
            }
        }
        div.panel {
            h2 { "添加用户" }
            form.stack method="post" action="/admin/users" {
                (csrf(&session))
                label { "用户名" } input type="text" name="username" required maxlength="64";
                label { "姓名" } input type="text" name="display_name" maxlength="100";
                label { "角色" } select name="role" {
                    @for r in Role::ALL { @if r != Role::System { option value=(r.as_str()) { (role_label(r)) "（" (r.as_str()) "）" } } }
                }
                label { "机构代码" } input type="text" name="org" required maxlength="40";
                label { "初始密码（至少 10 个字符）" } input type="password" name="password" required minlength="10" autocomplete="new-password";
                p { button type="submit" { "添加" } }
            }
        }
    };
    ok(page("用户", Some(&session), content))
}

async fn add_user(state: web::Data<AppState>, session: PageSession, form: FormPairs) -> PageResult {
    admin_form(&session, &form)?;
    let role = Role::parse(form.get("role"))
        .filter(|r| *r != Role::System)
        .ok_or_else(|| ApiError::new(ErrorCode::BodyInvalid, "角色无效。", "Invalid role."))?;
    let username = form.get("username").to_string();
    let display = Some(form.get("display_name").to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| username.clone());
    let (org, password) = (
        form.get("org").to_string(),
        form.get("password").to_string(),
    );
    let actor = session.caller.actor.clone();
    blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        access::create_user(
            &mut conn, &actor, &username, &display, role, &org, &password,
        )
        .map_err(refused)
    })
    .await?;
    see_other("/admin/users?done=saved")
}

async fn set_disabled(
    state: web::Data<AppState>,
    session: PageSession,
    form: FormPairs,
) -> PageResult {
    admin_form(&session, &form)?;
    let username = form.get("username").to_string();
    let disable = form.get("disable") == "1";
    let actor = session.caller.actor.clone();
    blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        access::set_user_disabled(&mut conn, &actor, &username, disable).map_err(refused)?;
        Ok(())
    })
    .await?;
    see_other("/admin/users?done=saved")
}

async fn tokens_page(
    state: web::Data<AppState>,
    session: PageSession,
    q: web::Query<DoneQuery>,
) -> PageResult {
    require_admin(&session)?;
    let (list, codes) = blocking(&state, |s| {
        let mut conn = s.db.conn()?;
        Ok((users::list_tokens(&mut conn)?, codes(&mut conn)?))
    })
    .await?;
    ok(page(
        "接口令牌",
        Some(&session),
        tokens_content(&session, &list, &codes, q.done.as_deref(), None),
    ))
}

fn tokens_content(
    session: &PageSession,
    list: &[users::TokenRow],
    codes: &HashMap<i64, String>,
    done: Option<&str>,
    secret: Option<&str>,
) -> maud::Markup {
    html! {
        (flash(done))
        @if let Some(secret) = secret {
            div.warn {
                p { strong { "新令牌只显示这一次，请立即复制保存：" } }
                p { code #new-token { (secret) } }
            }
        }
        table {
            thead { tr { th { "#" } th { "名称" } th { "角色" } th { "机构" } th { "前缀" } th { "创建" } th { "状态" } th { "" } } }
            tbody {
                @for t in list {
                    tr {
                        td { (t.id) } td { (t.name) } td { (t.role) }
                        td { (codes.get(&t.org_id).map(String::as_str).unwrap_or("?")) }
                        td { code { (t.prefix) "…" } }
                        td { (time(t.created_at)) }
                        td { @if t.revoked_at.is_some() { span.badge.red { "已吊销" } } @else { span.badge.green { "有效" } } }
                        td { @if t.revoked_at.is_none() {
                            form.inline method="post" action="/admin/tokens/revoked" {
                                (csrf(session))
                                input type="hidden" name="id" value=(t.id);
                                button.danger type="submit" { "吊销" }
                            }
                        } }
                    }
                }
            }
        }
        div.panel {
            h2 { "创建令牌（供省、市、县系统对接）" }
            form.stack method="post" action="/admin/tokens" {
                (csrf(session))
                label { "名称" } input type="text" name="name" required maxlength="64";
                label { "机构代码" } input type="text" name="org" required maxlength="40";
                p { button type="submit" { "创建" } }
            }
        }
    }
}

async fn create_token(
    state: web::Data<AppState>,
    session: PageSession,
    form: FormPairs,
) -> PageResult {
    admin_form(&session, &form)?;
    let (name, org) = (form.get("name").to_string(), form.get("org").to_string());
    let actor = session.caller.actor.clone();
    let (secret, list, codes) = blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        let (_, secret) =
            access::create_token(&mut conn, &actor, &name, &org, None).map_err(refused)?;
        Ok((secret, users::list_tokens(&mut conn)?, codes(&mut conn)?))
    })
    .await?;
    // Answered in this response only: the secret is stored as a hash and never shown again.
    ok(page(
        "接口令牌",
        Some(&session),
        tokens_content(&session, &list, &codes, None, Some(&secret)),
    ))
}

async fn revoke_token(
    state: web::Data<AppState>,
    session: PageSession,
    form: FormPairs,
) -> PageResult {
    admin_form(&session, &form)?;
    let id: i64 = form.get("id").parse().map_err(|_| {
        ApiError::new(
            ErrorCode::BodyInvalid,
            "令牌编号无效。",
            "Invalid token id.",
        )
    })?;
    let actor = session.caller.actor.clone();
    blocking(&state, move |s| {
        let mut conn = s.db.conn()?;
        access::revoke_token(&mut conn, &actor, id).map_err(refused)
    })
    .await?;
    see_other("/admin/tokens?done=saved")
}
