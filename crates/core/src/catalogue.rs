//! Catalogues the sample frame refers to by code: agencies (cơ quan), fields of procedures
//! (lĩnh vực) and administrative procedures (thủ tục hành chính). Administrative units are
//! [`crate::units`]. Every rule on catalogue entries lives here: code syntax, NFC names,
//! validity dates, and the cross-checks between catalogues ([`Catalogues`]).
//!
//! Messages come in Vietnamese and English ([`Issue`]) and never repeat the offending value
//! beyond the code itself.
use crate::text::nfc;
use crate::units::{AdminUnit, UnitTree};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest code of any catalogue.
pub const MAX_CODE_CHARS: usize = 40;
/// Longest name of any catalogue entry.
pub const MAX_NAME_CHARS: usize = 300;

/// The kind of an agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgencyKind {
    /// Sở, ban, ngành of a province.
    SoBanNganh,
    /// Provincial People's Committee.
    UbndTinh,
    /// Commune / ward People's Committee.
    UbndXa,
    /// One-stop shop (Bộ phận Một cửa / Trung tâm Phục vụ hành chính công).
    MotCua,
    /// Health facility (hospital, health station).
    YTe,
    /// School or other education facility.
    GiaoDuc,
    /// Anything else.
    Khac,
}

impl AgencyKind {
    /// Every kind, in display order.
    pub const ALL: [AgencyKind; 7] = [
        AgencyKind::SoBanNganh,
        AgencyKind::UbndTinh,
        AgencyKind::UbndXa,
        AgencyKind::MotCua,
        AgencyKind::YTe,
        AgencyKind::GiaoDuc,
        AgencyKind::Khac,
    ];

    /// Stored / wire code.
    pub fn code(self) -> &'static str {
        match self {
            AgencyKind::SoBanNganh => "so_ban_nganh",
            AgencyKind::UbndTinh => "ubnd_tinh",
            AgencyKind::UbndXa => "ubnd_xa",
            AgencyKind::MotCua => "mot_cua",
            AgencyKind::YTe => "y_te",
            AgencyKind::GiaoDuc => "giao_duc",
            AgencyKind::Khac => "khac",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<AgencyKind> {
        AgencyKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Vietnamese name.
    pub fn name_vi(self) -> &'static str {
        match self {
            AgencyKind::SoBanNganh => "Sở, ban, ngành",
            AgencyKind::UbndTinh => "UBND cấp tỉnh",
            AgencyKind::UbndXa => "UBND cấp xã",
            AgencyKind::MotCua => "Bộ phận Một cửa",
            AgencyKind::YTe => "Cơ sở y tế",
            AgencyKind::GiaoDuc => "Cơ sở giáo dục",
            AgencyKind::Khac => "Khác",
        }
    }

    /// English name.
    pub fn name_en(self) -> &'static str {
        match self {
            AgencyKind::SoBanNganh => "Provincial department",
            AgencyKind::UbndTinh => "Provincial People's Committee",
            AgencyKind::UbndXa => "Commune People's Committee",
            AgencyKind::MotCua => "One-stop shop",
            AgencyKind::YTe => "Health facility",
            AgencyKind::GiaoDuc => "Education facility",
            AgencyKind::Khac => "Other",
        }
    }
}

/// An agency serving citizens, located in an administrative unit, over a validity period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agency {
    /// Agency code.
    pub code: String,
    /// Vietnamese name (NFC).
    pub name: String,
    /// Kind.
    pub kind: AgencyKind,
    /// Code of the administrative unit it belongs to.
    pub unit_code: String,
    /// First day it exists.
    pub valid_from: NaiveDate,
    /// Last day it exists (inclusive); `None` while it exists.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

impl Agency {
    /// Whether the agency exists on `on`.
    pub fn is_valid_on(&self, on: NaiveDate) -> bool {
        self.valid_from <= on && self.valid_to.is_none_or(|to| on <= to)
    }
}

