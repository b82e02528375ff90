//! The 失业人员登记表 (黑人社函〔2020〕87号 annex 1) as an application sends it, [`validate`] and the
//! normalised [`Application`]; and the statutory retirement date that ends the working age.
//!
//! There is no field for any proof: 人社厅发〔2020〕79号 item (二) forbids asking for anything but
//! the person's own identity document (no 离职证明, no diplomas, no archive), so the form's fields and
//! the signed promise (告知承诺制) are the whole application.

use super::FormTable;
use crate::domain::codes::CodeTable;
use crate::domain::id_number::{age_on, IdNumber};
use crate::domain::text::{clean, half_width_char};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Working age starts at 16 (79号 item (十); LD/T 6009-2024 §3.4).
const MIN_AGE: i32 = 16;
const MAX_NAME_CHARS: usize = 50;
const MAX_ADDRESS_PART_CHARS: usize = 50;
const MAX_ADDRESS_DETAIL_CHARS: usize = 200;
const MAX_LIST_ITEMS: usize = 3;
const MAX_LIST_ITEM_CHARS: usize = 50;
const MAX_DISABILITY_GRADE_CHARS: usize = 20;
const MAX_REASON_OTHER_CHARS: usize = 100;
const MAX_EMAIL_CHARS: usize = 100;
const MAX_LANDLINE_CHARS: usize = 20;
const MAX_OTHER_CONTACT_CHARS: usize = 50;
const MAX_REMARKS_CHARS: usize = 500;
/// AAC044 证件号码 is 22 characters in the 79号 annex; a 通行证 number may use all of them.
const MAX_PERMIT_NUMBER_CHARS: usize = 22;

/// An address as the form prints it: 省(区/市), 市(州), 县(区), (详细地址), and optionally the
/// division code if the sender already knows it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub code: Option<String>,
    pub province: Option<String>,
    pub prefecture: Option<String>,
    pub county: Option<String>,
    pub detail: Option<String>,
}

/// The 失业人员登记表 as sent: every field optional so that [`validate`] can list every problem.
#[derive(Clone, Debug, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    pub name: Option<String>,
    pub sex: Option<String>,
    pub ethnicity: Option<String>,
    pub political_status: Option<String>,
    pub education: Option<String>,
    pub health: Option<String>,
    /// 伤残等级, required when 健康状况 is 残疾 (the form: 需注明伤残等级; it gives no table).
    pub disability_grade: Option<String>,
    /// 失业时间: `YYYY-MM-DD`, `YYYYMMDD`, or `YYYY-MM` (read as the first of the month).
    pub unemployed_since: Option<String>,
    pub id_type: Option<String>,
    pub id_number: Option<String>,
    /// Required only for a 通行证, whose number does not carry the birth date; for the other
    /// documents it may be given and must then agree with the number.
    pub birth_date: Option<String>,
    pub hukou_address: Option<AddressInput>,
    pub residence_address: Option<AddressInput>,
    /// 职业(工种)资格及等级 或专业技术职务名称及级别, up to 3.
    pub qualifications: Option<Vec<String>>,
    pub mobile: Option<String>,
    pub landline: Option<String>,
    pub email: Option<String>,
    pub other_contact: Option<String>,
    /// 登记失业地: 户籍地, 常住地, 就业地 or 参保地 (79号 item (一)).
    pub registration_place: Option<String>,
    /// The address of a 就业地 or 参保地, which the form has no line for.
    pub registration_place_address: Option<AddressInput>,
    pub unemployment_reason: Option<String>,
    pub unemployment_reason_other: Option<String>,
    /// 是否申领失业保险金: 是/否, true/false, 1/0.
    #[schema(value_type = Option<Object>)]
    pub claims_benefit: Option<serde_json::Value>,
    /// 求职意向, up to 3.
    pub job_intentions: Option<Vec<String>>,
    /// 其他需说明的事项.
    pub remarks: Option<String>,
    /// The signed 承诺 (本人承诺填报的以上内容均真实、准确、有效…): must be true.
    #[schema(value_type = Option<Object>)]
    pub promise_signed: Option<serde_json::Value>,
    pub promise_signer: Option<String>,
    pub promise_date: Option<String>,
}

/// One problem of an application: the input field (as named in [`ApplicationInput`]) and what is
/// wrong, for the clerk or the applicant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldProblem {
    pub field: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

/// An address after validation: the division code if one was given (six digits), and the text of
/// its parts joined (province + prefecture + county + detail) for the hub's address resolver.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    pub code: Option<String>,
    pub text: String,
}

/// 登记失业地: where the person chose to register (79号 item (一)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlaceKind {
    /// 户籍地
    Hukou,
    /// 常住地
    Residence,
    /// 就业地: where the person's 就业登记 or 劳动用工备案 was before the unemployment.
    Employment,
    /// 参保地: where the person was insured before the unemployment.
    Insurance,
}

impl PlaceKind {
    pub const ALL: [PlaceKind; 4] = [
        PlaceKind::Hukou,
        PlaceKind::Residence,
        PlaceKind::Employment,
        PlaceKind::Insurance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlaceKind::Hukou => "hukou",
            PlaceKind::Residence => "residence",
            PlaceKind::Employment => "employment",
            PlaceKind::Insurance => "insurance",
        }
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PlaceKind::Hukou => "户籍地",
            PlaceKind::Residence => "常住地",
            PlaceKind::Employment => "就业地",
            PlaceKind::Insurance => "参保地",
        }
    }

    /// The word, the Chinese label, or the form's checkbox wording (户籍地址, 常住地址).
    pub fn parse(raw: &str) -> Option<PlaceKind> {
        let key = compact(raw).to_ascii_lowercase();
        PlaceKind::ALL.into_iter().find(|p| {
            key == p.as_str()
                || key == p.label_zh()
                || key.strip_suffix('址') == Some(p.label_zh())
                || (key
                    .strip_suffix("地址")
                    .map(|k| format!("{k}地"))
                    .as_deref()
                    == Some(p.label_zh()))
        })
    }

    /// Whether the form itself holds this place's address (户籍地址 and 常住地址 do).
    fn needs_own_address(self) -> bool {
        matches!(self, PlaceKind::Employment | PlaceKind::Insurance)
    }
}

/// A valid application, normalised: codes as codes (names through the `*_name` methods), texts
/// trimmed and half-width, dates as dates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Application {
    pub name: String,
    /// GB/T 2261.1 `1` or `2`.
    pub sex: String,
    /// GB/T 3304 code.
    pub ethnicity: String,
    /// GB/T 4762 code.
    pub political_status: Option<String>,
    /// GB/T 4658-2006 top-level code.
    pub education: String,
    /// GB/T 2261.3 code.
    pub health: String,
    pub disability_grade: Option<String>,
    pub unemployed_since: NaiveDate,
    /// AAC058 code: `01`, `90`, `17`, `04`, `05` or `06`.
    pub id_type: String,
    /// Half-width, no spaces, upper-case letters; for 居民身份证, 社会保障卡 and 港澳台居民居住证
    /// always the 18-digit number (a 15-digit one is upgraded), as [`normalize_id_number`] gives.
    pub id_number: String,
    /// From the ID number, or the `birth_date` field for a 通行证.
    pub birth_date: NaiveDate,
    pub hukou_address: Address,
    pub residence_address: Address,
    pub qualifications: Vec<String>,
    pub mobile: String,
    pub landline: Option<String>,
    pub email: Option<String>,
    pub other_contact: Option<String>,
    pub registration_place: PlaceKind,
    /// Only for 就业地 and 参保地.
    pub registration_place_address: Option<Address>,
    /// The form's order number (`fixtures/codes/unemployment/unemployment_reason.csv`).
    pub unemployment_reason: Option<String>,
    pub unemployment_reason_other: Option<String>,
    pub claims_benefit: bool,
    pub job_intentions: Vec<String>,
    pub remarks: Option<String>,
    pub promise_signer: String,
    pub promise_date: NaiveDate,
}

impl Application {
    /// The address of the chosen registration place: where the application is routed.
    pub fn place_address(&self) -> &Address {
        match self.registration_place {
            PlaceKind::Hukou => &self.hukou_address,
            PlaceKind::Residence => &self.residence_address,
            // `validate` guarantees the address for these two; the fallback is never reached.
            PlaceKind::Employment | PlaceKind::Insurance => self
                .registration_place_address
                .as_ref()
                .unwrap_or(&self.residence_address),
        }
    }

