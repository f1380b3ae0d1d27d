//! Server-side stateless checks of uploaded records before storage: per-record decoding,
//! content hash, revision, form version, clock against the server and answers. Each failure
//! becomes an `invalid` acknowledgement whose record is kept in quarantine.
//!
//! Choice answers are checked against what the form offered ([`choice_problems`]): a
//! `choices_from` answer must be a code of the round's catalogue ([`round_catalogues`]) and
//! pass the item's `choice_filter`; a static option of an item with a `choice_filter` must
//! pass it. The filter is evaluated by `sipas_core` (`answer_validation::form_state`), exactly
//! as the app offers the options.
use crate::app::AppState;
use crate::forms::FormRegistry;
use crate::ingest::{CLOCK_AHEAD, Checked, Refusal};
use crate::problem::ApiResult;
use crate::storage::ScopeCodes;
use chrono::{DateTime, Utc};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::answer_validation::{
    AnswerIssue, compute_calculations, form_state, validate_response_on,
};
use sipas_core::questionnaire::{ChoiceOption, ItemType, Questionnaire};
use sipas_core::relevance::value_is_answered;
use sipas_core::response::Response;
use sipas_protocol::wire::{AckReason, AnswerProblem, UploadRecord};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use uuid::Uuid;

/// Issue kind of a `choices_from` answer that is not a code of the round's catalogue.
pub const NOT_IN_CATALOGUE: &str = "not_in_catalogue";
/// Issue kind of a choice the item's `choice_filter` does not offer given the earlier answers.
pub const FILTERED_OUT: &str = "filtered_out";

/// Catalogue options per round: `round_id → kind (agencies, procedures, fields, units) →
/// options`, as `GET /rounds/{id}/catalogue-bundle` gives them for the whole server.
pub type RoundCatalogues = BTreeMap<String, BTreeMap<String, Vec<ChoiceOption>>>;

/// The reason of a record whose `content_hash` is not the server's: it names the rule, so a
/// client author knows what to compute (API.md, "Canonical form and content hash").
pub const CONTENT_HASH_MISMATCH: &str = "content hash mismatch: expected SHA-256 of the RFC 8785 \
     canonical form, see API.md \"Canonical form and content hash\"";

/// An answer issue in wire form.
pub fn answer_problem(issue: &AnswerIssue) -> AnswerProblem {
    let kind = serde_json::to_value(issue.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{:?}", issue.kind));
    AnswerProblem {
        item_code: issue.item_code.clone(),
        kind,
        message_vi: issue.message.vi.clone(),
        message: issue.message.text("en").to_owned(),
    }
}

/// One record as received: decoded, or not readable, with its JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    /// The record, or why it could not be decoded (a [`AckReason::Malformed`] refusal).
    pub record: Result<UploadRecord, Refusal>,
    /// The record's JSON text as received (kept in quarantine if refused).
    pub json: String,
}

