//! JSON bodies of the HTTP API, shared by the server and the app's sync client.
use crate::roles::Role;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{Origin, Response};
use std::collections::BTreeMap;
use uuid::Uuid;

/// `POST /api/v1/enrol`: a device redeems a one-time code issued by a supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolRequest {
    /// The one-time code (as printed / read out by the supervisor).
    pub code: String,
    /// A name for the device, e.g. "Máy tính bảng BĐ Hoàn Kiếm 3".
    pub device_name: String,
    /// The device's Ed25519 public key (32 bytes, standard base64), with which it signs
    /// offline hand-over files (see [`crate::handover`]). Optional: a device without one
    /// cannot hand over files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// Answer to [`EnrolRequest`]: the device's bearer token (shown once, stored by the app).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// Device identifier.
    pub device_id: Uuid,
    /// Bearer token for every later call; the server keeps only its hash.
    pub token: String,
    /// Who the device acts for.
    pub user: UserInfo,
    /// The organisation's PIN-recovery public key (X25519, standard base64), when the server
    /// is configured with one (`--recovery-public-key`). The device seals its store key with
    /// it so that a forgotten PIN does not lose interviews (issue 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_public_key: Option<String>,
}

/// `POST /api/v1/login`: username + password (dashboard users).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Answer to [`LoginRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Bearer session token.
    pub token: String,
    /// The user.
    pub user: UserInfo,
}

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// User id.
    pub id: Uuid,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
}

/// `POST /api/v1/enrolment-codes` (supervisor): issue a one-time code for a user's device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentCodeRequest {
    /// The user (surveyor or monitor) the device will act for.
    pub user_id: Uuid,
    /// Minutes until the code expires (default 60).
    #[serde(default)]
    pub valid_minutes: Option<u32>,
}

/// Answer to [`EnrolmentCodeRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolmentCode {
    /// The one-time code.
    pub code: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The server's address as the issuing request reached it (e.g. `https://10.0.0.5:8443`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// SHA-256 (hex) of the server's self-signed certificate, to pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The enrolment payload the surveyor pastes into the app in one go:
    /// `sipas-enrol:1:<base64url JSON {server, code, cert_sha256}>` (see [`crate::enrol`]);
    /// present with `server_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// An SVG QR code of `payload`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

/// A survey round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Round identifier, e.g. `2026-HN-1`.
    pub id: String,
    /// Name shown.
    pub name: String,
    /// The questionnaire collected in this round.
    pub form: FormKey,
    /// First day of fieldwork.
    pub starts_on: NaiveDate,
    /// Last day of fieldwork.
    pub ends_on: NaiveDate,
    /// Whether interviews outside the sample are taken (absent: none, as before).
    #[serde(default)]
    pub outside_sample: OutsideSample,
}

/// A round's policy on interviews outside the sample. The cap counts both kinds together,
/// per unit; a voided response frees its place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideSample {
    /// Replacement of an absent or refusing sampled person from the reserve list.
    #[serde(default)]
    pub replacement: bool,
    /// Walk-ins at the one-stop shop (Bộ phận Một cửa).
    #[serde(default)]
    pub walk_in: bool,
    /// Most interviews outside the sample per unit (≥ 1 when either kind is allowed).
    #[serde(default)]
    pub cap_per_unit: u32,
}

impl OutsideSample {
    /// Whether a response of this origin may come without an assignment.
    pub fn allows(&self, origin: Origin) -> bool {
        match origin {
            Origin::Sample => false,
            Origin::Replacement => self.replacement,
            Origin::WalkIn => self.walk_in,
        }
    }

    /// Whether any interview outside the sample is taken.
    pub fn any(&self) -> bool {
        self.replacement || self.walk_in
    }

    /// Why the policy cannot be stored, if it cannot: a cap of 0 with a kind allowed.
    pub fn problem(&self) -> Option<&'static str> {
        (self.any() && self.cap_per_unit == 0).then_some(
            "cap_per_unit must be at least 1 when interviews outside the sample are allowed",
        )
    }
}

/// A unit of a round, by name, for choosing where an interview outside the sample is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundUnit {
    /// Administrative unit code (sent with the response, never typed by the surveyor).
    pub code: String,
    /// Name shown (from the sample frame's `unit_name`; the code when the frame has none).
    pub name: String,
}

/// A round open to interviews outside the sample, as the device receives it in the pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldRound {
    /// The round with its policy.
    #[serde(flatten)]
    pub round: Round,
    /// The round's units (those of its sample frame), by name.
    pub units: Vec<RoundUnit>,
}

/// Contact data of a sampled respondent. Personal data (Decree 13/2023/NĐ-CP): kept apart
/// from answers, sent only to the assigned surveyor's device, never logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Respondent's name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Phone number.
    #[serde(default)]
    pub phone: Option<String>,
}

