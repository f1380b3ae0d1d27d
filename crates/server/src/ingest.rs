//! What a response is: the server's ingest rules, in one place for both storage backends.
//!
//! Sync follows a pure *diff → operations → execution* shape:
//! 1. the handler decodes each record on its own and runs the stateless checks
//!    ([`crate::validation`]): hash, form, answers, clock against the server's "now";
//! 2. the storage backend opens one transaction, takes its locks in a fixed order and loads an
//!    [`IngestContext`] (what is stored about the responses, assignments and rounds the batch
//!    names);
//! 3. [`plan`] decides — purely — one acknowledgement per record and the [`Op`]s to write;
//! 4. the backend executes the operations in the same transaction.
//!
//! Backends therefore make no accept / duplicate / conflict / quarantine decision: they read
//! and write. The rules (each documented in API.md, "Ingest rules"):
//! - a response id is **bound** at its first acceptance to its round, assignment, surveyor and
//!   unit; a later revision naming another → `conflict` (`bound_elsewhere`);
//! - **one response per assignment**: a second id for an assignment whose response is not
//!   voided → `conflict` (`assignment_has_response`);
//! - a new revision is taken only as latest + 1 (`revision_gap` otherwise) and only while the
//!   latest is pending or rejected (`already_approved`); a lower revision arriving late is a
//!   `duplicate` (`stale`) and replaces nothing; a voided response takes no new revision
//!   (`voided`);
//! - every record refused as `invalid` is kept in **quarantine** (never counted) and the ack
//!   names the entry;
//! - **clock**: `completed_at` before the round's first day minus one day → `invalid` (`clock`)
//!   (the checks against the server's clock and `started_at` are stateless, in validation);
//! - **outside the sample**: a new response without an assignment whose `origin` is
//!   `replacement` or `walk_in` is taken only when its round allows that origin, its unit is
//!   one of the round's units and the unit has fewer than the round's cap of (not voided)
//!   interviews outside the sample; the plan then creates its assignment ([`Op::CreateAssignment`],
//!   id = the response id, owner = the surveyor, origin marked, no contact). Otherwise
//!   `invalid` (`no_assignment`, `unknown_unit`, `outside_sample_cap`).
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use sipas_core::mode::ResponseMode;
use sipas_core::response::{Origin, Response};
use sipas_protocol::wire::{
    AckReason, AckStatus, AnswerProblem, Assignment, Decision, OutsideSample, RecordAck,
    UploadRecord,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// Audit action names written by ingest, review of quarantine and voiding.
pub mod action {
    /// A response revision was stored.
    pub const ACCEPTED: &str = "response.accepted";
    /// A record was refused as a conflict (nothing changed).
    pub const CONFLICT: &str = "response.conflict";
    /// A record was refused as invalid and kept in quarantine.
    pub const QUARANTINED: &str = "response.quarantined";
    /// A supervisor voided a response (it leaves the index; the assignment may be re-interviewed).
    pub const VOIDED: &str = "response.voided";
    /// A supervisor accepted a quarantined record.
    pub const QUARANTINE_ACCEPTED: &str = "quarantine.accepted";
    /// A supervisor dismissed a quarantined record.
    pub const QUARANTINE_DISMISSED: &str = "quarantine.dismissed";
    /// A signed hand-over file was imported.
    pub const HANDOVER_IMPORTED: &str = "handover.imported";
}

/// How far before the round's first day a `completed_at` may lie.
pub const CLOCK_BEFORE_ROUND: Duration = Duration::days(1);
/// How far after the server's clock a `completed_at` may lie.
pub const CLOCK_AHEAD: Duration = Duration::hours(24);

/// One record of a batch after decoding and the stateless checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// Passed the stateless checks; the rules decide.
    Valid {
        /// The response.
        response: Response,
        /// Its content hash (lower-case hex).
        hash: String,
    },
    /// Refused before storage: kept in quarantine with the reason.
    Refused(Refusal),
}

impl Checked {
    /// Id and revision as far as they are known (nil and 0 for an unreadable record).
    pub fn key(&self) -> (Uuid, u32) {
        match self {
            Checked::Valid { response, .. } => (response.id, response.revision),
            Checked::Refused(r) => (r.id, r.revision),
        }
    }
}

/// A record refused as invalid, with what quarantine keeps of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// Response id as read from the record (nil when unreadable).
    pub id: Uuid,
    /// Revision as read (0 when unreadable).
    pub revision: u32,
    /// Why.
    pub reason: AckReason,
    /// Why, in English, with detail (never personal data).
    pub detail: String,
    /// Invalid answers.
    pub issues: Vec<AnswerProblem>,
    /// The record as received (JSON text).
    pub record_json: String,
    /// Round, unit and assignment named by the record, when readable.
    pub round_id: Option<String>,
    /// Unit code named by the record.
    pub unit_code: Option<String>,
    /// Assignment named by the record.
    pub assignment_id: Option<Uuid>,
}

impl Refusal {
    /// SHA-256 (hex) of the record text: the same record resent is one quarantine entry.
    pub fn record_sha(&self) -> String {
        hex::encode(Sha256::digest(self.record_json.as_bytes()))
    }
}

/// Who stores a batch, and through what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// The surveyor the records are from.
    pub surveyor: Uuid,
    /// The device (device tokens and hand-over files).
    pub device: Option<Uuid>,
    /// The supervisor importing a signed hand-over file, if that is how it came.
    pub handover_importer: Option<Uuid>,
    /// How the records were collected (issue 15): set by the server from the channel, stored
    /// with every revision. See [`self_mode_problem`] for the two rules it changes.
    pub mode: ResponseMode,
}

