//! Mapping a loader issue (located by JSON path) back to the sheet, row and column it came from.
use crate::columns::{group_column, item_column, settings_column};
use crate::messages::translate;
use crate::{CHOICES, SETTINGS, SURVEY, SheetIssue};
use serde_json::Value;
use sipas_core::form_loader::FormIssue;
use std::collections::HashMap;

/// Where each part of the built questionnaire came from.
#[derive(Debug, Default)]
pub struct SourceMap {
    /// Row of the values on the `settings` sheet.
    pub settings_row: usize,
    /// Groups in order.
    pub groups: Vec<GroupSrc>,
    /// `choices` rows of each list, in order.
    pub lists: HashMap<String, Vec<usize>>,
    /// Scales by name.
    pub scales: HashMap<String, ScaleSrc>,
}

/// A group: its `begin group` row and its questions.
#[derive(Debug, Default)]
pub struct GroupSrc {
    pub row: usize,
    pub items: Vec<ItemSrc>,
}

/// A question: its row and the list it names.
#[derive(Debug, Default)]
pub struct ItemSrc {
    pub row: usize,
    pub list: Option<String>,
}

/// A scale's rows on the `choices` sheet.
#[derive(Debug, Default)]
pub struct ScaleSrc {
    pub first: usize,
    pub points: Vec<usize>,
    pub no_answer: Option<usize>,
    pub satisfied: Option<usize>,
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Splits `$.groups[2].items[0].label.vi` (or `$.scales["a b"]`) into its steps.
pub fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let s = path.strip_prefix('$').unwrap_or(path);
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '.' => {
                let start = i + 1;
                let mut end = s.len();
                while let Some((j, d)) = chars.peek() {
                    if *d == '.' || *d == '[' {
                        end = *j;
                        break;
                    }
                    chars.next();
                }
                out.push(Seg::Key(s[start..end].to_owned()));
            }
            '[' => {
                let rest = &s[i + 1..];
                let (seg, len) = if rest.starts_with('"') {
                    // A JSON string key: find its end with serde_json.
                    let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
                    match de.next() {
                        Some(Ok(k)) => (Seg::Key(k), de.byte_offset()),
                        _ => break,
                    }
                } else {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    (Seg::Index(digits.parse().unwrap_or(0)), digits.len())
                };
                out.push(seg);
                // Skip the key and the closing bracket.
                for _ in 0..rest[..len].chars().count() + 1 {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}

/// The sheet, row and column a JSON path came from.
pub fn place(path: &str, map: &SourceMap) -> (&'static str, Option<usize>, Option<String>) {
    use Seg::{Index, Key};
    let segs = parse_path(path);
    let key = |i: usize| match segs.get(i) {
        Some(Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let idx = |i: usize| match segs.get(i) {
        Some(Index(n)) => Some(*n),
        _ => None,
    };
    let label_col = |k: Option<&str>| match k {
        Some("en") => "label::en",
        _ => "label::vi",
    };
    match key(0) {
        Some("groups") => {
            let Some(g) = idx(1).and_then(|g| map.groups.get(g)) else {
                return (SURVEY, None, Some("type".into()));
            };
            if key(2) != Some("items") || idx(3).is_none() {
                // A group's own key.
                let col = match key(2) {
                    None | Some("code") => Some("name"),
                    Some("items") => Some("type"),
                    Some(k) => group_column(k, key(3)),
                };
                return (SURVEY, Some(g.row), col.map(str::to_owned));
            }
            let Some(item) = idx(3).and_then(|i| g.items.get(i)) else {
                return (SURVEY, Some(g.row), Some("type".into()));
            };
            match key(4) {
                Some("options") => {
                    let rows = item.list.as_ref().and_then(|l| map.lists.get(l));
                    match (idx(5), rows) {
                        (Some(o), Some(rows)) if o < rows.len() => {
                            let col = match key(6) {
                                Some("value") | None => Some("name".to_owned()),
                                Some("label") => Some(label_col(key(7)).to_owned()),
                                // An attribute: its own column when the path names it.
                                Some("attrs") => key(7).map(str::to_owned),
                                Some(k) => Some(k.to_owned()),
                            };
                            (CHOICES, Some(rows[o]), col)
                        }
                        _ => (SURVEY, Some(item.row), Some("type".into())),
                    }
                }
                None | Some("code") => (SURVEY, Some(item.row), Some("name".into())),
                Some("type") | Some("scale") => (SURVEY, Some(item.row), Some("type".into())),
                Some(k) => (
                    SURVEY,
                    Some(item.row),
                    Some(item_column(k, key(5)).unwrap_or(k).to_owned()),
                ),
            }
        }
        Some("scales") => {
            let Some(s) = key(1).and_then(|n| map.scales.get(n)) else {
                return (CHOICES, None, Some("list_name".into()));
            };
            match key(2) {
                Some("points") => {
                    let row = idx(3).and_then(|p| s.points.get(p)).copied();
                    let col = match key(4) {
                        Some("label") => label_col(key(5)),
                        _ => "name",
                    };
                    (CHOICES, row.or(Some(s.first)), Some(col.into()))
                }
                Some("satisfied_from") => (
                    CHOICES,
                    s.satisfied.or(Some(s.first)),
                    Some("satisfied_from".into()),
                ),
                Some("no_answer") => {
                    let col = match key(3) {
                        Some("label") => label_col(key(4)),
                        Some("value") => "name",
                        _ => "no_answer",
                    };
                    (CHOICES, s.no_answer.or(Some(s.first)), Some(col.into()))
                }
                _ => (CHOICES, Some(s.first), Some("list_name".into())),
            }
        }
        Some(k) => (
            SETTINGS,
            Some(map.settings_row),
            Some(settings_column(k, key(1)).unwrap_or("form_id").to_owned()),
        ),
        None => (SURVEY, None, None),
    }
}

/// A loader issue as a sheet issue: its place and its messages in both languages.
pub fn locate(issue: &FormIssue, map: &SourceMap, form: &Value) -> SheetIssue {
    let (sheet, row, column) = place(&issue.path, map);
    let vi = issue
        .message_vi
        .clone()
        .unwrap_or_else(|| translate(issue, form));
    let vi = rewrite_paths(&vi, map, "trang", "dòng");
    let en = rewrite_paths(&issue.message, map, "sheet", "row");
    SheetIssue::new(sheet, row, column.as_deref(), &vi, &en)
}

/// Replaces the JSON paths inside a message (`(at $.groups[3].items[1])`) by the place in the
/// workbook (`sheet survey, row 19`).
fn rewrite_paths(message: &str, map: &SourceMap, sheet_word: &str, row_word: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(start) = rest.find("$.") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || "$._[]".contains(c)))
            .unwrap_or(tail.len());
        let path = &tail[..len];
        match place(path, map) {
            (sheet, Some(row), _) => {
                out.push_str(&format!("{sheet_word} {sheet}, {row_word} {row}"))
            }
            _ => out.push_str(path),
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_into_steps() {
        assert_eq!(
            parse_path("$.groups[2].items[10].label.vi"),
            [
                Seg::Key("groups".into()),
                Seg::Index(2),
                Seg::Key("items".into()),
                Seg::Index(10),
                Seg::Key("label".into()),
                Seg::Key("vi".into()),
            ]
        );
        assert_eq!(
            parse_path("$.scales[\"a b\"].points[0]"),
            [
                Seg::Key("scales".into()),
                Seg::Key("a b".into()),
                Seg::Key("points".into()),
                Seg::Index(0),
            ]
        );
        assert_eq!(parse_path("$"), []);
    }
}
