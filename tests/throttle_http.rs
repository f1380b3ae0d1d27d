//! Sign-in and enrolment throttles of the real `sipas-server` binary, on SQLite and
//! PostgreSQL: concurrent guesses get exactly the allowed number of tries (the attempt is
//! reserved before the slow check, under one lock), the lock-out of a name+address pair does
//! not reach the real user at another address, and failures are audited without the secret.
use sipas_testkit::{fixture, raw_http, server};

use fixture::seed_people;
use raw_http::{Answer, Req, send};
use server::{ADMIN, ADMIN_PASSWORD, Backend, TestServer};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Failed sign-ins allowed per user name and client address in 15 minutes.
const PAIR_LIMIT: usize = 10;
/// Failed enrolments allowed per code in 15 minutes.
const CODE_LIMIT: usize = 10;
/// Failed enrolments allowed per client address in 15 minutes.
const ENROL_ADDRESS_LIMIT: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_on_sqlite() {
    concurrent_wrong_passwords(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_on_postgres() {
    concurrent_wrong_passwords(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_codes_on_sqlite() {
    concurrent_wrong_codes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_codes_on_postgres() {
    concurrent_wrong_codes(Backend::Postgres).await;
}

async fn login_from(url: &str, from: Ipv4Addr, username: &str, password: &str) -> Answer {
    send(
        url,
        Req::new("POST", "/api/v1/login")
            .from(from)
            .json(serde_json::json!({ "username": username, "password": password })),
    )
    .await
}

async fn enrol_from(url: &str, from: Ipv4Addr, code: &str) -> Answer {
    send(
        url,
        Req::new("POST", "/api/v1/enrol")
            .from(from)
            .json(serde_json::json!({ "code": code, "device_name": "Máy thử" })),
    )
    .await
}

/// Problem codes (or `200`) of `answers`, counted.
fn tally(answers: &[Answer]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for a in answers {
        let key = if a.status == 200 {
            "200".to_string()
        } else {
            a.problem()
        };
        *out.entry(key).or_default() += 1;
    }
    out
}

/// `n` requests at once.
async fn at_once<F, Fut>(n: usize, f: F) -> Vec<Answer>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}

async fn audit(server: &TestServer) -> Vec<serde_json::Value> {
    let a = login_from(&server.url, Ipv4Addr::LOCALHOST, ADMIN, ADMIN_PASSWORD).await;
    let token = a.json()["token"].as_str().unwrap().to_string();
    let a = send(
        &server.url,
        Req::new("GET", "/api/v1/audit?limit=1000").token(&token),
    )
    .await;
    a.json().as_array().unwrap().clone()
}

async fn concurrent_wrong_passwords(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let attacker = Ipv4Addr::new(127, 0, 0, 2);
    let url = server.url.clone();
    // 40 wrong passwords for `admin` at once from one address: exactly 10 are checked.
    let answers = at_once(40, |i| {
        let url = url.clone();
        async move { login_from(&url, attacker, ADMIN, &format!("wrong-password-{i}")).await }
    })
    .await;
    let counts = tally(&answers);
    assert_eq!(
        counts,
        BTreeMap::from([
            ("401.3".to_string(), PAIR_LIMIT),
            ("429.1".to_string(), 40 - PAIR_LIMIT),
        ]),
    );
    // That address stays locked for the name, even with the right password…
    let a = login_from(&url, attacker, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(a.problem(), "429.1");
    // …but the real admin at another address is not locked out, now or after more attacks.
    let office = Ipv4Addr::new(127, 0, 0, 3);
    let a = login_from(&url, office, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(&a.body));
    for i in 0..5 {
        let a = login_from(&url, attacker, ADMIN, &format!("again-{i}")).await;
        assert_eq!(a.problem(), "429.1");
    }
    let a = login_from(&url, office, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(a.status, 200);
    // Sequential wrong passwords from the office count for the office only: the real admin
    // mistyping a few times, then typing it right, is not locked out.
    for _ in 0..3 {
        let a = login_from(&url, office, ADMIN, "typo-password").await;
        assert_eq!(a.problem(), "401.3");
    }
    let a = login_from(&url, office, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(a.status, 200);
    // An unknown name is throttled the same way (no hint whether a name exists).
    let answers = at_once(15, |i| {
        let url = url.clone();
        async move { login_from(&url, attacker, "khong-ton-tai", &format!("pw-{i}")).await }
    })
    .await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([
            ("401.3".to_string(), PAIR_LIMIT),
            ("429.1".to_string(), 15 - PAIR_LIMIT),
        ]),
    );

    // Audited: one `login.failed` per checked wrong password, naming the user by id (or
    // nothing for an unknown name), never the password.
    let entries = audit(&server).await;
    let failed: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["action"] == "login.failed")
        .collect();
    assert_eq!(failed.len(), PAIR_LIMIT + 3 + PAIR_LIMIT, "{entries:?}");
    let admin_id = entries
        .iter()
        .find(|e| e["action"] == "session.login")
        .map(|e| e["entity_id"].clone())
        .unwrap();
    assert_eq!(
        failed.iter().filter(|e| e["entity_id"] == admin_id).count(),
        PAIR_LIMIT + 3
    );
    assert_eq!(
        failed.iter().filter(|e| e["entity_id"].is_null()).count(),
        PAIR_LIMIT
    );
    let text = serde_json::to_string(&entries).unwrap();
    for secret in ["wrong-password", "typo-password", "khong-ton-tai", "pw-1"] {
        assert!(!text.contains(secret), "the audit holds {secret}");
    }
}

async fn concurrent_wrong_codes(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let url = server.url.clone();

    // 30 tries of one wrong code at once: exactly 10 are checked.
    let one = Ipv4Addr::new(127, 0, 0, 2);
    let answers = at_once(30, |_| {
        let url = url.clone();
        async move { enrol_from(&url, one, "WRNGCODE22").await }
    })
    .await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([
            ("401.2".to_string(), CODE_LIMIT),
            ("429.1".to_string(), 30 - CODE_LIMIT),
        ]),
    );

    // 45 different wrong codes at once from one address: exactly 30 are checked; then even
    // a valid code is refused from there…
    let nat = Ipv4Addr::new(127, 0, 0, 4);
    let wrong = |i: usize| {
        let alphabet = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
        let (a, b) = (alphabet[i % 31] as char, alphabet[i / 31] as char);
        format!("WRNG{a}{b}CDEF")
    };
    let answers = at_once(45, |i| {
        let (url, code) = (url.clone(), wrong(i));
        async move { enrol_from(&url, nat, &code).await }
    })
    .await;
    assert_eq!(
        tally(&answers),
        BTreeMap::from([
            ("401.2".to_string(), ENROL_ADDRESS_LIMIT),
            ("429.1".to_string(), 45 - ENROL_ADDRESS_LIMIT),
        ]),
    );
    let valid = fixture::enrolment_code(&people).await;
    assert_eq!(enrol_from(&url, nat, &valid).await.problem(), "429.1");
    // …while a device at another address enrols with it.
    let a = enrol_from(&url, Ipv4Addr::new(127, 0, 0, 5), &valid).await;
    assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(&a.body));

    // Refused enrolments are audited, without the code.
    let entries = audit(&server).await;
    let refused: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["action"] == "enrol.refused")
        .collect();
    assert_eq!(
        refused.len(),
        CODE_LIMIT + ENROL_ADDRESS_LIMIT,
        "{entries:?}"
    );
    assert!(refused.iter().all(|e| e["entity_id"].is_null()));
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains("WRNG"), "the audit holds a code");
    assert!(!text.contains(&valid));
}