pub use sipas_core::assignment_status::AssignmentStatus;

/// One sampled respondent assigned to a surveyor, as pulled by the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Assignment id.
    pub id: Uuid,
    /// Round.
    pub round_id: String,
    /// Questionnaire to use.
    pub form: FormKey,
    /// Administrative unit of the sampled respondent.
    pub unit_code: String,
    /// Administrative procedure the respondent went through (from the sample frame).
    pub procedure: String,
    /// Agency that handled it.
    #[serde(default)]
    pub agency: Option<String>,
    /// Contact data (only for the assigned surveyor).
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Current status.
    pub status: AssignmentStatus,
    // --- catalogue names and codes (issue 10, h-cat) ---
    /// Name of the administrative unit (from the unit catalogue), shown instead of the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    /// Agency code (agency catalogue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_code: Option<String>,
    /// Agency name (agency catalogue; same as `agency` when the code is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_name: Option<String>,
    /// Field code (lĩnh vực).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_code: Option<String>,
    /// Field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    /// Procedure code (procedure catalogue); `procedure` holds its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_code: Option<String>,
    /// Name of the round (shown instead of its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_name: Option<String>,
}

/// `POST /api/v1/responses/batch`: many responses in one request (body may be gzip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadBatch {
    /// The records.
    pub records: Vec<UploadRecord>,
}

/// One record of an upload: a response revision and the hash the device computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// The response.
    pub response: Response,
    /// [`Response::content_hash`] as computed by the device; the server recomputes and compares.
    pub content_hash: String,
}

/// Per-record outcome of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// Stored now.
    Accepted,
    /// Already stored earlier with the same content: nothing changed.
    Duplicate,
    /// Same id and revision already stored with different content: nothing changed.
    Conflict,
    /// Rejected: see `issues` / `reason`. Nothing stored.
    Invalid,
}

impl AckStatus {
    /// Whether the device may consider the record delivered (stored on the server).
    pub fn is_delivered(self) -> bool {
        matches!(self, AckStatus::Accepted | AckStatus::Duplicate)
    }
}

/// One invalid answer found by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerProblem {
    /// Item code.
    pub item_code: String,
    /// Kind of issue (snake_case, e.g. `out_of_range`).
    pub kind: String,
    /// Message in Vietnamese.
    pub message_vi: String,
    /// Message in English.
    pub message: String,
}

/// Acknowledgement of one uploaded record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordAck {
    /// Response id.
    pub id: Uuid,
    /// Revision.
    pub revision: u32,
    /// Outcome.
    pub status: AckStatus,
    /// Why, for conflict / invalid / a stale duplicate (English, for logs and developers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why, as a stable code the device turns into a message ([`AckReason::message_vi`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<AckReason>,
    /// For `invalid`: the id of the quarantine entry that keeps the refused record on the
    /// server (never counted; a supervisor accepts or dismisses it). Once a device sees it,
    /// the server has the record and the device need not resend it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_id: Option<Uuid>,
    /// Invalid answers, item by item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<AnswerProblem>,
}

/// Why a record was not simply accepted: the `reason_code` of a [`RecordAck`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckReason {
    // --- invalid (kept in quarantine, never counted) ---
    /// The record could not be read (not the shape of a response record).
    Malformed,
    /// The content hash does not match the canonical form of the response.
    HashMismatch,
    /// The revision is 0.
    BadRevision,
    /// The form version is unknown to the server.
    UnknownForm,
    /// One or more answers are invalid (see `issues`).
    InvalidAnswers,
    /// The response names no assignment and its round allows no interview outside the sample.
    NoAssignment,
    /// The assignment is not (or no longer) the surveyor's.
    NotYourAssignment,
    /// Round, unit or form differ from the assignment's.
    AssignmentMismatch,
    /// `completed_at` is implausible: over 24 h ahead of the server, before the round's start
    /// minus one day, or before `started_at`.
    Clock,
    /// An interview outside the sample in a unit that already has the round's cap of them.
    OutsideSampleCap,
    /// An interview outside the sample in a unit that is not one of the round's units.
    UnknownUnit,
    /// The round was closed by a supervisor: no more records are taken (kept in quarantine).
    RoundClosed,
    // --- conflict (nothing changed) ---
    /// This id and revision are stored with other content.
    ContentDiffers,
    /// The response id is bound to another round, assignment, surveyor or unit.
    BoundElsewhere,
    /// The assignment already has another (not voided) response.
    AssignmentHasResponse,
    /// The latest revision is approved: no new revision is taken.
    AlreadyApproved,
    /// The revision skips a number (only latest + 1 is taken).
    RevisionGap,
    /// The response was voided by a supervisor.
    Voided,
    // --- duplicate ---
    /// A lower revision than the one stored, arriving late: ignored, the newer one stays.
    Stale,
}

