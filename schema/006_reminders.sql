-- 006_reminders.sql - users, reminders (Wiedervorlage), team notifications,
-- the outgoing notification mail queue, and notes with an outcome.
--
-- A reminder fires exactly once: mailroom.reminders_fire() locks due rows
-- with FOR UPDATE SKIP LOCKED and, in the caller's transaction, changes
-- their state, writes one notification, one audit row and (when asked) one
-- outbox row. Several workers may call it at the same time.
--
-- History: every change of a reminder's state, due time, message or
-- assignee is kept by a trigger in mailroom.reminder_history (the row as it
-- was before and the new state), so done, snoozed and re-set reminders stay
-- visible. The reminder row itself holds the current state only.

SET LOCAL ROLE mailroom_owner;

-- --- users ---------------------------------------------------------------------------
-- Minimal: who sets and receives reminders and owns a calendar feed. The
-- web pages add passwords, sessions and second factors later.
CREATE TABLE mailroom.users (
	id                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	login                     text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
	display_name              text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
	email                     text CHECK (email ~ '^[^@[:space:][:cntrl:]<>,;]{1,64}@[^@[:space:][:cntrl:]<>,;]{1,255}$'),
	role                      text NOT NULL CHECK (role IN ('admin', 'lead', 'agent', 'auditor')),
	active                    boolean NOT NULL DEFAULT true,
	created_at                timestamptz NOT NULL DEFAULT now(),
	-- SHA-256 of the calendar feed's 256-bit random token; the token itself
	-- is shown once and never stored. NULL: no feed.
	calendar_token_hash       bytea UNIQUE CHECK (length(calendar_token_hash) = 32),
	calendar_token_created_at timestamptz
);
COMMENT ON TABLE mailroom.users IS 'the team: agents, leads, admins, auditors (schema/006_reminders.sql)';

-- --- reminders -----------------------------------------------------------------------
CREATE TABLE mailroom.reminders (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	conversation_id bigint REFERENCES mailroom.conversations ON DELETE CASCADE,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE CASCADE,
	due_at          timestamptz NOT NULL,
	message         text NOT NULL CHECK (length(message) BETWEEN 1 AND 2000),
	created_by      bigint REFERENCES mailroom.users, -- NULL: an administrator on the command line
	assignee        bigint REFERENCES mailroom.users,
	mail_assignee   boolean NOT NULL DEFAULT false,
	state           text NOT NULL DEFAULT 'pending'
	                CHECK (state IN ('pending', 'fired', 'done', 'snoozed', 'cancelled')),
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	fired_at        timestamptz,
	CHECK (num_nonnulls(conversation_id, organisation_id) = 1),
	CHECK (NOT mail_assignee OR assignee IS NOT NULL)
);
COMMENT ON TABLE mailroom.reminders IS 'follow-ups (Wiedervorlage) on a conversation or an organisation';
-- What the firing task scans: only reminders still to fire.
CREATE INDEX reminders_due_idx ON mailroom.reminders (due_at) WHERE state IN ('pending', 'snoozed');
CREATE INDEX reminders_assignee_idx ON mailroom.reminders (assignee) WHERE state IN ('pending', 'snoozed');

CREATE TABLE mailroom.reminder_history (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	reminder_id bigint NOT NULL REFERENCES mailroom.reminders ON DELETE CASCADE,
	at          timestamptz NOT NULL DEFAULT now(),
	old_state   text NOT NULL,
	new_state   text NOT NULL,
	old_due_at  timestamptz NOT NULL,
	new_due_at  timestamptz NOT NULL,
	old_row     jsonb NOT NULL -- the whole reminder as it was
);
CREATE INDEX reminder_history_reminder_idx ON mailroom.reminder_history (reminder_id, id);

