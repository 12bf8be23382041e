/* composectx.c - read what a new mail starts from (composectx.h). The
 * message answered is the conversation's newest inbound one (the newest
 * of all when nobody wrote in yet); threading headers come from it and
 * never from the form. */
#include "composectx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"

#define QUOTE_MAX 20000 /* bytes of the original text quoted or forwarded */

/* SQL, named: every statement this module runs. */
static const char SQL_CONV[] = "SELECT array_to_string(c.inboxes, ' '), coalesce(c.title, '')"
                               "  FROM mailroom.conversations c WHERE c.id = $1::bigint";
static const char SQL_ANSWERED[] =
    "SELECT coalesce(mm.from_addr, ''), array_to_string(mm.to_addrs, ' '), array_to_string(mm.cc_addrs, ' '),"
    "       coalesce(mm.subject, ''), coalesce(mm.header_message_id, ''),"
    "       array_to_string(mm.references_ids, ' '), left(coalesce(nullif(mm.text_new, ''), mm.body_text, "
    "''), "
    "       $2::integer), coalesce(mm.contact_id::text, ''), coalesce(mm.organisation_id::text, ''),"
    "       coalesce(mm.from_name, ''), to_char(m.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "
    "\"UTC\"'),"
    "       m.direction"
    "  FROM mailroom.message_meta mm JOIN mailroom.messages m ON m.id = mm.message_id"
    " WHERE mm.conversation_id = $1::bigint"
    " ORDER BY (m.direction = 'inbound') DESC, m.received_at DESC LIMIT 1";
static const char SQL_USUAL[] =
    "SELECT DISTINCT lower(a) FROM ("
    "  SELECT mm.from_addr AS a FROM mailroom.message_meta mm WHERE mm.conversation_id = $1::bigint"
    "  UNION ALL SELECT unnest(mm.to_addrs || mm.cc_addrs) FROM mailroom.message_meta mm"
    "   WHERE mm.conversation_id = $1::bigint) x WHERE a IS NOT NULL ORDER BY 1 LIMIT 50";
static const char SQL_OURS[] = "SELECT lower(address) FROM mailroom.inboxes";
static const char SQL_FROM[] = "SELECT i.address, coalesce(i.name, '') FROM mailroom.inboxes i"
                               " WHERE i.address = ANY (mailroom.web_inboxes()) ORDER BY i.address LIMIT 31";
static const char SQL_ME[] =
    "SELECT coalesce(email, ''), display_name FROM mailroom.users WHERE id = $1::bigint";
static const char SQL_CONTACT[] =
    "SELECT coalesce(c.salutation, ''), coalesce(c.first_name, ''), coalesce(c.last_name, ''),"
    "       coalesce(c.organisation_id::text, ''), coalesce(o.name, ''),"
    "       (SELECT string_agg(a.address, ' ' ORDER BY a.address) FROM mailroom.contact_addresses a"
    "         WHERE a.contact_id = c.id)"
    "  FROM mailroom.contacts c LEFT JOIN mailroom.organisations o ON o.id = c.organisation_id"
    " WHERE c.id = $1::bigint";
static const char SQL_ORG[] =
    "SELECT o.name, (SELECT string_agg(a.address, ' ' ORDER BY a.address) FROM mailroom.contacts c"
    "                 JOIN mailroom.contact_addresses a ON a.contact_id = c.id"
    "                WHERE c.organisation_id = o.id AND c.active),"
    "       (SELECT string_agg(d.domain, ' ' ORDER BY d.domain) FROM mailroom.organisation_domains d"
    "         WHERE d.organisation_id = o.id)"
    "  FROM mailroom.organisations o WHERE o.id = $1::bigint";

static const char *const kind_names[] = {"reply", "reply-all", "forward", "new"};

int compose_kind_parse(const char *s, enum compose_kind *k)
{
	for (int i = 0; s != NULL && i < 4; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum compose_kind)i;
			return 0;
		}
	return -1;
}

const char *compose_kind_name(enum compose_kind k)
{
	return kind_names[k];
}

