-- 0007_forms: questionnaires and catalogue options downloaded from the server (issue 12).
--
-- The sync client stores every (form_id, version) its assignments need after checking the
-- content hash the server gave (hex SHA-256 of the RFC 8785 canonical JSON of the
-- definition). The app looks a form up here first and in the built-ins second. Like every
-- table, these live in the SQLCipher-encrypted database file.
CREATE TABLE forms (
    form_id      TEXT NOT NULL,                  -- questionnaire id
    version      TEXT NOT NULL,                  -- its version
    content_hash TEXT NOT NULL,                  -- hex SHA-256 of `definition`
    definition   TEXT NOT NULL,                  -- canonical JSON of the definition
    status       TEXT NOT NULL,                  -- server status when fetched (published|retired)
    fetched_at   TEXT NOT NULL,                  -- RFC 3339 UTC
    PRIMARY KEY (form_id, version)
) STRICT;

-- Catalogue options for `choices_from` items, per round (the server's catalogue bundle).
CREATE TABLE catalogue_options (
    round_id   TEXT NOT NULL,                    -- round the bundle belongs to
    kind       TEXT NOT NULL                     -- catalogue
               CHECK (kind IN ('agencies', 'procedures', 'fields', 'units')),
    position   INTEGER NOT NULL,                 -- order given by the server
    value      TEXT NOT NULL,                    -- code
    label_vi   TEXT NOT NULL,                    -- Vietnamese name
    attrs_json TEXT NOT NULL DEFAULT '{}',       -- JSON object of string attributes
    PRIMARY KEY (round_id, kind, position)
) STRICT;
