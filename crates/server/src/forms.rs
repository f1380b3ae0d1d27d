//! The registry of questionnaires the server knows (issue 12): the versions stored in
//! `form_versions` (published and retired; drafts are never used), with the built-in
//! definitions (`sipas_core::builtin`) seeded as published at start-up and kept as a fallback.
//! Ingest, review, results, reports and rounds look definitions up here by [`FormKey`].
//!
//! The registry is a cache of the table: [`FormRegistry::reload`] reads it again, and every
//! change through the API (upload, publish, retire, delete) reloads it. This module also holds
//! the life-cycle rules of a version (what may be replaced, published, retired, deleted) and
//! the content hash rule: the hash is the hex SHA-256 of the definition's canonical JSON
//! (RFC 8785, [`sipas_core::canonical::jcs`]), and the stored definition *is* that text.
use crate::problem::{ApiError, ApiResult};
use crate::storage::{FormStatus, FormVersionRow, NewFormVersion, ServerStore, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sipas_core::builtin::BUILTIN_FORM_SOURCES;
use sipas_core::canonical::{jcs, sha256_hex};
use sipas_core::form_loader::{FormErrors, load_form};
use sipas_core::questionnaire::{FormKey, Questionnaire};
use sipas_core::text::nfc;
use sipas_protocol::problem::ProblemCode;
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};
use uuid::Uuid;

/// A built-in form failed its checks (a build defect, never a user error).
#[derive(Debug, thiserror::Error)]
#[error("built-in form {path} is invalid: {message}")]
pub struct FormRegistryError {
    /// Path of the definition under `schemas/`.
    pub path: String,
    /// What the loader reported.
    pub message: String,
}

/// A usable (published or retired) version.
#[derive(Debug, Clone)]
pub struct FormEntry {
    /// The checked definition.
    pub form: Arc<Questionnaire>,
    /// Published or retired.
    pub status: FormStatus,
    /// Hex SHA-256 of the canonical definition.
    pub content_hash: String,
    /// When published (`None`: a built-in not (yet) stored).
    pub published_at: Option<DateTime<Utc>>,
}

/// Questionnaires by `(form_id, version)`.
#[derive(Debug, Default)]
pub struct FormRegistry {
    forms: RwLock<BTreeMap<FormKey, FormEntry>>,
}

/// A definition in its stored form: the canonical JSON text and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    /// RFC 8785 JSON text.
    pub definition: String,
    /// Hex SHA-256 of `definition`.
    pub content_hash: String,
}

/// The canonical text and content hash of a definition given as JSON.
pub fn canonical(value: &serde_json::Value) -> Canonical {
    let bytes = jcs(value);
    let content_hash = sha256_hex(&bytes);
    // JCS output of a JSON value is UTF-8 by construction.
    let definition = String::from_utf8_lossy(&bytes).into_owned();
    Canonical {
        definition,
        content_hash,
    }
}

fn builtin_entries() -> Result<Vec<(Questionnaire, Canonical)>, FormRegistryError> {
    BUILTIN_FORM_SOURCES
        .iter()
        .map(|(path, source)| {
            let err = |message: String| FormRegistryError {
                path: (*path).to_string(),
                message,
            };
            let form = load_form(source).map_err(|e| err(issues_text(&e)))?;
            let value: serde_json::Value =
                serde_json::from_str(source).map_err(|e| err(e.to_string()))?;
            Ok((form, canonical(&value)))
        })
        .collect()
}

