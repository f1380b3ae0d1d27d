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
];

/// A valid form using every supported column: sheets survey, choices, settings.
pub fn every_column() -> Vec<Sheet> {
    let survey = rows(&[
        SURVEY_HEADER,
        // row 2
        &[
            "begin group",
            "A",
            "Thông tin người trả lời",
            "About you",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "profile",
            "",
            "",
        ],
        // row 3
        &[
            "select_one",
            "A1",
            "Giới tính",
            "Sex",
            "",
            "",
            "yes",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 4
        &[
            "integer",
            "A2",
            "Tuổi",
            "Age",
            "Từ 18 tuổi",
            "18 or over",
            "yes",
            "",
            "18",
            "120",
            "",
            "Phải từ 18 tuổi",
            "Must be 18+",
            "",
            "",
            "",
            "",
        ],
        // row 5
        &[
            "date",
            "A3",
            "Ngày nhận kết quả",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 6
        &[
            "end group",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 7
        &[
            "begin group",
            "B",
            "Giao dịch",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "screening",
            "",
            "",
        ],
        // row 8
        &[
            "select_multiple",
            "B1",
            "Kênh",
            "Channel",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 9
        &[
            "text",
            "B1_other",
            "Kênh khác",
            "",
            "",
            "",
            "",
            "{\"item\": \"B1\", \"in\": [\"khac\"]}",
            "",
            "",
            "50",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 10
        &[
            "end group",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 11
        &[
            "begin group",
            "C",
            "Tiếp cận",
            "Access",
            "",
            "",
            "",
            "{\"item\": \"A2\", \"answered\": true}",
            "",
            "",
            "",
            "",
            "",
            "",
            "criteria",
            "access",
            "no",
        ],
        // row 12
        &[
            "rating",
            "C1",
            "Nơi ngồi chờ",
            "Seats",
            "",
            "",
            "yes",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        // row 13
        &[
            "rating",
            "C2",
            "Trang thiết bị",
            "",
            "",
            "",
            "",
            "{\"item\": \"A1\", \"equals\": \"nu\"}",
            "",
            "",
            "",
            "",
            "",
            "no",
            "",
            "",
            "",
        ],
        // row 14
        &[
            "end group",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]);
    let choices = rows(&[
        &[
            "list_name",
            "name",
            "label::vi",
            "label::en",
            "other",
            "exclusive",
            "satisfied_from",
            "no_answer",
        ],
        &["sex", "nam", "Nam", "Male", "", "", "", ""],
        &["sex", "nu", "Nữ", "Female", "", "", "", ""],
        &[
            "kenh",
            "truc_tiep",
            "Trực tiếp",
            "In person",
            "",
            "",
            "",
            "",
        ],
        &["kenh", "khac", "Khác (ghi rõ)", "Other", "yes", "", "", ""],
        &["kenh", "khong", "Không có", "None", "", "yes", "", ""],
        &[
            "sat3",
            "1",
            "Không hài lòng",
            "Dissatisfied",
            "",
            "",
            "",
            "",
        ],
        &["sat3", "2", "Bình thường", "", "", "", "", ""],
        &["sat3", "3", "Hài lòng", "Satisfied", "", "", "yes", ""],
        &["sat3", "9", "Không trả lời", "No answer", "", "", "", "yes"],
    ]);
    let settings = rows(&[
        &[
            "form_id",
            "version",
            "title::vi",
            "title::en",
            "default_language",
            "basis",
            "description::vi",
            "description::en",
        ],
        &[
            "test-form",
            "2026.1",
            "Phiếu thử",
            "Test form",
            "vi",
            "QĐ 1001/QĐ-BNV",
            "Giới thiệu",
            "Introduction",
        ],
    ]);
    // Every question row names its list.
    let mut survey = survey;
    survey[2][0] = "select_one sex".into();
    survey[7][0] = "select_multiple kenh".into();
    survey[11][0] = "rating sat3".into();
    survey[12][0] = "rating sat3".into();
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
