//! Phúc tra (re-check visits by Fatherland Front / Veterans' monitors):
//!
//! * `POST /rounds/{id}/spot-checks` (supervisor): a seeded, flag-weighted draw of collected
//!   responses ([`sipas_core::spot_check`]) becomes tasks, at most one per response;
//! * `GET /rounds/{id}/spot-checks` (supervisor): the round's tasks;
//! * `POST /spot-checks/{task_id}/assign` (supervisor): gives a task to a monitor;
//! * `GET /monitor/tasks` (monitor): its own tasks, with the key items and whom to visit;
//! * `POST /monitor/tasks/{task_id}/result` (monitor, own task): the findings, compared with
//!   the response ([`sipas_core::recheck::compare`]); final once stored (`409.1` after);
//! * `GET /rounds/{id}/discrepancies` (supervisor, admin): discrepancy rate per surveyor.
//!
//! Nobody can change or delete findings: there is no endpoint for it, and database triggers
//! refuse UPDATE and DELETE on the findings table.
use crate::app::AppState;
use crate::auth::{Caller, out_of_scope, require_cap};
use crate::extract::{ApiPath, ApiQuery, MAX_JSON_BYTES, parse_json, read_body, read_json};
use crate::handlers::review::{display_names, flags_of};
use crate::handlers::rounds::{existing_round, visible_round};
use crate::review_queue::QueueReader;
use crate::scope;
use crate::storage::ReviewState;

/// The caller's filter for the visible round `round_id` (`404.1` outside the scope).
async fn round_filter(
    state: &AppState,
    caller: &Caller,
    round_id: &str,
) -> ApiResult<scope::RoundFilter> {
    let mine = scope::of(state, caller).await?;
    let (round, _) = visible_round(state, &mine, round_id).await?;
    scope::RoundFilter::new(state, &mine, round_id, round.starts_on).await
}
use crate::problem::{ApiError, ApiResult};
use crate::storage::{FindingOutcome, NewFinding, NewSpotCheckTask, SpotCheckTask};
use crate::validation::answer_problem;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sipas_core::answer_validation::{normalize_value, validate_answer};
use sipas_core::quality::QualityFlag;
use sipas_core::questionnaire::Questionnaire;
use sipas_core::recheck::{
    DiscrepancyConfig, ReCheck, ReCheckConfig, ReCheckResult, SurveyorDiscrepancy, compare,
    default_key_items, discrepancy_by_surveyor, relevant_key_items,
};
use sipas_core::response::{Response, new_id};
use sipas_core::spot_check::{Candidate, SpotCheckConfig, select_for_spot_check};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::{KeyItem, MonitorTask, Round, SpotCheckFindings, TaskState};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Longest monitor note, characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Largest `min_per_surveyor` accepted.
pub const MAX_MIN_PER_SURVEYOR: usize = 1000;

/// `POST /api/v1/rounds/{id}/spot-checks` body; every field is optional (an empty body is
/// the defaults).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawRequest {
    /// Share (0–1) of each surveyor's responses to re-check (default 0.1).
    #[serde(default)]
    pub rate: Option<f64>,
    /// At least this many per surveyor (default 1).
    #[serde(default)]
    pub min_per_surveyor: Option<usize>,
    /// How much likelier a flagged response is drawn (default 3.0).
    #[serde(default)]
    pub flag_weight: Option<f64>,
    /// Seed of the draw (default: [`default_seed`] of the round id).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// A spot-check task as the supervisor sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskView {
    /// Task id.
    pub task_id: Uuid,
    /// Response drawn.
    pub response_id: Uuid,
    /// Its revision when drawn.
    pub revision: u32,
    /// Surveyor who collected it.
    pub surveyor_id: Uuid,
    /// Monitor to visit (`null`: not assigned yet).
    pub monitor_id: Option<Uuid>,
    /// `open` or `done`.
    pub state: TaskState,
    /// Whether the response had quality flags when drawn.
    pub flagged: bool,
    /// Those flags.
    pub quality_flags: Vec<QualityFlag>,
    /// Administrative unit code.
    pub unit_code: String,
    /// Agreement rate of the findings (`null` while open or when nothing could be judged).
    pub agreement_rate: Option<f64>,
}

