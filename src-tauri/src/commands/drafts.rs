//! Interviews in progress: starting, resuming and autosaving drafts.
use crate::state::{AppState, CmdResult, store_err};
use serde::{Deserialize, Serialize};
use sipas_core::answer::AnswerValue;
use sipas_core::answer_validation::{AnswerIssue, IssueKind, normalize_value, validate_answer};
use sipas_core::questionnaire::{FormKey, Label};
use sipas_core::relevance::value_is_answered;
use sipas_core::response::Origin;
use sipas_core::text::nfc;
use sipas_protocol::wire::FieldRound;
use sipas_store::{Draft, DraftKind, NewDraft};
use tauri::State;
use uuid::Uuid;

/// Longest time credited to one answer, so a device left open overnight does not distort
/// the timing paradata (30 minutes).
const MAX_ITEM_MS: u64 = 30 * 60 * 1000;

/// Round id given to practice interviews (they never leave the device).
pub const PRACTICE_ROUND: &str = "phong-van-thu";

/// How to start an interview: for an assignment (its form, round and unit are used); outside
/// the sample (`origin` replacement or walk-in, in a round that allows it, with a unit of that
/// round: the round's form is used); or a practice interview (`practice`, any form; never
/// sent or counted).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StartDraft {
    /// Assignment to interview.
    #[serde(default)]
    pub assignment_id: Option<Uuid>,
    /// Questionnaire id (free-standing interviews).
    #[serde(default)]
    pub form_id: Option<String>,
    /// Questionnaire version (free-standing interviews).
    #[serde(default)]
    pub version: Option<String>,
    /// Survey round (free-standing interviews).
    #[serde(default)]
    pub round_id: Option<String>,
    /// Administrative unit code, chosen by name from the round's units.
    #[serde(default)]
    pub unit_code: Option<String>,
    /// Replacement or walk-in (interviews outside the sample).
    #[serde(default)]
    pub origin: Option<Origin>,
    /// A practice interview (phỏng vấn thử).
    #[serde(default)]
    pub practice: bool,
}

/// A draft in the "continue" list (no answer values).
#[derive(Debug, Serialize)]
pub struct DraftSummary {
    /// Draft (future response) id.
    pub id: Uuid,
    /// Assignment, if any.
    pub assignment_id: Option<Uuid>,
    /// Questionnaire.
    pub form: FormKey,
    /// Its title, if built in.
    pub form_title: Option<Label>,
    /// Survey round.
    pub round_id: String,
    /// Unit code.
    pub unit_code: String,
    /// Number of answered items.
    pub answered: usize,
    /// Where the respondent comes from.
    pub origin: Origin,
    /// A practice interview (never sent).
    pub practice: bool,
    /// Step the surveyor was on.
    pub current_group: Option<String>,
    /// Started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Last autosave.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Its assignment was moved to another surveyor: kept, read-only.
    pub withdrawn: bool,
}

/// Result of autosaving one answer.
#[derive(Debug, Serialize)]
pub struct SaveOutcome {
    /// Whether the answer is now stored (false: `issue` says why not; nothing changed).
    pub saved: bool,
    /// The stored value after normalisation (`None`: the answer was cleared).
    pub value: Option<AnswerValue>,
    /// Why the answer was refused.
    pub issue: Option<AnswerIssue>,
}

/// Starts an interview, or returns the open draft of that assignment.
#[tauri::command(rename_all = "snake_case")]
pub fn start_draft(state: State<'_, AppState>, request: StartDraft) -> CmdResult<Draft> {
    start_in(&state, &request)
}

/// Rounds that take interviews outside the sample, with their units by name (from the last
/// sync): the only rounds a free interview can be started for.
#[tauri::command(rename_all = "snake_case")]
pub fn free_rounds(state: State<'_, AppState>) -> CmdResult<Vec<FieldRound>> {
    let store = state.store()?;
    sipas_sync::field_rounds(&store).map_err(store_err)
}

