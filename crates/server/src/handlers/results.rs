//! Published results (issue 11): `GET /rounds/{id}/results`, `GET|PUT /rounds/{id}/targets`,
//! `GET /rounds/{id}/microdata`. The rules are in [`crate::results`] (which calls the index
//! engine); the files in [`crate::results_export`].
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::{ApiPath, ApiQuery, read_json};
use crate::handlers::reports::MAX_MIN_N;
use crate::handlers::rounds::XLSX_CONTENT_TYPE;
use crate::problem::{ApiError, ApiResult};
use crate::results::{self, By, Names, RoundData};
use crate::results_export::{microdata_xlsx, results_csv, results_xlsx};
use crate::scope;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sipas_core::index::Aggregation;
use sipas_core::microdata::{MicrodataBuilder, MicrodataInput, MicrodataOptions};
use sipas_core::report::ReportConfig;
use sipas_core::targets::{TargetError, TargetScope, TargetSet};
use sipas_core::text::nfc;
use sipas_protocol::roles::Capability;

/// Query of `GET /rounds/{id}/results`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResultsQuery {
    /// `unit`, `agency` (default), `agency_kind`, `field`, `profile:<item>`.
    #[serde(default)]
    pub by: Option<String>,
    /// For `by=unit`: `province`, `district`, `commune` (default).
    #[serde(default)]
    pub level: Option<String>,
    /// `auto` (default: the previous round of the same scope and form family), `none`, or
    /// a round id.
    #[serde(default)]
    pub compare_to: Option<String>,
    /// Minimum N (default 10, never below the server's floor).
    #[serde(default)]
    pub min_n: Option<usize>,
    /// `mean_of_criteria` (default) or `pooled`.
    #[serde(default)]
    pub aggregation: Option<Aggregation>,
    /// Mapping of renamed / split criteria `OLD:NEW[+NEW…],…`.
    #[serde(default)]
    pub map: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
    /// `true`: add the trend across the rounds of the form family (JSON only).
    #[serde(default)]
    pub trend: Option<bool>,
    /// Response modes counted (issue 15): `official` (default), `all` or one mode.
    #[serde(default)]
    pub mode: Option<String>,
}

fn checked_min_n(state: &AppState, asked: Option<usize>) -> ApiResult<usize> {
    let requested = asked.unwrap_or(ReportConfig::default().min_n);
    if requested > MAX_MIN_N {
        return Err(ApiError::invalid_input(
            format!("min_n must be at most {MAX_MIN_N}."),
            format!("Cỡ mẫu tối thiểu (min_n) không quá {MAX_MIN_N}."),
        )
        .with_details(serde_json::json!({ "field": "min_n" })));
    }
    Ok(requested.max(state.min_n_floor))
}

fn attachment(name: String, content_type: &str, bytes: impl IntoResponse) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// The results body with the optional trend.
#[derive(Debug, Serialize)]
struct ResultsBody {
    #[serde(flatten)]
    results: results::Results,
    #[serde(skip_serializing_if = "Option::is_none")]
    trend: Option<Vec<results::TrendPoint>>,
    /// Issue 15: modes counted and one panel per mode.
    #[serde(flatten)]
    modes: crate::results_modes::ModesView,
}

