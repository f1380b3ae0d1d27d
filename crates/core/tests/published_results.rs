//! Issue 11: breakdowns, suppression, rankings, comparisons, targets and microdata, checked
//! against hand-computed values (each in a comment next to its assertion).
use serde_json::json;
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::breakdown::{
    AgeBand, BreakdownError, BreakdownInput, Dimension, MISSING_KEY, compute_breakdown,
    default_age_bands,
};
use sipas_core::comparison::{CodeMapping, ComparisonError, MappingEntry, compare_rounds};
use sipas_core::figure::{Figure, figures};
use sipas_core::index::{ALL_UNITS, IndexConfig, IndexInput, compute_index_inputs};
use sipas_core::interval::wilson_95;
use sipas_core::microdata::{
    KEY_COLUMNS, MicrodataBuilder, MicrodataInput, MicrodataOptions, spss_syntax, to_csv,
};
use sipas_core::questionnaire::Questionnaire;
use sipas_core::ranking::{RankStatus, rank_breakdown, rank_figures};
use sipas_core::report::ReportLevel::{self, Criterion, Group, Overall};
use sipas_core::targets::{
    Comparator, Target, TargetError, TargetScope, TargetSet, TargetStatus, evaluate,
};
use sipas_core::units::{UnitLevel, UnitTree};

const EPS: f64 = 1e-6;

fn near(actual: Option<f64>, expected: f64, eps: f64) {
    let a = actual.unwrap_or_else(|| panic!("expected {expected}, got None"));
    assert!((a - expected).abs() < eps, "expected {expected}, got {a}");
}

/// A form: profile A1 sex (nam/nu), A2 age, F1 free text, E1 multi-choice; criteria
/// groups G1 = {C1, `c2`} and G2 = `g2` (codes differ between versions 1 and 2).
fn form(version: &str, c2: &str, g2: &[&str]) -> Questionnaire {
    let points: Vec<_> = (1..=5)
        .map(|v| json!({"value": v, "label": {"vi": format!("Mức {v}")}}))
        .collect();
    let rating = |code: &str| {
        json!({"code": code, "type": "rating", "scale": "sat5",
                                     "label": {"vi": format!("Câu {code}")}})
    };
    serde_json::from_value(json!({
        "format": 1, "form_id": "t", "version": version, "title": {"vi": "Thử"},
        "scales": {"sat5": {"points": points, "satisfied_from": 4,
                            "no_answer": {"value": 9, "label": {"vi": "Không trả lời"}}}},
        "groups": [
            {"code": "A", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                {"code": "A1", "type": "single_choice", "label": {"vi": "Giới tính"},
                 "options": [{"value": "nam", "label": {"vi": "Nam"}},
                             {"value": "nu", "label": {"vi": "Nữ"}}]},
                {"code": "A2", "type": "integer", "label": {"vi": "Tuổi"}},
                {"code": "E1", "type": "multi_choice", "label": {"vi": "Mong muốn 'ưu tiên'"},
                 "options": [{"value": "x", "label": {"vi": "X"}},
                             {"value": "y", "label": {"vi": "Y"}}]},
                {"code": "F1", "type": "text", "label": {"vi": "Ý kiến khác"}}
            ]},
            {"code": "G1", "kind": "criteria", "title": {"vi": "Nhóm 1"},
             "items": [rating("C1"), rating(c2)]},
            {"code": "G2", "kind": "criteria", "title": {"vi": "Nhóm 2"},
             "items": g2.iter().map(|c| rating(c)).collect::<Vec<_>>()}
        ]
    }))
    .unwrap()
}

fn v1() -> Questionnaire {
    form("1", "C2", &["K1"])
}

/// Version 2: C2 renamed C2N; K1 split into K1a and K1b.
fn v2() -> Questionnaire {
    form("2", "C2N", &["K1a", "K1b"])
}

/// One respondent's answers: criterion `code` is 4 (satisfied) when `i < sat`, else 2.
fn answers(i: usize, criteria: &[(&str, usize)]) -> Answers {
    criteria
        .iter()
        .map(|(c, sat)| {
            (
                c.to_string(),
                AnswerValue::Int(if i < *sat { 4 } else { 2 }),
            )
        })
        .collect()
}

/// `n` respondents of `agency` whose every criterion is satisfied for the first `sat`.
struct Respondents {
    round: &'static str,
    agency: &'static str,
    rows: Vec<Answers>,
}

fn group(
    round: &'static str,
    agency: &'static str,
    n: usize,
    crit: &[(&str, usize)],
) -> Respondents {
    Respondents {
        round,
        agency,
        rows: (0..n).map(|i| answers(i, crit)).collect(),
    }
}

fn inputs(groups: &[Respondents]) -> Vec<BreakdownInput<'_>> {
    groups
        .iter()
        .flat_map(|g| {
            g.rows.iter().map(move |a| BreakdownInput {
                round_id: g.round,
                unit_code: "00001",
                agency_code: Some(g.agency),
                agency_kind: Some(g.agency),
                field_code: Some(g.agency),
                answers: a,
            })
        })
        .collect()
}

fn all(sat: usize) -> Vec<(&'static str, usize)> {
    vec![("C1", sat), ("C2", sat), ("K1", sat)]
}

