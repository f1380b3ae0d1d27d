-- 0004_revocation: cutting people and devices off (PostgreSQL backend): disabled users,
-- revoked device tokens, and when each device last synced.
--
-- RULE: never edited once landed; later changes go into new numbered files.
--
-- PERSONAL DATA: none here (timestamps only).

-- When the user was disabled (NULL: active). A disabled user cannot sign in and none of its
-- session or device tokens work until it is enabled again.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

-- When the device's token was revoked (NULL: working). A revoked token never works again;
-- the device must enrol anew with a fresh code.
ALTER TABLE devices ADD COLUMN revoked_at TIMESTAMPTZ;

-- When the device last pulled or uploaded (NULL: never), to the minute.
ALTER TABLE devices ADD COLUMN last_sync_at TIMESTAMPTZ;
