//! Fixture generator: workbooks written cell by cell, as a form author would type them.
#![allow(dead_code)]

use rust_xlsxwriter::Workbook;

/// One sheet: its name and its rows (first row = header), every cell text.
pub type Sheet = (String, Vec<Vec<String>>);

/// Builds a workbook from sheets of text cells (empty text = empty cell; a cell that parses as
/// a whole number is written as a number, as Excel would store it).
pub fn workbook(sheets: &[Sheet]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if cell.is_empty() {
                    continue;
                }
                let (r, c) = (r as u32, c as u16);
                match cell.parse::<i64>() {
                    Ok(n) if !cell.starts_with('0') || cell == "0" => {
                        ws.write_number(r, c, n as f64).unwrap();
                    }
                    _ => {
                        ws.write_string(r, c, cell).unwrap();
                    }
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| (*c).to_owned()).collect())
        .collect()
}

/// The survey header of the fixture (every supported column).
pub const SURVEY_HEADER: &[&str] = &[
    "type",
    "name",
    "label::vi",
    "label::en",
    "hint::vi",
    "hint::en",
    "required",
    "relevant",
    "min",
    "max",
    "max_length",
    "range_message::vi",
    "range_message::en",
    "criterion",
    "group_kind",
    "element",
    "in_overall_index",
    "constraint",
    "constraint_message::vi",
    "constraint_message::en",
    "calculation",
    "appearance",
    "choice_filter",
    "choices_from",
    "prefill",
    "prefill_editable",
];

/// A row of `header`'s width with the given cells (column name, text) filled in.
fn row_of(header: &[&str], cells: &[(&str, &str)]) -> Vec<String> {
    let mut row = vec![String::new(); header.len()];
    for (column, value) in cells {
        let i = header.iter().position(|h| h == column).unwrap();
        row[i] = (*value).to_owned();
    }
    row
}

