//! [`ResultsStore`] on PostgreSQL (a child module of `postgres`, for its helpers).
use super::{AuditRow, PgStore, append_audit};
use crate::storage::StoreError;
use crate::storage::results::{
    AssignmentCodes, CountedRow, CountedRows, ROWS_BUFFER, ResultsStore, SELECT_ASSIGNMENT_CODES,
    SELECT_COUNTED_ROWS_POSTGRES, SELECT_TARGETS, TARGETS_SET, UPSERT_TARGETS, parse_targets,
    targets_json,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sipas_core::response::Response;
use sipas_core::targets::TargetSet;
use std::collections::BTreeMap;
use tokio::sync::mpsc::Sender;
use tokio_postgres::types::Json;
use uuid::Uuid;

#[async_trait]
impl ResultsStore for PgStore {
    async fn round_targets(&self, round_id: &str) -> Result<Option<TargetSet>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(SELECT_TARGETS).await?;
        match client.query_opt(&stmt, &[&round_id]).await? {
            None => Ok(None),
            Some(row) => {
                let json: String = row.try_get(0)?;
                parse_targets(&json).map(Some)
            }
        }
    }

    async fn set_round_targets(
        &self,
        round_id: &str,
        targets: &TargetSet,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let json = targets_json(targets)?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(UPSERT_TARGETS).await?;
        tx.execute(&stmt, &[&round_id, &json]).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                TARGETS_SET,
                Some(round_id.to_owned()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn assignment_codes(
        &self,
        round_id: &str,
    ) -> Result<BTreeMap<Uuid, AssignmentCodes>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(SELECT_ASSIGNMENT_CODES).await?;
        let mut out = BTreeMap::new();
        for row in client.query(&stmt, &[&round_id]).await? {
            out.insert(
                row.try_get::<_, Uuid>(0)?,
                AssignmentCodes {
                    agency_code: row.try_get(1)?,
                    field_code: row.try_get(2)?,
                },
            );
        }
        Ok(out)
    }

    async fn counted_rows(&self, round_id: &str) -> Result<CountedRows, StoreError> {
        let (tx_rows, rx) = tokio::sync::mpsc::channel(ROWS_BUFFER);
        let (store, round_id) = (self.clone(), round_id.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store.send_counted_rows(&round_id, &tx_rows).await {
                let _ = tx_rows.send(Err(e)).await;
            }
        });
        Ok(rx)
    }
}

impl PgStore {
    /// Sends the rows of [`ResultsStore::counted_rows`] through `out`: a cursor (portal) in a
    /// read-only snapshot transaction, [`ROWS_BUFFER`] rows per fetch.
    async fn send_counted_rows(
        &self,
        round_id: &str,
        out: &Sender<Result<CountedRow, StoreError>>,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let stmt = tx.prepare_cached(SELECT_COUNTED_ROWS_POSTGRES).await?;
        let portal = tx.bind(&stmt, &[&round_id]).await?;
        let page = i32::try_from(ROWS_BUFFER).unwrap_or(i32::MAX);
        loop {
            let rows = tx.query_portal(&portal, page).await?;
            let last = rows.len() < ROWS_BUFFER;
            for r in rows {
                let row = CountedRow {
                    response: r.try_get::<_, Json<Response>>(0)?.0,
                    received_at: r.try_get::<_, DateTime<Utc>>(1)?,
                    mode: r.try_get(2)?,
                    codes: AssignmentCodes {
                        agency_code: r.try_get(3)?,
                        field_code: r.try_get(4)?,
                    },
                };
                if out.send(Ok(row)).await.is_err() {
                    return Ok(()); // the receiver is gone
                }
            }
            if last {
                break;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
