//! PostgreSQL backend (deadpool-postgres pool, no TLS to the database). Same semantics as the
//! SQLite backend. Every write transaction that hands out a change-sequence value or appends to
//! the audit log first locks the single `change_seq` row, as late as possible, and holds it to
//! commit: those values therefore become visible in the order they were handed out, so a pull
//! cursor or an audit reader never skips a row that commits late.
use super::codec::{
    decision_parse, decision_str, reason_code_parse, reason_code_str, revision_entity,
};
use super::migrations::{self, POSTGRES, POSTGRES_BOOTSTRAP};
use super::results::ROWS_BUFFER;
use super::sql;
use super::{AssignmentRow, AssignmentRows, RoundPlan, ScopeCodes, UserChange, UserRecord};
use super::{
    AuditEntry, DecisionRecord, DeviceInfo, DeviceRecord, FindingOutcome, MonitorTaskRow,
    NewFinding, NewSpotCheckTask, NewUser, Progress, ReviewItem, ReviewPage, ReviewStretch,
    RevokedToken, SampleRow, ServerStore, SpotCheckTask, StoreError,
};
use crate::ingest::{
    self, Binding, Checked, IngestBatch, IngestContext, Op, QuarantineEntry, Resolved,
    StoredAssignment, StoredResponse, UnitQuota, Voided,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Transaction,
};
use sipas_core::quality::QualityFlag;
use sipas_core::questionnaire::FormKey;
use sipas_core::recheck::ReCheckResult;
use sipas_core::response::{Origin, Response};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    Assignment, AssignmentStatus, Contact, Decision, OutsideSample, RecordAck, ReviewDecision,
    Round, RoundUnit, UserInfo,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Json;
use tokio_postgres::{IsolationLevel, NoTls, Row};
use uuid::Uuid;

#[path = "postgres_catalogue.rs"]
mod catalogue;
// --- published forms (issue 12, h-formpub) ---
#[path = "postgres_forms.rs"]
mod forms;
// --- published results (issue 11, h-results) ---
#[path = "postgres_results.rs"]
mod results;
// --- shared state of several processes (issue 14, h-multi) ---
#[path = "postgres_shared.rs"]
mod shared;
// --- self-completion (issue 15, h-self) ---
#[path = "postgres_self.rs"]
mod self_links;

/// Connections in the pool.
const POOL_SIZE: usize = 16;

/// Session options of every connection.
///
/// - Plan each execution of a prepared statement for its parameters and the tables as they
///   are now. A generic plan cached while a table was empty (a new server, the first minute
///   of a sample import or of uploads, before autovacuum has analysed it) scanned the whole
///   table for every `= ANY($1)` lookup until the statistics changed: 25 ms per lookup at
///   30,000 responses (BENCHMARKS.md, 2026-12-03 (h)). The statements here are few per
///   request and set-based, so planning each one costs little.
/// - No JIT compilation: the server's statements are short lookups and streams; on a table
///   without statistics PostgreSQL's estimate of a per-id lookup passed the JIT threshold and
///   compiling took 5 ms of a 5 ms lookup (and 130–170 ms of a review page, session (g)).
const SESSION_OPTIONS: &str = "-c plan_cache_mode=force_custom_plan -c jit=off";
/// Advisory lock key taken while migrating (two servers starting at once apply them once).
const MIGRATION_LOCK: i64 = 0x5149_5041_5346_0001;

/// The PostgreSQL store. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // Code and message only: a DETAIL line may quote row values.
        match e.as_db_error() {
            Some(db) => {
                StoreError::Backend(format!("postgres: {} ({})", db.message(), db.code().code()))
            }
            None => StoreError::Backend(format!("postgres: {e}")),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Backend(format!("postgres pool: {other}")),
        }
    }
}

fn unique_as(what: impl FnOnce() -> String) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            StoreError::AlreadyExists(what())
        } else {
            e.into()
        }
    }
}

fn bad(what: String) -> StoreError {
    StoreError::Backend(format!("unexpected stored value: {what}"))
}

fn rev(revision: u32) -> Result<i32, StoreError> {
    i32::try_from(revision)
        .map_err(|_| StoreError::Backend(format!("revision {revision} too large")))
}

fn rev_of(row: &Row, idx: usize) -> Result<u32, StoreError> {
    let r: i32 = row.try_get(idx)?;
    u32::try_from(r).map_err(|_| bad(format!("revision {r}")))
}

/// Rows of `answer_counts` read per round trip by `round_counts`.
const COUNTS_CHUNK: i32 = 20_000;

fn count(row: &Row, idx: usize) -> Result<u64, StoreError> {
    let n: i64 = row.try_get(idx)?;
    u64::try_from(n).map_err(|_| bad(format!("count {n}")))
}

impl PgStore {
    /// The spot-check task whose `column` (a fixed column name, never user input) is `id`.
    async fn task_where(
        &self,
        column: &'static str,
        id: Uuid,
    ) -> Result<Option<SpotCheckTask>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM {TASK_FROM} WHERE {column} = $1"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| task_from(&r))
            .transpose()
    }

    /// Connects to `url` (`postgres://user:pass@host:port/db`), checks the connection and
    /// applies the missing migrations in one transaction.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| StoreError::Backend("postgres: invalid connection URL".to_owned()))?;
        let options = match config.get_options() {
            Some(given) => format!("{given} {SESSION_OPTIONS}"),
            None => SESSION_OPTIONS.to_owned(),
        };
        config.options(&options);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Backend(format!("postgres pool: {e}")))?;
        let store = PgStore { pool };
        store.migrate().await?;
        store.backfill_counts().await?;
        Ok(store)
    }

    /// Fills in the facts of every bound response that has none (issue 14), 500 per
    /// transaction, each response's binding locked; returns how many were refreshed.
    async fn backfill_counts(&self) -> Result<u64, StoreError> {
        let mut done = 0u64;
        let mut last = Uuid::nil();
        loop {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let stmt = tx.prepare_cached(sql::COUNTS_MISSING).await?;
            let ids: Vec<Uuid> = tx
                .query(&stmt, &[&last])
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let Some(end) = ids.last().copied() else {
                return Ok(done);
            };
            let lock = tx
                .prepare_cached(&format!("{} FOR UPDATE", sql::BINDING_OF))
                .await?;
            let mut cx = Counting::default();
            for id in &ids {
                tx.query_opt(&lock, &[id]).await?;
                refresh_counts(&tx, &[*id], None, true, &mut cx).await?;
            }
            apply_deltas(&tx, cx.deltas).await?;
            tx.commit().await?;
            done += ids.len() as u64;
            last = end;
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let supported = migrations::latest_version(POSTGRES);
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(POSTGRES_BOOTSTRAP).await?;
        let found: i32 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .try_get(0)?;
        let found = u32::try_from(found).map_err(|_| bad(format!("schema version {found}")))?;
        if found > supported {
            return Err(StoreError::Backend(migrations::newer_schema(
                found, supported,
            )));
        }
        for m in POSTGRES.iter().filter(|m| m.version > found) {
            tx.batch_execute(m.sql).await?;
            let version = i32::try_from(m.version).map_err(|_| bad("migration".into()))?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())",
                &[&version, &m.name],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A consistent read-only snapshot (REPEATABLE READ) for queries that return a cursor.
    async fn snapshot<'a>(
        client: &'a mut deadpool_postgres::Object,
    ) -> Result<Transaction<'a>, StoreError> {
        Ok(client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?)
    }
}

// --- shared statements -----------------------------------------------------------------------

/// Takes the ordering lock (the `change_seq` row) until commit. Idempotent in a transaction.
async fn lock_order(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached("SELECT value FROM change_seq WHERE id = 1 FOR UPDATE")
        .await?;
    tx.query_one(&stmt, &[]).await?;
    Ok(())
}

/// Hands out the next change-sequence value (and takes the ordering lock).
async fn next_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    let stmt = tx
        .prepare_cached("UPDATE change_seq SET value = value + 1 WHERE id = 1 RETURNING value")
        .await?;
    Ok(tx.query_one(&stmt, &[]).await?.try_get(0)?)
}

async fn current_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    let stmt = tx
        .prepare_cached("SELECT value FROM change_seq WHERE id = 1")
        .await?;
    Ok(tx.query_one(&stmt, &[]).await?.try_get(0)?)
}

/// One audit row to append.
struct AuditRow {
    actor: Option<Uuid>,
    action: String,
    entity_id: Option<String>,
}

impl AuditRow {
    fn new(actor: Option<Uuid>, action: impl Into<String>, entity_id: Option<String>) -> Self {
        AuditRow {
            actor,
            action: action.into(),
            entity_id,
        }
    }
}

/// Appends audit rows in order (takes the ordering lock first). Call it last, before commit.
async fn append_audit(tx: &Transaction<'_>, rows: Vec<AuditRow>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    lock_order(tx).await?;
    let (mut actors, mut actions, mut entities) = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for r in rows {
        actors.push(r.actor);
        actions.push(r.action);
        entities.push(r.entity_id);
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO audit_log (at, actor, action, entity_id) \
             SELECT $1, t.actor, t.action, t.entity_id \
             FROM unnest($2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY \
                  AS t(actor, action, entity_id, ord) \
             ORDER BY t.ord",
        )
        .await?;
    tx.execute(&stmt, &[&Utc::now(), &actors, &actions, &entities])
        .await?;
    Ok(())
}

const USER_COLS: &str = "u.id, u.username, u.display_name, u.role";

fn user_from(row: &Row, at: usize) -> Result<UserInfo, StoreError> {
    let role: String = row.try_get(at + 3)?;
    Ok(UserInfo {
        id: row.try_get(at)?,
        username: row.try_get(at + 1)?,
        display_name: row.try_get(at + 2)?,
        role: Role::parse(&role).ok_or_else(|| bad(format!("role {role:?}")))?,
    })
}

async fn user_in<C: GenericClient>(c: &C, id: Uuid) -> Result<Option<UserInfo>, StoreError> {
    let stmt = c
        .prepare_cached(&format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1"))
        .await?;
    c.query_opt(&stmt, &[&id])
        .await?
        .map(|r| user_from(&r, 0))
        .transpose()
}

// --- scope and tenancy (issue 10) -------------------------------------------------------------

async fn store_scope_in(
    tx: &Transaction<'_>,
    user_id: Uuid,
    scope: &ScopeCodes,
) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached("DELETE FROM user_scopes WHERE user_id = $1")
        .await?;
    tx.execute(&stmt, &[&user_id]).await?;
    let insert = tx
        .prepare_cached(
            "INSERT INTO user_scopes (user_id, kind, code) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    for code in &scope.units {
        tx.execute(&insert, &[&user_id, &"unit", code]).await?;
    }
    for code in &scope.agencies {
        tx.execute(&insert, &[&user_id, &"agency", code]).await?;
    }
    Ok(())
}

async fn scopes_in<C: GenericClient>(
    c: &C,
    user_id: Option<Uuid>,
) -> Result<BTreeMap<Uuid, ScopeCodes>, StoreError> {
    let stmt = c
        .prepare_cached(
            "SELECT user_id, kind, code FROM user_scopes \
             WHERE ($1::uuid IS NULL OR user_id = $1) ORDER BY user_id, kind, code",
        )
        .await?;
    let mut out: BTreeMap<Uuid, ScopeCodes> = BTreeMap::new();
    for row in c.query(&stmt, &[&user_id]).await? {
        let id: Uuid = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let code: String = row.try_get(2)?;
        let scope = out.entry(id).or_default();
        if kind == "unit" {
            scope.units.push(code);
        } else {
            scope.agencies.push(code);
        }
    }
    Ok(out)
}

async fn store_plan_in(
    tx: &Transaction<'_>,
    round_id: &str,
    plan: &RoundPlan,
) -> Result<(), StoreError> {
    for table in ["round_units", "round_agencies"] {
        let stmt = tx
            .prepare_cached(&format!("DELETE FROM {table} WHERE round_id = $1"))
            .await?;
        tx.execute(&stmt, &[&round_id]).await?;
    }
    let unit = tx
        .prepare_cached(
            "INSERT INTO round_units (round_id, unit_code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await?;
    for code in &plan.units {
        tx.execute(&unit, &[&round_id, code]).await?;
    }
    let agency = tx
        .prepare_cached(
            "INSERT INTO round_agencies (round_id, agency_code, listed, target) \
             VALUES ($1, $2, $3, $4)",
        )
        .await?;
    let codes: BTreeSet<&String> = plan.agencies.iter().chain(plan.targets.keys()).collect();
    for code in codes {
        let target = plan
            .targets
            .get(code)
            .map(|t| i32::try_from(*t).unwrap_or(i32::MAX));
        tx.execute(
            &agency,
            &[&round_id, code, &plan.agencies.contains(code), &target],
        )
        .await?;
    }
    Ok(())
}

async fn ensure_user(tx: &Transaction<'_>, id: Uuid) -> Result<(), StoreError> {
    let stmt = tx
        .prepare_cached("SELECT 1 FROM users WHERE id = $1")
        .await?;
    match tx.query_opt(&stmt, &[&id]).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound {
            what: "user",
            id: id.to_string(),
        }),
    }
}

