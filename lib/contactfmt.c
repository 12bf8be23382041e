/* contactfmt.c - what the CSV columns are called and which values they take.
 *
 * The limits are the schema's (schema/002_worker.sql): a value the check
 * here lets through is one the database accepts.
 */
#include "contactfmt.h"

#include <string.h>
#include <strings.h>

const char *const contacts_column_names[COL_COUNT] = {
    [COL_ORGANISATION] = "organisation",
    [COL_KIND] = "kind",
    [COL_DOMAINS] = "domains",
    [COL_VIP] = "vip",
    [COL_OWNER] = "owner",
    [COL_POSTAL_CODE] = "postal_code",
    [COL_CITY] = "city",
    [COL_SALUTATION] = "salutation",
    [COL_FIRST_NAME] = "first_name",
    [COL_LAST_NAME] = "last_name",
    [COL_EMAILS] = "emails",
    [COL_PHONES] = "phones",
};

const size_t contacts_column_max_chars[COL_COUNT] = {
    [COL_ORGANISATION] = 300, [COL_OWNER] = 200,      [COL_POSTAL_CODE] = 20, [COL_CITY] = 200,
    [COL_SALUTATION] = 100,   [COL_FIRST_NAME] = 200, [COL_LAST_NAME] = 200,
};

#define DOMAIN_MAX 253
#define LABEL_MAX  63
#define LOCAL_MAX  64
#define ADDR_MAX   254

const char *contacts_domain_check(const char *d)
{
	size_t len = strlen(d), label = 0, labels = 0;
	int digits_only = 1;

	for (const char *p = d; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return "is not an ASCII domain name (write it in its xn-- form)";
	if (len == 0 || len > DOMAIN_MAX)
		return "is not a domain name";
	for (size_t i = 0; i <= len; i++) {
		char c = d[i];
		if (c == '.' || c == '\0') {
			/* a label: 1..63 characters, no hyphen at either end */
			if (label == 0 || label > LABEL_MAX || d[i - 1] == '-' || d[i - label] == '-')
				return "is not a domain name";
			labels++;
			if (c == '\0')
				break;
			label = 0;
			digits_only = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return "is not a domain name";
		if (c < '0' || c > '9')
			digits_only = 0;
		label++;
	}
	if (labels < 2)
		return "is not a domain name (it needs at least two labels, like kunde.example)";
	if (digits_only)
		return "is not a domain name (an address literal or a number)";
	return NULL;
}

/* is_atext - RFC 5322 atext: what a dot-atom local part is made of */
static int is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

const char *contacts_address_check(const char *a)
{
	const char *at = strrchr(a, '@');
	size_t len = strlen(a);

	for (const char *p = a; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return "is not a mail address (only ASCII addresses are kept)";
	if (at == NULL || len > ADDR_MAX || at == a || (size_t)(at - a) > LOCAL_MAX)
		return "is not a mail address";
	for (const char *p = a; p < at; p++) {
		if (*p == '.') {
			if (p == a || p + 1 == at || p[1] == '.')
				return "is not a mail address";
		} else if (!is_atext(*p)) {
			return "is not a mail address";
		}
	}
	if (contacts_domain_check(at + 1) != NULL)
		return "is not a mail address";
	return NULL;
}

int contacts_parse_vip(const char *s)
{
	static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};
	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}