#[test]
fn ranks_with_ties_and_not_enough_responses() {
    // Every criterion of a respondent is satisfied or not together, so each agency's
    // overall % = its share of satisfied respondents:
    //   a 9/10 = 90%, b 17/20 = 85%, c 17/20 = 85%, d 8/10 = 80%, e 4/4 = 100% (N 4 < 5).
    let data = [
        group("R", "a", 10, &all(9)),
        group("R", "b", 20, &all(17)),
        group("R", "c", 20, &all(17)),
        group("R", "d", 10, &all(8)),
        group("R", "e", 4, &all(4)),
    ];
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::Agency,
        5,
        inputs(&data),
    )
    .unwrap();
    let ranking = rank_breakdown(&b, "R", Overall, "");
    let got: Vec<_> = ranking
        .iter()
        .map(|e| (e.key.as_str(), e.rank, e.pct_satisfied, e.n, e.status))
        .collect();
    // standard competition ranking: 90 → 1, 85 and 85 → 2 and 2, 80 → 4; e listed unranked
    assert_eq!(
        got,
        [
            ("a", Some(1), Some(90.0), 10, RankStatus::Ranked),
            ("b", Some(2), Some(85.0), 20, RankStatus::Ranked),
            ("c", Some(2), Some(85.0), 20, RankStatus::Ranked),
            ("d", Some(4), Some(80.0), 10, RankStatus::Ranked),
            ("e", None, None, 4, RankStatus::NotEnoughResponses),
        ]
    );
    assert_eq!(ranking[4].status.label_vi(), "chưa đủ mẫu");
    // d's overall: 80% over N = 10 respondents → Wilson [49.016, 94.332] (as for 8/10)
    let d = b.cell("R", "d").unwrap().figure(Overall, "").unwrap();
    let i = d.interval.unwrap();
    near(Some(i.lower), 49.016, 0.001);
    near(Some(i.upper), 94.332, 0.001);
    // the same for criterion C1 of d: 8 satisfied of 10 valid
    let c1 = b.cell("R", "d").unwrap().figure(Criterion, "C1").unwrap();
    assert_eq!((c1.n, c1.satisfied_n), (10, Some(8)));
    assert_eq!(c1.interval, wilson_95(80.0, 10));
    // e is suppressed: nothing but N is published
    let e = b.cell("R", "e").unwrap().figure(Overall, "").unwrap();
    assert!(e.suppressed && e.pct_satisfied.is_none() && e.interval.is_none());
    assert_eq!(e.n, 4);
}

fn fig(pct: f64, n: usize) -> Figure {
    Figure {
        level: Overall,
        code: "overall".into(),
        n,
        answers_n: n,
        satisfied_n: None,
        pct_satisfied: Some(pct),
        mean: None,
        interval: None,
        suppressed: false,
    }
}

#[test]
fn ranks_compare_published_values() {
    // 85.004 and 84.996 are both published as 85.00 → tie at rank 2 after 85.006 (85.01);
    // 84.994 (84.99) is 4th. A suppressed figure is unranked whatever its value.
    let f = [
        fig(85.004, 50),
        fig(84.996, 50),
        fig(85.006, 50),
        fig(84.994, 50),
        Figure {
            suppressed: true,
            pct_satisfied: None,
            ..fig(0.0, 3)
        },
    ];
    let keys = ["p", "q", "r", "s", "t"];
    let r = rank_figures(keys.iter().zip(&f).map(|(k, f)| (*k, None, f)));
    let got: Vec<_> = r.iter().map(|e| (e.key.as_str(), e.rank)).collect();
    assert_eq!(
        got,
        [
            ("r", Some(1)),
            ("p", Some(2)),
            ("q", Some(2)),
            ("s", Some(4)),
            ("t", None)
        ]
    );
    assert!(rank_figures(std::iter::empty()).is_empty());
}

/// Earlier round 2025 on form v1, later round 2026 on form v2 (C2 → C2N renamed,
/// K1 → K1a + K1b split). Agencies a (10 respondents) and b (90):
///
/// | round | agency | C1    | C2/C2N | K1 / K1a | K1b   |
/// |-------|--------|-------|--------|----------|-------|
/// | 2025  | a      | 8/10  | 10/10  | 5/10     |       |
/// | 2025  | b      | 72/90 | 45/90  | 90/90    |       |
/// | 2026  | a      | 6/10  | 10/10  | 5/10     | 10/10 |
/// | 2026  | b      | 59/90 | 45/90  | 90/90    | 0/90  |
fn two_rounds() -> (
    sipas_core::breakdown::Breakdown,
    sipas_core::breakdown::Breakdown,
) {
    let earlier = [
        group("2025", "a", 10, &[("C1", 8), ("C2", 10), ("K1", 5)]),
        group("2025", "b", 90, &[("C1", 72), ("C2", 45), ("K1", 90)]),
    ];
    let later = [
        group(
            "2026",
            "a",
            10,
            &[("C1", 6), ("C2N", 10), ("K1a", 5), ("K1b", 10)],
        ),
        group(
            "2026",
            "b",
            90,
            &[("C1", 59), ("C2N", 45), ("K1a", 90), ("K1b", 0)],
        ),
    ];
    let e = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::Agency,
        5,
        inputs(&earlier),
    )
    .unwrap();
    let l = compute_breakdown(
        &v2(),
        IndexConfig::default(),
        Dimension::Agency,
        5,
        inputs(&later),
    )
    .unwrap();
    (e, l)
}

