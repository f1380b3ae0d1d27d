//! Loading and checking questionnaire definitions (stub: being written).
use crate::questionnaire::Questionnaire;

/// One mistake in a questionnaire definition, located by its JSON path (e.g. `$.groups[2].items[0].scale`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormIssue {
    /// JSON path of the offending value.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// All mistakes found in a definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("questionnaire definition is invalid: {}", .0.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; "))]
pub struct FormErrors(pub Vec<FormIssue>);

/// Parses and checks a questionnaire definition.
pub fn load_form(json: &str) -> Result<Questionnaire, FormErrors> {
    serde_json::from_str(json).map_err(|e| {
        FormErrors(vec![FormIssue {
            path: "$".into(),
            message: e.to_string(),
        }])
    })
}