/// A field of administrative procedures (lĩnh vực), e.g. `dat_dai` Đất đai.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Field code.
    pub code: String,
    /// Vietnamese name (NFC).
    pub name: String,
}

/// An administrative procedure (thủ tục hành chính).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Procedure {
    /// Procedure code.
    pub code: String,
    /// Vietnamese name (NFC).
    pub name: String,
    /// Code of its field.
    pub field_code: String,
    /// Code in the national database of procedures, if known.
    #[serde(default)]
    pub national_code: Option<String>,
}

/// One problem with one value: the column it is in and a message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column}: {en}")]
pub struct Issue {
    /// Column (canonical name) the problem is in.
    pub column: &'static str,
    /// English message (without row or column).
    pub en: String,
    /// Vietnamese message (without row or column).
    pub vi: String,
}

impl Issue {
    /// A problem in `column`.
    pub fn new(column: &'static str, en: impl Into<String>, vi: impl Into<String>) -> Issue {
        Issue {
            column,
            en: en.into(),
            vi: vi.into(),
        }
    }

    fn missing(column: &'static str) -> Issue {
        Issue::new(column, "value missing.", "thiếu giá trị.")
    }
}

/// Checks a code: 1 to [`MAX_CODE_CHARS`] ASCII letters, digits, `_`, `-` or `.`, starting
/// with a letter or digit. Returns it trimmed.
pub fn check_code(column: &'static str, value: &str) -> Result<String, Issue> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Issue::missing(column));
    }
    let ok = v.len() <= MAX_CODE_CHARS
        && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(Issue::new(
            column,
            format!(
                "a code has 1 to {MAX_CODE_CHARS} Latin letters without diacritics, digits, \
                 '_', '-' or '.', and starts with a letter or digit."
            ),
            format!(
                "mã gồm 1–{MAX_CODE_CHARS} chữ cái Latin không dấu, chữ số, '_', '-' hoặc '.', \
                 bắt đầu bằng chữ cái hoặc chữ số."
            ),
        ))
    }
}

/// Checks a name: trimmed, NFC, non-empty, at most [`MAX_NAME_CHARS`], no control
/// characters. Returns it normalised.
pub fn check_name(column: &'static str, value: &str) -> Result<String, Issue> {
    let v = nfc(value.trim());
    if v.is_empty() {
        return Err(Issue::missing(column));
    }
    if v.chars().count() > MAX_NAME_CHARS {
        return Err(Issue::new(
            column,
            format!("longer than {MAX_NAME_CHARS} characters."),
            format!("dài quá {MAX_NAME_CHARS} ký tự."),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Issue::new(
            column,
            "contains control characters or line breaks.",
            "chứa ký tự điều khiển hoặc xuống dòng.",
        ));
    }
    Ok(v)
}

/// Parses a date written `YYYY-MM-DD` or `dd/mm/yyyy`.
pub fn parse_date(column: &'static str, value: &str) -> Result<NaiveDate, Issue> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Issue::missing(column));
    }
    // Spreadsheets may hand a date cell over as "2025-07-01 00:00:00".
    let v = v.strip_suffix(" 00:00:00").unwrap_or(v);
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%d/%m/%Y"))
        .map_err(|_| {
            Issue::new(
                column,
                "not a date (dd/mm/yyyy or yyyy-mm-dd).",
                "không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd).",
            )
        })
}

/// Checks that a validity period does not end before it starts.
pub fn check_validity(from: NaiveDate, to: Option<NaiveDate>) -> Result<(), Issue> {
    match to {
        Some(to) if to < from => Err(Issue::new(
            "valid_to",
            "the last day is before the first day.",
            "ngày kết thúc trước ngày bắt đầu.",
        )),
        _ => Ok(()),
    }
}

