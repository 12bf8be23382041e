-- 026_customers.sql - merging two organisations or two contacts from the
-- web pages (webui-cgi/custmerge.c).
--
-- A merge moves everything that hangs off the merged record to the one
-- it is merged into, including rows the acting user cannot see (another
-- user's private conversation of that customer): so it runs as the
-- owner, for an active admin or lead only, in the caller's transaction
-- (the caller writes the audit row in the same one). The merged record
-- stays, inactive, with merged_into set, so that old links still lead
-- somewhere.

SET LOCAL ROLE mailroom_owner;

-- web_customer_merge - merge organisation ('o') or contact ('p') p_from
-- into p_into; the number of rows moved per kind as JSON. Raises 42501
-- (not a lead or admin), P0002 (p_from not there or merged already),
-- 22023 (p_into not there, merged, or p_from itself).
CREATE FUNCTION mailroom.web_customer_merge(p_kind text, p_from bigint, p_into bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
DECLARE
	v_moved jsonb := '{}';
	v_n     bigint;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM mailroom.users u
	                WHERE u.id = mailroom.web_user() AND u.active AND u.role IN ('admin', 'lead')) THEN
		RAISE EXCEPTION 'only an admin or a lead may merge' USING ERRCODE = '42501';
	END IF;
	IF p_from = p_into THEN
		RAISE EXCEPTION 'a record cannot be merged into itself' USING ERRCODE = '22023';
	END IF;
	IF p_kind = 'o' THEN
		-- both rows locked, the smaller id first (two opposite merges cannot deadlock)
		PERFORM 1 FROM mailroom.organisations WHERE id IN (p_from, p_into) ORDER BY id FOR UPDATE;
		IF NOT EXISTS (SELECT 1 FROM mailroom.organisations WHERE id = p_from AND merged_into IS NULL) THEN
			RAISE EXCEPTION 'no organisation %', p_from USING ERRCODE = 'P0002';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM mailroom.organisations WHERE id = p_into AND merged_into IS NULL) THEN
			RAISE EXCEPTION 'no organisation % to merge into', p_into USING ERRCODE = '22023';
		END IF;
		UPDATE mailroom.contacts SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('contacts', v_n);
		UPDATE mailroom.organisation_domains SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('domains', v_n);
		UPDATE mailroom.notes SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('notes', v_n);
		UPDATE mailroom.tasks SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('tasks', v_n);
		UPDATE mailroom.files SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('files', v_n);
		INSERT INTO mailroom.organisation_labels (organisation_id, label_id, added_by, added_at)
		SELECT p_into, label_id, added_by, added_at FROM mailroom.organisation_labels WHERE organisation_id = p_from
		ON CONFLICT DO NOTHING;
		DELETE FROM mailroom.organisation_labels WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('labels', v_n);
		UPDATE mailroom.reminders SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('reminders', v_n);
		UPDATE mailroom.notifications SET organisation_id = p_into WHERE organisation_id = p_from;
		UPDATE mailroom.conversations SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('conversations', v_n);
		UPDATE mailroom.message_meta SET organisation_id = p_into WHERE organisation_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('messages', v_n);
		UPDATE mailroom.sent_mail SET organisation_id = p_into WHERE organisation_id = p_from;
		UPDATE mailroom.organisations t SET first_contact_at = least(t.first_contact_at, f.first_contact_at),
		       updated_at = now()
		  FROM mailroom.organisations f WHERE t.id = p_into AND f.id = p_from;
		UPDATE mailroom.organisations SET merged_into = p_into, active = false, reserved_by = NULL,
		       reserved_at = NULL, updated_at = now() WHERE id = p_from;
		-- what was merged into p_from before now points to p_into
		UPDATE mailroom.organisations SET merged_into = p_into WHERE merged_into = p_from;
	ELSIF p_kind = 'p' THEN
		PERFORM 1 FROM mailroom.contacts WHERE id IN (p_from, p_into) ORDER BY id FOR UPDATE;
		IF NOT EXISTS (SELECT 1 FROM mailroom.contacts WHERE id = p_from AND merged_into IS NULL) THEN
			RAISE EXCEPTION 'no contact %', p_from USING ERRCODE = 'P0002';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM mailroom.contacts WHERE id = p_into AND merged_into IS NULL) THEN
			RAISE EXCEPTION 'no contact % to merge into', p_into USING ERRCODE = '22023';
		END IF;
		UPDATE mailroom.contact_addresses SET contact_id = p_into WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('addresses', v_n);
		INSERT INTO mailroom.contact_phones (contact_id, phone)
		SELECT p_into, phone FROM mailroom.contact_phones WHERE contact_id = p_from ON CONFLICT DO NOTHING;
		DELETE FROM mailroom.contact_phones WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('phones', v_n);
		UPDATE mailroom.notes SET contact_id = p_into WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('notes', v_n);
		UPDATE mailroom.tasks SET contact_id = p_into WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('tasks', v_n);
		UPDATE mailroom.files SET contact_id = p_into WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('files', v_n);
		INSERT INTO mailroom.contact_labels (contact_id, label_id, added_by, added_at)
		SELECT p_into, label_id, added_by, added_at FROM mailroom.contact_labels WHERE contact_id = p_from
		ON CONFLICT DO NOTHING;
		DELETE FROM mailroom.contact_labels WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('labels', v_n);
		UPDATE mailroom.reminders SET contact_id = p_into WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('reminders', v_n);
		UPDATE mailroom.message_meta SET contact_id = p_into WHERE contact_id = p_from;
		GET DIAGNOSTICS v_n = ROW_COUNT; v_moved := v_moved || jsonb_build_object('messages', v_n);
		UPDATE mailroom.sent_mail SET contact_id = p_into WHERE contact_id = p_from;
		UPDATE mailroom.contacts t SET first_contact_at = least(t.first_contact_at, f.first_contact_at),
		       organisation_id = coalesce(t.organisation_id, f.organisation_id), updated_at = now()
		  FROM mailroom.contacts f WHERE t.id = p_into AND f.id = p_from;
		UPDATE mailroom.contacts SET merged_into = p_into, active = false, reserved_by = NULL,
		       reserved_at = NULL, updated_at = now() WHERE id = p_from;
		UPDATE mailroom.contacts SET merged_into = p_into WHERE merged_into = p_from;
	ELSE
		RAISE EXCEPTION 'kind % is neither o nor p', p_kind USING ERRCODE = '22023';
	END IF;
	RETURN v_moved;
END
$$;
REVOKE ALL ON FUNCTION mailroom.web_customer_merge(text, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.web_customer_merge(text, bigint, bigint) TO mailroom_web;
