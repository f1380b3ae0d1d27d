//! Rankings of cells of one level by % satisfied (agencies of one kind, communes of a
//! province, provinces).
//!
//! * **Standard competition ranking** ("1224"): equal values share a rank and the next rank
//!   skips, e.g. 90, 85, 85, 80 → 1, 2, 2, 4. Nothing breaks a tie.
//! * **Precision**: values are compared as published, rounded half away from zero to
//!   [`PUBLISHED_DECIMALS`] (2) decimals, so 85.004% and 84.996% (both shown as 85.00) tie,
//!   and a reader can check every rank against the printed table.
//! * **Minimum N**: only cells whose figure is not suppressed (base N ≥ min N, see
//!   [`crate::suppression`]) and has a value are ranked; the others are listed after the
//!   ranked ones as [`RankStatus::NotEnoughResponses`] ("chưa đủ mẫu"), never ranked.
//! * Listing order: by rank, then by key; unranked cells by key.
use crate::breakdown::Breakdown;
use crate::figure::{Figure, PUBLISHED_DECIMALS, published_units, round_to};
use crate::report::ReportLevel;
use serde::{Deserialize, Serialize};

/// Vietnamese label of an unranked cell.
pub const NOT_ENOUGH_LABEL_VI: &str = "chưa đủ mẫu";

/// English label of an unranked cell.
pub const NOT_ENOUGH_LABEL_EN: &str = "not enough responses";

/// Whether a cell was ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankStatus {
    /// Ranked.
    Ranked,
    /// Below the minimum N (or without valid answers): not ranked.
    NotEnoughResponses,
}

impl RankStatus {
    /// Vietnamese label (empty for ranked cells).
    pub fn label_vi(self) -> &'static str {
        match self {
            RankStatus::Ranked => "",
            RankStatus::NotEnoughResponses => NOT_ENOUGH_LABEL_VI,
        }
    }
}

/// One line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankEntry {
    /// Cell key (unit, agency, field … code).
    pub key: String,
    /// Label of the cell, if known.
    pub label: Option<String>,
    /// % satisfied as published (rounded); `None` when not ranked.
    pub pct_satisfied: Option<f64>,
    /// The base N of the figure.
    pub n: usize,
    /// Competition rank from 1; `None` when not ranked.
    pub rank: Option<usize>,
    /// Ranked or not.
    pub status: RankStatus,
}

/// Ranks `(key, label, figure)` entries (see the module documentation for the rules).
pub fn rank_figures<'a, I>(entries: I) -> Vec<RankEntry>
where
    I: IntoIterator<Item = (&'a str, Option<&'a str>, &'a Figure)>,
{
    let mut ranked: Vec<(i64, RankEntry)> = Vec::new();
    let mut unranked: Vec<RankEntry> = Vec::new();
    for (key, label, f) in entries {
        let entry = RankEntry {
            key: key.to_owned(),
            label: label.map(str::to_owned),
            pct_satisfied: None,
            n: f.n,
            rank: None,
            status: RankStatus::NotEnoughResponses,
        };
        match f.pct_satisfied.filter(|_| !f.suppressed) {
            Some(p) => ranked.push((
                published_units(p),
                RankEntry {
                    pct_satisfied: Some(round_to(p, PUBLISHED_DECIMALS)),
                    status: RankStatus::Ranked,
                    ..entry
                },
            )),
            None => unranked.push(entry),
        }
    }
    ranked.sort_by(|(a, ea), (b, eb)| b.cmp(a).then_with(|| ea.key.cmp(&eb.key)));
    let mut out = Vec::with_capacity(ranked.len() + unranked.len());
    let mut previous: Option<(i64, usize)> = None;
    for (i, (value, mut entry)) in ranked.into_iter().enumerate() {
        let rank = match previous {
            Some((v, r)) if v == value => r,
            _ => i + 1,
        };
        previous = Some((value, rank));
        entry.rank = Some(rank);
        out.push(entry);
    }
    unranked.sort_by(|a, b| a.key.cmp(&b.key));
    out.extend(unranked);
    out
}

/// Ranks the cells of `round_id` in `breakdown` on the row (`level`, `code`) (the overall
/// row under any code). Cells without that row are left out.
pub fn rank_breakdown(
    breakdown: &Breakdown,
    round_id: &str,
    level: ReportLevel,
    code: &str,
) -> Vec<RankEntry> {
    rank_cells(breakdown, round_id, level, code, |_| true)
}

/// As [`rank_breakdown`], among the cells whose key passes `keep` (e.g. the communes of one
/// province, the agencies of one kind).
pub fn rank_cells<F>(
    breakdown: &Breakdown,
    round_id: &str,
    level: ReportLevel,
    code: &str,
    keep: F,
) -> Vec<RankEntry>
where
    F: Fn(&str) -> bool,
{
    rank_figures(
        breakdown
            .round_cells(round_id)
            .filter(|c| keep(&c.key))
            .filter_map(|c| {
                c.figure(level, code)
                    .map(|f| (c.key.as_str(), c.label.as_deref(), f))
            }),
    )
}
