//! A revoked device loses nothing, against the real `sipas-server` binary on SQLite and
//! PostgreSQL: after `POST /devices/{id}/revoke` its token answers `401.1` (sync stops), but
//! the interviews it still holds reach the server through a signed hand-over file that a
//! supervisor imports.
use sipas_testkit::{fixture, server};

use chrono::Utc;
use fixture::{client, enrolment_code, interview, seed_people, seed_round};
use server::{Backend, TestServer};
use sipas_protocol::wire::AckStatus;
use sipas_store::Store;
use sipas_sync::{
    HandoverReply, SyncConfig, SyncError, Syncer, enrol_with_identity, export_handover,
};

const ROUND: &str = "2026-REVOKE-1";
const INTERVIEWS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_device_hands_over_on_sqlite() {
    revoked_device_hands_over(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_device_hands_over_on_postgres() {
    revoked_device_hands_over(Backend::Postgres).await;
}

async fn revoked_device_hands_over(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, 5).await;
    let code = enrolment_code(&people).await;
    let mut device = client(&server);
    let enrolled = enrol_with_identity(&mut device, &code, "Máy bị mất")
        .await
        .expect("enrol");
    let device_id = enrolled.response.device_id;
    let mut store = Store::open(server.dir().join("device.db")).expect("device store");
    let pulled = Syncer::new(device.clone(), SyncConfig::default())
        .pull(&mut store)
        .await
        .expect("pull");
    assert!(pulled.assignments >= INTERVIEWS, "{pulled:?}");
    let responses = interview(&mut store, INTERVIEWS);
    assert_eq!(responses.len(), INTERVIEWS);

    // The supervisor revokes the device: from now on its token is refused.
    let revoked: serde_json::Value = people
        .supervisor
        .post_json(
            &format!("/devices/{device_id}/revoke"),
            &serde_json::json!({}),
        )
        .await
        .expect("revoke");
    assert!(revoked["revoked_at"].is_string(), "{revoked}");
    match device.pull(0).await.unwrap_err() {
        SyncError::Server(p) => assert_eq!(p.code, "401.1"),
        other => panic!("expected 401.1, got {other:?}"),
    }

    // The interviews still reach the server: signed file, imported by the supervisor.
    let (file, n) = export_handover(&store, &enrolled.identity, Utc::now()).expect("export");
    assert_eq!(n, INTERVIEWS);
    let reply: HandoverReply = people
        .supervisor
        .post_bytes("/handover", "application/json", file)
        .await
        .expect("import the revoked device's file");
    assert_eq!(reply.device_id, device_id);
    let statuses: Vec<AckStatus> = reply.acks.iter().map(|a| a.status).collect();
    assert_eq!(statuses, vec![AckStatus::Accepted; INTERVIEWS]);
}
