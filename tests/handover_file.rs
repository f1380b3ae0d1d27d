//! Offline hand-over against the real `sipas-server` binary, on SQLite and PostgreSQL: a
//! device enrolled with a signing identity interviews 5 respondents without network, exports
//! a signed file (leaving its outbox untouched), and a supervisor imports it with
//! `POST /api/v1/handover`.
//!
//! * `handover_*`: a tampered file and a file signed by another device under this device's
//!   id are refused (`400.3`, `bad_signature`) with nothing stored; the genuine file gives 5
//!   `accepted`; the device applies the import result and its outbox drains; importing the
//!   same file again gives 5 `duplicate` and the server still has 5; a network sync then
//!   sends nothing.
//! * `handover_without_reply_*`: the import result never reaches the device (one record was
//!   even left `in_flight` by an interrupted sync); the next network sync gets `duplicate`
//!   for all 5, the outbox drains, and the server has exactly the device's records.
//! * `legacy_handover_file_*`: a `sipas-batch/1` file as an app version from before the
//!   canonical form wrote it (signature over sorted-key JSON, content hashes of the old rule)
//!   imports: 5 `accepted`, stored with their canonical hashes; again: 5 `duplicate`.
use sipas_testkit::{fixture, server};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use ed25519_dalek::Signer;
use fixture::{
    People, client, enrolment_code, interview, key, seed_people, seed_round, server_records,
};
use server::{Backend, TestServer};
use sipas_core::response::Response;
use sipas_protocol::wire::AckStatus;
use sipas_store::{OutboxState, ResponseStatus, Store};
use sipas_sync::handover::handover_file_name;
use sipas_sync::{
    ApiClient, DeviceIdentity, HandoverReply, SyncConfig, SyncError, Syncer, apply_handover_reply,
    enrol_with_identity, export_handover, sync_status, write_handover_file,
};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const ROUND: &str = "2026-HN-1";
const INTERVIEWS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handover_on_sqlite() {
    handover(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handover_on_postgres() {
    handover(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_handover_file_on_sqlite() {
    legacy_handover_file(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_handover_file_on_postgres() {
    legacy_handover_file(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handover_without_reply_on_sqlite() {
    handover_without_reply(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handover_without_reply_on_postgres() {
    handover_without_reply(Backend::Postgres).await;
}

/// A device enrolled with a signing identity, as the app keeps it: its client (holding the
/// token), its store with the surveyor's assignments pulled, and the identity reloaded from
/// the saved secret key.
struct Device {
    client: ApiClient,
    store: Store,
    identity: DeviceIdentity,
}

async fn enrol(server: &TestServer, people: &People, name: &str) -> Device {
    let code = enrolment_code(people).await;
    let mut device = client(server);
    let enrolled = enrol_with_identity(&mut device, &code, "Máy tính bảng thử nghiệm")
        .await
        .expect("enrol with a signing identity");
    assert_eq!(enrolled.identity.device_id, enrolled.response.device_id);
    assert_eq!(device.token(), Some(enrolled.response.token.as_str()));
    // What the app does: save the secret key with the enrolment, load it when exporting.
    let saved = server.dir().join(format!("{name}.key"));
    std::fs::write(&saved, enrolled.identity.secret_key_base64().as_bytes()).unwrap();
    let identity = DeviceIdentity::load(
        enrolled.response.device_id,
        &std::fs::read_to_string(&saved).unwrap(),
    )
    .expect("reload the saved identity");
    assert_eq!(
        identity.public_key_base64(),
        enrolled.identity.public_key_base64()
    );
    let mut store = Store::open(server.dir().join(format!("{name}.db"))).expect("device store");
    let pulled = syncer(&device).pull(&mut store).await.expect("pull");
    assert!(pulled.assignments >= INTERVIEWS, "{pulled:?}");
    Device {
        client: device,
        store,
        identity,
    }
}

fn syncer(device: &ApiClient) -> Syncer {
    Syncer::new(
        device.clone(),
        SyncConfig {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..SyncConfig::default()
        },
    )
}

/// The supervisor imports `file`: the server's reply as the raw JSON a supervisor would
/// bring back to the device, or the error.
async fn import(people: &People, file: &[u8]) -> Result<Vec<u8>, SyncError> {
    let reply: serde_json::Value = people
        .supervisor
        .post_bytes("/handover", "application/json", file.to_vec())
        .await?;
    Ok(serde_json::to_vec(&reply).unwrap())
}

fn statuses(reply: &[u8], responses: &[Response]) -> Vec<AckStatus> {
    let reply: HandoverReply = serde_json::from_slice(reply).expect("import result");
    assert_eq!(reply.acks.len(), responses.len());
    for (ack, r) in reply.acks.iter().zip(responses) {
        assert_eq!(
            (ack.id, ack.revision),
            (r.id, r.revision),
            "acks in file order"
        );
    }
    reply.acks.iter().map(|a| a.status).collect()
}

fn assert_bad_signature(err: SyncError) {
    let problem = err.problem().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(problem.code, "400.3", "{problem:?}");
    assert_eq!(problem.details["reason"], "bad_signature", "{problem:?}");
}

/// `handover.imported` audit entries naming `device`.
async fn imports_audited(people: &People, device: uuid::Uuid) -> usize {
    let audit: Vec<serde_json::Value> = people
        .admin
        .get_json("/audit?since=0&limit=1000")
        .await
        .expect("audit log");
    audit
        .iter()
        .filter(|e| e["action"] == "handover.imported")
        .inspect(|e| assert_eq!(e["entity_id"], device.to_string(), "{e}"))
        .count()
}

fn outbox_states(store: &Store, responses: &[Response]) -> Vec<OutboxState> {
    responses
        .iter()
        .map(|r| store.get_outbox(r.id, r.revision).unwrap().unwrap().state)
        .collect()
}

async fn handover(backend: Backend) {
    let t0 = Instant::now();
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, 8).await;
    let mut device = enrol(&server, &people, "device-a").await;
    let device_id = device.identity.device_id;
    let t_setup = t0.elapsed();

    // Offline: interview 5 respondents, export, write the file atomically.
    let responses = interview(&mut device.store, INTERVIEWS);
    let expected: BTreeSet<_> = responses.iter().map(key).collect();
    let exported_at = Utc::now();
    let (file, n) = export_handover(&device.store, &device.identity, exported_at).expect("export");
    assert_eq!(n, INTERVIEWS);
    let path = server
        .dir()
        .join(handover_file_name(device_id, exported_at, None));
    write_handover_file(&path, &file).expect("write the hand-over file");
    let file = std::fs::read(&path).unwrap();
    assert_eq!(
        outbox_states(&device.store, &responses),
        [OutboxState::Pending; INTERVIEWS],
        "exporting leaves the outbox alone"
    );

    // A tampered file (one answer changed after signing): 400.3, nothing stored.
    let mut tampered: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let g = &mut tampered["records"][0]["response"]["answers"]["G1_1"];
    *g = if *g == 5 { 1.into() } else { 5.into() };
    assert_ne!(
        tampered,
        serde_json::from_slice::<serde_json::Value>(&file).unwrap()
    );
    let err = import(&people, &serde_json::to_vec(&tampered).unwrap())
        .await
        .unwrap_err();
    assert_bad_signature(err);

    // A second device's file under the first device's id: 400.3, nothing stored.
    let other = enrol(&server, &people, "device-b").await;
    assert_ne!(other.identity.device_id, device_id);
    let forged = DeviceIdentity::new(device_id, other.identity.signing_key.clone());
    let (forged_file, _) = export_handover(&device.store, &forged, exported_at).unwrap();
    assert_bad_signature(import(&people, &forged_file).await.unwrap_err());
    assert!(server_records(&server, ROUND).is_empty(), "nothing stored");
    assert_eq!(imports_audited(&people, device_id).await, 0);

    // The genuine file: 5 accepted.
    let t_import = Instant::now();
    let reply = import(&people, &file).await.expect("import");
    let t_import = t_import.elapsed();
    assert_eq!(
        statuses(&reply, &responses),
        [AckStatus::Accepted; INTERVIEWS]
    );
    let parsed: HandoverReply = serde_json::from_slice(&reply).unwrap();
    assert_eq!(parsed.device_id, device_id);
    assert_eq!(parsed.surveyor_id, people.surveyor.id);
    assert_eq!(parsed.exported_at, exported_at);
    assert_eq!(server_records(&server, ROUND), expected);

    // The device applies the import result: its outbox drains.
    let report = apply_handover_reply(&mut device.store, device_id, &reply).expect("apply");
    assert_eq!(
        (report.acked, report.duplicates, report.rejected),
        (5, 0, 0)
    );
    assert_eq!(
        outbox_states(&device.store, &responses),
        [OutboxState::Acked; INTERVIEWS]
    );
    for r in &responses {
        let stored = device
            .store
            .get_response(r.id, r.revision)
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, ResponseStatus::Synced);
    }
    assert!(sync_status(&device.store).unwrap().is_drained());
    let again = apply_handover_reply(&mut device.store, device_id, &reply).unwrap();
    assert_eq!((again.acked, again.already_settled), (0, INTERVIEWS));

    // The same file imported again: 5 duplicate, still 5 on the server.
    let reply2 = import(&people, &file).await.expect("second import");
    assert_eq!(
        statuses(&reply2, &responses),
        [AckStatus::Duplicate; INTERVIEWS]
    );
    assert_eq!(server_records(&server, ROUND), expected);
    assert_eq!(imports_audited(&people, device_id).await, 2);

    // Back on the network: nothing left to send.
    let sync = syncer(&device.client)
        .sync(&mut device.store)
        .await
        .expect("network sync");
    assert_eq!((sync.push.batches, sync.push.sent), (0, 0), "{sync:?}");
    assert_eq!(server_records(&server, ROUND), expected);

    // The secret key never reaches the server's log.
    let secret = device.identity.secret_key_base64();
    assert!(!server.log_text().contains(secret.as_str()));
    eprintln!(
        "handover on {backend:?}: setup {:.1} s, import of {INTERVIEWS} records {:.0} ms, \
         total {:.1} s",
        t_setup.as_secs_f64(),
        t_import.as_secs_f64() * 1000.0,
        t0.elapsed().as_secs_f64()
    );
}

async fn handover_without_reply(backend: Backend) {
    let t0 = Instant::now();
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, 8).await;
    let mut device = enrol(&server, &people, "device-a").await;
    let responses = interview(&mut device.store, INTERVIEWS);
    let expected: BTreeSet<_> = responses.iter().map(key).collect();
    // An upload cut off earlier left one record in flight: the file carries it too.
    device
        .store
        .mark_in_flight(responses[1].id, responses[1].revision)
        .unwrap();

    let (file, n) = export_handover(&device.store, &device.identity, Utc::now()).expect("export");
    assert_eq!(n, INTERVIEWS);
    let reply = import(&people, &file).await.expect("import");
    assert_eq!(
        statuses(&reply, &responses),
        [AckStatus::Accepted; INTERVIEWS]
    );
    assert_eq!(server_records(&server, ROUND), expected);

    // The import result never comes back; the device still waits for all 5.
    let status = sync_status(&device.store).unwrap();
    assert_eq!((status.pending, status.in_flight, status.acked), (4, 1, 0));

    // The next network sync resends them, gets `duplicate` for each, and drains the outbox.
    let sync = syncer(&device.client)
        .run_until_drained(&mut device.store)
        .await
        .expect("network sync");
    assert_eq!(
        (
            sync.push.sent,
            sync.push.acked,
            sync.push.duplicates,
            sync.push.rejected
        ),
        (INTERVIEWS, INTERVIEWS, INTERVIEWS, 0),
        "{sync:?}"
    );
    assert_eq!(
        outbox_states(&device.store, &responses),
        [OutboxState::Acked; INTERVIEWS]
    );
    assert!(sync_status(&device.store).unwrap().is_drained());
    assert_eq!(
        server_records(&server, ROUND),
        expected,
        "exactly the device's records"
    );

    // A late import result changes nothing more, and the next sync sends nothing.
    let late = apply_handover_reply(&mut device.store, device.identity.device_id, &reply).unwrap();
    assert_eq!((late.acked, late.already_settled), (0, INTERVIEWS));
    let sync = syncer(&device.client)
        .sync(&mut device.store)
        .await
        .unwrap();
    assert_eq!(sync.push.sent, 0);
    eprintln!(
        "handover without reply on {backend:?}: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

async fn legacy_handover_file(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, 8).await;
    let mut device = enrol(&server, &people, "device-old").await;
    let responses = interview(&mut device.store, INTERVIEWS);

    // The file as the old app wrote it: `serde_json` (no `preserve_order`) writes a Value's
    // keys sorted by their UTF-8 bytes and without whitespace, which was the old signing rule.
    let records: Vec<serde_json::Value> = responses
        .iter()
        .map(|r| {
            let old_hash = sha256_hex(&serde_json::to_vec(r).unwrap());
            assert_ne!(old_hash, r.content_hash());
            serde_json::json!({ "response": r, "content_hash": old_hash })
        })
        .collect();
    let mut file = serde_json::json!({
        "format": "sipas-batch/1",
        "device_id": device.identity.device_id,
        "exported_at": Utc::now(),
        "records": records,
    });
    let signed = serde_json::to_vec(&file).unwrap();
    let signature = device.identity.signing_key.sign(&signed);
    file["signature"] = STANDARD.encode(signature.to_bytes()).into();
    let bytes = serde_json::to_vec_pretty(&file).unwrap();

    let reply = import(&people, &bytes).await.expect("legacy file imports");
    assert_eq!(
        statuses(&reply, &responses),
        [AckStatus::Accepted; INTERVIEWS]
    );
    let expected: BTreeSet<_> = responses.iter().map(key).collect();
    assert_eq!(server_records(&server, ROUND), expected, "canonical hashes");
    let reply = import(&people, &bytes).await.expect("again");
    assert_eq!(
        statuses(&reply, &responses),
        [AckStatus::Duplicate; INTERVIEWS]
    );

    // Tampering with a legacy file is refused like with a current one.
    file["records"][0]["response"]["unit_code"] = "00007".into();
    assert_bad_signature(
        import(&people, &serde_json::to_vec(&file).unwrap())
            .await
            .unwrap_err(),
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
