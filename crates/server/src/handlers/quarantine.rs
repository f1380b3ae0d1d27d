//! Refused records and voided responses (supervisors): `GET /quarantine`,
//! `POST /quarantine/{id}/accept`, `POST /quarantine/{id}/dismiss` and
//! `POST /responses/{id}/void`. The decisions are the ingest rules' ([`crate::ingest`]).
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::{ApiPath, ApiQuery, read_json};
use crate::ingest::Checked;
use crate::ingest::{QuarantineEntry, Resolved, Voided, acceptance_batch};
use crate::problem::{ApiError, ApiResult};
use crate::scope;
use crate::validation::{Incoming, check_with, round_catalogues};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Capability;
use sipas_protocol::wire::RecordAck;
use uuid::Uuid;

/// Longest note or reason, characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Query of `GET /api/v1/quarantine`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuarantineQuery {
    /// Only this round's records (default: every round).
    #[serde(default)]
    pub round_id: Option<String>,
    /// Also resolved entries (default: open ones only).
    #[serde(default)]
    pub all: bool,
}

/// Body of accept / dismiss.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// Why (optional, at most [`MAX_NOTE_CHARS`]).
    #[serde(default)]
    pub note: Option<String>,
}

/// Answer of accept / dismiss.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolveResult {
    /// The entry as it is now.
    pub entry: QuarantineEntry,
    /// For an acceptance: the record's acknowledgement (accepted, or duplicate when the
    /// server already had it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<RecordAck>,
}

/// Body of `POST /api/v1/responses/{id}/void`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    /// Why the response is voided (required).
    pub reason: String,
}

/// Answer of a void.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidResult {
    /// The response.
    pub response_id: Uuid,
    /// Always true: the response is voided.
    pub voided: bool,
}

fn note(text: Option<&str>, field: &str) -> ApiResult<Option<String>> {
    let Some(text) = text else { return Ok(None) };
    let t = nfc(text.trim());
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::invalid_input(
            format!("{field} is longer than {MAX_NOTE_CHARS} characters."),
            format!("Ghi chú dài quá {MAX_NOTE_CHARS} ký tự."),
        )
        .with_details(serde_json::json!({ "field": field })));
    }
    Ok((!t.is_empty()).then_some(t))
}

fn already_resolved(id: Uuid) -> ApiError {
    ApiError::new(
        ProblemCode::Conflict,
        format!("Quarantine entry {id} is already resolved; nothing changed."),
        "Phiếu bị giữ lại này đã được xử lý trước đó; không có gì thay đổi.",
    )
    .with_details(serde_json::json!({ "quarantine_id": id }))
}

async fn entry(state: &AppState, id: Uuid) -> ApiResult<QuarantineEntry> {
    state
        .store
        .quarantine_entry(id)
        .await?
        .ok_or_else(|| ApiError::not_found("quarantine entry", &id.to_string()))
}

/// The entry if it exists and is in the caller's scope (`404.1` otherwise).
async fn entry_in_scope(state: &AppState, caller: &Caller, id: Uuid) -> ApiResult<QuarantineEntry> {
    let found = entry(state, id).await?;
    let mine = scope::of(state, caller).await?;
    if scope::quarantine_visible(state, &mine, &found).await? {
        Ok(found)
    } else {
        Err(scope::hidden("quarantine entry", &id.to_string()))
    }
}

/// `GET /api/v1/quarantine?round_id=…&all=true` (supervisor): refused records, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<QuarantineQuery>,
) -> ApiResult<Json<Vec<QuarantineEntry>>> {
    require_cap(&caller.user, Capability::QuarantineManage)?;
    let q = query.get()?;
    let mine = scope::of(&state, &caller).await?;
    let mut out = Vec::new();
    for e in state
        .store
        .quarantine_entries(q.round_id.as_deref(), !q.all)
        .await?
    {
        if scope::quarantine_visible(&state, &mine, &e).await? {
            out.push(e);
        }
    }
    Ok(Json(out))
}