/// Parses an agency kind (its code, e.g. `mot_cua`, or its Vietnamese name).
pub fn parse_kind(value: &str) -> Result<AgencyKind, Issue> {
    let v = nfc(value.trim());
    if v.is_empty() {
        return Err(Issue::missing("kind"));
    }
    AgencyKind::parse(&v)
        .or_else(|| {
            AgencyKind::ALL
                .into_iter()
                .find(|k| k.name_vi().to_lowercase() == v.to_lowercase())
        })
        .ok_or_else(|| {
            let codes: Vec<_> = AgencyKind::ALL.iter().map(|k| k.code()).collect();
            Issue::new(
                "kind",
                format!("unknown kind; use one of {}.", codes.join(", ")),
                format!("loại không hợp lệ; dùng một trong {}.", codes.join(", ")),
            )
        })
}

impl Agency {
    /// Checks the agency on its own (code, name, validity) and normalises it.
    pub fn checked(mut self) -> Result<Agency, Issue> {
        self.code = check_code("code", &self.code)?;
        self.name = check_name("name", &self.name)?;
        self.unit_code = check_code("unit_code", &self.unit_code)?;
        check_validity(self.valid_from, self.valid_to)?;
        Ok(self)
    }
}

impl Field {
    /// Checks the field on its own and normalises it.
    pub fn checked(mut self) -> Result<Field, Issue> {
        self.code = check_code("code", &self.code)?;
        self.name = check_name("name", &self.name)?;
        Ok(self)
    }
}

impl Procedure {
    /// Checks the procedure on its own and normalises it.
    pub fn checked(mut self) -> Result<Procedure, Issue> {
        self.code = check_code("code", &self.code)?;
        self.name = check_name("name", &self.name)?;
        self.field_code = check_code("field_code", &self.field_code)?;
        self.national_code = match self.national_code.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(check_code("national_code", c)?),
        };
        Ok(self)
    }
}

/// Checks one unit record on its own (code syntax, NFC name, validity) and normalises it.
/// The consistency of the whole tree is [`UnitTree::from_units`].
pub fn checked_unit(mut unit: AdminUnit) -> Result<AdminUnit, Issue> {
    unit.code = check_code("code", &unit.code)?;
    unit.name = check_name("name", &unit.name)?;
    unit.parent_code = match unit.parent_code.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(check_code("parent_code", p)?),
    };
    check_validity(unit.valid_from, unit.valid_to)?;
    Ok(unit)
}

/// The unknown-code issue of a catalogue.
pub fn unknown_code(column: &'static str, what_en: &str, what_vi: &str) -> Issue {
    Issue::new(
        column,
        format!("no {what_en} with this code in the catalogue."),
        format!("không có {what_vi} mang mã này trong danh mục."),
    )
}

/// The seed file of fields and procedures (`schemas/catalogues/fields.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsFile {
    /// What the file is (demo seed, source).
    pub note: String,
    /// Fields, each with its procedures.
    pub fields: Vec<SeedField>,
}

/// One field of the seed file with its procedures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedField {
    /// Field code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Its procedures.
    #[serde(default)]
    pub procedures: Vec<SeedProcedure>,
}

/// One procedure of the seed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedProcedure {
    /// Procedure code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Code in the national database, if known.
    #[serde(default)]
    pub national_code: Option<String>,
}

impl FieldsFile {
    /// Parses and checks the seed: every code and name valid, codes unique.
    pub fn parse(json: &str) -> Result<(Vec<Field>, Vec<Procedure>), String> {
        let file: FieldsFile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut fields = Vec::new();
        let mut procedures = Vec::new();
        for f in file.fields {
            let field = Field {
                code: f.code,
                name: f.name,
            }
            .checked()
            .map_err(|e| e.to_string())?;
            for p in f.procedures {
                procedures.push(
                    Procedure {
                        code: p.code,
                        name: p.name,
                        field_code: field.code.clone(),
                        national_code: p.national_code,
                    }
                    .checked()
                    .map_err(|e| e.to_string())?,
                );
            }
            fields.push(field);
        }
        let mut seen = std::collections::BTreeSet::new();
        for code in fields.iter().map(|f| &f.code) {
            if !seen.insert(("f", code.clone())) {
                return Err(format!("field code {code} appears twice"));
            }
        }
        for code in procedures.iter().map(|p| &p.code) {
            if !seen.insert(("p", code.clone())) {
                return Err(format!("procedure code {code} appears twice"));
            }
        }
        Ok((fields, procedures))
    }
}

