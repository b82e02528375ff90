//! The review (审核, LD/T 6009-2024 §5.2.2): the 审核不通过 reasons the notices forbid, and the
//! review and contact deadlines.

/// Working days after registration within which the person is contacted by phone or SMS
/// (79号 item (三); LD/T 6009-2024 §5.2.3 and §5.3).
pub const CONTACT_WORKING_DAYS: u32 = 5;

/// 79号 item (三): 要在3个工作日内办结失业登记申请.
const DEFAULT_TARGET_DAYS: u32 = 3;
/// LD/T 6009-2024 §5.2.2: 在接到申请 10 个工作日内 … 完成 … 业务办结.
const DEFAULT_LIMIT_DAYS: u32 = 10;

/// The review deadlines of a province, in working days from receipt: past `target_days` an
/// application is late, past `limit_days` it breaches the rule in force there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewLimits {
    pub target_days: u32,
    pub limit_days: u32,
}

/// The review deadlines for a province (its code, or any code inside it: the first two digits
/// decide). `overrides` are `(province code, target, limit)` settings that replace the built-in
/// figures; the first one for the province wins.
pub fn review_limits_for(province_code: &str, overrides: &[(String, u32, u32)]) -> ReviewLimits {
    let province = province_of(province_code);
    if let Some((_, target_days, limit_days)) = overrides
        .iter()
        .find(|(code, _, _)| province_of(code) == province)
    {
        return ReviewLimits {
            target_days: *target_days,
            limit_days: *limit_days,
        };
    }
    let limit_days = match province.as_str() {
        // 甘人社通〔2020〕111号 (seed 002): 在7个工作日内办结失业登记.
        "620000" => 7,
        // 黑人社函〔2020〕87号 §一 (seed 003): 在7个工作日内办结失业登记.
        "230000" => 7,
        _ => DEFAULT_LIMIT_DAYS,
    };
    ReviewLimits {
        target_days: DEFAULT_TARGET_DAYS,
        limit_days,
    }
}

/// `370102` → `370000`; anything that is not six digits is kept as given (it then matches no
/// built-in figure and gets the defaults).
fn province_of(code: &str) -> String {
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}0000", &code[..2])
    } else {
        code.to_string()
    }
}

/// A 审核不通过 reason that the notices forbid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ForbiddenReason {
    /// 资料（材料）不全, a missing 证明: 79号 item (二) asks for nothing but the identity document.
    MaterialsIncomplete,
    /// 未参保, 社保不在本地: 不得与是否在当地参加社会保险挂钩 (79号 item (二)).
    NotInsuredLocally,
    /// 不符合领金条件: 不得与是否符合领取失业保险金条件关联 (79号 item (二)).
    NotEligibleForBenefit,
    /// 人户分离, 户籍不在本地: 黑人社函〔2020〕87号 §五, and 79号 item (一) lets anyone register at
    /// the 常住地, 就业地 or 参保地.
    HukouElsewhere,
}

impl ForbiddenReason {
    pub fn message_zh(self) -> &'static str {
        match self {
            ForbiddenReason::MaterialsIncomplete => {
                "不得以资料（材料）不全为由拒绝失业登记（人社厅发〔2020〕79号 第（二）项）"
            }
            ForbiddenReason::NotInsuredLocally => {
                "不得以未参保或未在当地参加社会保险为由拒绝失业登记（人社厅发〔2020〕79号 第（二）项）"
            }
            ForbiddenReason::NotEligibleForBenefit => {
                "不得以不符合领取失业保险金条件为由拒绝失业登记（人社厅发〔2020〕79号 第（二）项）"
            }
            ForbiddenReason::HukouElsewhere => {
                "不得以人户分离、户籍不在本地等理由不予受理失业登记（黑人社函〔2020〕87号 第五条；人社厅发〔2020〕79号 第（一）项）"
            }
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            ForbiddenReason::MaterialsIncomplete => {
                "Registration may not be refused because materials are incomplete (人社厅发〔2020〕79号, item (2))"
            }
            ForbiddenReason::NotInsuredLocally => {
                "Registration may not be refused because the person is not insured, or not insured locally (人社厅发〔2020〕79号, item (2))"
            }
            ForbiddenReason::NotEligibleForBenefit => {
                "Registration may not be refused because the person does not qualify for unemployment benefit (人社厅发〔2020〕79号, item (2))"
            }
            ForbiddenReason::HukouElsewhere => {
                "Registration may not be refused because the household registration is elsewhere (黑人社函〔2020〕87号, §5; 人社厅发〔2020〕79号, item (1))"
            }
        }
    }
}

