-- 0001_init: first schema of the SIPAS Field local store.
--
-- RULE: a migration file is never edited once it has landed (devices in the field have
-- already applied it). Every later change goes into a new numbered file 0002_*.sql, ...
--
-- Conventions: timestamps are RFC 3339 UTC text with nanoseconds ("2026-11-20T08:00:00.000000000Z"),
-- so they sort as text; identifiers are UUID text in lowercase hyphenated form; JSON columns
-- hold UTF-8 JSON text written by the Rust code.

-- Which migrations have been applied to this file (PRAGMA user_version holds the latest).
CREATE TABLE schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,  -- number of the migration file (0001 -> 1)
    name       TEXT NOT NULL,                 -- name part of the file, e.g. 'init'
    applied_at TEXT NOT NULL                  -- when it was applied on this device
) STRICT;

-- Sampled respondents the surveyor has to visit (downloaded from the server or created locally).
-- Holds no personal data: names, addresses and phone numbers live in assignment_contacts.
CREATE TABLE assignments (
    id          TEXT PRIMARY KEY NOT NULL,  -- UUID of the assignment
    round_id    TEXT NOT NULL,              -- survey round, e.g. '2026-HN-1'
    unit_code   TEXT NOT NULL,              -- administrative unit code of the sample unit
    form_id     TEXT NOT NULL,              -- questionnaire to use, e.g. 'sipas-6-groups'
    form_version TEXT NOT NULL,             -- questionnaire version, e.g. '2026.1'
    procedure   TEXT NOT NULL,              -- administrative procedure the respondent used
    status      TEXT NOT NULL DEFAULT 'not_visited'  -- field outcome of the visit
                CHECK (status IN ('not_visited', 'form_delivered', 'collected',
                                  'absent', 'refused', 'moved', 'invalid')),
    status_note TEXT,                       -- free-text remark on the status (NULL: none)
    updated_at  TEXT NOT NULL               -- when this row was last written
) STRICT;

-- Personal contact data of an assignment's respondent, kept apart from answers.
-- Never copied into responses or into audit_log.
CREATE TABLE assignment_contacts (
    assignment_id   TEXT PRIMARY KEY NOT NULL  -- the assignment these contacts belong to
                    REFERENCES assignments (id),
    respondent_name TEXT,                      -- respondent's name (NULL: unknown)
    address         TEXT,                      -- postal address (NULL: unknown)
    phone           TEXT                       -- phone number (NULL: unknown)
) STRICT;

-- Questionnaires being filled in: autosaved after every answer, deleted when completed.
CREATE TABLE drafts (
    response_id   TEXT PRIMARY KEY NOT NULL,  -- UUIDv7 the response will carry once completed
    assignment_id TEXT,                       -- assignment being interviewed (NULL: ad hoc); no FK,
                                              -- a reopened received response may name an
                                              -- assignment that is not on this device
    form_id       TEXT NOT NULL,              -- questionnaire identifier
    form_version  TEXT NOT NULL,              -- questionnaire version
    round_id      TEXT NOT NULL,              -- survey round
    unit_code     TEXT NOT NULL,              -- administrative unit code of the sample unit
    answers_json  TEXT NOT NULL DEFAULT '{}'  -- JSON object: item code -> answer value
                  CHECK (json_valid(answers_json)),
    current_group TEXT,                       -- group (step) the surveyor is on (NULL: first)
    paradata_json TEXT NOT NULL DEFAULT '{}'  -- JSON paradata: per-item milliseconds, GPS fix
                  CHECK (json_valid(paradata_json)),
    started_at    TEXT NOT NULL,              -- when the draft was started
    updated_at    TEXT NOT NULL               -- when the draft was last autosaved
) STRICT;

