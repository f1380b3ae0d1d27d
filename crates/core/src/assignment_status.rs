//! Field outcome of an assignment (a sampled respondent to visit), shared by the device
//! store, the sync protocol and the server.
use serde::{Deserialize, Serialize};
use std::fmt;

/// Field outcome of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    /// Not visited yet.
    NotVisited,
    /// Paper form handed over for self-completion, to be collected later.
    FormDelivered,
    /// Questionnaire completed.
    Collected,
    /// Respondent not found at home.
    Absent,
    /// Respondent refused.
    Refused,
    /// Respondent moved away.
    Moved,
    /// Sample record is invalid (wrong address, not eligible, under 18 …).
    Invalid,
}

impl AssignmentStatus {
    /// Every status, in workflow order.
    pub const ALL: [AssignmentStatus; 7] = [
        AssignmentStatus::NotVisited,
        AssignmentStatus::FormDelivered,
        AssignmentStatus::Collected,
        AssignmentStatus::Absent,
        AssignmentStatus::Refused,
        AssignmentStatus::Moved,
        AssignmentStatus::Invalid,
    ];

    /// The outcome recorded when an interview ends because the respondent fails a screening
    /// rule of the questionnaire (e.g. under 18): `invalid`, whose meaning already covers "not
    /// eligible". One constant, so the app, its store and the server agree on it (and no new
    /// code has to cross the wire or the stored CHECK constraints).
    pub const INELIGIBLE: AssignmentStatus = AssignmentStatus::Invalid;

    /// The stored code, e.g. `not_visited`.
    pub fn as_str(self) -> &'static str {
        match self {
            AssignmentStatus::NotVisited => "not_visited",
            AssignmentStatus::FormDelivered => "form_delivered",
            AssignmentStatus::Collected => "collected",
            AssignmentStatus::Absent => "absent",
            AssignmentStatus::Refused => "refused",
            AssignmentStatus::Moved => "moved",
            AssignmentStatus::Invalid => "invalid",
        }
    }

    /// The status with this stored code.
    pub fn parse(code: &str) -> Option<AssignmentStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// Whether this is a non-response outcome (absent, refused, moved, invalid).
    pub fn is_non_response(self) -> bool {
        matches!(
            self,
            AssignmentStatus::Absent
                | AssignmentStatus::Refused
                | AssignmentStatus::Moved
                | AssignmentStatus::Invalid
        )
    }
}

impl fmt::Display for AssignmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_non_response_is_the_four_outcomes() {
        for st in AssignmentStatus::ALL {
            assert_eq!(AssignmentStatus::parse(st.as_str()), Some(st));
            assert_eq!(
                serde_json::to_value(st).unwrap(),
                serde_json::Value::from(st.as_str())
            );
        }
        assert_eq!(AssignmentStatus::parse("gone"), None);
        let n = AssignmentStatus::ALL
            .into_iter()
            .filter(|s| s.is_non_response())
            .count();
        assert_eq!(n, 4);
    }

    #[test]
    fn ineligible_is_a_non_response_outcome_known_on_the_wire() {
        let st = AssignmentStatus::INELIGIBLE;
        assert!(st.is_non_response());
        assert_eq!(AssignmentStatus::parse(st.as_str()), Some(st));
        assert_eq!(st.as_str(), "invalid");
    }
}
