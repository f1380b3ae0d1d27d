//! Enrolment with the central server and synchronisation of the outbox (`sipas-sync`).
//!
//! The sync engine works on its own connection to the store file (SQLite WAL lets it write
//! between the app's short transactions), so a slow network never holds the lock the UI
//! needs to autosave answers. That connection is opened with the key derived from the PIN
//! at unlock ([`Store::open_with_key`]); while the app is locked nothing syncs. The device
//! token lives in `<db file>.enrolment.json` (owner-only permissions) and is never logged or
//! sent to the UI. A server certificate to trust (for a server with a self-signed
//! certificate) is kept beside it in `<db file>.server-cert.pem`.
//!
//! After every successful sync the contact data past the spot-check window is deleted
//! ([`Store::purge_contacts`]).
use crate::applog;
use crate::state::{AppState, CmdResult, LOCKED, store_err};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_protocol::wire::UserInfo;
use sipas_store::{DatabaseKey, OutboxCounts, Store, SyncLog, default_contact_retention};
use sipas_sync::handover::handover_file_name;
use sipas_sync::{
    ApiClient, DeviceIdentity, HandoverApplyReport, SyncConfig, SyncError, SyncReport, Syncer,
    apply_handover_reply, enrol_with_identity, export_handover_files, write_handover_file,
};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
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
    /// Whether a server certificate given at enrolment is trusted for sync.
    pub custom_certificate: bool,
    /// The server no longer accepts this device's token (revoked, `401.1`): automatic sync
    /// has stopped; unsynced answers leave by hand-over file or after a new enrolment.
    pub revoked: bool,
}

/// The device's enrolment, as saved on disk. `Debug` hides the token and the signing key.
#[derive(Clone, Serialize, Deserialize)]
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
    /// The device's Ed25519 signing key for hand-over files (secret, standard base64);
    /// `None` for a device enrolled before hand-over files existed.
    #[serde(default)]
    pub signing_key: Option<String>,
    /// When the server first refused this device's token (`401.1`: revoked); `None` while
    /// it is accepted. Automatic sync stops while set; a successful sync clears it.
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("server_url", &self.server_url)
            .field("token", &"<redacted>")
            .field("device_id", &self.device_id)
            .field("user", &self.user.username)
            .field("enrolled_at", &self.enrolled_at)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

/// What [`export_handover`] wrote.
#[derive(Debug, Serialize)]
pub struct HandoverExported {
    /// The files written, in order (import them all).
    pub files: Vec<String>,
    /// Answers in them.
    pub records: usize,
}

/// What [`apply_handover_result`] did, and the Sync screen afterwards.
#[derive(Debug, Serialize)]
pub struct HandoverApplied {
    /// Counts of what changed.
    pub report: HandoverApplyReport,
    /// The Sync screen.
    pub status: SyncStatus,
}

/// Largest import result file read, in bytes.
const MAX_REPLY_FILE: u64 = 16 * 1024 * 1024;

/// The error of a device enrolled without a signing key.
const NO_SIGNING_KEY: &str = "Thiết bị này được đăng ký khi chưa hỗ trợ tệp bàn giao nên chưa có \
                              khoá ký: hãy đăng ký lại thiết bị bằng mã mới của giám sát viên \
                              (hoặc đồng bộ qua mạng); câu trả lời vẫn an toàn trên máy. / this \
                              device was enrolled before hand-over files existed and has no \
                              signing key: enrol it again with a new code from your supervisor \
                              (or sync over the network); your answers are safe on this device";

/// The sync side of the app state: where the enrolment is kept, the key of the unlocked
/// store and the sync engine's own connection to it (one sync at a time).
pub struct SyncService {
    db_path: Option<PathBuf>,
    /// The database key while the app is unlocked.
    key: Mutex<Option<DatabaseKey>>,
    engine: tokio::sync::Mutex<Option<Store>>,
}

impl SyncService {
    /// Sync service for the store file at `db_path` (`None`: in-memory store, no sync).
    pub fn new(db_path: Option<PathBuf>) -> SyncService {
        SyncService {
            db_path,
            key: Mutex::new(None),
            engine: tokio::sync::Mutex::new(None),
        }
    }

