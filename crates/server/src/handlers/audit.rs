//! The audit log: `GET /audit?since=N&limit=M` (admin).
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::extract::ApiQuery;
use crate::problem::ApiResult;
use crate::scope;
use crate::storage::AuditEntry;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use sipas_protocol::roles::Capability;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 100;
/// Largest page size.
pub const MAX_LIMIT: u32 = 1000;

/// Query of `GET /api/v1/audit`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct AuditQuery {
    /// Entries after this sequence number (default 0: from the start).
    #[serde(default)]
    pub since: i64,
    /// Page size (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `GET /api/v1/audit` (audit.read: admin): audit entries after `since`, oldest first; a
/// scoped admin sees those whose actor is a user of its scope.
pub async fn entries(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    require_cap(&caller.user, Capability::AuditRead)?;
    let q = query.get()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mine = scope::of(&state, &caller).await?;
    if mine.is_whole() {
        return Ok(Json(
            state.store.audit_entries(q.since.max(0), limit).await?,
        ));
    }
    // A scoped admin sees the entries whose actor is a user of its scope.
    let visible = mine.visible_user_ids(&state, caller.user.id).await?;
    let mut out = Vec::new();
    let mut since = q.since.max(0);
    loop {
        let page = state.store.audit_entries(since, MAX_LIMIT).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        since = last;
        for e in page {
            if e.actor.is_some_and(|a| visible.contains(&a)) {
                out.push(e);
                if out.len() == limit as usize {
                    return Ok(Json(out));
                }
            }
        }
    }
    Ok(Json(out))
}
