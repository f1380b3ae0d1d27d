//! Skip logic: evaluating relevance conditions against answers.
//!
//! An item is shown (and may be answered) only when its group's condition and its own
//! condition hold. Blank answers (empty text, empty code list) count as unanswered.
use crate::answer::{AnswerValue, Answers};
use crate::expr::{EvalContext, eval_str};
use crate::questionnaire::{Condition, Group, Item, Questionnaire};

/// Whether `item` has a non-blank answer in `answers`.
pub fn is_answered(answers: &Answers, item: &str) -> bool {
    answers.get(item).is_some_and(value_is_answered)
}

/// Whether a value counts as an answer (whitespace-only text and empty code lists do not).
pub fn value_is_answered(value: &AnswerValue) -> bool {
    match value {
        AnswerValue::Int(_) => true,
        AnswerValue::Text(s) => !s.trim().is_empty(),
        AnswerValue::Codes(cs) => !cs.is_empty(),
    }
}

/// Evaluates a condition against the answers given; an unanswered item makes
/// `equals` / `in` false.
pub fn condition_holds(cond: &Condition, answers: &Answers) -> bool {
    condition_holds_on(cond, answers, None)
}

/// [`condition_holds`] with the date `today()` stands for in expressions (`YYYY-MM-DD`).
///
/// A string condition is an expression ([`crate::expr`]): it holds when its value is true
/// (a true boolean, a non-zero number or non-empty text). An expression that does not parse
/// never holds (the loader rejects such forms).
pub fn condition_holds_on(cond: &Condition, answers: &Answers, today: Option<&str>) -> bool {
    let answer = |item: &str| answers.get(item).filter(|v| value_is_answered(v));
    match cond {
        Condition::Equals { item, equals } => answer(item).is_some_and(|a| a.matches_json(equals)),
        Condition::In { item, values } => {
            answer(item).is_some_and(|a| values.iter().any(|v| a.matches_json(v)))
        }
        Condition::Answered { item, answered } => is_answered(answers, item) == *answered,
        Condition::All { all } => all.iter().all(|c| condition_holds_on(c, answers, today)),
        Condition::Any { any } => any.iter().any(|c| condition_holds_on(c, answers, today)),
        Condition::Not { not } => !condition_holds_on(not, answers, today),
        Condition::Expr(src) => {
            let ctx = EvalContext {
                answers: Some(answers),
                today,
                ..Default::default()
            };
            eval_str(src, &ctx).is_ok_and(|v| v.truthy())
        }
    }
}

/// Whether the group's own condition (if any) holds.
pub fn group_is_relevant(group: &Group, answers: &Answers) -> bool {
    group_is_relevant_on(group, answers, None)
}

/// [`group_is_relevant`] with the date `today()` stands for.
pub fn group_is_relevant_on(group: &Group, answers: &Answers, today: Option<&str>) -> bool {
    group
        .relevant
        .as_ref()
        .is_none_or(|c| condition_holds_on(c, answers, today))
}

/// Whether an item is relevant: its group is relevant and its own condition (if any) holds.
pub fn item_is_relevant(group: &Group, item: &Item, answers: &Answers) -> bool {
    item_is_relevant_on(group, item, answers, None)
}

/// [`item_is_relevant`] with the date `today()` stands for.
pub fn item_is_relevant_on(
    group: &Group,
    item: &Item,
    answers: &Answers,
    today: Option<&str>,
) -> bool {
    group_is_relevant_on(group, answers, today)
        && item
            .relevant
            .as_ref()
            .is_none_or(|c| condition_holds_on(c, answers, today))
}

