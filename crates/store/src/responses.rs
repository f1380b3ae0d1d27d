//! Completed responses: completing a draft, receiving records, reading them back.
//!
//! Responses are immutable once stored (SQL triggers forbid deleting them or changing their
//! content); a correction is a new revision. Each stored revision carries its content hash,
//! so the same record arriving twice is recognised as a duplicate and a different record
//! under the same id and revision is a conflict, never an overwrite.
use crate::assignments::{self, AssignmentStatus};
use crate::audit;
use crate::codec;
use crate::drafts;
use crate::error::{Result, StoreError};
use crate::outbox;
use crate::status_outbox;
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{Origin, Response};
use std::fmt;
use uuid::Uuid;

/// Lifecycle of a stored response revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Waiting in the outbox for upload.
    Queued,
    /// Received by the server.
    Synced,
    /// Sent back by a supervisor (see the review comment).
    Rejected,
    /// Accepted by a supervisor.
    Accepted,
}

impl ResponseStatus {
    /// Every status.
    pub const ALL: [ResponseStatus; 4] = [
        ResponseStatus::Queued,
        ResponseStatus::Synced,
        ResponseStatus::Rejected,
        ResponseStatus::Accepted,
    ];

    /// The stored code, e.g. `queued`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::Queued => "queued",
            ResponseStatus::Synced => "synced",
            ResponseStatus::Rejected => "rejected",
            ResponseStatus::Accepted => "accepted",
        }
    }

    /// The status with this stored code.
    pub fn from_code(code: &str) -> Option<ResponseStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A response revision as stored, with its bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredResponse {
    /// The record itself.
    pub response: Response,
    /// Its content hash (checked against the record when read).
    pub content_hash: String,
    /// Lifecycle status.
    pub status: ResponseStatus,
    /// Supervisor's review, if any.
    pub review_comment: Option<serde_json::Value>,
}

/// Result of [`Store::insert_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InsertOutcome {
    /// The revision was new and is now stored.
    Inserted,
    /// The identical revision was already stored; nothing changed.
    Duplicate,
}

const COLUMNS: &str = "id, revision, form_id, form_version, assignment_id, round_id, unit_code,
                       answers_json, paradata_json, content_hash, started_at, completed_at,
                       status, review_comment, origin";

/// A response row as stored, before decoding.
struct RawResponse {
    id: String,
    revision: i64,
    form_id: String,
    form_version: String,
    assignment_id: Option<String>,
    round_id: String,
    unit_code: String,
    answers: String,
    paradata: String,
    content_hash: String,
    started_at: String,
    completed_at: String,
    status: String,
    review_comment: Option<String>,
    origin: String,
}

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawResponse> {
    Ok(RawResponse {
        id: r.get(0)?,
        revision: r.get(1)?,
        form_id: r.get(2)?,
        form_version: r.get(3)?,
        assignment_id: r.get(4)?,
        round_id: r.get(5)?,
        unit_code: r.get(6)?,
        answers: r.get(7)?,
        paradata: r.get(8)?,
        content_hash: r.get(9)?,
        started_at: r.get(10)?,
        completed_at: r.get(11)?,
        status: r.get(12)?,
        review_comment: r.get(13)?,
        origin: r.get(14)?,
    })
}

