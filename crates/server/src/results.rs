//! Published results of a round (issue 11): breakdowns by unit, agency, agency kind, field or
//! respondent profile, with ranks, targets and the comparison with an earlier round.
//!
//! Every figure comes from the index engine in `sipas_core` ([`compute_breakdown_from_counts`],
//! [`compute_breakdown`], [`rank_figures`], [`compare_rounds`],
//! [`TargetSet::evaluate_breakdown`]); this module only gathers the inputs and puts names next
//! to codes. The inputs (issue 14) are the round's **answer counts** in the caller's scope
//! ([`crate::answer_counts`]: cost in proportion to the cells, not the responses) for
//! breakdowns by unit, agency, agency kind and field, comparisons, rankings and the trend; only
//! a breakdown by a respondent-profile item and the microdata read the counted responses
//! themselves (with the catalogue codes of their assignments). The HTTP
//! handlers are in `crate::handlers::results`, the files in `crate::results_export`.
//!
//! * **Scope**: only responses the caller's scope admits ([`scope::RoundFilter`]) enter any
//!   figure, in this round and in the round compared with.
//! * **Previous round** (`compare_to=auto`, the default): among the rounds the caller may see
//!   with the same form id (form family, any version) that started before this one, the
//!   latest one covering the same units; when none covers the same units, the latest one
//!   whose units overlap this round's. None: no comparison.
//! * **Mapping** of renamed or split criteria: the request parameter `map`
//!   (`OLD:NEW[+NEW…],…`, see [`parse_mapping`]); not stored.
//! * **Ranks**: standard competition ranking on the overall row among the cells of the
//!   breakdown (the caller's cells at the chosen level); for agencies also among the agencies
//!   of the same kind (`rank_in_kind`).
use crate::answer_counts::{CountRecord, Detail, code};
use crate::app::AppState;
use crate::problem::{ApiError, ApiResult};
use crate::scope::{self, Scope};
use crate::storage::{AssignmentCodes, RoundPlan};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sipas_core::breakdown::{
    AgeBand, Breakdown, BreakdownAccumulator, BreakdownCell, BreakdownCountRow, BreakdownInput,
    Dimension, MISSING_KEY, compute_breakdown, compute_breakdown_from_counts, default_age_bands,
};
use sipas_core::catalogue::Agency;
use sipas_core::comparison::{CodeMapping, Comparison, MappingEntry, compare_rounds};
use sipas_core::figure::Figure;
use sipas_core::index::{ALL_UNITS, Aggregation, IndexConfig};
use sipas_core::interval::{METHOD_NOTE_EN, METHOD_NOTE_VI};
use sipas_core::mode::ResponseMode;
use sipas_core::questionnaire::{ItemType, Questionnaire};
use sipas_core::ranking::{RankEntry, rank_figures};
use sipas_core::report::{OVERALL_LABEL_VI, ReportLevel, aggregation_label_vi, format_time_vi};
use sipas_core::response::Response;
use sipas_core::suppression::{rule_note_en, rule_note_vi};
use sipas_core::targets::{TargetResult, TargetSet};
use sipas_core::units::UnitLevel;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::wire::Round;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// Label of the round total.
pub const TOTAL_LABEL_VI: &str = "Toàn bộ phạm vi";

/// How a breakdown groups responses (`by=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    /// Administrative units at a level.
    Unit(UnitLevel),
    /// Agencies.
    Agency,
    /// Agency kinds.
    AgencyKind,
    /// Fields.
    Field,
    /// A profile item (age in years goes into age bands).
    Profile(String),
}

impl By {
    /// Parses `by` and `level` (`unit` needs no level: commune by default).
    pub fn parse(by: Option<&str>, level: Option<&str>) -> ApiResult<By> {
        let bad = |field: &str, en: &str, vi: &str| {
            ApiError::invalid_input(en.to_owned(), vi.to_owned())
                .with_details(serde_json::json!({ "field": field }))
        };
        let level = match level {
            None | Some("") => None,
            Some("province") => Some(UnitLevel::Province),
            Some("district") => Some(UnitLevel::District),
            Some("commune") => Some(UnitLevel::Commune),
            Some(_) => {
                return Err(bad(
                    "level",
                    "level must be province, district or commune.",
                    "Cấp phải là tỉnh (province), huyện (district) hoặc xã (commune).",
                ));
            }
        };
        match by.unwrap_or("agency") {
            "unit" => Ok(By::Unit(level.unwrap_or(UnitLevel::Commune))),
            "agency" => Ok(By::Agency),
            "agency_kind" => Ok(By::AgencyKind),
            "field" => Ok(By::Field),
            other => match other.strip_prefix("profile:") {
                Some(item) if !item.trim().is_empty() => Ok(By::Profile(item.trim().to_owned())),
                _ => Err(bad(
                    "by",
                    "by must be unit, agency, agency_kind, field or profile:<item code>.",
                    "Tiêu thức phân tổ phải là unit, agency, agency_kind, field hoặc profile:<mã câu hỏi>.",
                )),
            },
        }
    }