/// Drafts in progress, most recently saved first.
#[tauri::command(rename_all = "snake_case")]
pub fn list_drafts(state: State<'_, AppState>) -> CmdResult<Vec<DraftSummary>> {
    list_in(&state)
}

/// One draft with its answers, to resume it.
#[tauri::command(rename_all = "snake_case")]
pub fn get_draft(state: State<'_, AppState>, draft_id: Uuid) -> CmdResult<Draft> {
    get_in(&state, draft_id)
}

/// Autosaves one answer (`value` null or blank clears it). The value is NFC-normalised and
/// checked first; an invalid answer is not saved and its issue is returned instead.
#[tauri::command(rename_all = "snake_case")]
pub fn save_answer(
    state: State<'_, AppState>,
    draft_id: Uuid,
    item_code: String,
    value: Option<serde_json::Value>,
    item_ms: Option<u64>,
) -> CmdResult<SaveOutcome> {
    save_in(&state, draft_id, &item_code, value, item_ms)
}

/// Remembers the step (group) the surveyor is on, so the app reopens there.
#[tauri::command(rename_all = "snake_case")]
pub fn set_current_group(
    state: State<'_, AppState>,
    draft_id: Uuid,
    group: Option<String>,
) -> CmdResult<()> {
    set_group_in(&state, draft_id, group.as_deref())
}

/// Deletes a draft (an abandoned interview).
#[tauri::command(rename_all = "snake_case")]
pub fn discard_draft(state: State<'_, AppState>, draft_id: Uuid) -> CmdResult<()> {
    state.store()?.discard_draft(draft_id).map_err(store_err)
}

/// What [`end_ineligible`] did.
#[derive(Debug, Serialize)]
pub struct EndedIneligible {
    /// The outcome recorded on the draft's assignment (`None`: a draft without assignment —
    /// walk-in, replacement or practice — is only discarded).
    pub status: Option<sipas_store::AssignmentStatus>,
}

/// Ends an interview because the respondent fails a screening rule (e.g. under 18): the
/// assignment gets the ineligible outcome ([`AssignmentStatus::INELIGIBLE`]) with `note`
/// (the rule's message), and the draft is discarded. Nothing of the refused answer is kept.
///
/// [`AssignmentStatus::INELIGIBLE`]: sipas_store::AssignmentStatus::INELIGIBLE
#[tauri::command(rename_all = "snake_case")]
pub fn end_ineligible(
    state: State<'_, AppState>,
    draft_id: Uuid,
    note: Option<String>,
) -> CmdResult<EndedIneligible> {
    end_ineligible_in(&state, draft_id, note.as_deref())
}

pub(crate) fn end_ineligible_in(
    state: &AppState,
    draft_id: Uuid,
    note: Option<&str>,
) -> CmdResult<EndedIneligible> {
    let assignment = {
        let store = state.store()?;
        store
            .get_draft(draft_id)
            .map_err(store_err)?
            .ok_or_else(|| format!("Không tìm thấy phiếu đang làm / draft {draft_id} not found"))?
            .assignment_id
    };
    let status = sipas_store::AssignmentStatus::INELIGIBLE;
    if let Some(aid) = assignment {
        // The note is limited and normalised as for an outcome recorded by hand.
        let note: Option<String> = note.map(|n| n.chars().take(500).collect());
        crate::commands::assignments::set_status_in(state, aid, status.as_str(), note.as_deref())?;
    }
    state.store()?.discard_draft(draft_id).map_err(store_err)?;
    Ok(EndedIneligible {
        status: assignment.map(|_| status),
    })
}

