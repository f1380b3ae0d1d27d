//! The hand-over folder the surveyor chose with the system's folder dialog
//! (`tauri-plugin-dialog`): never a typed path. The choice is kept in `<db file>.handover-dir`
//! (the folder's path as text, no personal data); without it (or when the folder is gone) the
//! default folder applies (`SIPAS Field - ban giao` in Documents, see
//! [`super::sync::handover_dir`]).
//!
//! Where no folder dialog exists (a phone, or a desktop without one) the command answers a
//! plain problem and the default folder stays in use: nothing crashes.
use crate::applog;
use crate::problem::Problem;
use crate::state::{AppState, CmdResult};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tauri::Manager;

/// The hand-over folder in use and whether the surveyor chose it.
#[derive(Debug, Serialize)]
pub struct HandoverFolder {
    /// The folder hand-over files go to.
    pub dir: String,
    /// `true`: chosen with the folder dialog; `false`: the default folder.
    pub chosen: bool,
}

fn choice_file(db: &Path) -> PathBuf {
    db.with_extension("handover-dir")
}

/// The chosen folder, if one was chosen and still is a folder.
pub(crate) fn chosen_dir(db: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(choice_file(db)).ok()?;
    let dir = PathBuf::from(text.trim_end_matches(['\r', '\n']));
    (dir.is_absolute() && dir.is_dir()).then_some(dir)
}

/// Keeps `dir` as the hand-over folder, once it is known to take files.
pub(crate) fn save_choice(db: &Path, dir: &Path) -> CmdResult<()> {
    if !dir.is_absolute() || !writable(dir) {
        return Err(not_writable());
    }
    std::fs::write(choice_file(db), dir.display().to_string()).map_err(|e| {
        applog::warn(format!("hand-over folder choice not kept ({:?})", e.kind()));
        not_writable()
    })
}

/// Back to the default folder.
pub(crate) fn clear_choice(db: &Path) {
    let _ = std::fs::remove_file(choice_file(db));
}

/// Whether a file can be written (and removed) in `dir`.
fn writable(dir: &Path) -> bool {
    let probe = dir.join(".sipas-field-probe");
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

fn not_writable() -> Problem {
    Problem::new(
        "handover.folder_not_writable",
        "Không lưu được tệp vào thư mục đã chọn.",
        "Files cannot be saved in the chosen folder.",
        "Hãy chọn thư mục khác (ví dụ thẻ nhớ hoặc USB đã cắm), hoặc dùng thư mục mặc định.",
        "Choose another folder (for example a memory card or USB stick that is plugged in), or use the default folder.",
    )
}

fn no_dialog() -> Problem {
    Problem::new(
        "handover.no_dialog",
        "Máy này không mở được cửa sổ chọn thư mục.",
        "This device cannot open the folder picker.",
        "Tệp bàn giao vẫn được lưu vào thư mục mặc định.",
        "Hand-over files are still saved in the default folder.",
    )
}

fn db_path(app: &tauri::AppHandle) -> CmdResult<PathBuf> {
    app.state::<AppState>()
        .db_path()
        .map(Path::to_path_buf)
        .ok_or_else(no_dialog)
}

fn folder(app: &tauri::AppHandle) -> CmdResult<HandoverFolder> {
    let dir = super::sync::handover_dir(app)?;
    let chosen = app
        .state::<AppState>()
        .db_path()
        .and_then(chosen_dir)
        .is_some_and(|c| c == dir);
    Ok(HandoverFolder {
        dir: dir.display().to_string(),
        chosen,
    })
}

/// The hand-over folder in use.
#[tauri::command(rename_all = "snake_case")]
pub fn handover_folder(app: tauri::AppHandle) -> CmdResult<HandoverFolder> {
    folder(&app)
}

/// Opens the system's folder dialog (titled `title`, in the UI's language) and keeps the
/// folder picked as the hand-over folder. Cancelling changes nothing. Where there is no
/// folder dialog the answer is the problem `handover.no_dialog` and the default stays.
#[tauri::command(rename_all = "snake_case")]
pub async fn choose_handover_dir(
    app: tauri::AppHandle,
    title: String,
) -> CmdResult<HandoverFolder> {
    let db = db_path(&app)?;
    let Some(picked) = pick_folder(&app, &title).await? else {
        return folder(&app);
    };
    save_choice(&db, &picked)?;
    applog::info("hand-over folder chosen with the folder dialog");
    folder(&app)
}

/// Back to the default hand-over folder.
#[tauri::command(rename_all = "snake_case")]
pub fn use_default_handover_dir(app: tauri::AppHandle) -> CmdResult<HandoverFolder> {
    clear_choice(&db_path(&app)?);
    folder(&app)
}

/// The folder picked in the system dialog (`None`: cancelled).
#[cfg(desktop)]
async fn pick_folder(app: &tauri::AppHandle, title: &str) -> CmdResult<Option<PathBuf>> {
    use tauri_plugin_dialog::{Dialog, DialogExt};
    if app.try_state::<Dialog<tauri::Wry>>().is_none() {
        return Err(no_dialog());
    }
    let mut builder = app.dialog().file().set_title(title.trim());
    if let Ok(start) = super::sync::handover_dir(app) {
        builder = builder.set_directory(start);
    }
    if let Some(window) = app.get_webview_window("main") {
        builder = builder.set_parent(&window);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    builder.pick_folder(move |picked| {
        let _ = tx.send(picked);
    });
    match rx.await {
        Ok(None) => Ok(None),
        Ok(Some(picked)) => picked.into_path().map(Some).map_err(|_| {
            applog::warn("the folder dialog answered something that is not a folder path");
            not_writable()
        }),
        Err(_) => {
            applog::warn("the folder dialog closed without an answer");
            Err(no_dialog())
        }
    }
}

#[cfg(not(desktop))]
async fn pick_folder(_app: &tauri::AppHandle, _title: &str) -> CmdResult<Option<PathBuf>> {
    Err(no_dialog())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_folder_is_kept_until_it_is_gone_or_the_default_is_chosen_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("app.db");
        assert_eq!(chosen_dir(&db), None, "no choice: the default applies");

        let usb = dir.path().join("USB ban giao");
        std::fs::create_dir(&usb).unwrap();
        save_choice(&db, &usb).unwrap();
        assert_eq!(chosen_dir(&db).as_deref(), Some(usb.as_path()));
        assert!(
            std::fs::read_dir(&usb).unwrap().next().is_none(),
            "the write check leaves nothing behind"
        );

        // A relative path or a folder that does not exist is refused, the choice stays.
        let err = save_choice(&db, Path::new("relative")).unwrap_err();
        assert_eq!(err.code, "handover.folder_not_writable");
        assert!(save_choice(&db, &dir.path().join("missing")).is_err());
        assert_eq!(chosen_dir(&db).as_deref(), Some(usb.as_path()));

        // The card is taken out: the default applies again (nothing to crash on).
        std::fs::remove_dir(&usb).unwrap();
        assert_eq!(chosen_dir(&db), None);

        std::fs::create_dir(&usb).unwrap();
        save_choice(&db, &usb).unwrap();
        clear_choice(&db);
        assert_eq!(chosen_dir(&db), None);
        clear_choice(&db); // twice is fine
    }

    #[test]
    fn problems_are_plain_in_both_languages() {
        for p in [no_dialog(), not_writable()] {
            assert!(!p.message_vi.is_empty() && !p.action_vi.is_empty());
            assert!(!p.message_en.is_empty() && !p.action_en.is_empty());
            assert!(!p.message_vi.contains("handover"), "{p:?}");
        }
    }
}
