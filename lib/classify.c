/* classify.c - the order of classify.h, step by step.
 *
 * One call allocates the rules' view of the sender and recipient
 * addresses (envelope addresses copied without <>) and frees it before it
 * returns. Everything else lives in struct classification, with fixed caps.
 */
#include "classify.h"
#include "direction.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOMAIN_MAX      254 /* RFC 1035's 253 and a NUL */
#define DOMAIN_WALK_MAX 8   /* lookups for one domain and its parents */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Large free-mail providers: a second line of defence behind is_freemail(). */
static const char *const freemail[] = {
    "aim.com",        "aol.com",     "arcor.de",    "bluewin.ch", "freenet.de",   "gmail.com",
    "gmx.at",         "gmx.ch",      "gmx.com",     "gmx.de",     "gmx.net",      "googlemail.com",
    "hotmail.co.uk",  "hotmail.com", "hotmail.de",  "icloud.com", "kabelmail.de", "live.com",
    "live.de",        "mac.com",     "mail.com",    "mail.ru",    "mailbox.org",  "me.com",
    "msn.com",        "online.de",   "outlook.com", "outlook.de", "posteo.de",    "proton.me",
    "protonmail.com", "t-online.de", "vodafone.de", "web.de",     "yahoo.co.uk",  "yahoo.com",
    "yahoo.de",       "yandex.com",  "yandex.ru",   "ymail.com",  "zoho.com",
};

/* The counterpart and where it came from. */
struct party {
	const char *role; /* "From", "To", ... for reasons */
	char addr[CLASSIFY_ADDR_MAX];
	char domain[DOMAIN_MAX];
};

