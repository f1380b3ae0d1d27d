//! [`SelfStore`] on PostgreSQL (a child module of `postgres`, for its helpers).
use super::PgStore;
use crate::storage::StoreError;
use crate::storage::self_store::{
    ANSWER_SELF_LINK, INSERT_OPEN_DEVICE, INSERT_OPEN_LINK, INSERT_OPEN_SUBMISSION,
    INSERT_SELF_LINK, OPEN_BY_ADDR, OPEN_BY_DEVICE, OPEN_DEVICE_EXISTS, OPEN_LINK_COLS,
    OPEN_SUBMISSION_EXISTS, OpenLinkRow, OpenSubmission, RESPONSE_MODES, REVOKE_OPEN_LINK,
    REVOKE_SELF_LINK, ROUND_OFFICIAL_MODES, Reservation, SELF_LINK_COLS, SET_ROUND_OFFICIAL_MODES,
    SelfLinkRow, SelfStore, decide,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sipas_core::mode::ResponseMode;
use std::collections::HashMap;
use tokio_postgres::Row;
use uuid::Uuid;

/// Advisory lock key of the open-link limits (one transaction at a time counts them).
const OPEN_LIMITS_LOCK: i64 = 0x5349_5041_5301_5f0f;

fn self_link_from(row: &Row) -> Result<SelfLinkRow, StoreError> {
    Ok(SelfLinkRow {
        code: row.try_get(0)?,
        round_id: row.try_get(1)?,
        assignment_id: row.try_get(2)?,
        created_by: row.try_get(3)?,
        created_at: row.try_get(4)?,
        response_id: row.try_get(5)?,
        answered_at: row.try_get(6)?,
        revoked_at: row.try_get(7)?,
    })
}

fn open_link_from(row: &Row) -> Result<OpenLinkRow, StoreError> {
    Ok(OpenLinkRow {
        token: row.try_get(0)?,
        round_id: row.try_get(1)?,
        agency_code: row.try_get(2)?,
        created_by: row.try_get(3)?,
        created_at: row.try_get(4)?,
        revoked_at: row.try_get(5)?,
    })
}

fn count(row: &Row) -> Result<u64, StoreError> {
    Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
}

#[async_trait]
impl SelfStore for PgStore {
    async fn create_self_links(
        &self,
        round_id: &str,
        links: &[(Uuid, String)],
        created_by: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<SelfLinkRow>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let insert = tx.prepare_cached(INSERT_SELF_LINK).await?;
        let sql = format!("SELECT {SELF_LINK_COLS} FROM self_links WHERE assignment_id = $1");
        let select = tx.prepare_cached(&sql).await?;
        let mut out = Vec::with_capacity(links.len());
        for (aid, code) in links {
            tx.execute(&insert, &[code, &round_id, aid, &created_by, &at])
                .await?;
            out.push(self_link_from(&tx.query_one(&select, &[aid]).await?)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn self_links(&self, round_id: &str) -> Result<Vec<SelfLinkRow>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {SELF_LINK_COLS} FROM self_links WHERE round_id = $1 ORDER BY created_at, code"
        );
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query(&stmt, &[&round_id])
            .await?
            .iter()
            .map(self_link_from)
            .collect()
    }

    async fn self_link(&self, code: &str) -> Result<Option<SelfLinkRow>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {SELF_LINK_COLS} FROM self_links WHERE code = $1");
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query_opt(&stmt, &[&code])
            .await?
            .as_ref()
            .map(self_link_from)
            .transpose()
    }

    async fn answer_self_link(
        &self,
        code: &str,
        response_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(ANSWER_SELF_LINK).await?;
        client.execute(&stmt, &[&response_id, &at, &code]).await?;
        Ok(())
    }

    async fn revoke_self_link(&self, code: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(REVOKE_SELF_LINK).await?;
        Ok(client.execute(&stmt, &[&at, &code]).await? > 0)
    }

    async fn create_open_link(&self, row: &OpenLinkRow) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(INSERT_OPEN_LINK).await?;
        client
            .execute(
                &stmt,
                &[
                    &row.token,
                    &row.round_id,
                    &row.agency_code,
                    &row.created_by,
                    &row.created_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn open_links(&self, round_id: &str) -> Result<Vec<OpenLinkRow>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {OPEN_LINK_COLS} FROM open_links WHERE round_id = $1 ORDER BY created_at, token"
        );
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query(&stmt, &[&round_id])
            .await?
            .iter()
            .map(open_link_from)
            .collect()
    }

    async fn open_link(&self, token: &str) -> Result<Option<OpenLinkRow>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {OPEN_LINK_COLS} FROM open_links WHERE token = $1");
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query_opt(&stmt, &[&token])
            .await?
            .as_ref()
            .map(open_link_from)
            .transpose()
    }

    async fn revoke_open_link(&self, token: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(REVOKE_OPEN_LINK).await?;
        Ok(client.execute(&stmt, &[&at, &token]).await? > 0)
    }

    async fn issue_open_device(
        &self,
        token_hash: &str,
        link_token: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(INSERT_OPEN_DEVICE).await?;
        client
            .execute(&stmt, &[&token_hash, &link_token, &at])
            .await?;
        Ok(())
    }

    async fn open_device_known(
        &self,
        token_hash: &str,
        link_token: &str,
    ) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(OPEN_DEVICE_EXISTS).await?;
        Ok(count(&client.query_one(&stmt, &[&token_hash, &link_token]).await?)? > 0)
    }

    async fn reserve_open_submission(&self, s: &OpenSubmission) -> Result<Reservation, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&OPEN_LIMITS_LOCK])
            .await?;
        let stmt = tx.prepare_cached(OPEN_SUBMISSION_EXISTS).await?;
        let again = count(&tx.query_one(&stmt, &[&s.response_id]).await?)? > 0;
        let stmt = tx.prepare_cached(OPEN_BY_DEVICE).await?;
        let device = count(
            &tx.query_one(&stmt, &[&s.device_hash, &s.device_since])
                .await?,
        )?;
        let stmt = tx.prepare_cached(OPEN_BY_ADDR).await?;
        let addr = count(&tx.query_one(&stmt, &[&s.addr_hash, &s.addr_since]).await?)?;
        let r = decide(s, again, device, addr);
        if r == Reservation::Reserved {
            let stmt = tx.prepare_cached(INSERT_OPEN_SUBMISSION).await?;
            tx.execute(
                &stmt,
                &[
                    &s.response_id,
                    &s.link_token,
                    &s.device_hash,
                    &s.addr_hash,
                    &s.at,
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(r)
    }

    async fn release_open_submission(&self, response_id: Uuid) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("DELETE FROM open_submissions WHERE response_id = $1")
            .await?;
        client.execute(&stmt, &[&response_id]).await?;
        Ok(())
    }

    async fn response_modes(
        &self,
        round_id: &str,
    ) -> Result<HashMap<Uuid, ResponseMode>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(RESPONSE_MODES).await?;
        let mut out = HashMap::new();
        for row in client.query(&stmt, &[&round_id]).await? {
            let id: Uuid = row.try_get(0)?;
            let mode: String = row.try_get(1)?;
            out.insert(id, ResponseMode::parse(&mode).unwrap_or(ResponseMode::Capi));
        }
        Ok(out)
    }

    async fn round_official_modes(&self, round_id: &str) -> Result<Option<String>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(ROUND_OFFICIAL_MODES).await?;
        Ok(match client.query_opt(&stmt, &[&round_id]).await? {
            Some(row) => Some(row.try_get(0)?),
            None => None,
        })
    }

    async fn set_round_official_modes(
        &self,
        round_id: &str,
        json: &str,
    ) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(SET_ROUND_OFFICIAL_MODES).await?;
        Ok(client.execute(&stmt, &[&json, &round_id]).await? > 0)
    }
}
