//! The PIN: creating it on first run, unlocking the encrypted store with it, locking the app
//! again and changing it. The store (`sipas-store`) derives the key with Argon2id and keeps
//! the file encrypted; this module only decides which screen applies and keeps the open
//! store and its key in the app state. The PIN itself is never stored or logged.
use crate::applog;
use crate::commands::sync::store_error_kind;
use crate::problem::Problem;
use crate::state::{AppState, CmdResult, store_err};
use serde::Serialize;
use sipas_core::text::nfc;
use sipas_store::{Store, StoreError};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use tauri::{AppHandle, Manager, State};
use zeroize::Zeroizing;

/// Shortest PIN accepted when one is created, in characters.
pub const MIN_PIN_CHARS: usize = 6;

/// Which unlock screen applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LockStatus {
    /// Whether the store is open.
    pub unlocked: bool,
    /// There is no PIN yet (first run, or data from a version without encryption): the
    /// surveyor creates one, typing it twice.
    pub new_pin: bool,
    /// The device holds data from a version without encryption, which the new PIN encrypts.
    pub converts_plain: bool,
    /// Shortest PIN accepted, in characters.
    pub min_pin_chars: usize,
}

/// What is on disk at the store path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DbFile {
    /// Nothing yet (first run).
    New,
    /// A plain SQLite database written before encryption at rest.
    Plain,
    /// An encrypted database.
    Encrypted,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn db_file(path: &Path) -> DbFile {
    let has_data = |p: &Path| std::fs::metadata(p).is_ok_and(|m| m.len() > 0);
    if !has_data(path) && !has_data(&with_suffix(path, "-wal")) {
        return DbFile::New;
    }
    let mut header = [0u8; 16];
    let plain = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0");
    if plain {
        DbFile::Plain
    } else {
        DbFile::Encrypted
    }
}

const NO_FILE: &str = "Ứng dụng đang chạy không có tệp dữ liệu / the app runs without a data file";

/// Checks a PIN being created: at least [`MIN_PIN_CHARS`] characters, typed the same twice.
pub(crate) fn check_new_pin(pin: &str, confirm: Option<&str>) -> CmdResult<()> {
    if pin.trim().chars().count() < MIN_PIN_CHARS {
        return Err(Problem::new(
            "pin.too_short",
            &format!("Mã PIN phải có ít nhất {MIN_PIN_CHARS} chữ số hoặc ký tự."),
            &format!("The PIN must have at least {MIN_PIN_CHARS} digits or characters."),
            "Hãy chọn mã PIN dài hơn.",
            "Choose a longer PIN.",
        ));
    }
    let same = confirm.is_some_and(|c| *Zeroizing::new(nfc(c)) == *Zeroizing::new(nfc(pin)));
    if !same {
        return Err(Problem::new(
            "pin.mismatch",
            "Hai lần nhập mã PIN không khớp.",
            "The two PINs do not match.",
            "Hãy nhập lại cả hai lần.",
            "Type them both again.",
        ));
    }
    Ok(())
}

/// A failed unlock for the surveyor: the store's PIN and salt messages are bilingual already.
fn unlock_err(e: StoreError) -> Problem {
    match e {
        StoreError::WrongPassphrase => Problem::storage(&e),
        StoreError::SaltMissing { .. }
        | StoreError::SaltInvalid { .. }
        | StoreError::SaltFile { .. }
        | StoreError::NotEncrypted { .. } => e.to_string().into(),
        other => store_err(other),
    }
}

/// Which unlock screen applies. The file is looked at only while the app is locked: an
/// ordinary open/close of the database file would cancel the SQLite locks of the open store.
pub(crate) fn lock_status_in(state: &AppState) -> LockStatus {
    let unlocked = state.is_unlocked();
    let file = match state.db_path() {
        Some(path) if !unlocked => db_file(path),
        _ => DbFile::Encrypted,
    };
    LockStatus {
        unlocked,
        new_pin: file != DbFile::Encrypted,
        converts_plain: file == DbFile::Plain,
        min_pin_chars: MIN_PIN_CHARS,
    }
}

