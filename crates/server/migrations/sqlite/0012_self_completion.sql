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
    DEFAULT '["capi","self_personal"]' CHECK (json_valid(official_modes));

-- Personal one-time links, one per assignment (the code is printed on a letter, so it is kept).
CREATE TABLE self_links (
    code          TEXT PRIMARY KEY NOT NULL,                          -- short code in the URL /s/{code}
    round_id      TEXT NOT NULL REFERENCES rounds (id),               -- round
    assignment_id TEXT NOT NULL UNIQUE REFERENCES assignments (id),   -- the sampled respondent's assignment
    created_by    TEXT NOT NULL REFERENCES users (id),                -- supervisor who made it
    created_at    TEXT NOT NULL,                                      -- RFC 3339 UTC
    response_id   TEXT,                                               -- response accepted through it (NULL: not yet)
    answered_at   TEXT,                                               -- when (NULL: not yet)
    revoked_at    TEXT                                                -- withdrawn (NULL: usable)
) STRICT;
CREATE INDEX self_links_round ON self_links (round_id);

-- Open links per agency of a round (QR poster at the one-stop shop).
CREATE TABLE open_links (
    token       TEXT PRIMARY KEY NOT NULL,             -- token in the URL /o/{token}
    round_id    TEXT NOT NULL REFERENCES rounds (id),  -- round
    agency_code TEXT NOT NULL,                         -- agency the poster hangs at
    created_by  TEXT NOT NULL REFERENCES users (id),   -- supervisor who made it
    created_at  TEXT NOT NULL,                         -- RFC 3339 UTC
    revoked_at  TEXT                                   -- withdrawn (NULL: usable)
) STRICT;
CREATE INDEX open_links_round ON open_links (round_id);

-- Device tokens the open-link page asks for once and keeps in the browser (hash only).
CREATE TABLE open_devices (
    token_hash TEXT PRIMARY KEY NOT NULL,                   -- SHA-256 (hex) of the device token
    link_token TEXT NOT NULL REFERENCES open_links (token), -- open link it was issued on
    issued_at  TEXT NOT NULL                                -- RFC 3339 UTC
) STRICT;

-- Responses sent through an open link, for the abuse limits (per device, per address).
CREATE TABLE open_submissions (
    response_id TEXT PRIMARY KEY NOT NULL,                   -- response id (a resend counts once)
    link_token  TEXT NOT NULL REFERENCES open_links (token), -- open link
    device_hash TEXT NOT NULL,                               -- SHA-256 of the device token
    addr_hash   TEXT NOT NULL,                               -- SHA-256 of the client address (never the address)
    at          TEXT NOT NULL                                -- RFC 3339 UTC
) STRICT;
CREATE INDEX open_submissions_device ON open_submissions (device_hash, at);
CREATE INDEX open_submissions_addr ON open_submissions (addr_hash, at);
