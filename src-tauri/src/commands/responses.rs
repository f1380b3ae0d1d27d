//! Review, submission, the list of submitted responses and reopening rejected ones.
use crate::state::{AppState, CmdResult, store_err};
use serde::{Deserialize, Serialize};
use sipas_core::answer_validation::{AnswerIssue, validate_response_on};
use sipas_core::questionnaire::{FormKey, Label};
use sipas_core::response::GpsFix;
use sipas_store::{Draft, OutboxState, ResponseStatus};
use std::collections::{BTreeMap, HashSet};
use tauri::State;
use uuid::Uuid;

/// A GPS fix offered by the UI (from `navigator.geolocation`, when the device has one).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct GpsInput {
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// Accuracy radius in metres.
    pub accuracy_m: f64,
}

/// Result of [`submit`].
#[derive(Debug, Serialize)]
pub struct SubmitOutcome {
    /// Whether the response is now stored and queued for upload.
    pub submitted: bool,
    /// What still has to be fixed (when not submitted).
    pub issues: Vec<AnswerIssue>,
    /// The response id.
    pub response_id: Option<Uuid>,
    /// The stored revision.
    pub revision: Option<u32>,
    /// Whether a GPS fix was stored with it.
    pub gps_recorded: bool,
    /// A practice interview was finished: its draft is deleted, nothing was stored or queued.
    pub practice: bool,
}

/// A submitted response as the "sent" list shows it (latest revision only).
#[derive(Debug, Serialize)]
pub struct ResponseView {
    /// Response id.
    pub id: Uuid,
    /// Latest revision.
    pub revision: u32,
    /// Questionnaire.
    pub form: FormKey,
    /// Its title, if built in.
    pub form_title: Option<Label>,
    /// Assignment, if any.
    pub assignment_id: Option<Uuid>,
    /// Survey round.
    pub round_id: String,
    /// Unit code.
    pub unit_code: String,
    /// When submitted.
    pub completed_at: chrono::DateTime<chrono::Utc>,
    /// Lifecycle status (queued, synced, rejected, accepted).
    pub status: ResponseStatus,
    /// The supervisor's review (for rejected responses).
    pub review_comment: Option<serde_json::Value>,
    /// Upload state of this revision.
    pub outbox_state: Option<OutboxState>,
    /// Failed upload attempts.
    pub outbox_attempts: u32,
    /// Last upload error.
    pub outbox_error: Option<String>,
    /// A correction of it is in progress (the draft has the same id).
    pub reopened: bool,
    /// Why the server refused this revision, for the surveyor (when it sent a reason code).
    pub refusal: Option<Refusal>,
}

/// The server's refusal of a record, in both languages (from its reason code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The reason code, e.g. `not_your_assignment`.
    pub code: String,
    /// What happened and what to do, in Vietnamese.
    pub message_vi: &'static str,
    /// The same in English.
    pub message_en: &'static str,
    /// The server keeps the refused record for a supervisor (quarantine).
    pub kept_on_server: bool,
}

/// The refusal of an outbox entry, if the server gave a reason code it knows.
pub(crate) fn refusal(entry: &sipas_store::OutboxEntry) -> Option<Refusal> {
    if entry.state != OutboxState::RejectedInvalid {
        return None;
    }
    let code = entry.reason_code.as_deref()?;
    let reason: sipas_protocol::wire::AckReason =
        serde_json::from_value(serde_json::Value::from(code)).ok()?;
    Some(Refusal {
        code: code.to_string(),
        message_vi: reason.message_vi(),
        message_en: reason.message_en(),
        kept_on_server: entry.quarantine_id.is_some(),
    })
}

/// Checks the whole draft as submission will: every issue, in display order.
#[tauri::command(rename_all = "snake_case")]
pub fn review(state: State<'_, AppState>, draft_id: Uuid) -> CmdResult<Vec<AnswerIssue>> {
    review_in(&state, draft_id)
}

/// Submits a draft: it must pass the full validation; it is then stored as a response,
/// queued for upload and its assignment marked collected (one transaction).
#[tauri::command(rename_all = "snake_case")]
pub fn submit(
    state: State<'_, AppState>,
    draft_id: Uuid,
    gps: Option<GpsInput>,
) -> CmdResult<SubmitOutcome> {
    submit_in(&state, draft_id, gps)
}

