//! Storage of published questionnaires (issue 12, migration `0010_form_versions`). Both
//! backends implement [`FormStore`] in their own `*_forms.rs` child module and run the SQL text
//! below unchanged. Storage keeps rows; the life-cycle rules (what may be replaced, published,
//! retired, deleted) live in [`crate::forms`] and reach storage as guarded statements (a
//! status change names the statuses it may start from).
use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Life cycle of a form version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormStatus {
    /// Uploaded and checked; not usable by rounds or devices.
    Draft,
    /// Immutable; usable by rounds; devices download it.
    Published,
    /// Still readable (old responses are scored with it); new rounds refuse it.
    Retired,
}

impl FormStatus {
    /// Stored / wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            FormStatus::Draft => "draft",
            FormStatus::Published => "published",
            FormStatus::Retired => "retired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<FormStatus> {
        [
            FormStatus::Draft,
            FormStatus::Published,
            FormStatus::Retired,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// A stored form version (without its workbook).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormVersionRow {
    /// Form id.
    pub form_id: String,
    /// Version.
    pub version: String,
    /// Hex SHA-256 of `definition`.
    pub content_hash: String,
    /// Canonical JSON text of the definition.
    pub definition: String,
    /// Whether an XLSX workbook was uploaded with it.
    pub has_xlsx: bool,
    /// Life cycle.
    pub status: FormStatus,
    /// Vietnamese title.
    pub title_vi: String,
    /// Who uploaded it (`None`: built-in seed).
    pub uploaded_by: Option<Uuid>,
    /// When.
    pub uploaded_at: DateTime<Utc>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    pub retired_at: Option<DateTime<Utc>>,
}

/// A version to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFormVersion {
    /// Form id.
    pub form_id: String,
    /// Version.
    pub version: String,
    /// Hex SHA-256 of `definition`.
    pub content_hash: String,
    /// Canonical JSON text.
    pub definition: String,
    /// Uploaded workbook.
    pub source_xlsx: Option<Vec<u8>>,
    /// Vietnamese title.
    pub title_vi: String,
    /// Uploader (`None`: built-in seed).
    pub uploaded_by: Option<Uuid>,
}

/// The published questionnaires of a server.
#[async_trait]
pub trait FormStore: Send + Sync {
    /// Every stored version, by form id then version.
    async fn form_versions(&self) -> Result<Vec<FormVersionRow>, StoreError>;
    /// One version.
    async fn form_version(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<FormVersionRow>, StoreError>;
    /// The workbook uploaded with a version (`None`: no such version or no workbook).
    async fn form_xlsx(&self, form_id: &str, version: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Inserts a version with `status` (`published_at` = now when published) unless the key
    /// exists; returns whether it was inserted. Audit `form.uploaded` (or `form.seeded` for
    /// a seed without uploader) when inserted.
    async fn insert_form_version(
        &self,
        new: &NewFormVersion,
        status: FormStatus,
    ) -> Result<bool, StoreError>;
    /// Replaces the content of a version that is still a draft; returns whether a draft was
    /// replaced. Audit `form.uploaded`.
    async fn replace_form_draft(&self, new: &NewFormVersion) -> Result<bool, StoreError>;
    /// Moves a version from one of `from` to `to` (stamping `published_at` / `retired_at`);
    /// returns whether a row changed. Audit `form.published` / `form.retired`.
    async fn set_form_status(
        &self,
        form_id: &str,
        version: &str,
        from: &[FormStatus],
        to: FormStatus,
        actor: Option<Uuid>,
    ) -> Result<bool, StoreError>;
    /// Deletes a version that is still a draft; returns whether one was deleted. Audit
    /// `form.draft_deleted`.
    async fn delete_form_draft(
        &self,
        form_id: &str,
        version: &str,
        actor: Option<Uuid>,
    ) -> Result<bool, StoreError>;
}

/// Columns of a [`FormVersionRow`], in the order the row readers expect.
pub(crate) const FORM_COLS: &str = "form_id, version, content_hash, definition, \
     source_xlsx IS NOT NULL, status, title_vi, uploaded_by, uploaded_at, published_at, \
     retired_at";

/// Inserts a version: `$1` form_id … `$7` uploaded_by, `$8` status, `$9` uploaded_at,
/// `$10` published_at.
pub(crate) const INSERT_FORM: &str = "INSERT INTO form_versions \
     (form_id, version, content_hash, definition, source_xlsx, title_vi, uploaded_by, status, \
     uploaded_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (form_id, version) DO NOTHING";

/// Replaces a draft: `$1` hash, `$2` definition, `$3` xlsx, `$4` title, `$5` uploaded_by,
/// `$6` uploaded_at, `$7` form_id, `$8` version. (Parameters appear in order: SQLite numbers
/// `$N` names by first appearance.)
pub(crate) const REPLACE_DRAFT: &str = "UPDATE form_versions SET content_hash = $1, \
     definition = $2, source_xlsx = $3, title_vi = $4, uploaded_by = $5, uploaded_at = $6 \
     WHERE form_id = $7 AND version = $8 AND status = 'draft'";

/// Deletes a draft: `$1` form_id, `$2` version.
pub(crate) const DELETE_DRAFT: &str =
    "DELETE FROM form_versions WHERE form_id = $1 AND version = $2 AND status = 'draft'";

/// The status change statement for `to` (published or retired) from any of `from`: `$1`
/// time, `$2` form_id, `$3` version. `None` for `to` = draft (never done).
pub(crate) fn status_sql(from: &[FormStatus], to: FormStatus) -> Option<String> {
    let stamp = match to {
        FormStatus::Published => "published_at",
        FormStatus::Retired => "retired_at",
        FormStatus::Draft => return None,
    };
    let from = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let from = if from.is_empty() {
        "''".to_owned()
    } else {
        from
    };
    Some(format!(
        "UPDATE form_versions SET status = '{}', {stamp} = $1 WHERE form_id = $2 \
         AND version = $3 AND status IN ({from})",
        to.as_str()
    ))
}

/// Audit entity id of a version: `form_id@version`.
pub(crate) fn entity(form_id: &str, version: &str) -> String {
    format!("{form_id}@{version}")
}

/// Audit action of a status change.
pub(crate) fn status_action(to: FormStatus) -> &'static str {
    match to {
        FormStatus::Published => "form.published",
        FormStatus::Retired => "form.retired",
        FormStatus::Draft => "form.unpublished",
    }
}
