//! The `sipas-form` command: conversions both ways, `check`, and its exit codes.
mod support;

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sipas-form"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn schema(path: &str) -> String {
    format!("{}/../../schemas/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn converts_both_ways_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("f.xlsx");
    let json = dir.path().join("f.json");
    let (xlsx, json) = (xlsx.to_str().unwrap(), json.to_str().unwrap());
    let source = schema("sipas-6-groups/2026.1.json");
    let (code, out, _) = run(&["to-xlsx", &source, xlsx]);
    assert_eq!(code, 0);
    assert!(out.contains("sipas-6-groups 2026.1"), "{out}");
    let (code, _, err) = run(&["to-json", xlsx, json]);
    assert_eq!(code, 0, "{err}");
    let back: sipas_core::questionnaire::Questionnaire =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let original =
        sipas_core::form_loader::load_form(&std::fs::read_to_string(&source).unwrap()).unwrap();
    assert_eq!(back, original);
    for file in [xlsx, json] {
        let (code, out, _) = run(&["check", file]);
        assert_eq!(code, 0);
        assert_eq!(
            out.trim(),
            "Biểu mẫu hợp lệ / the form is valid: sipas-6-groups 2026.1 — 10 nhóm, 41 câu hỏi."
        );
    }
}

#[test]
fn shipped_json_is_what_the_command_makes_of_the_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    for form_id in ["sipas-organisations", "sipas-service-units"] {
        let out = dir.path().join(format!("{form_id}.json"));
        let (code, _, err) = run(&[
            "to-json",
            &schema(&format!("{form_id}/2026.1.xlsx")),
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            std::fs::read_to_string(schema(&format!("{form_id}/2026.1.json"))).unwrap(),
            "{form_id}: regenerate the JSON with `sipas-form to-json`"
        );
    }
}

#[test]
fn check_lists_problems_in_vietnamese_with_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut sheets = support::every_column();
    support::set(&mut sheets, "survey", 5, "type", "datetime");
    support::set(&mut sheets, "survey", 4, "min", "200");
    let bad = dir.path().join("bad.xlsx");
    std::fs::write(&bad, support::workbook(&sheets)).unwrap();
    let (code, out, err) = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("Trang survey, dòng 5, cột type: kiểu \"datetime\" không hợp lệ"),
        "{err}"
    );
    assert!(
        err.contains("Biểu mẫu có 1 lỗi / the form has 1 problem(s)."),
        "{err}"
    );

    // A JSON definition: loader findings with their JSON path, in Vietnamese.
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(schema("sipas-6-groups/2026.1.json")).unwrap(),
    )
    .unwrap();
    v["groups"][0]["items"][1]["min"] = serde_json::json!(200);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let (code, _, err) = run(&["check", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("$.groups[0].items[1].min: min lớn hơn max; sửa lại khoảng giá trị"),
        "{err}"
    );
    // Malformed JSON: one problem at `$`, with its line and column.
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"format\": 1,,\n}").unwrap();
    let (code, _, err) = run(&["check", broken.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(
            "$: JSON sai cú pháp; sửa theo vị trí (dòng, cột) trong chi tiết: malformed JSON: "
        ),
        "{err}"
    );
    assert!(err.contains("line 2"), "{err}");
    // to-json refuses a bad workbook and writes nothing.
    let out = dir.path().join("out.json");
    let (code, _, _) = run(&[
        "to-json",
        dir.path().join("bad.xlsx").to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(!out.exists());
}

#[test]
fn usage_and_file_errors_exit_with_2() {
    let (code, _, err) = run(&["convert"]);
    assert_eq!(code, 2);
    assert!(err.contains("sipas-form check"), "{err}");
    let (code, _, err) = run(&["check", "/nonexistent/form.xlsx"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("Không đọc được tệp /nonexistent/form.xlsx"),
        "{err}"
    );
    let (code, _, _) = run(&["--help"]);
    assert_eq!(code, 0);
}
