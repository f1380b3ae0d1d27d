//! Running a server (issue 14): the configuration file, `sipas-server backup` and
//! `sipas-server restore`.
//!
//! * [`Config`]: `--config /etc/sipas-server/config.toml`, read before the flags; a flag (or
//!   its environment variable) overrides the same key of the file. Relative paths in the file
//!   are taken relative to the file's directory. Unknown keys are refused (a misspelt key
//!   must not be silently ignored).
//! * [`backup_sqlite`]: a consistent copy of a SQLite server database while the server runs.
//!   `VACUUM INTO` reads one snapshot (one read transaction: WAL readers never block the
//!   server's writer, and the writer never changes what the snapshot sees), writes it to a
//!   temporary file next to the target, which is checked (`integrity_check`,
//!   `foreign_key_check`), flushed and only then renamed to the name asked for. A crash or
//!   a full disk leaves no half-written file under that name.
//! * [`restore_sqlite`]: the reverse, into an empty database only (a missing file, an empty
//!   file, or a SQLite file without any table); anything else is refused and left unchanged.
//! * PostgreSQL is backed up with `pg_dump` and restored with `pg_restore` (README, "Running a
//!   server"); both tools answer a PostgreSQL URL with [`OpsError::Postgres`] saying so.
//!
//! The messages are for the person running the server: Vietnamese first, then English.

use rusqlite::{Connection, OpenFlags};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long the backup waits for a lock it needs (only WAL recovery or a checkpoint in
/// `TRUNCATE`/`RESTART` mode can make a reader wait; the server uses neither).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Default SQLite file when neither `--database` nor the configuration file names one.
pub const DEFAULT_DATABASE: &str = "sipas-server.db";
/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// The configuration file (TOML). Every key is optional; see README, "Running a server".
///
/// ```toml
/// database = "/var/lib/sipas-server/sipas-server.db"   # or "postgres://user:pass@host/db"
/// listen = "0.0.0.0:8443"
/// tls_cert = "/etc/sipas-server/tls/cert.pem"
/// tls_key = "/etc/sipas-server/tls/key.pem"
/// min_n_floor = 10
/// recovery_public_key = "/etc/sipas-server/recovery.pub"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// SQLite file path or `postgres://` URL (`--database`).
    pub database: Option<String>,
    /// Address to listen on (`--listen`).
    pub listen: Option<SocketAddr>,
    /// PEM certificate chain for HTTPS (`--tls-cert`); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (`--tls-key`).
    pub tls_key: Option<PathBuf>,
    /// Smallest `min_n` of any report (`--min-n-floor`).
    pub min_n_floor: Option<usize>,
    /// The PIN-recovery public key file (`--recovery-public-key`).
    pub recovery_public_key: Option<PathBuf>,
}

impl Config {
    /// Reads and checks a configuration file; relative paths become relative to its folder.
    pub fn load(path: &Path) -> Result<Config, OpsError> {
        let text = std::fs::read_to_string(path).map_err(|source| OpsError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|message| OpsError::ConfigParse {
            path: path.to_path_buf(),
            message,
        })?;
        let base = path.parent().unwrap_or(Path::new(""));
        for p in [
            &mut config.tls_cert,
            &mut config.tls_key,
            &mut config.recovery_public_key,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(db) = &mut config.database
            && !is_postgres(db)
            && Path::new(db.as_str()).is_relative()
        {
            *db = base.join(db.as_str()).to_string_lossy().into_owned();
        }
        Ok(config)
    }

    /// Parses the TOML text (no path resolution).
    pub fn parse(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())
    }
}

