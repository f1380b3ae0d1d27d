//! The error every command answers: what happened and what to do, in Vietnamese and in
//! English, in plain words for a surveyor at the door. The UI shows the two texts of the
//! language in use only; `code` is for the UI's logic and tests (never shown).
//!
//! Technical details (network errors, server problem codes, file paths, OS errors) never go
//! into a [`Problem`]: they go to the app log ([`crate::applog`]) without personal data.
use serde::Serialize;
use sipas_sync::SyncError;

/// A command's error, serialised as the command's rejection value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable machine code, e.g. `sync.offline`, `enrol.bad_code` (not shown).
    pub code: String,
    /// What happened, in Vietnamese.
    pub message_vi: String,
    /// What happened, in English.
    pub message_en: String,
    /// What to do about it, in Vietnamese (may be empty).
    pub action_vi: String,
    /// What to do about it, in English (may be empty).
    pub action_en: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.message_vi, self.action_vi)
    }
}

/// "Your answers are safe on this device", the reassurance most sync problems end with.
const SAFE_VI: &str = "Phiếu đã lưu trên máy, sẽ gửi khi có mạng.";
const SAFE_EN: &str = "Your forms are saved on this device and will be sent when there is a \
                       connection.";

impl Problem {
    /// A problem with its code, message and action in both languages.
    pub fn new(
        code: &str,
        message_vi: &str,
        message_en: &str,
        action_vi: &str,
        action_en: &str,
    ) -> Problem {
        Problem {
            code: code.to_string(),
            message_vi: message_vi.to_string(),
            message_en: message_en.to_string(),
            action_vi: action_vi.to_string(),
            action_en: action_en.to_string(),
        }
    }

    /// A problem without an action.
    pub fn plain(code: &str, message_vi: &str, message_en: &str) -> Problem {
        Problem::new(code, message_vi, message_en, "", "")
    }

    /// The app is locked.
    pub fn locked() -> Problem {
        Problem::new(
            "app.locked",
            "Ứng dụng đang khóa.",
            "The app is locked.",
            "Hãy nhập mã PIN để mở khóa.",
            "Enter your PIN to unlock it.",
        )
    }

    /// Another copy of the app holds the store.
    pub fn already_running() -> Problem {
        Problem::new(
            "app.already_running",
            "SIPAS Field đang mở ở một cửa sổ khác trên máy này.",
            "SIPAS Field is already open in another window on this device.",
            "Hãy dùng cửa sổ đó, hoặc đóng nó rồi mở khóa lại.",
            "Use that window, or close it and unlock again.",
        )
    }

    /// The local store failed (details to the log).
    pub fn storage(e: &sipas_store::StoreError) -> Problem {
        crate::applog::warn(format!(
            "local store error ({})",
            crate::commands::sync::store_error_kind(e)
        ));
        match e {
            sipas_store::StoreError::NotFound { .. } => Problem::new(
                "store.not_found",
                "Không tìm thấy mục này trên máy.",
                "This item is not on this device.",
                "Hãy quay lại danh sách và thử lại.",
                "Go back to the list and try again.",
            ),
            sipas_store::StoreError::WrongPassphrase => Problem::new(
                "pin.wrong",
                "Mã PIN không đúng.",
                "Wrong PIN.",
                "Hãy nhập lại mã PIN.",
                "Enter your PIN again.",
            ),
            sipas_store::StoreError::Recovery { .. } => Problem::new(
                "recovery.failed",
                "Không khôi phục được dữ liệu bằng mã này. Dữ liệu trên máy không bị thay đổi.",
                "This code could not recover the data. Nothing on the device was changed.",
                "Hãy kiểm tra lại mã khôi phục giám sát viên gửi (64 ký tự) và nhập lại.",
                "Check the recovery code from your supervisor (64 characters) and enter it again.",
            ),
            sipas_store::StoreError::FindingsFinal { .. } => Problem::plain(
                "monitor.findings_final",
                "Kết quả phúc tra của nhiệm vụ này đã được ghi và không thể thay đổi.",
                "The findings of this spot check are already recorded and cannot change.",
            ),
            sipas_store::StoreError::FormHashMismatch { .. } => Problem::new(
                "form.hash_mismatch",
                "Phiếu tải về không khớp với bản máy chủ công bố nên không được lưu.",
                "A downloaded form did not match the published version, so it was not saved.",
                "Hãy đồng bộ lại; nếu vẫn lỗi, hãy báo giám sát viên.",
                "Sync again; if it keeps happening, tell your supervisor.",
            ),
            _ => Problem::new(
                "store.failed",
                "Không lưu hoặc đọc được dữ liệu trên máy.",
                "The data on this device could not be saved or read.",
                "Hãy thử lại. Nếu vẫn lỗi, hãy khởi động lại ứng dụng và báo giám sát viên.",
                "Try again. If it keeps failing, restart the app and tell your supervisor.",
            ),
        }
    }

