//! Ingest throughput benchmark (not a test): responses/s accepted by the real `sipas-server`
//! binary over HTTP (gzip batches of 250, per-record acks), on embedded SQLite and on
//! PostgreSQL, against the raw SQLite insert rate measured on the same machine in the same run
//! (the ceiling: same durability settings, same row size, no HTTP, no validation).
//!
//! Run with `bash scripts/bench.sh` (builds the release server first). Set
//! `SIPAS_TEST_DATABASE_URL` for the PostgreSQL figure. `SIPAS_BENCH_N` sets the number of
//! responses (default 10,000); `SIPAS_BENCH_RUST_LOG` the server's log level (default `info`);
//! `SIPAS_BENCH_HASH=legacy` sends the content hash of servers before the canonical form (to
//! measure an older `SIPAS_SERVER_BIN` in the same run).
//!
//! The client's own work is kept off the clock (it shares the machine's cores with the
//! server): every batch is serialised and gzip-compressed exactly as the sync client does it
//! ([`sipas_sync::client::gzip_json`]) before the clock starts, then sent as it is over HTTP/1.1.
//! `SIPAS_BENCH_CLIENT=sync` times the sync client's `upload` instead (encoding on the clock,
//! as the figures before 2026-12-02 (d) were taken).
//!
//! Each backend is measured twice, each time on a fresh server: one device sending one batch
//! at a time (the figure of earlier sessions), and `SIPAS_BENCH_DEVICES` devices (default 4)
//! of the same surveyor uploading at once, each one batch at a time, as the devices of a
//! province do: the server checks one batch while it writes another.
use sipas_testkit::{fixture, server};

use fixture::{enrol_device, response_for, seed_people, seed_round};
use server::{Backend, Options, TestServer};
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord, UploadResult};
use std::time::Instant;

const BATCH: usize = 250;

fn main() {
    let n: usize = std::env::var("SIPAS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = sipas_testkit::bench::runtime();

    let sample = response_for("BENCH", uuid::Uuid::now_v7(), 0);
    let row_bytes = serde_json::to_vec(&sample).unwrap().len();
    println!("responses: {n}, batch: {BATCH}, response JSON: {row_bytes} bytes");

    let raw = raw_sqlite_rate(n, row_bytes);
    println!("raw SQLite insert (WAL, synchronous=FULL, {BATCH}/tx): {raw:.0} rows/s  [ceiling]");

    let devices: usize = std::env::var("SIPAS_BENCH_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for lanes in [1, devices.max(1)] {
            match rt.block_on(http_ingest_rate(backend, n, lanes)) {
                Some(rate) => println!(
                    "sipas-server HTTP ingest on {backend:?}, {lanes} device(s) at once: \
                     {rate:.0} responses/s  ({:.2} x ceiling)",
                    rate / raw
                ),
                None => {
                    println!("sipas-server HTTP ingest on {backend:?}: skipped (no database URL)");
                    break;
                }
            }
        }
    }
}

