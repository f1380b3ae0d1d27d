//! Response modes in the index, report and results (issue 15): which responses a figure
//! counts and the one-panel-per-mode summary. Kept apart from [`crate::results`] so that the
//! count-based index path (0011 `answer_counts`, with its own `mode` column) can take the
//! same rule at merge: the **official figure counts the round's official modes**
//! (`rounds.official_modes`, default `capi` + `self_personal`); `?mode=` narrows to one mode
//! or `all`; the open-link panel is always shown apart.
use crate::app::AppState;
use crate::problem::{ApiError, ApiResult};
use serde::Serialize;
use sipas_core::index::{AggregateScore, IndexConfig, compute_index};
use sipas_core::mode::{OfficialModes, ResponseMode};
use sipas_core::questionnaire::Questionnaire;
use sipas_core::response::Response;
use std::collections::HashMap;
use uuid::Uuid;

/// The modes a request counts and every response's mode.
#[derive(Debug, Clone)]
pub struct ModeSelection {
    /// `official` (default), `all` or one mode name, as asked.
    pub asked: String,
    /// Modes counted.
    pub modes: Vec<ResponseMode>,
    /// The round's official modes.
    pub official: OfficialModes,
    /// Mode of every stored response of the round.
    pub by_id: HashMap<Uuid, ResponseMode>,
}

/// One panel per mode.
#[derive(Debug, Clone, Serialize)]
pub struct ModePanel {
    /// Mode.
    pub mode: ResponseMode,
    /// Vietnamese label.
    pub label_vi: &'static str,
    /// English label.
    pub label_en: &'static str,
    /// Responses (in scope, counted: latest, not rejected).
    pub n: usize,
    /// Whether the official figure counts this mode.
    pub official: bool,
    /// Overall % satisfied; `None` below the minimum N or without valid answers.
    pub overall_pct: Option<f64>,
    /// Whether `n` is below the minimum N.
    pub suppressed: bool,
}

/// What the JSON answers gain.
#[derive(Debug, Clone, Serialize)]
pub struct ModesView {
    /// Modes the figures above count (`mode` as asked).
    pub mode: String,
    /// Modes counted.
    pub counted_modes: Vec<ResponseMode>,
    /// The round's official modes.
    pub official_modes: Vec<ResponseMode>,
    /// One panel per mode, in [`ResponseMode::ALL`] order.
    pub modes: Vec<ModePanel>,
}

/// Reads `?mode=` (`official`, `all`, `capi`, `self_personal`, `self_open`) for a round.
///
/// `with_responses`: whether the figures will be computed from the responses themselves
/// (profile breakdowns, the reference path): only then is every response's mode read (a
/// map as large as the round); the answer counts carry the mode in their own key.
pub async fn select(
    state: &AppState,
    round_id: &str,
    asked: Option<&str>,
    with_responses: bool,
) -> ApiResult<ModeSelection> {
    let official = crate::handlers::self_links::official_modes_of(state, round_id).await?;
    let asked = asked.unwrap_or("official").to_owned();
    let modes = match asked.as_str() {
        "official" | "" => official.modes().to_vec(),
        "all" => ResponseMode::ALL.to_vec(),
        other => vec![ResponseMode::parse(other).ok_or_else(|| {
            ApiError::invalid_input(
                "mode must be official, all, capi, self_personal or self_open.",
                "Cách thu (mode) phải là official, all, capi, self_personal hoặc self_open.",
            )
            .with_details(serde_json::json!({ "field": "mode" }))
        })?],
    };
    Ok(ModeSelection {
        asked,
        modes,
        official,
        by_id: if with_responses {
            state.store.response_modes(round_id).await?
        } else {
            HashMap::new()
        },
    })
}

impl ModeSelection {
    /// The mode of a response (`capi` when unknown).
    pub fn mode_of(&self, r: &Response) -> ResponseMode {
        self.by_id.get(&r.id).copied().unwrap_or(ResponseMode::Capi)
    }

