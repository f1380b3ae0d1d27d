//! HTTP tests of self-completion (issue 15) on both backends: personal links (supervisor only,
//! answered once through the ingest rules, resend idempotent, reuse refused in plain words,
//! unknown codes), open links (device token, screening, per-device and per-address limits,
//! `mode = self_open`), and the modes in results, index and report with the official figure
//! over the round's official modes (configurable per round).
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::response::{Paradata, Response, new_id};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{Assignment, LoginResponse, UploadBatch, UploadRecord, UserInfo};
use sipas_server::app::{AppState, router};
use sipas_server::demo::{demo_agencies, ensure_user};
use sipas_server::forms::FormRegistry;
use sipas_server::self_completion::OpenLimits;
use sipas_server::storage::catalogue::CatalogueImport;
use sipas_server::storage::{ServerStore, open_store};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const ROUND: &str = "2026-HN-1";
const PASSWORD: &str = "mat-khau-an-toan";
const JSON_CT: &str = "application/json";
const AGENCY: &str = "HN-MC-BADINH";

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
    surveyor: Actor,
    /// Assignments of `surveyor` (6).
    mine: Vec<Uuid>,
    /// One sampled assignment nobody holds.
    unassigned: Uuid,
}

impl World {
    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let (headers, body): (Vec<(header::HeaderName, &str)>, Body) = match body {
            Some(v) => (
                vec![(header::CONTENT_TYPE, JSON_CT)],
                serde_json::to_vec(&v).unwrap().into(),
            ),
            None => (Vec::new(), Body::empty()),
        };
        reply::send(&self.app, method, uri, token, &headers, body).await
    }

    async fn get(&self, uri: &str, who: &Actor) -> Reply {
        self.send(Method::GET, uri, Some(&who.token), None).await
    }

    async fn post(&self, uri: &str, who: &Actor, body: Value) -> Reply {
        self.send(Method::POST, uri, Some(&who.token), Some(body))
            .await
    }

    async fn public(&self, method: Method, uri: &str, body: Option<Value>) -> Reply {
        self.send(method, uri, None, body).await
    }

    async fn assignment(&self, id: Uuid) -> Assignment {
        self.store.assignment(id).await.unwrap().unwrap().0
    }
}

async fn create_user(w: &World, username: &str, role: Role) -> Actor {
    let user: UserInfo = w
        .post(
            "/api/v1/users",
            &w.admin,
            json!({"username": username, "display_name": format!("Người dùng {username}"),
                   "role": role, "password": PASSWORD}),
        )
        .await
        .expect(StatusCode::CREATED)
        .json();
    let login: LoginResponse = w
        .send(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"username": username, "password": PASSWORD})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    Actor {
        user,
        token: login.token,
    }
}