    fn enrolment_path(&self) -> Option<PathBuf> {
        self.db_path
            .as_ref()
            .map(|p| p.with_extension("enrolment.json"))
    }

    fn certificate_path(&self) -> Option<PathBuf> {
        self.db_path
            .as_ref()
            .map(|p| p.with_extension("server-cert.pem"))
    }

    /// The key of the unlocked store (`None`: locked).
    fn key(&self) -> Option<DatabaseKey> {
        self.key.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sets (unlock) or forgets (lock) the database key.
    pub(crate) fn set_key(&self, key: Option<DatabaseKey>) {
        *self.key.lock().unwrap_or_else(|p| p.into_inner()) = key;
    }

    /// Closes the engine's connection now if no sync is running; a running sync closes it
    /// when it ends, as the key is gone.
    pub(crate) fn close_engine(&self) {
        if let Ok(mut engine) = self.engine.try_lock() {
            *engine = None;
        }
    }

    /// Waits for a running sync to end and closes the engine's connection, keeping the
    /// engine busy (so no sync starts) while the returned guard lives.
    pub(crate) async fn pause(&self) -> tokio::sync::MutexGuard<'_, Option<Store>> {
        let mut engine = self.engine.lock().await;
        *engine = None;
        engine
    }

    /// The server certificate saved at enrolment, if any.
    fn certificate(&self) -> CmdResult<Option<Vec<u8>>> {
        let Some(path) = self.certificate_path() else {
            return Ok(None);
        };
        match std::fs::read(&path) {
            Ok(pem) => Ok(Some(pem)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "Không đọc được chứng chỉ máy chủ đã lưu / could not read the saved server \
                 certificate {}: {e}",
                path.display()
            )),
        }
    }

    /// Keeps the certificate an enrolment succeeded with (or removes an old one).
    fn save_certificate(&self, pem: Option<&[u8]>) -> CmdResult<()> {
        let Some(path) = self.certificate_path() else {
            return Ok(());
        };
        let failed = |err: std::io::Error| {
            format!(
                "Không lưu được chứng chỉ máy chủ / could not save the server certificate: {err}"
            )
        };
        match pem {
            Some(pem) => write_private(&path, pem).map_err(failed),
            None => match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
                _ => Ok(()),
            },
        }
    }

    /// A client of `server_url` trusting `pem` (else the saved certificate) besides the
    /// system's roots.
    pub(crate) fn client(&self, server_url: &str, pem: Option<&[u8]>) -> CmdResult<ApiClient> {
        let client = ApiClient::new(server_url).map_err(|e| sync_message(&e))?;
        let saved;
        let pem = match pem {
            Some(pem) => Some(pem),
            None => {
                saved = self.certificate()?;
                saved.as_deref()
            }
        };
        match pem {
            Some(pem) => client
                .with_root_certificate_pem(pem)
                .map_err(|e| certificate_message(&e)),
            None => Ok(client),
        }
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

    /// One sync (push then pull) if the device is enrolled; `Ok(false)` when it is not,
    /// [`LOCKED`] while the app is locked. The outcome is recorded in the store's sync log
    /// by the engine; after a successful sync the contact data past the spot-check window
    /// is deleted.
    pub async fn sync_once(&self) -> Result<bool, String> {
        let Some(enrolment) = self.enrolment() else {
            return Ok(false);
        };
        self.sync_enrolled(enrolment).await
    }

    /// [`SyncService::sync_once`] for automatic syncs: nothing while the device is marked
    /// revoked (retrying a refused token helps nobody); `Ok(false)` then.
    pub async fn auto_sync_once(&self) -> Result<bool, String> {
        match self.enrolment() {
            Some(e) if e.revoked_at.is_none() => self.sync_enrolled(e).await,
            _ => Ok(false),
        }
    }

    async fn sync_enrolled(&self, enrolment: Enrolment) -> Result<bool, String> {
        let db = self.db_path.as_ref().ok_or(NO_FILE)?;
        let mut engine = self.engine.lock().await;
        // Read after the engine is free: a PIN change in between replaces the key.
        let key = self.key().ok_or(LOCKED)?;
        let out = self.sync_with(&mut engine, db, &key, enrolment).await;
        drop(key);
        if self.key().is_none() {
            // Locked while syncing: close the connection now.
            *engine = None;
        }
        out
    }

    async fn sync_with(
        &self,
        engine: &mut Option<Store>,
        db: &Path,
        key: &DatabaseKey,
        enrolment: Enrolment,
    ) -> Result<bool, String> {
        let store = open_engine(engine, db, key)?;
        let client = self
            .client(&enrolment.server_url, None)
            .inspect_err(|_| applog::warn("sync: the server certificate or address is not usable"))?
            .with_token(enrolment.token.clone());
        match Syncer::new(client, SyncConfig::default()).sync(store).await {
            Ok(report) => {
                let purged = store.purge_contacts(Utc::now(), default_contact_retention());
                applog::info(sync_summary(&report, &purged));
                if enrolment.revoked_at.is_some() {
                    self.save_enrolment(&Enrolment {
                        revoked_at: None,
                        ..enrolment
                    })?;
                }
                Ok(true)
            }
            Err(e) if token_revoked(&e) => {
                applog::warn("sync refused: this device's token is revoked (401.1)");
                if enrolment.revoked_at.is_none() {
                    self.save_enrolment(&Enrolment {
                        revoked_at: Some(Utc::now()),
                        ..enrolment
                    })?;
                }
                Err(REVOKED.to_string())
            }
            Err(e) => {
                applog::warn(format!("sync failed: {}", sync_error_kind(&e)));
                Err(sync_message(&e))
            }
        }
    }
}

