-- 031_inbox_search.sql - inbox_search (021) checks the visibility of each
-- conversation that has a hit, instead of listing every conversation the
-- user may see and joining the hits to that.
--
-- The user's inboxes are a value the planner cannot see when it plans 021's
-- query: it took them for rare, expected a few thousand visible
-- conversations and hashed all of them (228,000 rows, 60-90 ms at 230,000
-- conversations), even for a word in one message. Here the hits come first
-- (the GIN index of message_meta.search) and each is looked up by its id
-- (OFFSET 0 keeps the lookup a per-hit subquery the planner cannot turn
-- back into that join): a rare word in 2 ms instead of 77, a word in 15 %
-- of the conversations in 138 instead of 189 (docs/benchmarks.md, "Web
-- inbox"). Same rows, same visibility test as the conversations policy
-- (011).
SET LOCAL ROLE mailroom_owner;

CREATE OR REPLACE FUNCTION mailroom.inbox_search(p_q text) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom ROWS 1000 AS $$
	WITH me AS MATERIALIZED (SELECT mailroom.web_user() AS id, mailroom.web_inboxes() AS inboxes),
	     hits AS MATERIALIZED (SELECT DISTINCT mm.conversation_id AS id FROM mailroom.message_meta mm
	               WHERE mm.search @@ (websearch_to_tsquery('simple', p_q) || websearch_to_tsquery('german', p_q)
	                                   || websearch_to_tsquery('english', p_q)))
	SELECT v.id FROM hits CROSS JOIN me,
	       LATERAL (SELECT c.id FROM mailroom.conversations c
	                 WHERE c.id = hits.id AND (NOT c.private OR c.owner_id = me.id)
	                   AND (c.inboxes = '{}' OR c.inboxes && me.inboxes) OFFSET 0) v
$$;
