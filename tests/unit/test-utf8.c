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
	static const struct {
		const char *in;
		size_t len, max;
		const char *want;
	} text_cases[] = {
	    {"two\nlines\n", 10, 100, "two\nlines\n"},		 /* LF stays */
	    {"crlf\r\nline\r\n", 12, 100, "crlf\nline\n"},	 /* CR LF becomes LF */
	    {"old\rmac\r", 8, 100, "old\nmac\n"},		 /* a lone CR too */
	    {"tab\tbell\x07nul\0del\x7f", 17, 100, "tab\tbell nul del "}, /* other controls */
	    {"M\xfcller\n", 7, 100, "M\xef\xbf\xbdller\n"},	 /* Latin-1 byte */
	    {"abcdef", 6, 3, "abc"},				 /* the cap */
	    {"\xc3\xa4\xc3\xb6\xc3\xbc", 6, 5, "\xc3\xa4\xc3\xb6"},	 /* never half a character */
	    {"\xff\xff", 2, 4, "\xef\xbf\xbd"},			 /* the cap counts output bytes */
	    {"", 0, 100, ""},
	};
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		char *got = utf8_sanitize_text(text_cases[i].in, text_cases[i].len, text_cases[i].max);
		is_str(got, text_cases[i].want, "sanitize_text case %zu", i);
		ok(got && utf8_valid(got, strlen(got)) && strlen(got) <= text_cases[i].max,
		   "sanitize_text case %zu: valid UTF-8 within the cap", i);
		free(got);
	}
	ok(!utf8_valid("\xff", 1), "0xff is not UTF-8");
	ok(utf8_valid("\xf0\x9f\x93\xa7", 4), "a four-byte sequence is UTF-8");
	return done_testing();
}
