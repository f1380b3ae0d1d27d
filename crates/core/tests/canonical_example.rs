//! The worked example of API.md ("Canonical form and content hash") checked against the code:
//! the client JSON printed there parses, canonicalises to exactly the bytes printed there, and
//! those bytes hash to exactly the printed hash. Clients build their hashing from that example,
//! so it must never drift from what the server computes.
use sha2::{Digest, Sha256};
use sipas_core::response::Response;
use std::path::Path;

/// The fenced block that follows `<!-- canonical-example:{name} -->` in API.md, without its
/// fence lines and without the newline before the closing fence.
fn example_block(doc: &str, name: &str) -> String {
    let marker = format!("<!-- canonical-example:{name} -->\n");
    let start = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("API.md has no {marker:?}"))
        + marker.len();
    let rest = &doc[start..];
    let open = rest.find("```").expect("a fence after the marker");
    let body_start = open + rest[open..].find('\n').expect("fence line ends") + 1;
    let body_len = rest[body_start..].find("\n```").expect("a closing fence");
    rest[body_start..body_start + body_len].to_string()
}

fn api_md() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/API.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn api_md_worked_example_matches_the_code_byte_for_byte() {
    let doc = api_md();
    let client = example_block(&doc, "client");
    let documented_bytes = example_block(&doc, "bytes");
    let documented_hash = example_block(&doc, "hash");

    // The documented hash is the SHA-256 of the documented bytes (independently of our code).
    assert_eq!(
        hex::encode(Sha256::digest(documented_bytes.as_bytes())),
        documented_hash
    );
    assert_eq!(documented_bytes.len(), 397, "API.md states 397 bytes");
    assert!(doc.contains("one line, 397 bytes of UTF-8"));

    // The code turns the client's JSON into exactly those bytes and that hash.
    let response: Response = serde_json::from_str(&client).expect("the example parses");
    let canonical = response.canonical_json();
    assert_eq!(String::from_utf8(canonical).unwrap(), documented_bytes);
    assert_eq!(response.content_hash(), documented_hash);

    // The canonical bytes are themselves a valid response with the same hash, and the client
    // text really differs from them in the ways the example claims.
    let back: Response = serde_json::from_str(&documented_bytes).unwrap();
    assert_eq!(back, response);
    assert_eq!(back.content_hash(), documented_hash);
    assert!(client.contains("+00:00") && client.contains("+07:00"));
    assert!(!client.contains("paradata"));
    assert!(client.trim_start().starts_with("{\n  \"revision\""));
}

#[test]
fn key_order_offsets_and_omitted_defaults_do_not_change_the_hash() {
    let doc = api_md();
    let hash = example_block(&doc, "hash");
    let variants = [
        // Everything written out, canonical timestamps, yet another key order, whitespace.
        r#"{ "id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd", "revision": 1,
             "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
             "assignment_id": "0192f3a4-5b6c-7d8e-9f01-000000000042",
             "round_id": "2026-HN-1", "unit_code": "00004",
             "answers": {"A2": "Cấp căn cước", "A3": ["2", "1"], "C1_1": 4, "C1_2": 5},
             "started_at": "2026-11-20T08:00:00Z", "completed_at": "2026-11-20T08:12:30.5Z",
             "paradata": {"item_ms": {}, "gps": null} }"#,
        // Fraction written with zeros, paradata present but empty, escaped Vietnamese.
        r#"{"paradata": {}, "started_at": "2026-11-20T08:00:00.000000Z",
            "completed_at": "2026-11-20T10:12:30.500000+02:00",
            "answers": {"C1_1": 4, "C1_2": 5, "A3": ["2", "1"], "A2": "C\u1ea5p c\u0103n c\u01b0\u1edbc"},
            "unit_code": "00004", "round_id": "2026-HN-1",
            "assignment_id": "0192F3A4-5B6C-7D8E-9F01-000000000042",
            "form": {"version": "2026.1", "form_id": "sipas-6-groups"},
            "revision": 1, "id": "0192f3a4-5b6c-7d8e-9f01-23456789abcd"}"#,
    ];
    for v in variants {
        let r: Response = serde_json::from_str(v).unwrap();
        assert_eq!(r.content_hash(), hash, "{v}");
    }
    // Any change of content changes it.
    let changed = [
        ("\"C1_1\": 4", "\"C1_1\": 3"),
        ("08:12:30.500+00:00", "08:12:30.501+00:00"),
        ("\"00004\"", "\"00007\""),
        ("[\"2\", \"1\"]", "[\"1\", \"2\"]"),
    ];
    let client = example_block(&doc, "client");
    for (from, to) in changed {
        assert!(client.contains(from), "{from}");
        let r: Response = serde_json::from_str(&client.replace(from, to)).unwrap();
        assert_ne!(r.content_hash(), hash, "{from} → {to}");
    }
}
