-- 0001_init: first schema of the SIPAS Field central server (SQLite backend).
--
-- RULE: a migration file is never edited once it has landed (servers have already applied it).
-- Every later change goes into a new numbered file 0002_*.sql, ... and one entry in the list
-- in src/storage/migrations.rs. The table schema_migrations is created by the migration runner.
--
-- Conventions: timestamps are RFC 3339 UTC text with microseconds
-- ("2026-11-20T08:00:00.000000Z"), so they sort and compare as text; dates are 'YYYY-MM-DD';
-- identifiers are UUID text in lowercase hyphenated form; JSON columns hold UTF-8 JSON text
-- written by the Rust code.
--
-- PERSONAL DATA: respondents' names, addresses and phone numbers live only in sample_contacts.
-- They are never copied into responses, audit_log or any log.

-- People who use the server: admins, supervisors, surveyors (Bưu điện), monitors (MTTQ / CCB).
CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,  -- UUIDv7 of the user
    username      TEXT NOT NULL UNIQUE,       -- login name
    display_name  TEXT NOT NULL,              -- name shown in the dashboard
    role          TEXT NOT NULL               -- what the user may do
                  CHECK (role IN ('admin', 'supervisor', 'surveyor', 'monitor')),
    password_hash TEXT,                       -- PHC password hash (NULL: device-only user)
    created_at    TEXT NOT NULL               -- when the user was created
) STRICT;

-- One-time codes a supervisor issues so that a device can enrol for a user (hash only).
CREATE TABLE enrolment_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,          -- hash of the code; the code itself is never stored
    user_id    TEXT NOT NULL REFERENCES users (id), -- user the enrolled device will act for
    issued_by  TEXT NOT NULL REFERENCES users (id), -- supervisor / admin who issued the code
    expires_at TEXT NOT NULL,                      -- the code does not work from this instant on
    used_at    TEXT,                               -- when it was redeemed (NULL: not yet)
    device_id  TEXT                                -- device enrolled with it (NULL: not yet)
) STRICT;

-- Enrolled devices (tablets / phones); each holds one bearer token, of which only the hash is kept.
CREATE TABLE devices (
    id          TEXT PRIMARY KEY NOT NULL,           -- UUID of the device
    user_id     TEXT NOT NULL REFERENCES users (id), -- user the device acts for
    name        TEXT NOT NULL,                       -- name given at enrolment
    token_hash  TEXT NOT NULL UNIQUE,                -- hash of the device's bearer token
    enrolled_at TEXT NOT NULL                        -- when the device enrolled
) STRICT;
CREATE INDEX devices_user ON devices (user_id);

-- Dashboard login sessions (hash of the bearer token only).
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,          -- hash of the session's bearer token
    user_id    TEXT NOT NULL REFERENCES users (id), -- logged-in user
    expires_at TEXT NOT NULL                       -- the token does not work from this instant on
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

-- Survey rounds.
CREATE TABLE rounds (
    id           TEXT PRIMARY KEY NOT NULL,  -- round identifier, e.g. '2026-HN-1'
    name         TEXT NOT NULL,              -- name shown
    form_id      TEXT NOT NULL,              -- questionnaire collected, e.g. 'sipas-6-groups'
    form_version TEXT NOT NULL,              -- questionnaire version, e.g. '2026.1'
    starts_on    TEXT NOT NULL,              -- first day of fieldwork (YYYY-MM-DD)
    ends_on      TEXT NOT NULL               -- last day of fieldwork (YYYY-MM-DD)
) STRICT;

-- Global change counter (one row): every change a device pulls (assignment written, review
-- decision recorded) takes the next value, which is the pull cursor. Values only grow.
CREATE TABLE change_seq (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),  -- always 1: a single row
    value INTEGER NOT NULL                              -- last value handed out (0: none yet)
) STRICT;
INSERT INTO change_seq (id, value) VALUES (1, 0);

