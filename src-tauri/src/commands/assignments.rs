//! The surveyor's assignments (sampled respondents) and their field outcomes.
use crate::state::{AppState, CmdResult, store_err};
use serde::Serialize;
use sipas_core::questionnaire::Label;
use sipas_core::text::nfc;
use sipas_store::{Assignment, AssignmentStatus, Contact, Store};
use std::collections::HashMap;
use tauri::State;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use uuid::Uuid;

/// Outcomes the surveyor may record by hand (`collected` is set by submitting a response;
/// `not_visited` undoes a mistaken outcome).
pub const SETTABLE: [AssignmentStatus; 6] = [
    AssignmentStatus::NotVisited,
    AssignmentStatus::FormDelivered,
    AssignmentStatus::Absent,
    AssignmentStatus::Refused,
    AssignmentStatus::Moved,
    AssignmentStatus::Invalid,
];

/// Longest status note accepted, in characters.
const MAX_NOTE_CHARS: usize = 500;

/// One assignment as the list screen shows it: the record, its contact data (shown only to
/// the surveyor on this screen, never logged) and the open draft, if any.
#[derive(Debug, Serialize)]
pub struct AssignmentView {
    /// The assignment.
    #[serde(flatten)]
    pub assignment: Assignment,
    /// Contact data of the respondent.
    pub contact: Option<Contact>,
    /// Title of the questionnaire to use (if built in).
    pub form_title: Option<Label>,
    /// Draft in progress for this assignment.
    pub draft_id: Option<Uuid>,
    /// Moved to another surveyor: no contact, no interview, its draft read-only.
    pub withdrawn: bool,
}

/// Assignments matching `search` (name, address, phone, procedure, unit or round; accents and
/// case ignored) and `status` (a status code, `open` for not yet finished, empty for all).
#[tauri::command(rename_all = "snake_case")]
pub fn list_assignments(
    state: State<'_, AppState>,
    search: Option<String>,
    status: Option<String>,
) -> CmdResult<Vec<AssignmentView>> {
    list_in(&state, search.as_deref(), status.as_deref())
}

/// Records a field outcome (absent, refused, moved, invalid, form delivered, or back to not
/// visited) with an optional note.
#[tauri::command(rename_all = "snake_case")]
pub fn set_assignment_status(
    state: State<'_, AppState>,
    assignment_id: Uuid,
    status: String,
    note: Option<String>,
) -> CmdResult<AssignmentView> {
    set_status_in(&state, assignment_id, &status, note.as_deref())
}

pub(crate) fn list_in(
    state: &AppState,
    search: Option<&str>,
    status: Option<&str>,
) -> CmdResult<Vec<AssignmentView>> {
    let store = state.store()?;
    let filter = StatusFilter::parse(status.unwrap_or(""))?;
    let needle = fold(search.unwrap_or(""));
    let drafts = drafts_by_assignment(&store)?;
    let withdrawn = store.withdrawn_assignments().map_err(store_err)?;
    let mut out = Vec::new();
    for a in store.list_assignments().map_err(store_err)? {
        if !filter.accepts(a.status) {
            continue;
        }
        let contact = store.get_contact(a.id).map_err(store_err)?;
        if !needle.is_empty() && !haystack(&a, contact.as_ref()).contains(&needle) {
            continue;
        }
        let gone = withdrawn.contains(&a.id);
        out.push(view(state, a, contact, &drafts, gone));
    }
    Ok(out)
}

pub(crate) fn set_status_in(
    state: &AppState,
    id: Uuid,
    status: &str,
    note: Option<&str>,
) -> CmdResult<AssignmentView> {
    let status = AssignmentStatus::parse(status)
        .filter(|s| SETTABLE.contains(s))
        .ok_or_else(|| {
            format!(
                "Không thể ghi kết quả \"{status}\" bằng tay / outcome \"{status}\" cannot be set by hand"
            )
        })?;
    let note = note.map(|n| nfc(n.trim())).filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(crate::problem::Problem::new(
            "note.too_long",
            &format!("Ghi chú quá dài: tối đa {MAX_NOTE_CHARS} ký tự."),
            &format!("The note is too long: at most {MAX_NOTE_CHARS} characters."),
            "Hãy rút ngắn ghi chú.",
            "Shorten the note.",
        ));
    }
    let mut store = state.store()?;
    let actor = store.actor().to_string();
    store
        .set_assignment_status(id, status, note.as_deref(), &actor)
        .map_err(store_err)?;
    let a = store
        .get_assignment(id)
        .map_err(store_err)?
        .ok_or_else(|| crate::problem::Problem::not_found("assignment"))?;
    let contact = store.get_contact(id).map_err(store_err)?;
    let drafts = drafts_by_assignment(&store)?;
    Ok(view(state, a, contact, &drafts, false))
}

fn view(
    state: &AppState,
    a: Assignment,
    contact: Option<Contact>,
    drafts: &HashMap<Uuid, Uuid>,
    withdrawn: bool,
) -> AssignmentView {
    AssignmentView {
        withdrawn,
        form_title: state.form(&a.form).ok().map(|f| f.title.clone()),
        draft_id: drafts.get(&a.id).copied(),
        contact,
        assignment: a,
    }
}

fn drafts_by_assignment(store: &Store) -> CmdResult<HashMap<Uuid, Uuid>> {
    Ok(store
        .list_drafts()
        .map_err(store_err)?
        .into_iter()
        .filter_map(|d| d.assignment_id.map(|a| (a, d.id)))
        .collect())
}

