//! Self-completion (issue 15): the rules of personal one-time links and open links, in one
//! place for both storage backends. Handlers are in [`crate::handlers::self_links`]; storage
//! in [`crate::storage::self_store`].
//!
//! - A **personal link** is a code of [`crate::auth::CODE_LENGTH`] characters of
//!   [`crate::auth::CODE_ALPHABET`] (no look-alikes, ≈ 49 bits) tied to one sampled
//!   assignment. Its answer is built by the server into a [`Response`] (revision 1, the
//!   round's form, the assignment's round and unit, origin `sample`) and goes through the
//!   same checks ([`crate::validation::check_with`]) and ingest rules
//!   ([`crate::ingest`]) as a device upload, with `mode = self_personal`. So a resend of the
//!   same answer is a `duplicate` (the same receipt), another answer after acceptance is
//!   refused, and an assignment already interviewed refuses the link.
//! - An **open link** is a token per agency of a round. The page asks once for a device
//!   token (kept in the browser); each answer names its device token, passes a short
//!   screening (procedure from the catalogue, date of the visit within the round and not in
//!   the future) and is counted against [`OpenLimits`] before ingest (`mode = self_open`,
//!   no assignment).
//! - The server, never the client, sets the mode. No contact data reaches the public page.
use crate::auth::{CODE_ALPHABET, CODE_LENGTH, new_enrolment_code, secret_hash};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sipas_core::answer::Answers;
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{Origin, Paradata, Response};
use sipas_protocol::wire::{AckReason, AckStatus, RecordAck};
use std::net::IpAddr;
use uuid::Uuid;

/// Abuse limits of open links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenLimits {
    /// Answers per device token per [`OpenLimits::device_window`].
    pub per_device: u32,
    /// Window of the device limit.
    pub device_window: Duration,
    /// Answers per client address (IPv4, or IPv6 /64) per [`OpenLimits::address_window`].
    pub per_address: u32,
    /// Window of the address limit.
    pub address_window: Duration,
}

impl Default for OpenLimits {
    /// 3 answers per device per day, 30 per address per hour (a one-stop shop's shared
    /// Wi-Fi serves many citizens).
    fn default() -> Self {
        OpenLimits {
            per_device: 3,
            device_window: Duration::hours(24),
            per_address: 30,
            address_window: Duration::hours(1),
        }
    }
}

/// A new personal-link code.
pub fn new_code() -> String {
    new_enrolment_code()
}

/// A code as typed or read from a URL, in canonical form (`None`: cannot be a code).
pub fn normalise_code(typed: &str) -> Option<String> {
    let c = crate::auth::normalise_code(typed);
    (c.len() == CODE_LENGTH && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(c)
}

/// A new open-link token: 16 characters of the code alphabet (≈ 79 bits).
pub fn new_open_token() -> String {
    format!("{}{}", new_enrolment_code(), &new_enrolment_code()[..6])
}

/// Whether `s` can be an open-link token.
pub fn valid_open_token(s: &str) -> bool {
    s.len() == CODE_LENGTH + 6 && s.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

/// A new device token (base64url, 32 random bytes) and its stored hash.
pub fn new_device_token() -> (String, String) {
    let t = crate::auth::new_token();
    let h = secret_hash(&t);
    (t, h)
}

/// The key a client address is counted under (hash of the IPv4 address or the IPv6 /64;
/// `"-"` when unknown), never the address itself.
pub fn address_key(ip: Option<IpAddr>) -> String {
    let text = match ip {
        None => "-".to_owned(),
        Some(IpAddr::V4(a)) => a.to_string(),
        Some(IpAddr::V6(a)) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    };
    secret_hash(&format!("sipas-open-address:{text}"))
}

/// What the page sends: the answers with a client-made response id.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct PageAnswer {
    /// Response id made by the page (UUID); a resend uses the same.
    pub id: Uuid,
    /// When the first answer was given.
    pub started_at: DateTime<Utc>,
    /// When the respondent pressed "Gửi".
    pub completed_at: DateTime<Utc>,
    /// Answers keyed by item code.
    pub answers: Answers,
    /// Open links only: the device token the page was given.
    #[serde(default)]
    pub device_token: Option<String>,
    /// Open links only: the screening.
    #[serde(default)]
    pub screening: Option<Screening>,
}

/// The open link's short screening.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Screening {
    /// Procedure used (catalogue code).
    pub procedure_code: String,
    /// Day of the visit (`YYYY-MM-DD`).
    pub visit_date: NaiveDate,
}

/// Why a screening is refused (English, Vietnamese).
pub fn screening_problem(
    s: &Screening,
    known_procedure: bool,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    today: NaiveDate,
) -> Option<(&'static str, &'static str)> {
    if !known_procedure {
        return Some((
            "Choose the procedure you used from the list.",
            "Vui lòng chọn thủ tục bạn đã làm trong danh sách.",
        ));
    }
    if s.visit_date > today {
        return Some((
            "The date of the visit cannot be in the future.",
            "Ngày đến làm thủ tục không thể ở tương lai.",
        ));
    }
    // Visits shortly before the round started are surveyed too (one month).
    if s.visit_date < starts_on - Duration::days(31) || s.visit_date > ends_on {
        return Some((
            "This survey covers visits during the survey period only.",
            "Khảo sát này chỉ dành cho lượt làm thủ tục trong thời gian khảo sát.",
        ));
    }
    None
}

