//! The "四级三类" of 黑人社函〔2020〕87号 §二: the level by time since registration, the type, the
//! services of the notices, and the minimum services still owed at a level.

use chrono::{Months, NaiveDate};
use std::collections::HashMap;

/// 四级: time since registration (see [`level_on`] for the boundary days).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 短期: 登记失业1个月以内, up to and including one month.
    Short,
    /// 中短期: 1-3个月, more than one month up to and including three.
    MidShort,
    /// 中长期: 3-6个月, more than three months, less than six.
    MidLong,
    /// 长期: 6个月以上, six months and more.
    Long,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Short => "short",
            Level::MidShort => "mid_short",
            Level::MidLong => "mid_long",
            Level::Long => "long",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Level::Short => "短期",
            Level::MidShort => "中短期",
            Level::MidLong => "中长期",
            Level::Long => "长期",
        }
    }
}

/// The level on `today` of a person registered on `registered_on`.
///
/// 黑人社函〔2020〕87号 §二: 登记失业1个月以内为短期, 1-3个月为中短期, 3-6个月为中长期, 6个月以上为长期.
/// In Chinese legal usage "以上""以下""以内""届满" include the number (《民法典》第一千二百五十九条),
/// so both ends are read inclusively and each boundary day belongs to exactly one level:
///
/// - 短期 up to and including the day one month after registration (1个月以内 includes 1);
/// - 中短期 from the next day up to and including three months (the 1–3 range includes 3);
/// - 中长期 from the next day to the day before six months;
/// - 长期 from six months on (6个月以上 includes 6).
///
/// "N months after" is `registered_on.checked_add_months(N)`: the same day of the month, or the
/// month's last day when it has no such day (registered 31 January: one month is 28 February, in
/// a leap year 29 February; three months 30 April). A boundary beyond chrono's range is never
/// reached. A `today` before the registration counts as 短期.
pub fn level_on(registered_on: NaiveDate, today: NaiveDate) -> Level {
    let boundary = |months: u32| registered_on.checked_add_months(Months::new(months));
    let reached = |months: u32| boundary(months).is_some_and(|b| today >= b);
    let passed = |months: u32| boundary(months).is_some_and(|b| today > b);
    if reached(6) {
        Level::Long
    } else if passed(3) {
        Level::MidLong
    } else if passed(1) {
        Level::MidShort
    } else {
        Level::Short
    }
}

/// 三类: 具备技能, 缺乏技能, 就业困难.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkillType {
    Skilled,
    Unskilled,
    Hardship,
}

impl SkillType {
    pub const ALL: [SkillType; 3] = [
        SkillType::Skilled,
        SkillType::Unskilled,
        SkillType::Hardship,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SkillType::Skilled => "skilled",
            SkillType::Unskilled => "unskilled",
            SkillType::Hardship => "hardship",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            SkillType::Skilled => "具备技能",
            SkillType::Unskilled => "缺乏技能",
            SkillType::Hardship => "就业困难",
        }
    }

    /// The word or the Chinese label (就业困难人员 too).
    pub fn parse(raw: &str) -> Option<SkillType> {
        let key = compact(raw);
        if key == "就业困难人员" {
            return Some(SkillType::Hardship);
        }
        SkillType::ALL
            .into_iter()
            .find(|t| key == t.as_str() || key == t.label_zh())
    }
}

/// The services the notices name (黑人社函〔2020〕87号 §二, 79号 item (三), LD/T 6009-2024 §5.3).
/// The seeds give names, not codes: the words of `as_str` are the project's, and the 111号 service
/// codes of `followup/service_type.csv` are a different (graduate) list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// 职业介绍 / 岗位推荐
    JobReferral,
    /// 职业指导
    CareerGuidance,
    /// 招聘会
    JobFair,
    /// 职业培训
    Training,
    /// 创业服务: 创业培训（实训）, 开业指导
    Startup,
    /// 政策清单 / 服务清单 / 公共就业服务机构清单
    Lists,
    /// 就业困难人员认定
    HardshipRecognition,
    /// 政策咨询
    PolicyAdvice,
    /// 其他
    Other,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 9] = [
        ServiceKind::JobReferral,
        ServiceKind::CareerGuidance,
        ServiceKind::JobFair,
        ServiceKind::Training,
        ServiceKind::Startup,
        ServiceKind::Lists,
        ServiceKind::HardshipRecognition,
        ServiceKind::PolicyAdvice,
        ServiceKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::JobReferral => "job_referral",
            ServiceKind::CareerGuidance => "career_guidance",
            ServiceKind::JobFair => "job_fair",
            ServiceKind::Training => "training",
            ServiceKind::Startup => "startup",
            ServiceKind::Lists => "lists",
            ServiceKind::HardshipRecognition => "hardship_recognition",
            ServiceKind::PolicyAdvice => "policy_advice",
            ServiceKind::Other => "other",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            ServiceKind::JobReferral => "职业介绍",
            ServiceKind::CareerGuidance => "职业指导",
            ServiceKind::JobFair => "招聘会",
            ServiceKind::Training => "职业培训",
            ServiceKind::Startup => "创业服务",
            ServiceKind::Lists => "政策清单、服务清单",
            ServiceKind::HardshipRecognition => "就业困难人员认定",
            ServiceKind::PolicyAdvice => "政策咨询",
            ServiceKind::Other => "其他",
        }
    }

    /// The word, the label, or the notices' other names for the service.
    pub fn parse(raw: &str) -> Option<ServiceKind> {
        let key = compact(raw);
        if let Some(kind) = ServiceKind::ALL
            .into_iter()
            .find(|k| key == k.as_str() || key == compact(k.label_zh()))
        {
            return Some(kind);
        }
        let kind = match key.as_str() {
            "岗位推荐" | "职业介绍岗位推荐" => ServiceKind::JobReferral,
            "招聘活动" | "参加招聘会" => ServiceKind::JobFair,
            "职业技能培训" | "技能培训" => ServiceKind::Training,
            "创业培训" | "创业实训" | "创业培训实训" | "开业指导" => {
                ServiceKind::Startup
            }
            "政策清单" | "服务清单" | "公共就业服务机构清单" => {
                ServiceKind::Lists
            }
            "就业困难认定" => ServiceKind::HardshipRecognition,
            "政策介绍" | "介绍政策法规" => ServiceKind::PolicyAdvice,
            _ => return None,
        };
        Some(kind)
    }
}

