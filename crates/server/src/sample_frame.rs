//! Reading a round's sample frame (the list of sampled respondents) from CSV or XLSX
//! ([`crate::table_file`]).
//!
//! Columns (header row, any order, extra columns ignored): `unit_code`, `procedure`, `agency`,
//! `name`, `address`, `phone`, `unit_name`, `agency_code`, `field_code`, `procedure_code`, or
//! their Vietnamese names `ma_don_vi`, `thu_tuc`, `co_quan`, `ho_ten`, `dia_chi`,
//! `dien_thoai`, `ten_don_vi`, `ma_co_quan`, `ma_linh_vuc`, `ma_thu_tuc` (also with
//! diacritics, e.g. "Mã đơn vị"). `unit_code`, `name` and `address` are required, and one of
//! `procedure` / `procedure_code`; the rest is optional. Text is trimmed and NFC-normalised.
//! Blank rows are skipped.
//!
//! Every bad row is reported ([`Parsed::errors`], as numbered in the spreadsheet / line of the
//! CSV, header = row 1, with the column); the catalogue codes are checked afterwards by
//! [`crate::catalogue::resolve_frame`]. Error messages never repeat cell values: they are
//! personal data.
use crate::table_file::{self, FileError, RowError, Rows, fold_header};
use sipas_core::catalogue::check_code;
use sipas_core::text::nfc;
use sipas_protocol::wire::Contact;

pub use crate::table_file::MAX_LISTED_ERRORS;

/// Largest number of data rows in one import.
pub const MAX_SAMPLE_ROWS: usize = 100_000;

/// One column of the sample frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Administrative unit code.
    UnitCode,
    /// Procedure (name).
    Procedure,
    /// Agency (name).
    Agency,
    /// Respondent's name.
    Name,
    /// Address.
    Address,
    /// Phone.
    Phone,
    /// Name of the unit (ignored: the catalogue names units).
    UnitName,
    /// Agency code (agency catalogue).
    AgencyCode,
    /// Field code (field catalogue).
    FieldCode,
    /// Procedure code (procedure catalogue).
    ProcedureCode,
}

impl Column {
    /// Every column, in the order of the sample template.
    pub const ALL: [Column; 10] = [
        Column::UnitCode,
        Column::AgencyCode,
        Column::FieldCode,
        Column::ProcedureCode,
        Column::Procedure,
        Column::Agency,
        Column::Name,
        Column::Address,
        Column::Phone,
        Column::UnitName,
    ];

    /// Canonical (English) column name.
    pub fn name(self) -> &'static str {
        match self {
            Column::UnitCode => "unit_code",
            Column::Procedure => "procedure",
            Column::Agency => "agency",
            Column::Name => "name",
            Column::Address => "address",
            Column::Phone => "phone",
            Column::UnitName => "unit_name",
            Column::AgencyCode => "agency_code",
            Column::FieldCode => "field_code",
            Column::ProcedureCode => "procedure_code",
        }
    }

    /// Vietnamese column name (the sample template's header).
    pub fn name_vi(self) -> &'static str {
        self.aliases()[1]
    }

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::UnitCode => &["unit_code", "ma_don_vi", "mã_đơn_vị"],
            Column::Procedure => &["procedure", "thu_tuc", "thủ_tục"],
            Column::Agency => &["agency", "co_quan", "cơ_quan"],
            Column::Name => &["name", "ho_ten", "họ_tên", "ho_va_ten", "họ_và_tên"],
            Column::Address => &["address", "dia_chi", "địa_chỉ"],
            Column::Phone => &[
                "phone",
                "dien_thoai",
                "điện_thoại",
                "so_dien_thoai",
                "số_điện_thoại",
            ],
            Column::UnitName => &["unit_name", "ten_don_vi", "tên_đơn_vị"],
            Column::AgencyCode => &["agency_code", "ma_co_quan", "mã_cơ_quan"],
            Column::FieldCode => &["field_code", "ma_linh_vuc", "mã_lĩnh_vực"],
            Column::ProcedureCode => &["procedure_code", "ma_thu_tuc", "mã_thủ_tục"],
        }
    }

    fn required(self) -> bool {
        matches!(self, Column::UnitCode | Column::Name | Column::Address)
    }

    fn max_chars(self) -> usize {
        match self {
            Column::UnitCode | Column::AgencyCode | Column::FieldCode | Column::ProcedureCode => 40,
            Column::Procedure | Column::Agency | Column::UnitName => 300,
            Column::Name => 200,
            Column::Address => 500,
            Column::Phone => 40,
        }
    }

    /// Matches a header cell: case, spaces, dashes and underscores do not matter.
    fn from_header(header: &str) -> Option<Column> {
        let folded = fold_header(header);
        Column::ALL
            .into_iter()
            .find(|c| c.aliases().contains(&folded.as_str()))
    }
}

