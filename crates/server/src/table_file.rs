//! Reading an uploaded table (CSV or the first sheet of an XLSX workbook) into rows of text,
//! shared by the sample frame ([`crate::sample_frame`]) and the catalogue imports
//! ([`crate::catalogue`]). Rows keep their number as the spreadsheet shows it (header = row 1);
//! blank rows are skipped. Cell values never appear in error messages (a sample frame holds
//! personal data).
use calamine::{Data, Reader, Xlsx};
use serde::Serialize;
use sipas_core::text::nfc;
use std::io::Cursor;

/// Most row errors listed in one answer (`details.errors`).
pub const MAX_LISTED_ERRORS: usize = 200;

/// Content type of XLSX workbooks.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file-level problem (not readable, not UTF-8, malformed CSV, empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    /// Row (header = 1) when the problem is at a known place.
    pub row: Option<usize>,
    /// English message.
    pub message: String,
    /// Vietnamese message.
    pub message_vi: String,
}

impl FileError {
    /// A problem with the whole file.
    pub fn new(message: impl Into<String>, message_vi: impl Into<String>) -> Self {
        FileError {
            row: None,
            message: message.into(),
            message_vi: message_vi.into(),
        }
    }
}

/// One problem in one row (and column), as listed in `details.errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// Row number (header = 1).
    pub row: usize,
    /// Canonical column name, when the problem is in one column.
    pub column: Option<String>,
    /// Vietnamese message (names row and column, never the value).
    pub message_vi: String,
    /// English message.
    pub message_en: String,
}

impl RowError {
    /// A problem in `column` of `row`; the messages are prefixed with row and column.
    pub fn cell(row: usize, column: &str, en: &str, vi: &str) -> RowError {
        RowError {
            row,
            column: Some(column.to_owned()),
            message_vi: format!("Dòng {row}, cột {column}: {vi}"),
            message_en: format!("Row {row}, column {column}: {en}"),
        }
    }

    /// A problem with the whole row.
    pub fn row(row: usize, en: &str, vi: &str) -> RowError {
        RowError {
            row,
            column: None,
            message_vi: format!("Dòng {row}: {vi}"),
            message_en: format!("Row {row}: {en}"),
        }
    }
}

/// The text cells of a table, blank rows dropped, with their row numbers (header = 1).
pub type Rows = Vec<(usize, Vec<String>)>;

/// Reads a CSV file (UTF-8, optional BOM; delimiter `,`, `;` or tab, guessed from the header).
pub fn read_csv(bytes: &[u8]) -> Result<Rows, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        FileError {
            row: Some(line),
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
    let mut rows: Rows = Vec::new();
    let mut lines = LineCounter::new(text);
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| lines.line_of(p.byte()));
            FileError {
                row: Some(line),
                message: format!("Row {line}: the CSV is malformed (check the quotes)."),
                message_vi: format!(
                    "Dòng {line}: tệp CSV bị lỗi định dạng (kiểm tra dấu ngoặc kép)."
                ),
            }
        })?;
        // Line of the record's first byte (csv's own line count skips blank lines).
        let line = record
            .position()
            .map_or(rows.len() + 1, |p| lines.line_of(p.byte()));
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(drop_blank(rows))
}

/// Line numbers of byte offsets in a text, counted forward from the last offset asked for:
/// the records of a CSV come in order, so reading a file costs one pass over it (counting
/// from the start for every record made a 1,000,000-row sample quadratic).
struct LineCounter<'a> {
    bytes: &'a [u8],
    /// Bytes counted so far.
    counted_to: usize,
    /// Newlines in `bytes[..counted_to]`.
    newlines: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            counted_to: 0,
            newlines: 0,
        }
    }

    /// 1-based line number of byte offset `byte`.
    fn line_of(&mut self, byte: u64) -> usize {
        let bytes = self.bytes;
        let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        // A record's position is where the previous one ended: skip blank lines before it.
        while end < bytes.len() && matches!(bytes[end], b'\n' | b'\r') {
            end += 1;
        }
        if end < self.counted_to {
            // Not asked in order (never for csv's records): count again from the start.
            self.counted_to = 0;
            self.newlines = 0;
        }
        self.newlines += bytes[self.counted_to..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.counted_to = end;
        self.newlines + 1
    }
}

/// Reads the first worksheet of an XLSX workbook.
pub fn read_xlsx(bytes: &[u8]) -> Result<Rows, FileError> {
    let unreadable = || {
        FileError::new(
            "The file is not a readable .xlsx workbook.",
            "Tệp không phải bảng tính .xlsx đọc được.",
        )
    };
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| unreadable())?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| {
            FileError::new(
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
            let value = cell_text(cell).ok_or_else(|| FileError {
                row: Some(row),
                message: format!("Row {row}, cell {}: the cell holds an error value.", j + 1),
                message_vi: format!("Dòng {row}, ô {}: ô chứa giá trị lỗi.", j + 1),
            })?;
            values.push(value);
        }
        rows.push((row, values));
    }
    Ok(drop_blank(rows))
}

/// Reads `bytes` as XLSX when `xlsx`, else as CSV.
pub fn read_table(bytes: &[u8], xlsx: bool) -> Result<Rows, FileError> {
    if xlsx {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    }
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
        // A date cell: its day as YYYY-MM-DD (serial days since 1899-12-30).
        Data::DateTime(d) if d.is_datetime() && d.as_f64() >= 1.0 => {
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|base| {
                    base.checked_add_days(chrono::Days::new(d.as_f64().floor() as u64))
                })
                .map_or_else(|| d.to_string(), |day| day.format("%Y-%m-%d").to_string())
        }
        Data::DateTime(d) => d.to_string(),
        Data::Error(_) => return None,
    })
}

fn drop_blank(rows: Rows) -> Rows {
    rows.into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .collect()
}

/// A header cell folded for matching: NFC, lower case, spaces / dashes / underscores → `_`.
pub fn fold_header(header: &str) -> String {
    nfc(header.trim().trim_start_matches('\u{feff}'))
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// Whether a request's `Content-Type` names XLSX (`Some(true)`), CSV (`Some(false)`) or
/// neither (`None`).
pub fn content_kind(headers: &axum::http::HeaderMap) -> Option<bool> {
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match content_type.as_str() {
        "text/csv" => Some(false),
        XLSX_CONTENT_TYPE => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_line_numbers_and_blank_rows_go() {
        let rows = read_csv("\u{feff}a;b\n1;2\n\n3;4\n".as_bytes()).unwrap();
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".into(), "b".into()]),
                (2, vec!["1".into(), "2".into()]),
                (4, vec!["3".into(), "4".into()]),
            ]
        );
        assert_eq!(read_csv(b"a,b\n\xff,1\n").unwrap_err().row, Some(2));
        // A quoted cell over two lines: the next record starts two lines further on.
        let rows = read_csv(b"a,b\n\"x\ny\",1\n\n\r\nz,2\n").unwrap();
        assert_eq!(
            rows.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
            vec![1, 2, 6]
        );
        assert!(read_xlsx(b"not a zip").is_err());
        assert_eq!(fold_header(" Mã đơn  vị "), "mã_đơn_vị");
    }
}
