//! Encryption at rest of the device database (SQLCipher).
//!
//! A surveyor's laptop holds citizens' names, addresses, phone numbers and answers (personal
//! data under Decree 13/2023/NĐ-CP) and can be lost, so the app opens its store with
//! [`Store::open_encrypted`](crate::Store::open_encrypted):
//!
//! * **Key.** 32 raw bytes derived from the surveyor's PIN or passphrase with **Argon2id**,
//!   parameters [`KDF_MEMORY_KIB`] = 19 456 KiB (19 MiB), [`KDF_ITERATIONS`] = 2,
//!   [`KDF_LANES`] = 1 (the OWASP minimum for Argon2id; roughly 30–60 ms on a laptop, which
//!   makes each guess of a stolen file cost the same), over the passphrase in Unicode NFC (so
//!   Vietnamese typed precomposed or decomposed gives the same key) and a 16-byte random salt.
//!   The key is handed to SQLCipher as a raw key (`PRAGMA key = "x'…'"`, so SQLCipher runs
//!   no second slow derivation), never stored, and zeroized after use.
//! * **Salt.** Not secret; kept in the sidecar file `<db>.salt` (16 bytes), written and
//!   fsynced *before* the database is created. Without it the key cannot be derived again: a
//!   missing salt for an existing database is [`StoreError::SaltMissing`]; back it up with
//!   the database.
//! * **Cipher.** SQLCipher 4 defaults: AES-256-CBC per page with an HMAC-SHA512 per page, so
//!   the database file and its write-ahead log hold only ciphertext, and a wrong key is
//!   detected on the first read ([`StoreError::WrongPassphrase`]) without writing anything.
//! * **Changing the passphrase** ([`Store::change_passphrase`](crate::Store::change_passphrase))
//!   re-encrypts every page under a key from a new salt. The new salt goes to
//!   `<db>.salt.new` first and replaces `<db>.salt` only after the re-encryption committed; an
//!   open after a crash in between tries both.
use crate::error::{Result, StoreError};
use argon2::{Algorithm, Argon2, Params, Version};
use rusqlite::Connection;
use sipas_core::text::nfc;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::{Zeroize, Zeroizing};

/// Argon2id memory cost in KiB (19 MiB).
pub const KDF_MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes over memory.
pub const KDF_ITERATIONS: u32 = 2;
/// Argon2id lanes (parallelism).
pub const KDF_LANES: u32 = 1;
/// Length of the random salt, bytes.
pub const SALT_LEN: usize = 16;
/// Length of the derived key, bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The salt of one database.
pub(crate) type Salt = [u8; SALT_LEN];

/// Where the salt of `db` lives: `<db>.salt`.
pub fn salt_path(db: &Path) -> PathBuf {
    with_suffix(db, ".salt")
}

/// Where a new salt waits while the passphrase is being changed: `<db>.salt.new`.
pub(crate) fn pending_salt_path(db: &Path) -> PathBuf {
    with_suffix(db, ".salt.new")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A fresh random salt (from the operating system's generator).
pub(crate) fn new_salt() -> Salt {
    rand::random()
}

/// Derives the 32-byte database key from `passphrase` (NFC-normalised) and `salt` with
/// Argon2id ([`KDF_MEMORY_KIB`], [`KDF_ITERATIONS`], [`KDF_LANES`]).
pub fn derive_key(passphrase: &str, salt: &[u8; SALT_LEN]) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let params = Params::new(KDF_MEMORY_KIB, KDF_ITERATIONS, KDF_LANES, Some(KEY_LEN))
        .map_err(|e| StoreError::KeyDerivation(e.to_string()))?;
    let mut normalised = nfc(passphrase);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    let out = Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
        normalised.as_bytes(),
        salt,
        key.as_mut(),
    );
    normalised.zeroize();
    out.map_err(|e| StoreError::KeyDerivation(e.to_string()))?;
    Ok(key)
}

/// The SQLCipher raw-key literal `x'<64 hex digits>'` of `key`, wiped when dropped.
pub(crate) fn raw_key_literal(key: &[u8; KEY_LEN]) -> Zeroizing<String> {
    let hex_key = Zeroizing::new(hex::encode(key));
    Zeroizing::new(format!("x'{}'", hex_key.as_str()))
}

