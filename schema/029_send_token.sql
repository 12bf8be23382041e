-- 029_send_token.sql - a mail written in the browser is sent once, however
-- often its form is submitted.
--
-- The preview's send form carries a random token (webui-cgi/composepage.c).
-- The first submission stores the sent_mail row with it before anything is
-- handed to Postfix; a second one with the same token (a double click, a
-- reload, the back button) finds that row instead of sending again
-- (webui-cgi/composesend.c). Unique per user: a token names one user's
-- submission, and row-level security never lets one user see another's.

SET LOCAL ROLE mailroom_owner;

ALTER TABLE mailroom.sent_mail
	ADD COLUMN send_token text CHECK (send_token ~ '^[0-9a-f]{32}$');
COMMENT ON COLUMN mailroom.sent_mail.send_token IS
	'the send form''s token: one row, one mail, per user and token';
CREATE UNIQUE INDEX sent_mail_send_token_idx ON mailroom.sent_mail (sent_by, send_token);
