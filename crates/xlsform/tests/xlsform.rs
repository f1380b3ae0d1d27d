//! Reading and writing XLSX questionnaires: round trips of the shipped forms, the fixture with
//! every supported column, and the exact messages for malformed workbooks.
mod support;

use sipas_core::form_loader::load_form;
use sipas_core::questionnaire::Questionnaire;
use sipas_xlsform::{SheetIssue, read_xlsform, write_xlsform};
use support::{every_column, every_column_json, set, workbook};

fn shipped(path: &str) -> Questionnaire {
    let text = std::fs::read_to_string(format!(
        "{}/../../schemas/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    load_form(&text).unwrap()
}

/// JSON → XLSX → JSON gives the same questionnaire.
#[test]
fn shipped_forms_round_trip() {
    for path in [
        "sipas-6-groups/2026.1.json",
        "sipas-national-2023/2023.1.json",
        "sipas-organisations/2026.1.json",
        "sipas-service-units/2026.1.json",
    ] {
        let form = shipped(path);
        let xlsx = write_xlsform(&form);
        let back = read_xlsform(&xlsx).unwrap_or_else(|e| panic!("{path}: {e:#?}"));
        assert_eq!(back, form, "{path}");
        // Writing again gives the very same bytes (a regenerated source does not change).
        assert_eq!(write_xlsform(&back), xlsx, "{path}");
    }
}

/// The shipped XLSX sources of the new variants describe exactly their JSON.
#[test]
fn shipped_xlsx_sources_agree_with_their_json() {
    for form_id in ["sipas-organisations", "sipas-service-units"] {
        let dir = format!("{}/../../schemas/{form_id}", env!("CARGO_MANIFEST_DIR"));
        let xlsx = std::fs::read(format!("{dir}/2026.1.xlsx")).unwrap();
        let from_xlsx = read_xlsform(&xlsx).unwrap_or_else(|e| panic!("{form_id}: {e:#?}"));
        let json = shipped(&format!("{form_id}/2026.1.json"));
        assert_eq!(from_xlsx, json, "{form_id}: the XLSX and the JSON differ");
        assert_eq!(from_xlsx.form_id, form_id);
        assert!(
            from_xlsx.basis.is_some(),
            "{form_id}: basis names the sources"
        );
        assert!(
            from_xlsx
                .groups
                .iter()
                .any(|g| g.kind == sipas_core::questionnaire::GroupKind::Criteria),
            "{form_id}: has criteria groups"
        );
    }
}

#[test]
fn every_supported_column_is_read() {
    let form = read_xlsform(&workbook(&every_column())).unwrap_or_else(|e| panic!("{e:#?}"));
    let expected: Questionnaire = serde_json::from_value(every_column_json()).unwrap();
    assert_eq!(form, expected);
    // And written back and read again.
    assert_eq!(read_xlsform(&write_xlsform(&form)).unwrap(), expected);
}

#[test]
fn cells_typed_as_excel_types_and_spaces_are_accepted() {
    let mut s = every_column();
    // Spaces around codes, a boolean typed as TRUE, type keywords in another case and spaced out.
    set(&mut s, "survey", 3, "name", "  A1 ");
    set(&mut s, "survey", 3, "required", "TRUE");
    set(&mut s, "survey", 8, "type", "Select_Multiple   kenh");
    set(&mut s, "survey", 10, "type", "End Group");
    let form = read_xlsform(&workbook(&s)).unwrap();
    let expected: Questionnaire = serde_json::from_value(every_column_json()).unwrap();
    assert_eq!(form, expected);
}

#[test]
fn decomposed_vietnamese_is_normalised() {
    let mut s = every_column();
    set(&mut s, "survey", 4, "label::vi", "Tuo\u{0302}\u{0309}i");
    let form = read_xlsform(&workbook(&s)).unwrap();
    assert_eq!(form.item("A2").unwrap().label.vi, "Tuổi");
}

fn issues(sheets: &[support::Sheet]) -> Vec<SheetIssue> {
    read_xlsform(&workbook(sheets)).expect_err("the workbook must be rejected")
}

fn vi(issues: &[SheetIssue]) -> Vec<&str> {
    issues.iter().map(|i| i.message_vi.as_str()).collect()
}

#[test]
fn missing_survey_sheet() {
    let mut s = every_column();
    s.retain(|(n, _)| n != "survey");
    let e = issues(&s);
    assert_eq!(
        vi(&e),
        [
            "Trang survey: bảng tính thiếu trang \"survey\"; thêm một trang tên \"survey\" (xem schemas/README.md)"
        ]
    );
    assert_eq!(e[0].sheet, "survey");
    assert_eq!(e[0].row, None);
    assert_eq!(
        e[0].message_en,
        "Sheet survey: the workbook has no sheet \"survey\"; add a sheet named \"survey\" (see schemas/README.md)"
    );
}

#[test]
fn missing_required_columns() {
    for column in ["type", "name", "label::vi"] {
        let mut s = every_column();
        let rows = &mut s[0].1;
        let c = rows[0].iter().position(|h| h == column).unwrap();
        for r in rows.iter_mut() {
            r.remove(c);
        }
        let e = issues(&s);
        assert_eq!(
            vi(&e),
            [format!(
                "Trang survey, dòng 1, cột {column}: thiếu cột bắt buộc \"{column}\"; thêm cột này vào dòng tiêu đề"
            )],
            "{column}"
        );
        assert_eq!((e[0].row, e[0].column.as_deref()), (Some(1), Some(column)));
    }
}

#[test]
fn unknown_column_is_reported() {
    let mut s = every_column();
    s[0].1[0].push("constrant".into());
    let e = issues(&s);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message_vi.starts_with(
            "Trang survey, dòng 1, cột constrant: cột \"constrant\" không được hỗ trợ; các cột dùng được: type, name, label::vi"
        ),
        "{}",
        e[0].message_vi
    );
}

#[test]
fn duplicate_names() {
    let mut s = every_column();
    set(&mut s, "survey", 5, "name", "A1");
    set(&mut s, "survey", 11, "name", "B");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang survey, dòng 5, cột name: tên câu hỏi \"A1\" đã dùng ở dòng 3; mỗi tên chỉ được dùng một lần trong biểu mẫu",
            "Trang survey, dòng 11, cột name: tên nhóm \"B\" đã dùng ở dòng 7; mỗi tên chỉ được dùng một lần trong biểu mẫu",
        ]
    );
}

