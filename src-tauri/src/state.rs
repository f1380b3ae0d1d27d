//! Managed state of the app: the local store (encrypted, opened only once the surveyor
//! enters the PIN) behind a mutex, and the built-in questionnaires.
use crate::applog;
use crate::commands::monitor::MonitorSession;
use crate::commands::sync::SyncService;
use crate::problem::Problem;
use sipas_core::questionnaire::{FormKey, Questionnaire};
use sipas_store::{DatabaseKey, Store};
use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Result of every command: errors are [`Problem`]s (what happened and what to do, in
/// Vietnamese and English; the UI shows the language in use).
pub type CmdResult<T> = Result<T, Problem>;

/// Environment variable naming the store file (tests, several profiles on one machine).
pub const DB_ENV: &str = "SIPAS_DB";

/// File name of the store inside the app data folder.
pub const DB_FILE: &str = "sipas-field.db";

/// Everything the commands share.
pub struct AppState {
    /// The open store; `None` while the app is locked (at start and after "Khóa").
    store: Mutex<Option<Store>>,
    /// The questionnaires shipped with the app, loaded once (the fallback).
    forms: Vec<Arc<Questionnaire>>,
    /// Questionnaires downloaded from the server (issue 12), read from the store; looked up
    /// before the built-ins.
    downloaded: RwLock<BTreeMap<FormKey, Arc<Questionnaire>>>,
    /// Where the store file lives (`None` for an in-memory store).
    db_path: Option<PathBuf>,
    /// Enrolment, the sync engine and the database key it opens its connection with.
    sync: SyncService,
    /// The lock file `<db>.lock`, held (exclusively) from the first unlock until the app
    /// exits, so a second copy of the app cannot open the same store.
    instance: Mutex<Option<std::fs::File>>,
    /// The signed-in spot-check monitor (memory only; forgotten on lock).
    monitor: MonitorSession,
}

/// The store of an unlocked app, held for one command.
pub struct StoreGuard<'a>(MutexGuard<'a, Option<Store>>);

impl Deref for StoreGuard<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.0
            .as_ref()
            .expect("a StoreGuard is only made over an open store")
    }
}

impl DerefMut for StoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.0
            .as_mut()
            .expect("a StoreGuard is only made over an open store")
    }
}

impl AppState {
    /// A locked app over the store file at `path`: nothing is opened until [`AppState::unlock`].
    pub fn locked(path: &Path) -> AppState {
        AppState::build(None, Some(path.to_path_buf()))
    }

    /// An unlocked app over an already opened store (tests use an in-memory one).
    pub fn with_store(store: Store, db_path: Option<PathBuf>) -> AppState {
        AppState::build(Some(store), db_path)
    }

    fn build(store: Option<Store>, db_path: Option<PathBuf>) -> AppState {
        let forms = sipas_core::builtin::builtin_forms()
            .unwrap_or_default()
            .into_iter()
            .map(Arc::new)
            .collect();
        let downloaded = RwLock::new(store.as_ref().map(downloaded_forms).unwrap_or_default());
        AppState {
            store: Mutex::new(store),
            forms,
            downloaded,
            sync: SyncService::new(db_path.clone()),
            db_path,
            instance: Mutex::new(None),
            monitor: MonitorSession::default(),
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Store>> {
        // A panic while holding the lock cannot leave a half-written change (every write is
        // one SQLite transaction), so a poisoned lock is safe to keep using.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every questionnaire on this device: the downloaded ones, then the built-ins whose key
    /// was not downloaded.
    pub fn forms(&self) -> Vec<Arc<Questionnaire>> {
        self.try_refresh_forms();
        let downloaded = self.downloaded.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<Arc<Questionnaire>> = downloaded.values().cloned().collect();
        all.extend(
            self.forms
                .iter()
                .filter(|f| !downloaded.contains_key(&f.key()))
                .cloned(),
        );
        all
    }

    /// The questionnaire `key`: downloaded from the server first (issue 12), built into the
    /// app second; otherwise a message saying it is not on this device.
    pub fn form(&self, key: &FormKey) -> CmdResult<Arc<Questionnaire>> {
        if let Some(f) = self
            .downloaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return Ok(f.clone());
        }
        // Maybe downloaded by a sync since the cache was read (it then wins over a built-in).
        self.try_refresh_forms();
        self.lookup_form(key).ok_or_else(|| {
            applog::warn(format!("form {key} is neither downloaded nor built in"));
            Problem::new(
                "form.unknown",
                "Phiếu này chưa có trên máy.",
                "This form is not on this device yet.",
                "Hãy đồng bộ khi có mạng để tải phiếu về, hoặc cập nhật ứng dụng.",
                "Sync when online to download it, or update the app.",
            )
        })
    }

    fn lookup_form(&self, key: &FormKey) -> Option<Arc<Questionnaire>> {
        if let Some(f) = self
            .downloaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return Some(f.clone());
        }
        self.forms
            .iter()
            .find(|f| f.form_id == key.form_id && f.version == key.version)
            .cloned()
    }

    /// Re-reads the downloaded questionnaires from the store when nobody holds it (a
    /// command holding the store keeps the cache as it is).
    pub fn try_refresh_forms(&self) {
        let Ok(slot) = self.store.try_lock() else {
            return;
        };
        if let Some(store) = slot.as_ref() {
            self.refresh_forms(store);
        }
    }

    /// Re-reads the downloaded questionnaires from `store`.
    pub fn refresh_forms(&self, store: &Store) {
        *self.downloaded.write().unwrap_or_else(|p| p.into_inner()) = downloaded_forms(store);
    }

    /// Locks the store for one command; [`LOCKED`] while the app is locked.
    pub fn store(&self) -> CmdResult<StoreGuard<'_>> {
        let slot = self.slot();
        if slot.is_none() {
            return Err(Problem::locked());
        }
        Ok(StoreGuard(slot))
    }

