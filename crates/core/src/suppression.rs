//! The one small-cell suppression rule, for criterion, group and overall rows alike.
//!
//! A value based on few answers is unreliable and, in a small village, can identify people.
//! Every published row has a **base N**, and the row's values are hidden when the base N is
//! below the minimum N (`min_n`). The N shown next to the row is always this base N:
//!
//! * **criterion**: its valid N (answers that are a point of the scale; code 9, blanks,
//!   off-scale values and skipped items do not count);
//! * **group** (SIPAS element): the respondents with at least one valid answer to one of its
//!   criteria ([`AggregateScore::respondents_n`]);
//! * **overall**: the respondents with at least one valid answer to a criterion of an overall
//!   group.
//!
//! Counting respondents, not answers, for groups and the overall index means 5 people
//! answering 5 criteria are 5, not 25, so they do not pass a threshold of 10. (The earlier
//! rule used the largest criterion valid N; it is never larger than the respondent count and
//! equals it when some criterion was answered by everyone who answered the group.)
//! Complementary suppression is not done.
use crate::index::{AggregateScore, IndexCell};
use crate::report::ReportLevel;

/// Vietnamese statement of the rule, with `min_n` filled in, for method notes.
pub fn rule_note_vi(min_n: usize) -> String {
    format!(
        "Không công bố số liệu dựa trên dưới {min_n} câu trả lời hợp lệ (tiêu chí) hoặc dưới \
         {min_n} người có ít nhất một câu trả lời hợp lệ (nhóm tiêu chí, chỉ số chung); \
         cột N là số dùng cho quy tắc này."
    )
}

/// English statement of the rule, with `min_n` filled in.
pub fn rule_note_en(min_n: usize) -> String {
    format!(
        "Values based on fewer than {min_n} valid answers (criteria) or fewer than {min_n} \
         respondents with at least one valid answer (groups, overall index) are not published; \
         the N column is the number this rule uses."
    )
}

/// Whether a row with this base N is suppressed under `min_n`.
pub fn is_suppressed(base_n: usize, min_n: usize) -> bool {
    base_n < min_n
}

/// The base N of a group or overall score.
pub fn aggregate_base_n(score: &AggregateScore) -> usize {
    score.respondents_n
}

/// The base N of the row (`level`, `code`) of `cell`; `None` when the cell has no such
/// criterion or group. For [`ReportLevel::Overall`] the code is ignored.
pub fn base_n(cell: &IndexCell, level: ReportLevel, code: &str) -> Option<usize> {
    match level {
        ReportLevel::Overall => Some(aggregate_base_n(&cell.overall)),
        ReportLevel::Group => cell.group(code).map(|g| aggregate_base_n(&g.score)),
        ReportLevel::Criterion => cell.criterion(code).map(|c| c.valid_n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_strictly_below() {
        assert!(is_suppressed(9, 10));
        assert!(!is_suppressed(10, 10));
        assert!(!is_suppressed(0, 0));
        assert!(rule_note_vi(10).contains("dưới 10 người"));
        assert!(rule_note_en(5).contains("fewer than 5 respondents"));
    }
}
