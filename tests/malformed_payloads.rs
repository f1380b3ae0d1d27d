//! Malformed uploads against the real `sipas-server` binary: each gets its documented problem
//! code (or per-record `invalid` ack) and none stores anything.
//!
//! | body                                   | answer                                    |
//! |----------------------------------------|-------------------------------------------|
//! | not JSON                               | `400.1`                                   |
//! | JSON of the wrong shape                | `400.1`                                   |
//! | truncated gzip stream                  | `400.4`                                   |
//! | unsupported `Content-Encoding`         | `400.4`                                   |
//! | declared larger than 8 MiB             | `413.2`                                   |
//! | gzip that decodes to more than 8 MiB   | `413.2`                                   |
//! | more than 500 records                  | `413.1`                                   |
//! | a record of an unknown form version    | `200`, ack `invalid`, "unknown form version" |
use sipas_testkit::{fixture, server};

use fixture::{enrol_device, response_for, seed_people, seed_round, server_records};
use flate2::Compression;
use flate2::write::GzEncoder;
use server::{Backend, TestServer};
use sipas_protocol::problem::Problem;
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord, UploadResult};
use sipas_protocol::{MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use std::io::Write;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A raw `POST /api/v1/responses/batch`: `(status, body)`. `declared_len` overrides
/// `Content-Length` (the body sent is then only what `body` holds, and the request is
/// half-closed after it).
async fn post_batch(
    addr: &str,
    token: &str,
    encoding: Option<&str>,
    body: &[u8],
    declared_len: Option<usize>,
) -> (u16, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "POST /api/v1/responses/batch HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        declared_len.unwrap_or(body.len())
    );
    if let Some(enc) = encoding {
        head.push_str(&format!("Content-Encoding: {enc}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    if declared_len.is_some() {
        stream.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let status = String::from_utf8_lossy(&answer[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut body = answer[split + 4..].to_vec();
    // Chunked answers (JSON acks): join the chunks.
    let head = String::from_utf8_lossy(&answer[..split]).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16)
            .expect("chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
}

/// One malformed request: what it is, its `Content-Encoding`, its body, the
/// `Content-Length` it declares (if not the body's), and the problem code expected.
type Case = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    Option<usize>,
    &'static str,
);

fn problem(status: u16, body: &[u8]) -> (u16, String) {
    let p: Problem = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not a problem ({e}): {}", String::from_utf8_lossy(body)));
    (status, p.code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_uploads_get_their_problem_codes_and_store_nothing() {
    let server = TestServer::start(Backend::Sqlite).expect("SQLite server");
    let addr = server.url.trim_start_matches("http://").to_string();
    let round = "2026-BAD-1";
    let people = seed_people(&server).await;
    let ids = seed_round(&people, round, 3).await;
    let device = enrol_device(&server, &people).await;
    let token = device.token().unwrap().to_string();

    // One good record first, so "unchanged" is not trivially empty.
    let good = response_for(round, ids[0], 0);
    let record = |r: &sipas_core::response::Response| UploadRecord {
        content_hash: r.content_hash(),
        response: r.clone(),
    };
    let ok = device
        .upload(&UploadBatch {
            records: vec![record(&good)],
        })
        .await
        .unwrap();
    assert_eq!(ok.acks[0].status, AckStatus::Accepted);
    let stored = server_records(&server, round);
    assert_eq!(stored.len(), 1);

    let valid_json = serde_json::to_vec(&UploadBatch {
        records: vec![record(&response_for(round, ids[1], 1))],
    })
    .unwrap();
    let gz = gzip(&valid_json);
    let bomb = gzip(&vec![b' '; MAX_BATCH_BYTES + 1]);
    assert!(bomb.len() < MAX_BATCH_BYTES / 100);
    let cases: Vec<Case> = vec![
        ("not JSON", None, b"{\"records\": [".to_vec(), None, "400.1"),
        (
            "not an object",
            None,
            br#"["records"]"#.to_vec(),
            None,
            "400.1",
        ),
        (
            "truncated gzip",
            Some("gzip"),
            gz[..gz.len() / 2].to_vec(),
            None,
            "400.4",
        ),
        (
            "plain JSON labelled gzip",
            Some("gzip"),
            valid_json.clone(),
            None,
            "400.4",
        ),
        ("brotli", Some("br"), valid_json.clone(), None, "400.4"),
        (
            "declared oversized",
            None,
            b"{}".to_vec(),
            Some(MAX_BATCH_BYTES + 1),
            "413.2",
        ),
        ("gzip bomb", Some("gzip"), bomb, None, "413.2"),
    ];
    for (what, encoding, body, declared, code) in cases {
        let (status, answer) = post_batch(&addr, &token, encoding, &body, declared).await;
        assert_eq!(
            problem(status, &answer),
            (code[..3].parse().unwrap(), code.to_string()),
            "{what}"
        );
        assert_eq!(
            server_records(&server, round),
            stored,
            "{what} stored something"
        );
    }

    // A record of the wrong shape inside a well-formed batch is refused on its own: the batch
    // is answered, the record is `invalid` / `malformed`, kept in quarantine, nothing stored.
    let (status, answer) = post_batch(
        &addr,
        &token,
        None,
        br#"{"records": [{"response": {"id": 5}}]}"#,
        None,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let acks: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    assert_eq!(acks["acks"][0]["status"], "invalid");
    assert_eq!(acks["acks"][0]["reason_code"], "malformed");
    assert!(acks["acks"][0]["quarantine_id"].is_string());
    assert_eq!(server_records(&server, round), stored);

    // More than the record limit: 413.1, nothing stored (the records are all valid).
    let many = UploadBatch {
        records: (0..=MAX_BATCH_RECORDS)
            .map(|i| record(&response_for(round, ids[i % ids.len()], i as u64)))
            .collect(),
    };
    let (status, answer) = post_batch(
        &addr,
        &token,
        Some("gzip"),
        &gzip(&serde_json::to_vec(&many).unwrap()),
        None,
    )
    .await;
    assert_eq!(problem(status, &answer), (413, "413.1".into()));
    assert_eq!(server_records(&server, round), stored);

    // An unknown form version: the batch is accepted, the record is invalid with its reason.
    let mut wrong_version = response_for(round, ids[2], 2);
    wrong_version.form.version = "1999.9".into();
    let (status, answer) = post_batch(
        &addr,
        &token,
        None,
        &serde_json::to_vec(&UploadBatch {
            records: vec![record(&wrong_version)],
        })
        .unwrap(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let result: UploadResult = serde_json::from_slice(&answer).unwrap();
    assert_eq!(result.acks.len(), 1);
    assert_eq!(result.acks[0].status, AckStatus::Invalid);
    let reason = result.acks[0].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("unknown form version"), "{reason}");
    assert_eq!(server_records(&server, round), stored);

    // The server is still healthy: a good upload goes through.
    let next = response_for(round, ids[1], 9);
    let ok = device
        .upload(&UploadBatch {
            records: vec![record(&next)],
        })
        .await
        .unwrap();
    assert_eq!(ok.acks[0].status, AckStatus::Accepted);
    assert_eq!(server_records(&server, round).len(), 2);
}
