-- 0002_review_spot_checks_handover: phúc tra (spot-check tasks and immutable findings) and the
-- devices' signing keys for offline hand-over files (SQLite backend).
--
-- RULE: never edited once landed; later changes go into 0003_*.sql and so on.
--
-- PERSONAL DATA: none here. A task points at its assignment, whose contact stays in
-- sample_contacts; findings hold the re-asked key answers and the monitor's note, never a
-- name, address or phone number copied from the sample frame.

-- Ed25519 public key with which the device signs hand-over files (NULL: none given).
ALTER TABLE devices ADD COLUMN public_key TEXT; -- 32-byte key, standard base64

-- Re-check (phúc tra) tasks: responses drawn for a monitor's visit, at most one per response.
CREATE TABLE spot_check_tasks (
    id                 TEXT PRIMARY KEY NOT NULL,             -- UUIDv7 of the task
    round_id           TEXT NOT NULL REFERENCES rounds (id),  -- round the draw was made in
    response_id        TEXT NOT NULL UNIQUE,                  -- response drawn (once per response)
    revision           INTEGER NOT NULL,                      -- revision current when drawn
    surveyor_id        TEXT NOT NULL REFERENCES users (id),   -- surveyor who submitted it
    assignment_id      TEXT,                                  -- its assignment (for the contact)
    unit_code          TEXT NOT NULL,                         -- administrative unit code
    flagged            INTEGER NOT NULL CHECK (flagged IN (0, 1)), -- had quality flags when drawn
    quality_flags_json TEXT NOT NULL DEFAULT '[]'             -- JSON array of QualityFlag
                       CHECK (json_valid(quality_flags_json)),
    key_items_json     TEXT NOT NULL                          -- JSON array of item codes to re-ask
                       CHECK (json_valid(key_items_json)),
    seed               TEXT NOT NULL,                         -- seed of the draw (u64, decimal)
    monitor_id         TEXT REFERENCES users (id),            -- monitor to visit (NULL: unassigned)
    created_at         TEXT NOT NULL,                         -- when drawn
    created_by         TEXT NOT NULL REFERENCES users (id),   -- supervisor who drew it
    FOREIGN KEY (response_id, revision) REFERENCES responses (id, revision)
) STRICT;
CREATE INDEX spot_check_tasks_round ON spot_check_tasks (round_id);
CREATE INDEX spot_check_tasks_monitor ON spot_check_tasks (monitor_id);

-- What a monitor found on a re-check visit: written once per task, never changed or deleted.
CREATE TABLE spot_check_findings (
    task_id             TEXT PRIMARY KEY NOT NULL REFERENCES spot_check_tasks (id), -- the task
    monitor_id          TEXT NOT NULL REFERENCES users (id), -- monitor who visited
    visit_happened      INTEGER NOT NULL CHECK (visit_happened IN (0, 1)), -- met the respondent
    answers_json        TEXT NOT NULL                        -- JSON object: key item -> answer
                        CHECK (json_valid(answers_json)),
    note                TEXT,                                -- monitor's note (NULL: none)
    result_json         TEXT NOT NULL                        -- ReCheckResult (comparison) as JSON
                        CHECK (json_valid(result_json)),
    submitted_at        TEXT NOT NULL                        -- when submitted
) STRICT;

CREATE TRIGGER spot_check_findings_no_update BEFORE UPDATE ON spot_check_findings
BEGIN
    SELECT RAISE(ABORT, 'spot_check_findings are final');
END;

CREATE TRIGGER spot_check_findings_no_delete BEFORE DELETE ON spot_check_findings
BEGIN
    SELECT RAISE(ABORT, 'spot_check_findings are final');
END;
