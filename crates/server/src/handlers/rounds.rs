//! Rounds and their sample frames: `POST/GET /rounds`, `POST /rounds/{id}/sample` (CSV or
//! XLSX), `POST /rounds/{id}/assign`, `GET /rounds/{id}/progress?by=surveyor|unit`.
use crate::app::AppState;
use crate::auth::{Caller, require};
use crate::extract::{ApiPath, ApiQuery, read_json};
use crate::problem::{ApiError, ApiResult};
use crate::storage::Progress;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::Round;
use uuid::Uuid;

/// Largest number of assignments in one assign request.
pub const MAX_ASSIGN_IDS: usize = 10_000;
/// Content type of XLSX workbooks.
pub use crate::table_file::XLSX_CONTENT_TYPE;

/// Who plans rounds.
const PLANNERS: &[Role] = &[Role::Supervisor, Role::Admin];

/// `POST /api/v1/rounds/{id}/assign` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignRequest {
    /// Assignments (of this round) to give to the surveyor.
    pub assignment_ids: Vec<Uuid>,
    /// The surveyor.
    pub surveyor_id: Uuid,
}

/// Answer of an assign request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignResult {
    /// Number of assignments (re)assigned.
    pub assigned: u64,
}

/// Progress of one surveyor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyorProgress {
    /// Surveyor's user id.
    pub surveyor_id: Uuid,
    /// Login name, if the user still exists.
    pub username: Option<String>,
    /// Display name, if the user still exists.
    pub display_name: Option<String>,
    /// Counts.
    #[serde(flatten)]
    pub progress: Progress,
}

/// Answer of `GET /rounds/{id}/progress`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressReport {
    /// Round.
    pub round_id: String,
    /// Sum over surveyors.
    pub total: Progress,
    /// Per surveyor.
    pub surveyors: Vec<SurveyorProgress>,
}

/// The round with this id, or `404.1`.
pub async fn existing_round(state: &AppState, id: &str) -> ApiResult<Round> {
    state
        .store
        .round(id)
        .await?
        .ok_or_else(|| ApiError::not_found("round", id))
}

fn check_round(state: &AppState, mut round: Round) -> ApiResult<Round> {
    let id_ok = (1..=64).contains(&round.id.len())
        && round
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !id_ok {
        return Err(ApiError::invalid_input(
            "Round id must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_' or '.'.",
            "Mã đợt phải dài 1–64 ký tự, chỉ gồm chữ, số, '-', '_' hoặc '.'.",
        )
        .with_details(serde_json::json!({ "field": "id" })));
    }
    round.name = nfc(round.name.trim());
    if round.name.is_empty() || round.name.chars().count() > 200 {
        return Err(ApiError::invalid_input(
            "Round name must be 1 to 200 characters.",
            "Tên đợt phải dài 1–200 ký tự.",
        )
        .with_details(serde_json::json!({ "field": "name" })));
    }
    if state.forms.get(&round.form).is_none() {
        return Err(ApiError::new(
            ProblemCode::UnknownForm,
            format!("Unknown questionnaire {}.", round.form),
            format!("Không có bảng hỏi {}.", round.form),
        )
        .with_details(serde_json::json!({ "form": round.form })));
    }
    if round.starts_on > round.ends_on {
        return Err(ApiError::invalid_input(
            "starts_on is after ends_on.",
            "Ngày bắt đầu sau ngày kết thúc.",
        )
        .with_details(serde_json::json!({ "field": "starts_on" })));
    }
    if let Some(problem) = round.outside_sample.problem() {
        return Err(ApiError::invalid_input(
            format!("outside_sample: {problem}."),
            "Khi cho phép phỏng vấn ngoài danh sách mẫu, số phiếu tối đa mỗi đơn vị phải từ 1 trở lên.",
        )
        .with_details(serde_json::json!({ "field": "outside_sample.cap_per_unit" })));
    }
    Ok(round)
}

/// `POST /api/v1/rounds` (supervisor, admin): creates a round (`400.2` unknown form,
/// `409.1` id taken).
pub async fn create_round(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Round>)> {
    require(&caller.user, PLANNERS)?;
    let round: Round = read_json(&headers, body).await?;
    let round = check_round(&state, round)?;
    state.store.create_round(&round, caller.user.id).await?;
    tracing::info!(actor = %caller.user.id, round_id = %round.id, "round created");
    Ok((StatusCode::CREATED, Json(round)))
}

