-- 001_gateway.sql - roles, the gateway's message record, the auditor view.
--
-- mailroomctl migrate runs this file in one transaction as the administrator
-- who called it, with an empty search_path so that every object of mailroom
-- must be named with its schema. The first part needs the administrator
-- (roles, database privileges); after SET LOCAL ROLE mailroom_owner
-- everything is created by, and so owned by, mailroom_owner. Component roles
-- own nothing and get only the grants at the end. Never edit this file once
-- applied anywhere: write the change as a new migration.

-- Roles. Roles are cluster-wide, so they may exist already (another mailroom
-- database on the same cluster, or an administrator who created them with
-- passwords first); then they are kept as they are, but refused when they
-- could bypass privileges or row-level security.
DO $roles$
DECLARE
	component text;
	offenders text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailroom_owner') THEN
		CREATE ROLE mailroom_owner NOLOGIN;
	END IF;
	FOREACH component IN ARRAY
		ARRAY['mailroom_milter', 'mailroom_worker', 'mailroom_web', 'mailroom_auditor']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = component) THEN
			EXECUTE format('CREATE ROLE %I LOGIN', component);
		END IF;
	END LOOP;

	SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO offenders
	  FROM pg_roles
	 WHERE rolname IN ('mailroom_owner', 'mailroom_milter', 'mailroom_worker', 'mailroom_web',
			   'mailroom_auditor')
	   AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication);
	IF offenders IS NOT NULL THEN
		RAISE EXCEPTION 'mailroom roles with SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB '
				'or REPLICATION: %', offenders
			USING HINT = 'mailroom roles must have none of these attributes: ALTER ROLE ... '
				     'NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailroom_owner' AND rolcanlogin) THEN
		RAISE EXCEPTION 'role mailroom_owner can log in'
			USING HINT = 'mailroom_owner owns the schema and must be NOLOGIN: '
				     'ALTER ROLE mailroom_owner NOLOGIN';
	END IF;
	SELECT string_agg(rolname, ', ' ORDER BY rolname) INTO offenders
	  FROM pg_roles
	 WHERE rolname IN ('mailroom_milter', 'mailroom_worker', 'mailroom_web', 'mailroom_auditor')
	   AND pg_has_role(rolname, 'mailroom_owner', 'MEMBER');
	IF offenders IS NOT NULL THEN
		RAISE EXCEPTION 'mailroom roles that are members of mailroom_owner: %', offenders
			USING HINT = 'a component role must not act as the owner: '
				     'REVOKE mailroom_owner FROM ...';
	END IF;

	-- The administrator running migrations acts as mailroom_owner from here
	-- on (a superuser may already; a database owner with CREATEROLE may not).
	IF NOT pg_has_role(current_user, 'mailroom_owner', 'MEMBER') THEN
		EXECUTE format('GRANT mailroom_owner TO %I', current_user);
	END IF;
END
$roles$;

-- The database: of the roles without special rights only mailroom's connect,
-- nobody makes temporary tables, mailroom_owner may create schemas.
DO $database$
BEGIN
	EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
	EXECUTE format('GRANT CONNECT ON DATABASE %I TO mailroom_milter, mailroom_worker, mailroom_web, '
		       'mailroom_auditor', current_database());
	EXECUTE format('GRANT CREATE ON DATABASE %I TO mailroom_owner', current_database());
END
$database$;

-- PostgreSQL 15 already creates public without CREATE for PUBLIC; a
-- database upgraded from an older release may still have it.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

SET LOCAL ROLE mailroom_owner;

-- Functions mailroom_owner creates are not executable by everyone by default;
-- each one is granted to the role that needs it.
ALTER DEFAULT PRIVILEGES FOR ROLE mailroom_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE SCHEMA mailroom AUTHORIZATION mailroom_owner;
COMMENT ON SCHEMA mailroom IS 'mailroom''s own data; no stable interface, read auditor.* instead';

CREATE TABLE mailroom.schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE mailroom.schema_migrations IS 'migrations applied by mailroomctl migrate, one row each';

-- One row per message the milter recorded. The milter's ingest streams rows
-- into these columns with binary COPY (milter/ingest.c), which fixes each
-- column's name and type: a change here goes together with a change there.
CREATE TABLE mailroom.messages (
	id                 uuid PRIMARY KEY,
	received_at        timestamptz NOT NULL,
	gateway            text NOT NULL,
	direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
	record_policy      text NOT NULL CHECK (record_policy IN ('full', 'metadata')),
	queue_id           text,
	client_addr        inet,
	client_name        text,
	helo               text,
	daemon_name        text,
	auth_user          text,
	envelope_from      text NOT NULL,
	envelope_from_args text,
	envelope_to        text[] NOT NULL,
	envelope_to_args   text[] NOT NULL,
	message_id         text,
	subject            text,
	size_bytes         bigint NOT NULL CHECK (size_bytes >= 0),
	sha256             bytea NOT NULL CHECK (length(sha256) = 32),
	raw                bytea,
	ingested_at        timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT messages_full_has_raw CHECK (record_policy <> 'full' OR raw IS NOT NULL),
	CONSTRAINT messages_args_per_rcpt CHECK (cardinality(envelope_to_args) = cardinality(envelope_to))
);
CREATE INDEX messages_received_at_idx ON mailroom.messages (received_at);
CREATE INDEX messages_queue_id_idx ON mailroom.messages (queue_id);
CREATE INDEX messages_message_id_idx ON mailroom.messages (message_id);

