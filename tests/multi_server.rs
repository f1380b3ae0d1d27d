//! Several `sipas-server` processes on one database behave as one (issue 14). Two real server
//! processes are started at the same moment on one new PostgreSQL database (their migrations
//! race: the advisory lock lets one apply them), behind a round-robin TCP proxy written here
//! (one backend per connection, skipping a backend that refuses the connection, as a load
//! balancer with fail-over does). Every request below opens its own connection, so
//! consecutive requests alternate between the processes. Through the proxy:
//!
//! * device uploads: each record is acknowledged once; a batch sent again lands on the other
//!   process and is all `duplicate`; the database holds exactly the records sent;
//! * the sign-in throttle counts failures of both processes together (10 failures spread over
//!   both lock the name and address on both; 30 concurrent attempts check exactly 10);
//! * a device revoked through one process is refused by both;
//! * a questionnaire published through one process is served by the other, and once retired
//!   through one, the other refuses a new round with it;
//! * fault: one process is SIGKILLed while an upload is in flight; the retry goes to the other
//!   one and succeeds, and nothing is stored twice.
//!
//! PostgreSQL is what a deployment of several processes uses; the same test also runs on one
//! SQLite file shared by the two processes (WAL, one writer at a time).
use sipas_testkit::{fixture, raw_http, server};

