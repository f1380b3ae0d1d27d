-- 0009_round_targets: the targets (chỉ tiêu) of % satisfied per round (issue 11): overall,
-- per criteria group, per field and per agency kind, as a JSON TargetSet
-- (sipas_core::targets). A round without a row uses TargetSet::plan_default (90 / 85 / 80).
-- Who changed them and when is in the audit log (action 'round.targets_set').
CREATE TABLE round_targets (
    round_id     TEXT PRIMARY KEY NOT NULL REFERENCES rounds (id), -- the round
    targets_json TEXT NOT NULL                                     -- JSON TargetSet
);
