//! HTTP hygiene of every answer, as middleware:
//!
//! * [`api_answers`] (always): every non-2xx answer under `/api/v1` carries a problem body,
//!   also those the router makes itself (`405.1` wrong method, with `Allow`); `OPTIONS` on an
//!   API path answers `204` with `Allow`; every API answer carries `Cache-Control: no-store`
//!   (answers carry contacts, tokens and unpublished figures: no cache may keep them);
//! * [`hsts`] (with `--tls-cert`/`--tls-key` only): `Strict-Transport-Security` with
//!   [`HSTS`] on every answer, so browsers never fall back to plain HTTP.
use crate::problem::ApiError;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sipas_protocol::problem::ProblemCode;

/// The `Strict-Transport-Security` value: one year.
pub const HSTS: &str = "max-age=31536000";

/// The problem for a bare router answer of `status`.
fn problem_for(status: StatusCode) -> ApiError {
    let (code, en, vi) = match status.as_u16() {
        401 => (
            ProblemCode::Unauthenticated,
            "Sign in first: send a valid bearer token.",
            "Vui lòng đăng nhập: cần mã truy cập hợp lệ.",
        ),
        403 => (
            ProblemCode::ForbiddenRole,
            "Not allowed.",
            "Không được phép thực hiện thao tác này.",
        ),
        404 => (
            ProblemCode::NotFound,
            "No such endpoint.",
            "Không có địa chỉ này.",
        ),
        405 => (
            ProblemCode::MethodNotAllowed,
            "This endpoint does not accept this method; see the Allow header.",
            "Địa chỉ này không hỗ trợ phương thức yêu cầu; xem tiêu đề Allow.",
        ),
        409 => (
            ProblemCode::Conflict,
            "Conflicting state.",
            "Xung đột dữ liệu.",
        ),
        413 => (
            ProblemCode::BodyTooLarge,
            "Request body too large.",
            "Dữ liệu gửi lên quá lớn.",
        ),
        429 => (
            ProblemCode::RateLimited,
            "Too many attempts; retry later.",
            "Quá nhiều yêu cầu; vui lòng thử lại sau.",
        ),
        400..=499 => (
            ProblemCode::MalformedBody,
            "The request could not be understood.",
            "Không hiểu được yêu cầu gửi lên.",
        ),
        _ => return ApiError::internal(),
    };
    ApiError::new(code, en, vi)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Middleware for the whole router: problem bodies, `OPTIONS` and `no-store` for answers
/// under `/api/v1` (other paths pass unchanged).
pub async fn api_answers(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with(sipas_protocol::API_PREFIX) {
        return next.run(request).await;
    }
    let options = request.method() == Method::OPTIONS;
    let mut response = next.run(request).await;
    let status = response.status();
    let allow = response.headers().get(header::ALLOW).cloned();
    if options && status == StatusCode::METHOD_NOT_ALLOWED {
        response = StatusCode::NO_CONTENT.into_response();
    } else if status.as_u16() >= 400 && !is_json(&response) {
        response = problem_for(status).into_response();
    }
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Middleware adding `Strict-Transport-Security` ([`HSTS`]) to every answer; only for a
/// server that serves TLS itself.
pub async fn hsts(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static(HSTS),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_status_has_a_matching_problem() {
        for status in [400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503] {
            let p = problem_for(StatusCode::from_u16(status).unwrap());
            let expected = match status {
                415 => 400,
                503 => 500,
                s => s,
            };
            assert_eq!(p.status().as_u16(), expected, "{status}");
            assert!(!p.0.message_vi.is_empty());
        }
    }
}
