//! A second sync of the same device store sends no response body (issue 14), seen on the
//! wire: the real sync client talks to the real `sipas-server` (SQLite and PostgreSQL)
//! through `sipas_testkit::counting_proxy`, which records every request's path and bytes.
//! 300 queued responses are uploaded by the first sync; the second sync makes no upload
//! request and sends no request body at all; one interview afterwards is the only record sent.
use sipas_testkit::counting_proxy::{CountingProxy, SeenRequest};
use sipas_testkit::{fixture, server};

use fixture::{enrol_device, key, queue_responses, seed_people, seed_round, server_records};
use server::{Backend, TestServer};
use sipas_store::Store;
use sipas_sync::{ApiClient, SyncConfig, Syncer, sync_status};
use std::collections::BTreeSet;

const RESPONSES: usize = 300;
const ROUND: &str = "2026-HN-2";
const UPLOAD: &str = "/responses/batch";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_sync_sends_no_response_body_on_sqlite() {
    second_sync(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_sync_sends_no_response_body_on_postgres() {
    second_sync(Backend::Postgres).await;
}

fn body_bytes(requests: &[SeenRequest]) -> usize {
    requests.iter().map(|r| r.body_bytes).sum()
}

async fn second_sync(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let ids = seed_round(&people, ROUND, RESPONSES + 1).await;
    let device = enrol_device(&server, &people).await;
    let proxy = CountingProxy::start(&server.url).await;
    let client = ApiClient::new(&proxy.url)
        .unwrap()
        .with_token(device.token().unwrap());
    let syncer = Syncer::new(client, SyncConfig::default());
    let mut store = Store::open(server.dir().join("device.db")).unwrap();
    syncer.pull(&mut store).await.expect("pull");
    let responses = queue_responses(&mut store, ROUND, &ids[..RESPONSES]);

    // First sync: every response goes up, in gzip upload bodies.
    proxy.clear();
    let first = syncer.sync(&mut store).await.expect("first sync");
    assert_eq!((first.push.acked, first.push.rejected), (RESPONSES, 0));
    let uploads = proxy.requests_to(UPLOAD);
    assert!(!uploads.is_empty(), "{:?}", proxy.requests());
    assert!(
        uploads
            .iter()
            .all(|r| r.method == "POST" && r.body_bytes > 0)
    );
    let expected: BTreeSet<_> = responses.iter().map(key).collect();
    assert_eq!(server_records(&server, ROUND), expected);

    // Second sync of the same store: no upload request, no request body of any kind.
    proxy.clear();
    let second = syncer.sync(&mut store).await.expect("second sync");
    assert_eq!(
        (second.push.batches, second.push.sent),
        (0, 0),
        "{second:?}"
    );
    let seen = proxy.requests();
    assert!(!seen.is_empty(), "the second sync still pulls");
    assert!(proxy.requests_to(UPLOAD).is_empty(), "{seen:?}");
    assert_eq!(body_bytes(&seen), 0, "{seen:?}");
    assert!(seen.iter().all(|r| r.method == "GET"), "{seen:?}");
    assert_eq!(server_records(&server, ROUND), expected);
    assert!(sync_status(&store).unwrap().is_drained());

    // One more interview: the next sync sends that one record and nothing else.
    let extra = interview_one(&mut store, ids[RESPONSES]);
    proxy.clear();
    let third = syncer.sync(&mut store).await.expect("third sync");
    assert_eq!((third.push.sent, third.push.acked), (1, 1), "{third:?}");
    let uploads = proxy.requests_to(UPLOAD);
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    assert!(body_bytes(&uploads) > 0);
    let mut expected = expected;
    expected.insert(key(&extra));
    assert_eq!(server_records(&server, ROUND), expected);
}

/// Interviews assignment `id` the way the app does (draft, autosaves, complete).
fn interview_one(store: &mut Store, id: uuid::Uuid) -> sipas_core::response::Response {
    let a = store
        .get_assignment(id)
        .unwrap()
        .expect("pulled assignment");
    let draft = store
        .create_draft(&sipas_store::NewDraft {
            assignment_id: Some(a.id),
            form: a.form.clone(),
            round_id: a.round_id.clone(),
            unit_code: a.unit_code.clone(),
        })
        .unwrap();
    for (code, value) in fixture::fill_answers(&fixture::form(), 7) {
        store.save_answer(draft, &code, Some(value), None).unwrap();
    }
    store.complete_draft(draft, chrono::Utc::now()).unwrap()
}
