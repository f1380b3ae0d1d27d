//! Small value conversions shared by both backends.
use sipas_protocol::wire::Decision;
use uuid::Uuid;

/// Stored name of a review decision.
pub(crate) fn decision_str(d: Decision) -> &'static str {
    match d {
        Decision::Approved => "approved",
        Decision::Rejected => "rejected",
    }
}

/// Parses a stored review decision name.
pub(crate) fn decision_parse(s: &str) -> Option<Decision> {
    match s {
        "approved" => Some(Decision::Approved),
        "rejected" => Some(Decision::Rejected),
        _ => None,
    }
}

/// Entity id of a response revision in audit entries: `<uuid>/<revision>`.
pub(crate) fn revision_entity(id: Uuid, revision: u32) -> String {
    format!("{id}/{revision}")
}
