//! Server storage: one trait, [`ServerStore`], with an embedded SQLite backend (default, one
//! file, zero configuration) and a PostgreSQL backend (national scale). Both run the same
//! test suite. Migrations live in `migrations/{sqlite,postgres}/` and are never edited.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sipas_core::response::Response;
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    AckStatus, Assignment, AssignmentStatus, Contact, ReviewDecision, Round, UserInfo,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

mod codec;
pub mod migrations;
pub mod postgres;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Opens the store named by `database`: a `postgres://` or `postgresql://` URL connects to
/// PostgreSQL, anything else is the path of a SQLite file (created if missing). Migrations
/// are applied before this returns.
pub async fn open_store(database: &str) -> Result<Arc<dyn ServerStore>, StoreError> {
    if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(database).await?))
    } else {
        let path = database.to_owned();
        let store = tokio::task::spawn_blocking(move || SqliteStore::open(path))
            .await
            .map_err(|e| StoreError::Backend(format!("opening the SQLite store failed: {e}")))??;
        Ok(Arc::new(store))
    }
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Something does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// Kind of thing.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// A unique value already exists (username, round id, …).
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// Backend failure (SQLite / PostgreSQL / pool); details are in the message.
    #[error("database error: {0}")]
    Backend(String),
}

/// A user with its role and, for supervisors and monitors, the unit codes it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// Login name (unique).
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Password hash (PHC string) for dashboard users; devices use tokens instead.
    pub password_hash: Option<String>,
}

/// A sampled respondent to import into a round (one row of the sample frame).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    /// Assignment id to create (UUIDv7).
    pub id: Uuid,
    /// Administrative unit code.
    pub unit_code: String,
    /// Procedure.
    pub procedure: String,
    /// Agency.
    pub agency: Option<String>,
    /// Contact data (stored apart from answers).
    pub contact: Contact,
}

/// Outcome of storing one uploaded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Accepted, Duplicate or Conflict (validation happens before storage).
    pub status: AckStatus,
}

/// Per-surveyor progress counts for a round.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Progress {
    /// Assignments.
    pub assigned: u64,
    /// Collected (a response received).
    pub collected: u64,
    /// Non-response outcomes.
    pub non_response: u64,
    /// Responses stored on the server.
    pub synced: u64,
}

/// One audit-log entry (append-only).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    /// Sequence number.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who (user id), if known.
    pub actor: Option<Uuid>,
    /// What, e.g. `response.accepted`.
    pub action: String,
    /// Entity id concerned.
    pub entity_id: Option<String>,
}

