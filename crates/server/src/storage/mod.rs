//! Server storage: one trait, [`ServerStore`], with an embedded SQLite backend (default, one
//! file, zero configuration) and a PostgreSQL backend (national scale). Both run the same
//! test suite. Migrations live in `migrations/{sqlite,postgres}/` and are never edited.
use crate::ingest::{Checked, IngestBatch, QuarantineEntry, Resolved, Source, Voided};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sipas_core::answer::Answers;
use sipas_core::quality::QualityFlag;
use sipas_core::questionnaire::FormKey;
use sipas_core::recheck::ReCheckResult;
use sipas_core::response::{Origin, Response};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::RecordAck;
use sipas_protocol::wire::{
    AckStatus, Assignment, AssignmentStatus, Contact, Decision, FieldRound, ReviewDecision, Round,
    RoundUnit, UserInfo,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

pub mod catalogue;
mod codec;
pub mod forms;
pub mod migrations;
pub mod postgres;
pub mod results;
pub mod self_store;
pub mod shared;
mod sql;
pub mod sqlite;

pub use catalogue::{CatalogueImport, CatalogueStore};
pub use forms::{FormStatus, FormStore, FormVersionRow, NewFormVersion};
pub use postgres::PgStore;
pub use results::{AssignmentCodes, ResultsStore};
pub use self_store::SelfStore;
pub use shared::{SharedStore, SharedVersions};
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
    /// An assignment that already has a response cannot be moved to another surveyor.
    #[error("assignment {0} already has a response")]
    AssignmentHasResponse(Uuid),
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
    /// Who creates the user (the audit entry's actor); `None` for the bootstrap admin and
    /// the demo seed.
    pub created_by: Option<Uuid>,
    /// The user's scope (no units: the whole server).
    pub scope: ScopeCodes,
}

// --- scope and tenancy (issue 10) -------------------------------------------------------------

/// A user's scope as stored: unit and agency codes. The rules that read it live in
/// [`crate::scope`]; storage only keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ScopeCodes {
    /// Units (each with everything below it); empty: the whole server.
    #[serde(default)]
    pub units: Vec<String>,
    /// Agencies; empty: every agency.
    #[serde(default)]
    pub agencies: Vec<String>,
}

/// What a round has besides [`Round`]: covered units, agencies, targets, closing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoundPlan {
    /// Covered units, sorted.
    pub units: Vec<String>,
    /// The round's agencies, sorted (empty: every agency).
    pub agencies: Vec<String>,
    /// Target sample size per agency code.
    pub targets: BTreeMap<String, u32>,
    /// When the round was closed (`None`: not closed).
    pub closed_at: Option<DateTime<Utc>>,
}

/// A user with its scope and access state (`GET /users`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The user.
    pub user: UserInfo,
    /// Its scope.
    pub scope: ScopeCodes,
    /// Whether it is disabled.
    pub disabled: bool,
}

/// An assignment as listed for planning (no contact data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRow {
    /// Assignment id.
    pub id: Uuid,
    /// Administrative unit code.
    pub unit_code: String,
    /// Unit name from the sample frame, if any.
    pub unit_name: Option<String>,
    /// Agency code (catalogue), if known.
    pub agency_code: Option<String>,
    /// Agency name from the sample frame, if any.
    pub agency: Option<String>,
    /// Procedure.
    pub procedure: String,
    /// Field status.
    pub status: AssignmentStatus,
    /// Assigned surveyor.
    pub surveyor_id: Option<Uuid>,
    /// `sample`, `replacement` or `walk_in`.
    pub origin: String,
    /// Field name (from the field catalogue), if any.
    pub field_name: Option<String>,
}

/// The receiving end of [`ServerStore::round_assignment_rows`].
pub type AssignmentRows = tokio::sync::mpsc::Receiver<Result<AssignmentRow, StoreError>>;

/// Calls `each` with every assignment row of round `round_id`, by id, one at a time (what a
/// handler keeps of them is up to it: counts, one page, ids).
pub async fn each_assignment_row(
    store: &dyn ServerStore,
    round_id: &str,
    mut each: impl FnMut(AssignmentRow),
) -> Result<(), StoreError> {
    let mut rows = store.round_assignment_rows(round_id).await?;
    while let Some(row) = rows.recv().await {
        each(row?);
    }
    Ok(())
}

