//! Security and privacy of the real `sipas-server` binary:
//!
//! * the full workflow (`sipas_testkit::workflow`), on SQLite and PostgreSQL: every state change
//!   is audited, the audit log is admin-only and refuses UPDATE/DELETE, no export holds
//!   contact data, contacts reach only the assigned surveyor and the monitor's open task,
//!   and the database holds no raw token or enrolment code (only their hashes);
//! * HTTPS with `--tls-cert`/`--tls-key` (a self-signed certificate made at test time):
//!   enrol and upload work for a client trusting it; plain HTTP to the TLS port and a client
//!   not trusting the certificate fail;
//! * enrolment throttling per client IP address (30) and per code (10) (`429.1`).
use sipas_testkit::{fixture, server, workflow};

use fixture::{PII_MARKERS, client, enrol_device, response_for, seed_people, seed_round};
use server::{Backend, Options, TestServer};
use sha2::{Digest, Sha256};
use sipas_protocol::problem::Problem;
use sipas_protocol::wire::{
    AckStatus, EnrolmentCode, EnrolmentCodeRequest, UploadBatch, UploadRecord, UserInfo,
};
use sipas_store::Store;
use sipas_sync::{ApiClient, SyncError};
use sipas_testkit::pg::with_pg;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_privacy_and_audit_on_sqlite() {
    workflow_privacy_and_audit(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_privacy_and_audit_on_postgres() {
    workflow_privacy_and_audit(Backend::Postgres).await;
}

/// Hex SHA-256, as the server stores tokens and codes.
fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The text of every cell of every sheet of an XLSX workbook.
fn xlsx_cells(bytes: &[u8]) -> Vec<String> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("xlsx");
    let mut out = Vec::new();
    for (_, range) in book.worksheets() {
        out.extend(range.used_cells().map(|(_, _, c)| c.to_string()));
    }
    out
}

/// Everything the server's database holds, as text: every row of every table (and, for
/// SQLite, the raw bytes of the file and its WAL, lossily decoded).
fn database_dump(server: &TestServer) -> String {
    match server.backend {
        Backend::Sqlite => {
            let path = server.sqlite_path().unwrap();
            let mut text = String::new();
            for suffix in ["", "-wal"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                if let Ok(bytes) = std::fs::read(&p) {
                    text.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            let conn = rusqlite::Connection::open(path).unwrap();
            let tables: Vec<String> = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for t in tables {
                let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
                let n = stmt.column_count();
                let mut rows = stmt.query([]).unwrap();
                while let Some(row) = rows.next().unwrap() {
                    for i in 0..n {
                        let v: rusqlite::types::Value = row.get(i).unwrap();
                        text.push_str(&format!("{v:?}\n"));
                    }
                }
            }
            text
        }
        Backend::Postgres => with_pg(&server.database(), |c| {
            Box::pin(async move {
                let tables = c
                    .query(
                        "SELECT table_name::text FROM information_schema.tables
                         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                        &[],
                    )
                    .await
                    .unwrap();
                let mut text = String::new();
                for t in tables {
                    let name: String = t.get(0);
                    let rows = c
                        .query(&format!("SELECT t::text FROM \"{name}\" t"), &[])
                        .await
                        .unwrap();
                    for r in rows {
                        let row: String = r.get(0);
                        text.push_str(&row);
                        text.push('\n');
                    }
                }
                text
            })
        }),
    }
}

/// Runs raw SQL on the server's database; the error text if it failed.
fn raw_sql(server: &TestServer, sql: &'static str) -> Result<(), String> {
    match server.backend {
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(server.sqlite_path().unwrap()).unwrap();
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            conn.execute_batch(sql).map_err(|e| e.to_string())
        }
        Backend::Postgres => with_pg(&server.database(), move |c| {
            Box::pin(async move {
                c.batch_execute(sql).await.map_err(|e| {
                    e.as_db_error()
                        .map_or_else(|| e.to_string(), |d| d.message().to_string())
                })
            })
        }),
    }
}

fn problem_code(err: &SyncError) -> &str {
    match err {
        SyncError::Server(p) => &p.code,
        other => panic!("expected a problem answer, got {other:?}"),
    }
}

async fn workflow_privacy_and_audit(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let w = workflow::full_workflow(&server, "2026-SEC-1").await;

    // --- Every state change is audited (server side), with its actor. -------------------
    let audit: Vec<serde_json::Value> = w.people.admin.get_json("/audit?limit=1000").await.unwrap();
    let mut actions: BTreeMap<String, usize> = BTreeMap::new();
    for e in &audit {
        *actions
            .entry(e["action"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let interviewed = workflow::INTERVIEWED;
    let expected: &[(&str, usize)] = &[
        ("user.created", 4), // bootstrap admin, supervisor, surveyor, monitor
        ("session.login", 3),
        ("round.created", 1),
        ("sample.imported", 1),
        ("assignment.assigned", workflow::SAMPLED),
        ("enrolment_code.issued", 1),
        ("device.enrolled", 1),
        ("response.accepted", interviewed),
        ("assignment.absent", 1),
        ("review.approved", 2),
        ("review.rejected", 1),
        ("spot_check.assigned", 1),
        ("spot_check.finding", 1),
    ];
    for (action, count) in expected {
        assert_eq!(
            actions.get(*action).copied().unwrap_or(0),
            *count,
            "{action}: {actions:?}"
        );
    }
    assert!(actions.get("spot_check.created").copied().unwrap_or(0) >= 1);
    // Every entry names its actor, except the bootstrap admin's creation, the catalogue
    // seeds and built-in forms loaded at start-up, and the refused attempts of callers not signed in
    // (`login.failed`, `enrol.refused`).
    let seeds: Vec<&str> = audit
        .iter()
        .filter(|e| !e["actor"].is_string() && e["action"] == "catalogue.imported")
        .map(|e| e["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(seeds, ["units", "fields", "procedures"]);
    let anonymous: Vec<&serde_json::Value> = audit
        .iter()
        .filter(|e| !e["actor"].is_string())
        .filter(|e| e["action"] != "login.failed" && e["action"] != "enrol.refused")
        .filter(|e| e["action"] != "catalogue.imported")
        .filter(|e| e["action"] != "form.seeded")
        .collect();
    assert_eq!(anonymous.len(), 1, "{anonymous:?}");
    // The built-in questionnaires are seeded as published forms at start-up, without an actor.
    let forms: Vec<&str> = audit
        .iter()
        .filter(|e| !e["actor"].is_string() && e["action"] == "form.seeded")
        .map(|e| e["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        forms,
        ["sipas-6-groups@2026.1", "sipas-national-2023@2023.1"]
    );
    assert_eq!(anonymous[0]["action"], "user.created");
    let admin: UserInfo = w.people.admin.get_json("/me").await.unwrap();
    let admin_id = serde_json::json!(admin.id);
    let created_by_admin = audit
        .iter()
        .filter(|e| e["action"] == "user.created" && e["actor"] == admin_id)
        .count();
    assert_eq!(created_by_admin, 3, "supervisor, surveyor, monitor");
    let audit_text = serde_json::to_string(&audit).unwrap();
    for m in PII_MARKERS {
        assert!(!audit_text.contains(m), "audit log holds {m}");
    }
    // Admin only.
    for (who, c) in [
        ("supervisor", &w.people.supervisor),
        ("monitor", &w.monitor),
        ("device", &w.device),
    ] {
        let err = c.get_json::<serde_json::Value>("/audit").await.unwrap_err();
        assert_eq!(problem_code(&err), "403.1", "{who}");
    }
    let err = client(&server)
        .get_json::<serde_json::Value>("/audit")
        .await
        .unwrap_err();
    assert_eq!(problem_code(&err), "401.1");
    // Append-only, enforced by the database itself.
    for sql in [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
    ] {
        let err = raw_sql(&server, sql).expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }

    // --- No export holds contact data. ---------------------------------------------------
    for (path, body) in &w.exports {
        let texts = if path.contains("format=xlsx") {
            let cells = xlsx_cells(body);
            assert!(cells.len() > 5, "{path}: {} cells", cells.len());
            cells
        } else {
            vec![String::from_utf8(body.clone()).expect("text export")]
        };
        for text in &texts {
            for m in PII_MARKERS {
                assert!(!text.contains(m), "{path} holds {m:?}");
            }
        }
    }

    // --- Contacts reach only the assigned surveyor and the monitor's open task. ----------
    let device_store = Store::open_encrypted(server.dir().join("device.db"), workflow::DEVICE_PIN)
        .expect("device store");
    let mut with_contact = 0;
    for a in device_store.list_assignments().unwrap() {
        let c = device_store.get_contact(a.id).unwrap();
        if let Some(c) = c {
            assert!(c.respondent_name.unwrap().starts_with("Nguyễn Thị Bảo Mật"));
            with_contact += 1;
        }
    }
    assert_eq!(with_contact, workflow::SAMPLED);
    let task = &w.open_monitor_tasks[0];
    assert_eq!(task["state"], "open");
    assert!(
        task["contact"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Nguyễn Thị Bảo Mật"),
        "{task}"
    );
    let err = w
        .people
        .supervisor
        .get_json::<serde_json::Value>("/pull")
        .await
        .unwrap_err();
    assert_eq!(problem_code(&err), "403.1");
    let other: UserInfo = w
        .people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "dtv2", "display_name": "Điều tra viên 2", "role": "surveyor"
            }),
        )
        .await
        .unwrap();
    let code: EnrolmentCode = w
        .people
        .supervisor
        .post_json(
            "/enrolment-codes",
            &EnrolmentCodeRequest {
                user_id: other.id,
                valid_minutes: Some(10),
            },
        )
        .await
        .unwrap();
    let mut other_device = client(&server);
    other_device.enrol(&code.code, "Máy 2").await.unwrap();
    let pulled = other_device.get_bytes("/pull?cursor=0").await.unwrap();
    let pulled: serde_json::Value = serde_json::from_slice(&pulled).unwrap();
    assert_eq!(pulled["assignments"], serde_json::json!([]), "{pulled}");

    // --- Tokens and codes are stored only as hashes. --------------------------------------
    let dump = database_dump(&server);
    assert!(
        dump.contains("Nguyễn Thị Bảo Mật"),
        "the dump sees stored text"
    );
    let device_token = w.device.token().unwrap();
    assert!(
        dump.contains(&sha256_hex(device_token)),
        "the token's hash is stored"
    );
    let mut secrets = w.secrets();
    secrets.push(other_device.token().unwrap().to_string());
    secrets.push(code.code.clone());
    for secret in &secrets {
        assert!(
            !dump.contains(secret.as_str()),
            "the database holds a raw secret"
        );
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, written to `dir`:
/// `(cert path, key path, cert PEM)`.
fn self_signed(dir: &std::path::Path) -> (String, String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("certificate");
    let cert_pem = ck.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (
        cert.display().to_string(),
        key.display().to_string(),
        cert_pem,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_self_signed_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let (cert, key, pem) = self_signed(certs.path());
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            args: vec!["--tls-cert".into(), cert, "--tls-key".into(), key],
            client_root_pem: Some(pem.into_bytes()),
            ..Options::default()
        },
    )
    .expect("SQLite server");
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );

    // A client trusting the certificate: the whole device path works over HTTPS.
    let round = "2026-TLS-1";
    let people = seed_people(&server).await;
    let ids = seed_round(&people, round, 3).await;
    let device = enrol_device(&server, &people).await;
    let pull = device.pull(0).await.expect("pull over https");
    assert_eq!(pull.assignments.len(), 3);
    let r = response_for(round, ids[0], 0);
    let result = device
        .upload(&UploadBatch {
            records: vec![UploadRecord {
                content_hash: r.content_hash(),
                response: r,
            }],
        })
        .await
        .expect("upload over https");
    assert_eq!(result.acks[0].status, AckStatus::Accepted);

    // Plain HTTP to the TLS port gets no HTTP answer.
    let addr = server.url.trim_start_matches("https://").to_string();
    let http_url = format!("http://{addr}");
    let err = ApiClient::with_timeout(&http_url, Duration::from_secs(10))
        .unwrap()
        .with_token(device.token().unwrap())
        .pull(0)
        .await
        .unwrap_err();
    assert!(!matches!(err, SyncError::Server(_)), "{err:?}");
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    raw.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), raw.read_to_end(&mut answer)).await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "plain HTTP answered: {:?}",
        String::from_utf8_lossy(&answer)
    );

    // A client that does not trust the certificate refuses to talk to the server.
    let code: EnrolmentCode = people
        .supervisor
        .post_json(
            "/enrolment-codes",
            &EnrolmentCodeRequest {
                user_id: people.surveyor.id,
                valid_minutes: Some(10),
            },
        )
        .await
        .unwrap();
    let mut untrusting = ApiClient::with_timeout(&server.url, Duration::from_secs(10)).unwrap();
    let err = untrusting.enrol(&code.code, "Máy lạ").await.unwrap_err();
    match &err {
        SyncError::Unreachable { detail } => {
            assert!(detail.to_lowercase().contains("certificate"), "{detail}")
        }
        other => panic!("expected a certificate failure, got {other:?}"),
    }
    // The code was not spent by the refused attempt.
    let mut trusting = client(&server);
    trusting
        .enrol(&code.code, "Máy tin cậy")
        .await
        .expect("the code still works");

    // The enrolment payload carries the address, the code and the certificate's fingerprint:
    // pinning that fingerprint is enough (no PEM); another fingerprint is refused.
    let fresh: EnrolmentCode = people
        .supervisor
        .post_json(
            "/enrolment-codes",
            &EnrolmentCodeRequest {
                user_id: people.surveyor.id,
                valid_minutes: Some(10),
            },
        )
        .await
        .unwrap();
    let payload =
        sipas_protocol::enrol::EnrolPayload::decode(fresh.payload.as_deref().expect("payload"))
            .expect("the payload decodes");
    assert_eq!(payload.server, server.url);
    assert_eq!(payload.code, fresh.code);
    let pin = payload
        .cert_sha256
        .clone()
        .expect("a self-signed server's fingerprint");
    assert_eq!(Some(&pin), fresh.fingerprint.as_ref());
    let mut wrong_pin = ApiClient::with_timeout(&payload.server, Duration::from_secs(10))
        .unwrap()
        .with_pinned_sha256(&"00".repeat(32))
        .unwrap();
    match wrong_pin
        .enrol(&payload.code, "Máy ghim sai")
        .await
        .unwrap_err()
    {
        SyncError::Unreachable { detail } => {
            assert!(detail.to_lowercase().contains("certificate"), "{detail}")
        }
        other => panic!("expected a certificate failure, got {other:?}"),
    }
    assert!(matches!(
        ApiClient::new(&payload.server)
            .unwrap()
            .with_pinned_sha256("not hex"),
        Err(SyncError::Config { .. })
    ));
    let mut pinned = ApiClient::with_timeout(&payload.server, Duration::from_secs(10))
        .unwrap()
        .with_pinned_sha256(&pin.to_uppercase())
        .unwrap();
    pinned
        .enrol(&payload.code, "Máy ghim chứng chỉ")
        .await
        .expect("enrolment with the pinned certificate");
    assert_eq!(
        pinned
            .pull(0)
            .await
            .expect("pull, pinned")
            .assignments
            .len(),
        3
    );
}

/// `POST /api/v1/enrol` from source address `from`: `(HTTP status, problem code)`.
async fn enrol_from(server: &str, from: Ipv4Addr, code: &str) -> (u16, Option<String>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(IpAddr::V4(from), 0))
        .unwrap_or_else(|e| panic!("binding {from}: {e}"));
    let mut stream = socket.connect(server.parse().unwrap()).await.unwrap();
    let body = serde_json::json!({ "code": code, "device_name": "Máy thử" }).to_string();
    let request = format!(
        "POST /api/v1/enrol HTTP/1.1\r\nHost: {server}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status: u16 = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let code = serde_json::from_str::<Problem>(body).ok().map(|p| p.code);
    (status, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrolment_is_throttled_per_address_and_per_code() {
    let server = TestServer::start(Backend::Sqlite).expect("SQLite server");
    let addr = server.url.trim_start_matches("http://").to_string();
    let people = seed_people(&server).await;
    let valid = fixture::enrolment_code(&people).await;
    let wrong = |i: usize| {
        let c = char::from(b"23456789ABCDEFGHJKMNPQRSTUVWXYZ"[i]);
        format!("WRNG{c}{c}CDEF")
    };

    // Thirty wrong codes from one address (several devices behind one post office's address
    // may mistype), then even the valid code is refused there…
    let attacker = Ipv4Addr::new(127, 0, 0, 2);
    for i in 0..30 {
        assert_eq!(
            enrol_from(&addr, attacker, &wrong(i)).await,
            (401, Some("401.2".into())),
            "attempt {i}"
        );
    }
    assert_eq!(
        enrol_from(&addr, attacker, &valid).await,
        (429, Some("429.1".into()))
    );
    // …while another address is unaffected.
    assert_eq!(
        enrol_from(&addr, Ipv4Addr::new(127, 0, 0, 3), &valid).await,
        (200, None)
    );

    // One code tried from ten addresses: the eleventh try of it is throttled anywhere,
    // another code from the same address is not.
    let replayed = "ABCDEFGHJK";
    for i in 0..10u8 {
        assert_eq!(
            enrol_from(&addr, Ipv4Addr::new(127, 0, 1, 10 + i), replayed).await,
            (401, Some("401.2".into())),
            "replay {i}"
        );
    }
    let fresh = Ipv4Addr::new(127, 0, 1, 100);
    assert_eq!(
        enrol_from(&addr, fresh, replayed).await,
        (429, Some("429.1".into()))
    );
    assert_eq!(
        enrol_from(&addr, fresh, "ABCDEFGHJM").await,
        (401, Some("401.2".into()))
    );
    // Sign-in has its own throttle, untouched by enrolment failures.
    client(&server)
        .login(server::ADMIN, server::ADMIN_PASSWORD)
        .await
        .expect("admin login");
}
