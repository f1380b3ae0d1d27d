//! Rounds and their sample frames: `POST/GET /rounds`, `PATCH /rounds/{id}`,
//! `POST /rounds/{id}/close`, `GET /forms`, `POST /rounds/{id}/sample` (CSV or XLSX),
//! `GET /rounds/{id}/assignments`, `POST /rounds/{id}/assign`,
//! `GET /rounds/{id}/progress?by=surveyor|unit|agency`. Every round and assignment is
//! filtered to the caller's scope ([`crate::scope`]).
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::{ApiPath, ApiQuery, read_json};
use crate::problem::{ApiError, ApiResult};
use crate::scope::{self, Scope};
use crate::storage::{AssignmentRow, RoundPlan, ScopeCodes, each_assignment_row};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::Round;
use sipas_protocol::wire::{AssignmentStatus, OutsideSample, UserInfo};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Largest number of assignments in one assign request.
pub const MAX_ASSIGN_IDS: usize = 10_000;
/// Content type of XLSX workbooks.
pub use crate::table_file::XLSX_CONTENT_TYPE;

/// `POST /api/v1/rounds/{id}/assign` body: either `assignment_ids` or `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignRequest {
    /// Assignments (of this round) to give to the surveyor.
    #[serde(default)]
    pub assignment_ids: Option<Vec<Uuid>>,
    /// Or: every sampled assignment of the round (in the caller's scope) matching this.
    #[serde(default)]
    pub filter: Option<AssignFilter>,
    /// The surveyor.
    pub surveyor_id: Uuid,
}

/// Which assignments an assign-by-filter request takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignFilter {
    /// Only assignments of this unit (or below it).
    #[serde(default)]
    pub unit: Option<String>,
    /// Only assignments of this agency code.
    #[serde(default)]
    pub agency: Option<String>,
    /// Only assignments not given to anyone yet.
    #[serde(default)]
    pub unassigned_only: bool,
}

/// Answer of an assign request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignResult {
    /// Number of assignments (re)assigned.
    pub assigned: u64,
}

/// The round with this id, or `404.1`.
pub async fn existing_round(state: &AppState, id: &str) -> ApiResult<Round> {
    state
        .store
        .round(id)
        .await?
        .ok_or_else(|| ApiError::not_found("round", id))
}

fn check_round(
    state: &AppState,
    mut round: Round,
    kept_form: Option<&sipas_core::questionnaire::FormKey>,
) -> ApiResult<Round> {
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
    // Issue 12: a new round, or a changed questionnaire, must be a published version; a
    // round keeps a questionnaire retired after it was set.
    if kept_form != Some(&round.form) {
        crate::forms::usable_for_round(&state.forms, &round.form)?;
    } else if state.forms.get(&round.form).is_none() {
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

/// A round as the API shows it: [`Round`] with its plan, status and form title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundView {
    /// The round.
    #[serde(flatten)]
    pub round: Round,
    /// Covered units.
    pub units: Vec<String>,
    /// Agencies (empty: every agency).
    pub agencies: Vec<String>,
    /// Target sample size per agency code.
    pub targets: BTreeMap<String, u32>,
    /// `planned`, `open` or `closed`.
    pub status: RoundStatus,
    /// When it was closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Title of its questionnaire (Vietnamese).
    pub form_title: String,
}

/// Life-cycle state of a round: `planned` before `starts_on`, then `open`, `closed` once
/// closed (stored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundStatus {
    /// Before its first day.
    Planned,
    /// Taking uploads.
    Open,
    /// Closed: no more uploads.
    Closed,
}

/// The status of a round with `plan` on `today`.
pub fn round_status(round: &Round, plan: &RoundPlan, today: NaiveDate) -> RoundStatus {
    if plan.closed_at.is_some() {
        RoundStatus::Closed
    } else if today < round.starts_on {
        RoundStatus::Planned
    } else {
        RoundStatus::Open
    }
}

