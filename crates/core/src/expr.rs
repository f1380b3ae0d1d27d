//! The form expression language: `relevant` strings, `constraint`, `calculation` and
//! `choice_filter` (XLSForm-like syntax; the full reference is in `schemas/README.md`).
//!
//! One parse ([`parse`]) yields an [`Expr`] tree; [`evaluate`] computes a [`Value`] against an
//! [`EvalContext`]. The app's renderer runs the same language in JavaScript (`ui/expr.js`);
//! a parity test (`crates/core/tests/expr_parity.rs`) requires both to agree on every
//! operator and function.
//!
//! Values are numbers, text, booleans or empty. There are no run-time errors: an operation
//! that has no sensible result (arithmetic on a blank or on text, division by zero, a date
//! that is not a date) yields empty.
use crate::answer::{AnswerValue, Answers};
use std::collections::BTreeMap;
use std::fmt;

/// A value of the expression language.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Blank: an unanswered or not-relevant item, `''`, or an operation without a result.
    Empty,
    /// A number (always finite).
    Num(f64),
    /// Non-empty text (choice codes, text answers, dates `YYYY-MM-DD`; a multi-choice answer is
    /// its codes separated by single spaces).
    Text(String),
    /// A boolean (comparison, `and`, `or`, `not()`, `true()` …).
    Bool(bool),
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal.
    Num(f64),
    /// A text literal.
    Str(String),
    /// `${CODE}`: the answer of an item.
    Ref(String),
    /// `.`: the value being checked (constraint) .
    Current,
    /// A bare name: an option attribute inside `choice_filter`.
    Attr(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operator.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A function call (name and arity are checked by the parser).
    Call(String, Vec<Expr>),
}

/// Binary operators, lowest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `div`
    Div,
    /// `mod`
    Mod,
}

/// A syntax error, with the 0-based character position where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct ParseError {
    /// 0-based character offset in the expression (messages show it 1-based).
    pub pos: usize,
    /// Vietnamese message.
    pub vi: String,
    /// English message.
    pub en: String,
}

/// The functions of the language with their minimum and maximum number of arguments
/// (`usize::MAX`: any number).
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("selected", 2, 2),
    ("count-selected", 1, 1),
    ("string-length", 1, 1),
    ("if", 3, 3),
    ("coalesce", 2, 2),
    ("not", 1, 1),
    ("int", 1, 1),
    ("number", 1, 1),
    ("string", 1, 1),
    ("concat", 1, usize::MAX),
    ("round", 1, 2),
    ("today", 0, 0),
    ("contains", 2, 2),
    ("starts-with", 2, 2),
    ("ends-with", 2, 2),
    ("date-diff-years", 2, 2),
    ("true", 0, 0),
    ("false", 0, 0),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ref(String),
    Dot,
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Num(n) => write!(f, "{}", format_number(*n)),
            Tok::Str(s) => write!(f, "'{s}'"),
            Tok::Ref(c) => write!(f, "${{{c}}}"),
            Tok::Dot => f.write_str("."),
            Tok::Name(n) => f.write_str(n),
            Tok::Op(o) => f.write_str(o),
            Tok::LParen => f.write_str("("),
            Tok::RParen => f.write_str(")"),
            Tok::Comma => f.write_str(","),
        }
    }
}

