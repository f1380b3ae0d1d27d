//! The status outbox: field outcomes recorded on the device, waiting to be sent to the server
//! (`POST /api/v1/assignments/{id}/status`).
//!
//! [`Store::set_assignment_status`] queues the change in its own transaction. Only the latest
//! change per assignment is kept: a newer one replaces the row and makes it `pending` again.
//! Statuses applied from a pull are not queued (they come from the server), nor is
//! `collected`, which the server derives from the uploaded response; completing an interview
//! drops a still pending hand-recorded outcome, so it cannot overwrite `collected` later.
//!
//! States: `pending` → `acked` when the server answered. A change the server refuses for good
//! (e.g. the assignment is no longer the surveyor's) also becomes `acked`, keeping the
//! server's reason in `last_error`, so it is not sent again and again; a failed attempt
//! (network, server error) stays `pending` with `attempts` + 1. Every mark names the
//! `changed_at` of the change that was sent: if a newer change replaced it meanwhile, the
//! newer one stays pending.
use crate::assignments::AssignmentStatus;
use crate::audit;
use crate::codec;
use crate::error::{Result, StoreError};
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A field outcome recorded on the device and its delivery to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// Assignment whose outcome changed.
    pub assignment_id: Uuid,
    /// The outcome recorded.
    pub status: AssignmentStatus,
    /// The surveyor's remark (kept on the device; the server does not take notes).
    pub note: Option<String>,
    /// When it was recorded on the device (identifies this change; see the module docs).
    pub changed_at: DateTime<Utc>,
    /// Whether it still has to be sent.
    pub pending: bool,
    /// Failed send attempts.
    pub attempts: u32,
    /// The last failure; on a change that is no longer pending, the server's reason for
    /// refusing it (`None`: delivered).
    pub last_error: Option<String>,
}

impl StatusChange {
    /// Whether the server refused this change for good (it will not be sent again).
    pub fn refused(&self) -> bool {
        !self.pending && self.last_error.is_some()
    }
}

/// Number of status changes in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusOutboxCounts {
    /// Waiting to be sent.
    pub pending: u64,
    /// Delivered to the server.
    pub acked: u64,
    /// Refused by the server for good.
    pub refused: u64,
}

const COLUMNS: &str = "assignment_id, status, note, changed_at, state, attempts, last_error";

type RawChange = (
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<String>,
);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawChange> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn decode(raw: RawChange) -> Result<StatusChange> {
    let (id, status, note, changed_at, state, attempts, last_error) = raw;
    let what = format!("status change of assignment {id}");
    let pending = match state.as_str() {
        "pending" => true,
        "acked" => false,
        other => {
            return Err(StoreError::corrupt(
                &what,
                format!("unknown state {other:?}"),
            ));
        }
    };
    Ok(StatusChange {
        assignment_id: codec::parse_uuid(&id, &what)?,
        status: AssignmentStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(&what, format!("unknown status {status:?}")))?,
        note,
        changed_at: codec::parse_ts(&changed_at, &what)?,
        pending,
        attempts: u32::try_from(attempts).map_err(|e| StoreError::corrupt(&what, e))?,
        last_error,
    })
}

/// Queues (or replaces) the change of one assignment's outcome, inside the caller's
/// transaction. The caller audits the status change itself.
pub(crate) fn enqueue(
    conn: &Connection,
    id: Uuid,
    status: AssignmentStatus,
    note: Option<&str>,
    changed_at: &DateTime<Utc>,
) -> Result<()> {
    conn.execute(
        "INSERT INTO status_outbox (assignment_id, status, note, changed_at, state, attempts,
                                    last_error)
         VALUES (?1, ?2, ?3, ?4, 'pending', 0, NULL)
         ON CONFLICT (assignment_id) DO UPDATE SET
            status = excluded.status, note = excluded.note, changed_at = excluded.changed_at,
            state = 'pending', attempts = 0, last_error = NULL",
        params![id.to_string(), status.as_str(), note, codec::ts(changed_at)],
    )?;
    Ok(())
}

