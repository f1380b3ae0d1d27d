//! Supervisor review: `POST /responses/{id}/{revision}/decision`.
use crate::app::AppState;
use crate::auth::{Caller, require};
use crate::extract::{ApiPath, read_json};
use crate::problem::{ApiError, ApiResult};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use sipas_core::text::nfc;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{Decision, ReviewDecision};
use std::collections::BTreeMap;
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
    require(&caller.user, &[Role::Supervisor])?;
    let (id, revision) = path.get()?;
    let req: DecisionRequest = read_json(&headers, body).await?;
    let (response, _) = state
        .store
        .response(id, revision)
        .await?
        .ok_or_else(|| ApiError::not_found("response", &format!("{id}/{revision}")))?;
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
