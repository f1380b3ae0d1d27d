//! [`CatalogueStore`] on SQLite (a child module of `sqlite`, for its transaction helpers).
use super::{SqliteStore, audit_in, bad, col_date, ts};
use crate::storage::StoreError;
use crate::storage::catalogue::{
    AGENCY_COLS, CatalogueImport, CatalogueStore, UNIT_COLS, UPSERT_AGENCY, UPSERT_FIELD,
    UPSERT_PROCEDURE, UPSERT_UNIT, level_parse, level_str,
};
use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use rusqlite::{Row, params};
use sipas_core::catalogue::{Agency, AgencyKind, Field, Procedure};
use sipas_core::units::AdminUnit;
use uuid::Uuid;

fn col_opt_date(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<NaiveDate>> {
    match row.get::<_, Option<String>>(idx)? {
        None => Ok(None),
        Some(_) => col_date(row, idx).map(Some),
    }
}

fn unit_from(row: &Row<'_>) -> rusqlite::Result<AdminUnit> {
    let level: String = row.get(2)?;
    let replaced: String = row.get(6)?;
    Ok(AdminUnit {
        code: row.get(0)?,
        name: row.get(1)?,
        level: level_parse(&level).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unit level {level:?}").into(),
            )
        })?,
        parent_code: row.get(3)?,
        valid_from: col_date(row, 4)?,
        valid_to: col_opt_date(row, 5)?,
        replaced_by: serde_json::from_str(&replaced).map_err(|e| bad(6, e))?,
    })
}

fn agency_from(row: &Row<'_>) -> rusqlite::Result<Agency> {
    let kind: String = row.get(2)?;
    Ok(Agency {
        code: row.get(0)?,
        name: row.get(1)?,
        kind: AgencyKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("agency kind {kind:?}").into(),
            )
        })?,
        unit_code: row.get(3)?,
        valid_from: col_date(row, 4)?,
        valid_to: col_opt_date(row, 5)?,
    })
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[async_trait]
impl CatalogueStore for SqliteStore {
    async fn catalogue_units(&self) -> Result<Vec<AdminUnit>, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {UNIT_COLS} FROM catalogue_units ORDER BY code, valid_from");
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([], unit_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        self.read(|tx| {
            let sql = format!("SELECT {AGENCY_COLS} FROM agencies ORDER BY code");
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([], agency_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn fields(&self) -> Result<Vec<Field>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached("SELECT code, name FROM fields ORDER BY code")?;
            let rows = stmt.query_map([], |r| {
                Ok(Field {
                    code: r.get(0)?,
                    name: r.get(1)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn procedures(&self) -> Result<Vec<Procedure>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT code, name, field_code, national_code FROM procedures ORDER BY code",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Procedure {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    field_code: r.get(2)?,
                    national_code: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn import_catalogues(
        &self,
        imports: &[CatalogueImport],
        actor: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        let imports = imports.to_vec();
        self.write(move |tx| {
            let mut written = 0u64;
            let now = ts(&Utc::now());
            for import in &imports {
                match import {
                    CatalogueImport::Units(units) => {
                        let mut stmt = tx.prepare_cached(UPSERT_UNIT)?;
                        for u in units {
                            let replaced = serde_json::to_string(&u.replaced_by)
                                .map_err(|e| StoreError::Backend(e.to_string()))?;
                            stmt.execute(params![
                                u.code,
                                u.name,
                                level_str(u.level),
                                u.parent_code,
                                day(u.valid_from),
                                u.valid_to.map(day),
                                replaced
                            ])?;
                        }
                        super::shared::bump(tx, "units")?;
                    }
                    CatalogueImport::Agencies(agencies) => {
                        let mut stmt = tx.prepare_cached(UPSERT_AGENCY)?;
                        for a in agencies {
                            stmt.execute(params![
                                a.code,
                                a.name,
                                a.kind.code(),
                                a.unit_code,
                                day(a.valid_from),
                                a.valid_to.map(day)
                            ])?;
                        }
                    }
                    CatalogueImport::Fields(fields) => {
                        let mut stmt = tx.prepare_cached(UPSERT_FIELD)?;
                        for f in fields {
                            stmt.execute(params![f.code, f.name])?;
                        }
                    }
                    CatalogueImport::Procedures(procedures) => {
                        let mut stmt = tx.prepare_cached(UPSERT_PROCEDURE)?;
                        for p in procedures {
                            stmt.execute(params![p.code, p.name, p.field_code, p.national_code])?;
                        }
                    }
                }
                written += import.len() as u64;
                audit_in(tx, &now, actor, "catalogue.imported", Some(import.name()))?;
            }
            Ok(written)
        })
        .await
    }
}
