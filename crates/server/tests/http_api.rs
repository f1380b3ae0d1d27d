//! HTTP API tests: the axum router driven with `tower::ServiceExt::oneshot` over a real
//! store, every test twice: on SQLite (a temporary file) and on PostgreSQL (a fresh database
//! from the test kit; skipped without `SIPAS_TEST_DATABASE_URL` unless `CI` or
//! `SIPAS_REQUIRE_POSTGRES` is set).
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use chrono::Utc;
use serde_json::{Value, json};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::response::{Paradata, Response, new_id};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    AckStatus, Assignment, AssignmentStatus, EnrolResponse, LoginResponse, PullResponse,
    UploadBatch, UploadRecord, UploadResult, UserInfo,
};
use sipas_protocol::{MAX_BATCH_BYTES, MAX_BATCH_RECORDS};
use sipas_server::app::{AppState, router};
use sipas_server::clock::ManualClock;
use sipas_server::demo::ensure_user;
use sipas_server::forms::FormRegistry;
use sipas_server::storage::{Progress, ServerStore, open_store};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use uuid::Uuid;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const ROUND: &str = "2026-HN-1";
const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// --- harness ---------------------------------------------------------------------------------

struct Harness {
    app: Router,
    store: Arc<dyn ServerStore>,
    clock: Arc<ManualClock>,
    state: AppState,
    _db: EmptyDatabase,
}

impl Harness {
    /// The router on a new, empty database of `backend`; `None` when PostgreSQL tests are
    /// skipped.
    async fn new(backend: Backend) -> Option<Harness> {
        let db = EmptyDatabase::create(backend)?;
        let store = open_store(&db.target()).await.unwrap();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let mut state = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
        state.clock = clock.clone();
        // Cheap Argon2 parameters keep the tests fast; verification reads them from the hash.
        state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
        Some(Harness {
            app: router(state.clone()),
            store,
            clock,
            state,
            _db: db,
        })
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

    async fn get(&self, uri: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, uri, token, &[], Body::empty()).await
    }

    async fn post(&self, uri: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(
            Method::POST,
            uri,
            token,
            &[(header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&body).unwrap(),
        )
        .await
    }

    async fn login(&self, username: &str, password: &str) -> LoginResponse {
        self.post(
            "/api/v1/login",
            None,
            json!({"username": username, "password": password}),
        )
        .await
        .expect(StatusCode::OK)
        .json()
    }

    async fn audit_count(&self) -> usize {
        self.store.audit_entries(0, 100_000).await.unwrap().len()
    }
}

#[derive(Clone)]
struct Actor {
    user: UserInfo,
    token: String,
}

struct World {
    h: Harness,
    admin: Actor,
    supervisor: Actor,
    monitor: Actor,
    ministry: Actor,
    surveyor: Actor,
    surveyor2: Actor,
    /// Assignments of `surveyor` (3) and of `surveyor2` (1).
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

