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
//! * GET index and report read the counts of a round once per request ([`scoped_counts`],
//!   streamed by the backend into a [`CountsReader`]: codes interned, summed over fields
//!   unless the request breaks down by field): the scope filter keeps the rows of admitted
//!   (unit, agency) cells, the engine ([`index_from_counts`]) does the rest.
//!   The response-based engine stays the reference: the property test
//!   `crates/server/tests/answer_counts.rs` checks both give the same index.
use crate::forms::FormRegistry;
use crate::scope::RoundFilter;
use crate::storage::StoreError;
use chrono::{DateTime, Utc};
use sipas_core::index::{
    CountRow, IndexAccumulator, IndexConfig, IndexError, IndexReport, index_from_counts,
};
use sipas_core::questionnaire::{FormKey, Questionnaire};
use sipas_core::response::Response;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use uuid::Uuid;

/// The response mode ingest writes for device uploads and hand-over files (design contract
/// section 2). Migration 0012 (`responses.mode`) replaces this constant by the stored mode
/// of the response where [`Fresh`] is built.
pub const DEFAULT_MODE: &str = "capi";

// --- the forms count keys are computed with ----------------------------------------------
//
// The store's published (and retired) versions in `form_versions`, read inside the counting
// transaction (so a version published by another process is seen), with the built-in
// definitions as the fallback for a key not stored (the same rule as
// [`crate::forms::FormRegistry::reload`]). A stored version never changes once published, so
// the parsed definitions are kept per content hash.

fn by_hash() -> &'static RwLock<HashMap<String, Arc<Questionnaire>>> {
    static CACHE: OnceLock<RwLock<HashMap<String, Arc<Questionnaire>>>> = OnceLock::new();
    CACHE.get_or_init(RwLock::default)
}

/// The definition with content hash `hash` if it was parsed before.
pub fn cached_form(hash: &str) -> Option<Arc<Questionnaire>> {
    by_hash()
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(hash)
        .cloned()
}

/// Parses a stored definition (`form_versions.definition`, content hash `hash`) and keeps it;
/// `None` when the loader refuses it (logged; its responses then count nowhere).
pub fn remember_form(hash: &str, definition: &str) -> Option<Arc<Questionnaire>> {
    match sipas_core::form_loader::load_form(definition) {
        Ok(form) => {
            let form = Arc::new(form);
            by_hash()
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(hash.to_owned(), form.clone());
            Some(form)
        }
        Err(e) => {
            tracing::error!(content_hash = %hash, error = %e, "stored form version does not load");
            None
        }
    }
}

/// The built-in definition with this key (for keys not stored in `form_versions`).
pub fn builtin_form(key: &FormKey) -> Option<Arc<Questionnaire>> {
    static BUILTIN: OnceLock<Option<FormRegistry>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| FormRegistry::builtin().ok())
        .as_ref()?
        .get(key)
}

/// The count keys of a response as stored (`item<TAB>outcome` lines) under its form; `None`
/// when the form is unknown or has unusable criteria (it then counts nowhere until the form
/// is known: the start-up backfill retries rows without keys).
pub fn facts_of(form: Option<&Questionnaire>, response: &Response) -> Option<String> {
    let acc = IndexAccumulator::new(form?, IndexConfig::default()).ok()?;
    Some(keys_text(&acc, response))
}

/// [`facts_of`] for many responses: one [`IndexAccumulator`] per form (preparing it is most
/// of the work for one response), built on first use.
pub struct FactsMaker<'f> {
    forms: &'f HashMap<FormKey, Option<Arc<Questionnaire>>>,
    prepared: HashMap<&'f FormKey, Option<IndexAccumulator<'f>>>,
}

impl<'f> FactsMaker<'f> {
    /// Computes keys with the forms of `forms` (a key absent or `None`: form unknown).
    pub fn new(forms: &'f HashMap<FormKey, Option<Arc<Questionnaire>>>) -> Self {
        FactsMaker {
            forms,
            prepared: HashMap::new(),
        }
    }

