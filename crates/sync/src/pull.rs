//! Applying a pull (`GET /api/v1/pull`) to the local store: assignments with their contacts,
//! review decisions, assignments moved to another surveyor, and the cursor for the next pull.
//!
//! Applying is idempotent (upserts and status updates), and the cursor is saved last, so a
//! crash halfway simply means the same changes are pulled and applied again next time.
use chrono::Utc;
use serde::Serialize;
use sipas_protocol::wire::{
    self, AssignmentStatus, Decision, FieldRound, PullResponse, ReviewDecision,
};
use sipas_store::{Assignment, AssignmentNames, Contact, ResponseStatus, Store, StoreError};

/// What one pull changed on the device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PullReport {
    /// Assignments inserted or updated.
    pub assignments: usize,
    /// Review decisions recorded on stored responses.
    pub decisions: usize,
    /// Decisions about response revisions not stored on this device (ignored).
    pub decisions_skipped: usize,
    /// Assignments withdrawn now (moved to another surveyor: contact deleted).
    pub withdrawn: usize,
    /// The cursor saved for the next pull.
    pub cursor: i64,
    /// Questionnaires and catalogue options downloaded after the pull (issue 12).
    pub forms: crate::forms::FormsReport,
}

/// Applies a pull to the store and saves its cursor.
///
/// * Assignments are upserted with their contact data (kept apart from answers). A field
///   outcome recorded on the device (e.g. `collected` after completing the interview, or
///   `absent`) is kept while the server still reports `not_visited`, because the device's
///   news may simply not have reached the server yet; any other server status wins.
///   Statuses applied here come from the server, so they are written with
///   [`Store::upsert_assignment`], which does not queue them in the status outbox (only
///   outcomes the surveyor records, [`Store::set_assignment_status`], are sent back).
/// * A `rejected` decision sets the response revision's status to `rejected` and stores the
///   decision (comment and per-question comments) as its review comment, so the app can show
///   it and reopen the response as a new revision with [`Store::edit_response`]. An
///   `approved` decision sets the status `accepted` the same way.
/// * Decisions about revisions this device does not hold are counted and skipped.
/// * Withdrawn assignments (moved to another surveyor) lose their contact data and are
///   marked withdrawn ([`Store::withdraw_assignments`]); their drafts stay, read-only.
/// * The rounds that take interviews outside the sample replace the stored ones
///   ([`field_rounds`]): the app offers free interviews only for those.
pub fn apply_pull(store: &mut Store, pull: &PullResponse) -> Result<PullReport, StoreError> {
    let mut report = PullReport::default();
    // Written in one transaction (a pull after a large upload brings back every collected
    // assignment: one disk sync, not one per assignment).
    let assignments = pull
        .assignments
        .iter()
        .map(|a| assignment_to_store(store, a))
        .collect::<Result<Vec<_>, _>>()?;
    store.upsert_assignments(&assignments)?;
    report.assignments = assignments.len();
    for d in &pull.decisions {
        if apply_decision(store, d)? {
            report.decisions += 1;
        } else {
            report.decisions_skipped += 1;
        }
    }
    report.withdrawn = store.withdraw_assignments(&pull.withdrawn)?;
    let rounds = pull
        .rounds
        .iter()
        .map(|r| {
            serde_json::to_string(r)
                .map(|json| (r.round.id.clone(), json))
                .map_err(|e| StoreError::Corrupt {
                    what: format!("round {}", r.round.id),
                    detail: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    store.replace_field_rounds(&rounds)?;
    let cursor = pull.cursor.max(0);
    store.set_pull_cursor(cursor)?;
    report.cursor = cursor;
    Ok(report)
}

/// The stored form of a pulled assignment (keeping the device's own outcome as described in
/// [`apply_pull`]) and its contact.
fn assignment_to_store(
    store: &Store,
    a: &wire::Assignment,
) -> Result<(Assignment, Option<Contact>), StoreError> {
    let local = store.get_assignment(a.id)?;
    let (status, status_note) = match local {
        Some(l) if a.status == AssignmentStatus::NotVisited => (l.status, l.status_note),
        Some(l) if l.status == a.status => (a.status, l.status_note),
        _ => (a.status, None),
    };
    let assignment = Assignment {
        id: a.id,
        round_id: a.round_id.clone(),
        unit_code: a.unit_code.clone(),
        form: a.form.clone(),
        procedure: a.procedure.clone(),
        status,
        status_note,
        updated_at: Utc::now(),
        names: AssignmentNames {
            round_name: a.round_name.clone(),
            unit_name: a.unit_name.clone(),
            agency_code: a.agency_code.clone(),
            // Older servers send only `agency` (the name).
            agency_name: a.agency_name.clone().or_else(|| a.agency.clone()),
            field_code: a.field_code.clone(),
            field_name: a.field_name.clone(),
            procedure_code: a.procedure_code.clone(),
        },
    };
    let contact = a.contact.as_ref().map(|c| Contact {
        respondent_name: Some(c.name.clone()),
        address: Some(c.address.clone()),
        phone: c.phone.clone(),
    });
    Ok((assignment, contact))
}

/// The rounds that take interviews outside the sample, with their units by name, as the
/// last pull gave them (a round the app cannot read is left out).
pub fn field_rounds(store: &Store) -> Result<Vec<FieldRound>, StoreError> {
    Ok(store
        .field_rounds_json()?
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect())
}

/// Records one decision; `false` when the revision is not on this device.
fn apply_decision(store: &mut Store, d: &ReviewDecision) -> Result<bool, StoreError> {
    if store.get_response(d.response_id, d.revision)?.is_none() {
        return Ok(false);
    }
    let status = match d.decision {
        Decision::Rejected => ResponseStatus::Rejected,
        Decision::Approved => ResponseStatus::Accepted,
    };
    let review = serde_json::to_value(d).map_err(|e| StoreError::Corrupt {
        what: format!(
            "review decision on {} revision {}",
            d.response_id, d.revision
        ),
        detail: e.to_string(),
    })?;
    store.set_response_status(d.response_id, d.revision, status, Some(&review))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use sipas_core::questionnaire::FormKey;
    use sipas_core::response::{Paradata, Response};
    use sipas_protocol::wire::Contact as WireContact;
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn form() -> FormKey {
        FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        }
    }

    fn wire_assignment(status: AssignmentStatus) -> wire::Assignment {
        wire::Assignment {
            id: Uuid::from_u128(7),
            round_id: "R1".into(),
            form: form(),
            unit_code: "00004".into(),
            procedure: "Cấp giấy khai sinh".into(),
            agency: None,
            contact: Some(WireContact {
                name: "Nguyễn Văn A".into(),
                address: "1 Tràng Tiền".into(),
                phone: None,
            }),
            status,
            unit_name: None,
            agency_code: None,
            agency_name: None,
            field_code: None,
            field_name: None,
            procedure_code: None,
            round_name: None,
        }
    }

    fn response(id: u128) -> Response {
        let t = DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Response {
            id: Uuid::from_u128(id),
            revision: 1,
            form: form(),
            assignment_id: None,
            round_id: "R1".into(),
            unit_code: "00004".into(),
            answers: BTreeMap::new(),
            started_at: t,
            completed_at: t,
            paradata: Paradata::default(),
            origin: Default::default(),
        }
    }

    fn pull(assignments: Vec<wire::Assignment>, decisions: Vec<ReviewDecision>) -> PullResponse {
        PullResponse {
            assignments,
            decisions,
            withdrawn: Vec::new(),
            rounds: Vec::new(),
            cursor: 12,
        }
    }

    #[test]
    fn rounds_open_to_free_interviews_replace_the_stored_ones() {
        let mut s = Store::open_in_memory().unwrap();
        let round = FieldRound {
            round: wire::Round {
                id: "R1".into(),
                name: "Đợt 1".into(),
                form: form(),
                starts_on: "2026-11-01".parse().unwrap(),
                ends_on: "2026-12-31".parse().unwrap(),
                outside_sample: wire::OutsideSample {
                    replacement: true,
                    walk_in: true,
                    cap_per_unit: 5,
                },
            },
            units: vec![wire::RoundUnit {
                code: "00004".into(),
                name: "Phường Trúc Bạch".into(),
            }],
        };
        let mut p = pull(vec![], vec![]);
        p.rounds = vec![round.clone()];
        apply_pull(&mut s, &p).unwrap();
        assert_eq!(field_rounds(&s).unwrap(), vec![round]);
        // The next pull says no round takes them any more.
        apply_pull(&mut s, &pull(vec![], vec![])).unwrap();
        assert!(field_rounds(&s).unwrap().is_empty());
    }

    #[test]
    fn assignments_and_contacts_are_upserted_and_local_outcomes_kept() {
        let mut s = Store::open_in_memory().unwrap();
        let a = wire_assignment(AssignmentStatus::NotVisited);
        let r = apply_pull(&mut s, &pull(vec![a.clone()], vec![])).unwrap();
        assert_eq!((r.assignments, r.cursor), (1, 12));
        assert_eq!(s.pull_cursor().unwrap(), 12);
        let c = s.get_contact(a.id).unwrap().unwrap();
        assert_eq!(c.respondent_name.as_deref(), Some("Nguyễn Văn A"));
        // Statuses from the server are never queued to be sent back to it.
        apply_pull(
            &mut s,
            &pull(vec![wire_assignment(AssignmentStatus::Refused)], vec![]),
        )
        .unwrap();
        assert_eq!(s.get_status_change(a.id).unwrap(), None);
        apply_pull(&mut s, &pull(vec![a.clone()], vec![])).unwrap();
        assert_eq!(s.get_status_change(a.id).unwrap(), None);
        assert_eq!(
            s.get_assignment(a.id).unwrap().unwrap().status,
            AssignmentStatus::Refused,
            "not_visited from the server does not undo a known outcome"
        );
        let mut reset = s.get_assignment(a.id).unwrap().unwrap();
        reset.status = AssignmentStatus::NotVisited;
        s.upsert_assignment(&reset, None).unwrap();

        // Local outcome not yet known to the server: kept.
        s.set_assignment_status(a.id, AssignmentStatus::Absent, Some("đi vắng"), "sv")
            .unwrap();
        apply_pull(&mut s, &pull(vec![a.clone()], vec![])).unwrap();
        let got = s.get_assignment(a.id).unwrap().unwrap();
        assert_eq!(got.status, AssignmentStatus::Absent);
        assert_eq!(got.status_note.as_deref(), Some("đi vắng"));
        let queued = s.get_status_change(a.id).unwrap().unwrap();
        assert!(queued.pending && queued.status == AssignmentStatus::Absent);

        // The server's news wins.
        apply_pull(
            &mut s,
            &pull(vec![wire_assignment(AssignmentStatus::Collected)], vec![]),
        )
        .unwrap();
        let got = s.get_assignment(a.id).unwrap().unwrap();
        assert_eq!(
            (got.status, got.status_note),
            (AssignmentStatus::Collected, None)
        );
    }

    #[test]
    fn catalogue_names_and_codes_are_kept_and_old_servers_still_give_the_agency() {
        let mut s = Store::open_in_memory().unwrap();
        let mut a = wire_assignment(AssignmentStatus::NotVisited);
        a.round_name = Some("Đợt 1 Hà Nội".into());
        a.unit_name = Some("Phường Ba Đình".into());
        a.agency = Some("Bộ phận Một cửa phường Ba Đình".into());
        a.agency_code = Some("HN-MC-BD".into());
        a.agency_name = a.agency.clone();
        a.field_code = Some("tu_phap_ho_tich".into());
        a.field_name = Some("Tư pháp – Hộ tịch".into());
        a.procedure_code = Some("ho_tich.khai_sinh".into());
        // The wire form a server sends, read back as the device reads it.
        let json = serde_json::to_string(&a).unwrap();
        let a: wire::Assignment = serde_json::from_str(&json).unwrap();
        apply_pull(&mut s, &pull(vec![a.clone()], vec![])).unwrap();
        let got = s.get_assignment(a.id).unwrap().unwrap().names;
        assert_eq!(
            got,
            AssignmentNames {
                round_name: Some("Đợt 1 Hà Nội".into()),
                unit_name: Some("Phường Ba Đình".into()),
                agency_code: Some("HN-MC-BD".into()),
                agency_name: Some("Bộ phận Một cửa phường Ba Đình".into()),
                field_code: Some("tu_phap_ho_tich".into()),
                field_name: Some("Tư pháp – Hộ tịch".into()),
                procedure_code: Some("ho_tich.khai_sinh".into()),
            }
        );
        // A server before issue 10 sends none of the new fields.
        let old = serde_json::json!({
            "id": Uuid::from_u128(8), "round_id": "R1",
            "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
            "unit_code": "00004", "procedure": "Đăng ký kết hôn", "agency": "UBND phường",
            "status": "not_visited"
        });
        let old: wire::Assignment = serde_json::from_value(old).unwrap();
        apply_pull(&mut s, &pull(vec![old], vec![])).unwrap();
        let got = s.get_assignment(Uuid::from_u128(8)).unwrap().unwrap().names;
        assert_eq!(got.agency_name.as_deref(), Some("UBND phường"));
        assert_eq!(got.unit_name, None);
    }

    #[test]
    fn decisions_set_status_and_comment_and_unknown_ones_are_skipped() {
        let mut s = Store::open_in_memory().unwrap();
        let rejected = response(1);
        let approved = response(2);
        s.insert_response(&rejected, ResponseStatus::Synced)
            .unwrap();
        s.insert_response(&approved, ResponseStatus::Synced)
            .unwrap();
        let decision = |id: u128, decision| ReviewDecision {
            response_id: Uuid::from_u128(id),
            revision: 1,
            decision,
            comment: Some("Kiểm tra lại câu G1_2".into()),
            item_comments: [("G1_2".to_string(), "Mâu thuẫn".to_string())].into(),
            decided_at: Utc::now(),
        };
        let r = apply_pull(
            &mut s,
            &pull(
                vec![],
                vec![
                    decision(1, Decision::Rejected),
                    decision(2, Decision::Approved),
                    decision(3, Decision::Rejected),
                ],
            ),
        )
        .unwrap();
        assert_eq!((r.decisions, r.decisions_skipped), (2, 1));
        let got = s.get_response(rejected.id, 1).unwrap().unwrap();
        assert_eq!(got.status, ResponseStatus::Rejected);
        let review = got.review_comment.unwrap();
        assert_eq!(review["comment"], "Kiểm tra lại câu G1_2");
        assert_eq!(review["item_comments"]["G1_2"], "Mâu thuẫn");
        assert_eq!(
            s.get_response(approved.id, 1).unwrap().unwrap().status,
            ResponseStatus::Accepted
        );
        // The rejected response can be reopened as revision 2.
        let draft = s.edit_response(rejected.id).unwrap();
        let r2 = s.complete_draft(draft.id, Utc::now()).unwrap();
        assert_eq!(r2.revision, 2);
    }

    #[test]
    fn withdrawn_assignments_lose_their_contact_and_keep_their_draft() {
        let mut s = Store::open_in_memory().unwrap();
        let a = wire_assignment(AssignmentStatus::NotVisited);
        let mut b = a.clone();
        b.id = Uuid::from_u128(8);
        apply_pull(&mut s, &pull(vec![a.clone(), b.clone()], vec![])).unwrap();
        let draft = s
            .create_draft(&sipas_store::NewDraft {
                assignment_id: Some(a.id),
                form: form(),
                round_id: "R1".into(),
                unit_code: "00004".into(),
            })
            .unwrap();
        let mut p = pull(vec![], vec![]);
        p.withdrawn = vec![a.id, Uuid::from_u128(99)];
        p.cursor = 13;
        let r = apply_pull(&mut s, &p).unwrap();
        assert_eq!((r.withdrawn, r.cursor), (1, 13));
        assert_eq!(s.get_contact(a.id).unwrap(), None);
        assert!(s.get_contact(b.id).unwrap().is_some());
        assert!(s.withdrawn_assignments().unwrap().contains(&a.id));
        assert!(s.get_draft(draft).unwrap().is_some(), "the draft is kept");
        // Applying the same pull again changes nothing.
        assert_eq!(apply_pull(&mut s, &p).unwrap().withdrawn, 0);
        // Given back: the contact returns with the assignment.
        apply_pull(&mut s, &pull(vec![a.clone()], vec![])).unwrap();
        assert!(s.withdrawn_assignments().unwrap().is_empty());
        assert!(s.get_contact(a.id).unwrap().is_some());
    }
}
