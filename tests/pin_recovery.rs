//! A forgotten PIN must not lose interviews (issue 13), against the real `sipas-server`
//! binary on SQLite and PostgreSQL:
//!
//! * `sipas-server recovery-keygen` writes the province's key pair; the server started with
//!   `--recovery-public-key` sends the public key in the enrolment response; the device seals
//!   its store key with it;
//! * the surveyor interviews 3 respondents offline and forgets the PIN;
//! * `recover-device` with a wrong private key (or none) fails and writes nothing: the store
//!   stays unreadable; with the right key it writes a normal signed hand-over file, which the
//!   supervisor imports (`POST /handover`): 3 `accepted`, exactly the device's records;
//! * the other way back: the app's recovery request → `sipas-server recovery-code` → the
//!   surveyor sets a new PIN; all 3 records are still queued, and a sync gets `duplicate`
//!   for each (nothing lost, nothing twice).
use sipas_testkit::{fixture, server};

use fixture::{client, enrolment_code, interview, key, seed_people, seed_round, server_records};
use server::{Backend, Options, TestServer, server_binary};
use sipas_store::{OutboxState, Store};
use sipas_sync::{SyncConfig, Syncer, enrol_with_identity};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const ROUND: &str = "2026-RC-1";
const PIN: &str = "quen-mat-roi";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_recovery_on_sqlite() {
    pin_recovery(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_recovery_on_postgres() {
    pin_recovery(Backend::Postgres).await;
}

fn tool(args: &[&str]) -> std::process::Output {
    Command::new(server_binary())
        .args(args)
        .output()
        .expect("run sipas-server")
}

fn keygen(dir: &Path) {
    let out = tool(&["recovery-keygen", "--out", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // never overwritten
    let again = tool(&["recovery-keygen", "--out", dir.to_str().unwrap()]);
    assert!(!again.status.success());
}

async fn pin_recovery(backend: Backend) {
    let keys = tempfile::tempdir().unwrap();
    let province = keys.path().join("province");
    let stranger = keys.path().join("stranger");
    keygen(&province);
    keygen(&stranger);
    let public_file = province.join("recovery.pub");
    let Some(server) = TestServer::start_with(
        backend,
        Options {
            args: vec![
                "--recovery-public-key".into(),
                public_file.to_str().unwrap().into(),
            ],
            ..Options::default()
        },
    ) else {
        return;
    };
    let people = seed_people(&server).await;
    seed_round(&people, ROUND, 5).await;

    // Enrolment carries the public key; the device seals its store key with it.
    let code = enrolment_code(&people).await;
    let mut device = client(&server);
    let enrolled = enrol_with_identity(&mut device, &code, "Máy quên PIN")
        .await
        .expect("enrol");
    let public_b64 = enrolled
        .response
        .recovery_public_key
        .clone()
        .expect("the enrolment response names the recovery key");
    assert_eq!(
        public_b64,
        std::fs::read_to_string(&public_file).unwrap().trim()
    );
    let dir = server.dir().join("phone");
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("device.db");
    // The enrolment file as the app keeps it next to the store.
    std::fs::write(
        dir.join("device.enrolment.json"),
        serde_json::to_vec(&serde_json::json!({
            "device_id": enrolled.identity.device_id,
            "signing_key": enrolled.identity.secret_key_base64().as_str(),
        }))
        .unwrap(),
    )
    .unwrap();
    let responses = {
        let (mut store, key) = Store::unlock(&db, PIN).expect("device store");
        store
            .set_recovery_public_key(
                &sipas_store::recovery::parse_public_key(&public_b64).unwrap(),
                &key,
            )
            .unwrap();
        let syncer = Syncer::new(device.clone(), SyncConfig::default());
        syncer.pull(&mut store).await.expect("pull");
        interview(&mut store, 3)
    };
    let expected: BTreeSet<_> = responses.iter().map(key).collect();
    // ... and the PIN is forgotten.
    assert!(Store::open_encrypted(&db, "khong-nho").is_err());

    // Wrong private key / no key: nothing readable, nothing written.
    let out_file = server.dir().join("recovered.sipas");
    let recover = |key: &Path| {
        tool(&[
            "recover-device",
            "--key",
            key.to_str().unwrap(),
            "--store",
            db.to_str().unwrap(),
            "--out",
            out_file.to_str().unwrap(),
        ])
    };
    let wrong = recover(&stranger.join("recovery.key"));
    assert!(!wrong.status.success());
    assert!(!out_file.exists());
    let none = recover(&keys.path().join("missing.key"));
    assert!(!none.status.success());
    assert!(!out_file.exists());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not open"));

    // The province's key: a normal hand-over file, imported by the supervisor.
    let ok = recover(&province.join("recovery.key"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("records: 3"));
    let file = std::fs::read(&out_file).unwrap();
    let reply: serde_json::Value = people
        .supervisor
        .post_bytes("/handover", "application/json", file)
        .await
        .expect("import the recovered hand-over file");
    let statuses: Vec<&str> = reply["acks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepted"; 3], "{reply}");
    assert_eq!(server_records(&server, ROUND), expected);

    // The surveyor's way back: request → code (supervisor) → new PIN, nothing lost.
    let request = sipas_store::recovery::recovery_request(&db)
        .unwrap()
        .expect("a recovery request");
    let wrong_code = tool(&[
        "recovery-code",
        "--key",
        stranger.join("recovery.key").to_str().unwrap(),
        "--request",
        &request,
    ]);
    assert!(!wrong_code.status.success());
    let code_out = tool(&[
        "recovery-code",
        "--key",
        province.join("recovery.key").to_str().unwrap(),
        "--request",
        &request,
    ]);
    assert!(code_out.status.success());
    let code = String::from_utf8(code_out.stdout).unwrap();
    let recovered = sipas_store::recovery::parse_recovery_code(code.trim()).unwrap();
    let (_, _) = Store::reset_passphrase(&db, &recovered, "pin-moi-2026").expect("new PIN");
    let mut store = Store::open_encrypted(&db, "pin-moi-2026").expect("opens with the new PIN");
    for r in &responses {
        let entry = store.get_outbox(r.id, r.revision).unwrap().unwrap();
        assert_eq!(entry.state, OutboxState::Pending);
    }
    let report = Syncer::new(device.clone(), SyncConfig::default())
        .push(&mut store)
        .await
        .expect("sync after the new PIN");
    assert_eq!((report.acked, report.duplicates), (3, 3), "{report:?}");
    assert_eq!(server_records(&server, ROUND), expected);
}
