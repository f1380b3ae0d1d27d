//! Writing a questionnaire as an XLSForm-like workbook.
use crate::columns::{
    CHOICE_COLUMNS, Col, GROUP_COLS, ITEM_COLS, Kind, SETTINGS_COLS, survey_columns,
};
use crate::{CHOICES, SETTINGS, SURVEY};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde_json::Value;
use sipas_core::questionnaire::Questionnaire;

/// The workbook could not be written (a text longer than a cell holds, 32 767 characters).
#[derive(Debug, thiserror::Error)]
#[error("cannot write the workbook: {0}")]
pub struct WriteError(#[from] XlsxError);

/// Writes `form` as a workbook with the sheets `survey`, `choices` and `settings`;
/// [`crate::read_xlsform`] reads it back to an equal questionnaire.
///
/// # Panics
///
/// Only when a text is longer than an Excel cell holds (32 767 characters), which no
/// questionnaire label comes near; use [`try_write_xlsform`] to get that as an error.
pub fn write_xlsform(form: &Questionnaire) -> Vec<u8> {
    try_write_xlsform(form).expect("questionnaire texts fit in Excel cells")
}

/// Writes `form` as a workbook (see [`write_xlsform`]).
pub fn try_write_xlsform(form: &Questionnaire) -> Result<Vec<u8>, WriteError> {
    let value = serde_json::to_value(form).unwrap_or(Value::Null);
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    // A fixed creation time: the same form always gives the same bytes, so a regenerated
    // source shows no change in version control.
    let properties = DocProperties::new()
        .set_title(&form.title.vi)
        .set_subject(format!("{} {}", form.form_id, form.version))
        .set_creation_datetime(&ExcelDateTime::from_ymd(2026, 1, 1)?);
    book.set_properties(&properties);

    // Option lists: identical option sets share one list, named after the first item using it.
    let scales = value["scales"].as_object().cloned().unwrap_or_default();
    let mut lists: Vec<(String, Value)> = Vec::new();
    let mut item_list: Vec<Option<String>> = Vec::new();
    for group in value["groups"].as_array().into_iter().flatten() {
        for item in group["items"].as_array().into_iter().flatten() {
            let options = &item["options"];
            if options.as_array().is_none_or(|o| o.is_empty()) {
                item_list.push(None);
                continue;
            }
            if let Some((name, _)) = lists.iter().find(|(_, o)| o == options) {
                item_list.push(Some(name.clone()));
                continue;
            }
            let base = item["code"].as_str().unwrap_or("list").to_lowercase();
            let mut name = base.clone();
            let mut n = 2;
            while scales.contains_key(&name) || lists.iter().any(|(l, _)| *l == name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            lists.push((name.clone(), options.clone()));
            item_list.push(Some(name));
        }
    }

    // survey
    let columns = survey_columns();
    let sheet = book.add_worksheet();
    sheet.set_name(SURVEY)?;
    header(sheet, &columns, &bold)?;
    let mut row: u32 = 1;
    let mut item_index = 0;
    for group in value["groups"].as_array().into_iter().flatten() {
        put(sheet, &columns, row, "type", "begin group")?;
        put(
            sheet,
            &columns,
            row,
            "name",
            group["code"].as_str().unwrap_or(""),
        )?;
        put_cols(sheet, &columns, row, group, GROUP_COLS)?;
        row += 1;
        for item in group["items"].as_array().into_iter().flatten() {
            let list = item_list[item_index].as_deref().unwrap_or("");
            let ty = match item["type"].as_str().unwrap_or("") {
                // No list: the options come from a catalogue (choices_from).
                "single_choice" => format!("select_one {list}").trim_end().to_owned(),
                "multi_choice" => format!("select_multiple {list}").trim_end().to_owned(),
                "rating" => format!("rating {}", item["scale"].as_str().unwrap_or("")),
                other => other.to_owned(),
            };
            item_index += 1;
            put(sheet, &columns, row, "type", &ty)?;
            put(
                sheet,
                &columns,
                row,
                "name",
                item["code"].as_str().unwrap_or(""),
            )?;
            put_cols(sheet, &columns, row, item, ITEM_COLS)?;
            row += 1;
        }
        put(sheet, &columns, row, "type", "end group")?;
        row += 1;
    }
    widths(sheet, &columns)?;

    // choices: scales first, then option lists.
    let sheet = book.add_worksheet();
    sheet.set_name(CHOICES)?;
    // Option attributes become extra columns, in order of first use.
    let mut attr_names: Vec<String> = Vec::new();
    for (_, options) in &lists {
        for option in options.as_array().into_iter().flatten() {
            for attr in option["attrs"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                if !attr_names.contains(attr) && !CHOICE_COLUMNS.contains(&attr.as_str()) {
                    attr_names.push(attr.clone());
                }
            }
        }
    }
    let cols: Vec<&str> = CHOICE_COLUMNS
        .iter()
        .copied()
        .chain(attr_names.iter().map(String::as_str))
        .collect();
    header(sheet, &cols, &bold)?;
    let mut row: u32 = 1;
    for (name, scale) in &scales {
        let satisfied = scale["satisfied_from"].as_i64();
        let points = scale["points"].as_array().cloned().unwrap_or_default();
        let no_answer = scale.get("no_answer").cloned();
        let rows = points
            .iter()
            .map(|p| (p, false))
            .chain(no_answer.iter().map(|p| (p, true)));
        for (point, is_na) in rows {
            let value = point["value"].as_i64().unwrap_or_default();
            put(sheet, &cols, row, "list_name", name)?;
            put(sheet, &cols, row, "name", &value.to_string())?;
            label(sheet, &cols, row, &point["label"])?;
            if is_na {
                put(sheet, &cols, row, "no_answer", "yes")?;
            } else if satisfied == Some(value) {
                put(sheet, &cols, row, "satisfied_from", "yes")?;
            }
            row += 1;
        }
    }
    for (name, options) in &lists {
        for option in options.as_array().into_iter().flatten() {
            put(sheet, &cols, row, "list_name", name)?;
            put(
                sheet,
                &cols,
                row,
                "name",
                option["value"].as_str().unwrap_or(""),
            )?;
            label(sheet, &cols, row, &option["label"])?;
            for flag in ["other", "exclusive"] {
                if option[flag].as_bool() == Some(true) {
                    put(sheet, &cols, row, flag, "yes")?;
                }
            }
            for (attr, v) in option["attrs"].as_object().into_iter().flatten() {
                put(sheet, &cols, row, attr, v.as_str().unwrap_or(""))?;
            }
            row += 1;
        }
    }
    widths(sheet, &cols)?;

    // settings
    let sheet = book.add_worksheet();
    sheet.set_name(SETTINGS)?;
    let columns: Vec<&str> = SETTINGS_COLS.iter().map(|c| c.name).collect();
    header(sheet, &columns, &bold)?;
    put(sheet, &columns, 1, "default_language", "vi")?;
    put_cols(sheet, &columns, 1, &value, SETTINGS_COLS)?;
    widths(sheet, &columns)?;

    Ok(book.save_to_buffer()?)
}

fn header(sheet: &mut Worksheet, columns: &[&str], bold: &Format) -> Result<(), XlsxError> {
    for (i, c) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, col_index(i), *c, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn widths(sheet: &mut Worksheet, columns: &[&str]) -> Result<(), XlsxError> {
    for (i, c) in columns.iter().enumerate() {
        let width = if c.starts_with("label") || c.starts_with("hint") || c.contains("::") {
            40.0
        } else {
            16.0
        };
        sheet.set_column_width(col_index(i), width)?;
    }
    Ok(())
}

fn col_index(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// Writes `text` in column `column` of `row` (nothing for an empty text).
fn put(
    sheet: &mut Worksheet,
    columns: &[&str],
    row: u32,
    column: &str,
    text: &str,
) -> Result<(), XlsxError> {
    if text.is_empty() {
        return Ok(());
    }
    if let Some(i) = columns.iter().position(|c| *c == column) {
        sheet.write_string(row, col_index(i), text)?;
    }
    Ok(())
}

fn label(
    sheet: &mut Worksheet,
    columns: &[&str],
    row: u32,
    label: &Value,
) -> Result<(), XlsxError> {
    put(
        sheet,
        columns,
        row,
        "label::vi",
        label["vi"].as_str().unwrap_or(""),
    )?;
    put(
        sheet,
        columns,
        row,
        "label::en",
        label["en"].as_str().unwrap_or(""),
    )
}

/// Writes the values of `cols` found in `object`.
fn put_cols(
    sheet: &mut Worksheet,
    columns: &[&str],
    row: u32,
    object: &Value,
    cols: &[Col],
) -> Result<(), XlsxError> {
    for c in cols {
        let v = match c.path {
            [k] => &object[*k],
            [k, s] => &object[*k][*s],
            _ => continue,
        };
        let Some(i) = columns.iter().position(|name| *name == c.name) else {
            continue;
        };
        let col = col_index(i);
        match (c.kind, v) {
            (_, Value::Null) => {}
            (Kind::Flag, Value::Bool(false)) => {}
            (_, Value::Bool(b)) => {
                sheet.write_string(row, col, if *b { "yes" } else { "no" })?;
            }
            (_, Value::Number(n)) => match n.as_i64() {
                Some(i) if i.unsigned_abs() < (1 << 53) => {
                    sheet.write_number(row, col, i as f64)?;
                }
                _ => {
                    sheet.write_string(row, col, n.to_string())?;
                }
            },
            (_, Value::String(s)) => {
                if !s.is_empty() {
                    sheet.write_string(row, col, s)?;
                }
            }
            (_, other) => {
                sheet.write_string(row, col, other.to_string())?;
            }
        }
    }
    Ok(())
}
