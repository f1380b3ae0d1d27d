-- 0002_review_spot_checks_handover: phúc tra (spot-check tasks and immutable findings) and the
-- devices' signing keys for offline hand-over files (PostgreSQL backend).
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
    id                 UUID PRIMARY KEY,                     -- UUIDv7 of the task
    round_id           TEXT NOT NULL REFERENCES rounds (id), -- round the draw was made in
    response_id        UUID NOT NULL UNIQUE,                 -- response drawn (once per response)
    revision           INTEGER NOT NULL,                     -- revision current when drawn
    surveyor_id        UUID NOT NULL REFERENCES users (id),  -- surveyor who submitted it
    assignment_id      UUID,                                 -- its assignment (for the contact)
    unit_code          TEXT NOT NULL,                        -- administrative unit code
    flagged            BOOLEAN NOT NULL,                     -- had quality flags when drawn
    quality_flags_json JSONB NOT NULL DEFAULT '[]',          -- JSON array of QualityFlag
    key_items_json     JSONB NOT NULL,                       -- JSON array of item codes to re-ask
    seed               TEXT NOT NULL,                        -- seed of the draw (u64, decimal)
    monitor_id         UUID REFERENCES users (id),           -- monitor to visit (NULL: unassigned)
    created_at         TIMESTAMPTZ NOT NULL,                 -- when drawn
    created_by         UUID NOT NULL REFERENCES users (id),  -- supervisor who drew it
    FOREIGN KEY (response_id, revision) REFERENCES responses (id, revision)
);
CREATE INDEX spot_check_tasks_round ON spot_check_tasks (round_id);
CREATE INDEX spot_check_tasks_monitor ON spot_check_tasks (monitor_id);

-- What a monitor found on a re-check visit: written once per task, never changed or deleted.
CREATE TABLE spot_check_findings (
    task_id        UUID PRIMARY KEY REFERENCES spot_check_tasks (id), -- the task
    monitor_id     UUID NOT NULL REFERENCES users (id),  -- monitor who visited
    visit_happened BOOLEAN NOT NULL,                     -- met the respondent
    answers_json   JSONB NOT NULL,                       -- JSON object: key item -> answer
    note           TEXT,                                 -- monitor's note (NULL: none)
    result_json    JSONB NOT NULL,                       -- ReCheckResult (comparison) as JSON
    submitted_at   TIMESTAMPTZ NOT NULL                  -- when submitted
);

-- Rejects any change to spot_check_findings other than INSERT.
CREATE FUNCTION spot_check_findings_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'spot_check_findings are final' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER spot_check_findings_no_update_delete BEFORE UPDATE OR DELETE ON spot_check_findings
    FOR EACH ROW EXECUTE FUNCTION spot_check_findings_final();

CREATE TRIGGER spot_check_findings_no_truncate BEFORE TRUNCATE ON spot_check_findings
    FOR EACH STATEMENT EXECUTE FUNCTION spot_check_findings_final();