/// A batch to store.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestBatch {
    /// The records, in the order received.
    pub items: Vec<Checked>,
    /// From whom.
    pub source: Source,
    /// The server's clock at reception.
    pub received_at: DateTime<Utc>,
    /// Set when a supervisor accepts a quarantined record: the assignment-owner check is
    /// waived (the record was refused because the assignment moved), nothing else is.
    pub override_by: Option<Uuid>,
}

/// How a response is bound at its first acceptance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Round.
    pub round_id: String,
    /// Assignment (sampled respondent).
    pub assignment_id: Option<Uuid>,
    /// Surveyor who submitted it.
    pub surveyor_id: Uuid,
    /// Administrative unit code.
    pub unit_code: String,
}

/// The assignment a response belongs to: the one it names, or — for an interview outside
/// the sample, which names none — the assignment the server creates for it, whose id is the
/// response id.
pub fn assignment_of(response: &Response) -> Option<Uuid> {
    response
        .assignment_id
        .or_else(|| response.origin.is_outside_sample().then_some(response.id))
}

impl Binding {
    fn of(response: &Response, surveyor: Uuid) -> Self {
        Binding {
            round_id: response.round_id.clone(),
            assignment_id: assignment_of(response),
            surveyor_id: surveyor,
            unit_code: response.unit_code.clone(),
        }
    }
}

/// What is stored about one response id.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// Its binding.
    pub binding: Binding,
    /// Stored revisions with their content hashes.
    pub revisions: BTreeMap<u32, String>,
    /// The latest decision on the latest revision (`None`: pending).
    pub latest_decision: Option<Decision>,
    /// Voided by a supervisor.
    pub voided: bool,
}

impl StoredResponse {
    fn latest(&self) -> u32 {
        self.revisions.keys().next_back().copied().unwrap_or(0)
    }
}

/// What is stored about one assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAssignment {
    /// The assignment (round, form, unit).
    pub assignment: Assignment,
    /// Its surveyor.
    pub owner: Option<Uuid>,
    /// Its response, if one is bound and not voided.
    pub response_id: Option<Uuid>,
    /// Where its respondent comes from (the sample, or created for an interview outside it).
    pub origin: Origin,
}

/// What the rules read about one unit of a round for interviews outside the sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitQuota {
    /// The unit is one of the round's units (it has sampled assignments in the round).
    pub in_round: bool,
    /// Interviews outside the sample the unit already has in the round (not voided).
    pub used: u32,
}

/// Everything the rules read, loaded by the backend inside the write transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestContext {
    /// Stored responses among the batch's ids.
    pub responses: HashMap<Uuid, StoredResponse>,
    /// Assignments the batch names.
    pub assignments: HashMap<Uuid, StoredAssignment>,
    /// First day of each round the batch names.
    pub round_starts: HashMap<String, NaiveDate>,
    /// Policy on interviews outside the sample of each round the batch names.
    pub round_policies: HashMap<String, OutsideSample>,
    /// Rounds the batch names that are closed (issue 10): new records are refused.
    pub closed_rounds: BTreeSet<String>,
    /// (round, unit) of the batch's interviews outside the sample → what is stored there.
    pub units: HashMap<(String, String), UnitQuota>,
    /// Open quarantine entries of the batch's (id, revision, record hash).
    pub quarantined: HashMap<(Uuid, u32, String), Uuid>,
}

impl IngestBatch {
    /// Response ids of the batch, sorted (the order backends lock them in).
    pub fn response_ids(&self) -> Vec<Uuid> {
        let set: BTreeSet<Uuid> = self
            .items
            .iter()
            .map(|c| c.key().0)
            .filter(|id| !id.is_nil())
            .collect();
        set.into_iter().collect()
    }

    /// Assignment ids of valid records ([`assignment_of`]: named, or created for an
    /// interview outside the sample), sorted.
    pub fn assignment_ids(&self) -> Vec<Uuid> {
        let set: BTreeSet<Uuid> = self
            .items
            .iter()
            .filter_map(|c| match c {
                Checked::Valid { response, .. } => assignment_of(response),
                Checked::Refused(_) => None,
            })
            .collect();
        set.into_iter().collect()
    }

    /// (round, unit) of valid records outside the sample without an assignment, sorted:
    /// the places whose [`UnitQuota`] the rules read (and PostgreSQL locks).
    pub fn outside_units(&self) -> Vec<(String, String)> {
        let set: BTreeSet<(String, String)> = self
            .items
            .iter()
            .filter_map(|c| match c {
                Checked::Valid { response, .. }
                    if response.assignment_id.is_none() && response.origin.is_outside_sample() =>
                {
                    Some((response.round_id.clone(), response.unit_code.clone()))
                }
                _ => None,
            })
            .collect();
        set.into_iter().collect()
    }

    /// Round ids named by valid records, sorted.
    pub fn round_ids(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .items
            .iter()
            .filter_map(|c| match c {
                Checked::Valid { response, .. } => Some(response.round_id.clone()),
                Checked::Refused(_) => None,
            })
            .collect();
        set.into_iter().collect()
    }

    /// (id, revision) of the refused records, for looking up their quarantine entries.
    pub fn refused_keys(&self) -> Vec<(Uuid, u32)> {
        self.items
            .iter()
            .filter_map(|c| match c {
                Checked::Refused(r) => Some((r.id, r.revision)),
                Checked::Valid { .. } => None,
            })
            .collect()
    }
}

