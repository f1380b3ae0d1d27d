//! Loading and checking questionnaire definitions.
//!
//! [`load_form`] parses a definition and then checks it as a whole, reporting *every* mistake
//! with the JSON path of the offending value (e.g. `$.groups[2].items[0].scale`), so a form
//! author can fix a file in one pass.
use crate::expr::parse as parse_expr;
use crate::questionnaire::{
    ChoiceOption, ChoicesFrom, Condition, Group, GroupKind, Item, ItemType, Label, Questionnaire,
    Scale,
};
use crate::text::nfc;
use serde_path_to_error::Segment;
use std::collections::HashMap;
use std::fmt;

/// One mistake in a questionnaire definition, located by its JSON path (e.g. `$.groups[2].items[0].scale`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormIssue {
    /// JSON path of the offending value.
    pub path: String,
    /// What is wrong and how to fix it (English).
    pub message: String,
    /// The same in Vietnamese, where translated (every expression-related issue is).
    pub message_vi: Option<String>,
    /// Code of the item the issue is about (when the path is inside an item).
    pub item: Option<String>,
    /// Code of the group the issue is about (when the path is inside a group).
    pub group: Option<String>,
    /// The item / group field at fault, e.g. `constraint`, `relevant`, `options`.
    pub field: Option<String>,
}

impl FormIssue {
    /// The message in the requested language (`"vi"` falls back to English when untranslated).
    pub fn text(&self, lang: &str) -> &str {
        match (lang, &self.message_vi) {
            ("vi", Some(vi)) => vi,
            _ => &self.message,
        }
    }
}

impl fmt::Display for FormIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// All mistakes found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("questionnaire definition is invalid: {}", .0.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; "))]
pub struct FormErrors(pub Vec<FormIssue>);

impl FormErrors {
    /// The individual mistakes, in document order.
    pub fn issues(&self) -> &[FormIssue] {
        &self.0
    }
}

/// Parses and checks a questionnaire definition.
///
/// A definition that is not well-formed JSON yields a single issue at path `$` with the line
/// and column; a value of the wrong shape yields a single issue at its exact path; a definition
/// that parses is then checked semantically and every mistake found is reported.
pub fn load_form(json: &str) -> Result<Questionnaire, FormErrors> {
    let form = parse(json).map_err(|issue| FormErrors(vec![*issue]))?;
    let issues = check(&form);
    if issues.is_empty() {
        Ok(form)
    } else {
        Err(FormErrors(issues))
    }
}

/// Step (a): deserialisation with path tracking.
fn parse(json: &str) -> Result<Questionnaire, Box<FormIssue>> {
    let mut de = serde_json::Deserializer::from_str(json);
    let result = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = render_path(e.path());
        let inner = e.into_inner();
        Box::new(parse_issue(path, &inner))
    });
    let form = result?;
    de.end()
        .map_err(|e| Box::new(parse_issue("$".into(), &e)))?;
    Ok(form)
}

fn parse_issue(path: String, e: &serde_json::Error) -> FormIssue {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => FormIssue {
            message: if path == "$" {
                format!("malformed JSON: {e}")
            } else {
                format!("malformed JSON: {e} (while reading {path})")
            },
            path: "$".into(),
            ..Default::default()
        },
        Category::Data => {
            let mut message = e.to_string();
            if message.starts_with("data did not match any variant of untagged enum Condition") {
                message.push_str(
                    "; a condition must be exactly one of {\"item\", \"equals\"}, \
                     {\"item\", \"in\"}, {\"item\", \"answered\"}, {\"all\"}, {\"any\"} or {\"not\"}",
                );
            }
            FormIssue {
                path,
                message,
                ..Default::default()
            }
        }
    }
}

/// Renders a serde path as `$.groups[2].items[0].type`.
fn render_path(path: &serde_path_to_error::Path) -> String {
    let mut out = String::from("$");
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => out.push_str(&key_path(key)),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// The path segment for an object key: `.key`, or `["key"]` when it is not identifier-like.
fn key_path(key: &str) -> String {
    let simple = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        format!(".{key}")
    } else {
        format!("[{}]", serde_json::Value::String(key.to_owned()))
    }
}

/// Whether `s` matches `^[A-Za-z][A-Za-z0-9_-]*$` (form ids, group / item codes, scale names).
fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `s` is a valid option code: like [`is_code`] but may also start with a digit
/// (paper SIPAS forms number their boxes `1`, `2`, …).
fn is_option_code(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

const CODE_RULE: &str = "it must start with an ASCII letter and contain only ASCII letters, \
                         digits, '_' and '-' (pattern ^[A-Za-z][A-Za-z0-9_-]*$)";

/// Display-order position of an item plus what conditions need to know about it.
struct ItemInfo<'a> {
    pos: usize,
    path: String,
    item: &'a Item,
}

/// Step (b): semantic checks, collecting every mistake.
struct Checker<'a> {
    form: &'a Questionnaire,
    items: HashMap<&'a str, ItemInfo<'a>>,
    issues: Vec<FormIssue>,
}

fn check(form: &Questionnaire) -> Vec<FormIssue> {
    let mut items = HashMap::new();
    for (pos, (gi, ii, item)) in form
        .groups
        .iter()
        .enumerate()
        .flat_map(|(gi, g)| g.items.iter().enumerate().map(move |(ii, i)| (gi, ii, i)))
        .enumerate()
    {
        items.entry(item.code.as_str()).or_insert(ItemInfo {
            pos,
            path: format!("$.groups[{gi}].items[{ii}]"),
            item,
        });
    }
    let mut checker = Checker {
        form,
        items,
        issues: Vec::new(),
    };
    checker.run();
    let mut issues = checker.issues;
    for issue in &mut issues {
        locate(form, issue);
    }
    issues
}

/// Fills `group`, `item` and `field` of an issue from its path
/// (`$.groups[G].items[I].field…` or `$.groups[G].field…`).
fn locate(form: &Questionnaire, issue: &mut FormIssue) {
    let index = |s: &str| -> Option<(usize, String)> {
        let end = s.find(']')?;
        Some((s[..end].parse().ok()?, s[end + 1..].to_owned()))
    };
    let Some(rest) = issue.path.strip_prefix("$.groups[") else {
        return;
    };
    let Some((gi, rest)) = index(rest) else {
        return;
    };
    let Some(group) = form.groups.get(gi) else {
        return;
    };
    issue.group = Some(group.code.clone());
    let field_of = |r: &str| {
        r.strip_prefix('.')
            .map(|f| f.split(['.', '[']).next().unwrap_or_default().to_owned())
    };
    if let Some(r) = rest.strip_prefix(".items[") {
        if let Some((ii, r)) = index(r)
            && let Some(item) = group.items.get(ii)
        {
            issue.item = Some(item.code.clone());
            issue.field = field_of(&r);
        }
    } else {
        issue.field = field_of(&rest);
    }
}

