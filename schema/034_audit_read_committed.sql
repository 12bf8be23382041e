-- 034_audit_read_committed.sql - the audit trail is only extended from
-- READ COMMITTED transactions.
--
-- audit_append reads the head of the chain after taking the chain's lock.
-- In a REPEATABLE READ or SERIALIZABLE transaction that read sees the
-- snapshot of the transaction's first statement, older than the lock: a
-- row appended by someone else in between is invisible, and the new row
-- takes the same id (the primary key refuses it, but only when the timing
-- is unlucky, so the mistake passed the tests). Now it is refused at once,
-- every time, with a message that says why. Code that reads a snapshot and
-- audits what it read commits the snapshot first and audits after it.
SET LOCAL ROLE mailroom_owner;

CREATE OR REPLACE FUNCTION mailroom.audit_append(p_actor text, p_action text, p_object text, p_before jsonb,
						 p_after jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog
AS $$
DECLARE
	v_prev bytea;
	v_id bigint;
	v_at timestamptz := date_trunc('microseconds', clock_timestamp());
BEGIN
	IF current_setting('transaction_isolation') <> 'read committed' THEN
		RAISE EXCEPTION 'mailroom.audit_append needs a READ COMMITTED transaction, not %',
			upper(current_setting('transaction_isolation'))
			USING ERRCODE = 'invalid_transaction_state',
			      HINT = 'a snapshot older than the chain''s lock cannot see its head: commit the snapshot, then audit';
	END IF;
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
