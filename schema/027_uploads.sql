-- 027_uploads.sql - what the web pages' import needs besides 020: the
-- importer takes the new contacts' ids from their sequence first (so that
-- their addresses and phone numbers can name them in the same statement),
-- which needs USAGE on that sequence, and locks organisations against
-- concurrent writers (SHARE ROW EXCLUSIVE, allowed by its UPDATE grant).
SET LOCAL ROLE mailroom_owner;
DO $$
BEGIN
	EXECUTE format('GRANT USAGE ON SEQUENCE %s TO mailroom_web',
	               pg_get_serial_sequence('mailroom.contacts', 'id'));
END
$$;