/// The server's storage. Every write happens in one transaction together with its audit entry.
///
/// Pull cursors: assignments and review decisions share one global, only-growing change
/// sequence. The cursor returned by [`ServerStore::assignments_since`] and
/// [`ServerStore::decisions_since`] is a high-water mark: every change numbered up to it is
/// included in (or older than) that answer. A caller serving both kinds with one cursor sends
/// the smaller of the two back ([`ServerStore::pull_since`] does that). A cursor larger than
/// anything the server handed out (e.g. after a server reset) is treated as 0.
#[async_trait]
pub trait ServerStore: Send + Sync + 'static {
    /// Backend name, `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    // --- users, devices, sessions -------------------------------------------------------
    /// Creates a user.
    async fn create_user(&self, user: NewUser) -> Result<UserInfo, StoreError>;
    /// Finds a user with its password hash by username.
    async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(UserInfo, Option<String>)>, StoreError>;
    /// Finds a user by id.
    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserInfo>, StoreError>;
    /// Stores a one-time enrolment code (hashed) for a user's device.
    async fn create_enrolment_code(
        &self,
        code_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
        issued_by: Uuid,
    ) -> Result<(), StoreError>;
    /// Redeems a code: if unused and unexpired at `now`, marks it used, registers the device
    /// with its token hash and returns the user; otherwise `None`. Atomic (a code works once).
    async fn redeem_enrolment_code(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserInfo>, StoreError>;
    /// Stores a session / device token hash for a user (login).
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The user (and device id, for device tokens) behind a token hash, if valid at `now`.
    async fn user_by_token_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserInfo, Option<Uuid>)>, StoreError>;

    // --- rounds, sample frame, assignments ----------------------------------------------
    /// Creates a round.
    async fn create_round(&self, round: &Round, actor: Uuid) -> Result<(), StoreError>;
    /// A round by id.
    async fn round(&self, id: &str) -> Result<Option<Round>, StoreError>;
    /// All rounds.
    async fn rounds(&self) -> Result<Vec<Round>, StoreError>;
    /// Imports sample rows into a round (unassigned). Returns the number inserted: ids already
    /// stored are skipped, so a re-import is harmless. `NotFound` if the round does not exist.
    async fn import_sample(
        &self,
        round_id: &str,
        rows: &[SampleRow],
        actor: Uuid,
    ) -> Result<u64, StoreError>;
    /// Assigns assignments to a surveyor (bumps their change cursor, also when re-assigning to
    /// the same surveyor). Returns the number updated; unknown ids are skipped. `NotFound` if
    /// the surveyor does not exist.
    async fn assign(
        &self,
        assignment_ids: &[Uuid],
        surveyor: Uuid,
        actor: Uuid,
    ) -> Result<u64, StoreError>;
    /// Assignment by id with its surveyor.
    async fn assignment(&self, id: Uuid) -> Result<Option<(Assignment, Option<Uuid>)>, StoreError>;
    /// Sets an assignment's status (non-response outcomes reported by the device).
    async fn set_assignment_status(
        &self,
        id: Uuid,
        status: AssignmentStatus,
        actor: Uuid,
    ) -> Result<(), StoreError>;
    /// Assignments of a surveyor changed after `cursor`, with contacts, and the new cursor.
    async fn assignments_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Assignment>, i64), StoreError>;
    /// Review decisions on the surveyor's responses recorded after `cursor`, and the new cursor.
    async fn decisions_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<ReviewDecision>, i64), StoreError>;
    /// Assignments and decisions of a surveyor after `cursor`, with one safe next cursor
    /// (the smaller of the two high-water marks, so nothing written in between is skipped).
    async fn pull_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Assignment>, Vec<ReviewDecision>, i64), StoreError> {
        let (assignments, a_cursor) = self.assignments_since(surveyor, cursor).await?;
        let (decisions, d_cursor) = self.decisions_since(surveyor, cursor).await?;
        Ok((assignments, decisions, a_cursor.min(d_cursor)))
    }

    // --- responses ----------------------------------------------------------------------
    /// Stores validated responses in one transaction: per record Accepted (new),
    /// Duplicate (same id+revision+hash) or Conflict (same id+revision, other hash; nothing
    /// changed). Accepted records mark their assignment `collected`.
    async fn ingest(
        &self,
        records: &[(Response, String)],
        submitted_by: Uuid,
        device_id: Option<Uuid>,
    ) -> Result<Vec<IngestOutcome>, StoreError>;
    /// The latest revision of every response of a round (for the index), oldest id first,
    /// leaving out responses whose latest decision on that revision is `rejected` (they are
    /// out until resubmitted as a new revision).
    async fn responses_for_round(&self, round_id: &str) -> Result<Vec<Response>, StoreError>;
    /// A response revision with the surveyor who submitted it.
    async fn response(
        &self,
        id: Uuid,
        revision: u32,
    ) -> Result<Option<(Response, Uuid)>, StoreError>;
    /// Number of stored response revisions (all rounds).
    async fn response_count(&self) -> Result<u64, StoreError>;
    /// Records a review decision (bumps the surveyor's decision cursor). The decision goes to
    /// the user who submitted that revision. `NotFound` if the revision is not stored.
    async fn record_decision(
        &self,
        decision: &ReviewDecision,
        reviewer: Uuid,
    ) -> Result<(), StoreError>;
    /// Progress of a round per surveyor (by user id).
    async fn progress(&self, round_id: &str) -> Result<BTreeMap<Uuid, Progress>, StoreError>;

    // --- audit --------------------------------------------------------------------------
    /// Appends an audit entry outside other writes (e.g. login).
    async fn audit(
        &self,
        actor: Option<Uuid>,
        action: &str,
        entity_id: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Audit entries after `since_seq`, oldest first, at most `limit`.
    async fn audit_entries(
        &self,
        since_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}