/// `POST /api/v1/quarantine/{id}/accept` (supervisor): stores a record refused because its
/// assignment had moved or its clock looked wrong, through the same ingest rules with those
/// two checks waived. `409.1` when the reason cannot be waived (hash, form, answers,
/// unreadable: dismiss it), when the rules still refuse it (e.g. the assignment already has
/// a response), or when the entry is already resolved; nothing changes then.
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ResolveResult>> {
    require_cap(&caller.user, Capability::QuarantineManage)?;
    let id = path.get()?;
    let req: ResolveRequest = read_json(&headers, body).await?;
    let note = note(req.note.as_deref(), "note")?;
    let found = entry_in_scope(&state, &caller, id).await?;
    if found.resolution.is_some() {
        return Err(already_resolved(id));
    }
    let not_acceptable = || {
        ApiError::new(
            ProblemCode::Conflict,
            format!(
                "A record refused as {:?} cannot be accepted; dismiss it.",
                found.reason_code
            ),
            "Không thể nhận phiếu bị giữ lại vì lý do này (nội dung không tin cậy được); hãy loại bỏ phiếu.",
        )
        .with_details(serde_json::json!({ "reason_code": found.reason_code }))
    };
    if !found.acceptable() {
        return Err(not_acceptable());
    }
    let now = state.clock.now();
    // Every stateless check again except the clock: hash, form and answers must hold.
    let incoming = Incoming::decode(&found.record_json);
    let catalogues = round_catalogues(&state, std::slice::from_ref(&incoming)).await?;
    let (response, hash) = match check_with(&state.forms, &catalogues, incoming, now) {
        Checked::Valid { response, hash } => (response, hash),
        Checked::Refused(r) if r.reason == sipas_protocol::wire::AckReason::Clock => {
            let record = Incoming::decode(&found.record_json)
                .record
                .map_err(|_| not_acceptable())?;
            let hash = record.content_hash.to_ascii_lowercase();
            (record.response, hash)
        }
        Checked::Refused(_) => return Err(not_acceptable()),
    };
    let batch = acceptance_batch(&found, response, hash, caller.user.id, now);
    match state
        .store
        .accept_quarantined(id, &batch, note.as_deref())
        .await?
    {
        Resolved::Done(ack) => {
            tracing::info!(actor = %caller.user.id, quarantine_id = %id, "quarantine accepted");
            Ok(Json(ResolveResult {
                entry: entry(&state, id).await?,
                ack,
            }))
        }
        Resolved::AlreadyResolved => Err(already_resolved(id)),
        Resolved::Refused(ack) => {
            let code = ack.reason_code;
            Err(ApiError::new(
                ProblemCode::Conflict,
                format!(
                    "The record cannot be accepted: {}",
                    ack.reason.clone().unwrap_or_default()
                ),
                format!(
                    "Không thể nhận phiếu: {}",
                    code.map_or("phiếu không hợp lệ.", |c| c.message_vi())
                ),
            )
            .with_details(serde_json::json!({ "ack": ack })))
        }
    }
}

/// `POST /api/v1/quarantine/{id}/dismiss` (supervisor): marks a refused record dismissed (it
/// stays kept, never counted). `409.1` when already resolved.
pub async fn dismiss(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ResolveResult>> {
    require_cap(&caller.user, Capability::QuarantineManage)?;
    let id = path.get()?;
    let req: ResolveRequest = read_json(&headers, body).await?;
    let note = note(req.note.as_deref(), "note")?;
    entry_in_scope(&state, &caller, id).await?;
    match state
        .store
        .dismiss_quarantined(id, caller.user.id, note.as_deref(), state.clock.now())
        .await?
    {
        Resolved::Done(_) => {
            tracing::info!(actor = %caller.user.id, quarantine_id = %id, "quarantine dismissed");
            Ok(Json(ResolveResult {
                entry: entry(&state, id).await?,
                ack: None,
            }))
        }
        Resolved::AlreadyResolved | Resolved::Refused(_) => Err(already_resolved(id)),
    }
}

/// `POST /api/v1/responses/{id}/void` (supervisor): voids a response with a reason: it leaves
/// the index, review queue and progress, and its assignment may be interviewed again under a
/// new response id. `409.1` when already voided; `404.1` for an unknown response.
pub async fn void(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<Uuid>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<VoidResult>> {
    require_cap(&caller.user, Capability::QuarantineManage)?;
    let id = path.get()?;
    let req: VoidRequest = read_json(&headers, body).await?;
    let Some(reason) = note(Some(&req.reason), "reason")? else {
        return Err(ApiError::invalid_input(
            "Say why the response is voided.",
            "Cần ghi lý do hủy phiếu.",
        )
        .with_details(serde_json::json!({ "field": "reason" })));
    };
    if let Some((response, _)) = state.store.response(id, 1).await? {
        let mine = scope::of(&state, &caller).await?;
        if !scope::response_visible(&state, &mine, &response).await? {
            return Err(scope::hidden("response", &id.to_string()));
        }
    }
    match state
        .store
        .void_response(id, caller.user.id, &reason, state.clock.now())
        .await
    {
        Ok(Voided::Done) => {
            tracing::info!(actor = %caller.user.id, response_id = %id, "response voided");
            Ok(Json(VoidResult {
                response_id: id,
                voided: true,
            }))
        }
        Ok(Voided::AlreadyVoided) => Err(ApiError::new(
            ProblemCode::Conflict,
            format!("Response {id} is already voided; nothing changed."),
            "Phiếu này đã bị hủy trước đó; không có gì thay đổi.",
        )),
        Err(crate::storage::StoreError::NotFound { .. }) => {
            Err(ApiError::not_found("response", &id.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}