fn view(state: &AppState, round: Round, plan: RoundPlan) -> RoundView {
    let status = round_status(&round, &plan, scope::today(state));
    let form_title = state
        .forms
        .get(&round.form)
        .map_or_else(|| round.form.to_string(), |f| f.title.vi.clone());
    RoundView {
        round,
        units: plan.units,
        agencies: plan.agencies,
        targets: plan.targets,
        status,
        closed_at: plan.closed_at,
        form_title,
    }
}

/// The round `id` with its plan if it exists and is visible in `mine`; `404.1` otherwise
/// (existence outside the scope does not leak).
pub async fn visible_round(
    state: &AppState,
    mine: &Scope,
    id: &str,
) -> ApiResult<(Round, RoundPlan)> {
    let round = existing_round(state, id).await?;
    let plan = state.store.round_plan(id).await?;
    if mine.round(&plan.units, round.starts_on) {
        Ok((round, plan))
    } else {
        Err(scope::hidden("round", id))
    }
}

/// `POST /api/v1/rounds` body: a [`Round`] with its plan.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CreateRoundRequest {
    /// The round.
    #[serde(flatten)]
    pub round: Round,
    /// Covered units (absent or empty: the creator's scope units).
    #[serde(default)]
    pub units: Vec<String>,
    /// Agencies (empty: every agency).
    #[serde(default)]
    pub agencies: Vec<String>,
    /// Target sample size per agency code.
    #[serde(default)]
    pub targets: BTreeMap<String, u32>,
}

/// Checks a plan against the caller's scope: units known and inside the scope (`403.2`),
/// agencies inside the scope's agencies, sorted and deduplicated.
fn check_plan(
    mine: &Scope,
    units: Vec<String>,
    agencies: Vec<String>,
    targets: BTreeMap<String, u32>,
    on: NaiveDate,
) -> ApiResult<RoundPlan> {
    let units = if units.is_empty() {
        mine.codes.units.clone()
    } else {
        units
    };
    let codes = scope::checked_codes(&mine.tree, ScopeCodes { units, agencies }, "round")?;
    if let Some(outside) = codes.units.iter().find(|u| !mine.unit(u, on)) {
        return Err(
            scope::refused(&format!("Unit {outside}"), &format!("Đơn vị {outside}"))
                .with_details(serde_json::json!({ "field": "units", "code": outside })),
        );
    }
    if let Some(outside) = codes.agencies.iter().find(|a| !mine.agency(Some(a))) {
        return Err(
            scope::refused(&format!("Agency {outside}"), &format!("Cơ quan {outside}"))
                .with_details(serde_json::json!({ "field": "agencies", "code": outside })),
        );
    }
    Ok(RoundPlan {
        units: codes.units,
        agencies: codes.agencies,
        targets: targets
            .into_iter()
            .map(|(k, v)| (k.trim().to_owned(), v))
            .filter(|(k, _)| !k.is_empty())
            .collect(),
        closed_at: None,
    })
}

/// `POST /api/v1/rounds` (rounds.manage): creates a round with its covered units, agencies
/// and targets (`400.2` unknown form, `409.1` id taken, `403.2` a unit outside the scope).
pub async fn create_round(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<RoundView>)> {
    require_cap(&caller.user, Capability::RoundsManage)?;
    let req: CreateRoundRequest = read_json(&headers, body).await?;
    let round = check_round(&state, req.round, None)?;
    let mine = scope::of(&state, &caller).await?;
    let plan = check_plan(&mine, req.units, req.agencies, req.targets, round.starts_on)?;
    scope::check_agencies(&state, &plan.agencies, "agencies").await?;
    state
        .store
        .create_planned_round(&round, &plan, caller.user.id)
        .await?;
    tracing::info!(actor = %caller.user.id, round_id = %round.id, "round created");
    Ok((StatusCode::CREATED, Json(view(&state, round, plan))))
}

