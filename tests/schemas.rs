//! The questionnaires shipped in `schemas/` against both checkers: the formal JSON Schema
//! (`schemas/questionnaire.schema.json`) and the core loader's semantic checks.
use serde_json::Value;
use sipas_core::builtin::BUILTIN_FORM_SOURCES;
use sipas_core::form_loader::load_form;
use sipas_core::units::UnitTree;

fn schema() -> Value {
    serde_json::from_str(include_str!("../schemas/questionnaire.schema.json"))
        .expect("questionnaire.schema.json is JSON")
}

#[test]
fn shipped_forms_match_the_json_schema_and_the_loader() {
    let validator = jsonschema::validator_for(&schema()).expect("the JSON Schema compiles");
    for (path, source) in BUILTIN_FORM_SOURCES {
        let doc: Value = serde_json::from_str(source).expect("form is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{path} violates the JSON Schema: {errors:?}"
        );
        let form = load_form(source).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(form.items().count() > 20, "{path} has its items");
    }
}

/// The variants authored in XLSX (`crates/xlsform`) and published through the dashboard rather
/// than built in: their generated JSON passes both checkers too.
#[test]
fn xlsx_authored_variants_match_the_json_schema_and_the_loader() {
    let validator = jsonschema::validator_for(&schema()).expect("the JSON Schema compiles");
    for (path, source) in [
        (
            "sipas-organisations/2026.1.json",
            include_str!("../schemas/sipas-organisations/2026.1.json"),
        ),
        (
            "sipas-service-units/2026.1.json",
            include_str!("../schemas/sipas-service-units/2026.1.json"),
        ),
    ] {
        let doc: Value = serde_json::from_str(source).expect("form is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(
            errors.is_empty(),
            "{path} violates the JSON Schema: {errors:?}"
        );
        let form = load_form(source).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(path, format!("{}/{}.json", form.form_id, form.version));
        assert!(form.items().count() > 20, "{path} has its items");
    }
}

#[test]
fn schema_and_loader_both_reject_a_broken_copy_with_its_path() {
    let (_, source) = BUILTIN_FORM_SOURCES[0];
    let mut doc: Value = serde_json::from_str(source).unwrap();
    // Break one rating item: point it at an undefined scale.
    doc["groups"][2]["items"][0]["scale"] = Value::from("sat7");
    // And give an integer item an impossible range.
    doc["groups"][0]["items"][1]["min"] = Value::from(200);
    let broken = serde_json::to_string(&doc).unwrap();

    let err = load_form(&broken).expect_err("loader rejects");
    let paths: Vec<&str> = err.issues().iter().map(|i| i.path.as_str()).collect();
    assert!(
        paths.contains(&"$.groups[2].items[0].scale"),
        "undefined scale reported at its path: {paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("$.groups[0].items[1]")),
        "bad range reported at its path: {paths:?}"
    );

    // A type error is caught by the JSON Schema too.
    doc["groups"][0]["items"][1]["min"] = Value::from("eighteen");
    let validator = jsonschema::validator_for(&schema()).unwrap();
    assert!(!validator.is_valid(&doc));
}

#[test]
fn shipped_unit_seed_builds_a_tree() {
    let tree = UnitTree::from_json(include_str!("../schemas/units/vn-units-seed.json"))
        .expect("unit seed is consistent");
    let after = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let before = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    assert!(
        tree.roots(after).len() < tree.roots(before).len(),
        "provinces merged in 2025"
    );
}

/// A copy of a shipped form using every field of the expression language (issue 12) is valid
/// for both checkers; misplacing those fields is caught by both.
#[test]
fn expression_fields_match_the_json_schema_and_the_loader() {
    let (_, source) = BUILTIN_FORM_SOURCES[0];
    let mut doc: Value = serde_json::from_str(source).unwrap();
    let first = doc["groups"][0]["items"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let extra = serde_json::json!({
        "code": "X", "kind": "screening", "title": {"vi": "Bổ sung"},
        "relevant": format!("${{{first}}} != ''"),
        "items": [
            {"code": "X_BIRTH", "type": "date", "label": {"vi": "Ngày sinh"},
             "constraint": ". < today()", "appearance": "minimal",
             "constraint_message": {"vi": "Ngày sinh phải trước hôm nay.", "en": "Before today."}},
            {"code": "X_AGE", "type": "calculate", "label": {"vi": "Tuổi"},
             "calculation": "date-diff-years(${X_BIRTH}, today())"},
            {"code": "X_REGION", "type": "single_choice", "label": {"vi": "Miền"},
             "relevant": {"not": "${X_AGE} < 18"},
             "options": [{"value": "n", "label": {"vi": "Bắc"}, "attrs": {"big": "1"}},
                         {"value": "s", "label": {"vi": "Nam"}}],
             "choice_filter": "big = '1' or ${X_AGE} > 60"},
            {"code": "X_AGENCY", "type": "single_choice", "label": {"vi": "Cơ quan"},
             "choices_from": "agencies", "choice_filter": "unit = ${X_REGION}",
             "prefill": {"from": "agency", "editable": false}}
        ]
    });
    doc["groups"].as_array_mut().unwrap().push(extra);
    let validator = jsonschema::validator_for(&schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let text = serde_json::to_string(&doc).unwrap();
    load_form(&text).unwrap_or_else(|e| panic!("{e}"));

    // A calculate item without its calculation: both reject it.
    let last = doc["groups"].as_array().unwrap().len() - 1;
    doc["groups"][last]["items"][1]
        .as_object_mut()
        .unwrap()
        .remove("calculation");
    assert!(!validator.is_valid(&doc));
    let err = load_form(&serde_json::to_string(&doc).unwrap()).expect_err("loader rejects");
    let issue = &err.issues()[0];
    assert_eq!(issue.item.as_deref(), Some("X_AGE"));
    assert_eq!(issue.field.as_deref(), Some("calculation"));
}
