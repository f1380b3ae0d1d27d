//! The registry of questionnaires the server knows: the built-in published definitions,
//! checked with the form loader at start-up and looked up by [`FormKey`].
use sipas_core::builtin::BUILTIN_FORM_SOURCES;
use sipas_core::form_loader::load_form;
use sipas_core::questionnaire::{FormKey, Questionnaire};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A built-in form failed its checks (a build defect, never a user error).
#[derive(Debug, thiserror::Error)]
#[error("built-in form {path} is invalid: {message}")]
pub struct FormRegistryError {
    /// Path of the definition under `schemas/`.
    pub path: String,
    /// What the loader reported.
    pub message: String,
}

/// Questionnaires by `(form_id, version)`.
#[derive(Debug, Clone, Default)]
pub struct FormRegistry {
    forms: BTreeMap<FormKey, Arc<Questionnaire>>,
}

impl FormRegistry {
    /// Loads and checks every built-in definition.
    pub fn builtin() -> Result<Self, FormRegistryError> {
        let mut registry = FormRegistry::default();
        for (path, source) in BUILTIN_FORM_SOURCES {
            let form = load_form(source).map_err(|e| FormRegistryError {
                path: (*path).to_string(),
                message: e
                    .issues()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
            registry.insert(form);
        }
        Ok(registry)
    }

    /// Adds (or replaces) a definition.
    pub fn insert(&mut self, form: Questionnaire) {
        self.forms.insert(form.key(), Arc::new(form));
    }

    /// The definition with this key.
    pub fn get(&self, key: &FormKey) -> Option<Arc<Questionnaire>> {
        self.forms.get(key).cloned()
    }

    /// Keys of every known definition, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &FormKey> {
        self.forms.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_forms_load() {
        let r = FormRegistry::builtin().expect("built-in forms are valid");
        let key = FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        };
        assert!(r.get(&key).is_some());
        assert!(r.keys().count() >= 2);
    }
}
