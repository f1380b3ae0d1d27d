//! Shaping an [`IndexReport`] into flat, labelled rows for tables, CSV and XLSX exports.
//!
//! One [`ReportRow`] per (round, unit, level, code), levels being the overall index, each
//! criteria group (SIPAS element) and each criterion. Per round the rows of the all-units total
//! ([`ALL_UNITS`]) come first, then each unit in code order; within a unit: the overall row,
//! then each group followed by its criteria, in form order.
//!
//! **Small-cell suppression** follows the one rule of [`crate::suppression`]: each row has a
//! base N (criterion: its valid answers; group / overall: the respondents with at least one
//! valid answer to its criteria) and its values are hidden when the base N is below
//! [`ReportConfig::min_n`]. The row's `valid_n` *is* that base N, so the N shown is the N
//! the rule used. A suppressed row keeps `valid_n`; its satisfied counts, `pct_satisfied` and
//! `mean` become `None` and `suppressed` is true (a satisfied count with its N would give the
//! percentage away). Rows are built from [`crate::figure::figures`].
//!
//! (Until issue 11 a group / overall row showed the pooled number of valid answers as
//! `valid_n` but was suppressed on the largest criterion valid N, which read as a
//! contradiction: "N 10" next to a hidden value. The pooled count is now `answers_n`.)
//!
//! Percentages and means are rounded to 2 decimals ([`round2`]) for display here; the
//! [`IndexReport`] keeps the exact values.
use crate::figure::figures;
use crate::index::{ALL_UNITS, Aggregation, IndexCell, IndexReport, round2};
use crate::questionnaire::{FormKey, Questionnaire};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Code used for the overall-index rows.
pub const OVERALL_CODE: &str = "overall";

/// Vietnamese label of the overall-index rows.
pub const OVERALL_LABEL_VI: &str = "Chỉ số hài lòng chung";

/// How the report is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportConfig {
    /// Values with a base below this are suppressed (default 10; 0 suppresses nothing).
    pub min_n: usize,
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig { min_n: 10 }
    }
}

/// What the report was computed from and when; printed at the top of every export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStamp {
    /// The form and version.
    pub form: FormKey,
    /// The aggregation rule of the reported group and overall values.
    pub aggregation: Aggregation,
    /// Responses received up to this time are included.
    pub data_as_of: DateTime<Utc>,
    /// When the report was generated.
    pub generated_at: DateTime<Utc>,
}

impl ReportStamp {
    /// The stamp of `index` with the given times (form and aggregation taken from it).
    pub fn for_index(
        index: &IndexReport,
        data_as_of: DateTime<Utc>,
        generated_at: DateTime<Utc>,
    ) -> Self {
        ReportStamp {
            form: index.form.clone(),
            aggregation: index.config.aggregation,
            data_as_of,
            generated_at,
        }
    }
}

/// Why a report could not be shaped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReportError {
    /// The form or the stamp names another form than the index report.
    #[error("the index was computed for form {index}, but {other} was given")]
    FormMismatch {
        /// The index report's form.
        index: FormKey,
        /// The form (definition or stamp) given.
        other: FormKey,
    },
    /// The stamp names another aggregation rule than the index report used.
    #[error("the index used aggregation {index:?}, but the stamp says {stamp:?}")]
    AggregationMismatch {
        /// The index report's rule.
        index: Aggregation,
        /// The stamp's rule.
        stamp: Aggregation,
    },
}

/// The level of a report row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportLevel {
    /// The overall index.
    Overall,
    /// A criteria group (SIPAS element).
    Group,
    /// One criterion.
    Criterion,
}