/// One row of the sample frame, checked on its own (catalogue codes not yet resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRow {
    /// Row number in the file (header = 1).
    pub row: usize,
    /// Administrative unit code.
    pub unit_code: String,
    /// Procedure name as written in the frame.
    pub procedure: Option<String>,
    /// Agency name as written in the frame.
    pub agency: Option<String>,
    /// Contact data.
    pub contact: Contact,
    /// Name of the unit, if the frame gives one (not used: the catalogue names units).
    pub unit_name: Option<String>,
    /// Agency code.
    pub agency_code: Option<String>,
    /// Field code.
    pub field_code: Option<String>,
    /// Procedure code.
    pub procedure_code: Option<String>,
}

/// The rows that passed the checks and every problem found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Good rows, in file order.
    pub rows: Vec<FrameRow>,
    /// Every problem, by row (header problems on the header row).
    pub errors: Vec<RowError>,
    /// Data rows read (good and bad).
    pub count: usize,
}

/// Reads a CSV file (UTF-8, optional BOM; delimiter `,`, `;` or tab, guessed from the header).
pub fn parse_csv(bytes: &[u8]) -> Result<Parsed, FileError> {
    parse_rows(table_file::read_csv(bytes)?)
}

/// Reads the first worksheet of an XLSX workbook.
pub fn parse_xlsx(bytes: &[u8]) -> Result<Parsed, FileError> {
    parse_rows(table_file::read_xlsx(bytes)?)
}

fn cell_error(row: usize, column: Column, en: &str, vi: &str) -> RowError {
    RowError::cell(row, column.name(), en, vi)
}