-- reminders_keep_history - keep the old row of every change that matters
CREATE FUNCTION mailroom.reminders_keep_history() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
	IF (OLD.state, OLD.due_at, OLD.message, OLD.assignee, OLD.mail_assignee)
	   IS DISTINCT FROM (NEW.state, NEW.due_at, NEW.message, NEW.assignee, NEW.mail_assignee) THEN
		INSERT INTO mailroom.reminder_history (reminder_id, old_state, new_state, old_due_at, new_due_at, old_row)
		VALUES (OLD.id, OLD.state, NEW.state, OLD.due_at, NEW.due_at, to_jsonb(OLD));
		NEW.updated_at := now();
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER reminders_history BEFORE UPDATE ON mailroom.reminders
	FOR EACH ROW EXECUTE FUNCTION mailroom.reminders_keep_history();

-- --- notifications -------------------------------------------------------------------
CREATE TABLE mailroom.notifications (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at              timestamptz NOT NULL DEFAULT now(),
	kind            text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,31}$'),
	text            text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
	conversation_id bigint REFERENCES mailroom.conversations ON DELETE CASCADE,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE CASCADE,
	reminder_id     bigint REFERENCES mailroom.reminders ON DELETE SET NULL,
	for_user        bigint REFERENCES mailroom.users -- NULL: the whole team
);
COMMENT ON TABLE mailroom.notifications IS 'what the team is told: fired reminders and the like';
CREATE INDEX notifications_at_idx ON mailroom.notifications (at DESC);
-- One notification per firing of a reminder: a second firing cannot happen
-- without a re-set, and a re-set reminder fires again as a new occasion.
CREATE INDEX notifications_reminder_idx ON mailroom.notifications (reminder_id);

-- --- outbox: notification mail, sent by the worker through Postfix ---------------------
CREATE TABLE mailroom.outbox (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	created_at      timestamptz NOT NULL DEFAULT now(),
	reminder_id     bigint REFERENCES mailroom.reminders ON DELETE SET NULL,
	to_addr         text NOT NULL CHECK (length(to_addr) BETWEEN 3 AND 320),
	to_name         text NOT NULL DEFAULT '' CHECK (length(to_name) <= 200),
	subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
	body            text NOT NULL CHECK (length(body) <= 20000),
	state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	last_error      text,
	sent_at         timestamptz
);
COMMENT ON TABLE mailroom.outbox IS 'notification mail waiting to be sent through the local Postfix';
CREATE INDEX outbox_queued_idx ON mailroom.outbox (next_attempt_at) WHERE state = 'queued';

-- --- notes ---------------------------------------------------------------------------
CREATE TABLE mailroom.notes (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	conversation_id bigint REFERENCES mailroom.conversations ON DELETE CASCADE,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE CASCADE,
	kind            text NOT NULL CHECK (kind IN ('note', 'phone', 'call')),
	body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
	author          bigint REFERENCES mailroom.users,
	created_at      timestamptz NOT NULL DEFAULT now(),
	-- NULL until classified
	outcome         text CHECK (outcome IN ('positive', 'negative', 'partial', 'unclassified')),
	outcome_by      text CHECK (outcome_by IN ('rule', 'model', 'llm')),
	outcome_reason  text CHECK (length(outcome_reason) <= 500),
	outcome_at      timestamptz,
	CHECK (num_nonnulls(conversation_id, organisation_id) = 1),
	CHECK ((outcome IS NULL) = (outcome_at IS NULL))
);
COMMENT ON TABLE mailroom.notes IS 'notes and phone calls on a conversation or organisation, with their outcome';
CREATE INDEX notes_unclassified_idx ON mailroom.notes (created_at)
	WHERE outcome IS NULL AND kind IN ('phone', 'call');

-- --- firing ----------------------------------------------------------------------------

