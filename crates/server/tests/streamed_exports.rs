//! Streamed microdata and profile results (issue 14) answer exactly as the in-memory path:
//! one store (SQLite file; PostgreSQL through the test kit) with two rounds of responses,
//! revisions, rejections (also of an older revision), approvals and voids, over three
//! communes in two provinces, agencies of the catalogue and unknown ones, fields, free text
//! with commas, quotes and line breaks; two routers over it: the reference path
//! (`index_from_responses`: every counted response read at once) and the streamed one.
//! For several callers (whole server, a province, an agency) every microdata format and
//! option and every profile breakdown (choice, age bands, rating; JSON, CSV, XLSX; trend,
//! comparison, modes, pooled) must give the same status, headers and bytes (XLSX: the same
//! sheets and cells), and bad input the same problem.
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sipas_core::answer::AnswerValue;
use sipas_core::catalogue::{Agency, AgencyKind};
use sipas_core::response::{Paradata, Response};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{Contact, Decision, ReviewDecision, Round};
use sipas_server::app::{AppState, router};
use sipas_server::clock::ManualClock;
use sipas_server::demo::{ensure_user, ensure_user_in};
use sipas_server::forms::FormRegistry;
use sipas_server::storage::{CatalogueImport, SampleRow, ScopeCodes, ServerStore, open_store};
use sipas_testkit::database::EmptyDatabase;
use sipas_testkit::fixture::fill_answers;
use sipas_testkit::on_both_backends;
use sipas_testkit::reply::{self, Reply};
use sipas_testkit::server::Backend;
use std::sync::Arc;
use uuid::Uuid;

const PASSWORD: &str = "mat-khau-an-toan";
const UNITS: [&str; 3] = ["95001", "95002", "95101"];
const AGENCIES: [Option<&str>; 4] = [Some("BV01"), Some("UB01"), Some("ZZ09"), None];
const FIELDS: [Option<&str>; 3] = [Some("LV1"), None, Some("LV2")];
const TEXTS: [&str; 4] = [
    "bình thường",
    "có dấu phẩy, và \"ngoặc kép\"",
    "hai\r\ndòng",
    "",
];

on_both_backends! {
    streamed_equals_in_memory: streamed_equals_in_memory_on_sqlite, streamed_equals_in_memory_on_postgres;
}

fn agency(code: &str, kind: AgencyKind, unit: &str) -> Agency {
    Agency {
        code: code.into(),
        name: format!("Cơ quan {code}"),
        kind,
        unit_code: unit.into(),
        valid_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        valid_to: None,
    }
}

/// Round `id` starting on `starts_on` with `n` assignments over the units, agencies and
/// fields, all given to `surveyor`; the assignment ids with their units.
async fn round(
    store: &dyn ServerStore,
    id: &str,
    starts_on: NaiveDate,
    n: usize,
    sup: Uuid,
    surveyor: Uuid,
) -> Vec<(Uuid, String)> {
    let form = sipas_testkit::fixture::form();
    store
        .create_round(
            &Round {
                id: id.into(),
                name: format!("Đợt {id}"),
                form: form.key(),
                starts_on,
                ends_on: starts_on + Duration::days(60),
                outside_sample: Default::default(),
            },
            sup,
        )
        .await
        .unwrap();
    let rows: Vec<SampleRow> = (0..n)
        .map(|i| SampleRow {
            id: Uuid::now_v7(),
            // 95101 gets fewer responses: a unit below the minimum N
            unit_code: UNITS[if i % 7 == 0 { 2 } else { i % 2 }].into(),
            procedure: format!("Thủ tục {i}"),
            agency: None,
            contact: Contact {
                name: format!("Người {i}"),
                address: "Hàng Bạc".into(),
                phone: Some("0912345678".into()),
            },
            unit_name: None,
            agency_code: AGENCIES[i % 4].map(str::to_owned),
            field_code: FIELDS[(i / 4) % 3].map(str::to_owned),
            field_name: None,
            procedure_code: None,
        })
        .collect();
    store.import_sample(id, &rows, sup).await.unwrap();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    store.assign(&ids, surveyor, sup).await.unwrap();
    rows.into_iter().map(|r| (r.id, r.unit_code)).collect()
}

