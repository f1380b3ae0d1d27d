//! Drafts: questionnaires being filled in, autosaved after every answer.
use crate::audit;
use crate::codec;
use crate::error::{Result, StoreError};
use crate::store::Store;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sipas_core::answer::{AnswerValue, Answers};
use sipas_core::questionnaire::FormKey;
use sipas_core::response::{GpsFix, Origin, Paradata, new_id};
use uuid::Uuid;

/// What is needed to start a draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDraft {
    /// Assignment being interviewed (must be stored), or `None` for an ad hoc interview.
    pub assignment_id: Option<Uuid>,
    /// Questionnaire (form and version).
    pub form: FormKey,
    /// Survey round.
    pub round_id: String,
    /// Administrative unit code of the sample unit.
    pub unit_code: String,
}

/// What kind of interview a draft is, beyond its round and unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftKind {
    /// Where the respondent comes from (`sample` for an assignment or an ad hoc interview;
    /// `replacement` / `walk_in` outside the sample, in a round that allows it).
    #[serde(default)]
    pub origin: Origin,
    /// A practice interview (phỏng vấn thử): it stays a draft; completing it is refused, so
    /// it is never queued, synced or counted. Discard it when done.
    #[serde(default)]
    pub practice: bool,
}

/// A questionnaire in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Id the response will carry once completed (UUIDv7).
    pub id: Uuid,
    /// Assignment being interviewed.
    pub assignment_id: Option<Uuid>,
    /// Questionnaire (form and version).
    pub form: FormKey,
    /// Survey round.
    pub round_id: String,
    /// Administrative unit code of the sample unit.
    pub unit_code: String,
    /// Answers so far, keyed by item code.
    pub answers: Answers,
    /// Group (step) the surveyor is on.
    pub current_group: Option<String>,
    /// Timing / GPS paradata so far.
    pub paradata: Paradata,
    /// When the draft was started.
    pub started_at: DateTime<Utc>,
    /// When it was last autosaved.
    pub updated_at: DateTime<Utc>,
    /// Where the respondent comes from.
    #[serde(default)]
    pub origin: Origin,
    /// A practice interview: never completed, queued or synced.
    #[serde(default)]
    pub practice: bool,
}

const COLUMNS: &str = "response_id, assignment_id, form_id, form_version, round_id, unit_code,
                       answers_json, current_group, paradata_json, started_at, updated_at,
                       origin, practice";

/// A draft row as stored, before decoding.
struct RawDraft {
    id: String,
    assignment_id: Option<String>,
    form_id: String,
    form_version: String,
    round_id: String,
    unit_code: String,
    answers: String,
    current_group: Option<String>,
    paradata: String,
    started_at: String,
    updated_at: String,
    origin: String,
    practice: bool,
}

fn raw(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDraft> {
    Ok(RawDraft {
        id: r.get(0)?,
        assignment_id: r.get(1)?,
        form_id: r.get(2)?,
        form_version: r.get(3)?,
        round_id: r.get(4)?,
        unit_code: r.get(5)?,
        answers: r.get(6)?,
        current_group: r.get(7)?,
        paradata: r.get(8)?,
        started_at: r.get(9)?,
        updated_at: r.get(10)?,
        origin: r.get(11)?,
        practice: r.get(12)?,
    })
}

fn decode(d: RawDraft) -> Result<Draft> {
    let what = format!("draft {}", d.id);
    Ok(Draft {
        id: codec::parse_uuid(&d.id, &what)?,
        assignment_id: d
            .assignment_id
            .map(|a| codec::parse_uuid(&a, &what))
            .transpose()?,
        form: FormKey {
            form_id: d.form_id,
            version: d.form_version,
        },
        round_id: d.round_id,
        unit_code: d.unit_code,
        answers: codec::from_json(&d.answers, &format!("answers of {what}"))?,
        current_group: d.current_group,
        paradata: codec::from_json(&d.paradata, &format!("paradata of {what}"))?,
        started_at: codec::parse_ts(&d.started_at, &what)?,
        updated_at: codec::parse_ts(&d.updated_at, &what)?,
        origin: Origin::from_code(&d.origin)
            .ok_or_else(|| StoreError::corrupt(&what, format!("unknown origin {:?}", d.origin)))?,
        practice: d.practice,
    })
}

/// Reads one draft through any connection (inside or outside a transaction).
pub(crate) fn load(conn: &Connection, id: Uuid) -> Result<Option<Draft>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM drafts WHERE response_id = ?1"),
        [id.to_string()],
        raw,
    )
    .optional()?
    .map(decode)
    .transpose()
}

