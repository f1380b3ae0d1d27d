//! Device → server sync benchmark (not a test): N submitted responses (default 10,000) in a
//! real encrypted device store, drained by the real sync client into the real `sipas-server`
//! binary on loopback, end to end; then a second sync of the same store.
//!
//! Per run (a fresh server and a fresh store each time):
//! * set-up, not timed (its time is printed): a server with one round of N sampled
//!   respondents assigned to one surveyor, a device enrolled for them, an encrypted store
//!   (`Store::unlock` with a PIN, as the app opens it) that pulls the N assignments and
//!   interviews them the way the app does (draft, one autosave per answer, complete: the
//!   store's own API), so its outbox holds N pending responses. The interviews are written
//!   to a copy of the store in `/dev/shm` (memory: 10,000 interviews are ~300,000 autosaves,
//!   each a synced transaction, which would take most of an hour on this machine's disk);
//!   the closed file and its salt are then copied to disk, where the timed syncs run;
//! * timed: one `Syncer::sync` with `SyncConfig::default()` on a second connection opened
//!   with the PIN's key (`Store::open_with_key`, as the app's sync engine does): push of the
//!   whole outbox, then the pull. It must acknowledge all N and leave the outbox drained;
//! * timed: a second `Syncer::sync` of the same store, which must upload no response.
//!
//! Baseline, same run and server: the same number of responses uploaded by the bench straight
//! from memory (`ApiClient::upload`, batches of 500, no device store) into a second round: the
//! ratio shows what the device store and the sync engine add to the server's own ingest.
//!
//! The client reaches the server through `sipas_testkit::counting_proxy` (a loopback TCP
//! relay recording each request's bytes), which gives the bytes sent on the wire.
//!
//! Run: `cargo bench --locked --bench device_sync` with `SIPAS_SERVER_BIN` set to the release
//! server (`--profile release-server`; `scripts/bench.sh sync` does both). Settings:
//! `SIPAS_BENCH_N` (responses, default 10,000), `SIPAS_BENCH_RUNS` (default 3),
//! `SIPAS_BENCH_BACKENDS` (default `sqlite,postgres`; PostgreSQL needs
//! `SIPAS_TEST_DATABASE_URL`, else it is skipped).
use sipas_testkit::counting_proxy::CountingProxy;
use sipas_testkit::{bench, fixture, server};

use fixture::{enrol_device, interview, seed_people, seed_round, server_records, upload_batches};
use server::{Backend, Options, TestServer};
use sipas_protocol::MAX_BATCH_RECORDS;
use sipas_protocol::wire::AckStatus;
use sipas_store::Store;
use sipas_store::encryption::salt_path;
use sipas_sync::{ApiClient, SyncConfig, Syncer, sync_status};
use std::time::{Duration, Instant};

const ROUND: &str = "BENCH-SYNC";
/// Round of the baseline (raw uploads without a device store).
const RAW_ROUND: &str = "BENCH-RAW";
/// The surveyor's PIN of the benchmark store.
const PIN: &str = "246810";
/// Path of the upload endpoint.
const UPLOAD: &str = "/responses/batch";

/// Figures of one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    setup: Duration,
    first: Duration,
    batches: usize,
    pulled: usize,
    upload_bytes: usize,
    request_bytes: usize,
    second: Duration,
    second_uploads: usize,
    second_upload_bytes: usize,
    second_request_bytes: usize,
    raw: Duration,
}

fn main() {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let n: usize = env("SIPAS_BENCH_N").map_or(10_000, |v| v.parse().expect("SIPAS_BENCH_N"));
    let runs: usize = env("SIPAS_BENCH_RUNS").map_or(3, |v| v.parse().expect("SIPAS_BENCH_RUNS"));
    let backends = env("SIPAS_BENCH_BACKENDS").unwrap_or_else(|| "sqlite,postgres".into());
    let rt = bench::runtime();
    println!(
        "responses: {n}, runs: {runs}, server: {}",
        server::server_binary().display()
    );
    for name in backends.split(',') {
        let backend = match name.trim() {
            "sqlite" => Backend::Sqlite,
            "postgres" => Backend::Postgres,
            other => panic!("unknown backend {other:?} in SIPAS_BENCH_BACKENDS"),
        };
        let mut all = Vec::new();
        for i in 1..=runs {
            let Some(run) = rt.block_on(one_run(backend, n)) else {
                println!("{backend:?}: skipped (no database URL)");
                break;
            };
            println!(
                "{backend:?} run {i}: set-up {:.1} s | first sync {:.2} s ({:.0} responses/s), \
                 {} uploads, {} upload body bytes ({:.0} B/response), {} request bytes in all, \
                 {} assignments pulled back | second sync {:.3} s, {} uploads, {} upload body bytes, {} request bytes in all | baseline raw upload {:.2} s ({:.0} responses/s)",
                run.setup.as_secs_f64(),
                run.first.as_secs_f64(),
                n as f64 / run.first.as_secs_f64(),
                run.batches,
                run.upload_bytes,
                run.upload_bytes as f64 / n as f64,
                run.request_bytes,
                run.pulled,
                run.second.as_secs_f64(),
                run.second_uploads,
                run.second_upload_bytes,
                run.second_request_bytes,
                run.raw.as_secs_f64(),
                n as f64 / run.raw.as_secs_f64(),
            );
            all.push(run);
        }
        if all.is_empty() {
            continue;
        }
        let first = bench::median(all.iter().map(|r| r.first.as_secs_f64()).collect());
        let second = bench::median(all.iter().map(|r| r.second.as_secs_f64()).collect());
        let raw = bench::median(all.iter().map(|r| r.raw.as_secs_f64()).collect());
        let setup = bench::median(all.iter().map(|r| r.setup.as_secs_f64()).collect());
        println!(
            "{backend:?} median of {}: first sync {first:.2} s = {:.0} responses/s \
             ({:.2} x the raw-upload baseline {raw:.2} s); second sync {second:.3} s, upload \
             body bytes {} (max over runs); set-up {setup:.0} s (not timed)",
            all.len(),
            n as f64 / first,
            first / raw,
            all.iter().map(|r| r.second_upload_bytes).max().unwrap_or(0),
        );
    }
}

