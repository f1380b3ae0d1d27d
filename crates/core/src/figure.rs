//! The published figures of one row (overall, group or criterion) of one index cell: base N,
//! % satisfied, mean and its 95% Wilson interval, with the suppression rule applied.
//!
//! Everything here is read off an [`IndexCell`] of the index engine; nothing is recomputed
//! from answers. Values of a suppressed row are `None`, so a figure can be passed to any
//! role or page without leaking a small cell.
use crate::index::{AggregateScore, IndexCell};
use crate::interval::{Interval, wilson_95};
use crate::report::{OVERALL_CODE, ReportLevel};
use crate::suppression::{aggregate_base_n, is_suppressed};
use serde::{Deserialize, Serialize};

/// Decimals of published percentages: values are compared (ranks, targets, drops) as they
/// are published, i.e. rounded half away from zero to this many decimals (83.94%).
pub const PUBLISHED_DECIMALS: u32 = 2;

/// `x` rounded half away from zero to `decimals` decimals.
pub fn round_to(x: f64, decimals: u32) -> f64 {
    let f = 10f64.powi(decimals as i32);
    (x * f).round() / f
}

/// `x` at the published precision, as an integer count of 0.01 points (exact to compare).
pub(crate) fn published_units(x: f64) -> i64 {
    (x * 10f64.powi(PUBLISHED_DECIMALS as i32)).round() as i64
}

/// The unsuppressed numbers a figure is built from.
struct Raw {
    n: usize,
    answers_n: usize,
    satisfied_n: usize,
    pct: Option<f64>,
    mean: Option<f64>,
}

/// The figures of one row of one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// Row level.
    pub level: ReportLevel,
    /// Criterion or group code, or [`OVERALL_CODE`].
    pub code: String,
    /// The base N of the suppression rule (see [`crate::suppression`]): valid answers for a
    /// criterion, respondents with a valid answer for a group or the overall index.
    pub n: usize,
    /// Valid answers (pooled over the criteria for a group or the overall index).
    pub answers_n: usize,
    /// Satisfied answers (pooled); `None` when suppressed.
    pub satisfied_n: Option<usize>,
    /// % satisfied under the index's aggregation rule, exact (not rounded); `None` when
    /// suppressed or without valid answers.
    pub pct_satisfied: Option<f64>,
    /// Mean score, exact; `None` when suppressed or without valid answers.
    pub mean: Option<f64>,
    /// 95% Wilson interval of `pct_satisfied` over `n`; `None` with it.
    pub interval: Option<Interval>,
    /// Whether `n` is below the minimum N.
    pub suppressed: bool,
}

impl Figure {
    /// The % satisfied rounded to [`PUBLISHED_DECIMALS`].
    pub fn published_pct(&self) -> Option<f64> {
        self.pct_satisfied.map(|p| round_to(p, PUBLISHED_DECIMALS))
    }

    fn build(level: ReportLevel, code: &str, raw: Raw, min_n: usize) -> Figure {
        let Raw {
            n,
            answers_n,
            satisfied_n,
            pct,
            mean,
        } = raw;
        let suppressed = is_suppressed(n, min_n);
        let pct = pct.filter(|_| !suppressed);
        Figure {
            level,
            code: code.to_owned(),
            n,
            answers_n,
            satisfied_n: (!suppressed).then_some(satisfied_n),
            pct_satisfied: pct,
            mean: mean.filter(|_| !suppressed),
            interval: pct.and_then(|p| wilson_95(p, n)),
            suppressed,
        }
    }

    fn aggregate(level: ReportLevel, code: &str, a: &AggregateScore, min_n: usize) -> Figure {
        let raw = Raw {
            n: aggregate_base_n(a),
            answers_n: a.valid_n,
            satisfied_n: a.satisfied_n,
            pct: a.pct_satisfied,
            mean: a.mean,
        };
        Figure::build(level, code, raw, min_n)
    }
}

/// The figure of row (`level`, `code`) of `cell` under `min_n`; `None` when the cell has no
/// such row. The overall row is found under any code.
pub fn figure(cell: &IndexCell, level: ReportLevel, code: &str, min_n: usize) -> Option<Figure> {
    match level {
        ReportLevel::Overall => Some(Figure::aggregate(level, OVERALL_CODE, &cell.overall, min_n)),
        ReportLevel::Group => cell
            .group(code)
            .map(|g| Figure::aggregate(level, &g.code, &g.score, min_n)),
        ReportLevel::Criterion => cell.criterion(code).map(|c| {
            let raw = Raw {
                n: c.valid_n,
                answers_n: c.valid_n,
                satisfied_n: c.satisfied_n,
                pct: c.pct_satisfied,
                mean: c.mean,
            };
            Figure::build(level, &c.code, raw, min_n)
        }),
    }
}

/// All figures of `cell`: the overall row, then each group followed by its criteria, in form
/// order (the order of [`crate::report`] rows).
pub fn figures(cell: &IndexCell, min_n: usize) -> Vec<Figure> {
    let mut out = vec![Figure::aggregate(
        ReportLevel::Overall,
        OVERALL_CODE,
        &cell.overall,
        min_n,
    )];
    for g in &cell.groups {
        out.push(Figure::aggregate(
            ReportLevel::Group,
            &g.code,
            &g.score,
            min_n,
        ));
        for c in cell.criteria.iter().filter(|c| c.group == g.code) {
            out.extend(figure(cell, ReportLevel::Criterion, &c.code, min_n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding() {
        assert_eq!(round_to(83.944, 2), 83.94);
        assert_eq!(round_to(83.945_000_1, 2), 83.95);
        assert_eq!(round_to(82.888, 1), 82.9);
        assert_eq!(published_units(90.004), 9000);
        assert_eq!(published_units(90.005_1), 9001);
    }
}
