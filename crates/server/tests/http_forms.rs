//! HTTP tests of published forms (issue 12): upload (JSON and XLSX; other types 415), loader
//! and workbook issues listed, drafts hidden from non-managers,
//! publish / retire / delete life cycle (immutable once published, idempotent identical
//! re-upload), rounds only with a published version, the catalogue bundle for devices; the
//! axum router over a real store seeded as `sipas-server` seeds it, on SQLite and PostgreSQL.
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::LoginResponse;
use sipas_server::app::{AppState, router};
use sipas_server::catalogue::seed_if_empty;
use sipas_server::demo::ensure_user;
use sipas_server::forms::{FormRegistry, seed_builtins};
use sipas_server::storage::{ServerStore, open_store};
use std::sync::Arc;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const PASSWORD: &str = "mat-khau-an-toan";
const JSON_CT: &str = "application/json";
const XLSX_CT: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const FORM_ID: &str = "hn-thu-nghiem";

struct World {
    app: Router,
    store: Arc<dyn ServerStore>,
    _db: EmptyDatabase,
    admin: String,
    supervisor: String,
    surveyor: String,
    ministry: String,
}

impl World {
    async fn send(&self, method: Method, uri: &str, token: &str, ct: &str, body: Vec<u8>) -> Reply {
        reply::send(
            &self.app,
            method,
            uri,
            Some(token),
            &[(header::CONTENT_TYPE, ct)],
            Body::from(body),
        )
        .await
    }

    async fn get(&self, uri: &str, token: &str) -> Reply {
        reply::send(&self.app, Method::GET, uri, Some(token), &[], Body::empty()).await
    }

    async fn post(&self, uri: &str, token: &str, ct: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.send(Method::POST, uri, token, ct, body.into()).await
    }

    async fn upload(&self, token: &str, def: &Value) -> Reply {
        self.post(
            "/api/v1/forms/drafts",
            token,
            JSON_CT,
            serde_json::to_vec(def).unwrap(),
        )
        .await
    }

