//! Validation of answers against a questionnaire.
//!
//! [`validate_answer`] checks one answer on its own (run on every autosave);
//! [`validate_response`] checks a whole response at submit / ingest, including skip logic and
//! required items. Messages are Vietnamese first (shown to the surveyor) with English.
use crate::answer::{AnswerValue, Answers};
use crate::expr::{EvalContext, eval_str, evaluate, parse};
use crate::questionnaire::{ChoiceOption, Item, ItemType, Label, Questionnaire};
use crate::relevance::{item_is_relevant_on, value_is_answered};
use crate::text::nfc;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// What is wrong with an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The item code is not part of the form.
    UnknownItem,
    /// The value has the wrong JSON type for the item.
    WrongType,
    /// A choice code that is not one of the item's options.
    NotAnOption,
    /// A multi-choice code chosen more than once.
    DuplicateOption,
    /// An exclusive option (e.g. "Không có") chosen together with others.
    ExclusiveWithOthers,
    /// A number outside the item's range or a rating outside its scale.
    OutOfRange,
    /// Text longer than the item's `max_length` characters.
    TooLong,
    /// Not a calendar date in the form `YYYY-MM-DD`.
    InvalidDate,
    /// A required relevant item has no answer.
    Required,
    /// An answer to an item that does not apply given the other answers.
    NotRelevant,
    /// An option asking for free text was chosen but `<code>_other` is blank.
    OtherTextMissing,
    /// The item's `constraint` expression is false for the answer.
    Constraint,
}

/// One problem with one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{item_code}: {}", message.text("en"))]
pub struct AnswerIssue {
    /// The item the problem is about.
    pub item_code: String,
    /// The kind of problem.
    pub kind: IssueKind,
    /// Message for the surveyor (Vietnamese, with English).
    pub message: Label,
}

impl AnswerIssue {
    fn new(item_code: &str, kind: IssueKind, vi: String, en: String) -> Self {
        AnswerIssue {
            item_code: item_code.to_owned(),
            kind,
            message: Label { vi, en: Some(en) },
        }
    }
}

/// Checks one answer in isolation: type, option membership, range / scale, length and date.
///
/// Blank answers (empty text, empty code list) are accepted here; whether they are allowed is
/// decided by [`validate_response`].
pub fn validate_answer(
    form: &Questionnaire,
    item_code: &str,
    value: &AnswerValue,
) -> Result<(), AnswerIssue> {
    let Some(item) = form.item(item_code) else {
        return Err(unknown_item(item_code));
    };
    check_value(form, item, value)
}

fn unknown_item(code: &str) -> AnswerIssue {
    AnswerIssue::new(
        code,
        IssueKind::UnknownItem,
        format!("Câu hỏi \"{code}\" không có trong phiếu này."),
        format!("Question \"{code}\" is not part of this form."),
    )
}