fn mapping() -> CodeMapping {
    CodeMapping {
        entries: vec![
            MappingEntry {
                old: "C2".into(),
                new: vec!["C2N".into()],
            },
            MappingEntry {
                old: "K1".into(),
                new: vec!["K1a".into(), "K1b".into()],
            },
        ],
    }
}

#[test]
fn comparison_across_versions_with_renamed_and_split_criteria() {
    let (e, l) = two_rounds();
    let cmp = compare_rounds(&e, "2025", &l, "2026", &mapping()).unwrap();
    assert_eq!(cmp.cells.len(), 3); // total, a, b
    let row = |key: &str, level: ReportLevel, code: &str| {
        cmp.cells
            .iter()
            .find(|c| c.key == key)
            .unwrap()
            .rows
            .iter()
            .find(|r| r.level == level && r.code == code)
            .unwrap()
            .clone()
    };
    // Total C1: 80/100 → 65/100: −15.00 points, dropped. z-test: pooled p = 0.725,
    // SE = √(0.725·0.275·0.02) = 0.063147, z = −2.3754 → significant at 95%.
    // Wilson 80/100: z²/n = 0.0384146, centre (0.8 + 0.0192073)/1.0384146 = 0.788902,
    // half 1.887448 × √(0.0016 + 0.0000960) = 0.077731 → [71.117, 86.663];
    // 65/100: centre 0.644451, half 1.887448 × √(0.002275 + 0.0000960) = 0.091907
    // → [55.254, 73.636]. They still overlap, which is why the z-test (not overlap) decides.
    let t = row(ALL_UNITS, Criterion, "C1");
    assert_eq!(t.delta_pp, Some(-15.0));
    assert!(t.dropped);
    near(t.z, -2.3754, 1e-4);
    assert_eq!(t.significant, Some(true));
    assert_eq!(t.intervals_overlap, Some(true));
    let (ei, li) = (
        t.earlier.unwrap().interval.unwrap(),
        t.later.interval.unwrap(),
    );
    near(Some(ei.lower), 71.117, 0.001);
    near(Some(ei.upper), 86.663, 0.001);
    near(Some(li.lower), 55.254, 0.001);
    near(Some(li.upper), 73.636, 0.001);
    assert_eq!((t.earlier_rank, t.later_rank), (None, None)); // the total is not ranked
    // Agency a C1: 8/10 → 6/10: −20.00; pooled 0.7, SE 0.204939, z = −0.9759 → not
    // significant. Ranks on C1: 2025 a 80.00 and b 80.00 tie at 1; 2026 b 65.56 (59/90) is
    // 1st, a 60.00 2nd → a's rank change 1 − 2 = −1, b's 1 − 1 = 0.
    let a = row("a", Criterion, "C1");
    assert_eq!(a.delta_pp, Some(-20.0));
    near(a.z, -0.9759, 1e-4);
    assert_eq!(a.significant, Some(false));
    assert_eq!(
        (a.earlier_rank, a.later_rank, a.rank_change),
        (Some(1), Some(2), Some(-1))
    );
    let b = row("b", Criterion, "C1");
    assert_eq!(
        (b.earlier_rank, b.later_rank, b.rank_change),
        (Some(1), Some(1), Some(0))
    );
    // b C1: 80.00 → 65.56 (59/90 = 65.5555…): delta −14.44
    assert_eq!(b.delta_pp, Some(-14.44));
    // Renamed: C2N is compared with C2: total 55/100 → 55/100, 0 points, not dropped.
    let r = row(ALL_UNITS, Criterion, "C2N");
    assert_eq!(r.earlier_code.as_deref(), Some("C2"));
    assert!(!r.split);
    assert_eq!((r.delta_pp, r.dropped), (Some(0.0), false));
    assert_eq!(r.significant, Some(false));
    // Split: K1a and K1b are both compared with K1 (total 95/100 = 95%):
    // K1a 95/100 → 0.00; K1b 10/100 → −85.00, dropped, significant.
    let k1a = row(ALL_UNITS, Criterion, "K1a");
    let k1b = row(ALL_UNITS, Criterion, "K1b");
    assert_eq!(k1a.earlier_code.as_deref(), Some("K1"));
    assert!(k1a.split && k1b.split);
    assert_eq!(k1a.delta_pp, Some(0.0));
    assert_eq!(
        (k1b.delta_pp, k1b.dropped, k1b.significant),
        (Some(-85.0), true, Some(true))
    );
    // Group G2 (same code): 95% → mean(95, 10) = 52.5%: −42.50; N = 100 respondents each.
    let g2 = row(ALL_UNITS, Group, "G2");
    assert_eq!(g2.delta_pp, Some(-42.5));
    assert_eq!((g2.earlier.unwrap().n, g2.later.n), (100, 100));
    // Overall: 2025 G1 = mean(80, 55) = 67.5, G2 = 95 → 81.25;
    //          2026 G1 = mean(65, 55) = 60, G2 = 52.5 → 56.25; delta −25.00.
    let o = row(ALL_UNITS, Overall, "overall");
    near(o.earlier.as_ref().unwrap().pct_satisfied, 81.25, EPS);
    near(o.later.pct_satisfied, 56.25, EPS);
    assert_eq!(o.delta_pp, Some(-25.0));
}

