//! The sample frame of a round: `POST /rounds/{id}/sample[?preview=true]` (CSV or XLSX,
//! codes checked against the catalogues, every bad row listed) and
//! `GET /rounds/{id}/sample-template.xlsx` (header row, drop-down lists of the valid codes,
//! sheet `danh_muc`).
use crate::app::AppState;
use crate::auth::{Caller, require_cap};
use crate::catalogue::{ResolvedRow, resolve_frame};
use crate::extract::{ApiPath, ApiQuery, read_body};
use crate::handlers::catalogues::{PreviewQuery, file_problem, rows_problem, table_kind};
use crate::handlers::rounds::visible_round;
use crate::problem::{ApiError, ApiResult};
use crate::sample_frame::{self, Column};
use crate::scope;
use crate::storage::SampleRow;
use crate::table_file::{MAX_LISTED_ERRORS, RowError, XLSX_CONTENT_TYPE};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook, XlsxError};
use serde::{Deserialize, Serialize};
use sipas_core::catalogue::Catalogues;
use sipas_core::response::new_id;
use sipas_protocol::roles::Capability;
use uuid::Uuid;

/// Largest sample-frame upload, bytes.
pub const MAX_SAMPLE_BYTES: usize = 32 * 1024 * 1024;
/// Rows of a preview answer.
pub const PREVIEW_ROWS: usize = 50;
/// Rows of the template that carry the drop-down lists.
pub const TEMPLATE_ROWS: u32 = 10_000;
/// Name of the template's catalogue sheet.
pub const CATALOGUE_SHEET: &str = "danh_muc";
/// Name of the template's sample sheet.
pub const SAMPLE_SHEET: &str = "danh_sach_mau";

/// Answer of a sample import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportResult {
    /// Number of assignments created.
    pub imported: u64,
    /// Their ids, in the order of the file's rows.
    pub assignment_ids: Vec<Uuid>,
}

/// One row of a preview (no contact data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewRow {
    /// Row number (header = 1).
    pub row: usize,
    /// Unit code.
    pub unit_code: String,
    /// Unit name (catalogue).
    pub unit_name: Option<String>,
    /// Agency name.
    pub agency_name: Option<String>,
    /// Field name.
    pub field_name: Option<String>,
    /// Procedure name.
    pub procedure: String,
}

/// Answer of a sample preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamplePreview {
    /// Data rows read.
    pub rows: usize,
    /// Every problem (at most [`MAX_LISTED_ERRORS`]).
    pub errors: Vec<RowError>,
    /// The first [`PREVIEW_ROWS`] good rows with their names.
    pub preview: Vec<PreviewRow>,
}

/// `POST /api/v1/rounds/{id}/sample[?preview=true]` (supervisor, admin): imports the sample
/// frame from a `text/csv` or XLSX body. Codes must be in the catalogues (units valid on the
/// round's first day); names are copied from the catalogues onto the assignments. All rows
/// or none: every bad row is listed in `400.3` `details.errors`. Preview: `200
/// {rows, errors, preview}`, nothing stored.
pub async fn import_sample(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
    query: ApiQuery<PreviewQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::SampleManage)?;
    let round_id = path.get()?;
    let preview = query.get()?.preview;
    let xlsx = table_kind(&headers)?;
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let bytes = read_body(&headers, body, MAX_SAMPLE_BYTES).await?;
    let parsed = tokio::task::spawn_blocking(move || {
        if xlsx {
            sample_frame::parse_xlsx(&bytes)
        } else {
            sample_frame::parse_csv(&bytes)
        }
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(file_problem)?;
    let catalogues = state.store.catalogues().await?;
    let (resolved, more) = resolve_frame(&catalogues, parsed.rows, round.starts_on);
    let mut errors = parsed.errors;
    errors.extend(more);
    errors.sort_by_key(|e| e.row);
    if preview {
        errors.truncate(MAX_LISTED_ERRORS);
        return Ok(Json(SamplePreview {
            rows: parsed.count,
            errors,
            preview: resolved
                .iter()
                .take(PREVIEW_ROWS)
                .map(|r| PreviewRow {
                    row: r.frame.row,
                    unit_code: r.frame.unit_code.clone(),
                    unit_name: r.unit_name.clone(),
                    agency_name: r.agency_name.clone(),
                    field_name: r.field_name.clone(),
                    procedure: r.procedure_name.clone(),
                })
                .collect(),
        })
        .into_response());
    }
    if !errors.is_empty() {
        return Err(rows_problem(errors));
    }
    // Scope (issue 10): every row's unit and agency must be in the caller's scope.
    if let Some(outside) = resolved.iter().find(|r| {
        !mine.assignment(
            &r.frame.unit_code,
            r.frame.agency_code.as_deref(),
            round.starts_on,
        )
    }) {
        return Err(scope::refused(
            &format!("Unit {} of the sample frame", outside.frame.unit_code),
            &format!("Đơn vị {} trong danh sách mẫu", outside.frame.unit_code),
        )
        .with_details(serde_json::json!({
            "row": outside.frame.row,
            "column": "unit_code",
            "code": outside.frame.unit_code,
        })));
    }
    let rows: Vec<SampleRow> = resolved.into_iter().map(sample_row).collect();
    let imported = state
        .store
        .import_sample(&round_id, &rows, caller.user.id)
        .await?;
    tracing::info!(actor = %caller.user.id, round_id = %round_id, rows = imported, "sample imported");
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            imported,
            assignment_ids: rows.iter().map(|r| r.id).collect(),
        }),
    )
        .into_response())
}

