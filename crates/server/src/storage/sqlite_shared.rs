//! [`SharedStore`] on SQLite (a child module of `sqlite`): every reservation is one
//! `BEGIN IMMEDIATE` transaction of the one writer connection, so reservations are serialised
//! within the process and, through SQLite's write lock, with any other process on the file.
use super::{SqliteStore, col_ts, ts};
use crate::ratelimit::{Limit, Throttled, Window, plan};
use crate::storage::StoreError;
use crate::storage::shared::{
    BUMP_VERSION, Counted, FORGET_KNOWN, FORGET_WINDOWS, KNOWN_AT, RELEASE_WINDOW, REMEMBER_KNOWN,
    RESET_WINDOW, SharedStore, SharedVersions, UPSERT_WINDOW, VERSIONS, Windows, versions_from,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

/// Bumps version counter `name` inside a write transaction.
pub(super) fn bump(tx: &Transaction<'_>, name: &str) -> Result<(), StoreError> {
    tx.prepare_cached(BUMP_VERSION)?.execute(params![name])?;
    Ok(())
}

#[async_trait]
impl SharedStore for SqliteStore {
    async fn throttle_reserve(
        &self,
        throttle: &str,
        limits: &[Limit],
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Result<Vec<Counted>, Throttled>, StoreError> {
        let (throttle, limits) = (throttle.to_owned(), limits.to_vec());
        self.write(move |tx| {
            tx.prepare_cached(FORGET_WINDOWS)?
                .execute(params![throttle, ts(&(now - window))])?;
            let mut current = Windows::new();
            let mut read = tx.prepare_cached(
                "SELECT started_at, count FROM throttle_windows WHERE limiter = ?1 AND key = ?2",
            )?;
            for limit in &limits {
                let found = read
                    .query_row(params![throttle, limit.key], |r| {
                        Ok(Window {
                            started: col_ts(r, 0)?,
                            count: r.get(1)?,
                        })
                    })
                    .optional()?;
                if let Some(w) = found {
                    current.insert(limit.key.clone(), w);
                }
            }
            let planned = match plan(&current, &limits, now, window) {
                Ok(p) => p,
                Err(t) => return Ok(Err(t)),
            };
            let mut write = tx.prepare_cached(UPSERT_WINDOW)?;
            for (key, w) in &planned {
                write.execute(params![throttle, key, ts(&w.started), w.count])?;
            }
            Ok(Ok(planned
                .into_iter()
                .map(|(k, w)| (k, w.started))
                .collect()))
        })
        .await
    }

    async fn throttle_release(
        &self,
        throttle: &str,
        counted: &[Counted],
        reset: &[String],
    ) -> Result<(), StoreError> {
        let (throttle, counted, reset) = (throttle.to_owned(), counted.to_vec(), reset.to_vec());
        self.write(move |tx| {
            let mut release = tx.prepare_cached(RELEASE_WINDOW)?;
            for (key, started) in &counted {
                release.execute(params![throttle, key, ts(started)])?;
            }
            let mut delete = tx.prepare_cached(RESET_WINDOW)?;
            for key in &reset {
                delete.execute(params![throttle, key])?;
            }
            Ok(())
        })
        .await
    }

    async fn throttle_known_at(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let key = key.to_owned();
        self.read(move |tx| {
            Ok(tx
                .prepare_cached(KNOWN_AT)?
                .query_row(params![key], |r| col_ts(r, 0))
                .optional()?)
        })
        .await
    }

    async fn throttle_remember(
        &self,
        key: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.write(move |tx| {
            tx.prepare_cached(FORGET_KNOWN)?
                .execute(params![ts(&forget_before)])?;
            tx.prepare_cached(REMEMBER_KNOWN)?
                .execute(params![key, ts(&now)])?;
            Ok(())
        })
        .await
    }

    async fn shared_versions(&self) -> Result<SharedVersions, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(VERSIONS)?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            Ok(versions_from(rows.collect::<Result<Vec<_>, _>>()?))
        })
        .await
    }
}
