-- 0001_init: first schema of the SIPAS Field central server (PostgreSQL backend).
--
-- RULE: a migration file is never edited once it has landed (servers have already applied it).
-- Every later change goes into a new numbered file 0002_*.sql, ... and one entry in the list
-- in src/storage/migrations.rs. The table schema_migrations is created by the migration runner.
--
-- PERSONAL DATA: respondents' names, addresses and phone numbers live only in sample_contacts.
-- They are never copied into responses, audit_log or any log.
--
-- Ordering: every write transaction that hands out a change_seq value or appends to audit_log
-- first locks the single change_seq row and keeps it until commit, so those values become
-- visible in the order they were handed out and a pull cursor never skips a change.

-- People who use the server: admins, supervisors, surveyors (Bưu điện), monitors (MTTQ / CCB).
CREATE TABLE users (
    id            UUID PRIMARY KEY,            -- UUIDv7 of the user
    username      TEXT NOT NULL UNIQUE,        -- login name
    display_name  TEXT NOT NULL,               -- name shown in the dashboard
    role          TEXT NOT NULL                -- what the user may do
                  CHECK (role IN ('admin', 'supervisor', 'surveyor', 'monitor')),
    password_hash TEXT,                        -- PHC password hash (NULL: device-only user)
    created_at    TIMESTAMPTZ NOT NULL         -- when the user was created
);

-- One-time codes a supervisor issues so that a device can enrol for a user (hash only).
CREATE TABLE enrolment_codes (
    code_hash  TEXT PRIMARY KEY,                    -- hash of the code; the code itself is never stored
    user_id    UUID NOT NULL REFERENCES users (id), -- user the enrolled device will act for
    issued_by  UUID NOT NULL REFERENCES users (id), -- supervisor / admin who issued the code
    expires_at TIMESTAMPTZ NOT NULL,                -- the code does not work from this instant on
    used_at    TIMESTAMPTZ,                         -- when it was redeemed (NULL: not yet)
    device_id  UUID                                 -- device enrolled with it (NULL: not yet)
);

-- Enrolled devices (tablets / phones); each holds one bearer token, of which only the hash is kept.
CREATE TABLE devices (
    id          UUID PRIMARY KEY,                    -- UUID of the device
    user_id     UUID NOT NULL REFERENCES users (id), -- user the device acts for
    name        TEXT NOT NULL,                       -- name given at enrolment
    token_hash  TEXT NOT NULL UNIQUE,                -- hash of the device's bearer token
    enrolled_at TIMESTAMPTZ NOT NULL                 -- when the device enrolled
);
CREATE INDEX devices_user ON devices (user_id);

-- Dashboard login sessions (hash of the bearer token only).
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,                    -- hash of the session's bearer token
    user_id    UUID NOT NULL REFERENCES users (id), -- logged-in user
    expires_at TIMESTAMPTZ NOT NULL                 -- the token does not work from this instant on
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Survey rounds.
CREATE TABLE rounds (
    id           TEXT PRIMARY KEY,  -- round identifier, e.g. '2026-HN-1'
    name         TEXT NOT NULL,     -- name shown
    form_id      TEXT NOT NULL,     -- questionnaire collected, e.g. 'sipas-6-groups'
    form_version TEXT NOT NULL,     -- questionnaire version, e.g. '2026.1'
    starts_on    DATE NOT NULL,     -- first day of fieldwork
    ends_on      DATE NOT NULL      -- last day of fieldwork
);

-- Global change counter (one row): every change a device pulls (assignment written, review
-- decision recorded) takes the next value, which is the pull cursor. Values only grow.
-- Its row lock also orders audit_log appends (see the header).
CREATE TABLE change_seq (
    id    SMALLINT PRIMARY KEY CHECK (id = 1),  -- always 1: a single row
    value BIGINT NOT NULL                       -- last value handed out (0: none yet)
);
INSERT INTO change_seq (id, value) VALUES (1, 0);

