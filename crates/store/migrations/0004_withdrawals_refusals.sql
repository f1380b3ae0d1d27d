-- 0004_withdrawals_refusals: assignments moved to another surveyor, and why the server refused
-- a record.
--
-- When a pull names an assignment as withdrawn (moved to another surveyor), its contact row
-- is deleted and withdrawn_at set: the assignment stays listed (without contact) and its
-- draft is kept read-only. A later pull that gives it back clears withdrawn_at.
ALTER TABLE assignments ADD COLUMN withdrawn_at TEXT;  -- when the server withdrew it (NULL: ours)

-- A refused upload (outbox 'rejected_invalid') keeps the server's reason code (AckReason,
-- e.g. 'not_your_assignment'; NULL: an older server sent none) and, when the server keeps
-- the refused record in quarantine, the id of that quarantine entry (NULL: not kept there).
ALTER TABLE outbox ADD COLUMN reason_code TEXT;        -- why the server refused it (NULL: unknown)
ALTER TABLE outbox ADD COLUMN quarantine_id TEXT;      -- server's quarantine entry (NULL: none)
