//! Supervisor review: `GET /review/queue`, `GET /responses/{id}/{revision}` and
//! `POST /responses/{id}/{revision}/decision`.
use crate::app::AppState;
use crate::auth::{Caller, require_any, require_cap};
use crate::extract::{ApiPath, ApiQuery, read_json};
use crate::handlers::rounds::visible_round;
use crate::problem::{ApiError, ApiResult};
use crate::review_queue::QueueReader;
use crate::scope;
use crate::storage::{DecisionRecord, ReviewItem, ReviewState};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_core::answer::AnswerValue;
use sipas_core::quality::{QualityConfig, QualityFlag, quality_flags};
use sipas_core::questionnaire::{ItemType, Questionnaire};
use sipas_core::relevance::relevant_items;
use sipas_core::response::Response;
use sipas_core::text::nfc;
use sipas_protocol::roles::{Capability, Role};
use sipas_protocol::wire::{Decision, ReviewDecision};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Longest comment, characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// `POST /api/v1/responses/{id}/{revision}/decision` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRequest {
    /// Approved or rejected.
    pub decision: Decision,
    /// General comment (required, or an item comment, when rejecting).
    #[serde(default)]
    pub comment: Option<String>,
    /// Per-question comments keyed by item code.
    #[serde(default)]
    pub item_comments: BTreeMap<String, String>,
}

fn clean(text: &str, field: &str) -> ApiResult<Option<String>> {
    let t = nfc(text.trim());
    if t.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::invalid_input(
            format!("{field} is longer than {MAX_COMMENT_CHARS} characters."),
            format!("Nhận xét dài quá {MAX_COMMENT_CHARS} ký tự."),
        )
        .with_details(serde_json::json!({ "field": field })));
    }
    Ok((!t.is_empty()).then_some(t))
}

/// `POST /api/v1/responses/{id}/{revision}/decision` (supervisor): approves or rejects one
/// response revision; the surveyor's device gets it on its next pull.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(Uuid, u32)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<ReviewDecision>)> {
    require_cap(&caller.user, Capability::Review)?;
    let (id, revision) = path.get()?;
    let req: DecisionRequest = read_json(&headers, body).await?;
    let (response, _) = state
        .store
        .response(id, revision)
        .await?
        .ok_or_else(|| ApiError::not_found("response", &format!("{id}/{revision}")))?;
    let mine = scope::of(&state, &caller).await?;
    if !scope::response_visible(&state, &mine, &response).await? {
        return Err(scope::hidden("response", &format!("{id}/{revision}")));
    }
    let form = state.forms.get(&response.form);
    let mut item_comments = BTreeMap::new();
    for (code, text) in &req.item_comments {
        if form.as_ref().is_some_and(|f| f.item(code).is_none()) {
            return Err(ApiError::invalid_input(
                format!("{code} is not a question of the form."),
                format!("{code} không phải câu hỏi của phiếu."),
            )
            .with_details(serde_json::json!({ "field": "item_comments", "item_code": code })));
        }
        if let Some(t) = clean(text, "item_comments")? {
            item_comments.insert(code.clone(), t);
        }
    }
    let comment = match &req.comment {
        Some(c) => clean(c, "comment")?,
        None => None,
    };
    if req.decision == Decision::Rejected && comment.is_none() && item_comments.is_empty() {
        return Err(ApiError::invalid_input(
            "Say why when rejecting: give a comment or item comments.",
            "Khi trả lại phiếu cần ghi lý do (nhận xét chung hoặc theo câu hỏi).",
        )
        .with_details(serde_json::json!({ "field": "comment" })));
    }
    let decision = ReviewDecision {
        response_id: id,
        revision,
        decision: req.decision,
        comment,
        item_comments,
        decided_at: state.clock.now(),
    };
    state
        .store
        .record_decision(&decision, caller.user.id)
        .await?;
    tracing::info!(actor = %caller.user.id, response_id = %id, revision, decision = ?req.decision, "review decision");
    Ok((StatusCode::CREATED, Json(decision)))
}