/// Whether a 审核不通过 reason refuses on grounds the notices forbid; `None` for a reason that may
/// be given (身份信息核验不符, 经核实处于就业状态, …). Full-width and half-width forms, spaces and
/// punctuation do not matter. The matcher looks for a negation *next to* the topic word, so that a long reason
/// which merely mentions 参保 or 户籍 while refusing on the employment state is not caught.
pub fn forbidden_refusal(reason: &str) -> Option<ForbiddenReason> {
    // Letters, digits and ideographs only: spaces and punctuation (资料（材料）不全, 人户 分离) must
    // not split a phrase.
    let s: String = reason
        .chars()
        .map(crate::domain::text::half_width_char)
        .filter(|c| c.is_alphanumeric())
        .collect();

    // The specific families first: "户籍不在本地，未提供证明" is refused for where the person is
    // registered, which says more than "未提供".
    if HUKOU_PHRASES.iter().any(|p| s.contains(p))
        || negated_topic(
            &s,
            &["户籍", "户口"],
            &["非", "不是", "无本地"],
            &["不在", "在外", "不属", "属外"],
        )
    {
        return Some(ForbiddenReason::HukouElsewhere);
    }
    if BENEFIT_PHRASES.iter().any(|p| s.contains(p))
        || negated_topic(
            &s,
            &["领金", "失业保险金", "失业金", "领取失业", "申领失业"],
            &[
                "不符合",
                "不满足",
                "不具备",
                "无",
                "不能",
                "不可",
                "未达到",
                "没有",
                "不够",
            ],
            &["条件不符", "资格不符", "条件不满足", "不符合", "不满足"],
        )
    {
        return Some(ForbiddenReason::NotEligibleForBenefit);
    }
    if INSURANCE_PHRASES.iter().any(|p| s.contains(p))
        || negated_topic(
            &s,
            &["参保", "社保", "社会保险", "缴纳保险"],
            &["未", "没有", "没", "无", "非", "不在", "断"],
            &["不在", "在外", "在异地", "关系不在", "未在"],
        )
    {
        return Some(ForbiddenReason::NotInsuredLocally);
    }
    if materials(&s) {
        return Some(ForbiddenReason::MaterialsIncomplete);
    }
    None
}

const HUKOU_PHRASES: &[&str] = &[
    "人户分离",
    "外地户",
    "外省户",
    "外市户",
    "外县户",
    "外地人",
    "外来人员",
    "非本地人",
    "非户籍",
];

const BENEFIT_PHRASES: &[&str] = &[
    "不符合领金",
    "领金条件",
    "缴费不满一年",
    "缴费不足一年",
    "缴费不满1年",
    "缴费不足1年",
    "缴费年限不足",
];

const INSURANCE_PHRASES: &[&str] = &["非本地参保", "外地参保", "异地参保", "未缴社保", "断缴"];

/// Materials or a proof missing. A missing identity document alone is not caught: 79号 item (二)
/// lets the office ask for 本人身份证件.
fn materials(s: &str) -> bool {
    const PHRASES: &[&str] = &[
        "资料不全",
        "材料不全",
        "资料不齐",
        "材料不齐",
        "资料不完整",
        "材料不完整",
        "资料缺",
        "材料缺",
        "缺少",
        "缺失",
        "欠缺",
        "补充材料",
        "补充资料",
        "补齐",
        "补交",
        "补正",
    ];
    const NOT_GIVEN: &[&str] = &[
        "未提供",
        "未提交",
        "未上传",
        "没有提供",
        "没提供",
        "无法提供",
        "不能提供",
        "需提供",
        "须提供",
        "请提供",
        "需要提供",
        "要求提供",
        "应提供",
    ];
    const PROOFS: &[&str] = &[
        "证明",
        "证书",
        "档案",
        "毕业证",
        "学历证",
        "离职",
        "解除",
        "终止",
        "合同",
    ];
    const NEGATIONS: &[&str] = &["无", "没有", "缺"];
    if PHRASES.iter().any(|p| s.contains(p)) {
        return true;
    }
    let names_other_proof =
        PROOFS.iter().any(|p| s.contains(p)) || s.contains("资料") || s.contains("材料");
    let identity_only = (s.contains("身份证") || s.contains("身份证件")) && !names_other_proof;
    if NOT_GIVEN.iter().any(|p| s.contains(p)) {
        return !identity_only;
    }
    NEGATIONS.iter().any(|n| s.contains(n)) && PROOFS.iter().any(|p| s.contains(p))
}