/// Checks that a GPS fix is a possible position: finite, latitude in -90..=90, longitude in
/// -180..=180 and accuracy of 0 m or more.
fn check_fix(f: &GpsFix) -> Result<()> {
    let problem = if !(f.lat.is_finite() && (-90.0..=90.0).contains(&f.lat)) {
        Some(format!("latitude {} is out of range", f.lat))
    } else if !(f.lon.is_finite() && (-180.0..=180.0).contains(&f.lon)) {
        Some(format!("longitude {} is out of range", f.lon))
    } else if !(f.accuracy_m.is_finite() && f.accuracy_m >= 0.0) {
        Some(format!("accuracy {} m is not possible", f.accuracy_m))
    } else {
        None
    };
    match problem {
        Some(detail) => Err(StoreError::InvalidGpsFix { detail }),
        None => Ok(()),
    }
}

/// A fix rounded to 1e-7 degree (about 1 cm) and accuracy to 0.01 m. Each value is then the
/// `f64` nearest to a decimal of at most 12 significant digits, which serde_json writes with
/// those digits and parses back exactly (its fast path: an integer below 2^53 scaled by an
/// exact power of ten), so the stored JSON and the content hash stay stable.
pub(crate) fn round_fix(f: GpsFix) -> GpsFix {
    let round = |v: f64, scale: f64| (v * scale).round() / scale;
    GpsFix {
        lat: round(f.lat, 1e7),
        lon: round(f.lon, 1e7),
        accuracy_m: round(f.accuracy_m, 1e2),
    }
}

/// Inserts a draft row; fails with [`StoreError::DraftExists`] if its id is taken.
fn insert(conn: &Connection, d: &Draft) -> Result<()> {
    let what = format!("draft {}", d.id);
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM drafts WHERE response_id = ?1)",
        [d.id.to_string()],
        |r| r.get(0),
    )?;
    if exists {
        return Err(StoreError::DraftExists { id: d.id });
    }
    conn.execute(
        &format!(
            "INSERT INTO drafts ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ),
        params![
            d.id.to_string(),
            d.assignment_id.map(|a| a.to_string()),
            d.form.form_id,
            d.form.version,
            d.round_id,
            d.unit_code,
            codec::to_json(&d.answers, &what)?,
            d.current_group,
            codec::to_json(&d.paradata, &what)?,
            codec::ts(&d.started_at),
            codec::ts(&d.updated_at),
            d.origin.as_str(),
            d.practice,
        ],
    )?;
    Ok(())
}

impl Store {
    /// Starts a draft and returns its id (a new UUIDv7, which the response will keep).
    /// If an assignment is named it must already be stored.
    pub fn create_draft(&mut self, new: &NewDraft) -> Result<Uuid> {
        self.create_draft_as(new, DraftKind::default())
    }

