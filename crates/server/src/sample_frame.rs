//! Reading a round's sample frame (the list of sampled respondents) from CSV or XLSX.
//!
//! Columns (header row, any order, extra columns ignored): `unit_code`, `procedure`, `agency`,
//! `name`, `address`, `phone`, `unit_name`, or their Vietnamese names `ma_don_vi`, `thu_tuc`,
//! `co_quan`, `ho_ten`, `dia_chi`, `dien_thoai`, `ten_don_vi` (also with diacritics, e.g.
//! "Mã đơn vị"). `agency`, `phone` and `unit_name` (the unit's name, shown on devices instead
//! of its code) are optional. Text is trimmed and NFC-normalised. Blank rows are skipped.
//!
//! The file is read all-or-nothing: the first bad row yields a [`SampleError`] naming the row
//! (as numbered in the spreadsheet / line of the CSV, header = row 1) and the column.
//! Error messages never repeat cell values: they are personal data.
use calamine::{Data, Reader, Xlsx};
use sipas_core::text::nfc;
use sipas_protocol::wire::Contact;
use std::io::Cursor;

/// Largest number of data rows in one import.
pub const MAX_SAMPLE_ROWS: usize = 100_000;

/// One column of the sample frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// Administrative unit code.
    UnitCode,
    /// Procedure.
    Procedure,
    /// Agency.
    Agency,
    /// Respondent's name.
    Name,
    /// Address.
    Address,
    /// Phone.
    Phone,
    /// Name of the unit.
    UnitName,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::UnitName,
        Column::UnitCode,
        Column::Procedure,
        Column::Agency,
        Column::Name,
        Column::Address,
        Column::Phone,
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
        }
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
        }
    }

    fn required(self) -> bool {
        !matches!(self, Column::Agency | Column::Phone | Column::UnitName)
    }

    fn max_chars(self) -> usize {
        match self {
            Column::UnitCode => 32,
            Column::Procedure | Column::Agency | Column::UnitName => 300,
            Column::Name => 200,
            Column::Address => 500,
            Column::Phone => 40,
        }
    }

    /// Matches a header cell: case, spaces, dashes and underscores do not matter.
    fn from_header(header: &str) -> Option<Column> {
        let folded: String = nfc(header.trim().trim_start_matches('\u{feff}'))
            .to_lowercase()
            .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        Column::ALL
            .into_iter()
            .find(|c| c.aliases().contains(&folded.as_str()))
    }
}

/// One row of the sample frame, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRow {
    /// Row number in the file (header = 1).
    pub row: usize,
    /// Administrative unit code.
    pub unit_code: String,
    /// Procedure.
    pub procedure: String,
    /// Agency.
    pub agency: Option<String>,
    /// Contact data.
    pub contact: Contact,
    /// Name of the unit, if the frame gives one.
    pub unit_name: Option<String>,
}

/// Why a sample frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SampleError {
    /// Row number (header = 1), when the problem is in one row.
    pub row: Option<usize>,
    /// Canonical column name, when the problem is in one column.
    pub column: Option<&'static str>,
    /// English message (names row and column, never the value).
    pub message: String,
    /// Vietnamese message.
    pub message_vi: String,
}

impl SampleError {
    fn file(message: impl Into<String>, message_vi: impl Into<String>) -> Self {
        SampleError {
            row: None,
            column: None,
            message: message.into(),
            message_vi: message_vi.into(),
        }
    }

    fn cell(row: usize, column: Column, en: &str, vi: &str) -> Self {
        SampleError {
            row: Some(row),
            column: Some(column.name()),
            message: format!("Row {row}, column {}: {en}", column.name()),
            message_vi: format!("Dòng {row}, cột {}: {vi}", column.name()),
        }
    }
}

