//! The [`Store`] handle: opening the SQLite file and running writes in transactions.
use crate::error::{Result, StoreError};
use crate::migrations;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// How long a write waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
}

impl Store {
    /// Opens (creating if needed) the store file at `path` and brings its schema up to date.
    ///
    /// Settings: `journal_mode=WAL` (readers never block the writer, and a crash mid-write
    /// leaves the last committed state intact); `synchronous=FULL` — the WAL is fsynced at
    /// every commit, so an answer that was reported saved survives even a power cut or an
    /// OS crash. That costs one fsync per saved answer, which is cheap next to an interview,
    /// and losing answers is not acceptable; `foreign_keys=ON`; a 5 s busy timeout.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::WalUnavailable { mode });
        }
        Self::init(conn)
    }

    /// Opens a fresh in-memory store (for tests; nothing is persisted).
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrations::apply(&mut conn)?;
        Ok(Store {
            conn,
            actor: DEFAULT_ACTOR.to_string(),
        })
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
