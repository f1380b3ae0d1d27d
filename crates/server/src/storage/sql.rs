//! SQL text both backends run unchanged. Parameters are written `$1`, `$2`, … and MUST first
//! appear in that order: PostgreSQL reads them as positional, SQLite as named parameters
//! numbered by first appearance, so the same positional values bind the same on both only
//! then.

/// The columns both backends' `assignment_from` read, `$contact` naming the contact's three
/// columns (or three NULLs) and `$join` what follows `FROM assignments a JOIN rounds r`.
macro_rules! assignment_select {
    ($contact:literal, $join:literal) => {
        concat!(
            "SELECT a.id, a.round_id, r.form_id, r.form_version, \
             a.unit_code, a.procedure, a.agency, a.status, ",
            $contact,
            ", a.surveyor_id, a.origin, a.unit_name, a.agency_code, a.field_code, \
             a.field_name, a.procedure_code, r.name \
             FROM assignments a JOIN rounds r ON r.id = a.round_id",
            $join
        )
    };
}
pub(crate) use assignment_select;

/// The current responses of round `$1` that count in the index: the `current_responses`
/// view (latest revision of every bound, not voided response) less those whose latest
/// decision is `rejected`; with reception time.
pub(crate) const COUNTED_RESPONSES: &str = "SELECT r.body_json, r.received_at \
     FROM current_responses r \
     WHERE r.round_id = $1 AND COALESCE(r.decision, '') <> 'rejected' ORDER BY r.id";

/// One stretch of the review queue: the next current responses of a round (those of the
/// `current_responses` view: bound, not voided, latest revision), oldest id first, each with
/// its surveyor, reception time, latest decision and, only when that decision is in the state
/// asked, its body; then the unit it is bound to and its assignment's agency code (what the
/// caller's scope is decided by, [`crate::storage::Admit`]). The bindings are walked first,
/// in the order of their `(round_id, response_id)` index (migration 0019) and cut to the
/// stretch's length before anything is joined: a plan sorting the whole round for every
/// stretch was chosen by PostgreSQL otherwise (it cannot tell how many rows the revision and
/// state conditions keep).
/// `$S` is the state ([`crate::storage::ReviewState::code`]), `$1`-based as they appear.
macro_rules! review_stretch {
    ($state:literal, $after:literal, $limit:literal) => {
        concat!(
            "SELECT t.response_id, t.surveyor_id, r.received_at, t.decision, \
             CASE WHEN ",
            $state,
            " = 'all' OR (",
            $state,
            " = 'pending' AND t.decision IS NULL) OR (",
            $state,
            " = 'not_rejected' AND COALESCE(t.decision, '') <> 'rejected') OR t.decision = ",
            $state,
            " THEN r.body_json END, t.unit_code, \
             (SELECT a.agency_code FROM assignments a WHERE a.id = t.assignment_id) \
             FROM (SELECT s.response_id, s.surveyor_id, s.revision, s.unit_code, s.assignment_id, \
               (SELECT d.decision FROM review_decisions d \
                 WHERE d.response_id = s.response_id AND d.revision = s.revision \
                 ORDER BY d.seq DESC LIMIT 1) AS decision \
               FROM (SELECT b.response_id, b.surveyor_id, b.unit_code, b.assignment_id, \
                 (SELECT MAX(x.revision) FROM responses x WHERE x.id = b.response_id) AS revision \
                 FROM response_bindings b WHERE b.round_id = $2",
            $after,
            " AND b.voided_at IS NULL ORDER BY b.response_id LIMIT ",
            $limit,
            ") s) t \
             JOIN responses r ON r.id = t.response_id AND r.revision = t.revision \
             ORDER BY t.response_id"
        )
    };
}

/// The first stretch of the review queue: `$1` state, `$2` round, `$3` length.
pub(crate) const REVIEW_STRETCH_FIRST: &str = review_stretch!("$1", "", "$3");

/// A later stretch of the review queue: `$1` state, `$2` round, `$3` the last response id of
/// the stretch before, `$4` length.
pub(crate) const REVIEW_STRETCH_AFTER: &str =
    review_stretch!("$1", " AND b.response_id > $3", "$4");

/// Binds a new response: `$1` id, `$2` round, `$3` assignment, `$4` surveyor, `$5` unit,
/// `$6` time.
pub(crate) const INSERT_BINDING: &str = "INSERT INTO response_bindings \
     (response_id, round_id, assignment_id, surveyor_id, unit_code, bound_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// Stores a response revision (13 parameters, in column order; `$13` the mode, issue 15).
pub(crate) const INSERT_REVISION: &str = "INSERT INTO responses (id, revision, round_id, \
     unit_code, form_id, form_version, assignment_id, content_hash, body_json, submitted_by, \
     device_id, received_at, mode) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// Marks assignment `$2` collected with change cursor `$1`.