impl SyncService {
    /// Runs `f` on the sync engine's connection (opened if needed), so it never races a
    /// network sync. [`LOCKED`] while the app is locked.
    async fn with_engine<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, String>,
    ) -> Result<T, String> {
        let db = self.db_path.as_ref().ok_or(NO_FILE)?;
        let mut engine = self.engine.lock().await;
        let key = self.key().ok_or(LOCKED)?;
        let out = open_engine(&mut engine, db, &key).and_then(f);
        drop(key);
        if self.key().is_none() {
            *engine = None;
        }
        out
    }
}

/// The engine's connection, opened with `key` if it is not open yet.
fn open_engine<'a>(
    engine: &'a mut Option<Store>,
    db: &Path,
    key: &DatabaseKey,
) -> Result<&'a mut Store, String> {
    if engine.is_none() {
        let mut store = Store::open_with_key(db, key).map_err(|e| {
            applog::warn(format!(
                "sync: the store did not open ({})",
                store_error_kind(&e)
            ));
            store_err(e)
        })?;
        store.set_actor("sync");
        *engine = Some(store);
    }
    engine.as_mut().ok_or_else(|| NO_FILE.to_string())
}

/// The error of a sync refused because the device was revoked.
pub const REVOKED: &str = "Thiết bị đã bị thu hồi: máy chủ không nhận thiết bị này nữa. Hãy \
                           liên hệ giám sát viên và dùng Xuất tệp bàn giao để chuyển các phiếu \
                           chưa đồng bộ; câu trả lời vẫn an toàn trên máy. / this device was \
                           revoked: the server no longer accepts it; contact your supervisor \
                           and export a hand-over file for the unsynced records";

/// Whether the server refused the device token itself (`401.1`), i.e. the device was
/// revoked (or the server no longer knows it).
pub(crate) fn token_revoked(e: &SyncError) -> bool {
    match e {
        SyncError::Server(p) => p.code == "401.1",
        SyncError::GaveUp { last, .. } => token_revoked(last),
        _ => false,
    }
}

