/* test-classify.c - each class and each step of the order in classify.h,
 * with a fake address book from tables and messages through mimeparse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "rawheaders.h"
#include "tap.h"

/* --- the fake address book --------------------------------------------------- */

static const struct {
	const char *addr;
	struct classify_contact c;
} contacts[] = {
    {"anna@kunde.example", {101, 12, CLASSIFY_ORG_CUSTOMER, 0}},
    {"lieferant@supply.example", {102, 20, CLASSIFY_ORG_SUPPLIER, 0}},
    {"bob@other.example", {103, 30, CLASSIFY_ORG_OTHER, 0}},
    {"max@gmail.com", {104, 12, CLASSIFY_ORG_CUSTOMER, 1}},
    {"solo@nowhere.example", {105, 0, CLASSIFY_ORG_OTHER, 0}},
    {"solo2@kunde.example", {106, 0, CLASSIFY_ORG_OTHER, 1}},
};

static const struct {
	const char *domain;
	struct classify_org o;
} domains[] = {
    {"kunde.example", {12, CLASSIFY_ORG_CUSTOMER, 0}},
    {"supply.example", {20, CLASSIFY_ORG_SUPPLIER, 1}},
    {"other.example", {30, CLASSIFY_ORG_OTHER, 0}},
    /* wrong entries a careless import could make: classify must never use them */
    {"gmail.com", {99, CLASSIFY_ORG_CUSTOMER, 0}},
    {"freemail.example", {98, CLASSIFY_ORG_CUSTOMER, 0}},
};

struct book {
	char asked_domains[16][64];
	size_t n_domains;
	size_t address_lookups;
};

static int fake_address(void *ctx, const char *addr, struct classify_contact *out)
{
	struct book *b = ctx;
	b->address_lookups++;
	if (strcmp(addr, "broken@kunde.example") == 0)
		return -1;
	for (size_t i = 0; i < sizeof(contacts) / sizeof(contacts[0]); i++) {
		if (strcmp(addr, contacts[i].addr) == 0) {
			*out = contacts[i].c;
			return 1;
		}
	}
	return 0;
}

static int fake_domain(void *ctx, const char *domain, struct classify_org *out)
{
	struct book *b = ctx;
	if (b->n_domains < 16)
		snprintf(b->asked_domains[b->n_domains++], 64, "%s", domain);
	if (strcmp(domain, "broken.example") == 0)
		return -1;
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		if (strcmp(domain, domains[i].domain) == 0) {
			*out = domains[i].o;
			return 1;
		}
	}
	return 0;
}

static int fake_freemail(void *ctx, const char *domain)
{
	return strcmp(domain, "freemail.example") == 0;
}

static int fake_own(void *ctx, const char *domain)
{
	return strcmp(domain, "us.example") == 0;
}

static const char rules_json[] =
    "[{\"id\":7,\"position\":1,\"name\":\"Invoices\",\"conditions\":[{\"field\":\"subject\",\"pattern\":"
    "\"rechnung\"}],\"actions\":{\"set_class\":\"supplier\",\"add_label\":\"invoice\"}},"
    "{\"id\":8,\"position\":2,\"conditions\":[{\"field\":\"subject\",\"pattern\":\"viagra\"}],"
    "\"actions\":{\"set_class\":\"advertising\"}},"
    "{\"id\":9,\"position\":3,\"conditions\":[{\"field\":\"subject\",\"pattern\":\"^Projekt Nord\"}],"
    "\"actions\":{\"set_organisation\":55}},"
    "{\"id\":10,\"position\":4,\"conditions\":[{\"field\":\"header:X-Mailer\",\"pattern\":\"^SAP\"},"
    "{\"field\":\"recipients\",\"pattern\":\"^service@\"},{\"field\":\"sender\",\"pattern\":\"^bounces@\"}],"
    "\"actions\":{\"add_label\":\"sap\"}},"
    "{\"id\":11,\"position\":5,\"conditions\":[{\"field\":\"subject\",\"pattern\":\"^intern:\"}],"
    "\"actions\":{\"set_class\":\"internal\"}}]";

/* --- the cases ------------------------------------------------------------------ */

#define IN       "inbound"
#define OUT      "outbound"
#define NONE     CLASSIFY_BY_NONE
#define RULE     CLASSIFY_BY_RULE
#define INTERNAL CLASSIFY_BY_INTERNAL
#define CONTACT  CLASSIFY_BY_CONTACT
#define DOMAIN   CLASSIFY_BY_DOMAIN
#define BULK     CLASSIFY_BY_BULK

