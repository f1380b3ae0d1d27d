//! Data-quality flags for supervisors, computed from a response's paradata and answers.
//!
//! Two checks (SIPAS.md §5.4, §8.3 \[I\]):
//!
//! * **Too fast** ([`QualityFlag::TooFast`]): the interview took less time than is plausible.
//!   The time is the sum of the per-item timings in [`Paradata::item_ms`]; when the app
//!   recorded no item timings at all, it is `completed_at − started_at` instead. The expected
//!   minimum is the larger of [`QualityConfig::min_total_seconds`] and
//!   [`QualityConfig::min_seconds_per_item`] × the number of answered items (relevant items
//!   with a non-blank answer, see [`crate::relevance`]).
//! * **Straight-lining** ([`QualityFlag::StraightLining`]): the same rating given to almost
//!   every criterion. Among the relevant criteria ([`Item::is_criterion`]) answered with a
//!   point of their scale (the no-answer code and off-scale values are left out), the most
//!   common value's share is at least [`QualityConfig::straightline_share`], and there are at
//!   least [`QualityConfig::straightline_min_items`] such answers.
//!
//! A flag is a prompt to look, never a verdict: a short form can be quick, and a very satisfied
//! respondent may honestly answer 5 throughout.
//!
//! [`Paradata::item_ms`]: crate::response::Paradata::item_ms
//! [`Item::is_criterion`]: crate::questionnaire::Item::is_criterion
use crate::answer::AnswerValue;
use crate::questionnaire::{ItemType, Questionnaire};
use crate::relevance::{relevant_items, value_is_answered};
use crate::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Thresholds of the quality checks.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QualityConfig {
    /// Minimum plausible seconds per answered item (default 2.0).
    pub min_seconds_per_item: f64,
    /// Minimum plausible seconds for a whole interview (default 120).
    pub min_total_seconds: u64,
    /// Straight-lining is only judged with at least this many valid criterion answers
    /// (default 8).
    pub straightline_min_items: usize,
    /// Share (0–1) of the most common criterion value from which a response is flagged as
    /// straight-lined (default 0.9).
    pub straightline_share: f64,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            min_seconds_per_item: 2.0,
            min_total_seconds: 120,
            straightline_min_items: 8,
            straightline_share: 0.9,
        }
    }
}

/// One quality concern about a response. JSON: internally tagged by `kind`, e.g.
/// `{"kind": "too_fast", "seconds": 45.0, "expected_min": 120.0}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QualityFlag {
    /// The interview took less time than the expected minimum.
    TooFast {
        /// Measured duration in seconds (item timings summed, else completed − started).
        seconds: f64,
        /// The expected minimum in seconds.
        expected_min: f64,
    },
    /// Nearly every criterion got the same rating.
    StraightLining {
        /// Share (0–1) of the valid criterion answers that have the most common value.
        share: f64,
        /// Number of valid criterion answers judged.
        items: usize,
        /// The most common value (the smallest one on a tie).
        value: i64,
    },
}

/// The quality flags of `response`, which must have been collected with `form`.
/// Returns an empty list when nothing looks wrong; otherwise `TooFast` comes before
/// `StraightLining`.
pub fn quality_flags(
    form: &Questionnaire,
    response: &Response,
    config: &QualityConfig,
) -> Vec<QualityFlag> {
    let relevant = relevant_items(form, &response.answers);
    let mut flags = Vec::new();

    // Too fast. Calculated values take the surveyor no time.
    let answered = relevant
        .iter()
        .filter(|(_, item)| item.item_type != ItemType::Calculate)
        .filter(|(_, item)| {
            response
                .answers
                .get(&item.code)
                .is_some_and(value_is_answered)
        })
        .count();
    let seconds = interview_seconds(response);
    let expected_min =
        (config.min_total_seconds as f64).max(config.min_seconds_per_item * answered as f64);
    if seconds < expected_min {
        flags.push(QualityFlag::TooFast {
            seconds,
            expected_min,
        });
    }

    // Straight-lining.
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for (group, item) in &relevant {
        if !item.is_criterion(group) {
            continue;
        }
        let Some(scale) = item.scale.as_ref().and_then(|s| form.scales.get(s)) else {
            continue;
        };
        if let Some(AnswerValue::Int(v)) = response.answers.get(&item.code)
            && scale.points.iter().any(|p| p.value == *v)
        {
            *counts.entry(*v).or_default() += 1;
        }
    }
    let items: usize = counts.values().sum();
    // The first maximum in ascending value order: ties go to the smallest value.
    let modal = counts
        .iter()
        .fold(None::<(i64, usize)>, |best, (&v, &n)| match best {
            Some((_, bn)) if bn >= n => best,
            _ => Some((v, n)),
        });
    if let Some((value, n)) = modal
        && items >= config.straightline_min_items
    {
        let share = n as f64 / items as f64;
        if share >= config.straightline_share {
            flags.push(QualityFlag::StraightLining {
                share,
                items,
                value,
            });
        }
    }
    flags
}