    /// The wire name.
    pub fn name(&self) -> String {
        match self {
            By::Unit(_) => "unit".into(),
            By::Agency => "agency".into(),
            By::AgencyKind => "agency_kind".into(),
            By::Field => "field".into(),
            By::Profile(item) => format!("profile:{item}"),
        }
    }
}

/// Parses a mapping table `OLD:NEW[+NEW…]` entries separated by commas (e.g.
/// `C7:C7a+C7b,C3:C3x`); empty: no mapping. Checks against the forms happen in the engine.
pub fn parse_mapping(s: Option<&str>) -> ApiResult<CodeMapping> {
    let mut entries = Vec::new();
    for part in s
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let (old, new) = part.split_once(':').ok_or_else(|| {
            ApiError::invalid_input(
                format!("Mapping entry {part:?} is not OLD:NEW."),
                format!("Mục ánh xạ {part:?} không có dạng MÃ_CŨ:MÃ_MỚI."),
            )
            .with_details(serde_json::json!({ "field": "map" }))
        })?;
        entries.push(MappingEntry {
            old: old.trim().to_owned(),
            new: new
                .split('+')
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty())
                .collect(),
        });
    }
    Ok(CodeMapping { entries })
}

/// What figures of a round are computed from, already filtered to the scope.
pub enum Source {
    /// The answer counts of the cells in scope (every breakdown but profile items).
    Counts(Vec<CountRecord>),
    /// The counted responses themselves (profile breakdowns, microdata, and the reference
    /// path [`AppState::index_from_responses`]).
    Answers {
        /// Counted responses (latest counted revision) in scope.
        responses: Vec<Response>,
        /// Catalogue codes per assignment.
        codes: BTreeMap<Uuid, AssignmentCodes>,
    },
    /// Breakdowns already computed while the counted responses streamed past
    /// ([`load_round_tallied`]: profile breakdowns in bounded memory, issue 14), each with
    /// the grouping it answers; computed under the request's minimum N and aggregation.
    Tallied(Vec<(By, Result<Breakdown, sipas_core::breakdown::BreakdownError>)>),
}

/// Everything a results computation reads about one round, already filtered to the scope.
pub struct RoundData {
    /// The round.
    pub round: Round,
    /// Its plan (covered units).
    pub plan: RoundPlan,
    /// Its form.
    pub form: Arc<Questionnaire>,
    /// The counts or the responses in scope.
    pub source: Source,
    /// Latest reception among the round's counted responses.
    pub data_as_of: Option<DateTime<Utc>>,
}

impl RoundData {
    /// Keeps only the responses (or count rows) of the modes `selection` counts (issue 15).
    pub fn keep_modes(&mut self, selection: &crate::results_modes::ModeSelection) {
        match &mut self.source {
            Source::Counts(rows) => {
                let counted = selection.counted();
                rows.retain(|r| counted.iter().any(|m| **m == *r.mode));
            }
            Source::Answers { responses, .. } => {
                *responses = selection.keep(std::mem::take(responses));
            }
            // Modes were selected while the responses streamed.
            Source::Tallied(_) => {}
        }
    }
}

/// [`load_round_with`] narrowed to the modes `?mode=` (`asked`) selects in that round (its
/// own official modes by default; issue 15): the comparison round and the trend count like
/// the round itself.
pub async fn load_round_of_modes(
    state: &AppState,
    mine: &Scope,
    round_id: &str,
    answers: bool,
    detail: Detail,
    asked: Option<&str>,
) -> ApiResult<RoundData> {
    let mut data = load_round_with(state, mine, round_id, answers, detail).await?;
    let with_responses = answers || state.index_from_responses;
    let selection = crate::results_modes::select(state, round_id, asked, with_responses).await?;
    data.keep_modes(&selection);
    Ok(data)
}

/// Whether computing the results `by` needs the answers (not only the counts).
pub fn needs_answers(by: &By) -> bool {
    matches!(by, By::Profile(_))
}

/// Names from the catalogues.
pub struct Names {
    /// The scope (with the unit tree).
    pub scope: Scope,
    /// Agencies by code.
    pub agencies: BTreeMap<String, Agency>,
    /// Field names by code.
    pub fields: BTreeMap<String, String>,
}

impl Names {
    /// Loads the catalogues.
    pub async fn load(state: &AppState, scope: Scope) -> ApiResult<Names> {
        Ok(Names {
            scope,
            agencies: state
                .store
                .agencies()
                .await?
                .into_iter()
                .map(|a| (a.code.clone(), a))
                .collect(),
            fields: state
                .store
                .fields()
                .await?
                .into_iter()
                .map(|f| (f.code, f.name))
                .collect(),
        })
    }

