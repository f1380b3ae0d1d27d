//! [`FormStore`] on PostgreSQL (a child module of `postgres`, for its helpers).
use super::{AuditRow, PgStore, append_audit, bad};
use crate::storage::StoreError;
use crate::storage::forms::{
    DELETE_DRAFT, FORM_COLS, FormStatus, FormStore, FormVersionRow, INSERT_FORM, NewFormVersion,
    REPLACE_DRAFT, entity, status_action, status_sql,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

fn form_from(row: &Row) -> Result<FormVersionRow, StoreError> {
    let status: String = row.try_get(5)?;
    Ok(FormVersionRow {
        form_id: row.try_get(0)?,
        version: row.try_get(1)?,
        content_hash: row.try_get(2)?,
        definition: row.try_get(3)?,
        has_xlsx: row.try_get(4)?,
        status: FormStatus::parse(&status).ok_or_else(|| bad(format!("form status {status:?}")))?,
        title_vi: row.try_get(6)?,
        uploaded_by: row.try_get(7)?,
        uploaded_at: row.try_get(8)?,
        published_at: row.try_get(9)?,
        retired_at: row.try_get(10)?,
    })
}

#[async_trait]
impl FormStore for PgStore {
    async fn form_versions(&self) -> Result<Vec<FormVersionRow>, StoreError> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {FORM_COLS} FROM form_versions ORDER BY form_id, version");
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(form_from)
            .collect()
    }

    async fn form_version(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<FormVersionRow>, StoreError> {
        let client = self.pool.get().await?;
        let sql =
            format!("SELECT {FORM_COLS} FROM form_versions WHERE form_id = $1 AND version = $2");
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query_opt(&stmt, &[&form_id, &version])
            .await?
            .as_ref()
            .map(form_from)
            .transpose()
    }

    async fn form_xlsx(&self, form_id: &str, version: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT source_xlsx FROM form_versions WHERE form_id = $1 AND version = $2",
            )
            .await?;
        Ok(
            match client.query_opt(&stmt, &[&form_id, &version]).await? {
                Some(row) => row.try_get::<_, Option<Vec<u8>>>(0)?,
                None => None,
            },
        )
    }

    async fn insert_form_version(
        &self,
        new: &NewFormVersion,
        status: FormStatus,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let now = Utc::now();
        let published: Option<DateTime<Utc>> = (status != FormStatus::Draft).then_some(now);
        let stmt = tx.prepare_cached(INSERT_FORM).await?;
        let n = tx
            .execute(
                &stmt,
                &[
                    &new.form_id,
                    &new.version,
                    &new.content_hash,
                    &new.definition,
                    &new.source_xlsx,
                    &new.title_vi,
                    &new.uploaded_by,
                    &status.as_str(),
                    &now,
                    &published,
                ],
            )
            .await?;
        if n > 0 {
            let action = if new.uploaded_by.is_none() {
                "form.seeded"
            } else {
                "form.uploaded"
            };
            append_audit(
                &tx,
                vec![AuditRow::new(
                    new.uploaded_by,
                    action,
                    Some(entity(&new.form_id, &new.version)),
                )],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn replace_form_draft(&self, new: &NewFormVersion) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let now = Utc::now();
        let stmt = tx.prepare_cached(REPLACE_DRAFT).await?;
        let n = tx
            .execute(
                &stmt,
                &[
                    &new.content_hash,
                    &new.definition,
                    &new.source_xlsx,
                    &new.title_vi,
                    &new.uploaded_by,
                    &now,
                    &new.form_id,
                    &new.version,
                ],
            )
            .await?;
        if n > 0 {
            append_audit(
                &tx,
                vec![AuditRow::new(
                    new.uploaded_by,
                    "form.uploaded",
                    Some(entity(&new.form_id, &new.version)),
                )],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn set_form_status(
        &self,
        form_id: &str,
        version: &str,
        from: &[FormStatus],
        to: FormStatus,
        actor: Option<Uuid>,
    ) -> Result<bool, StoreError> {
        let sql = status_sql(from, to)
            .ok_or_else(|| StoreError::Backend("a form never goes back to draft".into()))?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let now = Utc::now();
        let stmt = tx.prepare_cached(&sql).await?;
        let n = tx.execute(&stmt, &[&now, &form_id, &version]).await?;
        if n > 0 {
            append_audit(
                &tx,
                vec![AuditRow::new(
                    actor,
                    status_action(to),
                    Some(entity(form_id, version)),
                )],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn delete_form_draft(
        &self,
        form_id: &str,
        version: &str,
        actor: Option<Uuid>,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(DELETE_DRAFT).await?;
        let n = tx.execute(&stmt, &[&form_id, &version]).await?;
        if n > 0 {
            append_audit(
                &tx,
                vec![AuditRow::new(
                    actor,
                    "form.draft_deleted",
                    Some(entity(form_id, version)),
                )],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }
}