async fn world(backend: Backend, limits: OpenLimits) -> Option<World> {
    let db = EmptyDatabase::create(backend)?;
    let store = open_store(&db.target()).await.unwrap();
    let mut state = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    state.min_n_floor = 1;
    state.open_limits = limits;
    sipas_server::catalogue::seed_if_empty(store.as_ref())
        .await
        .unwrap();
    store
        .import_catalogues(&[CatalogueImport::Agencies(demo_agencies())], None)
        .await
        .unwrap();
    let (admin_user, _) = ensure_user(&state, "admin", "Quản trị", Role::Admin, PASSWORD)
        .await
        .unwrap();
    let mut w = World {
        app: router(state),
        store,
        _db: db,
        admin: Actor {
            user: admin_user.clone(),
            token: String::new(),
        },
        supervisor: Actor {
            user: admin_user.clone(),
            token: String::new(),
        },
        monitor: Actor {
            user: admin_user.clone(),
            token: String::new(),
        },
        surveyor: Actor {
            user: admin_user,
            token: String::new(),
        },
        mine: Vec::new(),
        unassigned: Uuid::nil(),
    };
    let login: LoginResponse = w
        .send(
            Method::POST,
            "/api/v1/login",
            None,
            Some(json!({"username": "admin", "password": PASSWORD})),
        )
        .await
        .expect(StatusCode::OK)
        .json();
    w.admin.token = login.token;
    w.supervisor = create_user(&w, "gsv", Role::Supervisor).await;
    w.monitor = create_user(&w, "mttq", Role::Monitor).await;
    w.surveyor = create_user(&w, "dtv1", Role::Surveyor).await;
    w.post(
        "/api/v1/rounds",
        &w.supervisor,
        json!({"id": ROUND, "name": "Hà Nội đợt 1",
               "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": round_starts_on().to_string(),
               "ends_on": (Utc::now().date_naive() + Duration::days(60)).to_string()}),
    )
    .await
    .expect(StatusCode::CREATED);
    let mut csv = String::from("ma_don_vi,thu_tuc,co_quan,ho_ten,dia_chi,dien_thoai\n");
    for i in 0..7 {
        csv.push_str(&format!(
            "95001,Cấp căn cước,Công an phường,Người mẫu {i},Số {i} Hàng Bạc,09123456{i:02}\n"
        ));
    }
    let import: Value = reply::send(
        &w.app,
        Method::POST,
        &format!("/api/v1/rounds/{ROUND}/sample"),
        Some(&w.supervisor.token),
        &[(header::CONTENT_TYPE, "text/csv")],
        Body::from(csv),
    )
    .await
    .expect(StatusCode::CREATED)
    .value();
    let ids: Vec<Uuid> = serde_json::from_value(import["assignment_ids"].clone()).unwrap();
    w.mine = ids[..6].to_vec();
    w.unassigned = ids[6];
    w.post(
        &format!("/api/v1/rounds/{ROUND}/assign"),
        &w.supervisor,
        json!({"assignment_ids": w.mine, "surveyor_id": w.surveyor.user.id}),
    )
    .await
    .expect(StatusCode::OK);
    Some(w)
}

/// The round runs from a month ago to two months ahead of today (the answers' dates are
/// today's), so the tests hold whatever day they run.
fn round_starts_on() -> chrono::NaiveDate {
    Utc::now().date_naive() - Duration::days(31)
}

/// A complete, valid answer set for sipas-6-groups@2026.1 with every rating `r` (B8 =
/// "khong": G5 skipped).
fn answers(r: i64) -> Answers {
    let mut a: Answers = BTreeMap::new();
    a.insert("A1".into(), AnswerValue::Text("nu".into()));
    a.insert("A2".into(), AnswerValue::Int(40));
    a.insert("B1".into(), AnswerValue::Text("Cấp căn cước".into()));
    a.insert("B8".into(), AnswerValue::Text("khong".into()));
    for (g, n) in [("G1", 5), ("G2", 4), ("G3", 5), ("G4", 4), ("G6", 1)] {
        for i in 1..=n {
            a.insert(format!("{g}_{i}"), AnswerValue::Int(r));
        }
    }
    a
}

fn page_answer(id: Uuid, rating: i64) -> Value {
    let t = Utc::now();
    json!({
        "id": id,
        "started_at": (t - Duration::minutes(9)).to_rfc3339(),
        "completed_at": t.to_rfc3339(),
        "answers": answers(rating),
    })
}

fn open_answer(id: Uuid, device: &str, rating: i64) -> Value {
    let mut v = page_answer(id, rating);
    v["device_token"] = json!(device);
    v["screening"] = json!({"procedure_code": "ho_tich.khai_sinh",
                            "visit_date": Utc::now().date_naive().to_string()});
    v
}

async fn create_links(w: &World, ids: &[Uuid]) -> Vec<Value> {
    let v = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/self-links"),
            &w.supervisor,
            json!({ "assignment_ids": ids }),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    v["links"].as_array().unwrap().clone()
}

