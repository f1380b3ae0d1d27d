//! The index from counts (issue 14): the one place that decides what the `response_facts`
//! and `answer_counts` tables hold (migration 0011) and how the index is read from them.
//!
//! * Every bound response has one `response_facts` row: the count keys of its latest
//!   revision ([`sipas_core::index::IndexAccumulator::count_keys`], computed with its form),
//!   its cell (round, unit, agency of its assignment), the reception time of that revision
//!   and whether it counts (not voided, latest decision on that revision not `rejected`, as
//!   the `current_responses` view and `COUNTED_RESPONSES` say).
//! * `answer_counts` holds, per (round, unit, agency, item, outcome), how many counted
//!   responses have that key.
//! * Both backends call their `refresh` (reading the response's current state and its old
//!   row, asking [`plan`] for the new row and the count differences, writing them) in the
//!   same transaction as every ingest of a revision, review decision and void, and when the
//!   database is opened for responses without a row (data from before 0011, or of a form not
//!   known when they were stored).
//! * GET index and report read the counts of a round ([`index`]): the scope filter keeps the
//!   rows of admitted (unit, agency) cells, the engine ([`index_from_counts`]) does the rest.
//!   The response-based engine stays the reference: the property test
//!   `crates/server/tests/answer_counts.rs` checks both give the same index.
use crate::forms::FormRegistry;
use crate::scope::RoundFilter;
use crate::storage::StoreError;
use chrono::{DateTime, Utc};
use sipas_core::index::{
    CountRow, IndexAccumulator, IndexConfig, IndexError, IndexReport, index_from_counts,
};
use sipas_core::questionnaire::Questionnaire;
use sipas_core::response::Response;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use uuid::Uuid;

/// The forms count keys are computed with: the built-in registry (published definitions
/// never change under their key). When forms are published at run time, this is the one
/// place to read them from.
fn forms() -> Option<&'static FormRegistry> {
    static FORMS: OnceLock<Option<FormRegistry>> = OnceLock::new();
    FORMS.get_or_init(|| FormRegistry::builtin().ok()).as_ref()
}

/// The form of a response, if known.
fn form_of(response: &Response) -> Option<Arc<Questionnaire>> {
    forms()?.get(&response.form)
}

/// The count keys of a response as stored (`item<TAB>outcome` lines); `None` when its form
/// is unknown or has unusable criteria (it then counts nowhere until the form is known).
pub fn facts_of(response: &Response) -> Option<String> {
    let form = form_of(response)?;
    let acc = IndexAccumulator::new(&form, IndexConfig::default()).ok()?;
    let keys = acc.count_keys(&response.answers);
    let mut out = String::new();
    for (item, outcome) in keys {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&item);
        out.push('\t');
        out.push_str(&outcome);
    }
    Some(out)
}

/// The `(item, outcome)` keys of stored facts.
fn keys_of(facts: &str) -> impl Iterator<Item = (&str, &str)> {
    facts.split('\n').filter_map(|line| line.split_once('\t'))
}

/// A response's state in the `current_responses` view (absent: voided or not bound).
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Latest revision.
    pub revision: u32,
    /// Round of the binding.
    pub round_id: String,
    /// Unit of the binding.
    pub unit_code: String,
    /// Reception of the latest revision.
    pub received_at: DateTime<Utc>,
    /// Latest decision on it (`approved` / `rejected`), if any.
    pub decision: Option<String>,
}

/// A `response_facts` row.
#[derive(Debug, Clone, PartialEq)]
pub struct FactsRow {
    /// Revision the keys are of.
    pub revision: u32,
    /// Round.
    pub round_id: String,
    /// Unit.
    pub unit_code: String,
    /// Agency of the assignment (`""`: none).
    pub agency_code: String,
    /// Reception of the revision.
    pub received_at: DateTime<Utc>,
    /// Whether it counts.
    pub counted: bool,
    /// Count keys (`None`: form unknown).
    pub facts: Option<String>,
}

/// A change of one `answer_counts` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Delta {
    /// Round.
    pub round_id: String,
    /// Unit.
    pub unit_code: String,
    /// Agency (`""`: none).
    pub agency_code: String,
    /// Item.
    pub item: String,
    /// Outcome.
    pub outcome: String,
    /// Difference (never 0).
    pub n: i64,
}

/// What a refresh writes: the new row and the count differences, sorted by key (so
/// concurrent PostgreSQL transactions lock count rows in one order).
#[derive(Debug, Clone, PartialEq)]
pub struct Refresh {
    /// The response's new row.
    pub row: FactsRow,
    /// Differences to apply to `answer_counts`.
    pub deltas: Vec<Delta>,
}