/// A valid form using every supported column: sheets survey, choices, settings.
/// Survey rows are numbered in the comments as the spreadsheet shows them (header = 1).
#[rustfmt::skip]
pub fn every_column() -> Vec<Sheet> {
    let h = SURVEY_HEADER;
    let r = |cells: &[(&str, &str)]| row_of(h, cells);
    let end = || r(&[("type", "end group")]);
    let survey = vec![
        h.iter().map(|c| (*c).to_owned()).collect(),
        /* 2 */ r(&[("type", "begin group"), ("name", "A"), ("label::vi", "Thông tin người trả lời"), ("label::en", "About you"), ("group_kind", "profile")]),
        /* 3 */ r(&[("type", "select_one sex"), ("name", "A1"), ("label::vi", "Giới tính"), ("label::en", "Sex"), ("required", "yes")]),
        /* 4 */ r(&[("type", "integer"), ("name", "A2"), ("label::vi", "Tuổi"), ("label::en", "Age"), ("hint::vi", "Từ 18 tuổi"), ("hint::en", "18 or over"), ("required", "yes"), ("min", "18"), ("max", "120"), ("range_message::vi", "Phải từ 18 tuổi"), ("range_message::en", "Must be 18+")]),
        /* 5 */ r(&[("type", "date"), ("name", "A3"), ("label::vi", "Ngày nhận kết quả")]),
        /* 6 */ end(),
        /* 7 */ r(&[("type", "begin group"), ("name", "B"), ("label::vi", "Giao dịch"), ("group_kind", "screening")]),
        /* 8 */ r(&[("type", "select_multiple kenh"), ("name", "B1"), ("label::vi", "Kênh"), ("label::en", "Channel")]),
        /* 9 */ r(&[("type", "text"), ("name", "B1_other"), ("label::vi", "Kênh khác"), ("relevant", "{\"item\": \"B1\", \"in\": [\"khac\"]}"), ("max_length", "50")]),
        /* 10 */ end(),
        /* 11 */ r(&[("type", "begin group"), ("name", "C"), ("label::vi", "Tiếp cận"), ("label::en", "Access"), ("relevant", "{\"item\": \"A2\", \"answered\": true}"), ("group_kind", "criteria"), ("element", "access"), ("in_overall_index", "no")]),
        /* 12 */ r(&[("type", "rating sat3"), ("name", "C1"), ("label::vi", "Nơi ngồi chờ"), ("label::en", "Seats"), ("required", "yes")]),
        /* 13 */ r(&[("type", "rating sat3"), ("name", "C2"), ("label::vi", "Trang thiết bị"), ("relevant", "{\"item\": \"A1\", \"equals\": \"nu\"}"), ("criterion", "no")]),
        /* 14 */ end(),
        /* 15 */ r(&[("type", "begin group"), ("name", "D"), ("label::vi", "Thông tin bổ sung"), ("relevant", "${A2} >= 18"), ("group_kind", "screening")]),
        /* 16 */ r(&[("type", "select_one"), ("name", "D1"), ("label::vi", "Cơ quan"), ("label::en", "Agency"), ("appearance", "minimal"), ("choice_filter", "kind = 'so'"), ("choices_from", "agencies"), ("prefill", "agency"), ("prefill_editable", "no")]),
        /* 17 */ r(&[("type", "select_one thutuc"), ("name", "D2"), ("label::vi", "Thủ tục"), ("choice_filter", "field = 'dat_dai'")]),
        /* 18 */ r(&[("type", "integer"), ("name", "D3"), ("label::vi", "Số lần đi lại"), ("relevant", "selected(${B1}, 'truc_tiep')"), ("constraint", ". <= 10"), ("constraint_message::vi", "Tối đa 10 lần"), ("constraint_message::en", "At most 10 trips")]),
        /* 19 */ r(&[("type", "calculate"), ("name", "D4"), ("calculation", "${D3} * 2")]),
        /* 20 */ end(),
    ];
    let choices = rows(&[
        &["list_name", "name", "label::vi", "label::en", "other", "exclusive", "satisfied_from", "no_answer", "field"],
        /* 2 */ &["sex", "nam", "Nam", "Male"],
        /* 3 */ &["sex", "nu", "Nữ", "Female"],
        /* 4 */ &["kenh", "truc_tiep", "Trực tiếp", "In person"],
        /* 5 */ &["kenh", "khac", "Khác (ghi rõ)", "Other", "yes"],
        /* 6 */ &["kenh", "khong", "Không có", "None", "", "yes"],
        /* 7 */ &["sat3", "1", "Không hài lòng", "Dissatisfied"],
        /* 8 */ &["sat3", "2", "Bình thường"],
        /* 9 */ &["sat3", "3", "Hài lòng", "Satisfied", "", "", "yes"],
        /* 10 */ &["sat3", "9", "Không trả lời", "No answer", "", "", "", "yes"],
        // An extra column ("field") is an option attribute.
        /* 11 */ &["thutuc", "khai_sinh", "Đăng ký khai sinh", "", "", "", "", "", "ho_tich"],
        /* 12 */ &["thutuc", "cap_so_do", "Cấp giấy chứng nhận quyền sử dụng đất", "", "", "", "", "", "dat_dai"],
    ]);
    let settings = rows(&[
        &["form_id", "version", "title::vi", "title::en", "default_language", "basis", "description::vi", "description::en"],
        &["test-form", "2026.1", "Phiếu thử", "Test form", "vi", "QĐ 1001/QĐ-BNV", "Giới thiệu", "Introduction"],
    ]);
    vec![
        ("survey".into(), survey),
        ("choices".into(), choices),
        ("settings".into(), settings),
    ]
}

