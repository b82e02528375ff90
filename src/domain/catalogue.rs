//! The one catalogue of error codes: every code the hub answers over HTTP or writes into a
//! report (files refused whole, row problems of the reject report, distribution and access
//! errors), with its HTTP status where it is an HTTP answer and its general text in Chinese and
//! English.
//!
//! Errors are built from an [`ErrorCode`], never from a string, so a code that is not listed here
//! cannot be answered, and a code can never answer two statuses. The specific message with the
//! values of the case is still written where the error arises; the general text here is what a
//! code means in any case (docs/errors.md, the OpenAPI document, and the masked reject report,
//! which must not quote the personal values the specific message names).

use std::fmt;

/// What kind of failure a code reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The request itself: its body, its query, its path, the server.
    Request,
    /// Who the caller is and what the caller may do.
    Access,
    /// A file refused whole; nothing of it is stored.
    Refusal,
    /// One row of the reject report (a reject, or a warning on a row that was taken).
    RowProblem,
    /// A distribution request (push, return, acknowledge, assign) that did nothing.
    Distribution,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Access => "access",
            Kind::Refusal => "refusal",
            Kind::RowProblem => "row problem",
            Kind::Distribution => "distribution",
        }
    }
}

/// One line of the catalogue.
struct Entry {
    kind: Kind,
    status: Option<u16>,
    /// The specific message quotes a personal value (an ID number, a birth date, a phone number,
    /// another row's line): a masked view shows the general text instead.
    masked: bool,
    zh: &'static str,
    en: &'static str,
}

