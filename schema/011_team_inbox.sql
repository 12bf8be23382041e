-- 011_team_inbox.sql - what the team does with conversations in the web
-- pages: shared inboxes and who may see them, claim (holder) and
-- assignment, private conversations, labels, folders and per-user read
-- state; and row-level security that keeps private conversations and
-- other teams' inboxes out of every query of the web role.
--
-- The web role says whom it acts for once per connection:
--   SELECT set_config('mailroom.user_id', '<users.id>', false);
-- The policies read it through mailroom.web_user(). They are a second line
-- behind the CGI's own checks: a query that forgets a condition still
-- cannot show another user's private conversation.

SET LOCAL ROLE mailroom_owner;

-- --- shared inboxes ---------------------------------------------------------------

-- The shared inboxes (gateway.shared_inboxes of the configuration, copied
-- here by the worker at start so that the database can decide visibility).
CREATE TABLE mailroom.inboxes (
	address    text PRIMARY KEY CHECK (address = lower(address) AND address ~ '^[^@[:space:]]{1,64}@[^@[:space:]]{1,255}$'),
	name       text CHECK (length(name) BETWEEN 1 AND 200),
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mailroom.inboxes IS 'shared inbox addresses (schema/011_team_inbox.sql)';

-- Who works which inbox. An inbox without members is open to every user;
-- admins see every inbox.
CREATE TABLE mailroom.inbox_members (
	inbox   text NOT NULL REFERENCES mailroom.inboxes ON DELETE CASCADE ON UPDATE CASCADE,
	user_id bigint NOT NULL REFERENCES mailroom.users ON DELETE CASCADE,
	PRIMARY KEY (inbox, user_id)
);
CREATE INDEX inbox_members_user_idx ON mailroom.inbox_members (user_id);

-- --- labels and folders -------------------------------------------------------------

CREATE TABLE mailroom.labels (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]'),
	created_by bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mailroom.folders (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64 AND name !~ '[[:cntrl:]]'),
	created_by bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- --- conversations: who holds, who is assigned, private, folder, inboxes ----------

ALTER TABLE mailroom.conversations
	-- the agent working on it now (claim / release / hand over)
	ADD COLUMN holder_id   bigint REFERENCES mailroom.users ON DELETE SET NULL,
	ADD COLUMN held_since  timestamptz,
	-- the agent responsible for it
	ADD COLUMN assignee_id bigint REFERENCES mailroom.users ON DELETE SET NULL,
	-- private: visible only to its owner
	ADD COLUMN private     boolean NOT NULL DEFAULT false,
	ADD COLUMN owner_id    bigint REFERENCES mailroom.users ON DELETE SET NULL,
	ADD COLUMN folder_id   bigint REFERENCES mailroom.folders ON DELETE SET NULL,
	-- the shared inboxes its messages were addressed to (kept by a trigger)
	ADD COLUMN inboxes     text[] NOT NULL DEFAULT '{}',
	ADD CONSTRAINT conversations_private_owner CHECK (NOT private OR owner_id IS NOT NULL),
	ADD CONSTRAINT conversations_holder_since CHECK ((holder_id IS NULL) = (held_since IS NULL));

-- The inbox list's orders, with id as the keyset tie-breaker.
CREATE INDEX conversations_activity_keyset_idx ON mailroom.conversations (last_activity_at DESC, id DESC)
	WHERE merged_into IS NULL;
CREATE INDEX conversations_priority_keyset_idx ON mailroom.conversations
	(priority_score DESC NULLS LAST, last_activity_at DESC, id DESC) WHERE merged_into IS NULL;
CREATE INDEX conversations_status_idx ON mailroom.conversations (status, last_activity_at DESC);
CREATE INDEX conversations_assignee_idx ON mailroom.conversations (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX conversations_holder_idx ON mailroom.conversations (holder_id) WHERE holder_id IS NOT NULL;
CREATE INDEX conversations_organisation_idx ON mailroom.conversations (organisation_id);
CREATE INDEX conversations_folder_idx ON mailroom.conversations (folder_id) WHERE folder_id IS NOT NULL;
CREATE INDEX conversations_inboxes_idx ON mailroom.conversations USING gin (inboxes);

CREATE TABLE mailroom.conversation_labels (
	conversation_id bigint NOT NULL REFERENCES mailroom.conversations ON DELETE CASCADE,
	label_id        bigint NOT NULL REFERENCES mailroom.labels ON DELETE CASCADE,
	added_by        bigint REFERENCES mailroom.users ON DELETE SET NULL,
	added_at        timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label_idx ON mailroom.conversation_labels (label_id, conversation_id);

-- Read state per user: read when read_at >= the conversation's last activity.
CREATE TABLE mailroom.conversation_reads (
	user_id         bigint NOT NULL REFERENCES mailroom.users ON DELETE CASCADE,
	conversation_id bigint NOT NULL REFERENCES mailroom.conversations ON DELETE CASCADE,
	read_at         timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, conversation_id)
);

-- --- which inboxes a conversation belongs to -----------------------------------------

-- conversation_add_inboxes - add the shared inboxes among the envelope
-- recipients of message p_msg to conversation p_conv
CREATE FUNCTION mailroom.conversation_add_inboxes(p_conv bigint, p_msg uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
	UPDATE mailroom.conversations c
	   SET inboxes = ARRAY(SELECT DISTINCT x FROM unnest(c.inboxes || found.addrs) AS x ORDER BY x)
	  FROM (SELECT array_agg(DISTINCT i.address) AS addrs
	          FROM mailroom.messages m
	          CROSS JOIN LATERAL unnest(m.envelope_to) AS rcpt
	          JOIN mailroom.inboxes i ON i.address = lower(rcpt)
	         WHERE m.id = p_msg) AS found
	 WHERE c.id = p_conv AND found.addrs IS NOT NULL AND NOT (c.inboxes @> found.addrs);
$$;
REVOKE ALL ON FUNCTION mailroom.conversation_add_inboxes(bigint, uuid) FROM PUBLIC;

CREATE FUNCTION mailroom.message_meta_inboxes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	IF NEW.conversation_id IS NOT NULL THEN
		PERFORM mailroom.conversation_add_inboxes(NEW.conversation_id, NEW.message_id);
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER message_meta_inboxes AFTER INSERT OR UPDATE OF conversation_id ON mailroom.message_meta
	FOR EACH ROW EXECUTE FUNCTION mailroom.message_meta_inboxes();

-- A new shared inbox: the conversations that already have its mail join it.
CREATE FUNCTION mailroom.inboxes_backfill() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	PERFORM mailroom.conversation_add_inboxes(mm.conversation_id, mm.message_id)
	   FROM mailroom.message_meta mm
	   JOIN mailroom.messages m ON m.id = mm.message_id
	  WHERE mm.conversation_id IS NOT NULL
	    AND EXISTS (SELECT 1 FROM unnest(m.envelope_to) r WHERE lower(r) = NEW.address);
	RETURN NULL;
END
$$;
CREATE TRIGGER inboxes_backfill AFTER INSERT ON mailroom.inboxes
	FOR EACH ROW EXECUTE FUNCTION mailroom.inboxes_backfill();

-- --- visibility ---------------------------------------------------------------------

-- web_user - the user the web role acts for, or NULL
CREATE FUNCTION mailroom.web_user() RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
	SELECT nullif(current_setting('mailroom.user_id', true), '')::bigint
$$;

-- web_inboxes - the shared inboxes the web user may see: all for an
-- admin, else those without members and those they are a member of
CREATE FUNCTION mailroom.web_inboxes() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
	SELECT coalesce(array_agg(i.address), '{}')
	  FROM mailroom.inboxes i
	 WHERE EXISTS (SELECT 1 FROM mailroom.users u
	                WHERE u.id = mailroom.web_user() AND u.active AND u.role = 'admin')
	    OR NOT EXISTS (SELECT 1 FROM mailroom.inbox_members m WHERE m.inbox = i.address)
	    OR EXISTS (SELECT 1 FROM mailroom.inbox_members m
	                WHERE m.inbox = i.address AND m.user_id = mailroom.web_user())
$$;

-- conversation_visible - may the web user see a conversation with these
-- fields? The same test as the policy below, for functions that run as
-- the owner. A conversation of no shared inbox is visible to all users.
CREATE FUNCTION mailroom.conversation_visible(p_private boolean, p_owner bigint, p_inboxes text[])
RETURNS boolean LANGUAGE sql STABLE SET search_path = pg_catalog, mailroom AS $$
	SELECT (NOT p_private OR p_owner = mailroom.web_user())
	   AND (p_inboxes = '{}' OR p_inboxes && mailroom.web_inboxes())
$$;

ALTER TABLE mailroom.conversations ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.conversations FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
-- The sub-selects run once per query (an InitPlan), not once per row.
CREATE POLICY web_visible ON mailroom.conversations FOR ALL TO mailroom_web
	USING ((NOT private OR owner_id = (SELECT mailroom.web_user()))
	       AND (inboxes = '{}' OR inboxes && (SELECT mailroom.web_inboxes())))
	WITH CHECK ((NOT private OR owner_id = (SELECT mailroom.web_user()))
	            AND (inboxes = '{}' OR inboxes && (SELECT mailroom.web_inboxes())));

-- What hangs off a conversation is visible with it.
ALTER TABLE mailroom.message_meta ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.message_meta FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.message_meta FOR ALL TO mailroom_web
	USING (conversation_id IS NULL
	       OR EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

ALTER TABLE mailroom.attachments ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.attachments FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.attachments FOR SELECT TO mailroom_web
	USING (EXISTS (SELECT 1 FROM mailroom.message_meta mm WHERE mm.message_id = attachments.message_id));

-- mailroom.messages has no policy: the milter's ingest loads it with COPY,
-- which PostgreSQL refuses on a table with row-level security. The web
-- role reaches a message's raw bytes only joined through message_meta,
-- whose policy decides.

ALTER TABLE mailroom.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.notes FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.notes FOR ALL TO mailroom_web
	USING (conversation_id IS NULL
	       OR EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

ALTER TABLE mailroom.reminders ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.reminders FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.reminders FOR ALL TO mailroom_web
	USING (conversation_id IS NULL
	       OR EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

ALTER TABLE mailroom.deadlines ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.deadlines FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.deadlines FOR ALL TO mailroom_web
	USING (EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

ALTER TABLE mailroom.conversation_labels ENABLE ROW LEVEL SECURITY;
CREATE POLICY web_visible ON mailroom.conversation_labels FOR ALL TO mailroom_web
	USING (EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

-- conversation_history - the audit trail of one conversation, for its
-- timeline; empty when the web user may not see it
CREATE FUNCTION mailroom.conversation_history(p_id bigint)
RETURNS TABLE (at timestamptz, actor text, action text, before jsonb, after jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
	SELECT a.at, a.actor, a.action, a.before, a.after
	  FROM mailroom.audit a
	 WHERE a.object = 'conversation:' || p_id
	   AND EXISTS (SELECT 1 FROM mailroom.conversations c
	                WHERE c.id = p_id AND mailroom.conversation_visible(c.private, c.owner_id, c.inboxes))
	 ORDER BY a.id
	 LIMIT 1000
$$;
REVOKE ALL ON FUNCTION mailroom.conversation_history(bigint) FROM PUBLIC;

-- --- user management from the web pages -------------------------------------------

-- The web role cannot change users, roles, credentials or inbox members
-- directly: only through these functions, which act for an active admin
-- (or, for the second factor, for the acting user themself).

-- web_admin - raise unless the web user is an active admin
CREATE FUNCTION mailroom.web_admin() RETURNS void
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM mailroom.users u
	                WHERE u.id = mailroom.web_user() AND u.active AND u.role = 'admin') THEN
		RAISE EXCEPTION 'only an admin may manage users' USING ERRCODE = '42501';
	END IF;
END
$$;

-- admin_user_add - a new user with an Argon2id password hash; its id
CREATE FUNCTION mailroom.admin_user_add(p_login text, p_name text, p_email text, p_role text, p_hash text)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
DECLARE
	v_id bigint;
BEGIN
	PERFORM mailroom.web_admin();
	INSERT INTO mailroom.users (login, display_name, email, role)
	VALUES (p_login, p_name, p_email, p_role) RETURNING id INTO v_id;
	INSERT INTO mailroom.user_credentials (user_id, password_hash, password_set_at)
	VALUES (v_id, p_hash, CASE WHEN p_hash IS NULL THEN NULL ELSE now() END);
	RETURN v_id;
END
$$;

-- admin_user_update - name, e-mail, role and active of a user; disabling
-- ends the user's sessions. An admin cannot take their own admin role or
-- disable themself (a team must keep one way in).
CREATE FUNCTION mailroom.admin_user_update(p_id bigint, p_name text, p_email text, p_role text, p_active boolean)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	PERFORM mailroom.web_admin();
	IF p_id = mailroom.web_user() AND (p_role <> 'admin' OR NOT p_active) THEN
		RAISE EXCEPTION 'an admin cannot demote or disable themself' USING ERRCODE = '42501';
	END IF;
	UPDATE mailroom.users SET display_name = p_name, email = p_email, role = p_role, active = p_active
	 WHERE id = p_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no user %', p_id USING ERRCODE = 'P0002';
	END IF;
	IF NOT p_active THEN
		DELETE FROM mailroom.web_sessions WHERE user_id = p_id;
	END IF;
END
$$;

-- admin_user_password - a new password hash; the user's sessions end
CREATE FUNCTION mailroom.admin_user_password(p_id bigint, p_hash text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	PERFORM mailroom.web_admin();
	INSERT INTO mailroom.user_credentials (user_id, password_hash, password_set_at)
	VALUES (p_id, p_hash, now())
	ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash, password_set_at = now();
	DELETE FROM mailroom.web_sessions WHERE user_id = p_id;
END
$$;

-- admin_inbox_member - add (p_add) or remove a user from a shared inbox
CREATE FUNCTION mailroom.admin_inbox_member(p_inbox text, p_user bigint, p_add boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	PERFORM mailroom.web_admin();
	IF p_add THEN
		INSERT INTO mailroom.inbox_members (inbox, user_id) VALUES (p_inbox, p_user) ON CONFLICT DO NOTHING;
	ELSE
		DELETE FROM mailroom.inbox_members WHERE inbox = p_inbox AND user_id = p_user;
	END IF;
END
$$;

-- web_totp_set - the acting user's own TOTP key (NULL: none); confirmed
-- by the CGI with a code before it is stored
CREATE FUNCTION mailroom.web_totp_set(p_secret bytea) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
BEGIN
	IF mailroom.web_user() IS NULL THEN
		RAISE EXCEPTION 'no acting user' USING ERRCODE = '42501';
	END IF;
	INSERT INTO mailroom.user_credentials (user_id, totp_secret) VALUES (mailroom.web_user(), p_secret)
	ON CONFLICT (user_id) DO UPDATE SET totp_secret = EXCLUDED.totp_secret, totp_last_step = NULL;
END
$$;

REVOKE ALL ON FUNCTION mailroom.web_admin(), mailroom.admin_user_add(text, text, text, text, text),
	mailroom.admin_user_update(bigint, text, text, text, boolean), mailroom.admin_user_password(bigint, text),
	mailroom.admin_inbox_member(text, bigint, boolean), mailroom.web_totp_set(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.admin_user_add(text, text, text, text, text),
	mailroom.admin_user_update(bigint, text, text, text, boolean), mailroom.admin_user_password(bigint, text),
	mailroom.admin_inbox_member(text, bigint, boolean), mailroom.web_totp_set(bytea) TO mailroom_web;

-- --- grants -------------------------------------------------------------------------

GRANT SELECT ON mailroom.inboxes, mailroom.inbox_members, mailroom.labels, mailroom.folders,
	mailroom.conversation_labels TO mailroom_worker, mailroom_web;
GRANT INSERT, UPDATE (name) ON mailroom.inboxes TO mailroom_worker;
GRANT INSERT, UPDATE (name) ON mailroom.labels, mailroom.folders TO mailroom_web;
GRANT INSERT, DELETE ON mailroom.conversation_labels TO mailroom_web;
GRANT SELECT, INSERT, UPDATE, DELETE ON mailroom.conversation_reads TO mailroom_web;
GRANT UPDATE (title, status, class, organisation_id, holder_id, held_since, assignee_id, private, owner_id,
	folder_id, priority_score, priority_level) ON mailroom.conversations TO mailroom_web;
GRANT UPDATE (class, organisation_id, contact_id) ON mailroom.message_meta TO mailroom_web;
GRANT EXECUTE ON FUNCTION mailroom.web_user(), mailroom.web_inboxes(),
	mailroom.conversation_visible(boolean, bigint, text[]), mailroom.conversation_history(bigint)
	TO mailroom_web;
REVOKE ALL ON FUNCTION mailroom.web_inboxes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.web_inboxes() TO mailroom_web;

-- Auditors see team state through views, never the web's raw tables.
CREATE VIEW auditor.conversations AS
SELECT c.id, c.title, c.status, c.class, c.organisation_id, c.created_at, c.last_activity_at,
       c.priority_level, c.priority_score, c.inboxes, c.private,
       h.login AS holder, a.login AS assignee, o.login AS owner, f.name AS folder,
       ARRAY(SELECT l.name FROM mailroom.conversation_labels cl JOIN mailroom.labels l ON l.id = cl.label_id
              WHERE cl.conversation_id = c.id ORDER BY l.name) AS labels
  FROM mailroom.conversations c
  LEFT JOIN mailroom.users h ON h.id = c.holder_id
  LEFT JOIN mailroom.users a ON a.id = c.assignee_id
  LEFT JOIN mailroom.users o ON o.id = c.owner_id
  LEFT JOIN mailroom.folders f ON f.id = c.folder_id;
COMMENT ON VIEW auditor.conversations IS 'conversations with holder, assignee, owner, folder and labels (schema/011_team_inbox.sql)';
GRANT SELECT ON auditor.conversations TO mailroom_auditor;