/// Whether a `--database` value names PostgreSQL.
pub fn is_postgres(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// Errors of the configuration file, backup and restore.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The configuration file cannot be read.
    #[error(
        "Không đọc được tệp cấu hình {path}: {source} / Cannot read the configuration file {path}: {source}",
        path = .path.display()
    )]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid (TOML syntax, unknown key, wrong type).
    #[error(
        "Tệp cấu hình {path} không hợp lệ / The configuration file {path} is not valid: {message}",
        path = .path.display()
    )]
    ConfigParse {
        /// The file.
        path: PathBuf,
        /// The parser's message (line, column, key).
        message: String,
    },
    /// Backup or restore was asked of a PostgreSQL database.
    #[error(
        "Cơ sở dữ liệu PostgreSQL được sao lưu bằng pg_dump và khôi phục bằng pg_restore (README, \"Running a server\"). / \
         A PostgreSQL database is backed up with `pg_dump --format=custom` and restored with `pg_restore` \
         (README, \"Running a server\"); `sipas-server {tool}` handles SQLite files only."
    )]
    Postgres {
        /// `backup` or `restore`.
        tool: &'static str,
    },
    /// The database to back up (or the backup to restore) does not exist.
    #[error("Không có tệp {path} / There is no file {path}", path = .path.display())]
    Missing {
        /// The path asked for.
        path: PathBuf,
    },
    /// The backup file already exists: a backup never overwrites one.
    #[error(
        "Tệp {path} đã có; hãy chọn tên mới (ví dụ có ngày giờ). / {path} already exists; a backup never \
         overwrites a file: choose a new name (e.g. with the date and time).",
        path = .path.display()
    )]
    OutExists {
        /// The file.
        path: PathBuf,
    },
    /// The folder of the backup (or of the restored database) cannot be written.
    #[error(
        "Không ghi được vào {path}: {source} / Cannot write {path}: {source}",
        path = .path.display()
    )]
    NotWritable {
        /// The file that could not be created.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not a SIPAS server database (no `schema_migrations` table, or not SQLite).
    #[error(
        "{path} không phải cơ sở dữ liệu của sipas-server / {path} is not a sipas-server database{detail}",
        path = .path.display()
    )]
    NotServerDatabase {
        /// The file.
        path: PathBuf,
        /// More detail (SQLite's message), with a leading separator, or empty.
        detail: String,
    },
    /// `integrity_check` or `foreign_key_check` found a problem.
    #[error(
        "Tệp {path} bị hỏng / {path} is damaged: {report}",
        path = .path.display()
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// The first lines SQLite reported.
        report: String,
    },
    /// The restore target is not empty.
    #[error(
        "Không khôi phục: cơ sở dữ liệu {path} không trống ({what}). Hãy dừng máy chủ, đổi tên tệp cũ (cả tệp -wal, -shm) \
         rồi khôi phục vào tên đó. / Refusing to restore: the database {path} is not empty ({what}); nothing was changed. \
         Stop the server, move the old file (and its -wal, -shm files) away, then restore into that name.",
        path = .path.display()
    )]
    TargetNotEmpty {
        /// The target.
        path: PathBuf,
        /// What was found, e.g. "42 tables" or "not a SQLite file".
        what: String,
    },
    /// Another SQLite error, with what was being done.
    #[error("{context}: {source}")]
    Sqlite {
        /// What was being done.
        context: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// Another file-system error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Why.
        source: std::io::Error,
    },
}

