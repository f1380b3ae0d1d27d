//! Offline hand-over of responses: a surveyor's device without network exports a **signed
//! batch file**; the supervisor imports it into the server (`POST /api/v1/handover`), which
//! stores it exactly as if the device had uploaded it.
//!
//! # File format `sipas-batch/1`
//!
//! A JSON object (the file may be gzip-compressed for transport):
//!
//! ```json
//! {
//!   "format": "sipas-batch/1",
//!   "device_id": "0192…",
//!   "exported_at": "2026-11-20T10:00:00Z",
//!   "records": [ { "response": { … }, "content_hash": "…" } ],
//!   "signature": "base64 of 64 bytes"
//! }
//! ```
//!
//! `records` are [`UploadRecord`]s as in `POST /responses/batch`. `signature` is the Ed25519
//! signature, in standard base64 with padding, over the **canonical JSON bytes** of the object
//! `{format, device_id, exported_at, records}` (the file without `signature`): UTF-8, no
//! whitespace, the keys of every object sorted by their UTF-8 bytes, strings and numbers
//! written as `serde_json` writes them ([`canonical_json`]). The verifier rebuilds those bytes
//! from the JSON it received, so key order and whitespace in the file itself do not matter.
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
use uuid::Uuid;

pub use ed25519_dalek::{SigningKey, VerifyingKey};

/// The format tag of hand-over files this version writes and reads.
pub const HANDOVER_FORMAT: &str = "sipas-batch/1";

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
    /// Ed25519 signature (standard base64) over the canonical JSON of the other four fields.
    pub signature: String,
}

/// Why a hand-over file or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    /// Not JSON, or not the shape of a hand-over file.
    #[error("not a hand-over file: {0}")]
    Malformed(String),
    /// The `format` is not [`HANDOVER_FORMAT`].
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

/// Canonical JSON bytes of `value`: no whitespace, object keys sorted by their UTF-8 bytes at
/// every level, strings and numbers as `serde_json` writes them.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(&map[k], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out);
            }
            out.push(b']');
        }
        Value::String(s) => write_string(s, out),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Null => out.extend_from_slice(b"null"),
    }
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    // Serialising a str into a Vec cannot fail.
    if serde_json::to_writer(&mut *out, s).is_err() {
        out.extend_from_slice(b"\"\"");
    }
}

/// The four signed fields of a file, as JSON.
fn signed_part(format: &Value, device_id: &Value, exported_at: &Value, records: &Value) -> Vec<u8> {
    let mut map = serde_json::Map::new();
    map.insert("format".into(), format.clone());
    map.insert("device_id".into(), device_id.clone());
    map.insert("exported_at".into(), exported_at.clone());
    map.insert("records".into(), records.clone());
    canonical_json(&Value::Object(map))
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, HandoverError> {
    serde_json::to_value(v).map_err(|e| HandoverError::Malformed(e.to_string()))
}

/// Signs `records` exported by `device_id` at `exported_at` with the device's `key`.
/// Write the result with `serde_json::to_vec` (optionally gzip it).
pub fn sign_batch(
    key: &SigningKey,
    device_id: Uuid,
    exported_at: DateTime<Utc>,
    records: Vec<UploadRecord>,
) -> Result<HandoverFile, HandoverError> {
    let bytes = signed_part(
        &Value::String(HANDOVER_FORMAT.into()),
        &to_value(&device_id)?,
        &to_value(&exported_at)?,
        &to_value(&records)?,
    );
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
/// The signature is checked by [`ReceivedBatch::verify`].
pub fn parse_batch(bytes: &[u8]) -> Result<ReceivedBatch, HandoverError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| HandoverError::Malformed(e.to_string()))?;
    let Value::Object(map) = &value else {
        return Err(HandoverError::Malformed("not a JSON object".into()));
    };
    let field = |name: &str| {
        map.get(name)
            .ok_or_else(|| HandoverError::Malformed(format!("missing field `{name}`")))
    };
    let format = field("format")?;
    if format.as_str() != Some(HANDOVER_FORMAT) {
        return Err(HandoverError::WrongFormat(match format {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }));
    }
    let signed = signed_part(
        format,
        field("device_id")?,
        field("exported_at")?,
        field("records")?,
    );
    let file: HandoverFile =
        serde_json::from_value(value).map_err(|e| HandoverError::Malformed(e.to_string()))?;
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
            tampered(&|t| t["format"] = "sipas-batch/2".into()),
            Err(HandoverError::WrongFormat(f)) if f == "sipas-batch/2"
        ));
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

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": [1, {"z": null, "a": true}], "a": "x\"é", "ä": 1.5, "A": -2 }"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(canonical_json(&v)).unwrap(),
            r#"{"A":-2,"a":"x\"é","b":[1,{"a":true,"z":null}],"ä":1.5}"#
        );
    }
}
