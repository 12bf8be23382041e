/* deadpolicy.c - parse and select response-deadline policies. */
#include "deadpolicy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const classes[] = {"customer",    "supplier",     "internal", "newsletter",
                                      "advertising", "unclassified", NULL};
static const char *const levels[] = {"urgent", "high", "normal", "low", NULL};

/* one_of - is the n bytes at s one of names? copies it into dst then */
static int one_of(const char *const *names, const char *s, size_t n, char *dst, size_t dstlen)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n && strncmp(names[i], s, n) == 0 && n < dstlen) {
			memcpy(dst, s, n);
			dst[n] = '\0';
			return 1;
		}
	return 0;
}

/* parse_count - a positive decimal number of n bytes at s, at most max; -1 if not */
static long parse_count(const char *s, size_t n, long max)
{
	char buf[16];
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	return errno == 0 && *end == '\0' && isdigit((unsigned char)buf[0]) && v > 0 && v <= max ? v : -1;
}

int deadpolicy_parse(const char *spec, struct deadpolicy *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->vip = -1;
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : 0;
	if (nlen == 0 || nlen >= sizeof(out->name)) {
		snprintf(err, errlen,
		         "deadline policy \"%s\": want NAME: [class=C] [level=L] [vip=yes|no] hours=N", spec);
		return -1;
	}
	for (size_t i = 0; i < nlen; i++)
		if (!isalnum((unsigned char)spec[i]) && strchr("_-.", spec[i]) == NULL) {
			snprintf(err, errlen,
			         "deadline policy \"%s\": the name may hold letters, digits, _ - .", spec);
			return -1;
		}
	memcpy(out->name, spec, nlen);
	const char *p = colon + 1;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		size_t len = strcspn(p, " ");
		const char *eq = memchr(p, '=', len);
		const char *v = eq ? eq + 1 : NULL;
		size_t klen = eq ? (size_t)(eq - p) : len, vlen = eq ? len - klen - 1 : 0;
		int good = 0;
		if (v == NULL)
			good = 0;
		else if (klen == 5 && strncmp(p, "class", 5) == 0)
			good = one_of(classes, v, vlen, out->klass, sizeof(out->klass));
		else if (klen == 5 && strncmp(p, "level", 5) == 0)
			good = one_of(levels, v, vlen, out->level, sizeof(out->level));
		else if (klen == 3 && strncmp(p, "vip", 3) == 0) {
			good = (vlen == 3 && strncmp(v, "yes", 3) == 0) ||
			       (vlen == 2 && strncmp(v, "no", 2) == 0);
			out->vip = vlen == 3;
		} else if (klen == 5 && strncmp(p, "hours", 5) == 0)
			good = (out->minutes = parse_count(v, vlen, 24L * 365) * 60) > 0;
		else if (klen == 7 && strncmp(p, "minutes", 7) == 0)
			good = (out->minutes = parse_count(v, vlen, 60L * 24 * 365)) > 0;
		if (!good) {
			snprintf(
			    err, errlen,
			    "deadline policy \"%s\": cannot use \"%.*s\" (class=%s, level=%s, vip=yes|no,"
			    " hours=N or minutes=N)",
			    spec, (int)len, p, "customer|supplier|...", "urgent|high|normal|low");
			return -1;
		}
		p += len;
	}
	if (out->minutes <= 0) {
		snprintf(err, errlen, "deadline policy \"%s\": hours=N or minutes=N is missing", spec);
		return -1;
	}
	return 0;
}

int deadpolicy_select(const struct deadpolicy *policies, size_t n, const char *klass, const char *level,
                      int vip)
{
	if (level == NULL || level[0] == '\0')
		level = "normal";
	for (size_t i = 0; i < n; i++) {
		const struct deadpolicy *p = &policies[i];
		if (p->klass[0] != '\0' && (klass == NULL || strcmp(p->klass, klass) != 0))
			continue;
		if (p->level[0] != '\0' && strcmp(p->level, level) != 0)
			continue;
		if (p->vip >= 0 && p->vip != (vip != 0))
			continue;
		return (int)i;
	}
	return -1;
}

const char *deadpolicy_covers(const struct deadpolicy *policies, size_t n, const char *klass,
                              const char *level)
{
	int other = deadpolicy_select(policies, n, klass, level, 0) >= 0;
	int vip = deadpolicy_select(policies, n, klass, level, 1) >= 0;
	return other && vip ? "any" : vip ? "vip" : other ? "other" : NULL;
}