/// The keys and agency of revision `current.revision` of a response, for [`plan`].
pub struct Fresh {
    /// Count keys ([`facts_of`]).
    pub facts: Option<String>,
    /// Agency of the response's assignment (`""`: none).
    pub agency_code: String,
}

/// Whether [`plan`] will ask for the keys of the current revision (backends that cannot
/// read inside the closure read them first).
pub fn needs_fresh(current: Option<&Current>, old: Option<&FactsRow>, force: bool) -> bool {
    match (current, old) {
        (None, _) => false,
        (Some(c), Some(o)) => force || o.revision != c.revision,
        (Some(_), None) => true,
    }
}

/// Plans the refresh of one response: `current` its state in `current_responses`, `old`
/// its row; `fresh` gives the keys of the current revision when the old row is of another
/// revision (or `force`). `None`: nothing to write.
pub fn plan(
    current: Option<Current>,
    old: Option<FactsRow>,
    force: bool,
    fresh: impl FnOnce(&Current) -> Result<Fresh, StoreError>,
) -> Result<Option<Refresh>, StoreError> {
    let row = match (&current, &old) {
        (None, None) => return Ok(None),
        (None, Some(o)) => FactsRow {
            counted: false,
            ..o.clone()
        },
        (Some(c), _) => {
            let (facts, agency_code) = match &old {
                Some(o) if !needs_fresh(Some(c), Some(o), force) => {
                    (o.facts.clone(), o.agency_code.clone())
                }
                _ => {
                    let f = fresh(c)?;
                    (f.facts, f.agency_code)
                }
            };
            FactsRow {
                revision: c.revision,
                round_id: c.round_id.clone(),
                unit_code: c.unit_code.clone(),
                agency_code,
                received_at: c.received_at,
                counted: c.decision.as_deref() != Some("rejected"),
                facts,
            }
        }
    };
    if old.as_ref() == Some(&row) {
        return Ok(None);
    }
    let mut sums: BTreeMap<(String, String, String, String, String), i64> = BTreeMap::new();
    let mut add = |r: &FactsRow, sign: i64| {
        if !r.counted {
            return;
        }
        if let Some(facts) = &r.facts {
            for (item, outcome) in keys_of(facts) {
                *sums
                    .entry((
                        r.round_id.clone(),
                        r.unit_code.clone(),
                        r.agency_code.clone(),
                        item.to_owned(),
                        outcome.to_owned(),
                    ))
                    .or_default() += sign;
            }
        }
    };
    if let Some(o) = &old {
        add(o, -1);
    }
    add(&row, 1);
    let deltas = sums
        .into_iter()
        .filter(|(_, n)| *n != 0)
        .map(
            |((round_id, unit_code, agency_code, item, outcome), n)| Delta {
                round_id,
                unit_code,
                agency_code,
                item,
                outcome,
                n,
            },
        )
        .collect();
    Ok(Some(Refresh { row, deltas }))
}

/// Merges count differences by key, dropping zeros, sorted by key: a transaction applying
/// several refreshes applies them once, in one lock order.
pub fn merge(deltas: Vec<Delta>) -> Vec<Delta> {
    let mut sums: BTreeMap<(String, String, String, String, String), i64> = BTreeMap::new();
    for d in deltas {
        *sums
            .entry((d.round_id, d.unit_code, d.agency_code, d.item, d.outcome))
            .or_default() += d.n;
    }
    sums.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(
            |((round_id, unit_code, agency_code, item, outcome), n)| Delta {
                round_id,
                unit_code,
                agency_code,
                item,
                outcome,
                n,
            },
        )
        .collect()
}

/// One `answer_counts` row of a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRecord {
    /// Unit.
    pub unit_code: String,
    /// Agency (`""`: none).
    pub agency_code: String,
    /// Item.
    pub item: String,
    /// Outcome.
    pub outcome: String,
    /// Counted responses (> 0).
    pub n: u64,
}

/// The counts of a round read in one snapshot, with the latest reception among its counted
/// responses (the "data as of" of reports).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundCounts {
    /// The rows with `n > 0`.
    pub rows: Vec<CountRecord>,
    /// Latest reception among the counted responses (`None`: none).
    pub data_as_of: Option<DateTime<Utc>>,
}

