//! The SIPAS index engine: % satisfied and mean score per criterion, group (element) and
//! overall, for every (round, unit) cell, with per-round and ancestor-unit roll-ups.
//!
//! # Definitions (SIPAS.md §4; the aggregation rules are marked \[I\] there)
//!
//! * **Criterion**: a rating item in a criteria group ([`Item::is_criterion`]).
//! * **Valid answer**: a rating value that is one of the points of the criterion's scale.
//!   The scale's `no_answer` code (e.g. 9), a missing answer and an answer to an item that was
//!   not relevant for the respondent (skip logic, evaluated with
//!   [`crate::relevance::relevant_items`]; counted in `not_relevant_n`, any stale answer
//!   ignored) are *not* valid and do not count in valid N. Any other value (off-scale integer,
//!   text) is counted as `invalid_n` and also left out.
//! * **Satisfied**: a valid value `>= satisfied_from` (SIPAS: 4 "Hài lòng" and 5 "Rất hài
//!   lòng"). 3 "Bình thường" is neutral, not satisfied.
//! * **Criterion % satisfied** = 100 × satisfied / valid; **mean** = mean of valid values.
//!   Both are `None` when valid N is 0.
//! * **Group and overall**, by [`Aggregation`]:
//!   * [`Aggregation::MeanOfCriteria`]: a group's value is the unweighted mean of its criteria's
//!     values (criteria with valid N = 0 left out); overall is the unweighted mean of the
//!     overall groups' values (groups with no valid answers left out).
//!   * [`Aggregation::Pooled`]: a group's value is computed over all valid answers of its
//!     criteria pooled; overall over all valid answers of the overall groups pooled.
//!
//!   Both rules are always computed and reported ([`AggregateScore::by_rule`]); the configured
//!   one is copied into `pct_satisfied` / `mean`.
//! * **Roll-ups** (all units of a round, or communes to their province) pool *respondents*:
//!   a province's criterion % is over all its respondents' answers, and the group / overall
//!   rule is then applied to those pooled criteria. They are not means of the child units'
//!   indices.
//!
//! * **Base N of a group / the overall index**: besides the pooled answer counts, each
//!   [`AggregateScore`] carries `respondents_n`, the respondents with at least one valid
//!   answer to its criteria; the suppression rule ([`crate::suppression`]) and the
//!   confidence interval ([`crate::interval`]) use it.
//!
//! Percentages are `f64` in 0–100 and never rounded internally; use [`round2`] for display.
//! The engine takes every response it is given: pass only the latest accepted revision of
//! each response.
use crate::answer::{AnswerValue, Answers};
use crate::questionnaire::{FormKey, GroupKind, Item, Questionnaire};
use crate::relevance::relevant_items;
use crate::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Unit code used for the "all units" roll-up cell of each round.
pub const ALL_UNITS: &str = "*";

/// Satisfaction threshold used when neither the config nor the scale gives one.
pub const DEFAULT_SATISFIED_FROM: i64 = 4;

/// How criteria are combined into a group value and groups into the overall value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Group = unweighted mean of its criteria's values; overall = unweighted mean of the
    /// groups' values. Parts without valid answers are left out. (Default; SIPAS.md §4 \[I\].)
    #[default]
    MeanOfCriteria,
    /// Group = all valid answers of its criteria pooled; overall = all valid answers of the
    /// overall groups pooled. Criteria and groups with more valid answers weigh more.
    Pooled,
}

/// Configuration of an index computation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// The aggregation rule reported as *the* value (both are always computed).
    pub aggregation: Aggregation,
    /// Override of the smallest satisfied value for every criterion scale; default: the
    /// scale's `satisfied_from`, else [`DEFAULT_SATISFIED_FROM`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub satisfied_from: Option<i64>,
    /// Codes of the criteria groups forming the overall index; default: every criteria group
    /// whose `in_overall_index` is not `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overall_groups: Option<Vec<String>>,
}

/// Why an index could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IndexError {
    /// A response was collected with another form or version than the one given.
    #[error("response {response_id} was collected with form {found}, not {expected}")]
    FormMismatch {
        /// The response's id.
        response_id: Uuid,
        /// The form the index is computed for.
        expected: FormKey,
        /// The form the response names.
        found: FormKey,
    },
    /// A criterion names no scale, or a scale the form does not define.
    #[error("criterion {item} has no usable scale ({scale:?} is not defined in the form)")]
    UnknownScale {
        /// Item code.
        item: String,
        /// The scale name given, if any.
        scale: Option<String>,
    },
    /// The satisfaction threshold is not a point of a criterion scale.
    #[error("satisfied_from {value} is not a point of scale {scale}")]
    SatisfiedFromOffScale {
        /// Scale name.
        scale: String,
        /// The threshold in effect.
        value: i64,
    },
    /// `overall_groups` names a group that is not a criteria group of the form.
    #[error("overall group {0} is not a criteria group of the form")]
    NotACriteriaGroup(String),
    /// `overall_groups` names a group twice.
    #[error("overall group {0} is listed twice")]
    DuplicateOverallGroup(String),
    /// A count row names an item or outcome the form's counts cannot have (stale counts of
    /// another form, or a storage defect).
    #[error("count row ({item:?}, {outcome:?}) does not fit the form")]
    UnknownCountKey {
        /// The row's item ([`RESPONDENT_ITEM`] for the respondent row).
        item: String,
        /// The row's outcome.
        outcome: String,
    },
}

/// One (round, unit) input row: what the engine needs from a response.
#[derive(Debug, Clone, Copy)]
pub struct IndexInput<'a> {
    /// Survey round.
    pub round_id: &'a str,
    /// Administrative unit code.
    pub unit_code: &'a str,
    /// The response's answers.
    pub answers: &'a Answers,
}

impl<'a> From<&'a Response> for IndexInput<'a> {
    fn from(r: &'a Response) -> Self {
        IndexInput {
            round_id: &r.round_id,
            unit_code: &r.unit_code,
            answers: &r.answers,
        }
    }
}

/// Statistics of one criterion in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Item code.
    pub code: String,
    /// Code of the criteria group it belongs to.
    pub group: String,
    /// Number of valid answers (scale points).
    pub valid_n: usize,
    /// Number of valid answers `>= satisfied_from`.
    pub satisfied_n: usize,
    /// Number of explicit "no answer" codes.
    pub no_answer_n: usize,
    /// Number of answers that are neither a scale point nor the no-answer code.
    pub invalid_n: usize,
    /// Number of respondents for whom the item was not relevant (skipped).
    pub not_relevant_n: usize,
    /// 100 × satisfied / valid; `None` when valid N is 0.
    pub pct_satisfied: Option<f64>,
    /// Mean of the valid values; `None` when valid N is 0.
    pub mean: Option<f64>,
}

/// The value of a group or of the overall index under one aggregation rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RuleValue {
    /// % satisfied (0–100), `None` when there are no valid answers.
    pub pct_satisfied: Option<f64>,
    /// Mean score, `None` when there are no valid answers.
    pub mean: Option<f64>,
}

/// The values of a group or of the overall index under both aggregation rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ByRule {
    /// Under [`Aggregation::MeanOfCriteria`].
    pub mean_of_criteria: RuleValue,
    /// Under [`Aggregation::Pooled`].
    pub pooled: RuleValue,
}

impl ByRule {
    /// The value under `rule`.
    pub fn get(&self, rule: Aggregation) -> RuleValue {
        match rule {
            Aggregation::MeanOfCriteria => self.mean_of_criteria,
            Aggregation::Pooled => self.pooled,
        }
    }
}

