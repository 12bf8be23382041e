/* actcheck.c - the checks of the actions' form values: ids, text within a
 * character count, and the values a field may take. Plain functions
 * without the database, so that tests/unit/test-actcheck.c calls them. */
#include <string.h>

#include "act.h"

const char *const act_classes[] = {"customer",    "supplier",     "internal", "newsletter",
                                   "advertising", "unclassified", NULL};
const char *const act_levels[] = {"urgent", "high", "normal", "low", NULL};
const char *const act_statuses[] = {"open", "closed", "archived", NULL};

int id_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	return n >= 1 && n <= 18 && strspn(s, "0123456789") == n;
}

/* text_ok - characters are counted, not bytes; the form parser already
 * refused bad UTF-8 and every control character but tab, CR and LF */
int text_ok(const char *s, size_t max, int multiline)
{
	size_t chars = 0;
	if (s == NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 && !multiline)
			return 0;
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	return chars >= 1 && chars <= max;
}

int one_of(const char *s, const char *const *list)
{
	if (s == NULL)
		return 0;
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}