/// The log line of a successful sync: counts only.
fn sync_summary(r: &SyncReport, purged: &sipas_store::Result<usize>) -> String {
    let purged = match purged {
        Ok(n) => n.to_string(),
        Err(e) => format!("failed ({})", store_error_kind(e)),
    };
    format!(
        "sync ok: sent {}, acked {}, duplicates {}, rejected {} (quarantined {}), \
         unacknowledged {}, outcomes acked {}; pulled {} assignments, {} decisions, {} \
         withdrawn; contacts purged {purged}",
        r.push.sent,
        r.push.acked,
        r.push.duplicates,
        r.push.rejected,
        r.push.quarantined,
        r.push.unacknowledged,
        r.push.statuses_acked,
        r.pull.assignments,
        r.pull.decisions,
        r.pull.withdrawn,
    )
}

/// Whether a connection failed because the server's TLS certificate is not trusted.
fn certificate_refused(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    d.contains("certificate") || d.contains("unknownissuer")
}

/// What kind of sync failure `e` is, for the log: no server text, no details.
pub(crate) fn sync_error_kind(e: &SyncError) -> String {
    match e {
        SyncError::Unreachable { detail } if certificate_refused(detail) => {
            "server certificate not trusted".into()
        }
        SyncError::Unreachable { .. } => "server unreachable".into(),
        SyncError::Server(p) => format!("server problem {}", p.code),
        SyncError::HttpStatus { status } => format!("HTTP {status}"),
        SyncError::BadReply { .. } => "unreadable reply".into(),
        SyncError::NotEnrolled => "not enrolled".into(),
        SyncError::Unacknowledged { pending } => format!("{pending} records unacknowledged"),
        SyncError::GaveUp { attempts, last } => {
            format!(
                "gave up after {attempts} attempts: {}",
                sync_error_kind(last)
            )
        }
        SyncError::Config { .. } => "misconfigured client".into(),
        SyncError::Encode { .. } => "upload could not be encoded".into(),
        SyncError::Store(e) => format!("local store: {}", store_error_kind(e)),
    }
}

/// What kind of store failure `e` is, for the log.
pub(crate) fn store_error_kind(e: &sipas_store::StoreError) -> &'static str {
    use sipas_store::StoreError as E;
    match e {
        E::Sqlite(_) => "sqlite error",
        E::NotFound { .. } => "not found",
        E::Conflict { .. } => "conflict",
        E::NewerSchema { .. } => "newer schema",
        E::Corrupt { .. } => "corrupt value",
        E::WrongPassphrase => "wrong PIN",
        E::SaltMissing { .. } => "salt file missing",
        E::SaltInvalid { .. } => "salt file damaged",
        E::SaltFile { .. } => "salt file unreadable",
        E::NotEncrypted { .. } => "not encrypted",
        E::KeyDerivation(_) => "key derivation",
        E::WalUnavailable { .. } => "WAL unavailable",
        _ => "other",
    }
}

