-- 0005_outside_sample: interviews outside the sample and practice interviews (issue 9, item 14).
--
-- A round may take interviews outside the sample (replacements from the reserve list,
-- walk-ins at the one-stop shop). The response says its origin; the server creates the
-- assignment when it accepts it. A practice interview (phỏng vấn thử) stays on the device:
-- it is never completed into a response, queued, synced or counted.
ALTER TABLE drafts ADD COLUMN origin TEXT NOT NULL DEFAULT 'sample'
    CHECK (origin IN ('sample', 'replacement', 'walk_in'));  -- where the respondent comes from
ALTER TABLE drafts ADD COLUMN practice INTEGER NOT NULL DEFAULT 0
    CHECK (practice IN (0, 1));  -- 1: practice interview, never completed into a response

ALTER TABLE responses ADD COLUMN origin TEXT NOT NULL DEFAULT 'sample'
    CHECK (origin IN ('sample', 'replacement', 'walk_in'));  -- part of the content hash

-- Rounds that take interviews outside the sample, with their units by name, as the last pull
-- gave them (replaced as a whole on every pull). round_json is the server's FieldRound JSON.
CREATE TABLE field_rounds (
    round_id   TEXT PRIMARY KEY NOT NULL,  -- survey round
    round_json TEXT NOT NULL               -- JSON: the round, its policy and its units
               CHECK (json_valid(round_json)),
    updated_at TEXT NOT NULL               -- when the pull stored it
) STRICT;
