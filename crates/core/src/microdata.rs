//! Response-level data for analysts: one row per counted response with labelled columns
//! named by item code, a codebook, a CSV writer and an SPSS syntax file that labels the CSV.
//!
//! * **Which responses**: per response id the latest revision given; it is kept only when
//!   the caller marks that revision counted (not voided, its latest review decision not
//!   `rejected`: the rule the server's index queries apply). An earlier revision never
//!   stands in for a rejected latest one. [`MicrodataBuilder::counted`] yields the same
//!   selection as index inputs, so the row count equals the index's respondents.
//! * **No contact data**: the input carries none (names, addresses and phone numbers live
//!   with assignments, never in answers), and the columns are the fixed keys plus form
//!   items only. Free-text items (comments, "other, specify") can still name people, so they
//!   are left out unless [`MicrodataOptions::include_free_text`] is set.
//! * **Columns**: `response_id`, `revision`, `round_id`, `unit_code`, `agency_code`,
//!   `agency_kind`, `field_code`, then each item in form order; a multi-choice item becomes
//!   one 1/0 column per option, named `{item}__{option}`. Values are as answered (a
//!   rating's no-answer code, e.g. 9, stays and is declared missing in the codebook).
//! * **Small units**: with [`MicrodataOptions::blank_units_below`] = N, the item cells of
//!   responses in a (round, unit) with fewer than N counted responses are blanked.
//! * No `.sav` / `.dta` writer: no maintained crate was found (the registry search was not
//!   reachable from the build machine); [`spss_syntax`] labels the CSV instead.
use crate::answer::{AnswerValue, Answers};
use crate::index::IndexInput;
use crate::questionnaire::{FormKey, ItemType, Questionnaire};
use crate::report::csv_field;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The fixed key columns, in order.
pub const KEY_COLUMNS: [&str; 7] = [
    "response_id",
    "revision",
    "round_id",
    "unit_code",
    "agency_code",
    "agency_kind",
    "field_code",
];

/// One revision offered to the builder.
#[derive(Debug, Clone, Copy)]
pub struct MicrodataInput<'a> {
    /// Response id (stable across revisions).
    pub response_id: Uuid,
    /// Revision number.
    pub revision: u32,
    /// Whether this revision counts (not voided, latest decision not rejected).
    pub counted: bool,
    /// Survey round.
    pub round_id: &'a str,
    /// Sample unit.
    pub unit_code: &'a str,
    /// Agency code.
    pub agency_code: Option<&'a str>,
    /// Agency kind code.
    pub agency_kind: Option<&'a str>,
    /// Field code.
    pub field_code: Option<&'a str>,
    /// Answers of this revision.
    pub answers: &'a Answers,
}

/// Options of the export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MicrodataOptions {
    /// Include free-text items (off by default: they may identify people).
    pub include_free_text: bool,
    /// Blank the item cells of (round, unit) cells with fewer counted responses than this.
    pub blank_units_below: Option<usize>,
}

/// How a column is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Whole numbers.
    Numeric,
    /// Text (codes, dates, free text).
    String,
}

/// One value label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueLabel {
    /// The value as written in the CSV.
    pub value: String,
    /// Vietnamese label.
    pub label_vi: String,
}

/// The codebook entry of one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodebookEntry {
    /// Column name.
    pub column: String,
    /// Item code (`None` for key columns).
    pub item_code: Option<String>,
    /// Question text (vi); for a multi-choice option column: "question: option".
    pub question_vi: String,
    /// Storage.
    pub kind: ColumnKind,
    /// Value labels.
    pub value_labels: Vec<ValueLabel>,
    /// Values that mean "no answer" (user-missing in SPSS).
    pub missing_values: Vec<String>,
}

/// The microdata table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Microdata {
    /// The form.
    pub form: FormKey,
    /// Columns with their codebook entries, in order.
    pub codebook: Vec<CodebookEntry>,
    /// One row per counted response, sorted by round, unit, response id; cells in column
    /// order, `None` = empty.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Microdata {
    /// Column names in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.codebook.iter().map(|c| c.column.as_str())
    }
}

/// How an item becomes columns.
enum ItemColumns {
    Single { code: String },
    Multi { code: String, options: Vec<String> },
}

/// Collects revisions and builds the table.
#[derive(Debug, Clone, Default)]
pub struct MicrodataBuilder<'a> {
    latest: BTreeMap<Uuid, MicrodataInput<'a>>,
}

