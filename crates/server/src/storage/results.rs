//! Storage of what the published results (issue 11) need besides responses: the targets of
//! a round (migration `0009_round_targets`) and the catalogue codes (agency, field) of each
//! assignment, which group responses by agency and field. Both backends implement
//! [`ResultsStore`] in their own `*_results.rs` child module and run the SQL text below
//! unchanged. The rules live in `crate::results`.
use super::StoreError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sipas_core::response::Response;
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
    /// The counted responses of a round (those of [`super::ServerStore::report_responses`])
    /// one at a time from one snapshot, sorted by unit code then response id (byte order),
    /// each with its mode and the codes of its assignment (issue 14: memory bounded by
    /// [`ROWS_BUFFER`], not by the round). The rows are read by a task of their own; an error
    /// ends the stream with an `Err`. Dropping the receiver stops the reading.
    async fn counted_rows(&self, round_id: &str) -> Result<CountedRows, StoreError>;
}

/// One counted response as [`ResultsStore::counted_rows`] gives it.
#[derive(Debug, Clone)]
pub struct CountedRow {
    /// The latest counted revision.
    pub response: Response,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// Its response mode as stored (`responses.mode`).
    pub mode: String,
    /// The codes of its assignment (none when it has none, or the assignment is unknown).
    pub codes: AssignmentCodes,
}

/// The receiving end of [`ResultsStore::counted_rows`].
pub type CountedRows = tokio::sync::mpsc::Receiver<Result<CountedRow, StoreError>>;

/// Rows read ahead of their consumer at most (the channel of [`CountedRows`]; PostgreSQL
/// also fetches this many rows per round trip of its cursor).
pub const ROWS_BUFFER: usize = 256;

/// The counted responses of round `$1` with their reception time, mode and assignment codes,
/// by unit code then id: the selection of `sql::COUNTED_RESPONSES`. `{collate}` is the
/// byte-order collation of the backend (empty on SQLite, where text compares as bytes).
macro_rules! counted_rows_sql {
    ($collate:literal) => {
        concat!(
            "SELECT r.body_json, r.received_at, x.mode, a.agency_code, a.field_code \
             FROM current_responses r \
             JOIN responses x ON x.id = r.id AND x.revision = r.revision \
             LEFT JOIN assignments a ON a.id = x.assignment_id \
             WHERE r.round_id = $1 AND COALESCE(r.decision, '') <> 'rejected' \
             ORDER BY x.unit_code",
            $collate,
            ", r.id"
        )
    };
}

/// [`counted_rows_sql`] on SQLite.
pub(crate) const SELECT_COUNTED_ROWS_SQLITE: &str = counted_rows_sql!("");

/// [`counted_rows_sql`] on PostgreSQL (`uuid` ids already compare as bytes).
pub(crate) const SELECT_COUNTED_ROWS_POSTGRES: &str = counted_rows_sql!(" COLLATE \"C\"");

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
