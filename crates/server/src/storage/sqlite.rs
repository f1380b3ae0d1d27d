//! SQLite backend: one file, WAL journal, `synchronous = FULL` (an acknowledged write survives
//! a SIGKILL or a power cut). All writes go through one writer connection behind a mutex, each
//! in one `BEGIN IMMEDIATE` transaction; reads use a small pool of read-only connections and
//! see a consistent snapshot. Blocking work runs on tokio's blocking pool.
use super::codec::{decision_parse, decision_str, revision_entity};
use super::codec::{reason_code_parse, reason_code_str};
use super::migrations::{self, SQLITE, SQLITE_BOOTSTRAP};
use super::results::ROWS_BUFFER;
use super::sql;
use super::{AssignmentRow, AssignmentRows, RoundPlan, ScopeCodes, UserChange, UserRecord};
use super::{
    AuditEntry, DecisionRecord, DeviceInfo, DeviceRecord, FindingOutcome, MonitorTaskRow,
    NewFinding, NewSpotCheckTask, NewUser, Progress, ReviewItem, ReviewPage, ReviewStretch,
    RevokedToken, SampleRow, ServerStore, SpotCheckTask, StoreError,
};
use crate::ingest::{
    self, Binding, Checked, IngestBatch, IngestContext, Op, Plan, QuarantineEntry, Resolved,
    StoredAssignment, StoredResponse, UnitQuota, Voided,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::types::Type;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior};
use rusqlite::{ErrorCode, params};
use serde::de::DeserializeOwned;
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{Origin, Response};
use sipas_protocol::roles::Role;
use sipas_protocol::wire::{
    Assignment, AssignmentStatus, Contact, Decision, OutsideSample, RecordAck, ReviewDecision,
    Round, RoundUnit, UserInfo,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use uuid::Uuid;

#[path = "sqlite_catalogue.rs"]
mod catalogue;
// --- WAL checkpoints off the writer (issue 14) ---
#[path = "sqlite_checkpoint.rs"]
mod checkpoint;
// --- published forms (issue 12, h-formpub) ---
#[path = "sqlite_forms.rs"]
mod forms;
// --- published results (issue 11, h-results) ---
#[path = "sqlite_results.rs"]
mod results;
// --- shared state of several processes (issue 14, h-multi) ---
#[path = "sqlite_shared.rs"]
mod shared;
// --- self-completion (issue 15, h-self) ---
#[path = "sqlite_self.rs"]
mod self_links;

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections kept open for reuse.
const MAX_IDLE_READERS: usize = 4;
/// Prepared statements cached per connection.
const STATEMENT_CACHE: usize = 64;

/// The SQLite store. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    checkpointer: checkpoint::Checkpointer,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(format!("sqlite: {e}"))
    }
}

/// A value read from the database that the code cannot interpret.
#[derive(Debug, thiserror::Error)]
#[error("unexpected stored value: {0}")]
struct BadValue(String);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the writer rolled its transaction back (Transaction's Drop), so
    // the connection is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to
    /// date in one transaction. Blocking: call it before serving or from a blocking task.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let name = path.to_string_lossy();
        if name.trim().is_empty() || name == ":memory:" || name.starts_with("file::memory:") {
            // Readers open the file separately, so an in-memory database cannot work.
            return Err(StoreError::Backend(
                "sqlite: the server needs a database file path, not an in-memory database"
                    .to_owned(),
            ));
        }
        let mut writer = Connection::open(&path)?;
        configure(&writer)?;
        // WAL persists in the file; FULL makes every commit durable before it returns.
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "sqlite: could not switch {} to WAL (journal_mode is {mode})",
                path.display()
            )));
        }
        writer.pragma_update(None, "synchronous", "FULL")?;
        migrate(&mut writer)?;
        backfill_counts(&mut writer)?;
        // Checkpoints run on their own thread, never inside a commit (`checkpoint`).
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = checkpoint::Checkpointer::start(&path)?;
        checkpointer.nudge();
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
                checkpointer,
            }),
        })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer connection and commits it.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            drop(conn);
            inner.checkpointer.nudge();
            Ok(out)
        })
        .await
        .map_err(join_error)?
    }

    /// The spot-check task whose `column` (a fixed column name, never user input) is `id`.
    async fn task_where(
        &self,
        column: &'static str,
        id: Uuid,
    ) -> Result<Option<SpotCheckTask>, StoreError> {
        self.read(move |tx| {
            let sql = format!("SELECT {TASK_COLS} FROM {TASK_FROM} WHERE {column} = ?1");
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([id.to_string()], task_from)
                .optional()?)
        })
        .await
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on a read connection.
    /// The rows of `query` (its one parameter `param`), each made by `row_of`, handed over one
    /// at a time through a channel of [`ROWS_BUFFER`]: a read transaction on a blocking thread
    /// of its own steps the statement as the channel frees a place. An error ends the stream
    /// with an `Err`; dropping the receiver stops the reading.
    pub(crate) fn stream_rows<T: Send + 'static>(
        &self,
        query: &'static str,
        param: &str,
        row_of: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> tokio::sync::mpsc::Receiver<Result<T, StoreError>> {
        let (tx_rows, rx) = tokio::sync::mpsc::channel(ROWS_BUFFER);
        let (store, param, on_error) = (self.clone(), param.to_owned(), tx_rows.clone());
        tokio::spawn(async move {
            let read = store
                .read(move |tx| {
                    let mut stmt = tx.prepare_cached(query)?;
                    let mut rows = stmt.query([param])?;
                    while let Some(r) = rows.next()? {
                        if tx_rows.blocking_send(Ok(row_of(r)?)).is_err() {
                            break; // the receiver is gone: nobody reads any more
                        }
                    }
                    Ok(())
                })
                .await;
            if let Err(e) = read {
                let _ = on_error.send(Err(e)).await;
            }
        });
        rx
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let reused = lock(&inner.readers).pop();
            let mut conn = match reused {
                Some(c) => c,
                None => open_reader(&inner.path)?,
            };
            let out = {
                let tx = conn.transaction()?;
                f(&tx)
                // dropping the read transaction rolls it back: nothing to keep
            };
            let mut idle = lock(&inner.readers);
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(join_error)?
    }
}

fn join_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Backend(format!("storage task failed: {e}"))
}

/// Settings every connection needs.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    conn.pragma_update(None, "query_only", "ON")?;
    // Sorts larger than the page cache (the streamed microdata of a round, ordered by unit:
    // every counted body passes through the sorter) spill to a temporary file, not to memory:
    // the SQLCipher build defaults temporary storage to memory (SQLITE_TEMP_STORE=2), which
    // made a streamed export's resident memory grow with the round (93 MiB at 100,000
    // responses, BENCHMARKS.md). The server's database itself is not encrypted; the systemd
    // unit gives the server a private /tmp.
    conn.pragma_update(None, "temp_store", "FILE")?;
    Ok(conn)
}

/// Applies the missing migrations in one transaction, each recorded in `schema_migrations`.
///
/// Foreign key enforcement is off while migrations run (SQLite cannot rebuild a referenced
/// table otherwise, see 0008) and `PRAGMA foreign_key_check` must find nothing before the
/// transaction commits; enforcement is back on afterwards, whatever happened.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = migrate_unchecked(conn);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

fn migrate_unchecked(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = migrations::latest_version(SQLITE);
    // IMMEDIATE: two processes opening the same new file cannot both create the schema.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(SQLITE_BOOTSTRAP)?;
    let found: u32 = tx.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    if found > supported {
        return Err(StoreError::Backend(migrations::newer_schema(
            found, supported,
        )));
    }
    let applied_at = ts(&Utc::now());
    for m in SQLITE.iter().filter(|m| m.version > found) {
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, applied_at],
        )?;
    }
    let dangling: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if dangling > 0 {
        return Err(StoreError::Backend(format!(
            "migration left {dangling} rows with a dangling foreign key"
        )));
    }
    tx.commit()?;
    Ok(())
}

// --- value conversions ---------------------------------------------------------------------

/// Stored timestamp form: RFC 3339 UTC with microseconds (sorts and compares as text; the
/// same precision PostgreSQL keeps).
fn ts(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn bad(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

fn col_uuid(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(idx)?;
    Uuid::parse_str(&s).map_err(|e| bad(idx, e))
}

fn col_opt_uuid(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    let s: Option<String> = row.get(idx)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| bad(idx, e)))
        .transpose()
}

fn col_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = row.get(idx)?;
    DateTime::parse_from_rfc3339(&s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| bad(idx, e))
}

fn col_date(row: &Row<'_>, idx: usize) -> rusqlite::Result<NaiveDate> {
    let s: String = row.get(idx)?;
    s.parse::<NaiveDate>().map_err(|e| bad(idx, e))
}

fn col_json<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s).map_err(|e| bad(idx, e))
}

fn col_role(row: &Row<'_>, idx: usize) -> rusqlite::Result<Role> {
    let s: String = row.get(idx)?;
    Role::parse(&s).ok_or_else(|| bad(idx, BadValue(format!("role {s:?}"))))
}

fn col_status(row: &Row<'_>, idx: usize) -> rusqlite::Result<AssignmentStatus> {
    let s: String = row.get(idx)?;
    AssignmentStatus::parse(&s).ok_or_else(|| bad(idx, BadValue(format!("status {s:?}"))))
}

fn col_decision(row: &Row<'_>, idx: usize) -> rusqlite::Result<Decision> {
    let s: String = row.get(idx)?;
    decision_parse(&s).ok_or_else(|| bad(idx, BadValue(format!("decision {s:?}"))))
}

/// Whether `e` is a UNIQUE / PRIMARY KEY violation.
fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == ErrorCode::ConstraintViolation
            && (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY))
}

/// Maps a unique violation to `AlreadyExists(what)`, anything else to `Backend`.
fn unique_as(what: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(what())
        } else {
            e.into()
        }
    }
}

// --- shared statements -----------------------------------------------------------------------

const USER_COLS: &str = "u.id, u.username, u.display_name, u.role";

fn user_from(row: &Row<'_>, at: usize) -> rusqlite::Result<UserInfo> {
    Ok(UserInfo {
        id: col_uuid(row, at)?,
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
        role: col_role(row, at + 3)?,
    })
}

fn user_in(tx: &Transaction<'_>, id: Uuid) -> Result<Option<UserInfo>, StoreError> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1");
    Ok(tx
        .prepare_cached(&sql)?
        .query_row([id.to_string()], |r| user_from(r, 0))
        .optional()?)
}