    /// The name of a cell key of a breakdown `by` (the engine's label for units and profile
    /// options; catalogue names for agencies, kinds and fields; the code when unknown).
    pub fn cell_name(&self, by: &By, cell: &BreakdownCell) -> String {
        if cell.key == ALL_UNITS {
            return TOTAL_LABEL_VI.to_owned();
        }
        if let Some(l) = &cell.label {
            return l.clone();
        }
        match by {
            By::Agency => self
                .agencies
                .get(&cell.key)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| cell.key.clone()),
            By::AgencyKind => sipas_core::catalogue::AgencyKind::parse(&cell.key)
                .map(|k| k.name_vi().to_owned())
                .unwrap_or_else(|| cell.key.clone()),
            By::Field => self
                .fields
                .get(&cell.key)
                .cloned()
                .unwrap_or_else(|| cell.key.clone()),
            _ => cell.key.clone(),
        }
    }
}

/// The form of a round, `422`-free: a round always names a known form.
pub fn form_of(state: &AppState, round: &Round) -> ApiResult<Arc<Questionnaire>> {
    state.forms.get(&round.form).ok_or_else(|| {
        ApiError::new(
            ProblemCode::UnknownForm,
            format!("Unknown questionnaire {}.", round.form),
            format!("Không có bảng hỏi {}.", round.form),
        )
    })
}

/// Loads what the figures of a round visible to `mine` are computed from (`404.1` outside
/// the scope): its answer counts with their fields, or with `answers` (or the server's
/// reference path) its counted responses.
pub async fn load_round(
    state: &AppState,
    mine: &Scope,
    round_id: &str,
    answers: bool,
) -> ApiResult<RoundData> {
    load_round_with(state, mine, round_id, answers, Detail::Fields).await
}

/// The counts `by` needs when it does not need the answers: fields only for the breakdown
/// by field, and with `fields` (the trend, the XLSX results).
pub fn detail_for(by: &By, fields: bool) -> Detail {
    if fields || matches!(by, By::Field) {
        Detail::Fields
    } else {
        Detail::Cells
    }
}

/// [`load_round`] reading the counts with `detail`.
pub async fn load_round_with(
    state: &AppState,
    mine: &Scope,
    round_id: &str,
    answers: bool,
    detail: Detail,
) -> ApiResult<RoundData> {
    let (round, plan) = crate::handlers::rounds::visible_round(state, mine, round_id).await?;
    let form = form_of(state, &round)?;
    let (source, data_as_of) = if answers || state.index_from_responses {
        let filter = scope::RoundFilter::new(state, mine, round_id, round.starts_on).await?;
        let (responses, data_as_of) = state.store.report_responses(round_id).await?;
        let responses = filter.responses(responses);
        let codes = state.store.assignment_codes(round_id).await?;
        (Source::Answers { responses, codes }, data_as_of)
    } else {
        let filter = scope::RoundFilter::for_codes(mine, round.starts_on);
        let counts = state.store.round_counts(round_id, detail).await?;
        let scoped = counts.into_scope(&filter);
        (Source::Counts(scoped.rows), scoped.data_as_of)
    };
    Ok(RoundData {
        round,
        plan,
        form,
        source,
        data_as_of,
    })
}

/// [`load_round_of_modes`] for breakdowns `bys` under `min_n` and `aggregation` in bounded
/// memory (issue 14; profile breakdowns, which need the answers): the counted responses of
/// the round stream past once ([`crate::storage::ResultsStore::counted_rows`]) and those
/// in the caller's scope and of the modes `?mode=` (`asked`) selects fill one
/// accumulator per breakdown; memory in proportion to the cells, not the responses. The
/// same checks in the same order as [`load_round_of_modes`] (`404.1` outside the scope, then
/// the mode); a breakdown the engine refuses is kept as its error for [`breakdown`] to
/// answer. Also gives the mode selection (its `by_id` is left empty: the mode comes with
/// each row).
#[allow(clippy::too_many_arguments)]
pub async fn load_round_tallied(
    state: &AppState,
    mine: &Scope,
    names: &Names,
    round_id: &str,
    bys: &[By],
    min_n: usize,
    aggregation: Aggregation,
    asked: Option<&str>,
) -> ApiResult<(RoundData, crate::results_modes::ModeSelection)> {
    let (round, plan) = crate::handlers::rounds::visible_round(state, mine, round_id).await?;
    let form = form_of(state, &round)?;
    let selection = crate::results_modes::select(state, round_id, asked, false).await?;
    let filter = scope::RoundFilter::for_codes(mine, round.starts_on);
    let bands = default_age_bands();
    let config = IndexConfig {
        aggregation,
        ..IndexConfig::default()
    };
    let mut accs: Vec<_> = bys
        .iter()
        .map(|by| {
            let dimension = dimension_of(&form, names, by, round.starts_on, &bands);
            BreakdownAccumulator::new(&form, config.clone(), dimension)
        })
        .collect();
    let mut rows = state.store.counted_rows(round_id).await?;
    let mut data_as_of: Option<DateTime<Utc>> = None;
    while let Some(row) = rows.recv().await {
        let row = row?;
        data_as_of = Some(data_as_of.map_or(row.received_at, |l| l.max(row.received_at)));
        let r = &row.response;
        let agency_code = row.codes.agency_code.as_deref();
        let mode = ResponseMode::parse(&row.mode).unwrap_or(ResponseMode::Capi);
        if !filter.admits_codes(&r.unit_code, agency_code) || !selection.modes.contains(&mode) {
            continue;
        }
        let input = BreakdownInput {
            round_id: &r.round_id,
            unit_code: &r.unit_code,
            agency_code,
            agency_kind: agency_code
                .and_then(|a| names.agencies.get(a))
                .map(|a| a.kind.code()),
            field_code: row.codes.field_code.as_deref(),
            answers: &r.answers,
        };
        for acc in accs.iter_mut().flatten() {
            acc.add(&input);
        }
    }
    let done = bys
        .iter()
        .cloned()
        .zip(
            accs.into_iter()
                .map(|acc| acc.and_then(|a| a.finish(min_n))),
        )
        .collect();
    Ok((
        RoundData {
            round,
            plan,
            form: form.clone(),
            source: Source::Tallied(done),
            data_as_of,
        },
        selection,
    ))
}