/// One write the backend executes, in order, inside the transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Create the assignment of an interview outside the sample: status `collected`, no
    /// contact, no procedure, owned by the surveyor, with its origin (new change cursor).
    CreateAssignment {
        /// Assignment id (= the response id).
        id: Uuid,
        /// Round.
        round_id: String,
        /// Unit code.
        unit_code: String,
        /// `replacement` or `walk_in`.
        origin: Origin,
        /// The surveyor.
        owner: Uuid,
    },
    /// Bind a new response id.
    Bind {
        /// Response id.
        response_id: Uuid,
        /// Its binding.
        binding: Binding,
    },
    /// Store a response revision (item index into the batch).
    InsertRevision {
        /// Index of the record in [`IngestBatch::items`].
        item: usize,
    },
    /// Mark an assignment `collected` (bumps its change cursor).
    MarkCollected {
        /// The assignment.
        assignment_id: Uuid,
    },
    /// Keep a refused record in quarantine.
    Quarantine {
        /// New entry id.
        id: Uuid,
        /// Its reason and content.
        refusal: Refusal,
        /// Surveyor.
        surveyor: Uuid,
        /// Device.
        device: Option<Uuid>,
    },
    /// Append an audit entry.
    Audit {
        /// Who.
        actor: Option<Uuid>,
        /// What ([`action`]).
        action: &'static str,
        /// Entity id.
        entity: Option<String>,
    },
}

/// The decisions on a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// One acknowledgement per record, in order.
    pub acks: Vec<RecordAck>,
    /// What to write, in order.
    pub ops: Vec<Op>,
}

/// The responses whose revisions `ops` store (each once, sorted), with the latest stored
/// revision of each: what the answer counts of a batch are refreshed from.
pub fn stored_revisions<'b>(
    batch: &'b IngestBatch,
    ops: &[Op],
) -> (Vec<Uuid>, HashMap<Uuid, &'b Response>) {
    let mut hints: HashMap<Uuid, &Response> = HashMap::new();
    for op in ops {
        if let Op::InsertRevision { item } = op
            && let Some(Checked::Valid { response, .. }) = batch.items.get(*item)
        {
            let later = hints
                .get(&response.id)
                .is_none_or(|h| h.revision < response.revision);
            if later {
                hints.insert(response.id, response);
            }
        }
    }
    let mut ids: Vec<Uuid> = hints.keys().copied().collect();
    ids.sort_unstable();
    (ids, hints)
}

/// What a transaction that executed a plan knows of the revisions it stored without
/// reading them back: both backends' count refresh ([`crate::answer_counts`]) reads only
/// the rest.
pub struct InHand<'b> {
    /// The latest revision stored of each response ([`stored_revisions`]).
    pub responses: HashMap<Uuid, &'b Response>,
    /// Their mode (`responses.mode`: the batch's).
    mode: &'b str,
    /// The responses the plan bound: none of their revisions was stored before, none is
    /// voided or decided, and they have no `response_facts` row yet (a response is bound
    /// once, by the transaction that stores its first revision).
    first_bound: HashMap<Uuid, &'b Binding>,
    /// Their reception.
    received_at: DateTime<Utc>,
    /// The context the batch was planned with (its assignments).
    ctx: &'b IngestContext,
}

impl<'b> InHand<'b> {
    /// The responses whose revisions `ops` stored (sorted) and what is known of them.
    pub fn of(batch: &'b IngestBatch, ctx: &'b IngestContext, ops: &'b [Op]) -> (Vec<Uuid>, Self) {
        let (ids, responses) = stored_revisions(batch, ops);
        let first_bound = ops
            .iter()
            .filter_map(|op| match op {
                Op::Bind {
                    response_id,
                    binding,
                } => Some((*response_id, binding)),
                _ => None,
            })
            .collect();
        let known = InHand {
            responses,
            mode: batch.source.mode.as_str(),
            first_bound,
            received_at: batch.received_at,
            ctx,
        };
        (ids, known)
    }

    /// The `current_responses` state of a response this transaction bound (its latest
    /// revision in hand, the binding's round and unit, no decision); `None` for others.
    pub fn first_state(&self, id: &Uuid) -> Option<crate::answer_counts::Current> {
        let (b, r) = (self.first_bound.get(id)?, self.responses.get(id)?);
        Some(crate::answer_counts::Current {
            revision: r.revision,
            round_id: b.round_id.clone(),
            unit_code: b.unit_code.clone(),
            received_at: self.received_at,
            decision: None,
        })
    }

    /// The mode of revision `revision` of `id` when this transaction stored it.
    pub fn mode_of(&self, id: &Uuid, revision: u32) -> Option<&'b str> {
        let r = self.responses.get(id)?;
        (r.revision == revision).then_some(self.mode)
    }

    /// Agency and field codes (`""`: none) of an assignment the batch was planned with.
    pub fn codes(&self, assignment: Uuid) -> Option<(String, String)> {
        let a = &self.ctx.assignments.get(&assignment)?.assignment;
        Some((
            a.agency_code.clone().unwrap_or_default(),
            a.field_code.clone().unwrap_or_default(),
        ))
    }
}

/// Entity id of a response revision in audit entries: `<uuid>/<revision>`.
pub fn revision_entity(id: Uuid, revision: u32) -> String {
    format!("{id}/{revision}")
}

fn ack(id: Uuid, revision: u32, status: AckStatus) -> RecordAck {
    RecordAck {
        id,
        revision,
        status,
        reason: None,
        reason_code: None,
        quarantine_id: None,
        issues: Vec::new(),
    }
}

/// Decides every record of `batch` against `ctx` (updated as the batch goes, so later records
/// see earlier ones) and lists the writes. `new_id` makes quarantine entry ids.
pub fn plan(batch: &IngestBatch, ctx: &mut IngestContext, new_id: impl FnMut() -> Uuid) -> Plan {
    let mut planner = Planner {
        batch,
        ctx,
        new_id,
        ops: Vec::new(),
        collected: BTreeSet::new(),
    };
    let mut acks = Vec::with_capacity(batch.items.len());
    for (i, item) in batch.items.iter().enumerate() {
        let a = match item {
            Checked::Refused(refusal) => planner.quarantine(refusal.clone()),
            Checked::Valid { response, hash } => planner.decide(i, response, hash),
        };
        acks.push(a);
    }
    let Planner {
        mut ops, collected, ..
    } = planner;
    ops.extend(
        collected
            .into_iter()
            .map(|assignment_id| Op::MarkCollected { assignment_id }),
    );
    if let Some(importer) = batch.source.handover_importer {
        ops.push(Op::Audit {
            actor: Some(importer),
            action: action::HANDOVER_IMPORTED,
            entity: batch.source.device.map(|d| d.to_string()),
        });
    }
    Plan { acks, ops }
}

