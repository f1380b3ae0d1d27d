//! Index / report at scale (issue 14; a benchmark, not a test): latency of
//! `GET /rounds/{id}/index` and `GET /rounds/{id}/report` and the peak RSS of the real
//! `sipas-server` binary, with N counted responses, on SQLite and PostgreSQL, for the two
//! paths in the same run: **before** (`SIPAS_INDEX_FROM_RESPONSES=1`: every counted response
//! re-read and re-parsed, the reference path) and **after** (the answer counts).
//!
//! Run: `bash scripts/bench.sh index` (or `cargo bench --bench index_scale` with
//! `SIPAS_SERVER_BIN` set to a release server). `SIPAS_BENCH_SIZES` (default `10000,100000`)
//! lists the sizes (`SIPAS_BENCH_BACKENDS`, default `sqlite,postgres`, the backends);
//! `SIPAS_BENCH_REPEAT` (default 3) the requests per endpoint and path;
//! `SIPAS_BENCH_CLIENT_TIMEOUT_SECS` (default 30) the client's timeout per request (the reference
//! path at 1,000,000 responses on PostgreSQL takes longer).
//! Up to `SIPAS_BENCH_HTTP_MAX` (default 20,000) responses, data is uploaded through the real
//! API (sample import, device upload in batches of 250), all responses `sipas-6-groups@2026.1`
//! of one unit. Above it, the round is seeded directly through the storage layer by the
//! `bench_seed` example of sipas-server (`SIPAS_SEED_BIN`; the same `import_sample`, `assign`
//! and `ingest` the handlers call, without HTTP and per-record validation), over
//! `SIPAS_BENCH_UNITS` (default 100) communes, 5 agencies and 3 fields. For each path the
//! server is restarted (a fresh process) and then asked `REPEAT` times for each endpoint
//! (index, report, results by agency without comparison, results by province; the before
//! path once from 500,000 responses); the RSS is the process's peak (`VmHWM`) after those
//! requests. `SIPAS_BENCH_PROVINCES` = P seeds national scale: P provinces of
//! `SIPAS_BENCH_UNITS` communes each (unit catalogue imported), so "results by province" is
//! the index per province and the ministry-level ranking of the provinces.
use sipas_testkit::{bench, fixture, server};

use fixture::{enrol_device, response_for, seed_people, seed_round};
use server::{Backend, Options, TestServer};
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord};
use std::time::Instant;

const BATCH: usize = 250;

fn main() {
    let repeat = bench::repeat();
    let rt = bench::runtime();
    println!(
        "| backend | N | seeding | ingest responses/s | path | index median ms | report median ms | results median ms | by province median ms | server peak RSS MiB |"
    );
    println!("|---|---:|---|---:|---|---:|---:|---:|---:|---:|");
    for (backend, n) in bench::runs("10000,100000") {
        if rt.block_on(run(backend, n, repeat)).is_none() {
            println!("| {backend:?} | {n} | skipped (no database URL) | | | | | | | |");
        }
    }
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
    let http_max: usize = std::env::var("SIPAS_BENCH_HTTP_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (seeding, ingest_rate) = if n > http_max {
        let bin =
            std::env::var("SIPAS_SEED_BIN").expect("SIPAS_SEED_BIN for N above the HTTP maximum");
        let units = std::env::var("SIPAS_BENCH_UNITS").unwrap_or_else(|_| "100".into());
        let provinces = std::env::var("SIPAS_BENCH_PROVINCES").unwrap_or_else(|_| "0".into());
        server.kill();
        let out = std::process::Command::new(bin)
            .args([
                server.database(),
                "BENCH".into(),
                n.to_string(),
                units,
                people.surveyor.id.to_string(),
                provinces,
            ])
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("run bench_seed");
        assert!(out.status.success(), "bench_seed failed");
        let rate: f64 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("rate");
        ("storage layer", rate)
    } else {
        ("HTTP", seed_http(&server, &people, n).await)
    };
    let mut reference: Option<[serde_json::Value; 4]> = None;
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
        let times = if path.starts_with("before") && n >= 500_000 {
            1
        } else {
            repeat
        };
        let (mut index_ms, mut report_ms, mut results_ms, mut province_ms) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut last = None;
        for _ in 0..times {
            let t = Instant::now();
            let index: serde_json::Value =
                sup.get_json("/rounds/BENCH/index").await.expect("index");
            index_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let report: serde_json::Value =
                sup.get_json("/rounds/BENCH/report").await.expect("report");
            report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let results: serde_json::Value = sup
                .get_json("/rounds/BENCH/results?by=agency&compare_to=none")
                .await
                .expect("results");
            results_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let provinces: serde_json::Value = sup
                .get_json("/rounds/BENCH/results?by=unit&level=province&compare_to=none")
                .await
                .expect("results by province");
            province_ms.push(t.elapsed().as_secs_f64() * 1000.0);
            last = Some([index, report, results, provinces]);
        }
        let peak = bench::peak_rss_mib(pid.parse().expect("server pid"));
        // Both paths must answer the same (generation times aside).
        let mut last = last.expect("at least one request");
        last[1]["stamp"]["generated_at"] = serde_json::Value::Null;
        last[2]["method"]["generated_at"] = serde_json::Value::Null;
        last[3]["method"]["generated_at"] = serde_json::Value::Null;
        match &reference {
            None => reference = Some(last),
            Some(r) => {
                assert_eq!(last[0], r[0], "index equal on both paths");
                assert_eq!(last[1], r[1], "report equal on both paths");
                assert_eq!(last[2], r[2], "results equal on both paths");
                assert_eq!(last[3], r[3], "results by province equal on both paths");
            }
        }
        println!(
            "| {backend:?} | {n} | {seeding} | {ingest_rate:.0} | {path} | {:.1} | {:.1} | {:.1} | {:.1} | {peak:.0} |",
            bench::median(index_ms),
            bench::median(report_ms),
            bench::median(results_ms),
            bench::median(province_ms)
        );
    }
    // `SIPAS_BENCH_PAUSE_SECS`: keep the database that long before it is dropped (to look
    // at it with psql, e.g. EXPLAIN ANALYZE of the counts query).
    if let Some(secs) = std::env::var("SIPAS_BENCH_PAUSE_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        eprintln!("database {} kept for {secs} s", server.database());
        tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    }
    Some(())
}

/// Seeds round BENCH with `n` responses through the API; returns the upload rate.
async fn seed_http(server: &TestServer, people: &fixture::People, n: usize) -> f64 {
    let assignments = seed_round(people, "BENCH", n).await;
    let device = enrol_device(server, people).await;
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
    ingest_rate
}