#[test]
fn comparison_without_mapping_and_bad_mappings() {
    let (e, l) = two_rounds();
    // Without a mapping, C2N and K1a/K1b are new criteria: nothing to compare with.
    let cmp = compare_rounds(&e, "2025", &l, "2026", &CodeMapping::default()).unwrap();
    let c2n = cmp.cells[0].rows.iter().find(|r| r.code == "C2N").unwrap();
    assert_eq!(
        (c2n.earlier_code.clone(), c2n.delta_pp, c2n.dropped),
        (None, None, false)
    );
    let m = |entries: &[(&str, &[&str])]| CodeMapping {
        entries: entries
            .iter()
            .map(|(o, n)| MappingEntry {
                old: o.to_string(),
                new: n.iter().map(|s| s.to_string()).collect(),
            })
            .collect(),
    };
    let err = |mapping: CodeMapping| compare_rounds(&e, "2025", &l, "2026", &mapping).unwrap_err();
    assert_eq!(
        err(m(&[("ZZ", &["C2N"])])),
        ComparisonError::UnknownOldCode("ZZ".into())
    );
    assert_eq!(
        err(m(&[("C2", &["ZZ"])])),
        ComparisonError::UnknownNewCode("ZZ".into())
    );
    assert_eq!(
        err(m(&[("C2", &[])])),
        ComparisonError::EmptyMapping("C2".into())
    );
    // a merge (two old codes into one new) is refused
    assert_eq!(
        err(m(&[("C2", &["C2N"]), ("K1", &["C2N"])])),
        ComparisonError::MergedCode("C2N".into())
    );
    assert!(matches!(
        err(m(&[("G2", &["K1a"])])),
        ComparisonError::LevelMismatch { .. }
    ));
    assert_eq!(
        compare_rounds(&e, "2024", &l, "2026", &mapping()).unwrap_err(),
        ComparisonError::UnknownRound("2024".into())
    );
}

#[test]
fn targets_met_not_met_and_not_enough_data() {
    // Fields (every criterion of a respondent satisfied or not together), min N 5:
    //   dat_dai 17/20 = 85.00% vs ≥ 85 → met;      xay_dung 16/20 = 80% vs ≥ 85 → not met;
    //   y_te 8/10 = 80.00% vs > 80 → NOT met (> is strict);  giao_duc 3/3, N 3 < 5 → not
    //   enough data. Total 44/53 = 83.0188…% vs overall > 90 → not met.
    let data = [
        group("R", "dat_dai", 20, &all(17)),
        group("R", "xay_dung", 20, &all(16)),
        group("R", "y_te", 10, &all(8)),
        group("R", "giao_duc", 3, &all(3)),
    ];
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::Field,
        5,
        inputs(&data),
    )
    .unwrap();
    let set = TargetSet::plan_default();
    set.validate().unwrap();
    let results = set.evaluate_breakdown(&b, "R");
    let status = |key: &str, scope: &TargetScope| {
        results
            .iter()
            .find(|r| r.key == key && &r.target.scope == scope)
            .map(|r| (r.pct_satisfied, r.status))
    };
    let field = |c: &str| TargetScope::Field(c.into());
    assert_eq!(
        status("dat_dai", &field("dat_dai")),
        Some((Some(85.0), TargetStatus::Met))
    );
    assert_eq!(
        status("xay_dung", &field("xay_dung")),
        Some((Some(80.0), TargetStatus::NotMet))
    );
    assert_eq!(
        status("y_te", &field("y_te")),
        Some((Some(80.0), TargetStatus::NotMet))
    );
    assert_eq!(
        status("giao_duc", &field("giao_duc")),
        Some((None, TargetStatus::NotEnoughData))
    );
    assert_eq!(
        status(ALL_UNITS, &TargetScope::Overall),
        Some((Some(83.02), TargetStatus::NotMet))
    );
    // a field target applies only to its own field's cell; agency-kind targets not at all
    assert_eq!(status("dat_dai", &field("y_te")), None);
    assert!(
        results
            .iter()
            .all(|r| !matches!(r.target.scope, TargetScope::AgencyKind(_)))
    );
    // 4 cells + total, each with the overall target; plus the 5 field targets whose field is
    // present (dau_tu is absent) → 5 + 4 = 9
    assert_eq!(results.len(), 9);
    // Published precision: 90.004 shows as 90.00 → not "> 90"; 90.005 shows as 90.01 → met.
    assert_eq!(
        evaluate(&fig(90.004, 50), Comparator::Gt, 90.0),
        TargetStatus::NotMet
    );
    assert_eq!(
        evaluate(&fig(90.005, 50), Comparator::Gt, 90.0),
        TargetStatus::Met
    );
    assert_eq!(
        evaluate(&fig(90.0, 50), Comparator::Ge, 90.0),
        TargetStatus::Met
    );
    assert_eq!(TargetStatus::NotEnoughData.label_vi(), "Chưa đủ dữ liệu");
    // the set serialises with its comparator; bad sets are refused
    let json = serde_json::to_value(&set.targets[1]).unwrap();
    assert_eq!(
        json,
        json!({"scope": "field", "code": "dat_dai", "comparator": "ge", "threshold_pct": 85.0})
    );
    let bad = |targets: Vec<Target>| TargetSet { targets }.validate().unwrap_err();
    let t = |pct| Target {
        scope: TargetScope::Overall,
        comparator: Comparator::Gt,
        threshold_pct: pct,
    };
    assert_eq!(bad(vec![t(101.0)]), TargetError::BadThreshold(101.0));
    assert_eq!(
        bad(vec![t(90.0), t(80.0)]),
        TargetError::DuplicateScope(TargetScope::Overall)
    );
}