use fixture::{People, form, key, response_for, seed_round, server_records};
use raw_http::{Answer, Req, send};
use server::{ADMIN, ADMIN_PASSWORD, Backend, Options, TestServer};
use sipas_core::response::Response;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord, UploadResult, UserInfo};
use sipas_sync::ApiClient;
use std::collections::{BTreeSet, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_postgres() {
    two_servers(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_sqlite() {
    two_servers(Backend::Sqlite).await;
}

const SUPERVISOR_PASSWORD: &str = "giam-sat-mat-khau-1";

/// A round-robin TCP proxy: connection `k` goes to backend `k mod n`, or the next one that
/// accepts the connection.
struct Proxy {
    url: String,
    next: Arc<AtomicUsize>,
    /// Connections passed to each backend.
    served: Arc<Vec<AtomicUsize>>,
    backends: usize,
    /// One more than the number of the newest connection whose request has begun to reach
    /// its backend.
    began: tokio::sync::watch::Sender<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(backends: Vec<SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let next = Arc::new(AtomicUsize::new(0));
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let n = backends.len();
        let (next2, served2) = (next.clone(), served.clone());
        let began = tokio::sync::watch::Sender::new(0usize);
        let began2 = began.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let first = next2.fetch_add(1, Ordering::SeqCst);
                let (backends, served, began) = (backends.clone(), served2.clone(), began2.clone());
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    for i in 0..n {
                        let b = (first + i) % n;
                        if let Ok(mut outbound) = TcpStream::connect(backends[b]).await {
                            served[b].fetch_add(1, Ordering::SeqCst);
                            // The first bytes of the request, then everything both ways.
                            let mut buf = vec![0u8; 64 * 1024];
                            let Ok(got) = inbound.read(&mut buf).await else {
                                return;
                            };
                            if outbound.write_all(&buf[..got]).await.is_err() {
                                return;
                            }
                            began.send_modify(|v| *v = (*v).max(first + 1));
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                            return;
                        }
                    }
                    // No backend: the client sees the connection closed.
                });
            }
        });
        Proxy {
            url,
            next,
            served,
            backends: n,
            began,
            task,
        }
    }

    /// The backend the next connection is sent to (while all are up).
    fn next_backend(&self) -> usize {
        self.next.load(Ordering::SeqCst) % self.backends
    }

    /// Waits until the request of connection number `k` (counting from 0) has begun to
    /// reach its backend.
    async fn wait_began(&self, k: usize) {
        let mut rx = self.began.subscribe();
        rx.wait_for(|v| *v > k).await.unwrap();
    }

    fn served(&self) -> Vec<usize> {
        self.served
            .iter()
            .map(|s| s.load(Ordering::SeqCst))
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn addr(server: &TestServer) -> SocketAddr {
    raw_http::authority(&server.url).parse().unwrap()
}

/// A client with a new connection for every request made through it (a fresh client per
/// request keeps the round robin going).
fn client(url: &str) -> ApiClient {
    ApiClient::with_timeout(url, Duration::from_secs(30)).unwrap()
}

async fn login(url: &str, username: &str, password: &str) -> Answer {
    send(
        url,
        Req::new("POST", "/api/v1/login")
            .json(serde_json::json!({ "username": username, "password": password })),
    )
    .await
}

async fn token_of(url: &str, username: &str, password: &str) -> String {
    let a = login(url, username, password).await;
    assert_eq!(a.status, 200, "login {username}: {}", a.problem());
    a.json()["token"].as_str().unwrap().to_owned()
}

/// Admin, supervisor and surveyor, created through the proxy.
async fn seed_people(url: &str) -> People {
    let admin = client(url).with_token(token_of(url, ADMIN, ADMIN_PASSWORD).await);
    let _: UserInfo = admin
        .post_json(
            "/users",
            &serde_json::json!({ "username": "giamsat1", "display_name": "Giám sát 1",
                "role": Role::Supervisor, "password": SUPERVISOR_PASSWORD }),
        )
        .await
        .expect("create supervisor");
    let surveyor: UserInfo = admin
        .post_json(
            "/users",
            &serde_json::json!({ "username": "dtv1", "display_name": "Điều tra viên 1",
                "role": Role::Surveyor, "password": null }),
        )
        .await
        .expect("create surveyor");
    let supervisor = client(url).with_token(token_of(url, "giamsat1", SUPERVISOR_PASSWORD).await);
    People {
        admin,
        supervisor,
        surveyor,
    }
}

/// Enrols a device for the surveyor through the proxy: (device id, token).
async fn enrol(url: &str, people: &People) -> (Uuid, String) {
    let code = fixture::enrolment_code(people).await;
    let a = send(
        url,
        Req::new("POST", "/api/v1/enrol")
            .json(serde_json::json!({ "code": code, "device_name": "Máy bảng nhiều máy chủ" })),
    )
    .await;
    assert_eq!(a.status, 200, "enrol: {}", a.problem());
    let v = a.json();
    (
        v["device_id"].as_str().unwrap().parse().unwrap(),
        v["token"].as_str().unwrap().to_owned(),
    )
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

async fn upload(url: &str, token: &str, records: &[Response]) -> UploadResult {
    client(url)
        .with_token(token)
        .upload(&batch(records))
        .await
        .expect("upload through the proxy")
}

fn statuses(result: &UploadResult) -> Vec<AckStatus> {
    result.acks.iter().map(|a| a.status).collect()
}

async fn two_servers(backend: Backend) {
    // Both processes start at the same moment on one new database.
    let Some(mut servers) = TestServer::start_many(backend, 2, Options::default()) else {
        return;
    };
    let proxy = Proxy::start(servers.iter().map(addr).collect()).await;
    let url = proxy.url.clone();
    migrations_applied_once(&servers[0]).await;

    let people = seed_people(&url).await;
    uploads_are_acknowledged_once(&url, &proxy, &servers, &people).await;
    sign_in_throttle_counts_both(&url, &proxy).await;
    revocation_is_seen_by_both(&url, &proxy, &people).await;
    publish_and_retire_are_seen_by_both(&url, &proxy, &people).await;
    killed_mid_upload(&url, &proxy, &mut servers, &people).await;
    let served = proxy.served();
    assert!(
        served.iter().all(|&n| n > 10),
        "both processes served requests: {served:?}"
    );
}

/// Every migration is recorded once and the schema is complete (both processes started).
async fn migrations_applied_once(server: &TestServer) {
    let applied: Vec<i64> = match server.backend {
        Backend::Postgres => sipas_testkit::pg::with_pg(&server.database(), |c| {
            Box::pin(async move {
                c.query(
                    "SELECT version FROM schema_migrations ORDER BY version",
                    &[],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| i64::from(r.get::<_, i32>(0)))
                .collect()
            })
        }),
        Backend::Sqlite => {
            let conn = rusqlite::Connection::open(server.sqlite_path().unwrap()).unwrap();
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            conn.prepare("SELECT version FROM schema_migrations ORDER BY version")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        }
    };
    // Each once (a second run of a migration would also have failed that process's start),
    // from 0001 to 0013_shared_state at least.
    assert!(applied.windows(2).all(|w| w[0] < w[1]), "{applied:?}");
    assert_eq!(applied.first(), Some(&1));
    assert!(applied.contains(&13), "{applied:?}");
}

async fn uploads_are_acknowledged_once(
    url: &str,
    proxy: &Proxy,
    servers: &[TestServer],
    people: &People,
) {
    let round = "MULTI-1";
    let assignments = seed_round(people, round, 60).await;
    let (_, token) = enrol(url, people).await;
    let records: Vec<Response> = assignments
        .iter()
        .enumerate()
        .map(|(i, a)| response_for(round, *a, i as u64))
        .collect();
    let mut acked: HashSet<(Uuid, u32)> = HashSet::new();
    for chunk in records[..40].chunks(10) {
        let first = proxy.next_backend();
        let result = upload(url, &token, chunk).await;
        assert_eq!(statuses(&result), vec![AckStatus::Accepted; chunk.len()]);
        for a in &result.acks {
            assert!(acked.insert((a.id, a.revision)), "acknowledged twice");
        }
        // The same batch again (a retry after a lost answer) lands on the other process.
        assert_ne!(proxy.next_backend(), first);
        let again = upload(url, &token, chunk).await;
        assert_eq!(statuses(&again), vec![AckStatus::Duplicate; chunk.len()]);
    }
    // Ten batches sent at once over both processes: each record accepted exactly once.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (url, token) = (url.to_owned(), token.clone());
        let chunk: Vec<Response> = records[40..]
            .iter()
            .skip(i % 2)
            .step_by(2)
            .cloned()
            .collect();
        tasks.push(tokio::spawn(
            async move { upload(&url, &token, &chunk).await },
        ));
    }
    let mut accepted = 0;
    for t in tasks {
        for a in t.await.unwrap().acks {
            match a.status {
                AckStatus::Accepted => {
                    accepted += 1;
                    assert!(acked.insert((a.id, a.revision)), "acknowledged twice");
                }
                AckStatus::Duplicate => {}
                other => panic!("unexpected acknowledgement {other:?}"),
            }
        }
    }
    assert_eq!(accepted, 20);
    let stored = server_records(&servers[0], round);
    let sent: BTreeSet<_> = records.iter().map(key).collect();
    assert_eq!(stored, sent, "exactly the records sent, once each");
}

async fn sign_in_throttle_counts_both(url: &str, proxy: &Proxy) {
    // Ten failures alternate between the two processes (five each)…
    let before = proxy.served();
    for _ in 0..10 {
        let a = login(url, "giamsat1", "sai-mat-khau").await;
        assert_eq!(a.status, 401, "{}", a.problem());
    }
    let after = proxy.served();
    assert!(
        after.iter().zip(&before).all(|(a, b)| a - b == 5),
        "failures spread over both: {before:?} → {after:?}"
    );
    // …and lock the name at this address on both, even with the right password: in-memory
    // counts (five per process) would not.
    for _ in 0..2 {
        let a = login(url, "giamsat1", SUPERVISOR_PASSWORD).await;
        assert_eq!(a.status, 429, "{}", a.problem());
        assert_eq!(a.problem(), "429.1");
    }
    // Thirty concurrent wrong passwords for another name over both processes: exactly ten
    // are checked (the pair cap), the rest refused before any check.
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            login(&url, ADMIN, "khong-phai-mat-khau").await.status
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|&&c| c == 401).count(), 10, "{codes:?}");
    assert_eq!(codes.iter().filter(|&&c| c == 429).count(), 20, "{codes:?}");
}

