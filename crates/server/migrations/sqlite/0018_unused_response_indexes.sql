-- 0018_unused_response_indexes: drops two indexes of `responses` that no query uses (issue 14,
-- ingest speed: every stored revision wrote them).
--   responses_round     (round_id): the leading column of responses_round_mode (0012) serves
--                       every lookup by round.
--   responses_submitter (submitted_by): no query selects responses by who submitted them.
--
-- RULE: never edited once landed; later changes go into a new numbered file.
DROP INDEX IF EXISTS responses_round;
DROP INDEX IF EXISTS responses_submitter;