__attribute__((format(printf, 2, 3))) static void reason(struct classification *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

const char *classify_decider_name(enum classify_decider d)
{
	static const char *const names[] = {
	    [CLASSIFY_BY_NONE] = "none",         [CLASSIFY_BY_RULE] = "rule",
	    [CLASSIFY_BY_INTERNAL] = "internal", [CLASSIFY_BY_CONTACT] = "contact",
	    [CLASSIFY_BY_DOMAIN] = "domain",     [CLASSIFY_BY_BULK] = "bulk"};
	return (unsigned)d < N_OF(names) ? names[d] : "none";
}

const char *classify_org_kind_name(enum classify_org_kind k)
{
	return k == CLASSIFY_ORG_CUSTOMER ? "customer" : k == CLASSIFY_ORG_SUPPLIER ? "supplier" : "other";
}

int classify_freemail_builtin(const char *domain)
{
	for (size_t i = 0; domain != NULL && i < N_OF(freemail); i++)
		if (strcmp(domain, freemail[i]) == 0)
			return 1;
	return 0;
}

/* kind_class - the class an organisation's kind gives */
static enum mail_class kind_class(enum classify_org_kind k)
{
	return k == CLASSIFY_ORG_CUSTOMER   ? MAILCLASS_CUSTOMER
	       : k == CLASSIFY_ORG_SUPPLIER ? MAILCLASS_SUPPLIER
	                                    : MAILCLASS_UNCLASSIFIED;
}

/* bare - addr without <> and blanks, the domain lower-cased, into buf; ""
 * when none or too long (a cut address could name somebody else) */
static const char *bare(const char *addr, char *buf, size_t len)
{
	address_bare(addr, buf, len);
	if (strlen(buf) >= len - 1) {
		buf[0] = '\0';
		return buf;
	}
	for (char *c = strrchr(buf, '@'); c != NULL && *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return buf;
}

/* set_party - a counterpart from an address; 0 when the address is unusable */
static int set_party(struct party *p, const char *role, const char *addr)
{
	bare(addr, p->addr, sizeof(p->addr));
	const char *at = strrchr(p->addr, '@');
	if (p->addr[0] == '\0' || at == NULL || at[1] == '\0')
		return 0;
	snprintf(p->domain, sizeof(p->domain), "%s", at + 1);
	size_t n = strlen(p->domain);
	if (n > 0 && p->domain[n - 1] == '.')
		p->domain[n - 1] = '\0';
	p->role = role;
	return p->domain[0] != '\0';
}

/* parent - the domain above d ("kunde.example" for "mail.kunde.example"); NULL below two labels */
static const char *parent(const char *d)
{
	const char *dot = strchr(d, '.');
	return dot != NULL && strchr(dot + 1, '.') != NULL ? dot + 1 : NULL;
}

/* own_domain - is domain, or a domain above it, one of ours? */
static int own_domain(const struct classify_addrbook *ab, const char *domain)
{
	if (ab == NULL || ab->is_own_domain == NULL)
		return 0;
	for (int i = 0; domain != NULL && i < DOMAIN_WALK_MAX; i++, domain = parent(domain))
		if (ab->is_own_domain(ab->ctx, domain) == 1)
			return 1;
	return 0;
}

/* freemail_on_walk - the first free-mail domain among domain and those above it; NULL when none */
static const char *freemail_on_walk(const struct classify_addrbook *ab, const char *domain)
{
	for (int i = 0; domain != NULL && i < DOMAIN_WALK_MAX; i++, domain = parent(domain))
		if (classify_freemail_builtin(domain) ||
		    (ab != NULL && ab->is_freemail != NULL && ab->is_freemail(ab->ctx, domain) == 1))
			return domain;
	return NULL;
}

/* domain_org - the organisation of domain or a domain above it: 1 with *org and *hit, 0, -1 on failure */
static int domain_org(const struct classify_addrbook *ab, const char *domain, struct classify_org *org,
                      const char **hit)
{
	if (ab == NULL || ab->lookup_domain == NULL)
		return 0;
	for (int i = 0; domain != NULL && i < DOMAIN_WALK_MAX; i++, domain = parent(domain)) {
		memset(org, 0, sizeof(*org));
		int rc = ab->lookup_domain(ab->ctx, domain, org);
		if (rc != 0) {
			*hit = domain;
			return rc < 0 ? -1 : 1;
		}
	}
	return 0;
}

/* counterpart - find the other side; 1 found, 0 none, 2 outbound with every usable recipient ours */
static int counterpart(const struct classify_input *in, const struct classify_addrbook *ab, int outbound,
                       struct party *p)
{
	const struct mp_message *m = in->msg;
	if (!outbound) {
		if (set_party(p, "From", m->from.addr))
			return 1;
		return set_party(p, "Envelope sender", in->envelope_from);
	}
	size_t ours = 0; /* usable recipients, all in our domains so far */
	for (size_t i = 0; i < m->n_to + m->n_cc; i++) {
		int to = i < m->n_to;
		if (set_party(p, to ? "To" : "Cc", to ? m->to[i].addr : m->cc[i - m->n_to].addr)) {
			if (!own_domain(ab, p->domain))
				return 1;
			ours++;
		}
	}
	for (size_t i = 0; in->envelope_rcpts != NULL && i < in->n_envelope_rcpts; i++) {
		if (set_party(p, "Recipient", in->envelope_rcpts[i])) {
			if (!own_domain(ab, p->domain))
				return 1;
			ours++;
		}
	}
	memset(p, 0, sizeof(*p));
	return ours > 0 ? 2 : 0;
}

/* run_rules - the rules over the message's addresses, subject and new text */
static int run_rules(const struct classify_input *in, const struct ruleset *rules, struct rules_result *res)
{
	const struct mp_message *m = in->msg;
	size_t n_rcpt = m->n_to + m->n_cc + (in->envelope_rcpts ? in->n_envelope_rcpts : 0);
	size_t n_env = 1 + (in->envelope_rcpts ? in->n_envelope_rcpts : 0);
	if (rules == NULL || rules_count(rules) == 0) {
		memset(res, 0, sizeof(*res));
		return 0;
	}
	/* the senders (From, envelope) and recipients, one array; the envelope addresses copied bare */
	const char **senders = malloc((2 + n_rcpt) * sizeof(*senders));
	char *copies = malloc(n_env * CLASSIFY_ADDR_MAX);
	if (senders == NULL || copies == NULL) {
		free(senders);
		free(copies);
		return -1;
	}
	const char **rcpts = senders + 2;
	size_t ns = 0, nr = 0;
	if (m->from.addr != NULL)
		senders[ns++] = m->from.addr;
	if (in->envelope_from != NULL && bare(in->envelope_from, copies, CLASSIFY_ADDR_MAX)[0] != '\0')
		senders[ns++] = copies;
	for (size_t i = 0; i < m->n_to; i++)
		if (m->to[i].addr != NULL)
			rcpts[nr++] = m->to[i].addr;
	for (size_t i = 0; i < m->n_cc; i++)
		if (m->cc[i].addr != NULL)
			rcpts[nr++] = m->cc[i].addr;
	for (size_t i = 0; i + 1 < n_env; i++) {
		char *c = copies + (i + 1) * CLASSIFY_ADDR_MAX;
		if (bare(in->envelope_rcpts[i], c, CLASSIFY_ADDR_MAX)[0] != '\0')
			rcpts[nr++] = c;
	}
	struct rules_input ri = {.senders = senders,
	                         .n_senders = ns,
	                         .recipients = rcpts,
	                         .n_recipients = nr,
	                         .subject = m->subject,
	                         .text = m->text_new,
	                         .headers = in->headers};
	int rc = rules_apply(rules, &ri, res);
	free(senders);
	free(copies);
	return rc;
}

/* fail - the error for the caller; -1 */
__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* decide_by_book - steps c) to f) for a counterpart outside our domains; 0 or -1 */
static int decide_by_book(const struct classify_addrbook *ab, const struct party *p, int decided,
                          struct classification *out, char *err, size_t errlen)
{
	struct classify_contact ct = {0};
	struct classify_org org = {0};
	const char *hit = NULL, *free_dom = NULL;
	int is_contact = 0, has_org = 0;
	if (ab != NULL && ab->lookup_address != NULL) {
		is_contact = ab->lookup_address(ab->ctx, p->addr, &ct);
		if (is_contact < 0)
			return fail(err, errlen, "address book: looking up %s failed", p->addr);
	}
	if (is_contact) {
		out->contact_id = ct.contact_id;
		out->vip = ct.vip;
	}
	if (is_contact && ct.organisation_id > 0) {
		out->organisation_id = ct.organisation_id;
		if (!decided) {
			out->class = kind_class(ct.org_kind);
			out->decided_by = CLASSIFY_BY_CONTACT;
			reason(out, "%s %s is a contact of organisation %lld (%s)%s", p->role, p->addr,
			       ct.organisation_id, classify_org_kind_name(ct.org_kind),
			       ct.org_kind == CLASSIFY_ORG_CUSTOMER || ct.org_kind == CLASSIFY_ORG_SUPPLIER
			           ? ""
			           : ", a kind that gives no class");
		}
		return 0;
	}
	if ((free_dom = freemail_on_walk(ab, p->domain)) == NULL) {
		has_org = domain_org(ab, p->domain, &org, &hit);
		if (has_org < 0)
			return fail(err, errlen, "address book: looking up the domain %s failed", p->domain);
	}
	if (has_org) {
		out->organisation_id = org.organisation_id;
		out->vip = out->vip || org.vip;
		if (!decided) {
			out->class = kind_class(org.org_kind);
			out->decided_by = CLASSIFY_BY_DOMAIN;
			if (strcmp(hit, p->domain) == 0)
				reason(out, "%s domain %s belongs to organisation %lld (%s)", p->role,
				       p->domain, org.organisation_id, classify_org_kind_name(org.org_kind));
			else
				reason(out,
				       "%s domain %s is under %s, which belongs to organisation %lld (%s)",
				       p->role, p->domain, hit, org.organisation_id,
				       classify_org_kind_name(org.org_kind));
		}
		return 0;
	}
	if (decided)
		return 0;
	const char *why_free = free_dom ? " (a free-mail domain: no organisation by domain)" : "";
	if (is_contact) {
		out->decided_by = CLASSIFY_BY_CONTACT;
		reason(out, "%s %s is a contact without an organisation%s", p->role, p->addr, why_free);
	} else if (out->flags & MSGFLAG_MAILING_LIST) {
		out->class = MAILCLASS_NEWSLETTER;
		out->decided_by = CLASSIFY_BY_BULK;
		reason(out, "%s %s is not in the address book and the message is bulk mail%s", p->role,
		       p->addr, why_free);
	} else {
		reason(out, "%s %s is not in the address book%s", p->role, p->addr, why_free);
	}
	return 0;
}