/// Assignments with their contact (for the surveyor who visits).
const ASSIGNMENT_SELECT: &str = sql::assignment_select!(
    "c.name, c.address, c.phone",
    " LEFT JOIN sample_contacts c ON c.assignment_id = a.id"
);

/// Assignments without their contact: what the ingest rules read (they never need it; the
/// join with the contacts scanned the whole table for every batch at 30,000).
const ASSIGNMENT_SELECT_NO_CONTACT: &str =
    sql::assignment_select!("NULL::text, NULL::text, NULL::text", "");

fn assignment_from(row: &Row) -> Result<(Assignment, Option<Uuid>), StoreError> {
    let name: Option<String> = row.try_get(8)?;
    let contact = match name {
        Some(name) => Some(Contact {
            name,
            address: row.try_get(9)?,
            phone: row.try_get(10)?,
        }),
        None => None,
    };
    let status: String = row.try_get(7)?;
    Ok((
        Assignment {
            id: row.try_get(0)?,
            round_id: row.try_get(1)?,
            form: FormKey {
                form_id: row.try_get(2)?,
                version: row.try_get(3)?,
            },
            unit_code: row.try_get(4)?,
            procedure: row.try_get(5)?,
            agency: row.try_get(6)?,
            contact,
            status: AssignmentStatus::parse(&status)
                .ok_or_else(|| bad(format!("status {status:?}")))?,
            unit_name: row.try_get(13)?,
            agency_code: row.try_get(14)?,
            agency_name: row.try_get(6)?,
            field_code: row.try_get(15)?,
            field_name: row.try_get(16)?,
            procedure_code: row.try_get(17)?,
            round_name: row.try_get(18)?,
        },
        row.try_get(11)?,
    ))
}

fn round_from(row: &Row) -> Result<Round, StoreError> {
    Ok(Round {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        form: FormKey {
            form_id: row.try_get(2)?,
            version: row.try_get(3)?,
        },
        starts_on: row.try_get(4)?,
        ends_on: row.try_get(5)?,
        outside_sample: OutsideSample {
            replacement: row.try_get(6)?,
            walk_in: row.try_get(7)?,
            cap_per_unit: u32::try_from(row.try_get::<_, i32>(8)?).unwrap_or(0),
        },
    })
}

/// Advisory-lock key of a unit of a round (interviews outside the sample count against its
/// cap): the first 8 bytes of a SHA-256 of the pair.
fn unit_lock_key(round_id: &str, unit_code: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("outside-sample\0{round_id}\0{unit_code}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// Advisory-lock key of a response or assignment id (both halves folded; a collision only
/// serialises two batches more than needed).
fn lock_key(id: Uuid) -> i64 {
    let (hi, lo) = id.as_u64_pair();
    (hi ^ lo) as i64
}

/// Takes the batch's advisory locks, sorted: every ingest locks its response and assignment
/// ids in one global order before touching a row, so two batches holding the same new
/// records in any order wait for each other instead of deadlocking.
async fn lock_batch(tx: &Transaction<'_>, batch: &IngestBatch) -> Result<(), StoreError> {
    let mut keys: Vec<i64> = batch
        .response_ids()
        .into_iter()
        .chain(batch.assignment_ids())
        .map(lock_key)
        .chain(
            batch
                .outside_units()
                .iter()
                .map(|(round, unit)| unit_lock_key(round, unit)),
        )
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    let stmt = tx
        .prepare_cached(
            "SELECT pg_advisory_xact_lock(s.k) FROM \
             (SELECT t.k FROM unnest($1::bigint[]) WITH ORDINALITY AS t(k, o) ORDER BY t.o) s",
        )
        .await?;
    tx.query(&stmt, &[&keys]).await?;
    Ok(())
}

/// The stored revisions of the responses `$1` (id, revision, content hash): one index probe
/// per id. `WHERE id = ANY($1)` was planned as a scan of the whole table whenever the
/// statistics of `responses.id` were missing or old (the column alone is not unique, so
/// PostgreSQL guessed that 250 ids matched every row): 8 ms per batch at 30,000 responses,
/// growing with the table. `OFFSET 0` keeps the lookup a per-id subquery.
const REVISIONS_OF_ANY: &str = "SELECT t.id, x.revision, x.content_hash \
     FROM unnest($1::uuid[]) AS t(id) CROSS JOIN LATERAL \
     (SELECT r.revision, r.content_hash FROM responses r WHERE r.id = t.id OFFSET 0) x";

/// The current (not voided) response bound to each of the assignments `$1`, by index probe
/// per id (as [`REVISIONS_OF_ANY`], for the same reason).
const BINDINGS_OF_ASSIGNMENTS_ANY: &str = "SELECT t.id, x.response_id \
     FROM unnest($1::uuid[]) AS t(id) CROSS JOIN LATERAL \
     (SELECT b.response_id FROM response_bindings b \
      WHERE b.assignment_id = t.id AND b.voided_at IS NULL OFFSET 0) x";

/// Loads what the ingest rules read about `batch` (see [`IngestContext`]) inside `tx`, after
/// [`lock_batch`].
async fn ingest_context(
    tx: &Transaction<'_>,
    batch: &IngestBatch,
) -> Result<IngestContext, StoreError> {
    let mut ctx = IngestContext::default();
    let ids = batch.response_ids();
    if !ids.is_empty() {
        let stmt = tx
            .prepare_cached(
                "SELECT response_id, round_id, assignment_id, surveyor_id, unit_code, \
                 voided_at IS NOT NULL FROM response_bindings WHERE response_id = ANY($1)",
            )
            .await?;
        for r in tx.query(&stmt, &[&ids]).await? {
            ctx.responses.insert(
                r.try_get(0)?,
                StoredResponse {
                    binding: Binding {
                        round_id: r.try_get(1)?,
                        assignment_id: r.try_get(2)?,
                        surveyor_id: r.try_get(3)?,
                        unit_code: r.try_get(4)?,
                    },
                    revisions: BTreeMap::new(),
                    latest_decision: None,
                    voided: r.try_get(5)?,
                },
            );
        }
        let stmt = tx.prepare_cached(REVISIONS_OF_ANY).await?;
        for r in tx.query(&stmt, &[&ids]).await? {
            let id: Uuid = r.try_get(0)?;
            if let Some(stored) = ctx.responses.get_mut(&id) {
                stored.revisions.insert(rev_of(&r, 1)?, r.try_get(2)?);
            }
        }
        let stmt = tx
            .prepare_cached(
                "SELECT DISTINCT ON (response_id, revision) response_id, revision, decision \
                 FROM review_decisions WHERE response_id = ANY($1) \
                 ORDER BY response_id, revision, seq DESC",
            )
            .await?;
        for r in tx.query(&stmt, &[&ids]).await? {
            let id: Uuid = r.try_get(0)?;
            let revision = rev_of(&r, 1)?;
            if let Some(stored) = ctx.responses.get_mut(&id)
                && stored.revisions.keys().next_back() == Some(&revision)
            {
                stored.latest_decision = Some(decision_of(&r, 2)?);
            }
        }
    }
    let assignment_ids = batch.assignment_ids();
    if !assignment_ids.is_empty() {
        let stmt = tx
            .prepare_cached(&format!(
                "{ASSIGNMENT_SELECT_NO_CONTACT} WHERE a.id = ANY($1)"
            ))
            .await?;
        for r in tx.query(&stmt, &[&assignment_ids]).await? {
            let (assignment, owner) = assignment_from(&r)?;
            let origin: String = r.try_get(12)?;
            ctx.assignments.insert(
                assignment.id,
                StoredAssignment {
                    assignment,
                    owner,
                    response_id: None,
                    origin: Origin::from_code(&origin).unwrap_or_default(),
                },
            );
        }
        let stmt = tx.prepare_cached(BINDINGS_OF_ASSIGNMENTS_ANY).await?;
        for r in tx.query(&stmt, &[&assignment_ids]).await? {
            let aid: Uuid = r.try_get(0)?;
            if let Some(a) = ctx.assignments.get_mut(&aid) {
                a.response_id = Some(r.try_get(1)?);
            }
        }
    }
    let rounds = batch.round_ids();
    if !rounds.is_empty() {
        let stmt = tx
            .prepare_cached(&format!(
                "SELECT {} FROM rounds WHERE id = ANY($1)",
                sql::ROUND_COLS
            ))
            .await?;
        for r in tx.query(&stmt, &[&rounds]).await? {
            let found = round_from(&r)?;
            ctx.round_starts.insert(found.id.clone(), found.starts_on);
            ctx.round_policies.insert(found.id, found.outside_sample);
        }
        let stmt = tx
            .prepare_cached("SELECT id FROM rounds WHERE id = ANY($1) AND closed_at IS NOT NULL")
            .await?;
        for r in tx.query(&stmt, &[&rounds]).await? {
            ctx.closed_rounds.insert(r.try_get(0)?);
        }
    }
    let units = batch.outside_units();
    if !units.is_empty() {
        let stmt = tx.prepare_cached(sql::UNIT_QUOTA).await?;
        for (round, unit) in units {
            let r = tx.query_one(&stmt, &[&round, &unit]).await?;
            let quota = UnitQuota {
                in_round: r.try_get(0)?,
                used: u32::try_from(r.try_get::<_, i64>(1)?).unwrap_or(u32::MAX),
            };
            ctx.units.insert((round, unit), quota);
        }
    }
    let refused = batch.refused_keys();
    if !refused.is_empty() {
        let refused_ids: Vec<Uuid> = refused.iter().map(|(id, _)| *id).collect();
        let stmt = tx
            .prepare_cached(
                "SELECT id, response_id, revision, record_sha FROM quarantine \
                 WHERE response_id = ANY($1) AND resolution IS NULL",
            )
            .await?;
        for r in tx.query(&stmt, &[&refused_ids]).await? {
            ctx.quarantined.insert(
                (r.try_get(1)?, rev_of(&r, 2)?, r.try_get(3)?),
                r.try_get(0)?,
            );
        }
    }
    Ok(ctx)
}

/// Executes the planned writes of `batch` inside `tx` (audit entries last, in order).
async fn execute_ops(
    tx: &Transaction<'_>,
    batch: &IngestBatch,
    ctx: &IngestContext,
    ops: &[Op],
) -> Result<(), StoreError> {
    let now = batch.received_at;
    let mut audit = Vec::new();
    let mut collected = Vec::new();
    let mut binds = Binds::default();
    let mut revisions = Revisions::default();
    let mut seq: Option<i64> = None;
    for op in ops {
        match op {
            Op::CreateAssignment {
                id,
                round_id,
                unit_code,
                origin,
                owner,
            } => {
                let seq = match seq {
                    Some(v) => v,
                    None => *seq.insert(next_seq(tx).await?),
                };
                let stmt = tx.prepare_cached(sql::INSERT_OUTSIDE_ASSIGNMENT).await?;
                tx.execute(
                    &stmt,
                    &[id, round_id, unit_code, owner, &seq, &origin.as_str()],
                )
                .await?;
            }
            Op::Bind {
                response_id,
                binding,
            } => binds.push(response_id, binding),
            Op::InsertRevision { item } => {
                let Some(Checked::Valid { response, hash }) = batch.items.get(*item) else {
                    return Err(StoreError::Backend(
                        "planned revision is not a valid item".into(),
                    ));
                };
                revisions.push(response, hash)?;
            }
            Op::MarkCollected { assignment_id } => collected.push(*assignment_id),
            Op::Quarantine {
                id,
                refusal,
                surveyor,
                device,
            } => {
                let issues = serde_json::to_string(&refusal.issues)
                    .map_err(|e| StoreError::Backend(format!("encoding answer issues: {e}")))?;
                let stmt = tx.prepare_cached(sql::INSERT_QUARANTINE).await?;
                tx.execute(
                    &stmt,
                    &[
                        id,
                        &refusal.id,
                        &rev_i32(refusal.revision),
                        &refusal.record_sha(),
                        &refusal.round_id,
                        &refusal.unit_code,
                        &refusal.assignment_id,
                        surveyor,
                        device,
                        &reason_code_str(refusal.reason),
                        &refusal.detail,
                        &issues,
                        &refusal.record_json,
                        &now,
                        &batch.source.mode.as_str(),
                    ],
                )
                .await?;
            }
            Op::Audit {
                actor,
                action,
                entity,
            } => audit.push(AuditRow::new(*actor, *action, entity.clone())),
        }
    }
    // Set-based writes, one statement each (the plan's order among them does not matter:
    // no foreign key links bindings, revisions and assignments).
    if !binds.ids.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO response_bindings \
                 (response_id, round_id, assignment_id, surveyor_id, unit_code, bound_at) \
                 SELECT t.id, t.round_id, t.assignment_id, t.surveyor_id, t.unit_code, $6 \
                 FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::text[]) \
                      AS t(id, round_id, assignment_id, surveyor_id, unit_code)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &binds.ids,
                &binds.rounds,
                &binds.assignments,
                &binds.surveyors,
                &binds.units,
                &now,
            ],
        )
        .await?;
    }
    if !revisions.ids.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO responses (id, revision, round_id, unit_code, form_id, \
                 form_version, assignment_id, content_hash, body_json, submitted_by, \
                 device_id, received_at, mode) \
                 SELECT t.id, t.revision, t.round_id, t.unit_code, t.form_id, t.form_version, \
                        t.assignment_id, t.hash, t.body, $10, $11, $12, $13 \
                 FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], \
                             $6::text[], $7::uuid[], $8::text[], $9::jsonb[]) \
                      AS t(id, revision, round_id, unit_code, form_id, form_version, \
                           assignment_id, hash, body)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &revisions.ids,
                &revisions.revisions,
                &revisions.rounds,
                &revisions.units,
                &revisions.form_ids,
                &revisions.form_versions,
                &revisions.assignments,
                &revisions.hashes,
                &revisions.bodies,
                &batch.source.surveyor,
                &batch.source.device,
                &now,
                &batch.source.mode.as_str(),
            ],
        )
        .await?;
    }
    if !collected.is_empty() {
        // Sorted (the plan lists them so); the batch's advisory locks already cover them.
        let seq = match seq {
            Some(v) => v,
            None => next_seq(tx).await?,
        };
        let stmt = tx
            .prepare_cached(
                "UPDATE assignments SET status = 'collected', change_seq = $1 \
                 WHERE id = ANY($2) AND status <> 'collected'",
            )
            .await?;
        tx.execute(&stmt, &[&seq, &collected]).await?;
    }
    // The batch's response ids are locked (lock_batch).
    let mut cx = Counting {
        locked: true,
        ..Counting::default()
    };
    let (ids, known) = ingest::InHand::of(batch, ctx, ops);
    refresh_counts(tx, &ids, Some(&known), false, &mut cx).await?;
    apply_deltas(tx, cx.deltas).await?;
    append_audit(tx, audit).await
}

