//! Index cells for any grouping of responses: by administrative unit rolled up along the unit
//! tree valid on a date (commune → province), by agency, agency kind, field, or by a
//! respondent-profile item of the form (sex, education, mode of contact, age band …).
//!
//! The caller supplies per response the key values ([`BreakdownInput`]), so no database is
//! needed here. Every figure comes from the index engine ([`IndexAccumulator`]): the
//! breakdown only decides which cell a response goes to (the dimension key takes the place
//! of the unit code), then reads the engine's cells through [`crate::figure::figures`].
//! A response whose key is absent (no agency, a blank profile answer) goes to the cell
//! [`MISSING_KEY`]; every response also counts in its round's total.
use crate::answer::{AnswerValue, Answers};
use crate::figure::{Figure, figures};
use crate::index::{IndexAccumulator, IndexCell, IndexConfig, IndexError, IndexInput};
use crate::questionnaire::{FormKey, ItemType, Questionnaire};
use crate::units::{UnitLevel, UnitTree};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Key of the cell of responses without a value for the dimension.
pub const MISSING_KEY: &str = "_missing";

/// Vietnamese label of the [`MISSING_KEY`] cell.
pub const MISSING_LABEL_VI: &str = "Không rõ / không trả lời";

/// What one response contributes to a breakdown. Contact data has no place here.
#[derive(Debug, Clone, Copy)]
pub struct BreakdownInput<'a> {
    /// Survey round.
    pub round_id: &'a str,
    /// The response's sample unit (usually a commune).
    pub unit_code: &'a str,
    /// Agency (catalogue code) of the assignment, if known.
    pub agency_code: Option<&'a str>,
    /// Agency kind (catalogue code, e.g. `ubnd_xa`, `y_te`), if known.
    pub agency_kind: Option<&'a str>,
    /// Field (lĩnh vực, catalogue code, e.g. `dat_dai`), if known.
    pub field_code: Option<&'a str>,
    /// The answers (latest counted revision).
    pub answers: &'a Answers,
}

/// One age band `[from, to]` (inclusive; `to = None`: and older).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgeBand {
    /// Key of the cell, e.g. `18-24`.
    pub key: String,
    /// Youngest age in the band.
    pub from: i64,
    /// Oldest age in the band; `None` for an open band.
    pub to: Option<i64>,
    /// Vietnamese label, e.g. `18–24 tuổi`.
    pub label_vi: String,
}

/// The default age bands: 18–24, 25–34, 35–49, 50–60, trên 60. (The SIPAS questionnaire's
/// transcribed bands overlap at 25; these are its bands made disjoint.)
pub fn default_age_bands() -> Vec<AgeBand> {
    let band = |key: &str, from, to, label: &str| AgeBand {
        key: key.into(),
        from,
        to,
        label_vi: label.into(),
    };
    vec![
        band("18-24", 18, Some(24), "18–24 tuổi"),
        band("25-34", 25, Some(34), "25–34 tuổi"),
        band("35-49", 35, Some(49), "35–49 tuổi"),
        band("50-60", 50, Some(60), "50–60 tuổi"),
        band("61+", 61, None, "Trên 60 tuổi"),
    ]
}

/// How responses are grouped.
#[derive(Debug, Clone, Copy)]
pub enum Dimension<'t> {
    /// By the unit at `level` (the response's unit or its ancestor) in the tree valid on
    /// `on` (the round's date). Responses whose unit has no such unit on that date are
    /// listed in [`Breakdown::unmapped`] and only count in the totals.
    Unit {
        /// The unit tree.
        tree: &'t UnitTree,
        /// Level of the cells (e.g. province).
        level: UnitLevel,
        /// Date the tree is read at.
        on: NaiveDate,
    },
    /// By agency code.
    Agency,
    /// By agency kind.
    AgencyKind,
    /// By field.
    Field,
    /// By the answer to a single-choice, integer or rating profile item (e.g. `A1` sex,
    /// `A4` education, `B4` mode of contact); cells labelled with the option labels.
    Profile {
        /// Item code.
        item: &'t str,
    },
    /// By age band of an integer item (e.g. `A2` age in years).
    AgeBand {
        /// Item code.
        item: &'t str,
        /// The bands; an age in no band goes to [`MISSING_KEY`].
        bands: &'t [AgeBand],
    },
}

/// The kind of a [`Dimension`], for serialised results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DimensionKind {
    /// Units at a level.
    Unit {
        /// The level.
        level: UnitLevel,
        /// The date the tree was read at.
        on: NaiveDate,
    },
    /// Agencies.
    Agency,
    /// Agency kinds.
    AgencyKind,
    /// Fields.
    Field,
    /// A profile item.
    Profile {
        /// Item code.
        item: String,
    },
    /// Age bands of an item.
    AgeBand {
        /// Item code.
        item: String,
    },
}

