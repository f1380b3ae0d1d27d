//! HTTP workflow tests of review, phúc tra (spot checks), reports and offline hand-over: the
//! axum router driven with `tower::ServiceExt::oneshot` over a real store, every test twice:
//! on SQLite (a temporary file) and on PostgreSQL (a fresh database from the test kit; skipped
//! without `SIPAS_TEST_DATABASE_URL` unless `CI` or `SIPAS_REQUIRE_POSTGRES` is set).
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::response::{Paradata, Response, new_id};
use sipas_protocol::handover::{SigningKey, public_key_base64, sign_batch};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    AckStatus, Assignment, EnrolResponse, EnrolmentCode, LoginResponse, PullResponse, UploadBatch,
    UploadRecord, UserInfo,
};
use sipas_server::app::{AppState, router};
use sipas_server::demo::ensure_user;
use sipas_server::forms::FormRegistry;
use sipas_server::storage::{ReviewPage, ReviewState, ServerStore, open_store};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use uuid::Uuid;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const ROUND: &str = "2026-HN-1";
const PASSWORD: &str = "mat-khau-an-toan";
const JSON_CT: &str = "application/json";

// --- harness ---------------------------------------------------------------------------------

#[derive(Clone)]
struct Actor {
    user: UserInfo,
    token: String,
}

struct World {
    app: Router,
    store: Arc<dyn ServerStore>,
    _db: EmptyDatabase,
    admin: Actor,
    supervisor: Actor,
    monitor: Actor,
    monitor2: Actor,
    ministry: Actor,
    surveyor: Actor,
    surveyor2: Actor,
    /// Assignments of `surveyor` (11, units 00004 and 00007) and of `surveyor2` (3, 00007).
    mine: Vec<Uuid>,
    theirs: Vec<Uuid>,
}

