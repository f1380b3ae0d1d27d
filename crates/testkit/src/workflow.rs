//! One full field workflow against a running test server, touching every kind of state
//! change and every export: users, round and sample (with the fixture's personal contacts),
//! enrolment (plus a failed login and a failed enrolment), an encrypted device store that
//! pulls, interviews and syncs, a field status, review decisions, a spot check with its
//! findings, then every report, index and list a supervisor or admin can download.

use crate::fixture::{People, client, enrolment_code, interview, seed_people, seed_round};
use crate::server::TestServer;
use sipas_core::response::Response;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::UserInfo;
use sipas_store::Store;
use sipas_sync::{ApiClient, SyncConfig, Syncer};
use std::time::Duration;
use uuid::Uuid;

/// Sampled respondents in the workflow's round.
pub const SAMPLED: usize = 6;
/// Of which interviewed and uploaded.
pub const INTERVIEWED: usize = 4;
/// Password of the workflow's monitor.
pub const MONITOR_PASSWORD: &str = "monitor-pass-12";
/// PIN of the encrypted device store.
pub const DEVICE_PIN: &str = "246810";
/// A wrong password tried once (must never be logged).
pub const WRONG_PASSWORD: &str = "wrong-password-Bao-Mat";
/// A well-formed enrolment code that was never issued, tried once (must never be logged).
pub const WRONG_CODE: &str = "ZZZZ2222ZZ";

/// What the workflow made, for the tests to check.
pub struct Workflow {
    /// Admin, supervisor, surveyor.
    pub people: People,
    /// The monitor's session.
    pub monitor: ApiClient,
    /// The monitor.
    pub monitor_user: UserInfo,
    /// The round.
    pub round: String,
    /// Its assignments.
    pub assignments: Vec<Uuid>,
    /// The enrolled device's client (holding its token).
    pub device: ApiClient,
    /// The enrolment code it redeemed.
    pub enrolment_code: String,
    /// The responses uploaded.
    pub responses: Vec<Response>,
    /// Every download: `(API path, body)`.
    pub exports: Vec<(String, Vec<u8>)>,
    /// The monitor's task list while its task was open (it holds a contact).
    pub open_monitor_tasks: serde_json::Value,
}

impl Workflow {
    /// Every secret credential the workflow used: bearer tokens, the enrolment codes and the
    /// passwords.
    pub fn secrets(&self) -> Vec<String> {
        let mut out = vec![
            self.enrolment_code.clone(),
            WRONG_CODE.to_string(),
            WRONG_PASSWORD.to_string(),
            MONITOR_PASSWORD.to_string(),
            crate::server::ADMIN_PASSWORD.to_string(),
            crate::fixture::SUPERVISOR_PASSWORD.to_string(),
        ];
        for c in [
            &self.device,
            &self.monitor,
            &self.people.admin,
            &self.people.supervisor,
        ] {
            out.extend(c.token().map(str::to_string));
        }
        out
    }
}

