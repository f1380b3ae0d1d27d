//! Administrative units as a tree with codes and validity dates.
//!
//! Vietnam's administrative map changes over time: most notably, from 2025-07-01 the 63
//! provinces were merged into 34 and the district level was abolished, so communes hang
//! directly under provinces. A unit is therefore a dated record: a code names a unit only
//! over `[valid_from, valid_to]`, and every query takes the date it is asked for. There are no
//! fixed province / district / commune columns: the depth of the tree is whatever the data
//! says on that date. A code may be reused for a later unit if the validity periods do not
//! overlap.
use crate::text::nfc;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The level of an administrative unit, ordered from the top (province) down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// Tỉnh / thành phố trực thuộc trung ương.
    Province,
    /// Huyện / quận / thị xã / thành phố thuộc tỉnh (abolished on 2025-07-01).
    District,
    /// Xã / phường / thị trấn / đặc khu.
    Commune,
    /// Thôn / tổ dân phố (village or residential group).
    Village,
}

/// One administrative unit over one validity period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUnit {
    /// Unit code (GSO style, e.g. `01` province, `001` district, `00001` commune).
    pub code: String,
    /// Full Vietnamese name with its type, e.g. "Phường Ba Đình" (stored NFC).
    pub name: String,
    /// Level in the hierarchy.
    pub level: UnitLevel,
    /// Code of the parent unit; `None` only for provinces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_code: Option<String>,
    /// First day the unit exists.
    pub valid_from: NaiveDate,
    /// Last day the unit exists (inclusive); `None` while it still exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
    /// Codes of the units that took over when this one ended (each must exist on the day
    /// after `valid_to`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced_by: Vec<String>,
}

impl AdminUnit {
    /// Whether the unit exists on `on`.
    pub fn is_valid_on(&self, on: NaiveDate) -> bool {
        self.valid_from <= on && self.valid_to.is_none_or(|to| on <= to)
    }

    fn overlaps(&self, other: &AdminUnit) -> bool {
        self.valid_from <= other.valid_to.unwrap_or(NaiveDate::MAX)
            && other.valid_from <= self.valid_to.unwrap_or(NaiveDate::MAX)
    }
}

/// Why a list of units does not form a consistent tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// The JSON text does not match the format.
    #[error("invalid units JSON at {path}: {message}")]
    Json {
        /// Path of the offending value.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A code or name is empty or has surrounding whitespace.
    #[error("unit {code:?} has an empty or untrimmed code or name")]
    BadCodeOrName {
        /// The code.
        code: String,
    },
    /// `valid_from` is after `valid_to`.
    #[error("unit {code} ends ({to}) before it starts ({from})")]
    BadValidity {
        /// The code.
        code: String,
        /// `valid_from`.
        from: NaiveDate,
        /// `valid_to`.
        to: NaiveDate,
    },
    /// Two records of the same code overlap in time.
    #[error("code {code} is used twice over overlapping periods (from {first} and from {second})")]
    OverlappingCode {
        /// The code.
        code: String,
        /// `valid_from` of the earlier record.
        first: NaiveDate,
        /// `valid_from` of the later record.
        second: NaiveDate,
    },
    /// A unit names a parent code that no record has.
    #[error("unit {code} names unknown parent {parent}")]
    MissingParent {
        /// The code.
        code: String,
        /// The parent code.
        parent: String,
    },
    /// The parent does not exist over the child's whole validity.
    #[error("unit {code} (from {from}) is valid on {day}, when its parent {parent} is not")]
    ParentNotValid {
        /// The code.
        code: String,
        /// The child's `valid_from`.
        from: NaiveDate,
        /// The parent code.
        parent: String,
        /// First day of the child's validity not covered by the parent.
        day: NaiveDate,
    },
    /// The parent is not on a higher level than the child.
    #[error("unit {code} ({level:?}) has parent {parent} on level {parent_level:?}")]
    LevelOrder {
        /// The code.
        code: String,
        /// The child's level.
        level: UnitLevel,
        /// The parent code.
        parent: String,
        /// The parent's level.
        parent_level: UnitLevel,
    },
    /// A unit without parent is not a province.
    #[error("unit {code} has no parent but is a {level:?}, not a province")]
    RootNotProvince {
        /// The code.
        code: String,
        /// Its level.
        level: UnitLevel,
    },
    /// Parent links form a cycle.
    #[error("parent links form a cycle through {0}")]
    Cycle(String),
    /// `replaced_by` is given for a unit that has not ended.
    #[error("unit {code} has successors but no valid_to")]
    ReplacedWithoutEnd {
        /// The code.
        code: String,
    },
    /// A successor does not exist on the day after the unit ends.
    #[error("unit {code} is replaced by {successor}, which does not exist on {on}")]
    UnknownSuccessor {
        /// The code.
        code: String,
        /// The successor code.
        successor: String,
        /// The day after the unit's `valid_to`.
        on: NaiveDate,
    },
}