impl<'a> MicrodataBuilder<'a> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers one revision; the highest revision per response id wins.
    pub fn add(&mut self, input: MicrodataInput<'a>) {
        match self.latest.get(&input.response_id) {
            Some(have) if have.revision >= input.revision => {}
            _ => {
                self.latest.insert(input.response_id, input);
            }
        }
    }

    /// The counted latest revisions, sorted by round, unit, response id.
    pub fn counted(&self) -> Vec<MicrodataInput<'a>> {
        let mut v: Vec<_> = self
            .latest
            .values()
            .filter(|i| i.counted)
            .copied()
            .collect();
        v.sort_by(|a, b| {
            (a.round_id, a.unit_code, a.response_id).cmp(&(b.round_id, b.unit_code, b.response_id))
        });
        v
    }

    /// The counted latest revisions as index-engine inputs (same selection as the rows).
    pub fn index_inputs(&self) -> Vec<IndexInput<'a>> {
        self.counted()
            .into_iter()
            .map(|i| IndexInput {
                round_id: i.round_id,
                unit_code: i.unit_code,
                answers: i.answers,
            })
            .collect()
    }

    /// Builds the table for `form` (the rows of [`MicrodataStream`] fed with
    /// [`Self::counted`]).
    pub fn build(&self, form: &Questionnaire, options: &MicrodataOptions) -> Microdata {
        let mut stream = MicrodataStream::new(form, options);
        let mut rows = Vec::new();
        for i in self.counted() {
            stream.push(&i, &mut rows);
        }
        stream.finish(&mut rows);
        Microdata {
            form: form.key(),
            codebook: stream.codebook,
            rows,
        }
    }
}

/// One row of the table: cells in column order, `None` = empty.
pub type MicrodataRow = Vec<Option<String>>;

/// The table row by row in bounded memory (issue 14): counted latest revisions go in sorted
/// by round, unit, response id (the order of [`Microdata::rows`]) and rows come out in the
/// same order, equal to [`MicrodataBuilder::build`]'s. With
/// [`MicrodataOptions::blank_units_below`] = N, at most N − 1 rows of the current unit wait
/// until the unit is known to reach N (then they and the rest of the unit pass unchanged)
/// or ends below it (then they come out blanked). The widest value of every column is kept
/// for [`spss_syntax_of`].
pub struct MicrodataStream {
    form: FormKey,
    codebook: Vec<CodebookEntry>,
    items: Vec<ItemColumns>,
    blank_below: Option<usize>,
    /// The current (round, unit) and its number of rows so far.
    unit: Option<(String, String)>,
    in_unit: usize,
    /// Rows of the current unit held back while it is below the minimum.
    held: Vec<MicrodataRow>,
    widths: Vec<Option<usize>>,
    rows: u64,
}

impl MicrodataStream {
    /// A stream for `form` with `options`.
    pub fn new(form: &Questionnaire, options: &MicrodataOptions) -> Self {
        let (codebook, items) = columns(form, options);
        let widths = vec![None; codebook.len()];
        MicrodataStream {
            form: form.key(),
            codebook,
            items,
            blank_below: options.blank_units_below,
            unit: None,
            in_unit: 0,
            held: Vec::new(),
            widths,
            rows: 0,
        }
    }

    /// The form.
    pub fn form(&self) -> &FormKey {
        &self.form
    }

    /// The columns with their codebook entries, in order.
    pub fn codebook(&self) -> &[CodebookEntry] {
        &self.codebook
    }

