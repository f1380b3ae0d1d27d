//! Server-side checks of uploaded records before storage: content hash, form version,
//! assignment ownership and answers. Each failure becomes an `invalid` acknowledgement.
use crate::forms::FormRegistry;
use sipas_core::answer_validation::{AnswerIssue, validate_response};
use sipas_core::response::Response;
use sipas_protocol::wire::{AnswerProblem, Assignment, UploadRecord};
use uuid::Uuid;

/// The reason of a record whose `content_hash` is not the server's: it names the rule, so a
/// client author knows what to compute (API.md, "Canonical form and content hash").
pub const CONTENT_HASH_MISMATCH: &str = "content hash mismatch: expected SHA-256 of the RFC 8785 \
     canonical form, see API.md \"Canonical form and content hash\"";

/// Why a record is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Reason (English, short).
    pub reason: String,
    /// Invalid answers, item by item (empty unless the answers are the reason).
    pub issues: Vec<AnswerProblem>,
}

impl Rejection {
    fn reason(reason: impl Into<String>) -> Self {
        Rejection {
            reason: reason.into(),
            issues: Vec::new(),
        }
    }
}

/// An answer issue in wire form.
pub fn answer_problem(issue: &AnswerIssue) -> AnswerProblem {
    let kind = serde_json::to_value(issue.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{:?}", issue.kind));
    AnswerProblem {
        item_code: issue.item_code.clone(),
        kind,
        message_vi: issue.message.vi.clone(),
        message: issue.message.text("en").to_owned(),
    }
}

/// Checks one record of `surveyor`. `assignment` is the stored assignment named by the
/// response (with its surveyor), if any.
pub fn check_record(
    forms: &FormRegistry,
    record: &UploadRecord,
    surveyor: Uuid,
    assignment: Option<&(Assignment, Option<Uuid>)>,
) -> Result<(), Rejection> {
    let r: &Response = &record.response;
    if r.content_hash() != record.content_hash.to_ascii_lowercase() {
        return Err(Rejection::reason(CONTENT_HASH_MISMATCH));
    }
    if r.revision == 0 {
        return Err(Rejection::reason("revision must be 1 or more"));
    }
    let Some(form) = forms.get(&r.form) else {
        return Err(Rejection::reason(format!(
            "unknown form version {}",
            r.form
        )));
    };
    if r.assignment_id.is_none() {
        return Err(Rejection::reason("response names no assignment"));
    }
    let Some((assignment, owner)) = assignment else {
        return Err(Rejection::reason("not your assignment"));
    };
    if *owner != Some(surveyor) {
        return Err(Rejection::reason("not your assignment"));
    }
    if assignment.round_id != r.round_id {
        return Err(Rejection::reason(
            "round does not match the assignment's round",
        ));
    }
    if assignment.form != r.form {
        return Err(Rejection::reason(format!(
            "form {} is not the round's form {}",
            r.form, assignment.form
        )));
    }
    if assignment.unit_code != r.unit_code {
        return Err(Rejection::reason(
            "unit code does not match the assignment's unit",
        ));
    }
    if r.completed_at < r.started_at {
        return Err(Rejection::reason("completed_at is before started_at"));
    }
    validate_response(&form, &r.answers).map_err(|issues| Rejection {
        reason: format!("{} invalid answer(s)", issues.len()),
        issues: issues.iter().map(answer_problem).collect(),
    })
}
