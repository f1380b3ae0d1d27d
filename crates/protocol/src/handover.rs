//! Offline hand-over of responses: a surveyor's device without network exports a **signed
//! batch file**; the supervisor imports it into the server (`POST /api/v1/handover`), which
//! stores it exactly as if the device had uploaded it.
//!
//! # File format `sipas-batch/2`
//!
//! A JSON object (the file may be gzip-compressed for transport):
//!
//! ```json
//! {
//!   "format": "sipas-batch/2",
//!   "device_id": "0192…",
//!   "exported_at": "2026-11-20T10:00:00Z",
//!   "records": [ { "response": { … }, "content_hash": "…" } ],
//!   "signature": "base64 of 64 bytes"
//! }
//! ```
//!
//! `records` are [`UploadRecord`]s as in `POST /responses/batch`. `signature` is the Ed25519
//! signature, in standard base64 with padding, over the **canonical bytes** of the signed
//! payload `{format, device_id, exported_at, records}` (the file without `signature`), by the
//! same rule as content hashes (API.md "Canonical form and content hash"): RFC 8785 JCS of the
//! payload as the typed model writes it, `exported_at` in canonical UTC form, and each
//! `records[i]` as `{content_hash, response}` with the response in its canonical value
//! (every field present, canonical timestamps) — [`signed_bytes`]. The verifier rebuilds those
//! bytes from the file it parsed, so key order, whitespace, time-zone offsets and omitted
//! defaults in the file itself do not matter.
//!
//! Files of the previous format `sipas-batch/1` (signed over the received JSON with keys sorted
//! by UTF-8 bytes, content hashes by the legacy rule) are still read: [`parse_batch`] checks
//! their signature by that rule and replaces each record's legacy hash by the current one.
//!
//! The device's key pair is made at enrolment ([`new_signing_key`]); its public key
//! ([`public_key_base64`], 32 bytes in standard base64) goes to the server in
//! `EnrolRequest::public_key` and is kept with the device.
use crate::wire::UploadRecord;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sipas_core::canonical;
use uuid::Uuid;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The format tag of hand-over files this version writes and reads.
pub const HANDOVER_FORMAT: &str = "sipas-batch/2";

/// The previous format tag, still read (signature over sorted-key JSON, legacy content hashes).
pub const LEGACY_HANDOVER_FORMAT: &str = "sipas-batch/1";

/// A signed hand-over file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoverFile {
    /// Always [`HANDOVER_FORMAT`].
    pub format: String,
    /// The enrolled device that exported (and signed) the file.
    pub device_id: Uuid,
    /// When the file was exported.
    pub exported_at: DateTime<Utc>,
    /// The responses, as in an upload batch.
    pub records: Vec<UploadRecord>,
    /// Ed25519 signature (standard base64) over [`signed_bytes`] of the other four fields.
    pub signature: String,
}

/// Why a hand-over file or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    /// Not JSON, or not the shape of a hand-over file.
    #[error("not a hand-over file: {0}")]
    Malformed(String),
    /// The `format` is neither [`HANDOVER_FORMAT`] nor [`LEGACY_HANDOVER_FORMAT`].
    #[error("unsupported hand-over format {0:?} (expected {HANDOVER_FORMAT})")]
    WrongFormat(String),
    /// The public key is not 32 bytes of standard base64 naming a valid Ed25519 point.
    #[error("the device public key is not a valid base64 Ed25519 key")]
    BadPublicKey,
    /// The signature is not 64 bytes of standard base64.
    #[error("the signature is not 64 bytes of base64")]
    BadSignatureEncoding,
    /// The signature does not match the content and the device's key.
    #[error("the signature does not match the file's content and the device's key")]
    BadSignature,
}

/// A fresh random signing key (from the operating system's generator).
pub fn new_signing_key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// The public half of `key` in standard base64 (44 characters), as sent at enrolment.
pub fn public_key_base64(key: &SigningKey) -> String {
    STANDARD.encode(key.verifying_key().as_bytes())
}

/// Parses a base64 public key (surrounding whitespace ignored).
pub fn parse_public_key(b64: &str) -> Result<VerifyingKey, HandoverError> {
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|_| HandoverError::BadPublicKey)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| HandoverError::BadPublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| HandoverError::BadPublicKey)
}

