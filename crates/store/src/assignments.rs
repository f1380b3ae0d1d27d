//! Assignments (sampled respondents to visit) and their contact data, kept in a separate
//! table so personal data never travels with answers or into the audit log.
use crate::audit;
use crate::codec;
use crate::error::{Result, StoreError};
use crate::status_outbox;
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sipas_core::questionnaire::FormKey;
use uuid::Uuid;

pub use sipas_core::assignment_status::AssignmentStatus;

/// A sampled respondent to interview (no personal data; see [`Contact`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Assignment id.
    pub id: Uuid,
    /// Survey round.
    pub round_id: String,
    /// Administrative unit code of the sample unit.
    pub unit_code: String,
    /// Questionnaire (form and version) to use.
    pub form: FormKey,
    /// Administrative procedure the respondent used.
    pub procedure: String,
    /// Field outcome.
    pub status: AssignmentStatus,
    /// Remark on the status.
    pub status_note: Option<String>,
    /// When the row was last written; set by the store (ignored by
    /// [`Store::upsert_assignment`]).
    pub updated_at: DateTime<Utc>,
    /// Names and catalogue codes from the server (shown instead of codes).
    #[serde(flatten)]
    pub names: AssignmentNames,
}

/// Names of an assignment's round, unit, agency, field and procedure, with the catalogue
/// codes (issue 10). `None`: the server gave none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentNames {
    /// Round name.
    #[serde(default)]
    pub round_name: Option<String>,
    /// Administrative unit name.
    #[serde(default)]
    pub unit_name: Option<String>,
    /// Agency code.
    #[serde(default)]
    pub agency_code: Option<String>,
    /// Agency name.
    #[serde(default)]
    pub agency_name: Option<String>,
    /// Field code.
    #[serde(default)]
    pub field_code: Option<String>,
    /// Field name.
    #[serde(default)]
    pub field_name: Option<String>,
    /// Procedure code (`procedure` is its name).
    #[serde(default)]
    pub procedure_code: Option<String>,
}

/// Personal contact data of an assignment's respondent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Respondent's name.
    pub respondent_name: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

const COLUMNS: &str = "id, round_id, unit_code, form_id, form_version, procedure, status, \
     status_note, updated_at, round_name, unit_name, agency_code, agency_name, field_code, \
     field_name, procedure_code";

type RawAssignment = (
    (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
    ),
    AssignmentNames,
);

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawAssignment> {
    Ok((
        (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ),
        AssignmentNames {
            round_name: r.get(9)?,
            unit_name: r.get(10)?,
            agency_code: r.get(11)?,
            agency_name: r.get(12)?,
            field_code: r.get(13)?,
            field_name: r.get(14)?,
            procedure_code: r.get(15)?,
        },
    ))
}

fn decode(raw: RawAssignment) -> Result<Assignment> {
    let (
        (id, round_id, unit_code, form_id, version, procedure, status, status_note, updated_at),
        names,
    ) = raw;
    let what = format!("assignment {id}");
    Ok(Assignment {
        id: codec::parse_uuid(&id, &what)?,
        round_id,
        unit_code,
        form: FormKey { form_id, version },
        procedure,
        status: AssignmentStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(&what, format!("unknown status {status:?}")))?,
        status_note,
        updated_at: codec::parse_ts(&updated_at, &what)?,
        names,
    })
}

/// `Err(Withdrawn)` when `id` names an assignment moved to another surveyor (drafts and
/// responses of it are read-only on this device).
pub(crate) fn ensure_not_withdrawn(conn: &Connection, id: Option<Uuid>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let withdrawn: bool = conn
        .query_row(
            "SELECT withdrawn_at IS NOT NULL FROM assignments WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    if withdrawn {
        Err(StoreError::Withdrawn { assignment_id: id })
    } else {
        Ok(())
    }
}

/// Whether an assignment with this id is stored.
pub(crate) fn exists(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM assignments WHERE id = ?1)",
        [id.to_string()],
        |r| r.get(0),
    )?)
}