/// Query of `GET /api/v1/review/queue`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueueQuery {
    /// The round (required).
    #[serde(default)]
    pub round_id: Option<String>,
    /// `pending` (default), `approved`, `rejected` or `all`.
    #[serde(default)]
    pub state: Option<String>,
    /// At most this many items (1–1000; absent: the whole queue, streamed).
    #[serde(default)]
    pub limit: Option<String>,
    /// The last response id of the page before (absent: from the start).
    #[serde(default)]
    pub after: Option<String>,
}

/// One response in the review queue: its latest revision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    /// Response id.
    pub response_id: Uuid,
    /// Latest revision.
    pub revision: u32,
    /// Surveyor who submitted it.
    pub surveyor_id: Uuid,
    /// The surveyor's display name (`null` if the user is gone).
    pub surveyor_name: Option<String>,
    /// Administrative unit code.
    pub unit_code: String,
    /// When the surveyor completed it.
    pub completed_at: DateTime<Utc>,
    /// Data-quality flags (a prompt to look, not a verdict).
    pub quality_flags: Vec<QualityFlag>,
    /// Latest decision on this revision (`null`: pending).
    pub decision: Option<Decision>,
}

/// The flags of `response` under the default thresholds (none if its form is unknown).
pub fn flags_of(state: &AppState, response: &Response) -> Vec<QualityFlag> {
    state
        .forms
        .get(&response.form)
        .map(|form| quality_flags(&form, response, &QualityConfig::default()))
        .unwrap_or_default()
}

/// Display names of the given users (absent users are left out).
pub async fn display_names(
    state: &AppState,
    ids: impl IntoIterator<Item = Uuid>,
) -> ApiResult<HashMap<Uuid, String>> {
    let mut names = HashMap::new();
    for id in ids.into_iter().collect::<BTreeSet<_>>() {
        if let Some(u) = state.store.user_by_id(id).await? {
            names.insert(id, u.display_name);
        }
    }
    Ok(names)
}

/// Most items of one page of `GET /api/v1/review/queue` (`limit`).
pub const MAX_QUEUE_LIMIT: usize = 1000;
/// Items read and written at a time when the whole queue is streamed.
const STREAM_CHUNK: usize = 200;
/// Chunks of a streamed queue written ahead of the client.
const CHUNKS_AHEAD: usize = 4;