struct Planner<'a, F> {
    batch: &'a IngestBatch,
    ctx: &'a mut IngestContext,
    new_id: F,
    ops: Vec<Op>,
    collected: BTreeSet<Uuid>,
}

impl<F: FnMut() -> Uuid> Planner<'_, F> {
    fn actor(&self) -> Option<Uuid> {
        Some(self.batch.override_by.unwrap_or(self.batch.source.surveyor))
    }

    fn quarantine(&mut self, refusal: Refusal) -> RecordAck {
        let mut a = ack(refusal.id, refusal.revision, AckStatus::Invalid);
        a.reason = Some(refusal.detail.clone());
        a.reason_code = Some(refusal.reason);
        a.issues = refusal.issues.clone();
        let key = (refusal.id, refusal.revision, refusal.record_sha());
        let id = match self.ctx.quarantined.get(&key) {
            Some(existing) => *existing,
            None => {
                let id = (self.new_id)();
                self.ctx.quarantined.insert(key, id);
                self.ops.push(Op::Audit {
                    actor: self.actor(),
                    action: action::QUARANTINED,
                    entity: Some(id.to_string()),
                });
                self.ops.push(Op::Quarantine {
                    id,
                    refusal,
                    surveyor: self.batch.source.surveyor,
                    device: self.batch.source.device,
                });
                id
            }
        };
        a.quarantine_id = Some(id);
        a
    }

    fn refuse(
        &mut self,
        response: &Response,
        hash: &str,
        reason: AckReason,
        detail: String,
    ) -> RecordAck {
        // Kept as the record was sent (an upload record), so that it can be re-checked.
        let record_json = serde_json::to_string(&UploadRecord {
            response: response.clone(),
            content_hash: hash.to_owned(),
        })
        .unwrap_or_default();
        self.quarantine(Refusal {
            id: response.id,
            revision: response.revision,
            reason,
            detail,
            issues: Vec::new(),
            record_json,
            round_id: Some(response.round_id.clone()),
            unit_code: Some(response.unit_code.clone()),
            assignment_id: response.assignment_id,
        })
    }

    fn conflict(&mut self, response: &Response, reason: AckReason, detail: String) -> RecordAck {
        self.ops.push(Op::Audit {
            actor: self.actor(),
            action: action::CONFLICT,
            entity: Some(revision_entity(response.id, response.revision)),
        });
        let mut a = ack(response.id, response.revision, AckStatus::Conflict);
        a.reason = Some(detail);
        a.reason_code = Some(reason);
        a
    }

    /// Checks that need stored state about the assignment and round; `None` when they pass.
    fn assignment_problem(&self, r: &Response) -> Option<(AckReason, String)> {
        // A supervisor's acceptance from quarantine is taken even after the round closed.
        if self.batch.override_by.is_none() && self.ctx.closed_rounds.contains(&r.round_id) {
            return Some((AckReason::RoundClosed, "the round is closed".into()));
        }
        if let Some(problem) = self_mode_problem(self.batch.source.mode, r) {
            return problem.or_else(|| self.clock_problem(r));
        }
        if r.assignment_id.is_some() && r.origin.is_outside_sample() {
            return Some((
                AckReason::AssignmentMismatch,
                "an interview outside the sample names no assignment".into(),
            ));
        }
        let Some(aid) = assignment_of(r) else {
            return Some((
                AckReason::NoAssignment,
                "response names no assignment and its round takes none outside the sample".into(),
            ));
        };
        if r.assignment_id.is_none() && !self.ctx.assignments.contains_key(&aid) {
            // A new interview outside the sample: its assignment is created on acceptance.
            return self
                .outside_sample_problem(r)
                .or_else(|| self.clock_problem(r));
        }
        let Some(stored) = self.ctx.assignments.get(&aid) else {
            return Some((
                AckReason::NotYourAssignment,
                "not your assignment (unknown assignment)".into(),
            ));
        };
        // A personal link's answer is the sampled respondent's own: whoever holds the
        // assignment, it is taken (the submitter recorded is the owner or the link's maker).
        if self.batch.override_by.is_none()
            && self.batch.source.mode != ResponseMode::SelfPersonal
            && stored.owner != Some(self.batch.source.surveyor)
        {
            return Some((AckReason::NotYourAssignment, "not your assignment".into()));
        }
        let a = &stored.assignment;
        if a.round_id != r.round_id {
            return Some((
                AckReason::AssignmentMismatch,
                "round does not match the assignment's round".into(),
            ));
        }
        if a.form != r.form {
            return Some((
                AckReason::AssignmentMismatch,
                format!("form {} is not the round's form {}", r.form, a.form),
            ));
        }
        if a.unit_code != r.unit_code {
            return Some((
                AckReason::AssignmentMismatch,
                "unit code does not match the assignment's unit".into(),
            ));
        }
        if stored.origin != r.origin {
            return Some((
                AckReason::AssignmentMismatch,
                format!(
                    "origin {} is not the assignment's origin {}",
                    r.origin.as_str(),
                    stored.origin.as_str()
                ),
            ));
        }
        self.clock_problem(r)
    }

    /// Whether the round takes this interview outside the sample in this unit now.
    fn outside_sample_problem(&self, r: &Response) -> Option<(AckReason, String)> {
        let policy = self
            .ctx
            .round_policies
            .get(&r.round_id)
            .copied()
            .unwrap_or_default();
        if !policy.allows(r.origin) {
            return Some((
                AckReason::NoAssignment,
                format!(
                    "response names no assignment and its round takes no {} interviews",
                    r.origin.as_str()
                ),
            ));
        }
        let key = (r.round_id.clone(), r.unit_code.clone());
        let quota = self.ctx.units.get(&key).copied().unwrap_or_default();
        if !quota.in_round {
            return Some((
                AckReason::UnknownUnit,
                "the unit is not one of the round's units".into(),
            ));
        }
        if quota.used >= policy.cap_per_unit {
            return Some((
                AckReason::OutsideSampleCap,
                format!(
                    "the unit already has {} of at most {} interviews outside the sample",
                    quota.used, policy.cap_per_unit
                ),
            ));
        }
        None
    }

    /// `completed_at` against the round's first day (waived for a supervisor's acceptance).
    fn clock_problem(&self, r: &Response) -> Option<(AckReason, String)> {
        let start = self
            .ctx
            .round_starts
            .get(&r.round_id)
            .filter(|_| self.batch.override_by.is_none());
        if let Some(start) = start {
            let earliest = start
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc() - CLOCK_BEFORE_ROUND);
            if earliest.is_some_and(|e| r.completed_at < e) {
                return Some((
                    AckReason::Clock,
                    format!(
                        "completed_at {} is more than one day before the round starts ({start})",
                        r.completed_at.to_rfc3339()
                    ),
                ));
            }
        }
        None
    }

    fn decide(&mut self, item: usize, r: &Response, hash: &str) -> RecordAck {
        let surveyor = self.batch.source.surveyor;
        if let Some(stored) = self.ctx.responses.get(&r.id) {
            // A revision already stored: duplicate or conflict, whatever else changed since.
            if let Some(stored_hash) = stored.revisions.get(&r.revision) {
                // Rows stored before the canonical hash rule keep their legacy hash.
                if stored_hash == hash || r.has_content_hash(stored_hash) {
                    return ack(r.id, r.revision, AckStatus::Duplicate);
                }
                return self.conflict(
                    r,
                    AckReason::ContentDiffers,
                    "this id and revision are already stored with different content".into(),
                );
            }
            let latest = stored.latest();
            if r.revision < latest {
                let mut a = ack(r.id, r.revision, AckStatus::Duplicate);
                a.reason = Some(format!("stale: revision {latest} is already stored"));
                a.reason_code = Some(AckReason::Stale);
                return a;
            }
            let binding = Binding::of(r, stored.binding.surveyor_id);
            let (voided, bound, decision) = (
                stored.voided,
                stored.binding.clone(),
                stored.latest_decision,
            );
            if bound != binding || bound.surveyor_id != surveyor {
                return self.conflict(
                    r,
                    AckReason::BoundElsewhere,
                    "this response id is bound to another round, assignment, surveyor or unit"
                        .into(),
                );
            }
            if voided {
                return self.conflict(r, AckReason::Voided, "the response was voided".into());
            }
            if decision == Some(Decision::Approved) {
                return self.conflict(
                    r,
                    AckReason::AlreadyApproved,
                    format!("revision {latest} is approved: no new revision is taken"),
                );
            }
            if r.revision != latest + 1 {
                return self.conflict(
                    r,
                    AckReason::RevisionGap,
                    format!(
                        "revision {} after {latest}: send {}",
                        r.revision,
                        latest + 1
                    ),
                );
            }
            if let Some((reason, detail)) = self.assignment_problem(r) {
                return self.refuse(r, hash, reason, detail);
            }
            return self.accept(item, r, hash, None);
        }
        // A new response id.
        if let Some((reason, detail)) = self.assignment_problem(r) {
            return self.refuse(r, hash, reason, detail);
        }
        if r.revision != 1 {
            return self.conflict(
                r,
                AckReason::RevisionGap,
                format!(
                    "revision {} of a response the server does not have: send 1",
                    r.revision
                ),
            );
        }
        let aid = assignment_of(r);
        if let Some(other) = aid
            .and_then(|a| self.ctx.assignments.get(&a))
            .and_then(|a| a.response_id)
        {
            return self.conflict(
                r,
                AckReason::AssignmentHasResponse,
                format!("assignment already has response {other}"),
            );
        }
        self.accept(item, r, hash, Some(Binding::of(r, surveyor)))
    }

    fn accept(
        &mut self,
        item: usize,
        r: &Response,
        hash: &str,
        new_binding: Option<Binding>,
    ) -> RecordAck {
        if let Some(binding) = new_binding {
            if let Some(aid) = binding.assignment_id
                && r.assignment_id.is_none()
                && !self.ctx.assignments.contains_key(&aid)
            {
                self.create_outside_assignment(aid, r);
            }
            self.ops.push(Op::Bind {
                response_id: r.id,
                binding: binding.clone(),
            });
            if let Some(a) = assignment_of(r).and_then(|a| self.ctx.assignments.get_mut(&a)) {
                a.response_id = Some(r.id);
            }
            self.ctx.responses.insert(
                r.id,
                StoredResponse {
                    binding,
                    revisions: BTreeMap::new(),
                    latest_decision: None,
                    voided: false,
                },
            );
        }
        if let Some(stored) = self.ctx.responses.get_mut(&r.id) {
            stored.revisions.insert(r.revision, hash.to_owned());
            stored.latest_decision = None;
        }
        self.ops.push(Op::InsertRevision { item });
        self.ops.push(Op::Audit {
            actor: self.actor(),
            action: action::ACCEPTED,
            entity: Some(revision_entity(r.id, r.revision)),
        });
        if let Some(a) = assignment_of(r) {
            self.collected.insert(a);
        }
        ack(r.id, r.revision, AckStatus::Accepted)
    }

    /// Plans the assignment of an accepted interview outside the sample and counts it
    /// against the unit's cap for the rest of the batch.
    fn create_outside_assignment(&mut self, id: Uuid, r: &Response) {
        let owner = self.batch.source.surveyor;
        self.ops.push(Op::CreateAssignment {
            id,
            round_id: r.round_id.clone(),
            unit_code: r.unit_code.clone(),
            origin: r.origin,
            owner,
        });
        self.ctx.assignments.insert(
            id,
            StoredAssignment {
                assignment: Assignment {
                    id,
                    round_id: r.round_id.clone(),
                    form: r.form.clone(),
                    unit_code: r.unit_code.clone(),
                    procedure: String::new(),
                    agency: None,
                    contact: None,
                    status: sipas_protocol::wire::AssignmentStatus::Collected,
                    unit_name: None,
                    agency_code: None,
                    agency_name: None,
                    field_code: None,
                    field_name: None,
                    procedure_code: None,
                    round_name: None,
                },
                owner: Some(owner),
                response_id: None,
                origin: r.origin,
            },
        );
        let key = (r.round_id.clone(), r.unit_code.clone());
        self.ctx.units.entry(key).or_default().used += 1;
    }
}