async fn upload_capi(w: &World, ids: &[Uuid], rating: i64) {
    let mut records = Vec::new();
    for id in ids {
        let a = w.assignment(*id).await;
        let t = Utc::now();
        let r = Response {
            id: new_id(),
            revision: 1,
            form: a.form.clone(),
            assignment_id: Some(a.id),
            round_id: a.round_id.clone(),
            unit_code: a.unit_code.clone(),
            answers: answers(rating),
            started_at: t - Duration::minutes(12),
            completed_at: t,
            paradata: Paradata::default(),
            origin: Default::default(),
        };
        records.push(UploadRecord {
            content_hash: r.content_hash(),
            response: r,
        });
    }
    let v = reply::send(
        &w.app,
        Method::POST,
        "/api/v1/responses/batch",
        Some(&w.surveyor.token),
        &[(header::CONTENT_TYPE, JSON_CT)],
        Body::from(serde_json::to_vec(&UploadBatch { records }).unwrap()),
    )
    .await
    .expect(StatusCode::OK)
    .value();
    assert!(
        v["acks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "accepted"),
        "{v}"
    );
}

async fn open_link(w: &World) -> String {
    let v = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/open-links"),
            &w.supervisor,
            json!({ "agency_code": AGENCY }),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(v["status"], "active");
    v["token"].as_str().unwrap().to_owned()
}

async fn device(w: &World, token: &str) -> String {
    w.public(Method::POST, &format!("/o/{token}/device"), None)
        .await
        .expect(StatusCode::CREATED)
        .value()["device_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

// --- tests ---------------------------------------------------------------------------------------

async fn links_are_made_by_supervisors_only(backend: Backend) {
    let Some(w) = world(backend, OpenLimits::default()).await else {
        return;
    };
    let uri = format!("/api/v1/rounds/{ROUND}/self-links");
    for who in [&w.surveyor, &w.monitor] {
        let r = w
            .post(&uri, who, json!({ "assignment_ids": [w.mine[0]] }))
            .await
            .expect(StatusCode::FORBIDDEN);
        assert_eq!(r.problem(), "403.1");
        w.get(&uri, who).await.expect(StatusCode::FORBIDDEN);
        let r = w
            .post(
                &format!("/api/v1/rounds/{ROUND}/open-links"),
                who,
                json!({ "agency_code": AGENCY }),
            )
            .await
            .expect(StatusCode::FORBIDDEN);
        assert_eq!(r.problem(), "403.1");
    }
    // Unknown assignment, empty list, unknown round, unknown agency.
    let r = w
        .post(
            &uri,
            &w.supervisor,
            json!({ "assignment_ids": [Uuid::nil()] }),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    w.post(&uri, &w.supervisor, json!({ "assignment_ids": [] }))
        .await
        .expect(StatusCode::BAD_REQUEST);
    w.post(
        "/api/v1/rounds/NO-SUCH/self-links",
        &w.supervisor,
        json!({ "assignment_ids": [w.mine[0]] }),
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    w.post(
        &format!("/api/v1/rounds/{ROUND}/open-links"),
        &w.supervisor,
        json!({ "agency_code": "NO-SUCH" }),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    // A link per assignment; asked again, the assignment keeps its link.
    let links = create_links(&w, &[w.mine[0], w.unassigned]).await;
    assert_eq!(links.len(), 2);
    let code = links[0]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 10);
    assert!(code.bytes().all(|b| !b"01OIL".contains(&b)));
    assert_eq!(links[0]["status"], "waiting");
    assert!(links[0]["sms_text"].as_str().unwrap().contains(&code));
    let again = create_links(&w, &[w.mine[0]]).await;
    assert_eq!(again[0]["code"], code.as_str());
    let listed = w
        .get(&uri, &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(listed["links"].as_array().unwrap().len(), 2);
    // No contact anywhere in what the supervisor's link list or the public page gets.
    let form = w
        .public(Method::GET, &format!("/s/{code}/form"), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(form.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        form.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let text = String::from_utf8_lossy(&form.body).to_string() + &listed.to_string();
    for secret in ["Người mẫu", "Hàng Bạc", "0912345600"] {
        assert!(!text.contains(secret), "contact leaked: {secret}");
    }
    let v = form.value();
    assert_eq!(v["kind"], "personal");
    assert_eq!(v["answered"], false);
    assert_eq!(v["form"]["form_id"], "sipas-6-groups");
    // The page itself: strict CSP, no inline script.
    let page = w
        .public(Method::GET, &format!("/s/{code}"), None)
        .await
        .expect(StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("/ui/form-runner.js") && !html.contains("<script>"));
    // Revoked: the page says so.
    w.send(
        Method::POST,
        &format!(
            "/api/v1/self-links/{}/revoke",
            links[1]["code"].as_str().unwrap()
        ),
        Some(&w.surveyor.token),
        None,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    w.send(
        Method::POST,
        &format!(
            "/api/v1/self-links/{}/revoke",
            links[1]["code"].as_str().unwrap()
        ),
        Some(&w.supervisor.token),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    let r = w
        .public(
            Method::GET,
            &format!("/s/{}/form", links[1]["code"].as_str().unwrap()),
            None,
        )
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        r.value()["message_vi"]
            .as_str()
            .unwrap()
            .contains("không còn sử dụng")
    );
}

async fn a_personal_link_is_answered_once(backend: Backend) {
    let Some(w) = world(backend, OpenLimits::default()).await else {
        return;
    };
    let links = create_links(&w, &[w.mine[0], w.unassigned]).await;
    let code = links[0]["code"].as_str().unwrap().to_owned();
    let uri = format!("/s/{code}/response");
    let id = new_id();
    let body = page_answer(id, 5);
    let first = w
        .public(Method::POST, &uri, Some(body.clone()))
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(first["status"], "accepted");
    assert_eq!(first["response_id"], id.to_string());
    // The same answer again (the ack was lost): the same receipt.
    let again = w
        .public(Method::POST, &uri, Some(body.clone()))
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["receipt"], first["receipt"]);
    // Code typed in lower case works the same.
    w.public(
        Method::POST,
        &format!("/s/{}/response", code.to_lowercase()),
        Some(body),
    )
    .await
    .expect(StatusCode::OK);
    // Another answer through the used link: refused in plain words.
    let r = w
        .public(Method::POST, &uri, Some(page_answer(new_id(), 3)))
        .await
        .expect(StatusCode::CONFLICT);
    assert_eq!(r.problem(), "409.1");
    let v = r.value();
    assert_eq!(v["details"]["reason_code"], "link_used");
    assert!(
        v["message_vi"]
            .as_str()
            .unwrap()
            .contains("chỉ dùng được một lần")
    );
    // The same id with other answers: refused (content differs), nothing replaced.
    let r = w
        .public(Method::POST, &uri, Some(page_answer(id, 2)))
        .await
        .expect(StatusCode::CONFLICT);
    assert!(
        r.value()["message_vi"]
            .as_str()
            .unwrap()
            .contains("đã được trả lời")
    );
    // The assignment is done for the surveyor; the link list says answered; mode recorded.
    let a = w.assignment(w.mine[0]).await;
    assert_eq!(a.status, sipas_protocol::wire::AssignmentStatus::Collected);
    let listed = w
        .get(&format!("/api/v1/rounds/{ROUND}/self-links"), &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    let l = listed["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["code"] == code.as_str())
        .unwrap()
        .clone();
    assert_eq!(l["status"], "answered");
    let modes = w.store.response_modes(ROUND).await.unwrap();
    assert_eq!(
        modes.get(&id),
        Some(&sipas_core::mode::ResponseMode::SelfPersonal)
    );
    let form = w
        .public(Method::GET, &format!("/s/{code}/form"), None)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(form["answered"], true);
    // A surveyor's later interview of the same assignment is refused as already answered.
    let r = reply::send(
        &w.app,
        Method::POST,
        "/api/v1/responses/batch",
        Some(&w.surveyor.token),
        &[(header::CONTENT_TYPE, JSON_CT)],
        Body::from(
            serde_json::to_vec(&json!({"records": [{
                "response": {
                    "id": new_id(), "revision": 1,
                    "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
                    "assignment_id": w.mine[0], "round_id": ROUND, "unit_code": "95001",
                    "answers": answers(4),
                    "started_at": (Utc::now() - Duration::minutes(10)).to_rfc3339(),
                    "completed_at": Utc::now().to_rfc3339(),
                },
                "content_hash": "0"
            }]}))
            .unwrap(),
        ),
    )
    .await
    .expect(StatusCode::OK)
    .value();
    assert_ne!(r["acks"][0]["status"], "accepted");
    // The unassigned assignment's link works too (no surveyor holds it).
    let code2 = links[1]["code"].as_str().unwrap();
    let v = w
        .public(
            Method::POST,
            &format!("/s/{code2}/response"),
            Some(page_answer(new_id(), 4)),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(v["status"], "accepted");
    // Wrong or unknown codes: a plain message, nothing else.
    for bad in ["ABCDEFGHJK", "0000", "x"] {
        let r = w
            .public(Method::GET, &format!("/s/{bad}/form"), None)
            .await
            .expect(StatusCode::NOT_FOUND);
        assert!(
            r.value()["message_vi"]
                .as_str()
                .unwrap()
                .contains("không hợp lệ")
        );
        w.public(
            Method::POST,
            &format!("/s/{bad}/response"),
            Some(page_answer(new_id(), 4)),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
    }
    // A malformed body: a plain message.
    let r = w
        .public(Method::POST, &uri, Some(json!({"id": "nope"})))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert!(r.value()["message_vi"].as_str().is_some());
}

async fn open_links_limit_devices_and_addresses(backend: Backend) {
    let limits = OpenLimits {
        per_device: 2,
        per_address: 3,
        ..OpenLimits::default()
    };
    let Some(w) = world(backend, limits).await else {
        return;
    };
    let token = open_link(&w).await;
    let form = w
        .public(Method::GET, &format!("/o/{token}/form"), None)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(form["kind"], "open");
    assert_eq!(form["agency"]["value"], AGENCY);
    assert!(
        !form["catalogues"]["procedures"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let uri = format!("/o/{token}/response");
    // No or unknown device token: refused.
    let mut no_device = open_answer(new_id(), "made-up", 4);
    w.public(Method::POST, &uri, Some(no_device.clone()))
        .await
        .expect(StatusCode::BAD_REQUEST);
    no_device["device_token"] = Value::Null;
    w.public(Method::POST, &uri, Some(no_device))
        .await
        .expect(StatusCode::BAD_REQUEST);
    let d1 = device(&w, &token).await;
    // Screening: a visit in the future, an unknown procedure, none at all.
    let mut future = open_answer(new_id(), &d1, 4);
    future["screening"]["visit_date"] =
        json!((Utc::now().date_naive() + Duration::days(2)).to_string());
    let r = w
        .public(Method::POST, &uri, Some(future))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert!(
        r.value()["message_vi"]
            .as_str()
            .unwrap()
            .contains("tương lai")
    );
    let mut unknown = open_answer(new_id(), &d1, 4);
    unknown["screening"]["procedure_code"] = json!("no.such");
    w.public(Method::POST, &uri, Some(unknown))
        .await
        .expect(StatusCode::BAD_REQUEST);
    let mut none = open_answer(new_id(), &d1, 4);
    none["screening"] = Value::Null;
    w.public(Method::POST, &uri, Some(none))
        .await
        .expect(StatusCode::BAD_REQUEST);
    // Two answers from one device, a resend counted once, then the device limit.
    let first = open_answer(new_id(), &d1, 4);
    let a = w
        .public(Method::POST, &uri, Some(first.clone()))
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(a["status"], "accepted");
    let b = w
        .public(Method::POST, &uri, Some(first))
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(b["status"], "duplicate");
    w.public(Method::POST, &uri, Some(open_answer(new_id(), &d1, 4)))
        .await
        .expect(StatusCode::OK);
    let r = w
        .public(Method::POST, &uri, Some(open_answer(new_id(), &d1, 4)))
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.problem(), "429.1");
    assert_eq!(r.value()["details"]["reason_code"], "open_limit");
    // Another device from the same address: one more, then the address limit (3).
    let d2 = device(&w, &token).await;
    w.public(Method::POST, &uri, Some(open_answer(new_id(), &d2, 4)))
        .await
        .expect(StatusCode::OK);
    w.public(Method::POST, &uri, Some(open_answer(new_id(), &d2, 4)))
        .await
        .expect(StatusCode::TOO_MANY_REQUESTS);
    // The answers are stored as self_open with no assignment.
    let modes = w.store.response_modes(ROUND).await.unwrap();
    assert_eq!(
        modes
            .values()
            .filter(|m| **m == sipas_core::mode::ResponseMode::SelfOpen)
            .count(),
        3
    );
    // A revoked link: the page and the endpoints say so; wrong roles cannot revoke.
    w.send(
        Method::POST,
        &format!("/api/v1/open-links/{token}/revoke"),
        Some(&w.monitor.token),
        None,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    w.send(
        Method::POST,
        &format!("/api/v1/open-links/{token}/revoke"),
        Some(&w.supervisor.token),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    w.public(Method::GET, &format!("/o/{token}/form"), None)
        .await
        .expect(StatusCode::CONFLICT);
    w.public(Method::POST, &format!("/o/{token}/device"), None)
        .await
        .expect(StatusCode::CONFLICT);
    w.public(Method::GET, "/o/NOSUCHTOKEN/form", None)
        .await
        .expect(StatusCode::NOT_FOUND);
}

/// A self-completed answer refused for its clock (the phone's date far before the round)
/// waits in quarantine with its mode; accepted by a supervisor it is stored and counted as
/// self-completed, not as an interviewer's.
async fn a_quarantined_self_answer_keeps_its_mode(backend: Backend) {
    let Some(w) = world(backend, OpenLimits::default()).await else {
        return;
    };
    let links = create_links(&w, &[w.mine[0]]).await;
    let uri = format!("/s/{}/response", links[0]["code"].as_str().unwrap());
    let mut body = page_answer(new_id(), 5);
    let long_ago = round_starts_on().and_hms_opt(9, 0, 0).unwrap().and_utc() - Duration::days(40);
    body["started_at"] = json!((long_ago - Duration::minutes(9)).to_rfc3339());
    body["completed_at"] = json!(long_ago.to_rfc3339());
    let r = w
        .public(Method::POST, &uri, Some(body))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    assert_eq!(r.value()["details"]["reason_code"], "clock");
    let entries = w
        .get(
            &format!("/api/v1/quarantine?round_id={ROUND}"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["mode"], "self_personal");
    assert_eq!(entries[0]["reason_code"], "clock");
    let id = entries[0]["id"].as_str().unwrap();
    let accepted = w
        .post(
            &format!("/api/v1/quarantine/{id}/accept"),
            &w.supervisor,
            json!({"note": "điện thoại của người dân đặt sai ngày"}),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(accepted["ack"]["status"], "accepted");
    assert_eq!(accepted["entry"]["mode"], "self_personal");
    let v = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/results?min_n=1"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(panel_of(&v, "self_personal")["n"], 1);
    assert_eq!(panel_of(&v, "capi")["n"], 0);
}

async fn modes_and_the_official_figure(backend: Backend) {
    let Some(w) = world(backend, OpenLimits::default()).await else {
        return;
    };
    // Interviewers: 2 responses rating 5 (satisfied); personal link: 1 rating 5; open link:
    // 3 rating 1 (dissatisfied).
    upload_capi(&w, &w.mine[..2], 5).await;
    let links = create_links(&w, &[w.mine[2]]).await;
    w.public(
        Method::POST,
        &format!("/s/{}/response", links[0]["code"].as_str().unwrap()),
        Some(page_answer(new_id(), 5)),
    )
    .await
    .expect(StatusCode::OK);
    let token = open_link(&w).await;
    let d = device(&w, &token).await;
    for _ in 0..3 {
        w.public(
            Method::POST,
            &format!("/o/{token}/response"),
            Some(open_answer(new_id(), &d, 1)),
        )
        .await
        .expect(StatusCode::OK);
    }
    let results = |q: &'static str| {
        let w = &w;
        async move {
            w.get(&format!("/api/v1/rounds/{ROUND}/results{q}"), &w.supervisor)
                .await
                .expect(StatusCode::OK)
                .value()
        }
    };
    // Below the default minimum N the panels hide their figure.
    let v = results("").await;
    assert_eq!(panel_of(&v, "self_open")["overall_pct"], Value::Null);
    assert_eq!(panel_of(&v, "self_open")["suppressed"], true);
    let v = results("?min_n=1").await;
    assert_eq!(v["official_modes"], json!(["capi", "self_personal"]));
    assert_eq!(v["mode"], "official");
    assert_eq!(v["total"]["respondents"], 3);
    let panel = |v: &Value, m: &str| {
        v["modes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["mode"] == m)
            .unwrap()
            .clone()
    };
    assert_eq!(panel(&v, "capi")["n"], 2);
    assert_eq!(panel(&v, "self_personal")["n"], 1);
    assert_eq!(panel(&v, "self_open")["n"], 3);
    assert_eq!(panel(&v, "self_open")["official"], false);
    assert_eq!(panel(&v, "self_open")["overall_pct"], 0.0);
    assert_eq!(panel(&v, "capi")["overall_pct"], 100.0);
    assert_eq!(v["total"]["figures"][0]["pct_satisfied"], 100.0);
    assert_eq!(results("?mode=all").await["total"]["respondents"], 6);
    assert_eq!(results("?mode=self_open").await["total"]["respondents"], 3);
    // A profile breakdown (computed from the responses, not the counts) counts the same.
    let by_sex = results("?min_n=1&by=profile:A1").await;
    assert_eq!(by_sex["total"]["respondents"], 3);
    assert_eq!(panel(&by_sex, "self_open")["n"], 3);
    assert_eq!(
        results("?min_n=1&by=profile:A1&mode=all").await["total"]["respondents"],
        6
    );
    let r = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/results?mode=web"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    // Index and report carry the same panels and count the official modes.
    let idx = w
        .get(&format!("/api/v1/rounds/{ROUND}/index"), &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(idx["round_totals"][0]["respondents"], 3);
    assert_eq!(panel(&idx, "self_open")["n"], 3);
    let rep = w
        .get(&format!("/api/v1/rounds/{ROUND}/report"), &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(panel(&rep, "self_personal")["n"], 1);
    // The round's rule changes: the open link counts too (supervisor / admin only).
    let uri = format!("/api/v1/rounds/{ROUND}/official-modes");
    w.send(
        Method::PUT,
        &uri,
        Some(&w.surveyor.token),
        Some(json!({"official_modes": ["capi"]})),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    w.send(
        Method::PUT,
        &uri,
        Some(&w.supervisor.token),
        Some(json!({"official_modes": []})),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    w.send(
        Method::PUT,
        &uri,
        Some(&w.supervisor.token),
        Some(json!({"official_modes": ["web"]})),
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    let set = w
        .send(
            Method::PUT,
            &uri,
            Some(&w.supervisor.token),
            Some(json!({"official_modes": ["self_open", "capi", "self_personal"]})),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(
        set["official_modes"],
        json!(["capi", "self_personal", "self_open"])
    );
    let v = results("?min_n=1").await;
    assert_eq!(v["total"]["respondents"], 6);
    assert_eq!(panel(&v, "self_open")["official"], true);
    let got = w.get(&uri, &w.monitor).await.expect(StatusCode::OK).value();
    assert_eq!(got["official_modes"].as_array().unwrap().len(), 3);
}

fn panel_of(v: &Value, m: &str) -> Value {
    v["modes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["mode"] == m)
        .unwrap()
        .clone()
}

on_both_backends! {
    links_are_made_by_supervisors_only: links_roles_sqlite, links_roles_postgres;
    a_personal_link_is_answered_once: personal_once_sqlite, personal_once_postgres;
    open_links_limit_devices_and_addresses: open_limits_sqlite, open_limits_postgres;
    modes_and_the_official_figure: modes_sqlite, modes_postgres;
    a_quarantined_self_answer_keeps_its_mode: quarantined_mode_sqlite, quarantined_mode_postgres;
}