/// Writes the enum, its list and its table from one list, so that a code, its string and its
/// catalogue line cannot drift apart.
macro_rules! catalogue {
    ($($variant:ident = $code:literal, $kind:ident, $status:expr, $masked:literal, $zh:literal, $en:literal;)*) => {
        /// A code of the hub's error contract (the `code` of every error answer, the reason
        /// code of every reject-report line). docs/errors.md lists them all.
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        // The schema reads `rename_all` (utoipa does not see a `rename` written by a macro);
        // serde reads each variant's own string. The unit tests keep the two equal.
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            fn entry(self) -> &'static Entry {
                match self {
                    $(ErrorCode::$variant => &Entry {
                        kind: Kind::$kind,
                        status: $status,
                        masked: $masked,
                        zh: $zh,
                        en: $en,
                    },)*
                }
            }

            /// The code as clients read it (`ID_CHECKSUM`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

catalogue! {
    // The request itself.
    Internal = "INTERNAL", Request, Some(500), false,
        "服务器内部错误，请稍后重试或联系管理员。",
        "Internal server error; try again later or contact the administrator.";
    DatabaseUnavailable = "DATABASE_UNAVAILABLE", Request, Some(503), false,
        "数据库无法访问，服务暂不可用。",
        "The database does not answer; the service is not ready.";
    MigrationsPending = "MIGRATIONS_PENDING", Request, Some(503), false,
        "数据库结构不是最新版本，请先运行 gradhub migrate。",
        "The database schema is older than this program; run `gradhub migrate` first.";
    NotFound = "NOT_FOUND", Request, Some(404), false,
        "对象不存在，或不在本机构的可见范围内。",
        "Not found, or not visible to your organisation.";
    BodyInvalid = "BODY_INVALID", Request, Some(400), false,
        "请求体无效或未完整接收，未做任何更改。",
        "The request body is not valid or was cut off; nothing was changed.";
    BodyTooLarge = "BODY_TOO_LARGE", Request, Some(413), false,
        "请求体过大，未做任何更改。",
        "The request body is too large; nothing was changed.";
    BodyTimeout = "BODY_TIMEOUT", Request, Some(408), false,
        "请求体发送过慢或中途停止，未做任何更改，请重新发送。",
        "The request body arrived too slowly or stopped; nothing was changed.";
    QueryInvalid = "QUERY_INVALID", Request, Some(400), false,
        "查询参数无效。",
        "A query parameter is not valid.";
    StateInvalid = "STATE_INVALID", Request, Some(400), false,
        "状态参数不是允许的取值。",
        "The state is not one of the allowed values.";
    FormatInvalid = "FORMAT_INVALID", Request, Some(400), false,
        "格式应为 csv 或 xlsx。",
        "Format must be csv or xlsx.";
    ChannelInvalid = "CHANNEL_INVALID", Request, Some(400), false,
        "来源渠道无效（应为 education、walk_in、visit 或 self）。",
        "Invalid channel (education, walk_in, visit or self).";
    UploadInterrupted = "UPLOAD_INTERRUPTED", Request, Some(400), false,
        "上传中断，文件未完整接收，请重新上传。",
        "The upload was interrupted; send the file again.";
    FollowupRejected = "FOLLOWUP_REJECTED", Request, Some(422), false,
        "跟踪记录未保存：内容不符合规则。",
        "The follow-up event was not stored: its values break the rules.";
    ApplicationInvalid = "APPLICATION_INVALID", Request, Some(422), false,
        "失业登记申请未保存：填写内容不符合《失业人员登记表》的规则。",
        "The unemployment-registration application was not stored: its values break the form's rules.";
    ApplicationExists = "APPLICATION_EXISTS", Request, Some(409), false,
        "该证件号码已有待审核或有效的失业登记（一人一登记），未保存。",
        "This ID number already has a pending or current unemployment registration; nothing stored.";
    ApplicationNoTaken = "APPLICATION_NO_TAKEN", Request, Some(409), false,
        "申请编号已用于另一份申请，未保存。",
        "The application number is taken by another application; nothing stored.";
    PlaceUnroutable = "PLACE_UNROUTABLE", Request, Some(422), false,
        "无法确定登记失业地对应的公共就业服务机构，未保存。",
        "The registration place cannot be routed to an office; nothing stored.";
    ReviewInvalid = "REVIEW_INVALID", Request, Some(422), false,
        "审核结果未保存：内容不完整或无效。",
        "The review was not stored: it is incomplete or not valid.";
    ReviewReasonForbidden = "REVIEW_REASON_FORBIDDEN", Request, Some(422), false,
        "不得以此理由拒绝失业登记（人社厅发〔2020〕79号 第（二）项），审核结果未保存。",
        "This reason may not be used to refuse an unemployment registration (79号 §2, item (二)); nothing stored.";
    ApplicationClosed = "APPLICATION_CLOSED", Request, Some(409), false,
        "该申请当前状态不能办理此操作。",
        "The application's state does not allow this action.";
    UnemploymentEventInvalid = "UNEMPLOYMENT_EVENT_INVALID", Request, Some(422), false,
        "服务记录未保存：内容不符合规则。",
        "The service record was not stored: its values break the rules.";
    ExitInvalid = "EXIT_INVALID", Request, Some(422), false,
        "注销失业登记未保存：内容不符合规则。",
        "The deregistration was not stored: its values break the rules.";
    ExitNeedsVerification = "EXIT_NEEDS_VERIFICATION", Request, Some(422), false,
        "连续3次拒绝服务或连续6个月无法联系不能作为注销的唯一依据，须填写核实情况（人社厅发〔2020〕79号 第（四）项）。",
        "Reasons 31 and 32 may not be the sole basis for deregistration: record how it was verified (79号 item (四)).";
    AlreadyReceived = "ALREADY_RECEIVED", Request, Some(409), false,
        "内容相同（SHA-256 相同）的文件此前已收到，本次未重复存储。",
        "A file with the same content (same SHA-256) was received before; nothing was stored again.";

    // Who the caller is and what the caller may do.
    Unauthenticated = "UNAUTHENTICATED", Access, Some(401), false,
        "未登录或令牌无效。",
        "Not signed in, or the token is not valid.";
    BadCredentials = "BAD_CREDENTIALS", Access, Some(401), false,
        "用户名或密码错误。",
        "Wrong user name or password.";
    AccountLocked = "ACCOUNT_LOCKED", Access, Some(429), false,
        "登录失败次数过多，账户暂时锁定。",
        "Too many failed sign-ins: the account is locked for a while.";
    Forbidden = "FORBIDDEN", Access, Some(403), false,
        "本角色或本机构无权进行此操作。",
        "Your role or organisation may not do this.";
    CsrfInvalid = "CSRF_INVALID", Access, Some(403), false,
        "表单缺少有效的 CSRF 令牌，未做任何更改。",
        "The form carries no valid CSRF token; nothing was changed.";
    RateLimited = "RATE_LIMITED", Access, Some(429), false,
        "提交过于频繁，请稍后再试。",
        "Too many submissions; try again later.";

    // Files refused whole.
    FileEmpty = "FILE_EMPTY", Refusal, Some(422), false,
        "文件是空的，没有任何内容。",
        "The file is empty.";
    FileBinary = "FILE_BINARY", Refusal, Some(422), false,
        "文件不是 CSV 或 XLSX 表格（含有二进制数据）。",
        "The file is not a CSV or XLSX table (it contains binary data).";
    FileUnsupported = "FILE_UNSUPPORTED", Refusal, Some(422), false,
        "不支持的文件格式（如旧版 Excel .xls），请另存为 .xlsx 或 CSV。",
        "A file format that is not accepted (such as old Excel .xls); save it as .xlsx or CSV.";
    FileEncrypted = "FILE_ENCRYPTED", Refusal, Some(422), false,
        "文件设置了打开密码，无法读取。",
        "The file is password-protected and cannot be read.";
    FileDamaged = "FILE_DAMAGED", Refusal, Some(422), false,
        "XLSX 文件已损坏或不完整，无法读取。",
        "The XLSX file is damaged or incomplete.";
    FileTooLarge = "FILE_TOO_LARGE", Refusal, Some(413), false,
        "文件超过大小上限，或解压后异常巨大。",
        "The file is larger than the limit, or expands to an abnormal size.";
    FileUnreadable = "FILE_UNREADABLE", Refusal, Some(422), false,
        "文件无法按表格读取。",
        "The file cannot be read as a table.";
    FileEncodingMixed = "FILE_ENCODING_MIXED", Refusal, Some(422), false,
        "文件混用了两种文字编码（UTF-8 与 GBK）。",
        "The file mixes two text encodings (UTF-8 and GBK).";
    QuoteUnclosed = "QUOTE_UNCLOSED", Refusal, Some(422), false,
        "文件中有未闭合的引号，其后的内容无法分行。",
        "A quotation mark is never closed; the rows after it cannot be separated.";
    LineTooLong = "LINE_TOO_LONG", Refusal, Some(422), false,
        "文件中有一行超过长度上限，不是移交文件格式。",
        "A line is longer than the limit; this is not a transfer file.";
    CellTooLong = "CELL_TOO_LONG", Refusal, Some(422), false,
        "文件中有单元格超过长度上限，不是移交文件格式。",
        "A cell is longer than the limit; this is not a transfer file.";
    HeaderNotFound = "HEADER_NOT_FOUND", Refusal, Some(422), false,
        "找不到表头行。",
        "No header row found.";
    ColumnsMissing = "COLUMNS_MISSING", Refusal, Some(422), false,
        "缺少必填列，整个文件未接收。",
        "A required column is missing; nothing was stored.";
    TooManyColumns = "TOO_MANY_COLUMNS", Refusal, Some(422), false,
        "表头列数超过上限，不是移交文件格式。",
        "The header has more columns than the limit; this is not a transfer file.";
    NoDataRows = "NO_DATA_ROWS", Refusal, Some(422), false,
        "文件只有表头，没有数据行。",
        "The file has a header but no data rows.";
    SenderUnknown = "SENDER_UNKNOWN", Refusal, Some(422), false,
        "投放文件夹不是已登记的移交部门。",
        "The drop folder is not a registered sender organisation.";
    SourceInvalid = "SOURCE_INVALID", Refusal, Some(400), false,
        "发送单位代码无效（应为 1–50 个字母、数字、- 或 _）。",
        "Invalid sender code (1–50 letters, digits, - or _).";
    NotARegularFile = "NOT_A_REGULAR_FILE", Refusal, None, false,
        "投放文件夹中的条目不是普通文件（如目录或链接），已移到 failed。",
        "A drop-folder entry is not a regular file (a directory or a link); moved to failed.";

    // Row problems of the reject report.
    Required = "REQUIRED", RowProblem, None, false,
        "必填项为空。",
        "A required value is missing.";
    TooLong = "TOO_LONG", RowProblem, None, false,
        "内容超过该列的长度上限。",
        "The value is longer than the column allows.";
    NameSpace = "NAME_SPACE", RowProblem, None, false,
        "姓名：不能含有半角或全角空格",
        "Name: must not contain spaces (half- or full-width)";
    CodeUnknown = "CODE_UNKNOWN", RowProblem, None, false,
        "取值不在代码表中。",
        "The value is not in the code table.";
    SexMismatch = "SEX_MISMATCH", RowProblem, None, true,
        "性别：与证件号码不符",
        "Sex: does not agree with the ID number";
    IdLength = "ID_LENGTH", RowProblem, None, true,
        "证件号码：长度不正确",
        "ID number: wrong length";
    IdChars = "ID_CHARS", RowProblem, None, true,
        "证件号码：含有不允许的字符",
        "ID number: has characters that are not allowed";
    IdChecksum = "ID_CHECKSUM", RowProblem, None, true,
        "证件号码：校验位不正确",
        "ID number: the check character is wrong";
    IdBirthdate = "ID_BIRTHDATE", RowProblem, None, true,
        "证件号码：其中的出生日期无效，或年龄不在允许范围内",
        "ID number: the birth date in it is not valid, or the age is out of range";
    IdRegion = "ID_REGION", RowProblem, None, true,
        "证件号码：地区代码无效",
        "ID number: the region code is not valid";
    IdExcelNumber = "ID_EXCEL_NUMBER", RowProblem, None, true,
        "证件号码：已被 Excel 转成数字，后几位已丢失",
        "ID number: Excel turned it into a number and its last digits are lost";
    DateInvalid = "DATE_INVALID", RowProblem, None, false,
        "日期无效或无法识别。",
        "The date is not valid or cannot be read.";
    BirthMismatch = "BIRTH_MISMATCH", RowProblem, None, true,
        "出生日期：与证件号码中的出生日期不一致",
        "Birth date: differs from the birth date in the ID number";
    SchoolCodeFormat = "SCHOOL_CODE_FORMAT", RowProblem, None, false,
        "院校代码：格式不正确",
        "School code: wrong format";
    MajorCodeFormat = "MAJOR_CODE_FORMAT", RowProblem, None, false,
        "专业代码：格式不正确",
        "Major code: wrong format";
    DateFuture = "DATE_FUTURE", RowProblem, None, false,
        "毕业时间：晚于今天",
        "Graduation date: after today";
    HukouCodeFormat = "HUKOU_CODE_FORMAT", RowProblem, None, false,
        "生源地代码：格式不正确或不是有效的行政区划代码",
        "Household registration code: wrong format or not a valid division code";
    HukouMissing = "HUKOU_MISSING", RowProblem, None, false,
        "生源地代码：生源地代码和生源地地址至少填写一项",
        "Household registration code: fill in the code or the address (at least one)";
    PhoneFormat = "PHONE_FORMAT", RowProblem, None, true,
        "联系电话：格式不正确",
        "Phone: not a valid number";
    EmailFormat = "EMAIL_FORMAT", RowProblem, None, false,
        "电子邮箱：不是有效的电子邮箱地址，已按原样保存",
        "E-mail: not a valid e-mail address; kept as sent";
    HardshipUnknown = "HARDSHIP_UNKNOWN", RowProblem, None, false,
        "困难类别：不是可识别的困难类别，已忽略",
        "Hardship category: not a known category; dropped";
    DuplicateInFile = "DUPLICATE_IN_FILE", RowProblem, None, true,
        "证件号码：与文件中另一行重复",
        "ID number: repeats another row of the file";

    // Follow-up events (answered per event, and as lines of a follow-up reject report).
    AmountInvalid = "AMOUNT_INVALID", RowProblem, None, false,
        "金额：应为非负的元数，至多两位小数",
        "Amount: a non-negative number of yuan with at most two decimals";
    RecordUnknown = "RECORD_UNKNOWN", RowProblem, None, false,
        "记录不存在，或不在本机构辖区内；该事件未保存",
        "No such record in your jurisdiction; the event was not stored";
    ClientKeyReused = "CLIENT_KEY_REUSED", RowProblem, None, false,
        "事件编号已用于另一内容不同的事件；该事件未保存",
        "The client key was already used for a different event; the event was not stored";
    DateBeforeGraduation = "DATE_BEFORE_GRADUATION", RowProblem, None, false,
        "日期：早于毕业年份；该事件未保存",
        "Date: before the graduation year; the event was not stored";
    KindMissing = "KIND_MISSING", Refusal, Some(422), false,
        "跟踪记录文件无法确定事件类型：没有事件类型列，工作表名或文件名也不是事件类型，且未指定事件类型；整个文件未接收。",
        "The event kind of a follow-up file cannot be told: no kind column, the sheet or file name is not a kind, and no kind was given; nothing was stored.";
    KindInvalid = "KIND_INVALID", Request, Some(400), false,
        "事件类型参数无效，应为 contact、service、policy、state、update 或其中文名称。",
        "The kind parameter is not contact, service, policy, state or update (or their Chinese names).";
    EventList = "EVENT_LIST", Request, Some(422), false,
        "事件清单为空或超过 1000 条，未保存任何事件。",
        "The event list is empty or longer than 1000 events; nothing was stored.";

    // Distribution requests that did nothing.
    NothingToSend = "NOTHING_TO_SEND", Distribution, Some(400), false,
        "没有可分发的记录。",
        "Nothing to send.";
    NothingToReturn = "NOTHING_TO_RETURN", Distribution, Some(422), false,
        "未列出要退回的记录。",
        "No records listed to return.";
    RecordList = "RECORD_LIST", Distribution, Some(422), false,
        "记录清单为空、过长或有重复的记录号。",
        "The record list is empty, too long, or names a record twice.";
    RecordNotInPackage = "RECORD_NOT_IN_PACKAGE", Distribution, Some(422), false,
        "所列记录不在该分发包的待签收记录中，未退回任何记录。",
        "Listed records are not awaiting acknowledgement in the package; nothing was returned.";
    RecordsNotHeld = "RECORDS_NOT_HELD", Distribution, Some(422), false,
        "所列记录不在本机构的待处理记录中，未做任何更改。",
        "Listed records are not waiting at your organisation; nothing was done.";
    AlreadyAcknowledged = "ALREADY_ACKNOWLEDGED", Distribution, Some(422), false,
        "分发包已签收，不能再退回记录。",
        "The package is already acknowledged; records can no longer be returned.";
    NotAChild = "NOT_A_CHILD", Distribution, Some(422), false,
        "该机构不是本机构的直接下级。",
        "The organisation is not directly below yours.";
    NotBelowYou = "NOT_BELOW_YOU", Distribution, Some(422), false,
        "该机构不在本机构下级，不能分配。",
        "The organisation is not below yours.";

    // Registration of a graduate an office found itself (LD/T 6009-2024 §4.2 其他渠道).
    RegistrationInvalid = "REGISTRATION_INVALID", Request, Some(422), false,
        "登记信息未通过移交文件的校验规则，未保存任何内容；problems 逐项列出问题。",
        "The registration fails the transfer-file rules; nothing was stored. `problems` lists each one.";
    RegisteredElsewhere = "REGISTERED_ELSEWHERE", Distribution, Some(409), false,
        "该毕业生本年度已由其他机构登记，未保存任何内容。",
        "Already registered by another organisation for this year; nothing was stored.";
}

impl ErrorCode {
    /// The code named by `code`, if the catalogue has it.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    pub fn kind(self) -> Kind {
        self.entry().kind
    }

    /// The status this code is answered with, for a code that is an HTTP answer.
    pub fn http_status(self) -> Option<u16> {
        self.entry().status
    }

    /// What the code means in any case, in Chinese.
    pub fn general_zh(self) -> &'static str {
        self.entry().zh
    }

    /// What the code means in any case, in English.
    pub fn general_en(self) -> &'static str {
        self.entry().en
    }

    /// Whether the code's specific message quotes a personal value, so that a masked view
    /// shows the general text instead.
    pub fn quotes_personal_value(self) -> bool {
        self.entry().masked
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<ErrorCode> for &str {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<ErrorCode> for String {
    fn eq(&self, other: &ErrorCode) -> bool {
        self == other.as_str()
    }
}

/// The catalogue as the Markdown table of docs/errors.md (tests/errors.rs keeps the two equal).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Code | HTTP | Kind | 含义 | Meaning | Masked view |\n|---|---|---|---|---|---|\n",
    );
    for code in ErrorCode::ALL {
        let status = code
            .http_status()
            .map_or_else(|| "—".to_string(), |s| s.to_string());
        let masked = if code.quotes_personal_value() {
            "general text"
        } else {
            ""
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            code.as_str(),
            status,
            code.kind().as_str(),
            code.general_zh(),
            code.general_en(),
            masked,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_listed_once_and_serialises_as_its_string() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} listed twice");
            assert_eq!(
                serde_json::to_value(code).expect("serialise"),
                serde_json::Value::String(code.as_str().to_string())
            );
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(ErrorCode::parse("NO_SUCH_CODE"), None);
    }

    #[test]
    fn http_answers_have_a_status_and_row_problems_have_none() {
        for code in ErrorCode::ALL {
            match code.kind() {
                Kind::RowProblem => assert_eq!(code.http_status(), None, "{code}"),
                Kind::Refusal => {}
                _ => assert!(code.http_status().is_some(), "{code}"),
            }
        }
    }

    #[test]
    fn general_texts_of_masked_codes_quote_no_digits() {
        for code in ErrorCode::ALL.iter().filter(|c| c.quotes_personal_value()) {
            assert!(!code.general_zh().chars().any(|c| c.is_ascii_digit()));
            assert!(!code.general_en().chars().any(|c| c.is_ascii_digit()));
        }
    }
}