    /// The same as [`facts_of`] with the response's form.
    pub fn facts(&mut self, response: &Response) -> Option<String> {
        let (key, form) = self.forms.get_key_value(&response.form)?;
        let acc = self.prepared.entry(key).or_insert_with(|| {
            form.as_deref()
                .and_then(|f| IndexAccumulator::new(f, IndexConfig::default()).ok())
        });
        acc.as_ref().map(|acc| keys_text(acc, response))
    }
}

fn keys_text(acc: &IndexAccumulator<'_>, response: &Response) -> String {
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
    out
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
    /// Field of the assignment (`""`: none).
    pub field_code: String,
    /// Response mode.
    pub mode: String,
    /// Reception of the revision.
    pub received_at: DateTime<Utc>,
    /// Whether it counts.
    pub counted: bool,
    /// Count keys (`None`: form unknown).
    pub facts: Option<String>,
}

/// A change of one `answer_counts` row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Delta {
    /// Round.
    pub round_id: String,
    /// Unit.
    pub unit_code: String,
    /// Agency (`""`: none).
    pub agency_code: String,
    /// Field (`""`: none).
    pub field_code: String,
    /// Response mode.
    pub mode: String,
    /// Item.
    pub item: String,
    /// Outcome.
    pub outcome: String,
    /// Difference (never 0).
    pub n: i64,
}

/// What a refresh writes: the new row and the count differences, one per key, in no
/// particular order ([`plan_batch`] and the PostgreSQL writer [`merge`] them, which orders
/// them by key so that concurrent PostgreSQL transactions lock count rows in one order).
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
    /// Field of the response's assignment (`""`: none).
    pub field_code: String,
    /// The revision's mode (`responses.mode`, migration 0012; [`DEFAULT_MODE`] if unread).
    pub mode: String,
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
    let Some(row) = new_row(current, old.as_ref(), force, fresh)? else {
        return Ok(None);
    };
    let mut tally = Tally::default();
    tally.add(&row, 1);
    if let Some(o) = &old {
        tally.add(o, -1);
    }
    let deltas = tally.into_deltas();
    Ok(Some(Refresh { row, deltas }))
}

/// The new row of a response ([`plan`] without the differences); `None` when it equals
/// `old`.
fn new_row(
    current: Option<Current>,
    old: Option<&FactsRow>,
    force: bool,
    fresh: impl FnOnce(&Current) -> Result<Fresh, StoreError>,
) -> Result<Option<FactsRow>, StoreError> {
    let row = match (current, old) {
        (None, None) => return Ok(None),
        (None, Some(o)) => FactsRow {
            counted: false,
            ..o.clone()
        },
        (Some(c), _) => {
            let f = match old {
                Some(o) if !needs_fresh(Some(&c), Some(o), force) => Fresh {
                    facts: o.facts.clone(),
                    agency_code: o.agency_code.clone(),
                    field_code: o.field_code.clone(),
                    mode: o.mode.clone(),
                },
                _ => fresh(&c)?,
            };
            FactsRow {
                revision: c.revision,
                round_id: c.round_id,
                unit_code: c.unit_code,
                agency_code: f.agency_code,
                field_code: f.field_code,
                mode: f.mode,
                received_at: c.received_at,
                counted: c.decision.as_deref() != Some("rejected"),
                facts: f.facts,
            }
        }
    };
    Ok((old != Some(&row)).then_some(row))
}

/// The cell of a count row: round, unit, agency, field, mode.
type CellKey<'r> = [&'r str; 5];

/// Count differences summed by key as they are added, the keys borrowed from the rows or
/// differences they come from: each cell is looked up once per row, then each
/// `(item, outcome)` within it. (Building one owned [`Delta`] per key of every response and
/// summing those took a third of the SQLite writer's time: BENCHMARKS.md, "Ingest speed",
/// 2026-12-03.)
#[derive(Default)]
struct Tally<'r> {
    cells: HashMap<CellKey<'r>, usize>,
    cell_keys: Vec<CellKey<'r>>,
    sums: HashMap<(usize, &'r str, &'r str), i64>,
}

impl<'r> Tally<'r> {
    fn cell(&mut self, key: CellKey<'r>) -> usize {
        *self.cells.entry(key).or_insert_with(|| {
            self.cell_keys.push(key);
            self.cell_keys.len() - 1
        })
    }