pub(crate) fn start_in(state: &AppState, req: &StartDraft) -> CmdResult<Draft> {
    let mut store = state.store()?;
    let new = match req.assignment_id {
        Some(aid) => {
            let existing = store
                .list_drafts()
                .map_err(store_err)?
                .into_iter()
                .find(|d| d.assignment_id == Some(aid));
            if let Some(d) = existing {
                return Ok(d);
            }
            let a = store
                .get_assignment(aid)
                .map_err(store_err)?
                .ok_or_else(|| {
                    crate::problem::Problem::new(
                        "assignment.not_found",
                        "Không tìm thấy phiếu được giao trên máy.",
                        "This assignment is not on this device.",
                        "Hãy đồng bộ rồi thử lại.",
                        "Sync, then try again.",
                    )
                })?;
            NewDraft {
                assignment_id: Some(aid),
                form: a.form,
                round_id: a.round_id,
                unit_code: a.unit_code,
            }
        }
        None => {
            let field = |v: &Option<String>, vi: &str, en: &str| {
                v.as_deref()
                    .map(|s| nfc(s.trim()))
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| format!("Thiếu {vi} / {en} is missing"))
            };
            if req.practice {
                let new = NewDraft {
                    assignment_id: None,
                    form: FormKey {
                        form_id: field(&req.form_id, "mã phiếu", "form id")?,
                        version: field(&req.version, "phiên bản phiếu", "form version")?,
                    },
                    round_id: PRACTICE_ROUND.into(),
                    unit_code: "-".into(),
                };
                let kind = DraftKind {
                    origin: Origin::Sample,
                    practice: true,
                };
                return create(state, &mut store, &new, kind);
            }
            let origin = req.origin.filter(|o| o.is_outside_sample()).ok_or_else(|| {
                "Hãy chọn loại phỏng vấn: thay thế người vắng/từ chối, hoặc người dân đến Bộ phận \
                 Một cửa / choose replacement or walk-in"
                    .to_string()
            })?;
            let round_id = field(&req.round_id, "đợt khảo sát", "survey round")?;
            let unit_code = field(&req.unit_code, "đơn vị", "unit")?;
            let rounds = sipas_sync::field_rounds(&store).map_err(store_err)?;
            let round = rounds
                .into_iter()
                .find(|r| r.round.id == round_id && r.round.outside_sample.allows(origin))
                .ok_or_else(|| {
                    "Đợt khảo sát này không nhận loại phỏng vấn ngoài danh sách mẫu đã chọn. Hãy \
                     đồng bộ rồi chọn lại / this round does not take that kind of interview"
                        .to_string()
                })?;
            if !round.units.iter().any(|u| u.code == unit_code) {
                return Err(
                    "Đơn vị không thuộc đợt khảo sát này / the unit is not one of the round's units"
                        .into(),
                );
            }
            let new = NewDraft {
                assignment_id: None,
                form: round.round.form,
                round_id,
                unit_code,
            };
            let kind = DraftKind {
                origin,
                practice: false,
            };
            return create(state, &mut store, &new, kind);
        }
    };
    create(state, &mut store, &new, DraftKind::default())
}

fn create(
    state: &AppState,
    store: &mut sipas_store::Store,
    new: &NewDraft,
    kind: DraftKind,
) -> CmdResult<Draft> {
    state.form(&new.form)?;
    let id = store.create_draft_as(new, kind).map_err(store_err)?;
    store
        .get_draft(id)
        .map_err(store_err)?
        .ok_or_else(|| crate::problem::Problem::not_found("draft"))
}

pub(crate) fn list_in(state: &AppState) -> CmdResult<Vec<DraftSummary>> {
    let store = state.store()?;
    let mut drafts = store.list_drafts().map_err(store_err)?;
    drafts.sort_by_key(|d| std::cmp::Reverse(d.updated_at));
    let withdrawn = store.withdrawn_assignments().map_err(store_err)?;
    Ok(drafts
        .into_iter()
        .map(|d| DraftSummary {
            withdrawn: d.assignment_id.is_some_and(|a| withdrawn.contains(&a)),
            form_title: state.form(&d.form).ok().map(|f| f.title.clone()),
            answered: d.answers.values().filter(|v| value_is_answered(v)).count(),
            origin: d.origin,
            practice: d.practice,
            id: d.id,
            assignment_id: d.assignment_id,
            form: d.form,
            round_id: d.round_id,
            unit_code: d.unit_code,
            current_group: d.current_group,
            started_at: d.started_at,
            updated_at: d.updated_at,
        })
        .collect())
}