/// Why a breakdown could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BreakdownError {
    /// The index engine refused the form or config.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The dimension names an item the form does not have.
    #[error("item {0} is not in the form")]
    UnknownItem(String),
    /// The item cannot group responses (multi-choice, text or date).
    #[error("item {item} ({item_type:?}) cannot be a breakdown dimension")]
    UnsupportedItem {
        /// Item code.
        item: String,
        /// Its type.
        item_type: ItemType,
    },
    /// An age band has `to < from` or overlaps another band.
    #[error("age band {0} is empty or overlaps another band")]
    BadAgeBand(String),
    /// Profile and age-band breakdowns need the answers, not the counts
    /// ([`compute_breakdown_from_counts`]).
    #[error("a breakdown by a profile item needs the answers")]
    NeedsAnswers,
}

/// One cell of a breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BreakdownCell {
    /// Survey round.
    pub round_id: String,
    /// Dimension key (unit code, agency code, option code, band key, [`MISSING_KEY`], or
    /// [`crate::index::ALL_UNITS`] for a round total).
    pub key: String,
    /// Vietnamese label when the core knows it (unit name, option label, band label);
    /// catalogue names (agency, field, kind) are added by the caller.
    pub label: Option<String>,
    /// Responses in the cell.
    pub respondents: usize,
    /// Overall row, then each group followed by its criteria (suppression applied).
    pub figures: Vec<Figure>,
    /// The engine's unsuppressed cell, for server-side use only (not serialised).
    #[serde(skip)]
    pub index: IndexCell,
}

impl BreakdownCell {
    /// The figure of this level and code (the overall row under any code).
    pub fn figure(&self, level: crate::report::ReportLevel, code: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| {
            f.level == level && (level == crate::report::ReportLevel::Overall || f.code == code)
        })
    }
}

/// A computed breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// The form.
    pub form: FormKey,
    /// The dimension.
    pub dimension: DimensionKind,
    /// The minimum N applied.
    pub min_n: usize,
    /// One cell per (round, key), sorted by round then key.
    pub cells: Vec<BreakdownCell>,
    /// One cell per round over all responses (key [`crate::index::ALL_UNITS`]).
    pub totals: Vec<BreakdownCell>,
    /// Unit codes without a unit at the dimension's level on its date (unit dimension only).
    pub unmapped: Vec<String>,
}

impl Breakdown {
    /// The cell of this round and key.
    pub fn cell(&self, round_id: &str, key: &str) -> Option<&BreakdownCell> {
        self.cells
            .iter()
            .find(|c| c.round_id == round_id && c.key == key)
    }

    /// The cells of one round.
    pub fn round_cells<'s>(&'s self, round_id: &'s str) -> impl Iterator<Item = &'s BreakdownCell> {
        self.cells.iter().filter(move |c| c.round_id == round_id)
    }

    /// The total of one round.
    pub fn total(&self, round_id: &str) -> Option<&BreakdownCell> {
        self.totals.iter().find(|c| c.round_id == round_id)
    }
}

/// The key of one answer under a profile dimension.
/// The items a results page offers as respondent-profile breakdowns, in form order:
/// single-choice items of the profile and screening groups (sex, education, mode of contact
/// …) and integer items of the profile group (age in years → [`Dimension::AgeBand`]).
/// Free-text "other" items and criteria are never offered.
pub fn profile_breakdown_items(form: &Questionnaire) -> Vec<&crate::questionnaire::Item> {
    use crate::questionnaire::GroupKind;
    form.items()
        .filter(|(g, i)| {
            matches!(
                (g.kind, i.item_type),
                (
                    GroupKind::Profile | GroupKind::Screening,
                    ItemType::SingleChoice
                ) | (GroupKind::Profile, ItemType::Integer)
            )
        })
        .map(|(_, i)| i)
        .collect()
}

fn profile_key(v: Option<&AnswerValue>) -> String {
    match v {
        Some(AnswerValue::Int(i)) => i.to_string(),
        Some(AnswerValue::Text(t)) if !t.is_empty() => t.clone(),
        _ => MISSING_KEY.to_owned(),
    }
}

fn check_item<'f>(
    form: &'f Questionnaire,
    item: &str,
    allowed: &[ItemType],
) -> Result<&'f crate::questionnaire::Item, BreakdownError> {
    let it = form
        .item(item)
        .ok_or_else(|| BreakdownError::UnknownItem(item.to_owned()))?;
    if !allowed.contains(&it.item_type) {
        return Err(BreakdownError::UnsupportedItem {
            item: item.to_owned(),
            item_type: it.item_type,
        });
    }
    Ok(it)
}