/// Every catalogue, for look-ups and cross-checks.
#[derive(Debug, Clone)]
pub struct Catalogues {
    /// Units (all versions).
    pub units: UnitTree,
    /// Agencies by code.
    pub agencies: BTreeMap<String, Agency>,
    /// Fields by code.
    pub fields: BTreeMap<String, Field>,
    /// Procedures by code.
    pub procedures: BTreeMap<String, Procedure>,
}

/// Catalogue codes of one sample row (any may be absent except the unit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleCodes {
    /// Unit code.
    pub unit_code: String,
    /// Agency code.
    pub agency_code: Option<String>,
    /// Field code.
    pub field_code: Option<String>,
    /// Procedure code.
    pub procedure_code: Option<String>,
}

/// Names of one sample row's codes, from the catalogues.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleNames {
    /// Unit name.
    pub unit_name: String,
    /// Agency name.
    pub agency_name: Option<String>,
    /// Field code (the procedure's field when only the procedure is given).
    pub field_code: Option<String>,
    /// Field name.
    pub field_name: Option<String>,
    /// Procedure name.
    pub procedure_name: Option<String>,
}

impl Catalogues {
    /// Builds the look-ups.
    pub fn new(
        units: UnitTree,
        agencies: Vec<Agency>,
        fields: Vec<Field>,
        procedures: Vec<Procedure>,
    ) -> Catalogues {
        Catalogues {
            units,
            agencies: agencies.into_iter().map(|a| (a.code.clone(), a)).collect(),
            fields: fields.into_iter().map(|f| (f.code.clone(), f)).collect(),
            procedures: procedures
                .into_iter()
                .map(|p| (p.code.clone(), p))
                .collect(),
        }
    }

    /// An agency's unit must exist on the agency's first day.
    pub fn check_agency(&self, agency: &Agency) -> Result<(), Issue> {
        if self
            .units
            .get(&agency.unit_code, agency.valid_from)
            .is_none()
        {
            return Err(Issue::new(
                "unit_code",
                "no administrative unit with this code on the agency's first day.",
                "không có đơn vị hành chính mang mã này vào ngày bắt đầu của cơ quan.",
            ));
        }
        Ok(())
    }

    /// A procedure's field must be in the catalogue.
    pub fn check_procedure(&self, procedure: &Procedure) -> Result<(), Issue> {
        if !self.fields.contains_key(&procedure.field_code) {
            return Err(unknown_code("field_code", "field", "lĩnh vực"));
        }
        Ok(())
    }