impl Incoming {
    /// Decodes one record of a batch on its own: a record that is not the shape of an
    /// [`UploadRecord`] is refused alone (`malformed`), with its id and revision if readable.
    pub fn decode(json: &str) -> Self {
        let record = serde_json::from_str::<UploadRecord>(json).map_err(|e| {
            let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
            let r = &v["response"];
            Refusal {
                id: r["id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .unwrap_or(Uuid::nil()),
                revision: r["revision"]
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                reason: AckReason::Malformed,
                detail: format!("the record is not a response record: {e}"),
                issues: Vec::new(),
                record_json: json.to_owned(),
                round_id: r["round_id"].as_str().map(str::to_owned),
                unit_code: r["unit_code"].as_str().map(str::to_owned),
                assignment_id: r["assignment_id"]
                    .as_str()
                    .and_then(|s| Uuid::parse_str(s).ok()),
            }
        });
        Incoming {
            record,
            json: json.to_owned(),
        }
    }

    /// A record that arrived already decoded (a verified hand-over file).
    pub fn decoded(record: UploadRecord) -> Self {
        let json = serde_json::to_string(&record).unwrap_or_default();
        Incoming {
            record: Ok(record),
            json,
        }
    }
}

/// The stateless checks of one record at the server's `now`: content hash, revision, form
/// version, clock (`completed_at` before `started_at`, or more than [`CLOCK_AHEAD`] after
/// `now`) and answers. What needs stored state (assignment, binding, revisions, the
/// round's start) is decided by [`crate::ingest::plan`].
///
/// Without catalogues: `choices_from` answers are not checked against a catalogue (their
/// `choice_filter` neither); see [`check_with`].
pub fn check(forms: &FormRegistry, incoming: Incoming, now: DateTime<Utc>) -> Checked {
    check_with(forms, &RoundCatalogues::new(), incoming, now)
}

/// [`check`] with the catalogues of the records' rounds ([`round_catalogues`]): answers to
/// `choices_from` items of a round found there are checked against its catalogue.
pub fn check_with(
    forms: &FormRegistry,
    catalogues: &RoundCatalogues,
    incoming: Incoming,
    now: DateTime<Utc>,
) -> Checked {
    let mut record = match incoming.record {
        Ok(record) => record,
        Err(refusal) => return Checked::Refused(refusal),
    };
    let r: &Response = &record.response;
    let refuse = |reason: AckReason, detail: String, issues: Vec<AnswerProblem>| {
        Checked::Refused(Refusal {
            id: r.id,
            revision: r.revision,
            reason,
            detail,
            issues,
            record_json: incoming.json.clone(),
            round_id: Some(r.round_id.clone()),
            unit_code: Some(r.unit_code.clone()),
            assignment_id: r.assignment_id,
        })
    };
    let hash = record.content_hash.to_ascii_lowercase();
    if r.content_hash() != hash {
        return refuse(
            AckReason::HashMismatch,
            CONTENT_HASH_MISMATCH.into(),
            Vec::new(),
        );
    }
    if r.revision == 0 {
        return refuse(
            AckReason::BadRevision,
            "revision must be 1 or more".into(),
            Vec::new(),
        );
    }
    let Some(form) = forms.get(&r.form) else {
        return refuse(
            AckReason::UnknownForm,
            format!("unknown form version {}", r.form),
            Vec::new(),
        );
    };
    if r.completed_at < r.started_at {
        return refuse(
            AckReason::Clock,
            "completed_at is before started_at".into(),
            Vec::new(),
        );
    }
    if r.completed_at > now + CLOCK_AHEAD {
        return refuse(
            AckReason::Clock,
            format!(
                "completed_at {} is more than 24 hours after the server's clock",
                r.completed_at.to_rfc3339()
            ),
            Vec::new(),
        );
    }
    // `today()` in expressions is the date of `started_at`, on the device and here alike.
    let today = sipas_core::expr::today_of(r.started_at);
    let mut problems: Vec<AnswerProblem> =
        match validate_response_on(&form, &r.answers, Some(&today)) {
            Ok(()) => Vec::new(),
            Err(issues) => issues.iter().map(answer_problem).collect(),
        };
    let catalogue = catalogues.get(&r.round_id);
    for p in choice_problems(&form, &r.answers, catalogue, Some(&today)) {
        if !problems.iter().any(|q| q.item_code == p.item_code) {
            problems.push(p);
        }
    }
    if !problems.is_empty() {
        return refuse(
            AckReason::InvalidAnswers,
            format!("{} invalid answer(s)", problems.len()),
            problems,
        );
    }
    // The server stores its own calculations: an uploaded value that differs (an older app)
    // is replaced, not refused. The content hash stays the uploaded record's identity.
    let answers = compute_calculations(&form, &record.response.answers, Some(&today));
    record.response.answers = answers;
    Checked::Valid {
        hash,
        response: record.response,
    }
}

/// The choice answers of a relevant item that the form did not offer:
///
/// * an item with `choices_from`: each chosen code must be in `catalogue`'s list of that kind
///   (else [`NOT_IN_CATALOGUE`]) and pass the item's `choice_filter` with the option's
///   attributes (else [`FILTERED_OUT`]); with no `catalogue` (round unknown: other rules refuse
///   the record) these items are not checked;
/// * an item with static options and a `choice_filter`: each chosen option must pass it (else
///   [`FILTERED_OUT`]); a code that is no option at all is `not_an_option` of
///   `validate_response`.
///
/// The filter sees the effective answers before the item in display order and `today`, as in
/// the app (`sipas_core::answer_validation::form_state`, mirrored by `ui/expr.js`).
pub fn choice_problems(
    form: &Questionnaire,
    answers: &Answers,
    catalogue: Option<&BTreeMap<String, Vec<ChoiceOption>>>,
    today: Option<&str>,
) -> Vec<AnswerProblem> {
    let needs = form.items().any(|(_, i)| {
        matches!(i.item_type, ItemType::SingleChoice | ItemType::MultiChoice)
            && (i.choices_from.is_some() || i.choice_filter.is_some())
    });
    if !needs {
        return Vec::new();
    }
    let none = BTreeMap::new();
    let st = form_state(form, answers, today, catalogue.unwrap_or(&none));
    let visible: HashSet<&str> = st.visible.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    for (_, item) in form.items() {
        if !matches!(
            item.item_type,
            ItemType::SingleChoice | ItemType::MultiChoice
        ) || (item.choices_from.is_none() && item.choice_filter.is_none())
            || !visible.contains(item.code.as_str())
        {
            continue;
        }
        let chosen: Vec<&str> = match answers.get(&item.code).filter(|v| value_is_answered(v)) {
            Some(AnswerValue::Text(s)) => vec![s.as_str()],
            Some(AnswerValue::Codes(c)) => c.iter().map(String::as_str).collect(),
            _ => continue,
        };
        let offered: BTreeSet<&str> = st
            .choices
            .get(&item.code)
            .map(|o| o.iter().map(|o| o.value.as_str()).collect())
            .unwrap_or_default();
        let all: BTreeSet<&str> = match item.choices_from {
            Some(kind) => {
                let Some(cat) = catalogue else { continue };
                cat.get(kind.as_str())
                    .map(|o| o.iter().map(|o| o.value.as_str()).collect())
                    .unwrap_or_default()
            }
            None => item.options.iter().map(|o| o.value.as_str()).collect(),
        };
        for code in chosen {
            if !all.contains(code) {
                if let Some(kind) = item.choices_from {
                    out.push(AnswerProblem {
                        item_code: item.code.clone(),
                        kind: NOT_IN_CATALOGUE.into(),
                        message_vi: format!(
                            "Mã \"{code}\" không có trong danh mục {} của đợt khảo sát.",
                            kind_vi(kind.as_str())
                        ),
                        message: format!(
                            "\"{code}\" is not in the round's {} catalogue.",
                            kind.as_str()
                        ),
                    });
                    break;
                }
                // Not an option at all: validate_response reports it.
            } else if !offered.contains(code) {
                out.push(AnswerProblem {
                    item_code: item.code.clone(),
                    kind: FILTERED_OUT.into(),
                    message_vi: format!(
                        "Lựa chọn \"{code}\" không được đưa ra với các câu trả lời trước đó \
                         (điều kiện lọc lựa chọn của câu hỏi)."
                    ),
                    message: format!(
                        "\"{code}\" is not offered given the earlier answers (the question's \
                         choice filter)."
                    ),
                });
                break;
            }
        }
    }
    out
}

fn kind_vi(kind: &str) -> &'static str {
    match kind {
        "agencies" => "cơ quan",
        "procedures" => "thủ tục hành chính",
        "fields" => "lĩnh vực",
        _ => "đơn vị hành chính",
    }
}

