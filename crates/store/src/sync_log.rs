//! The outcome of synchronisation with the server (a single row).
use crate::audit;
use crate::codec;
use crate::error::Result;
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

/// When the last sync succeeded or failed, and why it failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncLog {
    /// When the last sync succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the last sync failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Message of the last failure.
    pub last_error: Option<String>,
}

impl Store {
    /// The current sync log.
    pub fn get_sync_log(&self) -> Result<SyncLog> {
        let (success, error_at, error): (Option<String>, Option<String>, Option<String>) =
            self.conn().query_row(
                "SELECT last_success_at, last_error_at, last_error FROM sync_log WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
        Ok(SyncLog {
            last_success_at: codec::parse_opt_ts(success.as_deref(), "sync log")?,
            last_error_at: codec::parse_opt_ts(error_at.as_deref(), "sync log")?,
            last_error: error,
        })
    }

    /// Replaces the sync log.
    pub fn set_sync_log(&mut self, log: &SyncLog) -> Result<()> {
        self.write(|tx, actor| {
            tx.execute(
                "UPDATE sync_log SET last_success_at = ?1, last_error_at = ?2, last_error = ?3
                 WHERE id = 1",
                params![
                    log.last_success_at.as_ref().map(codec::ts),
                    log.last_error_at.as_ref().map(codec::ts),
                    log.last_error,
                ],
            )?;
            audit::append(
                tx,
                actor,
                "sync_log.set",
                "sync_log",
                "1",
                serde_json::to_value(log).unwrap_or_default(),
            )
        })
    }

    /// The pull cursor saved by the last applied pull (0: never pulled).
    pub fn pull_cursor(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT pull_cursor FROM sync_log WHERE id = 1", [], |r| {
                r.get(0)
            })?)
    }

    /// Saves the cursor of a pull whose content has been applied, for the next pull.
    /// Negative values are stored as 0 (pull everything again; applying a pull is idempotent).
    pub fn set_pull_cursor(&mut self, cursor: i64) -> Result<()> {
        let cursor = cursor.max(0);
        self.write(|tx, actor| {
            tx.execute(
                "UPDATE sync_log SET pull_cursor = ?1 WHERE id = 1",
                params![cursor],
            )?;
            audit::append(
                tx,
                actor,
                "sync_log.set_pull_cursor",
                "sync_log",
                "1",
                serde_json::json!({ "cursor": cursor }),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{TempStore, at};

    #[test]
    fn starts_empty_and_round_trips_across_reopen() {
        let t = TempStore::new();
        let log = SyncLog {
            last_success_at: Some(at("2026-11-20T10:00:00.123456789Z")),
            last_error_at: Some(at("2026-11-20T11:00:00Z")),
            last_error: Some("no network".into()),
        };
        {
            let mut s = t.open();
            assert_eq!(s.get_sync_log().unwrap(), SyncLog::default());
            s.set_sync_log(&log).unwrap();
        }
        assert_eq!(t.open().get_sync_log().unwrap(), log);
    }

    #[test]
    fn pull_cursor_starts_at_zero_and_survives_reopen() {
        let t = TempStore::new();
        {
            let mut s = t.open();
            assert_eq!(s.pull_cursor().unwrap(), 0);
            s.set_pull_cursor(42).unwrap();
            s.set_pull_cursor(-5).unwrap();
            assert_eq!(s.pull_cursor().unwrap(), 0);
            s.set_pull_cursor(43).unwrap();
        }
        let s = t.open();
        assert_eq!(s.pull_cursor().unwrap(), 43);
        // The sync log itself is untouched by the cursor.
        assert_eq!(s.get_sync_log().unwrap(), SyncLog::default());
    }
}
