/* test-actcheck.c - the checks of the team actions' form values
 * (webui-cgi/actcheck.c) and of a reminder's local due time
 * (lib/reminder.c): table-driven, got X, want Y. */
#include <string.h>

#include "act.h"
#include "reminder.h"
#include "tap.h"

/* ids: 1-18 digits, nothing else */
static void test_ids(void)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
	    {"1", 1},
	    {"0", 1},
	    {"123456789012345678", 1},
	    {"1234567890123456789", 0},
	    {"", 0},
	    {NULL, 0},
	    {"-1", 0},
	    {"1e3", 0},
	    {" 1", 0},
	    {"1 ", 0},
	    {"0x1", 0},
	    {"12/claim", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(id_ok(cases[i].in), cases[i].want, "id_ok(%s)",
		       cases[i].in != NULL ? cases[i].in : "NULL");
}

/* text: counted in characters; controls only in multi-line text */
static void test_text(void)
{
	static const struct {
		const char *in;
		size_t max;
		int multiline, want;
	} cases[] = {
	    {"a", 1, 0, 1},
	    {"", 5, 0, 0},
	    {"abc", 2, 0, 0},
	    {"\xc3\xa4\xc3\xb6", 2, 0, 1}, /* two characters, four bytes */
	    {"\xc3\xa4\xc3\xb6x", 2, 0, 0},
	    {"\xf0\x9f\x93\xa7", 1, 0, 1}, /* one character of four bytes */
	    {"two\nlines", 20, 0, 0},
	    {"two\nlines", 20, 1, 1},
	    {"tab\there", 20, 0, 0},
	    {"cr\r\nlf", 20, 1, 1},
	    {"<script>'; DROP TABLE x; --", 200, 0, 1}, /* checked as text, stored as text */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(text_ok(cases[i].in, cases[i].max, cases[i].multiline), cases[i].want,
		       "text_ok case %zu", i);
	ok(!text_ok(NULL, 10, 1), "text_ok(NULL) is false");
}

/* allowed values */
static void test_values(void)
{
	ok(one_of("customer", act_classes), "customer is a class");
	ok(one_of("unclassified", act_classes), "unclassified is a class");
	ok(!one_of("Customer", act_classes), "classes are lower case");
	ok(!one_of("spam", act_classes), "spam is no class");
	ok(one_of("urgent", act_levels) && one_of("low", act_levels), "urgent and low are levels");
	ok(!one_of("max", act_levels), "max is no level");
	ok(one_of("archived", act_statuses), "archived is a status");
	ok(!one_of("deleted", act_statuses), "deleted is no status");
	ok(!one_of(NULL, act_statuses), "a missing value is none");
}

/* a reminder's due time: YYYY-MM-DDTHH:MM of a real day */
static void test_due(void)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
	    {"2030-01-15T09:30", 1},
	    {"2028-02-29T00:00", 1},
	    {"2000-02-29T23:59", 1},
	    {"2030-12-31T23:59", 1},
	    {"2030-02-29T09:00", 0},
	    {"2100-02-29T09:00", 0},
	    {"2030-04-31T09:00", 0},
	    {"2030-13-01T09:00", 0},
	    {"2030-00-10T09:00", 0},
	    {"2030-01-00T09:00", 0},
	    {"2030-01-15T24:00", 0},
	    {"2030-01-15T09:60", 0},
	    {"1999-12-31T09:00", 0},
	    {"2030-01-15 09:30", 0},
	    {"2030-01-15", 0},
	    {"2030-01-15T09:30:00", 0},
	    {"2030-1-15T09:30", 0},
	    {"+030-01-15T09:30", 0},
	    {"", 0},
	    {NULL, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(reminder_local_ok(cases[i].in), cases[i].want, "reminder_local_ok(%s)",
		       cases[i].in != NULL ? cases[i].in : "NULL");
}

int main(void)
{
	test_ids();
	test_text();
	test_values();
	test_due();
	return done_testing();
}