-- Completed responses, one row per revision. Content columns are immutable (see triggers);
-- only status and review_comment change afterwards.
CREATE TABLE responses (
    id             TEXT NOT NULL,             -- UUIDv7 of the response (stable across revisions)
    revision       INTEGER NOT NULL           -- revision number, from 1
                   CHECK (revision >= 1),
    form_id        TEXT NOT NULL,             -- questionnaire identifier
    form_version   TEXT NOT NULL,             -- questionnaire version the answers belong to
    assignment_id  TEXT,                      -- assignment answered (NULL: ad hoc); no FK, because
                                              -- received records may name assignments not on this device
    round_id       TEXT NOT NULL,             -- survey round
    unit_code      TEXT NOT NULL,             -- administrative unit code of the sample unit
    answers_json   TEXT NOT NULL              -- JSON object: item code -> answer value
                   CHECK (json_valid(answers_json)),
    paradata_json  TEXT NOT NULL              -- JSON paradata: per-item milliseconds, GPS fix
                   CHECK (json_valid(paradata_json)),
    content_hash   TEXT NOT NULL,             -- hex SHA-256 of the canonical response JSON
    started_at     TEXT NOT NULL,             -- when the first answer was given
    completed_at   TEXT NOT NULL,             -- when the surveyor submitted
    status         TEXT NOT NULL DEFAULT 'queued'  -- lifecycle: waiting for upload, uploaded, reviewed
                   CHECK (status IN ('queued', 'synced', 'rejected', 'accepted')),
    review_comment TEXT                       -- supervisor's review as JSON (NULL: none)
                   CHECK (review_comment IS NULL OR json_valid(review_comment)),
    PRIMARY KEY (id, revision)
) STRICT;

-- Upload queue: one row per response revision to send to the server.
CREATE TABLE outbox (
    response_id TEXT NOT NULL,             -- response to upload
    revision    INTEGER NOT NULL,          -- revision to upload
    state       TEXT NOT NULL DEFAULT 'pending'  -- upload state
                CHECK (state IN ('pending', 'in_flight', 'acked', 'rejected_invalid')),
    attempts    INTEGER NOT NULL DEFAULT 0 -- failed upload attempts so far
                CHECK (attempts >= 0),
    last_error  TEXT,                      -- message of the last failure (NULL: none)
    enqueued_at TEXT NOT NULL,             -- when the row was queued (upload order)
    acked_at    TEXT,                      -- when the server confirmed receipt (NULL: not yet)
    PRIMARY KEY (response_id, revision),
    FOREIGN KEY (response_id, revision) REFERENCES responses (id, revision)
) STRICT;

CREATE INDEX outbox_by_state ON outbox (state, enqueued_at);

-- Outcome of synchronisation with the server; always exactly one row (id = 1).
CREATE TABLE sync_log (
    id              INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),  -- fixed key of the single row
    last_success_at TEXT,                  -- when the last sync succeeded (NULL: never)
    last_error_at   TEXT,                  -- when the last sync failed (NULL: never)
    last_error      TEXT                   -- message of the last failure (NULL: none)
) STRICT;

INSERT INTO sync_log (id) VALUES (1);

-- Append-only trail of every write: who did what, when. Never holds personal contact data.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- order of entries, never reused
    at          TEXT NOT NULL,                      -- when the write happened
    actor       TEXT NOT NULL,                      -- who did it (surveyor id, 'sync', ...)
    action      TEXT NOT NULL,                      -- what was done, e.g. 'draft.save_answer'
    entity      TEXT NOT NULL,                      -- kind of record touched, e.g. 'draft'
    entity_id   TEXT NOT NULL,                      -- key of the record touched
    detail_json TEXT NOT NULL DEFAULT '{}'          -- JSON details (never contact data)
                CHECK (json_valid(detail_json))
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
END;

-- Completed answers are never lost: responses cannot be deleted and their content
-- cannot change (a correction is a new revision).
CREATE TRIGGER responses_no_delete BEFORE DELETE ON responses
BEGIN
    SELECT RAISE(ABORT, 'responses cannot be deleted: a completed response is kept forever');
END;

CREATE TRIGGER responses_content_immutable
BEFORE UPDATE OF id, revision, form_id, form_version, assignment_id, round_id, unit_code,
                 answers_json, paradata_json, content_hash, started_at, completed_at
ON responses
BEGIN
    SELECT RAISE(ABORT, 'response content cannot be changed: save a new revision instead');
END;

-- Administrative units (province / district / commune ...) with validity periods, since
-- Vietnam's units are merged and renamed over time.
CREATE TABLE admin_units (
    code        TEXT NOT NULL,   -- official unit code
    name        TEXT NOT NULL,   -- official name
    level       TEXT NOT NULL,   -- level in the hierarchy, e.g. 'province', 'commune'
    parent_code TEXT,            -- code of the containing unit (NULL: top level)
    valid_from  TEXT NOT NULL,   -- first day the unit exists with this code/name (YYYY-MM-DD)
    valid_to    TEXT,            -- last day it is valid (NULL: still valid)
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    PRIMARY KEY (code, valid_from)
) STRICT;