/// `GET /api/v1/rounds/{id}/results` (reports.read: admin, supervisor, monitor, ministry;
/// within the caller's scope): breakdown cells with figures, ranks, target status and the
/// comparison with an earlier round. `format=csv|xlsx` gives the files.
pub async fn round_results(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<ResultsQuery>,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::ReportsRead)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let format = q.format.clone().unwrap_or_else(|| "json".into());
    if !matches!(format.as_str(), "json" | "csv" | "xlsx") {
        return Err(ApiError::invalid_input(
            "format must be json, csv or xlsx.",
            "Định dạng phải là json, csv hoặc xlsx.",
        )
        .with_details(serde_json::json!({ "field": "format" })));
    }
    let by = By::parse(q.by.as_deref(), q.level.as_deref())?;
    let mapping = results::parse_mapping(q.map.as_deref())?;
    let min_n = checked_min_n(&state, q.min_n)?;
    let aggregation = q.aggregation.unwrap_or_default();
    let mine = scope::of(&state, &caller).await?;
    let answers = results::needs_answers(&by);
    // Issue 14: a profile breakdown streams the responses past once (bounded memory) unless
    // the server runs the reference path.
    let streamed = answers && !state.index_from_responses;
    // Fields are read only when a figure breaks down by field.
    let detail = results::detail_for(&by, format == "xlsx" || q.trend.unwrap_or(false));
    let names = Names::load(&state, mine.clone()).await?;
    let (mut data, selection) = if streamed {
        // This round's breakdowns in one pass: by the item, and by field for the XLSX
        // sheet and the trend.
        let bys = [by.clone(), By::Field];
        results::load_round_tallied(
            &state,
            &mine,
            &names,
            &round_id,
            &bys,
            min_n,
            aggregation,
            q.mode.as_deref(),
        )
        .await?
    } else {
        let data = results::load_round_with(&state, &mine, &round_id, answers, detail).await?;
        // Issue 15: the official modes of the round unless `?mode=` says otherwise.
        let selection = crate::results_modes::select(
            &state,
            &round_id,
            q.mode.as_deref(),
            answers || state.index_from_responses,
        )
        .await?;
        (data, selection)
    };
    // The mode panels from the counts just read (all modes, in scope) when there are any.
    let rows = match &data.source {
        results::Source::Counts(rows) => Some(rows.as_slice()),
        _ => None,
    };
    let modes = crate::results_modes::panels(
        &state,
        &mine,
        &data.round,
        &data.form,
        &selection,
        min_n,
        rows,
    )
    .await?;
    data.keep_modes(&selection);
    let (earlier_id, chosen) = match q.compare_to.as_deref() {
        None | Some("") | Some("auto") => {
            (results::previous_round(&state, &mine, &data).await?, "auto")
        }
        Some("none") => (None, "none"),
        Some(id) if id == round_id => {
            return Err(ApiError::invalid_input(
                "A round cannot be compared with itself.",
                "Không so sánh một đợt với chính nó.",
            )
            .with_details(serde_json::json!({ "field": "compare_to" })));
        }
        Some(id) => (Some(id.to_owned()), "chosen"),
    };
    let earlier: Option<RoundData> = match &earlier_id {
        None => None,
        Some(id) => Some(
            if streamed {
                results::load_round_tallied(
                    &state,
                    &mine,
                    &names,
                    id,
                    std::slice::from_ref(&by),
                    min_n,
                    aggregation,
                    q.mode.as_deref(),
                )
                .await
                .map(|(data, _)| data)
            } else {
                results::load_round_of_modes(&state, &mine, id, answers, detail, q.mode.as_deref())
                    .await
            }
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::NOT_FOUND {
                    ApiError::invalid_input(
                        format!("No round {id} to compare with."),
                        format!("Không có đợt {id} để so sánh."),
                    )
                    .with_details(serde_json::json!({ "field": "compare_to", "code": id }))
                } else {
                    e
                }
            })?,
        ),
    };
    let targets = results::targets_of(&state, &round_id).await?;
    let now = state.clock.now();
    let r = results::results(
        &data,
        &names,
        &by,
        min_n,
        aggregation,
        targets.clone(),
        earlier.as_ref().map(|e| (e, chosen, mapping.clone())),
        now,
    )?;
    match format.as_str() {
        "csv" => Ok(attachment(
            format!("sipas-ket-qua-{round_id}.csv"),
            "text/csv; charset=utf-8",
            results_csv(&r),
        )),
        "xlsx" => {
            let fields = results::results(
                &data,
                &names,
                &By::Field,
                min_n,
                aggregation,
                targets,
                None,
                now,
            )?;
            let bytes = tokio::task::spawn_blocking(move || results_xlsx(&r, &fields))
                .await
                .map_err(|_| ApiError::internal())?
                .map_err(|e| {
                    tracing::error!(error = %e, "results XLSX failed");
                    ApiError::internal()
                })?;
            Ok(attachment(
                format!("sipas-ket-qua-{round_id}.xlsx"),
                XLSX_CONTENT_TYPE,
                bytes,
            ))
        }
        _ => {
            let trend = if q.trend.unwrap_or(false) {
                Some(
                    results::trend(
                        &state,
                        &mine,
                        &names,
                        &data,
                        min_n,
                        aggregation,
                        q.mode.as_deref(),
                    )
                    .await?,
                )
            } else {
                None
            };
            Ok(Json(ResultsBody {
                results: r,
                trend,
                modes,
            })
            .into_response())
        }
    }
}

