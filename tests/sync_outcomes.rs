//! Field outcomes recorded on the device reach the server, against the real `sipas-server`
//! binary on SQLite and PostgreSQL: the surveyor marks one assignment refused while offline
//! and syncs; the server's round progress then counts one non-response for the surveyor, and
//! a second sync sends nothing more. An outcome recorded before the interview was completed
//! is not sent after it (the assignment stays collected), and an outcome the server refuses
//! for good (an assignment it does not know) is kept on the device with the reason and not
//! sent again.
use sipas_testkit::{fixture, server};

use fixture::{People, enrol_device, interview, seed_people, seed_round};
use server::{Backend, TestServer};
use sipas_store::{Assignment, AssignmentStatus, Store};
use sipas_sync::{SyncConfig, Syncer, sync_status};
use std::time::Duration;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_reach_the_server_on_sqlite() {
    outcomes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_reach_the_server_on_postgres() {
    outcomes(Backend::Postgres).await;
}

/// The surveyor's counts in `GET /rounds/{round}/progress`: (assigned, collected,
/// non_response).
async fn progress_of_surveyor(people: &People, round: &str) -> (u64, u64, u64) {
    let report: serde_json::Value = people
        .supervisor
        .get_json(&format!("/rounds/{round}/progress"))
        .await
        .expect("round progress");
    // Issue 10: `{round_id, by, total, rows: [{key = surveyor id, ...}]}`.
    let me = report["rows"]
        .as_array()
        .expect("rows in the progress report")
        .iter()
        .find(|s| s["key"] == people.surveyor.id.to_string())
        .unwrap_or_else(|| panic!("the surveyor in {report}"));
    let n = |k: &str| me[k].as_u64().unwrap_or_else(|| panic!("{k} in {me}"));
    (n("assigned"), n("collected"), n("non_response"))
}

async fn outcomes(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let round = "2026-HN-OUT";
    let people = seed_people(&server).await;
    seed_round(&people, round, 3).await;
    let device = enrol_device(&server, &people).await;
    let syncer = Syncer::new(
        device,
        SyncConfig {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..SyncConfig::default()
        },
    );
    let mut store = Store::open(server.dir().join("device.db")).expect("device store");
    store.set_actor("dtv1");
    syncer.pull(&mut store).await.expect("pull");
    let assignments = store.list_assignments().unwrap();
    assert_eq!(assignments.len(), 3);
    assert_eq!(progress_of_surveyor(&people, round).await, (3, 0, 0));

    // Offline: one respondent refuses; another is first found absent, then interviewed.
    let refused = assignments[2].id;
    store
        .set_assignment_status(
            refused,
            AssignmentStatus::Refused,
            Some("Không muốn trả lời, đã giải thích hai lần"),
            "dtv1",
        )
        .unwrap();
    store
        .set_assignment_status(assignments[0].id, AssignmentStatus::Absent, None, "dtv1")
        .unwrap();
    let responses = interview(&mut store, 1);
    assert_eq!(responses[0].assignment_id, Some(assignments[0].id));
    // An assignment the server does not know (it refuses the change with 404.1).
    let unknown = Assignment {
        id: Uuid::now_v7(),
        status: AssignmentStatus::NotVisited,
        ..assignments[1].clone()
    };
    store.upsert_assignment(&unknown, None).unwrap();
    store
        .set_assignment_status(unknown.id, AssignmentStatus::Moved, None, "dtv1")
        .unwrap();
    let before = sync_status(&store).unwrap();
    assert_eq!((before.pending, before.statuses_pending), (1, 2));

    // Back online: one sync delivers the response and the outcomes.
    let report = syncer.run_until_drained(&mut store).await.expect("sync");
    assert_eq!(
        (
            report.push.acked,
            report.push.statuses_acked,
            report.push.statuses_refused,
            report.attempts
        ),
        (1, 1, 1, 1),
        "{report:?}"
    );
    assert_eq!(progress_of_surveyor(&people, round).await, (3, 1, 1));
    let after = sync_status(&store).unwrap();
    assert!(after.is_drained(), "{after:?}");
    let delivered = store.get_status_change(refused).unwrap().unwrap();
    assert!(!delivered.pending && !delivered.refused(), "{delivered:?}");
    let refusal = store.get_status_change(unknown.id).unwrap().unwrap();
    assert!(refusal.refused(), "{refusal:?}");
    assert!(
        refusal.last_error.as_deref().unwrap().contains("404.1"),
        "{refusal:?}"
    );
    assert_eq!(store.get_status_change(assignments[0].id).unwrap(), None);

    // The server's change comes back with the next pull; the device keeps its note.
    let report = syncer.sync(&mut store).await.expect("re-sync");
    assert_eq!(
        (
            report.push.sent,
            report.push.statuses_acked,
            report.push.statuses_refused
        ),
        (0, 0, 0),
        "a second sync sends nothing: {report:?}"
    );
    let local = store.get_assignment(refused).unwrap().unwrap();
    assert_eq!(local.status, AssignmentStatus::Refused);
    assert_eq!(
        local.status_note.as_deref(),
        Some("Không muốn trả lời, đã giải thích hai lần")
    );
    assert_eq!(
        store
            .get_assignment(assignments[0].id)
            .unwrap()
            .unwrap()
            .status,
        AssignmentStatus::Collected
    );
    assert!(sync_status(&store).unwrap().is_drained());
    assert_eq!(progress_of_surveyor(&people, round).await, (3, 1, 1));

    // The note is personal free text: it never reaches the device's audit log.
    for e in store.audit_entries(0).unwrap() {
        assert!(!e.detail.to_string().contains("Không muốn"), "{e:?}");
    }
}
