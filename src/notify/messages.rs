//! The Chinese texts of the overdue-package mails, as pure functions returning (subject, body).

use chrono::{Datelike, NaiveDate};

/// What the mails say about one package that has not been signed for in time.
#[derive(Clone, Debug)]
pub struct PackageNotice<'a> {
    pub package_id: i64,
    pub receiver_name: &'a str,
    pub receiver_code: &'a str,
    pub sender_name: &'a str,
    pub records: i64,
    pub delivered_on: NaiveDate,
    pub deadline: NaiveDate,
    /// The deadline was counted over a year whose holiday schedule was not loaded (暂定).
    pub deadline_provisional: bool,
    pub working_days_overdue: i64,
    /// Where to sign; empty leaves the link line out.
    pub hub_url: &'a str,
}

/// The reminder to the receiving organisation's contacts.
pub fn reminder(n: &PackageNotice) -> (String, String) {
    let subject = format!(
        "【gradhub】分发包 #{} 逾期未签收，请尽快登录签收",
        n.package_id
    );
    let mut body = format!(
        "{receiver}（机构代码 {code}）：\n\
         \n\
         您好！{sender}于{delivered}分发给贵单位的分发包 #{id}（共 {records} 条记录）尚未签收。\n\
         签收期限为{deadline}，目前已逾期 {overdue} 个工作日。\n\
         {provisional}\
         \n",
        provisional = provisional_line(n),
        receiver = n.receiver_name,
        code = n.receiver_code,
        sender = n.sender_name,
        delivered = chinese_date(n.delivered_on),
        id = n.package_id,
        records = n.records,
        deadline = chinese_date(n.deadline),
        overdue = n.working_days_overdue,
    );
    body.push_str(&sign_line(
        "请于收到本邮件后尽快登录 gradhub 签收",
        n.hub_url,
    ));
    body.push_str("如继续逾期未签收，系统将通知贵单位的上级机构。\n");
    body.push_str(&footer(&format!(
        "Reminder: package #{} ({}) delivered {} was due {}{} and is {} overdue; please sign for it.",
        n.package_id,
        count(n.records, "record"),
        n.delivered_on,
        n.deadline,
        provisional_gloss(n),
        count(n.working_days_overdue, "working day"),
    )));
    (subject, body)
}

/// What became of the reminder to the receiver's contacts, as the escalation reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReminderOutcome {
    /// Sent (or queued in this very pass) to at least one contact.
    Sent,
    /// Every reminder failed for good (bad address, refused recipient).
    Undeliverable,
    /// The receiver has no contact: no reminder could be sent.
    NoContact,
}

/// The escalation to the parent organisation once the second deadline has passed too. It says
/// truly what became of the reminder: the parent must not read that one was sent when none was.
pub fn escalation(
    n: &PackageNotice,
    parent_name: &str,
    reminder: ReminderOutcome,
) -> (String, String) {
    let subject = format!(
        "【gradhub】下级机构 {} 的分发包 #{} 逾期未签收（已超过第二期限）",
        n.receiver_name, n.package_id
    );
    let mut body = format!(
        "{parent}：\n\
         \n\
         您好！贵单位下级机构 {receiver}（机构代码 {code}）尚未签收{sender}于{delivered}分发的分发包 #{id}（共 {records} 条记录）。\n\
         签收期限为{deadline}，目前已逾期 {overdue} 个工作日，已超过第二期限。\n\
         {provisional}\
         {reminded}\n\
         \n",
        provisional = provisional_line(n),
        reminded = match reminder {
            ReminderOutcome::Sent => "第一期限过后，已向该机构的联系人发送催办邮件。",
            ReminderOutcome::Undeliverable =>
                "第一期限过后的催办邮件未能送达该机构的联系人（邮件地址无效或被拒收），请核实其联系人信息。",
            ReminderOutcome::NoContact => "该单位未登记联系人，未能发送催办提醒。",
        },
        parent = parent_name,
        receiver = n.receiver_name,
        code = n.receiver_code,
        sender = n.sender_name,
        delivered = chinese_date(n.delivered_on),
        id = n.package_id,
        records = n.records,
        deadline = chinese_date(n.deadline),
        overdue = n.working_days_overdue,
    );
    body.push_str(&sign_line("请督促该机构尽快登录 gradhub 签收", n.hub_url));
    body.push_str(&footer(&format!(
        "Escalation: {} ({}) has not signed for package #{} ({}) due {}{}, now {} overdue, past the second deadline; {}.",
        n.receiver_name,
        n.receiver_code,
        n.package_id,
        count(n.records, "record"),
        n.deadline,
        provisional_gloss(n),
        count(n.working_days_overdue, "working day"),
        match reminder {
            ReminderOutcome::Sent => "its contacts were sent a reminder",
            ReminderOutcome::Undeliverable =>
                "the reminder could not be delivered to its contacts (address invalid or refused)",
            ReminderOutcome::NoContact =>
                "no reminder could be sent: the organisation has no contact",
        },
    )));
    (subject, body)
}

/// The line that marks a provisional deadline, or nothing.
fn provisional_line(n: &PackageNotice) -> String {
    if n.deadline_provisional {
        // The year that is missing may be the escalation deadline's, so none is named.
        "（上述期限为暂定：期限所跨年份的节假日安排尚未载入，仅按周末计算。）\n".to_string()
    } else {
        String::new()
    }
}

fn provisional_gloss(n: &PackageNotice) -> &'static str {
    if n.deadline_provisional {
        " (provisional: counted over a year whose holiday schedule is not loaded, weekends only)"
    } else {
        ""
    }
}