fn err(pos: usize, vi: String, en: String) -> ParseError {
    ParseError { pos, vi, en }
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits the source into tokens with their character positions.
fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '.' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let n: f64 = text.parse().unwrap_or(0.0);
            out.push((Tok::Num(n), start));
            continue;
        }
        if c == '\'' || c == '"' {
            let Some(len) = chars[i + 1..].iter().position(|&d| d == c) else {
                return Err(err(
                    start,
                    format!(
                        "Chuỗi bắt đầu tại vị trí {} chưa có dấu nháy đóng.",
                        start + 1
                    ),
                    format!(
                        "The text starting at position {} has no closing quote.",
                        start + 1
                    ),
                ));
            };
            let s: String = chars[i + 1..i + 1 + len].iter().collect();
            out.push((Tok::Str(s), start));
            i += len + 2;
            continue;
        }
        if c == '$' {
            let close = if chars.get(i + 1) == Some(&'{') {
                chars[i + 2..].iter().position(|&d| d == '}')
            } else {
                None
            };
            let code: Option<String> = close.map(|len| chars[i + 2..i + 2 + len].iter().collect());
            match code {
                Some(code) if is_item_code(&code) => {
                    i += code.chars().count() + 3;
                    out.push((Tok::Ref(code), start));
                    continue;
                }
                _ => {
                    return Err(err(
                        start,
                        format!(
                            "Tham chiếu tại vị trí {} không hợp lệ: cần dạng ${{MÃ_CÂU}}.",
                            start + 1
                        ),
                        format!(
                            "Invalid reference at position {}: use the form ${{ITEM_CODE}}.",
                            start + 1
                        ),
                    ));
                }
            }
        }
        if is_name_start(c) {
            i += 1;
            while i < chars.len()
                && (is_name_char(chars[i])
                    || (chars[i] == '-'
                        && chars.get(i + 1).is_some_and(|d| d.is_ascii_alphabetic())))
            {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let tok = match name.as_str() {
                "and" => Tok::Op("and"),
                "or" => Tok::Op("or"),
                "div" => Tok::Op("div"),
                "mod" => Tok::Op("mod"),
                _ => Tok::Name(name),
            };
            out.push((tok, start));
            continue;
        }
        let next = chars.get(i + 1).copied();
        let (tok, len) = match (c, next) {
            ('!', Some('=')) => (Tok::Op("!="), 2),
            ('<', Some('=')) => (Tok::Op("<="), 2),
            ('>', Some('=')) => (Tok::Op(">="), 2),
            ('=', _) => (Tok::Op("="), 1),
            ('<', _) => (Tok::Op("<"), 1),
            ('>', _) => (Tok::Op(">"), 1),
            ('+', _) => (Tok::Op("+"), 1),
            ('-', _) => (Tok::Op("-"), 1),
            ('*', _) => (Tok::Op("*"), 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            ('.', _) => (Tok::Dot, 1),
            _ => {
                return Err(err(
                    start,
                    format!("Ký tự không hợp lệ '{c}' tại vị trí {}.", start + 1),
                    format!("Unexpected character '{c}' at position {}.", start + 1),
                ));
            }
        };
        out.push((tok, start));
        i += len;
    }
    Ok(out)
}

/// Whether `s` is an item code (`^[A-Za-z][A-Za-z0-9_-]*$`).
fn is_item_code(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
}