impl AckReason {
    /// Plain Vietnamese for the surveyor: what happened and what to do.
    pub fn message_vi(self) -> &'static str {
        match self {
            AckReason::Malformed => {
                "Máy chủ không đọc được phiếu này. Phiếu được giữ lại trên máy chủ để giám sát viên xem; hãy báo giám sát viên."
            }
            AckReason::HashMismatch => {
                "Nội dung phiếu bị thay đổi trên đường truyền. Phiếu được giữ lại trên máy chủ; hãy báo giám sát viên."
            }
            AckReason::BadRevision => "Số lần sửa của phiếu không hợp lệ. Hãy báo giám sát viên.",
            AckReason::UnknownForm => {
                "Máy chủ không có phiên bản bảng hỏi của phiếu này. Hãy báo giám sát viên."
            }
            AckReason::InvalidAnswers => {
                "Một số câu trả lời không hợp lệ. Hãy mở phiếu, sửa các câu được đánh dấu rồi gửi lại."
            }
            AckReason::NoAssignment => {
                "Đợt khảo sát này không nhận phiếu ngoài danh sách mẫu. Hãy báo giám sát viên."
            }
            AckReason::NotYourAssignment => {
                "Phiếu này đã được giao cho người khác. Phiếu được giữ lại trên máy chủ để giám sát viên xử lý."
            }
            AckReason::AssignmentMismatch => {
                "Đợt, đơn vị hoặc bảng hỏi của phiếu không khớp với phiếu được giao. Hãy báo giám sát viên."
            }
            AckReason::Clock => {
                "Thời gian hoàn thành phiếu không hợp lý (đồng hồ của máy có thể sai). Hãy kiểm tra ngày giờ của máy và báo giám sát viên."
            }
            AckReason::OutsideSampleCap => {
                "Đơn vị này đã đủ số phiếu ngoài danh sách mẫu cho phép trong đợt. Phiếu được giữ lại trên máy chủ; hãy báo giám sát viên."
            }
            AckReason::UnknownUnit => {
                "Đơn vị của phiếu không thuộc đợt khảo sát này. Phiếu được giữ lại trên máy chủ; hãy báo giám sát viên."
            }
            AckReason::RoundClosed => {
                "Đợt khảo sát đã đóng, máy chủ không nhận thêm phiếu. Phiếu được giữ lại trên máy chủ; hãy báo giám sát viên."
            }
            AckReason::ContentDiffers => {
                "Máy chủ đã có lần gửi này với nội dung khác. Hãy báo giám sát viên."
            }
            AckReason::BoundElsewhere => {
                "Mã phiếu này đã thuộc về một cuộc phỏng vấn khác. Hãy báo giám sát viên."
            }
            AckReason::AssignmentHasResponse => {
                "Người được chọn mẫu này đã có một phiếu trên máy chủ. Chỉ giám sát viên mới có thể hủy phiếu cũ để phỏng vấn lại."
            }
            AckReason::AlreadyApproved => "Phiếu đã được duyệt nên không thể sửa nữa.",
            AckReason::RevisionGap => {
                "Máy chủ chưa nhận lần sửa trước của phiếu này. Hãy đồng bộ lại."
            }
            AckReason::Voided => "Giám sát viên đã hủy phiếu này.",
            AckReason::Stale => "Máy chủ đã có bản mới hơn của phiếu này.",
        }
    }

    /// The same in English.
    pub fn message_en(self) -> &'static str {
        match self {
            AckReason::Malformed => {
                "The server could not read this record. It is kept on the server for a supervisor; tell your supervisor."
            }
            AckReason::HashMismatch => {
                "The record changed in transit (content hash mismatch). It is kept on the server; tell your supervisor."
            }
            AckReason::BadRevision => {
                "The record's revision number is not valid. Tell your supervisor."
            }
            AckReason::UnknownForm => {
                "The server does not have this record's questionnaire version. Tell your supervisor."
            }
            AckReason::InvalidAnswers => {
                "Some answers are not valid. Open the record, fix the marked questions and send it again."
            }
            AckReason::NoAssignment => {
                "This round takes no interviews outside the sample. Tell your supervisor."
            }
            AckReason::NotYourAssignment => {
                "This interview was given to someone else. The record is kept on the server for a supervisor."
            }
            AckReason::AssignmentMismatch => {
                "The record's round, unit or questionnaire differ from its assignment. Tell your supervisor."
            }
            AckReason::Clock => {
                "The completion time is implausible (the device clock may be wrong). Check the device's date and time and tell your supervisor."
            }
            AckReason::OutsideSampleCap => {
                "This unit already has as many interviews outside the sample as the round allows. The record is kept on the server; tell your supervisor."
            }
            AckReason::UnknownUnit => {
                "The record's unit is not one of this round's units. The record is kept on the server; tell your supervisor."
            }
            AckReason::RoundClosed => {
                "The round is closed: the server takes no more records. The record is kept on the server; tell your supervisor."
            }
            AckReason::ContentDiffers => {
                "The server already has this revision with other content. Tell your supervisor."
            }
            AckReason::BoundElsewhere => {
                "This record id already belongs to another interview. Tell your supervisor."
            }
            AckReason::AssignmentHasResponse => {
                "This sampled person already has a record on the server. Only a supervisor can void it to allow a re-interview."
            }
            AckReason::AlreadyApproved => "The record is approved and can no longer be changed.",
            AckReason::RevisionGap => {
                "The server has not received the previous revision of this record. Sync again."
            }
            AckReason::Voided => "A supervisor voided this record.",
            AckReason::Stale => "The server already has a newer revision of this record.",
        }
    }
}

