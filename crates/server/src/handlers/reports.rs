//! Shaped SIPAS reports: `GET /rounds/{id}/report?format=json|csv|xlsx&min_n=10&aggregation=…`.
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::{ApiPath, ApiQuery};
use crate::handlers::rounds::{XLSX_CONTENT_TYPE, visible_round};
use crate::problem::{ApiError, ApiResult};
use crate::report_export::report_xlsx;
use crate::scope;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sipas_core::index::{Aggregation, IndexConfig};
use sipas_core::report::{ReportConfig, ReportStamp, shape_report, to_csv};
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Capability;

/// Largest `min_n` accepted.
pub const MAX_MIN_N: usize = 1_000_000;

/// Query of the report endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportQuery {
    /// `json` (default), `csv` or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
    /// Values with a base below this are suppressed (default 10). Raised to the server's
    /// floor ([`AppState::min_n_floor`], default 10) when lower.
    #[serde(default)]
    pub min_n: Option<usize>,
    /// `mean_of_criteria` (default) or `pooled`.
    #[serde(default)]
    pub aggregation: Option<Aggregation>,
    /// Response modes counted (issue 15): `official` (default), `all` or one mode.
    #[serde(default)]
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

/// `GET /api/v1/rounds/{id}/report` (supervisor, admin, monitor): the round's SIPAS index
/// shaped into labelled rows ([`sipas_core::report::shape_report`]) with small cells
/// suppressed (`min_n` never below the server's floor, `--min-n-floor`), over the latest non-rejected revision of each response. Stamped with the
/// questionnaire version, the aggregation rule, the data time (latest reception among the
/// included responses; the generation time when there are none) and the generation time.
/// JSON is the [`sipas_core::report::Report`]; CSV ([`to_csv`]) and XLSX
/// ([`report_xlsx`]) are attachments with Vietnamese headers.
pub async fn round_report(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::ReportsRead)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let format = match q.format.as_deref() {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some(_) => {
            return Err(ApiError::invalid_input(
                "format must be json, csv or xlsx.",
                "Định dạng phải là json, csv hoặc xlsx.",
            )
            .with_details(serde_json::json!({ "field": "format" })));
        }
    };
    let requested = q.min_n.unwrap_or(ReportConfig::default().min_n);
    if requested > MAX_MIN_N {
        return Err(ApiError::invalid_input(
            format!("min_n must be at most {MAX_MIN_N}."),
            format!("Ngưỡng ẩn ô (min_n) không quá {MAX_MIN_N}."),
        )
        .with_details(serde_json::json!({ "field": "min_n" })));
    }
    // The server's floor wins over any lower value asked for (the report states `min_n`).
    let min_n = requested.max(state.min_n_floor);
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let form = state.forms.get(&round.form).ok_or_else(|| {
        ApiError::new(
            ProblemCode::UnknownForm,
            format!("Unknown questionnaire {}.", round.form),
            format!("Không có bảng hỏi {}.", round.form),
        )
    })?;
    // Issue 15: the official modes of the round unless `?mode=` says otherwise.
    let selection = crate::results_modes::select(
        &state,
        &round_id,
        q.mode.as_deref(),
        state.index_from_responses,
    )
    .await?;
    // The counts are read once for the mode panels and the index.
    let counts = crate::answer_counts::scoped_counts(&state, &mine, &round).await?;
    let modes = crate::results_modes::panels(
        &state,
        &mine,
        &round,
        &form,
        &selection,
        min_n,
        counts.as_ref().map(|c| c.rows.as_slice()),
    )
    .await?;
    let config = IndexConfig {
        aggregation: q.aggregation.unwrap_or_default(),
        ..IndexConfig::default()
    };
    let (index, data_as_of) = crate::answer_counts::round_index(
        &state,
        &mine,
        &round,
        &form,
        config,
        &selection,
        counts.as_ref(),
    )
    .await?;
    drop(counts);
    let now = state.clock.now();
    let stamp = ReportStamp::for_index(&index, data_as_of.unwrap_or(now), now);
    let report = shape_report(&form, &index, &ReportConfig { min_n }, stamp).map_err(|e| {
        tracing::error!(round_id = %round_id, error = %e, "report shaping failed");
        ApiError::internal()
    })?;
    let attachment = |ext: &str| format!("attachment; filename=\"sipas-report-{round_id}.{ext}\"");
    match format {
        Format::Json => Ok(Json(crate::results_modes::WithModes {
            inner: report,
            modes,
        })
        .into_response()),
        Format::Csv => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, attachment("csv")),
            ],
            to_csv(&report),
        )
            .into_response()),
        Format::Xlsx => {
            let bytes = tokio::task::spawn_blocking(move || report_xlsx(&report))
                .await
                .map_err(|_| ApiError::internal())?
                .map_err(|e| {
                    tracing::error!(error = %e, "report XLSX failed");
                    ApiError::internal()
                })?;
            Ok((
                [
                    (header::CONTENT_TYPE, XLSX_CONTENT_TYPE.to_owned()),
                    (header::CONTENT_DISPOSITION, attachment("xlsx")),
                ],
                bytes,
            )
                .into_response())
        }
    }
}