impl ReportLevel {
    /// Vietnamese name of the level, as shown in exports.
    pub fn label_vi(self) -> &'static str {
        match self {
            ReportLevel::Overall => "Chung",
            ReportLevel::Group => "Nhóm",
            ReportLevel::Criterion => "Tiêu chí",
        }
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    /// Survey round.
    pub round_id: String,
    /// Administrative unit code ([`ALL_UNITS`] for the round total).
    pub unit_code: String,
    /// Row level.
    pub level: ReportLevel,
    /// Criterion or group code, or [`OVERALL_CODE`].
    pub code: String,
    /// Vietnamese label: the criterion's question, the group's title, or [`OVERALL_LABEL_VI`].
    pub label: String,
    /// The base N of the suppression rule, shown as the row's N: valid answers for a
    /// criterion; respondents with at least one valid answer to its criteria for a group or
    /// the overall index.
    pub valid_n: usize,
    /// Satisfied answers of a criterion; `None` when suppressed and for group / overall rows
    /// (their % is not satisfied / N; see `satisfied_answers_n`).
    pub satisfied_n: Option<usize>,
    /// Valid answers pooled over the row's criteria (equals `valid_n` for a criterion).
    #[serde(default)]
    pub answers_n: usize,
    /// Satisfied answers pooled over the row's criteria; `None` when suppressed.
    #[serde(default)]
    pub satisfied_answers_n: Option<usize>,
    /// % satisfied under the report's aggregation rule, 2 decimals; `None` when suppressed or
    /// without valid answers.
    pub pct_satisfied: Option<f64>,
    /// Mean score, 2 decimals; `None` when suppressed or without valid answers.
    pub mean: Option<f64>,
    /// Whether the values are hidden because the base is below [`ReportConfig::min_n`].
    pub suppressed: bool,
}

/// A shaped report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Provenance.
    pub stamp: ReportStamp,
    /// The suppression threshold used.
    pub min_n: usize,
    /// The rows (see the module documentation for their order).
    pub rows: Vec<ReportRow>,
}

/// Shapes `index` (computed with `form`) into labelled rows, suppressing small cells.
pub fn shape_report(
    form: &Questionnaire,
    index: &IndexReport,
    config: &ReportConfig,
    stamp: ReportStamp,
) -> Result<Report, ReportError> {
    for other in [form.key(), stamp.form.clone()] {
        if other != index.form {
            return Err(ReportError::FormMismatch {
                index: index.form.clone(),
                other,
            });
        }
    }
    if stamp.aggregation != index.config.aggregation {
        return Err(ReportError::AggregationMismatch {
            index: index.config.aggregation,
            stamp: stamp.aggregation,
        });
    }
    let mut rows = Vec::new();
    for total in &index.round_totals {
        cell_rows(form, total, config.min_n, &mut rows);
        for cell in index.cells.iter().filter(|c| c.round_id == total.round_id) {
            cell_rows(form, cell, config.min_n, &mut rows);
        }
    }
    Ok(Report {
        stamp,
        min_n: config.min_n,
        rows,
    })
}

/// Appends the rows of one cell.
fn cell_rows(form: &Questionnaire, cell: &IndexCell, min_n: usize, rows: &mut Vec<ReportRow>) {
    for f in figures(cell, min_n) {
        let label = match f.level {
            ReportLevel::Overall => OVERALL_LABEL_VI,
            ReportLevel::Group => form.group(&f.code).map_or(f.code.as_str(), |g| &g.title.vi),
            ReportLevel::Criterion => form.item(&f.code).map_or(f.code.as_str(), |i| &i.label.vi),
        };
        rows.push(ReportRow {
            round_id: cell.round_id.clone(),
            unit_code: cell.unit_code.clone(),
            level: f.level,
            code: f.code.clone(),
            label: label.to_owned(),
            valid_n: f.n,
            satisfied_n: f.satisfied_n.filter(|_| f.level == ReportLevel::Criterion),
            answers_n: f.answers_n,
            satisfied_answers_n: f.satisfied_n,
            pct_satisfied: f.pct_satisfied.map(round2),
            mean: f.mean.map(round2),
            suppressed: f.suppressed,
        });
    }
}

/// Number of columns of the tabular exports.
pub const REPORT_COLUMNS: usize = 10;