impl From<&SpotCheckTask> for TaskView {
    fn from(t: &SpotCheckTask) -> Self {
        TaskView {
            task_id: t.task.id,
            response_id: t.task.response_id,
            revision: t.task.revision,
            surveyor_id: t.task.surveyor_id,
            monitor_id: t.monitor_id,
            state: state_of(t),
            flagged: t.task.flagged,
            quality_flags: t.task.quality_flags.clone(),
            unit_code: t.task.unit_code.clone(),
            agreement_rate: t.result.as_ref().and_then(|r| r.agreement_rate),
        }
    }
}

fn state_of(t: &SpotCheckTask) -> TaskState {
    if t.result.is_some() {
        TaskState::Done
    } else {
        TaskState::Open
    }
}

/// Answer of a draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawResult {
    /// Tasks created by this call (0 when repeated with the same data and seed).
    pub created: u64,
    /// Tasks of the round now.
    pub total: usize,
    /// The seed used (publish it so monitors can re-run the draw).
    pub seed: u64,
    /// Every task of the round.
    pub tasks: Vec<TaskView>,
}

/// The default seed of a round's draw: the first 8 bytes of SHA-256 of
/// `"sipas-spot-check:" + round id`, big-endian, kept to 53 bits so that JavaScript numbers
/// hold it exactly.
pub fn default_seed(round_id: &str) -> u64 {
    let digest = Sha256::digest(format!("sipas-spot-check:{round_id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) & ((1u64 << 53) - 1)
}

fn field_error(field: &str, en: impl Into<String>, vi: impl Into<String>) -> ApiError {
    ApiError::invalid_input(en, vi).with_details(serde_json::json!({ "field": field }))
}

fn round_form(state: &AppState, round: &Round) -> ApiResult<std::sync::Arc<Questionnaire>> {
    state.forms.get(&round.form).ok_or_else(|| {
        ApiError::new(
            ProblemCode::UnknownForm,
            format!("Unknown questionnaire {}.", round.form),
            format!("Không có bảng hỏi {}.", round.form),
        )
    })
}

/// `POST /api/v1/rounds/{id}/spot-checks` (supervisor): draws responses for re-check visits
/// and creates a task for each drawn response that has none yet.
///
/// Candidates are the latest revision of every response of the round whose latest decision
/// is not `rejected`, each flagged when [`sipas_core::quality::quality_flags`] finds
/// something. The draw is [`select_for_spot_check`]: per surveyor `max(min_per_surveyor,
/// ceil(rate × count))`, flagged responses `flag_weight` times as likely. Repeating the call
/// with the same data and seed creates nothing new.
pub async fn draw(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<DrawResult>)> {
    require_cap(&caller.user, Capability::SpotChecksManage)?;
    let round_id = path.get()?;
    let bytes = read_body(&headers, body, MAX_JSON_BYTES).await?;
    let req: DrawRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        DrawRequest::default()
    } else {
        parse_json(&bytes)?
    };
    let min_per_surveyor = req.min_per_surveyor.unwrap_or(1);
    if min_per_surveyor > MAX_MIN_PER_SURVEYOR {
        return Err(field_error(
            "min_per_surveyor",
            format!("min_per_surveyor must be at most {MAX_MIN_PER_SURVEYOR}."),
            format!("Số phiếu tối thiểu mỗi điều tra viên không quá {MAX_MIN_PER_SURVEYOR}."),
        ));
    }
    let config = SpotCheckConfig {
        rate: req.rate.unwrap_or(0.10),
        min_per_surveyor,
        flag_weight: req.flag_weight.unwrap_or(3.0),
        seed: req.seed.unwrap_or_else(|| default_seed(&round_id)),
    };
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let filter = scope::RoundFilter::new(&state, &mine, &round_id, round.starts_on).await?;
    // The queue is filtered by codes (the store reads no body outside the scope).
    let queue_filter = scope::RoundFilter::for_codes(&mine, round.starts_on);
    let form = round_form(&state, &round)?;
    let key_items = default_key_items(&form);

    // Only responses in the caller's scope are drawn from. The queue is read twice, a page at
    // a time: once for the candidates (id, surveyor, flagged), once for the drawn ones.
    let drawable = || {
        QueueReader::new(
            &state,
            &round_id,
            queue_filter.clone(),
            ReviewState::NotRejected,
            None,
        )
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut reader = drawable();
    while let Some(page) = reader.next_page().await? {
        candidates.extend(page.iter().map(|i| Candidate {
            response_id: i.response.id,
            surveyor_id: i.surveyor_id,
            flagged: !flags_of(&state, &i.response).is_empty(),
        }));
    }
    let selected = select_for_spot_check(&candidates, &config).map_err(|e| {
        let field = match e {
            sipas_core::spot_check::SpotCheckError::InvalidRate(_) => "rate",
            sipas_core::spot_check::SpotCheckError::InvalidFlagWeight(_) => "flag_weight",
            sipas_core::spot_check::SpotCheckError::DuplicateResponse(_) => "round",
        };
        field_error(
            field,
            format!("{e}."),
            "Tham số chọn mẫu phúc tra không hợp lệ (tỷ lệ 0–1, trọng số > 0).",
        )
    })?;
    // A drawn response revised between the two reads gets a task on its new revision; one
    // rejected in between gets none.
    let mut tasks: Vec<NewSpotCheckTask> = Vec::with_capacity(selected.len());
    let mut reader = drawable();
    while let Some(page) = reader.next_page().await? {
        for i in page {
            if selected.binary_search(&i.response.id).is_err() {
                continue;
            }
            let quality_flags = flags_of(&state, &i.response);
            tasks.push(NewSpotCheckTask {
                id: new_id(),
                round_id: round_id.clone(),
                response_id: i.response.id,
                revision: i.response.revision,
                surveyor_id: i.surveyor_id,
                assignment_id: i.response.assignment_id,
                unit_code: i.response.unit_code,
                flagged: !quality_flags.is_empty(),
                quality_flags,
                key_items: key_items.clone(),
                seed: config.seed,
            });
        }
    }
    let created = state
        .store
        .create_spot_check_tasks(&tasks, caller.user.id)
        .await?;
    let all: Vec<_> = state
        .store
        .spot_check_tasks(&round_id)
        .await?
        .into_iter()
        .filter(|t| filter.admits(&t.task.unit_code, t.task.assignment_id))
        .collect();
    tracing::info!(
        actor = %caller.user.id,
        round_id = %round_id,
        candidates = candidates.len(),
        selected = selected.len(),
        created,
        seed = config.seed,
        "spot-check draw"
    );
    Ok((
        StatusCode::CREATED,
        Json(DrawResult {
            created,
            total: all.len(),
            seed: config.seed,
            tasks: all.iter().map(TaskView::from).collect(),
        }),
    ))
}

/// `GET /api/v1/rounds/{id}/spot-checks` (supervisor): the round's tasks, by task id.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Json<Vec<TaskView>>> {
    require_cap(&caller.user, Capability::SpotChecksManage)?;
    let round_id = path.get()?;
    let filter = round_filter(&state, &caller, &round_id).await?;
    let tasks = state.store.spot_check_tasks(&round_id).await?;
    Ok(Json(
        tasks
            .iter()
            .filter(|t| filter.admits(&t.task.unit_code, t.task.assignment_id))
            .map(TaskView::from)
            .collect(),
    ))
}

/// `POST /api/v1/spot-checks/{task_id}/assign` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignMonitorRequest {
    /// The monitor who visits.
    pub monitor_id: Uuid,
}

