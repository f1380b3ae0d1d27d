//! Targets (chỉ tiêu) for % satisfied and their evaluation: met / not met / not enough data.
//!
//! A target is a threshold with its comparison stored, because the plans say both "trên
//! 90%" (above: `>`) and "tối thiểu 85%" (at least: `>=`). It applies to:
//! * [`TargetScope::Overall`]: the overall row of every cell;
//! * [`TargetScope::Group`]: the row of that criteria group in every cell;
//! * [`TargetScope::Field`] / [`TargetScope::AgencyKind`]: the overall row of the cell with
//!   that key in a breakdown by field / agency kind.
//!
//! The value compared is the *published* value (rounded to [`PUBLISHED_DECIMALS`]): a
//! province shown at 90.00% has not passed "trên 90%" even if the unrounded value was
//! 90.004%. A suppressed row (base N below min N) or a row without valid answers is
//! [`TargetStatus::NotEnoughData`].
use crate::breakdown::{Breakdown, BreakdownCell, DimensionKind};
use crate::figure::{Figure, PUBLISHED_DECIMALS, published_units, round_to};
use crate::report::ReportLevel;
use serde::{Deserialize, Serialize};

/// How a value is compared with the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// Strictly above ("trên").
    Gt,
    /// At least ("tối thiểu", "từ … trở lên").
    Ge,
}

impl Comparator {
    /// The symbol, `>` or `≥`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Gt => ">",
            Comparator::Ge => "≥",
        }
    }
}

/// What a target applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", content = "code", rename_all = "snake_case")]
pub enum TargetScope {
    /// The overall index of every cell.
    Overall,
    /// A criteria group (by code) in every cell.
    Group(String),
    /// A field (lĩnh vực, by catalogue code): the field's cell in a field breakdown.
    Field(String),
    /// An agency kind (by catalogue code): its cell in an agency-kind breakdown.
    AgencyKind(String),
}

/// One target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// What it applies to.
    #[serde(flatten)]
    pub scope: TargetScope,
    /// How the value is compared.
    pub comparator: Comparator,
    /// The threshold, % satisfied (0–100).
    pub threshold_pct: f64,
}

/// Why a target set is not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    /// A threshold outside 0–100 (or not a number).
    #[error("target threshold {0} is not a percentage in 0–100")]
    BadThreshold(f64),
    /// Two targets for the same scope.
    #[error("two targets for the same scope {0:?}")]
    DuplicateScope(TargetScope),
}

/// The targets of a round.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetSet {
    /// The targets.
    pub targets: Vec<Target>,
}

/// Whether a cell meets a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// The published value satisfies the comparison.
    Met,
    /// It does not.
    NotMet,
    /// Suppressed or without valid answers.
    NotEnoughData,
}

impl TargetStatus {
    /// Vietnamese label.
    pub fn label_vi(self) -> &'static str {
        match self {
            TargetStatus::Met => "Đạt",
            TargetStatus::NotMet => "Chưa đạt",
            TargetStatus::NotEnoughData => "Chưa đủ dữ liệu",
        }
    }

    /// English label.
    pub fn label_en(self) -> &'static str {
        match self {
            TargetStatus::Met => "Met",
            TargetStatus::NotMet => "Not met",
            TargetStatus::NotEnoughData => "Not enough data",
        }
    }
}

/// The evaluation of one target on one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    /// Cell key.
    pub key: String,
    /// The target.
    pub target: Target,
    /// The published value compared; `None` when not enough data.
    pub pct_satisfied: Option<f64>,
    /// The outcome.
    pub status: TargetStatus,
}

/// Evaluates `figure` against a comparator and threshold (see the module documentation).
pub fn evaluate(figure: &Figure, comparator: Comparator, threshold_pct: f64) -> TargetStatus {
    let Some(p) = figure.pct_satisfied.filter(|_| !figure.suppressed) else {
        return TargetStatus::NotEnoughData;
    };
    let (v, t) = (published_units(p), published_units(threshold_pct));
    let met = match comparator {
        Comparator::Gt => v > t,
        Comparator::Ge => v >= t,
    };
    if met {
        TargetStatus::Met
    } else {
        TargetStatus::NotMet
    }
}