/// `GET /api/v1/rounds` (rounds.read): the rounds visible in the caller's scope.
pub async fn list_rounds(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<RoundView>>> {
    require_cap(&caller.user, Capability::RoundsRead)?;
    let mine = scope::of(&state, &caller).await?;
    let mut plans = state.store.round_plans().await?;
    let mut out = Vec::new();
    for round in state.store.rounds().await? {
        let plan = plans.remove(&round.id).unwrap_or_default();
        if mine.round(&plan.units, round.starts_on) {
            out.push(view(&state, round, plan));
        }
    }
    Ok(Json(out))
}

/// `GET /api/v1/rounds/{id}` (rounds.read): one round (`404.1` outside the scope).
pub async fn get_round(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Json<RoundView>> {
    require_cap(&caller.user, Capability::RoundsRead)?;
    let id = path.get()?;
    let mine = scope::of(&state, &caller).await?;
    let (round, plan) = visible_round(&state, &mine, &id).await?;
    Ok(Json(view(&state, round, plan)))
}

/// `PATCH /api/v1/rounds/{id}` body: the parts to change.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoundRequest {
    /// New questionnaire (a published version; issue 12).
    #[serde(default)]
    pub form: Option<sipas_core::questionnaire::FormKey>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New first day.
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    /// New last day.
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// New covered units.
    #[serde(default)]
    pub units: Option<Vec<String>>,
    /// New agencies.
    #[serde(default)]
    pub agencies: Option<Vec<String>>,
    /// New targets.
    #[serde(default)]
    pub targets: Option<BTreeMap<String, u32>>,
    /// New policy on interviews outside the sample.
    #[serde(default)]
    pub outside_sample: Option<OutsideSample>,
}

fn started_conflict(en: &str, vi: &str) -> ApiError {
    ApiError::new(ProblemCode::Conflict, en, vi)
}

/// `PATCH /api/v1/rounds/{id}` (rounds.manage): changes name, dates, units, agencies,
/// targets and outside-sample policy of a round that has not started, has no responses and
/// is not closed (`409.1` otherwise); `404.1` outside the scope.
pub async fn update_round(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<RoundView>> {
    require_cap(&caller.user, Capability::RoundsManage)?;
    let id = path.get()?;
    let req: UpdateRoundRequest = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    let (mut round, plan) = visible_round(&state, &mine, &id).await?;
    if round_status(&round, &plan, scope::today(&state)) != RoundStatus::Planned {
        return Err(started_conflict(
            "The round has started or is closed; it can no longer be changed.",
            "Đợt khảo sát đã bắt đầu hoặc đã đóng; không thể sửa nữa.",
        ));
    }
    if state.store.round_response_count(&id).await? > 0 {
        return Err(started_conflict(
            "The round already has responses; it can no longer be changed.",
            "Đợt khảo sát đã có phiếu trả lời; không thể sửa nữa.",
        ));
    }
    if let Some(name) = req.name {
        round.name = name;
    }
    if let Some(d) = req.starts_on {
        round.starts_on = d;
    }
    if let Some(d) = req.ends_on {
        round.ends_on = d;
    }
    if let Some(o) = req.outside_sample {
        round.outside_sample = o;
    }
    let kept_form = round.form.clone();
    if let Some(form) = req.form {
        round.form = form;
    }
    let round = check_round(&state, round, Some(&kept_form))?;
    let units = req.units.unwrap_or(plan.units);
    if units.is_empty() && !mine.is_whole() {
        return Err(ApiError::invalid_input(
            "A round covers at least one unit.",
            "Đợt khảo sát phải có ít nhất một đơn vị.",
        )
        .with_details(serde_json::json!({ "field": "units" })));
    }
    let new_plan = check_plan(
        &mine,
        units,
        req.agencies.unwrap_or(plan.agencies),
        req.targets.unwrap_or(plan.targets),
        round.starts_on,
    )?;
    scope::check_agencies(&state, &new_plan.agencies, "agencies").await?;
    state
        .store
        .update_round(&round, &new_plan, caller.user.id)
        .await?;
    tracing::info!(actor = %caller.user.id, round_id = %id, "round updated");
    Ok(Json(view(&state, round, new_plan)))
}

/// `POST /api/v1/rounds/{id}/close` (rounds.manage): closes a round: uploads to it are
/// refused from now on (ack `invalid`, reason `round_closed`, kept in quarantine). Closing a
/// closed round changes nothing. Answers the round.
pub async fn close_round(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Json<RoundView>> {
    require_cap(&caller.user, Capability::RoundsManage)?;
    let id = path.get()?;
    let mine = scope::of(&state, &caller).await?;
    visible_round(&state, &mine, &id).await?;
    let changed = state
        .store
        .close_round(&id, caller.user.id, state.clock.now())
        .await?;
    tracing::info!(actor = %caller.user.id, round_id = %id, changed, "round closed");
    let (round, plan) = visible_round(&state, &mine, &id).await?;
    Ok(Json(view(&state, round, plan)))
}

// `GET /forms` moved to `handlers/forms.rs` (issue 12, h-formpub).

// `POST /rounds/{id}/sample` moved to `handlers/sample.rs` (issue 10, h-cat).

/// The unit-tree date of a round.
fn round_day(round: &Round) -> NaiveDate {
    round.starts_on
}

/// `POST /api/v1/rounds/{id}/assign` (assignments.manage): gives assignments of the round
/// to a surveyor of the caller's scope (`403.2` otherwise), either by `assignment_ids`
/// (unknown ids `404.1`, another round's `400.3`, outside the scope `403.2`) or by `filter`
/// (sampled assignments of the round in scope matching unit / agency / unassigned only).
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<AssignResult>> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let round_id = path.get()?;
    let req: AssignRequest = read_json(&headers, body).await?;
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let on = round_day(&round);
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
    let surveyor_scope = state.store.user_scope(surveyor.id).await?;
    if !mine.contains(&surveyor_scope, scope::today(&state)) {
        return Err(scope::refused("This surveyor", "Điều tra viên này")
            .with_details(serde_json::json!({ "field": "surveyor_id" })));
    }
    let ids: Vec<Uuid> = match (req.assignment_ids, req.filter) {
        (Some(ids), None) => {
            if ids.is_empty() || ids.len() > MAX_ASSIGN_IDS {
                return Err(ApiError::invalid_input(
                    format!("Give 1 to {MAX_ASSIGN_IDS} assignment ids."),
                    format!("Cần từ 1 đến {MAX_ASSIGN_IDS} mã phiếu giao."),
                )
                .with_details(serde_json::json!({ "field": "assignment_ids" })));
            }
            let rows = state
                .store
                .round_assignment_rows_by_id(&round_id, &ids)
                .await?;
            for id in &ids {
                match rows.get(id) {
                    Some(row) if !mine.row(row, on) => {
                        return Err(scope::refused(
                            &format!("Assignment {id}"),
                            &format!("Phiếu {id}"),
                        )
                        .with_details(serde_json::json!({ "field": "assignment_ids", "id": id })));
                    }
                    Some(_) => {}
                    None => {
                        let (assignment, _) =
                            state.store.assignment(*id).await?.ok_or_else(|| {
                                ApiError::not_found("assignment", &id.to_string())
                            })?;
                        if assignment.round_id != round_id {
                            return Err(ApiError::invalid_input(
                                format!("Assignment {id} belongs to another round."),
                                format!("Phiếu {id} thuộc đợt khác."),
                            )
                            .with_details(
                                serde_json::json!({ "field": "assignment_ids", "id": id }),
                            ));
                        }
                    }
                }
            }
            ids
        }
        (None, Some(filter)) => {
            let mut ids = Vec::new();
            each_assignment_row(&*state.store, &round_id, |r| {
                if r.origin == "sample"
                    && mine.row_matches(&r, on, filter.unit.as_deref(), filter.agency.as_deref())
                    && (!filter.unassigned_only || r.surveyor_id.is_none())
                {
                    ids.push(r.id);
                }
            })
            .await?;
            ids
        }
        _ => {
            return Err(ApiError::invalid_input(
                "Give either assignment_ids or filter.",
                "Cần chọn phiếu theo danh sách mã (assignment_ids) hoặc theo bộ lọc (filter).",
            )
            .with_details(serde_json::json!({ "field": "assignment_ids" })));
        }
    };
    if ids.is_empty() {
        return Ok(Json(AssignResult { assigned: 0 }));
    }
    let mut assigned = 0;
    for chunk in ids.chunks(MAX_ASSIGN_IDS) {
        assigned += state
            .store
            .assign(chunk, surveyor.id, caller.user.id)
            .await?;
    }
    tracing::info!(actor = %caller.user.id, round_id = %round_id, surveyor = %surveyor.id, count = assigned, "assigned");
    Ok(Json(AssignResult { assigned }))
}

/// Query of `GET /rounds/{id}/assignments`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssignmentsQuery {
    /// Only this unit (and below).
    #[serde(default)]
    pub unit: Option<String>,
    /// Only this agency code.
    #[serde(default)]
    pub agency: Option<String>,
    /// Only this surveyor.
    #[serde(default)]
    pub surveyor: Option<Uuid>,
    /// Only this status.
    #[serde(default)]
    pub status: Option<AssignmentStatus>,
    /// Only unassigned ones.
    #[serde(default)]
    pub unassigned: Option<bool>,
    /// Page size (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Rows to skip.
    #[serde(default)]
    pub offset: Option<usize>,
}

/// One assignment as `GET /rounds/{id}/assignments` lists it (no contact data).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignmentItem {
    /// Assignment id.
    pub id: Uuid,
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// Agency code.
    pub agency_code: Option<String>,
    /// Agency name.
    pub agency_name: Option<String>,
    /// Field name (field catalogue).
    pub field_name: Option<String>,
    /// Procedure.
    pub procedure: String,
    /// Status.
    pub status: AssignmentStatus,
    /// Surveyor.
    pub surveyor_id: Option<Uuid>,
    /// Surveyor's display name.
    pub surveyor_name: Option<String>,
    /// `sample`, `replacement` or `walk_in`.
    pub origin: String,
}

