//! Phúc tra offline and blind (issue 13), against the real `sipas-server` on SQLite and
//! PostgreSQL with a real encrypted device store:
//!
//! * two responses are drawn and given to a monitor: one respondent said B8 = có (so the
//!   feedback group G5 was asked), the other B8 = không (G5 skipped);
//! * the monitor's device pulls its tasks into the store: the payload carries the key items
//!   to re-ask, only those that were relevant to the respondent (G5_1 only for the first),
//!   names of the round and unit, and **no original answers**; the original response is
//!   refused to the monitor (`403.2`) while the findings are open; an answer to a skipped
//!   item is `400.3`;
//! * the server goes away; the findings are recorded on the device and the send fails (they
//!   stay pending); the device store is closed and reopened (app restart) and the server
//!   restarts; the next push delivers both, each acknowledged;
//! * the server recorded each finding once: re-sending the same findings gets `200` and the
//!   same receipt, different findings `409.1`; the discrepancy summary counts 2 checks; the
//!   original response is now readable by the monitor.
use sipas_testkit::{fixture, server};

use fixture::{client, enrol_device, fill_answers, form, response_for, seed_people, seed_round};
use serde_json::{Value, json};
use server::{Backend, TestServer};
use sipas_core::answer::AnswerValue;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{AckStatus, UploadBatch, UploadRecord, UserInfo};
use sipas_store::Store;
use sipas_sync::{pull_monitor_tasks, push_monitor_findings};