fn sqlite(context: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> OpsError {
    let context = context.into();
    move |source| OpsError::Sqlite { context, source }
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> OpsError {
    let context = context.into();
    move |source| OpsError::Io { context, source }
}

/// What a checked database file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseFacts {
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Highest applied migration (`schema_migrations`).
    pub schema_version: i64,
    /// Rows of `responses` (every revision).
    pub responses: i64,
}

/// Checks a SIPAS server database file: SQLite `integrity_check` and `foreign_key_check`
/// clean, `schema_migrations` present. Opens it read-only; the file must not be in WAL mode
/// without its `-shm` file (backups made here are not).
pub fn check_database(path: &Path) -> Result<DatabaseFacts, OpsError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite(format!("opening {}", path.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(sqlite("setting the busy timeout"))?;
    let not_server = |e: Option<rusqlite::Error>| OpsError::NotServerDatabase {
        path: path.to_path_buf(),
        detail: e.map(|e| format!(": {e}")).unwrap_or_default(),
    };
    let has_migrations: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| not_server(Some(e)))?;
    if has_migrations == 0 {
        return Err(not_server(None));
    }
    let mut problems: Vec<String> = Vec::new();
    {
        let mut stmt = conn
            .prepare("PRAGMA integrity_check")
            .map_err(sqlite("integrity_check"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sqlite("integrity_check"))?;
        for row in rows {
            let line = row.map_err(sqlite("integrity_check"))?;
            if line != "ok" {
                problems.push(line);
            }
        }
    }
    let dangling: i64 = conn
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(sqlite("foreign_key_check"))?;
    if dangling > 0 {
        problems.push(format!("{dangling} rows break a foreign key"));
    }
    if !problems.is_empty() {
        problems.truncate(5);
        return Err(OpsError::Damaged {
            path: path.to_path_buf(),
            report: problems.join("; "),
        });
    }
    let schema_version: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite("reading schema_migrations"))?;
    let has_responses: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'responses'",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite("reading sqlite_master"))?;
    let responses = if has_responses > 0 {
        conn.query_row("SELECT COUNT(*) FROM responses", [], |r| r.get(0))
            .map_err(sqlite("counting responses"))?
    } else {
        0
    };
    drop(conn);
    let bytes = std::fs::metadata(path)
        .map_err(io(format!("reading the size of {}", path.display())))?
        .len();
    Ok(DatabaseFacts {
        bytes,
        schema_version,
        responses,
    })
}

/// A temporary file next to `target` that is removed on drop unless kept.
struct Partial {
    path: PathBuf,
    keep: bool,
}

impl Partial {
    /// Creates `.<name>.partial-<pid>` in the folder of `target` (an empty file, which `VACUUM
    /// INTO` accepts). Fails when the folder cannot be written.
    fn create(target: &Path) -> Result<Partial, OpsError> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sipas-server.db".into());
        let path = folder_of(target).join(format!(".{name}.partial-{}", std::process::id()));
        // A leftover of a crashed earlier run with the same pid: it is ours to replace.
        let _ = std::fs::remove_file(&path);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| OpsError::NotWritable {
                path: target.to_path_buf(),
                source,
            })?;
        Ok(Partial { path, keep: false })
    }

    /// Flushes the file, renames it to `target` and flushes the folder.
    fn commit(mut self, target: &Path) -> Result<(), OpsError> {
        std::fs::File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(io(format!("flushing {}", self.path.display())))?;
        std::fs::rename(&self.path, target).map_err(io(format!(
            "renaming {} to {}",
            self.path.display(),
            target.display()
        )))?;
        self.keep = true;
        // The rename itself is durable once the folder is flushed (not possible everywhere).
        if let Ok(dir) = std::fs::File::open(folder_of(target)) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
            let _ = std::fs::remove_file(sidecar(&self.path, "-journal"));
        }
    }
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn utf8(path: &Path) -> Result<&str, OpsError> {
    path.to_str().ok_or_else(|| OpsError::NotWritable {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path is not valid UTF-8",
        ),
    })
}

/// `VACUUM INTO` from an open connection into `partial`, then the copy is switched to a
/// rollback journal (one self-contained file) and checked.
fn vacuum_into(conn: &Connection, partial: &Partial) -> Result<DatabaseFacts, OpsError> {
    conn.execute("VACUUM INTO ?1", [utf8(&partial.path)?])
        .map_err(sqlite(format!("copying into {}", partial.path.display())))?;
    {
        let copy = Connection::open_with_flags(
            &partial.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite(format!("opening {}", partial.path.display())))?;
        let _: String = copy
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .map_err(sqlite("setting the copy's journal mode"))?;
    }
    check_database(&partial.path)
}