/// Which statuses the list shows.
enum StatusFilter {
    All,
    Open,
    One(AssignmentStatus),
}

impl StatusFilter {
    fn parse(code: &str) -> CmdResult<StatusFilter> {
        match code {
            "" | "all" => Ok(StatusFilter::All),
            "open" => Ok(StatusFilter::Open),
            c => AssignmentStatus::parse(c)
                .map(StatusFilter::One)
                .ok_or_else(|| {
                    crate::problem::Problem::plain(
                        "assignment.bad_filter",
                        "Bộ lọc trạng thái không hợp lệ.",
                        "Unknown status filter.",
                    )
                }),
        }
    }

    fn accepts(&self, s: AssignmentStatus) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => {
                matches!(
                    s,
                    AssignmentStatus::NotVisited | AssignmentStatus::FormDelivered
                )
            }
            StatusFilter::One(want) => *want == s,
        }
    }
}

fn haystack(a: &Assignment, c: Option<&Contact>) -> String {
    let mut parts = vec![
        a.procedure.as_str(),
        a.unit_code.as_str(),
        a.round_id.as_str(),
    ];
    let n = &a.names;
    parts.extend(
        [
            &n.round_name,
            &n.unit_name,
            &n.agency_name,
            &n.field_name,
            &n.agency_code,
            &n.procedure_code,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str),
    );
    if let Some(c) = c {
        parts.extend(
            [&c.respondent_name, &c.address, &c.phone]
                .into_iter()
                .flatten()
                .map(String::as_str),
        );
    }
    fold(&parts.join("\n"))
}

/// Search key: lower case without Vietnamese accents ("Nguyễn Đức" → "nguyen duc"), so a
/// surveyor can type without diacritics.
pub(crate) fn fold(s: &str) -> String {
    s.trim()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::test_state;
    use sipas_core::questionnaire::FormKey;

    fn seed(state: &AppState) -> (Uuid, Uuid) {
        let mut store = state.store().unwrap();
        let mk = |procedure: &str| Assignment {
            id: Uuid::now_v7(),
            round_id: "2026-HN-1".into(),
            unit_code: "00004".into(),
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            procedure: procedure.into(),
            status: AssignmentStatus::NotVisited,
            status_note: None,
            updated_at: chrono::Utc::now(),
            names: Default::default(),
        };
        let a = mk("Đăng ký khai sinh");
        let b = mk("Cấp giấy phép xây dựng");
        let contact = Contact {
            respondent_name: Some("Nguyễn Thị Hằng".into()),
            address: Some("12 Hàng Bạc, Hoàn Kiếm".into()),
            phone: Some("0912345678".into()),
        };
        store.upsert_assignment(&a, Some(&contact)).unwrap();
        store.upsert_assignment(&b, None).unwrap();
        (a.id, b.id)
    }

    #[test]
    fn search_ignores_accents_and_case_and_finds_contacts() {
        let state = test_state();
        let (a, b) = seed(&state);
        let ids = |q: &str, st: &str| -> Vec<Uuid> {
            list_in(&state, Some(q), Some(st))
                .unwrap()
                .into_iter()
                .map(|v| v.assignment.id)
                .collect()
        };
        assert_eq!(ids("", ""), vec![a, b]);
        assert_eq!(ids("nguyen thi hang", "all"), vec![a]);
        assert_eq!(ids("HÀNG BẠC", ""), vec![a]);
        assert_eq!(ids("0912", ""), vec![a]);
        assert_eq!(ids("giay phep", ""), vec![b]);
        assert_eq!(ids("khong co", ""), Vec::<Uuid>::new());
        let first = list_in(&state, None, None).unwrap().remove(0);
        assert_eq!(
            first.contact.unwrap().respondent_name.as_deref(),
            Some("Nguyễn Thị Hằng")
        );
        assert!(!first.form_title.unwrap().vi.is_empty());
        assert!(list_in(&state, None, Some("nonsense")).is_err());
    }

    #[test]
    fn outcomes_with_notes_and_filters() {
        let state = test_state();
        let (a, b) = seed(&state);
        let v = set_status_in(&state, a, "refused", Some("  Không muốn trả lời  ")).unwrap();
        assert_eq!(v.assignment.status, AssignmentStatus::Refused);
        assert_eq!(
            v.assignment.status_note.as_deref(),
            Some("Không muốn trả lời")
        );
        let open: Vec<_> = list_in(&state, None, Some("open"))
            .unwrap()
            .into_iter()
            .map(|v| v.assignment.id)
            .collect();
        assert_eq!(open, vec![b]);
        assert_eq!(list_in(&state, None, Some("refused")).unwrap().len(), 1);
        let v = set_status_in(&state, b, "form_delivered", Some("   ")).unwrap();
        assert_eq!(v.assignment.status_note, None);
        // Both outcomes wait for the next sync to reach the server.
        let queued = state.store().unwrap().status_outbox_counts().unwrap();
        assert_eq!(queued.pending, 2);
        assert!(set_status_in(&state, a, "collected", None).is_err());
        assert!(set_status_in(&state, a, "absent", Some(&"x".repeat(501))).is_err());
        assert!(set_status_in(&state, Uuid::now_v7(), "absent", None).is_err());
    }

    #[test]
    fn fold_strips_vietnamese_marks() {
        assert_eq!(fold(" Nguyễn Đức Thắng "), "nguyen duc thang");
        assert_eq!(fold("Hòa"), fold("Ho\u{0300}a"));
    }
}