/// A page of assignments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssignmentPage {
    /// How many match (all pages).
    pub total: usize,
    /// This page.
    pub items: Vec<AssignmentItem>,
}

async fn user_names(state: &AppState) -> ApiResult<BTreeMap<Uuid, UserInfo>> {
    Ok(state
        .store
        .users(None)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect())
}

/// `GET /api/v1/rounds/{id}/assignments?unit=&agency=&surveyor=&status=&unassigned=true&limit=&offset=`
/// (assignments.manage): the round's assignments in the caller's scope with names, no
/// contacts, by id.
pub async fn list_assignments(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<AssignmentsQuery>,
) -> ApiResult<Json<AssignmentPage>> {
    require_cap(&caller.user, Capability::AssignmentsManage)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_input(
            "limit must be between 1 and 1000.",
            "Tham số limit phải từ 1 đến 1000.",
        )
        .with_details(serde_json::json!({ "field": "limit" })));
    }
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let on = round_day(&round);
    let names = user_names(&state).await?;
    let agency_names = scope::agency_names(&state).await?;
    // The round's rows pass by once: every match is counted, only the page's are kept.
    let (skip, mut total) = (q.offset.unwrap_or(0), 0usize);
    let mut page: Vec<AssignmentRow> = Vec::new();
    each_assignment_row(&*state.store, &round_id, |r| {
        if mine.row_matches(&r, on, q.unit.as_deref(), q.agency.as_deref())
            && q.surveyor.is_none_or(|s| r.surveyor_id == Some(s))
            && q.status.is_none_or(|s| r.status == s)
            && (!q.unassigned.unwrap_or(false) || r.surveyor_id.is_none())
        {
            if total >= skip && page.len() < limit {
                page.push(r);
            }
            total += 1;
        }
    })
    .await?;
    let items = page
        .into_iter()
        .map(|r| AssignmentItem {
            unit_name: r
                .unit_name
                .clone()
                .unwrap_or_else(|| scope::unit_name(&mine.tree, &r.unit_code, on)),
            agency_name: r.agency.clone().or_else(|| {
                r.agency_code
                    .as_deref()
                    .map(|c| scope::agency_name(&agency_names, c))
            }),
            surveyor_name: r
                .surveyor_id
                .and_then(|s| names.get(&s))
                .map(|u| u.display_name.clone()),
            id: r.id,
            unit_code: r.unit_code,
            agency_code: r.agency_code,
            field_name: r.field_name,
            procedure: r.procedure,
            status: r.status,
            surveyor_id: r.surveyor_id,
            origin: r.origin,
        })
        .collect();
    Ok(Json(AssignmentPage { total, items }))
}

