//! The column table: which sheet column is which JSON key of the questionnaire model.

/// How a cell is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text (NFC-normalised when read); blank = key absent.
    Text,
    /// Whole number; blank = key absent.
    Int,
    /// `yes` / `no` (also `true`/`false`, `1`/`0`, `có`/`không`); blank = key absent.
    Bool,
    /// Like [`Kind::Bool`] but blank = `false` and only `yes` is written (`required`).
    Flag,
    /// A relevance condition: JSON text (`{"item": …}`) for the JSON condition objects,
    /// anything else is an expression.
    Condition,
}

/// One column: its header and the JSON path (one or two keys) of the value it carries.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub name: &'static str,
    pub path: &'static [&'static str],
    pub kind: Kind,
}

const fn col(name: &'static str, path: &'static [&'static str], kind: Kind) -> Col {
    Col { name, path, kind }
}

/// Columns of question rows on the `survey` sheet (besides `type` and `name`).
pub const ITEM_COLS: &[Col] = &[
    col("label::vi", &["label", "vi"], Kind::Text),
    col("label::en", &["label", "en"], Kind::Text),
    col("hint::vi", &["hint", "vi"], Kind::Text),
    col("hint::en", &["hint", "en"], Kind::Text),
    col("required", &["required"], Kind::Flag),
    col("relevant", &["relevant"], Kind::Condition),
    col("min", &["min"], Kind::Int),
    col("max", &["max"], Kind::Int),
    col("max_length", &["max_length"], Kind::Int),
    col("range_message::vi", &["range_message", "vi"], Kind::Text),
    col("range_message::en", &["range_message", "en"], Kind::Text),
    col("criterion", &["criterion"], Kind::Bool),
    col("constraint", &["constraint"], Kind::Text),
    col(
        "constraint_message::vi",
        &["constraint_message", "vi"],
        Kind::Text,
    ),
    col(
        "constraint_message::en",
        &["constraint_message", "en"],
        Kind::Text,
    ),
    col("calculation", &["calculation"], Kind::Text),
    col("appearance", &["appearance"], Kind::Text),
    col("choice_filter", &["choice_filter"], Kind::Text),
    col("choices_from", &["choices_from"], Kind::Text),
    col("prefill", &["prefill", "from"], Kind::Text),
    col("prefill_editable", &["prefill", "editable"], Kind::Bool),
];

/// Columns of `begin group` rows on the `survey` sheet (besides `type` and `name`).
pub const GROUP_COLS: &[Col] = &[
    col("label::vi", &["title", "vi"], Kind::Text),
    col("label::en", &["title", "en"], Kind::Text),
    col("relevant", &["relevant"], Kind::Condition),
    col("group_kind", &["kind"], Kind::Text),
    col("element", &["element"], Kind::Text),
    col("in_overall_index", &["in_overall_index"], Kind::Bool),
];

/// Every column of the `survey` sheet, in the order the writer puts them.
pub fn survey_columns() -> Vec<&'static str> {
    let mut out = vec!["type", "name"];
    for c in ITEM_COLS.iter().chain(GROUP_COLS) {
        if !out.contains(&c.name) {
            out.push(c.name);
        }
    }
    out
}

/// Fixed columns of the `choices` sheet; any other column is an option attribute (`attrs`).
pub const CHOICE_COLUMNS: &[&str] = &[
    "list_name",
    "name",
    "label::vi",
    "label::en",
    "other",
    "exclusive",
    "satisfied_from",
    "no_answer",
];

/// Columns of the `settings` sheet (values in row 2).
pub const SETTINGS_COLS: &[Col] = &[
    col("form_id", &["form_id"], Kind::Text),
    col("version", &["version"], Kind::Text),
    col("title::vi", &["title", "vi"], Kind::Text),
    col("title::en", &["title", "en"], Kind::Text),
    col("default_language", &[], Kind::Text),
    col("basis", &["basis"], Kind::Text),
    col("description::vi", &["description", "vi"], Kind::Text),
    col("description::en", &["description", "en"], Kind::Text),
];

/// The column carrying JSON key `key` (with sub-key `sub`, e.g. `label`/`vi`) of an item.
pub fn item_column(key: &str, sub: Option<&str>) -> Option<&'static str> {
    find(ITEM_COLS, key, sub)
}

/// The column carrying JSON key `key` of a group.
pub fn group_column(key: &str, sub: Option<&str>) -> Option<&'static str> {
    find(GROUP_COLS, key, sub)
}

/// The `settings` column carrying top-level key `key`.
pub fn settings_column(key: &str, sub: Option<&str>) -> Option<&'static str> {
    find(SETTINGS_COLS, key, sub)
}

fn find(cols: &[Col], key: &str, sub: Option<&str>) -> Option<&'static str> {
    cols.iter()
        .find(|c| {
            c.path.first() == Some(&key) && (c.path.len() == 1 || c.path.get(1).copied() == sub)
        })
        .or_else(|| cols.iter().find(|c| c.path.first() == Some(&key)))
        .map(|c| c.name)
}

/// Parses a yes/no cell.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "true" | "1" | "có" | "x" => Some(true),
        "no" | "false" | "0" | "không" => Some(false),
        _ => None,
    }
}