    async fn assignment(&self, id: Uuid) -> Assignment {
        self.h.store.assignment(id).await.unwrap().unwrap().0
    }
}

const PASSWORD: &str = "mat-khau-an-toan";

async fn create_user(h: &Harness, admin: &str, username: &str, role: Role) -> Actor {
    let user: UserInfo = h
        .post(
            "/api/v1/users",
            Some(admin),
            json!({"username": username, "display_name": format!("Người dùng {username}"),
                   "role": role, "password": PASSWORD}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    assert_eq!(user.role, role);
    let login = h.login(username, PASSWORD).await;
    assert_eq!(login.user, user);
    Actor {
        user,
        token: login.token,
    }
}

/// Users of every role, a round with 4 sampled respondents: 3 for `surveyor`, 1 for
/// `surveyor2`; on a new database of `backend` (`None` when PostgreSQL tests are skipped).
async fn world(backend: Backend) -> Option<World> {
    let h = Harness::new(backend).await?;
    let (admin_user, created) = ensure_user(&h.state, "admin", "Quản trị", Role::Admin, PASSWORD)
        .await
        .unwrap();
    assert!(created);
    let admin = Actor {
        token: h.login("admin", PASSWORD).await.token,
        user: admin_user,
    };
    let supervisor = create_user(&h, &admin.token, "gsv", Role::Supervisor).await;
    let monitor = create_user(&h, &admin.token, "mttq", Role::Monitor).await;
    let ministry = create_user(&h, &admin.token, "bnv", Role::Ministry).await;
    let surveyor = create_user(&h, &admin.token, "dtv1", Role::Surveyor).await;
    let surveyor2 = create_user(&h, &admin.token, "dtv2", Role::Surveyor).await;

    h.post(
        "/api/v1/rounds",
        Some(&supervisor.token),
        json!({"id": ROUND, "name": "Hà Nội đợt 1", "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": "2026-11-01", "ends_on": "2026-12-15"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let csv = "ma_don_vi,thu_tuc,co_quan,ho_ten,dia_chi,dien_thoai\n\
               00004,Cấp căn cước,Công an phường,Nguyễn Văn A,Số 1 Hàng Bạc,0912345678\n\
               00004,Đăng ký khai sinh,UBND phường,Trần Thị B,Số 2 Hàng Bạc,\n\
               00007,Đăng ký kết hôn,UBND phường,Lê Văn C,Số 3 Hàng Đào,0987654321\n\
               00007,Cấp giấy phép xây dựng,UBND phường,Phạm Thị D,Số 4 Hàng Đào,\n";
    let import: Value = h
        .send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&supervisor.token),
            &[(header::CONTENT_TYPE, CSV)],
            csv,
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(import["imported"], 4);
    let ids: Vec<Uuid> = serde_json::from_value(import["assignment_ids"].clone()).unwrap();
    let (mine, theirs) = (ids[..3].to_vec(), ids[3..].to_vec());
    for (ids, who) in [(&mine, &surveyor), (&theirs, &surveyor2)] {
        let r: Value = h
            .post(
                &format!("/api/v1/rounds/{ROUND}/assign"),
                Some(&supervisor.token),
                json!({"assignment_ids": ids, "surveyor_id": who.user.id}),
            )
            .await
            .expect(StatusCode::OK)
            .value();
        assert_eq!(r["assigned"], ids.len());
    }
    Some(World {
        h,
        admin,
        supervisor,
        monitor,
        ministry,
        surveyor,
        surveyor2,
        mine,
        theirs,
    })
}

/// A complete, valid answer set for sipas-6-groups@2026.1 (B8 = "khong": G5 skipped).
fn valid_answers(rating: i64) -> Answers {
    let mut a: Answers = BTreeMap::new();
    a.insert("A2".into(), AnswerValue::Int(40));
    a.insert("B1".into(), AnswerValue::Text("Cấp căn cước".into()));
    a.insert("B8".into(), AnswerValue::Text("khong".into()));
    for (g, n) in [("G1", 5), ("G2", 4), ("G3", 5), ("G4", 4), ("G6", 1)] {
        for i in 1..=n {
            a.insert(format!("{g}_{i}"), AnswerValue::Int(rating));
        }
    }
    a
}

fn response_for(a: &Assignment, answers: Answers) -> Response {
    let t = Utc::now();
    Response {
        id: new_id(),
        revision: 1,
        form: a.form.clone(),
        assignment_id: Some(a.id),
        round_id: a.round_id.clone(),
        unit_code: a.unit_code.clone(),
        answers,
        started_at: t - chrono::Duration::minutes(12),
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

fn batch(records: Vec<UploadRecord>) -> Vec<u8> {
    serde_json::to_vec(&UploadBatch { records }).unwrap()
}

async fn upload(w: &World, token: &str, body: Vec<u8>) -> Reply {
    w.h.send(
        Method::POST,
        "/api/v1/responses/batch",
        Some(token),
        &[(header::CONTENT_TYPE, "application/json")],
        body,
    )
    .await
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Everything an endpoint could change, to compare before and after a refused request.
#[derive(Debug, PartialEq)]
struct Snapshot {
    audit: usize,
    responses: u64,
    rounds: usize,
    progress: BTreeMap<Uuid, Progress>,
    statuses: Vec<AssignmentStatus>,
}

async fn snapshot(w: &World) -> Snapshot {
    let mut statuses = Vec::new();
    for id in w.mine.iter().chain(&w.theirs) {
        statuses.push(w.assignment(*id).await.status);
    }
    Snapshot {
        audit: w.h.audit_count().await,
        responses: w.h.store.response_count().await.unwrap(),
        rounds: w.h.store.rounds().await.unwrap().len(),
        progress: w.h.store.progress(ROUND).await.unwrap(),
        statuses,
    }
}

// --- every test on both backends -------------------------------------------------------------

on_both_backends! {
    login_me_and_unauthenticated_calls: login_me_and_unauthenticated_calls_on_sqlite, login_me_and_unauthenticated_calls_on_postgres;
    repeated_failed_logins_are_throttled: repeated_failed_logins_are_throttled_on_sqlite, repeated_failed_logins_are_throttled_on_postgres;
    enrolment_code_works_once: enrolment_code_works_once_on_sqlite, enrolment_code_works_once_on_postgres;
    every_endpoint_refuses_every_other_role_and_changes_nothing: every_endpoint_refuses_every_other_role_and_changes_nothing_on_sqlite, every_endpoint_refuses_every_other_role_and_changes_nothing_on_postgres;
    surveyors_see_and_touch_only_their_own_assignments: surveyors_see_and_touch_only_their_own_assignments_on_sqlite, surveyors_see_and_touch_only_their_own_assignments_on_postgres;
    batch_accepts_deduplicates_conflicts_and_validates: batch_accepts_deduplicates_conflicts_and_validates_on_sqlite, batch_accepts_deduplicates_conflicts_and_validates_on_postgres;
    batch_request_problems_store_nothing: batch_request_problems_store_nothing_on_sqlite, batch_request_problems_store_nothing_on_postgres;
    csv_import_with_a_bad_row_imports_nothing: csv_import_with_a_bad_row_imports_nothing_on_sqlite, csv_import_with_a_bad_row_imports_nothing_on_postgres;
    xlsx_import: xlsx_import_on_sqlite, xlsx_import_on_postgres;
    review_decision_reaches_the_surveyor: review_decision_reaches_the_surveyor_on_sqlite, review_decision_reaches_the_surveyor_on_postgres;
    index_as_json_and_csv: index_as_json_and_csv_on_sqlite, index_as_json_and_csv_on_postgres;
    rounds_users_progress_and_audit: rounds_users_progress_and_audit_on_sqlite, rounds_users_progress_and_audit_on_postgres;
    unknown_paths_are_problems_too: unknown_paths_are_problems_too_on_sqlite, unknown_paths_are_problems_too_on_postgres;
}

// --- sessions --------------------------------------------------------------------------------

async fn login_me_and_unauthenticated_calls(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let me: UserInfo =
        w.h.get("/api/v1/me", Some(&w.supervisor.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert_eq!(me, w.supervisor.user);
    // usernames are case-insensitive
    assert_eq!(w.h.login("GSV", PASSWORD).await.user, w.supervisor.user);

    let r =
        w.h.post(
            "/api/v1/login",
            None,
            json!({"username": "gsv", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(r.problem(), "401.3");
    let r =
        w.h.post(
            "/api/v1/login",
            None,
            json!({"username": "nobody", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.problem(), "401.3");
    assert_eq!(w.h.get("/api/v1/me", None).await.problem(), "401.1");
    assert_eq!(
        w.h.get("/api/v1/me", Some("not-a-token")).await.problem(),
        "401.1"
    );
    // sessions expire
    w.h.clock.advance(chrono::Duration::hours(13));
    assert_eq!(
        w.h.get("/api/v1/me", Some(&w.supervisor.token))
            .await
            .problem(),
        "401.1"
    );
}

async fn repeated_failed_logins_are_throttled(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    for _ in 0..10 {
        let r =
            w.h.post(
                "/api/v1/login",
                None,
                json!({"username": "gsv", "password": "wrong-password"}),
            )
            .await;
        assert_eq!(r.problem(), "401.3");
    }
    let r =
        w.h.post(
            "/api/v1/login",
            None,
            json!({"username": "gsv", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.problem(), "429.1");
    w.h.clock.advance(chrono::Duration::minutes(16));
    w.h.login("gsv", PASSWORD).await;
}

async fn enrolment_code_works_once(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let code: Value =
        w.h.post(
            "/api/v1/enrolment-codes",
            Some(&w.supervisor.token),
            json!({"user_id": w.surveyor.user.id}),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let code = code["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 10);
    assert!(
        code.chars()
            .all(|c| "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c))
    );
    // typed in lower case with a dash: still accepted
    let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
    let enrolled: EnrolResponse =
        w.h.post(
            "/api/v1/enrol",
            None,
            json!({"code": typed, "device_name": "Máy tính bảng BĐ Hoàn Kiếm 3"}),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(enrolled.user, w.surveyor.user);
    let me: UserInfo =
        w.h.get("/api/v1/me", Some(&enrolled.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert_eq!(me.role, Role::Surveyor);
    // the device token works for sync
    w.h.get("/api/v1/pull", Some(&enrolled.token))
        .await
        .expect(StatusCode::OK);

    let again =
        w.h.post(
            "/api/v1/enrol",
            None,
            json!({"code": code, "device_name": "Máy khác"}),
        )
        .await;
    assert_eq!(again.problem(), "401.2");
    let unknown =
        w.h.post(
            "/api/v1/enrol",
            None,
            json!({"code": "ABCDEFGHJK", "device_name": "Máy khác"}),
        )
        .await;
    assert_eq!(unknown.problem(), "401.2");

    // an expired code does not work
    let code: Value =
        w.h.post(
            "/api/v1/enrolment-codes",
            Some(&w.admin.token),
            json!({"user_id": w.monitor.user.id, "valid_minutes": 5}),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    w.h.clock.advance(chrono::Duration::minutes(6));
    let late =
        w.h.post(
            "/api/v1/enrol",
            None,
            json!({"code": code["code"], "device_name": "Máy MTTQ"}),
        )
        .await;
    assert_eq!(late.problem(), "401.2");

    // codes are for surveyors' and monitors' devices only
    let r =
        w.h.post(
            "/api/v1/enrolment-codes",
            Some(&w.admin.token),
            json!({"user_id": w.supervisor.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
}

// --- role matrix -----------------------------------------------------------------------------

struct Endpoint {
    method: Method,
    path: String,
    content_type: &'static str,
    body: Vec<u8>,
    allowed: &'static [Role],
}

async fn every_endpoint_refuses_every_other_role_and_changes_nothing(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // A stored response to decide on.
    let a = w.assignment(w.mine[0]).await;
    let resp = response_for(&a, valid_answers(4));
    let acks: UploadResult = upload(&w, &w.surveyor.token, batch(vec![record(&resp)]))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(acks.acks[0].status, AckStatus::Accepted);
    let fresh = response_for(&w.assignment(w.mine[1]).await, valid_answers(5));

    let j = |v: Value| serde_json::to_vec(&v).unwrap();
    let json_ct = "application/json";
    let endpoints = vec![
        Endpoint {
            method: Method::POST,
            path: "/api/v1/users".into(),
            content_type: json_ct,
            body: j(
                json!({"username": "moi", "display_name": "Mới", "role": "surveyor", "password": PASSWORD}),
            ),
            allowed: &[Role::Admin],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/v1/enrolment-codes".into(),
            content_type: json_ct,
            body: j(json!({"user_id": w.surveyor.user.id})),
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/v1/rounds".into(),
            content_type: json_ct,
            body: j(
                json!({"id": "R-NEW", "name": "Mới", "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
                       "starts_on": "2026-11-01", "ends_on": "2026-12-15"}),
            ),
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/v1/rounds".into(),
            content_type: json_ct,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin, Role::Monitor, Role::Ministry],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/rounds/{ROUND}/sample"),
            content_type: CSV,
            body: "unit_code,procedure,name,address\n00004,P,Tên,Địa chỉ\n"
                .as_bytes()
                .to_vec(),
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/rounds/{ROUND}/assign"),
            content_type: json_ct,
            body: j(json!({"assignment_ids": [w.theirs[0]], "surveyor_id": w.surveyor.user.id})),
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/progress"),
            content_type: json_ct,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin],
        },
        Endpoint {
            method: Method::GET,
            path: format!("/api/v1/rounds/{ROUND}/index?format=csv"),
            content_type: json_ct,
            body: vec![],
            allowed: &[Role::Supervisor, Role::Admin, Role::Monitor, Role::Ministry],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/v1/pull?cursor=0".into(),
            content_type: json_ct,
            body: vec![],
            allowed: &[Role::Surveyor],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/assignments/{}/status", w.mine[2]),
            content_type: json_ct,
            body: j(json!({"status": "refused"})),
            allowed: &[Role::Surveyor],
        },
        Endpoint {
            method: Method::POST,
            path: "/api/v1/responses/batch".into(),
            content_type: json_ct,
            body: batch(vec![record(&fresh)]),
            allowed: &[Role::Surveyor],
        },
        Endpoint {
            method: Method::POST,
            path: format!("/api/v1/responses/{}/1/decision", resp.id),
            content_type: json_ct,
            body: j(json!({"decision": "approved"})),
            allowed: &[Role::Supervisor],
        },
        Endpoint {
            method: Method::GET,
            path: "/api/v1/audit".into(),
            content_type: json_ct,
            body: vec![],
            allowed: &[Role::Admin],
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
            let r =
                w.h.send(
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
        // and without a token: 401.1
        let r =
            w.h.send(
                e.method.clone(),
                &e.path,
                None,
                &[(header::CONTENT_TYPE, e.content_type)],
                e.body.clone(),
            )
            .await;
        assert_eq!(r.problem(), "401.1", "{} {}", e.method, e.path);
    }
    assert_eq!(refused, 41);

    // The role is checked before anything in the request is looked at.
    for (method, path, role) in [
        (
            Method::POST,
            "/api/v1/assignments/not-a-uuid/status",
            Role::Monitor,
        ),
        (Method::GET, "/api/v1/pull?cursor=abc", Role::Supervisor),
        (Method::GET, "/api/v1/audit?limit=-1", Role::Surveyor),
        (Method::POST, "/api/v1/responses/x/y/decision", Role::Admin),
        (
            Method::GET,
            "/api/v1/rounds/NOPE/index?format=pdf",
            Role::Surveyor,
        ),
    ] {
        let r =
            w.h.send(
                method.clone(),
                path,
                Some(&w.actor(role).token),
                &[(header::CONTENT_TYPE, "application/json")],
                "{not json",
            )
            .await;
        assert_eq!(r.problem(), "403.1", "{method} {path} as {role:?}");
    }

    // The same requests from an allowed role do change the store (so the refusal mattered).
    for e in &endpoints {
        let role = e.allowed[0];
        let r =
            w.h.send(
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
}

// --- surveyor scope --------------------------------------------------------------------------

async fn surveyors_see_and_touch_only_their_own_assignments(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let pull: PullResponse =
        w.h.get("/api/v1/pull?cursor=0", Some(&w.surveyor.token))
            .await
            .expect(StatusCode::OK)
            .json();
    let mut got: Vec<Uuid> = pull.assignments.iter().map(|a| a.id).collect();
    got.sort();
    let mut want = w.mine.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(pull.assignments.iter().all(|a| a.contact.is_some()));
    let first = pull.assignments.iter().find(|a| a.id == w.mine[0]).unwrap();
    assert_eq!(
        first.contact.as_ref().unwrap().phone.as_deref(),
        Some("0912345678")
    );

    let pull2: PullResponse =
        w.h.get("/api/v1/pull", Some(&w.surveyor2.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert_eq!(
        pull2.assignments.iter().map(|a| a.id).collect::<Vec<_>>(),
        w.theirs
    );

    // status of someone else's assignment: 403.2, nothing changed
    let before = snapshot(&w).await;
    let r =
        w.h.post(
            &format!("/api/v1/assignments/{}/status", w.theirs[0]),
            Some(&w.surveyor.token),
            json!({"status": "absent"}),
        )
        .await;
    assert_eq!(r.problem(), "403.2");
    assert_eq!(snapshot(&w).await, before);
    // unknown assignment: 404.1; bad id: 400.3
    let r =
        w.h.post(
            &format!("/api/v1/assignments/{}/status", Uuid::now_v7()),
            Some(&w.surveyor.token),
            json!({"status": "absent"}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    let r =
        w.h.post(
            "/api/v1/assignments/not-a-uuid/status",
            Some(&w.surveyor.token),
            json!({"status": "absent"}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");

    // own assignment: allowed, and shows up in the next pull
    let r: Value =
        w.h.post(
            &format!("/api/v1/assignments/{}/status", w.mine[0]),
            Some(&w.surveyor.token),
            json!({"status": "absent"}),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["status"], "absent");
    assert_eq!(
        w.assignment(w.mine[0]).await.status,
        AssignmentStatus::Absent
    );
    let next: PullResponse =
        w.h.get(
            &format!("/api/v1/pull?cursor={}", pull.cursor),
            Some(&w.surveyor.token),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(next.assignments.iter().any(|a| a.id == w.mine[0]));
    assert!(next.assignments.iter().all(|a| !w.theirs.contains(&a.id)));

    // a response for someone else's assignment is refused per record; nothing stored
    let other = response_for(&w.assignment(w.theirs[0]).await, valid_answers(4));
    let acks: UploadResult = upload(&w, &w.surveyor.token, batch(vec![record(&other)]))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(acks.acks[0].status, AckStatus::Invalid);
    assert_eq!(acks.acks[0].reason.as_deref(), Some("not your assignment"));
    assert_eq!(w.h.store.response_count().await.unwrap(), 0);
}

// --- uploads ---------------------------------------------------------------------------------

async fn batch_accepts_deduplicates_conflicts_and_validates(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let a0 = w.assignment(w.mine[0]).await;
    let a1 = w.assignment(w.mine[1]).await;
    let good = response_for(&a0, valid_answers(4));
    let mut under_age = valid_answers(4);
    under_age.insert("A2".into(), AnswerValue::Int(17));
    let young = response_for(&a1, under_age);

    let result: UploadResult = upload(
        &w,
        &w.surveyor.token,
        batch(vec![record(&good), record(&young)]),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(result.acks.len(), 2);
    assert_eq!(
        (result.acks[0].id, result.acks[0].status),
        (good.id, AckStatus::Accepted)
    );
    let invalid = &result.acks[1];
    assert_eq!((invalid.id, invalid.status), (young.id, AckStatus::Invalid));
    assert_eq!(invalid.issues.len(), 1, "{invalid:?}");
    assert_eq!(invalid.issues[0].item_code, "A2");
    assert_eq!(invalid.issues[0].kind, "out_of_range");
    assert!(!invalid.issues[0].message_vi.is_empty());
    assert_eq!(w.h.store.response_count().await.unwrap(), 1);
    assert_eq!(
        w.assignment(a0.id).await.status,
        AssignmentStatus::Collected
    );
    assert_eq!(
        w.assignment(a1.id).await.status,
        AssignmentStatus::NotVisited
    );

    // resend: duplicate, stored once
    let result: UploadResult = upload(&w, &w.surveyor.token, batch(vec![record(&good)]))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(result.acks[0].status, AckStatus::Duplicate);
    assert_eq!(w.h.store.response_count().await.unwrap(), 1);

    // same id and revision with other answers: conflict, nothing changed
    let mut changed = good.clone();
    changed.answers.insert("G1_1".into(), AnswerValue::Int(1));
    let result: UploadResult = upload(&w, &w.surveyor.token, batch(vec![record(&changed)]))
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(result.acks[0].status, AckStatus::Conflict);
    assert!(result.acks[0].reason.is_some());
    assert_eq!(w.h.store.response_count().await.unwrap(), 1);
    let (stored, by) = w.h.store.response(good.id, 1).await.unwrap().unwrap();
    assert_eq!(stored.answers, good.answers);
    assert_eq!(by, w.surveyor.user.id);

    // hash mismatch, unknown form version
    let mut tampered = record(&response_for(&a1, valid_answers(5)));
    tampered
        .response
        .answers
        .insert("G1_1".into(), AnswerValue::Int(1));
    let mut unknown_form = response_for(&a1, valid_answers(5));
    unknown_form.form.version = "1999.9".into();
    let result: UploadResult = upload(
        &w,
        &w.surveyor.token,
        batch(vec![tampered, record(&unknown_form)]),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    assert_eq!(result.acks[0].status, AckStatus::Invalid);
    assert_eq!(
        result.acks[0].reason.as_deref(),
        Some(
            "content hash mismatch: expected SHA-256 of the RFC 8785 canonical form, \
             see API.md \"Canonical form and content hash\""
        )
    );
    assert_eq!(result.acks[1].status, AckStatus::Invalid);
    assert!(
        result.acks[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("unknown form version sipas-6-groups@1999.9")
    );
    assert_eq!(w.h.store.response_count().await.unwrap(), 1);
}

async fn batch_request_problems_store_nothing(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let a0 = w.assignment(w.mine[0]).await;
    let good = response_for(&a0, valid_answers(4));
    let before = snapshot(&w).await;

    // malformed JSON: 400.1
    let r = upload(&w, &w.surveyor.token, b"{\"records\": [".to_vec()).await;
    assert_eq!(r.problem(), "400.1");
    let mut truncated = batch(vec![record(&good)]);
    truncated.truncate(truncated.len() - 3);
    let r = upload(&w, &w.surveyor.token, truncated).await;
    assert_eq!(r.problem(), "400.1");

    // body over the limit: 413.2 with a clear message
    let r = upload(&w, &w.surveyor.token, vec![b' '; MAX_BATCH_BYTES + 1]).await;
    assert_eq!(r.problem(), "413.2");
    assert!(r.value()["message"].as_str().unwrap().contains("limit"));

    // small gzip that inflates past the limit: 413.2 too
    let bomb = gzip(&vec![b' '; MAX_BATCH_BYTES + 1]);
    assert!(bomb.len() < MAX_BATCH_BYTES / 100);
    let r =
        w.h.send(
            Method::POST,
            "/api/v1/responses/batch",
            Some(&w.surveyor.token),
            &[
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            bomb,
        )
        .await;
    assert_eq!(r.problem(), "413.2");
    assert_eq!(r.value()["details"]["decompressed"], true);

    // unsupported encoding: 400.4
    let r =
        w.h.send(
            Method::POST,
            "/api/v1/responses/batch",
            Some(&w.surveyor.token),
            &[(header::CONTENT_ENCODING, "br")],
            batch(vec![record(&good)]),
        )
        .await;
    assert_eq!(r.problem(), "400.4");

    // too many records: 413.1
    let many = vec![record(&good); MAX_BATCH_RECORDS + 1];
    let r = upload(&w, &w.surveyor.token, batch(many)).await;
    assert_eq!(r.problem(), "413.1");

    assert_eq!(snapshot(&w).await, before);

    // a gzip body is accepted
    let r: UploadResult =
        w.h.send(
            Method::POST,
            "/api/v1/responses/batch",
            Some(&w.surveyor.token),
            &[
                (header::CONTENT_TYPE, "application/json"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            gzip(&batch(vec![record(&good)])),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(r.acks[0].status, AckStatus::Accepted);
    assert_eq!(w.h.store.response_count().await.unwrap(), 1);
}

// --- sample frame ----------------------------------------------------------------------------

async fn csv_import_with_a_bad_row_imports_nothing(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let before = snapshot(&w).await;
    let csv = "\u{feff}Mã đơn vị;Thủ tục;Họ tên;Địa chỉ;Điện thoại\n\
               00004;Cấp căn cước;Nguyễn Văn E;Số 5;0912345678\n\
               00004;Cấp căn cước;Nguyễn Văn F;Số 6;không có\n";
    let r =
        w.h.send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.supervisor.token),
            &[(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv,
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let v = r.value();
    assert_eq!(v["details"]["row"], 3);
    assert_eq!(v["details"]["column"], "phone");
    assert!(v["message"].as_str().unwrap().contains("Row 3"));
    assert!(v["message_vi"].as_str().unwrap().contains("Dòng 3"));
    assert_eq!(snapshot(&w).await, before);

    // a missing required column names the header row
    let r =
        w.h.send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.supervisor.token),
            &[(header::CONTENT_TYPE, CSV)],
            "unit_code,procedure,name\n00004,P,N\n",
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    assert_eq!(r.value()["details"]["column"], "address");

    // unknown round, wrong content type
    let r =
        w.h.send(
            Method::POST,
            "/api/v1/rounds/NOPE/sample",
            Some(&w.supervisor.token),
            &[(header::CONTENT_TYPE, CSV)],
            "unit_code,procedure,name,address\n00004,P,N,A\n",
        )
        .await;
    assert_eq!(r.problem(), "404.1");
    let r =
        w.h.send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.supervisor.token),
            &[(header::CONTENT_TYPE, "application/pdf")],
            "x",
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    assert_eq!(snapshot(&w).await, before);

    // the fixed file imports, NFC-normalised
    let good = csv.replace("không có", "0987 654 321").replace(
        "Nguyễn Văn E",
        "Nguye\u{0302}\u{0303}n Văn E", // decomposed
    );
    let r: Value =
        w.h.send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.supervisor.token),
            &[(header::CONTENT_TYPE, CSV)],
            good,
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(r["imported"], 2);
    let id: Uuid = serde_json::from_value(r["assignment_ids"][0].clone()).unwrap();
    w.h.post(
        &format!("/api/v1/rounds/{ROUND}/assign"),
        Some(&w.supervisor.token),
        json!({"assignment_ids": [id], "surveyor_id": w.surveyor.user.id}),
    )
    .await
    .expect(StatusCode::OK);
    let pull: PullResponse =
        w.h.get("/api/v1/pull", Some(&w.surveyor.token))
            .await
            .expect(StatusCode::OK)
            .json();
    let a = pull.assignments.iter().find(|a| a.id == id).unwrap();
    assert_eq!(a.contact.as_ref().unwrap().name, "Nguyễn Văn E");
    assert_eq!(a.procedure, "Cấp căn cước");
}

async fn xlsx_import(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let header = [
        "ma_don_vi",
        "thu_tuc",
        "co_quan",
        "ho_ten",
        "dia_chi",
        "dien_thoai",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    let rows = [
        ["00010", "Cấp căn cước", "Công an", "Hoàng Văn G", "Số 7"],
        ["00013", "Đăng ký hộ tịch", "UBND", "Vũ Thị H", "Số 8"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    ws.write_number(1, 5, 912_345_678.0).unwrap(); // a phone typed as a number
    let bytes = wb.save_to_buffer().unwrap();

    let r: Value =
        w.h.send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.admin.token),
            &[(header::CONTENT_TYPE, XLSX)],
            bytes,
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(r["imported"], 2);
    let ids: Vec<Uuid> = serde_json::from_value(r["assignment_ids"].clone()).unwrap();
    let a = w.assignment(ids[1]).await;
    assert_eq!(
        (a.unit_code.as_str(), a.procedure.as_str()),
        ("00013", "Đăng ký hộ tịch")
    );

    // a bad cell in the workbook: row and column named, nothing imported
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["00010", "P", "A", "N", "Đ", "0912345678"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    for (c, v) in ["00010", "P", "A", "", "Đ"].iter().enumerate() {
        ws.write_string(2, c as u16, *v).unwrap();
    }
    let before = snapshot(&w).await;
    let r =
        w.h.send(
            Method::POST,
            &format!("/api/v1/rounds/{ROUND}/sample"),
            Some(&w.admin.token),
            &[(header::CONTENT_TYPE, XLSX)],
            wb.save_to_buffer().unwrap(),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    assert_eq!(r.value()["details"]["row"], 3);
    assert_eq!(r.value()["details"]["column"], "name");
    assert_eq!(snapshot(&w).await, before);
}

// --- review and index ------------------------------------------------------------------------

async fn review_decision_reaches_the_surveyor(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let resp = response_for(&w.assignment(w.mine[0]).await, valid_answers(4));
    upload(&w, &w.surveyor.token, batch(vec![record(&resp)]))
        .await
        .expect(StatusCode::OK);
    let pull: PullResponse =
        w.h.get("/api/v1/pull", Some(&w.surveyor.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert!(pull.decisions.is_empty());

    let path = format!("/api/v1/responses/{}/1/decision", resp.id);
    // rejecting needs a reason
    let r =
        w.h.post(
            &path,
            Some(&w.supervisor.token),
            json!({"decision": "rejected"}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    // item comments must name questions of the form
    let r =
        w.h.post(
            &path,
            Some(&w.supervisor.token),
            json!({"decision": "rejected", "item_comments": {"ZZ9": "?"}}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    // unknown response
    let r =
        w.h.post(
            &format!("/api/v1/responses/{}/1/decision", Uuid::now_v7()),
            Some(&w.supervisor.token),
            json!({"decision": "approved"}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");

    w.h.post(
        &path,
        Some(&w.supervisor.token),
        json!({"decision": "rejected", "comment": "Kiểm tra lại tuổi",
               "item_comments": {"A2": "Tuổi không khớp"}}),
    )
    .await
    .expect(StatusCode::CREATED);
    let next: PullResponse =
        w.h.get(
            &format!("/api/v1/pull?cursor={}", pull.cursor),
            Some(&w.surveyor.token),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(next.decisions.len(), 1);
    let d = &next.decisions[0];
    assert_eq!((d.response_id, d.revision), (resp.id, 1));
    assert_eq!(d.item_comments["A2"], "Tuổi không khớp");
    // the other surveyor does not see it
    let other: PullResponse =
        w.h.get("/api/v1/pull", Some(&w.surveyor2.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert!(other.decisions.is_empty());
}

async fn index_as_json_and_csv(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // Unit 00004: two respondents, all 4 and all 5; unit 00007: one respondent, all 2.
    let records = vec![
        record(&response_for(
            &w.assignment(w.mine[0]).await,
            valid_answers(4),
        )),
        record(&response_for(
            &w.assignment(w.mine[1]).await,
            valid_answers(5),
        )),
        record(&response_for(
            &w.assignment(w.mine[2]).await,
            valid_answers(2),
        )),
    ];
    let acks: UploadResult = upload(&w, &w.surveyor.token, batch(records))
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(acks.acks.iter().all(|a| a.status == AckStatus::Accepted));

    let v =
        w.h.get(
            &format!("/api/v1/rounds/{ROUND}/index?aggregation=pooled"),
            Some(&w.monitor.token),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(v["config"]["aggregation"], "pooled");
    let total = &v["round_totals"][0];
    assert_eq!(total["respondents"], 3);
    let pct = total["overall"]["pct_satisfied"].as_f64().unwrap();
    assert!((pct - 200.0 / 3.0).abs() < 1e-9, "{pct}");
    let cells = v["cells"].as_array().unwrap();
    let unit4 = cells.iter().find(|c| c["unit_code"] == "00004").unwrap();
    assert_eq!(unit4["respondents"], 2);
    assert_eq!(unit4["overall"]["pct_satisfied"], 100.0);

    let r =
        w.h.get(
            &format!("/api/v1/rounds/{ROUND}/index?format=csv"),
            Some(&w.supervisor.token),
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(r.body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&r.body[3..]).unwrap();
    let mut lines = text.lines();
    let header_line = lines.next().unwrap();
    assert!(header_line.starts_with("Đợt khảo sát,Mã đơn vị,"));
    assert!(header_line.contains("Tỷ lệ hài lòng (%)"));
    let overall_all = lines.next().unwrap();
    assert!(
        overall_all.starts_with(&format!("{ROUND},Tất cả đơn vị,Chỉ số chung,SIPAS,")),
        "{overall_all}"
    );
    assert!(overall_all.ends_with(",66.67,3.67"), "{overall_all}");
    assert!(text.contains(",00007,Tiêu chí,G1_1,"));

    // bad query values and unknown rounds are problems
    let r =
        w.h.get(
            &format!("/api/v1/rounds/{ROUND}/index?format=pdf"),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let r =
        w.h.get(
            &format!("/api/v1/rounds/{ROUND}/index?aggregation=median"),
            Some(&w.admin.token),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let r =
        w.h.get("/api/v1/rounds/NOPE/index", Some(&w.admin.token))
            .await;
    assert_eq!(r.problem(), "404.1");
}

// --- administration --------------------------------------------------------------------------

async fn rounds_users_progress_and_audit(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // duplicate username and round id: 409.1; unknown form: 400.2; bad dates: 400.3
    let r = w
        .h
        .post(
            "/api/v1/users",
            Some(&w.admin.token),
            json!({"username": "GSV", "display_name": "X", "role": "supervisor", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.problem(), "409.1");
    let r =
        w.h.post(
            "/api/v1/users",
            Some(&w.admin.token),
            json!({"username": "sup2", "display_name": "X", "role": "supervisor"}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let round = |id: &str, version: &str, ends: &str| {
        json!({"id": id, "name": "Đợt", "form": {"form_id": "sipas-6-groups", "version": version},
               "starts_on": "2026-11-01", "ends_on": ends})
    };
    let r =
        w.h.post(
            "/api/v1/rounds",
            Some(&w.supervisor.token),
            round(ROUND, "2026.1", "2026-12-01"),
        )
        .await;
    assert_eq!(r.problem(), "409.1");
    let r =
        w.h.post(
            "/api/v1/rounds",
            Some(&w.supervisor.token),
            round("R2", "0.0", "2026-12-01"),
        )
        .await;
    assert_eq!(r.problem(), "400.2");
    let r =
        w.h.post(
            "/api/v1/rounds",
            Some(&w.supervisor.token),
            round("R2", "2026.1", "2026-10-01"),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let r =
        w.h.post(
            "/api/v1/rounds",
            Some(&w.supervisor.token),
            json!({"id": 1}),
        )
        .await;
    assert_eq!(r.problem(), "400.1");

    let rounds: Vec<Value> =
        w.h.get("/api/v1/rounds", Some(&w.monitor.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert_eq!(rounds.len(), 1);
    assert_eq!(rounds[0]["id"], ROUND);

    // assigning to a non-surveyor or across rounds is refused
    let r =
        w.h.post(
            &format!("/api/v1/rounds/{ROUND}/assign"),
            Some(&w.supervisor.token),
            json!({"assignment_ids": [w.mine[0]], "surveyor_id": w.monitor.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "400.3");
    let r =
        w.h.post(
            &format!("/api/v1/rounds/{ROUND}/assign"),
            Some(&w.supervisor.token),
            json!({"assignment_ids": [Uuid::now_v7()], "surveyor_id": w.surveyor.user.id}),
        )
        .await;
    assert_eq!(r.problem(), "404.1");

    let resp = response_for(&w.assignment(w.mine[0]).await, valid_answers(4));
    upload(&w, &w.surveyor.token, batch(vec![record(&resp)]))
        .await
        .expect(StatusCode::OK);
    let p: Value =
        w.h.get(
            &format!("/api/v1/rounds/{ROUND}/progress"),
            Some(&w.supervisor.token),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(p["total"]["assigned"], 4);
    assert_eq!(p["total"]["collected"], 1);
    // Issue 10: rows (key = surveyor id, name = display name, code = username).
    let mine = p["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == json!(w.surveyor.user.id))
        .unwrap();
    assert_eq!(mine["code"], "dtv1");
    assert_eq!(mine["name"], "Người dùng dtv1");
    assert_eq!(mine["assigned"], 3);

    let audit: Vec<Value> =
        w.h.get("/api/v1/audit?since=0&limit=1000", Some(&w.admin.token))
            .await
            .expect(StatusCode::OK)
            .json();
    let actions: Vec<&str> = audit.iter().filter_map(|e| e["action"].as_str()).collect();
    for expected in [
        "session.login",
        "round.created",
        "sample.imported",
        "response.accepted",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    // paging
    let page: Vec<Value> =
        w.h.get("/api/v1/audit?limit=2", Some(&w.admin.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert_eq!(page.len(), 2);
    let last = page[1]["seq"].as_i64().unwrap();
    let rest: Vec<Value> =
        w.h.get(&format!("/api/v1/audit?since={last}"), Some(&w.admin.token))
            .await
            .expect(StatusCode::OK)
            .json();
    assert_eq!(rest.len(), audit.len() - 2);
}

async fn unknown_paths_are_problems_too(backend: Backend) {
    let Some(h) = Harness::new(backend).await else {
        return;
    };
    let r = h.get("/api/v1/nothing-here", None).await;
    assert_eq!(r.problem(), "404.1");
    let r = h.get("/api/v1", None).await;
    assert_eq!(r.problem(), "404.1");
    let r = h.get("/no-such-page", None).await;
    assert_eq!(r.problem(), "404.1");
}
