//! `sipas-form`: convert questionnaires between XLSX (authoring) and JSON (the app's format),
//! and check them.
//!
//! ```text
//! sipas-form to-json in.xlsx out.json   XLSX → JSON (checked by the loader)
//! sipas-form to-xlsx in.json out.xlsx   JSON → XLSX
//! sipas-form check in.xlsx|in.json      list every problem, in Vietnamese
//! ```
//! Exit codes: 0 success, 1 the form has problems (listed on stderr), 2 usage or file error.
#![forbid(unsafe_code)]

use sipas_core::form_loader::load_form;
use sipas_core::questionnaire::Questionnaire;
use sipas_xlsform::{read_xlsform, translate_issue, try_write_xlsform};
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "Cách dùng / usage:
  sipas-form to-json <vào.xlsx> <ra.json>   chuyển XLSX sang JSON (có kiểm tra)
  sipas-form to-xlsx <vào.json> <ra.xlsx>   chuyển JSON sang XLSX
  sipas-form check <tệp.xlsx|tệp.json>      kiểm tra biểu mẫu, liệt kê mọi lỗi";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["to-json", input, output] => to_json(input, output),
        ["to-xlsx", input, output] => to_xlsx(input, output),
        ["check", input] => check(input),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Form(lines)) => {
            for line in &lines {
                eprintln!("{line}");
            }
            eprintln!(
                "Biểu mẫu có {} lỗi / the form has {} problem(s).",
                lines.len(),
                lines.len()
            );
            ExitCode::from(1)
        }
        Err(Failure::Io(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    /// The form has problems (one line each).
    Form(Vec<String>),
    /// A file could not be read or written.
    Io(String),
}

fn read(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| {
        Failure::Io(format!(
            "Không đọc được tệp {path} / cannot read {path}: {e}"
        ))
    })
}

fn write(path: &str, bytes: &[u8]) -> Result<(), Failure> {
    std::fs::write(path, bytes).map_err(|e| {
        Failure::Io(format!(
            "Không ghi được tệp {path} / cannot write {path}: {e}"
        ))
    })
}

fn is_xlsx(path: &str) -> bool {
    Path::new(path)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// Loads a form from an XLSX or JSON file.
fn load(path: &str) -> Result<Questionnaire, Failure> {
    let bytes = read(path)?;
    if is_xlsx(path) {
        return read_xlsform(&bytes)
            .map_err(|issues| Failure::Form(issues.into_iter().map(|i| i.message_vi).collect()));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Failure::Io(format!(
            "Tệp {path} không phải văn bản UTF-8 / {path} is not UTF-8 text"
        ))
    })?;
    load_form(&text).map_err(|e| {
        Failure::Form(
            e.issues()
                .iter()
                .map(|i| translate_issue(i, &text))
                .collect(),
        )
    })
}

fn to_json(input: &str, output: &str) -> Result<(), Failure> {
    let form = load(input)?;
    let mut json =
        serde_json::to_string_pretty(&form).map_err(|e| Failure::Io(format!("JSON: {e}")))?;
    json.push('\n');
    write(output, json.as_bytes())?;
    println!(
        "Đã ghi / wrote {output} ({} {}).",
        form.form_id, form.version
    );
    Ok(())
}

fn to_xlsx(input: &str, output: &str) -> Result<(), Failure> {
    let form = load(input)?;
    let bytes = try_write_xlsform(&form).map_err(|e| Failure::Io(e.to_string()))?;
    write(output, &bytes)?;
    println!(
        "Đã ghi / wrote {output} ({} {}).",
        form.form_id, form.version
    );
    Ok(())
}

fn check(input: &str) -> Result<(), Failure> {
    let form = load(input)?;
    println!(
        "Biểu mẫu hợp lệ / the form is valid: {} {} — {} nhóm, {} câu hỏi.",
        form.form_id,
        form.version,
        form.groups.len(),
        form.items().count()
    );
    Ok(())
}
