//! HTTP tests of the published results (issue 11): `GET /rounds/{id}/results` (breakdown by
//! agency with ranks and ties, targets, comparison with the previous round, CSV and the XLSX
//! workbook), `GET|PUT /rounds/{id}/targets` and `GET /rounds/{id}/microdata`, from real
//! uploaded responses, on SQLite and PostgreSQL (the test kit's `on_both_backends!`).
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::response::{Paradata, Response, new_id};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{AckStatus, Assignment, LoginResponse, UploadBatch, UploadRecord};
use sipas_server::app::{AppState, router};
use sipas_server::demo::ensure_user;
use sipas_server::forms::FormRegistry;
use sipas_server::storage::{ServerStore, open_store};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const PASSWORD: &str = "mat-khau-an-toan";
const JSON_CT: &str = "application/json";

struct World {
    app: Router,
    store: Arc<dyn ServerStore>,
    _db: EmptyDatabase,
    admin: String,
    sup_hn: String,
    sup_dn: String,
    bnv_hn: String,
    dtv_hn: String,
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

    async fn post(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send(
            Method::POST,
            uri,
            token,
            JSON_CT,
            serde_json::to_vec(&body).unwrap(),
        )
        .await
    }

    async fn put(&self, uri: &str, token: &str, body: Value) -> Reply {
        self.send(
            Method::PUT,
            uri,
            token,
            JSON_CT,
            serde_json::to_vec(&body).unwrap(),
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

async fn user(app: &Router, admin: &str, username: &str, role: Role, units: &[&str]) -> String {
    reply::send(
        app,
        Method::POST,
        "/api/v1/users",
        Some(admin),
        &[(header::CONTENT_TYPE, JSON_CT)],
        Body::from(
            serde_json::to_vec(
                &json!({"username": username, "display_name": format!("Người dùng {username}"),
                   "role": role, "password": PASSWORD, "scope": {"units": units, "agencies": []}}),
            )
            .unwrap(),
        ),
    )
    .await
    .expect(StatusCode::CREATED);
    login(app, username).await
}

/// Hà Nội (01) and Đà Nẵng (48) supervisors, a Hà Nội ministry reader and surveyor, the
/// agency catalogue: two hospitals (y_te) and a ward police office (khac), a fourth agency.
async fn world(backend: Backend) -> Option<World> {
    let db = EmptyDatabase::create(backend)?;
    let store = open_store(&db.target()).await.unwrap();
    sipas_server::catalogue::seed_if_empty(store.as_ref())
        .await
        .unwrap();
    let mut state = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    state.min_n_floor = 1;
    ensure_user(&state, "admin", "Quản trị", Role::Admin, PASSWORD)
        .await
        .unwrap();
    let app = router(state);
    let admin = login(&app, "admin").await;
    let sup_hn = user(&app, &admin, "gsv-hn", Role::Supervisor, &["01"]).await;
    let sup_dn = user(&app, &admin, "gsv-dn", Role::Supervisor, &["48"]).await;
    let bnv_hn = user(&app, &admin, "bnv-hn", Role::Ministry, &["01"]).await;
    let dtv_hn = user(&app, &admin, "dtv-hn", Role::Surveyor, &["95001", "95002"]).await;
    let w = World {
        app,
        store,
        _db: db,
        admin,
        sup_hn,
        sup_dn,
        bnv_hn,
        dtv_hn,
    };
    let csv = "code,name,kind,unit_code,valid_from\n\
               BV01,Bệnh viện Đa khoa Hà Nội,y_te,01,2020-01-01\n\
               BV02,Bệnh viện Thanh Nhàn,y_te,01,2020-01-01\n\
               CA01,Công an phường Ba Đình,khac,01,2020-01-01\n\
               UB01,UBND phường Ba Đình,ubnd_xa,01,2020-01-01\n";
    w.send(
        Method::POST,
        "/api/v1/agencies/import",
        &w.admin,
        "text/csv",
        csv.into(),
    )
    .await
    .expect(StatusCode::OK);
    Some(w)
}

/// Answers to sipas-6-groups@2026.1 (B8 = "khong": G5 skipped) with every rating 4 or 5
/// (`satisfied`) or 1 or 2 (not), alternating so no response is straight-lined.
fn answers(satisfied: bool, sex: &str) -> Answers {
    let mut a: Answers = BTreeMap::new();
    a.insert("A1".into(), AnswerValue::Text(sex.into()));
    a.insert("A2".into(), AnswerValue::Int(40));
    a.insert("B1".into(), AnswerValue::Text("Khám bệnh".into()));
    a.insert("B8".into(), AnswerValue::Text("khong".into()));
    let mut k = 0;
    for (g, n) in [("G1", 5), ("G2", 4), ("G3", 5), ("G4", 4), ("G6", 1)] {
        for i in 1..=n {
            let v = if satisfied { 4 + k % 2 } else { 1 + k % 2 };
            a.insert(format!("{g}_{i}"), AnswerValue::Int(v));
            k += 1;
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
        started_at: t - Duration::minutes(12),
        completed_at: t,
        paradata: Paradata::default(),
        origin: Default::default(),
    }
}

/// Creates round `id` (Hà Nội) starting `starts_on` with one sampled respondent per
/// `(agency, field, satisfied)` row, all collected and uploaded by the surveyor.
async fn round_with_responses(
    w: &World,
    id: &str,
    starts_on: &str,
    rows: &[(&str, &str, bool)],
) -> Vec<Uuid> {
    let year = &starts_on[..4];
    w.post(
        "/api/v1/rounds",
        &w.sup_hn,
        json!({"id": id, "name": format!("Hà Nội {year}"),
               "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": starts_on, "ends_on": format!("{year}-12-31"), "units": ["01"]}),
    )
    .await
    .expect(StatusCode::CREATED);
    let mut csv =
        String::from("ma_don_vi,thu_tuc,ho_ten,dia_chi,dien_thoai,ma_co_quan,ma_linh_vuc\n");
    for (i, (agency, field, _)) in rows.iter().enumerate() {
        let unit = if i % 2 == 0 { "95001" } else { "95002" };
        csv.push_str(&format!(
            "{unit},Khám bệnh,Người {i},Số {i} Hàng Bạc,0912345{i:03},{agency},{field}\n"
        ));
    }
    let import: Value = w
        .send(
            Method::POST,
            &format!("/api/v1/rounds/{id}/sample"),
            &w.sup_hn,
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let ids: Vec<Uuid> = serde_json::from_value(import["assignment_ids"].clone()).unwrap();
    let dtv = w.get("/api/v1/me", &w.dtv_hn).await.value();
    w.post(
        &format!("/api/v1/rounds/{id}/assign"),
        &w.sup_hn,
        json!({"assignment_ids": ids, "surveyor_id": dtv["id"]}),
    )
    .await
    .expect(StatusCode::OK);
    let mut responses = Vec::new();
    for (i, (aid, (_, _, satisfied))) in ids.iter().zip(rows).enumerate() {
        let a = w.store.assignment(*aid).await.unwrap().unwrap().0;
        responses.push(response_for(
            &a,
            answers(*satisfied, if i % 2 == 0 { "nu" } else { "nam" }),
        ));
    }
    let body = serde_json::to_vec(&UploadBatch {
        records: responses
            .iter()
            .map(|r| UploadRecord {
                content_hash: r.content_hash(),
                response: r.clone(),
            })
            .collect(),
    })
    .unwrap();
    let acks = w
        .send(
            Method::POST,
            "/api/v1/responses/batch",
            &w.dtv_hn,
            JSON_CT,
            body,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    for a in acks["acks"].as_array().unwrap() {
        assert_eq!(
            serde_json::from_value::<AckStatus>(a["status"].clone()).unwrap(),
            AckStatus::Accepted,
            "{a}"
        );
    }
    ids
}

/// 2025: BV01 3 unsatisfied, BV02 3 satisfied, CA01 3 satisfied.
/// 2026: BV01 3 satisfied, BV02 3 satisfied, CA01 3 unsatisfied, UB01 1 satisfied.
async fn two_rounds(w: &World) {
    let t = true;
    let f = false;
    round_with_responses(
        w,
        "HN-2025",
        "2025-09-01",
        &[
            ("BV01", "y_te", f),
            ("BV01", "y_te", f),
            ("BV01", "y_te", f),
            ("BV02", "y_te", t),
            ("BV02", "y_te", t),
            ("BV02", "y_te", t),
            ("CA01", "tu_phap_ho_tich", t),
            ("CA01", "tu_phap_ho_tich", t),
            ("CA01", "tu_phap_ho_tich", t),
        ],
    )
    .await;
    round_with_responses(
        w,
        "HN-2026",
        "2026-09-01",
        &[
            ("BV01", "y_te", t),
            ("BV01", "y_te", t),
            ("BV01", "y_te", t),
            ("BV02", "y_te", t),
            ("BV02", "y_te", t),
            ("BV02", "y_te", t),
            ("CA01", "tu_phap_ho_tich", f),
            ("CA01", "tu_phap_ho_tich", f),
            ("CA01", "tu_phap_ho_tich", f),
            ("UB01", "tu_phap_ho_tich", t),
        ],
    )
    .await;
}

fn cell<'a>(v: &'a Value, key: &str) -> &'a Value {
    v["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no cell {key} in {v}"))
}

fn overall(c: &Value) -> &Value {
    c["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["level"] == "overall")
        .unwrap()
}

on_both_backends! {
    results_rank_compare_and_evaluate_targets: results_rank_compare_and_evaluate_targets_on_sqlite, results_rank_compare_and_evaluate_targets_on_postgres;
    targets_are_stored_checked_and_scoped: targets_are_stored_checked_and_scoped_on_sqlite, targets_are_stored_checked_and_scoped_on_postgres;
    workbook_csv_and_microdata: workbook_csv_and_microdata_on_sqlite, workbook_csv_and_microdata_on_postgres;
}

async fn results_rank_compare_and_evaluate_targets(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    two_rounds(&w).await;
    let r = w
        .get(
            "/api/v1/rounds/HN-2026/results?by=agency&min_n=2",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["by"], "agency");
    assert_eq!(r["method"]["min_n"], 2);
    assert_eq!(r["method"]["form"], "sipas-6-groups@2026.1");
    assert_eq!(r["total"]["respondents"], 10);
    // Names, not codes; the kind of each agency.
    let bv01 = cell(&r, "BV01");
    assert_eq!(bv01["name"], "Bệnh viện Đa khoa Hà Nội");
    assert_eq!(bv01["kind"], "y_te");
    assert_eq!(bv01["respondents"], 3);
    assert_eq!(overall(bv01)["pct_satisfied"], 100.0);
    assert_eq!(overall(bv01)["n"], 3);
    assert!(overall(bv01)["interval"]["lower"].as_f64().unwrap() < 100.0);
    // Ranks with a tie: BV01 = BV02 = 100% share rank 1, CA01 (0%) is 3rd; UB01 (1 response,
    // min N 2) is not ranked: "chưa đủ mẫu".
    let ranking: Vec<(String, Value)> = r["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap().to_owned(), e["rank"].clone()))
        .collect();
    assert_eq!(
        ranking,
        vec![
            ("BV01".to_owned(), json!(1)),
            ("BV02".to_owned(), json!(1)),
            ("CA01".to_owned(), json!(3)),
            ("UB01".to_owned(), Value::Null),
        ]
    );
    assert_eq!(r["ranking"][1]["label"], "Bệnh viện Thanh Nhàn");
    assert_eq!(r["ranking"][3]["status"], "not_enough_responses");
    assert_eq!(cell(&r, "UB01")["rank_status"], "not_enough_responses");
    // The same ranking on every criteria group row of the form, named; G1 (all answers 4/5
    // at BV01 and BV02, 1/2 at CA01) ranks like the overall row.
    let groups: Vec<&str> = r["group_rankings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["G1", "G2", "G3", "G4", "G5", "G6"]);
    let g1 = &r["group_rankings"][0];
    assert!(g1["label"]["vi"].as_str().unwrap().len() > 5);
    let g1_ranks: Vec<(String, Value)> = g1["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap().to_owned(), e["rank"].clone()))
        .collect();
    assert_eq!(g1_ranks, ranking);
    // G5 is skipped by every respondent (B8 = khong): nobody is ranked on it.
    assert!(
        r["group_rankings"][4]["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["rank"].is_null())
    );
    // The profile breakdowns the page offers: the form's profile and screening items.
    let offered: Vec<(&str, bool)> = r["profile_options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["by"].as_str().unwrap(), o["age_bands"].as_bool().unwrap()))
        .collect();
    assert!(offered.contains(&("profile:A1", false)));
    assert!(offered.contains(&("profile:A2", true)));
    assert!(offered.contains(&("profile:B4", false)));
    assert!(overall(cell(&r, "UB01"))["pct_satisfied"].is_null());
    // Within the kind y_te both hospitals tie at 1.
    assert_eq!(cell(&r, "BV02")["rank_in_kind"], 1);
    // Targets: the plans' defaults (overall "trên 90%", y_te "trên 80%").
    assert_eq!(r["targets_stored"], false);
    let status = |key: &str| -> Vec<(String, String)> {
        cell(&r, key)["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["target"]["scope"].as_str().unwrap().to_owned(),
                    t["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(status("BV01"), vec![("overall".into(), "met".into())]);
    assert_eq!(status("CA01"), vec![("overall".into(), "not_met".into())]);
    assert_eq!(
        status("UB01"),
        vec![("overall".into(), "not_enough_data".into())]
    );
    // Comparison: auto picks the 2025 round (same units, same form family).
    let c = &r["comparison"];
    assert_eq!(c["earlier"]["id"], "HN-2025");
    assert_eq!(c["chosen"], "auto");
    let comp = |key: &str| -> &Value {
        c["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["key"] == key)
            .unwrap()["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["level"] == "overall")
            .unwrap()
    };
    // BV01 0% → 100%: up 100 points, rank 3 → 1, significant (z = 2.45 > 1.96).
    assert_eq!(comp("BV01")["delta_pp"], 100.0);
    assert_eq!(comp("BV01")["dropped"], false);
    assert_eq!(comp("BV01")["earlier_rank"], 3);
    assert_eq!(comp("BV01")["later_rank"], 1);
    assert_eq!(comp("BV01")["rank_change"], 2);
    assert_eq!(comp("BV01")["significant"], true);
    // CA01 100% → 0%: dropped, rank 1 → 3.
    assert_eq!(comp("CA01")["delta_pp"], -100.0);
    assert_eq!(comp("CA01")["dropped"], true);
    assert_eq!(comp("CA01")["rank_change"], -2);
    // BV02 unchanged; UB01 is new (no earlier values).
    assert_eq!(comp("BV02")["delta_pp"], 0.0);
    assert_eq!(comp("BV02")["significant"], false);
    assert!(comp("UB01")["earlier"].is_null());
    // A chosen round and no comparison.
    let none = w
        .get("/api/v1/rounds/HN-2026/results?compare_to=none", &w.sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert!(none["comparison"].is_null());
    let first = w
        .get("/api/v1/rounds/HN-2025/results", &w.sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert!(first["comparison"].is_null(), "no round before 2025");
    let chosen = w
        .get(
            "/api/v1/rounds/HN-2026/results?compare_to=HN-2025&by=field&trend=true&min_n=2",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(chosen["comparison"]["chosen"], "chosen");
    assert_eq!(cell(&chosen, "y_te")["name"], "Y tế");
    assert_eq!(overall(cell(&chosen, "y_te"))["pct_satisfied"], 100.0);
    let trend: Vec<&str> = chosen["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["round"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(trend, ["HN-2025", "HN-2026"]);
    // A renamed criterion through the mapping table (G1_1 of 2025 is G1_2 of 2026 here).
    let mapped = w
        .get("/api/v1/rounds/HN-2026/results?map=G1_1:G1_2", &w.sup_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(mapped["comparison"]["mapping"]["entries"][0]["old"], "G1_1");
    let bad_map = w
        .get("/api/v1/rounds/HN-2026/results?map=G1_1:ZZ9", &w.sup_hn)
        .await;
    assert_eq!(bad_map.problem(), "400.3");
    // By unit (communes of Hà Nội, named from the unit tree) and by a profile item.
    let units = w
        .get(
            "/api/v1/rounds/HN-2026/results?by=unit&level=commune&min_n=2",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(units["cells"].as_array().unwrap().len(), 2);
    assert!(cell(&units, "95001")["name"].as_str().unwrap().len() > 5);
    // Communes are ranked among the communes of their province too (both in Hà Nội here).
    let (a, b) = (cell(&units, "95001"), cell(&units, "95002"));
    assert!(a["rank"].is_u64());
    assert_eq!(a["rank_in_province"], a["rank"]);
    assert_eq!(b["rank_in_province"], b["rank"]);
    let sex = w
        .get("/api/v1/rounds/HN-2026/results?by=profile:A1", &w.bnv_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(cell(&sex, "nu")["respondents"], 5);
    // Age in years goes into bands: every respondent here is 40.
    let age = w
        .get("/api/v1/rounds/HN-2026/results?by=profile:A2", &w.bnv_hn)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(
        cell(&age, "35-49")["respondents"],
        age["total"]["respondents"]
    );
    // Bad input.
    for bad in [
        "by=sao",
        "by=unit&level=galaxy",
        "by=profile:ZZ",
        "min_n=99999999",
        "format=pdf",
        "compare_to=HN-2026",
        "compare_to=KHONG-CO",
        "aggregation=median",
    ] {
        let r = w
            .get(&format!("/api/v1/rounds/HN-2026/results?{bad}"), &w.sup_hn)
            .await;
        assert_eq!(r.problem(), "400.3", "{bad}");
    }
    // Scope: Đà Nẵng sees nothing of Hà Nội; the Hà Nội ministry reader sees the aggregates.
    let r = w.get("/api/v1/rounds/HN-2026/results", &w.sup_dn).await;
    assert_eq!(r.problem(), "404.1");
    w.get("/api/v1/rounds/HN-2026/results?by=agency", &w.bnv_hn)
        .await
        .expect(StatusCode::OK);
    let r = w.get("/api/v1/rounds/HN-2026/results", &w.dtv_hn).await;
    assert_eq!(r.problem(), "403.1");
    let r = reply::send(
        &w.app,
        Method::GET,
        "/api/v1/rounds/HN-2026/results",
        None,
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.problem(), "401.1");
}

async fn targets_are_stored_checked_and_scoped(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    two_rounds(&w).await;
    let uri = "/api/v1/rounds/HN-2026/targets";
    let t = w.get(uri, &w.sup_hn).await.expect(StatusCode::OK).value();
    assert_eq!(t["stored"], false);
    assert_eq!(
        t["targets"][0],
        json!({"scope": "overall", "comparator": "gt", "threshold_pct": 90.0})
    );
    assert_eq!(t["targets"].as_array().unwrap().len(), 8);
    let before = w.store.audit_entries(0, 100_000).await.unwrap().len();
    let set = json!({"targets": [
        {"scope": "overall", "comparator": "ge", "threshold_pct": 50},
        {"scope": "group", "code": "G1", "comparator": "gt", "threshold_pct": 95},
        {"scope": "agency_kind", "code": "y_te", "comparator": "ge", "threshold_pct": 85}
    ]});
    let saved = w
        .put(uri, &w.sup_hn, set)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(saved["stored"], true);
    let t = w.get(uri, &w.bnv_hn).await.expect(StatusCode::OK).value();
    assert_eq!(t["stored"], true);
    assert_eq!(t["targets"][1]["code"], "G1");
    let entries = w.store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(entries.len(), before + 1);
    assert_eq!(entries.last().unwrap().action, "round.targets_set");
    // The results use them: CA01 (0%) fails "≥ 50%", BV01 meets it and G1 "> 95%".
    let r = w
        .get(
            "/api/v1/rounds/HN-2026/results?by=agency&min_n=2",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["targets_stored"], true);
    let st = |key: &str, scope: &str| -> String {
        cell(&r, key)["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["target"]["scope"] == scope)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(st("BV01", "overall"), "met");
    assert_eq!(st("BV01", "group"), "met");
    assert_eq!(st("CA01", "overall"), "not_met");
    // Bad input changes nothing.
    for bad in [
        json!({"targets": [{"scope": "overall", "comparator": "gt", "threshold_pct": 120}]}),
        json!({"targets": [{"scope": "overall", "comparator": "gt", "threshold_pct": -1}]}),
        json!({"targets": [{"scope": "overall", "comparator": "gt", "threshold_pct": 90},
                           {"scope": "overall", "comparator": "ge", "threshold_pct": 80}]}),
        json!({"targets": [{"scope": "group", "code": "G99", "comparator": "gt", "threshold_pct": 90}]}),
        json!({"targets": [{"scope": "field", "code": "khong_co", "comparator": "gt", "threshold_pct": 90}]}),
        json!({"targets": [{"scope": "agency_kind", "code": "ngan_hang", "comparator": "gt", "threshold_pct": 90}]}),
        json!({"targets": [{"scope": "group", "code": " ", "comparator": "gt", "threshold_pct": 90}]}),
    ] {
        let r = w.put(uri, &w.sup_hn, bad.clone()).await;
        assert_eq!(r.problem(), "400.3", "{bad}");
    }
    for bad in [
        json!({"targets": [{"scope": "planet", "comparator": "gt", "threshold_pct": 90}]}),
        json!({"targets": [{"scope": "overall", "comparator": "about", "threshold_pct": 90}]}),
        json!({"targets": "nhiều"}),
    ] {
        let r = w.put(uri, &w.sup_hn, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = w
        .send(Method::PUT, uri, &w.sup_hn, JSON_CT, b"{not json".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // Roles and scope: the ministry reads but may not set; Đà Nẵng does not see the round.
    let ok = json!({"targets": [{"scope": "overall", "comparator": "gt", "threshold_pct": 10}]});
    assert_eq!(w.put(uri, &w.bnv_hn, ok.clone()).await.problem(), "403.1");
    assert_eq!(w.put(uri, &w.dtv_hn, ok.clone()).await.problem(), "403.1");
    assert_eq!(w.put(uri, &w.sup_dn, ok.clone()).await.problem(), "404.1");
    assert_eq!(w.get(uri, &w.sup_dn).await.problem(), "404.1");
    assert_eq!(
        w.put("/api/v1/rounds/KHONG-CO/targets", &w.admin, ok)
            .await
            .problem(),
        "404.1"
    );
    let t = w.get(uri, &w.sup_hn).await.expect(StatusCode::OK).value();
    assert_eq!(t["targets"][0]["threshold_pct"], 50.0, "unchanged");
    assert_eq!(
        w.store.audit_entries(0, 100_000).await.unwrap().len(),
        before + 1
    );
}

fn sheet(wb: &mut Xlsx<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<String>> {
    let range = wb.worksheet_range(name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) => format!("{f}"),
                    Data::Int(i) => i.to_string(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

async fn workbook_csv_and_microdata(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    two_rounds(&w).await;
    // The workbook: six sheets in the order provinces paste them.
    let r = w
        .get(
            "/api/v1/rounds/HN-2026/results?by=agency&min_n=2&format=xlsx",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("sipas-ket-qua-HN-2026.xlsx")
    );
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(r.body.to_vec())).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "tổng hợp",
            "xếp hạng",
            "so sánh với kỳ trước",
            "theo tiêu chí",
            "theo lĩnh vực",
            "ghi chú phương pháp"
        ]
    );
    let summary = sheet(&mut wb, "tổng hợp");
    assert!(summary[0][0].contains("sipas-6-groups@2026.1"));
    let bv01 = summary
        .iter()
        .find(|r| r.get(1).is_some_and(|c| c == "BV01"))
        .unwrap();
    assert_eq!(bv01[0], "Bệnh viện Đa khoa Hà Nội");
    assert_eq!(bv01[4], "100");
    assert_eq!(bv01[8], "1");
    assert_eq!(bv01[10], "Đạt");
    let ub01 = summary
        .iter()
        .find(|r| r.get(1).is_some_and(|c| c == "UB01"))
        .unwrap();
    assert_eq!(ub01[4], "—");
    assert_eq!(ub01[8], "chưa đủ mẫu");
    let ranks = sheet(&mut wb, "xếp hạng");
    assert_eq!(ranks[3][0], "1");
    assert_eq!(ranks[4][0], "1");
    assert_eq!(ranks[5][0], "3");
    // each criteria group's rank to the right of the overall one (G1 = overall here; G5
    // skipped by all: not ranked)
    assert!(ranks[2][6].starts_with("Hạng: "));
    assert_eq!(ranks[3][6], "1");
    assert_eq!(ranks[5][6], "3");
    assert_eq!(ranks[3][10], "chưa đủ mẫu");
    let cmp = sheet(&mut wb, "so sánh với kỳ trước");
    assert!(cmp[1][0].contains("HN-2025"));
    let ca = cmp
        .iter()
        .find(|r| r[0] == "Công an phường Ba Đình" && r[1] == "Chung")
        .unwrap();
    assert_eq!(ca[7], "-100");
    assert_eq!(ca[8], "Giảm");
    let crit = sheet(&mut wb, "theo tiêu chí");
    assert_eq!(crit[2][2], "Toàn bộ phạm vi");
    assert!(crit.iter().any(|r| r[0] == "G1_1"));
    let fields = sheet(&mut wb, "theo lĩnh vực");
    assert!(fields.iter().any(|r| r[0] == "Y tế" && r[9] == "Đạt"));
    let note = sheet(&mut wb, "ghi chú phương pháp");
    let text: String = note
        .iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "sipas-6-groups@2026.1",
        "Wilson",
        "trung bình cộng",
        "dưới 2",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    // CSV with the same figures and the method note.
    let csv = w
        .get(
            "/api/v1/rounds/HN-2026/results?by=agency&min_n=2&format=csv",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK);
    let csv = String::from_utf8(csv.body.to_vec()).unwrap();
    assert!(csv.starts_with('\u{FEFF}'));
    assert!(csv.contains("BV01,Bệnh viện Đa khoa Hà Nội,Chung,,Chỉ số hài lòng chung,3,100.00"));
    assert!(csv.contains("# Cỡ mẫu tối thiểu (N),2"));

    // Microdata: one row per counted response, never contacts.
    let m = w
        .get("/api/v1/rounds/HN-2026/microdata?format=csv", &w.sup_hn)
        .await
        .expect(StatusCode::OK);
    let text = String::from_utf8(m.body.to_vec()).unwrap();
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 1 + 10, "header + 10 counted responses");
    let header_line = lines[0].trim_start_matches('\u{FEFF}');
    assert!(header_line.starts_with("response_id,revision,round_id,unit_code,agency_code"));
    for contact in [
        "ho_ten",
        "dia_chi",
        "dien_thoai",
        "name",
        "phone",
        "address",
    ] {
        assert!(
            !header_line.split(',').any(|c| c == contact),
            "{contact} in {header_line}"
        );
    }
    assert!(!text.contains("Hàng Bạc") && !text.contains("0912345"));
    let x = w
        .get("/api/v1/rounds/HN-2026/microdata?format=xlsx", &w.admin)
        .await
        .expect(StatusCode::OK);
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(x.body.to_vec())).unwrap();
    assert_eq!(wb.sheet_names(), ["du_lieu", "codebook"]);
    assert_eq!(sheet(&mut wb, "du_lieu").len(), 11);
    let codebook = sheet(&mut wb, "codebook");
    assert!(
        codebook
            .iter()
            .any(|r| r[0] == "G1_1" && r[4].contains("= "))
    );
    let sps = w
        .get("/api/v1/rounds/HN-2026/microdata?format=sps", &w.sup_hn)
        .await
        .expect(StatusCode::OK);
    assert!(
        String::from_utf8(sps.body.to_vec())
            .unwrap()
            .contains("VALUE LABELS")
    );
    // Blanking units under the minimum N: each commune has 5 responses < 6.
    let blank = w
        .get(
            "/api/v1/rounds/HN-2026/microdata?blank_small_units=true&min_n=6",
            &w.sup_hn,
        )
        .await
        .expect(StatusCode::OK);
    let blank = String::from_utf8(blank.body.to_vec()).unwrap();
    assert_eq!(blank.trim_end().split("\r\n").count(), 11);
    assert!(!blank.contains(",nu,") && !blank.contains(",nam,"));
    // The ministry never gets response-level data; Đà Nẵng does not see the round.
    assert_eq!(
        w.get("/api/v1/rounds/HN-2026/microdata", &w.bnv_hn)
            .await
            .problem(),
        "403.1"
    );
    assert_eq!(
        w.get("/api/v1/rounds/HN-2026/microdata", &w.sup_dn)
            .await
            .problem(),
        "404.1"
    );
    assert_eq!(
        w.get("/api/v1/rounds/HN-2026/microdata?format=sav", &w.sup_hn)
            .await
            .problem(),
        "400.3"
    );
}
