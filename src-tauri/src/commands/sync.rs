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
use crate::problem::Problem;
use crate::state::{AppState, CmdResult, store_err};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_protocol::wire::UserInfo;
use sipas_store::{DatabaseKey, OutboxCounts, Store, SyncLog, default_contact_retention};
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
    /// Whether the server answered the last attempt (`None`: no attempt in this run yet).
    pub online: Option<bool>,
    /// A sync is running now.
    pub syncing: bool,
    /// Records and field outcomes waiting to be sent.
    pub waiting: u64,
    /// Why the last sync failed, in plain words — only while no sync succeeded since.
    pub last_problem: Option<Problem>,
    /// The server's certificate is pinned by its fingerprint (from the enrolment payload).
    pub pinned_certificate: bool,
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
    /// SHA-256 (hex) of the server's self-signed certificate, pinned at enrolment (from the
    /// enrolment payload); `None`: system roots (and a saved PEM, if any) apply.
    #[serde(default)]
    pub cert_sha256: Option<String>,
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
    /// The files written, in order (import them all): full paths.
    pub files: Vec<String>,
    /// Their names only (what the screen shows).
    pub names: Vec<String>,
    /// The folder they are in.
    pub dir: String,
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
fn no_signing_key() -> Problem {
    Problem::new(
        "handover.no_key",
        "Thiết bị này được đăng ký khi chưa hỗ trợ tệp bàn giao.",
        "This device was enrolled before hand-over files existed.",
        "Hãy đăng ký lại thiết bị bằng mã mới của giám sát viên (hoặc đồng bộ qua mạng); \
         phiếu vẫn an toàn trên máy.",
        "Enrol it again with a new code from your supervisor (or sync over the network); \
         your forms are safe on this device.",
    )
}

/// The sync side of the app state: where the enrolment is kept, the key of the unlocked
/// store and the sync engine's own connection to it (one sync at a time).
pub struct SyncService {
    db_path: Option<PathBuf>,
    /// The database key while the app is unlocked.
    key: Mutex<Option<DatabaseKey>>,
    engine: tokio::sync::Mutex<Option<Store>>,
    /// What the last attempt in this run said: `(server answered, problem)`.
    last: Mutex<Option<(bool, Option<Problem>)>>,
    /// A sync is running.
    running: std::sync::atomic::AtomicBool,
}

impl SyncService {
    /// Sync service for the store file at `db_path` (`None`: in-memory store, no sync).
    pub fn new(db_path: Option<PathBuf>) -> SyncService {
        SyncService {
            db_path,
            key: Mutex::new(None),
            engine: tokio::sync::Mutex::new(None),
            last: Mutex::new(None),
            running: std::sync::atomic::AtomicBool::new(false),
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
            Err(e) => {
                applog::warn(format!(
                    "saved server certificate unreadable ({:?})",
                    e.kind()
                ));
                Err(certificate_problem())
            }
        }
    }

