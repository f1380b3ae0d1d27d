//! The suppression floor of the real `sipas-server` binary (`--min-n-floor`, env
//! `SIPAS_MIN_N_FLOOR`, default 10), on SQLite and PostgreSQL: no caller gets a report with
//! `min_n` below the floor; a lower `min_n` is raised to it (the report says which `min_n`
//! was applied), and small cells stay suppressed.
use sipas_testkit::{fixture, raw_http, server};

use fixture::{enrol_device, response_for, seed_people, seed_round};
use raw_http::{Req, send};
use server::{Backend, Options, TestServer};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{UploadBatch, UploadRecord, UserInfo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floor_on_sqlite() {
    floor(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floor_on_postgres() {
    floor(Backend::Postgres).await;
}

const ROUND: &str = "2026-FLOOR-1";
const PASSWORD: &str = "mat-khau-giam-sat-1";

/// The report as `token` asks it with `query`: `(min_n applied, shown rows with values)`.
async fn report(url: &str, token: &str, query: &str) -> (u64, usize) {
    let a = send(
        url,
        Req::new("GET", &format!("/api/v1/rounds/{ROUND}/report{query}")).token(token),
    )
    .await;
    assert_eq!(
        a.status,
        200,
        "{query}: {:?}",
        String::from_utf8_lossy(&a.body)
    );
    let v = a.json();
    let shown = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["suppressed"] == false)
        .count();
    (v["min_n"].as_u64().expect("min_n in the report"), shown)
}

/// A server with `args`, one round and 3 accepted responses; `(server, supervisor token,
/// monitor token)`.
async fn seeded(backend: Backend, args: &[&str]) -> Option<(TestServer, String, String)> {
    let server = TestServer::start_with(
        backend,
        Options {
            args: args.iter().map(|s| s.to_string()).collect(),
            ..Options::default()
        },
    )?;
    let people = seed_people(&server).await;
    let ids = seed_round(&people, ROUND, 3).await;
    let device = enrol_device(&server, &people).await;
    let records = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let r = response_for(ROUND, *id, i as u64);
            UploadRecord {
                content_hash: r.content_hash(),
                response: r,
            }
        })
        .collect();
    device
        .upload(&UploadBatch { records })
        .await
        .expect("upload");
    let _: UserInfo = people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "mttq1", "display_name": "Phúc tra", "role": Role::Monitor,
                "password": PASSWORD,
            }),
        )
        .await
        .unwrap();
    let a = send(
        &server.url,
        Req::new("POST", "/api/v1/login")
            .json(serde_json::json!({ "username": "mttq1", "password": PASSWORD })),
    )
    .await;
    let monitor = a.json()["token"].as_str().unwrap().to_string();
    let sup = people.supervisor.token().unwrap().to_string();
    Some((server, sup, monitor))
}

async fn floor(backend: Backend) {
    // Default floor 10: with 3 respondents nothing can be shown, whatever min_n is asked.
    let Some((server, sup, monitor)) = seeded(backend, &[]).await else {
        return;
    };
    for token in [&sup, &monitor] {
        for query in [
            "?min_n=0",
            "?min_n=1",
            "?min_n=9",
            "",
            "?format=json&min_n=2",
        ] {
            assert_eq!(report(&server.url, token, query).await, (10, 0), "{query}");
        }
        assert_eq!(report(&server.url, token, "?min_n=12").await, (12, 0));
    }
    // CSV and XLSX are built from the same floored report: no value shown for 3 people.
    let a = send(
        &server.url,
        Req::new(
            "GET",
            &format!("/api/v1/rounds/{ROUND}/report?format=csv&min_n=0"),
        )
        .token(&sup),
    )
    .await;
    assert_eq!(a.status, 200);
    let csv = String::from_utf8(a.body.clone()).unwrap();
    let open = send(
        &server.url,
        Req::new(
            "GET",
            &format!("/api/v1/rounds/{ROUND}/report?format=csv&min_n=10"),
        )
        .token(&sup),
    )
    .await;
    assert_eq!(
        csv,
        String::from_utf8(open.body).unwrap(),
        "min_n=0 is min_n=10"
    );
    drop(server);

    // A lower floor set by the operator: min_n below it is raised to it, values with a
    // base of 3 are shown from min_n 3 on; the default stays 10.
    let Some((server, sup, monitor)) = seeded(backend, &["--min-n-floor", "3"]).await else {
        return;
    };
    let (applied, shown) = report(&server.url, &monitor, "?min_n=0").await;
    assert_eq!(applied, 3);
    assert!(shown > 0, "a base of 3 meets a floor of 3");
    assert_eq!(report(&server.url, &sup, "?min_n=1").await, (3, shown));
    assert_eq!(report(&server.url, &sup, "?min_n=4").await, (4, 0));
    assert_eq!(report(&server.url, &sup, "").await, (10, 0));
}