    pub fn sex_name(&self) -> &'static str {
        CodeTable::Sex.name_of(&self.sex).unwrap_or_default()
    }
    pub fn ethnicity_name(&self) -> &'static str {
        CodeTable::Ethnicity
            .name_of(&self.ethnicity)
            .unwrap_or_default()
    }
    pub fn political_status_name(&self) -> Option<&'static str> {
        CodeTable::PoliticalStatus.name_of(self.political_status.as_deref()?)
    }
    pub fn education_name(&self) -> &'static str {
        FormTable::Education
            .name_of(&self.education)
            .unwrap_or_default()
    }
    pub fn health_name(&self) -> &'static str {
        FormTable::Health.name_of(&self.health).unwrap_or_default()
    }
    pub fn id_type_name(&self) -> &'static str {
        CodeTable::IdType.name_of(&self.id_type).unwrap_or_default()
    }
    pub fn unemployment_reason_name(&self) -> Option<&'static str> {
        FormTable::UnemploymentReason.name_of(self.unemployment_reason.as_deref()?)
    }
}

/// The statutory retirement date (法定退休年龄) of a person born on `birth`, under the 国务院关于
/// 渐进式延迟法定退休年龄的办法 (adopted by the 全国人大常委会 decision of 2024-09-13) article 1: from
/// 2025-01-01 the age of men (60) and of women whose age was 55 is delayed one month for every
/// four months, to 63 and 58; women whose age was 50 are delayed one month every two months to 55.
///
/// Women are put on the 55 → 58 track: the form does not say 干部 or 工人, and turning away a woman
/// who may still register is worse than admitting one who may not. A sex code other than `2` takes
/// the men's track, the later of the two.
///
/// The 办法's table counts by birth month: the first born in January 1965 (men) or January 1970
/// (women) are delayed one month, each further four birth months one more, at most 36. The date is
/// the birth date plus that age in months (the last day of a shorter month).
pub fn statutory_retirement_date(birth: NaiveDate, sex_code: &str) -> NaiveDate {
    let (base_years, first_delayed_year) = if sex_code == "2" {
        (55u32, 1970)
    } else {
        (60u32, 1965)
    };
    let months_into_reform = (birth.year() - first_delayed_year) * 12 + birth.month0() as i32;
    let delay = if months_into_reform < 0 {
        0
    } else {
        (months_into_reform as u32 / 4 + 1).min(36)
    };
    birth
        .checked_add_months(Months::new(base_years * 12 + delay))
        .unwrap_or(NaiveDate::MAX)
}

/// The documents of LD/T 6009-2024 §5.1: 居民身份证, 社会保障卡, 港澳台居民居住证, and the two
/// 通行证 (香港 `04`, 澳门 `05`, 台湾 `06`).
const ACCEPTED_ID_TYPES: [&str; 6] = ["01", "90", "17", "04", "05", "06"];

/// Collects the problems of one application.
struct Problems(Vec<FieldProblem>);

impl Problems {
    fn add(&mut self, field: &'static str, zh: impl Into<String>, en: impl Into<String>) {
        self.0.push(FieldProblem {
            field,
            message_zh: zh.into(),
            message_en: en.into(),
        });
    }

    fn required(&mut self, field: &'static str, label_zh: &str, label_en: &str) {
        self.add(
            field,
            format!("{label_zh}：必填"),
            format!("{label_en}: required"),
        );
    }

    fn too_long(&mut self, field: &'static str, label_zh: &str, label_en: &str, max: usize) {
        self.add(
            field,
            format!("{label_zh}：最多 {max} 个字符"),
            format!("{label_en}: at most {max} characters"),
        );
    }

    /// A trimmed optional text of at most `max` characters.
    fn text(
        &mut self,
        raw: &Option<String>,
        field: &'static str,
        label: (&str, &str),
        max: usize,
    ) -> Option<String> {
        let value = raw.as_deref().and_then(clean)?;
        if value.chars().count() > max {
            self.too_long(field, label.0, label.1, max);
            return None;
        }
        Some(value)
    }

    /// A required coded value looked up by `lookup`.
    fn coded(
        &mut self,
        raw: &Option<String>,
        field: &'static str,
        label: (&str, &str),
        lookup: impl Fn(&str) -> Option<&'static str>,
    ) -> Option<String> {
        let Some(value) = raw.as_deref().and_then(clean) else {
            self.required(field, label.0, label.1);
            return None;
        };
        match lookup(&value) {
            Some(code) => Some(code.to_string()),
            None => {
                self.add(
                    field,
                    format!("{}：“{}”不在代码表中", label.0, shorten(&value)),
                    format!(
                        "{}: \"{}\" is not in the code table",
                        label.1,
                        shorten(&value)
                    ),
                );
                None
            }
        }
    }
}

