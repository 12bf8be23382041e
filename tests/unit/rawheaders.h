/* rawheaders.h - a plain header scan for the tests: the unfolded values of
 * the fields of a raw message by name, as a struct hdrlookup. No decoding;
 * the tests' fields are ASCII.
 */
#ifndef MAILROOM_RAWHEADERS_H
#define MAILROOM_RAWHEADERS_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#define RAWHEADERS_SLOTS 8
#define RAWHEADERS_VALUE 1024

struct rawheaders {
	const char *raw;
	size_t len;
	char store[RAWHEADERS_SLOTS][RAWHEADERS_VALUE];
};

/* rawheaders_values - hdrlookup's values() over ctx, a struct rawheaders */
static size_t rawheaders_values(void *ctx, const char *name, const char **out, size_t max)
{
	struct rawheaders *rh = ctx;
	const char *p = rh->raw, *end = rh->raw + rh->len;
	size_t nlen = strlen(name), found = 0;
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		int match = (size_t)(end - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':';
		char *v = found < RAWHEADERS_SLOTS ? rh->store[found] : NULL;
		size_t vl = 0;
		const char *q = match ? p + nlen + 1 : p;
		for (;;) { /* the value, continuation lines joined */
			const char *le = memchr(q, '\n', (size_t)(end - q));
			const char *stop = le ? le : end;
			for (; match && q < stop; q++)
				if (*q != '\r' && v != NULL && vl + 1 < RAWHEADERS_VALUE)
					v[vl++] = *q;
			next = le ? le + 1 : end;
			if (next >= end || (*next != ' ' && *next != '\t'))
				break;
			q = next;
		}
		if (match) {
			if (v != NULL) {
				while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
					vl--;
				v[vl] = '\0';
				size_t lead = strspn(v, " \t");
				if (found < max)
					out[found] = v + lead;
			}
			found++;
		}
		p = next;
	}
	return found;
}

#endif