fn check_value(form: &Questionnaire, item: &Item, value: &AnswerValue) -> Result<(), AnswerIssue> {
    let code = item.code.as_str();
    match (item.item_type, value) {
        (ItemType::SingleChoice, AnswerValue::Text(s)) => {
            if s.is_empty() || item.choices_from.is_some() {
                // Catalogue options live on the server and the device, not in the form.
                Ok(())
            } else {
                check_option(item, s)
            }
        }
        (ItemType::MultiChoice, AnswerValue::Codes(codes)) => check_multi(item, codes),
        (ItemType::Integer, AnswerValue::Int(n)) => check_range(item, *n),
        (ItemType::Text, AnswerValue::Text(s)) => match item.max_length {
            Some(max) => {
                let len = nfc(s.trim()).chars().count();
                if len > max {
                    Err(AnswerIssue::new(
                        code,
                        IssueKind::TooLong,
                        format!("Câu trả lời quá dài: tối đa {max} ký tự (hiện có {len})."),
                        format!("The answer is too long: at most {max} characters (now {len})."),
                    ))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        },
        (ItemType::Date, AnswerValue::Text(s)) => {
            if s.trim().is_empty() {
                Ok(())
            } else {
                check_date(code, s.trim())
            }
        }
        (ItemType::Rating, AnswerValue::Int(n)) => check_rating(form, item, *n),
        (ItemType::Calculate, AnswerValue::Int(_) | AnswerValue::Text(_)) => Ok(()),
        (t, _) => Err(wrong_type(code, t)),
    }
}

fn wrong_type(code: &str, t: ItemType) -> AnswerIssue {
    let (vi, en) = match t {
        ItemType::SingleChoice => ("một mã lựa chọn", "one option code"),
        ItemType::MultiChoice => ("danh sách mã lựa chọn", "a list of option codes"),
        ItemType::Integer => ("một số nguyên", "a whole number"),
        ItemType::Text => ("văn bản", "text"),
        ItemType::Date => ("ngày dạng YYYY-MM-DD", "a date YYYY-MM-DD"),
        ItemType::Rating => ("một mức trên thang đo", "a point of the rating scale"),
        ItemType::Calculate => ("một số nguyên hoặc văn bản", "a whole number or text"),
    };
    AnswerIssue::new(
        code,
        IssueKind::WrongType,
        format!("Câu trả lời không đúng kiểu: cần {vi}."),
        format!("Wrong answer type: expected {en}."),
    )
}

fn check_option(item: &Item, value: &str) -> Result<(), AnswerIssue> {
    if item.options.iter().any(|o| o.value == value) {
        Ok(())
    } else {
        Err(AnswerIssue::new(
            &item.code,
            IssueKind::NotAnOption,
            format!("Lựa chọn \"{value}\" không có trong danh sách của câu này."),
            format!("\"{value}\" is not one of the options of this question."),
        ))
    }
}

fn check_multi(item: &Item, codes: &[String]) -> Result<(), AnswerIssue> {
    let mut seen = HashSet::new();
    for c in codes {
        check_option(item, c)?;
        if !seen.insert(c.as_str()) {
            return Err(AnswerIssue::new(
                &item.code,
                IssueKind::DuplicateOption,
                format!("Lựa chọn \"{c}\" bị chọn trùng lặp."),
                format!("Option \"{c}\" is chosen more than once."),
            ));
        }
    }
    if codes.len() > 1 {
        let exclusive = item
            .options
            .iter()
            .find(|o| o.exclusive && codes.contains(&o.value));
        if let Some(o) = exclusive {
            return Err(AnswerIssue::new(
                &item.code,
                IssueKind::ExclusiveWithOthers,
                format!(
                    "Không thể chọn \"{}\" cùng với lựa chọn khác.",
                    o.label.text("vi")
                ),
                format!(
                    "\"{}\" cannot be combined with other options.",
                    o.label.text("en")
                ),
            ));
        }
    }
    Ok(())
}

fn check_range(item: &Item, n: i64) -> Result<(), AnswerIssue> {
    let below = item.min.is_some_and(|min| n < min);
    let above = item.max.is_some_and(|max| n > max);
    if !below && !above {
        return Ok(());
    }
    let custom = item
        .range_message
        .as_ref()
        .or(item.constraint_message.as_ref());
    let message = match (custom, item.min, item.max) {
        (Some(m), _, _) => m.clone(),
        (None, Some(min), Some(max)) => Label {
            vi: format!("Giá trị phải từ {min} đến {max}."),
            en: Some(format!("The value must be between {min} and {max}.")),
        },
        (None, Some(min), None) => Label {
            vi: format!("Giá trị phải lớn hơn hoặc bằng {min}."),
            en: Some(format!("The value must be at least {min}.")),
        },
        (None, _, max) => {
            let max = max.unwrap_or_default();
            Label {
                vi: format!("Giá trị phải nhỏ hơn hoặc bằng {max}."),
                en: Some(format!("The value must be at most {max}.")),
            }
        }
    };
    Err(AnswerIssue {
        item_code: item.code.clone(),
        kind: IssueKind::OutOfRange,
        message,
    })
}

fn check_date(code: &str, s: &str) -> Result<(), AnswerIssue> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return Err(AnswerIssue::new(
            code,
            IssueKind::InvalidDate,
            "Ngày không hợp lệ, cần dạng YYYY-MM-DD.".into(),
            "Invalid date; use the form YYYY-MM-DD.".into(),
        ));
    }
    match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(_) => Ok(()),
        Err(_) => Err(AnswerIssue::new(
            code,
            IssueKind::InvalidDate,
            format!("Ngày không hợp lệ: {s} không có trên lịch."),
            format!("Invalid date: {s} does not exist in the calendar."),
        )),
    }
}