/// A minimum service not yet given enough times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Owed {
    pub kind: ServiceKind,
    pub needed: u32,
    pub given: u32,
}

/// What is still owed at `level` (黑人社函〔2020〕87号 §二(三)), from the services `given` since
/// registration: 短期 ≥ 3 job referrals; 中短期 ≥ 1 career guidance and ≥ 1 job fair; 中长期 ≥ 1
/// training; 长期 a 就业困难人员认定.
///
/// Only the minimums of the level itself: those of an earlier level were owed while the person was
/// in it. The 长期 recognition is due only "如符合就业困难人员条件", which the hub cannot judge: it
/// is listed as owed unless the person is already typed 就业困难 or a recognition was recorded.
pub fn owed(
    level: Level,
    skill: Option<SkillType>,
    given: &HashMap<ServiceKind, u32>,
) -> Vec<Owed> {
    let minimums: &[(ServiceKind, u32)] = match level {
        Level::Short => &[(ServiceKind::JobReferral, 3)],
        Level::MidShort => &[(ServiceKind::CareerGuidance, 1), (ServiceKind::JobFair, 1)],
        Level::MidLong => &[(ServiceKind::Training, 1)],
        Level::Long if skill == Some(SkillType::Hardship) => &[],
        Level::Long => &[(ServiceKind::HardshipRecognition, 1)],
    };
    minimums
        .iter()
        .map(|&(kind, needed)| Owed {
            kind,
            needed,
            given: given.get(&kind).copied().unwrap_or(0),
        })
        .filter(|o| o.given < o.needed)
        .collect()
}