/// Query of `GET /rounds/{id}/progress`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProgressQuery {
    /// `surveyor` (default), `unit` or `agency`.
    #[serde(default)]
    pub by: Option<String>,
    /// Only this unit (and below).
    #[serde(default)]
    pub unit: Option<String>,
    /// Only this agency code.
    #[serde(default)]
    pub agency: Option<String>,
}

/// Counts of one progress row (or the total).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Sampled assignments.
    pub sampled: u64,
    /// Of those: visited (any status but `not_visited`).
    pub visited: u64,
    /// Of those: completed (`collected`).
    pub completed: u64,
    /// Refused.
    pub refused: u64,
    /// Absent.
    pub absent: u64,
    /// Moved away.
    pub moved: u64,
    /// `completed / sampled` (0 when nothing is sampled).
    pub response_rate: f64,
    /// Target sample size (agencies with a target; the sum of targets for the total).
    pub target: Option<u32>,
    /// Sampled assignments given to a surveyor.
    pub assigned: u64,
    /// Same as `completed` (kept for earlier clients).
    pub collected: u64,
    /// Absent, refused, moved or invalid.
    pub non_response: u64,
    /// Completed interviews of every origin.
    pub synced: u64,
    /// Of `synced`: replacements.
    pub replacement: u64,
    /// Of `synced`: walk-ins.
    pub walk_in: u64,
}