/// Checks an application against the form's rules and answers the normalised application or
/// every problem found (never just the first). `today` is the application day: the age, the
/// 失业时间 and the promise's date are judged against it.
pub fn validate(
    input: &ApplicationInput,
    today: NaiveDate,
) -> Result<Application, Vec<FieldProblem>> {
    let mut p = Problems(Vec::new());

    let name = match input.name.as_deref().and_then(clean) {
        None => {
            p.required("name", "姓名", "Name");
            None
        }
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            p.too_long("name", "姓名", "Name", MAX_NAME_CHARS);
            None
        }
        Some(n) => match input.name.as_deref().and_then(name_problem) {
            Some((zh, en)) => {
                p.add("name", zh, en);
                None
            }
            None => Some(n),
        },
    };
    let sex = p.coded(&input.sex, "sex", ("性别", "Sex"), |v| {
        CodeTable::Sex.lookup(v)
    });
    let ethnicity = p.coded(
        &input.ethnicity,
        "ethnicity",
        ("民族", "Ethnicity"),
        |v| CodeTable::Ethnicity.lookup(v),
    );
    let political_status = match input.political_status.as_deref().and_then(clean) {
        None => None,
        Some(_) => p.coded(
            &input.political_status,
            "political_status",
            ("政治面貌", "Political status"),
            |v| CodeTable::PoliticalStatus.lookup(v),
        ),
    };
    let education = p.coded(
        &input.education,
        "education",
        ("学历", "Education"),
        |v| FormTable::Education.lookup(v),
    );
    let health = p.coded(&input.health, "health", ("健康状况", "Health"), |v| {
        FormTable::Health.lookup(v)
    });
    let disability_grade = p.text(
        &input.disability_grade,
        "disability_grade",
        ("伤残等级", "Disability grade"),
        MAX_DISABILITY_GRADE_CHARS,
    );
    let grade_given = input.disability_grade.as_deref().and_then(clean).is_some();
    if health.as_deref() == Some("6") && !grade_given {
        p.add(
            "disability_grade",
            "伤残等级：健康状况为残疾时必须注明伤残等级",
            "Disability grade: required when the health status is 残疾 (disabled)",
        );
    }

    let unemployed_since = match input.unemployed_since.as_deref().and_then(clean) {
        None => {
            p.required("unemployed_since", "失业时间", "Unemployed since");
            None
        }
        Some(raw) => match parse_form_date(&raw, true) {
            None => {
                p.add(
                    "unemployed_since",
                    "失业时间：应为 YYYY-MM-DD、YYYYMMDD 或 YYYY-MM 格式的有效日期",
                    "Unemployed since: a valid date as YYYY-MM-DD, YYYYMMDD or YYYY-MM",
                );
                None
            }
            Some(d) if d > today => {
                p.add(
                    "unemployed_since",
                    "失业时间：不能晚于申请当日",
                    "Unemployed since: cannot be after the application day",
                );
                None
            }
            Some(d) => Some(d),
        },
    };

    let (id_type, id_number, birth_date) = identity(input, sex.as_deref(), today, &mut p);
    if let (Some(birth), Some(since)) = (birth_date, unemployed_since) {
        if since < birth {
            p.add(
                "unemployed_since",
                "失业时间：不能早于出生日期",
                "Unemployed since: cannot be before the birth date",
            );
        }
    }
    if let Some(birth) = birth_date {
        // The age is a property of the number unless the birth date was typed (通行证).
        let field = match id_type.as_deref() {
            Some("04" | "05" | "06") => "birth_date",
            _ => "id_number",
        };
        working_age(birth, sex.as_deref(), today, field, &mut p);
    }

    let hukou_address = address(
        &input.hukou_address,
        "hukou_address",
        ("户籍地址", "Household registration address"),
        &mut p,
    );
    let residence_address = address(
        &input.residence_address,
        "residence_address",
        ("常住地址", "Residence address"),
        &mut p,
    );
    let qualifications = short_list(
        &input.qualifications,
        "qualifications",
        ("职业(工种)资格及等级", "Qualifications"),
        &mut p,
    );

    let mobile = match input.mobile.as_deref().and_then(clean) {
        None => {
            p.required("mobile", "手机", "Mobile phone");
            None
        }
        Some(raw) => match mobile_number(&raw) {
            Some(m) => Some(m),
            None => {
                p.add(
                    "mobile",
                    "手机：应为以 1 开头的 11 位数字",
                    "Mobile phone: 11 digits starting with 1",
                );
                None
            }
        },
    };
    let landline = p
        .text(
            &input.landline,
            "landline",
            ("固定电话", "Landline"),
            MAX_LANDLINE_CHARS,
        )
        .and_then(|l| {
            let digits = l.chars().filter(char::is_ascii_digit).count();
            let allowed = l
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+'));
            if allowed && digits >= 7 {
                Some(l)
            } else {
                p.add(
                    "landline",
                    "固定电话：只能含数字、-、括号和 +，至少 7 位数字",
                    "Landline: digits, '-', brackets and '+' only, at least 7 digits",
                );
                None
            }
        });
    let email = p
        .text(
            &input.email,
            "email",
            ("电子邮件", "E-mail"),
            MAX_EMAIL_CHARS,
        )
        .and_then(|e| {
            if plausible_email(&e) {
                Some(e)
            } else {
                p.add(
                    "email",
                    "电子邮件：格式不正确",
                    "E-mail: not a valid address",
                );
                None
            }
        });
    let other_contact = p.text(
        &input.other_contact,
        "other_contact",
        ("其他联系方式", "Other contact"),
        MAX_OTHER_CONTACT_CHARS,
    );

    let registration_place = match input.registration_place.as_deref().and_then(clean) {
        None => {
            p.required("registration_place", "登记失业地", "Registration place");
            None
        }
        Some(raw) => match PlaceKind::parse(&raw) {
            Some(place) => Some(place),
            None => {
                p.add(
                    "registration_place",
                    "登记失业地：应为户籍地、常住地、就业地或参保地（人社厅发〔2020〕79号 第（一）项）",
                    "Registration place: one of 户籍地, 常住地, 就业地, 参保地 (hukou, residence, employment, insurance)",
                );
                None
            }
        },
    };
    let registration_place_address = match registration_place {
        Some(place) if place.needs_own_address() => address(
            &input.registration_place_address,
            "registration_place_address",
            ("登记失业地地址", "Registration place address"),
            &mut p,
        ),
        // 户籍地 and 常住地 have their address on the form; anything sent here is not used.
        _ => None,
    };

    let unemployment_reason = match input.unemployment_reason.as_deref().and_then(clean) {
        None => None,
        Some(_) => p.coded(
            &input.unemployment_reason,
            "unemployment_reason",
            ("失业原因", "Reason for unemployment"),
            |v| FormTable::UnemploymentReason.lookup(v),
        ),
    };
    let unemployment_reason_other = p.text(
        &input.unemployment_reason_other,
        "unemployment_reason_other",
        ("其他失业原因", "Other reason"),
        MAX_REASON_OTHER_CHARS,
    );
    let reason_is_other = unemployment_reason
        .as_deref()
        .and_then(|c| FormTable::UnemploymentReason.name_of(c))
        == Some("其他");
    if reason_is_other
        && input
            .unemployment_reason_other
            .as_deref()
            .and_then(clean)
            .is_none()
    {
        p.add(
            "unemployment_reason_other",
            "其他失业原因：失业原因选“其他”时须填写具体原因",
            "Other reason: required when the reason is 其他 (other)",
        );
    }

    let claims_benefit = match input.claims_benefit.as_ref().and_then(yes_no_present) {
        None => {
            p.required(
                "claims_benefit",
                "是否申领失业保险金",
                "Claims unemployment benefit",
            );
            None
        }
        Some(Some(b)) => Some(b),
        Some(None) => {
            p.add(
                "claims_benefit",
                "是否申领失业保险金：应为“是”或“否”",
                "Claims unemployment benefit: 是/否 (yes/no), true/false or 1/0",
            );
            None
        }
    };
    let job_intentions = short_list(
        &input.job_intentions,
        "job_intentions",
        ("求职意向", "Job intentions"),
        &mut p,
    );
    let remarks = p.text(
        &input.remarks,
        "remarks",
        ("其他需说明的事项", "Remarks"),
        MAX_REMARKS_CHARS,
    );

    let (promise_signer, promise_date) = promise(input, name.as_deref(), today, &mut p);

    if !p.0.is_empty() {
        return Err(p.0);
    }
    // No problem was recorded, so every required value is present; the match keeps that honest
    // without an unwrap.
    match (
        name,
        sex,
        ethnicity,
        education,
        health,
        unemployed_since,
        id_type,
        id_number,
        birth_date,
        hukou_address,
        residence_address,
        mobile,
        registration_place,
        claims_benefit,
        promise_signer,
        promise_date,
    ) {
        (
            Some(name),
            Some(sex),
            Some(ethnicity),
            Some(education),
            Some(health),
            Some(unemployed_since),
            Some(id_type),
            Some(id_number),
            Some(birth_date),
            Some(hukou_address),
            Some(residence_address),
            Some(mobile),
            Some(registration_place),
            Some(claims_benefit),
            Some(promise_signer),
            Some(promise_date),
        ) => Ok(Application {
            name,
            sex,
            ethnicity,
            political_status,
            education,
            health,
            disability_grade,
            unemployed_since,
            id_type,
            id_number,
            birth_date,
            hukou_address,
            residence_address,
            qualifications,
            mobile,
            landline,
            email,
            other_contact,
            registration_place,
            registration_place_address,
            unemployment_reason,
            unemployment_reason_other,
            claims_benefit,
            job_intentions,
            remarks,
            promise_signer,
            promise_date,
        }),
        _ => Err(vec![FieldProblem {
            field: "application",
            message_zh: "申请：内部校验不一致，请联系管理员".to_string(),
            message_en: "Application: internal validation inconsistency, contact the administrator"
                .to_string(),
        }]),
    }
}

/// 证件类型 and 证件号码, and the birth date they give: (type code, normalised number, birth).
fn identity(
    input: &ApplicationInput,
    sex: Option<&str>,
    today: NaiveDate,
    p: &mut Problems,
) -> (Option<String>, Option<String>, Option<NaiveDate>) {
    let number = input.id_number.as_deref().and_then(clean);
    if number.is_none() {
        p.required("id_number", "证件号码", "ID number");
    }
    let id_type = match input.id_type.as_deref().and_then(clean) {
        None => {
            p.required("id_type", "证件类型", "ID type");
            None
        }
        Some(raw) => id_type_code(&raw, number.as_deref(), p),
    };
    let stated_raw = input.birth_date.as_deref().and_then(clean);
    let stated_birth = stated_raw
        .as_deref()
        .and_then(|raw| parse_form_date(raw, false))
        .filter(|d| *d <= today);
    if stated_raw.is_some() && stated_birth.is_none() {
        p.add(
            "birth_date",
            "出生日期：应为 YYYY-MM-DD 或 YYYYMMDD 格式、不晚于今天的有效日期",
            "Birth date: a valid date as YYYY-MM-DD or YYYYMMDD, not after today",
        );
    }
    let (Some(code), Some(number)) = (id_type.as_deref(), number) else {
        return (id_type, None, None);
    };

    match code {
        "04" | "05" | "06" => {
            let compact: String = number
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_uppercase())
                .collect();
            let well_formed = !compact.is_empty()
                && compact.chars().count() <= MAX_PERMIT_NUMBER_CHARS
                && compact.chars().all(|c| c.is_ascii_alphanumeric());
            if !well_formed {
                p.add(
                    "id_number",
                    "证件号码：通行证号码应为 1–22 位字母或数字",
                    "ID number: a travel permit number is 1-22 letters or digits",
                );
                return (id_type, None, None);
            }
            if stated_raw.is_none() {
                p.add(
                    "birth_date",
                    "出生日期：持通行证申请时必填（通行证号码不含出生日期）",
                    "Birth date: required with a travel permit (its number does not contain the birth date)",
                );
            }
            (id_type, Some(compact), stated_birth)
        }
        _ => match IdNumber::parse_on(&number, today) {
            Err(e) => {
                p.add("id_number", e.message_zh(), e.message_en());
                (id_type, None, None)
            }
            Ok(id) => {
                // 港澳台居民居住证 numbers are GB 11643 numbers with the 810000 / 820000 / 830000
                // prefixes; a mainland number on a residence permit is a typing error.
                if code == "17" && !matches!(id.region_prefix(), "810000" | "820000" | "830000") {
                    p.add(
                        "id_number",
                        "证件号码：港澳台居民居住证号码应以 810000、820000 或 830000 开头",
                        "ID number: a residence permit number for Hong Kong, Macao or Taiwan residents starts with 810000, 820000 or 830000",
                    );
                    return (id_type, None, None);
                }
                if let Some(sex) = sex {
                    if id.sex_code() != sex {
                        p.add(
                            "sex",
                            "性别：与证件号码中的性别不符",
                            "Sex: does not agree with the ID number",
                        );
                    }
                }
                if let Some(stated) = stated_birth {
                    if stated != id.birth_date() {
                        p.add(
                            "birth_date",
                            "出生日期：与证件号码中的出生日期不符",
                            "Birth date: does not agree with the ID number",
                        );
                    }
                }
                // The 18-digit form, so that a first-generation 15-digit number and its 18-digit
                // successor are one person (one person, one registration).
                (id_type, Some(id.id18().to_string()), Some(id.birth_date()))
            }
        },
    }
}