pub(crate) const MARK_COLLECTED: &str = "UPDATE assignments \
     SET status = 'collected', change_seq = $1 WHERE id = $2 AND status <> 'collected'";

/// Keeps a refused record (15 parameters, in column order; `mode`: how it was collected).
pub(crate) const INSERT_QUARANTINE: &str = "INSERT INTO quarantine (id, response_id, revision, \
     record_sha, round_id, unit_code, assignment_id, submitted_by, device_id, reason_code, \
     reason, issues_json, record_json, received_at, mode) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// Columns of a quarantine entry, in the order both backends' row readers expect.
pub(crate) const QUARANTINE_COLS: &str = "id, response_id, revision, round_id, unit_code, \
     assignment_id, submitted_by, device_id, reason_code, reason, issues_json, received_at, \
     resolution, resolved_by, resolved_at, resolution_note, record_json, mode";

/// Resolves a quarantine entry: `$1` resolution, `$2` supervisor, `$3` time, `$4` note,
/// `$5` entry id.
pub(crate) const RESOLVE_QUARANTINE: &str = "UPDATE quarantine SET resolution = $1, \
     resolved_by = $2, resolved_at = $3, resolution_note = $4 WHERE id = $5";

/// Voids a response: `$1` time, `$2` supervisor, `$3` reason, `$4` response id.
pub(crate) const VOID_BINDING: &str = "UPDATE response_bindings \
     SET voided_at = $1, voided_by = $2, void_reason = $3 WHERE response_id = $4";

/// Puts a voided response's assignment `$2` back to `not_visited` with change cursor `$1`.
pub(crate) const REOPEN_ASSIGNMENT: &str = "UPDATE assignments \
     SET status = 'not_visited', change_seq = $1 WHERE id = $2 AND status = 'collected'";

/// Assignment and voided flag of response `$1`.
pub(crate) const BINDING_OF: &str = "SELECT assignment_id, voided_at IS NOT NULL \
     FROM response_bindings WHERE response_id = $1";

/// Columns of a round, in the order both backends' row readers expect.
pub(crate) const ROUND_COLS: &str = "id, name, form_id, form_version, starts_on, ends_on, \
     outside_replacement, outside_walk_in, outside_cap_per_unit";

/// Unit `$2` of round `$1` for interviews outside the sample: whether it is one of the
/// round's units (it has sampled assignments there) and how many interviews outside the
/// sample it has (assignments of another origin whose response is not voided).
pub(crate) const UNIT_QUOTA: &str = "SELECT \
     EXISTS (SELECT 1 FROM assignments s \
             WHERE s.round_id = $1 AND s.unit_code = $2 AND s.origin = 'sample'), \
     (SELECT COUNT(*) FROM assignments a JOIN response_bindings b ON b.assignment_id = a.id \
      WHERE a.round_id = $1 AND a.unit_code = $2 AND a.origin <> 'sample' \
        AND b.voided_at IS NULL)";

/// Creates the assignment of an accepted interview outside the sample: `$1` id, `$2` round,
/// `$3` unit, `$4` surveyor, `$5` change cursor, `$6` origin. Collected, no contact.
pub(crate) const INSERT_OUTSIDE_ASSIGNMENT: &str = "INSERT INTO assignments \
     (id, round_id, unit_code, procedure, agency, status, surveyor_id, change_seq, origin) \
     VALUES ($1, $2, $3, '', NULL, 'collected', $4, $5, $6)";

/// The units of round `$1` (those of its sample frame) with the name the frame gives them.
pub(crate) const ROUND_UNITS: &str = "SELECT unit_code, MAX(unit_name) FROM assignments \
     WHERE round_id = $1 AND origin = 'sample' GROUP BY unit_code ORDER BY unit_code";

/// Current responses of round `$1` per surveyor and origin (progress `synced` and its split).
pub(crate) const SYNCED_BY_SURVEYOR_ORIGIN: &str = "SELECT c.surveyor_id, \
     COALESCE(a.origin, 'sample'), COUNT(*) FROM current_responses c \
     LEFT JOIN assignments a ON a.id = c.assignment_id WHERE c.round_id = $1 \
     GROUP BY c.surveyor_id, COALESCE(a.origin, 'sample')";

/// Current responses of round `$1` per unit and origin (progress `synced` and its split).
pub(crate) const SYNCED_BY_UNIT_ORIGIN: &str = "SELECT c.unit_code, \
     COALESCE(a.origin, 'sample'), COUNT(*) FROM current_responses c \
     LEFT JOIN assignments a ON a.id = c.assignment_id WHERE c.round_id = $1 \
     GROUP BY c.unit_code, COALESCE(a.origin, 'sample')";

// --- scope and tenancy (issue 10) -------------------------------------------------------------

