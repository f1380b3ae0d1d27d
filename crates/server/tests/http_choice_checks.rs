//! Choice answers checked on upload (issue 12): an answer to a `choices_from` item must be a
//! code of the round's catalogue and pass the item's `choice_filter` with the option's
//! attributes; a static option of an item with a `choice_filter` must pass it. A failing
//! record is acknowledged `invalid` / `invalid_answers` with a specific issue
//! (`not_in_catalogue`, `filtered_out`) and is not stored as a response. Through the axum
//! router over a real store seeded as `sipas-server` seeds it, on SQLite and PostgreSQL.
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sipas_core::response::Response;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::LoginResponse;
use sipas_server::app::{AppState, router};
use sipas_server::catalogue::seed_if_empty;
use sipas_server::demo::ensure_user;
use sipas_server::forms::{FormRegistry, seed_builtins};
use sipas_server::storage::open_store;
use uuid::Uuid;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const PASSWORD: &str = "mat-khau-an-toan";
const JSON_CT: &str = "application/json";
const ROUND: &str = "R-CHON";
const UNIT: &str = "95001";

struct World {
    app: Router,
    _db: EmptyDatabase,
    admin: String,
    supervisor: String,
    surveyor: String,
}

impl World {
    async fn get(&self, uri: &str, token: &str) -> Reply {
        reply::send(&self.app, Method::GET, uri, Some(token), &[], Body::empty()).await
    }

    async fn post(&self, uri: &str, token: &str, body: &Value) -> Reply {
        reply::send(
            &self.app,
            Method::POST,
            uri,
            Some(token),
            &[(header::CONTENT_TYPE, JSON_CT)],
            Body::from(serde_json::to_vec(body).unwrap()),
        )
        .await
    }

    /// Uploads one walk-in response with `answers` as the surveyor; returns its ack.
    async fn upload(&self, answers: Value) -> Value {
        let started = Utc::now() - Duration::minutes(30);
        let r: Response = serde_json::from_value(json!({
            "id": Uuid::now_v7(), "revision": 1,
            "form": {"form_id": "hn-chon", "version": "1"},
            "round_id": ROUND, "unit_code": UNIT, "origin": "walk_in",
            "answers": answers,
            "started_at": started, "completed_at": started + Duration::minutes(20),
        }))
        .unwrap();
        let batch = json!({"records": [{"content_hash": r.content_hash(), "response": r}]});
        let v = self
            .post("/api/v1/responses/batch", &self.surveyor, &batch)
            .await
            .expect(StatusCode::OK)
            .value();
        v["acks"][0].clone()
    }

    /// Responses of the round the server keeps (the review queue, every state).
    async fn stored(&self) -> usize {
        self.get(
            &format!("/api/v1/review/queue?round_id={ROUND}&state=all"),
            &self.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .value()
        .as_array()
        .unwrap()
        .len()
    }
}

async fn login(app: &Router, username: &str) -> String {
    let r: LoginResponse = reply::send(
        app,
        Method::POST,
        "/api/v1/login",
        None,
        &[(header::CONTENT_TYPE, JSON_CT)],
        Body::from(
            serde_json::to_vec(&json!({"username": username, "password": PASSWORD})).unwrap(),
        ),
    )
    .await
    .expect(StatusCode::OK)
    .json();
    r.token
}

async fn world(backend: Backend) -> Option<World> {
    let db = EmptyDatabase::create(backend)?;
    let store = open_store(&db.target()).await.unwrap();
    seed_if_empty(store.as_ref()).await.unwrap();
    seed_builtins(store.as_ref()).await.unwrap();
    let forms = FormRegistry::builtin().unwrap();
    forms.reload(store.as_ref()).await.unwrap();
    let mut state = AppState::new(store.clone(), forms);
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    for (name, role) in [
        ("admin", Role::Admin),
        ("gsv", Role::Supervisor),
        ("dtv", Role::Surveyor),
    ] {
        ensure_user(&state, name, "Người dùng", role, PASSWORD)
            .await
            .unwrap();
    }
    let app = router(state);
    Some(World {
        admin: login(&app, "admin").await,
        supervisor: login(&app, "gsv").await,
        surveyor: login(&app, "dtv").await,
        app,
        _db: db,
    })
}

/// A form whose procedure comes from the catalogue, filtered by the field chosen before it,
/// and whose way of submitting is a static option filtered by the channel chosen before it.
fn definition() -> Value {
    json!({
        "format": 1, "form_id": "hn-chon", "version": "1", "title": {"vi": "Phiếu chọn danh mục"},
        "groups": [{"code": "A", "kind": "screening", "title": {"vi": "Thủ tục"}, "items": [
            {"code": "FIELD", "type": "single_choice", "label": {"vi": "Lĩnh vực"},
             "choices_from": "fields", "required": true},
            {"code": "PROC", "type": "single_choice", "label": {"vi": "Thủ tục"},
             "choices_from": "procedures", "choice_filter": "field = ${FIELD}"},
            {"code": "PREF", "type": "single_choice", "label": {"vi": "Kênh"}, "options": [
                {"value": "web", "label": {"vi": "Trực tuyến"}},
                {"value": "desk", "label": {"vi": "Trực tiếp"}}]},
            {"code": "HOW", "type": "single_choice", "label": {"vi": "Cách nộp hồ sơ"},
             "choice_filter": "ch = ${PREF}", "options": [
                {"value": "portal", "label": {"vi": "Cổng dịch vụ công"}, "attrs": {"ch": "web"}},
                {"value": "counter", "label": {"vi": "Quầy một cửa"}, "attrs": {"ch": "desk"}}]}
        ]}]
    })
}

fn issue<'a>(ack: &'a Value, item: &str) -> &'a Value {
    assert_eq!(ack["status"], "invalid", "{ack}");
    assert_eq!(ack["reason_code"], "invalid_answers", "{ack}");
    ack["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item_code"] == item)
        .unwrap_or_else(|| panic!("an issue for {item}: {ack}"))
}