fn issues_text(e: &FormErrors) -> String {
    e.issues()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl FormRegistry {
    /// The built-in definitions only (as published), before the store is read.
    pub fn builtin() -> Result<Self, FormRegistryError> {
        let registry = FormRegistry::default();
        for (form, c) in builtin_entries()? {
            registry.insert_entry(
                form.key(),
                FormEntry {
                    form: Arc::new(form),
                    status: FormStatus::Published,
                    content_hash: c.content_hash,
                    published_at: None,
                },
            );
        }
        Ok(registry)
    }

    fn map(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<FormKey, FormEntry>> {
        self.forms.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn insert_entry(&self, key: FormKey, entry: FormEntry) {
        self.forms
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, entry);
    }

    /// Adds (or replaces) a definition as published (tests, built-ins).
    pub fn insert(&self, form: Questionnaire) {
        let value = serde_json::to_value(&form).unwrap_or(serde_json::Value::Null);
        let c = canonical(&value);
        self.insert_entry(
            form.key(),
            FormEntry {
                form: Arc::new(form),
                status: FormStatus::Published,
                content_hash: c.content_hash,
                published_at: None,
            },
        );
    }

    /// The definition with this key (published or retired).
    pub fn get(&self, key: &FormKey) -> Option<Arc<Questionnaire>> {
        self.map().get(key).map(|e| e.form.clone())
    }

    /// The entry with this key (published or retired).
    pub fn entry(&self, key: &FormKey) -> Option<FormEntry> {
        self.map().get(key).cloned()
    }

    /// Keys of every usable definition, sorted.
    pub fn keys(&self) -> Vec<FormKey> {
        self.map().keys().cloned().collect()
    }

    /// Every usable entry, by key.
    pub fn entries(&self) -> Vec<(FormKey, FormEntry)> {
        self.map()
            .iter()
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect()
    }

    /// Reads `form_versions` again: published and retired versions replace the cache; a
    /// built-in missing from the table stays (as published). A stored definition the loader
    /// refuses (impossible unless the table was edited by hand) is left out and logged.
    pub async fn reload(&self, store: &dyn ServerStore) -> Result<(), StoreError> {
        let rows = store.form_versions().await?;
        let mut fresh: BTreeMap<FormKey, FormEntry> = BTreeMap::new();
        if let Ok(builtins) = builtin_entries() {
            for (form, c) in builtins {
                fresh.insert(
                    form.key(),
                    FormEntry {
                        form: Arc::new(form),
                        status: FormStatus::Published,
                        content_hash: c.content_hash,
                        published_at: None,
                    },
                );
            }
        }
        for row in rows {
            if row.status == FormStatus::Draft {
                continue;
            }
            match load_form(&row.definition) {
                Ok(form) => {
                    fresh.insert(
                        form.key(),
                        FormEntry {
                            form: Arc::new(form),
                            status: row.status,
                            content_hash: row.content_hash,
                            published_at: row.published_at,
                        },
                    );
                }
                Err(e) => tracing::error!(
                    form_id = %row.form_id,
                    version = %row.version,
                    error = %issues_text(&e),
                    "stored form version does not load; left out"
                ),
            }
        }
        *self.forms.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }
}

/// Stores every built-in definition as published unless its key is stored already (then it
/// is left as it is, e.g. retired). Returns how many were inserted.
pub async fn seed_builtins(store: &dyn ServerStore) -> Result<usize, StoreError> {
    let builtins =
        builtin_entries().map_err(|e| StoreError::Backend(format!("built-in forms: {e}")))?;
    let mut inserted = 0;
    for (form, c) in builtins {
        let new = NewFormVersion {
            form_id: form.form_id.clone(),
            version: form.version.clone(),
            content_hash: c.content_hash,
            definition: c.definition,
            source_xlsx: None,
            title_vi: form.title.vi.clone(),
            uploaded_by: None,
        };
        if store
            .insert_form_version(&new, FormStatus::Published)
            .await?
        {
            inserted += 1;
        }
    }
    Ok(inserted)
}

/// One loader or workbook issue, as the `issues` of a `POST /forms/drafts` problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SheetIssue {
    /// Sheet of the workbook (`null` for a JSON upload).
    pub sheet: Option<String>,
    /// Row (1-based) of the sheet (`null` for a JSON upload).
    pub row: Option<u32>,
    /// Column name (`null` for a JSON upload).
    pub column: Option<String>,
    /// JSON path of the value (JSON uploads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Message (Vietnamese).
    pub message_vi: String,
    /// Message (English).
    pub message_en: String,
}

/// `400.3` listing every issue of a definition.
pub fn issues_problem(issues: Vec<SheetIssue>) -> ApiError {
    ApiError::invalid_input(
        format!(
            "The questionnaire has {} problem(s); nothing was stored.",
            issues.len()
        ),
        format!(
            "Bảng hỏi có {} lỗi; chưa lưu gì. Xem danh sách lỗi.",
            issues.len()
        ),
    )
    .with_details(serde_json::json!({ "issues": issues }))
}

/// Loader issues of a JSON definition as [`SheetIssue`]s (the loader's Vietnamese message when
/// it has one; otherwise the place and the English text).
pub fn loader_issues(e: &FormErrors) -> Vec<SheetIssue> {
    e.issues()
        .iter()
        .map(|i| SheetIssue {
            sheet: None,
            row: None,
            column: None,
            path: Some(i.path.clone()),
            message_vi: i
                .message_vi
                .clone()
                .unwrap_or_else(|| format!("Lỗi tại {}: {}", i.path, i.message)),
            message_en: i.message.clone(),
        })
        .collect()
}

/// A checked upload, ready to store.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The definition.
    pub form: Questionnaire,
    /// Its JSON (as uploaded, or written from a workbook).
    pub value: serde_json::Value,
    /// The workbook, for XLSX uploads.
    pub source_xlsx: Option<Vec<u8>>,
}

