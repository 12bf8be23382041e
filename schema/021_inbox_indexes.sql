-- 021_inbox_indexes.sql - what the inbox page (webui-cgi/inbox.c) needs
-- beside the keyset indexes of 011: an index of open reminders by
-- conversation, and a full-text lookup that can use the GIN index of
-- message_meta.search.
--
-- Each row of the inbox shows the conversation's next due reminder: without
-- an index by conversation, every row read every open reminder (and, with
-- row-level security, checked each one's conversation).

SET LOCAL ROLE mailroom_owner;

-- The counts beside the filters stop at a cap, per class within a status
-- and per folder within a status: with these an uncommon class or folder is
-- found among 100,000 conversations without reading them all.
CREATE INDEX conversations_status_class_idx ON mailroom.conversations (status, class)
	WHERE merged_into IS NULL;
CREATE INDEX conversations_folder_status_idx ON mailroom.conversations (folder_id, status)
	WHERE merged_into IS NULL AND folder_id IS NOT NULL;

CREATE INDEX reminders_conversation_due_idx ON mailroom.reminders (conversation_id, due_at)
	WHERE state IN ('pending', 'snoozed', 'fired') AND conversation_id IS NOT NULL;


-- inbox_search - the conversations the web user may see that have a
-- message matching p_q (web search syntax, in each text search
-- configuration the worker builds message_meta.search with).
--
-- It runs as the owner because @@ is not leakproof: under the row-level
-- security of message_meta, PostgreSQL may not use the GIN index for the
-- web role and reads every message instead (0.8 s for a rare word among
-- 200,000 messages). The visibility test is the one of the conversations
-- policy (011), with the acting user and their inboxes looked up once, so
-- that the function tells nobody about conversations they may not see.
CREATE FUNCTION mailroom.inbox_search(p_q text) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom ROWS 1000 AS $$
	WITH me AS MATERIALIZED (SELECT mailroom.web_user() AS id, mailroom.web_inboxes() AS inboxes),
	     hits AS (SELECT DISTINCT mm.conversation_id AS id FROM mailroom.message_meta mm
	               WHERE mm.search @@ (websearch_to_tsquery('simple', p_q) || websearch_to_tsquery('german', p_q)
	                                   || websearch_to_tsquery('english', p_q)))
	SELECT c.id FROM hits JOIN mailroom.conversations c ON c.id = hits.id CROSS JOIN me
	 WHERE (NOT c.private OR c.owner_id = me.id) AND (c.inboxes = '{}' OR c.inboxes && me.inboxes)
$$;
REVOKE ALL ON FUNCTION mailroom.inbox_search(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.inbox_search(text) TO mailroom_web;

-- inbox_counts / inbox_folder_counts - the capped counts beside the
-- inbox's filters, for the web user, within p_status ('all': every status).
--
-- They run as the owner, with the visibility test of the conversations
-- policy (011) written out, for the planner's sake: under the policy the
-- user's inboxes are an InitPlan whose value the planner cannot see, so it
-- took them for rare and read the GIN index of conversations.inboxes for
-- every count (6-10 ms each at 100,000 visible conversations, most of the
-- inbox page's time). Here they are a variable of the function, and a new
-- connection (every request of mailroom.cgi) plans with its value: a
-- sequential scan that stops at the cap when the user sees most
-- conversations, the GIN index when they see a few.
CREATE FUNCTION mailroom.inbox_counts(p_status text, p_cap int)
RETURNS TABLE (open int, closed int, archived int, customer int, supplier int, internal int,
               newsletter int, advertising int, unclassified int, unread int, mine int)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
DECLARE
	me bigint := mailroom.web_user();
	vis text[] := mailroom.web_inboxes();
BEGIN
	IF me IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	WITH v AS NOT MATERIALIZED (
		SELECT c.id, c.status, c.class, c.last_activity_at, c.assignee_id FROM mailroom.conversations c
		 WHERE c.merged_into IS NULL AND (NOT c.private OR c.owner_id = me)
		   AND (c.inboxes = '{}' OR c.inboxes && vis)),
	     s AS NOT MATERIALIZED (SELECT * FROM v WHERE p_status = 'all' OR v.status = p_status)
	SELECT (SELECT count(*) FROM (SELECT 1 FROM v WHERE v.status = 'open' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM v WHERE v.status = 'closed' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM v WHERE v.status = 'archived' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.class = 'customer' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.class = 'supplier' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.class = 'internal' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.class = 'newsletter' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.class = 'advertising' LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.class IS NULL OR s.class = 'unclassified'
	                               LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE NOT EXISTS (
	                SELECT 1 FROM mailroom.conversation_reads r WHERE r.user_id = me
	                   AND r.conversation_id = s.id AND r.read_at >= s.last_activity_at) LIMIT p_cap) x)::int,
	       (SELECT count(*) FROM (SELECT 1 FROM s WHERE s.assignee_id = me LIMIT p_cap) x)::int;
END
$$;

CREATE FUNCTION mailroom.inbox_folder_counts(p_status text, p_cap int, p_limit int)
RETURNS TABLE (id bigint, name text, n int)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
DECLARE
	me bigint := mailroom.web_user();
	vis text[] := mailroom.web_inboxes();
BEGIN
	IF me IS NULL THEN
		RETURN;
	END IF;
	RETURN QUERY
	SELECT fo.id, fo.name,
	       (SELECT count(*) FROM (SELECT 1 FROM mailroom.conversations c
	         WHERE c.folder_id = fo.id AND c.merged_into IS NULL AND (NOT c.private OR c.owner_id = me)
	           AND (c.inboxes = '{}' OR c.inboxes && vis) AND (p_status = 'all' OR c.status = p_status)
	         LIMIT p_cap) x)::int
	  FROM (SELECT f.id, f.name FROM mailroom.folders f ORDER BY f.name LIMIT p_limit) fo;
END
$$;
REVOKE ALL ON FUNCTION mailroom.inbox_counts(text, int), mailroom.inbox_folder_counts(text, int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.inbox_counts(text, int), mailroom.inbox_folder_counts(text, int, int)
	TO mailroom_web;