fn check_rating(form: &Questionnaire, item: &Item, n: i64) -> Result<(), AnswerIssue> {
    let scale = item.scale.as_ref().and_then(|s| form.scales.get(s));
    let Some(scale) = scale else {
        return Err(AnswerIssue::new(
            &item.code,
            IssueKind::OutOfRange,
            "Câu này thiếu thang đo trong định nghĩa phiếu.".into(),
            "This question's rating scale is missing from the form definition.".into(),
        ));
    };
    let na = scale.no_answer.as_ref();
    if scale.points.iter().any(|p| p.value == n) || na.is_some_and(|p| p.value == n) {
        return Ok(());
    }
    let points = scale
        .points
        .iter()
        .map(|p| p.value.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let (vi_na, en_na) = match na {
        Some(p) => (
            format!(" hoặc {} ({})", p.value, p.label.text("vi")),
            format!(" or {} ({})", p.value, p.label.text("en")),
        ),
        None => (String::new(), String::new()),
    };
    Err(AnswerIssue::new(
        &item.code,
        IssueKind::OutOfRange,
        format!("Giá trị phải là một trong các mức: {points}{vi_na}."),
        format!("The value must be one of the scale points: {points}{en_na}."),
    ))
}

/// The full check at submit / ingest. Every answer must be valid on its own and belong to a
/// relevant item of the form; every required relevant item must be answered; a chosen
/// "other" option needs its `<code>_other` text; a relevant answered item's `constraint` must
/// hold. Issues are returned in display order (answers to unknown items last, by code).
///
/// Relevance cascades as in [`crate::relevance::relevant_items`]: answers to items that are
/// not relevant are reported and otherwise ignored when evaluating later conditions.
/// `calculate` items are never reported: their value is computed in display order (see
/// [`compute_calculations`]) and what was uploaded for them is ignored. `today()` is empty;
/// use [`validate_response_on`] to give the response's date.
pub fn validate_response(form: &Questionnaire, answers: &Answers) -> Result<(), Vec<AnswerIssue>> {
    validate_response_on(form, answers, None)
}

/// [`validate_response`] with the date `today()` stands for (`YYYY-MM-DD`, the date part of
/// the response's `started_at`).
pub fn validate_response_on(
    form: &Questionnaire,
    answers: &Answers,
    today: Option<&str>,
) -> Result<(), Vec<AnswerIssue>> {
    let mut issues = Vec::new();
    let mut effective = Answers::new();
    for (group, item) in form.items() {
        let code = item.code.as_str();
        let relevant = item_is_relevant_on(group, item, &effective, today);
        if item.item_type == ItemType::Calculate {
            if relevant && let Some(v) = calculate(item, &effective, today) {
                effective.insert(item.code.clone(), v);
            }
            continue;
        }
        let value = answers.get(code).filter(|v| value_is_answered(v));
        match (value, relevant) {
            (Some(v), true) => {
                if let Err(issue) = check_value(form, item, v) {
                    issues.push(issue);
                } else if let Err(issue) = check_constraint(item, v, &effective, today) {
                    issues.push(issue);
                }
                effective.insert(item.code.clone(), v.clone());
            }
            (Some(_), false) => issues.push(AnswerIssue::new(
                code,
                IssueKind::NotRelevant,
                "Câu này không áp dụng với các câu trả lời trước đó nên phải để trống.".into(),
                "This question does not apply given the earlier answers and must be left blank."
                    .into(),
            )),
            (None, true) => {
                if let Some(label) = other_chosen(form, code, &effective) {
                    issues.push(AnswerIssue::new(
                        code,
                        IssueKind::OtherTextMissing,
                        format!("Đã chọn \"{}\", vui lòng ghi rõ.", label.text("vi")),
                        format!("\"{}\" was chosen; please specify.", label.text("en")),
                    ));
                } else if item.required {
                    issues.push(required_issue(code));
                }
            }
            (None, false) => {}
        }
    }
    for code in answers.keys() {
        if form.item(code).is_none() {
            issues.push(unknown_item(code));
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(issues)
    }
}

fn required_issue(code: &str) -> AnswerIssue {
    AnswerIssue::new(
        code,
        IssueKind::Required,
        "Câu này bắt buộc phải trả lời.".into(),
        "This question is required.".into(),
    )
}

/// The value of a `calculate` item from the effective answers before it, in its stored shape
/// (integer when whole, else text); `None` when the result is empty.
fn calculate(item: &Item, effective: &Answers, today: Option<&str>) -> Option<AnswerValue> {
    let src = item.calculation.as_deref()?;
    let ctx = EvalContext {
        answers: Some(effective),
        today,
        ..Default::default()
    };
    eval_str(src, &ctx).ok()?.to_answer()
}

/// Checks the item's `constraint` (if any) for an answered value; `.` is the value.
/// A constraint that does not parse fails (the loader rejects such forms).
pub fn check_constraint(
    item: &Item,
    value: &AnswerValue,
    effective: &Answers,
    today: Option<&str>,
) -> Result<(), AnswerIssue> {
    let Some(src) = item.constraint.as_deref() else {
        return Ok(());
    };
    let ctx = EvalContext {
        answers: Some(effective),
        current: Some(value),
        attrs: None,
        today,
    };
    if eval_str(src, &ctx).is_ok_and(|v| v.truthy()) {
        return Ok(());
    }
    let message = item.constraint_message.clone().unwrap_or_else(|| Label {
        vi: CONSTRAINT_VI.into(),
        en: Some(CONSTRAINT_EN.into()),
    });
    Err(AnswerIssue {
        item_code: item.code.clone(),
        kind: IssueKind::Constraint,
        message,
    })
}

const CONSTRAINT_VI: &str = "Câu trả lời không thỏa mãn điều kiện của câu hỏi.";
const CONSTRAINT_EN: &str = "The answer does not meet the condition of this question.";

/// The answers with every `calculate` item's value computed in display order from the
/// effective (relevant) answers before it: set when relevant and not empty, removed
/// otherwise. Whatever was uploaded for a calculate item is replaced (the device may run an
/// older version); everything else is returned unchanged. `today`: the date part of the
/// response's `started_at`.
pub fn compute_calculations(
    form: &Questionnaire,
    answers: &Answers,
    today: Option<&str>,
) -> Answers {
    let mut out = answers.clone();
    let mut effective = Answers::new();
    for (group, item) in form.items() {
        let relevant = item_is_relevant_on(group, item, &effective, today);
        if item.item_type == ItemType::Calculate {
            out.remove(&item.code);
            if relevant && let Some(v) = calculate(item, &effective, today) {
                effective.insert(item.code.clone(), v.clone());
                out.insert(item.code.clone(), v);
            }
        } else if relevant && let Some(v) = answers.get(&item.code).filter(|v| value_is_answered(v))
        {
            effective.insert(item.code.clone(), v.clone());
        }
    }
    out
}

/// One problem the form screen shows under an item (see [`form_state`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateError {
    /// `constraint`, `out_of_range`, `too_long` or `required`.
    pub kind: IssueKind,
    /// Vietnamese message.
    pub vi: String,
    /// English message (the Vietnamese one when the form has none).
    pub en: String,
}

/// What the form screen needs to show a response in progress; `ui/expr.js` `formState`
/// computes the same (the parity test checks it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FormState {
    /// Codes of the relevant items, in display order (calculate items are never shown).
    pub visible: Vec<String>,
    /// Effective answers (relevant items only) plus computed calculations.
    pub values: Answers,
    /// Per item: the first problem among out of range / too long / constraint, or `required`
    /// for a required relevant item without an answer.
    pub errors: BTreeMap<String, StateError>,
    /// Per choice item: the options offered (own options, or the catalogue named by
    /// `choices_from`), filtered by `choice_filter`.
    pub choices: BTreeMap<String, Vec<ChoiceOption>>,
}

