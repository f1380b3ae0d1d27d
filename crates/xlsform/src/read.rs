//! Reading a workbook into the questionnaire model.
use crate::columns::{
    CHOICE_COLUMNS, Col, GROUP_COLS, ITEM_COLS, Kind, SETTINGS_COLS, parse_bool, survey_columns,
};
use crate::locate::{GroupSrc, ItemSrc, ScaleSrc, SourceMap};
use crate::{CHOICES, SETTINGS, SURVEY, SheetIssue};
use calamine::{Data, Reader, Xlsx};
use serde_json::{Map, Value, json};
use sipas_core::form_loader::load_form;
use sipas_core::questionnaire::Questionnaire;
use sipas_core::text::nfc;
use std::collections::HashMap;
use std::io::Cursor;

/// Reads an XLSForm-like workbook (sheets `survey`, `choices`, `settings`) and checks the
/// questionnaire it describes with the core loader.
///
/// Errors list every problem found, each located by sheet, row and column. Problems in the
/// sheets' structure (missing sheet or column, unknown type or list, unclosed group, duplicate
/// name, unreadable cell) are reported first; only a workbook free of them is handed to the
/// loader, whose findings are mapped back to the row and column they came from.
pub fn read_xlsform(bytes: &[u8]) -> Result<Questionnaire, Vec<SheetIssue>> {
    let sheets = open(bytes)?;
    let mut reader = Builder::default();
    let value = reader.build(&sheets);
    if !reader.issues.is_empty() {
        return Err(reader.issues);
    }
    let json = value.to_string();
    load_form(&json).map_err(|errors| {
        errors
            .issues()
            .iter()
            .map(|issue| crate::locate::locate(issue, &reader.map, &value))
            .collect()
    })
}

/// One sheet: its header (column name → index) and its non-blank data rows with their numbers.
struct Table {
    name: &'static str,
    header_row: usize,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn index(&self, column: &str) -> Option<usize> {
        self.header.iter().position(|h| h == column)
    }

    /// The trimmed cell of `column` in `cells` ("" when absent).
    fn get<'a>(&self, cells: &'a [String], column: &str) -> &'a str {
        self.index(column)
            .and_then(|i| cells.get(i))
            .map_or("", |s| s.trim())
    }

    /// The cell of `column`, untrimmed (labels keep their spaces).
    fn raw<'a>(&self, cells: &'a [String], column: &str) -> &'a str {
        self.index(column)
            .and_then(|i| cells.get(i))
            .map_or("", String::as_str)
    }
}

/// Sheets by lower-case name: their non-blank rows with their numbers.
type Sheets = HashMap<String, Vec<(usize, Vec<String>)>>;

fn open(bytes: &[u8]) -> Result<Sheets, Vec<SheetIssue>> {
    let unreadable = |e: &dyn std::fmt::Display| {
        vec![SheetIssue::file(
            &format!("Tệp không phải bảng tính .xlsx đọc được ({e})."),
            &format!("The file is not a readable .xlsx workbook ({e})."),
        )]
    };
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut out = HashMap::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| unreadable(&e))?;
        let (first_row, first_col) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (i, cells) in range.rows().enumerate() {
            let mut values = vec![String::new(); first_col as usize];
            values.extend(cells.iter().map(cell_text));
            if values.iter().any(|v| !v.trim().is_empty()) {
                rows.push((first_row as usize + i + 1, values));
            }
        }
        out.insert(name.trim().to_lowercase(), rows);
    }
    Ok(out)
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Data::DateTime(d) => d.as_f64().to_string(),
    }
}

/// A row of the `choices` sheet.
struct ChoiceRow {
    row: usize,
    name: String,
    label_vi: String,
    label_en: String,
    other: bool,
    exclusive: bool,
    satisfied_from: bool,
    no_answer: bool,
    /// Option attributes: the extra columns' non-blank cells.
    attrs: Map<String, Value>,
}

#[derive(Default)]
struct Builder {
    issues: Vec<SheetIssue>,
    map: SourceMap,
    /// Option lists in sheet order.
    lists: Vec<(String, Vec<ChoiceRow>)>,
    /// Lists named by a `rating` item (they become scales).
    rating_lists: Vec<String>,
    /// Lists named by a select item.
    select_lists: Vec<String>,
}