/// Submitted responses, newest first, with their upload state.
#[tauri::command(rename_all = "snake_case")]
pub fn list_responses(state: State<'_, AppState>) -> CmdResult<Vec<ResponseView>> {
    list_in(&state)
}

/// Reopens a (rejected) response as a draft; submitting it stores the next revision.
#[tauri::command(rename_all = "snake_case")]
pub fn reopen_response(state: State<'_, AppState>, response_id: Uuid) -> CmdResult<Draft> {
    reopen_in(&state, response_id)
}

fn load_draft(state: &AppState, draft_id: Uuid) -> CmdResult<Draft> {
    state
        .store()?
        .get_draft(draft_id)
        .map_err(store_err)?
        .ok_or_else(|| crate::problem::Problem::not_found("draft"))
}

pub(crate) fn review_in(state: &AppState, draft_id: Uuid) -> CmdResult<Vec<AnswerIssue>> {
    let draft = load_draft(state, draft_id)?;
    let form = state.form(&draft.form)?;
    // `today()` in the form's expressions is the date of `started_at`, as on the server.
    let today = sipas_core::expr::today_of(draft.started_at);
    Ok(validate_response_on(&form, &draft.answers, Some(&today))
        .err()
        .unwrap_or_default())
}

pub(crate) fn submit_in(
    state: &AppState,
    draft_id: Uuid,
    gps: Option<GpsInput>,
) -> CmdResult<SubmitOutcome> {
    let issues = review_in(state, draft_id)?;
    if !issues.is_empty() {
        return Ok(SubmitOutcome {
            submitted: false,
            issues,
            response_id: None,
            revision: None,
            gps_recorded: false,
            practice: false,
        });
    }
    // Location is optional paradata: an implausible reading is dropped and never blocks the
    // submission. Without a new fix, one kept from an earlier revision stays.
    let fix: Option<GpsFix> = gps.and_then(checked_fix);
    // One lock for both writes, so nothing else runs between attaching the fix and
    // completing the draft.
    let mut store = state.store()?;
    let practice = store
        .get_draft(draft_id)
        .map_err(store_err)?
        .is_some_and(|d| d.practice);
    if practice {
        // A practice interview is never completed into a response: it ends here.
        store.discard_draft(draft_id).map_err(store_err)?;
        return Ok(SubmitOutcome {
            submitted: false,
            issues: Vec::new(),
            response_id: None,
            revision: None,
            gps_recorded: false,
            practice: true,
        });
    }
    if let Some(fix) = fix {
        store
            .set_draft_gps(draft_id, Some(fix))
            .map_err(store_err)?;
    }
    let response = store
        .complete_draft(draft_id, chrono::Utc::now())
        .map_err(store_err)?;
    Ok(SubmitOutcome {
        submitted: true,
        issues: Vec::new(),
        response_id: Some(response.id),
        revision: Some(response.revision),
        gps_recorded: response.paradata.gps.is_some(),
        practice: false,
    })
}

/// A plausible fix, or `None` (a bad reading is dropped, never blocks a submission).
fn checked_fix(g: GpsInput) -> Option<GpsFix> {
    let ok = g.lat.is_finite()
        && g.lon.is_finite()
        && g.accuracy_m.is_finite()
        && (-90.0..=90.0).contains(&g.lat)
        && (-180.0..=180.0).contains(&g.lon)
        && g.accuracy_m >= 0.0;
    ok.then_some(GpsFix {
        lat: g.lat,
        lon: g.lon,
        accuracy_m: g.accuracy_m,
    })
}

pub(crate) fn list_in(state: &AppState) -> CmdResult<Vec<ResponseView>> {
    let store = state.store()?;
    let drafts: HashSet<Uuid> = store
        .list_drafts()
        .map_err(store_err)?
        .into_iter()
        .map(|d| d.id)
        .collect();
    // Latest revision of each response (the list is ordered by id, then revision).
    let mut latest = BTreeMap::new();
    for r in store.list_responses().map_err(store_err)? {
        latest.insert(r.response.id, r);
    }
    let mut out = Vec::with_capacity(latest.len());
    for (id, r) in latest {
        let entry = store
            .get_outbox(id, r.response.revision)
            .map_err(store_err)?;
        out.push(ResponseView {
            id,
            revision: r.response.revision,
            form_title: state.form(&r.response.form).ok().map(|f| f.title.clone()),
            form: r.response.form,
            assignment_id: r.response.assignment_id,
            round_id: r.response.round_id,
            unit_code: r.response.unit_code,
            completed_at: r.response.completed_at,
            status: r.status,
            review_comment: r.review_comment,
            refusal: entry.as_ref().and_then(refusal),
            outbox_state: entry.as_ref().map(|e| e.state),
            outbox_attempts: entry.as_ref().map_or(0, |e| e.attempts),
            outbox_error: entry.and_then(|e| e.last_error),
            reopened: drafts.contains(&id),
        });
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.completed_at));
    Ok(out)
}