fn units() -> UnitTree {
    UnitTree::from_json(
        &json!({"units": [
            {"code": "01", "name": "Tỉnh Một", "level": "province", "valid_from": "2020-01-01"},
            {"code": "02", "name": "Tỉnh Hai", "level": "province", "valid_from": "2020-01-01"},
            {"code": "00001", "name": "Xã A", "level": "commune", "parent_code": "01",
             "valid_from": "2020-01-01"},
            {"code": "00002", "name": "Xã B", "level": "commune", "parent_code": "01",
             "valid_from": "2020-01-01"},
            {"code": "00003", "name": "Xã C", "level": "commune", "parent_code": "02",
             "valid_from": "2020-01-01"}
        ]})
        .to_string(),
    )
    .unwrap()
}

#[test]
fn breakdown_by_province_pools_respondents_and_equals_the_engine() {
    // Communes 00001 (3 respondents, C1 satisfied by 2), 00002 (1, satisfied), 00003 (2, 0),
    // unit 99999 not in the tree. Province 01 = communes 00001 + 00002: C1 3/4 = 75%.
    let rows: Vec<(&str, Answers)> = vec![
        ("00001", answers(0, &all(2))),
        ("00001", answers(1, &all(2))),
        ("00001", answers(2, &all(2))),
        ("00002", answers(0, &all(1))),
        ("00003", answers(0, &all(0))),
        ("00003", answers(1, &all(0))),
        ("99999", answers(0, &all(1))),
    ];
    let tree = units();
    let dim = Dimension::Unit {
        tree: &tree,
        level: UnitLevel::Province,
        on: "2026-06-01".parse().unwrap(),
    };
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        dim,
        1,
        rows.iter().map(|(u, a)| BreakdownInput {
            round_id: "R",
            unit_code: u,
            agency_code: None,
            agency_kind: None,
            field_code: None,
            answers: a,
        }),
    )
    .unwrap();
    let keys: Vec<_> = b
        .cells
        .iter()
        .map(|c| (c.key.as_str(), c.label.as_deref()))
        .collect();
    assert_eq!(keys, [("01", Some("Tỉnh Một")), ("02", Some("Tỉnh Hai"))]);
    assert_eq!(b.unmapped, ["99999"]);
    let p1 = b.cell("R", "01").unwrap();
    assert_eq!(p1.respondents, 4);
    let c1 = p1.figure(Criterion, "C1").unwrap();
    assert_eq!((c1.n, c1.satisfied_n), (4, Some(3)));
    near(c1.pct_satisfied, 75.0, EPS);
    // the round total has all 7 respondents (the unmapped one included)
    assert_eq!(b.total("R").unwrap().respondents, 7);
    // No drift: the figures equal those read straight off the engine's own roll-up.
    let engine = compute_index_inputs(
        &v1(),
        rows.iter().map(|(u, a)| IndexInput {
            round_id: "R",
            unit_code: u,
            answers: a,
        }),
        IndexConfig::default(),
    )
    .unwrap();
    let direct = sipas_core::index::IndexAccumulator::new(&v1(), IndexConfig::default())
        .map(|mut acc| {
            for (u, a) in &rows {
                acc.add(IndexInput {
                    round_id: "R",
                    unit_code: u,
                    answers: a,
                });
            }
            acc.report_rolled_up(|u| {
                tree.ancestor_at_level(u, UnitLevel::Province, "2026-06-01".parse().unwrap())
                    .map(|x| x.code.clone())
            })
        })
        .unwrap();
    assert_eq!(p1.figures, figures(direct.cell("R", "01").unwrap(), 1));
    assert_eq!(
        b.total("R").unwrap().figures,
        figures(engine.round_total("R").unwrap(), 1)
    );
}

