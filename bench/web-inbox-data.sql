-- web-inbox-data.sql - 100,000 conversations for the inbox benchmark
-- (bench/web-inbox.sh), with messages, parsed meta and full-text search
-- vectors, labels, folders, reads, reminders and deadlines, spread over
-- classes, statuses, priorities and three shared inboxes.
--
-- Run as the superuser with psql, after the benchmark user exists:
--   psql -v ON_ERROR_STOP=1 -v login=benchinbox -v n=100000 -f bench/web-inbox-data.sql
--
-- Everything it makes carries "bench" in its name or address: the inboxes
-- bench-*@bench.example (their only member is the benchmark user, so that
-- the other users of the stack do not see the rows; admins see every
-- inbox), labels and folders bench-*, organisations "Bench org N",
-- messages of gateway "bench". It runs once: when the inbox
-- bench-info@bench.example exists it does nothing.
--
-- The load runs with session_replication_role = replica: no triggers, so
-- no worker jobs for the messages (they are parsed already) and no
-- per-row inbox trigger (conversations.inboxes is set directly).

\set ON_ERROR_STOP 1
SELECT EXISTS (SELECT 1 FROM mailroom.inboxes WHERE address = 'bench-info@bench.example') AS bench_loaded \gset
\if :bench_loaded
\echo 'bench data already loaded'
\quit
\endif

BEGIN;
SET LOCAL session_replication_role = replica;
SET LOCAL synchronous_commit = off;

INSERT INTO mailroom.inboxes (address, name) VALUES
	('bench-info@bench.example', 'Bench info'),
	('bench-sales@bench.example', 'Bench sales'),
	('bench-support@bench.example', 'Bench support');
INSERT INTO mailroom.inbox_members (inbox, user_id)
SELECT i.address, u.id FROM mailroom.inboxes i, mailroom.users u
 WHERE i.address LIKE 'bench-%@bench.example' AND u.login = :'login';

INSERT INTO mailroom.users (login, display_name, role)
SELECT 'bench-agent' || g, 'Bench agent ' || g, 'agent' FROM generate_series(1, 4) g
ON CONFLICT (login) DO NOTHING;

INSERT INTO mailroom.labels (name) SELECT 'bench-label' || g FROM generate_series(1, 8) g ON CONFLICT DO NOTHING;
INSERT INTO mailroom.folders (name) SELECT 'bench-folder' || g FROM generate_series(1, 4) g ON CONFLICT DO NOTHING;
INSERT INTO mailroom.organisations (name, kind)
SELECT 'Bench org ' || g, CASE WHEN g % 4 = 0 THEN 'supplier' ELSE 'customer' END FROM generate_series(1, 40) g;

-- the ids the rows below pick from, by position
CREATE TEMP TABLE b_users ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) AS k, id FROM mailroom.users
 WHERE login = :'login' OR login LIKE 'bench-agent%';
CREATE TEMP TABLE b_labels ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) AS k, id FROM mailroom.labels WHERE name LIKE 'bench-label%';
CREATE TEMP TABLE b_folders ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) AS k, id FROM mailroom.folders WHERE name LIKE 'bench-folder%';
CREATE TEMP TABLE b_orgs ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id) AS k, id FROM mailroom.organisations WHERE name LIKE 'Bench org %';
SELECT id AS me FROM mailroom.users WHERE login = :'login' \gset

-- words of subjects and texts; every 997th conversation also says "zebrafinch"
CREATE TEMP TABLE b_words ON COMMIT DROP AS
SELECT row_number() OVER () - 1 AS k, w FROM unnest(string_to_array(
	'invoice order delivery payment offer contract meeting question complaint refund shipping '
	'account password update release newsletter discount webinar report schedule support ticket '
	'printer server backup license renewal quote catalogue sample warranty repair appointment '
	'budget project proposal feedback survey training holiday vacation address change cancel '
	'subscription reminder overdue credit price list', ' ')) AS w;