pub(crate) fn reopen_in(state: &AppState, response_id: Uuid) -> CmdResult<Draft> {
    let mut store = state.store()?;
    if let Some(d) = store.get_draft(response_id).map_err(store_err)? {
        return Ok(d); // already being corrected: continue that draft
    }
    let latest = store
        .latest_response(response_id)
        .map_err(store_err)?
        .ok_or_else(|| crate::problem::Problem::not_found("response"))?;
    if latest.status != ResponseStatus::Rejected {
        return Err(
            "Chỉ sửa được phiếu bị giám sát viên trả lại / only responses sent back by a \
             supervisor can be corrected"
                .into(),
        );
    }
    store.edit_response(response_id).map_err(store_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::drafts::save_in;
    use crate::commands::drafts::tests::free_draft;
    use crate::state::test_state;
    use serde_json::json;
    use sipas_core::answer_validation::IssueKind;

    /// Answers every required item of sipas-6-groups (B8 = "khong", so G5 is skipped).
    fn fill(state: &AppState, id: Uuid) {
        let mut answers = vec![
            ("A2", json!(30)),
            ("B1", json!("Đăng ký khai sinh")),
            ("B8", json!("khong")),
        ];
        for g in [
            "G1_1", "G1_2", "G1_3", "G1_4", "G1_5", "G2_1", "G2_2", "G2_3", "G2_4",
        ] {
            answers.push((g, json!(4)));
        }
        for g in [
            "G3_1", "G3_2", "G3_3", "G3_4", "G3_5", "G4_1", "G4_2", "G4_3", "G4_4",
        ] {
            answers.push((g, json!(5)));
        }
        answers.push(("G6_1", json!(9)));
        for (code, v) in answers {
            assert!(
                save_in(state, id, code, Some(v), Some(10)).unwrap().saved,
                "{code}"
            );
        }
    }

    #[test]
    fn review_lists_issues_and_submit_refuses_until_fixed() {
        let state = test_state();
        let d = free_draft(&state);
        let issues = review_in(&state, d.id).unwrap();
        assert!(
            issues
                .iter()
                .any(|i| i.item_code == "A2" && i.kind == IssueKind::Required)
        );
        let out = submit_in(&state, d.id, None).unwrap();
        assert!(!out.submitted && !out.issues.is_empty());
        assert!(state.store().unwrap().list_responses().unwrap().is_empty());

        fill(&state, d.id);
        // An answer in a skipped group blocks submission until cleared.
        save_in(&state, d.id, "G5_1", Some(json!(3)), None).unwrap();
        let issues = review_in(&state, d.id).unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(
            (issues[0].item_code.as_str(), issues[0].kind),
            ("G5_1", IssueKind::NotRelevant)
        );
        save_in(&state, d.id, "G5_1", None, None).unwrap();
        assert!(review_in(&state, d.id).unwrap().is_empty());

        let gps = GpsInput {
            lat: 21.03,
            lon: 105.85,
            accuracy_m: 12.0,
        };
        let out = submit_in(&state, d.id, Some(gps)).unwrap();
        assert!(out.submitted);
        assert!(out.gps_recorded, "the fix is stored with the response");
        assert_eq!((out.response_id, out.revision), (Some(d.id), Some(1)));
        let stored = state
            .store()
            .unwrap()
            .get_response(d.id, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.response.paradata.gps,
            Some(GpsFix {
                lat: 21.03,
                lon: 105.85,
                accuracy_m: 12.0
            })
        );
        let listed = list_in(&state).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].status, ResponseStatus::Queued);
        assert_eq!(listed[0].outbox_state, Some(OutboxState::Pending));
        assert!(!listed[0].reopened);
        assert!(state.store().unwrap().get_draft(d.id).unwrap().is_none());
    }

    #[test]
    fn a_finished_practice_interview_is_never_stored_or_queued() {
        let state = test_state();
        let d = crate::commands::drafts::start_in(
            &state,
            &crate::commands::drafts::StartDraft {
                form_id: Some("sipas-6-groups".into()),
                version: Some("2026.1".into()),
                practice: true,
                ..Default::default()
            },
        )
        .unwrap();
        fill(&state, d.id);
        assert!(review_in(&state, d.id).unwrap().is_empty());
        let out = submit_in(&state, d.id, None).unwrap();
        assert!(out.practice && !out.submitted, "{out:?}");
        let store = state.store().unwrap();
        assert!(store.list_responses().unwrap().is_empty());
        assert_eq!(store.outbox_counts().unwrap().pending, 0);
        assert!(store.get_draft(d.id).unwrap().is_none());
    }

    #[test]
    fn only_rejected_responses_reopen_as_a_new_revision() {
        let state = test_state();
        let d = free_draft(&state);
        fill(&state, d.id);
        let out = submit_in(&state, d.id, None).unwrap();
        assert!(out.submitted && !out.gps_recorded, "GPS is never required");
        assert!(
            reopen_in(&state, d.id).is_err(),
            "a queued response cannot be edited"
        );
        let comment =
            json!({"comment": "Câu G2_1 cần hỏi lại", "item_comments": {"G2_1": "Hỏi lại"}});
        state
            .store()
            .unwrap()
            .set_response_status(d.id, 1, ResponseStatus::Rejected, Some(&comment))
            .unwrap();
        let view = &list_in(&state).unwrap()[0];
        assert_eq!(view.status, ResponseStatus::Rejected);
        assert_eq!(view.review_comment.as_ref(), Some(&comment));

        let draft = reopen_in(&state, d.id).unwrap();
        assert_eq!(draft.id, d.id);
        assert_eq!(
            draft.answers["A2"],
            sipas_core::answer::AnswerValue::Int(30)
        );
        assert_eq!(
            reopen_in(&state, d.id).unwrap().id,
            d.id,
            "reopening twice continues"
        );
        assert!(list_in(&state).unwrap()[0].reopened);
        save_in(&state, d.id, "G2_1", Some(json!(2)), None).unwrap();
        // An impossible reading is dropped: the correction is submitted without a fix.
        let bad = GpsInput {
            lat: 95.0,
            lon: 105.85,
            accuracy_m: 10.0,
        };
        let out = submit_in(&state, d.id, Some(bad)).unwrap();
        assert!(out.submitted && !out.gps_recorded);
        assert_eq!(out.revision, Some(2));
        let view = &list_in(&state).unwrap()[0];
        assert_eq!((view.revision, view.status), (2, ResponseStatus::Queued));
    }

    #[test]
    fn implausible_fixes_are_dropped() {
        assert!(
            checked_fix(GpsInput {
                lat: 91.0,
                lon: 0.0,
                accuracy_m: 1.0
            })
            .is_none()
        );
        assert!(
            checked_fix(GpsInput {
                lat: 0.0,
                lon: 0.0,
                accuracy_m: f64::NAN
            })
            .is_none()
        );
        assert!(
            checked_fix(GpsInput {
                lat: 21.0,
                lon: 105.8,
                accuracy_m: 5.0
            })
            .is_some()
        );
    }

    #[test]
    fn a_refusal_is_explained_from_its_reason_code_in_both_languages() {
        let entry = |state, code: Option<&str>, q: Option<Uuid>| sipas_store::OutboxEntry {
            response_id: Uuid::now_v7(),
            revision: 1,
            state,
            attempts: 1,
            last_error: Some("invalid: not your assignment".into()),
            enqueued_at: chrono::Utc::now(),
            acked_at: None,
            reason_code: code.map(str::to_owned),
            quarantine_id: q,
        };
        let r = refusal(&entry(
            OutboxState::RejectedInvalid,
            Some("not_your_assignment"),
            Some(Uuid::now_v7()),
        ))
        .unwrap();
        assert!(r.kept_on_server);
        assert!(
            r.message_vi
                .starts_with("Phiếu này đã được giao cho người khác")
        );
        assert!(r.message_en.contains("given to someone else"));
        // An older server (no code), an unknown code, or a record not refused: nothing.
        assert_eq!(
            refusal(&entry(OutboxState::RejectedInvalid, None, None)),
            None
        );
        assert_eq!(
            refusal(&entry(
                OutboxState::RejectedInvalid,
                Some("from_the_future"),
                None
            )),
            None
        );
        assert_eq!(
            refusal(&entry(OutboxState::Pending, Some("clock"), None)),
            None
        );
    }
}