/// Answer to [`UploadBatch`]: one ack per record, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResult {
    /// The acknowledgements.
    pub acks: Vec<RecordAck>,
}

/// A supervisor's review decision on one response revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Approved: counts in the index.
    Approved,
    /// Returned to the surveyor for correction (a new revision).
    Rejected,
}

/// A review decision as pulled by the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// Response id.
    pub response_id: Uuid,
    /// Revision decided on.
    pub revision: u32,
    /// Decision.
    pub decision: Decision,
    /// General comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Per-question comments keyed by item code.
    #[serde(default)]
    pub item_comments: BTreeMap<String, String>,
    /// When decided.
    pub decided_at: DateTime<Utc>,
}

/// `GET /api/v1/pull?cursor=N`: everything for this device since the cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Assignments created or changed since the cursor.
    pub assignments: Vec<Assignment>,
    /// Review decisions since the cursor.
    pub decisions: Vec<ReviewDecision>,
    /// Assignments taken away from this surveyor since the cursor (moved to someone else):
    /// the device deletes their contacts and shows them as withdrawn (drafts kept, read-only).
    #[serde(default)]
    pub withdrawn: Vec<Uuid>,
    /// Every round (not yet ended) that takes interviews outside the sample, with its units:
    /// the whole list each time (not since the cursor); the device replaces what it had.
    #[serde(default)]
    pub rounds: Vec<FieldRound>,
    /// Cursor to send next time.
    pub cursor: i64,
}

// --- spot checks (phúc tra) ------------------------------------------------------------------

pub use sipas_core::answer::Answers;
pub use sipas_core::questionnaire::{ChoiceOption, ItemType, Scale};

/// State of a spot-check task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Waiting for the monitor's visit.
    Open,
    /// Findings submitted (final).
    Done,
}

/// A key item a monitor re-asks, with what is needed to render and check the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyItem {
    /// Item code (answers are keyed by it).
    pub code: String,
    /// Question text in Vietnamese.
    pub label_vi: String,
    /// Answer type.
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// Options of choice items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// Scale of rating items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Scale>,
    /// Lower bound of integer items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Upper bound of integer items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Longest text answer, characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

/// `GET /api/v1/monitor/tasks`: one re-check visit of the calling monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorTask {
    /// Task id.
    pub task_id: Uuid,
    /// Response re-checked.
    pub response_id: Uuid,
    /// Round.
    pub round_id: String,
    /// Administrative unit code.
    pub unit_code: String,
    /// The round's name (issue 13: names shown, codes secondary).
    #[serde(default)]
    pub round_name: Option<String>,
    /// The unit's name.
    #[serde(default)]
    pub unit_name: Option<String>,
    /// Administrative procedure the respondent used (from the sample frame).
    #[serde(default)]
    pub procedure: Option<String>,
    /// Items to re-ask, in form order: only those that were relevant to the respondent
    /// ([`sipas_core::recheck::relevant_key_items`]). Never the original answers (blind
    /// re-check).
    pub key_items: Vec<KeyItem>,
    /// Whom to visit. Personal data: only for the assigned monitor, only while the task is
    /// open (`null` once done), never logged.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Open or done.
    pub state: TaskState,
}

/// `POST /api/v1/monitor/tasks/{task_id}/result`: what the monitor found. Final once stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotCheckFindings {
    /// Whether the monitor met the respondent.
    pub visit_happened: bool,
    /// Answers to the key items, keyed by item code (ignored when the visit did not happen).
    #[serde(default)]
    pub answers: Answers,
    /// Free-text note.
    #[serde(default)]
    pub note: Option<String>,
}
