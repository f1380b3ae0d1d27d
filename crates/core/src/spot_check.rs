//! Seeded selection of collected responses for phúc tra (re-check visits by Fatherland Front
//! and Veterans' Association monitors, SIPAS.md §5.2, §8.3).
//!
//! For each surveyor with `count` candidate responses, `n = max(min_per_surveyor,
//! ceil(rate × count))`, capped at `count`, are drawn **without replacement**, each draw
//! picking a remaining response with probability proportional to its weight
//! ([`SpotCheckConfig::flag_weight`] for a flagged response, 1 otherwise).
//!
//! The draw is reproducible and auditable: it uses a SplitMix64 generator implemented here,
//! seeded per surveyor with `seed ^ mix(surveyor id)`, over the surveyor's candidates sorted by
//! response id, and only IEEE-754 additions, multiplications and comparisons (no `powf`, no
//! platform hashers). The same seed and the same set of candidates therefore select the same
//! responses on every platform, whatever order the candidates are passed in. Publish the seed
//! after the draw so monitors can re-run it.
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Parameters of a spot-check draw.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpotCheckConfig {
    /// Share (0–1) of each surveyor's responses to re-check (default 0.10).
    pub rate: f64,
    /// At least this many per surveyor (default 1), if the surveyor has that many.
    pub min_per_surveyor: usize,
    /// How many times as likely a flagged response is to be drawn as an unflagged one
    /// (default 3.0; must be finite and > 0; 1.0 = plain random sampling).
    pub flag_weight: f64,
    /// Seed of the draw (default 0). Same seed + same candidates = same selection.
    pub seed: u64,
}

impl Default for SpotCheckConfig {
    fn default() -> Self {
        SpotCheckConfig {
            rate: 0.10,
            min_per_surveyor: 1,
            flag_weight: 3.0,
            seed: 0,
        }
    }
}

/// A response that may be drawn for re-checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The response.
    pub response_id: Uuid,
    /// The surveyor who collected it.
    pub surveyor_id: Uuid,
    /// Whether it carries a quality flag (see [`crate::quality`]); flagged responses are
    /// [`SpotCheckConfig::flag_weight`] times as likely to be drawn.
    pub flagged: bool,
}

/// Why a draw could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpotCheckError {
    /// The rate is not a number in 0–1.
    #[error("spot-check rate {0} is not between 0 and 1")]
    InvalidRate(f64),
    /// The flag weight is not a finite number above 0.
    #[error("flag weight {0} is not a finite number above 0")]
    InvalidFlagWeight(f64),
    /// The same response is listed more than once.
    #[error("response {0} is listed more than once")]
    DuplicateResponse(Uuid),
}

/// How many of `count` responses are drawn: `max(min, ceil(rate × count))`, capped at `count`.
///
/// `rate × count` is rounded up with a tolerance of 1e-9 relative, so that 10% of 70 is 7 even
/// though `0.1 × 70.0` is `7.000000000000001` in binary floating point.
pub fn sample_size(count: usize, rate: f64, min_per_surveyor: usize) -> usize {
    let x = rate * count as f64;
    let by_rate = (x - 1e-9 * x.max(1.0)).ceil().max(0.0) as usize;
    by_rate.max(min_per_surveyor).min(count)
}