/// `GET /api/v1/review/queue?round_id=R&state=pending|approved|rejected|all[&limit=N][&after=ID]`
/// (supervisor): the latest revision of each response of the round with its quality flags
/// and decision, oldest response id first; `pending` (the default) lists those without a
/// decision on their latest revision. With `limit` (1–1000) one page of at most that many,
/// after response `after`; without it the whole queue, streamed a chunk at a time.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<QueueQuery>,
) -> ApiResult<axum::response::Response> {
    require_cap(&caller.user, Capability::Review)?;
    let q = query.get()?;
    let Some(round_id) = q.round_id else {
        return Err(ApiError::invalid_input(
            "round_id is required.",
            "Cần chọn đợt khảo sát (round_id).",
        )
        .with_details(serde_json::json!({ "field": "round_id" })));
    };
    let review = match q.state.as_deref() {
        None | Some("pending") => ReviewState::Pending,
        Some("approved") => ReviewState::Approved,
        Some("rejected") => ReviewState::Rejected,
        Some("all") => ReviewState::All,
        Some(_) => {
            return Err(ApiError::invalid_input(
                "state must be pending, approved, rejected or all.",
                "Trạng thái phải là pending, approved, rejected hoặc all.",
            )
            .with_details(serde_json::json!({ "field": "state" })));
        }
    };
    let limit = match q.limit.as_deref() {
        None => None,
        Some(text) => {
            match text.parse::<usize>() {
                Ok(n) if (1..=MAX_QUEUE_LIMIT).contains(&n) => Some(n),
                _ => {
                    return Err(ApiError::invalid_input(
                    format!("limit must be a whole number from 1 to {MAX_QUEUE_LIMIT}."),
                    format!("Số phiếu mỗi trang (limit) phải là số nguyên từ 1 đến {MAX_QUEUE_LIMIT}."),
                )
                .with_details(serde_json::json!({ "field": "limit" })));
                }
            }
        }
    };
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(Uuid::parse_str(text).map_err(|_| {
            ApiError::invalid_input(
                "after must be a response id (a UUID) from the page before.",
                "Tham số after phải là mã phiếu (UUID) cuối của trang trước.",
            )
            .with_details(serde_json::json!({ "field": "after" }))
        })?),
    };
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    // The queue is filtered by codes: no assignment of the round is read for it, and the
    // store reads no body outside the scope.
    let filter = scope::RoundFilter::for_codes(&mine, round.starts_on);
    let mut reader = QueueReader::new(&state, &round_id, filter, review, after);
    let mut names = SurveyorNames::default();
    if let Some(limit) = limit {
        let items = reader.next(limit).await?;
        let page = names.queue_items(&state, items).await?;
        return Ok(Json(page).into_response());
    }
    // The whole queue: the first chunk is read before answering, so a failing store is
    // still an error status; the rest is written as it is read.
    let first = reader.next(STREAM_CHUNK).await?;
    let first = names.queue_items(&state, first).await?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS_AHEAD);
    tokio::spawn(async move {
        let mut chunk = json_items(b"[", &first);
        let mut any = !first.is_empty();
        loop {
            let items = match reader.next(STREAM_CHUNK).await {
                Ok(items) if items.is_empty() => break,
                Ok(items) => names.queue_items(&state, items).await,
                Err(e) => Err(e),
            };
            let items = match items {
                Ok(items) => items,
                Err(e) => {
                    // The status is sent: the client sees a cut body, never a short list.
                    tracing::warn!(round_id = %round_id, error = ?e, "review queue stream failed");
                    let _ = tx
                        .send(Err(std::io::Error::other("review queue read failed")))
                        .await;
                    return;
                }
            };
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return; // the client is gone
            }
            chunk = json_items(if any { b"," } else { b"" }, &items);
            any = true;
        }
        chunk.push(b']');
        let _ = tx.send(Ok(Bytes::from(chunk))).await;
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        crate::microdata_stream::channel_body(rx),
    )
        .into_response())
}

/// `items` as JSON array members after `lead` (`[`, `,` or nothing), comma-separated.
fn json_items(lead: &[u8], items: &[QueueItem]) -> Vec<u8> {
    let mut out = lead.to_vec();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // A QueueItem is plain data: serialising it into memory cannot fail.
        serde_json::to_writer(&mut out, item).expect("queue item serialises");
    }
    out
}

/// Surveyors' display names, looked up once per request.
#[derive(Default)]
struct SurveyorNames(HashMap<Uuid, Option<String>>);

impl SurveyorNames {
    /// `items` as the queue shows them: with flags and the surveyor's name.
    async fn queue_items(
        &mut self,
        state: &AppState,
        items: Vec<ReviewItem>,
    ) -> ApiResult<Vec<QueueItem>> {
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            let surveyor_name = match self.0.get(&i.surveyor_id) {
                Some(name) => name.clone(),
                None => {
                    let name = state
                        .store
                        .user_by_id(i.surveyor_id)
                        .await?
                        .map(|u| u.display_name);
                    self.0.insert(i.surveyor_id, name.clone());
                    name
                }
            };
            out.push(QueueItem {
                quality_flags: flags_of(state, &i.response),
                response_id: i.response.id,
                revision: i.response.revision,
                surveyor_id: i.surveyor_id,
                surveyor_name,
                unit_code: i.response.unit_code,
                completed_at: i.response.completed_at,
                decision: i.decision,
            });
        }
        Ok(out)
    }
}

/// One question of a response as shown to a reviewer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetailItem {
    /// Item code.
    pub code: String,
    /// Code of its group.
    pub group_code: String,
    /// Question text in Vietnamese.
    pub label_vi: String,
    /// The stored answer (`null`: not answered).
    pub answer: Option<AnswerValue>,
    /// The answer as Vietnamese text: option labels, "4 – Hài lòng" for ratings; empty when
    /// not answered.
    pub display_vi: String,
}

