//! The one canonical byte form of SIPAS JSON values, used for response content hashes and for
//! hand-over signatures (rule in `crates/server/API.md`, section "Canonical form and content
//! hash").
//!
//! * [`jcs`] writes a JSON value as the RFC 8785 JSON Canonicalization Scheme (JCS) does:
//!   no whitespace, object members sorted by the UTF-16 code units of their names, strings
//!   with the minimal escaping of RFC 8785 §3.2.2.2, numbers as ECMAScript's
//!   `Number.prototype.toString` writes the IEEE-754 double they denote.
//! * [`timestamp`] writes an instant as `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z` in UTC: the
//!   fraction of the second is left out when it is zero, otherwise written with 3, 6 or 9
//!   digits, the fewest of these that hold it exactly.
//!
//! The canonical form of a *typed* value (a response, a signed hand-over payload) is the JCS of
//! the value with every field of the model written out (absent optional fields as `null`) and
//! every timestamp in the [`timestamp`] form; see `Response::canonical_json`.
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Number, Value};
use sha2::{Digest, Sha256};

/// RFC 8785 canonical bytes (UTF-8) of `value`.
pub fn jcs(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(value, &mut out);
    out
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The canonical text of an instant: UTC, `Z`, seconds always, the fraction only when it is
/// not zero and then with 3, 6 or 9 digits (the fewest that are exact).
pub fn timestamp(t: &DateTime<Utc>) -> String {
    // chrono's `AutoSi` is exactly that rule: no fraction for whole seconds, otherwise
    // milli-, micro- or nanoseconds, whichever is the shortest exact one.
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => out.extend_from_slice(number(n).as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(v, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_value(v, out);
            }
            out.push(b'}');
        }
    }
}

/// RFC 8785 §3.2.2.2: `"` and `\` escaped, the control characters U+0000–U+001F as `\b \t
/// \n \f \r` or `\u00xx` (lowercase hex); everything else, non-ASCII included, as is.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    let mut buf = [0u8; 4];
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    out.push(b'"');
}

/// Largest integer up to which every integer is exactly a double (2^53).
const EXACT_INT: u64 = 1 << 53;

/// A JSON number as JCS writes it: the IEEE-754 double it denotes, formatted like ECMAScript.
fn number(n: &Number) -> String {
    if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= EXACT_INT
    {
        // Integers in the exact range print the same as the double would.
        return i.to_string();
    }
    if let Some(u) = n.as_u64()
        && u <= EXACT_INT
    {
        return u.to_string();
    }
    // Larger integers and fractions: what they are as a double (serde_json's `as_f64`
    // rounds to the nearest one, as an ECMAScript parser would).
    ecmascript_number(n.as_f64().unwrap_or(f64::NAN))
}

/// ECMAScript `Number::toString(10)` of a finite double (ECMA-262 §6.1.6.1.20).
pub fn ecmascript_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into(); // +0 and -0
    }
    if !v.is_finite() {
        // JSON cannot carry these; serde_json values never hold them.
        return "null".into();
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as ECMAScript requires.
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let mut digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    break_tie_to_even(v.abs(), &mut digits);
    let k = digits.len() as i32;
    let n = exp.parse::<i32>().unwrap_or(0) + 1;
    let mut s = String::new();
    if v < 0.0 {
        s.push('-');
    }
    if k <= n && n <= 21 {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        s.push_str(&digits[..n as usize]);
        s.push('.');
        s.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-n) as usize));
        s.push_str(&digits);
    } else {
        s.push_str(&digits[..1]);
        if k > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        s.push('e');
        s.push(if n - 1 < 0 { '-' } else { '+' });
        s.push_str(&(n - 1).abs().to_string());
    }
    s
}