#[test]
fn breakdown_by_profile_items_and_age_band() {
    let mk = |sex: Option<&str>, age: Option<i64>, sat: bool| {
        let mut a = answers(if sat { 0 } else { 1 }, &all(1));
        if let Some(s) = sex {
            a.insert("A1".into(), AnswerValue::Text(s.into()));
        }
        if let Some(x) = age {
            a.insert("A2".into(), AnswerValue::Int(x));
        }
        a
    };
    // nam: 2 respondents, 1 satisfied → 50%; nu: 1, satisfied → 100%; 1 without A1.
    // Ages 18 → 18-24; 30 → 25-34; 60 → 50-60; 17 → no band → missing.
    let rows = [
        mk(Some("nam"), Some(18), true),
        mk(Some("nam"), Some(60), false),
        mk(Some("nu"), Some(30), true),
        mk(None, Some(17), true),
    ];
    let input = |a| BreakdownInput {
        round_id: "R",
        unit_code: "00001",
        agency_code: None,
        agency_kind: None,
        field_code: None,
        answers: a,
    };
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::Profile { item: "A1" },
        1,
        rows.iter().map(input),
    )
    .unwrap();
    let got: Vec<_> = b
        .cells
        .iter()
        .map(|c| {
            (
                c.key.as_str(),
                c.label.as_deref(),
                c.respondents,
                c.figure(Overall, "").unwrap().pct_satisfied,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                MISSING_KEY,
                Some("Không rõ / không trả lời"),
                1,
                Some(100.0)
            ),
            ("nam", Some("Nam"), 2, Some(50.0)),
            ("nu", Some("Nữ"), 1, Some(100.0)),
        ]
    );
    let bands = default_age_bands();
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::AgeBand {
            item: "A2",
            bands: &bands,
        },
        1,
        rows.iter().map(input),
    )
    .unwrap();
    let keys: Vec<_> = b
        .cells
        .iter()
        .map(|c| (c.key.as_str(), c.respondents))
        .collect();
    assert_eq!(
        keys,
        [("18-24", 1), ("25-34", 1), ("50-60", 1), (MISSING_KEY, 1)]
    );
    assert_eq!(
        b.cell("R", "50-60").unwrap().label.as_deref(),
        Some("50–60 tuổi")
    );
    // Missing agency → the missing cell.
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::Agency,
        1,
        rows.iter().map(input),
    )
    .unwrap();
    assert_eq!(b.cells.len(), 1);
    assert_eq!(
        (b.cells[0].key.as_str(), b.cells[0].respondents),
        (MISSING_KEY, 4)
    );
    // Bad dimensions.
    let err = |d: Dimension<'_>| {
        compute_breakdown(&v1(), IndexConfig::default(), d, 1, rows.iter().map(input)).unwrap_err()
    };
    assert_eq!(
        err(Dimension::Profile { item: "Z9" }),
        BreakdownError::UnknownItem("Z9".into())
    );
    assert!(matches!(
        err(Dimension::Profile { item: "E1" }),
        BreakdownError::UnsupportedItem { .. }
    ));
    assert!(matches!(
        err(Dimension::AgeBand {
            item: "A1",
            bands: &bands
        }),
        BreakdownError::UnsupportedItem { .. }
    ));
    let overlapping = [
        AgeBand {
            key: "a".into(),
            from: 18,
            to: Some(30),
            label_vi: "a".into(),
        },
        AgeBand {
            key: "b".into(),
            from: 30,
            to: None,
            label_vi: "b".into(),
        },
    ];
    assert_eq!(
        err(Dimension::AgeBand {
            item: "A2",
            bands: &overlapping
        }),
        BreakdownError::BadAgeBand("b".into())
    );
}

#[test]
fn group_suppression_uses_respondents_and_shows_that_n() {
    // 4 respondents answer all 3 criteria: pooled valid answers 12 ≥ 5, but only 4 people.
    // Under min N 5 the overall and both groups are suppressed and show N 4; criteria too.
    let rows: Vec<Answers> = (0..4).map(|i| answers(i, &all(4))).collect();
    let input = |a| BreakdownInput {
        round_id: "R",
        unit_code: "00001",
        agency_code: Some("a"),
        agency_kind: None,
        field_code: None,
        answers: a,
    };
    let b = compute_breakdown(
        &v1(),
        IndexConfig::default(),
        Dimension::Agency,
        5,
        rows.iter().map(input),
    )
    .unwrap();
    let f = &b.cell("R", "a").unwrap().figures;
    let brief: Vec<_> = f
        .iter()
        .map(|f| (f.code.as_str(), f.n, f.answers_n, f.suppressed))
        .collect();
    assert_eq!(
        brief,
        [
            ("overall", 4, 12, true),
            ("G1", 4, 8, true),
            ("C1", 4, 4, true),
            ("C2", 4, 4, true),
            ("G2", 4, 4, true),
            ("K1", 4, 4, true),
        ]
    );
    assert!(
        f.iter()
            .all(|f| f.pct_satisfied.is_none() && f.satisfied_n.is_none())
    );
}