    /// The responses the selection counts.
    pub fn keep(&self, responses: Vec<Response>) -> Vec<Response> {
        responses
            .into_iter()
            .filter(|r| self.modes.contains(&self.mode_of(r)))
            .collect()
    }

    /// The modes counted, as stored (`responses.mode`, the counts' `mode` column).
    pub fn counted(&self) -> Vec<String> {
        self.modes.iter().map(|m| m.as_str().to_owned()).collect()
    }

    /// The panels over `all` (responses of every mode, in scope), with the minimum N (the
    /// reference path; [`Self::view_from_counts`] gives the same from the answer counts).
    pub fn view(&self, form: &Questionnaire, all: &[Response], min_n: usize) -> ModesView {
        self.panels(min_n, |mode| {
            let of_mode: Vec<Response> = all
                .iter()
                .filter(|r| self.mode_of(r) == mode)
                .cloned()
                .collect();
            compute_index(form, &of_mode, IndexConfig::default())
                .ok()
                .and_then(|rep| rep.round_totals.first().map(|c| c.overall.clone()))
        })
    }

    /// The panels from the answer counts of the cells in the caller's scope (all modes).
    pub fn view_from_counts(
        &self,
        form: &Questionnaire,
        round_id: &str,
        rows: &[crate::answer_counts::CountRecord],
        min_n: usize,
    ) -> ModesView {
        self.panels(min_n, |mode| {
            let one = [mode.as_str().to_owned()];
            crate::answer_counts::index_of_rows(
                form,
                round_id,
                rows,
                IndexConfig::default(),
                Some(&one),
            )
            .ok()
            .and_then(|rep| rep.round_totals.first().map(|c| c.overall.clone()))
        })
    }

    /// One panel per mode from each mode's overall score; `n` is the mode's respondents.
    fn panels(
        &self,
        min_n: usize,
        mut overall_of: impl FnMut(ResponseMode) -> Option<AggregateScore>,
    ) -> ModesView {
        let modes = ResponseMode::ALL
            .into_iter()
            .map(|mode| {
                let overall = overall_of(mode);
                let base = overall.as_ref().map_or(0, |o| o.respondents_n);
                let suppressed = base < min_n.max(1);
                ModePanel {
                    mode,
                    label_vi: mode.label_vi(),
                    label_en: mode.label_en(),
                    n: base,
                    official: self.official.counts(mode),
                    overall_pct: if suppressed {
                        None
                    } else {
                        overall.and_then(|o| o.pct_satisfied)
                    },
                    suppressed,
                }
            })
            .collect();
        ModesView {
            mode: self.asked.clone(),
            counted_modes: self.modes.clone(),
            official_modes: self.official.modes().to_vec(),
            modes,
        }
    }
}

/// A JSON answer with the modes added at its top level.
#[derive(Debug, Serialize)]
pub struct WithModes<T: Serialize> {
    /// The answer as before.
    #[serde(flatten)]
    pub inner: T,
    /// Modes.
    #[serde(flatten)]
    pub modes: ModesView,
}

/// The one-panel-per-mode summary of a round for the caller's scope: from `counts` (the
/// count rows in scope the request already read, every mode); without them from the counts
/// read now, or from the responses on the reference path ([`AppState::index_from_responses`]).
pub async fn panels(
    state: &AppState,
    mine: &crate::scope::Scope,
    round: &sipas_protocol::wire::Round,
    form: &Questionnaire,
    selection: &ModeSelection,
    min_n: usize,
    counts: Option<&[crate::answer_counts::CountRecord]>,
) -> ApiResult<ModesView> {
    if let Some(rows) = counts {
        return Ok(selection.view_from_counts(form, &round.id, rows, min_n));
    }
    match crate::answer_counts::scoped_counts(state, mine, round).await? {
        Some(c) => Ok(selection.view_from_counts(form, &round.id, &c.rows, min_n)),
        None => {
            let filter =
                crate::scope::RoundFilter::new(state, mine, &round.id, round.starts_on).await?;
            let (responses, _) = state.store.report_responses(&round.id).await?;
            Ok(selection.view(form, &filter.responses(responses), min_n))
        }
    }
}