/// Number of stored response revisions of round `$1`.
pub(crate) const ROUND_RESPONSE_COUNT: &str = "SELECT COUNT(*) FROM responses WHERE round_id = $1";

/// The columns of an [`crate::storage::AssignmentRow`] (an assignment without contacts): id,
/// unit code and name, agency code (catalogue), agency name, procedure, status, surveyor,
/// origin, field name.
macro_rules! assignment_row_cols {
    () => {
        "id, unit_code, unit_name, agency_code, agency, procedure, status, surveyor_id, \
         origin, field_name"
    };
}
pub(crate) use assignment_row_cols;

/// Assignments of round `$1` without contacts ([`assignment_row_cols`]), by id.
pub(crate) const ROUND_ASSIGNMENT_ROWS: &str = concat!(
    "SELECT ",
    assignment_row_cols!(),
    " FROM assignments WHERE round_id = $1 ORDER BY id"
);

/// Whether round `$1` is closed (no row: unknown round).
pub(crate) const ROUND_CLOSED: &str = "SELECT closed_at IS NOT NULL FROM rounds WHERE id = $1";

// --- the index from counts (issue 14, crate::answer_counts) ----------------------------------

/// State of response `$1` in `current_responses` (no row: voided or not bound): latest
/// revision, round, unit, its reception and latest decision.
pub(crate) const COUNTS_CURRENT: &str = "SELECT c.revision, c.round_id, c.unit_code, \
     c.received_at, c.decision FROM current_responses c WHERE c.id = $1";

/// The `response_facts` row of response `$1`.
pub(crate) const COUNTS_FACTS_OF: &str = "SELECT revision, round_id, unit_code, agency_code, \
     field_code, mode, received_at, counted, facts FROM response_facts WHERE response_id = $1";

/// Body of revision `$2` of response `$1`.
pub(crate) const COUNTS_BODY: &str =
    "SELECT body_json FROM responses WHERE id = $1 AND revision = $2";

/// Mode (issue 15: `capi`, `self_personal`, `self_open`) of revision `$2` of response `$1`,
/// the mode its answer counts are kept under.
pub(crate) const COUNTS_MODE: &str = "SELECT mode FROM responses WHERE id = $1 AND revision = $2";

/// Agency and field codes of assignment `$1`.
pub(crate) const COUNTS_ASSIGNMENT_CODES: &str =
    "SELECT agency_code, field_code FROM assignments WHERE id = $1";

/// Content hash of the usable (published or retired) version `$1` / `$2` of a form.
pub(crate) const COUNTS_FORM_HASH: &str = "SELECT content_hash FROM form_versions \
     WHERE form_id = $1 AND version = $2 AND status <> 'draft'";

/// Definition of version `$1` / `$2` of a form.
pub(crate) const COUNTS_FORM_DEFINITION: &str =
    "SELECT definition FROM form_versions WHERE form_id = $1 AND version = $2";

/// Writes the `response_facts` row of response `$1` (10 parameters, in column order).
pub(crate) const COUNTS_UPSERT_FACTS: &str = "INSERT INTO response_facts (response_id, \
     revision, round_id, unit_code, agency_code, field_code, mode, received_at, counted, facts) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (response_id) DO UPDATE SET \
     revision = excluded.revision, round_id = excluded.round_id, \
     unit_code = excluded.unit_code, agency_code = excluded.agency_code, \
     field_code = excluded.field_code, mode = excluded.mode, \
     received_at = excluded.received_at, counted = excluded.counted, facts = excluded.facts";

/// Adds `$8` to the count of (`$1` round, `$2` unit, `$3` agency, `$4` field, `$5` mode,
/// `$6` item, `$7` outcome).
pub(crate) const COUNTS_BUMP: &str = "INSERT INTO answer_counts (round_id, unit_code, \
     agency_code, field_code, mode, item, outcome, n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (round_id, unit_code, agency_code, field_code, mode, item, outcome) \
     DO UPDATE SET n = answer_counts.n + excluded.n";

/// The counts of round `$1`.
pub(crate) const COUNTS_OF_ROUND: &str = "SELECT unit_code, agency_code, field_code, mode, \
     item, outcome, n FROM answer_counts WHERE round_id = $1 AND n > 0";

/// Latest reception among the counted responses of round `$1`.
pub(crate) const COUNTS_DATA_AS_OF: &str =
    "SELECT MAX(received_at) FROM response_facts WHERE round_id = $1 AND counted = 1";

/// The next 500 bound responses after id `$1` without facts (stored before 0011, or of a
/// form unknown then).
pub(crate) const COUNTS_MISSING: &str = "SELECT b.response_id FROM response_bindings b \
     LEFT JOIN response_facts f ON f.response_id = b.response_id \
     WHERE b.response_id > $1 AND (f.response_id IS NULL OR f.facts IS NULL) \
     ORDER BY b.response_id LIMIT 500";