-- Sampled respondents of a round (the sample frame), each assigned to at most one surveyor.
-- Holds no personal data: names, addresses and phone numbers live in sample_contacts.
CREATE TABLE assignments (
    id          UUID PRIMARY KEY,                     -- UUIDv7 of the assignment
    round_id    TEXT NOT NULL REFERENCES rounds (id), -- round the respondent was sampled in
    unit_code   TEXT NOT NULL,                        -- administrative unit code of the sample unit
    procedure   TEXT NOT NULL,                        -- administrative procedure the respondent used
    agency      TEXT,                                 -- agency that handled it (NULL: unknown)
    status      TEXT NOT NULL DEFAULT 'not_visited'   -- field outcome of the visit
                CHECK (status IN ('not_visited', 'form_delivered', 'collected',
                                  'absent', 'refused', 'moved', 'invalid')),
    surveyor_id UUID REFERENCES users (id),           -- assigned surveyor (NULL: unassigned)
    change_seq  BIGINT NOT NULL                       -- change_seq value of the last write (pull cursor)
);
CREATE INDEX assignments_round ON assignments (round_id);
CREATE INDEX assignments_surveyor_seq ON assignments (surveyor_id, change_seq);

-- Personal contact data of a sampled respondent, apart from answers; sent only to the
-- assigned surveyor's device. Never copied into responses, audit_log or logs.
CREATE TABLE sample_contacts (
    assignment_id UUID PRIMARY KEY REFERENCES assignments (id), -- the assignment
    name          TEXT NOT NULL,                                -- respondent's name
    address       TEXT NOT NULL,                                -- postal address
    phone         TEXT                                          -- phone number (NULL: none)
);

-- Every response revision received. Rows are only ever inserted: a later revision is a new
-- row, and the same (id, revision) with other content is a conflict, never an overwrite.
-- round_id and assignment_id carry no foreign key on purpose: an answer is stored even if it
-- names something unknown here, rather than lost.
CREATE TABLE responses (
    id            UUID NOT NULL,                          -- UUIDv7 of the response (same across revisions)
    revision      INTEGER NOT NULL CHECK (revision >= 1), -- revision number, from 1
    round_id      TEXT NOT NULL,                          -- survey round
    unit_code     TEXT NOT NULL,                          -- administrative unit code of the sample unit
    form_id       TEXT NOT NULL,                          -- questionnaire identifier
    form_version  TEXT NOT NULL,                          -- questionnaire version
    assignment_id UUID,                                   -- assignment answered (NULL: ad hoc)
    content_hash  TEXT NOT NULL,                          -- hex SHA-256 of the content (Response::content_hash)
    body_json     JSONB NOT NULL,                         -- the full Response as JSON
    submitted_by  UUID NOT NULL REFERENCES users (id),    -- user who uploaded it
    device_id     UUID,                                   -- device it came from (NULL: not a device)
    received_at   TIMESTAMPTZ NOT NULL,                   -- when the server stored it
    PRIMARY KEY (id, revision)
);
CREATE INDEX responses_round ON responses (round_id);
CREATE INDEX responses_assignment ON responses (assignment_id);
CREATE INDEX responses_submitter ON responses (submitted_by);

-- Supervisors' review decisions on response revisions; the latest one per revision counts.
CREATE TABLE review_decisions (
    seq                BIGINT PRIMARY KEY,                  -- change_seq value (pull cursor)
    response_id        UUID NOT NULL,                       -- response decided on
    revision           INTEGER NOT NULL,                    -- revision decided on
    decision           TEXT NOT NULL                        -- outcome
                       CHECK (decision IN ('approved', 'rejected')),
    comment            TEXT,                                -- general comment (NULL: none)
    item_comments_json JSONB NOT NULL DEFAULT '{}',         -- JSON object: item code -> comment
    decided_at         TIMESTAMPTZ NOT NULL,                -- when decided
    reviewer           UUID NOT NULL REFERENCES users (id), -- supervisor who decided
    surveyor_id        UUID NOT NULL REFERENCES users (id), -- surveyor whose device receives it
    FOREIGN KEY (response_id, revision) REFERENCES responses (id, revision)
);
CREATE INDEX review_decisions_response ON review_decisions (response_id, revision, seq);
CREATE INDEX review_decisions_surveyor_seq ON review_decisions (surveyor_id, seq);

-- Append-only log of who did what. Holds identifiers only, never personal data or answers.
CREATE TABLE audit_log (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- order of entries, never reused
    at        TIMESTAMPTZ NOT NULL,                            -- when
    actor     UUID,                                            -- user id who acted (NULL: system / unknown)
    action    TEXT NOT NULL,                                   -- what, e.g. 'response.accepted'
    entity_id TEXT                                             -- id of the thing concerned (NULL: none)
);

-- Rejects any change to audit_log other than INSERT.
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