    /// [`Store::create_draft`] of a given kind: an interview outside the sample names no
    /// assignment ([`StoreError::OriginWithAssignment`] otherwise); a practice interview is
    /// never completed into a response.
    pub fn create_draft_as(&mut self, new: &NewDraft, kind: DraftKind) -> Result<Uuid> {
        if kind.origin.is_outside_sample() && new.assignment_id.is_some() {
            return Err(StoreError::OriginWithAssignment);
        }
        match new.assignment_id {
            Some(a) if self.get_assignment(a)?.is_none() => {
                return Err(StoreError::not_found("assignment", a));
            }
            _ => {}
        }
        crate::assignments::ensure_not_withdrawn(self.conn(), new.assignment_id)?;
        let now = codec::now();
        let draft = Draft {
            id: new_id(),
            assignment_id: new.assignment_id,
            form: new.form.clone(),
            round_id: new.round_id.clone(),
            unit_code: new.unit_code.clone(),
            answers: Answers::new(),
            current_group: None,
            paradata: Paradata::default(),
            started_at: now,
            updated_at: now,
            origin: kind.origin,
            practice: kind.practice,
        };
        self.write(|tx, actor| {
            insert(tx, &draft)?;
            audit::append(
                tx,
                actor,
                "draft.create",
                "draft",
                &draft.id.to_string(),
                serde_json::json!({
                    "form": draft.form.to_string(),
                    "round_id": draft.round_id,
                    "unit_code": draft.unit_code,
                    "assignment_id": draft.assignment_id,
                    "origin": draft.origin,
                    "practice": draft.practice,
                }),
            )?;
            Ok(draft.id)
        })
    }

    /// Reopens the latest revision of a stored response as a draft with the same id, so the
    /// surveyor can correct it (e.g. after a supervisor's rejection); completing that draft
    /// stores the next revision.
    pub fn edit_response(&mut self, id: Uuid) -> Result<Draft> {
        let latest = self
            .latest_response(id)?
            .ok_or_else(|| StoreError::not_found("response", id))?;
        let r = latest.response;
        crate::assignments::ensure_not_withdrawn(self.conn(), r.assignment_id)?;
        let draft = Draft {
            id: r.id,
            assignment_id: r.assignment_id,
            form: r.form,
            round_id: r.round_id,
            unit_code: r.unit_code,
            answers: r.answers,
            current_group: None,
            paradata: r.paradata,
            started_at: r.started_at,
            updated_at: codec::now(),
            origin: r.origin,
            practice: false,
        };
        self.write(|tx, actor| {
            insert(tx, &draft)?;
            audit::append(
                tx,
                actor,
                "draft.edit_response",
                "draft",
                &draft.id.to_string(),
                serde_json::json!({ "from_revision": r.revision }),
            )
        })?;
        Ok(draft)
    }

    /// Autosaves one answer: `Some` sets it, `None` clears it. `item_ms` (time spent on the
    /// item) is added to the item's accumulated time in the paradata. Atomic: the whole
    /// read-modify-write happens in one transaction holding the write lock.
    pub fn save_answer(
        &mut self,
        draft_id: Uuid,
        item_code: &str,
        value: Option<AnswerValue>,
        item_ms: Option<u64>,
    ) -> Result<()> {
        self.write(|tx, actor| {
            let mut d =
                load(tx, draft_id)?.ok_or_else(|| StoreError::not_found("draft", draft_id))?;
            crate::assignments::ensure_not_withdrawn(tx, d.assignment_id)?;
            let cleared = value.is_none();
            match value {
                Some(v) => d.answers.insert(item_code.to_string(), v),
                None => d.answers.remove(item_code),
            };
            if let Some(ms) = item_ms {
                let total = d.paradata.item_ms.entry(item_code.to_string()).or_insert(0);
                *total = total.saturating_add(ms);
            }
            let what = format!("draft {draft_id}");
            tx.execute(
                "UPDATE drafts SET answers_json = ?2, paradata_json = ?3, updated_at = ?4
                 WHERE response_id = ?1",
                params![
                    draft_id.to_string(),
                    codec::to_json(&d.answers, &what)?,
                    codec::to_json(&d.paradata, &what)?,
                    codec::ts(&codec::now()),
                ],
            )?;
            // Answer values are not copied into the audit log (free text may be personal).
            audit::append(
                tx,
                actor,
                "draft.save_answer",
                "draft",
                &draft_id.to_string(),
                serde_json::json!({ "item": item_code, "cleared": cleared, "item_ms": item_ms }),
            )
        })
    }

