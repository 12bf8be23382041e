/* direction.h - inbound, outbound or internal, decided from the envelope.
 *
 * Trusted origin (SASL login, an originating service's {daemon_name}, or a
 * client in internal_networks) makes mail outbound, or internal when the
 * sender and every recipient are in local domains. Anything else is
 * inbound, even when it claims a local sender: a stranger must not be able
 * to make their mail look like our own.
 */
#ifndef MAILROOM_DIRECTION_H
#define MAILROOM_DIRECTION_H

#include <stddef.h>

#include "conf.h"
#include "netaddr.h"

enum direction { DIR_INBOUND, DIR_OUTBOUND, DIR_INTERNAL };

struct direction_policy {
	const struct mailroom_conf *conf; /* borrowed: lists of domains and daemons */
	struct netaddr_net *nets;	  /* parsed internal_networks */
	size_t n_nets;
};

struct direction_facts {
	const char *auth_authen; /* {auth_authen}, NULL or "" when not logged in */
	const char *daemon_name; /* {daemon_name} */
	const char *client_addr; /* {client_addr} */
	const char *sender;	 /* envelope sender, with or without <> */
	const char *const *rcpts;
	size_t n_rcpts;
};

/* direction_policy_init - parse the networks of conf; 0 or -1 */
int direction_policy_init(struct direction_policy *pol, const struct mailroom_conf *conf);
void direction_policy_free(struct direction_policy *pol);
/* direction_decide - the direction, and in *why_r a static phrase saying why */
enum direction direction_decide(const struct direction_policy *pol, const struct direction_facts *facts,
				const char **why_r);
const char *direction_name(enum direction dir);
/* address_domain - the domain part of an address (after the last '@', without '>'), copied into buf */
const char *address_domain(const char *addr, char *buf, size_t len);
/* address_bare - addr without angle brackets and surrounding blanks, copied into buf */
const char *address_bare(const char *addr, char *buf, size_t len);

#endif