/// Changes to a user (`PATCH /users/{id}`); `None` leaves a part as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserChange {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New scope.
    pub scope: Option<ScopeCodes>,
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
    /// Name of the unit, if the frame gives one (shown on devices instead of the code).
    pub unit_name: Option<String>,
    // --- catalogue codes (issue 10, h-cat); names go in unit_name / agency / procedure ---
    /// Agency code (agency catalogue).
    pub agency_code: Option<String>,
    /// Field code (field catalogue).
    pub field_code: Option<String>,
    /// Field name (from the field catalogue).
    pub field_name: Option<String>,
    /// Procedure code (procedure catalogue).
    pub procedure_code: Option<String>,
}

/// Outcome of storing one uploaded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Accepted, Duplicate or Conflict (validation happens before storage).
    pub status: AckStatus,
}

/// Per-surveyor progress counts for a round. `assigned`, `collected` and `non_response`
/// count sampled assignments only; `synced` counts every current response, of which
/// `replacement` and `walk_in` are the interviews outside the sample.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Progress {
    /// Sampled assignments.
    pub assigned: u64,
    /// Collected (a response received).
    pub collected: u64,
    /// Non-response outcomes.
    pub non_response: u64,
    /// Responses stored on the server (all origins).
    pub synced: u64,
    /// Of `synced`: replacements from the reserve list.
    pub replacement: u64,
    /// Of `synced`: walk-ins at the one-stop shop.
    pub walk_in: u64,
}

impl Progress {
    /// Adds `n` current responses of `origin` (a stored origin code) to `synced` and its split.
    pub fn add_synced(&mut self, origin: &str, n: u64) {
        self.synced += n;
        match Origin::from_code(origin) {
            Some(Origin::Replacement) => self.replacement += n,
            Some(Origin::WalkIn) => self.walk_in += n,
            _ => {}
        }
    }
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

/// An enrolled device with its user and hand-over signing key.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    /// Device id.
    pub id: Uuid,
    /// The user the device acts for.
    pub user: UserInfo,
    /// Ed25519 public key (standard base64) given at enrolment, if any.
    pub public_key: Option<String>,
}

/// The latest revision of a response with its review state (the review queue).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    /// The latest revision.
    pub response: Response,
    /// Who submitted that revision.
    pub surveyor_id: Uuid,
    /// When the server stored it.
    pub received_at: DateTime<Utc>,
    /// The latest decision on that revision (`None`: pending).
    pub decision: Option<Decision>,
}

/// Which responses of the review queue a page holds, by the decision on their latest revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// No decision yet.
    Pending,
    /// Latest decision approved.
    Approved,
    /// Latest decision rejected.
    Rejected,
    /// Pending or approved (what counts in the index and may be spot-checked).
    NotRejected,
    /// Every current response.
    All,
}

impl ReviewState {
    /// The value the review page queries compare with.
    pub fn code(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Approved => "approved",
            ReviewState::Rejected => "rejected",
            ReviewState::NotRejected => "not_rejected",
            ReviewState::All => "all",
        }
    }

    /// Whether a response whose latest revision has `decision` is in this state (what the
    /// queries select; used by tests and in-memory filters).
    pub fn admits(self, decision: Option<Decision>) -> bool {
        match self {
            ReviewState::Pending => decision.is_none(),
            ReviewState::Approved => decision == Some(Decision::Approved),
            ReviewState::Rejected => decision == Some(Decision::Rejected),
            ReviewState::NotRejected => decision != Some(Decision::Rejected),
            ReviewState::All => true,
        }
    }
}

/// A stretch of the review queue to read ([`ServerStore::review_stretch`]): keyset paging by
/// response id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPage {
    /// Which responses are handed over whole.
    pub state: ReviewState,
    /// The last response id of the stretch before (`None`: from the start).
    pub after: Option<Uuid>,
    /// How many current responses to look at (at least 1).
    pub limit: u32,
}

/// Which responses of a review stretch are handed out whole (their body read): the caller's
/// scope ([`crate::scope::RoundFilter::admits_codes`]) asked with the unit a response is bound
/// to and its assignment's agency code (`None`: no agency). The others only count as looked
/// at, so a narrow scope costs no body of the rest of the round.
pub type Admit = std::sync::Arc<dyn Fn(&str, Option<&str>) -> bool + Send + Sync>;