/// The JSON file format: `{"note": "...", "units": [AdminUnit, ...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    units: Vec<AdminUnit>,
}

/// A checked set of dated administrative units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitTree {
    /// Sorted by (code, valid_from).
    units: Vec<AdminUnit>,
    /// Code → indices into `units`, in time order.
    by_code: BTreeMap<String, Vec<usize>>,
    /// Parent code → indices of units naming it as parent.
    by_parent: BTreeMap<String, Vec<usize>>,
}

impl UnitTree {
    /// Parses `{"note": "...", "units": [...]}` (the format of `schemas/units/*.json`) and
    /// checks it like [`UnitTree::from_units`].
    pub fn from_json(json: &str) -> Result<UnitTree, UnitError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let file: UnitsFile =
            serde_path_to_error::deserialize(de).map_err(|e| UnitError::Json {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        UnitTree::from_units(file.units)
    }

    /// Builds the tree, normalising names to NFC and checking that: codes and names are
    /// non-empty; `valid_from <= valid_to`; records of one code do not overlap in time; every
    /// parent exists on a higher level over the child's whole validity; only provinces are
    /// roots; there are no cycles; successors exist on the day after a unit ends.
    pub fn from_units(mut units: Vec<AdminUnit>) -> Result<UnitTree, UnitError> {
        for u in &mut units {
            u.name = nfc(&u.name);
            let bad = |s: &str| s.is_empty() || s.trim() != s;
            if bad(&u.code) || bad(&u.name) {
                return Err(UnitError::BadCodeOrName {
                    code: u.code.clone(),
                });
            }
            if let Some(to) = u.valid_to.filter(|to| *to < u.valid_from) {
                return Err(UnitError::BadValidity {
                    code: u.code.clone(),
                    from: u.valid_from,
                    to,
                });
            }
        }
        units.sort_by(|a, b| (&a.code, a.valid_from).cmp(&(&b.code, b.valid_from)));
        let mut by_code: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let mut by_parent: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, u) in units.iter().enumerate() {
            let same = by_code.entry(u.code.clone()).or_default();
            if let Some(&prev) = same.last().filter(|&&prev| units[prev].overlaps(u)) {
                return Err(UnitError::OverlappingCode {
                    code: u.code.clone(),
                    first: units[prev].valid_from,
                    second: u.valid_from,
                });
            }
            same.push(i);
            if let Some(p) = &u.parent_code {
                by_parent.entry(p.clone()).or_default().push(i);
            }
        }
        let tree = UnitTree {
            units,
            by_code,
            by_parent,
        };
        tree.check_parents_exist()?;
        tree.check_no_cycles()?;
        tree.check_parent_validity()?;
        tree.check_successors()?;
        Ok(tree)
    }