/// Decodes a row and verifies that its content still matches its stored hash.
fn decode(r: RawResponse) -> Result<StoredResponse> {
    let what = format!("response {} revision {}", r.id, r.revision);
    let response = Response {
        id: codec::parse_uuid(&r.id, &what)?,
        revision: codec::revision(r.revision, &what)?,
        form: FormKey {
            form_id: r.form_id,
            version: r.form_version,
        },
        assignment_id: r
            .assignment_id
            .map(|a| codec::parse_uuid(&a, &what))
            .transpose()?,
        round_id: r.round_id,
        unit_code: r.unit_code,
        answers: codec::from_json(&r.answers, &format!("answers of {what}"))?,
        started_at: codec::parse_ts(&r.started_at, &what)?,
        completed_at: codec::parse_ts(&r.completed_at, &what)?,
        paradata: codec::from_json(&r.paradata, &format!("paradata of {what}"))?,
        origin: Origin::from_code(&r.origin)
            .ok_or_else(|| StoreError::corrupt(&what, format!("unknown origin {:?}", r.origin)))?,
    };
    let actual = response.content_hash();
    // Rows written before the canonical form (API.md "Canonical form and content hash") carry
    // the legacy hash; they are intact and read with the current one, so an old outbox entry
    // uploads (or exports) with the hash the server now expects.
    if !response.has_content_hash(&r.content_hash) {
        return Err(StoreError::corrupt(
            what,
            format!(
                "content hash {actual} does not match stored {}",
                r.content_hash
            ),
        ));
    }
    Ok(StoredResponse {
        response,
        content_hash: actual,
        status: ResponseStatus::from_code(&r.status)
            .ok_or_else(|| StoreError::corrupt(&what, format!("unknown status {:?}", r.status)))?,
        review_comment: r
            .review_comment
            .map(|c| codec::from_json(&c, &format!("review of {what}")))
            .transpose()?,
    })
}

/// The stored content hash of one revision, if that revision exists.
fn stored_hash(conn: &Connection, id: Uuid, revision: u32) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT content_hash FROM responses WHERE id = ?1 AND revision = ?2",
            params![id.to_string(), revision],
            |r| r.get(0),
        )
        .optional()?)
}

/// Inserts one revision row (no checks; callers check for duplicates first).
fn insert(conn: &Connection, r: &Response, hash: &str, status: ResponseStatus) -> Result<()> {
    let what = format!("response {} revision {}", r.id, r.revision);
    conn.execute(
        "INSERT INTO responses (id, revision, form_id, form_version, assignment_id, round_id,
                                unit_code, answers_json, paradata_json, content_hash,
                                started_at, completed_at, status, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            r.id.to_string(),
            r.revision,
            r.form.form_id,
            r.form.version,
            r.assignment_id.map(|a| a.to_string()),
            r.round_id,
            r.unit_code,
            codec::to_json(&r.answers, &what)?,
            codec::to_json(&r.paradata, &what)?,
            hash,
            codec::ts(&r.started_at),
            codec::ts(&r.completed_at),
            status.as_str(),
            r.origin.as_str(),
        ],
    )?;
    Ok(())
}

impl Store {
    /// Completes a draft in ONE transaction: stores it as a response (revision 1, or the next
    /// revision when that id is already stored) with its content hash, queues it in the
    /// outbox, deletes the draft and marks its assignment `collected` (dropping an outcome
    /// recorded by hand that was still waiting to be sent). After a crash either all of that
    /// happened or none of it. Validating the answers against the form is the caller's job.
    /// A practice draft is refused ([`StoreError::PracticeNotQueued`]) and stays as it is.
    pub fn complete_draft(
        &mut self,
        draft_id: Uuid,
        completed_at: DateTime<Utc>,
    ) -> Result<Response> {
        self.write(|tx, actor| {
            let d = drafts::load(tx, draft_id)?
                .ok_or_else(|| StoreError::not_found("draft", draft_id))?;
            crate::assignments::ensure_not_withdrawn(tx, d.assignment_id)?;
            if d.practice {
                return Err(StoreError::PracticeNotQueued { id: draft_id });
            }
            let last: Option<i64> = tx.query_row(
                "SELECT MAX(revision) FROM responses WHERE id = ?1",
                [draft_id.to_string()],
                |r| r.get(0),
            )?;
            let revision = match last {
                Some(v) => codec::revision(v, &format!("response {draft_id}"))? + 1,
                None => 1,
            };
            let response = Response {
                id: d.id,
                revision,
                form: d.form,
                assignment_id: d.assignment_id,
                round_id: d.round_id,
                unit_code: d.unit_code,
                answers: d.answers,
                started_at: d.started_at,
                completed_at,
                paradata: d.paradata,
                origin: d.origin,
            };
            let hash = response.content_hash();
            insert(tx, &response, &hash, ResponseStatus::Queued)?;
            outbox::enqueue(tx, response.id, revision)?;
            tx.execute(
                "DELETE FROM drafts WHERE response_id = ?1",
                [draft_id.to_string()],
            )?;
            audit::append(
                tx,
                actor,
                "response.complete",
                "response",
                &response.id.to_string(),
                serde_json::json!({
                    "revision": revision,
                    "content_hash": hash,
                    "form": response.form.to_string(),
                    "answers": response.answers.len(),
                }),
            )?;
            // A reopened received response may name an assignment not on this device.
            match response.assignment_id {
                Some(a) if assignments::exists(tx, a)? => {
                    assignments::set_status(tx, a, AssignmentStatus::Collected, None, actor)?;
                    // The upload makes it collected on the server; an outcome recorded
                    // before the interview must not be sent after it and undo that.
                    status_outbox::drop_pending(tx, a)?;
                }
                _ => {}
            }
            Ok(response)
        })
    }