/// The questionnaire [`every_column`] describes, as JSON.
pub fn every_column_json() -> serde_json::Value {
    serde_json::json!({
        "format": 1,
        "form_id": "test-form",
        "version": "2026.1",
        "title": {"vi": "Phiếu thử", "en": "Test form"},
        "description": {"vi": "Giới thiệu", "en": "Introduction"},
        "basis": "QĐ 1001/QĐ-BNV",
        "scales": {"sat3": {
            "points": [
                {"value": 1, "label": {"vi": "Không hài lòng", "en": "Dissatisfied"}},
                {"value": 2, "label": {"vi": "Bình thường"}},
                {"value": 3, "label": {"vi": "Hài lòng", "en": "Satisfied"}}
            ],
            "satisfied_from": 3,
            "no_answer": {"value": 9, "label": {"vi": "Không trả lời", "en": "No answer"}}
        }},
        "groups": [
            {"code": "A", "kind": "profile", "title": {"vi": "Thông tin người trả lời", "en": "About you"}, "items": [
                {"code": "A1", "type": "single_choice", "label": {"vi": "Giới tính", "en": "Sex"}, "required": true,
                 "options": [{"value": "nam", "label": {"vi": "Nam", "en": "Male"}},
                             {"value": "nu", "label": {"vi": "Nữ", "en": "Female"}}]},
                {"code": "A2", "type": "integer", "label": {"vi": "Tuổi", "en": "Age"},
                 "hint": {"vi": "Từ 18 tuổi", "en": "18 or over"}, "required": true, "min": 18, "max": 120,
                 "range_message": {"vi": "Phải từ 18 tuổi", "en": "Must be 18+"}},
                {"code": "A3", "type": "date", "label": {"vi": "Ngày nhận kết quả"}}
            ]},
            {"code": "B", "kind": "screening", "title": {"vi": "Giao dịch"}, "items": [
                {"code": "B1", "type": "multi_choice", "label": {"vi": "Kênh", "en": "Channel"}, "options": [
                    {"value": "truc_tiep", "label": {"vi": "Trực tiếp", "en": "In person"}},
                    {"value": "khac", "label": {"vi": "Khác (ghi rõ)", "en": "Other"}, "other": true},
                    {"value": "khong", "label": {"vi": "Không có", "en": "None"}, "exclusive": true}]},
                {"code": "B1_other", "type": "text", "label": {"vi": "Kênh khác"}, "max_length": 50,
                 "relevant": {"item": "B1", "in": ["khac"]}}
            ]},
            {"code": "C", "kind": "criteria", "title": {"vi": "Tiếp cận", "en": "Access"}, "element": "access",
             "in_overall_index": false, "relevant": {"item": "A2", "answered": true}, "items": [
                {"code": "C1", "type": "rating", "scale": "sat3", "label": {"vi": "Nơi ngồi chờ", "en": "Seats"}, "required": true},
                {"code": "C2", "type": "rating", "scale": "sat3", "label": {"vi": "Trang thiết bị"}, "criterion": false,
                 "relevant": {"item": "A1", "equals": "nu"}}
            ]},
            {"code": "D", "kind": "screening", "title": {"vi": "Thông tin bổ sung"}, "relevant": "${A2} >= 18", "items": [
                {"code": "D1", "type": "single_choice", "label": {"vi": "Cơ quan", "en": "Agency"},
                 "appearance": "minimal", "choice_filter": "kind = 'so'", "choices_from": "agencies",
                 "prefill": {"from": "agency", "editable": false}},
                {"code": "D2", "type": "single_choice", "label": {"vi": "Thủ tục"}, "choice_filter": "field = 'dat_dai'",
                 "options": [
                    {"value": "khai_sinh", "label": {"vi": "Đăng ký khai sinh"}, "attrs": {"field": "ho_tich"}},
                    {"value": "cap_so_do", "label": {"vi": "Cấp giấy chứng nhận quyền sử dụng đất"}, "attrs": {"field": "dat_dai"}}]},
                {"code": "D3", "type": "integer", "label": {"vi": "Số lần đi lại"}, "relevant": "selected(${B1}, 'truc_tiep')",
                 "constraint": ". <= 10", "constraint_message": {"vi": "Tối đa 10 lần", "en": "At most 10 trips"}},
                {"code": "D4", "type": "calculate", "label": {"vi": "D4"}, "calculation": "${D3} * 2"}
            ]}
        ]
    })
}

/// Sets a cell (row and column as the spreadsheet shows them: row 1 = header, column by header).
pub fn set(sheets: &mut [Sheet], sheet: &str, row: usize, column: &str, value: &str) {
    let (_, rows) = sheets.iter_mut().find(|(n, _)| n == sheet).unwrap();
    let c = rows[0].iter().position(|h| h == column).unwrap();
    let r = &mut rows[row - 1];
    if r.len() <= c {
        r.resize(c + 1, String::new());
    }
    r[c] = value.to_owned();
}
