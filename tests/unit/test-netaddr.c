/* test-netaddr.c - networks for gateway.internal_networks. */
#include "netaddr.h"
#include "tap.h"

int main(void)
{
	static const struct {
		const char *net, *addr;
		int want;
	} cases[] = {
	    {"10.0.0.0/8", "10.1.2.3", 1},
	    {"10.0.0.0/8", "11.1.2.3", 0},
	    {"192.168.1.0/25", "192.168.1.127", 1},
	    {"192.168.1.0/25", "192.168.1.128", 0},
	    {"192.168.1.7", "192.168.1.7", 1},
	    {"192.168.1.7", "192.168.1.8", 0},
	    {"0.0.0.0/0", "203.0.113.9", 1},
	    {"2001:db8::/32", "2001:db8:1::5", 1},
	    {"2001:db8::/32", "2001:db9::5", 0},
	    {"10.0.0.0/8", "::ffff:10.9.9.9", 1}, /* IPv4-mapped */
	    {"10.0.0.0/8", "IPv6:::ffff:10.9.9.9", 1},
	    {"10.0.0.0/8", "2001:db8::1", 0},
	    {"10.0.0.0/8", "unknown", 0},
	    {"10.0.0.0/8", "", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct netaddr_net net;
		ok(netaddr_parse_net(cases[i].net, &net) == 0, "parse %s", cases[i].net);
		is_int(netaddr_in_net(cases[i].addr, &net), cases[i].want, "%s in %s", cases[i].addr, cases[i].net);
	}
	static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0/8", "::1/129", "host", "/8",
					  "10.0.0.0/-1", "10.0.0.0/8x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netaddr_net net;
		is_int(netaddr_parse_net(bad[i], &net), -1, "'%s' is refused", bad[i]);
	}
	return done_testing();
}