    async fn round(&self, id: &str, version: &str) -> Reply {
        self.post(
            "/api/v1/rounds",
            &self.supervisor,
            JSON_CT,
            serde_json::to_vec(&json!({"id": id, "name": format!("Đợt {id}"),
                   "form": {"form_id": FORM_ID, "version": version},
                   "starts_on": "2099-06-01", "ends_on": "2099-07-15"}))
            .unwrap(),
        )
        .await
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

/// A store seeded as at start-up (catalogues, built-in forms), one user per role.
async fn world(backend: Backend) -> Option<World> {
    let db = EmptyDatabase::create(backend)?;
    let store = open_store(&db.target()).await.unwrap();
    seed_if_empty(store.as_ref()).await.unwrap();
    assert_eq!(seed_builtins(store.as_ref()).await.unwrap(), 2);
    // Seeding twice changes nothing.
    assert_eq!(seed_builtins(store.as_ref()).await.unwrap(), 0);
    let forms = FormRegistry::builtin().unwrap();
    forms.reload(store.as_ref()).await.unwrap();
    let mut state = AppState::new(store.clone(), forms);
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    for (name, role) in [
        ("admin", Role::Admin),
        ("gsv", Role::Supervisor),
        ("dtv", Role::Surveyor),
        ("bnv", Role::Ministry),
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
        ministry: login(&app, "bnv").await,
        app,
        store,
        _db: db,
    })
}

/// The built-in six-group form as `FORM_ID@version` with `title`.
fn definition(version: &str, title: &str) -> Value {
    let (_, source) = sipas_core::builtin::BUILTIN_FORM_SOURCES
        .iter()
        .find(|(p, _)| p.starts_with("sipas-6-groups/"))
        .unwrap();
    let mut v: Value = serde_json::from_str(source).unwrap();
    v["form_id"] = FORM_ID.into();
    v["version"] = version.into();
    v["title"]["vi"] = title.into();
    v
}

fn sha256_jcs(v: &Value) -> String {
    sipas_core::canonical::sha256_hex(&sipas_core::canonical::jcs(v))
}

async fn life_cycle(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // Built-ins are listed as published with their hash.
    let list = w
        .get("/api/v1/forms", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    let six = list
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "sipas-6-groups@2026.1")
        .expect("built-in listed")
        .clone();
    assert_eq!(six["status"], "published");
    assert_eq!(six["content_hash"].as_str().unwrap().len(), 64);
    assert!(six["published_at"].is_string());
    assert!(six["title_vi"].is_string() && six["title_en"].is_string());

    // Bad input: wrong role, not JSON, loader issues, wrong content type.
    let def = definition("1", "Phiếu thử nghiệm");
    let r = w
        .upload(&w.supervisor, &def)
        .await
        .expect(StatusCode::FORBIDDEN);
    assert_eq!(r.problem(), "403.1");
    let r = w
        .post("/api/v1/forms/drafts", &w.admin, JSON_CT, "{\"form_id\": ")
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.1");
    let mut broken = def.clone();
    broken["groups"][0]["items"][0]["type"] = "rating".into();
    broken["groups"][0]["items"][0]["scale"] = "khong-co".into();
    let r = w
        .upload(&w.admin, &broken)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    let issues = r.value()["details"]["issues"].as_array().unwrap().clone();
    assert!(!issues.is_empty());
    for i in &issues {
        for k in ["sheet", "row", "column", "message_vi", "message_en"] {
            assert!(i.get(k).is_some(), "{k} in {i}");
        }
        assert!(i["message_en"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let r = w
        .post(
            "/api/v1/forms/drafts",
            &w.admin,
            XLSX_CT,
            b"PK\x03\x04".to_vec(),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    assert!(
        r.value()["details"]["issues"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let r = w
        .post("/api/v1/forms/drafts", &w.admin, "text/csv", "a,b")
        .await
        .expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.problem(), "415.1");
    assert!(w.store.form_version(FORM_ID, "1").await.unwrap().is_none());

    // A draft: created, hidden from others, not usable by rounds.
    let r = w
        .upload(&w.admin, &def)
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(r["outcome"], "created");
    assert_eq!(r["status"], "draft");
    assert_eq!(r["content_hash"], sha256_jcs(&def));
    assert_eq!(
        sha256_jcs(&r["definition"]),
        r["content_hash"].as_str().unwrap()
    );
    let r = w
        .get(&format!("/api/v1/forms/{FORM_ID}/1"), &w.surveyor)
        .await;
    assert_eq!(r.expect(StatusCode::NOT_FOUND).problem(), "404.1");
    let sup_list = w
        .get("/api/v1/forms", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert!(
        !sup_list
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == FORM_ID)
    );
    let admin_list = w
        .get("/api/v1/forms?status=draft", &w.admin)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(admin_list.as_array().unwrap().len(), 1);
    assert_eq!(admin_list[0]["status"], "draft");
    let r = w
        .round("R-DRAFT", "1")
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.2");
    let r = w.get("/api/v1/forms?status=nonsense", &w.admin).await;
    assert_eq!(r.expect(StatusCode::BAD_REQUEST).problem(), "400.3");

    // The draft is replaced by a new upload of the same key.
    let def_b = definition("1", "Phiếu thử nghiệm (sửa)");
    let r = w
        .upload(&w.admin, &def_b)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["outcome"], "replaced");
    assert_eq!(r["definition"]["title"]["vi"], "Phiếu thử nghiệm (sửa)");

    // Publish; publishing twice is a conflict.
    let url = format!("/api/v1/forms/{FORM_ID}/1");
    let r = w
        .post(&format!("{url}/publish"), &w.supervisor, JSON_CT, "{}")
        .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).problem(), "403.1");
    let r = w
        .post(&format!("{url}/publish"), &w.admin, JSON_CT, "{}")
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["status"], "published");
    assert!(r["published_at"].is_string());
    let r = w
        .post(&format!("{url}/publish"), &w.admin, JSON_CT, "{}")
        .await;
    assert_eq!(r.expect(StatusCode::CONFLICT).problem(), "409.1");

    // Published is immutable: identical content is accepted and changes nothing, other
    // content is a conflict; it cannot be deleted.
    let r = w
        .upload(&w.admin, &def_b)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["outcome"], "unchanged");
    assert_eq!(r["status"], "published");
    let r = w.upload(&w.admin, &def).await.expect(StatusCode::CONFLICT);
    assert_eq!(r.problem(), "409.1");
    assert_eq!(r.value()["details"]["status"], "published");
    let r = reply::send(
        &w.app,
        Method::DELETE,
        &url,
        Some(&w.admin),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.expect(StatusCode::CONFLICT).problem(), "409.1");

    // Readable by every forms.read role (devices), with the hash of its definition.
    let r = w
        .get(&url, &w.surveyor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["status"], "published");
    assert_eq!(
        sha256_jcs(&r["definition"]),
        r["content_hash"].as_str().unwrap()
    );
    let r = w.get(&url, &w.ministry).await.expect(StatusCode::FORBIDDEN);
    assert_eq!(r.problem(), "403.1");
    // Uploaded as JSON: the workbook is written from the definition and reads back to it.
    let r = w
        .get(&format!("{url}/xlsx"), &w.admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], XLSX_CT);
    let back = sipas_xlsform::read_xlsform(&r.body).expect("the written workbook reads back");
    assert_eq!(back.key().to_string(), format!("{FORM_ID}@1"));

