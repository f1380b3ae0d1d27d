//! Published questionnaires (issue 12): `GET /forms`, `POST /forms/drafts`,
//! `GET /forms/{form_id}/{version}[/xlsx]`, `POST …/publish`, `POST …/retire`,
//! `DELETE /forms/{form_id}/{version}` and the device catalogue bundle
//! `GET /rounds/{id}/catalogue-bundle`. The life-cycle rules live in [`crate::forms`].
use crate::app::AppState;
use crate::auth::{Caller, require_any, require_cap};
use crate::extract::{ApiPath, ApiQuery, read_body};
use crate::forms::{self, UploadOutcome};
use crate::handlers::rounds::visible_round;
use crate::problem::{ApiError, ApiResult};
use crate::scope::{self, within};
use crate::storage::{FormStatus, FormVersionRow};
use crate::table_file::XLSX_CONTENT_TYPE;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sipas_core::questionnaire::FormKey;
use sipas_protocol::problem::ProblemCode;
use sipas_protocol::roles::Capability;
use std::collections::BTreeMap;

/// Largest questionnaire upload (JSON or XLSX).
pub const MAX_FORM_BYTES: usize = 5 * 1024 * 1024;

/// A questionnaire version as `GET /forms` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormInfo {
    /// Form id.
    pub id: String,
    /// Version.
    pub version: String,
    /// `form_id@version`.
    pub key: String,
    /// Title (Vietnamese).
    pub title_vi: String,
    /// Title (English; the Vietnamese one when the form has none).
    pub title_en: String,
    /// `draft`, `published` or `retired`.
    pub status: FormStatus,
    /// Hex SHA-256 of the canonical definition.
    pub content_hash: String,
    /// When published (`null`: draft, or a built-in not stored).
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    #[serde(default)]
    pub retired_at: Option<DateTime<Utc>>,
    /// Whether an XLSX workbook was uploaded with it.
    #[serde(default)]
    pub has_xlsx: bool,
}

fn titles(definition: &serde_json::Value, fallback: &str) -> (String, String) {
    let vi = definition["title"]["vi"]
        .as_str()
        .unwrap_or(fallback)
        .to_owned();
    let en = definition["title"]["en"].as_str().unwrap_or(&vi).to_owned();
    (vi, en)
}

fn info(row: &FormVersionRow) -> FormInfo {
    let value: serde_json::Value =
        serde_json::from_str(&row.definition).unwrap_or(serde_json::Value::Null);
    let (title_vi, title_en) = titles(&value, &row.title_vi);
    FormInfo {
        id: row.form_id.clone(),
        version: row.version.clone(),
        key: format!("{}@{}", row.form_id, row.version),
        title_vi,
        title_en,
        status: row.status,
        content_hash: row.content_hash.clone(),
        published_at: row.published_at,
        retired_at: row.retired_at,
        has_xlsx: row.has_xlsx,
    }
}

/// `GET /forms` query.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only versions with this status.
    #[serde(default)]
    pub status: Option<FormStatus>,
}