    /// Stores a response received from elsewhere (server download, file import). Idempotent:
    /// the identical revision again → `Ok(Duplicate)`; a different record under the same id
    /// and revision → `Err(Conflict)` and nothing changes. `status` `Queued` also puts it in
    /// the outbox for upload; any other status stores it without queueing.
    pub fn insert_response(
        &mut self,
        response: &Response,
        status: ResponseStatus,
    ) -> Result<InsertOutcome> {
        let hash = response.content_hash();
        self.write(|tx, actor| {
            match stored_hash(tx, response.id, response.revision)? {
                Some(h) if response.has_content_hash(&h) => {
                    return Ok(InsertOutcome::Duplicate);
                }
                Some(_) => {
                    return Err(StoreError::Conflict {
                        id: response.id,
                        revision: response.revision,
                    });
                }
                None => {}
            }
            insert(tx, response, &hash, status)?;
            if status == ResponseStatus::Queued {
                outbox::enqueue(tx, response.id, response.revision)?;
            }
            audit::append(
                tx,
                actor,
                "response.insert",
                "response",
                &response.id.to_string(),
                serde_json::json!({
                    "revision": response.revision,
                    "content_hash": hash,
                    "status": status.as_str(),
                }),
            )?;
            Ok(InsertOutcome::Inserted)
        })
    }

    /// Records a review or sync outcome on a stored revision: its status and the
    /// supervisor's comment (`None` clears it). Content never changes.
    pub fn set_response_status(
        &mut self,
        id: Uuid,
        revision: u32,
        status: ResponseStatus,
        review_comment: Option<&serde_json::Value>,
    ) -> Result<()> {
        self.write(|tx, actor| {
            let changed = tx.execute(
                "UPDATE responses SET status = ?3, review_comment = ?4
                 WHERE id = ?1 AND revision = ?2",
                params![
                    id.to_string(),
                    revision,
                    status.as_str(),
                    review_comment.map(|c| c.to_string())
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found(
                    "response",
                    format!("{id} revision {revision}"),
                ));
            }
            audit::append(
                tx,
                actor,
                "response.set_status",
                "response",
                &id.to_string(),
                serde_json::json!({
                    "revision": revision,
                    "status": status.as_str(),
                    "has_review_comment": review_comment.is_some(),
                }),
            )
        })
    }