    // Rounds take it now.
    w.round("R-PUB", "1").await.expect(StatusCode::CREATED);

    // Retire: allowed although a round uses it; the round and the version stay readable;
    // new rounds (and changing a round to it) refuse it; retiring twice is a conflict.
    let r = w
        .post(&format!("{url}/retire"), &w.admin, JSON_CT, "{}")
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["status"], "retired");
    let r = w
        .post(&format!("{url}/retire"), &w.admin, JSON_CT, "{}")
        .await;
    assert_eq!(r.expect(StatusCode::CONFLICT).problem(), "409.1");
    let r = w
        .post(&format!("{url}/publish"), &w.admin, JSON_CT, "{}")
        .await;
    assert_eq!(r.expect(StatusCode::CONFLICT).problem(), "409.1");
    w.get(&url, &w.surveyor).await.expect(StatusCode::OK);
    let round = w
        .get("/api/v1/rounds/R-PUB", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(round["form_title"], "Phiếu thử nghiệm (sửa)");
    let r = w.round("R-RET", "1").await.expect(StatusCode::CONFLICT);
    assert_eq!(r.problem(), "409.1");
    // A planned round keeps its retired form when another field changes…
    let r = w
        .send(
            Method::PATCH,
            "/api/v1/rounds/R-PUB",
            &w.supervisor,
            JSON_CT,
            r#"{"name": "Đợt đổi tên"}"#.as_bytes().to_vec(),
        )
        .await;
    r.expect(StatusCode::OK);
    // …and can move to a published version, not to a draft.
    w.upload(&w.admin, &definition("2", "Phiếu thử nghiệm 2"))
        .await
        .expect(StatusCode::CREATED);
    let patch =
        |v: &str| serde_json::to_vec(&json!({"form": {"form_id": FORM_ID, "version": v}})).unwrap();
    let r = w
        .send(
            Method::PATCH,
            "/api/v1/rounds/R-PUB",
            &w.supervisor,
            JSON_CT,
            patch("2"),
        )
        .await;
    assert_eq!(r.expect(StatusCode::BAD_REQUEST).problem(), "400.2");
    w.post(
        &format!("/api/v1/forms/{FORM_ID}/2/publish"),
        &w.admin,
        JSON_CT,
        "{}",
    )
    .await
    .expect(StatusCode::OK);
    let r = w
        .send(
            Method::PATCH,
            "/api/v1/rounds/R-PUB",
            &w.supervisor,
            JSON_CT,
            patch("2"),
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["form"]["version"], "2");

    // Deleting a draft.
    w.upload(&w.admin, &definition("3", "Nháp"))
        .await
        .expect(StatusCode::CREATED);
    let url3 = format!("/api/v1/forms/{FORM_ID}/3");
    let r = reply::send(
        &w.app,
        Method::DELETE,
        &url3,
        Some(&w.supervisor),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).problem(), "403.1");
    reply::send(
        &w.app,
        Method::DELETE,
        &url3,
        Some(&w.admin),
        &[],
        Body::empty(),
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    assert_eq!(
        w.get(&url3, &w.admin)
            .await
            .expect(StatusCode::NOT_FOUND)
            .problem(),
        "404.1"
    );
    let r = reply::send(
        &w.app,
        Method::DELETE,
        &url3,
        Some(&w.admin),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.expect(StatusCode::NOT_FOUND).problem(), "404.1");

    // Every change is audited.
    let audit = w
        .get("/api/v1/audit?limit=200", &w.admin)
        .await
        .expect(StatusCode::OK)
        .value();
    let text = audit.to_string();
    for action in [
        "form.uploaded",
        "form.published",
        "form.retired",
        "form.draft_deleted",
    ] {
        assert!(text.contains(action), "{action} audited");
    }
}