fn findings_final() -> ApiError {
    ApiError::new(
        ProblemCode::Conflict,
        "The findings of this task are final: they were already submitted and cannot change.",
        "Kết quả phúc tra đã được gửi và là kết quả cuối cùng, không thể thay đổi.",
    )
}

/// `POST /api/v1/spot-checks/{task_id}/assign` (supervisor): gives a task to a monitor (or
/// another monitor). `400.3` if the user is not a monitor; `409.1` once findings exist.
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<TaskView>> {
    require_cap(&caller.user, Capability::SpotChecksManage)?;
    let task_id = path.get()?;
    let req: AssignMonitorRequest = read_json(&headers, body).await?;
    let task = state
        .store
        .spot_check_task(task_id)
        .await?
        .ok_or_else(|| ApiError::not_found("spot-check task", &task_id.to_string()))?;
    let mine = scope::of(&state, &caller).await?;
    let round = existing_round(&state, &task.task.round_id).await?;
    let plan = state.store.round_plan(&round.id).await?;
    let filter = scope::RoundFilter::new(&state, &mine, &round.id, round.starts_on).await?;
    if !mine.round(&plan.units, round.starts_on)
        || !filter.admits(&task.task.unit_code, task.task.assignment_id)
    {
        return Err(scope::hidden("spot-check task", &task_id.to_string()));
    }
    let monitor = state
        .store
        .user_by_id(req.monitor_id)
        .await?
        .ok_or_else(|| ApiError::not_found("user", &req.monitor_id.to_string()))?;
    if monitor.role != Role::Monitor {
        return Err(field_error(
            "monitor_id",
            "Spot-check tasks go to monitors only.",
            "Chỉ giao nhiệm vụ phúc tra cho phúc tra viên (MTTQ / Hội CCB).",
        ));
    }
    let monitor_scope = state.store.user_scope(monitor.id).await?;
    if !mine.contains(&monitor_scope, scope::today(&state)) {
        return Err(scope::refused("This monitor", "Phúc tra viên này")
            .with_details(serde_json::json!({ "field": "monitor_id" })));
    }
    if !state
        .store
        .assign_spot_check(task_id, monitor.id, caller.user.id)
        .await?
    {
        return Err(findings_final());
    }
    tracing::info!(actor = %caller.user.id, task_id = %task_id, monitor = %monitor.id, "spot-check assigned");
    let task = state
        .store
        .spot_check_task(task_id)
        .await?
        .ok_or_else(|| ApiError::not_found("spot-check task", &task_id.to_string()))?;
    Ok(Json(TaskView::from(&task)))
}