/// Sets an assignment's status inside an open transaction and audits it; returns the time
/// written to `updated_at`. Does not queue the change for the server (see
/// [`Store::set_assignment_status`]).
pub(crate) fn set_status(
    conn: &Connection,
    id: Uuid,
    status: AssignmentStatus,
    note: Option<&str>,
    actor: &str,
) -> Result<DateTime<Utc>> {
    let now = codec::now();
    let changed = conn.execute(
        "UPDATE assignments SET status = ?2, status_note = ?3, updated_at = ?4 WHERE id = ?1",
        params![id.to_string(), status.as_str(), note, codec::ts(&now)],
    )?;
    if changed == 0 {
        return Err(StoreError::not_found("assignment", id));
    }
    audit::append(
        conn,
        actor,
        "assignment.set_status",
        "assignment",
        &id.to_string(),
        // The note is free text and may name people: record only whether there is one.
        serde_json::json!({ "status": status.as_str(), "has_note": note.is_some() }),
    )?;
    Ok(now)
}

/// Inserts or replaces an assignment inside the caller's transaction, with its audit entry
/// (see [`Store::upsert_assignment`]).
fn upsert(conn: &Connection, actor: &str, a: &Assignment, contact: Option<&Contact>) -> Result<()> {
    let id = a.id.to_string();
    conn.prepare_cached(
        "INSERT INTO assignments (id, round_id, unit_code, form_id, form_version,
                                  procedure, status, status_note, updated_at,
                                  round_name, unit_name, agency_code, agency_name,
                                  field_code, field_name, procedure_code)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
         ON CONFLICT (id) DO UPDATE SET
            round_id = excluded.round_id, unit_code = excluded.unit_code,
            form_id = excluded.form_id, form_version = excluded.form_version,
            procedure = excluded.procedure, status = excluded.status,
            status_note = excluded.status_note, updated_at = excluded.updated_at,
            round_name = excluded.round_name, unit_name = excluded.unit_name,
            agency_code = excluded.agency_code, agency_name = excluded.agency_name,
            field_code = excluded.field_code, field_name = excluded.field_name,
            procedure_code = excluded.procedure_code,
            withdrawn_at = NULL",
    )?
    .execute(params![
        id,
        a.round_id,
        a.unit_code,
        a.form.form_id,
        a.form.version,
        a.procedure,
        a.status.as_str(),
        a.status_note,
        codec::ts(&codec::now()),
        a.names.round_name,
        a.names.unit_name,
        a.names.agency_code,
        a.names.agency_name,
        a.names.field_code,
        a.names.field_name,
        a.names.procedure_code,
    ])?;
    if let Some(c) = contact {
        conn.execute(
            "INSERT INTO assignment_contacts (assignment_id, respondent_name, address, phone)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (assignment_id) DO UPDATE SET
                respondent_name = excluded.respondent_name,
                address = excluded.address, phone = excluded.phone",
            params![id, c.respondent_name, c.address, c.phone],
        )?;
    }
    audit::append(
        conn,
        actor,
        "assignment.upsert",
        "assignment",
        &id,
        serde_json::json!({
            "round_id": a.round_id,
            "unit_code": a.unit_code,
            "form": a.form.to_string(),
            "status": a.status.as_str(),
            "contact_written": contact.is_some(),
        }),
    )
}

impl Store {
    /// Inserts or replaces an assignment (all fields, including status). `contact: Some`
    /// stores or replaces its contact data; `None` leaves any stored contact untouched.
    /// An assignment written again is the surveyor's again: a withdrawal mark is cleared.
    /// The audit entry records only that contact data was written, never its content.
    pub fn upsert_assignment(&mut self, a: &Assignment, contact: Option<&Contact>) -> Result<()> {
        self.write(|tx, actor| upsert(tx, actor, a, contact))
    }

    /// [`Store::upsert_assignment`] for many assignments in ONE transaction (one disk sync
    /// instead of one per assignment, e.g. for a pull): all are written, or none is.
    pub fn upsert_assignments(&mut self, items: &[(Assignment, Option<Contact>)]) -> Result<()> {
        self.write(|tx, actor| {
            for (a, contact) in items {
                upsert(tx, actor, a, contact.as_ref())?;
            }
            Ok(())
        })
    }

