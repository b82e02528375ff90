//! The frame every page shares: head, the role's navigation, the signed-in person and sign-out,
//! flash messages, pagers, and the error page.

use super::PageSession;
use crate::authz::Permission;
use crate::domain::organisation::Role;
use crate::web::error::ApiError;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Where the role's work is: (link, label). The first entry is the role's home.
fn navigation(session: &PageSession) -> Vec<(&'static str, &'static str)> {
    let caller = &session.caller;
    let mut links = vec![("/home", "首页")];
    match caller.role {
        Role::Admin => {
            links.push(("/admin/orgs", "机构"));
            links.push(("/admin/users", "用户"));
            links.push(("/admin/tokens", "接口令牌"));
            return links;
        }
        Role::Sender => {
            links.push(("/upload", "上传文件"));
            links.push(("/batches", "批次"));
            return links;
        }
        Role::Auditor => {
            links.push(("/audit", "审计日志"));
            links.push(("/records", "记录查询"));
            links.push(("/summary", "111号汇总"));
            return links;
        }
        _ => {}
    }
    links.push(("/inbox", "收件箱"));
    if caller.may(Permission::Distribute) {
        links.push(("/queue", "待分配"));
    }
    links.push(("/records", "记录查询"));
    links.push(("/unemployment", "失业登记"));
    if caller.may(Permission::Upload) {
        links.push(("/upload", "上传文件"));
    }
    links.push(("/batches", "批次"));
    links.push(("/summary", "111号汇总"));
    links
}

/// The page's frame around `content`.
pub fn page(title: &str, session: Option<&PageSession>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · 离校未就业高校毕业生实名登记分发中心" }
                link rel="stylesheet" href=(super::assets::CSS_PATH);
                script src=(super::assets::JS_PATH) defer {}
            }
            body {
                header.top {
                    a.brand href=(if session.is_some() { "/home" } else { "/" }) { "毕业生实名登记分发中心" }
                    @if let Some(s) = session {
                        nav {
                            @for (href, label) in navigation(s) {
                                a href=(href) { (label) }
                            }
                        }
                        div.who {
                            span { (s.caller.org_code) " · " (role_label(s.caller.role)) " · " (s.actor.trim_start_matches("user:")) }
                            form method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button.link type="submit" { "退出" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// The role's name in Chinese.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Ministry => "部级",
        Role::Province => "省级",
        Role::Prefecture => "市级",
        Role::County => "县级",
        Role::Grassroots => "基层",
        Role::Sender => "教育部门",
        Role::Auditor => "审计",
        Role::Admin => "管理员",
        Role::System => "系统",
    }
}

/// A hidden CSRF field for a form.
pub fn csrf(session: &PageSession) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The message above a page's content after a form did its work, from the `done` key the
/// form's redirect names (`returned:3`). Only known keys are shown: a link cannot make the hub's
/// page say something of its own.
pub fn flash(key: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = key.and_then(flash_message) {
            p.flash role="status" { (m) }
        }
    }
}

fn flash_message(key: &str) -> Option<String> {
    let mut parts = key.split(':');
    let word = parts.next()?;
    let numbers: Vec<i64> = parts.filter_map(|p| p.parse().ok()).collect();
    let n = |i: usize| numbers.get(i).copied().map(super::format::count);
    Some(match word {
        "acknowledged" => "已签收。".into(),
        "returned" => format!("已退回 {} 条记录。", n(0)?),
        "cut" => format!("已切成 {} 个分发包，共 {} 条记录。", n(0)?, n(1)?),
        "nothing" => "没有待下发的记录。".into(),
        "assigned" => format!("已分配 {} 条记录，下次切包时下发。", n(0)?),
        "recorded" => "已记录。".into(),
        "duplicate" => "此前已记录过相同内容，未重复记录。".into(),
        "saved" => "已保存。".into(),
        "duplicate_file" => {
            "此文件（内容相同）此前已收到，未重复入库；以下是最早的那个批次。".into()
        }
        _ => return None,
    })
}

/// "下一页" to the same page from `next_cursor`, when the page was full.
pub fn pager(base: &str, shown: usize, limit: usize, next_cursor: i64) -> Markup {
    let joiner = if base.contains('?') { '&' } else { '?' };
    html! {
        @if shown > 0 { nav.pager {
            @if shown >= limit && next_cursor > 0 {
                a href=(format!("{base}{joiner}after={next_cursor}")) { "下一页 →" }
            } @else {
                span.muted { "已到末页" }
            }
        } }
    }
}

/// The page of an error: its code, its message in Chinese (and English, smaller), never a trace.
pub fn error_page(e: &ApiError) -> Markup {
    let title = match e.status() {
        404 => "未找到",
        403 => "无权访问",
        401 => "未登录",
        429 => "请求过多",
        s if s >= 500 => "服务器内部错误",
        _ => "请求无法处理",
    };
    page(
        title,
        None,
        html! {
            div.error {
                p.code { "错误代码 " code { (e.code.as_str()) } }
                p { (e.message) }
                p.muted lang="en" { (e.message_en) }
                @if !e.problems.is_empty() {
                    table {
                        thead { tr { th { "字段" } th { "代码" } th { "说明" } } }
                        tbody {
                            @for p in &e.problems {
                                tr { td { (p.column_zh) } td { code { (p.code.as_str()) } } td { (p.message) } }
                            }
                        }
                    }
                }
                p { a href="/home" { "返回首页" } }
            }
        },
    )
}

/// A yes/no in Chinese.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "是"
    } else {
        "否"
    }
}

/// Text that is already HTML (the SVG pictures, built from numbers and escaped labels).
pub fn raw(s: String) -> Markup {
    PreEscaped(s)
}