/// Works out [`FormState`] in display order. `catalogues` maps `choices_from` kinds
/// (`agencies`, `procedures`, `fields`, `units`) to their options.
pub fn form_state(
    form: &Questionnaire,
    answers: &Answers,
    today: Option<&str>,
    catalogues: &BTreeMap<String, Vec<ChoiceOption>>,
) -> FormState {
    let mut st = FormState::default();
    let label_pair = |l: &Label| (l.vi.clone(), l.en.clone().unwrap_or_else(|| l.vi.clone()));
    for (group, item) in form.items() {
        let code = item.code.clone();
        let relevant = item_is_relevant_on(group, item, &st.values, today);
        if matches!(
            item.item_type,
            ItemType::SingleChoice | ItemType::MultiChoice
        ) {
            let all: &[ChoiceOption] = match item.choices_from {
                Some(kind) => catalogues.get(kind.as_str()).map_or(&[], Vec::as_slice),
                None => &item.options,
            };
            let offered = match item.choice_filter.as_deref() {
                None => all.to_vec(),
                Some(src) => {
                    let parsed = parse(src).ok();
                    all.iter()
                        .filter(|o| {
                            let ctx = EvalContext {
                                answers: Some(&st.values),
                                current: None,
                                attrs: Some(&o.attrs),
                                today,
                            };
                            parsed.as_ref().is_some_and(|e| evaluate(e, &ctx).truthy())
                        })
                        .cloned()
                        .collect()
                }
            };
            st.choices.insert(code.clone(), offered);
        }
        if !relevant {
            continue;
        }
        if item.item_type == ItemType::Calculate {
            if let Some(v) = calculate(item, &st.values, today) {
                st.values.insert(code, v);
            }
            continue;
        }
        st.visible.push(code.clone());
        let Some(value) = answers.get(&code).filter(|v| value_is_answered(v)) else {
            if item.required {
                st.errors.insert(
                    code,
                    StateError {
                        kind: IssueKind::Required,
                        vi: "Câu này bắt buộc phải trả lời.".into(),
                        en: "This question is required.".into(),
                    },
                );
            }
            continue;
        };
        let mut error = None;
        match (item.item_type, value) {
            (ItemType::Integer, AnswerValue::Int(n)) => {
                error = check_range(item, *n).err();
            }
            (ItemType::Text, AnswerValue::Text(_)) if item.max_length.is_some() => {
                error = check_value(form, item, value).err();
            }
            _ => {}
        }
        if error.is_none() {
            error = check_constraint(item, value, &st.values, today).err();
        }
        st.values.insert(code.clone(), value.clone());
        if let Some(issue) = error {
            let (vi, en) = label_pair(&issue.message);
            st.errors.insert(
                code,
                StateError {
                    kind: issue.kind,
                    vi,
                    en,
                },
            );
        }
    }
    st
}

