//! Several server processes on one database (issue 14): what each process caches and how it
//! learns that another process changed it. Before every `/api/v1` request,
//! [`refresh_caches`] reads the version counters of `shared_versions` (one small query) and
//!
//! * reloads the form registry when the `forms` counter moved ([`crate::forms`]);
//! * lets the unit tree cached by [`crate::scope::unit_tree`] go when the `units` counter
//!   moved.
//!
//! Everything else a request depends on is read from the database each time (sessions,
//! device tokens and revocations, throttles — see [`crate::ratelimit`] —, rounds,
//! assignments, responses, spot-check tasks, hand-over records). The one other per-process
//! memory, [`crate::last_sync::LastSync`], only skips redundant writes of a device's sync
//! time and is safe per process.
use crate::app::AppState;
use crate::problem::ApiError;
use crate::storage::StoreError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;

/// Brings the caches of this process up to the database's version counters.
pub async fn refresh(state: &AppState) -> Result<(), StoreError> {
    let versions = state.store.shared_versions().await?;
    state
        .forms
        .refresh(state.store.as_ref(), versions.forms)
        .await?;
    // Counters only grow: a request that read an older number never moves it back.
    state
        .units_version
        .fetch_max(versions.units, Ordering::SeqCst);
    Ok(())
}

/// Middleware of the `/api/v1` routes: [`refresh`], then the handler.
pub async fn refresh_caches(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Err(e) = refresh(&state).await {
        return ApiError::from(e).into_response();
    }
    next.run(req).await
}
