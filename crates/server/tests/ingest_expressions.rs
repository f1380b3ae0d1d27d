//! Ingest of forms with expressions: the server's stateless record check
//! (`sipas_server::validation::check`, what the sync handler and hand-over import run on every
//! uploaded record) enforces `constraint`s with a specific problem (issue kind `constraint`,
//! the form's message), recomputes every `calculate` item and stores its own value (an
//! uploaded value that differs is replaced, not refused), with `today()` = the date of the
//! response's `started_at`.
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::form_loader::load_form;
use sipas_core::response::Response;
use sipas_protocol::wire::{AckReason, UploadRecord};
use sipas_server::forms::FormRegistry;
use sipas_server::ingest::Checked;
use sipas_server::validation::{Incoming, check};
use uuid::Uuid;

fn registry() -> FormRegistry {
    let form = load_form(
        &json!({
            "format": 1, "form_id": "expr-test", "version": "1", "title": {"vi": "Phiếu thử"},
            "groups": [{"code": "A", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                {"code": "BIRTH", "type": "date", "label": {"vi": "Ngày sinh"}, "required": true},
                {"code": "AGE", "type": "calculate", "label": {"vi": "Tuổi"},
                 "calculation": "date-diff-years(${BIRTH}, today())"},
                {"code": "VISITS", "type": "integer", "label": {"vi": "Số lần đến"}, "min": 1, "max": 20,
                 "constraint": ". <= ${AGE}",
                 "constraint_message": {"vi": "Số lần đến không thể lớn hơn số tuổi.",
                                        "en": "Visits cannot exceed the age."}},
                {"code": "RATE", "type": "calculate", "label": {"vi": "Tỉ lệ"},
                 "calculation": "round(${VISITS} div ${AGE}, 2)"},
                {"code": "ADULT", "type": "text", "label": {"vi": "Ghi chú người lớn"},
                 "relevant": "${AGE} >= 18"}
            ]}]
        })
        .to_string(),
    )
    .expect("the test form loads");
    let r = FormRegistry::builtin().expect("built-in forms");
    r.insert(form);
    r
}

fn response(answers: serde_json::Value, started: &str) -> Response {
    let started: DateTime<Utc> = started.parse().unwrap();
    serde_json::from_value(json!({
        "id": Uuid::now_v7(), "revision": 1,
        "form": {"form_id": "expr-test", "version": "1"},
        "round_id": "2026-T-1", "unit_code": "00001",
        "answers": answers,
        "started_at": started, "completed_at": started + Duration::minutes(20),
    }))
    .unwrap()
}

fn run(r: Response) -> Checked {
    let hash = r.content_hash();
    let now: DateTime<Utc> = "2026-12-31T00:00:00Z".parse().unwrap();
    let record = UploadRecord {
        response: r,
        content_hash: hash,
    };
    // Through the wire form, as the sync handler receives it.
    let json = serde_json::to_string(&record).unwrap();
    check(&registry(), Incoming::decode(&json), now)
}

fn stored(c: Checked) -> (Answers, String) {
    match c {
        Checked::Valid { response, hash } => (response.answers, hash),
        Checked::Refused(r) => panic!("refused: {} {:?}", r.detail, r.issues),
    }
}

#[test]
fn calculations_are_recomputed_and_stored_by_the_server() {
    // Started on 2 December 2026 (UTC): born 3 December 2000 → 25, not yet 26.
    let r = response(
        json!({"BIRTH": "2000-12-03", "VISITS": 5, "AGE": 99, "RATE": "stale"}),
        "2026-12-02T08:00:00Z",
    );
    let uploaded_hash = r.content_hash();
    let (answers, hash) = stored(run(r));
    assert_eq!(answers["AGE"], AnswerValue::Int(25));
    assert_eq!(answers["RATE"], AnswerValue::Text("0.2".into()));
    assert_eq!(answers["VISITS"], AnswerValue::Int(5));
    // The record keeps the identity the device gave it.
    assert_eq!(hash, uploaded_hash);

    // A day later the same birth date gives 26: `today()` is the date of `started_at`.
    let r = response(
        json!({"BIRTH": "2000-12-03", "VISITS": 13}),
        "2026-12-03T00:30:00Z",
    );
    let (answers, _) = stored(run(r));
    assert_eq!(answers["AGE"], AnswerValue::Int(26));
    assert_eq!(answers["RATE"], AnswerValue::Text("0.5".into()));
}

#[test]
fn a_failed_constraint_is_refused_with_its_message() {
    let r = response(
        json!({"BIRTH": "2016-01-01", "VISITS": 12}),
        "2026-12-02T08:00:00Z",
    );
    let Checked::Refused(refusal) = run(r) else {
        panic!("a visit count above the age must be refused");
    };
    assert_eq!(refusal.reason, AckReason::InvalidAnswers);
    assert_eq!(refusal.issues.len(), 1, "{:?}", refusal.issues);
    let issue = &refusal.issues[0];
    assert_eq!(issue.item_code, "VISITS");
    assert_eq!(issue.kind, "constraint");
    assert_eq!(issue.message_vi, "Số lần đến không thể lớn hơn số tuổi.");
    assert_eq!(issue.message, "Visits cannot exceed the age.");
}

#[test]
fn string_relevance_and_range_use_the_computed_values() {
    // ADULT applies only from 18: a 10-year-old's answer to it is not relevant.
    let r = response(
        json!({"BIRTH": "2016-01-01", "VISITS": 3, "ADULT": "x"}),
        "2026-12-02T08:00:00Z",
    );
    let Checked::Refused(refusal) = run(r) else {
        panic!("an answer to a skipped item must be refused");
    };
    let kinds: Vec<(&str, &str)> = refusal
        .issues
        .iter()
        .map(|i| (i.item_code.as_str(), i.kind.as_str()))
        .collect();
    assert_eq!(kinds, [("ADULT", "not_relevant")]);

    // min/max are still checked; without range_message the constraint_message is used.
    let r = response(
        json!({"BIRTH": "1950-01-01", "VISITS": 21}),
        "2026-12-02T08:00:00Z",
    );
    let Checked::Refused(refusal) = run(r) else {
        panic!("21 visits is above max");
    };
    assert_eq!(refusal.issues[0].kind, "out_of_range");
    assert_eq!(
        refusal.issues[0].message_vi,
        "Số lần đến không thể lớn hơn số tuổi."
    );

    // An adult may answer it; a blank birth date leaves AGE empty (not stored) and the
    // required birth date is reported.
    let (answers, _) = stored(run(response(
        json!({"BIRTH": "1990-06-15", "VISITS": 2, "ADULT": "Người lớn"}),
        "2026-12-02T08:00:00Z",
    )));
    assert_eq!(answers["AGE"], AnswerValue::Int(36));
    let Checked::Refused(refusal) = run(response(json!({"AGE": 40}), "2026-12-02T08:00:00Z"))
    else {
        panic!("the birth date is required");
    };
    let kinds: Vec<&str> = refusal.issues.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["required"]);
}
