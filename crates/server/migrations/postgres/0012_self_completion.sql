-- 0012_self_completion: citizens answer on their own phone (issue 15). Every response
-- revision records how it was collected; a round says which modes its official figure counts;
-- personal one-time links tie a self-completed response to a sampled assignment; open links
-- per agency (QR poster) with device tokens and the submissions the abuse limits count.
-- No contact data is stored in any of these tables.
ALTER TABLE responses ADD COLUMN mode TEXT NOT NULL DEFAULT 'capi'  -- how it was collected
    CHECK (mode IN ('capi', 'self_personal', 'self_open'));
CREATE INDEX responses_round_mode ON responses (round_id, mode);

-- JSON array of the modes the round's official figure counts.
ALTER TABLE rounds ADD COLUMN official_modes TEXT NOT NULL
    DEFAULT '["capi","self_personal"]';

-- Personal one-time links, one per assignment (the code is printed on a letter, so it is kept).
CREATE TABLE self_links (
    code          TEXT PRIMARY KEY,                                 -- short code in the URL /s/{code}
    round_id      TEXT NOT NULL REFERENCES rounds (id),             -- round
    assignment_id UUID NOT NULL UNIQUE REFERENCES assignments (id), -- the sampled respondent's assignment
    created_by    UUID NOT NULL REFERENCES users (id),              -- supervisor who made it
    created_at    TIMESTAMPTZ NOT NULL,                             -- when
    response_id   UUID,                                             -- response accepted through it (NULL: not yet)
    answered_at   TIMESTAMPTZ,                                      -- when (NULL: not yet)
    revoked_at    TIMESTAMPTZ                                       -- withdrawn (NULL: usable)
);
CREATE INDEX self_links_round ON self_links (round_id);

-- Open links per agency of a round (QR poster at the one-stop shop).
CREATE TABLE open_links (
    token       TEXT PRIMARY KEY,                      -- token in the URL /o/{token}
    round_id    TEXT NOT NULL REFERENCES rounds (id),  -- round
    agency_code TEXT NOT NULL,                         -- agency the poster hangs at
    created_by  UUID NOT NULL REFERENCES users (id),   -- supervisor who made it
    created_at  TIMESTAMPTZ NOT NULL,                  -- when
    revoked_at  TIMESTAMPTZ                            -- withdrawn (NULL: usable)
);
CREATE INDEX open_links_round ON open_links (round_id);

-- Device tokens the open-link page asks for once and keeps in the browser (hash only).
CREATE TABLE open_devices (
    token_hash TEXT PRIMARY KEY,                            -- SHA-256 (hex) of the device token
    link_token TEXT NOT NULL REFERENCES open_links (token), -- open link it was issued on
    issued_at  TIMESTAMPTZ NOT NULL                         -- when
);

-- Responses sent through an open link, for the abuse limits (per device, per address).
CREATE TABLE open_submissions (
    response_id UUID PRIMARY KEY,                            -- response id (a resend counts once)
    link_token  TEXT NOT NULL REFERENCES open_links (token), -- open link
    device_hash TEXT NOT NULL,                               -- SHA-256 of the device token
    addr_hash   TEXT NOT NULL,                               -- SHA-256 of the client address (never the address)
    at          TIMESTAMPTZ NOT NULL                         -- when
);
CREATE INDEX open_submissions_device ON open_submissions (device_hash, at);
CREATE INDEX open_submissions_addr ON open_submissions (addr_hash, at);