int classify_message(const struct classify_input *in, const struct classify_addrbook *ab,
                     const struct ruleset *rules, struct classification *out, char *err, size_t errlen)
{
	struct party p = {0};
	memset(out, 0, sizeof(*out));
	out->class = MAILCLASS_UNCLASSIFIED;
	if (errlen > 0)
		err[0] = '\0';
	if (in == NULL || in->msg == NULL)
		return fail(err, errlen, "no message");
	const char *dir = in->direction ? in->direction : "inbound";
	int internal = strcmp(dir, "internal") == 0, outbound = strcmp(dir, "outbound") == 0;
	if (!internal && !outbound && strcmp(dir, "inbound") != 0)
		return fail(err, errlen, "unknown direction \"%.40s\"", dir);

	out->flags =
	    msgflags_detect(in->msg, in->envelope_from, in->headers, out->flags_why, sizeof(out->flags_why));
	if (run_rules(in, rules, &out->rules) < 0)
		return fail(err, errlen, "out of memory evaluating the rules");

	/* a) rules */
	int decided = out->rules.class_rule != 0;
	if (decided) {
		const char *name = rules_rule_name(rules, out->rules.class_rule);
		out->class = out->rules.class;
		out->decided_by = CLASSIFY_BY_RULE;
		out->rule_id = out->rules.class_rule;
		reason(out, "Rule %ld%s%s%s sets the class %s", out->rule_id, name && *name ? " \"" : "",
		       name && *name ? name : "", name && *name ? "\"" : "", mailclass_name(out->class));
	}

	/* b) internal */
	int found = internal ? 0 : counterpart(in, ab, outbound, &p);
	snprintf(out->counterpart, sizeof(out->counterpart), "%s", p.addr);
	if (internal || found == 2) {
		if (!decided) {
			out->class = MAILCLASS_INTERNAL;
			out->decided_by = CLASSIFY_BY_INTERNAL;
			reason(out, internal ? "The message is internal: sent from and to our own domains"
			                     : "Every recipient is in our own domains");
		}
	} else if (found == 0) {
		if (!decided)
			reason(out, "The message names no counterpart address");
	} else if (!outbound && own_domain(ab, p.domain)) {
		/* a claim from outside: not internal, and not asked of the address book */
		if (!decided && (out->flags & MSGFLAG_MAILING_LIST)) {
			out->class = MAILCLASS_NEWSLETTER;
			out->decided_by = CLASSIFY_BY_BULK;
			reason(out,
			       "%s %s claims one of our own domains from outside (untrusted origin, so not"
			       " internal) and the message is bulk mail",
			       p.role, p.addr);
		} else if (!decided) {
			reason(out,
			       "%s %s claims one of our own domains from outside (untrusted origin, so not"
			       " internal)",
			       p.role, p.addr);
		}
	} else if (decide_by_book(ab, &p, decided, out, err, errlen) < 0) {
		return -1; /* c) to f) */
	}
	if (out->rules.organisation_rule != 0)
		out->organisation_id = out->rules.organisation_id;
	return 0;
}