async fn catalogue_bundle(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    w.post(
        "/api/v1/rounds",
        &w.supervisor,
        JSON_CT,
        serde_json::to_vec(&json!({"id": "R-CAT", "name": "Đợt danh mục",
               "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": "2026-11-01", "ends_on": "2026-12-15", "units": ["95001"]}))
        .unwrap(),
    )
    .await
    .expect(StatusCode::CREATED);
    let b = w
        .get("/api/v1/rounds/R-CAT/catalogue-bundle", &w.surveyor)
        .await
        .expect(StatusCode::OK)
        .value();
    for kind in ["agencies", "procedures", "fields", "units"] {
        assert!(b[kind].is_array(), "{kind}");
    }
    let fields = b["fields"].as_array().unwrap();
    assert!(!fields.is_empty());
    assert!(fields[0]["value"].is_string() && fields[0]["label"]["vi"].is_string());
    assert!(b["procedures"][0]["attrs"]["field"].is_string());
    // Units: only the round's (95001 and below), with parent and level.
    let units = b["units"].as_array().unwrap();
    assert!(units.iter().any(|u| u["value"] == "95001"));
    assert!(
        units
            .iter()
            .all(|u| u["attrs"]["level"].is_string() && u["attrs"]["parent"].is_string())
    );
    assert!(!units.iter().any(|u| u["attrs"]["level"] == "province"));
    let r = w
        .get("/api/v1/rounds/KHONG-CO/catalogue-bundle", &w.surveyor)
        .await;
    assert_eq!(r.expect(StatusCode::NOT_FOUND).problem(), "404.1");
}

/// An XLSX workbook (a shipped one): a draft that keeps the workbook; it downloads unchanged;
/// a workbook with a broken row is refused with its sheet, row and column.
async fn xlsx_upload(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas");
    let bytes = std::fs::read(root.join("sipas-organisations/2026.1.xlsx")).unwrap();
    let r = w
        .post("/api/v1/forms/drafts", &w.admin, XLSX_CT, bytes.clone())
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(r["status"], "draft");
    assert_eq!(r["has_xlsx"], true);
    assert_eq!(
        sha256_jcs(&r["definition"]),
        r["content_hash"].as_str().unwrap()
    );
    let url = format!(
        "/api/v1/forms/{}/{}",
        r["form_id"].as_str().unwrap(),
        r["version"].as_str().unwrap()
    );
    let got = w
        .get(&format!("{url}/xlsx"), &w.admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(got.body.as_ref(), bytes.as_slice());
    // The same workbook again: unchanged.
    let r = w
        .post("/api/v1/forms/drafts", &w.admin, XLSX_CT, bytes)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["outcome"], "unchanged");
    // A workbook whose survey sheet has an unknown type.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let survey = wb.add_worksheet().set_name("survey").unwrap();
    for (c, v) in ["type", "name", "label::vi"].iter().enumerate() {
        survey.write_string(0, c as u16, *v).unwrap();
    }
    for (c, v) in ["khong_co_kieu", "Q1", "Câu hỏi"].iter().enumerate() {
        survey.write_string(1, c as u16, *v).unwrap();
    }
    let settings = wb.add_worksheet().set_name("settings").unwrap();
    for (c, v) in ["form_id", "version", "title::vi"].iter().enumerate() {
        settings.write_string(0, c as u16, *v).unwrap();
    }
    for (c, v) in ["hn-loi", "1", "Lỗi"].iter().enumerate() {
        settings.write_string(1, c as u16, *v).unwrap();
    }
    let bad = wb.save_to_buffer().unwrap();
    let r = w
        .post("/api/v1/forms/drafts", &w.admin, XLSX_CT, bad)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    let issues = r.value()["details"]["issues"].as_array().unwrap().clone();
    assert!(
        issues
            .iter()
            .any(|i| i["sheet"] == "survey" && i["row"] == 2),
        "{issues:?}"
    );
    assert!(w.store.form_version("hn-loi", "1").await.unwrap().is_none());
}

on_both_backends! {
    life_cycle: life_cycle_on_sqlite, life_cycle_on_postgres;
    xlsx_upload: xlsx_upload_on_sqlite, xlsx_upload_on_postgres;
    catalogue_bundle: catalogue_bundle_on_sqlite, catalogue_bundle_on_postgres;
}
