//! Spot checks (phúc tra) by a Fatherland Front (MTTQ) monitor, offline first (issue 13).
//!
//! The monitor signs in to the central server with a username and password to *sync*: the
//! tasks are pulled into the device's encrypted store (with the respondent's contact while a
//! task is open, and only the key items that were relevant to the respondent, never the
//! original answers), and the findings recorded on the device are sent, each acknowledged on
//! its own. Listing the tasks and recording findings work offline, from the store, without a
//! session.
//!
//! The session token lives in memory only (in [`MonitorSession`]): never on disk, never logged,
//! never sent to the UI. Locking the app or signing out forgets it. The server certificate
//! saved at enrolment, if any, is trusted as for sync.
use crate::applog;
use crate::commands::sync::sync_error_kind;
use crate::problem::Problem;
use crate::state::{AppState, CmdResult, store_err};
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
    /// `username@server`: whose tasks are on the device.
    owner: String,
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
    /// Findings recorded on the device and not yet delivered.
    pub pending: u64,
    /// Tasks on the device.
    pub tasks: usize,
}

const NOT_SIGNED_IN: &str = "Chưa đăng nhập phúc tra: hãy đăng nhập bằng tài khoản giám sát \
                             MTTQ / not signed in: sign in with your monitor account";

const NOT_MONITOR: &str = "Tài khoản này không phải tài khoản giám sát phúc tra (MTTQ) / this \
                           account is not a monitor account";

fn status_in(state: &AppState) -> MonitorStatus {
    let (pending, tasks) = state
        .store()
        .ok()
        .map(|s| {
            (
                s.monitor_outbox_counts().map(|c| c.pending).unwrap_or(0),
                s.monitor_tasks().map(|t| t.len()).unwrap_or(0),
            )
        })
        .unwrap_or((0, 0));
    match state.monitor().get() {
        Some(s) => MonitorStatus {
            signed_in: true,
            user: Some(s.display_name),
            server_url: Some(s.client.base_url().to_string()),
            pending,
            tasks,
        },
        None => MonitorStatus {
            signed_in: false,
            user: None,
            server_url: state.sync().enrolment().map(|e| e.server_url),
            pending,
            tasks,
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
    let signed = Signed {
        owner: format!("{}@{}", login.user.username, client.base_url()),
        client,
        display_name: login.user.display_name,
    };
    state.monitor().set(Some(signed.clone()));
    applog::info("monitor signed in");
    sync_signed(&state, &signed).await?;
    Ok(status_in(&state))
}

/// Sends the findings recorded on the device and refreshes the tasks.
async fn sync_signed(state: &AppState, s: &Signed) -> CmdResult<sipas_sync::MonitorPushReport> {
    match state.sync().monitor_sync(&s.client, &s.owner).await? {
        Ok(report) => {
            if report.acked > 0 {
                applog::info("monitor findings sent");
            }
            applog::info(format!(
                "monitor sync: {} findings delivered, {} refused, {} pending",
                report.acked, report.refused, report.pending
            ));
            Ok(report)
        }
        Err(e) => Err(failed(state, "sync", &e)),
    }
}

/// One task as the Phúc tra screen shows it: the server's task (`task_id`, `round_name`,
/// `unit_name`, `procedure`, `key_items`, `contact` while open, `state`) plus what the device
/// knows: `recorded` (findings recorded here), `sync` (`pending` | `sent` | `refused` |
/// `null`), `sync_error` (the refusal reason) and `agreement_rate` (from the server's receipt,
/// once delivered; `null` when unknown or nothing could be judged).
fn task_view(t: sipas_store::LocalMonitorTask) -> serde_json::Value {
    let mut v = t.task;
    let Some(obj) = v.as_object_mut() else {
        return serde_json::Value::Null;
    };
    let f = t.finding.as_ref();
    obj.insert("recorded".into(), f.is_some().into());
    let sync = f.map(|f| {
        if f.pending {
            "pending"
        } else if f.refused() {
            "refused"
        } else {
            "sent"
        }
    });
    obj.insert("sync".into(), sync.into());
    obj.insert(
        "sync_error".into(),
        f.filter(|f| f.refused())
            .and_then(|f| f.last_error.clone())
            .into(),
    );
    let rate = f
        .and_then(|f| f.receipt.as_ref())
        .and_then(|r| r.pointer("/result/agreement_rate"))
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    obj.insert("agreement_rate".into(), rate);
    if f.is_some() {
        obj.insert("state".into(), "done".into());
        obj.insert("contact".into(), serde_json::Value::Null);
    }
    v
}

/// The tasks on the device (works offline; pulled at sign-in and by [`monitor_sync`]).
#[tauri::command(rename_all = "snake_case")]
pub fn monitor_tasks(state: State<'_, AppState>) -> CmdResult<Vec<serde_json::Value>> {
    let store = state.store()?;
    let tasks = store.monitor_tasks().map_err(store_err)?;
    Ok(tasks
        .into_iter()
        .map(task_view)
        .filter(|v| !v.is_null())
        .collect())
}

/// Sends the findings recorded on the device and refreshes the tasks (signed-in monitor).
#[tauri::command(rename_all = "snake_case")]
pub async fn monitor_sync(state: State<'_, AppState>) -> CmdResult<MonitorStatus> {
    let s = signed(&state)?;
    sync_signed(&state, &s).await?;
    Ok(status_in(&state))
}

/// Records the findings of task `task_id` on the device (final; works offline), then tries
/// to send them when a monitor is signed in (a failure leaves them queued for the next sync).
/// Returns the task as [`monitor_tasks`] shows it.
#[tauri::command(rename_all = "snake_case")]
pub async fn monitor_submit(
    state: State<'_, AppState>,
    task_id: uuid::Uuid,
    visit_happened: bool,
    answers: serde_json::Map<String, serde_json::Value>,
    note: Option<String>,
) -> CmdResult<serde_json::Value> {
    state.ensure_unlocked()?;
    let note = note
        .map(|n| sipas_core::text::nfc(n.trim()))
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(format!("Ghi chú quá dài (tối đa {MAX_NOTE} ký tự) / note too long").into());
    }
    let answers: serde_json::Map<String, serde_json::Value> = if visit_happened {
        answers
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(t) => (
                    k,
                    serde_json::Value::String(sipas_core::text::nfc(t.trim())),
                ),
                other => (k, other),
            })
            .collect()
    } else {
        serde_json::Map::new()
    };
    let body = serde_json::json!({
        "visit_happened": visit_happened,
        "answers": answers,
        "note": note,
    });
    state
        .store()?
        .record_monitor_finding(task_id, &body)
        .map_err(store_err)?;
    applog::info("monitor findings recorded on the device");
    if let Some(s) = state.monitor().get() {
        // Best effort: offline, they stay queued.
        let _ = sync_signed(&state, &s).await;
    }
    let store = state.store()?;
    let task = store
        .monitor_tasks()
        .map_err(store_err)?
        .into_iter()
        .find(|t| t.task_id == task_id)
        .map(task_view)
        .unwrap_or(serde_json::Value::Null);
    Ok(task)
}

/// Signs the monitor out (forgets the session token).
#[tauri::command(rename_all = "snake_case")]
pub fn monitor_logout(state: State<'_, AppState>) -> CmdResult<MonitorStatus> {
    state.monitor().clear();
    applog::info("monitor signed out");
    state.ensure_unlocked()?;
    Ok(status_in(&state))
}
