-- 032_unscored_keyset.sql - the second part of the inbox's priority order.
--
-- Sorted by priority, the inbox lists the conversations with a score
-- (conversations_priority_keyset_idx of 011), then those without one by
-- activity (webui-cgi/inboxquery.c, two keyset branches). The second
-- branch had only the activity index of all conversations: with a filter
-- (class customer, unread) it read 137,000 scored conversations to find 51
-- unscored ones among 230,000. This index holds the unscored ones alone, in
-- the branch's order.
SET LOCAL ROLE mailroom_owner;

CREATE INDEX conversations_unscored_keyset_idx ON mailroom.conversations (last_activity_at DESC, id DESC)
	WHERE merged_into IS NULL AND priority_score IS NULL;