/// The AAC058 code of one of the four accepted documents, or a problem naming them.
fn id_type_code(raw: &str, number: Option<&str>, p: &mut Problems) -> Option<String> {
    let compact = compact(raw);
    // 港澳居民来往内地通行证 names two codes (香港 04, 澳门 05) and is not a synonym in the table;
    // the permit number's letter tells them apart (H Hong Kong, M Macao).
    if compact == "港澳居民来往内地通行证" {
        let first = number
            .and_then(|n| n.chars().map(half_width_char).find(|c| !c.is_whitespace()))
            .map(|c| c.to_ascii_uppercase());
        return match first {
            Some('H') => Some("04".to_string()),
            Some('M') => Some("05".to_string()),
            _ => {
                p.add(
                    "id_type",
                    "证件类型：请写明香港居民来往内地通行证（04）或澳门居民来往内地通行证（05）",
                    "ID type: say 香港居民来往内地通行证 (04) or 澳门居民来往内地通行证 (05)",
                );
                None
            }
        };
    }
    let code = CodeTable::IdType.lookup(raw);
    // The table's 04 and 05 also name the 特区护照, which is not one of the accepted documents.
    let is_passport = compact.contains("护照");
    match code {
        Some(code) if ACCEPTED_ID_TYPES.contains(&code) && !is_passport => Some(code.to_string()),
        _ => {
            p.add(
                "id_type",
                "证件类型：只接受居民身份证、社会保障卡、港澳台居民居住证、港澳居民来往内地通行证或台湾居民来往大陆通行证（LD/T 6009-2024 第 5.1 条）",
                "ID type: only 居民身份证 (resident ID card), 社会保障卡 (social security card), 港澳台居民居住证 (residence permit for Hong Kong, Macao and Taiwan residents) or a 通行证 (travel permit for Hong Kong/Macao or Taiwan residents) are accepted (LD/T 6009-2024 §5.1)",
            );
            None
        }
    }
}

/// 16 to the statutory retirement age on the application day (79号 item (十)).
fn working_age(
    birth: NaiveDate,
    sex: Option<&str>,
    today: NaiveDate,
    field: &'static str,
    p: &mut Problems,
) {
    if age_on(birth, today) < MIN_AGE {
        p.add(
            field,
            "年龄：未满 16 周岁，不在劳动年龄内（人社厅发〔2020〕79号 第（十）项）",
            "Age: under 16, below the working age (79号 item (10))",
        );
        return;
    }
    // Without a valid sex the later (men's) date is used: never refuse on a guess.
    let retirement = statutory_retirement_date(birth, sex.unwrap_or("1"));
    if today >= retirement {
        p.add(
            field,
            format!(
                "年龄：已于 {retirement} 达到法定退休年龄，不在劳动年龄内（人社厅发〔2020〕79号 第（十）项）"
            ),
            format!("Age: reached the statutory retirement age on {retirement}, beyond the working age (79号 item (10))"),
        );
    }
}

/// A required (or optional) address: at least a code or some text.
fn address(
    raw: &Option<AddressInput>,
    field: &'static str,
    label: (&str, &str),
    p: &mut Problems,
) -> Option<Address> {
    let empty = AddressInput::default();
    let input = raw.as_ref().unwrap_or(&empty);
    let before = p.0.len();
    let code = input.code.as_deref().and_then(clean);
    if let Some(c) = &code {
        if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()) {
            p.add(
                field,
                format!("{}：行政区划代码应为 6 位数字", label.0),
                format!("{}: the division code is 6 digits", label.1),
            );
        }
    }
    let mut text = String::new();
    for (part, max) in [
        (&input.province, MAX_ADDRESS_PART_CHARS),
        (&input.prefecture, MAX_ADDRESS_PART_CHARS),
        (&input.county, MAX_ADDRESS_PART_CHARS),
        (&input.detail, MAX_ADDRESS_DETAIL_CHARS),
    ] {
        if let Some(value) = p.text(part, field, label, max) {
            text.push_str(&value);
        }
    }
    if code.is_none() && text.is_empty() && p.0.len() == before {
        p.add(
            field,
            format!("{}：必填（行政区划代码或地址）", label.0),
            format!("{}: required (a division code or the address)", label.1),
        );
        return None;
    }
    (p.0.len() == before).then_some(Address { code, text })
}

/// Up to three short entries; blank ones are dropped before counting.
fn short_list(
    raw: &Option<Vec<String>>,
    field: &'static str,
    label: (&str, &str),
    p: &mut Problems,
) -> Vec<String> {
    let items: Vec<String> = raw.iter().flatten().filter_map(|s| clean(s)).collect();
    if items.len() > MAX_LIST_ITEMS {
        p.add(
            field,
            format!("{}：最多 {MAX_LIST_ITEMS} 项", label.0),
            format!("{}: at most {MAX_LIST_ITEMS} entries", label.1),
        );
    }
    if items
        .iter()
        .any(|s| s.chars().count() > MAX_LIST_ITEM_CHARS)
    {
        p.add(
            field,
            format!("{}：每项最多 {MAX_LIST_ITEM_CHARS} 个字符", label.0),
            format!("{}: at most {MAX_LIST_ITEM_CHARS} characters each", label.1),
        );
    }
    items
}

/// The signed promise: signed, by the applicant, on a real day not after today.
fn promise(
    input: &ApplicationInput,
    name: Option<&str>,
    today: NaiveDate,
    p: &mut Problems,
) -> (Option<String>, Option<NaiveDate>) {
    if input.promise_signed.as_ref().and_then(yes_no_present) != Some(Some(true)) {
        p.add(
            "promise_signed",
            "承诺：申请人须签署承诺（告知承诺制）",
            "Promise: the applicant must sign the promise",
        );
    }
    let signer = match input.promise_signer.as_deref().and_then(clean) {
        None => {
            p.required("promise_signer", "申请人（签字）", "Signer");
            None
        }
        Some(s) => {
            if name.is_some_and(|n| n != s) {
                p.add(
                    "promise_signer",
                    "申请人（签字）：应与姓名一致",
                    "Signer: must be the applicant named on the form",
                );
                None
            } else {
                Some(s)
            }
        }
    };
    let date = match input.promise_date.as_deref().and_then(clean) {
        None => {
            p.required("promise_date", "承诺日期", "Promise date");
            None
        }
        Some(raw) => match parse_form_date(&raw, false) {
            Some(d) if d <= today => Some(d),
            Some(_) => {
                p.add(
                    "promise_date",
                    "承诺日期：不能晚于申请当日",
                    "Promise date: cannot be after the application day",
                );
                None
            }
            None => {
                p.add(
                    "promise_date",
                    "承诺日期：应为 YYYY-MM-DD 或 YYYYMMDD 格式的有效日期",
                    "Promise date: a valid date as YYYY-MM-DD or YYYYMMDD",
                );
                None
            }
        },
    };
    (signer, date)
}

