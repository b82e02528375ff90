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
    match code.get(..2) {
        Some(two) if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{two}0000")
        }
        _ => code.to_string(),
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
                "不得以人户分离、户籍不在本地等理由不予受理失业登记（黑人社函〔2020〕87号 第五条；人社厅发〔2020〕79号 第（一）、（二）项）"
            }
        }
    }

    pub fn message_en(self) -> &'static str {
        match self {
            ForbiddenReason::MaterialsIncomplete => {
                "Registration may not be refused because materials are incomplete (人社厅发〔2020〕79号 §2, item (二))"
            }
            ForbiddenReason::NotInsuredLocally => {
                "Registration may not be refused because the person is not insured, or not insured locally (人社厅发〔2020〕79号 §2, item (二))"
            }
            ForbiddenReason::NotEligibleForBenefit => {
                "Registration may not be refused because the person does not qualify for unemployment benefit (人社厅发〔2020〕79号 §2, item (二))"
            }
            ForbiddenReason::HukouElsewhere => {
                "Registration may not be refused because the household registration is elsewhere (黑人社函〔2020〕87号 §5; 人社厅发〔2020〕79号 §1–2, items (一) and (二))"
            }
        }
    }
}

/// Whether a 审核不通过 reason refuses on grounds the notices forbid; `None` for a reason that may
/// be given (身份信息核验不符, 经核实处于就业状态, 已达到法定退休年龄, 缺少有效身份证件, …).
///
/// The reason is cut into clauses at `，。；！？` and line breaks; inside a clause full-width and
/// half-width forms, spaces and other punctuation do not matter (资料（材料）不全, 人户 分离). Each
/// family is recognised by its own meaning, a negation or a "not here" next to its topic within
/// the clause, so that a reason which merely mentions 参保, 户籍 or 劳动合同 while refusing on other
/// grounds is not caught:
///
/// - [`ForbiddenReason::HukouElsewhere`]: 户籍 / 户口 not local (户籍不在本地, 非本市户口, 外省户籍,
///   户籍地不是本县, 没有本地户口, 人户分离);
/// - [`ForbiddenReason::NotEligibleForBenefit`]: the conditions of 失业保险金 not met;
/// - [`ForbiddenReason::NotInsuredLocally`]: social insurance not paid, or paid elsewhere (未参保,
///   没有社保, 未缴纳失业保险, 社保不在本市); 社保卡 is an identity document, not insurance;
/// - [`ForbiddenReason::MaterialsIncomplete`]: a material or a proof other than the identity
///   document missing or demanded (材料不够, 未交离职证明, 需出具解除劳动合同证明, 请补齐). The
///   identity document is the one thing that may be asked for (79号 item (二): 不得要求失业人员提供除
///   本人身份证件以外其他证明), so the identity-document phrases themselves (身份证, 身份证件, 社保卡,
///   居住证, 通行证, 有效证件, …) are taken out first: "缺少有效身份证件" is allowed, "未提供身份证和
///   离职证明" is not.
///
/// The families are tried in that order, every clause for one family before the next.
pub fn forbidden_refusal(reason: &str) -> Option<ForbiddenReason> {
    let clauses = clauses(reason);
    let families: [(Family, ForbiddenReason); 4] = [
        (hukou_elsewhere, ForbiddenReason::HukouElsewhere),
        (not_eligible, ForbiddenReason::NotEligibleForBenefit),
        (not_insured, ForbiddenReason::NotInsuredLocally),
        (materials, ForbiddenReason::MaterialsIncomplete),
    ];
    families
        .into_iter()
        .find(|(test, _)| clauses.iter().any(|c| test(c)))
        .map(|(_, family)| family)
}

/// Whether one clause refuses on one family's grounds.
type Family = fn(&str) -> bool;

