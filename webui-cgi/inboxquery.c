/* inboxquery.c - the inbox's filters: validation, the keyset cursor,
 * links that keep the filters, and the statements of the page.
 *
 * Statements are built from the fixed fragments below; a fragment names
 * its values only as $n, numbered by bind(). Row-level security
 * (schema/011_team_inbox.sql) decides which conversations the user may
 * see: no fragment here repeats that test.
 */
#include "inboxquery.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"

static const char *const key_names[IK_COUNT] = {"status", "unread", "class", "org",   "assignee",
                                                "label",  "folder", "inbox", "older", "from",
                                                "to",     "q",      "sort",  "after"};

static const char *const statuses[] = {"open", "closed", "archived", "all", NULL};
static const char *const classes[] = {"customer",    "supplier",     "internal", "newsletter",
                                      "advertising", "unclassified", NULL};
static const char *const sorts[] = {"activity", "priority", NULL};

const char *inbox_key_name(enum inbox_key k)
{
	return key_names[k];
}

/* one_of - is s one of the NULL-terminated words? */
static int one_of(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

/* digits_ok - 1..max ASCII digits without a leading zero */
static int digits_ok(const char *s, size_t max)
{
	size_t n = strspn(s, "0123456789");
	return n >= 1 && n <= max && s[n] == '\0' && s[0] != '0';
}

/* days_in - days of month m (1..12) of year y */
static int days_in(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* num - the decimal value of n digits at s */
static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* date_ok - YYYY-MM-DD, a real day of the years 1000-9999 */
static int date_ok(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789") != 4 ||
	    strspn(s + 5, "0123456789") != 2 || strspn(s + 8, "0123456789") != 2)
		return 0;
	int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
	return y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= days_in(y, m);
}

/* utf8_chars - characters of valid UTF-8 text */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* inbox_ok - an address as mailroom.inboxes stores it, lowered into out */
static int inbox_ok(const char *s, char out[INBOX_ADDR_MAX + 1])
{
	size_t len = strlen(s);
	const char *at = strchr(s, '@');
	if (len > INBOX_ADDR_MAX || at == NULL || at == s || at - s > 64 || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '\0' && (c <= ' ' || c == 0x7f))
			return 0;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	return 1;
}

/* value_ok - is v a valid value of key k? (the cursor is checked apart) */
static int value_ok(enum inbox_key k, const char *v, struct inbox_filter *f)
{
	switch (k) {
	case IK_STATUS:
		return one_of(v, statuses);
	case IK_UNREAD:
		return strcmp(v, "1") == 0;
	case IK_CLASS:
		return one_of(v, classes);
	case IK_ASSIGNEE:
		return strcmp(v, "me") == 0 || strcmp(v, "none") == 0 || digits_ok(v, INBOX_ID_MAX);
	case IK_ORG:
	case IK_LABEL:
	case IK_FOLDER:
		return digits_ok(v, INBOX_ID_MAX);
	case IK_INBOX:
		return inbox_ok(v, f->inbox);
	case IK_OLDER:
		return digits_ok(v, 4) && num(v, (int)strlen(v)) <= 3650;
	case IK_FROM:
	case IK_TO:
		return date_ok(v);
	case IK_Q:
		return utf8_chars(v) <= INBOX_Q_MAX;
	case IK_SORT:
		return one_of(v, sorts);
	default:
		return 1;
	}
}

int inbox_filter_parse(const struct form *q, struct inbox_filter *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	for (int k = 0; k < IK_COUNT; k++) {
		const char *v = form_get(q, key_names[k]);
		if (v == NULL || v[0] == '\0')
			continue;
		if (!value_ok((enum inbox_key)k, v, f)) {
			snprintf(err, errlen, "bad value of %s", key_names[k]);
			return -1;
		}
		f->value[k] = v;
	}
	if (f->value[IK_STATUS] == NULL)
		f->value[IK_STATUS] = "open";
	f->priority = f->value[IK_SORT] != NULL && strcmp(f->value[IK_SORT], "priority") == 0;
	if (f->value[IK_FROM] != NULL && f->value[IK_TO] != NULL &&
	    strcmp(f->value[IK_FROM], f->value[IK_TO]) > 0) {
		snprintf(err, errlen, "from is after to");
		return -1;
	}
	if (f->value[IK_AFTER] != NULL &&
	    inbox_cursor_parse(f->value[IK_AFTER], f->priority, &f->after) < 0) {
		snprintf(err, errlen, "bad value of after");
		return -1;
	}
	return 0;
}

/* ts_parse - 20 digits YYYYMMDDHHMMSSUUUUUU of a real moment into the
 * text PostgreSQL reads as a UTC timestamptz */
static int ts_parse(const char *s, size_t len, char out[40])
{
	if (len != 20 || strspn(s, "0123456789") < 20)
		return 0;
	int y = num(s, 4), mo = num(s + 4, 2), d = num(s + 6, 2), h = num(s + 8, 2), mi = num(s + 10, 2),
	    se = num(s + 12, 2);
	if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo) || h > 23 || mi > 59 || se > 59)
		return 0;
	/* the digits as they are in place of the template's #s */
	static const char tmpl[] = "####-##-## ##:##:##.######+00";
	for (size_t i = 0, j = 0; i < sizeof(tmpl); i++)
		out[i] = tmpl[i] == '#' ? s[j++] : tmpl[i];
	return 1;
}

