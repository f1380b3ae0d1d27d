//! The response record: one completed questionnaire, identified by a UUIDv7 and a revision.
use crate::answer::{AnswerValue, Answers};
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
    /// The canonical JSON value of this revision (API.md, "Canonical form and content hash"):
    /// every field of the model written out (an absent `assignment_id` or `paradata.gps` as
    /// `null`) and both timestamps in the [`canonical::timestamp`] form. [`canonical::jcs`] of
    /// it gives the bytes that are hashed and signed.
    pub fn canonical_value(&self) -> serde_json::Value {
        serde_json::to_value(CanonicalResponse::of(self)).expect("a Response always serialises")
    }

    /// The canonical bytes of this revision: RFC 8785 JCS of [`Response::canonical_value`].
    pub fn canonical_json(&self) -> Vec<u8> {
        let c = CanonicalResponse::of(self);
        if c.serde_json_is_jcs() {
            // Fast path (no `Value` tree, no sorting): the same bytes, see `serde_json_is_jcs`.
            serde_json::to_vec(&c).expect("a Response always serialises")
        } else {
            canonical::jcs(&self.canonical_value())
        }
    }

    /// Lowercase hex SHA-256 of [`Response::canonical_json`]: what identifies the content of
    /// this revision (form, round, unit, assignment, answers, timestamps, paradata). Two records
    /// with the same id and revision but different hashes are a conflict, never an overwrite.
    pub fn content_hash(&self) -> String {
        canonical::sha256_hex(&self.canonical_json())
    }

    /// Whether a hash kept from earlier (`stored`, any case) names this content: the current
    /// [`Response::content_hash`], or the [`Response::legacy_content_hash`] that versions
    /// before the canonical form stored. For comparing with stored rows, never for checking
    /// what a client sends.
    pub fn has_content_hash(&self, stored: &str) -> bool {
        stored.eq_ignore_ascii_case(&self.content_hash())
            || stored.eq_ignore_ascii_case(&self.legacy_content_hash())
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
/// Keep in step with [`Response`] (a test compares their field names). Fields are declared in
/// JCS order (sorted by name), so that `serde_json` writes them in canonical order.
#[derive(Serialize)]
struct CanonicalResponse<'a> {
    answers: &'a Answers,
    assignment_id: Option<&'a Uuid>,
    completed_at: String,
    form: &'a FormKey,
    id: &'a Uuid,
    /// Written only when not `sample` (the default), as in the model, so that hashes of
    /// responses from before the field are unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<Origin>,
    paradata: CanonicalParadata<'a>,
    revision: u32,
    round_id: &'a str,
    started_at: String,
    unit_code: &'a str,
}

/// [`Paradata`] with every field present, fields in JCS order.
#[derive(Serialize)]
struct CanonicalParadata<'a> {
    gps: Option<CanonicalGps>,
    item_ms: &'a BTreeMap<String, u64>,
}

/// [`GpsFix`], fields in JCS order.
#[derive(Serialize)]
struct CanonicalGps {
    accuracy_m: f64,
    lat: f64,
    lon: f64,
}

/// Whether `serde_json` and JCS write this map key in the same place: byte order and UTF-16
/// order of keys differ only for characters beyond U+FFFF (4-byte UTF-8 sequences).
fn key_sorts_alike(k: &str) -> bool {
    !k.bytes().any(|b| b >= 0xF0)
}