/// Header row + data rows (with their row numbers) → checked frame rows and every problem.
pub fn parse_rows(rows: Rows) -> Result<Parsed, FileError> {
    let mut rows = rows.into_iter();
    let (header_row, header) = rows
        .next()
        .ok_or_else(|| FileError::new("The file is empty.", "Tệp không có dữ liệu."))?;
    let mut out = Parsed::default();
    let mut positions: Vec<(Column, usize)> = Vec::new();
    for (idx, cell) in header.iter().enumerate() {
        if let Some(column) = Column::from_header(cell) {
            if positions.iter().any(|(c, _)| *c == column) {
                out.errors.push(cell_error(
                    header_row,
                    column,
                    "the column appears twice in the header.",
                    "cột bị lặp lại ở dòng tiêu đề.",
                ));
            } else {
                positions.push((column, idx));
            }
        }
    }
    for column in Column::ALL {
        if column.required() && !positions.iter().any(|(c, _)| *c == column) {
            out.errors.push(cell_error(
                header_row,
                column,
                "required column missing from the header.",
                "thiếu cột bắt buộc ở dòng tiêu đề.",
            ));
        }
    }
    let has = |c: Column| positions.iter().any(|(p, _)| *p == c);
    if !has(Column::Procedure) && !has(Column::ProcedureCode) {
        out.errors.push(cell_error(
            header_row,
            Column::ProcedureCode,
            "the header needs a procedure_code (ma_thu_tuc) or procedure (thu_tuc) column.",
            "dòng tiêu đề cần cột ma_thu_tuc (procedure_code) hoặc thu_tuc (procedure).",
        ));
    }
    if !out.errors.is_empty() {
        return Ok(out);
    }
    let mut data_rows = 0usize;
    for (row, cells) in rows {
        data_rows += 1;
        if data_rows > MAX_SAMPLE_ROWS {
            return Err(FileError::new(
                format!("More than {MAX_SAMPLE_ROWS} rows; split the file."),
                format!("Quá {MAX_SAMPLE_ROWS} dòng; hãy chia nhỏ tệp."),
            ));
        }
        let mut errors = Vec::new();
        let mut get = |column: Column| -> Option<String> {
            let idx = positions
                .iter()
                .find(|(c, _)| *c == column)
                .map(|(_, i)| *i)?;
            let value = nfc(cells.get(idx).map_or("", |s| s.trim()));
            if value.is_empty() {
                if column.required() {
                    errors.push(cell_error(row, column, "value missing.", "thiếu giá trị."));
                }
                return None;
            }
            if value.chars().count() > column.max_chars() {
                errors.push(cell_error(
                    row,
                    column,
                    &format!("longer than {} characters.", column.max_chars()),
                    &format!("dài quá {} ký tự.", column.max_chars()),
                ));
                return None;
            }
            if value.chars().any(char::is_control) {
                errors.push(cell_error(
                    row,
                    column,
                    "contains control characters or line breaks.",
                    "chứa ký tự điều khiển hoặc xuống dòng.",
                ));
                return None;
            }
            Some(value)
        };
        let unit_code = get(Column::UnitCode);
        let procedure = get(Column::Procedure);
        let agency = get(Column::Agency);
        let name = get(Column::Name);
        let address = get(Column::Address);
        let phone = get(Column::Phone);
        let unit_name = get(Column::UnitName);
        let agency_code = get(Column::AgencyCode);
        let field_code = get(Column::FieldCode);
        let procedure_code = get(Column::ProcedureCode);
        for (column, value) in [
            (Column::UnitCode, &unit_code),
            (Column::AgencyCode, &agency_code),
            (Column::FieldCode, &field_code),
            (Column::ProcedureCode, &procedure_code),
        ] {
            if let Some(Err(issue)) = value.as_deref().map(|v| check_code(column.name(), v)) {
                errors.push(cell_error(row, column, &issue.en, &issue.vi));
            }
        }
        if procedure.is_none() && procedure_code.is_none() {
            errors.push(cell_error(
                row,
                Column::ProcedureCode,
                "give the procedure code (or the procedure's name).",
                "cần mã thủ tục (hoặc tên thủ tục).",
            ));
        }
        if let Some(p) = &phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let allowed = p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')'));
            if !allowed || !(8..=15).contains(&digits) {
                errors.push(cell_error(
                    row,
                    Column::Phone,
                    "not a phone number (8 to 15 digits).",
                    "không phải số điện thoại (8–15 chữ số).",
                ));
            }
        }
        if !errors.is_empty() {
            out.errors.extend(errors);
            continue;
        }
        out.rows.push(FrameRow {
            row,
            unit_code: unit_code.unwrap_or_default(),
            procedure,
            agency,
            contact: Contact {
                name: name.unwrap_or_default(),
                address: address.unwrap_or_default(),
                phone,
            },
            unit_name,
            agency_code,
            field_code,
            procedure_code,
        });
    }
    out.count = data_rows;
    if data_rows == 0 {
        return Err(FileError::new(
            "The file has a header but no data rows.",
            "Tệp chỉ có dòng tiêu đề, không có dữ liệu.",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_vietnamese_headers_bom_and_semicolons() {
        let csv = "\u{feff}Mã đơn vị;Thủ tục;Cơ quan;Họ tên;Địa chỉ;Điện thoại;STT;Mã thủ tục\n\
                   00004;Cấp CCCD;;Nguye\u{0302}\u{0303}n Văn A;Số 1 Hàng Bạc;0912 345 678;1;\n\
                   \n\
                   00007;;UBND;Trần Thị B;Số 2;;2;ho_tich.khai_sinh\n";
        let parsed = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(parsed.errors, vec![]);
        let rows = parsed.rows;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].contact.name, "Nguyễn Văn A"); // NFC
        assert_eq!(rows[0].agency, None);
        assert_eq!(rows[1].row, 4);
        assert_eq!(rows[1].agency.as_deref(), Some("UBND"));
        assert_eq!(rows[1].procedure, None);
        assert_eq!(rows[1].procedure_code.as_deref(), Some("ho_tich.khai_sinh"));
        assert_eq!(rows[1].contact.phone, None);
    }

    #[test]
    fn every_bad_row_is_listed_with_row_and_column() {
        let csv = "ma_don_vi,thu_tuc,ho_ten,dia_chi,dien_thoai,ma_co_quan\n\
                   00004,P,A,X,0912345678,\n\
                   00004,P,B,X,12ab,\n\
                   00004,,C,X,,\n\
                   00004,P,D,X,,mã có dấu\n";
        let parsed = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        let at: Vec<_> = parsed
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_deref()))
            .collect();
        assert_eq!(
            at,
            [
                (3, Some("phone")),
                (4, Some("procedure_code")),
                (5, Some("agency_code"))
            ]
        );
        assert!(parsed.errors[0].message_en.contains("Row 3"));
        assert!(parsed.errors[0].message_vi.contains("Dòng 3"));
        assert!(parsed.errors.iter().all(|e| !e.message_en.contains("12ab")));

        let parsed = parse_csv(b"unit_code,procedure,name\n1,2,3\n").unwrap();
        assert_eq!(
            (parsed.errors[0].row, parsed.errors[0].column.as_deref()),
            (1, Some("address"))
        );

        let parsed = parse_csv(b"unit_code,procedure,name,address\n1,,3,4\n").unwrap();
        assert_eq!(
            (parsed.errors[0].row, parsed.errors[0].column.as_deref()),
            (2, Some("procedure_code"))
        );

        let err = parse_csv(b"unit_code,procedure,name,address\n").unwrap_err();
        assert_eq!(err.row, None);
        let err = parse_csv(b"unit_code,procedure,name,address\n\xff,2,3,4\n").unwrap_err();
        assert_eq!(err.row, Some(2));
    }

    #[test]
    fn xlsx_garbage_is_refused() {
        assert!(parse_xlsx(b"not a zip").is_err());
    }
}