/// `GET /api/v1/rounds` (supervisor, admin, monitor): every round.
pub async fn list_rounds(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Round>>> {
    require(
        &caller.user,
        &[Role::Supervisor, Role::Admin, Role::Monitor],
    )?;
    Ok(Json(state.store.rounds().await?))
}

// `POST /rounds/{id}/sample` moved to `handlers/sample.rs` (issue 10, h-cat).

/// `POST /api/v1/rounds/{id}/assign` (supervisor, admin): gives assignments of the round to
/// a surveyor. Unknown ids are `404.1`; ids of another round or a non-surveyor are `400.3`.
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<AssignResult>> {
    require(&caller.user, PLANNERS)?;
    let round_id = path.get()?;
    let req: AssignRequest = read_json(&headers, body).await?;
    existing_round(&state, &round_id).await?;
    if req.assignment_ids.is_empty() || req.assignment_ids.len() > MAX_ASSIGN_IDS {
        return Err(ApiError::invalid_input(
            format!("Give 1 to {MAX_ASSIGN_IDS} assignment ids."),
            format!("Cần từ 1 đến {MAX_ASSIGN_IDS} mã phiếu giao."),
        )
        .with_details(serde_json::json!({ "field": "assignment_ids" })));
    }
    let surveyor = state
        .store
        .user_by_id(req.surveyor_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", &req.surveyor_id.to_string()))?;
    if surveyor.role != Role::Surveyor {
        return Err(ApiError::invalid_input(
            "Assignments go to surveyors only.",
            "Chỉ giao phiếu cho điều tra viên.",
        )
        .with_details(serde_json::json!({ "field": "surveyor_id" })));
    }
    for id in &req.assignment_ids {
        let (assignment, _) = state
            .store
            .assignment(*id)
            .await?
            .ok_or_else(|| ApiError::not_found("assignment", &id.to_string()))?;
        if assignment.round_id != round_id {
            return Err(ApiError::invalid_input(
                format!("Assignment {id} belongs to another round."),
                format!("Phiếu {id} thuộc đợt khác."),
            )
            .with_details(serde_json::json!({ "field": "assignment_ids", "id": id })));
        }
    }
    let assigned = state
        .store
        .assign(&req.assignment_ids, surveyor.id, caller.user.id)
        .await?;
    tracing::info!(actor = %caller.user.id, round_id = %round_id, surveyor = %surveyor.id, count = assigned, "assigned");
    Ok(Json(AssignResult { assigned }))
}

/// Query of `GET /rounds/{id}/progress`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProgressQuery {
    /// `surveyor` (default) or `unit`.
    #[serde(default)]
    pub by: Option<String>,
}

/// Progress of one administrative unit (`GET /rounds/{id}/progress?by=unit`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitProgress {
    /// Administrative unit code.
    pub unit_code: String,
    /// Counts (see [`crate::storage::ServerStore::progress_by_unit`]).
    #[serde(flatten)]
    pub progress: Progress,
}

/// `GET /api/v1/rounds/{id}/progress?by=surveyor|unit` (supervisor, admin): counts per
/// surveyor ([`ProgressReport`], the default) or per administrative unit (a list of
/// [`UnitProgress`], by unit code).
pub async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<ProgressQuery>,
) -> ApiResult<Response> {
    require(&caller.user, PLANNERS)?;
    let round_id = path.get()?;
    let by_unit = match query.get()?.by.as_deref() {
        None | Some("surveyor") => false,
        Some("unit") => true,
        Some(_) => {
            return Err(ApiError::invalid_input(
                "by must be surveyor or unit.",
                "Tham số by phải là surveyor hoặc unit.",
            )
            .with_details(serde_json::json!({ "field": "by" })));
        }
    };
    existing_round(&state, &round_id).await?;
    if by_unit {
        let units: Vec<UnitProgress> = state
            .store
            .progress_by_unit(&round_id)
            .await?
            .into_iter()
            .map(|(unit_code, progress)| UnitProgress {
                unit_code,
                progress,
            })
            .collect();
        return Ok(Json(units).into_response());
    }
    let by_surveyor = state.store.progress(&round_id).await?;
    let mut total = Progress::default();
    let mut surveyors = Vec::with_capacity(by_surveyor.len());
    for (surveyor_id, p) in by_surveyor {
        total.assigned += p.assigned;
        total.collected += p.collected;
        total.non_response += p.non_response;
        total.synced += p.synced;
        total.replacement += p.replacement;
        total.walk_in += p.walk_in;
        let user = state.store.user_by_id(surveyor_id).await?;
        surveyors.push(SurveyorProgress {
            surveyor_id,
            username: user.as_ref().map(|u| u.username.clone()),
            display_name: user.map(|u| u.display_name),
            progress: p,
        });
    }
    Ok(Json(ProgressReport {
        round_id,
        total,
        surveyors,
    })
    .into_response())
}