/// The previous round of the same scope and form family (see the module notes).
pub async fn previous_round(
    state: &AppState,
    mine: &Scope,
    this: &RoundData,
) -> ApiResult<Option<String>> {
    let mut plans = state.store.round_plans().await?;
    let mut same: Option<Round> = None;
    let mut overlapping: Option<Round> = None;
    for r in state.store.rounds().await? {
        if r.id == this.round.id
            || r.form.form_id != this.round.form.form_id
            || r.starts_on >= this.round.starts_on
        {
            continue;
        }
        let plan = plans.remove(&r.id).unwrap_or_default();
        if !mine.round(&plan.units, r.starts_on) {
            continue;
        }
        let later = |best: &Option<Round>| best.as_ref().is_none_or(|b| b.starts_on < r.starts_on);
        if plan.units == this.plan.units {
            if later(&same) {
                same = Some(r);
            }
        } else if this.plan.units.iter().any(|u| {
            plan.units.iter().any(|p| {
                scope::within(&mine.tree, u, p, this.round.starts_on)
                    || scope::within(&mine.tree, p, u, this.round.starts_on)
            })
        }) && later(&overlapping)
        {
            overlapping = Some(r);
        }
    }
    Ok(same.or(overlapping).map(|r| r.id))
}

/// The dimension of a breakdown `by` over `form` (`bands`: the age bands of an integer
/// profile item).
fn dimension_of<'t>(
    form: &Questionnaire,
    names: &'t Names,
    by: &'t By,
    on: chrono::NaiveDate,
    bands: &'t [AgeBand],
) -> Dimension<'t> {
    match by {
        By::Unit(level) => Dimension::Unit {
            tree: &names.scope.tree,
            level: *level,
            on,
        },
        By::Agency => Dimension::Agency,
        By::AgencyKind => Dimension::AgencyKind,
        By::Field => Dimension::Field,
        By::Profile(item) => match form.item(item).map(|i| i.item_type) {
            Some(ItemType::Integer) => Dimension::AgeBand { item, bands },
            _ => Dimension::Profile { item },
        },
    }
}

/// The answer to a breakdown the engine refused.
fn breakdown_error(e: sipas_core::breakdown::BreakdownError) -> ApiError {
    use sipas_core::breakdown::BreakdownError as E;
    match e {
        E::UnknownItem(item) | E::UnsupportedItem { item, .. } => ApiError::invalid_input(
            format!("Item {item} of the form cannot group responses."),
            format!("Câu hỏi {item} của phiếu không dùng để phân tổ được."),
        )
        .with_details(serde_json::json!({ "field": "by", "code": item })),
        other => {
            tracing::error!(error = %other, "breakdown failed");
            ApiError::internal()
        }
    }
}

/// The breakdown of `data` by `by` under `min_n` (engine: [`compute_breakdown`]).
pub fn breakdown(
    data: &RoundData,
    names: &Names,
    by: &By,
    min_n: usize,
    aggregation: Aggregation,
) -> ApiResult<Breakdown> {
    let bands: Vec<AgeBand> = default_age_bands();
    let dimension = dimension_of(&data.form, names, by, data.round.starts_on, &bands);
    let config = IndexConfig {
        aggregation,
        ..IndexConfig::default()
    };
    let kind_of = |agency: Option<&str>| {
        agency
            .and_then(|a| names.agencies.get(a))
            .map(|a| a.kind.code())
    };
    let computed = match &data.source {
        Source::Tallied(done) => match done.iter().find(|(b, _)| b == by) {
            Some((_, bd)) => bd.clone(),
            None => {
                tracing::error!(by = %by.name(), "breakdown not tallied");
                return Err(ApiError::internal());
            }
        },
        Source::Counts(rows) => {
            let round_id = data.round.id.as_str();
            let rows = rows.iter().map(|r| BreakdownCountRow {
                round_id,
                unit_code: &r.unit_code,
                agency_code: code(&r.agency_code),
                agency_kind: kind_of(code(&r.agency_code)),
                field_code: code(&r.field_code),
                mode: &r.mode,
                item: &r.item,
                outcome: &r.outcome,
                n: usize::try_from(r.n).unwrap_or(usize::MAX),
            });
            // 0012 (response mode): the round's official modes go here.
            compute_breakdown_from_counts(&data.form, config, dimension, min_n, rows, None)
        }
        Source::Answers { responses, codes } => {
            let none = AssignmentCodes::default();
            let inputs = responses.iter().map(|r| {
                let c = r.assignment_id.and_then(|a| codes.get(&a)).unwrap_or(&none);
                let agency_code = c.agency_code.as_deref();
                BreakdownInput {
                    round_id: &r.round_id,
                    unit_code: &r.unit_code,
                    agency_code,
                    agency_kind: kind_of(agency_code),
                    field_code: c.field_code.as_deref(),
                    answers: &r.answers,
                }
            });
            compute_breakdown(&data.form, config, dimension, min_n, inputs)
        }
    };
    computed.map_err(breakdown_error)
}

