//! Comparison of a round with an earlier round: per cell and per criterion / group / overall
//! row, the change in percentage points and in rank, whether it dropped, and whether the
//! change is larger than sampling noise explains.
//!
//! * **Matching rows across questionnaire versions**: the same item (or group) code is the
//!   same criterion; a [`CodeMapping`] says otherwise for renamed criteria (old `A` → new
//!   `B`) and split ones (old `A` → new `B1`, `B2`: each new criterion is compared with
//!   the old one). Mapping several old codes to one new code (a merge) is refused: the old
//!   value would have to be recomputed. The overall row is always matched.
//! * **Change** `delta_pp` = later − earlier of the *published* values (rounded to
//!   [`PUBLISHED_DECIMALS`]), so it equals the difference of the printed numbers;
//!   **dropped** when `delta_pp < 0`.
//! * **Rank change** = earlier rank − later rank (positive: moved up), ranks from
//!   [`crate::ranking`] among all cells of each round's breakdown; `None` when either is
//!   unranked. To rank among peers only (communes of one province, agencies of one kind),
//!   build the breakdowns from those peers' responses.
//! * **Significance**: two-proportion z-test at 95% ([`two_proportion_z`]) on the exact
//!   values and the rows' base N ([`crate::interval`] says which N); the Wilson intervals'
//!   overlap is reported too (`intervals_overlap`). Suppressed rows are not compared.
//! * Cells are matched by key (same unit / agency / field code); a cell only in the earlier
//!   round is not listed, one only in the later round has no earlier values.
use crate::breakdown::{Breakdown, BreakdownCell};
use crate::figure::{Figure, PUBLISHED_DECIMALS, round_to};
use crate::interval::two_proportion_z;
use crate::ranking::{RankEntry, rank_breakdown};
use crate::report::ReportLevel;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One entry of a mapping table: an old code and the new code(s) it became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingEntry {
    /// Code in the earlier round's form.
    pub old: String,
    /// Code(s) in the later round's form: one for a rename, several for a split.
    pub new: Vec<String>,
}

/// A mapping table between the criteria (and groups) of two questionnaire versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeMapping {
    /// The entries; codes not listed map to themselves.
    pub entries: Vec<MappingEntry>,
}

/// Why two rounds could not be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComparisonError {
    /// The earlier or later round has no total in its breakdown.
    #[error("round {0} is not in the breakdown")]
    UnknownRound(String),
    /// A mapping entry has no new code.
    #[error("mapping of {0} names no new code")]
    EmptyMapping(String),
    /// A mapping names an old code that is no criterion or group of the earlier form.
    #[error("mapped old code {0} is not a criterion or group of the earlier round")]
    UnknownOldCode(String),
    /// A mapping names a new code that is no criterion or group of the later form.
    #[error("mapped new code {0} is not a criterion or group of the later round")]
    UnknownNewCode(String),
    /// A new code is the target of two old codes (a merge), or listed twice.
    #[error("new code {0} is mapped from more than one old code")]
    MergedCode(String),
    /// A mapping pairs a criterion with a group.
    #[error("mapping {old} → {new} pairs different levels")]
    LevelMismatch {
        /// Old code.
        old: String,
        /// New code.
        new: String,
    },
}

/// The comparison of one row of one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowComparison {
    /// Row level.
    pub level: ReportLevel,
    /// Code in the later form.
    pub code: String,
    /// Code it was matched with in the earlier form (`None`: a new criterion).
    pub earlier_code: Option<String>,
    /// Whether the earlier criterion was split (this is one of several new codes).
    pub split: bool,
    /// Earlier figure (suppression applied).
    pub earlier: Option<Figure>,
    /// Later figure (suppression applied).
    pub later: Figure,
    /// Later − earlier published % satisfied, in percentage points (rounded to
    /// [`PUBLISHED_DECIMALS`]); `None` unless both are published.
    pub delta_pp: Option<f64>,
    /// `delta_pp < 0`.
    pub dropped: bool,
    /// Rank in the earlier round.
    pub earlier_rank: Option<usize>,
    /// Rank in the later round.
    pub later_rank: Option<usize>,
    /// Earlier rank − later rank (positive: moved up).
    pub rank_change: Option<i64>,
    /// z statistic (positive: later higher).
    pub z: Option<f64>,
    /// Whether the change is significant at 95% by the z-test.
    pub significant: Option<bool>,
    /// Whether the two 95% Wilson intervals overlap.
    pub intervals_overlap: Option<bool>,
}

/// The comparison of one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellComparison {
    /// Cell key ([`crate::index::ALL_UNITS`] for the round totals).
    pub key: String,
    /// Label of the later cell.
    pub label: Option<String>,
    /// One per row of the later cell, in its order.
    pub rows: Vec<RowComparison>,
}

/// A round compared with an earlier one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Earlier round.
    pub earlier_round: String,
    /// Later round.
    pub later_round: String,
    /// The round totals first, then each cell of the later round in key order.
    pub cells: Vec<CellComparison>,
}

/// Earlier code and split flag of each later code.
type Resolved = BTreeMap<String, (String, bool)>;

fn resolve(
    mapping: &CodeMapping,
    earlier: &BreakdownCell,
    later: &BreakdownCell,
) -> Result<Resolved, ComparisonError> {
    let level_of = |cell: &BreakdownCell, code: &str| {
        cell.figures
            .iter()
            .find(|f| f.level != ReportLevel::Overall && f.code == code)
            .map(|f| f.level)
    };
    let mut out = Resolved::new();
    for e in &mapping.entries {
        let old_level = level_of(earlier, &e.old)
            .ok_or_else(|| ComparisonError::UnknownOldCode(e.old.clone()))?;
        if e.new.is_empty() {
            return Err(ComparisonError::EmptyMapping(e.old.clone()));
        }
        for n in &e.new {
            let new_level =
                level_of(later, n).ok_or_else(|| ComparisonError::UnknownNewCode(n.clone()))?;
            if new_level != old_level {
                return Err(ComparisonError::LevelMismatch {
                    old: e.old.clone(),
                    new: n.clone(),
                });
            }
            if out
                .insert(n.clone(), (e.old.clone(), e.new.len() > 1))
                .is_some()
            {
                return Err(ComparisonError::MergedCode(n.clone()));
            }
        }
    }
    Ok(out)
}