    /// Resolves the codes of a sample row on `on` (the round's first day): the unit must
    /// exist that day, the agency too, the field and procedure must be known, and a procedure
    /// must belong to the field given with it. Every problem is returned, not only the first.
    /// An empty unit catalogue checks no unit code (the unit name is then empty).
    pub fn resolve(&self, codes: &SampleCodes, on: NaiveDate) -> Result<SampleNames, Vec<Issue>> {
        let mut issues = Vec::new();
        let mut names = SampleNames::default();
        match self.units.get(&codes.unit_code, on) {
            Some(u) => names.unit_name = u.name.clone(),
            None if self.units.units().is_empty() => {}
            None => issues.push(Issue::new(
                "unit_code",
                "no administrative unit with this code on the round's first day.",
                "không có đơn vị hành chính mang mã này vào ngày bắt đầu của đợt khảo sát.",
            )),
        }
        if let Some(code) = &codes.agency_code {
            match self.agencies.get(code) {
                Some(a) if a.is_valid_on(on) => names.agency_name = Some(a.name.clone()),
                Some(_) => issues.push(Issue::new(
                    "agency_code",
                    "the agency does not exist on the round's first day.",
                    "cơ quan không tồn tại vào ngày bắt đầu của đợt khảo sát.",
                )),
                None => issues.push(unknown_code("agency_code", "agency", "cơ quan")),
            }
        }
        if let Some(code) = &codes.field_code {
            match self.fields.get(code) {
                Some(f) => {
                    names.field_code = Some(f.code.clone());
                    names.field_name = Some(f.name.clone());
                }
                None => issues.push(unknown_code("field_code", "field", "lĩnh vực")),
            }
        }
        if let Some(code) = &codes.procedure_code {
            match self.procedures.get(code) {
                Some(p) => {
                    names.procedure_name = Some(p.name.clone());
                    match &codes.field_code {
                        // (An unknown field is reported above, not as a mismatch.)
                        Some(f) if *f != p.field_code && self.fields.contains_key(f) => issues
                            .push(Issue::new(
                                "procedure_code",
                                "the procedure belongs to another field than the row's field_code.",
                                "thủ tục thuộc lĩnh vực khác với mã lĩnh vực của dòng.",
                            )),
                        Some(_) => {}
                        None => {
                            if let Some(f) = self.fields.get(&p.field_code) {
                                names.field_code = Some(f.code.clone());
                                names.field_name = Some(f.name.clone());
                            }
                        }
                    }
                }
                None => issues.push(unknown_code("procedure_code", "procedure", "thủ tục")),
            }
        }
        if issues.is_empty() {
            Ok(names)
        } else {
            Err(issues)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn catalogues() -> Catalogues {
        let units =
            UnitTree::from_json(include_str!("../../../schemas/units/vn-units-seed.json")).unwrap();
        let (fields, procedures) =
            FieldsFile::parse(include_str!("../../../schemas/catalogues/fields.json")).unwrap();
        let agencies = vec![Agency {
            code: "HN-MC-BD".into(),
            name: "Bộ phận Một cửa phường Ba Đình".into(),
            kind: AgencyKind::MotCua,
            unit_code: "95001".into(),
            valid_from: d("2025-07-01"),
            valid_to: None,
        }];
        Catalogues::new(units, agencies, fields, procedures)
    }

    #[test]
    fn kinds_round_trip_and_have_both_names() {
        for k in AgencyKind::ALL {
            assert_eq!(AgencyKind::parse(k.code()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.code())
            );
            assert!(!k.name_vi().is_empty() && !k.name_en().is_empty());
            assert_eq!(parse_kind(k.name_vi()).unwrap(), k);
        }
        assert!(parse_kind("bo").is_err());
        assert_eq!(parse_kind("").unwrap_err().column, "kind");
    }

    #[test]
    fn codes_names_and_dates_are_checked() {
        assert_eq!(check_code("code", " 01 ").unwrap(), "01");
        assert_eq!(check_code("code", "dat_dai").unwrap(), "dat_dai");
        for bad in ["", "đất", "a b", "_x", &"x".repeat(41)] {
            assert!(check_code("code", bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_name("name", "Vie\u{0302}\u{0323}t").unwrap(), "Việt");
        assert!(check_name("name", "a\nb").is_err());
        assert!(check_name("name", "  ").is_err());
        assert_eq!(
            parse_date("valid_from", "01/07/2025").unwrap(),
            d("2025-07-01")
        );
        assert_eq!(
            parse_date("valid_from", "2025-07-01").unwrap(),
            d("2025-07-01")
        );
        assert!(parse_date("valid_from", "31/02/2025").is_err());
        assert!(check_validity(d("2025-07-01"), Some(d("2025-06-30"))).is_err());
        assert!(check_validity(d("2025-07-01"), Some(d("2025-07-01"))).is_ok());
        let a = Agency {
            code: "X".into(),
            name: "  Sở ".into(),
            kind: AgencyKind::SoBanNganh,
            unit_code: "01".into(),
            valid_from: d("2025-01-01"),
            valid_to: Some(d("2024-01-01")),
        };
        assert_eq!(a.checked().unwrap_err().column, "valid_to");
    }

    #[test]
    fn the_fields_seed_names_the_planned_fields() {
        let (fields, procedures) =
            FieldsFile::parse(include_str!("../../../schemas/catalogues/fields.json")).unwrap();
        for code in [
            "dat_dai",
            "xay_dung",
            "dau_tu",
            "tu_phap_ho_tich",
            "y_te",
            "giao_duc",
            "ldtbxh",
            "kinh_doanh",
            "giao_thong",
            "khac",
        ] {
            assert!(fields.iter().any(|f| f.code == code), "{code}");
            if code != "khac" {
                assert!(procedures.iter().filter(|p| p.field_code == code).count() >= 2);
            }
        }
    }

    #[test]
    fn sample_codes_resolve_on_the_round_date() {
        let c = catalogues();
        let on = d("2026-03-01");
        let names = c
            .resolve(
                &SampleCodes {
                    unit_code: "95001".into(),
                    agency_code: Some("HN-MC-BD".into()),
                    field_code: None,
                    procedure_code: Some("dat_dai.cap_gcn".into()),
                },
                on,
            )
            .unwrap();
        assert_eq!(names.unit_name, "Phường Ba Đình");
        assert_eq!(
            names.agency_name.as_deref(),
            Some("Bộ phận Một cửa phường Ba Đình")
        );
        assert_eq!(names.field_code.as_deref(), Some("dat_dai"));
        assert_eq!(names.field_name.as_deref(), Some("Đất đai"));

        // Old ward (ended 2025-06-30), unknown agency, wrong field: every issue listed.
        let issues = c
            .resolve(
                &SampleCodes {
                    unit_code: "00004".into(),
                    agency_code: Some("NOPE".into()),
                    field_code: Some("y_te".into()),
                    procedure_code: Some("dat_dai.cap_gcn".into()),
                },
                on,
            )
            .unwrap_err();
        let columns: Vec<_> = issues.iter().map(|i| i.column).collect();
        assert_eq!(columns, ["unit_code", "agency_code", "procedure_code"]);
        // The same old ward is fine for a round in 2024; the agency did not exist yet.
        let issues = c
            .resolve(
                &SampleCodes {
                    unit_code: "00004".into(),
                    agency_code: Some("HN-MC-BD".into()),
                    ..SampleCodes::default()
                },
                d("2024-06-01"),
            )
            .unwrap_err();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].column, "agency_code");
    }

    #[test]
    fn an_empty_unit_catalogue_checks_no_unit() {
        let full = catalogues();
        let empty = Catalogues::new(
            UnitTree::from_units(Vec::new()).unwrap(),
            full.agencies.values().cloned().collect(),
            full.fields.values().cloned().collect(),
            full.procedures.values().cloned().collect(),
        );
        let names = empty
            .resolve(
                &SampleCodes {
                    unit_code: "12345".into(),
                    agency_code: Some("HN-MC-BD".into()),
                    field_code: None,
                    procedure_code: Some("ho_tich.ket_hon".into()),
                },
                d("2026-03-01"),
            )
            .unwrap();
        assert_eq!(names.unit_name, "");
        assert_eq!(names.procedure_name.as_deref(), Some("Đăng ký kết hôn"));
        assert!(names.agency_name.is_some());
    }

    #[test]
    fn agencies_need_their_unit_and_procedures_their_field() {
        let c = catalogues();
        let mut a = c.agencies["HN-MC-BD"].clone();
        assert!(c.check_agency(&a).is_ok());
        a.valid_from = d("2024-01-01"); // ward 95001 did not exist yet
        assert_eq!(c.check_agency(&a).unwrap_err().column, "unit_code");
        let p = Procedure {
            code: "x".into(),
            name: "X".into(),
            field_code: "nope".into(),
            national_code: None,
        };
        assert_eq!(c.check_procedure(&p).unwrap_err().column, "field_code");
    }
}
