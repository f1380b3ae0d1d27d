-- 0017_quarantine_mode: a refused record keeps how it was collected (issue 15 follow-up), so a
-- self-completed answer (personal or open link) accepted from quarantine by a supervisor is
-- stored with its own mode, not as an interviewer's ('capi'). Entries from before this
-- migration came from devices and hand-over files only: 'capi'.
ALTER TABLE quarantine ADD COLUMN mode TEXT NOT NULL DEFAULT 'capi'
    CHECK (mode IN ('capi', 'self_personal', 'self_open'));
