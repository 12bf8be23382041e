/* test-contacts.c - which domains, addresses and VIP values the CSV import takes. */
#include "contactfmt.h"

#include <stddef.h>

#include "tap.h"

static const struct {
	const char *domain;
	int good;
} domains[] = {
    {"kunde.example", 1},
    {"mail.kunde-gruppe.example", 1},
    {"xn--mller-kva.example", 1},
    {"a.b", 1},
    {"example", 0}, /* one label */
    {"", 0},
    {".kunde.example", 0}, /* empty label */
    {"kunde..example", 0},
    {"-kunde.example", 0}, /* hyphen at the start of a label */
    {"kunde-.example", 0},
    {"kun_de.example", 0},
    {"192.168.1.10", 0}, /* a number, not a name */
    {"m\xc3\xbcller.example", 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 1},  /* 63 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 0}, /* 64 */
};

static const struct {
	const char *addr;
	int good;
} addresses[] = {
    {"anna@kunde.example", 1},
    {"anna.muster+crm@kunde.example", 1},
    {"o'brien@kunde.example", 1},
    {"anna@", 0},
    {"@kunde.example", 0},
    {"anna", 0},
    {"anna@kunde", 0},
    {"anna@@kunde.example", 0},
    {".anna@kunde.example", 0},
    {"anna.@kunde.example", 0},
    {"an..na@kunde.example", 0},
    {"an na@kunde.example", 0},
    {"\"anna\"@kunde.example", 0},
    {"j\xc3\xb6rg@kunde.example", 0},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@kunde.example", 1},  /* 64 */
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@kunde.example", 0}, /* 65 */
};

static const struct {
	const char *text;
	int want;
} vips[] = {
    {"yes", 1}, {"YES", 1}, {"true", 1}, {"1", 1},  {"no", 0},    {"False", 0},
    {"0", 0},   {"", -1},   {"ja", -1},  {"2", -1}, {"yes ", -1},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		is_int(contacts_domain_check(domains[i].domain) == NULL, domains[i].good, "domain '%s' %s",
		       domains[i].domain, domains[i].good ? "accepted" : "refused");
	for (size_t i = 0; i < sizeof(addresses) / sizeof(addresses[0]); i++)
		is_int(contacts_address_check(addresses[i].addr) == NULL, addresses[i].good,
		       "address '%s' %s", addresses[i].addr, addresses[i].good ? "accepted" : "refused");
	for (size_t i = 0; i < sizeof(vips) / sizeof(vips[0]); i++)
		is_int(contacts_parse_vip(vips[i].text), vips[i].want, "vip '%s'", vips[i].text);
	is_str(contacts_column_names[COL_PHONES], "phones", "the last column is phones");
	is_int(contacts_column_max_chars[COL_ORGANISATION], 300,
	       "an organisation name is at most 300 characters");
	return done_testing();
}