/// The interview's duration in seconds: the item timings summed, or, when there are none,
/// `completed_at − started_at` (0 if the clock went backwards).
fn interview_seconds(response: &Response) -> f64 {
    let ms: u64 = if response.paradata.item_ms.is_empty() {
        let d = response.completed_at - response.started_at;
        u64::try_from(d.num_milliseconds()).unwrap_or(0)
    } else {
        response.paradata.item_ms.values().sum()
    };
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answers;
    use crate::response::Paradata;
    use chrono::{DateTime, Duration, Utc};
    use serde_json::json;

    /// Profile: P1 (single choice), P2 (integer). Criteria group G with 10 criteria C1..C10
    /// on sat5 (1–5, no answer 9) plus a non-criterion rating NC. Group H (criteria) is shown
    /// only when P1 = "co" and holds H1, H2.
    fn form() -> Questionnaire {
        let points: Vec<_> = (1..=5)
            .map(|v| json!({"value": v, "label": {"vi": v.to_string()}}))
            .collect();
        let mut g_items: Vec<_> = (1..=10)
            .map(|i| {
                json!({"code": format!("C{i}"), "type": "rating", "scale": "sat5",
                            "label": {"vi": format!("Tiêu chí {i}")}})
            })
            .collect();
        g_items.push(json!({"code": "NC", "type": "rating", "scale": "sat5",
                            "label": {"vi": "Không phải tiêu chí"}, "criterion": false}));
        serde_json::from_value(json!({
            "format": 1, "form_id": "q", "version": "1", "title": {"vi": "Thử"},
            "scales": {"sat5": {"points": points, "satisfied_from": 4,
                                "no_answer": {"value": 9, "label": {"vi": "KTL"}}}},
            "groups": [
                {"code": "P", "kind": "profile", "title": {"vi": "Thông tin"}, "items": [
                    {"code": "P1", "type": "single_choice", "label": {"vi": "Có?"},
                     "options": [{"value": "co", "label": {"vi": "Có"}},
                                 {"value": "khong", "label": {"vi": "Không"}}]},
                    {"code": "P2", "type": "integer", "label": {"vi": "Tuổi"}}
                ]},
                {"code": "G", "kind": "criteria", "title": {"vi": "Nhóm G"}, "items": g_items},
                {"code": "H", "kind": "criteria", "title": {"vi": "Nhóm H"},
                 "relevant": {"item": "P1", "equals": "co"}, "items": [
                    {"code": "H1", "type": "rating", "scale": "sat5", "label": {"vi": "H1"}},
                    {"code": "H2", "type": "rating", "scale": "sat5", "label": {"vi": "H2"}}
                ]}
            ]
        }))
        .unwrap()
    }

    fn t0() -> DateTime<Utc> {
        "2026-11-20T08:00:00Z".parse().unwrap()
    }

    fn response(answers: Answers, seconds: i64, item_ms: &[(&str, u64)]) -> Response {
        Response {
            id: crate::response::new_id(),
            revision: 1,
            form: form().key(),
            assignment_id: None,
            round_id: "R".into(),
            unit_code: "U".into(),
            answers,
            started_at: t0(),
            completed_at: t0() + Duration::seconds(seconds),
            paradata: Paradata {
                item_ms: item_ms.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                gps: None,
            },
            origin: Default::default(),
        }
    }

    fn answers(v: serde_json::Value) -> Answers {
        serde_json::from_value(v).unwrap()
    }

    /// P1, P2 and C1..C10 answered with the given ratings (12 answered items).
    fn rated(ratings: [i64; 10]) -> Answers {
        let mut a = answers(json!({"P1": "khong", "P2": 40}));
        for (i, r) in ratings.iter().enumerate() {
            a.insert(format!("C{}", i + 1), AnswerValue::Int(*r));
        }
        a
    }

    const VARIED: [i64; 10] = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5];

    #[test]
    fn clean_response_has_no_flags() {
        let r = response(rated(VARIED), 600, &[]);
        assert_eq!(quality_flags(&form(), &r, &QualityConfig::default()), []);
    }

    #[test]
    fn too_fast_by_total_uses_wall_clock_without_item_timings() {
        // 12 answered items × 2 s = 24 s < 120 s, so the minimum is 120 s; took 119 s.
        let r = response(rated(VARIED), 119, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &QualityConfig::default()),
            [QualityFlag::TooFast {
                seconds: 119.0,
                expected_min: 120.0
            }]
        );
        // exactly 120 s is not too fast
        let r = response(rated(VARIED), 120, &[]);
        assert_eq!(quality_flags(&form(), &r, &QualityConfig::default()), []);
        // the clock going backwards counts as 0 s
        let r = response(rated(VARIED), -5, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &QualityConfig::default()),
            [QualityFlag::TooFast {
                seconds: 0.0,
                expected_min: 120.0
            }]
        );
    }

    #[test]
    fn item_timings_take_precedence_over_wall_clock() {
        // wall clock 1 hour, but item timings sum to 30 000 + 45 500 = 75.5 s < 120 s
        let r = response(rated(VARIED), 3600, &[("C1", 30_000), ("C2", 45_500)]);
        assert_eq!(
            quality_flags(&form(), &r, &QualityConfig::default()),
            [QualityFlag::TooFast {
                seconds: 75.5,
                expected_min: 120.0
            }]
        );
    }

    #[test]
    fn too_fast_per_item_when_that_minimum_is_larger() {
        // 12 answered items × 15 s = 180 s > 120 s; took 150 s → flagged, min 180.
        let config = QualityConfig {
            min_seconds_per_item: 15.0,
            ..QualityConfig::default()
        };
        let r = response(rated(VARIED), 150, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [QualityFlag::TooFast {
                seconds: 150.0,
                expected_min: 180.0
            }]
        );
        // A stale answer to the skipped group H does not count as answered: still 12 items.
        let mut a = rated(VARIED);
        a.insert("H1".into(), AnswerValue::Int(4)); // H not relevant (P1 = khong)
        let r = response(a, 150, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [QualityFlag::TooFast {
                seconds: 150.0,
                expected_min: 180.0
            }]
        );
        // With P1 = co, H1 becomes relevant and answered: 13 × 15 = 195.
        let mut a = rated(VARIED);
        a.insert("P1".into(), AnswerValue::Text("co".into()));
        a.insert("H1".into(), AnswerValue::Int(4));
        let r = response(a, 150, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [QualityFlag::TooFast {
                seconds: 150.0,
                expected_min: 195.0
            }]
        );
    }

    #[test]
    fn straight_lining_share_and_minimum_items() {
        let config = QualityConfig::default();
        // 9 of 10 are 5 → share 0.9 ≥ 0.9 → flagged
        let r = response(rated([5, 5, 5, 5, 5, 5, 5, 5, 5, 4]), 600, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [QualityFlag::StraightLining {
                share: 0.9,
                items: 10,
                value: 5
            }]
        );
        // 8 of 10 → 0.8 < 0.9 → not flagged
        let r = response(rated([5, 5, 5, 5, 5, 5, 5, 5, 4, 4]), 600, &[]);
        assert_eq!(quality_flags(&form(), &r, &config), []);
        // all 3s but only 7 valid answers (three are the no-answer code 9 or off-scale 0)
        // → below the 8-item minimum → not flagged
        let r = response(rated([3, 3, 3, 3, 3, 3, 3, 9, 9, 0]), 600, &[]);
        assert_eq!(quality_flags(&form(), &r, &config), []);
        // 8 valid 3s (two no-answers) → share 1.0, items 8 → flagged
        let r = response(rated([3, 3, 3, 3, 3, 3, 3, 3, 9, 9]), 600, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [QualityFlag::StraightLining {
                share: 1.0,
                items: 8,
                value: 3
            }]
        );
    }

    #[test]
    fn straight_lining_ignores_non_criteria_and_skipped_items() {
        let config = QualityConfig::default();
        // 7 criteria at 4; the non-criterion NC and the stale (skipped) H1, H2 are also 4 but
        // must not count → 7 items < 8 → not flagged.
        let mut a = rated([4, 4, 4, 4, 4, 4, 4, 9, 9, 9]);
        for code in ["NC", "H1", "H2"] {
            a.insert(code.into(), AnswerValue::Int(4));
        }
        let r = response(a.clone(), 600, &[]);
        assert_eq!(quality_flags(&form(), &r, &config), []);
        // Once H is relevant (P1 = co), H1 and H2 count: 9 items, all 4 → flagged.
        a.insert("P1".into(), AnswerValue::Text("co".into()));
        let r = response(a, 600, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [QualityFlag::StraightLining {
                share: 1.0,
                items: 9,
                value: 4
            }]
        );
    }

    #[test]
    fn tie_goes_to_smallest_value_and_both_flags_together() {
        // 5 × 2 and 5 × 4: share 0.5; with a 0.5 threshold the tie reports value 2.
        let config = QualityConfig {
            straightline_share: 0.5,
            ..QualityConfig::default()
        };
        let r = response(rated([4, 2, 4, 2, 4, 2, 4, 2, 4, 2]), 30, &[]);
        assert_eq!(
            quality_flags(&form(), &r, &config),
            [
                QualityFlag::TooFast {
                    seconds: 30.0,
                    expected_min: 120.0
                },
                QualityFlag::StraightLining {
                    share: 0.5,
                    items: 10,
                    value: 2
                }
            ]
        );
    }

    #[test]
    fn builtin_form_all_fives_in_a_minute() {
        let form = crate::builtin::builtin_form("sipas-6-groups", "2026.1").unwrap();
        // 6-group form: B8 = "khong" skips G5 (4 criteria); G1..G4 + G6 = 5 + 4 + 5 + 4 + 1
        // = 19 criteria, all answered 5. Answered items: A1, A2, B8 + 19 = 22 → 44 s < 120 s.
        let mut a = answers(json!({"A1": "nam", "A2": 45, "B8": "khong"}));
        for (g, n) in [("G1", 5), ("G2", 4), ("G3", 5), ("G4", 4), ("G6", 1)] {
            for i in 1..=n {
                a.insert(format!("{g}_{i}"), AnswerValue::Int(5));
            }
        }
        let mut r = response(a, 60, &[]);
        r.form = form.key();
        assert_eq!(
            quality_flags(&form, &r, &QualityConfig::default()),
            [
                QualityFlag::TooFast {
                    seconds: 60.0,
                    expected_min: 120.0
                },
                QualityFlag::StraightLining {
                    share: 1.0,
                    items: 19,
                    value: 5
                }
            ]
        );
    }

    #[test]
    fn serialises_snake_case_tagged() {
        let f = QualityFlag::TooFast {
            seconds: 45.0,
            expected_min: 120.0,
        };
        assert_eq!(
            serde_json::to_value(f).unwrap(),
            json!({"kind": "too_fast", "seconds": 45.0, "expected_min": 120.0})
        );
        let s = QualityFlag::StraightLining {
            share: 1.0,
            items: 8,
            value: 5,
        };
        let v = serde_json::to_value(s).unwrap();
        assert_eq!(v["kind"], "straight_lining");
        assert_eq!(serde_json::from_value::<QualityFlag>(v).unwrap(), s);
        let c: QualityConfig = serde_json::from_str(r#"{"min_total_seconds": 300}"#).unwrap();
        assert_eq!(c.min_total_seconds, 300);
        assert_eq!(c.straightline_min_items, 8);
    }
}
