//! [`CatalogueStore`] on PostgreSQL (a child module of `postgres`, for its helpers).
use super::{AuditRow, PgStore, append_audit, bad};
use crate::storage::StoreError;
use crate::storage::catalogue::{
    AGENCY_COLS, CatalogueImport, CatalogueStore, UNIT_COLS, UPSERT_AGENCY, UPSERT_FIELD,
    UPSERT_PROCEDURE, UPSERT_UNIT, level_parse, level_str,
};
use async_trait::async_trait;
use sipas_core::catalogue::{Agency, AgencyKind, Field, Procedure};
use sipas_core::units::AdminUnit;
use tokio_postgres::Row;
use uuid::Uuid;

fn unit_from(row: &Row) -> Result<AdminUnit, StoreError> {
    let level: String = row.try_get(2)?;
    let replaced: String = row.try_get(6)?;
    Ok(AdminUnit {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        level: level_parse(&level).ok_or_else(|| bad(format!("unit level {level:?}")))?,
        parent_code: row.try_get(3)?,
        valid_from: row.try_get(4)?,
        valid_to: row.try_get(5)?,
        replaced_by: serde_json::from_str(&replaced)
            .map_err(|e| bad(format!("replaced_by_json: {e}")))?,
    })
}

fn agency_from(row: &Row) -> Result<Agency, StoreError> {
    let kind: String = row.try_get(2)?;
    Ok(Agency {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        kind: AgencyKind::parse(&kind).ok_or_else(|| bad(format!("agency kind {kind:?}")))?,
        unit_code: row.try_get(3)?,
        valid_from: row.try_get(4)?,
        valid_to: row.try_get(5)?,
    })
}

impl PgStore {
    async fn select<T>(
        &self,
        sql: &str,
        from: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(sql).await?;
        client.query(&stmt, &[]).await?.iter().map(from).collect()
    }
}

#[async_trait]
impl CatalogueStore for PgStore {
    async fn catalogue_units(&self) -> Result<Vec<AdminUnit>, StoreError> {
        self.select(
            &format!("SELECT {UNIT_COLS} FROM catalogue_units ORDER BY code, valid_from"),
            unit_from,
        )
        .await
    }

    async fn agencies(&self) -> Result<Vec<Agency>, StoreError> {
        self.select(
            &format!("SELECT {AGENCY_COLS} FROM agencies ORDER BY code"),
            agency_from,
        )
        .await
    }

    async fn fields(&self) -> Result<Vec<Field>, StoreError> {
        self.select("SELECT code, name FROM fields ORDER BY code", |r| {
            Ok(Field {
                code: r.try_get(0)?,
                name: r.try_get(1)?,
            })
        })
        .await
    }

    async fn procedures(&self) -> Result<Vec<Procedure>, StoreError> {
        self.select(
            "SELECT code, name, field_code, national_code FROM procedures ORDER BY code",
            |r| {
                Ok(Procedure {
                    code: r.try_get(0)?,
                    name: r.try_get(1)?,
                    field_code: r.try_get(2)?,
                    national_code: r.try_get(3)?,
                })
            },
        )
        .await
    }

    async fn import_catalogues(
        &self,
        imports: &[CatalogueImport],
        actor: Option<Uuid>,
    ) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut written = 0u64;
        let mut audit = Vec::new();
        for import in imports {
            match import {
                CatalogueImport::Units(units) => {
                    let stmt = tx.prepare_cached(UPSERT_UNIT).await?;
                    for u in units {
                        let replaced = serde_json::to_string(&u.replaced_by)
                            .map_err(|e| StoreError::Backend(e.to_string()))?;
                        tx.execute(
                            &stmt,
                            &[
                                &u.code,
                                &u.name,
                                &level_str(u.level),
                                &u.parent_code,
                                &u.valid_from,
                                &u.valid_to,
                                &replaced,
                            ],
                        )
                        .await?;
                    }
                    super::shared::bump(&tx, "units").await?;
                }
                CatalogueImport::Agencies(agencies) => {
                    let stmt = tx.prepare_cached(UPSERT_AGENCY).await?;
                    for a in agencies {
                        tx.execute(
                            &stmt,
                            &[
                                &a.code,
                                &a.name,
                                &a.kind.code(),
                                &a.unit_code,
                                &a.valid_from,
                                &a.valid_to,
                            ],
                        )
                        .await?;
                    }
                }
                CatalogueImport::Fields(fields) => {
                    let stmt = tx.prepare_cached(UPSERT_FIELD).await?;
                    for f in fields {
                        tx.execute(&stmt, &[&f.code, &f.name]).await?;
                    }
                }
                CatalogueImport::Procedures(procedures) => {
                    let stmt = tx.prepare_cached(UPSERT_PROCEDURE).await?;
                    for p in procedures {
                        tx.execute(&stmt, &[&p.code, &p.name, &p.field_code, &p.national_code])
                            .await?;
                    }
                }
            }
            written += import.len() as u64;
            audit.push(AuditRow::new(
                actor,
                "catalogue.imported",
                Some(import.name().to_owned()),
            ));
        }
        append_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(written)
    }
}