/// Runs `PRAGMA <pragma> = "x'<hex key>'"` (`key` or `rekey`), wiping the SQL text afterwards.
///
/// SQLCipher's own logging is switched off first: it would print "error decrypting page 1"
/// to stderr on every wrong PIN, which the caller reports as
/// [`StoreError::WrongPassphrase`] anyway.
pub(crate) fn apply_key(conn: &Connection, pragma: &str, key: &[u8; KEY_LEN]) -> Result<()> {
    run_pragma(conn, "PRAGMA cipher_log_level = NONE")?;
    let literal = raw_key_literal(key);
    let sql = Zeroizing::new(format!("PRAGMA {pragma} = \"{}\"", literal.as_str()));
    run_pragma(conn, &sql)
}

/// Runs a statement, stepping through (and ignoring) any rows it returns (`PRAGMA key`
/// answers `ok`).
fn run_pragma(conn: &Connection, sql: &str) -> Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

/// Whether the key applied to `conn` opens the database: reads the schema (the first page).
/// `Ok(false)` means the file is not readable with this key (SQLCipher: "file is not a
/// database"); nothing is written either way.
pub(crate) fn key_opens(conn: &Connection) -> Result<bool> {
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(true),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether the file at `path` exists and holds data (an empty file counts as new).
pub(crate) fn has_data(path: &Path) -> Result<bool> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len() > 0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(StoreError::SaltFile {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Whether the file is a plain (unencrypted) SQLite database.
///
/// Asked through SQLite itself (an unkeyed connection that only reads the schema; no create flag), never by
/// opening the file with `std::fs::File`: on POSIX, closing *any* descriptor of a file drops
/// every lock this process holds on it, so a plain read of the header while another
/// connection is open would silently break that connection's locking.
pub(crate) fn is_plain_sqlite(path: &Path) -> bool {
    use rusqlite::OpenFlags;
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) else {
        return false;
    };
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .is_ok()
}

/// Reads a salt file; `Ok(None)` when it does not exist.
pub(crate) fn read_salt(path: &Path) -> Result<Option<Salt>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let salt: Salt = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::SaltInvalid {
                    path: path.display().to_string(),
                    len: bytes.len(),
                })?;
            Ok(Some(salt))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::SaltFile {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Writes `salt` to `path` and fsyncs the file and its directory, so the salt is on disk
/// before anything is encrypted with a key derived from it.
pub(crate) fn write_salt(path: &Path, salt: &Salt) -> Result<()> {
    let io = |source| StoreError::SaltFile {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::File::create(path).map_err(io)?;
    f.write_all(salt).map_err(io)?;
    f.sync_all().map_err(io)?;
    sync_dir(path).map_err(io)
}

/// Replaces `to` with `from` atomically and fsyncs the directory.
pub(crate) fn replace_file(from: &Path, to: &Path) -> Result<()> {
    let io = |source| StoreError::SaltFile {
        path: to.display().to_string(),
        source,
    };
    std::fs::rename(from, to).map_err(io)?;
    sync_dir(to).map_err(io)
}

/// Fsyncs the directory holding `path` (a no-op where directories cannot be opened).
fn sync_dir(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_depends_on_passphrase_and_salt_and_ignores_unicode_form() {
        let salt = [7u8; SALT_LEN];
        let a = derive_key("Việt Nam 2026", &salt).unwrap();
        let decomposed = "Vie\u{0302}\u{0323}t Nam 2026";
        assert_eq!(*derive_key(decomposed, &salt).unwrap(), *a);
        assert_ne!(*derive_key("Việt Nam 2027", &salt).unwrap(), *a);
        assert_ne!(*derive_key("Việt Nam 2026", &[8u8; SALT_LEN]).unwrap(), *a);
        assert_ne!(new_salt(), new_salt());
    }

    #[test]
    fn salt_files_round_trip_and_bad_lengths_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sipas.db");
        let path = salt_path(&db);
        assert_eq!(path.file_name().unwrap(), "sipas.db.salt");
        assert_eq!(
            pending_salt_path(&db).file_name().unwrap(),
            "sipas.db.salt.new"
        );
        assert_eq!(read_salt(&path).unwrap(), None);
        let salt = new_salt();
        write_salt(&path, &salt).unwrap();
        assert_eq!(read_salt(&path).unwrap(), Some(salt));
        std::fs::write(&path, b"short").unwrap();
        let err = read_salt(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::SaltInvalid { len: 5, .. }),
            "{err}"
        );
    }
}
