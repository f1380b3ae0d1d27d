//! HTTP rendering of [`Problem`]s: every non-2xx answer of the API is a problem JSON body with
//! its numbered code (`403.1`, `413.2`, …) and the matching HTTP status.
use crate::storage::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sipas_protocol::problem::{Problem, ProblemCode};

/// An API error: a [`Problem`] that renders as an HTTP response.
///
/// (A newtype because both `Problem` and `IntoResponse` are foreign to this crate.)
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(pub Problem);

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A problem with `code` and messages in English and Vietnamese.
    pub fn new(
        code: ProblemCode,
        message: impl Into<String>,
        message_vi: impl Into<String>,
    ) -> Self {
        ApiError(code.problem(message, message_vi))
    }

    /// Adds machine-readable details.
    pub fn with_details(self, details: serde_json::Value) -> Self {
        ApiError(self.0.with_details(details))
    }

    /// `401.1`: no or unknown bearer token.
    pub fn unauthenticated() -> Self {
        Self::new(
            ProblemCode::Unauthenticated,
            "Sign in first: send a valid bearer token.",
            "Vui lòng đăng nhập: cần mã truy cập hợp lệ.",
        )
    }

    /// `404.1`: `what` with `id` does not exist.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            ProblemCode::NotFound,
            format!("{what} {id} not found."),
            format!("Không tìm thấy {what} {id}."),
        )
        .with_details(serde_json::json!({ "what": what, "id": id }))
    }

    /// `400.3`: an invalid value in a request (not an answer).
    pub fn invalid_input(message: impl Into<String>, message_vi: impl Into<String>) -> Self {
        Self::new(ProblemCode::InvalidInput, message, message_vi)
    }

    /// `500.1`: internal error.
    pub fn internal() -> Self {
        Self::new(
            ProblemCode::Internal,
            "Internal server error; retry, and report it if it persists.",
            "Lỗi máy chủ; vui lòng thử lại và báo cáo nếu lỗi vẫn còn.",
        )
    }

    /// The HTTP status of this problem.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        ApiError(p)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => ApiError::not_found(what, &id),
            StoreError::AlreadyExists(what) => ApiError::new(
                ProblemCode::Conflict,
                format!("{what} already exists."),
                format!("{what} đã tồn tại."),
            ),
            StoreError::AssignmentHasResponse(id) => ApiError::new(
                ProblemCode::Conflict,
                format!(
                    "Assignment {id} already has a response and cannot be moved to another surveyor."
                ),
                "Người được chọn mẫu này đã có phiếu trả lời nên không thể giao cho điều tra viên khác.",
            )
            .with_details(serde_json::json!({ "assignment_id": id })),
            StoreError::Backend(message) => {
                // Backend messages name tables and constraints, never stored values.
                tracing::error!(error = %message, "storage failure");
                ApiError::internal()
            }
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.0).unwrap_or_else(|_| b"{}".to_vec());
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_renders_with_its_status() {
        let r = ApiError::unauthenticated().into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = ApiError::from(StoreError::AlreadyExists("user".into())).into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let r = ApiError::from(StoreError::NotFound {
            what: "round",
            id: "R1".into(),
        })
        .into_response();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
