-- 0002_pull_cursor: remember where the last pull from the server ended.
--
-- The server hands out a change cursor with every pull (GET /api/v1/pull?cursor=N); the device
-- sends it back next time so it only receives assignments and review decisions changed since.
-- 0 means "never pulled": the next pull receives everything.
ALTER TABLE sync_log ADD COLUMN pull_cursor INTEGER NOT NULL DEFAULT 0
    CHECK (pull_cursor >= 0);  -- cursor returned by the last applied pull (0: none yet)