/// The index of round `round_id` from its counts, keeping only the cells `filter` admits
/// (the caller's scope).
pub fn index(
    form: &Questionnaire,
    round_id: &str,
    counts: &RoundCounts,
    filter: &RoundFilter,
    config: IndexConfig,
) -> Result<IndexReport, IndexError> {
    let mut admitted: BTreeMap<(&str, &str), bool> = BTreeMap::new();
    let rows = counts.rows.iter().filter(|r| {
        *admitted
            .entry((r.unit_code.as_str(), r.agency_code.as_str()))
            .or_insert_with(|| {
                let agency = (!r.agency_code.is_empty()).then_some(r.agency_code.as_str());
                filter.admits_codes(&r.unit_code, agency)
            })
    });
    index_from_counts(
        form,
        rows.map(|r| CountRow {
            round_id,
            unit_code: &r.unit_code,
            item: &r.item,
            outcome: &r.outcome,
            n: usize::try_from(r.n).unwrap_or(usize::MAX),
        }),
        config,
    )
}

/// The index of a round visible to `mine` with the "data as of" time (latest reception
/// among all its counted responses): from the counts, or by re-reading every counted
/// response when [`crate::app::AppState::index_from_responses`] is set (the reference).
pub async fn round_index(
    state: &crate::app::AppState,
    mine: &crate::scope::Scope,
    round: &sipas_protocol::wire::Round,
    form: &Questionnaire,
    config: IndexConfig,
) -> crate::problem::ApiResult<(IndexReport, Option<DateTime<Utc>>)> {
    let failed = |e: IndexError| {
        tracing::error!(round_id = %round.id, error = %e, "index computation failed");
        crate::problem::ApiError::internal()
    };
    if state.index_from_responses {
        let filter = RoundFilter::new(state, mine, &round.id, round.starts_on).await?;
        let (responses, data_as_of) = state.store.report_responses(&round.id).await?;
        let responses = filter.responses(responses);
        let index = sipas_core::index::compute_index(form, &responses, config).map_err(failed)?;
        return Ok((index, data_as_of));
    }
    let filter = RoundFilter::for_codes(mine, round.starts_on);
    let counts = state.store.round_counts(&round.id).await?;
    let index = index(form, &round.id, &counts, &filter, config).map_err(failed)?;
    Ok((index, counts.data_as_of))
}

/// Parses a stored response body for a refresh.
pub fn parse_body(id: Uuid, body: &str) -> Result<Response, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Backend(format!("response {id}: stored body unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(counted: bool, revision: u32, facts: &str) -> FactsRow {
        FactsRow {
            revision,
            round_id: "R".into(),
            unit_code: "U".into(),
            agency_code: String::new(),
            received_at: DateTime::<Utc>::UNIX_EPOCH,
            counted,
            facts: Some(facts.into()),
        }
    }

    fn current(revision: u32, decision: Option<&str>) -> Current {
        Current {
            revision,
            round_id: "R".into(),
            unit_code: "U".into(),
            received_at: DateTime::<Utc>::UNIX_EPOCH,
            decision: decision.map(str::to_owned),
        }
    }

    fn fresh(facts: &str) -> impl FnOnce(&Current) -> Result<Fresh, StoreError> + '_ {
        move |_| {
            Ok(Fresh {
                facts: Some(facts.into()),
                agency_code: String::new(),
            })
        }
    }

    #[test]
    fn new_revision_moves_counts_and_rejection_removes_them() {
        // first revision: every key +1
        let r = plan(Some(current(1, None)), None, false, fresh("C1\t4\n\tG1"))
            .unwrap()
            .unwrap();
        assert_eq!(r.deltas.iter().map(|d| d.n).collect::<Vec<_>>(), [1, 1]);
        // second revision changes C1 from 4 to 5: -1 on 4, +1 on 5, respondent unchanged
        let r = plan(
            Some(current(2, None)),
            Some(row(true, 1, "C1\t4\n\tG1")),
            false,
            fresh("C1\t5\n\tG1"),
        )
        .unwrap()
        .unwrap();
        let got: Vec<(&str, i64)> = r.deltas.iter().map(|d| (d.outcome.as_str(), d.n)).collect();
        assert_eq!(got, [("4", -1), ("5", 1)]);
        // rejection of the same revision: all keys -1, keys kept for a later approval
        let r = plan(
            Some(current(2, Some("rejected"))),
            Some(row(true, 2, "C1\t5")),
            false,
            |_| panic!("same revision: no re-read"),
        )
        .unwrap()
        .unwrap();
        assert!(!r.row.counted && r.row.facts.is_some());
        assert_eq!(r.deltas[0].n, -1);
        // nothing changed: nothing to write
        assert_eq!(
            plan(
                Some(current(2, Some("approved"))),
                Some(row(true, 2, "C1\t5")),
                false,
                |_| panic!()
            )
            .unwrap(),
            None
        );
        // voided (gone from the view): out of the counts
        let r = plan(None, Some(row(true, 2, "C1\t5")), false, |_| panic!())
            .unwrap()
            .unwrap();
        assert!(!r.row.counted);
        assert_eq!(plan(None, None, false, |_| panic!()).unwrap(), None);
    }
}
