-- 0003_status_outbox: field outcomes recorded on the device, waiting to be sent to the server.
--
-- When the surveyor records an outcome by hand (absent, refused, moved, invalid,
-- form_delivered, or back to not_visited) the change is queued here in the same transaction,
-- and the sync engine sends it with POST /api/v1/assignments/{id}/status. Only the latest
-- change per assignment is kept (a newer change replaces a pending or sent one). Statuses
-- applied from a pull and 'collected' (which follows from the uploaded response) are not
-- queued.
CREATE TABLE status_outbox (
    assignment_id TEXT PRIMARY KEY NOT NULL      -- assignment whose outcome changed
                  REFERENCES assignments (id),
    status        TEXT NOT NULL                  -- outcome to send
                  CHECK (status IN ('not_visited', 'form_delivered', 'collected',
                                    'absent', 'refused', 'moved', 'invalid')),
    note          TEXT,                          -- the surveyor's free-text remark (NULL: none);
                                                 -- personal data possible, never audited
    changed_at    TEXT NOT NULL,                 -- when the outcome was recorded on the device
    state         TEXT NOT NULL DEFAULT 'pending'  -- 'pending': to send; 'acked': answered by
                  CHECK (state IN ('pending', 'acked')),  -- the server (refused if last_error)
    attempts      INTEGER NOT NULL DEFAULT 0     -- failed send attempts so far
                  CHECK (attempts >= 0),
    last_error    TEXT                           -- last failure; on an 'acked' row: the server's
                                                 -- reason for refusing the change for good
) STRICT;

CREATE INDEX status_outbox_by_state ON status_outbox (state, changed_at);
