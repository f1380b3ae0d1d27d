//! Catalogues (issue 10): `GET /units?on=`, `GET /agencies?on=`, `GET /fields`,
//! `GET /procedures?field=`, and `POST /{units,agencies,fields,procedures}/import`
//! (CSV or XLSX, `?preview=true`). Rules: [`crate::catalogue`].
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::catalogue::{self, CheckError, Kind};
use crate::extract::{ApiQuery, read_body};
use crate::problem::{ApiError, ApiResult};
use crate::table_file::{self, FileError, MAX_LISTED_ERRORS, RowError, XLSX_CONTENT_TYPE};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use sipas_core::catalogue::{AgencyKind, Field, Procedure};
use sipas_core::units::{AdminUnit, UnitLevel, UnitTree};
use sipas_protocol::roles::Capability;
use sipas_protocol::roles::Role;

/// Who reads the catalogues: every signed-in dashboard role. (A role added later, e.g. a
/// read-only ministry role, goes here.)
pub const CATALOGUE_READERS: &[Role] = &[Role::Admin, Role::Supervisor, Role::Monitor];
/// Who imports catalogues.
pub const CATALOGUE_MANAGERS: &[Role] = &[Role::Admin];
/// Largest catalogue file, bytes.
pub const MAX_CATALOGUE_BYTES: usize = 32 * 1024 * 1024;

/// Today in Vietnam (UTC+7), the default of `?on=`.
pub fn today_vn(state: &AppState) -> NaiveDate {
    let offset = FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset");
    state.clock.now().with_timezone(&offset).date_naive()
}

/// `?on=YYYY-MM-DD`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OnQuery {
    /// The day (default: today in Vietnam).
    pub on: Option<NaiveDate>,
}

/// One unit of `GET /units`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitOut {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: UnitLevel,
    /// Parent code (`null`: province).
    pub parent_code: Option<String>,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day (`null`: still exists).
    pub valid_to: Option<NaiveDate>,
}

impl From<&AdminUnit> for UnitOut {
    fn from(u: &AdminUnit) -> Self {
        UnitOut {
            code: u.code.clone(),
            name: u.name.clone(),
            level: u.level,
            parent_code: u.parent_code.clone(),
            valid_from: u.valid_from,
            valid_to: u.valid_to,
        }
    }
}

/// The units of `tree` valid on `on`, parents before children (depth first, by code).
pub fn units_on(tree: &UnitTree, on: NaiveDate) -> Vec<UnitOut> {
    let mut out = Vec::new();
    let mut stack: Vec<&AdminUnit> = tree.roots(on);
    stack.sort_by(|a, b| b.code.cmp(&a.code));
    while let Some(u) = stack.pop() {
        out.push(UnitOut::from(u));
        let mut children = tree.children(&u.code, on);
        children.sort_by(|a, b| b.code.cmp(&a.code));
        stack.extend(children);
    }
    out
}

/// `GET /api/v1/units?on=YYYY-MM-DD` (admin, supervisor, monitor): the unit tree valid on
/// that day (default today), parents before children.
pub async fn list_units(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<OnQuery>,
) -> ApiResult<Json<Vec<UnitOut>>> {
    require_cap(&caller.user, Capability::CataloguesRead)?;
    let on = query.get()?.on.unwrap_or_else(|| today_vn(&state));
    let tree = state.store.unit_tree().await?;
    Ok(Json(units_on(&tree, on)))
}

/// One agency of `GET /agencies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgencyOut {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Kind code.
    pub kind: AgencyKind,
    /// Kind, Vietnamese.
    pub kind_name_vi: String,
    /// Kind, English.
    pub kind_name_en: String,
    /// Unit code.
    pub unit_code: String,
    /// Unit name on the day asked for (`null` if the unit does not exist then).
    pub unit_name: Option<String>,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day (`null`: still exists).
    pub valid_to: Option<NaiveDate>,
}

/// `GET /api/v1/agencies?on=YYYY-MM-DD` (admin, supervisor, monitor): agencies existing on
/// that day (default today), by code.
pub async fn list_agencies(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<OnQuery>,
) -> ApiResult<Json<Vec<AgencyOut>>> {
    require_cap(&caller.user, Capability::CataloguesRead)?;
    let on = query.get()?.on.unwrap_or_else(|| today_vn(&state));
    let tree = state.store.unit_tree().await?;
    let out = state
        .store
        .agencies()
        .await?
        .into_iter()
        .filter(|a| a.is_valid_on(on))
        .map(|a| AgencyOut {
            unit_name: tree.get(&a.unit_code, on).map(|u| u.name.clone()),
            kind_name_vi: a.kind.name_vi().to_owned(),
            kind_name_en: a.kind.name_en().to_owned(),
            code: a.code,
            name: a.name,
            kind: a.kind,
            unit_code: a.unit_code,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
        })
        .collect();
    Ok(Json(out))
}

/// `GET /api/v1/fields` (admin, supervisor, monitor): every field, by code.
pub async fn list_fields(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Field>>> {
    require_cap(&caller.user, Capability::CataloguesRead)?;
    Ok(Json(state.store.fields().await?))
}

/// `?field=`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FieldQuery {
    /// Only the procedures of this field.
    pub field: Option<String>,
}

