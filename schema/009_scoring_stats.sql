-- 009_scoring_stats.sql - what scoring a message needs, kept up to date
-- instead of counted again for each message.
--
-- Scoring used to count the thread's messages and the sender's latest
-- messages and their answers for every message it scored: about a third
-- more database work per message. Now the worker keeps these figures as it
-- goes, in the same transaction that stores the message (worker/scoring.c,
-- worker/pipeline.c), and scoring reads them with one indexed lookup.
--
-- mailroom.sender_stats: one row per sender address (the From: addr-spec as
-- stored in message_meta.from_addr), incremented with INSERT ... ON
-- CONFLICT DO UPDATE so that workers processing the same sender at once
-- lose no increment.
--   messages: the parsed messages from this address, in any direction,
--             automatic ones included;
--   answered: how often we answered them: an outbound message that is not
--             automatic, in a conversation waiting on us, answers the
--             sender of the last inbound message there
--             (conversations.waiting_from). Never more than messages.
--
-- mailroom.conversations gains, written by the worker's update of the
-- conversation's state after each message that is not automatic (bounces
-- and automatic replies leave the state alone, and are not counted):
--   message_count: such messages in the conversation;
--   we_asked:      our last such outbound message asked a question (a "?"
--                  followed by a space or the end, in its first 4,096
--                  bytes of new text);
--   waiting_from:  the sender of the last inbound such message while the
--                  conversation waits on us; NULL otherwise.
--
-- The backfill computes the same from the messages stored so far.

SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.sender_stats (
	addr     text PRIMARY KEY CHECK (length(addr) BETWEEN 1 AND 320),
	messages bigint NOT NULL DEFAULT 0 CHECK (messages >= 0),
	answered bigint NOT NULL DEFAULT 0 CHECK (answered >= 0)
);
COMMENT ON TABLE mailroom.sender_stats IS 'per sender address: messages seen, how often we answered them';

ALTER TABLE mailroom.conversations
	ADD COLUMN message_count integer NOT NULL DEFAULT 0,
	ADD COLUMN we_asked boolean NOT NULL DEFAULT false,
	ADD COLUMN waiting_from text;

-- --- backfill ------------------------------------------------------------------

INSERT INTO mailroom.sender_stats (addr, messages, answered)
SELECT mm.from_addr, count(*), 0
  FROM mailroom.message_meta mm
 WHERE mm.from_addr IS NOT NULL AND length(mm.from_addr) BETWEEN 1 AND 320
 GROUP BY mm.from_addr;

-- the messages that are not automatic, in the order their conversation saw them
CREATE VIEW mailroom.scoring_backfill AS
SELECT mm.conversation_id, mm.from_addr, m.direction,
       left(mm.text_new, 4096) ~ '\?(\s|$)' AS asks,
       lead(m.direction) OVER (PARTITION BY mm.conversation_id ORDER BY m.received_at, m.id) AS next_direction,
       row_number() OVER (PARTITION BY mm.conversation_id, m.direction ORDER BY m.received_at DESC, m.id DESC) AS newest
  FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id
 WHERE mm.conversation_id IS NOT NULL AND mm.parse_error IS NULL
   AND NOT (mm.flags && '{bounce,auto-reply,out-of-office}');

UPDATE mailroom.sender_stats s SET answered = LEAST(a.n, s.messages)
  FROM (SELECT from_addr, count(*) AS n FROM mailroom.scoring_backfill
         WHERE direction = 'inbound' AND next_direction = 'outbound' AND from_addr IS NOT NULL
         GROUP BY from_addr) a
 WHERE s.addr = a.from_addr;

UPDATE mailroom.conversations c SET message_count = b.n, we_asked = b.asked,
       waiting_from = CASE WHEN c.waiting_on = 'us' THEN b.waiting_from END
  FROM (SELECT conversation_id, count(*) AS n,
               COALESCE(bool_or(asks) FILTER (WHERE direction = 'outbound' AND newest = 1), false) AS asked,
               max(from_addr) FILTER (WHERE direction = 'inbound' AND newest = 1) AS waiting_from
          FROM mailroom.scoring_backfill GROUP BY conversation_id) b
 WHERE c.id = b.conversation_id;

DROP VIEW mailroom.scoring_backfill;

GRANT SELECT, INSERT, UPDATE ON mailroom.sender_stats TO mailroom_worker;
GRANT SELECT ON mailroom.sender_stats TO mailroom_web;
