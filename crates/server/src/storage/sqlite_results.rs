//! [`ResultsStore`] on SQLite (a child module of `sqlite`, for its transaction helpers).
use super::{SqliteStore, audit_in, col_json, col_ts, col_uuid, ts};
use crate::storage::StoreError;
use crate::storage::results::{
    AssignmentCodes, CountedRow, CountedRows, ResultsStore, SELECT_ASSIGNMENT_CODES,
    SELECT_COUNTED_ROWS_SQLITE, SELECT_TARGETS, TARGETS_SET, UPSERT_TARGETS, parse_targets,
    targets_json,
};
use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{OptionalExtension, params};
use sipas_core::targets::TargetSet;
use std::collections::BTreeMap;
use uuid::Uuid;

#[async_trait]
impl ResultsStore for SqliteStore {
    async fn round_targets(&self, round_id: &str) -> Result<Option<TargetSet>, StoreError> {
        let round_id = round_id.to_owned();
        let json: Option<String> = self
            .read(move |tx| {
                Ok(tx
                    .prepare_cached(SELECT_TARGETS)?
                    .query_row([round_id], |r| r.get(0))
                    .optional()?)
            })
            .await?;
        json.as_deref().map(parse_targets).transpose()
    }

    async fn set_round_targets(
        &self,
        round_id: &str,
        targets: &TargetSet,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let round_id = round_id.to_owned();
        let json = targets_json(targets)?;
        self.write(move |tx| {
            tx.prepare_cached(UPSERT_TARGETS)?
                .execute(params![round_id, json])?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                TARGETS_SET,
                Some(&round_id),
            )?;
            Ok(())
        })
        .await
    }

    async fn assignment_codes(
        &self,
        round_id: &str,
    ) -> Result<BTreeMap<Uuid, AssignmentCodes>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(SELECT_ASSIGNMENT_CODES)?;
            let rows = stmt.query_map([round_id], |r| {
                Ok((
                    col_uuid(r, 0)?,
                    AssignmentCodes {
                        agency_code: r.get(1)?,
                        field_code: r.get(2)?,
                    },
                ))
            })?;
            Ok(rows.collect::<Result<BTreeMap<_, _>, _>>()?)
        })
        .await
    }

    async fn counted_rows(&self, round_id: &str) -> Result<CountedRows, StoreError> {
        Ok(self.stream_rows(SELECT_COUNTED_ROWS_SQLITE, round_id, |r| {
            Ok(CountedRow {
                response: col_json(r, 0)?,
                received_at: col_ts(r, 1)?,
                mode: r.get(2)?,
                codes: AssignmentCodes {
                    agency_code: r.get(3)?,
                    field_code: r.get(4)?,
                },
            })
        }))
    }
}