/// The key items of a task, rendered from the form (codes the form lacks are left out).
fn key_items(form: Option<&Questionnaire>, codes: &[String]) -> Vec<KeyItem> {
    let Some(form) = form else {
        return Vec::new();
    };
    codes
        .iter()
        .filter_map(|code| form.item(code))
        .map(|item| KeyItem {
            code: item.code.clone(),
            label_vi: item.label.vi.clone(),
            item_type: item.item_type,
            options: item.options.clone(),
            scale: item
                .scale
                .as_ref()
                .and_then(|s| form.scales.get(s))
                .cloned(),
            min: item.min,
            max: item.max,
            max_length: item.max_length,
        })
        .collect()
}

/// The task's original response, its form and the key items to re-ask: the drawn key items
/// that were relevant to the respondent ([`relevant_key_items`] on the original answers).
/// One rule for the task list sent to the device and for checking the findings.
async fn task_original(
    state: &AppState,
    task: &SpotCheckTask,
) -> ApiResult<(Response, std::sync::Arc<Questionnaire>, Vec<String>)> {
    let (original, _) = state
        .store
        .response(task.task.response_id, task.task.revision)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "response",
                &format!("{}/{}", task.task.response_id, task.task.revision),
            )
        })?;
    let form = state.forms.get(&original.form).ok_or_else(|| {
        ApiError::new(
            ProblemCode::UnknownForm,
            format!("Unknown questionnaire {}.", original.form),
            format!("Không có bảng hỏi {}.", original.form),
        )
    })?;
    let codes = relevant_key_items(&form, &original.answers, &task.task.key_items);
    Ok((original, form, codes))
}

/// Whether a monitor may read response `id`/`revision` (`GET /responses/{id}/{revision}`):
/// only the response of one of its own tasks, and only once that task's findings are final
/// (the re-check is blind: the monitor never sees the original answers before the visit).
/// `403.2` otherwise.
pub async fn monitor_may_read_response(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    revision: u32,
) -> ApiResult<()> {
    let task = state.store.spot_check_task_for_response(id).await?;
    let Some(task) =
        task.filter(|t| t.monitor_id == Some(caller.user.id) && t.task.revision == revision)
    else {
        return Err(out_of_scope(
            "This response is not part of one of your spot-check tasks.",
            "Phiếu này không thuộc nhiệm vụ phúc tra của bạn.",
        ));
    };
    if task.result.is_none() {
        return Err(out_of_scope(
            "The original answers are shown only once the findings of this spot check are final.",
            "Chỉ xem được câu trả lời gốc sau khi đã gửi kết quả phúc tra.",
        ));
    }
    Ok(())
}