/// Runs the whole workflow on `server` with round `round`.
pub async fn full_workflow(server: &TestServer, round: &str) -> Workflow {
    let people = seed_people(server).await;
    let monitor_user: UserInfo = people
        .admin
        .post_json(
            "/users",
            &serde_json::json!({
                "username": "phuctra1",
                "display_name": "Giám sát phúc tra",
                "role": Role::Monitor,
                "password": MONITOR_PASSWORD,
            }),
        )
        .await
        .expect("create monitor");
    let mut monitor = client(server);
    monitor
        .login("phuctra1", MONITOR_PASSWORD)
        .await
        .expect("monitor login");
    let assignments = seed_round(&people, round, SAMPLED).await;

    // A failed sign-in and a failed enrolment (their secrets must not be logged either).
    client(server)
        .login("giamsat1", WRONG_PASSWORD)
        .await
        .expect_err("wrong password");
    client(server)
        .enrol(WRONG_CODE, "Máy lạ")
        .await
        .expect_err("unknown code");
    let code = enrolment_code(&people).await;
    let mut device = client(server);
    device
        .enrol(&code, "Máy tính bảng Bảo Mật")
        .await
        .expect("enrol device");

    // The device: an encrypted store, as the app keeps it.
    let mut store = Store::open_encrypted(server.dir().join("device.db"), DEVICE_PIN)
        .expect("encrypted device store");
    let syncer = Syncer::new(
        device.clone(),
        SyncConfig {
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..SyncConfig::default()
        },
    );
    let pulled = syncer.pull(&mut store).await.expect("pull");
    assert_eq!(pulled.assignments, SAMPLED);
    let responses = interview(&mut store, INTERVIEWED);
    let report = syncer
        .run_until_drained(&mut store)
        .await
        .expect("sync the interviews");
    assert_eq!(report.push.acked, INTERVIEWED, "{report:?}");
    let absent = store.list_assignments().unwrap()[SAMPLED - 1].id;
    let _: serde_json::Value = device
        .post_json(
            &format!("/assignments/{absent}/status"),
            &serde_json::json!({ "status": "absent" }),
        )
        .await
        .expect("field status");

    // Review: two approved, one sent back with comments.
    let sup = &people.supervisor;
    for (i, r) in responses.iter().take(3).enumerate() {
        let body = if i < 2 {
            serde_json::json!({ "decision": "approved" })
        } else {
            serde_json::json!({
                "decision": "rejected",
                "comment": "Hỏi lại câu G2_1",
                "item_comments": { "G2_1": "Người trả lời nói nhầm mức" },
            })
        };
        let _: serde_json::Value = sup
            .post_json(
                &format!("/responses/{}/{}/decision", r.id, r.revision),
                &body,
            )
            .await
            .expect("review decision");
    }

    // Spot check: draw, assign to the monitor, who visits and reports.
    let drawn: serde_json::Value = sup
        .post_json(
            &format!("/rounds/{round}/spot-checks"),
            &serde_json::json!({ "rate": 1.0, "seed": 7 }),
        )
        .await
        .expect("draw spot checks");
    let task_id = drawn["tasks"][0]["task_id"]
        .as_str()
        .expect("a spot-check task")
        .to_string();
    let _: serde_json::Value = sup
        .post_json(
            &format!("/spot-checks/{task_id}/assign"),
            &serde_json::json!({ "monitor_id": monitor_user.id }),
        )
        .await
        .expect("assign spot check");
    let open_monitor_tasks: serde_json::Value = monitor
        .get_json("/monitor/tasks")
        .await
        .expect("monitor tasks");
    let _: serde_json::Value = monitor
        .post_json(
            &format!("/monitor/tasks/{task_id}/result"),
            &serde_json::json!({ "visit_happened": false, "note": "Không gặp người trả lời" }),
        )
        .await
        .expect("spot-check findings");

    // Every download.
    let r0 = &responses[0];
    let supervisor_paths = [
        format!("/rounds/{round}/report?format=json&min_n=1"),
        format!("/rounds/{round}/report?format=csv&min_n=1"),
        format!("/rounds/{round}/report?format=xlsx&min_n=1"),
        format!("/rounds/{round}/index?format=json"),
        format!("/rounds/{round}/index?format=csv"),
        format!("/rounds/{round}/progress"),
        format!("/rounds/{round}/spot-checks"),
        format!("/rounds/{round}/discrepancies"),
        format!("/review/queue?round_id={round}"),
        format!("/responses/{}/{}", r0.id, r0.revision),
        "/rounds".to_string(),
        "/users".to_string(),
    ];
    let mut exports = Vec::new();
    for path in supervisor_paths {
        let body = sup
            .get_bytes(&path)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        exports.push((path, body));
    }
    let body = people
        .admin
        .get_bytes("/audit?limit=1000")
        .await
        .expect("audit");
    exports.push(("/audit?limit=1000".into(), body));
    let body = monitor
        .get_bytes("/monitor/tasks")
        .await
        .expect("monitor tasks after the visit");
    exports.push(("/monitor/tasks (done)".into(), body));

    Workflow {
        people,
        monitor,
        monitor_user,
        round: round.to_string(),
        assignments,
        device,
        enrolment_code: code,
        responses,
        exports,
        open_monitor_tasks,
    }
}
