//! The outbox: the queue of response revisions waiting to be uploaded.
//!
//! States: `pending` → `in_flight` (upload started) → `acked` (server confirmed) or back to
//! `pending` after a failure (`attempts` counts them), or `rejected_invalid` when the server
//! refuses the record for good. Uploads are at-least-once: acknowledging twice is harmless.
use crate::audit;
use crate::codec;
use crate::error::{Result, StoreError};
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Upload state of one outbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for upload.
    Pending,
    /// Upload started, outcome not known yet.
    InFlight,
    /// The server confirmed receipt.
    Acked,
    /// The server refused the record as invalid; it will not be retried.
    RejectedInvalid,
}

impl OutboxState {
    /// Every state.
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Pending,
        OutboxState::InFlight,
        OutboxState::Acked,
        OutboxState::RejectedInvalid,
    ];

    /// The stored code, e.g. `in_flight`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::InFlight => "in_flight",
            OutboxState::Acked => "acked",
            OutboxState::RejectedInvalid => "rejected_invalid",
        }
    }

    /// The state with this stored code.
    pub fn from_code(code: &str) -> Option<OutboxState> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One outbox entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Response to upload.
    pub response_id: Uuid,
    /// Revision to upload.
    pub revision: u32,
    /// Upload state.
    pub state: OutboxState,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Message of the last failure.
    pub last_error: Option<String>,
    /// When it was queued.
    pub enqueued_at: DateTime<Utc>,
    /// When the server confirmed receipt.
    pub acked_at: Option<DateTime<Utc>>,
    /// For a refused entry: the server's reason code (an `AckReason` in snake_case, e.g.
    /// `not_your_assignment`), if the server sent one.
    pub reason_code: Option<String>,
    /// For a refused entry: the server's quarantine entry keeping the record, if any.
    pub quarantine_id: Option<Uuid>,
}

/// Number of outbox entries in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    /// Waiting for upload.
    pub pending: u64,
    /// Upload in progress.
    pub in_flight: u64,
    /// Confirmed by the server.
    pub acked: u64,
    /// Refused by the server as invalid.
    pub rejected: u64,
}

const COLUMNS: &str = "response_id, revision, state, attempts, last_error, enqueued_at, acked_at, \
                       reason_code, quarantine_id";

type RawEntry = (
    String,
    i64,
    String,
    i64,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn decode(raw: RawEntry) -> Result<OutboxEntry> {
    let (
        id,
        revision,
        state,
        attempts,
        last_error,
        enqueued_at,
        acked_at,
        reason_code,
        quarantine_id,
    ) = raw;
    let what = format!("outbox entry {id} revision {revision}");
    Ok(OutboxEntry {
        response_id: codec::parse_uuid(&id, &what)?,
        revision: codec::revision(revision, &what)?,
        state: OutboxState::from_code(&state)
            .ok_or_else(|| StoreError::corrupt(&what, format!("unknown state {state:?}")))?,
        attempts: u32::try_from(attempts).map_err(|e| StoreError::corrupt(&what, e))?,
        last_error,
        enqueued_at: codec::parse_ts(&enqueued_at, &what)?,
        acked_at: codec::parse_opt_ts(acked_at.as_deref(), &what)?,
        reason_code,
        quarantine_id: quarantine_id
            .map(|q| codec::parse_uuid(&q, &what))
            .transpose()?,
    })
}

/// Queues a stored response revision for upload (inside the caller's transaction).
pub(crate) fn enqueue(conn: &Connection, id: Uuid, revision: u32) -> Result<()> {
    conn.execute(
        "INSERT INTO outbox (response_id, revision, state, attempts, enqueued_at)
         VALUES (?1, ?2, 'pending', 0, ?3)",
        params![id.to_string(), revision, codec::ts(&codec::now())],
    )?;
    Ok(())
}

fn load(conn: &Connection, id: Uuid, revision: u32) -> Result<Option<OutboxEntry>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM outbox WHERE response_id = ?1 AND revision = ?2"),
        params![id.to_string(), revision],
        raw,
    )
    .optional()?
    .map(decode)
    .transpose()
}

