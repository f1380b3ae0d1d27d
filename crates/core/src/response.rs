//! The response record: one completed questionnaire, identified by a UUIDv7 and a revision.
use crate::answer::Answers;
use crate::questionnaire::FormKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A new time-ordered identifier (UUIDv7) for responses, assignments and devices.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Per-question timing and location paradata recorded by the app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Paradata {
    /// Milliseconds spent on each item, keyed by item code.
    #[serde(default)]
    pub item_ms: BTreeMap<String, u64>,
    /// Optional GPS fix (latitude, longitude, accuracy in metres).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gps: Option<GpsFix>,
}

/// Where the respondent of a response comes from. Outside the sample (`replacement`,
/// `walk_in`) only in a round that allows it; the server then creates the assignment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A sampled respondent (an assignment from the sample frame).
    #[default]
    Sample,
    /// Replaces an absent or refusing sampled person, taken from the reserve list.
    Replacement,
    /// A walk-in at the one-stop shop (Bộ phận Một cửa).
    WalkIn,
}

impl Origin {
    /// Whether this is the default (a sampled respondent): then the field is not written,
    /// so content hashes of responses without it stay valid.
    pub fn is_sample(&self) -> bool {
        *self == Origin::Sample
    }

    /// Whether the respondent is outside the sample.
    pub fn is_outside_sample(self) -> bool {
        !self.is_sample()
    }

    /// The code as written in JSON and in the databases.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Sample => "sample",
            Origin::Replacement => "replacement",
            Origin::WalkIn => "walk_in",
        }
    }

    /// Parses [`Origin::as_str`].
    pub fn from_code(code: &str) -> Option<Origin> {
        match code {
            "sample" => Some(Origin::Sample),
            "replacement" => Some(Origin::Replacement),
            "walk_in" => Some(Origin::WalkIn),
            _ => None,
        }
    }
}

/// A GPS fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// Accuracy radius in metres.
    pub accuracy_m: f64,
}

/// One completed response at one revision. Revisions start at 1; a supervisor's rejection
/// sends it back and the surveyor's edit becomes revision 2, and so on. Personal contact data
/// is never part of a response (it lives with the assignment, apart from answers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// UUIDv7 of the response (stable across revisions).
    pub id: Uuid,
    /// Revision number, from 1.
    pub revision: u32,
    /// The form and version the answers were collected with.
    pub form: FormKey,
    /// Assignment (sampled respondent) this response belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_id: Option<Uuid>,
    /// Survey round, e.g. `2026-HN-1`.
    pub round_id: String,
    /// Administrative unit code of the respondent's sample unit.
    pub unit_code: String,
    /// Answers keyed by item code.
    pub answers: Answers,
    /// When the first answer was given.
    pub started_at: DateTime<Utc>,
    /// When the surveyor submitted.
    pub completed_at: DateTime<Utc>,
    /// Timing / GPS paradata.
    #[serde(default)]
    pub paradata: Paradata,
    /// Where the respondent comes from; `sample` (the default) is not written, so hashes of
    /// responses from before this field are unchanged.
    #[serde(default, skip_serializing_if = "Origin::is_sample")]
    pub origin: Origin,
}

impl Response {
    /// Hex SHA-256 of the canonical JSON of everything that identifies the content of this
    /// revision (form, round, unit, assignment, answers, timestamps, paradata). Two records with
    /// the same id and revision but different hashes are a conflict, never an overwrite.
    pub fn content_hash(&self) -> String {
        // serde_json writes struct fields in declaration order and BTreeMaps sorted,
        // so this serialisation is canonical for a given value.
        let bytes = serde_json::to_vec(self).expect("a Response always serialises");
        hex::encode(Sha256::digest(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::AnswerValue;

    fn sample() -> Response {
        let t = DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Response {
            id: new_id(),
            revision: 1,
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            assignment_id: None,
            round_id: "R1".into(),
            unit_code: "00004".into(),
            answers: [("C1_1".to_string(), AnswerValue::Int(4))].into(),
            started_at: t,
            completed_at: t,
            paradata: Paradata::default(),
            origin: Origin::Sample,
        }
    }

    #[test]
    fn ids_are_v7_and_time_ordered() {
        let a = new_id();
        let b = new_id();
        assert_eq!(a.get_version_num(), 7);
        assert!(a < b);
    }

    #[test]
    fn hash_changes_with_content_and_round_trips_json() {
        let r = sample();
        let json = serde_json::to_string(&r).unwrap();
        let back: Response = serde_json::from_str(&json).unwrap();
        assert_eq!(back.content_hash(), r.content_hash());
        let mut changed = r.clone();
        changed.answers.insert("C1_1".into(), AnswerValue::Int(5));
        assert_ne!(changed.content_hash(), r.content_hash());
        assert_eq!(r.content_hash().len(), 64);
    }

    #[test]
    fn origin_sample_is_not_written_and_others_change_the_hash() {
        let r = sample();
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("origin"), "{json}");
        let mut walk_in = r.clone();
        walk_in.origin = Origin::WalkIn;
        let json = serde_json::to_string(&walk_in).unwrap();
        assert!(json.contains(r#""origin":"walk_in""#), "{json}");
        assert_ne!(walk_in.content_hash(), r.content_hash());
        let back: Response = serde_json::from_str(&json).unwrap();
        assert_eq!(back.origin, Origin::WalkIn);
    }
}