-- the conversations, in random order of activity over two years
CREATE TEMP TABLE b_conv ON COMMIT DROP AS
SELECT g,
       (ARRAY['open', 'open', 'closed', 'closed', 'closed', 'archived', 'archived', 'archived', 'archived', 'archived'])
	       [1 + (hashint4(g) & 1023) % 10] AS status,
       (ARRAY['customer', 'customer', 'customer', 'supplier', 'internal', 'newsletter', 'newsletter',
	      'advertising', NULL, 'unclassified'])[1 + (hashint4(g + 7) & 1023) % 10] AS class,
       now() - (random() * interval '730 days') AS last_at,
       CASE WHEN g % 5 = 0 THEN NULL ELSE (hashint4(g + 11) & 1023) % 101 END AS score,
       1 + (hashint4(g + 13) & 1023) % 3 AS nmsg,
       (ARRAY['bench-info@bench.example', 'bench-sales@bench.example', 'bench-support@bench.example'])
	       [1 + (hashint4(g + 17) & 1023) % 3] AS inbox
  FROM generate_series(1, :n) g;

INSERT INTO mailroom.conversations (title, subject_key, status, class, organisation_id, first_message_at,
	last_activity_at, waiting_on, priority_score, priority_level, message_count, holder_id, held_since,
	assignee_id, private, owner_id, folder_id, inboxes)
SELECT 'Bench ' || w1.w || ' ' || w2.w || ' #' || b.g || CASE WHEN b.g % 997 = 0 THEN ' zebrafinch' ELSE '' END,
       'bench ' || b.g, b.status, b.class,
       CASE WHEN b.class IN ('customer', 'supplier') THEN (SELECT id FROM b_orgs WHERE k = 1 + b.g % 40) END,
       b.last_at - interval '2 days', b.last_at,
       CASE WHEN b.g % 2 = 0 THEN 'us' ELSE 'them' END,
       b.score,
       CASE WHEN b.score IS NULL THEN NULL WHEN b.score >= 85 THEN 'urgent' WHEN b.score >= 65 THEN 'high'
	    WHEN b.score >= 30 THEN 'normal' ELSE 'low' END,
       b.nmsg,
       CASE WHEN b.g % 9 = 0 THEN (SELECT id FROM b_users WHERE k = 1 + b.g % 5) END,
       CASE WHEN b.g % 9 = 0 THEN b.last_at END,
       CASE WHEN b.g % 3 = 0 THEN (SELECT id FROM b_users WHERE k = 1 + b.g % 5) END,
       b.g % 100 = 0, CASE WHEN b.g % 100 = 0 THEN :me END,
       CASE WHEN b.g % 10 = 0 THEN (SELECT id FROM b_folders WHERE k = 1 + (b.g / 10) % 4) END,
       ARRAY[b.inbox]
  FROM b_conv b
  JOIN b_words w1 ON w1.k = (hashint4(b.g + 1) & 1023) % 50
  JOIN b_words w2 ON w2.k = (hashint4(b.g + 2) & 1023) % 50;

-- the new conversations by their number g
CREATE TEMP TABLE b_ids ON COMMIT DROP AS
SELECT c.id, substr(c.subject_key, 7)::int AS g, c.title, c.last_activity_at, c.inboxes[1] AS inbox, c.class
  FROM mailroom.conversations c WHERE c.subject_key ~ '^bench [0-9]+$'
   AND c.inboxes[1] LIKE 'bench-%@bench.example';
CREATE INDEX ON b_ids (g);

-- 1-3 messages each; the newest at the conversation's last activity
CREATE TEMP TABLE b_msg ON COMMIT DROP AS
SELECT gen_random_uuid() AS id, i.id AS conv, i.g, m, i.inbox, i.title, i.class,
       i.last_activity_at - (m - 1) * interval '1 day' AS at,
       CASE WHEN m % 2 = 1 THEN 'inbound' ELSE 'outbound' END AS direction,
       'sender' || (i.g % 5000) || '@customer' || (i.g % 40) || '.example' AS sender
  FROM b_ids i
  JOIN b_conv b ON b.g = i.g
  CROSS JOIN LATERAL generate_series(1, b.nmsg) m;