#[test]
fn unknown_choice_list() {
    let mut s = every_column();
    set(&mut s, "survey", 3, "type", "select_one gioi_tinh");
    let e = issues(&s);
    assert_eq!(
        vi(&e),
        [
            "Trang survey, dòng 3, cột type: danh sách lựa chọn \"gioi_tinh\" không có trong trang choices (các danh sách có: sex, kenh, sat3, thutuc)"
        ]
    );
    assert_eq!(
        e[0].message_en,
        "Sheet survey, row 3, column type: choice list \"gioi_tinh\" is not on the choices sheet (lists there: sex, kenh, sat3, thutuc)"
    );
}

#[test]
fn bad_type() {
    let mut s = every_column();
    set(&mut s, "survey", 5, "type", "datetime");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang survey, dòng 5, cột type: kiểu \"datetime\" không hợp lệ; dùng một trong: select_one DANH_SÁCH, select_multiple DANH_SÁCH, rating THANG_ĐO, integer, text, date, calculate, begin group, end group (select_one không kèm danh sách khi có cột choices_from)"
        ]
    );
    // A select without its list is a bad type too.
    let mut s = every_column();
    set(&mut s, "survey", 3, "type", "select_one");
    assert!(
        issues(&s)[0]
            .message_vi
            .starts_with("Trang survey, dòng 3, cột type: kiểu \"select_one\" không hợp lệ")
    );
}

#[test]
fn unclosed_and_unopened_groups() {
    let mut s = every_column();
    set(&mut s, "survey", 14, "type", "");
    s[0].1.truncate(13);
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang survey, dòng 11, cột type: nhóm \"C\" chưa được đóng; thêm dòng \"end group\" sau câu hỏi cuối cùng của nhóm"
        ]
    );
    let mut s = every_column();
    set(&mut s, "survey", 7, "type", "end group");
    set(&mut s, "survey", 7, "group_kind", "");
    set(&mut s, "survey", 7, "label::vi", "");
    set(&mut s, "survey", 7, "name", "");
    let e = vi(&issues(&s)).join("\n");
    assert!(e.contains("Trang survey, dòng 7, cột type: dòng \"end group\" không có dòng \"begin group\" tương ứng phía trên"), "{e}");
    assert!(e.contains("Trang survey, dòng 8, cột type: câu hỏi nằm ngoài nhóm; đặt nó giữa một dòng \"begin group\" và một dòng \"end group\""), "{e}");
    let mut s = every_column();
    set(&mut s, "survey", 6, "type", "begin group");
    let e = vi(&issues(&s)).join("\n");
    assert!(e.contains("Trang survey, dòng 6, cột type: nhóm lồng nhau không được hỗ trợ: nhóm mở ở dòng 2 chưa có dòng \"end group\""), "{e}");
}

