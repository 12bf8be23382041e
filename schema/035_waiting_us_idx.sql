-- 035_waiting_us_idx.sql - the open conversations waiting on us, by class
-- and level, for the deadline task.
--
-- Every 10 s each worker looks for conversations waiting on us that a
-- response-time policy covers and that have no running deadline
-- (worker/deadlines-sql.h, SQL_RESPONSE_CANDIDATES). Without this index it
-- read every open conversation waiting on us; with it, one index range per
-- (class, level) a policy covers. The expressions are the query's own
-- (no class is '', no level is 'normal'), so the planner can match them.
SET LOCAL ROLE mailroom_owner;

CREATE INDEX conversations_waiting_us_idx
	ON mailroom.conversations ((COALESCE(class, '')), (COALESCE(priority_level, 'normal')), last_activity_at)
	WHERE status = 'open' AND waiting_on = 'us' AND merged_into IS NULL;
