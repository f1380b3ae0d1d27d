//! Seeding a test server over HTTP (users, round, sample, assignments, enrolment codes),
//! building valid answers for a form, and reading back what the server stored.

use crate::pg::with_pg;
use crate::server::{ADMIN, ADMIN_PASSWORD, Backend, TestServer};
use chrono::{NaiveDate, Utc};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::answer_validation::validate_response;
use sipas_core::builtin::builtin_form;
use sipas_core::questionnaire::{FormKey, ItemType, Questionnaire};
use sipas_core::relevance::item_is_relevant;
use sipas_core::response::{Paradata, Response, new_id};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    EnrolmentCode, EnrolmentCodeRequest, Round, UploadBatch, UploadRecord, UserInfo,
};
use sipas_store::{NewDraft, ResponseStatus, Store};
use sipas_sync::ApiClient;
use std::collections::BTreeSet;
use std::time::Duration;
use uuid::Uuid;

/// Form used by every round in these tests.
pub const FORM_ID: &str = "sipas-6-groups";
/// Its version.
pub const FORM_VERSION: &str = "2026.1";
/// Unit code of every sampled respondent: a ward of the unit seed
/// (`schemas/units/vn-units-seed.json`) valid in 2026, when the test rounds run.
pub const UNIT_CODE: &str = "95001";
/// Password of the seeded supervisor.
pub const SUPERVISOR_PASSWORD: &str = "supervisor-pass-1";

/// The test form key.
pub fn form_key() -> FormKey {
    FormKey {
        form_id: FORM_ID.into(),
        version: FORM_VERSION.into(),
    }
}

/// The test form.
pub fn form() -> Questionnaire {
    shared_form().clone()
}

/// The test form, loaded once per process (loading it takes most of building a response:
/// the 60,000 responses of an ingest benchmark took 43 s to build before).
pub fn shared_form() -> &'static Questionnaire {
    static FORM: std::sync::OnceLock<Questionnaire> = std::sync::OnceLock::new();
    FORM.get_or_init(|| {
        builtin_form(FORM_ID, FORM_VERSION).expect("built-in form sipas-6-groups@2026.1")
    })
}

/// The people of a seeded server, each with a signed-in client where they sign in.
pub struct People {
    /// Admin session.
    pub admin: ApiClient,
    /// Supervisor session.
    pub supervisor: ApiClient,
    /// The surveyor (device-only user).
    pub surveyor: UserInfo,
}

