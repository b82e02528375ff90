//! The API's error contract: a stable code and a message in Chinese and English, as JSON, with
//! the HTTP status that fits. Internal details are logged, never sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An error as the API answers it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: &str, message_en: &str) -> ApiError {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            message_en: message_en.into(),
        }
    }

    pub fn not_found(what_zh: &str, what_en: &str) -> ApiError {
        ApiError::new(
            404,
            "NOT_FOUND",
            &format!("{what_zh}不存在。"),
            &format!("{what_en} not found."),
        )
    }

    pub fn bad_request(code: &str, message: &str, message_en: &str) -> ApiError {
        ApiError::new(400, code, message, message_en)
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            500,
            "INTERNAL",
            "服务器内部错误，请稍后重试或联系管理员。",
            "Internal server error; try again later or contact the administrator.",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message_en)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(self)
    }
}

impl From<crate::ingest::IngestError> for ApiError {
    fn from(e: crate::ingest::IngestError) -> Self {
        match e {
            crate::ingest::IngestError::Refused(r) => {
                ApiError::new(422, r.code, &r.message, &r.message_en)
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
