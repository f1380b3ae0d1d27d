-- 0013_shared_state: state that several server processes on one database share (issue 14).
-- The guessing throttles (sign-in, enrolment) count here instead of in each process's memory,
-- so that attempts spread over several processes are counted together; and a version counter
-- per cached table tells every process when to read the forms or the unit catalogue again.
-- Keys are hashes and client addresses only (never a user name or a code in clear).
CREATE TABLE throttle_windows (
    limiter    TEXT NOT NULL CHECK (limiter IN ('login', 'enrol')), -- which throttle
    key        TEXT NOT NULL,                   -- canonical key (see ratelimit.rs)
    started_at TIMESTAMPTZ NOT NULL,            -- start of the window
    count      INTEGER NOT NULL CHECK (count >= 0), -- attempts counted (reserved or failed)
    PRIMARY KEY (limiter, key)
);
CREATE INDEX throttle_windows_started ON throttle_windows (started_at);

-- Where a user signed in successfully lately (the name-wide sign-in cap spares those places).
CREATE TABLE throttle_known (
    key     TEXT PRIMARY KEY,                   -- hash of the user name | client address
    seen_at TIMESTAMPTZ NOT NULL                -- last successful sign-in there
);
CREATE INDEX throttle_known_seen ON throttle_known (seen_at);

-- Bumped in the transaction that changes what a process caches: 'forms' (form_versions),
-- 'units' (the unit catalogue).
CREATE TABLE shared_versions (
    name    TEXT PRIMARY KEY CHECK (name IN ('forms', 'units')), -- what changed
    version BIGINT NOT NULL                     -- changes so far
);
INSERT INTO shared_versions (name, version) VALUES ('forms', 0), ('units', 0);