/// A valid response of `round` for an assignment, its profile, choices and texts varied
/// by `v`.
fn response(round: &str, assignment: Uuid, unit: &str, v: usize, at: DateTime<Utc>) -> Response {
    let form = sipas_testkit::fixture::form();
    let mut answers = fill_answers(&form, v as u64);
    let options = |code: &str| -> Vec<String> {
        form.item(code)
            .unwrap()
            .options
            .iter()
            .filter(|o| !o.other && !o.exclusive)
            .map(|o| o.value.clone())
            .collect()
    };
    let a1 = options("A1");
    answers.insert("A1".into(), AnswerValue::Text(a1[v % a1.len()].clone()));
    match v % 5 {
        0 => {
            answers.remove("A2");
        }
        k => {
            answers.insert("A2".into(), AnswerValue::Int(15 + 13 * k as i64));
        }
    }
    let e1 = options("E1");
    answers.insert(
        "E1".into(),
        AnswerValue::Codes(e1.iter().take(1 + v % e1.len()).cloned().collect()),
    );
    answers.insert(
        "F1".into(),
        AnswerValue::Text(TEXTS[v % TEXTS.len()].into()),
    );
    Response {
        id: Uuid::now_v7(),
        revision: 1,
        form: form.key(),
        assignment_id: Some(assignment),
        round_id: round.into(),
        unit_code: unit.into(),
        answers,
        started_at: at,
        completed_at: at + Duration::minutes(10),
        paradata: Paradata::default(),
        origin: Default::default(),
    }
}

/// Sends each assignment's response; every third gets a second revision; decisions and
/// voids on some.
async fn answer(
    store: &dyn ServerStore,
    sup: Uuid,
    surveyor: Uuid,
    round_id: &str,
    list: &[(Uuid, String)],
) {
    let at = DateTime::parse_from_rfc3339("2026-11-10T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    for (i, (assignment, unit)) in list.iter().enumerate() {
        let r = response(
            round_id,
            *assignment,
            unit,
            i,
            at + Duration::minutes(i as i64),
        );
        store
            .ingest(&[(r.clone(), r.content_hash())], surveyor, None)
            .await
            .unwrap();
        let mut latest = r.clone();
        if i % 3 == 0 {
            latest = response(round_id, *assignment, unit, i + 1, at + Duration::hours(5));
            latest.id = r.id;
            latest.revision = 2;
            store
                .ingest(&[(latest.clone(), latest.content_hash())], surveyor, None)
                .await
                .unwrap();
        }
        let decide = |revision: u32, decision: Decision| ReviewDecision {
            response_id: r.id,
            revision,
            decision,
            comment: None,
            item_comments: Default::default(),
            decided_at: at + Duration::hours(6),
        };
        match i % 11 {
            // rejected latest: out
            1 => store
                .record_decision(&decide(latest.revision, Decision::Rejected), sup)
                .await
                .unwrap(),
            // rejected older revision: the latest still counts
            3 => store
                .record_decision(&decide(1, Decision::Rejected), sup)
                .await
                .unwrap(),
            5 => store
                .record_decision(&decide(latest.revision, Decision::Approved), sup)
                .await
                .unwrap(),
            8 => {
                store
                    .void_response(r.id, sup, "phỏng vấn lại", at + Duration::hours(7))
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
}

/// The cells of every sheet of a workbook.
fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let names = wb.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let cells = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            other => format!("{other:?}"),
                        })
                        .collect()
                })
                .collect();
            (name, cells)
        })
        .collect()
}

async fn get(app: &Router, uri: &str, token: &str) -> Reply {
    reply::send(app, Method::GET, uri, Some(token), &[], Body::empty()).await
}