const LEVELS: &[&[(&str, BinOp)]] = &[
    &[("or", BinOp::Or)],
    &[("and", BinOp::And)],
    &[("=", BinOp::Eq), ("!=", BinOp::Ne)],
    &[
        ("<", BinOp::Lt),
        ("<=", BinOp::Le),
        (">", BinOp::Gt),
        (">=", BinOp::Ge),
    ],
    &[("+", BinOp::Add), ("-", BinOp::Sub)],
    &[("*", BinOp::Mul), ("div", BinOp::Div), ("mod", BinOp::Mod)],
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(t, _)| t)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(_, p)| *p)
    }

    fn unexpected(&self) -> ParseError {
        match self.toks.get(self.at) {
            None => err(
                self.end,
                "Biểu thức kết thúc đột ngột (thiếu toán hạng hoặc dấu ')').".into(),
                "The expression ends too early (an operand or ')' is missing).".into(),
            ),
            Some((t, p)) => err(
                *p,
                format!("Không mong đợi '{t}' tại vị trí {}.", p + 1),
                format!("Unexpected '{t}' at position {}.", p + 1),
            ),
        }
    }

    fn binary(&mut self, level: usize) -> Result<Expr, ParseError> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Some(Tok::Op(o)) => LEVELS[level].iter().find(|(s, _)| s == o).map(|(_, b)| *b),
                _ => None,
            };
            let Some(op) = op else { return Ok(left) };
            self.at += 1;
            let right = self.binary(level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Tok::Op("-")) {
            self.at += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let Some((tok, pos)) = self.toks.get(self.at).cloned() else {
            return Err(self.unexpected());
        };
        match tok {
            Tok::Num(n) => {
                self.at += 1;
                Ok(Expr::Num(n))
            }
            Tok::Str(s) => {
                self.at += 1;
                Ok(Expr::Str(s))
            }
            Tok::Ref(c) => {
                self.at += 1;
                Ok(Expr::Ref(c))
            }
            Tok::Dot => {
                self.at += 1;
                Ok(Expr::Current)
            }
            Tok::LParen => {
                self.at += 1;
                let e = self.binary(0)?;
                self.close_paren()?;
                Ok(e)
            }
            Tok::Name(name) => {
                self.at += 1;
                if self.peek() != Some(&Tok::LParen) {
                    return Ok(Expr::Attr(name));
                }
                self.at += 1;
                let mut args = Vec::new();
                if self.peek() == Some(&Tok::RParen) {
                    self.at += 1;
                } else {
                    loop {
                        args.push(self.binary(0)?);
                        match self.peek() {
                            Some(Tok::Comma) => self.at += 1,
                            _ => {
                                self.close_paren()?;
                                break;
                            }
                        }
                    }
                }
                check_call(&name, args.len(), pos)?;
                Ok(Expr::Call(name, args))
            }
            _ => Err(self.unexpected()),
        }
    }

    fn close_paren(&mut self) -> Result<(), ParseError> {
        if self.peek() == Some(&Tok::RParen) {
            self.at += 1;
            return Ok(());
        }
        let p = self.pos();
        Err(err(
            p,
            format!("Thiếu dấu ')' tại vị trí {}.", p + 1),
            format!("Missing ')' at position {}.", p + 1),
        ))
    }
}

fn check_call(name: &str, n: usize, pos: usize) -> Result<(), ParseError> {
    let Some(&(_, min, max)) = FUNCTIONS.iter().find(|(f, _, _)| *f == name) else {
        return Err(err(
            pos,
            format!("Hàm không xác định '{name}' tại vị trí {}.", pos + 1),
            format!("Unknown function '{name}' at position {}.", pos + 1),
        ));
    };
    if n >= min && n <= max {
        return Ok(());
    }
    let (vi, en) = if min == max {
        (format!("{min}"), format!("{min}"))
    } else if max == usize::MAX {
        (format!("ít nhất {min}"), format!("at least {min}"))
    } else {
        (format!("{min} hoặc {max}"), format!("{min} or {max}"))
    };
    Err(err(
        pos,
        format!(
            "Hàm '{name}' cần {vi} tham số, nhưng có {n} (vị trí {}).",
            pos + 1
        ),
        format!(
            "Function '{name}' takes {en} argument(s) but got {n} (position {}).",
            pos + 1
        ),
    ))
}

/// Parses an expression; unknown functions and wrong numbers of arguments are syntax errors.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks,
        at: 0,
        end: src.chars().count(),
    };
    let e = p.binary(0)?;
    if p.at < p.toks.len() {
        return Err(p.unexpected());
    }
    Ok(e)
}

impl Expr {
    /// Every `${CODE}` in the expression, in order of appearance (with repeats).
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Ref(c) = e {
                out.push(c.as_str());
            }
        });
        out
    }

    /// Every bare name (option attribute) in the expression.
    pub fn attrs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Attr(c) = e {
                out.push(c.as_str());
            }
        });
        out
    }

    /// Whether the expression uses `.`.
    pub fn uses_current(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| found |= matches!(e, Expr::Current));
        found
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Neg(e) => e.walk(f),
            Expr::Binary(_, l, r) => {
                l.walk(f);
                r.walk(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }
}

