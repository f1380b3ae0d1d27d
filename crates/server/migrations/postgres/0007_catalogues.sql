-- 0007_catalogues: catalogues of administrative units, agencies, fields and procedures
-- (issue 10), and the catalogue codes of an assignment.
--
-- Units are dated records (see sipas_core::units): a code names a unit only over
-- [valid_from, valid_to], so the key is (code, valid_from). The tables are filled at start-up
-- from the seeds under schemas/ when empty and replaced by imports (all-or-nothing).
CREATE TABLE catalogue_units (
    code             TEXT NOT NULL,             -- unit code (GSO style)
    name             TEXT NOT NULL,             -- full Vietnamese name (NFC)
    level            TEXT NOT NULL              -- level in the hierarchy
                     CHECK (level IN ('province', 'district', 'commune', 'village')),
    parent_code      TEXT,                      -- parent unit code (NULL: province)
    valid_from       DATE NOT NULL,             -- first day
    valid_to         DATE,                      -- last day, inclusive (NULL: still exists)
    replaced_by_json TEXT NOT NULL DEFAULT '[]', -- JSON array of successor codes
    PRIMARY KEY (code, valid_from)
);
CREATE INDEX catalogue_units_parent ON catalogue_units (parent_code);

-- Agencies that serve citizens (Sở, UBND, Bộ phận Một cửa, hospitals, schools, ...).
CREATE TABLE agencies (
    code       TEXT PRIMARY KEY,                -- agency code
    name       TEXT NOT NULL,                   -- Vietnamese name (NFC)
    kind       TEXT NOT NULL                    -- kind (sipas_core::catalogue::AgencyKind)
               CHECK (kind IN ('so_ban_nganh', 'ubnd_tinh', 'ubnd_xa', 'mot_cua', 'y_te',
                               'giao_duc', 'khac')),
    unit_code  TEXT NOT NULL,                   -- administrative unit it belongs to
    valid_from DATE NOT NULL,                   -- first day
    valid_to   DATE                             -- last day, inclusive (NULL: still exists)
);
CREATE INDEX agencies_unit ON agencies (unit_code);

-- Fields of administrative procedures (lĩnh vực), e.g. Đất đai.
CREATE TABLE fields (
    code TEXT PRIMARY KEY,                      -- field code
    name TEXT NOT NULL                          -- Vietnamese name (NFC)
);

-- Administrative procedures (thủ tục hành chính).
CREATE TABLE procedures (
    code          TEXT PRIMARY KEY,             -- procedure code
    name          TEXT NOT NULL,                -- Vietnamese name (NFC)
    field_code    TEXT NOT NULL REFERENCES fields (code), -- its field
    national_code TEXT                          -- code in the national database (NULL: none)
);
CREATE INDEX procedures_field ON procedures (field_code);

-- Catalogue codes of a sampled respondent; the names next to them (unit_name, agency,
-- procedure, field_name) are copied from the catalogues when the sample is imported.
ALTER TABLE assignments ADD COLUMN agency_code TEXT;     -- agency code (NULL: none)
ALTER TABLE assignments ADD COLUMN field_code TEXT;      -- field code (NULL: none)
ALTER TABLE assignments ADD COLUMN field_name TEXT;      -- field name (NULL: none)
ALTER TABLE assignments ADD COLUMN procedure_code TEXT;  -- procedure code (NULL: none)
CREATE INDEX assignments_round_agency ON assignments (round_id, agency_code);
