-- 0003_ingest_rules: ingest rules (issue 9): every response is bound to one interview, refused records are kept.
--
-- response_bindings: what a response id is bound to at its first acceptance (round,
-- assignment, surveyor, unit). Later revisions must name the same; a supervisor may void a
-- response (it leaves the index, progress and review queue, and its assignment may be
-- re-interviewed under a new id).
CREATE TABLE response_bindings (
    response_id   TEXT PRIMARY KEY NOT NULL,  -- the response (same across revisions)
    round_id      TEXT NOT NULL,          -- survey round
    assignment_id TEXT,                    -- sampled respondent (NULL: outside the sample)
    surveyor_id   TEXT NOT NULL,           -- surveyor who submitted it
    unit_code     TEXT NOT NULL,          -- administrative unit code
    bound_at      TEXT NOT NULL,          -- first acceptance
    voided_at     TEXT,                   -- when a supervisor voided it (NULL: current)
    voided_by     TEXT,                    -- the supervisor
    void_reason   TEXT                    -- why (required when voided)
) STRICT;
CREATE INDEX response_bindings_assignment ON response_bindings (assignment_id);
CREATE INDEX response_bindings_round ON response_bindings (round_id, surveyor_id);

-- Responses stored before this migration are bound as their first revision says.
INSERT INTO response_bindings (response_id, round_id, assignment_id, surveyor_id, unit_code, bound_at)
SELECT r.id, r.round_id, r.assignment_id, r.submitted_by, r.unit_code, r.received_at
FROM responses r
WHERE r.revision = (SELECT MIN(x.revision) FROM responses x WHERE x.id = r.id);

-- Records refused as invalid: kept, never counted, until a supervisor accepts or dismisses
-- them. record_json is the record as received (answers, no contact data).
CREATE TABLE quarantine (
    id              TEXT PRIMARY KEY NOT NULL,  -- entry id (UUIDv7), named in the record's ack
    response_id     TEXT NOT NULL,         -- response id as read (nil UUID: unreadable)
    revision        INTEGER NOT NULL,     -- revision as read (0: unreadable)
    record_sha      TEXT NOT NULL,        -- SHA-256 of record_json: a resent record is one entry
    round_id        TEXT,                 -- round named by the record, if readable
    unit_code       TEXT,                 -- unit named by the record, if readable
    assignment_id   TEXT,                  -- assignment named by the record, if readable
    submitted_by    TEXT NOT NULL,         -- surveyor
    device_id       TEXT,                  -- device, if known
    reason_code     TEXT NOT NULL,        -- AckReason code, e.g. 'not_your_assignment'
    reason          TEXT NOT NULL,        -- English detail
    issues_json     TEXT NOT NULL,        -- invalid answers (JSON array)
    record_json     TEXT NOT NULL,        -- the record as received
    received_at     TEXT NOT NULL,        -- when
    resolution      TEXT CHECK (resolution IN ('accepted', 'dismissed')), -- NULL: open
    resolved_by     TEXT,                  -- supervisor
    resolved_at     TEXT,                 -- when
    resolution_note TEXT                  -- why
) STRICT;
CREATE INDEX quarantine_key ON quarantine (response_id, revision);
CREATE INDEX quarantine_round ON quarantine (round_id, received_at);

-- The one definition of "the current responses": the latest revision of every bound, not
-- voided response, with its latest decision. Index (leaving out 'rejected'), review queue and
-- progress all read it, so they agree by construction.
CREATE VIEW current_responses AS
SELECT r.id, r.revision, b.round_id, b.unit_code, b.assignment_id, b.surveyor_id,
       r.body_json, r.received_at,
       (SELECT d.decision FROM review_decisions d
         WHERE d.response_id = r.id AND d.revision = r.revision
         ORDER BY d.seq DESC LIMIT 1) AS decision
FROM response_bindings b
JOIN responses r ON r.id = b.response_id
WHERE b.voided_at IS NULL
  AND r.revision = (SELECT MAX(x.revision) FROM responses x WHERE x.id = b.response_id);