/// `/dev/shm` when it exists (Linux), else the temporary directory.
fn shm_dir() -> std::path::PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// One fresh run; `None` when the backend is unavailable.
async fn one_run(backend: Backend, n: usize) -> Option<Run> {
    let started = Instant::now();
    // The server logs at `info`, its production default (as in benches/ingest.rs).
    let server = TestServer::start_with(backend, Options::info_logs())?;
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, n).await;
    let device = enrol_device(&server, &people).await;
    let proxy = CountingProxy::start(&server.url).await;
    let client = ApiClient::new(&proxy.url)
        .expect("client")
        .with_token(device.token().expect("device token"));
    let syncer = Syncer::new(client, SyncConfig::default());

    // The surveyor's store: unlocked with the PIN, assignments pulled, N interviews; built
    // in memory-backed /dev/shm, then moved to disk.
    let shm = tempfile::Builder::new()
        .prefix("sipas-device-sync-")
        .tempdir_in(shm_dir())
        .expect("temporary directory for the store");
    let built = shm.path().join("device.db");
    let (mut store, key) = Store::unlock(&built, PIN).expect("unlock the device store");
    let pulled = syncer.pull(&mut store).await.expect("pull the assignments");
    assert_eq!(pulled.assignments, n, "{pulled:?}");
    let responses = interview(&mut store, n);
    assert_eq!(sync_status(&store).expect("status").pending as usize, n);
    drop(store);
    let db = server.dir().join("device.db");
    for (from, to) in [
        (built.clone(), db.clone()),
        (salt_path(&built), salt_path(&db)),
    ] {
        std::fs::copy(&from, &to).expect("copy the store to disk");
    }
    assert!(
        !with_suffix(&built, "-wal").exists()
            || std::fs::metadata(with_suffix(&built, "-wal"))
                .map(|m| m.len())
                .unwrap_or(0)
                == 0,
        "the closed store left no write-ahead log behind"
    );
    std::fs::File::open(&db)
        .and_then(|f| f.sync_all())
        .expect("sync the copy");
    drop(shm);
    let setup = started.elapsed();

    // The sync engine's own connection, opened with the PIN's key.
    let mut engine = Store::open_with_key(&db, &key).expect("engine connection");
    engine.set_actor("sync");
    proxy.clear();
    let t = Instant::now();
    let report = syncer.sync(&mut engine).await.expect("first sync");
    let first = t.elapsed();
    assert_eq!(
        (
            report.push.acked,
            report.push.rejected,
            report.push.unacknowledged
        ),
        (n, 0, 0),
        "{report:?}"
    );
    let status = sync_status(&engine).expect("status");
    assert_eq!(
        (status.pending, status.in_flight, status.acked as usize),
        (0, 0, n)
    );
    let uploads = proxy.requests_to(UPLOAD);
    let seen = proxy.requests();
    assert_eq!(
        server_records(&server, ROUND).len(),
        responses.len(),
        "the server holds every response once"
    );

    proxy.clear();
    let t = Instant::now();
    let again = syncer.sync(&mut engine).await.expect("second sync");
    let second = t.elapsed();
    assert_eq!(again.push.sent, 0, "{again:?}");
    let uploads2 = proxy.requests_to(UPLOAD);
    let seen2 = proxy.requests();
    let bytes = |r: &[sipas_testkit::counting_proxy::SeenRequest]| -> usize {
        r.iter().map(|r| r.head_bytes + r.body_bytes).sum()
    };
    // Baseline, same server, same run: the same number of responses uploaded straight from
    // memory (prebuilt batches of 500 through `ApiClient::upload`, no device store), into a
    // second round.
    let raw_ids = seed_round(&people, RAW_ROUND, n).await;
    let batches = upload_batches(RAW_ROUND, &raw_ids, MAX_BATCH_RECORDS);
    let t = Instant::now();
    let mut accepted = 0;
    for batch in &batches {
        let result = device.upload(batch).await.expect("raw upload");
        accepted += result
            .acks
            .iter()
            .filter(|a| a.status == AckStatus::Accepted)
            .count();
    }
    let raw = t.elapsed();
    assert_eq!(accepted, n, "every raw response accepted");

    Some(Run {
        raw,
        setup,
        first,
        batches: uploads.len(),
        pulled: report.pull.assignments,
        upload_bytes: uploads.iter().map(|r| r.body_bytes).sum(),
        request_bytes: bytes(&seen),
        second,
        second_uploads: uploads2.len(),
        second_upload_bytes: uploads2.iter().map(|r| r.body_bytes).sum(),
        second_request_bytes: bytes(&seen2),
    })
}