/// The response the server builds from a page's answer (revision 1, origin `sample`).
pub fn response_of(
    a: &PageAnswer,
    form: FormKey,
    round_id: &str,
    unit_code: &str,
    assignment_id: Option<Uuid>,
) -> Response {
    Response {
        id: a.id,
        revision: 1,
        form,
        assignment_id,
        round_id: round_id.to_owned(),
        unit_code: unit_code.to_owned(),
        answers: a.answers.clone(),
        started_at: a.started_at,
        completed_at: a.completed_at,
        paradata: Paradata::default(),
        origin: Origin::Sample,
    }
}

/// What the page is told about its answer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Receipt {
    /// `accepted` (stored now) or `duplicate` (already stored: the same receipt).
    pub status: &'static str,
    /// The response id.
    pub response_id: Uuid,
    /// Short receipt number to quote (first 8 characters of the id, upper case).
    pub receipt: String,
    /// Vietnamese message.
    pub message_vi: &'static str,
    /// English message.
    pub message_en: &'static str,
}

/// The page's outcome of an ingest acknowledgement: a receipt, or a refusal in plain words
/// (English, Vietnamese, reason code).
pub fn outcome(ack: &RecordAck) -> Result<Receipt, (&'static str, &'static str, String)> {
    let receipt = |status| Receipt {
        status,
        response_id: ack.id,
        receipt: ack.id.simple().to_string()[..8].to_uppercase(),
        message_vi: "Cảm ơn bạn! Câu trả lời đã được gửi.",
        message_en: "Thank you! Your answers have been sent.",
    };
    let code = ack
        .reason_code
        .map(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    match (ack.status, ack.reason_code) {
        (AckStatus::Accepted, _) => Ok(receipt("accepted")),
        (AckStatus::Duplicate, _) => Ok(receipt("duplicate")),
        (_, Some(AckReason::AssignmentHasResponse | AckReason::ContentDiffers)) => Err((
            "This questionnaire has already been answered. Thank you.",
            "Phiếu khảo sát này đã được trả lời. Cảm ơn bạn.",
            code,
        )),
        (_, Some(AckReason::RoundClosed)) => {
            Err(("The survey has ended.", "Đợt khảo sát đã kết thúc.", code))
        }
        (_, Some(AckReason::InvalidAnswers | AckReason::Clock)) => Err((
            "Some answers could not be accepted; check them and send again.",
            "Một số câu trả lời chưa hợp lệ; vui lòng kiểm tra và gửi lại.",
            code,
        )),
        _ => Err((
            "Your answers could not be accepted.",
            "Không thể nhận câu trả lời của bạn.",
            code,
        )),
    }
}

/// The text to paste into an SMS or Zalo message for a personal link.
pub fn sms_text(round_name: &str, url: &str, code: &str) -> String {
    format!(
        "SIPAS: Mời Ông/Bà tham gia khảo sát sự hài lòng \"{round_name}\". \
         Trả lời trên điện thoại tại {url} (mã {code}). Mỗi mã chỉ dùng một lần. \
         Không cần cài đặt ứng dụng. Xin cảm ơn!"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_canonical_and_tokens_distinct() {
        let c = new_code();
        assert_eq!(normalise_code(&c.to_lowercase()), Some(c.clone()));
        assert_eq!(normalise_code("0OIL1"), None);
        let t = new_open_token();
        assert!(valid_open_token(&t));
        assert!(!valid_open_token(&c));
        assert_ne!(new_device_token().0, new_device_token().0);
    }

    #[test]
    fn addresses_are_counted_per_ipv6_network_and_never_kept() {
        let a: IpAddr = "2001:db8:1:2::5".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::9".parse().unwrap();
        assert_eq!(address_key(Some(a)), address_key(Some(b)));
        assert!(!address_key(Some(a)).contains("2001"));
        assert_ne!(address_key(Some(a)), address_key(None));
    }

    #[test]
    fn screening_refuses_future_and_out_of_round_visits() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let s = |v: &str| Screening {
            procedure_code: "P".into(),
            visit_date: d(v),
        };
        let (start, end, today) = (d("2026-11-01"), d("2026-12-15"), d("2026-12-02"));
        assert!(screening_problem(&s("2026-11-20"), true, start, end, today).is_none());
        assert!(screening_problem(&s("2026-11-20"), false, start, end, today).is_some());
        assert!(screening_problem(&s("2026-12-03"), true, start, end, today).is_some());
        assert!(screening_problem(&s("2026-08-01"), true, start, end, today).is_some());
    }
}