    /// A draft, response or assignment is not on this device (`what` is for the code only).
    pub fn not_found(what: &str) -> Problem {
        let (vi, en) = match what {
            "assignment" => ("phiếu được giao", "assignment"),
            "response" => ("phiếu đã nộp", "submitted form"),
            _ => ("phiếu đang làm", "interview in progress"),
        };
        Problem::new(
            &format!("{what}.not_found"),
            &format!("Không tìm thấy {vi} này trên máy."),
            &format!("This {en} is not on this device."),
            "Hãy quay lại danh sách; nếu cần, đồng bộ rồi thử lại.",
            "Go back to the list; if needed, sync and try again.",
        )
    }

    /// The device is not enrolled.
    pub fn not_enrolled() -> Problem {
        Problem::new(
            "sync.not_enrolled",
            "Thiết bị chưa đăng ký với máy chủ.",
            "This device is not enrolled with the server yet.",
            "Hãy dán mã đăng ký do giám sát viên gửi vào mục Đăng ký thiết bị.",
            "Paste the enrolment code from your supervisor under Enrol this device.",
        )
    }

    /// The server refused this device's token: revoked.
    pub fn revoked() -> Problem {
        Problem::new(
            "sync.revoked",
            "Thiết bị đã bị thu hồi: máy chủ không nhận thiết bị này nữa.",
            "This device was revoked: the server no longer accepts it.",
            "Hãy liên hệ giám sát viên và dùng Xuất tệp bàn giao để chuyển các phiếu chưa gửi; \
             phiếu vẫn an toàn trên máy.",
            "Contact your supervisor and use Export hand-over file for the forms not sent yet; \
             they are safe on this device.",
        )
    }

    /// Any sync (or enrolment) failure in plain words; the technical detail goes to the log
    /// (by the caller, as [`crate::commands::sync::sync_error_kind`]).
    pub fn from_sync(e: &SyncError) -> Problem {
        match e {
            SyncError::GaveUp { last, .. } => Problem::from_sync(last),
            SyncError::Unreachable { detail } if certificate_refused(detail) => Problem::new(
                "sync.certificate",
                "Không xác minh được máy chủ: chứng chỉ của máy chủ không khớp với mã đăng ký.",
                "The server could not be verified: its certificate does not match the \
                 enrolment code.",
                "Đừng gửi phiếu qua máy chủ này. Hãy báo giám sát viên và xin mã đăng ký mới; \
                 phiếu vẫn an toàn trên máy.",
                "Do not send anything to this server. Tell your supervisor and ask for a new \
                 enrolment code; your forms are safe on this device.",
            ),
            SyncError::Unreachable { .. } => Problem::new(
                "sync.offline",
                "Không kết nối được máy chủ.",
                "Cannot reach the server.",
                SAFE_VI,
                SAFE_EN,
            ),
            SyncError::Server(p) => Problem::from_server_code(&p.code),
            SyncError::HttpStatus { status } if *status >= 500 || *status == 429 => {
                Problem::server_busy()
            }
            SyncError::HttpStatus { .. } | SyncError::BadReply { .. } => Problem::new(
                "sync.bad_reply",
                "Máy chủ trả lời không đúng dạng.",
                "The server's answer could not be understood.",
                "Hãy thử lại sau. Nếu vẫn lỗi, có thể cần cập nhật ứng dụng; phiếu vẫn an toàn \
                 trên máy.",
                "Try again later. If it keeps failing, the app may need an update; your forms \
                 are safe on this device.",
            ),
            SyncError::NotEnrolled => Problem::not_enrolled(),
            SyncError::Unacknowledged { .. } => Problem::new(
                "sync.unacknowledged",
                "Máy chủ chưa xác nhận đã nhận một số phiếu.",
                "The server has not confirmed some forms yet.",
                "Phiếu vẫn ở trên máy và sẽ được gửi lại tự động.",
                "They stay on this device and will be sent again automatically.",
            ),
            SyncError::Config { .. } => Problem::new(
                "enrol.bad_address",
                "Địa chỉ máy chủ không dùng được.",
                "The server address cannot be used.",
                "Hãy dán lại nguyên mã đăng ký do giám sát viên gửi.",
                "Paste the whole enrolment code from your supervisor again.",
            ),
            SyncError::Encode { .. } => Problem::new(
                "sync.encode",
                "Không chuẩn bị được dữ liệu để gửi.",
                "The data could not be prepared for sending.",
                "Hãy báo giám sát viên; phiếu vẫn an toàn trên máy.",
                "Tell your supervisor; your forms are safe on this device.",
            ),
            SyncError::Store(e) => Problem::storage(e),
        }
    }