pub(crate) fn get_in(state: &AppState, id: Uuid) -> CmdResult<Draft> {
    state
        .store()?
        .get_draft(id)
        .map_err(store_err)?
        .ok_or_else(|| crate::problem::Problem::not_found("draft"))
}

pub(crate) fn save_in(
    state: &AppState,
    draft_id: Uuid,
    item_code: &str,
    value: Option<serde_json::Value>,
    item_ms: Option<u64>,
) -> CmdResult<SaveOutcome> {
    let mut store = state.store()?;
    let draft = store
        .get_draft(draft_id)
        .map_err(store_err)?
        .ok_or_else(|| {
            crate::problem::Problem::new(
                "draft.not_found",
                "Không tìm thấy phiếu đang làm trên máy.",
                "This interview in progress is not on this device.",
                "Hãy quay lại danh sách.",
                "Go back to the list.",
            )
        })?;
    let form = state.form(&draft.form)?;
    let value = match value.filter(|v| !v.is_null()) {
        None => None,
        Some(json) => match serde_json::from_value::<AnswerValue>(json) {
            Ok(mut v) => {
                normalize_value(&mut v);
                Some(v).filter(value_is_answered)
            }
            Err(_) => {
                return Ok(refused(AnswerIssue {
                    item_code: item_code.to_string(),
                    kind: IssueKind::WrongType,
                    message: Label {
                        vi: "Câu trả lời không đúng kiểu (cần số nguyên, văn bản hoặc danh sách lựa chọn).".into(),
                        en: Some("Wrong answer type (expected a whole number, text or a list of options).".into()),
                    },
                }));
            }
        },
    };
    let check = match &value {
        Some(v) => validate_answer(&form, item_code, v),
        // Clearing is always allowed, but only for items of this form.
        None => form
            .item(item_code)
            .map(|_| ())
            .ok_or_else(|| validate_answer(&form, item_code, &AnswerValue::Int(0)).unwrap_err()),
    };
    if let Err(issue) = check {
        return Ok(refused(issue));
    }
    store
        .save_answer(
            draft_id,
            item_code,
            value.clone(),
            item_ms.map(|ms| ms.min(MAX_ITEM_MS)),
        )
        .map_err(store_err)?;
    Ok(SaveOutcome {
        saved: true,
        value,
        issue: None,
    })
}

fn refused(issue: AnswerIssue) -> SaveOutcome {
    SaveOutcome {
        saved: false,
        value: None,
        issue: Some(issue),
    }
}

