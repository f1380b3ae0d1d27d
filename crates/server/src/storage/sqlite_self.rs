//! [`SelfStore`] on SQLite (a child module of `sqlite`, for its transaction helpers).
use super::{SqliteStore, col_ts, col_uuid, ts};
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
use rusqlite::{OptionalExtension, Row, params};
use sipas_core::mode::ResponseMode;
use std::collections::HashMap;
use uuid::Uuid;

fn opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(_) => col_ts(row, idx).map(Some),
    }
}

fn self_link_from(row: &Row<'_>) -> rusqlite::Result<SelfLinkRow> {
    Ok(SelfLinkRow {
        code: row.get(0)?,
        round_id: row.get(1)?,
        assignment_id: col_uuid(row, 2)?,
        created_by: col_uuid(row, 3)?,
        created_at: col_ts(row, 4)?,
        response_id: match row.get::<_, Option<String>>(5)? {
            None => None,
            Some(_) => Some(col_uuid(row, 5)?),
        },
        answered_at: opt_ts(row, 6)?,
        revoked_at: opt_ts(row, 7)?,
    })
}

fn open_link_from(row: &Row<'_>) -> rusqlite::Result<OpenLinkRow> {
    Ok(OpenLinkRow {
        token: row.get(0)?,
        round_id: row.get(1)?,
        agency_code: row.get(2)?,
        created_by: col_uuid(row, 3)?,
        created_at: col_ts(row, 4)?,
        revoked_at: opt_ts(row, 5)?,
    })
}

