//! Microdata and profile results at scale (issue 14, "memory is bounded everywhere a request
//! reads a whole round: stream rows"; a benchmark, not a test): time and peak RSS (`VmHWM`)
//! of the real `sipas-server` for `GET /rounds/{id}/microdata` (csv, xlsx, sps),
//! `GET /rounds/{id}/results?by=profile:A1`, `GET /review/queue` (whole, and its first
//! page of 100: the after binary only), `GET /rounds/{id}/assignments` (one page) and
//! `GET /rounds/{id}/progress?by=unit` and `POST /rounds/{id}/assign` of 5,000 ids (each
//! looked up by id since 2026-12-03 (i); before, the round's rows were read to find them)
//! with N counted responses, for two server
//! binaries on the same database in the same run: **before** (`SIPAS_SERVER_BIN_BEFORE`, a
//! release build of main: every counted response of the round read at once; left out when
//! unset) and **after** (`SIPAS_SERVER_BIN`: rows streamed).
//!
//! Run: `SIPAS_SERVER_BIN=… SIPAS_SERVER_BIN_BEFORE=… SIPAS_SEED_BIN=… cargo bench --bench
//! microdata_scale` with release-server builds. When the after binary adds a migration, set
//! the database up with the before binary and seed (`SIPAS_SERVER_BIN`, `SIPAS_SEED_BIN` of
//! main) and give the new one as `SIPAS_SERVER_BIN_AFTER`; it migrates the database when it
//! starts, so measure one endpoint per run (`SIPAS_BENCH_ONLY`). `SIPAS_BENCH_SIZES` (default
//! `10000,100000`), `SIPAS_BENCH_BACKENDS` (default `sqlite,postgres`),
//! `SIPAS_BENCH_ONLY` (only the endpoints whose name contains it, e.g. `review`),
//! `SIPAS_BENCH_REPEAT` (default 3: requests per endpoint and binary; 1 for the before binary
//! from 500,000 responses), `SIPAS_BENCH_UNITS` (default 100 communes). The round is seeded
//! through the storage layer by the `bench_seed` example of sipas-server (`SIPAS_SEED_BIN`,
//! as `benches/index_scale.rs` does above its HTTP maximum), 5 agencies and 3 fields; on
//! PostgreSQL the bench then runs `ANALYZE`, as autovacuum would a minute after the load. Every
//! endpoint is asked of a fresh process, so the peak is that endpoint's. The two binaries
//! must answer the same: CSV and SPSS files, the review queue, the assignments page and the
//! progress byte for byte (SHA-256), the results JSON apart
//! from its generation time; the XLSX size is shown (its cells are compared by
//! `crates/server/tests/streamed_exports.rs`).
use sha2::{Digest, Sha256};
use sipas_testkit::bench::{self, median, peak_rss_mib};
use sipas_testkit::fixture::seed_people;
use sipas_testkit::raw_http::{self, Req};
use sipas_testkit::server::{Backend, Options, TestServer};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The endpoints measured: name, path and whether the before binary serves it too.
const ENDPOINTS: [(&str, &str, bool); 8] = [
    (
        "microdata csv",
        "/api/v1/rounds/BENCH/microdata?format=csv",
        true,
    ),
    (
        "microdata xlsx",
        "/api/v1/rounds/BENCH/microdata?format=xlsx",
        true,
    ),
    (
        "microdata sps",
        "/api/v1/rounds/BENCH/microdata?format=sps",
        true,
    ),
    (
        "results by=profile:A1",
        "/api/v1/rounds/BENCH/results?by=profile:A1&compare_to=none",
        true,
    ),
    (
        "review queue (whole)",
        "/api/v1/review/queue?round_id=BENCH&state=all",
        true,
    ),
    (
        "review queue (page of 100)",
        "/api/v1/review/queue?round_id=BENCH&state=all&limit=100",
        false,
    ),
    (
        "assignments (page of 100)",
        "/api/v1/rounds/BENCH/assignments?limit=100&offset=500",
        true,
    ),
    (
        "progress by unit",
        "/api/v1/rounds/BENCH/progress?by=unit",
        true,
    ),
];

fn main() {
    let repeat = bench::repeat();
    let rt = bench::runtime();
    println!(
        "| backend | N | endpoint | server | median s | bytes | server peak RSS MiB | RSS ratio after/before |"
    );
    println!("|---|---:|---|---|---:|---:|---:|---:|");
    for (backend, n) in bench::runs("10000,100000") {
        if rt.block_on(run(backend, n, repeat)).is_none() {
            println!("| {backend:?} | {n} | skipped (no database URL) | | | | | |");
        }
    }
}

/// `bin` serving `database` on `listen`, once it says it listens.
fn spawn(bin: &str, database: &str, listen: &str) -> Child {
    let mut child = Command::new(bin)
        .args(["--database", database, "--listen", listen])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.starts_with("sipas-server listening on ") => break,
            Some(Ok(_)) => {}
            _ => panic!("{bin} ended before listening"),
        }
    }
    // Keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

/// What an answer is compared by across the two binaries.
fn fingerprint(endpoint: &str, body: &[u8]) -> String {
    if endpoint.starts_with("results") {
        let mut v: serde_json::Value = serde_json::from_slice(body).expect("results JSON");
        v["method"]["generated_at"] = serde_json::Value::Null;
        hex(&Sha256::digest(v.to_string().as_bytes()))
    } else if endpoint.ends_with("xlsx") {
        String::new()
    } else {
        hex(&Sha256::digest(body))
    }
}