async fn streamed_equals_in_memory(backend: Backend) {
    let Some(db) = EmptyDatabase::create(backend) else {
        return;
    };
    let store = open_store(&db.target()).await.unwrap();
    sipas_server::catalogue::seed_if_empty(store.as_ref())
        .await
        .unwrap();
    store
        .import_catalogues(
            &[CatalogueImport::Agencies(vec![
                agency("BV01", AgencyKind::YTe, "01"),
                agency("UB01", AgencyKind::UbndXa, "95001"),
            ])],
            None,
        )
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(
        DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
    ));
    let state = |reference: bool| {
        let mut s = AppState::new(store.clone(), FormRegistry::builtin().unwrap());
        s.password_params = argon2::Params::new(8, 1, 1, None).unwrap();
        s.min_n_floor = 1;
        s.clock = clock.clone();
        s.index_from_responses = reference;
        s
    };
    let (reference, streamed) = (state(true), state(false));
    let (sup, _) = ensure_user(&reference, "gsv", "Giám sát", Role::Supervisor, PASSWORD)
        .await
        .unwrap();
    let scoped = |units: &[&str], agencies: &[&str]| ScopeCodes {
        units: units.iter().map(|u| u.to_string()).collect(),
        agencies: agencies.iter().map(|a| a.to_string()).collect(),
    };
    ensure_user_in(
        &reference,
        "gsv-hn",
        "Hà Nội",
        Role::Supervisor,
        PASSWORD,
        Some(scoped(&["01"], &[])),
    )
    .await
    .unwrap();
    ensure_user_in(
        &reference,
        "gsv-bv",
        "BV01",
        Role::Supervisor,
        PASSWORD,
        Some(scoped(&[], &["BV01"])),
    )
    .await
    .unwrap();
    let (surveyor, _) = ensure_user(&reference, "dtv", "Điều tra viên", Role::Surveyor, PASSWORD)
        .await
        .unwrap();
    let earlier = round(
        &*store,
        "R-2025",
        NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
        20,
        sup.id,
        surveyor.id,
    )
    .await;
    answer(&*store, sup.id, surveyor.id, "R-2025", &earlier).await;
    let this = round(
        &*store,
        "R-2026",
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        90,
        sup.id,
        surveyor.id,
    )
    .await;
    answer(&*store, sup.id, surveyor.id, "R-2026", &this).await;
    let (reference, streamed) = (router(reference), router(streamed));
    let mut tokens = Vec::new();
    for name in ["gsv", "gsv-hn", "gsv-bv"] {
        tokens.push((name, reply::login(&streamed, name, PASSWORD).await));
    }
    let base = "/api/v1/rounds/R-2026";
    let mut uris: Vec<String> = [
        "microdata",
        "microdata?format=csv&free_text=true",
        "microdata?format=sps",
        "microdata?format=sps&free_text=true&blank_small_units=true&min_n=8",
        "microdata?blank_small_units=true&min_n=8",
        "microdata?blank_small_units=true&min_n=1",
        "microdata?format=xlsx",
        "microdata?format=xlsx&blank_small_units=true&min_n=12&free_text=true",
        "microdata?format=sav",
        "microdata?min_n=100000",
        "results?by=profile:A1",
        "results?by=profile:A1&trend=true&min_n=2",
        "results?by=profile:A2&compare_to=none&aggregation=pooled",
        "results?by=profile:A2&format=csv",
        "results?by=profile:A1&format=xlsx&min_n=3",
        "results?by=profile:G1_1&mode=all",
        "results?by=profile:A1&compare_to=R-2025&map=G1_1:G1_1",
        "results?by=profile:A1&mode=self_open",
        "results?by=profile:A1&mode=nonsense",
        "results?by=profile:F1",
        "results?by=profile:NOPE",
        "results?by=profile:A1&compare_to=R-2026",
        "results?by=profile:A1&compare_to=R-1999",
    ]
    .iter()
    .map(|u| format!("{base}/{u}"))
    .collect();
    uris.push("/api/v1/rounds/R-1999/microdata".into());
    uris.push("/api/v1/rounds/R-1999/results?by=profile:A1".into());
    let mut checked = 0;
    for (who, token) in &tokens {
        for uri in &uris {
            let a = get(&reference, uri, token).await;
            let b = get(&streamed, uri, token).await;
            assert_eq!(a.status, b.status, "{who} {uri}");
            for h in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION] {
                assert_eq!(a.headers.get(&h), b.headers.get(&h), "{who} {uri} {h}");
            }
            if uri.contains("xlsx") && a.status == StatusCode::OK {
                assert_eq!(sheets(&a.body), sheets(&b.body), "{who} {uri}");
            } else {
                assert_eq!(
                    String::from_utf8_lossy(&a.body),
                    String::from_utf8_lossy(&b.body),
                    "{who} {uri}"
                );
            }
            if a.status == StatusCode::OK && uri.contains("microdata?format=csv") {
                // Not vacuous: rows in the caller's scope.
                assert!(a.body.len() > 1000, "{who} {uri}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, tokens.len() * uris.len());

    // The review queue in each scope, whole and walked in pages of 7: what the scope admits
    // by the binding's unit and the assignment's agency (decided before any body is read).
    let queue = |body: &[u8]| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["response_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let current = |keep: fn(usize) -> bool| {
        (0..this.len())
            .filter(|i| i % 11 != 8 && keep(*i)) // 8: voided
            .count()
    };
    let mut seen = std::collections::BTreeMap::new();
    for (who, token) in &tokens {
        let uri = "/api/v1/review/queue?round_id=R-2026&state=all";
        let whole = get(&streamed, uri, token).await;
        if *who == "gsv-hn" {
            // Hà Nội's supervisor does not see this round (its units are elsewhere).
            assert_eq!(whole.status, StatusCode::NOT_FOUND);
            continue;
        }
        assert_eq!(whole.status, StatusCode::OK, "{who}");
        let whole = queue(&whole.body);
        let (mut paged, mut after) = (Vec::new(), String::new());
        loop {
            let page = get(&streamed, &format!("{uri}&limit=7{after}"), token).await;
            let page = queue(&page.body);
            paged.extend(page.iter().cloned());
            match page.last() {
                Some(last) if page.len() == 7 => after = format!("&after={last}"),
                _ => break,
            }
        }
        assert_eq!(paged, whole, "{who}: pages walk the same queue");
        seen.insert(*who, whole);
    }
    assert_eq!(seen["gsv"].len(), current(|_| true));
    // AGENCIES[0] is BV01.
    assert_eq!(seen["gsv-bv"].len(), current(|i| i % 4 == 0));
    assert!(seen["gsv-bv"].iter().all(|id| seen["gsv"].contains(id)));
}
