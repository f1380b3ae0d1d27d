//! The SIPAS index of a round: `GET /rounds/{id}/index?aggregation=…&format=json|csv`.
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::{ApiPath, ApiQuery};
use crate::handlers::rounds::visible_round;
use crate::index_export::report_csv;
use crate::problem::{ApiError, ApiResult};
use crate::scope;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sipas_core::index::{Aggregation, IndexConfig};
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Capability;

/// Query of the index endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IndexQuery {
    /// `mean_of_criteria` (default) or `pooled`.
    #[serde(default)]
    pub aggregation: Option<Aggregation>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
    /// Response modes counted (issue 15): `official` (default), `all` or one mode.
    #[serde(default)]
    pub mode: Option<String>,
}

/// `GET /api/v1/rounds/{id}/index` (supervisor, admin, monitor): % satisfied and mean per
/// criterion, element and overall, per unit and for the whole round, over the latest
/// non-rejected revision of each response, read from the answer counts
/// ([`crate::answer_counts`]). CSV is UTF-8 with BOM and Vietnamese headers.
pub async fn round_index(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<IndexQuery>,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::IndexRead)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::invalid_input(
                "format must be json or csv.",
                "Định dạng phải là json hoặc csv.",
            )
            .with_details(serde_json::json!({ "field": "format" })));
        }
    };
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
    let modes = crate::results_modes::select(
        &state,
        &round_id,
        q.mode.as_deref(),
        state.index_from_responses,
    )
    .await?;
    let config = IndexConfig {
        aggregation: q.aggregation.unwrap_or_default(),
        ..IndexConfig::default()
    };
    // The counts are read once for the index and the mode panels.
    let counts = crate::answer_counts::scoped_counts(&state, &mine, &round).await?;
    let (report, _) = crate::answer_counts::round_index(
        &state,
        &mine,
        &round,
        &form,
        config,
        &modes,
        counts.as_ref(),
    )
    .await?;
    if !csv {
        let modes = crate::results_modes::panels(
            &state,
            &mine,
            &round,
            &form,
            &modes,
            state.min_n_floor,
            counts.as_ref().map(|c| c.rows.as_slice()),
        )
        .await?;
        drop(counts);
        return Ok(Json(crate::results_modes::WithModes {
            inner: report,
            modes,
        })
        .into_response());
    }
    let bytes = report_csv(&report, &form).map_err(|e| {
        tracing::error!(error = %e, "index CSV failed");
        ApiError::internal()
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"sipas-index-{round_id}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