/// `GET /api/v1/forms[?status=draft|published|retired]` (rounds.read or forms.read): every
/// version, by form id then version. Drafts are listed to `forms.manage` only.
pub async fn list_forms(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<FormInfo>>> {
    require_any(
        &caller.user,
        &[Capability::RoundsRead, Capability::FormsRead],
    )?;
    let query = query.get()?;
    let drafts = caller.user.role.can(Capability::FormsManage);
    let mut by_key: BTreeMap<(String, String), FormInfo> = BTreeMap::new();
    for row in state.store.form_versions().await? {
        by_key.insert((row.form_id.clone(), row.version.clone()), info(&row));
    }
    // Built-ins not stored (a store that was not seeded) are still usable.
    for (key, entry) in state.forms.entries() {
        by_key
            .entry((key.form_id.clone(), key.version.clone()))
            .or_insert_with(|| FormInfo {
                id: key.form_id.clone(),
                version: key.version.clone(),
                key: key.to_string(),
                title_vi: entry.form.title.vi.clone(),
                title_en: entry
                    .form
                    .title
                    .en
                    .clone()
                    .unwrap_or_else(|| entry.form.title.vi.clone()),
                status: entry.status,
                content_hash: entry.content_hash.clone(),
                published_at: entry.published_at,
                retired_at: None,
                has_xlsx: false,
            });
    }
    Ok(Json(
        by_key
            .into_values()
            .filter(|f| drafts || f.status != FormStatus::Draft)
            .filter(|f| query.status.is_none_or(|s| s == f.status))
            .collect(),
    ))
}

/// A version with its definition (`GET /forms/{form_id}/{version}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormDetail {
    /// Form id.
    pub form_id: String,
    /// Version.
    pub version: String,
    /// Life cycle.
    pub status: FormStatus,
    /// Hex SHA-256 of the RFC 8785 canonical JSON of `definition`.
    pub content_hash: String,
    /// The definition (format 1, `schemas/questionnaire.schema.json`).
    pub definition: serde_json::Value,
    /// When published.
    #[serde(default)]
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    #[serde(default)]
    pub retired_at: Option<DateTime<Utc>>,
    /// Whether an XLSX workbook was uploaded with it.
    #[serde(default)]
    pub has_xlsx: bool,
}

fn detail(row: FormVersionRow) -> ApiResult<FormDetail> {
    let definition = serde_json::from_str(&row.definition).map_err(|e| {
        tracing::error!(error = %e, "stored form definition is not JSON");
        ApiError::internal()
    })?;
    Ok(FormDetail {
        form_id: row.form_id,
        version: row.version,
        status: row.status,
        content_hash: row.content_hash,
        definition,
        published_at: row.published_at,
        retired_at: row.retired_at,
        has_xlsx: row.has_xlsx,
    })
}

/// Answer of `POST /forms/drafts`: the stored version and what the upload did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadResult {
    /// The version as stored now.
    #[serde(flatten)]
    pub form: FormDetail,
    /// `created`, `replaced` or `unchanged`.
    pub outcome: String,
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn unsupported(ct: &str) -> ApiError {
    ApiError::new(
        ProblemCode::UnsupportedMediaType,
        format!(
            "Content type {ct:?} is not taken here: send the questionnaire as application/json{}.",
            xlsx_hint_en()
        ),
        format!(
            "Định dạng {ct:?} không được nhận: hãy gửi bảng hỏi dạng JSON{}.",
            xlsx_hint_vi()
        ),
    )
    .with_details(serde_json::json!({ "field": "content-type", "accepted": accepted_types() }))
}

/// Content types `POST /forms/drafts` takes.
pub fn accepted_types() -> Vec<&'static str> {
    let mut v = vec!["application/json"];
    if XLSX_ACCEPTED {
        v.push(XLSX_CONTENT_TYPE);
    }
    v
}

/// Whether XLSX workbooks are read (the `sipas-xlsform` crate is part of the build).
const XLSX_ACCEPTED: bool = true;

fn xlsx_hint_en() -> &'static str {
    if XLSX_ACCEPTED {
        " or an XLSX workbook"
    } else {
        " (XLSX workbooks are not read by this server build yet)"
    }
}

fn xlsx_hint_vi() -> &'static str {
    if XLSX_ACCEPTED {
        " hoặc tệp Excel (.xlsx)"
    } else {
        " (máy chủ này chưa đọc được tệp Excel .xlsx)"
    }
}

/// `POST /api/v1/forms/drafts` (forms.manage): uploads a definition as a draft (see
/// [`forms::upload_draft`] for the rule). `201` for a new draft, `200` otherwise.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<UploadResult>)> {
    require_cap(&caller.user, Capability::FormsManage)?;
    let ct = content_type(&headers);
    let upload = match ct.as_str() {
        "application/json" => {
            let bytes = read_body(&headers, body, MAX_FORM_BYTES).await?;
            forms::check_json(&bytes)?
        }
        XLSX_CONTENT_TYPE => {
            let bytes = read_body(&headers, body, MAX_FORM_BYTES).await?;
            tokio::task::spawn_blocking(move || forms::check_xlsx(&bytes))
                .await
                .map_err(|_| ApiError::internal())??
        }
        _ => return Err(unsupported(&ct)),
    };
    let (row, outcome) = forms::upload_draft(state.store.as_ref(), upload, caller.user.id).await?;
    state.forms.reload(state.store.as_ref()).await?;
    let status = if outcome == UploadOutcome::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let outcome = serde_json::to_value(outcome)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok((
        status,
        Json(UploadResult {
            form: detail(row)?,
            outcome,
        }),
    ))
}

