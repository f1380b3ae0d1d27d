//! Retention of respondents' contact data on the device (data minimisation, Decree
//! 13/2023/NĐ-CP): names, addresses and phone numbers are needed to find the respondent and,
//! during the spot-check (phúc tra) window, to revisit; after that they are deleted.
use crate::audit;
use crate::codec;
use crate::error::Result;
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};

/// Days a collected assignment's contact data is kept after its response was completed,
/// unless the app configures another window: the spot-check window.
pub const CONTACT_RETENTION_DAYS: i64 = 30;

/// The default retention window ([`CONTACT_RETENTION_DAYS`]).
pub fn default_contact_retention() -> Duration {
    Duration::days(CONTACT_RETENTION_DAYS)
}

impl Store {
    /// Deletes the contact data (`assignment_contacts` rows) of every assignment that is
    /// done with on this device: it has at least one uploaded response revision, **every**
    /// uploaded revision is acknowledged by the server (outbox `acked`), the latest
    /// completion is older than `now - window`, its latest revision was not sent back by a
    /// supervisor (`rejected`: a revisit may follow) and no draft for it is open.
    ///
    /// Returns how many contacts were deleted; when any were, one audit entry
    /// `contacts.purged` records the count only (never who). Run it after every sync.
    pub fn purge_contacts(&mut self, now: DateTime<Utc>, window: Duration) -> Result<usize> {
        let cutoff = codec::ts(&(now - window));
        self.write(|tx, actor| {
            let n = tx.execute(
                "DELETE FROM assignment_contacts WHERE assignment_id IN (
                    SELECT r.assignment_id
                    FROM responses r
                    JOIN outbox o ON o.response_id = r.id AND o.revision = r.revision
                    WHERE r.assignment_id IS NOT NULL
                    GROUP BY r.assignment_id
                    HAVING SUM(o.state <> 'acked') = 0 AND MAX(r.completed_at) < ?1
                 )
                 AND assignment_id NOT IN (
                    SELECT assignment_id FROM drafts WHERE assignment_id IS NOT NULL
                 )
                 AND assignment_id NOT IN (
                    SELECT r.assignment_id FROM responses r
                    WHERE r.assignment_id IS NOT NULL AND r.status = 'rejected'
                      AND r.revision = (SELECT MAX(revision) FROM responses l WHERE l.id = r.id)
                 )",
                [cutoff],
            )?;
            if n > 0 {
                audit::append(
                    tx,
                    actor,
                    "contacts.purged",
                    "assignment_contacts",
                    "*",
                    serde_json::json!({ "count": n }),
                )?;
            }
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResponseStatus;
    use crate::test_support::{TempStore, assignment, contact, new_draft};
    use uuid::Uuid;

    /// A store with `n` assignments (with contacts), each with a completed response.
    fn collected(t: &TempStore, n: usize, completed: DateTime<Utc>) -> Vec<(Uuid, Uuid)> {
        let mut s = t.open();
        (0..n)
            .map(|_| {
                let a = assignment();
                s.upsert_assignment(&a, Some(&contact())).unwrap();
                let d = s.create_draft(&new_draft(Some(a.id))).unwrap();
                let r = s.complete_draft(d, completed).unwrap();
                (a.id, r.id)
            })
            .collect()
    }

    #[test]
    fn only_acknowledged_responses_past_the_window_lose_their_contacts() {
        let t = TempStore::new();
        let now = Utc::now();
        let old = now - Duration::days(45);
        let ids = collected(&t, 5, old);
        let mut s = t.open();
        let recent = collected(&t, 1, now - Duration::days(3))[0];
        // 0: acked, old → purged. 1: acked then sent back → kept. 2: still pending → kept.
        // 3: acked, but a revisit draft is open → kept. 4: acked, old → purged.
        // recent: acked, inside the window → kept. An assignment without response → kept.
        for (_, r) in [ids[0], ids[1], ids[3], ids[4], recent] {
            s.mark_in_flight(r, 1).unwrap();
            s.mark_acked(r, 1).unwrap();
        }
        s.set_response_status(ids[1].1, 1, ResponseStatus::Rejected, None)
            .unwrap();
        s.create_draft(&new_draft(Some(ids[3].0))).unwrap();
        let untouched = assignment();
        s.upsert_assignment(&untouched, Some(&contact())).unwrap();

        assert_eq!(
            s.purge_contacts(now, default_contact_retention()).unwrap(),
            2
        );
        assert_eq!(s.get_contact(ids[0].0).unwrap(), None);
        assert_eq!(s.get_contact(ids[4].0).unwrap(), None);
        for kept in [ids[1].0, ids[2].0, ids[3].0, recent.0, untouched.id] {
            assert_eq!(s.get_contact(kept).unwrap(), Some(contact()), "{kept}");
        }
        // Assignments and responses stay; only the personal data went.
        assert!(s.get_assignment(ids[0].0).unwrap().is_some());
        assert!(s.get_response(ids[0].1, 1).unwrap().is_some());

        let last = s.audit_entries(0).unwrap().pop().unwrap();
        assert_eq!(last.action, "contacts.purged");
        assert_eq!(last.detail, serde_json::json!({ "count": 2 }));
        let text = serde_json::to_string(&last).unwrap();
        assert!(!text.contains(&ids[0].0.to_string()), "{text}");

        // Nothing more to purge: no second audit entry. A shorter window reaches `recent`.
        let audit_len = s.audit_entries(0).unwrap().len();
        assert_eq!(
            s.purge_contacts(now, default_contact_retention()).unwrap(),
            0
        );
        assert_eq!(s.audit_entries(0).unwrap().len(), audit_len);
        assert_eq!(s.purge_contacts(now, Duration::days(1)).unwrap(), 1);
        assert_eq!(s.get_contact(recent.0).unwrap(), None);
    }
}