/// `GET|PUT /rounds/{id}/targets` body and answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetsBody {
    /// The targets.
    pub targets: Vec<sipas_core::targets::Target>,
    /// Whether they were set for this round (answer only; false: the plans' defaults).
    #[serde(default, skip_deserializing)]
    pub stored: bool,
}

/// `GET /api/v1/rounds/{id}/targets` (reports.read, in scope): the targets in effect.
pub async fn get_targets(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Json<TargetsBody>> {
    require_cap(&caller.user, Capability::ReportsRead)?;
    let round_id = path.get()?;
    let mine = scope::of(&state, &caller).await?;
    crate::handlers::rounds::visible_round(&state, &mine, &round_id).await?;
    let (t, stored) = results::targets_of(&state, &round_id).await?;
    Ok(Json(TargetsBody {
        targets: t.targets,
        stored,
    }))
}

/// Checks a target set from a request: thresholds 0–100, one target per scope, codes
/// non-empty (NFC, trimmed), groups known to the round's form, field and agency-kind codes
/// known to the catalogues (when they have any).
async fn checked_targets(
    state: &AppState,
    form: &sipas_core::questionnaire::Questionnaire,
    mut set: TargetSet,
) -> ApiResult<TargetSet> {
    let fields: std::collections::BTreeSet<String> = state
        .store
        .fields()
        .await?
        .into_iter()
        .map(|f| f.code)
        .collect();
    for (i, t) in set.targets.iter_mut().enumerate() {
        let bad = |en: String, vi: String| {
            ApiError::invalid_input(en, vi)
                .with_details(serde_json::json!({ "field": format!("targets[{i}]") }))
        };
        match &mut t.scope {
            TargetScope::Overall => {}
            TargetScope::Group(c) | TargetScope::Field(c) | TargetScope::AgencyKind(c) => {
                *c = nfc(c.trim());
                if c.is_empty() {
                    return Err(bad(
                        "A target names no code.".into(),
                        "Chỉ tiêu chưa có mã.".into(),
                    ));
                }
            }
        }
        match &t.scope {
            TargetScope::Group(c) if form.group(c).is_none() => {
                return Err(bad(
                    format!("The form has no criteria group {c}."),
                    format!("Phiếu không có nhóm tiêu chí {c}."),
                ));
            }
            TargetScope::Field(c) if !fields.is_empty() && !fields.contains(c) => {
                return Err(bad(
                    format!("Unknown field {c}."),
                    format!("Không có lĩnh vực mã {c}."),
                ));
            }
            TargetScope::AgencyKind(c) if sipas_core::catalogue::AgencyKind::parse(c).is_none() => {
                return Err(bad(
                    format!("Unknown agency kind {c}."),
                    format!("Không có loại cơ quan {c}."),
                ));
            }
            _ => {}
        }
    }
    set.validate().map_err(|e| match e {
        TargetError::BadThreshold(v) => ApiError::invalid_input(
            format!("Target threshold {v} is not a percentage from 0 to 100."),
            format!("Ngưỡng chỉ tiêu {v} không phải tỷ lệ từ 0 đến 100."),
        )
        .with_details(serde_json::json!({ "field": "targets" })),
        TargetError::DuplicateScope(s) => ApiError::invalid_input(
            format!("Two targets for the same scope {s:?}."),
            "Có hai chỉ tiêu cho cùng một đối tượng.".to_owned(),
        )
        .with_details(serde_json::json!({ "field": "targets" })),
    })?;
    Ok(set)
}

/// `PUT /api/v1/rounds/{id}/targets` (rounds.manage: admin, supervisor; in scope): replaces
/// the round's targets (audited `round.targets_set`). `400.3` for a bad set.
pub async fn put_targets(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<TargetsBody>> {
    require_cap(&caller.user, Capability::RoundsManage)?;
    let round_id = path.get()?;
    let req: TargetsBody = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = crate::handlers::rounds::visible_round(&state, &mine, &round_id).await?;
    let form = results::form_of(&state, &round)?;
    let set = checked_targets(
        &state,
        &form,
        TargetSet {
            targets: req.targets,
        },
    )
    .await?;
    state
        .store
        .set_round_targets(&round_id, &set, caller.user.id)
        .await?;
    tracing::info!(actor = %caller.user.id, round_id = %round_id, "round targets set");
    Ok(Json(TargetsBody {
        targets: set.targets,
        stored: true,
    }))
}

/// Query of `GET /rounds/{id}/microdata`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MicrodataQuery {
    /// `csv` (default), `xlsx` or `sps` (SPSS syntax labelling the CSV).
    #[serde(default)]
    pub format: Option<String>,
    /// `true`: blank the answers of units with fewer counted responses than `min_n`.
    #[serde(default)]
    pub blank_small_units: Option<bool>,
    /// The minimum N for `blank_small_units` (default 10, never below the server's floor).
    #[serde(default)]
    pub min_n: Option<usize>,
    /// `true`: include free-text items (off by default: they may identify people).
    #[serde(default)]
    pub free_text: Option<bool>,
}

/// `GET /api/v1/rounds/{id}/microdata` (microdata.read: admin, supervisor; never ministry):
/// one row per counted response in the caller's scope, labelled columns, no contact data.
pub async fn microdata(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<MicrodataQuery>,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::MicrodataRead)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let format = q.format.clone().unwrap_or_else(|| "csv".into());
    if !matches!(format.as_str(), "csv" | "xlsx" | "sps") {
        return Err(ApiError::invalid_input(
            "format must be csv, xlsx or sps.",
            "Định dạng phải là csv, xlsx hoặc sps.",
        )
        .with_details(serde_json::json!({ "field": "format" })));
    }
    let min_n = checked_min_n(&state, q.min_n)?;
    let mine = scope::of(&state, &caller).await?;
    if state.index_from_responses {
        return microdata_in_memory(&state, &caller, mine, &round_id, &q, &format, min_n).await;
    }
    // Issue 14: rows streamed (crate::microdata_stream), memory bounded.
    let (round, _) = crate::handlers::rounds::visible_round(&state, &mine, &round_id).await?;
    let form = results::form_of(&state, &round)?;
    let names = Names::load(&state, mine.clone()).await?;
    let options = MicrodataOptions {
        include_free_text: q.free_text.unwrap_or(false),
        blank_units_below: q.blank_small_units.unwrap_or(false).then_some(min_n),
    };
    let rows = state.store.counted_rows(&round_id).await?;
    let (first, rest) = crate::microdata_stream::start(rows).await?;
    let job = crate::microdata_stream::Job {
        form,
        options,
        filter: scope::RoundFilter::for_codes(&mine, round.starts_on),
        kinds: names
            .agencies
            .iter()
            .map(|(code, a)| (code.clone(), a.kind.code()))
            .collect(),
        round_id: round_id.clone(),
        actor: caller.user.id,
    };
    let csv_name = format!("sipas-microdata-{round_id}.csv");
    match format.as_str() {
        "sps" => Ok(attachment(
            format!("sipas-microdata-{round_id}.sps"),
            "text/plain; charset=utf-8",
            crate::microdata_stream::sps(job, first, rest, csv_name).await?,
        )),
        "xlsx" => {
            let note = microdata_note(&round.form, &options, min_n);
            Ok(attachment(
                format!("sipas-microdata-{round_id}.xlsx"),
                XLSX_CONTENT_TYPE,
                crate::microdata_stream::xlsx(job, first, rest, note).await?,
            ))
        }
        _ => Ok(attachment(
            csv_name,
            "text/csv; charset=utf-8",
            crate::microdata_stream::csv_body(job, first, rest),
        )),
    }
}

