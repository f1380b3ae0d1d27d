-- 0011_answer_counts: the index from counts (issue 14): what the index engine needs of every
-- counted response, kept in the same transaction as ingest, review decisions and voids, so
-- GET index / report read counts instead of re-parsing every response.
--
-- RULE: never edited once landed; later changes go into a new numbered file.
--
-- PERSONAL DATA: none here (codes, item codes and answer values of criteria only).
--
-- Filled by the server (crates/server/src/answer_counts.rs, the one place of these rules):
-- after every ingest, decision and void the response's row is refreshed from the
-- `current_responses` view, and the difference is applied to answer_counts. Responses stored
-- before this migration (no row here) are filled in when the server opens the database.

-- One row per bound response: the count keys of its latest revision and whether it counts.
CREATE TABLE response_facts (
    response_id UUID PRIMARY KEY,           -- the response
    revision    INTEGER NOT NULL,           -- its latest revision (the one the keys are of)
    round_id    TEXT NOT NULL,              -- survey round
    unit_code   TEXT NOT NULL,              -- administrative unit code
    agency_code TEXT NOT NULL,              -- agency of its assignment ('': none)
    field_code  TEXT NOT NULL,              -- field (lĩnh vực) of its assignment ('': none)
    mode        TEXT NOT NULL DEFAULT 'capi', -- response mode (capi, self_personal, self_open)
    received_at TIMESTAMPTZ NOT NULL,       -- reception of that revision
    counted     INTEGER NOT NULL CHECK (counted IN (0, 1)), -- in the index (not voided, not rejected)
    facts       TEXT                        -- count keys, one 'item<TAB>outcome' per line (NULL: form unknown)
);
CREATE INDEX response_facts_round ON response_facts (round_id, counted, received_at);

-- How many counted responses of a (round, unit, agency, field, mode) cell have each count key
-- (sipas_core::index::count_keys): item = criterion code ('' for the respondent key).
CREATE TABLE answer_counts (
    round_id    TEXT NOT NULL,     -- survey round
    unit_code   TEXT NOT NULL,     -- administrative unit code
    agency_code TEXT NOT NULL,     -- agency code ('': none)
    field_code  TEXT NOT NULL,     -- field code ('': none)
    mode        TEXT NOT NULL DEFAULT 'capi', -- response mode (capi, self_personal, self_open)
    item        TEXT NOT NULL,     -- criterion code, '' for the respondent key
    outcome     TEXT NOT NULL,     -- answer value, 'nr', 'x', or the groups with a valid answer
    n           BIGINT NOT NULL,   -- number of counted responses
    PRIMARY KEY (round_id, unit_code, agency_code, field_code, mode, item, outcome)
);
