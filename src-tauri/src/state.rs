//! Managed state of the app: the local store behind a mutex and the built-in questionnaires.
use crate::commands::sync::SyncService;
use sipas_core::questionnaire::{FormKey, Questionnaire};
use sipas_store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Result of every command: errors are messages for the surveyor (Vietnamese first).
pub type CmdResult<T> = Result<T, String>;

/// Environment variable naming the store file (tests, several profiles on one machine).
pub const DB_ENV: &str = "SIPAS_DB";

/// File name of the store inside the app data folder.
pub const DB_FILE: &str = "sipas-field.db";

/// Everything the commands share.
pub struct AppState {
    /// The open store, or why it could not be opened (shown by every command that needs it).
    store: Result<Mutex<Store>, String>,
    /// The questionnaires shipped with the app, loaded once.
    forms: Vec<Questionnaire>,
    /// Where the store file lives (`None` for an in-memory store).
    db_path: Option<PathBuf>,
    /// Enrolment and the sync engine.
    sync: SyncService,
}

impl AppState {
    /// Opens the store file at `path` (creating it and its folder when needed).
    pub fn open(path: &Path) -> AppState {
        let store = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|e| e.to_string())
            .and_then(|()| Store::open(path).map_err(|e| e.to_string()))
            .map(Mutex::new)
            .map_err(|e| {
                format!(
                    "Không mở được cơ sở dữ liệu trên máy / could not open the local database: {e}"
                )
            });
        AppState::with_store(store, Some(path.to_path_buf()))
    }

    /// State over an already opened store (tests use an in-memory one).
    pub fn with_store(store: Result<Mutex<Store>, String>, db_path: Option<PathBuf>) -> AppState {
        let forms = sipas_core::builtin::builtin_forms().unwrap_or_default();
        AppState {
            store,
            forms,
            sync: SyncService::new(db_path.clone()),
            db_path,
        }
    }

    /// The built-in questionnaires.
    pub fn forms(&self) -> &[Questionnaire] {
        &self.forms
    }

    /// The built-in questionnaire `key`, or a message saying it is not on this device.
    pub fn form(&self, key: &FormKey) -> CmdResult<&Questionnaire> {
        self.forms
            .iter()
            .find(|f| f.form_id == key.form_id && f.version == key.version)
            .ok_or_else(|| {
                format!(
                    "Phiếu {key} không có trong ứng dụng này; hãy cập nhật ứng dụng / \
                     form {key} is not built into this app; update the app"
                )
            })
    }

    /// Locks the store for one command.
    pub fn store(&self) -> CmdResult<MutexGuard<'_, Store>> {
        let m = self.store.as_ref().map_err(Clone::clone)?;
        // A panic while holding the lock cannot leave a half-written change (every write is
        // one SQLite transaction), so a poisoned lock is safe to keep using.
        Ok(m.lock().unwrap_or_else(|p| p.into_inner()))
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

/// Formats a store error for the UI.
pub fn store_err(e: sipas_store::StoreError) -> String {
    format!("Lỗi lưu trữ trên máy / local storage error: {e}")
}

#[cfg(test)]
pub(crate) fn test_state() -> AppState {
    AppState::with_store(
        Ok(Mutex::new(
            Store::open_in_memory().expect("in-memory store"),
        )),
        None,
    )
}