/// A row of the form as shown: level, code and Vietnamese label.
#[derive(Debug, Clone, Serialize)]
pub struct RowDef {
    /// Level.
    pub level: ReportLevel,
    /// Code (`overall` for the overall row).
    pub code: String,
    /// Label (question, group title, overall).
    pub label: String,
}

/// Label of a row of `form`.
pub fn row_label(form: &Questionnaire, level: ReportLevel, code: &str) -> String {
    match level {
        ReportLevel::Overall => OVERALL_LABEL_VI.to_owned(),
        ReportLevel::Group => form
            .group(code)
            .map_or_else(|| code.to_owned(), |g| g.title.vi.clone()),
        ReportLevel::Criterion => form
            .item(code)
            .map_or_else(|| code.to_owned(), |i| i.label.vi.clone()),
    }
}

/// One cell as published.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// Key (unit, agency, kind, field code, option value; `*` for the total).
    pub key: String,
    /// Name.
    pub name: String,
    /// Agency kind code (agency cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Agency kind name (agency cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind_name: Option<String>,
    /// Responses in the cell.
    pub respondents: usize,
    /// Overall, then each group followed by its criteria.
    pub figures: Vec<Figure>,
    /// Rank on the overall row among the cells (`None`: not ranked).
    pub rank: Option<usize>,
    /// Rank among agencies of the same kind (agency cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank_in_kind: Option<usize>,
    /// Rank among the units of the same province (district and commune cells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank_in_province: Option<usize>,
    /// `ranked` or `not_enough_responses` ("chưa đủ mẫu").
    pub rank_status: sipas_core::ranking::RankStatus,
    /// Targets applying to this cell with their status.
    pub targets: Vec<TargetResult>,
}

/// The method note of every output.
#[derive(Debug, Clone, Serialize)]
pub struct MethodNote {
    /// Form id and version.
    pub form: String,
    /// Form title.
    pub form_title: String,
    /// Aggregation rule.
    pub aggregation: Aggregation,
    /// Its Vietnamese name.
    pub aggregation_vi: String,
    /// Minimum N.
    pub min_n: usize,
    /// Latest reception among the responses (generation time when none).
    pub data_as_of: DateTime<Utc>,
    /// `dd/mm/yyyy HH:MM (UTC+7)`.
    pub data_as_of_vi: String,
    /// Generation time.
    pub generated_at: DateTime<Utc>,
    /// Interval and significance method (vi).
    pub interval_vi: String,
    /// Interval and significance method (en).
    pub interval_en: String,
    /// Suppression rule (vi).
    pub suppression_vi: String,
    /// Suppression rule (en).
    pub suppression_en: String,
    /// Ranking rule (vi).
    pub ranking_vi: String,
    /// Target rule (vi).
    pub targets_vi: String,
}

/// A round named.
#[derive(Debug, Clone, Serialize)]
pub struct RoundRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// First day.
    pub starts_on: chrono::NaiveDate,
    /// Form id and version.
    pub form: String,
}

impl RoundRef {
    fn of(r: &Round) -> RoundRef {
        RoundRef {
            id: r.id.clone(),
            name: r.name.clone(),
            starts_on: r.starts_on,
            form: r.form.to_string(),
        }
    }
}

/// The comparison as published.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonView {
    /// The earlier round.
    pub earlier: RoundRef,
    /// How it was chosen: `auto` or `chosen`.
    pub chosen: &'static str,
    /// The mapping used.
    pub mapping: CodeMapping,
    /// Engine output: total first, then the cells.
    #[serde(flatten)]
    pub comparison: Comparison,
}

/// One point of the trend (overall index of the round total).
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// The round.
    pub round: RoundRef,
    /// The overall figure of the total.
    pub overall: Option<Figure>,
}

/// The ranking of the cells on one criteria group row.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRanking {
    /// Group code.
    pub code: String,
    /// Group title (Vietnamese; English when the form has it).
    pub label: sipas_core::questionnaire::Label,
    /// Ranked entries first, then "chưa đủ mẫu".
    pub entries: Vec<RankEntry>,
}

