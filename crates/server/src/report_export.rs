//! A shaped SIPAS report ([`sipas_core::report::Report`]) as an Excel workbook: one sheet, the
//! stamp line in the first row, the Vietnamese headers in the second, then one row per report
//! row. Counts, percentages and means are numbers (2 decimals shown), suppressed cells read
//! [`SUPPRESSED`], and a value without valid answers is an empty cell.
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use sipas_core::index::ALL_UNITS;
use sipas_core::report::{
    ALL_UNITS_LABEL_VI, REPORT_COLUMNS, Report, stamp_line, vietnamese_headers,
};

/// Text of a suppressed cell (small-cell suppression).
pub const SUPPRESSED: &str = "—";
/// Name of the worksheet.
pub const SHEET_NAME: &str = "Báo cáo SIPAS";

/// Column widths, characters, in [`vietnamese_headers`] order.
const WIDTHS: [f64; REPORT_COLUMNS] = [14.0, 18.0, 10.0, 10.0, 60.0, 14.0, 14.0, 14.0, 12.0, 12.0];

/// Writes `report` as an XLSX workbook.
pub fn report_xlsx(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    let bold = Format::new().set_bold();
    let decimals = Format::new().set_num_format("0.00");
    let suppressed = Format::new().set_align(rust_xlsxwriter::FormatAlign::Center);
    sheet.write_string_with_format(0, 0, stamp_line(report), &Format::new().set_italic())?;
    for (col, header) in (0u16..).zip(vietnamese_headers()) {
        sheet.write_string_with_format(1, col, header, &bold)?;
        sheet.set_column_width(col, WIDTHS[usize::from(col)])?;
    }
    sheet.set_freeze_panes(2, 0)?;
    for (row, r) in (2u32..).zip(&report.rows) {
        let unit = if r.unit_code == ALL_UNITS {
            ALL_UNITS_LABEL_VI
        } else {
            r.unit_code.as_str()
        };
        sheet.write_string(row, 0, &r.round_id)?;
        sheet.write_string(row, 1, unit)?;
        sheet.write_string(row, 2, r.level.label_vi())?;
        sheet.write_string(row, 3, &r.code)?;
        sheet.write_string(row, 4, &r.label)?;
        sheet.write_number(row, 5, r.valid_n as f64)?;
        let values = [
            (6, r.satisfied_n.map(|n| n as f64), None),
            (7, r.pct_satisfied, Some(&decimals)),
            (8, r.mean, Some(&decimals)),
        ];
        for (col, value, format) in values {
            match (value, format) {
                _ if r.suppressed => {
                    sheet.write_string_with_format(row, col, SUPPRESSED, &suppressed)?;
                }
                (Some(v), Some(f)) => {
                    sheet.write_number_with_format(row, col, v, f)?;
                }
                (Some(v), None) => {
                    sheet.write_number(row, col, v)?;
                }
                (None, _) => {}
            }
        }
        sheet.write_string(row, 9, if r.suppressed { "Có" } else { "Không" })?;
    }
    workbook.save_to_buffer()
}
