/* subject.c - normalise subjects for the threading fallback.
 *
 * Prefixes, case-insensitive, each optionally with a counter ("Re[2]:",
 * "Re^2:") and blanks before the colon: re, aw (de: Antwort), antw,
 * wg (de: weitergeleitet), fw, fwd, sv (nordic), vs (fi/sv), tr (fr),
 * rif (it), odp (pl), res (pt). A prefix counts only when a colon (ASCII
 * or full-width) follows, so "Rechnung" or "Awards" stay as they are.
 */
#include "subject.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const prefixes[] = {"antwort", "antw", "fwd", "odp", "res", "rif", "aw", "wg", "fw",
				       "re", "sv", "vs", "tr", NULL};

/* strip_prefix - length of one reply/forward prefix at s with its colon and blanks, 0 if none */
static size_t strip_prefix(const char *s)
{
	for (int i = 0; prefixes[i] != NULL; i++) {
		size_t n = strlen(prefixes[i]);
		if (strncasecmp(s, prefixes[i], n) != 0)
			continue;
		const char *p = s + n;
		if (*p == '[' || *p == '^') { /* Re[2]: Re^2: */
			const char *q = p + 1;
			while (isdigit((unsigned char)*q))
				q++;
			if (q == p + 1)
				continue;
			p = *p == '[' ? (*q == ']' ? q + 1 : p) : q;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ':')
			p++;
		else if (strncmp(p, "\xef\xbc\x9a", 3) == 0) /* full-width colon */
			p += 3;
		else
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		return (size_t)(p - s);
	}
	return 0;
}

int subject_key(const char *subject, char *buf, size_t len)
{
	int removed = 0;
	if (len == 0)
		return 0;
	buf[0] = '\0';
	if (subject == NULL)
		return 0;
	const char *s = subject;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = strip_prefix(s);
		if (n == 0)
			break;
		s += n;
		removed++;
	}
	size_t o = 0;
	int blank = 0;
	for (; *s && o + 1 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			blank = o > 0;
			continue;
		}
		if (blank && o + 2 < len)
			buf[o++] = ' ';
		blank = 0;
		buf[o++] = (char)(c < 0x80 ? tolower(c) : c);
	}
	buf[o] = '\0';
	return removed;
}
