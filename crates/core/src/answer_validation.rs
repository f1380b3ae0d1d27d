//! Validation of answers against a questionnaire (stub: being written).
