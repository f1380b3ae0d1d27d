//! Property tests of [`load_form`]: whatever text it is given — arbitrary strings, or the
//! shipped definitions mutated character by character or value by value — it never panics,
//! and it either returns a questionnaire or its documented error: one or more issues, each
//! with a JSON path starting at `$` and a message.
use proptest::prelude::*;
use serde_json::Value;
use sipas_core::builtin::BUILTIN_FORM_SOURCES;
use sipas_core::form_loader::{FormErrors, load_form};
use sipas_core::questionnaire::Questionnaire;

/// The documented outcome: a form, or at least one located, explained issue.
fn check_outcome(result: Result<Questionnaire, FormErrors>) -> Result<(), TestCaseError> {
    if let Err(errors) = result {
        prop_assert!(!errors.issues().is_empty(), "an error without issues");
        for issue in errors.issues() {
            prop_assert!(issue.path.starts_with('$'), "path {:?}", issue.path);
            prop_assert!(
                !issue.message.trim().is_empty(),
                "empty message at {}",
                issue.path
            );
        }
        prop_assert!(!errors.to_string().is_empty());
    }
    Ok(())
}

/// One character-level edit: delete, insert or replace at a relative position.
#[derive(Debug, Clone)]
enum Edit {
    Delete(f64, usize),
    Insert(f64, String),
    Replace(f64, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    let pos = 0.0..1.0f64;
    prop_oneof![
        (pos.clone(), 1..20usize).prop_map(|(p, n)| Edit::Delete(p, n)),
        (pos.clone(), "[\\[\\]{}\",:0-9a-zđệ\\\\ -]{1,6}").prop_map(|(p, s)| Edit::Insert(p, s)),
        (pos, any::<char>()).prop_map(|(p, c)| Edit::Replace(p, c)),
    ]
}

fn apply(source: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for e in edits {
        let at = |p: f64, len: usize| ((p * len as f64) as usize).min(len);
        match e {
            Edit::Delete(p, n) => {
                let i = at(*p, chars.len());
                let end = (i + n).min(chars.len());
                chars.drain(i..end);
            }
            Edit::Insert(p, s) => {
                let i = at(*p, chars.len());
                chars.splice(i..i, s.chars());
            }
            Edit::Replace(p, c) => {
                if !chars.is_empty() {
                    let i = at(*p, chars.len() - 1);
                    chars[i] = *c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9..1e9f64).prop_map(Value::from),
        "[a-zA-Z0-9_ đệ.$-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the node reached by following `path` (indices taken modulo each container's
/// size) with `new`; deletes it instead when `delete` and its parent is an object.
fn replace_node(node: &mut Value, path: &[usize], new: Value, delete: bool) {
    let Some((step, rest)) = path.split_first() else {
        *node = new;
        return;
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(step % map.len())
                .cloned()
                .unwrap_or_default();
            if rest.is_empty() && delete {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                replace_node(child, rest, new, delete);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            replace_node(&mut items[step % n], rest, new, delete);
        }
        _ => *node = new,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_outcome(load_form(&text))?;
    }

    #[test]
    fn json_looking_text_never_panics(text in "[\\[\\]{}\",:0-9a-z_ -]{0,200}") {
        check_outcome(load_form(&text))?;
    }

    #[test]
    fn character_edits_of_a_shipped_form_never_panic(
        form in 0..BUILTIN_FORM_SOURCES.len(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let mutated = apply(BUILTIN_FORM_SOURCES[form].1, &edits);
        check_outcome(load_form(&mutated))?;
    }

    #[test]
    fn value_edits_of_a_shipped_form_never_panic(
        form in 0..BUILTIN_FORM_SOURCES.len(),
        path in prop::collection::vec(any::<usize>(), 1..7),
        new in json_value(),
        delete in any::<bool>(),
    ) {
        let mut doc: Value = serde_json::from_str(BUILTIN_FORM_SOURCES[form].1).unwrap();
        replace_node(&mut doc, &path, new, delete);
        check_outcome(load_form(&doc.to_string()))?;
    }
}

#[test]
fn the_unmutated_forms_load() {
    for (path, source) in BUILTIN_FORM_SOURCES {
        assert!(load_form(source).is_ok(), "{path}");
    }
}