    /// Adds `sign` for every key of `row` when it counts.
    fn add(&mut self, row: &'r FactsRow, sign: i64) {
        let (true, Some(facts)) = (row.counted, &row.facts) else {
            return;
        };
        let cell = self.cell([
            &row.round_id,
            &row.unit_code,
            &row.agency_code,
            &row.field_code,
            &row.mode,
        ]);
        for (item, outcome) in keys_of(facts) {
            *self.sums.entry((cell, item, outcome)).or_insert(0) += sign;
        }
    }

    /// Adds one difference.
    fn add_delta(&mut self, d: &'r Delta) {
        let cell = self.cell([
            &d.round_id,
            &d.unit_code,
            &d.agency_code,
            &d.field_code,
            &d.mode,
        ]);
        *self
            .sums
            .entry((cell, d.item.as_str(), d.outcome.as_str()))
            .or_insert(0) += d.n;
    }

    /// The non-zero sums as differences, sorted by key.
    fn into_deltas(self) -> Vec<Delta> {
        let mut out: Vec<Delta> = self
            .sums
            .into_iter()
            .filter(|(_, n)| *n != 0)
            .map(|((cell, item, outcome), n)| {
                let [round_id, unit_code, agency_code, field_code, mode] = self.cell_keys[cell];
                Delta {
                    round_id: round_id.to_owned(),
                    unit_code: unit_code.to_owned(),
                    agency_code: agency_code.to_owned(),
                    field_code: field_code.to_owned(),
                    mode: mode.to_owned(),
                    item: item.to_owned(),
                    outcome: outcome.to_owned(),
                    n,
                }
            })
            .collect();
        // Distinct keys: the order is the key's (n never decides it).
        out.sort_unstable();
        out
    }
}

/// What a backend read about one response for [`plan_batch`].
pub struct Loaded<'a> {
    /// The response.
    pub id: Uuid,
    /// Its state in `current_responses`.
    pub current: Option<Current>,
    /// Its `response_facts` row.
    pub old: Option<FactsRow>,
    /// When [`needs_fresh`]: its current revision with the assignment's codes and the mode.
    pub fresh: Option<FreshInput<'a>>,
}

/// The current revision of a response and what its row takes from elsewhere.
pub struct FreshInput<'a> {
    /// The revision (from the batch in hand, or its stored body).
    pub response: &'a Response,
    /// Agency of the response's assignment (`""`: none).
    pub agency_code: String,
    /// Field of the response's assignment (`""`: none).
    pub field_code: String,
    /// The revision's mode (`responses.mode`).
    pub mode: String,
    /// Its count keys when they were computed before the transaction with the same form
    /// ([`PreparedKeys::get`]); `None`: computed here.
    pub keys: Option<Option<String>>,
}

/// Count keys of a batch's revisions computed before its write transaction (so that the
/// one SQLite writer does not spend its time on them while other uploads wait), each with
/// the content hash of the stored form version it used (`None`: the built-in). The
/// transaction uses a key set only when its own form for the key has the same hash.
#[derive(Debug, Default)]
pub struct PreparedKeys {
    forms: HashMap<FormKey, Option<String>>,
    keys: HashMap<(Uuid, u32), Option<String>>,
}

impl PreparedKeys {
    /// The keys of `responses` under `forms` (form key → stored version hash and
    /// definition, as the counting transaction reads them).
    pub fn compute<'r>(
        responses: impl IntoIterator<Item = &'r Response>,
        forms: HashMap<FormKey, (Option<String>, Option<Arc<Questionnaire>>)>,
    ) -> Self {
        let (hashes, defs): (HashMap<_, _>, HashMap<_, _>) = forms
            .into_iter()
            .map(|(k, (hash, form))| ((k.clone(), hash), (k, form)))
            .unzip();
        let mut maker = FactsMaker::new(&defs);
        let keys = responses
            .into_iter()
            .filter(|r| defs.contains_key(&r.form))
            .map(|r| ((r.id, r.revision), maker.facts(r)))
            .collect();
        PreparedKeys {
            forms: hashes,
            keys,
        }
    }

    /// The prepared keys of `response` if they were computed with the form version of
    /// content hash `form_hash` (`None`: the built-in).
    pub fn get(&self, response: &Response, form_hash: Option<&str>) -> Option<Option<String>> {
        let used = self.forms.get(&response.form)?;
        if used.as_deref() != form_hash {
            return None;
        }
        self.keys.get(&(response.id, response.revision)).cloned()
    }
}

