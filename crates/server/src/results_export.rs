//! Files of the published results (issue 11): the XLSX workbook a province pastes into its
//! report, the CSV of the same figures, and the microdata workbook. Nothing is computed
//! here: values are read off [`Results`] (the engine's figures) and written; percentages
//! are numbers with 2 decimals shown, suppressed values read [`SUPPRESSED`].
use crate::report_export::SUPPRESSED;
use crate::results::{CellView, Results, RowDef};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use sipas_core::figure::{Figure, PUBLISHED_DECIMALS, round_to};
use sipas_core::microdata::{CodebookEntry, Microdata};
use sipas_core::ranking::NOT_ENOUGH_LABEL_VI;
use sipas_core::report::{ReportLevel, csv_field};
use sipas_core::targets::{Comparator, TargetScope, TargetStatus};

/// Sheet names of the results workbook, in order.
pub const SHEETS: [&str; 6] = [
    "tổng hợp",
    "xếp hạng",
    "so sánh với kỳ trước",
    "theo tiêu chí",
    "theo lĩnh vực",
    "ghi chú phương pháp",
];

/// Sheet names of the microdata workbook.
pub const MICRODATA_SHEETS: [&str; 2] = ["du_lieu", "codebook"];

fn pct(f: &Figure) -> Option<f64> {
    f.pct_satisfied
        .filter(|_| !f.suppressed)
        .map(|p| round_to(p, PUBLISHED_DECIMALS))
}

fn overall(c: &CellView) -> Option<&Figure> {
    c.figures.iter().find(|f| f.level == ReportLevel::Overall)
}

/// Vietnamese text of a target, e.g. `Chung > 90%`, `Lĩnh vực dat_dai ≥ 85%`.
pub fn target_text(scope: &TargetScope, comparator: Comparator, threshold: f64) -> String {
    let what = match scope {
        TargetScope::Overall => "Chỉ số chung".to_owned(),
        TargetScope::Group(c) => format!("Nhóm {c}"),
        TargetScope::Field(c) => format!("Lĩnh vực {c}"),
        TargetScope::AgencyKind(c) => format!("Loại cơ quan {c}"),
    };
    format!("{what} {} {threshold}%", comparator.symbol())
}

/// Target status of the overall row of a cell (the first target that applies there).
fn target_status(c: &CellView) -> Option<TargetStatus> {
    c.targets.first().map(|t| t.status)
}

struct Fmt {
    bold: Format,
    dec: Format,
    italic: Format,
    center: Format,
}

fn fmt() -> Fmt {
    Fmt {
        bold: Format::new().set_bold().set_text_wrap(),
        dec: Format::new().set_num_format("0.00"),
        italic: Format::new().set_italic(),
        center: Format::new().set_align(rust_xlsxwriter::FormatAlign::Center),
    }
}

fn write_opt(
    s: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<f64>,
    suppressed: bool,
    f: &Fmt,
) -> Result<(), XlsxError> {
    match v {
        _ if suppressed => {
            s.write_string_with_format(row, col, SUPPRESSED, &f.center)?;
        }
        Some(v) => {
            s.write_number_with_format(row, col, v, &f.dec)?;
        }
        None => {}
    }
    Ok(())
}

fn headers(s: &mut Worksheet, row: u32, names: &[&str], f: &Fmt) -> Result<(), XlsxError> {
    for (col, h) in (0u16..).zip(names) {
        s.write_string_with_format(row, col, *h, &f.bold)?;
        s.set_column_width(col, if col == 0 { 36.0 } else { 14.0 })?;
    }
    s.set_freeze_panes(row + 1, 0)?;
    Ok(())
}

/// The stamp written in the first row of every sheet.
pub fn stamp(r: &Results) -> String {
    format!(
        "{} ({}); Phiếu: {}; Cách tổng hợp: {}; Dữ liệu đến: {}; Cỡ mẫu tối thiểu: {}",
        r.round.name,
        r.round.id,
        r.method.form,
        r.method.aggregation_vi,
        r.method.data_as_of_vi,
        r.method.min_n
    )
}