/// Whether one of `topics` has a negation right before it (within 6 characters) or a
/// "not here" right after it (within 8).
fn negated_topic(s: &str, topics: &[&str], before: &[&str], after: &[&str]) -> bool {
    topics.iter().any(|topic| {
        s.match_indices(topic).any(|(at, _)| {
            let head = &s[..at];
            let start = head.char_indices().rev().nth(5).map_or(0, |(i, _)| i);
            let window_before = &head[start..];
            let tail = &s[at + topic.len()..];
            let end = tail.char_indices().nth(8).map_or(tail.len(), |(i, _)| i);
            let window_after = &tail[..end];
            before.iter().any(|n| window_before.contains(n))
                || after.iter().any(|n| window_after.contains(n))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_provincial_limits() {
        assert_eq!(
            review_limits_for("370000", &[]),
            ReviewLimits {
                target_days: 3,
                limit_days: 10
            }
        );
        assert_eq!(review_limits_for("620000", &[]).limit_days, 7);
        assert_eq!(review_limits_for("230000", &[]).limit_days, 7);
        assert_eq!(review_limits_for("230102", &[]).limit_days, 7);
        assert_eq!(review_limits_for("620000", &[]).target_days, 3);
        assert_eq!(review_limits_for("garbage", &[]).limit_days, 10);
        assert_eq!(CONTACT_WORKING_DAYS, 5);
    }

    #[test]
    fn overrides_replace_the_built_in_figures() {
        let overrides = vec![("370000".to_string(), 2, 5), ("230000".to_string(), 1, 4)];
        assert_eq!(
            review_limits_for("370102", &overrides),
            ReviewLimits {
                target_days: 2,
                limit_days: 5
            }
        );
        assert_eq!(review_limits_for("230000", &overrides).limit_days, 4);
        assert_eq!(review_limits_for("110000", &overrides).limit_days, 10);
    }

    fn refused(reason: &str) -> Option<ForbiddenReason> {
        forbidden_refusal(reason)
    }

    #[test]
    fn materials_family_is_refused() {
        for r in [
            "资料不全",
            "材料不全",
            "资料（材料）不全",
            "申请材料不齐全",
            "缺少离职证明",
            "缺少解除劳动关系证明",
            "未提供离职证明",
            "未提供毕业证书",
            "无终止劳动合同证明",
            "请补充材料后再申请",
            "没有档案",
            "未 提 供 证 明",
        ] {
            assert_eq!(
                refused(r),
                Some(ForbiddenReason::MaterialsIncomplete),
                "{r}"
            );
        }
    }

    #[test]
    fn insurance_family_is_refused() {
        for r in [
            "未参保",
            "未在本地参保",
            "社保不在本地",
            "社保关系不在本市",
            "没有缴纳社会保险",
            "非本地参保人员",
            "本人未在我市参加社会保险",
        ] {
            assert_eq!(refused(r), Some(ForbiddenReason::NotInsuredLocally), "{r}");
        }
    }

    #[test]
    fn benefit_family_is_refused() {
        for r in [
            "不符合领金条件",
            "不符合领取失业保险金条件",
            "不满足失业保险金领取条件",
            "无领取失业金资格",
            "失业保险缴费不满一年",
        ] {
            assert_eq!(
                refused(r),
                Some(ForbiddenReason::NotEligibleForBenefit),
                "{r}"
            );
        }
    }

    #[test]
    fn hukou_family_is_refused() {
        for r in [
            "人户分离",
            "户籍不在本地",
            "非本地户籍",
            "外地户口",
            "户口不在本区",
            "不是本地户口",
            "户籍在外地，请回户籍地办理",
            "人户 分离",
        ] {
            assert_eq!(refused(r), Some(ForbiddenReason::HukouElsewhere), "{r}");
        }
    }

    #[test]
    fn full_width_and_spaces_do_not_matter() {
        assert_eq!(
            refused("　资料（材料）不全　"),
            Some(ForbiddenReason::MaterialsIncomplete)
        );
        assert_eq!(
            refused("不符合领金条件 "),
            Some(ForbiddenReason::NotEligibleForBenefit)
        );
    }

    #[test]
    fn allowed_reasons_are_not_refused() {
        for r in [
            "身份信息核验不符",
            "身份信息与公安数据比对不一致",
            "经核实处于就业状态",
            "已参加就业登记",
            "经核实已在本地参保缴费且处于就业状态，未失业",
            "社保参保信息显示在职",
            "企业在职参保，不处于无业状态",
            "已办理个体工商户营业执照",
            "已依法享受基本养老保险待遇",
            "重复申请，已在本地办理失业登记",
            "本人申请撤回",
            "未提供有效身份证件",
            "联系不上本人，经核实已入学",
        ] {
            assert_eq!(refused(r), None, "{r}");
        }
    }

    #[test]
    fn messages_cite_the_notices() {
        assert_eq!(
            ForbiddenReason::MaterialsIncomplete.message_zh(),
            "不得以资料（材料）不全为由拒绝失业登记（人社厅发〔2020〕79号 第（二）项）"
        );
        assert!(ForbiddenReason::HukouElsewhere
            .message_zh()
            .contains("黑人社函〔2020〕87号 第五条"));
        for r in [
            ForbiddenReason::MaterialsIncomplete,
            ForbiddenReason::NotInsuredLocally,
            ForbiddenReason::NotEligibleForBenefit,
            ForbiddenReason::HukouElsewhere,
        ] {
            assert!(r.message_zh().contains("人社厅发〔2020〕79号"));
            assert!(r.message_en().contains("79号"));
        }
    }
}