/// Inserts `n` rows of `row_bytes` JSON into a fresh SQLite file, `BATCH` rows per transaction.
fn raw_sqlite_rate(n: usize, row_bytes: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE r (id TEXT NOT NULL, revision INTEGER NOT NULL, hash TEXT NOT NULL,
                         body TEXT NOT NULL, PRIMARY KEY (id, revision))",
    )
    .unwrap();
    let body = "x".repeat(row_bytes);
    let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let start = Instant::now();
    let mut conn = conn;
    for chunk in ids.chunks(BATCH) {
        let tx = conn.transaction().unwrap();
        {
            let mut st = tx
                .prepare_cached("INSERT INTO r (id, revision, hash, body) VALUES (?1, 1, ?2, ?3)")
                .unwrap();
            for id in chunk {
                st.execute(rusqlite::params![id, id, body]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Uploads `n` valid responses to a fresh real server from `lanes` enrolled devices at once
/// (batch `i` goes through device `i % lanes`, each device one batch at a time); returns
/// accepted responses per second of upload time (seeding excluded).
///
/// The server logs at `RUST_LOG=info`, its default in production. (Test servers log at
/// `debug` for the personal-data log check; from commit 4c46daf until this was set, the
/// benchmark inherited that and measured debug logging of every request: about half the
/// throughput.)
async fn http_ingest_rate(backend: Backend, n: usize, lanes: usize) -> Option<f64> {
    let rust_log = std::env::var("SIPAS_BENCH_RUST_LOG").unwrap_or_else(|_| "info".into());
    let server = TestServer::start_with(
        backend,
        Options {
            rust_log,
            ..Options::default()
        },
    )?;
    let people = seed_people(&server).await;
    // The sample arrives as one CSV file (`POST /rounds/{id}/sample`), then is assigned: off
    // the ingest clock, printed for the national-scale sample imports (issue 14).
    let seeding = Instant::now();
    let assignments = seed_round(&people, "BENCH", n).await;
    println!(
        "{backend:?}: sample of {n} imported (one CSV) and assigned in {:.2} s",
        seeding.elapsed().as_secs_f64()
    );
    let mut devices = Vec::with_capacity(lanes);
    for _ in 0..lanes {
        devices.push(enrol_device(&server, &people).await);
    }
    // A server from before the canonical content hash (for a before/after run) checks the
    // legacy hash.
    let legacy_hash = std::env::var("SIPAS_BENCH_HASH").is_ok_and(|v| v == "legacy");
    let batches: Vec<UploadBatch> = assignments
        .chunks(BATCH)
        .enumerate()
        .map(|(b, chunk)| UploadBatch {
            records: chunk
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let response = response_for("BENCH", *a, (b * BATCH + i) as u64);
                    let content_hash = if legacy_hash {
                        response.legacy_content_hash()
                    } else {
                        response.content_hash()
                    };
                    UploadRecord {
                        response,
                        content_hash,
                    }
                })
                .collect(),
        })
        .collect();
    let sync_client = std::env::var("SIPAS_BENCH_CLIENT").is_ok_and(|v| v == "sync");
    let bodies: Vec<Vec<u8>> = if sync_client {
        Vec::new()
    } else {
        batches
            .iter()
            .map(|b| sipas_sync::client::gzip_json(b).expect("gzip"))
            .collect()
    };
    let tokens: Vec<String> = devices
        .iter()
        .map(|d| d.token().expect("enrolled").to_owned())
        .collect();
    let base_url = devices[0].base_url().to_owned();
    let batches = std::sync::Arc::new(batches);
    let bodies = std::sync::Arc::new(bodies);
    let devices = std::sync::Arc::new(devices);
    println!("{backend:?}: uploading {n} responses from {lanes} device(s)");
    let start = Instant::now();
    let mut lane_tasks = Vec::with_capacity(lanes);
    for lane in 0..lanes {
        let (batches, bodies, devices) = (batches.clone(), bodies.clone(), devices.clone());
        let (token, base_url) = (tokens[lane].clone(), base_url.clone());
        lane_tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in (lane..batches.len()).step_by(lanes) {
                let result = if sync_client {
                    devices[lane].upload(&batches[i]).await.expect("upload")
                } else {
                    post_gzip(&base_url, &token, &bodies[i]).await
                };
                acks.extend(result.acks);
            }
            acks
        }));
    }
    let mut accepted = 0usize;
    let mut first_refusal = None;
    for task in lane_tasks {
        for ack in task.await.expect("upload lane") {
            if ack.status == AckStatus::Accepted {
                accepted += 1;
            } else if first_refusal.is_none() {
                first_refusal = Some(ack);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(
        accepted, n,
        "every response accepted exactly once; first refusal: {first_refusal:?}"
    );
    Some(n as f64 / secs)
}

/// `POST /api/v1/responses/batch` with a body already gzip-compressed; the upload result.
async fn post_gzip(base_url: &str, token: &str, body: &[u8]) -> UploadResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = sipas_testkit::raw_http::authority(base_url);
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/v1/responses/batch HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("send");
    stream.write_all(body).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("reply");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("reply head");
    let status = String::from_utf8_lossy(&raw[..split]);
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "upload refused: {status} {}",
        String::from_utf8_lossy(&raw[split + 4..])
    );
    serde_json::from_slice(&raw[split + 4..]).expect("upload result JSON")
}