COMMENT ON TABLE mailroom.messages IS 'every message the gateway recorded, as Postfix queued it';
COMMENT ON COLUMN mailroom.messages.id IS
	'the X-Mailroom-Id the milter gave the message; the ingest idempotency key';
COMMENT ON COLUMN mailroom.messages.received_at IS 'when the gateway received the message';
COMMENT ON COLUMN mailroom.messages.gateway IS 'name of the gateway (milter.gateway_name) that recorded it';
COMMENT ON COLUMN mailroom.messages.direction IS 'inbound, outbound or internal, as the milter decided';
COMMENT ON COLUMN mailroom.messages.record_policy IS
	'full: raw is the whole message; metadata: raw is the header section only, or NULL';
COMMENT ON COLUMN mailroom.messages.queue_id IS
	'Postfix queue id ({i} macro); unique only per gateway and over time';
COMMENT ON COLUMN mailroom.messages.client_addr IS 'SMTP client address; NULL for locally submitted mail';
COMMENT ON COLUMN mailroom.messages.client_name IS 'SMTP client host name as Postfix verified it';
COMMENT ON COLUMN mailroom.messages.helo IS 'HELO/EHLO argument';
COMMENT ON COLUMN mailroom.messages.daemon_name IS 'Postfix {daemon_name} macro of the receiving service';
COMMENT ON COLUMN mailroom.messages.auth_user IS 'SASL login name when the client authenticated';
COMMENT ON COLUMN mailroom.messages.envelope_from IS
	'MAIL FROM address without <>, empty for the null sender';
COMMENT ON COLUMN mailroom.messages.envelope_from_args IS
	'ESMTP parameters of MAIL FROM, space-separated, empty when none';
COMMENT ON COLUMN mailroom.messages.envelope_to IS 'RCPT TO addresses without <>, in the order given';
COMMENT ON COLUMN mailroom.messages.envelope_to_args IS
	'ESMTP parameters of each RCPT TO (empty when none), same order and count as envelope_to';
COMMENT ON COLUMN mailroom.messages.message_id IS 'Message-ID header as received; not unique, never a key';
COMMENT ON COLUMN mailroom.messages.subject IS 'Subject header, RFC 2047 decoded to UTF-8 (raw keeps it as sent)';
COMMENT ON COLUMN mailroom.messages.size_bytes IS 'size of the whole message in bytes';
COMMENT ON COLUMN mailroom.messages.sha256 IS 'SHA-256 of the whole message as queued (32 bytes)';
COMMENT ON COLUMN mailroom.messages.raw IS 'the stored bytes, byte-exact: see record_policy';
COMMENT ON COLUMN mailroom.messages.ingested_at IS 'when the row reached PostgreSQL';

-- The auditors' interface: a documented, stable, read-only view
-- (docs/schema.md). Columns may be added at the end; none is renamed,
-- retyped or removed.
CREATE SCHEMA auditor AUTHORIZATION mailroom_owner;
COMMENT ON SCHEMA auditor IS 'stable read-only views for auditors, documented in docs/schema.md';

CREATE VIEW auditor.messages AS
SELECT m.id,
       m.received_at,
       m.gateway,
       m.direction,
       m.queue_id,
       m.envelope_from,
       m.envelope_to,
       m.client_addr,
       m.message_id,
       m.subject,
       m.size_bytes,
       encode(m.sha256, 'hex') AS sha256
  FROM mailroom.messages m;

COMMENT ON VIEW auditor.messages IS 'every message the gateways recorded, one row each';
COMMENT ON COLUMN auditor.messages.id IS 'mailroom id of the message, also in its X-Mailroom-Id header';
COMMENT ON COLUMN auditor.messages.received_at IS 'when the gateway accepted the message';
COMMENT ON COLUMN auditor.messages.gateway IS
	'name of the gateway that recorded it; queue_id is unique only within one gateway';
COMMENT ON COLUMN auditor.messages.direction IS 'inbound, outbound or internal';
COMMENT ON COLUMN auditor.messages.queue_id IS
	'Postfix queue id, as in the mail log of that gateway; NULL when Postfix gave none';
COMMENT ON COLUMN auditor.messages.envelope_from IS
	'envelope sender (MAIL FROM) without <>; empty for the null sender of bounces';
COMMENT ON COLUMN auditor.messages.envelope_to IS
	'envelope recipients (RCPT TO) without <>, in the order given';
COMMENT ON COLUMN auditor.messages.client_addr IS
	'IP address of the SMTP client; NULL for locally submitted mail';
COMMENT ON COLUMN auditor.messages.message_id IS
	'Message-ID header as received; may be missing or shared by several messages';
COMMENT ON COLUMN auditor.messages.subject IS 'Subject header, RFC 2047 decoded to UTF-8';
COMMENT ON COLUMN auditor.messages.size_bytes IS 'size of the message in bytes as queued';
COMMENT ON COLUMN auditor.messages.sha256 IS 'SHA-256 of the message as queued, 64 lowercase hex digits';

-- Grants. A role not named here gets nothing.
GRANT USAGE ON SCHEMA mailroom TO mailroom_milter, mailroom_worker, mailroom_web;
GRANT SELECT, INSERT ON mailroom.messages TO mailroom_milter;
GRANT SELECT ON mailroom.messages TO mailroom_worker, mailroom_web;

GRANT USAGE ON SCHEMA auditor TO mailroom_auditor;
GRANT SELECT ON auditor.messages TO mailroom_auditor;