struct cls_case {
	const char *name;
	const char *direction;
	const char *headers; /* From, To, Subject ... each ending in \n */
	const char *env_from;
	const char *env_rcpt; /* one envelope recipient, or NULL */
	enum mail_class class;
	enum classify_decider by;
	long long org, contact;
	int vip;
	unsigned flags;
	const char *reason; /* a part of the reason to expect */
};

static const struct cls_case cases[] = {
    /* c) contact */
    {"contact of a customer", IN, "From: Anna <anna@kunde.example>\nTo: info@us.example\nSubject: Angebot\n",
     "anna@kunde.example", "info@us.example", MAILCLASS_CUSTOMER, CONTACT, 12, 101, 0, 0,
     "From anna@kunde.example is a contact of organisation 12 (customer)"},
    {"contact of a supplier", IN, "From: lieferant@supply.example\nSubject: Lieferung\n", NULL, NULL,
     MAILCLASS_SUPPLIER, CONTACT, 20, 102, 0, 0, "organisation 20 (supplier)"},
    {"contact of an organisation of kind other", IN, "From: bob@other.example\nSubject: Hallo\n", NULL, NULL,
     MAILCLASS_UNCLASSIFIED, CONTACT, 30, 103, 0, 0, "organisation 30 (other), a kind that gives no class"},
    {"a contact on free mail maps by address", IN, "From: max@gmail.com\nSubject: Frage\n", NULL, NULL,
     MAILCLASS_CUSTOMER, CONTACT, 12, 104, 1, 0, "From max@gmail.com is a contact of organisation 12"},
    {"a contact without organisation", IN, "From: solo@nowhere.example\nSubject: Frage\n", NULL, NULL,
     MAILCLASS_UNCLASSIFIED, CONTACT, 0, 105, 0, 0, "is a contact without an organisation"},
    {"a contact without organisation, its domain has one", IN, "From: solo2@kunde.example\nSubject: Frage\n",
     NULL, NULL, MAILCLASS_CUSTOMER, DOMAIN, 12, 106, 1, 0,
     "From domain kunde.example belongs to organisation 12"},
    {"a bulk mail from a contact stays the contact's", IN,
     "From: anna@kunde.example\nSubject: News\nList-Id: <news.kunde.example>\n", NULL, NULL,
     MAILCLASS_CUSTOMER, CONTACT, 12, 101, 0, MSGFLAG_MAILING_LIST, "is a contact"},
    /* d) domain */
    {"domain of a customer", IN, "From: sales@kunde.example\nSubject: Angebot\n", NULL, NULL,
     MAILCLASS_CUSTOMER, DOMAIN, 12, 0, 0, 0,
     "From domain kunde.example belongs to organisation 12 (customer)"},
    {"a subdomain maps through its parent", IN, "From: noreply@mail.eu.kunde.example\nSubject: Angebot\n",
     NULL, NULL, MAILCLASS_CUSTOMER, DOMAIN, 12, 0, 0, 0, "mail.eu.kunde.example is under kunde.example"},
    {"domain of an organisation of kind other", IN, "From: info@other.example\nSubject: Hallo\n", NULL, NULL,
     MAILCLASS_UNCLASSIFIED, DOMAIN, 30, 0, 0, 0, "belongs to organisation 30 (other)"},
    {"domain of a VIP supplier", IN, "From: ar@supply.example\nSubject: Zahlung\n", NULL, NULL,
     MAILCLASS_SUPPLIER, DOMAIN, 20, 0, 1, 0, "(supplier)"},
    {"bulk from a known domain stays the organisation's", IN,
     "From: news@kunde.example\nSubject: News\nList-Unsubscribe: <mailto:u@kunde.example>\n", NULL, NULL,
     MAILCLASS_CUSTOMER, DOMAIN, 12, 0, 0, MSGFLAG_MAILING_LIST, "belongs to organisation 12"},
    {"free mail never maps by domain (built-in list)", IN, "From: someone@gmail.com\nSubject: Frage\n", NULL,
     NULL, MAILCLASS_UNCLASSIFIED, NONE, 0, 0, 0, 0, "free-mail domain"},
    {"free mail never maps by domain (callback)", IN, "From: x@freemail.example\nSubject: Frage\n", NULL,
     NULL, MAILCLASS_UNCLASSIFIED, NONE, 0, 0, 0, 0, "free-mail domain"},
    {"free mail never maps, not even through a subdomain", IN,
     "From: x@eu.freemail.example\nSubject: Frage\n", NULL, NULL, MAILCLASS_UNCLASSIFIED, NONE, 0, 0, 0, 0,
     "free-mail domain"},
    /* e) bulk */
    {"bulk from a stranger is a newsletter", IN,
     "From: News <news@shop.example>\nSubject: Angebote\nList-Unsubscribe: <mailto:u@shop.example>\n",
     "bounce@shop.example", NULL, MAILCLASS_NEWSLETTER, BULK, 0, 0, 0, MSGFLAG_MAILING_LIST,
     "news@shop.example is not in the address book and the message is bulk mail"},
    {"bulk from free mail is a newsletter", IN, "From: club@gmail.com\nSubject: Termine\nPrecedence: list\n",
     NULL, NULL, MAILCLASS_NEWSLETTER, BULK, 0, 0, 0, MSGFLAG_MAILING_LIST, "bulk mail"},
    /* f) none */
    {"a stranger", IN, "From: fremd@unknown.example\nSubject: Frage\n", NULL, NULL, MAILCLASS_UNCLASSIFIED,
     NONE, 0, 0, 0, 0, "From fremd@unknown.example is not in the address book"},
    {"no From: the envelope sender is the counterpart", IN, "Subject: Frage\n", "<anna@kunde.example>", NULL,
     MAILCLASS_CUSTOMER, CONTACT, 12, 101, 0, 0, "Envelope sender anna@kunde.example is a contact"},
    {"no From and the null sender: no counterpart", IN, "Subject: Frage\n", "<>", NULL,
     MAILCLASS_UNCLASSIFIED, NONE, 0, 0, 0, 0, "names no counterpart"},
    /* b) internal */
    {"direction internal", "internal", "From: kollege@us.example\nTo: info@us.example\nSubject: Mittag\n",
     "kollege@us.example", "info@us.example", MAILCLASS_INTERNAL, INTERNAL, 0, 0, 0, 0, "internal"},
    {"outbound to our own domains only", OUT, "From: info@us.example\nTo: kollege@us.example\nSubject: x\n",
     "info@us.example", "kollege@us.example", MAILCLASS_INTERNAL, INTERNAL, 0, 0, 0, 0,
     "Every recipient is in our own domains"},
    {"inbound claiming our own domain is not internal", IN, "From: chef@us.example\nSubject: Bitte zahlen\n",
     "chef@us.example", NULL, MAILCLASS_UNCLASSIFIED, NONE, 0, 0, 0, 0,
     "claims one of our own domains from outside"},
    /* outbound counterparts */
    {"outbound: the first recipient outside", OUT,
     "From: info@us.example\nTo: kollege@us.example\nCc: anna@kunde.example, bob@other.example\nSubject: x\n",
     "info@us.example", NULL, MAILCLASS_CUSTOMER, CONTACT, 12, 101, 0, 0,
     "Cc anna@kunde.example is a contact"},
    {"outbound: a Bcc recipient from the envelope", OUT,
     "From: info@us.example\nTo: kollege@us.example\nSubject: x\n", "info@us.example",
     "<lieferant@supply.example>", MAILCLASS_SUPPLIER, CONTACT, 20, 102, 0, 0,
     "Recipient lieferant@supply.example"},
    {"outbound to a local name only: no counterpart, not internal", OUT,
     "From: info@us.example\nTo: root\nSubject: x\n", "info@us.example", "root", MAILCLASS_UNCLASSIFIED, NONE,
     0, 0, 0, 0, "names no counterpart"},
    {"outbound to a stranger", OUT, "From: info@us.example\nTo: fremd@unknown.example\nSubject: x\n",
     "info@us.example", NULL, MAILCLASS_UNCLASSIFIED, NONE, 0, 0, 0, 0, "To fremd@unknown.example is not"},
    /* a) rules */
    {"a rule overrides the address book", IN, "From: anna@kunde.example\nSubject: Ihre Rechnung 4711\n", NULL,
     NULL, MAILCLASS_SUPPLIER, RULE, 12, 101, 0, 0, "Rule 7 \"Invoices\" sets the class supplier"},
    {"a rule gives advertising", IN, "From: spam@unknown.example\nSubject: cheap viagra\n", NULL, NULL,
     MAILCLASS_ADVERTISING, RULE, 0, 0, 0, 0, "Rule 8 sets the class advertising"},
    {"a rule overrides bulk", IN, "From: news@shop.example\nSubject: Rechnung\nList-Id: <x.shop.example>\n",
     NULL, NULL, MAILCLASS_SUPPLIER, RULE, 0, 0, 0, MSGFLAG_MAILING_LIST, "Rule 7"},
    {"a rule overrides internal", "internal", "From: a@us.example\nSubject: Rechnung\n", NULL, NULL,
     MAILCLASS_SUPPLIER, RULE, 0, 0, 0, 0, "Rule 7"},
    {"a rule can make mail that claims our domain internal", IN,
     "From: shop@us.example\nSubject: intern: x\n", NULL, NULL, MAILCLASS_INTERNAL, RULE, 0, 0, 0, 0,
     "Rule 11"},
    {"a rule's organisation beats the book's, the class stays the contact's", IN,
     "From: anna@kunde.example\nSubject: Projekt Nord\n", NULL, NULL, MAILCLASS_CUSTOMER, CONTACT, 55, 101, 0,
     0, "organisation 12 (customer)"},
    /* flags beside the class */
    {"a bounce from a customer's server", IN,
     "From: MAILER-DAEMON@kunde.example\nSubject: Undelivered Mail Returned to Sender\n", "", NULL,
     MAILCLASS_CUSTOMER, DOMAIN, 12, 0, 0, MSGFLAG_BOUNCE, "kunde.example"},
    {"an out-of-office from a contact", IN,
     "From: anna@kunde.example\nSubject: Abwesenheitsnotiz: Angebot\nAuto-Submitted: auto-replied\n", NULL,
     NULL, MAILCLASS_CUSTOMER, CONTACT, 12, 101, 0, MSGFLAG_AUTO_REPLY | MSGFLAG_OUT_OF_OFFICE,
     "is a contact"},
};

