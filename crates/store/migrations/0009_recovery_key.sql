-- 0009_recovery_key: the organisation's recovery public key (X25519), received at enrolment.
--
-- The store's key is derived from the PIN. So that a forgotten PIN does not lose interviews,
-- the device also seals its key with this public key (libsodium sealed box) into the side
-- file `<db>.recovery`, which only the province's offline private key opens. The public key
-- is kept here (inside the encrypted store) so that the key is sealed again after every PIN
-- change. Only one row.
CREATE TABLE recovery_key (
    id          INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    public_key  TEXT NOT NULL,                   -- X25519 public key, standard base64 (32 bytes)
    set_at      TEXT NOT NULL                    -- when it was received
) STRICT;