fn check_bands(bands: &[AgeBand]) -> Result<(), BreakdownError> {
    for (i, b) in bands.iter().enumerate() {
        if b.to.is_some_and(|to| to < b.from) {
            return Err(BreakdownError::BadAgeBand(b.key.clone()));
        }
        for o in &bands[..i] {
            let (b_to, o_to) = (b.to.unwrap_or(i64::MAX), o.to.unwrap_or(i64::MAX));
            if b.from <= o_to && o.from <= b_to {
                return Err(BreakdownError::BadAgeBand(b.key.clone()));
            }
        }
    }
    Ok(())
}

/// Computes the index cells of `inputs` grouped by `dimension`, with the figures of every
/// cell under `min_n` ([`BreakdownAccumulator`] fed with every input).
pub fn compute_breakdown<'a, I>(
    form: &Questionnaire,
    config: IndexConfig,
    dimension: Dimension<'_>,
    min_n: usize,
    inputs: I,
) -> Result<Breakdown, BreakdownError>
where
    I: IntoIterator<Item = BreakdownInput<'a>>,
{
    let mut acc = BreakdownAccumulator::new(form, config, dimension)?;
    for input in inputs {
        acc.add(&input);
    }
    acc.finish(min_n)
}

/// A breakdown filled one response at a time (issue 14: responses read as a stream, memory
/// in proportion to the cells): [`compute_breakdown`] is `new`, `add` for each input, then
/// `finish`.
pub struct BreakdownAccumulator<'f, 't> {
    form: &'f Questionnaire,
    acc: IndexAccumulator<'f>,
    dimension: Dimension<'t>,
    kind: DimensionKind,
}

impl<'f, 't> BreakdownAccumulator<'f, 't> {
    /// Prepares a breakdown of `form` by `dimension`, checking the config and the item.
    pub fn new(
        form: &'f Questionnaire,
        config: IndexConfig,
        dimension: Dimension<'t>,
    ) -> Result<Self, BreakdownError> {
        let acc = IndexAccumulator::new(form, config)?;
        let kind = match dimension {
            Dimension::Unit { level, on, .. } => DimensionKind::Unit { level, on },
            Dimension::Agency => DimensionKind::Agency,
            Dimension::AgencyKind => DimensionKind::AgencyKind,
            Dimension::Field => DimensionKind::Field,
            Dimension::Profile { item } => {
                check_item(
                    form,
                    item,
                    &[ItemType::SingleChoice, ItemType::Integer, ItemType::Rating],
                )?;
                DimensionKind::Profile {
                    item: item.to_owned(),
                }
            }
            Dimension::AgeBand { item, bands } => {
                check_item(form, item, &[ItemType::Integer])?;
                check_bands(bands)?;
                DimensionKind::AgeBand {
                    item: item.to_owned(),
                }
            }
        };
        Ok(BreakdownAccumulator {
            form,
            acc,
            dimension,
            kind,
        })
    }

    /// Counts one response in its cell.
    pub fn add(&mut self, input: &BreakdownInput<'_>) {
        let key: String = match self.dimension {
            Dimension::Unit { .. } => input.unit_code.to_owned(),
            Dimension::Agency => input.agency_code.unwrap_or(MISSING_KEY).to_owned(),
            Dimension::AgencyKind => input.agency_kind.unwrap_or(MISSING_KEY).to_owned(),
            Dimension::Field => input.field_code.unwrap_or(MISSING_KEY).to_owned(),
            Dimension::Profile { item } => profile_key(input.answers.get(item)),
            Dimension::AgeBand { item, bands } => input
                .answers
                .get(item)
                .and_then(AnswerValue::as_int)
                .and_then(|age| {
                    bands
                        .iter()
                        .find(|b| b.from <= age && b.to.is_none_or(|to| age <= to))
                })
                .map_or_else(|| MISSING_KEY.to_owned(), |b| b.key.clone()),
        };
        self.acc.add(IndexInput {
            round_id: input.round_id,
            unit_code: &key,
            answers: input.answers,
        });
    }

    /// The cells with their figures under `min_n`.
    pub fn finish(self, min_n: usize) -> Result<Breakdown, BreakdownError> {
        finish(self.form, self.acc, self.dimension, self.kind, min_n)
    }
}

/// One stored count for a breakdown ([`crate::index::CountRow`] with the codes of its cell).
#[derive(Debug, Clone, Copy)]
pub struct BreakdownCountRow<'a> {
    /// Survey round.
    pub round_id: &'a str,
    /// The responses' sample unit.
    pub unit_code: &'a str,
    /// Agency of their assignment, if known.
    pub agency_code: Option<&'a str>,
    /// Its kind, if known.
    pub agency_kind: Option<&'a str>,
    /// Field of their assignment, if known.
    pub field_code: Option<&'a str>,
    /// Response mode.
    pub mode: &'a str,
    /// Criterion code, or [`crate::index::RESPONDENT_ITEM`].
    pub item: &'a str,
    /// Outcome (see [`crate::index::IndexAccumulator::count_keys`]).
    pub outcome: &'a str,
    /// Number of responses.
    pub n: usize,
}