/// A client of `server` with a short timeout (trusting its certificate, for HTTPS servers):
/// 30 s, or `SIPAS_BENCH_CLIENT_TIMEOUT_SECS` (the scale benchmarks ask the reference path,
/// which re-reads a whole round, for its figures at 1,000,000 responses).
pub fn client(server: &TestServer) -> ApiClient {
    let secs = std::env::var("SIPAS_BENCH_CLIENT_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let c = ApiClient::with_timeout(&server.url, Duration::from_secs(secs)).expect("API client");
    match server.client_root_pem() {
        Some(pem) => c
            .with_root_certificate_pem(pem)
            .expect("trust the test certificate"),
        None => c,
    }
}

/// Signs in as admin and creates a supervisor and a surveyor.
pub async fn seed_people(server: &TestServer) -> People {
    let mut admin = client(server);
    admin
        .login(ADMIN, ADMIN_PASSWORD)
        .await
        .expect("admin login");
    let create = |username: &str, role: Role, password: Option<&str>| {
        serde_json::json!({
            "username": username,
            "display_name": format!("Người dùng {username}"),
            "role": role,
            "password": password,
        })
    };
    let _: UserInfo = admin
        .post_json(
            "/users",
            &create("giamsat1", Role::Supervisor, Some(SUPERVISOR_PASSWORD)),
        )
        .await
        .expect("create supervisor");
    let surveyor: UserInfo = admin
        .post_json("/users", &create("dtv1", Role::Surveyor, None))
        .await
        .expect("create surveyor");
    let mut supervisor = client(server);
    supervisor
        .login("giamsat1", SUPERVISOR_PASSWORD)
        .await
        .expect("supervisor login");
    People {
        admin,
        supervisor,
        surveyor,
    }
}

/// Distinctive fragments of every fixture contact, which must never appear in a log line or
/// a server export (`scripts/check-logs.sh` greps for the same strings).
pub const PII_MARKERS: [&str; 3] = ["Bảo Mật", "Hàng Bạc", "0912345"];

/// Name of fixture respondent `i`, e.g. `Nguyễn Thị Bảo Mật 7`.
pub fn contact_name(i: usize) -> String {
    format!("Nguyễn Thị Bảo Mật {i}")
}

/// Address of fixture respondent `i`, e.g. `Số 7 phố Hàng Bạc`.
pub fn contact_address(i: usize) -> String {
    format!("Số {i} phố Hàng Bạc")
}

/// Phone of fixture respondent `i`, e.g. `0912345007`.
pub fn contact_phone(i: usize) -> String {
    format!("0912345{i:03}")
}

/// The last day of the test rounds: a year from today, never before 31/12/2026 (the
/// self-completion screening refuses a visit after the round's end, and tests visit today:
/// a fixed end date made them fail once it passed).
pub fn round_end() -> NaiveDate {
    let fixed = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a date");
    fixed.max(Utc::now().date_naive() + chrono::Days::new(365))
}

/// Creates round `round_id` (form sipas-6-groups@2026.1), imports `n` sampled respondents
/// from CSV (contacts [`contact_name`], [`contact_address`], [`contact_phone`]) and assigns
/// them all to the surveyor. Returns the assignment ids.
pub async fn seed_round(people: &People, round_id: &str, n: usize) -> Vec<Uuid> {
    let sup = &people.supervisor;
    let round = Round {
        id: round_id.into(),
        name: format!("Đợt thử nghiệm {round_id}"),
        form: form_key(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ends_on: round_end(),
        outside_sample: Default::default(),
    };
    let _: Round = sup
        .post_json("/rounds", &round)
        .await
        .expect("create round");
    let mut csv = String::from("unit_code,procedure,agency,name,address,phone\n");
    for i in 0..n {
        csv.push_str(&format!(
            "{UNIT_CODE},Cấp giấy khai sinh,UBND phường,{},{},{}\n",
            contact_name(i),
            contact_address(i),
            contact_phone(i)
        ));
    }
    let imported: serde_json::Value = sup
        .post_bytes(
            &format!("/rounds/{round_id}/sample"),
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .expect("import sample");
    let ids: Vec<Uuid> = serde_json::from_value(imported["assignment_ids"].clone())
        .expect("assignment ids in the import result");
    assert_eq!(ids.len(), n);
    for chunk in ids.chunks(5000) {
        let _: serde_json::Value = sup
            .post_json(
                &format!("/rounds/{round_id}/assign"),
                &serde_json::json!({ "assignment_ids": chunk, "surveyor_id": people.surveyor.id }),
            )
            .await
            .expect("assign");
    }
    ids
}

/// Name the sample frame of [`seed_walk_in_round`] gives [`UNIT_CODE`].
/// (the unit catalogue's name of [`UNIT_CODE`]; the server takes names from the catalogue).
pub const UNIT_NAME: &str = "Phường Ba Đình";

/// Creates round `round_id` taking walk-ins at the one-stop shop (not replacements), at most
/// 5 per unit, with one sampled respondent in [`UNIT_CODE`] named [`UNIT_NAME`] in the frame,
/// left unassigned: a device pulls the round and its unit but no assignment.
pub async fn seed_walk_in_round(people: &People, round_id: &str) {
    let round = Round {
        id: round_id.into(),
        name: format!("Đợt Một cửa {round_id}"),
        form: form_key(),
        starts_on: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        ends_on: round_end(),
        outside_sample: sipas_protocol::wire::OutsideSample {
            replacement: false,
            walk_in: true,
            cap_per_unit: 5,
        },
    };
    let _: Round = people
        .supervisor
        .post_json("/rounds", &round)
        .await
        .expect("create walk-in round");
    let csv = format!(
        "unit_code,unit_name,procedure,name,address\n{UNIT_CODE},{UNIT_NAME},Cấp giấy khai sinh,{},{}\n",
        contact_name(0),
        contact_address(0)
    );
    let _: serde_json::Value = people
        .supervisor
        .post_bytes(
            &format!("/rounds/{round_id}/sample"),
            "text/csv",
            csv.into_bytes(),
        )
        .await
        .expect("import sample");
}

/// A fresh enrolment code for the surveyor's device, issued by the supervisor.
pub async fn enrolment_code(people: &People) -> String {
    let code: EnrolmentCode = people
        .supervisor
        .post_json(
            "/enrolment-codes",
            &EnrolmentCodeRequest {
                user_id: people.surveyor.id,
                valid_minutes: Some(60),
            },
        )
        .await
        .expect("issue enrolment code");
    code.code
}

/// Enrols a new device for the surveyor: a client holding the device token.
pub async fn enrol_device(server: &TestServer, people: &People) -> ApiClient {
    let code = enrolment_code(people).await;
    let mut device = client(server);
    device
        .enrol(&code, "Máy tính bảng thử nghiệm")
        .await
        .expect("enrol device");
    device
}

/// A valid answer set for `form`: every required relevant item answered (age 30, first
/// ordinary option of each choice, ratings varied by `variant`), checked with
/// [`validate_response`].
pub fn fill_answers(form: &Questionnaire, variant: u64) -> Answers {
    let mut answers = Answers::new();
    for (n, (group, item)) in form.items().enumerate() {
        if !item.required || !item_is_relevant(group, item, &answers) {
            continue;
        }
        let ordinary = || {
            item.options
                .iter()
                .find(|o| !o.other && !o.exclusive)
                .map(|o| o.value.clone())
                .unwrap_or_else(|| panic!("{} has no ordinary option", item.code))
        };
        let value = match item.item_type {
            ItemType::Integer => AnswerValue::Int(
                30_i64.clamp(item.min.unwrap_or(i64::MIN), item.max.unwrap_or(i64::MAX)),
            ),
            ItemType::Rating => {
                let scale = item
                    .scale
                    .as_ref()
                    .and_then(|s| form.scales.get(s))
                    .unwrap_or_else(|| panic!("{} has no scale", item.code));
                let points = &scale.points;
                AnswerValue::Int(points[(variant as usize + n) % points.len()].value)
            }
            ItemType::SingleChoice => AnswerValue::Text(ordinary()),
            ItemType::MultiChoice => AnswerValue::Codes(vec![ordinary()]),
            ItemType::Text => AnswerValue::Text(format!("Thủ tục hành chính số {variant}")),
            ItemType::Date => AnswerValue::Text("2026-11-02".into()),
            // Computed, never entered (and never required).
            ItemType::Calculate => continue,
        };
        answers.insert(item.code.clone(), value);
    }
    if let Err(issues) = validate_response(form, &answers) {
        panic!("fill_answers built an invalid answer set: {issues:?}");
    }
    answers
}

/// Interviews `n` of the store's assignments the way the app does: draft, one autosave per
/// answer, complete. Returns the completed responses.
pub fn interview(store: &mut Store, n: usize) -> Vec<Response> {
    let form = form();
    let assignments = store.list_assignments().expect("list assignments");
    assert!(
        assignments.len() >= n,
        "only {} assignments",
        assignments.len()
    );
    assignments
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, a)| {
            let draft = store
                .create_draft(&NewDraft {
                    assignment_id: Some(a.id),
                    form: a.form.clone(),
                    round_id: a.round_id.clone(),
                    unit_code: a.unit_code.clone(),
                })
                .expect("create draft");
            for (code, value) in fill_answers(&form, i as u64) {
                store
                    .save_answer(draft, &code, Some(value), Some(1500))
                    .expect("save answer");
            }
            store
                .complete_draft(draft, Utc::now())
                .expect("complete draft")
        })
        .collect()
}

/// Builds a completed response (revision 1) for an assignment of the test round, without a
/// device store.
pub fn response_for(round_id: &str, assignment_id: Uuid, variant: u64) -> Response {
    let now = Utc::now();
    Response {
        id: new_id(),
        revision: 1,
        form: form_key(),
        assignment_id: Some(assignment_id),
        round_id: round_id.into(),
        unit_code: UNIT_CODE.into(),
        answers: fill_answers(shared_form(), variant),
        started_at: now - chrono::Duration::minutes(12),
        completed_at: now,
        paradata: Paradata::default(),
        origin: Default::default(),
    }
}

/// Queues one completed response per assignment in the store (one transaction each: the
/// fast path for large tests). Returns them.
pub fn queue_responses(
    store: &mut Store,
    round_id: &str,
    assignment_ids: &[Uuid],
) -> Vec<Response> {
    assignment_ids
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let r = response_for(round_id, *a, i as u64);
            store
                .insert_response(&r, ResponseStatus::Queued)
                .expect("queue response");
            r
        })
        .collect()
}