/// Checks a JSON upload: not JSON → `400.1`; loader issues → `400.3` with `issues`.
pub fn check_json(bytes: &[u8]) -> ApiResult<Upload> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("the body is not UTF-8"))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| malformed(&e.to_string()))?;
    let value = nfc_value(value);
    let text = value.to_string();
    let form = load_form(&text).map_err(|e| issues_problem(loader_issues(&e)))?;
    Ok(Upload {
        form,
        value,
        source_xlsx: None,
    })
}

/// Checks an XLSX workbook (XLSForm-like, crate `sipas-xlsform`): a workbook the reader
/// refuses → `400.3` with its issues by sheet, row and column; the definition it yields is
/// checked by the loader like a JSON upload. The workbook is kept with the version.
pub fn check_xlsx(bytes: &[u8]) -> ApiResult<Upload> {
    let form = sipas_xlsform::read_xlsform(bytes).map_err(|issues| {
        issues_problem(
            issues
                .into_iter()
                .map(|i| SheetIssue {
                    sheet: (!i.sheet.is_empty()).then_some(i.sheet),
                    row: i.row.and_then(|r| u32::try_from(r).ok()),
                    column: i.column,
                    path: None,
                    message_vi: i.message_vi,
                    message_en: i.message_en,
                })
                .collect(),
        )
    })?;
    let value = serde_json::to_value(&form).map_err(|_| ApiError::internal())?;
    let value = nfc_value(value);
    let form = load_form(&value.to_string()).map_err(|e| issues_problem(loader_issues(&e)))?;
    Ok(Upload {
        form,
        value,
        source_xlsx: Some(bytes.to_vec()),
    })
}

/// The workbook of a definition (for versions uploaded as JSON).
pub fn xlsx_of(form: &Questionnaire) -> Vec<u8> {
    sipas_xlsform::write_xlsform(form)
}

/// Text input is NFC-normalised: every string of the definition.
fn nfc_value(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(nfc(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(nfc_value).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, nfc_value(v))).collect()),
        other => other,
    }
}