fn summary(s: &mut Worksheet, r: &Results, f: &Fmt) -> Result<(), XlsxError> {
    s.write_string_with_format(0, 0, stamp(r), &f.italic)?;
    headers(
        s,
        2,
        &[
            "Tên",
            "Mã",
            "Số phiếu",
            "N",
            "Tỷ lệ hài lòng (%)",
            "KTC 95% thấp",
            "KTC 95% cao",
            "Điểm trung bình",
            "Xếp hạng",
            "Chỉ tiêu",
            "Đánh giá chỉ tiêu",
        ],
        f,
    )?;
    for (row, c) in (3u32..).zip(std::iter::once(&r.total).chain(&r.cells)) {
        s.write_string(row, 0, &c.name)?;
        s.write_string(row, 1, &c.key)?;
        s.write_number(row, 2, c.respondents as f64)?;
        if let Some(o) = overall(c) {
            s.write_number(row, 3, o.n as f64)?;
            write_opt(s, row, 4, pct(o), o.suppressed, f)?;
            write_opt(
                s,
                row,
                5,
                o.interval.map(|i| round_to(i.lower, PUBLISHED_DECIMALS)),
                o.suppressed,
                f,
            )?;
            write_opt(
                s,
                row,
                6,
                o.interval.map(|i| round_to(i.upper, PUBLISHED_DECIMALS)),
                o.suppressed,
                f,
            )?;
            write_opt(
                s,
                row,
                7,
                o.mean.map(|m| round_to(m, PUBLISHED_DECIMALS)),
                o.suppressed,
                f,
            )?;
        }
        if c.key != sipas_core::index::ALL_UNITS {
            match c.rank {
                Some(rank) => {
                    s.write_number(row, 8, rank as f64)?;
                }
                None => {
                    s.write_string(row, 8, NOT_ENOUGH_LABEL_VI)?;
                }
            }
        }
        if let Some(t) = c.targets.first() {
            s.write_string(
                row,
                9,
                target_text(&t.target.scope, t.target.comparator, t.target.threshold_pct),
            )?;
        }
        if let Some(st) = target_status(c) {
            s.write_string(row, 10, st.label_vi())?;
        }
    }
    Ok(())
}

fn ranking(s: &mut Worksheet, r: &Results, f: &Fmt) -> Result<(), XlsxError> {
    s.write_string_with_format(0, 0, stamp(r), &f.italic)?;
    headers(
        s,
        2,
        &["Xếp hạng", "Tên", "Mã", "Tỷ lệ hài lòng (%)", "N"],
        f,
    )?;
    s.set_column_width(1, 36.0)?;
    s.set_column_width(0, 12.0)?;
    for (row, e) in (3u32..).zip(&r.ranking) {
        match e.rank {
            Some(rank) => s.write_number(row, 0, rank as f64)?,
            None => s.write_string(row, 0, NOT_ENOUGH_LABEL_VI)?,
        };
        s.write_string(row, 1, e.label.as_deref().unwrap_or(&e.key))?;
        s.write_string(row, 2, &e.key)?;
        if let Some(p) = e.pct_satisfied {
            s.write_number_with_format(row, 3, p, &f.dec)?;
        }
        s.write_number(row, 4, e.n as f64)?;
        // the same cell's rank on each criteria group row, to the right
        for (col, g) in (6u16..).zip(&r.group_rankings) {
            match g
                .entries
                .iter()
                .find(|x| x.key == e.key)
                .and_then(|x| x.rank)
            {
                Some(rank) => s.write_number(row, col, rank as f64)?,
                None => s.write_string(row, col, NOT_ENOUGH_LABEL_VI)?,
            };
        }
    }
    for (col, g) in (6u16..).zip(&r.group_rankings) {
        s.write_string_with_format(2, col, format!("Hạng: {}", g.label.vi), &f.bold)?;
        s.set_column_width(col, 18.0)?;
    }
    Ok(())
}

