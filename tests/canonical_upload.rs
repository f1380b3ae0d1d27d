//! The content-hash rule of API.md ("Canonical form and content hash") against the real
//! `sipas-server` binary, on SQLite and PostgreSQL:
//!
//! * a client that writes its JSON its own way (keys in another order, `+07:00` and `+00:00`
//!   offsets, `paradata` left out) and hashes the canonical bytes, written out by hand in this
//!   test from the documented rule, is `accepted`; the same content spelt yet another way is a
//!   `duplicate`;
//! * a client that hashes its own bytes instead is `invalid` with a reason naming the rule;
//! * a device whose outbox row still holds the hash of the rule before (an app version from
//!   before the canonical form) uploads it and the server stores the canonical hash.
use sipas_testkit::{fixture, server};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use fixture::{
    UNIT_CODE, enrol_device, fill_answers, form, form_key, seed_people, seed_round, server_records,
};
use server::{Backend, TestServer};
use sha2::{Digest, Sha256};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_protocol::wire::{AckStatus, UploadResult};
use sipas_store::{NewDraft, Store};
use sipas_sync::{SyncConfig, Syncer};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_hash_on_sqlite() {
    canonical_hash(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canonical_hash_on_postgres() {
    canonical_hash(Backend::Postgres).await;
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One answer as JSON text (integers plain, strings quoted, codes as an array of strings).
fn answer_json(v: &AnswerValue) -> String {
    match v {
        AnswerValue::Int(i) => i.to_string(),
        AnswerValue::Text(s) => serde_json::Value::String(s.clone()).to_string(),
        AnswerValue::Codes(c) => serde_json::to_string(c).unwrap(),
    }
}

/// The answers as an object, members in the given order, with `sep` after each colon.
fn answers_json<'a>(
    members: impl Iterator<Item = (&'a String, &'a AnswerValue)>,
    sep: &str,
) -> String {
    let parts: Vec<String> = members
        .map(|(k, v)| format!("\"{k}\":{sep}{}", answer_json(v)))
        .collect();
    format!("{{{}}}", parts.join(&format!(",{sep}")))
}

struct Interview {
    id: Uuid,
    assignment: Uuid,
    round: String,
    answers: Answers,
    started: DateTime<Utc>,
    completed: DateTime<Utc>,
}

impl Interview {
    fn new(round: &str, assignment: Uuid, variant: u64) -> Interview {
        // Whole seconds for the start, half a second on the completion.
        let completed =
            Utc::now().trunc_subsecs(0) - Duration::minutes(1) + Duration::milliseconds(500);
        Interview {
            id: Uuid::now_v7(),
            assignment,
            round: round.into(),
            answers: fill_answers(&form(), variant),
            started: completed.trunc_subsecs(0) - Duration::minutes(12),
            completed,
        }
    }

    /// The canonical bytes, written out by hand from API.md: members sorted by name (item
    /// codes are ASCII, so byte order is UTF-16 order), no whitespace, every field present,
    /// UTC timestamps with `Z`, the fraction only when not zero (`.500`).
    fn canonical(&self) -> String {
        let f = form_key();
        format!(
            concat!(
                "{{\"answers\":{},\"assignment_id\":\"{}\",\"completed_at\":\"{}\",",
                "\"form\":{{\"form_id\":\"{}\",\"version\":\"{}\"}},\"id\":\"{}\",",
                "\"paradata\":{{\"gps\":null,\"item_ms\":{{}}}},\"revision\":1,",
                "\"round_id\":\"{}\",\"started_at\":\"{}\",\"unit_code\":\"{}\"}}"
            ),
            answers_json(self.answers.iter(), ""),
            self.assignment,
            self.completed.format("%Y-%m-%dT%H:%M:%S.%3fZ"),
            f.form_id,
            f.version,
            self.id,
            self.round,
            self.started.format("%Y-%m-%dT%H:%M:%SZ"),
            UNIT_CODE,
        )
    }

    /// The same response as a client of its own might write it: keys in another order,
    /// answers backwards, the start in Hà Nội time (`+07:00`), the completion with `+00:00`,
    /// no `paradata`, spaces and newlines.
    fn client_json(&self) -> String {
        let f = form_key();
        format!(
            "{{\n  \"unit_code\": \"{UNIT_CODE}\",\n  \"revision\": 1,\n  \"started_at\": \"{}\",\n  \
             \"answers\": {},\n  \"completed_at\": \"{}\",\n  \"id\": \"{}\",\n  \
             \"form\": {{\"version\": \"{}\", \"form_id\": \"{}\"}},\n  \"round_id\": \"{}\",\n  \
             \"assignment_id\": \"{}\"\n}}",
            (self.started + Duration::hours(7)).format("%Y-%m-%dT%H:%M:%S+07:00"),
            answers_json(self.answers.iter().rev(), " "),
            self.completed.format("%Y-%m-%dT%H:%M:%S.%3f+00:00"),
            self.id,
            f.version,
            f.form_id,
            self.round,
            self.assignment,
        )
    }
}

async fn upload_raw(device: &sipas_sync::ApiClient, records: &[(String, String)]) -> UploadResult {
    let body = format!(
        "{{\"records\": [{}]}}",
        records
            .iter()
            .map(|(response, hash)| format!(
                "{{\"content_hash\": \"{hash}\", \"response\": {response}}}"
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    device
        .post_bytes("/responses/batch", "application/json", body.into_bytes())
        .await
        .expect("upload")
}

async fn canonical_hash(backend: Backend) {
    let Some(server) = TestServer::start(backend) else {
        return;
    };
    let round = "2026-HN-1";
    let people = seed_people(&server).await;
    let assignments = seed_round(&people, round, 4).await;
    let device = enrol_device(&server, &people).await;

    // A client with its own JSON spelling, hashing the canonical bytes: accepted.
    let first = Interview::new(round, assignments[0], 0);
    let canonical = first.canonical();
    let hash = sha256_hex(canonical.as_bytes());
    let client = first.client_json();
    assert!(client.contains("+07:00") && client.contains(".500+00:00"));
    assert!(!client.contains("paradata"));
    assert_ne!(sha256_hex(client.as_bytes()), hash);
    let result = upload_raw(&device, &[(client.clone(), hash.clone())]).await;
    assert_eq!(result.acks.len(), 1);
    assert_eq!(
        result.acks[0].status,
        AckStatus::Accepted,
        "{:?}",
        result.acks[0]
    );
    let stored = server_records(&server, round);
    assert!(stored.contains(&(first.id, 1, hash.clone())), "{stored:?}");

    // The same content in its canonical spelling (and the hash in upper case): a duplicate,
    // not a conflict — the server sees one content.
    let result = upload_raw(&device, &[(canonical.clone(), hash.to_uppercase())]).await;
    assert_eq!(
        result.acks[0].status,
        AckStatus::Duplicate,
        "{:?}",
        result.acks[0]
    );

    // A client hashing its own bytes: invalid, and the reason names the rule.
    let second = Interview::new(round, assignments[1], 1);
    let own_bytes = second.client_json();
    let result = upload_raw(
        &device,
        &[(own_bytes.clone(), sha256_hex(own_bytes.as_bytes()))],
    )
    .await;
    assert_eq!(result.acks[0].status, AckStatus::Invalid);
    let reason = result.acks[0].reason.clone().unwrap_or_default();
    assert!(
        reason.contains("content hash mismatch")
            && reason.contains("RFC 8785 canonical form")
            && reason.contains("API.md"),
        "{reason}"
    );
    // Hashed the canonical way, the same record is accepted.
    let result = upload_raw(
        &device,
        &[(own_bytes, sha256_hex(second.canonical().as_bytes()))],
    )
    .await;
    assert_eq!(
        result.acks[0].status,
        AckStatus::Accepted,
        "{:?}",
        result.acks[0]
    );

    // A device whose stored response still holds the hash of the old rule (written by an app
    // version from before the canonical form): its outbox uploads with the canonical hash.
    let path = server.dir().join("device.db");
    let syncer = Syncer::new(device.clone(), SyncConfig::default());
    let mut store = Store::open(&path).expect("device store");
    syncer.pull(&mut store).await.expect("pull");
    let done: std::collections::BTreeSet<Uuid> = [assignments[0], assignments[1]].into();
    let open: Vec<_> = store
        .list_assignments()
        .unwrap()
        .into_iter()
        .filter(|a| !done.contains(&a.id))
        .collect();
    assert_eq!(open.len(), 2);
    // Interview the two open assignments the way the app does.
    let responses: Vec<_> = open
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let draft = store
                .create_draft(&NewDraft {
                    assignment_id: Some(a.id),
                    form: a.form.clone(),
                    round_id: a.round_id.clone(),
                    unit_code: a.unit_code.clone(),
                })
                .unwrap();
            for (code, value) in fill_answers(&form(), 10 + i as u64) {
                store
                    .save_answer(draft, &code, Some(value), Some(1500))
                    .unwrap();
            }
            store.complete_draft(draft, Utc::now()).unwrap()
        })
        .collect();
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TRIGGER responses_content_immutable")
            .unwrap();
        for r in &responses {
            let legacy = sha256_hex(&serde_json::to_vec(r).unwrap());
            assert_eq!(legacy, r.legacy_content_hash());
            conn.execute(
                "UPDATE responses SET content_hash = ?1 WHERE id = ?2 AND revision = ?3",
                rusqlite::params![legacy, r.id.to_string(), r.revision],
            )
            .unwrap();
        }
    }
    let mut store = Store::open(&path).unwrap();
    let report = syncer.run_until_drained(&mut store).await.expect("sync");
    assert_eq!(report.push.rejected, 0, "{report:?}");
    let stored = server_records(&server, round);
    for r in &responses {
        assert!(
            stored.contains(&(r.id, r.revision, r.content_hash())),
            "{} not stored with its canonical hash: {stored:?}",
            r.id
        );
    }
}