#[test]
fn malformed_json_condition() {
    let mut s = every_column();
    set(
        &mut s,
        "survey",
        9,
        "relevant",
        "{\"item\": \"B1\", \"in\": [\"khac\"]",
    );
    let e = issues(&s);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message_vi
            .starts_with("Trang survey, dòng 9, cột relevant: điều kiện JSON không hợp lệ ("),
        "{}",
        e[0].message_vi
    );
    assert!(
        e[0].message_vi
            .ends_with("); kiểm tra dấu ngoặc và dấu ngoặc kép")
    );
    // Well-formed JSON of the wrong shape is reported by the loader, mapped to the cell.
    let mut s = every_column();
    set(
        &mut s,
        "survey",
        9,
        "relevant",
        "{\"item\": \"B1\", \"is\": \"khac\"}",
    );
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang survey, dòng 9, cột relevant: điều kiện JSON phải có đúng một dạng: {\"item\", \"equals\"}, {\"item\", \"in\"}, {\"item\", \"answered\"}, {\"all\"}, {\"any\"} hoặc {\"not\"}"
        ]
    );
}

#[test]
fn loader_findings_are_mapped_to_their_cells() {
    let mut s = every_column();
    // A condition on a later question (survey row 3, relevant).
    set(
        &mut s,
        "survey",
        3,
        "relevant",
        "{\"item\": \"C1\", \"answered\": true}",
    );
    // min above max (row 4, min).
    set(&mut s, "survey", 4, "min", "200");
    // A duplicate option code (choices row 3, name).
    set(&mut s, "choices", 3, "name", "nam");
    // Scale points out of order (choices row 8).
    set(&mut s, "choices", 8, "name", "1");
    // element on a non-criteria group (row 7).
    set(&mut s, "survey", 7, "element", "access");
    // An invalid form id (settings row 2).
    set(&mut s, "settings", 2, "form_id", "1form");
    let e = issues(&s);
    let got: Vec<(String, Option<usize>, Option<String>, String)> = e
        .iter()
        .map(|i| {
            (
                i.sheet.clone(),
                i.row,
                i.column.clone(),
                i.message_vi.clone(),
            )
        })
        .collect();
    let expect = |sheet: &str, row: usize, col: &str, msg: &str| {
        let m = format!("Trang {sheet}, dòng {row}, cột {col}: {msg}");
        assert!(
            got.iter().any(|g| g.0 == sheet
                && g.1 == Some(row)
                && g.2.as_deref() == Some(col)
                && g.3 == m),
            "missing {m:?} in {got:#?}"
        );
    };
    expect(
        "settings",
        2,
        "form_id",
        "mã biểu mẫu (form_id) không hợp lệ: phải bắt đầu bằng chữ cái ASCII và chỉ gồm chữ cái ASCII, chữ số, '_' và '-'",
    );
    expect(
        "choices",
        8,
        "name",
        "các mức của thang đo phải tăng dần theo thứ tự dòng",
    );
    expect(
        "survey",
        7,
        "element",
        "element chỉ dùng cho nhóm có group_kind là criteria; để trống ô này",
    );
    expect(
        "choices",
        3,
        "name",
        "mã lựa chọn bị trùng trong danh sách; mỗi mã chỉ dùng một lần trong một danh sách",
    );
    expect(
        "survey",
        4,
        "min",
        "min lớn hơn max; sửa lại khoảng giá trị",
    );
    expect(
        "survey",
        3,
        "relevant",
        "điều kiện nhắc đến một câu hỏi đứng sau; chỉ được dùng câu trả lời của các câu hỏi phía trước",
    );
    // C2's condition names option "nu" of A1, which no longer exists.
    expect(
        "survey",
        13,
        "relevant",
        "giá trị trong điều kiện không phải là mã lựa chọn của câu hỏi được nhắc đến",
    );
    assert_eq!(e.len(), 7, "{got:#?}");
    // English keeps the loader's own words.
    let en: Vec<&str> = e.iter().map(|i| i.message_en.as_str()).collect();
    assert!(
        en.contains(
            &"Sheet survey, row 4, column min: item \"A2\": min 200 is greater than max 120"
        ),
        "{en:#?}"
    );
}