fn malformed(detail: &str) -> ApiError {
    ApiError::new(
        ProblemCode::MalformedBody,
        format!("The body is not a JSON questionnaire definition: {detail}."),
        "Nội dung gửi lên không phải tệp JSON bảng hỏi hợp lệ.",
    )
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadOutcome {
    /// A new draft.
    Created,
    /// An existing draft got the new content.
    Replaced,
    /// The same content is stored already (any status): nothing changed.
    Unchanged,
}

fn conflict(message: String, message_vi: String, key: &FormKey, status: FormStatus) -> ApiError {
    ApiError::new(ProblemCode::Conflict, message, message_vi).with_details(serde_json::json!({
        "form_id": key.form_id, "version": key.version, "status": status.as_str(),
    }))
}

/// Stores an upload as a draft. The rule: a new key becomes a draft; a draft is replaced; a
/// published or retired version is immutable — identical content (same hash) is accepted
/// and changes nothing, other content is `409.1`.
pub async fn upload_draft(
    store: &dyn ServerStore,
    upload: Upload,
    actor: Uuid,
) -> ApiResult<(FormVersionRow, UploadOutcome)> {
    let key = upload.form.key();
    let c = canonical(&upload.value);
    let new = NewFormVersion {
        form_id: key.form_id.clone(),
        version: key.version.clone(),
        content_hash: c.content_hash.clone(),
        definition: c.definition,
        source_xlsx: upload.source_xlsx,
        title_vi: upload.form.title.vi.clone(),
        uploaded_by: Some(actor),
    };
    let outcome = match store.form_version(&key.form_id, &key.version).await? {
        None => {
            if store.insert_form_version(&new, FormStatus::Draft).await? {
                UploadOutcome::Created
            } else {
                return Err(ApiError::new(
                    ProblemCode::Conflict,
                    "The version was stored by another upload meanwhile; retry.",
                    "Phiên bản vừa được tải lên bởi người khác; vui lòng thử lại.",
                ));
            }
        }
        Some(old) if old.content_hash == new.content_hash => UploadOutcome::Unchanged,
        Some(old) if old.status == FormStatus::Draft => {
            if store.replace_form_draft(&new).await? {
                UploadOutcome::Replaced
            } else {
                return Err(conflict(
                    format!("{key} was published meanwhile; it cannot be changed."),
                    format!("Bảng hỏi {key} vừa được ban hành nên không thể thay đổi."),
                    &key,
                    FormStatus::Published,
                ));
            }
        }
        Some(old) => {
            return Err(conflict(
                format!(
                    "{key} is {} and cannot be changed: upload the changed questionnaire as a new version.",
                    old.status.as_str()
                ),
                format!(
                    "Bảng hỏi {key} đã {} nên không thể sửa; hãy tải lên với số phiên bản mới.",
                    status_vi(old.status)
                ),
                &key,
                old.status,
            ));
        }
    };
    let row = store
        .form_version(&key.form_id, &key.version)
        .await?
        .ok_or_else(|| ApiError::not_found("form", &key.to_string()))?;
    Ok((row, outcome))
}

/// Vietnamese name of a status.
pub fn status_vi(s: FormStatus) -> &'static str {
    match s {
        FormStatus::Draft => "là bản nháp",
        FormStatus::Published => "ban hành",
        FormStatus::Retired => "ngừng sử dụng",
    }
}

/// The stored version, or `404.1`.
pub async fn existing(store: &dyn ServerStore, key: &FormKey) -> ApiResult<FormVersionRow> {
    store
        .form_version(&key.form_id, &key.version)
        .await?
        .ok_or_else(|| ApiError::not_found("form", &key.to_string()))
}

/// Publishes a draft (a published or retired version: `409.1`).
pub async fn publish(store: &dyn ServerStore, key: &FormKey, actor: Uuid) -> ApiResult<()> {
    let row = existing(store, key).await?;
    if row.status != FormStatus::Draft
        || !store
            .set_form_status(
                &key.form_id,
                &key.version,
                &[FormStatus::Draft],
                FormStatus::Published,
                Some(actor),
            )
            .await?
    {
        return Err(conflict(
            format!(
                "{key} is {}: only a draft can be published.",
                row.status.as_str()
            ),
            format!(
                "Bảng hỏi {key} đã {}: chỉ bản nháp mới ban hành được.",
                status_vi(row.status)
            ),
            key,
            row.status,
        ));
    }
    Ok(())
}

