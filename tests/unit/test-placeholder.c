/* test-placeholder.c - mail template placeholders (webui-cgi/placeholder.c):
 * table-driven, got X, want Y. */
#include <stdlib.h>
#include <string.h>

#include "placeholder.h"
#include "tap.h"

/* check: known and closed placeholders pass, the rest names the culprit */
static void test_check(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *bad;
	} cases[] = {
	    {"Dear {{salutation}} {{last_name}},", 0, ""},
	    {"no placeholder at all", 0, ""},
	    {"{{first_name}}{{organisation}}{{agent_name}}{{agent_email}}{{inbox}}{{subject}}", 0, ""},
	    {"single { braces } are text", 0, ""},
	    {"Hello {{firstname}}", -1, "{{firstname}}"},
	    {"Hello {{ first_name }}", -1, "{{ first_name }}"},
	    {"Hello {{first_name", -1, "{{first_name"},
	    {"{{password}}", -1, "{{password}}"},
	    {"{{}}", -1, "{{}}"},
	    {"ok {{inbox}} then {{evil}}", -1, "{{evil}}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char bad[128] = "";
		is_int(placeholder_check(cases[i].in, bad, sizeof(bad)), cases[i].rc, "check \"%s\"",
		       cases[i].in);
		is_str(bad, cases[i].bad, "  the offending placeholder");
	}
}

/* expand: every known placeholder replaced, unknown ones kept, NULL as "" */
static void test_expand(void)
{
	const char *v[PH_COUNT] = {"Ms", "Dora", "Last", "ACME", "Ann", "ann@example.com", "info@example.com",
	                           NULL};
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"Dear {{salutation}} {{last_name}},", "Dear Ms Last,"},
	    {"{{first_name}} at {{organisation}}", "Dora at ACME"},
	    {"{{agent_name}} <{{agent_email}}> via {{inbox}}", "Ann <ann@example.com> via info@example.com"},
	    {"Re: [{{subject}}]", "Re: []"},
	    {"{{unknown}} {{first_name}}", "{{unknown}} Dora"},
	    {"{{first_name", "{{first_name"},
	    {"{{{{first_name}}}}", "{{Dora}}"},
	    {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = placeholder_expand(cases[i].in, v);
		is_str(got, cases[i].want, "expand \"%s\"", cases[i].in);
		free(got);
	}
}

int main(void)
{
	test_check();
	test_expand();
	return done_testing();
}