fn comparison(s: &mut Worksheet, r: &Results, f: &Fmt) -> Result<(), XlsxError> {
    s.write_string_with_format(0, 0, stamp(r), &f.italic)?;
    let Some(c) = &r.comparison else {
        s.write_string(2, 0, "Không có kỳ trước để so sánh.")?;
        return Ok(());
    };
    s.write_string(
        1,
        0,
        format!(
            "So với: {} ({}), phiếu {}",
            c.earlier.name, c.earlier.id, c.earlier.form
        ),
    )?;
    headers(
        s,
        2,
        &[
            "Tên",
            "Cấp",
            "Mã",
            "Nội dung",
            "Mã kỳ trước",
            "Kỳ trước (%)",
            "Kỳ này (%)",
            "Thay đổi (điểm %)",
            "Giảm",
            "Có ý nghĩa thống kê (z, 95%)",
            "Hạng kỳ trước",
            "Hạng kỳ này",
            "Thay đổi hạng",
        ],
        f,
    )?;
    s.set_column_width(3, 48.0)?;
    let name_of = |key: &str| {
        std::iter::once(&r.total)
            .chain(&r.cells)
            .find(|c| c.key == key)
            .map_or_else(|| key.to_owned(), |c| c.name.clone())
    };
    let label_of = |level: ReportLevel, code: &str| -> String {
        r.rows
            .iter()
            .find(|d: &&RowDef| {
                d.level == level && (level == ReportLevel::Overall || d.code == code)
            })
            .map_or_else(|| code.to_owned(), |d| d.label.clone())
    };
    let mut row = 3u32;
    for cell in &c.comparison.cells {
        for rc in &cell.rows {
            s.write_string(row, 0, name_of(&cell.key))?;
            s.write_string(row, 1, rc.level.label_vi())?;
            s.write_string(row, 2, &rc.code)?;
            s.write_string(row, 3, label_of(rc.level, &rc.code))?;
            if let Some(e) = &rc.earlier_code {
                s.write_string(row, 4, e)?;
            }
            if let Some(e) = &rc.earlier {
                write_opt(s, row, 5, pct(e), e.suppressed, f)?;
            }
            write_opt(s, row, 6, pct(&rc.later), rc.later.suppressed, f)?;
            if let Some(d) = rc.delta_pp {
                s.write_number_with_format(row, 7, d, &f.dec)?;
            }
            s.write_string(row, 8, if rc.dropped { "Giảm" } else { "" })?;
            if let Some(sig) = rc.significant {
                s.write_string(row, 9, if sig { "Có" } else { "Không" })?;
            }
            if let Some(v) = rc.earlier_rank {
                s.write_number(row, 10, v as f64)?;
            }
            if let Some(v) = rc.later_rank {
                s.write_number(row, 11, v as f64)?;
            }
            if let Some(v) = rc.rank_change {
                s.write_number(row, 12, v as f64)?;
            }
            row += 1;
        }
    }
    Ok(())
}

fn by_criterion(s: &mut Worksheet, r: &Results, f: &Fmt) -> Result<(), XlsxError> {
    s.write_string_with_format(0, 0, stamp(r), &f.italic)?;
    s.write_string(
        1,
        0,
        "Tỷ lệ hài lòng (%) theo tiêu chí (hàng) và đơn vị / cơ quan (cột)",
    )?;
    let cells: Vec<&CellView> = std::iter::once(&r.total).chain(&r.cells).collect();
    let mut names: Vec<&str> = vec!["Mã", "Nội dung"];
    names.extend(cells.iter().map(|c| c.name.as_str()));
    headers(s, 2, &names, f)?;
    s.set_column_width(0, 10.0)?;
    s.set_column_width(1, 48.0)?;
    for (row, d) in (3u32..).zip(&r.rows) {
        s.write_string(row, 0, &d.code)?;
        s.write_string(row, 1, &d.label)?;
        for (col, c) in (2u16..).zip(&cells) {
            let fig = c.figures.iter().find(|x| {
                x.level == d.level && (d.level == ReportLevel::Overall || x.code == d.code)
            });
            if let Some(x) = fig {
                write_opt(s, row, col, pct(x), x.suppressed, f)?;
            }
        }
    }
    Ok(())
}