impl TargetSet {
    /// The targets seeded from the plans: overall "trên 90%"; land (`dat_dai`), construction
    /// (`xay_dung`) and investment (`dau_tu`) fields "tối thiểu 85%"; health (`y_te`) and
    /// education (`giao_duc`) "trên 80%", both as fields and as agency kinds.
    pub fn plan_default() -> TargetSet {
        let t = |scope, comparator, threshold_pct| Target {
            scope,
            comparator,
            threshold_pct,
        };
        use Comparator::{Ge, Gt};
        TargetSet {
            targets: vec![
                t(TargetScope::Overall, Gt, 90.0),
                t(TargetScope::Field("dat_dai".into()), Ge, 85.0),
                t(TargetScope::Field("xay_dung".into()), Ge, 85.0),
                t(TargetScope::Field("dau_tu".into()), Ge, 85.0),
                t(TargetScope::Field("y_te".into()), Gt, 80.0),
                t(TargetScope::Field("giao_duc".into()), Gt, 80.0),
                t(TargetScope::AgencyKind("y_te".into()), Gt, 80.0),
                t(TargetScope::AgencyKind("giao_duc".into()), Gt, 80.0),
            ],
        }
    }

    /// Checks thresholds are in 0–100 and no scope has two targets.
    pub fn validate(&self) -> Result<(), TargetError> {
        for (i, t) in self.targets.iter().enumerate() {
            if !(t.threshold_pct.is_finite() && (0.0..=100.0).contains(&t.threshold_pct)) {
                return Err(TargetError::BadThreshold(t.threshold_pct));
            }
            if self.targets[..i].iter().any(|o| o.scope == t.scope) {
                return Err(TargetError::DuplicateScope(t.scope.clone()));
            }
        }
        Ok(())
    }

    /// The figure a target reads in `cell` of a breakdown of `dimension`, if it applies.
    fn applies<'c>(
        target: &Target,
        dimension: &DimensionKind,
        cell: &'c BreakdownCell,
    ) -> Option<&'c Figure> {
        match &target.scope {
            TargetScope::Overall => cell.figure(ReportLevel::Overall, ""),
            TargetScope::Group(code) => cell.figure(ReportLevel::Group, code),
            TargetScope::Field(code) => (matches!(dimension, DimensionKind::Field)
                && &cell.key == code)
                .then(|| cell.figure(ReportLevel::Overall, ""))
                .flatten(),
            TargetScope::AgencyKind(code) => (matches!(dimension, DimensionKind::AgencyKind)
                && &cell.key == code)
                .then(|| cell.figure(ReportLevel::Overall, ""))
                .flatten(),
        }
    }

    /// Evaluates every applicable target on the round total and each cell of `round_id`
    /// (total first, then cells in key order; targets in set order within a cell).
    pub fn evaluate_breakdown(&self, breakdown: &Breakdown, round_id: &str) -> Vec<TargetResult> {
        let mut out = Vec::new();
        let cells = breakdown
            .total(round_id)
            .into_iter()
            .chain(breakdown.round_cells(round_id));
        for cell in cells {
            for target in &self.targets {
                if let Some(f) = Self::applies(target, &breakdown.dimension, cell) {
                    let status = evaluate(f, target.comparator, target.threshold_pct);
                    out.push(TargetResult {
                        key: cell.key.clone(),
                        target: target.clone(),
                        pct_satisfied: (status != TargetStatus::NotEnoughData)
                            .then(|| f.pct_satisfied.map(|p| round_to(p, PUBLISHED_DECIMALS)))
                            .flatten(),
                        status,
                    });
                }
            }
        }
        out
    }
}