    /// What the last attempt of this run said: `(server answered, problem)`.
    fn last(&self) -> Option<(bool, Option<Problem>)> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_last(&self, answered: bool, problem: Option<Problem>) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((answered, problem));
    }

    /// Keeps the certificate an enrolment succeeded with (or removes an old one).
    fn save_certificate(&self, pem: Option<&[u8]>) -> CmdResult<()> {
        let Some(path) = self.certificate_path() else {
            return Ok(());
        };
        let failed = |err: std::io::Error| {
            applog::warn(format!("server certificate not saved ({:?})", err.kind()));
            Problem::new(
                "enrol.not_saved",
                "Không lưu được đăng ký trên máy.",
                "The enrolment could not be saved on this device.",
                "Hãy kiểm tra bộ nhớ còn trống rồi đăng ký lại.",
                "Check that the device has free space, then enrol again.",
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

    /// A client of `server_url` pinning the certificate `pin` (SHA-256 hex) when given, else
    /// trusting `pem` (else the saved certificate) besides the system's roots.
    pub(crate) fn client(
        &self,
        server_url: &str,
        pem: Option<&[u8]>,
        pin: Option<&str>,
    ) -> CmdResult<ApiClient> {
        let client = ApiClient::new(server_url).map_err(|e| Problem::from_sync(&e))?;
        if let Some(pin) = pin {
            return client
                .with_pinned_sha256(pin)
                .map_err(|_| certificate_problem());
        }
        let saved;
        let pem = match pem {
            Some(pem) => Some(pem),
            None => {
                saved = self.certificate()?;
                saved.as_deref()
            }
        };
        match pem {
            Some(pem) => client.with_root_certificate_pem(pem).map_err(|_| {
                applog::warn("server certificate (PEM) not usable");
                certificate_problem()
            }),
            None => Ok(client),
        }
    }

    /// The saved enrolment, if any (an unreadable file counts as not enrolled).
    pub fn enrolment(&self) -> Option<Enrolment> {
        let text = std::fs::read_to_string(self.enrolment_path()?).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn save_enrolment(&self, e: &Enrolment) -> CmdResult<()> {
        let path = self.enrolment_path().ok_or_else(no_file)?;
        let json = serde_json::to_vec_pretty(e).expect("an enrolment always serialises");
        write_private(&path, &json).map_err(|err| {
            applog::warn(format!("enrolment not saved ({:?})", err.kind()));
            Problem::new(
                "enrol.not_saved",
                "Không lưu được đăng ký trên máy.",
                "The enrolment could not be saved on this device.",
                "Hãy kiểm tra bộ nhớ còn trống rồi đăng ký lại.",
                "Check that the device has free space, then enrol again.",
            )
        })
    }

    /// One sync (push then pull) if the device is enrolled; `Ok(false)` when it is not,
    /// [`LOCKED`] while the app is locked. The outcome is recorded in the store's sync log
    /// by the engine; after a successful sync the contact data past the spot-check window
    /// is deleted.
    pub async fn sync_once(&self) -> CmdResult<bool> {
        let Some(enrolment) = self.enrolment() else {
            return Ok(false);
        };
        self.sync_enrolled(enrolment).await
    }

    /// [`SyncService::sync_once`] for automatic syncs: nothing while the device is marked
    /// revoked (retrying a refused token helps nobody); `Ok(false)` then.
    pub async fn auto_sync_once(&self) -> CmdResult<bool> {
        match self.enrolment() {
            Some(e) if e.revoked_at.is_none() => self.sync_enrolled(e).await,
            _ => Ok(false),
        }
    }

    async fn sync_enrolled(&self, enrolment: Enrolment) -> CmdResult<bool> {
        let db = self.db_path.as_ref().ok_or_else(no_file)?;
        let mut engine = self.engine.lock().await;
        // Read after the engine is free: a PIN change in between replaces the key.
        let key = self.key().ok_or_else(Problem::locked)?;
        self.running
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let out = self.sync_with(&mut engine, db, &key, enrolment).await;
        self.running
            .store(false, std::sync::atomic::Ordering::SeqCst);
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
    ) -> CmdResult<bool> {
        let store = open_engine(engine, db, key)?;
        let client = self
            .client(
                &enrolment.server_url,
                None,
                enrolment.cert_sha256.as_deref(),
            )
            .inspect_err(|_| applog::warn("sync: the server certificate or address is not usable"))?
            .with_token(enrolment.token.clone());
        match Syncer::new(client, SyncConfig::default()).sync(store).await {
            Ok(report) => {
                let purged = store.purge_contacts(Utc::now(), default_contact_retention());
                applog::info(sync_summary(&report, &purged));
                self.set_last(true, None);
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
                self.set_last(true, Some(Problem::revoked()));
                Err(Problem::revoked())
            }
            Err(e) => {
                applog::warn(format!("sync failed: {}", sync_error_kind(&e)));
                let problem = Problem::from_sync(&e);
                self.set_last(!unreachable(&e), Some(problem.clone()));
                Err(problem)
            }
        }
    }
}

impl SyncService {
    /// Runs `f` on the sync engine's connection (opened if needed), so it never races a
    /// network sync. [`LOCKED`] while the app is locked.
    async fn with_engine<T>(&self, f: impl FnOnce(&mut Store) -> CmdResult<T>) -> CmdResult<T> {
        let db = self.db_path.as_ref().ok_or_else(no_file)?;
        let mut engine = self.engine.lock().await;
        let key = self.key().ok_or_else(Problem::locked)?;
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
) -> CmdResult<&'a mut Store> {
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
    engine.as_mut().ok_or_else(no_file)
}

/// Whether the server could not be reached at all (not a refused certificate).
fn unreachable(e: &SyncError) -> bool {
    match e {
        SyncError::Unreachable { detail } => !certificate_refused(detail),
        SyncError::GaveUp { last, .. } => unreachable(last),
        _ => false,
    }
}

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

use crate::problem::certificate_refused;

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

/// A server certificate (pasted PEM or pinned fingerprint) that cannot be used.
fn certificate_problem() -> Problem {
    Problem::new(
        "enrol.bad_certificate",
        "Chứng chỉ máy chủ không dùng được.",
        "The server certificate cannot be used.",
        "Hãy dán lại nguyên mã đăng ký (hoặc nguyên tệp chứng chỉ) do giám sát viên gửi, \
         hoặc xin mã mới.",
        "Paste the whole enrolment code (or the whole certificate file) from your supervisor \
         again, or ask for a new one.",
    )
}

fn no_file() -> Problem {
    Problem::plain(
        "app.no_file",
        "Ứng dụng đang chạy không có tệp dữ liệu nên không thể đồng bộ.",
        "The app runs without a data file, so nothing can be synced.",
    )
}

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

/// Outbox counts, the sync log and the enrolment state.
#[tauri::command(rename_all = "snake_case")]
pub fn sync_status(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    status_in(&state)
}

/// Enrols this device with a server. Usually from the one-line enrolment payload the
/// supervisor sends (`sipas-enrol:1:…`, see `sipas_protocol::enrol`): server address, code
/// and the fingerprint of a self-signed server certificate, which is pinned for every later
/// sync. The advanced path takes `server_url` and a bare `code` (and optionally a PEM
/// `certificate` trusted besides the system's roots, kept for later syncs).
#[tauri::command(rename_all = "snake_case")]
pub async fn enrol(
    state: State<'_, AppState>,
    payload: Option<String>,
    server_url: Option<String>,
    code: Option<String>,
    device_name: Option<String>,
    certificate: Option<String>,
) -> CmdResult<SyncStatus> {
    state.ensure_unlocked()?;
    let target = enrol_target(payload, server_url, code)?;
    let certificate = certificate
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && target.cert_sha256.is_none());
    let device_name = device_name
        .map(|n| sipas_core::text::nfc(n.trim()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(default_device_name);
    if device_name.chars().count() > MAX_DEVICE_NAME {
        return Err(Problem::new(
            "enrol.device_name",
            &format!("Tên thiết bị quá dài (tối đa {MAX_DEVICE_NAME} ký tự)."),
            &format!("The device name is too long (at most {MAX_DEVICE_NAME} characters)."),
            "Hãy rút ngắn tên thiết bị.",
            "Shorten the device name.",
        ));
    }
    let pem = certificate.as_ref().map(|c| c.as_bytes());
    // Only the certificate given now counts (not one saved at an earlier enrolment).
    let mut client = match (pem, target.cert_sha256.as_deref()) {
        (_, Some(pin)) => state.sync().client(&target.server, None, Some(pin))?,
        (Some(pem), None) => state.sync().client(&target.server, Some(pem), None)?,
        (None, None) => ApiClient::new(&target.server).map_err(|e| Problem::from_sync(&e))?,
    };
    let enrolled = enrol_with_identity(&mut client, &target.code, &device_name)
        .await
        .map_err(|e| {
            applog::warn(format!("enrolment failed: {}", sync_error_kind(&e)));
            Problem::from_sync(&e)
        })?;
    state.sync().save_certificate(pem)?;
    applog::info(format!(
        "enrolled (server certificate given: {}, pinned: {})",
        pem.is_some(),
        target.cert_sha256.is_some()
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
        cert_sha256: target.cert_sha256.map(|h| h.to_ascii_lowercase()),
    })?;
    state.sync().set_last(true, None);
    status_in(&state)
}

/// Where to enrol: the pasted payload, or (advanced) an address and a bare code. A bare code
/// pasted into the payload field says it needs the whole line.
pub(crate) fn enrol_target(
    payload: Option<String>,
    server_url: Option<String>,
    code: Option<String>,
) -> CmdResult<sipas_protocol::enrol::EnrolPayload> {
    use sipas_protocol::enrol::{EnrolPayload, PayloadError};
    let payload = payload.filter(|p| !p.trim().is_empty());
    if let Some(text) = payload {
        return EnrolPayload::decode(&text).map_err(|e| match e {
            PayloadError::NotAPayload => Problem::new(
                "enrol.not_payload",
                "Đây không phải mã đăng ký đầy đủ.",
                "This is not a complete enrolment code.",
                "Hãy dán nguyên dòng bắt đầu bằng «sipas-enrol:» do giám sát viên gửi.",
                "Paste the whole line starting with \"sipas-enrol:\" from your supervisor.",
            ),
            PayloadError::UnknownVersion => Problem::new(
                "enrol.payload_version",
                "Mã đăng ký này dành cho phiên bản ứng dụng mới hơn.",
                "This enrolment code is for a newer version of the app.",
                "Hãy cập nhật ứng dụng rồi dán lại mã.",
                "Update the app, then paste the code again.",
            ),
            PayloadError::Damaged => Problem::new(
                "enrol.payload_damaged",
                "Mã đăng ký bị thiếu hoặc hỏng khi sao chép.",
                "The enrolment code is incomplete or was damaged while copying.",
                "Hãy sao chép lại nguyên dòng mã đăng ký rồi dán lại.",
                "Copy the whole enrolment code line again and paste it.",
            ),
        });
    }
    let code = code.map(|c| c.trim().to_string()).unwrap_or_default();
    let server = server_url.map(|u| u.trim().to_string()).unwrap_or_default();
    if code.is_empty() || server.is_empty() {
        return Err(Problem::new(
            "enrol.empty",
            "Chưa có mã đăng ký.",
            "No enrolment code yet.",
            "Hãy dán mã đăng ký do giám sát viên gửi.",
            "Paste the enrolment code from your supervisor.",
        ));
    }
    Ok(EnrolPayload {
        server,
        code,
        cert_sha256: None,
    })
}

/// The folder hand-over files go to: `$SIPAS_HANDOVER_DIR` when set, else `SIPAS Field - ban
/// giao` in the user's documents (else the downloads or home folder, else the app's data
/// folder), created if needed.
fn handover_dir(app: &tauri::AppHandle) -> CmdResult<PathBuf> {
    use tauri::Manager;
    if let Some(dir) = std::env::var_os(HANDOVER_DIR_ENV).filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).map_err(|_| handover_folder_problem())?;
        return Ok(dir);
    }
    let path = app.path();
    let base = path
        .document_dir()
        .ok()
        .filter(|d| d.is_dir())
        .or_else(|| path.download_dir().ok().filter(|d| d.is_dir()))
        .or_else(|| path.home_dir().ok().filter(|d| d.is_dir()))
        .or_else(|| path.app_data_dir().ok());
    let dir = base
        .map(|b| b.join(HANDOVER_FOLDER))
        .ok_or_else(handover_folder_problem)?;
    std::fs::create_dir_all(&dir).map_err(|e| {
        applog::warn(format!("hand-over folder not created ({:?})", e.kind()));
        handover_folder_problem()
    })?;
    Ok(dir)
}

/// Environment variable naming another hand-over folder (tests, a shared USB mount).
pub const HANDOVER_DIR_ENV: &str = "SIPAS_HANDOVER_DIR";

/// Name of the hand-over folder inside the documents folder.
const HANDOVER_FOLDER: &str = "SIPAS Field - ban giao";

fn handover_folder_problem() -> Problem {
    Problem::new(
        "handover.folder",
        "Không tạo được thư mục lưu tệp bàn giao.",
        "The folder for hand-over files could not be created.",
        "Hãy kiểm tra bộ nhớ còn trống rồi thử lại.",
        "Check that the device has free space, then try again.",
    )
}

/// Where hand-over files go: `SIPAS Field - ban giao` in the user's documents folder.
#[tauri::command(rename_all = "snake_case")]
pub fn handover_default_dir(app: tauri::AppHandle) -> CmdResult<String> {
    Ok(handover_dir(&app)?.display().to_string())
}

/// Opens the hand-over folder in the system's file manager (desktop; on a phone the files
/// are in the documents folder, where the Files app shows them).
#[tauri::command(rename_all = "snake_case")]
pub fn open_handover_dir(app: tauri::AppHandle) -> CmdResult<()> {
    let dir = handover_dir(&app)?;
    let opener = if cfg!(target_os = "windows") {
        Some("explorer")
    } else if cfg!(target_os = "macos") {
        Some("open")
    } else if cfg!(any(target_os = "android", target_os = "ios")) {
        None
    } else {
        Some("xdg-open")
    };
    let cannot = || {
        Problem::new(
            "handover.open_folder",
            "Không mở được thư mục trên máy này.",
            "The folder cannot be opened on this device.",
            "Hãy mở ứng dụng Tệp và tìm thư mục «SIPAS Field - ban giao» trong Tài liệu.",
            "Open the Files app and look for the folder \"SIPAS Field - ban giao\" in Documents.",
        )
    };
    let opener = opener.ok_or_else(cannot)?;
    std::process::Command::new(opener)
        .arg(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| {
            applog::warn(format!("hand-over folder not opened ({:?})", e.kind()));
            cannot()
        })
}

/// A hand-over file name people can read: `ban-giao-<surveyor>-<dd-mm-yyyy-HHMM>.sipas`
/// (local time; `-2`, `-3` … for further parts), the surveyor's name without diacritics.
pub fn human_handover_name(
    surveyor: &str,
    at: chrono::DateTime<chrono::Local>,
    part: Option<usize>,
) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = surveyor
        .replace('đ', "d")
        .replace('Đ', "D")
        .nfd()
        .filter(|c| c.is_ascii())
        .collect();
    let mut slug = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "thiet-bi" } else { slug };
    let stamp = at.format("%d-%m-%Y-%H%M");
    match part {
        Some(n) => format!("ban-giao-{slug}-{stamp}-{n}.sipas"),
        None => format!("ban-giao-{slug}-{stamp}.sipas"),
    }
}