pub(crate) fn set_group_in(state: &AppState, draft_id: Uuid, group: Option<&str>) -> CmdResult<()> {
    let mut store = state.store()?;
    let draft = store
        .get_draft(draft_id)
        .map_err(store_err)?
        .ok_or_else(|| {
            crate::problem::Problem::new(
                "draft.not_found",
                "Không tìm thấy phiếu đang làm trên máy.",
                "This interview in progress is not on this device.",
                "Hãy quay lại danh sách.",
                "Go back to the list.",
            )
        })?;
    if let Some(g) = group
        && state.form(&draft.form)?.group(g).is_none()
    {
        return Err(crate::problem::Problem::plain(
            "form.no_group",
            &format!("Nhóm câu hỏi {g} không có trong phiếu này."),
            &format!("Question group {g} is not in this form."),
        ));
    }
    store.set_current_group(draft_id, group).map_err(store_err)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::test_state;
    use serde_json::json;

    /// Stores, as a pull would, round `R-MOTCUA` taking walk-ins (cap 3) in unit 00004
    /// "Phường Trúc Bạch".
    pub(crate) fn seed_walk_in_round(state: &AppState) {
        let round = serde_json::json!({
            "id": "R-MOTCUA", "name": "Đợt Một cửa",
            "form": {"form_id": "sipas-6-groups", "version": "2026.1"},
            "starts_on": "2026-11-01", "ends_on": "2026-12-31",
            "outside_sample": {"replacement": false, "walk_in": true, "cap_per_unit": 3},
            "units": [{"code": "00004", "name": "Phường Trúc Bạch"}],
        });
        state
            .store()
            .unwrap()
            .replace_field_rounds(&[("R-MOTCUA".into(), round.to_string())])
            .unwrap();
    }

    /// A walk-in interview in the seeded round (see [`seed_walk_in_round`]).
    pub(crate) fn free_draft(state: &AppState) -> Draft {
        seed_walk_in_round(state);
        start_in(
            state,
            &StartDraft {
                round_id: Some("R-MOTCUA".into()),
                unit_code: Some("00004".into()),
                origin: Some(Origin::WalkIn),
                ..StartDraft::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn free_interviews_only_for_rounds_that_allow_them() {
        let state = test_state();
        let walk_in = |round: &str, unit: &str, origin: Option<Origin>| StartDraft {
            round_id: Some(round.into()),
            unit_code: Some(unit.into()),
            origin,
            ..StartDraft::default()
        };
        // Nothing pulled yet: no round takes them.
        let err =
            start_in(&state, &walk_in("R-MOTCUA", "00004", Some(Origin::WalkIn))).unwrap_err();
        assert!(err.message_vi.contains("không nhận"), "{err}");
        let d = free_draft(&state);
        assert_eq!(
            (d.form.form_id.as_str(), d.origin, d.practice),
            ("sipas-6-groups", Origin::WalkIn, false),
            "the round's form is used"
        );
        // The round takes no replacements; the unit must be the round's; a kind is needed.
        let err = start_in(
            &state,
            &walk_in("R-MOTCUA", "00004", Some(Origin::Replacement)),
        )
        .unwrap_err();
        assert!(err.message_vi.contains("không nhận"), "{err}");
        let err =
            start_in(&state, &walk_in("R-MOTCUA", "99999", Some(Origin::WalkIn))).unwrap_err();
        assert!(err.message_vi.contains("Đơn vị không thuộc"), "{err}");
        let err = start_in(&state, &walk_in("R-MOTCUA", "00004", None)).unwrap_err();
        assert!(err.message_vi.contains("Hãy chọn loại"), "{err}");
        assert_eq!(list_in(&state).unwrap().len(), 1);
    }

    #[test]
    fn a_practice_interview_needs_only_a_known_form() {
        let state = test_state();
        let mut req = StartDraft {
            form_id: Some("sipas-6-groups".into()),
            version: Some("9.9".into()),
            practice: true,
            ..StartDraft::default()
        };
        assert_eq!(start_in(&state, &req).unwrap_err().code, "form.unknown");
        req.version = Some("2026.1".into());
        let d = start_in(&state, &req).unwrap();
        assert!(d.practice);
        assert_eq!(d.round_id, PRACTICE_ROUND);
        let listed = list_in(&state).unwrap();
        assert!(listed[0].practice);
    }

    #[test]
    fn invalid_answers_are_refused_with_the_vietnamese_message_and_not_saved() {
        let state = test_state();
        let d = free_draft(&state);
        let out = save_in(&state, d.id, "A2", Some(json!(17)), Some(1000)).unwrap();
        assert!(!out.saved);
        let issue = out.issue.unwrap();
        assert_eq!(issue.kind, IssueKind::OutOfRange);
        assert_eq!(issue.message.vi, "Người trả lời phải từ 18 tuổi trở lên");
        assert!(get_in(&state, d.id).unwrap().answers.is_empty());

        let out = save_in(&state, d.id, "A2", Some(json!(30)), Some(2500)).unwrap();
        assert!(out.saved && out.issue.is_none());
        let out = save_in(&state, d.id, "A2", Some(json!(30.5)), None).unwrap();
        assert_eq!(out.issue.unwrap().kind, IssueKind::WrongType);
        let out = save_in(&state, d.id, "NOPE", None, None).unwrap();
        assert_eq!(out.issue.unwrap().kind, IssueKind::UnknownItem);

        let draft = get_in(&state, d.id).unwrap();
        assert_eq!(draft.answers["A2"], AnswerValue::Int(30));
        assert_eq!(
            draft.paradata.item_ms["A2"], 2500,
            "refused saves add no time"
        );
    }

    #[test]
    fn text_is_nfc_normalised_and_blank_clears() {
        let state = test_state();
        let d = free_draft(&state);
        let out = save_in(
            &state,
            d.id,
            "B1",
            Some(json!("  \u{110}a\u{0306}ng ky\u{0301} khai sinh ")),
            Some(u64::MAX),
        )
        .unwrap();
        assert_eq!(
            out.value,
            Some(AnswerValue::Text("Đăng ký khai sinh".into()))
        );
        let draft = get_in(&state, d.id).unwrap();
        assert_eq!(
            draft.answers["B1"],
            AnswerValue::Text("Đăng ký khai sinh".into())
        );
        assert_eq!(draft.paradata.item_ms["B1"], MAX_ITEM_MS);
        let out = save_in(&state, d.id, "B1", Some(json!("   ")), None).unwrap();
        assert!(out.saved && out.value.is_none());
        assert!(get_in(&state, d.id).unwrap().answers.is_empty());
    }

    #[test]
    fn current_group_is_checked_and_kept() {
        let state = test_state();
        let d = free_draft(&state);
        set_group_in(&state, d.id, Some("G3")).unwrap();
        assert!(set_group_in(&state, d.id, Some("ZZ")).is_err());
        assert_eq!(
            get_in(&state, d.id).unwrap().current_group.as_deref(),
            Some("G3")
        );
        assert_eq!(
            list_in(&state).unwrap()[0].current_group.as_deref(),
            Some("G3")
        );
    }

    #[test]
    fn ending_as_ineligible_records_the_outcome_and_drops_the_draft() {
        let state = test_state();
        let a = sipas_store::Assignment {
            id: Uuid::now_v7(),
            round_id: "2026-HN-1".into(),
            unit_code: "00004".into(),
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            procedure: "Đăng ký khai sinh".into(),
            status: sipas_store::AssignmentStatus::NotVisited,
            status_note: None,
            updated_at: chrono::Utc::now(),
            names: Default::default(),
        };
        state.store().unwrap().upsert_assignment(&a, None).unwrap();
        let d = start_in(
            &state,
            &StartDraft {
                assignment_id: Some(a.id),
                ..StartDraft::default()
            },
        )
        .unwrap();
        let out = end_ineligible_in(&state, d.id, Some("Không đủ điều kiện — A2")).unwrap();
        assert_eq!(out.status, Some(sipas_store::AssignmentStatus::INELIGIBLE));
        let store = state.store().unwrap();
        assert!(store.get_draft(d.id).unwrap().is_none(), "draft discarded");
        let got = store.get_assignment(a.id).unwrap().unwrap();
        assert_eq!(got.status, sipas_store::AssignmentStatus::INELIGIBLE);
        assert_eq!(got.status_note.as_deref(), Some("Không đủ điều kiện — A2"));
        assert_eq!(
            store.status_outbox_counts().unwrap().pending,
            1,
            "sent at next sync"
        );
        drop(store);
        // A walk-in has no assignment: only the draft goes; an unknown draft is an error.
        let w = free_draft(&state);
        assert_eq!(end_ineligible_in(&state, w.id, None).unwrap().status, None);
        assert!(state.store().unwrap().get_draft(w.id).unwrap().is_none());
        assert!(end_ineligible_in(&state, w.id, None).is_err());
    }
}