/// What an expression is evaluated against.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalContext<'a> {
    /// The effective answers: only relevant items (and computed calculations).
    pub answers: Option<&'a Answers>,
    /// The value `.` stands for (the item's own answer in a constraint).
    pub current: Option<&'a AnswerValue>,
    /// The option attributes in scope as bare names (inside `choice_filter`).
    pub attrs: Option<&'a BTreeMap<String, String>>,
    /// `today()`: the date part `YYYY-MM-DD` of the response's `started_at`.
    pub today: Option<&'a str>,
}

impl Value {
    /// Text, or empty when `s` is empty.
    pub fn text(s: impl Into<String>) -> Value {
        let s = s.into();
        if s.is_empty() {
            Value::Empty
        } else {
            Value::Text(s)
        }
    }

    /// The value of a stored answer: blank text and empty code lists are empty; a multi-choice
    /// answer is its codes joined by single spaces.
    pub fn from_answer(a: Option<&AnswerValue>) -> Value {
        match a {
            None => Value::Empty,
            Some(AnswerValue::Int(n)) => Value::Num(*n as f64),
            Some(AnswerValue::Text(s)) if s.trim().is_empty() => Value::Empty,
            Some(AnswerValue::Text(s)) => Value::Text(s.clone()),
            Some(AnswerValue::Codes(cs)) => Value::text(cs.join(" ")),
        }
    }

    /// The number this value stands for: numbers, booleans (1 / 0) and numeric text
    /// (`12`, `-3.5`, `.5`, surrounding spaces allowed); `None` otherwise.
    pub fn to_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Text(s) => numeric_text(s.trim()),
            Value::Empty => None,
        }
    }

    /// The text of this value (`''` for empty, `true` / `false`, numbers without a trailing `.0`).
    pub fn to_text(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Num(n) => format_number(*n),
            Value::Text(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
        }
    }

    /// Truth value: booleans as such, numbers when not 0, text when not empty.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Empty => false,
            Value::Num(n) => *n != 0.0,
            Value::Text(_) => true,
            Value::Bool(b) => *b,
        }
    }

    /// How a calculation result is stored: a whole number as an integer, anything else as
    /// text; empty is not stored.
    pub fn to_answer(&self) -> Option<AnswerValue> {
        match self {
            Value::Empty => None,
            Value::Num(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 => {
                Some(AnswerValue::Int(*n as i64))
            }
            other => Some(AnswerValue::Text(other.to_text())),
        }
    }

    /// JSON form used by the parity test and the app: number, string, boolean, `""` for empty.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Empty => serde_json::Value::String(String::new()),
            Value::Num(n) => serde_json::json!(n),
            Value::Text(s) => serde_json::Value::String(s.clone()),
            Value::Bool(b) => serde_json::Value::Bool(*b),
        }
    }
}

/// `^[+-]?(\d+(\.\d*)?|\.\d+)$` as a number.
fn numeric_text(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |t: &str| t.chars().all(|c| c.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    if ok { s.parse().ok() } else { None }
}

/// Number to text like JavaScript's `String(n)` for ordinary magnitudes, but never in
/// exponent form and `0` for negative zero.
pub fn format_number(n: f64) -> String {
    if n == 0.0 { "0".into() } else { format!("{n}") }
}

fn num(v: f64) -> Value {
    if v.is_finite() {
        Value::Num(if v == 0.0 { 0.0 } else { v })
    } else {
        Value::Empty
    }
}

fn compare_eq(a: &Value, b: &Value) -> bool {
    if matches!(a, Value::Bool(_)) || matches!(b, Value::Bool(_)) {
        return a.truthy() == b.truthy();
    }
    match (a.to_num(), b.to_num()) {
        (Some(x), Some(y)) => x == y,
        _ => a.to_text() == b.to_text(),
    }
}

/// `<` / `<=` / `>` / `>=`: numeric when both sides are numbers, text otherwise; a blank side
/// makes the comparison false.
fn compare_order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    if matches!(a, Value::Empty) || matches!(b, Value::Empty) {
        return None;
    }
    match (a.to_num(), b.to_num()) {
        (Some(x), Some(y)) => x.partial_cmp(&y),
        _ => Some(a.to_text().cmp(&b.to_text())),
    }
}