fn by_field(s: &mut Worksheet, r: &Results, fields: &Results, f: &Fmt) -> Result<(), XlsxError> {
    s.write_string_with_format(0, 0, stamp(r), &f.italic)?;
    headers(
        s,
        2,
        &[
            "Lĩnh vực",
            "Mã",
            "Số phiếu",
            "N",
            "Tỷ lệ hài lòng (%)",
            "KTC 95% thấp",
            "KTC 95% cao",
            "Xếp hạng",
            "Chỉ tiêu",
            "Đánh giá chỉ tiêu",
        ],
        f,
    )?;
    for (row, c) in (3u32..).zip(&fields.cells) {
        s.write_string(row, 0, &c.name)?;
        s.write_string(row, 1, &c.key)?;
        s.write_number(row, 2, c.respondents as f64)?;
        if let Some(o) = overall(c) {
            s.write_number(row, 3, o.n as f64)?;
            write_opt(s, row, 4, pct(o), o.suppressed, f)?;
            write_opt(
                s,
                row,
                5,
                o.interval.map(|i| round_to(i.lower, 2)),
                o.suppressed,
                f,
            )?;
            write_opt(
                s,
                row,
                6,
                o.interval.map(|i| round_to(i.upper, 2)),
                o.suppressed,
                f,
            )?;
        }
        match c.rank {
            Some(rank) => s.write_number(row, 7, rank as f64)?,
            None => s.write_string(row, 7, NOT_ENOUGH_LABEL_VI)?,
        };
        // The field's own target when there is one, else the overall target.
        let t = c
            .targets
            .iter()
            .find(|t| matches!(t.target.scope, TargetScope::Field(_)))
            .or(c.targets.first());
        if let Some(t) = t {
            s.write_string(
                row,
                8,
                target_text(&t.target.scope, t.target.comparator, t.target.threshold_pct),
            )?;
            s.write_string(row, 9, t.status.label_vi())?;
        }
    }
    Ok(())
}

/// The method note lines `(label, text)`.
pub fn method_lines(r: &Results) -> Vec<(&'static str, String)> {
    let m = &r.method;
    let mut out = vec![
        ("Đợt khảo sát", format!("{} ({})", r.round.name, r.round.id)),
        (
            "Phiếu khảo sát (phiên bản)",
            format!("{} — {}", m.form_title, m.form),
        ),
        ("Cách tổng hợp", m.aggregation_vi.clone()),
        ("Cỡ mẫu tối thiểu (N)", m.min_n.to_string()),
        ("Dữ liệu đến", m.data_as_of_vi.clone()),
        (
            "Lập lúc",
            sipas_core::report::format_time_vi(m.generated_at),
        ),
        ("Khoảng tin cậy và kiểm định", m.interval_vi.clone()),
        ("Quy tắc ẩn số liệu", m.suppression_vi.clone()),
        ("Xếp hạng", m.ranking_vi.clone()),
        ("Chỉ tiêu", m.targets_vi.clone()),
    ];
    let targets: Vec<String> = r
        .targets
        .targets
        .iter()
        .map(|t| target_text(&t.scope, t.comparator, t.threshold_pct))
        .collect();
    out.push((
        if r.targets_stored {
            "Chỉ tiêu của đợt"
        } else {
            "Chỉ tiêu (mặc định theo kế hoạch)"
        },
        targets.join("; "),
    ));
    out.push((
        "So sánh với",
        r.comparison.as_ref().map_or_else(
            || "Không có kỳ trước".to_owned(),
            |c| {
                let map: Vec<String> = c
                    .mapping
                    .entries
                    .iter()
                    .map(|e| format!("{} → {}", e.old, e.new.join(" + ")))
                    .collect();
                format!(
                    "{} ({}); cùng mã là cùng tiêu chí{}",
                    c.earlier.name,
                    c.earlier.id,
                    if map.is_empty() {
                        String::new()
                    } else {
                        format!("; ánh xạ: {}", map.join(", "))
                    }
                )
            },
        ),
    ));
    out
}

