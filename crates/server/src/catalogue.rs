//! Server rules of the catalogues (issue 10), used by both storage backends' callers:
//! the start-up seed, the import files (`POST /{units,agencies,fields,procedures}/import`)
//! and the resolution of a sample frame's codes against the catalogues.
//!
//! Imports are all-or-nothing: every bad row is listed ([`RowError`], header = row 1) and
//! nothing is stored unless the whole file is good. An import merges into the catalogue
//! (new keys inserted, existing keys updated, nothing deleted).
use crate::sample_frame::FrameRow;
use crate::storage::{CatalogueImport, ServerStore, StoreError};
use crate::table_file::{FileError, RowError, Rows, fold_header};
use chrono::NaiveDate;
use serde::Serialize;
use sipas_core::catalogue::{
    Agency, Catalogues, Field, FieldsFile, Issue, Procedure, SampleCodes, check_code, check_name,
    checked_unit, parse_date, parse_kind,
};
use sipas_core::units::{AdminUnit, UnitError, UnitLevel, UnitTree};
use std::collections::BTreeMap;

/// The unit seed loaded into an empty unit catalogue (`schemas/units/vn-units-seed.json`).
pub const UNITS_SEED: &str = include_str!("../../../schemas/units/vn-units-seed.json");
/// The field and procedure seed (`schemas/catalogues/fields.json`).
pub const FIELDS_SEED: &str = include_str!("../../../schemas/catalogues/fields.json");

/// Most data rows in one catalogue import.
pub const MAX_CATALOGUE_ROWS: usize = 100_000;

/// What [`seed_if_empty`] loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    /// Unit records loaded (0: the catalogue had units).
    pub units: usize,
    /// Fields loaded (0: the catalogue had fields).
    pub fields: usize,
    /// Procedures loaded with the fields.
    pub procedures: usize,
}

/// Loads the unit seed into an empty unit catalogue and the field / procedure seed into an
/// empty field catalogue (each separately), in one transaction. Run at start-up.
pub async fn seed_if_empty(store: &dyn ServerStore) -> Result<Seeded, StoreError> {
    let mut imports = Vec::new();
    let mut seeded = Seeded::default();
    if store.catalogue_units().await?.is_empty() {
        let tree = UnitTree::from_json(UNITS_SEED)
            .map_err(|e| StoreError::Backend(format!("the unit seed is invalid: {e}")))?;
        seeded.units = tree.units().len();
        imports.push(CatalogueImport::Units(tree.units().to_vec()));
    }
    if store.fields().await?.is_empty() {
        let (fields, procedures) = FieldsFile::parse(FIELDS_SEED)
            .map_err(|e| StoreError::Backend(format!("the field seed is invalid: {e}")))?;
        seeded.fields = fields.len();
        seeded.procedures = procedures.len();
        imports.push(CatalogueImport::Fields(fields));
        imports.push(CatalogueImport::Procedures(procedures));
    }
    if !imports.is_empty() {
        store.import_catalogues(&imports, None).await?;
    }
    Ok(seeded)
}

/// Which catalogue an import file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Administrative units.
    Units,
    /// Agencies.
    Agencies,
    /// Fields.
    Fields,
    /// Procedures.
    Procedures,
}

impl Kind {
    /// Parses the path segment (`units`, `agencies`, `fields`, `procedures`).
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "units" => Some(Kind::Units),
            "agencies" => Some(Kind::Agencies),
            "fields" => Some(Kind::Fields),
            "procedures" => Some(Kind::Procedures),
            _ => None,
        }
    }

    /// Columns: canonical name, aliases (folded), required.
    fn columns(self) -> &'static [(&'static str, &'static [&'static str], bool)] {
        const CODE: (&str, &[&str], bool) = ("code", &["code", "ma", "mã"], true);
        const NAME: (&str, &[&str], bool) = ("name", &["name", "ten", "tên"], true);
        const FROM: (&str, &[&str], bool) = (
            "valid_from",
            &[
                "valid_from",
                "tu_ngay",
                "từ_ngày",
                "hieu_luc_tu",
                "hiệu_lực_từ",
            ],
            true,
        );
        const TO: (&str, &[&str], bool) = (
            "valid_to",
            &[
                "valid_to",
                "den_ngay",
                "đến_ngày",
                "hieu_luc_den",
                "hiệu_lực_đến",
            ],
            false,
        );
        match self {
            Kind::Units => &[
                CODE,
                NAME,
                ("level", &["level", "cap", "cấp"], true),
                (
                    "parent_code",
                    &[
                        "parent_code",
                        "ma_cha",
                        "mã_cha",
                        "ma_don_vi_cha",
                        "mã_đơn_vị_cha",
                    ],
                    false,
                ),
                FROM,
                TO,
                (
                    "replaced_by",
                    &["replaced_by", "thay_the_boi", "thay_thế_bởi"],
                    false,
                ),
            ],
            Kind::Agencies => &[
                CODE,
                NAME,
                ("kind", &["kind", "loai", "loại"], true),
                ("unit_code", &["unit_code", "ma_don_vi", "mã_đơn_vị"], true),
                FROM,
                TO,
            ],
            Kind::Fields => &[CODE, NAME],
            Kind::Procedures => &[
                CODE,
                NAME,
                (
                    "field_code",
                    &["field_code", "ma_linh_vuc", "mã_lĩnh_vực"],
                    true,
                ),
                (
                    "national_code",
                    &["national_code", "ma_quoc_gia", "mã_quốc_gia"],
                    false,
                ),
            ],
        }
    }
}

