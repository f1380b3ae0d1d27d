//! Spot checks (phúc tra) by a Fatherland Front (MTTQ) monitor: sign in to the central server
//! with a username and password, list the monitor's own tasks and send the findings of each.
//!
//! The session token lives in memory only (in [`MonitorSession`]): never on disk, never logged,
//! never sent to the UI. Locking the app or signing out forgets it. The server certificate
//! saved at enrolment, if any, is trusted as for sync. Tasks (with the respondent's contact)
//! are not stored on the device either.
use crate::applog;
use crate::commands::sync::sync_error_kind;
use crate::problem::Problem;
use crate::state::{AppState, CmdResult};
use serde::Serialize;
use sipas_protocol::roles::Role;
use sipas_sync::{ApiClient, SyncError};
use std::sync::Mutex;
use tauri::State;

/// Longest note sent with the findings, in characters (as the server checks).
const MAX_NOTE: usize = 2000;

/// The monitor's signed-in client while the app is unlocked (memory only).
#[derive(Default)]
pub struct MonitorSession {
    client: Mutex<Option<Signed>>,
}

#[derive(Clone)]
struct Signed {
    client: ApiClient,
    display_name: String,
}

impl MonitorSession {
    fn get(&self) -> Option<Signed> {
        self.client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set(&self, signed: Option<Signed>) {
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = signed;
    }

    /// Forgets the session (sign out, lock).
    pub fn clear(&self) {
        self.set(None);
    }
}

/// What the Phúc tra screen shows before / after signing in.
#[derive(Debug, Serialize)]
pub struct MonitorStatus {
    /// Whether a monitor is signed in.
    pub signed_in: bool,
    /// Who (display name).
    pub user: Option<String>,
    /// The server signed in to, else the one the device is enrolled with (to prefill).
    pub server_url: Option<String>,
}

const NOT_SIGNED_IN: &str = "Chưa đăng nhập phúc tra: hãy đăng nhập bằng tài khoản giám sát \
                             MTTQ / not signed in: sign in with your monitor account";

const NOT_MONITOR: &str = "Tài khoản này không phải tài khoản giám sát phúc tra (MTTQ) / this \
                           account is not a monitor account";

fn status_in(state: &AppState) -> MonitorStatus {
    match state.monitor().get() {
        Some(s) => MonitorStatus {
            signed_in: true,
            user: Some(s.display_name),
            server_url: Some(s.client.base_url().to_string()),
        },
        None => MonitorStatus {
            signed_in: false,
            user: None,
            server_url: state.sync().enrolment().map(|e| e.server_url),
        },
    }
}

/// The error for the UI; a refused session (401) signs the monitor out.
fn failed(state: &AppState, what: &str, e: &SyncError) -> Problem {
    applog::warn(format!("monitor {what} failed: {}", sync_error_kind(e)));
    if let SyncError::Server(p) = e
        && p.code.starts_with("401")
    {
        state.monitor().clear();
    }
    Problem::from_sync(e)
}

fn signed(state: &AppState) -> CmdResult<Signed> {
    state.ensure_unlocked()?;
    state.monitor().get().ok_or_else(|| NOT_SIGNED_IN.into())
}

/// Whether a monitor is signed in, and the server address to prefill.
#[tauri::command(rename_all = "snake_case")]
pub fn monitor_status(state: State<'_, AppState>) -> CmdResult<MonitorStatus> {
    state.ensure_unlocked()?;
    Ok(status_in(&state))
}

/// Signs a monitor in (`POST /login`); only monitor accounts are kept.
#[tauri::command(rename_all = "snake_case")]
pub async fn monitor_login(
    state: State<'_, AppState>,
    server_url: String,
    username: String,
    password: String,
) -> CmdResult<MonitorStatus> {
    state.ensure_unlocked()?;
    let username = username.trim();
    if server_url.trim().is_empty() || username.is_empty() || password.is_empty() {
        return Err(
            "Hãy nhập địa chỉ máy chủ, tên đăng nhập và mật khẩu / enter the server \
                    address, username and password"
                .into(),
        );
    }
    let mut client = state.sync().client(server_url.trim(), None, None)?;
    let login = client
        .login(username, &password)
        .await
        .map_err(|e| failed(&state, "sign-in", &e))?;
    if login.user.role != Role::Monitor {
        applog::warn("monitor sign-in refused: not a monitor account");
        return Err(NOT_MONITOR.into());
    }
    // Locked while signing in: keep nothing.
    state.ensure_unlocked()?;
    state.monitor().set(Some(Signed {
        client,
        display_name: login.user.display_name,
    }));
    applog::info("monitor signed in");
    Ok(status_in(&state))
}

/// The signed-in monitor's tasks (`GET /monitor/tasks`), as the server gives them.
#[tauri::command(rename_all = "snake_case")]
pub async fn monitor_tasks(state: State<'_, AppState>) -> CmdResult<serde_json::Value> {
    let s = signed(&state)?;
    let tasks: serde_json::Value = s
        .client
        .get_json("/monitor/tasks")
        .await
        .map_err(|e| failed(&state, "task list", &e))?;
    state.ensure_unlocked()?;
    Ok(tasks)
}

/// Sends the findings of task `task_id` (`POST /monitor/tasks/{task_id}/result`); they are
/// final. Returns the server's reply (`{task_id, state, result: {agreement_rate, …}}`).
#[tauri::command(rename_all = "snake_case")]
pub async fn monitor_submit(
    state: State<'_, AppState>,
    task_id: uuid::Uuid,
    visit_happened: bool,
    answers: serde_json::Map<String, serde_json::Value>,
    note: Option<String>,
) -> CmdResult<serde_json::Value> {
    let s = signed(&state)?;
    let note = note
        .map(|n| sipas_core::text::nfc(n.trim()))
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(format!("Ghi chú quá dài (tối đa {MAX_NOTE} ký tự) / note too long").into());
    }
    let body = serde_json::json!({
        "visit_happened": visit_happened,
        "answers": answers,
        "note": note,
    });
    let reply: serde_json::Value = s
        .client
        .post_json(&format!("/monitor/tasks/{task_id}/result"), &body)
        .await
        .map_err(|e| failed(&state, "findings", &e))?;
    applog::info("monitor findings sent");
    Ok(reply)
}

/// Signs the monitor out (forgets the session token).
#[tauri::command(rename_all = "snake_case")]
pub fn monitor_logout(state: State<'_, AppState>) -> CmdResult<MonitorStatus> {
    state.monitor().clear();
    applog::info("monitor signed out");
    state.ensure_unlocked()?;
    Ok(status_in(&state))
}