/* run - one case through mimeparse and classify; 0 or -1 */
static int run(const char *name, const char *raw, const char *direction, const char *env_from,
               const char *env_rcpt, const struct ruleset *rs, struct book *book, struct classification *out,
               char *err, size_t errlen)
{
	struct mp_message m;
	char perr[256];
	if (mimeparse_message(raw, strlen(raw), NULL, &m, perr, sizeof(perr)) < 0) {
		ok(0, "%s: mimeparse: %s", name, perr);
		return -1;
	}
	struct rawheaders rh = {.raw = raw, .len = strlen(raw)};
	struct hdrlookup hl = {rawheaders_values, &rh};
	const char *rcpts[1] = {env_rcpt};
	struct classify_input in = {&m, env_from, rcpts, env_rcpt ? 1 : 0, direction, &hl};
	struct classify_addrbook ab = {fake_address, fake_domain, fake_freemail, fake_own, book};
	int rc = classify_message(&in, &ab, rs, out, err, errlen);
	mimeparse_free(&m);
	return rc;
}

static void test_cases(const struct ruleset *rs)
{
	char raw[2048], err[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cls_case *c = &cases[i];
		struct classification out;
		struct book book = {.n_domains = 0};
		snprintf(raw, sizeof(raw), "%sMessage-ID: <%zu@test>\n\nHello.\n", c->headers, i);
		if (run(c->name, raw, c->direction, c->env_from, c->env_rcpt, rs, &book, &out, err,
		        sizeof(err)) < 0) {
			ok(0, "%s: %s", c->name, err);
			continue;
		}
		is_str(mailclass_name(out.class), mailclass_name(c->class), "%s: class", c->name);
		is_str(classify_decider_name(out.decided_by), classify_decider_name(c->by), "%s: decided by",
		       c->name);
		is_int(out.organisation_id, c->org, "%s: organisation", c->name);
		is_int(out.contact_id, c->contact, "%s: contact", c->name);
		is_int(out.vip, c->vip, "%s: vip", c->name);
		is_int(out.flags, c->flags, "%s: flags (%s)", c->name, out.flags_why);
		if (!ok(strstr(out.reason, c->reason) != NULL, "%s: reason", c->name))
			printf("#   got \"%s\", want it to hold \"%s\"\n", out.reason, c->reason);
		is_int(out.rule_id, c->by == RULE ? out.rules.class_rule : 0, "%s: rule id", c->name);
		for (size_t k = 0; k < book.n_domains; k++)
			ok(strcmp(book.asked_domains[k], "gmail.com") != 0 &&
			       strstr(book.asked_domains[k], "freemail.example") == NULL,
			   "%s: the book is never asked for a free-mail domain (%s)", c->name,
			   book.asked_domains[k]);
	}
}

