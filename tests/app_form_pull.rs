//! Issue 12, end to end: a form authored in XLSX (`tests/fixtures/forms/e2e-every-column.xlsx`,
//! every column the importer supports) is uploaded by the admin as a draft, published, and used
//! by a round whose assignment names its procedure; the real SIPAS Field window (debug binary,
//! WebKitGTK, WebDriver) enrols, pulls the assignment and the form (kept only when its content
//! hash matches), loses the server, and the surveyor fills the form offline: a calculated value
//! is computed and stored, a constraint blocks "Tiếp" with the form's own Vietnamese message, a
//! cascading choice (choice list attributes) and a cascading catalogue choice offer only the
//! options of the earlier answer, and the procedure is prefilled read-only from the assignment.
//! The server comes back, the app syncs, and the server stores the response once, with its own
//! calculation, and counts it in the round's index (n = 1, the ratings scored).
//!
//! Needs an X display (`xvfb-run -a cargo test --test app_form_pull`), `WebKitWebDriver`
//! (Debian package webkit2gtk-driver) and `cargo build -p sipas-field` first. The fixture
//! checks (`fixture_*`) need neither.
#[path = "support/app_steps.rs"]
mod app_steps;

use app_steps::{
    PIN, app_ready, choose, create_pin, enrol, next, on_step, rate, saved, stored_answers,
    submit_and_open_sync, sync_now, type_answer,
};
use chrono::NaiveDate;
use serde_json::{Value, json};
use sipas_core::answer::AnswerValue;
use sipas_core::questionnaire::{FormKey, Questionnaire};
use sipas_core::response::Response;
use sipas_protocol::wire::{AckStatus, Round, UploadBatch, UploadRecord};
use sipas_store::Store;
use sipas_testkit::fixture::{self, UNIT_CODE};
use sipas_testkit::server::{Backend, TestServer};
use sipas_testkit::webdriver::{
    Driver, app_binary, artifacts_dir, click, display_available, js, screenshot, visible, wait_js,
    wait_text,
};
use std::path::PathBuf;
use std::time::Instant;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const FORM_ID: &str = "e2e-moi-cot";
const VERSION: &str = "2026.1";
const ROUND: &str = "2026-E2E-XLSX";
/// The assignment's procedure (demonstration catalogue `schemas/catalogues/fields.json`).
const PROCEDURE_CODE: &str = "dat_dai.cap_gcn";
const PROCEDURE_NAME: &str = "Cấp Giấy chứng nhận quyền sử dụng đất lần đầu";
/// The constraint message of item Q1, exactly as written on the `survey` sheet.
const Q1_MESSAGE: &str = "Số lần đi lại phải từ 1 đến 10 lần.";

fn fixture_path(ext: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/forms/e2e-every-column.{ext}"))
}

fn fixture_xlsx() -> Vec<u8> {
    std::fs::read(fixture_path("xlsx")).expect("read the XLSX fixture")
}

fn fixture_form() -> Questionnaire {
    let text = std::fs::read_to_string(fixture_path("json")).expect("read the JSON source");
    serde_json::from_str(&text).expect("the JSON source is a questionnaire")
}

// ---------------------------------------------------------------------------- the fixture

/// The committed workbook is what `sipas-form to-xlsx` makes of the committed JSON source,
/// byte for byte, and reads back to it.
#[test]
fn fixture_workbook_is_generated_from_its_json_source() {
    let form = fixture_form();
    let xlsx = fixture_xlsx();
    assert!(
        sipas_xlsform::write_xlsform(&form) == xlsx,
        "tests/fixtures/forms/e2e-every-column.xlsx is stale: regenerate it (see the README there)"
    );
    let read = sipas_xlsform::read_xlsform(&xlsx).unwrap_or_else(|e| panic!("{e:#?}"));
    assert_eq!(read, form);
}