/// The bytes a hand-over signature covers: RFC 8785 JCS ([`sipas_core::canonical::jcs`]) of
/// `{format, device_id, exported_at, records}` with `exported_at` in canonical form and every
/// response as its [`Response::canonical_value`](sipas_core::response::Response::canonical_value).
pub fn signed_bytes(
    format: &str,
    device_id: Uuid,
    exported_at: &DateTime<Utc>,
    records: &[UploadRecord],
) -> Vec<u8> {
    let records: Vec<Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "content_hash": r.content_hash,
                "response": r.response.canonical_value(),
            })
        })
        .collect();
    canonical::jcs(&serde_json::json!({
        "format": format,
        "device_id": device_id,
        "exported_at": canonical::timestamp(exported_at),
        "records": records,
    }))
}

/// `sipas-batch/1` signing rule: the received JSON with object keys sorted by their UTF-8
/// bytes, no whitespace, strings and numbers as `serde_json` writes them.
fn legacy_canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_legacy(value, &mut out);
    out
}

fn write_legacy(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(k.clone()).to_string().as_bytes());
                out.push(b':');
                write_legacy(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_legacy(v, out);
            }
            out.push(b']');
        }
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// The signed part of a `sipas-batch/1` file, from the JSON received.
fn legacy_signed_part(map: &serde_json::Map<String, Value>) -> Result<Vec<u8>, HandoverError> {
    let mut signed = serde_json::Map::new();
    for name in ["format", "device_id", "exported_at", "records"] {
        let v = map
            .get(name)
            .ok_or_else(|| HandoverError::Malformed(format!("missing field `{name}`")))?;
        signed.insert(name.into(), v.clone());
    }
    Ok(legacy_canonical_json(&Value::Object(signed)))
}

/// Signs `records` exported by `device_id` at `exported_at` with the device's `key`.
/// Write the result with `serde_json::to_vec` (optionally gzip it).
pub fn sign_batch(
    key: &SigningKey,
    device_id: Uuid,
    exported_at: DateTime<Utc>,
    records: Vec<UploadRecord>,
) -> Result<HandoverFile, HandoverError> {
    let bytes = signed_bytes(HANDOVER_FORMAT, device_id, &exported_at, &records);
    let signature = key.sign(&bytes);
    Ok(HandoverFile {
        format: HANDOVER_FORMAT.into(),
        device_id,
        exported_at,
        records,
        signature: STANDARD.encode(signature.to_bytes()),
    })
}

/// A parsed hand-over file whose signature is still to be checked against the device's key
/// (which the reader looks up by [`HandoverFile::device_id`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedBatch {
    /// The file's content.
    pub file: HandoverFile,
    /// The canonical bytes the signature must cover, rebuilt from the JSON received.
    signed: Vec<u8>,
}

/// Parses the bytes of a hand-over file (already gzip-decoded) and checks its format tag.
/// The signature is checked by [`ReceivedBatch::verify`]. A `sipas-batch/1` file's records
/// come back with their content hashes by the current rule where they matched the legacy one.
pub fn parse_batch(bytes: &[u8]) -> Result<ReceivedBatch, HandoverError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| HandoverError::Malformed(e.to_string()))?;
    let Value::Object(map) = &value else {
        return Err(HandoverError::Malformed("not a JSON object".into()));
    };
    let format = map
        .get("format")
        .ok_or_else(|| HandoverError::Malformed("missing field `format`".into()))?;
    let legacy = match format.as_str() {
        Some(HANDOVER_FORMAT) => false,
        Some(LEGACY_HANDOVER_FORMAT) => true,
        Some(other) => return Err(HandoverError::WrongFormat(other.to_owned())),
        None => return Err(HandoverError::WrongFormat(format.to_string())),
    };
    let legacy_signed = if legacy {
        Some(legacy_signed_part(map)?)
    } else {
        None
    };
    let mut file: HandoverFile =
        serde_json::from_value(value).map_err(|e| HandoverError::Malformed(e.to_string()))?;
    let signed = match legacy_signed {
        Some(bytes) => {
            for r in &mut file.records {
                if r.content_hash
                    .eq_ignore_ascii_case(&r.response.legacy_content_hash())
                {
                    r.content_hash = r.response.content_hash();
                }
            }
            bytes
        }
        None => signed_bytes(
            &file.format,
            file.device_id,
            &file.exported_at,
            &file.records,
        ),
    };
    Ok(ReceivedBatch { file, signed })
}

impl ReceivedBatch {
    /// Checks the signature against the device's public key (base64).
    pub fn verify(&self, public_key_b64: &str) -> Result<(), HandoverError> {
        let key = parse_public_key(public_key_b64)?;
        let sig = STANDARD
            .decode(self.file.signature.trim())
            .map_err(|_| HandoverError::BadSignatureEncoding)?;
        let sig: [u8; 64] = sig
            .try_into()
            .map_err(|_| HandoverError::BadSignatureEncoding)?;
        key.verify_strict(&self.signed, &Signature::from_bytes(&sig))
            .map_err(|_| HandoverError::BadSignature)
    }
}

