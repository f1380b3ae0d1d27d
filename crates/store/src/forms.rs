//! Questionnaires and catalogue options downloaded from the server (issue 12, migration
//! `0007_forms`). A form is stored only when its content matches the hash the server gave:
//! hex SHA-256 of the RFC 8785 canonical JSON ([`sipas_core::canonical::jcs`]) of the
//! definition — the same rule the server uses when it stores a version.
use crate::audit;
use crate::codec;
use crate::error::{Result, StoreError};
use crate::store::Store;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sipas_core::canonical::{jcs, sha256_hex};
use std::collections::BTreeMap;

/// A downloaded questionnaire version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredForm {
    /// Form id.
    pub form_id: String,
    /// Version.
    pub version: String,
    /// Hex SHA-256 of `definition`.
    pub content_hash: String,
    /// Canonical JSON text of the definition.
    pub definition: String,
    /// Server status when fetched (`published` or `retired`).
    pub status: String,
}

/// One catalogue option (the form model's option shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueOption {
    /// Code.
    pub value: String,
    /// `{vi: name}`.
    pub label: OptionLabel,
    /// String attributes.
    #[serde(default)]
    pub attrs: BTreeMap<String, String>,
}

/// Label of a catalogue option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionLabel {
    /// Vietnamese name.
    pub vi: String,
}

/// The catalogue kinds a bundle carries.
pub const CATALOGUE_KINDS: [&str; 4] = ["agencies", "procedures", "fields", "units"];