    /// One revision of a response, if stored.
    pub fn get_response(&self, id: Uuid, revision: u32) -> Result<Option<StoredResponse>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM responses WHERE id = ?1 AND revision = ?2"),
                params![id.to_string(), revision],
                raw,
            )
            .optional()?
            .map(decode)
            .transpose()
    }

    /// The highest stored revision of a response, if any.
    pub fn latest_response(&self, id: Uuid) -> Result<Option<StoredResponse>> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM responses WHERE id = ?1
                     ORDER BY revision DESC LIMIT 1"
                ),
                [id.to_string()],
                raw,
            )
            .optional()?
            .map(decode)
            .transpose()
    }

    /// Every stored revision of every response, ordered by id then revision.
    pub fn list_responses(&self) -> Result<Vec<StoredResponse>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM responses ORDER BY id, revision"
        ))?;
        let rows = stmt
            .query_map([], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutboxState;
    use crate::test_support::{TempStore, assignment, at, new_draft};
    use sipas_core::answer::AnswerValue;

    /// A store file with one assignment and a filled draft for it.
    fn filled() -> (TempStore, Uuid, Uuid) {
        let t = TempStore::new();
        let mut s = t.open();
        let a = assignment();
        s.upsert_assignment(&a, None).unwrap();
        let d = s.create_draft(&new_draft(Some(a.id))).unwrap();
        s.save_answer(d, "C1_1", Some(AnswerValue::Int(4)), Some(900))
            .unwrap();
        s.save_answer(d, "A1", Some(AnswerValue::Text("nam".into())), None)
            .unwrap();
        (t, a.id, d)
    }

    #[test]
    fn complete_draft_moves_draft_to_response_and_outbox() {
        let (t, a, d) = filled();
        let done = at("2026-11-20T09:30:00Z");
        let r = t.open().complete_draft(d, done).unwrap();
        assert_eq!((r.id, r.revision, r.completed_at), (d, 1, done));
        assert_eq!(r.answers["C1_1"], AnswerValue::Int(4));
        assert_eq!(r.paradata.item_ms["C1_1"], 900);

        let s = t.open();
        assert_eq!(s.get_draft(d).unwrap(), None);
        let stored = s.get_response(d, 1).unwrap().unwrap();
        assert_eq!(stored.response, r);
        assert_eq!(stored.content_hash, r.content_hash());
        assert_eq!(stored.status, ResponseStatus::Queued);
        let ob = s.get_outbox(d, 1).unwrap().unwrap();
        assert_eq!((ob.state, ob.attempts), (OutboxState::Pending, 0));
        assert_eq!(
            s.get_assignment(a).unwrap().unwrap().status,
            AssignmentStatus::Collected
        );
        let actions: Vec<String> = s
            .audit_entries(0)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.ends_with(&["response.complete".into(), "assignment.set_status".into()]));
    }

    /// A row stored by an app version before the canonical form holds the legacy hash: it
    /// still reads (with the current hash, which is what the upload and the hand-over file
    /// carry), the same content received again is a duplicate, and a tampered row is corrupt.
    #[test]
    fn rows_with_the_legacy_hash_read_with_the_current_one() {
        let (t, _, d) = filled();
        let r = t
            .open()
            .complete_draft(d, at("2026-11-20T09:30:00Z"))
            .unwrap();
        let legacy = r.legacy_content_hash();
        assert_ne!(legacy, r.content_hash());
        let mut s = t.open();
        // What an older version wrote (the content trigger forbids changing it afterwards).
        s.conn()
            .execute_batch("DROP TRIGGER responses_content_immutable")
            .unwrap();
        s.conn()
            .execute(
                "UPDATE responses SET content_hash = ?1 WHERE id = ?2",
                params![legacy, d.to_string()],
            )
            .unwrap();
        let stored = s.get_response(d, 1).unwrap().unwrap();
        assert_eq!(stored.content_hash, r.content_hash());
        assert_eq!(
            s.insert_response(&r, ResponseStatus::Queued).unwrap(),
            InsertOutcome::Duplicate
        );
        s.conn()
            .execute(
                "UPDATE responses SET content_hash = ?1 WHERE id = ?2",
                params!["0".repeat(64), d.to_string()],
            )
            .unwrap();
        assert!(matches!(
            s.get_response(d, 1),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn failed_completion_changes_nothing() {
        let (t, a, d) = filled();
        let mut s = t.open();
        s.conn()
            .execute_batch(
                "CREATE TEMP TRIGGER boom BEFORE INSERT ON outbox
                 BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
            )
            .unwrap();
        let before = s.audit_entries(0).unwrap().len();
        let err = s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap_err();
        assert!(err.to_string().contains("simulated failure"));
        assert!(s.get_draft(d).unwrap().is_some());
        assert!(s.list_responses().unwrap().is_empty());
        assert_eq!(
            s.get_assignment(a).unwrap().unwrap().status,
            AssignmentStatus::NotVisited
        );
        assert_eq!(s.audit_entries(0).unwrap().len(), before);
    }

    #[test]
    fn editing_a_response_stores_the_next_revision() {
        let (t, _, d) = filled();
        let mut s = t.open();
        let r1 = s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap();
        s.set_response_status(
            d,
            1,
            ResponseStatus::Rejected,
            Some(&serde_json::json!({"C1_1": "hỏi lại"})),
        )
        .unwrap();
        let draft = s.edit_response(d).unwrap();
        assert_eq!(draft.answers, r1.answers);
        assert!(matches!(
            s.edit_response(d),
            Err(StoreError::DraftExists { .. })
        ));
        s.save_answer(d, "C1_1", Some(AnswerValue::Int(5)), None)
            .unwrap();
        let r2 = s.complete_draft(d, at("2026-11-21T09:30:00Z")).unwrap();
        assert_eq!(r2.revision, 2);
        assert_eq!(r2.started_at, r1.started_at);
        let old = s.get_response(d, 1).unwrap().unwrap();
        assert_eq!(old.response, r1, "revision 1 is kept unchanged");
        assert_eq!(old.status, ResponseStatus::Rejected);
        assert_eq!(old.review_comment.unwrap()["C1_1"], "hỏi lại");
        assert_eq!(s.latest_response(d).unwrap().unwrap().response, r2);
        assert_eq!(s.list_responses().unwrap().len(), 2);
        assert_eq!(s.outbox_counts().unwrap().pending, 2);
    }

    #[test]
    fn insert_is_idempotent_and_conflicts_change_nothing() {
        let (t, _, d) = filled();
        let mut s = t.open();
        let r = s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap();
        assert_eq!(
            s.insert_response(&r, ResponseStatus::Queued).unwrap(),
            InsertOutcome::Duplicate
        );
        let audit_len = s.audit_entries(0).unwrap().len();
        let mut changed = r.clone();
        changed.answers.insert("C1_1".into(), AnswerValue::Int(1));
        let err = s
            .insert_response(&changed, ResponseStatus::Queued)
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict { id, revision: 1 } if id == d));
        assert!(err.to_string().contains("nothing was overwritten"));
        assert_eq!(s.get_response(d, 1).unwrap().unwrap().response, r);
        assert_eq!(s.audit_entries(0).unwrap().len(), audit_len);
        assert_eq!(s.outbox_counts().unwrap().pending, 1);

        // A record received from the server is stored without queueing it.
        let mut other = r.clone();
        other.id = Uuid::now_v7();
        assert_eq!(
            s.insert_response(&other, ResponseStatus::Synced).unwrap(),
            InsertOutcome::Inserted
        );
        assert_eq!(s.get_outbox(other.id, 1).unwrap(), None);
        assert_eq!(
            s.get_response(other.id, 1).unwrap().unwrap().status,
            ResponseStatus::Synced
        );
    }

    #[test]
    fn stored_responses_cannot_be_deleted_or_rewritten() {
        let (t, _, d) = filled();
        let mut s = t.open();
        s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap();
        let del = s.conn().execute("DELETE FROM responses", []).unwrap_err();
        assert!(del.to_string().contains("cannot be deleted"), "{del}");
        let upd = s
            .conn()
            .execute("UPDATE responses SET answers_json = '{}'", [])
            .unwrap_err();
        assert!(upd.to_string().contains("new revision"), "{upd}");
    }

    #[test]
    fn tampered_content_is_reported_as_corrupt() {
        let (t, _, d) = filled();
        let mut s = t.open();
        s.complete_draft(d, at("2026-11-20T09:30:00Z")).unwrap();
        s.conn()
            .execute_batch(
                "DROP TRIGGER responses_content_immutable;
                 UPDATE responses SET answers_json = '{\"C1_1\":5}';",
            )
            .unwrap();
        let err = s.get_response(d, 1).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn status_codes_round_trip() {
        for st in ResponseStatus::ALL {
            assert_eq!(ResponseStatus::from_code(st.as_str()), Some(st));
        }
    }
}