/// Integers up to 2^53 are written alike by `serde_json` and JCS.
fn int_alike(i: i64) -> bool {
    i.unsigned_abs() <= 1 << 53
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
            origin: (!r.origin.is_sample()).then_some(r.origin),
            answers: &r.answers,
            started_at: canonical::timestamp(&r.started_at),
            completed_at: canonical::timestamp(&r.completed_at),
            paradata: CanonicalParadata {
                item_ms: &r.paradata.item_ms,
                gps: r.paradata.gps.map(|g| CanonicalGps {
                    accuracy_m: g.accuracy_m,
                    lat: g.lat,
                    lon: g.lon,
                }),
            },
        }
    }

    /// Whether `serde_json::to_vec` of this value is already its JCS form. Its fields are
    /// declared in sorted order, `FormKey` (`form_id`, `version`) and `CanonicalGps` are too,
    /// maps are `BTreeMap`s (sorted by UTF-8 bytes), and `serde_json`
    /// escapes strings exactly as RFC 8785 does. What can still differ: map keys beyond U+FFFF
    /// (sorted otherwise by UTF-16), integers beyond 2^53 and the text of floats (GPS).
    fn serde_json_is_jcs(&self) -> bool {
        let answers_ok = self.answers.iter().all(|(k, v)| {
            key_sorts_alike(k)
                && match v {
                    AnswerValue::Int(i) => int_alike(*i),
                    AnswerValue::Text(_) | AnswerValue::Codes(_) => true,
                }
        });
        let item_ms_ok = self
            .paradata
            .item_ms
            .iter()
            .all(|(k, v)| key_sorts_alike(k) && *v <= 1 << 53);
        let gps_ok = self.paradata.gps.as_ref().is_none_or(|g| {
            [g.accuracy_m, g.lat, g.lon].iter().all(|f| {
                serde_json::to_string(f).is_ok_and(|t| t == canonical::ecmascript_number(*f))
            })
        });
        answers_ok && item_ms_ok && gps_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;
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

    /// The fast path gives exactly the JCS bytes of the canonical value, and the slow path
    /// takes over where they would differ.
    #[test]
    fn fast_path_equals_jcs_of_the_canonical_value() {
        let slow = |r: &Response| canonical::jcs(&r.canonical_value());
        let mut r = sample();
        r.answers.insert(
            "B1".into(),
            AnswerValue::Text("Cấp \"căn\" cước\n\u{1f}\u{7f}\u{2028}".into()),
        );
        r.answers.insert(
            "E1".into(),
            AnswerValue::Codes(vec!["b".into(), "a".into()]),
        );
        r.paradata.item_ms.insert("C1_1".into(), 1500);
        assert!(CanonicalResponse::of(&r).serde_json_is_jcs());
        assert_eq!(r.canonical_json(), slow(&r));
        for gps in [
            (21.0285, 105.8542, 12.5),
            (1e21, 1e-7, 0.1),
            (21.0, 105.0, 5.0),
        ] {
            r.paradata.gps = Some(GpsFix {
                lat: gps.0,
                lon: gps.1,
                accuracy_m: gps.2,
            });
            assert_eq!(r.canonical_json(), slow(&r), "{gps:?}");
        }
        // 21.0 is "21.0" for serde_json and "21" for JCS: the slow path is taken.
        assert!(!CanonicalResponse::of(&r).serde_json_is_jcs());
        r.paradata.gps = None;
        // Keys beyond U+FFFF sort differently by UTF-8 bytes and by UTF-16 code units.
        r.answers.insert("\u{1F600}".into(), AnswerValue::Int(1));
        r.answers.insert("\u{FB33}".into(), AnswerValue::Int(2));
        assert!(!CanonicalResponse::of(&r).serde_json_is_jcs());
        let text = String::from_utf8(r.canonical_json()).unwrap();
        assert!(text.find('\u{1F600}').unwrap() < text.find('\u{FB33}').unwrap());
        r.answers.remove("\u{1F600}");
        r.answers.insert("G1_1".into(), AnswerValue::Int(i64::MAX));
        assert!(!CanonicalResponse::of(&r).serde_json_is_jcs());
        assert!(
            String::from_utf8(r.canonical_json())
                .unwrap()
                .contains("\"G1_1\":9223372036854776000")
        );
    }

    proptest::proptest! {
        #[test]
        fn fast_and_slow_paths_agree(
            answers in proptest::collection::btree_map(
                "[A-Za-z0-9_\u{e9}\u{1ea1}\u{fb33}\u{1f600}]{1,4}",
                proptest::prop_oneof![
                    proptest::num::i64::ANY.prop_map(AnswerValue::Int),
                    (-5i64..10).prop_map(AnswerValue::Int),
                    "\\PC{0,8}".prop_map(AnswerValue::Text),
                    proptest::collection::vec("[a-z\"\\\n\u{0}-\u{1f}]{0,3}", 0..3).prop_map(AnswerValue::Codes),
                ],
                0..6,
            ),
            gps in proptest::option::of((proptest::num::f64::NORMAL, -90.0f64..90.0, 0.0f64..100.0)),
            ms in proptest::num::u64::ANY,
        ) {
            let mut r = sample();
            r.answers = answers;
            r.paradata.item_ms.insert("A1".into(), ms);
            r.paradata.gps = gps.map(|(a, lat, lon)| GpsFix { lat, lon, accuracy_m: a });
            proptest::prop_assert_eq!(r.canonical_json(), canonical::jcs(&r.canonical_value()));
        }
    }

    #[test]
    fn legacy_hash_is_the_old_serialisation() {
        let r = sample();
        assert_eq!(
            r.legacy_content_hash(),
            hex::encode(sha2::Sha256::digest(serde_json::to_vec(&r).unwrap()))
        );
        assert_ne!(r.legacy_content_hash(), r.content_hash());
        assert!(r.has_content_hash(&r.content_hash()));
        assert!(r.has_content_hash(&r.legacy_content_hash().to_uppercase()));
        let mut other = r.clone();
        other.revision = 2;
        assert!(!r.has_content_hash(&other.content_hash()));
        assert!(!r.has_content_hash(&other.legacy_content_hash()));
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