/// Statistics of a group or of the overall index in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateScore {
    /// Respondents with at least one valid answer to its criteria: the base N of the group /
    /// overall value (each respondent counted once, however many criteria they answered).
    /// The suppression rule ([`crate::suppression`]) and the interval
    /// ([`crate::interval`]) use this N.
    pub respondents_n: usize,
    /// Valid answers over all its criteria (pooled count).
    pub valid_n: usize,
    /// Satisfied answers over all its criteria (pooled count).
    pub satisfied_n: usize,
    /// Explicit "no answer" codes over all its criteria.
    pub no_answer_n: usize,
    /// Invalid answers over all its criteria.
    pub invalid_n: usize,
    /// Skipped (not relevant) criteria over all its criteria and respondents.
    pub not_relevant_n: usize,
    /// Parts that had valid answers (criteria of a group, groups of the overall index).
    pub parts_used: usize,
    /// % satisfied under the configured rule.
    pub pct_satisfied: Option<f64>,
    /// Mean score under the configured rule.
    pub mean: Option<f64>,
    /// Both rules' values.
    pub by_rule: ByRule,
}

/// Statistics of one criteria group (SIPAS element) in one cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupScore {
    /// Group code.
    pub code: String,
    /// SIPAS element the group measures, if given.
    pub element: Option<String>,
    /// Whether the group counts in the overall index of this report.
    pub in_overall: bool,
    /// The statistics.
    #[serde(flatten)]
    pub score: AggregateScore,
}

/// All statistics for one (round, unit) cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexCell {
    /// Survey round.
    pub round_id: String,
    /// Unit code ([`ALL_UNITS`] for a round total).
    pub unit_code: String,
    /// Responses counted, including ones without any valid criterion answer.
    pub respondents: usize,
    /// Per criterion, in form order.
    pub criteria: Vec<Score>,
    /// Per criteria group, in form order.
    pub groups: Vec<GroupScore>,
    /// The overall index.
    pub overall: AggregateScore,
}

impl IndexCell {
    /// The criterion with this code.
    pub fn criterion(&self, code: &str) -> Option<&Score> {
        self.criteria.iter().find(|c| c.code == code)
    }

    /// The group with this code.
    pub fn group(&self, code: &str) -> Option<&GroupScore> {
        self.groups.iter().find(|g| g.code == code)
    }
}

/// The result of an index computation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexReport {
    /// The form the index was computed for.
    pub form: FormKey,
    /// The configuration used.
    pub config: IndexConfig,
    /// The groups forming the overall index (resolved from the config).
    pub overall_groups: Vec<String>,
    /// One cell per (round, unit), sorted by round then unit.
    pub cells: Vec<IndexCell>,
    /// One cell per round over all units (unit code [`ALL_UNITS`]), sorted by round.
    pub round_totals: Vec<IndexCell>,
    /// Unit codes the roll-up mapping returned `None` for (sorted); their responses are in
    /// `round_totals` but in no cell. Always empty without a mapping.
    pub unmapped_units: Vec<String>,
}

impl IndexReport {
    /// The cell of this round and unit.
    pub fn cell(&self, round_id: &str, unit_code: &str) -> Option<&IndexCell> {
        self.cells
            .iter()
            .find(|c| c.round_id == round_id && c.unit_code == unit_code)
    }

    /// The all-units cell of this round.
    pub fn round_total(&self, round_id: &str) -> Option<&IndexCell> {
        self.round_totals.iter().find(|c| c.round_id == round_id)
    }
}

/// Rounds to two decimals (half away from zero), for display only.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[derive(Debug, Clone)]
struct CriterionSpec {
    code: String,
    group: usize,
    points: Vec<i64>,
    no_answer: Option<i64>,
    satisfied_from: i64,
}

#[derive(Debug, Clone)]
struct GroupSpec {
    code: String,
    element: Option<String>,
    in_overall: bool,
    criteria: Vec<usize>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    valid_n: usize,
    satisfied_n: usize,
    no_answer_n: usize,
    invalid_n: usize,
    not_relevant_n: usize,
    sum: i64,
}

impl Tally {
    fn merge(&mut self, o: &Tally) {
        self.valid_n += o.valid_n;
        self.satisfied_n += o.satisfied_n;
        self.no_answer_n += o.no_answer_n;
        self.invalid_n += o.invalid_n;
        self.not_relevant_n += o.not_relevant_n;
        self.sum += o.sum;
    }

    fn value(&self) -> RuleValue {
        let n = self.valid_n;
        RuleValue {
            pct_satisfied: (n > 0).then(|| 100.0 * self.satisfied_n as f64 / n as f64),
            mean: (n > 0).then(|| self.sum as f64 / n as f64),
        }
    }
}

#[derive(Debug, Clone)]
struct CellTally {
    respondents: usize,
    criteria: Vec<Tally>,
    /// Per group: respondents with at least one valid answer to its criteria.
    group_respondents: Vec<usize>,
    /// Respondents with at least one valid answer to a criterion of an overall group.
    overall_respondents: usize,
}

impl CellTally {
    fn new(n: usize, groups: usize) -> Self {
        CellTally {
            respondents: 0,
            criteria: vec![Tally::default(); n],
            group_respondents: vec![0; groups],
            overall_respondents: 0,
        }
    }

    fn merge(&mut self, o: &CellTally) {
        self.respondents += o.respondents;
        for (a, b) in self.criteria.iter_mut().zip(&o.criteria) {
            a.merge(b);
        }
        for (a, b) in self.group_respondents.iter_mut().zip(&o.group_respondents) {
            *a += b;
        }
        self.overall_respondents += o.overall_respondents;
    }
}

/// Unweighted mean of the `Some` values and how many there were.
fn mean_of_some(values: impl IntoIterator<Item = Option<f64>>) -> (Option<f64>, usize) {
    let (sum, n) = values
        .into_iter()
        .flatten()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    ((n > 0).then(|| sum / n as f64), n)
}

/// Builds an [`AggregateScore`] from its parts' pooled tallies and mean-of-criteria values.
fn aggregate(parts: &[(Tally, RuleValue)], rule: Aggregation) -> AggregateScore {
    let mut pooled = Tally::default();
    for (t, _) in parts {
        pooled.merge(t);
    }
    let (pct, used) = mean_of_some(parts.iter().map(|(_, v)| v.pct_satisfied));
    let (mean, _) = mean_of_some(parts.iter().map(|(_, v)| v.mean));
    let by_rule = ByRule {
        mean_of_criteria: RuleValue {
            pct_satisfied: pct,
            mean,
        },
        pooled: pooled.value(),
    };
    let chosen = by_rule.get(rule);
    AggregateScore {
        respondents_n: 0,
        valid_n: pooled.valid_n,
        satisfied_n: pooled.satisfied_n,
        no_answer_n: pooled.no_answer_n,
        invalid_n: pooled.invalid_n,
        not_relevant_n: pooled.not_relevant_n,
        parts_used: used,
        pct_satisfied: chosen.pct_satisfied,
        mean: chosen.mean,
        by_rule,
    }
}

/// Streaming index computation: add rows one by one, then build reports. Lets a server
/// feed database rows without materialising [`Response`]s, and produce several roll-ups
/// from one pass.
#[derive(Debug, Clone)]
pub struct IndexAccumulator<'f> {
    form: &'f Questionnaire,
    config: IndexConfig,
    criteria: Vec<CriterionSpec>,
    groups: Vec<GroupSpec>,
    /// Whether some criterion or its group has a relevance condition.
    conditional: bool,
    cells: BTreeMap<(String, String), CellTally>,
}