// --- the index from counts (issue 14; rules in crate::answer_counts) ---------------------

/// Refreshes the `response_facts` rows of responses `ids` (each once) inside `tx` (after
/// their ingest, a decision or void; the caller holds the responses' locks, or
/// `cx.locked` is false and they are taken here) and adds their count differences to `cx`.
/// `known`: what the transaction knows of the revisions it stored (the responses it bound
/// are not read back); `force`: recompute the keys (start-up backfill). A fixed number of
/// statements, whatever the number of ids.
async fn refresh_counts(
    tx: &Transaction<'_>,
    ids: &[Uuid],
    known: Option<&ingest::InHand<'_>>,
    force: bool,
    cx: &mut Counting,
) -> Result<(), StoreError> {
    use crate::answer_counts::{
        Current, DEFAULT_MODE, FactsRow, FreshInput, Loaded, needs_fresh, plan_batch,
    };
    if ids.is_empty() {
        return Ok(());
    }
    if !cx.locked {
        // The responses' locks (the ones every ingest of them takes, re-entrant), in order.
        for id in ids {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock_key(*id)])
                .await?;
        }
    }
    let no_hints = HashMap::new();
    let hints = known.map_or(&no_hints, |k| &k.responses);
    let ids: Vec<Uuid> = ids.to_vec();
    let mut current: HashMap<Uuid, Current> = HashMap::new();
    // Bound by this transaction: state known, no row yet; only the others are read.
    let mut read: Vec<Uuid> = Vec::with_capacity(ids.len());
    for id in &ids {
        match known.and_then(|k| k.first_state(id)) {
            Some(c) => {
                current.insert(*id, c);
            }
            None => read.push(*id),
        }
    }
    let mut old: HashMap<Uuid, FactsRow> = HashMap::new();
    if !read.is_empty() {
        let stmt = tx.prepare_cached(COUNTS_CURRENT_ANY).await?;
        for r in tx.query(&stmt, &[&read]).await? {
            current.insert(
                r.try_get(0)?,
                Current {
                    revision: rev_of(&r, 1)?,
                    round_id: r.try_get(2)?,
                    unit_code: r.try_get(3)?,
                    received_at: r.try_get(4)?,
                    decision: r.try_get(5)?,
                },
            );
        }
        let stmt = tx.prepare_cached(COUNTS_FACTS_ANY).await?;
        for r in tx.query(&stmt, &[&read]).await? {
            old.insert(
                r.try_get(0)?,
                FactsRow {
                    revision: rev_of(&r, 1)?,
                    round_id: r.try_get(2)?,
                    unit_code: r.try_get(3)?,
                    agency_code: r.try_get(4)?,
                    field_code: r.try_get(5)?,
                    mode: r.try_get(6)?,
                    received_at: r.try_get(7)?,
                    counted: r.try_get::<_, i32>(8)? == 1,
                    facts: r.try_get(9)?,
                },
            );
        }
    }
    // Revisions whose keys are needed: their mode, and the body of those not in hand.
    let mut wanted: Vec<(Uuid, u32)> = Vec::new();
    for id in &ids {
        if let Some(c) = current.get(id)
            && needs_fresh(Some(c), old.get(id), force)
        {
            wanted.push((*id, c.revision));
        }
    }
    let in_batch = |id: &Uuid, revision: u32| hints.get(id).filter(|h| h.revision == revision);
    let mut modes: HashMap<Uuid, String> = HashMap::new();
    let mut parsed: HashMap<Uuid, Response> = HashMap::new();
    // Read: the mode of revisions this transaction did not store, with their body.
    let unread: Vec<(Uuid, u32)> = wanted
        .iter()
        .copied()
        .filter(|(id, rev)| match known.and_then(|k| k.mode_of(id, *rev)) {
            Some(m) => {
                modes.insert(*id, m.to_owned());
                false
            }
            None => true,
        })
        .collect();
    if !unread.is_empty() {
        let w_ids: Vec<Uuid> = unread.iter().map(|(id, _)| *id).collect();
        let w_revs = unread
            .iter()
            .map(|(_, rev)| rev_i32(*rev))
            .collect::<Vec<i32>>();
        let w_body: Vec<bool> = unread
            .iter()
            .map(|(id, rev)| in_batch(id, *rev).is_none())
            .collect();
        let stmt = tx.prepare_cached(COUNTS_MODE_BODY_ANY).await?;
        for r in tx.query(&stmt, &[&w_ids, &w_revs, &w_body]).await? {
            let id: Uuid = r.try_get(0)?;
            modes.insert(id, r.try_get(1)?);
            if let Some(body) = r.try_get::<_, Option<Json<Response>>>(2)? {
                parsed.insert(id, body.0);
            }
        }
    }
    let response_of = |id: &Uuid, revision: u32| -> Result<&Response, StoreError> {
        in_batch(id, revision)
            .copied()
            .or_else(|| parsed.get(id))
            .ok_or_else(|| bad(format!("response {id}: revision {revision} not stored")))
    };
    // The codes the batch was planned with; the other assignments' are read.
    let mut codes: HashMap<Uuid, (String, String)> = HashMap::new();
    let mut assignment_ids: Vec<Uuid> = Vec::new();
    for (id, revision) in &wanted {
        let response = response_of(id, *revision)?;
        if !cx.forms.contains_key(&response.form) {
            let f = count_form(tx, &response.form).await?;
            cx.forms.insert(response.form.clone(), f);
        }
        if let Some(a) = response.assignment_id {
            match known.and_then(|k| k.codes(a)) {
                Some(c) => {
                    codes.insert(a, c);
                }
                None => assignment_ids.push(a),
            }
        }
    }
    if !assignment_ids.is_empty() {
        let stmt = tx.prepare_cached(COUNTS_ASSIGNMENT_CODES_ANY).await?;
        for r in tx.query(&stmt, &[&assignment_ids]).await? {
            codes.insert(
                r.try_get(0)?,
                (
                    r.try_get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.try_get::<_, Option<String>>(2)?.unwrap_or_default(),
                ),
            );
        }
    }
    let mut loaded = Vec::with_capacity(ids.len());
    for id in &ids {
        let c = current.remove(id);
        let o = old.remove(id);
        let fresh = match &c {
            Some(c) if needs_fresh(Some(c), o.as_ref(), force) => {
                let response = response_of(id, c.revision)?;
                let (agency_code, field_code) = response
                    .assignment_id
                    .and_then(|a| codes.get(&a).cloned())
                    .unwrap_or_default();
                Some(FreshInput {
                    response,
                    agency_code,
                    field_code,
                    mode: modes
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| DEFAULT_MODE.to_owned()),
                    keys: None,
                })
            }
            _ => None,
        };
        loaded.push(Loaded {
            id: *id,
            current: c,
            old: o,
            fresh,
        });
    }
    let refresh = plan_batch(loaded, force, &cx.forms)?;
    cx.deltas.extend(refresh.deltas);
    if refresh.rows.is_empty() {
        return Ok(());
    }
    let mut cols = FactsCols::default();
    for (id, r) in &refresh.rows {
        cols.push(*id, r)?;
    }
    let stmt = tx.prepare_cached(COUNTS_UPSERT_FACTS_MANY).await?;
    tx.execute(
        &stmt,
        &[
            &cols.ids,
            &cols.revisions,
            &cols.rounds,
            &cols.units,
            &cols.agencies,
            &cols.fields,
            &cols.modes,
            &cols.received,
            &cols.counted,
            &cols.facts,
        ],
    )
    .await?;
    Ok(())
}

/// The `current_responses` state of the responses `$1` (`COUNTS_CURRENT` for many), by id:
/// the view's rule (bound, not voided, latest revision, its latest decision) written out,
/// because PostgreSQL plans the view with `= ANY($1)` as a scan of every binding with a
/// `MAX(revision)` lookup each (180 ms per batch at 50,000 responses, against 4 ms so).
const COUNTS_CURRENT_ANY: &str = "SELECT r.id, r.revision, b.round_id, b.unit_code, \
     r.received_at, (SELECT d.decision FROM review_decisions d \
      WHERE d.response_id = r.id AND d.revision = r.revision ORDER BY d.seq DESC LIMIT 1) \
     FROM response_bindings b CROSS JOIN LATERAL (SELECT x.id, x.revision, x.received_at \
      FROM responses x WHERE x.id = b.response_id ORDER BY x.revision DESC LIMIT 1) r \
     WHERE b.response_id = ANY($1) AND b.voided_at IS NULL";

/// The `response_facts` rows of the responses `$1`.
const COUNTS_FACTS_ANY: &str = "SELECT response_id, revision, round_id, unit_code, \
     agency_code, field_code, mode, received_at, counted, facts FROM response_facts \
     WHERE response_id = ANY($1)";

/// Mode of revisions (`$1` ids, `$2` revisions) and, where `$3` is true, their body.
const COUNTS_MODE_BODY_ANY: &str = "SELECT r.id, r.mode, CASE WHEN t.body THEN r.body_json END \
     FROM unnest($1::uuid[], $2::int[], $3::bool[]) AS t(id, revision, body) \
     JOIN responses r ON r.id = t.id AND r.revision = t.revision";

/// Agency and field codes of the assignments `$1`.
const COUNTS_ASSIGNMENT_CODES_ANY: &str =
    "SELECT id, agency_code, field_code FROM assignments WHERE id = ANY($1)";