/// Drops a still pending change of this assignment (inside the caller's transaction);
/// returns whether there was one. Used when the interview is completed: the uploaded response
/// makes the assignment `collected` on the server, and an older outcome must not undo that.
pub(crate) fn drop_pending(conn: &Connection, id: Uuid) -> Result<bool> {
    let n = conn.execute(
        "DELETE FROM status_outbox WHERE assignment_id = ?1 AND state = 'pending'",
        [id.to_string()],
    )?;
    Ok(n > 0)
}

fn load(conn: &Connection, id: Uuid) -> Result<Option<StatusChange>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM status_outbox WHERE assignment_id = ?1"),
        [id.to_string()],
        raw,
    )
    .optional()?
    .map(decode)
    .transpose()
}

/// How a sent change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome<'a> {
    /// The server took it.
    Acked,
    /// It could not be delivered this time; retry later.
    Failed(&'a str),
    /// The server refused it for good.
    Refused(&'a str),
}

impl Store {
    /// Up to `limit` changes waiting to be sent, oldest first.
    pub fn pending_status_changes(&self, limit: usize) -> Result<Vec<StatusChange>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM status_outbox WHERE state = 'pending'
             ORDER BY changed_at, assignment_id LIMIT ?1"
        ))?;
        let rows = stmt
            .query_map([limit], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// The latest recorded change of an assignment's outcome, if any.
    pub fn get_status_change(&self, assignment_id: Uuid) -> Result<Option<StatusChange>> {
        load(self.conn(), assignment_id)
    }

    /// Number of status changes pending, delivered and refused.
    pub fn status_outbox_counts(&self) -> Result<StatusOutboxCounts> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(SUM(state = 'pending'), 0),
                    COALESCE(SUM(state = 'acked' AND last_error IS NULL), 0),
                    COALESCE(SUM(state = 'acked' AND last_error IS NOT NULL), 0)
             FROM status_outbox",
            [],
            |r| {
                let n = |i| r.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
                Ok(StatusOutboxCounts {
                    pending: n(0)?,
                    acked: n(1)?,
                    refused: n(2)?,
                })
            },
        )?)
    }

    /// Records that the server took the change recorded at `changed_at`. Returns `false`
    /// (changing nothing) when a newer change replaced it meanwhile: that one stays pending.
    /// Acknowledging twice is harmless.
    pub fn mark_status_acked(
        &mut self,
        assignment_id: Uuid,
        changed_at: DateTime<Utc>,
    ) -> Result<bool> {
        self.finish_status(assignment_id, changed_at, Outcome::Acked)
    }

    /// Records a failed attempt to send the change recorded at `changed_at` (network, server
    /// error): `attempts` + 1 and the error kept; it stays pending. `false` when a newer
    /// change replaced it meanwhile.
    pub fn mark_status_failed(
        &mut self,
        assignment_id: Uuid,
        changed_at: DateTime<Utc>,
        error: &str,
    ) -> Result<bool> {
        self.finish_status(assignment_id, changed_at, Outcome::Failed(error))
    }

    /// Records that the server refused the change recorded at `changed_at` for good: it is
    /// no longer pending and keeps the reason in `last_error`. `false` when a newer change
    /// replaced it meanwhile.
    pub fn mark_status_refused(
        &mut self,
        assignment_id: Uuid,
        changed_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool> {
        self.finish_status(assignment_id, changed_at, Outcome::Refused(reason))
    }

    /// Applies `outcome` to the change of `assignment_id` recorded at `changed_at`, in one
    /// transaction with its audit entry (which never holds the note).
    fn finish_status(
        &mut self,
        assignment_id: Uuid,
        changed_at: DateTime<Utc>,
        outcome: Outcome<'_>,
    ) -> Result<bool> {
        self.write(|tx, actor| {
            let entry = load(tx, assignment_id)?
                .ok_or_else(|| StoreError::not_found("status change", assignment_id))?;
            if entry.changed_at != changed_at {
                return Ok(false); // replaced by a newer change, which is still to be sent
            }
            if !entry.pending {
                return Ok(true); // answered already: a repeated answer changes nothing
            }
            // A delivered change keeps no error (an earlier failed attempt is over).
            let (state, error, action) = match outcome {
                Outcome::Acked => ("acked", None, "status_outbox.acked"),
                Outcome::Failed(e) => ("pending", Some(e), "status_outbox.failed"),
                Outcome::Refused(e) => ("acked", Some(e), "status_outbox.refused"),
            };
            tx.execute(
                "UPDATE status_outbox SET state = ?2,
                    attempts = attempts + (?3 IS NOT NULL),
                    last_error = ?3
                 WHERE assignment_id = ?1",
                params![assignment_id.to_string(), state, error],
            )?;
            audit::append(
                tx,
                actor,
                action,
                "assignment",
                &assignment_id.to_string(),
                serde_json::json!({ "status": entry.status.as_str(), "error": error }),
            )?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{TempStore, assignment, at, new_draft};

    fn store_with_assignment() -> (TempStore, Uuid) {
        let t = TempStore::new();
        let a = assignment();
        t.open().upsert_assignment(&a, None).unwrap();
        (t, a.id)
    }

    #[test]
    fn outcomes_are_queued_with_their_note_and_the_latest_wins() {
        let (t, a) = store_with_assignment();
        {
            let mut s = t.open();
            s.set_assignment_status(a, AssignmentStatus::Absent, Some("đi vắng"), "sv-1")
                .unwrap();
            s.set_assignment_status(a, AssignmentStatus::Refused, Some("Không muốn"), "sv-1")
                .unwrap();
        }
        let s = t.open();
        let pending = s.pending_status_changes(10).unwrap();
        assert_eq!(pending.len(), 1, "one row per assignment");
        let c = &pending[0];
        assert_eq!((c.assignment_id, c.status), (a, AssignmentStatus::Refused));
        assert_eq!(c.note.as_deref(), Some("Không muốn"));
        assert!(c.pending && !c.refused() && c.attempts == 0);
        assert_eq!(
            c.changed_at,
            s.get_assignment(a).unwrap().unwrap().updated_at,
            "queued in the same write as the status"
        );
        assert_eq!(
            s.status_outbox_counts().unwrap(),
            StatusOutboxCounts {
                pending: 1,
                acked: 0,
                refused: 0
            }
        );
        // The note is personal free text: never in the audit log.
        for e in s.audit_entries(0).unwrap() {
            let text = e.detail.to_string();
            assert!(
                !text.contains("Không muốn") && !text.contains("đi vắng"),
                "{text}"
            );
        }
    }

    #[test]
    fn acked_failed_and_refused_changes() {
        let (t, a) = store_with_assignment();
        let mut s = t.open();
        let b = assignment();
        s.upsert_assignment(&b, None).unwrap();
        s.set_assignment_status(a, AssignmentStatus::Moved, None, "sv")
            .unwrap();
        s.set_assignment_status(b.id, AssignmentStatus::Invalid, None, "sv")
            .unwrap();
        let queue = s.pending_status_changes(10).unwrap();
        assert_eq!(
            queue.iter().map(|c| c.assignment_id).collect::<Vec<_>>(),
            [a, b.id],
            "oldest first"
        );
        let (ca, cb) = (queue[0].changed_at, queue[1].changed_at);

        assert!(s.mark_status_failed(a, ca, "server unreachable").unwrap());
        let got = s.get_status_change(a).unwrap().unwrap();
        assert!(got.pending);
        assert_eq!(got.attempts, 1);
        assert_eq!(got.last_error.as_deref(), Some("server unreachable"));
        assert!(s.mark_status_acked(a, ca).unwrap());
        assert!(
            s.mark_status_acked(a, ca).unwrap(),
            "a repeated ack is harmless"
        );
        let got = s.get_status_change(a).unwrap().unwrap();
        assert!(!got.pending && !got.refused());

        assert!(s.mark_status_refused(b.id, cb, "403.2 not yours").unwrap());
        let got = s.get_status_change(b.id).unwrap().unwrap();
        assert!(got.refused());
        assert_eq!(got.last_error.as_deref(), Some("403.2 not yours"));
        assert!(s.pending_status_changes(10).unwrap().is_empty());
        assert_eq!(
            s.status_outbox_counts().unwrap(),
            StatusOutboxCounts {
                pending: 0,
                acked: 1,
                refused: 1
            }
        );
        let actions: Vec<String> = s
            .audit_entries(0)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .filter(|a| a.starts_with("status_outbox."))
            .collect();
        assert_eq!(
            actions,
            [
                "status_outbox.failed",
                "status_outbox.acked",
                "status_outbox.refused"
            ]
        );

        // A new outcome on a refused assignment is queued afresh.
        s.set_assignment_status(b.id, AssignmentStatus::Absent, None, "sv")
            .unwrap();
        let got = s.get_status_change(b.id).unwrap().unwrap();
        assert!(got.pending && got.last_error.is_none() && got.attempts == 0);

        let err = s.mark_status_acked(Uuid::now_v7(), ca).unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }

    #[test]
    fn a_change_replaced_while_being_sent_stays_pending() {
        let (t, a) = store_with_assignment();
        let mut s = t.open();
        s.set_assignment_status(a, AssignmentStatus::Absent, None, "sv")
            .unwrap();
        let sent = s.pending_status_changes(1).unwrap().remove(0);
        // Meanwhile the surveyor records another outcome (e.g. through another connection).
        s.set_assignment_status(a, AssignmentStatus::Refused, None, "sv")
            .unwrap();
        assert!(!s.mark_status_acked(a, sent.changed_at).unwrap());
        assert!(!s.mark_status_refused(a, sent.changed_at, "x").unwrap());
        let got = s.get_status_change(a).unwrap().unwrap();
        assert!(got.pending);
        assert_eq!((got.status, got.attempts), (AssignmentStatus::Refused, 0));
    }

    #[test]
    fn completing_the_interview_drops_a_pending_outcome_and_is_not_queued() {
        let (t, a) = store_with_assignment();
        let mut s = t.open();
        s.set_assignment_status(a, AssignmentStatus::Absent, Some("đi vắng"), "sv")
            .unwrap();
        let d = s.create_draft(&new_draft(Some(a))).unwrap();
        s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap();
        assert_eq!(
            s.get_assignment(a).unwrap().unwrap().status,
            AssignmentStatus::Collected
        );
        assert_eq!(s.get_status_change(a).unwrap(), None);
        assert_eq!(
            s.status_outbox_counts().unwrap(),
            StatusOutboxCounts::default()
        );
    }

    #[test]
    fn collected_and_upserted_statuses_are_not_queued() {
        let (t, a) = store_with_assignment();
        let mut s = t.open();
        // What a pull does: upsert the assignment with the server's status.
        let mut pulled = s.get_assignment(a).unwrap().unwrap();
        pulled.status = AssignmentStatus::Refused;
        s.upsert_assignment(&pulled, None).unwrap();
        assert_eq!(s.get_status_change(a).unwrap(), None);
        s.set_assignment_status(a, AssignmentStatus::Collected, None, "sv")
            .unwrap();
        assert_eq!(s.get_status_change(a).unwrap(), None);
    }

    #[test]
    fn a_failed_status_write_queues_nothing() {
        let (t, a) = store_with_assignment();
        let mut s = t.open();
        s.conn()
            .execute_batch(
                "CREATE TEMP TRIGGER boom BEFORE INSERT ON status_outbox
                 BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
            )
            .unwrap();
        let err = s
            .set_assignment_status(a, AssignmentStatus::Moved, None, "sv")
            .unwrap_err();
        assert!(err.to_string().contains("simulated failure"));
        assert_eq!(
            s.get_assignment(a).unwrap().unwrap().status,
            AssignmentStatus::NotVisited
        );
        assert_eq!(s.get_status_change(a).unwrap(), None);
    }

    #[test]
    fn check_constraints_hold() {
        let (t, a) = store_with_assignment();
        let mut s = t.open();
        s.set_assignment_status(a, AssignmentStatus::Moved, None, "sv")
            .unwrap();
        for sql in [
            "UPDATE status_outbox SET state = 'in_flight'",
            "UPDATE status_outbox SET status = 'lost'",
            "UPDATE status_outbox SET attempts = -1",
        ] {
            assert!(s.conn().execute(sql, []).is_err(), "{sql}");
        }
    }
}