/// `GET /api/v1/monitor/tasks` (monitor): the caller's own tasks, by task id, with the key
/// items to re-ask (only those that were relevant to the respondent; never the original
/// answers) and, while a task is open, the respondent's contact. Names of the round and unit
/// are included for display.
pub async fn monitor_tasks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<MonitorTask>>> {
    require_cap(&caller.user, Capability::SpotChecksDo)?;
    let rows = state.store.monitor_tasks(caller.user.id).await?;
    let tree = state.store.unit_tree().await?;
    let on = scope::today(&state);
    let mut round_names: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut tasks = Vec::with_capacity(rows.len());
    for row in rows {
        let form = state.forms.get(&row.form);
        let task_state = state_of(&row.task);
        let codes = match task_original(&state, &row.task).await {
            Ok((_, _, codes)) => codes,
            Err(_) => row.task.task.key_items.clone(),
        };
        let round_id = row.task.task.round_id.clone();
        if !round_names.contains_key(&round_id) {
            let name = state.store.round(&round_id).await?.map(|r| r.name);
            round_names.insert(round_id.clone(), name);
        }
        tasks.push(MonitorTask {
            task_id: row.task.task.id,
            response_id: row.task.task.response_id,
            round_name: round_names.get(&round_id).cloned().flatten(),
            unit_name: Some(scope::unit_name(&tree, &row.task.task.unit_code, on)),
            round_id,
            unit_code: row.task.task.unit_code.clone(),
            procedure: row.procedure,
            key_items: key_items(form.as_deref(), &codes),
            // The contact is needed for the visit only.
            contact: match task_state {
                TaskState::Open => row.contact,
                TaskState::Done => None,
            },
            state: task_state,
        });
    }
    Ok(Json(tasks))
}

/// Answer of a findings submission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingsReceipt {
    /// Task.
    pub task_id: Uuid,
    /// Always `done`.
    pub state: TaskState,
    /// The comparison with the original response.
    pub result: ReCheckResult,
}

/// `POST /api/v1/monitor/tasks/{task_id}/result` (monitor, own task only: else `403.2`):
/// stores the findings and their comparison with the response. Answers may name the task's
/// key items that were relevant to the respondent only and must be valid for the form
/// (`400.3`). Findings are final: sending the same findings again (an offline device that
/// did not get the first answer) is `200` with the same receipt; different findings are
/// `409.1`.
pub async fn submit_result(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<FindingsReceipt>)> {
    require_cap(&caller.user, Capability::SpotChecksDo)?;
    let task_id = path.get()?;
    let task = state
        .store
        .spot_check_task(task_id)
        .await?
        .ok_or_else(|| ApiError::not_found("spot-check task", &task_id.to_string()))?;
    if task.monitor_id != Some(caller.user.id) {
        return Err(out_of_scope(
            "This spot-check task is not assigned to you.",
            "Nhiệm vụ phúc tra này không được giao cho bạn.",
        ));
    }
    let req: SpotCheckFindings = read_json(&headers, body).await?;
    let (original, form, codes) = task_original(&state, &task).await?;
    let mut answers = req.answers;
    for (code, value) in answers.iter_mut() {
        if !codes.contains(code) {
            return Err(ApiError::invalid_input(
                format!("{code} is not a key item of this task."),
                format!("{code} không phải câu hỏi cần hỏi lại của nhiệm vụ này."),
            )
            .with_details(serde_json::json!({ "field": "answers", "item_code": code })));
        }
        normalize_value(value);
        if let Err(issue) = validate_answer(&form, code, value) {
            let problem = answer_problem(&issue);
            return Err(ApiError::invalid_input(
                format!("Invalid answer to {code}: {}", problem.message),
                problem.message_vi.clone(),
            )
            .with_details(serde_json::json!({ "field": "answers", "issues": [problem] })));
        }
    }
    let note = match req.note.as_deref().map(|n| nfc(n.trim())) {
        Some(n) if n.chars().count() > MAX_NOTE_CHARS => {
            return Err(field_error(
                "note",
                format!("note is longer than {MAX_NOTE_CHARS} characters."),
                format!("Ghi chú dài quá {MAX_NOTE_CHARS} ký tự."),
            ));
        }
        Some(n) if !n.is_empty() => Some(n),
        _ => None,
    };
    let recheck = ReCheck {
        response_id: original.id,
        visit_happened: req.visit_happened,
        answers,
    };
    let result = compare(
        &form,
        &original.answers,
        &recheck,
        &codes,
        &ReCheckConfig::default(),
    );
    let receipt = |status| {
        (
            status,
            Json(FindingsReceipt {
                task_id,
                state: TaskState::Done,
                result: result.clone(),
            }),
        )
    };
    // Final already: the same findings sent again (a device that did not get the answer)
    // get the same receipt; different findings are refused.
    if let Some(stored) = &task.result {
        return if *stored == result {
            Ok(receipt(StatusCode::OK))
        } else {
            Err(findings_final())
        };
    }
    let finding = NewFinding {
        task_id,
        monitor_id: caller.user.id,
        visit_happened: recheck.visit_happened,
        answers: recheck.answers,
        note,
        result: result.clone(),
        submitted_at: state.clock.now(),
    };
    match state.store.record_finding(&finding).await? {
        FindingOutcome::Recorded => {}
        FindingOutcome::AlreadyFinal => {
            // Sent twice at the same time: the same findings get the same receipt.
            let stored = state.store.spot_check_task(task_id).await?;
            return match stored.and_then(|t| t.result) {
                Some(stored) if stored == result => Ok(receipt(StatusCode::OK)),
                _ => Err(findings_final()),
            };
        }
        FindingOutcome::NotAssigned => {
            return Err(out_of_scope(
                "This spot-check task is not assigned to you.",
                "Nhiệm vụ phúc tra này không được giao cho bạn.",
            ));
        }
    }
    tracing::info!(actor = %caller.user.id, task_id = %task_id, visit = finding.visit_happened, "spot-check findings");
    Ok(receipt(StatusCode::CREATED))
}