/// Writes many `response_facts` rows (10 arrays, in column order; ids distinct).
const COUNTS_UPSERT_FACTS_MANY: &str = "INSERT INTO response_facts (response_id, revision, \
     round_id, unit_code, agency_code, field_code, mode, received_at, counted, facts) \
     SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], \
     $6::text[], $7::text[], $8::timestamptz[], $9::int[], $10::text[]) \
     ON CONFLICT (response_id) DO UPDATE SET \
     revision = excluded.revision, round_id = excluded.round_id, \
     unit_code = excluded.unit_code, agency_code = excluded.agency_code, \
     field_code = excluded.field_code, mode = excluded.mode, \
     received_at = excluded.received_at, counted = excluded.counted, facts = excluded.facts";

/// `response_facts` rows as columns, for one `unnest` upsert.
#[derive(Default)]
struct FactsCols<'a> {
    ids: Vec<Uuid>,
    revisions: Vec<i32>,
    rounds: Vec<&'a str>,
    units: Vec<&'a str>,
    agencies: Vec<&'a str>,
    fields: Vec<&'a str>,
    modes: Vec<&'a str>,
    received: Vec<DateTime<Utc>>,
    counted: Vec<i32>,
    facts: Vec<Option<&'a str>>,
}

impl<'a> FactsCols<'a> {
    fn push(&mut self, id: Uuid, r: &'a crate::answer_counts::FactsRow) -> Result<(), StoreError> {
        self.ids.push(id);
        self.revisions.push(rev(r.revision)?);
        self.rounds.push(&r.round_id);
        self.units.push(&r.unit_code);
        self.agencies.push(&r.agency_code);
        self.fields.push(&r.field_code);
        self.modes.push(&r.mode);
        self.received.push(r.received_at);
        self.counted.push(i32::from(r.counted));
        self.facts.push(r.facts.as_deref());
        Ok(())
    }
}

/// What the refreshes of one transaction share: the count differences (applied once, by
/// [`apply_deltas`]), the forms read so far, and whether the caller already holds the
/// responses' advisory locks (ingest: [`lock_batch`]).
#[derive(Default)]
struct Counting {
    deltas: Vec<crate::answer_counts::Delta>,
    forms: HashMap<
        sipas_core::questionnaire::FormKey,
        Option<std::sync::Arc<sipas_core::questionnaire::Questionnaire>>,
    >,
    locked: bool,
}

/// The form count keys are computed with: the stored usable version, else the built-in
/// (rules in [`crate::answer_counts`]).
async fn count_form(
    tx: &Transaction<'_>,
    key: &sipas_core::questionnaire::FormKey,
) -> Result<Option<std::sync::Arc<sipas_core::questionnaire::Questionnaire>>, StoreError> {
    use crate::answer_counts::{builtin_form, cached_form, remember_form};
    let stmt = tx.prepare_cached(sql::COUNTS_FORM_HASH).await?;
    let Some(row) = tx.query_opt(&stmt, &[&key.form_id, &key.version]).await? else {
        return Ok(builtin_form(key));
    };
    let hash: String = row.try_get(0)?;
    if let Some(form) = cached_form(&hash) {
        return Ok(Some(form));
    }
    let stmt = tx.prepare_cached(sql::COUNTS_FORM_DEFINITION).await?;
    let definition: String = tx
        .query_one(&stmt, &[&key.form_id, &key.version])
        .await?
        .try_get(0)?;
    Ok(remember_form(&hash, &definition))
}

/// Applies the count differences of a transaction's refreshes, merged and in key order (so
/// concurrent transactions lock count rows in one order and cannot deadlock on them).
async fn apply_deltas(
    tx: &Transaction<'_>,
    deltas: Vec<crate::answer_counts::Delta>,
) -> Result<(), StoreError> {
    let deltas = crate::answer_counts::merge(deltas);
    if deltas.is_empty() {
        return Ok(());
    }
    // One set-based statement per transaction (the deltas are merged: one row per key, in
    // key order, so the count rows are locked in one order).
    let col = |f: fn(&crate::answer_counts::Delta) -> &str| -> Vec<&str> {
        deltas.iter().map(f).collect()
    };
    let (rounds, units, agencies) = (
        col(|d| &d.round_id),
        col(|d| &d.unit_code),
        col(|d| &d.agency_code),
    );
    let (fields, modes, items, outcomes) = (
        col(|d| &d.field_code),
        col(|d| &d.mode),
        col(|d| &d.item),
        col(|d| &d.outcome),
    );
    let ns: Vec<i64> = deltas.iter().map(|d| d.n).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO answer_counts (round_id, unit_code, agency_code, field_code, mode, \
             item, outcome, n) \
             SELECT t.r, t.u, t.a, t.f, t.m, t.i, t.o, t.n FROM unnest($1::text[], $2::text[], \
             $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[]) \
             WITH ORDINALITY AS t(r, u, a, f, m, i, o, n, k) ORDER BY t.k \
             ON CONFLICT (round_id, unit_code, agency_code, field_code, mode, item, outcome) \
             DO UPDATE SET n = answer_counts.n + excluded.n",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &rounds, &units, &agencies, &fields, &modes, &items, &outcomes, &ns,
        ],
    )
    .await?;
    Ok(())
}

/// Rows imported at once from which the import refreshes the tables' statistics.
const ANALYZE_AFTER_IMPORT: u64 = 1_000;

/// Rows of a sample import per statement.
const IMPORT_CHUNK: usize = 2_000;

/// Inserts a chunk of sample rows (columns as arrays, the round and change sequence shared),
/// unassigned; returns the ids inserted (an id already in the table, or earlier in the
/// chunk, is skipped).
const IMPORT_ASSIGNMENTS: &str = "INSERT INTO assignments \
     (id, round_id, unit_code, procedure, agency, status, surveyor_id, change_seq, \
      unit_name, agency_code, field_code, field_name, procedure_code) \
     SELECT t.id, $2::text, t.unit, t.procedure, t.agency, 'not_visited'::text, NULL::uuid, \
      $6::bigint, t.unit_name, t.agency_code, t.field_code, t.field_name, t.procedure_code \
     FROM unnest($1::uuid[], $3::text[], $4::text[], $5::text[], $7::text[], $8::text[], \
      $9::text[], $10::text[], $11::text[]) WITH ORDINALITY \
      AS t(id, unit, procedure, agency, unit_name, agency_code, field_code, field_name, \
      procedure_code, o) \
     ORDER BY t.o \
     ON CONFLICT (id) DO NOTHING RETURNING id";

/// Inserts the contacts of newly imported rows (columns as arrays).
const IMPORT_CONTACTS: &str = "INSERT INTO sample_contacts (assignment_id, name, address, phone) \
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])";

/// Surveyor of the assignments `$1` and whether each has a current response, locked, in id
/// order.
const ASSIGN_CURRENT: &str = "SELECT a.id, a.surveyor_id, \
     EXISTS (SELECT 1 FROM response_bindings b \
             WHERE b.assignment_id = a.id AND b.voided_at IS NULL) \
     FROM assignments a WHERE a.id = ANY($1) ORDER BY a.id FOR UPDATE";

/// Records the withdrawals of assignments `$2` from surveyors `$3` (change sequence `$1`,
/// by `$4`).
const ASSIGN_WITHDRAWALS: &str = "INSERT INTO assignment_withdrawals \
     (seq, assignment_id, surveyor_id, withdrawn_at, withdrawn_by) \
     SELECT $1::bigint, t.a, t.s, now(), $4::uuid FROM unnest($2::uuid[], $3::uuid[]) AS t(a, s)";

/// Gives the assignments `$3` to surveyor `$1` (change sequence `$2`); returns their ids.
const ASSIGN_SURVEYOR: &str = "UPDATE assignments SET surveyor_id = $1, change_seq = $2 \
     WHERE id = ANY($3) RETURNING id";

/// A chunk of [`SampleRow`]s as columns, for one `unnest` insert.
struct SampleColumns<'a> {
    ids: Vec<Uuid>,
    units: Vec<&'a str>,
    procedures: Vec<&'a str>,
    agencies: Vec<Option<&'a str>>,
    unit_names: Vec<Option<&'a str>>,
    agency_codes: Vec<Option<&'a str>>,
    field_codes: Vec<Option<&'a str>>,
    field_names: Vec<Option<&'a str>>,
    procedure_codes: Vec<Option<&'a str>>,
}

impl<'a> SampleColumns<'a> {
    fn of(rows: &'a [SampleRow]) -> Self {
        SampleColumns {
            ids: rows.iter().map(|r| r.id).collect(),
            units: rows.iter().map(|r| r.unit_code.as_str()).collect(),
            procedures: rows.iter().map(|r| r.procedure.as_str()).collect(),
            agencies: rows.iter().map(|r| r.agency.as_deref()).collect(),
            unit_names: rows.iter().map(|r| r.unit_name.as_deref()).collect(),
            agency_codes: rows.iter().map(|r| r.agency_code.as_deref()).collect(),
            field_codes: rows.iter().map(|r| r.field_code.as_deref()).collect(),
            field_names: rows.iter().map(|r| r.field_name.as_deref()).collect(),
            procedure_codes: rows.iter().map(|r| r.procedure_code.as_deref()).collect(),
        }
    }
}

/// [`Op::Bind`]s of a batch as columns, for one `unnest` insert.
#[derive(Default)]
struct Binds {
    ids: Vec<Uuid>,
    rounds: Vec<String>,
    assignments: Vec<Option<Uuid>>,
    surveyors: Vec<Uuid>,
    units: Vec<String>,
}

impl Binds {
    fn push(&mut self, id: &Uuid, b: &Binding) {
        self.ids.push(*id);
        self.rounds.push(b.round_id.clone());
        self.assignments.push(b.assignment_id);
        self.surveyors.push(b.surveyor_id);
        self.units.push(b.unit_code.clone());
    }
}

/// [`Op::InsertRevision`]s of a batch as columns, for one `unnest` insert.
#[derive(Default)]
struct Revisions<'a> {
    ids: Vec<Uuid>,
    revisions: Vec<i32>,
    rounds: Vec<&'a str>,
    units: Vec<&'a str>,
    form_ids: Vec<&'a str>,
    form_versions: Vec<&'a str>,
    assignments: Vec<Option<Uuid>>,
    hashes: Vec<&'a str>,
    bodies: Vec<Json<&'a Response>>,
}

impl<'a> Revisions<'a> {
    fn push(&mut self, r: &'a Response, hash: &'a str) -> Result<(), StoreError> {
        self.ids.push(r.id);
        self.revisions.push(rev(r.revision)?);
        self.rounds.push(&r.round_id);
        self.units.push(&r.unit_code);
        self.form_ids.push(&r.form.form_id);
        self.form_versions.push(&r.form.version);
        self.assignments.push(r.assignment_id);
        self.hashes.push(hash);
        self.bodies.push(Json(r));
        Ok(())
    }
}

/// A revision read from an untrusted record, clamped into the column's range.
fn rev_i32(revision: u32) -> i32 {
    i32::try_from(revision).unwrap_or(i32::MAX)
}

/// Whether a failed transaction may simply be run again: a deadlock or serialization
/// failure reported by PostgreSQL (code in the message, see `From<tokio_postgres::Error>`).
fn retryable(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend(m) if m.ends_with("(40P01)") || m.ends_with("(40001)"))
}

/// Attempts at a write transaction that PostgreSQL aborted as a deadlock victim.
const WRITE_ATTEMPTS: usize = 5;

fn quarantine_from(r: &Row) -> Result<QuarantineEntry, StoreError> {
    let code: String = r.try_get(8)?;
    let issues: String = r.try_get(10)?;
    Ok(QuarantineEntry {
        id: r.try_get(0)?,
        response_id: r.try_get(1)?,
        revision: u32::try_from(r.try_get::<_, i32>(2)?).unwrap_or(0),
        round_id: r.try_get(3)?,
        unit_code: r.try_get(4)?,
        assignment_id: r.try_get(5)?,
        surveyor_id: r.try_get(6)?,
        device_id: r.try_get(7)?,
        reason_code: reason_code_parse(&code).ok_or_else(|| bad(format!("reason {code:?}")))?,
        reason: r.try_get(9)?,
        issues: serde_json::from_str(&issues).map_err(|e| bad(format!("issues: {e}")))?,
        received_at: r.try_get(11)?,
        resolution: r.try_get(12)?,
        resolved_by: r.try_get(13)?,
        resolved_at: r.try_get(14)?,
        resolution_note: r.try_get(15)?,
        record_json: r.try_get(16)?,
        mode: {
            let m: String = r.try_get(17)?;
            sipas_core::mode::ResponseMode::parse(&m).ok_or_else(|| bad(format!("mode {m:?}")))?
        },
    })
}

