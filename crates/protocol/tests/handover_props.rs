//! Property tests of the hand-over file reader ([`parse_batch`], [`verify_batch`]): for
//! arbitrary bytes and for signed files mutated character by character it never panics,
//! returns `Ok` or a [`HandoverError`], and a mutated file verifies only if what it says
//! (format, device, export time, records) is exactly what was signed.
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use sipas_core::answer::AnswerValue;
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{Paradata, Response};
use sipas_protocol::handover::{
    HandoverFile, SigningKey, parse_batch, public_key_base64, sign_batch, verify_batch,
};
use sipas_protocol::wire::UploadRecord;
use std::sync::OnceLock;
use uuid::Uuid;

fn record(n: u128, rating: i64) -> UploadRecord {
    let t: DateTime<Utc> = "2026-11-20T08:00:00.123456Z".parse().unwrap();
    let response = Response {
        id: Uuid::from_u128(100 + n),
        revision: 1,
        form: FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        },
        assignment_id: Some(Uuid::from_u128(200 + n)),
        round_id: "2026-HN-1".into(),
        unit_code: "00004".into(),
        answers: [
            ("G1_1".to_string(), AnswerValue::Int(rating)),
            (
                "B1".to_string(),
                AnswerValue::Text("Cấp căn cước \"mới\"".into()),
            ),
            (
                "A3".to_string(),
                AnswerValue::Codes(vec!["x".into(), "y".into()]),
            ),
        ]
        .into(),
        started_at: t,
        completed_at: t + chrono::Duration::minutes(12),
        paradata: Paradata::default(),
        origin: Default::default(),
    };
    UploadRecord {
        content_hash: response.content_hash(),
        response,
    }
}

/// A signed two-record file: the key, the file and its JSON text.
fn signed() -> &'static (SigningKey, HandoverFile, String) {
    static SIGNED: OnceLock<(SigningKey, HandoverFile, String)> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let file = sign_batch(
            &key,
            Uuid::from_u128(1),
            "2026-11-20T10:00:00Z".parse().unwrap(),
            vec![record(1, 4), record(2, 5)],
        )
        .unwrap();
        let text = serde_json::to_string_pretty(&file).unwrap();
        (key, file, text)
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(f64, usize),
    Insert(f64, String),
    Replace(f64, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let pos = 0.0..1.0f64;
    prop_oneof![
        (pos.clone(), 1..8usize).prop_map(|(p, n)| Edit::Delete(p, n)),
        (pos.clone(), "[\\[\\]{}\",:0-9a-fA-Z+/= \\\\-]{1,4}")
            .prop_map(|(p, s)| Edit::Insert(p, s)),
        (pos, any::<char>()).prop_map(|(p, c)| Edit::Replace(p, c)),
    ]
}

fn apply(source: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for e in edits {
        let at = |p: f64, len: usize| ((p * len as f64) as usize).min(len);
        match e {
            Edit::Delete(p, n) => {
                let i = at(*p, chars.len());
                let end = (i + n).min(chars.len());
                chars.drain(i..end);
            }
            Edit::Insert(p, s) => {
                let i = at(*p, chars.len());
                chars.splice(i..i, s.chars());
            }
            Edit::Replace(p, c) => {
                if !chars.is_empty() {
                    let i = at(*p, chars.len() - 1);
                    chars[i] = *c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Whether two files say the same thing (everything the signature covers).
fn same_content(a: &HandoverFile, b: &HandoverFile) -> bool {
    a.format == b.format
        && a.device_id == b.device_id
        && a.exported_at == b.exported_at
        && a.records == b.records
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let pk = public_key_base64(&signed().0);
        let _ = parse_batch(&bytes);
        prop_assert!(verify_batch(&bytes, &pk).is_err());
    }

    #[test]
    fn arbitrary_keys_never_panic(key in any::<String>()) {
        let text = &signed().2;
        if let Ok(file) = verify_batch(text.as_bytes(), &key) {
            prop_assert!(same_content(&file, &signed().1));
        }
    }

    #[test]
    fn mutated_files_verify_only_when_their_content_is_unchanged(
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        let (key, original, text) = signed();
        let mutated = apply(text, &edits);
        let _ = parse_batch(mutated.as_bytes());
        if let Ok(file) = verify_batch(mutated.as_bytes(), &public_key_base64(key)) {
            prop_assert!(
                same_content(&file, original),
                "a changed file verified: {mutated}"
            );
        }
    }
}

#[test]
fn the_unmutated_file_verifies() {
    let (key, original, text) = signed();
    let file = verify_batch(text.as_bytes(), &public_key_base64(key)).unwrap();
    assert_eq!(&file, original);
}
