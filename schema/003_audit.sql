-- 003_audit.sql - the append-only, hash-chained audit trail.
--
-- Every human and automatic action (classify, assign, status, note,
-- reminder, sign-in, rule change, AI decision ...) is one row, written only
-- through mailroom.audit_append(). Each row's hash covers the hash of the
-- row before it and the row's own fields, so that an edited, inserted or
-- deleted row breaks the chain; `mailroomctl audit verify` recomputes it
-- outside the database. No role may update or delete rows; a trigger also
-- refuses it for the owner. Deleting the newest rows leaves a shorter but
-- intact chain: keep the head that verify prints and pass it back
-- (--head) to find that too.
--
-- The hash input is, for the fields id, at (microseconds since the Unix
-- epoch), actor, action, object, before, after (jsonb text, or empty when
-- NULL) in this order, each as "<length in bytes>:<UTF-8 text>;", preceded
-- by the previous row's hash (32 zero bytes for the first row):
--   hash = SHA-256(prev_hash || fields)

SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.audit (
	id        bigint PRIMARY KEY,
	at        timestamptz NOT NULL,
	actor     text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
	action    text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.-]{0,63}$'),
	object    text NOT NULL CHECK (length(object) <= 200),
	before    jsonb,
	after     jsonb,
	prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
	hash      bytea NOT NULL CHECK (length(hash) = 32)
);
COMMENT ON TABLE mailroom.audit IS 'append-only, hash-chained trail of every action (schema/003_audit.sql)';
CREATE INDEX audit_object_idx ON mailroom.audit (object, id);
CREATE INDEX audit_at_idx ON mailroom.audit (at);

-- audit_field - one field of the hash input
CREATE FUNCTION mailroom.audit_field(t text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog
AS $$ SELECT convert_to(octet_length(t)::text || ':' || t || ';', 'UTF8') $$;

-- audit_hash - the hash of one row given the previous row's hash
CREATE FUNCTION mailroom.audit_hash(prev bytea, id bigint, at timestamptz, actor text, action text,
				    object text, before jsonb, after jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog
AS $$
	SELECT sha256(prev
		|| mailroom.audit_field(id::text)
		|| mailroom.audit_field((floor(extract(epoch FROM at) * 1000000))::bigint::text)
		|| mailroom.audit_field(actor)
		|| mailroom.audit_field(action)
		|| mailroom.audit_field(object)
		|| mailroom.audit_field(COALESCE(before::text, ''))
		|| mailroom.audit_field(COALESCE(after::text, '')))
$$;

-- audit_append - write one row at the head of the chain; returns its id.
-- The chain is extended under a transaction-level advisory lock, so rows
-- appear in id order with no gap between committed ids other than those
-- of rolled-back transactions (which never reached the chain).
CREATE FUNCTION mailroom.audit_append(p_actor text, p_action text, p_object text, p_before jsonb,
				      p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v_prev bytea;
	v_id bigint;
	v_at timestamptz := date_trunc('microseconds', clock_timestamp());
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('mailroom.audit'));
	SELECT a.id, a.hash INTO v_id, v_prev FROM mailroom.audit a ORDER BY a.id DESC LIMIT 1;
	v_id := COALESCE(v_id, 0) + 1;
	v_prev := COALESCE(v_prev, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
	INSERT INTO mailroom.audit (id, at, actor, action, object, before, after, prev_hash, hash)
	VALUES (v_id, v_at, p_actor, p_action, COALESCE(p_object, ''), p_before, p_after, v_prev,
		mailroom.audit_hash(v_prev, v_id, v_at, p_actor, p_action, COALESCE(p_object, ''),
				    p_before, p_after));
	RETURN v_id;
END
$$;
COMMENT ON FUNCTION mailroom.audit_append IS 'the only way to write the audit trail: actor, action, object, before, after';

CREATE FUNCTION mailroom.audit_refuse() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog
AS $$
BEGIN
	RAISE EXCEPTION 'mailroom.audit is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON mailroom.audit
	FOR EACH ROW EXECUTE FUNCTION mailroom.audit_refuse();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON mailroom.audit
	FOR EACH STATEMENT EXECUTE FUNCTION mailroom.audit_refuse();

REVOKE ALL ON FUNCTION mailroom.audit_append(text, text, text, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.audit_append(text, text, text, jsonb, jsonb)
	TO mailroom_worker, mailroom_web;

-- The auditors' view of the trail, with the chain fields for their own checks.
CREATE VIEW auditor.audit AS
SELECT id, at, actor, action, object, before, after, encode(prev_hash, 'hex') AS prev_hash,
       encode(hash, 'hex') AS hash
  FROM mailroom.audit;
COMMENT ON VIEW auditor.audit IS 'every action, who, when, before and after; hash-chained (schema/003_audit.sql)';
GRANT SELECT ON auditor.audit TO mailroom_auditor;