#[test]
fn microdata_latest_counted_revision_codebook_and_no_contact_columns() {
    let form = v1();
    let id = |n: u128| uuid::Uuid::from_u128(n);
    let mut a1 = answers(0, &all(1));
    a1.insert("A1".into(), AnswerValue::Text("nu".into()));
    a1.insert("E1".into(), AnswerValue::Codes(vec!["y".into()]));
    a1.insert(
        "F1".into(),
        AnswerValue::Text("Gọi cho tôi, \"anh Ba\"".into()),
    );
    a1.insert("C2".into(), AnswerValue::Int(9));
    let a_old = answers(1, &all(1));
    let a2 = answers(1, &all(1));
    let input = |rid: u128, revision, counted, unit, answers| MicrodataInput {
        response_id: id(rid),
        revision,
        counted,
        round_id: "R",
        unit_code: unit,
        agency_code: Some("ag"),
        agency_kind: None,
        field_code: None,
        answers,
    };
    // r1: rev 1 then rev 2, both counted → rev 2 (a1) is the row.
    // r2: rev 1 counted, rev 2 rejected → no row (an earlier revision never stands in).
    // r3: only a voided rev 1 → no row. r4 (unit 00002): rev 1 counted → row.
    let mut builder = MicrodataBuilder::new();
    builder.add(input(1, 2, true, "00001", &a1));
    builder.add(input(1, 1, true, "00001", &a_old));
    builder.add(input(2, 1, true, "00001", &a2));
    builder.add(input(2, 2, false, "00001", &a2));
    builder.add(input(3, 1, false, "00001", &a2));
    builder.add(input(4, 1, true, "00002", &a2));
    let data = builder.build(&form, &MicrodataOptions::default());
    assert_eq!(data.rows.len(), 2);
    // row count = the index's respondents over the same selection
    let idx = compute_index_inputs(&form, builder.index_inputs(), IndexConfig::default()).unwrap();
    assert_eq!(idx.round_total("R").unwrap().respondents, data.rows.len());
    let cols: Vec<&str> = data.columns().collect();
    // keys, A1, A2, E1 as two 1/0 columns, C1, C2, K1; F1 (free text) left out by default
    let mut expected: Vec<&str> = KEY_COLUMNS.to_vec();
    expected.extend(["A1", "A2", "E1__x", "E1__y", "C1", "C2", "K1"]);
    assert_eq!(cols, expected);
    for bad in [
        "name",
        "ten",
        "phone",
        "dien_thoai",
        "address",
        "dia_chi",
        "contact",
        "F1",
    ] {
        assert!(
            !cols.iter().any(|c| c.to_lowercase().contains(bad)),
            "column like {bad}"
        );
    }
    let r1 = &data.rows[0];
    let cell = |row: &Vec<Option<String>>, col: &str| {
        row[cols.iter().position(|c| *c == col).unwrap()].clone()
    };
    assert_eq!(cell(r1, "response_id"), Some(id(1).to_string()));
    assert_eq!(cell(r1, "revision").as_deref(), Some("2"));
    assert_eq!(cell(r1, "A1").as_deref(), Some("nu"));
    assert_eq!(
        (cell(r1, "E1__x").as_deref(), cell(r1, "E1__y").as_deref()),
        (Some("0"), Some("1"))
    );
    assert_eq!(cell(r1, "C1").as_deref(), Some("4"));
    assert_eq!(cell(r1, "C2").as_deref(), Some("9")); // no-answer code kept, declared missing
    assert_eq!(cell(r1, "A2"), None);
    assert_eq!(cell(&data.rows[1], "E1__x"), None); // unanswered multi-choice: empty, not 0
    // codebook
    let c2 = data.codebook.iter().find(|c| c.column == "C2").unwrap();
    assert_eq!(c2.question_vi, "Câu C2");
    assert_eq!(c2.missing_values, ["9"]);
    assert_eq!(c2.value_labels.len(), 6);
    let a1c = data.codebook.iter().find(|c| c.column == "A1").unwrap();
    assert_eq!(a1c.value_labels[1].label_vi, "Nữ");
    // with free text and units under 2 blanked: both units have 1 row → items blank
    let opts = MicrodataOptions {
        include_free_text: true,
        blank_units_below: Some(2),
    };
    let wide = builder.build(&form, &opts);
    assert!(wide.columns().any(|c| c == "F1"));
    let n_keys = KEY_COLUMNS.len();
    assert!(
        wide.rows
            .iter()
            .all(|r| r[n_keys..].iter().all(Option::is_none))
    );
    assert!(wide.rows.iter().all(|r| r[3].is_some())); // unit code kept
    // CSV: BOM, header + 2 rows
    let csv = to_csv(&builder.build(
        &form,
        &MicrodataOptions {
            include_free_text: true,
            ..Default::default()
        },
    ));
    let lines: Vec<&str> = csv.trim_start_matches('\u{FEFF}').split("\r\n").collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("response_id,revision,round_id,unit_code,"));
    assert!(lines[1].contains("\"Gọi cho tôi, \"\"anh Ba\"\"\""));
    // SPSS syntax
    let sps = spss_syntax(&data, "vi du.csv");
    assert!(sps.contains("/FILE='vi du.csv'"));
    assert!(sps.contains("    response_id A36\n"));
    assert!(sps.contains("    A1 A3\n")); // longest of nam / nu / data
    assert!(sps.contains("    C1 F8.0\n"));
    assert!(sps.contains("VARIABLE LABELS\n  response_id 'Mã phiếu trả lời'\n"));
    assert!(sps.contains("  /E1__y 'Mong muốn ''ưu tiên'': Y'\n")); // quotes doubled
    assert!(sps.contains("VALUE LABELS\n  A1 'nam' 'Nam' 'nu' 'Nữ'\n"));
    assert!(
        sps.contains("  /C1 1 'Mức 1' 2 'Mức 2' 3 'Mức 3' 4 'Mức 4' 5 'Mức 5' 9 'Không trả lời'\n")
    );
    assert!(sps.contains("MISSING VALUES C2 (9).\n"));
    assert!(sps.ends_with("EXECUTE.\n"));
}