/// Vietnamese column headers of the tabular exports, in [`ReportRow`] field order.
pub fn vietnamese_headers() -> [&'static str; REPORT_COLUMNS] {
    [
        "Đợt khảo sát",
        "Đơn vị hành chính",
        "Cấp",
        "Mã",
        "Tiêu chí / Nhóm",
        "N hợp lệ",
        "Số câu trả lời hài lòng",
        "Tỷ lệ hài lòng (%)",
        "Điểm trung bình",
        "Ẩn do cỡ mẫu nhỏ",
    ]
}

/// Vietnamese name of an aggregation rule.
pub fn aggregation_label_vi(rule: Aggregation) -> &'static str {
    match rule {
        Aggregation::MeanOfCriteria => "trung bình cộng các tiêu chí",
        Aggregation::Pooled => "gộp tất cả câu trả lời",
    }
}

/// Unit label shown for the all-units rows in exports.
pub const ALL_UNITS_LABEL_VI: &str = "Tất cả đơn vị";

/// Formats a time for Vietnamese readers: `dd/mm/yyyy HH:MM` in Vietnam time (UTC+7, no
/// daylight saving), e.g. `30/11/2026 17:00 (UTC+7)`.
pub fn format_time_vi(t: DateTime<Utc>) -> String {
    let ict = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    format!("{} (UTC+7)", t.with_timezone(&ict).format("%d/%m/%Y %H:%M"))
}

/// The stamp line printed above the table, e.g. `Phiếu: sipas-6-groups@2026.1; Cách tổng
/// hợp: trung bình cộng các tiêu chí; Dữ liệu đến: 30/11/2026 17:00 (UTC+7); Lập lúc: …;
/// Ẩn các ô dưới 10 câu trả lời hợp lệ (nhóm tiêu chí và chỉ số chung: dưới 10 người có câu
/// trả lời hợp lệ)`; the N column is the N of this rule ([`crate::suppression`]).
pub fn stamp_line(report: &Report) -> String {
    let s = &report.stamp;
    format!(
        "Phiếu: {}; Cách tổng hợp: {}; Dữ liệu đến: {}; Lập lúc: {}; Ẩn các ô dưới {} câu trả lời hợp lệ \
         (nhóm tiêu chí và chỉ số chung: dưới {} người có câu trả lời hợp lệ)",
        s.form,
        aggregation_label_vi(s.aggregation),
        format_time_vi(s.data_as_of),
        format_time_vi(s.generated_at),
        report.min_n,
        report.min_n
    )
}

/// The display cells of a row, in [`vietnamese_headers`] order: unit `*` as
/// [`ALL_UNITS_LABEL_VI`], numbers with a decimal point and 2 decimals, `None` as empty,
/// the suppressed flag as `Có` / `Không`.
pub fn display_cells(row: &ReportRow) -> [String; REPORT_COLUMNS] {
    let num = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_default();
    [
        row.round_id.clone(),
        if row.unit_code == ALL_UNITS {
            ALL_UNITS_LABEL_VI.to_owned()
        } else {
            row.unit_code.clone()
        },
        row.level.label_vi().to_owned(),
        row.code.clone(),
        row.label.clone(),
        row.valid_n.to_string(),
        row.satisfied_n.map(|n| n.to_string()).unwrap_or_default(),
        num(row.pct_satisfied),
        num(row.mean),
        if row.suppressed { "Có" } else { "Không" }.to_owned(),
    ]
}

/// The report as CSV: UTF-8 with a byte-order mark (so spreadsheet programs detect the
/// encoding), CRLF line ends and RFC 4180 quoting. The first record is the single-field
/// [`stamp_line`], the second the [`vietnamese_headers`], then one record per row.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("\u{FEFF}");
    let mut record = |fields: &[&str]| {
        let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&quoted.join(","));
        out.push_str("\r\n");
    };
    record(&[&stamp_line(report)]);
    record(&vietnamese_headers());
    for row in &report.rows {
        let cells = display_cells(row);
        let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
        record(&refs);
    }
    out
}

