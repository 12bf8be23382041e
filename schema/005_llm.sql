-- 005_llm.sql - the optional LLM: its request queue, answer cache and daily usage.
--
-- The worker enqueues a message whose priority rules and model were unsure
-- of (priority_confidence below worker.llm.ask_below_confidence), claims
-- pending rows with FOR UPDATE SKIP LOCKED (any number of workers), sends
-- them asynchronously and records every outcome here: the answer, the level
-- it applied, or why it failed. An answer is cached by the SHA-256 of the
-- model and the text sent, so the same text is never asked twice. The daily
-- budget is counted per day in llm_usage, shared by all workers.

SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.llm_requests (
	message_id      uuid PRIMARY KEY REFERENCES mailroom.messages,
	state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'done', 'failed', 'skipped')),
	attempts        integer NOT NULL DEFAULT 0,
	content_hash    text CHECK (content_hash ~ '^[0-9a-f]{64}$'),
	model           text,
	http_status     integer,
	answer          jsonb, -- {"class", "level", "confidence", "reason"} as validated
	applied_level   text CHECK (applied_level IN ('urgent', 'high', 'normal', 'low')),
	from_cache      boolean NOT NULL DEFAULT false,
	error           text,  -- why the last attempt failed, or why it waits
	claimed_by      text,
	enqueued_at     timestamptz NOT NULL DEFAULT now(),
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	sent_at         timestamptz,
	done_at         timestamptz
);
CREATE INDEX llm_requests_pending_idx ON mailroom.llm_requests (next_attempt_at) WHERE state = 'pending';
CREATE INDEX llm_requests_sent_idx ON mailroom.llm_requests (sent_at) WHERE state = 'sent';

CREATE TABLE mailroom.llm_cache (
	content_hash text PRIMARY KEY CHECK (content_hash ~ '^[0-9a-f]{64}$'),
	model        text NOT NULL,
	answer       jsonb NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mailroom.llm_usage (
	day      date PRIMARY KEY,
	requests integer NOT NULL DEFAULT 0 CHECK (requests >= 0)
);

-- the enqueue task looks at recently parsed messages only
CREATE INDEX message_meta_parsed_at_idx ON mailroom.message_meta (parsed_at);

GRANT SELECT, INSERT, UPDATE ON mailroom.llm_requests, mailroom.llm_cache, mailroom.llm_usage TO mailroom_worker;
GRANT SELECT ON mailroom.llm_requests, mailroom.llm_cache, mailroom.llm_usage TO mailroom_web;