/// The self-completion rules (issue 15) that differ from an interviewer's upload, `None`
/// when the usual rules apply:
/// - `self_open` (open link / QR poster): the respondent is not a sampled one, so the answer
///   must name no assignment and have origin `sample` (the mode tells it apart); it is bound to no assignment, creates none, and counts against
///   no unit's cap (the open link's own abuse limits apply before ingest). Only the round
///   (closed) and clock rules then apply: `Some(None)` means "no assignment check".
/// - `self_personal`: the usual rules, except the owner check (see `assignment_problem`).
#[allow(clippy::type_complexity)]
fn self_mode_problem(mode: ResponseMode, r: &Response) -> Option<Option<(AckReason, String)>> {
    if mode != ResponseMode::SelfOpen {
        return None;
    }
    if r.assignment_id.is_some() || r.origin != Origin::Sample {
        return Some(Some((
            AckReason::AssignmentMismatch,
            "an open-link answer names no assignment".into(),
        )));
    }
    Some(None)
}

/// A quarantined record as supervisors see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuarantineEntry {
    /// Entry id.
    pub id: Uuid,
    /// Response id as read (nil: unreadable).
    pub response_id: Uuid,
    /// Revision as read.
    pub revision: u32,
    /// Round named by the record.
    pub round_id: Option<String>,
    /// Unit named by the record.
    pub unit_code: Option<String>,
    /// Assignment named by the record.
    pub assignment_id: Option<Uuid>,
    /// Surveyor.
    pub surveyor_id: Uuid,
    /// Device.
    pub device_id: Option<Uuid>,
    /// Why (code).
    pub reason_code: AckReason,
    /// Why (English detail).
    pub reason: String,
    /// Invalid answers.
    pub issues: Vec<AnswerProblem>,
    /// When received.
    pub received_at: DateTime<Utc>,
    /// `accepted` / `dismissed`; `None` while open.
    pub resolution: Option<String>,
    /// Who resolved it.
    pub resolved_by: Option<Uuid>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The supervisor's note.
    pub resolution_note: Option<String>,
    /// The record as received.
    #[serde(skip)]
    pub record_json: String,
    /// How it was collected: a self-completed answer accepted from quarantine keeps its mode.
    pub mode: ResponseMode,
}