fn compact(raw: &str) -> String {
    raw.chars()
        .map(crate::domain::text::half_width_char)
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn level_boundaries_include_their_number() {
        let reg = d(2026, 1, 15);
        assert_eq!(level_on(reg, d(2026, 1, 15)), Level::Short);
        // Exactly one month is still 短期 (1个月以内 includes 1).
        assert_eq!(level_on(reg, d(2026, 2, 15)), Level::Short);
        assert_eq!(level_on(reg, d(2026, 2, 16)), Level::MidShort);
        // Exactly three months is still 中短期 (1-3个月 includes 3).
        assert_eq!(level_on(reg, d(2026, 4, 15)), Level::MidShort);
        assert_eq!(level_on(reg, d(2026, 4, 16)), Level::MidLong);
        assert_eq!(level_on(reg, d(2026, 7, 14)), Level::MidLong);
        // Exactly six months is 长期 (6个月以上 includes 6).
        assert_eq!(level_on(reg, d(2026, 7, 15)), Level::Long);
        assert_eq!(level_on(reg, d(2027, 7, 15)), Level::Long);
        assert_eq!(level_on(reg, d(2025, 12, 1)), Level::Short);
    }

    #[test]
    fn end_of_month_registration_is_a_month_on_the_last_day_of_february() {
        let reg = d(2026, 1, 31);
        // 31 January + 1 month = 28 February: that day is still 短期.
        assert_eq!(level_on(reg, d(2026, 2, 27)), Level::Short);
        assert_eq!(level_on(reg, d(2026, 2, 28)), Level::Short);
        assert_eq!(level_on(reg, d(2026, 3, 1)), Level::MidShort);
        // + 3 months is 30 April (中短期 through it); + 6 months is 31 July.
        assert_eq!(level_on(reg, d(2026, 4, 30)), Level::MidShort);
        assert_eq!(level_on(reg, d(2026, 5, 1)), Level::MidLong);
        assert_eq!(level_on(reg, d(2026, 7, 30)), Level::MidLong);
        assert_eq!(level_on(reg, d(2026, 7, 31)), Level::Long);
        // In a leap year one month from 31 January is 29 February.
        let reg = d(2028, 1, 31);
        assert_eq!(level_on(reg, d(2028, 2, 29)), Level::Short);
        assert_eq!(level_on(reg, d(2028, 3, 1)), Level::MidShort);
        // 30 November + 3 months = 28 February; + 6 months = 30 May.
        let reg = d(2025, 11, 30);
        assert_eq!(level_on(reg, d(2026, 2, 28)), Level::MidShort);
        assert_eq!(level_on(reg, d(2026, 3, 1)), Level::MidLong);
        assert_eq!(level_on(reg, d(2026, 5, 29)), Level::MidLong);
        assert_eq!(level_on(reg, d(2026, 5, 30)), Level::Long);
    }

    #[test]
    fn boundaries_beyond_the_calendar_are_never_reached() {
        assert_eq!(level_on(NaiveDate::MAX, NaiveDate::MAX), Level::Short);
    }

    #[test]
    fn labels() {
        assert_eq!(Level::MidShort.label_zh(), "中短期");
        assert_eq!(Level::Long.label_zh(), "长期");
        assert_eq!(SkillType::parse("缺乏技能"), Some(SkillType::Unskilled));
        assert_eq!(SkillType::parse("hardship"), Some(SkillType::Hardship));
        assert_eq!(SkillType::parse("就业困难人员"), Some(SkillType::Hardship));
        assert_eq!(SkillType::parse("富裕"), None);
        for t in SkillType::ALL {
            assert_eq!(SkillType::parse(t.as_str()), Some(t));
            assert_eq!(SkillType::parse(t.label_zh()), Some(t));
        }
    }

    #[test]
    fn service_kinds_parse_words_and_the_notices_names() {
        for k in ServiceKind::ALL {
            assert_eq!(ServiceKind::parse(k.as_str()), Some(k));
            assert_eq!(ServiceKind::parse(k.label_zh()), Some(k));
        }
        assert_eq!(
            ServiceKind::parse("岗位推荐"),
            Some(ServiceKind::JobReferral)
        );
        assert_eq!(
            ServiceKind::parse("职业介绍"),
            Some(ServiceKind::JobReferral)
        );
        assert_eq!(ServiceKind::parse("开业指导"), Some(ServiceKind::Startup));
        assert_eq!(
            ServiceKind::parse("创业培训（实训）"),
            Some(ServiceKind::Startup)
        );
        assert_eq!(ServiceKind::parse("服务清单"), Some(ServiceKind::Lists));
        assert_eq!(ServiceKind::parse("Job_Fair"), Some(ServiceKind::JobFair));
        assert_eq!(ServiceKind::parse("按摩"), None);
    }

    #[test]
    fn short_term_owes_three_referrals() {
        let mut given = HashMap::new();
        assert_eq!(
            owed(Level::Short, None, &given),
            vec![Owed {
                kind: ServiceKind::JobReferral,
                needed: 3,
                given: 0
            }]
        );
        given.insert(ServiceKind::JobReferral, 2);
        assert_eq!(owed(Level::Short, None, &given)[0].given, 2);
        given.insert(ServiceKind::JobReferral, 3);
        assert!(owed(Level::Short, None, &given).is_empty());
    }

    #[test]
    fn mid_short_owes_guidance_and_a_job_fair() {
        let mut given = HashMap::new();
        given.insert(ServiceKind::JobReferral, 5);
        let kinds: Vec<_> = owed(Level::MidShort, None, &given)
            .iter()
            .map(|o| o.kind)
            .collect();
        assert_eq!(kinds, [ServiceKind::CareerGuidance, ServiceKind::JobFair]);
        given.insert(ServiceKind::JobFair, 1);
        let kinds: Vec<_> = owed(Level::MidShort, None, &given)
            .iter()
            .map(|o| o.kind)
            .collect();
        assert_eq!(kinds, [ServiceKind::CareerGuidance]);
    }

    #[test]
    fn mid_long_owes_training() {
        let mut given = HashMap::new();
        assert_eq!(
            owed(Level::MidLong, None, &given)[0].kind,
            ServiceKind::Training
        );
        given.insert(ServiceKind::Training, 1);
        assert!(owed(Level::MidLong, Some(SkillType::Skilled), &given).is_empty());
    }

    #[test]
    fn long_owes_a_recognition_unless_already_hardship_or_given() {
        let mut given = HashMap::new();
        assert_eq!(
            owed(Level::Long, Some(SkillType::Unskilled), &given)[0].kind,
            ServiceKind::HardshipRecognition
        );
        assert_eq!(owed(Level::Long, None, &given).len(), 1);
        assert!(owed(Level::Long, Some(SkillType::Hardship), &given).is_empty());
        given.insert(ServiceKind::HardshipRecognition, 1);
        assert!(owed(Level::Long, None, &given).is_empty());
    }
}