#[test]
fn other_option_without_its_text_item() {
    let mut s = every_column();
    set(&mut s, "survey", 9, "name", "B1_ghi_ro");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang choices, dòng 5, cột other: lựa chọn này yêu cầu ghi rõ (other) nhưng không có câu hỏi text \"B1_other\"; thêm câu hỏi text \"B1_other\" ngay sau câu \"B1\""
        ]
    );
}

#[test]
fn cell_values_of_the_wrong_kind() {
    let mut s = every_column();
    set(&mut s, "survey", 4, "max", "nhiều");
    set(&mut s, "survey", 3, "required", "có lẽ");
    set(&mut s, "choices", 7, "name", "mot");
    set(&mut s, "survey", 3, "element", "access");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang survey, dòng 3, cột element: cột \"element\" không dùng cho dòng câu hỏi; để trống ô này",
            "Trang survey, dòng 3, cột required: \"có lẽ\" không phải giá trị có/không; ghi \"yes\" hoặc \"no\" (hoặc để trống)",
            "Trang survey, dòng 4, cột max: \"nhiều\" không phải số nguyên; ghi một số nguyên, ví dụ 18",
            "Trang choices, dòng 7, cột name: \"mot\" không phải số nguyên; các mức của thang đo \"sat3\" phải là số nguyên, ví dụ 1 … 5",
        ]
    );
}

#[test]
fn missing_settings_values_and_label() {
    let mut s = every_column();
    set(&mut s, "settings", 2, "version", "");
    set(&mut s, "settings", 2, "default_language", "en");
    set(&mut s, "survey", 5, "label::vi", "");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang settings, dòng 2, cột version: ô \"version\" đang trống; ô này bắt buộc",
            "Trang settings, dòng 2, cột default_language: ngôn ngữ mặc định \"en\" không được hỗ trợ; ghi \"vi\" (tiếng Việt luôn là ngôn ngữ chính)",
            "Trang survey, dòng 5, cột label::vi: thiếu nhãn tiếng Việt; mỗi câu hỏi và mỗi nhóm cần nội dung tiếng Việt",
        ]
    );
}

#[test]
fn not_a_workbook() {
    let e = read_xlsform(b"form_id,version\nx,1\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].sheet, "");
    assert!(
        e[0].message_vi
            .starts_with("Tệp không phải bảng tính .xlsx đọc được"),
        "{}",
        e[0].message_vi
    );
}

#[test]
fn issues_serialise_for_problem_bodies() {
    let mut s = every_column();
    set(&mut s, "survey", 5, "type", "datetime");
    let v = serde_json::to_value(&issues(&s)[0]).unwrap();
    assert_eq!(v["sheet"], "survey");
    assert_eq!(v["row"], 5);
    assert_eq!(v["column"], "type");
    assert!(
        v["message_vi"]
            .as_str()
            .unwrap()
            .starts_with("Trang survey, dòng 5, cột type: ")
    );
    assert!(
        v["message_en"]
            .as_str()
            .unwrap()
            .starts_with("Sheet survey, row 5, column type: ")
    );
}

#[test]
fn bad_expressions_are_reported_at_their_cells() {
    let mut s = every_column();
    set(
        &mut s,
        "survey",
        18,
        "relevant",
        "selected(${B1}, 'truc_tiep'",
    );
    set(&mut s, "survey", 18, "constraint", ". <= ${D4}");
    set(
        &mut s,
        "survey",
        17,
        "choice_filter",
        "linh_vuc = 'dat_dai'",
    );
    set(&mut s, "survey", 19, "calculation", "${D3} * ");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang survey, dòng 17, cột choice_filter: câu \"D2\": choice_filter dùng thuộc tính \"linh_vuc\" mà không lựa chọn nào có (các thuộc tính: field)",
            "Trang survey, dòng 18, cột relevant: câu \"D3\": biểu thức relevant \"selected(${B1}, 'truc_tiep'\" có lỗi cú pháp: Thiếu dấu ')' tại vị trí 28.",
            "Trang survey, dòng 18, cột constraint: câu \"D3\": biểu thức constraint tham chiếu ${D4} (tại trang survey, dòng 19) nằm sau trong phiếu; chỉ được dùng câu trả lời của các câu trước",
            "Trang survey, dòng 19, cột calculation: câu \"D4\": biểu thức calculation \"${D3} *\" có lỗi cú pháp: Biểu thức kết thúc đột ngột (thiếu toán hạng hoặc dấu ')').",
        ]
    );
    let en: Vec<String> = issues(&s).into_iter().map(|i| i.message_en).collect();
    assert!(
        en[2].starts_with("Sheet survey, row 18, column constraint: item \"D3\": constraint refers to ${D4} (at sheet survey, row 19), which comes later"),
        "{en:#?}"
    );
}

