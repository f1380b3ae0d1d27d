-- 0005_withdrawals: assignments taken away from a surveyor (moved to another one), so that
-- surveyor's device learns it on its next pull and deletes the respondent's contact (SQLite).
--
-- RULE: never edited once landed; later changes go into 0006_*.sql and so on.
--
-- PERSONAL DATA: none here (identifiers only).

-- One row per move away from a surveyor. `seq` comes from the same global change sequence as
-- assignments and review decisions, so one pull cursor covers all three.
CREATE TABLE assignment_withdrawals (
    seq           INTEGER NOT NULL,                          -- change_seq value of the move (pull cursor)
    assignment_id TEXT NOT NULL REFERENCES assignments (id), -- the assignment moved
    surveyor_id   TEXT NOT NULL REFERENCES users (id),       -- surveyor it was taken from
    withdrawn_at  TEXT NOT NULL,                             -- when (RFC 3339 UTC)
    withdrawn_by  TEXT NOT NULL REFERENCES users (id),       -- supervisor or admin who moved it
    PRIMARY KEY (seq, assignment_id)
) STRICT;
CREATE INDEX assignment_withdrawals_surveyor_seq ON assignment_withdrawals (surveyor_id, seq);