/// `YYYY-MM-DD` (month and day may have one digit) or `YYYYMMDD`; with `month_ok`, also
/// `YYYY-MM` / `YYYYMM` as the first of that month. Nothing else: a form's date is typed by a
/// person or a date picker, not exported by a spreadsheet.
fn parse_form_date(raw: &str, month_ok: bool) -> Option<NaiveDate> {
    let s = compact(raw);
    // ASCII digits and hyphens only (after full-width → half-width): every byte is then a whole
    // character, so the byte lengths and slices below cannot cut one ("2026年1" is 8 bytes).
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let num = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let ymd = |y: &str, m: &str, d: &str| {
        if y.len() != 4 || m.len() > 2 || d.len() > 2 {
            return None;
        }
        NaiveDate::from_ymd_opt(i32::try_from(num(y)?).ok()?, num(m)?, num(d)?)
    };
    let parts: Vec<&str> = s.split('-').collect();
    match parts.as_slice() {
        [y, m, d] => ymd(y, m, d),
        [y, m] if month_ok => ymd(y, m, "1"),
        [digits] if digits.len() == 8 => ymd(digits.get(..4)?, digits.get(4..6)?, digits.get(6..)?),
        [digits] if month_ok && digits.len() == 6 => ymd(digits.get(..4)?, digits.get(4..)?, "1"),
        _ => None,
    }
}

/// An ID number as typed, normalised for comparison with [`Application::id_number`] (the public
/// progress query): full-width → half-width, every space removed (inside and around), ASCII letters
/// upper-cased, and a valid 15-digit 公民身份号码 converted to its 18 digits. Anything else — an
/// 18-digit number, a permit number, an invalid or unknown string — is returned normalised but
/// otherwise unchanged; this never refuses.
pub fn normalize_id_number(raw: &str) -> String {
    let s: String = compact(raw)
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit()) {
        // A 15-digit number's birth year is 19YY, never in the future, so no "today" is needed:
        // the latest date keeps the function pure.
        if let Ok(id) = IdNumber::parse_on(&s, NaiveDate::MAX) {
            return id.id18().to_string();
        }
    }
    s
}

/// Why a 姓名 is refused, or `None`. `raw` is the field as sent; the ends are trimmed as for every
/// field (`clean`), so what is judged is the inside of the name:
///
/// - a space only as one half-width space between two Latin letters (`CHAN Tai Man`,
///   `José María`): no double spaces, no space next to an ideograph or a dot, no full-width
///   (U+3000) or other kind of space. The middle dot of transliterated names (`买买提·艾力`) is an
///   ordinary character;
/// - no control or invisible formatting characters (tabs, NUL, zero-width and bidi marks);
/// - not starting with `=`, `+`, `-` or `@` (also full-width): names end up in CSV files opened in
///   Excel, which would read the cell as a formula.
fn name_problem(raw: &str) -> Option<(&'static str, &'static str)> {
    let inner = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if inner
        .chars()
        .map(half_width_char)
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@'))
    {
        return Some((
            "姓名：不能以 =、+、-、@ 开头（导出的表格在 Excel 中会被当作公式）",
            "Name: must not start with =, +, - or @ (Excel would read the exported cell as a formula)",
        ));
    }
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    };
    if inner.chars().any(invisible) {
        return Some((
            "姓名：不能含有控制字符或不可见字符",
            "Name: must not contain control or invisible characters",
        ));
    }
    if inner.chars().any(|c| c.is_whitespace() && c != ' ') {
        return Some((
            "姓名：不能含有全角空格或其他空白字符，只能在拉丁字母之间用单个半角空格",
            "Name: no full-width or other spaces; only a single half-width space between Latin letters",
        ));
    }
    // Full-width letters count as the Latin letters they stand for (ＣＨＡＮ Ｔａｉ).
    let chars: Vec<char> = inner.chars().map(half_width_char).collect();
    let latin = |c: Option<&char>| c.is_some_and(|&c| is_latin_letter(c));
    let misplaced = chars
        .iter()
        .enumerate()
        .any(|(i, &c)| c == ' ' && !(i > 0 && latin(chars.get(i - 1)) && latin(chars.get(i + 1))));
    if misplaced {
        return Some((
            "姓名：空格只能是拉丁字母之间的单个半角空格（如 CHAN Tai Man），中文姓名不能含有空格",
            "Name: a space only as a single half-width space between Latin letters (as in CHAN Tai Man); a Chinese name has none",
        ));
    }
    None
}

/// A letter of the Latin script: ASCII, Latin-1 Supplement and Latin Extended-A/B (`é`, `ñ`, `ø`).
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (c.is_alphabetic() && ('\u{00C0}'..='\u{024F}').contains(&c))
}

/// Half-width, without any whitespace.
fn compact(raw: &str) -> String {
    raw.chars()
        .map(half_width_char)
        .filter(|c| !c.is_whitespace() && *c != '\u{FEFF}')
        .collect()
}

/// 11 digits starting with 1, spaces and hyphens ignored, a leading +86 or 86 dropped.
fn mobile_number(raw: &str) -> Option<String> {
    let s: String = compact(raw).chars().filter(|c| *c != '-').collect();
    let s = s.strip_prefix("+86").unwrap_or(&s);
    let s = if s.len() == 13 {
        s.strip_prefix("86").unwrap_or(s)
    } else {
        s
    };
    (s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.to_string())
}

/// One `@`, something before it, a dotted domain after it, no spaces.
fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !e.chars().any(char::is_whitespace)
}

/// `None` when the value is absent (null or a blank string); `Some(None)` when it is present but
/// not a yes or a no.
fn yes_no_present(v: &serde_json::Value) -> Option<Option<bool>> {
    use serde_json::Value;
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(Some(*b)),
        Value::Number(n) => Some(match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        }),
        Value::String(s) => {
            let key = compact(s).to_ascii_lowercase();
            if key.is_empty() {
                return None;
            }
            Some(match key.as_str() {
                "是" | "true" | "1" | "yes" | "y" => Some(true),
                "否" | "false" | "0" | "no" | "n" => Some(false),
                _ => None,
            })
        }
        _ => Some(None),
    }
}