/// The assign-by-ids request of the bench (`POST /rounds/{id}/assign`).
const ASSIGN: &str = "assign 5,000 by ids";
/// How many ids it names.
const ASSIGN_IDS: usize = 5_000;

/// The ids of the `n` last assignments of round `BENCH`, read from the database.
async fn last_assignment_ids(backend: Backend, database: &str, n: usize) -> Vec<String> {
    let sql = format!(
        "SELECT CAST(id AS TEXT) FROM assignments WHERE round_id = 'BENCH' ORDER BY id DESC LIMIT {n}"
    );
    match backend {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(database).expect("open the bench database");
            let mut stmt = conn.prepare(&sql).expect("prepare");
            stmt.query_map([], |r| r.get(0))
                .expect("query")
                .collect::<Result<_, _>>()
                .expect("ids")
        }
        Backend::Postgres => {
            let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls)
                .await
                .expect("connect for the ids");
            tokio::spawn(connection);
            client
                .query(&sql, &[])
                .await
                .expect("ids")
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect()
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn run(backend: Backend, n: usize, repeat: usize) -> Option<()> {
    let server = TestServer::start_with(
        backend,
        Options {
            rust_log: "info".into(),
            ..Options::default()
        },
    )?;
    let people = seed_people(&server).await;
    let token = people.supervisor.token().expect("signed in").to_owned();
    server.kill();
    let seed = std::env::var("SIPAS_SEED_BIN").expect("SIPAS_SEED_BIN (bench_seed)");
    let units = std::env::var("SIPAS_BENCH_UNITS").unwrap_or_else(|_| "100".into());
    let seeded = Command::new(seed)
        .args([
            server.database(),
            "BENCH".into(),
            n.to_string(),
            units,
            people.surveyor.id.to_string(),
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run bench_seed");
    assert!(seeded.status.success(), "bench_seed failed");
    if backend == Backend::Postgres {
        // Statistics as autovacuum leaves them a minute after a load: the requests start at
        // once, and plans made on the empty tables' statistics are not what a server that has
        // been collecting for weeks runs.
        let (client, connection) =
            tokio_postgres::connect(&server.database(), tokio_postgres::NoTls)
                .await
                .expect("connect to analyze");
        tokio::spawn(connection);
        client.batch_execute("ANALYZE").await.expect("ANALYZE");
    }
    let listen = raw_http::authority(&server.url);
    // The after binary may differ from the one that set the database up (`SIPAS_SERVER_BIN`):
    // a before binary refuses a schema newer than its own, the after binary migrates forward.
    let after = std::env::var("SIPAS_SERVER_BIN_AFTER")
        .or_else(|_| std::env::var("SIPAS_SERVER_BIN"))
        .expect("SIPAS_SERVER_BIN");
    let mut bins = vec![("after (streamed)", after)];
    if let Ok(before) = std::env::var("SIPAS_SERVER_BIN_BEFORE") {
        bins.insert(0, ("before (main)", before));
    }
    let only = std::env::var("SIPAS_BENCH_ONLY").unwrap_or_default();
    // Assign by ids: the last ASSIGN_IDS assignments of the round, to the surveyor who holds
    // them (the answer, `{"assigned": N}`, is the same from both binaries every time).
    let assign_body = if ASSIGN.contains(only.as_str()) {
        let ids = last_assignment_ids(backend, &server.database(), ASSIGN_IDS).await;
        Some(serde_json::json!({ "assignment_ids": ids, "surveyor_id": people.surveyor.id }))
    } else {
        None
    };
    let assign_entry = assign_body
        .as_ref()
        .map(|_| (ASSIGN, "/api/v1/rounds/BENCH/assign", true));
    for (endpoint, path, both) in ENDPOINTS.iter().copied().chain(assign_entry) {
        if !endpoint.contains(only.as_str()) {
            continue;
        }
        let mut seen: Option<(String, f64)> = None;
        for (label, bin) in &bins {
            if !both && label.starts_with("before") {
                continue;
            }
            let mut child = spawn(bin, &server.database(), &listen);
            let times = if label.starts_with("before") && n >= 500_000 {
                1
            } else {
                repeat
            };
            let (mut secs, mut bytes, mut print) = (Vec::new(), 0, String::new());
            for _ in 0..times {
                let t = Instant::now();
                let req = match &assign_body {
                    Some(body) if endpoint == ASSIGN => {
                        Req::new("POST", path).token(&token).json(body.clone())
                    }
                    _ => Req::new("GET", path).token(&token),
                };
                let answer = raw_http::send(&server.url, req).await;
                secs.push(t.elapsed().as_secs_f64());
                assert_eq!(answer.status, 200, "{label} {endpoint}");
                bytes = answer.body.len();
                print = fingerprint(endpoint, &answer.body);
            }
            let peak = peak_rss_mib(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let ratio = match &seen {
                None => String::new(),
                Some((p, before_peak)) => {
                    assert_eq!(&print, p, "{endpoint}: both binaries answer the same");
                    format!("{:.2}", peak / before_peak)
                }
            };
            if seen.is_none() {
                seen = Some((print, peak));
            }
            println!(
                "| {backend:?} | {n} | {endpoint} | {label} | {:.2} | {bytes} | {peak:.0} | {ratio} |",
                median(secs)
            );
        }
    }
    Some(())
}
