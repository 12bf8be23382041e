/* netaddr.c - parse networks and test membership.
 *
 * Postfix hands the client address as text ({client_addr}): dotted IPv4,
 * plain IPv6, or IPv4-mapped IPv6 from a dual-stack listener. We compare
 * bytes, never strings.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* parse_addr - text to family and bytes; IPv4-mapped IPv6 becomes IPv4 */
static int parse_addr(const char *text, int *family, uint8_t bytes[16])
{
	memset(bytes, 0, 16);
	if (inet_pton(AF_INET, text, bytes) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (strncasecmp(text, "IPv6:", 5) == 0)
		text += 5;
	if (inet_pton(AF_INET6, text, bytes) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(bytes, mapped, 12) == 0) {
			memmove(bytes, bytes + 12, 4);
			memset(bytes + 4, 0, 12);
			*family = AF_INET;
		} else {
			*family = AF_INET6;
		}
		return 0;
	}
	return -1;
}

/* netaddr_parse_net - parse an address with an optional prefix length */
int netaddr_parse_net(const char *text, struct netaddr_net *net)
{
	char buf[64];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (parse_addr(buf, &net->family, net->addr) < 0)
		return -1;
	unsigned max = net->family == AF_INET ? 32 : 128;
	net->prefix = max;
	if (slash != NULL) {
		char *end = NULL;
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || p > max)
			return -1;
		net->prefix = (unsigned)p;
	}
	return 0;
}

/* netaddr_in_net - compare the first prefix bits */
int netaddr_in_net(const char *addr, const struct netaddr_net *net)
{
	int family;
	uint8_t bytes[16];
	if (addr == NULL || parse_addr(addr, &family, bytes) < 0 || family != net->family)
		return 0;
	unsigned full = net->prefix / 8, rest = net->prefix % 8;
	if (memcmp(bytes, net->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (bytes[full] & mask) == (net->addr[full] & mask);
}
