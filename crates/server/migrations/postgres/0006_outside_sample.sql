-- 0006_outside_sample: interviews outside the sample (issue 9, item 14).
--
-- A round says whether it takes replacements of absent or refusing sampled persons from the
-- reserve list and walk-ins at the one-stop shop (Bộ phận Một cửa), with a cap per unit.
-- The server creates the assignment of such an interview when it accepts the response
-- (id = the response id, owner = the surveyor, no contact) and marks its origin, so reports
-- can count them apart. The sample frame may name its units (shown on the device instead of
-- codes).
ALTER TABLE rounds ADD COLUMN outside_replacement BOOLEAN NOT NULL DEFAULT FALSE;  -- replacements taken
ALTER TABLE rounds ADD COLUMN outside_walk_in BOOLEAN NOT NULL DEFAULT FALSE;      -- walk-ins taken
ALTER TABLE rounds ADD COLUMN outside_cap_per_unit INTEGER NOT NULL DEFAULT 0
    CHECK (outside_cap_per_unit >= 0);  -- most interviews outside the sample per unit

ALTER TABLE assignments ADD COLUMN origin TEXT NOT NULL DEFAULT 'sample'
    CHECK (origin IN ('sample', 'replacement', 'walk_in'));  -- where the respondent comes from
ALTER TABLE assignments ADD COLUMN unit_name TEXT;  -- unit name from the sample frame (NULL: none)
CREATE INDEX assignments_round_unit_origin ON assignments (round_id, unit_code, origin);