INSERT INTO mailroom.messages (id, received_at, gateway, direction, record_policy, queue_id, envelope_from,
	envelope_to, envelope_to_args, message_id, subject, size_bytes, sha256)
SELECT id, at, 'bench', direction, 'metadata', 'B' || g || 'M' || m, sender, ARRAY[inbox], ARRAY[NULL::text],
       'bench.' || g || '.' || m || '@bench.example', title, 2048, sha256(convert_to(id::text, 'UTF8'))
  FROM b_msg;

INSERT INTO mailroom.jobs (message_id, state, done_at) SELECT id, 'done', at FROM b_msg;

INSERT INTO mailroom.message_meta (message_id, from_addr, to_addrs, subject, sent_at, header_message_id,
	text_new, class, conversation_id, decided_by, search)
SELECT x.id, x.sender, ARRAY[x.inbox], x.title, x.at, 'bench.' || x.g || '.' || x.m || '@bench.example',
       x.body, coalesce(x.class, 'unclassified'), x.conv, 'none',
       setweight(to_tsvector('simple', x.sender || ' ' || x.inbox), 'A')
       || setweight(to_tsvector('german', x.title), 'B') || setweight(to_tsvector('english', x.title), 'B')
       || to_tsvector('german', x.body) || to_tsvector('english', x.body)
  FROM (SELECT bm.*,
               'Hello, about the ' || w1.w || ' and the ' || w2.w || ': please see the ' || w3.w
               || ' of last week. Regards' || CASE WHEN bm.g % 997 = 0 THEN ' zebrafinch' ELSE '' END AS body
          FROM b_msg bm
          JOIN b_words w1 ON w1.k = (hashint4(bm.g * 3 + bm.m) & 1023) % 50
          JOIN b_words w2 ON w2.k = (hashint4(bm.g * 5 + bm.m) & 1023) % 50
          JOIN b_words w3 ON w3.k = (hashint4(bm.g * 7 + bm.m) & 1023) % 50) x;

-- labels on three in ten, a second label on one in ten
INSERT INTO mailroom.conversation_labels (conversation_id, label_id)
SELECT i.id, l.id FROM b_ids i JOIN b_labels l ON l.k = 1 + i.g % 8 WHERE i.g % 10 < 3
UNION ALL
SELECT i.id, l.id FROM b_ids i JOIN b_labels l ON l.k = 1 + (i.g + 3) % 8 WHERE i.g % 10 = 0;

-- the benchmark user has read half of them, a tenth of those before their last activity
INSERT INTO mailroom.conversation_reads (user_id, conversation_id, read_at)
SELECT :me, i.id, i.last_activity_at + CASE WHEN i.g % 20 = 1 THEN interval '-1 hour' ELSE interval '1 hour' END
  FROM b_ids i WHERE i.g % 2 = 1;

-- pending reminders on one in fifty, open response deadlines on one in twenty
INSERT INTO mailroom.reminders (conversation_id, due_at, message, created_by, assignee)
SELECT i.id, now() + (i.g % 30) * interval '1 day', 'bench follow-up ' || i.g, :me, :me
  FROM b_ids i WHERE i.g % 50 = 7;
INSERT INTO mailroom.deadlines (conversation_id, kind, policy, business_minutes, started_at, due_at, warn_at)
SELECT i.id, 'response', 'bench', 480, i.last_activity_at, i.last_activity_at + interval '1 day',
       i.last_activity_at + interval '20 hours'
  FROM b_ids i WHERE i.g % 20 = 3;

COMMIT;
ANALYZE mailroom.conversations, mailroom.message_meta, mailroom.messages, mailroom.conversation_labels,
	mailroom.conversation_reads, mailroom.reminders, mailroom.deadlines;