async fn quarantine_entry_in(
    tx: &Transaction<'_>,
    id: Uuid,
    for_update: bool,
) -> Result<Option<QuarantineEntry>, StoreError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {} FROM quarantine WHERE id = $1{lock}",
            sql::QUARANTINE_COLS
        ))
        .await?;
    tx.query_opt(&stmt, &[&id])
        .await?
        .map(|r| quarantine_from(&r))
        .transpose()
}

async fn resolve_in(
    tx: &Transaction<'_>,
    id: Uuid,
    resolution: &str,
    supervisor: Uuid,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stmt = tx.prepare_cached(sql::RESOLVE_QUARANTINE).await?;
    tx.execute(&stmt, &[&resolution, &supervisor, &now, &note, &id])
        .await?;
    Ok(())
}

const TASK_COLS: &str = "t.id, t.round_id, t.response_id, t.revision, t.surveyor_id, \
     t.assignment_id, t.unit_code, t.flagged, t.quality_flags_json, t.key_items_json, t.seed, \
     t.monitor_id, t.created_at, f.result_json";

const TASK_FROM: &str = "spot_check_tasks t LEFT JOIN spot_check_findings f ON f.task_id = t.id";

/// A task from the [`TASK_COLS`] columns starting at index 0.
fn task_from(row: &Row) -> Result<SpotCheckTask, StoreError> {
    let seed: String = row.try_get(10)?;
    let seed = seed
        .parse::<u64>()
        .map_err(|_| bad(format!("seed {seed:?}")))?;
    let result: Option<Json<ReCheckResult>> = row.try_get(13)?;
    let Json(quality_flags) = row.try_get::<_, Json<Vec<QualityFlag>>>(8)?;
    let Json(key_items) = row.try_get::<_, Json<Vec<String>>>(9)?;
    Ok(SpotCheckTask {
        task: NewSpotCheckTask {
            id: row.try_get(0)?,
            round_id: row.try_get(1)?,
            response_id: row.try_get(2)?,
            revision: rev_of(row, 3)?,
            surveyor_id: row.try_get(4)?,
            assignment_id: row.try_get(5)?,
            unit_code: row.try_get(6)?,
            flagged: row.try_get(7)?,
            quality_flags,
            key_items,
            seed,
        },
        monitor_id: row.try_get(11)?,
        created_at: row.try_get(12)?,
        result: result.map(|Json(r)| r),
    })
}

fn decision_of(row: &Row, idx: usize) -> Result<Decision, StoreError> {
    let d: String = row.try_get(idx)?;
    decision_parse(&d).ok_or_else(|| bad(format!("decision {d:?}")))
}

/// Columns of [`DeviceRecord`] (`devices d JOIN users u`).
const DEVICE_COLS: &str =
    "d.id, d.name, d.user_id, u.username, d.enrolled_at, d.last_sync_at, d.revoked_at";

fn device_record_from(row: &Row) -> Result<DeviceRecord, StoreError> {
    Ok(DeviceRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        user_id: row.try_get(2)?,
        username: row.try_get(3)?,
        enrolled_at: row.try_get(4)?,
        last_sync_at: row.try_get(5)?,
        revoked_at: row.try_get(6)?,
    })
}

