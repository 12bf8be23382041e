-- 033_llm_backfill.sql - how far the LLM's backlog has been looked at.
--
-- A worker queues an unsure message for the LLM in the statement that
-- stores it. What that cannot cover (the LLM just enabled, its threshold
-- raised) a worker finds by walking the last day's messages once
-- (worker/llmqueue.c). This row says up to when messages below which
-- threshold are known to be queued, so that a worker starting or
-- reloading with the same settings does not read the whole day again (at
-- 400,000 messages a day that walk cost 0.5 s of PostgreSQL's time at
-- every start).
SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.llm_backfill (
	only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	threshold real NOT NULL,       -- worker.llm.ask_below_confidence of the walk
	walked_to timestamptz NOT NULL -- every message parsed before is queued, if below threshold
);

GRANT SELECT, INSERT, UPDATE ON mailroom.llm_backfill TO mailroom_worker;