    /// Column names in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.codebook.iter().map(|c| c.column.as_str())
    }

    /// Rows given out so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Takes the next counted latest revision (`input.counted` is not looked at: the caller
    /// gives counted ones only, one per response id, sorted by round, unit, response id) and
    /// appends to `out` the rows that are ready.
    pub fn push(&mut self, input: &MicrodataInput<'_>, out: &mut Vec<MicrodataRow>) {
        let same = self
            .unit
            .as_ref()
            .is_some_and(|(r, u)| r == input.round_id && u == input.unit_code);
        if !same {
            self.end_unit(out);
            self.unit = Some((input.round_id.to_owned(), input.unit_code.to_owned()));
        }
        self.in_unit += 1;
        let row = self.row(input);
        match self.blank_below {
            Some(min) if self.in_unit < min => self.held.push(row),
            Some(_) if !self.held.is_empty() => {
                for r in std::mem::take(&mut self.held) {
                    self.emit(r, false, out);
                }
                self.emit(row, false, out);
            }
            _ => self.emit(row, false, out),
        }
    }

    /// Appends the rows still held (the last unit) to `out`; call once after the last input.
    pub fn finish(&mut self, out: &mut Vec<MicrodataRow>) {
        self.end_unit(out);
        self.unit = None;
    }

    /// The current unit ended: its held rows (a unit below the minimum) come out blanked.
    fn end_unit(&mut self, out: &mut Vec<MicrodataRow>) {
        for r in std::mem::take(&mut self.held) {
            self.emit(r, true, out);
        }
        self.in_unit = 0;
    }

    fn emit(&mut self, mut row: MicrodataRow, blank: bool, out: &mut Vec<MicrodataRow>) {
        if blank {
            for c in row.iter_mut().skip(KEY_COLUMNS.len()) {
                *c = None;
            }
        }
        for (w, c) in self.widths.iter_mut().zip(&row) {
            if let Some(v) = c {
                *w = Some(w.map_or(v.len(), |w| w.max(v.len())));
            }
        }
        self.rows += 1;
        out.push(row);
    }

    fn row(&self, i: &MicrodataInput<'_>) -> MicrodataRow {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        let mut row = vec![
            Some(i.response_id.to_string()),
            Some(i.revision.to_string()),
            Some(i.round_id.to_owned()),
            Some(i.unit_code.to_owned()),
            owned(i.agency_code),
            owned(i.agency_kind),
            owned(i.field_code),
        ];
        for col in &self.items {
            match col {
                ItemColumns::Single { code } => row.push(scalar(i.answers.get(code))),
                ItemColumns::Multi { code, options } => {
                    let chosen = i.answers.get(code);
                    for o in options {
                        row.push(match chosen {
                            Some(AnswerValue::Codes(cs)) => {
                                Some(if cs.contains(o) { "1" } else { "0" }.to_owned())
                            }
                            _ => None,
                        });
                    }
                }
            }
        }
        row
    }

    /// The SPSS syntax labelling the CSV `csv_file` of the rows given out (see
    /// [`spss_syntax`]); call after [`Self::finish`].
    pub fn spss_syntax(&self, csv_file: &str) -> String {
        spss_syntax_of(&self.form, &self.codebook, &self.widths, csv_file)
    }
}