/// One respondent-profile breakdown offered for a form.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileOption {
    /// The `by` value to ask for, e.g. `profile:A4`.
    pub by: String,
    /// Item code.
    pub code: String,
    /// The question (Vietnamese and English).
    pub label: sipas_core::questionnaire::Label,
    /// Whether the answers are grouped into age bands (integer items).
    pub age_bands: bool,
}

/// `GET /rounds/{id}/results`.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    /// The round.
    pub round: RoundRef,
    /// `by` as asked.
    pub by: String,
    /// Method note.
    pub method: MethodNote,
    /// Rows of the form in order, with labels.
    pub rows: Vec<RowDef>,
    /// Round total (in scope).
    pub total: CellView,
    /// Cells, in key order.
    pub cells: Vec<CellView>,
    /// Ranking on the overall row (ranked first, then "chưa đủ mẫu").
    pub ranking: Vec<RankEntry>,
    /// The same ranking on each criteria group row (group code, name, entries), in form order.
    pub group_rankings: Vec<GroupRanking>,
    /// The respondent-profile breakdowns the round's form offers (`by=profile:<code>`),
    /// from [`sipas_core::breakdown::profile_breakdown_items`].
    pub profile_options: Vec<ProfileOption>,
    /// Targets in effect.
    pub targets: TargetSet,
    /// Whether they were set for this round (false: the plans' defaults).
    pub targets_stored: bool,
    /// Comparison with an earlier round, if any.
    pub comparison: Option<ComparisonView>,
    /// Unit codes without a unit at the level on the round's date.
    pub unmapped: Vec<String>,
}

/// The targets in effect for a round: stored, else [`TargetSet::plan_default`].
pub async fn targets_of(state: &AppState, round_id: &str) -> ApiResult<(TargetSet, bool)> {
    Ok(match state.store.round_targets(round_id).await? {
        Some(t) => (t, true),
        None => (TargetSet::plan_default(), false),
    })
}

/// The method note of `data` (times from `now` when there is no response).
pub fn method_note(
    data: &RoundData,
    aggregation: Aggregation,
    min_n: usize,
    now: DateTime<Utc>,
) -> MethodNote {
    let as_of = data.data_as_of.unwrap_or(now);
    MethodNote {
        form: data.round.form.to_string(),
        form_title: data.form.title.vi.clone(),
        aggregation,
        aggregation_vi: aggregation_label_vi(aggregation).to_owned(),
        min_n,
        data_as_of: as_of,
        data_as_of_vi: format_time_vi(as_of),
        generated_at: now,
        interval_vi: METHOD_NOTE_VI.to_owned(),
        interval_en: METHOD_NOTE_EN.to_owned(),
        suppression_vi: rule_note_vi(min_n),
        suppression_en: rule_note_en(min_n),
        ranking_vi: "Xếp hạng theo tỷ lệ hài lòng chung đã làm tròn 2 chữ số thập phân, \
            đồng hạng khi bằng nhau (1, 2, 2, 4); ô dưới cỡ mẫu tối thiểu ghi \"chưa đủ mẫu\", \
            không xếp hạng."
            .to_owned(),
        targets_vi: "Chỉ tiêu so với giá trị đã công bố (làm tròn 2 chữ số): \"trên\" là lớn \
            hơn hẳn, \"tối thiểu\" là lớn hơn hoặc bằng; ô bị ẩn là \"chưa đủ dữ liệu\"."
            .to_owned(),
    }
}

/// Ranks of the cells within their group (agency kind, province), by key.
#[derive(Default)]
struct GroupRanks {
    in_kind: BTreeMap<String, usize>,
    in_province: BTreeMap<String, usize>,
}

fn cell_view(
    names: &Names,
    by: &By,
    bd: &Breakdown,
    cell: &BreakdownCell,
    ranking: &[RankEntry],
    groups: &GroupRanks,
    targets: &[TargetResult],
) -> CellView {
    let agency = matches!(by, By::Agency)
        .then(|| names.agencies.get(&cell.key))
        .flatten();
    let entry = ranking.iter().find(|e| e.key == cell.key);
    let _ = bd;
    CellView {
        key: cell.key.clone(),
        name: names.cell_name(by, cell),
        kind: agency.map(|a| a.kind.code().to_owned()),
        kind_name: agency.map(|a| a.kind.name_vi().to_owned()),
        respondents: cell.respondents,
        figures: cell.figures.clone(),
        rank: entry.and_then(|e| e.rank),
        rank_in_kind: groups.in_kind.get(&cell.key).copied(),
        rank_in_province: groups.in_province.get(&cell.key).copied(),
        rank_status: entry.map_or(sipas_core::ranking::RankStatus::NotEnoughResponses, |e| {
            e.status
        }),
        targets: targets
            .iter()
            .filter(|t| t.key == cell.key)
            .cloned()
            .collect(),
    }
}

