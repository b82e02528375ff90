//! Why a whole file was refused: one code of the catalogue and one message in Chinese and
//! English.
//! A refused file stores nothing.

use crate::domain::catalogue::ErrorCode;
use crate::domain::graduate::Column;

/// A file that cannot be taken at all.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Refusal {
    pub code: ErrorCode,
    pub message: String,
    pub message_en: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}（{}）/ {}", self.message, self.code, self.message_en)
    }
}

impl Refusal {
    fn new(code: ErrorCode, message: String, message_en: String) -> Refusal {
        Refusal {
            code,
            message,
            message_en,
        }
    }

    pub fn empty() -> Refusal {
        Refusal::new(
            ErrorCode::FileEmpty,
            "文件是空的，没有任何内容。".into(),
            "The file is empty.".into(),
        )
    }

    pub fn binary() -> Refusal {
        Refusal::new(
            ErrorCode::FileBinary,
            "文件不是 CSV 或 XLSX 表格（含有二进制数据），请用 Excel 另存为 CSV 或 XLSX 后重新提交。"
                .into(),
            "The file is not a CSV or XLSX table (it contains binary data); save it from Excel as CSV or XLSX and send it again.".into(),
        )
    }

    pub fn old_excel() -> Refusal {
        Refusal::new(
            ErrorCode::FileUnsupported,
            "不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后重新提交。".into(),
            "Old Excel (.xls) files are not accepted; save the file as .xlsx or CSV and send it again.".into(),
        )
    }

    pub fn encrypted() -> Refusal {
        Refusal::new(
            ErrorCode::FileEncrypted,
            "文件设置了打开密码，无法读取。请取消密码保护后重新提交。".into(),
            "The file is password-protected and cannot be read; remove the password and send it again.".into(),
        )
    }

    pub fn damaged(detail: &str) -> Refusal {
        Refusal::new(
            ErrorCode::FileDamaged,
            format!("XLSX 文件已损坏或不完整（可能未上传完），无法读取：{detail}"),
            format!(
                "The XLSX file is damaged or incomplete (perhaps cut off in transfer): {detail}"
            ),
        )
    }

    pub fn zip_bomb() -> Refusal {
        Refusal::new(
            ErrorCode::FileTooLarge,
            "XLSX 文件解压后异常巨大，不是正常的移交文件，已拒收。".into(),
            "The XLSX file expands to an abnormal size when unpacked; it is not a transfer file."
                .into(),
        )
    }

    pub fn too_big(limit: u64) -> Refusal {
        Refusal::new(
            ErrorCode::FileTooLarge,
            format!("文件超过大小上限（{} MB）。", limit >> 20),
            format!("The file is larger than the limit ({} MB).", limit >> 20),
        )
    }

    pub fn unreadable(detail: &str) -> Refusal {
        Refusal::new(
            ErrorCode::FileUnreadable,
            format!("文件无法按表格读取：{detail}"),
            format!("The file cannot be read as a table: {detail}"),
        )
    }

    pub fn mixed_encoding(line: u64) -> Refusal {
        Refusal::new(
            ErrorCode::FileEncodingMixed,
            format!(
                "文件混用了两种文字编码（UTF-8 与 GBK），第 {line} 行起无法正确识别。请在 Excel 中整体另存为“CSV UTF-8”后重新提交。"
            ),
            format!(
                "The file mixes two text encodings (UTF-8 and GBK); from line {line} it cannot be read correctly. Save the whole file again as \"CSV UTF-8\" and send it again."
            ),
        )
    }

    pub fn quote_unclosed(line: u64) -> Refusal {
        Refusal::new(
            ErrorCode::QuoteUnclosed,
            format!("第 {line} 行有未闭合的引号（\"），其后的内容无法分行。请检查该行后重新提交。"),
            format!("Line {line} has a quotation mark (\") that is never closed; the rows after it cannot be separated. Fix that line and send the file again."),
        )
    }

    /// A row (a line, or a quoted cell's lines) longer than any transfer-file row: a missing line
    /// break, or not a table at all. Refused as soon as the limit is passed.
    pub fn line_too_long(line: u64, limit: usize) -> Refusal {
        let mb = limit >> 20;
        Refusal::new(
            ErrorCode::LineTooLong,
            format!("从第 {line} 行开始的一行超过 {mb} MB 仍未结束（缺少换行符？），不是正常的移交文件，已拒收。"),
            format!("The row starting at line {line} runs past {mb} MB without ending (a missing line break?); this is not a transfer file."),
        )
    }

