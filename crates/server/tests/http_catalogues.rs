//! HTTP tests of the catalogues (issue 10): reads, imports (CSV and XLSX, preview, every bad
//! row listed, nothing stored on error), the sample frame's catalogue codes and the sample
//! template; the axum router over a real store seeded as `sipas-server` seeds it, on SQLite
//! and PostgreSQL.
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use serde_json::{Value, json};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::LoginResponse;
use sipas_server::app::{AppState, router};
use sipas_server::catalogue::seed_if_empty;
use sipas_server::demo::ensure_user;
use sipas_server::forms::FormRegistry;
use sipas_server::storage::{ServerStore, open_store};
use std::io::Read;
use std::sync::Arc;
use uuid::Uuid;

use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;

const PASSWORD: &str = "mat-khau-an-toan";
const JSON_CT: &str = "application/json";
const CSV_CT: &str = "text/csv";
const XLSX_CT: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const ROUND: &str = "2026-HN-CAT";

struct World {
    app: Router,
    store: Arc<dyn ServerStore>,
    _db: EmptyDatabase,
    admin: String,
    supervisor: String,
    monitor: String,
    surveyor: String,
    surveyor_id: Uuid,
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

/// A seeded store (unit and field seeds, as at start-up), one user per role and a round
/// starting 2026-11-01.
async fn world(backend: Backend) -> Option<World> {
    let db = EmptyDatabase::create(backend)?;
    let store = open_store(&db.target()).await.unwrap();
    let seeded = seed_if_empty(store.as_ref()).await.unwrap();
    assert!(seeded.units > 0 && seeded.fields >= 10 && seeded.procedures >= 20);
    // Seeding twice changes nothing.
    assert_eq!(
        seed_if_empty(store.as_ref()).await.unwrap(),
        Default::default()
    );
    let mut state = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    for (name, role) in [
        ("admin", Role::Admin),
        ("gsv", Role::Supervisor),
        ("mttq", Role::Monitor),
        ("dtv", Role::Surveyor),
    ] {
        ensure_user(&state, name, "Người dùng", role, PASSWORD)
            .await
            .unwrap();
    }
    let surveyor_id = store.user_by_username("dtv").await.unwrap().unwrap().0.id;
    let app = router(state);
    let w = World {
        admin: login(&app, "admin").await,
        supervisor: login(&app, "gsv").await,
        monitor: login(&app, "mttq").await,
        surveyor: login(&app, "dtv").await,
        app,
        store,
        _db: db,
        surveyor_id,
    };
    w.post(
        "/api/v1/rounds",
        &w.supervisor,
        JSON_CT,
        serde_json::to_vec(&json!({"id": ROUND, "name": "Hà Nội đợt danh mục",
               "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
               "starts_on": "2026-11-01", "ends_on": "2026-12-15"}))
        .unwrap(),
    )
    .await
    .expect(StatusCode::CREATED);
    Some(w)
}

const AGENCIES_CSV: &str = "ma,ten,loai,ma_don_vi,tu_ngay,den_ngay\n\
    HN-MC-BD,Bộ phận Một cửa phường Ba Đình,mot_cua,95001,01/07/2025,\n\
    HN-STNMT,Sở Tài nguyên và Môi trường,so_ban_nganh,01,2020-01-01,\n\
    HN-CU,UBND phường cũ,ubnd_xa,00004,2020-01-01,30/06/2025\n";

fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in (0u32..).zip(rows) {
        for (c, cell) in (0u16..).zip(row.iter()) {
            sheet.write_string(r, c, *cell).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

fn errors_at(v: &Value) -> Vec<(u64, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["message_vi"].as_str().unwrap().starts_with("Dòng "));
            assert!(e["message_en"].as_str().unwrap().starts_with("Row "));
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn catalogue_reads_and_roles(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // Every dashboard role reads; parents come before children.
    for token in [&w.admin, &w.supervisor, &w.monitor] {
        let units: Vec<Value> = w
            .get("/api/v1/units?on=2026-01-01", token)
            .await
            .expect(StatusCode::OK)
            .json();
        let codes: Vec<&str> = units.iter().map(|u| u["code"].as_str().unwrap()).collect();
        let hn = codes.iter().position(|c| *c == "01").unwrap();
        let ward = codes.iter().position(|c| *c == "95001").unwrap();
        assert!(hn < ward);
        assert!(!codes.contains(&"00004"), "ward 00004 ended on 2025-06-30");
        assert!(!codes.contains(&"001"), "no districts after 2025-07-01");
        assert_eq!(units[ward]["name"], "Phường Ba Đình");
        assert_eq!(units[ward]["parent_code"], "01");
    }
    // The tree of another day.
    let units: Vec<Value> = w
        .get("/api/v1/units?on=2024-06-01", &w.monitor)
        .await
        .expect(StatusCode::OK)
        .json();
    let codes: Vec<&str> = units.iter().map(|u| u["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"00004") && codes.contains(&"001"));
    assert!(codes.iter().position(|c| *c == "001") < codes.iter().position(|c| *c == "00004"));
    w.get("/api/v1/units?on=01-01-2026", &w.admin)
        .await
        .expect(StatusCode::BAD_REQUEST);

    let fields: Vec<Value> = w
        .get("/api/v1/fields", &w.supervisor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(
        fields
            .iter()
            .any(|f| f["code"] == "dat_dai" && f["name"] == "Đất đai")
    );
    let procedures: Vec<Value> = w
        .get("/api/v1/procedures?field=tu_phap_ho_tich", &w.monitor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(procedures.len() >= 2);
    assert!(
        procedures
            .iter()
            .all(|p| p["field_code"] == "tu_phap_ho_tich")
    );
    w.get("/api/v1/procedures?field=nope", &w.monitor)
        .await
        .expect(StatusCode::NOT_FOUND);

    // Surveyors read no catalogue; only admins import.
    for uri in [
        "/api/v1/units",
        "/api/v1/agencies",
        "/api/v1/fields",
        "/api/v1/procedures",
    ] {
        let r = w.get(uri, &w.surveyor).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(r.problem(), "403.1", "{uri}");
    }
    for token in [&w.supervisor, &w.monitor, &w.surveyor] {
        let r = w
            .post("/api/v1/agencies/import", token, CSV_CT, AGENCIES_CSV)
            .await
            .expect(StatusCode::FORBIDDEN);
        assert_eq!(r.problem(), "403.1");
    }
    assert!(w.store.agencies().await.unwrap().is_empty());
    w.get("/api/v1/units", "no-such-token")
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

async fn catalogue_imports(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    // Preview of a good file stores nothing.
    let preview: Value = w
        .post(
            "/api/v1/agencies/import?preview=true",
            &w.admin,
            CSV_CT,
            AGENCIES_CSV,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(preview, json!({"rows": 3, "errors": []}));
    assert!(w.store.agencies().await.unwrap().is_empty());
    // Import.
    let r: Value = w
        .post("/api/v1/agencies/import", &w.admin, CSV_CT, AGENCIES_CSV)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r, json!({"imported": 3}));
    let agencies: Vec<Value> = w
        .get("/api/v1/agencies?on=2026-01-01", &w.monitor)
        .await
        .expect(StatusCode::OK)
        .json();
    let codes: Vec<&str> = agencies
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["HN-MC-BD", "HN-STNMT"], "HN-CU ended in 2025");
    assert_eq!(agencies[0]["kind_name_vi"], "Bộ phận Một cửa");
    assert_eq!(agencies[0]["kind_name_en"], "One-stop shop");
    assert_eq!(agencies[0]["unit_name"], "Phường Ba Đình");
    assert_eq!(agencies[1]["unit_name"], "Thành phố Hà Nội");
    let old: Vec<Value> = w
        .get("/api/v1/agencies?on=2024-01-01", &w.monitor)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(old.len(), 2, "{old:?}");

    // A file with several bad rows: every one listed, nothing stored.
    let bad = "ma,ten,loai,ma_don_vi,tu_ngay,den_ngay\n\
        HN-OK,Cơ quan tốt,y_te,95002,2025-07-01,\n\
        HN-X1,Cơ quan,bo,95002,2025-07-01,\n\
        HN-X2,,y_te,95002,2025-07-01,\n\
        HN-X3,Cơ quan,y_te,99999,2025-07-01,\n\
        HN-X4,Cơ quan,y_te,95002,01/07/2025,30/06/2025\n\
        HN-OK,Trùng mã,y_te,95002,2025-07-01,\n\
        HN X6,Cơ quan,y_te,95001,ngày mai,\n";
    let r = w
        .post("/api/v1/agencies/import", &w.admin, CSV_CT, bad)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    let v = r.value();
    assert_eq!(v["details"]["total"], 7);
    assert_eq!(
        errors_at(&v["details"]["errors"]),
        [
            (3, "kind"),
            (4, "name"),
            (5, "unit_code"),
            (6, "valid_to"),
            (7, "code"),
            (8, "valid_from"),
            (8, "code"),
        ]
        .map(|(r, c)| (r, c.to_owned()))
    );
    assert!(v["message_vi"].is_string());
    assert_eq!(w.store.agencies().await.unwrap().len(), 3, "nothing stored");
    // The same file in preview: 200 with the same list.
    let p: Value = w
        .post(
            "/api/v1/agencies/import?preview=true",
            &w.admin,
            CSV_CT,
            bad,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(p["rows"], 7);
    assert_eq!(p["errors"], v["details"]["errors"]);

    // Fields and procedures from XLSX; a procedure of an unknown field is a row error.
    let fields = xlsx(&[&["Mã", "Tên"], &["moi_truong", "Môi trường"]]);
    let r: Value = w
        .post("/api/v1/fields/import", &w.admin, XLSX_CT, fields)
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(r["imported"], 1);
    let procedures = xlsx(&[
        &["ma", "ten", "ma_linh_vuc", "ma_quoc_gia"],
        &[
            "moi_truong.xa_thai",
            "Cấp giấy phép xả thải",
            "moi_truong",
            "1.004227",
        ],
        &["khong.co", "Thủ tục", "khong_co_linh_vuc", ""],
    ]);
    let r = w
        .post(
            "/api/v1/procedures/import",
            &w.admin,
            XLSX_CT,
            procedures.clone(),
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        errors_at(&r.value()["details"]["errors"]),
        [(3, "field_code".to_owned())]
    );
    assert!(
        !w.store
            .procedures()
            .await
            .unwrap()
            .iter()
            .any(|p| p.code == "moi_truong.xa_thai")
    );
    let good = xlsx(&[
        &["ma", "ten", "ma_linh_vuc", "ma_quoc_gia"],
        &[
            "moi_truong.xa_thai",
            "Cấp giấy phép xả thải",
            "moi_truong",
            "1.004227",
        ],
    ]);
    w.post("/api/v1/procedures/import", &w.admin, XLSX_CT, good)
        .await
        .expect(StatusCode::OK);
    let list: Vec<Value> = w
        .get("/api/v1/procedures?field=moi_truong", &w.admin)
        .await
        .expect(StatusCode::OK)
        .json();
    assert_eq!(
        list,
        [
            json!({"code": "moi_truong.xa_thai", "name": "Cấp giấy phép xả thải",
                "field_code": "moi_truong", "national_code": "1.004227"})
        ]
    );

    // Units: a new ward under Hà Nội; a ward whose parent is unknown breaks the tree.
    let units = "code,name,level,parent_code,valid_from,valid_to\n\
        95099,Phường Thử Nghiệm,xa,01,2025-07-01,\n";
    w.post("/api/v1/units/import", &w.admin, CSV_CT, units)
        .await
        .expect(StatusCode::OK);
    let tree: Vec<Value> = w
        .get("/api/v1/units?on=2026-01-01", &w.admin)
        .await
        .expect(StatusCode::OK)
        .json();
    assert!(
        tree.iter()
            .any(|u| u["code"] == "95099" && u["name"] == "Phường Thử Nghiệm")
    );
    let before = w.store.catalogue_units().await.unwrap().len();
    let orphan = "code,name,level,parent_code,valid_from,valid_to\n\
        95098,Phường Mồ Côi,xa,77,2025-07-01,\n\
        95097,Phường Sai Cấp,bản,01,2025-07-01,\n";
    let r = w
        .post("/api/v1/units/import", &w.admin, CSV_CT, orphan)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        errors_at(&r.value()["details"]["errors"]),
        [(3, "level".to_owned())]
    );
    let orphan = "code,name,level,parent_code,valid_from,valid_to\n\
        95098,Phường Mồ Côi,xa,77,2025-07-01,\n";
    let r = w
        .post("/api/v1/units/import", &w.admin, CSV_CT, orphan)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        errors_at(&r.value()["details"]["errors"]),
        [(2, "code".to_owned())]
    );
    assert_eq!(w.store.catalogue_units().await.unwrap().len(), before);

    // Wrong content type, missing column, empty file.
    w.post("/api/v1/fields/import", &w.admin, JSON_CT, "{}")
        .await
        .expect(StatusCode::BAD_REQUEST);
    let r = w
        .post("/api/v1/fields/import", &w.admin, CSV_CT, "ma\nx\n")
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(
        errors_at(&r.value()["details"]["errors"]),
        [(1, "name".to_owned())]
    );
    w.post("/api/v1/fields/import", &w.admin, CSV_CT, "")
        .await
        .expect(StatusCode::BAD_REQUEST);
}

async fn sample_codes_are_checked_and_named(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    w.post("/api/v1/agencies/import", &w.admin, CSV_CT, AGENCIES_CSV)
        .await
        .expect(StatusCode::OK);
    let good = "ma_don_vi,ma_co_quan,ma_thu_tuc,ho_ten,dia_chi,dien_thoai\n\
        95001,HN-MC-BD,ho_tich.khai_sinh,Nguyễn Văn A,Số 1,0912345678\n\
        95002,HN-STNMT,dat_dai.cap_gcn,Trần Thị B,Số 2,\n";
    // Preview: names, no contact data, nothing stored.
    let p: Value = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/sample?preview=true"),
            &w.supervisor,
            CSV_CT,
            good,
        )
        .await
        .expect(StatusCode::OK)
        .value();
    assert_eq!(p["rows"], 2);
    assert_eq!(p["errors"], json!([]));
    assert_eq!(
        p["preview"][0],
        json!({"row": 2, "unit_code": "95001", "unit_name": "Phường Ba Đình",
               "agency_name": "Bộ phận Một cửa phường Ba Đình", "field_name": "Tư pháp – Hộ tịch",
               "procedure": "Đăng ký khai sinh"})
    );
    assert!(!p.to_string().contains("Nguyễn Văn A"));
    assert!(w.store.round_units(ROUND).await.unwrap().is_empty());

    // Unknown codes of every catalogue and a unit that no longer exists: all listed.
    let bad = "ma_don_vi,ma_co_quan,ma_linh_vuc,ma_thu_tuc,ho_ten,dia_chi\n\
        95001,HN-MC-BD,,ho_tich.khai_sinh,A,X\n\
        00004,,,ho_tich.khai_sinh,B,X\n\
        95001,KHONG-CO,,ho_tich.khai_sinh,C,X\n\
        95001,,khong_co,ho_tich.khai_sinh,D,X\n\
        95001,,,khong.co,E,X\n\
        95001,HN-CU,y_te,ho_tich.khai_sinh,F,X\n\
        ,,,,G,X\n";
    let r = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/sample"),
            &w.supervisor,
            CSV_CT,
            bad,
        )
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(r.problem(), "400.3");
    let v = r.value();
    assert_eq!(
        errors_at(&v["details"]["errors"]),
        [
            (3, "unit_code".to_owned()),
            (4, "agency_code".to_owned()),
            (5, "field_code".to_owned()),
            (6, "procedure_code".to_owned()),
            (7, "agency_code".to_owned()),
            (7, "procedure_code".to_owned()),
            (8, "unit_code".to_owned()),
            (8, "procedure_code".to_owned()),
        ]
    );
    assert!(
        w.store.round_units(ROUND).await.unwrap().is_empty(),
        "nothing stored"
    );
    // Same rows from XLSX.
    let rows: Vec<Vec<&str>> = bad.lines().map(|l| l.split(',').collect()).collect();
    let refs: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    let r = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/sample?preview=true"),
            &w.supervisor,
            XLSX_CT,
            xlsx(&refs),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.value()["errors"], v["details"]["errors"]);

    // The good file: names from the catalogues on the assignments, in the pull.
    let r: Value = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/sample"),
            &w.supervisor,
            CSV_CT,
            good,
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    let ids: Vec<Uuid> = serde_json::from_value(r["assignment_ids"].clone()).unwrap();
    assert_eq!(ids.len(), 2);
    w.post(
        &format!("/api/v1/rounds/{ROUND}/assign"),
        &w.supervisor,
        JSON_CT,
        serde_json::to_vec(&json!({"assignment_ids": ids, "surveyor_id": w.surveyor_id})).unwrap(),
    )
    .await
    .expect(StatusCode::OK);
    let (pulled, _) = w.store.assignments_since(w.surveyor_id, 0).await.unwrap();
    let a = pulled.iter().find(|a| a.id == ids[0]).unwrap();
    assert_eq!(a.unit_name.as_deref(), Some("Phường Ba Đình"));
    assert_eq!(a.agency_code.as_deref(), Some("HN-MC-BD"));
    assert_eq!(
        a.agency_name.as_deref(),
        Some("Bộ phận Một cửa phường Ba Đình")
    );
    assert_eq!(a.agency.as_deref(), Some("Bộ phận Một cửa phường Ba Đình"));
    assert_eq!(a.field_code.as_deref(), Some("tu_phap_ho_tich"));
    assert_eq!(a.field_name.as_deref(), Some("Tư pháp – Hộ tịch"));
    assert_eq!(a.procedure_code.as_deref(), Some("ho_tich.khai_sinh"));
    assert_eq!(a.procedure, "Đăng ký khai sinh");
    let wire = serde_json::to_value(a).unwrap();
    assert_eq!(wire["unit_name"], "Phường Ba Đình");
    let b = pulled.iter().find(|a| a.id == ids[1]).unwrap();
    assert_eq!(b.field_name.as_deref(), Some("Đất đai"));
    let units = w.store.round_units(ROUND).await.unwrap();
    assert_eq!(units[0].name, "Phường Ba Đình");
}

async fn sample_template_has_lists(backend: Backend) {
    let Some(w) = world(backend).await else {
        return;
    };
    w.post("/api/v1/agencies/import", &w.admin, CSV_CT, AGENCIES_CSV)
        .await
        .expect(StatusCode::OK);
    let uri = format!("/api/v1/rounds/{ROUND}/sample-template.xlsx");
    let r = w.get(&uri, &w.monitor).await.expect(StatusCode::FORBIDDEN);
    assert_eq!(r.problem(), "403.1");
    w.get("/api/v1/rounds/NOPE/sample-template.xlsx", &w.supervisor)
        .await
        .expect(StatusCode::NOT_FOUND);
    let r = w.get(&uri, &w.supervisor).await.expect(StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], XLSX_CT);
    let bytes = r.body.to_vec();
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(wb.sheet_names(), ["danh_sach_mau", "danh_muc"]);
    let sample = wb.worksheet_range("danh_sach_mau").unwrap();
    let header: Vec<String> = sample
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header,
        [
            "ma_don_vi",
            "ma_co_quan",
            "ma_linh_vuc",
            "ma_thu_tuc",
            "ho_ten",
            "dia_chi",
            "dien_thoai"
        ]
    );
    let list = wb.worksheet_range("danh_muc").unwrap();
    let rows: Vec<Vec<String>> = list
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    c => c.to_string(),
                })
                .collect()
        })
        .collect();
    assert_eq!(
        rows[0],
        [
            "ma_don_vi",
            "ten_don_vi",
            "ma_co_quan",
            "ten_co_quan",
            "ma_linh_vuc",
            "ten_linh_vuc",
            "ma_thu_tuc",
            "ten_thu_tuc"
        ]
    );
    let units: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r[0].as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        units.contains(&"95001") && !units.contains(&"00004"),
        "{units:?}"
    );
    let agencies: Vec<(&str, &str)> = rows[1..]
        .iter()
        .filter(|r| !r[2].is_empty())
        .map(|r| (r[2].as_str(), r[3].as_str()))
        .collect();
    assert_eq!(
        agencies,
        [
            ("HN-MC-BD", "Bộ phận Một cửa phường Ba Đình"),
            ("HN-STNMT", "Sở Tài nguyên và Môi trường")
        ]
    );
    // The drop-down lists (data validation) point at the danh_muc columns.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert_eq!(xml.matches("<dataValidation ").count(), 4, "{xml}");
    assert!(xml.contains("type=\"list\""));
    assert!(
        xml.contains(&format!("danh_muc!$A$2:$A${}", units.len() + 1)),
        "{xml}"
    );
    assert!(xml.contains("danh_muc!$C$2:$C$3"), "{xml}");
    assert!(xml.contains("danh_muc!$E$2:$E$"));
    assert!(xml.contains("danh_muc!$G$2:$G$"));
    // A filled-in template imports.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet();
    for (c, h) in (0u16..).zip(header.iter()) {
        s.write_string(0, c, h).unwrap();
    }
    for (c, v) in (0u16..).zip([
        "95001",
        "HN-MC-BD",
        "",
        "ho_tich.ket_hon",
        "Lê Văn C",
        "Số 3",
        "",
    ]) {
        if !v.is_empty() {
            s.write_string(1, c, v).unwrap();
        }
    }
    let r: Value = w
        .post(
            &format!("/api/v1/rounds/{ROUND}/sample"),
            &w.admin,
            XLSX_CT,
            wb.save_to_buffer().unwrap(),
        )
        .await
        .expect(StatusCode::CREATED)
        .value();
    assert_eq!(r["imported"], 1);
}