impl Builder {
    fn issue(&mut self, sheet: &str, row: Option<usize>, column: Option<&str>, vi: &str, en: &str) {
        self.issues
            .push(SheetIssue::new(sheet, row, column, vi, en));
    }

    fn build(&mut self, sheets: &Sheets) -> Value {
        let mut form = Map::new();
        form.insert("format".into(), json!(1));
        let settings = self.table(sheets, SETTINGS, &["form_id", "version", "title::vi"], true);
        let choices = self.table(sheets, CHOICES, &["list_name", "name", "label::vi"], false);
        let survey = self.table(sheets, SURVEY, &["type", "name", "label::vi"], true);
        if let Some(t) = &settings {
            self.settings(t, &mut form);
        }
        if let Some(t) = &choices {
            self.choices(t);
        }
        let groups = survey.as_ref().map(|t| self.survey(t)).unwrap_or_default();
        form.insert("scales".into(), Value::Object(self.scales()));
        form.insert("groups".into(), Value::Array(groups));
        Value::Object(form)
    }

    /// Finds a sheet (name compared case-insensitively), checks its required columns and that
    /// no column is unknown.
    fn table(
        &mut self,
        sheets: &Sheets,
        name: &'static str,
        required: &[&str],
        must_exist: bool,
    ) -> Option<Table> {
        let Some(rows) = sheets.get(name) else {
            if must_exist {
                self.issue(
                    name,
                    None,
                    None,
                    &format!("bảng tính thiếu trang \"{name}\"; thêm một trang tên \"{name}\" (xem schemas/README.md)"),
                    &format!("the workbook has no sheet \"{name}\"; add a sheet named \"{name}\" (see schemas/README.md)"),
                );
            }
            return None;
        };
        let (header_row, header) = match rows.first() {
            Some((r, cells)) => (
                *r,
                cells
                    .iter()
                    .map(|c| c.trim().to_owned())
                    .collect::<Vec<_>>(),
            ),
            None => (1, Vec::new()),
        };
        let mut ok = true;
        for col in required {
            if !header.iter().any(|h| h == col) {
                ok = false;
                self.issue(
                    name,
                    Some(header_row),
                    Some(col),
                    &format!("thiếu cột bắt buộc \"{col}\"; thêm cột này vào dòng tiêu đề"),
                    &format!("the required column \"{col}\" is missing; add it to the header row"),
                );
            }
        }
        let known: Vec<&str> = match name {
            SURVEY => survey_columns(),
            CHOICES => CHOICE_COLUMNS.to_vec(),
            _ => SETTINGS_COLS.iter().map(|c| c.name).collect(),
        };
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            if h.is_empty() {
                continue;
            }
            if let Some(first) = seen.get(h.as_str()) {
                self.issue(
                    name,
                    Some(header_row),
                    Some(h),
                    &format!(
                        "cột \"{h}\" xuất hiện hai lần (cột thứ {} và {}); xoá một cột",
                        first + 1,
                        i + 1
                    ),
                    &format!(
                        "column \"{h}\" appears twice (columns {} and {}); remove one",
                        first + 1,
                        i + 1
                    ),
                );
            }
            seen.insert(h, i);
            // Any other column of the choices sheet is an option attribute.
            if name != CHOICES && !known.contains(&h.as_str()) {
                self.issue(
                    name,
                    Some(header_row),
                    Some(h),
                    &format!(
                        "cột \"{h}\" không được hỗ trợ; các cột dùng được: {}",
                        known.join(", ")
                    ),
                    &format!(
                        "column \"{h}\" is not supported; the columns are: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        ok.then(|| Table {
            name,
            header_row,
            header,
            rows: rows.iter().skip(1).cloned().collect(),
        })
    }

    /// Reads the cells of `cols` in `cells` into `target`.
    fn cells(
        &mut self,
        t: &Table,
        row: usize,
        cells: &[String],
        cols: &[Col],
        target: &mut Map<String, Value>,
    ) {
        for c in cols {
            if c.path.is_empty() || t.index(c.name).is_none() {
                continue;
            }
            let text = t.get(cells, c.name);
            let value = match c.kind {
                Kind::Text => {
                    if text.is_empty() {
                        continue;
                    }
                    let raw = t.raw(cells, c.name);
                    Value::String(nfc(if c.name.contains("::") { raw } else { text }))
                }
                Kind::Int => {
                    if text.is_empty() {
                        continue;
                    }
                    match text.parse::<i64>() {
                        Ok(n) => json!(n),
                        Err(_) => {
                            self.issue(
                                t.name,
                                Some(row),
                                Some(c.name),
                                &format!("\"{text}\" không phải số nguyên; ghi một số nguyên, ví dụ 18"),
                                &format!("\"{text}\" is not a whole number; write a whole number, e.g. 18"),
                            );
                            continue;
                        }
                    }
                }
                Kind::Bool | Kind::Flag => {
                    if text.is_empty() {
                        if c.kind == Kind::Flag {
                            Value::Bool(false)
                        } else {
                            continue;
                        }
                    } else if let Some(b) = parse_bool(text) {
                        Value::Bool(b)
                    } else {
                        self.bad_bool(t.name, row, c.name, text);
                        continue;
                    }
                }
                Kind::Condition => {
                    if text.is_empty() {
                        continue;
                    }
                    match self.condition(t.name, row, c.name, text) {
                        Some(v) => v,
                        None => continue,
                    }
                }
            };
            set(target, c.path, value);
        }
    }

    fn bad_bool(&mut self, sheet: &str, row: usize, column: &str, text: &str) {
        self.issue(
            sheet,
            Some(row),
            Some(column),
            &format!(
                "\"{text}\" không phải giá trị có/không; ghi \"yes\" hoặc \"no\" (hoặc để trống)"
            ),
            &format!(
                "\"{text}\" is not a yes/no value; write \"yes\" or \"no\" (or leave it blank)"
            ),
        );
    }

    /// A relevance cell: JSON condition object when it starts with `{`, else an expression.
    fn condition(&mut self, sheet: &str, row: usize, column: &str, text: &str) -> Option<Value> {
        if text.starts_with('{') {
            return match serde_json::from_str::<Value>(text) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.issue(
                        sheet,
                        Some(row),
                        Some(column),
                        &format!(
                            "điều kiện JSON không hợp lệ ({e}); kiểm tra dấu ngoặc và dấu ngoặc kép"
                        ),
                        &format!(
                            "the JSON condition is malformed ({e}); check the braces and quotes"
                        ),
                    );
                    None
                }
            };
        }
        if crate::EXPRESSIONS {
            Some(Value::String(nfc(text)))
        } else {
            self.issue(
                sheet,
                Some(row),
                Some(column),
                "điều kiện phải là một đối tượng JSON, ví dụ {\"item\": \"A1\", \"equals\": \"co\"}",
                "the condition must be a JSON object, e.g. {\"item\": \"A1\", \"equals\": \"co\"}",
            );
            None
        }
    }

    fn settings(&mut self, t: &Table, form: &mut Map<String, Value>) {
        let Some((row, cells)) = t.rows.first() else {
            self.issue(
                SETTINGS,
                Some(t.header_row + 1),
                None,
                "thiếu dòng giá trị ngay dưới dòng tiêu đề (form_id, version, title::vi …)",
                "the row of values under the header (form_id, version, title::vi …) is missing",
            );
            return;
        };
        let row = *row;
        for col in ["form_id", "version", "title::vi"] {
            if t.get(cells, col).is_empty() {
                self.issue(
                    SETTINGS,
                    Some(row),
                    Some(col),
                    &format!("ô \"{col}\" đang trống; ô này bắt buộc"),
                    &format!("the \"{col}\" cell is empty; it is required"),
                );
            }
        }
        let lang = t.get(cells, "default_language");
        if !lang.is_empty() && lang != "vi" {
            self.issue(
                SETTINGS,
                Some(row),
                Some("default_language"),
                &format!("ngôn ngữ mặc định \"{lang}\" không được hỗ trợ; ghi \"vi\" (tiếng Việt luôn là ngôn ngữ chính)"),
                &format!("default language \"{lang}\" is not supported; write \"vi\" (Vietnamese is always the primary language)"),
            );
        }
        self.map.settings_row = row;
        self.cells(t, row, cells, SETTINGS_COLS, form);
    }

    fn choices(&mut self, t: &Table) {
        let mut index: HashMap<String, usize> = HashMap::new();
        for (row, cells) in &t.rows {
            let row = *row;
            let list = t.get(cells, "list_name").to_owned();
            let name = t.get(cells, "name").to_owned();
            let label_vi = nfc(t.raw(cells, "label::vi"));
            let label_en = nfc(t.raw(cells, "label::en"));
            let mut ok = true;
            for (col, v) in [("list_name", &list), ("name", &name)] {
                if v.is_empty() {
                    ok = false;
                    self.issue(
                        CHOICES,
                        Some(row),
                        Some(col),
                        &format!("ô \"{col}\" đang trống; mỗi dòng lựa chọn cần tên danh sách và mã lựa chọn"),
                        &format!("the \"{col}\" cell is empty; every choice row needs a list name and a choice code"),
                    );
                }
            }
            if label_vi.trim().is_empty() {
                ok = false;
                self.issue(
                    CHOICES,
                    Some(row),
                    Some("label::vi"),
                    "thiếu nhãn tiếng Việt của lựa chọn",
                    "the choice has no Vietnamese label",
                );
            }
            let mut flags = [false; 4];
            for (i, col) in ["other", "exclusive", "satisfied_from", "no_answer"]
                .into_iter()
                .enumerate()
            {
                let v = t.get(cells, col);
                if v.is_empty() {
                    continue;
                }
                match parse_bool(v) {
                    Some(b) => flags[i] = b,
                    None => {
                        ok = false;
                        self.bad_bool(CHOICES, row, col, v);
                    }
                }
            }
            if !ok {
                continue;
            }
            let mut attrs = Map::new();
            for (i, h) in t.header.iter().enumerate() {
                if h.is_empty() || CHOICE_COLUMNS.contains(&h.as_str()) {
                    continue;
                }
                let v = cells.get(i).map_or("", |c| c.trim());
                if !v.is_empty() {
                    attrs.insert(h.clone(), Value::String(nfc(v)));
                }
            }
            let choice = ChoiceRow {
                attrs,
                row,
                name,
                label_vi,
                label_en: if label_en.trim().is_empty() {
                    String::new()
                } else {
                    label_en
                },
                other: flags[0],
                exclusive: flags[1],
                satisfied_from: flags[2],
                no_answer: flags[3],
            };
            match index.get(&list) {
                Some(i) => self.lists[*i].1.push(choice),
                None => {
                    index.insert(list.clone(), self.lists.len());
                    self.lists.push((list, vec![choice]));
                }
            }
        }
        for (name, rows) in &self.lists {
            self.map
                .lists
                .insert(name.clone(), rows.iter().map(|c| c.row).collect());
        }
    }

    fn list(&self, name: &str) -> Option<&Vec<ChoiceRow>> {
        self.lists
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, rows)| rows)
    }

    fn survey(&mut self, t: &Table) -> Vec<Value> {
        let mut groups: Vec<Value> = Vec::new();
        // The open group: its object, items and begin row.
        let mut open: Option<(Map<String, Value>, Vec<Value>, GroupSrc)> = None;
        let mut group_names: HashMap<String, usize> = HashMap::new();
        let mut item_names: HashMap<String, usize> = HashMap::new();
        let group_only: Vec<&str> = GROUP_COLS
            .iter()
            .map(|c| c.name)
            .filter(|n| !ITEM_COLS.iter().any(|c| c.name == *n))
            .collect();
        let item_only: Vec<&str> = ITEM_COLS
            .iter()
            .map(|c| c.name)
            .filter(|n| !GROUP_COLS.iter().any(|c| c.name == *n))
            .collect();
        for (row, cells) in &t.rows {
            let row = *row;
            let ty = t
                .get(cells, "type")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let name = t.get(cells, "name").to_owned();
            // Type keywords are case-insensitive (list names are not).
            match ty.to_lowercase().as_str() {
                "begin group" | "begin_group" => {
                    if let Some((_, _, src)) = &open {
                        let begun = src.row;
                        self.issue(
                            SURVEY,
                            Some(row),
                            Some("type"),
                            &format!("nhóm lồng nhau không được hỗ trợ: nhóm mở ở dòng {begun} chưa có dòng \"end group\""),
                            &format!("nested groups are not supported: the group begun in row {begun} has no \"end group\" row yet"),
                        );
                        continue;
                    }
                    self.not_for(t, row, cells, &item_only, "begin group");
                    if name.is_empty() {
                        self.missing_name(row);
                    } else if let Some(first) = group_names.get(&name) {
                        self.duplicate(row, &name, *first, "nhóm", "group");
                    } else {
                        group_names.insert(name.clone(), row);
                    }
                    self.label_required(t, row, cells);
                    let mut g = Map::new();
                    g.insert("code".into(), Value::String(name));
                    self.cells(t, row, cells, GROUP_COLS, &mut g);
                    if !g.contains_key("kind") {
                        self.issue(
                            SURVEY,
                            Some(row),
                            Some("group_kind"),
                            "thiếu loại nhóm; ghi một trong: profile, screening, assessment, criteria, expectations, comment",
                            "the group kind is missing; write one of: profile, screening, assessment, criteria, expectations, comment",
                        );
                    }
                    open = Some((
                        g,
                        Vec::new(),
                        GroupSrc {
                            row,
                            items: Vec::new(),
                        },
                    ));
                }
                "end group" | "end_group" => match open.take() {
                    Some((mut g, items, src)) => {
                        g.insert("items".into(), Value::Array(items));
                        groups.push(Value::Object(g));
                        self.map.groups.push(src);
                    }
                    None => self.issue(
                        SURVEY,
                        Some(row),
                        Some("type"),
                        "dòng \"end group\" không có dòng \"begin group\" tương ứng phía trên",
                        "this \"end group\" row has no matching \"begin group\" row above it",
                    ),
                },
                _ => {
                    let item = self.item(t, row, cells, &ty, &name, &group_only);
                    if !name.is_empty() {
                        if let Some(first) = item_names.get(&name) {
                            self.duplicate(row, &name, *first, "câu hỏi", "question");
                        } else {
                            item_names.insert(name.clone(), row);
                        }
                    }
                    match (&mut open, item) {
                        (Some((_, items, src)), Some((item, list))) => {
                            items.push(item);
                            src.items.push(ItemSrc { row, list });
                        }
                        (None, _) => self.issue(
                            SURVEY,
                            Some(row),
                            Some("type"),
                            "câu hỏi nằm ngoài nhóm; đặt nó giữa một dòng \"begin group\" và một dòng \"end group\"",
                            "the question is outside any group; put it between a \"begin group\" row and an \"end group\" row",
                        ),
                        _ => {}
                    }
                }
            }
        }
        if let Some((g, _, src)) = open {
            let code = g
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            self.issue(
                SURVEY,
                Some(src.row),
                Some("type"),
                &format!("nhóm \"{code}\" chưa được đóng; thêm dòng \"end group\" sau câu hỏi cuối cùng của nhóm"),
                &format!("group \"{code}\" is not closed; add an \"end group\" row after its last question"),
            );
        }
        groups
    }

    fn missing_name(&mut self, row: usize) {
        self.issue(
            SURVEY,
            Some(row),
            Some("name"),
            "thiếu tên (mã); ghi một mã chữ cái ASCII, ví dụ A1",
            "the name (code) is missing; write an ASCII code, e.g. A1",
        );
    }

    fn duplicate(&mut self, row: usize, name: &str, first: usize, vi: &str, en: &str) {
        self.issue(
            SURVEY,
            Some(row),
            Some("name"),
            &format!("tên {vi} \"{name}\" đã dùng ở dòng {first}; mỗi tên chỉ được dùng một lần trong biểu mẫu"),
            &format!("{en} name \"{name}\" is already used in row {first}; each name may be used only once in the form"),
        );
    }

    fn label_required(&mut self, t: &Table, row: usize, cells: &[String]) {
        if t.get(cells, "label::vi").is_empty() {
            self.issue(
                SURVEY,
                Some(row),
                Some("label::vi"),
                "thiếu nhãn tiếng Việt; mỗi câu hỏi và mỗi nhóm cần nội dung tiếng Việt",
                "the Vietnamese label is missing; every question and group needs Vietnamese text",
            );
        }
    }

    /// Reports cells filled in columns that do not apply to this kind of row.
    fn not_for(&mut self, t: &Table, row: usize, cells: &[String], cols: &[&str], what: &str) {
        for c in cols {
            if !t.get(cells, c).is_empty() {
                self.issue(
                    SURVEY,
                    Some(row),
                    Some(c),
                    &format!("cột \"{c}\" không dùng cho dòng {what}; để trống ô này"),
                    &format!(
                        "column \"{c}\" does not apply to a {what} row; leave this cell blank"
                    ),
                );
            }
        }
    }

    /// A question row; returns its JSON and the list it names.
    fn item(
        &mut self,
        t: &Table,
        row: usize,
        cells: &[String],
        ty: &str,
        name: &str,
        group_only: &[&str],
    ) -> Option<(Value, Option<String>)> {
        let (base, list) = match ty.split_once(' ') {
            Some((b, l)) => (b.to_lowercase(), Some(l.trim().to_owned())),
            None => (ty.to_lowercase(), None),
        };
        // `select_one` names no list when its options come from a catalogue (choices_from).
        let from_catalogue = !t.get(cells, "choices_from").is_empty();
        let json_type = match (base.as_str(), &list) {
            ("select_one", Some(_)) => "single_choice",
            ("select_one", None) if from_catalogue => "single_choice",
            ("calculate", None) => "calculate",
            ("select_multiple", Some(_)) => "multi_choice",
            ("rating", Some(_)) => "rating",
            ("integer", None) => "integer",
            ("text", None) => "text",
            ("date", None) => "date",
            _ => {
                let shown = if ty.is_empty() { "(trống)" } else { ty };
                let shown_en = if ty.is_empty() { "(blank)" } else { ty };
                self.issue(
                    SURVEY,
                    Some(row),
                    Some("type"),
                    &format!("kiểu \"{shown}\" không hợp lệ; dùng một trong: select_one DANH_SÁCH, select_multiple DANH_SÁCH, rating THANG_ĐO, integer, text, date, calculate, begin group, end group (select_one không kèm danh sách khi có cột choices_from)"),
                    &format!("type \"{shown_en}\" is not valid; use one of: select_one LIST, select_multiple LIST, rating LIST, integer, text, date, calculate, begin group, end group (select_one without a list when choices_from is set)"),
                );
                return None;
            }
        };
        if name.is_empty() {
            self.missing_name(row);
        }
        // A calculation is never shown: its label may be left blank (it is then its name).
        let unlabelled_calculation =
            json_type == "calculate" && t.get(cells, "label::vi").is_empty();
        if !unlabelled_calculation {
            self.label_required(t, row, cells);
        }
        self.not_for(t, row, cells, group_only, "câu hỏi");
        let mut item = Map::new();
        item.insert("code".into(), Value::String(name.to_owned()));
        item.insert("type".into(), Value::String(json_type.into()));
        self.cells(t, row, cells, ITEM_COLS, &mut item);
        if unlabelled_calculation && !name.is_empty() {
            set(&mut item, &["label", "vi"], Value::String(name.to_owned()));
        }
        if let Some(list) = &list {
            let Some(rows) = self.list(list) else {
                let known: Vec<&str> = self.lists.iter().map(|(n, _)| n.as_str()).collect();
                let known = if known.is_empty() {
                    "không có".to_owned()
                } else {
                    known.join(", ")
                };
                let known_en = if self.lists.is_empty() {
                    "none".to_owned()
                } else {
                    self.lists
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                self.issue(
                    SURVEY,
                    Some(row),
                    Some("type"),
                    &format!("danh sách lựa chọn \"{list}\" không có trong trang choices (các danh sách có: {known})"),
                    &format!("choice list \"{list}\" is not on the choices sheet (lists there: {known_en})"),
                );
                return None;
            };
            if json_type == "rating" {
                item.insert("scale".into(), Value::String(list.clone()));
                if !self.rating_lists.contains(list) {
                    self.rating_lists.push(list.clone());
                }
            } else {
                let options: Vec<Value> = rows
                    .iter()
                    .map(|c| {
                        let mut o = Map::new();
                        o.insert("value".into(), Value::String(c.name.clone()));
                        let mut label = Map::new();
                        label.insert("vi".into(), Value::String(c.label_vi.clone()));
                        if !c.label_en.is_empty() {
                            label.insert("en".into(), Value::String(c.label_en.clone()));
                        }
                        o.insert("label".into(), Value::Object(label));
                        if c.other {
                            o.insert("other".into(), Value::Bool(true));
                        }
                        if c.exclusive {
                            o.insert("exclusive".into(), Value::Bool(true));
                        }
                        if !c.attrs.is_empty() {
                            o.insert("attrs".into(), Value::Object(c.attrs.clone()));
                        }
                        Value::Object(o)
                    })
                    .collect();
                item.insert("options".into(), Value::Array(options));
                if !self.select_lists.contains(list) {
                    self.select_lists.push(list.clone());
                }
            }
        }
        Some((Value::Object(item), list))
    }

    /// The scales: lists named by a rating item or marked with satisfied_from / no_answer.
    fn scales(&mut self) -> Map<String, Value> {
        let mut out = Map::new();
        let lists = std::mem::take(&mut self.lists);
        for (name, rows) in &lists {
            let marked = rows.iter().any(|c| c.satisfied_from || c.no_answer);
            if !self.rating_lists.contains(name) && !marked {
                continue;
            }
            let mut src = ScaleSrc {
                first: rows[0].row,
                ..ScaleSrc::default()
            };
            let mut points = Vec::new();
            let mut no_answer = None;
            let mut satisfied = None;
            for c in rows {
                let Ok(value) = c.name.parse::<i64>() else {
                    self.issue(
                        CHOICES,
                        Some(c.row),
                        Some("name"),
                        &format!("\"{}\" không phải số nguyên; các mức của thang đo \"{name}\" phải là số nguyên, ví dụ 1 … 5", c.name),
                        &format!("\"{}\" is not a whole number; the points of scale \"{name}\" must be whole numbers, e.g. 1 … 5", c.name),
                    );
                    continue;
                };
                let mut label = Map::new();
                label.insert("vi".into(), Value::String(c.label_vi.clone()));
                if !c.label_en.is_empty() {
                    label.insert("en".into(), Value::String(c.label_en.clone()));
                }
                let point = json!({"value": value, "label": label});
                if c.no_answer {
                    if no_answer.is_some() {
                        self.issue(
                            CHOICES,
                            Some(c.row),
                            Some("no_answer"),
                            &format!("thang đo \"{name}\" đã có một dòng no_answer; chỉ đánh dấu một dòng"),
                            &format!("scale \"{name}\" already has a no_answer row; mark only one"),
                        );
                    }
                    if c.satisfied_from {
                        self.issue(
                            CHOICES,
                            Some(c.row),
                            Some("satisfied_from"),
                            "dòng \"không trả lời\" (no_answer) không thể là mức satisfied_from",
                            "the no-answer row cannot be the satisfied_from point",
                        );
                    }
                    no_answer = Some(point);
                    src.no_answer = Some(c.row);
                    continue;
                }
                if c.satisfied_from {
                    if satisfied.is_some() {
                        self.issue(
                            CHOICES,
                            Some(c.row),
                            Some("satisfied_from"),
                            &format!("thang đo \"{name}\" đã có một dòng satisfied_from; chỉ đánh dấu một dòng (mức hài lòng thấp nhất)"),
                            &format!("scale \"{name}\" already has a satisfied_from row; mark only one (the lowest satisfied point)"),
                        );
                    }
                    satisfied = Some(value);
                    src.satisfied = Some(c.row);
                }
                if (c.other || c.exclusive) && !self.select_lists.contains(name) {
                    let col = if c.other { "other" } else { "exclusive" };
                    self.issue(
                        CHOICES,
                        Some(c.row),
                        Some(col),
                        &format!("cột \"{col}\" không dùng cho mức của thang đo \"{name}\"; để trống ô này"),
                        &format!("column \"{col}\" does not apply to a point of scale \"{name}\"; leave this cell blank"),
                    );
                }
                points.push(point);
                src.points.push(c.row);
            }
            let mut scale = Map::new();
            scale.insert("points".into(), Value::Array(points));
            if let Some(s) = satisfied {
                scale.insert("satisfied_from".into(), json!(s));
            }
            if let Some(na) = no_answer {
                scale.insert("no_answer".into(), na);
            }
            out.insert(name.clone(), Value::Object(scale));
            self.map.scales.insert(name.clone(), src);
        }
        self.lists = lists;
        out
    }
}

/// Sets `value` at `path` (one or two keys) in `target`.
fn set(target: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [key] => {
            target.insert((*key).to_owned(), value);
        }
        [key, sub] => {
            let entry = target
                .entry((*key).to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert((*sub).to_owned(), value);
            }
        }
        _ => {}
    }
}
