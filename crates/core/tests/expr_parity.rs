//! The app's renderer evaluates form expressions live in JavaScript (`ui/expr.js`); the Rust
//! side (`sipas_core::expr`, `answer_validation`) decides at submit and on the server. This
//! test generates expressions covering every operator and function (blanks, numeric strings,
//! decimals, nested `if`, `selected` on multi-choice answers, dates), syntax errors, and form
//! states of a form with calculate / constraint / choice_filter items, writes them with the
//! Rust results to a JSON file and has node evaluate them with `ui/expr.js`: every result,
//! error position and message must be identical.
//!
//! Needs `node`; without it the test is skipped, or fails when `CI` is set.
use serde_json::{Value, json};
use sipas_core::answer::Answers;
use sipas_core::answer_validation::form_state;
use sipas_core::expr::{EvalContext, FUNCTIONS, parse};
use sipas_core::questionnaire::{ChoiceOption, Questionnaire};
use std::collections::BTreeMap;
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
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const ATOMS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "10",
    "2.5",
    "0.1",
    "0.2",
    ".5",
    "1.005",
    "100",
    "'3'",
    "'03'",
    "' 4 '",
    "'2.5'",
    "''",
    "'a'",
    "'b'",
    "'abc'",
    "'a b'",
    "'Việt'",
    "'x1'",
    "'-1'",
    "'1e3'",
    "'2000-12-03'",
    "'2026-02-28'",
    "'2024-02-29'",
    "'2026-02-30'",
    "\"hai\"",
    "${N}",
    "${T}",
    "${M}",
    "${E}",
    "${D}",
    "${X}",
    "${F}",
    "${Z}",
    ".",
    "unit",
    "kind",
    "true()",
    "false()",
    "today()",
];

const BINOPS: &[&str] = &[
    "or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod",
];

fn gen_expr(r: &mut Lcg, depth: u32) -> String {
    if depth == 0 {
        return r.pick(ATOMS).to_string();
    }
    match r.below(10) {
        0 | 1 => r.pick(ATOMS).to_string(),
        2..=4 => format!(
            "{} {} {}",
            gen_expr(r, depth - 1),
            r.pick(BINOPS),
            gen_expr(r, depth - 1)
        ),
        5 => format!("({})", gen_expr(r, depth - 1)),
        6 => format!("-{}", gen_expr(r, depth - 1)),
        _ => {
            let (name, min, max) = FUNCTIONS[r.below(FUNCTIONS.len() as u64) as usize];
            let n = if max == usize::MAX {
                min + r.below(3) as usize
            } else {
                min + r.below((max - min + 1) as u64) as usize
            };
            let args: Vec<String> = (0..n).map(|_| gen_expr(r, depth - 1)).collect();
            format!("{name}({})", args.join(", "))
        }
    }
}