#[async_trait]
impl ServerStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn create_user(&self, user: NewUser) -> Result<UserInfo, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let info = UserInfo {
            id: Uuid::now_v7(),
            username: user.username,
            display_name: user.display_name,
            role: user.role,
        };
        let stmt = tx
            .prepare_cached(
                "INSERT INTO users (id, username, display_name, role, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &info.id,
                &info.username,
                &info.display_name,
                &info.role.as_str(),
                &user.password_hash,
                &Utc::now(),
            ],
        )
        .await
        .map_err(unique_as(|| format!("user {}", info.username)))?;
        store_scope_in(&tx, info.id, &user.scope).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                user.created_by,
                "user.created",
                Some(info.id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(UserInfo, Option<String>)>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = $1"
            ))
            .await?;
        match client.query_opt(&stmt, &[&username]).await? {
            Some(r) => Ok(Some((user_from(&r, 0)?, r.try_get(4)?))),
            None => Ok(None),
        }
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserInfo>, StoreError> {
        let client = self.pool.get().await?;
        user_in(&client, id).await
    }

    async fn create_enrolment_code(
        &self,
        code_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
        issued_by: Uuid,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        ensure_user(&tx, user_id).await?;
        ensure_user(&tx, issued_by).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO enrolment_codes (code_hash, user_id, issued_by, expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .await?;
        tx.execute(&stmt, &[&code_hash, &user_id, &issued_by, &expires_at])
            .await
            .map_err(unique_as(|| "enrolment code".to_owned()))?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(issued_by),
                "enrolment_code.issued",
                Some(user_id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn redeem_enrolment_code_with_key(
        &self,
        code_hash: &str,
        device_id: Uuid,
        device_name: &str,
        token_hash: &str,
        public_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<UserInfo>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The row lock makes a concurrent redeemer wait, then re-check `used_at IS NULL`.
        let stmt = tx
            .prepare_cached(
                "UPDATE enrolment_codes SET used_at = $1, device_id = $2 \
                 WHERE code_hash = $3 AND used_at IS NULL AND expires_at > $1 \
                 RETURNING user_id",
            )
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&now, &device_id, &code_hash]).await? else {
            return Ok(None); // dropping the transaction rolls back nothing
        };
        let user_id: Uuid = row.try_get(0)?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at, public_key) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &device_id,
                &user_id,
                &device_name,
                &token_hash,
                &now,
                &public_key,
            ],
        )
        .await
        .map_err(unique_as(|| format!("device {device_id}")))?;
        let user = user_in(&tx, user_id).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(user_id),
                "device.enrolled",
                Some(device_id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        ensure_user(&tx, user_id).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
            )
            .await?;
        tx.execute(&stmt, &[&token_hash, &user_id, &expires_at])
            .await
            .map_err(unique_as(|| "session".to_owned()))?;
        tx.commit().await?;
        Ok(())
    }

    async fn user_by_token_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserInfo, Option<Uuid>)>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
            ))
            .await?;
        if let Some(r) = client.query_opt(&stmt, &[&token_hash, &now]).await? {
            return Ok(Some((user_from(&r, 0)?, None)));
        }
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS}, d.id FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE d.token_hash = $1 AND d.revoked_at IS NULL AND u.disabled_at IS NULL"
            ))
            .await?;
        match client.query_opt(&stmt, &[&token_hash]).await? {
            Some(r) => Ok(Some((user_from(&r, 0)?, Some(r.try_get(4)?)))),
            None => Ok(None),
        }
    }

    async fn create_round(&self, round: &Round, actor: Uuid) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO rounds ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                sql::ROUND_COLS
            ))
            .await?;
        let cap = i32::try_from(round.outside_sample.cap_per_unit).unwrap_or(i32::MAX);
        tx.execute(
            &stmt,
            &[
                &round.id,
                &round.name,
                &round.form.form_id,
                &round.form.version,
                &round.starts_on,
                &round.ends_on,
                &round.outside_sample.replacement,
                &round.outside_sample.walk_in,
                &cap,
            ],
        )
        .await
        .map_err(unique_as(|| format!("round {}", round.id)))?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "round.created",
                Some(round.id.clone()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn round(&self, id: &str) -> Result<Option<Round>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} FROM rounds WHERE id = $1",
                sql::ROUND_COLS
            ))
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| round_from(&r))
            .transpose()
    }

    async fn rounds(&self) -> Result<Vec<Round>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} FROM rounds ORDER BY starts_on, id",
                sql::ROUND_COLS
            ))
            .await?;
        client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(round_from)
            .collect()
    }

    async fn round_units(&self, round_id: &str) -> Result<Vec<RoundUnit>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(sql::ROUND_UNITS).await?;
        client
            .query(&stmt, &[&round_id])
            .await?
            .iter()
            .map(|r| {
                let code: String = r.try_get(0)?;
                let name: Option<String> = r.try_get(1)?;
                Ok(RoundUnit {
                    name: name.unwrap_or_else(|| code.clone()),
                    code,
                })
            })
            .collect()
    }

    async fn import_sample(
        &self,
        round_id: &str,
        rows: &[SampleRow],
        actor: Uuid,
    ) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached("SELECT 1 FROM rounds WHERE id = $1")
            .await?;
        if tx.query_opt(&stmt, &[&round_id]).await?.is_none() {
            return Err(StoreError::NotFound {
                what: "round",
                id: round_id.to_owned(),
            });
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let seq = next_seq(&tx).await?;
        // Set-based, a chunk per statement: one round trip per row made an import of 30,000
        // rows take 30 s (BENCHMARKS.md, 2026-12-03 (h)).
        let ins = tx.prepare_cached(IMPORT_ASSIGNMENTS).await?;
        let contact = tx.prepare_cached(IMPORT_CONTACTS).await?;
        let mut inserted = 0u64;
        for chunk in rows.chunks(IMPORT_CHUNK) {
            let cols = SampleColumns::of(chunk);
            let mut new_ids: BTreeSet<Uuid> = tx
                .query(
                    &ins,
                    &[
                        &cols.ids,
                        &round_id,
                        &cols.units,
                        &cols.procedures,
                        &cols.agencies,
                        &seq,
                        &cols.unit_names,
                        &cols.agency_codes,
                        &cols.field_codes,
                        &cols.field_names,
                        &cols.procedure_codes,
                    ],
                )
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            // The contact of a new row's first occurrence in the import (a repeated id is
            // skipped, as a row already in the round is).
            let mut ids = Vec::with_capacity(new_ids.len());
            let (mut names, mut addresses, mut phones) = (Vec::new(), Vec::new(), Vec::new());
            for row in chunk {
                if new_ids.remove(&row.id) {
                    ids.push(row.id);
                    names.push(row.contact.name.as_str());
                    addresses.push(row.contact.address.as_str());
                    phones.push(row.contact.phone.as_deref());
                }
            }
            tx.execute(&contact, &[&ids, &names, &addresses, &phones])
                .await?;
            inserted += ids.len() as u64;
        }
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "sample.imported",
                Some(round_id.to_owned()),
            )],
        )
        .await?;
        tx.commit().await?;
        if inserted >= ANALYZE_AFTER_IMPORT {
            // After a bulk load, as PostgreSQL's manual advises: the uploads and assignments
            // that follow at once are planned on the tables as they now are, not on the
            // statistics of an empty round (autovacuum would take a minute or more).
            if let Err(e) = client
                .batch_execute("ANALYZE assignments, sample_contacts")
                .await
            {
                tracing::warn!(error = %e, "ANALYZE after the sample import failed");
            }
        }
        Ok(inserted)
    }

    async fn assign(
        &self,
        assignment_ids: &[Uuid],
        surveyor: Uuid,
        actor: Uuid,
    ) -> Result<u64, StoreError> {
        let mut ids = assignment_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        ensure_user(&tx, surveyor).await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let seq = next_seq(&tx).await?;
        // Moves away from another surveyor: refused when a response exists, else recorded as
        // withdrawals (checked before anything is written). Set-based, a chunk of ids per
        // statement, in id order (the order rows are locked in).
        let current = tx.prepare_cached(ASSIGN_CURRENT).await?;
        let mut withdrawals: (Vec<Uuid>, Vec<Uuid>) = (Vec::new(), Vec::new());
        for chunk in ids.chunks(IMPORT_CHUNK) {
            for row in tx.query(&current, &[&chunk]).await? {
                let id: Uuid = row.try_get(0)?;
                let from: Option<Uuid> = row.try_get(1)?;
                let has_response: bool = row.try_get(2)?;
                match from {
                    Some(from) if from != surveyor => {
                        if has_response {
                            return Err(StoreError::AssignmentHasResponse(id));
                        }
                        withdrawals.0.push(id);
                        withdrawals.1.push(from);
                    }
                    _ => {}
                }
            }
        }
        let mut audit = Vec::new();
        if !withdrawals.0.is_empty() {
            let insert = tx.prepare_cached(ASSIGN_WITHDRAWALS).await?;
            tx.execute(&insert, &[&seq, &withdrawals.0, &withdrawals.1, &actor])
                .await?;
            audit.extend(withdrawals.0.iter().map(|id| {
                AuditRow::new(Some(actor), "assignment.withdrawn", Some(id.to_string()))
            }));
        }
        let withdrawn = audit.len();
        let stmt = tx.prepare_cached(ASSIGN_SURVEYOR).await?;
        for chunk in ids.chunks(IMPORT_CHUNK) {
            let assigned: BTreeSet<Uuid> = tx
                .query(&stmt, &[&surveyor, &seq, &chunk])
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            audit.extend(
                assigned.iter().map(|id| {
                    AuditRow::new(Some(actor), "assignment.assigned", Some(id.to_string()))
                }),
            );
        }
        let updated = (audit.len() - withdrawn) as u64;
        append_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn assignment(&self, id: Uuid) -> Result<Option<(Assignment, Option<Uuid>)>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!("{ASSIGNMENT_SELECT} WHERE a.id = $1"))
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| assignment_from(&r))
            .transpose()
    }

    async fn set_assignment_status(
        &self,
        id: Uuid,
        status: AssignmentStatus,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let seq = next_seq(&tx).await?;
        let stmt = tx
            .prepare_cached("UPDATE assignments SET status = $1, change_seq = $2 WHERE id = $3")
            .await?;
        if tx.execute(&stmt, &[&status.as_str(), &seq, &id]).await? == 0 {
            return Err(StoreError::NotFound {
                what: "assignment",
                id: id.to_string(),
            });
        }
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                format!("assignment.{}", status.as_str()),
                Some(id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn assignments_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Assignment>, i64), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let high = current_seq(&tx).await?;
        let after = if cursor > high { 0 } else { cursor };
        let stmt = tx
            .prepare_cached(&format!(
                "{ASSIGNMENT_SELECT} WHERE a.surveyor_id = $1 AND a.change_seq > $2 \
                 AND a.origin = 'sample' ORDER BY a.change_seq, a.id"
            ))
            .await?;
        let list = tx
            .query(&stmt, &[&surveyor, &after])
            .await?
            .iter()
            .map(|r| assignment_from(r).map(|(a, _)| a))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok((list, high))
    }

    async fn decisions_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<ReviewDecision>, i64), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let high = current_seq(&tx).await?;
        let after = if cursor > high { 0 } else { cursor };
        let stmt = tx
            .prepare_cached(
                "SELECT response_id, revision, decision, comment, item_comments_json, decided_at \
                 FROM review_decisions WHERE surveyor_id = $1 AND seq > $2 ORDER BY seq",
            )
            .await?;
        let mut list = Vec::new();
        for r in tx.query(&stmt, &[&surveyor, &after]).await? {
            let decision: String = r.try_get(2)?;
            let Json(item_comments) = r.try_get::<_, Json<BTreeMap<String, String>>>(4)?;
            list.push(ReviewDecision {
                response_id: r.try_get(0)?,
                revision: rev_of(&r, 1)?,
                decision: decision_parse(&decision)
                    .ok_or_else(|| bad(format!("decision {decision:?}")))?,
                comment: r.try_get(3)?,
                item_comments,
                decided_at: r.try_get(5)?,
            });
        }
        tx.commit().await?;
        Ok((list, high))
    }

    async fn ingest_batch(
        &self,
        batch: std::sync::Arc<IngestBatch>,
    ) -> Result<Vec<RecordAck>, StoreError> {
        let batch = &*batch;
        let mut attempt = 1;
        loop {
            let mut client = self.pool.get().await?;
            let result = async {
                let tx = client.transaction().await?;
                lock_batch(&tx, batch).await?;
                let mut ctx = ingest_context(&tx, batch).await?;
                let plan = ingest::plan(batch, &mut ctx, Uuid::now_v7);
                execute_ops(&tx, batch, &ctx, &plan.ops).await?;
                tx.commit().await?;
                Ok::<_, StoreError>(plan.acks)
            }
            .await;
            match result {
                Err(e) if retryable(&e) && attempt < WRITE_ATTEMPTS => {
                    tracing::debug!(attempt, "ingest transaction retried after a deadlock");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn quarantine_entries(
        &self,
        round_id: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<QuarantineEntry>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {} FROM quarantine \
                 WHERE ($1::text IS NULL OR round_id = $1) AND (NOT $2 OR resolution IS NULL) \
                 ORDER BY received_at DESC, id DESC",
                sql::QUARANTINE_COLS
            ))
            .await?;
        client
            .query(&stmt, &[&round_id, &open_only])
            .await?
            .iter()
            .map(quarantine_from)
            .collect()
    }

    async fn quarantine_entry(&self, id: Uuid) -> Result<Option<QuarantineEntry>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let entry = quarantine_entry_in(&tx, id, false).await?;
        tx.commit().await?;
        Ok(entry)
    }

    async fn accept_quarantined(
        &self,
        id: Uuid,
        batch: &IngestBatch,
        note: Option<&str>,
    ) -> Result<Resolved, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        lock_batch(&tx, batch).await?;
        let Some(entry) = quarantine_entry_in(&tx, id, true).await? else {
            return Err(StoreError::NotFound {
                what: "quarantine entry",
                id: id.to_string(),
            });
        };
        if entry.resolution.is_some() {
            return Ok(Resolved::AlreadyResolved);
        }
        let mut ctx = ingest_context(&tx, batch).await?;
        let plan = ingest::plan(batch, &mut ctx, Uuid::now_v7);
        let ack =
            plan.acks.into_iter().next().ok_or_else(|| {
                StoreError::Backend("an acceptance batch holds one record".into())
            })?;
        if !ack.status.is_delivered() {
            return Ok(Resolved::Refused(ack));
        }
        let supervisor = batch.override_by.unwrap_or(batch.source.surveyor);
        resolve_in(&tx, id, "accepted", supervisor, note, batch.received_at).await?;
        let mut ops = plan.ops;
        ops.push(Op::Audit {
            actor: Some(supervisor),
            action: ingest::action::QUARANTINE_ACCEPTED,
            entity: Some(id.to_string()),
        });
        execute_ops(&tx, batch, &ctx, &ops).await?;
        tx.commit().await?;
        Ok(Resolved::Done(Some(ack)))
    }

    async fn dismiss_quarantined(
        &self,
        id: Uuid,
        supervisor: Uuid,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Resolved, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(entry) = quarantine_entry_in(&tx, id, true).await? else {
            return Err(StoreError::NotFound {
                what: "quarantine entry",
                id: id.to_string(),
            });
        };
        if entry.resolution.is_some() {
            return Ok(Resolved::AlreadyResolved);
        }
        resolve_in(&tx, id, "dismissed", supervisor, note, now).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(supervisor),
                ingest::action::QUARANTINE_DISMISSED,
                Some(id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Resolved::Done(None))
    }

    async fn void_response(
        &self,
        id: Uuid,
        supervisor: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Voided, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!("{} FOR UPDATE", sql::BINDING_OF))
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&id]).await? else {
            return Err(StoreError::NotFound {
                what: "response",
                id: id.to_string(),
            });
        };
        let assignment: Option<Uuid> = row.try_get(0)?;
        if row.try_get::<_, bool>(1)? {
            return Ok(Voided::AlreadyVoided);
        }
        let stmt = tx.prepare_cached(sql::VOID_BINDING).await?;
        tx.execute(&stmt, &[&now, &supervisor, &reason, &id])
            .await?;
        {
            let mut cx = Counting::default();
            refresh_counts(&tx, &[id], None, false, &mut cx).await?;
            apply_deltas(&tx, cx.deltas).await?;
        }
        if let Some(a) = assignment {
            let seq = next_seq(&tx).await?;
            let stmt = tx.prepare_cached(sql::REOPEN_ASSIGNMENT).await?;
            tx.execute(&stmt, &[&seq, &a]).await?;
        }
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(supervisor),
                ingest::action::VOIDED,
                Some(id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Voided::Done)
    }

    async fn responses_for_round(&self, round_id: &str) -> Result<Vec<Response>, StoreError> {
        Ok(self.report_responses(round_id).await?.0)
    }

    async fn response(
        &self,
        id: Uuid,
        revision: u32,
    ) -> Result<Option<(Response, Uuid)>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT body_json, submitted_by FROM responses WHERE id = $1 AND revision = $2",
            )
            .await?;
        match client.query_opt(&stmt, &[&id, &rev(revision)?]).await? {
            Some(r) => Ok(Some((r.try_get::<_, Json<Response>>(0)?.0, r.try_get(1)?))),
            None => Ok(None),
        }
    }

    async fn response_count(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT COUNT(*) FROM responses")
            .await?;
        count(&client.query_one(&stmt, &[]).await?, 0)
    }

    async fn record_decision(
        &self,
        decision: &ReviewDecision,
        reviewer: Uuid,
    ) -> Result<(), StoreError> {
        let d = decision;
        let revision = rev(d.revision)?;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached("SELECT submitted_by FROM responses WHERE id = $1 AND revision = $2")
            .await?;
        let entity = revision_entity(d.response_id, d.revision);
        let Some(row) = tx.query_opt(&stmt, &[&d.response_id, &revision]).await? else {
            return Err(StoreError::NotFound {
                what: "response",
                id: entity,
            });
        };
        let surveyor: Uuid = row.try_get(0)?;
        let seq = next_seq(&tx).await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO review_decisions (seq, response_id, revision, decision, comment, \
                 item_comments_json, decided_at, reviewer, surveyor_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .await?;
        tx.execute(
            &stmt,
            &[
                &seq,
                &d.response_id,
                &revision,
                &decision_str(d.decision),
                &d.comment,
                &Json(&d.item_comments),
                &d.decided_at,
                &reviewer,
                &surveyor,
            ],
        )
        .await?;
        {
            let mut cx = Counting::default();
            refresh_counts(&tx, &[d.response_id], None, false, &mut cx).await?;
            apply_deltas(&tx, cx.deltas).await?;
        }
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(reviewer),
                format!("review.{}", decision_str(d.decision)),
                Some(entity),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn progress(&self, round_id: &str) -> Result<BTreeMap<Uuid, Progress>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let mut out: BTreeMap<Uuid, Progress> = BTreeMap::new();
        let stmt = tx
            .prepare_cached(
                "SELECT surveyor_id, COUNT(*), \
                        COUNT(*) FILTER (WHERE status = 'collected'), \
                        COUNT(*) FILTER (WHERE status IN ('absent', 'refused', 'moved', 'invalid')) \
                 FROM assignments WHERE round_id = $1 AND surveyor_id IS NOT NULL \
                 AND origin = 'sample' GROUP BY surveyor_id",
            )
            .await?;
        for r in tx.query(&stmt, &[&round_id]).await? {
            let p = out.entry(r.try_get(0)?).or_default();
            p.assigned = count(&r, 1)?;
            p.collected = count(&r, 2)?;
            p.non_response = count(&r, 3)?;
        }
        let stmt = tx.prepare_cached(sql::SYNCED_BY_SURVEYOR_ORIGIN).await?;
        for r in tx.query(&stmt, &[&round_id]).await? {
            let origin: String = r.try_get(1)?;
            out.entry(r.try_get(0)?)
                .or_default()
                .add_synced(&origin, count(&r, 2)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn audit(
        &self,
        actor: Option<Uuid>,
        action: &str,
        entity_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        append_audit(
            &tx,
            vec![AuditRow::new(actor, action, entity_id.map(str::to_owned))],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_entries(
        &self,
        since_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT seq, at, actor, action, entity_id FROM audit_log \
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .await?;
        client
            .query(&stmt, &[&since_seq, &i64::from(limit)])
            .await?
            .iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    entity_id: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn device(&self, id: Uuid) -> Result<Option<DeviceInfo>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS}, d.public_key FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE d.id = $1"
            ))
            .await?;
        match client.query_opt(&stmt, &[&id]).await? {
            Some(r) => Ok(Some(DeviceInfo {
                id,
                user: user_from(&r, 0)?,
                public_key: r.try_get(4)?,
            })),
            None => Ok(None),
        }
    }

    async fn users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users u WHERE ($1::text IS NULL OR u.role = $1) \
                 ORDER BY u.username"
            ))
            .await?;
        client
            .query(&stmt, &[&role.map(Role::as_str)])
            .await?
            .iter()
            .map(|r| user_from(r, 0))
            .collect()
    }

    async fn progress_by_unit(
        &self,
        round_id: &str,
    ) -> Result<BTreeMap<String, Progress>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let mut out: BTreeMap<String, Progress> = BTreeMap::new();
        let stmt = tx
            .prepare_cached(
                "SELECT unit_code, COUNT(*) FILTER (WHERE surveyor_id IS NOT NULL), \
                        COUNT(*) FILTER (WHERE status = 'collected'), \
                        COUNT(*) FILTER (WHERE status IN ('absent', 'refused', 'moved', 'invalid')) \
                 FROM assignments WHERE round_id = $1 AND origin = 'sample' GROUP BY unit_code",
            )
            .await?;
        for r in tx.query(&stmt, &[&round_id]).await? {
            let p = out.entry(r.try_get(0)?).or_default();
            p.assigned = count(&r, 1)?;
            p.collected = count(&r, 2)?;
            p.non_response = count(&r, 3)?;
        }
        let stmt = tx.prepare_cached(sql::SYNCED_BY_UNIT_ORIGIN).await?;
        for r in tx.query(&stmt, &[&round_id]).await? {
            let origin: String = r.try_get(1)?;
            out.entry(r.try_get(0)?)
                .or_default()
                .add_synced(&origin, count(&r, 2)?);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn review_stretch(
        &self,
        round_id: &str,
        page: &ReviewPage,
        admit: super::Admit,
    ) -> Result<ReviewStretch, StoreError> {
        let client = self.pool.get().await?;
        let (state, limit) = (page.state.code(), i64::from(page.limit));
        let rows = match page.after {
            None => {
                let stmt = client.prepare_cached(sql::REVIEW_STRETCH_FIRST).await?;
                client.query(&stmt, &[&state, &round_id, &limit]).await?
            }
            Some(after) => {
                let stmt = client.prepare_cached(sql::REVIEW_STRETCH_AFTER).await?;
                client
                    .query(&stmt, &[&state, &round_id, &after, &limit])
                    .await?
            }
        };
        let mut stretch = ReviewStretch::default();
        for r in rows {
            // The body is parsed only when the caller admits the response.
            let in_state = r.try_get::<_, Option<Present>>(4)?.is_some();
            let body: Option<Json<Response>> =
                match in_state && admit(r.try_get(5)?, r.try_get::<_, Option<&str>>(6)?) {
                    true => r.try_get(4)?,
                    false => None,
                };
            let item = match body {
                None => None,
                Some(Json(response)) => {
                    let decision: Option<String> = r.try_get(3)?;
                    Some(ReviewItem {
                        response,
                        surveyor_id: r.try_get(1)?,
                        received_at: r.try_get(2)?,
                        decision: match decision {
                            Some(_) => Some(decision_of(&r, 3)?),
                            None => None,
                        },
                    })
                }
            };
            stretch.push(r.try_get(0)?, item);
        }
        Ok(stretch)
    }

    async fn decisions_for(
        &self,
        response_id: Uuid,
        revision: u32,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT response_id, revision, decision, comment, item_comments_json, \
                        decided_at, reviewer \
                 FROM review_decisions WHERE response_id = $1 AND revision = $2 ORDER BY seq",
            )
            .await?;
        let mut out = Vec::new();
        for r in client
            .query(&stmt, &[&response_id, &rev(revision)?])
            .await?
        {
            let Json(item_comments) = r.try_get::<_, Json<BTreeMap<String, String>>>(4)?;
            out.push(DecisionRecord {
                decision: ReviewDecision {
                    response_id: r.try_get(0)?,
                    revision: rev_of(&r, 1)?,
                    decision: decision_of(&r, 2)?,
                    comment: r.try_get(3)?,
                    item_comments,
                    decided_at: r.try_get(5)?,
                },
                reviewer_id: r.try_get(6)?,
            });
        }
        Ok(out)
    }

    async fn report_responses(
        &self,
        round_id: &str,
    ) -> Result<(Vec<Response>, Option<DateTime<Utc>>), StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(sql::COUNTED_RESPONSES).await?;
        let (mut responses, mut latest) = (Vec::new(), None::<DateTime<Utc>>);
        for r in client.query(&stmt, &[&round_id]).await? {
            responses.push(r.try_get::<_, Json<Response>>(0)?.0);
            let at: DateTime<Utc> = r.try_get(1)?;
            latest = Some(latest.map_or(at, |l| l.max(at)));
        }
        Ok((responses, latest))
    }

    async fn round_counts(
        &self,
        round_id: &str,
        detail: crate::answer_counts::Detail,
    ) -> Result<crate::answer_counts::RoundCounts, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let stmt = tx.prepare_cached(sql::COUNTS_OF_ROUND).await?;
        // A portal read in chunks: the client never buffers the whole round's rows.
        let portal = tx.bind(&stmt, &[&round_id]).await?;
        let mut reader = crate::answer_counts::CountsReader::new(detail);
        loop {
            let chunk = tx.query_portal(&portal, COUNTS_CHUNK).await?;
            for r in &chunk {
                reader.push(
                    [
                        r.try_get(0)?,
                        r.try_get(1)?,
                        r.try_get(2)?,
                        r.try_get(3)?,
                        r.try_get(4)?,
                        r.try_get(5)?,
                    ],
                    count(r, 6)?,
                );
            }
            if chunk.len() < COUNTS_CHUNK as usize {
                break;
            }
        }
        let stmt = tx.prepare_cached(sql::COUNTS_DATA_AS_OF).await?;
        let data_as_of: Option<DateTime<Utc>> =
            tx.query_one(&stmt, &[&round_id]).await?.try_get(0)?;
        tx.commit().await?;
        Ok(reader.finish(data_as_of))
    }

    async fn create_spot_check_tasks(
        &self,
        tasks: &[NewSpotCheckTask],
        actor: Uuid,
    ) -> Result<u64, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO spot_check_tasks (id, round_id, response_id, revision, \
                 surveyor_id, assignment_id, unit_code, flagged, quality_flags_json, \
                 key_items_json, seed, monitor_id, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13) \
                 ON CONFLICT (response_id) DO NOTHING",
            )
            .await?;
        let now = Utc::now();
        let mut audit = Vec::new();
        for t in tasks {
            let n = tx
                .execute(
                    &stmt,
                    &[
                        &t.id,
                        &t.round_id,
                        &t.response_id,
                        &rev(t.revision)?,
                        &t.surveyor_id,
                        &t.assignment_id,
                        &t.unit_code,
                        &t.flagged,
                        &Json(&t.quality_flags),
                        &Json(&t.key_items),
                        &t.seed.to_string(),
                        &now,
                        &actor,
                    ],
                )
                .await?;
            if n == 1 {
                audit.push(AuditRow::new(
                    Some(actor),
                    "spot_check.created",
                    Some(t.id.to_string()),
                ));
            }
        }
        let created = audit.len() as u64;
        append_audit(&tx, audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn spot_check_tasks(&self, round_id: &str) -> Result<Vec<SpotCheckTask>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {TASK_COLS} FROM {TASK_FROM} WHERE t.round_id = $1 ORDER BY t.id"
            ))
            .await?;
        client
            .query(&stmt, &[&round_id])
            .await?
            .iter()
            .map(task_from)
            .collect()
    }

    async fn spot_check_task(&self, id: Uuid) -> Result<Option<SpotCheckTask>, StoreError> {
        self.task_where("t.id", id).await
    }

    async fn spot_check_task_for_response(
        &self,
        response_id: Uuid,
    ) -> Result<Option<SpotCheckTask>, StoreError> {
        self.task_where("t.response_id", response_id).await
    }

    async fn assign_spot_check(
        &self,
        task_id: Uuid,
        monitor_id: Uuid,
        actor: Uuid,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // FOR UPDATE: a finding recorded concurrently waits, or is seen below.
        let stmt = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM spot_check_findings f WHERE f.task_id = t.id) \
                 FROM spot_check_tasks t WHERE t.id = $1 FOR UPDATE",
            )
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&task_id]).await? else {
            return Err(StoreError::NotFound {
                what: "spot-check task",
                id: task_id.to_string(),
            });
        };
        ensure_user(&tx, monitor_id).await?;
        let done: bool = row.try_get(0)?;
        if done {
            return Ok(false);
        }
        let stmt = tx
            .prepare_cached("UPDATE spot_check_tasks SET monitor_id = $1 WHERE id = $2")
            .await?;
        tx.execute(&stmt, &[&monitor_id, &task_id]).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "spot_check.assigned",
                Some(task_id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn monitor_tasks(&self, monitor_id: Uuid) -> Result<Vec<MonitorTaskRow>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {TASK_COLS}, rd.form_id, rd.form_version, a.procedure, \
                        c.name, c.address, c.phone \
                 FROM {TASK_FROM} JOIN rounds rd ON rd.id = t.round_id \
                 LEFT JOIN assignments a ON a.id = t.assignment_id \
                 LEFT JOIN sample_contacts c ON c.assignment_id = t.assignment_id \
                 WHERE t.monitor_id = $1 ORDER BY t.id"
            ))
            .await?;
        let mut out = Vec::new();
        for r in client.query(&stmt, &[&monitor_id]).await? {
            let name: Option<String> = r.try_get(17)?;
            let contact = match name {
                Some(name) => Some(Contact {
                    name,
                    address: r.try_get(18)?,
                    phone: r.try_get(19)?,
                }),
                None => None,
            };
            out.push(MonitorTaskRow {
                task: task_from(&r)?,
                form: FormKey {
                    form_id: r.try_get(14)?,
                    version: r.try_get(15)?,
                },
                procedure: r.try_get(16)?,
                contact,
            });
        }
        Ok(out)
    }

    async fn record_finding(&self, finding: &NewFinding) -> Result<FindingOutcome, StoreError> {
        let f = finding;
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // The task row lock orders this against a concurrent re-assignment or finding.
        let stmt = tx
            .prepare_cached("SELECT monitor_id FROM spot_check_tasks WHERE id = $1 FOR UPDATE")
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&f.task_id]).await? else {
            return Err(StoreError::NotFound {
                what: "spot-check task",
                id: f.task_id.to_string(),
            });
        };
        let monitor: Option<Uuid> = row.try_get(0)?;
        if monitor != Some(f.monitor_id) {
            return Ok(FindingOutcome::NotAssigned);
        }
        let stmt = tx
            .prepare_cached(
                "INSERT INTO spot_check_findings (task_id, monitor_id, visit_happened, \
                 answers_json, note, result_json, submitted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (task_id) DO NOTHING",
            )
            .await?;
        let n = tx
            .execute(
                &stmt,
                &[
                    &f.task_id,
                    &f.monitor_id,
                    &f.visit_happened,
                    &Json(&f.answers),
                    &f.note,
                    &Json(&f.result),
                    &f.submitted_at,
                ],
            )
            .await?;
        if n == 0 {
            return Ok(FindingOutcome::AlreadyFinal);
        }
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(f.monitor_id),
                "spot_check.finding",
                Some(f.task_id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(FindingOutcome::Recorded)
    }

    async fn withdrawn_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Uuid>, i64), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let high = current_seq(&tx).await?;
        let after = if cursor > high { 0 } else { cursor };
        // Not those given back to the surveyor since (they come with the assignments).
        let stmt = tx
            .prepare_cached(
                "SELECT w.assignment_id FROM assignment_withdrawals w \
                 JOIN assignments a ON a.id = w.assignment_id \
                 WHERE w.surveyor_id = $1 AND w.seq > $2 \
                   AND a.surveyor_id IS DISTINCT FROM w.surveyor_id \
                 GROUP BY w.assignment_id ORDER BY MIN(w.seq), w.assignment_id",
            )
            .await?;
        let ids = tx
            .query(&stmt, &[&surveyor, &after])
            .await?
            .iter()
            .map(|r| r.try_get::<_, Uuid>(0))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().await?;
        Ok((ids, high))
    }

    async fn revoke_token(
        &self,
        token_hash: &str,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<RevokedToken, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
            .await?;
        if let Some(row) = tx.query_opt(&stmt, &[&token_hash]).await? {
            let user: Uuid = row.try_get(0)?;
            append_audit(
                &tx,
                vec![AuditRow::new(
                    Some(actor),
                    "session.logout",
                    Some(user.to_string()),
                )],
            )
            .await?;
            tx.commit().await?;
            return Ok(RevokedToken::Session);
        }
        let stmt = tx
            .prepare_cached(
                "UPDATE devices SET revoked_at = $2 \
                 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id",
            )
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&token_hash, &now]).await? else {
            return Ok(RevokedToken::None);
        };
        let id: Uuid = row.try_get(0)?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "device.revoked",
                Some(id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(RevokedToken::Device(id))
    }

    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled: bool,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        ensure_user(&tx, user_id).await?;
        let changed = if disabled {
            let stmt = tx
                .prepare_cached(
                    "UPDATE users SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL",
                )
                .await?;
            tx.execute(&stmt, &[&user_id, &now]).await?
        } else {
            let stmt = tx
                .prepare_cached(
                    "UPDATE users SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL",
                )
                .await?;
            tx.execute(&stmt, &[&user_id]).await?
        };
        if disabled {
            // Also when it was disabled already: no session survives a disable call.
            let stmt = tx
                .prepare_cached("DELETE FROM sessions WHERE user_id = $1")
                .await?;
            tx.execute(&stmt, &[&user_id]).await?;
        }
        if changed > 0 {
            let action = if disabled {
                "user.disabled"
            } else {
                "user.enabled"
            };
            append_audit(
                &tx,
                vec![AuditRow::new(
                    Some(actor),
                    action,
                    Some(user_id.to_string()),
                )],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed > 0)
    }

    async fn user_disabled(&self, user_id: Uuid) -> Result<Option<bool>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT disabled_at IS NOT NULL FROM users WHERE id = $1")
            .await?;
        match client.query_opt(&stmt, &[&user_id]).await? {
            Some(r) => Ok(Some(r.try_get(0)?)),
            None => Ok(None),
        }
    }

    async fn devices(&self, user_id: Option<Uuid>) -> Result<Vec<DeviceRecord>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLS} FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE ($1::uuid IS NULL OR d.user_id = $1) ORDER BY d.enrolled_at, d.id"
            ))
            .await?;
        client
            .query(&stmt, &[&user_id])
            .await?
            .iter()
            .map(device_record_from)
            .collect()
    }

    async fn revoke_device(
        &self,
        device_id: Uuid,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<DeviceRecord, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .await?;
        if tx.execute(&stmt, &[&device_id, &now]).await? > 0 {
            append_audit(
                &tx,
                vec![AuditRow::new(
                    Some(actor),
                    "device.revoked",
                    Some(device_id.to_string()),
                )],
            )
            .await?;
        }
        let stmt = tx
            .prepare_cached(&format!(
                "SELECT {DEVICE_COLS} FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE d.id = $1"
            ))
            .await?;
        let device = tx
            .query_opt(&stmt, &[&device_id])
            .await?
            .map(|r| device_record_from(&r))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound {
                what: "device",
                id: device_id.to_string(),
            })?;
        tx.commit().await?;
        Ok(device)
    }

    async fn touch_device(&self, device_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE devices SET last_sync_at = $2 \
                 WHERE id = $1 AND (last_sync_at IS NULL OR last_sync_at < $2)",
            )
            .await?;
        client.execute(&stmt, &[&device_id, &at]).await?;
        Ok(())
    }

    // --- scope and tenancy (issue 10) ---------------------------------------------------------

    async fn user_records(&self, role: Option<Role>) -> Result<Vec<UserRecord>, StoreError> {
        let client = self.pool.get().await?;
        let mut scopes = scopes_in(&client, None).await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLS}, u.disabled_at IS NOT NULL FROM users u \
                 WHERE ($1::text IS NULL OR u.role = $1) ORDER BY u.username"
            ))
            .await?;
        let role = role.map(|r| r.as_str());
        let mut out = Vec::new();
        for row in client.query(&stmt, &[&role]).await? {
            let user = user_from(&row, 0)?;
            out.push(UserRecord {
                scope: scopes.remove(&user.id).unwrap_or_default(),
                disabled: row.try_get(4)?,
                user,
            });
        }
        Ok(out)
    }

    async fn user_scope(&self, user_id: Uuid) -> Result<ScopeCodes, StoreError> {
        let client = self.pool.get().await?;
        Ok(scopes_in(&client, Some(user_id))
            .await?
            .remove(&user_id)
            .unwrap_or_default())
    }

    async fn update_user(
        &self,
        user_id: Uuid,
        change: &UserChange,
        actor: Uuid,
    ) -> Result<UserInfo, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        ensure_user(&tx, user_id).await?;
        if let Some(name) = &change.display_name {
            let stmt = tx
                .prepare_cached("UPDATE users SET display_name = $2 WHERE id = $1")
                .await?;
            tx.execute(&stmt, &[&user_id, name]).await?;
        }
        if let Some(role) = change.role {
            let stmt = tx
                .prepare_cached("UPDATE users SET role = $2 WHERE id = $1")
                .await?;
            tx.execute(&stmt, &[&user_id, &role.as_str()]).await?;
        }
        if let Some(scope) = &change.scope {
            store_scope_in(&tx, user_id, scope).await?;
        }
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "user.updated",
                Some(user_id.to_string()),
            )],
        )
        .await?;
        let user = user_in(&tx, user_id).await?;
        tx.commit().await?;
        user.ok_or(StoreError::NotFound {
            what: "user",
            id: user_id.to_string(),
        })
    }

    async fn set_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        ensure_user(&tx, user_id).await?;
        let stmt = tx
            .prepare_cached("UPDATE users SET password_hash = $2 WHERE id = $1")
            .await?;
        tx.execute(&stmt, &[&user_id, &password_hash]).await?;
        let stmt = tx
            .prepare_cached("DELETE FROM sessions WHERE user_id = $1")
            .await?;
        tx.execute(&stmt, &[&user_id]).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "user.password_reset",
                Some(user_id.to_string()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_planned_round(
        &self,
        round: &Round,
        plan: &RoundPlan,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO rounds ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                sql::ROUND_COLS
            ))
            .await?;
        let cap = i32::try_from(round.outside_sample.cap_per_unit).unwrap_or(i32::MAX);
        tx.execute(
            &stmt,
            &[
                &round.id,
                &round.name,
                &round.form.form_id,
                &round.form.version,
                &round.starts_on,
                &round.ends_on,
                &round.outside_sample.replacement,
                &round.outside_sample.walk_in,
                &cap,
            ],
        )
        .await
        .map_err(unique_as(|| format!("round {}", round.id)))?;
        store_plan_in(&tx, &round.id, plan).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "round.created",
                Some(round.id.clone()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_round(
        &self,
        round: &Round,
        plan: &RoundPlan,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE rounds SET name = $2, starts_on = $3, ends_on = $4, \
                 outside_replacement = $5, outside_walk_in = $6, outside_cap_per_unit = $7 \
                 WHERE id = $1",
            )
            .await?;
        let cap = i32::try_from(round.outside_sample.cap_per_unit).unwrap_or(i32::MAX);
        let changed = tx
            .execute(
                &stmt,
                &[
                    &round.id,
                    &round.name,
                    &round.starts_on,
                    &round.ends_on,
                    &round.outside_sample.replacement,
                    &round.outside_sample.walk_in,
                    &cap,
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: "round",
                id: round.id.clone(),
            });
        }
        store_plan_in(&tx, &round.id, plan).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "round.updated",
                Some(round.id.clone()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn round_plans(&self) -> Result<BTreeMap<String, RoundPlan>, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let mut out: BTreeMap<String, RoundPlan> = BTreeMap::new();
        let stmt = tx
            .prepare_cached("SELECT id, closed_at FROM rounds")
            .await?;
        for row in tx.query(&stmt, &[]).await? {
            let id: String = row.try_get(0)?;
            out.entry(id).or_default().closed_at = row.try_get(1)?;
        }
        let stmt = tx
            .prepare_cached(
                "SELECT round_id, unit_code FROM round_units ORDER BY round_id, unit_code",
            )
            .await?;
        for row in tx.query(&stmt, &[]).await? {
            let id: String = row.try_get(0)?;
            out.entry(id).or_default().units.push(row.try_get(1)?);
        }
        let stmt = tx
            .prepare_cached(
                "SELECT round_id, agency_code, listed, target FROM round_agencies \
                 ORDER BY round_id, agency_code",
            )
            .await?;
        for row in tx.query(&stmt, &[]).await? {
            let id: String = row.try_get(0)?;
            let code: String = row.try_get(1)?;
            let listed: bool = row.try_get(2)?;
            let target: Option<i32> = row.try_get(3)?;
            let plan = out.entry(id).or_default();
            if let Some(t) = target {
                plan.targets
                    .insert(code.clone(), u32::try_from(t).unwrap_or_default());
            }
            if listed {
                plan.agencies.push(code);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn close_round(
        &self,
        round_id: &str,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let stmt = tx
            .prepare_cached("SELECT closed_at IS NOT NULL FROM rounds WHERE id = $1 FOR UPDATE")
            .await?;
        let Some(row) = tx.query_opt(&stmt, &[&round_id]).await? else {
            return Err(StoreError::NotFound {
                what: "round",
                id: round_id.to_owned(),
            });
        };
        let closed: bool = row.try_get(0)?;
        if closed {
            return Ok(false);
        }
        let stmt = tx
            .prepare_cached("UPDATE rounds SET closed_at = $2, closed_by = $3 WHERE id = $1")
            .await?;
        tx.execute(&stmt, &[&round_id, &now, &actor]).await?;
        append_audit(
            &tx,
            vec![AuditRow::new(
                Some(actor),
                "round.closed",
                Some(round_id.to_owned()),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn round_response_count(&self, round_id: &str) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(sql::ROUND_RESPONSE_COUNT).await?;
        let n: i64 = client.query_one(&stmt, &[&round_id]).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn round_assignment_rows(&self, round_id: &str) -> Result<AssignmentRows, StoreError> {
        Ok(self.stream_rows(sql::ROUND_ASSIGNMENT_ROWS, round_id, assignment_row_from))
    }

    async fn round_assignment_rows_by_id(
        &self,
        round_id: &str,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, AssignmentRow>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(ASSIGNMENT_ROWS_BY_ID).await?;
        client
            .query(&stmt, &[&ids, &round_id.to_owned()])
            .await?
            .iter()
            .map(|row| assignment_row_from(row).map(|r| (r.id, r)))
            .collect()
    }
}

/// The assignments `$1` of round `$2` without contacts (probes of the primary key).
const ASSIGNMENT_ROWS_BY_ID: &str = concat!(
    "SELECT ",
    sql::assignment_row_cols!(),
    " FROM assignments WHERE id = ANY($1) AND round_id = $2"
);

/// An [`AssignmentRow`] from the [`sql::assignment_row_cols`] columns.
fn assignment_row_from(row: &Row) -> Result<AssignmentRow, StoreError> {
    let status: String = row.try_get(6)?;
    Ok(AssignmentRow {
        id: row.try_get(0)?,
        unit_code: row.try_get(1)?,
        unit_name: row.try_get(2)?,
        agency_code: row.try_get(3)?,
        agency: row.try_get(4)?,
        procedure: row.try_get(5)?,
        status: AssignmentStatus::parse(&status)
            .ok_or_else(|| bad(format!("status {status:?}")))?,
        surveyor_id: row.try_get(7)?,
        origin: row.try_get(8)?,
        field_name: row.try_get(9)?,
    })
}

/// Whether a column holds a value, without decoding it (a body the caller does not want is
/// not parsed).
struct Present;

impl<'a> tokio_postgres::types::FromSql<'a> for Present {
    fn from_sql(
        _: &tokio_postgres::types::Type,
        _: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Present)
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }
}

/// Makes one streamed value of a row (see [`PgStore::stream_rows`]).
type RowOf<T> = fn(&Row) -> Result<T, StoreError>;

impl PgStore {
    /// The rows of `query` (its one parameter `param`), each made by `row_of`, handed over one
    /// at a time: a cursor (portal) in a read-only snapshot transaction, [`ROWS_BUFFER`] rows
    /// per fetch, read by a task of its own. An error ends the stream with an `Err`; dropping
    /// the receiver stops the reading.
    pub(crate) fn stream_rows<T: Send + 'static>(
        &self,
        query: &'static str,
        param: &str,
        row_of: RowOf<T>,
    ) -> tokio::sync::mpsc::Receiver<Result<T, StoreError>> {
        let (tx_rows, rx) = tokio::sync::mpsc::channel(ROWS_BUFFER);
        let (store, param) = (self.clone(), param.to_owned());
        tokio::spawn(async move {
            if let Err(e) = store.send_rows(query, &param, row_of, &tx_rows).await {
                let _ = tx_rows.send(Err(e)).await;
            }
        });
        rx
    }

    async fn send_rows<T>(
        &self,
        query: &'static str,
        param: &str,
        row_of: RowOf<T>,
        out: &tokio::sync::mpsc::Sender<Result<T, StoreError>>,
    ) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let tx = Self::snapshot(&mut client).await?;
        let stmt = tx.prepare_cached(query).await?;
        let portal = tx.bind(&stmt, &[&param]).await?;
        let page = i32::try_from(ROWS_BUFFER).unwrap_or(i32::MAX);
        loop {
            let rows = tx.query_portal(&portal, page).await?;
            let last = rows.len() < ROWS_BUFFER;
            for row in rows {
                if out.send(row_of(&row)).await.is_err() {
                    return Ok(()); // the receiver is gone
                }
            }
            if last {
                break;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