/// A value quoted in a message, cut to keep the message readable.
fn shorten(value: &str) -> String {
    const MAX: usize = 30;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let mut s: String = value.chars().take(MAX).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::id_number::check_char;
    use serde_json::json;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 3, 1);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    /// A valid 18-character number from the region, birth date (YYYYMMDD) and sequence (3 digits;
    /// odd last digit male).
    fn id(region: &str, birth: &str, seq: &str) -> String {
        let first17 = format!("{region}{birth}{seq}");
        format!("{first17}{}", check_char(&first17).unwrap())
    }

    fn addr(county: &str) -> AddressInput {
        AddressInput {
            code: None,
            province: Some("黑龙江省".into()),
            prefecture: Some("哈尔滨市".into()),
            county: Some(county.into()),
            detail: Some("中山路 1 号".into()),
        }
    }

    fn base() -> ApplicationInput {
        ApplicationInput {
            name: Some(" 张三 ".into()),
            sex: Some("男".into()),
            ethnicity: Some("汉族".into()),
            political_status: Some("群众".into()),
            education: Some("大专".into()),
            health: Some("健康".into()),
            unemployed_since: Some("2026-01-15".into()),
            id_type: Some("居民身份证".into()),
            id_number: Some(id("230102", "19900101", "001")),
            hukou_address: Some(addr("道里区")),
            residence_address: Some(addr("南岗区")),
            qualifications: Some(vec!["电工 四级".into()]),
            mobile: Some("138 0013 8000".into()),
            registration_place: Some("常住地".into()),
            unemployment_reason: Some("从各类单位辞职".into()),
            claims_benefit: Some(json!("否")),
            job_intentions: Some(vec!["电工".into(), " ".into()]),
            promise_signed: Some(json!(true)),
            promise_signer: Some("张三".into()),
            promise_date: Some("2026-03-01".into()),
            ..ApplicationInput::default()
        }
    }

    fn problems(input: &ApplicationInput) -> Vec<FieldProblem> {
        validate(input, today()).expect_err("should be refused")
    }

    fn fields(input: &ApplicationInput) -> Vec<&'static str> {
        problems(input).iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_complete_application_is_normalised() {
        let app = validate(&base(), today()).expect("valid");
        assert_eq!(app.name, "张三");
        assert_eq!(app.sex, "1");
        assert_eq!(app.sex_name(), "男");
        assert_eq!(app.ethnicity, "01");
        assert_eq!(app.political_status.as_deref(), Some("13"));
        assert_eq!(app.education, "30");
        assert_eq!(app.education_name(), "大学专科教育");
        assert_eq!(app.health, "1");
        assert_eq!(app.health_name(), "健康或良好");
        assert_eq!(app.id_type, "01");
        assert_eq!(app.id_type_name(), "居民身份证");
        assert_eq!(app.birth_date, d(1990, 1, 1));
        assert_eq!(app.unemployed_since, d(2026, 1, 15));
        assert_eq!(app.mobile, "13800138000");
        assert_eq!(app.unemployment_reason.as_deref(), Some("5"));
        assert_eq!(app.unemployment_reason_name(), Some("从各类单位辞职"));
        assert!(!app.claims_benefit);
        assert_eq!(app.job_intentions, ["电工"]);
        assert_eq!(app.registration_place, PlaceKind::Residence);
        assert_eq!(
            app.place_address().text,
            "黑龙江省哈尔滨市南岗区中山路 1 号"
        );
        assert_eq!(app.promise_date, today());
        // The normalised application survives a round trip through its JSON.
        let back: Application =
            serde_json::from_value(serde_json::to_value(&app).unwrap()).unwrap();
        assert_eq!(back, app);
    }

    #[test]
    fn every_missing_required_field_is_listed() {
        let got = fields(&ApplicationInput::default());
        for field in [
            "name",
            "sex",
            "ethnicity",
            "education",
            "health",
            "unemployed_since",
            "id_type",
            "id_number",
            "hukou_address",
            "residence_address",
            "mobile",
            "registration_place",
            "claims_benefit",
            "promise_signed",
            "promise_signer",
            "promise_date",
        ] {
            assert!(got.contains(&field), "{field} not reported: {got:?}");
        }
        // Optional fields are not reported when absent.
        for field in [
            "political_status",
            "unemployment_reason",
            "email",
            "landline",
            "remarks",
        ] {
            assert!(!got.contains(&field), "{field} reported");
        }
        // Every message is given in both languages.
        for p in problems(&ApplicationInput::default()) {
            assert!(!p.message_zh.is_empty() && !p.message_en.is_empty());
        }
    }

    #[test]
    fn an_address_needs_a_code_or_a_text_and_a_code_has_six_digits() {
        let mut input = base();
        input.hukou_address = Some(AddressInput {
            code: Some("230102".into()),
            ..AddressInput::default()
        });
        let app = validate(&input, today()).expect("a code alone is enough");
        assert_eq!(app.hukou_address.code.as_deref(), Some("230102"));
        assert_eq!(app.hukou_address.text, "");
        input.hukou_address = Some(AddressInput {
            code: Some("2301".into()),
            ..AddressInput::default()
        });
        assert_eq!(fields(&input), ["hukou_address"]);
        input.hukou_address = Some(AddressInput::default());
        assert_eq!(fields(&input), ["hukou_address"]);
    }

    #[test]
    fn the_four_documents_are_accepted() {
        let mut input = base();
        input.id_type = Some("社会保障卡".into());
        assert_eq!(validate(&input, today()).unwrap().id_type, "90");
        input.id_type = Some("01".into());
        assert_eq!(validate(&input, today()).unwrap().id_type, "01");

        input.id_type = Some("港澳台居民居住证".into());
        input.id_number = Some(id("810000", "19900101", "001"));
        assert_eq!(validate(&input, today()).unwrap().id_type, "17");
        input.id_number = Some(id("830000", "19900101", "001"));
        assert_eq!(validate(&input, today()).unwrap().id_type, "17");
        // A mainland number is not a residence permit's.
        input.id_number = Some(id("230102", "19900101", "001"));
        assert_eq!(fields(&input), ["id_number"]);

        input.birth_date = Some("1990-01-01".into());
        for (name, number, code) in [
            ("港澳居民来往内地通行证", "H12345678", "04"),
            ("港澳居民来往内地通行证", "m1234567801", "05"),
            ("香港居民来往内地通行证", "H12345678", "04"),
            ("台湾居民来往大陆通行证", "12345678", "06"),
            ("06", "12345678", "06"),
        ] {
            input.id_type = Some(name.into());
            input.id_number = Some(number.into());
            let app = validate(&input, today()).unwrap_or_else(|p| panic!("{name}: {p:?}"));
            assert_eq!(app.id_type, code, "{name}");
            assert_eq!(app.id_number, number.to_ascii_uppercase());
            assert_eq!(app.birth_date, d(1990, 1, 1));
        }
        // Neither H nor M: the clerk must say which.
        input.id_type = Some("港澳居民来往内地通行证".into());
        input.id_number = Some("12345678".into());
        assert_eq!(fields(&input), ["id_type"]);
    }

    #[test]
    fn other_documents_are_refused_naming_the_four() {
        let mut input = base();
        for other in [
            "护照",
            "中国护照",
            "香港特区护照",
            "军官证",
            "02",
            "99",
            "驾驶证",
        ] {
            input.id_type = Some(other.into());
            let p = problems(&input);
            assert_eq!(p.len(), 1, "{other}: {p:?}");
            assert_eq!(p[0].field, "id_type");
            for name in ["居民身份证", "社会保障卡", "港澳台居民居住证", "通行证"]
            {
                assert!(p[0].message_zh.contains(name), "{other}");
            }
        }
    }

    #[test]
    fn id_numbers_are_checked_and_normalised() {
        let mut input = base();
        let mut bad = id("230102", "19900101", "001");
        bad.replace_range(17.., if bad.ends_with('0') { "1" } else { "0" });
        input.id_number = Some(bad);
        assert_eq!(fields(&input), ["id_number"]);
        // Lower-case x is upper-cased; full-width digits and spaces are accepted.
        let with_x = (0..1000)
            .map(|n| id("230102", "19900101", &format!("{n:03}")))
            .find(|i| i.ends_with('X') && (i.as_bytes()[16] - b'0') % 2 == 1)
            .unwrap();
        input.id_number = Some(with_x.to_lowercase());
        assert_eq!(validate(&input, today()).unwrap().id_number, with_x);
        // The sex must agree with the number.
        input.id_number = Some(id("230102", "19900101", "002"));
        assert_eq!(fields(&input), ["sex"]);
        // A stated birth date must agree with the number.
        input.id_number = Some(id("230102", "19900101", "001"));
        input.birth_date = Some("1990-01-02".into());
        assert_eq!(fields(&input), ["birth_date"]);
    }

    #[test]
    fn a_permit_needs_a_birth_date_and_a_well_formed_number() {
        let mut input = base();
        input.id_type = Some("台湾居民来往大陆通行证".into());
        input.id_number = Some("12345678".into());
        assert_eq!(fields(&input), ["birth_date"]);
        input.birth_date = Some("19900101".into());
        assert!(validate(&input, today()).is_ok());
        input.birth_date = Some("1990-02-30".into());
        assert_eq!(fields(&input), ["birth_date"]);
        input.birth_date = Some("1990-01-01".into());
        for bad in ["12345-678", "台12345678", "12345678901234567890123"] {
            input.id_number = Some(bad.into());
            assert_eq!(fields(&input), ["id_number"], "{bad}");
        }
    }

    #[test]
    fn age_16_to_the_retirement_age() {
        let mut input = base();
        // 15 on the application day (16 tomorrow).
        input.id_number = Some(id("230102", "20100302", "001"));
        input.unemployed_since = Some("2026-02".into());
        let p = problems(&input);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].field, "id_number");
        assert!(p[0].message_zh.contains("未满 16 周岁"));
        // 16 on the day.
        input.id_number = Some(id("230102", "20100301", "001"));
        assert!(validate(&input, today()).is_ok());
        // A man born May 1965 retires at 60 years 2 months: July 2025.
        input.id_number = Some(id("230102", "19650501", "001"));
        let p = problems(&input);
        assert!(p[0].message_zh.contains("2025-07-01"), "{p:?}");
        // A man born 1966-01-01 retires 2026-05-01 (60 years 4 months): still of working age.
        input.id_number = Some(id("230102", "19660101", "001"));
        assert!(validate(&input, today()).is_ok());
        // A woman of 55 is admitted: the 55 → 58 track (born March 1971: 55 years 5 months).
        input.sex = Some("女".into());
        input.id_number = Some(id("230102", "19710301", "002"));
        assert!(validate(&input, today()).is_ok());
        // A woman born 1969 retired at 55 in 2024.
        input.id_number = Some(id("230102", "19691231", "002"));
        assert_eq!(fields(&input), ["id_number"]);
    }

    #[test]
    fn retirement_dates_follow_the_2024_schedule() {
        let r = statutory_retirement_date;
        // Men: 60 before the reform; +1 month per 4 birth months from January 1965; 63 from
        // September 1976.
        assert_eq!(r(d(1964, 12, 15), "1"), d(2024, 12, 15));
        assert_eq!(r(d(1965, 1, 10), "1"), d(2025, 2, 10));
        assert_eq!(r(d(1965, 4, 10), "1"), d(2025, 5, 10));
        assert_eq!(r(d(1965, 5, 10), "1"), d(2025, 7, 10));
        assert_eq!(r(d(1976, 8, 1), "1"), d(2039, 7, 1));
        assert_eq!(r(d(1976, 9, 1), "1"), d(2039, 9, 1));
        assert_eq!(r(d(1990, 1, 1), "1"), d(2053, 1, 1));
        // Women on the 55 → 58 track from January 1970; 58 from September 1981.
        assert_eq!(r(d(1969, 12, 1), "2"), d(2024, 12, 1));
        assert_eq!(r(d(1970, 1, 1), "2"), d(2025, 2, 1));
        assert_eq!(r(d(1970, 6, 1), "2"), d(2025, 8, 1));
        assert_eq!(r(d(1971, 6, 1), "2"), d(2026, 11, 1));
        assert_eq!(r(d(1981, 9, 1), "2"), d(2039, 9, 1));
        assert_eq!(r(d(1988, 9, 1), "2"), d(2046, 9, 1));
        // The end of a month is kept: 31 January + 60 years 1 month is the last day of February.
        assert_eq!(r(d(1965, 1, 31), "1"), d(2025, 2, 28));
        // An unknown sex takes the later, men's, date.
        assert_eq!(r(d(1970, 1, 1), "9"), r(d(1970, 1, 1), "1"));
    }

    #[test]
    fn the_promise_is_signed_by_the_applicant_not_after_today() {
        let mut input = base();
        input.promise_signer = Some("李四".into());
        assert_eq!(fields(&input), ["promise_signer"]);
        input.promise_signer = Some("　张三　".into());
        assert!(validate(&input, today()).is_ok());
        input.promise_signed = Some(json!(false));
        assert_eq!(fields(&input), ["promise_signed"]);
        input.promise_signed = Some(json!("是"));
        assert!(validate(&input, today()).is_ok());
        input.promise_date = Some("2026-03-02".into());
        assert_eq!(fields(&input), ["promise_date"]);
        input.promise_date = Some("2026-02-30".into());
        assert_eq!(fields(&input), ["promise_date"]);
    }

    #[test]
    fn other_reason_needs_its_text() {
        let mut input = base();
        input.unemployment_reason = Some("其他".into());
        assert_eq!(fields(&input), ["unemployment_reason_other"]);
        input.unemployment_reason_other = Some("照顾家人".into());
        let app = validate(&input, today()).unwrap();
        assert_eq!(app.unemployment_reason.as_deref(), Some("13"));
        assert_eq!(app.unemployment_reason_other.as_deref(), Some("照顾家人"));
        input.unemployment_reason = Some("被外星人带走".into());
        assert_eq!(fields(&input), ["unemployment_reason"]);
    }

    #[test]
    fn at_most_three_qualifications_and_intentions() {
        let mut input = base();
        input.qualifications = Some(vec![
            "a".into(),
            "b".into(),
            " ".into(),
            "c".into(),
            "".into(),
        ]);
        input.job_intentions = Some(vec!["x".into(), "y".into(), "z".into()]);
        let app = validate(&input, today()).unwrap();
        assert_eq!(app.qualifications, ["a", "b", "c"]);
        assert_eq!(app.job_intentions.len(), 3);
        input.qualifications = Some(vec!["a".into(), "b".into(), "c".into(), "d".into()]);
        input.job_intentions = Some(vec!["w".into(), "x".into(), "y".into(), "z".into()]);
        assert_eq!(fields(&input), ["qualifications", "job_intentions"]);
        input.qualifications = Some(vec!["长".repeat(51)]);
        input.job_intentions = None;
        assert_eq!(fields(&input), ["qualifications"]);
    }

    #[test]
    fn contacts() {
        let mut input = base();
        for ok in [
            "13800138000",
            "+86 138-0013-8000",
            "8613800138000",
            "１３８００１３８０００",
        ] {
            input.mobile = Some(ok.into());
            assert_eq!(
                validate(&input, today()).unwrap().mobile,
                "13800138000",
                "{ok}"
            );
        }
        for bad in ["23800138000", "1380013800", "138001380001", "1380013800a"] {
            input.mobile = Some(bad.into());
            assert_eq!(fields(&input), ["mobile"], "{bad}");
        }
        input.mobile = Some("13800138000".into());
        input.email = Some("zhang@example.cn".into());
        input.landline = Some("0451-87130563".into());
        assert!(validate(&input, today()).is_ok());
        for bad in [
            "zhang",
            "zhang@",
            "@example.cn",
            "zhang@example",
            "a b@example.cn",
        ] {
            input.email = Some(bad.into());
            assert_eq!(fields(&input), ["email"], "{bad}");
        }
        input.email = None;
        input.landline = Some("电话号码".into());
        assert_eq!(fields(&input), ["landline"]);
    }

    #[test]
    fn free_texts_have_maximum_lengths() {
        let mut input = base();
        input.remarks = Some("字".repeat(MAX_REMARKS_CHARS));
        assert!(validate(&input, today()).is_ok());
        input.remarks = Some("字".repeat(MAX_REMARKS_CHARS + 1));
        input.name = Some("名".repeat(MAX_NAME_CHARS + 1));
        input.other_contact = Some("x".repeat(MAX_OTHER_CONTACT_CHARS + 1));
        input.hukou_address.as_mut().unwrap().detail =
            Some("路".repeat(MAX_ADDRESS_DETAIL_CHARS + 1));
        let got = fields(&input);
        for field in ["remarks", "name", "other_contact", "hukou_address"] {
            assert!(got.contains(&field), "{field}: {got:?}");
        }
    }

    #[test]
    fn a_name_may_hold_single_spaces_between_latin_letters_only() {
        let mut input = base();
        for ok in [
            "CHAN Tai Man",
            "Chan Tai-man",
            "José María GARCÍA",
            "O'Brien",
            "买买提·艾力",
            "ＣＨＡＮ Ｔａｉ Ｍａｎ",
        ] {
            input.name = Some(ok.into());
            input.promise_signer = Some(ok.into());
            let app = validate(&input, today()).unwrap_or_else(|p| panic!("{ok}: {p:?}"));
            assert_eq!(app.name, crate::domain::text::to_half_width(ok), "{ok}");
        }
        // The ends are trimmed like every other field's.
        input.name = Some("  CHAN Tai Man\u{3000}".into());
        input.promise_signer = Some("CHAN Tai Man".into());
        assert_eq!(validate(&input, today()).unwrap().name, "CHAN Tai Man");
        for bad in [
            "张 三",
            "CHAN  Tai Man",
            "CHAN\u{3000}Tai",
            "CHAN\u{00A0}Tai",
            "CHAN\tTai",
            "CHAN Tai 文",
            "买买提 ·艾力",
            "张\u{0}三",
            "张\u{200B}三",
            "张\u{202E}三",
        ] {
            input.name = Some(bad.into());
            input.promise_signer = Some(bad.into());
            let p = problems(&input);
            assert_eq!(
                p.iter().map(|p| p.field).collect::<Vec<_>>(),
                ["name"],
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_name_may_not_start_like_a_spreadsheet_formula() {
        let mut input = base();
        for bad in ["=HYPERLINK(\"x\")", "+1", "-张三", "@SUM", "＝1+1", " =1"] {
            input.name = Some(bad.into());
            input.promise_signer = Some(bad.into());
            let p = problems(&input);
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert_eq!(p[0].field, "name");
            assert!(p[0].message_zh.contains("公式"), "{bad}");
        }
        // Inside the name the characters are harmless.
        input.name = Some("Tai-Man".into());
        input.promise_signer = Some("Tai-Man".into());
        assert!(validate(&input, today()).is_ok());
    }

    #[test]
    fn dates_with_multi_byte_characters_are_problems_not_panics() {
        // Each is 6 or 8 bytes, the lengths of YYYYMM / YYYYMMDD, with a character across the
        // fourth or sixth byte.
        let bad = [
            "2026年1",
            "199年01",
            "202é1",
            "19900é1",
            "２０２６年１",
            "20é601",
            "2026年01月",
            "二〇二六年一月",
        ];
        for raw in bad {
            assert_eq!(parse_form_date(raw, true), None, "{raw}");
            assert_eq!(parse_form_date(raw, false), None, "{raw}");
            for field in ["unemployed_since", "birth_date", "promise_date"] {
                let mut input = base();
                match field {
                    "unemployed_since" => input.unemployed_since = Some(raw.into()),
                    "birth_date" => input.birth_date = Some(raw.into()),
                    _ => input.promise_date = Some(raw.into()),
                }
                assert_eq!(fields(&input), [field], "{field}: {raw}");
            }
            // A permit's birth date is required and typed: the same input is a problem there too.
            let mut input = base();
            input.id_type = Some("台湾居民来往大陆通行证".into());
            input.id_number = Some("12345678".into());
            input.birth_date = Some(raw.into());
            assert_eq!(fields(&input), ["birth_date"], "permit: {raw}");
        }
    }

    #[test]
    fn a_15_digit_number_is_stored_as_its_18_digits() {
        let id18 = id("230102", "19900101", "001");
        // The first-generation form: 19 dropped from the year, no check character.
        let id15 = format!("{}{}", &id18[..6], &id18[8..17]);
        let mut input = base();
        input.id_number = Some(id15.clone());
        assert_eq!(validate(&input, today()).unwrap().id_number, id18);
        input.id_type = Some("社会保障卡".into());
        assert_eq!(validate(&input, today()).unwrap().id_number, id18);
        input.id_number = Some(id18.clone());
        assert_eq!(validate(&input, today()).unwrap().id_number, id18);
        // The query side gives the same string for either.
        assert_eq!(normalize_id_number(&id15), id18);
        assert_eq!(normalize_id_number(&id18), id18);
    }

    #[test]
    fn normalize_id_number_cases() {
        let id18 = id("230102", "19900101", "001");
        let id15 = format!("{}{}", &id18[..6], &id18[8..17]);
        let full_width: String = id15
            .chars()
            .map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap())
            .collect();
        assert_eq!(normalize_id_number(&full_width), id18);
        assert_eq!(
            normalize_id_number(&format!(" {} {} ", &id15[..6], &id15[6..])),
            id18
        );
        assert_eq!(
            normalize_id_number(&format!("\u{3000}{id15}\u{3000}")),
            id18
        );
        // A lower-case x becomes X; nothing else changes in an 18-digit number.
        let with_x = (0..1000)
            .map(|n| id("230102", "19900101", &format!("{n:03}")))
            .find(|i| i.ends_with('X'))
            .unwrap();
        assert_eq!(normalize_id_number(&with_x.to_lowercase()), with_x);
        // Permit numbers: spaces out, letters up.
        assert_eq!(normalize_id_number("h 1234 5678"), "H12345678");
        assert_eq!(normalize_id_number("ｍ１２３４５６７８"), "M12345678");
        // Not a valid 15-digit number (month 13, or region 00): normalised, not converted.
        assert_eq!(normalize_id_number("230102901301001"), "230102901301001");
        assert_eq!(normalize_id_number("000102900101001"), "000102900101001");
        // An invalid 18-digit number is left as it is, as are other lengths and texts.
        let mut bad = id18.clone();
        bad.replace_range(17.., if bad.ends_with('0') { "1" } else { "0" });
        assert_eq!(normalize_id_number(&bad), bad);
        assert_eq!(normalize_id_number("12345"), "12345");
        assert_eq!(normalize_id_number("张三"), "张三");
        assert_eq!(normalize_id_number(""), "");
        // Whatever validate stores, the query finds with the number as typed.
        for typed in [id15.clone(), with_x.to_lowercase(), full_width] {
            let mut input = base();
            input.id_number = Some(typed.clone());
            if typed == with_x.to_lowercase() {
                input.sex = Some(
                    if (with_x.as_bytes()[16] - b'0') % 2 == 1 {
                        "男"
                    } else {
                        "女"
                    }
                    .into(),
                );
            }
            assert_eq!(
                validate(&input, today()).unwrap().id_number,
                normalize_id_number(&typed)
            );
        }
    }

    #[test]
    fn disabled_needs_a_grade() {
        let mut input = base();
        input.health = Some("残疾".into());
        assert_eq!(fields(&input), ["disability_grade"]);
        input.disability_grade = Some("肢体三级".into());
        let app = validate(&input, today()).unwrap();
        assert_eq!(app.health, "6");
        assert_eq!(app.disability_grade.as_deref(), Some("肢体三级"));
        input.disability_grade = Some("级".repeat(21));
        assert_eq!(fields(&input), ["disability_grade"]);
    }

    #[test]
    fn registration_place_and_its_address() {
        let mut input = base();
        input.registration_place = Some("户籍地址".into());
        let app = validate(&input, today()).unwrap();
        assert_eq!(app.registration_place, PlaceKind::Hukou);
        assert!(app.place_address().text.contains("道里区"));
        for word in ["就业地", "employment", "参保地", "insurance"] {
            input.registration_place = Some(word.into());
            assert_eq!(fields(&input), ["registration_place_address"], "{word}");
        }
        input.registration_place = Some("参保地".into());
        input.registration_place_address = Some(AddressInput {
            code: Some("230104".into()),
            detail: Some("道外区人社局".into()),
            ..AddressInput::default()
        });
        let app = validate(&input, today()).unwrap();
        assert_eq!(app.registration_place.as_str(), "insurance");
        assert_eq!(app.registration_place.label_zh(), "参保地");
        assert_eq!(app.place_address().code.as_deref(), Some("230104"));
        input.registration_place = Some("出生地".into());
        assert_eq!(fields(&input), ["registration_place"]);
        assert_eq!(PlaceKind::parse("常住地址"), Some(PlaceKind::Residence));
        assert_eq!(PlaceKind::parse("Hukou"), Some(PlaceKind::Hukou));
    }

    #[test]
    fn unemployed_since_forms() {
        let mut input = base();
        for (raw, want) in [
            ("2026-01-15", d(2026, 1, 15)),
            ("20260115", d(2026, 1, 15)),
            ("2026-1-5", d(2026, 1, 5)),
            ("2026-01", d(2026, 1, 1)),
            ("202601", d(2026, 1, 1)),
            ("２０２６-０１-１５", d(2026, 1, 15)),
        ] {
            input.unemployed_since = Some(raw.into());
            assert_eq!(
                validate(&input, today()).unwrap().unemployed_since,
                want,
                "{raw}"
            );
        }
        for bad in [
            "2026/01/15",
            "2026年1月",
            "2026-02-30",
            "15.01.2026",
            "2026",
        ] {
            input.unemployed_since = Some(bad.into());
            assert_eq!(fields(&input), ["unemployed_since"], "{bad}");
        }
        input.unemployed_since = Some("2026-03-02".into());
        assert_eq!(fields(&input), ["unemployed_since"]);
        input.unemployed_since = Some("1989-12-31".into());
        assert_eq!(fields(&input), ["unemployed_since"]);
    }

    #[test]
    fn claims_benefit_yes_or_no() {
        let mut input = base();
        for (v, want) in [
            (json!("是"), true),
            (json!("否"), false),
            (json!(true), true),
            (json!(false), false),
            (json!(1), true),
            (json!(0), false),
            (json!("1"), true),
            (json!(" 否 "), false),
        ] {
            input.claims_benefit = Some(v.clone());
            assert_eq!(
                validate(&input, today()).unwrap().claims_benefit,
                want,
                "{v}"
            );
        }
        input.claims_benefit = Some(json!("也许"));
        assert_eq!(fields(&input), ["claims_benefit"]);
        input.claims_benefit = Some(json!(2));
        assert_eq!(fields(&input), ["claims_benefit"]);
        input.claims_benefit = Some(json!(null));
        assert_eq!(fields(&input), ["claims_benefit"]);
    }

    #[test]
    fn unknown_codes_are_named() {
        let mut input = base();
        input.ethnicity = Some("火星族".into());
        input.education = Some("幼儿园".into());
        input.health = Some("很好".into());
        input.political_status = Some("某党".into());
        let p = problems(&input);
        let got: Vec<_> = p.iter().map(|p| p.field).collect();
        assert_eq!(
            got,
            ["ethnicity", "political_status", "education", "health"]
        );
        assert!(p[0].message_zh.contains("火星族"));
    }

    #[test]
    fn unknown_fields_are_refused_by_the_deserializer() {
        let err = serde_json::from_value::<ApplicationInput>(
            json!({"name": "张三", "proof": "离职证明"}),
        );
        assert!(err.is_err());
        let err = serde_json::from_value::<AddressInput>(json!({"street": "x"}));
        assert!(err.is_err());
    }
}
