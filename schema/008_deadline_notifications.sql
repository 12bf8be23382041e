-- 008_deadline_notifications.sql - a deadline's warning, breach and
-- follow-up reach the team as notifications.
--
-- The worker writes each such event exactly once (schema/007_deadlines.sql,
-- a unique index per deadline and event); a trigger on that insert writes
-- the notification in the same transaction, so there is exactly one
-- notification per event too, whoever inserted it. A breach escalated to an
-- address that is a user's (login or e-mail) is addressed to that user;
-- everything else goes to the whole team.

SET LOCAL ROLE mailroom_owner;

CREATE FUNCTION mailroom.deadline_event_notify() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v_title text;
	v_due timestamptz;
	v_user bigint;
	v_text text;
BEGIN
	IF NEW.event NOT IN ('warn', 'breach', 'followup') THEN
		RETURN NULL;
	END IF;
	SELECT c.title INTO v_title FROM mailroom.conversations c WHERE c.id = NEW.conversation_id;
	SELECT d.due_at INTO v_due FROM mailroom.deadlines d WHERE d.id = NEW.deadline_id;
	IF NEW.event = 'breach' AND NEW.escalated_to IS NOT NULL THEN
		SELECT u.id INTO v_user FROM mailroom.users u
		 WHERE u.active AND (lower(u.login) = lower(NEW.escalated_to)
				     OR lower(u.email) = lower(NEW.escalated_to))
		 ORDER BY u.id LIMIT 1;
	END IF;
	v_text := CASE NEW.event
		WHEN 'warn' THEN 'Response due soon (' || to_char(v_due AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC): '
		WHEN 'breach' THEN 'Response overdue since ' || to_char(v_due AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' UTC: '
		ELSE 'No answer to our question yet, follow up: '
	END || left(COALESCE(NULLIF(v_title, ''), '(no subject)'), 300);
	INSERT INTO mailroom.notifications (kind, text, conversation_id, for_user)
	VALUES ('deadline.' || NEW.event, v_text, NEW.conversation_id, v_user);
	RETURN NULL;
END
$$;

CREATE TRIGGER deadline_events_notify AFTER INSERT ON mailroom.deadline_events
	FOR EACH ROW EXECUTE FUNCTION mailroom.deadline_event_notify();
