//! The enrolment payload: everything a device needs to enrol, in one line the surveyor pastes
//! (or scans from the dashboard's QR code):
//!
//! `sipas-enrol:1:<base64url, no padding, of JSON {"server": "https://…", "code": "…",
//! "cert_sha256": "hex" | null}>`
//!
//! `cert_sha256` is the SHA-256 (lower-case hex) of the server's self-signed certificate,
//! which the device pins; absent or `null` for a server with a publicly trusted certificate.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The prefix of version 1 of the payload.
pub const PREFIX_V1: &str = "sipas-enrol:1:";

/// What the payload carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolPayload {
    /// The server's address, without `/api/v1`.
    pub server: String,
    /// The one-time enrolment code.
    pub code: String,
    /// SHA-256 (hex) of the server's self-signed certificate, to pin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_sha256: Option<String>,
}

/// Why a pasted text is not an enrolment payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// It does not start with `sipas-enrol:`.
    #[error("not a SIPAS enrolment payload")]
    NotAPayload,
    /// A version of the payload this app does not know (a newer server).
    #[error("unknown enrolment payload version")]
    UnknownVersion,
    /// The text after the prefix is damaged (cut off while copying, …).
    #[error("damaged enrolment payload")]
    Damaged,
}

impl EnrolPayload {
    /// The one-line text form.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a payload always serialises");
        format!("{PREFIX_V1}{}", URL_SAFE_NO_PAD.encode(json))
    }

    /// Reads a pasted payload. Whitespace anywhere (line breaks added by a chat app) and
    /// base64 padding are ignored.
    pub fn decode(text: &str) -> Result<EnrolPayload, PayloadError> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let rest = text
            .strip_prefix("sipas-enrol:")
            .ok_or(PayloadError::NotAPayload)?;
        let body = rest
            .strip_prefix("1:")
            .ok_or(PayloadError::UnknownVersion)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body.trim_end_matches('='))
            .map_err(|_| PayloadError::Damaged)?;
        let p: EnrolPayload = serde_json::from_slice(&bytes).map_err(|_| PayloadError::Damaged)?;
        let server_ok = p.server.starts_with("https://") || p.server.starts_with("http://");
        let pin_ok = p
            .cert_sha256
            .as_ref()
            .is_none_or(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if !server_ok || p.code.trim().is_empty() || !pin_ok {
            return Err(PayloadError::Damaged);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_input() {
        let p = EnrolPayload {
            server: "https://10.0.0.5:8443".into(),
            code: "ABCD2345EF".into(),
            cert_sha256: Some("ab".repeat(32)),
        };
        let text = p.encode();
        assert!(text.starts_with("sipas-enrol:1:"));
        assert!(!text.contains('=') && !text.contains('+') && !text.contains('/'));
        assert_eq!(EnrolPayload::decode(&text), Ok(p.clone()));
        // Line breaks from a chat app and surrounding spaces do not matter.
        let (a, b) = text.split_at(20);
        assert_eq!(EnrolPayload::decode(&format!("  {a}\n{b} \n")), Ok(p));
        let no_pin = EnrolPayload {
            server: "https://sipas.example.vn".into(),
            code: "X".into(),
            cert_sha256: None,
        };
        assert_eq!(EnrolPayload::decode(&no_pin.encode()), Ok(no_pin));

        assert_eq!(
            EnrolPayload::decode("ABCD2345EF"),
            Err(PayloadError::NotAPayload)
        );
        assert_eq!(
            EnrolPayload::decode("sipas-enrol:2:xyz"),
            Err(PayloadError::UnknownVersion)
        );
        assert_eq!(
            EnrolPayload::decode(&text[..text.len() - 6]),
            Err(PayloadError::Damaged)
        );
        let bad = |json: &str| format!("{PREFIX_V1}{}", URL_SAFE_NO_PAD.encode(json));
        for json in [
            r#"{"server":"ftp://x","code":"A"}"#,
            r#"{"server":"https://x","code":" "}"#,
            r#"{"server":"https://x","code":"A","cert_sha256":"zz"}"#,
            r#"{"code":"A"}"#,
            "not json",
        ] {
            assert_eq!(
                EnrolPayload::decode(&bad(json)),
                Err(PayloadError::Damaged),
                "{json}"
            );
        }
    }
}
