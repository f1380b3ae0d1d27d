//! Answer values as stored in a response: keyed by item code.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One answer. JSON: an integer (integer / rating items), a string (single choice code,
/// text, date `YYYY-MM-DD`) or an array of strings (multi choice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    /// Integer or rating value.
    Int(i64),
    /// Choice code, text or date.
    Text(String),
    /// Multi-choice codes.
    Codes(Vec<String>),
}

/// All answers of one response, keyed by item code (sorted, so serialisation is canonical).
pub type Answers = BTreeMap<String, AnswerValue>;

impl AnswerValue {
    /// The integer, if this is an integer answer.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            AnswerValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The string, if this is a text / code answer.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            AnswerValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value matches a JSON value used in a condition (`equals` / `in`).
    /// For multi-choice answers, true when any chosen code equals `v`.
    pub fn matches_json(&self, v: &serde_json::Value) -> bool {
        match (self, v) {
            (AnswerValue::Int(a), serde_json::Value::Number(n)) => n.as_i64() == Some(*a),
            (AnswerValue::Text(a), serde_json::Value::String(s)) => a == s,
            (AnswerValue::Codes(cs), serde_json::Value::String(s)) => cs.iter().any(|c| c == s),
            _ => false,
        }
    }
}
