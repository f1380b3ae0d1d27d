//! Questionnaires authored as XLSX workbooks, XLSForm style.
//!
//! A workbook has three sheets — `survey` (one row per question, `begin group` / `end group`
//! rows around each group), `choices` (option lists and rating scales) and `settings` (form id,
//! version, title). [`read_xlsform`] turns a workbook into the JSON questionnaire model
//! ([`sipas_core::questionnaire::Questionnaire`]) and checks it with the core loader
//! ([`sipas_core::form_loader::load_form`]); every problem comes back as a [`SheetIssue`] that
//! names the sheet, row and column, in Vietnamese and English. [`write_xlsform`] writes a
//! questionnaire as such a workbook; reading it back gives the same questionnaire.
//!
//! The format is documented in `schemas/README.md`, section "Soạn biểu mẫu bằng XLSX / XLSX
//! authoring". The columns are a table ([`columns`]): a column is a JSON key of the model, so a
//! new optional key of the model is one new row in that table.
#![forbid(unsafe_code)]

mod columns;
mod locate;
mod messages;
mod read;
mod write;

pub use messages::translate_issue;
pub use read::read_xlsform;
pub use write::{WriteError, try_write_xlsform, write_xlsform};

use serde::Serialize;

/// Whether relevance cells may hold expressions (the model's string `relevant`); without them a
/// relevance cell must be a JSON condition object.
const EXPRESSIONS: bool = true;

/// Name of the sheet with the questions.
pub const SURVEY: &str = "survey";
/// Name of the sheet with the option lists and scales.
pub const CHOICES: &str = "choices";
/// Name of the sheet with the form's identity.
pub const SETTINGS: &str = "settings";

/// One problem in an authored workbook, located by sheet, row (as the spreadsheet numbers it,
/// header = 1) and column (the column's header, e.g. `relevant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetIssue {
    /// Sheet name (`survey`, `choices`, `settings`); empty when the file itself is unreadable.
    pub sheet: String,
    /// Row number (header = 1), when the problem is in one row.
    pub row: Option<usize>,
    /// Column header, when the problem is in one column.
    pub column: Option<String>,
    /// Vietnamese message; starts with "Trang <sheet>, dòng <row>, cột <column>: ".
    pub message_vi: String,
    /// English message; starts with "Sheet <sheet>, row <row>, column <column>: ".
    pub message_en: String,
}

impl SheetIssue {
    /// A problem at a place; the messages are prefixed with the place.
    pub fn new(sheet: &str, row: Option<usize>, column: Option<&str>, vi: &str, en: &str) -> Self {
        let mut pvi = format!("Trang {sheet}");
        let mut pen = format!("Sheet {sheet}");
        if let Some(r) = row {
            pvi.push_str(&format!(", dòng {r}"));
            pen.push_str(&format!(", row {r}"));
        }
        if let Some(c) = column {
            pvi.push_str(&format!(", cột {c}"));
            pen.push_str(&format!(", column {c}"));
        }
        SheetIssue {
            sheet: sheet.to_owned(),
            row,
            column: column.map(str::to_owned),
            message_vi: format!("{pvi}: {vi}"),
            message_en: format!("{pen}: {en}"),
        }
    }

    /// A problem with the whole file (not a readable workbook).
    pub fn file(vi: &str, en: &str) -> Self {
        SheetIssue {
            sheet: String::new(),
            row: None,
            column: None,
            message_vi: vi.to_owned(),
            message_en: en.to_owned(),
        }
    }
}

impl std::fmt::Display for SheetIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message_vi)
    }
}