impl<'a> Checker<'a> {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.issues.push(FormIssue {
            path: path.into(),
            message: message.into(),
            ..Default::default()
        });
    }

    /// An issue in both languages.
    fn push2(&mut self, path: impl Into<String>, en: String, vi: String) {
        self.issues.push(FormIssue {
            path: path.into(),
            message: en,
            message_vi: Some(vi),
            ..Default::default()
        });
    }

    fn run(&mut self) {
        let form = self.form;
        if form.format != 1 {
            self.push(
                "$.format",
                format!(
                    "unsupported format {}; this version of SIPAS Field reads format 1 only",
                    form.format
                ),
            );
        }
        if !is_code(&form.form_id) {
            self.push(
                "$.form_id",
                format!(
                    "form_id {:?} is not a valid identifier: {CODE_RULE}",
                    form.form_id
                ),
            );
        }
        if form.version.trim().is_empty() {
            self.push(
                "$.version",
                "version is empty; give the form version, e.g. \"2026.1\"",
            );
        }
        self.label("$.title", &form.title);
        if let Some(d) = &form.description {
            self.label("$.description", d);
        }
        if let Some(b) = &form.basis {
            self.nfc_text("$.basis", b);
        }
        for (name, scale) in &form.scales {
            self.scale(&format!("$.scales{}", key_path(name)), name, scale);
        }
        if form.groups.is_empty() {
            self.push("$.groups", "the form has no groups; add at least one group");
        }

        let mut group_codes: HashMap<&str, usize> = HashMap::new();
        let mut item_codes: HashMap<&str, String> = HashMap::new();
        let mut pos = 0;
        for (gi, group) in form.groups.iter().enumerate() {
            let gpath = format!("$.groups[{gi}]");
            if !is_code(&group.code) {
                self.push(
                    format!("{gpath}.code"),
                    format!("group code {:?} is not valid: {CODE_RULE}", group.code),
                );
            }
            if let Some(first) = group_codes.get(group.code.as_str()) {
                self.push(
                    format!("{gpath}.code"),
                    format!(
                        "group code {:?} is already used by $.groups[{first}]; group codes must be unique",
                        group.code
                    ),
                );
            } else {
                group_codes.insert(&group.code, gi);
            }
            self.group(&gpath, group, pos);
            for (ii, item) in group.items.iter().enumerate() {
                let ipath = format!("{gpath}.items[{ii}]");
                if let Some(first) = item_codes.get(item.code.as_str()) {
                    self.push(
                        format!("{ipath}.code"),
                        format!(
                            "item code {:?} is already used by {first}; item codes must be unique across the whole form",
                            item.code
                        ),
                    );
                } else {
                    item_codes.insert(&item.code, ipath.clone());
                }
                self.item(&ipath, group, item, pos);
                pos += 1;
            }
        }
    }

    fn label(&mut self, path: &str, label: &Label) {
        if label.vi.trim().is_empty() {
            self.push(
                format!("{path}.vi"),
                "the Vietnamese text (\"vi\") is empty; every label needs Vietnamese text",
            );
        } else {
            self.nfc_text(&format!("{path}.vi"), &label.vi);
        }
        if let Some(en) = &label.en {
            if en.trim().is_empty() {
                self.push(
                    format!("{path}.en"),
                    "the English text (\"en\") is empty; fill it in or remove the \"en\" key",
                );
            } else {
                self.nfc_text(&format!("{path}.en"), en);
            }
        }
    }

    fn nfc_text(&mut self, path: &str, text: &str) {
        if nfc(text) != text {
            self.push(
                path,
                format!(
                    "text {:?} is not NFC-normalised (it contains decomposed characters, e.g. a \
                     vowel followed by combining accents); save the file as Unicode NFC \
                     (precomposed characters)",
                    text
                ),
            );
        }
    }

    fn scale(&mut self, path: &str, name: &str, scale: &Scale) {
        if !is_code(name) {
            self.push(
                path,
                format!("scale name {name:?} is not valid: {CODE_RULE}"),
            );
        }
        if scale.points.len() < 2 {
            self.push(
                format!("{path}.points"),
                format!(
                    "scale {name:?} has {} point(s); a scale needs at least 2",
                    scale.points.len()
                ),
            );
        }
        for (pi, point) in scale.points.iter().enumerate() {
            let ppath = format!("{path}.points[{pi}]");
            if pi > 0 && point.value <= scale.points[pi - 1].value {
                self.push(
                    format!("{ppath}.value"),
                    format!(
                        "scale {name:?}: point value {} does not come after {}; point values must be strictly ascending",
                        point.value,
                        scale.points[pi - 1].value
                    ),
                );
            }
            self.label(&format!("{ppath}.label"), &point.label);
        }
        let values: Vec<String> = scale.points.iter().map(|p| p.value.to_string()).collect();
        if let Some(from) = scale
            .satisfied_from
            .filter(|f| !scale.points.iter().any(|p| p.value == *f))
        {
            self.push(
                format!("{path}.satisfied_from"),
                format!(
                    "scale {name:?}: satisfied_from {from} is not one of the point values ({})",
                    values.join(", ")
                ),
            );
        }
        if let Some(na) = &scale.no_answer {
            if scale.points.iter().any(|p| p.value == na.value) {
                self.push(
                    format!("{path}.no_answer.value"),
                    format!(
                        "scale {name:?}: the no-answer value {} is also a scale point; give it a value outside the points ({}), e.g. 9",
                        na.value,
                        values.join(", ")
                    ),
                );
            }
            self.label(&format!("{path}.no_answer.label"), &na.label);
        }
    }

    /// `first_pos`: display position of the group's first item.
    fn group(&mut self, gpath: &str, group: &Group, first_pos: usize) {
        self.label(&format!("{gpath}.title"), &group.title);
        let criteria = group.kind == GroupKind::Criteria;
        if !criteria {
            if group.element.is_some() {
                self.push(
                    format!("{gpath}.element"),
                    format!(
                        "group {:?} is not a criteria group; \"element\" is only allowed on groups of kind \"criteria\"",
                        group.code
                    ),
                );
            }
            if group.in_overall_index.is_some() {
                self.push(
                    format!("{gpath}.in_overall_index"),
                    format!(
                        "group {:?} is not a criteria group; \"in_overall_index\" is only allowed on groups of kind \"criteria\"",
                        group.code
                    ),
                );
            }
        } else if !group.items.iter().any(|i| i.item_type == ItemType::Rating) {
            self.push(
                format!("{gpath}.items"),
                format!(
                    "criteria group {:?} has no rating item; add at least one item of type \"rating\" or change the group kind",
                    group.code
                ),
            );
        }
        if group.items.is_empty() {
            self.push(
                format!("{gpath}.items"),
                format!("group {:?} has no items; add at least one", group.code),
            );
        }
        if let Some(cond) = &group.relevant {
            let owner = format!("group {:?}", group.code);
            self.condition(&format!("{gpath}.relevant"), cond, &owner, first_pos, true);
        }
    }

    fn item(&mut self, ipath: &str, group: &Group, item: &Item, pos: usize) {
        let code = &item.code;
        if !is_code(code) {
            self.push(
                format!("{ipath}.code"),
                format!("item code {code:?} is not valid: {CODE_RULE}"),
            );
        }
        self.label(&format!("{ipath}.label"), &item.label);
        if let Some(h) = &item.hint {
            self.label(&format!("{ipath}.hint"), h);
        }
        if let Some(m) = &item.range_message {
            self.label(&format!("{ipath}.range_message"), m);
        }
        let t = item.item_type;
        let choice = matches!(t, ItemType::SingleChoice | ItemType::MultiChoice);
        if choice {
            self.options(ipath, item);
        } else if !item.options.is_empty() {
            self.push(
                format!("{ipath}.options"),
                format!(
                    "item {code:?} is of type {} and cannot have options; remove \"options\" or make it single_choice / multi_choice",
                    type_name(t)
                ),
            );
        }

        match (&item.scale, t) {
            (None, ItemType::Rating) => self.push(
                format!("{ipath}.scale"),
                format!(
                    "rating item {code:?} names no scale; add \"scale\" with one of: {}",
                    self.scale_names()
                ),
            ),
            (Some(s), ItemType::Rating) if !self.form.scales.contains_key(s) => self.push(
                format!("{ipath}.scale"),
                format!(
                    "item {code:?} names scale {s:?} which is not defined in $.scales (defined: {})",
                    self.scale_names()
                ),
            ),
            (Some(_), _) if t != ItemType::Rating => self.push(
                format!("{ipath}.scale"),
                format!(
                    "item {code:?} is of type {}; \"scale\" is only allowed on rating items",
                    type_name(t)
                ),
            ),
            _ => {}
        }

        if t == ItemType::Integer {
            match (item.min, item.max) {
                (Some(min), Some(max)) if min > max => self.push(
                    format!("{ipath}.min"),
                    format!("item {code:?}: min {min} is greater than max {max}"),
                ),
                _ => {}
            }
        } else {
            for (key, set) in [
                ("min", item.min.is_some()),
                ("max", item.max.is_some()),
                ("range_message", item.range_message.is_some()),
            ] {
                if set {
                    self.push(
                        format!("{ipath}.{key}"),
                        format!(
                            "item {code:?} is of type {}; \"{key}\" is only allowed on integer items",
                            type_name(t)
                        ),
                    );
                }
            }
        }
        match (item.max_length, t) {
            (Some(0), ItemType::Text) => self.push(
                format!("{ipath}.max_length"),
                format!("item {code:?}: max_length must be greater than 0"),
            ),
            (Some(_), ItemType::Text) | (None, _) => {}
            (Some(_), _) => self.push(
                format!("{ipath}.max_length"),
                format!(
                    "item {code:?} is of type {}; \"max_length\" is only allowed on text items",
                    type_name(t)
                ),
            ),
        }
        if item.criterion.is_some() && !(t == ItemType::Rating && group.kind == GroupKind::Criteria)
        {
            self.push(
                format!("{ipath}.criterion"),
                format!(
                    "item {code:?}: \"criterion\" is only allowed on rating items in criteria groups"
                ),
            );
        }
        if let Some(cond) = &item.relevant {
            let owner = format!("item {code:?}");
            self.condition(&format!("{ipath}.relevant"), cond, &owner, pos, false);
        }
        self.item_expressions(ipath, item, pos);
    }

    fn options(&mut self, ipath: &str, item: &Item) {
        let code = &item.code;
        if item.options.is_empty() && item.choices_from.is_none() {
            self.push(
                format!("{ipath}.options"),
                format!("choice item {code:?} has no options; add at least one to \"options\""),
            );
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut other_seen = false;
        for (oi, opt) in item.options.iter().enumerate() {
            let opath = format!("{ipath}.options[{oi}]");
            if !is_option_code(&opt.value) {
                self.push(
                    format!("{opath}.value"),
                    format!(
                        "option value {:?} of item {code:?} is not valid: it must start with an \
                         ASCII letter or digit and contain only ASCII letters, digits, '_' and '-'",
                        opt.value
                    ),
                );
            }
            if let Some(first) = seen.get(opt.value.as_str()) {
                self.push(
                    format!("{opath}.value"),
                    format!(
                        "option value {:?} of item {code:?} is already used by {ipath}.options[{first}]; option values must be unique within an item",
                        opt.value
                    ),
                );
            } else {
                seen.insert(&opt.value, oi);
            }
            self.label(&format!("{opath}.label"), &opt.label);
            if opt.exclusive && item.item_type != ItemType::MultiChoice {
                self.push(
                    format!("{opath}.exclusive"),
                    format!(
                        "item {code:?} is single_choice; \"exclusive\" only applies to multi_choice options"
                    ),
                );
            }
            if opt.other {
                if other_seen {
                    self.push(
                        format!("{opath}.other"),
                        format!(
                            "item {code:?} has more than one \"other\" option; only one option may ask for free text"
                        ),
                    );
                }
                other_seen = true;
                self.other_item(&opath, item, opt);
            }
        }
    }

    /// An `other` option needs a later text item `<code>_other` to hold the free text.
    fn other_item(&mut self, opath: &str, item: &Item, opt: &ChoiceOption) {
        let other_code = format!("{}_other", item.code);
        let own_pos = self.items.get(item.code.as_str()).map(|i| i.pos);
        let msg = match self.items.get(other_code.as_str()) {
            None => format!(
                "option {:?} of item {:?} asks for free text but there is no item {other_code:?}; add a text item {other_code:?} after {:?}",
                opt.value, item.code, item.code
            ),
            Some(info) if info.item.item_type != ItemType::Text => format!(
                "item {other_code:?} (at {}) holds the free text of option {:?} and must be of type text",
                info.path, opt.value
            ),
            Some(info) if own_pos.is_some_and(|p| info.pos < p) => format!(
                "item {other_code:?} (at {}) must come after item {:?}",
                info.path, item.code
            ),
            Some(_) => return,
        };
        self.push(format!("{opath}.other"), msg);
    }

    fn scale_names(&self) -> String {
        if self.form.scales.is_empty() {
            "none".into()
        } else {
            self.form
                .scales
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// Checks a condition owned by an item at display position `pos` (or, for a group, whose
    /// first item is at `pos`): it may only use items shown strictly before.
    fn condition(&mut self, path: &str, cond: &Condition, owner: &str, pos: usize, group: bool) {
        match cond {
            Condition::Equals { item, equals } => {
                if let Some(target) = self.reference(path, item, owner, pos, group) {
                    self.condition_value(&format!("{path}.equals"), "equals", equals, target);
                }
            }
            Condition::In { item, values } => {
                if values.is_empty() {
                    self.push(
                        format!("{path}.in"),
                        format!("{owner}: the \"in\" list is empty, so the condition never holds; list at least one value"),
                    );
                }
                if let Some(target) = self.reference(path, item, owner, pos, group) {
                    for (vi, v) in values.iter().enumerate() {
                        self.condition_value(&format!("{path}.in[{vi}]"), "in", v, target);
                    }
                }
            }
            Condition::Answered { item, .. } => {
                self.reference(path, item, owner, pos, group);
            }
            Condition::All { all: subs } | Condition::Any { any: subs } => {
                let key = if matches!(cond, Condition::All { .. }) {
                    "all"
                } else {
                    "any"
                };
                if subs.is_empty() {
                    self.push(
                        format!("{path}.{key}"),
                        format!("{owner}: \"{key}\" has no conditions; list at least one"),
                    );
                }
                for (si, sub) in subs.iter().enumerate() {
                    self.condition(&format!("{path}.{key}[{si}]"), sub, owner, pos, group);
                }
            }
            Condition::Not { not } => {
                self.condition(&format!("{path}.not"), not, owner, pos, group);
            }
            Condition::Expr(src) => {
                let rule = ExprRule {
                    owner,
                    field: "relevant",
                    pos,
                    group,
                    current: false,
                    attrs: None,
                };
                self.expression(path, src, &rule);
            }
        }
    }

    /// Checks that a condition names an item shown earlier; returns it if so.
    fn reference(
        &mut self,
        path: &str,
        code: &str,
        owner: &str,
        pos: usize,
        group: bool,
    ) -> Option<&'a Item> {
        let ipath = format!("{path}.item");
        let Some(info) = self.items.get(code) else {
            self.push(
                ipath,
                format!("{owner}: the condition refers to item {code:?}, which does not exist in this form"),
            );
            return None;
        };
        let (target, target_pos, target_path) = (info.item, info.pos, info.path.clone());
        if target_pos < pos {
            return Some(target);
        }
        let msg = if group {
            format!(
                "{owner}: the condition refers to item {code:?} (at {target_path}), which is not in an earlier group; a group's relevance may only use answers to items of earlier groups"
            )
        } else if target_pos == pos {
            format!(
                "{owner}: the condition refers to the item itself; it may only use answers to earlier items"
            )
        } else {
            format!(
                "{owner}: the condition refers to item {code:?} (at {target_path}), which comes later in the form; conditions may only use answers to earlier items"
            )
        };
        self.push(ipath, msg);
        None
    }

    fn condition_value(&mut self, path: &str, key: &str, v: &serde_json::Value, target: &Item) {
        let code = &target.code;
        let msg = match target.item_type {
            ItemType::SingleChoice | ItemType::MultiChoice => {
                let valid = v
                    .as_str()
                    .is_some_and(|s| target.options.iter().any(|o| o.value == s));
                if valid {
                    return;
                }
                let options: Vec<&str> = target.options.iter().map(|o| o.value.as_str()).collect();
                format!(
                    "\"{key}\" value {v} is not an option of item {code:?} (options: {})",
                    options.join(", ")
                )
            }
            ItemType::Integer => {
                if v.as_i64().is_some() {
                    return;
                }
                format!(
                    "\"{key}\" value {v} must be an integer because item {code:?} is an integer item"
                )
            }
            ItemType::Rating => {
                let Some(n) = v.as_i64() else {
                    self.push(
                        path,
                        format!("\"{key}\" value {v} must be an integer because item {code:?} is a rating item"),
                    );
                    return;
                };
                let Some(scale) = target.scale.as_ref().and_then(|s| self.form.scales.get(s))
                else {
                    return; // the missing scale is reported on the item itself
                };
                let in_scale = scale.points.iter().any(|p| p.value == n)
                    || scale.no_answer.as_ref().is_some_and(|p| p.value == n);
                if in_scale {
                    return;
                }
                format!(
                    "\"{key}\" value {n} is not a point of scale {:?} used by item {code:?}",
                    target.scale.as_deref().unwrap_or_default()
                )
            }
            ItemType::Calculate => {
                if v.is_string() || v.as_i64().is_some() {
                    return;
                }
                format!(
                    "\"{key}\" value {v} must be a string or an integer because item {code:?} is a calculate item"
                )
            }
            ItemType::Text | ItemType::Date => {
                if v.is_string() {
                    return;
                }
                format!(
                    "\"{key}\" value {v} must be a string because item {code:?} is a {} item",
                    type_name(target.item_type)
                )
            }
        };
        self.push(path, msg);
    }
}

/// What an expression in one place of the form may use.
struct ExprRule<'r> {
    /// `item "X"` / `group "G"` (English; the Vietnamese is derived).
    owner: &'r str,
    /// The field holding the expression (`relevant`, `constraint`, `calculation`, `choice_filter`).
    field: &'r str,
    /// Display position of the owner (a group: of its first item); references must be earlier.
    pos: usize,
    /// Whether the owner is a group (references must be in earlier groups).
    group: bool,
    /// Whether `.` is allowed (constraints).
    current: bool,
    /// Bare names allowed (option attributes in `choice_filter`); `None`: none allowed.
    attrs: Option<Vec<String>>,
}