impl<'f> IndexAccumulator<'f> {
    /// Prepares a computation for `form`, checking the config and the criteria's scales.
    pub fn new(form: &'f Questionnaire, config: IndexConfig) -> Result<Self, IndexError> {
        let criteria_groups: Vec<_> = form
            .groups
            .iter()
            .filter(|g| g.kind == GroupKind::Criteria)
            .collect();
        let overall: Vec<String> = match &config.overall_groups {
            Some(list) => {
                let mut seen: Vec<&String> = Vec::new();
                for code in list {
                    if !criteria_groups.iter().any(|g| &g.code == code) {
                        return Err(IndexError::NotACriteriaGroup(code.clone()));
                    }
                    if seen.contains(&code) {
                        return Err(IndexError::DuplicateOverallGroup(code.clone()));
                    }
                    seen.push(code);
                }
                list.clone()
            }
            None => criteria_groups
                .iter()
                .filter(|g| g.in_overall_index != Some(false))
                .map(|g| g.code.clone())
                .collect(),
        };
        let mut groups = Vec::new();
        let mut criteria = Vec::new();
        let mut conditional = false;
        for g in criteria_groups {
            let gi = groups.len();
            let mut spec = GroupSpec {
                code: g.code.clone(),
                element: g.element.clone(),
                in_overall: overall.contains(&g.code),
                criteria: Vec::new(),
            };
            for item in g.items.iter().filter(|i| i.is_criterion(g)) {
                conditional |= g.relevant.is_some() || item.relevant.is_some();
                spec.criteria.push(criteria.len());
                criteria.push(criterion_spec(form, &config, item, gi)?);
            }
            groups.push(spec);
        }
        Ok(IndexAccumulator {
            form,
            config,
            criteria,
            groups,
            conditional,
            cells: BTreeMap::new(),
        })
    }

    /// Adds one response's answers to its (round, unit) cell.
    pub fn add(&mut self, input: IndexInput<'_>) {
        let (n, ng) = (self.criteria.len(), self.groups.len());
        let cell = self
            .cells
            .entry((input.round_id.to_owned(), input.unit_code.to_owned()))
            .or_insert_with(|| CellTally::new(n, ng));
        cell.respondents += 1;
        let mut group_has_valid = vec![false; ng];
        let relevant: Option<Vec<&str>> = self.conditional.then(|| {
            relevant_items(self.form, input.answers)
                .into_iter()
                .map(|(_, i)| i.code.as_str())
                .collect()
        });
        for (spec, tally) in self.criteria.iter().zip(cell.criteria.iter_mut()) {
            if relevant
                .as_ref()
                .is_some_and(|r| !r.contains(&spec.code.as_str()))
            {
                tally.not_relevant_n += 1;
                continue;
            }
            match input.answers.get(&spec.code) {
                None => {}
                Some(AnswerValue::Int(v)) if spec.points.contains(v) => {
                    group_has_valid[spec.group] = true;
                    tally.valid_n += 1;
                    tally.sum += v;
                    if *v >= spec.satisfied_from {
                        tally.satisfied_n += 1;
                    }
                }
                Some(AnswerValue::Int(v)) if spec.no_answer == Some(*v) => tally.no_answer_n += 1,
                Some(_) => tally.invalid_n += 1,
            }
        }
        let mut any_overall = false;
        for (gi, has) in group_has_valid.into_iter().enumerate() {
            if has {
                cell.group_respondents[gi] += 1;
                any_overall |= self.groups[gi].in_overall;
            }
        }
        if any_overall {
            cell.overall_respondents += 1;
        }
    }

    /// Adds a response after checking it was collected with this accumulator's form.
    pub fn add_response(&mut self, r: &Response) -> Result<(), IndexError> {
        let expected = self.form.key();
        if r.form != expected {
            return Err(IndexError::FormMismatch {
                response_id: r.id,
                expected,
                found: r.form.clone(),
            });
        }
        self.add(r.into());
        Ok(())
    }

    /// The report with one cell per (round, unit) as added.
    pub fn report(&self) -> IndexReport {
        self.report_rolled_up(|u| Some(u.to_owned()))
    }

    /// The report with each unit code replaced by `map(code)` before grouping, e.g. a
    /// commune mapped to its province via [`crate::units::UnitTree::ancestor_at_level`].
    /// Units mapped to `None` are listed in [`IndexReport::unmapped_units`] and only count in
    /// the round totals.
    pub fn report_rolled_up<F>(&self, map: F) -> IndexReport
    where
        F: Fn(&str) -> Option<String>,
    {
        let (n, ng) = (self.criteria.len(), self.groups.len());
        let mut mapped: BTreeMap<(String, String), CellTally> = BTreeMap::new();
        let mut totals: BTreeMap<String, CellTally> = BTreeMap::new();
        let mut unmapped = Vec::new();
        for ((round, unit), tally) in &self.cells {
            totals
                .entry(round.clone())
                .or_insert_with(|| CellTally::new(n, ng))
                .merge(tally);
            match map(unit) {
                Some(target) => mapped
                    .entry((round.clone(), target))
                    .or_insert_with(|| CellTally::new(n, ng))
                    .merge(tally),
                None => unmapped.push(unit.clone()),
            }
        }
        unmapped.sort();
        unmapped.dedup();
        IndexReport {
            form: self.form.key(),
            config: self.config.clone(),
            overall_groups: self
                .groups
                .iter()
                .filter(|g| g.in_overall)
                .map(|g| g.code.clone())
                .collect(),
            cells: mapped
                .iter()
                .map(|((r, u), t)| self.cell(r, u, t))
                .collect(),
            round_totals: totals
                .iter()
                .map(|(r, t)| self.cell(r, ALL_UNITS, t))
                .collect(),
            unmapped_units: unmapped,
        }
    }

    fn cell(&self, round_id: &str, unit_code: &str, tally: &CellTally) -> IndexCell {
        let rule = self.config.aggregation;
        let criteria: Vec<Score> = self
            .criteria
            .iter()
            .zip(&tally.criteria)
            .map(|(spec, t)| {
                let v = t.value();
                Score {
                    code: spec.code.clone(),
                    group: self.groups[spec.group].code.clone(),
                    valid_n: t.valid_n,
                    satisfied_n: t.satisfied_n,
                    no_answer_n: t.no_answer_n,
                    invalid_n: t.invalid_n,
                    not_relevant_n: t.not_relevant_n,
                    pct_satisfied: v.pct_satisfied,
                    mean: v.mean,
                }
            })
            .collect();
        let mut overall_parts = Vec::new();
        let groups = self
            .groups
            .iter()
            .zip(&tally.group_respondents)
            .map(|(g, &respondents_n)| {
                let parts: Vec<(Tally, RuleValue)> = g
                    .criteria
                    .iter()
                    .map(|&ci| (tally.criteria[ci], tally.criteria[ci].value()))
                    .collect();
                let score = AggregateScore {
                    respondents_n,
                    ..aggregate(&parts, rule)
                };
                if g.in_overall {
                    let mut pooled = Tally::default();
                    for (t, _) in &parts {
                        pooled.merge(t);
                    }
                    overall_parts.push((pooled, score.by_rule.mean_of_criteria));
                }
                GroupScore {
                    code: g.code.clone(),
                    element: g.element.clone(),
                    in_overall: g.in_overall,
                    score,
                }
            })
            .collect();
        IndexCell {
            round_id: round_id.to_owned(),
            unit_code: unit_code.to_owned(),
            respondents: tally.respondents,
            criteria,
            groups,
            overall: AggregateScore {
                respondents_n: tally.overall_respondents,
                ..aggregate(&overall_parts, rule)
            },
        }
    }
}

