//! Numbered API problems. Every error response of the server is a [`Problem`] with a stable
//! code `HTTP.N` (as in ODK Central), an English and a Vietnamese message, and optional details.
use serde::{Deserialize, Serialize};

/// The JSON body of every non-2xx API response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable problem code, e.g. `"403.1"`; the part before the dot is the HTTP status.
    pub code: String,
    /// What went wrong and what to do, in English.
    pub message: String,
    /// The same in Vietnamese, for the app and dashboard.
    pub message_vi: String,
    /// Machine-readable details (e.g. the item code of an invalid answer).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
}

/// The catalogue of problem codes. Codes are never reused for another meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemCode {
    /// 400.1 request body is not valid JSON / not the expected shape.
    MalformedBody,
    /// 400.2 unknown questionnaire (form id or version).
    UnknownForm,
    /// 400.3 invalid value in a request (not an answer), e.g. bad CSV row.
    InvalidInput,
    /// 400.4 unsupported content encoding.
    BadEncoding,
    /// 401.1 no or unknown bearer token.
    Unauthenticated,
    /// 401.2 enrolment code unknown, used or expired.
    BadEnrolmentCode,
    /// 401.3 wrong username or password.
    BadCredentials,
    /// 401.4 right password, but the account is disabled.
    AccountDisabled,
    /// 403.1 role not allowed for this action.
    ForbiddenRole,
    /// 403.2 outside the caller's scope (not its assignment / unit / task).
    OutOfScope,
    /// 404.1 resource not found.
    NotFound,
    /// 405.1 the path exists, but not for this method (see the `Allow` header).
    MethodNotAllowed,
    /// 409.1 conflicting state (e.g. duplicate code).
    Conflict,
    /// 413.1 too many records in one batch.
    BatchTooManyRecords,
    /// 413.2 request body too large.
    BodyTooLarge,
    /// 415.1 the body's content type is not one this endpoint takes.
    UnsupportedMediaType,
    /// 429.1 too many attempts; retry later.
    RateLimited,
    /// 500.1 internal error; retry, and report if it persists.
    Internal,
}

impl ProblemCode {
    /// `(HTTP status, "HTTP.N")`.
    pub fn status_and_code(self) -> (u16, &'static str) {
        use ProblemCode::*;
        match self {
            MalformedBody => (400, "400.1"),
            UnknownForm => (400, "400.2"),
            InvalidInput => (400, "400.3"),
            BadEncoding => (400, "400.4"),
            Unauthenticated => (401, "401.1"),
            BadEnrolmentCode => (401, "401.2"),
            BadCredentials => (401, "401.3"),
            AccountDisabled => (401, "401.4"),
            ForbiddenRole => (403, "403.1"),
            OutOfScope => (403, "403.2"),
            NotFound => (404, "404.1"),
            MethodNotAllowed => (405, "405.1"),
            Conflict => (409, "409.1"),
            BatchTooManyRecords => (413, "413.1"),
            BodyTooLarge => (413, "413.2"),
            UnsupportedMediaType => (415, "415.1"),
            RateLimited => (429, "429.1"),
            Internal => (500, "500.1"),
        }
    }

    /// Builds a problem with this code.
    pub fn problem(self, message: impl Into<String>, message_vi: impl Into<String>) -> Problem {
        Problem {
            code: self.status_and_code().1.to_string(),
            message: message.into(),
            message_vi: message_vi.into(),
            details: serde_json::Value::Null,
        }
    }
}

impl Problem {
    /// Adds machine-readable details.
    pub fn with_details(mut self, details: serde_json::Value) -> Problem {
        self.details = details;
        self
    }

    /// The HTTP status encoded in the code (500 if unparsable).
    pub fn status(&self) -> u16 {
        self.code
            .split('.')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(500)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.message)
    }
}