fn owner_vi(owner: &str) -> String {
    if let Some(rest) = owner.strip_prefix("item ") {
        format!("câu {rest}")
    } else if let Some(rest) = owner.strip_prefix("group ") {
        format!("nhóm {rest}")
    } else {
        owner.to_owned()
    }
}

impl Checker<'_> {
    /// Checks one expression: syntax (including unknown functions and arity), references to
    /// items that exist and come earlier, `.` only in constraints, bare names only as option
    /// attributes in `choice_filter`.
    fn expression(&mut self, path: &str, src: &str, rule: &ExprRule<'_>) {
        let (owner, field) = (rule.owner, rule.field);
        let ovi = owner_vi(owner);
        let ast = match parse_expr(src) {
            Ok(ast) => ast,
            Err(e) => {
                self.push2(
                    path,
                    format!("{owner}: syntax error in {field} {src:?}: {}", e.en),
                    format!("{ovi}: biểu thức {field} {src:?} có lỗi cú pháp: {}", e.vi),
                );
                return;
            }
        };
        let mut seen = std::collections::HashSet::new();
        for code in ast.references() {
            if !seen.insert(code) {
                continue;
            }
            let Some(info) = self.items.get(code) else {
                self.push2(
                    path,
                    format!("{owner}: {field} refers to ${{{code}}}, which does not exist in this form"),
                    format!("{ovi}: biểu thức {field} tham chiếu ${{{code}}} nhưng phiếu không có câu hỏi này"),
                );
                continue;
            };
            if info.pos < rule.pos {
                continue;
            }
            let (en, vi) = if rule.group {
                (
                    format!(
                        "{owner}: {field} refers to ${{{code}}}, which is not in an earlier group; a group's relevance may only use answers to items of earlier groups"
                    ),
                    format!(
                        "{ovi}: biểu thức {field} tham chiếu ${{{code}}} không thuộc nhóm nào trước đó; điều kiện của nhóm chỉ được dùng câu trả lời của các nhóm trước"
                    ),
                )
            } else if info.pos == rule.pos {
                (
                    format!(
                        "{owner}: {field} refers to the item itself; use '.' for the item's own value (in a constraint) or refer to earlier items"
                    ),
                    format!(
                        "{ovi}: biểu thức {field} tham chiếu chính câu này; dùng '.' cho giá trị của câu (trong constraint) hoặc tham chiếu các câu trước"
                    ),
                )
            } else {
                (
                    format!(
                        "{owner}: {field} refers to ${{{code}}} (at {}), which comes later in the form; expressions may only use answers to earlier items",
                        info.path
                    ),
                    format!(
                        "{ovi}: biểu thức {field} tham chiếu ${{{code}}} (tại {}) nằm sau trong phiếu; chỉ được dùng câu trả lời của các câu trước",
                        info.path
                    ),
                )
            };
            self.push2(path, en, vi);
        }
        if !rule.current && ast.uses_current() {
            self.push2(
                path,
                format!("{owner}: '.' (the item's own value) can only be used in a constraint, not in {field}"),
                format!("{ovi}: '.' (giá trị của chính câu) chỉ dùng được trong constraint, không dùng trong {field}"),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for name in ast.attrs() {
            if !seen.insert(name) {
                continue;
            }
            match &rule.attrs {
                None => self.push2(
                    path,
                    format!("{owner}: bare name {name:?} in {field}; refer to answers as ${{CODE}} (bare names are option attributes, allowed only in choice_filter)"),
                    format!("{ovi}: tên {name:?} trong {field} không hợp lệ; tham chiếu câu trả lời bằng ${{MÃ}} (tên trần là thuộc tính lựa chọn, chỉ dùng trong choice_filter)"),
                ),
                Some(known) if !known.iter().any(|k| k == name) => {
                    let list = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                    let list_vi = if known.is_empty() { "không có".to_owned() } else { known.join(", ") };
                    self.push2(
                        path,
                        format!("{owner}: choice_filter uses attribute {name:?}, which no option has (attributes: {list})"),
                        format!("{ovi}: choice_filter dùng thuộc tính {name:?} mà không lựa chọn nào có (các thuộc tính: {list_vi})"),
                    );
                }
                Some(_) => {}
            }
        }
    }

    /// Checks the expression-language fields of an item and `choices_from` / `prefill`.
    fn item_expressions(&mut self, ipath: &str, item: &Item, pos: usize) {
        let code = &item.code;
        let owner = format!("item {code:?}");
        let ovi = owner_vi(&owner);
        let t = item.item_type;
        let choice = matches!(t, ItemType::SingleChoice | ItemType::MultiChoice);
        let rule = |field: &'static str| ExprRule {
            owner: "",
            field,
            pos,
            group: false,
            current: field == "constraint",
            attrs: None,
        };
        if let Some(src) = &item.constraint {
            if t == ItemType::Calculate {
                self.push2(
                    format!("{ipath}.constraint"),
                    format!(
                        "{owner} is a calculate item; \"constraint\" is only allowed on questions"
                    ),
                    format!(
                        "{ovi} là câu tính toán (calculate); \"constraint\" chỉ dùng cho câu hỏi"
                    ),
                );
            } else {
                let r = ExprRule {
                    owner: &owner,
                    ..rule("constraint")
                };
                self.expression(&format!("{ipath}.constraint"), src, &r);
            }
        }
        if let Some(m) = &item.constraint_message {
            self.label(&format!("{ipath}.constraint_message"), m);
        }
        match (&item.calculation, t) {
            (Some(src), ItemType::Calculate) => {
                let r = ExprRule { owner: &owner, ..rule("calculation") };
                self.expression(&format!("{ipath}.calculation"), src, &r);
            }
            (None, ItemType::Calculate) => self.push2(
                format!("{ipath}.calculation"),
                format!("calculate item {code:?} has no \"calculation\"; add the expression computing its value"),
                format!("câu tính toán {code:?} thiếu \"calculation\"; hãy thêm biểu thức tính giá trị"),
            ),
            (Some(_), _) => self.push2(
                format!("{ipath}.calculation"),
                format!("{owner} is of type {}; \"calculation\" is only allowed on calculate items", type_name(t)),
                format!("{ovi} có kiểu {}; \"calculation\" chỉ dùng cho câu kiểu calculate", type_name(t)),
            ),
            (None, _) => {}
        }
        if t == ItemType::Calculate && item.required {
            self.push2(
                format!("{ipath}.required"),
                format!("calculate item {code:?} cannot be required; remove \"required\""),
                format!("câu tính toán {code:?} không thể bắt buộc; hãy bỏ \"required\""),
            );
        }
        if let Some(kind) = item.choices_from {
            if t != ItemType::SingleChoice {
                self.push2(
                    format!("{ipath}.choices_from"),
                    format!("{owner} is of type {}; \"choices_from\" is only allowed on single_choice items", type_name(t)),
                    format!("{ovi} có kiểu {}; \"choices_from\" chỉ dùng cho câu single_choice", type_name(t)),
                );
            } else if !item.options.is_empty() {
                self.push2(
                    format!("{ipath}.options"),
                    format!("{owner} takes its options from the {} catalogue (choices_from); remove \"options\"", kind.as_str()),
                    format!("{ovi} lấy lựa chọn từ danh mục {} (choices_from); hãy bỏ \"options\"", kind.as_str()),
                );
            }
        }
        if let Some(src) = &item.choice_filter {
            if !choice {
                self.push2(
                    format!("{ipath}.choice_filter"),
                    format!(
                        "{owner} is of type {}; \"choice_filter\" is only allowed on choice items",
                        type_name(t)
                    ),
                    format!(
                        "{ovi} có kiểu {}; \"choice_filter\" chỉ dùng cho câu có lựa chọn",
                        type_name(t)
                    ),
                );
            } else {
                let known: Vec<String> = match item.choices_from {
                    Some(kind) => catalogue_attrs(kind)
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    None => {
                        let mut k: Vec<String> = item
                            .options
                            .iter()
                            .flat_map(|o| o.attrs.keys().cloned())
                            .collect();
                        k.sort();
                        k.dedup();
                        k
                    }
                };
                let r = ExprRule {
                    owner: &owner,
                    attrs: Some(known),
                    ..rule("choice_filter")
                };
                self.expression(&format!("{ipath}.choice_filter"), src, &r);
            }
        }
        if item.prefill.is_some() && !matches!(t, ItemType::SingleChoice | ItemType::Text) {
            self.push2(
                format!("{ipath}.prefill"),
                format!("{owner} is of type {}; \"prefill\" is only allowed on single_choice (code) and text (name) items", type_name(t)),
                format!("{ovi} có kiểu {}; \"prefill\" chỉ dùng cho câu single_choice (mã) và text (tên)", type_name(t)),
            );
        }
        for (oi, opt) in item.options.iter().enumerate() {
            for name in opt.attrs.keys() {
                if !is_attr_name(name) {
                    self.push2(
                        format!("{ipath}.options[{oi}].attrs"),
                        format!("attribute name {name:?} of option {:?} is not valid: it must start with an ASCII letter or '_' and contain only ASCII letters, digits and '_'", opt.value),
                        format!("tên thuộc tính {name:?} của lựa chọn {:?} không hợp lệ: phải bắt đầu bằng chữ cái ASCII hoặc '_' và chỉ gồm chữ cái ASCII, chữ số và '_'", opt.value),
                    );
                }
            }
        }
    }
}