fn ensure_user(tx: &Transaction<'_>, id: Uuid) -> Result<(), StoreError> {
    let found = tx
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .exists([id.to_string()])?;
    if found {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            what: "user",
            id: id.to_string(),
        })
    }
}

/// Hands out the next value of the global change sequence.
fn next_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached("UPDATE change_seq SET value = value + 1 WHERE id = 1 RETURNING value")?
        .query_row([], |r| r.get(0))?)
}

/// The change sequence's current value (high-water mark of a read snapshot).
fn current_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx
        .prepare_cached("SELECT value FROM change_seq WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

// --- scope and tenancy (issue 10) -------------------------------------------------------------

fn store_scope_in(
    tx: &Transaction<'_>,
    user_id: Uuid,
    scope: &ScopeCodes,
) -> Result<(), StoreError> {
    let id = user_id.to_string();
    tx.prepare_cached("DELETE FROM user_scopes WHERE user_id = ?1")?
        .execute([&id])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO user_scopes (user_id, kind, code) VALUES (?1, ?2, ?3)",
    )?;
    for code in &scope.units {
        insert.execute(params![id, "unit", code])?;
    }
    for code in &scope.agencies {
        insert.execute(params![id, "agency", code])?;
    }
    Ok(())
}

fn scopes_in(
    tx: &Transaction<'_>,
    user_id: Option<Uuid>,
) -> Result<BTreeMap<Uuid, ScopeCodes>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT user_id, kind, code FROM user_scopes WHERE (?1 IS NULL OR user_id = ?1) \
         ORDER BY user_id, kind, code",
    )?;
    let rows = stmt.query_map([user_id.map(|u| u.to_string())], |r| {
        Ok((
            col_uuid(r, 0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out: BTreeMap<Uuid, ScopeCodes> = BTreeMap::new();
    for row in rows {
        let (id, kind, code) = row?;
        let scope = out.entry(id).or_default();
        if kind == "unit" {
            scope.units.push(code);
        } else {
            scope.agencies.push(code);
        }
    }
    Ok(out)
}

fn store_plan_in(tx: &Transaction<'_>, round_id: &str, plan: &RoundPlan) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM round_units WHERE round_id = ?1")?
        .execute([round_id])?;
    tx.prepare_cached("DELETE FROM round_agencies WHERE round_id = ?1")?
        .execute([round_id])?;
    let mut unit = tx.prepare_cached(
        "INSERT OR IGNORE INTO round_units (round_id, unit_code) VALUES (?1, ?2)",
    )?;
    for code in &plan.units {
        unit.execute(params![round_id, code])?;
    }
    let mut agency = tx.prepare_cached(
        "INSERT INTO round_agencies (round_id, agency_code, listed, target) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (round_id, agency_code) DO UPDATE SET listed = excluded.listed, \
         target = excluded.target",
    )?;
    let codes: BTreeSet<&String> = plan.agencies.iter().chain(plan.targets.keys()).collect();
    for code in codes {
        agency.execute(params![
            round_id,
            code,
            plan.agencies.contains(code),
            plan.targets.get(code)
        ])?;
    }
    Ok(())
}

fn audit_in(
    tx: &Transaction<'_>,
    at: &str,
    actor: Option<Uuid>,
    action: &str,
    entity_id: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, entity_id) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![at, actor.map(|a| a.to_string()), action, entity_id])?;
    Ok(())
}

/// Assignments with their contact (for the surveyor who visits).
const ASSIGNMENT_SELECT: &str = sql::assignment_select!(
    "c.name, c.address, c.phone",
    " LEFT JOIN sample_contacts c ON c.assignment_id = a.id"
);

/// Assignments without their contact: what the ingest rules read (they never need it, and
/// personal data is not read where it is not used).
const ASSIGNMENT_SELECT_NO_CONTACT: &str = sql::assignment_select!("NULL, NULL, NULL", "");

fn assignment_from(row: &Row<'_>) -> rusqlite::Result<(Assignment, Option<Uuid>)> {
    let name: Option<String> = row.get(8)?;
    let contact = match name {
        Some(name) => Some(Contact {
            name,
            address: row.get(9)?,
            phone: row.get(10)?,
        }),
        None => None,
    };
    Ok((
        Assignment {
            id: col_uuid(row, 0)?,
            round_id: row.get(1)?,
            form: FormKey {
                form_id: row.get(2)?,
                version: row.get(3)?,
            },
            unit_code: row.get(4)?,
            procedure: row.get(5)?,
            agency: row.get(6)?,
            contact,
            status: col_status(row, 7)?,
            unit_name: row.get(13)?,
            agency_code: row.get(14)?,
            agency_name: row.get(6)?,
            field_code: row.get(15)?,
            field_name: row.get(16)?,
            procedure_code: row.get(17)?,
            round_name: row.get(18)?,
        },
        col_opt_uuid(row, 11)?,
    ))
}

fn round_from(row: &Row<'_>) -> rusqlite::Result<Round> {
    Ok(Round {
        id: row.get(0)?,
        name: row.get(1)?,
        form: FormKey {
            form_id: row.get(2)?,
            version: row.get(3)?,
        },
        starts_on: col_date(row, 4)?,
        ends_on: col_date(row, 5)?,
        outside_sample: OutsideSample {
            replacement: row.get(6)?,
            walk_in: row.get(7)?,
            cap_per_unit: row.get(8)?,
        },
    })
}

/// Loads what the ingest rules read about `batch` (see [`IngestContext`]) inside `tx`.
/// SQLite has one writer at a time, so no row locks are needed.
fn ingest_context(tx: &Transaction<'_>, batch: &IngestBatch) -> Result<IngestContext, StoreError> {
    let mut ctx = IngestContext::default();
    let mut binding = tx.prepare_cached(
        "SELECT round_id, assignment_id, surveyor_id, unit_code, voided_at IS NOT NULL \
         FROM response_bindings WHERE response_id = ?1",
    )?;
    let mut revisions =
        tx.prepare_cached("SELECT revision, content_hash FROM responses WHERE id = ?1")?;
    let mut decision = tx.prepare_cached(
        "SELECT decision FROM review_decisions WHERE response_id = ?1 AND revision = ?2 \
         ORDER BY seq DESC LIMIT 1",
    )?;
    for id in batch.response_ids() {
        let key = id.to_string();
        let bound = binding
            .query_row([&key], |r| {
                Ok((
                    Binding {
                        round_id: r.get(0)?,
                        assignment_id: col_opt_uuid(r, 1)?,
                        surveyor_id: col_uuid(r, 2)?,
                        unit_code: r.get(3)?,
                    },
                    r.get::<_, bool>(4)?,
                ))
            })
            .optional()?;
        let Some((bound, voided)) = bound else {
            continue;
        };
        let revs = revisions
            .query_map([&key], |r| {
                Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let latest_decision = match revs.keys().next_back() {
            Some(latest) => decision
                .query_row(params![key, latest], |r| col_decision(r, 0))
                .optional()?,
            None => None,
        };
        ctx.responses.insert(
            id,
            StoredResponse {
                binding: bound,
                revisions: revs,
                latest_decision,
                voided,
            },
        );
    }
    let mut assignment =
        tx.prepare_cached(&format!("{ASSIGNMENT_SELECT_NO_CONTACT} WHERE a.id = ?1"))?;
    let mut current = tx.prepare_cached(
        "SELECT response_id FROM response_bindings \
         WHERE assignment_id = ?1 AND voided_at IS NULL LIMIT 1",
    )?;
    for id in batch.assignment_ids() {
        let key = id.to_string();
        let found = assignment
            .query_row([&key], |r| {
                let origin: String = r.get(12)?;
                Ok((assignment_from(r)?, origin))
            })
            .optional()?;
        let Some(((found, owner), origin)) = found else {
            continue;
        };
        let response_id = current.query_row([&key], |r| col_uuid(r, 0)).optional()?;
        ctx.assignments.insert(
            id,
            StoredAssignment {
                assignment: found,
                owner,
                response_id,
                origin: Origin::from_code(&origin).unwrap_or_default(),
            },
        );
    }
    let mut start = tx.prepare_cached(&format!(
        "SELECT {} FROM rounds WHERE id = ?1",
        sql::ROUND_COLS
    ))?;
    for round in batch.round_ids() {
        if let Some(found) = start.query_row([&round], round_from).optional()? {
            ctx.round_starts.insert(round.clone(), found.starts_on);
            ctx.round_policies
                .insert(round.clone(), found.outside_sample);
        }
        let closed: Option<bool> = tx
            .prepare_cached(sql::ROUND_CLOSED)?
            .query_row([&round], |r| r.get(0))
            .optional()?;
        if closed == Some(true) {
            ctx.closed_rounds.insert(round);
        }
    }
    let mut quota = tx.prepare_cached(sql::UNIT_QUOTA)?;
    for (round, unit) in batch.outside_units() {
        let q = quota.query_row(params![round, unit], |r| {
            Ok(UnitQuota {
                in_round: r.get(0)?,
                used: r.get(1)?,
            })
        })?;
        ctx.units.insert((round, unit), q);
    }
    let mut open = tx.prepare_cached(
        "SELECT id, record_sha FROM quarantine \
         WHERE response_id = ?1 AND revision = ?2 AND resolution IS NULL",
    )?;
    for (id, revision) in batch.refused_keys() {
        let rows = open.query_map(params![id.to_string(), revision], |r| {
            Ok((col_uuid(r, 0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (entry, sha) = row?;
            ctx.quarantined.insert((id, revision, sha), entry);
        }
    }
    Ok(ctx)
}

/// Executes the planned writes of `batch` inside `tx`.
fn execute_ops(
    tx: &Transaction<'_>,
    batch: &IngestBatch,
    ctx: &IngestContext,
    prepared: Option<&Prepared>,
    ops: &[Op],
) -> Result<(), StoreError> {
    let now = ts(&batch.received_at);
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
                let value = match seq {
                    Some(v) => v,
                    None => *seq.insert(next_seq(tx)?),
                };
                tx.prepare_cached(sql::INSERT_OUTSIDE_ASSIGNMENT)?
                    .execute(params![
                        id.to_string(),
                        round_id,
                        unit_code,
                        owner.to_string(),
                        value,
                        origin.as_str()
                    ])?;
            }
            Op::Bind {
                response_id,
                binding,
            } => {
                tx.prepare_cached(sql::INSERT_BINDING)?.execute(params![
                    response_id.to_string(),
                    binding.round_id,
                    binding.assignment_id.map(|a| a.to_string()),
                    binding.surveyor_id.to_string(),
                    binding.unit_code,
                    now
                ])?;
            }
            Op::InsertRevision { item } => {
                let Some(Checked::Valid { response, hash }) = batch.items.get(*item) else {
                    return Err(StoreError::Backend(
                        "planned revision is not a valid item".into(),
                    ));
                };
                let body = match prepared.and_then(|p| p.bodies.get(*item)?.as_ref()) {
                    Some(b) => std::borrow::Cow::Borrowed(b.as_str()),
                    None => std::borrow::Cow::Owned(json_text(response, "a response")?),
                };
                tx.prepare_cached(sql::INSERT_REVISION)?.execute(params![
                    response.id.to_string(),
                    response.revision,
                    response.round_id,
                    response.unit_code,
                    response.form.form_id,
                    response.form.version,
                    response.assignment_id.map(|a| a.to_string()),
                    hash,
                    body,
                    batch.source.surveyor.to_string(),
                    batch.source.device.map(|d| d.to_string()),
                    now,
                    batch.source.mode.as_str()
                ])?;
            }
            Op::MarkCollected { assignment_id } => {
                let value = match seq {
                    Some(v) => v,
                    None => *seq.insert(next_seq(tx)?),
                };
                tx.prepare_cached(sql::MARK_COLLECTED)?
                    .execute(params![value, assignment_id.to_string()])?;
            }
            Op::Quarantine {
                id,
                refusal,
                surveyor,
                device,
            } => {
                tx.prepare_cached(sql::INSERT_QUARANTINE)?.execute(params![
                    id.to_string(),
                    refusal.id.to_string(),
                    refusal.revision,
                    refusal.record_sha(),
                    refusal.round_id,
                    refusal.unit_code,
                    refusal.assignment_id.map(|a| a.to_string()),
                    surveyor.to_string(),
                    device.map(|d| d.to_string()),
                    reason_code_str(refusal.reason),
                    refusal.detail,
                    json_text(&refusal.issues, "answer issues")?,
                    refusal.record_json,
                    now,
                    batch.source.mode.as_str()
                ])?;
            }
            Op::Audit {
                actor,
                action,
                entity,
            } => audit_in(tx, &now, *actor, action, entity.as_deref())?,
        }
    }
    let (ids, known) = ingest::InHand::of(batch, ctx, ops);
    refresh_counts(tx, &ids, Some(&known), prepared.map(|p| &p.keys), false)
}

// --- the index from counts (issue 14; rules in crate::answer_counts) ---------------------

/// Refreshes the `response_facts` rows and `answer_counts` of responses `ids` (each once)
/// inside `tx` (after an ingest, decision or void). `hints`: responses already in hand (the
/// revisions a batch stored); `force`: recompute the keys even for the same revision
/// (start-up backfill). The count differences of all of them are applied once, merged.
fn refresh_counts(
    tx: &Transaction<'_>,
    ids: &[Uuid],
    known: Option<&ingest::InHand<'_>>,
    prepared: Option<&crate::answer_counts::PreparedKeys>,
    force: bool,
) -> Result<(), StoreError> {
    use crate::answer_counts::{
        Current, DEFAULT_MODE, FactsRow, FreshInput, Loaded, needs_fresh, parse_body, plan_batch,
    };
    let no_hints = HashMap::new();
    let hints = known.map_or(&no_hints, |k| &k.responses);
    let mut states = Vec::with_capacity(ids.len());
    {
        let mut current = tx.prepare_cached(sql::COUNTS_CURRENT)?;
        let mut facts = tx.prepare_cached(sql::COUNTS_FACTS_OF)?;
        for id in ids {
            let key = id.to_string();
            // Bound by this transaction: its state is known, and it has no row yet.
            if let Some(c) = known.and_then(|k| k.first_state(id)) {
                let fresh = Some(c.revision);
                states.push((*id, key, Some(c), None, fresh));
                continue;
            }
            let c = current
                .query_row([&key], |r| {
                    Ok(Current {
                        revision: r.get(0)?,
                        round_id: r.get(1)?,
                        unit_code: r.get(2)?,
                        received_at: col_ts(r, 3)?,
                        decision: r.get(4)?,
                    })
                })
                .optional()?;
            let old = facts
                .query_row([&key], |r| {
                    Ok(FactsRow {
                        revision: r.get(0)?,
                        round_id: r.get(1)?,
                        unit_code: r.get(2)?,
                        agency_code: r.get(3)?,
                        field_code: r.get(4)?,
                        mode: r.get(5)?,
                        received_at: col_ts(r, 6)?,
                        counted: r.get(7)?,
                        facts: r.get(8)?,
                    })
                })
                .optional()?;
            let fresh = c
                .as_ref()
                .filter(|c| needs_fresh(Some(c), old.as_ref(), force))
                .map(|c| c.revision);
            states.push((*id, key, c, old, fresh));
        }
    }
    // The current revisions not in hand, then the forms of all that need keys.
    let mut parsed: HashMap<Uuid, Response> = HashMap::new();
    for (id, key, _, _, fresh) in &states {
        if let Some(revision) = *fresh
            && hints.get(id).is_none_or(|h| h.revision != revision)
        {
            let body: String = tx
                .prepare_cached(sql::COUNTS_BODY)?
                .query_row(params![key, revision], |r| r.get(0))?;
            parsed.insert(*id, parse_body(*id, &body)?);
        }
    }
    let in_hand = |id: &Uuid, revision: u32| -> Option<&Response> {
        match hints.get(id) {
            Some(h) if h.revision == revision => Some(*h),
            _ => parsed.get(id),
        }
    };
    let mut forms = HashMap::new();
    let mut form_hashes = HashMap::new();
    for (id, _, _, _, fresh) in &states {
        if let Some(r) = fresh.and_then(|rev| in_hand(id, rev))
            && !forms.contains_key(&r.form)
        {
            let (hash, form) = count_form(tx, &r.form)?;
            forms.insert(r.form.clone(), form);
            form_hashes.insert(r.form.clone(), hash);
        }
    }
    let mut loaded = Vec::with_capacity(states.len());
    {
        let mut codes = tx.prepare_cached(sql::COUNTS_ASSIGNMENT_CODES)?;
        let mut mode_of = tx.prepare_cached(sql::COUNTS_MODE)?;
        for (id, key, current, old, fresh) in states {
            let fresh = match fresh.and_then(|rev| in_hand(&id, rev).map(|r| (rev, r))) {
                Some((revision, response)) => {
                    // The codes the batch was planned with, else read.
                    let planned = response
                        .assignment_id
                        .and_then(|a| known.and_then(|k| k.codes(a)));
                    let (agency_code, field_code) = match (response.assignment_id, planned) {
                        (Some(_), Some(p)) => p,
                        (Some(a), None) => codes
                            .query_row([a.to_string()], |r| {
                                Ok((
                                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                                ))
                            })
                            .optional()?
                            .unwrap_or_default(),
                        (None, _) => Default::default(),
                    };
                    let mode = match known.and_then(|k| k.mode_of(&id, revision)) {
                        Some(m) => m.to_owned(),
                        None => mode_of
                            .query_row(params![key, revision], |r| r.get(0))
                            .optional()?
                            .unwrap_or_else(|| DEFAULT_MODE.to_owned()),
                    };
                    // Keys computed before the transaction, if with this form version.
                    let keys = prepared.and_then(|p| {
                        let hash = form_hashes.get(&response.form)?;
                        p.get(response, hash.as_deref())
                    });
                    Some(FreshInput {
                        response,
                        agency_code,
                        field_code,
                        mode,
                        keys,
                    })
                }
                None => None,
            };
            loaded.push(Loaded {
                id,
                current,
                old,
                fresh,
            });
        }
    }
    let refresh = plan_batch(loaded, force, &forms)?;
    let mut bump = tx.prepare_cached(sql::COUNTS_BUMP)?;
    for d in &refresh.deltas {
        bump.execute(params![
            d.round_id,
            d.unit_code,
            d.agency_code,
            d.field_code,
            d.mode,
            d.item,
            d.outcome,
            d.n
        ])?;
    }
    let mut upsert = tx.prepare_cached(sql::COUNTS_UPSERT_FACTS)?;
    for (id, r) in &refresh.rows {
        upsert.execute(params![
            id.to_string(),
            r.revision,
            r.round_id,
            r.unit_code,
            r.agency_code,
            r.field_code,
            r.mode,
            ts(&r.received_at),
            r.counted,
            r.facts
        ])?;
    }
    Ok(())
}

/// A form as the count keys use it: the content hash of its stored version (`None`: the
/// built-in) and its definition (`None`: unknown).
type CountForm = (
    Option<String>,
    Option<Arc<sipas_core::questionnaire::Questionnaire>>,
);

/// The form count keys are computed with: the stored usable version, else the built-in
/// (rules in [`crate::answer_counts`]).
fn count_form(
    tx: &Transaction<'_>,
    key: &sipas_core::questionnaire::FormKey,
) -> Result<CountForm, StoreError> {
    use crate::answer_counts::{builtin_form, cached_form, remember_form};
    let hash: Option<String> = tx
        .prepare_cached(sql::COUNTS_FORM_HASH)?
        .query_row(params![key.form_id, key.version], |r| r.get(0))
        .optional()?;
    let Some(hash) = hash else {
        return Ok((None, builtin_form(key)));
    };
    if let Some(form) = cached_form(&hash) {
        return Ok((Some(hash), Some(form)));
    }
    let definition: String = tx
        .prepare_cached(sql::COUNTS_FORM_DEFINITION)?
        .query_row(params![key.form_id, key.version], |r| r.get(0))?;
    let form = remember_form(&hash, &definition);
    Ok((Some(hash), form))
}

/// What a batch's write transaction can use that was computed before it, on a read
/// connection while another batch was being written: the count keys of its valid records
/// and their stored body (`responses.body_json`), by item.
struct Prepared {
    keys: crate::answer_counts::PreparedKeys,
    bodies: Vec<Option<String>>,
}

/// [`Prepared`] of `batch`, in a read transaction.
fn prepare_batch(tx: &Transaction<'_>, batch: &IngestBatch) -> Result<Prepared, StoreError> {
    let valid = || {
        batch.items.iter().filter_map(|i| match i {
            Checked::Valid { response, .. } => Some(response),
            Checked::Refused(_) => None,
        })
    };
    let mut forms = HashMap::new();
    for r in valid() {
        if !forms.contains_key(&r.form) {
            forms.insert(r.form.clone(), count_form(tx, &r.form)?);
        }
    }
    let bodies = batch
        .items
        .iter()
        .map(|i| match i {
            Checked::Valid { response, .. } => json_text(response, "a response").map(Some),
            Checked::Refused(_) => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    Ok(Prepared {
        keys: crate::answer_counts::PreparedKeys::compute(valid(), forms),
        bodies,
    })
}

/// Fills in the facts of every bound response that has none, in batches of 500 per
/// transaction; returns how many were refreshed.
fn backfill_counts(conn: &mut Connection) -> Result<u64, StoreError> {
    let mut done = 0u64;
    let mut last = String::new();
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<String> = tx
            .prepare_cached(sql::COUNTS_MISSING)?
            .query_map([&last], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(end) = ids.last().cloned() else {
            return Ok(done);
        };
        let uuids = ids
            .iter()
            .map(|id| {
                Uuid::parse_str(id)
                    .map_err(|e| StoreError::Backend(format!("response id {id}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        refresh_counts(&tx, &uuids, None, None, true)?;
        tx.commit()?;
        done += ids.len() as u64;
        last = end;
    }
}

/// [`ServerStore::ingest_batch`] inside `tx`: context, plan, execution.
fn ingest_batch_in(
    tx: &Transaction<'_>,
    batch: &IngestBatch,
    prepared: Option<&Prepared>,
) -> Result<Plan, StoreError> {
    let mut ctx = ingest_context(tx, batch)?;
    let plan = ingest::plan(batch, &mut ctx, Uuid::now_v7);
    execute_ops(tx, batch, &ctx, prepared, &plan.ops)?;
    Ok(plan)
}

fn quarantine_from(row: &Row<'_>) -> rusqlite::Result<QuarantineEntry> {
    let code: String = row.get(8)?;
    let resolved_at: Option<String> = row.get(14)?;
    Ok(QuarantineEntry {
        id: col_uuid(row, 0)?,
        response_id: col_uuid(row, 1)?,
        revision: row.get(2)?,
        round_id: row.get(3)?,
        unit_code: row.get(4)?,
        assignment_id: col_opt_uuid(row, 5)?,
        surveyor_id: col_uuid(row, 6)?,
        device_id: col_opt_uuid(row, 7)?,
        reason_code: reason_code_parse(&code)
            .ok_or_else(|| bad(8, StoreError::Backend(format!("reason code {code:?}"))))?,
        reason: row.get(9)?,
        issues: col_json(row, 10)?,
        received_at: col_ts(row, 11)?,
        resolution: row.get(12)?,
        resolved_by: col_opt_uuid(row, 13)?,
        resolved_at: match resolved_at {
            Some(_) => Some(col_ts(row, 14)?),
            None => None,
        },
        resolution_note: row.get(15)?,
        record_json: row.get(16)?,
        mode: {
            let m: String = row.get(17)?;
            sipas_core::mode::ResponseMode::parse(&m)
                .ok_or_else(|| bad(17, StoreError::Backend(format!("mode {m:?}"))))?
        },
    })
}

fn quarantine_entry_in(
    tx: &Transaction<'_>,
    id: Uuid,
) -> Result<Option<QuarantineEntry>, StoreError> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {} FROM quarantine WHERE id = $1",
            sql::QUARANTINE_COLS
        ))?
        .query_row([id.to_string()], quarantine_from)
        .optional()?)
}

fn resolve_in(
    tx: &Transaction<'_>,
    id: Uuid,
    resolution: &str,
    supervisor: Uuid,
    note: Option<&str>,
    now: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(sql::RESOLVE_QUARANTINE)?
        .execute(params![
            resolution,
            supervisor.to_string(),
            now,
            note,
            id.to_string()
        ])?;
    Ok(())
}

const TASK_COLS: &str = "t.id, t.round_id, t.response_id, t.revision, t.surveyor_id, \
     t.assignment_id, t.unit_code, t.flagged, t.quality_flags_json, t.key_items_json, t.seed, \
     t.monitor_id, t.created_at, f.result_json";

const TASK_FROM: &str = "spot_check_tasks t LEFT JOIN spot_check_findings f ON f.task_id = t.id";

/// A task from the [`TASK_COLS`] columns starting at index 0.
fn task_from(row: &Row<'_>) -> rusqlite::Result<SpotCheckTask> {
    let seed: String = row.get(10)?;
    let seed = seed.parse::<u64>().map_err(|e| bad(10, e))?;
    let result: Option<String> = row.get(13)?;
    let result = result
        .map(|s| serde_json::from_str(&s).map_err(|e| bad(13, e)))
        .transpose()?;
    Ok(SpotCheckTask {
        task: NewSpotCheckTask {
            id: col_uuid(row, 0)?,
            round_id: row.get(1)?,
            response_id: col_uuid(row, 2)?,
            revision: row.get(3)?,
            surveyor_id: col_uuid(row, 4)?,
            assignment_id: col_opt_uuid(row, 5)?,
            unit_code: row.get(6)?,
            flagged: row.get(7)?,
            quality_flags: col_json(row, 8)?,
            key_items: col_json(row, 9)?,
            seed,
        },
        monitor_id: col_opt_uuid(row, 11)?,
        created_at: col_ts(row, 12)?,
        result,
    })
}

fn json_text<T: serde::Serialize>(v: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding {what}: {e}")))
}

/// Columns of [`DeviceRecord`] (`devices d JOIN users u`).
const DEVICE_COLS: &str =
    "d.id, d.name, d.user_id, u.username, d.enrolled_at, d.last_sync_at, d.revoked_at";

fn device_record_from(row: &Row<'_>) -> rusqlite::Result<DeviceRecord> {
    let opt_ts = |idx: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        match row.get::<_, Option<String>>(idx)? {
            None => Ok(None),
            Some(_) => col_ts(row, idx).map(Some),
        }
    };
    Ok(DeviceRecord {
        id: col_uuid(row, 0)?,
        name: row.get(1)?,
        user_id: col_uuid(row, 2)?,
        username: row.get(3)?,
        enrolled_at: col_ts(row, 4)?,
        last_sync_at: opt_ts(5)?,
        revoked_at: opt_ts(6)?,
    })
}

/// Text column `i` of `r`, borrowed (no copy).
fn col_str<'r>(r: &'r rusqlite::Row<'_>, i: usize) -> Result<&'r str, StoreError> {
    r.get_ref(i)?
        .as_str()
        .map_err(|e| StoreError::Backend(format!("text column {i}: {e}")))
}

#[async_trait]
impl ServerStore for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn create_user(&self, user: NewUser) -> Result<UserInfo, StoreError> {
        self.write(move |tx| {
            let info = UserInfo {
                id: Uuid::now_v7(),
                username: user.username,
                display_name: user.display_name,
                role: user.role,
            };
            let now = ts(&Utc::now());
            tx.prepare_cached(
                "INSERT INTO users (id, username, display_name, role, password_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                info.id.to_string(),
                info.username,
                info.display_name,
                info.role.as_str(),
                user.password_hash,
                now
            ])
            .map_err(unique_as(|| format!("user {}", info.username)))?;
            store_scope_in(tx, info.id, &user.scope)?;
            audit_in(
                tx,
                &now,
                user.created_by,
                "user.created",
                Some(&info.id.to_string()),
            )?;
            Ok(info)
        })
        .await
    }

    async fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(UserInfo, Option<String>)>, StoreError> {
        let username = username.to_owned();
        self.read(move |tx| {
            let sql =
                format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = ?1");
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([username], |r| Ok((user_from(r, 0)?, r.get(4)?)))
                .optional()?)
        })
        .await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserInfo>, StoreError> {
        self.read(move |tx| user_in(tx, id)).await
    }

    async fn create_enrolment_code(
        &self,
        code_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
        issued_by: Uuid,
    ) -> Result<(), StoreError> {
        let code_hash = code_hash.to_owned();
        self.write(move |tx| {
            ensure_user(tx, user_id)?;
            ensure_user(tx, issued_by)?;
            tx.prepare_cached(
                "INSERT INTO enrolment_codes (code_hash, user_id, issued_by, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                code_hash,
                user_id.to_string(),
                issued_by.to_string(),
                ts(&expires_at)
            ])
            .map_err(unique_as(|| "enrolment code".to_owned()))?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(issued_by),
                "enrolment_code.issued",
                Some(&user_id.to_string()),
            )
        })
        .await
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
        let (code_hash, device_name, token_hash) = (
            code_hash.to_owned(),
            device_name.to_owned(),
            token_hash.to_owned(),
        );
        let public_key = public_key.map(str::to_owned);
        self.write(move |tx| {
            let now = ts(&now);
            let user_id = tx
                .prepare_cached(
                    "UPDATE enrolment_codes SET used_at = ?1, device_id = ?2 \
                     WHERE code_hash = ?3 AND used_at IS NULL AND expires_at > ?1 \
                     RETURNING user_id",
                )?
                .query_row(params![now, device_id.to_string(), code_hash], |r| {
                    col_uuid(r, 0)
                })
                .optional()?;
            let Some(user_id) = user_id else {
                return Ok(None);
            };
            tx.prepare_cached(
                "INSERT INTO devices (id, user_id, name, token_hash, enrolled_at, public_key) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                device_id.to_string(),
                user_id.to_string(),
                device_name,
                token_hash,
                now,
                public_key
            ])
            .map_err(unique_as(|| format!("device {device_id}")))?;
            audit_in(
                tx,
                &now,
                Some(user_id),
                "device.enrolled",
                Some(&device_id.to_string()),
            )?;
            user_in(tx, user_id)
        })
        .await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            ensure_user(tx, user_id)?;
            tx.prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![token_hash, user_id.to_string(), ts(&expires_at)])
            .map_err(unique_as(|| "session".to_owned()))?;
            Ok(())
        })
        .await
    }

    async fn user_by_token_hash(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(UserInfo, Option<Uuid>)>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |tx| {
            let sql = format!(
                "SELECT {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled_at IS NULL"
            );
            let session = tx
                .prepare_cached(&sql)?
                .query_row(params![token_hash, ts(&now)], |r| user_from(r, 0))
                .optional()?;
            if let Some(user) = session {
                return Ok(Some((user, None)));
            }
            let sql = format!(
                "SELECT {USER_COLS}, d.id FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE d.token_hash = ?1 AND d.revoked_at IS NULL AND u.disabled_at IS NULL"
            );
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([token_hash], |r| {
                    Ok((user_from(r, 0)?, Some(col_uuid(r, 4)?)))
                })
                .optional()?)
        })
        .await
    }

    async fn create_round(&self, round: &Round, actor: Uuid) -> Result<(), StoreError> {
        let round = round.clone();
        self.write(move |tx| {
            tx.prepare_cached(&format!(
                "INSERT INTO rounds ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                sql::ROUND_COLS
            ))?
            .execute(params![
                round.id,
                round.name,
                round.form.form_id,
                round.form.version,
                round.starts_on.to_string(),
                round.ends_on.to_string(),
                round.outside_sample.replacement,
                round.outside_sample.walk_in,
                round.outside_sample.cap_per_unit
            ])
            .map_err(unique_as(|| format!("round {}", round.id)))?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                "round.created",
                Some(&round.id),
            )
        })
        .await
    }

    async fn round(&self, id: &str) -> Result<Option<Round>, StoreError> {
        let id = id.to_owned();
        self.read(move |tx| {
            Ok(tx
                .prepare_cached(&format!(
                    "SELECT {} FROM rounds WHERE id = ?1",
                    sql::ROUND_COLS
                ))?
                .query_row([id], round_from)
                .optional()?)
        })
        .await
    }

    async fn rounds(&self) -> Result<Vec<Round>, StoreError> {
        self.read(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {} FROM rounds ORDER BY starts_on, id",
                sql::ROUND_COLS
            ))?;
            let rows = stmt.query_map([], round_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn round_units(&self, round_id: &str) -> Result<Vec<RoundUnit>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(sql::ROUND_UNITS)?;
            let rows = stmt.query_map([&round_id], |r| {
                let code: String = r.get(0)?;
                let name: Option<String> = r.get(1)?;
                Ok(RoundUnit {
                    name: name.unwrap_or_else(|| code.clone()),
                    code,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn import_sample(
        &self,
        round_id: &str,
        rows: &[SampleRow],
        actor: Uuid,
    ) -> Result<u64, StoreError> {
        let round_id = round_id.to_owned();
        let rows = rows.to_vec();
        self.write(move |tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM rounds WHERE id = ?1")?
                .exists([&round_id])?;
            if !exists {
                return Err(StoreError::NotFound {
                    what: "round",
                    id: round_id,
                });
            }
            if rows.is_empty() {
                return Ok(0);
            }
            let seq = next_seq(tx)?;
            let mut inserted = 0u64;
            let mut ins = tx.prepare_cached(
                "INSERT INTO assignments \
                 (id, round_id, unit_code, procedure, agency, status, surveyor_id, change_seq, \
                  unit_name, agency_code, field_code, field_name, procedure_code) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'not_visited', NULL, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT (id) DO NOTHING",
            )?;
            let mut contact = tx.prepare_cached(
                "INSERT INTO sample_contacts (assignment_id, name, address, phone) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for row in &rows {
                let id = row.id.to_string();
                let n = ins.execute(params![
                    id,
                    round_id,
                    row.unit_code,
                    row.procedure,
                    row.agency,
                    seq,
                    row.unit_name,
                    row.agency_code,
                    row.field_code,
                    row.field_name,
                    row.procedure_code
                ])?;
                if n == 1 {
                    contact.execute(params![
                        id,
                        row.contact.name,
                        row.contact.address,
                        row.contact.phone
                    ])?;
                    inserted += 1;
                }
            }
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                "sample.imported",
                Some(&round_id),
            )?;
            Ok(inserted)
        })
        .await
    }

    async fn assign(
        &self,
        assignment_ids: &[Uuid],
        surveyor: Uuid,
        actor: Uuid,
    ) -> Result<u64, StoreError> {
        let ids: BTreeSet<Uuid> = assignment_ids.iter().copied().collect();
        self.write(move |tx| {
            ensure_user(tx, surveyor)?;
            if ids.is_empty() {
                return Ok(0);
            }
            let seq = next_seq(tx)?;
            let now = ts(&Utc::now());
            // Moves away from another surveyor: refused when a response exists, else recorded
            // as withdrawals (checked before anything is written).
            let mut withdrawals = Vec::new();
            for id in &ids {
                let found: Option<(Option<String>, bool)> = tx
                    .prepare_cached(
                        "SELECT a.surveyor_id, \
                         EXISTS (SELECT 1 FROM response_bindings b \
                                 WHERE b.assignment_id = a.id AND b.voided_at IS NULL) \
                         FROM assignments a WHERE a.id = ?1",
                    )?
                    .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let Some((Some(from), has_response)) = found else {
                    continue;
                };
                if from != surveyor.to_string() {
                    if has_response {
                        return Err(StoreError::AssignmentHasResponse(*id));
                    }
                    withdrawals.push((*id, from));
                }
            }
            for (id, from) in &withdrawals {
                tx.prepare_cached(
                    "INSERT INTO assignment_withdrawals \
                     (seq, assignment_id, surveyor_id, withdrawn_at, withdrawn_by) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    seq,
                    id.to_string(),
                    from,
                    now,
                    actor.to_string()
                ])?;
                audit_in(
                    tx,
                    &now,
                    Some(actor),
                    "assignment.withdrawn",
                    Some(&id.to_string()),
                )?;
            }
            let mut updated = 0u64;
            for id in ids {
                let id = id.to_string();
                let n = tx
                    .prepare_cached(
                        "UPDATE assignments SET surveyor_id = ?1, change_seq = ?2 WHERE id = ?3",
                    )?
                    .execute(params![surveyor.to_string(), seq, id])?;
                if n == 1 {
                    updated += 1;
                    audit_in(tx, &now, Some(actor), "assignment.assigned", Some(&id))?;
                }
            }
            Ok(updated)
        })
        .await
    }

    async fn assignment(&self, id: Uuid) -> Result<Option<(Assignment, Option<Uuid>)>, StoreError> {
        self.read(move |tx| {
            let sql = format!("{ASSIGNMENT_SELECT} WHERE a.id = ?1");
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([id.to_string()], assignment_from)
                .optional()?)
        })
        .await
    }

    async fn set_assignment_status(
        &self,
        id: Uuid,
        status: AssignmentStatus,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        self.write(move |tx| {
            let seq = next_seq(tx)?;
            let n = tx
                .prepare_cached(
                    "UPDATE assignments SET status = ?1, change_seq = ?2 WHERE id = ?3",
                )?
                .execute(params![status.as_str(), seq, id.to_string()])?;
            if n == 0 {
                return Err(StoreError::NotFound {
                    what: "assignment",
                    id: id.to_string(),
                });
            }
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                &format!("assignment.{}", status.as_str()),
                Some(&id.to_string()),
            )
        })
        .await
    }

    async fn assignments_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Assignment>, i64), StoreError> {
        self.read(move |tx| {
            let high = current_seq(tx)?;
            let after = if cursor > high { 0 } else { cursor };
            let sql = format!(
                "{ASSIGNMENT_SELECT} WHERE a.surveyor_id = ?1 AND a.change_seq > ?2 \
                 AND a.origin = 'sample' ORDER BY a.change_seq, a.id"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![surveyor.to_string(), after], |r| {
                assignment_from(r).map(|(a, _)| a)
            })?;
            Ok((rows.collect::<Result<Vec<_>, _>>()?, high))
        })
        .await
    }

    async fn decisions_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<ReviewDecision>, i64), StoreError> {
        self.read(move |tx| {
            let high = current_seq(tx)?;
            let after = if cursor > high { 0 } else { cursor };
            let mut stmt = tx.prepare_cached(
                "SELECT response_id, revision, decision, comment, item_comments_json, decided_at \
                 FROM review_decisions WHERE surveyor_id = ?1 AND seq > ?2 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![surveyor.to_string(), after], |r| {
                Ok(ReviewDecision {
                    response_id: col_uuid(r, 0)?,
                    revision: r.get(1)?,
                    decision: col_decision(r, 2)?,
                    comment: r.get(3)?,
                    item_comments: col_json(r, 4)?,
                    decided_at: col_ts(r, 5)?,
                })
            })?;
            Ok((rows.collect::<Result<Vec<_>, _>>()?, high))
        })
        .await
    }

    async fn ingest_batch(&self, batch: Arc<IngestBatch>) -> Result<Vec<RecordAck>, StoreError> {
        // Off the writer: the bodies and count keys, while another batch may be written.
        let prepared = {
            let batch = Arc::clone(&batch);
            self.read(move |tx| prepare_batch(tx, &batch)).await?
        };
        self.write(move |tx| Ok(ingest_batch_in(tx, &batch, Some(&prepared))?.acks))
            .await
    }

    async fn quarantine_entries(
        &self,
        round_id: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<QuarantineEntry>, StoreError> {
        let round_id = round_id.map(str::to_owned);
        self.read(move |tx| {
            let sql = format!(
                "SELECT {} FROM quarantine \
                 WHERE ($1 IS NULL OR round_id = $1) AND (NOT $2 OR resolution IS NULL) \
                 ORDER BY received_at DESC, id DESC",
                sql::QUARANTINE_COLS
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![round_id, open_only], quarantine_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn quarantine_entry(&self, id: Uuid) -> Result<Option<QuarantineEntry>, StoreError> {
        self.read(move |tx| quarantine_entry_in(tx, id)).await
    }

    async fn accept_quarantined(
        &self,
        id: Uuid,
        batch: &IngestBatch,
        note: Option<&str>,
    ) -> Result<Resolved, StoreError> {
        let batch = batch.clone();
        let note = note.map(str::to_owned);
        self.write(move |tx| {
            let Some(entry) = quarantine_entry_in(tx, id)? else {
                return Err(StoreError::NotFound {
                    what: "quarantine entry",
                    id: id.to_string(),
                });
            };
            if entry.resolution.is_some() {
                return Ok(Resolved::AlreadyResolved);
            }
            let mut ctx = ingest_context(tx, &batch)?;
            let plan = ingest::plan(&batch, &mut ctx, Uuid::now_v7);
            let ack = plan.acks.into_iter().next().ok_or_else(|| {
                StoreError::Backend("an acceptance batch holds one record".into())
            })?;
            if !ack.status.is_delivered() {
                return Ok(Resolved::Refused(ack));
            }
            execute_ops(tx, &batch, &ctx, None, &plan.ops)?;
            let supervisor = batch.override_by.unwrap_or(batch.source.surveyor);
            let now = ts(&batch.received_at);
            resolve_in(tx, id, "accepted", supervisor, note.as_deref(), &now)?;
            audit_in(
                tx,
                &now,
                Some(supervisor),
                ingest::action::QUARANTINE_ACCEPTED,
                Some(&id.to_string()),
            )?;
            Ok(Resolved::Done(Some(ack)))
        })
        .await
    }

    async fn dismiss_quarantined(
        &self,
        id: Uuid,
        supervisor: Uuid,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Resolved, StoreError> {
        let note = note.map(str::to_owned);
        self.write(move |tx| {
            let Some(entry) = quarantine_entry_in(tx, id)? else {
                return Err(StoreError::NotFound {
                    what: "quarantine entry",
                    id: id.to_string(),
                });
            };
            if entry.resolution.is_some() {
                return Ok(Resolved::AlreadyResolved);
            }
            let now = ts(&now);
            resolve_in(tx, id, "dismissed", supervisor, note.as_deref(), &now)?;
            audit_in(
                tx,
                &now,
                Some(supervisor),
                ingest::action::QUARANTINE_DISMISSED,
                Some(&id.to_string()),
            )?;
            Ok(Resolved::Done(None))
        })
        .await
    }

    async fn void_response(
        &self,
        id: Uuid,
        supervisor: Uuid,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Voided, StoreError> {
        let reason = reason.to_owned();
        self.write(move |tx| {
            let key = id.to_string();
            let found = tx
                .prepare_cached(sql::BINDING_OF)?
                .query_row([&key], |r| Ok((col_opt_uuid(r, 0)?, r.get::<_, bool>(1)?)))
                .optional()?;
            let Some((assignment, voided)) = found else {
                return Err(StoreError::NotFound {
                    what: "response",
                    id: key,
                });
            };
            if voided {
                return Ok(Voided::AlreadyVoided);
            }
            let now = ts(&now);
            tx.prepare_cached(sql::VOID_BINDING)?.execute(params![
                now,
                supervisor.to_string(),
                reason,
                key
            ])?;
            refresh_counts(tx, &[id], None, None, false)?;
            if let Some(a) = assignment {
                let seq = next_seq(tx)?;
                tx.prepare_cached(sql::REOPEN_ASSIGNMENT)?
                    .execute(params![seq, a.to_string()])?;
            }
            audit_in(
                tx,
                &now,
                Some(supervisor),
                ingest::action::VOIDED,
                Some(&key),
            )?;
            Ok(Voided::Done)
        })
        .await
    }

    async fn responses_for_round(&self, round_id: &str) -> Result<Vec<Response>, StoreError> {
        Ok(self.report_responses(round_id).await?.0)
    }

    async fn response(
        &self,
        id: Uuid,
        revision: u32,
    ) -> Result<Option<(Response, Uuid)>, StoreError> {
        self.read(move |tx| {
            Ok(tx
                .prepare_cached(
                    "SELECT body_json, submitted_by FROM responses WHERE id = ?1 AND revision = ?2",
                )?
                .query_row(params![id.to_string(), revision], |r| {
                    Ok((col_json(r, 0)?, col_uuid(r, 1)?))
                })
                .optional()?)
        })
        .await
    }

    async fn response_count(&self) -> Result<u64, StoreError> {
        self.read(|tx| {
            Ok(tx
                .prepare_cached("SELECT COUNT(*) FROM responses")?
                .query_row([], |r| r.get(0))?)
        })
        .await
    }

    async fn record_decision(
        &self,
        decision: &ReviewDecision,
        reviewer: Uuid,
    ) -> Result<(), StoreError> {
        let d = decision.clone();
        self.write(move |tx| {
            let id = d.response_id.to_string();
            let surveyor = tx
                .prepare_cached(
                    "SELECT submitted_by FROM responses WHERE id = ?1 AND revision = ?2",
                )?
                .query_row(params![id, d.revision], |r| col_uuid(r, 0))
                .optional()?;
            let entity = revision_entity(d.response_id, d.revision);
            let Some(surveyor) = surveyor else {
                return Err(StoreError::NotFound {
                    what: "response",
                    id: entity,
                });
            };
            let seq = next_seq(tx)?;
            let comments = serde_json::to_string(&d.item_comments)
                .map_err(|e| StoreError::Backend(format!("encoding item comments: {e}")))?;
            tx.prepare_cached(
                "INSERT INTO review_decisions (seq, response_id, revision, decision, comment, \
                 item_comments_json, decided_at, reviewer, surveyor_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                seq,
                id,
                d.revision,
                decision_str(d.decision),
                d.comment,
                comments,
                ts(&d.decided_at),
                reviewer.to_string(),
                surveyor.to_string()
            ])?;
            refresh_counts(tx, &[d.response_id], None, None, false)?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(reviewer),
                &format!("review.{}", decision_str(d.decision)),
                Some(&entity),
            )
        })
        .await
    }

    async fn progress(&self, round_id: &str) -> Result<BTreeMap<Uuid, Progress>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut out: BTreeMap<Uuid, Progress> = BTreeMap::new();
            let mut stmt = tx.prepare_cached(
                "SELECT surveyor_id, COUNT(*), \
                        SUM(status = 'collected'), \
                        SUM(status IN ('absent', 'refused', 'moved', 'invalid')) \
                 FROM assignments WHERE round_id = ?1 AND surveyor_id IS NOT NULL \
                 AND origin = 'sample' GROUP BY surveyor_id",
            )?;
            let mut rows = stmt.query([&round_id])?;
            while let Some(r) = rows.next()? {
                let p = out.entry(col_uuid(r, 0)?).or_default();
                p.assigned = r.get(1)?;
                p.collected = r.get(2)?;
                p.non_response = r.get(3)?;
            }
            let mut stmt = tx.prepare_cached(sql::SYNCED_BY_SURVEYOR_ORIGIN)?;
            let mut rows = stmt.query([&round_id])?;
            while let Some(r) = rows.next()? {
                let origin: String = r.get(1)?;
                out.entry(col_uuid(r, 0)?)
                    .or_default()
                    .add_synced(&origin, r.get(2)?);
            }
            Ok(out)
        })
        .await
    }

    async fn audit(
        &self,
        actor: Option<Uuid>,
        action: &str,
        entity_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let action = action.to_owned();
        let entity_id = entity_id.map(str::to_owned);
        self.write(move |tx| audit_in(tx, &ts(&Utc::now()), actor, &action, entity_id.as_deref()))
            .await
    }

    async fn audit_entries(
        &self,
        since_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT seq, at, actor, action, entity_id FROM audit_log \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![since_seq, limit], |r| {
                Ok(AuditEntry {
                    seq: r.get(0)?,
                    at: col_ts(r, 1)?,
                    actor: col_opt_uuid(r, 2)?,
                    action: r.get(3)?,
                    entity_id: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn device(&self, id: Uuid) -> Result<Option<DeviceInfo>, StoreError> {
        self.read(move |tx| {
            let sql = format!(
                "SELECT {USER_COLS}, d.public_key FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE d.id = ?1"
            );
            Ok(tx
                .prepare_cached(&sql)?
                .query_row([id.to_string()], |r| {
                    Ok(DeviceInfo {
                        id,
                        user: user_from(r, 0)?,
                        public_key: r.get(4)?,
                    })
                })
                .optional()?)
        })
        .await
    }

    async fn users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, StoreError> {
        self.read(move |tx| {
            let sql = format!(
                "SELECT {USER_COLS} FROM users u WHERE (?1 IS NULL OR u.role = ?1) \
                 ORDER BY u.username"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([role.map(Role::as_str)], |r| user_from(r, 0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn progress_by_unit(
        &self,
        round_id: &str,
    ) -> Result<BTreeMap<String, Progress>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut out: BTreeMap<String, Progress> = BTreeMap::new();
            let mut stmt = tx.prepare_cached(
                "SELECT unit_code, SUM(surveyor_id IS NOT NULL), \
                        SUM(status = 'collected'), \
                        SUM(status IN ('absent', 'refused', 'moved', 'invalid')) \
                 FROM assignments WHERE round_id = ?1 AND origin = 'sample' GROUP BY unit_code",
            )?;
            let mut rows = stmt.query([&round_id])?;
            while let Some(r) = rows.next()? {
                let p = out.entry(r.get(0)?).or_default();
                p.assigned = r.get(1)?;
                p.collected = r.get(2)?;
                p.non_response = r.get(3)?;
            }
            let mut stmt = tx.prepare_cached(sql::SYNCED_BY_UNIT_ORIGIN)?;
            let mut rows = stmt.query([&round_id])?;
            while let Some(r) = rows.next()? {
                let origin: String = r.get(1)?;
                out.entry(r.get(0)?)
                    .or_default()
                    .add_synced(&origin, r.get(2)?);
            }
            Ok(out)
        })
        .await
    }

    async fn review_stretch(
        &self,
        round_id: &str,
        page: &ReviewPage,
        admit: super::Admit,
    ) -> Result<ReviewStretch, StoreError> {
        let (round_id, page) = (round_id.to_owned(), *page);
        self.read(move |tx| {
            let (state, limit) = (page.state.code(), i64::from(page.limit));
            let mut stmt;
            let mut rows = match page.after {
                None => {
                    stmt = tx.prepare_cached(sql::REVIEW_STRETCH_FIRST)?;
                    stmt.query(params![state, round_id, limit])?
                }
                Some(after) => {
                    stmt = tx.prepare_cached(sql::REVIEW_STRETCH_AFTER)?;
                    stmt.query(params![state, round_id, after.to_string(), limit])?
                }
            };
            let mut stretch = ReviewStretch::default();
            while let Some(r) = rows.next()? {
                // The body is parsed only when the caller admits the response.
                let in_state = r.get_ref(4)? != rusqlite::types::ValueRef::Null;
                let wanted = in_state
                    && admit(
                        col_str(r, 5)?,
                        r.get_ref(6)?.as_str_or_null().map_err(|e| bad(6, e))?,
                    );
                let item = match wanted {
                    false => None,
                    true => {
                        let decision: Option<String> = r.get(3)?;
                        Some(ReviewItem {
                            response: col_json(r, 4)?,
                            surveyor_id: col_uuid(r, 1)?,
                            received_at: col_ts(r, 2)?,
                            decision: match decision {
                                Some(_) => Some(col_decision(r, 3)?),
                                None => None,
                            },
                        })
                    }
                };
                stretch.push(col_uuid(r, 0)?, item);
            }
            Ok(stretch)
        })
        .await
    }

    async fn decisions_for(
        &self,
        response_id: Uuid,
        revision: u32,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT response_id, revision, decision, comment, item_comments_json, \
                        decided_at, reviewer \
                 FROM review_decisions WHERE response_id = ?1 AND revision = ?2 ORDER BY seq",
            )?;
            let rows = stmt.query_map(params![response_id.to_string(), revision], |r| {
                Ok(DecisionRecord {
                    decision: ReviewDecision {
                        response_id: col_uuid(r, 0)?,
                        revision: r.get(1)?,
                        decision: col_decision(r, 2)?,
                        comment: r.get(3)?,
                        item_comments: col_json(r, 4)?,
                        decided_at: col_ts(r, 5)?,
                    },
                    reviewer_id: col_uuid(r, 6)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn report_responses(
        &self,
        round_id: &str,
    ) -> Result<(Vec<Response>, Option<DateTime<Utc>>), StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(sql::COUNTED_RESPONSES)?;
            let mut rows = stmt.query([round_id])?;
            let (mut responses, mut latest) = (Vec::new(), None::<DateTime<Utc>>);
            while let Some(r) = rows.next()? {
                responses.push(col_json::<Response>(r, 0)?);
                let at = col_ts(r, 1)?;
                latest = Some(latest.map_or(at, |l| l.max(at)));
            }
            Ok((responses, latest))
        })
        .await
    }

    async fn round_counts(
        &self,
        round_id: &str,
        detail: crate::answer_counts::Detail,
    ) -> Result<crate::answer_counts::RoundCounts, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let mut reader = crate::answer_counts::CountsReader::new(detail);
            let mut stmt = tx.prepare_cached(sql::COUNTS_OF_ROUND)?;
            let mut rows = stmt.query([&round_id])?;
            while let Some(r) = rows.next()? {
                let n: i64 = r.get(6)?;
                let n = u64::try_from(n)
                    .map_err(|_| StoreError::Backend(format!("answer_counts count {n}")))?;
                reader.push(
                    [
                        col_str(r, 0)?,
                        col_str(r, 1)?,
                        col_str(r, 2)?,
                        col_str(r, 3)?,
                        col_str(r, 4)?,
                        col_str(r, 5)?,
                    ],
                    n,
                );
            }
            let at: Option<String> = tx
                .prepare_cached(sql::COUNTS_DATA_AS_OF)?
                .query_row([&round_id], |r| r.get(0))?;
            let data_as_of = match at {
                Some(t) => Some(
                    DateTime::parse_from_rfc3339(&t)
                        .map_err(|e| StoreError::Backend(format!("stored time {t}: {e}")))?
                        .with_timezone(&Utc),
                ),
                None => None,
            };
            Ok(reader.finish(data_as_of))
        })
        .await
    }

    async fn create_spot_check_tasks(
        &self,
        tasks: &[NewSpotCheckTask],
        actor: Uuid,
    ) -> Result<u64, StoreError> {
        let tasks = tasks.to_vec();
        self.write(move |tx| {
            let now = ts(&Utc::now());
            let mut created = 0u64;
            for t in &tasks {
                let n = tx
                    .prepare_cached(
                        "INSERT INTO spot_check_tasks (id, round_id, response_id, revision, \
                         surveyor_id, assignment_id, unit_code, flagged, quality_flags_json, \
                         key_items_json, seed, monitor_id, created_at, created_by) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13) \
                         ON CONFLICT (response_id) DO NOTHING",
                    )?
                    .execute(params![
                        t.id.to_string(),
                        t.round_id,
                        t.response_id.to_string(),
                        t.revision,
                        t.surveyor_id.to_string(),
                        t.assignment_id.map(|a| a.to_string()),
                        t.unit_code,
                        t.flagged,
                        json_text(&t.quality_flags, "quality flags")?,
                        json_text(&t.key_items, "key items")?,
                        t.seed.to_string(),
                        now,
                        actor.to_string()
                    ])?;
                if n == 1 {
                    created += 1;
                    audit_in(
                        tx,
                        &now,
                        Some(actor),
                        "spot_check.created",
                        Some(&t.id.to_string()),
                    )?;
                }
            }
            Ok(created)
        })
        .await
    }

    async fn spot_check_tasks(&self, round_id: &str) -> Result<Vec<SpotCheckTask>, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            let sql =
                format!("SELECT {TASK_COLS} FROM {TASK_FROM} WHERE t.round_id = ?1 ORDER BY t.id");
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([round_id], task_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
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
        self.write(move |tx| {
            let id = task_id.to_string();
            let done: Option<bool> = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM spot_check_findings f WHERE f.task_id = t.id) \
                     FROM spot_check_tasks t WHERE t.id = ?1",
                )?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            let Some(done) = done else {
                return Err(StoreError::NotFound {
                    what: "spot-check task",
                    id,
                });
            };
            ensure_user(tx, monitor_id)?;
            if done {
                return Ok(false);
            }
            tx.prepare_cached("UPDATE spot_check_tasks SET monitor_id = ?1 WHERE id = ?2")?
                .execute(params![monitor_id.to_string(), id])?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                "spot_check.assigned",
                Some(&id),
            )?;
            Ok(true)
        })
        .await
    }

    async fn monitor_tasks(&self, monitor_id: Uuid) -> Result<Vec<MonitorTaskRow>, StoreError> {
        self.read(move |tx| {
            let sql = format!(
                "SELECT {TASK_COLS}, rd.form_id, rd.form_version, a.procedure, \
                        c.name, c.address, c.phone \
                 FROM {TASK_FROM} JOIN rounds rd ON rd.id = t.round_id \
                 LEFT JOIN assignments a ON a.id = t.assignment_id \
                 LEFT JOIN sample_contacts c ON c.assignment_id = t.assignment_id \
                 WHERE t.monitor_id = ?1 ORDER BY t.id"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([monitor_id.to_string()], |r| {
                let name: Option<String> = r.get(17)?;
                let contact = match name {
                    Some(name) => Some(Contact {
                        name,
                        address: r.get(18)?,
                        phone: r.get(19)?,
                    }),
                    None => None,
                };
                Ok(MonitorTaskRow {
                    task: task_from(r)?,
                    form: FormKey {
                        form_id: r.get(14)?,
                        version: r.get(15)?,
                    },
                    procedure: r.get(16)?,
                    contact,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn record_finding(&self, finding: &NewFinding) -> Result<FindingOutcome, StoreError> {
        let f = finding.clone();
        self.write(move |tx| {
            let id = f.task_id.to_string();
            let monitor: Option<Option<String>> = tx
                .prepare_cached("SELECT monitor_id FROM spot_check_tasks WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            let Some(monitor) = monitor else {
                return Err(StoreError::NotFound {
                    what: "spot-check task",
                    id,
                });
            };
            if monitor != Some(f.monitor_id.to_string()) {
                return Ok(FindingOutcome::NotAssigned);
            }
            let done = tx
                .prepare_cached("SELECT 1 FROM spot_check_findings WHERE task_id = ?1")?
                .exists([&id])?;
            if done {
                return Ok(FindingOutcome::AlreadyFinal);
            }
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO spot_check_findings (task_id, monitor_id, visit_happened, \
                     answers_json, note, result_json, submitted_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    id,
                    f.monitor_id.to_string(),
                    f.visit_happened,
                    json_text(&f.answers, "answers")?,
                    f.note,
                    json_text(&f.result, "re-check result")?,
                    ts(&f.submitted_at)
                ]);
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => return Ok(FindingOutcome::AlreadyFinal),
                Err(e) => return Err(e.into()),
            }
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(f.monitor_id),
                "spot_check.finding",
                Some(&id),
            )?;
            Ok(FindingOutcome::Recorded)
        })
        .await
    }

    async fn withdrawn_since(
        &self,
        surveyor: Uuid,
        cursor: i64,
    ) -> Result<(Vec<Uuid>, i64), StoreError> {
        self.read(move |tx| {
            let high = current_seq(tx)?;
            let after = if cursor > high { 0 } else { cursor };
            // Not those given back to the surveyor since (they come with the assignments).
            let mut stmt = tx.prepare_cached(
                "SELECT w.assignment_id FROM assignment_withdrawals w \
                 JOIN assignments a ON a.id = w.assignment_id \
                 WHERE w.surveyor_id = ?1 AND w.seq > ?2 \
                   AND a.surveyor_id IS NOT w.surveyor_id \
                 GROUP BY w.assignment_id ORDER BY MIN(w.seq), w.assignment_id",
            )?;
            let rows = stmt.query_map(params![surveyor.to_string(), after], |r| col_uuid(r, 0))?;
            Ok((rows.collect::<Result<Vec<_>, _>>()?, high))
        })
        .await
    }

    async fn revoke_token(
        &self,
        token_hash: &str,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<RevokedToken, StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |tx| {
            let now = ts(&now);
            let user = tx
                .prepare_cached("DELETE FROM sessions WHERE token_hash = ?1 RETURNING user_id")?
                .query_row([&token_hash], |r| col_uuid(r, 0))
                .optional()?;
            if let Some(user) = user {
                audit_in(
                    tx,
                    &now,
                    Some(actor),
                    "session.logout",
                    Some(&user.to_string()),
                )?;
                return Ok(RevokedToken::Session);
            }
            let device = tx
                .prepare_cached(
                    "UPDATE devices SET revoked_at = ?2 \
                     WHERE token_hash = ?1 AND revoked_at IS NULL RETURNING id",
                )?
                .query_row(params![token_hash, now], |r| col_uuid(r, 0))
                .optional()?;
            match device {
                Some(id) => {
                    audit_in(
                        tx,
                        &now,
                        Some(actor),
                        "device.revoked",
                        Some(&id.to_string()),
                    )?;
                    Ok(RevokedToken::Device(id))
                }
                None => Ok(RevokedToken::None),
            }
        })
        .await
    }

    async fn set_user_disabled(
        &self,
        user_id: Uuid,
        disabled: bool,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.write(move |tx| {
            ensure_user(tx, user_id)?;
            let now = ts(&now);
            let id = user_id.to_string();
            let changed = if disabled {
                tx.prepare_cached(
                    "UPDATE users SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL",
                )?
                .execute(params![id, now])?
            } else {
                tx.prepare_cached(
                    "UPDATE users SET disabled_at = NULL WHERE id = ?1 AND disabled_at IS NOT NULL",
                )?
                .execute([&id])?
            };
            if disabled {
                // Also when it was disabled already: no session survives a disable call.
                tx.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                    .execute([&id])?;
            }
            if changed == 0 {
                return Ok(false);
            }
            let action = if disabled {
                "user.disabled"
            } else {
                "user.enabled"
            };
            audit_in(tx, &now, Some(actor), action, Some(&id))?;
            Ok(true)
        })
        .await
    }

    async fn user_disabled(&self, user_id: Uuid) -> Result<Option<bool>, StoreError> {
        self.read(move |tx| {
            Ok(tx
                .prepare_cached("SELECT disabled_at IS NOT NULL FROM users WHERE id = ?1")?
                .query_row([user_id.to_string()], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn devices(&self, user_id: Option<Uuid>) -> Result<Vec<DeviceRecord>, StoreError> {
        self.read(move |tx| {
            let sql = format!(
                "SELECT {DEVICE_COLS} FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE (?1 IS NULL OR d.user_id = ?1) ORDER BY d.enrolled_at, d.id"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([user_id.map(|u| u.to_string())], device_record_from)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn revoke_device(
        &self,
        device_id: Uuid,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<DeviceRecord, StoreError> {
        self.write(move |tx| {
            let id = device_id.to_string();
            let now = ts(&now);
            let changed = tx
                .prepare_cached(
                    "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                )?
                .execute(params![id, now])?;
            if changed > 0 {
                audit_in(tx, &now, Some(actor), "device.revoked", Some(&id))?;
            }
            let sql = format!(
                "SELECT {DEVICE_COLS} FROM devices d JOIN users u ON u.id = d.user_id \
                 WHERE d.id = ?1"
            );
            tx.prepare_cached(&sql)?
                .query_row([&id], device_record_from)
                .optional()?
                .ok_or(StoreError::NotFound { what: "device", id })
        })
        .await
    }

    async fn touch_device(&self, device_id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.prepare_cached(
                "UPDATE devices SET last_sync_at = ?2 \
                 WHERE id = ?1 AND (last_sync_at IS NULL OR last_sync_at < ?2)",
            )?
            .execute(params![device_id.to_string(), ts(&at)])?;
            Ok(())
        })
        .await
    }

    // --- scope and tenancy (issue 10) ---------------------------------------------------------

    async fn user_records(&self, role: Option<Role>) -> Result<Vec<UserRecord>, StoreError> {
        self.read(move |tx| {
            let mut scopes = scopes_in(tx, None)?;
            let sql = format!(
                "SELECT {USER_COLS}, u.disabled_at IS NOT NULL FROM users u \
                 WHERE (?1 IS NULL OR u.role = ?1) ORDER BY u.username"
            );
            let mut stmt = tx.prepare_cached(&sql)?;
            let rows = stmt.query_map([role.map(|r| r.as_str())], |r| {
                Ok((user_from(r, 0)?, r.get::<_, bool>(4)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (user, disabled) = row?;
                out.push(UserRecord {
                    scope: scopes.remove(&user.id).unwrap_or_default(),
                    user,
                    disabled,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn user_scope(&self, user_id: Uuid) -> Result<ScopeCodes, StoreError> {
        self.read(move |tx| {
            Ok(scopes_in(tx, Some(user_id))?
                .remove(&user_id)
                .unwrap_or_default())
        })
        .await
    }

    async fn update_user(
        &self,
        user_id: Uuid,
        change: &UserChange,
        actor: Uuid,
    ) -> Result<UserInfo, StoreError> {
        let change = change.clone();
        self.write(move |tx| {
            ensure_user(tx, user_id)?;
            let id = user_id.to_string();
            if let Some(name) = &change.display_name {
                tx.prepare_cached("UPDATE users SET display_name = ?2 WHERE id = ?1")?
                    .execute(params![id, name])?;
            }
            if let Some(role) = change.role {
                tx.prepare_cached("UPDATE users SET role = ?2 WHERE id = ?1")?
                    .execute(params![id, role.as_str()])?;
            }
            if let Some(scope) = &change.scope {
                store_scope_in(tx, user_id, scope)?;
            }
            audit_in(tx, &ts(&Utc::now()), Some(actor), "user.updated", Some(&id))?;
            user_in(tx, user_id)?.ok_or(StoreError::NotFound { what: "user", id })
        })
        .await
    }

    async fn set_password(
        &self,
        user_id: Uuid,
        password_hash: &str,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let password_hash = password_hash.to_owned();
        self.write(move |tx| {
            ensure_user(tx, user_id)?;
            let id = user_id.to_string();
            tx.prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                .execute(params![id, password_hash])?;
            tx.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                .execute([&id])?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                "user.password_reset",
                Some(&id),
            )
        })
        .await
    }

    async fn create_planned_round(
        &self,
        round: &Round,
        plan: &RoundPlan,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let (round, plan) = (round.clone(), plan.clone());
        self.write(move |tx| {
            tx.prepare_cached(&format!(
                "INSERT INTO rounds ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                sql::ROUND_COLS
            ))?
            .execute(params![
                round.id,
                round.name,
                round.form.form_id,
                round.form.version,
                round.starts_on.to_string(),
                round.ends_on.to_string(),
                round.outside_sample.replacement,
                round.outside_sample.walk_in,
                round.outside_sample.cap_per_unit
            ])
            .map_err(unique_as(|| format!("round {}", round.id)))?;
            store_plan_in(tx, &round.id, &plan)?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                "round.created",
                Some(&round.id),
            )
        })
        .await
    }

    async fn update_round(
        &self,
        round: &Round,
        plan: &RoundPlan,
        actor: Uuid,
    ) -> Result<(), StoreError> {
        let (round, plan) = (round.clone(), plan.clone());
        self.write(move |tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE rounds SET name = ?2, starts_on = ?3, ends_on = ?4, \
                     outside_replacement = ?5, outside_walk_in = ?6, outside_cap_per_unit = ?7 \
                     WHERE id = ?1",
                )?
                .execute(params![
                    round.id,
                    round.name,
                    round.starts_on.to_string(),
                    round.ends_on.to_string(),
                    round.outside_sample.replacement,
                    round.outside_sample.walk_in,
                    round.outside_sample.cap_per_unit
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound {
                    what: "round",
                    id: round.id,
                });
            }
            store_plan_in(tx, &round.id, &plan)?;
            audit_in(
                tx,
                &ts(&Utc::now()),
                Some(actor),
                "round.updated",
                Some(&round.id),
            )
        })
        .await
    }

    async fn round_plans(&self) -> Result<BTreeMap<String, RoundPlan>, StoreError> {
        self.read(|tx| {
            let mut out: BTreeMap<String, RoundPlan> = BTreeMap::new();
            let mut stmt = tx.prepare_cached("SELECT id, closed_at FROM rounds")?;
            for row in stmt.query_map([], |r| {
                let closed: Option<String> = r.get(1)?;
                Ok((r.get::<_, String>(0)?, closed))
            })? {
                let (id, closed) = row?;
                let closed_at = closed
                    .map(|c| DateTime::parse_from_rfc3339(&c).map(|t| t.with_timezone(&Utc)))
                    .transpose()
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                out.entry(id).or_default().closed_at = closed_at;
            }
            let mut stmt = tx.prepare_cached(
                "SELECT round_id, unit_code FROM round_units ORDER BY round_id, unit_code",
            )?;
            for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
                let (id, code) = row?;
                out.entry(id).or_default().units.push(code);
            }
            let mut stmt = tx.prepare_cached(
                "SELECT round_id, agency_code, listed, target FROM round_agencies \
                 ORDER BY round_id, agency_code",
            )?;
            for row in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, Option<u32>>(3)?,
                ))
            })? {
                let (id, code, listed, target) = row?;
                let plan = out.entry(id).or_default();
                if let Some(t) = target {
                    plan.targets.insert(code.clone(), t);
                }
                if listed {
                    plan.agencies.push(code);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn close_round(
        &self,
        round_id: &str,
        actor: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let round_id = round_id.to_owned();
        self.write(move |tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM rounds WHERE id = ?1")?
                .exists([&round_id])?;
            if !exists {
                return Err(StoreError::NotFound {
                    what: "round",
                    id: round_id,
                });
            }
            let now = ts(&now);
            let changed = tx
                .prepare_cached(
                    "UPDATE rounds SET closed_at = ?2, closed_by = ?3 \
                     WHERE id = ?1 AND closed_at IS NULL",
                )?
                .execute(params![round_id, now, actor.to_string()])?;
            if changed == 0 {
                return Ok(false);
            }
            audit_in(tx, &now, Some(actor), "round.closed", Some(&round_id))?;
            Ok(true)
        })
        .await
    }

    async fn round_response_count(&self, round_id: &str) -> Result<u64, StoreError> {
        let round_id = round_id.to_owned();
        self.read(move |tx| {
            Ok(tx
                .prepare_cached(sql::ROUND_RESPONSE_COUNT)?
                .query_row([round_id], |r| r.get::<_, i64>(0))? as u64)
        })
        .await
    }

    async fn round_assignment_rows(&self, round_id: &str) -> Result<AssignmentRows, StoreError> {
        Ok(self.stream_rows(sql::ROUND_ASSIGNMENT_ROWS, round_id, assignment_row_from))
    }

    async fn round_assignment_rows_by_id(
        &self,
        round_id: &str,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, AssignmentRow>, StoreError> {
        let (round_id, ids) = (round_id.to_owned(), ids.to_vec());
        self.read(move |tx| {
            let mut one = tx.prepare_cached(ASSIGNMENT_ROW_BY_ID)?;
            let mut rows = BTreeMap::new();
            for id in ids {
                if let Some(row) = one
                    .query_row(params![id.to_string(), round_id], assignment_row_from)
                    .optional()?
                {
                    rows.insert(id, row);
                }
            }
            Ok(rows)
        })
        .await
    }
}

/// Assignment `$1` of round `$2` without contacts (one primary key probe).
const ASSIGNMENT_ROW_BY_ID: &str = concat!(
    "SELECT ",
    sql::assignment_row_cols!(),
    " FROM assignments WHERE id = ?1 AND round_id = ?2"
);

/// An [`AssignmentRow`] from the [`sql::assignment_row_cols`] columns.
fn assignment_row_from(r: &Row<'_>) -> rusqlite::Result<AssignmentRow> {
    Ok(AssignmentRow {
        id: col_uuid(r, 0)?,
        unit_code: r.get(1)?,
        unit_name: r.get(2)?,
        agency_code: r.get(3)?,
        agency: r.get(4)?,
        procedure: r.get(5)?,
        status: col_status(r, 6)?,
        surveyor_id: col_opt_uuid(r, 7)?,
        origin: r.get(8)?,
        field_name: r.get(9)?,
    })
}
