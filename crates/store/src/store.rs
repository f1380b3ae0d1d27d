//! The [`Store`] handle: opening the SQLite file (plain or encrypted) and running writes in
//! transactions.
use crate::encryption::{self, KEY_LEN};
use crate::error::{Result, StoreError};
use crate::{audit, migrations};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// How long a write waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The key of an encrypted store, derived from the PIN by [`Store::unlock`]: opens more
/// connections with [`Store::open_with_key`]. Wiped from memory when dropped; `Debug` never
/// shows it.
#[derive(Clone)]
pub struct DatabaseKey(pub(crate) Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for DatabaseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DatabaseKey(<redacted>)")
    }
}

/// Actor recorded in the audit log when none was set with [`Store::set_actor`].
const DEFAULT_ACTOR: &str = "device";

/// An open local store (one SQLite connection).
///
/// Reads take `&self`; writes take `&mut self` and each runs in its own transaction together
/// with its audit-log entry.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    actor: String,
    /// The database file, when it was opened with [`Store::open_encrypted`].
    encrypted: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the store file at `path` and brings its schema up to date.
    ///
    /// Settings: `journal_mode=WAL` (readers never block the writer, and a crash mid-write
    /// leaves the last committed state intact); `synchronous=FULL` — the WAL is fsynced at
    /// every commit, so an answer that was reported saved survives even a power cut or an
    /// OS crash. That costs one fsync per saved answer, which is cheap next to an interview,
    /// and losing answers is not acceptable; `foreign_keys=ON`; a 5 s busy timeout.
    ///
    /// The file is **not encrypted**: use this for the server's tests and tools; the app
    /// opens its store with [`Store::open_encrypted`].
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Self::init(conn, None)
    }

    /// Opens (creating if needed) the store file at `path` **encrypted at rest** with a key
    /// derived from `passphrase` (the surveyor's PIN), then brings its schema up to date.
    /// Same settings as [`Store::open`]; see [`crate::encryption`] for the key derivation
    /// (Argon2id, 19 MiB, 2 passes, 1 lane, 16-byte salt in `<path>.salt`).
    ///
    /// Errors: a wrong passphrase is [`StoreError::WrongPassphrase`] and changes nothing on
    /// disk (try again); an existing database without its salt file is
    /// [`StoreError::SaltMissing`]; a plain (unencrypted) database is
    /// [`StoreError::NotEncrypted`].
    pub fn open_encrypted(path: impl AsRef<Path>, passphrase: &str) -> Result<Store> {
        Self::unlock(path, passphrase).map(|(store, _)| store)
    }

    /// Like [`Store::open_encrypted`], also returning the derived [`DatabaseKey`], with which
    /// more connections to the same file (e.g. a background sync) open through
    /// [`Store::open_with_key`] without asking for the PIN again or re-running Argon2id.
    /// Keep the key only in memory; it is wiped when dropped.
    pub fn unlock(path: impl AsRef<Path>, passphrase: &str) -> Result<(Store, DatabaseKey)> {
        let path = path.as_ref();
        let salt_file = encryption::salt_path(path);
        let existing = Self::existing_encrypted(path)?;
        let salt = match encryption::read_salt(&salt_file)? {
            Some(salt) => salt,
            None if existing => {
                return Err(StoreError::SaltMissing {
                    path: salt_file.display().to_string(),
                });
            }
            // A new database: its salt is on disk before anything is encrypted with it.
            None => {
                let salt = encryption::new_salt();
                encryption::write_salt(&salt_file, &salt)?;
                salt
            }
        };
        let key = encryption::derive_key(passphrase, &salt)?;
        let (conn, key) = match Self::keyed_connection(path, &key)? {
            Some(conn) => (conn, key),
            None => Self::finish_interrupted_rekey(path, passphrase)?
                .ok_or(StoreError::WrongPassphrase)?,
        };
        let store = Self::init(conn, Some(path.to_path_buf()))?;
        Ok((store, DatabaseKey(key)))
    }

    /// Opens an encrypted store with a key from [`Store::unlock`]. A key from before a
    /// [`Store::change_passphrase`] no longer opens it: [`StoreError::WrongPassphrase`].
    pub fn open_with_key(path: impl AsRef<Path>, key: &DatabaseKey) -> Result<Store> {
        let path = path.as_ref();
        Self::existing_encrypted(path)?;
        let conn = Self::keyed_connection(path, &key.0)?.ok_or(StoreError::WrongPassphrase)?;
        Self::init(conn, Some(path.to_path_buf()))
    }

    /// Whether a database with data exists at `path` (file or write-ahead log);
    /// [`StoreError::NotEncrypted`] when it is a plain SQLite file.
    fn existing_encrypted(path: &Path) -> Result<bool> {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let existing = encryption::has_data(path)? || encryption::has_data(Path::new(&wal))?;
        if existing && encryption::is_plain_sqlite(path) {
            return Err(StoreError::NotEncrypted {
                path: path.display().to_string(),
            });
        }
        Ok(existing)
    }

    /// A connection to `path` with `key` applied, or `None` when the key does not open it.
    fn keyed_connection(path: &Path, key: &Zeroizing<[u8; KEY_LEN]>) -> Result<Option<Connection>> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        encryption::apply_key(&conn, "key", key)?;
        Ok(encryption::key_opens(&conn)?.then_some(conn))
    }

    /// After a crash in the middle of [`Store::change_passphrase`] the database may already be
    /// encrypted with the key of the pending salt: if `passphrase` opens it with that salt,
    /// the pending salt becomes the salt and the connection is returned.
    fn finish_interrupted_rekey(
        path: &Path,
        passphrase: &str,
    ) -> Result<Option<(Connection, Zeroizing<[u8; KEY_LEN]>)>> {
        let pending = encryption::pending_salt_path(path);
        let Some(salt) = encryption::read_salt(&pending)? else {
            return Ok(None);
        };
        let key = encryption::derive_key(passphrase, &salt)?;
        match Self::keyed_connection(path, &key)? {
            Some(conn) => {
                encryption::replace_file(&pending, &encryption::salt_path(path))?;
                Ok(Some((conn, key)))
            }
            None => Ok(None),
        }
    }

    /// Converts the plain (unencrypted) store file at `path` into an encrypted one in place,
    /// for a device that stored data before encryption at rest: writes a new salt, copies
    /// every table with `sqlcipher_export` into `<path>.encrypting` under the key derived from
    /// `passphrase`, and renames that over `path`. Returns `Ok(false)` (nothing done) when the
    /// file is missing or not a plain SQLite database. Open the result with
    /// [`Store::open_encrypted`]. A crash midway leaves the plain file in place; run it again.
    ///
    /// The plain bytes may linger in free disk blocks until the operating system reuses them;
    /// full-disk encryption of the laptop covers that.
    pub fn encrypt_plain_file(path: impl AsRef<Path>, passphrase: &str) -> Result<bool> {
        let path = path.as_ref();
        if !encryption::is_plain_sqlite(path) {
            return Ok(false);
        }
        let with = |suffix: &str| {
            let mut s = path.as_os_str().to_owned();
            s.push(suffix);
            PathBuf::from(s)
        };
        let tmp = with(".encrypting");
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| StoreError::SaltFile { path: p, source }
        };
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(io(&tmp))?;
        }
        let salt = encryption::new_salt();
        encryption::write_salt(&encryption::salt_path(path), &salt)?;
        let key = encryption::derive_key(passphrase, &salt)?;
        {
            let plain = Connection::open(path)?;
            plain.busy_timeout(BUSY_TIMEOUT)?;
            plain.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            let version: u32 = plain.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let key_text = encryption::raw_key_literal(&key);
            plain.execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                rusqlite::params![tmp.display().to_string(), key_text.as_str()],
            )?;
            plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
            plain.pragma_update(Some("encrypted"), "user_version", version)?;
            plain.execute_batch("DETACH DATABASE encrypted")?;
        }
        drop(key);
        for leftover in [with("-wal"), with("-shm")] {
            if leftover.exists() {
                std::fs::remove_file(&leftover).map_err(io(&leftover))?;
            }
        }
        encryption::replace_file(&tmp, path)?;
        Ok(true)
    }

    /// Opens a fresh in-memory store (for tests; nothing is persisted).
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrations::apply(&mut conn)?;
        Ok(Store {
            conn,
            actor: DEFAULT_ACTOR.to_string(),
            encrypted: None,
        })
    }

    /// Switches a file connection to WAL, sets the pragmas and migrates.
    fn init(mut conn: Connection, encrypted: Option<PathBuf>) -> Result<Store> {
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { mode });
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrations::apply(&mut conn)?;
        Ok(Store {
            conn,
            actor: DEFAULT_ACTOR.to_string(),
            encrypted,
        })
    }

    /// Whether this store was opened with [`Store::open_encrypted`].
    pub fn is_encrypted(&self) -> bool {
        self.encrypted.is_some()
    }

    /// Changes the passphrase of an encrypted store: checks `old` (else
    /// [`StoreError::WrongPassphrase`], nothing changed), then re-encrypts every page under a
    /// key derived from `new` and a fresh salt (`PRAGMA rekey`, run in rollback-journal mode
    /// because SQLCipher 4 cannot rekey a WAL database, then back to WAL). Audited as
    /// `store.passphrase_changed`. [`StoreError::NotEncrypted`] for a plain store. Close other
    /// connections to the file first (leaving WAL mode needs exclusive access); keys from
    /// [`Store::unlock`] stop working.
    pub fn change_passphrase(&mut self, old: &str, new: &str) -> Result<()> {
        let path = self
            .encrypted
            .clone()
            .ok_or_else(|| StoreError::NotEncrypted {
                path: "(this store)".into(),
            })?;
        let salt_file = encryption::salt_path(&path);
        let salt = encryption::read_salt(&salt_file)?.ok_or_else(|| StoreError::SaltMissing {
            path: salt_file.display().to_string(),
        })?;
        let old_key = encryption::derive_key(old, &salt)?;
        if Self::keyed_connection(&path, &old_key)?.is_none() {
            return Err(StoreError::WrongPassphrase);
        }
        drop(old_key);
        self.rekey(&path, new)?;
        self.write(|tx, actor| {
            audit::append(
                tx,
                actor,
                "store.passphrase_changed",
                "store",
                "-",
                serde_json::json!({}),
            )
        })
    }

    /// Re-encrypts the store at `path` (this connection's file) under a key derived from
    /// `new` and a fresh salt, sealing the new key for recovery first when the store has a
    /// recovery key ([`crate::recovery`]). Returns the new key.
    pub(crate) fn rekey(&mut self, path: &Path, new: &str) -> Result<DatabaseKey> {
        let salt_file = encryption::salt_path(path);
        let pending = encryption::pending_salt_path(path);
        let new_salt = encryption::new_salt();
        let new_key = encryption::derive_key(new, &new_salt)?;
        let sealed = self.seal_pending(path, &new_key)?;
        encryption::write_salt(&pending, &new_salt)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=DELETE", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("delete") {
            return Err(StoreError::WalUnavailable { mode });
        }
        let rekeyed = encryption::apply_key(&self.conn, "rekey", &new_key);
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        rekeyed?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { mode });
        }
        encryption::replace_file(&pending, &salt_file)?;
        if sealed {
            Self::commit_pending_seal(path)?;
        }
        Ok(DatabaseKey(new_key))
    }

    /// The file of an encrypted store (`None`: plain or in memory).
    pub(crate) fn encrypted_path(&self) -> Option<PathBuf> {
        self.encrypted.clone()
    }

    /// Sets who is recorded in the audit log for subsequent writes (e.g. the surveyor id).
    pub fn set_actor(&mut self, actor: impl Into<String>) {
        self.actor = actor.into();
    }

    /// Who is recorded in the audit log for writes.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The schema version of the open file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// The SQLite journal mode (`"wal"` for files opened with [`Store::open`]).
    pub fn journal_mode(&self) -> Result<String> {
        Ok(self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))?)
    }

    /// Runs `PRAGMA integrity_check`: `"ok"`, or the problems found, one per line.
    pub fn integrity_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(lines.join("\n"))
    }

    /// The connection, for reads.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one IMMEDIATE transaction (write lock taken up front) and commits it;
    /// on any error nothing is written. `f` gets the transaction and the current actor.
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &str) -> Result<T>,
    ) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx, &self.actor)?;
        tx.commit()?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::latest_version;
    use crate::test_support::TempStore;

    #[test]
    fn file_store_uses_wal_full_sync_and_foreign_keys() {
        let t = TempStore::new();
        let s = t.open();
        assert_eq!(s.journal_mode().unwrap(), "wal");
        let sync: i64 = s
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous must be FULL");
        let fk: i64 = s
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn migrations_run_once_and_reopen_is_idempotent() {
        let t = TempStore::new();
        for _ in 0..3 {
            let s = t.open();
            assert_eq!(s.schema_version().unwrap(), latest_version());
            let rows: Vec<(u32, String)> = s
                .conn()
                .prepare("SELECT version, name FROM schema_migrations ORDER BY version")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let expected: Vec<(u32, String)> = migrations::MIGRATIONS
                .iter()
                .map(|m| (m.version, m.name.to_string()))
                .collect();
            assert_eq!(rows, expected);
        }
    }

    #[test]
    fn newer_schema_is_refused_with_update_hint() {
        let t = TempStore::new();
        drop(t.open());
        let raw = Connection::open(&t.path).unwrap();
        raw.pragma_update(None, "user_version", latest_version() + 1)
            .unwrap();
        drop(raw);
        let err = Store::open(&t.path).unwrap_err();
        assert!(matches!(err, StoreError::NewerSchema { found, supported }
            if found == latest_version() + 1 && supported == latest_version()));
        assert!(
            err.to_string()
                .contains("database was written by a newer SIPAS Field")
        );
        assert!(err.to_string().contains("update the app"));
    }

    #[test]
    fn garbage_file_is_an_error_not_a_panic() {
        let t = TempStore::new();
        std::fs::write(&t.path, b"this is not a database, just some bytes....").unwrap();
        assert!(matches!(Store::open(&t.path), Err(StoreError::Sqlite(_))));
    }

    fn sha(path: &Path) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        Sha256::digest(std::fs::read(path).unwrap()).to_vec()
    }

    #[test]
    fn encrypted_store_needs_the_right_pin_and_a_wrong_one_changes_nothing() {
        let t = TempStore::new();
        let started = std::time::Instant::now();
        let mut s = Store::open_encrypted(&t.path, "123456").unwrap();
        eprintln!("create encrypted store: {:?}", started.elapsed());
        assert!(s.is_encrypted());
        assert_eq!(s.journal_mode().unwrap(), "wal");
        s.upsert_assignment(
            &crate::test_support::assignment(),
            Some(&crate::test_support::contact()),
        )
        .unwrap();
        drop(s);
        assert_eq!(
            std::fs::read(encryption::salt_path(&t.path)).unwrap().len(),
            encryption::SALT_LEN
        );
        let before = sha(&t.path);
        let err = Store::open_encrypted(&t.path, "654321").unwrap_err();
        assert!(matches!(err, StoreError::WrongPassphrase), "{err}");
        assert!(err.to_string().contains("Mã PIN không đúng"), "{err}");
        assert!(
            err.to_string().contains("Wrong PIN; your data is intact"),
            "{err}"
        );
        assert_eq!(sha(&t.path), before, "a wrong PIN must not touch the file");
        // Plain SQLite cannot read it.
        assert!(matches!(Store::open(&t.path), Err(StoreError::Sqlite(_))));
        let s = Store::open_encrypted(&t.path, "123456").unwrap();
        assert_eq!(s.list_assignments().unwrap().len(), 1);
        assert_eq!(s.integrity_check().unwrap(), "ok");
    }

    #[test]
    fn a_key_from_unlock_opens_more_connections_until_the_passphrase_changes() {
        let t = TempStore::new();
        let (mut s, key) = Store::unlock(&t.path, "123456").unwrap();
        assert_eq!(format!("{key:?}"), "DatabaseKey(<redacted>)");
        s.upsert_assignment(&crate::test_support::assignment(), None)
            .unwrap();
        let second = Store::open_with_key(&t.path, &key).unwrap();
        assert_eq!(second.list_assignments().unwrap().len(), 1);
        drop(second);
        s.change_passphrase("123456", "654321").unwrap();
        assert!(matches!(
            Store::open_with_key(&t.path, &key),
            Err(StoreError::WrongPassphrase)
        ));
        let plain = TempStore::new();
        drop(plain.open());
        assert!(matches!(
            Store::open_with_key(&plain.path, &key),
            Err(StoreError::NotEncrypted { .. })
        ));
    }

    #[test]
    fn missing_salt_and_plain_files_are_clear_errors() {
        let t = TempStore::new();
        drop(Store::open_encrypted(&t.path, "123456").unwrap());
        std::fs::remove_file(encryption::salt_path(&t.path)).unwrap();
        let err = Store::open_encrypted(&t.path, "123456").unwrap_err();
        assert!(matches!(err, StoreError::SaltMissing { .. }), "{err}");
        assert!(err.to_string().contains("sipas.db.salt"), "{err}");
        assert!(
            !encryption::salt_path(&t.path).exists(),
            "no new salt was made"
        );

        let plain = TempStore::new();
        drop(plain.open());
        let err = Store::open_encrypted(&plain.path, "123456").unwrap_err();
        assert!(matches!(err, StoreError::NotEncrypted { .. }), "{err}");
        let err = plain.open().change_passphrase("a", "b").unwrap_err();
        assert!(matches!(err, StoreError::NotEncrypted { .. }), "{err}");
    }

    #[test]
    fn passphrase_change_rekeys_and_survives_an_interrupted_salt_swap() {
        let t = TempStore::new();
        let mut s = Store::open_encrypted(&t.path, "111111").unwrap();
        s.upsert_assignment(&crate::test_support::assignment(), None)
            .unwrap();
        let err = s.change_passphrase("999999", "222222").unwrap_err();
        assert!(matches!(err, StoreError::WrongPassphrase), "{err}");
        s.change_passphrase("111111", "Mật khẩu mới").unwrap();
        assert_eq!(s.journal_mode().unwrap(), "wal");
        assert_eq!(
            s.audit_entries(0).unwrap().last().unwrap().action,
            "store.passphrase_changed"
        );
        drop(s);
        assert!(matches!(
            Store::open_encrypted(&t.path, "111111"),
            Err(StoreError::WrongPassphrase)
        ));
        let s = Store::open_encrypted(&t.path, "Mật khẩu mới").unwrap();
        assert_eq!(s.list_assignments().unwrap().len(), 1);
        drop(s);

        // A crash after the rekey but before the salt swap: the new salt is still pending.
        let salt = encryption::salt_path(&t.path);
        let pending = encryption::pending_salt_path(&t.path);
        std::fs::rename(&salt, &pending).unwrap();
        encryption::write_salt(&salt, &encryption::new_salt()).unwrap();
        let s = Store::open_encrypted(&t.path, "Mật khẩu mới").unwrap();
        assert_eq!(s.list_assignments().unwrap().len(), 1);
        assert!(!pending.exists(), "the pending salt became the salt");
    }

    #[test]
    fn a_plain_file_is_encrypted_in_place_keeping_its_data() {
        let t = TempStore::new();
        let mut s = t.open();
        s.upsert_assignment(
            &crate::test_support::assignment(),
            Some(&crate::test_support::contact()),
        )
        .unwrap();
        let audit = s.audit_entries(0).unwrap();
        drop(s);
        assert!(Store::encrypt_plain_file(&t.path, "123456").unwrap());
        assert!(
            !Store::encrypt_plain_file(&t.path, "123456").unwrap(),
            "already done"
        );
        let bytes = std::fs::read(&t.path).unwrap();
        assert!(!bytes.starts_with(b"SQLite format 3"));
        let s = Store::open_encrypted(&t.path, "123456").unwrap();
        assert_eq!(s.schema_version().unwrap(), latest_version());
        assert_eq!(s.audit_entries(0).unwrap(), audit);
        assert_eq!(
            s.get_contact(s.list_assignments().unwrap()[0].id).unwrap(),
            Some(crate::test_support::contact())
        );
    }

    #[test]
    fn in_memory_store_is_migrated() {
        let mut s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), latest_version());
        assert_eq!(s.actor(), "device");
        s.set_actor("surveyor-7");
        assert_eq!(s.actor(), "surveyor-7");
    }

    #[test]
    fn failed_write_commits_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        let err = s
            .write(|tx, actor| {
                crate::audit::append(tx, actor, "x", "y", "z", serde_json::json!({}))?;
                Err::<(), _>(StoreError::not_found("thing", 1))
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
        assert!(s.audit_entries(0).unwrap().is_empty());
    }
}