/// Hand-written cases: each operator and function on blanks, numeric strings, decimals,
/// nested `if`, multi-choice, dates.
const FIXED: &[&str] = &[
    "1 + 2 * 3",
    "(1 + 2) * 3",
    "10 - 2 - 3",
    "7 div 2",
    "7 mod 3",
    "-7 mod 3",
    "7.5 mod 2",
    "1 div 0",
    "1 mod 0",
    "0.1 + 0.2",
    "0.1 * 3",
    "-0",
    "- - 2",
    "'2' * '3'",
    "'a' + 1",
    "${X} + 1",
    "${X} = ''",
    "${E} = ''",
    "${X} = 0",
    "${X} != 0",
    "${X} < 3",
    "${X} >= 3",
    "${N} = '5'",
    "${T} = 5",
    "${T} < 10",
    "'10' < '9'",
    "'10' < 'a9'",
    "'abc' < 'abd'",
    "'b' >= 'a'",
    "${D} < '2001-01-01'",
    "${M}",
    "selected(${M}, 'b')",
    "selected(${M}, ' b ')",
    "selected(${M}, 'c')",
    "selected(${X}, 'a')",
    "count-selected(${M})",
    "count-selected(${X})",
    "count-selected('a  b   c')",
    "string-length(${T})",
    "string-length('Nguyễn')",
    "string-length(${X})",
    "if(${N} > 3, 'nhiều', 'ít')",
    "if(${X}, 1, if(${N}, 2, if(${M}, 3, 4)))",
    "if('', 1, 0)",
    "if('0', 1, 0)",
    "if(0, 1, 0)",
    "coalesce(${X}, 'none')",
    "coalesce(${N}, 'none')",
    "coalesce('', '')",
    "not(${X})",
    "not(0)",
    "not('false')",
    "int('-3.7')",
    "int(3.7)",
    "int('x')",
    "number('2.50')",
    "number(' 7 ')",
    "number('x')",
    "number(true())",
    "string(1.50)",
    "string(true())",
    "string(0.1 + 0.2)",
    "string(${X})",
    "concat('a', 1, true(), ${X}, 2.5)",
    "concat(${M}, '|', ${D})",
    "round(2.5)",
    "round(-2.5)",
    "round(3.14159, 2)",
    "round(1.005, 2)",
    "round(1234.5678, -1)",
    "round(2.5, 'x')",
    "round('x')",
    "round(0.49999999999999994)",
    "today()",
    "contains(${T}, '5')",
    "contains('', '')",
    "starts-with('Việt Nam', 'Việt')",
    "starts-with('abc', 'b')",
    "ends-with('abc', 'bc')",
    "date-diff-years(${D}, today())",
    "date-diff-years('2000-12-03', '2026-12-03')",
    "date-diff-years('2026-12-03', '2000-12-02')",
    "date-diff-years('2024-02-29', '2025-02-28')",
    "date-diff-years('2024-02-29', '2028-02-29')",
    "date-diff-years('2026-02-30', '2027-01-01')",
    "date-diff-years(' 2000-01-01 ', '2001-01-01')",
    "date-diff-years(${X}, today())",
    "true() = 1",
    "${X} = false()",
    "1 = 1 and 0",
    "1 < 2 < 3",
    "3 > 2 > 1",
    "1 < 2 and 2 < 1 or 3 = 3",
    "unit = '95001' and kind != ''",
    ". >= 18 and . <= 120",
    "selected(., 'a')",
    "100000000000000000000000 * 10",
    "0.0000001 * 1",
    "string(100000000000000000000000 * 10)",
    "string(0.0000001)",
    "${F} * 2",
    "${Z} = 'x'",
];

/// Invalid expressions: every error kind of the parser.
const INVALID: &[&str] = &[
    "",
    "   ",
    "${A} = ",
    "1 + # 2",
    "'abc",
    "\"abc",
    "${A B} = 1",
    "${} = 1",
    "$A",
    "${1A}",
    "foo(1)",
    "if(1, 2)",
    "round()",
    "round(1, 2, 3)",
    "concat()",
    "today(1)",
    "(1 + 2",
    "1 2",
    "'ấ' = @",
    "1 +",
    "selected(${A} 'x')",
    ")",
    "(,)",
    "1 == 2",
    "a !b",
    "not(",
    "1 = = 2",
    "${A}}",
];

fn answers(r: &mut Lcg) -> Value {
    let mut m = serde_json::Map::new();
    let choose = |r: &mut Lcg, xs: &[Value]| xs[r.below(xs.len() as u64) as usize].clone();
    let cands: [(&str, Vec<Value>); 7] = [
        (
            "N",
            vec![json!(5), json!(0), json!(-3), json!(18), json!(120)],
        ),
        (
            "T",
            vec![
                json!("05"),
                json!("abc"),
                json!("2.5"),
                json!(" 7 "),
                json!("Việt Nam"),
                json!("  "),
            ],
        ),
        ("M", vec![json!(["a", "b"]), json!(["c"]), json!([])]),
        ("E", vec![json!("")]),
        (
            "D",
            vec![
                json!("2000-12-03"),
                json!("2026-12-02"),
                json!("2024-02-29"),
                json!("2026-13-01"),
            ],
        ),
        ("F", vec![json!("0.5"), json!("true"), json!(1)]),
        ("Z", vec![json!("x"), json!(["x"])]),
    ];
    for (k, vs) in cands {
        if r.below(5) > 0 {
            m.insert(k.into(), choose(r, &vs));
        }
    }
    Value::Object(m)
}