/// Parses a hand-over file and checks its signature with `public_key_b64` in one step.
pub fn verify_batch(bytes: &[u8], public_key_b64: &str) -> Result<HandoverFile, HandoverError> {
    let received = parse_batch(bytes)?;
    received.verify(public_key_b64)?;
    Ok(received.file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipas_core::answer::AnswerValue;
    use sipas_core::questionnaire::FormKey;
    use sipas_core::response::{Paradata, Response};

    fn record(rating: i64) -> UploadRecord {
        let t: DateTime<Utc> = "2026-11-20T08:00:00.123456Z".parse().unwrap();
        let response = Response {
            id: Uuid::from_u128(7),
            revision: 1,
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            assignment_id: Some(Uuid::from_u128(8)),
            round_id: "2026-HN-1".into(),
            unit_code: "00004".into(),
            answers: [
                ("G1_1".to_string(), AnswerValue::Int(rating)),
                (
                    "B1".to_string(),
                    AnswerValue::Text("Cấp căn cước \"mới\"".into()),
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

    fn signed() -> (SigningKey, Vec<u8>) {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let file = sign_batch(
            &key,
            Uuid::from_u128(1),
            "2026-11-20T10:00:00Z".parse().unwrap(),
            vec![record(4), record(5)],
        )
        .unwrap();
        (key, serde_json::to_vec(&file).unwrap())
    }

    #[test]
    fn signed_file_verifies_with_the_right_key_only() {
        let (key, bytes) = signed();
        let pk = public_key_base64(&key);
        assert_eq!(pk.len(), 44);
        let file = verify_batch(&bytes, &pk).unwrap();
        assert_eq!(file.format, HANDOVER_FORMAT);
        assert_eq!(file.records, vec![record(4), record(5)]);
        let other = public_key_base64(&new_signing_key());
        assert_eq!(
            verify_batch(&bytes, &other),
            Err(HandoverError::BadSignature)
        );
        assert_eq!(
            verify_batch(&bytes, "not base64!"),
            Err(HandoverError::BadPublicKey)
        );
        assert_eq!(
            verify_batch(&bytes, &STANDARD.encode([1u8; 16])),
            Err(HandoverError::BadPublicKey)
        );
    }

    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        let (key, bytes) = signed();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        assert!(verify_batch(&pretty, &public_key_base64(&key)).is_ok());
        // Reversed top-level key order.
        let Value::Object(map) = v else {
            unreachable!()
        };
        let mut text = String::from("{");
        for (i, (k, val)) in map.iter().rev().enumerate() {
            if i > 0 {
                text.push_str(",\n ");
            }
            text.push_str(&format!("{}: {}", Value::String(k.clone()), val));
        }
        text.push('}');
        assert!(verify_batch(text.as_bytes(), &public_key_base64(&key)).is_ok());
    }

    #[test]
    fn tampering_is_detected() {
        let (key, bytes) = signed();
        let pk = public_key_base64(&key);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let tampered = |f: &dyn Fn(&mut Value)| {
            let mut t = v.clone();
            f(&mut t);
            verify_batch(&serde_json::to_vec(&t).unwrap(), &pk)
        };
        // an answer changed (content hash left alone)
        assert_eq!(
            tampered(&|t| t["records"][0]["response"]["answers"]["G1_1"] = 1.into()),
            Err(HandoverError::BadSignature)
        );
        // a record dropped
        assert_eq!(
            tampered(&|t| {
                t["records"].as_array_mut().unwrap().pop();
            }),
            Err(HandoverError::BadSignature)
        );
        // another device claimed
        assert_eq!(
            tampered(&|t| t["device_id"] = Uuid::from_u128(2).to_string().into()),
            Err(HandoverError::BadSignature)
        );
        assert_eq!(
            tampered(&|t| t["exported_at"] = "2026-11-21T10:00:00Z".into()),
            Err(HandoverError::BadSignature)
        );
        // signature garbled
        assert_eq!(
            tampered(&|t| t["signature"] = "AAAA".into()),
            Err(HandoverError::BadSignatureEncoding)
        );
        // wrong format tag, missing or unknown fields
        assert!(matches!(
            tampered(&|t| t["format"] = "sipas-batch/3".into()),
            Err(HandoverError::WrongFormat(f)) if f == "sipas-batch/3"
        ));
        // claiming the legacy format does not switch to its signing rule unnoticed
        assert_eq!(
            tampered(&|t| t["format"] = LEGACY_HANDOVER_FORMAT.into()),
            Err(HandoverError::BadSignature)
        );
        assert!(matches!(
            tampered(&|t| {
                t.as_object_mut().unwrap().remove("records");
            }),
            Err(HandoverError::Malformed(_))
        ));
        assert!(matches!(
            tampered(&|t| t["extra"] = 1.into()),
            Err(HandoverError::Malformed(_))
        ));
        assert!(matches!(
            verify_batch(b"[1, 2", &pk),
            Err(HandoverError::Malformed(_))
        ));
    }

    /// The signature covers the canonical bytes of the payload, with each response exactly in
    /// the form its content hash is taken of.
    #[test]
    fn the_signature_covers_the_canonical_form_of_the_payload() {
        let (key, bytes) = signed();
        let file: HandoverFile = serde_json::from_slice(&bytes).unwrap();
        let payload = signed_bytes(
            HANDOVER_FORMAT,
            file.device_id,
            &file.exported_at,
            &file.records,
        );
        let text = String::from_utf8(payload.clone()).unwrap();
        assert!(text.starts_with(
            "{\"device_id\":\"00000000-0000-0000-0000-000000000001\",\"exported_at\":\"2026-11-20T10:00:00Z\",\"format\":\"sipas-batch/2\",\"records\":[{\"content_hash\":\""
        ));
        for r in &file.records {
            let response = String::from_utf8(r.response.canonical_json()).unwrap();
            assert!(text.contains(&format!(
                "{{\"content_hash\":\"{}\",\"response\":{response}}}",
                r.content_hash
            )));
        }
        let sig: [u8; 64] = STANDARD
            .decode(&file.signature)
            .unwrap()
            .try_into()
            .unwrap();
        assert!(
            key.verifying_key()
                .verify_strict(&payload, &Signature::from_bytes(&sig))
                .is_ok()
        );
    }

    /// The same content spelt differently (offsets instead of `Z`, defaults left out, upper-case
    /// ids) still verifies; the signed bytes are those of the content, not of the spelling.
    #[test]
    fn offsets_and_omitted_defaults_do_not_matter() {
        let (key, bytes) = signed();
        let mut v: Value = serde_json::from_slice(&bytes).unwrap();
        v["exported_at"] = "2026-11-20T17:00:00+07:00".into();
        v["device_id"] = "00000000-0000-0000-0000-000000000001".to_uppercase().into();
        for r in v["records"].as_array_mut().unwrap() {
            let resp = r["response"].as_object_mut().unwrap();
            resp.remove("paradata");
            resp["started_at"] = "2026-11-20T08:00:00.123456+00:00".into();
        }
        let file =
            verify_batch(&serde_json::to_vec(&v).unwrap(), &public_key_base64(&key)).unwrap();
        assert_eq!(file.records, vec![record(4), record(5)]);
    }

    /// A `sipas-batch/1` file made by an older app: signed over sorted-key JSON with legacy
    /// content hashes. It verifies, and its records carry hashes by the current rule.
    #[test]
    fn legacy_files_verify_and_get_current_hashes() {
        let key = SigningKey::from_bytes(&[42u8; 32]);
        let records: Vec<Value> = [record(4), record(5)]
            .iter()
            .map(|r| {
                serde_json::json!({
                    "response": r.response,
                    "content_hash": r.response.legacy_content_hash(),
                })
            })
            .collect();
        let mut v = serde_json::json!({
            "format": LEGACY_HANDOVER_FORMAT,
            "device_id": Uuid::from_u128(1),
            "exported_at": "2026-11-20T10:00:00Z",
            "records": records,
        });
        let sig = key.sign(&legacy_canonical_json(&v));
        v["signature"] = STANDARD.encode(sig.to_bytes()).into();
        let bytes = serde_json::to_vec(&v).unwrap();
        let file = verify_batch(&bytes, &public_key_base64(&key)).unwrap();
        assert_eq!(file.format, LEGACY_HANDOVER_FORMAT);
        assert_eq!(file.records, vec![record(4), record(5)]);
        // Tampering with a legacy file is still detected.
        v["records"][0]["response"]["answers"]["G1_1"] = 1.into();
        assert_eq!(
            verify_batch(&serde_json::to_vec(&v).unwrap(), &public_key_base64(&key)),
            Err(HandoverError::BadSignature)
        );
    }

    #[test]
    fn legacy_canonical_json_sorts_keys_by_utf8_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [1, {"z": null, "a": true}], "a": "x\"é", "ä": 1.5, "A": -2 }"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(legacy_canonical_json(&v)).unwrap(),
            r#"{"A":-2,"a":"x\"é","b":[1,{"a":true,"z":null}],"ä":1.5}"#
        );
    }
}