/* The cursor: "a-TS-ID" in the activity order, "p-SCORE-TS-ID" (SCORE
 * 0-100, or "n" for none) in the priority order; TS is ts_parse's form. */
int inbox_cursor_parse(const char *text, int priority, struct inbox_cursor *c)
{
	const char *p = text, *dash;
	memset(c, 0, sizeof(*c));
	if (strlen(text) > INBOX_CURSOR_MAX || text[0] != (priority ? 'p' : 'a') || text[1] != '-')
		return -1;
	p = text + 2;
	if (priority) {
		if ((dash = strchr(p, '-')) == NULL)
			return -1;
		if (dash - p == 1 && p[0] == 'n')
			c->has_score = 0;
		else if (dash - p >= 1 && dash - p <= 3 && (size_t)(dash - p) == strspn(p, "0123456789") &&
		         (p[0] != '0' || dash - p == 1) && num(p, (int)(dash - p)) <= 100) {
			c->has_score = 1;
			c->score = num(p, (int)(dash - p));
			snprintf(c->score_text, sizeof(c->score_text), "%d", c->score);
		} else
			return -1;
		p = dash + 1;
	}
	if ((dash = strchr(p, '-')) == NULL || !ts_parse(p, (size_t)(dash - p), c->ts) ||
	    !digits_ok(dash + 1, INBOX_ID_MAX))
		return -1;
	snprintf(c->id, sizeof(c->id), "%s", dash + 1);
	c->set = 1;
	return 0;
}

