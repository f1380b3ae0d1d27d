//! [`SharedStore`] on PostgreSQL (a child module of `postgres`): every reservation is one
//! transaction holding a transaction-level advisory lock, so reservations of every server
//! process on the database are serialised (attempts are few: sign-in and enrolment only).
use super::{PgStore, bad};
use crate::ratelimit::{Limit, Throttled, Window, plan};
use crate::storage::StoreError;
use crate::storage::shared::{
    BUMP_VERSION, Counted, FORGET_KNOWN, FORGET_WINDOWS, KNOWN_AT, RELEASE_WINDOW, REMEMBER_KNOWN,
    RESET_WINDOW, SharedStore, SharedVersions, UPSERT_WINDOW, VERSIONS, Windows, versions_from,
};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use deadpool_postgres::Transaction;

/// Advisory lock key held while a throttle reservation runs.
const THROTTLE_LOCK: i64 = 0x5149_5041_5346_0002;

/// Bumps version counter `name` inside a transaction.
pub(super) async fn bump(tx: &Transaction<'_>, name: &str) -> Result<(), StoreError> {
    let stmt = tx.prepare_cached(BUMP_VERSION).await?;
    tx.execute(&stmt, &[&name]).await?;
    Ok(())
}

fn count_param(n: u32) -> Result<i32, StoreError> {
    i32::try_from(n).map_err(|_| bad(format!("throttle count {n}")))
}

#[async_trait]
impl SharedStore for PgStore {
    async fn throttle_reserve(
        &self,
        throttle: &str,
        limits: &[Limit],
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Result<Vec<Counted>, Throttled>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&THROTTLE_LOCK])
            .await?;
        let forget = tx.prepare_cached(FORGET_WINDOWS).await?;
        tx.execute(&forget, &[&throttle, &(now - window)]).await?;
        let keys: Vec<&str> = limits.iter().map(|l| l.key.as_str()).collect();
        let read = tx
            .prepare_cached(
                "SELECT key, started_at, count FROM throttle_windows \
                 WHERE limiter = $1 AND key = ANY($2)",
            )
            .await?;
        let mut current = Windows::new();
        for row in tx.query(&read, &[&throttle, &keys]).await? {
            let count: i32 = row.try_get(2)?;
            current.insert(
                row.try_get(0)?,
                Window {
                    started: row.try_get(1)?,
                    count: u32::try_from(count).map_err(|_| bad(format!("count {count}")))?,
                },
            );
        }
        let planned = match plan(&current, limits, now, window) {
            Ok(p) => p,
            Err(t) => {
                tx.commit().await?;
                return Ok(Err(t));
            }
        };
        let write = tx.prepare_cached(UPSERT_WINDOW).await?;
        for (key, w) in &planned {
            tx.execute(
                &write,
                &[&throttle, key, &w.started, &count_param(w.count)?],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(planned
            .into_iter()
            .map(|(k, w)| (k, w.started))
            .collect()))
    }

    async fn throttle_release(
        &self,
        throttle: &str,
        counted: &[Counted],
        reset: &[String],
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let release = tx.prepare_cached(RELEASE_WINDOW).await?;
        for (key, started) in counted {
            tx.execute(&release, &[&throttle, key, started]).await?;
        }
        let delete = tx.prepare_cached(RESET_WINDOW).await?;
        for key in reset {
            tx.execute(&delete, &[&throttle, key]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn throttle_known_at(&self, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(KNOWN_AT).await?;
        Ok(match client.query_opt(&stmt, &[&key]).await? {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        })
    }

    async fn throttle_remember(
        &self,
        key: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let forget = tx.prepare_cached(FORGET_KNOWN).await?;
        tx.execute(&forget, &[&forget_before]).await?;
        let remember = tx.prepare_cached(REMEMBER_KNOWN).await?;
        tx.execute(&remember, &[&key, &now]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn shared_versions(&self) -> Result<SharedVersions, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(VERSIONS).await?;
        let rows = client.query(&stmt, &[]).await?;
        let mut pairs = Vec::with_capacity(rows.len());
        for row in rows {
            pairs.push((row.try_get::<_, String>(0)?, row.try_get::<_, i64>(1)?));
        }
        Ok(versions_from(pairs))
    }
}