/// Draws the responses to re-check. Returns their ids sorted ascending.
///
/// Candidates are grouped by surveyor; each surveyor's sample is drawn independently (see the
/// module documentation), so adding or removing another surveyor's responses does not change
/// this surveyor's selection.
pub fn select_for_spot_check(
    candidates: &[Candidate],
    config: &SpotCheckConfig,
) -> Result<Vec<Uuid>, SpotCheckError> {
    if !(0.0..=1.0).contains(&config.rate) {
        return Err(SpotCheckError::InvalidRate(config.rate));
    }
    if !(config.flag_weight.is_finite() && config.flag_weight > 0.0) {
        return Err(SpotCheckError::InvalidFlagWeight(config.flag_weight));
    }
    // Surveyor → (response id → flagged), both sorted: the input order is forgotten here.
    let mut by_surveyor: BTreeMap<Uuid, BTreeMap<Uuid, bool>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for c in candidates {
        if !seen.insert(c.response_id) {
            return Err(SpotCheckError::DuplicateResponse(c.response_id));
        }
        by_surveyor
            .entry(c.surveyor_id)
            .or_default()
            .insert(c.response_id, c.flagged);
    }
    let mut selected = Vec::new();
    for (surveyor, responses) in &by_surveyor {
        let mut pool: Vec<(Uuid, f64)> = responses
            .iter()
            .map(|(&id, &flagged)| (id, if flagged { config.flag_weight } else { 1.0 }))
            .collect();
        let n = sample_size(pool.len(), config.rate, config.min_per_surveyor);
        let mut rng = SplitMix64::new(config.seed ^ uuid_mix(surveyor));
        for _ in 0..n {
            let total: f64 = pool.iter().map(|(_, w)| w).sum();
            let target = rng.next_f64() * total;
            let mut acc = 0.0;
            // Rounding can leave `target` at or past the last running sum: take the last one.
            let mut pick = pool.len() - 1;
            for (i, (_, w)) in pool.iter().enumerate() {
                acc += w;
                if target < acc {
                    pick = i;
                    break;
                }
            }
            selected.push(pool.remove(pick).0);
        }
    }
    selected.sort_unstable();
    Ok(selected)
}

/// The SplitMix64 output function (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A platform-independent 64-bit hash of a UUID (its 16 bytes, big-endian halves, mixed).
fn uuid_mix(id: &Uuid) -> u64 {
    let (hi, lo) = id.as_u64_pair();
    mix64(hi ^ mix64(lo))
}

