/* test-custcheck.c - the checks of the customer file (webui-cgi/custcheck.c):
 * path ids, section filters, a task's due time, a template's label list;
 * table-driven, got X, want Y. */
#include <string.h>

#include "customer.h"
#include "tap.h"

/* ids: 1-18 digits without a leading zero */
static void test_ids(void)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
	    {"1", 1},
	    {"42", 1},
	    {"123456789012345678", 1},
	    {"1234567890123456789", 0},
	    {"0", 0},
	    {"042", 0},
	    {"", 0},
	    {NULL, 0},
	    {"-1", 0},
	    {"4x2", 0},
	    {"12/note", 0},
	    {"new", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(cust_id_ok(cases[i].in), cases[i].want, "cust_id_ok(%s)",
		       cases[i].in != NULL ? cases[i].in : "NULL");
}

/* filters: each section all (default), open or done; anything else refuses the query */
static void test_filters(void)
{
	static const struct {
		const char *query;
		int want;
		const char *tasks, *notes;
	} cases[] = {
	    {"", 0, "all", "all"},
	    {"tasks=open", 0, "open", "all"},
	    {"tasks=done&notes=open", 0, "done", "open"},
	    {"notes=all&q=x", 0, "all", "all"},
	    {"tasks=later", -1, "", ""},
	    {"tasks=", -1, "", ""},
	    {"timeline=OPEN", -1, "", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct form q = {.n = 0};
		const char *f[SEC_N];
		is_int(form_parse(cases[i].query, strlen(cases[i].query), &q), 0, "parse '%s'",
		       cases[i].query);
		int r = cust_filters(&q, f);
		is_int(r, cases[i].want, "cust_filters('%s')", cases[i].query);
		if (r == 0) {
			is_str(f[SEC_TASKS], cases[i].tasks, "... tasks of '%s'", cases[i].query);
			is_str(f[SEC_NOTES], cases[i].notes, "... notes of '%s'", cases[i].query);
		}
		form_free(&q);
	}
}

/* due: a day (its start) or a datetime-local of a real day */
static void test_due(void)
{
	static const struct {
		const char *in;
		int want;
		const char *out;
	} cases[] = {
	    {"2026-12-01", 1, "2026-12-01T00:00"},
	    {"2026-12-01T09:30", 1, "2026-12-01T09:30"},
	    {"2028-02-29", 1, "2028-02-29T00:00"},
	    {"2026-02-29", 0, ""},
	    {"2026-02-30T10:00", 0, ""},
	    {"2026-12-01T24:00", 0, ""},
	    {"2026-12-01 09:30", 0, ""},
	    {"2026-12-01T09:30:00", 0, ""},
	    {"tomorrow", 0, ""},
	    {"", 0, ""},
	    {NULL, 0, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[17] = "";
		const char *in = cases[i].in != NULL ? cases[i].in : "NULL";
		is_int(cust_due_ok(cases[i].in, out), cases[i].want, "cust_due_ok(%s)", in);
		if (cases[i].want)
			is_str(out, cases[i].out, "... due case %zu", i);
	}
}

/* label lists: whole elements only */
static void test_labels(void)
{
	static const struct {
		const char *list, *id;
		int want;
	} cases[] = {
	    {"{1,2,3}", "2", 1}, {"{1,2,3}", "1", 1},  {"{1,2,3}", "3", 1},
	    {"{12,23}", "2", 0}, {"{12,23}", "12", 1}, {"{}", "1", 0},
	    {"{123}", "12", 0},  {"{123}", "23", 0},   {"{5}", "", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(cust_label_listed(cases[i].list, cases[i].id), cases[i].want,
		       "cust_label_listed(%s, %s)", cases[i].list, cases[i].id);
}

int main(void)
{
	test_ids();
	test_filters();
	test_due();
	test_labels();
	return done_testing();
}
