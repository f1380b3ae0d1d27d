-- 0008_scopes: scope and tenancy (issue 10): the ministry role, each user's scope (units and
-- agencies), rounds' covered units, agencies, targets and closing.
--
-- users.role gains 'ministry' (Bộ Nội vụ: read-only aggregates). SQLite cannot alter a CHECK
-- constraint, so the table is rebuilt (the documented 12-step way: the migration runner turns
-- foreign key enforcement off around migrations and runs PRAGMA foreign_key_check before it
-- commits). Columns, order and data stay the same.
CREATE TABLE users_new (
    id            TEXT PRIMARY KEY NOT NULL,  -- UUIDv7 of the user
    username      TEXT NOT NULL UNIQUE,       -- login name
    display_name  TEXT NOT NULL,              -- name shown in the dashboard
    role          TEXT NOT NULL               -- what the user may do
                  CHECK (role IN ('admin', 'supervisor', 'surveyor', 'monitor', 'ministry')),
    password_hash TEXT,                       -- PHC password hash (NULL: device-only user)
    created_at    TEXT NOT NULL,              -- when the user was created
    disabled_at   TEXT                        -- when the user was disabled (NULL: active)
) STRICT;
INSERT INTO users_new (id, username, display_name, role, password_hash, created_at, disabled_at)
    SELECT id, username, display_name, role, password_hash, created_at, disabled_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

-- A user's scope: the units (with everything below them) and agencies it works in. No unit
-- row: the whole server (bootstrap admin, users from before this migration). Agency rows
-- further restrict to assignments of those agencies. Rules: crates/server/src/scope.rs.
CREATE TABLE user_scopes (
    user_id TEXT NOT NULL REFERENCES users (id),        -- the user
    kind    TEXT NOT NULL CHECK (kind IN ('unit', 'agency')),  -- what the code names
    code    TEXT NOT NULL,                              -- unit or agency code
    PRIMARY KEY (user_id, kind, code)
) STRICT;

-- Units a round covers (each with everything below it). None: the round predates scopes and
-- is visible to whole-server users only.
CREATE TABLE round_units (
    round_id  TEXT NOT NULL REFERENCES rounds (id),  -- the round
    unit_code TEXT NOT NULL,                         -- covered unit
    PRIMARY KEY (round_id, unit_code)
) STRICT;

-- Agencies of a round (listed = 1; none listed: every agency) and target sample sizes per
-- agency (target NULL: none set).
CREATE TABLE round_agencies (
    round_id    TEXT NOT NULL REFERENCES rounds (id),     -- the round
    agency_code TEXT NOT NULL,                            -- agency code
    listed      INTEGER NOT NULL CHECK (listed IN (0, 1)), -- one of the round's agencies
    target      INTEGER CHECK (target IS NULL OR target >= 0),  -- target sample size
    PRIMARY KEY (round_id, agency_code)
) STRICT;

-- A closed round takes no more uploads (status 'closed'; planned / open are computed).
ALTER TABLE rounds ADD COLUMN closed_at TEXT;   -- when it was closed (NULL: not closed)
ALTER TABLE rounds ADD COLUMN closed_by TEXT;   -- user id of who closed it