/// The codebook and the item columns of `form`.
fn columns(
    form: &Questionnaire,
    options: &MicrodataOptions,
) -> (Vec<CodebookEntry>, Vec<ItemColumns>) {
    let mut codebook: Vec<CodebookEntry> = KEY_COLUMNS
        .iter()
        .map(|c| CodebookEntry {
            column: (*c).to_owned(),
            item_code: None,
            question_vi: key_label_vi(c).to_owned(),
            kind: if *c == "revision" {
                ColumnKind::Numeric
            } else {
                ColumnKind::String
            },
            value_labels: Vec::new(),
            missing_values: Vec::new(),
        })
        .collect();
    let mut items = Vec::new();
    for (_, item) in form.items() {
        let question = item.label.vi.clone();
        let entry = |column: String, kind, labels, missing| CodebookEntry {
            column,
            item_code: Some(item.code.clone()),
            question_vi: question.clone(),
            kind,
            value_labels: labels,
            missing_values: missing,
        };
        match item.item_type {
            ItemType::Text if !options.include_free_text => continue,
            // Calculated values are integers or text: a string column keeps both.
            ItemType::Text | ItemType::Date | ItemType::Calculate => {
                codebook.push(entry(item.code.clone(), ColumnKind::String, vec![], vec![]));
            }
            ItemType::Integer => {
                codebook.push(entry(
                    item.code.clone(),
                    ColumnKind::Numeric,
                    vec![],
                    vec![],
                ));
            }
            ItemType::SingleChoice => {
                let labels = item
                    .options
                    .iter()
                    .map(|o| ValueLabel {
                        value: o.value.clone(),
                        label_vi: o.label.vi.clone(),
                    })
                    .collect();
                codebook.push(entry(item.code.clone(), ColumnKind::String, labels, vec![]));
            }
            ItemType::Rating => {
                let scale = item.scale.as_ref().and_then(|s| form.scales.get(s));
                let labels = scale
                    .map(|s| {
                        s.points
                            .iter()
                            .chain(s.no_answer.as_ref())
                            .map(|p| ValueLabel {
                                value: p.value.to_string(),
                                label_vi: p.label.vi.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let missing = scale
                    .and_then(|s| s.no_answer.as_ref())
                    .map(|p| vec![p.value.to_string()])
                    .unwrap_or_default();
                codebook.push(entry(
                    item.code.clone(),
                    ColumnKind::Numeric,
                    labels,
                    missing,
                ));
            }
            ItemType::MultiChoice => {
                for o in &item.options {
                    let mut e = entry(
                        format!("{}__{}", item.code, o.value),
                        ColumnKind::Numeric,
                        vec![
                            ValueLabel {
                                value: "1".into(),
                                label_vi: "Có chọn".into(),
                            },
                            ValueLabel {
                                value: "0".into(),
                                label_vi: "Không chọn".into(),
                            },
                        ],
                        vec![],
                    );
                    e.question_vi = format!("{}: {}", item.label.vi, o.label.vi);
                    codebook.push(e);
                }
                items.push(ItemColumns::Multi {
                    code: item.code.clone(),
                    options: item.options.iter().map(|o| o.value.clone()).collect(),
                });
                continue;
            }
        }
        items.push(ItemColumns::Single {
            code: item.code.clone(),
        });
    }
    (codebook, items)
}

fn scalar(v: Option<&AnswerValue>) -> Option<String> {
    match v? {
        AnswerValue::Int(i) => Some(i.to_string()),
        AnswerValue::Text(t) if !t.is_empty() => Some(t.clone()),
        AnswerValue::Text(_) => None,
        AnswerValue::Codes(cs) => Some(cs.join(";")),
    }
}

fn key_label_vi(column: &str) -> &'static str {
    match column {
        "response_id" => "Mã phiếu trả lời",
        "revision" => "Lần sửa",
        "round_id" => "Đợt khảo sát",
        "unit_code" => "Mã đơn vị hành chính",
        "agency_code" => "Mã cơ quan",
        "agency_kind" => "Loại cơ quan",
        _ => "Mã lĩnh vực",
    }
}

/// The table as CSV: UTF-8 with a byte-order mark, CRLF, RFC 4180 quoting; the first record
/// holds the column names, empty cells are empty fields ([`csv_head`] then one
/// [`csv_record`] per row).
pub fn to_csv(data: &Microdata) -> String {
    let mut out = csv_head(data.columns());
    for row in &data.rows {
        out.push_str(&csv_record(row));
    }
    out
}

/// The start of the [`to_csv`] file: the byte-order mark and the record of column names.
pub fn csv_head<'c>(columns: impl Iterator<Item = &'c str>) -> String {
    let names: Vec<String> = columns.map(csv_field).collect();
    format!("\u{FEFF}{}\r\n", names.join(","))
}

/// One row as a [`to_csv`] record (with its CRLF).
pub fn csv_record(row: &[Option<String>]) -> String {
    let fields: Vec<String> = row
        .iter()
        .map(|c| c.as_deref().map(csv_field).unwrap_or_default())
        .collect();
    let mut out = fields.join(",");
    out.push_str("\r\n");
    out
}

/// SPSS reserved words, which cannot be variable names.
const SPSS_RESERVED: [&str; 13] = [
    "ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH",
];

/// SPSS variable names for the columns: `-` (allowed in item codes, not in SPSS names)
/// becomes `_`, names are cut to 60 characters, reserved words get a trailing `_`, and a
/// name already taken gets `_2`, `_3` … . Column names that are valid stay as they are.
pub fn spss_names(data: &Microdata) -> Vec<String> {
    names_of(&data.codebook)
}

fn names_of(codebook: &[CodebookEntry]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::new();
    for c in codebook.iter().map(|c| c.column.as_str()) {
        let mut name: String = c.replace('-', "_").chars().take(60).collect();
        if SPSS_RESERVED.contains(&name.to_ascii_uppercase().as_str()) {
            name.push('_');
        }
        let base = name.clone();
        let mut k = 2;
        while taken.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{k}");
            k += 1;
        }
        taken.push(name);
    }
    taken
}

/// An SPSS syntax file that reads the [`to_csv`] file `csv_file` and labels it: GET DATA
/// with each variable's format (strings as wide as their longest value in bytes), VARIABLE
/// LABELS (question text), VALUE LABELS and MISSING VALUES (no-answer codes). Variables are
/// named by [`spss_names`] (the CSV header row is skipped).
pub fn spss_syntax(data: &Microdata, csv_file: &str) -> String {
    let widths: Vec<Option<usize>> = (0..data.codebook.len())
        .map(|i| {
            data.rows
                .iter()
                .filter_map(|r| r[i].as_ref().map(String::len))
                .max()
        })
        .collect();
    spss_syntax_of(&data.form, &data.codebook, &widths, csv_file)
}

/// [`spss_syntax`] from the codebook and the widest value (bytes) of each column's rows.
fn spss_syntax_of(
    form: &FormKey,
    codebook: &[CodebookEntry],
    widths: &[Option<usize>],
    csv_file: &str,
) -> String {
    let names = names_of(codebook);
    let q = |s: &str| format!("'{}'", s.replace('\'', "''").replace(['\r', '\n'], " "));
    let mut out = String::new();
    out.push_str("* Encoding: UTF-8.\n");
    out.push_str(&format!(
        "* SIPAS microdata, form {}: labels for {}.\n",
        form, csv_file
    ));
    out.push_str("GET DATA\n  /TYPE=TXT\n");
    out.push_str(&format!("  /FILE={}\n", q(csv_file)));
    out.push_str("  /ENCODING='UTF8'\n  /ARRANGEMENT=DELIMITED\n  /DELCASE=LINE\n");
    out.push_str("  /FIRSTCASE=2\n  /DELIMITERS=','\n  /QUALIFIER='\"'\n  /VARIABLES=\n");
    for (i, c) in codebook.iter().enumerate() {
        let format = match c.kind {
            ColumnKind::Numeric => "F8.0".to_owned(),
            ColumnKind::String => {
                let width = widths[i]
                    .into_iter()
                    .chain(c.value_labels.iter().map(|v| v.value.len()))
                    .max()
                    .unwrap_or(1)
                    .max(1);
                format!("A{width}")
            }
        };
        out.push_str(&format!("    {} {}\n", names[i], format));
    }
    out.push_str(".\nVARIABLE LABELS\n");
    for (i, c) in codebook.iter().enumerate() {
        let sep = if i == 0 { "  " } else { "  /" };
        out.push_str(&format!("{sep}{} {}\n", names[i], q(&c.question_vi)));
    }
    out.push_str(".\n");
    let labelled: Vec<(&String, &CodebookEntry)> = names
        .iter()
        .zip(codebook)
        .filter(|(_, c)| !c.value_labels.is_empty())
        .collect();
    if !labelled.is_empty() {
        out.push_str("VALUE LABELS\n");
        for (i, (name, c)) in labelled.iter().enumerate() {
            let sep = if i == 0 { "  " } else { "  /" };
            let pairs: Vec<String> = c
                .value_labels
                .iter()
                .map(|v| {
                    let value = match c.kind {
                        ColumnKind::Numeric => v.value.clone(),
                        ColumnKind::String => q(&v.value),
                    };
                    format!("{value} {}", q(&v.label_vi))
                })
                .collect();
            out.push_str(&format!("{sep}{name} {}\n", pairs.join(" ")));
        }
        out.push_str(".\n");
    }
    for (name, c) in names
        .iter()
        .zip(codebook)
        .filter(|(_, c)| !c.missing_values.is_empty())
    {
        out.push_str(&format!(
            "MISSING VALUES {name} ({}).\n",
            c.missing_values.join(", ")
        ));
    }
    out.push_str("EXECUTE.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spss_names_are_valid_and_unique() {
        let entry = |column: &str| CodebookEntry {
            column: column.into(),
            item_code: None,
            question_vi: String::new(),
            kind: ColumnKind::String,
            value_labels: vec![],
            missing_values: vec![],
        };
        let data = Microdata {
            form: FormKey {
                form_id: "f".into(),
                version: "1".into(),
            },
            codebook: ["Q-1", "Q_1", "to", "G1_1", &"x".repeat(70)]
                .iter()
                .map(|c| entry(c))
                .collect(),
            rows: vec![],
        };
        // Q-1 → Q_1; the real Q_1 is then taken → Q_1_2; `to` is reserved → to_;
        // a 70-character name is cut to 60.
        assert_eq!(
            spss_names(&data),
            ["Q_1", "Q_1_2", "to_", "G1_1", &"x".repeat(60)]
        );
    }
}