fn key_of(path: ApiPath<(String, String)>) -> ApiResult<FormKey> {
    let (form_id, version) = path.get()?;
    Ok(FormKey { form_id, version })
}

/// The version `key` as the caller may see it: drafts only to `forms.manage` (others get
/// `404.1`); a built-in not stored comes from the registry.
async fn visible_form(state: &AppState, caller: &Caller, key: &FormKey) -> ApiResult<FormDetail> {
    if let Some(row) = state.store.form_version(&key.form_id, &key.version).await? {
        if row.status == FormStatus::Draft && !caller.user.role.can(Capability::FormsManage) {
            return Err(ApiError::not_found("form", &key.to_string()));
        }
        return detail(row);
    }
    let entry = state
        .forms
        .entry(key)
        .ok_or_else(|| ApiError::not_found("form", &key.to_string()))?;
    let value = serde_json::to_value(entry.form.as_ref()).map_err(|_| ApiError::internal())?;
    // A built-in's hash is that of its shipped text; re-derive from the same source.
    let source = sipas_core::builtin::BUILTIN_FORM_SOURCES
        .iter()
        .find(|(path, _)| *path == format!("{}/{}.json", key.form_id, key.version))
        .and_then(|(_, s)| serde_json::from_str::<serde_json::Value>(s).ok())
        .unwrap_or(value);
    Ok(FormDetail {
        form_id: key.form_id.clone(),
        version: key.version.clone(),
        status: entry.status,
        content_hash: forms::canonical(&source).content_hash,
        definition: source,
        published_at: entry.published_at,
        retired_at: None,
        has_xlsx: false,
    })
}

/// `GET /api/v1/forms/{form_id}/{version}` (forms.read): the version with its definition.
pub async fn get_form(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(String, String)>,
) -> ApiResult<Json<FormDetail>> {
    require_cap(&caller.user, Capability::FormsRead)?;
    let key = key_of(path)?;
    Ok(Json(visible_form(&state, &caller, &key).await?))
}

/// `GET /api/v1/forms/{form_id}/{version}/xlsx` (forms.read): the workbook uploaded with the
/// version, or one written from its definition (`sipas-xlsform`) when it was uploaded as JSON.
pub async fn get_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(String, String)>,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::FormsRead)?;
    let key = key_of(path)?;
    let detail = visible_form(&state, &caller, &key).await?;
    let bytes = match state.store.form_xlsx(&key.form_id, &key.version).await? {
        Some(b) => b,
        None => {
            let form = sipas_core::form_loader::load_form(&detail.definition.to_string())
                .map_err(|_| ApiError::internal())?;
            tokio::task::spawn_blocking(move || forms::xlsx_of(&form))
                .await
                .map_err(|_| ApiError::internal())?
        }
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XLSX_CONTENT_TYPE),
    );
    let name: String = format!("{}-{}.xlsx", key.form_id, key.version)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `POST /api/v1/forms/{form_id}/{version}/publish` (forms.manage): draft → published.
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(String, String)>,
) -> ApiResult<Json<FormDetail>> {
    require_cap(&caller.user, Capability::FormsManage)?;
    let key = key_of(path)?;
    forms::publish(state.store.as_ref(), &key, caller.user.id).await?;
    state.forms.reload(state.store.as_ref()).await?;
    Ok(Json(detail(
        forms::existing(state.store.as_ref(), &key).await?,
    )?))
}