/// Query of `GET /rounds/{id}/discrepancies`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct DiscrepancyQuery {
    /// A surveyor is flagged when their discrepancy rate is above this (0–1, default 0.2).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// A visited check is discrepant when its agreement rate is below this (0–1, default 1.0:
    /// any disagreeing item).
    #[serde(default)]
    pub agreement_floor: Option<f64>,
}

/// One surveyor's re-check outcome with their name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiscrepancyRow {
    /// The summary of [`discrepancy_by_surveyor`].
    #[serde(flatten)]
    pub summary: SurveyorDiscrepancy,
    /// The surveyor's display name (`null` if the user is gone).
    pub surveyor_name: Option<String>,
}

/// `GET /api/v1/rounds/{id}/discrepancies?threshold=0.2` (supervisor, admin): per surveyor
/// with submitted findings, checks, discrepant checks and rate, flagged above the threshold;
/// highest rate first.
pub async fn discrepancies(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<DiscrepancyQuery>,
) -> ApiResult<Json<Vec<DiscrepancyRow>>> {
    require_cap(&caller.user, Capability::SpotChecksManage)?;
    let round_id = path.get()?;
    let q = query.get()?;
    let defaults = DiscrepancyConfig::default();
    let config = DiscrepancyConfig {
        threshold: q.threshold.unwrap_or(defaults.threshold),
        agreement_floor: q.agreement_floor.unwrap_or(defaults.agreement_floor),
    };
    for (field, v) in [
        ("threshold", config.threshold),
        ("agreement_floor", config.agreement_floor),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(field_error(
                field,
                format!("{field} must be between 0 and 1."),
                "Ngưỡng phải nằm trong khoảng 0–1.",
            ));
        }
    }
    let filter = round_filter(&state, &caller, &round_id).await?;
    let results: Vec<(Uuid, ReCheckResult)> = state
        .store
        .spot_check_tasks(&round_id)
        .await?
        .into_iter()
        .filter(|t| filter.admits(&t.task.unit_code, t.task.assignment_id))
        .filter_map(|t| t.result.map(|r| (t.task.surveyor_id, r)))
        .collect();
    let summary = discrepancy_by_surveyor(&results, &config);
    let names = display_names(&state, summary.iter().map(|s| s.surveyor_id)).await?;
    Ok(Json(
        summary
            .into_iter()
            .map(|s| DiscrepancyRow {
                surveyor_name: names.get(&s.surveyor_id).cloned(),
                summary: s,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_is_stable_and_javascript_safe() {
        let a = default_seed("2026-HN-1");
        assert_eq!(a, default_seed("2026-HN-1"));
        assert_ne!(a, default_seed("2026-HN-2"));
        assert!(a < (1u64 << 53));
    }
}
