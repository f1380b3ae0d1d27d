//! The questionnaires shipped in `schemas/`, embedded at compile time (stub: being written).