impl Counts {
    fn add(&mut self, r: &AssignmentRow) {
        let collected = r.status == AssignmentStatus::Collected;
        if collected {
            self.synced += 1;
            match r.origin.as_str() {
                "replacement" => self.replacement += 1,
                "walk_in" => self.walk_in += 1,
                _ => {}
            }
        }
        if r.origin != "sample" {
            return;
        }
        self.sampled += 1;
        if r.surveyor_id.is_some() {
            self.assigned += 1;
        }
        if r.status != AssignmentStatus::NotVisited {
            self.visited += 1;
        }
        match r.status {
            AssignmentStatus::Collected => {
                self.completed += 1;
                self.collected += 1;
            }
            AssignmentStatus::Refused => self.refused += 1,
            AssignmentStatus::Absent => self.absent += 1,
            AssignmentStatus::Moved => self.moved += 1,
            _ => {}
        }
        if matches!(
            r.status,
            AssignmentStatus::Absent
                | AssignmentStatus::Refused
                | AssignmentStatus::Moved
                | AssignmentStatus::Invalid
        ) {
            self.non_response += 1;
        }
    }

    fn finish(&mut self) {
        self.response_rate = if self.sampled == 0 {
            0.0
        } else {
            ((self.completed as f64 / self.sampled as f64) * 10_000.0).round() / 10_000.0
        };
    }
}

