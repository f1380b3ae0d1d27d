-- 0007_forms: PLACEHOLDER on branch h-monitor only, so that this branch's store migrations stay
-- consecutive (0008, 0009 are H-monitor's). H-formpub owns 0007_forms; at merge take THEIR file
-- and entry instead of this one.
SELECT 1;