/// The example of schemas/README.md ("Soạn biểu mẫu bằng XLSX") is a valid form.
#[test]
fn readme_example_loads() {
    let rows = |r: &[&[&str]]| -> Vec<Vec<String>> {
        r.iter()
            .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
            .collect()
    };
    let sheets = vec![
        (
            "survey".to_owned(),
            rows(&[
                &[
                    "type",
                    "name",
                    "label::vi",
                    "required",
                    "relevant",
                    "constraint",
                    "group_kind",
                    "element",
                ],
                &[
                    "begin group",
                    "A",
                    "Thông tin người trả lời",
                    "",
                    "",
                    "",
                    "profile",
                ],
                &["select_one gioi_tinh", "A1", "Giới tính", "yes"],
                &["integer", "A2", "Tuổi", "yes", "", ". >= 18"],
                &["end group"],
                &[
                    "begin group",
                    "G1",
                    "Tiếp cận dịch vụ",
                    "",
                    "${A2} >= 18",
                    "",
                    "criteria",
                    "access",
                ],
                &["rating sat5", "G1_1", "Nơi ngồi chờ có đủ chỗ ngồi", "yes"],
                &["end group"],
            ]),
        ),
        (
            "choices".to_owned(),
            rows(&[
                &[
                    "list_name",
                    "name",
                    "label::vi",
                    "satisfied_from",
                    "no_answer",
                ],
                &["gioi_tinh", "nam", "Nam"],
                &["gioi_tinh", "nu", "Nữ"],
                &["sat5", "1", "Rất không hài lòng"],
                &["sat5", "2", "Không hài lòng"],
                &["sat5", "3", "Bình thường"],
                &["sat5", "4", "Hài lòng", "yes"],
                &["sat5", "5", "Rất hài lòng"],
                &["sat5", "9", "Không trả lời", "", "yes"],
            ]),
        ),
        (
            "settings".to_owned(),
            rows(&[
                &["form_id", "version", "title::vi"],
                &["my-form", "2026.1", "Phiếu khảo sát"],
            ]),
        ),
    ];
    let form = read_xlsform(&workbook(&sheets)).unwrap_or_else(|e| panic!("{e:#?}"));
    let scale = &form.scales["sat5"];
    assert_eq!(scale.points.len(), 5);
    assert_eq!(scale.satisfied_from, Some(4));
    assert_eq!(scale.no_answer.as_ref().map(|p| p.value), Some(9));
    assert_eq!(
        form.item("A2").unwrap().constraint.as_deref(),
        Some(". >= 18")
    );
    assert_eq!(form.groups[1].element.as_deref(), Some("access"));
}

#[test]
fn scale_problems_point_at_the_choices_rows() {
    let mut s = every_column();
    // The no-answer value is also a point (choices row 10).
    set(&mut s, "choices", 10, "name", "3");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang choices, dòng 10, cột name: giá trị \"không trả lời\" (no_answer) trùng với một mức của thang đo; dùng giá trị ngoài thang đo, ví dụ 9"
        ]
    );
    // Two satisfied_from marks; a no_answer mark twice.
    let mut s = every_column();
    set(&mut s, "choices", 8, "satisfied_from", "yes");
    set(&mut s, "choices", 7, "no_answer", "yes");
    set(&mut s, "choices", 7, "name", "8");
    assert_eq!(
        vi(&issues(&s)),
        [
            "Trang choices, dòng 9, cột satisfied_from: thang đo \"sat3\" đã có một dòng satisfied_from; chỉ đánh dấu một dòng (mức hài lòng thấp nhất)",
            "Trang choices, dòng 10, cột no_answer: thang đo \"sat3\" đã có một dòng no_answer; chỉ đánh dấu một dòng",
        ]
    );
}