    fn server_busy() -> Problem {
        Problem::new(
            "sync.server_busy",
            "Máy chủ đang bận hoặc gặp sự cố.",
            "The server is busy or has a problem.",
            "Ứng dụng sẽ tự thử lại sau. Phiếu đã lưu trên máy.",
            "The app will try again later. Your forms are saved on this device.",
        )
    }

    /// A numbered server problem (`401.2`, …) in plain words.
    pub fn from_server_code(code: &str) -> Problem {
        match code {
            "401.1" => Problem::revoked(),
            "401.2" => Problem::new(
                "enrol.bad_code",
                "Mã đăng ký không đúng, đã dùng rồi hoặc đã hết hạn.",
                "The enrolment code is wrong, already used or expired.",
                "Hãy xin giám sát viên một mã đăng ký mới rồi dán lại.",
                "Ask your supervisor for a new enrolment code and paste it again.",
            ),
            "401.3" => Problem::new(
                "login.bad_credentials",
                "Tên đăng nhập hoặc mật khẩu không đúng.",
                "Wrong username or password.",
                "Hãy nhập lại.",
                "Enter them again.",
            ),
            "401.4" => Problem::new(
                "login.disabled",
                "Tài khoản đã bị khoá.",
                "This account is disabled.",
                "Hãy liên hệ giám sát viên.",
                "Contact your supervisor.",
            ),
            "403.1" | "403.2" => Problem::new(
                "sync.not_allowed",
                "Máy chủ không cho phép việc này với tài khoản của bạn.",
                "The server does not allow this for your account.",
                "Hãy nhờ giám sát viên kiểm tra phân công; phiếu vẫn an toàn trên máy.",
                "Ask your supervisor to check your assignments; your forms are safe on this \
                 device.",
            ),
            "429.1" => Problem::new(
                "sync.too_many",
                "Đã thử quá nhiều lần.",
                "Too many attempts.",
                "Hãy đợi 15 phút rồi thử lại.",
                "Wait 15 minutes and try again.",
            ),
            c if c.starts_with('5') => Problem::server_busy(),
            _ => Problem::new(
                "sync.refused",
                "Máy chủ từ chối yêu cầu.",
                "The server refused the request.",
                "Hãy thử lại sau; nếu vẫn lỗi, hãy báo giám sát viên. Phiếu vẫn an toàn trên máy.",
                "Try again later; if it persists, tell your supervisor. Your forms are safe on \
                 this device.",
            ),
        }
    }

    /// The stored text of the last sync failure (the engine's sync log) in plain words, for
    /// a failure recorded before this run of the app (the app keeps the exact one in memory).
    pub fn from_logged(text: &str) -> Problem {
        let t = text.to_ascii_lowercase();
        if t.contains("certificate") || t.contains("unknownissuer") {
            return Problem::from_sync(&SyncError::Unreachable {
                detail: "certificate".into(),
            });
        }
        if t.contains("unreachable") || t.contains("error sending") || t.contains("os error") {
            return Problem::from_sync(&SyncError::Unreachable {
                detail: String::new(),
            });
        }
        if t.contains("401.1") || t.contains("revoked") {
            return Problem::revoked();
        }
        if t.contains("not acknowledged") || t.contains("chưa được máy chủ xác nhận") {
            return Problem::from_sync(&SyncError::Unacknowledged { pending: 0 });
        }
        Problem::new(
            "sync.failed",
            "Lần đồng bộ trước chưa thành công.",
            "The last sync did not succeed.",
            "Ứng dụng sẽ tự thử lại. Phiếu đã lưu trên máy.",
            "The app will try again by itself. Your forms are saved on this device.",
        )
    }
}

/// Whether a connection failed because the server's TLS certificate is not trusted.
pub fn certificate_refused(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("certificate") || d.contains("unknownissuer") || d.contains("fingerprint")
}