/// What the refresh of many responses writes: their new rows (in the order given) and the
/// count differences of them all, merged ([`merge`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchRefresh {
    /// `(response, new row)` of each response whose row changes.
    pub rows: Vec<(Uuid, FactsRow)>,
    /// Differences to apply to `answer_counts`, merged and sorted by key.
    pub deltas: Vec<Delta>,
}

/// [`plan`] for many responses at once (one transaction): keys computed with one accumulator
/// per form ([`FactsMaker`]; `forms` holds the form of every response in `fresh`), the
/// differences merged. Each id must appear once.
pub fn plan_batch(
    loaded: Vec<Loaded<'_>>,
    force: bool,
    forms: &HashMap<FormKey, Option<Arc<Questionnaire>>>,
) -> Result<BatchRefresh, StoreError> {
    let mut maker = FactsMaker::new(forms);
    let mut changed: Vec<(Uuid, FactsRow, Option<FactsRow>)> = Vec::new();
    for l in loaded {
        let id = l.id;
        let fresh = l.fresh;
        let row = new_row(l.current, l.old.as_ref(), force, |_| {
            let f = fresh.ok_or_else(|| {
                StoreError::Backend(format!("answer counts: response {id} not read"))
            })?;
            Ok(Fresh {
                facts: match f.keys {
                    Some(keys) => keys,
                    None => maker.facts(f.response),
                },
                agency_code: f.agency_code,
                field_code: f.field_code,
                mode: f.mode,
            })
        })?;
        if let Some(row) = row {
            changed.push((id, row, l.old));
        }
    }
    let deltas = {
        let mut tally = Tally::default();
        for (_, row, old) in &changed {
            tally.add(row, 1);
            if let Some(o) = old {
                tally.add(o, -1);
            }
        }
        tally.into_deltas()
    };
    Ok(BatchRefresh {
        rows: changed.into_iter().map(|(id, row, _)| (id, row)).collect(),
        deltas,
    })
}

/// Merges count differences by key, dropping zeros, sorted by key: a transaction applying
/// several refreshes applies them once, in one lock order. Summed by key first ([`Tally`]),
/// then only the distinct keys are sorted (sorting all the differences of a batch took 44 %
/// of the server's ingest time: BENCHMARKS.md, "Ingest speed", 2026-12-02 (e)).
pub fn merge(deltas: Vec<Delta>) -> Vec<Delta> {
    let mut tally = Tally::default();
    for d in &deltas {
        tally.add_delta(d);
    }
    tally.into_deltas()
}

/// One `answer_counts` row of a round, or with [`Detail::Cells`] the sum of a cell's rows
/// over its fields. The codes are shared between the rows that have them ([`CountsReader`]
/// interns them), so a round's counts cost one small record per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRecord {
    /// Unit.
    pub unit_code: Arc<str>,
    /// Agency (`""`: none).
    pub agency_code: Arc<str>,
    /// Field (`""`: none, and every row read with [`Detail::Cells`]).
    pub field_code: Arc<str>,
    /// Response mode.
    pub mode: Arc<str>,
    /// Item.
    pub item: Arc<str>,
    /// Outcome.
    pub outcome: Arc<str>,
    /// Counted responses (> 0).
    pub n: u64,
}

/// How much of the counts a request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Summed over fields, one record per (unit, agency, mode, item, outcome): everything
    /// but the breakdown by field (index, report, mode panels, results by unit, agency and
    /// agency kind). About a third of the rows in a round with three fields per cell.
    Cells,
    /// Every row with its field (results by field, the trend, the XLSX results).
    Fields,
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

/// The address of a shared code: equal for equal codes read by one [`CountsReader`].
fn at(code: &Arc<str>) -> usize {
    Arc::as_ptr(code).cast::<u8>() as usize
}

