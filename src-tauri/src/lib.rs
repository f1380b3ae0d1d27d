//! SIPAS Field surveyor app: a thin Tauri shell. Every command delegates to `sipas-core`
//! (questionnaires, validation) or `sipas-store` (local SQLite); no domain logic lives here.
//!
//! The store file is `$SIPAS_DB` when set, else `<app data dir>/sipas-field.db`; it is
//! encrypted and opened only once the surveyor enters the PIN (commands::unlock). The app's
//! own log goes to `$SIPAS_LOG_FILE` when set (applog).
#![forbid(unsafe_code)]

pub mod applog;
pub mod commands;
pub mod problem;
pub mod state;

use state::{AppState, DB_ENV, DB_FILE};
use std::path::PathBuf;
use tauri::Manager;

/// Where the store file lives for this run.
fn db_path(app: &tauri::AppHandle) -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(p) = std::env::var_os(DB_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    Ok(app.path().app_data_dir()?.join(DB_FILE))
}

/// Starts the app (desktop `main`, and the Android/iOS entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .setup(|app| {
            let path = db_path(app.handle())?;
            applog::info(format!("started, version {}", env!("CARGO_PKG_VERSION")));
            app.manage(AppState::locked(&path));
            tauri::async_runtime::spawn(commands::sync::auto_sync(app.handle().clone()));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::unlock::lock_status,
            commands::unlock::unlock,
            commands::unlock::lock,
            commands::unlock::change_pin,
            commands::forms::list_forms,
            commands::forms::get_form,
            commands::forms::get_catalogue_options,
            commands::assignments::list_assignments,
            commands::assignments::set_assignment_status,
            commands::drafts::start_draft,
            commands::drafts::free_rounds,
            commands::drafts::list_drafts,
            commands::drafts::get_draft,
            commands::drafts::save_answer,
            commands::drafts::set_current_group,
            commands::drafts::discard_draft,
            commands::drafts::end_ineligible,
            commands::responses::review,
            commands::responses::submit,
            commands::responses::list_responses,
            commands::responses::reopen_response,
            commands::sync::sync_status,
            commands::sync::enrol,
            commands::sync::sync_now,
            commands::sync::handover_default_dir,
            commands::sync::open_handover_dir,
            commands::sync::export_handover,
            commands::sync::apply_handover_result,
            commands::monitor::monitor_status,
            commands::monitor::monitor_login,
            commands::monitor::monitor_tasks,
            commands::monitor::monitor_submit,
            commands::monitor::monitor_sync,
            commands::unlock::recovery_request,
            commands::unlock::reset_pin,
            commands::monitor::monitor_logout,
        ])
        .run(tauri::generate_context!())
        .expect("error while running SIPAS Field");
}
