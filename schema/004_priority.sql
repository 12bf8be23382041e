-- 004_priority.sql - priority of messages and conversations, with reasons.
--
-- A message's priority is decided by rules first, then by the local model,
-- then (optionally, later and asynchronously) moved by at most one level by
-- an LLM. Each step adds its reasons; model_version names the model that
-- scored it. A conversation carries the priority of its most urgent open
-- message.

SET LOCAL ROLE mailroom_owner;

ALTER TABLE mailroom.message_meta
	ADD COLUMN priority_score smallint CHECK (priority_score BETWEEN 0 AND 100),
	ADD COLUMN priority_level text CHECK (priority_level IN ('urgent', 'high', 'normal', 'low')),
	-- [{"by": "rule"|"model"|"llm", "points": n, "why": "..."}, ...]
	ADD COLUMN priority_reasons jsonb,
	-- 0..1: how sure rules and model together are; the LLM is asked below a threshold
	ADD COLUMN priority_confidence real CHECK (priority_confidence BETWEEN 0 AND 1),
	ADD COLUMN model_version bigint;

ALTER TABLE mailroom.conversations
	ADD COLUMN priority_score smallint CHECK (priority_score BETWEEN 0 AND 100),
	ADD COLUMN priority_level text CHECK (priority_level IN ('urgent', 'high', 'normal', 'low'));
CREATE INDEX conversations_priority_idx ON mailroom.conversations (priority_score DESC, last_activity_at DESC)
	WHERE status = 'open';