/// `2024年7月5日`: the written form, without zero padding.
fn chinese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

fn sign_line(text: &str, hub_url: &str) -> String {
    if hub_url.is_empty() {
        format!("{text}。\n")
    } else {
        format!("{text}：{hub_url}\n")
    }
}

fn footer(gloss: &str) -> String {
    format!("\n——\n本邮件由 gradhub 自动发送，请勿直接回复。\n{gloss}\n")
}

fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> PackageNotice<'static> {
        PackageNotice {
            package_id: 4217,
            receiver_name: "武汉市江汉区人社局",
            receiver_code: "420103",
            sender_name: "湖北省就业服务中心",
            records: 1385,
            delivered_on: NaiveDate::from_ymd_opt(2024, 7, 1).unwrap(),
            deadline: NaiveDate::from_ymd_opt(2024, 7, 5).unwrap(),
            deadline_provisional: false,
            working_days_overdue: 3,
            hub_url: "https://hub.example.org/packages/4217",
        }
    }

    #[test]
    fn dates_are_written_without_padding() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 9).unwrap();
        assert_eq!(chinese_date(d), "2024年1月9日");
        let d = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();
        assert_eq!(chinese_date(d), "2025年12月31日");
    }

    #[test]
    fn reminder_names_package_counts_and_dates() {
        let (subject, body) = reminder(&notice());
        assert!(subject.contains("分发包 #4217 逾期未签收"), "{subject}");
        assert!(!subject.contains('\n'));
        for part in [
            "武汉市江汉区人社局（机构代码 420103）",
            "湖北省就业服务中心于2024年7月1日",
            "分发包 #4217（共 1385 条记录）",
            "签收期限为2024年7月5日",
            "已逾期 3 个工作日",
            "https://hub.example.org/packages/4217",
        ] {
            assert!(body.contains(part), "missing {part:?} in\n{body}");
        }
        let gloss = body.lines().last().unwrap();
        assert!(gloss.is_ascii(), "{gloss}");
        assert!(
            gloss.contains("#4217") && gloss.contains("1385 records"),
            "{gloss}"
        );
        assert!(gloss.contains("3 working days"), "{gloss}");
    }

    #[test]
    fn escalation_names_receiver_parent_and_second_deadline() {
        let n = PackageNotice {
            working_days_overdue: 1,
            records: 1,
            ..notice()
        };
        let (subject, body) = escalation(&n, "武汉市人社局", ReminderOutcome::Sent);
        assert!(
            subject.contains(
                "下级机构 武汉市江汉区人社局 的分发包 #4217 逾期未签收（已超过第二期限）"
            ),
            "{subject}"
        );
        for part in [
            "武汉市人社局：",
            "武汉市江汉区人社局（机构代码 420103）",
            "分发包 #4217（共 1 条记录）",
            "2024年7月1日",
            "签收期限为2024年7月5日",
            "已逾期 1 个工作日",
            "第二期限",
        ] {
            assert!(body.contains(part), "missing {part:?} in\n{body}");
        }
        let gloss = body.lines().last().unwrap();
        assert!(gloss.starts_with("Escalation:"), "{gloss}");
        assert!(gloss.contains("(1 record)"), "{gloss}");
        assert!(gloss.contains("1 working day overdue"), "{gloss}");
        assert!(body.contains("已向该机构的联系人发送催办邮件"), "{body}");
        assert!(!body.contains("暂定"), "{body}");
    }

    #[test]
    fn escalation_without_a_reminder_says_none_was_sent() {
        let (_, body) = escalation(&notice(), "武汉市人社局", ReminderOutcome::NoContact);
        assert!(
            body.contains("该单位未登记联系人，未能发送催办提醒"),
            "{body}"
        );
        assert!(!body.contains("发送催办邮件"), "{body}");
        let gloss = body.lines().last().unwrap();
        assert!(
            gloss.contains("no reminder could be sent: the organisation has no contact"),
            "{gloss}"
        );
    }

    #[test]
    fn escalation_after_an_undeliverable_reminder_says_so() {
        let (_, body) = escalation(&notice(), "武汉市人社局", ReminderOutcome::Undeliverable);
        assert!(body.contains("催办邮件未能送达"), "{body}");
        assert!(!body.contains("已向该机构的联系人发送"), "{body}");
        let gloss = body.lines().last().unwrap();
        assert!(gloss.contains("could not be delivered"), "{gloss}");
    }

    #[test]
    fn provisional_deadline_is_marked_in_both_mails() {
        let n = PackageNotice {
            deadline: NaiveDate::from_ymd_opt(2027, 1, 4).unwrap(),
            deadline_provisional: true,
            ..notice()
        };
        for (_, body) in [
            reminder(&n),
            escalation(&n, "武汉市人社局", ReminderOutcome::Sent),
        ] {
            assert!(body.contains("签收期限为2027年1月4日"), "{body}");
            assert!(body.contains("上述期限为暂定"), "{body}");
            let gloss = body.lines().last().unwrap();
            assert!(gloss.contains("2027-01-04 (provisional"), "{gloss}");
        }
    }

    #[test]
    fn empty_hub_url_leaves_no_dangling_colon() {
        let n = PackageNotice {
            hub_url: "",
            ..notice()
        };
        let (_, body) = reminder(&n);
        assert!(body.contains("尽快登录 gradhub 签收。"), "{body}");
        assert!(!body.contains("签收：\n"), "{body}");
    }
}
