//! Enrolment with the central server and synchronisation of the outbox (`sipas-sync`).
//!
//! The sync engine works on its own connection to the store file (SQLite WAL lets it write
//! between the app's short transactions), so a slow network never holds the lock the UI
//! needs to autosave answers. The device token lives in `<db file>.enrolment.json`
//! (owner-only permissions) and is never logged or sent to the UI.
use crate::state::{AppState, CmdResult, store_err};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_protocol::wire::UserInfo;
use sipas_store::{OutboxCounts, Store, SyncLog};
use sipas_sync::{ApiClient, SyncConfig, SyncError, Syncer};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tauri::State;

/// Pause between automatic sync attempts.
pub const AUTO_SYNC_EVERY: Duration = Duration::from_secs(30);

/// Longest device name sent to the server, in characters.
const MAX_DEVICE_NAME: usize = 100;

/// What the Sync screen shows.
#[derive(Debug, Serialize)]
pub struct SyncStatus {
    /// Outbox entries by state (`pending` = records waiting to be sent).
    pub counts: OutboxCounts,
    /// Field outcomes (absent, refused, …) recorded on this device and not yet sent.
    pub statuses_pending: u64,
    /// Last success / failure.
    pub log: SyncLog,
    /// Whether this device has been enrolled with a server.
    pub enrolled: bool,
    /// The server the device is enrolled with.
    pub server_url: Option<String>,
    /// Who the device acts for (display name).
    pub user: Option<String>,
    /// Whether this build can sync (false only without a store file).
    pub sync_available: bool,
}

/// The device's enrolment, as saved on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrolment {
    /// Server address (without `/api/v1`).
    pub server_url: String,
    /// Bearer token of this device (secret).
    pub token: String,
    /// Device id given by the server.
    pub device_id: uuid::Uuid,
    /// Who the device acts for.
    pub user: UserInfo,
    /// When it was enrolled.
    pub enrolled_at: DateTime<Utc>,
}

/// The sync side of the app state: where the enrolment is kept and the sync engine's own
/// connection to the store (one sync at a time).
pub struct SyncService {
    db_path: Option<PathBuf>,
    engine: tokio::sync::Mutex<Option<Store>>,
}

impl SyncService {
    /// Sync service for the store file at `db_path` (`None`: in-memory store, no sync).
    pub fn new(db_path: Option<PathBuf>) -> SyncService {
        SyncService {
            db_path,
            engine: tokio::sync::Mutex::new(None),
        }
    }

    fn enrolment_path(&self) -> Option<PathBuf> {
        self.db_path
            .as_ref()
            .map(|p| p.with_extension("enrolment.json"))
    }

