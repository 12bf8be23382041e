/* placeholder.c - check and expand the placeholders of mail templates. */
#include "placeholder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[PH_COUNT] = {"salutation", "first_name",  "last_name", "organisation",
                                            "agent_name", "agent_email", "inbox",     "subject"};

/* lookup - the placeholder whose name is s[0..n), or -1 */
static int lookup(const char *s, size_t n)
{
	for (int i = 0; i < PH_COUNT; i++)
		if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0)
			return i;
	return -1;
}

/* at - the placeholder "{{name}}" starting at p: its index and *len, or -1 */
static int at(const char *p, size_t *len)
{
	if (strncmp(p, "{{", 2) != 0)
		return -1;
	const char *end = strstr(p + 2, "}}");
	if (end == NULL)
		return -1;
	*len = (size_t)(end - p) + 2;
	return lookup(p + 2, (size_t)(end - p) - 2);
}

int placeholder_check(const char *text, char *bad, size_t badlen)
{
	for (const char *p = strstr(text, "{{"); p != NULL; p = strstr(p, "{{")) {
		size_t len = 0;
		if (at(p, &len) < 0) {
			const char *end = strstr(p + 2, "}}");
			size_t n = end != NULL ? (size_t)(end - p) + 2 : strlen(p);
			snprintf(bad, badlen, "%.*s", (int)(n > 60 ? 60 : n), p);
			return -1;
		}
		p += len;
	}
	return 0;
}

char *placeholder_expand(const char *text, const char *const values[PH_COUNT])
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	if (f == NULL)
		return NULL;
	const char *p = text;
	for (const char *q = strstr(p, "{{"); q != NULL; q = strstr(p, "{{")) {
		size_t len = 0;
		int i = at(q, &len);
		fwrite(p, 1, (size_t)(q - p), f);
		if (i < 0) {
			fputs("{{", f);
			p = q + 2;
			continue;
		}
		fputs(values[i] != NULL ? values[i] : "", f);
		p = q + len;
	}
	fputs(p, f);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