/// Opens the store with `pin`. Without a database yet (or with a plain one from an earlier
/// version) the PIN is being created and `confirm` must repeat it; a plain database is then
/// encrypted in place once. The sync engine's connection must be closed.
pub(crate) fn unlock_in(
    state: &AppState,
    pin: &str,
    confirm: Option<&str>,
) -> CmdResult<LockStatus> {
    if state.is_unlocked() {
        return Ok(lock_status_in(state));
    }
    let path = state.db_path().ok_or(NO_FILE)?;
    let file = db_file(path);
    if file == DbFile::Encrypted {
        if pin.is_empty() {
            return Err(Problem::new(
                "pin.empty",
                "Chưa nhập mã PIN.",
                "No PIN entered.",
                "Hãy nhập mã PIN.",
                "Enter your PIN.",
            ));
        }
    } else {
        check_new_pin(pin, confirm)?;
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            applog::warn(format!("data folder not created ({:?})", e.kind()));
            Problem::new(
                "app.data_folder",
                "Không tạo được thư mục dữ liệu trên máy.",
                "The data folder could not be created on this device.",
                "Hãy kiểm tra bộ nhớ còn trống rồi mở lại ứng dụng.",
                "Check that the device has free space, then open the app again.",
            )
        })?;
    }
    state.claim_instance().inspect_err(|_| {
        applog::warn("unlock refused: the store is in use by another copy of the app");
    })?;
    let opened = match Store::unlock(path, pin) {
        Err(StoreError::NotEncrypted { .. }) => {
            Store::encrypt_plain_file(path, pin).map_err(|e| {
                applog::warn(format!(
                    "encrypting the plain database failed ({})",
                    store_error_kind(&e)
                ));
                unlock_err(e)
            })?;
            applog::info("the plain database of an earlier version was encrypted");
            Store::unlock(path, pin)
        }
        other => other,
    };
    let (store, key) = opened.map_err(|e| {
        applog::warn(format!("unlock failed: {}", store_error_kind(&e)));
        unlock_err(e)
    })?;
    state.unlock(store, key);
    let status = LockStatus {
        unlocked: true,
        new_pin: false,
        converts_plain: false,
        min_pin_chars: MIN_PIN_CHARS,
    };
    applog::info(match file {
        DbFile::New => "new encrypted store created and unlocked",
        DbFile::Plain => "store unlocked (converted from plain)",
        DbFile::Encrypted => "store unlocked",
    });
    Ok(status)
}

/// Changes the PIN (the sync engine's connection must be closed): checks the current PIN,
/// re-encrypts the store under the new one and keeps the new key.
pub(crate) fn change_pin_in(
    state: &AppState,
    old: &str,
    new: &str,
    confirm: &str,
) -> CmdResult<()> {
    check_new_pin(new, Some(confirm))?;
    let path = state.db_path().ok_or(NO_FILE)?.to_path_buf();
    state.store()?.change_passphrase(old, new).map_err(|e| {
        applog::warn(format!("PIN change failed: {}", store_error_kind(&e)));
        unlock_err(e)
    })?;
    // A fresh key for the sync engine's connection (the old one no longer opens the file),
    // from a store opened after the old connection is closed.
    state.reopen(|| Store::unlock(&path, new)).map_err(|e| {
        applog::warn(format!(
            "reopening after the PIN change failed: {}",
            store_error_kind(&e)
        ));
        unlock_err(e)
    })?;
    applog::info("PIN changed");
    Ok(())
}

/// Which unlock screen applies, and whether the app is unlocked.
#[tauri::command(rename_all = "snake_case")]
pub fn lock_status(state: State<'_, AppState>) -> LockStatus {
    lock_status_in(&state)
}

/// Unlocks the app with the surveyor's PIN (creating it on first run: `confirm` repeats it).
/// The key derivation takes a moment, so it runs off the UI thread.
#[tauri::command(rename_all = "snake_case")]
pub async fn unlock(
    app: AppHandle,
    state: State<'_, AppState>,
    pin: String,
    confirm: Option<String>,
) -> CmdResult<LockStatus> {
    let pin = Zeroizing::new(pin);
    let confirm = confirm.map(Zeroizing::new);
    // A sync still running from before "Khóa" finishes and closes its connection first.
    let _paused = state.sync().pause().await;
    tauri::async_runtime::spawn_blocking(move || {
        let state = app.state::<AppState>();
        unlock_in(&state, &pin, confirm.as_ref().map(|c| c.as_str()))
    })
    .await
    .map_err(|_| {
        Problem::plain(
            "pin.interrupted",
            "Mở khóa bị gián đoạn.",
            "Unlocking was interrupted.",
        )
    })?
}

/// Locks the app: closes the store and forgets the key until the PIN is entered again.
#[tauri::command(rename_all = "snake_case")]
pub fn lock(state: State<'_, AppState>) -> LockStatus {
    state.lock();
    applog::info("locked");
    lock_status_in(&state)
}

/// Changes the PIN: `old_pin` must open the store; `new_pin` is typed twice.
#[tauri::command(rename_all = "snake_case")]
pub async fn change_pin(
    app: AppHandle,
    state: State<'_, AppState>,
    old_pin: String,
    new_pin: String,
    confirm: String,
) -> CmdResult<()> {
    let (old, new, confirm) = (
        Zeroizing::new(old_pin),
        Zeroizing::new(new_pin),
        Zeroizing::new(confirm),
    );
    state.ensure_unlocked()?;
    check_new_pin(&new, Some(&confirm))?;
    // No sync may hold a connection while the file is re-encrypted.
    let _paused = state.sync().pause().await;
    tauri::async_runtime::spawn_blocking(move || {
        change_pin_in(&app.state::<AppState>(), &old, &new, &confirm)
    })
    .await
    .map_err(|_| {
        Problem::plain(
            "pin.interrupted",
            "Đổi mã PIN bị gián đoạn.",
            "The PIN change was interrupted.",
        )
    })?
}