/// `GET /api/v1/procedures?field=` (admin, supervisor, monitor): procedures by code, of one
/// field when `field` is given (`404.1` if there is no such field).
pub async fn list_procedures(
    State(state): State<AppState>,
    caller: Caller,
    query: ApiQuery<FieldQuery>,
) -> ApiResult<Json<Vec<Procedure>>> {
    require_cap(&caller.user, Capability::CataloguesRead)?;
    let field = query.get()?.field.filter(|f| !f.is_empty());
    if let Some(f) = &field
        && !state.store.fields().await?.iter().any(|x| &x.code == f)
    {
        return Err(ApiError::not_found("field", f));
    }
    let list = state
        .store
        .procedures()
        .await?
        .into_iter()
        .filter(|p| field.as_ref().is_none_or(|f| *f == p.field_code))
        .collect();
    Ok(Json(list))
}

/// `?preview=true`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PreviewQuery {
    /// Check only, store nothing.
    #[serde(default)]
    pub preview: bool,
}

/// Answer of a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewResult {
    /// Data rows read.
    pub rows: usize,
    /// Problems (at most [`MAX_LISTED_ERRORS`]).
    pub errors: Vec<RowError>,
}

/// Answer of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedResult {
    /// Rows written (inserted or updated).
    pub imported: u64,
}

/// The body's table format from its content type, or `400.3`.
pub fn table_kind(headers: &HeaderMap) -> ApiResult<bool> {
    table_file::content_kind(headers).ok_or_else(|| {
        ApiError::invalid_input(
            format!("Send the file as text/csv or {XLSX_CONTENT_TYPE}."),
            "Hãy gửi tệp dạng CSV (text/csv) hoặc Excel (.xlsx).",
        )
        .with_details(serde_json::json!({ "field": "content-type" }))
    })
}

/// `400.3` for an unusable file.
pub fn file_problem(e: FileError) -> ApiError {
    let errors: Vec<RowError> = e
        .row
        .map(|row| RowError {
            row,
            column: None,
            message_vi: e.message_vi.clone(),
            message_en: e.message.clone(),
        })
        .into_iter()
        .collect();
    ApiError::invalid_input(e.message, e.message_vi)
        .with_details(serde_json::json!({ "row": e.row, "column": null, "errors": errors }))
}

/// `400.3` listing every bad row (at most [`MAX_LISTED_ERRORS`]); `row` and `column` of the
/// first are repeated at the top of `details`.
pub fn rows_problem(mut errors: Vec<RowError>) -> ApiError {
    errors.sort_by_key(|e| e.row);
    let total = errors.len();
    errors.truncate(MAX_LISTED_ERRORS);
    let first = errors.first().cloned();
    let (en, vi) = match (&first, total) {
        (Some(e), 1) => (e.message_en.clone(), e.message_vi.clone()),
        (_, n) => (
            format!("{n} problems in the file; nothing was stored. See details.errors."),
            format!("Tệp có {n} lỗi; chưa lưu gì. Xem danh sách lỗi."),
        ),
    };
    ApiError::invalid_input(en, vi).with_details(serde_json::json!({
        "row": first.as_ref().map(|e| e.row),
        "column": first.as_ref().and_then(|e| e.column.clone()),
        "total": total,
        "errors": errors,
    }))
}

/// `POST /api/v1/{units,agencies,fields,procedures}/import[?preview=true]` (admin): a
/// `text/csv` or XLSX body, all rows or none. Preview: `200 {rows, errors}`; import:
/// `200 {imported}` or `400.3` with `details.errors`.
async fn import(
    state: AppState,
    caller: Caller,
    kind: Kind,
    query: ApiQuery<PreviewQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::CataloguesManage)?;
    let preview = query.get()?.preview;
    let xlsx = table_kind(&headers)?;
    let bytes = read_body(&headers, body, MAX_CATALOGUE_BYTES).await?;
    let rows = tokio::task::spawn_blocking(move || table_file::read_table(&bytes, xlsx))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(file_problem)?;
    let checked = catalogue::check_import(state.store.as_ref(), kind, rows)
        .await
        .map_err(|e| match e {
            CheckError::File(f) => file_problem(f),
            CheckError::Store(s) => s.into(),
        })?;
    if preview {
        let mut errors = checked.errors;
        errors.truncate(MAX_LISTED_ERRORS);
        return Ok(Json(PreviewResult {
            rows: checked.rows,
            errors,
        })
        .into_response());
    }
    let Some(import) = checked.import else {
        return Err(rows_problem(checked.errors));
    };
    let name = import.name();
    let imported = state
        .store
        .import_catalogues(&[import], Some(caller.user.id))
        .await?;
    tracing::info!(actor = %caller.user.id, catalogue = name, rows = imported, "catalogue imported");
    Ok(Json(ImportedResult { imported }).into_response())
}

macro_rules! import_handler {
    ($name:ident, $kind:expr, $path:literal) => {
        #[doc = concat!("`POST /api/v1/", $path, "/import[?preview=true]` (admin); see [`import`].")]
        pub async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            query: ApiQuery<PreviewQuery>,
            headers: HeaderMap,
            body: Body,
        ) -> ApiResult<Response> {
            import(state, caller, $kind, query, headers, body).await
        }
    };
}

import_handler!(import_units, Kind::Units, "units");
import_handler!(import_agencies, Kind::Agencies, "agencies");
import_handler!(import_fields, Kind::Fields, "fields");
import_handler!(import_procedures, Kind::Procedures, "procedures");