impl Store {
    /// Up to `limit` pending entries, in the order they were queued.
    pub fn pending_outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state = 'pending'
             ORDER BY enqueued_at, rowid LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// Up to `limit` entries the server has not confirmed yet (`pending` or `in_flight`), in
    /// the order they were queued: what an offline hand-over file carries. Read-only.
    pub fn undelivered_outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state IN ('pending', 'in_flight')
             ORDER BY enqueued_at, rowid LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// The outbox entry of one response revision, if any.
    pub fn get_outbox(&self, id: Uuid, revision: u32) -> Result<Option<OutboxEntry>> {
        load(self.conn(), id, revision)
    }

    /// Marks a pending entry as being uploaded.
    pub fn mark_in_flight(&mut self, id: Uuid, revision: u32) -> Result<()> {
        self.transition(
            id,
            revision,
            &[OutboxState::Pending],
            OutboxState::InFlight,
            None,
        )
    }

    /// Records the server's confirmation: the entry becomes `acked` and the response
    /// `synced`. Acknowledging an already acknowledged entry is a no-op.
    pub fn mark_acked(&mut self, id: Uuid, revision: u32) -> Result<()> {
        self.transition(
            id,
            revision,
            &[OutboxState::Pending, OutboxState::InFlight],
            OutboxState::Acked,
            None,
        )
    }

    /// Records a failed upload attempt: `attempts` + 1, the error kept, back to `pending`
    /// for a later retry.
    pub fn mark_failed(&mut self, id: Uuid, revision: u32, error: &str) -> Result<()> {
        self.transition(
            id,
            revision,
            &[OutboxState::Pending, OutboxState::InFlight],
            OutboxState::Pending,
            Some(error),
        )
    }

    /// Records that the server refused the record as invalid: it leaves the queue for good
    /// (the response itself stays stored).
    pub fn mark_rejected_invalid(&mut self, id: Uuid, revision: u32, error: &str) -> Result<()> {
        self.transition(
            id,
            revision,
            &[OutboxState::Pending, OutboxState::InFlight],
            OutboxState::RejectedInvalid,
            Some(error),
        )
    }

    /// [`Store::mark_rejected_invalid`] keeping the server's reason code (`AckReason` in
    /// snake_case) and the id of the quarantine entry that keeps the record on the server.
    pub fn mark_refused(
        &mut self,
        id: Uuid,
        revision: u32,
        error: &str,
        reason_code: Option<&str>,
        quarantine_id: Option<Uuid>,
    ) -> Result<()> {
        self.apply_outbox_updates(&[OutboxUpdate::Refused {
            id,
            revision,
            error: error.to_string(),
            reason_code: reason_code.map(str::to_string),
            quarantine_id,
        }])
    }

    /// Puts every `in_flight` entry back to `pending` (call when a sync starts: uploads
    /// interrupted by a crash or lost connection are retried). Returns how many were reset.
    pub fn requeue_in_flight(&mut self) -> Result<usize> {
        self.write(|tx, actor| {
            let n = tx.execute(
                "UPDATE outbox SET state = 'pending' WHERE state = 'in_flight'",
                [],
            )?;
            if n > 0 {
                audit::append(
                    tx,
                    actor,
                    "outbox.requeue_in_flight",
                    "outbox",
                    "*",
                    serde_json::json!({ "count": n }),
                )?;
            }
            Ok(n)
        })
    }

