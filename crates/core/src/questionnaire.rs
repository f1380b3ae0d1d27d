//! Questionnaire definitions: the data model of a versioned SIPAS form as stored in `schemas/`.
//!
//! The JSON format is documented in `schemas/README.md` and described formally by
//! `schemas/questionnaire.schema.json`. These types are the single Rust view of that format;
//! use [`crate::form_loader::load_form`] to parse *and* check a definition.
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Text in Vietnamese (primary, required) and English (secondary, optional).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Vietnamese text (primary; shown by default).
    pub vi: String,
    /// English text (secondary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Label {
    /// The text in the requested language (`"vi"` or `"en"`), falling back to Vietnamese.
    pub fn text(&self, lang: &str) -> &str {
        match (lang, &self.en) {
            ("en", Some(en)) => en,
            _ => &self.vi,
        }
    }
}

/// A whole questionnaire: one form at one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    /// Version of the definition *format* (not of the form); currently always 1.
    pub format: u32,
    /// Stable form identifier, e.g. `sipas-6-groups`.
    pub form_id: String,
    /// Form version, e.g. `2026.1`; a response always names the version it was collected with.
    pub version: String,
    /// Title of the form.
    pub title: Label,
    /// Optional description / introduction read to the respondent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Label>,
    /// Legal or methodological basis (e.g. "QĐ 1001/QĐ-BNV").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// Named answer scales referenced by `rating` items (e.g. `sat5`).
    #[serde(default)]
    pub scales: BTreeMap<String, Scale>,
    /// Groups of items, in the order they are shown (each group is one step in the app).
    pub groups: Vec<Group>,
}

/// A rating scale such as the SIPAS five-level satisfaction scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// The scale points in ascending order, e.g. 1 "Rất không hài lòng" … 5 "Rất hài lòng".
    pub points: Vec<ScalePoint>,
    /// Smallest point value counted as "satisfied" by the index engine (SIPAS: 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied_from: Option<i64>,
    /// Optional explicit "no answer" code (e.g. 9 "Không trả lời"); excluded from valid N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_answer: Option<ScalePoint>,
}

/// One point of a [`Scale`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalePoint {
    /// The stored value.
    pub value: i64,
    /// The label shown.
    pub label: Label,
}

/// What a group holds; drives how the app presents it and whether it feeds the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Respondent profile (sex, age, education …).
    Profile,
    /// Screening questions about the transaction (procedure, agency, channel …).
    Screening,
    /// Assessment / fact questions (not satisfaction).
    Assessment,
    /// Satisfaction criteria on a rating scale; feeds the SIPAS index.
    Criteria,
    /// Needs and expectations.
    Expectations,
    /// Open comment.
    Comment,
}

/// One group (step) of the questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Stable code, unique within the form, e.g. `G1`.
    pub code: String,
    /// What the group holds.
    pub kind: GroupKind,
    /// Title shown as the step heading.
    pub title: Label,
    /// For criteria groups: the SIPAS element it measures (e.g. `access`, `procedure`,
    /// `civil_servant`, `result`, `feedback`, `overall`, `policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    /// For criteria groups: whether it counts in the overall index (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_overall_index: Option<bool>,
    /// Show this group only when the condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Condition>,
    /// The items of the group, in display order.
    pub items: Vec<Item>,
}

/// The answer type of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    /// Exactly one option code (string).
    SingleChoice,
    /// A list of distinct option codes.
    MultiChoice,
    /// A whole number, optionally bounded by `min`/`max`.
    Integer,
    /// Free text, optionally bounded by `max_length` characters.
    Text,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// A point of the named `scale` (an integer), or the scale's no-answer code.
    Rating,
    /// A value computed from `calculation` in display order; never shown as a question.
    /// Stored under its code: an integer when the result is a whole number, else text.
    Calculate,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable code, unique within the form, e.g. `C1_1`. Answers are keyed by it forever.
    pub code: String,
    /// Answer type.
    #[serde(rename = "type")]
    pub item_type: ItemType,
    /// Question text.
    pub label: Label,
    /// Optional hint shown under the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<Label>,
    /// Whether an answer is required when the item is relevant (default false).
    #[serde(default)]
    pub required: bool,
    /// Options for `single_choice` / `multi_choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// Scale name for `rating` items (key of [`Questionnaire::scales`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
    /// Inclusive lower bound for `integer` items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    /// Inclusive upper bound for `integer` items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Maximum number of characters for `text` items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Custom message shown when the answer is out of range (e.g. age below 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_message: Option<Label>,
    /// Show / accept this item only when the condition holds (skip logic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevant: Option<Condition>,
    /// For rating items in criteria groups: whether it is a SIPAS index criterion (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<bool>,
    /// Expression that must be true for an answer to be valid (checked when the item is
    /// relevant and answered; `.` is the item's own value). See [`crate::expr`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// Message shown when `constraint` fails (also for min/max when `range_message` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_message: Option<Label>,
    /// For `calculate` items: the expression computing the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calculation: Option<String>,
    /// Free renderer hint (`minimal`, `readonly`, `multiline`, `likert` …); unknown values ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appearance: Option<String>,
    /// For choice items: an option is offered when this expression is true, with the option's
    /// `attrs` in scope as bare names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice_filter: Option<String>,
    /// For `single_choice` items: the options come from a server catalogue instead of `options`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices_from: Option<ChoicesFrom>,
    /// Value taken from the assignment when a draft starts from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
}