    /// Attaches a GPS fix to the draft's paradata (`None` removes a stored one), so the
    /// response completed from it carries `paradata.gps`. Location is optional paradata:
    /// nothing requires it. A fix outside the possible ranges (latitude -90..=90, longitude
    /// -180..=180, accuracy ≥ 0 m, all finite) is refused with
    /// [`StoreError::InvalidGpsFix`] and nothing changes. The audit entry records only
    /// whether a fix is set, never the position.
    ///
    /// The fix is stored rounded to 7 decimal places of a degree (about 1 cm) and accuracy to
    /// the centimetre: such numbers read back from JSON bit for bit, so what is stored is
    /// exactly what was set and what the response's content hash covers on the device and on
    /// the server. (A browser's 15–17-digit `f64`s often come back from serde_json's default
    /// parser one unit in the last place off.)
    pub fn set_draft_gps(&mut self, draft_id: Uuid, fix: Option<GpsFix>) -> Result<()> {
        let fix = fix
            .map(|f| check_fix(&f).map(|()| round_fix(f)))
            .transpose()?;
        self.write(|tx, actor| {
            let mut d =
                load(tx, draft_id)?.ok_or_else(|| StoreError::not_found("draft", draft_id))?;
            crate::assignments::ensure_not_withdrawn(tx, d.assignment_id)?;
            d.paradata.gps = fix;
            tx.execute(
                "UPDATE drafts SET paradata_json = ?2, updated_at = ?3 WHERE response_id = ?1",
                params![
                    draft_id.to_string(),
                    codec::to_json(&d.paradata, &format!("draft {draft_id}"))?,
                    codec::ts(&codec::now()),
                ],
            )?;
            // A position can identify a respondent's home: only its presence is audited.
            audit::append(
                tx,
                actor,
                "draft.set_gps",
                "draft",
                &draft_id.to_string(),
                serde_json::json!({ "gps": fix.is_some() }),
            )
        })
    }