impl QuarantineEntry {
    /// Whether a supervisor may accept it: only records refused for where they belong
    /// (assignment moved, clock) — a record whose content cannot be trusted or read
    /// (hash, form, answers, unreadable) can only be dismissed.
    pub fn acceptable(&self) -> bool {
        matches!(
            self.reason_code,
            AckReason::NotYourAssignment | AckReason::Clock
        )
    }
}

/// Result of resolving a quarantine entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// Done; for an acceptance, the record's ack (accepted or duplicate).
    Done(Option<RecordAck>),
    /// The entry is already resolved; nothing changed.
    AlreadyResolved,
    /// The rules refuse the record even with the owner and clock checks waived; nothing changed.
    Refused(RecordAck),
}

/// Result of voiding a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voided {
    /// Voided now.
    Done,
    /// It was already voided; nothing changed.
    AlreadyVoided,
}

/// The stored state of a quarantine resolution's record as an ingest batch of one, with the
/// owner check waived (`override_by`).
pub fn acceptance_batch(
    entry: &QuarantineEntry,
    response: Response,
    hash: String,
    supervisor: Uuid,
    now: DateTime<Utc>,
) -> IngestBatch {
    IngestBatch {
        items: vec![Checked::Valid { response, hash }],
        source: Source {
            surveyor: entry.surveyor_id,
            device: entry.device_id,
            handover_importer: None,
            mode: entry.mode,
        },
        received_at: now,
        override_by: Some(supervisor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sipas_core::questionnaire::FormKey;
    use sipas_protocol::wire::AssignmentStatus;

    fn form() -> FormKey {
        FormKey {
            form_id: "sipas-6-groups".into(),
            version: "2026.1".into(),
        }
    }

    fn response(id: u128, revision: u32, assignment: u128) -> Response {
        let t: DateTime<Utc> = "2026-11-20T08:00:00Z".parse().unwrap();
        Response {
            id: Uuid::from_u128(id),
            revision,
            form: form(),
            assignment_id: Some(Uuid::from_u128(assignment)),
            round_id: "R".into(),
            unit_code: "00004".into(),
            answers: Default::default(),
            started_at: t,
            completed_at: t + Duration::minutes(10),
            paradata: Default::default(),
            origin: Origin::Sample,
        }
    }

    fn valid(r: &Response) -> Checked {
        Checked::Valid {
            response: r.clone(),
            hash: format!("h{}-{}", r.id.as_u128(), r.revision),
        }
    }

    const A: u128 = 1;
    const B: u128 = 2;

    fn context(owner: u128) -> IngestContext {
        let mut ctx = IngestContext::default();
        for aid in [100, 101] {
            ctx.assignments.insert(
                Uuid::from_u128(aid),
                StoredAssignment {
                    assignment: Assignment {
                        id: Uuid::from_u128(aid),
                        round_id: "R".into(),
                        form: form(),
                        unit_code: "00004".into(),
                        procedure: "Thủ tục".into(),
                        agency: None,
                        contact: None,
                        status: AssignmentStatus::NotVisited,
                        unit_name: None,
                        agency_code: None,
                        agency_name: None,
                        field_code: None,
                        field_name: None,
                        procedure_code: None,
                        round_name: None,
                    },
                    owner: Some(Uuid::from_u128(owner)),
                    response_id: None,
                    origin: Origin::Sample,
                },
            );
        }
        ctx.round_starts
            .insert("R".into(), NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        ctx
    }

    fn run(items: Vec<Checked>, surveyor: u128, ctx: &mut IngestContext) -> Plan {
        let batch = IngestBatch {
            items,
            source: Source {
                surveyor: Uuid::from_u128(surveyor),
                device: None,
                handover_importer: None,
                mode: ResponseMode::Capi,
            },
            received_at: "2026-11-20T09:00:00Z".parse().unwrap(),
            override_by: None,
        };
        let mut n = 1000u128;
        plan(&batch, ctx, || {
            n += 1;
            Uuid::from_u128(n)
        })
    }

    fn codes(plan: &Plan) -> Vec<(AckStatus, Option<AckReason>)> {
        plan.acks
            .iter()
            .map(|a| (a.status, a.reason_code))
            .collect()
    }

    #[test]
    fn one_batch_sees_its_own_earlier_records() {
        let mut ctx = context(A);
        let r1 = response(1, 1, 100);
        let plan = run(
            vec![
                valid(&r1),
                valid(&r1),
                valid(&response(1, 2, 100)),
                valid(&response(2, 1, 100)),
                valid(&response(1, 4, 100)),
            ],
            A,
            &mut ctx,
        );
        assert_eq!(
            codes(&plan),
            vec![
                (AckStatus::Accepted, None),
                (AckStatus::Duplicate, None),
                (AckStatus::Accepted, None),
                (AckStatus::Conflict, Some(AckReason::AssignmentHasResponse)),
                (AckStatus::Conflict, Some(AckReason::RevisionGap)),
            ]
        );
        let binds = plan
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Bind { .. }))
            .count();
        let inserts = plan
            .ops
            .iter()
            .filter(|o| matches!(o, Op::InsertRevision { .. }))
            .count();
        assert_eq!((binds, inserts), (1, 2));
        assert_eq!(
            plan.ops.last(),
            Some(&Op::MarkCollected {
                assignment_id: Uuid::from_u128(100)
            })
        );
    }

    #[test]
    fn another_surveyors_records_are_refused_and_quarantined_once() {
        let mut ctx = context(A);
        let first = run(vec![valid(&response(1, 1, 100))], A, &mut ctx);
        assert_eq!(codes(&first), vec![(AckStatus::Accepted, None)]);
        // B takes over A's id: conflict. B's own new id on A's assignment: quarantined.
        let plan = run(
            vec![
                valid(&response(1, 2, 100)),
                valid(&response(3, 1, 101)),
                valid(&response(3, 1, 101)),
            ],
            B,
            &mut ctx,
        );
        assert_eq!(
            codes(&plan),
            vec![
                (AckStatus::Conflict, Some(AckReason::BoundElsewhere)),
                (AckStatus::Invalid, Some(AckReason::NotYourAssignment)),
                (AckStatus::Invalid, Some(AckReason::NotYourAssignment)),
            ]
        );
        assert_eq!(plan.acks[1].quarantine_id, plan.acks[2].quarantine_id);
        let kept = plan
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Quarantine { .. }))
            .count();
        assert_eq!(kept, 1, "the same record twice is one quarantine entry");
    }

    #[test]
    fn approved_voided_and_stale_revisions() {
        let mut ctx = context(A);
        run(
            vec![valid(&response(1, 1, 100)), valid(&response(1, 2, 100))],
            A,
            &mut ctx,
        );
        let stored = ctx.responses.get_mut(&Uuid::from_u128(1)).unwrap();
        stored.latest_decision = Some(Decision::Approved);
        let mut r1_other = response(1, 1, 100);
        r1_other.unit_code = "00007".into();
        let plan = run(
            vec![
                valid(&response(1, 3, 100)),
                Checked::Valid {
                    response: r1_other,
                    hash: "other".into(),
                },
            ],
            A,
            &mut ctx,
        );
        assert_eq!(
            codes(&plan),
            vec![
                (AckStatus::Conflict, Some(AckReason::AlreadyApproved)),
                (AckStatus::Conflict, Some(AckReason::ContentDiffers)),
            ]
        );
        // Revision 1 resent after 2 is stored: a duplicate, whatever came after.
        let plan = run(vec![valid(&response(1, 1, 100))], A, &mut ctx);
        assert_eq!(codes(&plan), vec![(AckStatus::Duplicate, None)]);
        ctx.responses.get_mut(&Uuid::from_u128(1)).unwrap().voided = true;
        ctx.responses
            .get_mut(&Uuid::from_u128(1))
            .unwrap()
            .latest_decision = None;
        let plan = run(vec![valid(&response(1, 3, 100))], A, &mut ctx);
        assert_eq!(
            codes(&plan),
            vec![(AckStatus::Conflict, Some(AckReason::Voided))]
        );
    }

    #[test]
    fn clock_before_the_round_is_refused_unless_a_supervisor_accepts_it() {
        let mut ctx = context(A);
        let mut early = response(1, 1, 100);
        early.started_at = "2026-10-01T08:00:00Z".parse().unwrap();
        early.completed_at = "2026-10-01T08:10:00Z".parse().unwrap();
        let plan = run(vec![valid(&early)], A, &mut ctx);
        assert_eq!(
            codes(&plan),
            vec![(AckStatus::Invalid, Some(AckReason::Clock))]
        );
        // The day before the round starts is fine.
        let mut eve = response(2, 1, 101);
        eve.completed_at = "2026-10-31T08:10:00Z".parse().unwrap();
        eve.started_at = eve.completed_at - Duration::minutes(5);
        assert_eq!(
            codes(&run(vec![valid(&eve)], A, &mut ctx)),
            vec![(AckStatus::Accepted, None)]
        );
        let mut ctx = context(B);
        let batch = IngestBatch {
            items: vec![valid(&early)],
            source: Source {
                surveyor: Uuid::from_u128(A),
                device: None,
                handover_importer: None,
                mode: ResponseMode::Capi,
            },
            received_at: Utc::now(),
            override_by: Some(Uuid::from_u128(9)),
        };
        let accepted = super::plan(&batch, &mut ctx, Uuid::now_v7);
        assert_eq!(codes(&accepted), vec![(AckStatus::Accepted, None)]);
        assert!(accepted.ops.iter().any(|o| matches!(
            o,
            Op::Bind { binding, .. } if binding.surveyor_id == Uuid::from_u128(A)
        )));
    }
}

