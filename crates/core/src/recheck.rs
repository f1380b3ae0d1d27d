//! Phúc tra: comparing a monitor's re-check visit with the original response, and summarising
//! discrepancies per surveyor (SIPAS.md §5.2, §8.3 \[I\]).
//!
//! A Fatherland Front (MTTQ) or Veterans' Association (CCB) monitor revisits a drawn
//! respondent ([`crate::spot_check`]) and re-asks a few key items ([`default_key_items`]).
//! [`compare`] lines the two answer sets up item by item:
//!
//! * an item **agrees** when both sides have an answer and they match: rating items within
//!   [`ReCheckConfig::rating_tolerance`] points; other integers exactly; text and choice codes
//!   after NFC normalisation, trimming, collapsing inner whitespace and lower-casing;
//!   multi-choice as sets of codes. Values of different kinds never agree;
//! * when either side is blank (missing, blank text, empty code list, or the rating scale's
//!   no-answer code) the item is not judged (`agrees: None`);
//! * the **agreement rate** is agreeing items / judged items (`None` if none was judged);
//! * if the visit did not happen (respondent not found, address does not exist …) nothing is
//!   compared, and the check counts as a discrepancy in [`discrepancy_by_surveyor`].
use crate::answer::{AnswerValue, Answers};
use crate::questionnaire::{GroupKind, Item, ItemType, Questionnaire};
use crate::relevance::value_is_answered;
use crate::text::nfc;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// What a monitor recorded on a re-check visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReCheck {
    /// The response re-checked.
    pub response_id: Uuid,
    /// Whether the monitor met the respondent (false: not found, refused, address wrong …).
    pub visit_happened: bool,
    /// The re-asked key items' answers, keyed by item code.
    #[serde(default)]
    pub answers: Answers,
}

/// How strictly answers are compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReCheckConfig {
    /// Rating items agree when their values differ by at most this many points (default 0:
    /// exact match; negative values act as 0).
    pub rating_tolerance: i64,
}

/// One key item on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAgreement {
    /// Item code.
    pub code: String,
    /// The original answer, if any.
    pub original: Option<AnswerValue>,
    /// The re-check answer, if any (always `None` when the visit did not happen).
    pub recheck: Option<AnswerValue>,
    /// Whether they match; `None` when either side is blank.
    pub agrees: Option<bool>,
}

/// The comparison of one re-check with its original response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReCheckResult {
    /// The response re-checked.
    pub response_id: Uuid,
    /// Whether the monitor met the respondent.
    pub visit_happened: bool,
    /// The key items in the order given.
    pub items: Vec<ItemAgreement>,
    /// Agreeing / judged items (0–1); `None` when no item could be judged.
    pub agreement_rate: Option<f64>,
}

impl ReCheckResult {
    /// Whether this check is a discrepancy: the visit did not happen, or the agreement rate is
    /// below `agreement_floor` (1.0: any disagreement). A visit with nothing to judge is not
    /// a discrepancy.
    pub fn is_discrepant(&self, agreement_floor: f64) -> bool {
        !self.visit_happened || self.agreement_rate.is_some_and(|r| r < agreement_floor)
    }

    /// Whether the visit happened but no key item could be judged (blank on either side).
    pub fn is_inconclusive(&self) -> bool {
        self.visit_happened && self.agreement_rate.is_none()
    }
}

