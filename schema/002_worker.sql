-- 002_worker.sql - the worker's data: job queue, parsed messages,
-- conversations, address book, rules.
--
-- Every recorded message becomes a job (a trigger on mailroom.messages, so
-- that COPY from any gateway enqueues too). Workers claim jobs with
-- FOR UPDATE SKIP LOCKED and write their results in the same transaction
-- that marks the job done: a job is done exactly once, and a worker killed
-- mid-job leaves it to be redone. LISTEN/NOTIFY on channel mailroom_jobs is
-- only a wake-up hint; workers also poll.

SET LOCAL ROLE mailroom_owner;

-- --- address book -------------------------------------------------------------

CREATE TABLE mailroom.organisations (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
	kind        text NOT NULL DEFAULT 'customer' CHECK (kind IN ('customer', 'supplier', 'other')),
	vip         boolean NOT NULL DEFAULT false,
	owner       text CHECK (length(owner) <= 200),
	postal_code text CHECK (length(postal_code) <= 20),
	city        text CHECK (length(city) <= 200),
	active      boolean NOT NULL DEFAULT true,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mailroom.organisations IS 'customers, suppliers and others we correspond with';

-- A domain maps a whole organisation; free-mail domains never do.
CREATE TABLE mailroom.organisation_domains (
	domain          text PRIMARY KEY CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9.-]+$'),
	organisation_id bigint NOT NULL REFERENCES mailroom.organisations ON DELETE CASCADE
);
CREATE INDEX organisation_domains_org_idx ON mailroom.organisation_domains (organisation_id);

CREATE TABLE mailroom.contacts (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE SET NULL,
	salutation      text CHECK (length(salutation) <= 100),
	first_name      text CHECK (length(first_name) <= 200),
	last_name       text CHECK (length(last_name) <= 200),
	active          boolean NOT NULL DEFAULT true,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contacts_org_idx ON mailroom.contacts (organisation_id);

CREATE TABLE mailroom.contact_addresses (
	address    text PRIMARY KEY CHECK (address = lower(address) AND address LIKE '%_@_%'),
	contact_id bigint NOT NULL REFERENCES mailroom.contacts ON DELETE CASCADE
);
CREATE INDEX contact_addresses_contact_idx ON mailroom.contact_addresses (contact_id);

CREATE TABLE mailroom.contact_phones (
	contact_id bigint NOT NULL REFERENCES mailroom.contacts ON DELETE CASCADE,
	phone      text NOT NULL CHECK (length(phone) BETWEEN 1 AND 50),
	PRIMARY KEY (contact_id, phone)
);

CREATE TABLE mailroom.own_domains (
	domain text PRIMARY KEY CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9.-]+$')
);
COMMENT ON TABLE mailroom.own_domains IS 'our own domains: their senders are internal';

CREATE TABLE mailroom.freemail_domains (
	domain text PRIMARY KEY CHECK (domain = lower(domain) AND domain ~ '^[a-z0-9.-]+$')
);
COMMENT ON TABLE mailroom.freemail_domains IS
	'domains shared by unrelated people: never map a whole organisation';
INSERT INTO mailroom.freemail_domains (domain) VALUES
	('gmail.com'), ('googlemail.com'), ('yahoo.com'), ('yahoo.de'), ('yahoo.co.uk'), ('ymail.com'),
	('outlook.com'), ('outlook.de'), ('hotmail.com'), ('hotmail.de'), ('hotmail.co.uk'), ('live.com'),
	('live.de'), ('msn.com'), ('aol.com'), ('aol.de'), ('icloud.com'), ('me.com'), ('mac.com'),
	('gmx.de'), ('gmx.net'), ('gmx.at'), ('gmx.ch'), ('gmx.com'), ('web.de'), ('t-online.de'),
	('freenet.de'), ('arcor.de'), ('posteo.de'), ('mailbox.org'), ('protonmail.com'), ('proton.me'),
	('pm.me'), ('mail.de'), ('email.de'), ('online.de'), ('vodafone.de'), ('1und1.de'), ('kabelmail.de'),
	('mail.ru'), ('yandex.ru'), ('yandex.com'), ('zoho.com'), ('tutanota.com'), ('tuta.io'),
	('fastmail.com'), ('hey.com'), ('bluewin.ch'), ('gmx.fr'), ('orange.fr'), ('free.fr'),
	('laposte.net'), ('libero.it'), ('virgilio.it'), ('qq.com'), ('163.com'), ('126.com');

