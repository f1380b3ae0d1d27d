//! The response record: one completed questionnaire, identified by a UUIDv7 and a revision.
use crate::answer::Answers;
use crate::canonical;
use crate::questionnaire::FormKey;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
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
}

impl Response {
    /// The canonical JSON value of this revision (API.md, "Canonical form and content hash"):
    /// every field of the model written out (an absent `assignment_id` or `paradata.gps` as
    /// `null`) and both timestamps in the [`canonical::timestamp`] form. [`canonical::jcs`] of
    /// it gives the bytes that are hashed and signed.
    pub fn canonical_value(&self) -> serde_json::Value {
        serde_json::to_value(CanonicalResponse::of(self)).expect("a Response always serialises")
    }

    /// The canonical bytes of this revision: RFC 8785 JCS of [`Response::canonical_value`].
    pub fn canonical_json(&self) -> Vec<u8> {
        canonical::jcs(&self.canonical_value())
    }

    /// Lowercase hex SHA-256 of [`Response::canonical_json`]: what identifies the content of
    /// this revision (form, round, unit, assignment, answers, timestamps, paradata). Two records
    /// with the same id and revision but different hashes are a conflict, never an overwrite.
    pub fn content_hash(&self) -> String {
        canonical::sha256_hex(&self.canonical_json())
    }

    /// The hash rule of versions before the canonical form: SHA-256 of `serde_json`'s
    /// serialisation of the record (declaration order, absent options left out). Only for
    /// recognising hashes that older app versions stored or exported; never for new records.
    pub fn legacy_content_hash(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a Response always serialises");
        canonical::sha256_hex(&bytes)
    }
}

/// The response with every field present and canonical timestamps, for [`canonical::jcs`].
/// Keep in step with [`Response`] (a test compares their field names).
#[derive(Serialize)]
struct CanonicalResponse<'a> {
    id: &'a Uuid,
    revision: u32,
    form: &'a FormKey,
    assignment_id: Option<&'a Uuid>,
    round_id: &'a str,
    unit_code: &'a str,
    answers: &'a Answers,
    started_at: String,
    completed_at: String,
    paradata: CanonicalParadata<'a>,
}

/// [`Paradata`] with every field present.
#[derive(Serialize)]
struct CanonicalParadata<'a> {
    item_ms: &'a BTreeMap<String, u64>,
    gps: Option<&'a GpsFix>,
}

impl<'a> CanonicalResponse<'a> {
    fn of(r: &'a Response) -> Self {
        CanonicalResponse {
            id: &r.id,
            revision: r.revision,
            form: &r.form,
            assignment_id: r.assignment_id.as_ref(),
            round_id: &r.round_id,
            unit_code: &r.unit_code,
            answers: &r.answers,
            started_at: canonical::timestamp(&r.started_at),
            completed_at: canonical::timestamp(&r.completed_at),
            paradata: CanonicalParadata {
                item_ms: &r.paradata.item_ms,
                gps: r.paradata.gps.as_ref(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::AnswerValue;
    use sha2::Digest;

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
    /// The canonical value names exactly the model's fields (so a new field cannot be left out
    /// of the hash unnoticed) and writes absent options as `null`.
    #[test]
    fn canonical_value_has_every_field_of_the_model() {
        let mut full = sample();
        full.assignment_id = Some(new_id());
        full.paradata.gps = Some(GpsFix {
            lat: 21.0285,
            lon: 105.8542,
            accuracy_m: 12.5,
        });
        full.paradata.item_ms.insert("C1_1".into(), 1500);
        let keys = |v: &serde_json::Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let model = serde_json::to_value(&full).unwrap();
        let canon = full.canonical_value();
        assert_eq!(keys(&canon), keys(&model));
        for part in ["form", "paradata"] {
            assert_eq!(keys(&canon[part]), keys(&model[part]), "{part}");
        }
        let bare = sample().canonical_value();
        assert_eq!(keys(&bare), keys(&model));
        assert_eq!(bare["assignment_id"], serde_json::Value::Null);
        assert_eq!(
            bare["paradata"],
            serde_json::json!({"item_ms": {}, "gps": null})
        );
        assert_eq!(
            String::from_utf8(full.canonical_json())
                .unwrap()
                .matches("\"gps\":{\"accuracy_m\":12.5,\"lat\":21.0285,\"lon\":105.8542}")
                .count(),
            1
        );
    }

    #[test]
    fn legacy_hash_is_the_old_serialisation() {
        let r = sample();
        assert_eq!(
            r.legacy_content_hash(),
            hex::encode(sha2::Sha256::digest(serde_json::to_vec(&r).unwrap()))
        );
        assert_ne!(r.legacy_content_hash(), r.content_hash());
    }
}