fn criterion_spec(
    form: &Questionnaire,
    config: &IndexConfig,
    item: &Item,
    group: usize,
) -> Result<CriterionSpec, IndexError> {
    let unknown = || IndexError::UnknownScale {
        item: item.code.clone(),
        scale: item.scale.clone(),
    };
    let scale_name = item.scale.as_ref().ok_or_else(unknown)?;
    let scale = form.scales.get(scale_name).ok_or_else(unknown)?;
    let points: Vec<i64> = scale.points.iter().map(|p| p.value).collect();
    let satisfied_from = config
        .satisfied_from
        .or(scale.satisfied_from)
        .unwrap_or(DEFAULT_SATISFIED_FROM);
    if !points.contains(&satisfied_from) {
        return Err(IndexError::SatisfiedFromOffScale {
            scale: scale_name.clone(),
            value: satisfied_from,
        });
    }
    Ok(CriterionSpec {
        code: item.code.clone(),
        group,
        points,
        no_answer: scale.no_answer.as_ref().map(|p| p.value),
        satisfied_from,
    })
}

// --- the index from counts (issue 14) -------------------------------------------------------
//
// A response's contribution to the index is a short list of count keys `(item, outcome)`
// ([`IndexAccumulator::count_keys`]): one per criterion that is not relevant (outcome
// [`OUTCOME_NOT_RELEVANT`]) or answered (the integer value in decimal, or [`OUTCOME_OTHER`]
// for any other value), plus one respondent key (item [`RESPONDENT_ITEM`], outcome: the codes
// of the criteria groups with at least one valid answer, separated by spaces). A database
// keeps, per (round, unit, …) cell, how many counted responses have each key; the engine
// rebuilds every figure from those counts ([`index_from_counts`]). What counts as valid,
// satisfied, no answer or invalid is decided here when the counts are read, with the same
// rules as [`IndexAccumulator::add`] (which stays the reference).

/// Item of the respondent count key.
pub const RESPONDENT_ITEM: &str = "";

/// Outcome of a criterion that was not relevant for the respondent (skip logic).
pub const OUTCOME_NOT_RELEVANT: &str = "nr";

/// Outcome of a criterion answered with something other than an integer.
pub const OUTCOME_OTHER: &str = "x";

/// One stored count: `n` counted responses of `(round_id, unit_code)` have the key
/// `(item, outcome)`.
#[derive(Debug, Clone, Copy)]
pub struct CountRow<'a> {
    /// Survey round.
    pub round_id: &'a str,
    /// Administrative unit code (or any cell key).
    pub unit_code: &'a str,
    /// Response mode of the counted responses (`capi`, `self_personal`, `self_open`).
    pub mode: &'a str,
    /// Criterion code, or [`RESPONDENT_ITEM`].
    pub item: &'a str,
    /// Outcome (see the notes above).
    pub outcome: &'a str,
    /// Number of responses.
    pub n: usize,
}

impl IndexAccumulator<'_> {
    /// The count keys of one response's answers (see the notes above), in form order with
    /// the respondent key last. Independent of the aggregation rule and of
    /// `satisfied_from`, so counts kept with one config serve every config.
    pub fn count_keys(&self, answers: &Answers) -> Vec<(String, String)> {
        let mut keys = Vec::with_capacity(self.criteria.len() + 1);
        let mut group_has_valid = vec![false; self.groups.len()];
        let relevant: Option<Vec<&str>> = self.conditional.then(|| {
            relevant_items(self.form, answers)
                .into_iter()
                .map(|(_, i)| i.code.as_str())
                .collect()
        });
        for spec in &self.criteria {
            if relevant
                .as_ref()
                .is_some_and(|r| !r.contains(&spec.code.as_str()))
            {
                keys.push((spec.code.clone(), OUTCOME_NOT_RELEVANT.to_owned()));
                continue;
            }
            match answers.get(&spec.code) {
                None => {}
                Some(AnswerValue::Int(v)) => {
                    if spec.points.contains(v) {
                        group_has_valid[spec.group] = true;
                    }
                    keys.push((spec.code.clone(), v.to_string()));
                }
                Some(_) => keys.push((spec.code.clone(), OUTCOME_OTHER.to_owned())),
            }
        }
        let groups: Vec<&str> = self
            .groups
            .iter()
            .zip(group_has_valid)
            .filter(|(_, has)| *has)
            .map(|(g, _)| g.code.as_str())
            .collect();
        keys.push((RESPONDENT_ITEM.to_owned(), groups.join(" ")));
        keys
    }

    /// Adds `n` responses with the count key `(item, outcome)` to the cell `(round_id,
    /// unit_code)`.
    pub fn add_count(&mut self, row: CountRow<'_>) -> Result<(), IndexError> {
        let unknown = || IndexError::UnknownCountKey {
            item: row.item.to_owned(),
            outcome: row.outcome.to_owned(),
        };
        let (n, ng) = (self.criteria.len(), self.groups.len());
        let key = (row.round_id.to_owned(), row.unit_code.to_owned());
        if row.item == RESPONDENT_ITEM {
            let mut gis = Vec::new();
            for code in row.outcome.split(' ').filter(|c| !c.is_empty()) {
                let gi = self
                    .groups
                    .iter()
                    .position(|g| g.code == code)
                    .ok_or_else(unknown)?;
                gis.push(gi);
            }
            let any_overall = gis.iter().any(|&gi| self.groups[gi].in_overall);
            let cell = self
                .cells
                .entry(key)
                .or_insert_with(|| CellTally::new(n, ng));
            cell.respondents += row.n;
            for gi in gis {
                cell.group_respondents[gi] += row.n;
            }
            if any_overall {
                cell.overall_respondents += row.n;
            }
            return Ok(());
        }
        let ci = self
            .criteria
            .iter()
            .position(|c| c.code == row.item)
            .ok_or_else(unknown)?;
        let spec = &self.criteria[ci];
        enum Class {
            NotRelevant,
            Invalid,
            NoAnswer,
            Valid(i64),
        }
        let class = match row.outcome {
            OUTCOME_NOT_RELEVANT => Class::NotRelevant,
            OUTCOME_OTHER => Class::Invalid,
            other => {
                let v: i64 = other.parse().map_err(|_| unknown())?;
                if spec.points.contains(&v) {
                    Class::Valid(v)
                } else if spec.no_answer == Some(v) {
                    Class::NoAnswer
                } else {
                    Class::Invalid
                }
            }
        };
        let satisfied_from = spec.satisfied_from;
        let cell = self
            .cells
            .entry(key)
            .or_insert_with(|| CellTally::new(n, ng));
        let tally = &mut cell.criteria[ci];
        match class {
            Class::NotRelevant => tally.not_relevant_n += row.n,
            Class::Invalid => tally.invalid_n += row.n,
            Class::NoAnswer => tally.no_answer_n += row.n,
            Class::Valid(v) => {
                tally.valid_n += row.n;
                tally.sum += v * row.n as i64;
                if v >= satisfied_from {
                    tally.satisfied_n += row.n;
                }
            }
        }
        Ok(())
    }
}

/// Whether a count row of response mode `mode` is in the mode set `modes` (`None`: every
/// mode).
pub fn mode_admitted(modes: Option<&[String]>, mode: &str) -> bool {
    modes.is_none_or(|m| m.iter().any(|x| x == mode))
}