/// Builds [`RoundCounts`] from rows as a backend reads them, one at a time (the backend
/// never holds the round's rows itself): codes interned, rows summed over fields with
/// [`Detail::Cells`].
#[derive(Debug)]
pub struct CountsReader {
    detail: Detail,
    codes: HashSet<Arc<str>>,
    last: [Option<Arc<str>>; 6],
    cells: HashMap<[usize; 5], usize>,
    rows: Vec<CountRecord>,
}

impl CountsReader {
    /// A reader keeping `detail`.
    pub fn new(detail: Detail) -> Self {
        CountsReader {
            detail,
            codes: HashSet::new(),
            last: Default::default(),
            cells: HashMap::new(),
            rows: Vec::new(),
        }
    }

    /// The shared copy of `s`, read in column `col` (the previous row's value is tried
    /// first: rows come grouped by unit).
    fn intern(&mut self, col: usize, s: &str) -> Arc<str> {
        if let Some(last) = &self.last[col]
            && &**last == s
        {
            return last.clone();
        }
        let shared = match self.codes.get(s) {
            Some(c) => c.clone(),
            None => {
                let c: Arc<str> = Arc::from(s);
                self.codes.insert(c.clone());
                c
            }
        };
        self.last[col] = Some(shared.clone());
        shared
    }

    /// Adds one `answer_counts` row: `[unit, agency, field, mode, item, outcome]` and `n`.
    pub fn push(&mut self, row: [&str; 6], n: u64) {
        let [unit, agency, field, mode, item, outcome] = row;
        let unit_code = self.intern(0, unit);
        let agency_code = self.intern(1, agency);
        let cells = self.detail == Detail::Cells;
        let field_code = self.intern(2, if cells { "" } else { field });
        let mode = self.intern(3, mode);
        let item = self.intern(4, item);
        let outcome = self.intern(5, outcome);
        if cells {
            let key = [
                at(&unit_code),
                at(&agency_code),
                at(&mode),
                at(&item),
                at(&outcome),
            ];
            match self.cells.get(&key) {
                Some(&i) => {
                    self.rows[i].n += n;
                    return;
                }
                None => {
                    self.cells.insert(key, self.rows.len());
                }
            }
        }
        self.rows.push(CountRecord {
            unit_code,
            agency_code,
            field_code,
            mode,
            item,
            outcome,
            n,
        });
    }

    /// The counts read, with the round's "data as of".
    pub fn finish(mut self, data_as_of: Option<DateTime<Utc>>) -> RoundCounts {
        self.rows.shrink_to_fit();
        RoundCounts {
            rows: self.rows,
            data_as_of,
        }
    }
}

/// The counts of the cells of a round a caller's scope admits, read once per request and
/// shared by the figures it answers (index or breakdown, and the mode panels).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopedCounts {
    /// The rows of admitted cells, every mode.
    pub rows: Vec<CountRecord>,
    /// Latest reception among all the round's counted responses.
    pub data_as_of: Option<DateTime<Utc>>,
}

/// Whether a row's cell is admitted by `filter`, asked once per (unit, agency).
fn admitted_by<'a>(filter: &'a RoundFilter) -> impl FnMut(&CountRecord) -> bool + 'a {
    let mut admitted: HashMap<(usize, usize), bool> = HashMap::new();
    move |r| {
        *admitted
            .entry((at(&r.unit_code), at(&r.agency_code)))
            .or_insert_with(|| filter.admits_codes(&r.unit_code, code(&r.agency_code)))
    }
}

impl RoundCounts {
    /// The rows of the cells `filter` admits (the caller's scope).
    pub fn in_scope<'a>(
        &'a self,
        filter: &'a RoundFilter,
    ) -> impl Iterator<Item = &'a CountRecord> {
        let mut admits = admitted_by(filter);
        self.rows.iter().filter(move |r| admits(r))
    }

    /// Keeps the rows of the cells `filter` admits.
    pub fn into_scope(mut self, filter: &RoundFilter) -> ScopedCounts {
        let mut admits = admitted_by(filter);
        self.rows.retain(|r| admits(r));
        ScopedCounts {
            rows: self.rows,
            data_as_of: self.data_as_of,
        }
    }
}

