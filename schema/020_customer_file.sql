-- 020_customer_file.sql - the customer file: organisations and contacts
-- kept from the web pages (owner, lead status, reservation, merge), tasks,
-- files, labels on customers, notes on contacts, note and mail templates,
-- signatures, standard attachments and the log of mail written in the
-- browser.
--
-- Visibility: organisations, contacts, their files and tasks are shared by
-- the whole team; a task or note on a conversation is visible with that
-- conversation (row-level security of schema/011).

SET LOCAL ROLE mailroom_owner;

-- --- organisations and contacts ---------------------------------------------------

ALTER TABLE mailroom.organisations
	-- the internal owner (account manager); "owner" stays as imported text
	ADD COLUMN owner_id         bigint REFERENCES mailroom.users ON DELETE SET NULL,
	ADD COLUMN street           text CHECK (length(street) <= 200),
	ADD COLUMN country          text CHECK (length(country) <= 100),
	ADD COLUMN phone            text CHECK (length(phone) <= 50),
	ADD COLUMN website          text CHECK (length(website) <= 300),
	ADD COLUMN lead_status      text NOT NULL DEFAULT 'none' CHECK (lead_status IN ('none', 'in_progress', 'closed')),
	-- the first note or mail of ours to them; NULL: never contacted
	ADD COLUMN first_contact_at timestamptz,
	-- lead flow: held by the first agent who entered a note
	ADD COLUMN reserved_by      bigint REFERENCES mailroom.users ON DELETE SET NULL,
	ADD COLUMN reserved_at      timestamptz,
	ADD COLUMN merged_into      bigint REFERENCES mailroom.organisations,
	ADD CONSTRAINT organisations_reserved CHECK ((reserved_by IS NULL) = (reserved_at IS NULL));

ALTER TABLE mailroom.contacts
	ADD COLUMN position         text CHECK (length(position) <= 200),
	ADD COLUMN owner_id         bigint REFERENCES mailroom.users ON DELETE SET NULL,
	ADD COLUMN lead_status      text NOT NULL DEFAULT 'none' CHECK (lead_status IN ('none', 'in_progress', 'closed')),
	ADD COLUMN first_contact_at timestamptz,
	ADD COLUMN reserved_by      bigint REFERENCES mailroom.users ON DELETE SET NULL,
	ADD COLUMN reserved_at      timestamptz,
	ADD COLUMN merged_into      bigint REFERENCES mailroom.contacts,
	ADD CONSTRAINT contacts_reserved CHECK ((reserved_by IS NULL) = (reserved_at IS NULL));