/// Compares a re-check with the original answers over `key_items` (duplicates ignored).
/// `form` tells which items are ratings (for the tolerance) and what their no-answer code is.
pub fn compare(
    form: &Questionnaire,
    original: &Answers,
    recheck: &ReCheck,
    key_items: &[String],
    config: &ReCheckConfig,
) -> ReCheckResult {
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    for code in key_items {
        if !seen.insert(code.as_str()) {
            continue;
        }
        let item = form.item(code);
        let orig = original.get(code).cloned();
        let re = if recheck.visit_happened {
            recheck.answers.get(code).cloned()
        } else {
            None
        };
        let agrees = match (&orig, &re) {
            (Some(a), Some(b)) if !is_blank(form, item, a) && !is_blank(form, item, b) => {
                Some(values_agree(item, a, b, config.rating_tolerance.max(0)))
            }
            _ => None,
        };
        items.push(ItemAgreement {
            code: code.clone(),
            original: orig,
            recheck: re,
            agrees,
        });
    }
    let judged = items.iter().filter(|i| i.agrees.is_some()).count();
    let agreeing = items.iter().filter(|i| i.agrees == Some(true)).count();
    ReCheckResult {
        response_id: recheck.response_id,
        visit_happened: recheck.visit_happened,
        items,
        agreement_rate: (judged > 0).then(|| agreeing as f64 / judged as f64),
    }
}

/// Whether a value is blank for comparison: not an answer, or a rating's no-answer code.
fn is_blank(form: &Questionnaire, item: Option<&Item>, v: &AnswerValue) -> bool {
    if !value_is_answered(v) {
        return true;
    }
    let no_answer = item
        .filter(|i| i.item_type == ItemType::Rating)
        .and_then(|i| i.scale.as_ref())
        .and_then(|s| form.scales.get(s))
        .and_then(|s| s.no_answer.as_ref())
        .map(|p| p.value);
    matches!((v, no_answer), (AnswerValue::Int(x), Some(na)) if *x == na)
}

/// Text compared case- and spacing-insensitively, in NFC.
fn normalise(s: &str) -> String {
    nfc(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn values_agree(item: Option<&Item>, a: &AnswerValue, b: &AnswerValue, tolerance: i64) -> bool {
    let is_rating = item.is_some_and(|i| i.item_type == ItemType::Rating);
    match (a, b) {
        (AnswerValue::Int(x), AnswerValue::Int(y)) => {
            let tol = if is_rating { tolerance } else { 0 };
            x.abs_diff(*y) <= tol.unsigned_abs()
        }
        (AnswerValue::Text(x), AnswerValue::Text(y)) => normalise(x) == normalise(y),
        (AnswerValue::Codes(x), AnswerValue::Codes(y)) => {
            let set = |cs: &[String]| cs.iter().map(|c| normalise(c)).collect::<BTreeSet<_>>();
            set(x) == set(y)
        }
        _ => false,
    }
}

/// Thresholds of the per-surveyor discrepancy summary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiscrepancyConfig {
    /// A surveyor is flagged when their discrepancy rate is above this (default 0.2).
    pub threshold: f64,
    /// A visited check is discrepant when its agreement rate is below this (default 1.0:
    /// any disagreeing item).
    pub agreement_floor: f64,
}

impl Default for DiscrepancyConfig {
    fn default() -> Self {
        DiscrepancyConfig {
            threshold: 0.2,
            agreement_floor: 1.0,
        }
    }
}

/// Re-check outcome of one surveyor's responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyorDiscrepancy {
    /// The surveyor.
    pub surveyor_id: Uuid,
    /// Re-checks of their responses.
    pub checked: usize,
    /// Of which discrepant ([`ReCheckResult::is_discrepant`]).
    pub discrepant: usize,
    /// Of which visited but with nothing to judge (counted in `checked`, not discrepant).
    pub inconclusive: usize,
    /// `discrepant / checked` (0–1).
    pub rate: f64,
    /// Whether `rate` is above [`DiscrepancyConfig::threshold`].
    pub flagged: bool,
}