fn rank_of(entries: &[RankEntry], key: &str) -> Option<usize> {
    entries.iter().find(|e| e.key == key).and_then(|e| e.rank)
}

fn compare_rows(
    level: ReportLevel,
    code: &str,
    earlier_code: Option<(&str, bool)>,
    earlier: Option<&Figure>,
    later: &Figure,
    ranks: (Option<usize>, Option<usize>),
) -> RowComparison {
    let pct = |f: Option<&Figure>| f.filter(|f| !f.suppressed).and_then(|f| f.pct_satisfied);
    let (e, l) = (pct(earlier), pct(Some(later)));
    let delta = e.zip(l).map(|(e, l)| {
        round_to(
            round_to(l, PUBLISHED_DECIMALS) - round_to(e, PUBLISHED_DECIMALS),
            PUBLISHED_DECIMALS,
        )
    });
    let test = e
        .zip(l)
        .and_then(|(e, l)| two_proportion_z(e, earlier.map_or(0, |f| f.n), l, later.n));
    let overlap = earlier
        .and_then(|f| f.interval)
        .zip(later.interval)
        .map(|(a, b)| a.overlaps(&b));
    RowComparison {
        level,
        code: code.to_owned(),
        earlier_code: earlier_code.map(|(c, _)| c.to_owned()),
        split: earlier_code.is_some_and(|(_, s)| s),
        earlier: earlier.cloned(),
        later: later.clone(),
        delta_pp: delta,
        dropped: delta.is_some_and(|d| d < 0.0),
        earlier_rank: ranks.0,
        later_rank: ranks.1,
        rank_change: ranks.0.zip(ranks.1).map(|(a, b)| a as i64 - b as i64),
        z: test.map(|t| t.z),
        significant: test.map(|t| t.significant),
        intervals_overlap: overlap,
    }
}

/// Compares `later_round` of `later` with `earlier_round` of `earlier` (two breakdowns of
/// the same dimension, possibly of different form versions), matching rows by code and
/// `mapping`.
pub fn compare_rounds(
    earlier: &Breakdown,
    earlier_round: &str,
    later: &Breakdown,
    later_round: &str,
    mapping: &CodeMapping,
) -> Result<Comparison, ComparisonError> {
    let e_total = earlier
        .total(earlier_round)
        .ok_or_else(|| ComparisonError::UnknownRound(earlier_round.to_owned()))?;
    let l_total = later
        .total(later_round)
        .ok_or_else(|| ComparisonError::UnknownRound(later_round.to_owned()))?;
    let resolved = resolve(mapping, e_total, l_total)?;
    let earlier_code = |f: &Figure| -> Option<(String, bool)> {
        if f.level == ReportLevel::Overall {
            return Some((f.code.clone(), false));
        }
        resolved.get(&f.code).cloned().or_else(|| {
            e_total
                .figure(f.level, &f.code)
                .map(|_| (f.code.clone(), false))
        })
    };
    // Rankings per row, computed once per (level, code).
    let mut e_ranks: BTreeMap<(ReportLevel, String), Vec<RankEntry>> = BTreeMap::new();
    let mut l_ranks: BTreeMap<(ReportLevel, String), Vec<RankEntry>> = BTreeMap::new();
    for f in &l_total.figures {
        l_ranks.insert(
            (f.level, f.code.clone()),
            rank_breakdown(later, later_round, f.level, &f.code),
        );
        if let Some((old, _)) = earlier_code(f) {
            e_ranks
                .entry((f.level, old.clone()))
                .or_insert_with(|| rank_breakdown(earlier, earlier_round, f.level, &old));
        }
    }
    let compare_cell = |e_cell: Option<&BreakdownCell>, l_cell: &BreakdownCell, ranked: bool| {
        let rows = l_cell
            .figures
            .iter()
            .map(|f| {
                let old = earlier_code(f);
                let e_fig = old
                    .as_ref()
                    .and_then(|(c, _)| e_cell.and_then(|cell| cell.figure(f.level, c)));
                let ranks = if ranked {
                    (
                        old.as_ref().and_then(|(c, _)| {
                            e_ranks
                                .get(&(f.level, c.clone()))
                                .and_then(|r| rank_of(r, &l_cell.key))
                        }),
                        l_ranks
                            .get(&(f.level, f.code.clone()))
                            .and_then(|r| rank_of(r, &l_cell.key)),
                    )
                } else {
                    (None, None)
                };
                compare_rows(
                    f.level,
                    &f.code,
                    old.as_ref().map(|(c, s)| (c.as_str(), *s)),
                    e_fig,
                    f,
                    ranks,
                )
            })
            .collect();
        CellComparison {
            key: l_cell.key.clone(),
            label: l_cell.label.clone(),
            rows,
        }
    };
    let mut cells = vec![compare_cell(Some(e_total), l_total, false)];
    for l_cell in later.round_cells(later_round) {
        cells.push(compare_cell(
            earlier.cell(earlier_round, &l_cell.key),
            l_cell,
            true,
        ));
    }
    Ok(Comparison {
        earlier_round: earlier_round.to_owned(),
        later_round: later_round.to_owned(),
        cells,
    })
}