int inbox_cursor_format(int priority, const char *score, const char *ts20, const char *id, char *out,
                        size_t outlen)
{
	char ts[40];
	if (!ts_parse(ts20, strlen(ts20), ts) || !digits_ok(id, INBOX_ID_MAX) ||
	    (priority && score != NULL && !(digits_ok(score, 3) || strcmp(score, "0") == 0)))
		return -1;
	int n = priority ? snprintf(out, outlen, "p-%s-%s-%s", score != NULL ? score : "n", ts20, id)
	                 : snprintf(out, outlen, "a-%s-%s", ts20, id);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int inbox_sql_open(struct inbox_sql *s)
{
	memset(s, 0, sizeof(*s));
	s->mem = open_memstream(&s->text, &s->len);
	return s->mem != NULL ? 0 : -1;
}

int inbox_sql_close(struct inbox_sql *s)
{
	int r = fclose(s->mem);
	s->mem = NULL;
	return r == 0 && s->n <= INBOX_PARAMS ? 0 : -1;
}

void inbox_sql_free(struct inbox_sql *s)
{
	if (s->mem != NULL)
		fclose(s->mem);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

int inbox_sql_param(struct inbox_sql *s, const char *value)
{
	if (s->n >= INBOX_PARAMS) {
		s->n = INBOX_PARAMS + 1; /* inbox_sql_close fails */
		return -1;
	}
	s->param[s->n] = value;
	return ++s->n;
}

/* the numbers of the parameters a statement's filters use */
struct slots {
	int me, tz, key[IK_COUNT], score, ts, id;
};

/* bind - add the parameters of the filters (and of the cursor when
 * cursor is set) to s once; both branches of a statement share them */
static void bind(struct inbox_sql *s, const struct inbox_filter *f, const char *me, const char *tz,
                 int cursor, struct slots *n)
{
	memset(n, 0, sizeof(*n));
	n->me = inbox_sql_param(s, me);
	if (tz != NULL)
		n->tz = inbox_sql_param(s, tz);
	for (int k = 0; k < IK_SORT; k++) {
		const char *v = f->value[k];
		if (v == NULL || k == IK_UNREAD || (k == IK_STATUS && strcmp(v, "all") == 0) ||
		    (k == IK_CLASS && strcmp(v, "unclassified") == 0) ||
		    (k == IK_ASSIGNEE && (strcmp(v, "me") == 0 || strcmp(v, "none") == 0)))
			continue;
		n->key[k] = inbox_sql_param(s, k == IK_INBOX ? f->inbox : v);
	}
	if (cursor && f->after.set) {
		if (f->after.has_score)
			n->score = inbox_sql_param(s, f->after.score_text);
		n->ts = inbox_sql_param(s, f->after.ts);
		n->id = inbox_sql_param(s, f->after.id);
	}
}

/* where - the conditions of the filters, each starting " AND " */
static void where(FILE *m, const struct inbox_filter *f, const struct slots *n)
{
	const int *k = n->key;
	if (k[IK_STATUS])
		fprintf(m, " AND c.status = $%d", k[IK_STATUS]);
	if (f->value[IK_UNREAD] != NULL)
		fprintf(m,
		        " AND NOT EXISTS (SELECT 1 FROM mailroom.conversation_reads r WHERE r.user_id = "
		        "$%d::bigint"
		        " AND r.conversation_id = c.id AND r.read_at >= c.last_activity_at)",
		        n->me);
	if (k[IK_CLASS])
		fprintf(m, " AND c.class = $%d", k[IK_CLASS]);
	else if (f->value[IK_CLASS] != NULL)
		fputs(" AND (c.class IS NULL OR c.class = 'unclassified')", m);
	if (k[IK_ORG])
		fprintf(m, " AND c.organisation_id = $%d::bigint", k[IK_ORG]);
	if (k[IK_ASSIGNEE])
		fprintf(m, " AND c.assignee_id = $%d::bigint", k[IK_ASSIGNEE]);
	else if (f->value[IK_ASSIGNEE] != NULL && strcmp(f->value[IK_ASSIGNEE], "me") == 0)
		fprintf(m, " AND c.assignee_id = $%d::bigint", n->me);
	else if (f->value[IK_ASSIGNEE] != NULL)
		fputs(" AND c.assignee_id IS NULL", m);
	if (k[IK_LABEL])
		fprintf(m,
		        " AND EXISTS (SELECT 1 FROM mailroom.conversation_labels cl WHERE cl.conversation_id "
		        "= c.id"
		        " AND cl.label_id = $%d::bigint)",
		        k[IK_LABEL]);
	if (k[IK_FOLDER])
		fprintf(m, " AND c.folder_id = $%d::bigint", k[IK_FOLDER]);
	if (k[IK_INBOX])
		fprintf(m, " AND c.inboxes @> ARRAY[$%d::text]", k[IK_INBOX]);
	if (k[IK_OLDER])
		fprintf(m, " AND c.last_activity_at < now() - make_interval(days => $%d::int)", k[IK_OLDER]);
	if (k[IK_FROM])
		fprintf(m, " AND c.last_activity_at >= ($%d::date)::timestamp AT TIME ZONE $%d", k[IK_FROM],
		        n->tz);
	if (k[IK_TO])
		fprintf(m, " AND c.last_activity_at < ($%d::date + 1)::timestamp AT TIME ZONE $%d", k[IK_TO],
		        n->tz);
	/* through an owner's function: the GIN index of message_meta.search is
	 * out of the web role's reach under row-level security (schema/021) */
	if (k[IK_Q])
		fprintf(m, " AND c.id IN (SELECT mailroom.inbox_search($%d))", k[IK_Q]);
}

#define PAGE_COLUMNS                                                                                         \
	"c.id, c.title, c.status, c.class, c.priority_level, c.priority_score, c.last_activity_at, "         \
	"c.message_count, c.holder_id, c.assignee_id"

/* branch - one keyset-ordered selection of page rows: the activity
 * order, or one part of the priority order (scored: 1 those with a
 * score, 0 those without) */
static void branch(FILE *m, const struct inbox_filter *f, const struct slots *n, int scored)
{
	fputs("(SELECT " PAGE_COLUMNS " FROM mailroom.conversations c WHERE c.merged_into IS NULL", m);
	where(m, f, n);
	if (f->priority)
		fputs(scored ? " AND c.priority_score IS NOT NULL" : " AND c.priority_score IS NULL", m);
	if (n->score)
		fprintf(m,
		        " AND (c.priority_score, c.last_activity_at, c.id) < ($%d::smallint, "
		        "$%d::timestamptz, $%d::bigint)",
		        n->score, n->ts, n->id);
	else if (n->ts)
		fprintf(m, " AND (c.last_activity_at, c.id) < ($%d::timestamptz, $%d::bigint)", n->ts, n->id);
	fprintf(m, " ORDER BY %s LIMIT %d)",
	        f->priority && scored ? "c.priority_score DESC NULLS LAST, c.last_activity_at DESC, c.id DESC"
	                              : "c.last_activity_at DESC, c.id DESC",
	        INBOX_PAGE + 1);
}

int inbox_list_sql(const struct inbox_filter *f, const char *me, const char *tz, struct inbox_sql *s)
{
	struct slots n;
	if (inbox_sql_open(s) < 0)
		return -1;
	bind(s, f, me, tz, 1, &n);
	FILE *m = s->mem;
	fprintf(
	    m,
	    "SELECT p.id, p.title, p.status, coalesce(p.class, 'unclassified'), p.priority_level,"
	    " p.priority_score::text, to_char(p.last_activity_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS'),"
	    " to_char(p.last_activity_at AT TIME ZONE $%d, 'YYYY-MM-DD HH24:MI'),"
	    " to_char(p.last_activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    " p.message_count, h.display_name, a.display_name,"
	    " (SELECT string_agg(l.name, E'\\x1f' ORDER BY l.name) FROM mailroom.conversation_labels cl"
	    " JOIN mailroom.labels l ON l.id = cl.label_id WHERE cl.conversation_id = p.id),"
	    " to_char(d.due AT TIME ZONE $%d, 'YYYY-MM-DD HH24:MI'),"
	    " to_char(d.due AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	    " NOT EXISTS (SELECT 1 FROM mailroom.conversation_reads r WHERE r.user_id = $%d::bigint"
	    " AND r.conversation_id = p.id AND r.read_at >= p.last_activity_at)"
	    " FROM (",
	    n.tz, n.tz, n.me);
	/* the priority order in two parts, each in the order of its index:
	 * scored rows first, then those without a score */
	if (!f->priority)
		branch(m, f, &n, 1);
	else if (!f->after.set || f->after.has_score) {
		branch(m, f, &n, 1);
		struct slots nulls = n;
		nulls.score = nulls.ts = nulls.id = 0;
		fputs(" UNION ALL ", m);
		branch(m, f, &nulls, 0);
	} else
		branch(m, f, &n, 0);
	fprintf(m,
	        ") p LEFT JOIN mailroom.users h ON h.id = p.holder_id LEFT JOIN mailroom.users a ON a.id = "
	        "p.assignee_id"
	        " LEFT JOIN LATERAL (SELECT min(x.due_at) AS due FROM (SELECT min(r.due_at) AS due_at"
	        " FROM mailroom.reminders r WHERE r.conversation_id = p.id AND r.state IN ('pending', "
	        "'snoozed', 'fired')"
	        " UNION ALL SELECT min(dl.due_at) FROM mailroom.deadlines dl WHERE dl.conversation_id = p.id"
	        " AND dl.state IN ('open', 'warned', 'breached')) x) d ON true"
	        " ORDER BY p.%s LIMIT %d",
	        f->priority ? "priority_score DESC NULLS LAST, p.last_activity_at DESC, p.id DESC"
	                    : "last_activity_at DESC, p.id DESC",
	        INBOX_PAGE + 1);
	return inbox_sql_close(s);
}

/* The counts run in the owner's functions of schema/021, which write the
 * conversations policy out so that the planner sees the user's inboxes
 * (docs/web.md, "Counts"). */
int inbox_counts_sql(const struct inbox_filter *f, struct inbox_sql *s)
{
	if (inbox_sql_open(s) < 0)
		return -1;
	int n_status = inbox_sql_param(s, f->value[IK_STATUS]);
	fprintf(s->mem, "SELECT 0, * FROM mailroom.inbox_counts($%d, %d)", n_status, INBOX_COUNT_CAP + 1);
	return inbox_sql_close(s);
}

int inbox_facets_sql(const struct inbox_filter *f, struct inbox_sql *s)
{
	if (inbox_sql_open(s) < 0)
		return -1;
	int n_status = inbox_sql_param(s, f->value[IK_STATUS]);
	FILE *m = s->mem;
	/* labels without a count: through conversation_labels' policy a count
	 * costs a hash of every visible conversation (docs/web.md) */
	fprintf(m,
	        "SELECT 'label', l.id, l.name, NULL FROM (SELECT id, name FROM mailroom.labels ORDER BY name "
	        "LIMIT %d) l",
	        INBOX_FACETS);
	fprintf(m,
	        " UNION ALL (SELECT 'folder', fc.id, fc.name, fc.n FROM mailroom.inbox_folder_counts($%d, "
	        "%d, %d) fc"
	        " ORDER BY fc.name)",
	        n_status, INBOX_COUNT_CAP + 1, INBOX_FACETS);
	fprintf(m,
	        " UNION ALL (SELECT 'inbox', NULL, a, NULL FROM unnest(mailroom.web_inboxes()) a ORDER BY a "
	        "LIMIT %d)"
	        " UNION ALL (SELECT 'user', u.id, u.display_name, NULL FROM mailroom.users u"
	        " WHERE u.active AND u.role <> 'auditor' ORDER BY u.display_name, u.id LIMIT %d)",
	        INBOX_FACETS, INBOX_USERS);
	return inbox_sql_close(s);
}

/* href_pair - one "&name=value" (or "?" first) of a link */
static void href_pair(FILE *out, int *first, const char *name, const char *value)
{
	fputs(*first ? "?" : "&amp;", out);
	*first = 0;
	fputs(name, out);
	fputc('=', out);
	esc_url(out, value);
}

void inbox_href(FILE *out, const char *sn, const struct inbox_filter *f, enum inbox_key k, const char *value)
{
	int first = 1;
	esc_attr(out, sn);
	fputc('/', out);
	for (int i = 0; i < IK_COUNT; i++) {
		const char *v = i == (int)k ? value : f->value[i];
		if (v == NULL || (i == IK_AFTER && (int)k != IK_AFTER) ||
		    (i == IK_STATUS && strcmp(v, "open") == 0))
			continue;
		href_pair(out, &first, key_names[i], i == IK_INBOX && i != (int)k ? f->inbox : v);
	}
}