async fn demo_shows_names_everywhere(backend: Backend) {
    let Some(db) = EmptyDatabase::create(backend) else {
        return;
    };
    let store = open_store(&db.target()).await.unwrap();
    let mut state = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
    state.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
    let demo = sipas_server::demo::seed_demo(&state).await.unwrap();
    assert_eq!(demo.imported, 5);
    let kinds: std::collections::BTreeSet<_> = store
        .agencies()
        .await
        .unwrap()
        .iter()
        .map(|a| a.kind)
        .collect();
    assert!(kinds.len() >= 5, "agencies of several kinds: {kinds:?}");
    let surveyor = demo
        .users
        .iter()
        .find(|u| u.user.role == Role::Surveyor)
        .unwrap();
    let (pulled, _) = store.assignments_since(surveyor.user.id, 0).await.unwrap();
    assert_eq!(pulled.len(), 5);
    for a in &pulled {
        assert!(
            a.unit_name
                .as_deref()
                .is_some_and(|n| n.starts_with("Phường")),
            "{a:?}"
        );
        assert!(a.agency_name.is_some() && a.agency_code.is_some(), "{a:?}");
        assert!(
            a.field_name.is_some() && a.procedure_code.is_some(),
            "{a:?}"
        );
        assert_eq!(a.round_name.as_deref(), Some("Khảo sát thử SIPAS 2026"));
    }
    // Running the demo again keeps what exists.
    let again = sipas_server::demo::seed_demo(&state).await.unwrap();
    assert_eq!(again.imported, 0);
}

on_both_backends! {
    demo_shows_names_everywhere: demo_shows_names_everywhere_on_sqlite, demo_shows_names_everywhere_on_postgres;
    catalogue_reads_and_roles: catalogue_reads_and_roles_on_sqlite, catalogue_reads_and_roles_on_postgres;
    catalogue_imports: catalogue_imports_on_sqlite, catalogue_imports_on_postgres;
    sample_codes_are_checked_and_named: sample_codes_are_checked_and_named_on_sqlite, sample_codes_are_checked_and_named_on_postgres;
    sample_template_has_lists: sample_template_has_lists_on_sqlite, sample_template_has_lists_on_postgres;
}