-- Sampled respondents of a round (the sample frame), each assigned to at most one surveyor.
-- Holds no personal data: names, addresses and phone numbers live in sample_contacts.
CREATE TABLE assignments (
    id          TEXT PRIMARY KEY NOT NULL,            -- UUIDv7 of the assignment
    round_id    TEXT NOT NULL REFERENCES rounds (id), -- round the respondent was sampled in
    unit_code   TEXT NOT NULL,                        -- administrative unit code of the sample unit
    procedure   TEXT NOT NULL,                        -- administrative procedure the respondent used
    agency      TEXT,                                 -- agency that handled it (NULL: unknown)
    status      TEXT NOT NULL DEFAULT 'not_visited'   -- field outcome of the visit
                CHECK (status IN ('not_visited', 'form_delivered', 'collected',
                                  'absent', 'refused', 'moved', 'invalid')),
    surveyor_id TEXT REFERENCES users (id),           -- assigned surveyor (NULL: unassigned)
    change_seq  INTEGER NOT NULL                      -- change_seq value of the last write (pull cursor)
) STRICT;
CREATE INDEX assignments_round ON assignments (round_id);
CREATE INDEX assignments_surveyor_seq ON assignments (surveyor_id, change_seq);

-- Personal contact data of a sampled respondent, apart from answers; sent only to the
-- assigned surveyor's device. Never copied into responses, audit_log or logs.
CREATE TABLE sample_contacts (
    assignment_id TEXT PRIMARY KEY NOT NULL REFERENCES assignments (id), -- the assignment
    name          TEXT NOT NULL,                                         -- respondent's name
    address       TEXT NOT NULL,                                         -- postal address
    phone         TEXT                                                   -- phone number (NULL: none)
) STRICT;

-- Every response revision received. Rows are only ever inserted: a later revision is a new
-- row, and the same (id, revision) with other content is a conflict, never an overwrite.
-- round_id and assignment_id carry no foreign key on purpose: an answer is stored even if it
-- names something unknown here, rather than lost.
CREATE TABLE responses (
    id            TEXT NOT NULL,                       -- UUIDv7 of the response (same across revisions)
    revision      INTEGER NOT NULL CHECK (revision >= 1), -- revision number, from 1
    round_id      TEXT NOT NULL,                       -- survey round
    unit_code     TEXT NOT NULL,                       -- administrative unit code of the sample unit
    form_id       TEXT NOT NULL,                       -- questionnaire identifier
    form_version  TEXT NOT NULL,                       -- questionnaire version
    assignment_id TEXT,                                -- assignment answered (NULL: ad hoc)
    content_hash  TEXT NOT NULL,                       -- hex SHA-256 of the content (Response::content_hash)
    body_json     TEXT NOT NULL                        -- the full Response as JSON
                  CHECK (json_valid(body_json)),
    submitted_by  TEXT NOT NULL REFERENCES users (id), -- user who uploaded it
    device_id     TEXT,                                -- device it came from (NULL: not a device)
    received_at   TEXT NOT NULL,                       -- when the server stored it
    PRIMARY KEY (id, revision)
) STRICT;
CREATE INDEX responses_round ON responses (round_id);
CREATE INDEX responses_assignment ON responses (assignment_id);
CREATE INDEX responses_submitter ON responses (submitted_by);

-- Supervisors' review decisions on response revisions; the latest one per revision counts.
CREATE TABLE review_decisions (
    seq                INTEGER PRIMARY KEY NOT NULL,         -- change_seq value (pull cursor)
    response_id        TEXT NOT NULL,                        -- response decided on
    revision           INTEGER NOT NULL,                     -- revision decided on
    decision           TEXT NOT NULL                         -- outcome
                       CHECK (decision IN ('approved', 'rejected')),
    comment            TEXT,                                 -- general comment (NULL: none)
    item_comments_json TEXT NOT NULL DEFAULT '{}'            -- JSON object: item code -> comment
                       CHECK (json_valid(item_comments_json)),
    decided_at         TEXT NOT NULL,                        -- when decided
    reviewer           TEXT NOT NULL REFERENCES users (id),  -- supervisor who decided
    surveyor_id        TEXT NOT NULL REFERENCES users (id),  -- surveyor whose device receives it
    FOREIGN KEY (response_id, revision) REFERENCES responses (id, revision)
) STRICT;
CREATE INDEX review_decisions_response ON review_decisions (response_id, revision, seq);
CREATE INDEX review_decisions_surveyor_seq ON review_decisions (surveyor_id, seq);

-- Append-only log of who did what. Holds identifiers only, never personal data or answers.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, -- order of entries, never reused
    at        TEXT NOT NULL,                              -- when
    actor     TEXT,                                       -- user id who acted (NULL: system / unknown)
    action    TEXT NOT NULL,                              -- what, e.g. 'response.accepted'
    entity_id TEXT                                        -- id of the thing concerned (NULL: none)
) STRICT;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
