//! The review queue a page at a time and whole (issue 14: memory is bounded everywhere a
//! request reads a whole round), against the real `sipas-server` on SQLite and PostgreSQL.
//! 450 responses (more than two of the chunks the server streams the whole queue in), some
//! approved, some rejected, one approved then rejected:
//!
//! 1. the whole queue of every state is valid JSON, oldest response id first, and holds
//!    exactly the responses in that state;
//! 2. reading it `limit` at a time, each page after the last id of the page before, gives the
//!    same list, and a page shorter than `limit` is the last;
//! 3. a bad `limit` or `after` is `400.3` naming the field;
//! 4. a client that goes away in the middle of the whole queue leaves the server serving.
use sipas_testkit::{fixture, raw_http, server};

use fixture::{enrol_device, seed_people, seed_round, upload_batches};
use serde_json::{Value, json};
use server::{Backend, TestServer};
use sipas_protocol::problem::Problem;
use sipas_protocol::wire::AckStatus;
use sipas_sync::SyncError;
use std::collections::BTreeSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

const ROUND: &str = "2026-HN-QUEUE";
const N: usize = 450;

use sipas_testkit::server_on_both_backends as both_backends;

/// Response ids of a queue answer, in its order.
fn ids_of(items: &[Value]) -> Vec<Uuid> {
    items
        .iter()
        .map(|i| i["response_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

both_backends!(queue_pages_equal_the_whole_queue);
async fn queue_pages_equal_the_whole_queue(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let assignments = seed_round(&people, ROUND, N).await;
    let device = enrol_device(&server, &people).await;
    for batch in upload_batches(ROUND, &assignments, 200) {
        let result = device.upload(&batch).await.expect("upload");
        assert!(
            result.acks.iter().all(|a| a.status == AckStatus::Accepted),
            "{result:?}"
        );
    }
    let sup = &people.supervisor;
    let queue = |path: String| async move {
        let items: Vec<Value> = sup.get_json(&path).await.expect(&path);
        items
    };
    let whole = queue(format!("/review/queue?round_id={ROUND}&state=all")).await;
    let all = ids_of(&whole);
    assert_eq!(all.len(), N);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "oldest id first");
    assert!(whole.iter().all(|i| i["decision"].is_null()));

    // Decisions: every 7th approved, every 11th rejected; the 77th approved, then rejected.
    let (mut approved, mut rejected) = (BTreeSet::new(), BTreeSet::new());
    for (i, id) in all.iter().enumerate() {
        let decide = |decision: &str| {
            let path = format!("/responses/{id}/1/decision");
            let body =
                json!({"decision": decision, "comment": "Thiếu câu trả lời", "item_comments": {}});
            async move {
                let _: Value = sup.post_json(&path, &body).await.expect(&path);
            }
        };
        if i % 7 == 0 {
            decide("approved").await;
            approved.insert(*id);
        }
        if i % 11 == 0 {
            decide("rejected").await;
            approved.remove(id);
            rejected.insert(*id);
        }
    }
    let expect = |state: &str| -> Vec<Uuid> {
        all.iter()
            .copied()
            .filter(|id| match state {
                "pending" => !approved.contains(id) && !rejected.contains(id),
                "approved" => approved.contains(id),
                "rejected" => rejected.contains(id),
                _ => true,
            })
            .collect()
    };
    for state in ["pending", "approved", "rejected", "all"] {
        let streamed = queue(format!("/review/queue?round_id={ROUND}&state={state}")).await;
        assert_eq!(ids_of(&streamed), expect(state), "{state}: the whole queue");
        for item in &streamed {
            let want = match state {
                "pending" => Value::Null,
                "all" => item["decision"].clone(),
                s => json!(s),
            };
            assert_eq!(item["decision"], want, "{state}");
        }
        for limit in [100, 37] {
            let mut paged: Vec<Value> = Vec::new();
            let mut after = String::new();
            loop {
                let page = queue(format!(
                    "/review/queue?round_id={ROUND}&state={state}&limit={limit}{after}"
                ))
                .await;
                assert!(page.len() <= limit, "{state}: a page holds at most {limit}");
                let last = page.len() < limit;
                if let Some(end) = page.last() {
                    after = format!("&after={}", end["response_id"].as_str().unwrap());
                }
                paged.extend(page);
                if last {
                    break;
                }
            }
            assert_eq!(
                paged, streamed,
                "{state}: pages of {limit} = the whole queue"
            );
        }
    }
    // After the last response there is nothing.
    let end = queue(format!(
        "/review/queue?round_id={ROUND}&state=all&limit=5&after={}",
        all[N - 1]
    ))
    .await;
    assert!(end.is_empty());

    // Bad paging is refused, naming the field.
    for (query, field) in [
        ("&limit=0", "limit"),
        ("&limit=1001", "limit"),
        ("&limit=ten", "limit"),
        ("&limit=-1", "limit"),
        ("&after=not-an-id", "after"),
        ("&limit=5&after=123", "after"),
    ] {
        let path = format!("/review/queue?round_id={ROUND}{query}");
        match sup.get_json::<Value>(&path).await {
            Err(SyncError::Server(Problem { code, details, .. })) => {
                assert_eq!(code, "400.3", "{path}");
                assert_eq!(details["field"], field, "{path}");
            }
            other => panic!("{path}: expected 400.3, got {other:?}"),
        }
    }

    // A client that reads the start of the whole queue and leaves: the server goes on serving
    // and the next whole queue is complete.
    let token = sup.token().expect("signed in").to_owned();
    let mut stream = tokio::net::TcpStream::connect(raw_http::authority(&server.url))
        .await
        .expect("connect");
    let head = format!(
        "GET /api/v1/review/queue?round_id={ROUND}&state=all HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut start = [0u8; 2048];
    let got = stream.read(&mut start).await.unwrap();
    assert!(String::from_utf8_lossy(&start[..got]).starts_with("HTTP/1.1 200"));
    drop(stream);
    let again = queue(format!("/review/queue?round_id={ROUND}&state=all")).await;
    assert_eq!(ids_of(&again), all);
}
