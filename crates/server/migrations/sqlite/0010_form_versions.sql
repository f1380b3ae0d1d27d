-- 0010_form_versions: questionnaires published by the server (issue 12). One row per
-- (form_id, version): a draft is checked but not usable; a published version is immutable and
-- what rounds, ingest, review and results use; a retired version stays readable (old responses
-- keep being scored) but new rounds refuse it. Built-in forms are seeded as published at
-- start-up. Who uploaded, published, retired is also in the audit log ('form.*').
CREATE TABLE form_versions (
    form_id      TEXT NOT NULL,                   -- questionnaire id
    version      TEXT NOT NULL,                   -- its version
    content_hash TEXT NOT NULL,                   -- hex SHA-256 of `definition`
    definition   TEXT NOT NULL,                   -- canonical JSON (RFC 8785) of the definition
    source_xlsx  BLOB,                            -- the uploaded workbook (NULL: JSON upload)
    status       TEXT NOT NULL                    -- life cycle
                 CHECK (status IN ('draft', 'published', 'retired')),
    title_vi     TEXT NOT NULL,                   -- Vietnamese title (for lists)
    uploaded_by  TEXT,                            -- user id (NULL: built-in seed)
    uploaded_at  TEXT NOT NULL,                   -- RFC 3339 UTC
    published_at TEXT,                            -- RFC 3339 UTC (NULL: draft)
    retired_at   TEXT,                            -- RFC 3339 UTC (NULL: not retired)
    PRIMARY KEY (form_id, version)
) STRICT;
