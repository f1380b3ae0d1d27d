//! The questionnaires shipped in `schemas/`, embedded at compile time.
//!
//! Each entry is the exact text of a published definition, so the app can offer these forms
//! with no files on the device. A published version is never edited: a changed form is a new
//! file (new version) and a new entry here, and old entries stay so that responses collected
//! with them can still be read and scored. The format is described in `schemas/README.md`.

use crate::form_loader::{FormErrors, load_form};
use crate::questionnaire::Questionnaire;

/// The built-in questionnaire definitions as `(path under schemas/, JSON source)` pairs.
///
/// The path is always `<form_id>/<version>.json`, and the JSON inside names the same
/// `form_id` and `version`.
pub const BUILTIN_FORM_SOURCES: &[(&str, &str)] = &[
    // Local six-group form: the five QĐ 2640/QĐ-BNV elements plus an overall-satisfaction group.
    (
        "sipas-6-groups/2026.1.json",
        include_str!("../../../schemas/sipas-6-groups/2026.1.json"),
    ),
    // National household form in the QĐ 1001/QĐ-BNV (2023–2026) style: assessments, policy
    // satisfaction (A–D), service-delivery satisfaction (5 elements), expectations.
    (
        "sipas-national-2023/2023.1.json",
        include_str!("../../../schemas/sipas-national-2023/2023.1.json"),
    ),
];

/// Loads and checks every built-in questionnaire (see [`crate::form_loader::load_form`]).
///
/// Fails only if a shipped definition is broken, which the tests below rule out.
pub fn builtin_forms() -> Result<Vec<Questionnaire>, FormErrors> {
    BUILTIN_FORM_SOURCES
        .iter()
        .map(|(_, source)| load_form(source))
        .collect()
}

/// The built-in questionnaire with this form id and version, if shipped.
pub fn builtin_form(form_id: &str, version: &str) -> Option<Questionnaire> {
    builtin_forms()
        .ok()?
        .into_iter()
        .find(|f| f.form_id == form_id && f.version == version)
}

#[cfg(test)]
mod tests {
    use super::BUILTIN_FORM_SOURCES;
    use crate::questionnaire::Questionnaire;

    #[test]
    fn every_builtin_source_parses_and_matches_its_path() {
        assert!(!BUILTIN_FORM_SOURCES.is_empty());
        for (path, source) in BUILTIN_FORM_SOURCES {
            let form: Questionnaire = serde_json::from_str(source)
                .unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
            assert_eq!(
                *path,
                format!("{}/{}.json", form.form_id, form.version),
                "form_id/version inside {path} must match its path"
            );
            assert_eq!(form.format, 1, "{path}: format");
        }
    }

    #[test]
    fn builtin_forms_pass_every_loader_check() {
        let forms = super::builtin_forms().expect("shipped forms are valid");
        assert_eq!(forms.len(), BUILTIN_FORM_SOURCES.len());
        let six = super::builtin_form("sipas-6-groups", "2026.1").expect("six-group form");
        let criteria_groups = six
            .groups
            .iter()
            .filter(|g| g.kind == crate::questionnaire::GroupKind::Criteria)
            .count();
        assert_eq!(criteria_groups, 6, "six content groups");
        assert!(super::builtin_form("sipas-6-groups", "0.0").is_none());
    }

    #[test]
    fn builtin_paths_are_unique() {
        let mut paths: Vec<&str> = BUILTIN_FORM_SOURCES.iter().map(|(p, _)| *p).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), BUILTIN_FORM_SOURCES.len());
    }
}