    /// Number of entries in each state.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut stmt = self
            .conn()
            .prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut counts = OutboxCounts::default();
        for (state, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match OutboxState::from_code(&state) {
                Some(OutboxState::Pending) => counts.pending = n,
                Some(OutboxState::InFlight) => counts.in_flight = n,
                Some(OutboxState::Acked) => counts.acked = n,
                Some(OutboxState::RejectedInvalid) => counts.rejected = n,
                None => {
                    return Err(StoreError::corrupt(
                        "outbox",
                        format!("unknown state {state:?}"),
                    ));
                }
            }
        }
        Ok(counts)
    }

    /// Moves one entry from one of `from` to `to` (a failure `error` also counts an attempt),
    /// in one transaction with its audit entry.
    fn transition(
        &mut self,
        id: Uuid,
        revision: u32,
        from: &[OutboxState],
        to: OutboxState,
        error: Option<&str>,
    ) -> Result<()> {
        self.write(|tx, actor| transition_in(tx, actor, id, revision, from, to, error, None))
    }

    /// [`Store::mark_in_flight`] for many entries in ONE transaction (one disk sync instead
    /// of one per record): all of them move, or none does (the first invalid transition is
    /// the error).
    pub fn mark_in_flight_many(&mut self, keys: &[(Uuid, u32)]) -> Result<()> {
        self.write(|tx, actor| {
            for &(id, revision) in keys {
                transition_in(
                    tx,
                    actor,
                    id,
                    revision,
                    &[OutboxState::Pending],
                    OutboxState::InFlight,
                    None,
                    None,
                )?;
            }
            Ok(())
        })
    }

    /// Applies the outcomes of one upload in ONE transaction, each exactly as its single
    /// method would ([`Store::mark_acked`], [`Store::mark_failed`], [`Store::mark_refused`]),
    /// with the same audit entries: all of them are recorded, or none is (then the entries
    /// stay as they were, e.g. `in_flight`, and are sent again: the server answers
    /// `duplicate` for what it already has).
    pub fn apply_outbox_updates(&mut self, updates: &[OutboxUpdate]) -> Result<()> {
        const OPEN: &[OutboxState] = &[OutboxState::Pending, OutboxState::InFlight];
        self.write(|tx, actor| {
            for u in updates {
                match u {
                    OutboxUpdate::Acked { id, revision } => transition_in(
                        tx,
                        actor,
                        *id,
                        *revision,
                        OPEN,
                        OutboxState::Acked,
                        None,
                        None,
                    )?,
                    OutboxUpdate::Failed {
                        id,
                        revision,
                        error,
                    } => transition_in(
                        tx,
                        actor,
                        *id,
                        *revision,
                        OPEN,
                        OutboxState::Pending,
                        Some(error),
                        None,
                    )?,
                    OutboxUpdate::Refused {
                        id,
                        revision,
                        error,
                        reason_code,
                        quarantine_id,
                    } => transition_in(
                        tx,
                        actor,
                        *id,
                        *revision,
                        OPEN,
                        OutboxState::RejectedInvalid,
                        Some(error),
                        Some((reason_code.as_deref(), *quarantine_id)),
                    )?,
                }
            }
            Ok(())
        })
    }
}

/// One outcome for [`Store::apply_outbox_updates`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// The server confirmed receipt ([`Store::mark_acked`]).
    Acked {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
    },
    /// Not delivered: back to `pending` with the error counted ([`Store::mark_failed`]).
    Failed {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
        /// What went wrong.
        error: String,
    },
    /// Refused for good ([`Store::mark_refused`]).
    Refused {
        /// Response id.
        id: Uuid,
        /// Revision.
        revision: u32,
        /// The server's reason.
        error: String,
        /// Its reason code (an `AckReason` in snake_case), if any.
        reason_code: Option<String>,
        /// The server's quarantine entry keeping the record, if any.
        quarantine_id: Option<Uuid>,
    },
}

