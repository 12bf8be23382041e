/* test-inboxquery.c - the inbox's filter parser, keyset cursor and
 * statements (webui-cgi/inboxquery.c), table-driven. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inboxquery.h"
#include "tap.h"

/* parse - inbox_filter_parse of a query string: 0 or -1 */
static int parse(const char *query, struct form *q, struct inbox_filter *f)
{
	char err[128];
	form_free(q);
	if (form_parse(query, strlen(query), q) < 0)
		return -2;
	return inbox_filter_parse(q, f, err, sizeof(err));
}

int main(void)
{
	static const struct {
		const char *query;
		int want;
	} cases[] = {
	    {"", 0},
	    {"status=open", 0},
	    {"status=all&unread=1&class=unclassified", 0},
	    {"status=bogus", -1},
	    {"status=", 0},
	    {"unread=0", -1},
	    {"class=Customer", -1},
	    {"org=12", 0},
	    {"org=012", -1},
	    {"org=0", -1},
	    {"org=1234567890123456789", -1},
	    {"assignee=me", 0},
	    {"assignee=none", 0},
	    {"assignee=7", 0},
	    {"assignee=you", -1},
	    {"label=-1", -1},
	    {"folder=3", 0},
	    {"inbox=Info@Example.COM", 0},
	    {"inbox=info", -1},
	    {"inbox=a@b@c", -1},
	    {"inbox=%40example.com", -1},
	    {"inbox=a%20b@example.com", -1},
	    {"older=1", 0},
	    {"older=3650", 0},
	    {"older=3651", -1},
	    {"older=0", -1},
	    {"from=2024-02-29", 0},
	    {"from=2023-02-29", -1},
	    {"from=2026-1-01", -1},
	    {"to=2026-12-31&from=2026-01-01", 0},
	    {"to=2026-01-01&from=2026-12-31", -1},
	    {"sort=priority", 0},
	    {"sort=size", -1},
	    {"after=a-20261122203410123456-5", 0},
	    {"after=a-20261122203410123456-5&sort=priority", -1},
	    {"after=p-100-20261122203410123456-5&sort=priority", 0},
	    {"after=p-n-20261122203410123456-5&sort=priority", 0},
	    {"after=p-101-20261122203410123456-5&sort=priority", -1},
	    {"after=p-07-20261122203410123456-5&sort=priority", -1},
	    {"after=a-20261122243410123456-5", -1},
	    {"after=a-2026112220341012345-5", -1},
	    {"after=a-20261122203410123456-0", -1},
	    {"after=a-20261122203410123456-5x", -1},
	};
	struct form q = {.n = 0};
	struct inbox_filter f;
	char name[160];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "parse(%s) = %d", cases[i].query, cases[i].want);
		ok(parse(cases[i].query, &q, &f) == cases[i].want, "%s", name);
	}

	/* q: 200 characters, not bytes */
	char query[1400] = "q=";
	size_t at = 2;
	for (int i = 0; i < 200; i++, at += 6)
		memcpy(query + at, "%C3%A4", 7);
	ok(parse(query, &q, &f) == 0, "q of 200 two-byte characters");
	memcpy(query + at, "x", 2);
	ok(parse(query, &q, &f) == -1, "q of 201 characters");

	/* defaults and the inbox in lower case */
	ok(parse("inbox=Info@Example.COM", &q, &f) == 0 && strcmp(f.value[IK_STATUS], "open") == 0 &&
	       !f.priority && strcmp(f.inbox, "info@example.com") == 0,
	   "status open by default, the inbox lowered");

	/* the cursor: what format writes, parse reads back */
	char cur[INBOX_CURSOR_MAX + 1];
	struct inbox_cursor c;
	ok(inbox_cursor_format(0, NULL, "20261122203410123456", "42", cur, sizeof(cur)) == 0 &&
	       strcmp(cur, "a-20261122203410123456-42") == 0,
	   "activity cursor written");
	ok(inbox_cursor_parse(cur, 0, &c) == 0 && c.set &&
	       strcmp(c.ts, "2026-11-22 20:34:10.123456+00") == 0 && strcmp(c.id, "42") == 0,
	   "activity cursor read back as a UTC timestamp and an id");
	ok(inbox_cursor_format(1, "0", "20261122203410123456", "42", cur, sizeof(cur)) == 0 &&
	       inbox_cursor_parse(cur, 1, &c) == 0 && c.has_score && c.score == 0,
	   "priority cursor with score 0");
	ok(inbox_cursor_format(1, NULL, "20261122203410123456", "42", cur, sizeof(cur)) == 0 &&
	       strcmp(cur, "p-n-20261122203410123456-42") == 0 && inbox_cursor_parse(cur, 1, &c) == 0 &&
	       !c.has_score,
	   "priority cursor without a score");
	ok(inbox_cursor_format(0, NULL, "2026112220341012345x", "42", cur, sizeof(cur)) == -1,
	   "a malformed time is refused");

	/* statements: values only as parameters */
	struct inbox_sql s;
	static const char evil[] = "q=%27%29%3B%20DROP%20TABLE%20x%3B%20--&label=5&inbox=a@b.example";
	ok(parse(evil, &q, &f) == 0, "an odd q parses");
	ok(inbox_list_sql(&f, "7", "Europe/Berlin", &s) == 0, "list statement built");
	ok(strstr(s.text, "DROP") == NULL && strstr(s.text, "a@b.example") == NULL,
	   "no value in the SQL text");
	int found = 0;
	for (int i = 0; i < s.n; i++)
		found += strcmp(s.param[i], "'); DROP TABLE x; --") == 0 || strcmp(s.param[i], "5") == 0 ||
		         strcmp(s.param[i], "a@b.example") == 0;
	ok(found == 3, "q, label and inbox are parameters");
	ok(strstr(s.text, "OFFSET") == NULL && strstr(s.text, "LIMIT 51") != NULL,
	   "a keyset page of 51 rows");
	inbox_sql_free(&s);
	ok(parse("sort=priority&after=p-50-20261122203410123456-9", &q, &f) == 0 &&
	       inbox_list_sql(&f, "7", "UTC", &s) == 0 && strstr(s.text, "UNION ALL (SELECT c.id") != NULL &&
	       strstr(s.text, "(c.priority_score, c.last_activity_at, c.id) <") != NULL,
	   "priority order: scored rows after the cursor, then those without a score");
	inbox_sql_free(&s);
	ok(parse("sort=priority&after=p-n-20261122203410123456-9", &q, &f) == 0 &&
	       inbox_list_sql(&f, "7", "UTC", &s) == 0 && strstr(s.text, "UNION ALL (SELECT c.id") == NULL &&
	       strstr(s.text, "priority_score IS NULL") != NULL,
	   "a cursor among the unscored rows skips the scored part");
	inbox_sql_free(&s);
	ok(inbox_counts_sql(&f, &s) == 0 && strstr(s.text, "inbox_counts($1, 101)") != NULL && s.n == 1 &&
	       strcmp(s.param[0], "open") == 0,
	   "counts: capped, the status a parameter");
	inbox_sql_free(&s);

	/* links keep the filters and drop the cursor */
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	ok(parse("class=customer&inbox=a@b.example&after=a-20261122203410123456-5", &q, &f) == 0,
	   "filters for a link");
	inbox_href(mem, "/m.cgi", &f, IK_STATUS, "closed");
	fclose(mem);
	ok(strcmp(buf, "/m.cgi/?status=closed&amp;class=customer&amp;inbox=a%40b.example") == 0, "link: %s",
	   buf);
	free(buf);
	form_free(&q);
	return done_testing();
}