    /// All assignments, ordered by round, unit and id.
    pub fn list_assignments(&self) -> Result<Vec<Assignment>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM assignments ORDER BY round_id, unit_code, id"
        ))?;
        let rows = stmt
            .query_map([], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// The assignment with this id, if stored.
    pub fn get_assignment(&self, id: Uuid) -> Result<Option<Assignment>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM assignments WHERE id = ?1"),
                [id.to_string()],
                raw,
            )
            .optional()?
            .map(decode)
            .transpose()
    }

    /// The contact data of an assignment, if any was stored.
    pub fn get_contact(&self, assignment_id: Uuid) -> Result<Option<Contact>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT respondent_name, address, phone FROM assignment_contacts
                 WHERE assignment_id = ?1",
                [assignment_id.to_string()],
                |r| {
                    Ok(Contact {
                        respondent_name: r.get(0)?,
                        address: r.get(1)?,
                        phone: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Marks assignments as moved to another surveyor (a pull's `withdrawn` list): deletes
    /// their contact data (the deleted rows are overwritten with zeros, `secure_delete`),
    /// drops a field outcome still waiting to be sent, and sets `withdrawn_at`. Their drafts
    /// and responses are kept but become read-only ([`StoreError::Withdrawn`]). Ids not stored
    /// on this device are skipped. Returns how many were withdrawn now; one audit entry per
    /// assignment (its id only). Afterwards the write-ahead log is checkpointed (best effort)
    /// so no copy of the deleted pages lingers there.
    pub fn withdraw_assignments(&mut self, ids: &[Uuid]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        self.conn().pragma_update(None, "secure_delete", true)?;
        let out = self.write(|tx, actor| {
            let now = codec::ts(&codec::now());
            let mut n = 0;
            for id in ids {
                if !exists(tx, *id)? {
                    continue;
                }
                let key = id.to_string();
                tx.execute(
                    "DELETE FROM assignment_contacts WHERE assignment_id = ?1",
                    [&key],
                )?;
                status_outbox::drop_pending(tx, *id)?;
                let changed = tx.execute(
                    "UPDATE assignments SET withdrawn_at = ?2, updated_at = ?2
                     WHERE id = ?1 AND withdrawn_at IS NULL",
                    params![key, now],
                )?;
                if changed == 1 {
                    n += 1;
                    audit::append(
                        tx,
                        actor,
                        "assignment.withdrawn",
                        "assignment",
                        &key,
                        serde_json::json!({}),
                    )?;
                }
            }
            Ok(n)
        });
        let restored = self.conn().pragma_update(None, "secure_delete", false);
        let n = out?;
        restored?;
        // Best effort: readers on other connections may keep some frames for now.
        let _ = self
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(n)
    }

    /// Ids of the assignments moved to another surveyor ([`Store::withdraw_assignments`]).
    pub fn withdrawn_assignments(&self) -> Result<std::collections::BTreeSet<Uuid>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id FROM assignments WHERE withdrawn_at IS NOT NULL")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.iter()
            .map(|id| codec::parse_uuid(id, "withdrawn assignment"))
            .collect()
    }

    /// Records the field outcome of an assignment, attributed to `actor` in the audit log,
    /// and queues it for the server in the same transaction (the status outbox keeps the
    /// latest change per assignment; see [`Store::pending_status_changes`]). `collected` is
    /// not queued: the server derives it from the uploaded response. Statuses received from
    /// the server are applied with [`Store::upsert_assignment`], which queues nothing.
    pub fn set_assignment_status(
        &mut self,
        id: Uuid,
        status: AssignmentStatus,
        note: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        self.write(|tx, _| {
            ensure_not_withdrawn(tx, Some(id))?;
            let at = set_status(tx, id, status, note, actor)?;
            if status == AssignmentStatus::Collected {
                status_outbox::drop_pending(tx, id)?;
            } else {
                status_outbox::enqueue(tx, id, status, note, &at)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{TempStore, assignment, contact};

    #[test]
    fn upsert_get_list_and_contact_round_trip_across_reopen() {
        let t = TempStore::new();
        let a = assignment();
        {
            let mut s = t.open();
            s.upsert_assignment(&a, Some(&contact())).unwrap();
        }
        let mut s = t.open();
        let got = s.get_assignment(a.id).unwrap().unwrap();
        assert_eq!(
            (got.id, &got.procedure, got.status),
            (a.id, &a.procedure, a.status)
        );
        assert_eq!(got.form, a.form);
        assert_eq!(s.get_contact(a.id).unwrap(), Some(contact()));
        assert_eq!(s.list_assignments().unwrap().len(), 1);

        // Upsert without contact keeps the stored contact; changed fields are replaced.
        let mut b = a.clone();
        b.procedure = "Đăng ký kết hôn".into();
        s.upsert_assignment(&b, None).unwrap();
        assert_eq!(
            s.get_assignment(a.id).unwrap().unwrap().procedure,
            b.procedure
        );
        assert_eq!(s.get_contact(a.id).unwrap(), Some(contact()));
        assert_eq!(s.get_assignment(Uuid::now_v7()).unwrap(), None);
    }

    #[test]
    fn many_assignments_are_upserted_in_one_transaction_like_single_ones() {
        let t = TempStore::new();
        let mut s = t.open();
        let (a, b) = (assignment(), assignment());
        let mut moved = b.clone();
        moved.status = AssignmentStatus::Collected;
        s.upsert_assignments(&[(a.clone(), Some(contact())), (b.clone(), None)])
            .unwrap();
        s.upsert_assignments(&[(moved, None)]).unwrap();
        assert_eq!(s.list_assignments().unwrap().len(), 2);
        assert_eq!(s.get_contact(a.id).unwrap(), Some(contact()));
        assert_eq!(s.get_contact(b.id).unwrap(), None);
        assert_eq!(
            s.get_assignment(b.id).unwrap().unwrap().status,
            AssignmentStatus::Collected
        );
        let upserts = s
            .audit_entries(0)
            .unwrap()
            .iter()
            .filter(|e| e.action == "assignment.upsert")
            .count();
        assert_eq!(upserts, 3);
    }

    #[test]
    fn status_changes_are_audited_with_the_given_actor() {
        let t = TempStore::new();
        let mut s = t.open();
        let a = assignment();
        s.upsert_assignment(&a, None).unwrap();
        s.set_assignment_status(a.id, AssignmentStatus::Absent, Some("đi vắng"), "sv-1")
            .unwrap();
        let got = s.get_assignment(a.id).unwrap().unwrap();
        assert_eq!(got.status, AssignmentStatus::Absent);
        assert_eq!(got.status_note.as_deref(), Some("đi vắng"));
        let last = s.audit_entries(0).unwrap().pop().unwrap();
        assert_eq!(
            (last.actor.as_str(), last.action.as_str()),
            ("sv-1", "assignment.set_status")
        );
        assert!(!last.detail.to_string().contains("đi vắng"));

        let err = s
            .set_assignment_status(Uuid::now_v7(), AssignmentStatus::Moved, None, "sv-1")
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::NotFound {
                what: "assignment",
                ..
            }
        ));
    }

    #[test]
    fn contacts_never_reach_the_audit_log() {
        let t = TempStore::new();
        let mut s = t.open();
        let a = assignment();
        s.upsert_assignment(&a, Some(&contact())).unwrap();
        s.upsert_assignment(&a, Some(&contact())).unwrap();
        let c = contact();
        let secrets = [
            c.respondent_name.unwrap(),
            c.address.unwrap(),
            c.phone.unwrap(),
        ];
        let entries = s.audit_entries(0).unwrap();
        assert_eq!(entries.len(), 2);
        for e in entries {
            let text = serde_json::to_string(&e).unwrap();
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{secret} leaked into {text}"
                );
            }
        }
    }

    #[test]
    fn status_codes_round_trip_and_check_constraint_holds() {
        for st in AssignmentStatus::ALL {
            assert_eq!(AssignmentStatus::parse(st.as_str()), Some(st));
        }
        let t = TempStore::new();
        let mut s = t.open();
        let a = assignment();
        s.upsert_assignment(&a, None).unwrap();
        assert!(
            s.conn()
                .execute("UPDATE assignments SET status = 'lost'", [])
                .is_err()
        );
    }

    #[test]
    fn withdrawal_deletes_the_contact_keeps_the_draft_read_only_and_a_return_undoes_it() {
        use sipas_core::answer::AnswerValue;
        let t = TempStore::new();
        let c = contact();
        let (name, phone) = (c.respondent_name.clone().unwrap(), c.phone.clone().unwrap());
        let a = assignment();
        let other = assignment();
        let draft;
        {
            let mut s = t.open();
            s.upsert_assignment(&a, Some(&c)).unwrap();
            s.upsert_assignment(&other, Some(&c)).unwrap();
            draft = s
                .create_draft(&crate::test_support::new_draft(Some(a.id)))
                .unwrap();
            s.save_answer(draft, "A1", Some(AnswerValue::Text("nu".into())), None)
                .unwrap();
            s.set_assignment_status(a.id, AssignmentStatus::Absent, None, "sv")
                .unwrap();
            let n = s
                .withdraw_assignments(&[a.id, Uuid::now_v7(), a.id])
                .unwrap();
            assert_eq!(n, 1, "unknown ids skipped, a repeat counted once");
            assert_eq!(s.withdraw_assignments(&[a.id]).unwrap(), 0);
        }
        // Nothing of the deleted contact is left in the file or its write-ahead log (the
        // other assignment's contact, with the same text, is why only one copy is allowed).
        let mut bytes = std::fs::read(&t.path).unwrap();
        if let Ok(wal) = std::fs::read(t.path.with_extension("db-wal")) {
            bytes.extend(wal);
        }
        let count = |needle: &str| {
            bytes
                .windows(needle.len())
                .filter(|w| *w == needle.as_bytes())
                .count()
        };
        assert!(
            count(&name) <= 1 && count(&phone) <= 1,
            "deleted contact still in the file"
        );

        let mut s = t.open();
        assert_eq!(s.get_contact(a.id).unwrap(), None);
        assert_eq!(s.get_contact(other.id).unwrap(), Some(contact()));
        assert_eq!(
            s.withdrawn_assignments()
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            [a.id]
        );
        assert_eq!(
            s.get_status_change(a.id).unwrap(),
            None,
            "pending outcome dropped"
        );
        // The draft is kept, read-only.
        let d = s.get_draft(draft).unwrap().unwrap();
        assert_eq!(d.answers.len(), 1);
        let withdrawn = |e: StoreError| matches!(e, StoreError::Withdrawn { assignment_id } if assignment_id == a.id);
        assert!(withdrawn(
            s.save_answer(draft, "A1", None, None).unwrap_err()
        ));
        assert!(withdrawn(s.set_draft_gps(draft, None).unwrap_err()));
        assert!(withdrawn(
            s.complete_draft(draft, chrono::Utc::now()).unwrap_err()
        ));
        assert!(withdrawn(s.discard_draft(draft).unwrap_err()));
        assert!(withdrawn(
            s.create_draft(&crate::test_support::new_draft(Some(a.id)))
                .unwrap_err()
        ));
        assert!(withdrawn(
            s.set_assignment_status(a.id, AssignmentStatus::Refused, None, "sv")
                .unwrap_err()
        ));
        assert!(s.get_draft(draft).unwrap().is_some());
        let audit = serde_json::to_string(&s.audit_entries(0).unwrap()).unwrap();
        assert!(audit.contains("assignment.withdrawn") && !audit.contains(&name));

        // Given back by a later pull: the surveyor's again.
        s.upsert_assignment(&a, Some(&contact())).unwrap();
        assert!(s.withdrawn_assignments().unwrap().is_empty());
        s.save_answer(draft, "A1", None, None).unwrap();
    }
}