/// The relevant items of the form in display order.
///
/// Skips cascade: evaluation walks the form in display order and ignores answers to items
/// that are themselves not relevant, so a stale answer to a skipped question never makes a
/// later question relevant. (Conditions only refer to earlier items; see
/// [`crate::form_loader::load_form`].)
pub fn relevant_items<'a>(
    form: &'a Questionnaire,
    answers: &Answers,
) -> Vec<(&'a Group, &'a Item)> {
    let mut effective = Answers::new();
    let mut out = Vec::new();
    for (group, item) in form.items() {
        if item_is_relevant(group, item, &effective) {
            if let Some(v) = answers.get(&item.code) {
                effective.insert(item.code.clone(), v.clone());
            }
            out.push((group, item));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(v: serde_json::Value) -> Condition {
        serde_json::from_value(v).unwrap()
    }

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn equals_truth_table() {
        let c = cond(json!({"item": "A", "equals": "yes"}));
        assert!(condition_holds(&c, &answers(json!({"A": "yes"}))));
        assert!(!condition_holds(&c, &answers(json!({"A": "no"}))));
        assert!(!condition_holds(&c, &answers(json!({}))));
        assert!(!condition_holds(&c, &answers(json!({"A": 1}))));
        assert!(condition_holds(&c, &answers(json!({"A": ["no", "yes"]}))));
        let n = cond(json!({"item": "N", "equals": 3}));
        assert!(condition_holds(&n, &answers(json!({"N": 3}))));
        assert!(!condition_holds(&n, &answers(json!({"N": 4}))));
        assert!(!condition_holds(&n, &answers(json!({"N": "3"}))));
        // A blank answer is no answer, even for an empty-string expectation.
        let e = cond(json!({"item": "A", "equals": ""}));
        assert!(!condition_holds(&e, &answers(json!({"A": ""}))));
    }

    #[test]
    fn in_truth_table() {
        let c = cond(json!({"item": "A", "in": ["a", "b"]}));
        assert!(condition_holds(&c, &answers(json!({"A": "a"}))));
        assert!(condition_holds(&c, &answers(json!({"A": "b"}))));
        assert!(!condition_holds(&c, &answers(json!({"A": "c"}))));
        assert!(!condition_holds(&c, &answers(json!({}))));
        // Multi-choice: any chosen code in the list.
        assert!(condition_holds(&c, &answers(json!({"A": ["c", "b"]}))));
        assert!(!condition_holds(&c, &answers(json!({"A": ["c", "d"]}))));
        assert!(!condition_holds(&c, &answers(json!({"A": []}))));
        let n = cond(json!({"item": "N", "in": [1, 2]}));
        assert!(condition_holds(&n, &answers(json!({"N": 2}))));
        assert!(!condition_holds(&n, &answers(json!({"N": 3}))));
    }

    #[test]
    fn answered_truth_table() {
        let yes = cond(json!({"item": "A", "answered": true}));
        let no = cond(json!({"item": "A", "answered": false}));
        for (a, expected) in [
            (json!({"A": "x"}), true),
            (json!({"A": 0}), true),
            (json!({"A": ["x"]}), true),
            (json!({"A": "  "}), false),
            (json!({"A": []}), false),
            (json!({}), false),
        ] {
            let a = answers(a);
            assert_eq!(condition_holds(&yes, &a), expected, "{a:?}");
            assert_eq!(condition_holds(&no, &a), !expected, "{a:?}");
        }
    }

    #[test]
    fn all_any_not_truth_tables() {
        let t = json!({"item": "T", "answered": true});
        let f = json!({"item": "F", "answered": true});
        let a = answers(json!({"T": 1}));
        let holds = |v| condition_holds(&cond(v), &a);
        assert!(holds(json!({"all": [t, t]})));
        assert!(!holds(json!({"all": [t, f]})));
        assert!(!holds(json!({"all": [f, f]})));
        assert!(holds(json!({"all": []})));
        assert!(holds(json!({"any": [t, f]})));
        assert!(holds(json!({"any": [f, t]})));
        assert!(!holds(json!({"any": [f, f]})));
        assert!(!holds(json!({"any": []})));
        assert!(!holds(json!({"not": t})));
        assert!(holds(json!({"not": f})));
        assert!(holds(json!({"not": {"all": [t, {"not": t}]}})));
    }

    fn form() -> Questionnaire {
        serde_json::from_value(json!({
            "format": 1, "form_id": "f", "version": "1", "title": {"vi": "Phiếu"},
            "groups": [
                {"code": "A", "kind": "screening", "title": {"vi": "A"}, "items": [
                    {"code": "A1", "type": "single_choice", "label": {"vi": "Có?"}, "options": [
                        {"value": "yes", "label": {"vi": "Có"}},
                        {"value": "no", "label": {"vi": "Không"}}]},
                    {"code": "A2", "type": "integer", "label": {"vi": "Số lần"},
                     "relevant": {"item": "A1", "equals": "yes"}}
                ]},
                {"code": "B", "kind": "assessment", "title": {"vi": "B"},
                 "relevant": {"item": "A2", "in": [2, 3]}, "items": [
                    {"code": "B1", "type": "text", "label": {"vi": "Ghi chú"}}
                ]}
            ]
        }))
        .unwrap()
    }

    fn codes(form: &Questionnaire, a: &Answers) -> Vec<String> {
        relevant_items(form, a)
            .into_iter()
            .map(|(_, i)| i.code.clone())
            .collect()
    }

    #[test]
    fn group_and_item_relevance() {
        let f = form();
        let (a, b) = (&f.groups[0], &f.groups[1]);
        let ans = answers(json!({"A1": "yes", "A2": 2}));
        assert!(item_is_relevant(a, &a.items[1], &ans));
        assert!(group_is_relevant(b, &ans));
        assert!(item_is_relevant(b, &b.items[0], &ans));
        let ans = answers(json!({"A1": "yes", "A2": 5}));
        assert!(!group_is_relevant(b, &ans));
        assert!(!item_is_relevant(b, &b.items[0], &ans));
    }

    #[test]
    fn relevant_items_cascade_skips() {
        let f = form();
        assert_eq!(codes(&f, &answers(json!({}))), ["A1"]);
        assert_eq!(
            codes(&f, &answers(json!({"A1": "yes", "A2": 3}))),
            ["A1", "A2", "B1"]
        );
        // A2 is skipped, so its stale answer must not make group B relevant.
        assert_eq!(codes(&f, &answers(json!({"A1": "no", "A2": 3}))), ["A1"]);
    }
}
