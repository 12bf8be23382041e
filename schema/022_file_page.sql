-- 022_file_page.sql - what the customer file page (webui-cgi/custpage.c)
-- needs beside 020: the messages of one organisation or contact found by
-- index, and the customer's own audit trail for its timeline.
--
-- The page lists the conversations a customer wrote or was written to;
-- without these indexes each page read every parsed message.

SET LOCAL ROLE mailroom_owner;

CREATE INDEX message_meta_organisation_idx ON mailroom.message_meta (organisation_id)
	WHERE organisation_id IS NOT NULL;
CREATE INDEX message_meta_contact_idx ON mailroom.message_meta (contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX message_meta_from_addr_lower_idx ON mailroom.message_meta (lower(from_addr));
CREATE INDEX message_meta_to_addrs_idx ON mailroom.message_meta USING gin (to_addrs);

-- customer_history - the audit trail of one organisation or contact
-- (p_object 'organisation:ID' or 'contact:ID'), for the timeline of its
-- page. Customers are shared by the whole team, so every web user may read
-- their trail; anything else is refused by returning nothing.
CREATE FUNCTION mailroom.customer_history(p_object text)
RETURNS TABLE (at timestamptz, actor text, action text, before jsonb, after jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, mailroom AS $$
	SELECT a.at, a.actor, a.action, a.before, a.after
	  FROM mailroom.audit a
	 WHERE p_object ~ '^(organisation|contact):[0-9]{1,18}$'
	   AND a.object = p_object
	 ORDER BY a.id DESC
	 LIMIT 500
$$;
REVOKE ALL ON FUNCTION mailroom.customer_history(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mailroom.customer_history(text) TO mailroom_web;
