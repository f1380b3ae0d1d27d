//! Server-side stateless checks of uploaded records before storage: per-record decoding,
//! content hash, revision, form version, clock against the server and answers. Each failure
//! becomes an `invalid` acknowledgement whose record is kept in quarantine.
use crate::forms::FormRegistry;
use crate::ingest::{CLOCK_AHEAD, Checked, Refusal};
use chrono::{DateTime, Utc};
use sipas_core::answer_validation::{AnswerIssue, compute_calculations, validate_response_on};
use sipas_core::response::Response;
use sipas_protocol::wire::{AckReason, AnswerProblem, UploadRecord};
use uuid::Uuid;

/// The reason of a record whose `content_hash` is not the server's: it names the rule, so a
/// client author knows what to compute (API.md, "Canonical form and content hash").
pub const CONTENT_HASH_MISMATCH: &str = "content hash mismatch: expected SHA-256 of the RFC 8785 \
     canonical form, see API.md \"Canonical form and content hash\"";

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

/// One record as received: decoded, or not readable, with its JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The record, or why it could not be decoded (a [`AckReason::Malformed`] refusal).
    pub record: Result<UploadRecord, Refusal>,
    /// The record's JSON text as received (kept in quarantine if refused).
    pub json: String,
}

impl Incoming {
    /// Decodes one record of a batch on its own: a record that is not the shape of an
    /// [`UploadRecord`] is refused alone (`malformed`), with its id and revision if readable.
    pub fn decode(json: &str) -> Self {
        let record = serde_json::from_str::<UploadRecord>(json).map_err(|e| {
            let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
            let r = &v["response"];
            Refusal {
                id: r["id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .unwrap_or(Uuid::nil()),
                revision: r["revision"]
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                reason: AckReason::Malformed,
                detail: format!("the record is not a response record: {e}"),
                issues: Vec::new(),
                record_json: json.to_owned(),
                round_id: r["round_id"].as_str().map(str::to_owned),
                unit_code: r["unit_code"].as_str().map(str::to_owned),
                assignment_id: r["assignment_id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok()),
            }
        });
        Incoming {
            record,
            json: json.to_owned(),
        }
    }

    /// A record that arrived already decoded (a verified hand-over file).
    pub fn decoded(record: UploadRecord) -> Self {
        let json = serde_json::to_string(&record).unwrap_or_default();
        Incoming {
            record: Ok(record),
            json,
        }
    }
}

/// The stateless checks of one record at the server's `now`: content hash, revision, form
/// version, clock (`completed_at` before `started_at`, or more than [`CLOCK_AHEAD`] after
/// `now`) and answers. What needs stored state (assignment, binding, revisions, the
/// round's start) is decided by [`crate::ingest::plan`].
pub fn check(forms: &FormRegistry, incoming: Incoming, now: DateTime<Utc>) -> Checked {
    let mut record = match incoming.record {
        Ok(record) => record,
        Err(refusal) => return Checked::Refused(refusal),
    };
    let r: &Response = &record.response;
    let refuse = |reason: AckReason, detail: String, issues: Vec<AnswerProblem>| {
        Checked::Refused(Refusal {
            id: r.id,
            revision: r.revision,
            reason,
            detail,
            issues,
            record_json: incoming.json.clone(),
            round_id: Some(r.round_id.clone()),
            unit_code: Some(r.unit_code.clone()),
            assignment_id: r.assignment_id,
        })
    };
    let hash = record.content_hash.to_ascii_lowercase();
    if r.content_hash() != hash {
        return refuse(
            AckReason::HashMismatch,
            CONTENT_HASH_MISMATCH.into(),
            Vec::new(),
        );
    }
    if r.revision == 0 {
        return refuse(
            AckReason::BadRevision,
            "revision must be 1 or more".into(),
            Vec::new(),
        );
    }
    let Some(form) = forms.get(&r.form) else {
        return refuse(
            AckReason::UnknownForm,
            format!("unknown form version {}", r.form),
            Vec::new(),
        );
    };
    if r.completed_at < r.started_at {
        return refuse(
            AckReason::Clock,
            "completed_at is before started_at".into(),
            Vec::new(),
        );
    }
    if r.completed_at > now + CLOCK_AHEAD {
        return refuse(
            AckReason::Clock,
            format!(
                "completed_at {} is more than 24 hours after the server's clock",
                r.completed_at.to_rfc3339()
            ),
            Vec::new(),
        );
    }
    // `today()` in expressions is the date of `started_at`, on the device and here alike.
    let today = sipas_core::expr::today_of(r.started_at);
    if let Err(issues) = validate_response_on(&form, &r.answers, Some(&today)) {
        return refuse(
            AckReason::InvalidAnswers,
            format!("{} invalid answer(s)", issues.len()),
            issues.iter().map(answer_problem).collect(),
        );
    }
    // The server stores its own calculations: an uploaded value that differs (an older app)
    // is replaced, not refused. The content hash stays the uploaded record's identity.
    let answers = compute_calculations(&form, &record.response.answers, Some(&today));
    record.response.answers = answers;
    Checked::Valid {
        hash,
        response: record.response,
    }
}