/// Copies the SQLite server database `database` to `out` (a new file) while a server may be
/// writing to it. See the module documentation for how the copy stays consistent.
pub fn backup_sqlite(database: &Path, out: &Path) -> Result<DatabaseFacts, OpsError> {
    if !database.is_file() {
        return Err(OpsError::Missing {
            path: database.to_path_buf(),
        });
    }
    if out.exists() {
        return Err(OpsError::OutExists {
            path: out.to_path_buf(),
        });
    }
    let partial = Partial::create(out)?;
    // Read-write without CREATE: a WAL database needs its -shm file, which a reader may have
    // to create when the server is not running. Nothing is written to the database.
    let conn = Connection::open_with_flags(
        database,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite(format!("opening {}", database.display())))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(sqlite("setting the busy timeout"))?;
    let is_server: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| OpsError::NotServerDatabase {
            path: database.to_path_buf(),
            detail: format!(": {e}"),
        })?;
    if is_server == 0 {
        return Err(OpsError::NotServerDatabase {
            path: database.to_path_buf(),
            detail: String::new(),
        });
    }
    let facts = vacuum_into(&conn, &partial)?;
    drop(conn);
    if out.exists() {
        return Err(OpsError::OutExists {
            path: out.to_path_buf(),
        });
    }
    partial.commit(out)?;
    Ok(facts)
}

/// What is in the restore target now.
fn target_contents(target: &Path) -> Result<Option<String>, OpsError> {
    let wal = sidecar(target, "-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Ok(Some(format!(
            "{} exists: a server may be using it",
            wal.display()
        )));
    }
    let meta = match std::fs::metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(format!("reading {}", target.display()))(e)),
    };
    if !meta.is_file() {
        return Ok(Some("not a file".into()));
    }
    if meta.len() == 0 {
        return Ok(None);
    }
    let objects = Connection::open_with_flags(
        target,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .and_then(|c| {
        c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
    });
    Ok(match objects {
        Ok(0) => None,
        Ok(n) => Some(format!("{n} tables, indexes or views")),
        Err(e) => Some(format!("not an empty SQLite file: {e}")),
    })
}

