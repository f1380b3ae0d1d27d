//! Index / report at scale (issue 14; a benchmark, not a test): latency of
//! `GET /rounds/{id}/index` and `GET /rounds/{id}/report` and the peak RSS of the real
//! `sipas-server` binary, with N counted responses, on SQLite and PostgreSQL, for the two
//! paths in the same run: **before** (`SIPAS_INDEX_FROM_RESPONSES=1`: every counted response
//! re-read and re-parsed, the reference path) and **after** (the answer counts).
//!
//! Run: `bash scripts/bench.sh index` (or `cargo bench --bench index_scale` with
//! `SIPAS_SERVER_BIN` set to a release server). `SIPAS_BENCH_SIZES` (default `10000,100000`)
//! lists the sizes; `SIPAS_BENCH_REPEAT` (default 3) the requests per endpoint and path.
//! Data is uploaded through the real API (sample import, device upload in batches of 250),
//! all responses `sipas-6-groups@2026.1` of one unit. For each path the server is restarted
//! (a fresh process) and then asked `REPEAT` times for each endpoint; the RSS is the process's
//! peak (`VmHWM`) after those requests.
use sipas_testkit::{fixture, server};

use fixture::{enrol_device, response_for, seed_people, seed_round};
use server::{Backend, Options, TestServer};
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord};
use std::time::Instant;

const BATCH: usize = 250;

fn main() {
    let sizes: Vec<usize> = std::env::var("SIPAS_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let repeat: usize = std::env::var("SIPAS_BENCH_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "| backend | N | ingest responses/s | path | index median ms | report median ms | server peak RSS MiB |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for &n in &sizes {
            if rt.block_on(run(backend, n, repeat)).is_none() {
                println!("| {backend:?} | {n} | skipped (no database URL) | | | | |");
            }
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

/// Peak and current RSS (MiB) of process `pid`.
fn rss(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmHWM:") / 1024.0, kib("VmRSS:") / 1024.0)
}

async fn run(backend: Backend, n: usize, repeat: usize) -> Option<()> {
    let mut server = TestServer::start_with(
        backend,
        Options {
            rust_log: "info".into(),
            ..Options::default()
        },
    )?;
    let people = seed_people(&server).await;
    let assignments = seed_round(&people, "BENCH", n).await;
    let device = enrol_device(&server, &people).await;
    let start = Instant::now();
    let mut accepted = 0usize;
    for (b, chunk) in assignments.chunks(BATCH).enumerate() {
        let batch = UploadBatch {
            records: chunk
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let response = response_for("BENCH", *a, (b * BATCH + i) as u64);
                    let content_hash = response.content_hash();
                    UploadRecord {
                        response,
                        content_hash,
                    }
                })
                .collect(),
        };
        let result = device.upload(&batch).await.expect("upload");
        accepted += result
            .acks
            .iter()
            .filter(|a| a.status == AckStatus::Accepted)
            .count();
    }
    let ingest_rate = n as f64 / start.elapsed().as_secs_f64();
    assert_eq!(accepted, n, "every response accepted");
    let mut reference: Option<(serde_json::Value, serde_json::Value)> = None;
    for (path, args) in [
        (
            "before (responses)",
            vec!["--index-from-responses".to_owned()],
        ),
        ("after (counts)", Vec::new()),
    ] {
        server.set_args(args);
        server.restart_same_address();
        let pid = server
            .log_paths()
            .last()
            .and_then(|p| p.file_stem())
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_prefix("server-"))
            .expect("server pid in the log name")
            .to_owned();
        let sup = &people.supervisor;
        let (mut index_ms, mut report_ms) = (Vec::new(), Vec::new());
        let mut last = None;
        for _ in 0..repeat {
            let t = Instant::now();
            let index: serde_json::Value =
                sup.get_json("/rounds/BENCH/index").await.expect("index");
            index_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let report: serde_json::Value =
                sup.get_json("/rounds/BENCH/report").await.expect("report");
            report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            last = Some((index, report));
        }
        let (peak, _) = rss(&pid);
        // Both paths must answer the same (the report's generation time aside).
        let (index, mut report) = last.expect("at least one request");
        report["stamp"]["generated_at"] = serde_json::Value::Null;
        match &reference {
            None => reference = Some((index, report)),
            Some((ri, rr)) => {
                assert_eq!(&index, ri, "index equal on both paths");
                assert_eq!(&report, rr, "report equal on both paths");
            }
        }
        println!(
            "| {backend:?} | {n} | {ingest_rate:.0} | {path} | {:.1} | {:.1} | {peak:.0} |",
            median(index_ms),
            median(report_ms)
        );
    }
    Some(())
}