/// Parses `YYYY-MM-DD` (a real calendar date) into (year, month, day).
fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if !b
        .iter()
        .enumerate()
        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
    {
        return None;
    }
    let y: i64 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}

/// Evaluates a parsed expression.
pub fn evaluate(e: &Expr, ctx: &EvalContext<'_>) -> Value {
    match e {
        Expr::Num(n) => num(*n),
        Expr::Str(s) => Value::text(s.clone()),
        Expr::Ref(c) => Value::from_answer(ctx.answers.and_then(|a| a.get(c))),
        Expr::Current => Value::from_answer(ctx.current),
        Expr::Attr(n) => ctx
            .attrs
            .and_then(|a| a.get(n))
            .map_or(Value::Empty, |s| Value::text(s.clone())),
        Expr::Neg(x) => evaluate(x, ctx).to_num().map_or(Value::Empty, |n| num(-n)),
        Expr::Binary(op, l, r) => {
            let (a, b) = (evaluate(l, ctx), evaluate(r, ctx));
            binary(*op, &a, &b)
        }
        Expr::Call(name, args) => call(name, args, ctx),
    }
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Value {
    use std::cmp::Ordering::*;
    match op {
        BinOp::Or => Value::Bool(a.truthy() || b.truthy()),
        BinOp::And => Value::Bool(a.truthy() && b.truthy()),
        BinOp::Eq => Value::Bool(compare_eq(a, b)),
        BinOp::Ne => Value::Bool(!compare_eq(a, b)),
        BinOp::Lt => Value::Bool(compare_order(a, b) == Some(Less)),
        BinOp::Le => Value::Bool(matches!(compare_order(a, b), Some(Less | Equal))),
        BinOp::Gt => Value::Bool(compare_order(a, b) == Some(Greater)),
        BinOp::Ge => Value::Bool(matches!(compare_order(a, b), Some(Greater | Equal))),
        _ => {
            let (Some(x), Some(y)) = (a.to_num(), b.to_num()) else {
                return Value::Empty;
            };
            match op {
                BinOp::Add => num(x + y),
                BinOp::Sub => num(x - y),
                BinOp::Mul => num(x * y),
                BinOp::Div if y == 0.0 => Value::Empty,
                BinOp::Div => num(x / y),
                BinOp::Mod if y == 0.0 => Value::Empty,
                _ => num(x % y),
            }
        }
    }
}

fn call(name: &str, args: &[Expr], ctx: &EvalContext<'_>) -> Value {
    let arg = |i: usize| evaluate(&args[i], ctx);
    let text = |i: usize| arg(i).to_text();
    match name {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "today" => ctx.today.map_or(Value::Empty, Value::text),
        "not" => Value::Bool(!arg(0).truthy()),
        "if" => {
            if arg(0).truthy() {
                arg(1)
            } else {
                arg(2)
            }
        }
        "coalesce" => match arg(0) {
            Value::Empty => arg(1),
            v => v,
        },
        "selected" => {
            let code = text(1);
            let code = code.trim();
            Value::Bool(text(0).split_whitespace().any(|c| c == code))
        }
        "count-selected" => Value::Num(text(0).split_whitespace().count() as f64),
        "string-length" => Value::Num(text(0).chars().count() as f64),
        "int" => arg(0).to_num().map_or(Value::Empty, |n| num(n.trunc())),
        "number" => arg(0).to_num().map_or(Value::Empty, num),
        "string" => Value::text(text(0)),
        "concat" => Value::text((0..args.len()).map(text).collect::<String>()),
        "round" => {
            let Some(x) = arg(0).to_num() else {
                return Value::Empty;
            };
            let digits = if args.len() > 1 {
                match arg(1).to_num() {
                    Some(d) => d.trunc().clamp(0.0, 15.0) as u32,
                    None => return Value::Empty,
                }
            } else {
                0
            };
            let mut f = 1.0_f64;
            for _ in 0..digits {
                f *= 10.0;
            }
            let r = (x.abs() * f).round() / f;
            num(if x < 0.0 { -r } else { r })
        }
        "contains" => Value::Bool(text(0).contains(&text(1))),
        "starts-with" => Value::Bool(text(0).starts_with(&text(1))),
        "ends-with" => Value::Bool(text(0).ends_with(&text(1))),
        "date-diff-years" => {
            let (Some(a), Some(b)) = (parse_date(text(0).trim()), parse_date(text(1).trim()))
            else {
                return Value::Empty;
            };
            let mut years = b.0 - a.0;
            if years > 0 && (b.1, b.2) < (a.1, a.2) {
                years -= 1;
            } else if years < 0 && (b.1, b.2) > (a.1, a.2) {
                years += 1;
            }
            num(years as f64)
        }
        _ => Value::Empty, // unreachable: the parser only accepts known functions
    }
}

/// Parses and evaluates in one step (a syntax error yields `Err`).
pub fn eval_str(src: &str, ctx: &EvalContext<'_>) -> Result<Value, ParseError> {
    parse(src).map(|e| evaluate(&e, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    fn ev(src: &str, a: &Answers) -> Value {
        let ctx = EvalContext {
            answers: Some(a),
            today: Some("2026-12-02"),
            ..Default::default()
        };
        eval_str(src, &ctx).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[test]
    fn precedence_and_arithmetic() {
        let a = Answers::new();
        assert_eq!(ev("1 + 2 * 3", &a), Value::Num(7.0));
        assert_eq!(ev("(1 + 2) * 3", &a), Value::Num(9.0));
        assert_eq!(ev("7 div 2", &a), Value::Num(3.5));
        assert_eq!(ev("7 mod 3", &a), Value::Num(1.0));
        assert_eq!(ev("-7 mod 3", &a), Value::Num(-1.0));
        assert_eq!(ev("1 div 0", &a), Value::Empty);
        assert_eq!(ev("- - 2", &a), Value::Num(2.0));
        assert_eq!(ev("10 - 2 - 3", &a), Value::Num(5.0));
        assert_eq!(ev("1 < 2 and 2 < 1 or 3 = 3", &a), Value::Bool(true));
        assert_eq!(ev("1 = 1 and 0", &a), Value::Bool(false));
        assert_eq!(ev("0.1 + 0.2", &a), Value::Num(0.1 + 0.2));
        assert_eq!(ev("'a' + 1", &a), Value::Empty);
        assert_eq!(ev("'2' * '3'", &a), Value::Num(6.0));
    }

    #[test]
    fn blanks_and_comparisons() {
        let a = answers(json!({"N": 5, "T": "05", "E": "", "M": ["a", "b"], "D": "2000-12-03"}));
        assert_eq!(ev("${X} = ''", &a), Value::Bool(true));
        assert_eq!(ev("${E} = ''", &a), Value::Bool(true));
        assert_eq!(ev("${X} = 0", &a), Value::Bool(false));
        assert_eq!(ev("${X} != 0", &a), Value::Bool(true));
        assert_eq!(ev("${X} < 3", &a), Value::Bool(false));
        assert_eq!(ev("${X} >= 3", &a), Value::Bool(false));
        assert_eq!(ev("${X} + 1", &a), Value::Empty);
        assert_eq!(ev("${N} = '5'", &a), Value::Bool(true));
        assert_eq!(ev("${T} = 5", &a), Value::Bool(true));
        assert_eq!(ev("${T} = '5'", &a), Value::Bool(true));
        assert_eq!(ev("'abc' < 'abd'", &a), Value::Bool(true));
        assert_eq!(ev("'10' < '9'", &a), Value::Bool(false));
        assert_eq!(ev("'b' > 'a10'", &a), Value::Bool(true));
        assert_eq!(ev("${M}", &a), Value::Text("a b".into()));
        assert_eq!(ev("selected(${M}, 'b')", &a), Value::Bool(true));
        assert_eq!(ev("selected(${M}, 'c')", &a), Value::Bool(false));
        assert_eq!(ev("count-selected(${M})", &a), Value::Num(2.0));
        assert_eq!(ev("count-selected(${X})", &a), Value::Num(0.0));
        assert_eq!(ev("true() = 1", &a), Value::Bool(true));
        assert_eq!(ev("${X} = false()", &a), Value::Bool(true));
    }

    #[test]
    fn functions() {
        let a = answers(json!({"N": 5, "D": "2000-12-03", "NAME": "Nguyễn Văn A"}));
        assert_eq!(
            ev("if(${N} > 3, 'nhiều', 'ít')", &a),
            Value::Text("nhiều".into())
        );
        assert_eq!(ev("if(${X}, 1, if(${N}, 2, 3))", &a), Value::Num(2.0));
        assert_eq!(ev("coalesce(${X}, 'none')", &a), Value::Text("none".into()));
        assert_eq!(ev("coalesce(${N}, 'none')", &a), Value::Num(5.0));
        assert_eq!(ev("string-length(${NAME})", &a), Value::Num(12.0));
        assert_eq!(ev("int('-3.7')", &a), Value::Num(-3.0));
        assert_eq!(ev("number('x')", &a), Value::Empty);
        assert_eq!(ev("string(1.50)", &a), Value::Text("1.5".into()));
        assert_eq!(
            ev("concat('a', 1, true())", &a),
            Value::Text("a1true".into())
        );
        assert_eq!(ev("round(2.5)", &a), Value::Num(3.0));
        assert_eq!(ev("round(-2.5)", &a), Value::Num(-3.0));
        assert_eq!(ev("round(1.23456, 2)", &a), Value::Num(1.23));
        assert_eq!(ev("today()", &a), Value::Text("2026-12-02".into()));
        assert_eq!(ev("contains(${NAME}, 'Văn')", &a), Value::Bool(true));
        assert_eq!(ev("starts-with(${NAME}, 'Văn')", &a), Value::Bool(false));
        assert_eq!(ev("ends-with(${NAME}, ' A')", &a), Value::Bool(true));
        assert_eq!(ev("date-diff-years(${D}, today())", &a), Value::Num(25.0));
        assert_eq!(
            ev("date-diff-years(${D}, '2026-12-03')", &a),
            Value::Num(26.0)
        );
        assert_eq!(
            ev("date-diff-years('2026-12-03', ${D})", &a),
            Value::Num(-26.0)
        );
        assert_eq!(ev("date-diff-years('2026-02-30', ${D})", &a), Value::Empty);
        assert_eq!(ev("not(${X})", &a), Value::Bool(true));
    }

    #[test]
    fn current_value_and_attrs() {
        let v = AnswerValue::Int(17);
        let attrs: BTreeMap<String, String> = [("unit".to_string(), "95001".to_string())].into();
        let a = answers(json!({"U": "95001"}));
        let ctx = EvalContext {
            answers: Some(&a),
            current: Some(&v),
            attrs: Some(&attrs),
            today: None,
        };
        assert_eq!(eval_str(". >= 18", &ctx).unwrap(), Value::Bool(false));
        assert_eq!(eval_str("unit = ${U}", &ctx).unwrap(), Value::Bool(true));
        assert_eq!(eval_str("kind = ''", &ctx).unwrap(), Value::Bool(true));
        assert_eq!(eval_str("today()", &ctx).unwrap(), Value::Empty);
    }

    #[test]
    fn parse_errors_have_positions_and_both_languages() {
        let e = parse("${A} = ").unwrap_err();
        assert_eq!(e.pos, 7);
        assert_eq!(
            e.vi,
            "Biểu thức kết thúc đột ngột (thiếu toán hạng hoặc dấu ')')."
        );
        let e = parse("1 + # 2").unwrap_err();
        assert_eq!(
            (e.pos, e.vi.as_str()),
            (4, "Ký tự không hợp lệ '#' tại vị trí 5.")
        );
        assert_eq!(e.en, "Unexpected character '#' at position 5.");
        let e = parse("'abc").unwrap_err();
        assert_eq!(e.vi, "Chuỗi bắt đầu tại vị trí 1 chưa có dấu nháy đóng.");
        let e = parse("${A B} = 1").unwrap_err();
        assert_eq!(
            e.vi,
            "Tham chiếu tại vị trí 1 không hợp lệ: cần dạng ${MÃ_CÂU}."
        );
        let e = parse("foo(1)").unwrap_err();
        assert_eq!(e.vi, "Hàm không xác định 'foo' tại vị trí 1.");
        let e = parse("x + if(1, 2)").unwrap_err();
        assert_eq!(e.vi, "Hàm 'if' cần 3 tham số, nhưng có 2 (vị trí 5).");
        let e = parse("round()").unwrap_err();
        assert_eq!(
            e.vi,
            "Hàm 'round' cần 1 hoặc 2 tham số, nhưng có 0 (vị trí 1)."
        );
        let e = parse("(1 + 2").unwrap_err();
        assert_eq!(e.vi, "Thiếu dấu ')' tại vị trí 7.");
        let e = parse("1 2").unwrap_err();
        assert_eq!(e.vi, "Không mong đợi '2' tại vị trí 3.");
        assert!(parse("").is_err());
        // Positions count characters, not bytes.
        let e = parse("'ấ' = @").unwrap_err();
        assert_eq!(e.pos, 6);
    }

    #[test]
    fn references_and_names() {
        let e = parse("${A} + count-selected(${B}) > unit and selected(., 'x')").unwrap();
        assert_eq!(e.references(), ["A", "B"]);
        assert_eq!(e.attrs(), ["unit"]);
        assert!(e.uses_current());
        // `-` joins a name only when a letter follows.
        assert_eq!(parse("a-b").unwrap(), Expr::Attr("a-b".into()));
        assert!(matches!(
            parse("a -1").unwrap(),
            Expr::Binary(BinOp::Sub, _, _)
        ));
    }

    #[test]
    fn storage_of_results() {
        assert_eq!(Value::Num(3.0).to_answer(), Some(AnswerValue::Int(3)));
        assert_eq!(
            Value::Num(2.5).to_answer(),
            Some(AnswerValue::Text("2.5".into()))
        );
        assert_eq!(
            Value::Bool(true).to_answer(),
            Some(AnswerValue::Text("true".into()))
        );
        assert_eq!(Value::Empty.to_answer(), None);
        assert_eq!(format_number(-0.0), "0");
    }
}

/// The date `today()` stands for in a response's expressions: the calendar date of its
/// `started_at` in Vietnam time (UTC+7, no daylight saving), the same on device and server.
pub fn today_of(started_at: chrono::DateTime<chrono::Utc>) -> String {
    (started_at + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod today_tests {
    use super::today_of;
    use chrono::{TimeZone, Utc};

    #[test]
    fn today_is_the_vietnam_date_of_started_at() {
        // 18:30 UTC on 14 March is 01:30 on 15 March in Hà Nội.
        let t = Utc.with_ymd_and_hms(2026, 3, 14, 18, 30, 0).unwrap();
        assert_eq!(today_of(t), "2026-03-15");
        let t = Utc.with_ymd_and_hms(2026, 3, 14, 16, 59, 59).unwrap();
        assert_eq!(today_of(t), "2026-03-14");
    }
}
