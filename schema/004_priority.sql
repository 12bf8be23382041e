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
	ADD COLUMN priority_level text CHECK (priority_level IN ('urgent', 'high', 'normal', 'low')),
	-- since when it has waited on us: its oldest inbound message after our last answer
	ADD COLUMN waiting_since timestamptz;
-- The sender's statistics the worker counts for each message over their latest
-- conversations (worker/scoring.c).
CREATE INDEX message_meta_from_addr_idx ON mailroom.message_meta (from_addr, conversation_id);
CREATE INDEX conversations_priority_idx ON mailroom.conversations (priority_score DESC, last_activity_at DESC)
	WHERE status = 'open';

-- --- the local model and what it learns from -----------------------------------

-- Every version of the local model; the newest row is the one in use. A
-- new version is always learnt on top of the newest one, under the
-- advisory lock mailroom.models' learners share (see lib/learn.c), so that
-- no update is lost.
CREATE TABLE mailroom.models (
	version bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	created_at timestamptz NOT NULL DEFAULT now(),
	blob bytea NOT NULL,              -- model_save() form (lib/model.h)
	examples bigint NOT NULL CHECK (examples >= 0), -- learnt into this version
	note text NOT NULL DEFAULT ''     -- where the examples came from
);

-- An agent's correction of a message's class or priority level. The web
-- UI inserts; the worker learns each exactly once and sets learnt_at in the
-- transaction that stores the model version it went into.
CREATE TABLE mailroom.corrections (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	message_id uuid NOT NULL REFERENCES mailroom.messages (id) ON DELETE CASCADE,
	kind text NOT NULL CHECK (kind IN ('class', 'level')),
	old_value text,
	new_value text NOT NULL CHECK (kind <> 'level' OR new_value IN ('urgent', 'high', 'normal', 'low')),
	actor text NOT NULL,
	at timestamptz NOT NULL DEFAULT now(),
	learnt_at timestamptz,
	model_version bigint REFERENCES mailroom.models (version)
);
CREATE INDEX corrections_unlearnt_idx ON mailroom.corrections (id) WHERE learnt_at IS NULL;

GRANT SELECT, INSERT ON mailroom.models TO mailroom_worker;
GRANT SELECT ON mailroom.models TO mailroom_web;
GRANT SELECT, UPDATE ON mailroom.corrections TO mailroom_worker;
GRANT SELECT, INSERT ON mailroom.corrections TO mailroom_web;