async fn revocation_is_seen_by_both(url: &str, proxy: &Proxy, people: &People) {
    let (device, token) = enrol(url, people).await;
    for _ in 0..2 {
        let a = send(url, Req::new("GET", "/api/v1/pull?cursor=0").token(&token)).await;
        assert_eq!(a.status, 200, "{}", a.problem());
    }
    let by = proxy.next_backend();
    let a = send(
        url,
        Req::new("POST", &format!("/api/v1/devices/{device}/revoke"))
            .token(people.admin.token().unwrap()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.problem());
    assert_ne!(proxy.next_backend(), by);
    // Refused by the other process first, then by the one that revoked it.
    for _ in 0..2 {
        let a = send(url, Req::new("GET", "/api/v1/pull?cursor=0").token(&token)).await;
        assert_eq!(a.status, 401, "{}", a.problem());
    }
}

async fn publish_and_retire_are_seen_by_both(url: &str, proxy: &Proxy, people: &People) {
    let admin = client(url).with_token(people.admin.token().unwrap());
    let mut definition = serde_json::to_value(form()).unwrap();
    definition["version"] = serde_json::json!("2026.9-multi");
    let path = format!("/api/v1/forms/{}/2026.9-multi", form().form_id);
    let _: serde_json::Value = admin
        .post_bytes(
            "/forms/drafts",
            "application/json",
            definition.to_string().into_bytes(),
        )
        .await
        .expect("upload a draft");
    let a = send(
        url,
        Req::new("POST", &format!("{path}/publish")).token(people.admin.token().unwrap()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.problem());
    // Served as published by both processes (a surveyor device reads it).
    let (_, device) = enrol(url, people).await;
    let mut backends = BTreeSet::new();
    for _ in 0..2 {
        backends.insert(proxy.next_backend());
        let a = send(url, Req::new("GET", &path).token(&device)).await;
        assert_eq!(a.status, 200, "{}", a.problem());
        assert_eq!(a.json()["status"], "published");
    }
    assert_eq!(backends.len(), 2);
    // A round with it is accepted by whichever process gets the request.
    let round = |id: &str| {
        serde_json::json!({
            "id": id, "name": format!("Đợt {id}"),
            "form": { "form_id": form().form_id, "version": "2026.9-multi" },
            "starts_on": "2026-11-01", "ends_on": "2026-12-31",
        })
    };
    let sup = people.supervisor.token().unwrap();
    let a = send(
        url,
        Req::new("POST", "/api/v1/rounds")
            .token(sup)
            .json(round("MULTI-F1")),
    )
    .await;
    assert!(a.status == 200 || a.status == 201, "{}", a.problem());
    // Retired through one process: the other (and the same one) refuse new rounds with it.
    let a = send(
        url,
        Req::new("POST", &format!("{path}/retire")).token(people.admin.token().unwrap()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.problem());
    for id in ["MULTI-F2", "MULTI-F3"] {
        let a = send(
            url,
            Req::new("POST", "/api/v1/rounds")
                .token(sup)
                .json(round(id)),
        )
        .await;
        assert_eq!(a.status, 409, "{}", a.problem());
    }
}

async fn killed_mid_upload(url: &str, proxy: &Proxy, servers: &mut [TestServer], people: &People) {
    const ATTEMPTS: usize = 4;
    const PER_ATTEMPT: usize = 400;
    let round = "MULTI-2";
    let assignments = seed_round(people, round, ATTEMPTS * PER_ATTEMPT).await;
    let (_, token) = enrol(url, people).await;
    let all: Vec<Response> = assignments
        .iter()
        .enumerate()
        .map(|(i, a)| response_for(round, *a, i as u64))
        .collect();
    let mut cut_off = 0;
    for (attempt, records) in all.chunks(PER_ATTEMPT).enumerate() {
        // A large batch goes to one process, which is SIGKILLed soon after the request
        // began to arrive (while it reads or stores the batch).
        let k = proxy.next.load(Ordering::SeqCst);
        let victim = k % proxy.backends;
        let in_flight = {
            let (url, token, records) = (url.to_owned(), token.clone(), records.to_vec());
            tokio::spawn(async move {
                client(&url)
                    .with_token(token)
                    .upload(&batch(&records))
                    .await
            })
        };
        proxy.wait_began(k).await;
        tokio::time::sleep(Duration::from_millis(10 * attempt as u64)).await;
        servers[victim].kill();
        let first = in_flight.await.unwrap();
        if first.is_err() {
            cut_off += 1;
        }
        eprintln!(
            "attempt {attempt}: upload in flight when process {victim} was killed: {}",
            if first.is_ok() { "answered" } else { "cut off" }
        );
        // The retry (the app's next sync) reaches the other process.
        let retry = upload(url, &token, records).await;
        for a in &retry.acks {
            assert!(
                matches!(a.status, AckStatus::Accepted | AckStatus::Duplicate),
                "unexpected acknowledgement {:?}",
                a.status
            );
        }
        let survivor = &servers[1 - victim];
        let stored = server_records(survivor, round);
        let sent: BTreeSet<_> = all[..(attempt + 1) * PER_ATTEMPT].iter().map(key).collect();
        assert_eq!(stored, sent, "every record once, none twice");
        // The process comes back at its address (the proxy's backend list is fixed).
        servers[victim].restart_same_address();
    }
    assert!(cut_off > 0, "no upload was cut off by a kill");
}