/// The content hash of a definition: hex SHA-256 of its canonical JSON, with that text.
pub fn form_content_hash(definition: &serde_json::Value) -> (String, String) {
    let bytes = jcs(definition);
    (
        sha256_hex(&bytes),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

impl Store {
    /// Stores a downloaded version after checking that the canonical JSON of `definition`
    /// hashes to `content_hash`; a mismatch is [`StoreError::FormHashMismatch`] and nothing is
    /// written. The same key stored again is replaced (its status may have changed).
    pub fn save_form(
        &mut self,
        form_id: &str,
        version: &str,
        content_hash: &str,
        definition: &serde_json::Value,
        status: &str,
    ) -> Result<StoredForm> {
        let (actual, text) = form_content_hash(definition);
        if actual != content_hash.to_ascii_lowercase() {
            return Err(StoreError::FormHashMismatch {
                form_id: form_id.to_owned(),
                version: version.to_owned(),
                expected: content_hash.to_owned(),
                actual,
            });
        }
        let form = StoredForm {
            form_id: form_id.to_owned(),
            version: version.to_owned(),
            content_hash: actual,
            definition: text,
            status: status.to_owned(),
        };
        let f = form.clone();
        self.write(move |tx, actor| {
            tx.execute(
                "INSERT INTO forms (form_id, version, content_hash, definition, status, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (form_id, version) DO UPDATE SET
                    content_hash = excluded.content_hash, definition = excluded.definition,
                    status = excluded.status, fetched_at = excluded.fetched_at",
                params![
                    f.form_id,
                    f.version,
                    f.content_hash,
                    f.definition,
                    f.status,
                    codec::ts(&codec::now())
                ],
            )?;
            audit::append(
                tx,
                actor,
                "form.downloaded",
                "forms",
                &format!("{}@{}", f.form_id, f.version),
                serde_json::json!({ "content_hash": f.content_hash }),
            )?;
            Ok(())
        })?;
        Ok(form)
    }

    /// The stored version, if downloaded.
    pub fn form(&self, form_id: &str, version: &str) -> Result<Option<StoredForm>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT form_id, version, content_hash, definition, status FROM forms
                 WHERE form_id = ?1 AND version = ?2",
            )?
            .query_row(params![form_id, version], |r| {
                Ok(StoredForm {
                    form_id: r.get(0)?,
                    version: r.get(1)?,
                    content_hash: r.get(2)?,
                    definition: r.get(3)?,
                    status: r.get(4)?,
                })
            })
            .optional()?)
    }

    /// Every downloaded version, by form id then version.
    pub fn list_forms(&self) -> Result<Vec<StoredForm>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT form_id, version, content_hash, definition, status FROM forms
             ORDER BY form_id, version",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredForm {
                form_id: r.get(0)?,
                version: r.get(1)?,
                content_hash: r.get(2)?,
                definition: r.get(3)?,
                status: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Replaces the catalogue options of a round (one transaction). Unknown kinds are
    /// ignored. Returns how many options were stored.
    pub fn replace_catalogue_options(
        &mut self,
        round_id: &str,
        bundle: &BTreeMap<String, Vec<CatalogueOption>>,
    ) -> Result<usize> {
        let round_id = round_id.to_owned();
        let mut rows = Vec::new();
        for kind in CATALOGUE_KINDS {
            for (i, o) in bundle.get(kind).into_iter().flatten().enumerate() {
                let attrs = codec::to_json(&o.attrs, "catalogue option attributes")?;
                rows.push((kind, i as i64, o.value.clone(), o.label.vi.clone(), attrs));
            }
        }
        self.write(move |tx, actor| {
            tx.execute(
                "DELETE FROM catalogue_options WHERE round_id = ?1",
                params![round_id],
            )?;
            let mut stmt = tx.prepare(
                "INSERT INTO catalogue_options (round_id, kind, position, value, label_vi, attrs_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (kind, pos, value, label, attrs) in &rows {
                stmt.execute(params![round_id, kind, pos, value, label, attrs])?;
            }
            audit::append(
                tx,
                actor,
                "catalogue_options.refresh",
                "catalogue_options",
                &round_id,
                serde_json::json!({ "count": rows.len() }),
            )?;
            Ok(rows.len())
        })
    }

    /// Options of one catalogue kind: of `round_id`, or of every round (deduplicated by
    /// code, first round wins) when `None`.
    pub fn catalogue_options(
        &self,
        kind: &str,
        round_id: Option<&str>,
    ) -> Result<Vec<CatalogueOption>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT value, label_vi, attrs_json FROM catalogue_options
             WHERE kind = ?1 AND (?2 IS NULL OR round_id = ?2)
             ORDER BY round_id, position",
        )?;
        let rows = stmt
            .query_map(params![kind, round_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for (value, vi, attrs) in rows {
            if !seen.insert(value.clone()) {
                continue;
            }
            out.push(CatalogueOption {
                attrs: codec::from_json(&attrs, "catalogue option attributes")?,
                value,
                label: OptionLabel { vi },
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_stored_only_when_its_hash_matches() {
        let mut s = Store::open_in_memory().unwrap();
        let def = serde_json::json!({"form_id": "f", "version": "1", "b": [1, 2]});
        let (hash, text) = form_content_hash(&def);
        let err = s.save_form("f", "1", &"0".repeat(64), &def, "published");
        assert!(matches!(err, Err(StoreError::FormHashMismatch { .. })));
        assert!(s.form("f", "1").unwrap().is_none());
        let saved = s.save_form("f", "1", &hash, &def, "published").unwrap();
        assert_eq!(saved.definition, text);
        assert_eq!(s.form("f", "1").unwrap().unwrap().content_hash, hash);
        assert_eq!(s.list_forms().unwrap().len(), 1);
    }

    #[test]
    fn catalogue_options_are_replaced_per_round() {
        let mut s = Store::open_in_memory().unwrap();
        let opt = |v: &str| CatalogueOption {
            value: v.into(),
            label: OptionLabel {
                vi: format!("Tên {v}"),
            },
            attrs: BTreeMap::from([("unit".to_owned(), "01".to_owned())]),
        };
        let mut b = BTreeMap::new();
        b.insert("agencies".to_owned(), vec![opt("A"), opt("B")]);
        assert_eq!(s.replace_catalogue_options("R1", &b).unwrap(), 2);
        b.insert("agencies".to_owned(), vec![opt("C")]);
        assert_eq!(s.replace_catalogue_options("R1", &b).unwrap(), 1);
        let got = s.catalogue_options("agencies", Some("R1")).unwrap();
        assert_eq!(got, vec![opt("C")]);
        assert!(s.catalogue_options("units", None).unwrap().is_empty());
    }
}
