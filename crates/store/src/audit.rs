//! The append-only audit log: one entry per write, recorded in the write's own transaction.
//!
//! SQL triggers reject any UPDATE or DELETE of `audit_log`. Entries never contain personal
//! contact data (names, addresses, phone numbers) or answer values.
use crate::codec;
use crate::error::Result;
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log (increasing, never reused).
    pub seq: i64,
    /// When the write happened.
    pub at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done, e.g. `draft.save_answer`.
    pub action: String,
    /// Kind of record touched, e.g. `draft`.
    pub entity: String,
    /// Key of the record touched.
    pub entity_id: String,
    /// Details (never contact data).
    pub detail: serde_json::Value,
}

/// Appends an entry; call inside the transaction of the write it records.
pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            codec::ts(&codec::now()),
            actor,
            action,
            entity,
            entity_id,
            detail.to_string()
        ],
    )?;
    Ok(())
}

impl Store {
    /// Audit entries with `seq > since_seq`, oldest first (pass 0 for all).
    pub fn audit_entries(&self, since_seq: i64) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn().prepare(
            "SELECT seq, at, actor, action, entity, entity_id, detail_json
             FROM audit_log WHERE seq > ?1 ORDER BY seq",
        )?;
        let raw = stmt
            .query_map([since_seq], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raw.into_iter()
            .map(|(seq, at, actor, action, entity, entity_id, detail)| {
                let what = format!("audit entry {seq}");
                Ok(AuditEntry {
                    seq,
                    at: codec::parse_ts(&at, &what)?,
                    actor,
                    action,
                    entity,
                    entity_id,
                    detail: codec::from_json(&detail, &what)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{TempStore, new_draft};

    #[test]
    fn entries_are_ordered_and_filtered_by_seq() {
        let t = TempStore::new();
        let mut s = t.open();
        s.set_actor("surveyor-7");
        let d = s.create_draft(&new_draft(None)).unwrap();
        s.set_current_group(d, Some("G2")).unwrap();
        let all = s.audit_entries(0).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].action, "draft.create");
        assert_eq!(all[1].action, "draft.set_current_group");
        assert_eq!(all[1].actor, "surveyor-7");
        assert_eq!(all[1].entity_id, d.to_string());
        assert!(all[0].seq < all[1].seq);
        let later = s.audit_entries(all[0].seq).unwrap();
        assert_eq!(later, all[1..].to_vec());
    }

    #[test]
    fn triggers_reject_update_and_delete() {
        let t = TempStore::new();
        let mut s = t.open();
        s.create_draft(&new_draft(None)).unwrap();
        let upd = s
            .conn()
            .execute("UPDATE audit_log SET actor = 'mallory'", [])
            .unwrap_err();
        assert!(upd.to_string().contains("append-only"), "{upd}");
        let del = s.conn().execute("DELETE FROM audit_log", []).unwrap_err();
        assert!(del.to_string().contains("append-only"), "{del}");
        assert_eq!(s.audit_entries(0).unwrap()[0].actor, "device");
    }
}
