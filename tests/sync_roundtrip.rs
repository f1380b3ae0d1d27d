//! Device ↔ server sync against the real `sipas-server` binary, on SQLite and PostgreSQL:
//! enrol, pull assignments, interview 20 respondents, sync; then idempotency (re-sync sends
//! nothing, a raw resend is all `duplicate`), a changed record under the same revision is a
//! `conflict` that changes nothing, and a supervisor's rejection comes back to the device and
//! is answered with revision 2.
use sipas_testkit::{fixture, server};

use fixture::{
    enrol_device, index_respondents, interview, key, seed_people, seed_round, server_records,
};
use server::{Backend, TestServer};
use sipas_core::answer::AnswerValue;
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord};
use sipas_store::{OutboxState, ResponseStatus, Store};
use sipas_sync::{SyncConfig, Syncer, sync_status};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roundtrip_on_sqlite() {
    roundtrip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roundtrip_on_postgres() {
    roundtrip(Backend::Postgres).await;
}

fn upload_of(responses: &[sipas_core::response::Response]) -> UploadBatch {
    UploadBatch {
        records: responses
            .iter()
            .map(|r| UploadRecord {
                response: r.clone(),
                content_hash: r.content_hash(),
            })
            .collect(),
    }
}

async fn roundtrip(backend: Backend) {
    let t0 = Instant::now();
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let round = "2026-HN-1";
    let people = seed_people(&server).await;
    seed_round(&people, round, 25).await;
    let device = enrol_device(&server, &people).await;
    let syncer = Syncer::new(
        device.clone(),
        SyncConfig {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..SyncConfig::default()
        },
    );
    let mut store = Store::open(server.dir().join("device.db")).expect("device store");

    // Pull: the 25 assignments with their contacts.
    let pulled = syncer.pull(&mut store).await.expect("pull");
    assert_eq!(pulled.assignments, 25);
    assert!(pulled.cursor > 0, "{pulled:?}");
    assert_eq!(store.pull_cursor().unwrap(), pulled.cursor);
    let assignments = store.list_assignments().unwrap();
    assert_eq!(assignments.len(), 25);
    let contact = store
        .get_contact(assignments[0].id)
        .unwrap()
        .expect("contact");
    assert!(
        contact
            .respondent_name
            .unwrap()
            .starts_with("Nguyễn Thị Bảo Mật")
    );
    let again = syncer.pull(&mut store).await.expect("second pull");
    assert_eq!(again.assignments, 0, "nothing changed since the cursor");

    // Interview 20 respondents and sync.
    let responses = interview(&mut store, 20);
    assert_eq!(sync_status(&store).unwrap().pending, 20);
    let report = syncer.run_until_drained(&mut store).await.expect("sync");
    assert_eq!(
        (report.push.acked, report.push.rejected, report.attempts),
        (20, 0, 1),
        "{report:?}"
    );
    let status = sync_status(&store).unwrap();
    assert_eq!((status.pending, status.in_flight, status.acked), (0, 0, 20));
    assert!(status.last_success_at.is_some());
    for r in &responses {
        let stored = store.get_response(r.id, r.revision).unwrap().unwrap();
        assert_eq!(stored.status, ResponseStatus::Synced);
    }
    let expected: BTreeSet<_> = responses.iter().map(key).collect();
    assert_eq!(server_records(&server, round), expected);
    assert_eq!(index_respondents(&people, round).await, 20);

    // Re-sync sends nothing.
    let report = syncer.sync(&mut store).await.expect("re-sync");
    assert_eq!((report.push.batches, report.push.sent), (0, 0));

    // A raw resend of everything: all duplicates, nothing new on the server.
    let result = device.upload(&upload_of(&responses)).await.expect("resend");
    assert_eq!(result.acks.len(), 20);
    for (ack, r) in result.acks.iter().zip(&responses) {
        assert_eq!(
            (ack.id, ack.revision),
            (r.id, r.revision),
            "acks come in order"
        );
        assert_eq!(ack.status, AckStatus::Duplicate, "{ack:?}");
    }
    assert_eq!(server_records(&server, round), expected);
    assert_eq!(index_respondents(&people, round).await, 20);

    // Changed content under the same id and revision: conflict, server unchanged.
    let mut changed = responses[0].clone();
    let g = changed.answers.get_mut("G1_1").expect("G1_1 answered");
    *g = match g {
        AnswerValue::Int(5) => AnswerValue::Int(1),
        _ => AnswerValue::Int(5),
    };
    let result = device
        .upload(&upload_of(std::slice::from_ref(&changed)))
        .await
        .expect("conflicting upload");
    assert_eq!(
        result.acks[0].status,
        AckStatus::Conflict,
        "{:?}",
        result.acks
    );
    assert!(result.acks[0].reason.is_some());
    assert_eq!(server_records(&server, round), expected);
    assert_eq!(index_respondents(&people, round).await, 20);

    // A supervisor rejects one response; the device gets the decision, the surveyor corrects
    // it, and revision 2 replaces it in the index.
    let rejected = &responses[1];
    let _: serde_json::Value = people
        .supervisor
        .post_json(
            &format!("/responses/{}/1/decision", rejected.id),
            &serde_json::json!({
                "decision": "rejected",
                "comment": "Vui lòng hỏi lại câu G1_2",
                "item_comments": { "G1_2": "Mâu thuẫn với G1_1" },
            }),
        )
        .await
        .expect("reject");
    assert_eq!(index_respondents(&people, round).await, 19);
    let report = syncer.sync(&mut store).await.expect("sync after review");
    assert_eq!(report.pull.decisions, 1, "{report:?}");
    let stored = store.get_response(rejected.id, 1).unwrap().unwrap();
    assert_eq!(stored.status, ResponseStatus::Rejected);
    let review = stored.review_comment.expect("review comment on the device");
    assert_eq!(review["comment"], "Vui lòng hỏi lại câu G1_2");
    assert_eq!(review["item_comments"]["G1_2"], "Mâu thuẫn với G1_1");

    let draft = store.edit_response(rejected.id).unwrap();
    let old = draft.answers["G1_2"].as_int().unwrap();
    store
        .save_answer(
            draft.id,
            "G1_2",
            Some(AnswerValue::Int(if old == 4 { 5 } else { 4 })),
            Some(3000),
        )
        .unwrap();
    let revision2 = store.complete_draft(draft.id, chrono::Utc::now()).unwrap();
    assert_eq!(revision2.revision, 2);
    let report = syncer
        .run_until_drained(&mut store)
        .await
        .expect("sync rev 2");
    assert_eq!(report.push.acked, 1);
    assert_eq!(
        store.get_outbox(rejected.id, 2).unwrap().unwrap().state,
        OutboxState::Acked
    );
    let mut expected = expected;
    expected.insert(key(&revision2));
    assert_eq!(server_records(&server, round), expected);
    assert_eq!(index_respondents(&people, round).await, 20);
    eprintln!(
        "roundtrip on {backend:?}: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}