/// A stored code (`""`: none) as an option.
pub fn code(c: &str) -> Option<&str> {
    (!c.is_empty()).then_some(c)
}

/// The index of round `round_id` from its counts, keeping only the cells `filter` admits
/// (the caller's scope) and the responses whose mode is in `modes` (`None`: all).
pub fn index(
    form: &Questionnaire,
    round_id: &str,
    counts: &RoundCounts,
    filter: &RoundFilter,
    config: IndexConfig,
    modes: Option<&[String]>,
) -> Result<IndexReport, IndexError> {
    index_of_rows(form, round_id, counts.in_scope(filter), config, modes)
}

/// The index of round `round_id` from count rows already in scope, counting the responses
/// whose mode is in `modes` (`None`: all).
pub fn index_of_rows<'a>(
    form: &Questionnaire,
    round_id: &str,
    rows: impl IntoIterator<Item = &'a CountRecord>,
    config: IndexConfig,
    modes: Option<&[String]>,
) -> Result<IndexReport, IndexError> {
    index_from_counts(
        form,
        rows.into_iter().map(|r| CountRow {
            round_id,
            unit_code: &r.unit_code,
            mode: &r.mode,
            item: &r.item,
            outcome: &r.outcome,
            n: usize::try_from(r.n).unwrap_or(usize::MAX),
        }),
        config,
        modes,
    )
}

/// The counts of a round in the caller's scope, summed over fields ([`Detail::Cells`]), for
/// the index, the report and the mode panels of one request; `None` on the reference path
/// ([`crate::app::AppState::index_from_responses`]: the figures come from the responses).
pub async fn scoped_counts(
    state: &crate::app::AppState,
    mine: &crate::scope::Scope,
    round: &sipas_protocol::wire::Round,
) -> crate::problem::ApiResult<Option<ScopedCounts>> {
    if state.index_from_responses {
        return Ok(None);
    }
    let filter = RoundFilter::for_codes(mine, round.starts_on);
    let counts = state.store.round_counts(&round.id, Detail::Cells).await?;
    Ok(Some(counts.into_scope(&filter)))
}