/// Rust's shortest digits round a value exactly halfway between two shortest candidates up;
/// ECMAScript takes the one whose last digit is even. `v` is positive and finite.
fn break_tie_to_even(v: f64, digits: &mut String) {
    let k = digits.len();
    // A k-digit candidate lies half a unit of its last digit, at least 0.5·10^-k relative,
    // from a tie value; it can only round-trip when that is below half the spacing of doubles
    // (at most 2^-53 relative), i.e. for k >= 16. Shorter outputs cannot be ties (15: margin).
    if k < 15 {
        return;
    }
    // Every double has a finite decimal expansion of at most 767 significant digits, so this
    // is the exact value.
    let exact = format!("{v:.800e}");
    let exact_digits: String = exact
        .split('e')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| *c != '.')
        .collect();
    let tie = exact_digits.as_bytes().get(k) == Some(&b'5')
        && exact_digits.as_bytes()[k + 1..].iter().all(|d| *d == b'0');
    let last = digits.as_bytes()[k - 1];
    if !tie || (last - b'0').is_multiple_of(2) {
        return;
    }
    // The two candidates are the truncation T and T + 1 in the last place; switch to the other.
    let other = if exact_digits[..k] == digits[..] {
        last + 1
    } else {
        last - 1
    };
    if other.is_ascii_digit() {
        digits.replace_range(k - 1.., &char::from(other).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(json: &str) -> String {
        String::from_utf8(jcs(&serde_json::from_str(json).unwrap())).unwrap()
    }

    /// The number samples of RFC 8785 Appendix B (IEEE-754 bits → expected text; each also
    /// checked against Node's `String(number)`).
    #[test]
    fn numbers_follow_rfc8785_appendix_b() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, want) in cases {
            let v = f64::from_bits(*bits);
            assert_eq!(ecmascript_number(v), *want, "bits {bits:#018x}");
            if let Some(n) = Number::from_f64(v) {
                assert_eq!(number(&n), *want, "as a JSON number, bits {bits:#018x}");
            }
        }
    }

    #[test]
    fn integers_write_as_ecmascript_would() {
        assert_eq!(
            canon("[0, -0, 1, -1, 42, 4.0, 1e2, 9007199254740993]"),
            "[0,0,1,-1,42,4,100,9007199254740992]"
        );
        assert_eq!(
            canon("[18446744073709551615, -9223372036854775808]"),
            "[18446744073709552000,-9223372036854776000]"
        );
    }

    /// RFC 8785 §3.2.3: members sorted by UTF-16 code units, not by UTF-8 bytes or code points.
    #[test]
    fn keys_sort_by_utf16_code_units() {
        let json = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let got = canon(json);
        let order: Vec<&str> = got
            .split("\":\"")
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect();
        assert_eq!(
            order,
            [
                "Carriage Return",
                "One",
                "Control",
                "Latin Small Letter O With Diaeresis",
                "Euro Sign",
                "Emoji: Grinning Face",
                "Hebrew Letter Dalet With Dagesh",
            ]
        );
    }

    #[test]
    fn strings_use_minimal_escaping_and_no_whitespace() {
        assert_eq!(
            canon(
                "{ \"b\" : [ 1 , {\"z\":null,\"a\":true} ], \"a\": \"x\\\"é\\u001f\\n\\/\\u2028€\" }"
            ),
            "{\"a\":\"x\\\"é\\u001f\\n/\u{2028}€\",\"b\":[1,{\"a\":true,\"z\":null}]}"
        );
        assert_eq!(
            canon("\"\\u0008\\t\\f\\r\\\\\\u007f\""),
            "\"\\b\\t\\f\\r\\\\\u{7f}\""
        );
    }

    #[test]
    fn timestamps_are_utc_with_the_shortest_exact_fraction() {
        let t = |s: &str| timestamp(&DateTime::parse_from_rfc3339(s).unwrap().to_utc());
        assert_eq!(t("2026-11-20T15:00:00+07:00"), "2026-11-20T08:00:00Z");
        assert_eq!(t("2026-11-20T08:00:00.000+00:00"), "2026-11-20T08:00:00Z");
        assert_eq!(t("2026-11-20T08:00:00.5Z"), "2026-11-20T08:00:00.500Z");
        assert_eq!(
            t("2026-11-20T08:00:00.123400Z"),
            "2026-11-20T08:00:00.123400Z"
        );
        assert_eq!(
            t("2026-11-20T08:00:00.1234567Z"),
            "2026-11-20T08:00:00.123456700Z"
        );
    }
}