fn current(r: &mut Lcg) -> Value {
    match r.below(6) {
        0 => Value::Null,
        1 => json!(17),
        2 => json!(40),
        3 => json!("a"),
        4 => json!(["a", "b"]),
        _ => json!(""),
    }
}

fn attrs(r: &mut Lcg) -> Value {
    match r.below(3) {
        0 => json!({}),
        1 => json!({"unit": "95001", "kind": "ubnd"}),
        _ => json!({"unit": "95", "kind": ""}),
    }
}

/// A form using every new field: calculate (chained, on decimals, on dates), constraint with
/// and without message, choice_filter on own options with attrs and on a catalogue, string
/// relevance on items and a group, min/max with constraint_message, max_length, required.
fn parity_form() -> Value {
    json!({
        "format": 1, "form_id": "parity", "version": "1", "title": {"vi": "Phiếu"},
        "groups": [
            {"code": "A", "kind": "profile", "title": {"vi": "A"}, "items": [
                {"code": "BIRTH", "type": "date", "label": {"vi": "Ngày sinh"},
                 "constraint": ". < today()",
                 "constraint_message": {"vi": "Ngày sinh phải trước hôm nay.", "en": "Birth date must be before today."}},
                {"code": "AGE", "type": "calculate", "calculation": "date-diff-years(${BIRTH}, today())",
                 "label": {"vi": "Tuổi"}},
                {"code": "N", "type": "integer", "label": {"vi": "Số lần"}, "required": true,
                 "min": 1, "max": 10, "constraint": ". != 7",
                 "constraint_message": {"vi": "Không được là 7."}},
                {"code": "HALF", "type": "calculate", "calculation": "${N} div 2", "label": {"vi": "Nửa"}},
                {"code": "BIG", "type": "calculate", "calculation": "if(${HALF} > 2, 'yes', '')",
                 "label": {"vi": "Lớn"}},
                {"code": "CH", "type": "multi_choice", "label": {"vi": "Kênh"}, "options": [
                    {"value": "a", "label": {"vi": "A"}},
                    {"value": "b", "label": {"vi": "B"}},
                    {"value": "c", "label": {"vi": "C"}}]},
                {"code": "NOTE", "type": "text", "label": {"vi": "Ghi chú"}, "max_length": 5,
                 "relevant": "selected(${CH}, 'b') or count-selected(${CH}) > 1",
                 "constraint": "not(contains(., 'x'))"}
            ]},
            {"code": "B", "kind": "screening", "title": {"vi": "B"},
             "relevant": "${AGE} >= 18 or ${AGE} = ''", "items": [
                {"code": "PROV", "type": "single_choice", "label": {"vi": "Tỉnh"}, "options": [
                    {"value": "79", "label": {"vi": "TP HCM"}, "attrs": {"region": "south"}},
                    {"value": "01", "label": {"vi": "Hà Nội"}, "attrs": {"region": "north"}},
                    {"value": "95", "label": {"vi": "Bạc Liêu"}, "attrs": {"region": "south"}}],
                 "choice_filter": "region = 'south' or ${BIG} = 'yes'"},
                {"code": "AG", "type": "single_choice", "label": {"vi": "Cơ quan"},
                 "choices_from": "agencies", "choice_filter": "unit = ${PROV}", "required": true},
                {"code": "SUM", "type": "calculate", "label": {"vi": "Tổng"},
                 "calculation": "concat(${PROV}, '-', ${AG}, '-', round(${N} * 1.5, 1))"}
            ]}
        ]
    })
}

fn catalogue() -> Value {
    json!({"agencies": [
        {"value": "ag1", "label": {"vi": "UBND 79"}, "attrs": {"unit": "79", "kind": "ubnd"}},
        {"value": "ag2", "label": {"vi": "Sở 79"}, "attrs": {"unit": "79", "kind": "so"}},
        {"value": "ag3", "label": {"vi": "UBND 95"}, "attrs": {"unit": "95", "kind": "ubnd"}}
    ]})
}