/// Reads a CSV file (UTF-8, optional BOM; delimiter `,`, `;` or tab, guessed from the header).
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<FrameRow>, SampleError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        SampleError {
            row: Some(line),
            column: None,
            message: format!(
                "Row {line}: the file is not UTF-8 text; in Excel use \"Save as: CSV UTF-8\"."
            ),
            message_vi: format!(
                "Dòng {line}: tệp không phải văn bản UTF-8; trong Excel hãy chọn \"Lưu dạng CSV UTF-8\"."
            ),
        }
    })?;
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .filter(|d| first_line.as_bytes().contains(d))
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| line_of(text, p.byte()));
            SampleError {
                row: Some(line),
                column: None,
                message: format!("Row {line}: the CSV is malformed (check the quotes)."),
                message_vi: format!(
                    "Dòng {line}: tệp CSV bị lỗi định dạng (kiểm tra dấu ngoặc kép)."
                ),
            }
        })?;
        // Line of the record's first byte (csv's own line count skips blank lines).
        let line = record
            .position()
            .map_or(rows.len() + 1, |p| line_of(text, p.byte()));
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    rows_to_frame(rows)
}

/// 1-based line number of byte offset `byte` in `text`.
fn line_of(text: &str, byte: u64) -> usize {
    let bytes = text.as_bytes();
    let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    // A record's position is where the previous one ended: skip blank lines before it.
    while end < bytes.len() && matches!(bytes[end], b'\n' | b'\r') {
        end += 1;
    }
    bytes[..end].iter().filter(|b| **b == b'\n').count() + 1
}

/// Reads the first worksheet of an XLSX workbook.
pub fn parse_xlsx(bytes: &[u8]) -> Result<Vec<FrameRow>, SampleError> {
    let unreadable = || {
        SampleError::file(
            "The file is not a readable .xlsx workbook.",
            "Tệp không phải bảng tính .xlsx đọc được.",
        )
    };
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| {
            SampleError::file(
                "The workbook has no sheet.",
                "Bảng tính không có trang nào.",
            )
        })?
        .map_err(|_| unreadable())?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let row = first_row as usize + i + 1;
        let mut values: Vec<String> = vec![String::new(); first_col as usize];
        for (j, cell) in cells.iter().enumerate() {
            let value = cell_text(cell).ok_or_else(|| SampleError {
                row: Some(row),
                column: None,
                message: format!("Row {row}, cell {}: the cell holds an error value.", j + 1),
                message_vi: format!("Dòng {row}, ô {}: ô chứa giá trị lỗi.", j + 1),
            })?;
            values.push(value);
        }
        rows.push((row, values));
    }
    rows_to_frame(rows)
}

/// A cell as text; `None` for Excel error cells.
fn cell_text(cell: &Data) -> Option<String> {
    Some(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::Error(_) => return None,
    })
}

