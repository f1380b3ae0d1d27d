-- 0019_review_queue_order: the review queue is read a page at a time in response id order
-- (issue 14: memory is bounded everywhere a request reads a whole round). Its page query walks
-- the bindings of one round from the last id of the page before, so the round's index now
-- orders them by response id. It replaces response_bindings_round (round_id, surveyor_id):
-- the lookups by round need only its leading column, and no query walks it by surveyor, so
-- ingest still writes one index of this table per new response, not two.
--
-- RULE: never edited once landed; later changes go into a new numbered file.
DROP INDEX IF EXISTS response_bindings_round;
CREATE INDEX response_bindings_round_response ON response_bindings (round_id, response_id);