/// If `code` is `<parent>_other` and the parent's chosen answer includes an option with
/// `other: true`, that option's label.
fn other_chosen<'a>(form: &'a Questionnaire, code: &str, answers: &Answers) -> Option<&'a Label> {
    let parent_code = code.strip_suffix("_other")?;
    let parent = form.item(parent_code)?;
    let chosen = answers.get(parent_code)?;
    parent
        .options
        .iter()
        .find(|o| o.other && chosen.matches_json(&serde_json::Value::String(o.value.clone())))
        .map(|o| &o.label)
}

/// NFC-normalises and trims one answer (text and codes); integers are unchanged.
pub fn normalize_value(value: &mut AnswerValue) {
    match value {
        AnswerValue::Int(_) => {}
        AnswerValue::Text(s) => *s = nfc(s.trim()),
        AnswerValue::Codes(cs) => cs.iter_mut().for_each(|c| *c = nfc(c.trim())),
    }
}

/// NFC-normalises and trims every answer; run before validating or storing.
pub fn normalize_answers(answers: &mut Answers) {
    answers.values_mut().for_each(normalize_value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Questionnaire {
        let points: Vec<_> = (1..=5)
            .map(|v| json!({"value": v, "label": {"vi": format!("Mức {v}")}}))
            .collect();
        crate::form_loader::load_form(
            &json!({
                "format": 1, "form_id": "t", "version": "1", "title": {"vi": "Phiếu"},
                "scales": {"sat5": {
                    "points": points,
                    "satisfied_from": 4,
                    "no_answer": {"value": 9, "label": {"vi": "Không trả lời", "en": "No answer"}}
                }},
                "groups": [
                    {"code": "P", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                        {"code": "AGE", "type": "integer", "label": {"vi": "Tuổi"}, "required": true,
                         "min": 18, "max": 120,
                         "range_message": {"vi": "Người trả lời phải từ 18 tuổi trở lên.",
                                           "en": "The respondent must be 18 or older."}},
                        {"code": "N", "type": "integer", "label": {"vi": "Số lần"}, "min": 1, "max": 10},
                        {"code": "SEX", "type": "single_choice", "label": {"vi": "Giới tính"},
                         "required": true, "options": [
                            {"value": "male", "label": {"vi": "Nam"}},
                            {"value": "female", "label": {"vi": "Nữ"}}]},
                        {"code": "D", "type": "date", "label": {"vi": "Ngày giao dịch"}}
                    ]},
                    {"code": "S", "kind": "screening", "title": {"vi": "Giao dịch"}, "items": [
                        {"code": "CH", "type": "multi_choice", "label": {"vi": "Kênh"}, "options": [
                            {"value": "direct", "label": {"vi": "Trực tiếp"}},
                            {"value": "online", "label": {"vi": "Trực tuyến"}},
                            {"value": "other", "label": {"vi": "Khác (ghi rõ)", "en": "Other"}, "other": true},
                            {"value": "none", "label": {"vi": "Không có", "en": "None"}, "exclusive": true}]},
                        {"code": "CH_other", "type": "text", "label": {"vi": "Ghi rõ"}, "max_length": 20},
                        {"code": "WHY", "type": "text", "label": {"vi": "Lý do"}, "required": true,
                         "relevant": {"item": "CH", "in": ["none"]}}
                    ]},
                    {"code": "C1", "kind": "criteria", "title": {"vi": "Tiếp cận"},
                     "relevant": {"not": {"item": "CH", "in": ["none"]}}, "items": [
                        {"code": "C1_1", "type": "rating", "scale": "sat5", "required": true,
                         "label": {"vi": "Nơi ngồi chờ"}}
                    ]}
                ]
            })
            .to_string(),
        )
        .unwrap()
    }

    fn kind(form: &Questionnaire, code: &str, v: serde_json::Value) -> Option<IssueKind> {
        let v: AnswerValue = serde_json::from_value(v).unwrap();
        validate_answer(form, code, &v).err().map(|i| i.kind)
    }

    #[test]
    fn age_range_uses_custom_message() {
        let f = form();
        let e = validate_answer(&f, "AGE", &AnswerValue::Int(17)).unwrap_err();
        assert_eq!(e.kind, IssueKind::OutOfRange);
        assert_eq!(e.message.vi, "Người trả lời phải từ 18 tuổi trở lên.");
        assert!(validate_answer(&f, "AGE", &AnswerValue::Int(18)).is_ok());
        let e = validate_answer(&f, "N", &AnswerValue::Int(11)).unwrap_err();
        assert_eq!(e.message.vi, "Giá trị phải từ 1 đến 10.");
    }

    #[test]
    fn single_and_multi_choice() {
        let f = form();
        assert_eq!(kind(&f, "SEX", json!("male")), None);
        assert_eq!(
            kind(&f, "SEX", json!("other")),
            Some(IssueKind::NotAnOption)
        );
        assert_eq!(kind(&f, "SEX", json!(["male"])), Some(IssueKind::WrongType));
        assert_eq!(kind(&f, "CH", json!(["direct", "online"])), None);
        assert_eq!(kind(&f, "CH", json!(["none"])), None);
        assert_eq!(kind(&f, "CH", json!(["x"])), Some(IssueKind::NotAnOption));
        assert_eq!(
            kind(&f, "CH", json!(["direct", "direct"])),
            Some(IssueKind::DuplicateOption)
        );
        let e = validate_answer(
            &f,
            "CH",
            &serde_json::from_value(json!(["direct", "none"])).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.kind, IssueKind::ExclusiveWithOthers);
        assert!(e.message.vi.contains("Không có"));
        assert_eq!(kind(&f, "CH", json!("direct")), Some(IssueKind::WrongType));
        assert_eq!(kind(&f, "NOPE", json!(1)), Some(IssueKind::UnknownItem));
    }

    #[test]
    fn rating_points_and_no_answer() {
        let f = form();
        assert_eq!(kind(&f, "C1_1", json!(5)), None);
        assert_eq!(kind(&f, "C1_1", json!(9)), None);
        let e = validate_answer(&f, "C1_1", &AnswerValue::Int(6)).unwrap_err();
        assert_eq!(e.kind, IssueKind::OutOfRange);
        assert!(
            e.message.vi.contains("1, 2, 3, 4, 5 hoặc 9"),
            "{}",
            e.message.vi
        );
        assert_eq!(kind(&f, "C1_1", json!("5")), Some(IssueKind::WrongType));
    }

    #[test]
    fn text_length_counts_characters() {
        let f = form();
        // 20 Vietnamese characters, far more than 20 bytes.
        let twenty = "Đường xá ở đây ổn ạ.";
        assert_eq!(twenty.chars().count(), 20);
        assert!(twenty.len() > 20);
        assert_eq!(kind(&f, "CH_other", json!(twenty)), None);
        let e =
            validate_answer(&f, "CH_other", &AnswerValue::Text(format!("{twenty}!"))).unwrap_err();
        assert_eq!(e.kind, IssueKind::TooLong);
        assert!(e.message.vi.contains("tối đa 20 ký tự (hiện có 21)"));
        // Decomposed input counts as its NFC length.
        let decomposed: String = twenty.replace('ổ', "o\u{0302}\u{0309}");
        assert_eq!(kind(&f, "CH_other", json!(decomposed)), None);
    }

    #[test]
    fn dates() {
        let f = form();
        assert_eq!(kind(&f, "D", json!("2026-02-28")), None);
        assert_eq!(kind(&f, "D", json!("2024-02-29")), None);
        let e = validate_answer(&f, "D", &AnswerValue::Text("2026-02-30".into())).unwrap_err();
        assert_eq!(e.kind, IssueKind::InvalidDate);
        for bad in ["2026-2-3", "20/11/2026", "2026-11-20T00:00", "hôm qua"] {
            assert_eq!(
                kind(&f, "D", json!(bad)),
                Some(IssueKind::InvalidDate),
                "{bad}"
            );
        }
    }

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    fn kinds(f: &Questionnaire, a: serde_json::Value) -> Vec<(String, IssueKind)> {
        match validate_response(f, &answers(a)) {
            Ok(()) => vec![],
            Err(v) => v.into_iter().map(|i| (i.item_code, i.kind)).collect(),
        }
    }

    #[test]
    fn valid_responses_pass() {
        let f = form();
        let ok = json!({"AGE": 40, "SEX": "female", "CH": ["direct"], "C1_1": 4});
        assert!(validate_response(&f, &answers(ok)).is_ok());
        let ok = json!({"AGE": 40, "SEX": "male", "CH": ["none"], "WHY": "Không cần"});
        assert!(validate_response(&f, &answers(ok)).is_ok());
    }

    #[test]
    fn response_issues_in_display_order() {
        let f = form();
        let got = kinds(
            &f,
            json!({"ZZZ": 1, "AGE": 17, "CH": ["none"], "C1_1": 4, "CH_other": ""}),
        );
        let expected = [
            ("AGE", IssueKind::OutOfRange),
            ("SEX", IssueKind::Required),
            ("WHY", IssueKind::Required),
            ("C1_1", IssueKind::NotRelevant),
            ("ZZZ", IssueKind::UnknownItem),
        ];
        let expected: Vec<_> = expected.iter().map(|(c, k)| (c.to_string(), *k)).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn other_text_required_when_other_chosen() {
        let f = form();
        let got = kinds(
            &f,
            json!({"AGE": 30, "SEX": "male", "CH": ["other"], "C1_1": 5}),
        );
        assert_eq!(got, [("CH_other".to_string(), IssueKind::OtherTextMissing)]);
        let ok = json!({"AGE": 30, "SEX": "male", "CH": ["other"], "CH_other": "Zalo", "C1_1": 5});
        assert!(validate_response(&f, &answers(ok)).is_ok());
    }

    #[test]
    fn normalize_makes_nfc_and_trims() {
        let mut a = answers(json!({
            "T": "  Vie\u{0302}\u{0323}t Nam \n",
            "C": [" ho\u{0300}a "],
            "N": 3
        }));
        normalize_answers(&mut a);
        assert_eq!(a["T"], AnswerValue::Text("Việt Nam".into()));
        assert_eq!(a["C"], AnswerValue::Codes(vec!["hòa".into()]));
        assert_eq!(a["N"], AnswerValue::Int(3));
    }

    #[test]
    fn issue_kind_serialises_snake_case() {
        assert_eq!(
            serde_json::to_value(IssueKind::ExclusiveWithOthers).unwrap(),
            json!("exclusive_with_others")
        );
        let e = validate_answer(&form(), "AGE", &AnswerValue::Int(3)).unwrap_err();
        assert_eq!(e.to_string(), "AGE: The respondent must be 18 or older.");
    }

    fn expr_form() -> Questionnaire {
        crate::form_loader::load_form(
            &json!({
                "format": 1, "form_id": "e", "version": "1", "title": {"vi": "Phiếu"},
                "groups": [
                    {"code": "A", "kind": "profile", "title": {"vi": "A"}, "items": [
                        {"code": "BIRTH", "type": "date", "label": {"vi": "Ngày sinh"}},
                        {"code": "AGE", "type": "calculate", "label": {"vi": "Tuổi"},
                         "calculation": "date-diff-years(${BIRTH}, today())"},
                        {"code": "N", "type": "integer", "label": {"vi": "Số con"}, "min": 0,
                         "max": 20, "constraint": ". < ${AGE} div 10 or ${AGE} = ''"},
                        {"code": "T", "type": "text", "label": {"vi": "Ghi chú"},
                         "constraint": "string-length(.) >= 3",
                         "constraint_message": {"vi": "Ghi ít nhất 3 ký tự."}},
                        {"code": "HALF", "type": "calculate", "label": {"vi": "Nửa"},
                         "calculation": "${N} div 2"},
                        {"code": "REG", "type": "single_choice", "label": {"vi": "Miền"}, "options": [
                            {"value": "n", "label": {"vi": "Bắc"}, "attrs": {"big": "1"}},
                            {"value": "s", "label": {"vi": "Nam"}, "attrs": {"big": "0"}}],
                         "choice_filter": "big = 1 or ${HALF} > 1"},
                        {"code": "AG", "type": "single_choice", "label": {"vi": "Cơ quan"},
                         "choices_from": "agencies", "choice_filter": "unit = ${REG}"}
                    ]},
                    {"code": "B", "kind": "assessment", "title": {"vi": "B"},
                     "relevant": "${AGE} >= 18", "items": [
                        {"code": "B1", "type": "text", "label": {"vi": "Ý kiến"}, "required": true}
                    ]}
                ]
            })
            .to_string(),
        )
        .unwrap()
    }

    const TODAY: Option<&str> = Some("2026-12-02");

    #[test]
    fn constraints_are_checked_with_their_message() {
        let f = expr_form();
        let issues = |a| match validate_response_on(&f, &answers(a), TODAY) {
            Ok(()) => vec![],
            Err(v) => v
                .into_iter()
                .map(|i| (i.item_code, i.kind, i.message.vi))
                .collect(),
        };
        // Age 16 (B not relevant): 2 children < 1.6 fails with the generic message.
        assert_eq!(
            issues(json!({"BIRTH": "2010-01-01", "N": 2, "T": "ab"})),
            [
                (
                    "N".to_string(),
                    IssueKind::Constraint,
                    "Câu trả lời không thỏa mãn điều kiện của câu hỏi.".to_string()
                ),
                (
                    "T".to_string(),
                    IssueKind::Constraint,
                    "Ghi ít nhất 3 ký tự.".to_string()
                ),
            ]
        );
        // Range is checked before the constraint; a blank answer is not constrained.
        assert_eq!(
            issues(json!({"BIRTH": "1960-01-01", "N": 21})),
            [
                (
                    "N".to_string(),
                    IssueKind::OutOfRange,
                    "Giá trị phải từ 0 đến 20.".to_string()
                ),
                (
                    "B1".to_string(),
                    IssueKind::Required,
                    "Câu này bắt buộc phải trả lời.".to_string()
                ),
            ]
        );
        assert_eq!(
            issues(json!({"BIRTH": "1960-01-01", "N": 3, "T": "abc", "B1": "ok", "AGE": 1})),
            []
        );
        // Without `today` the age is blank, so B is skipped and N is unconstrained.
        assert!(validate_response(&f, &answers(json!({"BIRTH": "1960-01-01", "N": 19}))).is_ok());
    }

    #[test]
    fn calculations_in_display_order() {
        let f = expr_form();
        let a = answers(json!({"BIRTH": "2000-12-03", "N": 5, "AGE": 99, "HALF": "x", "ZZ": 1}));
        let out = compute_calculations(&f, &a, TODAY);
        assert_eq!(out["AGE"], AnswerValue::Int(25));
        assert_eq!(out["HALF"], AnswerValue::Text("2.5".into()));
        assert_eq!(out["ZZ"], AnswerValue::Int(1), "other answers are kept");
        // Empty results are not stored.
        let out = compute_calculations(&f, &answers(json!({"AGE": 3})), TODAY);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn form_state_shows_what_the_screen_needs() {
        let f = expr_form();
        let cat: BTreeMap<String, Vec<ChoiceOption>> = serde_json::from_value(json!({
            "agencies": [
                {"value": "a1", "label": {"vi": "UBND"}, "attrs": {"unit": "n"}},
                {"value": "a2", "label": {"vi": "Sở"}, "attrs": {"unit": "s"}}]
        }))
        .unwrap();
        let st = form_state(
            &f,
            &answers(json!({"BIRTH": "2000-12-03", "N": 4, "T": "ab", "REG": "s"})),
            TODAY,
            &cat,
        );
        assert_eq!(st.visible, ["BIRTH", "N", "T", "REG", "AG", "B1"]);
        assert_eq!(st.values["AGE"], AnswerValue::Int(25));
        assert_eq!(st.values["HALF"], AnswerValue::Int(2));
        let kinds: Vec<(&str, IssueKind)> = st
            .errors
            .iter()
            .map(|(k, e)| (k.as_str(), e.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("B1", IssueKind::Required),
                ("N", IssueKind::Constraint),
                ("T", IssueKind::Constraint)
            ]
        );
        assert_eq!(
            st.errors["T"].en, "Ghi ít nhất 3 ký tự.",
            "no English: Vietnamese shown"
        );
        let values = |c: &str| {
            st.choices[c]
                .iter()
                .map(|o| o.value.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(values("REG"), ["n", "s"]); // HALF = 2 > 1 offers the south too
        assert_eq!(values("AG"), ["a2"]);
        let st = form_state(&f, &answers(json!({"N": 1})), TODAY, &BTreeMap::new());
        assert_eq!(st.choices["REG"].len(), 1);
        assert!(st.choices["AG"].is_empty());
        assert!(!st.visible.contains(&"B1".to_string()));
    }
}
