/* test-ical.c - iCalendar TEXT escaping, folding at 75 octets, CRLF. */
#include "ical.h"

#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* render - one content line through ical_text or ical_raw; malloc'd */
static char *render(const char *name, const char *value, int text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (text)
		ical_text(f, name, value);
	else
		ical_raw(f, name, value);
	fclose(f);
	return buf;
}

/* check_folding - every physical line at most 75 octets, continuation lines
 * start with a blank, no character split across lines */
static int check_folding(const char *s)
{
	const char *p = s;
	while (*p) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL || eol - p > 75)
			return 0;
		/* a line must not end inside a UTF-8 sequence */
		if (eol > p && ((unsigned char)eol[-1] & 0xC0) == 0xC0)
			return 0;
		if (eol > p + 1 && ((unsigned char)eol[-2] & 0xE0) == 0xE0 &&
		    ((unsigned char)eol[-1] & 0xC0) == 0x80)
			return 0;
		p = eol + 2;
		if (*p && *p != ' ')
			return 0;
		if (*p && (((unsigned char)p[1]) & 0xC0) == 0x80)
			return 0; /* continuation starts mid-character */
	}
	return 1;
}

/* unfold - remove CRLF + blank; malloc'd */
static char *unfold(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

int main(void)
{
	static const struct {
		const char *in, *want;
	} esc[] = {
	    {"plain", "SUMMARY:plain\r\n"},
	    {"a,b;c\\d", "SUMMARY:a\\,b\\;c\\\\d\r\n"},
	    {"line1\nline2", "SUMMARY:line1\\nline2\r\n"},
	    {"cr\rtab\there", "SUMMARY:cr tab here\r\n"},
	    {"inject\r\nEND:VEVENT", "SUMMARY:inject \\nEND:VEVENT\r\n"},
	    {"", "SUMMARY:\r\n"},
	};
	for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		char *got = render("SUMMARY", esc[i].in, 1);
		is_str(got, esc[i].want, "escape %zu", i);
		free(got);
	}

	char *raw = render("DTSTART", "20261122T130000Z", 0);
	is_str(raw, "DTSTART:20261122T130000Z\r\n", "raw value unchanged");
	free(raw);

	FILE *f;
	char *buf = NULL;
	size_t len = 0;
	f = open_memstream(&buf, &len);
	ical_utc(f, "DTSTAMP", (time_t)0);
	fclose(f);
	is_str(buf, "DTSTAMP:19700101T000000Z\r\n", "UTC time");
	free(buf);

	/* long ASCII and long multi-byte values fold within 75 octets and unfold back */
	char ascii[400], umlauts[600], want[700];
	memset(ascii, 'x', sizeof(ascii) - 1);
	ascii[sizeof(ascii) - 1] = '\0';
	size_t used = 0;
	for (int i = 0; i < 100; i++) /* 2- and 3-byte characters at shifting offsets */
		used += (size_t)snprintf(umlauts + used, sizeof(umlauts) - used, "%s", i % 3 ? "ä" : "€x");
	const char *values[] = {ascii, umlauts};
	for (size_t i = 0; i < 2; i++) {
		char *got = render("DESCRIPTION", values[i], 1);
		ok(check_folding(got), "value %zu folded at 75 octets, no character split", i);
		char *back = unfold(got);
		snprintf(want, sizeof(want), "DESCRIPTION:%s\r\n", values[i]);
		is_str(back, want, "value %zu unfolds to the original", i);
		ok(strlen(got) > strlen(want), "value %zu was folded", i);
		free(back);
		free(got);
	}
	/* an escape pair is never split by a fold */
	char commas[200];
	memset(commas, ',', sizeof(commas) - 1);
	commas[sizeof(commas) - 1] = '\0';
	char *got = render("SUMMARY", commas, 1);
	char *back = unfold(got);
	ok(strstr(got, "\\\r\n") == NULL, "no fold between a backslash and its character");
	ok(strlen(back) == strlen("SUMMARY:") + 2 * 199 + 2, "all commas escaped");
	free(back);
	free(got);
	return done_testing();
}