fn form_answers(r: &mut Lcg) -> Value {
    let mut m = serde_json::Map::new();
    let pairs: [(&str, Vec<Value>); 8] = [
        (
            "BIRTH",
            vec![
                json!("2000-12-03"),
                json!("2010-01-01"),
                json!("2030-01-01"),
                json!(""),
            ],
        ),
        (
            "N",
            vec![json!(1), json!(4), json!(7), json!(10), json!(11), json!(0)],
        ),
        (
            "CH",
            vec![json!(["a"]), json!(["b"]), json!(["a", "c"]), json!([])],
        ),
        (
            "NOTE",
            vec![json!("ok"), json!("xin chào"), json!("x"), json!("  ")],
        ),
        ("PROV", vec![json!("79"), json!("01"), json!("95")]),
        ("AG", vec![json!("ag1"), json!("ag3")]),
        ("AGE", vec![json!(99)]),
        ("HALF", vec![json!("stale")]),
    ];
    for (k, vs) in pairs {
        if r.below(4) > 0 {
            m.insert(k.into(), vs[r.below(vs.len() as u64) as usize].clone());
        }
    }
    Value::Object(m)
}

const NODE_SCRIPT: &str = r#"
const fs = require('fs');
const vm = require('vm');
const [,, uiDir, casesPath] = process.argv;
const ctx = { window: {} };
vm.createContext(ctx);
for (const f of ['relevance.js', 'expr.js']) vm.runInContext(fs.readFileSync(uiDir + '/' + f, 'utf8'), ctx);
const E = ctx.window.SIPAS_EXPR;
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8'));
const canon = (v) => {
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (v && typeof v === 'object') return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canon(v[k])).join(',') + '}';
  return JSON.stringify(v);
};
const mismatches = [];
let evaluated = 0; let errors = 0; let states = 0;
for (const c of cases.exprs) {
  let got;
  try {
    const ast = E.parse(c.src);
    got = { value: E.evaluate(ast, { answers: c.answers, current: c.current === null ? undefined : c.current, attrs: c.attrs, today: c.today === null ? undefined : c.today }) };
  } catch (e) {
    if (e.name !== 'ParseError') throw e;
    got = { error: { pos: e.pos, vi: e.vi, en: e.en } };
  }
  if (got.error) errors += 1; else evaluated += 1;
  if (canon(got) !== canon(c.expected)) mismatches.push({ src: c.src, case: c, js: got });
}
for (const c of cases.states) {
  const st = E.formState(cases.form, c.answers, { today: c.today === null ? undefined : c.today, options: cases.catalogue });
  const choices = {};
  for (const k of Object.keys(st.choices)) choices[k] = st.choices[k].map((o) => o.value);
  const got = { visible: Array.from(st.visible), values: st.values, errors: st.errors, choices };
  states += 1;
  if (canon(got) !== canon(c.expected)) mismatches.push({ state: c, js: got });
}
process.stdout.write(JSON.stringify({ evaluated, errors, states, mismatches: mismatches.slice(0, 20), total_mismatches: mismatches.length }));
"#;

fn rust_eval(src: &str, answers: &Value, current: &Value, attrs: &Value, today: &Value) -> Value {
    match parse(src) {
        Err(e) => json!({"error": {"pos": e.pos, "vi": e.vi, "en": e.en}}),
        Ok(ast) => {
            let a: Answers = serde_json::from_value(answers.clone()).expect("answers");
            let cur =
                (!current.is_null()).then(|| serde_json::from_value(current.clone()).unwrap());
            let at: BTreeMap<String, String> = serde_json::from_value(attrs.clone()).unwrap();
            let ctx = EvalContext {
                answers: Some(&a),
                current: cur.as_ref(),
                attrs: Some(&at),
                today: today.as_str(),
            };
            json!({"value": sipas_core::expr::evaluate(&ast, &ctx).to_json()})
        }
    }
}

