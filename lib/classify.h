/* classify.h - the sender decides: one message's class, flags and reason.
 *
 * The counterpart is the other side of the conversation: for inbound mail
 * the From address (else the envelope sender, unless null); for outbound
 * mail the first recipient outside our own domains, To before Cc before
 * the envelope recipients. Addresses go to the address book as addr-specs
 * without <>, the domain in lower case.
 *
 * Order; the first step that decides sets decided_by:
 *   a) rules: a rule that sets the class decides ("rule", its id).
 *   b) internal: the direction is internal, or outbound mail has no
 *      recipient outside our own domains. Inbound mail whose counterpart
 *      claims one of our own domains is NOT internal: it came from an
 *      untrusted origin (see "Internal needs a trusted origin" in
 *      docs/decisions.md), so anyone could have written that From. The
 *      address book is not asked about such a counterpart either; a rule
 *      can still sort it.
 *   c) contact: the counterpart's address is a contact. Its organisation's
 *      kind gives customer or supplier; kind other gives unclassified with
 *      the organisation set. A contact without an organisation goes on to
 *      d) with its contact id kept, and is never "bulk".
 *   d) domain: the counterpart's domain, else its parent domains down to
 *      two labels (mail.kunde.example, then kunde.example), belongs to an
 *      organisation. Never for a free-mail domain: when is_freemail() or
 *      the built-in list (classify_freemail_builtin) names the domain or
 *      any parent on the way, no organisation is looked up by domain.
 *   e) bulk: MSGFLAG_MAILING_LIST from a counterpart that is neither a
 *      contact nor of an organisation by domain: newsletter.
 *   f) otherwise unclassified ("none").
 * No step gives "advertising": only a rule can, since the sender's
 * identity alone does not show it.
 *
 * The flags (msgflags.h) are computed in every case. Actions of rules other
 * than the class (organisation, priority, labels, team, user, skip_inbox)
 * come in out->rules whatever decided the class; a rule's organisation
 * overrides the address book's in out->organisation_id.
 *
 * The address book is an interface so that the worker (database), the
 * milter (a cache) and tests (a table) can each supply one. Its callbacks
 * are called from the caller's thread only; those that are NULL answer
 * "not found" / "no".
 */
#ifndef MAILROOM_CLASSIFY_H
#define MAILROOM_CLASSIFY_H

#include <stddef.h>

#include "hdrlookup.h"
#include "mailclass.h"
#include "mimeparse.h"
#include "msgflags.h"
#include "rules.h"

#define CLASSIFY_REASON_MAX 512
#define CLASSIFY_ADDR_MAX   256

enum classify_org_kind { CLASSIFY_ORG_OTHER = 0, CLASSIFY_ORG_CUSTOMER, CLASSIFY_ORG_SUPPLIER };

struct classify_contact {
	long long contact_id;      /* >= 1 */
	long long organisation_id; /* 0 when the contact belongs to none */
	enum classify_org_kind org_kind;
	int vip; /* the contact's or its organisation's */
};

struct classify_org {
	long long organisation_id; /* >= 1 */
	enum classify_org_kind org_kind;
	int vip;
};

struct classify_addrbook {
	/* lookup_address - 1 with *out when addr is a contact, 0 when not, -1 when the lookup failed */
	int (*lookup_address)(void *ctx, const char *addr, struct classify_contact *out);
	/* lookup_domain - 1 with *out when an organisation has this domain, 0 when none, -1 on failure */
	int (*lookup_domain)(void *ctx, const char *domain, struct classify_org *out);
	/* is_freemail - 1 when domain is a free-mail provider's */
	int (*is_freemail)(void *ctx, const char *domain);
	/* is_own_domain - 1 when domain is one of ours */
	int (*is_own_domain)(void *ctx, const char *domain);
	void *ctx;
};

struct classify_input {
	const struct mp_message *msg; /* required */
	const char *envelope_from;    /* MAIL FROM, with or without <>; "" or "<>": null; NULL: unknown */
	const char *const *envelope_rcpts; /* RCPT TO, with or without <> */
	size_t n_envelope_rcpts;
	const char *direction;           /* "inbound", "outbound" or "internal"; NULL: inbound */
	const struct hdrlookup *headers; /* fields msg does not keep; NULL: none */
};

enum classify_decider {
	CLASSIFY_BY_NONE = 0,
	CLASSIFY_BY_RULE,
	CLASSIFY_BY_INTERNAL,
	CLASSIFY_BY_CONTACT,
	CLASSIFY_BY_DOMAIN,
	CLASSIFY_BY_BULK,
};

struct classification {
	enum mail_class class;
	enum classify_decider decided_by;
	long rule_id;   /* CLASSIFY_BY_RULE: the rule; else 0 */
	unsigned flags; /* MSGFLAG_* */
	char flags_why[256];
	long long organisation_id; /* 0 when none */
	long long contact_id;      /* 0 when none */
	int vip;
	char counterpart[CLASSIFY_ADDR_MAX]; /* "" when none */
	char reason[CLASSIFY_REASON_MAX];    /* one sentence, e.g. "From anna@kunde.example is a contact
	                                      * of organisation 12 (customer)" */
	struct rules_result rules; /* labels, priority, team, user, skip_inbox, fired rules, warnings */
};

/* classify_message - classify in->msg into out. rules may be NULL. 0, or
 * -1 with err set when the address book failed or memory ran out (retry
 * later; out is then incomplete). */
int classify_message(const struct classify_input *in, const struct classify_addrbook *ab,
                     const struct ruleset *rules, struct classification *out, char *err, size_t errlen);
/* classify_decider_name - "rule", "internal", "contact", "domain", "bulk" or "none" */
const char *classify_decider_name(enum classify_decider d);
/* classify_org_kind_name - "customer", "supplier" or "other" */
const char *classify_org_kind_name(enum classify_org_kind k);
/* classify_freemail_builtin - is domain (lower case) one of the large free-mail providers'? */
int classify_freemail_builtin(const char *domain);

#endif
