//! The UI evaluates skip logic live in JavaScript (`ui/relevance.js`); the Rust side
//! (`sipas_core::relevance`) decides at submit. This test runs both on the same generated
//! conditions, answers and forms and requires identical results, so the screen never shows
//! a question that submission would call "not relevant" (or hides one it requires).
//!
//! Needs `node`; without it the test is skipped, or fails when `CI` is set.
use serde_json::{Value, json};
use sipas_core::answer::Answers;
use sipas_core::questionnaire::{Condition, Questionnaire};
use sipas_core::relevance::{condition_holds, relevant_items};
use std::path::Path;
use std::process::Command;

/// Small deterministic generator (no dependency, same cases every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ITEMS: [&str; 4] = ["T", "N", "M", "X"];
const CODES: [&str; 3] = ["a", "b", "c"];

fn value(r: &mut Lcg) -> Value {
    match r.below(6) {
        0 => json!(CODES[r.below(3) as usize]),
        1 => json!(r.below(4)),
        2 => json!(""),
        3 => json!([]),
        4 => json!(["a", CODES[r.below(3) as usize]]),
        _ => json!(" "),
    }
}

fn cond(r: &mut Lcg, depth: u32) -> Value {
    let item = ITEMS[r.below(4) as usize];
    match if depth == 0 { r.below(3) } else { r.below(6) } {
        0 => {
            json!({"item": item, "equals": if r.below(2) == 0 { json!(CODES[r.below(3) as usize]) } else { json!(r.below(4)) }})
        }
        1 => json!({"item": item, "in": [CODES[r.below(3) as usize], r.below(4)]}),
        2 => json!({"item": item, "answered": r.below(2) == 0}),
        3 => json!({"all": (0..r.below(3)).map(|_| cond(r, depth - 1)).collect::<Vec<_>>()}),
        4 => json!({"any": (0..r.below(3)).map(|_| cond(r, depth - 1)).collect::<Vec<_>>()}),
        _ => json!({"not": cond(r, depth - 1)}),
    }
}

fn answers(r: &mut Lcg) -> Value {
    let mut m = serde_json::Map::new();
    for item in ITEMS {
        if r.below(3) > 0 {
            // Multi-choice style lists only as lists of strings; numbers and text as such.
            let v = value(r);
            m.insert(item.to_string(), v);
        }
    }
    Value::Object(m)
}

/// A form whose items (and one group) carry conditions on earlier items, so skips cascade.
fn form(r: &mut Lcg) -> Value {
    let mut groups = Vec::new();
    let mut earlier: Vec<String> = Vec::new();
    for g in 0..3 {
        let mut items = Vec::new();
        for i in 0..3 {
            let code = format!("Q{g}{i}");
            let mut item = json!({"code": code, "type": "text", "label": {"vi": "?"}});
            if !earlier.is_empty() && r.below(3) > 0 {
                let on = earlier[r.below(earlier.len() as u64) as usize].clone();
                item["relevant"] = match r.below(3) {
                    0 => json!({"item": on, "equals": CODES[r.below(3) as usize]}),
                    1 => json!({"item": on, "answered": true}),
                    _ => json!({"not": {"item": on, "in": ["a", "b"]}}),
                };
            }
            earlier.push(code);
            items.push(item);
        }
        let mut group = json!({"code": format!("G{g}"), "kind": "assessment", "title": {"vi": "G"}, "items": items});
        if g > 0 && r.below(2) == 0 {
            group["relevant"] = json!({"item": format!("Q{}0", g - 1), "in": ["a", "c"]});
        }
        groups.push(group);
    }
    json!({"format": 1, "form_id": "p", "version": "1", "title": {"vi": "P"}, "groups": groups})
}

fn form_answers(r: &mut Lcg) -> Value {
    let mut m = serde_json::Map::new();
    for g in 0..3 {
        for i in 0..3 {
            if r.below(2) == 0 {
                let v = match r.below(4) {
                    0 => json!(""),
                    _ => json!(CODES[r.below(3) as usize]),
                };
                m.insert(format!("Q{g}{i}"), v);
            }
        }
    }
    Value::Object(m)
}

const NODE_SCRIPT: &str = r#"
const fs = require('fs');
const vm = require('vm');
const [,, libPath, casesPath] = process.argv;
const ctx = { window: {} };
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(libPath, 'utf8'), ctx);
const R = ctx.window.SIPAS_RELEVANCE;
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const out = {
  conditions: cases.conditions.map(([c, a]) => R.conditionHolds(c, a)),
  forms: cases.forms.map(([f, a]) => R.relevantItems(f, a).map((x) => x.item.code)),
};
process.stdout.write(JSON.stringify(out));
"#;

#[test]
fn javascript_skip_logic_matches_rust() {
    if Command::new("node").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "node is needed to check ui/relevance.js"
        );
        eprintln!("relevance_parity: skipped, node not found");
        return;
    }
    let mut r = Lcg(0x5195_a5f1e1d);
    let conditions: Vec<(Value, Value)> = (0..3000)
        .map(|_| (cond(&mut r, 3), answers(&mut r)))
        .collect();
    let forms: Vec<(Value, Value)> = (0..500)
        .map(|_| (form(&mut r), form_answers(&mut r)))
        .collect();

    let expected_conditions: Vec<bool> = conditions
        .iter()
        .map(|(c, a)| {
            let c: Condition = serde_json::from_value(c.clone()).expect("condition");
            let a: Answers = serde_json::from_value(a.clone()).expect("answers");
            condition_holds(&c, &a)
        })
        .collect();
    let expected_forms: Vec<Vec<String>> = forms
        .iter()
        .map(|(f, a)| {
            let f: Questionnaire = serde_json::from_value(f.clone()).expect("form");
            let a: Answers = serde_json::from_value(a.clone()).expect("answers");
            relevant_items(&f, &a)
                .into_iter()
                .map(|(_, i)| i.code.clone())
                .collect()
        })
        .collect();
    // Both outcomes occur, so the comparison means something.
    assert!(expected_conditions.iter().any(|b| *b) && expected_conditions.iter().any(|b| !*b));

    let dir = tempfile::tempdir().expect("tempdir");
    let cases = dir.path().join("cases.json");
    let script = dir.path().join("parity.js");
    std::fs::write(
        &cases,
        json!({"conditions": conditions, "forms": forms}).to_string(),
    )
    .unwrap();
    std::fs::write(&script, NODE_SCRIPT).unwrap();
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/relevance.js");
    let out = Command::new("node")
        .arg(&script)
        .arg(&lib)
        .arg(&cases)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("node output");
    let got_conditions: Vec<bool> = serde_json::from_value(got["conditions"].clone()).unwrap();
    let got_forms: Vec<Vec<String>> = serde_json::from_value(got["forms"].clone()).unwrap();
    for (i, (js, rust)) in got_conditions.iter().zip(&expected_conditions).enumerate() {
        assert_eq!(js, rust, "condition case {i}: {}", json!(conditions[i]));
    }
    for (i, (js, rust)) in got_forms.iter().zip(&expected_forms).enumerate() {
        assert_eq!(js, rust, "form case {i}: {}", json!(forms[i]));
    }
    assert_eq!(got_conditions.len(), conditions.len());
    assert_eq!(got_forms.len(), forms.len());
}
