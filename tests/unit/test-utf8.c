/* test-utf8.c - repair of outside bytes for text columns. */
#include <stdlib.h>

#include "tap.h"
#include "utf8.h"

int main(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
	    {"plain", 5, "plain"},
	    {"Gr\xc3\xbc\xc3\x9f" "e", 7, "Gr\xc3\xbc\xc3\x9f" "e"},
	    {"M\xfcller", 6, "M\xef\xbf\xbdller"},	    /* Latin-1 byte */
	    {"a\0b", 3, "a b"},			    /* NUL */
	    {"tab\there\r\n", 10, "tab\there  "},	    /* controls */
	    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong '/' */
	    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	    {"\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd"},		 /* truncated */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = utf8_sanitize(cases[i].in, cases[i].len, 1000);
		is_str(got, cases[i].want, "sanitize case %zu", i);
		ok(utf8_valid(got, strlen(got)), "case %zu result is valid UTF-8", i);
		free(got);
	}
	char *capped = utf8_sanitize("abcdef", 6, 3);
	is_str(capped, "abc", "input beyond the cap is dropped");
	free(capped);
	ok(!utf8_valid("\xff", 1), "0xff is not UTF-8");
	ok(utf8_valid("\xf0\x9f\x93\xa7", 4), "a four-byte sequence is UTF-8");
	return done_testing();
}