/// A server certificate that could not be used: Vietnamese first, then the detail.
fn certificate_message(e: &SyncError) -> String {
    format!(
        "Chứng chỉ máy chủ không dùng được: hãy dán nguyên nội dung tệp .pem/.crt do giám sát \
         viên cung cấp (từ -----BEGIN CERTIFICATE----- đến -----END CERTIFICATE-----). / {e}"
    )
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
        SyncError::Unreachable { detail } if certificate_refused(detail) => {
            "Máy chủ dùng chứng chỉ chưa được tin cậy. Nếu giám sát viên đã cấp chứng chỉ máy chủ \
             (tệp .pem/.crt), hãy dán nó vào ô Chứng chỉ máy chủ khi đăng ký thiết bị."
                .to_string()
        }
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

/// Enrols this device with a server using a one-time code from the supervisor. `certificate`
/// (PEM) is trusted in addition to the system's roots, for a server with a self-signed
/// certificate; it is kept for later syncs.
#[tauri::command(rename_all = "snake_case")]
pub async fn enrol(
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    device_name: Option<String>,
    certificate: Option<String>,
) -> CmdResult<SyncStatus> {
    state.ensure_unlocked()?;
    let certificate = certificate
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
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
    let pem = certificate.as_ref().map(|c| c.as_bytes());
    // Only the certificate given now counts (not one saved at an earlier enrolment).
    let mut client = match pem {
        Some(pem) => state.sync().client(&server_url, Some(pem))?,
        None => ApiClient::new(&server_url).map_err(|e| sync_message(&e))?,
    };
    let enrolled = enrol_with_identity(&mut client, code, &device_name)
        .await
        .map_err(|e| {
            applog::warn(format!("enrolment failed: {}", sync_error_kind(&e)));
            sync_message(&e)
        })?;
    state.sync().save_certificate(pem)?;
    applog::info(format!(
        "enrolled (server certificate given: {})",
        pem.is_some()
    ));
    let reply = enrolled.response;
    // H-monitor (issue 13): seal the store key with the organisation's recovery key.
    if let Some(pk) = reply.recovery_public_key.as_deref() {
        keep_recovery_key(&state, pk)?;
    }
    state.sync().save_enrolment(&Enrolment {
        server_url: client.base_url().to_string(),
        token: reply.token,
        device_id: reply.device_id,
        user: reply.user,
        enrolled_at: Utc::now(),
        signing_key: Some(enrolled.identity.secret_key_base64().to_string()),
        revoked_at: None,
    })?;
    status_in(&state)
}

/// Where hand-over files go by default: the Downloads folder, else the home folder.
#[tauri::command(rename_all = "snake_case")]
pub fn handover_default_dir(app: tauri::AppHandle) -> CmdResult<String> {
    use tauri::Manager;
    let path = app.path();
    path.download_dir()
        .ok()
        .filter(|d| d.is_dir())
        .or_else(|| path.home_dir().ok())
        .map(|d| d.display().to_string())
        .ok_or_else(|| "Không tìm thấy thư mục mặc định / no default folder".to_string())
}

/// Writes the answers not yet confirmed by the server into signed hand-over files in `dir`
/// (several when they do not fit in one). Nothing changes on the device: the answers stay
/// waiting until the server confirms them (a network sync or [`apply_handover_result`]).
#[tauri::command(rename_all = "snake_case")]
pub async fn export_handover(
    state: State<'_, AppState>,
    dir: String,
) -> CmdResult<HandoverExported> {
    state.ensure_unlocked()?;
    let enrolment = state.sync().enrolment().ok_or(NOT_ENROLLED)?;
    let dir = PathBuf::from(dir.trim());
    if dir.as_os_str().is_empty() || !dir.is_dir() {
        return Err(format!(
            "Thư mục {} không tồn tại: hãy nhập một thư mục có sẵn (ví dụ thẻ nhớ hoặc USB) / \
             the folder {} does not exist: enter an existing folder",
            dir.display(),
            dir.display()
        ));
    }
    let secret = zeroize::Zeroizing::new(enrolment.signing_key.clone().ok_or(NO_SIGNING_KEY)?);
    let identity = DeviceIdentity::load(enrolment.device_id, &secret).map_err(|e| e.to_string())?;
    let at = Utc::now();
    let parts = state
        .sync()
        .with_engine(|store| export_handover_files(store, &identity, at).map_err(|e| e.to_string()))
        .await?;
    let many = parts.len() > 1;
    let mut out = HandoverExported {
        files: Vec::new(),
        records: 0,
    };
    for (i, part) in parts.iter().enumerate() {
        let path = dir.join(handover_file_name(
            enrolment.device_id,
            at,
            many.then_some(i + 1),
        ));
        write_handover_file(&path, &part.bytes).map_err(|e| {
            applog::warn("hand-over export: a file could not be written");
            e.to_string()
        })?;
        out.files.push(path.display().to_string());
        out.records += part.records;
    }
    applog::info(format!(
        "hand-over export: {} records in {} files",
        out.records,
        out.files.len()
    ));
    Ok(out)
}

/// Applies the import result the supervisor brought back (the server's reply to the
/// hand-over file, plain or gzip) to the outbox, on the sync engine's connection.
#[tauri::command(rename_all = "snake_case")]
pub async fn apply_handover_result(
    state: State<'_, AppState>,
    path: String,
) -> CmdResult<HandoverApplied> {
    use std::io::Read;
    state.ensure_unlocked()?;
    let enrolment = state.sync().enrolment().ok_or(NOT_ENROLLED)?;
    let path = PathBuf::from(path.trim());
    let unreadable = |e: std::io::Error| {
        format!(
            "Không đọc được tệp {}: hãy kiểm tra đường dẫn / could not read the file {}: {e}",
            path.display(),
            path.display()
        )
    };
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .map_err(unreadable)?
        .take(MAX_REPLY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_REPLY_FILE {
        return Err(
            "Tệp kết quả quá lớn, không phải tệp kết quả nhập / the file is too large to be an \
             import result"
                .into(),
        );
    }
    let report = state
        .sync()
        .with_engine(|store| {
            apply_handover_reply(store, enrolment.device_id, &bytes).map_err(|e| e.to_string())
        })
        .await
        .inspect_err(|_| applog::warn("hand-over result: not applied"))?;
    applog::info(format!(
        "hand-over result applied: acked {}, duplicates {}, rejected {}, already settled {}, \
         unknown {}",
        report.acked, report.duplicates, report.rejected, report.already_settled, report.unknown
    ));
    Ok(HandoverApplied {
        report,
        status: status_in(&state)?,
    })
}

const NOT_ENROLLED: &str = "Thiết bị chưa đăng ký với máy chủ: hãy đăng ký trước / \
                            this device is not enrolled yet";

/// Sends the waiting records and fetches assignments and review decisions now.
#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    state.ensure_unlocked()?;
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
        if !state.is_unlocked() {
            continue;
        }
        let _ = state.sync().auto_sync_once().await;
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
        revoked: enrolment.as_ref().is_some_and(|e| e.revoked_at.is_some()),
        server_url: enrolment.as_ref().map(|e| e.server_url.clone()),
        user: enrolment.map(|e| e.user.display_name),
        sync_available: state.db_path().is_some(),
        custom_certificate: state.sync().certificate_path().is_some_and(|p| p.is_file()),
    })
}

