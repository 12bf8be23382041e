/* mailclass.c - class names, one table. */
#include "mailclass.h"

#include <stddef.h>
#include <string.h>

static const char *const names[MAILCLASS_COUNT] = {
    [MAILCLASS_UNCLASSIFIED] = "unclassified", [MAILCLASS_CUSTOMER] = "customer",
    [MAILCLASS_SUPPLIER] = "supplier",         [MAILCLASS_INTERNAL] = "internal",
    [MAILCLASS_NEWSLETTER] = "newsletter",     [MAILCLASS_ADVERTISING] = "advertising",
};

const char *mailclass_name(enum mail_class c)
{
	unsigned i = (unsigned)c;
	return i < MAILCLASS_COUNT ? names[i] : names[MAILCLASS_UNCLASSIFIED];
}

int mailclass_parse(const char *name, enum mail_class *out)
{
	for (unsigned i = 0; name != NULL && i < MAILCLASS_COUNT; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum mail_class)i;
			return 0;
		}
	}
	return -1;
}