/// Restores the backup `from` (made by [`backup_sqlite`]) into the empty SQLite database
/// `target`. A non-empty target is refused and left as it was.
pub fn restore_sqlite(from: &Path, target: &Path) -> Result<DatabaseFacts, OpsError> {
    if !from.is_file() {
        return Err(OpsError::Missing {
            path: from.to_path_buf(),
        });
    }
    if let Some(what) = target_contents(target)? {
        return Err(OpsError::TargetNotEmpty {
            path: target.to_path_buf(),
            what,
        });
    }
    let source = check_database(from)?;
    let partial = Partial::create(target)?;
    let conn = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite(format!("opening {}", from.display())))?;
    let facts = vacuum_into(&conn, &partial)?;
    drop(conn);
    if facts.responses != source.responses || facts.schema_version != source.schema_version {
        return Err(OpsError::Damaged {
            path: partial.path.clone(),
            report: format!(
                "the copy holds {} responses (schema {}), the backup {} (schema {})",
                facts.responses, facts.schema_version, source.responses, source.schema_version
            ),
        });
    }
    // Checked again just before the rename: a server started meanwhile is not overwritten.
    if let Some(what) = target_contents(target)? {
        return Err(OpsError::TargetNotEmpty {
            path: target.to_path_buf(),
            what,
        });
    }
    partial.commit(target)?;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "database = \"data/server.db\"\nlisten = \"0.0.0.0:8443\"\ntls_cert = \"tls/cert.pem\"\n\
             tls_key = \"/abs/key.pem\"\nmin_n_floor = 20\nrecovery_public_key = \"recovery.pub\"\n",
        )
        .unwrap();
        let c = Config::load(&file).unwrap();
        assert_eq!(
            c.database.as_deref(),
            Some(dir.path().join("data/server.db").to_str().unwrap())
        );
        assert_eq!(c.listen, Some("0.0.0.0:8443".parse().unwrap()));
        assert_eq!(c.tls_cert, Some(dir.path().join("tls/cert.pem")));
        assert_eq!(c.tls_key, Some(PathBuf::from("/abs/key.pem")));
        assert_eq!(c.min_n_floor, Some(20));
        assert_eq!(c.recovery_public_key, Some(dir.path().join("recovery.pub")));
        // A PostgreSQL URL is kept as written.
        std::fs::write(&file, "database = \"postgres://u:p@h/db\"\n").unwrap();
        assert_eq!(
            Config::load(&file).unwrap().database.as_deref(),
            Some("postgres://u:p@h/db")
        );
        // Empty file: every key falls back to its flag / default.
        std::fs::write(&file, "").unwrap();
        assert_eq!(Config::load(&file).unwrap(), Config::default());
    }

    #[test]
    fn config_refuses_unknown_keys_bad_values_and_missing_files() {
        let e = Config::parse("databse = \"x.db\"").unwrap_err();
        assert!(e.contains("databse"), "{e}");
        let e = Config::parse("listen = \"not an address\"").unwrap_err();
        assert!(e.contains("listen") || e.contains("address"), "{e}");
        let e = Config::parse("min_n_floor = -3").unwrap_err();
        assert!(e.contains("min_n_floor"), "{e}");
        let e = Config::parse("database = ").unwrap_err();
        assert!(!e.is_empty());
        let missing = Path::new("/nonexistent/sipas/config.toml");
        let e = Config::load(missing).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/sipas/config.toml"), "{e}");
        assert!(e.contains("Không đọc được"), "{e}");
    }

    fn server_db(path: &Path, rows: usize) {
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT);
             INSERT INTO schema_migrations VALUES (1, 'init', 'now');
             CREATE TABLE responses (id TEXT PRIMARY KEY, body TEXT);",
        )
        .unwrap();
        for i in 0..rows {
            conn.execute(
                "INSERT INTO responses VALUES (?1, ?2)",
                rusqlite::params![format!("r{i}"), "x".repeat(100)],
            )
            .unwrap();
        }
    }

    #[test]
    fn backup_then_restore_round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        server_db(&db, 50);
        let out = dir.path().join("backup.db");
        let facts = backup_sqlite(&db, &out).unwrap();
        assert_eq!(facts.responses, 50);
        assert_eq!(facts.schema_version, 1);
        // No leftovers next to the backup.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("partial"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        // Never overwrites.
        let e = backup_sqlite(&db, &out).unwrap_err();
        assert!(matches!(e, OpsError::OutExists { .. }), "{e}");

        // Into a missing file, and into an empty file.
        let restored = dir.path().join("restored.db");
        assert_eq!(restore_sqlite(&out, &restored).unwrap().responses, 50);
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        assert_eq!(restore_sqlite(&out, &empty).unwrap().responses, 50);
        // A non-empty target is refused and unchanged.
        let before = std::fs::read(&db).unwrap();
        let e = restore_sqlite(&out, &db).unwrap_err();
        assert!(matches!(e, OpsError::TargetNotEmpty { .. }), "{e}");
        assert!(e.to_string().contains("không trống"), "{e}");
        assert_eq!(std::fs::read(&db).unwrap(), before);
        // A file that is not SQLite is refused as a target, and as a backup.
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "hello").unwrap();
        let e = restore_sqlite(&out, &text).unwrap_err();
        assert!(matches!(e, OpsError::TargetNotEmpty { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&text).unwrap(), "hello");
        let e = restore_sqlite(&text, &dir.path().join("new.db")).unwrap_err();
        assert!(matches!(e, OpsError::NotServerDatabase { .. }), "{e}");
        assert!(!dir.path().join("new.db").exists());
        // A SQLite file of something else is not a server database.
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let e = backup_sqlite(&other, &dir.path().join("other-backup.db")).unwrap_err();
        assert!(matches!(e, OpsError::NotServerDatabase { .. }), "{e}");
        // Missing sources.
        let e = backup_sqlite(&dir.path().join("nope.db"), &dir.path().join("b.db")).unwrap_err();
        assert!(matches!(e, OpsError::Missing { .. }), "{e}");
        assert!(
            !dir.path().join("nope.db").exists(),
            "backup created its source"
        );
    }

    #[test]
    fn backup_into_an_unwritable_place_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("server.db");
        server_db(&db, 3);
        // A regular file used as a folder: fails even for root.
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let e = backup_sqlite(&db, &file.join("backup.db")).unwrap_err();
        assert!(matches!(e, OpsError::NotWritable { .. }), "{e}");
        assert!(e.to_string().contains("Cannot write"), "{e}");
    }
}