/// Computes the index from stored counts ([`CountRow`]s, see the notes above) of the
/// responses whose mode is in `modes` (`None`: all); equal to [`compute_index`] over the
/// responses the counts were kept from.
pub fn index_from_counts<'a, I>(
    form: &Questionnaire,
    rows: I,
    config: IndexConfig,
    modes: Option<&[String]>,
) -> Result<IndexReport, IndexError>
where
    I: IntoIterator<Item = CountRow<'a>>,
{
    let mut acc = IndexAccumulator::new(form, config)?;
    for row in rows {
        if mode_admitted(modes, row.mode) {
            acc.add_count(row)?;
        }
    }
    Ok(acc.report())
}

/// Computes the index over (round, unit, answers) rows, e.g. streamed from a database.
pub fn compute_index_inputs<'a, I>(
    form: &Questionnaire,
    inputs: I,
    config: IndexConfig,
) -> Result<IndexReport, IndexError>
where
    I: IntoIterator<Item = IndexInput<'a>>,
{
    let mut acc = IndexAccumulator::new(form, config)?;
    for input in inputs {
        acc.add(input);
    }
    Ok(acc.report())
}

/// Computes the index over responses; every response must name `form`'s key.
pub fn compute_index(
    form: &Questionnaire,
    responses: &[Response],
    config: IndexConfig,
) -> Result<IndexReport, IndexError> {
    compute_index_rolled_up(form, responses, config, |u| Some(u.to_owned()))
}