const ROUND: &str = "2026-MT-1";
const PIN: &str = "phuc-tra-2026";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_offline_on_sqlite() {
    monitor_offline(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_offline_on_postgres() {
    monitor_offline(Backend::Postgres).await;
}

fn key_codes(task: &Value) -> Vec<String> {
    task["key_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Every object key anywhere in `v`.
fn keys_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                keys_of(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys_of(x, out)),
        _ => {}
    }
}

async fn monitor_offline(backend: Backend) {
    let Some(mut server) = TestServer::start(backend) else {
        return;
    };
    let people = seed_people(&server).await;
    let ids = seed_round(&people, ROUND, 2).await;
    let device = enrol_device(&server, &people).await;

    // Two interviews: B8 = có (G5 asked) and B8 = không (G5 skipped).
    let asked = response_for(ROUND, ids[0], 1);
    assert_eq!(asked.answers["B8"], AnswerValue::Text("co".into()));
    let mut skipped = response_for(ROUND, ids[1], 2);
    skipped.answers = {
        let mut a = fill_answers(&form(), 2);
        a.insert("B8".into(), AnswerValue::Text("khong".into()));
        a.retain(|k, _| !k.starts_with("G5_"));
        a
    };
    let batch = UploadBatch {
        records: [&asked, &skipped]
            .iter()
            .map(|r| UploadRecord {
                response: (*r).clone(),
                content_hash: r.content_hash(),
            })
            .collect(),
    };
    let acks = device.upload(&batch).await.expect("upload");
    assert!(
        acks.acks.iter().all(|a| a.status == AckStatus::Accepted),
        "{acks:?}"
    );

    // A monitor, two tasks.
    let monitor_user: UserInfo = people
        .admin
        .post_json(
            "/users",
            &json!({"username": "mttq1", "display_name": "Phúc tra viên MTTQ",
                    "role": Role::Monitor, "password": "mttq-pass-2026"}),
        )
        .await
        .expect("create monitor");
    let mut monitor = client(&server);
    monitor
        .login("mttq1", "mttq-pass-2026")
        .await
        .expect("monitor login");
    let drawn: Value = people
        .supervisor
        .post_json(
            &format!("/rounds/{ROUND}/spot-checks"),
            &json!({"rate": 1.0, "seed": 3}),
        )
        .await
        .expect("draw");
    let tasks = drawn["tasks"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 2);
    for t in &tasks {
        let _: Value = people
            .supervisor
            .post_json(
                &format!("/spot-checks/{}/assign", t["task_id"].as_str().unwrap()),
                &json!({"monitor_id": monitor_user.id}),
            )
            .await
            .expect("assign");
    }

    // The monitor's device pulls its tasks into the encrypted store.
    let db = server.dir().join("monitor-device.db");
    let owner = format!("mttq1@{}", server.url);
    let mut store = Store::open_encrypted(&db, PIN).expect("device store");
    assert_eq!(
        pull_monitor_tasks(&monitor, &mut store, &owner)
            .await
            .expect("pull tasks"),
        2
    );
    let local = store.monitor_tasks().unwrap();
    let task_of = |response_id: uuid::Uuid| {
        local
            .iter()
            .find(|t| t.task["response_id"] == json!(response_id))
            .unwrap()
            .clone()
    };
    let t_asked = task_of(asked.id);
    let t_skipped = task_of(skipped.id);
    // Only what was relevant to the respondent is re-asked.
    assert!(key_codes(&t_asked.task).contains(&"G5_1".to_string()));
    assert!(!key_codes(&t_skipped.task).contains(&"G5_1".to_string()));
    assert_eq!(
        key_codes(&t_asked.task).len(),
        key_codes(&t_skipped.task).len() + 1
    );
    // Blind: no original answers anywhere in the task payload; names for display.
    for t in &local {
        let mut keys = Vec::new();
        keys_of(&t.task, &mut keys);
        for banned in ["answers", "original", "result", "agreement_rate"] {
            assert!(!keys.iter().any(|k| k == banned), "{banned} in {}", t.task);
        }
        assert_eq!(t.task["round_name"], format!("Đợt thử nghiệm {ROUND}"));
        assert!(t.task["unit_name"].as_str().is_some_and(|n| !n.is_empty()));
        assert_eq!(t.task["state"], "open");
        assert!(t.task["contact"]["name"].is_string());
    }
    let detail = |id: uuid::Uuid| format!("/responses/{id}/1");
    for r in [&asked, &skipped] {
        let err = monitor
            .get_json::<Value>(&detail(r.id))
            .await
            .expect_err("blind before the findings");
        assert_eq!(err.problem().unwrap().code, "403.2", "{err:?}");
    }
    // An answer to an item the respondent skipped is refused.
    let err = monitor
        .post_json::<_, Value>(
            &format!("/monitor/tasks/{}/result", t_skipped.task_id),
            &json!({"visit_happened": true, "answers": {"G5_1": 4}}),
        )
        .await
        .expect_err("G5_1 was not asked");
    assert_eq!(err.problem().unwrap().code, "400.3", "{err:?}");

    // Offline: the server is gone; the findings are recorded on the device.
    server.kill();
    // The respondent gives the same answers to every re-asked item.
    let same: serde_json::Map<String, Value> = key_codes(&t_asked.task)
        .into_iter()
        .filter_map(|c| {
            let v = asked.answers.get(&c)?;
            Some((c, serde_json::to_value(v).unwrap()))
        })
        .collect();
    assert!(same.contains_key("G5_1"));
    let findings_asked = json!({"visit_happened": true, "answers": same, "note": "Gặp tại nhà"});
    let findings_skipped = json!({"visit_happened": false, "answers": {}, "note": null});
    store
        .record_monitor_finding(t_asked.task_id, &findings_asked)
        .unwrap();
    store
        .record_monitor_finding(t_skipped.task_id, &findings_skipped)
        .unwrap();
    assert!(
        push_monitor_findings(&monitor, &mut store).await.is_err(),
        "offline: the send fails"
    );
    assert_eq!(store.monitor_outbox_counts().unwrap().pending, 2);
    drop(store);

    // The app restarts (store reopened with the PIN), the server comes back.
    let mut store = Store::open_encrypted(&db, PIN).expect("reopen the device store");
    let pending = store.pending_monitor_findings().unwrap();
    assert_eq!(pending.len(), 2);
    assert!(pending.iter().any(|f| f.attempts >= 1));
    server.restart_same_address();
    let report = push_monitor_findings(&monitor, &mut store)
        .await
        .expect("push after the restart");
    assert_eq!((report.acked, report.refused, report.pending), (2, 0, 0));
    let delivered = store.monitor_finding(t_asked.task_id).unwrap().unwrap();
    let receipt = delivered.receipt.clone().unwrap();
    assert_eq!(receipt["state"], "done");
    assert_eq!(receipt["result"]["agreement_rate"], 1.0);
    // A second push sends nothing.
    let again = push_monitor_findings(&monitor, &mut store).await.unwrap();
    assert_eq!((again.acked, again.pending), (0, 0));

    // Idempotent re-send (a reply lost on the way): same findings → 200, same receipt.
    let path = format!("/monitor/tasks/{}/result", t_asked.task_id);
    let resent: Value = monitor
        .post_json(&path, &findings_asked)
        .await
        .expect("resend");
    assert_eq!(resent, receipt);
    let err = monitor
        .post_json::<_, Value>(&path, &json!({"visit_happened": false}))
        .await
        .expect_err("different findings");
    assert_eq!(err.problem().unwrap().code, "409.1");

    // The server recorded each finding once.
    let listed: Vec<Value> = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/spot-checks"))
        .await
        .unwrap();
    assert!(listed.iter().all(|t| t["state"] == "done"), "{listed:?}");
    let disc: Vec<Value> = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/discrepancies"))
        .await
        .unwrap();
    let checks: u64 = disc.iter().map(|d| d["checked"].as_u64().unwrap()).sum();
    assert_eq!(checks, 2, "{disc:?}");

    // Final now: the original answers may be shown to the monitor.
    for r in [&asked, &skipped] {
        let d: Value = monitor.get_json(&detail(r.id)).await.expect("after final");
        assert_eq!(d["response"]["id"], json!(r.id));
    }
    // The refreshed task list: done, no contact.
    pull_monitor_tasks(&monitor, &mut store, &owner)
        .await
        .unwrap();
    for t in store.monitor_tasks().unwrap() {
        assert_eq!(t.task["state"], "done");
        assert!(t.task["contact"].is_null());
    }
}
