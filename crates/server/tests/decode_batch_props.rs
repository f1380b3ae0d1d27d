//! Property tests of the upload body decoder ([`decode_batch`], exactly what
//! `POST /responses/batch` runs on the bytes it received): arbitrary bytes under any
//! `Content-Encoding`, and valid batches mutated byte by byte (plain or gzip, whole or
//! truncated), never panic and give a batch or one of the documented problems — `400.1`
//! (not JSON of the right shape), `400.4` (encoding, broken gzip), `413.2` (too large).
use axum::body::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use sipas_core::answer::AnswerValue;
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{Paradata, Response};
use sipas_protocol::problem::Problem;
use sipas_protocol::wire::{UploadBatch, UploadRecord};
use sipas_server::handlers::sync::{RawBatch, decode_batch};
use sipas_server::validation::Incoming;
use std::io::Write;
use uuid::Uuid;

const DOCUMENTED: [&str; 3] = ["400.1", "400.4", "413.2"];

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn batch() -> UploadBatch {
    let t: chrono::DateTime<chrono::Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
    let records = (0..3u128)
        .map(|n| {
            let response = Response {
                id: Uuid::from_u128(10 + n),
                revision: 1,
                form: FormKey {
                    form_id: "sipas-6-groups".into(),
                    version: "2026.1".into(),
                },
                assignment_id: Some(Uuid::from_u128(20 + n)),
                round_id: "2026-HN-1".into(),
                unit_code: "00004".into(),
                answers: [
                    ("G1_1".to_string(), AnswerValue::Int(4)),
                    (
                        "B1".to_string(),
                        AnswerValue::Text("Cấp giấy khai sinh".into()),
                    ),
                    ("A3".to_string(), AnswerValue::Codes(vec!["a".into()])),
                ]
                .into(),
                started_at: t,
                completed_at: t + chrono::Duration::minutes(9),
                paradata: Paradata::default(),
                origin: Default::default(),
            };
            UploadRecord {
                content_hash: response.content_hash(),
                response,
            }
        })
        .collect();
    UploadBatch { records }
}

/// The documented outcome: a batch, or one of the documented problems with messages.
fn check(result: Result<RawBatch, Problem>) -> Result<Option<RawBatch>, TestCaseError> {
    match result {
        Ok(b) => {
            // Every record then decodes on its own, to a record or a `malformed` refusal,
            // without panicking.
            for r in &b.records {
                let _ = Incoming::decode(r.get());
            }
            Ok(Some(b))
        }
        Err(p) => {
            prop_assert!(DOCUMENTED.contains(&p.code.as_str()), "undocumented {p:?}");
            prop_assert!(!p.message.is_empty() && !p.message_vi.is_empty());
            Ok(None)
        }
    }
}

fn encoding() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("gzip".to_string())),
        Just(Some("identity".to_string())),
        Just(Some("x-gzip".to_string())),
        Just(Some("br".to_string())),
        any::<String>().prop_map(Some),
    ]
}

/// Byte edits at relative positions: (position, new byte or None to delete).
fn edits() -> impl Strategy<Value = Vec<(f64, Option<u8>)>> {
    prop::collection::vec((0.0..1.0f64, prop::option::of(any::<u8>())), 1..6)
}

fn mutate(mut bytes: Vec<u8>, edits: &[(f64, Option<u8>)]) -> Vec<u8> {
    for (p, b) in edits {
        if bytes.is_empty() {
            break;
        }
        let i = ((p * bytes.len() as f64) as usize).min(bytes.len() - 1);
        match b {
            Some(b) => bytes[i] = *b,
            None => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_under_any_encoding(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        enc in encoding(),
    ) {
        check(decode_batch(Bytes::from(bytes), enc.as_deref()))?;
    }

    #[test]
    fn gzip_of_arbitrary_bytes_is_never_an_encoding_error(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        if let Err(p) = decode_batch(Bytes::from(gzip(&bytes)), Some("gzip")) {
            prop_assert_eq!(p.code, "400.1");
        }
    }

    #[test]
    fn mutated_plain_batches(edits in edits()) {
        let json = serde_json::to_vec(&batch()).unwrap();
        check(decode_batch(Bytes::from(mutate(json, &edits)), None))?;
    }

    #[test]
    fn mutated_gzip_batches(edits in edits()) {
        let gz = gzip(&serde_json::to_vec(&batch()).unwrap());
        check(decode_batch(Bytes::from(mutate(gz, &edits)), Some("gzip")))?;
    }

    #[test]
    fn truncated_gzip_batches(cut in 0.0..1.0f64) {
        let gz = gzip(&serde_json::to_vec(&batch()).unwrap());
        let at = ((cut * gz.len() as f64) as usize).min(gz.len() - 1);
        let result = decode_batch(Bytes::from(gz[..at].to_vec()), Some("gzip"));
        prop_assert!(check(result)?.is_none(), "a truncated stream decoded");
    }
}

/// The records of a decoded batch, each decoded on its own.
fn typed(b: RawBatch) -> UploadBatch {
    UploadBatch {
        records: b
            .records
            .iter()
            .map(|r| Incoming::decode(r.get()).record.expect("a valid record"))
            .collect(),
    }
}

#[test]
fn valid_batches_decode_plain_and_gzip() {
    let b = batch();
    let json = serde_json::to_vec(&b).unwrap();
    assert_eq!(
        typed(decode_batch(Bytes::from(json.clone()), None).unwrap()),
        b
    );
    assert_eq!(
        typed(decode_batch(Bytes::from(json.clone()), Some(" identity ")).unwrap()),
        b
    );
    assert_eq!(
        typed(decode_batch(Bytes::from(gzip(&json)), Some("GZIP")).unwrap()),
        b
    );
    assert_eq!(
        decode_batch(Bytes::from(json), Some("br"))
            .unwrap_err()
            .code,
        "400.4"
    );
    let too_big = vec![b' '; sipas_protocol::MAX_BATCH_BYTES + 1];
    assert_eq!(
        decode_batch(Bytes::from(too_big.clone()), None)
            .unwrap_err()
            .code,
        "413.2"
    );
    assert_eq!(
        decode_batch(Bytes::from(gzip(&too_big)), Some("gzip"))
            .unwrap_err()
            .code,
        "413.2"
    );
}