// H-monitor (issue 13): the monitor's findings and tasks are synced on the engine's
// connection too, so they never race a surveyor sync.
impl SyncService {
    /// Sends the monitor's pending findings and refreshes its tasks
    /// ([`sipas_sync::sync_monitor`]). The outer error: the store could not be opened or the
    /// app is locked; the inner: what the server or the network said.
    pub(crate) async fn monitor_sync(
        &self,
        client: &ApiClient,
        monitor: &str,
    ) -> Result<Result<sipas_sync::MonitorPushReport, SyncError>, String> {
        let db = self.db_path.as_ref().ok_or(NO_FILE)?;
        let mut engine = self.engine.lock().await;
        let key = self.key().ok_or(LOCKED)?;
        let store = open_engine(&mut engine, db, &key)?;
        let out = sipas_sync::sync_monitor(client, store, monitor).await;
        drop(key);
        if self.key().is_none() {
            *engine = None;
        }
        Ok(out)
    }

    /// The key of the unlocked store (`None`: locked).
    pub(crate) fn database_key(&self) -> Option<DatabaseKey> {
        self.key()
    }
}

/// Keeps the recovery public key received at enrolment and seals the store key with it
/// (`<db>.recovery`, see [`sipas_store::recovery`]).
fn keep_recovery_key(state: &AppState, public_b64: &str) -> CmdResult<()> {
    let public = sipas_store::recovery::parse_public_key(public_b64).map_err(store_err)?;
    let key = state.sync().database_key().ok_or(LOCKED)?;
    state
        .store()?
        .set_recovery_public_key(&public, &key)
        .map_err(store_err)?;
    applog::info("recovery key received at enrolment: the store key is sealed for recovery");
    Ok(())
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
        let e = enrolment();
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
    fn an_old_enrolment_has_no_signing_key_and_debug_hides_secrets() {
        let mut e = enrolment();
        let mut json = serde_json::to_value(&e).unwrap();
        json.as_object_mut().unwrap().remove("signing_key");
        let old: Enrolment = serde_json::from_value(json).unwrap();
        assert!(old.signing_key.is_none());
        assert!(NO_SIGNING_KEY.contains("enrol it again"));
        e.signing_key = Some("c2VjcmV0LWtleQ==".into());
        let dbg = format!("{e:?}");
        assert!(
            !dbg.contains("secret-token") && !dbg.contains("c2VjcmV0LWtleQ=="),
            "{dbg}"
        );
    }

    fn enrolment() -> Enrolment {
        Enrolment {
            server_url: "https://sipas.example.vn".into(),
            token: "secret-token".into(),
            device_id: uuid::Uuid::now_v7(),
            user: serde_json::from_value(serde_json::json!({
                "id": uuid::Uuid::now_v7(), "username": "dtv01",
                "display_name": "Điều tra viên 01", "role": "surveyor"
            }))
            .unwrap(),
            enrolled_at: Utc::now(),
            signing_key: None,
            revoked_at: None,
        }
    }

    #[test]
    fn an_enrolled_device_does_not_sync_while_locked() {
        let dir = tempfile::tempdir().unwrap();
        let svc = SyncService::new(Some(dir.path().join("app.db")));
        svc.save_enrolment(&enrolment()).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(svc.sync_once()), Err(LOCKED.to_string()));
    }

    #[test]
    fn the_server_certificate_is_checked_kept_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let svc = SyncService::new(Some(dir.path().join("app.db")));
        let url = "https://127.0.0.1:8443";
        assert!(svc.client(url, None).is_ok());
        let err = svc.client(url, Some(b"not a certificate")).unwrap_err();
        assert!(
            err.starts_with("Chứng chỉ máy chủ không dùng được"),
            "{err}"
        );
        svc.save_certificate(Some(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ))
        .unwrap();
        let path = dir.path().join("app.server-cert.pem");
        assert!(path.is_file());
        // A damaged saved certificate is reported when syncing, not ignored.
        let err = svc.client(url, None).unwrap_err();
        assert!(
            err.starts_with("Chứng chỉ máy chủ không dùng được"),
            "{err}"
        );
        svc.save_certificate(None).unwrap();
        assert!(!path.exists());
        svc.save_certificate(None).unwrap();
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
        let untrusted = SyncError::Unreachable {
            detail: "client error (Connect): invalid peer certificate: UnknownIssuer".into(),
        };
        let msg = sync_message(&untrusted);
        assert!(
            msg.starts_with("Máy chủ dùng chứng chỉ chưa được tin cậy"),
            "{msg}"
        );
        assert_eq!(
            sync_error_kind(&untrusted),
            "server certificate not trusted"
        );
        let gave_up = SyncError::GaveUp {
            attempts: 3,
            last: Box::new(SyncError::HttpStatus { status: 503 }),
        };
        assert_eq!(
            sync_error_kind(&gave_up),
            "gave up after 3 attempts: HTTP 503"
        );
    }

    #[test]
    fn a_refused_token_marks_the_device_revoked_and_stops_automatic_sync() {
        use sipas_protocol::problem::ProblemCode;
        let refused = SyncError::Server(ProblemCode::Unauthenticated.problem("x", "x"));
        assert!(token_revoked(&refused));
        assert!(token_revoked(&SyncError::GaveUp {
            attempts: 2,
            last: Box::new(refused),
        }));
        let forbidden = SyncError::Server(ProblemCode::OutOfScope.problem("x", "x"));
        assert!(!token_revoked(&forbidden));
        assert!(!token_revoked(&SyncError::HttpStatus { status: 401 }));
        assert!(REVOKED.starts_with("Thiết bị đã bị thu hồi"));
        assert!(REVOKED.contains("Xuất tệp bàn giao"));

        let dir = tempfile::tempdir().unwrap();
        let svc = SyncService::new(Some(dir.path().join("app.db")));
        let mut e = enrolment();
        e.revoked_at = Some(Utc::now());
        svc.save_enrolment(&e).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Locked or not, automatic sync does not even try.
        assert_eq!(rt.block_on(svc.auto_sync_once()), Ok(false));
        // An enrolment saved before revocation existed reads as not revoked.
        let mut json = serde_json::to_value(enrolment()).unwrap();
        json.as_object_mut().unwrap().remove("revoked_at");
        let old: Enrolment = serde_json::from_value(json).unwrap();
        assert!(old.revoked_at.is_none());
    }
}
