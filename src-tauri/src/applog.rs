//! The app's own log: one line per event (start, unlock, lock, sync outcome with counts),
//! appended to the file named by `$SIPAS_LOG_FILE` when it is set, else nowhere.
//!
//! Callers pass only what is safe to keep in a file that support staff may read: event
//! names, counts, error *kinds*, never the PIN, a token, an enrolment code, a respondent's
//! name, address or phone, or an answer (the tests' `scripts/check-logs.sh` greps for them).
use chrono::Utc;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// Environment variable naming the log file.
pub const LOG_ENV: &str = "SIPAS_LOG_FILE";

static FILE: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();

fn open() -> Option<Mutex<std::fs::File>> {
    let path = PathBuf::from(std::env::var_os(LOG_ENV).filter(|p| !p.is_empty())?);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).ok()?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()
        .map(Mutex::new)
}

/// Formats one log line (UTC time to the second, level, message).
fn line(level: &str, msg: &str) -> String {
    let msg = msg.replace(['\n', '\r'], " ");
    format!(
        "{} {level} sipas-field: {msg}\n",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    )
}

fn write(level: &str, msg: &str) {
    let Some(file) = FILE.get_or_init(open) else {
        return;
    };
    let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
    // A log that cannot be written must never stop the app.
    let _ = f.write_all(line(level, msg).as_bytes());
}

/// Logs an event.
pub fn info(msg: impl AsRef<str>) {
    write("INFO", msg.as_ref());
}

/// Logs a failure (its kind, not its personal details).
pub fn warn(msg: impl AsRef<str>) {
    write("WARN", msg.as_ref());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_single_lines_with_time_and_level() {
        let l = line("INFO", "sync ok\nsecond line");
        assert!(
            l.ends_with(" INFO sipas-field: sync ok second line\n"),
            "{l}"
        );
        assert_eq!(l.matches('\n').count(), 1);
        assert!(l.starts_with("20") && l.as_bytes()[19] == b'Z', "{l}");
    }
}