impl World {
    fn actor(&self, role: Role) -> &Actor {
        match role {
            Role::Admin => &self.admin,
            Role::Supervisor => &self.supervisor,
            Role::Monitor => &self.monitor,
            Role::Surveyor => &self.surveyor,
            Role::Ministry => &self.ministry,
        }
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        headers: &[(header::HeaderName, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        reply::send(&self.app, method, uri, token, headers, body.into()).await
    }

    async fn get(&self, uri: &str, who: &Actor) -> Reply {
        self.send(Method::GET, uri, Some(&who.token), &[], Body::empty())
            .await
    }

    async fn post(&self, uri: &str, who: &Actor, body: Value) -> Reply {
        self.send(
            Method::POST,
            uri,
            Some(&who.token),
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&body).unwrap(),
        )
        .await
    }

    async fn assignment(&self, id: Uuid) -> Assignment {
        self.store.assignment(id).await.unwrap().unwrap().0
    }

    async fn upload(&self, who: &Actor, responses: &[Response]) -> Vec<AckStatus> {
        let body = serde_json::to_vec(&UploadBatch {
            records: responses.iter().map(record).collect(),
        })
        .unwrap();
        let r: Value = self
            .send(
                Method::POST,
                "/api/v1/responses/batch",
                Some(&who.token),
                &[(header::CONTENT_TYPE, JSON_CT)],
                body,
            )
            .await
            .expect(StatusCode::OK)
            .value();
        serde_json::from_value::<Vec<Value>>(r["acks"].clone())
            .unwrap()
            .iter()
            .map(|a| serde_json::from_value(a["status"].clone()).unwrap())
            .collect()
    }

    async fn audit_count(&self) -> usize {
        self.store.audit_entries(0, 100_000).await.unwrap().len()
    }
}

async fn create_user(app: &World, username: &str, role: Role) -> Actor {
    let user: UserInfo = app
        .post(
            "/api/v1/users",
            &app.admin,
            json!({"username": username, "display_name": format!("Người dùng {username}"),
                   "role": role, "password": PASSWORD}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let login: LoginResponse = app
        .send(
            Method::POST,
            "/api/v1/login",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"username": username, "password": PASSWORD})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    Actor {
        user,
        token: login.token,
    }
}

/// Users of every role (two monitors, two surveyors) and a round with 14 sampled
/// respondents: 11 for `surveyor` (6 in unit 00004, 5 in 00007), 3 for `surveyor2` (00007),
/// and one unassigned row in unit 00010; on a new database of `backend` (`None` when
/// PostgreSQL tests are skipped).
async fn world(backend: Backend) -> Option<World> {
    let db = EmptyDatabase::create(backend)?;
    let store = open_store(&db.target()).await.unwrap();
    let mut state = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    // The report tests work with a handful of responses (as `--min-n-floor 1` would).
    state.min_n_floor = 1;
    let (admin_user, _) = ensure_user(&state, "admin", "Quản trị", Role::Admin, PASSWORD)
        .await
        .unwrap();
    let placeholder = Actor {
        user: admin_user.clone(),
        token: String::new(),
    };
    let mut w = World {
        app: router(state),
        store,
        _db: db,
        admin: placeholder.clone(),
        supervisor: placeholder.clone(),
        monitor: placeholder.clone(),
        monitor2: placeholder.clone(),
        ministry: placeholder.clone(),
        surveyor: placeholder.clone(),
        surveyor2: placeholder,
        mine: Vec::new(),
        theirs: Vec::new(),
    };
    let login: LoginResponse = w
        .send(
            Method::POST,
            "/api/v1/login",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"username": "admin", "password": PASSWORD})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    w.admin = Actor {
        user: admin_user,
        token: login.token,
    };
    w.supervisor = create_user(&w, "gsv", Role::Supervisor).await;
    w.monitor = create_user(&w, "mttq", Role::Monitor).await;
    w.monitor2 = create_user(&w, "ccb", Role::Monitor).await;
    w.ministry = create_user(&w, "bnv", Role::Ministry).await;
    w.surveyor = create_user(&w, "dtv1", Role::Surveyor).await;
    w.surveyor2 = create_user(&w, "dtv2", Role::Surveyor).await;

    w.post(
        "/api/v1/rounds",
        &w.supervisor,
        json!({"id": ROUND, "name": "Hà Nội đợt 1",
               "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": "2026-11-01", "ends_on": "2026-12-15"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let mut csv = String::from("ma_don_vi,thu_tuc,co_quan,ho_ten,dia_chi,dien_thoai\n");
    for i in 0..14 {
        let unit = if i < 6 { "00004" } else { "00007" };
        csv.push_str(&format!(
            "{unit},Cấp căn cước,Công an phường,Người mẫu {i},Số {i} Hàng Bạc,09123456{i:02}\n"
        ));
    }
    csv.push_str("00010,Đăng ký khai sinh,UBND phường,Người chưa giao,Số 99 Hàng Đào,\n");
    let import: Value = w
        .send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.supervisor.token),
            &[(header::CONTENT_TYPE, "text/csv")],
            csv,
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let ids: Vec<Uuid> = serde_json::from_value(import["assignment_ids"].clone()).unwrap();
    w.mine = ids[..11].to_vec();
    w.theirs = ids[11..14].to_vec();
    for (ids, who) in [(&w.mine, &w.surveyor), (&w.theirs, &w.surveyor2)] {
        w.post(
            &format!("/api/v1/rounds/{ROUND}/assign"),
            &w.supervisor,
            json!({"assignment_ids": ids, "surveyor_id": who.user.id}),
        )
        .await
        .expect(StatusCode::OK);
    }
    Some(w)
}

/// A complete, valid, varied answer set for sipas-6-groups@2026.1 (B8 = "khong": G5
/// skipped). Ratings cycle from `base` so that no response looks straight-lined.
fn answers(base: i64) -> Answers {
    let mut a: Answers = BTreeMap::new();
    a.insert("A1".into(), AnswerValue::Text("nu".into()));
    a.insert("A2".into(), AnswerValue::Int(40));
    a.insert("B1".into(), AnswerValue::Text("Cấp căn cước".into()));
    a.insert("B8".into(), AnswerValue::Text("khong".into()));
    let mut k = base;
    for (g, n) in [("G1", 5), ("G2", 4), ("G3", 5), ("G4", 4), ("G6", 1)] {
        for i in 1..=n {
            a.insert(format!("{g}_{i}"), AnswerValue::Int(1 + k.rem_euclid(5)));
            k += 1;
        }
    }
    a
}

/// A response to `a`, taking 12 minutes, or 30 seconds when `too_fast`.
fn response_for(a: &Assignment, answers: Answers, too_fast: bool) -> Response {
    let t = Utc::now();
    let took = if too_fast {
        Duration::seconds(30)
    } else {
        Duration::minutes(12)
    };
    Response {
        id: new_id(),
        revision: 1,
        form: a.form.clone(),
        assignment_id: Some(a.id),
        round_id: a.round_id.clone(),
        unit_code: a.unit_code.clone(),
        answers,
        started_at: t - took,
        completed_at: t,
        paradata: Paradata::default(),
        origin: Default::default(),
    }
}

fn record(r: &Response) -> UploadRecord {
    UploadRecord {
        content_hash: r.content_hash(),
        response: r.clone(),
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Uploads a response for every assignment of both surveyors: `surveyor2`'s are too fast.
async fn collect_all(w: &World) -> (Vec<Response>, Vec<Response>) {
    let mut mine = Vec::new();
    for (i, id) in w.mine.iter().enumerate() {
        mine.push(response_for(
            &w.assignment(*id).await,
            answers(i as i64),
            false,
        ));
    }
    let mut theirs = Vec::new();
    for (i, id) in w.theirs.iter().enumerate() {
        theirs.push(response_for(
            &w.assignment(*id).await,
            answers(i as i64),
            true,
        ));
    }
    assert!(
        w.upload(&w.surveyor, &mine)
            .await
            .iter()
            .all(|s| *s == AckStatus::Accepted)
    );
    assert!(
        w.upload(&w.surveyor2, &theirs)
            .await
            .iter()
            .all(|s| *s == AckStatus::Accepted)
    );
    (mine, theirs)
}

// --- every test on both backends -------------------------------------------------------------

on_both_backends! {
    users_by_role_and_progress_by_unit: users_by_role_and_progress_by_unit_on_sqlite, users_by_role_and_progress_by_unit_on_postgres;
    review_queue_detail_and_decisions_reach_the_surveyor: review_queue_detail_and_decisions_reach_the_surveyor_on_sqlite, review_queue_detail_and_decisions_reach_the_surveyor_on_postgres;
    spot_checks_from_draw_to_findings_and_discrepancies: spot_checks_from_draw_to_findings_and_discrepancies_on_sqlite, spot_checks_from_draw_to_findings_and_discrepancies_on_postgres;
    report_as_json_csv_and_xlsx_with_suppression_and_stamp: report_as_json_csv_and_xlsx_with_suppression_and_stamp_on_sqlite, report_as_json_csv_and_xlsx_with_suppression_and_stamp_on_postgres;
    handover_file_is_verified_then_stored_like_an_upload: handover_file_is_verified_then_stored_like_an_upload_on_sqlite, handover_file_is_verified_then_stored_like_an_upload_on_postgres;
    every_new_endpoint_refuses_every_other_role_and_changes_nothing: every_new_endpoint_refuses_every_other_role_and_changes_nothing_on_sqlite, every_new_endpoint_refuses_every_other_role_and_changes_nothing_on_postgres;
    two_provinces_see_only_their_own: two_provinces_see_only_their_own_on_sqlite, two_provinces_see_only_their_own_on_postgres;
    round_life_cycle_edit_close_and_progress_by_agency: round_life_cycle_edit_close_and_progress_by_agency_on_sqlite, round_life_cycle_edit_close_and_progress_by_agency_on_postgres;
    scoped_admins_manage_users_inside_their_scope: scoped_admins_manage_users_inside_their_scope_on_sqlite, scoped_admins_manage_users_inside_their_scope_on_postgres;
}

// --- users and progress ----------------------------------------------------------------------

async fn users_by_role_and_progress_by_unit(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let all: Vec<UserInfo> = w
        .get("/api/v1/users", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(all.len(), 7);
    let monitors: Vec<UserInfo> = w
        .get("/api/v1/users?role=monitor", &w.admin)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        monitors,
        vec![w.monitor2.user.clone(), w.monitor.user.clone()]
    );
    let surveyors: Value = w
        .get("/api/v1/users?role=surveyor", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(
        surveyors,
        // Issue 10: users come with their scope, disabled flag and last sync.
        json!([
            {"id": w.surveyor.user.id, "username": "dtv1", "display_name": "Người dùng dtv1",
             "role": "surveyor", "scope": {"units": [], "agencies": []}, "disabled": false,
             "last_sync_at": null},
            {"id": w.surveyor2.user.id, "username": "dtv2", "display_name": "Người dùng dtv2",
             "role": "surveyor", "scope": {"units": [], "agencies": []}, "disabled": false,
             "last_sync_at": null}
        ])
    );
    let r = w.get("/api/v1/users?role=boss", &w.supervisor).await;
    assert_eq!(r.problem(), "400.3");

    let a = w.assignment(w.mine[0]).await;
    w.upload(&w.surveyor, &[response_for(&a, answers(0), false)])
        .await;
    w.post(
        &format!("/api/v1/assignments/{}/status", w.theirs[0]),
        &w.surveyor2,
        json!({"status": "refused"}),
    )
    .await
    .expect(StatusCode::OK);
    let units: Value = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/progress?by=unit"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    // Issue 10: `{round_id, by, total, rows}`; rows keyed by unit code, named from the unit
    // tree (the code when unknown), with the earlier counters kept.
    let row = |key: &str| -> Value {
        units["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("unit {key} in {units}"))
    };
    let pick = |r: Value| -> Value {
        json!([
            r["name"],
            r["sampled"],
            r["visited"],
            r["completed"],
            r["refused"],
            r["assigned"],
            r["collected"],
            r["non_response"],
            r["synced"]
        ])
    };
    assert_eq!(units["rows"].as_array().unwrap().len(), 3);
    assert_eq!(
        pick(row("00004")),
        json!(["Phường Trúc Bạch", 6, 1, 1, 0, 6, 1, 0, 1])
    );
    assert_eq!(pick(row("00007")), json!(["00007", 8, 1, 0, 1, 8, 0, 1, 0]));
    assert_eq!(pick(row("00010")), json!(["00010", 1, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(units["total"]["sampled"], 15);
    assert_eq!(row("00004")["response_rate"], json!(0.1667));
    // by=surveyor is the default
    let by_surveyor: Value = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/progress?by=surveyor"),
            &w.admin,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    let default: Value = w
        .get(&format!("/api/v1/rounds/{ROUND}/progress"), &w.admin)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(by_surveyor, default);
    assert_eq!(default["total"]["assigned"], 14);
    assert_eq!(default["rows"].as_array().unwrap().len(), 2);
    let r = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/progress?by=province"),
            &w.admin,
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let r = w
        .get("/api/v1/rounds/NOPE/progress?by=unit", &w.admin)
        .await;
    assert_eq!(r.problem(), "404.1");
}

// --- review ----------------------------------------------------------------------------------

async fn review_queue_detail_and_decisions_reach_the_surveyor(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let a0 = w.assignment(w.mine[0]).await;
    let a1 = w.assignment(w.mine[1]).await;
    let b0 = w.assignment(w.theirs[0]).await;
    let r0 = response_for(&a0, answers(0), false);
    let r1 = response_for(&a1, answers(1), false);
    let fast = response_for(&b0, answers(2), true);
    w.upload(&w.surveyor, &[r0.clone(), r1.clone()]).await;
    w.upload(&w.surveyor2, std::slice::from_ref(&fast)).await;
    let pull: PullResponse = w
        .get("/api/v1/pull", &w.surveyor)
        .await
        .expect(StatusCode::OK)
        .json();

    let queue = |state: &'static str| {
        let w = &w;
        async move {
            let v: Value = w
                .get(
                    &format!("/api/v1/review/queue?round_id={ROUND}&state={state}"),
                    &w.supervisor,
                )
                .await
                .expect(StatusCode::OK)
                .value();
            v.as_array().unwrap().clone()
        }
    };
    let pending = queue("pending").await;
    assert_eq!(pending.len(), 3);
    let item = pending
        .iter()
        .find(|i| i["response_id"] == json!(fast.id))
        .unwrap();
    assert_eq!(item["revision"], 1);
    assert_eq!(item["surveyor_id"], json!(w.surveyor2.user.id));
    assert_eq!(item["surveyor_name"], "Người dùng dtv2");
    assert_eq!(item["unit_code"], "00007");
    assert_eq!(item["decision"], Value::Null);
    assert_eq!(item["quality_flags"][0]["kind"], "too_fast");
    assert_eq!(item["quality_flags"][0]["seconds"], 30.0);
    let clean = pending
        .iter()
        .find(|i| i["response_id"] == json!(r0.id))
        .unwrap();
    assert_eq!(clean["quality_flags"], json!([]));
    // the default state is pending
    let default: Value = w
        .get(
            &format!("/api/v1/review/queue?round_id={ROUND}"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(default.as_array().unwrap(), &pending);

    // detail with labelled items
    let detail: Value = w
        .get(&format!("/api/v1/responses/{}/1", r0.id), &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(detail["response"]["id"], json!(r0.id));
    assert_eq!(detail["surveyor_id"], json!(w.surveyor.user.id));
    assert!(
        detail["form_title"]
            .as_str()
            .unwrap()
            .starts_with("Phiếu khảo sát sự hài lòng")
    );
    let items = detail["items"].as_array().unwrap();
    let by_code = |code: &str| items.iter().find(|i| i["code"] == code).unwrap().clone();
    let a1_item = by_code("A1");
    assert_eq!(
        (
            &a1_item["group_code"],
            &a1_item["label_vi"],
            &a1_item["answer"]
        ),
        (&json!("A"), &json!("Giới tính"), &json!("nu"))
    );
    assert_eq!(a1_item["display_vi"], "Nữ");
    let g = by_code("G1_1");
    assert_eq!(g["answer"], 1);
    assert!(g["display_vi"].as_str().unwrap().starts_with("1 – "), "{g}");
    assert!(
        items.iter().all(|i| i["code"] != "G5_1"),
        "skipped items are left out"
    );
    let a3 = by_code("A3"); // relevant but not answered
    assert_eq!(
        (&a3["answer"], &a3["display_vi"]),
        (&Value::Null, &json!(""))
    );
    assert_eq!(detail["quality_flags"], json!([]));
    assert_eq!(detail["decisions"], json!([]));
    let r = w
        .get(
            &format!("/api/v1/responses/{}/1", Uuid::now_v7()),
            &w.supervisor,
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    let r = w
        .get(&format!("/api/v1/responses/{}/x", r0.id), &w.supervisor)
        .await;
    assert_eq!(r.problem(), "400.3");
    // a monitor without a task on it: out of scope
    let r = w
        .get(&format!("/api/v1/responses/{}/1", r0.id), &w.monitor)
        .await;
    assert_eq!(r.problem(), "403.2");

    // reject r0 with item comments, approve r1
    let path = format!("/api/v1/responses/{}/1/decision", r0.id);
    w.post(
        &path,
        &w.supervisor,
        json!({"decision": "rejected", "comment": "Kiểm tra lại tuổi",
               "item_comments": {"A2": "Tuổi không khớp với giấy tờ"}}),
    )
    .await
    .expect(StatusCode::CREATED);
    w.post(
        &format!("/api/v1/responses/{}/1/decision", r1.id),
        &w.supervisor,
        json!({"decision": "approved"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let ids = |v: Vec<Value>| {
        let mut ids: Vec<String> = v
            .iter()
            .map(|i| i["response_id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(queue("pending").await), vec![fast.id.to_string()]);
    assert_eq!(ids(queue("rejected").await), vec![r0.id.to_string()]);
    assert_eq!(ids(queue("approved").await), vec![r1.id.to_string()]);
    assert_eq!(queue("all").await.len(), 3);
    assert_eq!(queue("rejected").await[0]["decision"], "rejected");

    // the surveyor's next pull carries the rejection with its item comments
    let next: PullResponse = w
        .get(&format!("/api/v1/pull?cursor={}", pull.cursor), &w.surveyor)
        .await
        .expect(StatusCode::OK)
        .json();
    let d = next
        .decisions
        .iter()
        .find(|d| d.response_id == r0.id)
        .expect("the rejection reaches the device");
    assert_eq!(d.comment.as_deref(), Some("Kiểm tra lại tuổi"));
    assert_eq!(d.item_comments["A2"], "Tuổi không khớp với giấy tờ");
    let other: PullResponse = w
        .get("/api/v1/pull", &w.surveyor2)
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(other.decisions.is_empty());

    // detail lists the decision with its reviewer
    let detail: Value = w
        .get(&format!("/api/v1/responses/{}/1", r0.id), &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(detail["decisions"][0]["decision"], "rejected");
    assert_eq!(
        detail["decisions"][0]["item_comments"]["A2"],
        "Tuổi không khớp với giấy tờ"
    );
    assert_eq!(
        detail["decisions"][0]["reviewer_id"],
        json!(w.supervisor.user.id)
    );

    // the corrected revision 2 is pending again
    let mut r0b = r0.clone();
    r0b.revision = 2;
    r0b.answers.insert("A2".into(), AnswerValue::Int(41));
    assert_eq!(
        w.upload(&w.surveyor, &[r0b]).await,
        vec![AckStatus::Accepted]
    );
    let pending = queue("pending").await;
    let again = pending
        .iter()
        .find(|i| i["response_id"] == json!(r0.id))
        .unwrap();
    assert_eq!(again["revision"], 2);

    // bad queries
    let r = w.get("/api/v1/review/queue", &w.supervisor).await;
    assert_eq!(r.problem(), "400.3");
    let r = w
        .get(
            &format!("/api/v1/review/queue?round_id={ROUND}&state=maybe"),
            &w.supervisor,
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let r = w
        .get("/api/v1/review/queue?round_id=NOPE", &w.supervisor)
        .await;
    assert_eq!(r.problem(), "404.1");
}

// --- spot checks -----------------------------------------------------------------------------

async fn spot_checks_from_draw_to_findings_and_discrepancies(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let (mine, theirs) = collect_all(&w).await;
    let draw_path = format!("/api/v1/rounds/{ROUND}/spot-checks");

    // Defaults: 10% per surveyor, at least 1: ceil(1.1) = 2 of 11, and 1 of 3. Empty body.
    let drawn: Value = w
        .send(
            Method::POST,
            &draw_path,
            Some(&w.supervisor.token),
            &[],
            Body::empty(),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(
        (drawn["created"].clone(), drawn["total"].clone()),
        (json!(3), json!(3))
    );
    let seed = drawn["seed"].as_u64().unwrap();
    assert!(seed < 1 << 53, "the default seed is exact in JavaScript");
    let tasks = drawn["tasks"].as_array().unwrap().clone();
    let of = |s: &Actor| {
        tasks
            .iter()
            .filter(|t| t["surveyor_id"] == json!(s.user.id))
            .cloned()
            .collect::<Vec<_>>()
    };
    let (t_mine, t_theirs) = (of(&w.surveyor), of(&w.surveyor2));
    assert_eq!((t_mine.len(), t_theirs.len()), (2, 1));
    assert!(tasks.iter().all(|t| t["state"] == "open"
        && t["monitor_id"].is_null()
        && t["revision"] == 1
        && t["agreement_rate"].is_null()));
    // Flags are recorded on the tasks: surveyor2's responses were all too fast.
    assert_eq!(t_theirs[0]["flagged"], true);
    assert_eq!(t_theirs[0]["quality_flags"][0]["kind"], "too_fast");
    assert!(
        t_mine
            .iter()
            .all(|t| t["flagged"] == false && t["quality_flags"] == json!([]))
    );
    assert!(
        t_mine
            .iter()
            .all(|t| mine.iter().any(|r| t["response_id"] == json!(r.id)))
    );

    // Idempotent: the same draw again (with the explicit seed, too) creates nothing.
    for body in [json!({}), json!({"seed": seed, "rate": 0.1})] {
        let again: Value = w
            .post(&draw_path, &w.supervisor, body)
            .await
            .expect(StatusCode::CREATED)
            .value();
        assert_eq!(
            (again["created"].clone(), again["total"].clone()),
            (json!(0), json!(3))
        );
        assert_eq!(again["tasks"].as_array().unwrap(), &tasks);
    }
    let listed: Vec<Value> = w
        .get(&draw_path, &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(listed, tasks);
    // bad parameters
    for (body, field) in [
        (json!({"rate": 1.5}), "rate"),
        (json!({"flag_weight": 0}), "flag_weight"),
        (json!({"min_per_surveyor": 5000}), "min_per_surveyor"),
    ] {
        let r = w.post(&draw_path, &w.supervisor, body).await;
        assert_eq!(r.problem(), "400.3");
        assert_eq!(r.value()["details"]["field"], field);
    }
    let r = w
        .post(&draw_path, &w.supervisor, json!({"rate": 0.1, "x": 1}))
        .await;
    assert_eq!(r.problem(), "400.1");
    let r = w
        .post("/api/v1/rounds/NOPE/spot-checks", &w.supervisor, json!({}))
        .await;
    assert_eq!(r.problem(), "404.1");

    // Assign: mine[0] and theirs to monitor, mine[1] to monitor2.
    let assign = |task: &Value, who: &Actor| {
        let (w, task, who) = (
            &w,
            task["task_id"].as_str().unwrap().to_owned(),
            who.user.id,
        );
        async move {
            w.post(
                &format!("/api/v1/spot-checks/{task}/assign"),
                &w.supervisor,
                json!({"monitor_id": who}),
            )
            .await
        }
    };
    let a: Value = assign(&t_mine[0], &w.monitor2)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(a["monitor_id"], json!(w.monitor2.user.id));
    // re-assigning an open task is fine
    assign(&t_mine[0], &w.monitor).await.expect(StatusCode::OK);
    assign(&t_theirs[0], &w.monitor)
        .await
        .expect(StatusCode::OK);
    assign(&t_mine[1], &w.monitor2).await.expect(StatusCode::OK);
    assert_eq!(assign(&t_mine[1], &w.surveyor).await.problem(), "400.3");
    let r = w
        .post(
            &format!("/api/v1/spot-checks/{}/assign", Uuid::now_v7()),
            &w.supervisor,
            json!({"monitor_id": w.monitor.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");

    // Each monitor sees only its own tasks, with whom to visit and what to re-ask.
    let my_tasks: Vec<Value> = w
        .get("/api/v1/monitor/tasks", &w.monitor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(my_tasks.len(), 2);
    let mut want: Vec<&Value> = vec![&t_mine[0]["task_id"], &t_theirs[0]["task_id"]];
    want.sort_by_key(|v| v.as_str().unwrap().to_owned());
    assert_eq!(
        my_tasks.iter().map(|t| &t["task_id"]).collect::<Vec<_>>(),
        want
    );
    let theirs_task = my_tasks
        .iter()
        .find(|t| t["task_id"] == t_theirs[0]["task_id"])
        .unwrap();
    assert_eq!(theirs_task["state"], "open");
    assert_eq!(theirs_task["unit_code"], "00007");
    assert_eq!(theirs_task["round_id"], ROUND);
    assert_eq!(theirs_task["procedure"], "Cấp căn cước");
    let contact = &theirs_task["contact"];
    assert!(contact["name"].as_str().unwrap().starts_with("Người mẫu"));
    assert!(contact["address"].as_str().unwrap().contains("Hàng Bạc"));
    assert!(contact["phone"].as_str().is_some());
    let keys: Vec<&str> = theirs_task["key_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["code"].as_str().unwrap())
        .collect();
    // Only the items relevant to this respondent: G5 (feedback) only when B8 = có.
    let theirs_b8 = theirs
        .iter()
        .find(|r| t_theirs[0]["response_id"] == json!(r.id))
        .unwrap()
        .answers
        .get("B8")
        .cloned();
    assert_ne!(
        theirs_b8,
        Some(sipas_core::answer::AnswerValue::Text("co".into()))
    );
    assert_eq!(
        keys,
        ["A1", "A2", "B1", "G1_1", "G2_1", "G3_1", "G4_1", "G6_1"]
    );
    let sex = &theirs_task["key_items"][0];
    assert_eq!(
        (&sex["type"], &sex["label_vi"]),
        (&json!("single_choice"), &json!("Giới tính"))
    );
    assert_eq!(sex["options"][1]["value"], "nu");
    let rating = &theirs_task["key_items"][3];
    assert_eq!(rating["type"], "rating");
    assert_eq!(rating["scale"]["points"].as_array().unwrap().len(), 5);
    let other_tasks: Vec<Value> = w
        .get("/api/v1/monitor/tasks", &w.monitor2)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(other_tasks.len(), 1);
    assert_eq!(other_tasks[0]["task_id"], t_mine[1]["task_id"]);

    // A monitor may read the response of its own task only, and only once its findings are
    // final (blind re-check, issue 13).
    let theirs_response = theirs
        .iter()
        .find(|r| t_theirs[0]["response_id"] == json!(r.id))
        .unwrap();
    let r = w
        .get(
            &format!("/api/v1/responses/{}/1", theirs_response.id),
            &w.monitor,
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    let r = w
        .get(
            &format!("/api/v1/responses/{}/1", theirs_response.id),
            &w.monitor2,
        )
        .await;
    assert_eq!(r.problem(), "403.2");

    // Findings.
    let result_path = |t: &Value| {
        format!(
            "/api/v1/monitor/tasks/{}/result",
            t["task_id"].as_str().unwrap()
        )
    };
    let original = |t: &Value| {
        mine.iter()
            .chain(&theirs)
            .find(|r| t["response_id"] == json!(r.id))
            .unwrap()
            .answers
            .clone()
    };
    let audit = w.audit_count().await;
    // not yours: 403.2; a supervisor: 403.1; nothing stored
    let r = w
        .post(
            &result_path(&t_theirs[0]),
            &w.monitor2,
            json!({"visit_happened": false}),
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    let r = w
        .post(
            &result_path(&t_theirs[0]),
            &w.supervisor,
            json!({"visit_happened": false}),
        )
        .await;
    assert_eq!(r.problem(), "403.1");
    // invalid answers: 400.3, nothing stored
    for (answers, field) in [
        (json!({"G1_1": 7}), "answers"),
        (json!({"A2": "bốn mươi"}), "answers"),
        (json!({"G1_2": 4}), "answers"),
    ] {
        let r = w
            .post(
                &result_path(&t_theirs[0]),
                &w.monitor,
                json!({"visit_happened": true, "answers": answers}),
            )
            .await;
        assert_eq!(r.problem(), "400.3", "{answers}");
        assert_eq!(r.value()["details"]["field"], field);
    }
    assert_eq!(w.audit_count().await, audit);

    // surveyor2's response: the respondent disagrees on sex and one rating
    let orig = original(&t_theirs[0]);
    let g11 = orig["G1_1"].as_int().unwrap();
    let receipt: Value = w
        .post(
            &result_path(&t_theirs[0]),
            &w.monitor,
            json!({"visit_happened": true,
                   "answers": {"A1": "nam", "A2": orig["A2"], "G1_1": g11 % 5 + 1,
                               "G2_1": orig["G2_1"]},
                   "note": "  Người trả lời nhớ khác  "}),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(receipt["state"], "done");
    assert_eq!(receipt["result"]["visit_happened"], true);
    // judged A1, A2, G1_1, G2_1: two agree → 0.5
    assert_eq!(receipt["result"]["agreement_rate"], 0.5);
    let a1 = &receipt["result"]["items"][0];
    assert_eq!(
        (&a1["code"], &a1["original"], &a1["recheck"], &a1["agrees"]),
        (&json!("A1"), &json!("nu"), &json!("nam"), &json!(false))
    );
    // final: the original may be shown now
    w.get(
        &format!("/api/v1/responses/{}/1", theirs_response.id),
        &w.monitor,
    )
    .await
    .expect(StatusCode::OK);
    // final: a different second submission is refused, and nothing changes
    let r = w
        .post(
            &result_path(&t_theirs[0]),
            &w.monitor,
            json!({"visit_happened": false}),
        )
        .await;
    assert_eq!(r.problem(), "409.1");
    // nor can the task be re-assigned
    assert_eq!(assign(&t_theirs[0], &w.monitor2).await.problem(), "409.1");

    // surveyor1's first task: everything agrees (text compared loosely)
    let orig = original(&t_mine[0]);
    let receipt: Value = w
        .post(
            &result_path(&t_mine[0]),
            &w.monitor,
            json!({"visit_happened": true,
                   "answers": {"A1": "nu", "A2": orig["A2"], "B1": "  cấp CĂN cước ",
                               "G6_1": orig["G6_1"]}}),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(receipt["result"]["agreement_rate"], 1.0);

    // The supervisor's list shows the outcomes; a done task's contact is gone for the monitor.
    let listed: Vec<Value> = w
        .get(&draw_path, &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .json();
    let find = |t: &Value| {
        listed
            .iter()
            .find(|x| x["task_id"] == t["task_id"])
            .unwrap()
            .clone()
    };
    assert_eq!(find(&t_theirs[0])["state"], "done");
    assert_eq!(find(&t_theirs[0])["agreement_rate"], 0.5);
    assert_eq!(find(&t_mine[1])["state"], "open");
    let my_tasks: Vec<Value> = w
        .get("/api/v1/monitor/tasks", &w.monitor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(
        my_tasks
            .iter()
            .all(|t| t["state"] == "done" && t["contact"].is_null())
    );

    // Discrepancies: surveyor2 1 of 1 (flagged), surveyor1 0 of 1.
    let d: Vec<Value> = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/discrepancies"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        d,
        vec![
            json!({"surveyor_id": w.surveyor2.user.id, "surveyor_name": "Người dùng dtv2",
                   "checked": 1, "discrepant": 1, "inconclusive": 0, "rate": 1.0,
                   "flagged": true}),
            json!({"surveyor_id": w.surveyor.user.id, "surveyor_name": "Người dùng dtv1",
                   "checked": 1, "discrepant": 0, "inconclusive": 0, "rate": 0.0,
                   "flagged": false}),
        ]
    );
    let lenient: Vec<Value> = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/discrepancies?threshold=1"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        lenient[0]["flagged"], false,
        "flagged only above the threshold"
    );
    let floor: Vec<Value> = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/discrepancies?agreement_floor=0.5"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(floor.iter().all(|s| s["discrepant"] == 0));
    let r = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/discrepancies?threshold=2"),
            &w.supervisor,
        )
        .await;
    assert_eq!(r.problem(), "400.3");

    // Role checks that touch monitors' work.
    let r = w.get("/api/v1/monitor/tasks", &w.surveyor).await;
    assert_eq!(r.problem(), "403.1");
    let r = w
        .post(
            &result_path(&t_mine[1]),
            &w.supervisor,
            json!({"visit_happened": true}),
        )
        .await;
    assert_eq!(r.problem(), "403.1");
    let r = w
        .post(
            &result_path(&t_mine[1]),
            &w.surveyor,
            json!({"visit_happened": true}),
        )
        .await;
    assert_eq!(r.problem(), "403.1");
    let r = w
        .post(
            &format!("/api/v1/monitor/tasks/{}/result", Uuid::now_v7()),
            &w.monitor,
            json!({"visit_happened": true}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");
}

// --- reports ---------------------------------------------------------------------------------

async fn report_as_json_csv_and_xlsx_with_suppression_and_stamp(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // Unit 00004: 3 responses; unit 00007: 1 response (+ one rejected, left out).
    let mut responses = Vec::new();
    for (i, id) in w.mine[..3].iter().chain(&w.mine[6..8]).enumerate() {
        responses.push(response_for(
            &w.assignment(*id).await,
            answers(i as i64),
            false,
        ));
    }
    w.upload(&w.surveyor, &responses).await;
    w.post(
        &format!("/api/v1/responses/{}/1/decision", responses[4].id),
        &w.supervisor,
        json!({"decision": "rejected", "comment": "Sai đơn vị"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let page = ReviewPage {
        state: ReviewState::NotRejected,
        after: None,
        limit: 1000,
    };
    let latest = w
        .store
        .review_stretch(ROUND, &page, std::sync::Arc::new(|_, _| true))
        .await
        .unwrap()
        .items
        .iter()
        .map(|i| i.received_at)
        .max()
        .unwrap();

    let path = format!("/api/v1/rounds/{ROUND}/report");
    let report: Value = w
        .get(&format!("{path}?min_n=2"), &w.monitor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(report["min_n"], 2);
    assert_eq!(
        report["stamp"]["form"],
        json!({"form_id": "sipas-6-groups", "version": "2026.1"})
    );
    assert_eq!(report["stamp"]["aggregation"], "mean_of_criteria");
    let as_of: chrono::DateTime<Utc> =
        serde_json::from_value(report["stamp"]["data_as_of"].clone()).unwrap();
    assert_eq!(as_of, latest);
    let rows = report["rows"].as_array().unwrap();
    let row = |unit: &str, code: &str| {
        rows.iter()
            .find(|r| r["unit_code"] == unit && r["code"] == code)
            .unwrap()
            .clone()
    };
    let all = row("*", "overall");
    assert_eq!(
        (all["suppressed"].clone(), all["level"].clone()),
        (json!(false), json!("overall"))
    );
    assert_eq!(row("*", "G1_1")["valid_n"], 4);
    let u4 = row("00004", "G1_1");
    assert_eq!(u4["valid_n"], 3);
    assert_eq!(u4["suppressed"], false);
    assert!(u4["pct_satisfied"].is_number() && u4["mean"].is_number());
    let u7 = row("00007", "G1_1");
    assert_eq!(
        (u7["valid_n"].clone(), u7["suppressed"].clone()),
        (json!(1), json!(true))
    );
    assert!(u7["pct_satisfied"].is_null() && u7["mean"].is_null() && u7["satisfied_n"].is_null());
    // default min_n 10 suppresses everything here; pooled is stamped as such
    let strict: Value = w
        .get(&format!("{path}?aggregation=pooled"), &w.admin)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(strict["min_n"], 10);
    assert_eq!(strict["stamp"]["aggregation"], "pooled");
    assert!(
        strict["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["suppressed"] == true)
    );

    // CSV: BOM, stamp line, Vietnamese headers
    let r = w
        .get(&format!("{path}?format=csv&min_n=2"), &w.supervisor)
        .await
        .expect(StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(
        r.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"sipas-report-{ROUND}.csv\"")
    );
    assert!(r.body.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(r.body[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[0].starts_with("Phiếu: sipas-6-groups@2026.1; Cách tổng hợp: trung bình cộng"));
    assert!(lines[0].contains("Ẩn các ô dưới 2 câu trả lời hợp lệ"));
    assert!(lines[1].starts_with("Đợt khảo sát,Đơn vị hành chính,Cấp,Mã,Tiêu chí / Nhóm"));
    assert!(lines[2].starts_with(&format!("{ROUND},Tất cả đơn vị,Chung,overall,")));
    assert_eq!(lines.len(), rows.len() + 3);

    // XLSX: parses back, stamp row, headers, numbers as numbers, "—" when suppressed
    let r = w
        .get(&format!("{path}?format=xlsx&min_n=2"), &w.supervisor)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        r.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"sipas-report-{ROUND}.xlsx\"")
    );
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), vec!["Báo cáo SIPAS".to_owned()]);
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cell = |row: u32, col: u32| sheet.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    match cell(0, 0) {
        Data::String(s) => assert_eq!(s, lines[0]),
        other => panic!("stamp cell {other:?}"),
    }
    let headers: Vec<Data> = (0..10).map(|c| cell(1, c)).collect();
    assert_eq!(
        headers,
        sipas_core::report::vietnamese_headers()
            .iter()
            .map(|h| Data::String((*h).to_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(sheet.height(), rows.len() + 2);
    let find = |unit_label: &str, code: &str| {
        (2..sheet.height() as u32)
            .find(|r| {
                cell(*r, 1) == Data::String(unit_label.to_owned())
                    && cell(*r, 3) == Data::String(code.to_owned())
            })
            .unwrap()
    };
    let r4 = find("00004", "G1_1");
    assert_eq!(cell(r4, 5), Data::Float(3.0));
    assert!(matches!(cell(r4, 7), Data::Float(_)));
    assert!(matches!(cell(r4, 8), Data::Float(_)));
    assert_eq!(cell(r4, 9), Data::String("Không".into()));
    let r7 = find("00007", "G1_1");
    assert_eq!(cell(r7, 5), Data::Float(1.0));
    for col in 6..=8 {
        assert_eq!(cell(r7, col), Data::String("—".into()));
    }
    assert_eq!(cell(r7, 9), Data::String("Có".into()));
    assert_eq!(
        cell(find("Tất cả đơn vị", "overall"), 2),
        Data::String("Chung".into())
    );

    // problems
    let r = w.get(&format!("{path}?format=pdf"), &w.supervisor).await;
    assert_eq!(r.problem(), "400.3");
    let r = w.get(&format!("{path}?min_n=-1"), &w.supervisor).await;
    assert_eq!(r.problem(), "400.3");
    let r = w.get("/api/v1/rounds/NOPE/report", &w.supervisor).await;
    assert_eq!(r.problem(), "404.1");
    let r = w.get(&path, &w.surveyor).await;
    assert_eq!(r.problem(), "403.1");
}

// --- offline hand-over -----------------------------------------------------------------------

/// Enrols a device for `who` (with `key`'s public half, if any); returns its id and token.
async fn enrol(w: &World, who: &Actor, key: Option<&SigningKey>) -> EnrolResponse {
    let code: EnrolmentCode = w
        .post(
            "/api/v1/enrolment-codes",
            &w.supervisor,
            json!({"user_id": who.user.id}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let mut body = json!({"code": code.code, "device_name": "Máy tính bảng BĐ 1"});
    if let Some(k) = key {
        body["public_key"] = json!(public_key_base64(k));
    }
    w.send(
        Method::POST,
        "/api/v1/enrol",
        None,
        &[(header::CONTENT_TYPE, JSON_CT)],
        serde_json::to_vec(&body).unwrap(),
    )
    .await
    .expect(StatusCode::OK)
    .json()
}

fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&rand::random::<[u8; 32]>())
}

async fn handover(w: &World, body: Vec<u8>, gzipped: bool) -> Reply {
    let mut headers = vec![(header::CONTENT_TYPE, JSON_CT)];
    if gzipped {
        headers.push((header::CONTENT_ENCODING, "gzip"));
    }
    w.send(
        Method::POST,
        "/api/v1/handover",
        Some(&w.supervisor.token),
        &headers,
        body,
    )
    .await
}

async fn handover_file_is_verified_then_stored_like_an_upload(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let key = signing_key();
    let device = enrol(&w, &w.surveyor, Some(&key)).await;
    let responses = [
        response_for(&w.assignment(w.mine[0]).await, answers(0), false),
        response_for(&w.assignment(w.mine[1]).await, answers(1), false),
        // another surveyor's assignment: invalid, as in a batch upload
        response_for(&w.assignment(w.theirs[0]).await, answers(2), false),
    ];
    let records: Vec<UploadRecord> = responses.iter().map(record).collect();
    let file = sign_batch(&key, device.device_id, Utc::now(), records.clone()).unwrap();
    let bytes = serde_json::to_vec(&file).unwrap();

    // Tampered copies first: 400.3, nothing stored.
    let audit = w.audit_count().await;
    let mut tampered: Value = serde_json::from_slice(&bytes).unwrap();
    tampered["records"][0]["response"]["answers"]["G1_1"] = json!(5);
    let mut other_device = serde_json::from_slice::<Value>(&bytes).unwrap();
    other_device["device_id"] = json!(Uuid::now_v7());
    let forged = sign_batch(
        &signing_key(),
        device.device_id,
        Utc::now(),
        records.clone(),
    )
    .unwrap();
    for (body, reason) in [
        (serde_json::to_vec(&tampered).unwrap(), "bad_signature"),
        (serde_json::to_vec(&forged).unwrap(), "bad_signature"),
        (serde_json::to_vec(&other_device).unwrap(), "unknown_device"),
    ] {
        let r = handover(&w, body, false).await;
        assert_eq!(r.problem(), "400.3");
        assert_eq!(r.value()["details"]["reason"], reason);
    }
    let mut wrong_format: Value = serde_json::from_slice(&bytes).unwrap();
    wrong_format["format"] = json!("sipas-batch/9");
    let r = handover(&w, serde_json::to_vec(&wrong_format).unwrap(), false).await;
    assert_eq!(r.problem(), "400.3");
    let r = handover(&w, b"{\"format\": ".to_vec(), false).await;
    assert_eq!(r.problem(), "400.1");
    // A device enrolled without a key cannot hand over.
    let keyless = enrol(&w, &w.surveyor, None).await;
    let unverifiable = sign_batch(&key, keyless.device_id, Utc::now(), records.clone()).unwrap();
    let r = handover(&w, serde_json::to_vec(&unverifiable).unwrap(), false).await;
    assert_eq!(r.problem(), "400.3");
    assert_eq!(r.value()["details"]["reason"], "no_key");
    assert_eq!(w.store.response_count().await.unwrap(), 0);
    let enrolments = 1; // the keyless device's enrolment-code issue and enrolment
    assert_eq!(w.audit_count().await, audit + 2 * enrolments);

    // The genuine file, gzipped: stored for the device's surveyor.
    let result: Value = handover(&w, gzip(&bytes), true)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(result["device_id"], json!(device.device_id));
    assert_eq!(result["surveyor_id"], json!(w.surveyor.user.id));
    let statuses: Vec<&str> = result["acks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepted", "accepted", "invalid"]);
    assert_eq!(result["acks"][2]["reason"], "not your assignment");
    assert_eq!(
        w.store.response(responses[0].id, 1).await.unwrap(),
        Some((responses[0].clone(), w.surveyor.user.id))
    );
    let audit = w.store.audit_entries(0, 100_000).await.unwrap();
    let last = audit.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor, last.entity_id.clone()),
        (
            "handover.imported",
            Some(w.supervisor.user.id),
            Some(device.device_id.to_string())
        )
    );

    // Imported again: all duplicates, nothing new.
    let again: Value = handover(&w, bytes.clone(), false)
        .await
        .expect(StatusCode::OK)
        .value();
    let statuses: Vec<&str> = again["acks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["duplicate", "duplicate", "invalid"]);
    assert_eq!(w.store.response_count().await.unwrap(), 2);
    // The same records later uploaded over the network are duplicates too.
    assert_eq!(
        w.upload(&w.surveyor, &responses[..2]).await,
        vec![AckStatus::Duplicate, AckStatus::Duplicate]
    );

    // An invalid public key at enrolment is refused before the code is used.
    let code: EnrolmentCode = w
        .post(
            "/api/v1/enrolment-codes",
            &w.supervisor,
            json!({"user_id": w.surveyor.user.id}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let r = w
        .send(
            Method::POST,
            "/api/v1/enrol",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(
                &json!({"code": code.code, "device_name": "Máy 2", "public_key": "abc"}),
            )
            .unwrap(),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    assert_eq!(r.value()["details"]["field"], "public_key");
    let ok: EnrolResponse = w
        .send(
            Method::POST,
            "/api/v1/enrol",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"code": code.code, "device_name": "Máy 2"})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(ok.user, w.surveyor.user);

    // A monitor's device cannot hand over surveyors' responses.
    let monitor_key = signing_key();
    let monitor_device = enrol(&w, &w.monitor, Some(&monitor_key)).await;
    let file = sign_batch(&monitor_key, monitor_device.device_id, Utc::now(), records).unwrap();
    let r = handover(&w, serde_json::to_vec(&file).unwrap(), false).await;
    assert_eq!(r.problem(), "400.3");
    assert_eq!(r.value()["details"]["reason"], "not_a_surveyor");
}

// --- role matrix -----------------------------------------------------------------------------

struct Endpoint {
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    allowed: &'static [Role],
}

/// Everything the new endpoints could change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    audit: usize,
    responses: u64,
    tasks: Vec<(Uuid, Option<Uuid>, bool)>,
}

async fn snapshot(w: &World) -> Snapshot {
    Snapshot {
        audit: w.audit_count().await,
        responses: w.store.response_count().await.unwrap(),
        tasks: w
            .store
            .spot_check_tasks(ROUND)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.task.id, t.monitor_id, t.result.is_some()))
            .collect(),
    }
}

async fn every_new_endpoint_refuses_every_other_role_and_changes_nothing(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let (mine, _) = collect_all(&w).await;
    let drawn: Value = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/spot-checks"),
            &w.supervisor,
            json!({"rate": 0.0, "min_per_surveyor": 1}),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let task = drawn["tasks"][0]["task_id"].as_str().unwrap().to_owned();
    w.post(
        &format!("/api/v1/spot-checks/{task}/assign"),
        &w.supervisor,
        json!({"monitor_id": w.monitor.user.id}),
    )
    .await
    .expect(StatusCode::OK);
    let task_response = drawn["tasks"][0]["response_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A signed file with a new revision of a pending response of surveyor1 (one response
    // per assignment: a new id for a collected assignment would be a conflict).
    let key = signing_key();
    let device = enrol(&w, &w.surveyor, Some(&key)).await;
    let mut fresh = mine[1].clone();
    fresh.revision = 2;
    fresh.answers = answers(3);
    let file = sign_batch(&key, device.device_id, Utc::now(), vec![record(&fresh)]).unwrap();
    assert_ne!(fresh.answers, mine[1].answers);

    let j = |v: Value| serde_json::to_vec(&v).unwrap();
    let endpoints = vec![
        Endpoint {
            method: Method::GET,
            path: "/api/v1/users?role=surveyor".into(),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/progress?by=unit"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/review/queue?round_id={ROUND}&state=all"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/quarantine?round_id={ROUND}&all=true"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/responses/{}/void", mine[2].id),
            content_type: JSON_CT,
            body: j(json!({"reason": "Phỏng vấn lại"})),
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/responses/{task_response}/1"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Monitor],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/rounds/{ROUND}/spot-checks"),
            content_type: JSON_CT,
            body: j(json!({"rate": 0.5})),
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/spot-checks"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/spot-checks/{task}/assign"),
            content_type: JSON_CT,
            body: j(json!({"monitor_id": w.monitor.user.id})),
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/v1/monitor/tasks".into(),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Monitor],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/monitor/tasks/{task}/result"),
            content_type: JSON_CT,
            body: j(json!({"visit_happened": false, "note": "Không tìm thấy địa chỉ"})),
            allowed: &[Role::Monitor],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/discrepancies?threshold=0.2"),
            content_type: JSON_CT,
            body: vec![],
            // Admins no longer see spot-check results (issue 10: admins do not spot-check).
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/report?format=xlsx&min_n=1"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin, Role::Monitor, Role::Ministry],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/v1/handover".into(),
            content_type: JSON_CT,
            body: serde_json::to_vec(&file).unwrap(),
            allowed: &[Role::Supervisor],
        },
        // Issue 10 endpoints.
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/assignments?limit=5"),
            content_type: JSON_CT,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/v1/forms".into(),
            content_type: JSON_CT,
            body: vec![],
            // Surveyors read forms too (`forms.read`): their devices pull published versions.
            allowed: &[
                Role::Supervisor,
                Role::Admin,
                Role::Monitor,
                Role::Ministry,
                Role::Surveyor,
            ],
        },
        Endpoint {
            method: Method::PATCH,
            path: format!("/api/v1/users/{}", w.monitor2.user.id),
            content_type: JSON_CT,
            body: j(json!({"display_name": "Phúc tra viên CCB"})),
            allowed: &[Role::Admin],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/users/{}/password", w.monitor2.user.id),
            content_type: JSON_CT,
            body: j(json!({})),
            allowed: &[Role::Admin],
        },
        // Last: the allowed run closes the round.
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/rounds/{ROUND}/close"),
            content_type: JSON_CT,
            body: j(json!({})),
            allowed: &[Role::Supervisor, Role::Admin],
        },
    ];

    let roles = Role::ALL;
    let mut refused = 0;
    for e in &endpoints {
        for role in roles {
            if e.allowed.contains(&role) {
                continue;
            }
            let before = snapshot(&w).await;
            let r = w
                .send(
                    e.method.clone(),
                    &e.path,
                    Some(&w.actor(role).token),
                    &[(header::CONTENT_TYPE, e.content_type)],
                    e.body.clone(),
                )
                .await;
            assert_eq!(
                (r.status, r.problem().as_str()),
                (StatusCode::FORBIDDEN, "403.1"),
                "{} {} as {role:?}",
                e.method,
                e.path
            );
            assert_eq!(
                snapshot(&w).await,
                before,
                "{} {} as {role:?} changed the store",
                e.method,
                e.path
            );
            refused += 1;
        }
        let r = w
            .send(
                e.method.clone(),
                &e.path,
                None,
                &[(header::CONTENT_TYPE, e.content_type)],
                e.body.clone(),
            )
            .await;
        assert_eq!(r.problem(), "401.1", "{} {}", e.method, e.path);
    }
    assert_eq!(refused, 64);

    // The role is checked before anything in the request is looked at.
    for (method, path, role) in [
        (Method::GET, "/api/v1/users?role=boss", Role::Surveyor),
        (Method::GET, "/api/v1/review/queue?state=x", Role::Monitor),
        (Method::GET, "/api/v1/responses/x/y", Role::Admin),
        (
            Method::POST,
            "/api/v1/rounds/NOPE/spot-checks",
            Role::Monitor,
        ),
        (Method::POST, "/api/v1/spot-checks/x/assign", Role::Admin),
        (
            Method::POST,
            "/api/v1/monitor/tasks/x/result",
            Role::Supervisor,
        ),
        (
            Method::GET,
            "/api/v1/rounds/NOPE/discrepancies?threshold=9",
            Role::Monitor,
        ),
        (
            Method::GET,
            "/api/v1/rounds/NOPE/report?format=pdf",
            Role::Surveyor,
        ),
        (Method::POST, "/api/v1/handover", Role::Surveyor),
    ] {
        let r = w
            .send(
                method.clone(),
                path,
                Some(&w.actor(role).token),
                &[(header::CONTENT_TYPE, JSON_CT)],
                "{not json",
            )
            .await;
        assert_eq!(r.problem(), "403.1", "{method} {path} as {role:?}");
    }

    // The same requests from an allowed role succeed (so the refusals mattered).
    for e in &endpoints {
        let role = e.allowed[0];
        let r = w
            .send(
                e.method.clone(),
                &e.path,
                Some(&w.actor(role).token),
                &[(header::CONTENT_TYPE, e.content_type)],
                e.body.clone(),
            )
            .await;
        assert!(
            r.status.is_success(),
            "{} {} as {role:?}: {} {}",
            e.method,
            e.path,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    // The monitor's finding is stored and final; the hand-over stored the fresh response.
    let tasks = w.store.spot_check_tasks(ROUND).await.unwrap();
    let done = tasks
        .iter()
        .find(|t| t.task.id.to_string() == task)
        .unwrap();
    assert!(done.result.as_ref().is_some_and(|r| !r.visit_happened));
    assert!(w.store.response(fresh.id, 2).await.unwrap().is_some());
}

// --- scope and tenancy (issue 10) --------------------------------------------------------------

/// A user with `scope` (unit codes), created by `by`, signed in.
async fn scoped_user(w: &World, by: &Actor, username: &str, role: Role, units: &[&str]) -> Actor {
    let user: UserInfo = w
        .post(
            "/api/v1/users",
            by,
            json!({"username": username, "display_name": format!("Người dùng {username}"),
                   "role": role, "password": PASSWORD,
                   "scope": {"units": units, "agencies": []}}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let login: LoginResponse = w
        .send(
            Method::POST,
            "/api/v1/login",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"username": username, "password": PASSWORD})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    Actor {
        user,
        token: login.token,
    }
}

async fn patch(w: &World, uri: &str, who: &Actor, body: Value) -> Reply {
    w.send(
        Method::PATCH,
        uri,
        Some(&who.token),
        &[(header::CONTENT_TYPE, JSON_CT)],
        serde_json::to_vec(&body).unwrap(),
    )
    .await
}

/// A round of `units` created by `by` with a sample of `rows` (unit, agency name) assigned
/// to `surveyor`; returns the assignment ids.
async fn scoped_round(
    w: &World,
    by: &Actor,
    id: &str,
    units: &[&str],
    rows: &[&str],
    surveyor: &Actor,
) -> Vec<Uuid> {
    w.post(
        "/api/v1/rounds",
        by,
        json!({"id": id, "name": format!("Đợt {id}"),
               "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": "2026-01-01", "ends_on": "2026-12-31", "units": units}),
    )
    .await
    .expect(StatusCode::CREATED);
    let mut csv = String::from("ma_don_vi,thu_tuc,co_quan,ho_ten,dia_chi\n");
    for (i, unit) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "{unit},Cấp căn cước,UBND phường,Người {i},Số {i}\n"
        ));
    }
    let import: Value = w
        .send(
            Method::POST,
            &format!("/api/v1/rounds/{id}/sample"),
            Some(&by.token),
            &[(header::CONTENT_TYPE, "text/csv")],
            csv,
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let ids: Vec<Uuid> = serde_json::from_value(import["assignment_ids"].clone()).unwrap();
    w.post(
        &format!("/api/v1/rounds/{id}/assign"),
        by,
        json!({"filter": {"unassigned_only": true}, "surveyor_id": surveyor.user.id}),
    )
    .await
    .expect(StatusCode::OK);
    ids
}

fn round_ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn two_provinces_see_only_their_own(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // Hà Nội (01) and Đà Nẵng (48), each with a supervisor, a surveyor and a ministry reader.
    let sup_hn = scoped_user(&w, &w.admin, "gsv-hn", Role::Supervisor, &["01"]).await;
    let sup_dn = scoped_user(&w, &w.admin, "gsv-dn", Role::Supervisor, &["48"]).await;
    let dtv_hn = scoped_user(&w, &w.admin, "dtv-hn", Role::Surveyor, &["95001", "95002"]).await;
    let dtv_dn = scoped_user(&w, &w.admin, "dtv-dn", Role::Surveyor, &["95101"]).await;
    let bnv_hn = scoped_user(&w, &w.admin, "bnv-hn", Role::Ministry, &["01"]).await;

    // /me: scope with names, capabilities from the role.
    let me = w
        .get("/api/v1/me", &sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(
        me["scope"]["units"],
        json!([{"code": "01", "name": "Thành phố Hà Nội"}])
    );
    let caps: Vec<&str> = me["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(caps.contains(&"review") && caps.contains(&"enrolment.issue"));
    assert!(!caps.contains(&"users.manage"));
    let me = w
        .get("/api/v1/me", &bnv_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(
        me["capabilities"],
        json!([
            "index.read",
            "reports.read",
            "rounds.read",
            "catalogues.read"
        ])
    );

    // A supervisor cannot plan a round outside its scope.
    let r = w
        .post(
            "/api/v1/rounds",
            &sup_hn,
            json!({"id": "R-X", "name": "X", "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
                   "starts_on": "2026-01-01", "ends_on": "2026-12-31", "units": ["48"]}),
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    let hn = scoped_round(
        &w,
        &sup_hn,
        "R-HN",
        &["01"],
        &["95001", "95002", "95001"],
        &dtv_hn,
    )
    .await;
    let dn = scoped_round(&w, &sup_dn, "R-DN", &["48"], &["95101", "95102"], &dtv_dn).await;
    // Rows outside the supervisor's scope are refused in a sample frame.
    let r = w
        .send(
            Method::POST,
            "/api/v1/rounds/R-HN/sample",
            Some(&sup_hn.token),
            &[(header::CONTENT_TYPE, "text/csv")],
            "ma_don_vi,thu_tuc,ho_ten,dia_chi\n95101,P,Tên,Địa chỉ\n",
        )
        .await;
    assert_eq!(r.problem(), "403.2");

    // Rounds: each sees its own; the unscoped ROUND of the world only whole-server users.
    let mine = w
        .get("/api/v1/rounds", &sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(round_ids(&mine), vec!["R-HN"]);
    assert_eq!(mine[0]["units"], json!(["01"]));
    assert_eq!(mine[0]["status"], "open");
    assert_eq!(
        mine[0]["form_title"].as_str().map(|t| !t.is_empty()),
        Some(true)
    );
    let theirs = w
        .get("/api/v1/rounds", &sup_dn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(round_ids(&theirs), vec!["R-DN"]);
    let all = w
        .get("/api/v1/rounds", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(round_ids(&all).len(), 3);
    let ministry = w
        .get("/api/v1/rounds", &bnv_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(round_ids(&ministry), vec!["R-HN"]);

    // Everything about the other province's round is 404.1 (existence does not leak).
    for path in [
        "/api/v1/rounds/R-DN",
        "/api/v1/rounds/R-DN/progress",
        "/api/v1/rounds/R-DN/assignments",
        "/api/v1/review/queue?round_id=R-DN&state=all",
        "/api/v1/rounds/R-DN/report?min_n=1",
        "/api/v1/rounds/R-DN/index",
        "/api/v1/rounds/R-DN/spot-checks",
        &format!("/api/v1/rounds/{ROUND}/progress"),
    ] {
        assert_eq!(w.get(path, &sup_hn).await.problem(), "404.1", "{path}");
    }
    let r = w
        .post(
            "/api/v1/rounds/R-DN/assign",
            &sup_hn,
            json!({"assignment_ids": [dn[0]], "surveyor_id": dtv_hn.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    // Assigning to a surveyor of the other province: 403.2, nothing changes.
    let r = w
        .post(
            "/api/v1/rounds/R-HN/assign",
            &sup_hn,
            json!({"assignment_ids": [hn[0]], "surveyor_id": dtv_dn.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    assert_eq!(
        w.store.assignment(hn[0]).await.unwrap().unwrap().1,
        Some(dtv_hn.user.id)
    );

    // Assignment list with names, no contacts.
    let list = w
        .get("/api/v1/rounds/R-HN/assignments?unit=95001", &sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["unit_name"], "Phường Ba Đình");
    assert_eq!(list["items"][0]["surveyor_name"], "Người dùng dtv-hn");
    assert!(
        !list.to_string().contains("Số 0"),
        "no contact data in {list}"
    );

    // Users: each supervisor sees its own surveyors (and itself), not the other province's.
    let users = w
        .get("/api/v1/users", &sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["bnv-hn", "dtv-hn", "gsv-hn"]);
    assert_eq!(users[1]["scope"]["units"][0]["name"], "Phường Ba Đình");

    // Enrolment: only for surveyors of the scope; the audit entry names the supervisor.
    let r = w
        .post(
            "/api/v1/enrolment-codes",
            &sup_hn,
            json!({"user_id": dtv_dn.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    let code = w
        .send(
            Method::POST,
            "/api/v1/enrolment-codes",
            Some(&sup_hn.token),
            &[
                (header::CONTENT_TYPE, JSON_CT),
                (header::HOST, "10.0.0.5:8080"),
            ],
            serde_json::to_vec(&json!({"user_id": dtv_hn.user.id})).unwrap(),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(code["server_url"], "http://10.0.0.5:8080");
    assert!(
        code.get("fingerprint").is_none(),
        "plain HTTP: nothing to pin"
    );
    assert!(code["qr_svg"].as_str().unwrap().contains("<svg"));
    // The one-line payload the surveyor pastes carries the address and the code.
    let payload =
        sipas_protocol::enrol::EnrolPayload::decode(code["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload.server, "http://10.0.0.5:8080");
    assert_eq!(payload.code, code["code"].as_str().unwrap());
    assert_eq!(payload.cert_sha256, None);
    assert_eq!(
        sipas_server::handlers::users::enrol_link(
            "http://10.0.0.5:8080",
            code["code"].as_str().unwrap(),
            Some("ab12")
        ),
        format!(
            "sipas://enrol?server=http%3A%2F%2F10.0.0.5%3A8080&code={}&fp=ab12",
            code["code"].as_str().unwrap()
        )
    );
    let last = w.store.audit_entries(0, 100_000).await.unwrap();
    let issued = last
        .iter()
        .rev()
        .find(|e| e.action == "enrolment_code.issued")
        .unwrap();
    assert_eq!(issued.actor, Some(sup_hn.user.id));
    assert_eq!(issued.entity_id, Some(dtv_hn.user.id.to_string()));
    let device: EnrolResponse = w
        .send(
            Method::POST,
            "/api/v1/enrol",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"code": code["code"], "device_name": "Máy HN"})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let dn_code: EnrolmentCode = w
        .post(
            "/api/v1/enrolment-codes",
            &sup_dn,
            json!({"user_id": dtv_dn.user.id}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let dn_device: EnrolResponse = w
        .send(
            Method::POST,
            "/api/v1/enrol",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"code": dn_code.code, "device_name": "Máy ĐN"})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    // Devices: own province only; the other's is 404.1, also to revoke.
    let devices = w
        .get("/api/v1/devices", &sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    let ids: Vec<&str> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![device.device_id.to_string()]);
    let r = w
        .get(
            &format!("/api/v1/devices?user_id={}", dtv_dn.user.id),
            &sup_hn,
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    let r = w
        .post(
            &format!("/api/v1/devices/{}/revoke", dn_device.device_id),
            &sup_hn,
            json!({}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    let r = w
        .post(
            &format!("/api/v1/users/{}/disable", dtv_dn.user.id),
            &sup_hn,
            json!({}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");

    // Responses from both provinces.
    let dtv_hn_dev = Actor {
        user: dtv_hn.user.clone(),
        token: device.token.clone(),
    };
    let hn_resp = response_for(&w.assignment(hn[0]).await, answers(1), false);
    assert_eq!(
        w.upload(&dtv_hn_dev, std::slice::from_ref(&hn_resp)).await,
        vec![AckStatus::Accepted]
    );
    let dn_resp = response_for(&w.assignment(dn[0]).await, answers(2), false);
    assert_eq!(
        w.upload(&dtv_dn, std::slice::from_ref(&dn_resp)).await,
        vec![AckStatus::Accepted]
    );
    let queue = w
        .get("/api/v1/review/queue?round_id=R-HN&state=all", &sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(queue.as_array().unwrap().len(), 1);
    let other = format!("/api/v1/responses/{}/1", dn_resp.id);
    assert_eq!(w.get(&other, &sup_hn).await.problem(), "404.1");
    let r = w
        .post(
            &format!("{other}/decision"),
            &sup_hn,
            json!({"decision": "approved"}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    w.get(&other, &sup_dn).await.expect(StatusCode::OK);
    // Report and index: the ministry reads its province's aggregates, never single responses.
    w.get("/api/v1/rounds/R-HN/report?min_n=1", &bnv_hn)
        .await
        .expect(StatusCode::OK);
    let index = w
        .get("/api/v1/rounds/R-HN/index", &bnv_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert!(!index.to_string().contains("Người 0"));
    for path in [
        format!("/api/v1/responses/{}/1", hn_resp.id),
        "/api/v1/review/queue?round_id=R-HN".to_owned(),
        "/api/v1/users".to_owned(),
        "/api/v1/audit".to_owned(),
        "/api/v1/devices".to_owned(),
        "/api/v1/rounds/R-HN/assignments".to_owned(),
        "/api/v1/rounds/R-HN/progress".to_owned(),
    ] {
        assert_eq!(w.get(&path, &bnv_hn).await.problem(), "403.1", "{path}");
    }
    assert_eq!(
        w.get("/api/v1/rounds/R-DN/index", &bnv_hn).await.problem(),
        "404.1"
    );
    // A whole-server supervisor still sees both.
    let both = w
        .get(
            &format!("/api/v1/responses/{}/1", hn_resp.id),
            &w.supervisor,
        )
        .await;
    both.expect(StatusCode::OK);
}

async fn round_life_cycle_edit_close_and_progress_by_agency(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let sup = scoped_user(&w, &w.admin, "gsv-hn", Role::Supervisor, &["01"]).await;
    let dtv = scoped_user(&w, &w.admin, "dtv-hn", Role::Surveyor, &["01"]).await;
    let forms = w
        .get("/api/v1/forms", &sup)
        .await
        .expect(StatusCode::OK)
        .value();
    assert!(
        forms
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "sipas-6-groups" && f["version"] == "2026.1")
    );
    // A planned round can be changed; units must stay inside the scope.
    w.post(
        "/api/v1/rounds",
        &sup,
        json!({"id": "R-LATER", "name": "Sau", "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": "2099-01-01", "ends_on": "2099-12-31", "units": ["95001"],
               "agencies": ["A1"], "targets": {"A1": 20}}),
    )
    .await
    .expect(StatusCode::CREATED);
    let later = patch(
        &w,
        "/api/v1/rounds/R-LATER",
        &sup,
        json!({"name": "Sau nữa", "units": ["95001", "95002"], "targets": {"A1": 30, "A2": 5}}),
    )
    .await
    .expect(StatusCode::OK)
    .value();
    assert_eq!(later["status"], "planned");
    assert_eq!(later["units"], json!(["95001", "95002"]));
    assert_eq!(later["targets"], json!({"A1": 30, "A2": 5}));
    assert_eq!(later["agencies"], json!(["A1"]));
    let r = patch(&w, "/api/v1/rounds/R-LATER", &sup, json!({"units": ["48"]})).await;
    assert_eq!(r.problem(), "403.2");
    let r = patch(&w, "/api/v1/rounds/R-LATER", &sup, json!({"colour": "red"})).await;
    assert_eq!(r.problem(), "400.1");
    let progress = w
        .get("/api/v1/rounds/R-LATER/progress?by=agency", &sup)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(progress["rows"][0]["key"], "A1");
    assert_eq!(progress["rows"][0]["target"], 30);
    assert_eq!(progress["total"]["target"], 35);

    // A round that has started cannot be changed; once closed, uploads are refused.
    let ids = scoped_round(&w, &sup, "R-NOW", &["01"], &["95001", "95002"], &dtv).await;
    let r = patch(&w, "/api/v1/rounds/R-NOW", &sup, json!({"name": "Khác"})).await;
    assert_eq!(r.problem(), "409.1");
    let first = response_for(&w.assignment(ids[0]).await, answers(1), false);
    assert_eq!(w.upload(&dtv, &[first]).await, vec![AckStatus::Accepted]);
    let by_unit = w
        .get("/api/v1/rounds/R-NOW/progress?by=unit", &sup)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(by_unit["total"]["sampled"], 2);
    assert_eq!(by_unit["total"]["completed"], 1);
    assert_eq!(by_unit["total"]["response_rate"], 0.5);
    assert_eq!(by_unit["rows"][0]["name"], "Phường Ba Đình");
    let closed = w
        .post("/api/v1/rounds/R-NOW/close", &sup, json!({}))
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    let late = response_for(&w.assignment(ids[1]).await, answers(2), false);
    let r: Value = w
        .send(
            Method::POST,
            "/api/v1/responses/batch",
            Some(&dtv.token),
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&UploadBatch {
                records: vec![record(&late)],
            })
            .unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["acks"][0]["status"], "invalid");
    assert_eq!(r["acks"][0]["reason_code"], "round_closed");
    assert!(r["acks"][0]["quarantine_id"].is_string());
    assert!(w.store.response(late.id, 1).await.unwrap().is_none());
    // The quarantine entry is the Hà Nội supervisor's to see, not Đà Nẵng's.
    let sup_dn = scoped_user(&w, &w.admin, "gsv-dn", Role::Supervisor, &["48"]).await;
    let q_id = r["acks"][0]["quarantine_id"].as_str().unwrap().to_owned();
    let mine = w
        .get("/api/v1/quarantine?all=true", &sup)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["reason_code"], "round_closed");
    let theirs = w
        .get("/api/v1/quarantine?all=true", &sup_dn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(theirs, json!([]));
    let r2 = w
        .post(
            &format!("/api/v1/quarantine/{q_id}/dismiss"),
            &sup_dn,
            json!({"note": "x"}),
        )
        .await;
    assert_eq!(r2.problem(), "404.1");
    // Closing again changes nothing; the audit log has one round.closed.
    w.post("/api/v1/rounds/R-NOW/close", &sup, json!({}))
        .await
        .expect(StatusCode::OK);
    let closes = w
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "round.closed")
        .count();
    assert_eq!(closes, 1);
    let r = w
        .post("/api/v1/rounds/R-NOW/close", &w.monitor, json!({}))
        .await;
    assert_eq!(r.problem(), "403.1");
}

async fn scoped_admins_manage_users_inside_their_scope(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let admin_hn = scoped_user(&w, &w.admin, "qt-hn", Role::Admin, &["01"]).await;
    let dtv_dn = scoped_user(&w, &w.admin, "dtv-dn", Role::Surveyor, &["48"]).await;
    // No wider scope than its own; without a scope the new user gets the creator's.
    let r = w
        .post(
            "/api/v1/users",
            &admin_hn,
            json!({"username": "x", "display_name": "X", "role": "supervisor",
                   "password": PASSWORD, "scope": {"units": ["48"]}}),
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    let r = w
        .post(
            "/api/v1/users",
            &admin_hn,
            json!({"username": "x", "display_name": "X", "role": "supervisor",
                   "password": PASSWORD, "scope": {"units": ["zz"]}}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let created: Value = w
        .post(
            "/api/v1/users",
            &admin_hn,
            json!({"username": "gsv-hn", "display_name": "Giám sát HN", "role": "supervisor",
                   "password": PASSWORD}),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        w.store.user_scope(id.parse().unwrap()).await.unwrap().units,
        vec!["01"]
    );
    let users = w
        .get("/api/v1/users", &admin_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["gsv-hn", "qt-hn"]);
    // Users outside: 404.1 to change or reset.
    let r = patch(
        &w,
        &format!("/api/v1/users/{}", dtv_dn.user.id),
        &admin_hn,
        json!({"display_name": "Y"}),
    )
    .await;
    assert_eq!(r.problem(), "404.1");
    let r = w
        .post(
            &format!("/api/v1/users/{}/password", dtv_dn.user.id),
            &admin_hn,
            json!({}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    // Inside: change name and scope (narrower), reset the password (sessions end).
    let changed = patch(
        &w,
        &format!("/api/v1/users/{id}"),
        &admin_hn,
        json!({"display_name": "Giám sát Ba Đình", "scope": {"units": ["95001"]}}),
    )
    .await
    .expect(StatusCode::OK)
    .value();
    assert_eq!(changed["display_name"], "Giám sát Ba Đình");
    assert_eq!(
        changed["scope"]["units"],
        json!([{"code": "95001", "name": "Phường Ba Đình"}])
    );
    let r = patch(
        &w,
        &format!("/api/v1/users/{id}"),
        &admin_hn,
        json!({"scope": {"units": []}}),
    )
    .await;
    assert_eq!(r.problem(), "403.2", "whole server is wider than Hà Nội");
    let login: LoginResponse = w
        .send(
            Method::POST,
            "/api/v1/login",
            None,
            &[(header::CONTENT_TYPE, JSON_CT)],
            serde_json::to_vec(&json!({"username": "gsv-hn", "password": PASSWORD})).unwrap(),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    let reset = w
        .post(
            &format!("/api/v1/users/{id}/password"),
            &admin_hn,
            json!({}),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    let new_password = reset["password"].as_str().unwrap().to_owned();
    assert!(new_password.len() >= 12);
    let r = w
        .send(
            Method::GET,
            "/api/v1/me",
            Some(&login.token),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(r.problem(), "401.1", "sessions end on a reset");
    w.send(
        Method::POST,
        "/api/v1/login",
        None,
        &[(header::CONTENT_TYPE, JSON_CT)],
        serde_json::to_vec(&json!({"username": "gsv-hn", "password": new_password})).unwrap(),
    )
    .await
    .expect(StatusCode::OK);
    // The scoped admin's audit view holds its own scope's actors only.
    let audit = w
        .get("/api/v1/audit?limit=1000", &admin_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    let actors: std::collections::BTreeSet<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["actor"].as_str().map(str::to_owned))
        .collect();
    assert!(actors.contains(&admin_hn.user.id.to_string()));
    assert!(!actors.contains(&w.admin.user.id.to_string()));
    // A supervisor does not manage users.
    let r = patch(
        &w,
        &format!("/api/v1/users/{id}"),
        &w.supervisor,
        json!({"display_name": "Z"}),
    )
    .await;
    assert_eq!(r.problem(), "403.1");
}
