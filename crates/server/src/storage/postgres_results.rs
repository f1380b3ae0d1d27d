//! [`ResultsStore`] on PostgreSQL (a child module of `postgres`, for its helpers).
use super::{AuditRow, PgStore, append_audit};
use crate::storage::StoreError;
use crate::storage::results::{
    AssignmentCodes, CountedRow, CountedRows, ResultsStore, SELECT_ASSIGNMENT_CODES,
    SELECT_COUNTED_ROWS_POSTGRES, SELECT_TARGETS, TARGETS_SET, UPSERT_TARGETS, parse_targets,
    targets_json,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sipas_core::response::Response;
use sipas_core::targets::TargetSet;
use std::collections::BTreeMap;
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
        Ok(
            self.stream_rows(SELECT_COUNTED_ROWS_POSTGRES, round_id, |r| {
                Ok(CountedRow {
                    response: r.try_get::<_, Json<Response>>(0)?.0,
                    received_at: r.try_get::<_, DateTime<Utc>>(1)?,
                    mode: r.try_get(2)?,
                    codes: AssignmentCodes {
                        agency_code: r.try_get(3)?,
                        field_code: r.try_get(4)?,
                    },
                })
            }),
        )
    }
}