/* test_details - what the table does not show */
static void test_details(const struct ruleset *rs)
{
	struct classification out;
	struct book book = {.n_domains = 0};
	char err[256];

	/* the rule's other actions, the counterpart, labels; rules see the envelope and the lookup */
	const char sap[] =
	    "From: anna@kunde.example\nTo: info@us.example\nSubject: Rechnung\nX-Mailer: SAP R/3\n\nx\n";
	if (run("sap", sap, IN, "<bounces@kunde.example>", "<service@us.example>", rs, &book, &out, err,
	        sizeof(err)) == 0) {
		is_str(out.counterpart, "anna@kunde.example", "the counterpart");
		is_int(out.rules.n_labels, 2, "labels of two rules");
		is_str(out.rules.n_labels > 1 ? out.rules.labels[1] : NULL, "sap",
		       "a rule on a header, an envelope recipient and the envelope sender fired");
		is_int(out.rules.n_fired, 2, "two rules fired");
	}

	/* the built-in free-mail list alone, without callbacks */
	ok(classify_freemail_builtin("gmail.com") && classify_freemail_builtin("web.de") &&
	       !classify_freemail_builtin("kunde.example") && !classify_freemail_builtin(NULL),
	   "the built-in free-mail list");

	/* an inbound claim of our own domain is not asked of the book */
	book = (struct book){.n_domains = 0};
	if (run("own", "From: chef@us.example\nSubject: x\n\nx\n", IN, NULL, NULL, rs, &book, &out, err,
	        sizeof(err)) == 0)
		ok(book.address_lookups == 0 && book.n_domains == 0,
		   "a claim of our own domain is not looked up");

	/* errors */
	book = (struct book){.n_domains = 0};
	is_int(run("broken address", "From: broken@kunde.example\nSubject: x\n\nx\n", IN, NULL, NULL, rs,
	           &book, &out, err, sizeof(err)),
	       -1, "a failing address lookup fails the call");
	is_str(err, "address book: looking up broken@kunde.example failed", "its message");
	is_int(run("broken domain", "From: x@broken.example\nSubject: x\n\nx\n", IN, NULL, NULL, rs, &book,
	           &out, err, sizeof(err)),
	       -1, "a failing domain lookup fails the call");
	is_str(err, "address book: looking up the domain broken.example failed", "its message");
	is_int(run("direction", "From: a@b.example\n\nx\n", "sideways", NULL, NULL, rs, &book, &out, err,
	           sizeof(err)),
	       -1, "an unknown direction fails");
	is_str(err, "unknown direction \"sideways\"", "its message");
	is_int(classify_message(NULL, NULL, NULL, &out, err, sizeof(err)), -1, "no input fails");

	/* no address book, no rules, no direction: still an answer */
	struct mp_message m;
	const char raw[] = "From: anna@kunde.example\nSubject: x\nList-Id: <l.example>\n\nx\n";
	if (mimeparse_message(raw, sizeof(raw) - 1, NULL, &m, err, sizeof(err)) == 0) {
		struct classify_input in = {.msg = &m};
		is_int(classify_message(&in, NULL, NULL, &out, err, sizeof(err)), 0, "no book, no rules");
		is_str(mailclass_name(out.class), "newsletter", "no book: bulk is a newsletter");
		struct classify_addrbook empty = {0};
		is_int(classify_message(&in, &empty, NULL, &out, err, sizeof(err)), 0,
		       "a book without callbacks");
		is_str(classify_decider_name(out.decided_by), "bulk",
		       "a book without callbacks knows nobody");
		mimeparse_free(&m);
	}
}