#[cfg(test)]
mod outside_sample_tests {
    use super::*;
    use sipas_core::questionnaire::FormKey;
    use sipas_core::response::Paradata;

    const ROUND: &str = "R";
    const UNIT: &str = "00004";

    fn walk_in() -> Response {
        let t = Utc::now();
        Response {
            id: Uuid::now_v7(),
            revision: 1,
            form: FormKey {
                form_id: "sipas-6-groups".into(),
                version: "2026.1".into(),
            },
            assignment_id: None,
            round_id: ROUND.into(),
            unit_code: UNIT.into(),
            answers: Default::default(),
            started_at: t,
            completed_at: t,
            paradata: Paradata::default(),
            origin: Origin::WalkIn,
        }
    }

    fn batch(responses: &[Response], surveyor: Uuid) -> IngestBatch {
        IngestBatch {
            items: responses
                .iter()
                .map(|r| Checked::Valid {
                    response: r.clone(),
                    hash: r.content_hash(),
                })
                .collect(),
            source: Source {
                surveyor,
                device: None,
                handover_importer: None,
                mode: ResponseMode::Capi,
            },
            received_at: Utc::now(),
            override_by: None,
        }
    }

    fn context(cap: u32, used: u32) -> IngestContext {
        let mut ctx = IngestContext::default();
        ctx.round_policies.insert(
            ROUND.into(),
            OutsideSample {
                replacement: false,
                walk_in: true,
                cap_per_unit: cap,
            },
        );
        ctx.units.insert(
            (ROUND.into(), UNIT.into()),
            UnitQuota {
                in_round: true,
                used,
            },
        );
        ctx
    }

