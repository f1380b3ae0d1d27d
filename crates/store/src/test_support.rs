//! Shared fixtures for the unit tests: file-backed stores in a temporary directory.
use crate::{Assignment, AssignmentStatus, Contact, NewDraft, Store};
use chrono::{DateTime, Utc};
use sipas_core::questionnaire::FormKey;
use std::path::PathBuf;
use tempfile::TempDir;
use uuid::Uuid;

/// A temporary directory holding one store file; the directory lives as long as this value.
pub(crate) struct TempStore {
    _dir: TempDir,
    /// Path of the SQLite file.
    pub(crate) path: PathBuf,
}

impl TempStore {
    /// A new, not yet created, store path.
    pub(crate) fn new() -> TempStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sipas.db");
        TempStore { _dir: dir, path }
    }

    /// Opens (or reopens) the store file.
    pub(crate) fn open(&self) -> Store {
        Store::open(&self.path).expect("open store")
    }
}

/// The form used in tests.
pub(crate) fn form() -> FormKey {
    FormKey {
        form_id: "sipas-6-groups".into(),
        version: "2026.1".into(),
    }
}

/// A fixed timestamp.
pub(crate) fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A not-visited assignment.
pub(crate) fn assignment() -> Assignment {
    Assignment {
        id: Uuid::now_v7(),
        round_id: "2026-HN-1".into(),
        unit_code: "00004".into(),
        form: form(),
        procedure: "Cấp giấy khai sinh".into(),
        status: AssignmentStatus::NotVisited,
        status_note: None,
        updated_at: at("2026-01-01T00:00:00Z"),
        names: Default::default(),
    }
}

/// Contact data that must never leak into answers or the audit log.
pub(crate) fn contact() -> Contact {
    Contact {
        respondent_name: Some("Nguyễn Văn Bí Mật".into()),
        address: Some("12 Phố Riêng Tư, Hà Nội".into()),
        phone: Some("0912345678".into()),
    }
}

/// A draft for `assignment_id`.
pub(crate) fn new_draft(assignment_id: Option<Uuid>) -> NewDraft {
    NewDraft {
        assignment_id,
        form: form(),
        round_id: "2026-HN-1".into(),
        unit_code: "00004".into(),
    }
}
