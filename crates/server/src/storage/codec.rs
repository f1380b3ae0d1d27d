//! Small value conversions shared by both backends.
use sipas_protocol::wire::{AckReason, Decision};

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

pub(crate) use crate::ingest::revision_entity;

/// Stored name of an ack reason code (its wire name, e.g. `not_your_assignment`).
pub(crate) fn reason_code_str(r: AckReason) -> String {
    match serde_json::to_value(r) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{r:?}"),
    }
}

/// Parses a stored ack reason code.
pub(crate) fn reason_code_parse(s: &str) -> Option<AckReason> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}
