/* direction.c - decide the direction of a message from its envelope. */
#include "direction.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

int direction_policy_init(struct direction_policy *pol, const struct mailroom_conf *conf)
{
	const struct conf_list *l = &conf->internal_networks;
	pol->conf = conf;
	pol->n_nets = 0;
	pol->nets = calloc(l->count ? l->count : 1, sizeof(*pol->nets));
	if (pol->nets == NULL)
		return -1;
	for (size_t i = 0; i < l->count; i++) {
		if (netaddr_parse_net(l->items[i], &pol->nets[pol->n_nets]) < 0) {
			free(pol->nets);
			pol->nets = NULL;
			return -1;
		}
		pol->n_nets++;
	}
	return 0;
}

void direction_policy_free(struct direction_policy *pol)
{
	free(pol->nets);
	pol->nets = NULL;
	pol->n_nets = 0;
}

/* address_bare - strip <>, blanks */
const char *address_bare(const char *addr, char *buf, size_t len)
{
	if (len == 0)
		return "";
	buf[0] = '\0';
	if (addr == NULL)
		return buf;
	while (*addr == ' ' || *addr == '\t' || *addr == '<')
		addr++;
	size_t n = strlen(addr);
	while (n > 0 && (addr[n - 1] == '>' || addr[n - 1] == ' ' || addr[n - 1] == '\t'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(buf, addr, n);
	buf[n] = '\0';
	return buf;
}

/* address_domain - text after the last '@' of the bare address, "" if none */
const char *address_domain(const char *addr, char *buf, size_t len)
{
	char bare[512];
	address_bare(addr, bare, sizeof(bare));
	const char *at = strrchr(bare, '@');
	if (len == 0)
		return "";
	snprintf(buf, len, "%s", at ? at + 1 : "");
	return buf;
}

static int is_local(const struct direction_policy *pol, const char *addr)
{
	char dom[256];
	address_domain(addr, dom, sizeof(dom));
	return dom[0] != '\0' && conf_list_has(&pol->conf->local_domains, dom);
}

enum direction direction_decide(const struct direction_policy *pol, const struct direction_facts *f,
				const char **why_r)
{
	const char *why = NULL;
	if (f->auth_authen != NULL && f->auth_authen[0] != '\0')
		why = "SASL-authenticated client";
	else if (f->daemon_name != NULL && conf_list_has(&pol->conf->originating_daemons, f->daemon_name))
		why = "originating service";
	else
		for (size_t i = 0; i < pol->n_nets && why == NULL; i++)
			if (netaddr_in_net(f->client_addr, &pol->nets[i]))
				why = "client in internal_networks";

	if (why == NULL) {
		*why_r = "untrusted origin";
		return DIR_INBOUND;
	}
	int all_local = f->n_rcpts > 0 && is_local(pol, f->sender);
	for (size_t i = 0; i < f->n_rcpts && all_local; i++)
		all_local = is_local(pol, f->rcpts[i]);
	*why_r = why;
	return all_local ? DIR_INTERNAL : DIR_OUTBOUND;
}

const char *direction_name(enum direction dir)
{
	switch (dir) {
	case DIR_INBOUND:
		return "inbound";
	case DIR_OUTBOUND:
		return "outbound";
	case DIR_INTERNAL:
		return "internal";
	}
	return "inbound";
}
