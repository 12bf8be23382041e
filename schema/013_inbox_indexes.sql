-- 013_inbox_indexes.sql - indexes the inbox page (webui-cgi/inbox.c)
-- needs beside the keyset indexes of 011.
--
-- Each row of the inbox shows the conversation's next due reminder: without
-- an index by conversation, every row read every open reminder (and, with
-- row-level security, checked each one's conversation).

SET LOCAL ROLE mailroom_owner;

CREATE INDEX reminders_conversation_due_idx ON mailroom.reminders (conversation_id, due_at)
	WHERE state IN ('pending', 'snoozed', 'fired') AND conversation_id IS NOT NULL;