/// Every column of every sheet (the writer puts every supported column in the header row,
/// plus one per option attribute) has a value in at least one row of the fixture; and the
/// form has what the end-to-end test exercises.
#[test]
fn fixture_uses_every_supported_column() {
    use calamine::{Data, Reader, Xlsx};
    let mut book = Xlsx::new(std::io::Cursor::new(fixture_xlsx())).expect("a workbook");
    let mut seen = Vec::new();
    for sheet in ["survey", "choices", "settings"] {
        let range = book.worksheet_range(sheet).expect("sheet");
        let mut rows = range.rows();
        let header: Vec<String> = rows
            .next()
            .expect("header row")
            .iter()
            .map(|c| c.to_string())
            .collect();
        let data: Vec<&[Data]> = rows.collect();
        for (i, column) in header.iter().enumerate() {
            let used = data
                .iter()
                .any(|r| r.get(i).is_some_and(|c| !c.to_string().trim().is_empty()));
            assert!(used, "column {column} of sheet {sheet} is never filled");
            seen.push(format!("{sheet}:{column}"));
        }
    }
    // The columns schemas/README.md documents (a new column would be added there and here).
    for column in [
        "survey:type",
        "survey:name",
        "survey:label::vi",
        "survey:label::en",
        "survey:hint::vi",
        "survey:hint::en",
        "survey:required",
        "survey:relevant",
        "survey:min",
        "survey:max",
        "survey:max_length",
        "survey:range_message::vi",
        "survey:range_message::en",
        "survey:criterion",
        "survey:constraint",
        "survey:constraint_message::vi",
        "survey:constraint_message::en",
        "survey:calculation",
        "survey:appearance",
        "survey:choice_filter",
        "survey:choices_from",
        "survey:prefill",
        "survey:prefill_editable",
        "survey:group_kind",
        "survey:element",
        "survey:in_overall_index",
        "choices:list_name",
        "choices:name",
        "choices:label::vi",
        "choices:label::en",
        "choices:other",
        "choices:exclusive",
        "choices:satisfied_from",
        "choices:no_answer",
        "choices:kenh",
        "settings:form_id",
        "settings:version",
        "settings:title::vi",
        "settings:title::en",
        "settings:default_language",
        "settings:basis",
        "settings:description::vi",
        "settings:description::en",
    ] {
        assert!(seen.iter().any(|s| s == column), "no column {column}");
    }
    // Every item type, and a criteria group of 1–5 scored ratings in the overall index.
    let form = fixture_form();
    let types: std::collections::BTreeSet<String> = form
        .items()
        .map(|(_, i)| {
            serde_json::to_value(i.item_type)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for t in [
        "single_choice",
        "multi_choice",
        "integer",
        "text",
        "date",
        "rating",
        "calculate",
    ] {
        assert!(types.contains(t), "no {t} item");
    }
    let v = serde_json::to_value(&form).unwrap();
    let g1 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["code"] == "G1")
        .unwrap();
    assert_eq!(g1["kind"], "criteria");
    assert_eq!(g1["in_overall_index"], true);
    let ratings = g1["items"].as_array().unwrap();
    assert!((1..=5).contains(&ratings.len()));
    assert!(ratings.iter().all(|i| i["type"] == "rating"));
}

// ---------------------------------------------------------------------------- the server side

/// The fixture with a broken constraint in one cell is refused with its sheet, row, column
/// and the loader's Vietnamese message, and nothing is stored.
async fn broken_workbook_is_refused(people: &fixture::People) {
    let mut form = serde_json::to_value(fixture_form()).unwrap();
    form["groups"][2]["items"][0]["constraint"] = json!(". <= ${Q9}");
    let form: Questionnaire = serde_json::from_value(form).unwrap();
    let err = people
        .admin
        .post_bytes::<Value>(
            "/forms/drafts",
            XLSX_TYPE,
            sipas_xlsform::write_xlsform(&form),
        )
        .await
        .expect_err("a broken workbook is refused");
    let sipas_sync::SyncError::Server(problem) = err else {
        panic!("expected a problem, got {err}");
    };
    assert_eq!(problem.code, "400.3");
    assert_eq!(
        problem.details["issues"],
        json!([{
            "sheet": "survey",
            "row": 16,
            "column": "constraint",
            "message_vi": "Trang survey, dòng 16, cột constraint: câu \"Q1\": biểu thức constraint tham chiếu ${Q9} nhưng phiếu không có câu hỏi này",
            "message_en": "Sheet survey, row 16, column constraint: item \"Q1\": constraint refers to ${Q9}, which does not exist in this form",
        }]),
        "{problem:?}"
    );
    assert!(
        people
            .admin
            .get_json::<Value>(&format!("/forms/{FORM_ID}/{VERSION}"))
            .await
            .is_err(),
        "nothing stored"
    );
}

/// Uploads the workbook as a draft and publishes it; returns the content hash.
async fn upload_and_publish(people: &fixture::People) -> String {
    broken_workbook_is_refused(people).await;
    let xlsx = fixture_xlsx();
    let up: Value = people
        .admin
        .post_bytes("/forms/drafts", XLSX_TYPE, xlsx.clone())
        .await
        .expect("upload the XLSX draft");
    assert_eq!(
        (&up["status"], &up["outcome"], &up["has_xlsx"]),
        (&json!("draft"), &json!("created"), &json!(true)),
        "{up}"
    );
    let uploaded: Questionnaire =
        serde_json::from_value(up["definition"].clone()).expect("definition");
    assert_eq!(uploaded, fixture_form(), "the server read the workbook");
    // A draft cannot be used by a round yet.
    let draft_round = round("2026-E2E-DRAFT");
    assert!(
        people
            .supervisor
            .post_json::<_, Value>("/rounds", &draft_round)
            .await
            .is_err(),
        "a round on a draft is refused"
    );
    let published: Value = people
        .admin
        .post_json(&format!("/forms/{FORM_ID}/{VERSION}/publish"), &json!({}))
        .await
        .expect("publish");
    assert_eq!(published["status"], "published");
    // The workbook is kept with the version, byte for byte.
    let back = people
        .admin
        .get_bytes(&format!("/forms/{FORM_ID}/{VERSION}/xlsx"))
        .await
        .expect("download the workbook");
    assert!(back == xlsx, "the stored workbook differs from the upload");
    published["content_hash"]
        .as_str()
        .expect("content_hash")
        .to_owned()
}

fn round(id: &str) -> Round {
    Round {
        id: id.into(),
        name: format!("Đợt thử biểu mẫu XLSX {id}"),
        form: FormKey {
            form_id: FORM_ID.into(),
            version: VERSION.into(),
        },
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ends_on: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        outside_sample: Default::default(),
    }
}

/// The round on the published version with two assignments (procedure by code) for the
/// surveyor; returns their ids.
async fn round_with_assignments(people: &fixture::People) -> [String; 2] {
    let sup = &people.supervisor;
    let _: Value = sup
        .post_json("/rounds", &round(ROUND))
        .await
        .expect("round");
    let mut csv = String::from("unit_code,procedure_code,name,address,phone\n");
    for i in 1..=2 {
        csv.push_str(&format!(
            "{UNIT_CODE},{PROCEDURE_CODE},{},{},{}\n",
            fixture::contact_name(i),
            fixture::contact_address(i),
            fixture::contact_phone(i)
        ));
    }
    let imported: Value = sup
        .post_bytes(
            &format!("/rounds/{ROUND}/sample"),
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .expect("sample");
    let _: Value = sup
        .post_json(
            &format!("/rounds/{ROUND}/assign"),
            &json!({
                "assignment_ids": imported["assignment_ids"],
                "surveyor_id": people.surveyor.id,
            }),
        )
        .await
        .expect("assign");
    let id = |i: usize| {
        imported["assignment_ids"][i]
            .as_str()
            .expect("assignment id")
            .to_owned()
    };
    [id(0), id(1)]
}

/// The codes of the procedures of `field` in the server's catalogue, sorted.
async fn procedures_of(people: &fixture::People, field: &str) -> Vec<String> {
    let list: Value = people
        .supervisor
        .get_json(&format!("/procedures?field={field}"))
        .await
        .expect("procedures");
    let mut codes: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    codes
}

/// The option values item `code` offers now, sorted.
async fn offered(c: &fantoccini::Client, code: &str) -> Vec<String> {
    let v = js(
        c,
        &format!("document.querySelector('[data-item=\"{code}\"]').dataset.choices"),
    )
    .await;
    let mut out: Vec<String> = v
        .as_str()
        .unwrap_or_default()
        .split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    out.sort();
    out
}

async fn wait_offered(c: &fantoccini::Client, code: &str, want: &[&str]) {
    let mut want: Vec<&str> = want.to_vec();
    want.sort_unstable();
    let joined = serde_json::to_string(&want).unwrap();
    wait_js(
        c,
        &format!(
            "JSON.stringify((document.querySelector('[data-item=\"{code}\"]').dataset.choices || '')
               .split('|').filter(Boolean).sort()) === JSON.stringify({joined})"
        ),
        &format!("{code} offers {want:?}"),
    )
    .await;
}

// ---------------------------------------------------------------------------- the window

#[tokio::test]
async fn xlsx_form_is_published_pulled_filled_offline_synced_and_counted() {
    if !display_available("app_form_pull") {
        return;
    }
    let started = Instant::now();
    let binary = app_binary();
    let shots = artifacts_dir();
    let mut server = TestServer::start(Backend::Sqlite).expect("SQLite test server");
    let people = fixture::seed_people(&server).await;
    let hash = upload_and_publish(&people).await;
    let [assignment, second] = round_with_assignments(&people).await;
    let xay_dung = procedures_of(&people, "xay_dung").await;
    assert!(xay_dung.len() >= 2, "{xay_dung:?}");
    let code = fixture::enrolment_code(&people).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = tmp.path().join("app.db");
    let driver = Driver::start(&[("SIPAS_DB", db.clone().into_os_string())]);

    // ---- online: enrol and pull the assignment, the form and the catalogues
    let c = driver.session(&binary).await;
    app_ready(&c).await;
    create_pin(&c).await;
    enrol(&c, &server.url, &code).await;
    sync_now(&c).await;
    let forms = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('list_forms').then(done, (e) => done(String(e)));",
            vec![],
        )
        .await
        .expect("list_forms");
    assert!(
        forms.as_array().is_some_and(|l| l
            .iter()
            .any(|f| f["form_id"] == FORM_ID && f["version"] == VERSION)),
        "the published form is on the device: {forms}"
    );

    // ---- offline from here
    server.kill();
    click(&c, "[data-nav=\"assignments\"]").await;
    let card = format!("[data-assignment=\"{assignment}\"]");
    click(&c, &format!("{card} [data-action=\"start\"]")).await;
    wait_text(&c, "#form-title", "Phiếu thử đầu cuối: mọi cột XLSX").await;
    // Steps A, B, Q, G1, G9, E, F: G2 (relevant `${A2} >= 18`) waits for the age.
    on_step(&c, "A", "Bước 1/7").await;
    choose(&c, "A1", "khac").await;
    visible(&c, "[data-item=\"A1_other\"]").await;
    choose(&c, "A1", "nu").await;
    type_answer(&c, "A2", "34").await;
    wait_text(&c, "#step-indicator", "Bước 1/8").await;
    type_answer(&c, "A3", "20/11/2026").await;
    saved(&c).await;

    // ---- B: the procedure prefilled read-only from the assignment; two cascades
    next(&c, "B", "Bước 2/8").await;
    let b1 = serde_json::to_string(&format!("q-B1-{PROCEDURE_CODE}")).unwrap();
    wait_js(
        &c,
        &format!(
            "(() => {{ const r = document.getElementById({b1});
                 return !!r && r.checked && r.disabled
                   && r.closest('[data-item]').dataset.readonly === 'true'
                   && r.closest('label').textContent.includes({name}); }})()",
            name = serde_json::to_string(PROCEDURE_NAME).unwrap()
        ),
        "B1 holds the assignment's procedure, read-only, shown by name",
    )
    .await;
    assert_eq!(
        js(
            &c,
            "[...document.querySelectorAll('[data-item=\"B1\"] input')].every((i) => i.disabled)"
        )
        .await,
        Value::Bool(true),
        "no other procedure can be chosen"
    );
    assert_eq!(stored_answers(&c).await["B1"], PROCEDURE_CODE);
    // B3's options follow B2 (choice_filter `kenh = ${B2}` over the `kenh` attribute).
    assert_eq!(offered(&c, "B3").await, Vec::<String>::new());
    choose(&c, "B2", "truc_tuyen").await;
    wait_offered(&c, "B3", &["dvc_quoc_gia", "dvc_tinh"]).await;
    choose(&c, "B3", "dvc_tinh").await;
    saved(&c).await;
    assert_eq!(stored_answers(&c).await["B3"], "dvc_tinh");
    choose(&c, "B2", "truc_tiep").await;
    wait_offered(&c, "B3", &["mot_cua_tinh", "mot_cua_xa"]).await;
    // The earlier choice is no longer offered, so it is cleared.
    wait_js(
        &c,
        "!document.querySelector('[data-item=\"B3\"] input:checked')",
        "B3 cleared",
    )
    .await;
    saved(&c).await;
    assert_eq!(stored_answers(&c).await.get("B3"), None);
    choose(&c, "B3", "mot_cua_xa").await;
    // B5 (catalogue procedures) follows B4 (catalogue fields): `field = ${B4}`.
    wait_js(
        &c,
        "document.querySelector('[data-item=\"B5\"]').hidden",
        "B5 hidden before B4",
    )
    .await;
    choose(&c, "B4", "xay_dung").await;
    visible(&c, "[data-item=\"B5\"]").await;
    let want: Vec<&str> = xay_dung.iter().map(String::as_str).collect();
    wait_offered(&c, "B5", &want).await;
    choose(&c, "B5", &xay_dung[0]).await;
    saved(&c).await;
    screenshot(&c, &shots.join("app-xlsx-form-cascade.png")).await;

    // ---- Q: the constraint blocks "Tiếp" with its message; the calculation is stored
    next(&c, "Q", "Bước 3/8").await;
    type_answer(&c, "Q1", "12").await;
    wait_text(&c, "[data-issue-for=\"Q1\"]", Q1_MESSAGE).await;
    assert_eq!(
        js(
            &c,
            "document.querySelector('[data-issue-for=\"Q1\"]').textContent"
        )
        .await,
        Value::from(Q1_MESSAGE),
        "the form's own message, exactly"
    );
    wait_text(&c, "#next", "Tiếp").await;
    click(&c, "#next").await;
    wait_js(
        &c,
        "!document.getElementById('step-blocked').hidden",
        "Tiếp is refused",
    )
    .await;
    on_step(&c, "Q", "Bước 3/8").await;
    screenshot(&c, &shots.join("app-xlsx-form-constraint.png")).await;
    type_answer(&c, "Q1", "3").await;
    wait_js(
        &c,
        "document.querySelector('[data-issue-for=\"Q1\"]').hidden",
        "message gone",
    )
    .await;
    saved(&c).await;
    // Q2 = if(${Q1} > 1, ${Q1} - 1, 0), computed by the app and stored with the answers.
    let mut calc = Value::Null;
    for _ in 0..50 {
        calc = stored_answers(&c).await["Q2"].clone();
        if calc == json!(2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(calc, json!(2), "the calculation is stored");

    // ---- the criteria groups, expectations and comment
    next(&c, "G1", "Bước 4/8").await;
    rate(&c, "G1_1", 4).await;
    rate(&c, "G1_2", 5).await;
    next(&c, "G2", "Bước 5/8").await;
    rate(&c, "G2_1", 4).await;
    rate(&c, "G2_2", 4).await;
    rate(&c, "G2_3", 2).await; // shown, not scored (criterion: no)
    next(&c, "G9", "Bước 6/8").await;
    rate(&c, "G9_1", 5).await;
    next(&c, "E", "Bước 7/8").await;
    choose(&c, "E1", "thu_tuc").await;
    next(&c, "F", "Bước 8/8").await;
    type_answer(&c, "F1", "Cán bộ hướng dẫn tận tình.").await;
    saved(&c).await;
    click(&c, "#next").await;
    visible(&c, "#screen-review").await;
    submit_and_open_sync(&c).await;

    // ---- the server returns on the same address: sync
    server.restart_same_address();
    sync_now(&c).await;
    wait_js(
        &c,
        "document.getElementById('sync-pending').dataset.pending === '0'",
        "nothing left to send",
    )
    .await;
    c.close().await.expect("end the session");
    driver.wait_apps_gone();

    // ---- the device kept the form it verified
    let store = Store::open_encrypted(&db, PIN).expect("open the app store with the PIN");
    let stored = store
        .form(FORM_ID, VERSION)
        .unwrap()
        .expect("the form is stored on the device");
    assert_eq!(stored.content_hash, hash);
    drop(store);

    // ---- the server stored the response once, with its own calculation
    let records = fixture::server_records(&server, ROUND);
    assert_eq!(records.len(), 1, "{records:?}");
    let (id, rev, _) = records.into_iter().next().unwrap();
    // The sessions live in the server's database: the clients work after the restart.
    let detail: Value = people
        .supervisor
        .get_json(&format!("/responses/{id}/{rev}"))
        .await
        .expect("the stored response");
    let answers = &detail["response"]["answers"];
    assert_eq!(answers["Q1"], 3);
    assert_eq!(answers["Q2"], 2, "{answers}");
    assert_eq!(answers["B1"], PROCEDURE_CODE);
    assert_eq!(answers["B2"], "truc_tiep");
    assert_eq!(answers["B3"], "mot_cua_xa");
    assert_eq!(answers["B5"], xay_dung[0].as_str());
    assert_eq!(answers["A3"], "2026-11-20");

    // ---- counted in the round's index: n = 1, G1 and G2 in the overall index, G9 apart
    let index: Value = people
        .supervisor
        .get_json(&format!("/rounds/{ROUND}/index?format=json"))
        .await
        .expect("round index");
    assert_eq!(index["overall_groups"], json!(["G1", "G2"]), "{index}");
    let total = index["round_totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["round_id"] == ROUND)
        .expect("round total");
    assert_eq!(total["respondents"], 1);
    let criteria: Vec<&str> = total["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(criteria, ["G1_1", "G1_2", "G2_1", "G2_2", "G9_1"]);
    let group = |code: &str| {
        total["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["code"] == code)
            .unwrap_or_else(|| panic!("group {code} in {total}"))
            .clone()
    };
    assert_eq!(group("G1")["valid_n"], 2);
    assert_eq!(group("G1")["mean"], 4.5);
    assert_eq!(group("G2")["valid_n"], 2);
    assert_eq!(group("G2")["mean"], 4.0);
    assert_eq!(group("G9")["in_overall"], false);
    assert_eq!(total["overall"]["valid_n"], 4, "{total}");
    assert_eq!(total["overall"]["satisfied_n"], 4);
    assert_eq!(total["overall"]["mean"], 4.25);

    // ---- a device sending another value for the calculation (an older app): the server
    // stores its own result (a second response, to the second assignment)
    let mut older: Response =
        serde_json::from_value(detail["response"].clone()).expect("the stored response");
    older.id = uuid::Uuid::now_v7();
    older.assignment_id = Some(second.parse().expect("uuid"));
    older.answers.insert("Q2".into(), AnswerValue::Int(99));
    let device = fixture::enrol_device(&server, &people).await;
    let acks = device
        .upload(&UploadBatch {
            records: vec![UploadRecord {
                content_hash: older.content_hash(),
                response: older.clone(),
            }],
        })
        .await
        .expect("upload")
        .acks;
    assert_eq!(acks[0].status, AckStatus::Accepted, "{acks:?}");
    let stored: Value = people
        .supervisor
        .get_json(&format!("/responses/{}/1", older.id))
        .await
        .expect("the second response");
    assert_eq!(
        stored["response"]["answers"]["Q2"], 2,
        "recomputed by the server"
    );
    assert_eq!(fixture::index_respondents(&people, ROUND).await, 2);
    eprintln!(
        "xlsx form end to end in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
