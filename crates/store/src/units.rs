//! Administrative units (province, district, commune …) with validity periods, stored as
//! plain strings and dates: units are merged and renamed over time, so one code can have
//! several periods.
use crate::audit;
use crate::codec;
use crate::error::Result;
use crate::store::Store;
use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};

/// One administrative unit during one validity period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// Official unit code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Level in the hierarchy, e.g. `province`, `commune`.
    pub level: String,
    /// Code of the containing unit (`None`: top level).
    pub parent_code: Option<String>,
    /// First day of validity.
    pub valid_from: NaiveDate,
    /// Last day of validity (`None`: still valid).
    pub valid_to: Option<NaiveDate>,
}

impl Store {
    /// Imports units in one transaction: a record with the same code and `valid_from`
    /// replaces the stored one. Returns how many records were written.
    pub fn import_units(&mut self, units: &[UnitRecord]) -> Result<usize> {
        self.write(|tx, actor| {
            let mut stmt = tx.prepare(
                "INSERT INTO admin_units (code, name, level, parent_code, valid_from, valid_to)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (code, valid_from) DO UPDATE SET
                    name = excluded.name, level = excluded.level,
                    parent_code = excluded.parent_code, valid_to = excluded.valid_to",
            )?;
            for u in units {
                stmt.execute(params![
                    u.code,
                    u.name,
                    u.level,
                    u.parent_code,
                    u.valid_from.to_string(),
                    u.valid_to.map(|d| d.to_string()),
                ])?;
            }
            audit::append(
                tx,
                actor,
                "admin_units.import",
                "admin_units",
                "*",
                serde_json::json!({ "count": units.len() }),
            )?;
            Ok(units.len())
        })
    }

    /// All stored unit records, ordered by code and start of validity.
    pub fn list_units(&self) -> Result<Vec<UnitRecord>> {
        let mut stmt = self.conn().prepare(
            "SELECT code, name, level, parent_code, valid_from, valid_to
             FROM admin_units ORDER BY code, valid_from",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(code, name, level, parent_code, from, to)| {
                let what = format!("administrative unit {code}");
                Ok(UnitRecord {
                    valid_from: codec::parse_date(&from, &what)?,
                    valid_to: to.map(|t| codec::parse_date(&t, &what)).transpose()?,
                    code,
                    name,
                    level,
                    parent_code,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::TempStore;

    fn unit(code: &str, name: &str, from: &str, to: Option<&str>) -> UnitRecord {
        UnitRecord {
            code: code.into(),
            name: name.into(),
            level: "commune".into(),
            parent_code: Some("001".into()),
            valid_from: from.parse().unwrap(),
            valid_to: to.map(|t| t.parse().unwrap()),
        }
    }

    #[test]
    fn import_upserts_by_code_and_period() {
        let t = TempStore::new();
        let mut s = t.open();
        let old = unit(
            "00004",
            "Phường Trúc Bạch",
            "2008-08-01",
            Some("2025-06-30"),
        );
        let new = unit("00004", "Phường Ba Đình", "2025-07-01", None);
        assert_eq!(s.import_units(&[old.clone(), new.clone()]).unwrap(), 2);
        let renamed = unit("00004", "Phường Ba Đình (mới)", "2025-07-01", None);
        s.import_units(std::slice::from_ref(&renamed)).unwrap();
        assert_eq!(t.open().list_units().unwrap(), vec![old, renamed]);
    }

    #[test]
    fn period_ending_before_it_starts_is_refused_whole() {
        let mut s = Store::open_in_memory().unwrap();
        let good = unit("1", "A", "2020-01-01", None);
        let bad = unit("2", "B", "2020-01-01", Some("2019-01-01"));
        assert!(s.import_units(&[good, bad]).is_err());
        assert!(s.list_units().unwrap().is_empty());
    }
}
