//! The SIPAS index as a CSV file for Excel: Vietnamese headers, UTF-8 with a byte-order mark
//! (so Excel detects the encoding), one row per (round, unit, level, code). Round totals
//! (all units) come first, then each unit.
use sipas_core::index::{ALL_UNITS, AggregateScore, IndexCell, IndexReport, Score, round2};
use sipas_core::questionnaire::Questionnaire;

/// UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Column headers.
pub const HEADERS: [&str; 10] = [
    "Đợt khảo sát",
    "Mã đơn vị",
    "Cấp",
    "Mã",
    "Nội dung",
    "Số người trả lời",
    "Số câu trả lời hợp lệ",
    "Số hài lòng",
    "Tỷ lệ hài lòng (%)",
    "Điểm trung bình",
];

fn number(x: Option<f64>) -> String {
    x.map(|v| format!("{:.2}", round2(v))).unwrap_or_default()
}

struct Line<'a> {
    level: &'a str,
    code: &'a str,
    label: &'a str,
    valid_n: usize,
    satisfied_n: usize,
    pct: Option<f64>,
    mean: Option<f64>,
}

fn aggregate<'a>(level: &'a str, code: &'a str, label: &'a str, s: &AggregateScore) -> Line<'a> {
    Line {
        level,
        code,
        label,
        valid_n: s.valid_n,
        satisfied_n: s.satisfied_n,
        pct: s.pct_satisfied,
        mean: s.mean,
    }
}

fn criterion<'a>(s: &'a Score, label: &'a str) -> Line<'a> {
    Line {
        level: "Tiêu chí",
        code: &s.code,
        label,
        valid_n: s.valid_n,
        satisfied_n: s.satisfied_n,
        pct: s.pct_satisfied,
        mean: s.mean,
    }
}

/// Writes the report as CSV (with BOM).
pub fn report_csv(report: &IndexReport, form: &Questionnaire) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(BOM.to_vec());
    writer.write_record(HEADERS)?;
    for cell in report.round_totals.iter().chain(report.cells.iter()) {
        write_cell(&mut writer, cell, form)?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

fn write_cell(
    writer: &mut csv::Writer<Vec<u8>>,
    cell: &IndexCell,
    form: &Questionnaire,
) -> Result<(), csv::Error> {
    let unit = if cell.unit_code == ALL_UNITS {
        "Tất cả đơn vị"
    } else {
        cell.unit_code.as_str()
    };
    let respondents = cell.respondents.to_string();
    let mut lines = vec![aggregate(
        "Chỉ số chung",
        "SIPAS",
        "Chỉ số hài lòng chung",
        &cell.overall,
    )];
    for g in &cell.groups {
        let label = form.group(&g.code).map_or("", |gr| gr.title.vi.as_str());
        lines.push(aggregate("Yếu tố", &g.code, label, &g.score));
        for c in cell.criteria.iter().filter(|c| c.group == g.code) {
            let label = form.item(&c.code).map_or("", |i| i.label.vi.as_str());
            lines.push(criterion(c, label));
        }
    }
    for l in lines {
        writer.write_record([
            cell.round_id.as_str(),
            unit,
            l.level,
            l.code,
            l.label,
            respondents.as_str(),
            l.valid_n.to_string().as_str(),
            l.satisfied_n.to_string().as_str(),
            number(l.pct).as_str(),
            number(l.mean).as_str(),
        ])?;
    }
    Ok(())
}
