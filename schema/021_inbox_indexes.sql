-- 021_inbox_indexes.sql - what the inbox page (webui-cgi/inbox.c) needs
-- beside the keyset indexes of 011: an index of open reminders by
-- conversation, and a full-text lookup that can use the GIN index of
-- message_meta.search.
--
-- Each row of the inbox shows the conversation's next due reminder: without
-- an index by conversation, every row read every open reminder (and, with
-- row-level security, checked each one's conversation).

SET LOCAL ROLE mailroom_owner;

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