// ---- "Quên mã PIN" (H-monitor, issue 13) ----------------------------------------------
//
// The store key is sealed with the organisation's recovery public key at enrolment
// (`<db>.recovery`). A surveyor who forgot the PIN shows the recovery request (the sealed
// key: useless without the province's private key) to the supervisor, who runs
// `sipas-server recovery-code --key recovery.key --request …` and reads back the recovery
// code; with it the surveyor sets a new PIN. Every record stays; the store is re-encrypted
// under the new PIN (so the code no longer opens it) and sealed again for recovery.

/// The device's recovery request (`None`: no recovery key on this device, e.g. enrolled with
/// a server without one; then only the PIN opens it). Works while locked.
#[tauri::command(rename_all = "snake_case")]
pub fn recovery_request(state: State<'_, AppState>) -> CmdResult<Option<String>> {
    let path = state.db_path().ok_or(NO_FILE)?;
    sipas_store::recovery::recovery_request(path).map_err(store_err)
}

/// Opens the store with a recovery `code` and sets a new PIN (typed twice).
pub(crate) fn reset_pin_in(
    state: &AppState,
    code: &str,
    new: &str,
    confirm: &str,
) -> CmdResult<LockStatus> {
    if state.is_unlocked() {
        return Ok(lock_status_in(state));
    }
    check_new_pin(new, Some(confirm))?;
    let path = state.db_path().ok_or(NO_FILE)?.to_path_buf();
    let recovered = sipas_store::recovery::parse_recovery_code(code).map_err(store_err)?;
    state.claim_instance()?;
    let (store, key) = Store::reset_passphrase(&path, &recovered, new).map_err(|e| {
        applog::warn(format!("PIN reset failed: {}", store_error_kind(&e)));
        match e {
            StoreError::WrongPassphrase => Problem::plain(
                "recovery.wrong_code",
                "Mã khôi phục không đúng với thiết bị này.",
                "The recovery code does not fit this device.",
            ),
            other => unlock_err(other),
        }
    })?;
    state.unlock(store, key);
    applog::info("PIN reset with a recovery code");
    Ok(lock_status_in(state))
}

