//! Backups taken while the server works (issue 14): a device uploads continuously to the real
//! `sipas-server` while the backup runs several times as its own process
//! (`sipas-server backup` on SQLite, `pg_dump --format=custom` on PostgreSQL). The last backup
//! is restored into an empty database (`sipas-server restore`, `pg_restore`) and a server is
//! started on it — for SQLite through a configuration file (`--config`), with a flag that
//! overrides one of its keys. Every response acknowledged before a backup started is in that
//! backup (count and ids), nothing in it was never sent, SQLite's `integrity_check` and
//! `foreign_key_check` are clean, and the restored server answers every acknowledged record
//! as a `duplicate`.
//!
//! Fault cases: a restore into a non-empty database is refused and changes nothing; a backup
//! into an unwritable place fails with a clear message and a non-zero exit code; a backup
//! never overwrites a file; `backup` / `restore` of a PostgreSQL URL point to pg_dump /
//! pg_restore.
use sipas_testkit::{fixture, pg, server};

use fixture::{enrol_device, response_for, seed_people, seed_round};
use server::{Backend, TestServer, log_dir, server_binary};
use sipas_core::response::Response;
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord};
use sipas_sync::ApiClient;
use std::collections::{BTreeSet, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Backups taken while the uploads run.
const BACKUPS: usize = 4;
/// Assignments of the round (more than the uploads can use up while the backups run).
const ASSIGNMENTS: usize = 1500;
/// Records per upload.
const BATCH: usize = 5;
/// Pause between uploads (the device keeps uploading, the server keeps writing).
const PAUSE: Duration = Duration::from_millis(15);

type Key = (Uuid, u32);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_uploads_on_sqlite() {
    backup_during_uploads(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_during_uploads_on_postgres() {
    backup_during_uploads(Backend::Postgres).await;
}

fn batch(records: &[Response]) -> UploadBatch {
    UploadBatch {
        records: records
            .iter()
            .map(|r| UploadRecord {
                response: r.clone(),
                content_hash: r.content_hash(),
            })
            .collect(),
    }
}

fn device_client(url: &str, token: &str) -> ApiClient {
    ApiClient::with_timeout(url, Duration::from_secs(30))
        .unwrap()
        .with_token(token)
}

/// What the uploading device has sent and had acknowledged so far.
#[derive(Default)]
struct Uploads {
    sent: Vec<Response>,
    acked: HashSet<Key>,
    finished: bool,
}

/// Uploads new responses, `BATCH` at a time, until `stop` or the assignments run out.
fn start_uploads(
    url: String,
    token: String,
    round: &'static str,
    assignments: Vec<Uuid>,
    state: Arc<Mutex<Uploads>>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = device_client(&url, &token);
        for (n, chunk) in assignments.chunks(BATCH).enumerate() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let records: Vec<Response> = chunk
                .iter()
                .enumerate()
                .map(|(i, a)| response_for(round, *a, (n * BATCH + i) as u64))
                .collect();
            state.lock().unwrap().sent.extend(records.iter().cloned());
            let result = client
                .upload(&batch(&records))
                .await
                .unwrap_or_else(|e| panic!("upload {n} failed: {e}"));
            {
                let mut s = state.lock().unwrap();
                for ack in result.acks {
                    assert_eq!(ack.status, AckStatus::Accepted, "upload {n}: {ack:?}");
                    s.acked.insert((ack.id, ack.revision));
                }
            }
            tokio::time::sleep(PAUSE).await;
        }
        state.lock().unwrap().finished = true;
    })
}

/// Runs a command to completion (from async code) and returns its output.
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("starting the command"))
        .await
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn sipas(args: &[&str]) -> Command {
    let mut cmd = Command::new(server_binary());
    cmd.args(args).env("RUST_LOG", "info").stdin(Stdio::null());
    cmd
}

fn pg_tool(name: &str) -> Command {
    let mut cmd = Command::new(name);
    cmd.stdin(Stdio::null());
    cmd
}