fn method(s: &mut Worksheet, r: &Results, f: &Fmt) -> Result<(), XlsxError> {
    s.write_string_with_format(0, 0, "Ghi chú phương pháp", &f.bold)?;
    s.set_column_width(0, 34.0)?;
    s.set_column_width(1, 110.0)?;
    for (row, (k, v)) in (2u32..).zip(method_lines(r)) {
        s.write_string_with_format(row, 0, k, &f.bold)?;
        s.write_string(row, 1, v)?;
    }
    Ok(())
}

/// The results workbook: [`SHEETS`] in order; `fields` is the breakdown by field of the same
/// round and scope (sheet "theo lĩnh vực").
pub fn results_xlsx(r: &Results, fields: &Results) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let f = fmt();
    summary(wb.add_worksheet().set_name(SHEETS[0])?, r, &f)?;
    ranking(wb.add_worksheet().set_name(SHEETS[1])?, r, &f)?;
    comparison(wb.add_worksheet().set_name(SHEETS[2])?, r, &f)?;
    by_criterion(wb.add_worksheet().set_name(SHEETS[3])?, r, &f)?;
    by_field(wb.add_worksheet().set_name(SHEETS[4])?, r, fields, &f)?;
    method(wb.add_worksheet().set_name(SHEETS[5])?, r, &f)?;
    wb.save_to_buffer()
}

/// The results as CSV (UTF-8 with BOM, CRLF): the stamp line, the header, then one line per
/// (cell, row) with N, % satisfied, interval, mean, rank and the target status of the
/// overall row; then the method note lines.
pub fn results_csv(r: &Results) -> String {
    let mut out = String::from("\u{FEFF}");
    let mut record = |fields: Vec<String>| {
        let q: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&q.join(","));
        out.push_str("\r\n");
    };
    record(vec![stamp(r)]);
    record(
        [
            "Mã",
            "Tên",
            "Cấp",
            "Mã tiêu chí",
            "Nội dung",
            "N",
            "Tỷ lệ hài lòng (%)",
            "KTC 95% thấp",
            "KTC 95% cao",
            "Điểm trung bình",
            "Ẩn do cỡ mẫu nhỏ",
            "Xếp hạng",
            "Đánh giá chỉ tiêu",
        ]
        .map(String::from)
        .to_vec(),
    );
    let num = |v: Option<f64>| {
        v.map(|x| format!("{:.2}", round_to(x, PUBLISHED_DECIMALS)))
            .unwrap_or_default()
    };
    for c in std::iter::once(&r.total).chain(&r.cells) {
        for fg in &c.figures {
            let is_overall = fg.level == ReportLevel::Overall;
            let label = r
                .rows
                .iter()
                .find(|d| d.level == fg.level && (is_overall || d.code == fg.code))
                .map_or_else(|| fg.code.clone(), |d| d.label.clone());
            record(vec![
                c.key.clone(),
                c.name.clone(),
                fg.level.label_vi().to_owned(),
                if is_overall {
                    String::new()
                } else {
                    fg.code.clone()
                },
                label,
                fg.n.to_string(),
                num(pct(fg)),
                num(fg.interval.map(|i| i.lower)),
                num(fg.interval.map(|i| i.upper)),
                num(fg.mean),
                if fg.suppressed { "Có" } else { "Không" }.to_owned(),
                match (is_overall, c.rank, c.key == sipas_core::index::ALL_UNITS) {
                    (true, Some(rank), false) => rank.to_string(),
                    (true, None, false) => NOT_ENOUGH_LABEL_VI.to_owned(),
                    _ => String::new(),
                },
                if is_overall {
                    target_status(c).map_or(String::new(), |s| s.label_vi().to_owned())
                } else {
                    String::new()
                },
            ]);
        }
    }
    for (k, v) in method_lines(r) {
        record(vec![format!("# {k}"), v]);
    }
    out
}