    /// Whether the store is open.
    pub fn is_unlocked(&self) -> bool {
        self.slot().is_some()
    }

    /// [`LOCKED`] unless the store is open (for commands that do not read it).
    pub fn ensure_unlocked(&self) -> CmdResult<()> {
        if self.is_unlocked() {
            Ok(())
        } else {
            Err(Problem::locked())
        }
    }

    /// Keeps the store opened with the PIN and its key (for the sync engine's connection).
    pub fn unlock(&self, store: Store, key: DatabaseKey) {
        self.refresh_forms(&store);
        *self.slot() = Some(store);
        self.sync.set_key(Some(key));
    }

    /// Makes sure no other copy of the app on this device uses the store file: takes an
    /// exclusive lock on `<db>.lock` (kept until the app exits).
    ///
    /// Two copies must not share the file: the encrypted store's open checks the file header
    /// with an ordinary open/close, which cancels SQLite's POSIX locks of the connections this
    /// process already has, so another process closing the file would delete the write-ahead
    /// log they still use.
    pub fn claim_instance(&self) -> CmdResult<()> {
        let Some(path) = self.db_path.as_ref() else {
            return Ok(());
        };
        let mut held = self.instance.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let lock_path = path.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                applog::warn(format!("lock file not created ({:?})", e.kind()));
                Problem::new(
                    "app.lock_file",
                    "Ứng dụng không ghi được vào thư mục dữ liệu trên máy.",
                    "The app cannot write to its data folder on this device.",
                    "Hãy kiểm tra bộ nhớ còn trống rồi mở lại ứng dụng.",
                    "Check that the device has free space, then open the app again.",
                )
            })?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(Problem::already_running()),
            Err(std::fs::TryLockError::Error(e)) => {
                applog::warn(format!("lock file not locked ({:?})", e.kind()));
                Err(Problem::already_running())
            }
        }
    }

    /// Closes the store and opens it again with `open`, holding the store's mutex meanwhile
    /// (no command sees it closed, and no connection of this process stays open while the
    /// file is opened again). On failure the app is locked.
    pub fn reopen(
        &self,
        open: impl FnOnce() -> sipas_store::Result<(Store, DatabaseKey)>,
    ) -> sipas_store::Result<()> {
        let mut slot = self.slot();
        drop(slot.take());
        match open() {
            Ok((store, key)) => {
                *slot = Some(store);
                self.sync.set_key(Some(key));
                Ok(())
            }
            Err(e) => {
                self.sync.set_key(None);
                Err(e)
            }
        }
    }

    /// Closes the store and forgets the key: every command but unlocking fails until the
    /// PIN is entered again.
    pub fn lock(&self) {
        self.monitor.clear();
        self.sync.set_key(None);
        self.sync.close_engine();
        drop(self.slot().take());
    }

    /// The spot-check monitor's session.
    pub fn monitor(&self) -> &MonitorSession {
        &self.monitor
    }

    /// Enrolment and the sync engine.
    pub fn sync(&self) -> &SyncService {
        &self.sync
    }

    /// Where the store file lives.
    pub fn db_path(&self) -> Option<&Path> {
        self.db_path.as_deref()
    }
}

/// A store error for the UI (its kind goes to the app log).
pub fn store_err(e: sipas_store::StoreError) -> Problem {
    Problem::storage(&e)
}

#[cfg(test)]
pub(crate) fn test_state() -> AppState {
    AppState::with_store(Store::open_in_memory().expect("in-memory store"), None)
}

/// The questionnaires downloaded into `store` that load (a definition the loader refuses is
/// left out; the built-in of the same key, if any, is used instead).
fn downloaded_forms(store: &Store) -> BTreeMap<FormKey, Arc<Questionnaire>> {
    store
        .list_forms()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| sipas_core::form_loader::load_form(&f.definition).ok())
        .map(|q| (q.key(), Arc::new(q)))
        .collect()
}