/// A server catalogue that supplies the options of a `choices_from` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoicesFrom {
    /// Agencies (attrs `unit`, `kind`).
    Agencies,
    /// Administrative procedures (attrs `field`).
    Procedures,
    /// Fields of procedures (no attrs).
    Fields,
    /// Administrative units (attrs `parent`, `level`).
    Units,
}

impl ChoicesFrom {
    /// The JSON name (`agencies`, `procedures`, `fields`, `units`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChoicesFrom::Agencies => "agencies",
            ChoicesFrom::Procedures => "procedures",
            ChoicesFrom::Fields => "fields",
            ChoicesFrom::Units => "units",
        }
    }
}

/// Where a prefilled item takes its value from the assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrefillFrom {
    /// `procedure_code` (choice items) or the procedure's name (text items).
    Procedure,
    /// `agency_code` or the agency's name.
    Agency,
    /// `field_code` or the field's name.
    Field,
    /// `unit_code` or the unit's name.
    Unit,
}

/// Prefill of an item from the assignment a draft starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prefill {
    /// What part of the assignment supplies the value.
    pub from: PrefillFrom,
    /// `false`: shown read-only in the app (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub editable: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// One option of a choice item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// Stored code (stable).
    pub value: String,
    /// Label shown.
    pub label: Label,
    /// Whether choosing it asks for free text in the item `<code>_other` (e.g. "Khác (ghi rõ)").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub other: bool,
    /// For multi-choice: choosing it excludes every other option (e.g. "Không có").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
    /// String attributes (extra columns of the XLSForm `choices` sheet) used by `choice_filter`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

/// A relevance (skip-logic) condition. Exactly one form per JSON object:
///
/// * `{"item": "S6", "equals": "yes"}` — answer equals a value (string code or integer);
/// * `{"item": "S2", "in": ["a", "b"]}` — answer is one of the values (for multi-choice:
///   any chosen code is in the list);
/// * `{"item": "A2", "answered": true}` — item has (or has not) an answer;
/// * `{"all": [..]}`, `{"any": [..]}`, `{"not": {..}}` — combinations;
/// * `"${A1} = 'yes' and ${A2} > 3"` — a JSON string is an expression ([`crate::expr`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Condition {
    /// Answer of `item` equals `equals`.
    Equals {
        /// Item code.
        item: String,
        /// Expected value.
        equals: serde_json::Value,
    },
    /// Answer of `item` is among `in`.
    In {
        /// Item code.
        item: String,
        /// Accepted values.
        #[serde(rename = "in")]
        values: Vec<serde_json::Value>,
    },
    /// `item` is answered (or not).
    Answered {
        /// Item code.
        item: String,
        /// `true`: must be answered; `false`: must be blank.
        answered: bool,
    },
    /// All sub-conditions hold.
    All {
        /// Sub-conditions.
        all: Vec<Condition>,
    },
    /// At least one sub-condition holds.
    Any {
        /// Sub-conditions.
        any: Vec<Condition>,
    },
    /// The sub-condition does not hold.
    Not {
        /// Sub-condition.
        not: Box<Condition>,
    },
    /// An expression of the form language, true when the item / group applies.
    Expr(String),
}

impl Questionnaire {
    /// Every item of the form in display order, with the group it belongs to.
    pub fn items(&self) -> impl Iterator<Item = (&Group, &Item)> {
        self.groups
            .iter()
            .flat_map(|g| g.items.iter().map(move |i| (g, i)))
    }

    /// The item with this code, if any.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items().map(|(_, i)| i).find(|i| i.code == code)
    }

    /// The group with this code, if any.
    pub fn group(&self, code: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// The `(form_id, version)` key naming this definition.
    pub fn key(&self) -> FormKey {
        FormKey {
            form_id: self.form_id.clone(),
            version: self.version.clone(),
        }
    }
}

impl Item {
    /// Whether this item is a SIPAS index criterion: a rating item in a criteria group
    /// whose `criterion` flag is not `false`.
    pub fn is_criterion(&self, group: &Group) -> bool {
        group.kind == GroupKind::Criteria
            && self.item_type == ItemType::Rating
            && self.criterion.unwrap_or(true)
    }
}

/// Identifies one version of one form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FormKey {
    /// Form identifier.
    pub form_id: String,
    /// Form version.
    pub version: String,
}

impl std::fmt::Display for FormKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.form_id, self.version)
    }
}
