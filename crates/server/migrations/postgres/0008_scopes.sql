-- 0008_scopes: scope and tenancy (issue 10): the ministry role, each user's scope (units and
-- agencies), rounds' covered units, agencies, targets and closing.
--
-- users.role gains 'ministry' (Bộ Nội vụ: read-only aggregates).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('admin', 'supervisor', 'surveyor', 'monitor', 'ministry'));

-- A user's scope: the units (with everything below them) and agencies it works in. No unit
-- row: the whole server (bootstrap admin, users from before this migration). Agency rows
-- further restrict to assignments of those agencies. Rules: crates/server/src/scope.rs.
CREATE TABLE user_scopes (
    user_id UUID NOT NULL REFERENCES users (id),        -- the user
    kind    TEXT NOT NULL CHECK (kind IN ('unit', 'agency')),  -- what the code names
    code    TEXT NOT NULL,                              -- unit or agency code
    PRIMARY KEY (user_id, kind, code)
);

-- Units a round covers (each with everything below it). None: the round predates scopes and
-- is visible to whole-server users only.
CREATE TABLE round_units (
    round_id  TEXT NOT NULL REFERENCES rounds (id),  -- the round
    unit_code TEXT NOT NULL,                         -- covered unit
    PRIMARY KEY (round_id, unit_code)
);

-- Agencies of a round (listed: one of the round's agencies; none listed: every agency) and
-- target sample sizes per agency (target NULL: none set).
CREATE TABLE round_agencies (
    round_id    TEXT NOT NULL REFERENCES rounds (id),  -- the round
    agency_code TEXT NOT NULL,                         -- agency code
    listed      BOOLEAN NOT NULL,                      -- one of the round's agencies
    target      INTEGER CHECK (target IS NULL OR target >= 0),  -- target sample size
    PRIMARY KEY (round_id, agency_code)
);

-- A closed round takes no more uploads (status 'closed'; planned / open are computed).
ALTER TABLE rounds ADD COLUMN closed_at TIMESTAMPTZ;  -- when it was closed (NULL: not closed)
ALTER TABLE rounds ADD COLUMN closed_by UUID;         -- user id of who closed it