async fn choices_are_checked_on_upload(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    w.post("/api/v1/forms/drafts", &w.admin, &definition())
        .await
        .expect(StatusCode::CREATED);
    w.post("/api/v1/forms/hn-chon/1/publish", &w.admin, &json!({}))
        .await
        .expect(StatusCode::OK);
    w.post(
        "/api/v1/rounds",
        &w.supervisor,
        &json!({"id": ROUND, "name": "Đợt chọn danh mục",
                "form": {"form_id": "hn-chon", "version": "1"},
                "starts_on": "2026-11-01", "ends_on": "2099-12-31", "units": [UNIT],
                "outside_sample": {"replacement": false, "walk_in": true, "cap_per_unit": 20}}),
    )
    .await
    .expect(StatusCode::CREATED);
    // A sample in the unit (interviews outside the sample are taken in the sample's units).
    let csv = format!(
        "unit_code,ten_don_vi,procedure,name,address\n{UNIT},Phường Ba Đình,Cấp giấy khai sinh,Nguyễn Văn An,Số 1 phố Huế\n"
    );
    reply::send(
        &w.app,
        Method::POST,
        &format!("/api/v1/rounds/{ROUND}/sample"),
        Some(&w.supervisor),
        &[(header::CONTENT_TYPE, "text/csv")],
        Body::from(csv),
    )
    .await
    .expect(StatusCode::CREATED);

    // Two fields with procedures, from the round's catalogue as devices get it.
    let bundle = w
        .get(
            &format!("/api/v1/rounds/{ROUND}/catalogue-bundle"),
            &w.surveyor,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    let procedures = bundle["procedures"].as_array().unwrap();
    let of_field = |f: &str| {
        procedures
            .iter()
            .find(|p| p["attrs"]["field"] == f)
            .map(|p| p["value"].as_str().unwrap().to_owned())
    };
    let mut fields = bundle["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap().to_owned())
        .filter(|f| of_field(f).is_some());
    let (f1, f2) = (fields.next().unwrap(), fields.next().unwrap());
    let (p1, p2) = (of_field(&f1).unwrap(), of_field(&f2).unwrap());

    // Valid: a catalogue code that the filter offers, a static option that passes.
    let ack = w
        .upload(json!({"FIELD": f1, "PROC": p1, "PREF": "web", "HOW": "portal"}))
        .await;
    assert_eq!(ack["status"], "accepted", "{ack}");
    assert_eq!(w.stored().await, 1);

    // A code that is not in the catalogue.
    let ack = w
        .upload(json!({"FIELD": f1, "PROC": "KHONG-CO-THU-TUC", "PREF": "web"}))
        .await;
    let i = issue(&ack, "PROC");
    assert_eq!(i["kind"], "not_in_catalogue");
    assert!(
        i["message_vi"]
            .as_str()
            .unwrap()
            .contains("KHONG-CO-THU-TUC")
    );
    assert!(i["message"].as_str().unwrap().contains("procedures"));
    // A field code that is not in the catalogue either.
    let ack = w.upload(json!({"FIELD": "khong_co_linh_vuc"})).await;
    assert_eq!(issue(&ack, "FIELD")["kind"], "not_in_catalogue");

    // A catalogue code the choice filter does not offer (a procedure of another field).
    let ack = w.upload(json!({"FIELD": f1, "PROC": p2})).await;
    let i = issue(&ack, "PROC");
    assert_eq!(i["kind"], "filtered_out");
    assert!(!i["message_vi"].as_str().unwrap().is_empty());
    // The same code with its own field is fine.
    let ack = w.upload(json!({"FIELD": f2, "PROC": p2})).await;
    assert_eq!(ack["status"], "accepted", "{ack}");

    // A static option failing the filter: the counter while the channel is online.
    let ack = w
        .upload(json!({"FIELD": f1, "PREF": "web", "HOW": "counter"}))
        .await;
    assert_eq!(issue(&ack, "HOW")["kind"], "filtered_out");
    assert_eq!(ack["issues"].as_array().unwrap().len(), 1, "{ack}");
    // With no channel chosen, the filter offers nothing.
    let ack = w.upload(json!({"FIELD": f1, "HOW": "portal"})).await;
    assert_eq!(issue(&ack, "HOW")["kind"], "filtered_out");

    // Refused records are kept in quarantine only: two responses stored.
    assert_eq!(w.stored().await, 2);
    let q = w
        .get(
            &format!("/api/v1/quarantine?round_id={ROUND}"),
            &w.supervisor,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(q.as_array().unwrap().len(), 5, "{q}");
}

on_both_backends! {
    choices_are_checked_on_upload: choices_are_checked_on_upload_on_sqlite, choices_are_checked_on_upload_on_postgres;
}