#[test]
fn builtin_forms_profile_dimensions_and_microdata() {
    use sipas_core::builtin::builtin_form;
    let six = builtin_form("sipas-6-groups", "2026.1").unwrap();
    let national = builtin_form("sipas-national-2023", "2023.1").unwrap();
    let mut a: Answers = answers(0, &[("G1_1", 1), ("G6_1", 1)]);
    a.insert("A1".into(), AnswerValue::Text("nu".into()));
    a.insert("A2".into(), AnswerValue::Int(40));
    a.insert("A4".into(), AnswerValue::Text("dai_hoc".into()));
    a.insert(
        "B4".into(),
        AnswerValue::Text("truc_tuyen_toan_trinh".into()),
    );
    a.insert(
        "F1".into(),
        AnswerValue::Text("Số điện thoại của tôi: 0900000000".into()),
    );
    let input = BreakdownInput {
        round_id: "R",
        unit_code: "00004",
        agency_code: None,
        agency_kind: None,
        field_code: None,
        answers: &a,
    };
    // sex, education, mode of contact: the profile / screening items of the 2026 form
    for (item, key, label) in [
        ("A1", "nu", "Nữ"),
        ("A4", "dai_hoc", "Đại học"),
        ("B4", "truc_tuyen_toan_trinh", "Trực tuyến toàn trình"),
    ] {
        let b = compute_breakdown(
            &six,
            IndexConfig::default(),
            Dimension::Profile { item },
            1,
            [input],
        )
        .unwrap();
        assert_eq!(b.cells[0].key, key);
        assert!(
            b.cells[0].label.as_deref().unwrap().starts_with(label),
            "{item}"
        );
    }
    // the results page offers exactly these profile breakdowns of the 2026 form
    let offered: Vec<&str> = sipas_core::breakdown::profile_breakdown_items(&six)
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(
        offered,
        ["A1", "A2", "A3", "A4", "A5", "A6", "B3", "B4", "B6", "B8"]
    );
    let bands = default_age_bands();
    let b = compute_breakdown(
        &six,
        IndexConfig::default(),
        Dimension::AgeBand {
            item: "A2",
            bands: &bands,
        },
        1,
        [input],
    )
    .unwrap();
    assert_eq!(b.cells[0].key, "35-49");
    // the 2023 national form has the same profile items
    assert!(
        compute_breakdown(
            &national,
            IndexConfig::default(),
            Dimension::Profile { item: "A1" },
            1,
            [input],
        )
        .is_ok()
    );
    // microdata of the real form: no free-text column (B1, B2, F1, *_other) by default, so
    // the phone number typed into F1 is not exported
    let mut builder = MicrodataBuilder::new();
    builder.add(MicrodataInput {
        response_id: uuid::Uuid::from_u128(7),
        revision: 1,
        counted: true,
        round_id: "R",
        unit_code: "00004",
        agency_code: None,
        agency_kind: None,
        field_code: None,
        answers: &a,
    });
    let data = builder.build(&six, &MicrodataOptions::default());
    let cols: Vec<&str> = data.columns().collect();
    for text in ["B1", "B2", "F1", "A3_other", "A5_other"] {
        assert!(!cols.contains(&text), "{text}");
    }
    assert!(cols.contains(&"G6_1") && cols.contains(&"A4"));
    assert!(!to_csv(&data).contains("0900000000"));
}

/// The breakdown from counts (issue 14) equals the breakdown from the answers for every
/// dimension the counts can serve; profile items need the answers.
#[test]
fn breakdown_from_counts_equals_breakdown_from_answers() {
    use sipas_core::breakdown::{BreakdownCountRow, compute_breakdown_from_counts};
    use std::collections::BTreeMap;
    let rows: Vec<(&str, Option<&str>, Option<&str>, Answers)> = vec![
        ("00001", Some("A"), Some("F1"), answers(0, &all(2))),
        ("00001", Some("A"), None, answers(1, &all(2))),
        ("00001", Some("B"), Some("F1"), answers(2, &all(2))),
        ("00002", None, Some("F2"), answers(0, &all(1))),
        ("00003", Some("B"), Some("F2"), answers(0, &all(0))),
        ("00003", Some("A"), None, answers(1, &all(0))),
        ("99999", None, None, answers(0, &all(1))),
    ];
    let form = v1();
    let acc = sipas_core::index::IndexAccumulator::new(&form, IndexConfig::default()).unwrap();
    type Key<'a> = (&'a str, Option<&'a str>, Option<&'a str>, String, String);
    let mut counts: BTreeMap<Key<'_>, usize> = BTreeMap::new();
    for (u, a, f, ans) in &rows {
        for (item, outcome) in acc.count_keys(ans) {
            *counts.entry((*u, *a, *f, item, outcome)).or_default() += 1;
        }
    }
    let tree = units();
    let on = "2026-06-01".parse().unwrap();
    let kind = |a: Option<&'static str>| a.map(|a| if a == "A" { "ubnd_xa" } else { "y_te" });
    let dims = [
        Dimension::Unit {
            tree: &tree,
            level: UnitLevel::Province,
            on,
        },
        Dimension::Unit {
            tree: &tree,
            level: UnitLevel::Commune,
            on,
        },
        Dimension::Agency,
        Dimension::AgencyKind,
        Dimension::Field,
    ];
    for dim in dims {
        let from_answers = compute_breakdown(
            &form,
            IndexConfig::default(),
            dim,
            2,
            rows.iter().map(|(u, a, f, ans)| BreakdownInput {
                round_id: "R",
                unit_code: u,
                agency_code: *a,
                agency_kind: kind(*a),
                field_code: *f,
                answers: ans,
            }),
        )
        .unwrap();
        let count_rows = counts
            .iter()
            .map(|((u, a, f, item, outcome), n)| BreakdownCountRow {
                round_id: "R",
                unit_code: u,
                agency_code: *a,
                agency_kind: kind(*a),
                field_code: *f,
                mode: "capi",
                item,
                outcome,
                n: *n,
            });
        let from_counts =
            compute_breakdown_from_counts(&form, IndexConfig::default(), dim, 2, count_rows, None)
                .unwrap();
        assert_eq!(from_counts, from_answers, "{dim:?}");
        assert!(!from_counts.cells.is_empty());
    }
    assert_eq!(
        compute_breakdown_from_counts(
            &form,
            IndexConfig::default(),
            Dimension::Profile { item: "A1" },
            2,
            std::iter::empty(),
            None
        )
        .unwrap_err(),
        BreakdownError::NeedsAnswers
    );
}
