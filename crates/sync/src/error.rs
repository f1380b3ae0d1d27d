//! Errors of the sync client and engine, worded for the surveyor: what happened and what to do.
use sipas_protocol::problem::Problem;
use sipas_store::StoreError;

/// Everything that can go wrong while syncing.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No connection to the server, the connection broke, or no reply in time.
    #[error(
        "Không kết nối được máy chủ: kiểm tra mạng rồi thử lại sau; câu trả lời vẫn an toàn \
         trên thiết bị. / server unreachable ({detail}): check the network and try again \
         later; your answers are safe on this device"
    )]
    Unreachable {
        /// What failed (connection refused, reset, timed out …); never contains tokens.
        detail: String,
    },

    /// The server answered with a numbered problem (see [`Problem`]).
    #[error(
        "the server refused the request: {0}. {hint}",
        hint = problem_hint(.0)
    )]
    Server(Problem),

    /// The server answered with an error status but no problem body (e.g. a proxy's page).
    #[error(
        "Máy chủ trả lỗi HTTP {status}: thử lại sau, báo giám sát viên nếu vẫn lỗi; câu trả \
         lời vẫn an toàn trên thiết bị. / the server answered HTTP {status} without details: \
         try again later, and tell your supervisor if it persists; your answers are safe on \
         this device"
    )]
    HttpStatus {
        /// HTTP status code.
        status: u16,
    },

    /// A successful reply whose body could not be understood.
    #[error(
        "the server's reply could not be read ({detail}); it will be retried, and your \
         answers are safe on this device. If it persists, the app may need an update"
    )]
    BadReply {
        /// Decoder message.
        detail: String,
    },

    /// The call needs a device token and none is set.
    #[error(
        "Thiết bị chưa đăng ký: nhập mã đăng ký do giám sát viên cấp trước khi đồng bộ. / \
         this device is not enrolled: enter the enrolment code from your supervisor before \
         syncing"
    )]
    NotEnrolled,

    /// Some records were sent but the server did not acknowledge them.
    #[error(
        "{pending} bản ghi chưa được máy chủ xác nhận; chúng vẫn ở trên thiết bị và sẽ được gửi \
         lại. / {pending} answer(s) were not acknowledged by the server yet; they stay on this \
         device and will be sent again"
    )]
    Unacknowledged {
        /// Records still waiting in the outbox.
        pending: u64,
    },

    /// Retries ran out (attempts or deadline); the last error says why.
    #[error(
        "Đồng bộ dừng sau {attempts} lần thử / sync gave up after {attempts} attempt(s): {last}"
    )]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: Box<SyncError>,
    },

    /// The client could not be set up (bad server address, TLS setup).
    #[error("sync is misconfigured: {detail}. Check the server address in the settings")]
    Config {
        /// What is wrong.
        detail: String,
    },

    /// A request body could not be encoded.
    #[error("an upload could not be prepared ({detail}); contact support with this message")]
    Encode {
        /// Encoder message.
        detail: String,
    },

    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the surveyor can do about a problem, by its HTTP status.
fn problem_hint(p: &Problem) -> &'static str {
    match p.status() {
        401 => {
            "Ask your supervisor for a new enrolment code and enrol this device again; \
                your answers are safe on this device"
        }
        403 => {
            "Ask your supervisor to check your assignments; your answers are safe on \
                this device"
        }
        429 | 500..=599 => {
            "The server is busy or failing: try again later; your answers are \
                            safe on this device"
        }
        _ => "Your answers are safe on this device; tell your supervisor if it persists",
    }
}

impl SyncError {
    /// Whether retrying later may succeed without anyone doing anything: network trouble,
    /// server errors (5xx), throttling (429), unreadable replies and unacknowledged records.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Unreachable { .. }
            | SyncError::BadReply { .. }
            | SyncError::Unacknowledged { .. } => true,
            SyncError::Server(p) => p.status() == 429 || p.status() >= 500,
            SyncError::HttpStatus { status } => *status == 429 || *status >= 500,
            SyncError::GaveUp { .. }
            | SyncError::NotEnrolled
            | SyncError::Config { .. }
            | SyncError::Encode { .. }
            | SyncError::Store(_) => false,
        }
    }

    /// The problem the server answered with, if any.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            SyncError::Server(p) => Some(p),
            SyncError::GaveUp { last, .. } => last.problem(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipas_protocol::problem::ProblemCode;

    #[test]
    fn messages_are_actionable_and_transience_follows_status() {
        let e = SyncError::Unreachable {
            detail: "connection refused".into(),
        };
        assert!(e.is_transient());
        assert!(e.to_string().contains("server unreachable"));
        assert!(
            e.to_string()
                .contains("your answers are safe on this device")
        );

        let unauth = SyncError::Server(ProblemCode::Unauthenticated.problem("no token", "x"));
        assert!(!unauth.is_transient());
        assert!(unauth.to_string().contains("enrol this device again"));
        assert_eq!(unauth.problem().unwrap().code, "401.1");

        let busy = SyncError::Server(ProblemCode::Internal.problem("boom", "x"));
        assert!(busy.is_transient());
        assert!(SyncError::HttpStatus { status: 502 }.is_transient());
        assert!(!SyncError::HttpStatus { status: 404 }.is_transient());
        let gave_up = SyncError::GaveUp {
            attempts: 3,
            last: Box::new(busy),
        };
        assert!(!gave_up.is_transient());
        assert_eq!(gave_up.problem().unwrap().code, "500.1");
    }
}
