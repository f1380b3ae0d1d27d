-- 0006_catalogue_names: names and catalogue codes of an assignment (issue 10).
--
-- The server copies the names of the unit, agency, field and procedure from its catalogues
-- onto each assignment, with their codes; the app shows names and the codes only as a
-- secondary line. NULL: the server gave none (older server, or no code in the sample frame).
ALTER TABLE assignments ADD COLUMN round_name TEXT;      -- name of the round
ALTER TABLE assignments ADD COLUMN unit_name TEXT;       -- name of the administrative unit
ALTER TABLE assignments ADD COLUMN agency_code TEXT;     -- agency code
ALTER TABLE assignments ADD COLUMN agency_name TEXT;     -- agency name
ALTER TABLE assignments ADD COLUMN field_code TEXT;      -- field (lĩnh vực) code
ALTER TABLE assignments ADD COLUMN field_name TEXT;      -- field name
ALTER TABLE assignments ADD COLUMN procedure_code TEXT;  -- procedure code