    /// One cell longer than any transfer-file value; refused as soon as the limit is passed.
    pub fn cell_too_long(line: u64, limit: usize) -> Refusal {
        let mb = limit >> 20;
        Refusal::new(
            ErrorCode::CellTooLong,
            format!("第 {line} 行有一个单元格超过 {mb} MB，不是正常的移交文件，已拒收。"),
            format!("A cell in line {line} is longer than {mb} MB; this is not a transfer file."),
        )
    }

    /// An XLSX cell (in a worksheet or in the shared strings) longer than any transfer-file value.
    pub fn xlsx_cell_too_long(part: &str, limit: usize) -> Refusal {
        let mb = limit >> 20;
        Refusal::new(
            ErrorCode::CellTooLong,
            format!("XLSX 文件中有一个单元格超过 {mb} MB（{part}），不是正常的移交文件，已拒收。"),
            format!("A cell in the XLSX file is longer than {mb} MB ({part}); this is not a transfer file."),
        )
    }

    /// An XLSX part that unpacks to more than the hub reads, counted while unpacking.
    pub fn xlsx_part_too_large(part: &str, limit: u64) -> Refusal {
        let mb = limit >> 20;
        Refusal::new(
            ErrorCode::FileTooLarge,
            format!("XLSX 文件中的 {part} 解压后超过 {mb} MB，已拒收。请在 Excel 中另存为 CSV 后重新提交。"),
            format!("The part {part} of the XLSX file unpacks to more than {mb} MB; save the file as CSV and send it again."),
        )
    }

    pub fn header_not_found() -> Refusal {
        let names: Vec<&str> = Column::ALL
            .iter()
            .filter(|c| c.required())
            .map(|c| c.header_zh())
            .collect();
        Refusal::new(
            ErrorCode::HeaderNotFound,
            format!(
                "找不到表头行。文件前 10 行中应有一行列名，至少包括：{}。",
                names.join("、")
            ),
            "No header row found: one of the first 10 rows must name the columns (姓名, 证件号码 …).".into(),
        )
    }

    pub fn columns_missing(columns: &[Column]) -> Refusal {
        let zh: Vec<String> = columns
            .iter()
            .map(|c| match c {
                Column::HukouCode | Column::HukouAddress => "生源地代码 或 生源地地址".to_string(),
                c => c.header_zh().to_string(),
            })
            .collect();
        let en: Vec<String> = columns
            .iter()
            .map(|c| match c {
                Column::HukouCode | Column::HukouAddress => {
                    "hukou_code or hukou_address".to_string()
                }
                c => c.key().to_string(),
            })
            .collect();
        Refusal::new(
            ErrorCode::ColumnsMissing,
            format!("缺少必填列：{}。整个文件未接收，请补齐该列后重新提交。", zh.join("、")),
            format!(
                "Required column missing: {}. Nothing was stored; add the column and send the file again.",
                en.join(", ")
            ),
        )
    }

    /// `width` is the columns counted, at most one past the limit (cells beyond are not kept).
    pub fn too_many_columns(width: usize) -> Refusal {
        let limit = super::header::MAX_COLUMNS;
        let (zh, en) = if width > limit + 1 {
            (
                format!("表头有 {width} 列，超过上限 {limit} 列"),
                format!("The header has {width} columns, more than the limit of {limit}"),
            )
        } else {
            (
                format!("表头列数超过上限 {limit} 列"),
                format!("The header has more than the limit of {limit} columns"),
            )
        };
        Refusal::new(
            ErrorCode::TooManyColumns,
            format!("{zh}，不是移交文件格式。"),
            format!("{en}; this is not a transfer file."),
        )
    }

    pub fn no_data_rows() -> Refusal {
        Refusal::new(
            ErrorCode::NoDataRows,
            "文件只有表头，没有数据行。".into(),
            "The file has a header but no data rows.".into(),
        )
    }

    /// A drop sub-folder that is not a registered sender organisation.
    pub fn unknown_sender(folder: &str) -> Refusal {
        Refusal::new(
            ErrorCode::SenderUnknown,
            format!("投放文件夹“{folder}”不是已登记的移交部门，请联系管理员用 gradhub orgs add --level sender 登记。"),
            format!("The drop folder {folder:?} is not a registered sender organisation; an administrator registers it with `gradhub orgs add --level sender`."),
        )
    }

    pub fn bad_source(source: &str) -> Refusal {
        Refusal::new(
            ErrorCode::SourceInvalid,
            format!("发送单位代码无效：“{source}”（应为 1–50 个字母、数字、- 或 _）。"),
            format!("Invalid sender code {source:?} (1–50 letters, digits, - or _)."),
        )
    }
}