/// [`compute_breakdown`] from stored counts of the responses whose mode is in `modes`
/// (`None`: all): equal to it over the responses the counts were kept from. Units, agencies,
/// agency kinds and fields only ([`BreakdownError::NeedsAnswers`] for profile items).
pub fn compute_breakdown_from_counts<'a, I>(
    form: &Questionnaire,
    config: IndexConfig,
    dimension: Dimension<'_>,
    min_n: usize,
    rows: I,
    modes: Option<&[String]>,
) -> Result<Breakdown, BreakdownError>
where
    I: IntoIterator<Item = BreakdownCountRow<'a>>,
{
    let mut acc = IndexAccumulator::new(form, config)?;
    let kind = match dimension {
        Dimension::Unit { level, on, .. } => DimensionKind::Unit { level, on },
        Dimension::Agency => DimensionKind::Agency,
        Dimension::AgencyKind => DimensionKind::AgencyKind,
        Dimension::Field => DimensionKind::Field,
        Dimension::Profile { .. } | Dimension::AgeBand { .. } => {
            return Err(BreakdownError::NeedsAnswers);
        }
    };
    for row in rows {
        if !crate::index::mode_admitted(modes, row.mode) {
            continue;
        }
        let key = match dimension {
            Dimension::Unit { .. } => row.unit_code,
            Dimension::Agency => row.agency_code.unwrap_or(MISSING_KEY),
            Dimension::AgencyKind => row.agency_kind.unwrap_or(MISSING_KEY),
            Dimension::Field => row.field_code.unwrap_or(MISSING_KEY),
            Dimension::Profile { .. } | Dimension::AgeBand { .. } => {
                return Err(BreakdownError::NeedsAnswers);
            }
        };
        acc.add_count(crate::index::CountRow {
            round_id: row.round_id,
            unit_code: key,
            mode: row.mode,
            item: row.item,
            outcome: row.outcome,
            n: row.n,
        })?;
    }
    finish(form, acc, dimension, kind, min_n)
}

/// The cells of a filled accumulator (rolled up for units), labelled.
fn finish(
    form: &Questionnaire,
    acc: IndexAccumulator<'_>,
    dimension: Dimension<'_>,
    kind: DimensionKind,
    min_n: usize,
) -> Result<Breakdown, BreakdownError> {
    let report = match dimension {
        Dimension::Unit { tree, level, on } => acc.report_rolled_up(|code| {
            tree.ancestor_at_level(code, level, on)
                .map(|u| u.code.clone())
        }),
        _ => acc.report(),
    };
    let label = |key: &str| -> Option<String> {
        if key == MISSING_KEY {
            return Some(MISSING_LABEL_VI.to_owned());
        }
        match dimension {
            Dimension::Unit { tree, on, .. } => tree.get(key, on).map(|u| u.name.clone()),
            Dimension::Profile { item } => {
                let it = form.item(item)?;
                match it.item_type {
                    ItemType::SingleChoice => it
                        .options
                        .iter()
                        .find(|o| o.value == key)
                        .map(|o| o.label.vi.clone()),
                    ItemType::Rating => {
                        let scale = form.scales.get(it.scale.as_deref()?)?;
                        let v: i64 = key.parse().ok()?;
                        scale
                            .points
                            .iter()
                            .chain(scale.no_answer.as_ref())
                            .find(|p| p.value == v)
                            .map(|p| p.label.vi.clone())
                    }
                    _ => None,
                }
            }
            Dimension::AgeBand { bands, .. } => bands
                .iter()
                .find(|b| b.key == key)
                .map(|b| b.label_vi.clone()),
            _ => None,
        }
    };
    let to_cell = |c: &IndexCell, label: Option<String>| BreakdownCell {
        round_id: c.round_id.clone(),
        key: c.unit_code.clone(),
        label,
        respondents: c.respondents,
        figures: figures(c, min_n),
        index: c.clone(),
    };
    Ok(Breakdown {
        form: report.form.clone(),
        dimension: kind,
        min_n,
        cells: report
            .cells
            .iter()
            .map(|c| to_cell(c, label(&c.unit_code)))
            .collect(),
        totals: report
            .round_totals
            .iter()
            .map(|c| to_cell(c, None))
            .collect(),
        unmapped: report.unmapped_units,
    })
}
