-- 007_deadlines.sql - response deadlines and follow-ups on business hours.
--
-- A response deadline opens when a conversation waits on us (an inbound
-- message that is not automatic); it is met when we answer. A follow-up
-- opens when we wait on a correspondent after our last message; it fires
-- when they have not answered after N business days. Due times are
-- computed by the worker on the business calendar (lib/bizcal.c).
--
-- Rows are never deleted: a deadline changes state (open -> warned ->
-- breached -> met, or cancelled; a follow-up open -> fired, met or
-- cancelled), and every change is also a row in deadline_events, written
-- in the same statement as the change and its audit row. The warning, the
-- breach and the follow-up fire exactly once: a worker claims due rows
-- FOR UPDATE SKIP LOCKED, and a unique index refuses a second event of
-- those kinds for one deadline even if the claim logic were ever wrong.

SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.deadlines (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	conversation_id  bigint NOT NULL REFERENCES mailroom.conversations,
	kind             text NOT NULL CHECK (kind IN ('response', 'followup')),
	policy           text NOT NULL CHECK (length(policy) BETWEEN 1 AND 64),
	business_minutes integer CHECK (business_minutes > 0), -- response: the policy's time; followup: NULL
	started_at       timestamptz NOT NULL, -- the message that started the clock
	due_at           timestamptz NOT NULL,
	warn_at          timestamptz,          -- response only
	warned_at        timestamptz,
	breached_at      timestamptz,
	escalated_to     text CHECK (length(escalated_to) <= 320),
	fired_at         timestamptz,          -- followup only
	met_at           timestamptz,          -- when the answer came (ours, or theirs for a followup)
	closed_at        timestamptz,          -- cancelled: conversation closed or merged, followup superseded
	snoozed_until    timestamptz,          -- no warning, breach or follow-up fires before this
	state            text NOT NULL DEFAULT 'open'
			 CHECK (state IN ('open', 'warned', 'breached', 'met', 'fired', 'cancelled')),
	created_at       timestamptz NOT NULL DEFAULT now(),
	updated_at       timestamptz NOT NULL DEFAULT now(),
	CHECK (kind = 'response' OR state NOT IN ('warned', 'breached')),
	CHECK (kind = 'followup' OR state <> 'fired'),
	UNIQUE (conversation_id, kind, started_at)
);
COMMENT ON TABLE mailroom.deadlines IS 'response deadlines and follow-ups of conversations (schema/007_deadlines.sql)';
-- At most one running deadline of each kind per conversation.
CREATE UNIQUE INDEX deadlines_running_idx ON mailroom.deadlines (conversation_id, kind)
	WHERE state IN ('open', 'warned', 'breached');
CREATE INDEX deadlines_warn_idx ON mailroom.deadlines (warn_at) WHERE state = 'open' AND kind = 'response';
CREATE INDEX deadlines_due_idx ON mailroom.deadlines (due_at) WHERE state IN ('open', 'warned');

-- Every change of a deadline; warn, breach and followup are what the
-- notification system shows the team.
CREATE TABLE mailroom.deadline_events (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	deadline_id     bigint NOT NULL REFERENCES mailroom.deadlines,
	conversation_id bigint NOT NULL REFERENCES mailroom.conversations,
	event           text NOT NULL CHECK (event IN ('open', 'warn', 'breach', 'followup', 'met', 'snooze',
						       'cancel')),
	at              timestamptz NOT NULL DEFAULT now(),
	actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
	escalated_to    text CHECK (length(escalated_to) <= 320),
	detail          jsonb
);
COMMENT ON TABLE mailroom.deadline_events IS 'every state change of a deadline; warn/breach/followup are notifications';
CREATE UNIQUE INDEX deadline_events_once_idx ON mailroom.deadline_events (deadline_id, event)
	WHERE event IN ('open', 'warn', 'breach', 'followup', 'met', 'cancel');
CREATE INDEX deadline_events_conversation_idx ON mailroom.deadline_events (conversation_id, id);

-- History is kept: no role deletes or truncates, not even the owner.
CREATE FUNCTION mailroom.deadlines_keep() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
	RAISE EXCEPTION '%: rows are kept; change their state instead', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER deadlines_keep BEFORE DELETE OR TRUNCATE ON mailroom.deadlines
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.deadlines_keep();
CREATE TRIGGER deadline_events_keep BEFORE DELETE OR UPDATE OR TRUNCATE ON mailroom.deadline_events
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.deadlines_keep();

GRANT SELECT, INSERT, UPDATE ON mailroom.deadlines TO mailroom_worker;
GRANT SELECT, INSERT ON mailroom.deadline_events TO mailroom_worker;
-- The web front end shows deadlines and may snooze them.
GRANT SELECT ON mailroom.deadlines, mailroom.deadline_events TO mailroom_web;
GRANT UPDATE (snoozed_until, updated_at) ON mailroom.deadlines TO mailroom_web;
GRANT INSERT ON mailroom.deadline_events TO mailroom_web;

CREATE VIEW auditor.deadlines AS
SELECT id, conversation_id, kind, policy, business_minutes, started_at, due_at, warn_at, warned_at,
       breached_at, escalated_to, fired_at, met_at, closed_at, snoozed_until, state, created_at, updated_at
  FROM mailroom.deadlines;
COMMENT ON VIEW auditor.deadlines IS 'response deadlines and follow-ups, with when each fired and was met';
GRANT SELECT ON auditor.deadlines TO mailroom_auditor;