/// Answer of a preview (`?preview=true`): the good row count and every problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    /// Data rows read.
    pub rows: usize,
    /// Every problem (at most [`crate::table_file::MAX_LISTED_ERRORS`] listed by handlers).
    pub errors: Vec<RowError>,
    /// What would be stored (only when `errors` is empty).
    #[serde(skip)]
    pub import: Option<CatalogueImport>,
}

fn issue_at(row: usize, issue: &Issue) -> RowError {
    RowError::cell(row, issue.column, &issue.en, &issue.vi)
}

fn parse_level(value: &str) -> Result<UnitLevel, Issue> {
    match fold_header(value).as_str() {
        "province" | "tinh" | "tỉnh" => Ok(UnitLevel::Province),
        "district" | "huyen" | "huyện" => Ok(UnitLevel::District),
        "commune" | "xa" | "xã" => Ok(UnitLevel::Commune),
        "village" | "thon" | "thôn" => Ok(UnitLevel::Village),
        _ => Err(Issue::new(
            "level",
            "unknown level; use province, district, commune or village (tinh, huyen, xa, thon).",
            "cấp không hợp lệ; dùng tinh, huyen, xa hoặc thon (province, district, commune, village).",
        )),
    }
}

/// Reads and checks an import file's rows against the stored catalogues.
pub async fn check_import(
    store: &dyn ServerStore,
    kind: Kind,
    rows: Rows,
) -> Result<Checked, CheckError> {
    // Column positions.
    let mut rows = rows.into_iter();
    let (header_row, header) = rows
        .next()
        .ok_or_else(|| FileError::new("The file is empty.", "Tệp không có dữ liệu."))?;
    let columns = kind.columns();
    let mut positions: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for (idx, cell) in header.iter().enumerate() {
        let folded = fold_header(cell);
        let Some((name, _, _)) = columns
            .iter()
            .find(|(_, a, _)| a.contains(&folded.as_str()))
        else {
            continue;
        };
        if positions.contains_key(name) {
            errors.push(RowError::cell(
                header_row,
                name,
                "the column appears twice in the header.",
                "cột bị lặp lại ở dòng tiêu đề.",
            ));
        } else {
            positions.insert(name, idx);
        }
    }
    for (name, _, required) in columns {
        if *required && !positions.contains_key(name) {
            errors.push(RowError::cell(
                header_row,
                name,
                "required column missing from the header.",
                "thiếu cột bắt buộc ở dòng tiêu đề.",
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Checked {
            rows: 0,
            errors,
            import: None,
        });
    }
    let data: Vec<(usize, Vec<String>)> = rows.collect();
    if data.is_empty() {
        return Err(FileError::new(
            "The file has a header but no data rows.",
            "Tệp chỉ có dòng tiêu đề, không có dữ liệu.",
        )
        .into());
    }
    if data.len() > MAX_CATALOGUE_ROWS {
        return Err(FileError::new(
            format!("More than {MAX_CATALOGUE_ROWS} rows; split the file."),
            format!("Quá {MAX_CATALOGUE_ROWS} dòng; hãy chia nhỏ tệp."),
        )
        .into());
    }
    let cell = |cells: &[String], name: &str| -> String {
        positions
            .get(name)
            .and_then(|i| cells.get(*i))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let opt = |v: String| if v.is_empty() { None } else { Some(v) };
    // Row by row checks; keys seen (duplicates are errors).
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut duplicate = |row: usize, key: String, errors: &mut Vec<RowError>| {
        if let Some(first) = seen.get(&key) {
            errors.push(RowError::cell(
                row,
                "code",
                &format!("the code appears twice in the file (first in row {first})."),
                &format!("mã bị lặp lại trong tệp (lần đầu ở dòng {first})."),
            ));
            false
        } else {
            seen.insert(key, row);
            true
        }
    };
    let count = data.len();
    let import = match kind {
        Kind::Fields => {
            let mut out = Vec::new();
            for (row, cells) in &data {
                let field = Field {
                    code: cell(cells, "code"),
                    name: cell(cells, "name"),
                };
                match field.checked() {
                    Ok(f) => {
                        if duplicate(*row, f.code.clone(), &mut errors) {
                            out.push(f);
                        }
                    }
                    Err(issue) => errors.push(issue_at(*row, &issue)),
                }
            }
            CatalogueImport::Fields(out)
        }
        Kind::Procedures => {
            let fields: Vec<String> = store.fields().await?.into_iter().map(|f| f.code).collect();
            let mut out = Vec::new();
            for (row, cells) in &data {
                let procedure = Procedure {
                    code: cell(cells, "code"),
                    name: cell(cells, "name"),
                    field_code: cell(cells, "field_code"),
                    national_code: opt(cell(cells, "national_code")),
                };
                match procedure.checked() {
                    Ok(p) => {
                        if !fields.contains(&p.field_code) {
                            errors.push(issue_at(
                                *row,
                                &sipas_core::catalogue::unknown_code(
                                    "field_code",
                                    "field",
                                    "lĩnh vực",
                                ),
                            ));
                        } else if duplicate(*row, p.code.clone(), &mut errors) {
                            out.push(p);
                        }
                    }
                    Err(issue) => errors.push(issue_at(*row, &issue)),
                }
            }
            CatalogueImport::Procedures(out)
        }
        Kind::Agencies => {
            let tree = store.unit_tree().await?;
            let lookup = Catalogues::new(tree, Vec::new(), Vec::new(), Vec::new());
            let mut out = Vec::new();
            for (row, cells) in &data {
                let mut issues = Vec::new();
                let kind = parse_kind(&cell(cells, "kind"))
                    .map_err(|i| issues.push(i))
                    .ok();
                let from = parse_date("valid_from", &cell(cells, "valid_from"))
                    .map_err(|i| issues.push(i))
                    .ok();
                let to = opt(cell(cells, "valid_to"))
                    .map(|v| parse_date("valid_to", &v))
                    .transpose()
                    .map_err(|i| issues.push(i))
                    .ok();
                let code = check_code("code", &cell(cells, "code"))
                    .map_err(|i| issues.push(i))
                    .ok();
                let name = check_name("name", &cell(cells, "name"))
                    .map_err(|i| issues.push(i))
                    .ok();
                let unit_code = check_code("unit_code", &cell(cells, "unit_code"))
                    .map_err(|i| issues.push(i))
                    .ok();
                if let (Some(code), Some(name), Some(kind), Some(unit_code), Some(from), Some(to)) =
                    (code, name, kind, unit_code, from, to)
                {
                    let agency = Agency {
                        code,
                        name,
                        kind,
                        unit_code,
                        valid_from: from,
                        valid_to: to,
                    };
                    match agency
                        .checked()
                        .and_then(|a| lookup.check_agency(&a).map(|()| a))
                    {
                        Ok(a) => {
                            if duplicate(*row, a.code.clone(), &mut errors) {
                                out.push(a);
                            }
                        }
                        Err(issue) => issues.push(issue),
                    }
                }
                errors.extend(issues.iter().map(|i| issue_at(*row, i)));
            }
            CatalogueImport::Agencies(out)
        }
        Kind::Units => {
            let mut out: Vec<(usize, AdminUnit)> = Vec::new();
            for (row, cells) in &data {
                let mut issues = Vec::new();
                let level = parse_level(&cell(cells, "level"))
                    .map_err(|i| issues.push(i))
                    .ok();
                let from = parse_date("valid_from", &cell(cells, "valid_from"))
                    .map_err(|i| issues.push(i))
                    .ok();
                let to = opt(cell(cells, "valid_to"))
                    .map(|v| parse_date("valid_to", &v))
                    .transpose()
                    .map_err(|i| issues.push(i))
                    .ok();
                let replaced_by: Vec<String> = cell(cells, "replaced_by")
                    .split([',', ';', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                for code in &replaced_by {
                    if let Err(i) = check_code("replaced_by", code) {
                        issues.push(i);
                    }
                }
                if let (Some(level), Some(from), Some(to)) = (level, from, to) {
                    let unit = AdminUnit {
                        code: cell(cells, "code"),
                        name: cell(cells, "name"),
                        level,
                        parent_code: opt(cell(cells, "parent_code")),
                        valid_from: from,
                        valid_to: to,
                        replaced_by,
                    };
                    match checked_unit(unit) {
                        Ok(u) => {
                            if duplicate(*row, format!("{}@{}", u.code, u.valid_from), &mut errors)
                            {
                                out.push((*row, u));
                            }
                        }
                        Err(issue) => issues.push(issue),
                    }
                }
                errors.extend(issues.iter().map(|i| issue_at(*row, i)));
            }
            // The merged catalogue must still be a consistent tree.
            if errors.is_empty() {
                let mut merged: BTreeMap<(String, NaiveDate), AdminUnit> = store
                    .catalogue_units()
                    .await?
                    .into_iter()
                    .map(|u| ((u.code.clone(), u.valid_from), u))
                    .collect();
                for (_, u) in &out {
                    merged.insert((u.code.clone(), u.valid_from), u.clone());
                }
                if let Err(e) = UnitTree::from_units(merged.into_values().collect()) {
                    let code = unit_error_code(&e);
                    let row = out
                        .iter()
                        .find(|(_, u)| Some(u.code.as_str()) == code)
                        .map_or(header_row, |(r, _)| *r);
                    errors.push(RowError::cell(
                        row,
                        "code",
                        &format!("the units would not form a consistent tree: {e}."),
                        &format!(
                            "các đơn vị sẽ không tạo thành cây hợp lệ (kiểm tra mã cha, cấp, \
                             ngày hiệu lực, đơn vị thay thế): {e}."
                        ),
                    ));
                }
            }
            CatalogueImport::Units(out.into_iter().map(|(_, u)| u).collect())
        }
    };
    errors.sort_by_key(|e| e.row);
    let import = errors.is_empty().then_some(import);
    Ok(Checked {
        rows: count,
        errors,
        import,
    })
}

/// The code a unit tree error is about.
fn unit_error_code(e: &UnitError) -> Option<&str> {
    match e {
        UnitError::Json { .. } => None,
        UnitError::BadCodeOrName { code }
        | UnitError::BadValidity { code, .. }
        | UnitError::OverlappingCode { code, .. }
        | UnitError::MissingParent { code, .. }
        | UnitError::ParentNotValid { code, .. }
        | UnitError::LevelOrder { code, .. }
        | UnitError::RootNotProvince { code, .. }
        | UnitError::ReplacedWithoutEnd { code }
        | UnitError::UnknownSuccessor { code, .. } => Some(code),
        UnitError::Cycle(code) => Some(code),
    }
}

/// Why an import could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The file itself is unusable.
    #[error(transparent)]
    File(#[from] FileError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One sample row with its codes resolved and the names copied from the catalogues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRow {
    /// The row as read.
    pub frame: FrameRow,
    /// Unit name (catalogue; the frame's code when the unit catalogue is empty).
    pub unit_name: Option<String>,
    /// Agency name (catalogue, else the frame's `agency`).
    pub agency_name: Option<String>,
    /// Field code (given, or the procedure's field).
    pub field_code: Option<String>,
    /// Field name.
    pub field_name: Option<String>,
    /// Procedure name (catalogue, else the frame's `procedure`).
    pub procedure_name: String,
}

/// Resolves the catalogue codes of sample rows on `on` (the round's first day). Every
/// problem becomes a row error. When the unit catalogue is empty (a store that was never
/// seeded; `sipas-server` seeds at start-up) unit codes are taken as they are.
pub fn resolve_frame(
    catalogues: &Catalogues,
    rows: Vec<FrameRow>,
    on: NaiveDate,
) -> (Vec<ResolvedRow>, Vec<RowError>) {
    let mut out = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for frame in rows {
        let codes = SampleCodes {
            unit_code: frame.unit_code.clone(),
            agency_code: frame.agency_code.clone(),
            field_code: frame.field_code.clone(),
            procedure_code: frame.procedure_code.clone(),
        };
        let result = catalogues.resolve(&codes, on);
        match result {
            Ok(names) => {
                let procedure_name = names
                    .procedure_name
                    .or_else(|| frame.procedure.clone())
                    .unwrap_or_default();
                out.push(ResolvedRow {
                    unit_name: (!names.unit_name.is_empty()).then_some(names.unit_name),
                    agency_name: names.agency_name.or_else(|| frame.agency.clone()),
                    field_code: names.field_code,
                    field_name: names.field_name,
                    procedure_name,
                    frame,
                });
            }
            Err(issues) => errors.extend(issues.iter().map(|i| issue_at(frame.row, i))),
        }
    }
    (out, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_are_valid() {
        let tree = UnitTree::from_json(UNITS_SEED).unwrap();
        assert!(!tree.units().is_empty());
        let (fields, procedures) = FieldsFile::parse(FIELDS_SEED).unwrap();
        assert!(fields.len() >= 10 && procedures.len() >= 20);
        for p in &procedures {
            assert!(fields.iter().any(|f| f.code == p.field_code));
        }
    }

    #[test]
    fn units_and_levels_parse() {
        assert_eq!(parse_level("Tỉnh").unwrap(), UnitLevel::Province);
        assert_eq!(parse_level("commune").unwrap(), UnitLevel::Commune);
        assert_eq!(parse_level("ấp").unwrap_err().column, "level");
    }
}