/// The catalogues [`check_with`] needs for `records`: for every round named by a record whose
/// form has a `choices_from` item, the round's catalogue bundle as the whole server sees it
/// (`handlers::forms::bundle_of`, the same code as `GET /rounds/{id}/catalogue-bundle`).
/// Rounds the server does not know are left out.
pub async fn round_catalogues(
    state: &AppState,
    records: &[Incoming],
) -> ApiResult<RoundCatalogues> {
    let mut rounds = BTreeSet::new();
    for rec in records {
        let Ok(rec) = &rec.record else { continue };
        let uses = state
            .forms
            .get(&rec.response.form)
            .is_some_and(|f| f.items().any(|(_, i)| i.choices_from.is_some()));
        if uses {
            rounds.insert(rec.response.round_id.clone());
        }
    }
    let mut out = RoundCatalogues::new();
    if rounds.is_empty() {
        return Ok(out);
    }
    let whole = crate::scope::Scope {
        codes: ScopeCodes::default(),
        tree: crate::scope::unit_tree(state).await?,
    };
    for id in rounds {
        let Some(round) = state.store.round(&id).await? else {
            continue;
        };
        let plan = state.store.round_plan(&id).await?;
        let b = crate::handlers::forms::bundle_of(state, &round, &plan, &whole).await?;
        let kinds = [
            ("agencies", b.agencies),
            ("procedures", b.procedures),
            ("fields", b.fields),
            ("units", b.units),
        ];
        let map = kinds
            .into_iter()
            .map(|(k, list)| {
                let options = list
                    .into_iter()
                    .map(|o| ChoiceOption {
                        value: o.value,
                        label: o.label,
                        other: false,
                        exclusive: false,
                        attrs: o.attrs,
                    })
                    .collect();
                (k.to_owned(), options)
            })
            .collect();
        out.insert(id, map);
    }
    Ok(out)
}