    /// The saved enrolment, if any (an unreadable file counts as not enrolled).
    pub fn enrolment(&self) -> Option<Enrolment> {
        let text = std::fs::read_to_string(self.enrolment_path()?).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn save_enrolment(&self, e: &Enrolment) -> CmdResult<()> {
        let path = self
            .enrolment_path()
            .ok_or("Không có tệp dữ liệu để lưu đăng ký / no data file to keep the enrolment")?;
        let json = serde_json::to_vec_pretty(e).map_err(|e| e.to_string())?;
        write_private(&path, &json).map_err(|err| {
            format!("Không lưu được đăng ký thiết bị / could not save the enrolment: {err}")
        })
    }

    /// One sync (push then pull) if the device is enrolled; `Ok(false)` when it is not.
    /// The outcome is recorded in the store's sync log by the engine.
    pub async fn sync_once(&self) -> Result<bool, String> {
        let Some(enrolment) = self.enrolment() else {
            return Ok(false);
        };
        let db = self.db_path.as_ref().ok_or(NO_FILE)?;
        let mut engine = self.engine.lock().await;
        if engine.is_none() {
            let mut store = Store::open(db).map_err(store_err)?;
            store.set_actor("sync");
            *engine = Some(store);
        }
        let store = engine.as_mut().ok_or(NO_FILE)?;
        let client = ApiClient::new(&enrolment.server_url)
            .map_err(|e| sync_message(&e))?
            .with_token(enrolment.token);
        Syncer::new(client, SyncConfig::default())
            .sync(store)
            .await
            .map(|_| true)
            .map_err(|e| sync_message(&e))
    }
}

const NO_FILE: &str = "Ứng dụng đang chạy không có tệp dữ liệu nên không thể đồng bộ / \
                       no data file, so nothing can be synced";

/// Writes `bytes` to `path` readable by the owner only (the file holds the device token).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// A sync error for the surveyor: Vietnamese first, then the engine's English detail.
pub fn sync_message(e: &SyncError) -> String {
    let vi = match e {
        SyncError::Unreachable { .. } => {
            "Không kết nối được máy chủ. Hãy kiểm tra mạng rồi thử lại; câu trả lời vẫn an toàn trên máy."
                .to_string()
        }
        SyncError::Server(p) => format!("Máy chủ từ chối: {}", p.message_vi),
        SyncError::HttpStatus { status } => {
            format!("Máy chủ trả lỗi HTTP {status}. Hãy thử lại sau; câu trả lời vẫn an toàn trên máy.")
        }
        SyncError::NotEnrolled => "Thiết bị chưa đăng ký với máy chủ.".to_string(),
        SyncError::Config { .. } => {
            "Địa chỉ máy chủ không hợp lệ (cần bắt đầu bằng https://).".to_string()
        }
        SyncError::GaveUp { last, .. } => return sync_message(last),
        _ => "Đồng bộ chưa thành công; câu trả lời vẫn an toàn trên máy.".to_string(),
    };
    format!("{vi} / {e}")
}

/// Outbox counts, the sync log and the enrolment state.
#[tauri::command(rename_all = "snake_case")]
pub fn sync_status(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    status_in(&state)
}

/// Enrols this device with a server using a one-time code from the supervisor.
#[tauri::command(rename_all = "snake_case")]
pub async fn enrol(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    device_name: Option<String>,
) -> CmdResult<SyncStatus> {
    let code = code.trim();
    if code.is_empty() {
        return Err("Hãy nhập mã đăng ký / enter the enrolment code".into());
    }
    let device_name = device_name
        .map(|n| sipas_core::text::nfc(n.trim()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(default_device_name);
    if device_name.chars().count() > MAX_DEVICE_NAME {
        return Err(format!(
            "Tên thiết bị quá dài (tối đa {MAX_DEVICE_NAME} ký tự) / device name too long"
        ));
    }
    let mut client = ApiClient::new(&server_url).map_err(|e| sync_message(&e))?;
    let reply = client
        .enrol(code, &device_name)
        .await
        .map_err(|e| sync_message(&e))?;
    state.sync().save_enrolment(&Enrolment {
        server_url: client.base_url().to_string(),
        token: reply.token,
        device_id: reply.device_id,
        user: reply.user,
        enrolled_at: Utc::now(),
    })?;
    status_in(&state)
}

/// Sends the waiting records and fetches assignments and review decisions now.
#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    if !state.sync().sync_once().await? {
        return Err(
            "Thiết bị chưa đăng ký với máy chủ: hãy đăng ký trước khi đồng bộ / \
             this device is not enrolled yet"
                .into(),
        );
    }
    status_in(&state)
}

/// Tries a sync every [`AUTO_SYNC_EVERY`] (or `$SIPAS_AUTO_SYNC_SECS` seconds) while the app
/// runs (only when enrolled), so queued answers leave as soon as the server is reachable again.
/// Failures are recorded in the sync log by the engine and shown on the Sync screen.
pub async fn auto_sync(app: tauri::AppHandle) {
    use tauri::Manager;
    let every = std::env::var("SIPAS_AUTO_SYNC_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(AUTO_SYNC_EVERY, Duration::from_secs);
    loop {
        tokio::time::sleep(every).await;
        let state = app.state::<AppState>();
        let _ = state.sync().sync_once().await;
    }
}

fn default_device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    match host {
        Some(h) => format!("SIPAS Field ({h})"),
        None => "SIPAS Field".to_string(),
    }
}

pub(crate) fn status_in(state: &AppState) -> CmdResult<SyncStatus> {
    let enrolment = state.sync().enrolment();
    let store = state.store()?;
    Ok(SyncStatus {
        counts: store.outbox_counts().map_err(store_err)?,
        statuses_pending: store.status_outbox_counts().map_err(store_err)?.pending,
        log: store.get_sync_log().map_err(store_err)?,
        enrolled: enrolment.is_some(),
        server_url: enrolment.as_ref().map(|e| e.server_url.clone()),
        user: enrolment.map(|e| e.user.display_name),
        sync_available: state.db_path().is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_state;

    #[test]
    fn empty_store_has_nothing_waiting_and_is_not_enrolled() {
        let s = status_in(&test_state()).unwrap();
        assert_eq!((s.counts, s.statuses_pending), (OutboxCounts::default(), 0));
        assert!(!s.enrolled && s.log.last_success_at.is_none());
    }

    #[test]
    fn enrolment_is_kept_beside_the_store_owner_readable_only() {
        let dir = tempfile::tempdir().unwrap();
        let svc = SyncService::new(Some(dir.path().join("app.db")));
        assert!(svc.enrolment().is_none());
        let e = Enrolment {
            server_url: "https://sipas.example.vn".into(),
            token: "secret-token".into(),
            device_id: uuid::Uuid::now_v7(),
            user: serde_json::from_value(serde_json::json!({
                "id": uuid::Uuid::now_v7(), "username": "dtv01",
                "display_name": "Điều tra viên 01", "role": "surveyor"
            }))
            .unwrap(),
            enrolled_at: Utc::now(),
        };
        svc.save_enrolment(&e).unwrap();
        let path = dir.path().join("app.enrolment.json");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = svc.enrolment().unwrap();
        assert_eq!(
            (back.token.as_str(), back.device_id),
            ("secret-token", e.device_id)
        );
    }

    #[test]
    fn not_enrolled_means_no_sync_and_unreachable_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let svc = SyncService::new(Some(dir.path().join("app.db")));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(svc.sync_once()), Ok(false));
        let msg = sync_message(&SyncError::Unreachable {
            detail: "connection refused".into(),
        });
        assert!(msg.starts_with("Không kết nối được máy chủ"), "{msg}");
        let msg = sync_message(&SyncError::Config { detail: "x".into() });
        assert!(msg.contains("https://"), "{msg}");
    }
}