-- Search: a name prefix (doc*) uses the pattern indexes; postal code and
-- city are equality or prefix searches too.
CREATE INDEX organisations_name_prefix_idx ON mailroom.organisations (lower(name) text_pattern_ops);
CREATE INDEX organisations_postal_code_idx ON mailroom.organisations (postal_code text_pattern_ops);
CREATE INDEX organisations_city_idx ON mailroom.organisations (lower(city) text_pattern_ops);
CREATE INDEX organisations_owner_idx ON mailroom.organisations (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX organisations_lead_idx ON mailroom.organisations (lead_status, first_contact_at);
CREATE INDEX contacts_last_name_prefix_idx ON mailroom.contacts (lower(last_name) text_pattern_ops);
CREATE INDEX contacts_first_name_prefix_idx ON mailroom.contacts (lower(first_name) text_pattern_ops);
CREATE INDEX contacts_lead_idx ON mailroom.contacts (lead_status, first_contact_at);
CREATE INDEX contact_phones_phone_idx ON mailroom.contact_phones (phone);

-- --- labels on customers -------------------------------------------------------------

CREATE TABLE mailroom.organisation_labels (
	organisation_id bigint NOT NULL REFERENCES mailroom.organisations ON DELETE CASCADE,
	label_id        bigint NOT NULL REFERENCES mailroom.labels ON DELETE CASCADE,
	added_by        bigint REFERENCES mailroom.users ON DELETE SET NULL,
	added_at        timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (organisation_id, label_id)
);
CREATE TABLE mailroom.contact_labels (
	contact_id bigint NOT NULL REFERENCES mailroom.contacts ON DELETE CASCADE,
	label_id   bigint NOT NULL REFERENCES mailroom.labels ON DELETE CASCADE,
	added_by   bigint REFERENCES mailroom.users ON DELETE SET NULL,
	added_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (contact_id, label_id)
);

-- --- notes on contacts, from templates ---------------------------------------------

CREATE TABLE mailroom.note_templates (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	title      text NOT NULL UNIQUE CHECK (length(title) BETWEEN 1 AND 200),
	body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
	-- labels applied to the customer when the template is used
	label_ids  bigint[] NOT NULL DEFAULT '{}',
	-- the lead status the customer gets when the template is used (NULL: unchanged)
	lead_status text CHECK (lead_status IN ('none', 'in_progress', 'closed')),
	active     boolean NOT NULL DEFAULT true,
	created_by bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE mailroom.notes
	ADD COLUMN contact_id  bigint REFERENCES mailroom.contacts ON DELETE CASCADE,
	ADD COLUMN template_id bigint REFERENCES mailroom.note_templates ON DELETE SET NULL;
-- A note belongs to exactly one of conversation, organisation, contact.
DO $$
DECLARE
	c text;
BEGIN
	FOR c IN SELECT conname FROM pg_constraint
	          WHERE conrelid = 'mailroom.notes'::regclass AND contype = 'c'
	            AND pg_get_constraintdef(oid) LIKE '%num_nonnulls(conversation_id, organisation_id)%'
	LOOP
		EXECUTE format('ALTER TABLE mailroom.notes DROP CONSTRAINT %I', c);
	END LOOP;
END
$$;
ALTER TABLE mailroom.notes ADD CONSTRAINT notes_one_owner
	CHECK (num_nonnulls(conversation_id, organisation_id, contact_id) = 1);
CREATE INDEX notes_contact_idx ON mailroom.notes (contact_id, created_at) WHERE contact_id IS NOT NULL;
CREATE INDEX notes_organisation_idx ON mailroom.notes (organisation_id, created_at) WHERE organisation_id IS NOT NULL;
CREATE INDEX notes_author_idx ON mailroom.notes (author, created_at);

-- Reminders may hang off a contact too: then one of conversation,
-- organisation, contact.
ALTER TABLE mailroom.reminders ADD COLUMN contact_id bigint REFERENCES mailroom.contacts ON DELETE CASCADE;
DO $$
DECLARE
	c text;
BEGIN
	FOR c IN SELECT conname FROM pg_constraint
	          WHERE conrelid = 'mailroom.reminders'::regclass AND contype = 'c'
	            AND pg_get_constraintdef(oid) LIKE '%num_nonnulls(conversation_id, organisation_id)%'
	LOOP
		EXECUTE format('ALTER TABLE mailroom.reminders DROP CONSTRAINT %I', c);
	END LOOP;
END
$$;
ALTER TABLE mailroom.reminders ADD CONSTRAINT reminders_one_owner
	CHECK (num_nonnulls(conversation_id, organisation_id, contact_id) = 1);
CREATE INDEX reminders_contact_idx ON mailroom.reminders (contact_id) WHERE contact_id IS NOT NULL;

-- --- tasks ---------------------------------------------------------------------------

CREATE TABLE mailroom.tasks (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE CASCADE,
	contact_id      bigint REFERENCES mailroom.contacts ON DELETE CASCADE,
	conversation_id bigint REFERENCES mailroom.conversations ON DELETE CASCADE,
	title           text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	body            text CHECK (length(body) <= 20000),
	due_at          timestamptz,
	assignee_id     bigint REFERENCES mailroom.users ON DELETE SET NULL,
	state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
	created_by      bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at      timestamptz NOT NULL DEFAULT now(),
	done_at         timestamptz,
	done_by         bigint REFERENCES mailroom.users ON DELETE SET NULL,
	CHECK (num_nonnulls(organisation_id, contact_id, conversation_id) >= 1),
	CHECK ((state = 'done') = (done_at IS NOT NULL))
);
CREATE INDEX tasks_organisation_idx ON mailroom.tasks (organisation_id, state) WHERE organisation_id IS NOT NULL;
CREATE INDEX tasks_contact_idx ON mailroom.tasks (contact_id, state) WHERE contact_id IS NOT NULL;
CREATE INDEX tasks_conversation_idx ON mailroom.tasks (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX tasks_assignee_idx ON mailroom.tasks (assignee_id, state, due_at);

-- --- files of a customer, and standard attachments ---------------------------------

-- The bytes live in the row (bytea); 25 MiB at most, like a large mail.
CREATE TABLE mailroom.files (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	organisation_id bigint REFERENCES mailroom.organisations ON DELETE CASCADE,
	contact_id      bigint REFERENCES mailroom.contacts ON DELETE CASCADE,
	filename        text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255 AND filename !~ '[/\\[:cntrl:]]'
	                                     AND filename NOT IN ('.', '..')),
	content_type    text NOT NULL CHECK (content_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$'),
	size_bytes      bigint NOT NULL CHECK (size_bytes BETWEEN 0 AND 26214400),
	sha256          bytea NOT NULL CHECK (length(sha256) = 32),
	data            bytea NOT NULL,
	uploaded_by     bigint REFERENCES mailroom.users ON DELETE SET NULL,
	uploaded_at     timestamptz NOT NULL DEFAULT now(),
	CHECK (num_nonnulls(organisation_id, contact_id) = 1),
	CHECK (octet_length(data) = size_bytes)
);
CREATE INDEX files_organisation_idx ON mailroom.files (organisation_id) WHERE organisation_id IS NOT NULL;
CREATE INDEX files_contact_idx ON mailroom.files (contact_id) WHERE contact_id IS NOT NULL;

CREATE TABLE mailroom.standard_attachments (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name         text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
	filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255 AND filename !~ '[/\\[:cntrl:]]'
	                                  AND filename NOT IN ('.', '..')),
	content_type text NOT NULL CHECK (content_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$'),
	size_bytes   bigint NOT NULL CHECK (size_bytes BETWEEN 0 AND 10485760),
	sha256       bytea NOT NULL CHECK (length(sha256) = 32),
	data         bytea NOT NULL,
	active       boolean NOT NULL DEFAULT true,
	created_by   bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at   timestamptz NOT NULL DEFAULT now(),
	CHECK (octet_length(data) = size_bytes)
);

-- --- writing mail: templates, signatures, the log of what was sent ----------------

-- Placeholders in subject and body: {{salutation}}, {{first_name}},
-- {{last_name}}, {{organisation}}, {{agent_name}}, {{agent_email}},
-- {{inbox}}, {{subject}} (see docs/web.md); any other is refused on save.
CREATE TABLE mailroom.mail_templates (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
	subject    text CHECK (length(subject) <= 998),
	body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
	-- NULL: for every inbox
	inbox      text REFERENCES mailroom.inboxes ON DELETE CASCADE ON UPDATE CASCADE,
	active     boolean NOT NULL DEFAULT true,
	created_by bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);

-- One signature per user and one per shared inbox; a mail gets the
-- inbox's signature when sent from an inbox, then the user's.
CREATE TABLE mailroom.signatures (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id bigint UNIQUE REFERENCES mailroom.users ON DELETE CASCADE,
	inbox   text UNIQUE REFERENCES mailroom.inboxes ON DELETE CASCADE ON UPDATE CASCADE,
	body    text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (num_nonnulls(user_id, inbox) = 1)
);

-- Every mail written in the browser, before and after it is handed to
-- Postfix: a mail that could not be sent stays here with its error, and
-- the copy Postfix accepted is found by its Message-ID in message_meta.
CREATE TABLE mailroom.sent_mail (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	conversation_id  bigint REFERENCES mailroom.conversations ON DELETE SET NULL,
	organisation_id  bigint REFERENCES mailroom.organisations ON DELETE SET NULL,
	contact_id       bigint REFERENCES mailroom.contacts ON DELETE SET NULL,
	kind             text NOT NULL CHECK (kind IN ('reply', 'reply-all', 'forward', 'new')),
	header_message_id text NOT NULL UNIQUE CHECK (length(header_message_id) BETWEEN 3 AND 998),
	in_reply_to      text CHECK (length(in_reply_to) <= 998),
	from_addr        text NOT NULL CHECK (length(from_addr) <= 320),
	to_addrs         text[] NOT NULL,
	cc_addrs         text[] NOT NULL DEFAULT '{}',
	subject          text NOT NULL CHECK (length(subject) <= 998),
	template_id      bigint REFERENCES mailroom.mail_templates ON DELETE SET NULL,
	size_bytes       bigint,
	sent_by          bigint REFERENCES mailroom.users ON DELETE SET NULL,
	created_at       timestamptz NOT NULL DEFAULT now(),
	state            text NOT NULL DEFAULT 'sending' CHECK (state IN ('sending', 'sent', 'failed')),
	smtp_reply       text CHECK (length(smtp_reply) <= 1000),
	sent_at          timestamptz
);
CREATE INDEX sent_mail_conversation_idx ON mailroom.sent_mail (conversation_id) WHERE conversation_id IS NOT NULL;

-- --- visibility ----------------------------------------------------------------------

ALTER TABLE mailroom.tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.tasks FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.tasks FOR ALL TO mailroom_web
	USING (conversation_id IS NULL OR EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

ALTER TABLE mailroom.sent_mail ENABLE ROW LEVEL SECURITY;
CREATE POLICY worker_all ON mailroom.sent_mail FOR ALL TO mailroom_worker USING (true) WITH CHECK (true);
CREATE POLICY web_visible ON mailroom.sent_mail FOR ALL TO mailroom_web
	USING (conversation_id IS NULL OR EXISTS (SELECT 1 FROM mailroom.conversations c WHERE c.id = conversation_id));

-- --- grants ---------------------------------------------------------------------------

GRANT INSERT, UPDATE ON mailroom.organisations, mailroom.contacts TO mailroom_web;
GRANT INSERT, DELETE ON mailroom.organisation_domains, mailroom.contact_addresses, mailroom.contact_phones
	TO mailroom_web;
GRANT UPDATE (contact_id) ON mailroom.contact_addresses TO mailroom_web;
GRANT UPDATE (organisation_id) ON mailroom.organisation_domains TO mailroom_web;
GRANT SELECT, INSERT, DELETE ON mailroom.organisation_labels, mailroom.contact_labels TO mailroom_web;
GRANT SELECT, INSERT, UPDATE ON mailroom.note_templates, mailroom.tasks, mailroom.mail_templates,
	mailroom.standard_attachments, mailroom.sent_mail TO mailroom_web;
GRANT SELECT, INSERT, UPDATE, DELETE ON mailroom.files, mailroom.signatures TO mailroom_web;
GRANT SELECT ON mailroom.organisation_labels, mailroom.contact_labels, mailroom.note_templates, mailroom.tasks,
	mailroom.files, mailroom.mail_templates, mailroom.signatures, mailroom.standard_attachments,
	mailroom.sent_mail TO mailroom_worker;
GRANT UPDATE (contact_id) ON mailroom.notes TO mailroom_web;

-- Auditors see tasks and the mail written in the browser.
CREATE VIEW auditor.tasks AS
SELECT t.id, t.organisation_id, t.contact_id, t.conversation_id, t.title, t.due_at, t.state, t.created_at,
       t.done_at, a.login AS assignee, c.login AS created_by, d.login AS done_by
  FROM mailroom.tasks t
  LEFT JOIN mailroom.users a ON a.id = t.assignee_id
  LEFT JOIN mailroom.users c ON c.id = t.created_by
  LEFT JOIN mailroom.users d ON d.id = t.done_by;
CREATE VIEW auditor.sent_mail AS
SELECT s.id, s.conversation_id, s.kind, s.header_message_id, s.from_addr, s.to_addrs, s.cc_addrs, s.subject,
       s.state, s.smtp_reply, s.created_at, s.sent_at, u.login AS sent_by
  FROM mailroom.sent_mail s LEFT JOIN mailroom.users u ON u.id = s.sent_by;
GRANT SELECT ON auditor.tasks, auditor.sent_mail TO mailroom_auditor;