-- reminders_fire - fire at most p_limit due reminders that no other
-- transaction holds; returns how many fired. Runs in the caller's
-- transaction: the state change, the notification, the audit row and the
-- outbox row commit together or not at all.
CREATE FUNCTION mailroom.reminders_fire(p_limit integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
DECLARE
	r mailroom.reminders;
	v_new mailroom.reminders;
	v_title text;
	v_text text;
	v_user mailroom.users;
	v_n integer := 0;
BEGIN
	FOR r IN
		SELECT * FROM mailroom.reminders
		 WHERE state IN ('pending', 'snoozed') AND due_at <= now()
		 ORDER BY due_at
		 LIMIT p_limit
		   FOR UPDATE SKIP LOCKED
	LOOP
		UPDATE mailroom.reminders SET state = 'fired', fired_at = now()
		 WHERE id = r.id RETURNING * INTO v_new;
		IF r.conversation_id IS NOT NULL THEN
			SELECT 'conversation ' || c.id || ' "' || left(c.title, 120) || '"' INTO v_title
			  FROM mailroom.conversations c WHERE c.id = r.conversation_id;
		ELSE
			SELECT 'organisation ' || o.id || ' "' || left(o.name, 120) || '"' INTO v_title
			  FROM mailroom.organisations o WHERE o.id = r.organisation_id;
		END IF;
		v_text := 'Reminder: ' || r.message || ' (' || COALESCE(v_title, '?') || ')';
		INSERT INTO mailroom.notifications (kind, text, conversation_id, organisation_id, reminder_id)
		VALUES ('reminder', left(v_text, 4000), r.conversation_id, r.organisation_id, r.id);
		PERFORM mailroom.audit_append('worker', 'reminder.fire', 'reminder:' || r.id, to_jsonb(r), to_jsonb(v_new));
		IF r.mail_assignee THEN
			SELECT * INTO v_user FROM mailroom.users u WHERE u.id = r.assignee;
			IF v_user.email IS NOT NULL AND v_user.active THEN
				INSERT INTO mailroom.outbox (reminder_id, to_addr, to_name, subject, body)
				VALUES (r.id, v_user.email, v_user.display_name,
					left('Reminder: ' || r.message, 200),
					'Reminder due ' || to_char(r.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC'
					|| E'\n\n' || r.message || E'\n\n' || COALESCE(v_title, '') || E'\n');
			END IF;
		END IF;
		v_n := v_n + 1;
	END LOOP;
	RETURN v_n;
END
$$;

-- --- grants ----------------------------------------------------------------------------

GRANT SELECT ON mailroom.users, mailroom.reminders, mailroom.reminder_history, mailroom.notifications,
	mailroom.outbox, mailroom.notes TO mailroom_worker, mailroom_web;
GRANT UPDATE ON mailroom.reminders, mailroom.outbox TO mailroom_worker;
GRANT UPDATE (outcome, outcome_by, outcome_reason, outcome_at) ON mailroom.notes TO mailroom_worker;
GRANT INSERT ON mailroom.reminder_history, mailroom.notifications, mailroom.outbox TO mailroom_worker;
GRANT INSERT, UPDATE ON mailroom.reminders, mailroom.notes TO mailroom_web;
GRANT INSERT ON mailroom.reminder_history TO mailroom_web;
-- The feed's token lives with the user; the web pages may replace it.
GRANT UPDATE (calendar_token_hash, calendar_token_created_at) ON mailroom.users TO mailroom_web;
REVOKE ALL ON FUNCTION mailroom.reminders_fire(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.reminders_fire(integer) TO mailroom_worker;

-- The auditors' view of reminders, their history and notes' outcomes.
CREATE VIEW auditor.reminders AS
SELECT r.id, r.conversation_id, r.organisation_id, r.due_at, r.message, cu.login AS created_by,
       au.login AS assignee, r.mail_assignee, r.state, r.created_at, r.updated_at, r.fired_at
  FROM mailroom.reminders r
  LEFT JOIN mailroom.users cu ON cu.id = r.created_by
  LEFT JOIN mailroom.users au ON au.id = r.assignee;
COMMENT ON VIEW auditor.reminders IS 'every reminder and its current state (schema/006_reminders.sql)';
CREATE VIEW auditor.reminder_history AS
SELECT reminder_id, at, old_state, new_state, old_due_at, new_due_at FROM mailroom.reminder_history;
CREATE VIEW auditor.notes AS
SELECT n.id, n.conversation_id, n.organisation_id, n.kind, u.login AS author, n.created_at, n.outcome,
       n.outcome_by, n.outcome_reason, n.outcome_at
  FROM mailroom.notes n LEFT JOIN mailroom.users u ON u.id = n.author;
GRANT SELECT ON auditor.reminders, auditor.reminder_history, auditor.notes TO mailroom_auditor;