/// The clauses of a reason: half-width, cut at clause punctuation, then letters, digits and
/// ideographs only; empty clauses dropped.
fn clauses(reason: &str) -> Vec<String> {
    reason
        .chars()
        .map(crate::domain::text::half_width_char)
        .collect::<String>()
        .split([',', '。', '｡', ';', '!', '?', '\n', '\r'])
        .map(|c| {
            c.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|c| !c.is_empty())
        .collect()
}

/// 户籍 or 户口 said not to be local.
fn hukou_elsewhere(c: &str) -> bool {
    const PHRASES: &[&str] = &[
        "人户分离",
        "外地户",
        "外省户",
        "外市户",
        "外县户",
        "外区户",
        "异地户",
        "外地人",
        "外来人员",
        "非本地人",
        "非户籍",
    ];
    PHRASES.iter().any(|p| c.contains(p))
        || negated_topic(
            c,
            &["户籍", "户口"],
            &[],
            &[
                "非",
                "不是",
                "无本地",
                "没有本地",
                "没本地",
                "外地",
                "外省",
                "外市",
                "外县",
                "异地",
            ],
            &[
                "不在",
                "在外",
                "不属",
                "属外",
                "非本",
                "不是本",
                "不为本",
                "为外",
                "是外",
                "在异地",
                "非我",
                "不是我",
            ],
        )
}

/// The conditions of 失业保险金 said not to be met.
fn not_eligible(c: &str) -> bool {
    const PHRASES: &[&str] = &[
        "不符合领金",
        "领金条件",
        "缴费不满一年",
        "缴费不足一年",
        "缴费不满1年",
        "缴费不足1年",
        "缴费不满12个月",
        "缴费不足12个月",
        "缴费年限不足",
    ];
    PHRASES.iter().any(|p| c.contains(p))
        || negated_topic(
            c,
            &[
                "领金",
                "失业保险金",
                "失业金",
                "领取失业",
                "申领失业",
                "领取条件",
                "领取资格",
                "申领条件",
                "申领资格",
                "失业保险待遇",
            ],
            &[],
            &[
                "不符合",
                "未符合",
                "不满足",
                "未满足",
                "不具备",
                "未具备",
                "不具有",
                "无",
                "没有",
                "不能",
                "不可",
                "未达到",
                "达不到",
                "不够",
            ],
            &[
                "条件不符",
                "资格不符",
                "条件不满足",
                "条件不够",
                "不符合",
                "不满足",
                "未满足",
                "不具备",
            ],
        )
}

/// Social insurance said not to be paid, or not to be paid here.
fn not_insured(c: &str) -> bool {
    const PHRASES: &[&str] = &[
        "非本地参保",
        "外地参保",
        "异地参保",
        "外省参保",
        "未缴社保",
        "断缴",
        "停保",
        "停缴",
        "欠缴",
    ];
    PHRASES.iter().any(|p| c.contains(p))
        || negated_topic(
            c,
            &["参保", "社保", "社会保险", "社会保障", "保险"],
            // 社保卡 / 社会保障卡 is an identity document; 失业保险金 is the benefit.
            &["卡", "金"],
            &["未", "没有", "没", "无", "非", "不在", "断", "停", "欠"],
            &[
                "不在",
                "在外",
                "在异地",
                "未在",
                "不是本",
                "非本",
                "不属",
                "中断",
                "断了",
            ],
        )
}

/// A material or proof other than the identity document said to be missing or demanded.
fn materials(c: &str) -> bool {
    // The identity document may be asked for: its phrases are masked before anything is looked
    // for, longest first so that 居民身份证 is one phrase.
    const IDENTITY: &[&str] = &[
        "居民身份证",
        "身份证",
        "社会保障卡",
        "社保卡",
        "居住证",
        "通行证",
        "护照",
        "证件",
    ];
    // What counts as a material or a proof.
    const NOUNS: &[&str] = &[
        "证明",
        "证书",
        "证据",
        "档案",
        "资料",
        "材料",
        "毕业证",
        "学历证",
        "学位证",
        "离职证",
        "离职单",
        "退工单",
        "失业证",
        "创业证",
        "登记证",
        "合同",
        "协议",
        "凭证",
        "文件",
        "单据",
    ];
    // After a noun: it is missing or incomplete.
    const DEFICIENT: &[&str] = &[
        "不全",
        "不齐",
        "不完整",
        "不完善",
        "不够",
        "不足",
        "不充分",
        "不符合要求",
        "不合格",
        "不规范",
        "缺",
        "未提供",
        "未提交",
        "未上传",
        "未交",
        "没有提供",
        "没提供",
        "未出具",
        "未补",
    ];
    // Before the noun: something is to be handed in. A demand needs a word of lack or of
    // obligation just before it (已提供 is not a demand).
    const HAND_IN: &[&str] = &["提供", "提交", "上传", "出具", "递交", "交"];
    const DEMAND: &[&str] = &[
        "未", "没", "无法", "不能", "需", "须", "要", "请", "应", "必须",
    ];
    // 补… asks for more by itself.
    const SUPPLY: &[&str] = &["补充", "补交", "补齐", "补正", "补全", "补办", "补提"];
    // Before the noun: it is lacking. These need the noun itself (无失业状态 is no material).
    const LACK: &[&str] = &["缺", "没有", "无"];
    const OBJECT_CHARS: usize = 12;

    let mut masked = c.to_string();
    for id in IDENTITY {
        masked = masked.replace(id, "#");
    }
    let s = masked.as_str();
    let names_proof = |object: &str| NOUNS.iter().any(|n| object.contains(n));

    let deficient_noun = NOUNS.iter().any(|noun| {
        s.match_indices(noun).any(|(at, _)| {
            let tail = first_chars(s, at + noun.len(), 5);
            DEFICIENT.iter().any(|d| tail.contains(d))
        })
    });
    if deficient_noun {
        return true;
    }
    // A demand or a 补…: for any material, named or not, unless what follows is only the identity
    // document (未提供有效身份证件).
    let demanded = |at: usize, len: usize| {
        let object = first_chars(s, at + len, OBJECT_CHARS);
        names_proof(object) || !object.contains('#')
    };
    let hand_in = HAND_IN.iter().any(|verb| {
        s.match_indices(verb).any(|(at, _)| {
            let head = last_chars(s, at, 3);
            DEMAND.iter().any(|d| head.contains(d)) && demanded(at, verb.len())
        })
    });
    if hand_in
        || SUPPLY.iter().any(|verb| {
            s.match_indices(verb)
                .any(|(at, _)| demanded(at, verb.len()))
        })
    {
        return true;
    }
    LACK.iter().any(|verb| {
        s.match_indices(verb).any(|(at, _)| {
            let object = first_chars(s, at + verb.len(), OBJECT_CHARS);
            // 无法 is "unable to", read by the demands above.
            !object.starts_with('法') && names_proof(object)
        })
    })
}

/// Whether one of `topics` (not followed by one of `not_followed_by`) has a negation within 6
/// characters before it or a "not here" within 8 after it, in the clause.
fn negated_topic(
    c: &str,
    topics: &[&str],
    not_followed_by: &[&str],
    before: &[&str],
    after: &[&str],
) -> bool {
    topics.iter().any(|topic| {
        c.match_indices(topic).any(|(at, _)| {
            let end = at + topic.len();
            let rest = c.get(end..).unwrap_or_default();
            if not_followed_by.iter().any(|f| rest.starts_with(f)) {
                return false;
            }
            let window_before = last_chars(c, at, 6);
            let window_after = first_chars(c, end, 8);
            before.iter().any(|n| window_before.contains(n))
                || after.iter().any(|n| window_after.contains(n))
        })
    })
}

/// The last `n` characters of `s[..at]` (`at` a character boundary from `match_indices`; anything
/// else gives the empty string, never a panic).
fn last_chars(s: &str, at: usize, n: usize) -> &str {
    let head = s.get(..at).unwrap_or_default();
    let start = head
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map_or(0, |(i, _)| i);
    head.get(start..).unwrap_or_default()
}

/// The first `n` characters of `s[at..]` (same contract as [`last_chars`]).
fn first_chars(s: &str, at: usize, n: usize) -> &str {
    let tail = s.get(at..).unwrap_or_default();
    let end = tail.char_indices().nth(n).map_or(tail.len(), |(i, _)| i);
    tail.get(..end).unwrap_or_default()
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
        // Six bytes, not six digits: kept as given, no panic.
        assert_eq!(review_limits_for("23é10", &[]).limit_days, 10);
        assert_eq!(review_limits_for("黑龙", &[]).limit_days, 10);
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

    /// Every phrase and its bucket: `None` for a reason that may be given.
    #[test]
    fn every_reason_in_its_bucket() {
        use ForbiddenReason::*;
        let table: &[(&str, Option<ForbiddenReason>)] = &[
            // Materials or a proof other than the identity document.
            ("资料不全", Some(MaterialsIncomplete)),
            ("材料不全", Some(MaterialsIncomplete)),
            ("资料（材料）不全", Some(MaterialsIncomplete)),
            ("申请材料不齐全", Some(MaterialsIncomplete)),
            ("材料不够", Some(MaterialsIncomplete)),
            ("缺少离职证明", Some(MaterialsIncomplete)),
            ("缺少解除劳动关系证明", Some(MaterialsIncomplete)),
            ("未提供离职证明", Some(MaterialsIncomplete)),
            ("未提供毕业证书", Some(MaterialsIncomplete)),
            ("未交离职证明", Some(MaterialsIncomplete)),
            ("需出具解除劳动合同证明", Some(MaterialsIncomplete)),
            ("无终止劳动合同证明", Some(MaterialsIncomplete)),
            ("请补充材料后再申请", Some(MaterialsIncomplete)),
            ("请补齐后再申请", Some(MaterialsIncomplete)),
            ("没有档案", Some(MaterialsIncomplete)),
            ("未 提 供 证 明", Some(MaterialsIncomplete)),
            ("离职证明未提供", Some(MaterialsIncomplete)),
            ("须提交劳动合同", Some(MaterialsIncomplete)),
            ("未提供", Some(MaterialsIncomplete)),
            // The identity exception is the identity phrase only.
            ("未提供身份证和离职证明", Some(MaterialsIncomplete)),
            ("缺少身份证件及退工单", Some(MaterialsIncomplete)),
            // Social insurance: not paid, or not here.
            ("未参保", Some(NotInsuredLocally)),
            ("未在本地参保", Some(NotInsuredLocally)),
            ("社保不在本地", Some(NotInsuredLocally)),
            ("社保不在本市", Some(NotInsuredLocally)),
            ("社保关系不在本市", Some(NotInsuredLocally)),
            ("没有社保", Some(NotInsuredLocally)),
            ("没有缴纳社会保险", Some(NotInsuredLocally)),
            ("未缴纳失业保险", Some(NotInsuredLocally)),
            ("非本地参保人员", Some(NotInsuredLocally)),
            ("本人未在我市参加社会保险", Some(NotInsuredLocally)),
            ("未交社保", Some(NotInsuredLocally)),
            // Benefit eligibility.
            ("不符合领金条件", Some(NotEligibleForBenefit)),
            ("不符合领取失业保险金条件", Some(NotEligibleForBenefit)),
            ("未满足领取失业保险金的条件", Some(NotEligibleForBenefit)),
            ("不满足失业保险金领取条件", Some(NotEligibleForBenefit)),
            ("无领取失业金资格", Some(NotEligibleForBenefit)),
            ("失业保险缴费不满一年", Some(NotEligibleForBenefit)),
            // Household registration not local.
            ("人户分离", Some(HukouElsewhere)),
            ("人户 分离", Some(HukouElsewhere)),
            ("户籍不在本地", Some(HukouElsewhere)),
            ("非本地户籍", Some(HukouElsewhere)),
            ("外地户口", Some(HukouElsewhere)),
            ("户口不在本区", Some(HukouElsewhere)),
            ("不是本地户口", Some(HukouElsewhere)),
            ("没有本地户口", Some(HukouElsewhere)),
            ("户籍非本地", Some(HukouElsewhere)),
            ("户籍地不是本市", Some(HukouElsewhere)),
            ("户籍地不是本县", Some(HukouElsewhere)),
            ("户籍地不是本地", Some(HukouElsewhere)),
            ("外省户籍", Some(HukouElsewhere)),
            ("非本市户口", Some(HukouElsewhere)),
            ("户籍在外地，请回户籍地办理", Some(HukouElsewhere)),
            // Reasons that may be given.
            ("身份信息核验不符", None),
            ("身份信息与公安数据比对不一致", None),
            ("经核实处于就业状态", None),
            ("已参加就业登记", None),
            ("劳动合同未终止，无失业状态", None),
            ("已签订劳动合同，无失业状态", None),
            ("未办理退工手续但已在新单位就业", None),
            ("经核实已在本地参保缴费且处于就业状态，未失业", None),
            ("社保参保信息显示在职", None),
            ("企业在职参保，不处于无业状态", None),
            ("已办理个体工商户营业执照", None),
            ("已达到法定退休年龄", None),
            ("已享受基本养老保险待遇", None),
            ("已依法享受基本养老保险待遇", None),
            ("重复申请，已在本地办理失业登记", None),
            ("本人申请撤回", None),
            ("联系不上本人，经核实已入学", None),
            // 79号 item (二): the identity document is the one thing that may be required.
            ("缺少有效身份证件", None),
            ("未提供有效身份证件", None),
            ("需提供本人居民身份证", None),
            ("未出示社会保障卡", None),
            ("请提供有效证件", None),
            ("已提供离职证明，经核实已在新单位就业", None),
        ];
        for (reason, want) in table {
            assert_eq!(refused(reason), *want, "{reason}");
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
        assert_eq!(
            refused("社保不在本市．"),
            Some(ForbiddenReason::NotInsuredLocally)
        );
    }

    #[test]
    fn clause_punctuation_keeps_families_apart() {
        // The negation of one clause is not read as the next clause's.
        assert_eq!(refused("无，合同已签"), None);
        assert_eq!(
            refused("户籍不在本地；材料不全"),
            Some(ForbiddenReason::HukouElsewhere)
        );
        // Odd inputs are answered, never a panic.
        for odd in [
            "",
            "，，，",
            "é",
            "户",
            "保险金",
            "未",
            "#",
            "\u{0}",
            "缺缺缺缺",
        ] {
            let _ = refused(odd);
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