/// Writes the answers not yet confirmed by the server into signed hand-over files in the
/// hand-over folder (several when they do not fit in one; a file of the same name is not
/// overwritten). Nothing changes on the device: the answers stay waiting until the server
/// confirms them (a network sync or [`apply_handover_result`]).
#[tauri::command(rename_all = "snake_case")]
pub async fn export_handover(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<HandoverExported> {
    state.ensure_unlocked()?;
    let enrolment = state.sync().enrolment().ok_or_else(Problem::not_enrolled)?;
    let dir = handover_dir(&app)?;
    export_handover_to(&state, &enrolment, &dir).await
}

pub(crate) async fn export_handover_to(
    state: &AppState,
    enrolment: &Enrolment,
    dir: &Path,
) -> CmdResult<HandoverExported> {
    let secret = zeroize::Zeroizing::new(enrolment.signing_key.clone().ok_or_else(no_signing_key)?);
    let identity = DeviceIdentity::load(enrolment.device_id, &secret).map_err(|_| {
        applog::warn("hand-over export: the signing key is unreadable");
        no_signing_key()
    })?;
    let at = Utc::now();
    let parts = state
        .sync()
        .with_engine(|store| {
            export_handover_files(store, &identity, at).or_else(|e| match e {
                // Nothing waiting: no file, and the screen says so.
                sipas_sync::handover::HandoverFileError::NothingToExport => Ok(Vec::new()),
                _ => Err(e),
            })
            .map_err(|_| {
                applog::warn("hand-over export failed");
                Problem::new(
                    "handover.export",
                    "Không tạo được tệp bàn giao.",
                    "The hand-over file could not be made.",
                    "Hãy thử lại; nếu vẫn lỗi, hãy báo giám sát viên. Phiếu vẫn an toàn trên máy.",
                    "Try again; if it keeps failing, tell your supervisor. Your forms are safe on this device.",
                )
            })
        })
        .await?;
    let many = parts.len() > 1;
    let local = at.with_timezone(&chrono::Local);
    let mut out = HandoverExported {
        files: Vec::new(),
        names: Vec::new(),
        dir: dir.display().to_string(),
        records: 0,
    };
    for (i, part) in parts.iter().enumerate() {
        let base = human_handover_name(&enrolment.user.display_name, local, many.then_some(i + 1));
        let mut path = dir.join(&base);
        let mut n = 2;
        while path.exists() {
            path = dir.join(base.replace(".sipas", &format!(" ({n}).sipas")));
            n += 1;
        }
        write_handover_file(&path, &part.bytes).map_err(|_| {
            applog::warn("hand-over export: a file could not be written");
            handover_folder_problem()
        })?;
        out.names.push(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
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
    path: Option<String>,
    content_base64: Option<String>,
) -> CmdResult<HandoverApplied> {
    use base64::Engine;
    use std::io::Read;
    state.ensure_unlocked()?;
    let enrolment = state.sync().enrolment().ok_or_else(Problem::not_enrolled)?;
    let unreadable = || {
        Problem::new(
            "handover.unreadable",
            "Không đọc được tệp kết quả.",
            "The result file could not be read.",
            "Hãy chọn lại đúng tệp kết quả giám sát viên đưa.",
            "Choose the result file your supervisor gave you again.",
        )
    };
    let too_large = || {
        Problem::new(
            "handover.too_large",
            "Tệp này quá lớn, không phải tệp kết quả.",
            "This file is too large to be a result file.",
            "Hãy chọn đúng tệp kết quả giám sát viên đưa.",
            "Choose the result file your supervisor gave you.",
        )
    };
    let bytes = match (content_base64, path) {
        (Some(b64), _) => {
            if b64.len() as u64 > MAX_REPLY_FILE * 4 / 3 + 4 {
                return Err(too_large());
            }
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| unreadable())?
        }
        (None, Some(path)) => {
            let mut bytes = Vec::new();
            std::fs::File::open(PathBuf::from(path.trim()))
                .and_then(|f| f.take(MAX_REPLY_FILE + 1).read_to_end(&mut bytes))
                .map_err(|e| {
                    applog::warn(format!("hand-over result unreadable ({:?})", e.kind()));
                    unreadable()
                })?;
            bytes
        }
        (None, None) => return Err(unreadable()),
    };
    if bytes.len() as u64 > MAX_REPLY_FILE {
        return Err(too_large());
    }
    let report = state
        .sync()
        .with_engine(|store| {
            apply_handover_reply(store, enrolment.device_id, &bytes).map_err(|_| {
                Problem::new(
                    "handover.not_result",
                    "Tệp này không phải tệp kết quả của thiết bị này.",
                    "This file is not a result file for this device.",
                    "Hãy chọn đúng tệp kết quả giám sát viên đưa cho thiết bị này.",
                    "Choose the result file your supervisor made for this device.",
                )
            })
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

/// Sends the waiting records and fetches assignments and review decisions now.
#[tauri::command(rename_all = "snake_case")]
pub async fn sync_now(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    state.ensure_unlocked()?;
    if !state.sync().sync_once().await? {
        return Err(Problem::not_enrolled());
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
    let counts = store.outbox_counts().map_err(store_err)?;
    let statuses_pending = store.status_outbox_counts().map_err(store_err)?.pending;
    let log = store.get_sync_log().map_err(store_err)?;
    drop(store);
    let last = state.sync().last();
    // A failure counts only while no sync succeeded after it.
    let failing = match (log.last_error_at, log.last_success_at) {
        (Some(e), Some(s)) => e > s,
        (Some(_), None) => true,
        _ => false,
    };
    let last_problem = match &last {
        Some((_, p)) => p.clone(),
        None if failing => log.last_error.as_deref().map(Problem::from_logged),
        None => None,
    };
    let revoked = enrolment.as_ref().is_some_and(|e| e.revoked_at.is_some());
    let online = last.as_ref().map(|(answered, _)| *answered);
    Ok(SyncStatus {
        waiting: counts.pending + counts.in_flight + statuses_pending,
        counts,
        statuses_pending,
        log,
        enrolled: enrolment.is_some(),
        revoked,
        server_url: enrolment.as_ref().map(|e| e.server_url.clone()),
        pinned_certificate: enrolment.as_ref().is_some_and(|e| e.cert_sha256.is_some()),
        user: enrolment.map(|e| e.user.display_name),
        sync_available: state.db_path().is_some(),
        custom_certificate: state.sync().certificate_path().is_some_and(|p| p.is_file()),
        online,
        syncing: state
            .sync()
            .running
            .load(std::sync::atomic::Ordering::SeqCst),
        last_problem: if revoked {
            Some(Problem::revoked())
        } else {
            last_problem
        },
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
    ) -> Result<Result<sipas_sync::MonitorPushReport, SyncError>, Problem> {
        let db = self.db_path.as_ref().ok_or_else(no_file)?;
        let mut engine = self.engine.lock().await;
        let key = self.key().ok_or_else(Problem::locked)?;
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
    let key = state.sync().database_key().ok_or_else(Problem::locked)?;
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
        assert!(no_signing_key().action_en.contains("Enrol it again"));
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
            cert_sha256: None,
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
        assert_eq!(rt.block_on(svc.sync_once()), Err(Problem::locked()));
    }

    #[test]
    fn the_server_certificate_is_checked_kept_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let svc = SyncService::new(Some(dir.path().join("app.db")));
        let url = "https://127.0.0.1:8443";
        assert!(svc.client(url, None, None).is_ok());
        let err = svc
            .client(url, Some(b"not a certificate"), None)
            .unwrap_err();
        assert_eq!(err.code, "enrol.bad_certificate");
        assert!(svc.client(url, None, Some(&"ab".repeat(32))).is_ok());
        let err = svc.client(url, None, Some("abc")).unwrap_err();
        assert_eq!(err.code, "enrol.bad_certificate");
        svc.save_certificate(Some(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ))
        .unwrap();
        let path = dir.path().join("app.server-cert.pem");
        assert!(path.is_file());
        // A damaged saved certificate is reported when syncing, not ignored.
        let err = svc.client(url, None, None).unwrap_err();
        assert_eq!(err.code, "enrol.bad_certificate");
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
        let p = Problem::from_sync(&SyncError::Unreachable {
            detail: "connection refused".into(),
        });
        assert_eq!(p.message_vi, "Không kết nối được máy chủ.");
        let untrusted = SyncError::Unreachable {
            detail: "client error (Connect): invalid peer certificate: UnknownIssuer".into(),
        };
        assert_eq!(Problem::from_sync(&untrusted).code, "sync.certificate");
        assert!(!unreachable(&untrusted));
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
        assert!(
            Problem::revoked()
                .message_vi
                .starts_with("Thiết bị đã bị thu hồi")
        );
        assert!(Problem::revoked().action_vi.contains("Xuất tệp bàn giao"));

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

    #[test]
    fn the_enrolment_payload_or_an_address_and_code_say_where_to_enrol() {
        use sipas_protocol::enrol::EnrolPayload;
        let p = EnrolPayload {
            server: "https://10.0.0.5:8443".into(),
            code: "ABCD2345EF".into(),
            cert_sha256: Some("AB".repeat(32)),
        };
        assert_eq!(enrol_target(Some(p.encode()), None, None), Ok(p));
        let bare = enrol_target(Some("ABCD2345EF".into()), None, None).unwrap_err();
        assert_eq!(bare.code, "enrol.not_payload");
        assert!(bare.action_vi.contains("sipas-enrol:"));
        let cut = EnrolPayload {
            server: "https://x".into(),
            code: "C".into(),
            cert_sha256: None,
        }
        .encode();
        let damaged = enrol_target(Some(cut[..cut.len() - 5].into()), None, None).unwrap_err();
        assert_eq!(damaged.code, "enrol.payload_damaged");
        assert_eq!(
            enrol_target(Some("sipas-enrol:9:abc".into()), None, None)
                .unwrap_err()
                .code,
            "enrol.payload_version"
        );
        assert_eq!(
            enrol_target(None, None, Some("C".into())).unwrap_err().code,
            "enrol.empty"
        );
        let advanced = enrol_target(
            Some("  ".into()),
            Some(" https://s ".into()),
            Some(" C ".into()),
        )
        .unwrap();
        assert_eq!(
            (advanced.server.as_str(), advanced.code.as_str()),
            ("https://s", "C")
        );
        assert_eq!(advanced.cert_sha256, None);
    }

    #[test]
    fn hand_over_files_have_names_people_can_read() {
        use chrono::TimeZone;
        let at = chrono::Local
            .with_ymd_and_hms(2026, 12, 2, 14, 5, 0)
            .unwrap();
        assert_eq!(
            human_handover_name("Nguyễn Văn Đức", at, None),
            "ban-giao-nguyen-van-duc-02-12-2026-1405.sipas"
        );
        assert_eq!(
            human_handover_name("Điều tra viên 01", at, Some(2)),
            "ban-giao-dieu-tra-vien-01-02-12-2026-1405-2.sipas"
        );
        assert_eq!(
            human_handover_name("  ", at, None),
            "ban-giao-thiet-bi-02-12-2026-1405.sipas"
        );
    }

    #[test]
    fn a_stale_failure_is_not_reported_after_a_success() {
        let state = test_state();
        let mut store = state.store().unwrap();
        let t0 = Utc::now();
        store
            .set_sync_log(&SyncLog {
                last_success_at: Some(t0),
                last_error_at: Some(t0 - chrono::Duration::minutes(5)),
                last_error: Some("server unreachable (os error 111)".into()),
            })
            .unwrap();
        drop(store);
        let st = status_in(&state).unwrap();
        assert_eq!(st.last_problem, None);
        let mut store = state.store().unwrap();
        store
            .set_sync_log(&SyncLog {
                last_success_at: Some(t0 - chrono::Duration::minutes(10)),
                last_error_at: Some(t0),
                last_error: Some("server unreachable (os error 111)".into()),
            })
            .unwrap();
        drop(store);
        let st = status_in(&state).unwrap();
        assert_eq!(st.last_problem.unwrap().code, "sync.offline");
        assert_eq!(st.online, None);
        state
            .sync()
            .set_last(false, Some(Problem::from_logged("server unreachable")));
        assert_eq!(status_in(&state).unwrap().online, Some(false));
    }
}