/// Older messages written as "Vietnamese / English" in one string.
impl From<String> for Problem {
    fn from(s: String) -> Problem {
        Problem::from(s.as_str())
    }
}

impl From<&str> for Problem {
    fn from(s: &str) -> Problem {
        match s.split_once(" / ") {
            Some((vi, en)) => Problem::plain("app.error", vi.trim(), en.trim()),
            None => Problem::plain("app.error", s, s),
        }
    }
}

impl From<sipas_store::StoreError> for Problem {
    fn from(e: sipas_store::StoreError) -> Problem {
        Problem::storage(&e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipas_protocol::problem::ProblemCode;

    /// Nothing technical reaches the surveyor: no OS errors, URLs, HTTP or problem codes.
    fn plain_words(p: &Problem) {
        for text in [&p.message_vi, &p.message_en, &p.action_vi, &p.action_en] {
            let lower = text.to_lowercase();
            for bad in [
                "os error",
                "http",
                "error sending",
                "127.0.0.1",
                "connection refused",
            ] {
                assert!(!lower.contains(bad), "{bad} in {text}");
            }
            assert!(
                !text
                    .as_bytes()
                    .windows(3)
                    .any(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit()),
                "problem code in {text}"
            );
        }
        assert!(!p.message_vi.is_empty() && !p.message_en.is_empty());
        assert_ne!(p.message_vi, p.message_en);
    }

    #[test]
    fn offline_is_said_plainly_with_what_to_do() {
        let p = Problem::from_sync(&SyncError::Unreachable {
            detail: "error sending request for url (http://127.0.0.1:1/api/v1/pull): \
                     connection refused (os error 111)"
                .into(),
        });
        plain_words(&p);
        assert_eq!(p.code, "sync.offline");
        assert_eq!(p.message_vi, "Không kết nối được máy chủ.");
        assert_eq!(p.action_vi, "Phiếu đã lưu trên máy, sẽ gửi khi có mạng.");
        let gave_up = SyncError::GaveUp {
            attempts: 3,
            last: Box::new(SyncError::Unreachable {
                detail: "timed out".into(),
            }),
        };
        assert_eq!(Problem::from_sync(&gave_up).code, "sync.offline");
    }

    #[test]
    fn every_server_problem_and_sync_error_is_plain_words() {
        for code in [
            ProblemCode::MalformedBody,
            ProblemCode::Unauthenticated,
            ProblemCode::BadEnrolmentCode,
            ProblemCode::BadCredentials,
            ProblemCode::AccountDisabled,
            ProblemCode::ForbiddenRole,
            ProblemCode::OutOfScope,
            ProblemCode::NotFound,
            ProblemCode::Conflict,
            ProblemCode::RateLimited,
            ProblemCode::Internal,
        ] {
            let e = SyncError::Server(code.problem("english detail", "chi tiết"));
            let p = Problem::from_sync(&e);
            plain_words(&p);
            assert!(!p.message_en.contains("english detail"));
        }
        let wrong = Problem::from_server_code("401.2");
        assert_eq!(wrong.code, "enrol.bad_code");
        assert!(wrong.message_vi.starts_with("Mã đăng ký không đúng"));
        for e in [
            SyncError::HttpStatus { status: 502 },
            SyncError::HttpStatus { status: 404 },
            SyncError::BadReply {
                detail: "expected value at line 1".into(),
            },
            SyncError::NotEnrolled,
            SyncError::Unacknowledged { pending: 2 },
            SyncError::Config {
                detail: "the server address must start with https://".into(),
            },
            SyncError::Encode { detail: "x".into() },
            SyncError::Unreachable {
                detail: "invalid peer certificate: UnknownIssuer".into(),
            },
        ] {
            plain_words(&Problem::from_sync(&e));
        }
        for logged in [
            "server unreachable (error sending request for url): os error 111",
            "the server refused the request: 401.1",
            "something else",
        ] {
            plain_words(&Problem::from_logged(logged));
        }
        plain_words(&Problem::locked());
        plain_words(&Problem::already_running());
    }

    #[test]
    fn old_two_language_messages_are_split() {
        let p = Problem::from("Hãy nhập mã / enter the code".to_string());
        assert_eq!(
            (p.message_vi.as_str(), p.message_en.as_str()),
            ("Hãy nhập mã", "enter the code")
        );
        let json = serde_json::to_value(Problem::locked()).unwrap();
        for k in ["code", "message_vi", "message_en", "action_vi", "action_en"] {
            assert!(json.get(k).is_some(), "{k}");
        }
    }
}