/// The index of a round visible to `mine` with the "data as of" time (latest reception
/// among all its counted responses), counting the responses of the modes `modes` selects
/// (issue 15): from `counts` ([`scoped_counts`], read once per request); without them from
/// the counts read now, or by re-reading every counted response when
/// [`crate::app::AppState::index_from_responses`] is set (the reference).
pub async fn round_index(
    state: &crate::app::AppState,
    mine: &crate::scope::Scope,
    round: &sipas_protocol::wire::Round,
    form: &Questionnaire,
    config: IndexConfig,
    modes: &crate::results_modes::ModeSelection,
    counts: Option<&ScopedCounts>,
) -> crate::problem::ApiResult<(IndexReport, Option<DateTime<Utc>>)> {
    let failed = |e: IndexError| {
        tracing::error!(round_id = %round.id, error = %e, "index computation failed");
        crate::problem::ApiError::internal()
    };
    let read;
    let counts = match counts {
        Some(c) => c,
        None => match scoped_counts(state, mine, round).await? {
            Some(c) => {
                read = c;
                &read
            }
            None => {
                let filter = RoundFilter::new(state, mine, &round.id, round.starts_on).await?;
                let (responses, data_as_of) = state.store.report_responses(&round.id).await?;
                let responses = modes.keep(filter.responses(responses));
                let index =
                    sipas_core::index::compute_index(form, &responses, config).map_err(failed)?;
                return Ok((index, data_as_of));
            }
        },
    };
    let counted = modes.counted();
    let index =
        index_of_rows(form, &round.id, &counts.rows, config, Some(&counted)).map_err(failed)?;
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
            field_code: String::new(),
            mode: DEFAULT_MODE.into(),
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
                field_code: String::new(),
                mode: DEFAULT_MODE.into(),
            })
        }
    }

    #[test]
    fn reader_sums_over_fields_for_cells_and_shares_codes() {
        let rows = [
            (["U1", "A", "F1", "capi", "C1", "4"], 2),
            (["U1", "A", "F2", "capi", "C1", "4"], 3),
            (["U1", "A", "F2", "capi", "C1", "5"], 1),
            (["U2", "A", "F1", "capi", "C1", "4"], 7),
        ];
        let read = |detail| {
            let mut r = CountsReader::new(detail);
            for (cols, n) in rows {
                r.push(cols, n);
            }
            r.finish(None)
        };
        let fields = read(Detail::Fields);
        assert_eq!(fields.rows.len(), 4);
        assert_eq!(&*fields.rows[1].field_code, "F2");
        let cells = read(Detail::Cells);
        let got: Vec<(&str, &str, &str, u64)> = cells
            .rows
            .iter()
            .map(|r| (&*r.unit_code, &*r.field_code, &*r.outcome, r.n))
            .collect();
        assert_eq!(
            got,
            [("U1", "", "4", 5), ("U1", "", "5", 1), ("U2", "", "4", 7)]
        );
        // one copy of each code
        assert!(Arc::ptr_eq(&cells.rows[0].item, &cells.rows[2].item));
        assert!(Arc::ptr_eq(
            &cells.rows[0].agency_code,
            &cells.rows[2].agency_code
        ));
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
        let mut got: Vec<(&str, i64)> =
            r.deltas.iter().map(|d| (d.outcome.as_str(), d.n)).collect();
        got.sort_unstable();
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

    #[test]
    fn prepared_keys_are_used_only_with_the_same_form_version() {
        let key = FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        };
        let form = builtin_form(&key).expect("built-in form");
        let response = Response {
            id: Uuid::from_u128(1),
            revision: 2,
            form: key.clone(),
            assignment_id: None,
            round_id: "R".into(),
            unit_code: "U".into(),
            answers: Default::default(),
            started_at: DateTime::<Utc>::UNIX_EPOCH,
            completed_at: DateTime::<Utc>::UNIX_EPOCH,
            paradata: Default::default(),
            origin: Default::default(),
        };
        let expected = facts_of(Some(&form), &response);
        assert!(expected.is_some());
        let stored = PreparedKeys::compute(
            [&response],
            HashMap::from([(key.clone(), (Some("h1".to_owned()), Some(form.clone())))]),
        );
        assert_eq!(stored.get(&response, Some("h1")), Some(expected.clone()));
        // another version stored since, or the built-in: computed again in the transaction
        assert_eq!(stored.get(&response, Some("h2")), None);
        assert_eq!(stored.get(&response, None), None);
        let builtin = PreparedKeys::compute(
            [&response],
            HashMap::from([(key.clone(), (None, Some(form)))]),
        );
        assert_eq!(builtin.get(&response, None), Some(expected));
        assert_eq!(builtin.get(&response, Some("h1")), None);
        // another revision was not prepared
        let later = Response {
            revision: 3,
            ..response
        };
        assert_eq!(builtin.get(&later, None), None);
    }

    proptest::proptest! {
        /// `merge` sums the differences of each key, drops the keys that sum to zero and
        /// sorts by key: the same as sorting them all and summing neighbours.
        #[test]
        fn merge_sums_each_key_once_in_key_order(
            raw in proptest::collection::vec((0u8..3, 0u8..2, 0u8..4, 0u8..3, -2i64..3), 0..200)
        ) {
            let deltas: Vec<Delta> = raw
                .iter()
                .filter(|r| r.4 != 0)
                .map(|&(unit, field, item, outcome, n)| Delta {
                    round_id: "R".into(),
                    unit_code: format!("U{unit}"),
                    agency_code: String::new(),
                    field_code: if field == 0 { String::new() } else { "LV1".into() },
                    mode: DEFAULT_MODE.into(),
                    item: format!("C{item}"),
                    outcome: format!("{outcome}"),
                    n,
                })
                .collect();
            let mut expected: Vec<Delta> = Vec::new();
            let mut sorted = deltas.clone();
            sorted.sort();
            for d in sorted {
                match expected.last_mut() {
                    Some(last) if Delta { n: 0, ..last.clone() } == Delta { n: 0, ..d.clone() } => {
                        last.n += d.n;
                    }
                    _ => expected.push(d),
                }
            }
            expected.retain(|d| d.n != 0);
            proptest::prop_assert_eq!(merge(deltas), expected);
        }
    }
}
