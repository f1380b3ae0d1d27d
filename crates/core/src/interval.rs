//! Sampling noise of a % satisfied: the 95% Wilson score interval and the two-proportion
//! z-test used to flag a change between rounds.
//!
//! # Which N
//!
//! A criterion's % satisfied is a proportion of its valid answers, so its interval uses
//! `p̂ = satisfied / valid` and `n = valid N`. A group or overall value is (under
//! [`crate::index::Aggregation::MeanOfCriteria`]) a mean of proportions, and the answers of one
//! respondent to several criteria are not independent; its interval uses the reported value
//! as `p̂` and, as `n`, the respondents with at least one valid answer to its criteria
//! ([`crate::index::AggregateScore::respondents_n`], the same N the suppression rule uses).
//! Counting each respondent once rather than each answer keeps the interval from looking
//! narrower than the data allow. The sample is treated as a simple random sample (no design
//! effect or weights).
use serde::{Deserialize, Serialize};

/// The two-sided 95% normal quantile (z₀.₉₇₅).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// Vietnamese method note for outputs.
pub const METHOD_NOTE_VI: &str = "Khoảng tin cậy 95% của tỷ lệ hài lòng: khoảng Wilson; \
    thay đổi so với kỳ trước có ý nghĩa thống kê khi kiểm định z hai tỷ lệ ở mức 95% bác bỏ \
    giả thuyết không thay đổi. Với nhóm và chỉ số chung, N là số người có ít nhất một câu trả \
    lời hợp lệ.";

/// English method note for outputs.
pub const METHOD_NOTE_EN: &str = "95% confidence interval of % satisfied: Wilson score \
    interval; a change from the earlier round is significant when a two-proportion z-test at \
    95% rejects no change. For groups and the overall index N is the number of respondents \
    with at least one valid answer.";

/// A confidence interval of a % satisfied, in percent (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound, %.
    pub lower: f64,
    /// Upper bound, %.
    pub upper: f64,
}

impl Interval {
    /// Whether the two intervals share at least one point.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.lower <= other.upper && other.lower <= self.upper
    }
}

/// The 95% Wilson score interval of a proportion `pct` (in %, 0–100) observed over `n`
/// units; `None` when `n` is 0 or `pct` is not a finite value in 0–100.
///
/// With `p̂ = pct / 100` and `z = 1.96`:
/// `(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`.
pub fn wilson_95(pct: f64, n: usize) -> Option<Interval> {
    wilson(pct, n, Z_95)
}

/// The Wilson score interval for any normal quantile `z` (see [`wilson_95`]).
pub fn wilson(pct: f64, n: usize, z: f64) -> Option<Interval> {
    if n == 0 || !pct.is_finite() || !(0.0..=100.0).contains(&pct) {
        return None;
    }
    let p = pct / 100.0;
    let n = n as f64;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        lower: 100.0 * (centre - half).max(0.0),
        upper: 100.0 * (centre + half).min(1.0),
    })
}

/// The result of a two-proportion z-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZTest {
    /// `(p₂ − p₁) / SE`, positive when the later proportion is higher.
    pub z: f64,
    /// `|z| > 1.96`: the change is larger than sampling noise explains at 95%.
    pub significant: bool,
}

/// Two-proportion z-test (pooled standard error) of `pct1` over `n1` against `pct2` over
/// `n2` (percentages 0–100): `p = (p₁n₁ + p₂n₂)/(n₁ + n₂)`,
/// `SE = √(p(1−p)(1/n₁ + 1/n₂))`, `z = (p₂ − p₁)/SE`. `None` when an N is 0 or a value is
/// out of range. When `SE` is 0 (both 0% or both 100%) the proportions are equal: `z = 0`.
pub fn two_proportion_z(pct1: f64, n1: usize, pct2: f64, n2: usize) -> Option<ZTest> {
    let ok = |p: f64| p.is_finite() && (0.0..=100.0).contains(&p);
    if n1 == 0 || n2 == 0 || !ok(pct1) || !ok(pct2) {
        return None;
    }
    let (p1, p2) = (pct1 / 100.0, pct2 / 100.0);
    let (a, b) = (n1 as f64, n2 as f64);
    let pooled = (p1 * a + p2 * b) / (a + b);
    let se = (pooled * (1.0 - pooled) * (1.0 / a + 1.0 / b)).sqrt();
    let z = if se > 0.0 { (p2 - p1) / se } else { 0.0 };
    Some(ZTest {
        z,
        significant: z.abs() > Z_95,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64, eps: f64) {
        assert!((a - b).abs() < eps, "expected {b}, got {a}");
    }

    /// 8/10, z² = 3.841459: denominator 1 + 0.384146 = 1.384146;
    /// centre (0.8 + 0.192073) / 1.384146 = 0.716740;
    /// half 1.959964 / 1.384146 × √(0.016 + 0.009604) = 1.416010 × 0.160012 = 0.226579;
    /// → [0.490161, 0.943319], the textbook [0.490, 0.943].
    #[test]
    fn wilson_eight_of_ten() {
        let i = wilson_95(80.0, 10).unwrap();
        near(i.lower, 49.016, 0.001);
        near(i.upper, 94.332, 0.001);
    }

    /// 0/10: centre = half = 0.192073 / 1.384146 = 0.138766 → [0, 27.75%] (not [0, 0]).
    /// 10/10 mirrors it: [72.25%, 100%].
    #[test]
    fn wilson_edges_and_bad_input() {
        let i = wilson_95(0.0, 10).unwrap();
        near(i.lower, 0.0, 1e-9);
        near(i.upper, 27.753, 0.001);
        let i = wilson_95(100.0, 10).unwrap();
        near(i.lower, 72.247, 0.001);
        near(i.upper, 100.0, 1e-9);
        assert_eq!(wilson_95(50.0, 0), None);
        assert_eq!(wilson_95(100.5, 10), None);
        assert_eq!(wilson_95(f64::NAN, 10), None);
    }

    /// 80/100 → 65/100: pooled p = 145/200 = 0.725; SE = √(0.725 × 0.275 × 0.02)
    /// = √0.0039875 = 0.063147; z = −0.15 / 0.063147 = −2.3754 → significant.
    /// 8/10 → 6/10: pooled 0.7; SE = √(0.21 × 0.2) = 0.204939; z = −0.9759 → not.
    #[test]
    fn z_test_significant_and_not() {
        let t = two_proportion_z(80.0, 100, 65.0, 100).unwrap();
        near(t.z, -2.3754, 0.0001);
        assert!(t.significant);
        let t = two_proportion_z(80.0, 10, 60.0, 10).unwrap();
        near(t.z, -0.9759, 0.0001);
        assert!(!t.significant);
        let t = two_proportion_z(100.0, 10, 100.0, 30).unwrap();
        assert_eq!((t.z, t.significant), (0.0, false));
        assert_eq!(two_proportion_z(50.0, 0, 60.0, 10), None);
        assert_eq!(two_proportion_z(-1.0, 10, 60.0, 10), None);
    }

    #[test]
    fn overlap() {
        let a = Interval {
            lower: 40.0,
            upper: 60.0,
        };
        assert!(a.overlaps(&Interval {
            lower: 60.0,
            upper: 70.0
        }));
        assert!(!a.overlaps(&Interval {
            lower: 60.1,
            upper: 70.0
        }));
    }
}