/// `POST /api/v1/forms/{form_id}/{version}/retire` (forms.manage): published → retired.
pub async fn retire(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(String, String)>,
) -> ApiResult<Json<FormDetail>> {
    require_cap(&caller.user, Capability::FormsManage)?;
    let key = key_of(path)?;
    forms::retire(state.store.as_ref(), &key, caller.user.id).await?;
    state.forms.reload(state.store.as_ref()).await?;
    Ok(Json(detail(
        forms::existing(state.store.as_ref(), &key).await?,
    )?))
}

/// `DELETE /api/v1/forms/{form_id}/{version}` (forms.manage): deletes a draft. `204`.
pub async fn delete_draft(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    require_cap(&caller.user, Capability::FormsManage)?;
    let key = key_of(path)?;
    forms::delete_draft(state.store.as_ref(), &key, caller.user.id).await?;
    state.forms.reload(state.store.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One choice option of a catalogue (the option shape of the form model: `value`, `label`,
/// `attrs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueOption {
    /// The code.
    pub value: String,
    /// `{vi: name}`.
    pub label: sipas_core::questionnaire::Label,
    /// String attributes (`choice_filter` reads them).
    pub attrs: BTreeMap<String, String>,
}

/// `GET /rounds/{id}/catalogue-bundle` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CatalogueBundle {
    /// Agencies: attrs `{unit, kind}`.
    pub agencies: Vec<CatalogueOption>,
    /// Procedures: attrs `{field}`.
    pub procedures: Vec<CatalogueOption>,
    /// Fields: attrs `{}`.
    pub fields: Vec<CatalogueOption>,
    /// Units: attrs `{parent, level}` (`parent` empty for a province).
    pub units: Vec<CatalogueOption>,
}

fn option(code: &str, name: &str, attrs: &[(&str, &str)]) -> CatalogueOption {
    CatalogueOption {
        value: code.to_owned(),
        label: sipas_core::questionnaire::Label {
            vi: name.to_owned(),
            en: None,
        },
        attrs: attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// `GET /api/v1/rounds/{id}/catalogue-bundle` (forms.read or catalogues.read): the catalogues
/// a device needs for `choices_from` items of the round, limited to the caller's scope: units
/// valid on the round's first day inside both the round's units and the caller's scope,
/// agencies of those units (and of the round's and the caller's agency lists, when set),
/// every field and procedure.
pub async fn catalogue_bundle(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Json<CatalogueBundle>> {
    require_any(
        &caller.user,
        &[Capability::FormsRead, Capability::CataloguesRead],
    )?;
    let id = path.get()?;
    let mine = scope::of(&state, &caller).await?;
    let (round, plan) = visible_round(&state, &mine, &id).await?;
    let on = round.starts_on;
    let tree = mine.tree.clone();
    let in_round =
        |unit: &str| plan.units.is_empty() || plan.units.iter().any(|r| within(&tree, unit, r, on));
    let mut bundle = CatalogueBundle::default();
    for u in tree.units() {
        if u.is_valid_on(on) && mine.unit(&u.code, on) && in_round(&u.code) {
            let level = crate::storage::catalogue::level_str(u.level);
            let parent = u.parent_code.clone().unwrap_or_default();
            bundle.units.push(option(
                &u.code,
                &u.name,
                &[("parent", &parent), ("level", level)],
            ));
        }
    }
    for a in state.store.agencies().await? {
        if a.is_valid_on(on)
            && mine.assignment(&a.unit_code, Some(&a.code), on)
            && in_round(&a.unit_code)
            && (plan.agencies.is_empty() || plan.agencies.contains(&a.code))
        {
            bundle.agencies.push(option(
                &a.code,
                &a.name,
                &[("unit", &a.unit_code), ("kind", a.kind.code())],
            ));
        }
    }
    for f in state.store.fields().await? {
        bundle.fields.push(option(&f.code, &f.name, &[]));
    }
    for p in state.store.procedures().await? {
        bundle
            .procedures
            .push(option(&p.code, &p.name, &[("field", &p.field_code)]));
    }
    Ok(Json(bundle))
}
