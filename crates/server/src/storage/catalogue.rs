//! Storage of the catalogues (issue 10): administrative units, agencies, fields and
//! procedures (migration `0007_catalogues`). Both backends implement [`CatalogueStore`] in
//! their own `*_catalogue.rs` child module and run the SQL text below unchanged.
//!
//! Imports merge: a row whose key exists is updated, a new key is inserted, nothing is
//! deleted (assignments keep referring to old codes). Checking the rows is the caller's job
//! ([`crate::catalogue`]); storing is one transaction.
use super::StoreError;
use async_trait::async_trait;
use sipas_core::catalogue::{Agency, Catalogues, Field, Procedure};
use sipas_core::units::{AdminUnit, UnitLevel, UnitTree};
use uuid::Uuid;

/// Rows to store in one catalogue.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogueImport {
    /// Unit records, keyed by (code, valid_from).
    Units(Vec<AdminUnit>),
    /// Agencies, keyed by code.
    Agencies(Vec<Agency>),
    /// Fields, keyed by code.
    Fields(Vec<Field>),
    /// Procedures, keyed by code (their fields must be stored already or in the same import).
    Procedures(Vec<Procedure>),
}

impl CatalogueImport {
    /// Catalogue name, as in the audit entry `catalogue.imported` (its entity id).
    pub fn name(&self) -> &'static str {
        match self {
            CatalogueImport::Units(_) => "units",
            CatalogueImport::Agencies(_) => "agencies",
            CatalogueImport::Fields(_) => "fields",
            CatalogueImport::Procedures(_) => "procedures",
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            CatalogueImport::Units(v) => v.len(),
            CatalogueImport::Agencies(v) => v.len(),
            CatalogueImport::Fields(v) => v.len(),
            CatalogueImport::Procedures(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The catalogues of a server.
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// Every unit record (all validity periods), by code then `valid_from`.
    async fn catalogue_units(&self) -> Result<Vec<AdminUnit>, StoreError>;
    /// Every agency, by code.
    async fn agencies(&self) -> Result<Vec<Agency>, StoreError>;
    /// Every field, by code.
    async fn fields(&self) -> Result<Vec<Field>, StoreError>;
    /// Every procedure, by code.
    async fn procedures(&self) -> Result<Vec<Procedure>, StoreError>;
    /// Stores the rows of each import in order, in one transaction (all or nothing), with one
    /// audit entry `catalogue.imported` per import. Returns the number of rows written.
    async fn import_catalogues(
        &self,
        imports: &[CatalogueImport],
        actor: Option<Uuid>,
    ) -> Result<u64, StoreError>;

    /// The unit tree (every validity period) from the unit catalogue.
    async fn unit_tree(&self) -> Result<UnitTree, StoreError> {
        UnitTree::from_units(self.catalogue_units().await?)
            .map_err(|e| StoreError::Backend(format!("the unit catalogue is inconsistent: {e}")))
    }

    /// Every catalogue, for look-ups.
    async fn catalogues(&self) -> Result<Catalogues, StoreError> {
        Ok(Catalogues::new(
            self.unit_tree().await?,
            self.agencies().await?,
            self.fields().await?,
            self.procedures().await?,
        ))
    }
}

/// Columns of a unit record, in the order the row readers expect.
pub(crate) const UNIT_COLS: &str =
    "code, name, level, parent_code, valid_from, valid_to, replaced_by_json";
/// Columns of an agency, in the order the row readers expect.
pub(crate) const AGENCY_COLS: &str = "code, name, kind, unit_code, valid_from, valid_to";

/// Upserts a unit record: the 7 [`UNIT_COLS`] in order.
pub(crate) const UPSERT_UNIT: &str = "INSERT INTO catalogue_units \
     (code, name, level, parent_code, valid_from, valid_to, replaced_by_json) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code, valid_from) DO UPDATE SET \
     name = excluded.name, level = excluded.level, parent_code = excluded.parent_code, \
     valid_to = excluded.valid_to, replaced_by_json = excluded.replaced_by_json";

/// Upserts an agency: the 6 [`AGENCY_COLS`] in order.
pub(crate) const UPSERT_AGENCY: &str = "INSERT INTO agencies \
     (code, name, kind, unit_code, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
     unit_code = excluded.unit_code, valid_from = excluded.valid_from, \
     valid_to = excluded.valid_to";

/// Upserts a field: `$1` code, `$2` name.
pub(crate) const UPSERT_FIELD: &str = "INSERT INTO fields (code, name) VALUES ($1, $2) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name";

/// Upserts a procedure: `$1` code, `$2` name, `$3` field, `$4` national code.
pub(crate) const UPSERT_PROCEDURE: &str = "INSERT INTO procedures \
     (code, name, field_code, national_code) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, field_code = excluded.field_code, \
     national_code = excluded.national_code";

/// Stored level name.
pub(crate) fn level_str(level: UnitLevel) -> &'static str {
    match level {
        UnitLevel::Province => "province",
        UnitLevel::District => "district",
        UnitLevel::Commune => "commune",
        UnitLevel::Village => "village",
    }
}

/// Parses a stored level name.
pub(crate) fn level_parse(s: &str) -> Option<UnitLevel> {
    [
        UnitLevel::Province,
        UnitLevel::District,
        UnitLevel::Commune,
        UnitLevel::Village,
    ]
    .into_iter()
    .find(|l| level_str(*l) == s)
}