/* dup - a malloc'd copy of a column, "" for NULL; NULL when out of memory */
static char *dup(PGresult *r, int row, int col)
{
	return strdup(PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}

/* add_words - push every plain address of a blank-separated list into a,
 * leaving out those in skip (may be NULL); bad ones are left out too */
static void add_words(struct mail_addrs *a, const char *text, const struct mail_addrs *skip)
{
	char word[MAIL_ADDR_MAX + 1], err[128];
	while (text != NULL && *text != '\0') {
		text += strspn(text, " ");
		size_t n = strcspn(text, " ");
		if (n > 0 && n <= MAIL_ADDR_MAX) {
			memcpy(word, text, n);
			word[n] = '\0';
			if (skip == NULL || !mail_addrs_has(skip, word))
				mail_addrs_add(a, word, err, sizeof(err));
		}
		text += n;
	}
}

/* with_prefix - "Re: subject" unless it starts with one of the prefixes; malloc'd */
static char *with_prefix(const char *prefix, const char *const *known, const char *subject)
{
	for (; *known != NULL; known++)
		if (strncasecmp(subject, *known, strlen(*known)) == 0)
			return strdup(subject);
	size_t n = strlen(prefix) + strlen(subject) + 1;
	char *s = malloc(n);
	if (s != NULL)
		snprintf(s, n, "%s%s", prefix, subject);
	return s;
}

/* quoted_body - the default text: the original quoted ("> ") for a reply,
 * under a forwarding header for a forward; malloc'd */
static char *quoted_body(enum compose_kind k, PGresult *r)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f == NULL)
		return NULL;
	const char *from = PQgetvalue(r, 0, 0), *name = PQgetvalue(r, 0, 9), *when = PQgetvalue(r, 0, 10);
	const char *text = PQgetvalue(r, 0, 6);
	if (k == COMPOSE_FORWARD) {
		fprintf(f,
		        "\n\n---------- Forwarded message ----------\nFrom: %s%s%s%s\nDate: %s\nSubject: "
		        "%s\n\n%s\n",
		        name, name[0] ? " <" : "", from, name[0] ? ">" : "", when, PQgetvalue(r, 0, 3), text);
	} else {
		fprintf(f, "\n\nOn %s, %s wrote:\n", when, name[0] ? name : from);
		while (*text != '\0') {
			size_t n = strcspn(text, "\n");
			fputs(n > 0 ? "> " : ">", f);
			fwrite(text, 1, n, f);
			fputc('\n', f);
			text += n;
			if (*text == '\n')
				text++;
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* query - run a query with one or two parameters; NULL with err on error */
static PGresult *query(PGconn *conn, const char *sql, int n, const char *a, const char *b, char *err,
                       size_t errlen)
{
	const char *p[2] = {a, b};
	return db_query(conn, sql, n, p, err, errlen);
}

/* load_contact - placeholder values of a contact; for a new mail to it
 * also its addresses (the first as To, all as usual correspondents) */
static int load_contact(PGconn *conn, struct compose_ctx *x, const char *id, int as_usual, char *err,
                        size_t errlen)
{
	PGresult *r = query(conn, SQL_CONTACT, 1, id, NULL, err, errlen);
	if (r == NULL)
		return -1;
	int found = PQntuples(r) == 1;
	if (found) {
		free(x->salutation);
		free(x->first_name);
		free(x->last_name);
		free(x->org_name);
		x->salutation = dup(r, 0, 0);
		x->first_name = dup(r, 0, 1);
		x->last_name = dup(r, 0, 2);
		x->org_name = dup(r, 0, 4);
		if (as_usual) {
			add_words(&x->usual, PQgetvalue(r, 0, 5), NULL);
			add_words(&x->to, PQgetvalue(r, 0, 5), NULL);
			if (x->to.n > 1)
				x->to.n = 1; /* the first address; the others stay usual */
		}
	}
	PQclear(r);
	return found;
}

/* load_org - the organisation's name; for a new mail also its contacts'
 * addresses and its domains as usual correspondents */
static int load_org(PGconn *conn, struct compose_ctx *x, const char *id, int as_usual, char *err,
                    size_t errlen)
{
	PGresult *r = query(conn, SQL_ORG, 1, id, NULL, err, errlen);
	if (r == NULL)
		return -1;
	int found = PQntuples(r) == 1;
	if (found) {
		free(x->org_name);
		x->org_name = dup(r, 0, 0);
		if (as_usual) {
			add_words(&x->usual, PQgetvalue(r, 0, 1), NULL);
			const char *d = PQgetvalue(r, 0, 2);
			while (*d != '\0' && x->n_usual_domains < 8) {
				size_t n = strcspn(d, " ");
				if (n > 0 && n < sizeof(x->usual_domains[0]))
					snprintf(x->usual_domains[x->n_usual_domains++],
					         sizeof(x->usual_domains[0]), "%.*s", (int)n, d);
				d += n;
				d += strspn(d, " ");
			}
		}
	}
	PQclear(r);
	return found;
}

/* load_senders - the shared inboxes the user may see, then their own
 * address; the default is the conversation's first inbox among them */
static int load_senders(PGconn *conn, const struct session *s, struct compose_ctx *x,
                        const char *conv_inboxes, char *err, size_t errlen)
{
	PGresult *r = query(conn, SQL_FROM, 0, NULL, NULL, err, errlen);
	if (r == NULL)
		return -1;
	for (int i = 0; i < PQntuples(r) && x->n_from < COMPOSE_FROM_MAX - 1; i++) {
		snprintf(x->from[x->n_from], sizeof(x->from[0]), "%s", PQgetvalue(r, i, 0));
		snprintf(x->from_name[x->n_from++], sizeof(x->from_name[0]), "%s", PQgetvalue(r, i, 1));
	}
	PQclear(r);
	if ((r = query(conn, SQL_ME, 1, s->user_id, NULL, err, errlen)) == NULL)
		return -1;
	if (PQntuples(r) == 1) {
		x->agent_email = dup(r, 0, 0);
		x->agent_name = dup(r, 0, 1);
		if (PQgetvalue(r, 0, 0)[0] != '\0') {
			snprintf(x->from[x->n_from], sizeof(x->from[0]), "%s", PQgetvalue(r, 0, 0));
			snprintf(x->from_name[x->n_from++], sizeof(x->from_name[0]), "%s",
			         PQgetvalue(r, 0, 1));
		}
	}
	PQclear(r);
	x->from_default = 0;
	for (const char *p = conv_inboxes; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, " ");
		for (size_t i = 0; i < x->n_from; i++)
			if (strlen(x->from[i]) == n && strncasecmp(x->from[i], p, n) == 0) {
				x->from_default = i;
				return 0;
			}
		p += n;
		p += strspn(p, " ");
	}
	return 0;
}

/* load_answered - defaults and threading from the message answered */
static int load_answered(PGconn *conn, struct compose_ctx *x, char *err, size_t errlen)
{
	char cap[16];
	snprintf(cap, sizeof(cap), "%d", QUOTE_MAX);
	PGresult *r = query(conn, SQL_ANSWERED, 2, x->conversation, cap, err, errlen);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	static const char *const re[] = {"re:", NULL}, *const fwd[] = {"fwd:", "fw:", NULL};
	struct mail_addrs ours = {.n = 0};
	PGresult *o = query(conn, SQL_OURS, 0, NULL, NULL, err, errlen);
	if (o == NULL) {
		PQclear(r);
		return -1;
	}
	for (int i = 0; i < PQntuples(o); i++)
		add_words(&ours, PQgetvalue(o, i, 0), NULL);
	PQclear(o);
	for (size_t i = 0; i < x->n_from; i++)
		add_words(&ours, x->from[i], NULL);
	int inbound = strcmp(PQgetvalue(r, 0, 11), "inbound") == 0;
	if (x->kind != COMPOSE_FORWARD) {
		add_words(&x->to, inbound ? PQgetvalue(r, 0, 0) : PQgetvalue(r, 0, 1), &ours);
		if (x->kind == COMPOSE_REPLY_ALL) {
			/* never ourselves, never both in To and Cc */
			struct mail_addrs skip = ours;
			for (size_t i = 0; i < x->to.n; i++)
				add_words(&skip, x->to.addr[i], NULL);
			add_words(&x->cc, PQgetvalue(r, 0, 1), &skip);
			add_words(&x->cc, PQgetvalue(r, 0, 2), &skip);
		}
	}
	x->subject = x->kind == COMPOSE_FORWARD ? with_prefix("Fwd: ", fwd, PQgetvalue(r, 0, 3))
	                                        : with_prefix("Re: ", re, PQgetvalue(r, 0, 3));
	x->body = quoted_body(x->kind, r);
	const char *mid = PQgetvalue(r, 0, 4);
	if (mid[0] != '\0' && strlen(mid) <= 998 && mail_header_safe(mid)) {
		/* References: the answered message's, then its own id */
		const char *p = PQgetvalue(r, 0, 5);
		while (*p != '\0' && x->n_references < MAIL_REFS_MAX) {
			size_t n = strcspn(p, " ");
			if (n > 0 && n <= 998 && (x->references[x->n_references] = strndup(p, n)) != NULL)
				x->n_references++;
			p += n;
			p += strspn(p, " ");
		}
		if ((x->references[x->n_references] = strdup(mid)) != NULL)
			x->n_references++;
		if (x->kind != COMPOSE_FORWARD)
			x->in_reply_to = strdup(mid);
	}
	int rc = 0;
	if (PQgetvalue(r, 0, 7)[0] != '\0')
		rc = load_contact(conn, x, PQgetvalue(r, 0, 7), 0, err, errlen);
	if (rc >= 0 && PQgetvalue(r, 0, 8)[0] != '\0')
		rc = load_org(conn, x, PQgetvalue(r, 0, 8), 0, err, errlen);
	PQclear(r);
	return rc < 0 ? -1 : 0;
}

int compose_ctx_load(PGconn *conn, const struct session *s, enum compose_kind k, const char *conversation,
                     const char *organisation, const char *contact, struct compose_ctx *x, char *err,
                     size_t errlen)
{
	memset(x, 0, sizeof(*x));
	x->kind = k;
	snprintf(x->conversation, sizeof(x->conversation), "%s", conversation != NULL ? conversation : "");
	snprintf(x->organisation, sizeof(x->organisation), "%s", organisation != NULL ? organisation : "");
	snprintf(x->contact, sizeof(x->contact), "%s", contact != NULL ? contact : "");
	if (k != COMPOSE_NEW) {
		if (x->conversation[0] == '\0')
			return 0;
		PGresult *r = query(conn, SQL_CONV, 1, x->conversation, NULL, err, errlen);
		if (r == NULL)
			return -1;
		if (PQntuples(r) != 1) {
			PQclear(r);
			return 0;
		}
		int rc = load_senders(conn, s, x, PQgetvalue(r, 0, 0), err, errlen);
		PQclear(r);
		if (rc < 0 || load_answered(conn, x, err, errlen) < 0)
			return -1;
		if ((r = query(conn, SQL_USUAL, 1, x->conversation, NULL, err, errlen)) == NULL)
			return -1;
		for (int i = 0; i < PQntuples(r); i++)
			add_words(&x->usual, PQgetvalue(r, i, 0), NULL);
		PQclear(r);
	} else {
		if (load_senders(conn, s, x, NULL, err, errlen) < 0)
			return -1;
		int found = 1;
		if (x->contact[0] != '\0')
			found = load_contact(conn, x, x->contact, 1, err, errlen);
		else if (x->organisation[0] != '\0')
			found = load_org(conn, x, x->organisation, 1, err, errlen);
		if (found <= 0)
			return found;
	}
	if (x->subject == NULL)
		x->subject = strdup("");
	if (x->body == NULL)
		x->body = strdup("");
	char **fields[] = {&x->salutation, &x->first_name, &x->last_name,
	                   &x->org_name,   &x->agent_name, &x->agent_email};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (*fields[i] == NULL && (*fields[i] = strdup("")) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	if (x->subject == NULL || x->body == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 1;
}

void compose_ctx_free(struct compose_ctx *x)
{
	char **fields[] = {&x->subject,   &x->body,     &x->in_reply_to, &x->salutation, &x->first_name,
	                   &x->last_name, &x->org_name, &x->agent_name,  &x->agent_email};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		free(*fields[i]);
	for (size_t i = 0; i < x->n_references; i++)
		free(x->references[i]);
	memset(x, 0, sizeof(*x));
}

int compose_is_usual(const struct compose_ctx *x, const char *addr)
{
	if (mail_addrs_has(&x->usual, addr))
		return 1;
	const char *at = strrchr(addr, '@');
	for (size_t i = 0; at != NULL && i < x->n_usual_domains; i++)
		if (strcasecmp(at + 1, x->usual_domains[i]) == 0)
			return 1;
	return 0;
}

int compose_from_index(const struct compose_ctx *x, const char *addr)
{
	for (size_t i = 0; addr != NULL && i < x->n_from; i++)
		if (strcasecmp(x->from[i], addr) == 0)
			return (int)i;
	return -1;
}