/// The ranking on the overall row of the cells of `round_id` in `bd` passing `keep`,
/// labelled with names (engine: [`rank_figures`]). The missing-key cell is never ranked.
pub fn ranking<F>(names: &Names, by: &By, bd: &Breakdown, keep: F) -> Vec<RankEntry>
where
    F: Fn(&BreakdownCell) -> bool,
{
    ranking_on(names, by, bd, ReportLevel::Overall, "", keep)
}

/// The ranking on one row (`level`, `code`) of the cells in `bd` passing `keep`.
fn ranking_on<F>(
    names: &Names,
    by: &By,
    bd: &Breakdown,
    level: ReportLevel,
    code: &str,
    keep: F,
) -> Vec<RankEntry>
where
    F: Fn(&BreakdownCell) -> bool,
{
    let labelled: Vec<(&BreakdownCell, String)> = bd
        .cells
        .iter()
        .filter(|c| c.key != MISSING_KEY && keep(c))
        .map(|c| (c, names.cell_name(by, c)))
        .collect();
    rank_figures(labelled.iter().filter_map(|(c, name)| {
        c.figure(level, code)
            .map(|f| (c.key.as_str(), Some(name.as_str()), f))
    }))
}

/// Computes the results of `data` (see [`Results`]).
#[allow(clippy::too_many_arguments)]
pub fn results(
    data: &RoundData,
    names: &Names,
    by: &By,
    min_n: usize,
    aggregation: Aggregation,
    (targets, targets_stored): (TargetSet, bool),
    earlier: Option<(&RoundData, &'static str, CodeMapping)>,
    now: DateTime<Utc>,
) -> ApiResult<Results> {
    let bd = breakdown(data, names, by, min_n, aggregation)?;
    let round_id = data.round.id.as_str();
    let ranks = ranking(names, by, &bd, |_| true);
    let mut groups = GroupRanks::default();
    if matches!(by, By::Agency) {
        let kind_of = |key: &str| names.agencies.get(key).map(|a| a.kind);
        let kinds: std::collections::BTreeSet<_> =
            bd.cells.iter().filter_map(|c| kind_of(&c.key)).collect();
        for k in kinds {
            for e in ranking(names, by, &bd, |c| kind_of(&c.key) == Some(k)) {
                if let Some(r) = e.rank {
                    groups.in_kind.insert(e.key, r);
                }
            }
        }
    }
    if let By::Unit(level) = by
        && *level != UnitLevel::Province
    {
        let on = data.round.starts_on;
        let province_of = |key: &str| {
            names
                .scope
                .tree
                .ancestor_at_level(key, UnitLevel::Province, on)
                .map(|u| u.code.clone())
        };
        let provinces: std::collections::BTreeSet<String> = bd
            .cells
            .iter()
            .filter_map(|c| province_of(&c.key))
            .collect();
        for p in provinces {
            for e in ranking(names, by, &bd, |c| {
                province_of(&c.key).as_deref() == Some(p.as_str())
            }) {
                if let Some(r) = e.rank {
                    groups.in_province.insert(e.key, r);
                }
            }
        }
    }
    let evaluated = targets.evaluate_breakdown(&bd, round_id);
    let total = match bd.total(round_id) {
        Some(c) => cell_view(names, by, &bd, c, &[], &GroupRanks::default(), &evaluated),
        None => CellView {
            key: ALL_UNITS.to_owned(),
            name: TOTAL_LABEL_VI.to_owned(),
            kind: None,
            kind_name: None,
            respondents: 0,
            figures: Vec::new(),
            rank: None,
            rank_in_kind: None,
            rank_in_province: None,
            rank_status: sipas_core::ranking::RankStatus::NotEnoughResponses,
            targets: Vec::new(),
        },
    };
    let cells = bd
        .round_cells(round_id)
        .map(|c| cell_view(names, by, &bd, c, &ranks, &groups, &evaluated))
        .collect();
    let comparison = match earlier {
        None => None,
        Some((e, chosen, mapping)) => {
            let ebd = breakdown(e, names, by, min_n, aggregation)?;
            if ebd.total(&e.round.id).is_none() || bd.total(round_id).is_none() {
                None
            } else {
                let c =
                    compare_rounds(&ebd, &e.round.id, &bd, round_id, &mapping).map_err(|err| {
                        ApiError::invalid_input(
                            format!("The mapping of criteria cannot be used: {err}."),
                            format!("Không dùng được bảng ánh xạ tiêu chí: {err}."),
                        )
                        .with_details(serde_json::json!({ "field": "map" }))
                    })?;
                Some(ComparisonView {
                    earlier: RoundRef::of(&e.round),
                    chosen,
                    mapping,
                    comparison: c,
                })
            }
        }
    };
    let rows = total
        .figures
        .iter()
        .map(|f| RowDef {
            level: f.level,
            code: if f.level == ReportLevel::Overall {
                "overall".into()
            } else {
                f.code.clone()
            },
            label: row_label(&data.form, f.level, &f.code),
        })
        .collect();
    let rows = if total.figures.is_empty() {
        form_rows(&data.form)
    } else {
        rows
    };
    let group_rankings = data
        .form
        .groups
        .iter()
        .filter(|g| g.kind == sipas_core::questionnaire::GroupKind::Criteria)
        .map(|g| GroupRanking {
            code: g.code.clone(),
            label: g.title.clone(),
            entries: ranking_on(names, by, &bd, ReportLevel::Group, &g.code, |_| true),
        })
        .collect();
    let profile_options = sipas_core::breakdown::profile_breakdown_items(&data.form)
        .into_iter()
        .map(|i| ProfileOption {
            by: format!("profile:{}", i.code),
            code: i.code.clone(),
            label: i.label.clone(),
            age_bands: i.item_type == ItemType::Integer,
        })
        .collect();
    Ok(Results {
        group_rankings,
        profile_options,
        round: RoundRef::of(&data.round),
        by: by.name(),
        method: method_note(data, aggregation, min_n, now),
        rows,
        total,
        cells,
        ranking: ranks,
        targets,
        targets_stored,
        comparison,
        unmapped: bd.unmapped,
    })
}

/// The rows of a form without data (the overall row, each criteria group and its criteria).
fn form_rows(form: &Questionnaire) -> Vec<RowDef> {
    let mut out = vec![RowDef {
        level: ReportLevel::Overall,
        code: "overall".into(),
        label: OVERALL_LABEL_VI.into(),
    }];
    for g in form
        .groups
        .iter()
        .filter(|g| g.kind == sipas_core::questionnaire::GroupKind::Criteria)
    {
        out.push(RowDef {
            level: ReportLevel::Group,
            code: g.code.clone(),
            label: g.title.vi.clone(),
        });
        for i in g.items.iter().filter(|i| i.item_type == ItemType::Rating) {
            out.push(RowDef {
                level: ReportLevel::Criterion,
                code: i.code.clone(),
                label: i.label.vi.clone(),
            });
        }
    }
    out
}

/// The trend: the overall figure of the total of every visible round of the form family up
/// to this one, oldest first, each round counting the modes `mode` selects in it.
pub async fn trend(
    state: &AppState,
    mine: &Scope,
    names: &Names,
    this: &RoundData,
    min_n: usize,
    aggregation: Aggregation,
    mode: Option<&str>,
) -> ApiResult<Vec<TrendPoint>> {
    let mut plans = state.store.round_plans().await?;
    let mut rounds: Vec<Round> = state
        .store
        .rounds()
        .await?
        .into_iter()
        .filter(|r| {
            r.form.form_id == this.round.form.form_id && r.starts_on <= this.round.starts_on
        })
        .filter(|r| {
            let plan = plans.remove(&r.id).unwrap_or_default();
            mine.round(&plan.units, r.starts_on)
        })
        .collect();
    rounds.sort_by(|a, b| a.starts_on.cmp(&b.starts_on).then(a.id.cmp(&b.id)));
    let mut out = Vec::new();
    for r in rounds {
        let data = if r.id == this.round.id {
            None
        } else {
            Some(load_round_of_modes(state, mine, &r.id, false, Detail::Fields, mode).await?)
        };
        let d = data.as_ref().unwrap_or(this);
        let bd = breakdown(d, names, &By::Field, min_n, aggregation)?;
        out.push(TrendPoint {
            round: RoundRef::of(&r),
            overall: bd
                .total(&r.id)
                .and_then(|c| c.figure(ReportLevel::Overall, ""))
                .cloned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_and_level_parse_or_refuse() {
        assert_eq!(
            By::parse(Some("unit"), Some("province")).unwrap(),
            By::Unit(UnitLevel::Province)
        );
        assert_eq!(
            By::parse(Some("unit"), None).unwrap(),
            By::Unit(UnitLevel::Commune)
        );
        assert_eq!(By::parse(None, None).unwrap(), By::Agency);
        assert_eq!(
            By::parse(Some("profile:A1"), None).unwrap(),
            By::Profile("A1".into())
        );
        assert_eq!(
            By::parse(Some("profile:A1"), None).unwrap().name(),
            "profile:A1"
        );
        for bad in [Some("profile:"), Some("planet"), Some("")] {
            assert!(By::parse(bad, None).is_err(), "{bad:?}");
        }
        assert!(By::parse(Some("unit"), Some("village")).is_err());
    }

    #[test]
    fn mapping_table_syntax() {
        let m = parse_mapping(Some(" C7:C7a+C7b , C3:C3x,")).unwrap();
        assert_eq!(
            m.entries,
            vec![
                MappingEntry {
                    old: "C7".into(),
                    new: vec!["C7a".into(), "C7b".into()]
                },
                MappingEntry {
                    old: "C3".into(),
                    new: vec!["C3x".into()]
                },
            ]
        );
        assert!(parse_mapping(None).unwrap().entries.is_empty());
        assert!(parse_mapping(Some("C7")).is_err());
    }
}
