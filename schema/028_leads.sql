-- 028_leads.sql - who moved a lead to which status, and when: the lead
-- report (webui-cgi/leadreport.c) counts the leads each user closed in a
-- window, which the current lead_status alone cannot tell.
--
-- A trigger records every change of lead_status on organisations and
-- contacts, whichever page or command made it, with the web user the
-- database acts for (mailroom.web_user(), NULL for the worker and
-- mailroomctl). Customers are shared by the team: every web user may read
-- the changes; auditors read them through auditor.lead_changes.

SET LOCAL ROLE mailroom_owner;

CREATE TABLE mailroom.lead_changes (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE CASCADE,
	contact_id      bigint REFERENCES mailroom.contacts ON DELETE CASCADE,
	old_status      text NOT NULL CHECK (old_status IN ('none', 'in_progress', 'closed')),
	new_status      text NOT NULL CHECK (new_status IN ('none', 'in_progress', 'closed')),
	changed_by      bigint REFERENCES mailroom.users ON DELETE SET NULL,
	changed_at      timestamptz NOT NULL DEFAULT now(),
	CHECK (num_nonnulls(organisation_id, contact_id) = 1)
);
COMMENT ON TABLE mailroom.lead_changes IS 'every change of a customer''s lead status, by whom';
CREATE INDEX lead_changes_window_idx ON mailroom.lead_changes (changed_at, changed_by) WHERE new_status = 'closed';

-- lead_change_record - append the change of NEW.lead_status to
-- lead_changes; runs as the owner so that no role needs INSERT on it
CREATE FUNCTION mailroom.lead_change_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
AS $$
BEGIN
	IF NEW.lead_status IS DISTINCT FROM OLD.lead_status THEN
		INSERT INTO mailroom.lead_changes (organisation_id, contact_id, old_status, new_status, changed_by)
		VALUES (CASE WHEN TG_TABLE_NAME = 'organisations' THEN NEW.id END,
		        CASE WHEN TG_TABLE_NAME = 'contacts' THEN NEW.id END,
		        OLD.lead_status, NEW.lead_status,
		        (SELECT u.id FROM mailroom.users u WHERE u.id = mailroom.web_user()));
	END IF;
	RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION mailroom.lead_change_record() FROM PUBLIC;

CREATE TRIGGER lead_change AFTER UPDATE OF lead_status ON mailroom.organisations
	FOR EACH ROW EXECUTE FUNCTION mailroom.lead_change_record();
CREATE TRIGGER lead_change AFTER UPDATE OF lead_status ON mailroom.contacts
	FOR EACH ROW EXECUTE FUNCTION mailroom.lead_change_record();

-- The report counts each user's notes on customers in a window.
CREATE INDEX notes_customer_window_idx ON mailroom.notes (created_at, author)
	WHERE organisation_id IS NOT NULL OR contact_id IS NOT NULL;

GRANT SELECT ON mailroom.lead_changes TO mailroom_web;

CREATE VIEW auditor.lead_changes AS
	SELECT id, organisation_id, contact_id, old_status, new_status, changed_by, changed_at
	  FROM mailroom.lead_changes;
GRANT SELECT ON auditor.lead_changes TO mailroom_auditor;