/// Attribute names of catalogue options (section 1 of the forms contract).
fn catalogue_attrs(kind: ChoicesFrom) -> &'static [&'static str] {
    match kind {
        ChoicesFrom::Agencies => &["kind", "unit"],
        ChoicesFrom::Procedures => &["field"],
        ChoicesFrom::Fields => &[],
        ChoicesFrom::Units => &["level", "parent"],
    }
}

/// Whether an option attribute can be used as a bare name (`^[A-Za-z_][A-Za-z0-9_]*$`) and is
/// not an operator word.
fn is_attr_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(s, "and" | "or" | "div" | "mod")
}

fn type_name(t: ItemType) -> &'static str {
    match t {
        ItemType::SingleChoice => "single_choice",
        ItemType::MultiChoice => "multi_choice",
        ItemType::Integer => "integer",
        ItemType::Text => "text",
        ItemType::Date => "date",
        ItemType::Rating => "rating",
        ItemType::Calculate => "calculate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A small valid form: profile (sex, age), screening with skip logic, criteria group.
    fn base() -> Value {
        json!({
            "format": 1,
            "form_id": "test-form",
            "version": "2026.1",
            "title": {"vi": "Phiếu khảo sát", "en": "Survey"},
            "scales": {
                "sat5": {
                    "points": [
                        {"value": 1, "label": {"vi": "Rất không hài lòng"}},
                        {"value": 2, "label": {"vi": "Không hài lòng"}},
                        {"value": 3, "label": {"vi": "Bình thường"}},
                        {"value": 4, "label": {"vi": "Hài lòng"}},
                        {"value": 5, "label": {"vi": "Rất hài lòng"}}
                    ],
                    "satisfied_from": 4,
                    "no_answer": {"value": 9, "label": {"vi": "Không trả lời"}}
                }
            },
            "groups": [
                {"code": "P", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                    {"code": "P1", "type": "single_choice", "label": {"vi": "Giới tính"},
                     "required": true, "options": [
                        {"value": "male", "label": {"vi": "Nam"}},
                        {"value": "female", "label": {"vi": "Nữ"}}]},
                    {"code": "P2", "type": "integer", "label": {"vi": "Tuổi"}, "min": 18, "max": 120}
                ]},
                {"code": "S", "kind": "screening", "title": {"vi": "Giao dịch"}, "items": [
                    {"code": "S1", "type": "multi_choice", "label": {"vi": "Kênh"}, "options": [
                        {"value": "direct", "label": {"vi": "Trực tiếp"}},
                        {"value": "online", "label": {"vi": "Trực tuyến"}},
                        {"value": "x", "label": {"vi": "Khác (ghi rõ)"}, "other": true}]},
                    {"code": "S1_other", "type": "text", "label": {"vi": "Ghi rõ"}, "max_length": 50,
                     "relevant": {"item": "S1", "in": ["x"]}}
                ]},
                {"code": "C1", "kind": "criteria", "title": {"vi": "Tiếp cận"}, "element": "access",
                 "relevant": {"item": "P2", "answered": true}, "items": [
                    {"code": "C1_1", "type": "rating", "scale": "sat5", "label": {"vi": "Nơi ngồi chờ"},
                     "relevant": {"all": [{"item": "P1", "equals": "female"},
                                          {"not": {"item": "S1", "in": ["online"]}}]}},
                    {"code": "C1_2", "type": "rating", "scale": "sat5", "criterion": false,
                     "label": {"vi": "Trang thiết bị"}, "relevant": {"item": "C1_1", "equals": 9}}
                ]}
            ]
        })
    }

    fn load(v: &Value) -> Result<Questionnaire, FormErrors> {
        load_form(&serde_json::to_string_pretty(v).unwrap())
    }

    fn paths(e: &FormErrors) -> Vec<&str> {
        e.issues().iter().map(|i| i.path.as_str()).collect()
    }

    #[test]
    fn valid_form_loads() {
        let form = load(&base()).unwrap();
        assert_eq!(form.form_id, "test-form");
        assert_eq!(form.items().count(), 6);
    }

    #[test]
    fn malformed_json_reports_root_with_line() {
        let text = "{\n  \"format\": 1,\n  \"form_id\": \"x\",,\n}";
        let e = load_form(text).unwrap_err();
        assert_eq!(paths(&e), ["$"]);
        assert!(e.0[0].message.contains("line 3"), "{}", e.0[0].message);
        let e = load_form("{\"format\": 1} trailing").unwrap_err();
        assert_eq!(paths(&e), ["$"]);
        assert!(e.0[0].message.contains("line 1"));
    }

    #[test]
    fn wrong_type_deep_inside_reports_exact_path() {
        let mut v = base();
        v["groups"][2]["items"][0]["type"] = json!("ratting");
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[2].items[0].type"]);
        assert!(
            e.0[0].message.contains("unknown variant"),
            "{}",
            e.0[0].message
        );
        assert!(e.0[0].message.contains("line "), "{}", e.0[0].message);

        let mut v = base();
        v["groups"][1]["items"][0]["options"][1]["label"]["vi"] = json!(5);
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[1].items[0].options[1].label.vi"]);

        let mut v = base();
        v["scales"]["sat5"]["satisfied_from"] = json!("4");
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.scales.sat5.satisfied_from"]);
    }

    #[test]
    fn bad_condition_shape_is_explained() {
        let mut v = base();
        v["groups"][1]["items"][1]["relevant"] = json!({"item": "S1", "is": "x"});
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[1].items[1].relevant"]);
        assert!(e.0[0].message.contains("\"answered\""));
    }

    #[test]
    fn reports_every_semantic_mistake_with_paths() {
        let mut v = base();
        v["format"] = json!(2);
        v["groups"][0]["items"][1]["code"] = json!("P1"); // duplicate item code
        v["groups"][2]["items"][0]["scale"] = json!("sat7"); // undefined scale
        v["groups"][0]["items"][1]["min"] = json!(200); // min > max
        v["groups"][0]["items"][0]["options"][1]["value"] = json!("male"); // duplicate option
        v["groups"][0]["title"]["vi"] = json!(""); // empty label
        v["groups"][0]["element"] = json!("access"); // element outside criteria
        v["scales"]["sat5"]["no_answer"]["value"] = json!(5);
        v["scales"]["sat5"]["satisfied_from"] = json!(7);
        let e = load(&v).unwrap_err();
        let p = paths(&e);
        for expected in [
            "$.format",
            "$.scales.sat5.satisfied_from",
            "$.scales.sat5.no_answer.value",
            "$.groups[0].title.vi",
            "$.groups[0].element",
            "$.groups[0].items[0].options[1].value",
            "$.groups[0].items[1].code",
            "$.groups[0].items[1].min",
            "$.groups[2].items[0].scale",
        ] {
            assert!(p.contains(&expected), "missing {expected} in {p:?}");
        }
        let scale_msg = &e.0[p
            .iter()
            .position(|x| *x == "$.groups[2].items[0].scale")
            .unwrap()];
        assert_eq!(
            scale_msg.message,
            "item \"C1_1\" names scale \"sat7\" which is not defined in $.scales (defined: sat5)"
        );
    }

    #[test]
    fn more_structural_mistakes() {
        let mut v = base();
        v["form_id"] = json!("1form");
        v["version"] = json!(" ");
        v["groups"][0]["items"][1]["max_length"] = json!(10); // not text
        v["groups"][0]["items"][1]["options"] = json!([{"value": "a", "label": {"vi": "A"}}]);
        v["groups"][1]["items"][1]["max_length"] = json!(0);
        v["groups"][1]["items"][0]["options"] = json!([]);
        v["groups"][1]["items"][0]["criterion"] = json!(true);
        v["groups"][2]["items"] =
            json!([{"code": "C1_9", "type": "text", "label": {"vi": "Ý kiến"}}]);
        v["scales"]["sat5"]["points"][2]["value"] = json!(2);
        let e = load(&v).unwrap_err();
        let p = paths(&e);
        for expected in [
            "$.form_id",
            "$.version",
            "$.scales.sat5.points[2].value",
            "$.groups[0].items[1].options",
            "$.groups[0].items[1].max_length",
            "$.groups[1].items[0].options",
            "$.groups[1].items[0].criterion",
            "$.groups[1].items[1].max_length",
            "$.groups[2].items",
        ] {
            assert!(p.contains(&expected), "missing {expected} in {p:?}");
        }
    }

    #[test]
    fn forward_and_self_references_rejected() {
        let mut v = base();
        v["groups"][0]["items"][0]["relevant"] = json!({"item": "P2", "answered": true});
        v["groups"][0]["items"][1]["relevant"] = json!({"any": [{"item": "P2", "equals": 3}]});
        v["groups"][1]["relevant"] = json!({"item": "S1", "answered": true});
        v["groups"][2]["relevant"] = json!({"item": "NOPE", "answered": true});
        let e = load(&v).unwrap_err();
        assert_eq!(
            paths(&e),
            [
                "$.groups[0].items[0].relevant.item",
                "$.groups[0].items[1].relevant.any[0].item",
                "$.groups[1].relevant.item",
                "$.groups[2].relevant.item",
            ]
        );
        assert!(e.0[0].message.contains("comes later"));
        assert!(e.0[1].message.contains("itself"));
        assert!(e.0[2].message.contains("earlier group"));
        assert!(e.0[3].message.contains("does not exist"));
    }

    #[test]
    fn condition_values_must_fit_the_item() {
        let mut v = base();
        v["groups"][1]["items"][1]["relevant"] = json!({"item": "S1", "in": ["x", "phone"]});
        v["groups"][2]["items"][0]["relevant"] = json!({"all": [
            {"item": "P2", "equals": "old"},
            {"item": "P1", "equals": 1}
        ]});
        v["groups"][2]["items"][1]["relevant"] = json!({"item": "C1_1", "equals": 6});
        let e = load(&v).unwrap_err();
        assert_eq!(
            paths(&e),
            [
                "$.groups[1].items[1].relevant.in[1]",
                "$.groups[2].items[0].relevant.all[0].equals",
                "$.groups[2].items[0].relevant.all[1].equals",
                "$.groups[2].items[1].relevant.equals",
            ]
        );
        assert!(e.0[0].message.contains("(options: direct, online, x)"));
    }

    #[test]
    fn labels_must_be_nfc() {
        let mut v = base();
        v["groups"][0]["items"][1]["label"]["vi"] = json!("Tuo\u{0302}\u{0309}i");
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[0].items[1].label.vi"]);
        assert!(e.0[0].message.contains("NFC"));
    }

    #[test]
    fn other_option_needs_text_item() {
        let mut v = base();
        v["groups"][1]["items"][1]["code"] = json!("S1_note");
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[1].items[0].options[2].other"]);
        assert!(e.0[0].message.contains("\"S1_other\""));
    }

    /// A form using every field of the expression language, valid.
    fn expr_form() -> Value {
        json!({
            "format": 1, "form_id": "expr", "version": "1", "title": {"vi": "Phiếu"},
            "groups": [
                {"code": "A", "kind": "profile", "title": {"vi": "A"}, "items": [
                    {"code": "BIRTH", "type": "date", "label": {"vi": "Ngày sinh"},
                     "constraint": ". < today()", "appearance": "minimal"},
                    {"code": "AGE", "type": "calculate", "label": {"vi": "Tuổi"},
                     "calculation": "date-diff-years(${BIRTH}, today())"},
                    {"code": "PROV", "type": "single_choice", "label": {"vi": "Tỉnh"},
                     "choice_filter": "region = 'south'", "options": [
                        {"value": "79", "label": {"vi": "TP HCM"}, "attrs": {"region": "south"}},
                        {"value": "01", "label": {"vi": "Hà Nội"}, "attrs": {"region": "north"}}]},
                    {"code": "AG", "type": "single_choice", "label": {"vi": "Cơ quan"},
                     "choices_from": "agencies", "choice_filter": "unit = ${PROV}",
                     "prefill": {"from": "agency", "editable": false}},
                    {"code": "PROC", "type": "text", "label": {"vi": "Thủ tục"},
                     "prefill": {"from": "procedure"}}
                ]},
                {"code": "B", "kind": "assessment", "title": {"vi": "B"},
                 "relevant": "${AGE} >= 18", "items": [
                    {"code": "B1", "type": "integer", "label": {"vi": "Số lần"},
                     "relevant": {"not": "${AGE} > 80"},
                     "constraint": ". <= ${AGE}",
                     "constraint_message": {"vi": "Quá nhiều.", "en": "Too many."}}
                ]}
            ]
        })
    }

    #[test]
    fn expression_fields_load_and_round_trip() {
        let form = load(&expr_form()).unwrap();
        let ag = form.item("AG").unwrap();
        assert_eq!(ag.choices_from, Some(ChoicesFrom::Agencies));
        assert!(!ag.prefill.unwrap().editable);
        assert!(form.item("PROC").unwrap().prefill.unwrap().editable);
        assert_eq!(form.item("AGE").unwrap().item_type, ItemType::Calculate);
        assert_eq!(
            form.group("B").unwrap().relevant,
            Some(Condition::Expr("${AGE} >= 18".into()))
        );
        // Serialising and loading again gives the same form (nothing lost).
        let again = load(&serde_json::to_value(&form).unwrap()).unwrap();
        assert_eq!(again, form);
        let text = serde_json::to_string(&form).unwrap();
        for key in [
            "\"appearance\"",
            "\"attrs\"",
            "\"choices_from\"",
            "\"editable\":false",
        ] {
            assert!(text.contains(key), "{key} missing in {text}");
        }
    }

    fn issue_at<'e>(e: &'e FormErrors, path: &str) -> &'e FormIssue {
        e.issues()
            .iter()
            .find(|i| i.path == path)
            .unwrap_or_else(|| panic!("no issue at {path}: {e}"))
    }

    #[test]
    fn expression_errors_name_item_field_and_say_it_in_vietnamese() {
        let mut v = expr_form();
        let items = &mut v["groups"][0]["items"];
        items[0]["constraint"] = json!(". < today(");
        items[1]["calculation"] = json!("${PROV} + foo(1)");
        items[2]["choice_filter"] = json!("colour = 'red'");
        items[3]["choice_filter"] = json!("unit = ${NOPE} and field = ''");
        items[4]["constraint"] = json!("string-length(${PROC}) < 10");
        v["groups"][1]["relevant"] = json!("${B1} > 1");
        v["groups"][1]["items"][0]["relevant"] = json!("if(${AGE}, 1) or region = 'x' or . = 1");
        let e = load(&v).unwrap_err();

        let i = issue_at(&e, "$.groups[0].items[0].constraint");
        assert_eq!(i.item.as_deref(), Some("BIRTH"));
        assert_eq!(i.group.as_deref(), Some("A"));
        assert_eq!(i.field.as_deref(), Some("constraint"));
        assert_eq!(
            i.message_vi.as_deref(),
            Some(
                "câu \"BIRTH\": biểu thức constraint \". < today(\" có lỗi cú pháp: Biểu thức kết thúc đột ngột (thiếu toán hạng hoặc dấu ')')."
            )
        );
        assert_eq!(
            i.message,
            "item \"BIRTH\": syntax error in constraint \". < today(\": The expression ends too early (an operand or ')' is missing)."
        );

        let i = issue_at(&e, "$.groups[0].items[1].calculation");
        assert_eq!(
            i.text("vi"),
            "câu \"AGE\": biểu thức calculation \"${PROV} + foo(1)\" có lỗi cú pháp: Hàm không xác định 'foo' tại vị trí 11."
        );

        let i = issue_at(&e, "$.groups[0].items[2].choice_filter");
        assert_eq!(
            i.text("vi"),
            "câu \"PROV\": choice_filter dùng thuộc tính \"colour\" mà không lựa chọn nào có (các thuộc tính: region)"
        );

        let msgs: Vec<&str> = e
            .issues()
            .iter()
            .filter(|i| i.path == "$.groups[0].items[3].choice_filter")
            .map(|i| i.text("vi"))
            .collect();
        assert_eq!(
            msgs,
            [
                "câu \"AG\": biểu thức choice_filter tham chiếu ${NOPE} nhưng phiếu không có câu hỏi này",
                "câu \"AG\": choice_filter dùng thuộc tính \"field\" mà không lựa chọn nào có (các thuộc tính: kind, unit)",
            ]
        );

        let i = issue_at(&e, "$.groups[0].items[4].constraint");
        assert_eq!(
            i.text("vi"),
            "câu \"PROC\": biểu thức constraint tham chiếu chính câu này; dùng '.' cho giá trị của câu (trong constraint) hoặc tham chiếu các câu trước"
        );

        let i = issue_at(&e, "$.groups[1].relevant");
        assert_eq!((i.group.as_deref(), i.item.as_deref()), (Some("B"), None));
        assert_eq!(i.field.as_deref(), Some("relevant"));
        assert_eq!(
            i.text("vi"),
            "nhóm \"B\": biểu thức relevant tham chiếu ${B1} không thuộc nhóm nào trước đó; điều kiện của nhóm chỉ được dùng câu trả lời của các nhóm trước"
        );
        let i = issue_at(&e, "$.groups[1].items[0].relevant");
        assert_eq!(
            i.text("vi"),
            "câu \"B1\": biểu thức relevant \"if(${AGE}, 1) or region = 'x' or . = 1\" có lỗi cú pháp: Hàm 'if' cần 3 tham số, nhưng có 2 (vị trí 1)."
        );
        assert_eq!(e.issues().len(), 8, "{e}");
    }

    #[test]
    fn later_items_current_value_and_bare_names_outside_choice_filter() {
        let mut v = expr_form();
        v["groups"][0]["items"][0]["constraint"] = json!(". < ${AGE}");
        v["groups"][0]["items"][1]["calculation"] = json!(". + unit");
        let e = load(&v).unwrap_err();
        let vi: Vec<&str> = e.issues().iter().map(|i| i.text("vi")).collect();
        assert_eq!(
            vi,
            [
                "câu \"BIRTH\": biểu thức constraint tham chiếu ${AGE} (tại $.groups[0].items[1]) nằm sau trong phiếu; chỉ được dùng câu trả lời của các câu trước",
                "câu \"AGE\": '.' (giá trị của chính câu) chỉ dùng được trong constraint, không dùng trong calculation",
                "câu \"AGE\": tên \"unit\" trong calculation không hợp lệ; tham chiếu câu trả lời bằng ${MÃ} (tên trần là thuộc tính lựa chọn, chỉ dùng trong choice_filter)",
            ]
        );
    }

    #[test]
    fn misplaced_expression_fields() {
        let mut v = expr_form();
        let items = &mut v["groups"][0]["items"];
        items[1].as_object_mut().unwrap().remove("calculation");
        items[1]["required"] = json!(true);
        items[0]["calculation"] = json!("1");
        items[0]["choice_filter"] = json!("1");
        items[3]["options"] = json!([{"value": "x", "label": {"vi": "X"}}]);
        items[4]["prefill"] = json!({"from": "unit"});
        items[2]["options"][0]["attrs"] = json!({"mod": "1", "ok_1": "2"});
        v["groups"][1]["items"][0]["prefill"] = json!({"from": "field"});
        let e = load(&v).unwrap_err();
        let got: Vec<(&str, &str)> = e
            .issues()
            .iter()
            .map(|i| {
                (
                    i.item.as_deref().unwrap_or(""),
                    i.field.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("BIRTH", "calculation"),
                ("BIRTH", "choice_filter"),
                ("AGE", "calculation"),
                ("AGE", "required"),
                ("PROV", "options"),
                ("AG", "options"),
                ("B1", "prefill"),
            ],
            "{e}"
        );
        assert_eq!(
            issue_at(&e, "$.groups[0].items[1].calculation").text("vi"),
            "câu tính toán \"AGE\" thiếu \"calculation\"; hãy thêm biểu thức tính giá trị"
        );
        // Unknown catalogue and prefill source are reported by the parser with their path.
        let mut v = expr_form();
        v["groups"][0]["items"][3]["choices_from"] = json!("districts");
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[0].items[3].choices_from"]);
        let mut v = expr_form();
        v["groups"][0]["items"][4]["prefill"] = json!({"from": "surveyor"});
        let e = load(&v).unwrap_err();
        assert_eq!(paths(&e), ["$.groups[0].items[4].prefill.from"]);
    }
}