/// One row of a progress report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressRow {
    /// Grouping key: surveyor id, unit code or agency code (`""`: none).
    pub key: String,
    /// Name shown.
    pub name: String,
    /// Code (unit / agency code; the username for surveyors).
    pub code: Option<String>,
    /// Counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// Answer of `GET /rounds/{id}/progress`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProgressReport {
    /// Round.
    pub round_id: String,
    /// How rows are grouped.
    pub by: String,
    /// Sum over the rows.
    pub total: Counts,
    /// Rows, by name.
    pub rows: Vec<ProgressRow>,
}

/// `GET /api/v1/rounds/{id}/progress?by=surveyor|unit|agency&unit=&agency=` (progress.read):
/// counts of the round's assignments in the caller's scope, grouped per surveyor (default),
/// unit or agency, with names and, per agency, the target.
pub async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<ProgressQuery>,
) -> ApiResult<Json<ProgressReport>> {
    require_cap(&caller.user, Capability::ProgressRead)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let by = q.by.clone().unwrap_or_else(|| "surveyor".to_owned());
    if !matches!(by.as_str(), "surveyor" | "unit" | "agency") {
        return Err(ApiError::invalid_input(
            "by must be surveyor, unit or agency.",
            "Tham số by phải là surveyor, unit hoặc agency.",
        )
        .with_details(serde_json::json!({ "field": "by" })));
    }
    let mine = scope::of(&state, &caller).await?;
    let (round, plan) = visible_round(&state, &mine, &round_id).await?;
    let on = round_day(&round);
    let names = user_names(&state).await?;
    let agency_names = scope::agency_names(&state).await?;
    let mut groups: BTreeMap<String, (String, Option<String>, Counts)> = BTreeMap::new();
    let mut total = Counts::default();
    // The round's rows pass by once, folded into the groups.
    each_assignment_row(&*state.store, &round_id, |row| {
        let r = &row;
        if !mine.row_matches(r, on, q.unit.as_deref(), q.agency.as_deref()) {
            return;
        }
        total.add(r);
        let (key, name, code) = match by.as_str() {
            "surveyor" => match r.surveyor_id {
                // Unassigned sampled rows have no surveyor row (as before).
                None => return,
                Some(s) => {
                    let user = names.get(&s);
                    (
                        s.to_string(),
                        user.map_or_else(|| s.to_string(), |u| u.display_name.clone()),
                        user.map(|u| u.username.clone()),
                    )
                }
            },
            "unit" => (
                r.unit_code.clone(),
                r.unit_name
                    .clone()
                    .unwrap_or_else(|| scope::unit_name(&mine.tree, &r.unit_code, on)),
                Some(r.unit_code.clone()),
            ),
            _ => {
                let code = r.agency_code.clone().unwrap_or_default();
                let name = r
                    .agency
                    .clone()
                    .unwrap_or_else(|| scope::agency_name(&agency_names, &code));
                (code.clone(), name, (!code.is_empty()).then_some(code))
            }
        };
        groups
            .entry(key)
            .or_insert_with(|| (name, code, Counts::default()))
            .2
            .add(r);
    })
    .await?;
    if by == "agency" {
        for (code, target) in &plan.targets {
            if mine.agency(Some(code)) {
                groups
                    .entry(code.clone())
                    .or_insert_with(|| {
                        (
                            scope::agency_name(&agency_names, code),
                            Some(code.clone()),
                            Counts::default(),
                        )
                    })
                    .2
                    .target = Some(*target);
            }
        }
        let sum: u32 = groups.values().filter_map(|g| g.2.target).sum();
        total.target = (!plan.targets.is_empty()).then_some(sum);
    }
    total.finish();
    let mut out: Vec<ProgressRow> = groups
        .into_iter()
        .map(|(key, (name, code, mut counts))| {
            counts.finish();
            ProgressRow {
                key,
                name,
                code,
                counts,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.key.cmp(&b.key)));
    Ok(Json(ProgressReport {
        round_id,
        by,
        total,
        rows: out,
    }))
}