/// Header row + data rows (with their row numbers) → checked frame rows.
fn rows_to_frame(rows: Vec<(usize, Vec<String>)>) -> Result<Vec<FrameRow>, SampleError> {
    let mut rows = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    let (header_row, header) = rows
        .next()
        .ok_or_else(|| SampleError::file("The file is empty.", "Tệp không có dữ liệu."))?;
    let mut positions: Vec<(Column, usize)> = Vec::new();
    for (idx, cell) in header.iter().enumerate() {
        if let Some(column) = Column::from_header(cell) {
            if positions.iter().any(|(c, _)| *c == column) {
                return Err(SampleError::cell(
                    header_row,
                    column,
                    "the column appears twice in the header.",
                    "cột bị lặp lại ở dòng tiêu đề.",
                ));
            }
            positions.push((column, idx));
        }
    }
    for column in Column::ALL {
        if column.required() && !positions.iter().any(|(c, _)| *c == column) {
            return Err(SampleError::cell(
                header_row,
                column,
                "required column missing from the header.",
                "thiếu cột bắt buộc ở dòng tiêu đề.",
            ));
        }
    }
    let mut out = Vec::new();
    for (row, cells) in rows {
        if out.len() == MAX_SAMPLE_ROWS {
            return Err(SampleError::file(
                format!("More than {MAX_SAMPLE_ROWS} rows; split the file."),
                format!("Quá {MAX_SAMPLE_ROWS} dòng; hãy chia nhỏ tệp."),
            ));
        }
        let get = |column: Column| -> Result<Option<String>, SampleError> {
            let Some(idx) = positions
                .iter()
                .find(|(c, _)| *c == column)
                .map(|(_, i)| *i)
            else {
                return Ok(None);
            };
            let value = nfc(cells.get(idx).map_or("", |s| s.trim()));
            if value.is_empty() {
                if column.required() {
                    return Err(SampleError::cell(
                        row,
                        column,
                        "value missing.",
                        "thiếu giá trị.",
                    ));
                }
                return Ok(None);
            }
            if value.chars().count() > column.max_chars() {
                return Err(SampleError::cell(
                    row,
                    column,
                    &format!("longer than {} characters.", column.max_chars()),
                    &format!("dài quá {} ký tự.", column.max_chars()),
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(SampleError::cell(
                    row,
                    column,
                    "contains control characters or line breaks.",
                    "chứa ký tự điều khiển hoặc xuống dòng.",
                ));
            }
            Ok(Some(value))
        };
        let unit_code = get(Column::UnitCode)?.unwrap_or_default();
        if unit_code.chars().any(char::is_whitespace) {
            return Err(SampleError::cell(
                row,
                Column::UnitCode,
                "a unit code has no spaces.",
                "mã đơn vị không được chứa khoảng trắng.",
            ));
        }
        let phone = get(Column::Phone)?;
        if let Some(p) = &phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            let allowed = p
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '.' | '(' | ')'));
            if !allowed || !(8..=15).contains(&digits) {
                return Err(SampleError::cell(
                    row,
                    Column::Phone,
                    "not a phone number (8 to 15 digits).",
                    "không phải số điện thoại (8–15 chữ số).",
                ));
            }
        }
        out.push(FrameRow {
            row,
            unit_code,
            procedure: get(Column::Procedure)?.unwrap_or_default(),
            agency: get(Column::Agency)?,
            contact: Contact {
                name: get(Column::Name)?.unwrap_or_default(),
                address: get(Column::Address)?.unwrap_or_default(),
                phone,
            },
            unit_name: get(Column::UnitName)?,
        });
    }
    if out.is_empty() {
        return Err(SampleError::file(
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
        let csv = "\u{feff}Mã đơn vị;Thủ tục;Cơ quan;Họ tên;Địa chỉ;Điện thoại;STT\n\
                   00004;Cấp CCCD;;Nguye\u{0302}\u{0303}n Văn A;Số 1 Hàng Bạc;0912 345 678;1\n\
                   \n\
                   00007;Đăng ký hộ tịch;UBND;Trần Thị B;Số 2;;2\n";
        let rows = parse_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, 2);
        assert_eq!(rows[0].contact.name, "Nguyễn Văn A"); // NFC
        assert_eq!(rows[0].agency, None);
        assert_eq!(rows[1].row, 4);
        assert_eq!(rows[1].agency.as_deref(), Some("UBND"));
        assert_eq!(rows[1].contact.phone, None);
    }

    #[test]
    fn bad_rows_name_row_and_column() {
        let csv = "ma_don_vi,thu_tuc,ho_ten,dia_chi,dien_thoai\n\
                   00004,P,A,X,0912345678\n\
                   00004,P,B,X,12ab\n";
        let err = parse_csv(csv.as_bytes()).unwrap_err();
        assert_eq!((err.row, err.column), (Some(3), Some("phone")));
        assert!(err.message.contains("Row 3"), "{}", err.message);
        assert!(!err.message.contains("12ab"));

        let err = parse_csv(b"unit_code,procedure,name\n1,2,3\n").unwrap_err();
        assert_eq!((err.row, err.column), (Some(1), Some("address")));

        let err = parse_csv(b"unit_code,procedure,name,address\n1,,3,4\n").unwrap_err();
        assert_eq!((err.row, err.column), (Some(2), Some("procedure")));

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