    fn check_parents_exist(&self) -> Result<(), UnitError> {
        for u in &self.units {
            match &u.parent_code {
                Some(p) if !self.by_code.contains_key(p) => {
                    return Err(UnitError::MissingParent {
                        code: u.code.clone(),
                        parent: p.clone(),
                    });
                }
                None if u.level != UnitLevel::Province => {
                    return Err(UnitError::RootNotProvince {
                        code: u.code.clone(),
                        level: u.level,
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Depth-first search over the code graph (code → parent codes of all its records).
    fn check_no_cycles(&self) -> Result<(), UnitError> {
        let parents = |code: &str| -> BTreeSet<&str> {
            self.by_code[code]
                .iter()
                .filter_map(|&i| self.units[i].parent_code.as_deref())
                .collect()
        };
        // 1 = on the current path, 2 = done.
        let mut state: BTreeMap<&str, u8> = BTreeMap::new();
        for start in self.by_code.keys() {
            if state.contains_key(start.as_str()) {
                continue;
            }
            let mut stack: Vec<(&str, Vec<&str>)> =
                vec![(start, parents(start).into_iter().collect())];
            state.insert(start, 1);
            while let Some((code, todo)) = stack.last_mut() {
                match todo.pop() {
                    Some(next) => match state.get(next) {
                        Some(1) => return Err(UnitError::Cycle(next.to_owned())),
                        Some(_) => {}
                        None => {
                            state.insert(next, 1);
                            stack.push((next, parents(next).into_iter().collect()));
                        }
                    },
                    None => {
                        state.insert(code, 2);
                        stack.pop();
                    }
                }
            }
        }
        Ok(())
    }

    /// Every day of a child's validity must be covered by a parent record on a higher level.
    fn check_parent_validity(&self) -> Result<(), UnitError> {
        for u in &self.units {
            let Some(parent) = &u.parent_code else {
                continue;
            };
            let end = u.valid_to.unwrap_or(NaiveDate::MAX);
            let mut day = Some(u.valid_from);
            for &pi in &self.by_code[parent] {
                let p = &self.units[pi];
                let Some(d) = day else { break };
                if !p.overlaps(u) {
                    continue;
                }
                if p.level >= u.level {
                    return Err(UnitError::LevelOrder {
                        code: u.code.clone(),
                        level: u.level,
                        parent: parent.clone(),
                        parent_level: p.level,
                    });
                }
                if p.valid_from > d {
                    break; // gap before this record
                }
                day = match p.valid_to {
                    Some(to) if to < end => to.checked_add_days(Days::new(1)),
                    _ => None,
                };
            }
            if let Some(d) = day {
                return Err(UnitError::ParentNotValid {
                    code: u.code.clone(),
                    from: u.valid_from,
                    parent: parent.clone(),
                    day: d,
                });
            }
        }
        Ok(())
    }

    fn check_successors(&self) -> Result<(), UnitError> {
        for u in &self.units {
            if u.replaced_by.is_empty() {
                continue;
            }
            let next = u
                .valid_to
                .and_then(|to| to.checked_add_days(Days::new(1)))
                .ok_or_else(|| UnitError::ReplacedWithoutEnd {
                    code: u.code.clone(),
                })?;
            for s in &u.replaced_by {
                if self.get(s, next).is_none() {
                    return Err(UnitError::UnknownSuccessor {
                        code: u.code.clone(),
                        successor: s.clone(),
                        on: next,
                    });
                }
            }
        }
        Ok(())
    }

    /// Every record, sorted by code then `valid_from`.
    pub fn units(&self) -> &[AdminUnit] {
        &self.units
    }

    /// Every record of `code`, in time order (empty if unknown).
    pub fn versions(&self, code: &str) -> Vec<&AdminUnit> {
        self.by_code
            .get(code)
            .map(|ix| ix.iter().map(|&i| &self.units[i]).collect())
            .unwrap_or_default()
    }

    /// The unit with this code on `on`.
    pub fn get(&self, code: &str, on: NaiveDate) -> Option<&AdminUnit> {
        self.by_code
            .get(code)?
            .iter()
            .map(|&i| &self.units[i])
            .find(|u| u.is_valid_on(on))
    }

    /// Units without parent (provinces) on `on`, sorted by code.
    pub fn roots(&self, on: NaiveDate) -> Vec<&AdminUnit> {
        self.units
            .iter()
            .filter(|u| u.parent_code.is_none() && u.is_valid_on(on))
            .collect()
    }

    /// Direct children of `code` on `on`, sorted by code.
    pub fn children(&self, code: &str, on: NaiveDate) -> Vec<&AdminUnit> {
        self.by_parent
            .get(code)
            .map(|ix| {
                ix.iter()
                    .map(|&i| &self.units[i])
                    .filter(|u| u.is_valid_on(on))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ancestors of `code` on `on`, nearest first (parent, grandparent, …, province).
    /// Empty for a province or a code not valid on `on`.
    pub fn ancestors(&self, code: &str, on: NaiveDate) -> Vec<&AdminUnit> {
        let mut out = Vec::new();
        let mut cur = self.get(code, on);
        while let Some(parent) = cur
            .and_then(|u| u.parent_code.as_deref())
            .and_then(|p| self.get(p, on))
        {
            out.push(parent);
            cur = Some(parent);
        }
        out
    }

    /// The unit itself or its ancestor on `level` on `on` (e.g. the province of a commune;
    /// a province maps to itself). `None` if there is none on that date — e.g. the district
    /// of a commune after 2025-07-01.
    pub fn ancestor_at_level(
        &self,
        code: &str,
        level: UnitLevel,
        on: NaiveDate,
    ) -> Option<&AdminUnit> {
        let me = self.get(code, on)?;
        std::iter::once(me)
            .chain(self.ancestors(code, on))
            .find(|u| u.level == level)
    }

    /// Full name from the unit up on `on`, e.g. "Phường Ba Đình, Thành phố Hà Nội".
    pub fn path_name(&self, code: &str, on: NaiveDate) -> Option<String> {
        let me = self.get(code, on)?;
        let names: Vec<&str> = std::iter::once(me)
            .chain(self.ancestors(code, on))
            .map(|u| u.name.as_str())
            .collect();
        Some(names.join(", "))
    }

    /// The units that finally took over from `code`: `replaced_by` is followed (each step
    /// to the successor existing the day after the predecessor ended) until units that were
    /// not replaced. Sorted by code, without duplicates; empty if `code` was never replaced.
    pub fn successors(&self, code: &str) -> Vec<&AdminUnit> {
        let mut todo: Vec<&AdminUnit> = self
            .versions(code)
            .into_iter()
            .filter(|u| !u.replaced_by.is_empty())
            .collect();
        let mut out: Vec<&AdminUnit> = Vec::new();
        while let Some(u) = todo.pop() {
            // Checked in from_units: valid_to is set and every successor exists the next day.
            let Some(next) = u.valid_to.and_then(|to| to.checked_add_days(Days::new(1))) else {
                continue;
            };
            for s in u.replaced_by.iter().filter_map(|s| self.get(s, next)) {
                if s.replaced_by.is_empty() {
                    if !out.contains(&s) {
                        out.push(s);
                    }
                } else {
                    todo.push(s);
                }
            }
        }
        out.sort_by(|a, b| (&a.code, a.valid_from).cmp(&(&b.code, b.valid_from)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = include_str!("../../../schemas/units/vn-units-seed.json");

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn seed() -> UnitTree {
        UnitTree::from_json(SEED).unwrap()
    }

    fn unit(code: &str, level: UnitLevel, parent: Option<&str>, from: &str) -> AdminUnit {
        AdminUnit {
            code: code.into(),
            name: format!("Unit {code}"),
            level,
            parent_code: parent.map(Into::into),
            valid_from: d(from),
            valid_to: None,
            replaced_by: vec![],
        }
    }

    fn until(mut u: AdminUnit, to: &str) -> AdminUnit {
        u.valid_to = Some(d(to));
        u
    }

    const BEFORE: &str = "2024-06-01";
    const AFTER: &str = "2026-01-15";

    #[test]
    fn seed_parses_and_is_nfc() {
        let t = seed();
        assert!((20..=30).contains(&t.units().len()), "{}", t.units().len());
        for u in t.units() {
            assert_eq!(u.name, nfc(&u.name));
        }
        // the stored text itself is NFC too
        assert_eq!(SEED, nfc(SEED));
    }

    #[test]
    fn provinces_before_and_after_the_2025_merger() {
        let t = seed();
        let codes =
            |on: &str| -> Vec<String> { t.roots(d(on)).iter().map(|u| u.code.clone()).collect() };
        assert_eq!(codes(BEFORE), ["01", "06", "19", "30", "31", "48", "49"]);
        assert_eq!(codes(AFTER), ["01", "19", "31", "48"]);
        // the last day of the old map is 2025-06-30, the first of the new one 2025-07-01
        assert!(t.get("49", d("2025-06-30")).is_some());
        assert!(t.get("49", d("2025-07-01")).is_none());
    }

    #[test]
    fn commune_has_a_district_ancestor_in_2024_and_none_in_2026() {
        let t = seed();
        // Phường Trúc Bạch (00004), Quận Ba Đình (001), Thành phố Hà Nội (01), in 2024
        let anc: Vec<_> = t
            .ancestors("00004", d(BEFORE))
            .iter()
            .map(|u| u.code.as_str())
            .collect();
        assert_eq!(anc, ["001", "01"]);
        let district = t.ancestor_at_level("00004", UnitLevel::District, d(BEFORE));
        assert_eq!(district.unwrap().name, "Quận Ba Đình");
        assert_eq!(
            t.path_name("00004", d(BEFORE)).unwrap(),
            "Phường Trúc Bạch, Quận Ba Đình, Thành phố Hà Nội"
        );
        // the old ward no longer exists in 2026
        assert!(t.get("00004", d(AFTER)).is_none());
        assert!(t.ancestors("00004", d(AFTER)).is_empty());
        // its successor, the new Phường Ba Đình, hangs directly under Hà Nội
        let succ = t.successors("00004");
        assert_eq!(succ.len(), 1);
        let ba_dinh = succ[0];
        assert_eq!(ba_dinh.name, "Phường Ba Đình");
        let anc: Vec<_> = t
            .ancestors(&ba_dinh.code, d(AFTER))
            .iter()
            .map(|u| u.code.as_str())
            .collect();
        assert_eq!(anc, ["01"]);
        assert!(
            t.ancestor_at_level(&ba_dinh.code, UnitLevel::District, d(AFTER))
                .is_none()
        );
        assert_eq!(
            t.ancestor_at_level(&ba_dinh.code, UnitLevel::Province, d(AFTER))
                .unwrap()
                .code,
            "01"
        );
        assert_eq!(
            t.path_name(&ba_dinh.code, d(AFTER)).unwrap(),
            "Phường Ba Đình, Thành phố Hà Nội"
        );
        // a province is its own province-level ancestor
        assert_eq!(
            t.ancestor_at_level("01", UnitLevel::Province, d(AFTER))
                .unwrap()
                .code,
            "01"
        );
    }

    #[test]
    fn children_depend_on_the_date() {
        let t = seed();
        let names = |code: &str, on: &str| -> Vec<String> {
            t.children(code, d(on))
                .iter()
                .map(|u| u.name.clone())
                .collect()
        };
        assert_eq!(names("01", BEFORE), ["Quận Ba Đình"]);
        let after = names("01", AFTER);
        assert_eq!(after.len(), 3);
        assert!(after.iter().all(|n| n.starts_with("Phường ")));
        assert!(after.contains(&"Phường Hồng Hà".to_string()));
        assert_eq!(names("001", BEFORE).len(), 3);
        assert!(names("001", AFTER).is_empty());
    }

    #[test]
    fn merged_provinces_have_successors() {
        let t = seed();
        let succ = |code: &str| -> Vec<&str> {
            t.successors(code)
                .into_iter()
                .map(|u| u.name.as_str())
                .collect()
        };
        assert_eq!(succ("49"), ["Thành phố Đà Nẵng"]); // Tỉnh Quảng Nam
        assert_eq!(succ("06"), ["Tỉnh Thái Nguyên"]); // Tỉnh Bắc Kạn
        assert_eq!(succ("30"), ["Thành phố Hải Phòng"]); // Tỉnh Hải Dương
        assert!(succ("48").is_empty()); // Đà Nẵng continues
        assert!(succ("nope").is_empty());
        // the continuing city exists on both sides of the change
        assert!(t.get("48", d(BEFORE)).is_some() && t.get("48", d(AFTER)).is_some());
    }

    #[test]
    fn successors_are_followed_transitively() {
        use UnitLevel::*;
        let mut a = until(unit("A", Province, None, "2000-01-01"), "2009-12-31");
        a.replaced_by = vec!["B".into()];
        let mut b = until(unit("B", Province, None, "2010-01-01"), "2019-12-31");
        b.replaced_by = vec!["C".into(), "D".into()];
        let c = unit("C", Province, None, "2020-01-01");
        let dd = unit("D", Province, None, "2020-01-01");
        let t = UnitTree::from_units(vec![a, b, c, dd]).unwrap();
        let codes: Vec<_> = t.successors("A").iter().map(|u| u.code.as_str()).collect();
        assert_eq!(codes, ["C", "D"]);
    }

    #[test]
    fn code_reuse_needs_disjoint_periods() {
        use UnitLevel::*;
        let old = until(unit("50", Province, None, "2000-01-01"), "2010-12-31");
        let new_ok = unit("50", Province, None, "2011-01-01");
        let t = UnitTree::from_units(vec![new_ok.clone(), old.clone()]).unwrap();
        assert_eq!(t.versions("50").len(), 2);
        assert_eq!(
            t.get("50", d("2005-01-01")).unwrap().valid_from,
            d("2000-01-01")
        );
        assert_eq!(
            t.get("50", d("2015-01-01")).unwrap().valid_from,
            d("2011-01-01")
        );

        let overlapping = unit("50", Province, None, "2010-12-31");
        assert_eq!(
            UnitTree::from_units(vec![old.clone(), overlapping]),
            Err(UnitError::OverlappingCode {
                code: "50".into(),
                first: d("2000-01-01"),
                second: d("2010-12-31"),
            })
        );
        let same_start = unit("50", Province, None, "2000-01-01");
        assert!(matches!(
            UnitTree::from_units(vec![old, same_start]),
            Err(UnitError::OverlappingCode { .. })
        ));
    }

    #[test]
    fn missing_parent_is_rejected() {
        use UnitLevel::*;
        let p = unit("01", Province, None, "2000-01-01");
        let c = unit("00001", Commune, Some("02"), "2000-01-01");
        assert_eq!(
            UnitTree::from_units(vec![p, c]),
            Err(UnitError::MissingParent {
                code: "00001".into(),
                parent: "02".into()
            })
        );
    }

    #[test]
    fn child_valid_outside_parent_is_rejected() {
        use UnitLevel::*;
        let p = until(
            unit("001", District, Some("01"), "2010-01-01"),
            "2025-06-30",
        );
        let root = unit("01", Province, None, "2000-01-01");
        // starts before the district exists
        let early = unit("00001", Commune, Some("001"), "2009-01-01");
        let err = UnitTree::from_units(vec![root.clone(), p.clone(), until(early, "2020-01-01")]);
        assert_eq!(
            err,
            Err(UnitError::ParentNotValid {
                code: "00001".into(),
                from: d("2009-01-01"),
                parent: "001".into(),
                day: d("2009-01-01"),
            })
        );
        // outlives the district (no valid_to)
        let late = unit("00001", Commune, Some("001"), "2010-01-01");
        assert!(matches!(
            UnitTree::from_units(vec![root.clone(), p.clone(), late]),
            Err(UnitError::ParentNotValid { day, .. }) if day == d("2025-07-01")
        ));
        // covered by two consecutive records of the parent code: fine
        let p2 = unit("001", District, Some("01"), "2025-07-01");
        let spanning = unit("00001", Commune, Some("001"), "2020-01-01");
        assert!(UnitTree::from_units(vec![root.clone(), p.clone(), p2, spanning.clone()]).is_ok());
        // a gap between the parent's records is not
        let p3 = unit("001", District, Some("01"), "2025-08-01");
        assert!(matches!(
            UnitTree::from_units(vec![root, p, p3, spanning]),
            Err(UnitError::ParentNotValid { day, .. }) if day == d("2025-07-01")
        ));
    }

    #[test]
    fn structural_errors() {
        use UnitLevel::*;
        let root = unit("01", Province, None, "2000-01-01");
        // bad dates
        let bad = until(unit("02", Province, None, "2020-01-01"), "2019-12-31");
        assert!(matches!(
            UnitTree::from_units(vec![bad]),
            Err(UnitError::BadValidity { .. })
        ));
        // commune without parent
        assert!(matches!(
            UnitTree::from_units(vec![unit("00001", Commune, None, "2000-01-01")]),
            Err(UnitError::RootNotProvince { .. })
        ));
        // commune as parent of a district
        let c = unit("00001", Commune, Some("01"), "2000-01-01");
        let dd = unit("001", District, Some("00001"), "2000-01-01");
        assert!(matches!(
            UnitTree::from_units(vec![root.clone(), c, dd]),
            Err(UnitError::LevelOrder { .. })
        ));
        // cycle
        let a = unit("A", District, Some("B"), "2000-01-01");
        let b = unit("B", District, Some("A"), "2000-01-01");
        assert!(matches!(
            UnitTree::from_units(vec![root.clone(), a, b]),
            Err(UnitError::Cycle(_))
        ));
        // successor that does not exist the next day
        let mut gone = until(unit("02", Province, None, "2000-01-01"), "2025-06-30");
        gone.replaced_by = vec!["03".into()];
        let late = unit("03", Province, None, "2025-08-01");
        assert!(matches!(
            UnitTree::from_units(vec![gone.clone(), late]),
            Err(UnitError::UnknownSuccessor { .. })
        ));
        gone.valid_to = None;
        assert!(matches!(
            UnitTree::from_units(vec![gone, root.clone()]),
            Err(UnitError::ReplacedWithoutEnd { .. })
        ));
        // empty name
        let mut empty = root;
        empty.name = String::new();
        assert!(matches!(
            UnitTree::from_units(vec![empty]),
            Err(UnitError::BadCodeOrName { .. })
        ));
    }

    #[test]
    fn names_are_normalised_and_json_errors_have_paths() {
        let mut u = unit("01", UnitLevel::Province, None, "2000-01-01");
        u.name = "Thành phố Ha\u{0300} Nội".into(); // decomposed "à"
        let t = UnitTree::from_units(vec![u]).unwrap();
        assert_eq!(
            t.get("01", d("2020-01-01")).unwrap().name,
            "Thành phố Hà Nội"
        );

        let err = UnitTree::from_json(
            r#"{"units": [{"code": "01", "name": "X", "level": "state", "valid_from": "2000-01-01"}]}"#,
        )
        .unwrap_err();
        match err {
            UnitError::Json { path, .. } => assert_eq!(path, "units[0].level"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn index_rolls_seed_communes_up_to_provinces() {
        use crate::answer::{AnswerValue, Answers};
        use crate::index::{IndexAccumulator, IndexConfig, IndexInput};
        let t = seed();
        let form: crate::questionnaire::Questionnaire = serde_json::from_value(serde_json::json!({
            "format": 1, "form_id": "f", "version": "1", "title": {"vi": "f"},
            "scales": {"s": {"points": [
                {"value": 1, "label": {"vi": "1"}}, {"value": 2, "label": {"vi": "2"}},
                {"value": 3, "label": {"vi": "3"}}, {"value": 4, "label": {"vi": "4"}},
                {"value": 5, "label": {"vi": "5"}}]}},
            "groups": [{"code": "G1", "kind": "criteria", "title": {"vi": "g"},
                        "items": [{"code": "C1", "type": "rating", "scale": "s",
                                   "label": {"vi": "c"}}]}]
        }))
        .unwrap();
        let a = |v: i64| -> Answers { [("C1".to_string(), AnswerValue::Int(v))].into() };
        let (five, two) = (a(5), a(2));
        // 2024 round: two Hà Nội wards (satisfied, not satisfied) → Hà Nội 50%
        let mut acc = IndexAccumulator::new(&form, IndexConfig::default()).unwrap();
        for (unit, ans) in [("00004", &five), ("00013", &two)] {
            acc.add(IndexInput {
                round_id: "2024",
                unit_code: unit,
                answers: ans,
            });
        }
        let on = d(BEFORE);
        let report = acc.report_rolled_up(|c| {
            t.ancestor_at_level(c, UnitLevel::Province, on)
                .map(|u| u.code.clone())
        });
        assert_eq!(report.cells.len(), 1);
        let hn = report.cell("2024", "01").unwrap();
        assert_eq!(hn.respondents, 2);
        assert_eq!(hn.overall.pct_satisfied, Some(50.0));
    }
}