/// The note on top of the microdata workbook's codebook sheet.
fn microdata_note(
    form: &sipas_core::questionnaire::FormKey,
    options: &MicrodataOptions,
    min_n: usize,
) -> String {
    format!(
        "Phiếu {}; mỗi dòng là một phiếu được tính (lần nộp mới nhất không bị loại); \
         không có thông tin liên hệ{}",
        form,
        if options.blank_units_below.is_some() {
            format!("; các đơn vị dưới {min_n} phiếu để trống câu trả lời")
        } else {
            String::new()
        }
    )
}

/// The microdata from every counted response read at once: the reference the streamed
/// files are checked against (the server's reference path,
/// [`AppState::index_from_responses`]).
async fn microdata_in_memory(
    state: &AppState,
    caller: &Caller,
    mine: scope::Scope,
    round_id: &str,
    q: &MicrodataQuery,
    format: &str,
    min_n: usize,
) -> ApiResult<Response> {
    let data = results::load_round(state, &mine, round_id, true).await?;
    let names = Names::load(state, mine).await?;
    let none = crate::storage::AssignmentCodes::default();
    let mut builder = MicrodataBuilder::new();
    let (responses, codes) = match &data.source {
        results::Source::Answers { responses, codes } => (responses.as_slice(), codes),
        _ => return Err(ApiError::internal()),
    };
    for r in responses {
        let codes = r.assignment_id.and_then(|a| codes.get(&a)).unwrap_or(&none);
        let agency_code = codes.agency_code.as_deref();
        builder.add(MicrodataInput {
            response_id: r.id,
            revision: r.revision,
            // The store gives the latest counted revision of each response only.
            counted: true,
            round_id: &r.round_id,
            unit_code: &r.unit_code,
            agency_code,
            agency_kind: agency_code
                .and_then(|a| names.agencies.get(a))
                .map(|a| a.kind.code()),
            field_code: codes.field_code.as_deref(),
            answers: &r.answers,
        });
    }
    let options = MicrodataOptions {
        include_free_text: q.free_text.unwrap_or(false),
        blank_units_below: q.blank_small_units.unwrap_or(false).then_some(min_n),
    };
    let table = builder.build(&data.form, &options);
    tracing::info!(actor = %caller.user.id, round_id = %round_id, rows = table.rows.len(), "microdata exported");
    let csv_name = format!("sipas-microdata-{round_id}.csv");
    match format {
        "sps" => Ok(attachment(
            format!("sipas-microdata-{round_id}.sps"),
            "text/plain; charset=utf-8",
            sipas_core::microdata::spss_syntax(&table, &csv_name),
        )),
        "xlsx" => {
            let note = microdata_note(&data.round.form, &options, min_n);
            let bytes = tokio::task::spawn_blocking(move || microdata_xlsx(&table, &note))
                .await
                .map_err(|_| ApiError::internal())?
                .map_err(|e| {
                    tracing::error!(error = %e, "microdata XLSX failed");
                    ApiError::internal()
                })?;
            Ok(attachment(
                format!("sipas-microdata-{round_id}.xlsx"),
                XLSX_CONTENT_TYPE,
                bytes,
            ))
        }
        _ => Ok(attachment(
            csv_name,
            "text/csv; charset=utf-8",
            sipas_core::microdata::to_csv(&table),
        )),
    }
}