fn sample_row(r: ResolvedRow) -> SampleRow {
    SampleRow {
        id: new_id(),
        unit_code: r.frame.unit_code,
        procedure: r.procedure_name,
        agency: r.agency_name,
        contact: r.frame.contact,
        unit_name: r.unit_name,
        agency_code: r.frame.agency_code,
        field_code: r.field_code,
        field_name: r.field_name,
        procedure_code: r.frame.procedure_code,
    }
}

/// `GET /api/v1/rounds/{id}/sample-template.xlsx` (supervisor, admin): an XLSX sample frame
/// with the header row, drop-down lists of the codes valid on the round's first day, and a
/// sheet `danh_muc` listing every code with its name.
pub async fn sample_template(
    State(state): State<AppState>,
    caller: Caller,
    path: ApiPath<String>,
) -> ApiResult<Response> {
    require_cap(&caller.user, Capability::SampleManage)?;
    let round_id = path.get()?;
    let mine = scope::of(&state, &caller).await?;
    let (round, _) = visible_round(&state, &mine, &round_id).await?;
    let catalogues = state.store.catalogues().await?;
    let bytes = tokio::task::spawn_blocking(move || template_xlsx(&catalogues, round.starts_on))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "writing the sample template failed");
            ApiError::internal()
        })?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XLSX_CONTENT_TYPE),
    );
    let disposition = format!("attachment; filename=\"mau-danh-sach-{round_id}.xlsx\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The template's columns: sample column, catalogue list it draws from (index into the
/// `danh_muc` column pairs).
const TEMPLATE_COLUMNS: [(Column, Option<usize>); 7] = [
    (Column::UnitCode, Some(0)),
    (Column::AgencyCode, Some(1)),
    (Column::FieldCode, Some(2)),
    (Column::ProcedureCode, Some(3)),
    (Column::Name, None),
    (Column::Address, None),
    (Column::Phone, None),
];

/// One list of the `danh_muc` sheet: code header, name header, (code, name) entries.
type CatalogueList<'a> = (&'static str, &'static str, &'a [(String, String)]);

/// Writes the sample template for a round starting `on`.
pub fn template_xlsx(c: &Catalogues, on: chrono::NaiveDate) -> Result<Vec<u8>, XlsxError> {
    let units: Vec<(String, String)> = crate::handlers::catalogues::units_on(&c.units, on)
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    let agencies: Vec<(String, String)> = c
        .agencies
        .values()
        .filter(|a| a.is_valid_on(on))
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect();
    let fields: Vec<(String, String)> = c
        .fields
        .values()
        .map(|f| (f.code.clone(), f.name.clone()))
        .collect();
    let procedures: Vec<(String, String)> = c
        .procedures
        .values()
        .map(|p| (p.code.clone(), p.name.clone()))
        .collect();
    let lists: [CatalogueList<'_>; 4] = [
        ("ma_don_vi", "ten_don_vi", &units),
        ("ma_co_quan", "ten_co_quan", &agencies),
        ("ma_linh_vuc", "ten_linh_vuc", &fields),
        ("ma_thu_tuc", "ten_thu_tuc", &procedures),
    ];

    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = workbook.add_worksheet();
    sheet.set_name(SAMPLE_SHEET)?;
    for (col, (column, list)) in (0u16..).zip(TEMPLATE_COLUMNS) {
        sheet.write_string_with_format(0, col, column.name_vi(), &bold)?;
        sheet.set_column_width(col, 22)?;
        // Codes such as 00004 must stay text.
        sheet.set_column_format(col, &text)?;
        let Some(list) = list else { continue };
        let (code_header, _, entries) = lists[list];
        if entries.is_empty() {
            continue;
        }
        let letter = column_letter(list * 2);
        let validation = DataValidation::new()
            .allow_list_formula(Formula::new(format!(
                "={CATALOGUE_SHEET}!${letter}$2:${letter}${}",
                entries.len() + 1
            )))
            .set_error_title("Mã không có trong danh mục")?
            .set_error_message(format!(
                "Chọn một mã trong danh sách (trang {CATALOGUE_SHEET}, cột {code_header})."
            ))?;
        sheet.add_data_validation(1, col, TEMPLATE_ROWS, col, &validation)?;
    }
    sheet.set_freeze_panes(1, 0)?;

    let sheet = workbook.add_worksheet();
    sheet.set_name(CATALOGUE_SHEET)?;
    for (i, (code_header, name_header, entries)) in lists.iter().enumerate() {
        let col = u16::try_from(i * 2).unwrap_or(0);
        sheet.write_string_with_format(0, col, *code_header, &bold)?;
        sheet.write_string_with_format(0, col + 1, *name_header, &bold)?;
        sheet.set_column_width(col, 18)?;
        sheet.set_column_width(col + 1, 48)?;
        for (row, (code, name)) in (1u32..).zip(entries.iter()) {
            sheet.write_string(row, col, code)?;
            sheet.write_string(row, col + 1, name)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    workbook.save_to_buffer()
}

fn column_letter(index: usize) -> char {
    char::from(b'A' + u8::try_from(index).unwrap_or(0))
}