/* test_names - the name tables */
static void test_names(void)
{
	static const char *const classes[] = {"unclassified", "customer",   "supplier",
	                                      "internal",     "newsletter", "advertising"};
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		enum mail_class c;
		is_int(mailclass_parse(classes[i], &c), 0, "parse %s", classes[i]);
		is_str(mailclass_name(c), classes[i], "name of %s", classes[i]);
	}
	enum mail_class c;
	is_int(mailclass_parse("Customer", &c), -1, "class names are exact");
	is_int(mailclass_parse(NULL, &c), -1, "no name");
	is_str(mailclass_name((enum mail_class)99), "unclassified", "an unknown class value");
	static const char *const by[] = {"none", "rule", "internal", "contact", "domain", "bulk"};
	for (int i = 0; i < 6; i++)
		is_str(classify_decider_name((enum classify_decider)i), by[i], "decider %d", i);
	is_str(classify_decider_name((enum classify_decider)42), "none", "an unknown decider");
	is_str(classify_org_kind_name(CLASSIFY_ORG_SUPPLIER), "supplier", "org kind name");
}

int main(void)
{
	struct ruleset *rs = NULL;
	char err[512];
	mimeparse_init();
	if (!ok(rules_compile(rules_json, &rs, err, sizeof(err)) == 0, "the test rules compile: %s", err))
		return done_testing();
	test_cases(rs);
	test_details(rs);
	test_names();
	rules_free(&rs);
	return done_testing();
}
