//! [`FormStore`] on SQLite (a child module of `sqlite`, for its transaction helpers).
use super::{SqliteStore, audit_in, bad, col_ts, ts};
use crate::storage::StoreError;
use crate::storage::forms::{
    DELETE_DRAFT, FORM_COLS, FormStatus, FormStore, FormVersionRow, INSERT_FORM, NewFormVersion,
    REPLACE_DRAFT, entity, status_action, status_sql,
};
use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

fn form_from(row: &Row<'_>) -> rusqlite::Result<FormVersionRow> {
    let status: String = row.get(5)?;
    let uploaded_by: Option<String> = row.get(7)?;
    Ok(FormVersionRow {
        form_id: row.get(0)?,
        version: row.get(1)?,
        content_hash: row.get(2)?,
        definition: row.get(3)?,
        has_xlsx: row.get(4)?,
        status: FormStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("form status {status:?}").into(),
            )
        })?,
        title_vi: row.get(6)?,
        uploaded_by: uploaded_by
            .map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| bad(7, e))?,
        uploaded_at: col_ts(row, 8)?,
        published_at: match row.get::<_, Option<String>>(9)? {
            None => None,
            Some(_) => Some(col_ts(row, 9)?),
        },
        retired_at: match row.get::<_, Option<String>>(10)? {
            None => None,
            Some(_) => Some(col_ts(row, 10)?),
        },
    })
}

#[async_trait]
impl FormStore for SqliteStore {
    async fn form_versions(&self) -> Result<Vec<FormVersionRow>, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {FORM_COLS} FROM form_versions ORDER BY form_id, version");
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([], form_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn form_version(
        &self,
        form_id: &str,
        version: &str,
    ) -> Result<Option<FormVersionRow>, StoreError> {
        let (form_id, version) = (form_id.to_owned(), version.to_owned());
        self.read(move |tx| {
            let sql = format!(
                "SELECT {FORM_COLS} FROM form_versions WHERE form_id = ?1 AND version = ?2"
            );
            Ok(tx
                .prepare_cached(&sql)?
                .query_row(params![form_id, version], form_from)
                .optional()?)
        })
        .await
    }

    async fn form_xlsx(&self, form_id: &str, version: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (form_id, version) = (form_id.to_owned(), version.to_owned());
        self.read(move |tx| {
            Ok(tx
                .prepare_cached(
                    "SELECT source_xlsx FROM form_versions WHERE form_id = ?1 AND version = ?2",
                )?
                .query_row(params![form_id, version], |r| {
                    r.get::<_, Option<Vec<u8>>>(0)
                })
                .optional()?
                .flatten())
        })
        .await
    }

    async fn insert_form_version(
        &self,
        new: &NewFormVersion,
        status: FormStatus,
    ) -> Result<bool, StoreError> {
        let new = new.clone();
        self.write(move |tx| {
            let now = ts(&Utc::now());
            let published = (status != FormStatus::Draft).then(|| now.clone());
            let n = tx.prepare_cached(INSERT_FORM)?.execute(params![
                new.form_id,
                new.version,
                new.content_hash,
                new.definition,
                new.source_xlsx,
                new.title_vi,
                new.uploaded_by.map(|u| u.to_string()),
                status.as_str(),
                now,
                published
            ])?;
            if n > 0 {
                let action = if new.uploaded_by.is_none() {
                    "form.seeded"
                } else {
                    "form.uploaded"
                };
                let id = entity(&new.form_id, &new.version);
                audit_in(tx, &now, new.uploaded_by, action, Some(&id))?;
            }
            Ok(n > 0)
        })
        .await
    }

    async fn replace_form_draft(&self, new: &NewFormVersion) -> Result<bool, StoreError> {
        let new = new.clone();
        self.write(move |tx| {
            let now = ts(&Utc::now());
            let n = tx.prepare_cached(REPLACE_DRAFT)?.execute(params![
                new.content_hash,
                new.definition,
                new.source_xlsx,
                new.title_vi,
                new.uploaded_by.map(|u| u.to_string()),
                now,
                new.form_id,
                new.version
            ])?;
            if n > 0 {
                let id = entity(&new.form_id, &new.version);
                audit_in(tx, &now, new.uploaded_by, "form.uploaded", Some(&id))?;
            }
            Ok(n > 0)
        })
        .await
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
        let (form_id, version) = (form_id.to_owned(), version.to_owned());
        self.write(move |tx| {
            let now = ts(&Utc::now());
            let n = tx
                .prepare_cached(&sql)?
                .execute(params![now, form_id, version])?;
            if n > 0 {
                let id = entity(&form_id, &version);
                audit_in(tx, &now, actor, status_action(to), Some(&id))?;
            }
            Ok(n > 0)
        })
        .await
    }

    async fn delete_form_draft(
        &self,
        form_id: &str,
        version: &str,
        actor: Option<Uuid>,
    ) -> Result<bool, StoreError> {
        let (form_id, version) = (form_id.to_owned(), version.to_owned());
        self.write(move |tx| {
            let now = ts(&Utc::now());
            let n = tx
                .prepare_cached(DELETE_DRAFT)?
                .execute(params![form_id, version])?;
            if n > 0 {
                let id = entity(&form_id, &version);
                audit_in(tx, &now, actor, "form.draft_deleted", Some(&id))?;
            }
            Ok(n > 0)
        })
        .await
    }
}