/// Retires a published version (others: `409.1`). Rounds using it keep working; responses
/// stay readable; new rounds refuse it.
pub async fn retire(store: &dyn ServerStore, key: &FormKey, actor: Uuid) -> ApiResult<()> {
    let row = existing(store, key).await?;
    if row.status != FormStatus::Published
        || !store
            .set_form_status(
                &key.form_id,
                &key.version,
                &[FormStatus::Published],
                FormStatus::Retired,
                Some(actor),
            )
            .await?
    {
        return Err(conflict(
            format!(
                "{key} is {}: only a published version can be retired.",
                row.status.as_str()
            ),
            format!(
                "Bảng hỏi {key} {}: chỉ bảng hỏi đang ban hành mới ngừng sử dụng được.",
                status_vi(row.status)
            ),
            key,
            row.status,
        ));
    }
    Ok(())
}

/// Deletes a draft (others: `409.1`).
pub async fn delete_draft(store: &dyn ServerStore, key: &FormKey, actor: Uuid) -> ApiResult<()> {
    let row = existing(store, key).await?;
    if row.status != FormStatus::Draft
        || !store
            .delete_form_draft(&key.form_id, &key.version, Some(actor))
            .await?
    {
        return Err(conflict(
            format!(
                "{key} is {}: only a draft can be deleted.",
                row.status.as_str()
            ),
            format!(
                "Bảng hỏi {key} đã {}: chỉ xoá được bản nháp.",
                status_vi(row.status)
            ),
            key,
            row.status,
        ));
    }
    Ok(())
}

/// Whether a round may be created with (or changed to) this version: only a published one.
/// `400.2` for an unknown or draft version, `409.1` for a retired one.
pub fn usable_for_round(registry: &FormRegistry, key: &FormKey) -> ApiResult<()> {
    match registry.entry(key).map(|e| e.status) {
        Some(FormStatus::Published) => Ok(()),
        Some(FormStatus::Retired) => Err(conflict(
            format!("Questionnaire {key} is retired; new rounds cannot use it."),
            format!("Bảng hỏi {key} đã ngừng sử dụng; đợt khảo sát mới không dùng được."),
            key,
            FormStatus::Retired,
        )),
        _ => Err(ApiError::new(
            ProblemCode::UnknownForm,
            format!("Unknown or unpublished questionnaire {key}."),
            format!("Không có bảng hỏi {key} đã ban hành."),
        )
        .with_details(serde_json::json!({ "form": key }))),
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
        assert!(r.keys().len() >= 2);
        let e = r.entry(&key).unwrap();
        assert_eq!(e.content_hash.len(), 64);
        assert_eq!(e.status, FormStatus::Published);
    }

    #[test]
    fn hash_ignores_layout_and_member_order() {
        let a = canonical(&serde_json::json!({"b": 1, "a": [1.0, "x"]}));
        let b: serde_json::Value =
            serde_json::from_str("{ \"a\" : [1, \"x\"],\n \"b\":1 }").unwrap();
        assert_eq!(a, canonical(&b));
        assert_eq!(a.definition, "{\"a\":[1,\"x\"],\"b\":1}");
    }

    #[test]
    fn malformed_and_invalid_definitions_are_refused() {
        let e = check_json(b"{not json").unwrap_err();
        assert_eq!(e.0.code, "400.1");
        let e = check_json(br#"{"format": 1}"#).unwrap_err();
        assert_eq!(e.0.code, "400.3");
        assert!(
            e.0.details["issues"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        );
    }
}