/// Summarises re-check results per surveyor (`(surveyor id, result)` pairs), sorted by rate
/// descending, then discrepant count descending, then surveyor id.
pub fn discrepancy_by_surveyor(
    results: &[(Uuid, ReCheckResult)],
    config: &DiscrepancyConfig,
) -> Vec<SurveyorDiscrepancy> {
    // surveyor → (checked, discrepant, inconclusive)
    let mut tally: BTreeMap<Uuid, (usize, usize, usize)> = BTreeMap::new();
    for (surveyor, r) in results {
        let t = tally.entry(*surveyor).or_default();
        t.0 += 1;
        t.1 += usize::from(r.is_discrepant(config.agreement_floor));
        t.2 += usize::from(r.is_inconclusive());
    }
    let mut out: Vec<SurveyorDiscrepancy> = tally
        .into_iter()
        .map(|(surveyor_id, (checked, discrepant, inconclusive))| {
            let rate = discrepant as f64 / checked as f64;
            SurveyorDiscrepancy {
                surveyor_id,
                checked,
                discrepant,
                inconclusive,
                rate,
                flagged: rate > config.threshold,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.rate
            .total_cmp(&a.rate)
            .then(b.discrepant.cmp(&a.discrepant))
            .then(a.surveyor_id.cmp(&b.surveyor_id))
    });
    out
}

/// A short default set of items to re-ask, in form order: the respondent's sex and age (first
/// profile group), the procedure (first item of the first screening group) and the first
/// criterion of each criteria group. Parts the form lacks are left out.
///
/// Sex is the first single-choice profile item labelled "giới tính" (or "sex"/"gender" in
/// English) or whose options are exactly `nam`/`nu`; age is the first integer profile item.
pub fn default_key_items(form: &Questionnaire) -> Vec<String> {
    let mut keys: BTreeSet<&str> = BTreeSet::new();
    if let Some(profile) = form.groups.iter().find(|g| g.kind == GroupKind::Profile) {
        if let Some(sex) = profile.items.iter().find(|i| is_sex_item(i)) {
            keys.insert(&sex.code);
        }
        if let Some(age) = profile
            .items
            .iter()
            .find(|i| i.item_type == ItemType::Integer)
        {
            keys.insert(&age.code);
        }
    }
    if let Some(first) = form
        .groups
        .iter()
        .find(|g| g.kind == GroupKind::Screening)
        .and_then(|g| g.items.first())
    {
        keys.insert(&first.code);
    }
    for g in form.groups.iter().filter(|g| g.kind == GroupKind::Criteria) {
        if let Some(c) = g.items.iter().find(|i| i.is_criterion(g)) {
            keys.insert(&c.code);
        }
    }
    form.items()
        .map(|(_, i)| i.code.as_str())
        .filter(|c| keys.contains(c))
        .map(str::to_owned)
        .collect()
}

/// The key items a monitor re-asks of one response: those of `key_items` (in that order,
/// duplicates dropped) that were relevant to the respondent given the original answers
/// (skip logic, [`crate::relevance::relevant_items`]). A respondent who skipped a question
/// (e.g. the feedback group G5 when B8 = không) is not asked it on the re-check visit. Codes
/// the form does not have are dropped.
///
/// The server computes this from the original answers and sends the device only the result,
/// never the answers themselves (the re-check is blind).
pub fn relevant_key_items(
    form: &Questionnaire,
    original: &Answers,
    key_items: &[String],
) -> Vec<String> {
    let relevant: BTreeSet<&str> = crate::relevance::relevant_items(form, original)
        .into_iter()
        .map(|(_, i)| i.code.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    key_items
        .iter()
        .filter(|c| relevant.contains(c.as_str()) && seen.insert(c.as_str()))
        .cloned()
        .collect()
}

fn is_sex_item(item: &Item) -> bool {
    if item.item_type != ItemType::SingleChoice {
        return false;
    }
    let vi = normalise(&item.label.vi);
    let en = item.label.en.as_deref().map(normalise).unwrap_or_default();
    let options: BTreeSet<String> = item.options.iter().map(|o| normalise(&o.value)).collect();
    vi.contains("giới tính")
        || en.contains("sex")
        || en.contains("gender")
        || options == BTreeSet::from(["nam".to_owned(), "nu".to_owned()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Profile (sex S, ethnicity D, age AGE), screening (procedure PROC, channel CH),
    /// criteria G1 (non-criterion X first, then C1, C2), criteria G2 (K1).
    #[test]
    fn relevant_key_items_leave_out_what_the_respondent_skipped() {
        let form = crate::builtin::builtin_form("sipas-6-groups", "2026.1").unwrap();
        let keys: Vec<String> = form
            .groups
            .iter()
            .filter(|g| g.code == "G5" || g.code == "G1")
            .filter_map(|g| g.items.first())
            .map(|i| i.code.clone())
            .collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        let g5 = keys.iter().find(|k| k.starts_with("G5")).unwrap().clone();
        let skipped: Answers = serde_json::from_value(json!({"B8": "khong"})).unwrap();
        let asked: Answers = serde_json::from_value(json!({"B8": "co"})).unwrap();
        let without = relevant_key_items(&form, &skipped, &keys);
        assert!(!without.contains(&g5), "{without:?}");
        assert_eq!(without.len(), 1);
        let with = relevant_key_items(&form, &asked, &keys);
        assert_eq!(with, keys);
        // Unknown codes and duplicates are dropped.
        let mut noisy = keys.clone();
        noisy.push("NOPE".into());
        noisy.push(keys[0].clone());
        assert_eq!(relevant_key_items(&form, &asked, &noisy), keys);
    }

    fn form() -> Questionnaire {
        let points: Vec<_> = (1..=5)
            .map(|v| json!({"value": v, "label": {"vi": v.to_string()}}))
            .collect();
        let rating = |code: &str| {
            json!({"code": code, "type": "rating", "scale": "sat5",
                                         "label": {"vi": code}})
        };
        let mut x = rating("X");
        x["criterion"] = json!(false);
        serde_json::from_value(json!({
            "format": 1, "form_id": "rc", "version": "1", "title": {"vi": "Thử"},
            "scales": {"sat5": {"points": points, "satisfied_from": 4,
                                "no_answer": {"value": 9, "label": {"vi": "KTL"}}}},
            "groups": [
                {"code": "P", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                    {"code": "D", "type": "single_choice", "label": {"vi": "Dân tộc"},
                     "options": [{"value": "kinh", "label": {"vi": "Kinh"}},
                                 {"value": "khac", "label": {"vi": "Khác"}}]},
                    {"code": "S", "type": "single_choice", "label": {"vi": "Giới tính"},
                     "options": [{"value": "m", "label": {"vi": "Nam"}},
                                 {"value": "f", "label": {"vi": "Nữ"}}]},
                    {"code": "AGE", "type": "integer", "label": {"vi": "Tuổi"}, "min": 18}
                ]},
                {"code": "B", "kind": "screening", "title": {"vi": "Thủ tục"}, "items": [
                    {"code": "PROC", "type": "text", "label": {"vi": "Tên thủ tục"}},
                    {"code": "CH", "type": "multi_choice", "label": {"vi": "Kênh"},
                     "options": [{"value": "a", "label": {"vi": "A"}},
                                 {"value": "b", "label": {"vi": "B"}}]}
                ]},
                {"code": "G1", "kind": "criteria", "title": {"vi": "Nhóm 1"},
                 "items": [x, rating("C1"), rating("C2")]},
                {"code": "G2", "kind": "criteria", "title": {"vi": "Nhóm 2"},
                 "items": [rating("K1")]}
            ]
        }))
        .unwrap()
    }

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    fn keys(codes: &[&str]) -> Vec<String> {
        codes.iter().map(|c| c.to_string()).collect()
    }

    fn recheck(visit: bool, a: serde_json::Value) -> ReCheck {
        ReCheck {
            response_id: Uuid::from_u128(1),
            visit_happened: visit,
            answers: answers(a),
        }
    }

    #[test]
    fn default_key_items_inline_and_builtin() {
        // S (by label), AGE, PROC, first criterion of G1 (C1: X is not a criterion), K1.
        assert_eq!(default_key_items(&form()), ["S", "AGE", "PROC", "C1", "K1"]);
        let six = crate::builtin::builtin_form("sipas-6-groups", "2026.1").unwrap();
        assert_eq!(
            default_key_items(&six),
            [
                "A1", "A2", "B1", "G1_1", "G2_1", "G3_1", "G4_1", "G5_1", "G6_1"
            ]
        );
        // The national form has no screening group: no procedure item.
        let national = crate::builtin::builtin_form("sipas-national-2023", "2023.1").unwrap();
        assert_eq!(
            default_key_items(&national),
            [
                "A1", "A2", "P_A_1", "P_B_1", "P_C_1", "P_D_1", "S1_1", "S2_1", "S3_1", "S4_1",
                "S5_1"
            ]
        );
    }

    #[test]
    fn item_by_item_comparison() {
        let original = answers(json!({
            "S": "f", "AGE": 42, "PROC": "Đăng ký  khai sinh", "CH": ["a", "b"],
            "C1": 4, "K1": 9
        }));
        // PROC differs only in case, spacing and Unicode form ("ă" decomposed); CH in order;
        // AGE off by one; C1 off by one; K1 blank on the original side (no-answer code 9);
        // C2 missing on both sides.
        let rc = recheck(
            true,
            json!({
                "S": "f", "AGE": 43, "PROC": " đa\u{306}ng ký khai sinh ", "CH": ["b", "a"],
                "C1": 5, "K1": 4, "C2": 3
            }),
        );
        let key = keys(&["S", "AGE", "PROC", "CH", "C1", "K1", "C2", "S"]);
        let r = compare(&form(), &original, &rc, &key, &ReCheckConfig::default());
        let agrees: Vec<_> = r
            .items
            .iter()
            .map(|i| (i.code.as_str(), i.agrees))
            .collect();
        assert_eq!(
            agrees,
            [
                ("S", Some(true)),
                ("AGE", Some(false)),
                ("PROC", Some(true)),
                ("CH", Some(true)),
                ("C1", Some(false)),
                ("K1", None),
                ("C2", None),
            ]
        );
        // judged 5, agreeing 3 → 0.6
        assert_eq!(r.agreement_rate, Some(0.6));
        assert_eq!(r.items[5].original, Some(AnswerValue::Int(9)));
        assert_eq!(r.items[5].recheck, Some(AnswerValue::Int(4)));
        assert!(r.is_discrepant(1.0));
        assert!(!r.is_discrepant(0.6));
        assert!(r.is_discrepant(0.61));

        // Tolerance 1 applies to the rating C1 only, not to the integer AGE: 4 of 5 = 0.8.
        let tol = ReCheckConfig {
            rating_tolerance: 1,
        };
        let r = compare(&form(), &original, &rc, &key, &tol);
        assert_eq!(r.items[4].agrees, Some(true));
        assert_eq!(r.items[1].agrees, Some(false));
        assert_eq!(r.agreement_rate, Some(0.8));
    }

    #[test]
    fn kind_mismatch_and_choice_sets_disagree() {
        let original = answers(json!({"S": "f", "CH": ["a"], "C1": 4}));
        let rc = recheck(true, json!({"S": "m", "CH": ["a", "b"], "C1": "4"}));
        let r = compare(
            &form(),
            &original,
            &rc,
            &keys(&["S", "CH", "C1"]),
            &ReCheckConfig::default(),
        );
        assert!(r.items.iter().all(|i| i.agrees == Some(false)));
        assert_eq!(r.agreement_rate, Some(0.0));
    }

    #[test]
    fn visit_not_happened_compares_nothing_and_is_discrepant() {
        let original = answers(json!({"S": "f", "C1": 4}));
        // answers recorded by mistake are ignored when the visit did not happen
        let rc = recheck(false, json!({"S": "f", "C1": 4}));
        let r = compare(
            &form(),
            &original,
            &rc,
            &keys(&["S", "C1"]),
            &ReCheckConfig::default(),
        );
        assert!(!r.visit_happened);
        assert!(
            r.items
                .iter()
                .all(|i| i.recheck.is_none() && i.agrees.is_none())
        );
        assert_eq!(r.agreement_rate, None);
        assert!(r.is_discrepant(0.0));
        assert!(!r.is_inconclusive());
        // visited but everything blank: inconclusive, not discrepant
        let r = compare(
            &form(),
            &original,
            &recheck(true, json!({"S": " ", "C1": 9})),
            &keys(&["S", "C1"]),
            &ReCheckConfig::default(),
        );
        assert_eq!(r.agreement_rate, None);
        assert!(r.is_inconclusive());
        assert!(!r.is_discrepant(1.0));
    }

    fn result(visit: bool, rate: Option<f64>) -> ReCheckResult {
        ReCheckResult {
            response_id: Uuid::from_u128(99),
            visit_happened: visit,
            items: Vec::new(),
            agreement_rate: rate,
        }
    }

    #[test]
    fn discrepancy_summary() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let results = vec![
            // A: 5 checks, 1 discrepant (rate 0.75 < 1.0) → 1/5 = 0.2, not above 0.2
            (a, result(true, Some(1.0))),
            (a, result(true, Some(0.75))),
            (a, result(true, Some(1.0))),
            (a, result(true, None)), // inconclusive
            (a, result(true, Some(1.0))),
            // B: 2 checks, 1 visit failed → 0.5, flagged
            (b, result(false, None)),
            (b, result(true, Some(1.0))),
            // C: 4 checks, 1 failed visit + 1 at 0.8 → 2/4 = 0.5, flagged; more discrepant
            //    than B at the same rate, so listed first
            (c, result(true, Some(0.8))),
            (c, result(false, None)),
            (c, result(true, Some(1.0))),
            (c, result(true, Some(1.0))),
        ];
        let s = discrepancy_by_surveyor(&results, &DiscrepancyConfig::default());
        let rows: Vec<_> = s
            .iter()
            .map(|d| {
                (
                    d.surveyor_id,
                    d.checked,
                    d.discrepant,
                    d.inconclusive,
                    d.rate,
                    d.flagged,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (c, 4, 2, 0, 0.5, true),
                (b, 2, 1, 0, 0.5, true),
                (a, 5, 1, 1, 0.2, false),
            ]
        );
        // A floor of 0.75 forgives A's 0.75 and C's 0.8: C → 1/4 = 0.25, A → 0
        let lenient = DiscrepancyConfig {
            agreement_floor: 0.75,
            ..DiscrepancyConfig::default()
        };
        let s = discrepancy_by_surveyor(&results, &lenient);
        let rows: Vec<_> = s
            .iter()
            .map(|d| (d.surveyor_id, d.discrepant, d.rate, d.flagged))
            .collect();
        assert_eq!(
            rows,
            [(b, 1, 0.5, true), (c, 1, 0.25, true), (a, 0, 0.0, false)]
        );
        assert!(discrepancy_by_surveyor(&[], &DiscrepancyConfig::default()).is_empty());
    }

    #[test]
    fn builtin_form_round_trip() {
        let six = crate::builtin::builtin_form("sipas-6-groups", "2026.1").unwrap();
        let key = default_key_items(&six);
        let original = answers(json!({
            "A1": "nu", "A2": 35, "B1": "Chứng thực bản sao", "B8": "khong",
            "G1_1": 4, "G2_1": 5, "G3_1": 3, "G4_1": 4, "G6_1": 4
        }));
        // G5_1 skipped in both; G3_1 3 → 2 disagrees; everything else matches: 7 of 8.
        let rc = recheck(
            true,
            json!({
                "A1": "nu", "A2": 35, "B1": "chứng thực bản sao",
                "G1_1": 4, "G2_1": 5, "G3_1": 2, "G4_1": 4, "G6_1": 4
            }),
        );
        let r = compare(&six, &original, &rc, &key, &ReCheckConfig::default());
        assert_eq!(r.items.len(), 9);
        assert_eq!(r.agreement_rate, Some(7.0 / 8.0));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["items"][7]["code"], "G5_1");
        assert!(json["items"][7]["agrees"].is_null());
        assert_eq!(json["items"][5]["code"], "G3_1");
        assert_eq!(json["items"][5]["agrees"], false);
        let back: ReCheckResult = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }
}