    /// Remembers which group (step) the surveyor is on, so the app resumes there.
    pub fn set_current_group(&mut self, draft_id: Uuid, group: Option<&str>) -> Result<()> {
        self.write(|tx, actor| {
            let changed = tx.execute(
                "UPDATE drafts SET current_group = ?2, updated_at = ?3 WHERE response_id = ?1",
                params![draft_id.to_string(), group, codec::ts(&codec::now())],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("draft", draft_id));
            }
            audit::append(
                tx,
                actor,
                "draft.set_current_group",
                "draft",
                &draft_id.to_string(),
                serde_json::json!({ "group": group }),
            )
        })
    }

    /// The draft with this id, if any.
    pub fn get_draft(&self, id: Uuid) -> Result<Option<Draft>> {
        load(self.conn(), id)
    }

    /// All drafts, oldest first.
    pub fn list_drafts(&self) -> Result<Vec<Draft>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM drafts ORDER BY started_at, response_id"
        ))?;
        let rows = stmt
            .query_map([], raw)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(decode).collect()
    }

    /// Deletes a draft and its answers (the surveyor abandoned the interview). The draft of
    /// a withdrawn assignment is kept ([`StoreError::Withdrawn`]).
    pub fn discard_draft(&mut self, id: Uuid) -> Result<()> {
        self.write(|tx, actor| {
            if let Some(d) = load(tx, id)? {
                crate::assignments::ensure_not_withdrawn(tx, d.assignment_id)?;
            }
            let changed = tx.execute(
                "DELETE FROM drafts WHERE response_id = ?1",
                [id.to_string()],
            )?;
            if changed == 0 {
                return Err(StoreError::not_found("draft", id));
            }
            audit::append(
                tx,
                actor,
                "draft.discard",
                "draft",
                &id.to_string(),
                serde_json::json!({}),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{TempStore, assignment, new_draft};
    use sipas_core::response::Response;

    #[test]
    fn a_practice_interview_never_reaches_the_outbox() {
        let t = TempStore::new();
        let mut s = t.open();
        let kind = DraftKind {
            origin: Origin::Sample,
            practice: true,
        };
        let id = s.create_draft_as(&new_draft(None), kind).unwrap();
        s.save_answer(id, "A1", Some(AnswerValue::Int(3)), None)
            .unwrap();
        let d = s.get_draft(id).unwrap().unwrap();
        assert!(d.practice, "marked as practice on the device");
        let err = s.complete_draft(id, codec::now()).unwrap_err();
        assert!(
            matches!(err, StoreError::PracticeNotQueued { id: e } if e == id),
            "{err:?}"
        );
        // Nothing stored, nothing queued; the draft stays until discarded.
        assert!(s.list_responses().unwrap().is_empty());
        assert_eq!(s.outbox_counts().unwrap().pending, 0);
        assert!(s.pending_outbox(10).unwrap().is_empty());
        drop(s);
        let mut s = t.open();
        assert!(
            s.get_draft(id).unwrap().unwrap().practice,
            "kept across reopen"
        );
        s.discard_draft(id).unwrap();
        assert!(s.list_drafts().unwrap().is_empty());
        assert!(s.list_responses().unwrap().is_empty());
    }

    #[test]
    fn a_walk_in_keeps_its_origin_into_the_queued_response() {
        let t = TempStore::new();
        let mut s = t.open();
        let kind = DraftKind {
            origin: Origin::WalkIn,
            practice: false,
        };
        let err = s
            .create_draft_as(&new_draft(Some(Uuid::now_v7())), kind)
            .unwrap_err();
        assert!(matches!(err, StoreError::OriginWithAssignment), "{err:?}");
        let id = s.create_draft_as(&new_draft(None), kind).unwrap();
        assert_eq!(s.get_draft(id).unwrap().unwrap().origin, Origin::WalkIn);
        let r = s.complete_draft(id, codec::now()).unwrap();
        assert_eq!(r.origin, Origin::WalkIn);
        drop(s);
        let s = t.open();
        let stored = s.latest_response(id).unwrap().unwrap();
        assert_eq!(stored.response.origin, Origin::WalkIn);
        assert_eq!(stored.content_hash, r.content_hash());
        assert_eq!(s.pending_outbox(10).unwrap().len(), 1);
    }

    #[test]
    fn autosave_round_trips_across_close_and_reopen() {
        let t = TempStore::new();
        let id = {
            let mut s = t.open();
            let id = s.create_draft(&new_draft(None)).unwrap();
            assert_eq!(id.get_version_num(), 7);
            s.save_answer(id, "A1", Some(AnswerValue::Text("nam".into())), Some(1200))
                .unwrap();
            s.save_answer(id, "A2", Some(AnswerValue::Int(42)), Some(800))
                .unwrap();
            s.save_answer(
                id,
                "B3",
                Some(AnswerValue::Codes(vec!["a".into(), "c".into()])),
                None,
            )
            .unwrap();
            s.save_answer(id, "A1", Some(AnswerValue::Text("nữ".into())), Some(300))
                .unwrap();
            s.set_current_group(id, Some("G2")).unwrap();
            id
        };
        let s = t.open();
        let d = s.get_draft(id).unwrap().unwrap();
        assert_eq!(d.answers.len(), 3);
        assert_eq!(d.answers["A1"], AnswerValue::Text("nữ".into()));
        assert_eq!(d.answers["A2"], AnswerValue::Int(42));
        assert_eq!(
            d.answers["B3"],
            AnswerValue::Codes(vec!["a".into(), "c".into()])
        );
        assert_eq!(d.paradata.item_ms["A1"], 1500, "item time accumulates");
        assert_eq!(d.paradata.item_ms.get("B3"), None);
        assert_eq!(d.current_group.as_deref(), Some("G2"));
        assert!(d.updated_at >= d.started_at);
        assert_eq!(s.list_drafts().unwrap(), vec![d]);
    }

    #[test]
    fn none_clears_an_answer() {
        let mut s = Store::open_in_memory().unwrap();
        let id = s.create_draft(&new_draft(None)).unwrap();
        s.save_answer(id, "A1", Some(AnswerValue::Int(1)), None)
            .unwrap();
        s.save_answer(id, "A1", None, Some(5)).unwrap();
        let d = s.get_draft(id).unwrap().unwrap();
        assert!(d.answers.is_empty());
        assert_eq!(d.paradata.item_ms["A1"], 5);
    }

    #[test]
    fn discard_deletes_and_missing_drafts_are_not_found() {
        let mut s = Store::open_in_memory().unwrap();
        let id = s.create_draft(&new_draft(None)).unwrap();
        s.discard_draft(id).unwrap();
        assert_eq!(s.get_draft(id).unwrap(), None);
        for err in [
            s.discard_draft(id).unwrap_err(),
            s.save_answer(id, "A1", None, None).unwrap_err(),
            s.set_current_group(id, None).unwrap_err(),
        ] {
            assert!(
                matches!(err, StoreError::NotFound { what: "draft", .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn draft_for_unknown_assignment_is_refused() {
        let mut s = Store::open_in_memory().unwrap();
        let err = s
            .create_draft(&new_draft(Some(Uuid::now_v7())))
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::NotFound {
                what: "assignment",
                ..
            }
        ));
        let a = assignment();
        s.upsert_assignment(&a, None).unwrap();
        let id = s.create_draft(&new_draft(Some(a.id))).unwrap();
        assert_eq!(s.get_draft(id).unwrap().unwrap().assignment_id, Some(a.id));
    }

    #[test]
    fn gps_fix_is_stored_in_paradata_and_carried_into_the_response() {
        let t = TempStore::new();
        let fix = GpsFix {
            lat: 21.028_511,
            lon: 105.804_817,
            accuracy_m: 12.5,
        };
        let id = {
            let mut s = t.open();
            let id = s.create_draft(&new_draft(None)).unwrap();
            s.save_answer(id, "A1", Some(AnswerValue::Int(1)), Some(700))
                .unwrap();
            s.set_draft_gps(id, Some(fix)).unwrap();
            id
        };
        let mut s = t.open();
        let d = s.get_draft(id).unwrap().unwrap();
        assert_eq!(d.paradata.gps, Some(fix));
        assert_eq!(d.paradata.item_ms["A1"], 700, "timings are kept");
        let last = s.audit_entries(0).unwrap().pop().unwrap();
        assert_eq!(last.action, "draft.set_gps");
        assert!(
            !last.detail.to_string().contains("21.02"),
            "{}",
            last.detail
        );

        // Removing it, then setting it again (the boundary values are possible).
        s.set_draft_gps(id, None).unwrap();
        assert_eq!(s.get_draft(id).unwrap().unwrap().paradata.gps, None);
        let edge = GpsFix {
            lat: -90.0,
            lon: 180.0,
            accuracy_m: 0.0,
        };
        s.set_draft_gps(id, Some(edge)).unwrap();
        let r = s.complete_draft(id, chrono::Utc::now()).unwrap();
        assert_eq!(r.paradata.gps, Some(edge));
        assert_eq!(s.get_response(id, 1).unwrap().unwrap().response, r);
    }

    /// Browser fixes carry 15–17 significant digits, and about one in ten such `f64`s comes
    /// back from a JSON round trip through serde_json's default parser one unit in the last
    /// place off. Rounded fixes come back exactly, and the content hash of the response stays
    /// the same wherever the record is parsed again.
    #[test]
    fn rounded_fixes_survive_storage_and_keep_the_content_hash() {
        let mut s = Store::open_in_memory().unwrap();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..300 {
            let fix = GpsFix {
                lat: next() * 180.0 - 90.0,
                lon: next() * 360.0 - 180.0,
                accuracy_m: next() * 2000.0,
            };
            let id = s.create_draft(&new_draft(None)).unwrap();
            s.set_draft_gps(id, Some(fix)).unwrap();
            let stored = s.get_draft(id).unwrap().unwrap().paradata.gps;
            assert_eq!(stored, Some(round_fix(fix)), "read back bit for bit");
            let r = s.complete_draft(id, chrono::Utc::now()).unwrap();
            let gps = r.paradata.gps.unwrap();
            assert!((gps.lat - fix.lat).abs() <= 0.5e-7, "{fix:?} {gps:?}");
            assert!((gps.lon - fix.lon).abs() <= 0.5e-7, "{fix:?} {gps:?}");
            assert!(
                (gps.accuracy_m - fix.accuracy_m).abs() <= 0.005,
                "{fix:?} {gps:?}"
            );
            let stored = s.get_response(id, 1).expect("hash verified on read");
            assert_eq!(stored.unwrap().response, r);
            // What the server does with an upload: parse the record and check its hash.
            let wire: Response = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
            assert_eq!(wire.content_hash(), r.content_hash(), "{gps:?}");
        }
    }

    #[test]
    fn impossible_gps_fixes_are_refused_and_change_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        let id = s.create_draft(&new_draft(None)).unwrap();
        let good = GpsFix {
            lat: 10.762_622,
            lon: 106.660_172,
            accuracy_m: 30.0,
        };
        s.set_draft_gps(id, Some(good)).unwrap();
        let audit_len = s.audit_entries(0).unwrap().len();
        let bad = [
            (90.5, 0.0, 1.0, "latitude"),
            (-91.0, 0.0, 1.0, "latitude"),
            (f64::NAN, 0.0, 1.0, "latitude"),
            (0.0, 180.1, 1.0, "longitude"),
            (0.0, -200.0, 1.0, "longitude"),
            (0.0, f64::INFINITY, 1.0, "longitude"),
            (0.0, 0.0, -0.5, "accuracy"),
            (0.0, 0.0, f64::NAN, "accuracy"),
            (0.0, 0.0, f64::INFINITY, "accuracy"),
        ];
        for (lat, lon, accuracy_m, field) in bad {
            let err = s
                .set_draft_gps(
                    id,
                    Some(GpsFix {
                        lat,
                        lon,
                        accuracy_m,
                    }),
                )
                .unwrap_err();
            assert!(
                matches!(&err, StoreError::InvalidGpsFix { detail } if detail.contains(field)),
                "{lat} {lon} {accuracy_m}: {err}"
            );
            assert!(err.to_string().contains("GPS fix was not saved"), "{err}");
        }
        assert_eq!(s.get_draft(id).unwrap().unwrap().paradata.gps, Some(good));
        assert_eq!(s.audit_entries(0).unwrap().len(), audit_len);
        let err = s.set_draft_gps(Uuid::now_v7(), Some(good)).unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound { what: "draft", .. }),
            "{err}"
        );
    }

    #[test]
    fn answer_values_are_not_audited() {
        let mut s = Store::open_in_memory().unwrap();
        let id = s.create_draft(&new_draft(None)).unwrap();
        s.save_answer(
            id,
            "D1",
            Some(AnswerValue::Text("bí mật riêng".into())),
            None,
        )
        .unwrap();
        let last = s.audit_entries(0).unwrap().pop().unwrap();
        assert_eq!(last.action, "draft.save_answer");
        assert_eq!(last.detail["item"], "D1");
        assert!(!last.detail.to_string().contains("bí mật"));
    }
}