/// The microdata workbook: sheet `du_lieu` (one row per counted response, column names in
/// the first row, numbers as numbers) and sheet `codebook` (column, item code, question,
/// value labels, missing values). [`MicrodataXlsx`] over the rows of `data`.
pub fn microdata_xlsx(data: &Microdata, note: &str) -> Result<Vec<u8>, XlsxError> {
    let mut book = MicrodataXlsx::new(&data.codebook)?;
    for row in &data.rows {
        book.push(row)?;
    }
    let mut out = std::io::Cursor::new(Vec::new());
    book.save(&data.codebook, note, &mut out)?;
    Ok(out.into_inner())
}

/// The [`microdata_xlsx`] workbook written row by row (issue 14): the data sheet is a
/// constant-memory worksheet (rows go to a temporary file as they come, text is stored
/// inline), so memory does not grow with the rows.
pub struct MicrodataXlsx {
    wb: Workbook,
    kinds: Vec<sipas_core::microdata::ColumnKind>,
    next_row: u32,
}

impl MicrodataXlsx {
    /// A workbook whose data sheet has the columns of `codebook` (names in the first row).
    pub fn new(codebook: &[CodebookEntry]) -> Result<Self, XlsxError> {
        let mut wb = Workbook::new();
        let f = fmt();
        let s = wb
            .add_worksheet_with_constant_memory()
            .set_name(MICRODATA_SHEETS[0])?;
        s.set_freeze_panes(1, 0)?;
        for (col, c) in (0u16..).zip(codebook) {
            s.write_string_with_format(0, col, &c.column, &f.bold)?;
        }
        Ok(MicrodataXlsx {
            wb,
            kinds: codebook.iter().map(|c| c.kind).collect(),
            next_row: 1,
        })
    }

    /// Writes the next row (cells in column order).
    pub fn push(&mut self, cells: &[Option<String>]) -> Result<(), XlsxError> {
        let row = self.next_row;
        let s = self.wb.worksheet_from_index(0)?;
        for (col, (v, kind)) in (0u16..).zip(cells.iter().zip(&self.kinds)) {
            let Some(v) = v else { continue };
            match (kind, v.parse::<f64>()) {
                (sipas_core::microdata::ColumnKind::Numeric, Ok(n)) => {
                    s.write_number(row, col, n)?;
                }
                _ => {
                    s.write_string(row, col, v)?;
                }
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// Adds the codebook sheet (with `note` on top) and saves the workbook to `out`.
    pub fn save<W>(
        mut self,
        codebook: &[CodebookEntry],
        note: &str,
        out: W,
    ) -> Result<(), XlsxError>
    where
        W: std::io::Write + std::io::Seek + Send,
    {
        let f = fmt();
        let s = self.wb.add_worksheet().set_name(MICRODATA_SHEETS[1])?;
        s.write_string_with_format(0, 0, note, &f.italic)?;
        for (col, h) in (0u16..).zip([
            "Cột",
            "Mã câu hỏi",
            "Câu hỏi",
            "Kiểu",
            "Nhãn giá trị",
            "Giá trị thiếu",
        ]) {
            s.write_string_with_format(1, col, h, &f.bold)?;
        }
        s.set_column_width(2, 60.0)?;
        s.set_column_width(4, 60.0)?;
        for (row, e) in (2u32..).zip(codebook) {
            s.write_string(row, 0, &e.column)?;
            if let Some(c) = &e.item_code {
                s.write_string(row, 1, c)?;
            }
            s.write_string(row, 2, &e.question_vi)?;
            s.write_string(
                row,
                3,
                match e.kind {
                    sipas_core::microdata::ColumnKind::Numeric => "số",
                    sipas_core::microdata::ColumnKind::String => "chuỗi",
                },
            )?;
            let labels: Vec<String> = e
                .value_labels
                .iter()
                .map(|v| format!("{} = {}", v.value, v.label_vi))
                .collect();
            s.write_string(row, 4, labels.join("; "))?;
            s.write_string(row, 5, e.missing_values.join(", "))?;
        }
        self.wb.save_to_writer(out)
    }
}