/// Computes the index over responses with unit codes mapped by `map` (see
/// [`IndexAccumulator::report_rolled_up`]).
pub fn compute_index_rolled_up<F>(
    form: &Questionnaire,
    responses: &[Response],
    config: IndexConfig,
    map: F,
) -> Result<IndexReport, IndexError>
where
    F: Fn(&str) -> Option<String>,
{
    let mut acc = IndexAccumulator::new(form, config)?;
    for r in responses {
        acc.add_response(r)?;
    }
    Ok(acc.report_rolled_up(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::Paradata;
    use chrono::{DateTime, Utc};

    const EPS: f64 = 1e-9;

    fn close(actual: Option<f64>, expected: f64) {
        let a = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
        assert!((a - expected).abs() < EPS, "expected {expected}, got {a}");
    }

    /// Profile group (ignored), G1 "access" with C1_1 + C1_2 (+ a non-criterion rating),
    /// G2 "result" with C2_1. Scale sat5: 1..5, satisfied_from 4, no answer 9.
    fn form() -> Questionnaire {
        serde_json::from_value(serde_json::json!({
            "format": 1,
            "form_id": "test-index",
            "version": "1",
            "title": {"vi": "Thử"},
            "scales": {"sat5": {
                "points": [
                    {"value": 1, "label": {"vi": "Rất không hài lòng"}},
                    {"value": 2, "label": {"vi": "Không hài lòng"}},
                    {"value": 3, "label": {"vi": "Bình thường"}},
                    {"value": 4, "label": {"vi": "Hài lòng"}},
                    {"value": 5, "label": {"vi": "Rất hài lòng"}}
                ],
                "satisfied_from": 4,
                "no_answer": {"value": 9, "label": {"vi": "Không trả lời"}}
            }},
            "groups": [
                {"code": "A", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                    {"code": "A1", "type": "rating", "scale": "sat5", "label": {"vi": "x"}}
                ]},
                {"code": "G1", "kind": "criteria", "element": "access",
                 "title": {"vi": "Tiếp cận"}, "items": [
                    {"code": "C1_1", "type": "rating", "scale": "sat5", "label": {"vi": "a"}},
                    {"code": "C1_2", "type": "rating", "scale": "sat5", "label": {"vi": "b"}},
                    {"code": "C1_X", "type": "rating", "scale": "sat5", "label": {"vi": "c"},
                     "criterion": false}
                ]},
                {"code": "G2", "kind": "criteria", "element": "result",
                 "title": {"vi": "Kết quả"}, "items": [
                    {"code": "C2_1", "type": "rating", "scale": "sat5", "label": {"vi": "d"}}
                ]}
            ]
        }))
        .unwrap()
    }

    fn response(round: &str, unit: &str, answers: &[(&str, i64)]) -> Response {
        let t: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
        Response {
            id: crate::response::new_id(),
            revision: 1,
            form: form().key(),
            assignment_id: None,
            round_id: round.into(),
            unit_code: unit.into(),
            answers: answers
                .iter()
                .map(|(k, v)| (k.to_string(), AnswerValue::Int(*v)))
                .collect(),
            started_at: t,
            completed_at: t,
            paradata: Paradata::default(),
            origin: Default::default(),
        }
    }

    /// The worked example (profile A1 and non-criterion C1_X must be ignored):
    ///
    /// | resp | round | unit | C1_1 | C1_2 | C2_1 |
    /// |------|-------|------|------|------|------|
    /// | r1   | R1    | U1   | 5    | 3    | 4    |
    /// | r2   | R1    | U1   | 4    | 9    | 2    |
    /// | r3   | R1    | U1   | 2    | 4    | –    |
    /// | r4   | R1    | U2   | 9    | –    | 3    |
    /// | r5   | R2    | U1   | –    | –    | –    |
    ///
    /// (9 = no answer, – = missing.)
    fn responses() -> Vec<Response> {
        vec![
            response(
                "R1",
                "U1",
                &[
                    ("A1", 1),
                    ("C1_1", 5),
                    ("C1_2", 3),
                    ("C1_X", 1),
                    ("C2_1", 4),
                ],
            ),
            response("R1", "U1", &[("C1_1", 4), ("C1_2", 9), ("C2_1", 2)]),
            response("R1", "U1", &[("C1_1", 2), ("C1_2", 4), ("C1_X", 5)]),
            response("R1", "U2", &[("C1_1", 9), ("C2_1", 3)]),
            response("R2", "U1", &[]),
        ]
    }

    fn run(config: IndexConfig) -> IndexReport {
        compute_index(&form(), &responses(), config).unwrap()
    }

    /// The index from counts equals the reference for every config, with skip logic,
    /// no-answer codes, off-scale and text values; a foreign key is refused.
    #[test]
    fn index_from_counts_equals_the_reference() {
        let mut f = form();
        f.groups[2].relevant =
            Some(serde_json::from_value(serde_json::json!({"item": "A1", "equals": 5})).unwrap());
        let mut rs = responses();
        rs[0].answers.insert("A1".into(), AnswerValue::Int(5));
        rs[1]
            .answers
            .insert("C1_2".into(), AnswerValue::Text("4".into()));
        rs[2].answers.insert("C1_1".into(), AnswerValue::Int(7));
        let configs = [
            IndexConfig::default(),
            pooled(),
            IndexConfig {
                satisfied_from: Some(5),
                overall_groups: Some(vec!["G2".into()]),
                ..IndexConfig::default()
            },
        ];
        for config in configs {
            let acc = IndexAccumulator::new(&f, config.clone()).unwrap();
            let mut counts: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
            for r in &rs {
                for (item, outcome) in acc.count_keys(&r.answers) {
                    *counts
                        .entry((r.round_id.clone(), r.unit_code.clone(), item, outcome))
                        .or_default() += 1;
                }
            }
            let rows = counts
                .iter()
                .map(|((round, unit, item, outcome), n)| CountRow {
                    round_id: round,
                    unit_code: unit,
                    mode: "capi",
                    item,
                    outcome,
                    n: *n,
                });
            let from_counts = index_from_counts(&f, rows.clone(), config.clone(), None).unwrap();
            assert_eq!(from_counts, compute_index(&f, &rs, config.clone()).unwrap());
            // A mode set keeps only its modes.
            let capi = ["capi".to_owned()];
            assert_eq!(
                index_from_counts(&f, rows.clone(), config.clone(), Some(&capi)).unwrap(),
                from_counts
            );
            let open = ["self_open".to_owned()];
            let none = index_from_counts(&f, rows, config, Some(&open)).unwrap();
            assert!(none.cells.is_empty());
        }
        let bad = CountRow {
            round_id: "R",
            unit_code: "U",
            mode: "capi",
            item: "C9",
            outcome: "4",
            n: 1,
        };
        assert!(matches!(
            index_from_counts(&f, [bad], IndexConfig::default(), None),
            Err(IndexError::UnknownCountKey { .. })
        ));
        let bad_group = CountRow {
            item: RESPONDENT_ITEM,
            outcome: "G1 A",
            ..bad
        };
        assert!(index_from_counts(&f, [bad_group], IndexConfig::default(), None).is_err());
    }

    fn pooled() -> IndexConfig {
        IndexConfig {
            aggregation: Aggregation::Pooled,
            ..IndexConfig::default()
        }
    }

    #[test]
    fn criteria_of_r1_u1() {
        let report = run(IndexConfig::default());
        let keys: Vec<_> = report
            .cells
            .iter()
            .map(|c| (c.round_id.as_str(), c.unit_code.as_str()))
            .collect();
        assert_eq!(keys, [("R1", "U1"), ("R1", "U2"), ("R2", "U1")]);
        let c = report.cell("R1", "U1").unwrap();
        assert_eq!(c.respondents, 3);
        let codes: Vec<_> = c.criteria.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["C1_1", "C1_2", "C2_1"]); // A1 and C1_X are not criteria
        // C1_1: 5, 4, 2 → valid 3, satisfied 2 (5, 4) → 200/3 = 66.666…%; mean 11/3 = 3.666…
        let s = c.criterion("C1_1").unwrap();
        assert_eq!((s.valid_n, s.satisfied_n, s.no_answer_n), (3, 2, 0));
        close(s.pct_satisfied, 200.0 / 3.0);
        close(s.mean, 11.0 / 3.0);
        // C1_2: 3, 9, 4 → the 9 is excluded: valid 2 (3, 4), satisfied 1 (3 is neutral)
        // → 50%; mean 7/2 = 3.5
        let s = c.criterion("C1_2").unwrap();
        assert_eq!((s.valid_n, s.satisfied_n, s.no_answer_n), (2, 1, 1));
        close(s.pct_satisfied, 50.0);
        close(s.mean, 3.5);
        // C2_1: 4, 2, missing → valid 2, satisfied 1 → 50%; mean 6/2 = 3.0
        let s = c.criterion("C2_1").unwrap();
        assert_eq!((s.valid_n, s.satisfied_n, s.no_answer_n), (2, 1, 0));
        close(s.pct_satisfied, 50.0);
        close(s.mean, 3.0);
    }

    #[test]
    fn mean_of_criteria_rule() {
        let report = run(IndexConfig::default());
        let c = report.cell("R1", "U1").unwrap();
        // G1 = mean(C1_1, C1_2): % = (200/3 + 50) / 2 = 175/3 = 58.333…;
        //                        mean = (11/3 + 7/2) / 2 = (22/6 + 21/6) / 2 = 43/12 = 3.5833…
        let g1 = c.group("G1").unwrap();
        assert_eq!(g1.element.as_deref(), Some("access"));
        assert_eq!((g1.score.valid_n, g1.score.satisfied_n), (5, 3));
        assert_eq!(g1.score.parts_used, 2);
        close(g1.score.pct_satisfied, 175.0 / 3.0);
        close(g1.score.mean, 43.0 / 12.0);
        // G2 = C2_1 alone: 50%, mean 3.0
        let g2 = c.group("G2").unwrap();
        close(g2.score.pct_satisfied, 50.0);
        close(g2.score.mean, 3.0);
        // overall = mean(G1, G2): % = (175/3 + 50) / 2 = (175/3 + 150/3) / 2 = 325/6 = 54.1666…
        //                         mean = (43/12 + 36/12) / 2 = 79/24 = 3.291666…
        assert_eq!(c.overall.parts_used, 2);
        assert_eq!((c.overall.valid_n, c.overall.satisfied_n), (7, 4));
        close(c.overall.pct_satisfied, 325.0 / 6.0);
        close(c.overall.mean, 79.0 / 24.0);
        assert_eq!(round2(c.overall.pct_satisfied.unwrap()), 54.17);
    }

    #[test]
    fn pooled_rule_differs() {
        let report = run(pooled());
        let c = report.cell("R1", "U1").unwrap();
        // G1 pooled: satisfied (2 + 1) / valid (3 + 2) = 3/5 = 60%; mean (11 + 7) / 5 = 3.6
        let g1 = c.group("G1").unwrap();
        close(g1.score.pct_satisfied, 60.0);
        close(g1.score.mean, 3.6);
        // G2 unchanged: 50%, 3.0 (one criterion: both rules agree)
        close(c.group("G2").unwrap().score.pct_satisfied, 50.0);
        // overall pooled: satisfied (3 + 1) / valid (5 + 2) = 4/7 = 57.142857…%;
        //                 mean (18 + 6) / 7 = 24/7 = 3.428571…
        close(c.overall.pct_satisfied, 400.0 / 7.0);
        close(c.overall.mean, 24.0 / 7.0);
        // … versus 54.1666… (325/6) under MeanOfCriteria; both are always reported.
        let by = c.overall.by_rule;
        close(by.mean_of_criteria.pct_satisfied, 325.0 / 6.0);
        close(by.pooled.pct_satisfied, 400.0 / 7.0);
        assert!((by.mean_of_criteria.pct_satisfied.unwrap() - 400.0 / 7.0).abs() > 1.0);
        // the criteria themselves do not depend on the rule
        assert_eq!(
            c.criteria,
            run(IndexConfig::default())
                .cell("R1", "U1")
                .unwrap()
                .criteria
        );
    }

    /// Respondents with at least one valid answer (the base N of groups and overall):
    /// R1/U1: G1 r1 (5, 3), r2 (4; its 9 is not valid), r3 (2, 4) → 3; G2 r1 (4), r2 (2) → 2;
    /// overall 3. R1/U2: r4 has C1_1 = 9 only in G1 → G1 0; G2 1 (3); overall 1.
    /// R2/U1 (blank) → 0 everywhere; the roll-up to P1 adds U1 and U2: G1 3, G2 3, overall 4.
    #[test]
    fn respondents_with_valid_answers_per_group_and_overall() {
        let report = run(IndexConfig::default());
        let n = |c: &IndexCell| {
            (
                c.group("G1").unwrap().score.respondents_n,
                c.group("G2").unwrap().score.respondents_n,
                c.overall.respondents_n,
            )
        };
        assert_eq!(n(report.cell("R1", "U1").unwrap()), (3, 2, 3));
        assert_eq!(n(report.cell("R1", "U2").unwrap()), (0, 1, 1));
        assert_eq!(n(report.cell("R2", "U1").unwrap()), (0, 0, 0));
        let rolled = compute_index_rolled_up(&form(), &responses(), IndexConfig::default(), |_| {
            Some("P1".into())
        })
        .unwrap();
        assert_eq!(n(rolled.cell("R1", "P1").unwrap()), (3, 3, 4));
        // a group outside the overall index does not make a respondent count in overall
        let config = IndexConfig {
            overall_groups: Some(vec!["G1".into()]),
            ..IndexConfig::default()
        };
        let r = run(config);
        assert_eq!(n(r.cell("R1", "U2").unwrap()), (0, 1, 0));
    }

    #[test]
    fn empty_group_is_none_and_left_out_of_overall() {
        for config in [IndexConfig::default(), pooled()] {
            let report = run(config);
            let c = report.cell("R1", "U2").unwrap();
            assert_eq!(c.respondents, 1);
            // r4: C1_1 = 9 (no answer), C1_2 missing → G1 has no valid answers
            let c11 = c.criterion("C1_1").unwrap();
            assert_eq!((c11.valid_n, c11.no_answer_n), (0, 1));
            assert_eq!(c11.pct_satisfied, None);
            let g1 = c.group("G1").unwrap();
            assert_eq!((g1.score.pct_satisfied, g1.score.mean), (None, None));
            assert_eq!(g1.score.parts_used, 0);
            // G2: a single 3 → 0% satisfied (Some(0), not None), mean 3
            let g2 = c.group("G2").unwrap();
            close(g2.score.pct_satisfied, 0.0);
            close(g2.score.mean, 3.0);
            // overall = G2 only, under both rules: 0%, mean 3
            assert_eq!(c.overall.parts_used, 1);
            close(c.overall.pct_satisfied, 0.0);
            close(c.overall.mean, 3.0);
        }
    }

    #[test]
    fn all_blank_response_counts_but_has_no_values() {
        let report = run(IndexConfig::default());
        let c = report.cell("R2", "U1").unwrap();
        assert_eq!(c.respondents, 1);
        assert!(
            c.criteria
                .iter()
                .all(|s| s.valid_n == 0 && s.mean.is_none())
        );
        assert_eq!(c.overall.valid_n, 0);
        assert_eq!(c.overall.pct_satisfied, None);
        assert_eq!(c.overall.mean, None);
        assert_eq!(c.overall.by_rule.pooled.pct_satisfied, None);
    }

    #[test]
    fn round_totals_pool_all_units() {
        let report = run(IndexConfig::default());
        assert_eq!(report.round_totals.len(), 2);
        let t = report.round_total("R1").unwrap();
        assert_eq!(t.unit_code, ALL_UNITS);
        assert_eq!(t.respondents, 4);
        // C1_1: 5, 4, 2 (r4's 9 excluded) → 2/3; C1_2: 3, 4 → 1/2;
        // C2_1: 4, 2, 3 → 1/3 = 33.33…%, mean 9/3 = 3
        close(t.criterion("C2_1").unwrap().pct_satisfied, 100.0 / 3.0);
        // G1 as in U1 (U2 added no valid G1 answer): 175/3; G2 = 100/3
        // MeanOfCriteria overall = (175/3 + 100/3) / 2 = 275/6 = 45.8333…;
        //   mean = (43/12 + 3) / 2 = 79/24
        close(t.overall.pct_satisfied, 275.0 / 6.0);
        close(t.overall.mean, 79.0 / 24.0);
        // Pooled overall = (3 + 1) / (5 + 3) = 4/8 = 50%; mean (18 + 9) / 8 = 27/8 = 3.375
        close(t.overall.by_rule.pooled.pct_satisfied, 50.0);
        close(t.overall.by_rule.pooled.mean, 27.0 / 8.0);
        // R2 total = the blank response only
        assert_eq!(report.round_total("R2").unwrap().overall.valid_n, 0);
    }

    #[test]
    fn roll_up_through_a_mapping() {
        let form = form();
        let rs = responses();
        // U1 and U2 both belong to P1 → the P1 cell equals the round total
        let report =
            compute_index_rolled_up(&form, &rs, IndexConfig::default(), |_| Some("P1".into()))
                .unwrap();
        let p1 = report.cell("R1", "P1").unwrap();
        let total = report.round_total("R1").unwrap();
        assert_eq!(p1.respondents, 4);
        assert_eq!(p1.criteria, total.criteria);
        assert_eq!(p1.overall, total.overall);
        // U2 unmapped → left out of the cells, still in the round total
        let report = compute_index_rolled_up(&form, &rs, IndexConfig::default(), |u| {
            (u == "U1").then(|| "P1".to_owned())
        })
        .unwrap();
        assert_eq!(report.unmapped_units, ["U2"]);
        assert_eq!(report.cell("R1", "P1").unwrap().respondents, 3);
        assert_eq!(report.round_total("R1").unwrap().respondents, 4);
    }

    #[test]
    fn satisfied_from_override_five() {
        let config = IndexConfig {
            satisfied_from: Some(5),
            ..IndexConfig::default()
        };
        let report = run(config);
        let c = report.cell("R1", "U1").unwrap();
        // Only 5 counts now. C1_1: 5, 4, 2 → 1/3 = 33.33…%; C1_2: 3, 4 → 0%; C2_1: 4, 2 → 0%
        close(c.criterion("C1_1").unwrap().pct_satisfied, 100.0 / 3.0);
        close(c.criterion("C1_2").unwrap().pct_satisfied, 0.0);
        // G1 MeanOfCriteria = (100/3 + 0) / 2 = 50/3 = 16.66…%; pooled = 1/5 = 20%
        let g1 = c.group("G1").unwrap();
        close(g1.score.pct_satisfied, 50.0 / 3.0);
        close(g1.score.by_rule.pooled.pct_satisfied, 20.0);
        // overall MeanOfCriteria = (50/3 + 0) / 2 = 25/3 = 8.33…%; pooled = 1/7 = 14.2857…%
        close(c.overall.pct_satisfied, 25.0 / 3.0);
        close(c.overall.by_rule.pooled.pct_satisfied, 100.0 / 7.0);
        // means do not depend on the threshold
        close(c.overall.mean, 79.0 / 24.0);
    }

    #[test]
    fn overall_groups_override_and_errors() {
        let config = IndexConfig {
            overall_groups: Some(vec!["G2".into()]),
            ..IndexConfig::default()
        };
        let report = run(config);
        assert_eq!(report.overall_groups, ["G2"]);
        let c = report.cell("R1", "U1").unwrap();
        assert!(!c.group("G1").unwrap().in_overall);
        // overall = G2 only: 50%, mean 3
        close(c.overall.pct_satisfied, 50.0);
        close(c.overall.mean, 3.0);

        let bad = |groups: &[&str]| {
            let config = IndexConfig {
                overall_groups: Some(groups.iter().map(|g| g.to_string()).collect()),
                ..IndexConfig::default()
            };
            compute_index(&form(), &[], config).unwrap_err()
        };
        assert_eq!(bad(&["A"]), IndexError::NotACriteriaGroup("A".into()));
        assert_eq!(bad(&["G9"]), IndexError::NotACriteriaGroup("G9".into()));
        assert_eq!(
            bad(&["G1", "G1"]),
            IndexError::DuplicateOverallGroup("G1".into())
        );
        let off_scale = IndexConfig {
            satisfied_from: Some(6),
            ..IndexConfig::default()
        };
        assert!(matches!(
            compute_index(&form(), &[], off_scale),
            Err(IndexError::SatisfiedFromOffScale { value: 6, .. })
        ));
    }

    #[test]
    fn in_overall_index_false_is_excluded_by_default() {
        let mut f = form();
        f.groups[2].in_overall_index = Some(false);
        let report = compute_index_inputs(
            &f,
            responses().iter().map(IndexInput::from),
            IndexConfig::default(),
        )
        .unwrap();
        assert_eq!(report.overall_groups, ["G1"]);
        let c = report.cell("R1", "U1").unwrap();
        close(c.overall.pct_satisfied, 175.0 / 3.0);
    }

    #[test]
    fn off_scale_values_are_invalid_not_valid() {
        let f = form();
        let answers: Answers = [
            ("C1_1".to_string(), AnswerValue::Int(7)),
            ("C1_2".to_string(), AnswerValue::Text("4".into())),
            ("C2_1".to_string(), AnswerValue::Int(0)),
        ]
        .into();
        let input = IndexInput {
            round_id: "R",
            unit_code: "U",
            answers: &answers,
        };
        let report = compute_index_inputs(&f, [input], IndexConfig::default()).unwrap();
        let c = report.cell("R", "U").unwrap();
        assert!(
            c.criteria
                .iter()
                .all(|s| s.valid_n == 0 && s.invalid_n == 1)
        );
        assert_eq!(c.overall.invalid_n, 3);
        assert_eq!(c.overall.pct_satisfied, None);
    }

    #[test]
    fn non_relevant_criteria_are_skipped_even_with_stale_answers() {
        let mut f = form();
        // G2 is asked only when A1 (profile rating, used here as a filter) is 5.
        f.groups[2].relevant =
            Some(serde_json::from_value(serde_json::json!({"item": "A1", "equals": 5})).unwrap());
        let rows: Vec<Answers> = [
            [("A1", 5), ("C1_1", 4), ("C2_1", 4)], // G2 relevant: C2_1 counts
            [("A1", 1), ("C1_1", 4), ("C2_1", 2)], // G2 skipped: the stale 2 is ignored
        ]
        .iter()
        .map(|r| {
            r.iter()
                .map(|(k, v)| (k.to_string(), AnswerValue::Int(*v)))
                .collect()
        })
        .collect();
        let inputs = rows.iter().map(|a| IndexInput {
            round_id: "R",
            unit_code: "U",
            answers: a,
        });
        let report = compute_index_inputs(&f, inputs, IndexConfig::default()).unwrap();
        let c = report.cell("R", "U").unwrap();
        // C2_1: only the first response's 4 → valid 1, 100%; one respondent skipped it
        let s = c.criterion("C2_1").unwrap();
        assert_eq!((s.valid_n, s.satisfied_n, s.not_relevant_n), (1, 1, 1));
        close(s.pct_satisfied, 100.0);
        // C1_1 is unconditional: 4, 4 → 100%
        assert_eq!(c.criterion("C1_1").unwrap().not_relevant_n, 0);
        assert_eq!(c.overall.not_relevant_n, 1);
    }

    #[test]
    fn foreign_form_is_rejected() {
        let mut rs = responses();
        rs[2].form.version = "2".into();
        let err = compute_index(&form(), &rs, IndexConfig::default()).unwrap_err();
        match err {
            IndexError::FormMismatch {
                response_id,
                expected,
                found,
            } => {
                assert_eq!(response_id, rs[2].id);
                assert_eq!(expected.to_string(), "test-index@1");
                assert_eq!(found.to_string(), "test-index@2");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn config_and_report_serialise() {
        let config: IndexConfig =
            serde_json::from_str(r#"{"aggregation": "pooled", "satisfied_from": 5}"#).unwrap();
        assert_eq!(config.aggregation, Aggregation::Pooled);
        assert_eq!(
            serde_json::to_value(IndexConfig::default()).unwrap(),
            serde_json::json!({"aggregation": "mean_of_criteria"})
        );
        let json = serde_json::to_value(run(IndexConfig::default())).unwrap();
        let g1 = &json["cells"][0]["groups"][0];
        assert_eq!(g1["code"], "G1");
        assert_eq!(g1["valid_n"], 5);
        assert_eq!(g1["by_rule"]["pooled"]["pct_satisfied"], 60.0);
        assert!(json["cells"][1]["groups"][0]["pct_satisfied"].is_null());
    }

    #[test]
    fn round2_for_display() {
        assert_eq!(round2(325.0 / 6.0), 54.17);
        assert_eq!(round2(400.0 / 7.0), 57.14);
        assert_eq!(round2(82.888), 82.89);
    }

    /// SIPAS 2023 national element scores (SIPAS.md §4, §6.1): 83.00, 83.02, 83.12, 83.03,
    /// 82.27. Five one-criterion groups with exact proportions and different valid N:
    ///
    /// | element        | satisfied / valid | %     |
    /// |----------------|-------------------|-------|
    /// | access         |     83 /    100   | 83.00 |
    /// | procedure      |  4 151 /  5 000   | 83.02 |
    /// | civil_servant  |  1 039 /  1 250   | 83.12 |
    /// | result         |  8 303 / 10 000   | 83.03 |
    /// | feedback       |  8 227 / 10 000   | 82.27 |
    ///
    /// MeanOfCriteria overall = (83 + 83.02 + 83.12 + 83.03 + 82.27) / 5 = 414.44 / 5 = 82.888.
    /// Pooled overall = (83 + 4151 + 1039 + 8303 + 8227) / (100 + 5000 + 1250 + 10000 + 10000)
    ///                = 21803 / 26350 = 82.7438…% (the large groups weigh more).
    #[test]
    fn sipas_2023_national_elements_average_to_82_888() {
        let elements = [
            ("access", 83, 100),
            ("procedure", 4151, 5000),
            ("civil_servant", 1039, 1250),
            ("result", 8303, 10000),
            ("feedback", 8227, 10000),
        ];
        let groups: Vec<_> = elements
            .iter()
            .map(|(e, _, _)| {
                serde_json::json!({"code": e, "kind": "criteria", "element": e,
                    "title": {"vi": e},
                    "items": [{"code": format!("{e}_1"), "type": "rating", "scale": "s",
                               "label": {"vi": e}}]})
            })
            .collect();
        let points: Vec<_> = (1..=5)
            .map(|v| serde_json::json!({"value": v, "label": {"vi": v.to_string()}}))
            .collect();
        let form: Questionnaire = serde_json::from_value(serde_json::json!({
            "format": 1, "form_id": "sipas-2023", "version": "1", "title": {"vi": "SIPAS"},
            "scales": {"s": {"points": points, "no_answer": {"value": 9, "label": {"vi": "KTL"}}}},
            "groups": groups
        }))
        .unwrap();
        // Respondent i answers criterion e when i < valid(e): 4 or 5 when i < satisfied(e),
        // else 1, 2 or 3; respondents past valid(e) give the no-answer code 9.
        let rows: Vec<Answers> = (0..10_000usize)
            .map(|i| {
                elements
                    .iter()
                    .map(|&(e, sat, valid)| {
                        let v = if i < sat {
                            4 + (i % 2) as i64
                        } else if i < valid {
                            1 + (i % 3) as i64
                        } else {
                            9
                        };
                        (format!("{e}_1"), AnswerValue::Int(v))
                    })
                    .collect()
            })
            .collect();
        let inputs = rows.iter().map(|a| IndexInput {
            round_id: "2023",
            unit_code: "VN",
            answers: a,
        });
        let report = compute_index_inputs(&form, inputs, IndexConfig::default()).unwrap();
        let c = report.cell("2023", "VN").unwrap();
        let pcts: Vec<f64> = c
            .groups
            .iter()
            .map(|g| round2(g.score.pct_satisfied.unwrap()))
            .collect();
        assert_eq!(pcts, [83.0, 83.02, 83.12, 83.03, 82.27]);
        close(c.overall.pct_satisfied, 82.888);
        close(
            c.overall.by_rule.pooled.pct_satisfied,
            100.0 * 21803.0 / 26350.0,
        );
        assert_eq!(
            round2(c.overall.by_rule.pooled.pct_satisfied.unwrap()),
            82.74
        );
        assert_eq!(c.overall.no_answer_n, 5 * 10_000 - 26350);
    }
}