/// One CSV field, quoted (with inner quotes doubled) when it holds a comma, quote, CR or LF.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{AnswerValue, Answers};
    use crate::index::{IndexConfig, IndexInput, compute_index_inputs};
    use serde_json::json;

    /// Criteria groups G1 "Tiếp cận" (C1 "Thông tin, công khai", C2 "Nơi chờ") and
    /// G2 "Kết quả" (K1 "Đúng hẹn").
    fn form() -> Questionnaire {
        let points: Vec<_> = (1..=5)
            .map(|v| json!({"value": v, "label": {"vi": v.to_string()}}))
            .collect();
        serde_json::from_value(json!({
            "format": 1, "form_id": "rp", "version": "1", "title": {"vi": "Thử"},
            "scales": {"sat5": {"points": points, "satisfied_from": 4,
                                "no_answer": {"value": 9, "label": {"vi": "KTL"}}}},
            "groups": [
                {"code": "G1", "kind": "criteria", "title": {"vi": "Tiếp cận"}, "items": [
                    {"code": "C1", "type": "rating", "scale": "sat5",
                     "label": {"vi": "Thông tin, công khai"}},
                    {"code": "C2", "type": "rating", "scale": "sat5",
                     "label": {"vi": "Nơi chờ"}}
                ]},
                {"code": "G2", "kind": "criteria", "title": {"vi": "Kết quả"}, "items": [
                    {"code": "K1", "type": "rating", "scale": "sat5",
                     "label": {"vi": "Đúng \"hẹn\""}}
                ]}
            ]
        }))
        .unwrap()
    }

    /// Unit U1 (round R): 3 respondents
    ///   C1: 5, 4, 2 → valid 3, satisfied 2, 66.666…%, mean 11/3 = 3.666…
    ///   C2: 3, 4, 4 → valid 3, satisfied 2, 66.666…%, mean 11/3
    ///   K1: 4, 9, –  → valid 1, satisfied 1, 100%, mean 4
    /// Unit U2: 1 respondent: C1 1, C2 –, K1 5.
    /// Round total (4 respondents):
    ///   C1: 5, 4, 2, 1 → valid 4, satisfied 2, 50%, mean 12/4 = 3
    ///   C2: valid 3 as in U1; K1: 4, 5 → valid 2, satisfied 2, 100%, mean 4.5
    ///   G1 (mean of criteria): (50 + 66.666…)/2 = 58.333…%, mean (3 + 3.666…)/2 = 3.333…
    ///   G1 pooled counts: valid 7, satisfied 4
    ///   overall: (58.333… + 100)/2 = 79.1666…% → 79.17; mean (3.333… + 4.5)/2 = 3.91666… → 3.92
    ///   overall pooled counts: valid 9, satisfied 6
    fn index() -> IndexReport {
        let rows: Vec<(&str, Answers)> = vec![
            ("U1", ans(&[("C1", 5), ("C2", 3), ("K1", 4)])),
            ("U1", ans(&[("C1", 4), ("C2", 4), ("K1", 9)])),
            ("U1", ans(&[("C1", 2), ("C2", 4)])),
            ("U2", ans(&[("C1", 1), ("K1", 5)])),
        ];
        let inputs = rows.iter().map(|(u, a)| IndexInput {
            round_id: "R",
            unit_code: u,
            answers: a,
        });
        compute_index_inputs(&form(), inputs, IndexConfig::default()).unwrap()
    }

    fn ans(v: &[(&str, i64)]) -> Answers {
        v.iter()
            .map(|(k, v)| (k.to_string(), AnswerValue::Int(*v)))
            .collect()
    }

    fn stamp(index: &IndexReport) -> ReportStamp {
        ReportStamp::for_index(
            index,
            "2026-11-30T10:00:00Z".parse().unwrap(),
            "2026-12-01T01:30:00Z".parse().unwrap(),
        )
    }

    fn shaped(min_n: usize) -> Report {
        let idx = index();
        shape_report(&form(), &idx, &ReportConfig { min_n }, stamp(&idx)).unwrap()
    }

    type Brief<'a> = (
        &'a str,
        ReportLevel,
        &'a str,
        usize,
        Option<usize>,
        Option<f64>,
        Option<f64>,
        bool,
    );

    fn brief(r: &ReportRow) -> Brief<'_> {
        (
            r.unit_code.as_str(),
            r.level,
            r.code.as_str(),
            r.valid_n,
            r.satisfied_n,
            r.pct_satisfied,
            r.mean,
            r.suppressed,
        )
    }

    #[test]
    fn rows_order_labels_and_rounding_without_suppression() {
        // Group and overall rows show as N the respondents with a valid answer to their
        // criteria (issue 11; before, the pooled answer count) and no satisfied count:
        //   total: overall 4 (r1–r4), G1 4 (r1–r4), G2 2 (r1's 4, r4's 5; r2's 9 is not valid)
        //   U1: overall 3, G1 3, G2 1 (r1)   U2: overall 1, G1 1, G2 1
        // The pooled counts moved to answers_n / satisfied_answers_n (checked below).
        use ReportLevel::*;
        let report = shaped(0);
        let rows: Vec<_> = report.rows.iter().map(brief).collect();
        assert_eq!(
            rows,
            [
                (
                    "*",
                    Overall,
                    "overall",
                    4,
                    None,
                    Some(79.17),
                    Some(3.92),
                    false
                ),
                ("*", Group, "G1", 4, None, Some(58.33), Some(3.33), false),
                (
                    "*",
                    Criterion,
                    "C1",
                    4,
                    Some(2),
                    Some(50.0),
                    Some(3.0),
                    false
                ),
                (
                    "*",
                    Criterion,
                    "C2",
                    3,
                    Some(2),
                    Some(66.67),
                    Some(3.67),
                    false
                ),
                ("*", Group, "G2", 2, None, Some(100.0), Some(4.5), false),
                (
                    "*",
                    Criterion,
                    "K1",
                    2,
                    Some(2),
                    Some(100.0),
                    Some(4.5),
                    false
                ),
                // U1: G1 = (66.666… + 66.666…)/2; overall = (66.666… + 100)/2 = 83.333…,
                //     mean (3.666… + 4)/2 = 3.8333…
                (
                    "U1",
                    Overall,
                    "overall",
                    3,
                    None,
                    Some(83.33),
                    Some(3.83),
                    false
                ),
                ("U1", Group, "G1", 3, None, Some(66.67), Some(3.67), false),
                (
                    "U1",
                    Criterion,
                    "C1",
                    3,
                    Some(2),
                    Some(66.67),
                    Some(3.67),
                    false
                ),
                (
                    "U1",
                    Criterion,
                    "C2",
                    3,
                    Some(2),
                    Some(66.67),
                    Some(3.67),
                    false
                ),
                ("U1", Group, "G2", 1, None, Some(100.0), Some(4.0), false),
                (
                    "U1",
                    Criterion,
                    "K1",
                    1,
                    Some(1),
                    Some(100.0),
                    Some(4.0),
                    false
                ),
                // U2: C1 = 1 (0%), C2 none, K1 = 5; overall (0 + 100)/2 = 50, mean (1 + 5)/2
                (
                    "U2",
                    Overall,
                    "overall",
                    1,
                    None,
                    Some(50.0),
                    Some(3.0),
                    false
                ),
                ("U2", Group, "G1", 1, None, Some(0.0), Some(1.0), false),
                (
                    "U2",
                    Criterion,
                    "C1",
                    1,
                    Some(0),
                    Some(0.0),
                    Some(1.0),
                    false
                ),
                ("U2", Criterion, "C2", 0, Some(0), None, None, false),
                ("U2", Group, "G2", 1, None, Some(100.0), Some(5.0), false),
                (
                    "U2",
                    Criterion,
                    "K1",
                    1,
                    Some(1),
                    Some(100.0),
                    Some(5.0),
                    false
                ),
            ]
        );
        let labels: Vec<_> = report.rows[..6].iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Chỉ số hài lòng chung",
                "Tiếp cận",
                "Thông tin, công khai",
                "Nơi chờ",
                "Kết quả",
                "Đúng \"hẹn\""
            ]
        );
        assert!(report.rows.iter().all(|r| r.round_id == "R"));
        // pooled counts: total overall 9 answers, 6 satisfied; G1 7 / 4; a criterion's
        // answers_n is its valid N
        let pooled: Vec<_> = report.rows[..3]
            .iter()
            .map(|r| (r.answers_n, r.satisfied_answers_n))
            .collect();
        assert_eq!(pooled, [(9, Some(6)), (7, Some(4)), (4, Some(2))]);
    }

    #[test]
    fn small_cells_are_suppressed_by_base() {
        use ReportLevel::*;
        // min_n 3, bases = respondents with a valid answer (the N shown): the round total's
        // overall 4 and G1 4 are shown; G2's 2 is suppressed. U1: overall and G1 base 3 pass;
        // G2 base 1 is suppressed. U2: every base is ≤ 1. (Same outcome as under the former
        // largest-criterion-N rule for this data; only the N shown changed.)
        let report = shaped(3);
        let rows: Vec<_> = report.rows.iter().map(brief).collect();
        assert_eq!(
            rows,
            [
                (
                    "*",
                    Overall,
                    "overall",
                    4,
                    None,
                    Some(79.17),
                    Some(3.92),
                    false
                ),
                ("*", Group, "G1", 4, None, Some(58.33), Some(3.33), false),
                (
                    "*",
                    Criterion,
                    "C1",
                    4,
                    Some(2),
                    Some(50.0),
                    Some(3.0),
                    false
                ),
                (
                    "*",
                    Criterion,
                    "C2",
                    3,
                    Some(2),
                    Some(66.67),
                    Some(3.67),
                    false
                ),
                ("*", Group, "G2", 2, None, None, None, true),
                ("*", Criterion, "K1", 2, None, None, None, true),
                (
                    "U1",
                    Overall,
                    "overall",
                    3,
                    None,
                    Some(83.33),
                    Some(3.83),
                    false
                ),
                ("U1", Group, "G1", 3, None, Some(66.67), Some(3.67), false),
                (
                    "U1",
                    Criterion,
                    "C1",
                    3,
                    Some(2),
                    Some(66.67),
                    Some(3.67),
                    false
                ),
                (
                    "U1",
                    Criterion,
                    "C2",
                    3,
                    Some(2),
                    Some(66.67),
                    Some(3.67),
                    false
                ),
                ("U1", Group, "G2", 1, None, None, None, true),
                ("U1", Criterion, "K1", 1, None, None, None, true),
                ("U2", Overall, "overall", 1, None, None, None, true),
                ("U2", Group, "G1", 1, None, None, None, true),
                ("U2", Criterion, "C1", 1, None, None, None, true),
                ("U2", Criterion, "C2", 0, None, None, None, true),
                ("U2", Group, "G2", 1, None, None, None, true),
                ("U2", Criterion, "K1", 1, None, None, None, true),
            ]
        );
        // The default threshold of 10 hides every value of this small example; in particular
        // U1's overall (pooled valid N 7, but at most 3 answers to any one criterion).
        let report = shaped(10);
        assert_eq!(report.min_n, 10);
        assert!(
            report
                .rows
                .iter()
                .all(|r| r.suppressed && r.pct_satisfied.is_none())
        );
    }

    #[test]
    fn mismatches_are_rejected() {
        let idx = index();
        let mut other = form();
        other.version = "2".into();
        assert_eq!(
            shape_report(&other, &idx, &ReportConfig::default(), stamp(&idx)),
            Err(ReportError::FormMismatch {
                index: idx.form.clone(),
                other: other.key()
            })
        );
        let mut s = stamp(&idx);
        s.form.form_id = "x".into();
        assert!(matches!(
            shape_report(&form(), &idx, &ReportConfig::default(), s),
            Err(ReportError::FormMismatch { .. })
        ));
        let mut s = stamp(&idx);
        s.aggregation = Aggregation::Pooled;
        assert_eq!(
            shape_report(&form(), &idx, &ReportConfig::default(), s),
            Err(ReportError::AggregationMismatch {
                index: Aggregation::MeanOfCriteria,
                stamp: Aggregation::Pooled
            })
        );
    }

    #[test]
    fn csv_export() {
        let csv = to_csv(&shaped(3));
        assert!(csv.starts_with('\u{FEFF}'));
        let lines: Vec<&str> = csv.trim_start_matches('\u{FEFF}').split("\r\n").collect();
        // stamp + header + 18 rows + the empty string after the last CRLF
        assert_eq!(lines.len(), 21);
        assert_eq!(lines[20], "");
        // 10:00Z = 17:00 in Vietnam; 01:30Z on 1 Dec = 08:30 the same day in Vietnam
        assert_eq!(
            lines[0],
            "Phiếu: rp@1; Cách tổng hợp: trung bình cộng các tiêu chí; \
             Dữ liệu đến: 30/11/2026 17:00 (UTC+7); Lập lúc: 01/12/2026 08:30 (UTC+7); \
             Ẩn các ô dưới 3 câu trả lời hợp lệ (nhóm tiêu chí và chỉ số chung: dưới 3 người \
             có câu trả lời hợp lệ)"
        );
        assert_eq!(
            lines[1],
            "Đợt khảo sát,Đơn vị hành chính,Cấp,Mã,Tiêu chí / Nhóm,N hợp lệ,\
             Số câu trả lời hài lòng,Tỷ lệ hài lòng (%),Điểm trung bình,Ẩn do cỡ mẫu nhỏ"
        );
        assert_eq!(
            lines[2],
            "R,Tất cả đơn vị,Chung,overall,Chỉ số hài lòng chung,4,,79.17,3.92,Không"
        );
        // a label with a comma is quoted; 50 and 3 print with two decimals
        assert_eq!(
            lines[4],
            "R,Tất cả đơn vị,Tiêu chí,C1,\"Thông tin, công khai\",4,2,50.00,3.00,Không"
        );
        // a label with quotes is quoted with the quotes doubled; suppressed values are empty
        assert_eq!(
            lines[7],
            "R,Tất cả đơn vị,Tiêu chí,K1,\"Đúng \"\"hẹn\"\"\",2,,,,Có"
        );
        assert_eq!(
            lines[8],
            "R,U1,Chung,overall,Chỉ số hài lòng chung,3,,83.33,3.83,Không"
        );
    }

    #[test]
    fn csv_field_quoting() {
        assert_eq!(csv_field("abc"), "abc");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("a\nb"), "\"a\nb\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn builtin_form_report_has_vietnamese_labels() {
        let six = crate::builtin::builtin_form("sipas-6-groups", "2026.1").unwrap();
        let a: Answers = [("G6_1".to_string(), AnswerValue::Int(4))].into();
        let input = IndexInput {
            round_id: "2026-HN-1",
            unit_code: "00004",
            answers: &a,
        };
        let idx = compute_index_inputs(&six, [input], IndexConfig::default()).unwrap();
        let report = shape_report(&six, &idx, &ReportConfig { min_n: 1 }, stamp(&idx)).unwrap();
        // per cell: 1 overall + 6 groups + 23 criteria (5 + 4 + 5 + 4 + 4 + 1) = 30; two cells
        assert_eq!(report.rows.len(), 60);
        let g6 = report.rows.iter().find(|r| r.code == "G6").unwrap();
        assert_eq!(g6.label, "Sự hài lòng chung về sự phục vụ hành chính");
        assert_eq!((g6.pct_satisfied, g6.mean), (Some(100.0), Some(4.0)));
        assert!(stamp_line(&report).starts_with("Phiếu: sipas-6-groups@2026.1; "));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["level"], "overall");
        assert_eq!(json["stamp"]["aggregation"], "mean_of_criteria");
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, report);
    }
}
