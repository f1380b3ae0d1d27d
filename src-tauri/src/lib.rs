//! SIPAS Field surveyor app: a thin Tauri shell. Every command delegates to `sipas-core`
//! (questionnaires, validation) or `sipas-store` (local SQLite); no domain logic lives here.
#![forbid(unsafe_code)]

use serde::Serialize;
use sipas_core::questionnaire::Questionnaire;

/// Summary of one questionnaire shipped with the app, for the form picker.
#[derive(Debug, Serialize)]
pub struct FormSummary {
    /// Form identifier.
    pub form_id: String,
    /// Form version.
    pub version: String,
    /// Vietnamese title.
    pub title_vi: String,
    /// English title, if any.
    pub title_en: Option<String>,
    /// Number of groups (steps).
    pub groups: usize,
    /// Number of items.
    pub items: usize,
}

/// Lists the questionnaires built into this app.
#[tauri::command]
fn list_forms() -> Result<Vec<FormSummary>, String> {
    let forms = sipas_core::builtin::builtin_forms().map_err(|e| e.to_string())?;
    Ok(forms.iter().map(summary).collect())
}

/// Returns one built-in questionnaire definition (the renderer is driven by it).
#[tauri::command]
fn get_form(form_id: String, version: String) -> Result<Questionnaire, String> {
    sipas_core::builtin::builtin_forms()
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|f| f.form_id == form_id && f.version == version)
        .ok_or_else(|| format!("Không tìm thấy phiếu {form_id}@{version} / form not found"))
}

fn summary(f: &Questionnaire) -> FormSummary {
    FormSummary {
        form_id: f.form_id.clone(),
        version: f.version.clone(),
        title_vi: f.title.vi.clone(),
        title_en: f.title.en.clone(),
        groups: f.groups.len(),
        items: f.items().count(),
    }
}

/// Starts the app.
pub fn run() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![list_forms, get_form])
        .run(tauri::generate_context!())
        .expect("error while running SIPAS Field");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_forms_are_listed() {
        let forms = list_forms().expect("built-in forms load");
        assert!(forms.iter().any(|f| f.form_id == "sipas-6-groups"));
        assert!(forms.iter().all(|f| f.items > 0));
    }
}