/// Response keys and content hashes of a SQLite server database, after checking it.
fn sqlite_keys(path: &Path) -> BTreeSet<(Uuid, u32, String)> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let check: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(check, ["ok"], "integrity_check of {}", path.display());
    let dangling: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(dangling, 0, "foreign_key_check of {}", path.display());
    let mut stmt = conn
        .prepare("SELECT CAST(id AS TEXT), revision, content_hash FROM responses")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            Uuid::parse_str(&r.get::<_, String>(0)?).unwrap(),
            u32::try_from(r.get::<_, i64>(1)?).unwrap(),
            r.get::<_, String>(2)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Response keys and content hashes of a PostgreSQL server database.
fn pg_keys(url: &str) -> BTreeSet<(Uuid, u32, String)> {
    pg::with_pg(url, |c| {
        Box::pin(async move {
            c.query(
                "SELECT id::text, revision, content_hash FROM responses",
                &[],
            )
            .await
            .expect("reading responses")
            .into_iter()
            .map(|row| {
                let id: String = row.get(0);
                let rev: i32 = row.get(1);
                (
                    Uuid::parse_str(&id).unwrap(),
                    u32::try_from(rev).unwrap(),
                    row.get::<_, String>(2),
                )
            })
            .collect()
        })
    })
}

/// A `sipas-server` started by this test on a database of its choosing; killed on drop.
struct Spawned {
    child: Child,
    url: String,
}