-- The address book's version: bumped by every change, announced on channel
-- mailroom_addrbook, so that caches (worker, milter) reload only when needed.
CREATE TABLE mailroom.addrbook_version (
	singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	version   bigint NOT NULL DEFAULT 1,
	changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO mailroom.addrbook_version DEFAULT VALUES;

CREATE FUNCTION mailroom.addrbook_bump() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	UPDATE mailroom.addrbook_version SET version = version + 1, changed_at = now();
	PERFORM pg_notify('mailroom_addrbook', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER organisations_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mailroom.organisations
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();
CREATE TRIGGER organisation_domains_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON mailroom.organisation_domains FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();
CREATE TRIGGER contacts_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mailroom.contacts
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();
CREATE TRIGGER contact_addresses_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON mailroom.contact_addresses FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();
CREATE TRIGGER own_domains_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mailroom.own_domains
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();
CREATE TRIGGER freemail_domains_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
	ON mailroom.freemail_domains FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();

-- --- rules -------------------------------------------------------------------------

-- Admin rules; definition is the JSON the rule engine compiles (lib/rules.c):
-- {"conditions": [...], "actions": {...}}. Evaluated by ascending position.
CREATE TABLE mailroom.rules (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	position   integer NOT NULL,
	name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	enabled    boolean NOT NULL DEFAULT true,
	definition jsonb NOT NULL CHECK (jsonb_typeof(definition) = 'object'),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER rules_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mailroom.rules
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.addrbook_bump();

-- --- conversations --------------------------------------------------------------

CREATE TABLE mailroom.conversations (
	id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title                  text NOT NULL,
	subject_key            text NOT NULL, -- normalised subject, for the fallback
	status                 text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'archived')),
	class                  text,
	organisation_id        bigint REFERENCES mailroom.organisations ON DELETE SET NULL,
	created_at             timestamptz NOT NULL DEFAULT now(),
	first_message_at       timestamptz NOT NULL,
	last_activity_at       timestamptz NOT NULL,
	waiting_on             text CHECK (waiting_on IN ('us', 'them')),
	first_answered_at      timestamptz,
	first_answered_by      text,
	first_response_seconds bigint,
	merged_into            bigint REFERENCES mailroom.conversations
);
CREATE INDEX conversations_subject_key_idx ON mailroom.conversations (subject_key, last_activity_at);
CREATE INDEX conversations_last_activity_idx ON mailroom.conversations (last_activity_at);

-- Every Message-ID seen, received or only referenced, and its conversation:
-- the Message-ID graph, kept as a union-find over conversations.
CREATE TABLE mailroom.thread_keys (
	msgid           text PRIMARY KEY CHECK (length(msgid) BETWEEN 1 AND 998),
	conversation_id bigint NOT NULL REFERENCES mailroom.conversations
);
CREATE INDEX thread_keys_conversation_idx ON mailroom.thread_keys (conversation_id);

-- --- parsed messages ---------------------------------------------------------------

CREATE TABLE mailroom.message_meta (
	message_id        uuid PRIMARY KEY REFERENCES mailroom.messages,
	parsed_at         timestamptz NOT NULL DEFAULT now(),
	parse_error       text, -- set when the message could not be parsed; it stays visible
	from_addr         text,
	from_name         text,
	to_addrs          text[] NOT NULL DEFAULT '{}',
	cc_addrs          text[] NOT NULL DEFAULT '{}',
	subject           text,
	sent_at           timestamptz,
	header_message_id text,
	in_reply_to       text,
	references_ids    text[] NOT NULL DEFAULT '{}',
	body_text         text,
	text_new          text,
	text_quoted       text,
	text_signature    text,
	body_html         text,
	text_from_html    boolean NOT NULL DEFAULT false,
	class             text NOT NULL DEFAULT 'unclassified' CHECK (class IN
			  ('customer', 'supplier', 'internal', 'newsletter', 'advertising', 'unclassified')),
	flags             text[] NOT NULL DEFAULT '{}', -- bounce, auto-reply, out-of-office, list
	organisation_id   bigint REFERENCES mailroom.organisations ON DELETE SET NULL,
	contact_id        bigint REFERENCES mailroom.contacts ON DELETE SET NULL,
	conversation_id   bigint REFERENCES mailroom.conversations,
	decided_by        text NOT NULL DEFAULT 'none' CHECK (decided_by IN
			  ('rule', 'internal', 'contact', 'domain', 'bulk', 'none')),
	rule_id           bigint,
	reason            text,
	labels            text[] NOT NULL DEFAULT '{}',
	team              text,
	assignee          text,
	priority          smallint CHECK (priority BETWEEN 0 AND 100),
	skip_inbox        boolean NOT NULL DEFAULT false,
	warnings          text[] NOT NULL DEFAULT '{}',
	search            tsvector
);
CREATE INDEX message_meta_conversation_idx ON mailroom.message_meta (conversation_id);
CREATE INDEX message_meta_search_idx ON mailroom.message_meta USING gin (search);
CREATE INDEX message_meta_header_message_id_idx ON mailroom.message_meta (header_message_id);

CREATE TABLE mailroom.attachments (
	message_id   uuid NOT NULL REFERENCES mailroom.messages,
	position     integer NOT NULL,
	filename     text,
	content_type text NOT NULL,
	size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
	sha256       bytea NOT NULL CHECK (length(sha256) = 32),
	is_inline    boolean NOT NULL,
	PRIMARY KEY (message_id, position)
);

-- --- the job queue ------------------------------------------------------------------

CREATE TABLE mailroom.jobs (
	message_id  uuid PRIMARY KEY REFERENCES mailroom.messages,
	state       text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
	enqueued_at timestamptz NOT NULL DEFAULT now(),
	attempts    integer NOT NULL DEFAULT 0,
	claimed_by  text,
	claimed_at  timestamptz,
	done_at     timestamptz,
	last_error  text
);
CREATE INDEX jobs_pending_idx ON mailroom.jobs (enqueued_at) WHERE state = 'pending';

CREATE FUNCTION mailroom.enqueue_job() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	INSERT INTO mailroom.jobs (message_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
	RETURN NULL;
END
$$;
CREATE FUNCTION mailroom.announce_jobs() RETURNS trigger
	LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
	PERFORM pg_notify('mailroom_jobs', '');
	RETURN NULL;
END
$$;
CREATE TRIGGER messages_enqueue AFTER INSERT ON mailroom.messages
	FOR EACH ROW EXECUTE FUNCTION mailroom.enqueue_job();
CREATE TRIGGER messages_announce AFTER INSERT ON mailroom.messages
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.announce_jobs();

-- Messages recorded before this migration are work too.
INSERT INTO mailroom.jobs (message_id, enqueued_at)
SELECT id, received_at FROM mailroom.messages ON CONFLICT DO NOTHING;

-- --- grants ---------------------------------------------------------------------------

GRANT SELECT ON mailroom.organisations, mailroom.organisation_domains, mailroom.contacts,
	mailroom.contact_addresses, mailroom.contact_phones, mailroom.own_domains, mailroom.freemail_domains,
	mailroom.addrbook_version, mailroom.rules
	TO mailroom_worker, mailroom_web, mailroom_milter;
GRANT SELECT, UPDATE ON mailroom.jobs TO mailroom_worker;
GRANT SELECT, INSERT, UPDATE ON mailroom.message_meta, mailroom.conversations, mailroom.thread_keys,
	mailroom.attachments TO mailroom_worker;
GRANT SELECT ON mailroom.jobs, mailroom.message_meta, mailroom.conversations, mailroom.thread_keys,
	mailroom.attachments TO mailroom_web;

-- The auditors' view of every decision the worker made.
CREATE VIEW auditor.classifications AS
SELECT mm.message_id AS id,
       m.received_at,
       m.direction,
       mm.from_addr,
       mm.subject,
       mm.class,
       mm.flags,
       mm.organisation_id,
       mm.contact_id,
       mm.conversation_id,
       mm.decided_by,
       mm.rule_id,
       mm.reason,
       mm.parse_error,
       mm.parsed_at
  FROM mailroom.message_meta mm
  JOIN mailroom.messages m ON m.id = mm.message_id;
COMMENT ON VIEW auditor.classifications IS 'how the worker sorted each message, and why';
GRANT SELECT ON auditor.classifications TO mailroom_auditor;
