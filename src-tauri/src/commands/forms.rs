//! Questionnaires on the device: downloaded from the server (issue 12) first, built into the
//! app second; and the catalogue options of `choices_from` items.
use crate::problem::Problem;
use crate::state::{AppState, CmdResult};
use serde::Serialize;
use sipas_core::questionnaire::{FormKey, Questionnaire};
use sipas_store::{CATALOGUE_KINDS, CatalogueOption};
use tauri::State;

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

/// Lists the questionnaires on this device (downloaded, then built-in).
#[tauri::command(rename_all = "snake_case")]
pub fn list_forms(state: State<'_, AppState>) -> CmdResult<Vec<FormSummary>> {
    state.ensure_unlocked()?;
    Ok(list_forms_in(&state))
}

/// Returns one questionnaire definition (the renderer is driven by it).
#[tauri::command(rename_all = "snake_case")]
pub fn get_form(
    state: State<'_, AppState>,
    form_id: String,
    version: String,
) -> CmdResult<Questionnaire> {
    state.ensure_unlocked()?;
    state
        .form(&FormKey { form_id, version })
        .map(|f| f.as_ref().clone())
}

/// Returns the catalogue options of `kind` (`agencies`, `procedures`, `fields`, `units`) in
/// the form model's option shape `{value, label: {vi}, attrs}`: of `round_id` when given,
/// otherwise of every round on the device (each code once).
#[tauri::command(rename_all = "snake_case")]
pub fn get_catalogue_options(
    state: State<'_, AppState>,
    kind: String,
    round_id: Option<String>,
) -> CmdResult<Vec<CatalogueOption>> {
    catalogue_options_in(&state, &kind, round_id.as_deref())
}

pub(crate) fn catalogue_options_in(
    state: &AppState,
    kind: &str,
    round_id: Option<&str>,
) -> CmdResult<Vec<CatalogueOption>> {
    if !CATALOGUE_KINDS.contains(&kind) {
        crate::applog::warn(format!("unknown catalogue kind {kind:?}"));
        return Err(Problem::new(
            "catalogue.unknown",
            "Phiếu này dùng một danh mục mà ứng dụng không có.",
            "This form uses a list the app does not have.",
            "Hãy báo cho giám sát viên để kiểm tra phiếu.",
            "Tell your supervisor so the form can be checked.",
        ));
    }
    state
        .store()?
        .catalogue_options(kind, round_id)
        .map_err(Problem::from)
}

pub(crate) fn list_forms_in(state: &AppState) -> Vec<FormSummary> {
    state.forms().iter().map(|f| summary(f)).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_state;

    #[test]
    fn builtin_forms_are_listed_and_found() {
        let state = test_state();
        let forms = list_forms_in(&state);
        assert!(forms.iter().any(|f| f.form_id == "sipas-6-groups"));
        assert!(forms.iter().all(|f| f.items > 0 && f.groups > 0));
        let key = FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        };
        assert_eq!(state.form(&key).unwrap().groups.len(), 10);
        let missing = FormKey {
            form_id: "sipas-6-groups".into(),
            version: "0.0".into(),
        };
        assert_eq!(state.form(&missing).unwrap_err().code, "form.unknown");
    }

    #[test]
    fn downloaded_forms_come_first_and_catalogue_options_are_read() {
        let state = test_state();
        // A downloaded form that is not built in, and a downloaded copy of a built-in key
        // with another title: both are found in the store first.
        let (_, source) = sipas_core::builtin::BUILTIN_FORM_SOURCES[0];
        let mut def: serde_json::Value = serde_json::from_str(source).unwrap();
        let builtin_key = FormKey {
            form_id: def["form_id"].as_str().unwrap().into(),
            version: def["version"].as_str().unwrap().into(),
        };
        def["title"]["vi"] = "Bản tải về".into();
        let (hash, _) = sipas_store::form_content_hash(&def);
        let mut other = def.clone();
        other["form_id"] = "hn-tai-ve".into();
        let (other_hash, _) = sipas_store::form_content_hash(&other);
        {
            let mut store = state.store().unwrap();
            store
                .save_form(
                    &builtin_key.form_id,
                    &builtin_key.version,
                    &hash,
                    &def,
                    "published",
                )
                .unwrap();
            let v = other["version"].as_str().unwrap().to_owned();
            store
                .save_form("hn-tai-ve", &v, &other_hash, &other, "published")
                .unwrap();
            let mut bundle = std::collections::BTreeMap::new();
            bundle.insert(
                "fields".to_owned(),
                vec![CatalogueOption {
                    value: "dat_dai".into(),
                    label: sipas_store::OptionLabel {
                        vi: "Đất đai".into(),
                    },
                    attrs: Default::default(),
                }],
            );
            store.replace_catalogue_options("R1", &bundle).unwrap();
        }
        assert_eq!(state.form(&builtin_key).unwrap().title.vi, "Bản tải về");
        let key = FormKey {
            form_id: "hn-tai-ve".into(),
            version: builtin_key.version.clone(),
        };
        assert!(state.form(&key).is_ok());
        let listed = list_forms_in(&state);
        assert_eq!(
            listed
                .iter()
                .filter(|f| f.form_id == builtin_key.form_id && f.version == builtin_key.version)
                .count(),
            1
        );
        let fields = catalogue_options_in(&state, "fields", None).unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].label.vi, "Đất đai");
        assert!(
            catalogue_options_in(&state, "fields", Some("R2"))
                .unwrap()
                .is_empty()
        );
        assert!(catalogue_options_in(&state, "nonsense", None).is_err());
    }
}