impl Spawned {
    fn start(args: &[&str]) -> Spawned {
        let log_path = log_dir().join(format!("server-restored-{}.log", Uuid::now_v7().simple()));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut child = Command::new(server_binary())
            .args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone().unwrap()))
            .spawn()
            .expect("starting sipas-server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut log = log;
            let mut sent = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(log, "{line}");
                if !sent && let Some(rest) = line.strip_prefix("sipas-server listening on ") {
                    let _ = tx.send(rest.trim().to_string());
                    sent = true;
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => Spawned { child, url },
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the server on the restored database did not start; log {}:\n{}",
                    log_path.display(),
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
        }
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn backup_during_uploads(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let t0 = Instant::now();
    let round: &'static str = "BACKUP-1";
    let people = seed_people(&server).await;
    let assignments = seed_round(&people, round, ASSIGNMENTS).await;
    let token = enrol_device(&server, &people)
        .await
        .token()
        .unwrap()
        .to_string();
    let work = server.dir().join("backups");
    std::fs::create_dir_all(&work).unwrap();

    let state = Arc::new(Mutex::new(Uploads::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let uploads = start_uploads(
        server.url.clone(),
        token.clone(),
        round,
        assignments,
        state.clone(),
        stop.clone(),
    );
    let acked_now = || state.lock().unwrap().acked.clone();
    let wait_until = Instant::now();
    while acked_now().len() < 50 {
        assert!(
            wait_until.elapsed() < Duration::from_secs(60),
            "uploads did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Backups while the device uploads.
    let mut backups: Vec<(PathBuf, HashSet<Key>)> = Vec::new();
    let mut grew_during = 0;
    for i in 0..BACKUPS {
        let before = acked_now();
        let file = work.join(format!("backup-{i}.db"));
        let started = Instant::now();
        let out = match backend {
            Backend::Sqlite => {
                run(sipas(&[
                    "backup",
                    "--database",
                    &server.database(),
                    "--out",
                    file.to_str().unwrap(),
                ]))
                .await
            }
            Backend::Postgres => {
                let mut cmd = pg_tool("pg_dump");
                cmd.args(["--format=custom", "--file"])
                    .arg(&file)
                    .arg(server.database());
                run(cmd).await
            }
        };
        assert!(out.status.success(), "backup {i}: {}", text(&out));
        if backend == Backend::Sqlite {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.starts_with("backup written: "), "{}", text(&out));
        }
        let after = acked_now().len();
        let finished = state.lock().unwrap().finished;
        assert!(
            !finished,
            "backup {i}: the uploads ended before the backup did; raise ASSIGNMENTS"
        );
        if after > before.len() {
            grew_during += 1;
        }
        eprintln!(
            "  {backend:?} backup {i}: {} ms, {} responses acknowledged before it, {after} when it ended, {} bytes",
            started.elapsed().as_millis(),
            before.len(),
            std::fs::metadata(&file).unwrap().len()
        );
        backups.push((file, before));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        grew_during > 0,
        "no upload was acknowledged while any backup ran: the test did not test concurrency"
    );
    stop.store(true, Ordering::SeqCst);
    uploads.await.expect("the upload task");
    let (sent, acked) = {
        let s = state.lock().unwrap();
        (s.sent.clone(), s.acked.clone())
    };
    let sent_keys: BTreeSet<(Uuid, u32, String)> = sent
        .iter()
        .map(|r| (r.id, r.revision, r.content_hash()))
        .collect();

    // Every SQLite backup: intact, holds what was acknowledged before it, nothing unsent.
    if backend == Backend::Sqlite {
        for (i, (file, before)) in backups.iter().enumerate() {
            let keys = sqlite_keys(file);
            let ids: HashSet<Key> = keys.iter().map(|k| (k.0, k.1)).collect();
            let missing = before.difference(&ids).count();
            assert_eq!(
                missing, 0,
                "backup {i}: {missing} acknowledged responses missing"
            );
            assert!(
                keys.is_subset(&sent_keys),
                "backup {i}: holds unsent records"
            );
            // No sidecar files: a backup is one self-contained file.
            assert!(!Path::new(&format!("{}-wal", file.display())).exists());
        }
    }

    // Restore the last backup into an empty database and start a server on it.
    let (last, acked_before_last) = backups.last().unwrap().clone();
    let mut restored_pg = None;
    let (restored_keys, restored_server) = match backend {
        Backend::Sqlite => {
            let target = work.join("restored.db");
            let out = run(sipas(&[
                "restore",
                "--from",
                last.to_str().unwrap(),
                "--database",
                target.to_str().unwrap(),
            ]))
            .await;
            assert!(out.status.success(), "restore: {}", text(&out));
            assert!(
                String::from_utf8_lossy(&out.stdout).starts_with("restored into "),
                "{}",
                text(&out)
            );
            let keys = sqlite_keys(&target);
            assert_eq!(
                keys,
                sqlite_keys(&last),
                "the restore differs from the backup"
            );
            // The server reads the database from its configuration file; the flag overrides
            // the file's listen address (TEST-NET, which could not be bound).
            let config = work.join("config.toml");
            std::fs::write(
                &config,
                "# sipas-server test configuration\ndatabase = \"restored.db\"\n\
                 listen = \"192.0.2.1:8080\"\nmin_n_floor = 12\n",
            )
            .unwrap();
            let spawned = Spawned::start(&[
                "--config",
                config.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ]);
            (keys, spawned)
        }
        Backend::Postgres => {
            let db = restored_pg
                .insert(pg::TestDatabase::create().expect("a second PostgreSQL database"));
            let mut cmd = pg_tool("pg_restore");
            cmd.args(["--no-owner", "--exit-on-error", "--dbname"])
                .arg(db.url())
                .arg(&last);
            let out = run(cmd).await;
            assert!(out.status.success(), "pg_restore: {}", text(&out));
            let keys = pg_keys(db.url());
            let spawned = Spawned::start(&["--database", db.url(), "--listen", "127.0.0.1:0"]);
            (keys, spawned)
        }
    };
    let restored_ids: HashSet<Key> = restored_keys.iter().map(|k| (k.0, k.1)).collect();
    let missing: Vec<_> = acked_before_last.difference(&restored_ids).collect();
    assert!(
        missing.is_empty(),
        "{} responses acknowledged before the last backup are not in the restored database",
        missing.len()
    );
    assert!(restored_keys.is_subset(&sent_keys));
    assert!(
        restored_ids.len() >= acked_before_last.len(),
        "count: {} restored, {} acknowledged before the backup",
        restored_ids.len(),
        acked_before_last.len()
    );

    // The restored server knows every acknowledged record; what came after the backup is new
    // to it and is accepted when the device sends it again.
    let client = device_client(&restored_server.url, &token);
    let mut duplicates = 0;
    let mut accepted = 0;
    for chunk in sent.chunks(100) {
        let result = client
            .upload(&batch(chunk))
            .await
            .unwrap_or_else(|e| panic!("resend to the restored server: {e}"));
        assert_eq!(result.acks.len(), chunk.len());
        for ack in &result.acks {
            let k = (ack.id, ack.revision);
            match ack.status {
                AckStatus::Duplicate => {
                    assert!(restored_ids.contains(&k));
                    duplicates += 1;
                }
                AckStatus::Accepted => {
                    assert!(
                        !restored_ids.contains(&k),
                        "restored record {} accepted as new",
                        ack.id
                    );
                    accepted += 1;
                }
                other => panic!("resend to the restored server answered {other:?}: {ack:?}"),
            }
        }
    }
    assert_eq!(duplicates, restored_ids.len());
    let after_resend = match backend {
        Backend::Sqlite => sqlite_keys(&work.join("restored.db")),
        Backend::Postgres => pg_keys(restored_pg.as_ref().unwrap().url()),
    };
    assert_eq!(after_resend, sent_keys);
    eprintln!(
        "  {backend:?}: {} sent, {} acknowledged, {} acknowledged before the last backup, {} in it; \
         resent: {duplicates} duplicate, {accepted} accepted; {:.1} s",
        sent.len(),
        acked.len(),
        acked_before_last.len(),
        restored_ids.len(),
        t0.elapsed().as_secs_f64()
    );
}

/// A small SQLite server database with a few uploads, stopped: the material of the fault cases.
async fn small_sqlite_server() -> (TestServer, String) {
    let server = TestServer::start(Backend::Sqlite).unwrap();
    let people = seed_people(&server).await;
    let assignments = seed_round(&people, "BACKUP-F", 10).await;
    let token = enrol_device(&server, &people)
        .await
        .token()
        .unwrap()
        .to_string();
    let records: Vec<Response> = assignments
        .iter()
        .enumerate()
        .map(|(i, a)| response_for("BACKUP-F", *a, i as u64))
        .collect();
    let result = device_client(&server.url, &token)
        .upload(&batch(&records))
        .await
        .unwrap();
    assert!(result.acks.iter().all(|a| a.status == AckStatus::Accepted));
    (server, token)
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_non_empty_database_and_changes_nothing() {
    let (server, _) = small_sqlite_server().await;
    let dir = server.dir().join("faults");
    std::fs::create_dir_all(&dir).unwrap();
    let backup = dir.join("backup.db");
    let out = run(sipas(&[
        "backup",
        "--database",
        &server.database(),
        "--out",
        backup.to_str().unwrap(),
    ]))
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sqlite_keys(&backup).len(), 10);

    // A stopped server's database (no -wal left behind after a clean restore): a copy of the
    // backup restored once, then restored into again.
    let target = dir.join("target.db");
    let out = run(sipas(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--database",
        target.to_str().unwrap(),
    ]))
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let before = sha256(&target);
    let out = run(sipas(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--database",
        target.to_str().unwrap(),
    ]))
    .await;
    assert!(
        !out.status.success(),
        "restore into a non-empty database: {}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("không trống"), "{stderr}");
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert!(stderr.contains(target.to_str().unwrap()), "{stderr}");
    assert_eq!(sha256(&target), before, "the refused target was changed");
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The running server's own database is refused too (and the server keeps working).
    let live = PathBuf::from(server.database());
    let out = run(sipas(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--database",
        live.to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("không trống"));
    assert_eq!(fixture::server_records(&server, "BACKUP-F").len(), 10);

    // A file that is not a backup is refused as one, and nothing is created.
    let junk = dir.join("junk.db");
    std::fs::write(&junk, "not a database").unwrap();
    let fresh = dir.join("fresh.db");
    let out = run(sipas(&[
        "restore",
        "--from",
        junk.to_str().unwrap(),
        "--database",
        fresh.to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a sipas-server database"),
        "{}",
        text(&out)
    );
    assert!(!fresh.exists());

    // PostgreSQL URLs point to pg_dump / pg_restore.
    for tool in ["backup", "restore"] {
        let other = if tool == "backup" { "--out" } else { "--from" };
        let out = run(sipas(&[
            tool,
            "--database",
            "postgres://u:p@127.0.0.1:1/db",
            other,
            dir.join("x.dump").to_str().unwrap(),
        ]))
        .await;
        assert!(!out.status.success(), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("pg_dump") && stderr.contains("pg_restore"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("u:p@"),
            "the URL's password was printed: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_into_an_unwritable_place_fails_clearly() {
    let (server, _) = small_sqlite_server().await;
    let dir = server.dir().join("faults");
    std::fs::create_dir_all(&dir).unwrap();

    // A regular file used as a folder (unwritable even for root).
    let plain = dir.join("plain-file");
    std::fs::write(&plain, "x").unwrap();
    let out = run(sipas(&[
        "backup",
        "--database",
        &server.database(),
        "--out",
        plain.join("backup.db").to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Không ghi được"), "{stderr}");
    assert!(stderr.contains("Cannot write"), "{stderr}");
    assert!(stderr.contains("plain-file/backup.db"), "{stderr}");

    // A missing folder.
    let out = run(sipas(&[
        "backup",
        "--database",
        &server.database(),
        "--out",
        dir.join("no/such/folder/backup.db").to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Cannot write"));

    // A read-only folder (only meaningful when not running as root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.join("read-only");
        std::fs::create_dir_all(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let probe = std::fs::File::create(ro.join("probe"));
        if probe.is_err() {
            let out = run(sipas(&[
                "backup",
                "--database",
                &server.database(),
                "--out",
                ro.join("backup.db").to_str().unwrap(),
            ]))
            .await;
            assert!(!out.status.success(), "{}", text(&out));
            assert!(String::from_utf8_lossy(&out.stderr).contains("Cannot write"));
        } else {
            eprintln!(
                "  (running as root: the read-only folder case is covered by the cases above)"
            );
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    // A backup never overwrites a file.
    let existing = dir.join("existing.db");
    std::fs::write(&existing, "keep me").unwrap();
    let out = run(sipas(&[
        "backup",
        "--database",
        &server.database(),
        "--out",
        existing.to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");

    // A database that does not exist is not created by the backup.
    let nothing = dir.join("nothing.db");
    let out = run(sipas(&[
        "backup",
        "--database",
        nothing.to_str().unwrap(),
        "--out",
        dir.join("b.db").to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!nothing.exists());
    assert!(!dir.join("b.db").exists());

    // Without --out: a usage error.
    let out = run(sipas(&["backup", "--database", &server.database()])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configuration_file_stops_the_server_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "databse = \"x.db\"\n").unwrap();
    let out = run(sipas(&["--config", config.to_str().unwrap()])).await;
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("databse"), "{stderr}");
    assert!(stderr.contains("config.toml"), "{stderr}");
    assert!(!dir.path().join("x.db").exists());

    std::fs::write(&config, "tls_cert = \"cert.pem\"\n").unwrap();
    let out = run(sipas(&["--config", config.to_str().unwrap()])).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls_key"));

    let out = run(sipas(&[
        "--config",
        dir.path().join("missing.toml").to_str().unwrap(),
    ]))
    .await;
    assert!(!out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}