/// Answer of `GET /api/v1/responses/{id}/{revision}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseDetail {
    /// The response revision.
    pub response: Response,
    /// Surveyor who submitted it.
    pub surveyor_id: Uuid,
    /// Title of its questionnaire in Vietnamese.
    pub form_title: String,
    /// Every relevant or answered question, in form order.
    pub items: Vec<DetailItem>,
    /// Data-quality flags.
    pub quality_flags: Vec<QualityFlag>,
    /// Decisions on this revision, oldest first.
    pub decisions: Vec<DecisionRecord>,
}

/// The answer of `code` as Vietnamese text.
pub fn display_vi(form: &Questionnaire, code: &str, value: &AnswerValue) -> String {
    let Some(item) = form.item(code) else {
        return plain(value);
    };
    let option = |v: &str| {
        item.options
            .iter()
            .find(|o| o.value == v)
            .map_or_else(|| v.to_owned(), |o| o.label.vi.clone())
    };
    match (item.item_type, value) {
        (ItemType::Rating, AnswerValue::Int(v)) => {
            let scale = item.scale.as_ref().and_then(|s| form.scales.get(s));
            let point = scale.and_then(|s| {
                s.points
                    .iter()
                    .chain(s.no_answer.iter())
                    .find(|p| p.value == *v)
            });
            match point {
                Some(p) => format!("{v} – {}", p.label.vi),
                None => v.to_string(),
            }
        }
        (ItemType::SingleChoice, AnswerValue::Text(v)) => option(v),
        (ItemType::MultiChoice, AnswerValue::Codes(vs)) => {
            vs.iter().map(|v| option(v)).collect::<Vec<_>>().join("; ")
        }
        _ => plain(value),
    }
}

fn plain(value: &AnswerValue) -> String {
    match value {
        AnswerValue::Int(v) => v.to_string(),
        AnswerValue::Text(s) => s.clone(),
        AnswerValue::Codes(cs) => cs.join("; "),
    }
}

/// `GET /api/v1/responses/{id}/{revision}` (supervisor; a monitor only for the response of
/// one of its own spot-check tasks once its findings are final, else `403.2`): the revision with its questions labelled,
/// quality flags and review decisions.
pub async fn response_detail(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(Uuid, u32)>,
) -> ApiResult<Json<ResponseDetail>> {
    require_any(
        &caller.user,
        &[Capability::Review, Capability::SpotChecksDo],
    )?;
    let (id, revision) = path.get()?;
    if caller.user.role == Role::Monitor {
        crate::handlers::spot_checks::monitor_may_read_response(&state, &caller, id, revision)
            .await?;
    }
    let (response, surveyor_id) = state
        .store
        .response(id, revision)
        .await?
        .ok_or_else(|| ApiError::not_found("response", &format!("{id}/{revision}")))?;
    if caller.user.role != Role::Monitor {
        let mine = scope::of(&state, &caller).await?;
        if !scope::response_visible(&state, &mine, &response).await? {
            return Err(scope::hidden("response", &format!("{id}/{revision}")));
        }
    }
    let decisions = state.store.decisions_for(id, revision).await?;
    let form = state.forms.get(&response.form);
    let (form_title, items) = match &form {
        Some(form) => {
            let relevant: BTreeSet<&str> = relevant_items(form, &response.answers)
                .into_iter()
                .map(|(_, i)| i.code.as_str())
                .collect();
            let items = form
                .items()
                .filter(|(_, i)| {
                    relevant.contains(i.code.as_str()) || response.answers.contains_key(&i.code)
                })
                .map(|(g, i)| {
                    let answer = response.answers.get(&i.code).cloned();
                    DetailItem {
                        display_vi: answer
                            .as_ref()
                            .map(|a| display_vi(form, &i.code, a))
                            .unwrap_or_default(),
                        code: i.code.clone(),
                        group_code: g.code.clone(),
                        label_vi: i.label.vi.clone(),
                        answer,
                    }
                })
                .collect();
            (form.title.vi.clone(), items)
        }
        None => (response.form.to_string(), Vec::new()),
    };
    Ok(Json(ResponseDetail {
        quality_flags: flags_of(&state, &response),
        response,
        surveyor_id,
        form_title,
        items,
        decisions,
    }))
}