/// What one stretch of the review queue held.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReviewStretch {
    /// The responses in the state asked that the caller admits, oldest id first.
    pub items: Vec<ReviewItem>,
    /// The last response id looked at, in the state or not (the next stretch's `after`).
    pub last: Option<Uuid>,
    /// How many current responses were looked at (fewer than the limit: the round is over).
    pub looked: u32,
}

impl ReviewStretch {
    /// Adds a response looked at: its id and, when it is in the state asked, the item.
    pub(crate) fn push(&mut self, id: Uuid, item: Option<ReviewItem>) {
        self.last = Some(id);
        self.looked += 1;
        self.items.extend(item);
    }
}

/// A recorded review decision with the reviewer.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DecisionRecord {
    /// The decision as the device receives it.
    #[serde(flatten)]
    pub decision: ReviewDecision,
    /// The supervisor who decided.
    pub reviewer_id: Uuid,
}

/// A spot-check (phúc tra) task to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSpotCheckTask {
    /// Task id (UUIDv7).
    pub id: Uuid,
    /// Round.
    pub round_id: String,
    /// Response drawn (at most one task per response).
    pub response_id: Uuid,
    /// Its latest revision when drawn.
    pub revision: u32,
    /// Surveyor who submitted it.
    pub surveyor_id: Uuid,
    /// Its assignment (where the contact is).
    pub assignment_id: Option<Uuid>,
    /// Administrative unit code.
    pub unit_code: String,
    /// Whether it had quality flags when drawn.
    pub flagged: bool,
    /// Those flags.
    pub quality_flags: Vec<QualityFlag>,
    /// Item codes the monitor re-asks.
    pub key_items: Vec<String>,
    /// Seed of the draw.
    pub seed: u64,
}

/// A stored spot-check task, with the comparison result once the monitor reported.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotCheckTask {
    /// What was created.
    pub task: NewSpotCheckTask,
    /// Monitor who visits (`None`: not assigned yet).
    pub monitor_id: Option<Uuid>,
    /// When drawn.
    pub created_at: DateTime<Utc>,
    /// The comparison of the monitor's finding with the response (`Some`: done, final).
    pub result: Option<ReCheckResult>,
}

/// A monitor's task with what the visit needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorTaskRow {
    /// The task.
    pub task: SpotCheckTask,
    /// Questionnaire of the task's round.
    pub form: FormKey,
    /// Administrative procedure from the sample frame (if the assignment exists).
    pub procedure: Option<String>,
    /// The respondent's contact (if the assignment has one).
    pub contact: Option<Contact>,
}

/// A monitor's finding on a re-check visit (written once, never changed).
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    /// Task.
    pub task_id: Uuid,
    /// Monitor who visited (must be the task's monitor).
    pub monitor_id: Uuid,
    /// Whether the monitor met the respondent.
    pub visit_happened: bool,
    /// Re-asked key answers.
    pub answers: Answers,
    /// The monitor's note.
    pub note: Option<String>,
    /// The comparison with the original response.
    pub result: ReCheckResult,
    /// When submitted.
    pub submitted_at: DateTime<Utc>,
}

/// Outcome of [`ServerStore::record_finding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingOutcome {
    /// Stored now.
    Recorded,
    /// The task already has findings; nothing changed.
    AlreadyFinal,
    /// The task is not (or no longer) assigned to this monitor; nothing changed.
    NotAssigned,
}

