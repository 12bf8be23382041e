/* netaddr.h - IPv4/IPv6 addresses and networks for internal_networks. */
#ifndef MAILROOM_NETADDR_H
#define MAILROOM_NETADDR_H

#include <stdint.h>

struct netaddr_net {
	int family;	   /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network bytes; IPv4 in the first 4 */
	unsigned prefix;   /* prefix length in bits */
};

/* netaddr_parse_net - "a.b.c.d", "a.b.c.d/n", "v6", "v6/n"; 0 or -1 */
int netaddr_parse_net(const char *text, struct netaddr_net *net);
/* netaddr_in_net - is the address text inside net? IPv4-mapped IPv6 counts as IPv4 */
int netaddr_in_net(const char *addr, const struct netaddr_net *net);

#endif