/// SplitMix64: a tiny, well-tested generator with a 64-bit state; identical everywhere.
#[derive(Debug, Clone)]
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Uniform in [0, 1) with 53 random bits.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// `count` candidates of surveyor `s`: response ids `s·1000 + 1 ..= s·1000 + count`,
    /// the first `flagged` of them flagged.
    fn batch(s: u128, count: u128, flagged: u128) -> Vec<Candidate> {
        (1..=count)
            .map(|i| Candidate {
                response_id: id(s * 1000 + i),
                surveyor_id: id(s),
                flagged: i <= flagged,
            })
            .collect()
    }

    fn of_surveyor(selected: &[Uuid], s: u128) -> usize {
        selected.iter().filter(|r| r.as_u128() / 1000 == s).count()
    }

    #[test]
    fn splitmix64_reference_values() {
        // Reference outputs of SplitMix64 seeded with 0 (as in Vigna's splitmix64.c); pins the
        // generator so a refactor cannot silently change published draws.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
        // The top 53 bits of the first output over 2^53: 0xE220A839… / 2^64 ≈ 0.8833.
        let x = SplitMix64::new(0).next_f64();
        assert_eq!(x, (0xE220_A839_7B1D_CDAFu64 >> 11) as f64 / 2f64.powi(53));
        assert!((0.883..0.884).contains(&x));
    }

    #[test]
    fn sample_sizes() {
        assert_eq!(sample_size(25, 0.10, 1), 3); // ceil(2.5)
        assert_eq!(sample_size(5, 0.10, 1), 1); // ceil(0.5)
        assert_eq!(sample_size(20, 0.10, 1), 2); // exactly 2
        assert_eq!(sample_size(70, 0.10, 1), 7); // 0.1 × 70 = 7.000000000000001 in f64
        assert_eq!(sample_size(71, 0.10, 1), 8); // ceil(7.1)
        assert_eq!(sample_size(3, 0.0, 1), 1); // rate 0 → minimum
        assert_eq!(sample_size(3, 0.0, 0), 0);
        assert_eq!(sample_size(2, 0.10, 5), 2); // capped at count
        assert_eq!(sample_size(0, 0.10, 1), 0);
        assert_eq!(sample_size(7, 1.0, 1), 7);
    }

    #[test]
    fn counts_per_surveyor() {
        let mut cs = batch(1, 25, 0);
        cs.extend(batch(2, 5, 0));
        cs.extend(batch(3, 1, 0));
        let sel = select_for_spot_check(&cs, &SpotCheckConfig::default()).unwrap();
        assert_eq!(of_surveyor(&sel, 1), 3);
        assert_eq!(of_surveyor(&sel, 2), 1);
        assert_eq!(of_surveyor(&sel, 3), 1);
        assert_eq!(sel.len(), 5);
        // sorted, distinct, all from the input
        assert!(sel.windows(2).all(|w| w[0] < w[1]));
        assert!(sel.iter().all(|r| cs.iter().any(|c| c.response_id == *r)));
    }

    #[test]
    fn rate_zero_still_applies_minimum() {
        let mut cs = batch(1, 25, 0);
        cs.extend(batch(2, 5, 2));
        let config = SpotCheckConfig {
            rate: 0.0,
            min_per_surveyor: 2,
            ..SpotCheckConfig::default()
        };
        let sel = select_for_spot_check(&cs, &config).unwrap();
        assert_eq!((of_surveyor(&sel, 1), of_surveyor(&sel, 2)), (2, 2));
        let none = SpotCheckConfig {
            rate: 0.0,
            min_per_surveyor: 0,
            ..SpotCheckConfig::default()
        };
        assert!(select_for_spot_check(&cs, &none).unwrap().is_empty());
    }

    #[test]
    fn empty_input() {
        let none = select_for_spot_check(&[], &SpotCheckConfig::default()).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn deterministic_and_order_independent() {
        let mut cs = batch(1, 40, 6);
        cs.extend(batch(2, 17, 3));
        cs.extend(batch(3, 9, 0));
        let config = SpotCheckConfig {
            seed: 20_261_120,
            ..SpotCheckConfig::default()
        };
        let a = select_for_spot_check(&cs, &config).unwrap();
        assert_eq!(a, select_for_spot_check(&cs, &config).unwrap());
        // reversed and interleaved orders give the same draw
        let mut rev = cs.clone();
        rev.reverse();
        assert_eq!(a, select_for_spot_check(&rev, &config).unwrap());
        let mut shuffled = cs.clone();
        // a fixed permutation: stride 7 through 66 elements (gcd(7, 66) = 1)
        shuffled = (0..shuffled.len())
            .map(|i| shuffled[(i * 7) % shuffled.len()])
            .collect();
        assert_ne!(shuffled, cs);
        assert_eq!(a, select_for_spot_check(&shuffled, &config).unwrap());
        // one surveyor's draw does not depend on the others being present
        let only2: Vec<_> = cs
            .iter()
            .copied()
            .filter(|c| c.surveyor_id == id(2))
            .collect();
        let a2: Vec<_> = a
            .iter()
            .copied()
            .filter(|r| r.as_u128() / 1000 == 2)
            .collect();
        assert_eq!(select_for_spot_check(&only2, &config).unwrap(), a2);
        // 4 + 2 + 1 = 7 drawn; another seed draws a different set
        assert_eq!(a.len(), 7);
        let other = (1..=20u64)
            .map(|seed| select_for_spot_check(&cs, &SpotCheckConfig { seed, ..config }).unwrap())
            .filter(|s| *s != a)
            .count();
        assert!(other >= 19, "seeds barely matter: {other}");
    }

    #[test]
    fn very_heavy_flags_are_drawn_first() {
        // 3 flagged of 25 → n = 3. With weight 1e12, any unflagged pick has probability
        // below 22/1e12 per draw: the three flagged ones are selected.
        let cs = batch(1, 25, 3);
        let config = SpotCheckConfig {
            flag_weight: 1e12,
            seed: 7,
            ..SpotCheckConfig::default()
        };
        assert_eq!(
            select_for_spot_check(&cs, &config).unwrap(),
            [id(1001), id(1002), id(1003)]
        );
    }

    /// One surveyor, 20 responses of which 4 flagged (weight 3): n = 2, total weight 28.
    ///
    /// P(a given flagged one drawn) = 3/28 (first) + 3·(3/28)·(3/25) + 16·(1/28)·(3/27)
    ///                              = 3/28 + 27/700 + 4/63 = 0.209206…
    /// P(a given unflagged one)     = 1/28 + 4·(3/28)·(1/25) + 15·(1/28)·(1/27)
    ///                              = 1/28 + 3/175 + 5/252 = 0.072698…
    /// (check: 4 × 0.209206 + 16 × 0.072698 = 2 draws). Over 2,000 seeds the observed
    /// rates (8,000 and 32,000 chances) must be near these, ≈ 2.9 times apart.
    #[test]
    fn flagged_are_drawn_about_weight_times_as_often() {
        let cs = batch(1, 20, 4);
        let (mut flagged, mut unflagged) = (0usize, 0usize);
        for seed in 0..2000u64 {
            let config = SpotCheckConfig {
                seed,
                ..SpotCheckConfig::default()
            };
            let sel = select_for_spot_check(&cs, &config).unwrap();
            assert_eq!(sel.len(), 2);
            for r in sel {
                if r.as_u128() % 1000 <= 4 {
                    flagged += 1;
                } else {
                    unflagged += 1;
                }
            }
        }
        let p_flagged = flagged as f64 / (2000.0 * 4.0);
        let p_unflagged = unflagged as f64 / (2000.0 * 16.0);
        let expect_f: f64 = 3.0 / 28.0 + 27.0 / 700.0 + 4.0 / 63.0;
        let expect_u: f64 = 1.0 / 28.0 + 3.0 / 175.0 + 5.0 / 252.0;
        assert!((4.0 * expect_f + 16.0 * expect_u - 2.0).abs() < 1e-12);
        // ± about 4 standard errors (√(p(1−p)/8000) ≈ 0.0045; √(p(1−p)/32000) ≈ 0.0015)
        assert!((p_flagged - expect_f).abs() < 0.02, "flagged {p_flagged}");
        assert!(
            (p_unflagged - expect_u).abs() < 0.007,
            "unflagged {p_unflagged}"
        );
        assert!(p_flagged > 2.0 * p_unflagged);
    }

    #[test]
    fn unit_weight_is_uniform() {
        // flag_weight 1: every one of 10 responses has P = 1/10 with n = 1; over 2,000 seeds
        // each should be drawn about 200 times (sd ≈ 13.4).
        let cs = batch(1, 10, 5);
        let mut counts = [0usize; 10];
        for seed in 0..2000u64 {
            let config = SpotCheckConfig {
                seed,
                flag_weight: 1.0,
                ..SpotCheckConfig::default()
            };
            for r in select_for_spot_check(&cs, &config).unwrap() {
                counts[(r.as_u128() % 1000) as usize - 1] += 1;
            }
        }
        assert_eq!(counts.iter().sum::<usize>(), 2000);
        assert!(
            counts.iter().all(|&c| (150..=250).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn invalid_config_and_duplicates() {
        let cs = batch(1, 3, 0);
        for rate in [-0.1, 1.5, f64::NAN] {
            let config = SpotCheckConfig {
                rate,
                ..SpotCheckConfig::default()
            };
            assert!(matches!(
                select_for_spot_check(&cs, &config),
                Err(SpotCheckError::InvalidRate(_))
            ));
        }
        for flag_weight in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            let config = SpotCheckConfig {
                flag_weight,
                ..SpotCheckConfig::default()
            };
            assert!(matches!(
                select_for_spot_check(&cs, &config),
                Err(SpotCheckError::InvalidFlagWeight(_))
            ));
        }
        let mut dup = cs.clone();
        dup.push(Candidate {
            surveyor_id: id(2),
            ..cs[1]
        });
        assert_eq!(
            select_for_spot_check(&dup, &SpotCheckConfig::default()),
            Err(SpotCheckError::DuplicateResponse(id(1002)))
        );
    }

    #[test]
    fn config_serde_defaults() {
        let c: SpotCheckConfig = serde_json::from_str(r#"{"seed": 42}"#).unwrap();
        assert_eq!(
            c,
            SpotCheckConfig {
                seed: 42,
                ..SpotCheckConfig::default()
            }
        );
        assert_eq!((c.rate, c.min_per_surveyor, c.flag_weight), (0.10, 1, 3.0));
    }
}
