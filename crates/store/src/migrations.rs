//! Schema migrations: numbered SQL files under `crates/store/migrations/`, embedded in the
//! binary and applied in order.
//!
//! A migration file is never edited after it has landed — devices in the field have already
//! applied it. Every schema change is a new file `NNNN_name.sql` plus one entry in
//! [`MIGRATIONS`]. Applied migrations are recorded in the `schema_migrations` table and the
//! newest version in `PRAGMA user_version`.
use crate::codec;
use crate::error::{Result, StoreError};
use rusqlite::{Connection, TransactionBehavior, params};

/// One embedded migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Number of the file (`0001_init.sql` → 1); versions are consecutive from 1.
    pub version: u32,
    /// Name part of the file (`init`).
    pub name: &'static str,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// All migrations, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "pull_cursor",
        sql: include_str!("../migrations/0002_pull_cursor.sql"),
    },
    Migration {
        version: 3,
        name: "status_outbox",
        sql: include_str!("../migrations/0003_status_outbox.sql"),
    },
    Migration {
        version: 4,
        name: "withdrawals_refusals",
        sql: include_str!("../migrations/0004_withdrawals_refusals.sql"),
    },
    Migration {
        version: 5,
        name: "outside_sample",
        sql: include_str!("../migrations/0005_outside_sample.sql"),
    },
    Migration {
        version: 6,
        name: "catalogue_names",
        sql: include_str!("../migrations/0006_catalogue_names.sql"),
    },
    Migration {
        version: 7,
        name: "forms",
        sql: include_str!("../migrations/0007_forms.sql"),
    },
    Migration {
        version: 8,
        name: "monitor_tasks",
        sql: include_str!("../migrations/0008_monitor_tasks.sql"),
    },
    Migration {
        version: 9,
        name: "recovery_key",
        sql: include_str!("../migrations/0009_recovery_key.sql"),
    },
];

/// The schema version this code creates and understands.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest_version`] in one transaction; a no-op when it is
/// already there. Fails with [`StoreError::NewerSchema`] when the file is newer than the code.
pub(crate) fn apply(conn: &mut Connection) -> Result<()> {
    let supported = latest_version();
    // IMMEDIATE: take the write lock first, so two processes opening the same new file
    // cannot both try to create the schema.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > supported {
        return Err(StoreError::NewerSchema { found, supported });
    }
    if found == supported {
        return Ok(()); // dropping the transaction rolls back nothing
    }
    let applied_at = codec::ts(&codec::now());
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, applied_at],
        )?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version as usize,
                i + 1,
                "migration {} out of order",
                m.name
            );
            assert!(
                m.sql
                    .starts_with(&format!("-- {:04}_{}", m.version, m.name))
            );
        }
    }

    /// A file created by the first release (schema 1) is upgraded in place, keeping its data.
    #[test]
    fn version_1_file_is_upgraded_keeping_its_sync_log() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].sql).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, 'init', 'x')",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute("UPDATE sync_log SET last_error = 'offline'", [])
            .unwrap();
        apply(&mut conn).unwrap();
        let (err, cursor): (Option<String>, i64) = conn
            .query_row("SELECT last_error, pull_cursor FROM sync_log", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((err.as_deref(), cursor), (Some("offline"), 0));
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, latest_version());
    }

    /// Landed migrations must never change: a device that already applied the old text
    /// would silently differ from a fresh install. If this fails, revert your edit and put
    /// the change in a new migration file.
    #[test]
    fn landed_migrations_are_frozen() {
        const FROZEN: &[(u32, &str)] = &[
            (
                1,
                "68b7cab148785b865a9fc6af1e2274ccd5bd6f07eb0acf65c8dbfa88cd6cdba8",
            ),
            (
                2,
                "dc694a5d90dc58ffb73de075f2335eee6a6fcd11733fc759e1f590b55593b0d6",
            ),
            (
                3,
                "ba22fce438c63638659a38547f2d5f13d6f09847577736210dfe467cf2464470",
            ),
            (
                6,
                "7e6cbff995a50b446f4f5e6bbc1e8543356417e06a7b60db591238911b911e08",
            ),
            // 0007_forms (issue 12, h-formpub).
            (
                7,
                "8373408b1fb2951a2d6a781bdb46bb6558c58e6ef76ef38a2333d356d6b53ce9",
            ),
        ];
        for (version, hash) in FROZEN {
            let m = &MIGRATIONS[*version as usize - 1];
            let actual = hex::encode(Sha256::digest(m.sql.as_bytes()));
            assert_eq!(
                &actual, hash,
                "migration {:04}_{} was edited",
                m.version, m.name
            );
        }
    }
}