#[async_trait]
impl SelfStore for SqliteStore {
    async fn create_self_links(
        &self,
        round_id: &str,
        links: &[(Uuid, String)],
        created_by: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<SelfLinkRow>, StoreError> {
        let (round_id, links) = (round_id.to_owned(), links.to_vec());
        self.write(move |tx| {
            let mut out = Vec::with_capacity(links.len());
            let sql = format!("SELECT {SELF_LINK_COLS} FROM self_links WHERE assignment_id = ?1");
            for (aid, code) in &links {
                tx.prepare_cached(INSERT_SELF_LINK)?.execute(params![
                    code,
                    round_id,
                    aid.to_string(),
                    created_by.to_string(),
                    ts(&at)
                ])?;
                out.push(
                    tx.prepare_cached(&sql)?
                        .query_row([aid.to_string()], self_link_from)?,
                );
            }
            Ok(out)
        })
        .await
    }

    async fn self_links(&self, round_id: &str) -> Result<Vec<SelfLinkRow>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let sql = format!(
                "SELECT {SELF_LINK_COLS} FROM self_links WHERE round_id = ?1 ORDER BY created_at, code"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([round_id], self_link_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn self_link(&self, code: &str) -> Result<Option<SelfLinkRow>, StoreError> {
        let code = code.to_owned();
        self.read(move |tx| {
            let sql = format!("SELECT {SELF_LINK_COLS} FROM self_links WHERE code = ?1");
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([code], self_link_from)
                .optional()?)
        })
        .await
    }

    async fn answer_self_link(
        &self,
        code: &str,
        response_id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let code = code.to_owned();
        self.write(move |tx| {
            tx.prepare_cached(ANSWER_SELF_LINK)?.execute(params![
                response_id.to_string(),
                ts(&at),
                code
            ])?;
            Ok(())
        })
        .await
    }

    async fn revoke_self_link(&self, code: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let code = code.to_owned();
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(REVOKE_SELF_LINK)?
                .execute(params![ts(&at), code])?
                > 0)
        })
        .await
    }

    async fn create_open_link(&self, row: &OpenLinkRow) -> Result<(), StoreError> {
        let row = row.clone();
        self.write(move |tx| {
            tx.prepare_cached(INSERT_OPEN_LINK)?.execute(params![
                row.token,
                row.round_id,
                row.agency_code,
                row.created_by.to_string(),
                ts(&row.created_at)
            ])?;
            Ok(())
        })
        .await
    }

    async fn open_links(&self, round_id: &str) -> Result<Vec<OpenLinkRow>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let sql = format!(
                "SELECT {OPEN_LINK_COLS} FROM open_links WHERE round_id = ?1 ORDER BY created_at, token"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([round_id], open_link_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn open_link(&self, token: &str) -> Result<Option<OpenLinkRow>, StoreError> {
        let token = token.to_owned();
        self.read(move |tx| {
            let sql = format!("SELECT {OPEN_LINK_COLS} FROM open_links WHERE token = ?1");
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([token], open_link_from)
                .optional()?)
        })
        .await
    }

    async fn revoke_open_link(&self, token: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let token = token.to_owned();
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(REVOKE_OPEN_LINK)?
                .execute(params![ts(&at), token])?
                > 0)
        })
        .await
    }

    async fn issue_open_device(
        &self,
        token_hash: &str,
        link_token: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (h, l) = (token_hash.to_owned(), link_token.to_owned());
        self.write(move |tx| {
            tx.prepare_cached(INSERT_OPEN_DEVICE)?
                .execute(params![h, l, ts(&at)])?;
            Ok(())
        })
        .await
    }

    async fn open_device_known(
        &self,
        token_hash: &str,
        link_token: &str,
    ) -> Result<bool, StoreError> {
        let (h, l) = (token_hash.to_owned(), link_token.to_owned());
        self.read(move |tx| {
            let n: i64 = tx
                .prepare_cached(OPEN_DEVICE_EXISTS)?
                .query_row(params![h, l], |r| r.get(0))?;
            Ok(n > 0)
        })
        .await
    }

    async fn reserve_open_submission(&self, s: &OpenSubmission) -> Result<Reservation, StoreError> {
        let s = s.clone();
        self.write(move |tx| {
            let count = |sql: &str, a: String, b: Option<String>| -> Result<u64, StoreError> {
                let mut stmt = tx.prepare_cached(sql)?;
                let n: i64 = match b {
                    Some(b) => stmt.query_row(params![a, b], |r| r.get(0))?,
                    None => stmt.query_row(params![a], |r| r.get(0))?,
                };
                Ok(u64::try_from(n).unwrap_or(0))
            };
            let again = count(OPEN_SUBMISSION_EXISTS, s.response_id.to_string(), None)? > 0;
            let device = count(
                OPEN_BY_DEVICE,
                s.device_hash.clone(),
                Some(ts(&s.device_since)),
            )?;
            let addr = count(OPEN_BY_ADDR, s.addr_hash.clone(), Some(ts(&s.addr_since)))?;
            let r = decide(&s, again, device, addr);
            if r == Reservation::Reserved {
                tx.prepare_cached(INSERT_OPEN_SUBMISSION)?.execute(params![
                    s.response_id.to_string(),
                    s.link_token,
                    s.device_hash,
                    s.addr_hash,
                    ts(&s.at)
                ])?;
            }
            Ok(r)
        })
        .await
    }

    async fn release_open_submission(&self, response_id: Uuid) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.prepare_cached("DELETE FROM open_submissions WHERE response_id = ?1")?
                .execute([response_id.to_string()])?;
            Ok(())
        })
        .await
    }

    async fn response_modes(
        &self,
        round_id: &str,
    ) -> Result<HashMap<Uuid, ResponseMode>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(RESPONSE_MODES)?;
            let rows = stmt.query_map([round_id], |r| {
                Ok((col_uuid(r, 0)?, r.get::<_, String>(1)?))
            })?;
            let mut out = HashMap::new();
            for row in rows {
                let (id, mode) = row?;
                out.insert(id, ResponseMode::parse(&mode).unwrap_or(ResponseMode::Capi));
            }
            Ok(out)
        })
        .await
    }

    async fn round_official_modes(&self, round_id: &str) -> Result<Option<String>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            Ok(tx
                .prepare_cached(ROUND_OFFICIAL_MODES)?
                .query_row([round_id], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn set_round_official_modes(
        &self,
        round_id: &str,
        json: &str,
    ) -> Result<bool, StoreError> {
        let (round_id, json) = (round_id.to_owned(), json.to_owned());
        self.write(move |tx| {
            Ok(tx
                .prepare_cached(SET_ROUND_OFFICIAL_MODES)?
                .execute(params![json, round_id])?
                > 0)
        })
        .await
    }
}