/// Moves one entry from one of `from` to `to` inside the caller's transaction, with its audit
/// entry (a failure `error` also counts an attempt; `refusal` writes a refusal's reason code
/// and quarantine id). Acknowledging an acknowledged entry changes nothing.
#[allow(clippy::too_many_arguments)]
fn transition_in(
    tx: &Connection,
    actor: &str,
    id: Uuid,
    revision: u32,
    from: &[OutboxState],
    to: OutboxState,
    error: Option<&str>,
    refusal: Option<(Option<&str>, Option<Uuid>)>,
) -> Result<()> {
    let entry = load(tx, id, revision)?.ok_or_else(|| {
        StoreError::not_found("outbox entry", format!("{id} revision {revision}"))
    })?;
    if to == OutboxState::Acked && entry.state == OutboxState::Acked {
        return Ok(()); // at-least-once delivery: a repeated ack changes nothing
    }
    if !from.contains(&entry.state) {
        return Err(StoreError::InvalidTransition {
            id,
            revision,
            from: entry.state.to_string(),
            to: to.to_string(),
        });
    }
    let now = codec::ts(&codec::now());
    tx.prepare_cached(
        "UPDATE outbox SET state = ?3,
            attempts = attempts + (?4 IS NOT NULL),
            last_error = COALESCE(?4, last_error),
            acked_at = CASE WHEN ?3 = 'acked' THEN ?5 ELSE acked_at END
         WHERE response_id = ?1 AND revision = ?2",
    )?
    .execute(params![id.to_string(), revision, to.as_str(), error, now])?;
    if let Some((reason_code, quarantine_id)) = refusal {
        tx.execute(
            "UPDATE outbox SET reason_code = ?3, quarantine_id = ?4
             WHERE response_id = ?1 AND revision = ?2",
            params![
                id.to_string(),
                revision,
                reason_code,
                quarantine_id.map(|q| q.to_string())
            ],
        )?;
    }
    if to == OutboxState::Acked {
        tx.prepare_cached(
            "UPDATE responses SET status = 'synced'
             WHERE id = ?1 AND revision = ?2 AND status = 'queued'",
        )?
        .execute(params![id.to_string(), revision])?;
    }
    audit::append(
        tx,
        actor,
        &format!("outbox.{to}"),
        "outbox",
        &format!("{id}/{revision}"),
        serde_json::json!({ "from": entry.state.as_str(), "error": error }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResponseStatus;
    use crate::test_support::{TempStore, at, new_draft};

    fn store_with(n: usize) -> (TempStore, Vec<Uuid>) {
        let t = TempStore::new();
        let mut s = t.open();
        let ids = (0..n)
            .map(|_| {
                let d = s.create_draft(&new_draft(None)).unwrap();
                s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap().id
            })
            .collect();
        (t, ids)
    }

    #[test]
    fn pending_entries_come_in_queue_order() {
        let (t, ids) = store_with(4);
        let s = t.open();
        let got: Vec<Uuid> = s
            .pending_outbox(3)
            .unwrap()
            .into_iter()
            .map(|e| e.response_id)
            .collect();
        assert_eq!(got, ids[..3]);
    }

    #[test]
    fn upload_lifecycle() {
        let (t, ids) = store_with(3);
        let mut s = t.open();
        let (a, b, c) = (ids[0], ids[1], ids[2]);

        s.mark_in_flight(a, 1).unwrap();
        s.mark_acked(a, 1).unwrap();
        s.mark_acked(a, 1).unwrap(); // repeated ack is harmless
        let e = s.get_outbox(a, 1).unwrap().unwrap();
        assert_eq!(e.state, OutboxState::Acked);
        assert!(e.acked_at.is_some());
        assert_eq!(
            s.get_response(a, 1).unwrap().unwrap().status,
            ResponseStatus::Synced
        );

        s.mark_in_flight(b, 1).unwrap();
        s.mark_failed(b, 1, "timeout").unwrap();
        s.mark_in_flight(b, 1).unwrap();
        s.mark_failed(b, 1, "HTTP 503").unwrap();
        let e = s.get_outbox(b, 1).unwrap().unwrap();
        assert_eq!((e.state, e.attempts), (OutboxState::Pending, 2));
        assert_eq!(e.last_error.as_deref(), Some("HTTP 503"));

        s.mark_in_flight(c, 1).unwrap();
        assert_eq!(
            s.outbox_counts().unwrap(),
            OutboxCounts {
                pending: 1,
                in_flight: 1,
                acked: 1,
                rejected: 0
            }
        );
        assert_eq!(s.requeue_in_flight().unwrap(), 1);
        s.mark_rejected_invalid(c, 1, "unknown form version")
            .unwrap();
        assert_eq!(
            s.outbox_counts().unwrap(),
            OutboxCounts {
                pending: 1,
                in_flight: 0,
                acked: 1,
                rejected: 1
            }
        );
        assert_eq!(s.pending_outbox(10).unwrap()[0].response_id, b);
    }

    #[test]
    fn undelivered_entries_are_pending_and_in_flight_in_queue_order() {
        let (t, ids) = store_with(4);
        let mut s = t.open();
        s.mark_in_flight(ids[1], 1).unwrap();
        s.mark_acked(ids[2], 1).unwrap();
        let got: Vec<(Uuid, OutboxState)> = s
            .undelivered_outbox(10)
            .unwrap()
            .into_iter()
            .map(|e| (e.response_id, e.state))
            .collect();
        assert_eq!(
            got,
            [
                (ids[0], OutboxState::Pending),
                (ids[1], OutboxState::InFlight),
                (ids[3], OutboxState::Pending),
            ]
        );
        assert_eq!(s.undelivered_outbox(2).unwrap().len(), 2);
        s.mark_rejected_invalid(ids[3], 1, "invalid").unwrap();
        assert_eq!(s.undelivered_outbox(10).unwrap().len(), 2);
    }

    #[test]
    fn batch_transitions_do_what_the_single_ones_do_in_one_transaction() {
        let (t, ids) = store_with(4);
        let mut s = t.open();
        let keys: Vec<(Uuid, u32)> = ids.iter().map(|&id| (id, 1)).collect();
        let before = s.audit_entries(0).unwrap().len();
        s.mark_in_flight_many(&keys).unwrap();
        assert_eq!(s.outbox_counts().unwrap().in_flight, 4);
        let q = Uuid::now_v7();
        s.apply_outbox_updates(&[
            OutboxUpdate::Acked {
                id: ids[0],
                revision: 1,
            },
            OutboxUpdate::Failed {
                id: ids[1],
                revision: 1,
                error: "no ack".into(),
            },
            OutboxUpdate::Refused {
                id: ids[2],
                revision: 1,
                error: "not yours".into(),
                reason_code: Some("not_your_assignment".into()),
                quarantine_id: Some(q),
            },
            OutboxUpdate::Acked {
                id: ids[3],
                revision: 1,
            },
            // A repeated acknowledgement changes nothing.
            OutboxUpdate::Acked {
                id: ids[3],
                revision: 1,
            },
        ])
        .unwrap();
        let e = |i: usize| s.get_outbox(ids[i], 1).unwrap().unwrap();
        assert_eq!(e(0).state, OutboxState::Acked);
        assert!(e(0).acked_at.is_some());
        assert_eq!(
            s.get_response(ids[0], 1).unwrap().unwrap().status,
            ResponseStatus::Synced
        );
        assert_eq!((e(1).state, e(1).attempts), (OutboxState::Pending, 1));
        assert_eq!(e(1).last_error.as_deref(), Some("no ack"));
        assert_eq!(e(2).state, OutboxState::RejectedInvalid);
        assert_eq!(
            (e(2).reason_code.as_deref(), e(2).quarantine_id),
            (Some("not_your_assignment"), Some(q))
        );
        // One audit entry per transition, as with the single methods.
        let actions: Vec<String> = s.audit_entries(0).unwrap()[before..]
            .iter()
            .map(|a| a.action.clone())
            .collect();
        assert_eq!(
            actions,
            [
                "outbox.in_flight",
                "outbox.in_flight",
                "outbox.in_flight",
                "outbox.in_flight",
                "outbox.acked",
                "outbox.pending",
                "outbox.rejected_invalid",
                "outbox.acked",
            ]
        );
    }

    #[test]
    fn a_batch_with_one_bad_entry_changes_nothing() {
        let (t, ids) = store_with(2);
        let mut s = t.open();
        s.mark_acked(ids[1], 1).unwrap();
        // ids[1] is acked: it cannot go in flight, so ids[0] stays pending too.
        let err = s
            .mark_in_flight_many(&[(ids[0], 1), (ids[1], 1)])
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
        assert_eq!(
            s.get_outbox(ids[0], 1).unwrap().unwrap().state,
            OutboxState::Pending
        );
        let err = s
            .apply_outbox_updates(&[
                OutboxUpdate::Acked {
                    id: ids[0],
                    revision: 1,
                },
                OutboxUpdate::Acked {
                    id: ids[0],
                    revision: 9,
                },
            ])
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
        assert_eq!(
            s.get_outbox(ids[0], 1).unwrap().unwrap().state,
            OutboxState::Pending
        );
        assert_eq!(
            s.get_response(ids[0], 1).unwrap().unwrap().status,
            ResponseStatus::Queued
        );
    }

    #[test]
    fn invalid_transitions_and_unknown_entries_are_errors() {
        let (t, ids) = store_with(1);
        let mut s = t.open();
        s.mark_acked(ids[0], 1).unwrap();
        let err = s.mark_in_flight(ids[0], 1).unwrap_err();
        assert!(matches!(err, StoreError::InvalidTransition { .. }), "{err}");
        let err = s.mark_failed(ids[0], 2, "x").unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
        for st in OutboxState::ALL {
            assert_eq!(OutboxState::from_code(st.as_str()), Some(st));
        }
    }
}