/// Upload batches of at most `batch` records: one completed response (see [`response_for`])
/// per assignment, with its content hash, as a device would send them.
pub fn upload_batches(round_id: &str, assignment_ids: &[Uuid], batch: usize) -> Vec<UploadBatch> {
    assignment_ids
        .chunks(batch.max(1))
        .enumerate()
        .map(|(b, chunk)| UploadBatch {
            records: chunk
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let response = response_for(round_id, *a, (b * batch + i) as u64);
                    UploadRecord {
                        content_hash: response.content_hash(),
                        response,
                    }
                })
                .collect(),
        })
        .collect()
}

/// `(id, revision, content hash)` of a response.
pub type RecordKey = (Uuid, u32, String);

/// The key of a response.
pub fn key(r: &Response) -> RecordKey {
    (r.id, r.revision, r.content_hash())
}

/// Every response revision of `round_id` stored on the server, read from its database.
pub fn server_records(server: &TestServer, round_id: &str) -> BTreeSet<RecordKey> {
    match server.backend {
        Backend::Sqlite => {
            let path = server.sqlite_path().expect("SQLite server");
            let conn = rusqlite::Connection::open(path).expect("open the server database");
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            let mut stmt = conn
                .prepare(
                    "SELECT CAST(id AS TEXT), revision, content_hash FROM responses
                     WHERE round_id = ?1",
                )
                .expect("query server responses");
            stmt.query_map([round_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .unwrap()
            .map(|row| {
                let (id, rev, hash) = row.unwrap();
                (
                    Uuid::parse_str(&id).unwrap(),
                    u32::try_from(rev).unwrap(),
                    hash,
                )
            })
            .collect()
        }
        Backend::Postgres => {
            let round = round_id.to_string();
            with_pg(&server.database(), move |c| {
                Box::pin(async move {
                    c.query(
                        "SELECT id::text, revision, content_hash FROM responses
                         WHERE round_id = $1",
                        &[&round],
                    )
                    .await
                    .expect("query server responses")
                    .into_iter()
                    .map(|row| {
                        let id: String = row.get(0);
                        let rev: i32 = row.get(1);
                        let hash: String = row.get(2);
                        (
                            Uuid::parse_str(&id).unwrap(),
                            u32::try_from(rev).unwrap(),
                            hash,
                        )
                    })
                    .collect()
                })
            })
        }
    }
}

/// Respondents counted by the server's SIPAS index for the whole round.
pub async fn index_respondents(people: &People, round_id: &str) -> u64 {
    let report: serde_json::Value = people
        .supervisor
        .get_json(&format!("/rounds/{round_id}/index?format=json"))
        .await
        .expect("round index");
    report["round_totals"]
        .as_array()
        .expect("round_totals in the index report")
        .iter()
        .find(|c| c["round_id"] == round_id)
        .map_or(0, |c| c["respondents"].as_u64().expect("respondents"))
}
