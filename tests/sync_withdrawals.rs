//! Reassignment reaches the device, against the real `sipas-server` binary on SQLite and
//! PostgreSQL: surveyor A pulls three assignments, interviews one and syncs; the supervisor
//! moves another to surveyor B. A's next pull carries that id in `withdrawn` (and never in
//! `assignments`), and A's device deletes its contact and keeps the draft read-only. Moving
//! the interviewed assignment is `409.1` and changes nothing. Giving the assignment back to A
//! brings it back with its contact.
use sipas_testkit::{fixture, server};

use fixture::{contact_name, contact_phone, enrol_device, interview, seed_people, seed_round};
use server::{Backend, TestServer};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::UserInfo;
use sipas_store::{NewDraft, Store, StoreError};
use sipas_sync::{SyncConfig, SyncError, Syncer};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_withdraws_the_contact_on_sqlite() {
    withdrawals(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reassignment_withdraws_the_contact_on_postgres() {
    withdrawals(Backend::Postgres).await;
}

async fn withdrawals(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let round = "2026-HN-WD";
    let people = seed_people(&server).await;
    let ids = seed_round(&people, round, 3).await;
    let other: UserInfo = people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "dtv2", "display_name": "Điều tra viên 2",
                "role": Role::Surveyor, "password": null,
            }),
        )
        .await
        .expect("create surveyor B");
    let device = enrol_device(&server, &people).await;
    let syncer = Syncer::new(device.clone(), SyncConfig::default());
    let mut store = Store::open(server.dir().join("device.db")).expect("device store");
    store.set_actor("dtv1");
    syncer.pull(&mut store).await.expect("first pull");
    let cursor = store.pull_cursor().unwrap();

    // A interviews the first listed assignment and syncs; starts a draft on another.
    let done = interview(&mut store, 1)[0].assignment_id.unwrap();
    let moved = *ids.iter().find(|id| **id != done).unwrap();
    let kept = *ids.iter().find(|id| **id != done && **id != moved).unwrap();
    let a = store.get_assignment(moved).unwrap().unwrap();
    let draft = store
        .create_draft(&NewDraft {
            assignment_id: Some(moved),
            form: a.form.clone(),
            round_id: a.round_id.clone(),
            unit_code: a.unit_code.clone(),
        })
        .unwrap();
    let report = syncer.sync(&mut store).await.expect("sync the interview");
    assert_eq!(report.push.acked, 1, "{report:?}");
    let moved_i = ids.iter().position(|id| *id == moved).unwrap();
    let contact = store.get_contact(moved).unwrap().unwrap();
    assert_eq!(contact.respondent_name, Some(contact_name(moved_i)));

    // Moving the interviewed assignment: 409.1, with a Vietnamese message; nothing changes.
    let assign = |ids: Vec<Uuid>, to: Uuid| {
        let sup = &people.supervisor;
        async move {
            sup.post_json::<_, serde_json::Value>(
                &format!("/rounds/{round}/assign"),
                &serde_json::json!({ "assignment_ids": ids, "surveyor_id": to }),
            )
            .await
        }
    };
    match assign(vec![moved, done], other.id).await {
        Err(SyncError::Server(p)) => {
            assert_eq!(p.code, "409.1", "{p:?}");
            assert!(p.message_vi.contains("đã có phiếu"), "{p:?}");
        }
        other => panic!("moving an interviewed assignment: {other:?}"),
    }
    let pull = device.pull(cursor).await.unwrap();
    assert!(pull.withdrawn.is_empty(), "nothing moved: {pull:?}");

    // Moving one without a response to B: A's next pull withdraws it.
    assign(vec![moved], other.id).await.expect("move to B");
    let pull = device.pull(store.pull_cursor().unwrap()).await.unwrap();
    assert_eq!(pull.withdrawn, [moved]);
    assert!(pull.assignments.iter().all(|a| a.id != moved));
    // A device pulling from scratch is not sent the assignment nor its contact.
    let fresh = device.pull(0).await.unwrap();
    assert_eq!(fresh.withdrawn, [moved]);
    assert!(fresh.assignments.iter().all(|a| a.id != moved));
    // The refused move changed nothing: the interviewed assignment is still A's.
    assert!(fresh.assignments.iter().any(|a| a.id == done));
    let report = syncer.sync(&mut store).await.expect("sync after the move");
    assert_eq!(report.pull.withdrawn, 1, "{report:?}");
    assert_eq!(store.get_contact(moved).unwrap(), None);
    assert!(store.get_contact(kept).unwrap().is_some());
    assert!(store.withdrawn_assignments().unwrap().contains(&moved));
    assert!(store.get_draft(draft).unwrap().is_some(), "draft kept");
    assert!(matches!(
        store.save_answer(draft, "A1", None, None),
        Err(StoreError::Withdrawn { .. })
    ));
    // The cursor moved past the withdrawal: it is not sent again.
    let again = device.pull(store.pull_cursor().unwrap()).await.unwrap();
    assert!(again.withdrawn.is_empty(), "{again:?}");
    let raw = std::fs::read(server.dir().join("device.db")).unwrap();
    let phone = contact_phone(moved_i);
    assert!(
        !raw.windows(phone.len()).any(|w| w == phone.as_bytes()),
        "the withdrawn phone number is still in the device file"
    );

    // B's device gets it with the contact.
    let b_pull: serde_json::Value = {
        let code: sipas_protocol::wire::EnrolmentCode = people
            .supervisor
            .post_json(
                "/enrolment-codes",
                &serde_json::json!({ "user_id": other.id, "valid_minutes": 60 }),
            )
            .await
            .unwrap();
        let mut b = fixture::client(&server);
        b.enrol(&code.code, "Máy B").await.unwrap();
        b.get_json("/pull?cursor=0").await.unwrap()
    };
    assert_eq!(b_pull["assignments"][0]["id"], moved.to_string());
    assert_eq!(b_pull["withdrawn"], serde_json::json!([]));

    // Given back to A: it returns with its contact and is no longer withdrawn.
    assign(vec![moved], people.surveyor.id)
        .await
        .expect("move back to A");
    let report = syncer
        .sync(&mut store)
        .await
        .expect("sync after the return");
    assert_eq!((report.pull.withdrawn, report.pull.assignments), (0, 1));
    assert!(store.withdrawn_assignments().unwrap().is_empty());
    assert_eq!(
        store.get_contact(moved).unwrap().unwrap().respondent_name,
        Some(contact_name(moved_i))
    );
}