    #[test]
    fn a_walk_in_under_the_cap_creates_its_assignment_before_binding() {
        let surveyor = Uuid::now_v7();
        let (a, b) = (walk_in(), walk_in());
        let batch = batch(&[a.clone(), b.clone()], surveyor);
        assert_eq!(batch.outside_units(), [(ROUND.into(), UNIT.into())]);
        let plan = plan(&batch, &mut context(2, 1), Uuid::now_v7);
        assert_eq!(plan.acks[0].status, AckStatus::Accepted);
        // The batch's first walk-in took the last place.
        assert_eq!(
            (plan.acks[1].status, plan.acks[1].reason_code),
            (AckStatus::Invalid, Some(AckReason::OutsideSampleCap))
        );
        let create = plan
            .ops
            .iter()
            .position(|op| matches!(op, Op::CreateAssignment { id, owner, origin: Origin::WalkIn, .. } if *id == a.id && *owner == surveyor))
            .expect("the assignment is created");
        let bind = plan
            .ops
            .iter()
            .position(|op| matches!(op, Op::Bind { response_id, binding } if *response_id == a.id && binding.assignment_id == Some(a.id)))
            .expect("bound to it");
        assert!(create < bind);
        assert!(!plan.ops.iter().any(
            |op| matches!(op, Op::CreateAssignment { id, .. } | Op::Bind { response_id: id, .. } if *id == b.id)
        ));
    }

    #[test]
    fn not_allowed_or_not_the_rounds_unit_is_refused() {
        let surveyor = Uuid::now_v7();
        let mut replacement = walk_in();
        replacement.origin = Origin::Replacement;
        let mut elsewhere = walk_in();
        elsewhere.unit_code = "99999".into();
        let mut named = walk_in();
        named.assignment_id = Some(Uuid::now_v7());
        let batch = batch(&[replacement, elsewhere, named], surveyor);
        let plan = plan(&batch, &mut context(5, 0), Uuid::now_v7);
        let reasons: Vec<_> = plan.acks.iter().map(|a| a.reason_code).collect();
        assert_eq!(
            reasons,
            [
                Some(AckReason::NoAssignment),
                Some(AckReason::UnknownUnit),
                Some(AckReason::AssignmentMismatch)
            ]
        );
        assert!(
            plan.ops
                .iter()
                .all(|op| !matches!(op, Op::CreateAssignment { .. } | Op::Bind { .. }))
        );
    }
}
