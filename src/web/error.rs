//! The API's error contract: a code of the catalogue (`domain::catalogue`) and a message in
//! Chinese and English, as JSON, with the code's HTTP status. Internal details are logged, never sent.

use crate::domain::catalogue::ErrorCode;
use crate::registration::FieldProblem;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An error as the API answers it. Its status is the catalogue's status of its code, so a code
/// can never answer two statuses.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub message_en: String,
    /// Where a refusal is about the values of a record (`REGISTRATION_INVALID`): every problem,
    /// each with its own code, column and messages, as a file's reject report lists them.
    /// Absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<FieldProblem>,
}

impl ApiError {
    /// `code` with the specific message of the case.
    pub fn new(code: ErrorCode, message: &str, message_en: &str) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            message_en: message_en.into(),
            problems: Vec::new(),
        }
    }

    /// `code` with its message and the problems of the values it refuses.
    pub fn with_problems(
        code: ErrorCode,
        message: &str,
        message_en: &str,
        problems: Vec<FieldProblem>,
    ) -> ApiError {
        ApiError {
            problems,
            ..ApiError::new(code, message, message_en)
        }
    }

    /// `code` with the catalogue's general text.
    pub fn general(code: ErrorCode) -> ApiError {
        ApiError::new(code, code.general_zh(), code.general_en())
    }

    /// The HTTP status of the answer: the catalogue's. A code that is no HTTP answer (a row
    /// problem) is a programming error, answered as a server error rather than guessed.
    pub fn status(&self) -> u16 {
        self.code.http_status().unwrap_or(500)
    }

    pub fn not_found(what_zh: &str, what_en: &str) -> ApiError {
        ApiError::new(
            ErrorCode::NotFound,
            &format!("{what_zh}不存在。"),
            &format!("{what_en} not found."),
        )
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::general(ErrorCode::Internal)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message_en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self)
    }
}

impl From<crate::ingest::IngestError> for ApiError {
    fn from(e: crate::ingest::IngestError) -> Self {
        match e {
            crate::ingest::IngestError::Refused(r) => {
                ApiError::new(r.code, &r.message, &r.message_en)
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::internal(e)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::internal(e)
    }
}
