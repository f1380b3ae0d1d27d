//! Storage of what the published results (issue 11) need besides responses: the targets of
//! a round (migration `0009_round_targets`) and the catalogue codes (agency, field) of each
//! assignment, which group responses by agency and field. Both backends implement
//! [`ResultsStore`] in their own `*_results.rs` child module and run the SQL text below
//! unchanged. The rules live in `crate::results`.
use super::StoreError;
use async_trait::async_trait;
use sipas_core::targets::TargetSet;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Audit action of a target change (entity: the round id).
pub const TARGETS_SET: &str = "round.targets_set";

/// The catalogue codes of one assignment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentCodes {
    /// Agency code (agency catalogue), if any.
    pub agency_code: Option<String>,
    /// Field code (field catalogue), if any.
    pub field_code: Option<String>,
}

/// Targets and assignment codes of rounds.
#[async_trait]
pub trait ResultsStore: Send + Sync {
    /// The stored targets of a round (`None`: never set, the plan's defaults apply).
    async fn round_targets(&self, round_id: &str) -> Result<Option<TargetSet>, StoreError>;
    /// Replaces the targets of a round, audited [`TARGETS_SET`] with `actor`, in one
    /// transaction. The round must exist (a foreign key).
    async fn set_round_targets(
        &self,
        round_id: &str,
        targets: &TargetSet,
        actor: Uuid,
    ) -> Result<(), StoreError>;
    /// Agency and field code of every assignment of a round, by assignment id.
    async fn assignment_codes(
        &self,
        round_id: &str,
    ) -> Result<BTreeMap<Uuid, AssignmentCodes>, StoreError>;
}

/// The targets of a round: `$1` round id.
pub(crate) const SELECT_TARGETS: &str =
    "SELECT targets_json FROM round_targets WHERE round_id = $1";

/// Upserts the targets of a round: `$1` round id, `$2` JSON.
pub(crate) const UPSERT_TARGETS: &str = "INSERT INTO round_targets (round_id, targets_json) \
     VALUES ($1, $2) ON CONFLICT (round_id) DO UPDATE SET targets_json = excluded.targets_json";

/// Codes of the assignments of a round: `$1` round id.
pub(crate) const SELECT_ASSIGNMENT_CODES: &str =
    "SELECT id, agency_code, field_code FROM assignments WHERE round_id = $1";

/// The stored JSON of a target set.
pub(crate) fn targets_json(t: &TargetSet) -> Result<String, StoreError> {
    serde_json::to_string(t).map_err(|e| StoreError::Backend(format!("targets JSON: {e}")))
}

/// Reads stored target JSON.
pub(crate) fn parse_targets(s: &str) -> Result<TargetSet, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("stored targets: {e}")))
}