/// "Quên mã PIN": sets a new PIN with the recovery code from the supervisor.
#[tauri::command(rename_all = "snake_case")]
pub async fn reset_pin(
    app: AppHandle,
    state: State<'_, AppState>,
    code: String,
    new_pin: String,
    confirm: String,
) -> CmdResult<LockStatus> {
    let (code, new, confirm) = (
        Zeroizing::new(code),
        Zeroizing::new(new_pin),
        Zeroizing::new(confirm),
    );
    let _paused = state.sync().pause().await;
    tauri::async_runtime::spawn_blocking(move || {
        reset_pin_in(&app.state::<AppState>(), &code, &new, &confirm)
    })
    .await
    .map_err(|e| format!("Đặt lại mã PIN bị gián đoạn / the PIN reset was interrupted: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Problem;
    fn locked() -> Problem {
        Problem::locked()
    }

    fn locked_state(dir: &tempfile::TempDir) -> AppState {
        AppState::locked(&dir.path().join("data").join("app.db"))
    }

    #[test]
    fn first_run_creates_a_pin_typed_twice_and_commands_wait_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = locked_state(&dir);
        let st = lock_status_in(&state);
        assert!(!st.unlocked && st.new_pin && !st.converts_plain, "{st:?}");
        let err = crate::commands::drafts::list_in(&state).unwrap_err();
        assert_eq!(err, locked());
        assert!(err.message_vi.starts_with("Ứng dụng đang khóa"));
        let err = unlock_in(&state, "12345", Some("12345")).unwrap_err();
        assert!(err.message_vi.contains("ít nhất 6"), "{err}");
        let err = unlock_in(&state, "123456", Some("123465")).unwrap_err();
        assert!(err.message_vi.contains("không khớp"), "{err}");
        let err = unlock_in(&state, "123456", None).unwrap_err();
        assert!(err.message_vi.contains("không khớp"), "{err}");
        assert!(!state.is_unlocked());
        assert!(
            !dir.path().join("data").join("app.db").exists(),
            "nothing created before a valid PIN"
        );

        let st = unlock_in(&state, "123456", Some("123456")).unwrap();
        assert!(st.unlocked && !st.new_pin, "{st:?}");
        crate::commands::drafts::tests::free_draft(&state);
        state.lock();
        assert_eq!(
            crate::commands::drafts::list_in(&state).unwrap_err(),
            locked()
        );
        let st = lock_status_in(&state);
        assert!(!st.unlocked && !st.new_pin, "{st:?}");

        let err = unlock_in(&state, "654321", None).unwrap_err();
        assert!(err.message_vi.starts_with("Mã PIN không đúng"), "{err}");
        assert!(!state.is_unlocked());
        unlock_in(&state, "123456", None).unwrap();
        assert_eq!(crate::commands::drafts::list_in(&state).unwrap().len(), 1);
    }

    #[test]
    fn a_plain_database_of_an_earlier_version_is_encrypted_with_the_new_pin() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("app.db");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        {
            let plain = AppState::with_store(Store::open(&path).unwrap(), Some(path.clone()));
            crate::commands::drafts::tests::free_draft(&plain);
        }
        let state = AppState::locked(&path);
        let st = lock_status_in(&state);
        assert!(st.new_pin && st.converts_plain, "{st:?}");
        unlock_in(&state, "Mật khẩu 2026", Some("Mật khẩu 2026")).unwrap();
        assert_eq!(crate::commands::drafts::list_in(&state).unwrap().len(), 1);
        assert_eq!(db_file(&path), DbFile::Encrypted);
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
    }

    #[test]
    fn a_second_copy_of_the_app_cannot_open_the_same_store() {
        let dir = tempfile::tempdir().unwrap();
        let first = locked_state(&dir);
        unlock_in(&first, "123456", Some("123456")).unwrap();
        let second = locked_state(&dir);
        let err = unlock_in(&second, "123456", None).unwrap_err();
        assert_eq!(err, Problem::already_running());
        assert!(!second.is_unlocked());
        drop(first);
        unlock_in(&second, "123456", None).unwrap();
    }

    #[test]
    fn the_pin_can_be_changed() {
        let dir = tempfile::tempdir().unwrap();
        let state = locked_state(&dir);
        unlock_in(&state, "111111", Some("111111")).unwrap();
        crate::commands::drafts::tests::free_draft(&state);
        let err = change_pin_in(&state, "999999", "222222", "222222").unwrap_err();
        assert!(err.message_vi.starts_with("Mã PIN không đúng"), "{err}");
        let err = change_pin_in(&state, "111111", "2222", "2222").unwrap_err();
        assert!(err.message_vi.contains("ít nhất 6"), "{err}");
        change_pin_in(&state, "111111", "222222", "222222").unwrap();
        assert_eq!(crate::commands::drafts::list_in(&state).unwrap().len(), 1);
        state.lock();
        assert!(unlock_in(&state, "111111", None).is_err());
        unlock_in(&state, "222222", None).unwrap();
        assert_eq!(crate::commands::drafts::list_in(&state).unwrap().len(), 1);
    }

    #[test]
    fn a_forgotten_pin_is_reset_with_the_recovery_code_and_nothing_is_lost() {
        use sipas_store::recovery::{generate_recovery_keypair, recovery_code_from_request};
        let dir = tempfile::tempdir().unwrap();
        let state = locked_state(&dir);
        unlock_in(&state, "111111", Some("111111")).unwrap();
        crate::commands::drafts::tests::free_draft(&state);
        let pair = generate_recovery_keypair();
        let key = state.sync().database_key().unwrap();
        state
            .store()
            .unwrap()
            .set_recovery_public_key(&pair.public, &key)
            .unwrap();
        state.lock();
        // forgotten: the request goes to the supervisor, the code comes back
        let path = dir.path().join("data").join("app.db");
        let request = sipas_store::recovery::recovery_request(&path)
            .unwrap()
            .unwrap();
        let wrong = generate_recovery_keypair();
        assert!(recovery_code_from_request(&wrong.secret, &request).is_err());
        let code = recovery_code_from_request(&pair.secret, &request).unwrap();
        let err = reset_pin_in(&state, &"0".repeat(64), "333333", "333333").unwrap_err();
        assert!(
            err.message_vi.contains("Mã khôi phục không đúng"),
            "{err:?}"
        );
        let err = reset_pin_in(&state, "abc", "333333", "333333").unwrap_err();
        assert!(err.message_vi.contains("khôi phục"), "{err:?}");
        assert!(reset_pin_in(&state, &code, "3333", "3333").is_err());
        assert!(!state.is_unlocked());
        reset_pin_in(&state, &code, "333333", "333333").unwrap();
        assert_eq!(crate::commands::drafts::list_in(&state).unwrap().len(), 1);
        state.lock();
        assert!(unlock_in(&state, "111111", None).is_err());
        unlock_in(&state, "333333", None).unwrap();
        assert_eq!(crate::commands::drafts::list_in(&state).unwrap().len(), 1);
    }
}