/// An enrolled device as listed for supervisors and admins (`GET /devices`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceRecord {
    /// Device id.
    pub id: Uuid,
    /// Name given at enrolment.
    pub name: String,
    /// The user the device acts for.
    pub user_id: Uuid,
    /// That user's login name.
    pub username: String,
    /// When the device enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it last pulled or uploaded (to the minute; `None`: never).
    pub last_sync_at: Option<DateTime<Utc>>,
    /// When its token was revoked (`None`: the token works).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What [`ServerStore::revoke_token`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedToken {
    /// A dashboard session (deleted).
    Session,
    /// A device token (the device is marked revoked).
    Device(Uuid),
    /// Nothing: no working session or device has that token.
    None,
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
pub trait ServerStore:
    CatalogueStore + FormStore + ResultsStore + SharedStore + SelfStore + Send + Sync + 'static
{
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
    ) -> Result<Option<UserInfo>, StoreError> {
        self.redeem_enrolment_code_with_key(
            code_hash,
            device_id,
            device_name,
            token_hash,
            None,
            now,
        )
        .await
    }
    /// [`ServerStore::redeem_enrolment_code`], also keeping the device's hand-over signing
    /// key (Ed25519 public key, standard base64), if given.
    async fn redeem_enrolment_code_with_key(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        public_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<UserInfo>, StoreError>;
    /// An enrolled device with its user and signing key.
    async fn device(&self, id: Uuid) -> Result<Option<DeviceInfo>, StoreError>;
    /// Users, of one role or all, sorted by username.
    async fn users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, StoreError>;
    /// Stores a session / device token hash for a user (login).
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The user (and device id, for device tokens) behind a token hash, if valid at `now`:
    /// an unexpired session or an unrevoked device, of a user who is not disabled.
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
    /// The units of a round (those of its sample frame), by code, with the frame's name
    /// (the code when it gives none).
    async fn round_units(&self, round_id: &str) -> Result<Vec<RoundUnit>, StoreError>;
    /// Rounds that take interviews outside the sample, each with its units sorted by name
    /// (what devices receive in the pull).
    async fn field_rounds(&self) -> Result<Vec<FieldRound>, StoreError> {
        let mut out = Vec::new();
        for round in self.rounds().await? {
            if !round.outside_sample.any() {
                continue;
            }
            let mut units = self.round_units(&round.id).await?;
            units.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.code.cmp(&b.code)));
            out.push(FieldRound { round, units });
        }
        Ok(out)
    }
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
    /// the surveyor does not exist. Moving an assignment away from another surveyor records a
    /// withdrawal for that surveyor's next pull ([`ServerStore::withdrawn_since`]); moving
    /// one that already has a response is `AssignmentHasResponse` and changes nothing.
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
    /// Stores a batch in one transaction: loads the [`IngestContext`] (locking the batch's
    /// response and assignment ids in sorted order where the backend has row locks), asks
    /// [`crate::ingest::plan`] for the acknowledgements and operations, and executes them.
    /// Backends make no decision of their own. (Shared, not borrowed: the SQLite writer runs
    /// on a blocking thread, and copying a batch of 250 responses for it cost a few per cent
    /// of ingest.)
    async fn ingest_batch(&self, batch: Arc<IngestBatch>) -> Result<Vec<RecordAck>, StoreError>;
    /// [`ServerStore::ingest_batch`] of records that passed the stateless checks, from
    /// `submitted_by` (tests and tools).
    async fn ingest(
        &self,
        records: &[(Response, String)],
        submitted_by: Uuid,
        device_id: Option<Uuid>,
    ) -> Result<Vec<IngestOutcome>, StoreError> {
        let batch = IngestBatch {
            items: records
                .iter()
                .map(|(response, hash)| Checked::Valid {
                    response: response.clone(),
                    hash: hash.clone(),
                })
                .collect(),
            source: Source {
                surveyor: submitted_by,
                device: device_id,
                handover_importer: None,
                mode: sipas_core::mode::ResponseMode::Capi,
            },
            received_at: Utc::now(),
            override_by: None,
        };
        Ok(self
            .ingest_batch(Arc::new(batch))
            .await?
            .into_iter()
            .map(|a| IngestOutcome { status: a.status })
            .collect())
    }
    /// Quarantined records, newest first: of one round or all, open ones only or all.
    async fn quarantine_entries(
        &self,
        round_id: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<QuarantineEntry>, StoreError>;
    /// One quarantine entry.
    async fn quarantine_entry(&self, id: Uuid) -> Result<Option<QuarantineEntry>, StoreError>;
    /// Accepts a quarantined record (already re-checked statelessly by the caller) through
    /// the ingest rules with the owner and clock checks waived ([`crate::ingest::acceptance_batch`]);
    /// resolves the entry when the record is accepted or already stored. One transaction.
    async fn accept_quarantined(
        &self,
        id: Uuid,
        batch: &IngestBatch,
        note: Option<&str>,
    ) -> Result<Resolved, StoreError>;
    /// Dismisses a quarantined record (stays kept, marked dismissed). One transaction.
    async fn dismiss_quarantined(
        &self,
        id: Uuid,
        supervisor: Uuid,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Resolved, StoreError>;
    /// Voids a response: it leaves the index, review queue and progress; its assignment goes
    /// back to `not_visited` (new change cursor) so a re-interview under a new id is taken.
    /// `NotFound` for an unknown response.
    async fn void_response(
        &self,
        id: Uuid,
        supervisor: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Voided, StoreError>;
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
    /// Progress of a round per administrative unit code: `assigned` counts the unit's
    /// assignments given to a surveyor, `collected` / `non_response` its assignments by status,
    /// `synced` the distinct responses stored for the round and unit. Units with sampled rows
    /// but nothing assigned appear with zeros.
    async fn progress_by_unit(
        &self,
        round_id: &str,
    ) -> Result<BTreeMap<String, Progress>, StoreError>;

    // --- review -------------------------------------------------------------------------
    /// One stretch of the review queue: the next `page.limit` current responses of a round
    /// after `page.after` (none: from the start), oldest id first; those whose latest
    /// decision is in `page.state` and that `admit` admits are handed over with their latest
    /// revision, submitter, reception time and decision. The work is bounded by the limit,
    /// whatever the state and the scope.
    async fn review_stretch(
        &self,
        round_id: &str,
        page: &ReviewPage,
        admit: Admit,
    ) -> Result<ReviewStretch, StoreError>;
    /// Every decision recorded on a response revision, oldest first.
    async fn decisions_for(
        &self,
        response_id: Uuid,
        revision: u32,
    ) -> Result<Vec<DecisionRecord>, StoreError>;
    /// [`ServerStore::responses_for_round`] from one snapshot, with the latest reception time
    /// among them (`None` when there is none): the "data as of" stamp of reports.
    async fn report_responses(
        &self,
        round_id: &str,
    ) -> Result<(Vec<Response>, Option<DateTime<Utc>>), StoreError>;

    /// The answer counts of a round (issue 14, [`crate::answer_counts`]) with the detail
    /// asked, and the latest reception among its counted responses, from one snapshot.
    /// The rows are streamed into a [`crate::answer_counts::CountsReader`], never held
    /// all at once as read.
    async fn round_counts(
        &self,
        round_id: &str,
        detail: crate::answer_counts::Detail,
    ) -> Result<crate::answer_counts::RoundCounts, StoreError>;

    // --- spot checks (phúc tra) ---------------------------------------------------------
    /// Creates tasks in one transaction, skipping responses that already have a task (any
    /// round). Returns the number created; each has an audit entry.
    async fn create_spot_check_tasks(
        &self,
        tasks: &[NewSpotCheckTask],
        actor: Uuid,
    ) -> Result<u64, StoreError>;
    /// Tasks of a round, by task id.
    async fn spot_check_tasks(&self, round_id: &str) -> Result<Vec<SpotCheckTask>, StoreError>;
    /// A task by id.
    async fn spot_check_task(&self, id: Uuid) -> Result<Option<SpotCheckTask>, StoreError>;
    /// The task on a response, if any.
    async fn spot_check_task_for_response(
        &self,
        response_id: Uuid,
    ) -> Result<Option<SpotCheckTask>, StoreError>;
    /// Gives a task to a monitor. `Ok(false)` (nothing changed) when the task already has
    /// findings; `NotFound` for an unknown task or user.
    async fn assign_spot_check(
        &self,
        task_id: Uuid,
        monitor_id: Uuid,
        actor: Uuid,
    ) -> Result<bool, StoreError>;
    /// The tasks of a monitor with their round's form, procedure and contact, by task id.
    async fn monitor_tasks(&self, monitor_id: Uuid) -> Result<Vec<MonitorTaskRow>, StoreError>;
    /// Stores a monitor's finding with its audit entry, if the task is assigned to that
    /// monitor and has none yet. Findings can never be changed or deleted (database triggers).
    async fn record_finding(&self, finding: &NewFinding) -> Result<FindingOutcome, StoreError>;

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

    // --- withdrawals (reassignment) -------------------------------------------------------
    /// Assignments taken away from `surveyor` after `cursor` (moved to someone else) and not
    /// given back since, oldest first, with the high-water cursor (as
    /// [`ServerStore::assignments_since`]).
    async fn withdrawn_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Uuid>, i64), StoreError>;

    // --- revocation -----------------------------------------------------------------------
    /// Logout: deletes the session with `token_hash`, or marks the device holding it revoked
    /// at `now`; audited as `session.logout` (entity: the user) or `device.revoked` (entity:
    /// the device), with `actor` as actor.
    async fn revoke_token(
        &self,
        token_hash: &str,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<RevokedToken, StoreError>;
    /// Disables (`disabled`) or enables a user, audited `user.disabled` / `user.enabled`.
    /// Disabling deletes every session of the user; its device tokens stop working while it
    /// is disabled (see [`ServerStore::user_by_token_hash`]). Returns whether the state
    /// changed (no audit entry when it did not); `NotFound` for an unknown user.
    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled: bool,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Whether a user is disabled (`None`: no such user).
    async fn user_disabled(&self, user_id: Uuid) -> Result<Option<bool>, StoreError>;
    /// Enrolled devices, of one user or of all, by enrolment time then id.
    async fn devices(&self, user_id: Option<Uuid>) -> Result<Vec<DeviceRecord>, StoreError>;
    /// Revokes a device token at `now` (audited `device.revoked`); a device already revoked
    /// keeps its first revocation time and gets no second entry. `NotFound` for an unknown
    /// device. Returns the device as stored afterwards.
    async fn revoke_device(
        &self,
        device_id: Uuid,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<DeviceRecord, StoreError>;
    /// Records that a device pulled or uploaded at `at` (not audited).
    async fn touch_device(&self, device_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;

    // --- scope and tenancy (issue 10) ---------------------------------------------------------
    /// Every user with its scope and disabled flag, of one role or all, sorted by username.
    async fn user_records(&self, role: Option<Role>) -> Result<Vec<UserRecord>, StoreError>;
    /// The scope of a user (empty for an unknown user).
    async fn user_scope(&self, user_id: Uuid) -> Result<ScopeCodes, StoreError>;
    /// Changes a user's display name, role and / or scope (audited `user.updated`);
    /// `NotFound` for an unknown user. Returns the user as stored afterwards.
    async fn update_user(
        &self,
        user_id: Uuid,
        change: &UserChange,
        actor: Uuid,
    ) -> Result<UserInfo, StoreError>;
    /// Sets a user's password hash and ends its sessions (audited `user.password_reset`);
    /// `NotFound` for an unknown user.
    async fn set_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        actor: Uuid,
    ) -> Result<(), StoreError>;
    /// Creates a round with its plan in one transaction (audited `round.created`).
    async fn create_planned_round(
        &self,
        round: &Round,
        plan: &RoundPlan,
        actor: Uuid,
    ) -> Result<(), StoreError>;
    /// Replaces a round's name, dates, outside-sample policy and plan (not its form nor its
    /// closing), audited `round.updated`; `NotFound` for an unknown round.
    async fn update_round(
        &self,
        round: &Round,
        plan: &RoundPlan,
        actor: Uuid,
    ) -> Result<(), StoreError>;
    /// The plans of every round, by round id (rounds without one have the default).
    async fn round_plans(&self) -> Result<BTreeMap<String, RoundPlan>, StoreError>;
    /// The plan of one round (the default for an unknown round).
    async fn round_plan(&self, round_id: &str) -> Result<RoundPlan, StoreError> {
        Ok(self
            .round_plans()
            .await?
            .remove(round_id)
            .unwrap_or_default())
    }
    /// Closes a round at `now` (audited `round.closed`). `Ok(false)`: it was closed already,
    /// nothing changed; `NotFound` for an unknown round.
    async fn close_round(
        &self,
        round_id: &str,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Number of responses (revisions, quarantine aside) stored for a round.
    async fn round_response_count(&self, round_id: &str) -> Result<u64, StoreError>;
    /// Every assignment of a round without contact data, by id, handed over one at a time
    /// from one snapshot (issue 14: memory bounded by [`results::ROWS_BUFFER`], not by the
    /// round). The rows are read by a task of their own; an error ends the stream with an
    /// `Err`; dropping the receiver stops the reading. See [`each_assignment_row`].
    async fn round_assignment_rows(&self, round_id: &str) -> Result<AssignmentRows, StoreError>;
    /// The assignment rows of round `round_id` whose ids are in `ids` (at most a request's
    /// worth), by id; an id that is not an assignment of that round is absent. Each id is
    /// looked up by its key: the cost follows `ids`, not the round.
    async fn round_assignment_rows_by_id(
        &self,
        round_id: &str,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, AssignmentRow>, StoreError>;
}