#[test]
fn javascript_expressions_match_rust() {
    if Command::new("node").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "node is needed to check ui/expr.js"
        );
        eprintln!("expr_parity: skipped, node not found");
        return;
    }
    let mut r = Lcg(0x0e4b_7a11_2026);
    let mut sources: Vec<String> = FIXED.iter().chain(INVALID).map(|s| s.to_string()).collect();
    sources.extend((0..4000).map(|_| gen_expr(&mut r, 3)));
    // Garbage made of the language's own characters, for parse errors at every position.
    let pieces = [
        "${A}", "(", ")", ",", "'", "1", "+", "and", "if", "$", "#", " ", ".", "=", "!",
    ];
    sources.extend((0..500).map(|_| {
        (0..1 + r.below(6))
            .map(|_| r.pick(&pieces))
            .collect::<String>()
    }));

    // Every function and operator of the language occurs in the cases.
    let all = sources.join(" ");
    for (f, _, _) in FUNCTIONS {
        assert!(all.contains(&format!("{f}(")), "no case uses {f}");
    }
    for op in BINOPS {
        assert!(all.contains(&format!(" {op} ")), "no case uses {op}");
    }

    let mut exprs = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        // The fixed cases run against two contexts each; generated ones against one.
        let runs = if i < FIXED.len() { 2 } else { 1 };
        for _ in 0..runs {
            let answers = answers(&mut r);
            let current = current(&mut r);
            let attrs = attrs(&mut r);
            let today = if r.below(4) == 0 {
                Value::Null
            } else {
                json!("2026-12-02")
            };
            let expected = rust_eval(src, &answers, &current, &attrs, &today);
            exprs.push(json!({"src": src, "answers": answers, "current": current,
                              "attrs": attrs, "today": today, "expected": expected}));
        }
    }
    let values = exprs
        .iter()
        .filter(|c| c["expected"].get("value").is_some());
    let kinds: Vec<&str> = values
        .map(|c| match &c["expected"]["value"] {
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(s) if s.is_empty() => "empty",
            _ => "text",
        })
        .collect();
    for k in ["bool", "number", "empty", "text"] {
        assert!(
            kinds.iter().filter(|x| **x == k).count() > 100,
            "too few {k} results"
        );
    }

    let form_json = parity_form();
    let form: Questionnaire = sipas_core::form_loader::load_form(&form_json.to_string())
        .unwrap_or_else(|e| panic!("parity form: {e}"));
    let catalogue_json = catalogue();
    let cat: BTreeMap<String, Vec<ChoiceOption>> =
        serde_json::from_value(catalogue_json.clone()).unwrap();
    let mut states = Vec::new();
    let mut error_kinds = std::collections::BTreeSet::new();
    for i in 0..600 {
        let answers_json = form_answers(&mut r);
        let today = if i % 5 == 0 {
            Value::Null
        } else {
            json!("2026-12-02")
        };
        let a: Answers = serde_json::from_value(answers_json.clone()).unwrap();
        let st = form_state(&form, &a, today.as_str(), &cat);
        for e in st.errors.values() {
            error_kinds.insert(format!("{:?}", e.kind));
        }
        let choices: BTreeMap<&String, Vec<&str>> = st
            .choices
            .iter()
            .map(|(k, os)| (k, os.iter().map(|o| o.value.as_str()).collect()))
            .collect();
        let expected = json!({"visible": st.visible, "values": st.values,
                              "errors": st.errors, "choices": choices});
        states.push(json!({"answers": answers_json, "today": today, "expected": expected}));
    }
    assert_eq!(
        error_kinds.len(),
        4,
        "constraint, out of range, too long and required all occur: {error_kinds:?}"
    );

    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("expr-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = dir.join("cases.json");
    let script = dir.join("parity.js");
    std::fs::write(
        &cases,
        json!({"exprs": exprs, "states": states, "form": form_json, "catalogue": catalogue_json})
            .to_string(),
    )
    .unwrap();
    std::fs::write(&script, NODE_SCRIPT).unwrap();
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui");
    let out = Command::new("node")
        .arg(&script)
        .arg(&ui)
        .arg(&cases)
        .output()
        .expect("run node");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("node output");
    assert_eq!(
        got["total_mismatches"], 0,
        "JS and Rust differ: {:#}",
        got["mismatches"]
    );
    let errors = exprs
        .iter()
        .filter(|c| c["expected"].get("error").is_some())
        .count();
    assert_eq!(got["errors"], errors);
    assert_eq!(got["evaluated"], exprs.len() - errors);
    assert_eq!(got["states"], states.len());
    assert!(errors > 100, "only {errors} parse errors");
}
